# SPDX-License-Identifier: GPL-2.0
# Guest side of the panic-screen suite: leave recognisable lines in the kernel log, then crash.
# The host decodes the QR code on the screendump and looks for these lines. They are logged
# at KERN_ERR so they reach the consoles (loglevel=4): the DRM log client sets its display mode
# on its first console write, and drm_panic draws into that framebuffer.
for i in 1 2 3; do
    echo "<3>nova-panic-test: marker line $i" > /dev/kmsg
done
# Crash only once a connector is lit (the mode set is done, so drm_panic has a framebuffer to
# draw on): polled every 0.1 s for at most 30 s. Without it the crash still happens, and the
# host's decoders fail the suite on the blank screen.
n=0
until grep -qx enabled /sys/class/drm/card*-*/enabled 2>/dev/null; do
    n=$((n + 1))
    if [ $n -gt 300 ]; then
        echo "nova-panic-test: no DRM connector enabled after 30 s" > /dev/kmsg
        break
    fi
    sleep 0.1
done
echo c > /proc/sysrq-trigger
