// SPDX-License-Identifier: GPL-2.0
//! Device access to guest memory (DMA). QEMU shares the guest's RAM as file descriptors in
//! vfio-user `DMA_MAP`; the device maps them and reads or writes guest physical addresses
//! directly. (This is why the guest RAM must be a shared memfd.)

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

/// Guest memory shared between the [`crate::server::Device`] (which maps and unmaps it as QEMU
/// asks) and the blocks that do DMA (the falcons). A `Mutex` rather than an `RwLock`:
/// [`GuestMemory`] is `Send` but not `Sync` (raw pointers), and the device serves one message at
/// a time, so there is no contention.
pub type SharedGuestMemory = Arc<Mutex<GuestMemory>>;

/// A DMA failure: the address range is not (entirely) guest memory the device may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaFault {
    /// First address of the failing access.
    pub addr: u64,
    /// Its length.
    pub len: usize,
}

impl std::fmt::Display for DmaFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DMA to unmapped guest memory at {:#x} (+{:#x})",
            self.addr, self.len
        )
    }
}

struct Mapping {
    gpa: u64,
    size: u64,
    host: *mut u8,
}

// SAFETY: `host` points into a MAP_SHARED mapping owned by this `Mapping` (unmapped only in
// `Drop`); the memory is guest RAM that other threads and the guest also touch, which is the
// nature of DMA and handled with volatile-free byte copies of plain data.
unsafe impl Send for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `host`/`size` are exactly what mmap returned for this mapping, and no
        // reference into it outlives the `Mapping` (all access copies bytes out or in).
        unsafe { libc::munmap(self.host.cast(), self.size as usize) };
    }
}

/// The guest memory the device can reach.
#[derive(Default)]
pub struct GuestMemory {
    maps: Vec<Mapping>,
}

impl GuestMemory {
    /// Empty: no DMA possible until QEMU maps memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `size` bytes of `fd` at `fd_offset` as guest physical `gpa`.
    pub fn map(&mut self, gpa: u64, size: u64, fd: &File, fd_offset: u64) -> std::io::Result<()> {
        let len =
            usize::try_from(size).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        if len == 0 || gpa.checked_add(size).is_none() {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        let off = libc::off_t::try_from(fd_offset)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a fresh shared mapping of a descriptor we were given; the kernel picks the
        // address, so no existing memory is affected. The result is checked for MAP_FAILED.
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
            return Err(std::io::Error::last_os_error());
        }
        self.maps.push(Mapping {
            gpa,
            size,
            host: p.cast(),
        });
        Ok(())
    }

    /// Unmaps the region starting at `gpa` with `size` (or everything with `all`).
    pub fn unmap(&mut self, gpa: u64, size: u64, all: bool) -> usize {
        let before = self.maps.len();
        self.maps
            .retain(|m| !(all || (m.gpa == gpa && m.size == size)));
        before - self.maps.len()
    }

    /// Finds the host pointer for `[addr, addr+len)` if one mapping holds it all.
    fn host(&self, addr: u64, len: usize) -> Result<*mut u8, DmaFault> {
        let fault = DmaFault { addr, len };
        let end = addr.checked_add(len as u64).ok_or(DmaFault { addr, len })?;
        let m = self
            .maps
            .iter()
            .find(|m| m.gpa <= addr && end <= m.gpa + m.size)
            .ok_or(fault)?;
        // SAFETY: `addr - m.gpa < m.size`, so the offset stays inside the mapping.
        Ok(unsafe { m.host.add((addr - m.gpa) as usize) })
    }

    /// Reads guest memory at `addr` into `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        let src = self.host(addr, buf.len())?;
        // SAFETY: `host` proved `[src, src+len)` lies in one live mapping; `buf` is a distinct
        // Rust allocation, so the ranges do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Writes `buf` to guest memory at `addr`.
    pub fn write(&self, addr: u64, buf: &[u8]) -> Result<(), DmaFault> {
        let dst = self.host(addr, buf.len())?;
        // SAFETY: as in `read`, with the direction reversed.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, buf.len()) };
        Ok(())
    }

    /// Number of mapped regions.
    pub fn regions(&self) -> usize {
        self.maps.len()
    }
}

/// A memfd of `size` bytes (device memory that QEMU maps into the guest, or test "guest RAM").
pub fn memfd(name: &std::ffi::CStr, size: u64) -> std::io::Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: `name` is a valid C string; the result is checked.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor owned by nothing else.
    let f = unsafe { File::from_raw_fd(fd) };
    f.set_len(size)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_shared_fd() {
        let ram = memfd(c"test-ram", 1 << 20).unwrap();
        let mut g = GuestMemory::new();
        g.map(0x10_0000, 1 << 20, &ram, 0).unwrap();
        g.write(0x10_0100, b"hello guest").unwrap();
        let mut b = [0u8; 11];
        g.read(0x10_0100, &mut b).unwrap();
        assert_eq!(&b, b"hello guest");
        // A second, independent mapping of the same fd sees the write (shared memory).
        let mut g2 = GuestMemory::new();
        g2.map(0, 4096, &ram, 0).unwrap();
        let mut c = [0u8; 5];
        g2.read(0x100, &mut c).unwrap();
        assert_eq!(&c, b"hello");
    }

    #[test]
    fn faults_outside_mappings() {
        let ram = memfd(c"test-ram", 8192).unwrap();
        let mut g = GuestMemory::new();
        assert_eq!(g.read(0, &mut [0u8; 4]), Err(DmaFault { addr: 0, len: 4 }));
        g.map(0x1000, 8192, &ram, 0).unwrap();
        assert!(g.write(0x2ffe, &[0u8; 4]).is_err()); // straddles the end
        assert!(g.write(u64::MAX - 1, &[0u8; 4]).is_err()); // wraps
        assert!(g.map(u64::MAX - 10, 4096, &ram, 0).is_err());
        assert_eq!(g.unmap(0x1000, 8192, false), 1);
        assert_eq!(g.regions(), 0);
    }
}
