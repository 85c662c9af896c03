// SPDX-License-Identifier: GPL-2.0
//! PFB: the sysmem flush page and the WPR2 bounds (docs/facts/ga102.md §3).
//!
//! | BAR0 | register | model |
//! |---|---|---|
//! | 0x100C10 | `NV_PFB_NISO_FLUSH_SYSMEM_ADDR` | ADR_39_08 31:0, read/write, INIT 0 |
//! | 0x100C40 | `NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI` | ADR_63_40 23:0, read/write, INIT 0 |
//! | 0x1FA824 | `NV_PFB_PRI_MMU_WPR2_ADDR_LO` | VAL 31:4 = start address 39:12; read-only to the CPU, 0 at power-on |
//! | 0x1FA828 | `NV_PFB_PRI_MMU_WPR2_ADDR_HI` | VAL 31:4 = end address 39:12 (exclusive); read-only to the CPU, 0 = no WPR2 |
//!
//! Sources: open-gpu-kernel-modules `ampere/ga100/dev_fb.h` (flush registers, fields, INIT;
//! the header also defines `_ADDR_HI_MASK` 0x7F, i.e. address bits 46:40, but the field is
//! 23:0 and that is what is stored) and `turing/tu102/dev_fb.h` L34-39 (WPR2).
//!
//! WPR2 is carved by FWSEC-FRTS (docs/facts/ga102.md §7.4 step 7) and torn down by Booter-unload; the
//! FWSEC model ([`super::falcon::fwsec`]) sets it through [`Wpr2Handle`] (Booter is not modelled
//! yet). Model choices (not in the facts): an FLR resets
//! the flush registers to INIT but leaves WPR2 alone (a WPR2 that survives is what the driver's
//! "already set, reset the GPU" check looks for).

use super::Block;
use std::sync::{Arc, Mutex, MutexGuard};

/// `NV_PFB_NISO_FLUSH_SYSMEM_ADDR`.
pub const FLUSH_SYSMEM_ADDR: u32 = 0x100c10;
/// `NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI`.
pub const FLUSH_SYSMEM_ADDR_HI: u32 = 0x100c40;
/// `NV_PFB_PRI_MMU_WPR2_ADDR_LO`.
pub const WPR2_ADDR_LO: u32 = 0x1fa824;
/// `NV_PFB_PRI_MMU_WPR2_ADDR_HI`.
pub const WPR2_ADDR_HI: u32 = 0x1fa828;

/// ADR_63_40 is bits 23:0.
const FLUSH_HI_FIELD: u32 = 0x00ff_ffff;
/// VAL is bits 31:4.
const WPR2_VAL: u32 = 0xffff_fff0;

#[derive(Clone, Copy, Default)]
struct Wpr2 {
    lo: u32,
    hi: u32,
}

fn lock(w: &Mutex<Wpr2>) -> MutexGuard<'_, Wpr2> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets and reads WPR2 from the firmware side of the model.
#[derive(Clone)]
pub struct Wpr2Handle(Arc<Mutex<Wpr2>>);

impl Wpr2Handle {
    /// WPR2 = [start, end) in VRAM: LO.VAL = start >> 12, HI.VAL = end >> 12 (docs/facts/ga102.md §3; both
    /// 4 KiB granular, bits 39:12).
    pub fn set(&self, start: u64, end: u64) {
        let enc = |a: u64| ((a >> 12) << 4) as u32 & WPR2_VAL;
        self.set_raw(enc(start), enc(end));
    }

    /// Sets the raw register values (VAL bits only).
    pub fn set_raw(&self, lo: u32, hi: u32) {
        *lock(&self.0) = Wpr2 {
            lo: lo & WPR2_VAL,
            hi: hi & WPR2_VAL,
        };
    }

    /// Removes WPR2 (both registers 0), as Booter-unload leaves it (docs/facts/ga102.md §7.4 unload step 4).
    pub fn clear(&self) {
        self.set_raw(0, 0);
    }

    /// The raw (LO, HI) register values.
    pub fn raw(&self) -> (u32, u32) {
        let w = lock(&self.0);
        (w.lo, w.hi)
    }
}

/// The PFB block.
pub struct Fb {
    flush_lo: u32,
    flush_hi: u32,
    wpr2: Arc<Mutex<Wpr2>>,
}

impl Default for Fb {
    fn default() -> Self {
        Self::new()
    }
}

impl Fb {
    /// The block at power-on.
    pub fn new() -> Self {
        Fb {
            flush_lo: 0,
            flush_hi: 0,
            wpr2: Arc::new(Mutex::new(Wpr2::default())),
        }
    }

    /// A handle that reaches WPR2 after the block went into the BAR0 decoder.
    pub fn wpr2_handle(&self) -> Wpr2Handle {
        Wpr2Handle(self.wpr2.clone())
    }

    /// The sysmem flush page address the CPU registered.
    pub fn flush_sysmem_addr(&self) -> u64 {
        u64::from(self.flush_hi) << 40 | u64::from(self.flush_lo) << 8
    }
}

impl Block for Fb {
    fn name(&self) -> &'static str {
        "fb"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[
            (FLUSH_SYSMEM_ADDR, FLUSH_SYSMEM_ADDR + 4),
            (FLUSH_SYSMEM_ADDR_HI, FLUSH_SYSMEM_ADDR_HI + 4),
            (WPR2_ADDR_LO, WPR2_ADDR_HI + 4),
        ]
    }

    fn read32(&mut self, off: u32) -> u32 {
        match off {
            FLUSH_SYSMEM_ADDR => self.flush_lo,
            FLUSH_SYSMEM_ADDR_HI => self.flush_hi,
            WPR2_ADDR_LO => lock(&self.wpr2).lo,
            WPR2_ADDR_HI => lock(&self.wpr2).hi,
            _ => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        match off {
            FLUSH_SYSMEM_ADDR => self.flush_lo = val,
            FLUSH_SYSMEM_ADDR_HI => self.flush_hi = val & FLUSH_HI_FIELD,
            _ => {} // WPR2 is read-only to the CPU
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Some(match off {
            FLUSH_SYSMEM_ADDR => "NV_PFB_NISO_FLUSH_SYSMEM_ADDR",
            FLUSH_SYSMEM_ADDR_HI => "NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI",
            WPR2_ADDR_LO => "NV_PFB_PRI_MMU_WPR2_ADDR_LO",
            WPR2_ADDR_HI => "NV_PFB_PRI_MMU_WPR2_ADDR_HI",
            _ => return None,
        })
    }

    fn reset(&mut self) {
        self.flush_lo = 0;
        self.flush_hi = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_page_registers() {
        let mut f = Fb::new();
        // The documented order: _HI = addr >> 40 first, then ADDR = addr >> 8 (docs/facts/ga102.md §3).
        let addr: u64 = 0x7f12_3456_7000;
        f.write32(FLUSH_SYSMEM_ADDR_HI, (addr >> 40) as u32);
        f.write32(FLUSH_SYSMEM_ADDR, (addr >> 8) as u32);
        assert_eq!(f.read32(FLUSH_SYSMEM_ADDR_HI), 0x7f);
        assert_eq!(f.read32(FLUSH_SYSMEM_ADDR), 0x1234_5670);
        assert_eq!(f.flush_sysmem_addr(), addr);
        f.write32(FLUSH_SYSMEM_ADDR_HI, 0xffff_ffff);
        assert_eq!(f.read32(FLUSH_SYSMEM_ADDR_HI), 0x00ff_ffff, "field is 23:0");
        f.reset();
        assert_eq!(f.read32(FLUSH_SYSMEM_ADDR), 0);
        assert_eq!(f.read32(FLUSH_SYSMEM_ADDR_HI), 0);
    }

    #[test]
    fn wpr2_is_zero_read_only_and_set_by_the_model() {
        let mut f = Fb::new();
        assert_eq!(f.read32(WPR2_ADDR_LO), 0);
        assert_eq!(f.read32(WPR2_ADDR_HI), 0, "no WPR2 after power-on");
        f.write32(WPR2_ADDR_LO, 0x1234_5670);
        f.write32(WPR2_ADDR_HI, 0x1234_5670);
        assert_eq!(f.read32(WPR2_ADDR_HI), 0, "the CPU cannot write WPR2");
        let h = f.wpr2_handle();
        let (start, end) = (0x5_f000_0000u64, 0x5_fff0_0000u64);
        h.set(start, end);
        let (lo, hi) = (f.read32(WPR2_ADDR_LO), f.read32(WPR2_ADDR_HI));
        assert_eq!(lo, 0x05f0_0000);
        assert_eq!(
            u64::from(lo & !0xf) << 8,
            start,
            "docs/facts/ga102.md §3 decoding"
        );
        assert_eq!(u64::from(hi & !0xf) << 8, end);
        f.reset();
        assert_eq!(f.read32(WPR2_ADDR_HI), hi, "WPR2 survives an FLR");
        h.set_raw(0xffff_ffff, 0x1f);
        assert_eq!(h.raw(), (0xffff_fff0, 0x10));
        h.clear();
        assert_eq!(f.read32(WPR2_ADDR_HI), 0);
        assert_eq!(
            f.reg_name(WPR2_ADDR_HI),
            Some("NV_PFB_PRI_MMU_WPR2_ADDR_HI")
        );
        assert_eq!(f.reg_name(0x1fa82c), None);
    }
}
