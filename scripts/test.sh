#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: the build, host unit tests (cargo), the harness's own checks, then the VM suites.
#
# Every suite declares the tests it must produce (tests/declared/SUITE.list) and is judged
# against that list by scripts/verdict.py (see scripts/suite.sh): a missing, extra, repeated or
# skipped test, a crash, a hang or a suite that printed nothing is a FAIL line naming the suite.
# The end is the summary, one line per suite (declared, passed, failed, seconds), then the last
# line "N passed, N failed"; both are printed on every path out of this script, and the exit
# status is non-zero exactly when something failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/suite.sh"
cd "$NOVA_ROOT"
set +e

SUITE_LOGS=$NOVA_CACHE/test-logs
SUITE_SUMMARY=$SUITE_LOGS/summary.txt
mkdir -p "$SUITE_LOGS"
: > "$SUITE_SUMMARY"
SUITES_RUN=0
completed=0
D=tests/declared

finish() {
    local rc=$? passed failed judged
    trap - EXIT
    if [ "$completed" != 1 ]; then
        echo "FAIL test.sh: stopped before its last suite (exit status $rc)"
        echo "test.sh 0 0 1 0" >> "$SUITE_SUMMARY"
    fi
    judged=$(wc -l < "$SUITE_SUMMARY")
    if [ "$judged" -lt "$SUITES_RUN" ]; then
        echo "FAIL test.sh: $SUITES_RUN suites ran but only $judged were judged (verdict.py failed?)"
        echo "test.sh 0 0 1 0" >> "$SUITE_SUMMARY"
    fi
    echo
    python3 scripts/verdict.py table "$SUITE_SUMMARY" || echo "FAIL test.sh: cannot print the summary"
    read -r passed failed < <(awk '{ p += $3; f += $4 } END { print p + 0, f + 0 }' "$SUITE_SUMMARY")
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
trap finish EXIT

# --- the build: set-up, kernel, modules, vGPU, guest programs (a broken build is counted too)
run_suite build $D/build.list 5400 bash scripts/build-all.sh

# --- host: every crate of the workspace, each test named host::BINARY::PATH
SUITE_QUIET_PASS=1 run_suite host $D/host.list 3600 bash scripts/host-tests.sh

# --- the harness itself: missing prerequisites are named, and a suite that crashes, hangs,
#     prints nothing, skips a declared test or whose vGPU does not start turns into FAILs
run_suite harness $D/harness.list 1200 bash tests/harness/selftest.sh
# the KTAP parser of the kunit suite on made-up logs: a failing, crashed, skipped or missing
# test must become a FAIL
run_suite ktap $D/ktap.list 120 python3 tests/harness/test_ktap.py

# --- VM suites (tests/declared/NAME.list; `include vm.list` brings vm.sh's own verdicts)
# KUnit: every KUnit test built into the kernel (the kernel crate's Rust doctests, among them
# those of our patches, and its #[kunit_tests] suites) runs at boot; the host parses the KTAP
# on the console (scripts/ktap.py). All of them run, no filter: they take about 7 s and our
# patches change the files of some. KUnit prints its KTAP at KERN_INFO, which the console shows
# at loglevel 7 only. Every other suite boots with kunit.enable=0.
SUITE_QUIET_PASS=1 VM_KUNIT="kunit.enable=1" VM_APPEND="loglevel=7" \
    VM_HOST_CHECK=tests/vm/check-kunit.sh vm_suite kunit tests/vm/kunit.sh ""
# The host compares what nova-core logged with what the vGPU's trace shows it did (the BOOT_42
# read, the RM objects, BAR1's page directory, the allocator range, the WPR2 releases).
VM_HOST_CHECK=tests/vm/check-main.sh vm_suite main tests/vm/main.sh ""
# GEM, VM_BIND and MMU faults seen from the GPU through the vGPU's engine access port (a test
# instrument, off unless asked for); the stress tests need more than the default time.
VM_TIMEOUT=1500 VM_HOST_CHECK=tests/vm/check-mem.sh vm_suite mem tests/vm/mem.sh "--test-port"
# Contexts, EXEC and syncobjs: 64 MiB copies, 1,000 chained jobs and waits of up to twice the
# job timeout under TCG.
VM_TIMEOUT=1200 vm_suite exec tests/vm/exec.sh ""
# The syncobj regressions of kernel/patches/0008-0009 and a seeded ioctl fuzzer (fixed seed, a
# one-minute budget; `make fuzz` runs it longer).
VM_TIMEOUT=600 vm_suite fuzz tests/vm/fuzz.sh ""
vm_suite unknown-chip tests/vm/unknown-chip.sh "--boot42 0x3f000000"
vm_suite no-gfw tests/vm/no-gfw.sh "--no-gfw-boot"
# The storm closes the GSP vector: a fault (made through the test port) must then be polled.
vm_suite irq-storm tests/vm/irq-storm.sh "--irq-storm --test-port"
vm_suite extra-events tests/vm/extra-events.sh "--gsp-extra-events"
# GSP-RM answering the asynchronous init RPCs (real GSP-RM most likely does not): tolerated.
vm_suite init-rpc-replies tests/vm/init-rpc-replies.sh "--init-rpc-replies"
for c in "tu102 TU102 (Turing)" "ad102 AD102 (Ada)"; do
    script=$SUITE_LOGS/described-${c%% *}.sh
    { printf 'export EXPECT_CHIP=%q\n' "${c#* }"; cat tests/vm/described-chip.sh; } > "$script"
    vm_suite "described-${c%% *}" "$script" "--chip ${c%% *}" $D/described-chip.list
done

# --- IGT's generic DRM tests against nova (tests/igt/README.md): the report's own checks on
#     made-up output, then one guest boot and the per-subtest report
run_suite igt-report $D/igt-report.list 300 python3 tests/igt/test_report.py
run_suite igt $D/igt.list 1500 bash tests/igt/run.sh

# --- fault knobs of the vGPU: NAME, vGPU flags, errno, message nova-core must log
# An optional fifth argument is a shell command the guest runs first (e.g. to damage a file).
fault_suite() {
    local name=$1 flags=$2 errno=$3 msg=$4 prelude=${5:-} script
    script=$SUITE_LOGS/fault-$name.sh
    {
        printf '%s\n' "$prelude"
        printf 'export EXPECT_ERRNO=%s\n' "$errno"
        printf 'export EXPECT_MSG=%q\n' "$msg"
        cat tests/vm/probe-fails.sh
    } > "$script"
    vm_suite "fault-$name" "$script" "$flags" $D/fault.list
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
# GSP-RM's CPU sequencer on the cold boot (the vGPU breaks its buffer on the first boot only).
fault_suite seq-bad-opcode "--seq-bad-opcode" 22 "GSP: bad CPU sequencer buffer: unknown opcode 0x9 at dword 22 (payload offset 0x80)"
fault_suite seq-truncated "--seq-truncated" 22 "GSP: bad CPU sequencer buffer: truncated buffer: opcode 0x2 (REG_POLL) at dword 1 (payload offset 0x2c)"
fault_suite seq-poll-timeout "--seq-poll-timeout" 110 "GSP: sequencer REG_POLL at dword 1: 0x110044 & 0xffffffff never became 0x5e9bad00 within 100000 us"
fault_suite seq-no-handoff "--seq-no-handoff" 110 "GSP: sequencer CORE_RESUME at dword 24: NV_PGC6_BSI_SECURE_SCRATCH_14 handoff bit 26 not set within 2000 ms"
load_fw=/mnt/firmware/nvidia/ga102/gsp/booter_load-570.144.bin
fault_suite booter-load-mutated "" 22 "nvidia/ga102/gsp/booter_load-570.144.bin: " \
    "printf '\\377\\377\\377\\377' | dd of=$load_fw bs=1 seek=0 conv=notrunc 2>/dev/null"

# --- the panic screen: our QR encoder in the kernel, decoded from QEMU screendumps
for res in 640x480 1024x768 1920x1080; do
    run_suite "panic-$res" $D/panic.list 600 bash tests/vm/panic-check.sh "$res"
done

completed=1
