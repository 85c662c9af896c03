# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`: timings inside the guest.
# 1. Raw BAR access (no driver bound).
nova-guest-bench
# 2. Probe to GSP-RM ready, beside just reading the firmware files the probe loads.
fw=/mnt/firmware/nvidia/ga102/gsp
t0=$(cut -d' ' -f1 /proc/uptime)
cat $fw/gsp-570.144.bin $fw/bootloader-570.144.bin $fw/booter_load-570.144.bin $fw/booter_unload-570.144.bin > /dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
insmod /mnt/modules/nova-core.ko
t2=$(cut -d' ' -f1 /proc/uptime)
echo "bench: reading the firmware files (64 MB over 9p): $(awk "BEGIN{print ($t1-$t0)*1000}") ms"
echo "bench: insmod nova-core to GSP-RM ready: $(awk "BEGIN{print ($t2-$t1)*1000}") ms ($(awk "BEGIN{print ($t2-$t1)/($t1-$t0)}")x the firmware read)"
grep -h "stage " /sys/kernel/debug/nova-core-*/boot | sed 's/^/bench:   probe /'
rmmod nova_core
