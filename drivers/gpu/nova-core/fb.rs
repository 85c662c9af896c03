// SPDX-License-Identifier: GPL-2.0
//! Frame buffer facts the driver needs before GSP runs: the usable VRAM size and the system
//! memory flush page (facts sheet §3).

use kernel::{
    device,
    dma::{Coherent, CoherentBox},
    io::Io,
    prelude::*,
};

use crate::{
    driver::Bar0,
    regs::{
        NV_PFB_NISO_FLUSH_SYSMEM_ADDR, NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI, NV_USABLE_FB_SIZE_IN_MB,
    },
};

/// Usable VRAM in bytes, as the GFW boot left it in `NV_USABLE_FB_SIZE_IN_MB` (GA102+).
pub(crate) fn usable_vram_size(bar: &Bar0<'_>) -> u64 {
    u64::from(bar.read(NV_USABLE_FB_SIZE_IN_MB).value().get()) << 20
}

/// The page the GPU writes to when it flushes system-memory writes. It must be registered before
/// any falcon runs, and stay allocated while the GPU may use it: the object owns it.
pub(crate) struct SysmemFlush {
    page: Coherent<[u8]>,
}

impl SysmemFlush {
    /// Allocates the page and registers its address (high part first, facts sheet §3).
    pub(crate) fn register(dev: &device::Device<device::Bound>, bar: &Bar0<'_>) -> Result<Self> {
        let page: Coherent<[u8]> = CoherentBox::<[u8]>::zeroed_slice(dev, 4096, GFP_KERNEL)?.into();
        let addr = page.dma_address();
        bar.write_reg(
            NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI::zeroed().try_with_adr_63_40((addr >> 40) as u32)?,
        );
        bar.write_reg(NV_PFB_NISO_FLUSH_SYSMEM_ADDR::zeroed().with_adr_39_08((addr >> 8) as u32));
        Ok(SysmemFlush { page })
    }

    /// The page's bus address.
    pub(crate) fn dma_address(&self) -> u64 {
        self.page.dma_address()
    }
}
