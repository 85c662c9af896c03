// SPDX-License-Identifier: MIT
//! The core DRM ioctls libnova uses, defined from `include/uapi/drm/drm.h` (Linux):
//! `DRM_IOCTL_VERSION`, `DRM_IOCTL_GEM_CLOSE`, `DRM_IOCTL_PRIME_HANDLE_TO_FD`,
//! `DRM_IOCTL_PRIME_FD_TO_HANDLE`, the dumb-buffer ioctls (for comparisons with other drivers
//! such as vgem), the generic syncobj ioctls (`DRM_IOCTL_SYNCOBJ_*`, as libdrm's `drm.h` has
//! them) and the sync_file info ioctl of `include/uapi/linux/sync_file.h`. Layouts are those of
//! 64-bit Linux.

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

/// `struct drm_syncobj_create`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjCreate {
    /// Out: the new syncobj's handle.
    pub handle: u32,
    /// In: `DRM_SYNCOBJ_CREATE_*`.
    pub flags: u32,
}

/// `struct drm_syncobj_destroy`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjDestroy {
    /// The handle.
    pub handle: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_syncobj_handle` (HANDLE_TO_FD / FD_TO_HANDLE).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjHandle {
    /// The syncobj handle.
    pub handle: u32,
    /// `DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_*` / `DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_*`.
    pub flags: u32,
    /// The fd (out for HANDLE_TO_FD, in for FD_TO_HANDLE).
    pub fd: i32,
    /// Must be 0.
    pub pad: u32,
    /// With the `_FLAGS_TIMELINE` flag: the timeline point to export from or to import into
    /// (the field came with Linux 6.16; older kernels see the 16-byte struct without it).
    pub point: u64,
}

/// `struct drm_syncobj_transfer`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjTransfer {
    /// Source syncobj.
    pub src_handle: u32,
    /// Destination syncobj.
    pub dst_handle: u32,
    /// Source point (0: binary).
    pub src_point: u64,
    /// Destination point (0: binary).
    pub dst_point: u64,
    /// `DRM_SYNCOBJ_WAIT_FLAGS_*`.
    pub flags: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_syncobj_wait`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjWait {
    /// User pointer to `count_handles` u32 handles (read).
    pub handles: u64,
    /// Absolute `CLOCK_MONOTONIC` deadline in nanoseconds.
    pub timeout_nsec: i64,
    /// Number of handles.
    pub count_handles: u32,
    /// `DRM_SYNCOBJ_WAIT_FLAGS_*`.
    pub flags: u32,
    /// Out: the first signalled handle's index (without WAIT_ALL).
    pub first_signaled: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_syncobj_timeline_wait`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjTimelineWait {
    /// User pointer to `count_handles` u32 handles (read).
    pub handles: u64,
    /// User pointer to `count_handles` u64 points (read).
    pub points: u64,
    /// Absolute `CLOCK_MONOTONIC` deadline in nanoseconds.
    pub timeout_nsec: i64,
    /// Number of handles.
    pub count_handles: u32,
    /// `DRM_SYNCOBJ_WAIT_FLAGS_*`.
    pub flags: u32,
    /// Out: the first signalled handle's index (without WAIT_ALL).
    pub first_signaled: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_syncobj_array` (RESET, SIGNAL).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjArray {
    /// User pointer to `count_handles` u32 handles (read).
    pub handles: u64,
    /// Number of handles.
    pub count_handles: u32,
    /// Must be 0.
    pub pad: u32,
}

/// `struct drm_syncobj_timeline_array` (QUERY, TIMELINE_SIGNAL).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrmSyncobjTimelineArray {
    /// User pointer to `count_handles` u32 handles (read).
    pub handles: u64,
    /// User pointer to `count_handles` u64 points: read by TIMELINE_SIGNAL, written by QUERY.
    pub points: u64,
    /// Number of handles.
    pub count_handles: u32,
    /// QUERY: `DRM_SYNCOBJ_QUERY_FLAGS_*`; TIMELINE_SIGNAL: 0.
    pub flags: u32,
}

/// `struct sync_file_info` (`include/uapi/linux/sync_file.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncFileInfo {
    /// Out: the sync file's name.
    pub name: [u8; 32],
    /// Out: 1 signalled, 0 active, negative: the fence's error.
    pub status: i32,
    /// Must be 0.
    pub flags: u32,
    /// In: room at `sync_fence_info` (0: just count); out: the number of fences.
    pub num_fences: u32,
    /// Must be 0.
    pub pad: u32,
    /// User pointer to `num_fences` `struct sync_fence_info` (written), or 0.
    pub sync_fence_info: u64,
}

/// `DRM_SYNCOBJ_CREATE_SIGNALED`: create the syncobj with a signalled fence.
pub const DRM_SYNCOBJ_CREATE_SIGNALED: u32 = 1 << 0;
/// `DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE`.
pub const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE: u32 = 1 << 0;
/// `DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE`.
pub const DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE: u32 = 1 << 0;
/// `DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE`: import the sync file into timeline point `point`.
pub const DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE: u32 = 1 << 1;
/// `DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE`: export the fence of timeline point `point`.
pub const DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE: u32 = 1 << 1;
/// `DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL`.
pub const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL: u32 = 1 << 0;
/// `DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT`: wait for a fence to be installed, too.
pub const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT: u32 = 1 << 1;
/// `DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE`: wait for the point to have a fence, not for it to
/// signal.
pub const DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE: u32 = 1 << 2;
/// `DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED`: the last point submitted, not the last signalled.
pub const DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED: u32 = 1 << 0;

/// `DRM_IOCTL_SYNCOBJ_CREATE` = `DRM_IOWR(0xBF, struct drm_syncobj_create)`.
pub const DRM_IOCTL_SYNCOBJ_CREATE: u32 = iowr(DRM_IOCTL_BASE, 0xbf, size_of::<DrmSyncobjCreate>());
/// `DRM_IOCTL_SYNCOBJ_DESTROY` = `DRM_IOWR(0xC0, struct drm_syncobj_destroy)`.
pub const DRM_IOCTL_SYNCOBJ_DESTROY: u32 =
    iowr(DRM_IOCTL_BASE, 0xc0, size_of::<DrmSyncobjDestroy>());
/// `DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD` = `DRM_IOWR(0xC1, struct drm_syncobj_handle)`.
pub const DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD: u32 =
    iowr(DRM_IOCTL_BASE, 0xc1, size_of::<DrmSyncobjHandle>());
/// `DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE` = `DRM_IOWR(0xC2, struct drm_syncobj_handle)`.
pub const DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE: u32 =
    iowr(DRM_IOCTL_BASE, 0xc2, size_of::<DrmSyncobjHandle>());
/// `DRM_IOCTL_SYNCOBJ_WAIT` = `DRM_IOWR(0xC3, struct drm_syncobj_wait)`.
pub const DRM_IOCTL_SYNCOBJ_WAIT: u32 = iowr(DRM_IOCTL_BASE, 0xc3, size_of::<DrmSyncobjWait>());
/// `DRM_IOCTL_SYNCOBJ_RESET` = `DRM_IOWR(0xC4, struct drm_syncobj_array)`.
pub const DRM_IOCTL_SYNCOBJ_RESET: u32 = iowr(DRM_IOCTL_BASE, 0xc4, size_of::<DrmSyncobjArray>());
/// `DRM_IOCTL_SYNCOBJ_SIGNAL` = `DRM_IOWR(0xC5, struct drm_syncobj_array)`.
pub const DRM_IOCTL_SYNCOBJ_SIGNAL: u32 = iowr(DRM_IOCTL_BASE, 0xc5, size_of::<DrmSyncobjArray>());
/// `DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT` = `DRM_IOWR(0xCA, struct drm_syncobj_timeline_wait)`.
pub const DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT: u32 =
    iowr(DRM_IOCTL_BASE, 0xca, size_of::<DrmSyncobjTimelineWait>());
/// `DRM_IOCTL_SYNCOBJ_QUERY` = `DRM_IOWR(0xCB, struct drm_syncobj_timeline_array)`.
pub const DRM_IOCTL_SYNCOBJ_QUERY: u32 =
    iowr(DRM_IOCTL_BASE, 0xcb, size_of::<DrmSyncobjTimelineArray>());
/// `DRM_IOCTL_SYNCOBJ_TRANSFER` = `DRM_IOWR(0xCC, struct drm_syncobj_transfer)`.
pub const DRM_IOCTL_SYNCOBJ_TRANSFER: u32 =
    iowr(DRM_IOCTL_BASE, 0xcc, size_of::<DrmSyncobjTransfer>());
/// `DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL` = `DRM_IOWR(0xCD, struct drm_syncobj_timeline_array)`.
pub const DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL: u32 =
    iowr(DRM_IOCTL_BASE, 0xcd, size_of::<DrmSyncobjTimelineArray>());
/// `SYNC_IOC_FILE_INFO` = `_IOWR('>', 4, struct sync_file_info)`.
pub const SYNC_IOC_FILE_INFO: u32 = iowr(b'>' as u32, 4, size_of::<SyncFileInfo>());

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
        // Syncobjs (drm.h layouts: drm_syncobj_handle with the 6.16 point, the waits without
        // the newer deadline fields).
        assert_eq!(DRM_IOCTL_SYNCOBJ_CREATE, 0xc008_64bf);
        assert_eq!(DRM_IOCTL_SYNCOBJ_DESTROY, 0xc008_64c0);
        assert_eq!(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, 0xc018_64c1);
        assert_eq!(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, 0xc018_64c2);
        assert_eq!(DRM_IOCTL_SYNCOBJ_WAIT, 0xc020_64c3);
        assert_eq!(DRM_IOCTL_SYNCOBJ_RESET, 0xc010_64c4);
        assert_eq!(DRM_IOCTL_SYNCOBJ_SIGNAL, 0xc010_64c5);
        assert_eq!(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, 0xc028_64ca);
        assert_eq!(DRM_IOCTL_SYNCOBJ_QUERY, 0xc018_64cb);
        assert_eq!(DRM_IOCTL_SYNCOBJ_TRANSFER, 0xc020_64cc);
        assert_eq!(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, 0xc018_64cd);
        assert_eq!(SYNC_IOC_FILE_INFO, 0xc038_3e04);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(size_of::<DrmGemClose>(), 8);
        assert_eq!(size_of::<DrmPrimeHandle>(), 12);
        assert_eq!(size_of::<DrmModeCreateDumb>(), 32);
        assert_eq!(size_of::<DrmModeMapDumb>(), 16);
        assert_eq!(size_of::<DrmModeDestroyDumb>(), 4);
        assert_eq!(size_of::<DrmSyncobjWait>(), 32);
        assert_eq!(size_of::<DrmSyncobjTimelineWait>(), 40);
        assert_eq!(size_of::<DrmSyncobjTimelineArray>(), 24);
        assert_eq!(size_of::<DrmSyncobjTransfer>(), 32);
        assert_eq!(size_of::<SyncFileInfo>(), 56);
        assert_eq!(ioc_size(DRM_IOCTL_VERSION), 64);
        assert_eq!(ioc_size(nova_uapi::DRM_IOCTL_NOVA_VM_BIND), 24);
    }
}
