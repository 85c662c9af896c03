# SPDX-License-Identifier: GPL-2.0
# Guest side of the main VM suite: identification, the DRM device, 10 reload cycles, unload.
nova-guest-tests probe drm reload rebind
rmmod nova_drm
rmmod nova_core
