/* SPDX-License-Identifier: MIT */
/*
 * nova_drm.h - userspace interface of the nova DRM driver for NVIDIA GPUs.
 *
 * Rules (the DRM uAPI conventions): every struct has explicit sizes and natural alignment,
 * pointers travel as __u64, padding must be zero, unknown flags are rejected, and structs grow
 * only at the end (the kernel zero-extends what an older userspace passes).
 *
 * The Rust mirror of this header is uapi/src/nova_drm.rs; host tests check that both agree.
 */
#ifndef _NOVA_DRM_H_
#define _NOVA_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Ioctl numbers, relative to DRM_COMMAND_BASE. */
#define DRM_NOVA_GETPARAM		0x00

/* Parameters for DRM_IOCTL_NOVA_GETPARAM. */
/* Chipset, (architecture << 4) | implementation: 0x172 for GA102. */
#define NOVA_GETPARAM_CHIPSET		0
/* Architecture as in NV_PMC_BOOT_42: 0x16 Turing, 0x17 Ampere, 0x19 Ada, ... */
#define NOVA_GETPARAM_ARCHITECTURE	1
/* Silicon revision, (major << 4) | minor: 0xa1 for A1. */
#define NOVA_GETPARAM_REVISION		2
/* Usable VRAM in bytes. */
#define NOVA_GETPARAM_VRAM_SIZE		3
/* Size of the BAR1 aperture in bytes. */
#define NOVA_GETPARAM_BAR1_SIZE		4
/* GSP-RM firmware version, (major << 32) | minor: 570.144 is 0x23a00000090; 0 if not booted. */
#define NOVA_GETPARAM_FW_VERSION	5

/**
 * struct drm_nova_getparam - query one device parameter
 * @param: in, one of NOVA_GETPARAM_*; an unknown value fails with -EINVAL.
 * @value: out, the parameter's value.
 */
struct drm_nova_getparam {
	__u64 param;
	__u64 value;
};

#define DRM_IOCTL_NOVA_GETPARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GETPARAM, struct drm_nova_getparam)

#if defined(__cplusplus)
}
#endif

#endif /* _NOVA_DRM_H_ */
