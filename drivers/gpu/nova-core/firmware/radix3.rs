// SPDX-License-Identifier: GPL-2.0
//! The radix3 page table through which GSP-RM's boot code reads `.fwimage` from system
//! memory.
//!
//! Three levels of 4 KiB pages of little-endian `u64` bus addresses (facts sheet §6.7;
//! nouveau `nvkm/subdev/gsp/rm/r535/gsp.c` L1624–1650 describes the format,
//! `LIBOS_MEMORY_REGION_RADIX_PAGE_SIZE` is 4096 in OpenRM `libos_init_args.h` L47–48):
//!
//! - level 0: one page; entry 0 is the bus address of the level-1 page, the rest are 0;
//! - level 1: one page; entry `i` is the bus address of level-2 page `i`;
//! - level 2: `ceil(fw_pages * 8 / 4096)` pages; entry `i` is the bus address of firmware
//!   page `i`, where `fw_pages = ceil(image_size / 4096)`.
//!
//! So one level-1 page addresses 512 level-2 pages, i.e. 512 × 512 firmware pages (1 GiB).
//! `GspFwWprMeta.sysmemAddrOfRadix3Elf` gets the level-0 address and `sizeOfRadix3Elf` the
//! image size (§7.1).
//!
//! The caller sizes its three buffers with [`Radix3Layout`], allocates them (and the firmware
//! copy) DMA-able, and calls [`build_radix3`] with the bus addresses of the level-1 page, of
//! each level-2 page and of each firmware page, as iterators (a scatter-gather walk or
//! [`contiguous_pages`]). Unused entries are zeroed. Nothing is allocated here.
//!
//! nouveau sizes level 2 from `size / 4096` rounded down; this module rounds up, so an image
//! whose size is not a multiple of 4 KiB (the TU10x/GA100 r570 image is 0x1b34ea0 bytes) gets
//! its last, partial page mapped too.

use super::error::{FwError, FwErrorKind, FwResult};
use super::reader::to_u64;

/// Page size of every level and of the mapped image.
pub const RADIX3_PAGE_SIZE: usize = 4096;
/// Number of `u64` entries in one page.
pub const RADIX3_ENTRIES_PER_PAGE: usize = RADIX3_PAGE_SIZE / 8;
/// Largest number of firmware pages one radix3 table maps.
pub const RADIX3_MAX_FW_PAGES: usize = RADIX3_ENTRIES_PER_PAGE * RADIX3_ENTRIES_PER_PAGE;

/// Sizes of a radix3 table for an image of a given size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Radix3Layout {
    /// Image size in bytes.
    pub image_size: usize,
    /// Number of 4 KiB firmware pages (the image size rounded up).
    pub fw_pages: usize,
    /// Number of level-2 pages (= valid level-1 entries).
    pub lvl2_pages: usize,
}

impl Radix3Layout {
    /// Layout for an image of `image_size` bytes; fails for 0 or more than 1 GiB.
    pub fn for_image_size(image_size: usize) -> FwResult<Self> {
        let fw_pages = image_size.div_ceil(RADIX3_PAGE_SIZE);
        if fw_pages == 0 || fw_pages > RADIX3_MAX_FW_PAGES {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "radix3 image size (must be 1 byte to 1 GiB)",
                    value: to_u64(image_size),
                },
                0,
            ));
        }
        Ok(Self {
            image_size,
            fw_pages,
            lvl2_pages: fw_pages.div_ceil(RADIX3_ENTRIES_PER_PAGE),
        })
    }

    /// Bytes of level 0 (one page).
    pub const fn lvl0_size(&self) -> usize {
        RADIX3_PAGE_SIZE
    }

    /// Bytes of level 1 (one page).
    pub const fn lvl1_size(&self) -> usize {
        RADIX3_PAGE_SIZE
    }

    /// Bytes of level 2 (`lvl2_pages` pages; at most 2 MiB).
    pub const fn lvl2_size(&self) -> usize {
        self.lvl2_pages.saturating_mul(RADIX3_PAGE_SIZE)
    }

    /// Bytes a copy of the image occupies, rounded up to whole pages.
    pub const fn image_pages_size(&self) -> usize {
        self.fw_pages.saturating_mul(RADIX3_PAGE_SIZE)
    }
}

/// The three caller-provided (CPU-mapped) buffers the table is written into.
#[derive(Debug)]
pub struct Radix3Buffers<'b> {
    /// Level 0, at least [`Radix3Layout::lvl0_size`] bytes.
    pub lvl0: &'b mut [u8],
    /// Level 1, at least [`Radix3Layout::lvl1_size`] bytes.
    pub lvl1: &'b mut [u8],
    /// Level 2, at least [`Radix3Layout::lvl2_size`] bytes (virtually contiguous).
    pub lvl2: &'b mut [u8],
}

/// Bus addresses of `count` consecutive pages starting at `base` (stops early on overflow,
/// which [`build_radix3`] reports as too few addresses).
pub fn contiguous_pages(base: u64, count: usize) -> impl Iterator<Item = u64> {
    (0..count).map_while(move |i| {
        to_u64(i)
            .checked_mul(to_u64(RADIX3_PAGE_SIZE))
            .and_then(|off| base.checked_add(off))
    })
}

/// Writes entries from `addrs` into the first `count` 8-byte slots of `buf` and zeroes the
/// rest. Errors name the byte offset of the bad entry in `buf`.
fn fill_level(
    buf: &mut [u8],
    count: usize,
    addrs: impl IntoIterator<Item = u64>,
    what: &'static str,
) -> FwResult<()> {
    let mut written = 0usize;
    let mut addrs = addrs.into_iter();
    for (i, slot) in buf.chunks_exact_mut(8).enumerate() {
        let value = if i < count {
            let addr = addrs.next().ok_or(FwError::new(
                FwErrorKind::Truncated {
                    what,
                    need: count,
                    have: i,
                },
                i.saturating_mul(8),
            ))?;
            if addr & (to_u64(RADIX3_PAGE_SIZE) - 1) != 0 {
                return Err(FwError::new(
                    FwErrorKind::Misaligned {
                        what,
                        value: addr,
                        align: to_u64(RADIX3_PAGE_SIZE),
                    },
                    i.saturating_mul(8),
                ));
            }
            written = i.saturating_add(1);
            addr
        } else {
            0
        };
        if let Ok(slot) = <&mut [u8; 8]>::try_from(slot) {
            *slot = value.to_le_bytes();
        }
    }
    if written < count {
        return Err(FwError::new(
            FwErrorKind::Truncated {
                what: "radix3 level buffer (entries)",
                need: count,
                have: written,
            },
            0,
        ));
    }
    Ok(())
}

/// Builds the radix3 table for `layout` into `bufs`.
///
/// `lvl1_addr` is the bus address of the level-1 page, `lvl2_addrs` yields the bus address of
/// each level-2 page (at least `layout.lvl2_pages`), `fw_addrs` that of each firmware page
/// (at least `layout.fw_pages`); extra addresses are ignored. Every address must be 4 KiB
/// aligned. Buffers larger than needed are zero-filled past the used entries.
pub fn build_radix3(
    layout: &Radix3Layout,
    bufs: Radix3Buffers<'_>,
    lvl1_addr: u64,
    lvl2_addrs: impl IntoIterator<Item = u64>,
    fw_addrs: impl IntoIterator<Item = u64>,
) -> FwResult<()> {
    for (what, have, need) in [
        ("radix3 level-0 buffer", bufs.lvl0.len(), layout.lvl0_size()),
        ("radix3 level-1 buffer", bufs.lvl1.len(), layout.lvl1_size()),
        ("radix3 level-2 buffer", bufs.lvl2.len(), layout.lvl2_size()),
    ] {
        if have < need {
            return Err(FwError::new(FwErrorKind::Truncated { what, need, have }, 0));
        }
    }
    fill_level(bufs.lvl0, 1, [lvl1_addr], "radix3 level-1 page address")?;
    fill_level(
        bufs.lvl1,
        layout.lvl2_pages,
        lvl2_addrs,
        "radix3 level-2 page address",
    )?;
    fill_level(
        bufs.lvl2,
        layout.fw_pages,
        fw_addrs,
        "firmware page address",
    )
}
