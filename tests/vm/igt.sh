# SPDX-License-Identifier: GPL-2.0
# Guest side of the igt suite: IGT's generic DRM tests against nova's render node.
# scripts/setup-igt.sh stages the IGT binaries, their libraries and the dynamic loader in
# $NOVA_CACHE/igt; scripts/test.sh hands them to the guest as /mnt/igt (VM_SHARE). Each binary of
# /mnt/igt/nova.testlist runs under a time limit; its output (stdout and stderr) and a last line
# "@@nova-igt: exit RC after S s (limit T s)" go to /mnt/out/igt/<binary>.txt. The host's
# tests/igt/report.py turns them into the per-subtest table and the verdicts.
IGT=/mnt/igt
OUT=/mnt/out/igt
LIMIT=${IGT_TIMEOUT:-120}
mkdir -p "$OUT" /lib64
# The binaries ask for /lib64/ld-linux-x86-64.so.2: the staged loader, with its libraries.
ln -sf "$IGT/lib/ld-linux-x86-64.so.2" /lib64/ld-linux-x86-64.so.2
export LD_LIBRARY_PATH=$IGT/lib HOME=/tmp
# The guest kernel has vgem built in (card0): IGT's DRIVER_ANY opens must pick nova's device.
export IGT_FORCE_DRIVER=nova

insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
ls -l /dev/dri

sed 's/#.*//' "$IGT/nova.testlist" | while read -r bin filter; do
    [ -n "$bin" ] || continue
    if [ -n "$filter" ]; then set -- --run-subtest "$filter"; else set --; fi
    echo "nova-igt: running $bin $*" > /dev/kmsg
    t0=$(cut -d. -f1 /proc/uptime)
    # TERM at the limit (IGT prints what it was doing), KILL 10 s later if that was not enough.
    timeout -s KILL $((LIMIT + 10)) timeout "$LIMIT" "$IGT/bin/$bin" "$@" \
        < /dev/null > "$OUT/$bin.txt" 2>&1
    rc=$?
    t1=$(cut -d. -f1 /proc/uptime)
    echo "@@nova-igt: exit $rc after $((t1 - t0)) s (limit $LIMIT s)" >> "$OUT/$bin.txt"
    echo "nova-igt: $bin exit $rc after $((t1 - t0)) s"
done

# The modules must still unload after IGT (core_hotunplug unbinds and rebinds the device).
if rmmod nova_drm && rmmod nova_core; then
    echo "PASS vm::igt::modules_unload_after_igt"
else
    echo "FAIL vm::igt::modules_unload_after_igt: $(cat /proc/modules | tr '\n' ' ')"
fi
