// SPDX-License-Identifier: GPL-2.0
//! Placeholder for AMPERE_DMA_COPY_B until the `engines` branch lands: every method is refused.

use super::{ChannelMemory, Effects, Engine, EngineError};

/// AMPERE_DMA_COPY_B.
pub const CLASS: u32 = 0xc7b5;

/// The copy engine (placeholder).
#[derive(Default)]
pub struct CopyEngine;

impl Engine for CopyEngine {
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
