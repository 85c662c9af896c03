// SPDX-License-Identifier: GPL-2.0
//! The CPU side of the message queues shared with GSP-RM (facts sheet §8.1-8.3).
//!
//! The area is DMA-coherent memory that GSP-RM reads and writes concurrently; every access goes
//! through the kernel's coherent-memory I/O views (volatile, bounds-checked), with DMA barriers
//! between the data and the pointers that publish it.

use kernel::{
    device,
    dma::Coherent,
    io::{io_read, io_write, poll::read_poll_timeout, Io},
    prelude::*,
    sync::barrier::{dma_mb, Read, Write},
    time::Delta,
};

use super::{
    channel::QueueStats,
    fifo::{self, RcTriggered},
    queue::{CMDQ_OFFSET, MSG_COUNT, PAGE, STATQ_OFFSET},
    rpc::{self, Message},
};
use crate::{driver::Bar0, regs::NV_PGSP_QUEUE_HEAD0};
use kernel::sync::atomic::Relaxed;

/// How long a command may wait for room in the command queue.
pub(crate) const SEND_TIMEOUT: Delta = Delta::from_millis(5000);
/// How long [`Cmdq::receive`] waits for a message.
pub(crate) const RECEIVE_TIMEOUT: Delta = Delta::from_millis(5000);

/// Offsets inside a queue header page (`msgqTxHeader`, then `msgqRxHeader` at 0x20).
const TX_MSG_COUNT: usize = 12;
pub(super) const TX_WRITE_PTR: usize = 16;
const TX_ENTRY_OFF: usize = 28;
pub(super) const RX_READ_PTR: usize = 0x20;

/// A received message, copied out of the queue.
pub(crate) struct Received {
    elem: KVec<u8>,
}

impl Received {
    /// The decoded message (checked when it was received).
    pub(crate) fn message(&self) -> Message<'_> {
        // `receive` decoded this very buffer successfully, so this cannot fail; an empty
        // message stands in if it somehow did.
        rpc::decode(&self.elem).unwrap_or(Message {
            seq_num: 0,
            function: 0,
            result: 0,
            rpc_seq: 0,
            payload: &[],
        })
    }
}

/// The CPU's end of both queues.
pub(crate) struct Cmdq<'a> {
    dev: &'a device::Device,
    area: &'a Coherent<[u32]>,
    seq_num: u32,
    rpc_seq: u32,
    stats: &'a QueueStats,
    /// `RC_TRIGGERED` events received through this view, for the channel to keep.
    rc: KVec<RcTriggered>,
}

impl<'a> Cmdq<'a> {
    /// The queues in `area` (initialised by `gsp::boot`); `sent` is the number of commands sent
    /// before (the queue sequence number continues from it).
    pub(crate) fn new(
        dev: &'a device::Device,
        area: &'a Coherent<[u32]>,
        sent: u32,
        stats: &'a QueueStats,
    ) -> Self {
        Cmdq {
            dev,
            area,
            seq_num: sent,
            rpc_seq: sent,
            stats,
            rc: KVec::new(),
        }
    }

    /// Counts a message that was not the reply being waited for, and logs it.
    /// An `RC_TRIGGERED` event is also kept (see [`Cmdq::take_rc`]); one that cannot be kept
    /// (too short, no memory) is logged.
    pub(crate) fn note_event(&mut self, msg: &Message<'_>) {
        let func = msg.function;
        self.stats.events.fetch_add(1, Relaxed);
        if func == rpc::function::RC_TRIGGERED {
            match fifo::rc_triggered(msg.payload) {
                Some(rc) if self.rc.push(rc, GFP_KERNEL).is_ok() => {}
                _ => dev_err!(self.dev, "GSP: RC_TRIGGERED event dropped\n"),
            }
        }
        if func == rpc::function::MMU_FAULT_QUEUED {
            self.stats.fault_notices.fetch_add(1, Relaxed);
        }
        dev_dbg!(
            self.dev,
            "GSP: event {:#x} ({})\n",
            func,
            rpc::function::name(func)
        );
    }

    /// The `RC_TRIGGERED` events noted so far (and forgets them).
    pub(crate) fn take_rc(&mut self) -> KVec<RcTriggered> {
        core::mem::take(&mut self.rc)
    }

    /// Number of commands sent so far.
    pub(crate) fn sent(&self) -> u32 {
        self.seq_num
    }

    fn read32(&self, off: usize) -> Result<u32> {
        Ok(io_read!(self.area, [try: off / 4]))
    }

    fn write32(&self, off: usize, v: u32) -> Result {
        io_write!(self.area, [try: off / 4], v);
        Ok(())
    }

    fn read_bytes(&self, at: usize, out: &mut [u8]) -> Result {
        for (i, c) in out.chunks_mut(4).enumerate() {
            let w = self.read32(at + 4 * i)?.to_le_bytes();
            c.copy_from_slice(w.get(..c.len()).ok_or(EINVAL)?);
        }
        Ok(())
    }

    fn write_bytes(&self, at: usize, data: &[u8]) -> Result {
        for (i, c) in data.chunks(4).enumerate() {
            let mut w = [0u8; 4];
            w.get_mut(..c.len()).ok_or(EINVAL)?.copy_from_slice(c);
            self.write32(at + 4 * i, u32::from_le_bytes(w))?;
        }
        Ok(())
    }

    /// Sends one RPC and rings the doorbell.
    pub(crate) fn send(&mut self, bar: &Bar0<'_>, function: u32, payload: &[u8]) -> Result {
        let count = rpc::elem_count(payload.len());
        let mut buf = KVec::from_elem(0u8, count * PAGE, GFP_KERNEL)?;
        rpc::encode(&mut buf, self.seq_num, self.rpc_seq, function, payload).map_err(|e| {
            dev_err!(self.dev, "GSP: cannot encode RPC {}: {}\n", function, e);
            EINVAL
        })?;
        let n = MSG_COUNT;
        let write = self.read32(CMDQ_OFFSET + TX_WRITE_PTR)? % n;
        // GSP-RM's read position in the command queue lives in the status queue's rx header.
        read_poll_timeout(
            || Ok((self.read32(STATQ_OFFSET + RX_READ_PTR)? % n + n - write - 1) % n),
            |free| *free as usize >= count,
            Delta::from_micros(100),
            SEND_TIMEOUT,
        )
        .inspect_err(|_| {
            dev_err!(
                self.dev,
                "GSP: command queue full for {} ms\n",
                SEND_TIMEOUT.as_millis()
            )
        })?;
        for (i, chunk) in buf.chunks(PAGE).enumerate() {
            let idx = (write as usize + i) % n as usize;
            let at = CMDQ_OFFSET + PAGE + idx * PAGE;
            self.write_bytes(at, chunk)?;
        }
        dma_mb(Write);
        self.write32(CMDQ_OFFSET + TX_WRITE_PTR, (write + count as u32) % n)?;
        dma_mb(Write);
        bar.write_reg(NV_PGSP_QUEUE_HEAD0::zeroed());
        self.seq_num = self.seq_num.wrapping_add(1);
        self.rpc_seq = self.rpc_seq.wrapping_add(1);
        self.stats.commands.fetch_add(1, Relaxed);
        self.stats.last_command.store(function, Relaxed);
        Ok(())
    }

    /// Whether GSP-RM has posted a message that has not been taken yet (does not wait).
    pub(crate) fn pending(&self) -> Result<bool> {
        let n = MSG_COUNT;
        let read = self.read32(CMDQ_OFFSET + RX_READ_PTR)? % n;
        let ready = self.read32(STATQ_OFFSET + TX_ENTRY_OFF)? == PAGE as u32
            && self.read32(STATQ_OFFSET + TX_MSG_COUNT)? == n;
        Ok(ready && self.read32(STATQ_OFFSET + TX_WRITE_PTR)? % n != read)
    }

    /// Waits up to [`RECEIVE_TIMEOUT`] for the next message from GSP-RM and takes it off the
    /// status queue.
    pub(crate) fn receive(&mut self) -> Result<Received> {
        let n = MSG_COUNT;
        // GSP-RM initialises its queue's header when it starts.
        let read = self.read32(CMDQ_OFFSET + RX_READ_PTR)? % n;
        read_poll_timeout(
            || {
                let ready = self.read32(STATQ_OFFSET + TX_ENTRY_OFF)? == PAGE as u32
                    && self.read32(STATQ_OFFSET + TX_MSG_COUNT)? == n;
                Ok(ready && self.read32(STATQ_OFFSET + TX_WRITE_PTR)? % n != read)
            },
            |has| *has,
            Delta::from_micros(100),
            RECEIVE_TIMEOUT,
        )
        .inspect_err(|_| {
            dev_err!(
                self.dev,
                "GSP: no message from GSP-RM within {} ms\n",
                RECEIVE_TIMEOUT.as_millis()
            )
        })?;
        dma_mb(Read);
        let entry = |i: usize| STATQ_OFFSET + PAGE + ((read as usize + i) % n as usize) * PAGE;
        let mut first = [0u8; PAGE];
        self.read_bytes(entry(0), &mut first)?;
        let bad = |e: rpc::RpcError| {
            dev_err!(
                self.dev,
                "GSP: bad message at status-queue entry {}: {}\n",
                read,
                e
            );
            EIO
        };
        let count = rpc::claimed_elem_count(&first).map_err(bad)?;
        let mut elem = KVec::from_elem(0u8, count * PAGE, GFP_KERNEL)?;
        for i in 0..count {
            let at = entry(i);
            self.read_bytes(at, elem.get_mut(i * PAGE..(i + 1) * PAGE).ok_or(EINVAL)?)?;
        }
        rpc::decode(&elem).map_err(bad)?;
        dma_mb(Read);
        self.write32(CMDQ_OFFSET + RX_READ_PTR, (read + count as u32) % n)?;
        self.stats.messages.fetch_add(1, Relaxed);
        let r = Received { elem };
        self.stats.last_message.store(r.message().function, Relaxed);
        Ok(r)
    }
}
