// SPDX-License-Identifier: GPL-2.0
//! Walker tests: tables built in VRAM and guest RAM, every page size, both memory apertures,
//! every fault type the walk produces.

use super::*;
use crate::mmu::format::build::{self, dual_pde, pde, pte};
use crate::mmu::mem::testing::{Rig, GPA};

const VID: Aperture = Aperture::Video;
const SYSC: Aperture = Aperture::SysCoherent;
const SYSNC: Aperture = Aperture::SysNonCoherent;

/// Table placement for one walk: where PD3, PD2, PD1 and PD0 are.
#[derive(Clone, Copy)]
struct Chain {
    pd3: (Aperture, u64),
    pd2: (Aperture, u64),
    pd1: (Aperture, u64),
    pd0: (Aperture, u64),
}

/// All four directories in VRAM.
const VCHAIN: Chain = Chain {
    pd3: (VID, 0x10_0000),
    pd2: (VID, 0x10_1000),
    pd1: (VID, 0x10_2000),
    pd0: (VID, 0x10_3000),
};

/// Directories alternating between guest RAM (both coherences) and VRAM.
const MIXED: Chain = Chain {
    pd3: (SYSC, GPA + 0x1000),
    pd2: (VID, 0x20_0000),
    pd1: (SYSNC, GPA + 0x3000),
    pd0: (SYSC, GPA + 0x4000),
};

impl Chain {
    fn pdb(&self, big_page: BigPage) -> Pdb {
        Pdb {
            aperture: self.pd3.0,
            addr: self.pd3.1,
            big_page,
        }
    }

    /// Writes PD3 -> PD2 -> PD1 -> PD0 for `va`; returns where its PD0 entry is.
    fn link(&self, r: &Rig, va: u64) -> (Aperture, u64) {
        let e = |t: (Aperture, u64), l: Level| t.1 + l.index(va) * l.entry_size();
        r.put64(
            self.pd3.0,
            e(self.pd3, Level::Pd3),
            pde(self.pd2.0, self.pd2.1),
        );
        r.put64(
            self.pd2.0,
            e(self.pd2, Level::Pd2),
            pde(self.pd1.0, self.pd1.1),
        );
        r.put64(
            self.pd1.0,
            e(self.pd1, Level::Pd1),
            pde(self.pd0.0, self.pd0.1),
        );
        (self.pd0.0, e(self.pd0, Level::Pd0))
    }

    /// Where `va`'s PD1 entry is.
    fn pd1_entry(&self, va: u64) -> (Aperture, u64) {
        (self.pd1.0, self.pd1.1 + Level::Pd1.index(va) * 8)
    }
}

fn mapped(w: &Walk) -> Translation {
    match w.outcome {
        Outcome::Mapped(t) => t,
        o => panic!("{o:?} {:#x?}", w.steps),
    }
}

/// A VA using every level's index bits.
const VA: u64 = (1 << 47) | (0x123 << 38) | (0x45 << 29) | (0x67 << 21) | 0x1_2345;

#[test]
fn small_page_every_aperture_combination() {
    for chain in [VCHAIN, MIXED] {
        for (pt, page) in [
            ((VID, 0x30_0000), (VID, 0x1234_5000)),
            ((SYSNC, GPA + 0x5000), (SYSC, GPA + 0x10_0000)),
            ((VID, 0x30_0000), (SYSNC, GPA + 0x20_0000)),
            ((SYSC, GPA + 0x6000), (VID, 0x3_f000)),
        ] {
            let r = Rig::new();
            let (a, at) = chain.link(&r, VA);
            r.put128(a, at, dual_pde(None, Some(pt)));
            let idx = (VA >> 12) & 0x1ff;
            r.put64(pt.0, pt.1 + 8 * idx, pte(page.0, page.1, 0, 0));
            let w = walk(&r.mem, &chain.pdb(BigPage::K64), VA);
            let t = mapped(&w);
            assert_eq!(t.aperture, page.0);
            assert_eq!(t.pa, page.1 + (VA & 0xfff));
            assert_eq!(t.page_shift, 12);
            assert_eq!(t.page_pa(), page.1);
            let tables: Vec<Table> = w.steps.iter().map(|s| s.table).collect();
            assert_eq!(
                tables,
                [
                    Table::Dir(Level::Pd3),
                    Table::Dir(Level::Pd2),
                    Table::Dir(Level::Pd1),
                    Table::Dir(Level::Pd0),
                    Table::SmallPt
                ]
            );
            assert_eq!(w.steps[4].addr, pt.1 + 8 * idx);
            assert_eq!(w.steps[0].aperture, chain.pd3.0);
        }
    }
}

#[test]
fn big_pages_64k_and_128k() {
    for (big, shift, entries) in [(BigPage::K64, 16, 32u64), (BigPage::K128, 17, 16)] {
        for chain in [VCHAIN, MIXED] {
            let r = Rig::new();
            let (a, at) = chain.link(&r, VA);
            // Big-page tables are 256-byte aligned (32 x 8 bytes); put it off a 4 KiB boundary.
            let lpt = (VID, 0x40_0100);
            r.put128(a, at, dual_pde(Some(lpt), None));
            let idx = (VA >> shift) & (entries - 1);
            let page = 0x7_0000_0000u64 & !((1 << shift) - 1);
            r.put64(lpt.0, lpt.1 + 8 * idx, pte(VID, page, 0x06, 0));
            let t = mapped(&walk(&r.mem, &chain.pdb(big), VA));
            assert_eq!(t.page_shift, shift);
            assert_eq!(t.pa, page + (VA & ((1 << shift) - 1)));
            assert_eq!(t.kind, 6);
            // The last entry of the table is the last big page under this PD0 entry.
            let last = (VA & !0x1f_ffff) | 0x1f_ffff;
            r.put64(lpt.0, lpt.1 + 8 * (entries - 1), pte(SYSC, GPA, 0, 0));
            let t = mapped(&walk(&r.mem, &chain.pdb(big), last));
            assert_eq!((t.aperture, t.pa), (SYSC, GPA + ((1 << shift) - 1)));
        }
    }
}

#[test]
fn huge_2m_page_in_pd0() {
    for (ap, page) in [
        (VID, 0x4_0020_0000u64),
        (SYSC, GPA + 0x20_0000),
        (SYSNC, GPA),
    ] {
        let r = Rig::new();
        let (a, at) = MIXED.link(&r, VA);
        r.put128(a, at, u128::from(pte(ap, page, 0, build::RO)));
        let w = walk(&r.mem, &MIXED.pdb(BigPage::K64), VA);
        let t = mapped(&w);
        assert_eq!((t.aperture, t.page_shift), (ap, 21));
        assert_eq!(t.pa, page + (VA & 0x1f_ffff));
        assert!(t.read_only);
        assert_eq!(w.steps.len(), 4, "no page table below a 2 MiB PTE");
    }
}

#[test]
fn page_512m_in_pd1() {
    let r = Rig::new();
    MIXED.link(&r, VA);
    let (a, at) = MIXED.pd1_entry(VA);
    r.put64(a, at, pte(VID, 0x2_0000_0000, 0x08, build::VOL));
    let w = walk(&r.mem, &MIXED.pdb(BigPage::K64), VA);
    let t = mapped(&w);
    assert_eq!(t.page_shift, 29);
    assert_eq!(t.pa, 0x2_0000_0000 + (VA & 0x1fff_ffff));
    assert!(t.vol);
    assert_eq!(t.kind, 8);
    assert_eq!(w.steps.len(), 3);
}

#[test]
fn large_pte_addresses_align_down_to_the_page() {
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, u128::from(pte(VID, 0x4_0020_3000, 0, 0)));
    let t = mapped(&walk(&r.mem, &VCHAIN.pdb(BigPage::K64), VA));
    assert_eq!(t.page_pa(), 0x4_0020_0000);
}

#[test]
fn big_and_small_tables_under_one_pd0_entry() {
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    let (lpt, spt) = ((VID, 0x50_0000), (SYSC, GPA + 0x8000));
    r.put128(a, at, dual_pde(Some(lpt), Some(spt)));
    let big_e = lpt.1 + 8 * ((VA >> 16) & 31);
    let small_e = spt.1 + 8 * ((VA >> 12) & 0x1ff);
    r.put64(spt.0, small_e, pte(VID, 0x9000, 0, 0));
    let pdb = VCHAIN.pdb(BigPage::K64);
    // Big PTE all zero ("unmapped"): the small page table decides.
    let t = mapped(&walk(&r.mem, &pdb, VA));
    assert_eq!((t.page_shift, t.page_pa()), (12, 0x9000));
    // A valid big PTE wins.
    r.put64(lpt.0, big_e, pte(VID, 0x60_0000, 0, 0));
    let t = mapped(&walk(&r.mem, &pdb, VA));
    assert_eq!((t.page_shift, t.page_pa()), (16, 0x60_0000));
    // VALID_FALSE + PRIV: the small PTEs are ignored, the access faults.
    r.put64(lpt.0, big_e, build::PTE_BIG_INVALID);
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Fault(FaultType::Pte)
    );
    // VALID_FALSE + VOL: sparse over the big page, small PTEs not looked at.
    r.put64(lpt.0, big_e, build::PTE_SPARSE);
    let w = walk(&r.mem, &pdb, VA);
    assert_eq!(w.outcome, Outcome::Sparse { shift: 16 });
    assert_eq!(w.steps.last().map(|s| s.table), Some(Table::BigPt));
}

#[test]
fn pde_faults_at_every_level() {
    let pdb = VCHAIN.pdb(BigPage::K64);
    // Nothing at all: PD3 entry invalid.
    let r = Rig::new();
    let w = walk(&r.mem, &pdb, VA);
    assert_eq!(w.outcome, Outcome::Fault(FaultType::Pde));
    assert_eq!(w.steps.len(), 1);
    // PD2 entry invalid.
    let r = Rig::new();
    r.put64(VID, 0x10_0000 + 8, pde(VID, 0x10_1000));
    let w = walk(&r.mem, &pdb, VA);
    assert_eq!(
        (w.outcome, w.steps.len()),
        (Outcome::Fault(FaultType::Pde), 2)
    );
    // PD1 entry invalid.
    r.put64(VID, 0x10_1000 + 8 * 0x123, pde(VID, 0x10_2000));
    let w = walk(&r.mem, &pdb, VA);
    assert_eq!(
        (w.outcome, w.steps.len()),
        (Outcome::Fault(FaultType::Pde), 3)
    );
    // PD0 entry with neither half.
    r.put64(VID, 0x10_2000 + 8 * 0x45, pde(VID, 0x10_3000));
    let w = walk(&r.mem, &pdb, VA);
    assert_eq!(
        (w.outcome, w.steps.len()),
        (Outcome::Fault(FaultType::Pde), 4)
    );
}

#[test]
fn pte_bit_where_no_pte_can_be_is_a_pde_fault() {
    for level in [Level::Pd3, Level::Pd2] {
        let r = Rig::new();
        VCHAIN.link(&r, VA);
        let t = if level == Level::Pd3 {
            VCHAIN.pd3
        } else {
            VCHAIN.pd2
        };
        r.put64(t.0, t.1 + level.index(VA) * 8, pte(VID, 0, 0, 0));
        let w = walk(&r.mem, &VCHAIN.pdb(BigPage::K64), VA);
        assert_eq!(w.outcome, Outcome::Fault(FaultType::Pde), "{level:?}");
    }
}

#[test]
fn pte_faults() {
    let pdb = VCHAIN.pdb(BigPage::K64);
    // Small table present, PTE invalid.
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, dual_pde(None, Some((VID, 0x30_0000))));
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Fault(FaultType::Pte)
    );
    // A PTE with everything but VALID is still invalid.
    r.put64(
        VID,
        0x30_0000 + 8 * ((VA >> 12) & 0x1ff),
        pte(VID, 0x1000, 0, 0) & !1,
    );
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Fault(FaultType::Pte)
    );
    // Only a big table, its PTE all zero, no small table to fall back on.
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, dual_pde(Some((VID, 0x30_0000)), None));
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Fault(FaultType::Pte)
    );
}

#[test]
fn va_limit() {
    let r = Rig::new();
    let pdb = VCHAIN.pdb(BigPage::K64);
    let w = walk(&r.mem, &pdb, 1 << 49);
    assert_eq!(w.outcome, Outcome::Fault(FaultType::VaLimit));
    assert!(w.steps.is_empty(), "no table is read");
    assert_eq!(
        walk(&r.mem, &pdb, (1 << 49) - 1).outcome,
        Outcome::Fault(FaultType::Pde)
    );
}

#[test]
fn peer_aperture_is_unsupported() {
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, u128::from(pte(Aperture::Peer, 0x20_0000, 0, 0)));
    assert_eq!(
        walk(&r.mem, &VCHAIN.pdb(BigPage::K64), VA).outcome,
        Outcome::Fault(FaultType::UnsupportedAperture)
    );
}

#[test]
fn read_only_pages_refuse_writes() {
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, dual_pde(None, Some((VID, 0x30_0000))));
    r.put64(
        VID,
        0x30_0000 + 8 * ((VA >> 12) & 0x1ff),
        pte(VID, 0x1000, 0, build::RO),
    );
    let t = mapped(&walk(&r.mem, &VCHAIN.pdb(BigPage::K64), VA));
    assert_eq!(check_access(&t, Access::Read), Ok(()));
    assert_eq!(check_access(&t, Access::Write), Err(FaultType::Ro));
    let rw = Translation {
        read_only: false,
        ..t
    };
    assert_eq!(check_access(&rw, Access::Write), Ok(()));
}

#[test]
fn sparse_at_every_level() {
    let pdb = VCHAIN.pdb(BigPage::K64);
    // PD3, PD2, PD1 entries: APERTURE INVALID + VOL.
    for (level, shift) in [(Level::Pd3, 47), (Level::Pd2, 38), (Level::Pd1, 29)] {
        let r = Rig::new();
        VCHAIN.link(&r, VA);
        let t = match level {
            Level::Pd3 => VCHAIN.pd3,
            Level::Pd2 => VCHAIN.pd2,
            _ => VCHAIN.pd1,
        };
        r.put64(t.0, t.1 + level.index(VA) * 8, build::PDE_SPARSE);
        assert_eq!(
            walk(&r.mem, &pdb, VA).outcome,
            Outcome::Sparse { shift },
            "{level:?}"
        );
    }
    // PD0: both halves INVALID + VOL_BIG.
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    r.put128(a, at, build::DUAL_PDE_SPARSE);
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Sparse { shift: 21 }
    );
    // Small PTE: VALID_FALSE + VOL.
    r.put128(a, at, dual_pde(None, Some((VID, 0x30_0000))));
    r.put64(VID, 0x30_0000 + 8 * ((VA >> 12) & 0x1ff), build::PTE_SPARSE);
    assert_eq!(
        walk(&r.mem, &pdb, VA).outcome,
        Outcome::Sparse { shift: 12 }
    );
}

#[test]
fn unreadable_tables_read_as_invalid() {
    let r = Rig::new();
    // PD3 past the end of VRAM.
    let pdb = Pdb {
        aperture: VID,
        addr: 1 << 40,
        big_page: BigPage::K64,
    };
    let w = walk(&r.mem, &pdb, 0);
    assert_eq!(w.outcome, Outcome::Fault(FaultType::Pde));
    assert_eq!(w.steps[0].raw, None);
    // A PD2 in guest memory nobody mapped.
    r.put64(VID, 0x10_0000, pde(SYSC, 0x1000));
    let w = walk(&r.mem, &VCHAIN.pdb(BigPage::K64), 0);
    assert_eq!(w.outcome, Outcome::Fault(FaultType::Pde));
    assert_eq!((w.steps[1].aperture, w.steps[1].raw), (SYSC, None));
}

#[test]
fn translation_flags_come_from_the_pte() {
    let r = Rig::new();
    let (a, at) = VCHAIN.link(&r, VA);
    let flags = build::VOL | build::PRIV | build::ATOMIC_DISABLE | build::ENCRYPTED;
    r.put128(a, at, u128::from(pte(SYSNC, GPA, 0x0f, flags)));
    let t = mapped(&walk(&r.mem, &VCHAIN.pdb(BigPage::K64), VA));
    assert!(t.vol && t.privileged && t.atomic_disable && t.encrypted && !t.read_only);
    assert_eq!((t.kind, t.aperture, t.peer), (0x0f, SYSNC, 0));
    // `at` re-targets the same page.
    let u = t.at(VA & !0x1f_ffff);
    assert_eq!(u.pa, GPA);
}

#[test]
fn names() {
    assert_eq!(FaultType::UnsupportedAperture as u8, 0xa);
    assert_eq!(FaultType::Atomic.name(), "ATOMIC_VIOLATION");
    assert_eq!(Table::BigPt.name(), "PTbig");
    assert_eq!(Access::Write.fault_code(), 1);
}
