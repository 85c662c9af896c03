# SPDX-License-Identifier: GPL-2.0
# Guest side of the igt suite: IGT's generic DRM tests against nova's DRM device.
# scripts/setup-igt.sh packs the IGT binaries, their libraries and the dynamic loader into
# $NOVA_CACHE/igt/igt.tar.xz beside a copy of tests/igt/nova.testlist; scripts/test.sh hands that
# directory to the guest as /mnt/igt (VM_SHARE). Each line of nova.testlist runs under a time
# limit; its output (stdout and stderr) and a last line "@@nova-igt: exit RC after S s (limit T s)"
# go to /mnt/out/igt/<binary>.txt.
# The host's tests/igt/report.py turns them into the per-subtest table and the verdicts.
OUT=/mnt/out/igt
LIMIT=${IGT_TIMEOUT:-60}
mkdir -p "$OUT" /lib64 /tmp/igt

# The initramfs root is mode 0700 (vm.sh packs a mktemp -d): IGT's tests that drop root
# (core_setmaster's master-drop-set-user) could not even reach /dev. A real root is 0755.
chmod 755 /

# A local copy: executing from the 9p share would read 35 MB of libraries at under 1 MB/s on
# every start (12 s per binary under TCG). The packed 8 MB unpack in about 15 s.
dd if=/mnt/igt/igt.tar.xz bs=1M 2>/dev/null | tar -C /tmp/igt -xJf - || echo "nova-igt: cannot unpack /mnt/igt/igt.tar.xz"
IGT=/tmp/igt
# The binaries ask for /lib64/ld-linux-x86-64.so.2: the staged loader, with its libraries.
ln -sf "$IGT/lib/ld-linux-x86-64.so.2" /lib64/ld-linux-x86-64.so.2
export LD_LIBRARY_PATH=$IGT/lib HOME=/tmp
# The guest kernel has vgem built in (card0): IGT's DRIVER_ANY opens must pick nova's device.
export IGT_FORCE_DRIVER=nova

insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
# Without nova's DRM device IGT would only skip ("No known gpu found"): that is no result.
card=$(grep -l '^nova ' /sys/kernel/debug/dri/*/name 2>/dev/null | head -1)
if [ -z "$card" ]; then
    echo "FAIL vm::igt::nova_drm_device: no DRM device of driver nova after insmod; IGT not run"
    exit 1
fi
echo "PASS vm::igt::nova_drm_device ($(cat "$card"))"

# Lines: BINARY [SUBTEST-FILTER] [limit=SECONDS]
sed 's/#.*//' /mnt/igt/nova.testlist | while read -r bin rest; do
    [ -n "$bin" ] || continue
    limit=$LIMIT
    set --
    for w in $rest; do
        case $w in
        limit=*) limit=${w#limit=} ;;
        *) set -- --run-subtest "$w" ;;
        esac
    done
    echo "nova-igt: running $bin $*" > /dev/kmsg
    t0=$(cut -d. -f1 /proc/uptime)
    # TERM at the limit (IGT prints what it was doing), KILL 10 s later if that was not enough.
    rc=0
    timeout -s KILL $((limit + 10)) timeout "$limit" "$IGT/bin/$bin" "$@" \
        < /dev/null > "$OUT/$bin.txt" 2>&1 || rc=$?
    t1=$(cut -d. -f1 /proc/uptime)
    echo "@@nova-igt: exit $rc after $((t1 - t0)) s (limit $limit s)" >> "$OUT/$bin.txt"
    echo "nova-igt: $bin exit $rc after $((t1 - t0)) s"
    echo "nova-igt: finished $bin" > /dev/kmsg
done

# The modules must still unload after IGT (core_hotunplug unbinds, removes and rebinds).
if rmmod nova_drm && rmmod nova_core; then
    echo "PASS vm::igt::modules_unload_after_igt"
else
    echo "FAIL vm::igt::modules_unload_after_igt: $(tr '\n' ' ' < /proc/modules)"
fi
