// SPDX-License-Identifier: GPL-2.0
//! FERMI_TWOD_A (0x902D), facts §11.5: not modelled yet; every method is refused.

use super::{ChannelMemory, Effects, Engine, EngineError};

/// The class number of FERMI_TWOD_A.
pub const CLASS: u32 = 0x902d;

/// A FERMI_TWOD_A instance (no methods yet).
#[derive(Default)]
pub struct TwoD {
    _state: (),
}

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
