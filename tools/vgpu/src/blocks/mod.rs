// SPDX-License-Identifier: GPL-2.0
//! Register blocks. Each block owns one or more BAR0 ranges and models the registers in them.
//! A block sees absolute BAR0 offsets (as the manuals give them) and 32-bit accesses only;
//! [`crate::bar0`] splits and merges other sizes.

pub mod bar1;
pub mod bus;
pub mod disp;
pub mod falcon;
pub mod fb;
pub mod fuse;
pub mod gc6;
pub mod intr;
pub mod mmu;
pub mod pmc;
pub mod pramin;
pub mod prom;

/// One hardware block behind BAR0.
pub trait Block: Send {
    /// Short name, used in the trace and in `--trace=` filters.
    fn name(&self) -> &'static str;
    /// The BAR0 ranges (start, end exclusive) this block decodes.
    fn ranges(&self) -> &'static [(u32, u32)];
    /// A 32-bit read at absolute BAR0 offset `off` (4-byte aligned, inside one of the ranges).
    fn read32(&mut self, off: u32) -> u32;
    /// A 32-bit write.
    fn write32(&mut self, off: u32, val: u32);
    /// The register's name for the trace, if the block knows it.
    fn reg_name(&self, off: u32) -> Option<&'static str>;
    /// Back to the power-on state (function-level reset).
    fn reset(&mut self);
    /// Work started outside the block's registers: called by the device after an access to
    /// another BAR whose effects may reach the block (the GSP: an MMU fault notification
    /// GSP-RM takes). Default: nothing.
    fn service(&mut self) {}
}

/// A block that other threads reach too (the GSP falcon, whose GSP-RM the PBDMA threads of
/// [`crate::fifo`] ask to send `RC_TRIGGERED`): the BAR0 decoder owns this wrapper, the
/// others keep a clone of the `Arc` and lock it.
pub struct Shared<B: Block>(pub std::sync::Arc<std::sync::Mutex<B>>);

impl<B: Block> Shared<B> {
    fn lock(&self) -> std::sync::MutexGuard<'_, B> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<B: Block> Block for Shared<B> {
    fn name(&self) -> &'static str {
        self.lock().name()
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        self.lock().ranges()
    }

    fn read32(&mut self, off: u32) -> u32 {
        self.lock().read32(off)
    }

    fn write32(&mut self, off: u32, val: u32) {
        self.lock().write32(off, val)
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        self.lock().reg_name(off)
    }

    fn reset(&mut self) {
        self.lock().reset()
    }

    fn service(&mut self) {
        self.lock().service()
    }
}
