#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: host unit tests (cargo), the VM harness's own checks, then the VM suites.
# Every result line is PASS/FAIL; the last line is "N passed, N failed".
. "$(dirname "$0")/lib.sh"
cd "$NOVA_ROOT"

passed=0
failed=0
logdir=$NOVA_CACHE/test-logs
mkdir -p "$logdir"

# count FILE: adds the PASS/FAIL lines of FILE to the totals.
count() {
    local p f
    p=$(grep -c '^PASS ' "$1" || true)
    f=$(grep -c '^FAIL ' "$1" || true)
    passed=$((passed + p))
    failed=$((failed + f))
}

# --- host: every crate of the workspace
log "host tests (cargo test --workspace)"
set +e
cargo test --workspace --release 2>&1 | tee "$logdir/host.log" | grep -E '^test result:|panicked|^error' >&2
host_rc=${PIPESTATUS[0]}
set -e
read -r hp hf < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } } END { print p+0, f+0 }' "$logdir/host.log")
passed=$((passed + hp))
failed=$((failed + hf))
if [ "$host_rc" != 0 ] && [ "$hf" = 0 ]; then
    echo "FAIL host::cargo_test: cargo exited $host_rc without a failing test (build error?); see $logdir/host.log"
    failed=$((failed + 1))
fi
echo "host: $hp passed, $hf failed"

# --- the harness refuses to run without what it needs, and says what is missing
log "VM harness checks"
bash tests/harness/selftest.sh | tee "$logdir/harness.log"
count "$logdir/harness.log"

# --- VM suites: NAME GUEST_SCRIPT VGPU_ARGS
vm_suite() {
    local name=$1 script=$2
    log "VM suite $name${3:+ (vGPU $3)}"
    VGPU_ARGS=${3:-} bash scripts/vm.sh "$name" "$script" | tee "$logdir/vm-$name.log" || true
    count "$logdir/vm-$name.log"
}
vm_suite main tests/vm/main.sh
if grep -q 'R32 0x000a00 = 0x172a1000  NV_PMC_BOOT_42' "$NOVA_CACHE/vm/runs/main/vgpu-trace.log" 2>/dev/null; then
    echo "PASS vm::main::boot42_served_by_vgpu"
    passed=$((passed + 1))
else
    echo "FAIL vm::main::boot42_served_by_vgpu: the vGPU trace has no BOOT_42 read"
    failed=$((failed + 1))
fi
# GEM, VM_BIND and MMU faults seen from the GPU through the vGPU's engine access port (a test
# instrument, off unless asked for); the stress tests need more than the default time.
VM_TIMEOUT=1500 vm_suite mem tests/vm/mem.sh "--test-port"
# Contexts, EXEC and syncobjs: 64 MiB copies, 1,000 chained jobs and waits of up to twice the
# job timeout under TCG.
VM_TIMEOUT=1200 vm_suite exec tests/vm/exec.sh ""
vm_suite unknown-chip tests/vm/unknown-chip.sh "--boot42 0x3f000000"
vm_suite no-gfw tests/vm/no-gfw.sh "--no-gfw-boot"
vm_suite irq-storm tests/vm/irq-storm.sh "--irq-storm"
vm_suite extra-events tests/vm/extra-events.sh "--gsp-extra-events"
for c in "tu102 TU102 (Turing)" "ad102 AD102 (Ada)"; do
    script=$NOVA_CACHE/test-logs/described-${c%% *}.sh
    { printf 'export EXPECT_CHIP=%q\n' "${c#* }"; cat tests/vm/described-chip.sh; } > "$script"
    vm_suite "described-${c%% *}" "$script" "--chip ${c%% *}"
done
# IGT's generic DRM tests against nova (tests/igt/README.md); the per-subtest table is printed
# and kept in $NOVA_CACHE/vm/runs/igt/igt-results.txt. The report's own checks first.
python3 tests/igt/test_report.py | tee "$logdir/igt-report-selftest.log" || true
count "$logdir/igt-report-selftest.log"
if bash scripts/setup-igt.sh; then
    VM_TIMEOUT=900 VM_SHARE="$NOVA_CACHE/igt:igt" vm_suite igt tests/vm/igt.sh
    python3 tests/igt/report.py "$NOVA_CACHE/vm/runs/igt" | tee "$logdir/igt-report.log" || true
    count "$logdir/igt-report.log"
else
    echo "FAIL vm::igt::setup: scripts/setup-igt.sh failed"
    failed=$((failed + 1))
fi

# --- fault knobs of the vGPU: NAME, vGPU flags, errno, message nova-core must log
# An optional fifth argument is a shell command the guest runs first (e.g. to damage a file).
fault_suite() {
    local name=$1 flags=$2 errno=$3 msg=$4 prelude=${5:-} script
    script=$NOVA_CACHE/test-logs/fault-$name.sh
    {
        printf '%s\n' "$prelude"
        printf 'export EXPECT_ERRNO=%s\n' "$errno"
        printf 'export EXPECT_MSG=%q\n' "$msg"
        cat tests/vm/probe-fails.sh
    } > "$script"
    vm_suite "fault-$name" "$script" "$flags"
}
fault_suite fwsec-fail "--fwsec-fail" 5 "FWSEC-FRTS failed: mailbox0 0x0, FRTS error code 0xff"
fault_suite falcon-hang "--falcon-hang" 110 "GSP falcon: timed out after 2000000 us waiting for the CPU to halt"
fault_suite vbios-truncated "--vbios-variant truncated" 22 "VBIOS: "
fault_suite vbios-bad-pcir "--vbios-variant bad-pcir-signature" 22 "VBIOS: "
fault_suite booter-fail "--booter-fail" 5 "GSP: booter_load failed: mailbox0 0xbad100ff"
fault_suite gsp-silent "--gsp-silent" 110 "GSP: no message from GSP-RM within 5000 ms"
fault_suite gsp-corrupt-reply "--gsp-corrupt-reply" 5 "GSP: bad message at status-queue entry 0: bad checksum"
fault_suite gsp-oversized-reply "--gsp-oversized-reply" 5 "GSP: bad message at status-queue entry 0: bad element count 64"
fault_suite off-the-bus "--fall-off-bus-after 20" 19 "GPU not responding (NV_PMC_BOOT_0 reads 0xffffffff) while reading the VBIOS"
unload_fw=/mnt/firmware/nvidia/ga102/gsp/booter_unload-570.144.bin
fault_suite firmware-missing "" 2 "cannot load firmware nvidia/ga102/gsp/booter_unload-570.144.bin" "rm $unload_fw"
fault_suite firmware-truncated "" 22 "nvidia/ga102/gsp/booter_unload-570.144.bin: bad HS image: " \
    "dd if=$unload_fw of=/tmp/f bs=4000 count=1 2>/dev/null && cat /tmp/f > $unload_fw"
# The other three files, damaged in the guest's copy: each is parsed before FWSEC runs.
gsp_fw=/mnt/firmware/nvidia/ga102/gsp/gsp-570.144.bin
fault_suite gsp-elf-mutated "" 22 "nvidia/ga102/gsp/gsp-570.144.bin: bad " \
    "printf X | dd of=$gsp_fw bs=1 seek=1 conv=notrunc 2>/dev/null"
bl_fw=/mnt/firmware/nvidia/ga102/gsp/bootloader-570.144.bin
fault_suite bootloader-truncated "" 22 "nvidia/ga102/gsp/bootloader-570.144.bin: " \
    "dd if=$bl_fw of=/tmp/f bs=100 count=1 2>/dev/null && cat /tmp/f > $bl_fw"
load_fw=/mnt/firmware/nvidia/ga102/gsp/booter_load-570.144.bin
fault_suite booter-load-mutated "" 22 "nvidia/ga102/gsp/booter_load-570.144.bin: " \
    "printf '\\377\\377\\377\\377' | dd of=$load_fw bs=1 seek=0 conv=notrunc 2>/dev/null"

# --- the panic screen: our QR encoder in the kernel, decoded from QEMU screendumps
for res in 640x480 1024x768 1920x1080; do
    log "panic screen at $res"
    bash tests/vm/panic-check.sh "$res" | tee "$logdir/panic-$res.log"
    count "$logdir/panic-$res.log"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
