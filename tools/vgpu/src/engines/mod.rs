// SPDX-License-Identifier: GPL-2.0
//! The engines behind a channel's PBDMA: what the methods of a subchannel's class do.
//!
//! The PBDMA ([`crate::fifo`]) decodes push-buffer method headers (docs/facts/ga102.md §11.2), executes the
//! host methods (offsets below 0x100, docs/facts/ga102.md §11.3) itself and hands every other method of a
//! subchannel to the [`Engine`] bound there with `SET_OBJECT`. An engine sees memory only
//! through the channel's GPU virtual address space ([`ChannelMemory`]), so a bad address is an
//! MMU fault exactly where hardware would take one.
//!
//! - [`ce`]: AMPERE_DMA_COPY_B (0xC7B5), docs/facts/ga102.md §11.4.
//! - [`twod`]: FERMI_TWOD_A (0x902D), docs/facts/ga102.md §11.5.

/// Why a channel memory access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// The first faulting GPU VA.
    pub va: u64,
    /// Whether the faulting access was a write.
    pub write: bool,
}

/// A channel's view of memory: its GPU virtual address space, through the MMU.
pub trait ChannelMemory {
    /// Reads `buf.len()` bytes at GPU VA `va`. On a fault nothing is read.
    fn read(&mut self, va: u64, buf: &mut [u8]) -> Result<(), MemFault>;
    /// Writes `data` at GPU VA `va`. On a fault nothing is written.
    fn write(&mut self, va: u64, data: &[u8]) -> Result<(), MemFault>;
    /// The GPU's global timer in nanoseconds (usermode TIME_0/TIME_1, docs/facts/ga102.md §10.3), the value
    /// a semaphore release with timestamp writes.
    fn timestamp_ns(&self) -> u64;
}

/// Why an engine put its channel in error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// A method offset the class does not have.
    BadMethod {
        /// Method byte offset.
        method: u32,
        /// Its data word.
        data: u32,
    },
    /// A known method with a value the engine refuses (a launch with an unsupported layout,
    /// a zero-sized surface, ...). `why` names the field.
    BadArgument {
        /// Method byte offset.
        method: u32,
        /// Its data word.
        data: u32,
        /// What was wrong.
        why: String,
    },
    /// The engine's memory access faulted.
    Fault(MemFault),
}

/// What a method did besides writing memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// The engine raised its non-stall interrupt (e.g. LAUNCH_DMA with INTERRUPT_TYPE
    /// NON_BLOCKING).
    pub nonstall_interrupt: bool,
    /// Bytes the method moved or filled (for statistics and traces).
    pub bytes: u64,
}

/// An engine class instance bound to one subchannel of one channel. It keeps the class's
/// method state (the values of the SET_* methods) between methods.
pub trait Engine: Send {
    /// The class number (0xC7B5, 0x902D).
    fn class(&self) -> u32;
    /// Executes one method (byte offset `method` ≥ 0x100, data word `data`).
    fn method(
        &mut self,
        mem: &mut dyn ChannelMemory,
        method: u32,
        data: u32,
    ) -> Result<Effects, EngineError>;
}

/// Ok if `method` is a 4-byte aligned offset inside one of the class's `[start, end)` method
/// ranges, else the `BadMethod` a class answers an offset it does not have with.
pub fn check_method(ranges: &[(u32, u32)], method: u32, data: u32) -> Result<(), EngineError> {
    if method.is_multiple_of(4) && ranges.iter().any(|&(a, b)| (a..b).contains(&method)) {
        Ok(())
    } else {
        Err(EngineError::BadMethod { method, data })
    }
}

/// A new engine of class `class`, or None if this GPU has no such engine class.
pub fn new_engine(class: u32) -> Option<Box<dyn Engine>> {
    match class {
        ce::CLASS => Some(Box::new(ce::CopyEngine::default())),
        twod::CLASS => Some(Box::new(twod::TwoD::default())),
        _ => None,
    }
}

pub mod ce;
pub mod twod;

#[cfg(test)]
mod testmem;
