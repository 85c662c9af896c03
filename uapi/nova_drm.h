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
#define DRM_NOVA_GEM_CREATE		0x01
#define DRM_NOVA_GEM_INFO		0x02
#define DRM_NOVA_GEM_MMAP_OFFSET	0x03
#define DRM_NOVA_VM_CREATE		0x04
#define DRM_NOVA_VM_DESTROY		0x05
#define DRM_NOVA_VM_BIND		0x06

/*
 * Error codes, common to every ioctl below:
 *   -EINVAL  a malformed argument: unknown flags or op, non-zero padding or reserved field,
 *            zero or misaligned size/address/offset, a range outside the VM's VA window or
 *            past the end of the object, an op_size this kernel cannot read.
 *   -ENOENT  a GEM handle or VM id that does not exist in this file, or an UNMAP of a range
 *            that has nothing mapped in it.
 *   -ENOSPC  no room: VRAM exhausted, a size larger than the placement can ever hold (more than
 *            the usable VRAM; more than half of RAM for system memory), or a MAP onto a VA range
 *            that is already (partly) mapped.
 *   -EFAULT  a user pointer (VM_BIND's ops) that cannot be read.
 *   -EOPNOTSUPP  exporting a VRAM object as a dma-buf.
 *   -ENOMEM  the kernel ran out of memory for its own bookkeeping.
 *   -ENODEV  the GPU is gone (unbound or fallen off the bus).
 *
 * The DRM core copies an ioctl's struct back to userspace even when it fails, so out fields
 * are defined on errors too where said (VM_BIND's num_ops).
 */

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
/* First byte of the VA window VM_BIND accepts (inclusive). */
#define NOVA_GETPARAM_VA_START		6
/* End of the VA window VM_BIND accepts (exclusive). */
#define NOVA_GETPARAM_VA_END		7
/* GPU page sizes VM_BIND can use: bit n set means 2^n bytes (4 KiB, 64 KiB and 2 MiB). */
#define NOVA_GETPARAM_PAGE_SIZES	8
/* Engine classes of this chip (0 when the chip's class is not known to the driver). */
#define NOVA_GETPARAM_CLASS_CHANNEL	9	/* host channel (GPFIFO), 0xc56f on GA102 */
#define NOVA_GETPARAM_CLASS_COPY	10	/* copy engine, 0xc7b5 on GA102 */
#define NOVA_GETPARAM_CLASS_2D		11	/* 2D, 0x902d */
#define NOVA_GETPARAM_CLASS_3D		12	/* 3D, 0xc797 on GA102 */
#define NOVA_GETPARAM_CLASS_COMPUTE	13	/* compute, 0xc7c0 on GA102 */
/* Free VRAM in bytes, now (changes as objects come and go). */
#define NOVA_GETPARAM_VRAM_FREE		14

/**
 * struct drm_nova_getparam - query one device parameter
 * @param: in, one of NOVA_GETPARAM_*; an unknown value fails with -EINVAL.
 * @value: out, the parameter's value.
 */
struct drm_nova_getparam {
	__u64 param;
	__u64 value;
};

/* Flags of struct drm_nova_gem_create (and reported back by DRM_IOCTL_NOVA_GEM_INFO). */
/* Place the object in VRAM; without it the object lives in system memory. */
#define NOVA_GEM_CREATE_VRAM		(1 << 0)
#define NOVA_GEM_CREATE_FLAGS		(NOVA_GEM_CREATE_VRAM)

/**
 * struct drm_nova_gem_create - create a GEM object
 * @size: in, the size in bytes (> 0); out, the size rounded up to the placement's granule
 *        (4 KiB in system memory, 64 KiB in VRAM). -ENOSPC when it can never fit.
 * @flags: in, NOVA_GEM_CREATE_*.
 * @handle: out, the new object's handle in this file.
 * @align: in, 0 or a power of two: the physical alignment of a VRAM object (2 MiB lets
 *         VM_BIND use 2 MiB pages); must be 0 for system memory; at most 1 GiB.
 *
 * Both placements can be mapped by the CPU (DRM_IOCTL_NOVA_GEM_MMAP_OFFSET): system memory
 * directly, VRAM through a BAR1 mapping the kernel makes on the first mmap. Objects in system
 * memory can be exported and imported as dma-bufs (PRIME); exporting a VRAM object fails with
 * -EOPNOTSUPP.
 */
struct drm_nova_gem_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 align;
};

/**
 * struct drm_nova_gem_info - what an object is (for imported ones too)
 * @handle: in.
 * @flags: out, NOVA_GEM_CREATE_* as created (0 for an imported dma-buf).
 * @size: out, the size in bytes.
 */
struct drm_nova_gem_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
};

/**
 * struct drm_nova_gem_mmap_offset - the fake offset to mmap an object at
 * @handle: in.
 * @pad: must be 0.
 * @offset: out, pass it to mmap() on the same DRM file.
 */
struct drm_nova_gem_mmap_offset {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

/**
 * struct drm_nova_vm_create - create a GPU virtual address space
 * @flags: in, must be 0.
 * @id: out, the VM's id in this file (never 0).
 *
 * The VM has its own page tables and accepts addresses in
 * [NOVA_GETPARAM_VA_START, NOVA_GETPARAM_VA_END). A file may hold up to NOVA_VM_MAX_PER_FILE
 * VMs (-ENOSPC past that).
 */
struct drm_nova_vm_create {
	__u32 flags;
	__u32 id;
};

/**
 * struct drm_nova_vm_destroy - destroy a VM and every mapping in it
 * @id: in.
 * @pad: must be 0.
 */
struct drm_nova_vm_destroy {
	__u32 id;
	__u32 pad;
};

/* Most ops one DRM_IOCTL_NOVA_VM_BIND takes, and most VMs one file may hold. */
#define NOVA_VM_BIND_MAX_OPS		1024
#define NOVA_VM_MAX_PER_FILE		64

/* struct drm_nova_vm_bind_op.op */
#define NOVA_VM_BIND_OP_MAP		0
#define NOVA_VM_BIND_OP_UNMAP		1

/* struct drm_nova_vm_bind_op.flags (MAP only; UNMAP takes 0) */
/* Map the range sparse: no object; GPU reads return 0 and writes are dropped, no fault. */
#define NOVA_VM_BIND_SPARSE		(1 << 0)
/* GPU writes through this mapping fault (on a sparse range it changes nothing: writes are
 * dropped there anyway). */
#define NOVA_VM_BIND_READ_ONLY		(1 << 1)
#define NOVA_VM_BIND_OP_FLAGS		(NOVA_VM_BIND_SPARSE | NOVA_VM_BIND_READ_ONLY)

/**
 * struct drm_nova_vm_bind_op - one map or unmap
 * @op: NOVA_VM_BIND_OP_*.
 * @flags: NOVA_VM_BIND_* (MAP only).
 * @handle: MAP: the GEM object; 0 with NOVA_VM_BIND_SPARSE. UNMAP: 0.
 * @kind: MAP: the PTE kind (0 = pitch; NV_MMU_PTE_KIND_*, < 256). UNMAP and SPARSE: 0.
 * @va: first GPU virtual address, 4 KiB aligned.
 * @range: length in bytes, > 0, 4 KiB aligned.
 * @bo_offset: MAP: offset into the object, 4 KiB aligned, @bo_offset + @range <= object size.
 *             UNMAP and SPARSE: 0.
 *
 * MAP needs [@va, @va + @range) to be unmapped (-ENOSPC otherwise). UNMAP removes whatever is
 * mapped in the range, splitting mappings it covers partly; a range with nothing mapped fails
 * with -ENOENT. The kernel picks the largest page size (2 MiB, 64 KiB, 4 KiB) that the VA, the
 * object's physical placement and the range allow.
 */
struct drm_nova_vm_bind_op {
	__u32 op;
	__u32 flags;
	__u32 handle;
	__u32 kind;
	__u64 va;
	__u64 range;
	__u64 bo_offset;
};

/**
 * struct drm_nova_vm_bind - a batch of map/unmap operations on one VM
 * @vm_id: in.
 * @flags: in, must be 0.
 * @num_ops: in, the number of ops (1 to NOVA_VM_BIND_MAX_OPS); out, how many were applied.
 * @op_size: in, sizeof(struct drm_nova_vm_bind_op) as userspace knows it: a multiple of 8,
 *           at least 40 and at most 4096; bytes past the ops this kernel knows must be 0.
 * @ops: in, user pointer to @num_ops ops, @op_size bytes apart.
 *
 * Every op is checked for malformed arguments (-EINVAL, -ENOENT for handles) before any is
 * applied; such an error leaves @num_ops 0. Ops are then applied in order; if one fails on the VM's state (-ENOSPC, -ENOENT,
 * -ENOMEM), the ops before it stay applied and @num_ops says how many. The GPU's TLBs are
 * invalidated before the ioctl returns.
 */
struct drm_nova_vm_bind {
	__u32 vm_id;
	__u32 flags;
	__u32 num_ops;
	__u32 op_size;
	__u64 ops;
};

#define DRM_IOCTL_NOVA_GETPARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GETPARAM, struct drm_nova_getparam)
#define DRM_IOCTL_NOVA_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_CREATE, struct drm_nova_gem_create)
#define DRM_IOCTL_NOVA_GEM_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_INFO, struct drm_nova_gem_info)
#define DRM_IOCTL_NOVA_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_GEM_MMAP_OFFSET, struct drm_nova_gem_mmap_offset)
#define DRM_IOCTL_NOVA_VM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_VM_CREATE, struct drm_nova_vm_create)
#define DRM_IOCTL_NOVA_VM_DESTROY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_VM_DESTROY, struct drm_nova_vm_destroy)
#define DRM_IOCTL_NOVA_VM_BIND \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_VM_BIND, struct drm_nova_vm_bind)

#if defined(__cplusplus)
}
#endif

#endif /* _NOVA_DRM_H_ */
