// SPDX-License-Identifier: MIT
//! The nova ioctls one to one, on the uAPI structs as they are: nothing is checked or filled in
//! on the way, so tests can pass whatever they want to see rejected. Handles and VM ids these
//! create are not owned by anything: close them with [`gem_close`] and [`vm_destroy`].
//!
//! All of these are safe: each ioctl reads and writes only its own argument struct, and the
//! one user pointer of the interface (`drm_nova_vm_bind.ops`) is only read by the kernel,
//! which fails with `EFAULT` where it is not readable.

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
