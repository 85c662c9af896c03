// SPDX-License-Identifier: GPL-2.0
//! Execution contexts: a GPU channel in a VM, its job queue, fences and recovery.
//!
//! A [`Ctx`] owns one nova-core [`Channel`] and a queue of [`Job`]s. A job is a list of push
//! segments plus the fences it waits for; it gets one [`DriverFence`] from the context's fence
//! timeline. Its life:
//!
//! 1. EXEC queues it (`queued`) and registers a callback on each wait fence that has not
//!    signalled; a callback only kicks the context's work item.
//! 2. The work item ([`Ctx::process`]) submits queued jobs in order once their wait fences
//!    have signalled and the GPFIFO ring has room: one entry per push segment, then the job
//!    tail (a 64-bit semaphore release of the job's seqno and a non-stall interrupt,
//!    [`nova_core::pushbuf::fence_tail`]), GP_PUT and the doorbell.
//! 3. The non-stall interrupt reaches [`Ctx::retire`] through nova-core's
//!    [`EngineListener`] (the interrupt thread): every job whose seqno the fence word has
//!    reached signals its fence, in order.
//! 4. Recovery: a job that has not completed [`JOB_TIMEOUT_MS`] after submission, or a channel
//!    GSP-RM reports stopped (`RC_TRIGGERED`), makes the work item free the channel (GSP-RM
//!    preempts it), signal the fences of every job that had reached it with -ETIMEDOUT or -EIO,
//!    and continue the queue on a new channel. Other contexts have their own channels and are
//!    not touched.
//!
//! Locks: a context's state mutex is taken by ioctls, its work items and the interrupt
//! thread; nothing is locked inside it except nova-core's own locks (GSP queue, VM state).

use kernel::{
    dma_fence::{DriverFence, Fence, FenceCallback, FenceCallbackHandler, FenceContext},
    new_mutex,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
    time::{msecs_to_jiffies, Delta, Instant, Monotonic},
    workqueue::{self, impl_has_delayed_work, impl_has_work, new_delayed_work, new_work},
    workqueue::{DelayedWork, Work, WorkItem},
};

use nova_core::{
    gpfifo::{Channel, EngineKind, GPFIFO_ENTRIES},
    gsp::fifo::RcTriggered,
    irq::EngineListener,
    link::GpuLink,
};

use crate::{driver::NovaDevice, vm::Vm};

/// How long a job may run on the GPU before its channel is reset (`NOVA_GETPARAM_JOB_TIMEOUT_MS`).
pub(crate) const JOB_TIMEOUT_MS: u32 = 4000;
/// How often a context with jobs on the GPU checks for a timeout (and, without interrupts,
/// for completions).
const CHECK_MS: u32 = 250;
/// First kernel VA of the context slots (`[1 MiB, 2 MiB)`, below `NOVA_GETPARAM_VA_START`).
const SLOT_BASE: u64 = 1 << 20;
/// Bytes per slot: the channel's ring area.
const SLOT_BYTES: u64 = 0x10000;
const _: () = assert!(nova_core::gpfifo::RING_BYTES as u64 == SLOT_BYTES);

/// Runs `f` with nova-core's link if the DRM device is still registered (nova-core bound).
///
/// Work items and file teardown run outside ioctls; they reach the link the way an ioctl
/// does, through a `drm_dev_enter()` section.
pub(crate) fn with_link<R>(
    dev: &NovaDevice,
    f: impl for<'a> FnOnce(&'a GpuLink<'a>) -> R,
) -> Option<R> {
    let guard = dev.try_registration_guard()?;
    Some(guard.registration_data_with(|link| f(link)))
}

/// A wait fence's callback: kicks the context.
struct DepWake(Arc<Ctx>);

impl FenceCallbackHandler for DepWake {
    fn signaled(&self, _fence: &Fence) {
        self.0.kick();
    }
}

/// One EXEC.
pub(crate) struct Job {
    seqno: u64,
    /// Push segments: GPU VA and length in words.
    pushes: KVec<(u64, u32)>,
    fence: DriverFence,
    deps: KVec<ARef<Fence>>,
    callbacks: KVec<Pin<KBox<FenceCallback<DepWake>>>>,
    /// When it reached the GPU.
    started: Option<Instant<Monotonic>>,
}

impl Job {
    /// Its fence.
    pub(crate) fn fence(&self) -> ARef<Fence> {
        self.fence.as_fence()
    }

    /// GPFIFO entries it takes: its segments and the tail.
    fn entries(&self) -> u32 {
        self.pushes.len() as u32 + 1
    }

    fn ready(&self) -> bool {
        self.deps.iter().all(|f| f.is_signaled())
    }
}

struct CtxState {
    channel: Option<Channel>,
    /// Waiting for their dependencies or for ring space, in submission order.
    queued: KVec<Job>,
    /// On the GPU, in order.
    inflight: KVec<Job>,
    /// Next GPFIFO entry to write.
    put: u32,
    /// Entries the in-flight jobs occupy.
    inflight_entries: u32,
    next_seqno: u64,
    resets: u32,
    last_error: i32,
    submitted: u64,
    completed: u64,
    /// Destroyed, and why: everything was cancelled, nothing runs any more.
    dead: Option<End>,
}

/// Why a context was destroyed; an EXEC that races with the destruction fails with its errno.
#[derive(Clone, Copy)]
pub(crate) enum End {
    /// CTX_DESTROY or the file closing: the id names no context any more (-ENOENT, as for any
    /// unknown context).
    Destroyed,
    /// nova-drm unbinding: the GPU is gone (-ENODEV).
    Unbound,
}

impl End {
    /// The errno an EXEC on the dead context returns.
    fn errno(self) -> Error {
        match self {
            End::Destroyed => ENOENT,
            End::Unbound => ENODEV,
        }
    }
}

/// An execution context.
#[pin_data]
pub(crate) struct Ctx {
    /// Id in its file.
    pub(crate) id: u32,
    pub(crate) engine: EngineKind,
    slot: u32,
    vm: Arc<Vm>,
    dev: ARef<NovaDevice>,
    fences: FenceContext,
    /// Set by the error dispatch (an `RC_TRIGGERED` for our channel): errno to reset with.
    channel_error: Atomic<i32>,
    /// Destroyed: kicks are dropped (mirrors `CtxState::dead`, readable without the lock).
    dead: Atomic<bool>,
    #[pin]
    state: Mutex<CtxState>,
    #[pin]
    work: Work<Ctx, 0>,
    #[pin]
    timer: DelayedWork<Ctx, 1>,
}

impl_has_work! {
    impl HasWork<Self, 0> for Ctx { self.work }
}

impl_has_delayed_work! {
    impl HasDelayedWork<Self, 1> for Ctx { self.timer }
}

/// Work items of this module that are queued, timed or running. A work item is counted before
/// it is queued and uncounted as the last thing it does, after dropping its context; unbind
/// waits for the count to reach 0 ([`wait_for_work`]) so that no work item runs module code
/// after the module is gone (the 7.3 workqueue API cannot cancel one).
static WORK_IN_FLIGHT: Atomic<u32> = Atomic::new(0);

/// Waits (up to 5 s, far above the longest timer of [`CHECK_MS`]) until no work item of this
/// module is queued, timed or running. Called once every context is dead, so none is added.
pub(crate) fn wait_for_work() {
    for _ in 0..500 {
        if WORK_IN_FLIGHT.load(Relaxed) == 0 {
            return;
        }
        kernel::time::delay::fsleep(Delta::from_millis(10));
    }
    pr_err!(
        "nova-drm: {} work item(s) still pending at unbind\n",
        WORK_IN_FLIGHT.load(Relaxed)
    );
}

impl WorkItem<0> for Ctx {
    type Pointer = Arc<Ctx>;

    fn run(this: Arc<Ctx>) {
        this.process();
        drop(this);
        WORK_IN_FLIGHT.fetch_sub(1, Relaxed);
    }
}

impl WorkItem<1> for Ctx {
    type Pointer = Arc<Ctx>;

    fn run(this: Arc<Ctx>) {
        this.process();
        drop(this);
        WORK_IN_FLIGHT.fetch_sub(1, Relaxed);
    }
}

/// What CTX_QUERY reports.
pub(crate) struct CtxReport {
    pub(crate) resets: u32,
    pub(crate) last_error: i32,
    pub(crate) submitted: u64,
    pub(crate) completed: u64,
}

fn ring_va(slot: u32) -> u64 {
    SLOT_BASE + u64::from(slot) * SLOT_BYTES
}

impl Ctx {
    /// A context of `engine` in `vm` with a fresh channel.
    pub(crate) fn new(
        dev: &NovaDevice,
        link: &GpuLink<'_>,
        vm: Arc<Vm>,
        engine: EngineKind,
        id: u32,
    ) -> Result<Arc<Self>> {
        let slot = vm.take_ctx_slot()?;
        let channel = match vm.with_aspace(|a| link.channel_new(a, engine, ring_va(slot))) {
            Ok(Ok(ch)) => ch,
            Ok(Err(e)) | Err(e) => {
                vm.put_ctx_slot(slot);
                return Err(e);
            }
        };
        let vm2 = vm.clone();
        Arc::pin_init(
            try_pin_init!(Ctx {
                id,
                engine,
                slot,
                vm,
                dev: dev.into(),
                fences: FenceContext::new(c"nova", c"nova-ctx"),
                channel_error: Atomic::new(0),
                dead: Atomic::new(false),
                state <- new_mutex!(CtxState {
                    channel: Some(channel),
                    queued: KVec::new(),
                    inflight: KVec::new(),
                    put: 0,
                    inflight_entries: 0,
                    next_seqno: 1,
                    resets: 0,
                    last_error: 0,
                    submitted: 0,
                    completed: 0,
                    dead: None,
                }),
                work <- new_work!("nova-drm ctx"),
                timer <- new_delayed_work!("nova-drm ctx timer"),
            }? Error),
            GFP_KERNEL,
        )
        .inspect_err(|_| vm2.put_ctx_slot(slot))
    }

    /// Whether this context's channel is `chid` on engine type `engine_type`.
    fn owns_channel(&self, engine_type: u32, chid: u32) -> bool {
        let st = self.state.lock();
        st.channel
            .as_ref()
            .is_some_and(|c| c.engine_type() == engine_type && c.chid() == chid)
    }

    /// Queues the work item (from any context).
    pub(crate) fn kick(self: &Arc<Self>) {
        WORK_IN_FLIGHT.fetch_add(1, Relaxed);
        if self.dead.load(Relaxed)
            || workqueue::system()
                .enqueue::<Arc<Ctx>, 0>(self.clone())
                .is_err()
        {
            WORK_IN_FLIGHT.fetch_sub(1, Relaxed);
        }
    }

    /// Queues the work item to run in `ms` milliseconds (the timeout check).
    fn arm_timer(self: &Arc<Self>, ms: u32) {
        WORK_IN_FLIGHT.fetch_add(1, Relaxed);
        if self.dead.load(Relaxed)
            || workqueue::system()
                .enqueue_delayed::<Arc<Ctx>, 1>(self.clone(), msecs_to_jiffies(ms))
                .is_err()
        {
            WORK_IN_FLIGHT.fetch_sub(1, Relaxed);
        }
    }

    /// A job of `pushes` waiting for `deps`; its fence is created now so it can be installed in
    /// syncobjs before the job is queued.
    pub(crate) fn new_job(&self, pushes: KVec<(u64, u32)>, deps: KVec<ARef<Fence>>) -> Result<Job> {
        let fence = self.fences.new_fence(GFP_KERNEL)?;
        Ok(Job {
            seqno: 0,
            pushes,
            fence,
            deps,
            callbacks: KVec::new(),
            started: None,
        })
    }

    /// The VM it runs in.
    pub(crate) fn vm(&self) -> &Arc<Vm> {
        &self.vm
    }

    /// Queues `job` and kicks the context.
    pub(crate) fn queue(self: &Arc<Self>, mut job: Job) -> Result {
        for dep in job.deps.iter() {
            match dep.add_callback(DepWake(self.clone()), GFP_KERNEL) {
                Ok(cb) => job.callbacks.push(cb, GFP_KERNEL)?,
                // Already signalled: nothing to wait for.
                Err(kernel::dma_fence::AddCallbackError::AlreadySignaled(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        {
            let mut st = self.state.lock();
            if let Some(end) = st.dead {
                return Err(end.errno());
            }
            job.seqno = st.next_seqno;
            st.next_seqno += 1;
            st.submitted += 1;
            st.queued.push(job, GFP_KERNEL)?;
        }
        self.kick();
        Ok(())
    }

    /// Signals the fences of completed jobs (interrupt thread or work item).
    pub(crate) fn retire(&self) -> bool {
        let mut st = self.state.lock();
        Self::retire_locked(&mut st);
        !st.queued.is_empty()
    }

    fn retire_locked(st: &mut CtxState) {
        let Some(ch) = st.channel.as_ref() else {
            return;
        };
        let done = ch.fence();
        while st.inflight.first().is_some_and(|j| j.seqno <= done) {
            let Ok(job) = st.inflight.remove(0) else {
                break;
            };
            job.fence.signal();
            st.inflight_entries -= job.entries();
            st.completed += 1;
        }
    }

    /// What CTX_QUERY reports.
    pub(crate) fn report(&self) -> CtxReport {
        let st = self.state.lock();
        CtxReport {
            resets: st.resets,
            last_error: st.last_error,
            submitted: st.submitted,
            completed: st.completed,
        }
    }

    /// The work item: errors, timeouts, retirement, submission.
    fn process(self: &Arc<Self>) {
        let dev = self.dev.clone();
        if with_link(&dev, |link| self.process_with(link)).is_none() {
            // nova-core is gone, and GSP-RM with it: nothing will complete.
            self.cancel(ENODEV);
        }
    }

    fn process_with(self: &Arc<Self>, link: &GpuLink<'_>) {
        let mut st = self.state.lock();
        if st.dead.is_some() || self.dead.load(Relaxed) {
            return;
        }
        Self::retire_locked(&mut st);

        let error = self.channel_error.xchg(0, Relaxed);
        let timed_out = st
            .inflight
            .first()
            .and_then(|j| j.started)
            .is_some_and(|t| t.elapsed() > Delta::from_millis(i64::from(JOB_TIMEOUT_MS)));
        if error != 0 {
            self.reset(link, &mut st, Error::from_errno(error));
        } else if timed_out {
            self.reset(link, &mut st, ETIMEDOUT);
        }

        self.submit(link, &mut st);

        if !st.inflight.is_empty() {
            let ms = if link.has_interrupts() { CHECK_MS } else { 1 };
            self.arm_timer(ms);
        }
    }

    /// Submits queued jobs in order while their dependencies have signalled and the ring has
    /// room.
    fn submit(&self, link: &GpuLink<'_>, st: &mut CtxState) {
        let Some(ch) = st.channel.as_ref() else {
            return;
        };
        let mut kicked = false;
        while let Some(job) = st.queued.first() {
            if !job.ready() || st.inflight_entries + job.entries() > GPFIFO_ENTRIES - 1 {
                break;
            }
            let mut put = st.put;
            let mut ok = true;
            for &(va, words) in job.pushes.iter() {
                ok &= ch.write_entry(put, va, words).is_ok();
                put = (put + 1) % GPFIFO_ENTRIES;
            }
            match ch.write_tail(job.seqno as u32, job.seqno) {
                Ok((va, words)) => ok &= ch.write_entry(put, va, words).is_ok(),
                Err(_) => ok = false,
            }
            put = (put + 1) % GPFIFO_ENTRIES;
            let Ok(mut job) = st.queued.remove(0) else {
                break;
            };
            if !ok {
                // Segments were checked at EXEC: only a kernel bug gets here.
                job.fence.signal_error(EINVAL);
                st.completed += 1;
                continue;
            }
            job.callbacks.clear();
            job.started = Some(Instant::now());
            st.put = put;
            st.inflight_entries += job.entries();
            if st.inflight.push(job, GFP_KERNEL).is_err() {
                // Could not track it: it still runs; its fence is cancelled by the drop.
                st.completed += 1;
            }
            kicked = true;
        }
        if kicked {
            if let Err(e) = link.channel_kick(ch, st.put) {
                pr_err!("nova-drm: ctx {}: doorbell failed: {:?}\n", self.id, e);
            }
        }
    }

    /// Frees the channel, fails the jobs on it with `err`, and gives the context a new channel.
    fn reset(&self, link: &GpuLink<'_>, st: &mut CtxState, err: Error) {
        let failed = st.inflight.len();
        if let Some(mut ch) = st.channel.take() {
            let _ = self.vm.with_aspace(|a| link.channel_free(a, &mut ch));
        }
        for job in st.inflight.drain_all() {
            job.fence.signal_error(err);
            st.completed += 1;
        }
        st.inflight_entries = 0;
        st.put = 0;
        st.resets += 1;
        st.last_error = err.to_errno();
        let why = if err == ETIMEDOUT {
            "job timeout"
        } else {
            "channel error"
        };
        pr_warn!(
            "nova-drm: ctx {}: channel reset ({}), {} job(s) failed\n",
            self.id,
            why,
            failed
        );
        match self
            .vm
            .with_aspace(|a| link.channel_new(a, self.engine, ring_va(self.slot)))
        {
            Ok(Ok(ch)) => st.channel = Some(ch),
            Ok(Err(e)) | Err(e) => {
                pr_err!("nova-drm: ctx {}: no new channel: {:?}\n", self.id, e);
                for job in st.queued.drain_all() {
                    job.fence.signal_error(e);
                    st.completed += 1;
                }
            }
        }
    }

    /// Fails every job with `err` without touching the GPU.
    fn cancel(&self, err: Error) {
        let mut st = self.state.lock();
        let n = st.inflight.len() + st.queued.len();
        for job in st.inflight.drain_all() {
            job.fence.signal_error(err);
        }
        for job in st.queued.drain_all() {
            job.fence.signal_error(err);
        }
        st.completed += n as u64;
        st.inflight_entries = 0;
    }

    /// Stops submitting: nothing new reaches the GPU from here on. Destroying several
    /// contexts at once stops them all first, so that cancelling one (which signals its fences
    /// with an error) cannot let a job of another, waiting on them, start.
    pub(crate) fn stop(&self) {
        self.dead.store(true, Relaxed);
    }

    /// Destroys the context for the reason `end`: cancels its jobs and frees its channel (with
    /// `link`; without it nova-core has unloaded GSP-RM and nothing runs). Idempotent.
    pub(crate) fn destroy(&self, link: Option<&GpuLink<'_>>, end: End) {
        {
            let mut st = self.state.lock();
            if st.dead.is_some() {
                return;
            }
            st.dead = Some(end);
            self.dead.store(true, Relaxed);
            if let Some(mut ch) = st.channel.take() {
                if let Some(link) = link {
                    let _ = self.vm.with_aspace(|a| link.channel_free(a, &mut ch));
                }
            }
        }
        self.cancel(ECANCELED);
        self.vm.put_ctx_slot(self.slot);
        self.dev.ctxs.remove(self);
    }
}

/// Every live context of a device: the interrupt listener walks it.
#[pin_data]
pub(crate) struct CtxRegistry {
    #[pin]
    list: Mutex<KVec<Arc<Ctx>>>,
}

impl CtxRegistry {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(CtxRegistry {
                list <- new_mutex!(KVec::new()),
            }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn add(&self, ctx: Arc<Ctx>) -> Result {
        self.list.lock().push(ctx, GFP_KERNEL)?;
        Ok(())
    }

    fn remove(&self, ctx: &Ctx) {
        self.list.lock().retain(|c| !core::ptr::eq(&**c, ctx));
    }

    /// A snapshot of the list (walked without the registry lock held).
    fn snapshot(&self) -> KVec<Arc<Ctx>> {
        let list = self.list.lock();
        let mut out = KVec::with_capacity(list.len(), GFP_KERNEL).unwrap_or_default();
        for c in list.iter() {
            if out.push(c.clone(), GFP_KERNEL).is_err() {
                break;
            }
        }
        out
    }

    /// Hands channel errors GSP-RM reported (from nova-core's interrupt thread) to the
    /// contexts they belong to: each context's work item resets its channel.
    fn channel_errors(&self, errors: &[RcTriggered]) {
        let ctxs = self.snapshot();
        for rc in errors.iter() {
            match ctxs.iter().find(|c| c.owns_channel(rc.engine_type, rc.chid)) {
                Some(c) => {
                    pr_warn!(
                        "nova-drm: ctx {}: GSP-RM stopped channel {} (error type {})\n",
                        c.id,
                        rc.chid,
                        rc.except_type
                    );
                    c.channel_error.store(EIO.to_errno(), Relaxed);
                    c.kick();
                }
                None => pr_warn!(
                    "nova-drm: GSP-RM stopped channel {} of engine type {} (no context; error type {})\n",
                    rc.chid,
                    rc.engine_type,
                    rc.except_type
                ),
            }
        }
    }

    /// Resets nothing but frees every context's channel (nova-drm unbinding, GSP-RM still up).
    pub(crate) fn shutdown(&self, link: &GpuLink<'_>) {
        let ctxs = self.snapshot();
        for c in ctxs.iter() {
            c.stop();
        }
        for c in ctxs.iter() {
            c.destroy(Some(link), End::Unbound);
        }
    }
}

/// nova-core's interrupt thread calls this.
pub(crate) struct Listener(pub(crate) Arc<CtxRegistry>);

impl EngineListener for Listener {
    fn nonstall(&self, engine: EngineKind) {
        for c in self.0.snapshot().iter().filter(|c| c.engine == engine) {
            if c.retire() {
                c.kick();
            }
        }
    }

    fn channel_error(&self, rc: &RcTriggered) {
        self.0.channel_errors(core::slice::from_ref(rc));
    }
}
