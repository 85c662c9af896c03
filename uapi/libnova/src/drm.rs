// SPDX-License-Identifier: MIT
//! The core DRM ioctls libnova uses, defined from `include/uapi/drm/drm.h` (Linux):
//! `DRM_IOCTL_VERSION`, `DRM_IOCTL_GEM_CLOSE`, `DRM_IOCTL_PRIME_HANDLE_TO_FD`,
//! `DRM_IOCTL_PRIME_FD_TO_HANDLE`, and the dumb-buffer ioctls (for comparisons with other
//! drivers such as vgem). Layouts are those of 64-bit Linux.

use crate::{Error, Result};
use nova_uapi::{iowr, DRM_IOCTL_BASE};
use std::os::fd::{AsRawFd, BorrowedFd};

/// `_IOW` on Linux: direction bits 31:30 = 1 (userspace writes, the kernel reads).
pub const fn iow(ty: u32, nr: u32, size: usize) -> u32 {
    (1 << 30) | ((size as u32 & 0x3fff) << 16) | (ty << 8) | nr
}

/// `struct drm_version`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmVersion {
    /// Major version.
    pub version_major: i32,
    /// Minor version.
    pub version_minor: i32,
    /// Patch level.
    pub version_patchlevel: i32,
    /// Length of the name buffer (in), of the name (out).
    pub name_len: usize,
    /// User pointer to the name buffer.
    pub name: usize,
    /// Length of the date buffer.
    pub date_len: usize,
    /// User pointer to the date buffer.
    pub date: usize,
    /// Length of the description buffer.
    pub desc_len: usize,
    /// User pointer to the description buffer.
    pub desc: usize,
}

/// `struct drm_gem_close`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmGemClose {
    /// The handle to close.
    pub handle: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_prime_handle`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmPrimeHandle {
    /// The GEM handle (in for HANDLE_TO_FD, out for FD_TO_HANDLE).
    pub handle: u32,
    /// HANDLE_TO_FD: `DRM_CLOEXEC | DRM_RDWR`.
    pub flags: u32,
    /// The dma-buf fd (out for HANDLE_TO_FD, in for FD_TO_HANDLE).
    pub fd: i32,
}

/// `struct drm_mode_create_dumb`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmModeCreateDumb {
    /// Height in pixels.
    pub height: u32,
    /// Width in pixels.
    pub width: u32,
    /// Bits per pixel.
    pub bpp: u32,
    /// Must be 0.
    pub flags: u32,
    /// Out: the handle.
    pub handle: u32,
    /// Out: bytes per line.
    pub pitch: u32,
    /// Out: size in bytes.
    pub size: u64,
}

/// `struct drm_mode_map_dumb`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmModeMapDumb {
    /// The handle.
    pub handle: u32,
    /// Must be 0.
    pub pad: u32,
    /// Out: the fake mmap offset.
    pub offset: u64,
}

/// `struct drm_mode_destroy_dumb`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct DrmModeDestroyDumb {
    /// The handle.
    pub handle: u32,
}

/// `DRM_CLOEXEC` (= `O_CLOEXEC`).
pub const DRM_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
/// `DRM_RDWR` (= `O_RDWR`).
pub const DRM_RDWR: u32 = libc::O_RDWR as u32;

/// `DRM_IOCTL_VERSION` = `DRM_IOWR(0x00, struct drm_version)`.
pub const DRM_IOCTL_VERSION: u32 = iowr(DRM_IOCTL_BASE, 0x00, size_of::<DrmVersion>());
/// `DRM_IOCTL_GEM_CLOSE` = `DRM_IOW(0x09, struct drm_gem_close)`.
pub const DRM_IOCTL_GEM_CLOSE: u32 = iow(DRM_IOCTL_BASE, 0x09, size_of::<DrmGemClose>());
/// `DRM_IOCTL_PRIME_HANDLE_TO_FD` = `DRM_IOWR(0x2d, struct drm_prime_handle)`.
pub const DRM_IOCTL_PRIME_HANDLE_TO_FD: u32 =
    iowr(DRM_IOCTL_BASE, 0x2d, size_of::<DrmPrimeHandle>());
/// `DRM_IOCTL_PRIME_FD_TO_HANDLE` = `DRM_IOWR(0x2e, struct drm_prime_handle)`.
pub const DRM_IOCTL_PRIME_FD_TO_HANDLE: u32 =
    iowr(DRM_IOCTL_BASE, 0x2e, size_of::<DrmPrimeHandle>());
/// `DRM_IOCTL_MODE_CREATE_DUMB` = `DRM_IOWR(0xb2, struct drm_mode_create_dumb)`.
pub const DRM_IOCTL_MODE_CREATE_DUMB: u32 =
    iowr(DRM_IOCTL_BASE, 0xb2, size_of::<DrmModeCreateDumb>());
/// `DRM_IOCTL_MODE_MAP_DUMB` = `DRM_IOWR(0xb3, struct drm_mode_map_dumb)`.
pub const DRM_IOCTL_MODE_MAP_DUMB: u32 = iowr(DRM_IOCTL_BASE, 0xb3, size_of::<DrmModeMapDumb>());
/// `DRM_IOCTL_MODE_DESTROY_DUMB` = `DRM_IOWR(0xb4, struct drm_mode_destroy_dumb)`.
pub const DRM_IOCTL_MODE_DESTROY_DUMB: u32 =
    iowr(DRM_IOCTL_BASE, 0xb4, size_of::<DrmModeDestroyDumb>());

/// Issues ioctl `cmd` with `arg`, retrying on `EINTR` and `EAGAIN` as libdrm's `drmIoctl`
/// does. `op` names the ioctl in the error.
///
/// # Safety
///
/// `cmd` must be an ioctl whose argument is a `T` (its encoded size is `size_of::<T>()`), and
/// any user pointer inside `*arg` must be valid for whatever the ioctl does through it (read
/// or write) for the duration of the call.
pub unsafe fn ioctl<T>(fd: BorrowedFd<'_>, op: &'static str, cmd: u32, arg: &mut T) -> Result<()> {
    loop {
        // SAFETY: `arg` is a live, exclusively borrowed `T` and `cmd` encodes its size (the
        // caller's contract), so the kernel reads and writes only inside it; pointers inside
        // it are the caller's responsibility.
        let r = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                cmd as libc::c_ulong,
                std::ptr::from_mut(arg),
            )
        };
        if r >= 0 {
            return Ok(());
        }
        let e = Error::last_os_error(op);
        if !e.is(libc::EINTR) && !e.is(libc::EAGAIN) {
            return Err(e);
        }
    }
}

/// `_IOC_SIZE` of an ioctl number.
pub const fn ioc_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_linux_x86_64() {
        // The values a C compiler computes from drm.h on x86-64.
        assert_eq!(DRM_IOCTL_VERSION, 0xc040_6400);
        assert_eq!(DRM_IOCTL_GEM_CLOSE, 0x4008_6409);
        assert_eq!(DRM_IOCTL_PRIME_HANDLE_TO_FD, 0xc00c_642d);
        assert_eq!(DRM_IOCTL_PRIME_FD_TO_HANDLE, 0xc00c_642e);
        assert_eq!(DRM_IOCTL_MODE_CREATE_DUMB, 0xc020_64b2);
        assert_eq!(DRM_IOCTL_MODE_MAP_DUMB, 0xc010_64b3);
        assert_eq!(DRM_IOCTL_MODE_DESTROY_DUMB, 0xc004_64b4);
        assert_eq!((DRM_CLOEXEC, DRM_RDWR), (0o2_000_000, 2));
    }

    #[test]
    fn sizes() {
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(size_of::<DrmGemClose>(), 8);
        assert_eq!(size_of::<DrmPrimeHandle>(), 12);
        assert_eq!(size_of::<DrmModeCreateDumb>(), 32);
        assert_eq!(size_of::<DrmModeMapDumb>(), 16);
        assert_eq!(size_of::<DrmModeDestroyDumb>(), 4);
        assert_eq!(ioc_size(DRM_IOCTL_VERSION), 64);
        assert_eq!(ioc_size(nova_uapi::DRM_IOCTL_NOVA_VM_BIND), 24);
    }
}
