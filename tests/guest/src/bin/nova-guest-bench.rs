// SPDX-License-Identifier: GPL-2.0
//! Benchmarks for `make bench`: `nova-guest-bench MODE` (no MODE: `bar`). Every mode but `host`
//! runs inside the guest; `host` runs on the host, before the guest boots, and hands its figures
//! to the guest through a file (see `scripts/bench.sh`).
//!
//! How each figure is timed: many repetitions of one operation inside ONE interval, the count
//! grown until the interval spans at least [`MIN_STEPS`] steps of the clock, so the clock's own
//! quantisation is at most 1 % of it (never a sum of per-operation timings: under TCG the guest
//! clock may step in 4 ms jiffies, coarser than one operation). The step is measured in the
//! same process: the smallest non-zero difference between two reads of `CLOCK_MONOTONIC`
//! (which includes the cost of a read). Every figure prints its repetitions and interval; a
//! ratio is printed only when both of its figures are resolved, and says what it means.
//!
//! `host [FILE]`: the host's memcpy of 64 MiB (the limit of a copy engine the vGPU runs as host
//! code) and a unix-socket round trip between two threads with a vfio-user 4-byte region read's
//! message sizes (the floor of a BAR0 read, which QEMU forwards to the vGPU process as such a
//! message). FILE gets `NOVA_BENCH_HOST_MEMCPY_MIBS=` and `NOVA_BENCH_HOST_RTT_NS=` lines,
//! which `tests/vm/bench.sh` exports to the guest modes below.
//!
//! `bar` (no driver bound): 32-bit reads of `NV_PMC_BOOT_0` through a mapping of the vGPU's
//! BAR0 (each one a vfio-user message to the vGPU process and back), beside reads of BAR3 (a
//! shared memfd QEMU maps straight into the guest: a device-memory load with no round trip) and
//! beside the host's socket round trip. Leaves its BAR0 figure in [`BAR0_FILE`] for `bind`.
//!
//! `probe` (nova-core just loaded): the probe's stages from debugfs (the kernel's clock, in
//! whole microseconds), the whole probe beside its own `firmware_request` stage.
//!
//! `gem` (nova-drm loaded): GEM object life cycles per second (create, mmap, write one page,
//! munmap, close) of a 64 KiB system-memory object on nova and on the kernel's vgem driver
//! (dumb buffers on its card node) in the same boot.
//!
//! `bind` (nova-drm loaded): VM_BIND MAP of a 1 GiB VRAM object (2 MiB pages: 512 entries) and
//! its UNMAP, beside their floor measured in the same boot: each is one ioctl (timed as
//! GETPARAM on the same file) ending in a TLB invalidate whose completion is polled with at
//! least one BAR0 read (timed by `bar`).
//!
//! `copy` (nova-drm loaded): copy-engine throughput of 64 MiB GEM-to-GEM copies (VRAM to VRAM
//! in 2 MiB pages, system memory to system memory; EXEC to fence) beside the host's memcpy of
//! 64 MiB, and, as a second and different comparison, the guest CPU's own memcpy of 64 MiB.
//!
//! `latency` (nova-drm loaded): an empty job's EXEC-to-fence latency (one NOP word signalling
//! a binary syncobj, then SYNCOBJ_WAIT) beside a syncobj round trip in the same boot: another
//! thread SYNCOBJ_SIGNALs, this one returns from its SYNCOBJ_WAIT.

use libnova::push::SUBC_COPY;
use libnova::{drm, Bo, Context, Device, Engine, Mapping, Op, Placement, Push, Syncobj, Vm};
use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

/// An interval is resolved when it spans at least this many steps of the clock.
const MIN_STEPS: u32 = 100;

/// The clock every figure is timed with, and its measured step.
struct Clock {
    step: Duration,
    source: String,
}

impl Clock {
    fn measure() -> Clock {
        let source = std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
        let t0 = Instant::now();
        let mut last = t0;
        let mut step = Duration::MAX;
        let mut seen = 0;
        while seen < 20 && t0.elapsed() < Duration::from_millis(300) {
            let now = Instant::now();
            if now > last {
                step = step.min(now - last);
                seen += 1;
                last = now;
            }
        }
        Clock { step, source }
    }

    /// The shortest resolved interval.
    fn min_interval(&self) -> Duration {
        self.step.saturating_mul(MIN_STEPS)
    }

    fn describe(&self) -> String {
        format!(
            "clocksource {}, step {} (smallest non-zero difference of two CLOCK_MONOTONIC \
             reads); an interval is resolved at >= {MIN_STEPS} steps = {}",
            self.source,
            human(self.step.as_secs_f64()),
            human(self.min_interval().as_secs_f64())
        )
    }
}

/// `reps` repetitions of one operation, timed as one interval.
#[derive(Clone, Copy)]
struct Sample {
    total: Duration,
    reps: u64,
    resolved: bool,
}

impl Sample {
    /// Seconds per repetition.
    fn per_op(&self) -> f64 {
        self.total.as_secs_f64() / self.reps as f64
    }

    /// "N <what> in T" and, when unresolved, why the figure is only a bound.
    fn how(&self, clock: &Clock, what: &str) -> String {
        let mut s = format!(
            "{} {what} in {}",
            self.reps,
            human(self.total.as_secs_f64())
        );
        if !self.resolved {
            s += &format!(
                ", UNRESOLVED: under {MIN_STEPS} clock steps of {}",
                human(clock.step.as_secs_f64())
            );
        }
        s
    }
}

/// Times `run(n)`, which performs `n` repetitions of one operation, as one interval, growing
/// `n` from `reps` until the interval is resolved and at least `min` long, or `n` reaches
/// `max_reps` (then the sample says it is not resolved).
fn time_reps(
    clock: &Clock,
    mut reps: u64,
    max_reps: u64,
    min: Duration,
    mut run: impl FnMut(u64) -> Result<(), String>,
) -> Result<Sample, String> {
    let want = min.max(clock.min_interval());
    loop {
        let t = Instant::now();
        run(reps)?;
        let total = t.elapsed();
        if total >= want || reps >= max_reps {
            return Ok(Sample {
                total,
                reps,
                resolved: total >= clock.min_interval(),
            });
        }
        let grow = if total.is_zero() {
            16.0
        } else {
            (want.as_secs_f64() / total.as_secs_f64() * 1.25).clamp(2.0, 1024.0)
        };
        reps = ((reps as f64 * grow) as u64).min(max_reps);
    }
}

/// `a / b` of two figures, or why it is not printed.
fn ratio(a: f64, a_ok: bool, b: f64, b_ok: bool) -> Option<f64> {
    (a_ok && b_ok && b > 0.0).then(|| a / b)
}

fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r >= 100.0 => format!("{r:.0}x"),
        Some(r) if r >= 10.0 => format!("{r:.1}x"),
        Some(r) => format!("{r:.2}x"),
        None => "not printed (a figure is unresolved or missing)".into(),
    }
}

/// Seconds in a readable unit, three significant digits or more.
fn human(secs: f64) -> String {
    let (v, unit) = if secs >= 1.0 {
        (secs, "s")
    } else if secs >= 1e-3 {
        (secs * 1e3, "ms")
    } else if secs >= 1e-6 {
        (secs * 1e6, "us")
    } else {
        (secs * 1e9, "ns")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// A figure handed in by `host` through the environment.
fn host_figure(name: &str) -> Option<f64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

const COPY_SIZE: u64 = 64 << 20;
const MIB: f64 = (1 << 20) as f64;

/// The memcpy baseline, on the host and in the guest alike.
fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    dst.copy_from_slice(black_box(src));
    black_box(dst);
}

/// vfio-user message sizes of a 4-byte region read: a 16-byte header plus the 16-byte
/// `vfio_user_region_access` (offset, region, count) there; the same plus 4 data bytes back.
const RTT_REQ: usize = 32;
const RTT_REPLY: usize = 36;

/// The host's figures are limits: the fastest of this many intervals (other processes on a
/// shared host can only slow an interval down).
const HOST_INTERVALS: usize = 5;

/// The sample with the shortest time per repetition of `n` runs of `f`.
fn fastest_of(n: usize, mut f: impl FnMut() -> Result<Sample, String>) -> Result<Sample, String> {
    let mut best: Option<Sample> = None;
    for _ in 0..n {
        let s = f()?;
        if best.is_none_or(|b| s.per_op() < b.per_op()) {
            best = Some(s);
        }
    }
    best.ok_or_else(|| "no interval".into())
}

fn bench_host(out: Option<&str>) -> Result<(), String> {
    let clock = Clock::measure();
    println!("bench: host clock: {}", clock.describe());
    let src = vec![0x5au8; COPY_SIZE as usize];
    let mut dst = vec![0u8; COPY_SIZE as usize];
    copy_bytes(&mut dst, &src);
    let mc = fastest_of(HOST_INTERVALS, || {
        time_reps(&clock, 4, 1 << 12, Duration::from_millis(100), |n| {
            for _ in 0..n {
                copy_bytes(&mut dst, &src);
            }
            Ok(())
        })
    })?;
    let mibs = COPY_SIZE as f64 / MIB / mc.per_op();
    let (mut a, mut b) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
    let echo = std::thread::spawn(move || {
        let mut req = [0u8; RTT_REQ];
        let reply = [0u8; RTT_REPLY];
        while b.read_exact(&mut req).is_ok() {
            if b.write_all(&reply).is_err() {
                break;
            }
        }
    });
    let mut round_trip = |n: u64| -> Result<(), String> {
        let (req, mut reply) = ([0u8; RTT_REQ], [0u8; RTT_REPLY]);
        for _ in 0..n {
            a.write_all(&req).map_err(|e| e.to_string())?;
            a.read_exact(&mut reply).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    round_trip(100)?;
    let rt = fastest_of(HOST_INTERVALS, || {
        time_reps(
            &clock,
            1000,
            1 << 24,
            Duration::from_millis(100),
            &mut round_trip,
        )
    })?;
    drop(a);
    echo.join()
        .map_err(|_| "echo thread panicked".to_string())?;
    println!(
        "bench: host memcpy of 64 MiB: {} = {mibs:.0} MiB/s ({}, the fastest of \
         {HOST_INTERVALS}); the limit of a copy engine the vGPU runs as host code",
        human(mc.per_op()),
        mc.how(&clock, "copies")
    );
    println!(
        "bench: host unix-socket round trip between two threads, {RTT_REQ}-byte request and \
         {RTT_REPLY}-byte reply (a vfio-user 4-byte region read): {} ({}, the fastest of \
         {HOST_INTERVALS}); the floor of a BAR0 read",
        human(rt.per_op()),
        rt.how(&clock, "round trips")
    );
    if let Some(path) = out {
        let mut s = String::new();
        if mc.resolved {
            s += &format!("NOVA_BENCH_HOST_MEMCPY_MIBS={mibs:.1}\n");
        }
        if rt.resolved {
            s += &format!("NOVA_BENCH_HOST_RTT_NS={:.1}\n", rt.per_op() * 1e9);
        }
        std::fs::write(path, s).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// Where `bar` leaves its BAR0 figure (nanoseconds per read) for `bind`, in the same boot.
const BAR0_FILE: &str = "/tmp/nova-bench-bar0-ns";

fn nvidia_function() -> Result<std::path::PathBuf, String> {
    std::fs::read_dir("/sys/bus/pci/devices")
        .map_err(|e| e.to_string())?
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("vendor")).is_ok_and(|v| v.trim() == "0x10de")
        })
        .map(|e| e.path())
        .ok_or_else(|| "no NVIDIA PCI function".into())
}

/// The first 4 KiB of `resourceN` of a PCI function, mapped.
struct BarMap {
    p: *mut libc::c_void,
}

const BAR_MAP_LEN: usize = 4096;

impl BarMap {
    fn new(dev: &std::path::Path, bar: u32) -> Result<BarMap, String> {
        let path = dev.join(format!("resource{bar}"));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: a fresh shared mapping of a sysfs resource file; the kernel picks the
        // address and checks the range against the BAR. The result is checked for MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                BAR_MAP_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!(
                "mmap {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(BarMap { p })
    }

    /// The 32-bit word at offset 0.
    fn read0(&self) -> u32 {
        // SAFETY: offset 0 of a live 4 KiB mapping, 4-byte aligned (mmap returns a page); a
        // volatile read is what a device register needs.
        unsafe { std::ptr::read_volatile(self.p.cast::<u32>()) }
    }
}

impl Drop for BarMap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what mmap returned; no reference into it remains.
        unsafe { libc::munmap(self.p, BAR_MAP_LEN) };
    }
}

fn bench_bar() -> Result<(), String> {
    let clock = Clock::measure();
    println!("bench: guest clock: {}", clock.describe());
    let dev = nvidia_function()?;
    std::fs::write(dev.join("enable"), "1").map_err(|e| format!("enable: {e}"))?;
    let bar0 = BarMap::new(&dev, 0)?;
    let bar3 = BarMap::new(&dev, 3)?;
    let mut boot0 = 0;
    let reads = |m: &BarMap, last: &mut u32, n: u64| {
        for _ in 0..n {
            *last = m.read0();
        }
    };
    let mut last3 = 0;
    let s0 = time_reps(&clock, 1000, 1 << 24, Duration::from_millis(300), |n| {
        reads(&bar0, &mut boot0, n);
        Ok(())
    })?;
    let s3 = time_reps(&clock, 1000, 1 << 34, Duration::from_millis(300), |n| {
        reads(&bar3, &mut last3, n);
        Ok(())
    })?;
    black_box(last3);
    let (ns0, ns3) = (s0.per_op() * 1e9, s3.per_op() * 1e9);
    println!(
        "bench: BAR0 read round trip (NV_PMC_BOOT_0 = {boot0:#010x}): {} per read ({})",
        human(s0.per_op()),
        s0.how(&clock, "reads")
    );
    println!(
        "bench: BAR3 read (a memfd QEMU maps into the guest: no round trip): {} per read \
         ({})",
        human(s3.per_op()),
        s3.how(&clock, "reads")
    );
    println!(
        "bench:   BAR0 / BAR3 = {} (what the round trip to the vGPU adds to a guest load from \
         device memory)",
        fmt_ratio(ratio(ns0, s0.resolved, ns3, s3.resolved))
    );
    let rtt = host_figure("NOVA_BENCH_HOST_RTT_NS");
    println!(
        "bench:   BAR0 / host socket round trip ({}) = {} (1.0 = a BAR0 read costs no more \
         than the vfio-user message itself)",
        rtt.map_or("not handed in".into(), |r| human(r * 1e-9)),
        fmt_ratio(ratio(ns0, s0.resolved, rtt.unwrap_or(0.0), rtt.is_some()))
    );
    if s0.resolved {
        std::fs::write(BAR0_FILE, format!("{ns0:.1}\n"))
            .map_err(|e| format!("{BAR0_FILE}: {e}"))?;
    }
    Ok(())
}

/// The stages of the one probe in debugfs: (name, microseconds).
fn probe_stages() -> Result<Vec<(String, u64)>, String> {
    let dir = std::fs::read_dir("/sys/kernel/debug")
        .map_err(|e| format!("/sys/kernel/debug: {e}"))?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("nova-core-"))
        .ok_or("no nova-core-* directory in debugfs")?;
    let path = dir.path().join("boot");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (name, us) = l.strip_prefix("stage ")?.split_once(": ")?;
            Some((name.to_string(), us.strip_suffix(" us")?.parse().ok()?))
        })
        .collect())
}

fn bench_probe() -> Result<(), String> {
    let clock = Clock::measure();
    let stages = probe_stages()?;
    let get = |n: &str| {
        stages
            .iter()
            .find(|(s, _)| s == n)
            .map(|&(_, us)| us)
            .ok_or(format!("no stage {n} in debugfs"))
    };
    let (total, fw) = (get("probe_total")?, get("firmware_request")?);
    // The kernel times the stages with the same clocksource, in whole microseconds.
    let step_us = (clock.step.as_secs_f64() * 1e6).max(1.0);
    let ok = |us: u64| us as f64 >= step_us * f64::from(MIN_STEPS);
    println!(
        "bench: probe to GSP-RM ready: {total} us; of it, the kernel loading the firmware files \
         (stage firmware_request): {fw} us; one probe each, kernel clock {} (step {})",
        clock.source,
        human(step_us * 1e-6)
    );
    println!(
        "bench:   probe / its firmware load = {} (how much longer the whole probe takes than \
         reading the files it needs)",
        fmt_ratio(ratio(total as f64, ok(total), fw as f64, ok(fw)))
    );
    for (name, us) in &stages {
        println!("bench:   stage {name}: {us} us");
    }
    Ok(())
}

/// GEM cycles of the first timed run (grown until the interval is resolved), after
/// `GEM_WARMUP` untimed ones.
const GEM_CYCLES: u64 = 2000;
const GEM_WARMUP: u32 = 100;
const GEM_SIZE: u64 = 64 << 10;

/// Writes one page at the start of `m`.
fn touch_page(m: &mut Mapping, v: u8) {
    m.as_mut_slice()[..4096].fill(v);
}

/// One nova cycle: create, mmap, write a page, munmap, close.
fn nova_cycle(dev: &Device, i: u32) -> Result<(), String> {
    let bo = Bo::new(dev, GEM_SIZE, Placement::System, 0).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    touch_page(&mut m, i as u8);
    drop(m);
    drop(bo);
    Ok(())
}

/// One vgem cycle: CREATE_DUMB (128 x 128 x 32 bpp = 64 KiB), MAP_DUMB, mmap, write a page,
/// munmap, DESTROY_DUMB.
fn vgem_cycle(dev: &Device, i: u32) -> Result<(), String> {
    let mut c = drm::DrmModeCreateDumb {
        width: 128,
        height: 128,
        bpp: 32,
        ..Default::default()
    };
    // SAFETY: CREATE_DUMB takes a drm_mode_create_dumb and touches nothing else.
    unsafe { dev.ioctl("MODE_CREATE_DUMB", drm::DRM_IOCTL_MODE_CREATE_DUMB, &mut c) }
        .map_err(|e| e.to_string())?;
    let mut md = drm::DrmModeMapDumb {
        handle: c.handle,
        ..Default::default()
    };
    // SAFETY: MAP_DUMB takes a drm_mode_map_dumb and touches nothing else.
    let r = unsafe { dev.ioctl("MODE_MAP_DUMB", drm::DRM_IOCTL_MODE_MAP_DUMB, &mut md) }
        .and_then(|()| Mapping::new(dev.as_fd(), md.offset, c.size as usize))
        .map(|mut m| touch_page(&mut m, i as u8));
    let mut d = drm::DrmModeDestroyDumb { handle: c.handle };
    // SAFETY: DESTROY_DUMB takes a drm_mode_destroy_dumb and touches nothing else.
    unsafe {
        dev.ioctl(
            "MODE_DESTROY_DUMB",
            drm::DRM_IOCTL_MODE_DESTROY_DUMB,
            &mut d,
        )
    }
    .map_err(|e| e.to_string())?;
    r.map_err(|e| e.to_string())
}

/// Cycles of `cycle` on `dev`, timed as one interval.
fn gem_cycles(
    clock: &Clock,
    dev: &Device,
    cycle: fn(&Device, u32) -> Result<(), String>,
) -> Result<Sample, String> {
    for i in 0..GEM_WARMUP {
        cycle(dev, i)?;
    }
    time_reps(clock, GEM_CYCLES, GEM_CYCLES * 64, Duration::ZERO, |n| {
        for i in 0..n {
            cycle(dev, i as u32)?;
        }
        Ok(())
    })
}

fn bench_gem() -> Result<(), String> {
    let clock = Clock::measure();
    let nova = Device::open().map_err(|e| format!("nova: {e}"))?;
    let card = libnova::nodes_of("vgem", "card")
        .into_iter()
        .next()
        .ok_or("no card node of driver vgem")?;
    let vgem = Device::open_path(&card).map_err(|e| format!("{}: {e}", card.display()))?;
    let n = gem_cycles(&clock, &nova, nova_cycle).map_err(|e| format!("nova: {e}"))?;
    let v = gem_cycles(&clock, &vgem, vgem_cycle).map_err(|e| format!("vgem: {e}"))?;
    println!(
        "bench: GEM create+mmap+write one page+munmap+close of 64 KiB system memory: nova {:.0}/s \
         ({}), vgem {:.0}/s ({})",
        1.0 / n.per_op(),
        n.how(&clock, "cycles"),
        1.0 / v.per_op(),
        v.how(&clock, "cycles")
    );
    println!(
        "bench:   nova / vgem = {} (cycles per second; 1.0 = as fast as the kernel's minimal \
         GEM driver)",
        fmt_ratio(ratio(
            1.0 / n.per_op(),
            n.resolved,
            1.0 / v.per_op(),
            v.resolved
        ))
    );
    Ok(())
}

const BIND_SIZE: u64 = 1 << 30;
const BIND_PAIRS: u64 = 50;

/// The first GiB-aligned VA at or above the device's VA window start.
fn first_gib_va(info: &libnova::Info) -> u64 {
    (info.va_start.max(1 << 30) + (1 << 30) - 1) & !((1 << 30) - 1)
}

fn bench_bind() -> Result<(), String> {
    let clock = Clock::measure();
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let va = first_gib_va(&info);
    if va + BIND_SIZE > info.va_end {
        return Err(format!(
            "no 1 GiB of VA at {va:#x} (VA_END {:#x})",
            info.va_end
        ));
    }
    let bo = Bo::new(&dev, BIND_SIZE, Placement::Vram, 2 << 20).map_err(e)?;
    let vm = Vm::new(&dev).map_err(e)?;
    let pair = |n: u64| -> Result<(), String> {
        for _ in 0..n {
            vm.bind(&[Op::map_all(&bo, va)])
                .map_err(|e| e.to_string())?;
            vm.unmap(va, BIND_SIZE).map_err(e)?;
        }
        Ok(())
    };
    pair(1)?;
    let p = time_reps(&clock, BIND_PAIRS, BIND_PAIRS * 64, Duration::ZERO, pair)?;
    let chipset = libnova::uapi::NOVA_GETPARAM_CHIPSET;
    let io = time_reps(&clock, 1000, 1 << 24, Duration::from_millis(100), |n| {
        for _ in 0..n {
            black_box(dev.getparam(chipset).map_err(e)?);
        }
        Ok(())
    })?;
    let bar0_ns = std::fs::read_to_string(BAR0_FILE)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok());
    println!(
        "bench: VM_BIND MAP + UNMAP of a 1 GiB VRAM object in one op each (2 MiB pages, 512 \
         entries): {} per pair ({})",
        human(p.per_op()),
        p.how(&clock, "pairs")
    );
    println!(
        "bench:   same boot: GETPARAM ioctl on the same file {} ({}); BAR0 read round trip {}",
        human(io.per_op()),
        io.how(&clock, "ioctls"),
        bar0_ns.map_or("not measured".into(), |ns| format!(
            "{} (bar, above)",
            human(ns * 1e-9)
        ))
    );
    let floor = bar0_ns.map(|ns| 2.0 * (io.per_op() + ns * 1e-9));
    println!(
        "bench:   pair / (2 ioctls + 2 BAR0 reads{}) = {} (the floor: MAP and UNMAP are one \
         ioctl each, each ending in a TLB invalidate polled with at least one BAR0 read)",
        floor.map_or(String::new(), |f| format!(" = {}", human(f))),
        fmt_ratio(ratio(
            p.per_op(),
            p.resolved,
            floor.unwrap_or(0.0),
            io.resolved && floor.is_some()
        ))
    );
    Ok(())
}

const COPY_JOBS: u64 = 8;
const FENCE_WAIT: Duration = Duration::from_secs(120);

/// A GEM object mapped at `va` in `vm`.
fn mapped(vm: &Vm, size: u64, placement: Placement, va: u64) -> Result<Bo, String> {
    let e = |e: libnova::Error| e.to_string();
    let align = if placement == Placement::Vram {
        2 << 20
    } else {
        0
    };
    let bo = Bo::new(vm.device(), size, placement, align).map_err(e)?;
    vm.bind(&[Op::map_all(&bo, va)])
        .map_err(|e| e.to_string())?;
    Ok(bo)
}

/// CE copies of `COPY_SIZE` from `src` to `dst`, one job each, each waited for (EXEC to
/// fence), after one untimed job (page tables, the vGPU's VRAM backing).
fn ce_copies(
    clock: &Clock,
    ctx: &Context<'_>,
    push: &mut Mapping,
    push_va: u64,
    class: u32,
    src: u64,
    dst: u64,
) -> Result<Sample, String> {
    let e = |e: libnova::Error| e.to_string();
    let mut p = Push::new();
    p.set_object(SUBC_COPY, class)
        .ce_copy(src, dst, COPY_SIZE as u32);
    p.write_to(push, 0);
    let done = Syncobj::new(ctx.device(), false).map_err(e)?;
    let job = |n: u64| -> Result<(), String> {
        for _ in 0..n {
            ctx.exec(&[p.range(push_va)], &[], &[done.binary()])
                .map_err(e)?;
            done.wait(FENCE_WAIT, 0).map_err(e)?;
        }
        Ok(())
    };
    job(1)?;
    time_reps(clock, COPY_JOBS, COPY_JOBS * 16, Duration::ZERO, job)
}

fn bench_copy() -> Result<(), String> {
    let clock = Clock::measure();
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let base = first_gib_va(&info);
    let vm = Vm::new(&dev).map_err(e)?;
    let va = |i: u64| base + i * COPY_SIZE;
    let _vsrc = mapped(&vm, COPY_SIZE, Placement::Vram, va(0))?;
    let _vdst = mapped(&vm, COPY_SIZE, Placement::Vram, va(1))?;
    let ssrc = mapped(&vm, COPY_SIZE, Placement::System, va(2))?;
    let sdst = mapped(&vm, COPY_SIZE, Placement::System, va(3))?;
    let pbo = mapped(&vm, 64 << 10, Placement::System, va(4))?;
    let mut push = pbo.map().map_err(e)?;
    let mut sm = ssrc.map().map_err(e)?;
    let mut dm = sdst.map().map_err(e)?;
    sm.as_mut_slice().fill(0x5a);
    dm.as_mut_slice().fill(0);
    let ctx = Context::new(&vm, Engine::Copy).map_err(e)?;
    let class = info.classes.copy;
    let vram = ce_copies(&clock, &ctx, &mut push, va(4), class, va(0), va(1))?;
    let sys = ce_copies(&clock, &ctx, &mut push, va(4), class, va(2), va(3))?;
    // The guest CPU copying the same 64 MiB between the two system-memory mappings.
    copy_bytes(dm.as_mut_slice(), sm.as_slice());
    let cpu = time_reps(&clock, COPY_JOBS, COPY_JOBS * 16, Duration::ZERO, |n| {
        for _ in 0..n {
            copy_bytes(dm.as_mut_slice(), sm.as_slice());
        }
        Ok(())
    })?;
    let mibs = |s: &Sample| COPY_SIZE as f64 / MIB / s.per_op();
    println!(
        "bench: CE copy of 64 MiB, one job each, EXEC to fence: VRAM->VRAM {} = {:.0} MiB/s \
         ({}), sysmem->sysmem {} = {:.0} MiB/s ({})",
        human(vram.per_op()),
        mibs(&vram),
        vram.how(&clock, "jobs"),
        human(sys.per_op()),
        mibs(&sys),
        sys.how(&clock, "jobs")
    );
    let host = host_figure("NOVA_BENCH_HOST_MEMCPY_MIBS");
    let vs_host = |s: &Sample| {
        fmt_ratio(ratio(
            mibs(s),
            s.resolved,
            host.unwrap_or(0.0),
            host.is_some(),
        ))
    };
    println!(
        "bench:   CE / host memcpy of 64 MiB ({}) = {} (VRAM), {} (sysmem) (1.0 = the CE copies \
         as fast as the host running the vGPU can copy)",
        host.map_or("not handed in".into(), |h| format!(
            "{h:.0} MiB/s, before this boot"
        )),
        vs_host(&vram),
        vs_host(&sys)
    );
    let vs_cpu = |s: &Sample| fmt_ratio(ratio(mibs(s), s.resolved, mibs(&cpu), cpu.resolved));
    println!(
        "bench:   guest CPU memcpy of 64 MiB under TCG, same boot: {} = {:.0} MiB/s ({}); \
         CE / guest memcpy = {} (VRAM), {} (sysmem) (what offloading a copy gains this guest; \
         not a limit of the CE)",
        human(cpu.per_op()),
        mibs(&cpu),
        cpu.how(&clock, "copies"),
        vs_cpu(&vram),
        vs_cpu(&sys)
    );
    Ok(())
}

const LAT_RUNS: u64 = 200;

fn bench_latency() -> Result<(), String> {
    let clock = Clock::measure();
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let va = first_gib_va(&info);
    let vm = Vm::new(&dev).map_err(e)?;
    let pbo = mapped(&vm, 64 << 10, Placement::System, va)?;
    let mut pm = pbo.map().map_err(e)?;
    let mut p = Push::new();
    p.nop();
    p.write_to(&mut pm, 0);
    let ctx = Context::new(&vm, Engine::Copy).map_err(e)?;
    let done = Syncobj::new(&dev, false).map_err(e)?;
    let range = [p.range(va)];
    let sig = [done.binary()];
    let jobs = |n: u64| -> Result<(), String> {
        for _ in 0..n {
            ctx.exec(&range, &[], &sig).map_err(e)?;
            done.wait(FENCE_WAIT, 0).map_err(e)?;
        }
        Ok(())
    };
    jobs(1)?;
    let job = time_reps(&clock, LAT_RUNS, LAT_RUNS * 64, Duration::ZERO, jobs)?;
    // Baseline: a second thread signals a syncobj this thread waits for (WAIT_FOR_SUBMIT
    // after a reset), from the request to the wake-up.
    let s = Syncobj::new(&dev, false).map_err(e)?;
    let (go_tx, go_rx) = std::sync::mpsc::channel::<bool>();
    let rt = std::thread::scope(|sc| -> Result<Sample, String> {
        let s = &s;
        let signaller = sc.spawn(move || -> Result<(), String> {
            while go_rx.recv().unwrap_or(false) {
                s.signal().map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        let trips = |n: u64| -> Result<(), String> {
            for _ in 0..n {
                s.reset().map_err(e)?;
                go_tx.send(true).map_err(|e| e.to_string())?;
                s.wait(FENCE_WAIT, drm::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)
                    .map_err(e)?;
            }
            Ok(())
        };
        let r = trips(1)
            .and_then(|()| time_reps(&clock, LAT_RUNS, LAT_RUNS * 64, Duration::ZERO, trips));
        go_tx.send(false).map_err(|e| e.to_string())?;
        signaller
            .join()
            .map_err(|_| "signaller panicked".to_string())??;
        r
    })?;
    println!(
        "bench: empty job EXEC to fence (one NOP, binary syncobj): {} ({}); syncobj signal \
         in another thread to SYNCOBJ_WAIT return, same boot: {} ({})",
        human(job.per_op()),
        job.how(&clock, "jobs"),
        human(rt.per_op()),
        rt.how(&clock, "round trips")
    );
    println!(
        "bench:   job / syncobj round trip = {} (the round trip is the wake-up every job's fence \
         also makes; target <= 3x)",
        fmt_ratio(ratio(job.per_op(), job.resolved, rt.per_op(), rt.resolved))
    );
    // Throughput: 10,000 empty jobs, each waiting for the one before through a timeline point,
    // submitted without waiting, then one wait for the last.
    let tl = Syncobj::new(&dev, true).map_err(e)?;
    let t = std::time::Instant::now();
    for i in 0..CHAINED {
        let wait = [tl.at(i)];
        let waits: &[_] = if i == 0 { &[] } else { &wait };
        ctx.exec(&range, waits, &[tl.at(i + 1)]).map_err(e)?;
    }
    tl.wait_point(CHAINED, Duration::from_secs(600), 0)
        .map_err(e)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "bench: {CHAINED} chained empty jobs (each waits for the previous one's timeline point): \
         {:.2} s, {:.0} jobs/s ({} per job; {} x the syncobj round trip)",
        secs,
        CHAINED as f64 / secs,
        human(secs / CHAINED as f64),
        fmt_ratio(ratio(secs / CHAINED as f64, true, rt.per_op(), rt.resolved))
    );
    Ok(())
}

/// Jobs of the chained-throughput figure.
const CHAINED: u64 = 10_000;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "bar".into());
    let r = match which.as_str() {
        "host" => bench_host(args.next().as_deref()),
        "bar" => bench_bar(),
        "probe" => bench_probe(),
        "gem" => bench_gem(),
        "bind" => bench_bind(),
        "copy" => bench_copy(),
        "latency" => bench_latency(),
        other => Err(format!(
            "unknown benchmark {other:?} (host, bar, probe, gem, bind, copy, latency)"
        )),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("bench: {which}: FAILED: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
