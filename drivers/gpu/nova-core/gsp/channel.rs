// SPDX-License-Identifier: GPL-2.0
//! The RPC channel to a running GSP-RM: the shared queue area, the LIBOS log buffers, and what
//! has gone through them.
//!
//! Every exchange with GSP-RM (the boot conversation, RPCs made later, the unload request)
//! holds [`GspChannel::exchange`]'s lock from the command to its reply, so replies cannot be
//! taken by another caller. Events read on the way (by an RPC waiting for its reply, or by the
//! interrupt thread's [`GspChannel::take_events`]) are kept here until the interrupt thread
//! hands them on ([`crate::irq`]). The counters and the live queue pointers are what debugfs
//! shows.

use kernel::{
    device,
    dma::Coherent,
    fmt,
    io::io_read,
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
};

use super::{
    cmdq::{Cmdq, Received, RX_READ_PTR, TX_WRITE_PTR},
    fifo::RcTriggered,
    queue::{CMDQ_OFFSET, MSG_COUNT, STATQ_OFFSET},
    rpc::{self, function},
};
use crate::driver::Bar0;

/// Counters of one channel, updated by [`Cmdq`].
pub(crate) struct QueueStats {
    /// Commands written to the command queue.
    pub(crate) commands: Atomic<u32>,
    /// Messages taken off the status queue (replies and events).
    pub(crate) messages: Atomic<u32>,
    /// Of those, events: messages nobody was waiting for.
    pub(crate) events: Atomic<u32>,
    /// Function of the last command.
    pub(crate) last_command: Atomic<u32>,
    /// Function of the last message.
    pub(crate) last_message: Atomic<u32>,
    /// Malformed messages, timeouts and failed replies.
    pub(crate) errors: Atomic<u32>,
    /// `MMU_FAULT_QUEUED` events not yet handled.
    pub(crate) fault_notices: Atomic<u32>,
}

impl QueueStats {
    fn new() -> Self {
        QueueStats {
            commands: Atomic::new(0),
            messages: Atomic::new(0),
            events: Atomic::new(0),
            last_command: Atomic::new(0),
            last_message: Atomic::new(0),
            errors: Atomic::new(0),
            fault_notices: Atomic::new(0),
        }
    }
}

/// Most `RC_TRIGGERED` reports kept until someone takes them.
const RC_BACKLOG: usize = 64;

/// What the queue lock protects.
struct QueueState {
    sent: u32,
    rc: KVec<RcTriggered>,
}

/// The CPU's connection to GSP-RM.
#[pin_data]
pub(crate) struct GspChannel {
    dev: ARef<device::Device>,
    /// The message-queue area shared with GSP-RM (accessed as 32-bit words).
    queues: Coherent<[u32]>,
    /// LIBOS log buffers: LOGINIT, LOGINTR, LOGRM (debugfs shares them).
    pub(crate) logs: [Arc<Coherent<[u8]>>; 3],
    /// Commands sent so far (the queue sequence numbers continue from it) and the channel
    /// errors GSP-RM reported that nobody took yet.
    #[pin]
    state: Mutex<QueueState>,
    /// What has gone through the queues.
    pub(crate) stats: QueueStats,
}

/// Names of the log buffers, in [`GspChannel::logs`] order (the LIBOS region ids, docs/facts/ga102.md §7.3).
pub(crate) const LOG_NAMES: [&CStr; 3] = [c"loginit", c"logintr", c"logrm"];

impl GspChannel {
    /// A channel over an initialised queue area.
    pub(crate) fn new(
        dev: &device::Device,
        queues: Coherent<[u32]>,
        logs: [Arc<Coherent<[u8]>>; 3],
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(GspChannel {
                dev: dev.into(),
                queues,
                logs,
                state <- new_mutex!(QueueState {
                    sent: 0,
                    rc: KVec::new(),
                }),
                stats: QueueStats::new(),
            }? Error),
            GFP_KERNEL,
        )
    }

    /// Runs `f` with the queues to itself: nothing else sends or receives meanwhile.
    pub(crate) fn exchange<R>(&self, f: impl FnOnce(&mut Cmdq<'_>) -> Result<R>) -> Result<R> {
        let mut state = self.state.lock();
        let mut q = Cmdq::new(&self.dev, &self.queues, state.sent, &self.stats);
        let r = f(&mut q);
        state.sent = q.sent();
        for rc in q.take_rc() {
            // At most a bounded backlog: a GPU that keeps stopping channels while nobody looks
            // loses the oldest reports, never memory.
            if state.rc.len() >= RC_BACKLOG {
                state.rc.remove(0).ok();
            }
            if state.rc.push(rc, GFP_KERNEL).is_err() {
                dev_err!(self.dev, "GSP: RC_TRIGGERED for chid {} dropped\n", rc.chid);
            }
        }
        if r.is_err() {
            self.stats.errors.fetch_add(1, Relaxed);
        }
        r
    }

    /// Takes every message GSP-RM has posted, without waiting: all are events here (no
    /// command is outstanding while the lock is held).
    /// Returns how many there were.
    pub(crate) fn take_events(&self) -> Result<u32> {
        self.exchange(|q| {
            let mut n = 0;
            while q.pending()? {
                let m = q.receive()?;
                q.note_event(&m.message());
                n += 1;
            }
            Ok(n)
        })
    }

    /// Whether an `MMU_FAULT_QUEUED` event arrived since the last call (for the interrupt
    /// thread).
    pub(crate) fn take_fault_notice(&self) -> bool {
        self.stats.fault_notices.xchg(0, Relaxed) != 0
    }

    /// Sends one RPC and waits for its reply; events that arrive meanwhile are counted, logged
    /// and kept for the interrupt thread (which their own interrupt wakes). A reply with a
    /// non-zero status is an error naming the function and the status.
    pub(crate) fn rpc(&self, bar: &Bar0<'_>, func: u32, payload: &[u8]) -> Result<Received> {
        self.exchange(|q| {
            q.send(bar, func, payload)?;
            loop {
                let m = q.receive()?;
                let msg = m.message();
                if msg.function != func {
                    q.note_event(&msg);
                    continue;
                }
                if msg.result != 0 {
                    dev_err!(
                        self.dev,
                        "GSP: RPC {} ({}) failed with status {:#x}\n",
                        func,
                        function::name(func),
                        msg.result
                    );
                    return Err(EIO);
                }
                return Ok(m);
            }
        })
    }

    /// Allocates RM object `object` of class `class` under `parent` (`GSP_RM_ALLOC`, facts
    /// §9.3); GSP-RM's status must be 0.
    pub(crate) fn rm_alloc(
        &self,
        bar: &Bar0<'_>,
        client: u32,
        parent: u32,
        object: u32,
        class: u32,
        params: &[u8],
    ) -> Result {
        let mut p = KVec::from_elem(0u8, rpc::RM_ALLOC_HDR + params.len(), GFP_KERNEL)?;
        rpc::rm_alloc(&mut p, client, parent, object, class, params).map_err(|_| EINVAL)?;
        let r = self.rpc(bar, function::GSP_RM_ALLOC, &p)?;
        self.check_status(
            function::GSP_RM_ALLOC,
            r.message().payload,
            "alloc of class",
            class,
        )
    }

    /// Runs control `cmd` on RM object `object` (`GSP_RM_CONTROL`, docs/facts/ga102.md §9.3): `params` goes
    /// out and is overwritten with what GSP-RM returns (same size).
    pub(crate) fn rm_control(
        &self,
        bar: &Bar0<'_>,
        client: u32,
        object: u32,
        cmd: u32,
        params: &mut [u8],
    ) -> Result {
        let mut p = KVec::from_elem(0u8, rpc::RM_CONTROL_HDR + params.len(), GFP_KERNEL)?;
        rpc::rm_control(&mut p, client, object, cmd, params).map_err(|_| EINVAL)?;
        let r = self.rpc(bar, function::GSP_RM_CONTROL, &p)?;
        let reply = r.message().payload;
        self.check_status(function::GSP_RM_CONTROL, reply, "control", cmd)?;
        match rpc::rm_control_params(reply) {
            Some(out) if out.len() == params.len() => {
                params.copy_from_slice(out);
                Ok(())
            }
            _ => {
                dev_err!(
                    self.dev,
                    "GSP: RM control {:#x}: reply of the wrong size\n",
                    cmd
                );
                Err(EIO)
            }
        }
    }

    /// The channel errors (`RC_TRIGGERED`) GSP-RM reported since the last call (for the
    /// interrupt thread).
    pub(crate) fn take_rc(&self) -> KVec<RcTriggered> {
        core::mem::take(&mut self.state.lock().rc)
    }

    /// Frees RM object `object` (`FREE`, docs/facts/ga102.md §9.3).
    pub(crate) fn rm_free(&self, bar: &Bar0<'_>, client: u32, parent: u32, object: u32) -> Result {
        let r = self.rpc(bar, function::FREE, &rpc::rm_free(client, parent, object))?;
        self.check_status(
            function::FREE,
            r.message().payload,
            "free of object",
            object,
        )
    }

    fn check_status(&self, func: u32, reply: &[u8], what: &str, id: u32) -> Result {
        match rpc::rm_status(func, reply) {
            Some(0) => Ok(()),
            Some(st) => {
                dev_err!(
                    self.dev,
                    "GSP: RM {} {:#x} failed: status {:#x}\n",
                    what,
                    id,
                    st
                );
                self.stats.errors.fetch_add(1, Relaxed);
                Err(EIO)
            }
            None => {
                dev_err!(self.dev, "GSP: RM {} {:#x}: reply too short\n", what, id);
                self.stats.errors.fetch_add(1, Relaxed);
                Err(EIO)
            }
        }
    }

    fn word(&self, off: usize) -> u32 {
        let r: Result<u32> = (|| Ok(io_read!(self.queues, [try: off / 4])))();
        r.unwrap_or(u32::MAX)
    }
}

/// debugfs `gsp_queues`: the live queue pointers and the counters.
pub(crate) struct QueueReport(pub(crate) Arc<GspChannel>);

impl kernel::debugfs::Writer for QueueReport {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.0;
        let s = &c.stats;
        // The command queue's read pointer is kept by GSP-RM in the status queue's rx header,
        // and the other way round (docs/facts/ga102.md §8.1).
        writeln!(
            f,
            "cmdq: cpu_write {} gsp_read {} entries {}",
            c.word(CMDQ_OFFSET + TX_WRITE_PTR),
            c.word(STATQ_OFFSET + RX_READ_PTR),
            MSG_COUNT
        )?;
        writeln!(
            f,
            "msgq: gsp_write {} cpu_read {} entries {}",
            c.word(STATQ_OFFSET + TX_WRITE_PTR),
            c.word(CMDQ_OFFSET + RX_READ_PTR),
            MSG_COUNT
        )?;
        let last_c = s.last_command.load(Relaxed);
        let last_m = s.last_message.load(Relaxed);
        writeln!(f, "commands: {}", s.commands.load(Relaxed))?;
        writeln!(f, "messages: {}", s.messages.load(Relaxed))?;
        writeln!(f, "events: {}", s.events.load(Relaxed))?;
        writeln!(f, "errors: {}", s.errors.load(Relaxed))?;
        writeln!(f, "last_command: {:#x} {}", last_c, function::name(last_c))?;
        writeln!(f, "last_message: {:#x} {}", last_m, function::name(last_m))
    }
}
