// SPDX-License-Identifier: GPL-2.0
//! Host (FIFO): GPFIFO channels, the usermode doorbell and one PBDMA per channel.
//!
//! - [`usermode`]: the `AMPERE_USERMODE_A` region at BAR0 0xBB0000 (docs/facts/ga102.md §10.3): TIME_0 /
//!   TIME_1 (+0x80 / +0x84, a nanosecond timer, the host's monotonic clock since the device
//!   started) and `NOTIFY_CHANNEL_PENDING` (+0x90), the doorbell a work-submit token
//!   `(runlist << 16) | chid` is written to.
//! - [`pbdma`]: what runs a channel: reads GPPut from USERD, fetches GPFIFO entries and push
//!   buffer segments through the channel's VA space, decodes method headers (docs/facts/ga102.md §11.1,
//!   §11.2; OD `ampere/ga100/dev_pbdma.ref.txt`, `dev_ram.ref.txt` "FIFO_DMA") and writes
//!   GPGet back.
//! - [`methods`]: the host methods (offsets below 0x100, docs/facts/ga102.md §11.3; OD `dev_pbdma.ref.txt`
//!   "NV_UDMA" L3568-4470): SET_OBJECT, semaphores, NON_STALL_INTERRUPT, MEM_OP_*, ...
//! - [`mem`]: a channel's memory: the VA space of its instance block through the hub MMU
//!   ([`crate::mmu`]), the [`crate::engines::ChannelMemory`] the engines use.
//!
//! ## Channels and threads
//! GSP-RM ([`crate::blocks::falcon::gsprm::objects`]) creates a channel at
//! `AMPERE_CHANNEL_GPFIFO_A` allocation ([`Fifo::create`]: writes the instance block, zeroes
//! USERD's GP_GET/GP_PUT) and destroys it at `FREE` ([`Fifo::destroy`]). **Every channel has
//! its own PBDMA thread** (model choice), started at allocation and parked until a doorbell
//! names it; several channels therefore progress at once, and one spinning on a semaphore
//! acquire holds up no other. The vfio-user thread only wakes them. A channel runs once it
//! is bound (`NVA06F_CTRL_CMD_BIND`) and scheduled (`GPFIFO_SCHEDULE` bEnable 1); a doorbell
//! before that is remembered and served when both are done. Destroying a channel stops its
//! thread between two methods or within 100 µs of an acquire poll and joins it (prompt
//! preemption: how a driver recovers a hung channel).
//!
//! ## Errors
//! A fault in a fetch or an engine access, a bad GP entry, header or method, a `SET_OBJECT` of
//! a class not allocated under the channel, a method to an empty subchannel or an engine's
//! [`crate::engines::EngineError`] stops the channel for good: its thread ends, doorbells are
//! ignored (counted) until it is freed. The error becomes an [`RcEvent`], which GSP-RM sends
//! as `RC_TRIGGERED` (docs/facts/ga102.md §9.2, §9.3); MMU faults are also recorded as any engine fault
//! (snapshot registers, non-replayable buffer, `MMU_FAULT_QUEUED`). Exception types
//! ([`xid`]) are `ROBUST_CHANNEL_*` of OG 570.144 `src/common/sdk/nvidia/inc/nverror.h`
//! L37-91.
//!
//! ## Interrupts
//! Engine interrupt vectors (model choice, consistent with the Ampere interrupt map, OD
//! `ampere/host/ampere_interrupt_map.csv`: "Engine nostall" vectors 0-31 in CPU_LEAF(0),
//! subtree 0 = ESCHED_DRIVEN_ENGINE_NOTIFICATION; "Engine stall" 192-223 in CPU_LEAF(6),
//! subtree 3 = ESCHED_DRIVEN_ENGINE): engine slot s = 0 for GR0, 1 + n for CEn; non-stall
//! vector s, stall vector 192 + s ([`engine_vectors`]). `NON_STALL_INTERRUPT` and an
//! engine's `Effects::nonstall_interrupt` set the non-stall leaf bit, delivered at once
//! through [`crate::irq::Interrupts`].
//!
//! ## Trace
//! Block `fifo`: one line per doorbell, GP entry and channel error; block `methods`: one line
//! per method (verbose).

pub mod mem;
pub mod methods;
pub mod pbdma;
pub mod usermode;

use crate::mmu::engine::InstPtr;
use crate::mmu::format::Aperture;
use crate::mmu::hub::Hub;
use crate::mmu::inst::{PageDirBase, Target, PAGE_DIR_BASE_WORD, SIZE as INST_SIZE};
use crate::mmu::mem::Memory;
use crate::mmu::walk::PhysMem;
use crate::trace::Tracer;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::Instant;

/// USERD size per channel (`NV_RAMUSERD_CHAN_SIZE`, docs/facts/ga102.md §10.3).
pub const USERD_SIZE: u64 = 512;
/// USERD Ref (word 18, docs/facts/ga102.md §10.3): written by SET_REFERENCE.
pub const USERD_REF: u64 = 0x48;
/// USERD GPGet (word 34), written by the PBDMA after each GP entry.
pub const USERD_GP_GET: u64 = 0x88;
/// USERD GPPut (word 35), written by the CPU.
pub const USERD_GP_PUT: u64 = 0x8c;

/// `NV2080_ENGINE_TYPE_GRAPHICS`.
pub const ENGINE_GRAPHICS: u32 = 1;
/// `NV2080_ENGINE_TYPE_COPY0`.
pub const ENGINE_COPY0: u32 = 9;

/// `MC_ENGINE_IDX_CE0` (OG 570.144 `src/nvidia/inc/kernel/gpu/intr/engine_idx.h` L54; CE9 =
/// 24, L63).
pub const MC_ENGINE_IDX_CE0: u16 = 15;
/// `MC_ENGINE_IDX_GR0` = `MC_ENGINE_IDX_GR` (same file L129-130).
pub const MC_ENGINE_IDX_GR0: u16 = 84;
/// First "Engine nostall" vector (interrupt map L2).
pub const NONSTALL_VECTOR_BASE: u32 = 0;
/// First "Engine stall" vector (interrupt map L194).
pub const STALL_VECTOR_BASE: u32 = 192;

/// Exception types (`ROBUST_CHANNEL_*`, OG 570.144 `nverror.h`).
pub mod xid {
    /// `ROBUST_CHANNEL_GR_EXCEPTION` (L37).
    pub const GR_EXCEPTION: u32 = 13;
    /// `ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT` (L49).
    pub const FIFO_ERROR_MMU_ERR_FLT: u32 = 31;
    /// `ROBUST_CHANNEL_PBDMA_ERROR` (L50).
    pub const PBDMA_ERROR: u32 = 32;

    /// `ROBUST_CHANNEL_CEn_ERROR` (L55-57, L76-78, L81-83, L91).
    pub fn ce_error(n: u32) -> u32 {
        match n {
            0 => 39,
            1 => 40,
            2 => 41,
            3 => 70,
            4 => 71,
            5 => 72,
            6 => 75,
            7 => 76,
            8 => 77,
            _ => 85,
        }
    }
}

/// `ROBUST_CHANNEL_ERROR_RECOVERY_LEVEL_FATAL` (OG 570.144 `nverror.h` L284): the
/// exceptLevel of every RC the model sends.
pub const RECOVERY_LEVEL_FATAL: u32 = 2;
/// `RC_NOTIFIER_SCOPE_CHANNEL` (OG 570.144 `g_kernel_rc_nvoc.h` L73).
pub const RC_SCOPE_CHANNEL: u32 = 0;

/// The interrupt identity of NV2080 engine `engine`: (`MC_ENGINE_IDX_*`, stall vector,
/// non-stall vector), None for an engine this GPU does not have (module documentation).
pub fn engine_vectors(engine: u32) -> Option<(u16, u32, u32)> {
    let (idx, slot) = if engine == ENGINE_GRAPHICS {
        (MC_ENGINE_IDX_GR0, 0)
    } else if (ENGINE_COPY0..ENGINE_COPY0 + 10).contains(&engine) {
        let n = engine - ENGINE_COPY0;
        (MC_ENGINE_IDX_CE0 + n as u16, 1 + n)
    } else {
        return None;
    };
    Some((idx, STALL_VECTOR_BASE + slot, NONSTALL_VECTOR_BASE + slot))
}

/// A channel as GSP-RM created it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// NV2080 engine type (GRAPHICS 1, COPYn 9 + n).
    pub engine: u32,
    /// Runlist id.
    pub runlist: u32,
    /// Channel id in the runlist.
    pub chid: u32,
    /// The instance block.
    pub inst: InstPtr,
    /// GPU VA of the GPFIFO ring.
    pub gpfifo_va: u64,
    /// Entries in the ring.
    pub entries: u32,
    /// USERD: aperture and physical address.
    pub userd: (Aperture, u64),
    /// The VA space's page directory (what PAGE_DIR_BASE points at).
    pub pdb: PageDirBase,
    /// The RM handles (client, channel), for the trace.
    pub handle: (u32, u32),
}

impl ChannelConfig {
    /// The work-submit token: `(runlist << 16) | chid` (docs/facts/ga102.md §10.3).
    pub fn token(&self) -> u32 {
        self.runlist << 16 | self.chid
    }
}

/// A channel error, as GSP-RM reports it in `RC_TRIGGERED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcEvent {
    /// NV2080 engine type of the channel.
    pub engine: u32,
    /// Runlist id.
    pub runlist: u32,
    /// Channel id.
    pub chid: u32,
    /// `ROBUST_CHANNEL_*` exception type ([`xid`]).
    pub except_type: u32,
    /// For MMU faults: the faulting VA and `NV_PFAULT_FAULT_TYPE_*`.
    pub mmu_fault: Option<(u64, u32)>,
    /// What went wrong (trace).
    pub why: String,
}

/// How the FIFO reaches the rest of the device from a PBDMA thread.
pub trait Notify: Send + Sync {
    /// Engine non-stall interrupt: set GPU vector `vector`'s leaf bit and deliver.
    fn nonstall(&self, vector: u32);
    /// [`Fifo::take_rc`] has events: let GSP-RM send them (and raise its interrupt).
    fn rc(&self);
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FifoStats {
    /// Doorbell writes.
    pub doorbells: u64,
    /// Doorbells naming no channel.
    pub unknown_tokens: u64,
    /// Doorbells for a channel stopped by an error.
    pub ignored: u64,
    /// GP entries processed.
    pub gp_entries: u64,
    /// Methods executed (host and engine).
    pub methods: u64,
    /// Channel errors.
    pub errors: u64,
}

/// A channel's run state as its PBDMA thread and the doorbell share it.
#[derive(Debug, Default)]
pub(crate) struct Ctl {
    /// Doorbells not yet served.
    pub kicks: u64,
    /// NVA06F_CTRL_CMD_BIND done.
    pub bound: bool,
    /// GPFIFO_SCHEDULE bEnable.
    pub scheduled: bool,
    /// Classes allocated under the channel (what SET_OBJECT may bind).
    pub classes: Vec<u32>,
    /// The error that stopped it.
    pub error: Option<String>,
    /// GPGet as last written.
    pub gp_get: u32,
    /// Whether the thread is waiting for work (caught up with GPPut).
    pub idle: bool,
}

/// One channel.
pub(crate) struct Chan {
    pub cfg: ChannelConfig,
    pub ctl: Mutex<Ctl>,
    pub cv: Condvar,
    pub stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Chan {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) struct Inner {
    pub hub: Hub,
    pub mem: Memory,
    pub tracer: Arc<Tracer>,
    epoch: Instant,
    channels: Mutex<BTreeMap<u32, Arc<Chan>>>,
    rc: Mutex<VecDeque<RcEvent>>,
    notify: OnceLock<Arc<dyn Notify>>,
    pub stats: Mutex<FifoStats>,
    factory: Mutex<EngineFactory>,
}

/// What SET_OBJECT uses to instantiate a class ([`crate::engines::new_engine`] unless a test
/// replaces it).
pub type EngineFactory = fn(u32) -> Option<Box<dyn crate::engines::Engine>>;

/// The FIFO: every channel and its PBDMA. Cloning shares it.
#[derive(Clone)]
pub struct Fifo(pub(crate) Arc<Inner>);

/// What [`Fifo::channel`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelStatus {
    /// The configuration.
    pub cfg: ChannelConfig,
    /// Bound and scheduled.
    pub runnable: bool,
    /// GPGet as last written back.
    pub gp_get: u32,
    /// The error that stopped it.
    pub error: Option<String>,
    /// Waiting for work.
    pub idle: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fifo {
    /// No channels, over the memory of `hub`.
    pub fn new(hub: Hub, tracer: Arc<Tracer>) -> Self {
        let mem = hub.lock().mem().clone();
        Fifo(Arc::new(Inner {
            hub,
            mem,
            tracer,
            epoch: Instant::now(),
            channels: Mutex::new(BTreeMap::new()),
            rc: Mutex::new(VecDeque::new()),
            notify: OnceLock::new(),
            stats: Mutex::new(FifoStats::default()),
            factory: Mutex::new(crate::engines::new_engine),
        }))
    }

    /// Replaces the engine factory (test engines).
    pub fn set_engine_factory(&self, f: EngineFactory) {
        *lock(&self.0.factory) = f;
    }

    /// A new engine of `class` from the factory.
    pub(crate) fn new_engine(&self, class: u32) -> Option<Box<dyn crate::engines::Engine>> {
        (*lock(&self.0.factory))(class)
    }

    /// Connects the FIFO to the device's interrupts and GSP-RM (once).
    pub fn set_notify(&self, n: Arc<dyn Notify>) {
        let _ = self.0.notify.set(n);
    }

    /// The GPU timer in ns (usermode TIME_0/TIME_1, semaphore timestamps).
    pub fn now_ns(&self) -> u64 {
        self.0.epoch.elapsed().as_nanos() as u64
    }

    /// Counters.
    pub fn stats(&self) -> FifoStats {
        *lock(&self.0.stats)
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut FifoStats)) {
        f(&mut lock(&self.0.stats))
    }

    pub(crate) fn trace(&self, block: &str, msg: std::fmt::Arguments<'_>) {
        self.0.tracer.line(block, msg);
    }

    fn get(&self, token: u32) -> Option<Arc<Chan>> {
        lock(&self.0.channels).get(&token).cloned()
    }

    /// Writes what GSP-RM puts in a new channel's instance block: zeroes its 4 KiB, then
    /// PAGE_DIR_BASE (words 128/129, docs/facts/ga102.md §12.3: target, USE_VER2_PT_FORMAT, BIG_PAGE_SIZE
    /// 64 KiB, address) and the RAMFC words the model fills (OD `ampere/ga100/dev_ram.ref.txt`
    /// L467-486; field layouts `dev_pbdma.ref.txt` L337-355): GP_PUT (w0) 0, GP_GET (w5) 0,
    /// GP_BASE (w18) = ring VA bits 31:3, GP_BASE_HI (w19) = VA bits 39:32 in 7:0 and
    /// LIMIT2 = log2(entries) in 20:16. Nothing else of RAMFC is modelled.
    fn write_inst(&self, c: &ChannelConfig) -> bool {
        let Some(ap) = Target::from_bits(c.inst.aperture).aperture() else {
            return false;
        };
        let mut b = vec![0u8; INST_SIZE];
        let mut put = |w: usize, v: u32| b[4 * w..4 * w + 4].copy_from_slice(&v.to_le_bytes());
        put(18, c.gpfifo_va as u32 & !7);
        let limit2 = 31 - c.entries.max(1).leading_zeros();
        put(19, (c.gpfifo_va >> 32) as u32 & 0xff | limit2 << 16);
        let (lo, hi) = c.pdb.encode();
        put(PAGE_DIR_BASE_WORD, lo);
        put(PAGE_DIR_BASE_WORD + 1, hi);
        self.0.mem.write(ap, c.inst.addr, &b)
    }

    /// GSP-RM rewrote the page directory of a VA space: every channel whose instance block
    /// points at `old` gets `new` (`NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY`: "RM will
    /// propagate the update to all channels using the VA space"). Returns how many.
    pub fn repoint(&self, channels: &[u32], new: PageDirBase) -> usize {
        let mut n = 0;
        for t in channels {
            if let Some(c) = self.get(*t) {
                if let Some(ap) = Target::from_bits(c.cfg.inst.aperture).aperture() {
                    let (lo, hi) = new.encode();
                    let mut w = [0u8; 8];
                    w[..4].copy_from_slice(&lo.to_le_bytes());
                    w[4..].copy_from_slice(&hi.to_le_bytes());
                    if self.0.mem.write(ap, c.cfg.inst.addr + 4 * 128, &w) {
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// A new channel: its instance block is written, USERD's GP_GET / GP_PUT zeroed, and its
    /// PBDMA thread started (parked until bound, scheduled and rung). Err if the instance
    /// block or USERD cannot be written or the token is in use.
    pub fn create(&self, cfg: ChannelConfig) -> Result<(), String> {
        let token = cfg.token();
        if self.get(token).is_some() {
            return Err(format!("token {token:#x} in use"));
        }
        if !self.write_inst(&cfg) {
            return Err(format!("instance block {} cannot be written", cfg.inst));
        }
        let (ap, pa) = cfg.userd;
        if !self.0.mem.write(ap, pa + USERD_GP_GET, &[0; 8]) {
            return Err(format!("USERD {}:{pa:#x} cannot be written", ap.name()));
        }
        let chan = Arc::new(Chan {
            cfg,
            ctl: Mutex::new(Ctl {
                idle: true,
                ..Default::default()
            }),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let (f, c) = (self.clone(), chan.clone());
        let t = std::thread::Builder::new()
            .name(format!("pbdma-{token:x}"))
            .spawn(move || pbdma::run(f, c))
            .map_err(|e| format!("PBDMA thread: {e}"))?;
        *lock(&chan.thread) = Some(t);
        lock(&self.0.channels).insert(token, chan.clone());
        self.trace(
            "fifo",
            format_args!(
                "channel {token:#x} (engine {}, runlist {}, chid {}) created: instance block {}, GPFIFO {:#x} x {}, USERD {}:{:#x}, PDB {}:{:#x}",
                chan.cfg.engine,
                chan.cfg.runlist,
                chan.cfg.chid,
                chan.cfg.inst,
                chan.cfg.gpfifo_va,
                chan.cfg.entries,
                chan.cfg.userd.0.name(),
                chan.cfg.userd.1,
                crate::mmu::hub::inst_name(chan.cfg.pdb.target.bits()),
                chan.cfg.pdb.addr
            ),
        );
        Ok(())
    }

    /// Preempts and frees channel `token`: its PBDMA stops (even inside a semaphore acquire)
    /// and its thread is joined; its engines are dropped. Unknown tokens are ignored.
    pub fn destroy(&self, token: u32) {
        let Some(c) = lock(&self.0.channels).remove(&token) else {
            return;
        };
        c.stop.store(true, Ordering::SeqCst);
        {
            let _g = c.lock();
            c.cv.notify_all();
        }
        let t = lock(&c.thread).take();
        if let Some(t) = t {
            let _ = t.join();
        }
        self.trace(
            "fifo",
            format_args!("channel {token:#x} preempted and freed"),
        );
    }

    fn update(&self, token: u32, f: impl FnOnce(&mut Ctl)) {
        if let Some(c) = self.get(token) {
            f(&mut c.lock());
            c.cv.notify_all();
        }
    }

    /// NVA06F_CTRL_CMD_BIND.
    pub fn set_bound(&self, token: u32) {
        self.update(token, |c| c.bound = true);
    }

    /// NVA06F_CTRL_CMD_GPFIFO_SCHEDULE.
    pub fn set_scheduled(&self, token: u32, on: bool) {
        self.update(token, |c| c.scheduled = on);
    }

    /// An object of `class` was allocated under the channel (SET_OBJECT may bind it).
    pub fn allow_class(&self, token: u32, class: u32) {
        self.update(token, |c| c.classes.push(class));
    }

    /// An object of `class` under the channel was freed.
    pub fn forbid_class(&self, token: u32, class: u32) {
        self.update(token, |c| {
            if let Some(i) = c.classes.iter().position(|&k| k == class) {
                c.classes.remove(i);
            }
        });
    }

    /// A write of `token` to `NOTIFY_CHANNEL_PENDING`.
    pub fn doorbell(&self, token: u32) {
        self.count(|s| s.doorbells += 1);
        let Some(c) = self.get(token) else {
            self.count(|s| s.unknown_tokens += 1);
            self.trace(
                "fifo",
                format_args!("doorbell {token:#x}: no such channel, ignored"),
            );
            return;
        };
        let mut g = c.lock();
        if let Some(e) = &g.error {
            self.trace(
                "fifo",
                format_args!("doorbell {token:#x}: channel stopped by an error ({e}), ignored"),
            );
            drop(g);
            self.count(|s| s.ignored += 1);
            return;
        }
        g.kicks += 1;
        let state = match (g.bound, g.scheduled) {
            (true, true) => "PBDMA woken",
            (false, _) => "not bound yet, remembered",
            (_, false) => "not scheduled yet, remembered",
        };
        drop(g);
        c.cv.notify_all();
        self.trace("fifo", format_args!("doorbell {token:#x}: {state}"));
    }

    /// A channel's state (tests, tools).
    pub fn channel(&self, token: u32) -> Option<ChannelStatus> {
        let c = self.get(token)?;
        let g = c.lock();
        Some(ChannelStatus {
            cfg: c.cfg.clone(),
            runnable: g.bound && g.scheduled,
            gp_get: g.gp_get,
            error: g.error.clone(),
            idle: g.idle,
        })
    }

    /// Channel errors GSP-RM has not sent yet.
    pub fn take_rc(&self) -> Vec<RcEvent> {
        lock(&self.0.rc).drain(..).collect()
    }

    /// Number of channel errors waiting for GSP-RM.
    pub fn rc_pending(&self) -> usize {
        lock(&self.0.rc).len()
    }

    /// A PBDMA stopped its channel.
    pub(crate) fn report(&self, e: RcEvent) {
        self.count(|s| s.errors += 1);
        lock(&self.0.rc).push_back(e);
        if let Some(n) = self.0.notify.get() {
            n.rc();
        }
    }

    /// Engine `engine` raised its non-stall interrupt.
    pub(crate) fn nonstall(&self, engine: u32) {
        if let (Some(n), Some((_, _, v))) = (self.0.notify.get(), engine_vectors(engine)) {
            n.nonstall(v);
        }
    }

    /// Stops every channel (device teardown).
    pub fn shutdown(&self) {
        let tokens: Vec<u32> = lock(&self.0.channels).keys().copied().collect();
        for t in tokens {
            self.destroy(t);
        }
    }
}

#[cfg(test)]
mod tests;
