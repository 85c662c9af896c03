// SPDX-License-Identifier: GPL-2.0
//! The VRAM allocator: the kernel's GPU buddy allocator over the frame-buffer region GSP-RM
//! reports as free for the CPU driver (`GspStaticConfigInfo` FB regions, docs/facts/ga102.md §9.6; the
//! usable rule is [`FbRegion::usable`]). Everything else (WPR2, the GSP-RM heap, its BAR1 page
//! directory) is never handed out.

use kernel::{
    gpu::buddy::{
        AllocatedBlocks, GpuBuddy, GpuBuddyAllocFlag, GpuBuddyAllocFlags, GpuBuddyAllocMode,
        GpuBuddyParams,
    },
    prelude::*,
    ptr::Alignment,
    sizes::SZ_4K,
};

use crate::gsp::rpc::{FbRegion, StaticInfo};

/// The allocator.
pub(crate) struct Vram {
    buddy: GpuBuddy,
    /// The region it manages (`[base, limit]`).
    pub(crate) region: FbRegion,
}

impl Vram {
    /// An allocator over the largest usable FB region, or `None` when GSP-RM reported none.
    pub(crate) fn new(info: &StaticInfo) -> Result<Option<Self>> {
        let Some(region) = info
            .regions
            .iter()
            .take(info.num_regions)
            .filter(|r| r.usable())
            .max_by_key(|r| r.limit - r.base)
            .copied()
        else {
            return Ok(None);
        };
        let base = region.base.next_multiple_of(SZ_4K as u64);
        let end = (region.limit + 1) & !(SZ_4K as u64 - 1);
        if end <= base {
            return Ok(None);
        }
        let buddy = GpuBuddy::new(GpuBuddyParams {
            base_offset: base,
            size: end - base,
            chunk_size: Alignment::new::<SZ_4K>(),
        })?;
        Ok(Some(Vram { buddy, region }))
    }

    /// Bytes managed.
    pub(crate) fn size(&self) -> u64 {
        self.buddy.size()
    }

    /// Bytes free now.
    pub(crate) fn avail(&self) -> u64 {
        self.buddy.avail()
    }

    /// Allocates `size` bytes as one contiguous block aligned to `align` (a power of two
    /// >= 4 KiB that divides `size`); freed when the returned blocks are dropped.
    pub(crate) fn alloc_contiguous(
        &self,
        size: u64,
        align: Alignment,
    ) -> Result<Pin<KBox<AllocatedBlocks>>> {
        if size == 0 || size % align.as_usize() as u64 != 0 || align.as_usize() < SZ_4K {
            return Err(EINVAL);
        }
        KBox::pin_init(
            self.buddy.alloc_blocks(
                GpuBuddyAllocMode::Simple,
                size,
                align,
                GpuBuddyAllocFlags::from(GpuBuddyAllocFlag::Contiguous),
            ),
            GFP_KERNEL,
        )
    }
}
