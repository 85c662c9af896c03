# SPDX-License-Identifier: GPL-2.0
# Guest side of the irq-storm suite: the vGPU keeps the GSP interrupt asserted after every
# access. nova-core must boot as usual, notice that the GSP vector fires with nothing in the
# queue, close it and poll the queues instead; the kernel must never see an unhandled interrupt
# ("nobody cared" would fail dmesg_clean).
nova-guest-tests probe
if dmesg | grep -q "GSP interrupt fired 1000 times with no message: closed, the queues are polled"; then
    echo "PASS irq-storm::gsp_vector_closed"
else
    echo "FAIL irq-storm::gsp_vector_closed: no 'GSP interrupt fired 1000 times' line in dmesg"
fi
# Same load, GSP vector closed: GSP-RM's MMU_FAULT_QUEUED for a fault made through the vGPU's
# test port must reach nova-core's report by the poll alone (the test issues no ioctl).
if lsmod | grep -q '^nova_core '; then
    nova-guest-tests mem::fault_reported_with_no_ioctl
else
    echo "FAIL mem::fault_reported_with_no_ioctl: nova_core was unloaded after the probe tests"
fi
rmmod nova_drm
rmmod nova_core
