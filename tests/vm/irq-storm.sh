# SPDX-License-Identifier: GPL-2.0
# Guest side of the irq-storm suite: the vGPU keeps the GSP interrupt asserted after every
# access. nova-core keeps the CPU interrupt tree closed and polls the queues, so it must boot
# as usual and the kernel must see no interrupt at all ("nobody cared" would fail dmesg_clean).
nova-guest-tests probe
rmmod nova_drm
rmmod nova_core
