// SPDX-License-Identifier: MIT
//! The nova ioctls one to one, on the uAPI structs as they are: nothing is checked or filled in
//! on the way, so tests can pass whatever they want to see rejected. Handles and VM ids these
//! create are not owned by anything: close them with [`gem_close`] and [`vm_destroy`].
//!
//! All of these are safe: each ioctl reads and writes only its own argument struct, and the
//! user pointers of the interface (`drm_nova_vm_bind.ops`, `drm_nova_exec.push`, `.waits`,
//! `.signals`) and of the syncobj ioctls here (handle and point arrays of WAIT, SIGNAL,
//! TIMELINE_SIGNAL, RESET) are only read by the kernel, which fails with `EFAULT` where they
//! are not readable. The one syncobj ioctl that writes through a pointer (QUERY) is
//! [`syncobj_query`], which takes slices.

use crate::drm::{self, DrmGemClose, DrmPrimeHandle};
use crate::{Device, Result};
use nova_uapi::{self as uapi, *};

macro_rules! nova_ioctl {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $cmd:expr, $op:literal) => {
        $(#[$doc])*
        pub fn $name(dev: &Device, arg: &mut $ty) -> Result<()> {
            const _: () = assert!(drm::ioc_size($cmd) == size_of::<$ty>());
            // SAFETY: the ioctl takes exactly this struct (size asserted above) and writes no
            // user memory outside it (module comment).
            unsafe { dev.ioctl($op, $cmd, arg) }
        }
    };
}

nova_ioctl!(
    /// `DRM_IOCTL_NOVA_GETPARAM`.
    getparam, DrmNovaGetparam, DRM_IOCTL_NOVA_GETPARAM, "GETPARAM"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_GEM_CREATE`.
    gem_create, DrmNovaGemCreate, DRM_IOCTL_NOVA_GEM_CREATE, "GEM_CREATE"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_GEM_INFO`.
    gem_info, DrmNovaGemInfo, DRM_IOCTL_NOVA_GEM_INFO, "GEM_INFO"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_GEM_MMAP_OFFSET`.
    gem_mmap_offset, DrmNovaGemMmapOffset, DRM_IOCTL_NOVA_GEM_MMAP_OFFSET, "GEM_MMAP_OFFSET"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_VM_CREATE`.
    vm_create_raw, DrmNovaVmCreate, DRM_IOCTL_NOVA_VM_CREATE, "VM_CREATE"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_VM_DESTROY`.
    vm_destroy_raw, DrmNovaVmDestroy, DRM_IOCTL_NOVA_VM_DESTROY, "VM_DESTROY"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_VM_BIND`. On an error the kernel still copies the struct back, so
    /// `num_ops` says how many ops were applied.
    vm_bind, DrmNovaVmBind, DRM_IOCTL_NOVA_VM_BIND, "VM_BIND"
);

nova_ioctl!(
    /// `DRM_IOCTL_NOVA_CTX_CREATE`.
    ctx_create, DrmNovaCtxCreate, DRM_IOCTL_NOVA_CTX_CREATE, "CTX_CREATE"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_CTX_DESTROY`.
    ctx_destroy_raw, DrmNovaCtxDestroy, DRM_IOCTL_NOVA_CTX_DESTROY, "CTX_DESTROY"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_CTX_QUERY`.
    ctx_query, DrmNovaCtxQuery, DRM_IOCTL_NOVA_CTX_QUERY, "CTX_QUERY"
);
nova_ioctl!(
    /// `DRM_IOCTL_NOVA_EXEC`. The kernel only reads through `push`, `waits` and `signals`.
    exec, DrmNovaExec, DRM_IOCTL_NOVA_EXEC, "EXEC"
);

/// `DRM_IOCTL_NOVA_CTX_DESTROY` of `id`.
pub fn ctx_destroy(dev: &Device, id: u32) -> Result<()> {
    ctx_destroy_raw(dev, &mut uapi::DrmNovaCtxDestroy { id, pad: 0 })
}

macro_rules! drm_ioctl {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $cmd:expr, $op:literal) => {
        $(#[$doc])*
        pub fn $name(dev: &Device, arg: &mut $ty) -> Result<()> {
            const _: () = assert!(drm::ioc_size($cmd) == size_of::<$ty>());
            // SAFETY: the ioctl takes exactly this struct (size asserted above) and at most
            // reads user memory through the pointers in it (module comment).
            unsafe { dev.ioctl($op, $cmd, arg) }
        }
    };
}

drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_CREATE`.
    syncobj_create, drm::DrmSyncobjCreate, drm::DRM_IOCTL_SYNCOBJ_CREATE, "SYNCOBJ_CREATE"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_DESTROY`.
    syncobj_destroy, drm::DrmSyncobjDestroy, drm::DRM_IOCTL_SYNCOBJ_DESTROY, "SYNCOBJ_DESTROY"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD` (the new fd is the caller's to close).
    syncobj_handle_to_fd,
    drm::DrmSyncobjHandle,
    drm::DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
    "SYNCOBJ_HANDLE_TO_FD"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE`.
    syncobj_fd_to_handle,
    drm::DrmSyncobjHandle,
    drm::DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
    "SYNCOBJ_FD_TO_HANDLE"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_WAIT` (`ETIME` when the deadline passes).
    syncobj_wait, drm::DrmSyncobjWait, drm::DRM_IOCTL_SYNCOBJ_WAIT, "SYNCOBJ_WAIT"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT` (`ETIME` when the deadline passes).
    syncobj_timeline_wait,
    drm::DrmSyncobjTimelineWait,
    drm::DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
    "SYNCOBJ_TIMELINE_WAIT"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_RESET`.
    syncobj_reset, drm::DrmSyncobjArray, drm::DRM_IOCTL_SYNCOBJ_RESET, "SYNCOBJ_RESET"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_SIGNAL`.
    syncobj_signal, drm::DrmSyncobjArray, drm::DRM_IOCTL_SYNCOBJ_SIGNAL, "SYNCOBJ_SIGNAL"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL`.
    syncobj_timeline_signal,
    drm::DrmSyncobjTimelineArray,
    drm::DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
    "SYNCOBJ_TIMELINE_SIGNAL"
);
drm_ioctl!(
    /// `DRM_IOCTL_SYNCOBJ_TRANSFER`.
    syncobj_transfer,
    drm::DrmSyncobjTransfer,
    drm::DRM_IOCTL_SYNCOBJ_TRANSFER,
    "SYNCOBJ_TRANSFER"
);

/// `DRM_IOCTL_SYNCOBJ_QUERY`: the points of `handles` into `points` (same length, else
/// `EINVAL` without an ioctl); `flags` is `DRM_SYNCOBJ_QUERY_FLAGS_*`.
pub fn syncobj_query(dev: &Device, handles: &[u32], points: &mut [u64], flags: u32) -> Result<()> {
    if handles.len() != points.len() {
        return Err(crate::Error::new("SYNCOBJ_QUERY", libc::EINVAL));
    }
    let mut a = drm::DrmSyncobjTimelineArray {
        handles: handles.as_ptr() as u64,
        points: points.as_mut_ptr() as u64,
        count_handles: u32::try_from(handles.len()).unwrap_or(u32::MAX),
        flags,
    };
    // SAFETY: QUERY takes a drm_syncobj_timeline_array; it reads `count_handles` u32s at
    // `handles` and writes as many u64s at `points`, both live slices of that length.
    unsafe { dev.ioctl("SYNCOBJ_QUERY", drm::DRM_IOCTL_SYNCOBJ_QUERY, &mut a) }
}

/// `DRM_IOCTL_NOVA_VM_CREATE` with `flags`: the new VM's id.
pub fn vm_create(dev: &Device, flags: u32) -> Result<u32> {
    let mut a = uapi::DrmNovaVmCreate { flags, id: 0 };
    vm_create_raw(dev, &mut a)?;
    Ok(a.id)
}

/// `DRM_IOCTL_NOVA_VM_DESTROY` of `id`.
pub fn vm_destroy(dev: &Device, id: u32) -> Result<()> {
    vm_destroy_raw(dev, &mut uapi::DrmNovaVmDestroy { id, pad: 0 })
}

/// `DRM_IOCTL_GEM_CLOSE` of `handle`.
pub fn gem_close(dev: &Device, handle: u32) -> Result<()> {
    let mut a = DrmGemClose { handle, pad: 0 };
    // SAFETY: GEM_CLOSE takes a drm_gem_close and touches nothing else.
    unsafe { dev.ioctl("GEM_CLOSE", drm::DRM_IOCTL_GEM_CLOSE, &mut a) }
}

/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`.
pub fn prime_handle_to_fd(dev: &Device, arg: &mut DrmPrimeHandle) -> Result<()> {
    // SAFETY: the ioctl takes a drm_prime_handle and touches nothing else.
    unsafe { dev.ioctl("PRIME_HANDLE_TO_FD", drm::DRM_IOCTL_PRIME_HANDLE_TO_FD, arg) }
}

/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`.
pub fn prime_fd_to_handle(dev: &Device, arg: &mut DrmPrimeHandle) -> Result<()> {
    // SAFETY: the ioctl takes a drm_prime_handle and touches nothing else.
    unsafe { dev.ioctl("PRIME_FD_TO_HANDLE", drm::DRM_IOCTL_PRIME_FD_TO_HANDLE, arg) }
}
