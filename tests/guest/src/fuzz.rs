// SPDX-License-Identifier: GPL-2.0
//! Suite "fuzz": a bounded, seeded ioctl fuzzer of the nova render node (issue #19).
//!
//! One run makes random calls, mostly plausible and often malformed, of every nova ioctl, the
//! DRM core's syncobj and PRIME ioctls and GEM_CLOSE, mmap of GEM objects, plus: forked children
//! that keep calling on the shared file while the parent goes on (a child destroying a context
//! the parent EXECs on, say), second files closed with jobs in flight, the main file closed and
//! reopened, and nova-core unbound and rebound mid-run with files open and jobs queued.
//!
//! Every failing call's errno must be one the uAPI documents for it (`uapi/README.md`,
//! `uapi/nova_drm.h`; for the core ioctls the errnos the DRM core gives). `ENODEV` is only
//! accepted on a file opened before an unbind: while the GPU is there, nothing is "gone".
//! A call that takes longer than [`HANG`] counts as a hang. The VM harness adds the dmesg
//! splat and kmemleak checks; [`tests`] checks dmesg as well, for a named result.
//!
//! The environment sets the run: `FUZZ_SEED` (default 19), `FUZZ_CALLS` (most calls of the
//! parent, default 20000), `FUZZ_SECS` (time limit, default 60), `FUZZ_UNBINDS` (unbind/rebind
//! cycles, spread over the run, default 1). The same seed makes the same choices; how far a
//! run gets within the time limit depends on the machine.

use crate::exec::{gpu, run_ok, start, Buf, PushBuf, VaAlloc};
use crate::util::{align_up, check, errno_str, splats, Ctx};
use crate::Test;
use libnova::drm::{self as d, DrmPrimeHandle};
use libnova::push::SUBC_COPY;
use libnova::{raw, uapi, Context, Device, Engine, Error, Info, Mapping, Placement, Push, Vm};
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests, in run order: the first runs the fuzzer, the others judge what it saw.
pub fn tests() -> Vec<Test> {
    vec![
        ("errnos_documented", errnos_documented),
        ("no_call_hangs", no_call_hangs),
        ("children_clean", children_clean),
        ("unbind_rebind_mid_run", unbind_rebind),
        ("gpu_works_after", gpu_works_after),
        ("no_kernel_splat", no_kernel_splat),
    ]
}

/// A call slower than this is a hang (waits use deadlines of at most a few ms).
const HANG: Duration = Duration::from_secs(20);
/// Most children alive at once.
const MAX_CHILDREN: usize = 2;
/// Most GEM objects and contexts a world keeps (the guest has 1 GiB of RAM).
const MAX_BOS: usize = 32;
const MAX_CTXS: usize = 24;
/// Most violations kept for the report (all are counted).
const KEEP: usize = 20;
const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// What the run saw; the tests after the first read it.
#[derive(Default)]
struct Report {
    seed: u64,
    calls: u64,
    violations: Vec<String>,
    violation_count: u64,
    slow: Vec<String>,
    children: u32,
    children_failed: Vec<String>,
    unbinds: u64,
    unbinds_wanted: u64,
    unbind_error: Option<String>,
    splats_before: usize,
    setup_error: Option<String>,
}

static REPORT: Mutex<Option<Report>> = Mutex::new(None);

// --- randomness ----------------------------------------------------------------------------

/// splitmix64: small, seedable, good enough to pick calls.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.below(v.len() as u64) as usize])
        }
    }

    /// A u32 that is usually "interesting": 0, 1, small, a boundary, or anything.
    fn u32ish(&mut self) -> u32 {
        match self.below(6) {
            0 => 0,
            1 => 1,
            2 => self.below(64) as u32,
            3 => self
                .pick(&[0x7fff_ffff, 0x8000_0000, u32::MAX, 0x1000_0000, 1 << 20])
                .unwrap_or(0),
            _ => self.next() as u32,
        }
    }

    /// A size: mostly page multiples, sometimes odd, zero or huge.
    fn size(&mut self) -> u64 {
        match self.below(10) {
            0 => 0,
            1 => self.below(8192) + 1,
            2 => self
                .pick(&[1 << 40, u64::MAX, u64::MAX - 4095, 1 << 34])
                .unwrap_or(0),
            3 => (self.below(16) + 1) * 64 * KIB,
            4 => 2 * MIB,
            _ => (self.below(16) + 1) * 4 * KIB,
        }
    }
}

// --- statistics ----------------------------------------------------------------------------

/// Calls of one operation and how they ended.
#[derive(Default)]
struct OpStats {
    calls: u64,
    ok: u64,
    errnos: BTreeMap<i32, u64>,
    slowest: Duration,
}

/// Per-operation statistics and the violations found.
#[derive(Default)]
struct Stats {
    ops: BTreeMap<&'static str, OpStats>,
    violations: Vec<String>,
    violation_count: u64,
    slow: Vec<String>,
}

impl Stats {
    fn total(&self) -> u64 {
        self.ops.values().map(|s| s.calls).sum()
    }

    fn violation(&mut self, what: String) {
        self.violation_count += 1;
        if self.violations.len() < KEEP {
            self.violations.push(what);
        }
    }

    fn print(&self, who: &str) {
        println!("fuzz: {who}: {} calls", self.total());
        for (op, s) in &self.ops {
            let errs: Vec<String> = s
                .errnos
                .iter()
                .map(|(e, n)| format!("{} {n}", errno_str(*e)))
                .collect();
            println!(
                "fuzz:   {op:<22} {:>7} calls {:>7} ok  {}",
                s.calls,
                s.ok,
                errs.join("  ")
            );
        }
    }
}

/// The errnos each operation may fail with (besides `ENODEV` on a file from before an unbind).
fn allowed(op: &str) -> &'static [i32] {
    use libc::*;
    match op {
        "GETPARAM" => &[EINVAL],
        "GEM_CREATE" => &[EINVAL, ENOSPC, ENOMEM],
        "GEM_INFO" => &[ENOENT],
        "GEM_MMAP_OFFSET" => &[ENOENT, EINVAL],
        "VM_CREATE" => &[EINVAL, ENOSPC, ENOMEM],
        "VM_DESTROY" => &[ENOENT, EINVAL, EBUSY],
        "VM_BIND" => &[EINVAL, ENOENT, ENOSPC, ENOMEM, EFAULT],
        "CTX_CREATE" => &[ENOENT, EINVAL, EOPNOTSUPP, ENOSPC, ENOMEM],
        "CTX_DESTROY" | "CTX_QUERY" => &[ENOENT, EINVAL],
        "EXEC" => &[EINVAL, ENOENT, EFAULT, ENOMEM],
        // The DRM core: unknown handle or non-zero pad.
        "GEM_CLOSE" => &[EINVAL],
        "PRIME_HANDLE_TO_FD" => &[ENOENT, EINVAL, EOPNOTSUPP],
        "PRIME_FD_TO_HANDLE" => &[EINVAL, EBADF, ENOMEM],
        "SYNCOBJ_CREATE" => &[EINVAL, ENOMEM],
        "SYNCOBJ_DESTROY" => &[EINVAL],
        "SYNCOBJ_HANDLE_TO_FD" | "SYNCOBJ_FD_TO_HANDLE" => &[EINVAL, ENOENT, EBADF, ENOMEM],
        "SYNCOBJ_WAIT" | "SYNCOBJ_TIMELINE_WAIT" => &[EINVAL, ENOENT, ETIME, EFAULT, ENOMEM],
        "SYNCOBJ_RESET" | "SYNCOBJ_SIGNAL" | "SYNCOBJ_TIMELINE_SIGNAL" | "SYNCOBJ_QUERY" => {
            &[EINVAL, ENOENT, EFAULT, ENOMEM]
        }
        "SYNCOBJ_TRANSFER" => &[EINVAL, ENOENT, ENOMEM],
        "mmap" => &[EINVAL, ENOMEM, ENOSPC],
        _ => &[],
    }
}

// --- the world the calls act on --------------------------------------------------------------

/// A VM's push area: a system-memory object at `va` holding ready push programs, and their
/// lengths in bytes (copy, 2D, hang).
#[derive(Clone, Copy)]
struct PushArea {
    va: u64,
    len: [u32; 3],
}

/// Byte offsets of the programs in a push area, and where their semaphores land.
const PROG_COPY: u64 = 0;
const PROG_2D: u64 = 0x1000;
const PROG_GARBAGE: u64 = 0x2000;
const PROG_NOP: u64 = 0x3000;
const PROG_HANG: u64 = 0x4000;
const SEM_AT: u64 = 0xf000;
const AREA: u64 = 64 * KIB;

/// What one process knows of one file: the ids and handles it made (others may be gone: a
/// child shares the file and destroys things too).
struct World {
    dev: Device,
    /// Opened before the last unbind: every call may fail with ENODEV.
    stale: bool,
    info: Info,
    bos: Vec<(u32, u64)>,
    vms: Vec<u32>,
    areas: HashMap<u32, PushArea>,
    ctxs: Vec<(u32, u32, Engine)>,
    syncobjs: Vec<u32>,
    /// Highest point added to each timeline.
    points: HashMap<u32, u64>,
    dmabufs: Vec<OwnedFd>,
    syncobj_fds: Vec<OwnedFd>,
    sync_files: Vec<OwnedFd>,
    maps: Vec<Mapping>,
}

impl World {
    fn new(dev: Device, info: Info) -> World {
        World {
            dev,
            stale: false,
            info,
            bos: Vec::new(),
            vms: Vec::new(),
            areas: HashMap::new(),
            ctxs: Vec::new(),
            syncobjs: Vec::new(),
            points: HashMap::new(),
            dmabufs: Vec::new(),
            syncobj_fds: Vec::new(),
            sync_files: Vec::new(),
            maps: Vec::new(),
        }
    }
}

/// Records one call's outcome and checks its errno.
fn note<T>(st: &mut Stats, w: &World, op: &'static str, t: Instant, r: &Result<T, Error>) {
    let took = t.elapsed();
    let s = st.ops.entry(op).or_default();
    s.calls += 1;
    s.slowest = s.slowest.max(took);
    match r {
        Ok(_) => s.ok += 1,
        Err(e) => {
            *s.errnos.entry(e.errno()).or_default() += 1;
            let ok = allowed(op).contains(&e.errno()) || (w.stale && e.errno() == libc::ENODEV);
            if !ok {
                let stale = if w.stale { " (stale file)" } else { "" };
                st.violation(format!("{op}: {}{stale}", errno_str(e.errno())));
            }
        }
    }
    if took > HANG {
        st.slow.push(format!("{op} took {took:?}"));
    }
}

/// Runs `f` as operation `op`: timed, counted, checked.
fn call<T>(
    st: &mut Stats,
    w: &World,
    op: &'static str,
    f: impl FnOnce() -> Result<T, Error>,
) -> Option<T> {
    let t = Instant::now();
    let r = f();
    note(st, w, op, t, &r);
    r.ok()
}

/// A handle: usually one we made, sometimes anything.
fn some_handle(rng: &mut Rng, known: &[u32]) -> u32 {
    if !known.is_empty() && !rng.one_in(6) {
        rng.pick(known).unwrap_or(0)
    } else {
        rng.u32ish()
    }
}

/// A user pointer the kernel cannot read, or `good`.
fn maybe_bad_ptr(rng: &mut Rng, good: u64) -> u64 {
    if rng.one_in(40) {
        rng.pick(&[0, 8, 0xffff_ffff_ffff_f000, 0x7fff_0000_0000])
            .unwrap_or(0)
    } else {
        good
    }
}

// --- one random call ------------------------------------------------------------------------

/// Makes one random call (or a small sequence that belongs together) on `w`.
fn step(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    match rng.below(100) {
        0..=3 => getparam(rng, st, w),
        4..=11 => gem_create(rng, st, w),
        12..=14 => gem_info(rng, st, w),
        15..=19 => gem_mmap(rng, st, w),
        20..=22 => gem_close(rng, st, w),
        23..=25 => vm_create(rng, st, w),
        26..=27 => vm_destroy(rng, st, w),
        28..=37 => vm_bind(rng, st, w),
        38..=41 => ctx_create(rng, st, w),
        42..=43 => ctx_destroy(rng, st, w),
        44..=45 => ctx_query(rng, st, w),
        46..=61 => exec(rng, st, w),
        62..=66 => prime(rng, st, w),
        _ => syncobj(rng, st, w),
    }
}

fn getparam(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let param = if rng.one_in(5) {
        u64::from(rng.u32ish())
    } else {
        rng.below(17)
    };
    let mut a = uapi::DrmNovaGetparam { param, value: 0 };
    call(st, w, "GETPARAM", || raw::getparam(&w.dev, &mut a));
}

fn gem_create(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    // Bounded memory: past MAX_BOS objects, close the oldest instead.
    if w.bos.len() >= MAX_BOS {
        let handle = w.bos[0].0;
        let mut a = d::DrmGemClose { handle, pad: 0 };
        // SAFETY: GEM_CLOSE takes a drm_gem_close and touches nothing else.
        call(st, w, "GEM_CLOSE", || unsafe {
            w.dev.ioctl("GEM_CLOSE", d::DRM_IOCTL_GEM_CLOSE, &mut a)
        });
        w.bos.remove(0);
        return;
    }
    let vram = rng.one_in(3);
    let flags = if rng.one_in(20) {
        rng.u32ish()
    } else {
        u32::from(vram) * uapi::NOVA_GEM_CREATE_VRAM
    };
    let align = match rng.below(8) {
        0 if vram => 2 * MIB,
        1 => 1 << rng.below(40),
        2 => rng.below(1 << 22),
        _ => 0,
    };
    let mut a = uapi::DrmNovaGemCreate {
        size: rng.size(),
        flags,
        handle: 0,
        align,
    };
    if call(st, w, "GEM_CREATE", || raw::gem_create(&w.dev, &mut a)).is_some() {
        w.bos.push((a.handle, a.size));
    }
}

fn handles(w: &World) -> Vec<u32> {
    w.bos.iter().map(|b| b.0).collect()
}

fn gem_info(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let mut a = uapi::DrmNovaGemInfo {
        handle: some_handle(rng, &handles(w)),
        flags: 0,
        size: 0,
    };
    call(st, w, "GEM_INFO", || raw::gem_info(&w.dev, &mut a));
}

fn gem_mmap(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let handle = some_handle(rng, &handles(w));
    let pad = if rng.one_in(20) { rng.u32ish() } else { 0 };
    let mut a = uapi::DrmNovaGemMmapOffset {
        handle,
        pad,
        offset: 0,
    };
    if call(st, w, "GEM_MMAP_OFFSET", || {
        raw::gem_mmap_offset(&w.dev, &mut a)
    })
    .is_none()
    {
        return;
    }
    let size = w
        .bos
        .iter()
        .find(|b| b.0 == handle)
        .map_or(4 * KIB, |b| b.1);
    // Mostly the whole object (up to 4 MiB), sometimes more than it has.
    let len = if rng.one_in(10) {
        size + 4 * KIB
    } else {
        size.min(4 * MIB)
    };
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    let Some(mut m) = call(st, w, "mmap", || Mapping::new(w.dev.as_fd(), a.offset, len)) else {
        return;
    };
    // Touch it while the GPU is surely there (a mapping of a stale file is never touched).
    if !w.stale && len <= size as usize {
        let off = (rng.below(len as u64 / 4) * 4) as usize;
        let v = m.read_u32(off);
        m.write_u32(off, v ^ 0x5a5a_5a5a);
    }
    if rng.one_in(2) {
        w.maps.push(m);
    }
    if w.maps.len() > 8 {
        w.maps.remove(0);
    }
}

fn gem_close(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let handle = some_handle(rng, &handles(w));
    let pad = if rng.one_in(30) { 1 } else { 0 };
    let mut a = d::DrmGemClose { handle, pad };
    // SAFETY: GEM_CLOSE takes a drm_gem_close and touches nothing else.
    let r = call(st, w, "GEM_CLOSE", || unsafe {
        w.dev.ioctl("GEM_CLOSE", d::DRM_IOCTL_GEM_CLOSE, &mut a)
    });
    if r.is_some() {
        w.bos.retain(|b| b.0 != handle);
    }
}

/// Sets up a push area in `vm`: the programs EXEC picks from.
fn push_area(rng: &mut Rng, st: &mut Stats, w: &mut World, vm: u32) {
    let mut c = uapi::DrmNovaGemCreate {
        size: AREA,
        flags: 0,
        handle: 0,
        align: 0,
    };
    if call(st, w, "GEM_CREATE", || raw::gem_create(&w.dev, &mut c)).is_none() {
        return;
    }
    w.bos.push((c.handle, c.size));
    let va = align_up(w.info.va_start, 2 * MIB) + rng.below(4) * 2 * MIB;
    let ops = [uapi::DrmNovaVmBindOp {
        op: uapi::NOVA_VM_BIND_OP_MAP,
        flags: 0,
        handle: c.handle,
        kind: 0,
        va,
        range: AREA,
        bo_offset: 0,
    }];
    let mut b = libnova::bind_args(vm, &ops);
    if call(st, w, "VM_BIND", || raw::vm_bind(&w.dev, &mut b)).is_none() {
        return;
    }
    let mut o = uapi::DrmNovaGemMmapOffset {
        handle: c.handle,
        pad: 0,
        offset: 0,
    };
    if call(st, w, "GEM_MMAP_OFFSET", || {
        raw::gem_mmap_offset(&w.dev, &mut o)
    })
    .is_none()
    {
        return;
    }
    let Some(mut m) = call(st, w, "mmap", || {
        Mapping::new(w.dev.as_fd(), o.offset, AREA as usize)
    }) else {
        return;
    };
    let cls = w.info.classes;
    let mut copy = Push::new();
    copy.set_object(SUBC_COPY, cls.copy)
        .sem_release(va + SEM_AT, 1, true);
    copy.write_to(&mut m, PROG_COPY as usize);
    let mut twod = Push::new();
    twod.set_object(libnova::push::SUBC_2D, cls.twod)
        .sem_release(va + SEM_AT + 8, 2, true);
    twod.write_to(&mut m, PROG_2D as usize);
    let garbage: Vec<u32> = (0..64).map(|_| rng.next() as u32).collect();
    Push::new()
        .raw(&garbage)
        .write_to(&mut m, PROG_GARBAGE as usize);
    Push::new().nop().nop().write_to(&mut m, PROG_NOP as usize);
    // Waits for a semaphore value nothing writes: the job timeout resets the channel.
    let mut hang = Push::new();
    hang.sem_acquire(va + SEM_AT + 16, 0xdead);
    hang.write_to(&mut m, PROG_HANG as usize);
    let len = |p: &Push| u32::try_from(p.len_bytes()).unwrap_or(4);
    w.areas.insert(
        vm,
        PushArea {
            va,
            len: [len(&copy), len(&twod), len(&hang)],
        },
    );
}

fn vm_create(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let flags = if rng.one_in(20) { rng.u32ish() } else { 0 };
    if let Some(id) = call(st, w, "VM_CREATE", || raw::vm_create(&w.dev, flags)) {
        w.vms.push(id);
        if !rng.one_in(4) {
            push_area(rng, st, w, id);
        }
    }
}

fn vm_destroy(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let id = some_handle(rng, &w.vms);
    let pad = if rng.one_in(30) { 1 } else { 0 };
    let mut a = uapi::DrmNovaVmDestroy { id, pad };
    if call(st, w, "VM_DESTROY", || raw::vm_destroy_raw(&w.dev, &mut a)).is_some() {
        w.vms.retain(|v| *v != id);
        w.areas.remove(&id);
    }
}

fn vm_bind(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let vm = some_handle(rng, &w.vms);
    let base = align_up(w.info.va_start, 2 * MIB);
    let n = match rng.below(20) {
        0 => 0,
        1 => 1025,
        2..=5 => rng.below(16) + 1,
        _ => 1,
    };
    let mut ops = Vec::new();
    for _ in 0..n.min(64) {
        let bo = rng.pick(&w.bos);
        let gran = rng.pick(&[4 * KIB, 64 * KIB, 2 * MIB]).unwrap_or(4 * KIB);
        let va = match rng.below(12) {
            0 => rng.next(),
            1 => w.info.va_end - gran * rng.below(4),
            2 => rng.below(w.info.va_start.max(1)),
            _ => base + rng.below(512) * gran,
        };
        let range = match (rng.below(8), bo) {
            (0, _) => rng.size(),
            (1..=4, Some((_, size))) => size,
            _ => gran * (rng.below(8) + 1),
        };
        let op = match rng.below(10) {
            0 => rng.u32ish(),
            1..=3 => uapi::NOVA_VM_BIND_OP_UNMAP,
            _ => uapi::NOVA_VM_BIND_OP_MAP,
        };
        let sparse = op == uapi::NOVA_VM_BIND_OP_MAP && rng.one_in(6);
        let flags = match rng.below(12) {
            0 => rng.u32ish(),
            1 => uapi::NOVA_VM_BIND_READ_ONLY,
            _ if sparse => uapi::NOVA_VM_BIND_SPARSE,
            _ => 0,
        };
        let handle = if op == uapi::NOVA_VM_BIND_OP_MAP && !sparse {
            bo.map_or_else(|| rng.u32ish(), |b| b.0)
        } else if rng.one_in(15) {
            rng.u32ish()
        } else {
            0
        };
        ops.push(uapi::DrmNovaVmBindOp {
            op,
            flags,
            handle,
            kind: if rng.one_in(10) {
                rng.below(300) as u32
            } else {
                0
            },
            va,
            range,
            bo_offset: if rng.one_in(8) { rng.size() } else { 0 },
        });
    }
    let mut a = libnova::bind_args(vm, &ops);
    a.num_ops = u32::try_from(n).unwrap_or(u32::MAX);
    if n > ops.len() as u64 {
        // More ops than the array holds: the kernel reads past it (EFAULT) or refuses the count.
        a.ops = 8;
    }
    match rng.below(30) {
        0 => a.op_size = rng.u32ish(),
        1 => a.flags = rng.u32ish(),
        2 => a.ops = maybe_bad_ptr(rng, 8),
        _ => {}
    }
    call(st, w, "VM_BIND", || raw::vm_bind(&w.dev, &mut a));
}

fn ctx_create(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    // Bounded channels: past MAX_CTXS contexts, destroy the oldest instead.
    if w.ctxs.len() >= MAX_CTXS {
        let id = w.ctxs[0].0;
        call(st, w, "CTX_DESTROY", || raw::ctx_destroy(&w.dev, id));
        w.ctxs.remove(0);
        return;
    }
    let vm_id = some_handle(rng, &w.vms);
    let engine = match rng.below(10) {
        0 => rng.u32ish(),
        1..=3 => uapi::NOVA_ENGINE_2D,
        _ => uapi::NOVA_ENGINE_COPY,
    };
    let flags = if rng.one_in(20) { rng.u32ish() } else { 0 };
    let mut a = uapi::DrmNovaCtxCreate {
        vm_id,
        engine,
        flags,
        id: 0,
    };
    if call(st, w, "CTX_CREATE", || raw::ctx_create(&w.dev, &mut a)).is_some() {
        let e = if engine == uapi::NOVA_ENGINE_2D {
            Engine::TwoD
        } else {
            Engine::Copy
        };
        w.ctxs.push((a.id, vm_id, e));
    }
}

fn ctx_ids(w: &World) -> Vec<u32> {
    w.ctxs.iter().map(|c| c.0).collect()
}

fn ctx_destroy(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let id = some_handle(rng, &ctx_ids(w));
    let pad = if rng.one_in(30) { 1 } else { 0 };
    let mut a = uapi::DrmNovaCtxDestroy { id, pad };
    if call(st, w, "CTX_DESTROY", || {
        raw::ctx_destroy_raw(&w.dev, &mut a)
    })
    .is_some()
    {
        w.ctxs.retain(|c| c.0 != id);
    }
}

fn ctx_query(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let id = some_handle(rng, &ctx_ids(w));
    let flags = if rng.one_in(30) { 1 } else { 0 };
    let mut a = uapi::DrmNovaCtxQuery {
        id,
        flags,
        ..Default::default()
    };
    call(st, w, "CTX_QUERY", || raw::ctx_query(&w.dev, &mut a));
}

/// A syncobj entry for EXEC: a known syncobj, at point 0, at its last point, or a new one.
fn sync_entry(rng: &mut Rng, w: &mut World, signal: bool) -> uapi::DrmNovaSync {
    let handle = some_handle(rng, &w.syncobjs);
    let last = w.points.get(&handle).copied().unwrap_or(0);
    // Mostly points that make a valid EXEC: the last one for a wait, a new one for a signal.
    let point = match rng.below(8) {
        0 | 1 => 0,
        2..=5 if signal => {
            w.points.insert(handle, last + 1);
            last + 1
        }
        2..=5 => last,
        6 => last + 1 + rng.below(3),
        _ => u64::from(rng.u32ish()),
    };
    uapi::DrmNovaSync {
        handle,
        flags: if rng.one_in(40) { 1 } else { 0 },
        point,
    }
}

fn exec(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let Some((id, vm, engine)) = rng.pick(&w.ctxs).filter(|_| !rng.one_in(10)) else {
        let mut a = libnova::exec_args(rng.u32ish(), &[], &[], &[]);
        call(st, w, "EXEC", || raw::exec(&w.dev, &mut a));
        return;
    };
    let area = w.areas.get(&vm).copied();
    let mut pushes = Vec::new();
    for _ in 0..(if rng.one_in(8) { rng.below(4) + 2 } else { 1 }) {
        let push = match (area, rng.below(40)) {
            (Some(a), 0) if rng.one_in(4) => (a.va + PROG_HANG, a.len[2]),
            (Some(a), 1..=2) => (a.va + PROG_GARBAGE, 4 * (rng.below(64) as u32 + 1)),
            (Some(a), 3..=5) => (a.va + PROG_NOP, 8),
            (Some(a), 6..=29) if engine == Engine::TwoD => (a.va + PROG_2D, a.len[1]),
            (Some(a), 6..=29) => (a.va + PROG_COPY, a.len[0]),
            (Some(a), 30..=33) => (a.va + rng.below(AREA), rng.u32ish()),
            _ => (rng.next() & !3, rng.u32ish() & !3),
        };
        pushes.push(uapi::DrmNovaExecPush {
            va: push.0,
            size: push.1,
            flags: if rng.one_in(50) { 1 } else { 0 },
        });
    }
    let n_waits = if rng.one_in(3) { rng.below(3) } else { 0 };
    let waits: Vec<_> = (0..n_waits).map(|_| sync_entry(rng, w, false)).collect();
    let signals: Vec<_> = (0..rng.below(3))
        .map(|_| sync_entry(rng, w, true))
        .collect();
    let mut a = libnova::exec_args(id, &pushes, &waits, &signals);
    match rng.below(40) {
        0 => a.flags = 1,
        1 => a.pad = 1,
        2 => a.num_push = 257,
        3 => a.num_push = 0,
        4 => a.push = maybe_bad_ptr(rng, 8),
        5 => a.num_waits = 70,
        6 => a.signals = maybe_bad_ptr(rng, 8),
        _ => {}
    }
    call(st, w, "EXEC", || raw::exec(&w.dev, &mut a));
}

fn prime(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    if rng.one_in(2) || w.dmabufs.is_empty() {
        let flags = match rng.below(10) {
            0 => rng.u32ish(),
            1 => 0,
            _ => d::DRM_CLOEXEC | d::DRM_RDWR,
        };
        let mut a = DrmPrimeHandle {
            handle: some_handle(rng, &handles(w)),
            flags,
            fd: -1,
        };
        if call(st, w, "PRIME_HANDLE_TO_FD", || {
            raw::prime_handle_to_fd(&w.dev, &mut a)
        })
        .is_some()
            && a.fd >= 0
        {
            // SAFETY: the kernel installed a new fd for us; nothing else owns it.
            w.dmabufs.push(unsafe { OwnedFd::from_raw_fd(a.fd) });
            if w.dmabufs.len() > 16 {
                w.dmabufs.remove(0);
            }
        }
    } else {
        let fd = match rng.below(8) {
            0 => rng.pick(&[-1, 0, 1, 9999]).unwrap_or(-1),
            1 => w.sync_files.first().map_or(-1, |f| f.as_raw_fd()),
            _ => w.dmabufs[rng.below(w.dmabufs.len() as u64) as usize].as_raw_fd(),
        };
        let mut a = DrmPrimeHandle {
            handle: 0,
            flags: 0,
            fd,
        };
        if call(st, w, "PRIME_FD_TO_HANDLE", || {
            raw::prime_fd_to_handle(&w.dev, &mut a)
        })
        .is_some()
            && !w.bos.iter().any(|b| b.0 == a.handle)
        {
            w.bos.push((a.handle, 4 * KIB));
        }
    }
}

fn syncobj(rng: &mut Rng, st: &mut Stats, w: &mut World) {
    let pick = |rng: &mut Rng, w: &World| some_handle(rng, &w.syncobjs);
    match rng.below(13) {
        0 | 1 => {
            let flags = match rng.below(10) {
                0 => rng.u32ish(),
                1..=4 => d::DRM_SYNCOBJ_CREATE_SIGNALED,
                _ => 0,
            };
            let mut a = d::DrmSyncobjCreate { handle: 0, flags };
            if call(st, w, "SYNCOBJ_CREATE", || {
                raw::syncobj_create(&w.dev, &mut a)
            })
            .is_some()
            {
                w.syncobjs.push(a.handle);
            }
        }
        2 => {
            let handle = pick(rng, w);
            let mut a = d::DrmSyncobjDestroy { handle, pad: 0 };
            if call(st, w, "SYNCOBJ_DESTROY", || {
                raw::syncobj_destroy(&w.dev, &mut a)
            })
            .is_some()
            {
                w.syncobjs.retain(|h| *h != handle);
            }
        }
        3 => {
            // Export: an opaque syncobj fd, or a sync file of the binary fence or of a point.
            let handle = pick(rng, w);
            let point = w.points.get(&handle).copied().unwrap_or(0);
            let (flags, point) = match rng.below(5) {
                0 => (0, 0),
                1 => (d::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE, 0),
                2 => (rng.u32ish(), point),
                _ => (
                    d::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE
                        | d::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE,
                    rng.below(point + 2),
                ),
            };
            let mut a = d::DrmSyncobjHandle {
                handle,
                flags,
                fd: -1,
                pad: 0,
                point,
            };
            if call(st, w, "SYNCOBJ_HANDLE_TO_FD", || {
                raw::syncobj_handle_to_fd(&w.dev, &mut a)
            })
            .is_some()
                && a.fd >= 0
            {
                // SAFETY: the kernel installed a new fd for us; nothing else owns it.
                let fd = unsafe { OwnedFd::from_raw_fd(a.fd) };
                let list = if a.flags & d::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE != 0 {
                    &mut w.sync_files
                } else {
                    &mut w.syncobj_fds
                };
                list.push(fd);
                if list.len() > 16 {
                    list.remove(0);
                }
            }
        }
        4 => {
            // Import: a syncobj fd (a new handle), or a sync file into a binary fence or point.
            let handle = pick(rng, w);
            let last = w.points.get(&handle).copied().unwrap_or(0);
            let sync_file = !w.sync_files.is_empty() && !rng.one_in(4);
            let (fd, flags, point) = if sync_file {
                let fd = w.sync_files[rng.below(w.sync_files.len() as u64) as usize].as_raw_fd();
                if rng.one_in(2) {
                    w.points.insert(handle, last + 1);
                    let f = d::DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE
                        | d::DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE;
                    (fd, f, last + 1)
                } else {
                    (fd, d::DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE, 0)
                }
            } else {
                let fd = w.syncobj_fds.first().map_or(-1, |f| f.as_raw_fd());
                (fd, if rng.one_in(10) { rng.u32ish() } else { 0 }, 0)
            };
            let mut a = d::DrmSyncobjHandle {
                handle,
                flags,
                fd,
                pad: 0,
                point,
            };
            if call(st, w, "SYNCOBJ_FD_TO_HANDLE", || {
                raw::syncobj_fd_to_handle(&w.dev, &mut a)
            })
            .is_some()
                && flags == 0
            {
                w.syncobjs.push(a.handle);
            }
        }
        5 | 6 => {
            let (hs, ps) = handles_points(rng, w);
            let deadline = libnova::deadline_ns(Duration::from_micros(rng.below(2000)));
            let flags = match rng.below(8) {
                0 => rng.u32ish(),
                1 => d::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL,
                2 => d::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
                3 => d::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
                _ => 0,
            };
            let count = count_of(rng, hs.len());
            let handles = maybe_bad_ptr(rng, hs.as_ptr() as u64);
            if rng.one_in(2) {
                let mut a = d::DrmSyncobjWait {
                    handles,
                    timeout_nsec: deadline,
                    count_handles: count,
                    flags,
                    ..Default::default()
                };
                call(st, w, "SYNCOBJ_WAIT", || raw::syncobj_wait(&w.dev, &mut a));
            } else {
                let mut a = d::DrmSyncobjTimelineWait {
                    handles,
                    points: ps.as_ptr() as u64,
                    timeout_nsec: deadline,
                    count_handles: count,
                    flags,
                    ..Default::default()
                };
                call(st, w, "SYNCOBJ_TIMELINE_WAIT", || {
                    raw::syncobj_timeline_wait(&w.dev, &mut a)
                });
            }
        }
        7 => {
            let (hs, _) = handles_points(rng, w);
            let mut a = d::DrmSyncobjArray {
                handles: maybe_bad_ptr(rng, hs.as_ptr() as u64),
                count_handles: count_of(rng, hs.len()),
                pad: if rng.one_in(30) { 1 } else { 0 },
            };
            if rng.one_in(2) {
                call(st, w, "SYNCOBJ_SIGNAL", || {
                    raw::syncobj_signal(&w.dev, &mut a)
                });
            } else {
                call(st, w, "SYNCOBJ_RESET", || {
                    raw::syncobj_reset(&w.dev, &mut a)
                });
            }
        }
        8 | 9 => {
            let (hs, ps) = handles_points(rng, w);
            let mut ps = ps;
            for (h, p) in hs.iter().zip(ps.iter_mut()) {
                if rng.one_in(4) {
                    continue;
                }
                let last = w.points.get(h).copied().unwrap_or(0);
                *p = last + 1;
                w.points.insert(*h, last + 1);
            }
            let mut a = d::DrmSyncobjTimelineArray {
                handles: maybe_bad_ptr(rng, hs.as_ptr() as u64),
                points: ps.as_ptr() as u64,
                count_handles: count_of(rng, hs.len()),
                flags: if rng.one_in(30) { 1 } else { 0 },
            };
            call(st, w, "SYNCOBJ_TIMELINE_SIGNAL", || {
                raw::syncobj_timeline_signal(&w.dev, &mut a)
            });
        }
        10 => {
            let (hs, mut ps) = handles_points(rng, w);
            let flags = if rng.one_in(3) {
                d::DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED
            } else {
                0
            };
            call(st, w, "SYNCOBJ_QUERY", || {
                raw::syncobj_query(&w.dev, &hs, &mut ps, flags)
            });
        }
        _ => {
            let src = pick(rng, w);
            let dst = pick(rng, w);
            let src_point = w.points.get(&src).copied().unwrap_or(0);
            let dst_point = if rng.one_in(3) {
                0
            } else {
                let last = w.points.get(&dst).copied().unwrap_or(0);
                w.points.insert(dst, last + 1);
                last + 1
            };
            let mut a = d::DrmSyncobjTransfer {
                src_handle: src,
                dst_handle: dst,
                src_point: if rng.one_in(2) { src_point } else { 0 },
                dst_point,
                // Not WAIT_FOR_SUBMIT: it would block for the core's 5 s submit timeout.
                flags: if rng.one_in(10) {
                    rng.u32ish() & !d::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT
                } else {
                    0
                },
                pad: 0,
            };
            call(st, w, "SYNCOBJ_TRANSFER", || {
                raw::syncobj_transfer(&w.dev, &mut a)
            });
        }
    }
}

/// 1 to 4 syncobj handles and matching points (their last ones, or 0).
fn handles_points(rng: &mut Rng, w: &World) -> (Vec<u32>, Vec<u64>) {
    let n = rng.below(4) + 1;
    let hs: Vec<u32> = (0..n).map(|_| some_handle(rng, &w.syncobjs)).collect();
    let ps = hs
        .iter()
        .map(|h| {
            if rng.one_in(2) {
                w.points.get(h).copied().unwrap_or(0)
            } else {
                0
            }
        })
        .collect();
    (hs, ps)
}

/// A count for an array of `len`: usually `len`, sometimes 0, a bit more, or absurd.
fn count_of(rng: &mut Rng, len: usize) -> u32 {
    let len = len as u32;
    match rng.below(25) {
        0 => 0,
        1 => len + 1 + rng.below(64) as u32,
        2 => rng
            .pick(&[0x1000_0000, 0x0100_0000, u32::MAX, 1 << 20])
            .unwrap_or(0),
        _ => len,
    }
}

// --- the things around the calls ------------------------------------------------------------

/// A child on the same file: `calls` random calls with its own seed, then `_exit` (status 1
/// when a call broke the rules, which it prints). With `unbinding`, the parent is about to
/// unbind the GPU under it: ENODEV is then allowed.
fn fork_child(rng: &mut Rng, w: &World, calls: u64, unbinding: bool) -> Option<libc::pid_t> {
    let seed = rng.next();
    // SAFETY: the fuzzer is single-threaded; the child only makes calls on inherited fds and
    // leaves with _exit, so none of the parent's destructors run twice.
    let pid = unsafe { libc::fork() };
    if pid != 0 {
        return (pid > 0).then_some(pid);
    }
    let mut crng = Rng(seed);
    let mut cst = Stats::default();
    let mut cw = World::new(w.dev.clone(), w.info);
    cw.stale = w.stale || unbinding;
    cw.bos = w.bos.clone();
    cw.vms = w.vms.clone();
    cw.areas = w.areas.clone();
    cw.ctxs = w.ctxs.clone();
    cw.syncobjs = w.syncobjs.clone();
    cw.points = w.points.clone();
    for _ in 0..calls {
        // Destroy what the parent uses more often than the parent does.
        if crng.one_in(4) {
            ctx_destroy(&mut crng, &mut cst, &mut cw);
            ctx_create(&mut crng, &mut cst, &mut cw);
        } else {
            step(&mut crng, &mut cst, &mut cw);
        }
    }
    for v in &cst.violations {
        println!("fuzz: child {}: {v}", std::process::id());
    }
    for s in &cst.slow {
        println!("fuzz: child {}: slow: {s}", std::process::id());
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let code = i32::from(cst.violation_count > 0 || !cst.slow.is_empty());
    // SAFETY: ends the child without running the parent's destructors.
    unsafe { libc::_exit(code) }
}

/// Reaps children (all of them with `block`), recording failures.
fn reap(children: &mut Vec<libc::pid_t>, failed: &mut Vec<String>, block: bool) {
    children.retain(|&pid| {
        let mut status = 0;
        let flags = if block { 0 } else { libc::WNOHANG };
        // SAFETY: waits for our own child; `status` is a live int.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r == 0 {
            return true;
        }
        if r != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            failed.push(format!("child {pid}: wait status {status:#x}"));
        }
        false
    });
}

/// A second file with a VM, a context and jobs in flight (some blocked on a syncobj nothing
/// signals, some hung), closed at once.
fn close_with_work(rng: &mut Rng, st: &mut Stats, path: &std::path::Path, info: Info) {
    let Ok(dev) = Device::open_path(path) else {
        return;
    };
    let mut w = World::new(dev, info);
    vm_create(rng, st, &mut w);
    let Some(&vm) = w.vms.first() else {
        return;
    };
    if !w.areas.contains_key(&vm) {
        push_area(rng, st, &mut w, vm);
    }
    let mut a = uapi::DrmNovaCtxCreate {
        vm_id: vm,
        engine: uapi::NOVA_ENGINE_COPY,
        flags: 0,
        id: 0,
    };
    if call(st, &w, "CTX_CREATE", || raw::ctx_create(&w.dev, &mut a)).is_none() {
        return;
    }
    let Some(area) = w.areas.get(&vm).copied() else {
        return;
    };
    let mut s = d::DrmSyncobjCreate {
        handle: 0,
        flags: 0,
    };
    call(st, &w, "SYNCOBJ_CREATE", || {
        raw::syncobj_create(&w.dev, &mut s)
    });
    // Every job signals `chain`; some wait on it first, i.e. on the job before them.
    let chain = [uapi::DrmNovaSync {
        handle: s.handle,
        flags: 0,
        point: 0,
    }];
    for i in 0..(rng.below(6) + 1) {
        let prog = if rng.one_in(8) {
            (PROG_HANG, area.len[2])
        } else {
            (PROG_COPY, area.len[0])
        };
        let push = [uapi::DrmNovaExecPush {
            va: area.va + prog.0,
            size: prog.1,
            flags: 0,
        }];
        let waits: &[uapi::DrmNovaSync] = if i > 0 && rng.one_in(2) { &chain } else { &[] };
        let mut e = libnova::exec_args(a.id, &push, waits, &chain);
        call(st, &w, "EXEC", || raw::exec(&w.dev, &mut e));
    }
    // Dropping `w` closes the file with the jobs queued or running.
}

/// The PCI address nova-core is bound to.
fn bound_device() -> Result<String, String> {
    let drv = "/sys/bus/pci/drivers/nova_core";
    std::fs::read_dir(drv)
        .map_err(|e| format!("{drv}: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.starts_with("0000:"))
        .ok_or_else(|| "nova_core is not bound to any device".into())
}

/// Unbinds nova-core (files stay open, jobs in flight) and binds it again.
fn unbind_rebind() -> Result<(), String> {
    with_report(|r| {
        if let Some(e) = &r.unbind_error {
            return Err(e.clone());
        }
        check(r.unbinds == r.unbinds_wanted, || {
            format!(
                "{} of {} unbind/rebind cycles happened",
                r.unbinds, r.unbinds_wanted
            )
        })
    })
}

fn do_unbind_rebind() -> Result<(), String> {
    let drv = "/sys/bus/pci/drivers/nova_core";
    let bdf = bound_device()?;
    std::fs::write(format!("{drv}/unbind"), &bdf).map_err(|e| format!("unbind: {e}"))?;
    std::fs::write(format!("{drv}/bind"), &bdf).map_err(|e| format!("bind: {e}"))?;
    Ok(())
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run itself.
fn fuzz() -> Report {
    let seed = env("FUZZ_SEED", 19);
    let budget = env("FUZZ_CALLS", 20_000);
    let secs = env("FUZZ_SECS", 60);
    let unbinds = env("FUZZ_UNBINDS", 1);
    let mut report = Report {
        seed,
        unbinds_wanted: unbinds,
        ..Default::default()
    };
    let g = match gpu() {
        Ok(g) => g,
        Err(e) => {
            report.setup_error = Some(e);
            return report;
        }
    };
    report.splats_before = splats().map_or(0, |s| s.len());
    let path = g.dev.path().to_path_buf();
    println!("fuzz: seed {seed}, at most {budget} calls or {secs} s, {unbinds} unbind(s)");
    let mut rng = Rng(seed);
    let mut st = Stats::default();
    let mut w = World::new(g.dev.clone(), g.info);
    drop(g);
    let mut stale: Vec<World> = Vec::new();
    let mut children = Vec::new();
    let t = Instant::now();
    let limit = Duration::from_secs(secs);
    // The k-th unbind comes after k/(unbinds+1) of the calls or of the time, whichever first.
    let due = |k: u64, i: u64, el: Duration| {
        k < unbinds
            && (i >= budget * (k + 1) / (unbinds + 1)
                || el >= limit * (k as u32 + 1) / (unbinds as u32 + 1))
    };
    let mut i = 0u64;
    while i < budget && t.elapsed() < limit {
        i += 1;
        if due(report.unbinds, i, t.elapsed()) {
            // Work in flight: jobs queued, and a child calling away on the file while the GPU
            // goes away under them.
            reap(&mut children, &mut report.children_failed, true);
            for _ in 0..8 {
                exec(&mut rng, &mut st, &mut w);
            }
            if let Some(pid) = fork_child(&mut rng, &w, 300, true) {
                children.push(pid);
                report.children += 1;
            }
            let tu = Instant::now();
            match do_unbind_rebind() {
                Ok(()) => report.unbinds += 1,
                Err(e) => {
                    report.unbind_error = Some(e);
                    break;
                }
            }
            println!(
                "fuzz: unbind/rebind {} after {i} calls took {:?}",
                report.unbinds,
                tu.elapsed()
            );
            let info = w.info;
            match Device::open() {
                Ok(d) => {
                    let mut old = std::mem::replace(&mut w, World::new(d, info));
                    old.stale = true;
                    stale.push(old);
                }
                Err(e) => {
                    report.unbind_error = Some(format!("no render node after rebind: {e}"));
                    break;
                }
            }
            continue;
        }
        match rng.below(1000) {
            0..=3 if children.len() < MAX_CHILDREN => {
                let n = rng.below(200) + 20;
                if let Some(pid) = fork_child(&mut rng, &w, n, false) {
                    children.push(pid);
                    report.children += 1;
                }
            }
            4..=5 => close_with_work(&mut rng, &mut st, &path, w.info),
            6 => {
                // Close the main file with whatever it has in flight and start afresh.
                let info = w.info;
                if let Ok(d) = Device::open_path(&path) {
                    w = World::new(d, info);
                }
            }
            7..=9 if !stale.is_empty() => {
                let k = rng.below(stale.len() as u64) as usize;
                step(&mut rng, &mut st, &mut stale[k]);
                if rng.one_in(20) {
                    stale.remove(k);
                }
            }
            _ => step(&mut rng, &mut st, &mut w),
        }
        if i.is_multiple_of(64) {
            reap(&mut children, &mut report.children_failed, false);
        }
        if i.is_multiple_of(5000) {
            println!("fuzz: {i} calls, {:?}", t.elapsed());
        }
    }
    reap(&mut children, &mut report.children_failed, true);
    drop(stale);
    drop(w);
    println!("fuzz: stopped after {i} steps in {:?}", t.elapsed());
    st.print("parent");
    report.calls = st.total();
    report.violation_count = st.violation_count;
    report.violations = st.violations;
    report.slow = st.slow;
    report
}

// --- the tests ------------------------------------------------------------------------------

/// Runs the fuzzer (once) and hands its report to `f`.
fn with_report(f: impl FnOnce(&Report) -> Result<(), String>) -> Result<(), String> {
    let mut rep = REPORT.lock().map_err(|_| "report lock poisoned")?;
    if rep.is_none() {
        *rep = Some(fuzz());
    }
    let r = rep.as_ref().ok_or("no report")?;
    if let Some(e) = &r.setup_error {
        return Err(format!("fuzzer setup: {e}"));
    }
    f(r)
}

fn errnos_documented() -> Result<(), String> {
    with_report(|r| {
        check(r.calls > 0, || "no calls made".into())?;
        check(r.violation_count == 0, || {
            format!(
                "seed {}: {} call(s) failed with an undocumented errno, first: {}",
                r.seed,
                r.violation_count,
                r.violations.join("; ")
            )
        })
    })
}

fn no_call_hangs() -> Result<(), String> {
    with_report(|r| {
        check(r.slow.is_empty(), || {
            format!("calls over {HANG:?}: {}", r.slow.join("; "))
        })
    })
}

fn children_clean() -> Result<(), String> {
    with_report(|r| {
        check(r.children > 0, || "no child was forked".into())?;
        check(r.children_failed.is_empty(), || {
            format!(
                "{} of {} children failed: {}",
                r.children_failed.len(),
                r.children,
                r.children_failed.join("; ")
            )
        })
    })
}

/// After the run: a fresh file, VM and context run a job that releases a semaphore.
fn gpu_works_after() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 1, 4096)?;
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    let mut p = start(&g, Engine::Copy);
    p.sem_release(data.va, 0xf00d, true);
    run_ok(&ctx, &mut pb, &p, Duration::from_secs(30))?;
    let v = data.words()[0];
    check(v == 0xf00d, || format!("semaphore {v:#x}, want 0xf00d"))
}

fn no_kernel_splat() -> Result<(), String> {
    with_report(|r| crate::util::no_new_splat(r.splats_before, "during the fuzz run"))
}
