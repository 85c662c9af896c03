// SPDX-License-Identifier: GPL-2.0
//! Suite "exec": contexts, EXEC and syncobjs (the render path's acceptance list).
//!
//! Everything is checked through the uAPI only: push buffers built with libnova's `push`
//! (numbers from the GA102 facts sheet §11), GPU results read back through CPU mappings of
//! system-memory objects (every byte), fence errors read from sync files exported from the
//! signal syncobjs (`SYNC_IOC_FILE_INFO` status: 1 done, negative the fence's error), and
//! what happened to a context from CTX_QUERY.
//!
//! Also `nova-guest-tests render PATH` ([`render`]): the `make run` picture.

use crate::suites::load_both;
use crate::util::{align_up, check, errno_str, expect_err, poll_until, Ctx};
use crate::Test;
use libnova::push::{self, SUBC_COPY};
use libnova::{
    raw, uapi, Bo, Context, CtxState, Device, Engine, Error, Info, Mapping, Op, Placement, Push,
    Surface, SyncFile, Syncobj, Vm,
};
use std::time::{Duration, Instant};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// How long an ordinary job may take to signal (TCG guests and a software GPU are slow).
const JOB_WAIT: Duration = Duration::from_secs(30);
/// How long the 64 MiB copies and the 1,000 jobs may take.
const LONG_WAIT: Duration = Duration::from_secs(180);

/// The tests, in run order.
pub fn tests() -> Vec<Test> {
    vec![
        ("getparams_classes_and_job_timeout", getparams),
        ("ce_copy_64m_gem_to_gem_every_byte", copy_64m),
        ("ce_copy_2d_pitch_linear", copy_2d),
        ("ce_constant_fill", ce_fill),
        ("twod_rects_and_blit_pixel_exact", twod_pixels),
        ("timeline_1000_jobs_in_order", timeline_1000),
        ("hang_times_out_resets_only_its_context", hang),
        ("channel_error_unbound_subchannel", channel_error_unbound),
        ("channel_error_illegal_method", channel_error_illegal),
        ("bad_ctx_ioctls", bad_ctx),
        ("bad_exec", bad_exec),
        ("exec_limits_accepted", exec_limits),
        ("ctx_limit_per_vm", ctx_limit),
        ("unsignalled_wait_cancelled_by_ctx_destroy", wait_cancelled),
        ("ctx_destroy_with_jobs_in_flight", destroy_in_flight),
        ("close_fd_with_jobs_queued", close_with_jobs_queued),
        ("ctx_destroy_races_exec_errnos", destroy_races_exec),
        (
            "sched_stress_10000_jobs_8_contexts_4_processes",
            crate::sched::stress,
        ),
        ("sched_fairness_4_contexts", crate::sched::fairness),
    ]
}

// --- helpers -----------------------------------------------------------------------------

/// A fence status as text: "pending", "signalled", "-ETIMEDOUT".
fn status_str(s: i32) -> String {
    match s {
        0 => "pending".into(),
        1 => "signalled".into(),
        e => format!("-{}", errno_str(e)),
    }
}

/// The loaded driver, an open render node and what the tests need of its parameters.
pub(crate) struct Gpu {
    pub(crate) dev: Device,
    pub(crate) info: Info,
    /// NOVA_GETPARAM_JOB_TIMEOUT_MS.
    pub(crate) job_timeout: Duration,
}

pub(crate) fn gpu() -> Result<Gpu, String> {
    load_both()?;
    let dev = Device::open().ctx("open the nova render node")?;
    gpu_of(dev)
}

fn gpu_of(dev: Device) -> Result<Gpu, String> {
    let info = dev.info().ctx("GETPARAMs")?;
    let ms = dev
        .getparam(uapi::NOVA_GETPARAM_JOB_TIMEOUT_MS)
        .ctx("GETPARAM JOB_TIMEOUT_MS")?;
    check((1..=600_000).contains(&ms), || {
        format!("JOB_TIMEOUT_MS {ms}: not in 1 ms ..= 10 min")
    })?;
    check(info.va_end > info.va_start, || {
        format!(
            "VA window [{:#x}, {:#x}) is empty",
            info.va_start, info.va_end
        )
    })?;
    Ok(Gpu {
        dev,
        info,
        job_timeout: Duration::from_millis(ms),
    })
}

impl Gpu {
    /// How long to wait for a hung job's fence: the timeout, plus as much again, plus 15 s.
    fn hang_wait(&self) -> Duration {
        self.job_timeout * 2 + Duration::from_secs(15)
    }
}

/// Hands out 2 MiB-aligned VAs of a VM's window, from its first 1 GiB boundary.
pub(crate) struct VaAlloc {
    next: u64,
    end: u64,
}

impl VaAlloc {
    pub(crate) fn new(info: &Info) -> VaAlloc {
        VaAlloc {
            next: align_up(info.va_start.max(GIB), GIB),
            end: info.va_end,
        }
    }

    pub(crate) fn take(&mut self, size: u64) -> Result<u64, String> {
        let va = self.next;
        let end = va + align_up(size, 2 * MIB);
        check(end <= self.end, || {
            format!("no {size:#x} bytes of VA left at {va:#x}")
        })?;
        self.next = end;
        Ok(va)
    }
}

/// A GEM object mapped in a VM at `va` and, for system memory, on the CPU.
pub(crate) struct Buf {
    pub(crate) bo: Bo,
    pub(crate) map: Mapping,
    pub(crate) va: u64,
}

impl Buf {
    pub(crate) fn new(
        vm: &Vm,
        vas: &mut VaAlloc,
        size: u64,
        placement: Placement,
    ) -> Result<Buf, String> {
        let align = if placement == Placement::Vram {
            2 * MIB
        } else {
            0
        };
        let bo = Bo::new(vm.device(), size, placement, align)
            .ctx(format!("GEM_CREATE {size:#x} {placement:?}"))?;
        let va = vas.take(bo.size())?;
        vm.bind(&[Op::map_all(&bo, va)])
            .ctx(format!("VM_BIND {:#x} at {va:#x}", bo.size()))?;
        let map = bo.map().ctx("mmap")?;
        Ok(Buf { bo, map, va })
    }

    /// The 32-bit words (system memory only: VRAM reads go through the trapped BAR1).
    pub(crate) fn words(&self) -> &[u32] {
        // SAFETY: any bit pattern is a valid u32; mappings are page aligned.
        let (pre, w, _) = unsafe { self.map.as_slice().align_to::<u32>() };
        assert!(pre.is_empty());
        w
    }

    pub(crate) fn words_mut(&mut self) -> &mut [u32] {
        // SAFETY: as in `words`, exclusive through `&mut self`.
        let (pre, w, _) = unsafe { self.map.as_mut_slice().align_to_mut::<u32>() };
        assert!(pre.is_empty());
        w
    }
}

/// A context's push buffer: a system-memory object jobs write their pushes into, one slot
/// each, round robin.
pub(crate) struct PushBuf {
    buf: Buf,
    slot: u64,
    next: u64,
}

impl PushBuf {
    pub(crate) fn new(
        vm: &Vm,
        vas: &mut VaAlloc,
        slots: u64,
        slot: u64,
    ) -> Result<PushBuf, String> {
        Ok(PushBuf {
            buf: Buf::new(vm, vas, slots * slot, Placement::System)?,
            slot,
            next: 0,
        })
    }

    /// Writes `p` into the next slot: its EXEC range.
    pub(crate) fn put(&mut self, p: &Push) -> Result<uapi::DrmNovaExecPush, String> {
        check(p.len_bytes() as u64 <= self.slot, || {
            format!("push of {} bytes > slot {}", p.len_bytes(), self.slot)
        })?;
        let slots = self.buf.bo.size() / self.slot;
        let off = (self.next % slots) * self.slot;
        self.next += 1;
        p.write_to(&mut self.buf.map, off as usize);
        Ok(p.range(self.buf.va + off))
    }
}

/// Submits `p` on `ctx` with a fresh binary syncobj to signal; its fence as a sync file.
pub(crate) fn submit(
    ctx: &Context<'_>,
    pb: &mut PushBuf,
    p: &Push,
    waits: &[uapi::DrmNovaSync],
) -> Result<(Syncobj, SyncFile), String> {
    let s = Syncobj::new(ctx.device(), false).ctx("SYNCOBJ_CREATE")?;
    let r = pb.put(p)?;
    ctx.exec(&[r], waits, &[s.binary()]).ctx("EXEC")?;
    let f = s.export_sync_file().ctx("export the job's fence")?;
    Ok((s, f))
}

/// Runs `p` on `ctx` and waits up to `wait`: the fence's status.
pub(crate) fn run(
    ctx: &Context<'_>,
    pb: &mut PushBuf,
    p: &Push,
    wait: Duration,
) -> Result<i32, String> {
    let (s, f) = submit(ctx, pb, p, &[])?;
    s.wait(wait, 0).ctx(format!("wait {wait:?} for the job"))?;
    f.status().ctx("fence status")
}

/// Runs `p`, which must succeed.
pub(crate) fn run_ok(
    ctx: &Context<'_>,
    pb: &mut PushBuf,
    p: &Push,
    wait: Duration,
) -> Result<(), String> {
    let s = run(ctx, pb, p, wait)?;
    check(s == 1, || {
        format!("job fence {}, want signalled without error", status_str(s))
    })
}

/// A push that starts by binding the context's class.
pub(crate) fn start(g: &Gpu, engine: Engine) -> Push {
    let mut p = Push::new();
    match engine {
        Engine::Copy => p.set_object(SUBC_COPY, g.info.classes.copy),
        Engine::TwoD => p.set_object(push::SUBC_2D, g.info.classes.twod),
    };
    p
}

fn query(ctx: &Context<'_>) -> Result<CtxState, String> {
    ctx.query().ctx("CTX_QUERY")
}

/// The pattern word at byte offset `off`: different in every word of every page (an odd
/// multiplier is a bijection of u32, and 64 MiB has fewer than 2^32 words).
fn pattern(seed: u32, off: usize) -> u32 {
    ((off >> 2) as u32).wrapping_mul(0x9e37_79b1) ^ seed
}

fn fill_pattern(b: &mut Buf, seed: u32) {
    for (i, w) in b.words_mut().iter_mut().enumerate() {
        *w = pattern(seed, i * 4);
    }
}

/// The first word of `got` that is not `want(i)`, and how many differ.
fn first_diff(got: &[u32], want: impl Fn(usize) -> u32) -> Option<(usize, u32, u32, usize)> {
    let mut first = None;
    let mut n = 0;
    for (i, w) in got.iter().enumerate() {
        if *w != want(i) {
            n += 1;
            first.get_or_insert((i, *w, want(i)));
        }
    }
    first.map(|(i, g, w)| (i * 4, g, w, n))
}

fn expect_words(what: &str, got: &[u32], want: impl Fn(usize) -> u32) -> Result<(), String> {
    match first_diff(got, want) {
        None => Ok(()),
        Some((off, g, w, n)) => Err(format!(
            "{what}: {n} word(s) wrong, first at byte {off:#x}: {g:#010x}, want {w:#010x}"
        )),
    }
}

// --- tests -------------------------------------------------------------------------------

fn getparams() -> Result<(), String> {
    let g = gpu()?;
    let c = g.info.classes;
    check((c.copy, c.twod) == (0xc7b5, 0x902d), || {
        format!(
            "CLASS_COPY {:#x} CLASS_2D {:#x}, want 0xc7b5 0x902d (GA102)",
            c.copy, c.twod
        )
    })?;
    // The contexts sit in [1 MiB, 2 MiB), below the VA window.
    check(g.info.va_start >= 2 * MIB, || {
        format!(
            "VA_START {:#x} leaves no room for contexts below it",
            g.info.va_start
        )
    })
}

const COPY_SIZE: u64 = 64 * MIB;

/// 64 MiB from a system-memory object through a VRAM object (2 MiB aligned, so 2 MiB pages)
/// into another system-memory object, every byte checked.
fn copy_64m() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut src = Buf::new(&vm, &mut vas, COPY_SIZE, Placement::System)?;
    let vram = Buf::new(&vm, &mut vas, COPY_SIZE, Placement::Vram)?;
    let mut dst = Buf::new(&vm, &mut vas, COPY_SIZE, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    fill_pattern(&mut src, 0x5eed_0001);
    dst.words_mut().fill(0xdead_beef);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let mut p = start(&g, Engine::Copy);
    p.ce_copy(src.va, vram.va, COPY_SIZE as u32);
    p.ce_copy(vram.va, dst.va, COPY_SIZE as u32);
    let t = Instant::now();
    run_ok(&ctx, &mut pb, &p, LONG_WAIT)?;
    let secs = t.elapsed().as_secs_f64();
    expect_words("sysmem -> VRAM -> sysmem", dst.words(), |i| {
        pattern(0x5eed_0001, i * 4)
    })?;
    // The middle object really holds the data: a word of every 2 MiB page, through BAR1.
    for page in 0..COPY_SIZE / (2 * MIB) {
        let off = (page * 2 * MIB + 4 * (page % 1024)) as usize;
        let v = vram.map.read_u32(off);
        check(v == pattern(0x5eed_0001, off), || {
            format!(
                "VRAM byte {off:#x}: {v:#010x}, want {:#010x}",
                pattern(0x5eed_0001, off)
            )
        })?;
    }
    let st = query(&ctx)?;
    check(
        (st.resets, st.last_error, st.submitted, st.completed) == (0, 0, 1, 1),
        || format!("CTX_QUERY after the copy: {st:?}"),
    )?;
    println!(
        "exec: 2 x 64 MiB CE copies in {:.2} s ({:.0} MiB/s)",
        secs,
        128.0 / secs.max(1e-9)
    );
    Ok(())
}

/// A 2D pitch-linear CE copy: a sub-rectangle between different pitches; nothing else moves.
fn copy_2d() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut src = Buf::new(&vm, &mut vas, MIB, Placement::System)?;
    let mut dst = Buf::new(&vm, &mut vas, MIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    fill_pattern(&mut src, 0x2d2d_0000);
    dst.words_mut().fill(0x0bad_f00d);
    let (sp, dp, width, lines) = (4096u32, 3072u32, 3000u32, 100u32);
    let (soff, doff) = (8 * 4096 + 64, 4096 + 12);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let mut p = start(&g, Engine::Copy);
    p.ce_copy_2d(src.va + soff, sp, dst.va + doff, dp, width, lines);
    run_ok(&ctx, &mut pb, &p, JOB_WAIT)?;
    expect_words("2D copy", dst.words(), |i| {
        let o = (i * 4) as u64;
        let in_rect = o >= doff
            && (o - doff) / u64::from(dp) < u64::from(lines)
            && (o - doff) % u64::from(dp) < u64::from(width);
        if in_rect {
            let (line, x) = ((o - doff) / u64::from(dp), (o - doff) % u64::from(dp));
            pattern(0x2d2d_0000, (soff + line * u64::from(sp) + x) as usize)
        } else {
            0x0bad_f00d
        }
    })
}

/// CE constant fill, one line and a 2D rectangle; the words around are untouched.
fn ce_fill() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut b = Buf::new(&vm, &mut vas, 4 * MIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    fill_pattern(&mut b, 0xf111_0000);
    let (start1, len1, v1) = (0x1040u64, 3 * MIB as u32 - 0x80, 0xa5a5_5a5au32);
    // A rectangle of 64 lines of 1000 bytes, 2048 bytes apart, past the first range.
    let (start2, pitch, width, lines, v2) =
        (3 * MIB + 0x1100, 2048u32, 1000u32, 64u32, 0x0102_0304u32);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let mut p = start(&g, Engine::Copy);
    p.ce_fill(b.va + start1, len1, v1);
    p.ce_fill_2d(b.va + start2, pitch, width, lines, v2);
    run_ok(&ctx, &mut pb, &p, JOB_WAIT)?;
    expect_words("fill", b.words(), |i| {
        let o = (i * 4) as u64;
        if (start1..start1 + u64::from(len1)).contains(&o) {
            v1
        } else if o >= start2
            && (o - start2) / u64::from(pitch) < u64::from(lines)
            && (o - start2) % u64::from(pitch) < u64::from(width)
        {
            v2
        } else {
            pattern(0xf111_0000, i * 4)
        }
    })
}

/// A CPU model of a pitch-linear A8R8G8B8 image, for the expected results of 2D work.
#[derive(Clone)]
pub(crate) struct Image {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) px: Vec<u32>,
}

impl Image {
    pub(crate) fn new(width: usize, height: usize, v: u32) -> Image {
        Image {
            width,
            height,
            px: vec![v; width * height],
        }
    }

    pub(crate) fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, c: u32) {
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                self.px[y * self.width + x] = c;
            }
        }
    }

    /// Copies `w` x `h` from (`sx`, `sy`) of `src` to (`dx`, `dy`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn blit(
        &mut self,
        src: &Image,
        dx: usize,
        dy: usize,
        w: usize,
        h: usize,
        sx: usize,
        sy: usize,
    ) {
        for y in 0..h {
            for x in 0..w {
                self.px[(dy + y) * self.width + dx + x] = src.px[(sy + y) * src.width + sx + x];
            }
        }
    }
}

/// 2D solid rectangles and a 1:1 blit into a pitch surface whose pitch is wider than its
/// rows, checked pixel by pixel, padding included.
fn twod_pixels() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let (w, h, pitch) = (300usize, 200usize, 1280usize);
    let (sw, sh, spitch) = (64usize, 48usize, 512usize);
    let mut dst = Buf::new(&vm, &mut vas, (pitch * h) as u64, Placement::System)?;
    let mut src = Buf::new(&vm, &mut vas, (spitch * sh) as u64, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    const PAD: u32 = 0xeeee_eeee;
    dst.words_mut().fill(PAD);
    let mut simg = Image::new(sw, sh, 0);
    for y in 0..sh {
        for x in 0..sw {
            let v = 0xff00_0000 | ((x as u32 * 4) << 16) | ((y as u32 * 5) << 8) | ((x ^ y) as u32);
            simg.px[y * sw + x] = v;
            src.words_mut()[(y * spitch) / 4 + x] = v;
        }
    }
    let ds = Surface {
        va: dst.va,
        pitch: pitch as u32,
        width: w as u32,
        height: h as u32,
    };
    let ss = Surface {
        va: src.va,
        pitch: spitch as u32,
        width: sw as u32,
        height: sh as u32,
    };
    let mut img = Image::new(w, h, 0);
    let mut p = start(&g, Engine::TwoD);
    p.twod_setup().twod_dst(&ds);
    let rects: [(usize, usize, usize, usize, u32); 4] = [
        (0, 0, w, h, 0xff20_2020),
        (10, 20, 110, 70, 0xffff_0000),
        (250, 150, 300, 200, 0xff00_ff00),
        (0, 199, 1, 200, 0xff00_00ff),
    ];
    for (x0, y0, x1, y1, c) in rects {
        p.twod_fill_rect(x0 as u32, y0 as u32, x1 as u32, y1 as u32, c);
        img.rect(x0, y0, x1, y1, c);
    }
    p.twod_src(&ss);
    p.twod_blit(150, 30, 64, 48, 0, 0);
    img.blit(&simg, 150, 30, 64, 48, 0, 0);
    p.twod_blit(20, 120, 32, 16, 16, 8);
    img.blit(&simg, 20, 120, 32, 16, 16, 8);
    let ctx = Context::new(&vm, Engine::TwoD).ctx("CTX_CREATE 2d")?;
    run_ok(&ctx, &mut pb, &p, JOB_WAIT)?;
    let wpp = pitch / 4;
    match first_diff(dst.words(), |i| {
        let (y, x) = (i / wpp, i % wpp);
        // The object is rounded up to whole pages: rows past the surface stay padding too.
        if x < w && y < h {
            img.px[y * w + x]
        } else {
            PAD
        }
    }) {
        None => Ok(()),
        Some((off, got, want, n)) => Err(format!(
            "{n} pixel word(s) wrong, first at (x {}, y {}): {got:#010x}, want {want:#010x}",
            (off % pitch) / 4,
            off / pitch
        )),
    }
}

const CHAIN: u64 = 1000;

/// 1,000 jobs chained through a timeline: job i waits point i (job 0 waits nothing) and
/// signals point i + 1. Each job copies the counter word into order[i] with the CE, releases
/// i into slot[i], then i + 1 into the counter: order[i] == i proves job i ran after every
/// job before it, and before any after it.
fn timeline_1000() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, CHAIN, 256)?;
    data.words_mut().fill(0xffff_ffff);
    let (slots, order, counter) = (data.va, data.va + 16 * KIB, data.va + 32 * KIB);
    data.words_mut()[(32 * KIB / 4) as usize] = 0;
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let tl = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    for i in 0..CHAIN {
        let mut p = start(&g, Engine::Copy);
        p.ce_copy(counter, order + 4 * i, 4);
        p.sem_release(slots + 4 * i, i as u32, true);
        p.sem_release(counter, i as u32 + 1, true);
        let r = pb.put(&p)?;
        let waits = if i == 0 { vec![] } else { vec![tl.at(i)] };
        ctx.exec(&[r], &waits, &[tl.at(i + 1)])
            .ctx(format!("EXEC job {i}"))?;
    }
    tl.wait_point(CHAIN, LONG_WAIT, 0)
        .ctx(format!("wait for point {CHAIN}"))?;
    let v = tl.query(false).ctx("SYNCOBJ_QUERY")?;
    check(v == CHAIN, || format!("timeline value {v}, want {CHAIN}"))?;
    let w = data.words();
    expect_words("slots", &w[..CHAIN as usize], |i| i as u32)?;
    expect_words("order", &w[4096..4096 + CHAIN as usize], |i| i as u32)?;
    check(w[8192] == CHAIN as u32, || {
        format!("counter {}, want {CHAIN}", w[8192])
    })?;
    let st = query(&ctx)?;
    check(
        (st.resets, st.last_error, st.submitted, st.completed) == (0, 0, CHAIN, CHAIN),
        || format!("CTX_QUERY: {st:?}, want {CHAIN} submitted and completed, no reset"),
    )
}

/// Where, from the acquire word of [`hang_push`], its job writes that it started.
const STARTED_OFF: u64 = 0x800;

/// A job that acquires a semaphore word that never reaches its value (until the CPU writes
/// it). It first releases 1 [`STARTED_OFF`] bytes past the word: once that reads 1, the GPU
/// is running the job and the channel sits in the acquire ([`wait_started`]).
pub(crate) fn hang_push(g: &Gpu, engine: Engine, word_va: u64) -> Push {
    let mut p = start(g, engine);
    p.sem_release(word_va + STARTED_OFF, 1, false);
    p.sem_acquire(word_va, 1);
    p
}

/// Waits (up to [`JOB_WAIT`]) until the [`hang_push`] job whose acquire word is at byte
/// `word_off` of `map` has started on the GPU.
pub(crate) fn wait_started(map: &Mapping, word_off: u64, what: &str) -> Result<(), String> {
    let off = (word_off + STARTED_OFF) as usize;
    poll_until(
        format!("{what} starting on the GPU"),
        JOB_WAIT,
        Duration::from_millis(1),
        || {
            let v = map.read_u32(off);
            Ok((v != 1).then(|| format!("its start word reads {v:#x}")))
        },
    )
}

/// Runs a job of one semaphore release (`value` at `va`) on `ctx` to completion: the control
/// for "a job held back by its wait did not run". Channels run independently (a PBDMA thread
/// each in the vGPU) and a released job of one semaphore write takes microseconds there, so
/// once a job submitted later than the watched one, on another context, has gone all the way
/// through EXEC, the GPU, the non-stall interrupt and its fence, the watched job would have
/// run too had it been let through. Returns how long the control took.
fn control_job(
    g: &Gpu,
    ctx: &Context<'_>,
    pb: &mut PushBuf,
    va: u64,
    value: u32,
) -> Result<Duration, String> {
    let t = Instant::now();
    let mut p = start(g, Engine::Copy);
    p.sem_release(va, value, true);
    run_ok(ctx, pb, &p, JOB_WAIT).map_err(|e| format!("control job: {e}"))?;
    Ok(t.elapsed())
}

/// Jobs on a second context, one after the other, until `stop`: each releases a distinct
/// value into a slot, checked after its fence. Returns how many ran.
fn background_jobs(
    g: &Gpu,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(u64, CtxState), String> {
    let vm = Vm::new(&g.dev).ctx("VM_CREATE (background)")?;
    let mut vas = VaAlloc::new(&g.info);
    let data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 64, 256)?;
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE (background)")?;
    let mut n = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 3 {
        let slot = (n % 1024) * 4;
        let v = 0xb000_0000 | n as u32;
        let mut p = start(g, Engine::Copy);
        p.sem_release(data.va + slot, v, true);
        run_ok(&ctx, &mut pb, &p, JOB_WAIT).map_err(|e| format!("background job {n}: {e}"))?;
        let got = data.map.read_u32(slot as usize);
        check(got == v, || {
            format!("background job {n}: slot reads {got:#x}, want {v:#x}")
        })?;
        n += 1;
    }
    Ok((n, query(&ctx)?))
}

/// A hung job: its fence signals with -ETIMEDOUT after the job timeout, the context shows one
/// reset, the next job on it works, and a second context busy the whole time is unaffected.
fn hang() -> Result<(), String> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let g = gpu()?;
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let bg = s.spawn(|| background_jobs(&g, &stop));
        let r = hang_main(&g);
        stop.store(true, Ordering::Relaxed);
        let b = bg
            .join()
            .map_err(|_| "background thread panicked".to_string())?;
        r?;
        let (n, st) = b?;
        check(
            (st.resets, st.last_error) == (0, 0) && st.completed == n && st.submitted == n,
            || {
                format!(
                    "background context after {n} jobs: {st:?}, want no reset and all completed"
                )
            },
        )
    })
}

fn hang_main(g: &Gpu) -> Result<(), String> {
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 8, 4096)?;
    data.words_mut().fill(0);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let t = Instant::now();
    let (s, f) = submit(&ctx, &mut pb, &hang_push(g, Engine::Copy, data.va), &[])?;
    wait_started(&data.map, 0, "the hung job")?;
    // The job is on the GPU, stuck in its acquire: its fence is pending, unless the job
    // timeout has already passed. (That it stays pending until the job timeout is the `took`
    // check below, made on the fence's own signal.)
    let st = f.status().ctx("fence status")?;
    check(st == 0 || t.elapsed() >= g.job_timeout, || {
        format!(
            "the hung job's fence is {} after {:?}, with the job in its acquire",
            status_str(st),
            t.elapsed()
        )
    })?;
    s.wait(g.hang_wait(), 0).ctx(format!(
        "wait {:?} for the hung job (JOB_TIMEOUT_MS {:?})",
        g.hang_wait(),
        g.job_timeout
    ))?;
    let took = t.elapsed();
    check(took >= g.job_timeout.mul_f64(0.95), || {
        format!(
            "the hung job's fence signalled after {took:?}, before the job timeout {:?}",
            g.job_timeout
        )
    })?;
    let status = f.status().ctx("fence status")?;
    check(status == -libc::ETIMEDOUT, || {
        format!("hung job fence {}, want -ETIMEDOUT", status_str(status))
    })?;
    let st = query(&ctx)?;
    check(
        (st.resets, st.last_error, st.submitted, st.completed) == (1, -libc::ETIMEDOUT, 1, 1),
        || format!("CTX_QUERY after the hang: {st:?}, want 1 reset, -ETIMEDOUT, 1/1"),
    )?;
    // The word was never released: the job did not get past its acquire.
    check(data.map.read_u32(0) == 0, || {
        "the acquire word changed".into()
    })?;
    let mut p = start(g, Engine::Copy);
    p.sem_release(data.va + 64, 0x600d, true);
    run_ok(&ctx, &mut pb, &p, JOB_WAIT).map_err(|e| format!("job after the reset: {e}"))?;
    check(data.map.read_u32(64) == 0x600d, || {
        "job after the reset wrote nothing".into()
    })?;
    let st = query(&ctx)?;
    check((st.resets, st.submitted, st.completed) == (1, 2, 2), || {
        format!("CTX_QUERY after the next job: {st:?}")
    })
}

/// A job that makes the GPU stop the channel: -EIO on its fence and in CTX_QUERY, and the
/// next job works.
fn channel_error(bad: impl Fn(&mut Push)) -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 8, 4096)?;
    data.words_mut().fill(0);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;
    let mut p = start(&g, Engine::Copy);
    bad(&mut p);
    // Not reached: the channel stops at the bad method.
    p.sem_release(data.va, 0xbad, true);
    let status = run(&ctx, &mut pb, &p, g.hang_wait())?;
    check(status == -libc::EIO, || {
        format!("bad job fence {}, want -EIO", status_str(status))
    })?;
    check(data.map.read_u32(0) == 0, || {
        "the method after the bad one ran".into()
    })?;
    let st = query(&ctx)?;
    check((st.resets, st.last_error) == (1, -libc::EIO), || {
        format!("CTX_QUERY after the channel error: {st:?}, want 1 reset, -EIO")
    })?;
    let mut p = start(&g, Engine::Copy);
    p.sem_release(data.va + 4, 0x600d, true);
    run_ok(&ctx, &mut pb, &p, JOB_WAIT).map_err(|e| format!("job after the error: {e}"))?;
    check(data.map.read_u32(4) == 0x600d, || {
        "job after the error wrote nothing".into()
    })?;
    let st = query(&ctx)?;
    check((st.resets, st.submitted, st.completed) == (1, 2, 2), || {
        format!("CTX_QUERY after the next job: {st:?}")
    })
}

/// A copy-class method (LAUNCH_DMA) on subchannel 6, which nothing was bound to.
fn channel_error_unbound() -> Result<(), String> {
    channel_error(|p| {
        p.inc(6, push::ce::LAUNCH_DMA, &[0]);
    })
}

/// Method 0x0104 of the copy class: not a method of AMPERE_DMA_COPY_B (NOP is 0x0100 and
/// the next method the class header defines is PM_TRIGGER at 0x0140).
fn channel_error_illegal() -> Result<(), String> {
    channel_error(|p| {
        p.inc(SUBC_COPY, 0x0104, &[0]);
    })
}

fn bad_ctx() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let create = |vm_id, engine, flags| {
        let mut a = uapi::DrmNovaCtxCreate {
            vm_id,
            engine,
            flags,
            id: 0,
        };
        raw::ctx_create(&g.dev, &mut a).map(|()| a.id)
    };
    expect_err("CTX_CREATE on VM 0", create(0, 0, 0), libc::ENOENT)?;
    expect_err(
        "CTX_CREATE on a missing VM",
        create(vm.id() + 100, 0, 0),
        libc::ENOENT,
    )?;
    expect_err("CTX_CREATE engine 7", create(vm.id(), 7, 0), libc::EINVAL)?;
    expect_err("CTX_CREATE engine 2", create(vm.id(), 2, 0), libc::EINVAL)?;
    expect_err("CTX_CREATE flags 1", create(vm.id(), 0, 1), libc::EINVAL)?;
    expect_err(
        "CTX_CREATE flags 1 << 31",
        create(vm.id(), 0, 1 << 31),
        libc::EINVAL,
    )?;
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    check(ctx.id() != 0, || "context id 0".into())?;
    let st = query(&ctx)?;
    check(st == CtxState::default(), || {
        format!("fresh context: {st:?}")
    })?;
    let q = |id, flags| {
        let mut a = uapi::DrmNovaCtxQuery {
            id,
            flags,
            ..Default::default()
        };
        raw::ctx_query(&g.dev, &mut a)
    };
    expect_err("CTX_QUERY flags 1", q(ctx.id(), 1), libc::EINVAL)?;
    expect_err("CTX_QUERY unknown id", q(ctx.id() + 100, 0), libc::ENOENT)?;
    expect_err("CTX_QUERY id 0", q(0, 0), libc::ENOENT)?;
    let d = |id, pad| raw::ctx_destroy_raw(&g.dev, &mut uapi::DrmNovaCtxDestroy { id, pad });
    expect_err("CTX_DESTROY pad 1", d(ctx.id(), 1), libc::EINVAL)?;
    expect_err("CTX_DESTROY unknown id", d(ctx.id() + 100, 0), libc::ENOENT)?;
    // Another file cannot see this file's contexts.
    let other = Device::open_path(g.dev.path()).ctx("open a second file")?;
    expect_err(
        "CTX_DESTROY of another file's context",
        raw::ctx_destroy(&other, ctx.id()),
        libc::ENOENT,
    )?;
    let id = ctx.id();
    ctx.destroy().ctx("CTX_DESTROY")?;
    expect_err(
        "CTX_DESTROY twice",
        raw::ctx_destroy(&g.dev, id),
        libc::ENOENT,
    )?;
    expect_err("CTX_QUERY after destroy", q(id, 0), libc::ENOENT)?;
    // Both engines work where the chip has the class.
    for e in [Engine::Copy, Engine::TwoD] {
        let c = Context::new(&vm, e).ctx(format!("CTX_CREATE {e:?}"))?;
        drop(c);
    }
    Ok(())
}

/// Every malformed EXEC fails with its errno, queues nothing and installs no fence.
fn bad_exec() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut pb = PushBuf::new(&vm, &mut vas, 16, 4096)?;
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    let good = pb.put(&start(&g, Engine::Copy))?;
    let pbva = pb.buf.va;
    let pbsize = pb.buf.bo.size();
    let sig = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    let done = Syncobj::new(&g.dev, true).ctx("SYNCOBJ_CREATE signalled")?;
    let fresh_tl = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    let empty = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    let signals = [sig.binary()];
    let exec = |a: &mut uapi::DrmNovaExec| raw::exec(&g.dev, a);
    let base = || libnova::exec_args(ctx.id(), std::slice::from_ref(&good), &[], &signals);
    let with_push = |p: uapi::DrmNovaExecPush| {
        let v = [p];
        let mut a = base();
        a.push = v.as_ptr() as u64;
        exec(&mut a)
    };
    let unknown = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    let unknown_handle = unknown.handle();
    drop(unknown);

    let mut cases: Vec<(String, Result<(), Error>, i32)> = vec![];
    let mut a = base();
    a.ctx_id += 100;
    cases.push(("unknown ctx".into(), exec(&mut a), libc::ENOENT));
    let mut a = base();
    a.ctx_id = 0;
    cases.push(("ctx 0".into(), exec(&mut a), libc::ENOENT));
    let mut a = base();
    a.flags = 1;
    cases.push(("flags 1".into(), exec(&mut a), libc::EINVAL));
    let mut a = base();
    a.pad = 1;
    cases.push(("pad 1".into(), exec(&mut a), libc::EINVAL));
    let mut a = base();
    a.num_push = 0;
    cases.push(("num_push 0".into(), exec(&mut a), libc::EINVAL));
    let many = vec![good; uapi::NOVA_EXEC_MAX_PUSH as usize + 1];
    let mut a = libnova::exec_args(ctx.id(), &many, &[], &signals);
    cases.push(("num_push 257".into(), exec(&mut a), libc::EINVAL));
    cases.push((
        "push flags 1".into(),
        with_push(uapi::DrmNovaExecPush { flags: 1, ..good }),
        libc::EINVAL,
    ));
    cases.push((
        "push va unaligned".into(),
        with_push(uapi::DrmNovaExecPush {
            va: good.va + 2,
            ..good
        }),
        libc::EINVAL,
    ));
    cases.push((
        "push size 0".into(),
        with_push(uapi::DrmNovaExecPush { size: 0, ..good }),
        libc::EINVAL,
    ));
    cases.push((
        "push size 6".into(),
        with_push(uapi::DrmNovaExecPush { size: 6, ..good }),
        libc::EINVAL,
    ));
    cases.push((
        "push size MAX_PUSH_SIZE + 4".into(),
        with_push(uapi::DrmNovaExecPush {
            size: uapi::NOVA_EXEC_MAX_PUSH_SIZE + 4,
            ..good
        }),
        libc::EINVAL,
    ));
    cases.push((
        "push outside any mapping".into(),
        with_push(uapi::DrmNovaExecPush {
            va: pbva + 64 * MIB,
            ..good
        }),
        libc::EINVAL,
    ));
    cases.push((
        "push running past its mapping".into(),
        with_push(uapi::DrmNovaExecPush {
            va: pbva + pbsize - 4,
            size: 8,
            flags: 0,
        }),
        libc::EINVAL,
    ));
    cases.push((
        "push below the VA window (the context's own ring)".into(),
        with_push(uapi::DrmNovaExecPush {
            va: MIB,
            size: 64,
            flags: 0,
        }),
        libc::EINVAL,
    ));
    let wait_with = |w: uapi::DrmNovaSync| {
        let waits = [w];
        exec(&mut libnova::exec_args(ctx.id(), &[good], &waits, &signals))
    };
    let signal_with = |s: uapi::DrmNovaSync| {
        let sigs = [s];
        exec(&mut libnova::exec_args(ctx.id(), &[good], &[], &sigs))
    };
    cases.push((
        "unknown wait syncobj".into(),
        wait_with(uapi::DrmNovaSync {
            handle: unknown_handle,
            flags: 0,
            point: 0,
        }),
        libc::ENOENT,
    ));
    cases.push((
        "wait syncobj handle 0".into(),
        wait_with(uapi::DrmNovaSync {
            handle: 0,
            flags: 0,
            point: 0,
        }),
        libc::ENOENT,
    ));
    cases.push((
        "unknown signal syncobj".into(),
        signal_with(uapi::DrmNovaSync {
            handle: unknown_handle,
            flags: 0,
            point: 0,
        }),
        libc::ENOENT,
    ));
    cases.push((
        "wait sync flags 1".into(),
        wait_with(uapi::DrmNovaSync {
            flags: 1,
            ..done.binary()
        }),
        libc::EINVAL,
    ));
    cases.push((
        "signal sync flags 1".into(),
        signal_with(uapi::DrmNovaSync {
            flags: 1,
            ..sig.binary()
        }),
        libc::EINVAL,
    ));
    cases.push((
        "wait on an unsubmitted timeline point".into(),
        wait_with(fresh_tl.at(5)),
        libc::EINVAL,
    ));
    cases.push((
        "wait on a binary syncobj without a fence".into(),
        wait_with(empty.binary()),
        libc::EINVAL,
    ));
    let too_many = vec![done.binary(); uapi::NOVA_EXEC_MAX_SYNCS as usize];
    cases.push((
        "64 waits + 1 signal".into(),
        exec(&mut libnova::exec_args(
            ctx.id(),
            &[good],
            &too_many,
            &signals,
        )),
        libc::EINVAL,
    ));
    let mut a = base();
    a.push = 8;
    cases.push(("push pointer 8".into(), exec(&mut a), libc::EFAULT));
    let mut a = base();
    a.num_waits = 1;
    a.waits = 8;
    cases.push(("waits pointer 8".into(), exec(&mut a), libc::EFAULT));
    let mut a = base();
    a.signals = u64::MAX - 7;
    cases.push((
        "signals pointer at the top".into(),
        exec(&mut a),
        libc::EFAULT,
    ));

    let mut errs = vec![];
    for (what, r, errno) in cases {
        if let Err(e) = expect_err(&what, r, errno) {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(errs.join("; "));
    }
    let st = query(&ctx)?;
    check(st.submitted == 0, || {
        format!("failed EXECs queued jobs: {st:?}")
    })?;
    check(
        sig.export_sync_file().is_err() && !sig.is_signaled().ctx("SYNCOBJ_WAIT")?,
        || "a failed EXEC installed a fence in its signal syncobj".into(),
    )?;
    // And the good one works after all that.
    exec(&mut base()).ctx("EXEC good")?;
    sig.wait(JOB_WAIT, 0).ctx("wait good")?;
    let st = query(&ctx)?;
    check((st.submitted, st.completed, st.resets) == (1, 1, 0), || {
        format!("{st:?}")
    })
}

/// The largest EXEC the interface allows works: 256 ranges, 64 syncobjs.
fn exec_limits() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 300, 256)?;
    data.words_mut().fill(0);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    // Range i releases i + 1 into slot i: all 256 ran, in order or not, each once.
    let mut ranges = vec![];
    for i in 0..uapi::NOVA_EXEC_MAX_PUSH as u64 {
        let mut p = start(&g, Engine::Copy);
        p.sem_release(data.va + 4 * i, i as u32 + 1, true);
        ranges.push(pb.put(&p)?);
    }
    // One signalled syncobj waited on, and 63 syncobjs signalled.
    let done = Syncobj::new(&g.dev, true).ctx("SYNCOBJ_CREATE")?;
    let sigs: Vec<Syncobj> = (0..uapi::NOVA_EXEC_MAX_SYNCS - 1)
        .map(|_| Syncobj::new(&g.dev, false))
        .collect::<Result<_, _>>()
        .ctx("SYNCOBJ_CREATE")?;
    let s: Vec<_> = sigs.iter().map(Syncobj::binary).collect();
    ctx.exec(&ranges, &[done.binary()], &s)
        .ctx("EXEC 256 ranges, 64 syncobjs")?;
    for (i, so) in sigs.iter().enumerate() {
        so.wait(JOB_WAIT, 0).ctx(format!("signal syncobj {i}"))?;
    }
    // The longest range the interface allows is accepted too (NOPs; 8 MiB - 4 bytes).
    let mut big = Buf::new(&vm, &mut vas, 8 * MIB, Placement::System)?;
    big.words_mut().fill(0);
    let nops = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    ctx.exec(
        &[libnova::push_range(big.va, uapi::NOVA_EXEC_MAX_PUSH_SIZE)],
        &[],
        &[nops.binary()],
    )
    .ctx("EXEC of NOVA_EXEC_MAX_PUSH_SIZE bytes")?;
    nops.wait(LONG_WAIT, 0).ctx("wait for the NOPs")?;
    expect_words("slots", &data.words()[..256], |i| i as u32 + 1)?;
    let st = query(&ctx)?;
    check((st.submitted, st.completed, st.resets) == (2, 2, 0), || {
        format!("{st:?}")
    })
}

/// NOVA_CTX_MAX_PER_VM contexts on one VM; one more fails (ENOSPC, as for VMs per file),
/// and a freed one can be made again.
fn ctx_limit() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut ctxs = vec![];
    for i in 0..uapi::NOVA_CTX_MAX_PER_VM {
        ctxs.push(Context::new(&vm, Engine::Copy).ctx(format!("CTX_CREATE {i}"))?);
    }
    expect_err(
        "CTX_CREATE past NOVA_CTX_MAX_PER_VM",
        Context::new(&vm, Engine::Copy).map(|c| c.id()),
        libc::ENOSPC,
    )?;
    // Another VM is not affected.
    let vm2 = Vm::new(&g.dev).ctx("VM_CREATE")?;
    Context::new(&vm2, Engine::TwoD).ctx("CTX_CREATE on a second VM")?;
    ctxs.pop();
    Context::new(&vm, Engine::Copy).ctx("CTX_CREATE after freeing one")?;
    Ok(())
}

/// A job waiting on a fence that does not signal stays queued; CTX_DESTROY kills it: its
/// fence signals with -ESRCH, not before the fence it waited for, and its push never runs.
fn wait_cancelled() -> Result<(), String> {
    let g = gpu()?;
    let t = Instant::now();
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pa = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    let mut pbb = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    data.words_mut().fill(0);
    let mut pc = PushBuf::new(&vm, &mut vas, 4, 4096)?;
    let a = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE A")?;
    let b = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE B")?;
    let c = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE C (control)")?;
    // A blocks on a word the CPU releases at the end (before the job timeout).
    let (sa, fa) = submit(&a, &mut pa, &hang_push(&g, Engine::Copy, data.va), &[])?;
    let mut p = start(&g, Engine::Copy);
    p.sem_release(data.va + 4, 0x5eed, true);
    let (sb, fb) = submit(&b, &mut pbb, &p, &[sa.binary()])?;
    wait_started(&data.map, 0, "A")?;
    // B must be held back by its wait: a control job submitted after B, on context C, runs
    // to completion first (see `control_job` for why that is long enough).
    let took = control_job(&g, &c, &mut pc, data.va + 8, 0xc0)?;
    check(data.map.read_u32(8) == 0xc0, || {
        "the control job wrote nothing".into()
    })?;
    check(
        !sb.is_signaled().ctx("SYNCOBJ_WAIT")? && data.map.read_u32(4) == 0,
        || format!("the waiting job ran or signalled within the {took:?} a later job took"),
    )?;
    let st = query(&b)?;
    check((st.submitted, st.completed) == (1, 0), || {
        format!("B before destroy: {st:?}")
    })?;
    b.destroy().ctx("CTX_DESTROY B")?;
    // The DRM scheduler kills B, but its fence may not signal before what B waits for (A):
    // B is still pending after a later control job, and has not run.
    let took = control_job(&g, &c, &mut pc, data.va + 12, 0xc1)?;
    check(
        !sb.is_signaled().ctx("SYNCOBJ_WAIT")? && data.map.read_u32(4) == 0,
        || format!("the killed job signalled or ran within {took:?}, before its wait fence"),
    )?;
    // Now let A finish, well inside the job timeout: B's fence follows with -ESRCH, and B
    // never runs.
    data.map.write_u32(0, 1);
    sa.wait(JOB_WAIT, 0).ctx("A after its word was released")?;
    sb.wait(Duration::from_secs(10), 0)
        .ctx("the killed job's signal syncobj")?;
    let s = fb.status().ctx("fence status")?;
    check(s == -libc::ESRCH, || {
        format!("killed job fence {}, want -ESRCH", status_str(s))
    })?;
    check(data.map.read_u32(4) == 0, || "the killed job ran".into())?;
    let s = fa.status().ctx("fence status")?;
    let st = query(&a)?;
    check(s == 1 && st.resets == 0, || {
        format!("A: fence {}, {st:?}", status_str(s))
    })?;
    check(t.elapsed() < g.job_timeout, || {
        format!(
            "inconclusive: the test took {:?}, longer than the job timeout {:?}",
            t.elapsed(),
            g.job_timeout
        )
    })
}

/// CTX_DESTROY with a running (blocked) job and jobs queued behind it: every fence signals
/// -ECANCELED at once, nothing more runs.
fn destroy_in_flight() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 8, 4096)?;
    data.words_mut().fill(0);
    let ctx = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    let t = Instant::now();
    let mut jobs = vec![submit(
        &ctx,
        &mut pb,
        &hang_push(&g, Engine::Copy, data.va),
        &[],
    )?];
    for i in 1..6u64 {
        let mut p = start(&g, Engine::Copy);
        p.sem_release(data.va + 4 * i, 0x1000 + i as u32, true);
        jobs.push(submit(&ctx, &mut pb, &p, &[])?);
    }
    // Destroy only once the first job is really running (stuck in its acquire on the GPU).
    wait_started(&data.map, 0, "the blocking job")?;
    ctx.destroy().ctx("CTX_DESTROY with jobs in flight")?;
    for (i, (s, f)) in jobs.iter().enumerate() {
        s.wait(g.hang_wait(), 0)
            .ctx(format!("job {i} after destroy"))?;
        let st = f.status().ctx("fence status")?;
        // The running job is stopped (-ECANCELED); the ones behind it are on the ring too
        // (-ECANCELED) unless the scheduler still held one, which it kills (-ESRCH).
        let ok = st == -libc::ECANCELED || (i > 0 && st == -libc::ESRCH);
        check(ok, || {
            format!(
                "job {i}: fence {}, want -ECANCELED (or -ESRCH if it had not reached the ring)",
                status_str(st)
            )
        })?;
    }
    check(t.elapsed() < g.job_timeout, || {
        format!(
            "cancelling took {:?}, longer than the job timeout {:?}",
            t.elapsed(),
            g.job_timeout
        )
    })?;
    expect_words("markers", &data.words()[1..6], |_| 0)
}

/// Closing the file with a blocked job and a job waiting on it: both fences (held as sync
/// files, which outlive the file) signal -ECANCELED.
fn close_with_jobs_queued() -> Result<(), String> {
    let g = gpu()?;
    let files = {
        let dev = Device::open_path(g.dev.path()).ctx("open a second file")?;
        let g2 = gpu_of(dev.clone())?;
        // Raw VM and contexts: their wrappers would destroy them on drop; this test wants the
        // file's close to do it.
        let vm_id = raw::vm_create(&dev, 0).ctx("VM_CREATE")?;
        let bo = Bo::new(&dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
        let pbo = Bo::new(&dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
        let mut vas = VaAlloc::new(&g2.info);
        let (dva, pva) = (vas.take(64 * KIB)?, vas.take(64 * KIB)?);
        let bind = |bo: &Bo, va| {
            let ops = [Op::map_all(bo, va).encode()];
            raw::vm_bind(&dev, &mut libnova::bind_args(vm_id, &ops))
        };
        bind(&bo, dva).ctx("VM_BIND data")?;
        bind(&pbo, pva).ctx("VM_BIND push")?;
        let mut data = bo.map().ctx("mmap")?;
        for off in [0, 4, 8, STARTED_OFF as usize] {
            data.write_u32(off, 0);
        }
        let mut pm = pbo.map().ctx("mmap")?;
        let ctx_id = |engine| {
            let mut a = uapi::DrmNovaCtxCreate {
                vm_id,
                engine,
                flags: 0,
                id: 0,
            };
            raw::ctx_create(&dev, &mut a).map(|()| a.id)
        };
        let (ca, cb, cc) = (
            ctx_id(uapi::NOVA_ENGINE_COPY).ctx("CTX_CREATE")?,
            ctx_id(uapi::NOVA_ENGINE_COPY).ctx("CTX_CREATE")?,
            ctx_id(uapi::NOVA_ENGINE_COPY).ctx("CTX_CREATE (control)")?,
        );
        let hang = hang_push(&g2, Engine::Copy, dva);
        hang.write_to(&mut pm, 0);
        let mut w = start(&g2, Engine::Copy);
        w.sem_release(dva + 4, 0x5eed, true);
        w.write_to(&mut pm, 4096);
        let sa = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
        let sb = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
        let push_a = [hang.range(pva)];
        let push_b = [w.range(pva + 4096)];
        let (sig_a, sig_b) = ([sa.binary()], [sb.binary()]);
        raw::exec(&dev, &mut libnova::exec_args(ca, &push_a, &[], &sig_a)).ctx("EXEC A")?;
        raw::exec(&dev, &mut libnova::exec_args(cb, &push_b, &sig_a, &sig_b)).ctx("EXEC B")?;
        let fa = sa.export_sync_file().ctx("export A")?;
        let fb = sb.export_sync_file().ctx("export B")?;
        wait_started(&data, 0, "A")?;
        // B is held back by its wait on A: a control job submitted after B, on a third
        // context, completes first (see `control_job` for why that is long enough).
        let mut c = start(&g2, Engine::Copy);
        c.sem_release(dva + 8, 0xc0, true);
        c.write_to(&mut pm, 8192);
        let sc = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
        let (push_c, sig_c) = ([c.range(pva + 8192)], [sc.binary()]);
        raw::exec(&dev, &mut libnova::exec_args(cc, &push_c, &[], &sig_c)).ctx("EXEC control")?;
        sc.wait(JOB_WAIT, 0).ctx("the control job")?;
        check(data.read_u32(8) == 0xc0, || {
            "the control job wrote nothing".into()
        })?;
        check(
            fb.status().ctx("status")? == 0 && data.read_u32(4) == 0,
            || "B ran before A".into(),
        )?;
        // Everything of the second file goes now: syncobjs, objects, mappings, the file.
        (fa, fb, Instant::now())
    };
    let (fa, fb, t) = files;
    for (name, f) in [("blocked job", &fa), ("waiting job", &fb)] {
        check(f.wait(g.hang_wait()).ctx("poll")?, || {
            format!("{name}: fence never signalled")
        })?;
        let s = f.status().ctx("status")?;
        // The waiting job never reached the GPU: the scheduler either offered it to the dead
        // context (-ECANCELED) or killed it with its entity (-ESRCH), after A's fence.
        let ok = s == -libc::ECANCELED || (name == "waiting job" && s == -libc::ESRCH);
        check(ok, || {
            format!(
                "{name} after close: fence {}, want -ECANCELED",
                status_str(s)
            )
        })?;
    }
    check(t.elapsed() < g.job_timeout, || {
        format!(
            "cancelling took {:?}, longer than the job timeout {:?}",
            t.elapsed(),
            g.job_timeout
        )
    })
}

/// How long [`destroy_races_exec`] races.
const RACE_TIME: Duration = Duration::from_secs(8);

/// A child process sharing the file loops CTX_DESTROY/CTX_CREATE on the context while the
/// parent EXECs on its id: every EXEC either queues its job or fails with `ENOENT` (the id
/// names no context, or the context died under it); `ENODEV` would say the GPU is gone.
fn destroy_races_exec() -> Result<(), String> {
    let g = gpu()?;
    let dev = &g.dev;
    let vm = Vm::new(dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let data = Buf::new(&vm, &mut vas, 64 * KIB, Placement::System)?;
    let mut pb = PushBuf::new(&vm, &mut vas, 1, 4096)?;
    let mut p = start(&g, Engine::Copy);
    p.sem_release(data.va, 1, true);
    let range = [pb.put(&p)?];
    let new_ctx = || {
        let mut a = uapi::DrmNovaCtxCreate {
            vm_id: vm.id(),
            engine: uapi::NOVA_ENGINE_COPY,
            flags: 0,
            id: 0,
        };
        raw::ctx_create(dev, &mut a).map(|()| a.id)
    };
    let id = new_ctx().ctx("CTX_CREATE")?;
    // SAFETY: the test program is single-threaded here; the child only makes ioctls on the
    // inherited file and leaves with _exit, running no destructor of the parent's state.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", Error::last_os_error("fork")));
    }
    if pid == 0 {
        let t = Instant::now();
        let mut code = 0;
        while t.elapsed() < RACE_TIME {
            let destroyed = raw::ctx_destroy(dev, id);
            let created = new_ctx();
            // The only context of the VM: destroying it frees its slot, so it comes back
            // with the same id.
            if destroyed.is_err() || !matches!(created, Ok(n) if n == id) {
                code = 1;
                break;
            }
        }
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let t = Instant::now();
    let (mut ok, mut enoent, mut other) = (0u32, 0u32, Vec::new());
    while t.elapsed() < RACE_TIME {
        match raw::exec(dev, &mut libnova::exec_args(id, &range, &[], &[])) {
            Ok(()) => ok += 1,
            Err(e) if e.errno() == libc::ENOENT => enoent += 1,
            Err(e) => other.push(errno_str(e.errno())),
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child; `status` is a live int.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    println!(
        "exec: destroy/EXEC race: {ok} EXECs queued, {enoent} ENOENT, {} other",
        other.len()
    );
    let _ = raw::ctx_destroy(dev, id);
    check(other.is_empty(), || {
        format!(
            "{} EXEC(s) failed with an errno other than ENOENT: {:?}",
            other.len(),
            &other[..other.len().min(8)]
        )
    })?;
    check(
        r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        || format!("the destroying child failed (wait status {status:#x})"),
    )?;
    check(ok > 0, || "no EXEC got through in the race".into())
}

// --- `nova-guest-tests render PATH` ------------------------------------------------------

/// Width and height of the `make run` picture.
pub const RENDER_W: u32 = 512;
/// Height.
pub const RENDER_H: u32 = 384;

/// Renders the `make run` picture on the GPU and writes it to `path` as a binary PPM: a 2D
/// job fills a gradient of small rectangles and some boxes; a copy-engine job (waiting on the
/// 2D job's syncobj) frames a region with constant fills and copies a tile; a last 2D job
/// (waiting on the CE job) blits another tile at 1:1. The file is what the GPU wrote, read
/// back from the surface's object.
pub fn render(path: &str) -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let (w, h) = (RENDER_W, RENDER_H);
    let pitch = w * 4;
    let mut surf = Buf::new(&vm, &mut vas, u64::from(pitch * h), Placement::System)?;
    surf.words_mut().fill(0);
    let mut pb2d = PushBuf::new(&vm, &mut vas, 2, 256 * KIB)?;
    let mut pbce = PushBuf::new(&vm, &mut vas, 1, 16 * KIB)?;
    let s = Surface {
        va: surf.va,
        pitch,
        width: w,
        height: h,
    };
    let twod = Context::new(&vm, Engine::TwoD).ctx("CTX_CREATE 2d")?;
    let copy = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE copy")?;

    // 1. 2D: a gradient of 16 x 16 fills, then a few boxes.
    let mut p = start(&g, Engine::TwoD);
    p.twod_setup().twod_dst(&s);
    for ty in 0..h / 16 {
        for tx in 0..w / 16 {
            let r = tx * 255 / (w / 16 - 1);
            let gr = ty * 255 / (h / 16 - 1);
            let b = 255 - (r + gr) / 2;
            let c = 0xff00_0000 | (r << 16) | (gr << 8) | b;
            p.twod_fill_rect(tx * 16, ty * 16, tx * 16 + 16, ty * 16 + 16, c);
        }
    }
    for (x0, y0, x1, y1, c) in [
        (40, 40, 200, 140, 0xffff_ffff),
        (48, 48, 192, 132, 0xffd0_3030),
        (300, 60, 470, 180, 0xff20_2020),
        (310, 70, 460, 170, 0xfff0_c000),
        (60, 220, 180, 340, 0xff00_0000),
        (68, 228, 172, 332, 0xff30_a0f0),
    ] {
        p.twod_fill_rect(x0, y0, x1, y1, c);
    }
    let s1 = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    twod.exec(&[pb2d.put(&p)?], &[], &[s1.binary()])
        .ctx("EXEC 2d")?;

    // 2. CE, after the 2D job: a white frame (four constant fills) and a copy of the red box.
    let mut p = start(&g, Engine::Copy);
    let at = |x: u32, y: u32| surf.va + u64::from(y * pitch + x * 4);
    p.ce_fill_2d(at(220, 210), pitch, 260 * 4, 4, 0xffff_ffff);
    p.ce_fill_2d(at(220, 356), pitch, 260 * 4, 4, 0xffff_ffff);
    p.ce_fill_2d(at(220, 210), pitch, 4 * 4, 150, 0xffff_ffff);
    p.ce_fill_2d(at(476, 210), pitch, 4 * 4, 150, 0xffff_ffff);
    p.ce_copy_2d(at(40, 40), pitch, at(240, 230), pitch, 160 * 4, 100);
    let s2 = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    copy.exec(&[pbce.put(&p)?], &[s1.binary()], &[s2.binary()])
        .ctx("EXEC copy")?;

    // 3. 2D, after the CE job: the yellow box blitted 1:1 into the frame, over the copy.
    let mut p = start(&g, Engine::TwoD);
    p.twod_setup().twod_dst(&s).twod_src(&s);
    p.twod_blit(410, 250, 60, 90, 380, 75);
    let s3 = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    twod.exec(&[pb2d.put(&p)?], &[s2.binary()], &[s3.binary()])
        .ctx("EXEC 2d blit")?;
    s3.wait(LONG_WAIT, 0).ctx("wait for the picture")?;
    for (name, c) in [("2d", &twod), ("copy", &copy)] {
        let st = query(c)?;
        check(st.resets == 0, || {
            format!("{name} context was reset: {st:?}")
        })?;
    }

    // A8R8G8B8 in memory is B, G, R, A (little endian).
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    for px in surf.words() {
        out.extend_from_slice(&[(px >> 16) as u8, (px >> 8) as u8, *px as u8]);
    }
    std::fs::write(path, &out).ctx(format!("write {path}"))?;
    println!("render: wrote {path} ({w}x{h}, read back from the GPU's surface)");
    Ok(())
}
