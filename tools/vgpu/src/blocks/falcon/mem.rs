// SPDX-License-Identifier: GPL-2.0
//! IMEM and DMEM: the falcon's two memories, and their PIO ports.
//!
//! Facts (§5.2; `ga102/dev_falcon_v4.h`): `IMEMC(i)`/`DMEMC(i)` hold a byte address in 23:2
//! (OFFS 7:2, BLK 23:8), AINCW (bit 24) advances it by 4 after each data write, DMEMC AINCR
//! (bit 25) after each data read; IMEMC SECURE is bit 28; `IMEMT(i)` TAG 15:0 tags a 256-byte
//! IMEM block.
//!
//! Model choices (not in the facts):
//! - Accesses beyond the memory size are dropped (writes) or read 0; the address still
//!   auto-increments, wrapping inside the 22-bit field.
//! - IMEMD reads do not auto-increment (the GA102 header defines no IMEMC AINCR).
//! - A write through IMEMD at the first word of a 256-byte block tags that block with the
//!   port's IMEMT value.
//! - Each 256-byte IMEM block remembers whether its last write was a secure DMA (DMATRFCMD SEC
//!   non-zero). PIO writes always leave a block non-secure, whatever IMEMC.SECURE says: facts
//!   §5.4 say GA102 has no usable PIO path for heavy-secure images, and the boot ROM model only
//!   runs HS images from secure blocks.

use super::regs::{IMEMT_TAG, MEMC_ADDR, MEMC_AINCR, MEMC_AINCW};

/// Bytes per IMEM/DMEM block (the BLK granule and the HWCFG size unit).
pub const BLOCK: usize = 256;

/// One falcon memory (IMEM or DMEM).
pub struct Memory {
    bytes: Vec<u8>,
    /// Per 256-byte block: loaded by secure DMA (IMEM only matters).
    secure: Vec<bool>,
    /// Per 256-byte block: IMEM tag.
    tags: Vec<u16>,
    /// Whether anything was written since the last scrub.
    written: bool,
}

impl Memory {
    /// A scrubbed memory of `size` bytes (a multiple of 256).
    pub fn new(size: usize) -> Self {
        let blocks = size / BLOCK;
        Memory {
            bytes: vec![0; blocks * BLOCK],
            secure: vec![false; blocks],
            tags: vec![0; blocks],
            written: false,
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Scrubs: all zero, no secure blocks, no tags.
    pub fn scrub(&mut self) {
        self.bytes.fill(0);
        self.secure.fill(false);
        self.tags.fill(0);
        self.written = false;
    }

    /// Whether anything was written since the last scrub.
    pub fn written(&self) -> bool {
        self.written
    }

    /// `len` bytes at `at`, if all inside.
    pub fn get(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.bytes.get(at..at.checked_add(len)?)
    }

    /// A little-endian u32 at `at`.
    pub fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.get(at, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A little-endian u16 at `at`.
    pub fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.get(at, 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Writes `data` at `at` and marks the blocks it touches secure or not. `false` (and
    /// nothing written) if it does not fit.
    pub fn store(&mut self, at: usize, data: &[u8], secure: bool) -> bool {
        let Some(end) = at.checked_add(data.len()) else {
            return false;
        };
        let Some(dst) = self.bytes.get_mut(at..end) else {
            return false;
        };
        dst.copy_from_slice(data);
        if !data.is_empty() {
            for b in at / BLOCK..=(end - 1) / BLOCK {
                if let Some(s) = self.secure.get_mut(b) {
                    *s = secure;
                }
            }
        }
        self.written = true;
        true
    }

    /// Whether every block overlapping `[at, at + len)` was loaded by secure DMA.
    pub fn all_secure(&self, at: usize, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        let Some(end) = at.checked_add(len) else {
            return false;
        };
        (at / BLOCK..=(end - 1) / BLOCK).all(|b| self.secure.get(b).copied().unwrap_or(false))
    }

    /// The tag of the block holding byte `at`.
    pub fn tag(&self, at: usize) -> Option<u16> {
        self.tags.get(at / BLOCK).copied()
    }

    fn set_tag(&mut self, at: usize, tag: u16) {
        if let Some(t) = self.tags.get_mut(at / BLOCK) {
            *t = tag;
        }
    }
}

/// The next address after an access at `ctrl`'s address, inside the address field.
fn advance(ctrl: u32) -> u32 {
    (ctrl & !MEMC_ADDR) | ((ctrl & MEMC_ADDR).wrapping_add(4) & MEMC_ADDR)
}

/// One IMEM PIO port: IMEMC, IMEMT (IMEMD is the access).
#[derive(Clone, Copy, Default)]
pub struct ImemPort {
    /// IMEMC as written (address advanced by auto-increment).
    pub ctrl: u32,
    /// IMEMT.
    pub tag: u32,
}

impl ImemPort {
    /// IMEMT write.
    pub fn set_tag(&mut self, v: u32) {
        self.tag = v & IMEMT_TAG;
    }

    /// IMEMD write.
    pub fn write(&mut self, mem: &mut Memory, val: u32) {
        let at = (self.ctrl & MEMC_ADDR) as usize;
        if mem.store(at, &val.to_le_bytes(), false) && at.is_multiple_of(BLOCK) {
            mem.set_tag(at, self.tag as u16);
        }
        if self.ctrl & MEMC_AINCW != 0 {
            self.ctrl = advance(self.ctrl);
        }
    }

    /// IMEMD read (no auto-increment).
    pub fn read(&self, mem: &Memory) -> u32 {
        mem.u32_at((self.ctrl & MEMC_ADDR) as usize).unwrap_or(0)
    }
}

/// One DMEM PIO port: DMEMC (DMEMD is the access).
#[derive(Clone, Copy, Default)]
pub struct DmemPort {
    /// DMEMC as written (address advanced by auto-increment).
    pub ctrl: u32,
}

impl DmemPort {
    /// DMEMD write.
    pub fn write(&mut self, mem: &mut Memory, val: u32) {
        mem.store((self.ctrl & MEMC_ADDR) as usize, &val.to_le_bytes(), false);
        if self.ctrl & MEMC_AINCW != 0 {
            self.ctrl = advance(self.ctrl);
        }
    }

    /// DMEMD read.
    pub fn read(&mut self, mem: &Memory) -> u32 {
        let v = mem.u32_at((self.ctrl & MEMC_ADDR) as usize).unwrap_or(0);
        if self.ctrl & MEMC_AINCR != 0 {
            self.ctrl = advance(self.ctrl);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_bounds_and_secure_blocks() {
        let mut m = Memory::new(0x1000);
        assert!(!m.written());
        assert!(m.store(0x100, &[1; 0x200], true));
        assert!(m.all_secure(0x100, 0x200));
        assert!(!m.all_secure(0, 0x200));
        assert!(m.store(0x180, &[2; 4], false), "a PIO word");
        assert!(!m.all_secure(0x100, 0x200));
        assert!(!m.store(0xffe, &[0; 4], false), "straddles the end");
        assert!(!m.store(usize::MAX, &[0; 4], false));
        assert_eq!(m.u32_at(0x180), Some(0x0202_0202));
        assert_eq!(m.u32_at(0xffe), None);
        assert!(m.written());
        m.scrub();
        assert_eq!(m.u32_at(0x180), Some(0));
        assert!(!m.written() && !m.all_secure(0x100, 1));
    }

    #[test]
    fn imem_port_auto_increments_on_write_and_tags_blocks() {
        let mut m = Memory::new(0x1000);
        let mut p = ImemPort {
            ctrl: 0x100 | MEMC_AINCW,
            ..Default::default()
        };
        p.set_tag(0x1_0042);
        assert_eq!(p.tag, 0x42);
        for i in 0..3 {
            p.write(&mut m, 0x1000 + i);
        }
        assert_eq!(p.ctrl, 0x10c | MEMC_AINCW);
        assert_eq!(m.u32_at(0x104), Some(0x1001));
        assert_eq!(m.tag(0x100), Some(0x42));
        p.ctrl = 0x104;
        assert_eq!(p.read(&m), 0x1001);
        assert_eq!(p.read(&m), 0x1001, "IMEMD reads do not advance");
        p.write(&mut m, 7);
        assert_eq!(p.ctrl, 0x104, "no AINCW, no advance");
        // Out of range: dropped, reads 0, the address still advances and wraps in 23:2.
        p.ctrl = MEMC_ADDR | MEMC_AINCW;
        p.write(&mut m, 9);
        assert_eq!(p.ctrl, MEMC_AINCW);
        assert!(!m.all_secure(0x100, 4), "PIO never makes a secure block");
    }

    #[test]
    fn dmem_port_auto_increments_on_read_and_write() {
        let mut m = Memory::new(0x1000);
        let mut p = DmemPort {
            ctrl: 0x20 | MEMC_AINCW,
        };
        p.write(&mut m, 0xaaaa_0001);
        p.write(&mut m, 0xaaaa_0002);
        p.ctrl = 0x20 | MEMC_AINCR;
        assert_eq!(p.read(&m), 0xaaaa_0001);
        assert_eq!(p.read(&m), 0xaaaa_0002);
        assert_eq!(p.ctrl, 0x28 | MEMC_AINCR);
        p.ctrl = 0x20;
        assert_eq!(p.read(&m), 0xaaaa_0001);
        assert_eq!(p.read(&m), 0xaaaa_0001, "no AINCR, no advance");
        p.ctrl = 0x4000;
        assert_eq!(p.read(&m), 0, "beyond DMEM");
    }
}
