#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm.sh NAME GUEST_SCRIPT [interactive]
#
# Boots the nova kernel in QEMU (TCG, from the trixie chroot) with a vGPU attached over
# vfio-user, runs GUEST_SCRIPT inside the guest (as /mnt/guest.sh), then checks the run:
# the guest must finish, and its dmesg must hold no WARN/BUG/Oops/KASAN/lockdep report and
# kmemleak must report nothing. Prints PASS/FAIL lines (the guest's own and the run's checks).
#
# Verdicts (PASS/FAIL vm::NAME::X): setup (only when the run cannot start), guest_completed,
# guest_exit (the guest script's exit status, 0), vgpu_ok (the vGPU process survived the run
# without a panic), dmesg_clean, kmemleak_clean; with VM_PANIC: panicked, clean_before_panic,
# screendump. VM_HOST_CHECK=SCRIPT runs `bash SCRIPT RUN_DIR` on the host after the run; its
# PASS/FAIL lines join the run's.
#
# Environment: VGPU_ARGS (extra vgpu flags, e.g. "--boot42 0x3f000000"), VM_TIMEOUT (seconds,
# default 600), MODOUT (the modules directory, as `make modules MODOUT=...`), NOVA_KERNEL/VGPU_BIN/
# GUEST_TESTS_BIN (overrides, used by the harness's own tests),
# VM_VGA=WxH (add QEMU's standard VGA, bochs-drm in the guest, with that preferred mode),
# VM_NO_TRACE=1 (run the vGPU without its access trace), VM_SHARE="DIR:NAME ..." (host directories
# copied into the share, seen by the guest as /mnt/NAME: the igt suite's IGT binaries), VM_APPEND (extra kernel command line),
# VM_KUNIT (KUnit's parameters, default kunit.enable=0: the built-in KUnit tests run in the kunit
# suite only, which sets kunit.enable=1), VM_PANIC=1 (the guest is expected to panic: wait for it, save a screendump as screen.ppm,
# stop QEMU; the verdicts are then "panicked" and "clean_before_panic").
# Outputs: $NOVA_CACHE/vm/runs/NAME/{console.log,vgpu.log,vgpu-trace.log,share/out/*}.
. "$(dirname "$0")/lib.sh"

name=${1:?usage: vm.sh NAME GUEST_SCRIPT [interactive]}
script=${2:?usage: vm.sh NAME GUEST_SCRIPT [interactive]}
interactive=${3:-}
# From here a run that cannot start is a result too: vm::NAME::setup fails, naming the cause.
die() {
    echo "FAIL vm::$name::setup: $*"
    printf '[nova] ERROR: %s\n' "$*" >&2
    exit 1
}
VMDIR=$NOVA_CACHE/vm
RUN=$VMDIR/runs/$name
KERNEL=${NOVA_KERNEL:-$KOUT/arch/x86/boot/bzImage}
VGPU_BIN=${VGPU_BIN:-$NOVA_CACHE/target/release/vgpu}
GUEST_TESTS_BIN=${GUEST_TESTS_BIN:-$NOVA_CACHE/target/x86_64-unknown-linux-gnu/release/nova-guest-tests}
MODDIR=${MODOUT:-$NOVA_CACHE/modules}
TIMEOUT=${VM_TIMEOUT:-600}

# --- prerequisites, each named when missing
[ "$(id -u)" = 0 ] || die "the VM harness needs root (chroot, mount namespaces)"
[ -f "$script" ] || die "guest script $script not found"
[ -f "$KERNEL" ] || die "kernel image $KERNEL not found: run 'make kernel'"
[ -x "$VGPU_BIN" ] || die "vGPU binary $VGPU_BIN not found: run 'make vgpu'"
[ -x "$GUEST_TESTS_BIN" ] || die "guest test binary $GUEST_TESTS_BIN not found: run 'make guest-tests'"
for m in nova-core.ko nova-drm.ko; do
    [ -f "$MODDIR/$m" ] || die "module $MODDIR/$m not found: run 'make modules'"
done
FWDIR=${NOVA_FIRMWARE_DIR:-$NOVA_CACHE/firmware/lib/firmware}
[ -f "$FWDIR/nvidia/ga102/gsp/booter_unload-570.144.bin" ] || die "GPU firmware not found in $FWDIR: run 'make setup'"
[ -x "$CHROOT/usr/bin/qemu-system-x86_64" ] || die "QEMU not found in the chroot $CHROOT: run 'make setup'"
[ -x "$CHROOT/bin/busybox" ] || die "busybox not found in the chroot $CHROOT: run 'make setup'"
command -v unshare >/dev/null || die "unshare (util-linux) not found"

# --- the initramfs: busybox and our /init, rebuilt when either changes
mkdir -p "$VMDIR"
init=$NOVA_ROOT/tests/vm/init
initrd=$VMDIR/initramfs.cpio.gz
initrd_id="$(sha256sum "$init" "$CHROOT/bin/busybox" | sha256sum | cut -c1-16)"
if ! stamp_ok initramfs "$initrd_id" || [ ! -f "$initrd" ]; then
    t=$(mktemp -d)
    mkdir -p "$t"/{bin,dev,proc,sys,mnt,tmp}
    cp "$CHROOT/bin/busybox" "$t/bin/busybox"
    cp "$init" "$t/init"
    chmod +x "$t/init"
    (cd "$t" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$t"
    stamp_set initramfs "$initrd_id"
fi

# --- the run directory and the share the guest mounts
rm -rf "$RUN"
mkdir -p "$RUN/share/modules" "$RUN/share/bin" "$RUN/share/out"
cp "$MODDIR"/nova-core.ko "$MODDIR"/nova-drm.ko "$RUN/share/modules/"
cp "$GUEST_TESTS_BIN" "$RUN/share/bin/nova-guest-tests"
[ -x "$(dirname "$GUEST_TESTS_BIN")/nova-guest-bench" ] && cp "$(dirname "$GUEST_TESTS_BIN")/nova-guest-bench" "$RUN/share/bin/"
cp "$script" "$RUN/share/guest.sh"
# The GPU firmware the modules request, found through firmware_class.path. Copies, never hard
# links: guest tests damage their copy on purpose, and the cache must stay intact.
mkdir -p "$RUN/share/firmware/nvidia/ga102/gsp"
cp "$FWDIR"/nvidia/ga102/gsp/*-570.144.bin "$RUN/share/firmware/nvidia/ga102/gsp/"
for spec in ${VM_SHARE:-}; do
    [ -d "${spec%:*}" ] || die "VM_SHARE: ${spec%:*} is not a directory"
    cp -a "${spec%:*}" "$RUN/share/${spec##*:}"
done
cp "$KERNEL" "$RUN/bzImage"
if [ -n "$interactive" ]; then
    echo 'exec setsid cttyhack sh -l' >> "$RUN/share/guest.sh"
fi

# --- the vGPU: its own process, one per run
SOCK=$RUN/vgpu.sock
# shellcheck disable=SC2086
trace=(--trace --trace-file "$RUN/vgpu-trace.log")
[ -n "${VM_NO_TRACE:-}" ] && trace=()
"$VGPU_BIN" --socket "$SOCK" "${trace[@]}" ${VGPU_ARGS:-} 2> "$RUN/vgpu.log" &
vgpu_pid=$!
cleanup() { kill "$vgpu_pid" 2>/dev/null || true; wait "$vgpu_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do
    [ -S "$SOCK" ] && break
    kill -0 "$vgpu_pid" 2>/dev/null || break
    sleep 0.05
done
[ -S "$SOCK" ] || die "the vGPU did not create its socket $SOCK: $(head -2 "$RUN/vgpu.log" | tr '\n' ' ')"

# --- QEMU, inside the chroot, with the bind mounts private to this process tree
devjson='{"driver":"vfio-user-pci","id":"vgpu0","socket":{"type":"unix","path":"'"$SOCK"'"}}'
# The serial line is the main console (last console= wins /dev/console). With a VGA screen the
# DRM log client's console is enabled too: it keeps a framebuffer on screen for drm_panic.
consoles="console=ttyS0"
[ -n "${VM_VGA:-}" ] && consoles="console=drm_log console=ttyS0"
# panic=-1 reboots at once (ending QEMU); a panic test keeps the panic screen up instead.
on_panic=-1
[ -n "${VM_PANIC:-}" ] && on_panic=0
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -M q35,memory-backend=mem -m 1G -smp 2
    -object memory-backend-memfd,id=mem,size=1G,share=on
    -nographic -no-reboot -nic none -vga none -kernel "$RUN/bzImage" -initrd "$initrd"
    -append "$consoles panic=$on_panic oops=panic loglevel=4 modprobe.blacklist=nouveau firmware_class.path=/mnt/firmware ${VM_KUNIT:-kunit.enable=0} ${VM_APPEND:-}"
    -device "$devjson"
    -virtfs "local,path=$RUN/share,mount_tag=share,security_model=none")
if [ -n "${VM_VGA:-}" ]; then
    [[ "$VM_VGA" =~ ^([0-9]+)x([0-9]+)$ ]] || die "VM_VGA must be WIDTHxHEIGHT, got '$VM_VGA'"
    qemu+=(-device "VGA,xres=${BASH_REMATCH[1]},yres=${BASH_REMATCH[2]}")
fi
MON=$RUN/monitor.sock
[ -n "${VM_PANIC:-}" ] && qemu+=(-monitor "unix:$MON,server,nowait")
start=$(date +%s.%N)
set +e
if [ -n "$interactive" ]; then
    unshare --mount --propagation private bash -c '
        set -e; r=$1; v=$2; shift 2
        for d in dev proc sys; do mount --bind "/$d" "$r/$d"; done
        mkdir -p "$r$v"; mount --bind "$v" "$r$v"
        exec chroot "$r" "$@"' _ "$CHROOT" "$VMDIR" "${qemu[@]}"
    exit 0
fi
unshare --mount --propagation private bash -c '
    set -e; r=$1; v=$2; t=$3; shift 3
    for d in dev proc sys; do mount --bind "/$d" "$r/$d"; done
    mkdir -p "$r$v"; mount --bind "$v" "$r$v"
    exec chroot "$r" timeout "$t" "$@"' _ "$CHROOT" "$VMDIR" "$TIMEOUT" "${qemu[@]}" \
    < /dev/null > "$RUN/console.log" 2>&1 &
qemu_pid=$!
if [ -n "${VM_PANIC:-}" ]; then
    # Wait for the end of the panic (drm_panic draws from panic()'s kmsg dump, which runs before
    # the "end Kernel panic" line), then take screendumps through the monitor until two in a
    # row are identical (the picture is complete; at most 30 s), keep it, stop QEMU.
    for _ in $(seq $((TIMEOUT * 5))); do
        grep -q 'end Kernel panic' "$RUN/console.log" 2>/dev/null && break
        kill -0 "$qemu_pid" 2>/dev/null || break
        sleep 0.2
    done
    python3 - "$MON" "$RUN/screen.ppm" <<'PY' || true
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
def prompt():
    """Reads the monitor's output up to its next prompt: the command before it has finished."""
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("monitor closed")
        buf += chunk
    return buf
def cmd(c):
    s.sendall((c + "\n").encode())
    return prompt()
prompt()
out, prev, deadline = sys.argv[2], None, time.monotonic() + 30
while time.monotonic() < deadline:
    cmd("screendump " + out + ".tmp")
    with open(out + ".tmp", "rb") as f:
        cur = f.read()
    if cur and cur == prev:
        break
    prev = cur
os.replace(out + ".tmp", out)
try:
    cmd("quit")
except OSError:
    pass
PY
fi
wait "$qemu_pid"
qrc=$?
# The vGPU exits with status 0 when QEMU disconnects; one still running is stopped here.
vgpu_rc=0
if kill -0 "$vgpu_pid" 2>/dev/null; then
    kill "$vgpu_pid" 2>/dev/null
    wait "$vgpu_pid" 2>/dev/null
else
    wait "$vgpu_pid" 2>/dev/null
    vgpu_rc=$?
fi
set -e
secs=$(echo "$(date +%s.%N) - $start" | bc)
tr -d '\r' < "$RUN/console.log" > "$RUN/console.txt"

# --- verdicts
fail=0
pass() { echo "PASS vm::$name::$1"; }
flunk() { echo "FAIL vm::$name::$1: $2"; fail=1; }

if [ -n "${VM_SHOW:-}" ]; then
    sed -n '/nova-guest: init reached/,/^nova-guest: done/p' "$RUN/console.txt"
else
    grep -E '^(PASS|FAIL) ' "$RUN/console.txt" || true
fi
splat='WARNING:|BUG:|Oops|KASAN|kernel BUG|general protection fault|Unable to handle|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|UBSAN|Kernel panic|kmemleak: [0-9]+ new suspected|INFO: task .* blocked'
if [ -n "${VM_PANIC:-}" ]; then
    if grep -q 'Kernel panic - not syncing' "$RUN/console.txt"; then pass panicked; else flunk panicked "no kernel panic on the console"; fi
    before=$(sed '/sysrq: Trigger a crash/q' "$RUN/console.txt")
    if grep -Eq "$splat" <<< "$before"; then
        flunk clean_before_panic "$(grep -Eh "$splat" <<< "$before" | head -3 | tr '\n' '|')"
    else
        pass clean_before_panic
    fi
    [ -s "$RUN/screen.ppm" ] && pass screendump || flunk screendump "QEMU saved no screendump"
    printf '[vm %s] %.1f s wall, console: %s\n' "$name" "$secs" "$RUN/console.txt" >&2
    exit $fail
fi
if grep -q '^nova-guest: done' "$RUN/console.txt"; then
    pass guest_completed
else
    why="qemu exit $qrc"; [ "$qrc" = 124 ] && why="timed out after ${TIMEOUT}s"
    flunk guest_completed "$why; last console lines: $(tail -5 "$RUN/console.txt" | tr '\n' '|')"
fi
# /init prints the guest script's exit status: scripts run under `sh -e`, so any failing
# command (a runner that crashed, failed or was given a suite it does not have) shows here.
gexit=$(sed -n 's/^nova-guest: guest.sh exit \([0-9]*\)$/\1/p' "$RUN/console.txt" | tail -1)
if [ "$gexit" = 0 ]; then
    pass guest_exit
elif [ -n "$gexit" ]; then
    flunk guest_exit "the guest script exited $gexit; last lines before: $(sed '/^nova-guest: guest.sh exit/q' "$RUN/console.txt" | tail -4 | head -3 | tr '\n' '|')"
else
    flunk guest_exit "the guest script never finished"
fi
if [ "$vgpu_rc" != 0 ]; then
    flunk vgpu_ok "the vGPU process exited $vgpu_rc: $(tail -2 "$RUN/vgpu.log" | tr '\n' ' ' | cut -c1-200)"
elif grep -q 'panicked at' "$RUN/vgpu.log"; then
    flunk vgpu_ok "a vGPU thread panicked: $(grep -m1 -A1 'panicked at' "$RUN/vgpu.log" | tr '\n' ' ' | cut -c1-200)"
else
    pass vgpu_ok
fi
dm=$RUN/share/out/dmesg.txt
[ -f "$dm" ] || dm=$RUN/console.txt
if grep -Eq "$splat" "$dm" "$RUN/console.txt"; then
    flunk dmesg_clean "$(grep -Eh "$splat" "$dm" "$RUN/console.txt" | head -3 | tr '\n' '|')"
else
    pass dmesg_clean
fi
kl=$RUN/share/out/kmemleak.txt
if [ ! -f "$kl" ]; then
    flunk kmemleak_clean "no kmemleak report was saved"
elif grep -q 'unreferenced object' "$kl"; then
    flunk kmemleak_clean "$(grep -c 'unreferenced object' "$kl") leak(s), first: $(grep -m1 -A3 'unreferenced object' "$kl" | tr '\n' '|')"
elif grep -q 'not available' "$kl"; then
    flunk kmemleak_clean "kmemleak is not enabled in the guest kernel"
else
    pass kmemleak_clean
fi
if [ -n "${VM_HOST_CHECK:-}" ]; then
    hc=$(bash "$VM_HOST_CHECK" "$RUN" 2>&1) || fail=1
    printf '%s\n' "$hc"
    if grep -q "^FAIL " <<< "$hc"; then fail=1; fi
fi
printf '[vm %s] %.1f s wall, console: %s\n' "$name" "$secs" "$RUN/console.txt" >&2
exit $fail
