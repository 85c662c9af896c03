// SPDX-License-Identifier: GPL-2.0
//! GPU interrupts: the Ampere CPU interrupt tree (docs/facts/ga102.md §2.3) behind one MSI (or INTx), and
//! the servicing of GSP-RM's events.
//!
//! GSP-RM says which tree vectors belong to which engine
//! (`NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`, [`crate::gsp::fifo::intr_vectors`]). We
//! open three: GSP's stall vector (GSP-RM posted a message: events, channel errors), and the
//! non-stall vectors of copy engine 0 and of the graphics engine (a channel's
//! `NON_STALL_INTERRUPT`, i.e. a job's fence release). The hard handler only checks that the
//! tree has something pending and masks the tree's top level; the threaded handler clears the
//! leaf bits, services GSP-RM's events, tells the [`EngineListener`] (nova-drm) and unmasks.
//!
//! # GSP-RM's events
//!
//! Every message GSP-RM posts on its status queue raises the GSP vector. The interrupt thread
//! (and only it) hands events on: it takes whatever is queued ([`GspChannel::take_events`]),
//! then reports a pending `MMU_FAULT_QUEUED` (the fault snapshot registers, [`mmu_fault`]) and
//! logs each `RC_TRIGGERED` and gives it to [`EngineListener::channel_error`]. Userspace
//! ioctls never touch the queue for events.
//!
//! An RPC that waits for its reply holds the queue and may read events first: it keeps them in
//! the channel (a bounded backlog) and goes on. Their own interrupts still follow: GSP-RM
//! raised the vector after posting them, and the thread takes the queue lock after clearing the
//! leaf bit, so it finds each such event either still in the queue or kept by the RPC, and
//! hands it on the same way. Nothing is handed on under the queue lock, so a listener may send
//! RPCs, and an RPC sender may hold locks the listener takes.
//!
//! # The storm fallback
//!
//! A GSP vector that keeps firing while no message arrives (a stuck line; the vGPU's
//! `--irq-storm`) is closed after [`STORM_LIMIT`] such rounds in a row. From then on (and from
//! the start when GSP-RM names no GSP vector or gives no interrupt table) a periodic timer
//! wakes the interrupt thread every [`POLL_PERIOD`], which services the queue exactly as above:
//! an event then waits at most one period (plus whatever RPC holds the queue). The timer is
//! stopped before the vectors are closed on unbind ([`GpuIrq::quiesce`]) and when [`GpuIrq`]
//! is dropped, so it never runs past the binding. (A work item would need a cancel/flush that
//! the kernel crate's workqueue API does not have; the thread is ours and `free_irq()` waits
//! for it.)

use core::ffi::c_void;

use kernel::{
    bindings,
    device::{self, Bound},
    impl_has_hr_timer,
    io::Io,
    irq::{self, IrqReturn, ThreadedHandler, ThreadedIrqReturn},
    new_mutex,
    pci::{self, IrqType, IrqTypes},
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, ArcBorrow, Mutex,
    },
    time::{
        hrtimer::{
            ArcHrTimerHandle, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerPointer,
            HrTimerRestart, RelativeMode,
        },
        Delta, Monotonic,
    },
};

use crate::{
    driver::Bar0,
    gpfifo::EngineKind,
    gsp::{channel::GspChannel, fifo::RcTriggered},
    memory::GpuMm,
    mmu_fault,
};

/// `..._CPU_INTR_LEAF(i)` (write 1 to clear), docs/facts/ga102.md §2.3.
const LEAF: usize = 0xb8_1000;
/// `..._CPU_INTR_LEAF_EN_SET(i)`.
const LEAF_EN_SET: usize = 0xb8_1200;
/// `..._CPU_INTR_LEAF_EN_CLEAR(i)`.
const LEAF_EN_CLEAR: usize = 0xb8_1400;
/// `..._CPU_INTR_TOP(0)`: one bit per subtree (leaves 2s and 2s + 1).
const TOP: usize = 0xb8_1600;
/// `..._CPU_INTR_TOP_EN_SET(0)` / `_EN_CLEAR(0)`.
const TOP_EN_SET: usize = 0xb8_1608;
const TOP_EN_CLEAR: usize = 0xb8_1610;
/// Vectors the 8 leaves hold.
pub(crate) const VECTORS: u32 = 256;
/// GSP falcon `IRQSCLR` (PFALCON base 0x110000 + 0x004) and its SWGEN0 bit, the interrupt
/// GSP-RM raises when it posts a message (docs/facts/ga102.md §5.2, §7.4).
const GSP_IRQSCLR: usize = 0x11_0004;
const GSP_SWGEN0: u32 = 1 << 6;
/// GSP rounds in a row with no message after which the GSP vector is closed.
pub(crate) const STORM_LIMIT: u32 = 1000;
/// How often GSP-RM's queue is polled while the GSP vector is closed: the longest an event
/// waits then (10 ms: GSP-RM's events are rare, and the poll is a few reads of coherent
/// memory when the queue is empty).
pub(crate) const POLL_PERIOD: Delta = Delta::from_millis(10);

/// Who hears about engine interrupts and GSP-RM's channel errors (nova-drm). Called from the
/// interrupt thread with no nova-core lock held except the one that makes
/// [`crate::link::GpuLink::set_listener`] wait: it may sleep briefly (take its own locks, queue
/// work) but must not wait for other interrupts.
pub trait EngineListener: Send + Sync {
    /// An engine's non-stall interrupt fired: fence releases of its channels may have landed.
    fn nonstall(&self, engine: EngineKind);
    /// GSP-RM stopped a channel (`RC_TRIGGERED`; nova-core has logged it). The channel stays
    /// stopped until it is freed.
    fn channel_error(&self, rc: &RcTriggered);
}

/// The vectors in use.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Vectors {
    pub(crate) gsp: Option<u32>,
    pub(crate) copy: Option<u32>,
    pub(crate) graphics: Option<u32>,
}

impl Vectors {
    fn all(&self) -> impl Iterator<Item = u32> {
        [self.gsp, self.copy, self.graphics].into_iter().flatten()
    }

    /// TOP bits of the subtrees holding our vectors.
    fn top_mask(&self) -> u32 {
        self.all().fold(0, |m, v| m | 1 << (v / 64))
    }
}

/// The poll timer: wakes the interrupt thread every [`POLL_PERIOD`].
#[pin_data]
pub(crate) struct Poller {
    #[pin]
    timer: HrTimer<Poller>,
    /// The Linux IRQ number of our handler.
    irq: u32,
    /// Our handler's cookie (`dev_id`): the address of its registration.
    cookie: usize,
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for Poller { mode: RelativeMode<Monotonic>, field: self.timer }
}

impl HrTimerCallback for Poller {
    type Pointer<'a> = Arc<Self>;

    fn run(this: ArcBorrow<'_, Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        // SAFETY: `irq_wake_thread()` looks the descriptor of `irq` up (returning if there is
        // none), compares `dev_id` with the cookies of its actions under the descriptor's raw
        // spinlock (interrupts saved) and wakes the thread of the matching action; it never
        // dereferences `dev_id`. It is therefore sound for any arguments, and callable from this
        // hard-interrupt timer callback.
        unsafe {
            bindings::irq_wake_thread(
                this.irq,
                core::ptr::without_provenance_mut::<c_void>(this.cookie),
            )
        };
        ctx.forward_now(POLL_PERIOD);
        HrTimerRestart::Restart
    }
}

/// The poll timer and, while it runs, its handle (dropping the handle cancels the timer and
/// waits for a running callback).
struct PollState {
    poller: Option<Arc<Poller>>,
    running: Option<ArcHrTimerHandle<Poller>>,
}

/// State shared by the handler and the link.
#[pin_data]
pub struct IrqShared {
    #[pin]
    listener: Mutex<Option<Arc<dyn EngineListener>>>,
    vectors: Vectors,
    gsp_open: Atomic<bool>,
    empty_gsp_rounds: Atomic<u32>,
    /// The channel's message count at the last GSP round.
    seen_messages: Atomic<u32>,
    /// Interrupts handled (for debugfs and tests).
    pub(crate) count: Atomic<u64>,
    #[pin]
    poll: Mutex<PollState>,
}

impl IrqShared {
    pub(crate) fn new(vectors: Vectors, messages: u32) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(IrqShared {
                listener <- new_mutex!(None),
                vectors,
                gsp_open: Atomic::new(vectors.gsp.is_some()),
                empty_gsp_rounds: Atomic::new(0),
                seen_messages: Atomic::new(messages),
                count: Atomic::new(0),
                poll <- new_mutex!(PollState {
                    poller: None,
                    running: None,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// Replaces the listener; returns after a notification in progress has finished.
    pub(crate) fn set_listener(&self, l: Option<Arc<dyn EngineListener>>) {
        *self.listener.lock() = l;
    }

    /// Whether both engines' completion (non-stall) interrupts reach the driver.
    pub(crate) fn nonstall_open(&self) -> bool {
        self.vectors.copy.is_some() && self.vectors.graphics.is_some()
    }

    /// Starts the poll timer (once; a no-op before the poller is set up or once stopped).
    fn start_poll(&self) {
        let mut p = self.poll.lock();
        if p.running.is_none() {
            if let Some(poller) = p.poller.clone() {
                p.running = Some(poller.start(POLL_PERIOD));
            }
        }
    }

    /// Stops the poll timer for good: on return no callback runs.
    fn stop_poll(&self) {
        let running = {
            let mut p = self.poll.lock();
            p.poller = None;
            p.running.take()
        };
        // Cancels and waits for a running callback (which takes no lock of ours).
        drop(running);
    }
}

/// The threaded handler.
pub(crate) struct Handler<'bound> {
    bar: Arc<Bar0<'bound>>,
    gsp: Arc<GspChannel>,
    mm: Option<Arc<GpuMm>>,
    shared: Arc<IrqShared>,
    dev: ARef<device::Device>,
}

impl Handler<'_> {
    fn leaf_vectors(&self, top: u32) -> Result<[u32; 8]> {
        let mut pending = [0u32; 8];
        for (i, p) in pending.iter_mut().enumerate() {
            if top & (1 << (i / 2)) != 0 {
                *p = self.bar.try_read32(LEAF + 4 * i)?;
            }
        }
        Ok(pending)
    }

    fn service(&self) -> Result {
        let v = self.shared.vectors;
        for _ in 0..16 {
            let top = self.bar.try_read32(TOP)? & v.top_mask();
            if top == 0 {
                break;
            }
            let pending = self.leaf_vectors(top)?;
            for (i, p) in pending.iter().enumerate() {
                if *p != 0 {
                    self.bar.try_write32(*p, LEAF + 4 * i)?;
                }
            }
            let hit = |vec: Option<u32>| {
                vec.is_some_and(|x| pending[(x / 32) as usize] & (1 << (x % 32)) != 0)
            };
            if hit(v.gsp) && self.shared.gsp_open.load(Relaxed) {
                self.bar.try_write32(GSP_SWGEN0, GSP_IRQSCLR)?;
                self.gsp_events();
                // A round in which no message arrived at all (neither taken here nor by an
                // RPC waiting for its reply) is one the line fired for nothing.
                let messages = self.gsp.stats.messages.load(Relaxed);
                if self.shared.seen_messages.xchg(messages, Relaxed) == messages {
                    let empty = self.shared.empty_gsp_rounds.fetch_add(1, Relaxed) + 1;
                    if empty >= STORM_LIMIT {
                        self.close_gsp_vector()?;
                    }
                } else {
                    self.shared.empty_gsp_rounds.store(0, Relaxed);
                }
            }
            if hit(v.copy) || hit(v.graphics) {
                let listener = self.shared.listener.lock();
                if let Some(l) = listener.as_ref() {
                    if hit(v.copy) {
                        l.nonstall(EngineKind::Copy);
                    }
                    if hit(v.graphics) {
                        l.nonstall(EngineKind::TwoD);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes GSP-RM's queued messages (all events: no command is outstanding meanwhile) and
    /// hands on every event taken here or by an RPC waiter.
    fn gsp_events(&self) {
        if let Err(e) = self.gsp.take_events() {
            dev_err!(self.dev, "GSP: servicing events failed: {:?}\n", e);
        }
        if self.gsp.take_fault_notice() && mmu_fault::report(&self.dev, &self.bar) {
            if let Some(mm) = &self.mm {
                mm.faults.fetch_add(1, Relaxed);
            }
        }
        let errors = self.gsp.take_rc();
        if errors.is_empty() {
            return;
        }
        let listener = self.shared.listener.lock();
        for rc in errors.iter() {
            dev_warn!(
                self.dev,
                "GSP-RM stopped channel {} of engine type {} (exception type {})\n",
                rc.chid,
                rc.engine_type,
                rc.except_type
            );
            if let Some(l) = listener.as_ref() {
                l.channel_error(rc);
            }
        }
    }

    fn close_gsp_vector(&self) -> Result {
        let Some(g) = self.shared.vectors.gsp else {
            return Ok(());
        };
        self.shared.gsp_open.store(false, Relaxed);
        self.bar
            .try_write32(1 << (g % 32), LEAF_EN_CLEAR + 4 * (g / 32) as usize)?;
        self.shared.start_poll();
        dev_err!(
            self.dev,
            "GSP interrupt fired {} times with no message: closed, the queues are polled every {} ms\n",
            STORM_LIMIT,
            POLL_PERIOD.as_millis()
        );
        Ok(())
    }
}

impl ThreadedHandler for Handler<'_> {
    fn handle(&self) -> ThreadedIrqReturn {
        let mask = self.shared.vectors.top_mask();
        match self.bar.try_read32(TOP) {
            Ok(top) if top & mask != 0 => {
                // Masked until the thread has served it (a new edge follows the unmask if
                // anything is still pending, docs/facts/ga102.md §2.3).
                let _ = self.bar.try_write32(mask, TOP_EN_CLEAR);
                ThreadedIrqReturn::WakeThread
            }
            _ => ThreadedIrqReturn::None,
        }
    }

    /// Runs for the interrupt and, with the GSP vector closed, for each poll tick.
    fn handle_threaded(&self) -> IrqReturn {
        self.shared.count.fetch_add(1, Relaxed);
        if let Err(e) = self.service() {
            dev_err!(self.dev, "interrupt handling failed: {:?}\n", e);
        }
        if !self.shared.gsp_open.load(Relaxed) {
            self.gsp_events();
        }
        let _ = self
            .bar
            .try_write32(self.shared.vectors.top_mask(), TOP_EN_SET);
        IrqReturn::Handled
    }
}

/// The interrupt of one GPU: the vector allocation and the handler on its first vector.
///
/// Field order matters: the handler registration is dropped (freeing the IRQ) before the
/// vector allocation it was requested from; the poll timer is stopped before either
/// (`Drop`).
pub(crate) struct GpuIrq<'bound> {
    registration: Pin<KBox<irq::ThreadedRegistration<'bound, Handler<'bound>>>>,
    _vectors: KBox<pci::IrqVectorRegistration<'bound>>,
    bar: Arc<Bar0<'bound>>,
    shared: Arc<IrqShared>,
}

impl<'bound> GpuIrq<'bound> {
    /// Allocates one MSI (or the INTx line), requests the handler on it and opens the
    /// vectors in the tree; without a GSP vector, starts the poll timer.
    pub(crate) fn new(
        pdev: &'bound pci::Device<Bound>,
        bar: Arc<Bar0<'bound>>,
        gsp: Arc<GspChannel>,
        mm: Option<Arc<GpuMm>>,
        vectors: Vectors,
    ) -> Result<Self> {
        let shared = IrqShared::new(vectors, gsp.stats.messages.load(Relaxed))?;
        let types = IrqTypes::default().with(IrqType::Msi).with(IrqType::Intx);
        let alloc = KBox::new(pdev.alloc_irq_vectors(1, 1, types)?, GFP_KERNEL)?;
        // SAFETY: `alloc` is a heap allocation that is neither moved out of nor dropped before
        // `registration` (below, stored beside it in `GpuIrq`, declared first and hence dropped
        // first; `GpuIrq` is only ever dropped as a whole). The reference therefore stays valid
        // for as long as anything derived from it is alive, and the vector allocation is
        // itself bounded by the device's binding (`'bound`).
        let vectors_ref: &'bound pci::IrqVectorRegistration<'bound> = unsafe {
            // SAFETY: see above: `alloc` outlives every use of this reference.
            &*core::ptr::from_ref(&*alloc)
        };
        let request: irq::IrqRequest<'bound> = vectors_ref.index(0)?.into();
        let irq_number = request.irq();
        let handler = Handler {
            bar: bar.clone(),
            gsp,
            mm,
            shared: shared.clone(),
            dev: pdev.as_ref().into(),
        };
        let registration = KBox::pin_init(
            // SAFETY: the registration is kept in `GpuIrq::registration` until `GpuIrq` is
            // dropped and is never forgotten.
            unsafe {
                irq::ThreadedRegistration::new(
                    request,
                    irq::Flags::SHARED,
                    c"nova-core",
                    Ok::<_, Error>(handler),
                )
            },
            GFP_KERNEL,
        )?;
        // The cookie `request_threaded_irq()` was given: the registration's address.
        let cookie = core::ptr::from_ref(&*registration).addr();
        let poller = Arc::pin_init(
            pin_init!(Poller {
                timer <- HrTimer::new(),
                irq: irq_number,
                cookie,
            }),
            GFP_KERNEL,
        )?;
        shared.poll.lock().poller = Some(poller);
        let this = GpuIrq {
            registration,
            _vectors: alloc,
            bar,
            shared,
        };
        for v in vectors.all() {
            this.bar
                .try_write32(1 << (v % 32), LEAF_EN_SET + 4 * (v / 32) as usize)?;
        }
        this.bar.try_write32(vectors.top_mask(), TOP_EN_SET)?;
        if vectors.gsp.is_none() {
            this.shared.start_poll();
        }
        Ok(this)
    }

    /// The shared state (the link hands it to nova-drm's listener registration).
    pub(crate) fn shared(&self) -> &Arc<IrqShared> {
        &self.shared
    }

    /// Stops the poll timer, closes our vectors in the tree and waits for a running handler:
    /// nothing services GSP-RM's queue from here on.
    pub(crate) fn quiesce(&self) {
        self.shared.stop_poll();
        let v = self.shared.vectors;
        let _ = self.bar.try_write32(v.top_mask(), TOP_EN_CLEAR);
        for x in v.all() {
            let _ = self
                .bar
                .try_write32(1 << (x % 32), LEAF_EN_CLEAR + 4 * (x / 32) as usize);
        }
        self.registration.synchronize();
    }
}

impl Drop for GpuIrq<'_> {
    fn drop(&mut self) {
        // Before the handler is freed (the fields drop after this): no timer outlives it.
        self.shared.stop_poll();
    }
}
