// SPDX-License-Identifier: GPL-2.0
//! Guest benchmarks: `nova-guest-bench [bar|gem|bind|copy|latency]` (no argument: `bar`).
//!
//! `bar`, BAR0 read round trip: 10,000 32-bit reads of `NV_PMC_BOOT_0` through a mapping of the
//! vGPU's BAR0 (each one a vfio-user message to the vGPU process and back), beside the same
//! number of reads of Linux BAR3 in the same run (a shared memfd QEMU maps straight into the
//! guest, so it measures the guest's own cost of a device-memory read without the round trip;
//! BAR1 is no baseline any more: the vGPU traps it and translates every access through the GPU
//! page tables). Run with no driver bound.
//!
//! `gem` (nova-drm loaded): GEM object life cycles per second (create, mmap, write one page,
//! munmap, close) of a 64 KiB system-memory object, on nova and, in the same run, on the
//! kernel's vgem driver (dumb buffers on its card node) as the baseline.
//!
//! `bind` (nova-drm loaded): VM_BIND of a 1 GiB VRAM object (2 MiB aligned, so 2 MiB pages) in
//! one MAP op, and its UNMAP, beside a memset of 1 GiB through a system-memory mapping (a
//! 128 MiB nova object written 8 times: the guest has 1 GiB of RAM) as the baseline.
//!
//! `copy` (nova-drm loaded): copy-engine throughput of 64 MiB GEM-to-GEM copies (VRAM to VRAM,
//! 2 MiB pages, and system memory to system memory; mean of `COPY_RUNS`, EXEC to fence), beside
//! a CPU memcpy of 64 MiB between two system-memory mappings in the same run (the target is a
//! CE / memcpy ratio of at least 0.7).
//!
//! `latency` (nova-drm loaded): submit-to-fence latency of an empty job (EXEC of one NOP word
//! signalling a binary syncobj, then SYNCOBJ_WAIT; mean of `LAT_RUNS`), beside a syncobj
//! round trip in the same run: another thread SYNCOBJ_SIGNALs, this one returns from its
//! SYNCOBJ_WAIT (target: within 3x).

use libnova::push::SUBC_COPY;
use libnova::{drm, Bo, Context, Device, Engine, Mapping, Op, Placement, Push, Syncobj, Vm};
use std::fs::OpenOptions;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

const READS: usize = 10_000;

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

/// Maps `len` bytes of `resourceN` of the function and times `READS` 32-bit reads at `off`.
fn time_reads(dev: &std::path::Path, bar: u32, off: usize) -> Result<(f64, u32), String> {
    let path = dev.join(format!("resource{bar}"));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let len = 4096;
    // SAFETY: a fresh shared mapping of a sysfs resource file; the kernel picks the address and
    // checks the range against the BAR. The result is checked for MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
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
    let reg = p.cast::<u8>().wrapping_add(off).cast::<u32>();
    let mut last = 0;
    let start = Instant::now();
    for _ in 0..READS {
        // SAFETY: `reg` lies inside the 4 KiB mapping made above (off < 4096 - 4) and is 4-byte
        // aligned; a volatile read is what a device register needs.
        last = unsafe { std::ptr::read_volatile(reg) };
    }
    let ns = start.elapsed().as_nanos() as f64 / READS as f64;
    // SAFETY: unmapping exactly what mmap returned; no reference into it remains.
    unsafe { libc::munmap(p, len) };
    Ok((ns, last))
}

fn bench_bar() -> Result<(), String> {
    let dev = nvidia_function()?;
    std::fs::write(dev.join("enable"), "1").map_err(|e| format!("enable: {e}"))?;
    let (bar0, boot0) = time_reads(&dev, 0, 0)?;
    let (bar3, _) = time_reads(&dev, 3, 0)?;
    println!("bench: BAR0 read round trip (NV_PMC_BOOT_0 = {boot0:#010x}): {bar0:.0} ns per read over {READS} reads");
    println!("bench: BAR3 read (memfd, no round trip, same run): {bar3:.0} ns per read over {READS} reads");
    println!("bench: BAR0 / BAR3 = {:.1}x", bar0 / bar3.max(1.0));
    Ok(())
}

/// Objects per timed GEM run (after `GEM_WARMUP` untimed ones).
const GEM_CYCLES: u32 = 2000;
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

/// Cycles per second of `cycle` on `dev`.
fn rate(dev: &Device, cycle: fn(&Device, u32) -> Result<(), String>) -> Result<f64, String> {
    for i in 0..GEM_WARMUP {
        cycle(dev, i)?;
    }
    let start = Instant::now();
    for i in 0..GEM_CYCLES {
        cycle(dev, i)?;
    }
    Ok(f64::from(GEM_CYCLES) / start.elapsed().as_secs_f64())
}

fn bench_gem() -> Result<(), String> {
    let nova = Device::open().map_err(|e| format!("nova: {e}"))?;
    let card = libnova::nodes_of("vgem", "card")
        .into_iter()
        .next()
        .ok_or("no card node of driver vgem")?;
    let vgem = Device::open_path(&card).map_err(|e| format!("{}: {e}", card.display()))?;
    let n = rate(&nova, nova_cycle).map_err(|e| format!("nova: {e}"))?;
    let v = rate(&vgem, vgem_cycle).map_err(|e| format!("vgem: {e}"))?;
    println!(
        "bench: gem create+mmap+close: nova {n:.0}/s, vgem {v:.0}/s, ratio {:.2} \
         (64 KiB system memory, one page written, {GEM_CYCLES} cycles each)",
        n / v
    );
    Ok(())
}

const BIND_SIZE: u64 = 1 << 30;
const BIND_RUNS: u32 = 50;
/// The memset baseline: this many bytes, written 8 times.
const MEMSET_CHUNK: u64 = 128 << 20;

fn bench_bind() -> Result<(), String> {
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let va = (info.va_start.max(1 << 30) + (1 << 30) - 1) & !((1 << 30) - 1);
    if va + BIND_SIZE > info.va_end {
        return Err(format!(
            "no 1 GiB of VA at {va:#x} (VA_END {:#x})",
            info.va_end
        ));
    }
    let bo = Bo::new(&dev, BIND_SIZE, Placement::Vram, 2 << 20).map_err(e)?;
    let vm = Vm::new(&dev).map_err(e)?;
    let (mut map, mut unmap) = (Vec::new(), Vec::new());
    for _ in 0..BIND_RUNS {
        let t = Instant::now();
        vm.bind(&[Op::map_all(&bo, va)])
            .map_err(|e| e.to_string())?;
        map.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        vm.unmap(va, BIND_SIZE).map_err(e)?;
        unmap.push(t.elapsed().as_secs_f64());
    }
    // The mean, not the median: the guest clock may tick in 4 ms steps (jiffies under TCG),
    // coarser than one bind; the sum over all runs is not.
    let mean = |v: &mut Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let (m, u) = (mean(&mut map), mean(&mut unmap));
    // Baseline: 1 GiB of memset through a system-memory mapping, after one untimed pass that
    // allocates the pages.
    let sys = Bo::new(&dev, MEMSET_CHUNK, Placement::System, 0).map_err(e)?;
    let mut mapping = sys.map().map_err(e)?;
    mapping.as_mut_slice().fill(0);
    let t = Instant::now();
    for pass in 0..BIND_SIZE / MEMSET_CHUNK {
        let bytes = mapping.as_mut_slice();
        bytes.fill(pass as u8 + 1);
        // Each pass overwrites the last one: without this the compiler may drop all but one.
        std::hint::black_box(bytes);
    }
    let ms = t.elapsed().as_secs_f64();
    let mib = (BIND_SIZE >> 20) as f64;
    println!(
        "bench: VM_BIND of 1 GiB VRAM in one op (2 MiB pages): map {:.2} ms ({:.0} MiB/s), \
         unmap {:.2} ms (mean of {BIND_RUNS}); memset of 1 GiB through a sysmem mapping \
         ({} x {} MiB): {:.2} ms ({:.0} MiB/s); map / memset = {:.3}",
        m * 1e3,
        mib / m,
        u * 1e3,
        BIND_SIZE / MEMSET_CHUNK,
        MEMSET_CHUNK >> 20,
        ms * 1e3,
        mib / ms,
        m / ms
    );
    Ok(())
}

const COPY_SIZE: u64 = 64 << 20;
const COPY_RUNS: u32 = 8;
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

/// Mean seconds of `COPY_RUNS` CE copies of `COPY_SIZE` from `src` to `dst`, each one job
/// timed from EXEC to its fence.
fn ce_copy_secs(
    ctx: &Context<'_>,
    push: &mut Mapping,
    push_va: u64,
    class: u32,
    src: u64,
    dst: u64,
) -> Result<f64, String> {
    let e = |e: libnova::Error| e.to_string();
    let mut p = Push::new();
    p.set_object(SUBC_COPY, class)
        .ce_copy(src, dst, COPY_SIZE as u32);
    p.write_to(push, 0);
    let done = Syncobj::new(ctx.device(), false).map_err(e)?;
    let mut total = 0.0;
    // Run 0 warms up (page tables, caches) and is not counted.
    for run in 0..=COPY_RUNS {
        let t = Instant::now();
        ctx.exec(&[p.range(push_va)], &[], &[done.binary()])
            .map_err(e)?;
        done.wait(FENCE_WAIT, 0).map_err(e)?;
        if run > 0 {
            total += t.elapsed().as_secs_f64();
        }
    }
    Ok(total / f64::from(COPY_RUNS))
}

fn bench_copy() -> Result<(), String> {
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let base = (info.va_start.max(1 << 30) + (1 << 30) - 1) & !((1 << 30) - 1);
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
    let vram = ce_copy_secs(&ctx, &mut push, va(4), class, va(0), va(1))?;
    let sys = ce_copy_secs(&ctx, &mut push, va(4), class, va(2), va(3))?;
    // Baseline: the CPU copies the same 64 MiB between the two system-memory mappings.
    let mut cpu = 0.0;
    for run in 0..=COPY_RUNS {
        let t = Instant::now();
        dm.as_mut_slice().copy_from_slice(sm.as_slice());
        std::hint::black_box(dm.as_mut_slice());
        if run > 0 {
            cpu += t.elapsed().as_secs_f64();
        }
    }
    let cpu = cpu / f64::from(COPY_RUNS);
    let mib = (COPY_SIZE >> 20) as f64;
    println!(
        "bench: CE copy of 64 MiB (mean of {COPY_RUNS}, EXEC to fence): VRAM->VRAM {:.1} ms \
         ({:.0} MiB/s), sysmem->sysmem {:.1} ms ({:.0} MiB/s); CPU memcpy of 64 MiB (same \
         run): {:.1} ms ({:.0} MiB/s); CE/memcpy = {:.2} (VRAM), {:.2} (sysmem); target >= 0.70",
        vram * 1e3,
        mib / vram,
        sys * 1e3,
        mib / sys,
        cpu * 1e3,
        mib / cpu,
        cpu / vram,
        cpu / sys
    );
    Ok(())
}

const LAT_RUNS: u32 = 200;

fn bench_latency() -> Result<(), String> {
    let e = |e: libnova::Error| e.to_string();
    let dev = Device::open().map_err(e)?;
    let info = dev.info().map_err(e)?;
    let va = (info.va_start.max(1 << 30) + (1 << 30) - 1) & !((1 << 30) - 1);
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
    let mut job = 0.0;
    for run in 0..=LAT_RUNS {
        let t = Instant::now();
        ctx.exec(&range, &[], &sig).map_err(e)?;
        done.wait(FENCE_WAIT, 0).map_err(e)?;
        if run > 0 {
            job += t.elapsed().as_secs_f64();
        }
    }
    let job = job / f64::from(LAT_RUNS);
    // Baseline: a second thread signals a syncobj this thread waits for (WAIT_FOR_SUBMIT
    // after a reset), timed from the request to the wake-up.
    let s = Syncobj::new(&dev, false).map_err(e)?;
    let (go_tx, go_rx) = std::sync::mpsc::channel::<bool>();
    let mut rt = 0.0;
    std::thread::scope(|sc| -> Result<(), String> {
        let s = &s;
        let signaller = sc.spawn(move || -> Result<(), String> {
            while go_rx.recv().unwrap_or(false) {
                s.signal().map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        for run in 0..=LAT_RUNS {
            s.reset().map_err(e)?;
            let t = Instant::now();
            go_tx.send(true).map_err(|e| e.to_string())?;
            s.wait(FENCE_WAIT, drm::DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT)
                .map_err(e)?;
            if run > 0 {
                rt += t.elapsed().as_secs_f64();
            }
        }
        go_tx.send(false).map_err(|e| e.to_string())?;
        signaller
            .join()
            .map_err(|_| "signaller panicked".to_string())?
    })?;
    let rt = rt / f64::from(LAT_RUNS);
    println!(
        "bench: empty job EXEC to fence (one NOP, binary syncobj, mean of {LAT_RUNS}): {:.0} us; \
         syncobj signal (other thread) to wait return (same run): {:.0} us; ratio {:.2}x (target <= 3x)",
        job * 1e6,
        rt * 1e6,
        job / rt
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let which = std::env::args().nth(1).unwrap_or_else(|| "bar".into());
    let r = match which.as_str() {
        "bar" => bench_bar(),
        "gem" => bench_gem(),
        "bind" => bench_bind(),
        "copy" => bench_copy(),
        "latency" => bench_latency(),
        other => Err(format!(
            "unknown benchmark {other:?} (bar, gem, bind, copy, latency)"
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
