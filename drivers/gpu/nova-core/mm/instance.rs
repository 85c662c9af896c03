// SPDX-License-Identifier: GPL-2.0
//! The page-directory words of an instance block (facts sheet §12.3).
//!
//! Layout from OD `manuals/ampere/ga100/dev_ram.ref.txt` (the Ampere RAMIN manual; GA102 has
//! no separate one):
//!
//! | Word | Bits  | Field                                                    | Lines     |
//! |------|-------|----------------------------------------------------------|-----------|
//! | 128  | 1:0   | PAGE_DIR_BASE_TARGET: 0 VID, 1 INVALID, 2 SYS_COH, 3 SYS_NONCOH | L188–197  |
//! | 128  | 2     | PAGE_DIR_BASE_VOL                                        | L199–204  |
//! | 128  | 4 / 5 | PAGE_DIR_BASE_FAULT_REPLAY_TEX / _GCC                    | L207–215  |
//! | 128  | 10    | USE_VER2_PT_FORMAT (must be TRUE since Volta)            | L217–226  |
//! | 128  | 11    | BIG_PAGE_SIZE: 0 = 128 KiB, 1 = 64 KiB (must be 64 KiB) | L228–235  |
//! | 128  | 31:12 | PAGE_DIR_BASE_LO: PDB address bits 31:12                 | L237–242  |
//! | 129  | 31:0  | PAGE_DIR_BASE_HI: PDB address bits 63:32                 | L243      |
//! | 166–167 | i  | SC_PDB_VALID(i), one bit per subcontext (64)             | L280–283  |
//! | 168+4i, 169+4i | | SC_PAGE_DIR_BASE(i): the layout of words 128/129  | L301–366  |
//!
//! nouveau writes the same two words for its own address spaces (NV `vmmgp100.c`
//! `gp100_vmm_join` L583–590: VER2, 64 KiB, and the replay bits on request; `vmmgf100.c`
//! `gf100_vmm_join_` L342–363: target, VOL for coherent system memory, address). Under
//! GSP-RM, RM fills the instance blocks of the channels it creates; these words are for the
//! driver's own uses.

use super::mmu_v2::{TableAddr, TableAperture};
use super::MmuError;

/// Index of the 32-bit word holding PAGE_DIR_BASE_TARGET..PAGE_DIR_BASE_LO (byte 0x200).
pub const PAGE_DIR_BASE_WORD: usize = 128;

/// Index of the first of the two 32-bit words of SC_PDB_VALID (bit `i % 32` of word
/// `166 + i / 32` for subcontext `i`).
pub const SC_PDB_VALID_WORD: usize = 166;

/// Number of subcontexts (VEIDs) an instance block describes.
pub const SUBCONTEXTS: usize = 64;

/// Index of the first word of SC_PAGE_DIR_BASE(`subctx`), `168 + 4 * subctx`, or `None` for
/// `subctx >= 64`.
pub const fn sc_page_dir_base_word(subctx: usize) -> Option<usize> {
    if subctx >= SUBCONTEXTS {
        return None;
    }
    // subctx < 64: at most 168 + 252.
    Some(subctx.wrapping_mul(4).wrapping_add(168))
}

/// PAGE_DIR_BASE_TARGET 1:0.
const TARGET_SHIFT: u32 = 0;
/// PAGE_DIR_BASE_VOL 2.
const VOL: u32 = 1 << 2;
/// PAGE_DIR_BASE_FAULT_REPLAY_TEX 4.
const FAULT_REPLAY_TEX: u32 = 1 << 4;
/// PAGE_DIR_BASE_FAULT_REPLAY_GCC 5.
const FAULT_REPLAY_GCC: u32 = 1 << 5;
/// USE_VER2_PT_FORMAT 10, TRUE.
const USE_VER2_PT_FORMAT: u32 = 1 << 10;
/// BIG_PAGE_SIZE 11, 64KB = 1.
const BIG_PAGE_SIZE_64KB: u32 = 1 << 11;
/// PAGE_DIR_BASE_LO 31:12.
const PAGE_DIR_BASE_LO_MASK: u64 = 0xffff_f000;

/// What to put in the page-directory words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdbConfig {
    /// The root table (PD3), 4 KiB-aligned.
    pub root: TableAddr,
    /// PAGE_DIR_BASE_VOL: the GPU L2 must not cache the root.
    pub volatile: bool,
    /// FAULT_REPLAY_TEX and FAULT_REPLAY_GCC: faults of these engines are replayable.
    pub fault_replay: bool,
}

/// The two words `[w128, w129]` (also the layout of SC_PAGE_DIR_BASE(i)) for `cfg`: the GMMU
/// v2 format with 64 KiB big pages.
pub fn page_dir_base_words(cfg: &PdbConfig) -> Result<[u32; 2], MmuError> {
    let addr = cfg.root.addr;
    if addr & 0xfff != 0 {
        return Err(MmuError::Misaligned);
    }
    let target: u32 = match cfg.root.aperture {
        TableAperture::VideoMemory => 0,
        TableAperture::SystemCoherent => 2,
        TableAperture::SystemNonCoherent => 3,
    };
    let mut lo = (target << TARGET_SHIFT) | USE_VER2_PT_FORMAT | BIG_PAGE_SIZE_64KB;
    if cfg.volatile {
        lo |= VOL;
    }
    if cfg.fault_replay {
        lo |= FAULT_REPLAY_TEX | FAULT_REPLAY_GCC;
    }
    // Both casts keep exactly the bits the mask or the shift selected.
    lo |= (addr & PAGE_DIR_BASE_LO_MASK) as u32;
    Ok([lo, (addr >> 32) as u32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // Root in VRAM at 0x12_3456_7000: bits 31:12 = 0x34567 in place, VER2 | 64 KiB
        // (0xc00), high word 0x12.
        let cfg = PdbConfig {
            root: TableAddr::new(TableAperture::VideoMemory, 0x12_3456_7000),
            volatile: false,
            fault_replay: false,
        };
        assert_eq!(page_dir_base_words(&cfg), Ok([0x3456_7c00, 0x12]));
        // Coherent system memory, volatile, replayable: target 2 | VOL 4 | 0x30.
        let cfg = PdbConfig {
            root: TableAddr::new(TableAperture::SystemCoherent, 0xfedc_b000),
            volatile: true,
            fault_replay: true,
        };
        assert_eq!(page_dir_base_words(&cfg), Ok([0xfedc_bc36, 0]));
        let cfg = PdbConfig {
            root: TableAddr::new(TableAperture::SystemNonCoherent, 0x1_0000_1000),
            volatile: false,
            fault_replay: false,
        };
        assert_eq!(page_dir_base_words(&cfg), Ok([0x1c03, 1]));
        let cfg = PdbConfig {
            root: TableAddr::new(TableAperture::VideoMemory, 0x1_0000_0800),
            volatile: false,
            fault_replay: false,
        };
        assert_eq!(page_dir_base_words(&cfg), Err(MmuError::Misaligned));
    }

    #[test]
    fn subcontext_words() {
        assert_eq!(sc_page_dir_base_word(0), Some(168));
        assert_eq!(sc_page_dir_base_word(63), Some(420));
        assert_eq!(sc_page_dir_base_word(64), None);
        // nouveau's byte offsets for subcontext 0 and the valid mask (NV `vmmgv100.c`):
        // 0x2a0 and 0x298.
        assert_eq!(sc_page_dir_base_word(0).map(|w| w * 4), Some(0x2a0));
        assert_eq!(SC_PDB_VALID_WORD * 4, 0x298);
        assert_eq!(PAGE_DIR_BASE_WORD * 4, 0x200);
    }
}
