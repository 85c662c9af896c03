// SPDX-License-Identifier: GPL-2.0
//! Host tests of the page-size planner: directed cases, an exhaustive grid and a randomized
//! run, all against a reference planner that picks sizes page by page (it shares no code with
//! `plan`).

extern crate std;

use std::vec;
use std::vec::Vec;

use super::mmu_v2::{PageSize, VA_LIMIT};
use super::plan::{PageSizes, Plan, Run, Segment};
use super::MmuError;

const K4: u64 = 4 << 10;
const K64: u64 = 64 << 10;
const M2: u64 = 2 << 20;
const M512: u64 = 512 << 20;
const G1: u64 = 1 << 30;

use PageSize::{Size2M, Size4K, Size512M, Size64K};

fn plan(va: u64, len: u64, segs: &[Segment], allowed: PageSizes) -> Result<Vec<Run>, MmuError> {
    Ok(Plan::new(va, len, segs, allowed)?.collect())
}

fn run(va: u64, pa: u64, size: u64, page_size: PageSize) -> Run {
    Run {
        va,
        pa,
        size,
        page_size,
    }
}

/// Runs as `(page size, page count)`, for compact expectations.
fn shape(runs: &[Run]) -> Vec<(PageSize, u64)> {
    runs.iter().map(|r| (r.page_size, r.pages())).collect()
}

// --- reference ----------------------------------------------------------------------------

/// The documented contract, checked in the documented order.
fn ref_check(va: u64, len: u64, segs: &[Segment], allowed: PageSizes) -> Result<(), MmuError> {
    let sizes: Vec<u64> = PageSize::ALL
        .iter()
        .filter(|p| allowed.contains(**p))
        .map(|p| p.bytes())
        .collect();
    let Some(&min) = sizes.first() else {
        return Err(MmuError::InvalidArgument);
    };
    if len == 0 || va.checked_add(len).is_none_or(|e| e > VA_LIMIT) {
        return Err(MmuError::VaOutOfRange);
    }
    if !va.is_multiple_of(min) || !len.is_multiple_of(min) {
        return Err(MmuError::Misaligned);
    }
    let mut left = len;
    for &(pa, slen) in segs {
        if left == 0 {
            break;
        }
        if slen == 0 {
            return Err(MmuError::InvalidArgument);
        }
        let used = slen.min(left);
        if !pa.is_multiple_of(min) || !used.is_multiple_of(min) {
            return Err(MmuError::Misaligned);
        }
        if pa.checked_add(used).is_none() {
            return Err(MmuError::PaOutOfRange);
        }
        left -= used;
    }
    if left != 0 {
        return Err(MmuError::InvalidArgument);
    }
    Ok(())
}

/// Page by page: the largest allowed size that VA and PA are aligned to and that fits in the
/// rest of the segment; consecutive pages of one size in one segment make a run.
fn reference(
    va: u64,
    len: u64,
    segs: &[Segment],
    allowed: PageSizes,
) -> Result<Vec<Run>, MmuError> {
    ref_check(va, len, segs, allowed)?;
    let mut out: Vec<Run> = Vec::new();
    let (mut v, mut left) = (va, len);
    for &(pa0, slen) in segs {
        if left == 0 {
            break;
        }
        let used = slen.min(left);
        let mut off = 0;
        let mut fresh = true;
        while off < used {
            let (cv, cp) = (v + off, pa0 + off);
            let page = PageSize::ALL
                .into_iter()
                .rev()
                .find(|&p| {
                    let b = p.bytes();
                    allowed.contains(p)
                        && cv.is_multiple_of(b)
                        && cp.is_multiple_of(b)
                        && used - off >= b
                })
                .expect("the smallest size always fits");
            match out.last_mut() {
                Some(r) if !fresh && r.page_size == page => r.size += page.bytes(),
                _ => out.push(run(cv, cp, page.bytes(), page)),
            }
            fresh = false;
            off += page.bytes();
        }
        v += used;
        left -= used;
    }
    Ok(out)
}

/// Structural checks that hold for any successful plan, independent of the reference.
fn check_invariants(va: u64, len: u64, segs: &[Segment], allowed: PageSizes, runs: &[Run]) {
    let mut v = va;
    let (mut seg, mut seg_off) = (0usize, 0u64);
    let mut prev: Option<(usize, PageSize)> = None;
    for r in runs {
        let b = r.page_size.bytes();
        assert!(allowed.contains(r.page_size), "{r:?} not allowed");
        assert!(r.size > 0 && r.size % b == 0, "{r:?}");
        assert_eq!((r.va % b, r.pa % b), (0, 0), "{r:?} misaligned");
        assert_eq!(r.va, v, "runs must tile the range");
        let (spa, slen) = segs[seg];
        assert_eq!(r.pa, spa + seg_off, "{r:?}: wrong PA");
        assert!(seg_off + r.size <= slen, "{r:?} crosses a segment boundary");
        if let Some((s, p)) = prev {
            assert!(
                s != seg || p != r.page_size,
                "{r:?}: same size as the run before"
            );
        }
        prev = Some((seg, r.page_size));
        v += r.size;
        seg_off += r.size;
        if seg_off == slen {
            seg += 1;
            seg_off = 0;
        }
    }
    assert_eq!(v, va + len, "runs must cover the range");
}

/// Plans, compares with the reference and checks the invariants.
fn check(va: u64, len: u64, segs: &[Segment], allowed: PageSizes) -> Result<Vec<Run>, MmuError> {
    let got = plan(va, len, segs, allowed);
    let want = reference(va, len, segs, allowed);
    assert_eq!(
        got, want,
        "va {va:#x} len {len:#x} segs {segs:x?} allowed {allowed:?}"
    );
    if let Ok(runs) = &got {
        check_invariants(va, len, segs, allowed, runs);
    }
    got
}

// --- directed -----------------------------------------------------------------------------

#[test]
fn page_sizes_set() {
    let s = PageSizes::STANDARD;
    assert!(s.contains(Size4K) && s.contains(Size64K) && s.contains(Size2M));
    assert!(!s.contains(Size512M));
    assert!(PageSizes::ALL.contains(Size512M));
    assert_eq!(s.smallest(), Some(Size4K));
    assert_eq!(s.without(Size4K).smallest(), Some(Size64K));
    assert_eq!(PageSizes::NONE.smallest(), None);
    assert!(PageSizes::NONE.is_empty() && !s.is_empty());
    assert_eq!(
        PageSizes::NONE.with(Size2M).without(Size2M),
        PageSizes::NONE
    );
    assert_eq!(run(0, 0, 3 * K64, Size64K).pages(), 3);
}

#[test]
fn one_gib_of_aligned_vram() {
    let va = 0x20_4000_0000; // 2 MiB- and 1 GiB-aligned
    let pa = 0x4000_0000;
    // One segment: one run of 512 pages of 2 MiB.
    let runs = check(va, G1, &[(pa, G1)], PageSizes::STANDARD).unwrap();
    assert_eq!(runs, [run(va, pa, G1, Size2M)]);
    assert_eq!(runs[0].pages(), 512);
    // With 512 MiB pages allowed: two of those.
    let runs = check(va, G1, &[(pa, G1)], PageSizes::ALL).unwrap();
    assert_eq!(runs, [run(va, pa, G1, Size512M)]);
    assert_eq!(runs[0].pages(), 2);
    // The same memory as 512 segments of 2 MiB (physically adjacent): 512 runs of 2 MiB,
    // one per segment.
    let segs: Vec<Segment> = (0..512).map(|i| (pa + i * M2, M2)).collect();
    let runs = check(va, G1, &segs, PageSizes::ALL).unwrap();
    assert_eq!(runs.len(), 512);
    for (i, r) in runs.iter().enumerate() {
        let i = i as u64;
        assert_eq!(*r, run(va + i * M2, pa + i * M2, M2, Size2M));
    }
}

#[test]
fn misaligned_head_and_tail() {
    let base = 0x4000_0000u64;
    // 8 KiB below a 64 KiB boundary that is 64 KiB below a 2 MiB boundary.
    let off = M2 - K64 - 2 * K4;
    let va = base + off;
    let len = 2 * K4 + K64 + 2 * M2 + 3 * K64 + 3 * K4;
    // Same offset modulo 2 MiB: head 4K, 64K; body 2M; tail 64K, 4K.
    let pa = 0x1_0000_0000 + off;
    let runs = check(va, len, &[(pa, len)], PageSizes::STANDARD).unwrap();
    assert_eq!(
        runs,
        [
            run(va, pa, 2 * K4, Size4K),
            run(base + M2 - K64, pa + 2 * K4, K64, Size64K),
            run(base + M2, pa + 2 * K4 + K64, 2 * M2, Size2M),
            run(base + 3 * M2, pa + 2 * K4 + K64 + 2 * M2, 3 * K64, Size64K),
            run(base + 3 * M2 + 3 * K64, pa + len - 3 * K4, 3 * K4, Size4K),
        ]
    );
    // Without 64 KiB pages the head and tail are all 4 KiB.
    let runs = check(va, len, &[(pa, len)], PageSizes::STANDARD.without(Size64K)).unwrap();
    assert_eq!(shape(&runs), [(Size4K, 18), (Size2M, 2), (Size4K, 51)]);
    // PA agreeing with VA modulo 64 KiB only: no 2 MiB page anywhere.
    let pa = 0x1_0000_0000 + off - M2 / 2;
    let runs = check(va, len, &[(pa, len)], PageSizes::STANDARD).unwrap();
    assert_eq!(shape(&runs), [(Size4K, 2), (Size64K, 68), (Size4K, 3)]);
    // PA agreeing modulo 4 KiB only: 4 KiB pages throughout.
    let pa = 0x1_0000_0000 + off + K4;
    let runs = check(va, len, &[(pa, len)], PageSizes::STANDARD).unwrap();
    assert_eq!(shape(&runs), [(Size4K, len / K4)]);
    // Too short for the 2 MiB page its alignment would allow: 64 KiB pages up to the end.
    let short = 2 * K4 + K64 + M2 - K64;
    let runs = check(va, short, &[(off, short)], PageSizes::STANDARD).unwrap();
    assert_eq!(shape(&runs), [(Size4K, 2), (Size64K, 32)]);
}

#[test]
fn scattered_4k_segments() {
    // A VA aligned to every page size; two of the segments are physically adjacent and
    // still give separate runs.
    let va = 0x80_0000_0000u64;
    let segs: [Segment; 6] = [
        (0x7_1234_5000, K4),
        (0x1_0000_0000, K4),
        (0x1_0000_1000, K4),
        (0x3000, K4),
        (0x9_ffff_f000, K4),
        (0x20_0000, K4),
    ];
    let runs = check(va, 6 * K4, &segs, PageSizes::ALL).unwrap();
    let want: Vec<Run> = segs
        .iter()
        .enumerate()
        .map(|(i, &(pa, _))| run(va + i as u64 * K4, pa, K4, Size4K))
        .collect();
    assert_eq!(runs, want);
    // Mixed, from 4 KiB below a 64 KiB boundary: 4K; 64 KiB-aligned 128 KiB; 4K again; then
    // 4 MiB agreeing with the VA modulo 2 MiB (at VA offset 0x31000), which takes a head of
    // 4K and 64K pages up to the 2 MiB boundary, one 2 MiB page and a tail.
    let segs: [Segment; 4] = [
        (0x5000, K4),
        (0x2_0001_0000, 2 * K64),
        (0x7000, K4),
        (0x3_0003_1000, 2 * M2),
    ];
    let len = K4 + 2 * K64 + K4 + 2 * M2;
    let runs = check(va + K64 - K4, len, &segs, PageSizes::STANDARD).unwrap();
    assert_eq!(
        shape(&runs),
        [
            (Size4K, 1),
            (Size64K, 2),
            (Size4K, 1),
            (Size4K, 15),
            (Size64K, 28),
            (Size2M, 1),
            (Size64K, 3),
            (Size4K, 1),
        ]
    );
    assert_eq!(runs[5].va, va + M2);
}

#[test]
fn vram_64k_aligned_at_a_2m_unaligned_va() {
    let va = 0x2_0000_0000 + K64;
    // Offset modulo 2 MiB differs from the VA's: 64 KiB pages throughout.
    let pa = 0x1234_0000;
    let runs = check(va, 4 * M2, &[(pa, 4 * M2)], PageSizes::STANDARD).unwrap();
    assert_eq!(runs, [run(va, pa, 4 * M2, Size64K)]);
    assert_eq!(runs[0].pages(), 128);
    // Same offset modulo 2 MiB: 31 pages of 64 KiB up to the boundary, 2 MiB pages, the
    // last 64 KiB.
    let pa = 0x1220_0000 + K64;
    let runs = check(va, 4 * M2, &[(pa, 4 * M2)], PageSizes::STANDARD).unwrap();
    assert_eq!(
        runs,
        [
            run(va, pa, M2 - K64, Size64K),
            run(va + M2 - K64, pa + M2 - K64, 3 * M2, Size2M),
            run(va + 4 * M2 - K64, pa + 4 * M2 - K64, K64, Size64K),
        ]
    );
}

#[test]
fn segments_beyond_the_length_are_ignored() {
    // The second segment is only partly used; what follows it is never looked at, even a
    // zero-length or misaligned segment.
    let segs: [Segment; 4] = [(0, M2), (0x4000_0000, 4 * M2), (0, 0), (0x123, 7)];
    let runs = check(M2, 3 * M2, &segs, PageSizes::STANDARD).unwrap();
    assert_eq!(
        runs,
        [
            run(M2, 0, M2, Size2M),
            run(2 * M2, 0x4000_0000, 2 * M2, Size2M)
        ]
    );
    // A used length that is a multiple of the page even though the segment is not.
    let runs = check(0, K4, &[(0x10_0000, K4 + 8)], PageSizes::STANDARD).unwrap();
    assert_eq!(runs, [run(0, 0x10_0000, K4, Size4K)]);
}

#[test]
fn bad_requests_are_rejected() {
    let s = PageSizes::STANDARD;
    type Case = (
        u64,
        u64,
        &'static [Segment],
        PageSizes,
        MmuError,
        &'static str,
    );
    let cases: &[Case] = &[
        (0, 0, &[(0, K4)], s, MmuError::VaOutOfRange, "zero length"),
        (
            0,
            K4,
            &[(0, K4)],
            PageSizes::NONE,
            MmuError::InvalidArgument,
            "no sizes",
        ),
        (
            VA_LIMIT - K4,
            2 * K4,
            &[(0, 2 * K4)],
            s,
            MmuError::VaOutOfRange,
            "past 2^49",
        ),
        (
            VA_LIMIT,
            K4,
            &[(0, K4)],
            s,
            MmuError::VaOutOfRange,
            "at 2^49",
        ),
        (
            u64::MAX - 0xfff,
            2 * K4,
            &[(0, 2 * K4)],
            s,
            MmuError::VaOutOfRange,
            "va wraps",
        ),
        (
            0,
            u64::MAX - 0xfff,
            &[(0, K4)],
            s,
            MmuError::VaOutOfRange,
            "len huge",
        ),
        (0x800, K4, &[(0, K4)], s, MmuError::Misaligned, "va"),
        (0, K4 + 8, &[(0, 2 * K4)], s, MmuError::Misaligned, "len"),
        (0, K4, &[(0x800, K4)], s, MmuError::Misaligned, "pa"),
        (
            0,
            2 * K4,
            &[(0, 0x800), (0, K4)],
            s,
            MmuError::Misaligned,
            "segment length",
        ),
        (
            0,
            K4,
            &[(0, 0), (0, K4)],
            s,
            MmuError::InvalidArgument,
            "empty segment",
        ),
        (
            0,
            2 * K4,
            &[(0, K4)],
            s,
            MmuError::InvalidArgument,
            "backing too short",
        ),
        (0, K4, &[], s, MmuError::InvalidArgument, "no backing"),
        (
            0,
            2 * K4,
            &[(u64::MAX - 0xfff, 2 * K4)],
            s,
            MmuError::PaOutOfRange,
            "pa wraps",
        ),
        (
            K4,
            K64,
            &[(0, K64)],
            PageSizes::NONE.with(Size64K),
            MmuError::Misaligned,
            "64K only, va",
        ),
        (
            0,
            M2 + K64,
            &[(0, 2 * M2)],
            PageSizes::NONE.with(Size2M),
            MmuError::Misaligned,
            "2M only, len",
        ),
    ];
    for &(va, len, segs, allowed, want, what) in cases {
        assert_eq!(plan(va, len, segs, allowed), Err(want), "{what}");
        assert_eq!(
            reference(va, len, segs, allowed),
            Err(want),
            "reference: {what}"
        );
    }
    // The largest legal request works.
    let runs = check(VA_LIMIT - M2, M2, &[(u64::MAX - M2 - 0xfff_ffff, M2)], s).unwrap();
    assert_eq!(runs.len(), 1);
}

#[test]
fn iteration_is_fused_and_restartable() {
    let segs = [(0x4000_0000 + K64, M2)];
    let mut p = Plan::new(K64, M2, &segs, PageSizes::STANDARD).unwrap();
    let again = p.clone();
    let all: Vec<Run> = p.by_ref().collect();
    assert_eq!(all.len(), 1);
    assert_eq!((p.next(), p.next()), (None, None));
    assert_eq!(again.collect::<Vec<_>>(), all);
}

// --- exhaustive grid and randomized run ---------------------------------------------------

/// Every non-empty subset of the four sizes.
fn subsets() -> Vec<PageSizes> {
    (1u8..16)
        .map(|m| {
            PageSize::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| m & (1 << i) != 0)
                .fold(PageSizes::NONE, |s, (_, p)| s.with(p))
        })
        .collect()
}

#[test]
fn exhaustive_grid_against_reference() {
    // Offsets around every boundary that matters, lengths around every page size, three ways
    // of cutting the backing, every set of allowed sizes.
    let va_offs = [0, K4, K64 - K4, K64, K64 + K4, M2 - K64, M2 - K4, M2 + K64];
    let pa_offs = [0, K4, K64, M2 - K64, M2 - K4, M2 / 2, M2 + K64 + K4];
    let lens = [
        K4,
        K64,
        K64 + K4,
        M2 - K4,
        M2,
        M2 + K64,
        2 * M2 + K4,
        3 * M2,
    ];
    let (mut ok, mut err) = (0u32, 0u32);
    for allowed in subsets() {
        for &vo in &va_offs {
            for &po in &pa_offs {
                for &len in &lens {
                    let va = 0x10_0000_0000 + vo;
                    let pa = 0x8000_0000 + po;
                    // One segment; cut in two at a 4 KiB boundary inside; cut into 64 KiB
                    // pieces at 4 KiB-shifted addresses.
                    let cut = (len / 2 + K4) & !(K4 - 1);
                    let mut cuts: Vec<Vec<Segment>> = vec![
                        vec![(pa, len)],
                        vec![(pa, cut.min(len)), (pa + M2 + K4, len)],
                    ];
                    if len <= M2 + K64 {
                        let n = len.div_ceil(K64);
                        cuts.push((0..n).map(|i| (pa + i * (K64 + K4), K64)).collect());
                    }
                    for segs in &cuts {
                        match check(va, len, segs, allowed) {
                            Ok(_) => ok += 1,
                            Err(_) => err += 1,
                        }
                    }
                }
            }
        }
    }
    // Every subset with 4 KiB in it plans every case; the others refuse the misaligned ones.
    assert!(ok > 4000 && err > 2000, "{ok} {err}");
    // 512 MiB pages where VA and PA allow them.
    for (vo, po) in [(0, 0), (M2, M2), (M2, 0), (K64, K64)] {
        let len = 2 * M512 + 2 * M2;
        let va = 0x40_0000_0000 + vo;
        let pa = 0x20_0000_0000 + po;
        for allowed in subsets() {
            let _ = check(va, len, &[(pa, len)], allowed);
        }
    }
}

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

#[test]
fn randomized_against_reference() {
    let mut rng = Rng(0xbb67_ae85_84ca_a73b);
    let subsets = subsets();
    let (mut ok, mut runs_seen) = (0u32, 0usize);
    for i in 0..3000 {
        let allowed = if i % 2 == 0 {
            PageSizes::STANDARD
        } else {
            subsets[rng.below(subsets.len() as u64) as usize]
        };
        // Addresses aligned to 4 KiB, 64 KiB or 2 MiB with a random small offset.
        let addr = |rng: &mut Rng| {
            let grain = [K4, K64, M2][rng.below(3) as usize];
            rng.below(1 << 20) * M2 + rng.below(M2 / grain) * grain
        };
        let va = addr(&mut rng) & (VA_LIMIT - 1);
        let nsegs = 1 + rng.below(6);
        let mut segs: Vec<Segment> = Vec::new();
        for _ in 0..nsegs {
            let pa = addr(&mut rng);
            let len = match rng.below(4) {
                0 => K4 * (1 + rng.below(20)),
                1 => K64 * (1 + rng.below(40)),
                2 => M2 * (1 + rng.below(3)) + K4 * rng.below(600),
                _ => M2 - K4 * rng.below(20),
            };
            segs.push((pa, len));
        }
        let total: u64 = segs.iter().map(|s| s.1).sum();
        let len = match rng.below(3) {
            0 => total,
            _ => (K4 * (1 + rng.below(total / K4))).min(total),
        };
        if let Ok(runs) = check(va, len, &segs, allowed) {
            ok += 1;
            runs_seen += runs.len();
        }
    }
    assert!(ok > 1500 && runs_seen > 5000, "{ok} {runs_seen}");
}
