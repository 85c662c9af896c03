# SPDX-License-Identifier: GPL-2.0
# Guest side of `make run`: load both modules, show what they found, and render a picture on
# the GPU (2D fills and blits, CE fills and copies) into /mnt/out/render.ppm, which the host
# side converts to build/render.png.
insmod /mnt/modules/nova-core.ko
insmod /mnt/modules/nova-drm.ko
echo "--- kernel log of nova:"
dmesg | grep -E 'nova_core|nova_drm|nova-drm'
echo "--- DRM devices:"
ls -l /dev/dri
nova-guest-tests drm
echo "--- a picture drawn by the GPU (2D and copy engine):"
nova-guest-tests render /mnt/out/render.ppm
rmmod nova_drm
rmmod nova_core
