// SPDX-License-Identifier: GPL-2.0
//! GEM objects.
//!
//! Every nova object is a shmem GEM object ([`NovaGem`]). Its placement decides what backs it:
//!
//! - system memory: the shmem pages, pinned and DMA-mapped (`sg_table`) the first time the
//!   object is mapped on the GPU; CPU mmap and PRIME go through the shmem helpers;
//! - VRAM: a physically contiguous [`VramBlock`] owned by the object and freed with it. CPU
//!   mappings go to the block's BAR1 window (made by GEM_MMAP_OFFSET) instead of the shmem
//!   pages, and export is refused, so the shmem pages are never touched;
//! - internal: the per-VM object GPUVM needs for its reservation lock, which also stands for
//!   sparse mappings. It never gets a handle.
//!
//! Objects a file holds a handle to may also be foreign: the shmem helpers create plain
//! `drm_gem_shmem_object`s for dumb buffers and dma-bufs imported from other devices, which are
//! not `Object<NovaObject>`. The kernel crate's lookup ([`lookup`]) refuses them with -EINVAL
//! before anything reads them as ours.

use kernel::{
    bindings,
    drm::{
        self,
        gem::{self, shmem, BaseObject, IoCaching, IoMapSource},
    },
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Acquire, Atomic, Release},
    },
};

use crate::{
    driver::{NovaDevice, NovaDrmDriver},
    file::File,
};

use nova_core::memory::VramBlock;

/// A nova GEM object.
pub(crate) type NovaGem = shmem::Object<NovaObject>;

/// What backs an object.
pub(crate) enum Placement {
    /// The shmem pages.
    Sysmem,
    /// A VRAM block.
    Vram(VramObject),
    /// Nothing (GPUVM's reservation object, sparse mappings).
    Internal,
}

/// `VramObject::bar1` before the object has a BAR1 window.
const NO_BAR1: u64 = u64::MAX;

/// What a VRAM object owns.
pub(crate) struct VramObject {
    /// The memory.
    block: VramBlock,
    /// CPU physical address of the block's BAR1 window, [`NO_BAR1`] until GEM_MMAP_OFFSET
    /// makes it.
    bar1: Atomic<u64>,
}

impl VramObject {
    /// Wraps a freshly allocated block.
    pub(crate) fn new(block: VramBlock) -> Self {
        VramObject {
            block,
            bar1: Atomic::new(NO_BAR1),
        }
    }

    /// The memory.
    pub(crate) fn block(&self) -> &VramBlock {
        &self.block
    }

    /// The CPU physical address of the BAR1 window, once made.
    pub(crate) fn bar1(&self) -> Option<u64> {
        match self.bar1.load(Acquire) {
            NO_BAR1 => None,
            phys => Some(phys),
        }
    }

    /// Records the BAR1 window `GpuLink::bar1_map` made for the block.
    pub(crate) fn set_bar1(&self, phys: u64) {
        self.bar1.store(phys, Release);
    }
}

/// The arguments of [`NovaObject`]'s constructor.
pub(crate) struct ObjArgs {
    /// `NOVA_GEM_CREATE_*` as created.
    pub(crate) flags: u32,
    /// What backs it.
    pub(crate) placement: Placement,
}

/// Driver-private part of a GEM object.
#[pin_data]
pub(crate) struct NovaObject {
    flags: u32,
    placement: Placement,
}

impl NovaObject {
    /// `NOVA_GEM_CREATE_*` as created.
    pub(crate) fn flags(&self) -> u32 {
        self.flags
    }

    /// What backs the object.
    pub(crate) fn placement(&self) -> &Placement {
        &self.placement
    }
}

impl gem::DriverObject for NovaObject {
    type Driver = NovaDrmDriver;
    type Args = ObjArgs;

    fn new(
        _dev: &drm::Device<NovaDrmDriver>,
        _size: usize,
        args: ObjArgs,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(NovaObject {
            flags: args.flags,
            placement: args.placement,
        })
    }

    /// VRAM objects map their BAR1 window (write-combined) instead of shmem pages.
    fn io_map_source(&self) -> Option<IoMapSource> {
        let Placement::Vram(vram) = &self.placement else {
            return None;
        };
        // No window yet: GEM_MMAP_OFFSET makes it before it hands out the offset.
        let phys = vram.bar1()?;
        let size = usize::try_from(vram.block.size()).ok()?;
        // SAFETY: `phys..phys + size` is the BAR1 window `GpuLink::bar1_map` made for
        // `vram.block` (`set_bar1` only ever records that): PCI BAR1, device I/O memory, not
        // RAM. The window maps the block for as long as the block exists (it is only retired
        // when the block is dropped), and this object owns the block, so the range stays
        // valid to map while the object exists.
        unsafe { IoMapSource::new(phys, size, IoCaching::WriteCombine) }.ok()
    }

    /// Only system-memory objects have pages worth sharing: a VRAM object's shmem pages hold
    /// nothing (-EOPNOTSUPP, as the uAPI says).
    fn may_export(&self) -> Result {
        match self.placement {
            Placement::Sysmem => Ok(()),
            Placement::Vram(_) | Placement::Internal => Err(EOPNOTSUPP),
        }
    }
}

/// Creates an object of `size` bytes (already rounded to its placement's granule).
pub(crate) fn create(dev: &NovaDevice, size: u64, args: ObjArgs) -> Result<ARef<NovaGem>> {
    let size = usize::try_from(size).map_err(|_| ENOSPC)?;
    NovaGem::new(dev, size, shmem::ObjectConfig::default(), args)
}

/// Looks `handle` up in `file`: -ENOENT if it does not exist, -EINVAL if it is not a nova
/// object (a dumb buffer, a dma-buf imported from another device).
pub(crate) fn lookup(file: &drm::File<File>, handle: u32) -> Result<ARef<NovaGem>> {
    NovaGem::lookup_handle(file, handle)
}

/// Total RAM in bytes, from `si_meminfo()`.
pub(crate) fn total_ram() -> u64 {
    let mut si = bindings::sysinfo::default();
    // SAFETY: `si_meminfo()` only writes the `sysinfo` it is given, which lives on our stack.
    unsafe { bindings::si_meminfo(&mut si) };
    u64::try_from(si.totalram)
        .unwrap_or(u64::MAX)
        .saturating_mul(u64::from(si.mem_unit))
}
