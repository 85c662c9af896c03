// SPDX-License-Identifier: MIT
//! GEM objects ("buffer objects"), their CPU mappings and PRIME sharing.

use crate::drm::{DrmPrimeHandle, DRM_CLOEXEC, DRM_RDWR};
use crate::{raw, Device, Error, Result};
use nova_uapi as uapi;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// Where an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// System memory (shmem): 4 KiB granule, can be shared as a dma-buf.
    System,
    /// VRAM: 64 KiB granule, physical alignment up to 1 GiB, CPU access through BAR1.
    Vram,
}

impl Placement {
    /// The `NOVA_GEM_CREATE_*` flags of this placement.
    pub const fn flags(self) -> u32 {
        match self {
            Placement::System => 0,
            Placement::Vram => uapi::NOVA_GEM_CREATE_VRAM,
        }
    }

    /// The placement `flags` (as GEM_INFO reports them) say.
    pub const fn from_flags(flags: u32) -> Placement {
        if flags & uapi::NOVA_GEM_CREATE_VRAM != 0 {
            Placement::Vram
        } else {
            Placement::System
        }
    }

    /// The size granule objects of this placement are rounded up to.
    pub const fn granule(self) -> u64 {
        match self {
            Placement::System => 4 << 10,
            Placement::Vram => 64 << 10,
        }
    }

    /// `size` rounded up to the granule (what GEM_CREATE reports back); `None` on overflow.
    pub const fn round(self, size: u64) -> Option<u64> {
        let g = self.granule();
        match size.checked_add(g - 1) {
            Some(s) => Some(s & !(g - 1)),
            None => None,
        }
    }
}

/// The `DRM_IOCTL_NOVA_GEM_CREATE` argument for `size` bytes at `placement` with `align`.
pub fn gem_create_args(size: u64, placement: Placement, align: u64) -> uapi::DrmNovaGemCreate {
    uapi::DrmNovaGemCreate {
        size,
        flags: placement.flags(),
        handle: 0,
        align,
    }
}

/// What `DRM_IOCTL_NOVA_GEM_INFO` says about an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemInfo {
    /// `NOVA_GEM_CREATE_*` as created.
    pub flags: u32,
    /// Size in bytes.
    pub size: u64,
}

/// A GEM object of a [`Device`]: its handle is closed when the `Bo` is dropped (mappings
/// made from it stay valid: the kernel keeps the object alive while it is mapped).
#[derive(Debug)]
pub struct Bo {
    dev: Device,
    handle: u32,
    size: u64,
    flags: u32,
}

impl Bo {
    /// Creates an object of `size` bytes (rounded up to the placement's granule) at
    /// `placement`; `align` is the physical alignment of a VRAM object (0 for the default;
    /// must be 0 in system memory).
    pub fn new(dev: &Device, size: u64, placement: Placement, align: u64) -> Result<Bo> {
        let mut a = gem_create_args(size, placement, align);
        raw::gem_create(dev, &mut a)?;
        Ok(Bo::adopt(dev, a.handle, a.size, a.flags))
    }

    /// Takes ownership of `handle` (one more owner if another `Bo` already has it).
    fn adopt(dev: &Device, handle: u32, size: u64, flags: u32) -> Bo {
        dev.hold_handle(handle);
        Bo {
            dev: dev.clone(),
            handle,
            size,
            flags,
        }
    }

    /// The object's device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The GEM handle (in this object's file).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// `NOVA_GEM_CREATE_*` flags.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The placement the flags say.
    pub fn placement(&self) -> Placement {
        Placement::from_flags(self.flags)
    }

    /// `DRM_IOCTL_NOVA_GEM_INFO`.
    pub fn info(&self) -> Result<GemInfo> {
        let mut a = uapi::DrmNovaGemInfo {
            handle: self.handle,
            ..Default::default()
        };
        raw::gem_info(&self.dev, &mut a)?;
        Ok(GemInfo {
            flags: a.flags,
            size: a.size,
        })
    }

    /// `DRM_IOCTL_NOVA_GEM_MMAP_OFFSET`: the fake offset to mmap the object at.
    pub fn mmap_offset(&self) -> Result<u64> {
        let mut a = uapi::DrmNovaGemMmapOffset {
            handle: self.handle,
            ..Default::default()
        };
        raw::gem_mmap_offset(&self.dev, &mut a)?;
        Ok(a.offset)
    }

    /// Maps the whole object, shared, read-write.
    pub fn map(&self) -> Result<Mapping> {
        let len = usize::try_from(self.size).map_err(|_| Error::new("mmap", libc::EOVERFLOW))?;
        Mapping::new(self.dev.as_fd(), self.mmap_offset()?, len)
    }

    /// Exports the object as a dma-buf (`DRM_IOCTL_PRIME_HANDLE_TO_FD`, read-write,
    /// close-on-exec). VRAM objects fail with `EOPNOTSUPP`.
    pub fn export(&self) -> Result<OwnedFd> {
        let mut a = DrmPrimeHandle {
            handle: self.handle,
            flags: DRM_CLOEXEC | DRM_RDWR,
            fd: -1,
        };
        raw::prime_handle_to_fd(&self.dev, &mut a)?;
        if a.fd < 0 {
            return Err(Error::new("PRIME_HANDLE_TO_FD", libc::EBADF));
        }
        // SAFETY: the kernel installed a new file descriptor for us; nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(a.fd) })
    }

    /// Imports dma-buf `fd` into `dev` (`DRM_IOCTL_PRIME_FD_TO_HANDLE`); the size and flags
    /// come from GEM_INFO. The fd stays open (the object holds its own reference). Only nova's
    /// own dma-bufs import: another device's fails with `EINVAL` (GEM_INFO refuses the foreign
    /// object) and its handle is closed.
    pub fn import(dev: &Device, fd: BorrowedFd<'_>) -> Result<Bo> {
        let mut a = DrmPrimeHandle {
            handle: 0,
            flags: 0,
            fd: fd.as_raw_fd(),
        };
        raw::prime_fd_to_handle(dev, &mut a)?;
        let mut bo = Bo::adopt(dev, a.handle, 0, 0);
        // On failure `bo` is dropped, which closes the handle.
        let info = bo.info()?;
        bo.size = info.size;
        bo.flags = info.flags;
        Ok(bo)
    }
}

impl Drop for Bo {
    fn drop(&mut self) {
        let _ = self.dev.release_handle(self.handle);
    }
}

/// A shared read-write CPU mapping, unmapped on drop. The memory may also be written by the
/// GPU or another process; [`Mapping::read_u32`]/[`Mapping::write_u32`] are volatile.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; moving it to another thread or
// sharing `&Mapping` (read-only access) between threads is as safe as for a `Vec<u8>`.
unsafe impl Send for Mapping {}
// SAFETY: see above; writes need `&mut Mapping`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `fd` at `offset`, shared, read-write.
    pub fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> Result<Mapping> {
        if len == 0 {
            return Err(Error::new("mmap", libc::EINVAL));
        }
        let off = libc::off_t::try_from(offset).map_err(|_| Error::new("mmap", libc::EOVERFLOW))?;
        // SAFETY: a new mapping at an address the kernel picks; it aliases no Rust object.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Error::last_os_error("mmap"));
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or(Error::new("mmap", libc::EFAULT))?;
        Ok(Mapping { ptr, len })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: mappings have at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first byte.
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// The first byte, writable.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` readable bytes mapped at `ptr` for the lifetime of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` writable bytes mapped at `ptr`, borrowed exclusively through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn word(&self, off: usize) -> *mut u32 {
        assert!(
            off.is_multiple_of(4) && off.checked_add(4).is_some_and(|e| e <= self.len),
            "offset {off:#x} out of a {:#x}-byte mapping or unaligned",
            self.len
        );
        self.ptr.as_ptr().wrapping_add(off).cast::<u32>()
    }

    /// Volatile 32-bit read at byte offset `off` (4-byte aligned, inside the mapping).
    pub fn read_u32(&self, off: usize) -> u32 {
        // SAFETY: `word` checked the offset is aligned and inside the mapping.
        unsafe { std::ptr::read_volatile(self.word(off)) }
    }

    /// Volatile 32-bit write at byte offset `off` (4-byte aligned, inside the mapping).
    pub fn write_u32(&mut self, off: usize, v: u32) {
        // SAFETY: as in read_u32, and `&mut self` makes the write exclusive on our side.
        unsafe { std::ptr::write_volatile(self.word(off), v) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what mmap returned; no borrow of it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_flags_and_rounding() {
        assert_eq!(Placement::System.flags(), 0);
        assert_eq!(Placement::Vram.flags(), uapi::NOVA_GEM_CREATE_VRAM);
        assert_eq!(Placement::from_flags(1), Placement::Vram);
        assert_eq!(Placement::from_flags(0), Placement::System);
        assert_eq!(Placement::System.round(1), Some(4096));
        assert_eq!(Placement::System.round(4096), Some(4096));
        assert_eq!(Placement::System.round(4097), Some(8192));
        assert_eq!(Placement::Vram.round(4096), Some(64 << 10));
        assert_eq!(Placement::Vram.round((64 << 10) + 1), Some(128 << 10));
        assert_eq!(Placement::Vram.round(u64::MAX), None);
    }

    #[test]
    fn create_args() {
        let a = gem_create_args(5000, Placement::Vram, 2 << 20);
        assert_eq!(
            a,
            uapi::DrmNovaGemCreate {
                size: 5000,
                flags: 1,
                handle: 0,
                align: 2 << 20
            }
        );
    }

    fn memfd(len: u64) -> OwnedFd {
        // SAFETY: memfd_create with a static name; the result is checked.
        let fd = unsafe { libc::memfd_create(c"libnova-test".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: a fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: resizing our own memfd.
        assert_eq!(unsafe { libc::ftruncate(fd.as_raw_fd(), len as i64) }, 0);
        fd
    }

    #[test]
    fn mapping_reads_writes_and_unmaps() {
        let fd = memfd(8192);
        let mut m = Mapping::new(fd.as_fd(), 0, 8192).unwrap();
        assert_eq!((m.len(), m.is_empty()), (8192, false));
        m.write_u32(4096, 0xdead_beef);
        m.as_mut_slice()[0] = 7;
        let other = Mapping::new(fd.as_fd(), 4096, 4096).unwrap();
        // Shared: a second mapping of the same pages sees the writes.
        assert_eq!(other.read_u32(0), 0xdead_beef);
        assert_eq!(m.as_slice()[0], 7);
        drop(m);
        assert_eq!(other.read_u32(0), 0xdead_beef);
    }

    #[test]
    #[should_panic(expected = "out of a")]
    fn mapping_checks_offsets() {
        let fd = memfd(4096);
        let m = Mapping::new(fd.as_fd(), 0, 4096).unwrap();
        m.read_u32(4094);
    }

    #[test]
    fn mapping_errors_carry_errno() {
        let fd = memfd(4096);
        assert_eq!(
            Mapping::new(fd.as_fd(), 0, 0).unwrap_err().errno(),
            libc::EINVAL
        );
        // Misaligned offset.
        assert_eq!(
            Mapping::new(fd.as_fd(), 1, 4096).unwrap_err().errno(),
            libc::EINVAL
        );
        let null = std::fs::File::open("/dev/null").unwrap();
        // /dev/null cannot be mapped shared read-write (opened read-only).
        assert_eq!(
            Mapping::new(null.as_fd(), 0, 4096).unwrap_err().errno(),
            libc::EACCES
        );
    }

    #[test]
    fn bo_ioctls_on_a_non_drm_file_fail_with_enotty() {
        let d = Device::open_path("/dev/null").unwrap();
        let e = Bo::new(&d, 4096, Placement::System, 0).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("GEM_CREATE", libc::ENOTTY));
        let fd = memfd(4096);
        let e = Bo::import(&d, fd.as_fd()).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("PRIME_FD_TO_HANDLE", libc::ENOTTY));
    }
}
