// SPDX-License-Identifier: GPL-2.0
//! Placeholder for FERMI_TWOD_A until the `engines` branch lands: every method is refused.

use super::{ChannelMemory, Effects, Engine, EngineError};

/// FERMI_TWOD_A.
pub const CLASS: u32 = 0x902d;

/// The 2D engine (placeholder).
#[derive(Default)]
pub struct TwoD;

impl Engine for TwoD {
    fn class(&self) -> u32 {
        CLASS
    }

    fn method(
        &mut self,
        _mem: &mut dyn ChannelMemory,
        method: u32,
        data: u32,
    ) -> Result<Effects, EngineError> {
        Err(EngineError::BadMethod { method, data })
    }
}
