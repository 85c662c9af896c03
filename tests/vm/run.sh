# SPDX-License-Identifier: GPL-2.0
# Guest side of `make run`: load both modules and show what they found.
insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
echo "--- kernel log of nova:"
dmesg | grep -E 'nova_core|nova_drm|nova-drm'
echo "--- DRM devices:"
ls -l /dev/dri
nova-guest-tests drm
rmmod nova_drm
rmmod nova_core
