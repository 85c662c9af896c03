# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`: timings inside the guest.
# 1. Raw BAR access (no driver bound).
nova-guest-bench
# 2. Probe to GSP-RM ready, beside the time the same guest's kernel takes just to load the
#    firmware files the probe needs (the probe's own firmware_request stage: userspace reads over
#    9p are far slower than the kernel's here and would flatter the ratio).
insmod /mnt/modules/nova-core.ko
r=/sys/kernel/debug/nova-core-*/boot
total=$(awk '/stage probe_total:/ {print $3}' $r)
fw=$(awk '/stage firmware_request:/ {print $3}' $r)
echo "bench: probe to GSP-RM ready: $total us; loading the firmware files alone: $fw us; ratio $(awk "BEGIN{print $total/$fw}")x"
grep -h "stage " $r | sed 's/^/bench:   /'
rmmod nova_core
# 3. With nova-drm: GEM object life cycles on nova beside vgem (built into the guest kernel),
#    and VM_BIND of a 1 GiB VRAM object beside a 1 GiB memset of a system-memory mapping.
#    (4. below runs in the same boot.)
insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
nova-guest-bench gem
nova-guest-bench bind
# 4. The render path: CE copies of 64 MiB beside a CPU memcpy of 64 MiB, and an empty job's
#    EXEC-to-fence latency beside a syncobj signal-to-wait round trip between two threads.
nova-guest-bench copy
nova-guest-bench latency
rmmod nova_drm
rmmod nova_core
