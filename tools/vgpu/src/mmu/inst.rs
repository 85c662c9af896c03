// SPDX-License-Identifier: GPL-2.0
//! The instance block (RAMIN, 4 KiB): the memory-management words an engine, BAR1 or BAR2
//! binds to find its VA space (docs/facts/ga102.md §12.3; OD `ampere/ga100/dev_ram.ref.txt`).
//!
//! | Word | Field | Bits | Source (dev_ram.ref.txt) |
//! |---|---|---|---|
//! | 128 | PAGE_DIR_BASE_TARGET (0 VID_MEM, 1 INVALID, 2 SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT) | 1:0 | L188-197 |
//! | 128 | PAGE_DIR_BASE_VOL | 2 | L199-204 |
//! | 128 | FAULT_REPLAY_TEX / FAULT_REPLAY_GCC | 4 / 5 | L207-215 |
//! | 128 | USE_VER2_PT_FORMAT | 10 | L217-226 |
//! | 128 | BIG_PAGE_SIZE (0 128 KiB, 1 64 KiB) | 11 | L228-235 |
//! | 128 / 129 | PAGE_DIR_BASE_LO = PDB bits 31:12 / PAGE_DIR_BASE_HI = PDB bits 63:32 | 31:12 / 31:0 | L237-243 |
//! | 135 | ENABLE_ATS | 31 | L261-263 |
//! | 166-167 | SC_PDB_VALID(i), i < 64 | bit i | L280-283 |
//! | 168 + 4i / 169 + 4i | SC_PAGE_DIR_BASE_*(i): the layout of words 128/129 | | L306-366 |
//!
//! The manual says which settings cannot be bound: TARGET INVALID "unbinds", and "Volta only
//! supports the new format" / "only supports 64KB for big pages", both answered by an
//! `UNBOUND_INSTANCE` fault (L190-192, L221, L231). This GA100 manual is the closest published
//! one for GA102; the model applies the same rules.

use super::format::{Aperture, BigPage};
use super::walk::{FaultType, Pdb, PhysMem};

/// Size of an instance block (`NV_RAMIN_ALLOC_SIZE`, 4 KiB aligned: `NV_RAMIN_BASE_SHIFT` 12).
pub const SIZE: usize = 4096;
/// Word index of PAGE_DIR_BASE (lo; hi is the next word).
pub const PAGE_DIR_BASE_WORD: usize = 128;
/// Word index of ENABLE_ATS.
pub const ENABLE_ATS_WORD: usize = 135;
/// Word index of SC_PDB_VALID (64 bits over two words).
pub const SC_PDB_VALID_WORD: usize = 166;
/// Word index of SC_PAGE_DIR_BASE(0).
pub const SC_PAGE_DIR_BASE_WORD: usize = 168;
/// Number of subcontexts.
pub const SUBCONTEXTS: usize = 64;

/// PAGE_DIR_BASE_TARGET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// VID_MEM (0).
    Video,
    /// INVALID (1): unbinds.
    Invalid,
    /// SYS_MEM_COHERENT (2).
    SysCoherent,
    /// SYS_MEM_NONCOHERENT (3).
    SysNonCoherent,
}

impl Target {
    /// From the 2-bit field.
    pub fn from_bits(v: u32) -> Target {
        match v & 3 {
            0 => Target::Video,
            1 => Target::Invalid,
            2 => Target::SysCoherent,
            _ => Target::SysNonCoherent,
        }
    }

    /// The 2-bit field.
    pub fn bits(self) -> u32 {
        match self {
            Target::Video => 0,
            Target::Invalid => 1,
            Target::SysCoherent => 2,
            Target::SysNonCoherent => 3,
        }
    }

    /// The memory aperture, None for INVALID.
    pub fn aperture(self) -> Option<Aperture> {
        match self {
            Target::Video => Some(Aperture::Video),
            Target::Invalid => None,
            Target::SysCoherent => Some(Aperture::SysCoherent),
            Target::SysNonCoherent => Some(Aperture::SysNonCoherent),
        }
    }
}

/// One PAGE_DIR_BASE pair of words (the context's own, or a subcontext's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageDirBase {
    /// PAGE_DIR_BASE_TARGET.
    pub target: Target,
    /// PAGE_DIR_BASE_VOL.
    pub vol: bool,
    /// FAULT_REPLAY_TEX.
    pub fault_replay_tex: bool,
    /// FAULT_REPLAY_GCC.
    pub fault_replay_gcc: bool,
    /// USE_VER2_PT_FORMAT.
    pub ver2: bool,
    /// BIG_PAGE_SIZE = 64KB (1); 128 KiB otherwise.
    pub big_page_64k: bool,
    /// PDB physical address (bits 63:12).
    pub addr: u64,
}

impl PageDirBase {
    /// Decodes the two words.
    pub fn decode(lo: u32, hi: u32) -> PageDirBase {
        PageDirBase {
            target: Target::from_bits(lo),
            vol: lo & (1 << 2) != 0,
            fault_replay_tex: lo & (1 << 4) != 0,
            fault_replay_gcc: lo & (1 << 5) != 0,
            ver2: lo & (1 << 10) != 0,
            big_page_64k: lo & (1 << 11) != 0,
            addr: (u64::from(hi) << 32) | u64::from(lo & 0xffff_f000),
        }
    }

    /// The two words.
    pub fn encode(&self) -> (u32, u32) {
        let lo = self.target.bits()
            | (u32::from(self.vol) << 2)
            | (u32::from(self.fault_replay_tex) << 4)
            | (u32::from(self.fault_replay_gcc) << 5)
            | (u32::from(self.ver2) << 10)
            | (u32::from(self.big_page_64k) << 11)
            | (self.addr as u32 & 0xffff_f000);
        (lo, (self.addr >> 32) as u32)
    }

    /// The VA space a bind of this entry gives, or the `UNBOUND_INST_BLOCK` fault it causes.
    pub fn pdb(&self) -> Result<Pdb, FaultType> {
        let aperture = self.target.aperture().ok_or(FaultType::UnboundInstBlock)?;
        if !self.ver2 || !self.big_page_64k {
            return Err(FaultType::UnboundInstBlock);
        }
        Ok(Pdb {
            aperture,
            addr: self.addr,
            big_page: BigPage::K64,
        })
    }
}

/// The memory-management part of an instance block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstBlock {
    /// The context's own PAGE_DIR_BASE (words 128/129), used by non-subcontext clients (BAR1,
    /// Host, CE, the video engines: L297-299).
    pub page_dir: PageDirBase,
    /// ENABLE_ATS.
    pub ats: bool,
    /// SC_PDB_VALID, bit i for subcontext i.
    pub sc_valid: u64,
    /// SC_PAGE_DIR_BASE(i).
    pub sc: Vec<PageDirBase>,
}

fn word(b: &[u8], i: usize) -> u32 {
    b.get(4 * i..4 * i + 4)
        .map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

impl InstBlock {
    /// Decodes the 4 KiB block `b` (shorter input reads as zeros).
    pub fn decode(b: &[u8]) -> InstBlock {
        let w = |i| word(b, i);
        InstBlock {
            page_dir: PageDirBase::decode(w(PAGE_DIR_BASE_WORD), w(PAGE_DIR_BASE_WORD + 1)),
            ats: w(ENABLE_ATS_WORD) & (1 << 31) != 0,
            sc_valid: u64::from(w(SC_PDB_VALID_WORD)) | (u64::from(w(SC_PDB_VALID_WORD + 1)) << 32),
            sc: (0..SUBCONTEXTS)
                .map(|i| {
                    let at = SC_PAGE_DIR_BASE_WORD + 4 * i;
                    PageDirBase::decode(w(at), w(at + 1))
                })
                .collect(),
        }
    }

    /// Reads and decodes the block at `addr` in `aperture`; None if it cannot be read.
    pub fn read(mem: &dyn PhysMem, aperture: Aperture, addr: u64) -> Option<InstBlock> {
        let mut b = vec![0u8; SIZE];
        mem.read(aperture, addr, &mut b)
            .then(|| InstBlock::decode(&b))
    }

    /// Subcontext `i`'s PAGE_DIR_BASE, if SC_PDB_VALID(i) is set.
    pub fn subcontext(&self, i: usize) -> Option<PageDirBase> {
        (i < SUBCONTEXTS && self.sc_valid & (1 << i) != 0).then(|| self.sc[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::mem::testing::{Rig, GPA};

    fn put_words(b: &mut [u8], i: usize, v: u32) {
        b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn page_dir_base_fields() {
        // VID_MEM, VOL, both replay bits, VER2, 64 KiB, PDB 0x5_f3e0_1000.
        let lo = 0xf3e0_1000 | (1 << 11) | (1 << 10) | (1 << 5) | (1 << 4) | (1 << 2);
        let p = PageDirBase::decode(lo, 5);
        assert_eq!(p.target, Target::Video);
        assert!(p.vol && p.fault_replay_tex && p.fault_replay_gcc && p.ver2 && p.big_page_64k);
        assert_eq!(p.addr, 0x5_f3e0_1000);
        assert_eq!(p.encode(), (lo, 5));
        assert_eq!(
            p.pdb(),
            Ok(Pdb {
                aperture: Aperture::Video,
                addr: 0x5_f3e0_1000,
                big_page: BigPage::K64
            })
        );
        let sys = PageDirBase::decode(3 | (3 << 10) | 0x1000, 0);
        assert_eq!(sys.pdb().map(|p| p.aperture), Ok(Aperture::SysNonCoherent));
        assert_eq!(
            PageDirBase::decode(2 | (3 << 10), 0)
                .pdb()
                .map(|p| p.aperture),
            Ok(Aperture::SysCoherent)
        );
    }

    #[test]
    fn settings_that_cannot_be_bound() {
        let good = PageDirBase::decode(3 << 10, 0);
        assert!(good.pdb().is_ok());
        for bad in [
            PageDirBase {
                target: Target::Invalid,
                ..good
            },
            PageDirBase {
                ver2: false,
                ..good
            },
            PageDirBase {
                big_page_64k: false,
                ..good
            },
        ] {
            assert_eq!(bad.pdb(), Err(FaultType::UnboundInstBlock), "{bad:?}");
        }
    }

    #[test]
    fn block_with_subcontexts() {
        let mut b = vec![0u8; SIZE];
        let main = PageDirBase::decode(0x1234_5000 | (3 << 10), 0x1);
        put_words(&mut b, 128, main.encode().0);
        put_words(&mut b, 129, main.encode().1);
        put_words(&mut b, 135, 1 << 31);
        put_words(&mut b, 166, 1 << 2);
        put_words(&mut b, 167, 1 << 31); // subcontext 63
        let sc2 = PageDirBase::decode(2 | 0x7000 | (3 << 10), 0);
        put_words(&mut b, 168 + 8, sc2.encode().0);
        put_words(&mut b, 168 + 4 * 63 + 1, 0xab);
        let ib = InstBlock::decode(&b);
        assert_eq!(ib.page_dir, main);
        assert!(ib.ats);
        assert_eq!(ib.subcontext(2), Some(sc2));
        assert_eq!(ib.subcontext(1), None, "SC_PDB_VALID(1) clear");
        assert_eq!(ib.subcontext(63).map(|p| p.addr), Some(0xab << 32));
        assert_eq!(ib.subcontext(64), None);
    }

    #[test]
    fn read_from_either_memory() {
        let r = Rig::new();
        let p = PageDirBase::decode(0x9000 | (3 << 10), 0);
        for (ap, at) in [
            (Aperture::Video, 0x2000u64),
            (Aperture::SysCoherent, GPA + 0x3000),
        ] {
            r.put64(ap, at + 4 * 128, u64::from(p.encode().0));
            assert_eq!(InstBlock::read(&r.mem, ap, at).map(|b| b.page_dir), Some(p));
        }
        assert_eq!(InstBlock::read(&r.mem, Aperture::SysCoherent, 0x1000), None);
        assert_eq!(InstBlock::decode(&[]).page_dir.target, Target::Video);
    }
}
