// SPDX-License-Identifier: GPL-2.0
//! TLB-invalidate register values (facts sheet §12.4).
//!
//! The registers are in the virtual-function window, which the physical function sees at
//! BAR0 0xB80000 (`NV_VIRTUAL_FUNCTION_FULL_PHYS_OFFSET` 0x00BBFFFF:0x00B80000,
//! OD `manuals/ampere/ga102/dev_vm.ref.txt` L24). Fields from the same manual:
//!
//! - `MMU_INVALIDATE_PDB` (VF 0x30A0, L346–354): APERTURE 1 (0 VID_MEM, 1 SYS_MEM); ADDR 31:4
//!   = PDB >> 12 (`ADDR_ALIGNMENT` 12).
//! - `MMU_INVALIDATE_UPPER_PDB` (VF 0x30A4, L355–358): ADDR 19:0, the bits of PDB >> 12 above
//!   the 28 that `..._PDB` holds.
//! - `MMU_INVALIDATE` (VF 0x30B0, L359–418): ALL_VA 0, ALL_PDB 1, HUBTLB_ONLY 2, REPLAY 5:3,
//!   SYS_MEMBAR 6, ACK 8:7 (0 none, 1 globally, 2 intranode), CANCEL_CLIENT_ID 14:9,
//!   CANCEL_GPC_ID 19:15, CANCEL_CLIENT_TYPE 20, USE_PASID 21, USE_SIZE 22, PROP_FLUSH 23,
//!   CACHE_LEVEL 26:24, TRIGGER 31. (GA100's INVAL_SCOPE 16:15 is not in the GA102 manual.)
//!
//! `UPPER_PDB` therefore holds PDB address bits 59:40, not 51:32: the low register keeps
//! address bits 39:12 in its 28-bit field and RM writes `(pdb >> 12) >> 28` to the upper one
//! (OG `src/nvidia/src/kernel/gpu/mmu/arch/turing/kern_gmmu_tu102.c`
//! `kgmmuSetPdbToInvalidate_TU102`). The facts sheet's "PDB PA bits 51:32" is wrong; for
//! addresses below 2^40 both readings give 0.
//!
//! Sequence (RM `kgmmuInvalidateTlb` in `kern_gmmu_gm107.c` and the TU102 commit/poll
//! functions; NV `vmmtu102.c` L26–51): wait until `MMU_INVALIDATE` reads TRIGGER clear, write
//! `..._PDB` and `..._UPPER_PDB` unless ALL_PDB is set, write `MMU_INVALIDATE` with TRIGGER
//! set, poll until TRIGGER reads clear ([`invalidate_pending`]). RM sets SYS_MEMBAR and
//! ACK = GLOBALLY when PTEs were downgraded (`kgmmuSetTlbInvalidateMembarWarParameters_TU102`),
//! HUBTLB_ONLY for BAR address spaces.

use super::mmu_v2::{TableAddr, TableAperture};
use super::MmuError;

/// PF BAR0 offset of `NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE_PDB` (0xB80000 + 0x30A0).
pub const MMU_INVALIDATE_PDB: u32 = 0x00b8_30a0;
/// PF BAR0 offset of `NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE_UPPER_PDB` (0xB80000 + 0x30A4).
pub const MMU_INVALIDATE_UPPER_PDB: u32 = 0x00b8_30a4;
/// PF BAR0 offset of `NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE` (0xB80000 + 0x30B0).
pub const MMU_INVALIDATE: u32 = 0x00b8_30b0;

/// `MMU_INVALIDATE` ALL_VA 0.
const ALL_VA: u32 = 1 << 0;
/// `MMU_INVALIDATE` ALL_PDB 1.
const ALL_PDB: u32 = 1 << 1;
/// `MMU_INVALIDATE` HUBTLB_ONLY 2.
const HUBTLB_ONLY: u32 = 1 << 2;
/// `MMU_INVALIDATE` SYS_MEMBAR 6.
const SYS_MEMBAR: u32 = 1 << 6;
/// `MMU_INVALIDATE` ACK 8:7.
const ACK_SHIFT: u32 = 7;
/// `MMU_INVALIDATE` CACHE_LEVEL 26:24.
const CACHE_LEVEL_SHIFT: u32 = 24;
/// `MMU_INVALIDATE` TRIGGER 31.
const TRIGGER: u32 = 1 << 31;

/// Bits of PDB >> 12 that `MMU_INVALIDATE_PDB` ADDR (31:4) holds.
const PDB_ADDR_BITS: u32 = 28;
/// `MMU_INVALIDATE_PDB` ADDR starts at bit 4.
const PDB_ADDR_SHIFT: u32 = 4;
/// `MMU_INVALIDATE_PDB` APERTURE 1.
const PDB_APERTURE_SYS: u32 = 1 << 1;
/// Width of `MMU_INVALIDATE_UPPER_PDB` ADDR (19:0).
const UPPER_PDB_BITS: u32 = 20;

/// `MMU_INVALIDATE` ACK values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// NONE_REQUIRED (0).
    NoneRequired = 0,
    /// GLOBALLY (1).
    Globally = 1,
    /// INTRANODE (2).
    Intranode = 2,
}

/// `MMU_INVALIDATE` CACHE_LEVEL values for an invalidate (not a cancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheLevel {
    /// ALL (0): PTEs and every PDE level.
    All = 0,
    /// PTE_ONLY (1).
    PteOnly = 1,
    /// UP_TO_PDE0 (2).
    UpToPde0 = 2,
    /// UP_TO_PDE1 (3).
    UpToPde1 = 3,
    /// UP_TO_PDE2 (4).
    UpToPde2 = 4,
    /// UP_TO_PDE3 (5).
    UpToPde3 = 5,
}

/// An `MMU_INVALIDATE` request (REPLAY NONE, no cancel, no PASID, no range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalidate {
    /// ALL_PDB: every address space rather than the one in `..._PDB`.
    pub all_pdb: bool,
    /// HUBTLB_ONLY: only the hub TLB (BAR address spaces).
    pub hubtlb_only: bool,
    /// SYS_MEMBAR: a system membar after the invalidate (RM: after PTE downgrades).
    pub sys_membar: bool,
    /// ACK.
    pub ack: Ack,
    /// CACHE_LEVEL.
    pub cache_level: CacheLevel,
}

impl Invalidate {
    /// The whole VA range of one address space, every cached level: what nouveau issues
    /// (ALL_VA | TRIGGER = 0x8000_0001).
    pub const fn address_space() -> Self {
        Invalidate {
            all_pdb: false,
            hubtlb_only: false,
            sys_membar: false,
            ack: Ack::NoneRequired,
            cache_level: CacheLevel::All,
        }
    }

    /// [`Invalidate::address_space`] after PTEs lost rights or were removed, as RM issues it:
    /// SYS_MEMBAR and ACK = GLOBALLY.
    pub const fn address_space_downgrade() -> Self {
        Invalidate {
            sys_membar: true,
            ack: Ack::Globally,
            ..Self::address_space()
        }
    }
}

/// The `MMU_INVALIDATE` value for `req`: ALL_VA and TRIGGER set.
pub const fn invalidate_value(req: &Invalidate) -> u32 {
    let mut v = TRIGGER | ALL_VA;
    if req.all_pdb {
        v |= ALL_PDB;
    }
    if req.hubtlb_only {
        v |= HUBTLB_ONLY;
    }
    if req.sys_membar {
        v |= SYS_MEMBAR;
    }
    v |= (req.ack as u32) << ACK_SHIFT;
    v |= (req.cache_level as u32) << CACHE_LEVEL_SHIFT;
    v
}

/// Whether an `MMU_INVALIDATE` read-back says an invalidate is still in progress (TRIGGER
/// still set).
pub const fn invalidate_pending(reg: u32) -> bool {
    reg & TRIGGER != 0
}

/// The `[MMU_INVALIDATE_PDB, MMU_INVALIDATE_UPPER_PDB]` values naming the address space whose
/// root is `root` (4 KiB-aligned, below 2^60).
pub fn invalidate_pdb_values(root: TableAddr) -> Result<[u32; 2], MmuError> {
    if root.addr & 0xfff != 0 {
        return Err(MmuError::Misaligned);
    }
    let pfn = root.addr >> 12;
    let upper = pfn >> PDB_ADDR_BITS;
    if upper >> UPPER_PDB_BITS != 0 {
        return Err(MmuError::PaOutOfRange);
    }
    // The masks keep 28 bits shifted by 4 and 20 bits: both fit in u32.
    let mut lo = ((pfn & ((1 << PDB_ADDR_BITS) - 1)) as u32) << PDB_ADDR_SHIFT;
    if !matches!(root.aperture, TableAperture::VideoMemory) {
        lo |= PDB_APERTURE_SYS;
    }
    Ok([lo, upper as u32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        // nouveau: 0xB830B0 = 0x80000000 | 0x1 for one address space, plus 0x6 for BARs.
        assert_eq!(invalidate_value(&Invalidate::address_space()), 0x8000_0001);
        let bar = Invalidate {
            all_pdb: true,
            hubtlb_only: true,
            ..Invalidate::address_space()
        };
        assert_eq!(invalidate_value(&bar), 0x8000_0007);
        // SYS_MEMBAR (0x40) | ACK GLOBALLY (1 << 7).
        assert_eq!(
            invalidate_value(&Invalidate::address_space_downgrade()),
            0x8000_00c1
        );
        let pte_only = Invalidate {
            cache_level: CacheLevel::PteOnly,
            ack: Ack::Intranode,
            ..Invalidate::address_space()
        };
        assert_eq!(invalidate_value(&pte_only), 0x8100_0101);
        assert!(invalidate_pending(0x8000_0001));
        assert!(!invalidate_pending(0x0000_0001));
        // The register offsets are not re-stated here: a test that copies a constant cannot
        // fail. They are checked end to end: the vGPU (written from the manual, not from this
        // file) only drops TLB entries on a write to its own MMU_INVALIDATE, which the mem
        // suite's remap tests and `tests/vm/check-mem.sh` (the trace's invalidate lines) see.
    }

    #[test]
    fn pdb_values() {
        // Below 2^36 the low register is PA >> 8, as nouveau writes it.
        let r = TableAddr::new(TableAperture::VideoMemory, 0x12_3456_7000);
        assert_eq!(invalidate_pdb_values(r), Ok([0x1234_5670, 0]));
        // Above 2^40: PA >> 12 = 0x1234_5678 -> low 28 bits 0x234_5678 << 4, upper 0x1.
        let r = TableAddr::new(TableAperture::SystemCoherent, 0x123_4567_8000);
        assert_eq!(invalidate_pdb_values(r), Ok([0x2345_6782, 1]));
        let r = TableAddr::new(TableAperture::SystemNonCoherent, (1 << 60) - 4096);
        assert_eq!(invalidate_pdb_values(r), Ok([0xffff_fff2, 0xf_ffff]));
        let r = TableAddr::new(TableAperture::SystemNonCoherent, 1 << 60);
        assert_eq!(invalidate_pdb_values(r), Err(MmuError::PaOutOfRange));
        let r = TableAddr::new(TableAperture::VideoMemory, 0x800);
        assert_eq!(invalidate_pdb_values(r), Err(MmuError::Misaligned));
    }
}
