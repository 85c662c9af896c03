# SPDX-License-Identifier: GPL-2.0
# Guest side of the panic-screen suite: leave recognisable lines in the kernel log, then crash.
# The host decodes the QR code on the screendump and looks for these lines.
for i in 1 2 3; do
    echo "nova-panic-test: marker line $i" > /dev/kmsg
done
echo c > /proc/sysrq-trigger
