// SPDX-License-Identifier: GPL-2.0
//! TEMPORARY stand-in for `nova_core::link` until it lands on main.
//!
//! It has the shape of the API the lead described (GpuLink, GpuMm, VramBlock, AddressSpace,
//! vm_map/vm_unmap) so that nova-drm builds; memory services report -ENODEV ("GSP-RM did not
//! boot"), so only system-memory objects work through it.

use core::marker::PhantomData;

use kernel::{prelude::*, sync::Arc};

pub(crate) use nova_core::handoff::DrmHandoff;

/// What nova-core hands to nova-drm.
pub(crate) struct GpuLink<'a> {
    info: DrmHandoff,
    _p: PhantomData<&'a ()>,
}

impl GpuLink<'_> {
    /// Wraps the plain handoff.
    pub(crate) fn new(info: DrmHandoff) -> Self {
        GpuLink {
            info,
            _p: PhantomData,
        }
    }

    /// The identification.
    pub(crate) fn info(&self) -> &DrmHandoff {
        &self.info
    }

    /// The memory manager.
    pub(crate) fn mm(&self) -> Result<&Arc<GpuMm>> {
        Err(ENODEV)
    }

    /// Maps a VRAM block through BAR1.
    pub(crate) fn bar1_map(&self, _block: &VramBlock) -> Result<u64> {
        Err(ENODEV)
    }

    /// Maps a range.
    pub(crate) fn vm_map(
        &self,
        _aspace: &mut AddressSpace,
        _va: u64,
        _backing: Backing<'_>,
        _flags: MapFlags,
    ) -> Result<PageSize> {
        Err(ENODEV)
    }

    /// Unmaps a range.
    pub(crate) fn vm_unmap(&self, _aspace: &mut AddressSpace, _va: u64, _len: u64) -> Result {
        Err(ENODEV)
    }
}

/// GPU memory manager.
pub(crate) struct GpuMm;

impl GpuMm {
    /// Allocates VRAM.
    pub(crate) fn alloc_vram(self: &Arc<Self>, _size: u64, _align: u64) -> Result<VramBlock> {
        Err(ENODEV)
    }

    /// Free VRAM.
    pub(crate) fn vram_free(&self) -> u64 {
        0
    }

    /// A new address space.
    pub(crate) fn new_address_space(self: &Arc<Self>) -> Result<AddressSpace> {
        Err(ENODEV)
    }
}

/// A VRAM block.
pub(crate) struct VramBlock {
    addr: u64,
    size: u64,
}

impl VramBlock {
    /// VRAM address.
    pub(crate) fn addr(&self) -> u64 {
        self.addr
    }

    /// Size.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

/// An address space.
pub(crate) struct AddressSpace {
    inst: u64,
}

impl AddressSpace {
    /// The instance block's DMA address.
    pub(crate) fn inst_addr(&self) -> u64 {
        self.inst
    }
}

/// What backs a mapping.
pub(crate) enum Backing<'a> {
    /// VRAM.
    Vram {
        /// The block.
        block: &'a VramBlock,
        /// Offset in it.
        offset: u64,
        /// Length.
        len: u64,
    },
    /// System memory.
    Sysmem {
        /// DMA segments.
        segments: &'a [(u64, u64)],
        /// Length.
        len: u64,
    },
    /// Sparse.
    Sparse {
        /// Length.
        len: u64,
    },
}

/// Map flags.
#[derive(Clone, Copy, Default)]
pub(crate) struct MapFlags {
    /// Read only.
    pub(crate) read_only: bool,
    /// PTE kind.
    pub(crate) kind: u8,
}

/// A page size.
#[derive(Clone, Copy)]
pub(crate) enum PageSize {
    /// 4 KiB.
    _4K,
    /// 64 KiB.
    _64K,
    /// 2 MiB.
    _2M,
}

impl PageSize {
    /// In bytes.
    pub(crate) fn bytes(self) -> u64 {
        match self {
            PageSize::_4K => 4 << 10,
            PageSize::_64K => 64 << 10,
            PageSize::_2M => 2 << 20,
        }
    }
}
