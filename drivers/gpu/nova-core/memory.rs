// SPDX-License-Identifier: GPL-2.0
//! GPU memory shared with nova-drm: VRAM blocks and their BAR1 windows.
//!
//! [`GpuMm`] is reference-counted and outlives the PCI binding if a GEM object still holds a
//! block: everything here can be dropped without the hardware (freeing VRAM is bookkeeping;
//! a BAR1 window of a dropped block is only marked dead and unmapped by the next
//! [`crate::link::GpuLink::bar1_map`], which has the registers). Hardware steps live in
//! [`crate::link`].
//!
//! BAR1: GSP-RM owns BAR1's instance block and root page directory (PD3) at `bar1PdeBase`
//! (docs/facts/ga102.md §9.6, §13 item 16); like nouveau's r535 BAR1 code, nova-core adopts that root and
//! hangs its own lower tables (in system memory) under it. A BAR1 offset is a BAR1 virtual
//! address: the window's VA range is `[0, BAR1 size)`.

use kernel::{
    gpu::buddy::{
        AllocatedBlocks, GpuBuddy, GpuBuddyAllocFlag, GpuBuddyAllocFlags, GpuBuddyAllocMode,
        GpuBuddyParams,
    },
    new_mutex,
    prelude::*,
    ptr::Alignment,
    sizes::{SZ_2M, SZ_64K},
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        Arc, Mutex,
    },
};

use crate::{
    mm::mmu_v2::{TableAddr, TableAperture},
    page_tables::SysTables,
    pramin::Pramin,
    vram::Vram,
};

/// `VramBlock::bar1` when the block has no BAR1 window.
const NO_BAR1: u64 = u64::MAX;

/// One BAR1 window.
pub(crate) struct Bar1Slot {
    /// BAR1 virtual address (= offset into BAR1).
    pub(crate) va: u64,
    /// Bytes mapped.
    pub(crate) size: u64,
    /// The VA range in the BAR1 allocator.
    pub(crate) _range: Pin<KBox<AllocatedBlocks>>,
    /// Cleared when the block is dropped; the next map unmaps dead windows.
    pub(crate) live: bool,
}

/// BAR1's page tables and VA allocator.
pub(crate) struct Bar1Space {
    /// The lower tables (system memory).
    pub(crate) tables: SysTables,
    /// GSP-RM's root, in VRAM.
    pub(crate) root: TableAddr,
    /// VA allocator over `[0, BAR1 size)`, 64 KiB granules.
    pub(crate) va: GpuBuddy,
    /// Live and dead windows.
    pub(crate) slots: KVec<Bar1Slot>,
}

/// Memory state shared by nova-core and nova-drm.
#[pin_data]
pub struct GpuMm {
    pub(crate) vram: Vram,
    /// The BAR0 window onto VRAM.
    #[pin]
    pub(crate) pramin: Pramin,
    /// BAR1, `None` when GSP-RM reported no BAR1 page directory.
    #[pin]
    pub(crate) bar1: Mutex<Option<Bar1Space>>,
    /// CPU physical address of BAR1.
    pub(crate) bar1_phys: u64,
    /// BAR1 size.
    pub(crate) bar1_size: u64,
    /// MMU faults reported so far.
    pub(crate) faults: Atomic<u64>,
}

impl GpuMm {
    /// The shared state over `vram`; BAR1 windows use GSP-RM's root at `bar1_pde_base`
    /// (0 = none).
    pub(crate) fn new(
        vram: Vram,
        bar1_pde_base: u64,
        bar1_phys: u64,
        bar1_size: u64,
    ) -> Result<Arc<Self>> {
        let bar1 = if bar1_pde_base != 0 && bar1_size >= SZ_64K as u64 {
            Some(Bar1Space {
                tables: SysTables::new(),
                root: TableAddr::new(TableAperture::VideoMemory, bar1_pde_base),
                va: GpuBuddy::new(GpuBuddyParams {
                    base_offset: 0,
                    size: bar1_size & !(SZ_64K as u64 - 1),
                    chunk_size: Alignment::new::<SZ_64K>(),
                })?,
                slots: KVec::new(),
            })
        } else {
            None
        };
        Arc::pin_init(
            try_pin_init!(GpuMm {
                vram,
                pramin <- Pramin::new(),
                bar1 <- new_mutex!(bar1),
                bar1_phys,
                bar1_size,
                faults: Atomic::new(0),
            }? Error),
            GFP_KERNEL,
        )
    }

    /// Usable VRAM in bytes.
    pub fn vram_size(&self) -> u64 {
        self.vram.size()
    }

    /// Free VRAM in bytes, now.
    pub fn vram_free(&self) -> u64 {
        self.vram.avail()
    }

    /// BAR1 size in bytes.
    pub fn bar1_size(&self) -> u64 {
        self.bar1_size
    }

    /// MMU faults reported since probe.
    pub fn faults(&self) -> u64 {
        self.faults.load(Relaxed)
    }

    /// Allocates `size` bytes of physically contiguous VRAM (`size` a multiple of 64 KiB)
    /// aligned to `align` (0 or a power of two); -ENOSPC when it does not fit.
    pub fn alloc_vram(self: &Arc<Self>, size: u64, align: u64) -> Result<VramBlock> {
        if size == 0 || size % SZ_64K as u64 != 0 {
            return Err(EINVAL);
        }
        let align = align.max(SZ_64K as u64);
        if !align.is_power_of_two() || align > (1 << 30) {
            return Err(EINVAL);
        }
        // The buddy allocator wants the size to be a multiple of the block size.
        let alloc = size.checked_next_multiple_of(align).ok_or(ENOSPC)?;
        if alloc > self.vram.size() {
            return Err(ENOSPC);
        }
        let a = Alignment::new_checked(align as usize).ok_or(EINVAL)?;
        let blocks =
            self.vram
                .alloc_contiguous(alloc, a)
                .map_err(|e| if e == ENOMEM { ENOSPC } else { e })?;
        let addr = blocks.iter().next().ok_or(ENOSPC)?.offset();
        Ok(VramBlock {
            mm: self.clone(),
            _blocks: blocks,
            addr,
            size,
            bar1: Atomic::new(NO_BAR1),
        })
    }

    /// Reserves a BAR1 VA range for `size` bytes (2 MiB aligned when that large, so 2 MiB
    /// pages can be used).
    pub(crate) fn bar1_va(space: &Bar1Space, size: u64) -> Result<Pin<KBox<AllocatedBlocks>>> {
        let align = if size >= SZ_2M as u64 {
            Alignment::new::<SZ_2M>()
        } else {
            Alignment::new::<SZ_64K>()
        };
        let alloc = size.next_multiple_of(align.as_usize() as u64);
        KBox::pin_init(
            space.va.alloc_blocks(
                GpuBuddyAllocMode::Simple,
                alloc,
                align,
                GpuBuddyAllocFlags::from(GpuBuddyAllocFlag::Contiguous),
            ),
            GFP_KERNEL,
        )
        .map_err(|e| if e == ENOMEM { ENOSPC } else { e })
    }
}

/// A physically contiguous piece of VRAM; freed when dropped.
pub struct VramBlock {
    pub(crate) mm: Arc<GpuMm>,
    _blocks: Pin<KBox<AllocatedBlocks>>,
    addr: u64,
    size: u64,
    /// BAR1 VA of its window, [`NO_BAR1`] without one.
    pub(crate) bar1: Atomic<u64>,
}

impl VramBlock {
    /// VRAM address.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Size in bytes (as asked for, a multiple of 64 KiB).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The BAR1 VA of its window, if it has one.
    pub(crate) fn bar1_va(&self) -> Option<u64> {
        match self.bar1.load(Acquire) {
            NO_BAR1 => None,
            v => Some(v),
        }
    }

    /// Records the window (under the BAR1 lock).
    pub(crate) fn set_bar1_va(&self, va: u64) {
        self.bar1.store(va, Release);
    }
}

impl Drop for VramBlock {
    fn drop(&mut self) {
        let Some(va) = self.bar1_va() else { return };
        let mut bar1 = self.mm.bar1.lock();
        if let Some(space) = (*bar1).as_mut() {
            for s in space.slots.iter_mut() {
                if s.va == va {
                    s.live = false;
                }
            }
        }
    }
}
