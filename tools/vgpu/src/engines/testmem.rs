// SPDX-License-Identifier: GPL-2.0
//! A fake [`ChannelMemory`] for the engine unit tests: one window of GPU VA backed by a `Vec`,
//! with an optional hole. An access that touches anything outside the window, or the hole,
//! faults as a whole (nothing is read or written), as the trait requires.

use super::{ChannelMemory, MemFault};
use std::ops::Range;

/// A window of GPU VA `[base, base + len)`, zero-filled.
pub(crate) struct FakeMem {
    /// First VA of the window.
    pub base: u64,
    /// The window's bytes.
    pub data: Vec<u8>,
    /// VAs inside the window that fault anyway (an unmapped page).
    pub hole: Option<Range<u64>>,
    /// What `timestamp_ns` returns.
    pub now: u64,
    /// Number of `read` calls (successful or not).
    pub reads: usize,
    /// Number of `write` calls (successful or not).
    pub writes: usize,
}

impl FakeMem {
    /// A zeroed window of `len` bytes at VA `base`.
    pub fn new(base: u64, len: usize) -> Self {
        FakeMem {
            base,
            data: vec![0; len],
            hole: None,
            now: 0,
            reads: 0,
            writes: 0,
        }
    }

    fn range(&self, va: u64, len: usize, write: bool) -> Result<Range<usize>, MemFault> {
        let fault = |va| Err(MemFault { va, write });
        if len == 0 {
            return Ok(0..0);
        }
        if va < self.base {
            return fault(va);
        }
        let end_va = va.checked_add(len as u64).ok_or(MemFault { va, write })?;
        if let Some(h) = &self.hole {
            if va < h.end && end_va > h.start {
                return fault(va.max(h.start));
            }
        }
        let win_end = self.base + self.data.len() as u64;
        if end_va > win_end {
            return fault(va.max(win_end));
        }
        let off = (va - self.base) as usize;
        Ok(off..off + len)
    }

    /// The bytes at `va` (test side, no fault checks beyond the window).
    pub fn peek(&self, va: u64, len: usize) -> &[u8] {
        let off = (va - self.base) as usize;
        &self.data[off..off + len]
    }

    /// Stores `bytes` at `va` (test side).
    pub fn poke(&mut self, va: u64, bytes: &[u8]) {
        let off = (va - self.base) as usize;
        self.data[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// The little-endian u32 at `va`.
    pub fn u32_at(&self, va: u64) -> u32 {
        u32::from_le_bytes(self.peek(va, 4).try_into().unwrap())
    }

    /// The little-endian u64 at `va`.
    pub fn u64_at(&self, va: u64) -> u64 {
        u64::from_le_bytes(self.peek(va, 8).try_into().unwrap())
    }

    /// Stores the little-endian u32 `v` at `va`.
    pub fn put_u32(&mut self, va: u64, v: u32) {
        self.poke(va, &v.to_le_bytes());
    }
}

impl ChannelMemory for FakeMem {
    fn read(&mut self, va: u64, buf: &mut [u8]) -> Result<(), MemFault> {
        self.reads += 1;
        let r = self.range(va, buf.len(), false)?;
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }

    fn write(&mut self, va: u64, data: &[u8]) -> Result<(), MemFault> {
        self.writes += 1;
        let r = self.range(va, data.len(), true)?;
        self.data[r].copy_from_slice(data);
        Ok(())
    }

    fn timestamp_ns(&self) -> u64 {
        self.now
    }
}
