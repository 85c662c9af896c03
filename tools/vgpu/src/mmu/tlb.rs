// SPDX-License-Identifier: GPL-2.0
//! The hub TLB: translations and page-directory entries cached per PDB, dropped only by an
//! invalidate (or a reset). A driver that changes a page table and does not invalidate keeps
//! getting the old translation, as on hardware.
//!
//! What is cached, per PDB:
//! - leaves: every completed translation and every sparse range, keyed by page size and page
//!   number (a lookup tries 4 KiB, the big-page size, 2 MiB, 512 MiB and the sparse ranges of
//!   the upper levels, smallest first);
//! - directory entries that point to a next-level table (PD3, PD2, PD1 PDEs and PD0 dual PDEs),
//!   keyed by level and the VA bits above the level's index. Entries that are PTEs (2 MiB,
//!   512 MiB) are cached only as leaves.
//!
//! Faults are not cached: an access that faulted walks the tables again next time (model
//! choice; whether the hardware caches negative results is not published).
//!
//! Invalidation (`NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE`, docs/facts/ga102.md §12.4) drops the leaves and,
//! by `CACHE_LEVEL` (26:24), directory entries: ALL (0) everything, PTE_ONLY (1) no directory
//! entry, UP_TO_PDE0..UP_TO_PDE3 (2-5) the directory levels up to PDn, where PD0 is the dual
//! level and PD3 the root ("invalidate affects this level and all below", OG 570.144
//! `clc56f.h` L165-173; UVM numbers the root UP_TO_PDE3, `uvm_ampere_host.c` L238-241). The
//! version-2 format has no PDE4/PDE5, so UP_TO_PDE4/5 (6, 7) drop everything.

use super::format::{decode_dual_pde, decode_pde, is_pte, Aperture, Level, Pde};
use super::walk::{walk_with, Entries, Outcome, Pdb, PhysMem, Step, Table, Translation};
use std::collections::HashMap;

/// A PDB as the invalidate registers name it: the 1-bit aperture (0 video, 1 system) and the
/// address (`INVALIDATE_PDB_APERTURE` 1:1, docs/facts/ga102.md §12.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PdbKey {
    /// System memory (either coherence).
    pub sys: bool,
    /// Physical address of PD3.
    pub addr: u64,
}

impl From<&Pdb> for PdbKey {
    fn from(p: &Pdb) -> Self {
        PdbKey {
            sys: p.aperture.is_sys(),
            addr: p.addr,
        }
    }
}

impl std::fmt::Display for PdbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{:#x}",
            if self.sys { "sys" } else { "vid" },
            self.addr
        )
    }
}

/// `CACHE_LEVEL` of an invalidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheLevel {
    /// ALL (0).
    All,
    /// PTE_ONLY (1).
    PteOnly,
    /// UP_TO_PDEn (2 + n), n = 0 (PD0) .. 3 (PD3).
    UpToPde(u32),
}

impl CacheLevel {
    /// From the 3-bit field.
    pub fn from_field(v: u32) -> CacheLevel {
        match v & 7 {
            0 => CacheLevel::All,
            1 => CacheLevel::PteOnly,
            n => CacheLevel::UpToPde(n - 2),
        }
    }

    /// Whether cached entries of directory `level` go.
    pub fn drops(self, level: Level) -> bool {
        match self {
            CacheLevel::All => true,
            CacheLevel::PteOnly => false,
            CacheLevel::UpToPde(n) => level.number() <= n,
        }
    }

    /// Name for traces.
    pub fn name(self) -> String {
        match self {
            CacheLevel::All => "ALL".into(),
            CacheLevel::PteOnly => "PTE_ONLY".into(),
            CacheLevel::UpToPde(n) => format!("UP_TO_PDE{n}"),
        }
    }
}

/// A cached leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leaf {
    Mapped(Translation),
    Sparse,
}

#[derive(Default)]
struct Space {
    /// (level, va >> level.shift()) -> raw entry.
    dirs: HashMap<(Level, u64), u128>,
    /// (page shift, va >> shift) -> leaf.
    leaves: HashMap<(u32, u64), Leaf>,
}

/// A TLB lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The result.
    pub outcome: Outcome,
    /// Whether it came from a cached leaf (no walk).
    pub hit: bool,
    /// The entries read (empty on a hit; cached directory entries are marked).
    pub steps: Vec<Step>,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbStats {
    /// Lookups answered from a cached leaf.
    pub hits: u64,
    /// Lookups that walked.
    pub walks: u64,
    /// Invalidates performed.
    pub invalidates: u64,
}

/// The TLB.
#[derive(Default)]
pub struct Tlb {
    spaces: HashMap<PdbKey, Space>,
    stats: TlbStats,
}

/// Page sizes a leaf may have, smallest first: 4 KiB, 64/128 KiB, 2 MiB, 512 MiB, and the
/// ranges a sparse PD2/PD3 entry covers.
const SHIFTS: [u32; 7] = [12, 16, 17, 21, 29, 38, 47];

struct Cached<'a> {
    mem: &'a dyn PhysMem,
    space: &'a mut Space,
}

/// Whether a directory entry points to a next-level table (the only kind the TLB keeps).
fn points_down(level: Level, raw: u128) -> bool {
    if level == Level::Pd0 {
        let (big, small) = decode_dual_pde(raw);
        !is_pte(raw as u64)
            && (matches!(big, Pde::Table { .. }) || matches!(small, Pde::Table { .. }))
    } else {
        !is_pte(raw as u64) && matches!(decode_pde(raw as u64), Pde::Table { .. })
    }
}

impl Entries for Cached<'_> {
    fn entry(
        &mut self,
        table: Table,
        va: u64,
        aperture: Aperture,
        addr: u64,
    ) -> (Option<u128>, bool) {
        let Table::Dir(level) = table else {
            return (
                super::walk::read_entry(self.mem, table, aperture, addr),
                false,
            );
        };
        let key = (level, va >> level.shift());
        if let Some(&raw) = self.space.dirs.get(&key) {
            return (Some(raw), true);
        }
        let raw = super::walk::read_entry(self.mem, table, aperture, addr);
        if let Some(r) = raw.filter(|&r| points_down(level, r)) {
            self.space.dirs.insert(key, r);
        }
        (raw, false)
    }
}

impl Tlb {
    /// An empty TLB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters.
    pub fn stats(&self) -> TlbStats {
        self.stats
    }

    /// Number of cached leaves and directory entries (all PDBs).
    pub fn len(&self) -> usize {
        self.spaces
            .values()
            .map(|s| s.leaves.len() + s.dirs.len())
            .sum()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Translates `va` in `pdb`: a cached leaf, or a walk through the directory cache.
    pub fn lookup(&mut self, mem: &dyn PhysMem, pdb: &Pdb, va: u64) -> Lookup {
        let space = self.spaces.entry(PdbKey::from(pdb)).or_default();
        for shift in SHIFTS {
            if let Some(leaf) = space.leaves.get(&(shift, va >> shift)) {
                self.stats.hits += 1;
                let outcome = match leaf {
                    Leaf::Mapped(t) => Outcome::Mapped(t.at(va)),
                    Leaf::Sparse => Outcome::Sparse { shift },
                };
                return Lookup {
                    outcome,
                    hit: true,
                    steps: vec![],
                };
            }
        }
        self.stats.walks += 1;
        let w = walk_with(&mut Cached { mem, space }, pdb, va);
        match w.outcome {
            Outcome::Mapped(t) => {
                space
                    .leaves
                    .insert((t.page_shift, va >> t.page_shift), Leaf::Mapped(t));
            }
            Outcome::Sparse { shift } => {
                space.leaves.insert((shift, va >> shift), Leaf::Sparse);
            }
            Outcome::Fault(_) => {}
        }
        Lookup {
            outcome: w.outcome,
            hit: false,
            steps: w.steps,
        }
    }

    /// Drops what `level` covers, for one PDB or (None) all; returns how many entries went.
    pub fn invalidate(&mut self, pdb: Option<PdbKey>, level: CacheLevel) -> usize {
        self.stats.invalidates += 1;
        let mut n = 0;
        for (key, space) in self.spaces.iter_mut() {
            if pdb.is_some_and(|p| p != *key) {
                continue;
            }
            n += space.leaves.len();
            space.leaves.clear();
            let before = space.dirs.len();
            space.dirs.retain(|(l, _), _| !level.drops(*l));
            n += before - space.dirs.len();
        }
        self.spaces
            .retain(|_, s| !s.leaves.is_empty() || !s.dirs.is_empty());
        n
    }

    /// Drops everything (reset).
    pub fn clear(&mut self) {
        self.spaces.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::format::build::{dual_pde, pde, pte, PTE_SPARSE};
    use crate::mmu::format::BigPage;
    use crate::mmu::mem::testing::{Rig, GPA};
    use crate::mmu::walk::FaultType;

    const VID: Aperture = Aperture::Video;
    const PD3: u64 = 0x10_0000;
    const PD2: u64 = 0x10_1000;
    const PD1: u64 = 0x10_2000;
    const PD0: u64 = 0x10_3000;
    const PT: u64 = 0x10_4000;
    const VA: u64 = 0x0040_1000;

    fn pdb() -> Pdb {
        Pdb {
            aperture: VID,
            addr: PD3,
            big_page: BigPage::K64,
        }
    }

    /// VA -> PD3[0] -> PD2[0] -> PD1[0] -> PD0[2] -> PT[1] -> `page`.
    fn map(r: &Rig, page: u64) {
        r.put64(VID, PD3, pde(VID, PD2));
        r.put64(VID, PD2, pde(VID, PD1));
        r.put64(VID, PD1, pde(VID, PD0));
        r.put128(VID, PD0 + 16 * 2, dual_pde(None, Some((VID, PT))));
        r.put64(VID, PT + 8, pte(VID, page, 0, 0));
    }

    fn pa(l: &Lookup) -> u64 {
        match l.outcome {
            Outcome::Mapped(t) => t.pa,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn hits_after_a_walk_and_stays_stale_until_invalidated() {
        let r = Rig::new();
        map(&r, 0x5000);
        let mut t = Tlb::new();
        let a = t.lookup(&r.mem, &pdb(), VA + 4);
        assert!(!a.hit);
        assert_eq!(pa(&a), 0x5004);
        assert_eq!(a.steps.len(), 5);
        let b = t.lookup(&r.mem, &pdb(), VA + 0xff0);
        assert!(b.hit && b.steps.is_empty());
        assert_eq!(pa(&b), 0x5ff0);
        // Remap without invalidating: the old page is still used.
        r.put64(VID, PT + 8, pte(VID, 0x9000, 0, 0));
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x5000);
        // Unmap without invalidating: still translates.
        r.put64(VID, PT + 8, 0);
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x5000);
        r.put64(VID, PT + 8, pte(VID, 0x9000, 0, 0));
        assert_eq!(t.invalidate(Some(PdbKey::from(&pdb())), CacheLevel::All), 5);
        let c = t.lookup(&r.mem, &pdb(), VA);
        assert_eq!((c.hit, pa(&c)), (false, 0x9000));
        assert_eq!(
            t.stats(),
            TlbStats {
                hits: 3,
                walks: 2,
                invalidates: 1
            }
        );
    }

    #[test]
    fn faults_are_not_cached() {
        let r = Rig::new();
        let mut t = Tlb::new();
        assert_eq!(
            t.lookup(&r.mem, &pdb(), VA).outcome,
            Outcome::Fault(FaultType::Pde)
        );
        assert!(t.is_empty());
        map(&r, 0x5000);
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x5000);
    }

    #[test]
    fn sparse_ranges_are_cached() {
        let r = Rig::new();
        map(&r, 0x5000);
        r.put64(VID, PT + 8, PTE_SPARSE);
        let mut t = Tlb::new();
        assert_eq!(
            t.lookup(&r.mem, &pdb(), VA).outcome,
            Outcome::Sparse { shift: 12 }
        );
        r.put64(VID, PT + 8, pte(VID, 0x5000, 0, 0));
        let l = t.lookup(&r.mem, &pdb(), VA);
        assert_eq!((l.hit, l.outcome), (true, Outcome::Sparse { shift: 12 }));
    }

    #[test]
    fn other_pdbs_are_untouched_by_a_targeted_invalidate() {
        let r = Rig::new();
        map(&r, 0x5000);
        // A second VA space in guest memory sharing the same PD2.
        r.put64(Aperture::SysCoherent, GPA, pde(VID, PD2));
        let other = Pdb {
            aperture: Aperture::SysCoherent,
            addr: GPA,
            big_page: BigPage::K64,
        };
        let mut t = Tlb::new();
        t.lookup(&r.mem, &pdb(), VA);
        t.lookup(&r.mem, &other, VA);
        r.put64(VID, PT + 8, pte(VID, 0x9000, 0, 0));
        // Same address, other aperture: not the same PDB.
        let wrong = PdbKey {
            sys: true,
            addr: PD3,
        };
        assert_eq!(t.invalidate(Some(wrong), CacheLevel::All), 0);
        t.invalidate(Some(PdbKey::from(&pdb())), CacheLevel::All);
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x9000);
        assert_eq!(pa(&t.lookup(&r.mem, &other, VA)), 0x5000, "stale");
        t.invalidate(None, CacheLevel::All);
        assert_eq!(pa(&t.lookup(&r.mem, &other, VA)), 0x9000);
    }

    #[test]
    fn cache_levels_keep_upper_directory_entries() {
        let r = Rig::new();
        map(&r, 0x5000);
        let mut t = Tlb::new();
        t.lookup(&r.mem, &pdb(), VA);
        let key = Some(PdbKey::from(&pdb()));
        // Move the whole PD0 (new PD1 entry -> new PD0 -> new PT -> 0x9000).
        r.put64(VID, PD1, pde(VID, 0x20_0000));
        r.put128(VID, 0x20_0000 + 32, dual_pde(None, Some((VID, 0x20_1000))));
        r.put64(VID, 0x20_1008, pte(VID, 0x9000, 0, 0));
        // PTE_ONLY: the cached PD1/PD0 entries still lead to the old table.
        assert_eq!(t.invalidate(key, CacheLevel::PteOnly), 1);
        let l = t.lookup(&r.mem, &pdb(), VA);
        assert_eq!(pa(&l), 0x5000);
        assert!(l.steps[..4].iter().all(|s| s.cached));
        // UP_TO_PDE0: the PD0 entry is re-read, but through the stale PD1 entry.
        t.invalidate(key, CacheLevel::UpToPde(0));
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x5000);
        // UP_TO_PDE1 drops the PD1 entry too.
        t.invalidate(key, CacheLevel::UpToPde(1));
        let l = t.lookup(&r.mem, &pdb(), VA);
        assert_eq!(pa(&l), 0x9000);
        let cached: Vec<bool> = l.steps.iter().map(|s| s.cached).collect();
        assert_eq!(cached, [true, true, false, false, false]);
    }

    #[test]
    fn large_pages_are_leaves_not_directory_entries() {
        let r = Rig::new();
        map(&r, 0x5000);
        r.put128(VID, PD0 + 32, u128::from(pte(VID, 0x40_0000, 0, 0)));
        let mut t = Tlb::new();
        let l = t.lookup(&r.mem, &pdb(), VA);
        assert_eq!(pa(&l), 0x40_1000);
        // PTE_ONLY drops the 2 MiB PTE: the next walk sees the new PD0 entry.
        r.put128(VID, PD0 + 32, u128::from(pte(VID, 0x80_0000, 0, 0)));
        t.invalidate(None, CacheLevel::PteOnly);
        assert_eq!(pa(&t.lookup(&r.mem, &pdb(), VA)), 0x80_1000);
    }

    #[test]
    fn cache_level_field() {
        assert_eq!(CacheLevel::from_field(0), CacheLevel::All);
        assert_eq!(CacheLevel::from_field(1), CacheLevel::PteOnly);
        assert_eq!(CacheLevel::from_field(2), CacheLevel::UpToPde(0));
        assert_eq!(CacheLevel::from_field(5), CacheLevel::UpToPde(3));
        assert!(CacheLevel::from_field(7).drops(Level::Pd3));
        assert!(!CacheLevel::UpToPde(2).drops(Level::Pd3));
        assert_eq!(CacheLevel::UpToPde(3).name(), "UP_TO_PDE3");
        assert_eq!(
            PdbKey {
                sys: true,
                addr: 0x1000
            }
            .to_string(),
            "sys:0x1000"
        );
    }
}
