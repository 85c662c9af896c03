// SPDX-License-Identifier: GPL-2.0
//! Page-size planning: splits a mapping request into runs of one page size each, for
//! [`super::pagetable::PageTable::map`].
//!
//! A request is a VA range `[va, va + len)` and its backing, a list of physically contiguous
//! segments `(pa, len)` in mapping order, plus the [`PageSizes`] the caller allows. [`Plan`]
//! walks it without allocating and yields [`Run`]s: stretches of pages of one size, in VA
//! order, that tile the range exactly.
//!
//! # Rules
//!
//! - Every page is the largest allowed size whose alignment the page's VA and PA both have
//!   and which fits in what is left of the current segment (and of the request): 512 MiB (only
//!   if allowed), then 2 MiB, 64 KiB, 4 KiB. A run therefore ends where the segment ends, where
//!   the next page no longer fits, or at the first VA where a larger size becomes usable: a
//!   2 MiB-capable stretch that starts unaligned gets a head of smaller pages up to the 2 MiB
//!   boundary, then 2 MiB pages, then a tail of smaller pages.
//! - A larger size is only ever usable when VA and PA have the same offset modulo it: VRAM
//!   that is 64 KiB-aligned at a VA that is 64 KiB- but not 2 MiB-aligned (or whose offset
//!   modulo 2 MiB differs) maps with 64 KiB pages throughout.
//! - A run never crosses a segment boundary, even where two segments happen to be physically
//!   adjacent: the caller merges adjacent segments if it wants larger pages across them.
//! - Consecutive runs inside one segment have different page sizes; segments after the one
//!   that completes `len` are not looked at.
//!
//! The same greedy choice, largest size by alignment and remaining length and limited by the
//! next larger size's boundary, is how nouveau splits a sparse range (NV `vmm.c` L652–698,
//! `nvkm_vmm_ptes_sparse`); for memory it picks a single size per request, the largest that
//! VA, length and buffer offset are aligned to (NV `drivers/gpu/drm/nouveau/nouveau_uvmm.c`
//! L457–511, `select_page_shift`).
//!
//! # Interaction with the engine's 64 KiB / 4 KiB rule
//!
//! The engine maps a 64 KiB page only where the sixteen 4 KiB PTEs below it are zero and a
//! 4 KiB page only where the big PTE above it is zero (see [`super::pagetable`]). That is a
//! property of the tree, not of alignment, and the planner does not look at the tree. In a
//! tree this engine maintains it asks for no more than the range being free, though: a 64 KiB
//! run always covers whole 64 KiB chunks, so its big PTEs only stand above its own VA; a
//! 4 KiB page's big PTE is non-zero only if a 64 KiB page (backed or sparse) covers that very
//! VA; and a free 2 MiB has no tables under its PD0 entry, because the engine frees page tables
//! that become empty. So `map`ping the runs of a plan over a free range never fails with
//! [`MmuError::AlreadyMapped`], whatever is mapped next to it, including 4 KiB pages of another
//! mapping in the same 64 KiB chunk.
//!
//! Each run is one `map` call, and each call is all-or-nothing on its own, not the plan: on a
//! failure, unmap `[va, start of the failing run)`, which [`super::pagetable::PageTable::unmap`]
//! accepts in one call because it takes pages of different sizes together.

use super::mmu_v2::{PageSize, VA_LIMIT};
use super::MmuError;

/// A physically contiguous piece of the backing: `(pa, len)` in bytes.
pub type Segment = (u64, u64);

/// A set of page sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageSizes(u8);

impl PageSizes {
    /// No page size.
    pub const NONE: PageSizes = PageSizes(0);
    /// 4 KiB, 64 KiB and 2 MiB: the sizes memory is usually mapped with.
    pub const STANDARD: PageSizes = PageSizes::NONE
        .with(PageSize::Size4K)
        .with(PageSize::Size64K)
        .with(PageSize::Size2M);
    /// Every size, 512 MiB included.
    pub const ALL: PageSizes = PageSizes::STANDARD.with(PageSize::Size512M);

    const fn bit(p: PageSize) -> u8 {
        match p {
            PageSize::Size4K => 1,
            PageSize::Size64K => 2,
            PageSize::Size2M => 4,
            PageSize::Size512M => 8,
        }
    }

    /// This set and `p`.
    pub const fn with(self, p: PageSize) -> PageSizes {
        PageSizes(self.0 | Self::bit(p))
    }

    /// This set without `p`.
    pub const fn without(self, p: PageSize) -> PageSizes {
        PageSizes(self.0 & !Self::bit(p))
    }

    /// Whether `p` is in the set.
    pub const fn contains(self, p: PageSize) -> bool {
        self.0 & Self::bit(p) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The smallest size in the set.
    pub fn smallest(self) -> Option<PageSize> {
        PageSize::ALL.into_iter().find(|&p| self.contains(p))
    }
}

/// `size` bytes at `va` backed by `pa` onwards, mapped with pages of `page_size`: the
/// arguments of one [`super::pagetable::PageTable::map`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// First VA; a multiple of `page_size`.
    pub va: u64,
    /// First PA; a multiple of `page_size`.
    pub pa: u64,
    /// Bytes; a non-zero multiple of `page_size`.
    pub size: u64,
    /// The page size.
    pub page_size: PageSize,
}

impl Run {
    /// Number of pages in the run.
    pub const fn pages(&self) -> u64 {
        self.size >> self.page_size.shift()
    }
}

/// The runs that map a request, in VA order (see the module documentation).
///
/// All checks happen in [`Plan::new`]; iterating cannot fail.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    segments: &'a [Segment],
    allowed: PageSizes,
    /// Next VA to plan.
    va: u64,
    /// End of the request.
    end: u64,
    /// The segment `va` is backed by, and the offset into it.
    seg: usize,
    seg_off: u64,
}

impl<'a> Plan<'a> {
    /// Plans `len` bytes at `va` backed by `segments` (used in order, as far as `len` needs)
    /// with pages from `allowed`.
    ///
    /// Fails with:
    /// - [`MmuError::VaOutOfRange`] if `len` is zero or the range wraps or reaches past the
    ///   49-bit VA space;
    /// - [`MmuError::InvalidArgument`] if `allowed` is empty, a segment that is needed has
    ///   length zero, or the segments hold fewer than `len` bytes;
    /// - [`MmuError::Misaligned`] if `va`, `len`, or the address or used length of a needed
    ///   segment is not a multiple of the smallest allowed size;
    /// - [`MmuError::PaOutOfRange`] if the used part of a segment wraps past 2^64.
    ///
    /// Whether the physical addresses fit the aperture is checked by `map`.
    pub fn new(
        va: u64,
        len: u64,
        segments: &'a [Segment],
        allowed: PageSizes,
    ) -> Result<Self, MmuError> {
        let min = allowed.smallest().ok_or(MmuError::InvalidArgument)?.bytes();
        if len == 0 {
            return Err(MmuError::VaOutOfRange);
        }
        let end = match va.checked_add(len) {
            Some(end) if end <= VA_LIMIT => end,
            _ => return Err(MmuError::VaOutOfRange),
        };
        // `min` is a power of two.
        let mask = min.wrapping_sub(1);
        if va & mask != 0 || len & mask != 0 {
            return Err(MmuError::Misaligned);
        }
        let mut left = len;
        for &(pa, slen) in segments {
            if left == 0 {
                break;
            }
            if slen == 0 {
                return Err(MmuError::InvalidArgument);
            }
            let used = slen.min(left);
            if pa & mask != 0 || used & mask != 0 {
                return Err(MmuError::Misaligned);
            }
            if pa.checked_add(used).is_none() {
                return Err(MmuError::PaOutOfRange);
            }
            // `used <= left`.
            left = left.wrapping_sub(used);
        }
        if left != 0 {
            return Err(MmuError::InvalidArgument);
        }
        Ok(Plan {
            segments,
            allowed,
            va,
            end,
            seg: 0,
            seg_off: 0,
        })
    }
}

/// The largest size in `allowed` that `va` and `pa` are aligned to and that fits in `avail`
/// bytes.
fn largest_fit(allowed: PageSizes, va: u64, pa: u64, avail: u64) -> Option<PageSize> {
    PageSize::ALL.into_iter().rev().find(|&p| {
        let mask = p.bytes().wrapping_sub(1);
        allowed.contains(p) && va & mask == 0 && pa & mask == 0 && avail >= p.bytes()
    })
}

impl Iterator for Plan<'_> {
    type Item = Run;

    fn next(&mut self) -> Option<Run> {
        if self.va >= self.end {
            return None;
        }
        // `new` checked every segment up to `end`: the lookups succeed, offsets stay inside
        // the segment and no sum below wraps.
        let &(seg_pa, seg_len) = self.segments.get(self.seg)?;
        let va = self.va;
        let pa = seg_pa.wrapping_add(self.seg_off);
        let avail = seg_len
            .wrapping_sub(self.seg_off)
            .min(self.end.wrapping_sub(va));
        let page = largest_fit(self.allowed, va, pa, avail)?;
        let b = page.bytes();
        // As many whole pages as fit ...
        let mut stop = va.wrapping_add(avail & !b.wrapping_sub(1));
        // ... but no further than the first boundary at which a larger allowed size becomes
        // usable. VA and PA must agree modulo that size, and a whole page of it must fit
        // after the boundary. The first larger size that qualifies has the nearest boundary.
        for big in PageSize::ALL {
            let bb = big.bytes();
            let mask = bb.wrapping_sub(1);
            if bb <= b || !self.allowed.contains(big) || (va ^ pa) & mask != 0 {
                continue;
            }
            // `va < VA_LIMIT` (2^49), so rounding up to at most 512 MiB cannot wrap.
            let boundary = va.wrapping_add(mask) & !mask;
            if boundary.saturating_add(bb) <= va.wrapping_add(avail) {
                stop = stop.min(boundary);
                break;
            }
        }
        let size = stop.wrapping_sub(va);
        self.va = stop;
        self.seg_off = self.seg_off.wrapping_add(size);
        if self.seg_off == seg_len {
            self.seg = self.seg.wrapping_add(1);
            self.seg_off = 0;
        }
        Some(Run {
            va,
            pa,
            size,
            page_size: page,
        })
    }
}

impl core::iter::FusedIterator for Plan<'_> {}
