// SPDX-License-Identifier: GPL-2.0
//! Execution contexts: a GPU channel in a VM, fed by the kernel's DRM GPU scheduler.
//!
//! A [`Ctx`] owns one nova-core [`Channel`] (GSP-RM schedules the channels against each other)
//! and, in front of it, a DRM scheduler with one entity of its own ([`kernel::drm::sched`]).
//! The scheduler orders the context's jobs, holds each one until the fences it waits for have
//! signalled, limits the jobs on the GPU to what the GPFIFO ring holds (a job takes one credit
//! per ring entry), and calls [`Hw`] back:
//!
//! 1. EXEC ([`Ctx::submit`]) allocates everything a job needs (its push list and its hardware
//!    fence, [`JobData`]), adds its waits as dependencies and pushes it. The scheduler's
//!    "finished" fence is what goes into syncobjs.
//! 2. `run_job` ([`Hw`]'s [`Backend::run_job`]) writes one GPFIFO entry per push segment and
//!    the job tail (a semaphore release of the job's seqno and a non-stall interrupt,
//!    [`nova_core::pushbuf::fence_tail`]), then GP_PUT and the doorbell, and returns the
//!    hardware fence. It allocates nothing and runs in a fence signalling section.
//! 3. The non-stall interrupt reaches [`Hw::retire`] through nova-core's [`EngineListener`]
//!    (the interrupt thread): every job whose seqno the fence word has reached gets its
//!    hardware fence signalled, in order; the scheduler then signals its finished fence and
//!    frees it.
//! 4. Recovery: a job that is still on the GPU [`JOB_TIMEOUT_MS`] after the previous one
//!    finished, or a channel GSP-RM reports stopped (`RC_TRIGGERED`, which makes the scheduler
//!    check at once), reaches `timed_out`. Under the scheduler's [`Recovery`] it stops the
//!    channel through GSP-RM and fails the hardware fence of every job that had reached it
//!    (-ETIMEDOUT or -EIO). Jobs still queued behind them fail with -ECANCELED when the
//!    scheduler offers them (there is no channel); the next EXEC creates a new channel and
//!    unmaps the old one's ring (both allocate, so neither is done on the fence signalling
//!    path). Other contexts have their own channels and are not touched.
//! 5. Destruction (CTX_DESTROY, the file closing, nova-drm unbinding): the entity goes first,
//!    which kills the jobs still queued (their finished fences signal -ESRCH once what they wait
//!    for has signalled; they never run); the channel is freed and the jobs on it fail with
//!    -ECANCELED; the scheduler itself is finished on the device's teardown queue, once the
//!    killed jobs are gone, so that CTX_DESTROY does not wait for other contexts' fences.
//!
//! Locks: `Hw::state` is taken in the signalling paths (run_job, retire, the signalling part of
//! a reset) and nothing allocates or waits for a fence under it. `Ctx::queue` (the entity) and
//! `Hw::channel_lock` are only taken in ioctls and teardown, which may allocate.

use kernel::{
    dma_fence::{DriverFence, Fence, FenceContext, SignallingSection},
    drm::sched::{Backend, Entity, Job, Recovery, Scheduler, SchedulerOptions, TimeoutStatus},
    new_condvar, new_mutex, new_spinlock,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, CondVar, Mutex, SpinLock,
    },
    time::{Delta, Instant, Monotonic},
    workqueue::OwnedQueue,
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
/// Without interrupts the scheduler's timeout is this short and doubles as the completion poll.
const POLL_MS: i64 = 1;
/// First kernel VA of the context slots (`[1 MiB, 2 MiB)`, below `NOVA_GETPARAM_VA_START`).
const SLOT_BASE: u64 = 1 << 20;
/// Bytes per slot: the channel's ring area.
const SLOT_BYTES: u64 = 0x10000;
const _: () = assert!(nova_core::gpfifo::RING_BYTES as u64 == SLOT_BYTES);
/// Jobs the ring can hold at once: each takes at least one entry (its tail), and one entry
/// always stays free so that a full ring is told from an empty one.
const MAX_INFLIGHT: u32 = GPFIFO_ENTRIES - 1;

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

fn ring_va(slot: u32) -> u64 {
    SLOT_BASE + u64::from(slot) * SLOT_BYTES
}

/// What one EXEC brings: allocated at EXEC, used by `run_job` without allocating.
#[pin_data]
pub(crate) struct JobData {
    /// Push segments: GPU VA and length in words.
    pushes: KVec<(u64, u32)>,
    /// The fence `run_job` hands to the scheduler; moved to the in-flight list then.
    #[pin]
    hw_fence: SpinLock<Option<DriverFence>>,
}

/// A job on the GPU.
struct Inflight {
    seqno: u64,
    fence: DriverFence,
    /// When it reached the GPU.
    started: Instant<Monotonic>,
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

struct HwState {
    /// The channel jobs run on; `None` after a reset until the next EXEC, and once dead.
    channel: Option<Channel>,
    /// A channel stopped by a reset whose ring is still mapped (unmapped at the next EXEC).
    stopped: Option<Channel>,
    /// A reset is stopping the channel: EXEC waits before it makes a new one.
    resetting: bool,
    /// On the GPU, in order; never grows past its capacity ([`MAX_INFLIGHT`]).
    inflight: KVec<Inflight>,
    /// Next GPFIFO entry to write.
    put: u32,
    next_seqno: u64,
    resets: u32,
    last_error: i32,
    submitted: u64,
    completed: u64,
    /// Destroyed, and why.
    dead: Option<End>,
}

/// A context's hardware side: its channel and the jobs on it. The scheduler's backend.
#[pin_data]
pub(crate) struct Hw {
    id: u32,
    engine: EngineKind,
    ring_slot: u32,
    vm: Arc<Vm>,
    dev: ARef<NovaDevice>,
    fences: FenceContext,
    /// Set by the error dispatch (an `RC_TRIGGERED` for our channel): errno to reset with.
    channel_error: Atomic<i32>,
    /// No completion interrupts: the scheduler's timeout is the completion poll.
    polling: bool,
    #[pin]
    state: Mutex<HwState>,
    /// Signalled when a reset has stopped the channel.
    #[pin]
    reset_done: CondVar,
    /// Serialises making a new channel (EXEC) and freeing the old one.
    #[pin]
    channel_lock: Mutex<()>,
}

/// The scheduler's backend: the context's hardware side.
pub(crate) struct HwBackend(Arc<Hw>);

/// What CTX_QUERY reports.
pub(crate) struct CtxReport {
    pub(crate) resets: u32,
    pub(crate) last_error: i32,
    pub(crate) submitted: u64,
    pub(crate) completed: u64,
}

impl Hw {
    /// Signals the hardware fences of the jobs the fence word has reached (interrupt thread,
    /// `run_job`, the timeout handler).
    fn retire(&self) {
        let _section = SignallingSection::begin();
        let mut st = self.state.lock();
        Self::retire_locked(&mut st);
    }

    fn retire_locked(st: &mut HwState) {
        let Some(ch) = st.channel.as_ref() else {
            return;
        };
        let done = ch.fence();
        let n = st.inflight.iter().take_while(|j| j.seqno <= done).count();
        for _ in 0..n {
            if let Ok(job) = st.inflight.remove(0) {
                job.fence.signal();
                st.completed += 1;
            }
        }
    }

    /// Puts `job` on the channel: the scheduler's `run_job`, in a signalling section.
    fn run(&self, job: &Job<JobData>) -> Result<ARef<Fence>> {
        let data = job.data();
        let Some(fence) = data.hw_fence.lock().take() else {
            // Each job is run once.
            return Err(EINVAL);
        };
        let ret = fence.as_fence();
        let mut st = self.state.lock();
        let no_channel = match st.dead {
            Some(_) => true,
            None => st.channel.is_none(),
        };
        if no_channel || st.inflight.len() >= MAX_INFLIGHT as usize {
            // Destroyed, or reset with this job queued: it does not run.
            fence.signal_error(ECANCELED);
            st.completed += 1;
            return Ok(ret);
        }
        let Some(ch) = st.channel.as_ref() else {
            return Err(ECANCELED);
        };
        let seqno = st.next_seqno;
        let mut put = st.put;
        let mut ok = true;
        for &(va, words) in data.pushes.iter() {
            ok &= ch.write_entry(put, va, words).is_ok();
            put = (put + 1) % GPFIFO_ENTRIES;
        }
        match ch.write_tail(seqno as u32, seqno) {
            Ok((va, words)) => ok &= ch.write_entry(put, va, words).is_ok(),
            Err(_) => ok = false,
        }
        put = (put + 1) % GPFIFO_ENTRIES;
        if !ok {
            // Segments were checked at EXEC: only a kernel bug gets here.
            fence.signal_error(EINVAL);
            st.completed += 1;
            return Ok(ret);
        }
        let kicked = with_link(&self.dev, |link| link.channel_kick(ch, put));
        match kicked {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                pr_err!("nova-drm: ctx {}: doorbell failed: {:?}\n", self.id, e);
                fence.signal_error(EIO);
                st.completed += 1;
                return Ok(ret);
            }
            None => {
                // nova-core is gone, and GSP-RM with it: nothing will run.
                fence.signal_error(ENODEV);
                st.completed += 1;
                return Ok(ret);
            }
        }
        st.put = put;
        st.next_seqno += 1;
        if let Err(e) = st.inflight.push_within_capacity(Inflight {
            seqno,
            fence,
            started: Instant::now(),
        }) {
            // Cannot happen: the scheduler's credits keep the ring (and this list) from
            // overflowing, and the length was checked above.
            let lost = e.0;
            lost.fence.signal_error(EIO);
            st.completed += 1;
        }
        Ok(ret)
    }

    /// The scheduler's timeout handler.
    fn timed_out(&self, recovery: Recovery<'_, HwBackend>) -> TimeoutStatus {
        // A completion the interrupt has not delivered yet (or, without interrupts, the poll).
        self.retire();
        let error = self.channel_error.load(Relaxed);
        {
            let st = self.state.lock();
            if st.dead.is_some() || st.inflight.is_empty() {
                return TimeoutStatus::NoHang;
            }
        }
        if error == 0 && !self.hung() {
            return TimeoutStatus::NoHang;
        }
        self.channel_error.store(0, Relaxed);
        let err = if error != 0 {
            Error::from_errno(error)
        } else {
            ETIMEDOUT
        };
        recovery.reset(err, || self.reset(err))
    }

    /// Whether the oldest job on the GPU is hung. With interrupts the scheduler's timer is the
    /// job timeout itself; without, it is the poll period and the job's own start counts.
    fn hung(&self) -> bool {
        if !self.polling {
            return true;
        }
        let st = self.state.lock();
        st.inflight
            .first()
            .is_none_or(|j| j.started.elapsed() > Delta::from_millis(i64::from(JOB_TIMEOUT_MS)))
    }

    /// Stops the channel and fails the jobs that had reached it with `err`. Runs with the
    /// scheduler stopped ([`Recovery::reset`]).
    fn reset(&self, err: Error) {
        let channel = {
            let mut st = self.state.lock();
            st.resetting = true;
            st.channel.take()
        };
        // GSP-RM preempts the channel and frees its objects. This is an RPC: outside the
        // signalling section below, and outside the state lock.
        let mut stopped = channel;
        if let Some(ch) = stopped.as_mut() {
            let _ = with_link(&self.dev, |link| link.channel_stop(ch));
        }
        let _section = SignallingSection::begin();
        let mut st = self.state.lock();
        let failed = st.inflight.len();
        for job in st.inflight.drain_all() {
            job.fence.signal_error(err);
        }
        st.completed += failed as u64;
        st.put = 0;
        st.resets += 1;
        st.last_error = err.to_errno();
        // The old ring stays mapped until the next EXEC: unmapping takes the VM's lock.
        if st.stopped.is_none() {
            st.stopped = stopped.take();
        }
        st.resetting = false;
        drop(st);
        self.reset_done.notify_all();
        drop(_section);
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
        // Only if a stopped channel was still waiting for its unmap (cannot happen: EXEC unmaps
        // it before it makes the next channel): it goes now, its ring left mapped.
        drop(stopped);
    }

    /// Fails the jobs on the GPU with `err`.
    fn cancel_inflight(&self, err: Error) {
        let _section = SignallingSection::begin();
        let mut st = self.state.lock();
        let n = st.inflight.len();
        for job in st.inflight.drain_all() {
            job.fence.signal_error(err);
        }
        st.completed += n as u64;
    }

    /// Makes sure the context has a channel for the next job: after a reset, unmaps the old
    /// one's ring and makes a new one. Called from EXEC, where allocating is fine.
    fn ensure_channel(&self, link: &GpuLink<'_>) -> Result {
        let _creating = self.channel_lock.lock();
        let stopped = {
            let mut st = self.state.lock();
            while st.resetting {
                self.reset_done.wait(&mut st);
            }
            if let Some(end) = st.dead {
                return Err(end.errno());
            }
            if st.channel.is_some() {
                return Ok(());
            }
            st.stopped.take()
        };
        if let Some(mut old) = stopped {
            self.vm.with_aspace(|a| link.channel_free(a, &mut old))?;
        }
        let ch = self
            .vm
            .with_aspace(|a| link.channel_new(a, self.engine, ring_va(self.ring_slot)))??;
        let mut st = self.state.lock();
        if st.dead.is_some() {
            drop(st);
            let mut ch = ch;
            let _ = self.vm.with_aspace(|a| link.channel_free(a, &mut ch));
            return Err(ENOENT);
        }
        st.channel = Some(ch);
        st.put = 0;
        Ok(())
    }

    /// Marks the context dead for the reason `end` (unbind wins over the others): EXEC fails
    /// from here on, and `run_job` fails the jobs it is offered.
    fn mark_dead(&self, end: End) {
        let mut st = self.state.lock();
        st.dead = match (st.dead, end) {
            (_, End::Unbound) => Some(End::Unbound),
            (Some(e), _) => Some(e),
            (None, e) => Some(e),
        };
    }

    /// Frees the channels (through `link`; without it nova-core has unloaded GSP-RM and
    /// nothing runs), after a reset that is stopping one has done so.
    fn free_channels(&self, link: Option<&GpuLink<'_>>) {
        let _creating = self.channel_lock.lock();
        let (channel, stopped) = {
            let mut st = self.state.lock();
            while st.resetting {
                self.reset_done.wait(&mut st);
            }
            (st.channel.take(), st.stopped.take())
        };
        if let Some(link) = link {
            for mut ch in [channel, stopped].into_iter().flatten() {
                let _ = self.vm.with_aspace(|a| link.channel_free(a, &mut ch));
            }
        }
    }

    fn report(&self) -> CtxReport {
        let st = self.state.lock();
        CtxReport {
            resets: st.resets,
            last_error: st.last_error,
            submitted: st.submitted,
            completed: st.completed,
        }
    }
}

impl Backend for HwBackend {
    type JobData = JobData;

    fn run_job(&self, job: &Job<JobData>) -> Result<ARef<Fence>> {
        self.0.run(job)
    }

    fn timed_out(&self, _job: &Job<JobData>, recovery: Recovery<'_, Self>) -> TimeoutStatus {
        self.0.timed_out(recovery)
    }

    fn cancel_job(&self, _job: &Job<JobData>) {
        // The scheduler is being finished: the context is dead and its channel freed.
        self.0.cancel_inflight(ECANCELED);
    }
}

/// An execution context.
#[pin_data]
pub(crate) struct Ctx {
    /// Id in its file.
    pub(crate) id: u32,
    pub(crate) engine: EngineKind,
    hw: Arc<Hw>,
    /// The context's queue on its scheduler; `None` once destroyed.
    #[pin]
    queue: Mutex<Option<Pin<KBox<Entity<HwBackend>>>>>,
    /// The scheduler, until destruction hands it to `teardown`.
    #[pin]
    sched: Mutex<Option<Arc<Scheduler<HwBackend>>>>,
    /// Where the scheduler is finished. nova-drm's binding holds it too until unbind, which
    /// drains it; after that the last context to go drains it. Nothing that runs on it holds a
    /// context, so it is never dropped by its own work items.
    teardown: Arc<OwnedQueue>,
}

impl Ctx {
    /// A context of `engine` in `vm` with a fresh channel, whose scheduler is finished on
    /// `teardown` when it is destroyed.
    pub(crate) fn new(
        dev: &NovaDevice,
        link: &GpuLink<'_>,
        vm: Arc<Vm>,
        engine: EngineKind,
        id: u32,
        teardown: Arc<OwnedQueue>,
    ) -> Result<Arc<Self>> {
        let slot = vm.take_ctx_slot()?;
        let hw = Self::new_hw(dev, &vm, engine, id, slot, !link.has_interrupts());
        let hw = match hw {
            Ok(hw) => hw,
            Err(e) => {
                vm.put_ctx_slot(slot);
                return Err(e);
            }
        };
        let undo = |e: Error| {
            hw.mark_dead(End::Destroyed);
            hw.free_channels(Some(link));
            vm.put_ctx_slot(slot);
            e
        };
        hw.ensure_channel(link).map_err(undo)?;
        let timeout = if !hw.polling {
            Delta::from_millis(i64::from(JOB_TIMEOUT_MS))
        } else {
            Delta::from_millis(POLL_MS)
        };
        let pdev: &kernel::pci::Device = dev.as_ref();
        let sched = Arc::pin_init(
            Scheduler::new(
                ARef::from(AsRef::<kernel::device::Device>::as_ref(pdev)),
                SchedulerOptions {
                    name: c"nova-ctx",
                    credit_limit: MAX_INFLIGHT,
                    timeout: Some(timeout),
                },
                HwBackend(hw.clone()),
            ),
            GFP_KERNEL,
        )
        .map_err(undo)?;
        let entity = KBox::pin_init(Entity::new(sched.clone()), GFP_KERNEL).map_err(undo)?;
        let hw2 = hw.clone();
        Arc::pin_init(
            pin_init!(Ctx {
                id,
                engine,
                hw: hw2,
                queue <- new_mutex!(Some(entity)),
                sched <- new_mutex!(Some(sched)),
                teardown,
            }),
            GFP_KERNEL,
        )
        .map_err(undo)
    }

    fn new_hw(
        dev: &NovaDevice,
        vm: &Arc<Vm>,
        engine: EngineKind,
        id: u32,
        ctx_slot: u32,
        polling: bool,
    ) -> Result<Arc<Hw>> {
        let inflight = KVec::with_capacity(MAX_INFLIGHT as usize, GFP_KERNEL)?;
        let state = HwState {
            channel: None,
            stopped: None,
            resetting: false,
            inflight,
            put: 0,
            next_seqno: 1,
            resets: 0,
            last_error: 0,
            submitted: 0,
            completed: 0,
            dead: None,
        };
        Arc::pin_init(
            pin_init!(Hw {
                id,
                engine,
                ring_slot: ctx_slot,
                vm: vm.clone(),
                dev: dev.into(),
                fences: FenceContext::new(c"nova", c"nova-ctx"),
                channel_error: Atomic::new(0),
                polling,
                state <- new_mutex!(state),
                reset_done <- new_condvar!(),
                channel_lock <- new_mutex!(()),
            }),
            GFP_KERNEL,
        )
    }

    /// The VM it runs in.
    pub(crate) fn vm(&self) -> &Arc<Vm> {
        &self.hw.vm
    }

    /// Whether this context's channel is `chid` on engine type `engine_type`.
    fn owns_channel(&self, engine_type: u32, chid: u32) -> bool {
        let st = self.hw.state.lock();
        st.channel
            .as_ref()
            .is_some_and(|c| c.engine_type() == engine_type && c.chid() == chid)
    }

    /// EXEC: a job of `pushes` waiting for `deps`, queued on the context's scheduler. Returns
    /// its finished fence, for the signal syncobjs.
    pub(crate) fn submit(
        &self,
        link: &GpuLink<'_>,
        pushes: KVec<(u64, u32)>,
        deps: KVec<ARef<Fence>>,
    ) -> Result<ARef<Fence>> {
        self.hw.ensure_channel(link)?;
        let credits = u32::try_from(pushes.len() + 1).map_err(|_| EINVAL)?;
        if credits > MAX_INFLIGHT {
            return Err(EINVAL);
        }
        let hw_fence = self.hw.fences.new_fence(GFP_KERNEL)?;
        let queue = self.queue.lock();
        let Some(entity) = queue.as_ref() else {
            let dead = self.hw.state.lock().dead;
            return Err(dead.map_or(ENOENT, End::errno));
        };
        let mut job = entity.new_job(
            try_pin_init!(JobData {
                pushes,
                hw_fence <- new_spinlock!(Some(hw_fence)),
            }? Error),
            credits,
            GFP_KERNEL,
        )?;
        for dep in deps {
            job.add_dependency(dep)?;
        }
        self.hw.state.lock().submitted += 1;
        Ok(job.push())
    }

    /// What CTX_QUERY reports.
    pub(crate) fn report(&self) -> CtxReport {
        self.hw.report()
    }

    /// Stops taking jobs: EXECs from here on fail, and jobs not on the GPU yet never get there.
    /// Destroying several contexts at once stops them all first, so that cancelling one cannot
    /// let a job of another, waiting on it, start.
    pub(crate) fn stop(&self) {
        self.hw.mark_dead(End::Destroyed);
    }

    /// Destroys the context for the reason `end`: kills its queued jobs, frees its channel
    /// (with `link`) and fails the jobs that were on it with -ECANCELED, and hands its scheduler
    /// to the teardown queue. Idempotent.
    pub(crate) fn destroy(&self, link: Option<&GpuLink<'_>>, end: End) {
        let Some(entity) = self.queue.lock().take() else {
            return;
        };
        self.hw.mark_dead(end);
        // The jobs still queued are killed (they never run).
        drop(entity);
        self.hw.free_channels(link);
        self.hw.cancel_inflight(ECANCELED);
        self.hw.vm.put_ctx_slot(self.hw.ring_slot);
        self.hw.dev.ctxs.remove(self);
        let sched = self.sched.lock().take();
        if let Some(sched) = sched {
            // Finishing the scheduler waits for the killed jobs, i.e. for what they wait for:
            // not here (CTX_DESTROY returns at once).
            if let Err(e) = self.teardown.try_spawn(GFP_KERNEL, move || drop(sched)) {
                pr_warn!(
                    "nova-drm: ctx {}: finishing its scheduler inline ({:?})\n",
                    self.id,
                    e
                );
            }
        }
    }
}

/// Every live context of a device: the interrupt listener walks it.
#[pin_data]
pub(crate) struct CtxRegistry {
    #[pin]
    list: Mutex<KVec<Arc<Ctx>>>,
    /// Where destroyed contexts' schedulers are finished, while nova-drm is bound.
    #[pin]
    teardown: Mutex<Option<Arc<OwnedQueue>>>,
}

impl CtxRegistry {
    pub(crate) fn new() -> Result<Arc<Self>> {
        let queue = OwnedQueue::new(
            c"nova-drm-teardown",
            kernel::bindings::wq_flags_WQ_UNBOUND,
            0,
        )?;
        let queue = Arc::new(queue, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(CtxRegistry {
                list <- new_mutex!(KVec::new()),
                teardown <- new_mutex!(Some(queue)),
            }),
            GFP_KERNEL,
        )
    }

    /// The teardown queue for a new context (-ENODEV once nova-drm is unbinding).
    pub(crate) fn teardown(&self) -> Result<Arc<OwnedQueue>> {
        self.teardown.lock().clone().ok_or(ENODEV)
    }

    /// Adds `ctx`. The list grows outside its lock: the interrupt thread takes that lock to
    /// signal fences, so nothing may allocate under it.
    pub(crate) fn add(&self, ctx: Arc<Ctx>) -> Result {
        loop {
            let want = {
                let mut list = self.list.lock();
                if list.len() < list.capacity() {
                    if list.push_within_capacity(ctx).is_err() {
                        return Err(ENOMEM);
                    }
                    return Ok(());
                }
                list.len() * 2 + 8
            };
            let mut bigger = KVec::with_capacity(want, GFP_KERNEL)?;
            let mut list = self.list.lock();
            if list.len() >= list.capacity() && list.len() < want {
                for c in list.drain_all() {
                    if bigger.push_within_capacity(c).is_err() {
                        return Err(ENOMEM);
                    }
                }
                core::mem::swap(&mut *list, &mut bigger);
            }
            // The old (empty) allocation is freed outside the lock.
            drop(list);
            drop(bigger);
        }
    }

    fn remove(&self, ctx: &Ctx) {
        self.list.lock().retain(|c| !core::ptr::eq(&**c, ctx));
    }

    /// Runs `f` on each context, the registry lock held: `f` must not take it, allocate, or
    /// drop a context.
    fn for_each(&self, mut f: impl FnMut(&Arc<Ctx>)) {
        for c in self.list.lock().iter() {
            f(c);
        }
    }

    /// A snapshot of the list (walked without the registry lock held). Allocates outside the
    /// lock, which the interrupt thread takes to signal fences.
    fn snapshot(&self) -> Result<KVec<Arc<Ctx>>> {
        loop {
            let len = self.list.lock().len();
            let mut out = KVec::with_capacity(len, GFP_KERNEL)?;
            let list = self.list.lock();
            if list.len() > out.capacity() {
                continue;
            }
            for c in list.iter() {
                if out.push_within_capacity(c.clone()).is_err() {
                    return Err(ENOMEM);
                }
            }
            return Ok(out);
        }
    }

    /// Hands channel errors GSP-RM reported (from nova-core's interrupt thread) to the
    /// contexts they belong to: the context's scheduler runs its timeout handler at once,
    /// which resets the channel.
    fn channel_errors(&self, errors: &[RcTriggered]) {
        for rc in errors.iter() {
            let mut found = false;
            self.for_each(|c| {
                if found || !c.owns_channel(rc.engine_type, rc.chid) {
                    return;
                }
                found = true;
                pr_warn!(
                    "nova-drm: ctx {}: GSP-RM stopped channel {} (error type {})\n",
                    c.id,
                    rc.chid,
                    rc.except_type
                );
                c.hw.channel_error.store(EIO.to_errno(), Relaxed);
                if let Some(s) = c.sched.lock().as_ref() {
                    s.fault();
                }
            });
            if !found {
                pr_warn!(
                    "nova-drm: GSP-RM stopped channel {} of engine type {} (no context; error type {})\n",
                    rc.chid,
                    rc.engine_type,
                    rc.except_type
                );
            }
        }
    }

    /// Destroys every context (nova-drm unbinding, GSP-RM still up).
    pub(crate) fn shutdown(&self, link: &GpuLink<'_>) {
        // Without memory for the snapshot, one context at a time.
        let Ok(ctxs) = self.snapshot() else {
            loop {
                let first = self.list.lock().first().cloned();
                let Some(c) = first else { return };
                c.stop();
                c.destroy(Some(link), End::Unbound);
            }
        };
        for c in ctxs.iter() {
            c.stop();
        }
        for c in ctxs.iter() {
            c.destroy(Some(link), End::Unbound);
        }
    }

    /// Lets go of the teardown queue (unbind, after [`CtxRegistry::shutdown`]). Whoever drops
    /// the last reference (this, or the last context of a file still open) waits for the
    /// schedulers queued on it to be finished.
    pub(crate) fn release_teardown(&self) {
        let queue = self.teardown.lock().take();
        drop(queue);
    }
}

/// nova-core's interrupt thread calls this.
pub(crate) struct Listener {
    pub(crate) ctxs: Arc<CtxRegistry>,
}

impl EngineListener for Listener {
    fn nonstall(&self, engine: EngineKind) {
        // Fence signalling: nothing allocates here (the registry never allocates under its
        // lock) and no context is dropped.
        let _section = SignallingSection::begin();
        self.ctxs.for_each(|c| {
            if c.engine == engine {
                c.hw.retire();
            }
        });
    }

    fn channel_error(&self, rc: &RcTriggered) {
        self.ctxs.channel_errors(core::slice::from_ref(rc));
    }
}
