// SPDX-License-Identifier: GPL-2.0
//! The board's video memory (VRAM, "FB"): what page tables, instance blocks and BAR1/PRAMIN
//! accesses read and write. The chip profile gives its size (24 GiB on GA102, docs/facts/ga102.md §3); the
//! model keeps it sparse, in 64 KiB chunks allocated on the first write of non-zero data, so a
//! fresh board reads 0 everywhere and costs nothing until the guest fills it. Contents survive a
//! function-level reset (DRAM is not cleared by it) and are lost when the process ends.
//!
//! [`Vram`] is a cloneable handle; the PRAMIN window, the BAR1 path, the MMU walker and the
//! GSP-RM model share one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Allocation granule of the sparse store.
pub const CHUNK: u64 = 64 << 10;

/// An access that does not lie inside VRAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VramFault {
    /// First byte of the access.
    pub addr: u64,
    /// Its length.
    pub len: usize,
}

impl std::fmt::Display for VramFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "VRAM access {:#x}+{:#x} past the end",
            self.addr, self.len
        )
    }
}

struct Store {
    size: u64,
    chunks: HashMap<u64, Box<[u8]>>,
}

/// Shared handle to the VRAM contents.
#[derive(Clone)]
pub struct Vram(Arc<Mutex<Store>>);

impl Vram {
    /// `size` bytes of zeroed VRAM.
    pub fn new(size: u64) -> Self {
        Vram(Arc::new(Mutex::new(Store {
            size,
            chunks: HashMap::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.lock().size
    }

    fn check(size: u64, addr: u64, len: usize) -> Result<(), VramFault> {
        let end = addr.checked_add(len as u64);
        match end {
            Some(e) if e <= size => Ok(()),
            _ => Err(VramFault { addr, len }),
        }
    }

    /// Reads `buf.len()` bytes at `addr`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), VramFault> {
        let s = self.lock();
        Self::check(s.size, addr, buf.len())?;
        let mut done = 0;
        while done < buf.len() {
            let a = addr + done as u64;
            let (chunk, off) = (a / CHUNK, (a % CHUNK) as usize);
            let n = (CHUNK as usize - off).min(buf.len() - done);
            match s.chunks.get(&chunk) {
                Some(c) => buf[done..done + n].copy_from_slice(&c[off..off + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
        }
        Ok(())
    }

    /// Writes `buf` at `addr`.
    pub fn write(&self, addr: u64, buf: &[u8]) -> Result<(), VramFault> {
        let mut s = self.lock();
        Self::check(s.size, addr, buf.len())?;
        let mut done = 0;
        while done < buf.len() {
            let a = addr + done as u64;
            let (chunk, off) = (a / CHUNK, (a % CHUNK) as usize);
            let n = (CHUNK as usize - off).min(buf.len() - done);
            let data = &buf[done..done + n];
            match s.chunks.get_mut(&chunk) {
                Some(c) => c[off..off + n].copy_from_slice(data),
                // Zeros into an untouched chunk change nothing: keep it sparse.
                None if data.iter().all(|&b| b == 0) => {}
                None => {
                    let mut c = vec![0u8; CHUNK as usize].into_boxed_slice();
                    c[off..off + n].copy_from_slice(data);
                    s.chunks.insert(chunk, c);
                }
            }
            done += n;
        }
        Ok(())
    }

    /// Reads a little-endian u32.
    pub fn read_u32(&self, addr: u64) -> Result<u32, VramFault> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian u64.
    pub fn read_u64(&self, addr: u64) -> Result<u64, VramFault> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a little-endian u32.
    pub fn write_u32(&self, addr: u64, v: u32) -> Result<(), VramFault> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Writes a little-endian u64.
    pub fn write_u64(&self, addr: u64, v: u64) -> Result<(), VramFault> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Bytes of host memory the store holds (tests; shows it stays sparse).
    pub fn resident(&self) -> u64 {
        self.lock().chunks.len() as u64 * CHUNK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zero_until_written_and_stays_sparse() {
        let v = Vram::new(24 << 30);
        assert_eq!(v.size(), 24 << 30);
        assert_eq!(v.read_u64((24 << 30) - 8), Ok(0));
        v.write(0x1000, &[0; 4096]).unwrap();
        assert_eq!(v.resident(), 0, "zeros allocate nothing");
        v.write_u32(0x5_f3e0_1000, 0xdead_beef).unwrap();
        assert_eq!(v.resident(), CHUNK);
        assert_eq!(v.read_u32(0x5_f3e0_1000), Ok(0xdead_beef));
        assert_eq!(v.read_u32(0x5_f3e0_1004), Ok(0));
    }

    #[test]
    fn accesses_across_chunks_and_past_the_end() {
        let v = Vram::new(4 * CHUNK);
        let data: Vec<u8> = (0..200u8).collect();
        v.write(CHUNK - 100, &data).unwrap();
        let mut back = vec![0u8; 200];
        v.read(CHUNK - 100, &mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(v.resident(), 2 * CHUNK);
        assert_eq!(
            v.write_u32(4 * CHUNK - 2, 1),
            Err(VramFault {
                addr: 4 * CHUNK - 2,
                len: 4
            })
        );
        assert!(v.read(u64::MAX - 1, &mut [0u8; 4]).is_err());
        // A clone is the same memory.
        let w = v.clone();
        w.write_u64(8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(v.read_u64(8), Ok(0x1122_3344_5566_7788));
    }
}
