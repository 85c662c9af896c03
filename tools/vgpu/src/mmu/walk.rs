// SPDX-License-Identifier: GPL-2.0
//! The page-table walk: from a page directory base (PDB) and a virtual address to a
//! translation, a sparse range, or a fault with the hardware's fault type.
//!
//! Order of the walk (docs/facts/ga102.md §12.1; [`super::format`] for the entry layouts and sources):
//! 1. VA bits above 48 set: `VA_LIMIT_VIOLATION`.
//! 2. PD3, PD2, PD1 (8-byte entries). IS_PTE set: a 512 MiB PTE in PD1 (GA10x); in PD3 or PD2,
//!    where no PTE can be, a `PDE` fault (model choice). APERTURE INVALID: sparse with VOL,
//!    else a `PDE` fault. Otherwise the next table.
//! 3. PD0 (16-byte dual entry). IS_PTE set: a 2 MiB PTE in the low 8 bytes. Both halves
//!    INVALID: sparse with VOL_BIG, else a `PDE` fault.
//! 4. Big half present: the big-page PTE (64 KiB or 128 KiB, from the VA space's big-page
//!    size). VALID: mapped. Not valid with PRIVILEGE: the small PTEs are ignored and the
//!    access faults (`PTE`). Not valid with VOL: sparse. Otherwise the small page table
//!    decides (nouveau vmm.c L460-467, vmmgp100.c L182/L202).
//! 5. Small half present: the 4 KiB PTE: VALID mapped, VOL sparse, else a `PTE` fault. No
//!    small half: a `PTE` fault.
//!
//! A valid PTE with the PEER aperture faults `UNSUPPORTED_APERTURE` (no peer GPU exists; model
//! choice). A large PTE's address is used aligned down to its page size (model choice). A
//! table entry the device cannot read (past the end of VRAM, unmapped guest memory) reads as
//! 0, i.e. invalid. Permission checks ([`check_access`]): a write through a READ_ONLY PTE is a
//! `RO_VIOLATION`; PRIVILEGE, ATOMIC_DISABLE, ENCRYPTED and KIND are reported, not enforced.

use super::format::{
    decode_dual_pde, decode_pde, field, is_pte, Aperture, BigPage, Level, Pde, Pte, SMALL_SHIFT,
    VA_BITS,
};

/// `NV_PFAULT_FAULT_TYPE_*` (OD `turing/tu104/dev_fault.ref.txt` L22-37; docs/facts/ga102.md §12.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FaultType {
    /// Invalid PDE.
    Pde = 0x0,
    /// PDE size mismatch (not produced by this model).
    PdeSize = 0x1,
    /// Invalid PTE.
    Pte = 0x2,
    /// VA beyond the VA space.
    VaLimit = 0x3,
    /// The instance block cannot be used (target INVALID, old format, 128 KiB big pages).
    UnboundInstBlock = 0x4,
    /// Privilege violation (not produced).
    Priv = 0x5,
    /// Write through a read-only PTE.
    Ro = 0x6,
    /// Write-only violation (not produced).
    Wo = 0x7,
    /// Pitch-mask violation (not produced).
    PitchMask = 0x8,
    /// Work creation (not produced).
    WorkCreation = 0x9,
    /// The PTE's aperture cannot be reached.
    UnsupportedAperture = 0xa,
    /// Compression failure (not produced).
    CompressionFailure = 0xb,
    /// Unsupported kind (not produced).
    UnsupportedKind = 0xc,
    /// Region violation (not produced).
    Region = 0xd,
    /// Poisoned memory (not produced).
    Poisoned = 0xe,
    /// Atomic violation (not produced).
    Atomic = 0xf,
}

impl FaultType {
    /// The manual's name without the prefix.
    pub fn name(self) -> &'static str {
        match self {
            FaultType::Pde => "PDE",
            FaultType::PdeSize => "PDE_SIZE",
            FaultType::Pte => "PTE",
            FaultType::VaLimit => "VA_LIMIT_VIOLATION",
            FaultType::UnboundInstBlock => "UNBOUND_INST_BLOCK",
            FaultType::Priv => "PRIV_VIOLATION",
            FaultType::Ro => "RO_VIOLATION",
            FaultType::Wo => "WO_VIOLATION",
            FaultType::PitchMask => "PITCH_MASK_VIOLATION",
            FaultType::WorkCreation => "WORK_CREATION",
            FaultType::UnsupportedAperture => "UNSUPPORTED_APERTURE",
            FaultType::CompressionFailure => "COMPRESSION_FAILURE",
            FaultType::UnsupportedKind => "UNSUPPORTED_KIND",
            FaultType::Region => "REGION_VIOLATION",
            FaultType::Poisoned => "POISONED",
            FaultType::Atomic => "ATOMIC_VIOLATION",
        }
    }
}

/// A page directory base: where a VA space's PD3 is and how big its big pages are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pdb {
    /// Video or system memory.
    pub aperture: Aperture,
    /// Physical address of PD3 (4 KiB aligned).
    pub addr: u64,
    /// Big-page size.
    pub big_page: BigPage,
}

/// A successful translation of one VA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    /// Where the page is.
    pub aperture: Aperture,
    /// Physical address of the translated VA (not of the page).
    pub pa: u64,
    /// log2 of the page size: 12, 16, 17, 21 or 29.
    pub page_shift: u32,
    /// READ_ONLY.
    pub read_only: bool,
    /// KIND.
    pub kind: u8,
    /// VOL.
    pub vol: bool,
    /// PRIVILEGE.
    pub privileged: bool,
    /// ATOMIC_DISABLE.
    pub atomic_disable: bool,
    /// ENCRYPTED.
    pub encrypted: bool,
    /// Peer index (0 unless the aperture is a peer's).
    pub peer: u8,
}

impl Translation {
    /// Physical address of the page.
    pub fn page_pa(&self) -> u64 {
        self.pa & !((1u64 << self.page_shift) - 1)
    }

    /// The same page, translating `va` instead (a TLB hit for another VA of the page).
    pub fn at(&self, va: u64) -> Translation {
        Translation {
            pa: self.page_pa() | (va & ((1u64 << self.page_shift) - 1)),
            ..*self
        }
    }
}

/// What the walk found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A page.
    Mapped(Translation),
    /// A sparse range of 2^`shift` bytes: reads 0, writes dropped, no fault.
    Sparse {
        /// log2 of the size of the sparse range the entry covers.
        shift: u32,
    },
    /// A fault.
    Fault(FaultType),
}

/// Which table an entry was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// A page directory.
    Dir(Level),
    /// The big-page table under a PD0 entry.
    BigPt,
    /// The 4 KiB page table under a PD0 entry.
    SmallPt,
}

impl Table {
    /// Name for traces.
    pub fn name(self) -> &'static str {
        match self {
            Table::Dir(l) => l.name(),
            Table::BigPt => "PTbig",
            Table::SmallPt => "PT4K",
        }
    }
}

/// One entry read during a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The table.
    pub table: Table,
    /// Where the entry is.
    pub aperture: Aperture,
    /// Its address.
    pub addr: u64,
    /// Its value (16 bytes for PD0), None if it could not be read.
    pub raw: Option<u128>,
    /// Whether it came from the TLB's directory cache rather than memory.
    pub cached: bool,
}

/// A walk: the outcome and the entries read on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    /// The result.
    pub outcome: Outcome,
    /// Entries, root first.
    pub steps: Vec<Step>,
}

/// Physical memory the walker reads tables from and accesses go to.
pub trait PhysMem {
    /// Reads `buf.len()` bytes at `pa`; false when nothing backs the range.
    fn read(&self, aperture: Aperture, pa: u64, buf: &mut [u8]) -> bool;
    /// Writes `buf` at `pa`; false when nothing backs the range.
    fn write(&self, aperture: Aperture, pa: u64, buf: &[u8]) -> bool;
}

/// Where the walker gets entries: memory, or a TLB in front of it.
pub trait Entries {
    /// Reads the `table` entry for `va` at `addr` (8 bytes, 16 for PD0). The bool says whether
    /// it came from a cache.
    fn entry(
        &mut self,
        table: Table,
        va: u64,
        aperture: Aperture,
        addr: u64,
    ) -> (Option<u128>, bool);
}

/// Entries read straight from memory.
pub struct Direct<'a>(pub &'a dyn PhysMem);

/// Reads one entry of `table` from memory.
pub fn read_entry(mem: &dyn PhysMem, table: Table, aperture: Aperture, addr: u64) -> Option<u128> {
    if table == Table::Dir(Level::Pd0) {
        let mut b = [0u8; 16];
        mem.read(aperture, addr, &mut b)
            .then(|| u128::from_le_bytes(b))
    } else {
        let mut b = [0u8; 8];
        mem.read(aperture, addr, &mut b)
            .then(|| u128::from(u64::from_le_bytes(b)))
    }
}

impl Entries for Direct<'_> {
    fn entry(
        &mut self,
        table: Table,
        _va: u64,
        aperture: Aperture,
        addr: u64,
    ) -> (Option<u128>, bool) {
        (read_entry(self.0, table, aperture, addr), false)
    }
}

/// Walks `pdb` for `va`, reading tables straight from `mem`.
pub fn walk(mem: &dyn PhysMem, pdb: &Pdb, va: u64) -> Walk {
    walk_with(&mut Direct(mem), pdb, va)
}

/// Walks `pdb` for `va`, reading entries through `src`.
pub fn walk_with(src: &mut dyn Entries, pdb: &Pdb, va: u64) -> Walk {
    let mut steps = Vec::with_capacity(5);
    let outcome = walk_inner(src, pdb, va, &mut steps);
    Walk { outcome, steps }
}

fn read(
    src: &mut dyn Entries,
    steps: &mut Vec<Step>,
    table: Table,
    va: u64,
    aperture: Aperture,
    addr: u64,
) -> u128 {
    let (raw, cached) = src.entry(table, va, aperture, addr);
    steps.push(Step {
        table,
        aperture,
        addr,
        raw,
        cached,
    });
    raw.unwrap_or(0)
}

/// A valid PTE covering 2^`shift` bytes, translated for `va`.
fn leaf(raw: u64, shift: u32, va: u64) -> Outcome {
    let p = Pte::decode(raw);
    if p.aperture == Aperture::Peer {
        return Outcome::Fault(FaultType::UnsupportedAperture);
    }
    let mask = (1u64 << shift) - 1;
    Outcome::Mapped(Translation {
        aperture: p.aperture,
        pa: (p.addr & !mask) | (va & mask),
        page_shift: shift,
        read_only: p.read_only,
        kind: p.kind,
        vol: p.vol,
        privileged: p.privileged,
        atomic_disable: p.atomic_disable,
        encrypted: p.encrypted,
        peer: p.peer,
    })
}

fn walk_inner(src: &mut dyn Entries, pdb: &Pdb, va: u64, steps: &mut Vec<Step>) -> Outcome {
    if va >> VA_BITS != 0 {
        return Outcome::Fault(FaultType::VaLimit);
    }
    let (mut aperture, mut table) = (pdb.aperture, pdb.addr);
    for level in [Level::Pd3, Level::Pd2, Level::Pd1] {
        let at = table + level.index(va) * level.entry_size();
        let raw = read(src, steps, Table::Dir(level), va, aperture, at) as u64;
        if is_pte(raw) {
            return if level.holds_pte() {
                leaf(raw, level.shift(), va)
            } else {
                Outcome::Fault(FaultType::Pde)
            };
        }
        match decode_pde(raw) {
            Pde::Table {
                aperture: a, addr, ..
            } => (aperture, table) = (a, addr),
            Pde::Sparse => {
                return Outcome::Sparse {
                    shift: level.shift(),
                }
            }
            Pde::Invalid => return Outcome::Fault(FaultType::Pde),
        }
    }
    let at = table + Level::Pd0.index(va) * Level::Pd0.entry_size();
    let raw = read(src, steps, Table::Dir(Level::Pd0), va, aperture, at);
    let lo = raw as u64;
    if is_pte(lo) {
        return leaf(lo, Level::Pd0.shift(), va);
    }
    let (big, small) = decode_dual_pde(raw);
    if big == Pde::Invalid && small == Pde::Invalid {
        return if lo & (1 << 3) != 0 {
            Outcome::Sparse {
                shift: Level::Pd0.shift(),
            }
        } else {
            Outcome::Fault(FaultType::Pde)
        };
    }
    if let Pde::Table {
        aperture: a, addr, ..
    } = big
    {
        let shift = pdb.big_page.shift();
        let index = field(va, Level::Pd0.shift() - 1, shift);
        let pte = read(src, steps, Table::BigPt, va, a, addr + 8 * index) as u64;
        if pte & 1 != 0 {
            return leaf(pte, shift, va);
        }
        if pte & (1 << 5) != 0 {
            return Outcome::Fault(FaultType::Pte);
        }
        if pte & (1 << 3) != 0 {
            return Outcome::Sparse { shift };
        }
    }
    match small {
        Pde::Table {
            aperture: a, addr, ..
        } => {
            let index = field(va, Level::Pd0.shift() - 1, SMALL_SHIFT);
            let pte = read(src, steps, Table::SmallPt, va, a, addr + 8 * index) as u64;
            if pte & 1 != 0 {
                leaf(pte, SMALL_SHIFT, va)
            } else if pte & (1 << 3) != 0 {
                Outcome::Sparse { shift: SMALL_SHIFT }
            } else {
                Outcome::Fault(FaultType::Pte)
            }
        }
        _ => Outcome::Fault(FaultType::Pte),
    }
}

/// The kind of access being translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A read (`ACCESS_TYPE_VIRT_READ` 0).
    Read,
    /// A write (`ACCESS_TYPE_VIRT_WRITE` 1).
    Write,
}

impl Access {
    /// `NV_PFAULT_ACCESS_TYPE_VIRT_*` (OD `turing/tu104/dev_fault.ref.txt` L43-44).
    pub fn fault_code(self) -> u32 {
        match self {
            Access::Read => 0,
            Access::Write => 1,
        }
    }

    /// "R" or "W".
    pub fn letter(self) -> &'static str {
        match self {
            Access::Read => "R",
            Access::Write => "W",
        }
    }
}

/// Whether `t` allows `access`: a write through a READ_ONLY PTE is an `RO_VIOLATION`.
pub fn check_access(t: &Translation, access: Access) -> Result<(), FaultType> {
    if access == Access::Write && t.read_only {
        Err(FaultType::Ro)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
