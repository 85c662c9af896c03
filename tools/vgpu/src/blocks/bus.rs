// SPDX-License-Identifier: GPL-2.0
//! PBUS software scratch registers: `NV_PBUS_SW_SCRATCH(i)`, BAR0 0x001400 + 4i, i < 64, 31:0
//! read/write (docs/facts/ga102.md §3; open-gpu-kernel-modules `ampere/ga100/dev_bus.h` L27-30).
//!
//! Firmware reports through them: FWSEC-FRTS puts its error code in `SW_SCRATCH(0xE)` bits
//! 31:16 and FWSEC-SB in `SW_SCRATCH(0x15)` bits 15:0 (0 = success; docs/facts/ga102.md §3). The FWSEC model
//! ([`super::falcon::fwsec`]) writes them through [`ScratchHandle`].
//!
//! Model choices (not in the facts): power-on value 0; an FLR clears them.

use super::Block;
use std::sync::{Arc, Mutex, MutexGuard};

/// `NV_PBUS_SW_SCRATCH(0)`.
pub const SW_SCRATCH: u32 = 0x001400;
/// `NV_PBUS_SW_SCRATCH__SIZE_1`.
pub const COUNT: usize = 64;
/// Scratch index where FWSEC-FRTS reports (bits 31:16).
pub const FRTS_ERROR: usize = 0xe;
/// Scratch index where FWSEC-SB reports (bits 15:0).
pub const SB_ERROR: usize = 0x15;

const NAMES: [&str; COUNT] = [
    "NV_PBUS_SW_SCRATCH(0x0)",
    "NV_PBUS_SW_SCRATCH(0x1)",
    "NV_PBUS_SW_SCRATCH(0x2)",
    "NV_PBUS_SW_SCRATCH(0x3)",
    "NV_PBUS_SW_SCRATCH(0x4)",
    "NV_PBUS_SW_SCRATCH(0x5)",
    "NV_PBUS_SW_SCRATCH(0x6)",
    "NV_PBUS_SW_SCRATCH(0x7)",
    "NV_PBUS_SW_SCRATCH(0x8)",
    "NV_PBUS_SW_SCRATCH(0x9)",
    "NV_PBUS_SW_SCRATCH(0xa)",
    "NV_PBUS_SW_SCRATCH(0xb)",
    "NV_PBUS_SW_SCRATCH(0xc)",
    "NV_PBUS_SW_SCRATCH(0xd)",
    "NV_PBUS_SW_SCRATCH(0xe)",
    "NV_PBUS_SW_SCRATCH(0xf)",
    "NV_PBUS_SW_SCRATCH(0x10)",
    "NV_PBUS_SW_SCRATCH(0x11)",
    "NV_PBUS_SW_SCRATCH(0x12)",
    "NV_PBUS_SW_SCRATCH(0x13)",
    "NV_PBUS_SW_SCRATCH(0x14)",
    "NV_PBUS_SW_SCRATCH(0x15)",
    "NV_PBUS_SW_SCRATCH(0x16)",
    "NV_PBUS_SW_SCRATCH(0x17)",
    "NV_PBUS_SW_SCRATCH(0x18)",
    "NV_PBUS_SW_SCRATCH(0x19)",
    "NV_PBUS_SW_SCRATCH(0x1a)",
    "NV_PBUS_SW_SCRATCH(0x1b)",
    "NV_PBUS_SW_SCRATCH(0x1c)",
    "NV_PBUS_SW_SCRATCH(0x1d)",
    "NV_PBUS_SW_SCRATCH(0x1e)",
    "NV_PBUS_SW_SCRATCH(0x1f)",
    "NV_PBUS_SW_SCRATCH(0x20)",
    "NV_PBUS_SW_SCRATCH(0x21)",
    "NV_PBUS_SW_SCRATCH(0x22)",
    "NV_PBUS_SW_SCRATCH(0x23)",
    "NV_PBUS_SW_SCRATCH(0x24)",
    "NV_PBUS_SW_SCRATCH(0x25)",
    "NV_PBUS_SW_SCRATCH(0x26)",
    "NV_PBUS_SW_SCRATCH(0x27)",
    "NV_PBUS_SW_SCRATCH(0x28)",
    "NV_PBUS_SW_SCRATCH(0x29)",
    "NV_PBUS_SW_SCRATCH(0x2a)",
    "NV_PBUS_SW_SCRATCH(0x2b)",
    "NV_PBUS_SW_SCRATCH(0x2c)",
    "NV_PBUS_SW_SCRATCH(0x2d)",
    "NV_PBUS_SW_SCRATCH(0x2e)",
    "NV_PBUS_SW_SCRATCH(0x2f)",
    "NV_PBUS_SW_SCRATCH(0x30)",
    "NV_PBUS_SW_SCRATCH(0x31)",
    "NV_PBUS_SW_SCRATCH(0x32)",
    "NV_PBUS_SW_SCRATCH(0x33)",
    "NV_PBUS_SW_SCRATCH(0x34)",
    "NV_PBUS_SW_SCRATCH(0x35)",
    "NV_PBUS_SW_SCRATCH(0x36)",
    "NV_PBUS_SW_SCRATCH(0x37)",
    "NV_PBUS_SW_SCRATCH(0x38)",
    "NV_PBUS_SW_SCRATCH(0x39)",
    "NV_PBUS_SW_SCRATCH(0x3a)",
    "NV_PBUS_SW_SCRATCH(0x3b)",
    "NV_PBUS_SW_SCRATCH(0x3c)",
    "NV_PBUS_SW_SCRATCH(0x3d)",
    "NV_PBUS_SW_SCRATCH(0x3e)",
    "NV_PBUS_SW_SCRATCH(0x3f)",
];

type Regs = Arc<Mutex<[u32; COUNT]>>;

fn lock(r: &Regs) -> MutexGuard<'_, [u32; COUNT]> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

/// Access to the scratch registers for other parts of the model (firmware side).
#[derive(Clone)]
pub struct ScratchHandle(Regs);

impl ScratchHandle {
    /// `NV_PBUS_SW_SCRATCH(i)`; 0 for i >= 64.
    pub fn read(&self, i: usize) -> u32 {
        lock(&self.0).get(i).copied().unwrap_or(0)
    }

    /// Sets `NV_PBUS_SW_SCRATCH(i)`; ignored for i >= 64.
    pub fn write(&self, i: usize, val: u32) {
        if let Some(r) = lock(&self.0).get_mut(i) {
            *r = val;
        }
    }
}

/// The PBUS scratch block.
pub struct Bus {
    regs: Regs,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    /// Scratch registers at their power-on value.
    pub fn new() -> Self {
        Bus {
            regs: Arc::new(Mutex::new([0; COUNT])),
        }
    }

    /// A handle that reaches these registers after the block went into the BAR0 decoder.
    pub fn handle(&self) -> ScratchHandle {
        ScratchHandle(self.regs.clone())
    }

    fn index(off: u32) -> Option<usize> {
        let i = (off.checked_sub(SW_SCRATCH)? / 4) as usize;
        (i < COUNT).then_some(i)
    }
}

impl Block for Bus {
    fn name(&self) -> &'static str {
        "bus"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(SW_SCRATCH, SW_SCRATCH + 4 * COUNT as u32)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        Self::index(off).map_or(0, |i| lock(&self.regs)[i])
    }

    fn write32(&mut self, off: u32, val: u32) {
        if let Some(i) = Self::index(off) {
            lock(&self.regs)[i] = val;
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Self::index(off).map(|i| NAMES[i])
    }

    fn reset(&mut self) {
        *lock(&self.regs) = [0; COUNT];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_four_rw_registers() {
        let mut b = Bus::new();
        for i in 0..COUNT as u32 {
            b.write32(SW_SCRATCH + 4 * i, 0x1000_0000 | i);
        }
        for i in 0..COUNT as u32 {
            assert_eq!(b.read32(SW_SCRATCH + 4 * i), 0x1000_0000 | i);
        }
        assert_eq!(b.ranges(), &[(0x1400, 0x1500)]);
        assert_eq!(b.reg_name(0x1438), Some("NV_PBUS_SW_SCRATCH(0xe)"));
        assert_eq!(b.reg_name(0x1454), Some("NV_PBUS_SW_SCRATCH(0x15)"));
        assert_eq!(b.reg_name(0x14fc), Some("NV_PBUS_SW_SCRATCH(0x3f)"));
        assert_eq!(b.reg_name(0x1500), None);
        b.reset();
        assert_eq!(b.read32(0x1438), 0);
    }

    #[test]
    fn handle_sees_and_sets_the_same_registers() {
        let mut b = Bus::new();
        let h = b.handle();
        h.write(FRTS_ERROR, 0xdead_0000);
        assert_eq!(b.read32(SW_SCRATCH + 4 * FRTS_ERROR as u32), 0xdead_0000);
        b.write32(SW_SCRATCH + 4 * SB_ERROR as u32, 7);
        assert_eq!(h.read(SB_ERROR), 7);
        h.write(COUNT, 1);
        assert_eq!(h.read(COUNT), 0);
    }
}
