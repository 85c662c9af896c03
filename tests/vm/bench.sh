# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench` (scripts/bench.sh). Each figure is printed beside its baseline,
# measured in this boot or, for the host's own limits, just before it: scripts/bench.sh shares
# the host's figures (its memcpy of 64 MiB, a unix-socket round trip) as /mnt/host/host.env.
# How each figure is timed: tests/guest/src/bin/nova-guest-bench.rs.
if [ -f /mnt/host/host.env ]; then
    . /mnt/host/host.env
    export NOVA_BENCH_HOST_MEMCPY_MIBS NOVA_BENCH_HOST_RTT_NS
else
    echo "bench: no host figures handed in (/mnt/host/host.env): ratios against them are not printed"
fi
# 1. Raw BAR access (no driver bound): BAR0 round trip vs. BAR3 and the host's socket round trip.
nova-guest-bench bar
# 2. Probe to GSP-RM ready, beside its own firmware_request stage (the kernel loading the files:
#    userspace reads over 9p are far slower than the kernel's here and would flatter the ratio).
insmod /mnt/modules/nova-core.ko
nova-guest-bench probe
rmmod nova_core
# 3. With nova-drm: GEM object life cycles on nova beside vgem (built into the guest kernel),
#    VM_BIND of a 1 GiB VRAM object beside its floor (an ioctl and a BAR0 read each way),
#    CE copies of 64 MiB beside the host's memcpy (and the guest's), an empty job's latency
#    beside a syncobj round trip.
insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
nova-guest-bench gem
nova-guest-bench bind
nova-guest-bench copy
nova-guest-bench latency
rmmod nova_drm
rmmod nova_core
