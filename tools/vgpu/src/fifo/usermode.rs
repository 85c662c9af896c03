// SPDX-License-Identifier: GPL-2.0
//! The usermode region (`AMPERE_USERMODE_A`, 0xC561): 64 KiB at VF-window offset 0x30000, PF
//! BAR0 0xBB0000 (docs/facts/ga102.md §10.3; OG 570.144 `clc361.h`; OG `turing/tu102/dev_vm.h` L229).
//!
//! | Offset | Register | Model |
//! |---|---|---|
//! | +0x80 | TIME_0 | GPU timer ns bits 31:0 (the host monotonic clock since the device started) |
//! | +0x84 | TIME_1 | bits 63:32 |
//! | +0x90 | NOTIFY_CHANNEL_PENDING | write: work-submit token `(runlist << 16) \| chid`, wakes that channel's PBDMA ([`super::Fifo::doorbell`]); an unknown token is counted and traced, nothing else; reads 0 |
//!
//! Everything else reads 0 and ignores writes.

use super::Fifo;
use crate::blocks::Block;

/// BAR0 base of the usermode region.
pub const BASE: u32 = 0xbb_0000;
/// Its size.
pub const SIZE: u32 = 0x1_0000;
/// `NVC361_TIME_0`.
pub const TIME_0: u32 = BASE + 0x80;
/// `NVC361_TIME_1`.
pub const TIME_1: u32 = BASE + 0x84;
/// `NVC361_NOTIFY_CHANNEL_PENDING`.
pub const NOTIFY_CHANNEL_PENDING: u32 = BASE + 0x90;

/// The usermode block.
pub struct Usermode {
    fifo: Fifo,
}

impl Usermode {
    /// The region in front of `fifo`.
    pub fn new(fifo: Fifo) -> Self {
        Usermode { fifo }
    }
}

impl Block for Usermode {
    fn name(&self) -> &'static str {
        "usermode"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(BASE, BASE + SIZE)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        match off {
            TIME_0 => self.fifo.now_ns() as u32,
            TIME_1 => (self.fifo.now_ns() >> 32) as u32,
            _ => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        if off == NOTIFY_CHANNEL_PENDING {
            self.fifo.doorbell(val);
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        match off {
            TIME_0 => Some("NVC361_TIME_0"),
            TIME_1 => Some("NVC361_TIME_1"),
            NOTIFY_CHANNEL_PENDING => Some("NVC361_NOTIFY_CHANNEL_PENDING"),
            _ => None,
        }
    }

    fn reset(&mut self) {}
}
