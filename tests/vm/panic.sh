# SPDX-License-Identifier: GPL-2.0
# Guest side of the panic-screen suite: leave recognisable lines in the kernel log, then crash.
# The host decodes the QR code on the screendump and looks for these lines. They are logged
# at KERN_ERR so they reach the consoles (loglevel=4): the DRM log client sets its display mode
# on its first console write, and drm_panic draws into that framebuffer.
for i in 1 2 3; do
    echo "<3>nova-panic-test: marker line $i" > /dev/kmsg
done
sleep 2
echo c > /proc/sysrq-trigger
