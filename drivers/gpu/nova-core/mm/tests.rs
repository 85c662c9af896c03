// SPDX-License-Identifier: GPL-2.0
//! Host tests of the page-table engine: a fake table memory, a reference walker written from
//! the bit layouts alone (it shares no code with `mmu_v2`), directed cases and a bounded
//! randomized run against a model of the address space.

extern crate std;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::vec::Vec;
use std::{format, vec};

use super::mmu_v2::{
    Aperture, Level, PageSize, Pte, PteDecode, PteFlags, TableAddr, TableAperture, SYS_PA_LIMIT,
    VA_LIMIT, VID_PA_LIMIT,
};
use super::pagetable::{Change, PageTable, TableMemory};
use super::plan::{PageSizes, Plan, Segment};
use super::MmuError;

const K4: u64 = 4 << 10;
const K64: u64 = 64 << 10;
const M2: u64 = 2 << 20;
const M512: u64 = 512 << 20;

// --- fake table memory --------------------------------------------------------------------

/// Which memory new tables come from.
#[derive(Clone, Copy)]
enum Placement {
    Only(TableAperture),
    /// Cycle through VRAM, coherent and non-coherent system memory.
    Rotate,
}

/// Tables in a hash map. Addresses are never reused, so any access to a freed table (or
/// outside a table) panics and shows up as an engine bug.
struct FakeMem {
    tables: HashMap<TableAddr, Vec<u64>>,
    next: [u64; 3],
    placement: Placement,
    rotate: usize,
    /// Fail the allocation after this many more succeed (one-shot).
    fail_alloc_after: Option<u32>,
    /// Fail the write after this many more succeed (one-shot).
    fail_write_after: Option<u32>,
    /// Hand out a misaligned table next.
    misalign_next: bool,
    /// Hand out a VRAM table above the PDE's 37-bit reach next.
    too_high_next: bool,
    allocs: u64,
    frees: u64,
    writes: u64,
}

fn ap_index(a: TableAperture) -> usize {
    match a {
        TableAperture::VideoMemory => 0,
        TableAperture::SystemCoherent => 1,
        TableAperture::SystemNonCoherent => 2,
    }
}

impl FakeMem {
    fn new(placement: Placement) -> Self {
        FakeMem {
            tables: HashMap::new(),
            // Distinct, non-trivial bases (sysmem above 4 GiB to exercise the wide fields).
            next: [0x1000_0000, 0x3_0000_0000, 0x7_0000_0000],
            placement,
            rotate: 0,
            fail_alloc_after: None,
            fail_write_after: None,
            misalign_next: false,
            too_high_next: false,
            allocs: 0,
            frees: 0,
            writes: 0,
        }
    }

    fn live(&self) -> usize {
        self.tables.len()
    }

    fn word(&self, t: TableAddr, off: u64) -> u64 {
        let v = self
            .tables
            .get(&t)
            .unwrap_or_else(|| panic!("no table {t:?}"));
        v[(off / 8) as usize]
    }

    fn poke(&mut self, t: TableAddr, off: u64, val: u64) {
        self.tables.get_mut(&t).unwrap()[(off / 8) as usize] = val;
    }

    fn snapshot(&self) -> BTreeMap<(usize, u64), Vec<u64>> {
        self.tables
            .iter()
            .map(|(t, v)| ((ap_index(t.aperture), t.addr), v.clone()))
            .collect()
    }
}

impl TableMemory for FakeMem {
    fn alloc_table(&mut self, bytes: usize) -> Result<TableAddr, MmuError> {
        if let Some(n) = self.fail_alloc_after {
            if n == 0 {
                self.fail_alloc_after = None;
                return Err(MmuError::NoMemory);
            }
            self.fail_alloc_after = Some(n - 1);
        }
        assert!(bytes == 4096 || bytes == 256, "odd table size {bytes}");
        let aperture = match self.placement {
            Placement::Only(a) => a,
            Placement::Rotate => {
                self.rotate += 1;
                [
                    TableAperture::VideoMemory,
                    TableAperture::SystemCoherent,
                    TableAperture::SystemNonCoherent,
                ][self.rotate % 3]
            }
        };
        let i = ap_index(aperture);
        let b = bytes as u64;
        let mut addr = self.next[i].next_multiple_of(b);
        self.next[i] = addr + b;
        if self.misalign_next {
            self.misalign_next = false;
            addr += 128;
        }
        let mut aperture = aperture;
        if self.too_high_next {
            self.too_high_next = false;
            aperture = TableAperture::VideoMemory;
            addr += VID_PA_LIMIT;
        }
        let t = TableAddr::new(aperture, addr);
        assert!(self.tables.insert(t, vec![0; bytes / 8]).is_none());
        self.allocs += 1;
        Ok(t)
    }

    fn free_table(&mut self, table: TableAddr, bytes: usize) {
        let v = self
            .tables
            .remove(&table)
            .unwrap_or_else(|| panic!("double free of {table:?}"));
        assert_eq!(v.len() * 8, bytes, "freed with the wrong size");
        self.frees += 1;
    }

    fn read_u64(&mut self, table: TableAddr, byte_off: usize) -> Result<u64, MmuError> {
        assert_eq!(byte_off % 8, 0);
        let v = self
            .tables
            .get(&table)
            .unwrap_or_else(|| panic!("read of dead table {table:?}"));
        Ok(v[byte_off / 8])
    }

    fn write_u64(&mut self, table: TableAddr, byte_off: usize, value: u64) -> Result<(), MmuError> {
        if let Some(n) = self.fail_write_after {
            if n == 0 {
                self.fail_write_after = None;
                return Err(MmuError::Io);
            }
            self.fail_write_after = Some(n - 1);
        }
        assert_eq!(byte_off % 8, 0);
        let v = self
            .tables
            .get_mut(&table)
            .unwrap_or_else(|| panic!("write to dead table {table:?}"));
        v[byte_off / 8] = value;
        self.writes += 1;
        Ok(())
    }
}

// --- reference walker ---------------------------------------------------------------------
//
// Written straight from the field list of `NV_MMU_VER2_*` (facts sheet §12.2), with its own
// shifts and masks.

/// A translation found by the reference walker.
#[derive(Debug, PartialEq, Eq)]
struct RefHit {
    pa: u64,
    page_shift: u32,
    /// Raw PTE.
    pte: u64,
}

fn ref_pde_table(aperture: u64, addr_pfn_field: u64) -> TableAddr {
    let a = match aperture {
        1 => TableAperture::VideoMemory,
        2 => TableAperture::SystemCoherent,
        3 => TableAperture::SystemNonCoherent,
        _ => panic!("walker: invalid aperture"),
    };
    TableAddr::new(a, addr_pfn_field)
}

/// PDE: aperture 2:1; table PA >> 12 in 32:8 (video) or 53:8 (system).
fn ref_pde(e: u64) -> Option<TableAddr> {
    let ap = (e >> 1) & 3;
    if ap == 0 {
        assert_eq!(e, 0, "walker: junk in an invalid PDE");
        return None;
    }
    let bits = if ap == 1 { 25 } else { 46 };
    Some(ref_pde_table(ap, ((e >> 8) & ((1 << bits) - 1)) << 12))
}

/// PTE page address: PA >> 12 in 32:8 (video, peer) or 53:8 (system).
fn ref_pte_pa(e: u64) -> u64 {
    let ap = (e >> 1) & 3;
    let bits = if ap >= 2 { 46 } else { 25 };
    ((e >> 8) & ((1 << bits) - 1)) << 12
}

/// What the reference walker finds at a VA.
#[derive(Debug, PartialEq, Eq)]
enum RefOut {
    /// A valid PTE.
    Hit(RefHit),
    /// A sparse entry (VALID / aperture clear, VOL bit 3 and nothing else) ends the walk at a
    /// page of `1 << shift` bytes.
    Sparse(u32),
    /// The access would fault.
    Fault,
}

fn hit(e: u64, shift: u32, va: u64) -> RefOut {
    RefOut::Hit(RefHit {
        pa: ref_pte_pa(e) + (va & ((1 << shift) - 1)),
        page_shift: shift,
        pte: e,
    })
}

/// Walks `va` the way the facts sheet describes the GMMU walk.
fn ref_lookup(mem: &FakeMem, root: TableAddr, va: u64) -> RefOut {
    let e3 = mem.word(root, ((va >> 47) & 3) * 8);
    assert_eq!(e3 & 1, 0, "walker: PTE in PD3");
    let Some(pd2) = ref_pde(e3) else {
        return RefOut::Fault;
    };
    let e2 = mem.word(pd2, ((va >> 38) & 511) * 8);
    assert_eq!(e2 & 1, 0, "walker: PTE in PD2");
    let Some(pd1) = ref_pde(e2) else {
        return RefOut::Fault;
    };
    let e1 = mem.word(pd1, ((va >> 29) & 511) * 8);
    if e1 & 1 != 0 {
        return hit(e1, 29, va);
    }
    if e1 == 1 << 3 {
        return RefOut::Sparse(29);
    }
    let Some(pd0) = ref_pde(e1) else {
        return RefOut::Fault;
    };
    let i0 = (va >> 21) & 255;
    let lo = mem.word(pd0, i0 * 16);
    let hi = mem.word(pd0, i0 * 16 + 8);
    if lo & 1 != 0 {
        assert_eq!(hi, 0, "walker: 2 MiB PTE with a non-zero high word");
        return hit(lo, 21, va);
    }
    if (lo, hi) == (1 << 3, 0) {
        return RefOut::Sparse(21);
    }
    // Big half: aperture 2:1, PA >> 8 in 32:4 (video) or 53:4 (system).
    let big_ap = (lo >> 1) & 3;
    if big_ap != 0 {
        let bits = if big_ap == 1 { 29 } else { 50 };
        let big = ref_pde_table(big_ap, ((lo >> 4) & ((1 << bits) - 1)) << 8);
        let e = mem.word(big, ((va >> 16) & 31) * 8);
        if e & 1 != 0 {
            return hit(e, 16, va);
        }
        if e == 1 << 3 {
            return RefOut::Sparse(16);
        }
        if e != 0 {
            // "Unmapped": the 4 KiB PTEs are not consulted.
            return RefOut::Fault;
        }
    }
    // Small half: aperture 66:65, PA >> 12 in 96:72 (video) or 117:72 (system).
    let small_ap = (hi >> 1) & 3;
    if small_ap == 0 {
        return RefOut::Fault;
    }
    let bits = if small_ap == 1 { 25 } else { 46 };
    let small = ref_pde_table(small_ap, ((hi >> 8) & ((1 << bits) - 1)) << 12);
    let e = mem.word(small, ((va >> 12) & 511) * 8);
    if e & 1 != 0 {
        return hit(e, 12, va);
    }
    if e == 1 << 3 {
        return RefOut::Sparse(12);
    }
    RefOut::Fault
}

/// [`ref_lookup`] for valid PTEs only.
fn ref_walk(mem: &FakeMem, root: TableAddr, va: u64) -> Option<RefHit> {
    match ref_lookup(mem, root, va) {
        RefOut::Hit(h) => Some(h),
        _ => None,
    }
}

/// Every table reachable from `root` (root included); panics on an empty non-root table.
fn reachable(mem: &FakeMem, root: TableAddr) -> BTreeSet<(usize, u64)> {
    fn key(t: TableAddr) -> (usize, u64) {
        (ap_index(t.aperture), t.addr)
    }
    fn nonempty(mem: &FakeMem, t: TableAddr) {
        assert!(
            mem.tables[&t].iter().any(|&w| w != 0),
            "empty table {t:?} left linked"
        );
    }
    let mut out = BTreeSet::new();
    out.insert(key(root));
    for i3 in 0..4 {
        let Some(pd2) = ref_pde(mem.word(root, i3 * 8)) else {
            continue;
        };
        nonempty(mem, pd2);
        out.insert(key(pd2));
        for i2 in 0..512 {
            let Some(pd1) = ref_pde(mem.word(pd2, i2 * 8)) else {
                continue;
            };
            nonempty(mem, pd1);
            out.insert(key(pd1));
            for i1 in 0..512 {
                let e1 = mem.word(pd1, i1 * 8);
                if e1 & 1 != 0 || e1 == 1 << 3 {
                    continue;
                }
                let Some(pd0) = ref_pde(e1) else { continue };
                nonempty(mem, pd0);
                out.insert(key(pd0));
                for i0 in 0..256 {
                    let lo = mem.word(pd0, i0 * 16);
                    let hi = mem.word(pd0, i0 * 16 + 8);
                    if lo & 1 != 0 {
                        continue;
                    }
                    if (lo >> 1) & 3 != 0 {
                        let bits = if (lo >> 1) & 3 == 1 { 29 } else { 50 };
                        let t = ref_pde_table((lo >> 1) & 3, ((lo >> 4) & ((1 << bits) - 1)) << 8);
                        nonempty(mem, t);
                        out.insert(key(t));
                    }
                    if (hi >> 1) & 3 != 0 {
                        let bits = if (hi >> 1) & 3 == 1 { 25 } else { 46 };
                        let t = ref_pde_table((hi >> 1) & 3, ((hi >> 8) & ((1 << bits) - 1)) << 12);
                        nonempty(mem, t);
                        out.insert(key(t));
                    }
                }
            }
        }
    }
    out
}

/// The tree holds exactly the reachable tables, none of them empty but the root.
fn check_no_leaks(mem: &FakeMem, root: TableAddr) {
    let live: BTreeSet<_> = mem.snapshot().keys().copied().collect();
    assert_eq!(
        reachable(mem, root),
        live,
        "live tables != reachable tables"
    );
}

// --- helpers ------------------------------------------------------------------------------

fn new_tree(placement: Placement) -> (FakeMem, TableAddr) {
    let mut mem = FakeMem::new(placement);
    let root = PageTable::create(&mut mem).unwrap().root();
    (mem, root)
}

fn map(
    mem: &mut FakeMem,
    root: TableAddr,
    va: u64,
    pa: u64,
    ap: Aperture,
    size: u64,
    ps: PageSize,
) -> Result<Change, MmuError> {
    PageTable::new(mem, root).map(va, pa, ap, size, ps, PteFlags::new())
}

fn sparse(
    mem: &mut FakeMem,
    root: TableAddr,
    va: u64,
    size: u64,
    ps: PageSize,
) -> Result<Change, MmuError> {
    PageTable::new(mem, root).map_sparse(va, size, ps)
}

fn unmap(mem: &mut FakeMem, root: TableAddr, va: u64, size: u64) -> Result<Change, MmuError> {
    PageTable::new(mem, root).unmap(va, size)
}

fn translate(mem: &mut FakeMem, root: TableAddr, va: u64) -> Result<(u64, PageSize), MmuError> {
    PageTable::new(mem, root)
        .translate(va)
        .map(|t| (t.pa, t.page_size))
}

/// Asserts that `f` fails with `want` and leaves the memory exactly as it was.
fn expect_no_effect(
    mem: &mut FakeMem,
    want: MmuError,
    what: &str,
    f: impl FnOnce(&mut FakeMem) -> Result<Change, MmuError>,
) {
    let before = mem.snapshot();
    let (allocs, frees) = (mem.allocs, mem.frees);
    assert_eq!(f(mem), Err(want), "{what}");
    assert!(mem.snapshot() == before, "{what}: memory changed");
    assert_eq!(
        mem.allocs - allocs,
        mem.frees - frees,
        "{what}: tables leaked"
    );
}

const APERTURES: [Aperture; 4] = [
    Aperture::VideoMemory,
    Aperture::Peer(5),
    Aperture::SystemCoherent,
    Aperture::SystemNonCoherent,
];

// --- directed tests -----------------------------------------------------------------------

#[test]
fn every_page_size_and_aperture() {
    for ps in PageSize::ALL {
        for ap in APERTURES {
            for placement in [
                Placement::Only(TableAperture::VideoMemory),
                Placement::Only(TableAperture::SystemCoherent),
                Placement::Rotate,
            ] {
                let (mut mem, root) = new_tree(placement);
                let b = ps.bytes();
                let n = if ps == PageSize::Size512M { 2 } else { 3 };
                // Straddle a PD1 boundary for the small sizes.
                let va = if b < M512 {
                    0x1_2000_0000 - b
                } else {
                    0x3_0000_0000
                };
                let pa = 0x10_0000_0000 + 3 * b;
                let c = map(&mut mem, root, va, pa, ap, n * b, ps).unwrap();
                assert!(c.needs_invalidate());
                assert_eq!(c.ptes_written, n);
                for i in 0..n {
                    for off in [0, 8, b / 2, b - 1] {
                        let v = va + i * b + off;
                        let want = pa + i * b + off;
                        assert_eq!(
                            translate(&mut mem, root, v),
                            Ok((want, ps)),
                            "{ps:?} {ap:?}"
                        );
                        let r = ref_walk(&mem, root, v).unwrap();
                        assert_eq!((r.pa, r.page_shift), (want, ps.shift()));
                        // Aperture bits as the header numbers them for PTEs.
                        let ap_bits = match ap {
                            Aperture::VideoMemory => 0,
                            Aperture::Peer(_) => 1,
                            Aperture::SystemCoherent => 2,
                            Aperture::SystemNonCoherent => 3,
                        };
                        assert_eq!((r.pte >> 1) & 3, ap_bits);
                        if let Aperture::Peer(id) = ap {
                            assert_eq!((r.pte >> 33) & 7, u64::from(id));
                        }
                    }
                }
                assert_eq!(translate(&mut mem, root, va - 1), Err(MmuError::NotMapped));
                assert_eq!(
                    translate(&mut mem, root, va + n * b),
                    Err(MmuError::NotMapped)
                );
                check_no_leaks(&mem, root);
                let u = unmap(&mut mem, root, va, n * b).unwrap();
                assert_eq!(u.ptes_written, n);
                assert_eq!(u.tables_freed, c.tables_allocated);
                assert!(u.needs_invalidate());
                assert_eq!(mem.live(), 1, "only the root is left");
                assert!(mem.tables[&root].iter().all(|&w| w == 0));
            }
        }
    }
}

#[test]
fn table_counts_and_entry_bits() {
    let (mut mem, root) = new_tree(Placement::Only(TableAperture::VideoMemory));
    assert_eq!(
        root,
        TableAddr::new(TableAperture::VideoMemory, 0x1000_0000)
    );
    // One 4 KiB page at VA 0: PD2, PD1, PD0 and a small PT.
    let c = map(
        &mut mem,
        root,
        0,
        0x5000,
        Aperture::VideoMemory,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    assert_eq!(
        c,
        Change {
            ptes_written: 1,
            pdes_written: 4,
            tables_allocated: 4,
            tables_freed: 0
        }
    );
    // Tables were handed out in order: PD2 0x1000_1000, PD1 0x1000_2000, PD0 0x1000_3000,
    // small PT 0x1000_4000. PD3[0] -> PD2: aperture VIDEO (1 << 1), PA >> 12 << 8, not VOL.
    assert_eq!(mem.word(root, 0), (0x1000_1000 >> 12 << 8) | 2);
    let pd0 = TableAddr::new(TableAperture::VideoMemory, 0x1000_3000);
    // Dual PDE: low word (big half) empty, high word small half.
    assert_eq!(mem.word(pd0, 0), 0);
    assert_eq!(mem.word(pd0, 8), (0x1000_4000 >> 12 << 8) | 2);
    let pt = TableAddr::new(TableAperture::VideoMemory, 0x1000_4000);
    assert_eq!(mem.word(pt, 0), (0x5 << 8) | 1);
    // A 64 KiB page in the same 2 MiB: only a 256-byte big PT is added, in the low word as
    // PA >> 8 in 32:4.
    let c = map(
        &mut mem,
        root,
        K64,
        0x10_0000,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    assert_eq!(
        (c.tables_allocated, c.pdes_written, c.ptes_written),
        (1, 1, 1)
    );
    let big = TableAddr::new(TableAperture::VideoMemory, 0x1000_5000);
    assert_eq!(mem.tables[&big].len(), 32);
    assert_eq!(mem.word(pd0, 0), (0x1000_5000 >> 8 << 4) | 2);
    assert_eq!(mem.word(pd0, 8), (0x1000_4000 >> 12 << 8) | 2);
    assert_eq!(mem.word(big, 8), (0x100 << 8) | 1);
    // Tables in system memory get VOL in the pointing entry by default.
    let (mut mem, root) = new_tree(Placement::Only(TableAperture::SystemCoherent));
    map(
        &mut mem,
        root,
        0,
        0,
        Aperture::SystemCoherent,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    assert_eq!(mem.word(root, 0) & 0xf, (2 << 1) | 8);
}

#[test]
fn mixed_page_sizes_share_a_2m_region() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    let base = 0x40_0000_0000u64;
    // 64 KiB pages at chunks 0 and 2, 4 KiB pages in chunk 1 and 3.
    map(
        &mut mem,
        root,
        base,
        0x100_0000,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        base + 2 * K64,
        0x200_0000,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        base + K64,
        0x30_0000,
        Aperture::SystemCoherent,
        16 * K4,
        PageSize::Size4K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        base + 3 * K64 + K4,
        0x40_0000,
        Aperture::VideoMemory,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    assert_eq!(
        translate(&mut mem, root, base + 5),
        Ok((0x100_0005, PageSize::Size64K))
    );
    assert_eq!(
        translate(&mut mem, root, base + K64 + 3 * K4 + 7),
        Ok((0x30_3007, PageSize::Size4K))
    );
    assert_eq!(
        translate(&mut mem, root, base + 2 * K64),
        Ok((0x200_0000, PageSize::Size64K))
    );
    assert_eq!(
        translate(&mut mem, root, base + 3 * K64),
        Err(MmuError::NotMapped)
    );
    assert_eq!(
        translate(&mut mem, root, base + 3 * K64 + K4),
        Ok((0x40_0000, PageSize::Size4K))
    );
    check_no_leaks(&mem, root);

    // Conflicts inside the shared region, each without effect.
    let cases: [(u64, PageSize, &str); 5] = [
        (base, PageSize::Size4K, "4K under a valid big PTE"),
        (base + 3 * K64, PageSize::Size64K, "64K over one 4K page"),
        (base + K64, PageSize::Size64K, "64K over 4K pages"),
        (base, PageSize::Size2M, "2M over page tables"),
        (
            base + 2 * K64 + 5 * K4,
            PageSize::Size4K,
            "4K under the other big PTE",
        ),
    ];
    for (va, ps, what) in cases {
        expect_no_effect(&mut mem, MmuError::AlreadyMapped, what, |m| {
            map(m, root, va, 0, Aperture::VideoMemory, ps.bytes(), ps)
        });
    }
    // A 4K page in a free chunk next to the big ones works.
    map(
        &mut mem,
        root,
        base + 4 * K64,
        0x50_0000,
        Aperture::VideoMemory,
        K4,
        PageSize::Size4K,
    )
    .unwrap();

    // Unmapping the big pages frees the big table only when the last one goes.
    let c = unmap(&mut mem, root, base, K64).unwrap();
    assert_eq!((c.ptes_written, c.tables_freed), (1, 0));
    let c = unmap(&mut mem, root, base + 2 * K64, K64).unwrap();
    assert_eq!((c.ptes_written, c.tables_freed), (1, 1));
    assert_eq!(
        translate(&mut mem, root, base + K64),
        Ok((0x30_0000, PageSize::Size4K))
    );
    check_no_leaks(&mem, root);
    // One range over different sizes: 16 + 1 + 1 small pages, with holes -> NotMapped.
    expect_no_effect(&mut mem, MmuError::NotMapped, "holes", |m| {
        unmap(m, root, base + K64, 4 * K64)
    });
    unmap(&mut mem, root, base + K64, 16 * K4).unwrap();
    unmap(&mut mem, root, base + 3 * K64 + K4, K4).unwrap();
    let c = unmap(&mut mem, root, base + 4 * K64, K4).unwrap();
    assert_eq!(c.tables_freed, 4, "small PT, PD0, PD1, PD2");
    assert_eq!(mem.live(), 1);
}

#[test]
fn large_pages_and_unmap_across_sizes() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    // [0, 512M) one 512 MiB page; [512M, 512M+4M) two 2 MiB pages; then 64K and 4K pages.
    map(
        &mut mem,
        root,
        0,
        0x4000_0000,
        Aperture::VideoMemory,
        M512,
        PageSize::Size512M,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        M512,
        0x8000_0000,
        Aperture::SystemNonCoherent,
        2 * M2,
        PageSize::Size2M,
    )
    .unwrap();
    let v = M512 + 2 * M2;
    map(
        &mut mem,
        root,
        v,
        0x9000_0000,
        Aperture::VideoMemory,
        2 * K64,
        PageSize::Size64K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        v + 2 * K64,
        0xa000_0000,
        Aperture::VideoMemory,
        4 * K4,
        PageSize::Size4K,
    )
    .unwrap();
    assert_eq!(
        translate(&mut mem, root, 0x1234_5678),
        Ok((0x5234_5678, PageSize::Size512M))
    );
    assert_eq!(
        translate(&mut mem, root, M512 + M2 + 9),
        Ok((0x8020_0009, PageSize::Size2M))
    );
    // Partial pages are refused without effect.
    for (va, size, what) in [
        (0, M2, "first 2M of a 512M page"),
        (M512 - K4, 2 * K4, "straddles the end of the 512M page"),
        (M512, M2 + K4, "1.x 2M pages"),
        (v + K4, K64, "inside a 64K page"),
        (v, K64 + K4, "64K page plus part of the next"),
    ] {
        expect_no_effect(&mut mem, MmuError::PartialPage, what, |m| {
            unmap(m, root, va, size)
        });
    }
    // Everything in one call.
    let c = unmap(&mut mem, root, 0, v + 2 * K64 + 4 * K4).unwrap();
    assert_eq!(c.ptes_written, 1 + 2 + 2 + 4);
    assert_eq!(mem.live(), 1);
    // Double unmap.
    expect_no_effect(&mut mem, MmuError::NotMapped, "double unmap", |m| {
        unmap(m, root, 0, M2)
    });
}

#[test]
fn argument_errors_have_no_effect() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    map(
        &mut mem,
        root,
        0x10_0000,
        0,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    let v = Aperture::VideoMemory;
    let s = Aperture::SystemCoherent;
    type Case = (u64, u64, Aperture, u64, PageSize, MmuError, &'static str);
    let cases: &[Case] = &[
        (
            0,
            0,
            v,
            0,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "size 0",
        ),
        (
            0x800,
            0,
            v,
            K4,
            PageSize::Size4K,
            MmuError::Misaligned,
            "va",
        ),
        (
            0,
            0x800,
            v,
            K4,
            PageSize::Size4K,
            MmuError::Misaligned,
            "pa",
        ),
        (
            0,
            0,
            v,
            K4 + 8,
            PageSize::Size4K,
            MmuError::Misaligned,
            "size",
        ),
        (
            K4,
            0,
            v,
            K64,
            PageSize::Size64K,
            MmuError::Misaligned,
            "64K va",
        ),
        (
            0,
            K4,
            v,
            K64,
            PageSize::Size64K,
            MmuError::Misaligned,
            "64K pa",
        ),
        (
            0,
            0,
            v,
            K4,
            PageSize::Size64K,
            MmuError::Misaligned,
            "64K size",
        ),
        (
            K64,
            0,
            v,
            M2,
            PageSize::Size2M,
            MmuError::Misaligned,
            "2M va",
        ),
        (
            0,
            K64,
            v,
            M2,
            PageSize::Size2M,
            MmuError::Misaligned,
            "2M pa",
        ),
        (
            M2,
            0,
            v,
            M512,
            PageSize::Size512M,
            MmuError::Misaligned,
            "512M va",
        ),
        (
            0,
            M2,
            v,
            M512,
            PageSize::Size512M,
            MmuError::Misaligned,
            "512M pa",
        ),
        (
            VA_LIMIT - K4,
            0,
            v,
            2 * K4,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "past 2^49",
        ),
        (
            VA_LIMIT,
            0,
            v,
            K4,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "at 2^49",
        ),
        (
            u64::MAX - 0xfff,
            0,
            v,
            K4 * 2,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "wraps",
        ),
        (
            0,
            VID_PA_LIMIT - K4,
            v,
            2 * K4,
            PageSize::Size4K,
            MmuError::PaOutOfRange,
            "vid pa",
        ),
        (
            0,
            SYS_PA_LIMIT,
            s,
            K4,
            PageSize::Size4K,
            MmuError::PaOutOfRange,
            "sys pa",
        ),
        (
            0,
            u64::MAX - 0xfff,
            s,
            2 * K4,
            PageSize::Size4K,
            MmuError::PaOutOfRange,
            "pa wraps",
        ),
        (
            0,
            0,
            Aperture::Peer(8),
            K4,
            PageSize::Size4K,
            MmuError::InvalidArgument,
            "peer 8",
        ),
        (
            0x10_0000 - K4,
            0,
            v,
            2 * K4,
            PageSize::Size4K,
            MmuError::AlreadyMapped,
            "overlap",
        ),
    ];
    for &(va, pa, ap, size, ps, want, what) in cases {
        expect_no_effect(&mut mem, want, what, |m| map(m, root, va, pa, ap, size, ps));
    }
    // The largest legal addresses work.
    map(
        &mut mem,
        root,
        VA_LIMIT - K4,
        VID_PA_LIMIT - K4,
        v,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        VA_LIMIT - 2 * K4,
        SYS_PA_LIMIT - K4,
        s,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    assert_eq!(
        translate(&mut mem, root, VA_LIMIT - 1),
        Ok((VID_PA_LIMIT - 1, PageSize::Size4K))
    );
    assert_eq!(
        translate(&mut mem, root, VA_LIMIT - K4 - 1),
        Ok((SYS_PA_LIMIT - 1, PageSize::Size4K))
    );
    assert_eq!(
        translate(&mut mem, root, VA_LIMIT),
        Err(MmuError::VaOutOfRange)
    );
    for (va, size, want) in [
        (0, 0, MmuError::VaOutOfRange),
        (0x800, K4, MmuError::Misaligned),
        (0, 0x800, MmuError::Misaligned),
        (VA_LIMIT - K4, 2 * K4, MmuError::VaOutOfRange),
        (0, K4, MmuError::NotMapped),
        (0x10_0000, K4, MmuError::PartialPage),
        (0x10_0000 - K4, K64, MmuError::NotMapped),
    ] {
        expect_no_effect(&mut mem, want, "unmap", |m| unmap(m, root, va, size));
    }
    check_no_leaks(&mem, root);
}

#[test]
fn allocation_failures_roll_back() {
    for ps in [PageSize::Size4K, PageSize::Size64K, PageSize::Size2M] {
        let (mut mem, root) = new_tree(Placement::Rotate);
        // Something already there, sharing the upper tables.
        map(
            &mut mem,
            root,
            0,
            0,
            Aperture::VideoMemory,
            K4,
            PageSize::Size4K,
        )
        .unwrap();
        // A range over two PD1 entries needs 2 PD0s and page tables under each 2 MiB.
        let b = ps.bytes();
        let va = M512 - 3 * M2;
        let size = 6 * M2;
        let count = size / b;
        // Find how many tables a successful map allocates, then fail each one in turn.
        let needed = {
            let (mut m2, r2) = new_tree(Placement::Rotate);
            map(
                &mut m2,
                r2,
                0,
                0,
                Aperture::VideoMemory,
                K4,
                PageSize::Size4K,
            )
            .unwrap();
            map(&mut m2, r2, va, 0, Aperture::VideoMemory, size, ps)
                .unwrap()
                .tables_allocated
        };
        assert!(needed >= 1, "{ps:?}");
        for k in 0..needed {
            mem.fail_alloc_after = Some(k);
            expect_no_effect(
                &mut mem,
                MmuError::NoMemory,
                &format!("{ps:?} alloc {k}"),
                |m| map(m, root, va, 0, Aperture::VideoMemory, size, ps),
            );
            assert_eq!(mem.fail_alloc_after, None, "the failure was hit");
        }
        let c = map(&mut mem, root, va, 0, Aperture::VideoMemory, size, ps).unwrap();
        assert_eq!(c.ptes_written, count);
        check_no_leaks(&mem, root);
    }
}

#[test]
fn write_failures_roll_back() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    map(
        &mut mem,
        root,
        M2,
        0,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    let va = M2 - 4 * K4;
    let size = 8 * K4 + M2;
    // Count the writes of a successful map on a copy.
    let writes = {
        let (mut m2, r2) = new_tree(Placement::Rotate);
        map(
            &mut m2,
            r2,
            M2,
            0,
            Aperture::VideoMemory,
            K64,
            PageSize::Size64K,
        )
        .unwrap();
        let w = m2.writes;
        map(
            &mut m2,
            r2,
            va,
            0,
            Aperture::VideoMemory,
            4 * K4,
            PageSize::Size4K,
        )
        .unwrap();
        map(
            &mut m2,
            r2,
            M2 + K64,
            0,
            Aperture::VideoMemory,
            size - 4 * K4 - K64,
            PageSize::Size4K,
        )
        .unwrap();
        m2.writes - w
    };
    assert!(writes > 8);
    // Map 4 KiB pages over [va, va + size) minus the 64 KiB page: two calls around it.
    for k in 0..writes {
        mem.fail_write_after = Some(k as u32);
        let before = mem.snapshot();
        let r1 = map(
            &mut mem,
            root,
            va,
            0,
            Aperture::VideoMemory,
            4 * K4,
            PageSize::Size4K,
        );
        if r1.is_err() {
            assert_eq!(r1, Err(MmuError::Io));
            assert!(mem.snapshot() == before, "write {k}: first map not undone");
            continue;
        }
        let mid = mem.snapshot();
        let r2 = map(
            &mut mem,
            root,
            M2 + K64,
            0,
            Aperture::VideoMemory,
            size - 4 * K4 - K64,
            PageSize::Size4K,
        );
        assert_eq!(r2, Err(MmuError::Io), "write {k}");
        assert!(mem.snapshot() == mid, "write {k}: second map not undone");
        unmap(&mut mem, root, va, 4 * K4).unwrap();
        assert!(mem.snapshot() == before);
    }
    check_no_leaks(&mem, root);
}

#[test]
fn bad_table_addresses_are_refused() {
    let (mut mem, root) = new_tree(Placement::Only(TableAperture::VideoMemory));
    mem.misalign_next = true;
    expect_no_effect(
        &mut mem,
        MmuError::BadTableAddress,
        "misaligned table",
        |m| map(m, root, 0, 0, Aperture::VideoMemory, K4, PageSize::Size4K),
    );
    // The third table (PD0) comes back out of the PDE's reach.
    mem.fail_alloc_after = None;
    let (mut mem, root) = new_tree(Placement::Only(TableAperture::VideoMemory));
    map(
        &mut mem,
        root,
        0,
        0,
        Aperture::VideoMemory,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    mem.too_high_next = true;
    expect_no_effect(
        &mut mem,
        MmuError::BadTableAddress,
        "table above 2^37",
        |m| {
            map(
                m,
                root,
                M512,
                0,
                Aperture::VideoMemory,
                K4,
                PageSize::Size4K,
            )
        },
    );
    check_no_leaks(&mem, root);
}

#[test]
fn foreign_entries_are_not_touched() {
    let (mut mem, root) = new_tree(Placement::Only(TableAperture::VideoMemory));
    // 4 KiB page in chunk 0 and a 64 KiB page in chunk 1 of the first 2 MiB: tables as in
    // `table_counts_and_entry_bits`.
    map(
        &mut mem,
        root,
        0,
        0x5000,
        Aperture::VideoMemory,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        K64,
        0x10_0000,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    let big = TableAddr::new(TableAperture::VideoMemory, 0x1000_5000);
    assert_eq!(mem.word(big, 8) & 1, 1);
    // Make big PTE 0 "unmapped" (PRIVILEGE only): the 4 KiB PTE under it is hidden.
    mem.poke(big, 0, 1 << 5);
    assert_eq!(Pte::decode(1 << 5), PteDecode::Unmapped);
    assert_eq!(translate(&mut mem, root, 0), Err(MmuError::NotMapped));
    assert_eq!(ref_walk(&mem, root, 0), None);
    expect_no_effect(
        &mut mem,
        MmuError::UnexpectedEntry,
        "unmap under unmapped",
        |m| unmap(m, root, 0, K4),
    );
    expect_no_effect(
        &mut mem,
        MmuError::UnexpectedEntry,
        "map under unmapped",
        |m| map(m, root, K4, 0, Aperture::VideoMemory, K4, PageSize::Size4K),
    );
    // A sparse big PTE (VOL only) in chunk 2 is recognised, and occupies its 64 KiB.
    mem.poke(big, 16, 1 << 3);
    assert_eq!(translate(&mut mem, root, 2 * K64), Err(MmuError::Sparse));
    expect_no_effect(&mut mem, MmuError::AlreadyMapped, "4K under sparse", |m| {
        map(
            m,
            root,
            2 * K64 + K4,
            0,
            Aperture::VideoMemory,
            K4,
            PageSize::Size4K,
        )
    });
    // A sparse PD3 entry is not something the engine writes.
    mem.poke(root, 16, 1 << 3);
    assert_eq!(
        translate(&mut mem, root, 2 << 47),
        Err(MmuError::UnexpectedEntry)
    );
    expect_no_effect(
        &mut mem,
        MmuError::UnexpectedEntry,
        "map under sparse PD3 entry",
        |m| PageTable::new(m, root).map_sparse(2 << 47, K4, PageSize::Size4K),
    );
    expect_no_effect(
        &mut mem,
        MmuError::UnexpectedEntry,
        "unmap under sparse PD3 entry",
        |m| unmap(m, root, 2 << 47, K4),
    );
    mem.poke(root, 16, 0);
    expect_no_effect(&mut mem, MmuError::AlreadyMapped, "map over sparse", |m| {
        map(
            m,
            root,
            2 * K64,
            0,
            Aperture::VideoMemory,
            K64,
            PageSize::Size64K,
        )
    });
    // Unknown bits in a PD3 entry.
    mem.poke(root, 8, 1 << 4);
    assert_eq!(
        translate(&mut mem, root, 1 << 47),
        Err(MmuError::UnexpectedEntry)
    );
    expect_no_effect(
        &mut mem,
        MmuError::UnexpectedEntry,
        "map over junk PDE",
        |m| {
            map(
                m,
                root,
                1 << 47,
                0,
                Aperture::VideoMemory,
                K4,
                PageSize::Size4K,
            )
        },
    );
    // Unmapping the valid 64 KiB page frees nothing: the big table still holds the foreign
    // entries.
    let c = unmap(&mut mem, root, K64, K64).unwrap();
    assert_eq!((c.ptes_written, c.tables_freed), (1, 0));
    assert_eq!(mem.word(big, 0), 1 << 5);
    assert_eq!(mem.word(big, 16), 1 << 3);
}

#[test]
fn destroy_frees_everything() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    for (i, ps) in PageSize::ALL.iter().enumerate() {
        let va = (i as u64 + 1) << 40;
        map(
            &mut mem,
            root,
            va,
            0,
            Aperture::VideoMemory,
            ps.bytes() * 2,
            *ps,
        )
        .unwrap();
    }
    map(
        &mut mem,
        root,
        1 << 40,
        0,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap_err();
    map(
        &mut mem,
        root,
        (1 << 40) + M2 - K64,
        0,
        Aperture::VideoMemory,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    assert!(mem.live() > 10);
    PageTable::new(&mut mem, root).destroy().unwrap();
    assert_eq!(mem.live(), 0);
    assert_eq!(mem.allocs, mem.frees);
}

#[test]
fn describe_is_nonempty() {
    use MmuError::*;
    for e in [
        Misaligned,
        VaOutOfRange,
        PaOutOfRange,
        InvalidArgument,
        AlreadyMapped,
        NotMapped,
        PartialPage,
        UnexpectedEntry,
        BadTableAddress,
        NoMemory,
        Io,
        Sparse,
    ] {
        assert!(!e.describe().is_empty());
    }
}

// --- sparse mappings ----------------------------------------------------------------------

#[test]
fn sparse_every_page_size() {
    for ps in PageSize::ALL {
        for placement in [
            Placement::Only(TableAperture::VideoMemory),
            Placement::Only(TableAperture::SystemNonCoherent),
            Placement::Rotate,
        ] {
            let (mut mem, root) = new_tree(placement);
            let b = ps.bytes();
            let n = if ps == PageSize::Size512M { 2 } else { 3 };
            // Straddle a PD1 boundary for the small sizes.
            let va = if b < M512 {
                0x1_2000_0000 - b
            } else {
                0x3_0000_0000
            };
            let c = sparse(&mut mem, root, va, n * b, ps).unwrap();
            assert!(c.needs_invalidate());
            assert_eq!(c.ptes_written, n, "{ps:?}");
            assert_eq!(c.tables_freed, 0);
            for i in 0..n {
                for off in [0, 8, b / 2, b - 1] {
                    let v = va + i * b + off;
                    assert_eq!(translate(&mut mem, root, v), Err(MmuError::Sparse));
                    assert_eq!(ref_lookup(&mem, root, v), RefOut::Sparse(ps.shift()));
                }
            }
            assert_eq!(translate(&mut mem, root, va - 1), Err(MmuError::NotMapped));
            assert_eq!(
                translate(&mut mem, root, va + n * b),
                Err(MmuError::NotMapped)
            );
            assert_eq!(ref_lookup(&mem, root, va + n * b), RefOut::Fault);
            check_no_leaks(&mem, root);
            // Occupied for both kinds of map, at every size that overlaps.
            for ps2 in PageSize::ALL {
                let b2 = ps2.bytes();
                let v2 = (va + b) & !(b2 - 1);
                expect_no_effect(&mut mem, MmuError::AlreadyMapped, "map over sparse", |m| {
                    map(m, root, v2, 0, Aperture::VideoMemory, b2, ps2)
                });
                expect_no_effect(
                    &mut mem,
                    MmuError::AlreadyMapped,
                    "sparse over sparse",
                    |m| sparse(m, root, v2, b2, ps2),
                );
            }
            // Partial unmaps are refused; a whole one clears the entries and frees the tables.
            if ps != PageSize::Size4K {
                expect_no_effect(
                    &mut mem,
                    MmuError::PartialPage,
                    "part of a sparse page",
                    |m| unmap(m, root, va + b, b / 2),
                );
            }
            expect_no_effect(&mut mem, MmuError::NotMapped, "past the end", |m| {
                unmap(m, root, va, (n + 1) * b)
            });
            let u = unmap(&mut mem, root, va, n * b).unwrap();
            assert_eq!(u.ptes_written, n);
            assert_eq!(u.tables_freed, c.tables_allocated);
            assert!(u.needs_invalidate());
            assert_eq!(mem.live(), 1, "only the root is left");
            assert!(mem.tables[&root].iter().all(|&w| w == 0));
            expect_no_effect(&mut mem, MmuError::NotMapped, "double unmap", |m| {
                unmap(m, root, va, b)
            });
        }
    }
}

#[test]
fn sparse_entry_bits() {
    // Tables are handed out in order from 0x1000_0000: root, PD2, PD1, PD0, then the page
    // table.
    let vid = |a| TableAddr::new(TableAperture::VideoMemory, a);
    let pd1 = vid(0x1000_2000);
    let pd0 = vid(0x1000_3000);
    let pt = vid(0x1000_4000);
    let cases: [(PageSize, u64); 4] = [
        (PageSize::Size4K, 5 * K4),
        (PageSize::Size64K, 5 * K64),
        (PageSize::Size2M, 5 * M2),
        (PageSize::Size512M, M512),
    ];
    for (ps, va) in cases {
        let (mut mem, root) = new_tree(Placement::Only(TableAperture::VideoMemory));
        let c = sparse(&mut mem, root, va, ps.bytes(), ps).unwrap();
        // VALID (or the aperture) clear, VOL (bit 3) set, nothing else.
        match ps {
            PageSize::Size4K => {
                assert_eq!(c.tables_allocated, 4);
                // Dual PDE: big half absent, small half pointing at the PT.
                assert_eq!(mem.word(pd0, 0), 0);
                assert_eq!(mem.word(pd0, 8), (0x1000_4000 >> 12 << 8) | 2);
                assert_eq!(mem.word(pt, 5 * 8), 8);
            }
            PageSize::Size64K => {
                assert_eq!(c.tables_allocated, 4);
                assert_eq!(mem.tables[&pt].len(), 32, "a big PT");
                assert_eq!(mem.word(pd0, 0), (0x1000_4000 >> 8 << 4) | 2);
                assert_eq!(mem.word(pd0, 8), 0);
                assert_eq!(mem.word(pt, 5 * 8), 8);
            }
            PageSize::Size2M => {
                assert_eq!(c.tables_allocated, 3);
                assert_eq!((mem.word(pd0, 5 * 16), mem.word(pd0, 5 * 16 + 8)), (8, 0));
            }
            PageSize::Size512M => {
                assert_eq!(c.tables_allocated, 2);
                assert_eq!(mem.word(pd1, 8), 8);
            }
        }
        assert_eq!(c.ptes_written, 1);
        let written: usize = mem
            .tables
            .values()
            .map(|t| t.iter().filter(|&&w| w == 8).count())
            .sum();
        assert_eq!(written, 1, "{ps:?}: exactly one sparse word");
    }
}

#[test]
fn sparse_and_backed_share_a_2m_region() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    let base = 0x40_0000_0000u64;
    let v = Aperture::VideoMemory;
    // Chunk 0: sparse 64K. Chunk 1: backed 4K at slot 0, sparse 4K in slots 1..16.
    // Chunk 2: backed 64K. Chunk 3: sparse 4K at slot 2, backed 4K at slot 3.
    sparse(&mut mem, root, base, K64, PageSize::Size64K).unwrap();
    map(
        &mut mem,
        root,
        base + K64,
        0x30_0000,
        v,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    sparse(&mut mem, root, base + K64 + K4, 15 * K4, PageSize::Size4K).unwrap();
    map(
        &mut mem,
        root,
        base + 2 * K64,
        0x200_0000,
        v,
        K64,
        PageSize::Size64K,
    )
    .unwrap();
    sparse(
        &mut mem,
        root,
        base + 3 * K64 + 2 * K4,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    map(
        &mut mem,
        root,
        base + 3 * K64 + 3 * K4,
        0x40_0000,
        v,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    check_no_leaks(&mem, root);

    /// What one VA must show.
    enum Want {
        Backed(u64, PageSize),
        Sparse(PageSize),
        Fault,
    }
    use PageSize::{Size4K, Size64K};
    let expect = [
        (base + 5, Want::Sparse(Size64K)),
        (base + K64 - 1, Want::Sparse(Size64K)),
        (base + K64 + 7, Want::Backed(0x30_0007, Size4K)),
        (base + K64 + K4, Want::Sparse(Size4K)),
        (base + 2 * K64 + 9, Want::Backed(0x200_0009, Size64K)),
        (base + 3 * K64, Want::Fault),
        (base + 3 * K64 + 2 * K4, Want::Sparse(Size4K)),
        (base + 3 * K64 + 3 * K4, Want::Backed(0x40_0000, Size4K)),
    ];
    for (va, want) in expect {
        let got = translate(&mut mem, root, va);
        let walked = ref_lookup(&mem, root, va);
        match want {
            Want::Backed(pa, ps) => {
                assert_eq!(got, Ok((pa, ps)), "va {va:#x}");
                let RefOut::Hit(r) = walked else {
                    panic!("walker misses va {va:#x}")
                };
                assert_eq!((r.pa, r.page_shift), (pa, ps.shift()));
            }
            Want::Sparse(ps) => {
                assert_eq!(got, Err(MmuError::Sparse), "va {va:#x}");
                assert_eq!(walked, RefOut::Sparse(ps.shift()), "va {va:#x}");
            }
            Want::Fault => {
                assert_eq!(got, Err(MmuError::NotMapped), "va {va:#x}");
                assert_eq!(walked, RefOut::Fault, "va {va:#x}");
            }
        }
    }

    // Every conflict the 64K/4K sharing rule implies, for both kinds of map, without effect.
    let cases: [(u64, PageSize, &str); 7] = [
        (base + 3 * K4, PageSize::Size4K, "4K under a sparse big PTE"),
        (
            base + K64,
            PageSize::Size64K,
            "64K over backed and sparse 4K",
        ),
        (
            base + 3 * K64,
            PageSize::Size64K,
            "64K over one sparse 4K page",
        ),
        (base + K64 + 2 * K4, PageSize::Size4K, "4K over a sparse 4K"),
        (
            base + 2 * K64 + K4,
            PageSize::Size4K,
            "4K under a backed big PTE",
        ),
        (base, PageSize::Size2M, "2M over page tables"),
        (base, PageSize::Size512M, "512M over directories"),
    ];
    for (va, ps, what) in cases {
        let va = va & !(ps.bytes() - 1);
        expect_no_effect(&mut mem, MmuError::AlreadyMapped, what, |m| {
            map(m, root, va, 0, v, ps.bytes(), ps)
        });
        expect_no_effect(&mut mem, MmuError::AlreadyMapped, what, |m| {
            sparse(m, root, va, ps.bytes(), ps)
        });
    }
    // Partial pages and holes are refused.
    expect_no_effect(&mut mem, MmuError::PartialPage, "half a sparse 64K", |m| {
        unmap(m, root, base, K64 / 2)
    });
    expect_no_effect(&mut mem, MmuError::NotMapped, "hole in chunk 3", |m| {
        unmap(m, root, base, 4 * K64)
    });
    // The free slots of chunk 3 and a free chunk 4 still take pages of either kind.
    sparse(&mut mem, root, base + 3 * K64, 2 * K4, PageSize::Size4K).unwrap();
    sparse(
        &mut mem,
        root,
        base + 3 * K64 + 4 * K4,
        12 * K4,
        PageSize::Size4K,
    )
    .unwrap();
    sparse(&mut mem, root, base + 4 * K64, K64, PageSize::Size64K).unwrap();
    check_no_leaks(&mem, root);

    // One unmap across backed and sparse pages of both sizes.
    let c = unmap(&mut mem, root, base, 3 * K64).unwrap();
    // 1 sparse 64K + 1 backed 4K + 15 sparse 4K + 1 backed 64K.
    assert_eq!(c.ptes_written, 18);
    assert_eq!(c.tables_freed, 0, "chunks 3 and 4 still use both tables");
    assert_eq!(
        translate(&mut mem, root, base + K64),
        Err(MmuError::NotMapped)
    );
    let c = unmap(&mut mem, root, base + 3 * K64, 2 * K64).unwrap();
    assert_eq!(c.ptes_written, 16 + 1);
    assert_eq!(c.tables_freed, 5, "big PT, small PT, PD0, PD1, PD2");
    assert_eq!(mem.live(), 1);
}

#[test]
fn sparse_large_pages_next_to_backed_ones() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    let v = Aperture::VideoMemory;
    // [0, 512M) sparse; [512M, 516M) backed 2M then sparse 2M; 64K and 4K after them.
    sparse(&mut mem, root, 0, M512, PageSize::Size512M).unwrap();
    map(&mut mem, root, M512, 0x8000_0000, v, M2, PageSize::Size2M).unwrap();
    sparse(&mut mem, root, M512 + M2, M2, PageSize::Size2M).unwrap();
    sparse(&mut mem, root, M512 + 2 * M2, K64, PageSize::Size64K).unwrap();
    map(
        &mut mem,
        root,
        M512 + 2 * M2 + K64,
        0x9000_0000,
        v,
        K4,
        PageSize::Size4K,
    )
    .unwrap();
    assert_eq!(
        translate(&mut mem, root, 0x1234_5678),
        Err(MmuError::Sparse)
    );
    assert_eq!(
        translate(&mut mem, root, M512 + 9),
        Ok((0x8000_0009, PageSize::Size2M))
    );
    assert_eq!(
        translate(&mut mem, root, M512 + M2 + 9),
        Err(MmuError::Sparse)
    );
    // Anything smaller inside a sparse large page is refused.
    for (va, ps) in [
        (M2, PageSize::Size2M),
        (K64, PageSize::Size64K),
        (K4, PageSize::Size4K),
        (M512 + M2 + K64, PageSize::Size64K),
        (M512 + M2 + K4, PageSize::Size4K),
    ] {
        expect_no_effect(&mut mem, MmuError::AlreadyMapped, "inside sparse", |m| {
            map(m, root, va, 0, v, ps.bytes(), ps)
        });
        expect_no_effect(
            &mut mem,
            MmuError::AlreadyMapped,
            "sparse inside sparse",
            |m| sparse(m, root, va, ps.bytes(), ps),
        );
    }
    for (va, size) in [(0, M2), (M512 - K4, 2 * K4), (M512 + M2, K64)] {
        expect_no_effect(&mut mem, MmuError::PartialPage, "partial", |m| {
            unmap(m, root, va, size)
        });
    }
    let c = unmap(&mut mem, root, 0, M512 + 2 * M2 + K64 + K4).unwrap();
    assert_eq!(c.ptes_written, 5);
    assert_eq!(mem.live(), 1);
}

#[test]
fn sparse_argument_errors_have_no_effect() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    sparse(&mut mem, root, M2, K64, PageSize::Size64K).unwrap();
    let cases: [(u64, u64, PageSize, MmuError, &str); 10] = [
        (0, 0, PageSize::Size4K, MmuError::VaOutOfRange, "size 0"),
        (0x800, K4, PageSize::Size4K, MmuError::Misaligned, "va"),
        (0, K4 + 8, PageSize::Size4K, MmuError::Misaligned, "size"),
        (K4, K64, PageSize::Size64K, MmuError::Misaligned, "64K va"),
        (K64, M2, PageSize::Size2M, MmuError::Misaligned, "2M va"),
        (
            0,
            M2 + K64,
            PageSize::Size2M,
            MmuError::Misaligned,
            "2M size",
        ),
        (
            M2,
            M512,
            PageSize::Size512M,
            MmuError::Misaligned,
            "512M va",
        ),
        (
            VA_LIMIT - K4,
            2 * K4,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "past 2^49",
        ),
        (
            u64::MAX - 0xfff,
            2 * K4,
            PageSize::Size4K,
            MmuError::VaOutOfRange,
            "wraps",
        ),
        (
            M2 - K4,
            2 * K4,
            PageSize::Size4K,
            MmuError::AlreadyMapped,
            "overlap",
        ),
    ];
    for (va, size, ps, want, what) in cases {
        expect_no_effect(&mut mem, want, what, |m| sparse(m, root, va, size, ps));
    }
    // The top of the VA space works.
    sparse(&mut mem, root, VA_LIMIT - M2, M2, PageSize::Size2M).unwrap();
    assert_eq!(
        translate(&mut mem, root, VA_LIMIT - 1),
        Err(MmuError::Sparse)
    );
    check_no_leaks(&mem, root);
}

#[test]
fn sparse_failures_roll_back() {
    for ps in [PageSize::Size4K, PageSize::Size64K, PageSize::Size2M] {
        let b = ps.bytes();
        // A backed page already there, sharing the upper tables; the sparse range covers two
        // PD1 entries.
        let setup = || {
            let (mut m, r) = new_tree(Placement::Rotate);
            map(&mut m, r, 0, 0, Aperture::VideoMemory, K4, PageSize::Size4K).unwrap();
            (m, r)
        };
        let va = M512 - 3 * M2;
        let size = 6 * M2;
        let (needed, writes) = {
            let (mut m, r) = setup();
            let w = m.writes;
            let c = sparse(&mut m, r, va, size, ps).unwrap();
            (c.tables_allocated, m.writes - w)
        };
        assert!(needed >= 1 && writes > u64::from(needed), "{ps:?}");
        let (mut mem, root) = setup();
        for k in 0..needed {
            mem.fail_alloc_after = Some(k);
            expect_no_effect(
                &mut mem,
                MmuError::NoMemory,
                &format!("{ps:?} alloc {k}"),
                |m| sparse(m, root, va, size, ps),
            );
            assert_eq!(mem.fail_alloc_after, None, "the failure was hit");
        }
        for k in 0..writes {
            mem.fail_write_after = Some(k as u32);
            let before = mem.snapshot();
            let (allocs, frees) = (mem.allocs, mem.frees);
            assert_eq!(
                sparse(&mut mem, root, va, size, ps),
                Err(MmuError::Io),
                "{ps:?} write {k}"
            );
            assert!(mem.snapshot() == before, "{ps:?} write {k}: not undone");
            assert_eq!(mem.allocs - allocs, mem.frees - frees);
        }
        let c = sparse(&mut mem, root, va, size, ps).unwrap();
        assert_eq!(c.ptes_written, size / b);
        check_no_leaks(&mem, root);
        assert_eq!(
            translate(&mut mem, root, va + size - 1),
            Err(MmuError::Sparse)
        );
        assert_eq!(translate(&mut mem, root, 0), Ok((0, PageSize::Size4K)));
    }
}

// --- planned mappings ---------------------------------------------------------------------

/// Maps every run of a plan; on a failure unmaps what the earlier runs mapped.
fn map_plan(
    mem: &mut FakeMem,
    root: TableAddr,
    va: u64,
    len: u64,
    segs: &[Segment],
) -> Result<(Change, u64), MmuError> {
    let mut pt = PageTable::new(mem, root);
    let (mut total, mut pages) = (Change::default(), 0);
    for r in Plan::new(va, len, segs, PageSizes::STANDARD)? {
        let res = pt.map(
            r.va,
            r.pa,
            Aperture::VideoMemory,
            r.size,
            r.page_size,
            PteFlags::new(),
        );
        match res {
            Ok(c) => {
                total.ptes_written += c.ptes_written;
                total.tables_allocated += c.tables_allocated;
                pages += r.pages();
            }
            Err(e) => {
                if r.va > va {
                    pt.unmap(va, r.va - va).unwrap();
                }
                return Err(e);
            }
        }
    }
    Ok((total, pages))
}

#[test]
fn planned_runs_map_beside_other_small_pages() {
    let (mut mem, root) = new_tree(Placement::Rotate);
    let base = 0x40_0000_0000u64;
    // Another mapping's 4 KiB pages share the first and the last 64 KiB chunk of the range.
    let v = Aperture::VideoMemory;
    map(
        &mut mem,
        root,
        base + K4,
        0x9000,
        v,
        2 * K4,
        PageSize::Size4K,
    )
    .unwrap();
    let va = base + 3 * K4;
    let len = 2 * M2 + 5 * K64;
    let end = va + len;
    map(&mut mem, root, end, 0xa000, v, K4, PageSize::Size4K).unwrap();
    // VRAM agreeing with the VA modulo 2 MiB (4K, 64K, 2M and 4K pages), then two pieces
    // that only agree with it modulo 4 KiB, the last one longer than needed.
    let segs: [Segment; 3] = [
        (0x1_0000_0000 + 3 * K4, 2 * M2),
        (0x2_0000_0000 + 5 * K64, 3 * K64 - K4),
        (0x3_0000_0000, 40 * K4),
    ];
    let runs: Vec<_> = Plan::new(va, len, &segs, PageSizes::STANDARD)
        .unwrap()
        .collect();
    let sizes: BTreeSet<_> = runs.iter().map(|r| r.page_size).collect();
    assert_eq!(sizes.len(), 3, "{runs:x?}");
    let (c, pages) = map_plan(&mut mem, root, va, len, &segs).unwrap();
    assert_eq!(c.ptes_written, pages);
    // Every 4 KiB of the range translates to its byte of the backing.
    let mut pos = va;
    for &(pa, slen) in &segs {
        let used = slen.min(end - pos);
        for off in (0..used).step_by(K4 as usize) {
            let (got, ps) = translate(&mut mem, root, pos + off + 8).unwrap();
            assert_eq!(got, pa + off + 8, "va {:#x}", pos + off);
            assert!(runs.iter().any(|r| r.page_size == ps));
        }
        pos += used;
    }
    assert_eq!(
        translate(&mut mem, root, base + K4),
        Ok((0x9000, PageSize::Size4K))
    );
    check_no_leaks(&mem, root);
    // Planned again over the same range, the first run is refused and nothing changes.
    expect_no_effect(&mut mem, MmuError::AlreadyMapped, "again", |m| {
        map_plan(m, root, va, len, &segs).map(|(c, _)| c)
    });
    // One unmap takes all the runs' pages of every size.
    let u = unmap(&mut mem, root, va, len).unwrap();
    assert_eq!(u.ptes_written, pages);
    // A plan that overlaps the other mapping's last page maps its first runs, then fails
    // and is unmapped again.
    let before = mem.snapshot();
    let r = map_plan(
        &mut mem,
        root,
        va,
        len + K4,
        &[(0x1_0000_0000 + 3 * K4, len + K4)],
    );
    assert_eq!(r, Err(MmuError::AlreadyMapped));
    assert!(mem.snapshot() == before);
    unmap(&mut mem, root, base + K4, 2 * K4).unwrap();
    unmap(&mut mem, root, end, K4).unwrap();
    assert_eq!(mem.live(), 1);
}

// --- randomized run against a model -------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModelPage {
    size: PageSize,
    /// Made by `map_sparse`: `pa`, `aperture` and `flags` mean nothing.
    sparse: bool,
    pa: u64,
    aperture: Aperture,
    flags: PteFlags,
}

/// Page VA -> page.
type Model = BTreeMap<u64, ModelPage>;

/// The page covering `va`, as `(start, page)`.
fn model_find(m: &Model, va: u64) -> Option<(u64, ModelPage)> {
    let (&s, &p) = m.range(..=va).next_back()?;
    (va < s + p.size.bytes()).then_some((s, p))
}

fn model_overlaps(m: &Model, va: u64, end: u64) -> bool {
    if model_find(m, va).is_some() {
        return true;
    }
    m.range(va..end).next().is_some()
}

/// The unmap result the engine must give: the first problem in VA order.
fn model_unmap_check(m: &Model, va: u64, end: u64) -> Result<(), MmuError> {
    let mut pos = va;
    while pos < end {
        let Some((s, p)) = model_find(m, pos) else {
            return Err(MmuError::NotMapped);
        };
        let pend = s + p.size.bytes();
        if s < va || pend > end {
            return Err(MmuError::PartialPage);
        }
        pos = pend;
    }
    Ok(())
}

fn check_va(mem: &mut FakeMem, root: TableAddr, m: &Model, va: u64) {
    let got = PageTable::new(mem, root).translate(va);
    let r = ref_walk(mem, root, va);
    match model_find(m, va) {
        None => {
            assert_eq!(got, Err(MmuError::NotMapped), "va {va:#x}");
            assert_eq!(
                ref_lookup(mem, root, va),
                RefOut::Fault,
                "walker, va {va:#x}"
            );
        }
        Some((_, p)) if p.sparse => {
            assert_eq!(got, Err(MmuError::Sparse), "va {va:#x}");
            let want = RefOut::Sparse(p.size.shift());
            assert_eq!(ref_lookup(mem, root, va), want, "walker, va {va:#x}");
        }
        Some((s, p)) => {
            let want = p.pa + (va - s);
            let t = got.unwrap_or_else(|e| panic!("va {va:#x}: {e:?}, want {p:?}"));
            assert_eq!((t.pa, t.page_size), (want, p.size), "va {va:#x}");
            assert_eq!(t.pte.aperture, p.aperture);
            assert_eq!(t.pte.flags, p.flags);
            let r = r.unwrap_or_else(|| panic!("walker misses va {va:#x}"));
            assert_eq!((r.pa, r.page_shift), (want, p.size.shift()));
            assert_eq!(r.pte >> 56, u64::from(p.flags.kind));
            assert_eq!((r.pte >> 6) & 1 != 0, p.flags.read_only);
        }
    }
}

#[test]
fn randomized_against_model() {
    const OPS: u32 = 5000;
    let mut rng = Rng(0x6a09_e667_f3bc_c909);
    let (mut mem, root) = new_tree(Placement::Rotate);
    let mut model = Model::new();
    // Two windows: the bottom 2 GiB (four PD1 entries) and the top 1 GiB of the VA space.
    let windows = [(0u64, 4 * M512), (VA_LIMIT - 2 * M512, 2 * M512)];
    let (mut maps_ok, mut unmaps_ok, mut errors, mut sparse_ok) = (0u32, 0u32, 0u32, 0u32);

    for op in 0..OPS {
        let (wbase, wsize) = windows[rng.below(2) as usize];
        let roll = rng.below(100);
        if roll < 55 {
            let ps = match rng.below(100) {
                0..=44 => PageSize::Size4K,
                45..=79 => PageSize::Size64K,
                80..=96 => PageSize::Size2M,
                _ => PageSize::Size512M,
            };
            let b = ps.bytes();
            let n = match ps {
                PageSize::Size4K | PageSize::Size64K => {
                    let max = if rng.below(8) == 0 { 40 } else { 8 };
                    1 + rng.below(max)
                }
                PageSize::Size2M => 1 + rng.below(3),
                PageSize::Size512M => 1,
            };
            let size = n * b;
            let va = wbase + rng.below((wsize - size) / b + 1) * b;
            let aperture = APERTURES[rng.below(4) as usize];
            let limit = if aperture.is_system() {
                1 << 40
            } else {
                VID_PA_LIMIT
            };
            let pa = rng.below((limit - size) / b + 1) * b;
            let x = rng.next();
            let flags = PteFlags {
                volatile: x & 1 != 0,
                read_only: x & 2 != 0,
                privileged: x & 4 != 0,
                atomic_disable: x & 8 != 0,
                kind: [0x00, 0x06, 0x08][(x >> 8) as usize % 3],
            };
            // Now and then a misaligned request.
            let (va, pa) = match rng.below(40) {
                0 => (va + K4, pa),
                1 if ps != PageSize::Size4K => (va, pa + K4),
                _ => (va, pa),
            };
            // One map in five is sparse (`pa`, `aperture` and `flags` unused).
            let is_sparse = rng.below(5) == 0;
            let want = if va % b != 0 || (!is_sparse && pa % b != 0) {
                Err(MmuError::Misaligned)
            } else if model_overlaps(&model, va, va + size) {
                Err(MmuError::AlreadyMapped)
            } else {
                Ok(())
            };
            let before = if want.is_err() {
                Some(mem.snapshot())
            } else {
                None
            };
            let got = if is_sparse {
                PageTable::new(&mut mem, root).map_sparse(va, size, ps)
            } else {
                PageTable::new(&mut mem, root).map(va, pa, aperture, size, ps, flags)
            };
            assert_eq!(
                got.map(|_| ()),
                want,
                "op {op}: map {va:#x}+{size:#x} {ps:?}"
            );
            if let Some(before) = before {
                assert!(
                    mem.snapshot() == before,
                    "op {op}: failed map changed memory"
                );
                errors += 1;
            } else {
                maps_ok += 1;
                sparse_ok += u32::from(is_sparse);
                for i in 0..n {
                    model.insert(
                        va + i * b,
                        ModelPage {
                            size: ps,
                            sparse: is_sparse,
                            pa: pa + i * b,
                            aperture,
                            flags,
                        },
                    );
                }
            }
            for _ in 0..3 {
                let v = va.saturating_sub(K64) + rng.below(size + 2 * K64);
                check_va(&mut mem, root, &model, v.min(VA_LIMIT - 1));
            }
        } else if roll < 92 {
            // Unmap: mostly whole runs of existing pages, sometimes arbitrary ranges.
            let (va, end) = if rng.below(3) != 0 && !model.is_empty() {
                let k = rng.below(model.len() as u64) as usize;
                let (&s, _) = model.iter().nth(k).unwrap();
                let mut end = s;
                for _ in 0..=rng.below(6) {
                    match model_find(&model, end) {
                        Some((ps, p)) => end = ps + p.size.bytes(),
                        None => break,
                    }
                }
                if end == s {
                    end = s + K4;
                }
                (s, end)
            } else {
                let va = wbase + rng.below(wsize / K4) * K4;
                let max = if rng.below(4) == 0 { 2048 } else { 40 };
                let size = K4 * (1 + rng.below(max));
                (va, (va + size).min(wbase + wsize))
            };
            let want = model_unmap_check(&model, va, end);
            let before = mem.snapshot();
            let got = PageTable::new(&mut mem, root).unmap(va, end - va);
            assert_eq!(got.map(|_| ()), want, "op {op}: unmap {va:#x}..{end:#x}");
            match got {
                Ok(c) => {
                    unmaps_ok += 1;
                    assert!(c.needs_invalidate());
                    let gone: Vec<u64> = model.range(va..end).map(|(&k, _)| k).collect();
                    assert_eq!(c.ptes_written, gone.len() as u64);
                    for k in gone {
                        model.remove(&k);
                    }
                }
                Err(_) => {
                    errors += 1;
                    assert!(
                        mem.snapshot() == before,
                        "op {op}: failed unmap changed memory"
                    );
                }
            }
            check_va(&mut mem, root, &model, va);
            check_va(&mut mem, root, &model, end - 1);
        } else {
            for _ in 0..8 {
                let v = wbase + rng.below(wsize);
                check_va(&mut mem, root, &model, v);
            }
        }
        if op % 500 == 499 {
            check_no_leaks(&mem, root);
            let pages: Vec<(u64, ModelPage)> = model.iter().map(|(&k, &p)| (k, p)).collect();
            for (s, p) in pages {
                check_va(&mut mem, root, &model, s);
                check_va(&mut mem, root, &model, s + p.size.bytes() - 1);
            }
        }
    }
    assert!(
        maps_ok > 800 && unmaps_ok > 300 && errors > 300 && sparse_ok > 150,
        "{maps_ok} {unmaps_ok} {errors} {sparse_ok}"
    );

    // Unmap everything, run by run, and the tree is back to the bare root.
    while let Some((&s, _)) = model.iter().next() {
        let mut end = s;
        while let Some((ps, p)) = model_find(&model, end) {
            end = ps + p.size.bytes();
        }
        PageTable::new(&mut mem, root).unmap(s, end - s).unwrap();
        let gone: Vec<u64> = model.range(s..end).map(|(&k, _)| k).collect();
        for k in gone {
            model.remove(&k);
        }
    }
    assert_eq!(mem.live(), 1);
    assert!(mem.tables[&root].iter().all(|&w| w == 0));
    PageTable::new(&mut mem, root).destroy().unwrap();
    assert_eq!(mem.allocs, mem.frees);
}

#[test]
fn level_of_each_page_size() {
    assert_eq!(PageSize::Size512M.leaf_level(), Level::Pd1);
    assert_eq!(PageSize::Size2M.leaf_level(), Level::Pd0);
}
