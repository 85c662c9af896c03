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
//! `drm_gem_shmem_object`s for dumb buffers and imported dma-bufs, which are not
//! `Object<NovaObject>`. [`GemRef`] tells them apart before anything nova-specific is read.

use kernel::{
    bindings,
    drm::{
        self,
        gem::{self, shmem, BaseObject, IntoGEMObject, IoCaching, IoMapSource},
    },
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Acquire, Atomic, Relaxed, Release},
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

/// The `funcs` table of the objects this driver creates (0 until the first one exists).
///
/// The shmem abstraction installs the same table in every `Object<NovaObject>` it creates, and
/// the helpers install their own one in the plain objects they create. Comparing the pointer
/// is how [`GemRef`] recognises our objects.
static NOVA_FUNCS: Atomic<usize> = Atomic::new(0);

fn funcs_of(obj: &NovaGem) -> usize {
    // SAFETY: `as_raw()` points at the `drm_gem_object` at the start of every shmem GEM object,
    // ours or a plain one, and `funcs` is set before an object is published.
    unsafe { (*obj.as_raw()).funcs as usize }
}

/// Creates an object of `size` bytes (already rounded to its placement's granule).
pub(crate) fn create(dev: &NovaDevice, size: u64, args: ObjArgs) -> Result<ARef<NovaGem>> {
    let size = usize::try_from(size).map_err(|_| ENOSPC)?;
    let obj = NovaGem::new(dev, size, shmem::ObjectConfig::default(), args)?;
    NOVA_FUNCS.store(funcs_of(&obj), Relaxed);
    Ok(obj)
}

/// A reference to an object a file holds a handle to, nova's own or foreign.
pub(crate) struct GemRef {
    obj: ARef<NovaGem>,
    ours: bool,
}

impl GemRef {
    /// Looks `handle` up in `file` (-ENOENT if it does not exist).
    pub(crate) fn lookup(file: &drm::File<File>, handle: u32) -> Result<Self> {
        // The kernel crate types every object of the file as ours; only the base
        // `drm_gem_object` is read until `funcs` says it is one.
        let obj = NovaGem::lookup_handle(file, handle)?;
        let funcs = funcs_of(&obj);
        let ours = funcs != 0 && funcs == NOVA_FUNCS.load(Relaxed);
        Ok(GemRef { obj, ours })
    }

    /// The object's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.obj.size() as u64
    }

    /// The fake offset to mmap the object at (the base GEM helper, valid for any object).
    pub(crate) fn mmap_offset(&self) -> Result<u64> {
        self.obj.create_mmap_offset()
    }

    /// The object if it is one of ours.
    pub(crate) fn nova(&self) -> Option<&NovaGem> {
        self.ours.then_some(&*self.obj)
    }

    /// The object if it is one of ours.
    pub(crate) fn into_nova(self) -> Option<ARef<NovaGem>> {
        self.ours.then_some(self.obj)
    }
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
