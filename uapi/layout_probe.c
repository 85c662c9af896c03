// SPDX-License-Identifier: MIT
/*
 * The C compiler's view of nova_drm.h, for uapi/tests/layout.rs: sizes, offsets and ioctl
 * numbers as C userspace (Mesa) would see them.
 */
#include <stddef.h>
#include "nova_drm.h"

unsigned long nova_c_sizeof_getparam(void) { return sizeof(struct drm_nova_getparam); }
unsigned long nova_c_offsetof_getparam_param(void) { return offsetof(struct drm_nova_getparam, param); }
unsigned long nova_c_offsetof_getparam_value(void) { return offsetof(struct drm_nova_getparam, value); }
unsigned long nova_c_ioctl_getparam(void) { return DRM_IOCTL_NOVA_GETPARAM; }
unsigned long nova_c_getparam_chipset(void) { return NOVA_GETPARAM_CHIPSET; }
unsigned long nova_c_getparam_architecture(void) { return NOVA_GETPARAM_ARCHITECTURE; }
unsigned long nova_c_getparam_revision(void) { return NOVA_GETPARAM_REVISION; }
unsigned long nova_c_getparam_vram_size(void) { return NOVA_GETPARAM_VRAM_SIZE; }
unsigned long nova_c_getparam_bar1_size(void) { return NOVA_GETPARAM_BAR1_SIZE; }
unsigned long nova_c_getparam_fw_version(void) { return NOVA_GETPARAM_FW_VERSION; }
