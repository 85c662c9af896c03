// SPDX-License-Identifier: GPL-2.0
//! GMMU page-table format version 2 as GA102 uses it: level geometry, page sizes, apertures
//! and the three entry formats (PDE, dual PDE, PTE), each with an encoder and a decoder.
//!
//! # Levels (facts sheet §12.1)
//!
//! Hardware names, root first. NVIDIA's RM numbers its surfaces the other way round (its
//! "PD0" is the root); nouveau and the manuals use the names below.
//!
//! | Level       | VA bits | Entry | Entries | Table bytes | Leaf page  |
//! |-------------|---------|-------|---------|-------------|------------|
//! | PD3 (root)  | 48:47   | 8 B   | 4       | 32 (alloc 4 KiB) |       |
//! | PD2         | 46:38   | 8 B   | 512     | 4096        |            |
//! | PD1         | 37:29   | 8 B   | 512     | 4096        | 512 MiB    |
//! | PD0 (dual)  | 28:21   | 16 B  | 256     | 4096        | 2 MiB      |
//! | big PT      | 20:16   | 8 B   | 32      | 256         | 64 KiB     |
//! | small PT    | 20:12   | 8 B   | 512     | 4096        | 4 KiB      |
//!
//! Sources: OG `src/nvidia/src/kernel/gpu/mmu/arch/pascal/kern_gmmu_fmt_gp10x.c` L31–105 (the
//! level bit ranges, entry sizes and the PD0 pair of sub-levels);
//! OG `src/nvidia/src/kernel/gpu/mmu/arch/ampere/kern_gmmu_fmt_ga10x.c` L29–56 (on GA10x PD1
//! may also hold a PTE, the 512 MiB page); OG `kernel-open/nvidia-uvm/uvm_ampere_mmu.c`
//! L39–53 (page sizes 4K, 64K, 2M, 512M; 512M at depth 2, 2M at depth 3);
//! NV `vmmtu102.c` L61–68 (page shifts 47, 38, 29, 21, 16, 12) and NV `vmmgp100.c` L402–420
//! (entry sizes; the 64 KiB table is 0x100 bytes).
//!
//! The big page size is fixed at 64 KiB here: Volta and later only support 64 KiB big pages
//! (OD `manuals/ampere/ga100/dev_ram.ref.txt` L230–235; UVM refuses 128 KiB on Ampere,
//! OG `uvm_ampere_mmu.c` L61–66).
//!
//! # Table allocations
//!
//! PD3 holds only 4 × 8 = 32 bytes of entries, but it is the page-directory base the instance
//! block and the TLB-invalidate register point at, and both hold the address shifted right
//! by 12 (OD `dev_ram.ref.txt` L157–159 "4K-byte aligned", L242; OD
//! `manuals/ampere/ga102/dev_vm.ref.txt` L352–354). It is therefore allocated as a whole,
//! 4 KiB-aligned 4 KiB block, as NVIDIA's UVM driver does (OG `uvm_pascal_mmu.c` L207–214).
//! The 64 KiB-page table is 32 × 8 = 256 bytes and only needs 256-byte alignment: the dual PDE
//! stores its address shifted right by 8 (below). Every other table is 4 KiB, 4 KiB-aligned.
//! See [`Level::alloc_bytes`] and [`Level::table_align`].
//!
//! # Sparse entries
//!
//! An entry with its VALID bit (PTEs) or aperture (PDEs) clear and only VOL set is *sparse*:
//! the GMMU neither faults nor translates an access through it. Per NVIDIA's UVM driver the
//! access goes to the MMU's debug pages instead (OG `kernel-open/nvidia-uvm/uvm_mmu.h`
//! L194–198); that reads return zero depends on what those pages hold, which this directory
//! does not control. The pattern is the same raw value at every level this engine writes it:
//!
//! | Where            | Raw value                         | Constant          |
//! |------------------|-----------------------------------|-------------------|
//! | small / big PT   | `0x8` (VALID 0, VOL 1)            | [`Pte::SPARSE`]   |
//! | PD0 (2 MiB)      | `[0x8, 0]` (both apertures INVALID, VOL_BIG 1) | [`DualPde::SPARSE`] |
//! | PD1 (512 MiB)    | `0x8` (APERTURE INVALID, VOL 1)   | [`Pde::SPARSE`]   |
//!
//! Sources: OG `src/nvidia/src/kernel/gpu/mmu/arch/maxwell/kern_gmmu_gm200.c` L42–70 (RM's
//! sparse PTE, PDE and dual-PDE templates: VALID clear + VOL; PDE aperture INVALID + VOL; dual
//! PDE both apertures INVALID + the big sub-level's VOL), used on GA102 through
//! `kern_gmmu_gv100.c` L58–81 and `src/nvidia/generated/g_kern_gmmu_nvoc.c` L479–487; RM's
//! walker fills a two-sub-level directory with the dual-PDE template, a one-sub-level one with
//! the PDE template and a page table with the PTE template (OG
//! `src/nvidia/src/kernel/gpu/mmu/gmmu_walk.c` L906–947); OG `uvm_pascal_mmu.c` L324–328 (the
//! same PTE); NV `vmmgp100.c` L178–184 (`gp100_vmm_pgt_sparse`: VOL in the small and big PTs
//! and, through `gp100_vmm_desc_pd1` L395–400, in single PDEs) and L270–276
//! (`gp100_vmm_pd0_sparse`: VOL_BIG in the low word, zero in the high word). A 2 MiB or
//! 512 MiB PTE with VALID clear and VOL set has the same bits, so the sparse "directory entry"
//! and the sparse large page are one and the same thing.

use super::MmuError;

/// Width of a GPU virtual address: bits 48:0 (OG `uvm_pascal_mmu.c` L202–205; docs/facts/ga102.md §12.1).
pub const VA_BITS: u32 = 49;

/// One past the highest GPU virtual address.
pub const VA_LIMIT: u64 = 1 << VA_BITS;

/// The shift from a physical address to the page-frame number that PDEs, small-half dual PDEs
/// and PTEs store (`NV_MMU_VER2_PDE_ADDRESS_SHIFT`, `NV_MMU_VER2_DUAL_PDE_ADDRESS_SHIFT`,
/// `NV_MMU_VER2_PTE_ADDRESS_SHIFT` = 12; OG `kernel-open/nvidia-uvm/hwref/turing/tu102/dev_mmu.h`
/// L559, L598, L638).
const ADDRESS_SHIFT: u32 = 12;

/// The shift for the big-page-table address of a dual PDE
/// (`NV_MMU_VER2_DUAL_PDE_ADDRESS_BIG_SHIFT` = 8; OG tu102 `dev_mmu.h` L599).
const ADDRESS_BIG_SHIFT: u32 = 8;

/// Bits `hi:lo` of a 64-bit entry word. Only built in `const` items, so a bad range is a
/// compile-time error, never a run-time panic.
#[derive(Clone, Copy)]
struct Field {
    lo: u32,
    width_mask: u64,
}

const fn field(hi: u32, lo: u32) -> Field {
    Field {
        lo,
        width_mask: u64::MAX >> 63u32.wrapping_sub(hi.wrapping_sub(lo)),
    }
}

impl Field {
    /// The field's value in `raw`.
    const fn get(self, raw: u64) -> u64 {
        (raw >> self.lo) & self.width_mask
    }

    /// `v` placed in the field, or `None` if it does not fit.
    const fn put(self, v: u64) -> Option<u64> {
        if v & !self.width_mask != 0 {
            None
        } else {
            Some(v << self.lo)
        }
    }

    /// The field's bits in place.
    const fn mask(self) -> u64 {
        self.width_mask << self.lo
    }
}

const fn bit(n: u32) -> u64 {
    1 << n
}

// --- PDE (`NV_MMU_VER2_PDE_*`, OG tu102 `dev_mmu.h` L534–560) -------------------------------
/// IS_PTE 0:0 (shared with the PTE's VALID bit: a set bit makes the entry a PTE).
const PDE_IS_PTE: u64 = bit(0);
/// APERTURE 2:1: 0 invalid, 1 video memory, 2 system coherent, 3 system non-coherent.
const PDE_APERTURE: Field = field(2, 1);
/// VOL 3:3.
const PDE_VOL: u64 = bit(3);
/// NO_ATS 5:5.
const PDE_NO_ATS: u64 = bit(5);
/// ADDRESS_SYS 53:8 (table PA >> 12).
const PDE_ADDRESS_SYS: Field = field(53, 8);
/// ADDRESS_VID (35-3):8 = 32:8 (table PA >> 12).
const PDE_ADDRESS_VID: Field = field(32, 8);
/// ADDRESS_VID_PEER 35:33 (only PEER_0 is defined for PDEs).
const PDE_ADDRESS_VID_PEER: Field = field(35, 33);

// --- Dual PDE (`NV_MMU_VER2_DUAL_PDE_*`, OG tu102 `dev_mmu.h` L561–600) ----------------------
// Bits 63:0 are the low word, bits 127:64 the high word (bit 64 + n is bit n of the high word).
/// IS_PTE 0:0 (low word; a set bit makes the whole 16 bytes a 2 MiB PTE).
const DUAL_IS_PTE: u64 = bit(0);
/// APERTURE_BIG 2:1 (low word; same values as the PDE aperture).
const DUAL_APERTURE_BIG: Field = field(2, 1);
/// VOL_BIG 3:3 (low word).
const DUAL_VOL_BIG: u64 = bit(3);
// The header also lists NO_ATS at 5:5, inside ADDRESS_BIG (53:4, where bit 5 holds PA bit 9).
// This module treats bit 5 as an address bit and never sets NO_ATS in a dual PDE: nouveau packs
// 256-byte big tables at any 256-byte offset of a 4 KiB page (NV `vmmgp100.c` L404 align 0x100,
// `base.c` L65-107 and L167-176), so bit 5 varies with the address there; UVM sets NO_ATS only in
// the single PDEs of PD1 (OG `uvm_volta_mmu.c` L84-90).
/// ADDRESS_BIG_SYS 53:(8-4) = 53:4 (low word; big table PA >> 8).
const DUAL_ADDRESS_BIG_SYS: Field = field(53, 4);
/// ADDRESS_BIG_VID (35-3):(8-4) = 32:4 (low word; big table PA >> 8).
const DUAL_ADDRESS_BIG_VID: Field = field(32, 4);
/// ADDRESS_BIG_VID_PEER 35:33 (low word).
const DUAL_ADDRESS_BIG_VID_PEER: Field = field(35, 33);
/// APERTURE_SMALL 66:65 = high word 2:1.
const DUAL_APERTURE_SMALL: Field = field(2, 1);
/// VOL_SMALL 67:67 = high word 3.
const DUAL_VOL_SMALL: u64 = bit(3);
/// ADDRESS_SMALL_SYS 117:72 = high word 53:8 (small table PA >> 12).
const DUAL_ADDRESS_SMALL_SYS: Field = field(53, 8);
/// ADDRESS_SMALL_VID (99-3):72 = 96:72 = high word 32:8 (small table PA >> 12).
const DUAL_ADDRESS_SMALL_VID: Field = field(32, 8);
/// ADDRESS_SMALL_VID_PEER 99:97 = high word 35:33.
const DUAL_ADDRESS_SMALL_VID_PEER: Field = field(35, 33);

// --- PTE (`NV_MMU_VER2_PTE_*`, OG tu102 `dev_mmu.h` L601–639) --------------------------------
/// VALID 0:0.
const PTE_VALID: u64 = bit(0);
/// APERTURE 2:1: 0 video memory, 1 peer memory, 2 system coherent, 3 system non-coherent
/// (numbered differently from the PDE aperture).
const PTE_APERTURE: Field = field(2, 1);
/// VOL 3:3.
const PTE_VOL: u64 = bit(3);
/// ENCRYPTED 4:4.
const PTE_ENCRYPTED: u64 = bit(4);
/// PRIVILEGE 5:5.
const PTE_PRIVILEGE: u64 = bit(5);
/// READ_ONLY 6:6.
const PTE_READ_ONLY: u64 = bit(6);
/// ATOMIC_DISABLE 7:7.
const PTE_ATOMIC_DISABLE: u64 = bit(7);
/// ADDRESS_SYS 53:8 (page PA >> 12).
const PTE_ADDRESS_SYS: Field = field(53, 8);
/// ADDRESS_VID (35-3):8 = 32:8 (page PA >> 12).
const PTE_ADDRESS_VID: Field = field(32, 8);
/// ADDRESS_VID_PEER 35:(36-3) = 35:33.
const PTE_ADDRESS_VID_PEER: Field = field(35, 33);
/// COMPTAGLINE (20+35):36 = 55:36 (video and peer memory only; overlaps ADDRESS_SYS).
const PTE_COMPTAGLINE: Field = field(55, 36);
/// KIND 63:56.
const PTE_KIND: Field = field(63, 56);
/// Bits no field of a system-memory PTE uses: 55:54 (ADDRESS_SYS ends at 53; COMPTAGLINE and
/// the peer index belong to the video-memory layout).
const PTE_SYS_UNUSED: u64 = field(55, 54).mask();

// A video-memory pointer or PTE with a non-zero peer index is never accepted as "known": the
// peer fields lie outside the video address fields.
const _: () = assert!(PDE_ADDRESS_VID_PEER.mask() & PDE_ADDRESS_VID.mask() == 0);
const _: () = assert!(DUAL_ADDRESS_BIG_VID_PEER.mask() & DUAL_ADDRESS_BIG_VID.mask() == 0);
const _: () = assert!(DUAL_ADDRESS_SMALL_VID_PEER.mask() & DUAL_ADDRESS_SMALL_VID.mask() == 0);
const _: () = assert!(PTE_ADDRESS_VID_PEER.mask() & PTE_ADDRESS_VID.mask() == 0);

// The sparse pattern is one bit, the same at every level: a PD1 entry or the low word of a PD0
// entry may be read as a PTE or as a directory entry and means "sparse" either way.
const _: () = assert!(PTE_VOL == PDE_VOL && PTE_VOL == DUAL_VOL_BIG);
const _: () = assert!(PTE_VOL & (PTE_VALID | PDE_IS_PTE | DUAL_IS_PTE) == 0);

/// Largest physical address + 1 a video-memory or peer entry can hold: 25 address bits of
/// PA >> 12 (32:8), i.e. 2^37 = 128 GiB.
pub const VID_PA_LIMIT: u64 = 1 << (25 + ADDRESS_SHIFT);

/// Largest physical address + 1 a system-memory entry can hold: 46 address bits of PA >> 12
/// (53:8), i.e. 2^58.
pub const SYS_PA_LIMIT: u64 = 1 << (46 + ADDRESS_SHIFT);

/// PTE KIND values (`NV_MMU_PTE_KIND_*`, OG tu102 `dev_mmu.h` L111–126; docs/facts/ga102.md §12.2).
pub mod kind {
    /// Pitch (linear) memory.
    pub const PITCH: u8 = 0x00;
    /// Generic (block-linear capable) memory.
    pub const GENERIC_MEMORY: u8 = 0x06;
    /// An invalid kind: accesses fault.
    pub const INVALID: u8 = 0x07;
    /// Generic memory, compressible.
    pub const GENERIC_MEMORY_COMPRESSIBLE: u8 = 0x08;
    /// Generic memory, compressible, PLC disabled.
    pub const GENERIC_MEMORY_COMPRESSIBLE_DISABLE_PLC: u8 = 0x09;
    /// SM SKED message.
    pub const SMSKED_MESSAGE: u8 = 0x0f;
}

/// A page size the v2 format supports on GA10x.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageSize {
    /// 4 KiB, a PTE in a small page table.
    Size4K,
    /// 64 KiB ("big page"), a PTE in a big page table.
    Size64K,
    /// 2 MiB, a PTE in the low half of a dual PD0 entry.
    Size2M,
    /// 512 MiB, a PTE in a PD1 entry (GA10x and later).
    Size512M,
}

impl PageSize {
    /// Every page size, smallest first.
    pub const ALL: [PageSize; 4] = [
        PageSize::Size4K,
        PageSize::Size64K,
        PageSize::Size2M,
        PageSize::Size512M,
    ];

    /// log2 of the size in bytes.
    pub const fn shift(self) -> u32 {
        self.leaf_level().va_lo()
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        1 << self.shift()
    }

    /// The level whose entries map pages of this size.
    pub const fn leaf_level(self) -> Level {
        match self {
            PageSize::Size4K => Level::SmallPt,
            PageSize::Size64K => Level::BigPt,
            PageSize::Size2M => Level::Pd0,
            PageSize::Size512M => Level::Pd1,
        }
    }
}

/// A level of the page-table tree (hardware names; see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// The root: VA 48:47, 4 PDEs.
    Pd3,
    /// VA 46:38, 512 PDEs.
    Pd2,
    /// VA 37:29, 512 PDEs or 512 MiB PTEs.
    Pd1,
    /// VA 28:21, 256 dual PDEs or 2 MiB PTEs.
    Pd0,
    /// VA 20:16, 32 PTEs for 64 KiB pages.
    BigPt,
    /// VA 20:12, 512 PTEs for 4 KiB pages.
    SmallPt,
}

impl Level {
    /// Lowest VA bit this level indexes with; also log2 of the span of one entry.
    pub const fn va_lo(self) -> u32 {
        match self {
            Level::Pd3 => 47,
            Level::Pd2 => 38,
            Level::Pd1 => 29,
            Level::Pd0 => 21,
            Level::BigPt => 16,
            Level::SmallPt => 12,
        }
    }

    /// Highest VA bit this level indexes with.
    pub const fn va_hi(self) -> u32 {
        match self {
            Level::Pd3 => 48,
            Level::Pd2 => 46,
            Level::Pd1 => 37,
            Level::Pd0 => 28,
            Level::BigPt | Level::SmallPt => 20,
        }
    }

    /// Number of index bits.
    pub const fn index_bits(self) -> u32 {
        // va_hi >= va_lo for every level.
        self.va_hi().wrapping_sub(self.va_lo()).wrapping_add(1)
    }

    /// Number of entries in a table of this level.
    pub const fn entries(self) -> usize {
        1 << self.index_bits()
    }

    /// Size of one entry in bytes.
    pub const fn entry_bytes(self) -> usize {
        match self {
            Level::Pd0 => 16,
            _ => 8,
        }
    }

    /// Bytes of entries in a table of this level (32 for PD3).
    pub const fn table_bytes(self) -> usize {
        // At most 512 * 16.
        self.entries().wrapping_mul(self.entry_bytes())
    }

    /// Bytes the engine asks the allocator for: [`Level::table_bytes`], except PD3 which is
    /// given a whole 4 KiB block (see the module documentation).
    pub const fn alloc_bytes(self) -> usize {
        match self {
            Level::Pd3 => 4096,
            _ => self.table_bytes(),
        }
    }

    /// Alignment a table of this level needs: 256 bytes for the big page table (its address
    /// is stored as PA >> 8), 4 KiB for every other table (PA >> 12).
    pub const fn table_align(self) -> u64 {
        match self {
            Level::BigPt => 1 << ADDRESS_BIG_SHIFT,
            _ => 1 << ADDRESS_SHIFT,
        }
    }

    /// Bytes of VA one entry covers.
    pub const fn entry_span(self) -> u64 {
        1 << self.va_lo()
    }

    /// Index of the entry covering `va` in a table of this level.
    pub const fn index(self, va: u64) -> usize {
        // The mask keeps the value below 512, which fits any usize.
        ((va >> self.va_lo()) & (1u64 << self.index_bits()).wrapping_sub(1)) as usize
    }

    /// Byte offset of entry `index` in a table of this level.
    pub const fn entry_offset(self, index: usize) -> usize {
        // `index` comes from `Level::index` (< 512); the product stays below 8 KiB.
        index.wrapping_mul(self.entry_bytes())
    }

    /// The directory level below this one, for directories whose entries point at a single
    /// kind of table. `None` for PD0 (which points at two, see [`Level::Pd0`]) and the page
    /// tables.
    pub const fn next_directory(self) -> Option<Level> {
        match self {
            Level::Pd3 => Some(Level::Pd2),
            Level::Pd2 => Some(Level::Pd1),
            Level::Pd1 => Some(Level::Pd0),
            Level::Pd0 | Level::BigPt | Level::SmallPt => None,
        }
    }
}

/// Where a page (or, for PTEs, peer memory) lives: the target of a PTE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aperture {
    /// Local video memory.
    VideoMemory,
    /// Video memory of peer GPU `0..=7` (PTE field ADDRESS_VID_PEER 35:33).
    Peer(u8),
    /// System memory, snooped (CPU cache coherent).
    SystemCoherent,
    /// System memory, not snooped.
    SystemNonCoherent,
}

impl Aperture {
    /// PTE APERTURE value (OG tu102 `dev_mmu.h` L605–609).
    const fn pte_bits(self) -> u64 {
        match self {
            Aperture::VideoMemory => 0,
            Aperture::Peer(_) => 1,
            Aperture::SystemCoherent => 2,
            Aperture::SystemNonCoherent => 3,
        }
    }

    /// Whether the page address uses the system-memory field (53:8) rather than the video
    /// one (32:8).
    pub const fn is_system(self) -> bool {
        matches!(self, Aperture::SystemCoherent | Aperture::SystemNonCoherent)
    }

    /// One past the highest physical address an entry with this aperture can hold.
    pub const fn pa_limit(self) -> u64 {
        if self.is_system() {
            SYS_PA_LIMIT
        } else {
            VID_PA_LIMIT
        }
    }
}

/// Where a page table lives. Page directories cannot point into peer memory: the PDE
/// aperture has no peer value (OG tu102 `dev_mmu.h` L544–548).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableAperture {
    /// Local video memory.
    VideoMemory,
    /// System memory, snooped.
    SystemCoherent,
    /// System memory, not snooped.
    SystemNonCoherent,
}

impl TableAperture {
    /// PDE / dual PDE APERTURE value (OG tu102 `dev_mmu.h` L544–548, L571–575, L586–590).
    const fn pde_bits(self) -> u64 {
        match self {
            TableAperture::VideoMemory => 1,
            TableAperture::SystemCoherent => 2,
            TableAperture::SystemNonCoherent => 3,
        }
    }

    /// Inverse of `pde_bits`; `None` for 0 (INVALID).
    const fn from_pde_bits(v: u64) -> Option<TableAperture> {
        match v {
            1 => Some(TableAperture::VideoMemory),
            2 => Some(TableAperture::SystemCoherent),
            3 => Some(TableAperture::SystemNonCoherent),
            _ => None,
        }
    }

    /// Whether the table address uses the system-memory field.
    pub const fn is_system(self) -> bool {
        !matches!(self, TableAperture::VideoMemory)
    }

    /// The same target as a page [`Aperture`].
    pub const fn as_aperture(self) -> Aperture {
        match self {
            TableAperture::VideoMemory => Aperture::VideoMemory,
            TableAperture::SystemCoherent => Aperture::SystemCoherent,
            TableAperture::SystemNonCoherent => Aperture::SystemNonCoherent,
        }
    }
}

/// The location of a page table or directory: aperture and physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableAddr {
    /// Which memory the table is in.
    pub aperture: TableAperture,
    /// Its physical (or, for system memory, DMA) address.
    pub addr: u64,
}

impl TableAddr {
    /// A table at `addr` in `aperture`.
    pub const fn new(aperture: TableAperture, addr: u64) -> Self {
        TableAddr { aperture, addr }
    }
}

/// Encodes `addr >> shift` into the system or video address field, rejecting misaligned and
/// too-large addresses.
fn encode_addr(
    addr: u64,
    shift: u32,
    system: bool,
    sys: Field,
    vid: Field,
) -> Result<u64, MmuError> {
    if addr & (1u64 << shift).wrapping_sub(1) != 0 {
        return Err(MmuError::Misaligned);
    }
    let f = if system { sys } else { vid };
    f.put(addr >> shift).ok_or(MmuError::PaOutOfRange)
}

/// A page-directory entry of PD3, PD2 or PD1 pointing at the next directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pde {
    /// The directory it points at (4 KiB-aligned).
    pub table: TableAddr,
    /// VOL: the GPU's L2 must not cache the table.
    pub volatile: bool,
    /// NO_ATS.
    pub no_ats: bool,
}

/// What a raw PD3/PD2/PD1 entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdeDecode {
    /// All zero.
    Invalid,
    /// A pointer to the next directory.
    Table(Pde),
    /// IS_PTE set and a valid PTE: a 512 MiB page (legal at PD1 only).
    Pte(Pte),
    /// Exactly [`Pde::SPARSE`]: accesses below this entry neither fault nor translate (see
    /// the module documentation). At PD1 it is also a sparse 512 MiB page.
    Sparse,
    /// Any other bit pattern (e.g. a pointer with unknown bits set, a PTE that does not
    /// decode).
    Unknown(u64),
}

impl Pde {
    /// The raw sparse PDE: APERTURE INVALID and VOL set, nothing else (see the module
    /// documentation).
    pub const SPARSE: u64 = PDE_VOL;

    /// A non-volatile pointer at `table`.
    pub const fn new(table: TableAddr) -> Self {
        Pde {
            table,
            volatile: false,
            no_ats: false,
        }
    }

    /// The raw 64-bit entry.
    pub fn encode(&self) -> Result<u64, MmuError> {
        let a = self.table.aperture;
        let addr = encode_addr(
            self.table.addr,
            ADDRESS_SHIFT,
            a.is_system(),
            PDE_ADDRESS_SYS,
            PDE_ADDRESS_VID,
        )?;
        let mut raw = (a.pde_bits() << PDE_APERTURE.lo) | addr;
        if self.volatile {
            raw |= PDE_VOL;
        }
        if self.no_ats {
            raw |= PDE_NO_ATS;
        }
        Ok(raw)
    }

    /// Decodes a raw PD3/PD2/PD1 entry. Never fails: patterns this module does not write come
    /// back as [`PdeDecode::Unknown`].
    pub fn decode(raw: u64) -> PdeDecode {
        if raw == 0 {
            return PdeDecode::Invalid;
        }
        if raw == Pde::SPARSE {
            return PdeDecode::Sparse;
        }
        if raw & PDE_IS_PTE != 0 {
            return match Pte::decode(raw) {
                PteDecode::Valid(p) => PdeDecode::Pte(p),
                _ => PdeDecode::Unknown(raw),
            };
        }
        let Some(aperture) = TableAperture::from_pde_bits(PDE_APERTURE.get(raw)) else {
            return PdeDecode::Unknown(raw);
        };
        let addr_field = if aperture.is_system() {
            PDE_ADDRESS_SYS
        } else {
            PDE_ADDRESS_VID
        };
        // For video memory this also rejects a non-zero ADDRESS_VID_PEER: only PEER_0 exists.
        let known = PDE_APERTURE.mask() | PDE_VOL | PDE_NO_ATS | addr_field.mask();
        if raw & !known != 0 {
            return PdeDecode::Unknown(raw);
        }
        PdeDecode::Table(Pde {
            table: TableAddr::new(aperture, addr_field.get(raw) << ADDRESS_SHIFT),
            volatile: raw & PDE_VOL != 0,
            no_ats: raw & PDE_NO_ATS != 0,
        })
    }
}

/// One half of a dual PDE: a pointer at a big or small page table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtPtr {
    /// The page table (256-byte aligned for the big half, 4 KiB for the small half).
    pub table: TableAddr,
    /// VOL_BIG / VOL_SMALL.
    pub volatile: bool,
}

/// A PD0 entry pointing at a 64 KiB-page table, a 4 KiB-page table, or both.
///
/// Both halves may be valid at once. For each 64 KiB of the 2 MiB the entry covers, the MMU
/// reads the big PTE first: a valid big PTE maps the 64 KiB and the 4 KiB PTEs under it are
/// never read; an all-zero (invalid) big PTE sends the walk on to the 4 KiB PTEs; an invalid
/// big PTE with PRIVILEGE set ("unmapped") or VOL set (sparse) ends the walk without reading
/// them. Sources: OG `kernel-open/nvidia-uvm/uvm_mmu.h` L200–214 and `uvm_va_block.h`
/// L166–186 (the invalid/unmapped big-PTE rule), OG `uvm_pascal_mmu.c` L229–242 (the
/// "unmapped" pattern), NV `vmmgp100.c` L198–204 and `vmm.c` L338–372 / L460–488 (nouveau
/// relies on the same rule). A missing big table behaves as all-zero big PTEs.
///
/// The entry as a whole may instead be [`DualPde::SPARSE`], which makes the 2 MiB it covers
/// sparse (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DualPde {
    /// The big (64 KiB-page) table, low word.
    pub big: Option<PtPtr>,
    /// The small (4 KiB-page) table, high word.
    pub small: Option<PtPtr>,
}

/// What a raw 16-byte PD0 entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DualPdeDecode {
    /// Both words zero.
    Invalid,
    /// One or two page-table pointers (never neither).
    Tables(DualPde),
    /// IS_PTE set: a 2 MiB page. The PTE is the low word; the high word is zero.
    Pte(Pte),
    /// Exactly [`DualPde::SPARSE`]: the 2 MiB the entry covers is sparse.
    Sparse,
    /// Any other bit pattern (bits outside the fields of a present half or any bit of an
    /// absent one, a 2 MiB PTE with a non-zero high word or one that does not decode), as
    /// `[low, high]`.
    Unknown([u64; 2]),
}

impl DualPde {
    /// An entry with neither half present.
    pub const EMPTY: DualPde = DualPde {
        big: None,
        small: None,
    };

    /// The raw sparse PD0 entry `[low, high]`: both apertures INVALID, VOL_BIG set, nothing
    /// else (see the module documentation). Its low word is [`Pte::SPARSE`] and its high word
    /// zero, the form of a 2 MiB PTE.
    pub const SPARSE: [u64; 2] = [DUAL_VOL_BIG, 0];

    /// The raw entry as `[low word (bytes 0..8), high word (bytes 8..16)]`.
    pub fn encode(&self) -> Result<[u64; 2], MmuError> {
        let mut lo = 0;
        if let Some(b) = self.big {
            let a = b.table.aperture;
            lo |= encode_addr(
                b.table.addr,
                ADDRESS_BIG_SHIFT,
                a.is_system(),
                DUAL_ADDRESS_BIG_SYS,
                DUAL_ADDRESS_BIG_VID,
            )?;
            lo |= a.pde_bits() << DUAL_APERTURE_BIG.lo;
            if b.volatile {
                lo |= DUAL_VOL_BIG;
            }
        }
        let mut hi = 0;
        if let Some(s) = self.small {
            let a = s.table.aperture;
            hi |= encode_addr(
                s.table.addr,
                ADDRESS_SHIFT,
                a.is_system(),
                DUAL_ADDRESS_SMALL_SYS,
                DUAL_ADDRESS_SMALL_VID,
            )?;
            hi |= a.pde_bits() << DUAL_APERTURE_SMALL.lo;
            if s.volatile {
                hi |= DUAL_VOL_SMALL;
            }
        }
        Ok([lo, hi])
    }

    /// The raw 16 bytes of a 2 MiB PTE: the PTE in the low word, zero in the high word (NV
    /// `vmmgp100.c` L214–227 writes the pair that way; UVM puts every non-4K PTE of this
    /// level in the first slot, OG `uvm_pascal_mmu.c` L46–63).
    pub fn encode_pte(pte: &Pte) -> Result<[u64; 2], MmuError> {
        Ok([pte.encode()?, 0])
    }

    /// Decodes a raw PD0 entry given as `[low, high]`. Never fails.
    pub fn decode(raw: [u64; 2]) -> DualPdeDecode {
        let [lo, hi] = raw;
        if lo == 0 && hi == 0 {
            return DualPdeDecode::Invalid;
        }
        if raw == DualPde::SPARSE {
            return DualPdeDecode::Sparse;
        }
        if lo & DUAL_IS_PTE != 0 {
            return match (Pte::decode(lo), hi) {
                (PteDecode::Valid(p), 0) => DualPdeDecode::Pte(p),
                _ => DualPdeDecode::Unknown(raw),
            };
        }
        let big = match TableAperture::from_pde_bits(DUAL_APERTURE_BIG.get(lo)) {
            None => {
                if lo != 0 {
                    return DualPdeDecode::Unknown(raw);
                }
                None
            }
            Some(a) => {
                let f = if a.is_system() {
                    DUAL_ADDRESS_BIG_SYS
                } else {
                    DUAL_ADDRESS_BIG_VID
                };
                let known = DUAL_APERTURE_BIG.mask() | DUAL_VOL_BIG | f.mask();
                if lo & !known != 0 {
                    return DualPdeDecode::Unknown(raw);
                }
                Some(PtPtr {
                    table: TableAddr::new(a, f.get(lo) << ADDRESS_BIG_SHIFT),
                    volatile: lo & DUAL_VOL_BIG != 0,
                })
            }
        };
        let small = match TableAperture::from_pde_bits(DUAL_APERTURE_SMALL.get(hi)) {
            None => {
                if hi != 0 {
                    return DualPdeDecode::Unknown(raw);
                }
                None
            }
            Some(a) => {
                let f = if a.is_system() {
                    DUAL_ADDRESS_SMALL_SYS
                } else {
                    DUAL_ADDRESS_SMALL_VID
                };
                let known = DUAL_APERTURE_SMALL.mask() | DUAL_VOL_SMALL | f.mask();
                if hi & !known != 0 {
                    return DualPdeDecode::Unknown(raw);
                }
                Some(PtPtr {
                    table: TableAddr::new(a, f.get(hi) << ADDRESS_SHIFT),
                    volatile: hi & DUAL_VOL_SMALL != 0,
                })
            }
        };
        // Both words were checked: at least one half is present here.
        DualPdeDecode::Tables(DualPde { big, small })
    }
}

/// Attributes of a mapping, written into every PTE of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PteFlags {
    /// VOL: accesses bypass the GPU L2 (uncached); usual for system memory.
    pub volatile: bool,
    /// READ_ONLY: writes fault.
    pub read_only: bool,
    /// PRIVILEGE: only privileged clients may access.
    pub privileged: bool,
    /// ATOMIC_DISABLE.
    pub atomic_disable: bool,
    /// KIND (see [`kind`]).
    pub kind: u8,
}

impl PteFlags {
    /// Read-write, cached, unprivileged, atomics allowed, pitch kind.
    pub const fn new() -> Self {
        PteFlags {
            volatile: false,
            read_only: false,
            privileged: false,
            atomic_disable: false,
            kind: kind::PITCH,
        }
    }
}

impl Default for PteFlags {
    fn default() -> Self {
        Self::new()
    }
}

/// A valid page-table entry, at any leaf level (small PT, big PT, PD0 low word, PD1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte {
    /// Target memory.
    pub aperture: Aperture,
    /// Physical address of the page (4 KiB-aligned at least).
    pub addr: u64,
    /// Access attributes.
    pub flags: PteFlags,
    /// ENCRYPTED (read back as found; the engine writes 0).
    pub encrypted: bool,
    /// COMPTAGLINE (video and peer memory only; the engine writes 0).
    pub comptagline: u32,
}

/// What a raw PTE holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PteDecode {
    /// All zero. As a big PTE: the MMU goes on to the 4 KiB PTEs.
    Invalid,
    /// Exactly [`Pte::SPARSE`] (only VOL set): a sparse PTE (OG `uvm_pascal_mmu.c` L324–328;
    /// NV `vmmgp100.c` L178–184). As a big PTE it also hides the 4 KiB PTEs below it.
    Sparse,
    /// Only PRIVILEGE set: an "unmapped" big PTE that hides the 4 KiB PTEs below it (OG
    /// `uvm_pascal_mmu.c` L229–242; NV `vmmgp100.c` L198–204).
    Unmapped,
    /// VALID set and every bit accounted for.
    Valid(Pte),
    /// Anything else: VALID clear with other bits, a video-memory PTE with a peer index, a
    /// system-memory PTE with bits 55:54 set.
    Unknown(u64),
}

impl Pte {
    /// The raw sparse PTE: VALID clear, VOL set, nothing else (see the module documentation).
    pub const SPARSE: u64 = PTE_VOL;

    /// A PTE for the page at `addr` in `aperture` with `flags`.
    pub const fn new(aperture: Aperture, addr: u64, flags: PteFlags) -> Self {
        Pte {
            aperture,
            addr,
            flags,
            encrypted: false,
            comptagline: 0,
        }
    }

    /// The raw 64-bit entry (VALID set).
    pub fn encode(&self) -> Result<u64, MmuError> {
        let a = self.aperture;
        let mut raw = PTE_VALID | (a.pte_bits() << PTE_APERTURE.lo);
        raw |= encode_addr(
            self.addr,
            ADDRESS_SHIFT,
            a.is_system(),
            PTE_ADDRESS_SYS,
            PTE_ADDRESS_VID,
        )?;
        if let Aperture::Peer(id) = a {
            raw |= PTE_ADDRESS_VID_PEER
                .put(u64::from(id))
                .ok_or(MmuError::InvalidArgument)?;
        }
        if self.comptagline != 0 {
            if a.is_system() {
                return Err(MmuError::InvalidArgument);
            }
            raw |= PTE_COMPTAGLINE
                .put(u64::from(self.comptagline))
                .ok_or(MmuError::InvalidArgument)?;
        }
        let f = &self.flags;
        if f.volatile {
            raw |= PTE_VOL;
        }
        if self.encrypted {
            raw |= PTE_ENCRYPTED;
        }
        if f.privileged {
            raw |= PTE_PRIVILEGE;
        }
        if f.read_only {
            raw |= PTE_READ_ONLY;
        }
        if f.atomic_disable {
            raw |= PTE_ATOMIC_DISABLE;
        }
        raw |= u64::from(f.kind) << PTE_KIND.lo;
        Ok(raw)
    }

    /// Decodes a raw PTE. Never fails.
    pub fn decode(raw: u64) -> PteDecode {
        if raw & PTE_VALID == 0 {
            return match raw {
                0 => PteDecode::Invalid,
                Pte::SPARSE => PteDecode::Sparse,
                PTE_PRIVILEGE => PteDecode::Unmapped,
                _ => PteDecode::Unknown(raw),
            };
        }
        let peer = PTE_ADDRESS_VID_PEER.get(raw);
        let aperture = match PTE_APERTURE.get(raw) {
            0 => Aperture::VideoMemory,
            1 => Aperture::Peer(peer as u8), // three bits
            2 => Aperture::SystemCoherent,
            _ => Aperture::SystemNonCoherent,
        };
        let (addr, comptagline) = if aperture.is_system() {
            if raw & PTE_SYS_UNUSED != 0 {
                return PteDecode::Unknown(raw);
            }
            (PTE_ADDRESS_SYS.get(raw), 0)
        } else {
            if aperture == Aperture::VideoMemory && peer != 0 {
                return PteDecode::Unknown(raw);
            }
            // 20 bits.
            (PTE_ADDRESS_VID.get(raw), PTE_COMPTAGLINE.get(raw) as u32)
        };
        PteDecode::Valid(Pte {
            aperture,
            addr: addr << ADDRESS_SHIFT,
            flags: PteFlags {
                volatile: raw & PTE_VOL != 0,
                read_only: raw & PTE_READ_ONLY != 0,
                privileged: raw & PTE_PRIVILEGE != 0,
                atomic_disable: raw & PTE_ATOMIC_DISABLE != 0,
                kind: PTE_KIND.get(raw) as u8, // eight bits
            },
            encrypted: raw & PTE_ENCRYPTED != 0,
            comptagline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VID: TableAperture = TableAperture::VideoMemory;
    const COH: TableAperture = TableAperture::SystemCoherent;
    const NCOH: TableAperture = TableAperture::SystemNonCoherent;

    #[test]
    fn geometry() {
        let all = [
            Level::Pd3,
            Level::Pd2,
            Level::Pd1,
            Level::Pd0,
            Level::BigPt,
            Level::SmallPt,
        ];
        let entries = [4, 512, 512, 256, 32, 512];
        let table = [32, 4096, 4096, 4096, 256, 4096];
        let alloc = [4096, 4096, 4096, 4096, 256, 4096];
        for (i, l) in all.iter().enumerate() {
            assert_eq!(l.entries(), entries[i], "{l:?}");
            assert_eq!(l.table_bytes(), table[i], "{l:?}");
            assert_eq!(l.alloc_bytes(), alloc[i], "{l:?}");
        }
        // The levels tile bits 48:12 without gaps (the two page tables share 20:x).
        assert_eq!(Level::Pd3.va_lo(), Level::Pd2.va_hi() + 1);
        assert_eq!(Level::Pd2.va_lo(), Level::Pd1.va_hi() + 1);
        assert_eq!(Level::Pd1.va_lo(), Level::Pd0.va_hi() + 1);
        assert_eq!(Level::Pd0.va_lo(), Level::BigPt.va_hi() + 1);
        assert_eq!(Level::Pd3.va_hi() + 1, VA_BITS);
        let va = 0x1_2345_6789_a000u64;
        assert_eq!(Level::Pd3.index(va), ((va >> 47) & 3) as usize);
        assert_eq!(Level::Pd2.index(va), ((va >> 38) & 511) as usize);
        assert_eq!(Level::Pd1.index(va), ((va >> 29) & 511) as usize);
        assert_eq!(Level::Pd0.index(va), ((va >> 21) & 255) as usize);
        assert_eq!(Level::BigPt.index(va), ((va >> 16) & 31) as usize);
        assert_eq!(Level::SmallPt.index(va), ((va >> 12) & 511) as usize);
        assert_eq!(PageSize::Size4K.bytes(), 4 << 10);
        assert_eq!(PageSize::Size64K.bytes(), 64 << 10);
        assert_eq!(PageSize::Size2M.bytes(), 2 << 20);
        assert_eq!(PageSize::Size512M.bytes(), 512 << 20);
        assert_eq!(Level::Pd0.entry_offset(3), 48);
        assert_eq!(Level::BigPt.entry_offset(3), 24);
    }

    #[test]
    fn pde_hand_computed() {
        // Video-memory table at 0x1234_5000: (PA >> 12) << 8 | APERTURE_VIDEO_MEMORY (1) << 1.
        let p = Pde::new(TableAddr::new(VID, 0x1234_5000));
        assert_eq!(p.encode(), Ok(0x0123_4502));
        // System coherent at 0x1_2345_6000, volatile: 0x123456 << 8 | 2 << 1 | 1 << 3.
        let p = Pde {
            table: TableAddr::new(COH, 0x1_2345_6000),
            volatile: true,
            no_ats: false,
        };
        assert_eq!(p.encode(), Ok(0x1234_560c));
        assert_eq!(Pde::decode(0x1234_560c), PdeDecode::Table(p));
        // Non-coherent, NO_ATS, highest system address.
        let p = Pde {
            table: TableAddr::new(NCOH, SYS_PA_LIMIT - 4096),
            volatile: false,
            no_ats: true,
        };
        let raw = p.encode().unwrap();
        assert_eq!(raw, (((1u64 << 46) - 1) << 8) | (3 << 1) | (1 << 5));
        assert_eq!(Pde::decode(raw), PdeDecode::Table(p));
        // Limits and alignment.
        assert_eq!(
            Pde::new(TableAddr::new(VID, VID_PA_LIMIT)).encode(),
            Err(MmuError::PaOutOfRange)
        );
        assert_eq!(
            Pde::new(TableAddr::new(VID, 0x1000_0100)).encode(),
            Err(MmuError::Misaligned)
        );
        // Invalid, and sparse: aperture INVALID with VOL and nothing else.
        assert_eq!(Pde::decode(0), PdeDecode::Invalid);
        assert_eq!(Pde::SPARSE, 8);
        assert_eq!(Pde::decode(1 << 3), PdeDecode::Sparse);
        // Things this module never writes decode as Unknown, not as something else.
        assert_eq!(Pde::decode(8 | 1 << 5), PdeDecode::Unknown(8 | 1 << 5));
        assert_eq!(
            Pde::decode(0x0123_4502 | (1 << 33)),
            PdeDecode::Unknown(0x0123_4502 | (1 << 33))
        );
        assert_eq!(
            Pde::decode(0x0123_4502 | (1 << 63)),
            PdeDecode::Unknown(0x0123_4502 | (1 << 63))
        );
        assert_eq!(
            Pde::decode(0x0123_4502 | (1 << 4)),
            PdeDecode::Unknown(0x0123_4502 | (1 << 4))
        );
        // A PTE in a PD1 entry (512 MiB page at video 0x2000_0000).
        let pte = Pte::new(Aperture::VideoMemory, 0x2000_0000, PteFlags::new());
        assert_eq!(Pde::decode(0x0200_0001), PdeDecode::Pte(pte));
    }

    #[test]
    fn dual_pde_hand_computed() {
        // Big table at video 0x1000_0100 (256-byte aligned): PA >> 8 = 0x10_0001 in 32:4,
        // aperture 1 in 2:1. Small table at system non-coherent 0x2000_0000: PA >> 12 in
        // high-word 53:8, aperture 3 in high-word 2:1, VOL_SMALL in high-word bit 3.
        let d = DualPde {
            big: Some(PtPtr {
                table: TableAddr::new(VID, 0x1000_0100),
                volatile: false,
            }),
            small: Some(PtPtr {
                table: TableAddr::new(NCOH, 0x2000_0000),
                volatile: true,
            }),
        };
        assert_eq!(d.encode(), Ok([0x0100_0012, 0x0200_000e]));
        assert_eq!(
            DualPde::decode([0x0100_0012, 0x0200_000e]),
            DualPdeDecode::Tables(d)
        );
        // Big half only, system coherent, volatile, at 0x3_0000_0300.
        let d = DualPde {
            big: Some(PtPtr {
                table: TableAddr::new(COH, 0x3_0000_0300),
                volatile: true,
            }),
            small: None,
        };
        // Bit 5 is PA bit 9 here (see DUAL_ADDRESS_BIG_SYS).
        assert_eq!(d.encode(), Ok([0x3000_0030 | 4 | 8, 0]));
        assert_eq!(DualPde::decode([0x3000_003c, 0]), DualPdeDecode::Tables(d));
        // Small half only, video.
        let d = DualPde {
            big: None,
            small: Some(PtPtr {
                table: TableAddr::new(VID, 0x5000),
                volatile: false,
            }),
        };
        assert_eq!(d.encode(), Ok([0, 0x502]));
        assert_eq!(DualPde::decode([0, 0x502]), DualPdeDecode::Tables(d));
        // The big half must be 256-byte aligned, the small half 4 KiB aligned.
        let mut bad = d;
        bad.small = Some(PtPtr {
            table: TableAddr::new(VID, 0x5100),
            volatile: false,
        });
        assert_eq!(bad.encode(), Err(MmuError::Misaligned));
        // 2 MiB PTE: PTE in the low word, high word zero.
        let pte = Pte::new(Aperture::VideoMemory, 0x40_0000, PteFlags::new());
        assert_eq!(DualPde::encode_pte(&pte), Ok([0x4_0001, 0]));
        assert_eq!(DualPde::decode([0x4_0001, 0]), DualPdeDecode::Pte(pte));
        assert_eq!(
            DualPde::decode([0x4_0001, 1]),
            DualPdeDecode::Unknown([0x4_0001, 1])
        );
        // Sparse PD0 (VOL_BIG only); VOL_BIG with anything else, VOL_SMALL alone, bit 5
        // without a big table, junk in the small word.
        assert_eq!(DualPde::SPARSE, [8, 0]);
        assert_eq!(DualPde::decode([8, 0]), DualPdeDecode::Sparse);
        assert_eq!(
            DualPde::decode([8, 0x502]),
            DualPdeDecode::Unknown([8, 0x502])
        );
        assert_eq!(DualPde::decode([8, 8]), DualPdeDecode::Unknown([8, 8]));
        assert_eq!(DualPde::decode([32, 0]), DualPdeDecode::Unknown([32, 0]));
        assert_eq!(DualPde::decode([0, 8]), DualPdeDecode::Unknown([0, 8]));
        assert_eq!(
            DualPde::decode([0, 0x502 | (1 << 60)]),
            DualPdeDecode::Unknown([0, 0x502 | (1 << 60)])
        );
        assert_eq!(DualPde::decode([0, 0]), DualPdeDecode::Invalid);
    }

    #[test]
    fn pte_hand_computed() {
        // Video 0x8000_0000, read-only, kind GENERIC_MEMORY: VALID | RO (bit 6) | PA >> 12 in
        // 32:8 | 0x06 << 56.
        let f = PteFlags {
            read_only: true,
            kind: kind::GENERIC_MEMORY,
            ..PteFlags::new()
        };
        let p = Pte::new(Aperture::VideoMemory, 0x8000_0000, f);
        assert_eq!(p.encode(), Ok(0x0600_0000_0800_0041));
        assert_eq!(Pte::decode(0x0600_0000_0800_0041), PteDecode::Valid(p));
        // System coherent (aperture 2) 0x3_0000_0000, volatile.
        let f = PteFlags {
            volatile: true,
            ..PteFlags::new()
        };
        let p = Pte::new(Aperture::SystemCoherent, 0x3_0000_0000, f);
        assert_eq!(p.encode(), Ok(0x3000_000d));
        // Peer 3 (aperture 1, peer index in 35:33) at 0x1000.
        let p = Pte::new(Aperture::Peer(3), 0x1000, PteFlags::new());
        assert_eq!(p.encode(), Ok(0x6_0000_0103));
        assert_eq!(Pte::decode(0x6_0000_0103), PteDecode::Valid(p));
        // Non-coherent, privileged, atomics off.
        let f = PteFlags {
            privileged: true,
            atomic_disable: true,
            ..PteFlags::new()
        };
        let p = Pte::new(Aperture::SystemNonCoherent, 0x1000, f);
        assert_eq!(p.encode(), Ok(0x100 | 1 | 6 | 0x20 | 0x80));
        // Errors.
        assert_eq!(
            Pte::new(Aperture::Peer(8), 0, PteFlags::new()).encode(),
            Err(MmuError::InvalidArgument)
        );
        assert_eq!(
            Pte::new(Aperture::VideoMemory, VID_PA_LIMIT, PteFlags::new()).encode(),
            Err(MmuError::PaOutOfRange)
        );
        assert_eq!(
            Pte::new(Aperture::SystemCoherent, VID_PA_LIMIT, PteFlags::new()).encode(),
            Ok(VID_PA_LIMIT >> 4 | 5)
        );
        assert_eq!(
            Pte::new(Aperture::VideoMemory, 0x800, PteFlags::new()).encode(),
            Err(MmuError::Misaligned)
        );
        let mut c = Pte::new(Aperture::SystemCoherent, 0, PteFlags::new());
        c.comptagline = 1;
        assert_eq!(c.encode(), Err(MmuError::InvalidArgument));
        c.aperture = Aperture::VideoMemory;
        assert_eq!(c.encode(), Ok(1 | (1 << 36)));
        c.comptagline = 1 << 20;
        assert_eq!(c.encode(), Err(MmuError::InvalidArgument));
        // Invalid patterns.
        assert_eq!(Pte::decode(0), PteDecode::Invalid);
        assert_eq!(Pte::decode(8), PteDecode::Sparse);
        assert_eq!(Pte::SPARSE, 8);
        assert_eq!(Pte::decode(32), PteDecode::Unmapped);
        assert_eq!(Pte::decode(40), PteDecode::Unknown(40));
        assert_eq!(Pte::decode(0x100), PteDecode::Unknown(0x100));
        assert_eq!(
            Pte::decode(1 | (1 << 33)),
            PteDecode::Unknown(1 | (1 << 33))
        );
        assert_eq!(
            Pte::decode(5 | (1 << 54)),
            PteDecode::Unknown(5 | (1 << 54))
        );
    }

    #[test]
    fn pte_round_trip() {
        // A deterministic sweep over apertures, flags and address bits.
        let apertures = [
            Aperture::VideoMemory,
            Aperture::Peer(0),
            Aperture::Peer(7),
            Aperture::SystemCoherent,
            Aperture::SystemNonCoherent,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..4000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = apertures[(i % 5) as usize];
            let addr = (x % a.pa_limit()) & !0xfff;
            let p = Pte {
                aperture: a,
                addr,
                flags: PteFlags {
                    volatile: x & 1 != 0,
                    read_only: x & 2 != 0,
                    privileged: x & 4 != 0,
                    atomic_disable: x & 8 != 0,
                    kind: (x >> 56) as u8,
                },
                encrypted: x & 16 != 0,
                comptagline: if a.is_system() {
                    0
                } else {
                    ((x >> 20) & 0xf_ffff) as u32
                },
            };
            let raw = p.encode().unwrap();
            assert_eq!(Pte::decode(raw), PteDecode::Valid(p), "{p:?}");
            let t = TableAddr::new(
                match i % 3 {
                    0 => VID,
                    1 => COH,
                    _ => NCOH,
                },
                0,
            );
            let t = TableAddr::new(
                t.aperture,
                (x % t.aperture.as_aperture().pa_limit()) & !0xfff,
            );
            let pde = Pde {
                table: t,
                volatile: x & 32 != 0,
                no_ats: x & 64 != 0,
            };
            assert_eq!(Pde::decode(pde.encode().unwrap()), PdeDecode::Table(pde));
            let d = DualPde {
                big: Some(PtPtr {
                    table: TableAddr::new(t.aperture, t.addr | ((x >> 8) & 0xf00)),
                    volatile: x & 128 != 0,
                }),
                small: if x & 256 != 0 {
                    Some(PtPtr {
                        table: t,
                        volatile: x & 512 != 0,
                    })
                } else {
                    None
                },
            };
            assert_eq!(
                DualPde::decode(d.encode().unwrap()),
                DualPdeDecode::Tables(d)
            );
        }
    }
}
