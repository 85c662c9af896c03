// SPDX-License-Identifier: GPL-2.0
//! GPFIFO channels: a channel of one engine in one of our address spaces, allocated through
//! GSP-RM (docs/facts/ga102.md §10), fed through its ring and the usermode doorbell (docs/facts/ga102.md §10.3, §11.1).
//!
//! A [`Channel`] owns every piece of memory GSP-RM and the GPU use for it, all in coherent
//! system memory:
//! - the instance block (4 KiB; GSP-RM writes RAMFC and the page-directory base into it),
//! - USERD (512 bytes: GP_GET at 0x88, GP_PUT at 0x8C),
//! - the method buffer GSP-RM asks for (its size comes from
//!   `NV2080_CTRL_CMD_CE_GET_FAULT_METHOD_BUFFER_SIZE`),
//! - the ring area ([`RING_BYTES`]), mapped into the address space at a VA the caller picks:
//!   the GPFIFO ring ([`GPFIFO_ENTRIES`] entries), the fence word the kernel's job tails
//!   release ([`FENCE_OFFSET`]), and the tails themselves ([`TAIL_SLOTS`] slots).
//!
//! The RM objects are freed by [`crate::link::GpuLink::channel_free`] (GSP-RM stops the
//! channel first); only then may the memory go. If nova-core unbinds first, GSP-RM is unloaded
//! and nothing runs any more.

use kernel::{
    device::{self, Bound},
    dma::{Coherent, CoherentBox},
    io::{io_read, io_write},
    prelude::*,
};

use crate::pushbuf::{self, FENCE_TAIL_WORDS, GPFIFO_ENTRY_BYTES};

/// What a channel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// Copy engine 0 with the chip's copy class.
    Copy,
    /// The graphics engine with the 2D class.
    TwoD,
}

/// Bytes of the ring area.
pub const RING_BYTES: usize = 0x10000;
/// GPFIFO entries at the start of the ring area.
pub const GPFIFO_ENTRIES: u32 = 512;
/// Offset of the 64-bit fence word in the ring area.
pub const FENCE_OFFSET: u64 = 0x1000;
/// Offset of the first job-tail slot.
const TAIL_OFFSET: u64 = 0x2000;
/// Bytes per job-tail slot.
const TAIL_SLOT_BYTES: u64 = 64;
/// Job-tail slots (one per GPFIFO entry at most in flight).
pub const TAIL_SLOTS: u32 = GPFIFO_ENTRIES;

const _: () = assert!(TAIL_OFFSET + TAIL_SLOT_BYTES * TAIL_SLOTS as u64 <= RING_BYTES as u64);
const _: () = assert!(FENCE_TAIL_WORDS as u64 * 4 <= TAIL_SLOT_BYTES);
const _: () = assert!(GPFIFO_ENTRIES as usize * GPFIFO_ENTRY_BYTES <= FENCE_OFFSET as usize);

/// USERD word of GP_GET (byte 0x88) and GP_PUT (0x8C) (docs/facts/ga102.md §10.3).
const USERD_GP_GET: usize = 0x88 / 4;
const USERD_GP_PUT: usize = 0x8c / 4;

/// The RM handles of one channel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChannelHandles {
    pub(crate) vaspace: u32,
    pub(crate) channel: u32,
    pub(crate) object: u32,
}

/// A GPFIFO channel.
pub struct Channel {
    pub(crate) handles: ChannelHandles,
    pub(crate) engine: EngineKind,
    pub(crate) engine_type: u32,
    pub(crate) token: u32,
    pub(crate) ring_va: u64,
    ring: Coherent<[u32]>,
    pub(crate) inst: Coherent<[u32]>,
    pub(crate) userd: Coherent<[u32]>,
    pub(crate) mthdbuf: Coherent<[u32]>,
    /// RM objects exist (cleared by `channel_stop`).
    pub(crate) live: bool,
    /// The ring area is mapped in the channel's address space (cleared by `channel_free`).
    pub(crate) ring_mapped: bool,
}

/// Zeroed coherent memory of `bytes` (a multiple of 4).
pub(crate) fn coherent(dev: &device::Device<Bound>, bytes: usize) -> Result<Coherent<[u32]>> {
    Ok(CoherentBox::<[u32]>::zeroed_slice(dev, bytes / 4, GFP_KERNEL)?.into())
}

/// The memory of a channel before GSP-RM knows it.
pub(crate) struct ChannelMemory {
    pub(crate) ring: Coherent<[u32]>,
    pub(crate) inst: Coherent<[u32]>,
    pub(crate) userd: Coherent<[u32]>,
    pub(crate) mthdbuf: Coherent<[u32]>,
}

impl ChannelMemory {
    /// Zeroed memory for one channel, with a method buffer of `mthdbuf_bytes` (at least 4 KiB).
    pub(crate) fn new(dev: &device::Device<Bound>, mthdbuf_bytes: usize) -> Result<Self> {
        Ok(ChannelMemory {
            ring: coherent(dev, RING_BYTES)?,
            inst: coherent(dev, 0x1000)?,
            userd: coherent(dev, 0x1000)?,
            mthdbuf: coherent(dev, mthdbuf_bytes.max(0x1000).next_multiple_of(0x1000))?,
        })
    }
}

impl Channel {
    pub(crate) fn assemble(
        handles: ChannelHandles,
        engine: EngineKind,
        engine_type: u32,
        ring_va: u64,
        mem: ChannelMemory,
    ) -> Self {
        Channel {
            handles,
            engine,
            engine_type,
            token: 0,
            ring_va,
            ring: mem.ring,
            inst: mem.inst,
            userd: mem.userd,
            mthdbuf: mem.mthdbuf,
            live: false,
            // `channel_new` maps the ring before it assembles the channel.
            ring_mapped: true,
        }
    }

    /// The engine it runs.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The channel id (from the work-submit token).
    pub fn chid(&self) -> u32 {
        crate::gsp::fifo::token_chid(self.token)
    }

    /// The NV2080 engine type (as `RC_TRIGGERED` names it).
    pub fn engine_type(&self) -> u32 {
        self.engine_type
    }

    /// GPU VA of the ring area.
    pub fn ring_va(&self) -> u64 {
        self.ring_va
    }

    /// GPU VA of the fence word.
    pub fn fence_va(&self) -> u64 {
        self.ring_va + FENCE_OFFSET
    }

    /// The last seqno the GPU released into the fence word.
    pub fn fence(&self) -> u64 {
        let w = |i: u64| -> u32 {
            let r: Result<u32> =
                (|| Ok(io_read!(&self.ring, [try: ((FENCE_OFFSET / 4) + i) as usize])))();
            r.unwrap_or(0)
        };
        // The GPU writes the 64-bit payload as one release; re-read the high word to not
        // combine halves of two releases.
        loop {
            let hi = w(1);
            let lo = w(0);
            if w(1) == hi {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }

    /// Writes GPFIFO entry `index` (mod [`GPFIFO_ENTRIES`]) fetching `words` words at `va`.
    pub fn write_entry(&self, index: u32, va: u64, words: u32) -> Result {
        let [w0, w1] = pushbuf::gpfifo_entry(va, words).ok_or(EINVAL)?;
        let at = (index % GPFIFO_ENTRIES) as usize * 2;
        io_write!(&self.ring, [try: at], w0);
        io_write!(&self.ring, [try: at + 1], w1);
        Ok(())
    }

    /// Writes the job tail releasing `seqno` into slot `slot` (mod [`TAIL_SLOTS`]); returns
    /// its GPU VA and length in words, for a GPFIFO entry.
    pub fn write_tail(&self, slot: u32, seqno: u64) -> Result<(u64, u32)> {
        let off = TAIL_OFFSET + u64::from(slot % TAIL_SLOTS) * TAIL_SLOT_BYTES;
        let words = pushbuf::fence_tail(self.fence_va(), seqno);
        for (i, w) in words.iter().enumerate() {
            io_write!(&self.ring, [try: off as usize / 4 + i], *w);
        }
        Ok((self.ring_va + off, FENCE_TAIL_WORDS as u32))
    }

    /// GP_GET as the GPU last wrote it into USERD.
    pub fn gp_get(&self) -> u32 {
        let r: Result<u32> = (|| Ok(io_read!(&self.userd, [try: USERD_GP_GET])))();
        r.unwrap_or(0)
    }

    /// Writes GP_PUT into USERD (the doorbell follows, see `GpuLink::channel_kick`).
    pub(crate) fn set_gp_put(&self, put: u32) -> Result {
        io_write!(&self.userd, [try: USERD_GP_PUT], put % GPFIFO_ENTRIES);
        Ok(())
    }
}
