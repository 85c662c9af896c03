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
#define DRM_NOVA_CTX_CREATE		0x07
#define DRM_NOVA_CTX_DESTROY		0x08
#define DRM_NOVA_CTX_QUERY		0x09
#define DRM_NOVA_EXEC			0x0a

/*
 * Error codes, common to every ioctl below:
 *   -EINVAL  a malformed argument: unknown flags or op, non-zero padding or reserved field,
 *            zero or misaligned size/address/offset, a range outside the VM's VA window or
 *            past the end of the object, an op_size this kernel cannot read; a GEM handle of
 *            an object nova did not create (a dumb buffer, a dma-buf imported from another
 *            device).
 *   -ENOENT  a GEM handle, VM id, context id or syncobj handle that does not exist in this
 *            file, or an UNMAP of a range that has nothing mapped in it.
 *   -ENOSPC  no room: VRAM exhausted, a size larger than the placement can ever hold (more than
 *            the usable VRAM; more than half of RAM for system memory), or a MAP onto a VA range
 *            that is already (partly) mapped.
 *   -EFAULT  a user pointer (VM_BIND's ops) that cannot be read.
 *   -EOPNOTSUPP  exporting a VRAM object as a dma-buf; a context on an engine this GPU's
 *            driver cannot drive (its class is 0 in GETPARAM).
 *   -ETIMEDOUT, -EIO  (fence errors and CTX_QUERY's last_error, never an ioctl's return): a
 *            job that ran past the job timeout, or a channel the GPU stopped (bad method, MMU
 *            fault).
 *   -EBUSY   VM_DESTROY of a VM that contexts still use.
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

/* Milliseconds a job may run before its context's channel is reset (see DRM_NOVA_EXEC). */
#define NOVA_GETPARAM_JOB_TIMEOUT_MS	15

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
 * struct drm_nova_gem_info - what an object is (nova objects only, imported ones too)
 * @handle: in.
 * @flags: out, NOVA_GEM_CREATE_* as created.
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
 *
 * A VM that contexts still use is not destroyed: -EBUSY (destroy the contexts first).
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

/* struct drm_nova_ctx_create.engine: what the context's channel runs. */
/* A channel on copy engine 0 with the copy class (NOVA_GETPARAM_CLASS_COPY) allocated. */
#define NOVA_ENGINE_COPY		0
/* A channel on the graphics engine with the 2D class (NOVA_GETPARAM_CLASS_2D) allocated. */
#define NOVA_ENGINE_2D			1

/* Most contexts one VM may have. */
#define NOVA_CTX_MAX_PER_VM		16

/**
 * struct drm_nova_ctx_create - create an execution context: a GPU channel in a VM
 * @vm_id: in, the VM the channel's push buffers and engines address.
 * @engine: in, NOVA_ENGINE_*.
 * @flags: in, must be 0.
 * @id: out, the context's id in this file (never 0).
 *
 * The kernel allocates the channel and the engine's class object; the push buffers bind the
 * class to a subchannel themselves with the host method SET_OBJECT (method 0, the class number
 * in bits 15:0). The kernel writes only host methods (offsets below 0x100) on subchannel 0
 * after each job, which leaves the bindings alone. A context holds 64 KiB of the VM below
 * NOVA_GETPARAM_VA_START (in [1 MiB, 2 MiB)) for its GPFIFO ring and fence; userspace never
 * sees it.
 * Contexts of one file run independently: a hang or a fault in one resets only that one.
 * A VM holds at most NOVA_CTX_MAX_PER_VM contexts (-ENOSPC past that).
 */
struct drm_nova_ctx_create {
	__u32 vm_id;
	__u32 engine;
	__u32 flags;
	__u32 id;
};

/**
 * struct drm_nova_ctx_destroy - destroy a context
 * @id: in.
 * @pad: must be 0.
 *
 * Jobs still queued or running are cancelled: their fences signal with -ECANCELED.
 */
struct drm_nova_ctx_destroy {
	__u32 id;
	__u32 pad;
};

/**
 * struct drm_nova_ctx_query - what happened to a context
 * @id: in.
 * @flags: in, must be 0.
 * @resets: out, how many times the kernel reset the context's channel.
 * @last_error: out, 0, or the negative errno of the last reset: -ETIMEDOUT (a job ran past
 *              NOVA_GETPARAM_JOB_TIMEOUT_MS) or -EIO (the GPU stopped the channel: a bad method,
 *              an MMU fault).
 * @submitted: out, jobs submitted to this context so far.
 * @completed: out, jobs whose fence has signalled (with or without an error).
 */
struct drm_nova_ctx_query {
	__u32 id;
	__u32 flags;
	__u32 resets;
	__s32 last_error;
	__u64 submitted;
	__u64 completed;
};

/* Most push buffer ranges and most syncobjs (waits + signals) one DRM_IOCTL_NOVA_EXEC takes. */
#define NOVA_EXEC_MAX_PUSH		256
#define NOVA_EXEC_MAX_SYNCS		64
/* Longest push buffer range in bytes: the GPFIFO entry's LENGTH field holds 21 bits of words. */
#define NOVA_EXEC_MAX_PUSH_SIZE		((1u << 21) * 4 - 4)

/**
 * struct drm_nova_exec_push - one push buffer range, fetched by the GPU in order
 * @va: GPU virtual address in the context's VM, 4-byte aligned.
 * @size: length in bytes, a non-zero multiple of 4, at most NOVA_EXEC_MAX_PUSH_SIZE.
 * @flags: must be 0.
 *
 * [@va, @va + @size) must lie in mappings of the VM at submission (-EINVAL otherwise).
 */
struct drm_nova_exec_push {
	__u64 va;
	__u32 size;
	__u32 flags;
};

/**
 * struct drm_nova_sync - a syncobj to wait on or to signal
 * @handle: the syncobj handle (DRM_IOCTL_SYNCOBJ_CREATE).
 * @flags: must be 0.
 * @point: 0 for a binary syncobj; otherwise the timeline point to wait for or to signal.
 */
struct drm_nova_sync {
	__u32 handle;
	__u32 flags;
	__u64 point;
};

/**
 * struct drm_nova_exec - queue one job on a context
 * @ctx_id: in.
 * @flags: in, must be 0.
 * @num_push: in, 1 to NOVA_EXEC_MAX_PUSH ranges at @push.
 * @num_waits: in, syncobjs at @waits the job waits for before it runs.
 * @num_signals: in, syncobjs at @signals that get the job's fence.
 * @pad: must be 0.
 * @push: in, user pointer to @num_push struct drm_nova_exec_push.
 * @waits: in, user pointer to @num_waits struct drm_nova_sync.
 * @signals: in, user pointer to @num_signals struct drm_nova_sync.
 *
 * The job runs after every wait fence has signalled (a wait fence that signalled with an error
 * still lets it run), in submission order with the context's other jobs. Its fence signals
 * when the GPU has executed every range: it is installed in each signal syncobj (replacing a
 * binary syncobj's fence, adding @point to a timeline) before the ioctl returns.
 * A wait point not yet submitted fails with -EINVAL (no wait-for-submit). @num_waits +
 * @num_signals is at most NOVA_EXEC_MAX_SYNCS. Unknown syncobj handles fail with -ENOENT.
 *
 * A job that has not completed NOVA_GETPARAM_JOB_TIMEOUT_MS after it reached the GPU is hung:
 * the kernel resets the context's channel, signals that job's fence and the fences of the
 * jobs behind it that had reached the GPU with -ETIMEDOUT, and runs the rest on the new
 * channel. A channel the GPU stops gets the same treatment with -EIO. CTX_QUERY tells.
 */
struct drm_nova_exec {
	__u32 ctx_id;
	__u32 flags;
	__u32 num_push;
	__u32 num_waits;
	__u32 num_signals;
	__u32 pad;
	__u64 push;
	__u64 waits;
	__u64 signals;
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
#define DRM_IOCTL_NOVA_CTX_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_CTX_CREATE, struct drm_nova_ctx_create)
#define DRM_IOCTL_NOVA_CTX_DESTROY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_CTX_DESTROY, struct drm_nova_ctx_destroy)
#define DRM_IOCTL_NOVA_CTX_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_CTX_QUERY, struct drm_nova_ctx_query)
#define DRM_IOCTL_NOVA_EXEC \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_NOVA_EXEC, struct drm_nova_exec)

#if defined(__cplusplus)
}
#endif

#endif /* _NOVA_DRM_H_ */
