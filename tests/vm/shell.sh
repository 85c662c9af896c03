# SPDX-License-Identifier: GPL-2.0
# Guest side of `make shell`: load the modules, then an interactive shell (vm.sh appends it).
insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
dmesg | grep -E 'nova_core|nova_drm'
echo "nova shell: modules loaded; tests in /mnt/bin; 'reboot -f' leaves the VM"
