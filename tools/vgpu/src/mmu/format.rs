// SPDX-License-Identifier: GPL-2.0
//! GMMU page-table format version 2 as GA102 walks it: levels, entry layouts, apertures.
//!
//! Sources (OG = NVIDIA open-gpu-kernel-modules, tag 570.144):
//! - entry layouts: `NV_MMU_VER2_PDE_*`, `NV_MMU_VER2_DUAL_PDE_*`, `NV_MMU_VER2_PTE_*` in OG
//!   `kernel-open/nvidia-uvm/hwref/turing/tu102/dev_mmu.h` L534-639 (docs/facts/ga102.md §12.2);
//! - levels: OG `src/nvidia/src/kernel/gpu/mmu/arch/pascal/kern_gmmu_fmt_gp10x.c` L48-105
//!   (PD3 48:47, PD2 46:38, PD1 37:29, dual PD0 28:21, big PT 20:16 or 20:17, 4 KiB PT 20:12;
//!   PD0 may hold a PTE) and `.../ampere/kern_gmmu_fmt_ga10x.c` L29-56 (GA10x: PD1 may hold a
//!   512 MiB PTE) (docs/facts/ga102.md §12.1);
//! - what an entry without VALID means (sparse, invalid, "look at the small PTEs"): nouveau
//!   `nvkm/subdev/mmu/vmmgp100.c` L182 (PTE VALID_FALSE + VOL = sparse), L202 (big PTE
//!   VALID_FALSE + PRIV = ignore the small PTEs), L274 (dual PDE VALID_FALSE + VOL_BIG = sparse),
//!   L396-398 (PD1-PD3 use the same sparse writer: 8-byte PDE VALID_FALSE + VOL), and
//!   `nvkm/subdev/mmu/vmm.c` L460-467 (an invalid or sparse big PTE stops the MMU from looking
//!   at the small PTEs; an all-zero one does not);
//! - the sparse encodings as NVIDIA's RM writes them for GA102 (OG 570.144
//!   `src/nvidia/src/kernel/gpu/mmu/arch/maxwell/kern_gmmu_gm200.c` L43-70: PTE VALID 0 + VOL 1,
//!   "GM20X supports sparse directly in HW"; PDE APERTURE INVALID + VOL; dual PDE both
//!   apertures INVALID + the big half's VOL; reached on GA102 through
//!   `kgmmuFmtFamiliesInit_GV100`, `kern_gmmu_gv100.c` L59-81) and what a sparse access does
//!   (no fault; "writes will be discarded and reads will return 0": OG
//!   `kernel-open/nvidia-uvm/uvm.h` L2014-2015, `uvm_mmu.h` L194-197); the "unmapped" big PTE,
//!   VALID 0 + PRIVILEGE 1, after which the MMU reads no 4 KiB PTE (`uvm_pascal_mmu.c`
//!   L229-242, `uvm_mmu.h` L200-214).

/// Virtual-address width: bits 48:0 (docs/facts/ga102.md §12.1).
pub const VA_BITS: u32 = 49;
/// Smallest page: 4 KiB (`NV_MMU_VER2_PTE_ADDRESS_SHIFT` 12).
pub const SMALL_SHIFT: u32 = 12;

/// Where a physical address lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aperture {
    /// Local video memory.
    Video,
    /// A peer GPU's memory (PTEs only; no peer exists on this board).
    Peer,
    /// System memory, CPU-cache coherent.
    SysCoherent,
    /// System memory, not coherent.
    SysNonCoherent,
}

impl Aperture {
    /// Short name for the trace and the MMU log.
    pub fn name(self) -> &'static str {
        match self {
            Aperture::Video => "vid",
            Aperture::Peer => "peer",
            Aperture::SysCoherent => "sysc",
            Aperture::SysNonCoherent => "sysnc",
        }
    }

    /// System memory (either coherence).
    pub fn is_sys(self) -> bool {
        matches!(self, Aperture::SysCoherent | Aperture::SysNonCoherent)
    }

    /// A PDE's 2-bit APERTURE field: 0 INVALID, 1 VIDEO_MEMORY, 2 SYSTEM_COHERENT_MEMORY,
    /// 3 SYSTEM_NON_COHERENT_MEMORY (dev_mmu.h L544-548, L571-575, L586-590).
    pub fn from_pde(v: u64) -> Option<Aperture> {
        match v & 3 {
            1 => Some(Aperture::Video),
            2 => Some(Aperture::SysCoherent),
            3 => Some(Aperture::SysNonCoherent),
            _ => None,
        }
    }

    /// A PTE's 2-bit APERTURE field: 0 VIDEO_MEMORY, 1 PEER_MEMORY, 2 SYSTEM_COHERENT_MEMORY,
    /// 3 SYSTEM_NON_COHERENT_MEMORY (dev_mmu.h L605-609).
    pub fn from_pte(v: u64) -> Aperture {
        match v & 3 {
            0 => Aperture::Video,
            1 => Aperture::Peer,
            2 => Aperture::SysCoherent,
            _ => Aperture::SysNonCoherent,
        }
    }

    /// The value a PDE's APERTURE field holds for this aperture (Peer has none: INVALID).
    pub fn pde_field(self) -> u64 {
        match self {
            Aperture::Video => 1,
            Aperture::Peer => 0,
            Aperture::SysCoherent => 2,
            Aperture::SysNonCoherent => 3,
        }
    }

    /// The value a PTE's APERTURE field holds for this aperture.
    pub fn pte_field(self) -> u64 {
        match self {
            Aperture::Video => 0,
            Aperture::Peer => 1,
            Aperture::SysCoherent => 2,
            Aperture::SysNonCoherent => 3,
        }
    }
}

/// Big-page size of a VA space (instance block `BIG_PAGE_SIZE`, docs/facts/ga102.md §12.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BigPage {
    /// 64 KiB: big page table VA bits 20:16, 32 entries.
    K64,
    /// 128 KiB: VA bits 20:17, 16 entries.
    K128,
}

impl BigPage {
    /// log2 of the page size.
    pub fn shift(self) -> u32 {
        match self {
            BigPage::K64 => 16,
            BigPage::K128 => 17,
        }
    }
}

/// The four directory levels, hardware names (RM calls them PD0..PD3 the other way round).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Root: VA 48:47, 4 entries of 8 bytes.
    Pd3,
    /// VA 46:38, 512 entries of 8 bytes.
    Pd2,
    /// VA 37:29, 512 entries of 8 bytes; may hold a 512 MiB PTE.
    Pd1,
    /// VA 28:21, 256 dual entries of 16 bytes; may hold a 2 MiB PTE.
    Pd0,
}

impl Level {
    /// Root to leaf.
    pub const ALL: [Level; 4] = [Level::Pd3, Level::Pd2, Level::Pd1, Level::Pd0];

    /// Lowest VA bit the level indexes.
    pub fn shift(self) -> u32 {
        match self {
            Level::Pd3 => 47,
            Level::Pd2 => 38,
            Level::Pd1 => 29,
            Level::Pd0 => 21,
        }
    }

    /// Index bits.
    pub fn bits(self) -> u32 {
        match self {
            Level::Pd3 => 2,
            Level::Pd2 | Level::Pd1 => 9,
            Level::Pd0 => 8,
        }
    }

    /// Entry size in bytes.
    pub fn entry_size(self) -> u64 {
        match self {
            Level::Pd0 => 16,
            _ => 8,
        }
    }

    /// The entry index for `va`.
    pub fn index(self, va: u64) -> u64 {
        (va >> self.shift()) & ((1 << self.bits()) - 1)
    }

    /// Whether an entry here may be a PTE (GA10x: PD1 512 MiB, PD0 2 MiB).
    pub fn holds_pte(self) -> bool {
        matches!(self, Level::Pd1 | Level::Pd0)
    }

    /// Depth below the root: PD3 3 ... PD0 0 (the number in `UP_TO_PDEn`).
    pub fn number(self) -> u32 {
        match self {
            Level::Pd3 => 3,
            Level::Pd2 => 2,
            Level::Pd1 => 1,
            Level::Pd0 => 0,
        }
    }

    /// Name for traces.
    pub fn name(self) -> &'static str {
        match self {
            Level::Pd3 => "PD3",
            Level::Pd2 => "PD2",
            Level::Pd1 => "PD1",
            Level::Pd0 => "PD0",
        }
    }
}

/// Bits `hi:lo` of `v`.
pub fn field(v: u64, hi: u32, lo: u32) -> u64 {
    (v >> lo) & ((1u64 << (hi - lo + 1)) - 1)
}

/// An 8-byte PDE (PD3, PD2, PD1) or one half of a dual PDE, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pde {
    /// Points to the next table.
    Table {
        /// Where the table is.
        aperture: Aperture,
        /// Its physical address.
        addr: u64,
        /// VOL: the table is not cached in L2.
        vol: bool,
    },
    /// APERTURE INVALID with VOL set: the range below is sparse (no fault).
    Sparse,
    /// APERTURE INVALID without VOL: accesses below fault (PDE).
    Invalid,
}

/// `NV_MMU_VER2_PDE_IS_PTE` (bit 0, dev_mmu.h L535): the entry is a PTE, not a PDE.
pub fn is_pte(raw: u64) -> bool {
    raw & 1 != 0
}

/// Decodes an 8-byte PDE whose IS_PTE bit is clear: APERTURE 2:1, VOL 3, ADDRESS_VID 32:8 or
/// ADDRESS_SYS 53:8 holding PA >> 12 (dev_mmu.h L544-559).
pub fn decode_pde(raw: u64) -> Pde {
    match Aperture::from_pde(field(raw, 2, 1)) {
        None if raw & (1 << 3) != 0 => Pde::Sparse,
        None => Pde::Invalid,
        Some(aperture) => {
            let addr = if aperture.is_sys() {
                field(raw, 53, 8)
            } else {
                field(raw, 32, 8)
            };
            Pde::Table {
                aperture,
                addr: addr << 12,
                vol: raw & (1 << 3) != 0,
            }
        }
    }
}

/// A dual PDE (PD0, 16 bytes) whose IS_PTE bit is clear, decoded: (big half, small half).
/// Big: APERTURE_BIG 2:1, VOL_BIG 3, ADDRESS_BIG_VID 32:4 / _SYS 53:4 holding PA >> 8. Small:
/// APERTURE_SMALL 66:65, VOL_SMALL 67, ADDRESS_SMALL_VID 96:72 / _SYS 117:72 holding PA >> 12
/// (dev_mmu.h L571-599). Sparse/invalid is decided on the whole entry by the walker; here a
/// half without aperture is [`Pde::Invalid`].
pub fn decode_dual_pde(raw: u128) -> (Pde, Pde) {
    let lo = raw as u64;
    let hi = (raw >> 64) as u64;
    let big = match Aperture::from_pde(field(lo, 2, 1)) {
        None => Pde::Invalid,
        Some(aperture) => {
            let a = if aperture.is_sys() {
                field(lo, 53, 4)
            } else {
                field(lo, 32, 4)
            };
            Pde::Table {
                aperture,
                addr: a << 8,
                vol: lo & (1 << 3) != 0,
            }
        }
    };
    let small = match Aperture::from_pde(field(hi, 2, 1)) {
        None => Pde::Invalid,
        Some(aperture) => {
            let a = if aperture.is_sys() {
                field(hi, 53, 8)
            } else {
                field(hi, 32, 8)
            };
            Pde::Table {
                aperture,
                addr: a << 12,
                vol: hi & (1 << 3) != 0,
            }
        }
    };
    (big, small)
}

/// A PTE (8 bytes), decoded (dev_mmu.h L601-639).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte {
    /// VALID (bit 0).
    pub valid: bool,
    /// APERTURE (2:1).
    pub aperture: Aperture,
    /// VOL (3).
    pub vol: bool,
    /// ENCRYPTED (4).
    pub encrypted: bool,
    /// PRIVILEGE (5).
    pub privileged: bool,
    /// READ_ONLY (6).
    pub read_only: bool,
    /// ATOMIC_DISABLE (7).
    pub atomic_disable: bool,
    /// Physical address: ADDRESS_VID 32:8 (video, peer) or ADDRESS_SYS 53:8, times 4 KiB.
    pub addr: u64,
    /// Peer index (35:33; peer aperture only).
    pub peer: u8,
    /// COMPTAGLINE (55:36; video memory only).
    pub comptagline: u32,
    /// KIND (63:56).
    pub kind: u8,
}

impl Pte {
    /// Decodes `raw`.
    pub fn decode(raw: u64) -> Pte {
        let aperture = Aperture::from_pte(field(raw, 2, 1));
        let sys = aperture.is_sys();
        Pte {
            valid: raw & 1 != 0,
            aperture,
            vol: raw & (1 << 3) != 0,
            encrypted: raw & (1 << 4) != 0,
            privileged: raw & (1 << 5) != 0,
            read_only: raw & (1 << 6) != 0,
            atomic_disable: raw & (1 << 7) != 0,
            addr: if sys {
                field(raw, 53, 8)
            } else {
                field(raw, 32, 8)
            } << 12,
            peer: if aperture == Aperture::Peer {
                field(raw, 35, 33) as u8
            } else {
                0
            },
            comptagline: if sys { 0 } else { field(raw, 55, 36) as u32 },
            kind: field(raw, 63, 56) as u8,
        }
    }
}

/// Builders for entries: the inverse of the decoders, for tests and for the GSP-RM model, which
/// writes the BAR1 page directory it reports.
pub mod build {
    use super::Aperture;

    /// A PDE pointing to a table at `addr` (4 KiB aligned) in `aperture`.
    pub fn pde(aperture: Aperture, addr: u64) -> u64 {
        (aperture.pde_field() << 1) | ((addr >> 12) << 8)
    }

    /// The sparse PDE: APERTURE INVALID, VOL.
    pub const PDE_SPARSE: u64 = 1 << 3;

    /// A dual PDE: the big-page table at `big` (256-byte aligned), the small one at `small`
    /// (4 KiB aligned); None leaves a half INVALID.
    pub fn dual_pde(big: Option<(Aperture, u64)>, small: Option<(Aperture, u64)>) -> u128 {
        let lo = big.map_or(0, |(a, p)| (a.pde_field() << 1) | ((p >> 8) << 4));
        let hi = small.map_or(0, |(a, p)| (a.pde_field() << 1) | ((p >> 12) << 8));
        (u128::from(hi) << 64) | u128::from(lo)
    }

    /// The sparse dual PDE: both apertures INVALID, VOL_BIG.
    pub const DUAL_PDE_SPARSE: u128 = 1 << 3;

    /// A valid PTE for `pa` in `aperture` with `kind`; `flags` adds VOL (3), ENCRYPTED (4),
    /// PRIVILEGE (5), READ_ONLY (6), ATOMIC_DISABLE (7).
    pub fn pte(aperture: Aperture, pa: u64, kind: u8, flags: u64) -> u64 {
        1 | (aperture.pte_field() << 1) | flags | ((pa >> 12) << 8) | (u64::from(kind) << 56)
    }

    /// PTE flag: READ_ONLY.
    pub const RO: u64 = 1 << 6;
    /// PTE flag: VOL.
    pub const VOL: u64 = 1 << 3;
    /// PTE flag: PRIVILEGE.
    pub const PRIV: u64 = 1 << 5;
    /// PTE flag: ATOMIC_DISABLE.
    pub const ATOMIC_DISABLE: u64 = 1 << 7;
    /// PTE flag: ENCRYPTED.
    pub const ENCRYPTED: u64 = 1 << 4;

    /// The sparse PTE: VALID_FALSE + VOL.
    pub const PTE_SPARSE: u64 = 1 << 3;
    /// The big-page "invalid" PTE: VALID_FALSE + PRIV (the small PTEs below are ignored).
    pub const PTE_BIG_INVALID: u64 = 1 << 5;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_indices_cover_va_48_0() {
        let va = 0x1_8000_0000_0000u64 | (0x1ff << 38) | (0x155 << 29) | (0xab << 21);
        assert_eq!(Level::Pd3.index(va), 3);
        assert_eq!(Level::Pd2.index(va), 0x1ff);
        assert_eq!(Level::Pd1.index(va), 0x155);
        assert_eq!(Level::Pd0.index(va), 0xab);
        let bits: u32 = Level::ALL.iter().map(|l| l.bits()).sum::<u32>() + 21;
        assert_eq!(bits, VA_BITS);
    }

    #[test]
    fn pde_fields() {
        // Video: ADDRESS_VID 32:8; bits above 32 (the peer field 35:33) are not address.
        let raw = build::pde(Aperture::Video, 0x1f_ffff_f000) | (7 << 33);
        assert_eq!(
            decode_pde(raw),
            Pde::Table {
                aperture: Aperture::Video,
                addr: 0x1f_ffff_f000,
                vol: false
            }
        );
        // System: ADDRESS_SYS 53:8, i.e. up to 58-bit addresses.
        let pa = 0x3ff_ffff_ffff_f000u64;
        let raw = build::pde(Aperture::SysNonCoherent, pa) | (1 << 3);
        assert_eq!(
            decode_pde(raw),
            Pde::Table {
                aperture: Aperture::SysNonCoherent,
                addr: pa,
                vol: true
            }
        );
        assert_eq!(decode_pde(0), Pde::Invalid);
        assert_eq!(decode_pde(build::PDE_SPARSE), Pde::Sparse);
        assert!(is_pte(1) && !is_pte(2));
    }

    #[test]
    fn dual_pde_fields() {
        let raw = build::dual_pde(
            Some((Aperture::Video, 0x12_3456_7800)),
            Some((Aperture::SysCoherent, 0xabc_def0_1000)),
        );
        let (big, small) = decode_dual_pde(raw);
        assert_eq!(
            big,
            Pde::Table {
                aperture: Aperture::Video,
                addr: 0x12_3456_7800,
                vol: false
            }
        );
        assert_eq!(
            small,
            Pde::Table {
                aperture: Aperture::SysCoherent,
                addr: 0xabc_def0_1000,
                vol: false
            }
        );
        // The small half's fields sit in the upper u64: aperture 66:65, address 96:72 / 117:72.
        assert_eq!(field((raw >> 64) as u64, 2, 1), 2);
        assert_eq!(field((raw >> 64) as u64, 53, 8), 0xabc_def0_1000 >> 12);
        assert_eq!(field(raw as u64, 32, 4), 0x12_3456_7800 >> 8);
        assert_eq!(decode_dual_pde(0), (Pde::Invalid, Pde::Invalid));
    }

    #[test]
    fn pte_fields() {
        let raw = build::pte(
            Aperture::Video,
            0x5_f000_0000,
            0x06,
            build::RO | build::VOL | build::PRIV | build::ATOMIC_DISABLE | build::ENCRYPTED,
        ) | (0xabcde << 36);
        let p = Pte::decode(raw);
        assert!(p.valid && p.read_only && p.vol && p.privileged && p.atomic_disable);
        assert!(p.encrypted);
        assert_eq!(p.aperture, Aperture::Video);
        assert_eq!(p.addr, 0x5_f000_0000);
        assert_eq!(p.kind, 6);
        assert_eq!(p.comptagline, 0xabcde);
        let s = Pte::decode(build::pte(Aperture::SysCoherent, 0x3f_ffff_ffff_f000, 0, 0));
        assert_eq!(
            (s.aperture, s.addr, s.comptagline),
            (Aperture::SysCoherent, 0x3f_ffff_ffff_f000, 0)
        );
        let peer = Pte::decode(build::pte(Aperture::Peer, 0x1000, 0, 0) | (5 << 33));
        assert_eq!(
            (peer.aperture, peer.peer, peer.addr),
            (Aperture::Peer, 5, 0x1000)
        );
        assert_eq!(Aperture::from_pte(3), Aperture::SysNonCoherent);
        assert_eq!(Aperture::from_pde(0), None);
    }
}
