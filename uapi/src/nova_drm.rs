// SPDX-License-Identifier: MIT
//! Rust mirror of `uapi/nova_drm.h`, the nova DRM userspace interface.
//!
//! This file is shared: the kernel module nova-drm includes it as a module and the host crate
//! `nova-uapi` exports it. It uses nothing but `core`. Layouts must match the C header exactly;
//! `uapi/tests/layout.rs` checks them against a C compiler's view.

/// `DRM_COMMAND_BASE`: first driver-private ioctl number (include/uapi/drm/drm.h).
pub const DRM_COMMAND_BASE: u32 = 0x40;
/// `DRM_IOCTL_BASE`: the DRM ioctl type character 'd'.
pub const DRM_IOCTL_BASE: u32 = b'd' as u32;

/// `_IOWR` on Linux (asm-generic/ioctl.h): dir 31:30 (read=2, write=1), size 29:16, type 15:8,
/// number 7:0.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> u32 {
    (3 << 30) | ((size as u32 & 0x3fff) << 16) | (ty << 8) | nr
}

/// `DRM_NOVA_GETPARAM`.
pub const DRM_NOVA_GETPARAM: u32 = 0x00;
/// `DRM_NOVA_GEM_CREATE`.
pub const DRM_NOVA_GEM_CREATE: u32 = 0x01;
/// `DRM_NOVA_GEM_INFO`.
pub const DRM_NOVA_GEM_INFO: u32 = 0x02;
/// `DRM_NOVA_GEM_MMAP_OFFSET`.
pub const DRM_NOVA_GEM_MMAP_OFFSET: u32 = 0x03;
/// `DRM_NOVA_VM_CREATE`.
pub const DRM_NOVA_VM_CREATE: u32 = 0x04;
/// `DRM_NOVA_VM_DESTROY`.
pub const DRM_NOVA_VM_DESTROY: u32 = 0x05;
/// `DRM_NOVA_VM_BIND`.
pub const DRM_NOVA_VM_BIND: u32 = 0x06;
/// `DRM_NOVA_CTX_CREATE`.
pub const DRM_NOVA_CTX_CREATE: u32 = 0x07;
/// `DRM_NOVA_CTX_DESTROY`.
pub const DRM_NOVA_CTX_DESTROY: u32 = 0x08;
/// `DRM_NOVA_CTX_QUERY`.
pub const DRM_NOVA_CTX_QUERY: u32 = 0x09;
/// `DRM_NOVA_EXEC`.
pub const DRM_NOVA_EXEC: u32 = 0x0a;

/// `NOVA_GETPARAM_CHIPSET`: `(architecture << 4) | implementation`, 0x172 for GA102.
pub const NOVA_GETPARAM_CHIPSET: u64 = 0;
/// `NOVA_GETPARAM_ARCHITECTURE`: 0x16 Turing, 0x17 Ampere, 0x19 Ada, ...
pub const NOVA_GETPARAM_ARCHITECTURE: u64 = 1;
/// `NOVA_GETPARAM_REVISION`: `(major << 4) | minor`, 0xa1 for A1.
pub const NOVA_GETPARAM_REVISION: u64 = 2;
/// `NOVA_GETPARAM_VRAM_SIZE`: usable VRAM in bytes.
pub const NOVA_GETPARAM_VRAM_SIZE: u64 = 3;
/// `NOVA_GETPARAM_BAR1_SIZE`: size of the BAR1 aperture in bytes.
pub const NOVA_GETPARAM_BAR1_SIZE: u64 = 4;
/// `NOVA_GETPARAM_FW_VERSION`: GSP-RM version, `(major << 32) | minor`; 0 if GSP-RM is not booted.
pub const NOVA_GETPARAM_FW_VERSION: u64 = 5;
/// `NOVA_GETPARAM_VA_START`: first byte of the VA window VM_BIND accepts.
pub const NOVA_GETPARAM_VA_START: u64 = 6;
/// `NOVA_GETPARAM_VA_END`: end (exclusive) of the VA window VM_BIND accepts.
pub const NOVA_GETPARAM_VA_END: u64 = 7;
/// `NOVA_GETPARAM_PAGE_SIZES`: bit n set = VM_BIND can use pages of 2^n bytes.
pub const NOVA_GETPARAM_PAGE_SIZES: u64 = 8;
/// `NOVA_GETPARAM_CLASS_CHANNEL`: host channel (GPFIFO) class, 0 if unknown.
pub const NOVA_GETPARAM_CLASS_CHANNEL: u64 = 9;
/// `NOVA_GETPARAM_CLASS_COPY`: copy engine class, 0 if unknown.
pub const NOVA_GETPARAM_CLASS_COPY: u64 = 10;
/// `NOVA_GETPARAM_CLASS_2D`: 2D class, 0 if unknown.
pub const NOVA_GETPARAM_CLASS_2D: u64 = 11;
/// `NOVA_GETPARAM_CLASS_3D`: 3D class, 0 if unknown.
pub const NOVA_GETPARAM_CLASS_3D: u64 = 12;
/// `NOVA_GETPARAM_CLASS_COMPUTE`: compute class, 0 if unknown.
pub const NOVA_GETPARAM_CLASS_COMPUTE: u64 = 13;
/// `NOVA_GETPARAM_VRAM_FREE`: free VRAM in bytes, now.
pub const NOVA_GETPARAM_VRAM_FREE: u64 = 14;
/// `NOVA_GETPARAM_JOB_TIMEOUT_MS`: milliseconds a job may run before its context's channel is
/// reset (see `DRM_NOVA_EXEC`).
pub const NOVA_GETPARAM_JOB_TIMEOUT_MS: u64 = 15;

/// `struct drm_nova_getparam`: query one device parameter.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaGetparam {
    /// In: one of `NOVA_GETPARAM_*`; unknown values fail with `EINVAL`.
    pub param: u64,
    /// Out: the value.
    pub value: u64,
}

/// `NOVA_GEM_CREATE_VRAM`: place the object in VRAM (else system memory).
pub const NOVA_GEM_CREATE_VRAM: u32 = 1 << 0;
/// `NOVA_GEM_CREATE_FLAGS`: every flag this interface defines.
pub const NOVA_GEM_CREATE_FLAGS: u32 = NOVA_GEM_CREATE_VRAM;

/// `struct drm_nova_gem_create`: create a GEM object.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaGemCreate {
    /// In: size in bytes (> 0); out: rounded up to the placement's granule.
    pub size: u64,
    /// In: `NOVA_GEM_CREATE_*`.
    pub flags: u32,
    /// Out: the new handle.
    pub handle: u32,
    /// In: 0 or a power of two, the physical alignment of a VRAM object (0 for system memory).
    pub align: u64,
}

/// `struct drm_nova_gem_info`: what an object is.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaGemInfo {
    /// In: the handle.
    pub handle: u32,
    /// Out: `NOVA_GEM_CREATE_*` as created.
    pub flags: u32,
    /// Out: size in bytes.
    pub size: u64,
}

/// `struct drm_nova_gem_mmap_offset`: the fake offset to mmap an object at.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaGemMmapOffset {
    /// In: the handle.
    pub handle: u32,
    /// Must be 0.
    pub pad: u32,
    /// Out: the offset to pass to `mmap()` on the same file.
    pub offset: u64,
}

/// `struct drm_nova_vm_create`: create a GPU virtual address space.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaVmCreate {
    /// In: must be 0.
    pub flags: u32,
    /// Out: the VM's id in this file (never 0).
    pub id: u32,
}

/// `struct drm_nova_vm_destroy`: destroy a VM and every mapping in it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaVmDestroy {
    /// In: the VM id.
    pub id: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `NOVA_VM_BIND_OP_MAP`.
pub const NOVA_VM_BIND_OP_MAP: u32 = 0;
/// `NOVA_VM_BIND_OP_UNMAP`.
pub const NOVA_VM_BIND_OP_UNMAP: u32 = 1;
/// `NOVA_VM_BIND_SPARSE`: map without an object; reads return 0, writes are dropped.
pub const NOVA_VM_BIND_SPARSE: u32 = 1 << 0;
/// `NOVA_VM_BIND_READ_ONLY`: GPU writes through the mapping fault.
pub const NOVA_VM_BIND_READ_ONLY: u32 = 1 << 1;
/// `NOVA_VM_BIND_OP_FLAGS`: every op flag this interface defines.
pub const NOVA_VM_BIND_OP_FLAGS: u32 = NOVA_VM_BIND_SPARSE | NOVA_VM_BIND_READ_ONLY;

/// `struct drm_nova_vm_bind_op`: one map or unmap.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaVmBindOp {
    /// `NOVA_VM_BIND_OP_*`.
    pub op: u32,
    /// `NOVA_VM_BIND_*` (MAP only).
    pub flags: u32,
    /// MAP: the object (0 with SPARSE); UNMAP: 0.
    pub handle: u32,
    /// MAP: PTE kind (< 256); UNMAP and SPARSE: 0.
    pub kind: u32,
    /// First GPU VA, 4 KiB aligned.
    pub va: u64,
    /// Length in bytes, > 0, 4 KiB aligned.
    pub range: u64,
    /// MAP: offset into the object; UNMAP and SPARSE: 0.
    pub bo_offset: u64,
}

/// `struct drm_nova_vm_bind`: a batch of ops on one VM.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaVmBind {
    /// In: the VM id.
    pub vm_id: u32,
    /// In: must be 0.
    pub flags: u32,
    /// In: number of ops (1..=1024); out: how many were applied.
    pub num_ops: u32,
    /// In: size of one op as userspace knows it (multiple of 8, >= 40).
    pub op_size: u32,
    /// In: user pointer to the ops.
    pub ops: u64,
}

/// Most ops one `DRM_IOCTL_NOVA_VM_BIND` takes.
pub const NOVA_VM_BIND_MAX_OPS: u32 = 1024;
/// Most VMs one file may hold.
pub const NOVA_VM_MAX_PER_FILE: u32 = 64;

/// `NOVA_ENGINE_COPY`: a channel on copy engine 0 with the copy class
/// (`NOVA_GETPARAM_CLASS_COPY`) allocated.
pub const NOVA_ENGINE_COPY: u32 = 0;
/// `NOVA_ENGINE_2D`: a channel on the graphics engine with the 2D class
/// (`NOVA_GETPARAM_CLASS_2D`) allocated.
pub const NOVA_ENGINE_2D: u32 = 1;

/// Most contexts one VM may have.
pub const NOVA_CTX_MAX_PER_VM: u32 = 16;

/// `struct drm_nova_ctx_create`: create an execution context, a GPU channel in a VM.
///
/// The push buffers bind the engine's class to a subchannel themselves (host method
/// SET_OBJECT). A context holds 64 KiB of the VM below `NOVA_GETPARAM_VA_START` for its ring.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaCtxCreate {
    /// In: the VM the channel's push buffers and engines address.
    pub vm_id: u32,
    /// In: `NOVA_ENGINE_*`.
    pub engine: u32,
    /// In: must be 0.
    pub flags: u32,
    /// Out: the context's id in this file (never 0).
    pub id: u32,
}

/// `struct drm_nova_ctx_destroy`: destroy a context; its queued and running jobs are
/// cancelled (their fences signal with `-ECANCELED`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaCtxDestroy {
    /// In: the context id.
    pub id: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_nova_ctx_query`: what happened to a context.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaCtxQuery {
    /// In: the context id.
    pub id: u32,
    /// In: must be 0.
    pub flags: u32,
    /// Out: how many times the kernel reset the context's channel.
    pub resets: u32,
    /// Out: 0, or the negative errno of the last reset (`-ETIMEDOUT` or `-EIO`).
    pub last_error: i32,
    /// Out: jobs submitted to this context so far.
    pub submitted: u64,
    /// Out: jobs whose fence has signalled (with or without an error).
    pub completed: u64,
}

/// Most push buffer ranges one `DRM_IOCTL_NOVA_EXEC` takes.
pub const NOVA_EXEC_MAX_PUSH: u32 = 256;
/// Most syncobjs (waits + signals) one `DRM_IOCTL_NOVA_EXEC` takes.
pub const NOVA_EXEC_MAX_SYNCS: u32 = 64;
/// Longest push buffer range in bytes: the GPFIFO entry's LENGTH field holds 21 bits of words.
pub const NOVA_EXEC_MAX_PUSH_SIZE: u32 = (1u32 << 21) * 4 - 4;

/// `struct drm_nova_exec_push`: one push buffer range, fetched by the GPU in order.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaExecPush {
    /// GPU VA in the context's VM, 4-byte aligned.
    pub va: u64,
    /// Length in bytes: a non-zero multiple of 4, at most `NOVA_EXEC_MAX_PUSH_SIZE`.
    pub size: u32,
    /// Must be 0.
    pub flags: u32,
}

/// `struct drm_nova_sync`: a syncobj to wait on or to signal.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaSync {
    /// The syncobj handle (`DRM_IOCTL_SYNCOBJ_CREATE`).
    pub handle: u32,
    /// Must be 0.
    pub flags: u32,
    /// 0 for a binary syncobj; otherwise the timeline point to wait for or to signal.
    pub point: u64,
}

/// `struct drm_nova_exec`: queue one job on a context.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmNovaExec {
    /// In: the context id.
    pub ctx_id: u32,
    /// In: must be 0.
    pub flags: u32,
    /// In: 1 to `NOVA_EXEC_MAX_PUSH` ranges at `push`.
    pub num_push: u32,
    /// In: syncobjs at `waits` the job waits for before it runs.
    pub num_waits: u32,
    /// In: syncobjs at `signals` that get the job's fence.
    pub num_signals: u32,
    /// Must be 0.
    pub pad: u32,
    /// In: user pointer to `num_push` [`DrmNovaExecPush`].
    pub push: u64,
    /// In: user pointer to `num_waits` [`DrmNovaSync`].
    pub waits: u64,
    /// In: user pointer to `num_signals` [`DrmNovaSync`].
    pub signals: u64,
}

/// `DRM_IOCTL_NOVA_GETPARAM`.
pub const DRM_IOCTL_NOVA_GETPARAM: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_GETPARAM,
    core::mem::size_of::<DrmNovaGetparam>(),
);
/// `DRM_IOCTL_NOVA_GEM_CREATE`.
pub const DRM_IOCTL_NOVA_GEM_CREATE: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_GEM_CREATE,
    core::mem::size_of::<DrmNovaGemCreate>(),
);
/// `DRM_IOCTL_NOVA_GEM_INFO`.
pub const DRM_IOCTL_NOVA_GEM_INFO: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_GEM_INFO,
    core::mem::size_of::<DrmNovaGemInfo>(),
);
/// `DRM_IOCTL_NOVA_GEM_MMAP_OFFSET`.
pub const DRM_IOCTL_NOVA_GEM_MMAP_OFFSET: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_GEM_MMAP_OFFSET,
    core::mem::size_of::<DrmNovaGemMmapOffset>(),
);
/// `DRM_IOCTL_NOVA_VM_CREATE`.
pub const DRM_IOCTL_NOVA_VM_CREATE: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_VM_CREATE,
    core::mem::size_of::<DrmNovaVmCreate>(),
);
/// `DRM_IOCTL_NOVA_VM_DESTROY`.
pub const DRM_IOCTL_NOVA_VM_DESTROY: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_VM_DESTROY,
    core::mem::size_of::<DrmNovaVmDestroy>(),
);
/// `DRM_IOCTL_NOVA_VM_BIND`.
pub const DRM_IOCTL_NOVA_VM_BIND: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_VM_BIND,
    core::mem::size_of::<DrmNovaVmBind>(),
);
/// `DRM_IOCTL_NOVA_CTX_CREATE`.
pub const DRM_IOCTL_NOVA_CTX_CREATE: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_CTX_CREATE,
    core::mem::size_of::<DrmNovaCtxCreate>(),
);
/// `DRM_IOCTL_NOVA_CTX_DESTROY`.
pub const DRM_IOCTL_NOVA_CTX_DESTROY: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_CTX_DESTROY,
    core::mem::size_of::<DrmNovaCtxDestroy>(),
);
/// `DRM_IOCTL_NOVA_CTX_QUERY`.
pub const DRM_IOCTL_NOVA_CTX_QUERY: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_CTX_QUERY,
    core::mem::size_of::<DrmNovaCtxQuery>(),
);
/// `DRM_IOCTL_NOVA_EXEC`.
pub const DRM_IOCTL_NOVA_EXEC: u32 = iowr(
    DRM_IOCTL_BASE,
    DRM_COMMAND_BASE + DRM_NOVA_EXEC,
    core::mem::size_of::<DrmNovaExec>(),
);
