// SPDX-License-Identifier: GPL-2.0
//! GSP-RM r570.144 as the CPU sees it: the firmware that runs on the GSP's RISC-V core once
//! booter_load started it. No instruction runs; this is a behavioural model of its interface
//! (docs/facts/ga102.md §7.3, §7.4, §8, §9, §10), written from the fact sheet and the r570.144 layouts.
//!
//! ## Start
//! The [`GspRm`] starts at the first GSP register access after booter_load succeeded — in the
//! documented sequence the CPU's write of the falcon `OS` register or its poll of
//! `RISCV_CPUCTL.ACTIVE_STAT` (docs/facts/ga102.md §7.4 steps 12-13), i.e. GSP-RM has finished starting by
//! the time the CPU can look. It reads the LIBOS argument page at the address the driver left
//! in the GSP mailboxes ([`GspBoot::libos_args`]) and checks it ([`libos`]): LOGINIT, LOGINTR,
//! LOGRM and RMARGS present, contiguous, in sysmem; the log buffers' page lists; RMARGS large
//! enough for `GSP_ARGUMENTS_CACHED`, a cold boot (`bInPMTransition` 0), `gpuInstance` 0;
//! `MESSAGE_QUEUE_INIT_ARGUMENTS`: the PTE page and every PTE (4 KiB aligned, readable, PTE 0 =
//! the PTE page), the queue offsets; the command queue's `msgqTxHeader` as docs/facts/ga102.md §8.1 says the
//! CPU initialises it. It then initialises the status queue: its rx header (readPtr 0, GSP-RM's
//! position in the command queue) and then its tx header {version 0, size = area size −
//! statQueueOffset (0x40000), msgSize 0x1000, msgCount 63, writePtr 0, flags SWAP_RX, rxHdrOff
//! 0x20, entryOff 0x1000}, and processes any commands the CPU queued before it ran.
//!
//! A start-up failure halts GSP-RM: a trace line `rpc GSP-RM halted: start-up: <what>` and
//! nothing else — no message, no interrupt, no mailbox change (LIBOS log encoding is not in
//! the facts, so nothing is written to the log buffers).
//!
//! ## Queues
//! A write to `NV_PGSP_QUEUE_HEAD(0)` (the doorbell, docs/facts/ga102.md §7.4) makes GSP-RM consume the
//! command queue from its read pointer up to the CPU's `writePtr`. Per element it checks
//! elemCount (1-16 and no more than written: otherwise the queue cannot be resynchronised and
//! GSP-RM halts), the RPC length against elemCount, the checksum (docs/facts/ga102.md §8.3), seqNum (0, 1, 2,
//! ... per element, continuation records included; after a mismatch it resynchronises to the
//! element's number), header_version and signature. An element failing those is consumed and
//! answered with `NV_VGPU_MSG_RESULT_RPC_INVALID_MESSAGE_FORMAT` (as OG `rpc_headers.h`
//! describes for invalid messages). After each element it writes its new read pointer to the
//! status queue's rx header. Replies go to the status queue with seqNum 0, 1, 2, ..., elemCount,
//! the checksum, wrapping from entry 62 to 0, never overtaking the CPU's read pointer (in the
//! command queue's rx header) — a full queue holds the reply (and stops command processing)
//! until a later GSP register access finds room. Then `writePtr` is advanced. Every flush that
//! posted something sets the GSP falcon's `IRQSTAT.SWGEN0` (docs/facts/ga102.md §7.4), which reaches the host
//! as an interrupt (see the falcon module). Commands over 64 KiB arrive as a full element plus
//! `CONTINUATION_RECORD` elements (docs/facts/ga102.md §8.2); the expected size comes from the payload
//! (`GSP_RM_ALLOC`: 32 + paramsSize, `GSP_RM_CONTROL`: 24 + paramsSize, `SET_REGISTRY`: the
//! table size); replies over 64 KiB are split the same way.
//!
//! ## RPCs
//! Replies copy the command's function and sequence, set rpc_result (and
//! rpc_result_private) and carry the command's payload with the outputs filled in (OG
//! `rpc_headers.h`: length and function unchanged, result set), except
//! `GET_GSP_STATIC_INFO`, which always returns a full `GspStaticConfigInfo`.
//!
//! | Function | Checks | Reply |
//! |---|---|---|
//! | GSP_SET_SYSTEM_INFO (72) | [`system::check_system_info`] | none (an asynchronous RPC; NV_OK with `init_rpc_replies`); on failure the status and GSP-RM halts (no GSP_INIT_DONE) |
//! | SET_REGISTRY (73) | [`system::check_registry`] | none (NV_OK with `init_rpc_replies`); on failure the status and GSP-RM halts |
//! | (both done) | | event GSP_RUN_CPU_SEQUENCER (0x1002, [`seq`]); GSP-RM then waits for the CPU to run it |
//! | (sequencer done) | | once SEC2-RTOS resumed it and the CPU wrote the GSP's OS register: event GSP_INIT_DONE (0x1001), no payload |
//! | GET_GSP_STATIC_INFO (65) | | [`static_info::build`] |
//! | GSP_RM_ALLOC (103), GSP_RM_CONTROL (76), FREE (10) | [`objects`] | status in the payload and in rpc_result |
//! | UNLOADING_GUEST_DRIVER (47) | 8-byte payload, newLevel 0, 3 or 7 | NV_OK; then GSP MAILBOX0 bit 31 set and GSP-RM stops (docs/facts/ga102.md §7.4 unload step 2) |
//! | NOP (0) | | NV_OK |
//! | any other | | `NV_VGPU_MSG_RESULT_RPC_UNKNOWN_FUNCTION` |
//!
//! Before GSP_INIT_DONE only NOP, the two init RPCs and UNLOADING_GUEST_DRIVER are served;
//! others are answered `NV_ERR_INVALID_STATE`. While the sequencer is outstanding GSP-RM
//! consumes nothing: commands wait in the queue until it resumed.
//!
//! ## Cold boot: the CPU sequencer (docs/facts/ga102.md §7.4 step 15, §9.5)
//! After SET_SYSTEM_INFO and SET_REGISTRY GSP-RM clears `NV_PGC6_BSI_SECURE_SCRATCH_14`'s
//! handoff bit and posts `GSP_RUN_CPU_SEQUENCER` with [`seq::payload`]. A reset of the GSP's
//! RISC-V core now suspends GSP-RM (its state would be in WPR2) instead of ending it. The
//! falcon models do the rest: CORE_START on the GSP falcon (falcon core, after the reset) is
//! the HS step that loads SEC2-RTOS; starting SEC2 then resumes GSP-RM if the GSP was reset
//! again (into either core, docs/facts/ga102.md §7.5) with the LIBOS arguments in MAILBOX0/1, and sets the
//! handoff bit and SEC2
//! MAILBOX0 = 0. GSP-RM carries on when the CPU writes the GSP's OS register with the
//! bootloader's appVersion (the last step of CORE_RESUME): it posts GSP_INIT_DONE and serves
//! the commands that waited. A driver that ignores the sequencer never gets GSP_INIT_DONE.
//!
//! ## Fault knobs ([`Knobs`])
//! `silent`: commands are consumed, nothing is ever posted (no GSP_INIT_DONE, no replies, no
//! interrupt). `corrupt_reply`: every posted element's checkSum is inverted. `oversized_reply`:
//! every posted element claims elemCount = msgCount + 1 (more entries than the queue has; the
//! checksum is computed with that value, so only elemCount is wrong). `extra_events`: right
//! after GSP_INIT_DONE (same batch, one notification) an OS_ERROR_LOG (0x1006;
//! exceptType [`EXTRA_EVENT_XID`], runlistId 0, chid `INVALID_CHID`, errString
//! [`EXTRA_EVENT_TEXT`]) and a GSP_LOCKDOWN_NOTICE (0x101C; bLockdownEngaging 0), both with
//! sequence 0, so a driver waiting for its next reply must skip them. `init_rpc_replies`:
//! SET_SYSTEM_INFO and SET_REGISTRY are answered NV_OK (what this model did before; real
//! GSP-RM most likely does not answer them). `seq_fault`: a broken sequencer buffer or resume
//! ([`seq::SeqFault`]).
//!
//! ## Trace (block `rpc`)
//! `rpc <- GSP_SET_SYSTEM_INFO seq 0 len 0x3c0 [element 0, 1 entry]`, `rpc -> GSP_SET_SYSTEM_INFO
//! seq 0 result 0x0 len 0x3c0`, `rpc -> GSP_INIT_DONE seq 0 result 0x0 len 0x20`, one line per
//! check outcome, and the device's `rpc doorbell-to-reply 12.3 µs`.

pub mod bar;
pub mod bytes;
pub mod fault;
pub mod libos;
pub mod log;
pub mod objects;
pub mod queue;
pub mod rpc;
pub mod seq;
pub mod static_info;
pub mod system;

use super::booter::{GspBoot, GspPort, SeqPhase};
use crate::chip::ChipProfile;
use crate::dma::{GuestMemory, SharedGuestMemory};
use crate::pci::BarView;
use crate::trace::Tracer;
use bytes::{get_u32, put, put_u32};
use queue::{checksum, elem, entries_for, Area, Ring, TxHeader, ELEMENT_MAX, ELEM_HDR, PAGE};
use rpc::{event, func, result, status, Header, HEADER_SIZE, HEADER_VERSION, SIGNATURE};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// GSP MAILBOX0 bit 31: the LIBOS processor is suspended (docs/facts/ga102.md §7.4 unload step 2).
pub const MAILBOX0_SUSPENDED: u32 = 1 << 31;
/// The largest command the model reassembles from continuation records (a bound on guest
/// input; 1 MiB of payload).
pub const MAX_SPLIT_PAYLOAD: usize = 1 << 20;
/// Largest RPC payload in one element.
pub const MAX_PAYLOAD: usize = ELEMENT_MAX - ELEM_HDR - HEADER_SIZE;

/// An RPC that failed its checks: the NV_STATUS for rpc_result and the reason for the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// NV_STATUS.
    pub status: u32,
    /// What was wrong.
    pub why: String,
}

/// GSP-RM fault knobs (module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// Never post anything (`--gsp-silent`).
    pub silent: bool,
    /// Post every element with a wrong checksum (`--gsp-corrupt-reply`).
    pub corrupt_reply: bool,
    /// Post every element with elemCount beyond the queue (`--gsp-oversized-reply`).
    pub oversized_reply: bool,
    /// Right after GSP_INIT_DONE, post an OS_ERROR_LOG and a GSP_LOCKDOWN_NOTICE event
    /// (`--gsp-extra-events`).
    pub extra_events: bool,
    /// Answer SET_SYSTEM_INFO and SET_REGISTRY (`--init-rpc-replies`).
    pub init_rpc_replies: bool,
    /// Break the cold boot's CPU sequencer (`--seq-bad-opcode`, `--seq-truncated`,
    /// `--seq-poll-timeout`, `--seq-no-handoff`); the first cold boot after power-on only.
    pub seq_fault: seq::SeqFault,
}

/// The Xid the `extra_events` OS_ERROR_LOG carries (model choice: 0, no real Xid).
pub const EXTRA_EVENT_XID: u32 = 0;
/// The `extra_events` OS_ERROR_LOG text.
pub const EXTRA_EVENT_TEXT: &str = "vgpu: injected OS_ERROR_LOG (--gsp-extra-events)";

/// Counters and doorbell-to-reply times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RpcCounters {
    /// Doorbells rung while GSP-RM ran.
    pub doorbells: u64,
    /// Command elements consumed.
    pub elements: u64,
    /// RPCs executed (after reassembly of continuation records).
    pub rpcs: u64,
    /// Elements posted to the status queue.
    pub messages: u64,
    /// Command elements refused at the queue level (checksum, seqNum, length, header).
    pub bad_elements: u64,
    /// Doorbell-to-reply samples.
    pub timed: u64,
    /// The last sample.
    pub last: Duration,
    /// The smallest sample.
    pub min: Duration,
    /// The largest sample.
    pub max: Duration,
    /// Sum of all samples.
    pub total: Duration,
}

#[derive(Default)]
struct StatsInner {
    c: RpcCounters,
    doorbell: Option<Instant>,
    replied: bool,
}

/// Shared counters: GSP-RM counts, the device completes the doorbell-to-reply measurement
/// once it has raised the interrupt. Cloning shares them.
#[derive(Clone, Default)]
pub struct RpcStats(Arc<Mutex<StatsInner>>);

impl RpcStats {
    /// Zeroed counters.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, StatsInner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters.
    pub fn get(&self) -> RpcCounters {
        self.lock().c
    }

    fn count(&self, f: impl FnOnce(&mut RpcCounters)) {
        f(&mut self.lock().c)
    }

    fn doorbell(&self, at: Instant) {
        let mut s = self.lock();
        s.c.doorbells += 1;
        s.doorbell = Some(at);
        s.replied = false;
    }

    fn replied(&self) {
        let mut s = self.lock();
        if s.doorbell.is_some() {
            s.replied = true;
        }
    }

    /// Called by the device after an access, once any interrupt is raised: if a doorbell's
    /// reply has been posted since, records and returns the doorbell-to-reply time.
    pub fn complete(&self) -> Option<Duration> {
        let mut s = self.lock();
        if !s.replied {
            return None;
        }
        s.replied = false;
        let d = s.doorbell.take()?.elapsed();
        let c = &mut s.c;
        c.min = if c.timed == 0 { d } else { c.min.min(d) };
        c.max = c.max.max(d);
        c.timed += 1;
        c.last = d;
        c.total += d;
        Some(d)
    }
}

/// What GSP-RM reaches.
#[derive(Clone)]
pub struct Config {
    /// Guest memory.
    pub guest: SharedGuestMemory,
    /// The trace.
    pub tracer: Arc<Tracer>,
    /// The chip.
    pub chip: &'static ChipProfile,
    /// Where the guest placed the BARs.
    pub bars: BarView,
    /// The GSP's mailboxes (MAILBOX0 bit 31 at unload).
    pub port: GspPort,
    /// Fault knobs.
    pub knobs: Knobs,
    /// Counters.
    pub stats: RpcStats,
    /// The hub MMU: VRAM and BAR1's binding ([`bar`]).
    pub hub: crate::mmu::hub::Hub,
    /// The FIFO: where allocated channels run ([`objects`]) and where their errors come from.
    pub fifo: crate::fifo::Fifo,
    /// The bootloader's appVersion (`RM_RISCV_UCODE_DESC`, docs/facts/ga102.md §6.5): what the CPU writes to
    /// the GSP's OS register after the resume.
    pub app_version: u32,
}

/// GSP-RM's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Serving the queues.
    Running,
    /// Stopped on an error; answers nothing more.
    Halted(String),
    /// UNLOADING_GUEST_DRIVER done: MAILBOX0 bit 31 set, answers nothing more.
    Unloaded,
}

struct Queues {
    area: Area,
    cmdq: Ring,
    msgq: Ring,
}

struct Split {
    hdr: Header,
    payload: Vec<u8>,
    want: usize,
}

struct Element {
    entry: u32,
    count: u32,
    buf: Vec<u8>,
}

enum Next {
    Empty,
    Halt(String),
    Element(Element),
}

/// The running firmware.
pub struct GspRm {
    cfg: Config,
    boot: GspBoot,
    state: State,
    q: Option<Arc<Queues>>,
    rx_seq: u32,
    tx_seq: u32,
    cmd_read: u32,
    msg_write: u32,
    outbox: VecDeque<Vec<u8>>,
    split: Option<Split>,
    system_info: bool,
    registry: bool,
    init_done: bool,
    /// The sequencer was posted and GSP-RM waits for the resume.
    seq_wait: bool,
    unload: bool,
    halt_after: Option<String>,
    objects: objects::Objects,
    notify: bool,
    stall_noted: bool,
    /// LOGINIT, LOGINTR, LOGRM once start-up read them.
    logs: Option<[log::LogBuffer; 3]>,
    /// LOGRM records of posted messages, written at the next queue flush (the guest memory
    /// is locked while a command is handled): message index, arguments, timestamp.
    log_pending: Vec<(usize, Vec<u64>, u64)>,
    /// Time base of the log timestamps.
    started: Instant,
}

impl GspRm {
    /// GSP-RM after booter_load `boot`: reads its arguments, sets up the status queue and
    /// serves any commands already queued.
    pub fn start(cfg: Config, boot: GspBoot) -> Self {
        let fifo = cfg.fifo.clone();
        // Channels of a previous GSP-RM (before a GSP reset) do not survive it.
        fifo.shutdown();
        let mut rm = GspRm {
            cfg,
            boot,
            state: State::Running,
            q: None,
            rx_seq: 0,
            tx_seq: 0,
            cmd_read: 0,
            msg_write: 0,
            outbox: VecDeque::new(),
            split: None,
            system_info: false,
            registry: false,
            init_done: false,
            seq_wait: false,
            unload: false,
            halt_after: None,
            objects: objects::Objects::with_fifo(
                objects::Internal {
                    client: static_info::INTERNAL_CLIENT,
                    device: static_info::INTERNAL_DEVICE,
                    subdevice: static_info::INTERNAL_SUBDEVICE,
                },
                fifo,
            ),
            notify: false,
            stall_noted: false,
            logs: None,
            log_pending: vec![],
            started: Instant::now(),
        };
        rm.init();
        rm.run();
        rm
    }

    /// The state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The object tree.
    pub fn objects(&self) -> &objects::Objects {
        &self.objects
    }

    /// The CPU rang the doorbell.
    pub fn doorbell(&mut self) {
        match &self.state {
            State::Running => {}
            State::Halted(why) => {
                self.note(format_args!("doorbell ignored: GSP-RM halted ({why})"));
                return;
            }
            State::Unloaded => {
                self.note(format_args!("doorbell ignored: GSP-RM unloaded"));
                return;
            }
        }
        self.cfg.stats.doorbell(Instant::now());
        if self.seq_wait {
            self.note(format_args!(
                "doorbell while GSP-RM waits for the CPU sequencer: commands wait in the queue"
            ));
            return;
        }
        self.run();
    }

    /// Whether GSP-RM waits for the CPU to run the sequencer it posted.
    pub fn awaiting_sequencer(&self) -> bool {
        self.seq_wait
    }

    /// The CPU wrote the GSP falcon's OS register: after SEC2-RTOS resumed GSP-RM, the last
    /// step of CORE_RESUME (docs/facts/ga102.md §9.5; OG 570.144 `kernel_gsp_ga102.c`, "Program FALCON_OS").
    pub fn os_written(&mut self, v: u32) {
        if !self.seq_wait || self.state != State::Running {
            return;
        }
        if self.cfg.port.seq() != SeqPhase::Resumed {
            self.note(format_args!(
                "GSP OS register = {v:#x} before SEC2-RTOS resumed GSP-RM: ignored"
            ));
            return;
        }
        if v != self.cfg.app_version {
            self.note(format_args!(
                "GSP OS register = {v:#x}, expected the bootloader's appVersion {:#x}: GSP-RM keeps waiting",
                self.cfg.app_version
            ));
            return;
        }
        self.seq_wait = false;
        self.cfg.port.set_seq(SeqPhase::Idle);
        self.note(format_args!(
            "CPU sequencer done: GSP-RM resumed (OS register = appVersion {v:#x})"
        ));
        self.finish_init();
        self.run();
    }

    /// Another GSP register access (or the device serving an MMU fault notification):
    /// takes the MMU's fault notifications, then retries a reply the full status queue held
    /// back.
    pub fn poll(&mut self) {
        if self.state != State::Running {
            return;
        }
        if self.init_done {
            self.mmu_faults();
            self.rc_events();
        }
        if !self.outbox.is_empty() {
            self.run();
        }
    }

    /// The MMU wrote entries into the non-replayable fault buffer (GSP-RM's, [`fault`]):
    /// GSP-RM tells the CPU with one `MMU_FAULT_QUEUED` event (0x1005, sequence 0, no
    /// payload: docs/facts/ga102.md §9.2, §12.5, §13 item 11; OG 570.144 `kernel_gsp.c` L1005-1022, the CPU
    /// side reads no parameters) per batch of notifications. Held until GSP_INIT_DONE, then
    /// posted right after it.
    fn mmu_faults(&mut self) {
        let n = self.cfg.hub.lock().take_fault_notify();
        if n == 0 {
            return;
        }
        self.note(format_args!(
            "MMU: {n} non-replayable fault{} in the fault buffer: MMU_FAULT_QUEUED",
            if n == 1 { "" } else { "s" }
        ));
        self.post(event::MMU_FAULT_QUEUED, 0, status::NV_OK, &[]);
    }

    /// Channel errors the PBDMAs reported ([`crate::fifo`]): one `RC_TRIGGERED` event
    /// (0x1004, sequence 0, payload [`rpc::rc_triggered`]) each, after any `MMU_FAULT_QUEUED`
    /// of the same fault.
    fn rc_events(&mut self) {
        for e in self.cfg.fifo.take_rc() {
            self.note(format_args!(
                "RC: engine {} runlist {} chid {}: exceptType {}: {}: RC_TRIGGERED",
                e.engine, e.runlist, e.chid, e.except_type, e.why
            ));
            self.post(
                event::RC_TRIGGERED,
                0,
                status::NV_OK,
                &rpc::rc_triggered(&e),
            );
        }
    }

    /// Whether messages were posted since the last call (SWGEN0 to raise).
    pub fn take_notify(&mut self) -> bool {
        std::mem::take(&mut self.notify)
    }

    fn note(&self, msg: std::fmt::Arguments<'_>) {
        self.cfg.tracer.line("rpc", msg);
    }

    fn halt(&mut self, why: String) {
        self.note(format_args!("GSP-RM halted: {why}"));
        self.state = State::Halted(why);
    }

    fn init(&mut self) {
        let guest = self.cfg.guest.clone();
        let g = guest.lock().unwrap_or_else(|e| e.into_inner());
        let a = match libos::read(&g, self.boot.libos_args) {
            Ok(a) => a,
            Err(why) => {
                drop(g);
                self.halt(format!("start-up: {why}"));
                return;
            }
        };
        let tx = TxHeader::standard(a.msgq_size);
        let w = a
            .area
            .write_u32(&g, a.msgq.rx_read_ptr_off(), 0)
            .and_then(|_| a.area.write(&g, a.msgq.base, &tx.encode()));
        drop(g);
        if let Err(e) = w {
            self.halt(format!("start-up: status queue header: {e}"));
            return;
        }
        self.note(format_args!(
            "GSP-RM running: LIBOS args at {:#x}, RMARGS at {:#x}; shared area at {:#x} ({} pages); command queue {} entries at +{:#x} (writePtr {}); status queue {} entries at +{:#x} initialised",
            self.boot.libos_args,
            a.rmargs.pa,
            a.shared,
            a.area.size() / PAGE as u64,
            a.cmdq.count,
            a.cmdq.base,
            a.cmdq_write_ptr,
            a.msgq.count,
            a.msgq.base
        ));
        self.start_logs(&a);
        self.q = Some(Arc::new(Queues {
            area: a.area,
            cmdq: a.cmdq,
            msgq: a.msgq,
        }));
        match bar::setup_bar1(&self.cfg.hub, &self.boot.meta) {
            Ok(m) => self.note(format_args!("{m}")),
            Err(e) => self.note(format_args!("BAR1 not set up: {e}")),
        }
        match fault::setup_fault_buffer(&self.cfg.hub, &self.boot.meta) {
            Ok(m) => self.note(format_args!("{m}")),
            Err(e) => self.note(format_args!("fault buffer not set up: {e}")),
        }
    }

    /// Log timestamp: ns since GSP-RM started (never 0).
    fn now_ns(&self) -> u64 {
        (self.started.elapsed().as_nanos() as u64).max(1)
    }

    /// Start-up records: LOGINIT gets the LIBOS arguments and regions and RM's arguments, LOGRM
    /// the status-queue set-up (README "LIBOS log buffers").
    fn start_logs(&mut self, a: &libos::BootArgs) {
        let mut logs = a.logs.map(|r| log::LogBuffer::new(r.pa, r.size));
        let guest = self.cfg.guest.clone();
        let g = guest.lock().unwrap_or_else(|e| e.into_inner());
        let regions = [a.logs[0], a.logs[1], a.logs[2], a.rmargs];
        let mut recs: Vec<(usize, usize, Vec<u64>)> = vec![(
            0,
            log::MSG_INIT_ARGS,
            vec![self.boot.libos_args, regions.len() as u64],
        )];
        recs.extend(
            regions
                .iter()
                .map(|r| (0, log::MSG_REGION, vec![r.id8, r.pa, r.size])),
        );
        recs.push((
            0,
            log::MSG_RM_ARGS,
            vec![
                a.rmargs.pa,
                a.shared,
                a.area.size() / PAGE as u64,
                a.cmdq.base,
                a.msgq.base,
            ],
        ));
        recs.push((
            2,
            log::MSG_STATUS_QUEUE,
            vec![u64::from(a.msgq.count), PAGE as u64],
        ));
        for (buf, msg, args) in recs {
            let ts = self.now_ns();
            if let Err(e) = logs[buf].record(&g, msg, &args, ts) {
                self.note(format_args!("log buffer {buf}: {e}"));
            }
        }
        drop(g);
        self.logs = Some(logs);
    }

    /// Writes the LOGRM records of messages posted since the last call.
    fn write_logs(&mut self, g: &GuestMemory) {
        let pending = std::mem::take(&mut self.log_pending);
        let Some(logs) = &mut self.logs else {
            return;
        };
        for (msg, args, ts) in pending {
            if let Err(e) = logs[2].record(g, msg, &args, ts) {
                self.cfg.tracer.line("rpc", format_args!("LOGRM: {e}"));
            }
        }
    }

    /// The log buffers' put pointers (LOGINIT, LOGINTR, LOGRM), for tests.
    pub fn log_puts(&self) -> Option<[u64; 3]> {
        self.logs
            .as_ref()
            .map(|l| [l[0].put(), l[1].put(), l[2].put()])
    }

    fn run(&mut self) {
        let guest = self.cfg.guest.clone();
        loop {
            // Guest memory is locked per element, not across one: executing a command may
            // write guest memory itself (a channel's instance block and USERD in system
            // memory, through the FIFO's own memory path).
            let g = guest.lock().unwrap_or_else(|e| e.into_inner());
            if self.state != State::Running || !self.flush(&g) || self.seq_wait {
                break;
            }
            if let Some(why) = self.halt_after.take() {
                self.halt(why);
                break;
            }
            if self.unload {
                let m = self.cfg.port.mailbox(0);
                self.cfg.port.set_mailbox(0, m | MAILBOX0_SUSPENDED);
                self.state = State::Unloaded;
                self.note(format_args!(
                    "GSP-RM unloaded: LIBOS processor suspended, GSP MAILBOX0 = {:#x}",
                    m | MAILBOX0_SUSPENDED
                ));
                break;
            }
            let next = self.next(&g);
            drop(g);
            match next {
                Next::Empty => break,
                Next::Halt(why) => {
                    self.halt(why);
                    break;
                }
                Next::Element(e) => self.handle(e),
            }
        }
    }

    /// Reads the next command element, if the CPU wrote one.
    fn next(&mut self, g: &GuestMemory) -> Next {
        let Some(q) = self.q.clone() else {
            return Next::Empty;
        };
        let wp = match q.area.read_u32(g, q.cmdq.write_ptr_off()) {
            Ok(v) => v,
            Err(e) => return Next::Halt(format!("command queue header: {e}")),
        };
        if wp >= q.cmdq.count {
            return Next::Halt(format!(
                "command queue writePtr {wp} is beyond msgCount {}",
                q.cmdq.count
            ));
        }
        if wp == self.cmd_read {
            return Next::Empty;
        }
        let avail = q.cmdq.used(self.cmd_read, wp);
        let mut first = vec![0u8; PAGE];
        if let Err(e) = q
            .cmdq
            .read_entries(&q.area, g, self.cmd_read, 1, &mut first)
        {
            return Next::Halt(format!("command entry {}: {e}", self.cmd_read));
        }
        let count = get_u32(&first, elem::COUNT).unwrap_or(0);
        if count == 0 || count > queue::MAX_ELEM_ENTRIES || count > avail {
            return Next::Halt(format!(
                "command element at entry {} claims elemCount {count} ({avail} entries written, at most {}): the queue cannot be resynchronised",
                self.cmd_read,
                queue::MAX_ELEM_ENTRIES
            ));
        }
        let mut buf = vec![0u8; count as usize * PAGE];
        if let Err(e) = q
            .cmdq
            .read_entries(&q.area, g, self.cmd_read, count, &mut buf)
        {
            return Next::Halt(format!("command entry {}: {e}", self.cmd_read));
        }
        let entry = self.cmd_read;
        self.cmd_read = (self.cmd_read + count) % q.cmdq.count;
        if let Err(e) = q.area.write_u32(g, q.msgq.rx_read_ptr_off(), self.cmd_read) {
            return Next::Halt(format!("status queue rx header: {e}"));
        }
        self.cfg.stats.count(|c| c.elements += 1);
        Next::Element(Element { entry, count, buf })
    }

    /// Queue-level checks of one command element, then reassembly and execution.
    fn handle(&mut self, e: Element) {
        let b = &e.buf;
        let seq = get_u32(b, elem::SEQ).unwrap_or(0);
        let hdr = Header::parse(b.get(elem::RPC..).unwrap_or(&[])).unwrap_or_default();
        let expected = self.rx_seq;
        self.rx_seq = seq.wrapping_add(1);
        let len = hdr.length as usize;
        let total = ELEM_HDR.saturating_add(len);
        let fits = len >= HEADER_SIZE && total <= b.len() && entries_for(len) == e.count;
        let payload = if fits {
            b[elem::RPC + HEADER_SIZE..total].to_vec()
        } else {
            vec![]
        };
        self.note(format_args!(
            "<- {} seq {} len {len:#x} [element {seq}, {} entr{} at {}]",
            rpc::name(hdr.function),
            hdr.sequence,
            e.count,
            if e.count == 1 { "y" } else { "ies" },
            e.entry
        ));
        let problem = if !fits {
            Some(format!(
                "rpc length {len:#x} does not match elemCount {} (0x30 + length must need exactly that many 4 KiB entries)",
                e.count
            ))
        } else if checksum(&b[..total]) != 0 {
            Some(format!(
                "bad checksum: the element XORs to {:#010x}, not 0 (checkSum field {:#010x})",
                checksum(&b[..total]),
                get_u32(b, elem::CHECKSUM).unwrap_or(0)
            ))
        } else if seq != expected {
            Some(format!("seqNum {seq}, expected {expected}"))
        } else if hdr.version != HEADER_VERSION {
            Some(format!(
                "header_version {:#x}, expected {HEADER_VERSION:#x}",
                hdr.version
            ))
        } else if hdr.signature != SIGNATURE {
            Some(format!(
                "signature {:#x}, expected {SIGNATURE:#x} (\"VRPC\")",
                hdr.signature
            ))
        } else {
            None
        };
        if let Some(why) = problem {
            self.cfg.stats.count(|c| c.bad_elements += 1);
            self.note(format_args!(
                "command element {seq} at entry {} refused: {why}",
                e.entry
            ));
            self.abandon_split();
            self.post(
                hdr.function,
                hdr.sequence,
                result::RPC_INVALID_MESSAGE_FORMAT,
                &payload,
            );
            return;
        }

        if hdr.function == func::CONTINUATION_RECORD {
            let Some(mut s) = self.split.take() else {
                self.note(format_args!(
                    "CONTINUATION_RECORD without a command to continue"
                ));
                self.post(
                    hdr.function,
                    hdr.sequence,
                    result::RPC_INVALID_MESSAGE_FORMAT,
                    &payload,
                );
                return;
            };
            s.payload.extend_from_slice(&payload);
            if s.payload.len() < s.want {
                self.split = Some(s);
            } else if s.payload.len() > s.want {
                self.note(format_args!(
                    "{}: continuation records carry {:#x} bytes, the command declares {:#x}",
                    rpc::name(s.hdr.function),
                    s.payload.len(),
                    s.want
                ));
                self.post(
                    s.hdr.function,
                    s.hdr.sequence,
                    result::RPC_INVALID_MESSAGE_FORMAT,
                    &s.payload[..MAX_PAYLOAD.min(s.payload.len())],
                );
            } else {
                self.note(format_args!(
                    "{} reassembled: {:#x} payload bytes",
                    rpc::name(s.hdr.function),
                    s.payload.len()
                ));
                self.execute(s.hdr, s.payload);
            }
            return;
        }
        self.abandon_split();
        if total == ELEMENT_MAX {
            if let Some(want) = declared_len(hdr.function, &payload) {
                if want > payload.len() {
                    if want > MAX_SPLIT_PAYLOAD {
                        self.note(format_args!(
                            "{} declares {want:#x} payload bytes, more than the model reassembles",
                            rpc::name(hdr.function)
                        ));
                        self.post(
                            hdr.function,
                            hdr.sequence,
                            result::RPC_INVALID_MESSAGE_FORMAT,
                            &payload,
                        );
                    } else {
                        self.note(format_args!(
                            "{}: {:#x} of {want:#x} payload bytes, continuation records follow",
                            rpc::name(hdr.function),
                            payload.len()
                        ));
                        self.split = Some(Split { hdr, payload, want });
                    }
                    return;
                }
            }
        }
        self.execute(hdr, payload);
    }

    /// A new command arrived while a split one still waited for continuation records.
    fn abandon_split(&mut self) {
        if let Some(s) = self.split.take() {
            self.note(format_args!(
                "{} abandoned: {:#x} of {:#x} bytes arrived before another command",
                rpc::name(s.hdr.function),
                s.payload.len(),
                s.want
            ));
            let n = MAX_PAYLOAD.min(s.payload.len());
            self.post(
                s.hdr.function,
                s.hdr.sequence,
                result::RPC_INVALID_MESSAGE_FORMAT,
                &s.payload[..n],
            );
        }
    }

    fn execute(&mut self, hdr: Header, mut p: Vec<u8>) {
        self.cfg.stats.count(|c| c.rpcs += 1);
        let f = hdr.function;
        let early = [
            func::NOP,
            func::GSP_SET_SYSTEM_INFO,
            func::SET_REGISTRY,
            func::UNLOADING_GUEST_DRIVER,
        ];
        if !self.init_done && !early.contains(&f) {
            self.note(format_args!(
                "{} before GSP_INIT_DONE: NV_ERR_INVALID_STATE",
                rpc::name(f)
            ));
            self.post(f, hdr.sequence, status::NV_ERR_INVALID_STATE, &p);
            return;
        }
        let res = match f {
            func::NOP => status::NV_OK,
            func::GSP_SET_SYSTEM_INFO => {
                match system::check_system_info(&p, self.cfg.chip, self.cfg.bars.get()) {
                    Ok(i) => {
                        self.note(format_args!(
                            "GspSystemInfo ok: BAR0 {:#x}, BAR1 {:#x}, BAR3 {:#x}, nvDomainBusDeviceFunc {:#x}, maxUserVa {:#x}",
                            i.bars[0], i.bars[1], i.bars[2], i.bdf, i.max_user_va
                        ));
                        self.system_info = true;
                        status::NV_OK
                    }
                    Err(r) => self.init_refused("GSP_SET_SYSTEM_INFO", r),
                }
            }
            func::SET_REGISTRY => match system::check_registry(&p) {
                Ok(keys) => {
                    let list: Vec<String> = keys
                        .iter()
                        .map(|k| match k.kind {
                            system::REG_DWORD => format!("{}={}", k.name, k.data),
                            _ => format!("{} ({} bytes)", k.name, k.length),
                        })
                        .collect();
                    self.note(format_args!("registry: {}", list.join(", ")));
                    self.registry = true;
                    status::NV_OK
                }
                Err(r) => self.init_refused("SET_REGISTRY", r),
            },
            func::GET_GSP_STATIC_INFO => {
                p = static_info::build(self.cfg.chip, &self.boot.meta);
                let (bar1, bar2) = static_info::pde_bases(&self.boot.meta);
                self.note(format_args!(
                    "GspStaticConfigInfo: {:#x} bytes, fb_length {:#x}, usable [0, {:#x}), bar1PdeBase {bar1:#x}, bar2PdeBase {bar2:#x}",
                    p.len(),
                    self.boot.meta.fb_size,
                    self.boot.meta.rsvd_start
                ));
                status::NV_OK
            }
            func::GSP_RM_ALLOC => self.rm_alloc(&mut p),
            func::GSP_RM_CONTROL => self.rm_control(&mut p),
            func::FREE => self.rm_free(&mut p),
            func::UNLOADING_GUEST_DRIVER => self.unloading(&p),
            _ => {
                self.note(format_args!(
                    "{}: not a function this GSP-RM model serves",
                    rpc::name(f)
                ));
                result::RPC_UNKNOWN_FUNCTION
            }
        };
        let init_rpc = f == func::GSP_SET_SYSTEM_INFO || f == func::SET_REGISTRY;
        if !init_rpc || res != status::NV_OK || self.cfg.knobs.init_rpc_replies {
            self.post(f, hdr.sequence, res, &p);
        } else {
            self.note(format_args!(
                "{}: asynchronous, no reply (OG 570.144 kgspQueueAsyncInitRpcs)",
                rpc::name(f)
            ));
        }
        if self.system_info
            && self.registry
            && !self.init_done
            && !self.seq_wait
            && self.halt_after.is_none()
        {
            self.post_sequencer();
        }
    }

    /// Cold boot: the CPU sequencer (module documentation, [`seq`]).
    fn post_sequencer(&mut self) {
        self.seq_wait = true;
        self.cfg.port.set_handoff(false);
        self.cfg.port.set_seq(SeqPhase::Posted);
        // The knob breaks the first cold boot after power-on only, so the next probe recovers.
        let fault = if self.cfg.port.generation() <= 1 {
            self.cfg.knobs.seq_fault
        } else {
            seq::SeqFault::None
        };
        let (c, index) = seq::commands(fault);
        self.note(format_args!(
            "cold boot: CPU sequencer of {index} dwords ({} in the buffer{}); GSP-RM waits for CORE_RESUME",
            c.len(),
            match fault {
                seq::SeqFault::None => String::new(),
                f => format!(", fault {f:?}"),
            }
        ));
        self.post(
            event::GSP_RUN_CPU_SEQUENCER,
            0,
            status::NV_OK,
            &seq::payload(fault),
        );
    }

    /// GSP_INIT_DONE and what follows it.
    fn finish_init(&mut self) {
        self.init_done = true;
        self.post(event::GSP_INIT_DONE, 0, status::NV_OK, &[]);
        if self.cfg.knobs.extra_events {
            // Events a driver must skip or handle (docs/facts/ga102.md §9.2, §9.3 payloads).
            let log = rpc::os_error_log(EXTRA_EVENT_XID, 0, rpc::INVALID_CHID, EXTRA_EVENT_TEXT);
            self.post(event::OS_ERROR_LOG, 0, status::NV_OK, &log);
            self.post(
                event::GSP_LOCKDOWN_NOTICE,
                0,
                status::NV_OK,
                &rpc::lockdown_notice(false),
            );
        }
        // Faults the MMU reported before GSP_INIT_DONE are announced right after it.
        self.mmu_faults();
    }

    fn init_refused(&mut self, what: &str, r: Refusal) -> u32 {
        self.note(format_args!("{what} refused ({:#x}): {}", r.status, r.why));
        if !self.init_done {
            self.halt_after = Some(format!("{what} refused: {}", r.why));
        }
        r.status
    }

    fn refused(&self, what: &str, r: &Refusal) {
        self.note(format_args!("{what} failed ({:#x}): {}", r.status, r.why));
    }

    fn rm_alloc(&mut self, p: &mut [u8]) -> u32 {
        let size = get_u32(p, 20).unwrap_or(0) as usize;
        if p.len() < objects::ALLOC_HDR || p.len() - objects::ALLOC_HDR < size {
            self.note(format_args!(
                "GSP_RM_ALLOC: {:#x} payload bytes cannot hold the 32-byte header and paramsSize {size:#x}",
                p.len()
            ));
            return result::RPC_INVALID_MESSAGE_FORMAT;
        }
        let st = match self.objects.alloc(p) {
            Ok(what) => {
                self.note(format_args!("GSP_RM_ALLOC: {what}"));
                status::NV_OK
            }
            Err(r) => {
                self.refused("GSP_RM_ALLOC", &r);
                r.status
            }
        };
        put_u32(p, 16, st);
        st
    }

    fn rm_control(&mut self, p: &mut [u8]) -> u32 {
        let size = get_u32(p, 16).unwrap_or(0) as usize;
        if p.len() < objects::CONTROL_HDR || p.len() - objects::CONTROL_HDR < size {
            self.note(format_args!(
                "GSP_RM_CONTROL: {:#x} payload bytes cannot hold the 24-byte header and paramsSize {size:#x}",
                p.len()
            ));
            return result::RPC_INVALID_MESSAGE_FORMAT;
        }
        let (c, o, cmd) = (
            get_u32(p, 0).unwrap_or(0),
            get_u32(p, 4).unwrap_or(0),
            get_u32(p, 8).unwrap_or(0),
        );
        let params = &mut p[objects::CONTROL_HDR..objects::CONTROL_HDR + size];
        let st = match self.objects.control(c, o, cmd, params) {
            Ok(what) => {
                self.note(format_args!("GSP_RM_CONTROL {cmd:#010x}: {what}"));
                status::NV_OK
            }
            Err(r) => {
                self.refused(&format!("GSP_RM_CONTROL {cmd:#010x}"), &r);
                r.status
            }
        };
        put_u32(p, 12, st);
        st
    }

    fn rm_free(&mut self, p: &mut [u8]) -> u32 {
        if p.len() < objects::FREE_SIZE {
            self.note(format_args!(
                "FREE: {:#x} payload bytes, 16 expected",
                p.len()
            ));
            return result::RPC_INVALID_MESSAGE_FORMAT;
        }
        let st = match self.objects.free(p) {
            Ok(what) => {
                self.note(format_args!("FREE: {what}"));
                status::NV_OK
            }
            Err(r) => {
                self.refused("FREE", &r);
                r.status
            }
        };
        put_u32(p, 12, st);
        st
    }

    fn unloading(&mut self, p: &[u8]) -> u32 {
        let (Some(&in_pm), Some(&gc6), Some(level)) = (p.first(), p.get(1), get_u32(p, 4)) else {
            self.note(format_args!(
                "UNLOADING_GUEST_DRIVER: {:#x} payload bytes, 8 expected",
                p.len()
            ));
            return status::NV_ERR_INVALID_PARAM_STRUCT;
        };
        if ![0, 3, 7].contains(&level) {
            self.note(format_args!(
                "UNLOADING_GUEST_DRIVER: newLevel {level}, expected 0 (unload), 3 (S3) or 7 (hibernate)"
            ));
            return status::NV_ERR_INVALID_ARGUMENT;
        }
        self.note(format_args!(
            "UNLOADING_GUEST_DRIVER: newLevel {level}, bInPMTransition {in_pm}, bGc6Entering {gc6}"
        ));
        self.unload = true;
        status::NV_OK
    }

    /// Queues a message (split into continuation records past 64 KiB).
    fn post(&mut self, function: u32, sequence: u32, res: u32, payload: &[u8]) {
        let ts = self.now_ns();
        self.log_pending.push((
            log::MSG_RPC,
            vec![u64::from(function), u64::from(sequence), u64::from(res)],
            ts,
        ));
        let name = rpc::name(function);
        if self.cfg.knobs.silent {
            self.note(format_args!(
                "-> {name} seq {sequence} not sent (--gsp-silent)"
            ));
            return;
        }
        self.note(format_args!(
            "-> {name} seq {sequence} result {res:#x} len {:#x}",
            HEADER_SIZE + payload.len()
        ));
        let mut chunks: Vec<&[u8]> = payload.chunks(MAX_PAYLOAD).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            let f = if i == 0 {
                function
            } else {
                func::CONTINUATION_RECORD
            };
            let n = entries_for(HEADER_SIZE + chunk.len());
            let mut e = vec![0u8; n as usize * PAGE];
            put_u32(&mut e, elem::COUNT, n);
            put(
                &mut e,
                elem::RPC,
                &Header::reply(f, sequence, res, chunk.len()).encode(),
            );
            put(&mut e, elem::RPC + HEADER_SIZE, chunk);
            self.outbox.push_back(e);
        }
    }

    /// Writes queued messages while the status queue has room. Returns whether the outbox is
    /// empty.
    fn flush(&mut self, g: &GuestMemory) -> bool {
        self.write_logs(g);
        let Some(q) = self.q.clone() else {
            self.outbox.clear();
            return true;
        };
        while let Some(mut e) = self.outbox.pop_front() {
            let n = get_u32(&e, elem::COUNT).unwrap_or(1);
            let cpu_read = match q.area.read_u32(g, q.cmdq.rx_read_ptr_off()) {
                Ok(v) => v,
                Err(why) => {
                    self.halt(format!("command queue rx header: {why}"));
                    return false;
                }
            };
            let room = if cpu_read < q.msgq.count {
                q.msgq.free(cpu_read, self.msg_write)
            } else {
                0
            };
            if room < n {
                if !self.stall_noted {
                    self.stall_noted = true;
                    self.note(format_args!(
                        "status queue: {n} entr{} to post, {room} free (CPU readPtr {cpu_read}, GSP writePtr {}); waiting",
                        if n == 1 { "y" } else { "ies" },
                        self.msg_write
                    ));
                }
                self.outbox.push_front(e);
                return false;
            }
            self.stall_noted = false;
            put_u32(&mut e, elem::SEQ, self.tx_seq);
            if self.cfg.knobs.oversized_reply {
                put_u32(&mut e, elem::COUNT, q.msgq.count + 1);
            }
            put_u32(&mut e, elem::CHECKSUM, 0);
            let len = get_u32(&e, elem::RPC + 8).unwrap_or(0) as usize;
            let sum = checksum(&e[..(ELEM_HDR + len).min(e.len())]);
            put_u32(
                &mut e,
                elem::CHECKSUM,
                if self.cfg.knobs.corrupt_reply {
                    !sum
                } else {
                    sum
                },
            );
            let w = q
                .msgq
                .write_entries(&q.area, g, self.msg_write, &e)
                .and_then(|_| {
                    let next = (self.msg_write + n) % q.msgq.count;
                    q.area
                        .write_u32(g, q.msgq.write_ptr_off(), next)
                        .map(|_| next)
                });
            match w {
                Ok(next) => self.msg_write = next,
                Err(why) => {
                    self.halt(format!("status queue: {why}"));
                    return false;
                }
            }
            self.tx_seq = self.tx_seq.wrapping_add(1);
            self.notify = true;
            self.cfg.stats.count(|c| c.messages += 1);
            self.cfg.stats.replied();
        }
        true
    }
}

/// The payload size a command declares, for commands that can exceed one element.
fn declared_len(function: u32, p: &[u8]) -> Option<usize> {
    match function {
        func::GSP_RM_ALLOC => get_u32(p, 20).map(|s| objects::ALLOC_HDR + s as usize),
        func::GSP_RM_CONTROL => get_u32(p, 16).map(|s| objects::CONTROL_HDR + s as usize),
        func::SET_REGISTRY => system::registry_declared_size(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::falcon::booter::WprMeta;
    use crate::chip::GA102;
    use crate::dma::memfd;

    const GPA: u64 = 0x1000_0000;
    const RAM: u64 = 2 << 20;
    const SHARED: u64 = GPA + 0x10_0000;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Valid LIBOS arguments and queue headers (docs/facts/ga102.md §7.3, §8.1) in a fresh guest.
    fn guest() -> (SharedGuestMemory, std::fs::File) {
        let ram = memfd(c"gsprm-test", RAM).unwrap();
        let mut g = GuestMemory::new();
        g.map(GPA, RAM, &ram, 0).unwrap();
        let w64 = |g: &GuestMemory, a: u64, v: u64| g.write(a, &v.to_le_bytes()).unwrap();
        let w32 = |g: &GuestMemory, a: u64, v: u32| g.write(a, &v.to_le_bytes()).unwrap();
        let ids = [
            libos::ID_LOGINIT,
            libos::ID_LOGINTR,
            libos::ID_LOGRM,
            libos::ID_RMARGS,
        ];
        for (i, id) in ids.into_iter().enumerate() {
            let pa = GPA + 0x1000 + 0x1000 * i as u64;
            let e = GPA + 32 * i as u64;
            w64(&g, e, id);
            w64(&g, e + 8, pa);
            w64(&g, e + 16, 0x1000);
            g.write(e + 24, &[1, 1]).unwrap();
            if i < 3 {
                w64(&g, pa + 8, pa);
            } else {
                w64(&g, pa, SHARED);
                w32(&g, pa + 8, 129);
                w64(&g, pa + 16, 0x1000);
                w64(&g, pa + 24, 0x41000);
            }
        }
        for i in 0..129u64 {
            w64(&g, SHARED + 8 * i, SHARED + 0x1000 * i);
        }
        g.write(SHARED + 0x1000, &TxHeader::standard(0x40000).encode())
            .unwrap();
        (Arc::new(Mutex::new(g)), ram)
    }

    fn rm(g: &SharedGuestMemory) -> GspRm {
        let hub = crate::mmu::hub::Hub::new(
            crate::vram::Vram::new(GA102.vram_size),
            g.clone(),
            Arc::new(Tracer::off()),
        );
        let cfg = Config {
            guest: g.clone(),
            tracer: Arc::new(Tracer::off()),
            chip: &GA102,
            bars: BarView::new(),
            port: GspPort::new(),
            knobs: Knobs::default(),
            stats: RpcStats::new(),
            fifo: crate::fifo::Fifo::new(hub.clone(), Arc::new(Tracer::off())),
            hub,
            app_version: 0,
        };
        let boot = GspBoot {
            libos_args: GPA,
            wpr_meta_addr: 0,
            meta: WprMeta {
                fb_size: 24 << 30,
                rsvd_start: 0x5_f3e0_0000,
                ..Default::default()
            },
            wpr2: (0, 0),
        };
        GspRm::start(cfg, boot)
    }

    #[test]
    fn starts_on_valid_arguments() {
        let (g, _ram) = guest();
        let r = rm(&g);
        assert_eq!(r.state(), &State::Running);
        let mut h = [0u8; 32];
        g.lock().unwrap().read(SHARED + 0x41000, &mut h).unwrap();
        assert_eq!(TxHeader::parse(&h), Some(TxHeader::standard(0x40000)));
    }

    #[test]
    fn garbage_in_the_queues_never_panics() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            let (g, _ram) = guest();
            let mut r = rm(&g);
            for _ in 0..4 {
                {
                    let m = g.lock().unwrap();
                    // Random entries, random element headers, random pointers.
                    for _ in 0..64 {
                        let entry = rng.next() % 63;
                        let at = SHARED + 0x2000 + entry * 0x1000 + (rng.next() % 0x60);
                        m.write(at, &rng.next().to_le_bytes()).unwrap();
                    }
                    let hdr = SHARED + 0x1000 + 4 * (rng.next() % 10);
                    if round % 3 == 0 {
                        m.write(hdr, &((rng.next() % 70) as u32).to_le_bytes())
                            .unwrap();
                    }
                    let wp = (rng.next() % 64) as u32;
                    m.write(SHARED + 0x1010, &wp.to_le_bytes()).unwrap();
                    let crp = (rng.next() % 64) as u32;
                    m.write(SHARED + 0x1020, &crp.to_le_bytes()).unwrap();
                }
                r.doorbell();
                r.poll();
            }
        }
    }

    /// Writes one well-formed element (docs/facts/ga102.md §8.2, §8.3) at command entry `at`; returns the
    /// entries used.
    fn put_element(g: &GuestMemory, at: u32, seq: u32, function: u32, payload: &[u8]) -> u32 {
        let len = HEADER_SIZE + payload.len();
        let n = entries_for(len);
        let mut e = vec![0u8; n as usize * PAGE];
        put_u32(&mut e, elem::SEQ, seq);
        put_u32(&mut e, elem::COUNT, n);
        let mut h = Header::reply(function, seq, result::RPC_PENDING, payload.len());
        h.result_private = result::RPC_PENDING;
        put(&mut e, elem::RPC, &h.encode());
        put(&mut e, elem::RPC + HEADER_SIZE, payload);
        let c = checksum(&e[..ELEM_HDR + len]);
        put_u32(&mut e, elem::CHECKSUM, c);
        for (k, chunk) in e.chunks(PAGE).enumerate() {
            let entry = (at + k as u32) % 63;
            g.write(SHARED + 0x2000 + u64::from(entry) * 0x1000, chunk)
                .unwrap();
        }
        n
    }

    #[test]
    fn random_well_formed_commands_never_panic() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let (g, _ram) = guest();
        let mut r = rm(&g);
        let mut wp = 0u32;
        let mut seq = 0u32;
        let mut si = vec![0u8; 928];
        put_u32(&mut si, 80, 0x88000);
        put_u32(&mut si, 84, 0x1000);
        put_u32(&mut si, 88, 0x2204_10de);
        put_u32(&mut si, 92, 0x147d_10de);
        put_u32(&mut si, 96, 0xa1);
        si[72] = 1;
        let mut reg = vec![0u8; 8];
        put_u32(&mut reg, 0, 8);
        let send = |g: &SharedGuestMemory, f: u32, p: &[u8], wp: &mut u32, seq: &mut u32| {
            let m = g.lock().unwrap();
            let n = put_element(&m, *wp, *seq, f, p);
            *wp = (*wp + n) % 63;
            *seq += 1;
            m.write(SHARED + 0x1010, &wp.to_le_bytes()).unwrap();
            // The CPU reads everything at once: its read pointer = GSP-RM's write pointer.
            let mut w = [0u8; 4];
            m.read(SHARED + 0x41010, &mut w).unwrap();
            m.write(SHARED + 0x1020, &w).unwrap();
        };
        send(&g, func::GSP_SET_SYSTEM_INFO, &si, &mut wp, &mut seq);
        r.doorbell();
        send(&g, func::SET_REGISTRY, &reg, &mut wp, &mut seq);
        r.doorbell();
        assert!(r.awaiting_sequencer() && !r.init_done, "sequencer first");
        // What the falcons do at the end of CORE_RESUME (the falcon tests run the real thing).
        r.cfg.port.set_seq(SeqPhase::Resumed);
        r.os_written(0);
        assert!(r.init_done, "init");
        let fs = [
            func::GSP_RM_ALLOC,
            func::GSP_RM_CONTROL,
            func::FREE,
            func::SET_REGISTRY,
            func::GSP_SET_SYSTEM_INFO,
            func::CONTINUATION_RECORD,
            func::GET_GSP_STATIC_INFO,
            func::NOP,
            999,
        ];
        for _ in 0..3000 {
            let f = fs[(rng.next() % fs.len() as u64) as usize];
            let len = match rng.next() % 8 {
                0 => MAX_PAYLOAD,
                1 => (rng.next() % 0x3000) as usize,
                _ => (rng.next() % 0x60) as usize,
            };
            let mut p: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Small handles and classes so that some allocations find their parents.
            for o in (0..p.len().min(32)).step_by(4) {
                if rng.next().is_multiple_of(2) {
                    let v = [0u32, 1, 2, 3, 0x80, 0x2080, 0x90f1, 0xc56f, 0xa06c, 0x902d]
                        [(rng.next() % 10) as usize];
                    put_u32(&mut p, o, v);
                }
            }
            if (f == func::GSP_RM_ALLOC || f == func::GSP_RM_CONTROL) && p.len() >= 24 {
                let at = if f == func::GSP_RM_ALLOC { 20 } else { 16 };
                let hdr = if f == func::GSP_RM_ALLOC { 32 } else { 24 };
                let size = match rng.next() % 3 {
                    0 => p.len().saturating_sub(hdr) as u32,
                    1 => (rng.next() % 0x20000) as u32,
                    _ => rng.next() as u32,
                };
                put_u32(&mut p, at, size);
            }
            send(&g, f, &p, &mut wp, &mut seq);
            r.doorbell();
            if r.state() != &State::Running {
                break;
            }
        }
        assert_eq!(r.state(), &State::Running);
        assert!(r.objects().count(static_info::INTERNAL_CLIENT).is_some());
    }

    #[test]
    fn garbage_arguments_halt_without_panicking() {
        let mut rng = Rng(42);
        for _ in 0..200 {
            let (g, _ram) = guest();
            {
                let m = g.lock().unwrap();
                for _ in 0..8 {
                    let at = GPA + rng.next() % 0x6000;
                    m.write(at, &rng.next().to_le_bytes()).unwrap();
                }
                let at = SHARED + rng.next() % 0x1040;
                m.write(at, &rng.next().to_le_bytes()).unwrap();
            }
            let mut r = rm(&g);
            r.doorbell();
        }
    }
}
