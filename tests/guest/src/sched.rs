// SPDX-License-Identifier: GPL-2.0
//! Scheduler stress and fairness (part of the exec suite): many contexts in several processes,
//! cross-context waits, hangs, contexts destroyed and files closed with jobs in flight. Every
//! job's fence must signal once, and its result must agree with what the GPU did: a job whose
//! fence signalled without error wrote its marker; a job whose fence carries an error never
//! wrote it, not even later.

use crate::exec::{gpu, hang_push, start, wait_started, Buf, Gpu, PushBuf, VaAlloc};
use crate::fuzz::Rng;
use crate::util::{check, errno_str, Ctx};
use libnova::{Context, Device, Engine, Placement, Syncobj, Vm};
use std::time::{Duration, Instant};

/// Processes of the stress test, each with two contexts on its own file.
const PROCS: u64 = 4;
/// Jobs each process submits.
const JOBS: u64 = 2500;
/// What job `i` of process `k` writes into its marker word.
fn marker(k: u64, i: u64) -> u32 {
    0x5000_0000 | ((k as u32) << 20) | i as u32
}
/// Fence errors a job may end with, and why: a hang (-ETIMEDOUT), a context destroyed or a
/// file closed with the job on the GPU or offered after a reset (-ECANCELED), killed in the
/// scheduler's queue (-ESRCH).
const ALLOWED: [i32; 3] = [libc::ETIMEDOUT, libc::ECANCELED, libc::ESRCH];

/// What one process saw.
#[derive(Default)]
struct Tally {
    ok: u64,
    errors: [u64; 3],
}

/// Checks the jobs `sig[i]` (marker word `i` of `data`): each signalled within `wait`, and its
/// status agrees with its marker. `tally` counts them.
fn judge(
    what: &str,
    k: u64,
    sig: &[Syncobj],
    data: &Buf,
    wait: Duration,
    tally: &mut Tally,
) -> Result<Vec<i32>, String> {
    let t = Instant::now();
    let mut status = Vec::with_capacity(sig.len());
    for (i, s) in sig.iter().enumerate() {
        let left = wait
            .saturating_sub(t.elapsed())
            .max(Duration::from_millis(1));
        s.wait(left, 0)
            .ctx(format!("{what}: job {i}'s fence within {wait:?}"))?;
        let f = s.export_sync_file().ctx("export a job's fence")?;
        status.push(f.status().ctx("sync file status")?);
    }
    // Let anything that would (wrongly) still run get there before the markers are read.
    std::thread::sleep(Duration::from_millis(200));
    let w = data.words();
    for (i, &st) in status.iter().enumerate() {
        let m = w[i];
        let want = marker(k, i as u64);
        if st == 1 {
            tally.ok += 1;
            check(m == want, || {
                format!("{what}: job {i} signalled without error but its marker reads {m:#x}, want {want:#x}")
            })?;
        } else {
            let e = -st;
            let slot = ALLOWED.iter().position(|&a| a == e).ok_or_else(|| {
                format!(
                    "{what}: job {i} fence -{}, not one of the documented errors",
                    errno_str(e)
                )
            })?;
            tally.errors[slot] += 1;
            check(m == 0, || {
                format!(
                    "{what}: job {i} failed (-{}) but ran: its marker reads {m:#x}",
                    errno_str(e)
                )
            })?;
        }
    }
    Ok(status)
}

/// One process of the stress test: `JOBS` jobs over two contexts of its own file, a quarter of
/// them waiting on the other context's latest job. Process 0 and 1 hang one job each; process
/// 2 destroys its second context with a job blocked on it and jobs queued; process 3 closes a
/// second file with jobs blocked and queued on it.
fn stress_child(g: &Gpu, k: u64) -> Result<Tally, String> {
    let dev = Device::open_path(g.dev.path()).ctx("open a file")?;
    let vm = Vm::new(&dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, JOBS * 4 + 64 * 1024, Placement::System)?;
    data.words_mut().fill(0);
    let gate = JOBS * 4 + 32 * 1024; // hang words, past the markers
    let mut pbs = [
        PushBuf::new(&vm, &mut vas, 1024, 128)?,
        PushBuf::new(&vm, &mut vas, 1024, 128)?,
    ];
    let mut ctxs = [
        Some(Context::new(&vm, Engine::Copy).ctx("CTX_CREATE 0")?),
        Some(Context::new(&vm, Engine::Copy).ctx("CTX_CREATE 1")?),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (k + 1));
    let hang_at = (k < 2).then(|| 100 + rng.below(JOBS / 2));
    // Even, so that the job 7 before it (the blocking one) is on context 1.
    let destroy_at = (k == 2).then_some(JOBS / 2);
    const _: () = assert!((JOBS / 2).is_multiple_of(2));
    let mut sig: Vec<Syncobj> = Vec::with_capacity(JOBS as usize);
    let mut last = [None::<usize>; 2];
    for i in 0..JOBS {
        let mut c = (i % 2) as usize;
        if ctxs[c].is_none() {
            c = 1 - c;
        }
        let ctx = ctxs[c].as_ref().ok_or("no context left")?;
        let p = if Some(i) == hang_at {
            // Acquires a word nothing releases: the job timeout resets this channel.
            hang_push(g, Engine::Copy, data.va + gate)
        } else if destroy_at.is_some_and(|d| i + 7 == d) && c == 1 {
            // Blocks context 1 until it is destroyed, with the jobs behind it queued.
            hang_push(g, Engine::Copy, data.va + gate + 0x1000)
        } else {
            let mut p = start(g, Engine::Copy);
            p.sem_release(data.va + 4 * i, marker(k, i), true);
            p
        };
        let s = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
        let mut waits = Vec::new();
        if let Some(j) = last[1 - c] {
            if rng.below(4) == 0 {
                waits.push(sig[j].binary());
            }
        }
        let r = pbs[c].put(&p)?;
        ctx.exec(&[r], &waits, &[s.binary()])
            .ctx(format!("EXEC job {i} on context {c}"))?;
        sig.push(s);
        last[c] = Some(i as usize);
        if destroy_at == Some(i) {
            if let Some(ctx) = ctxs[1].take() {
                wait_started(&data.map, gate + 0x1000, "the blocking job")?;
                ctx.destroy().ctx("CTX_DESTROY with jobs in flight")?;
            }
        }
    }
    let mut tally = Tally::default();
    judge(
        "stress",
        k,
        &sig,
        &data,
        Duration::from_secs(120),
        &mut tally,
    )?;
    if k == 3 {
        closed_file(g, &dev, &mut tally)?;
    }
    if hang_at.is_some() {
        check(tally.errors[0] >= 1, || {
            format!("process {k}: its hung job did not time out")
        })?;
    }
    if destroy_at.is_some() {
        check(tally.errors[1] + tally.errors[2] >= 1, || {
            format!("process {k}: nothing was cancelled by CTX_DESTROY")
        })?;
    }
    Ok(tally)
}

/// A second file with a blocked job and jobs queued behind it and waiting on it, closed: every
/// fence (held as sync files, which outlive the file) signals with an error, and none of those
/// jobs ran.
fn closed_file(g: &Gpu, first_file: &Device, tally: &mut Tally) -> Result<(), String> {
    let dev = Device::open_path(g.dev.path()).ctx("open a second file")?;
    let vm = Vm::new(&dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 64 * 1024, Placement::System)?;
    data.words_mut().fill(0);
    let mut pb = PushBuf::new(&vm, &mut vas, 64, 128)?;
    let a = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    let b = Context::new(&vm, Engine::Copy).ctx("CTX_CREATE")?;
    let gate = 32 * 1024;
    // The markers are read through the first file (a mapping of the second file's object would
    // keep the second file open).
    let exported = data.bo.export().ctx("PRIME export")?;
    use std::os::fd::AsFd;
    let imported = libnova::Bo::import(first_file, exported.as_fd()).ctx("PRIME import")?;
    let markers = imported.map().ctx("mmap the import")?;
    drop(exported);
    let mut files = Vec::new();
    let first = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
    let r = pb.put(&hang_push(g, Engine::Copy, data.va + gate))?;
    a.exec(&[r], &[], &[first.binary()])
        .ctx("EXEC the blocking job")?;
    files.push(first.export_sync_file().ctx("export")?);
    for i in 1..40u64 {
        let mut p = start(g, Engine::Copy);
        p.sem_release(data.va + 4 * i, marker(3, i), true);
        let s = Syncobj::new(&dev, false).ctx("SYNCOBJ_CREATE")?;
        let (ctx, waits) = if i % 2 == 0 {
            (&a, vec![])
        } else {
            (&b, vec![first.binary()])
        };
        let r = pb.put(&p)?;
        ctx.exec(&[r], &waits, &[s.binary()]).ctx("EXEC")?;
        files.push(s.export_sync_file().ctx("export")?);
    }
    wait_started(&data.map, gate, "the blocking job")?;
    // The file goes with everything in it (the contexts are not destroyed first: their
    // wrappers hold no file reference and are forgotten); the mapping keeps the markers
    // readable.
    std::mem::forget(a);
    std::mem::forget(b);
    drop(first);
    drop(pb);
    drop(data);
    drop(vm);
    drop(dev);
    for (i, f) in files.iter().enumerate() {
        check(f.wait(Duration::from_secs(60)).ctx("poll")?, || {
            format!("closed file: job {i}'s fence never signalled")
        })?;
        let st = f.status().ctx("status")?;
        let e = -st;
        let slot = ALLOWED.iter().position(|&a| a == e);
        check(st < 0 && slot.is_some(), || {
            format!("closed file: job {i} fence {st}, want a documented error")
        })?;
        tally.errors[slot.unwrap_or(0)] += 1;
    }
    std::thread::sleep(Duration::from_millis(200));
    for i in 1..40usize {
        let m = markers.read_u32(4 * i);
        check(m == 0, || {
            format!("closed file: job {i} ran after its file was closed ({m:#x})")
        })?;
    }
    Ok(())
}

/// 8 contexts in 4 processes, 10,000 jobs (see [`stress_child`]).
pub(crate) fn stress() -> Result<(), String> {
    let g = gpu()?;
    let t = Instant::now();
    let mut pids = Vec::new();
    for k in 0..PROCS {
        // SAFETY: the test runs single-threaded here; the child leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = match stress_child(&g, k) {
                Ok(t) => {
                    println!(
                        "exec: stress process {k}: {} ok, {} -ETIMEDOUT, {} -ECANCELED, {} -ESRCH",
                        t.ok, t.errors[0], t.errors[1], t.errors[2]
                    );
                    0
                }
                Err(e) => {
                    println!("exec: stress process {k}: {e}");
                    1
                }
            };
            use std::io::Write;
            let _ = std::io::stdout().flush();
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        check(pid > 0, || "fork failed".into())?;
        pids.push(pid);
    }
    let mut failed = 0;
    for pid in pids {
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            failed += 1;
        }
    }
    println!(
        "exec: stress: {} jobs in {} processes in {:.1} s",
        PROCS * JOBS + 40,
        PROCS,
        t.elapsed().as_secs_f64()
    );
    check(failed == 0, || {
        format!("{failed} of {PROCS} stress processes failed (see above)")
    })
}

/// Jobs per context in the fairness test.
const FAIR_JOBS: u64 = 1000;

/// Four contexts each submitting 1,000 small jobs at once progress together: when the first
/// one has all its jobs done, each other one has at least a quarter of its own done. Reports
/// the spread of the finishing times.
pub(crate) fn fairness() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let mut vas = VaAlloc::new(&g.info);
    let mut data = Buf::new(&vm, &mut vas, 4 * FAIR_JOBS * 4, Placement::System)?;
    data.words_mut().fill(0);
    let ctxs: Vec<Context<'_>> = (0..4)
        .map(|_| Context::new(&vm, Engine::Copy).ctx("CTX_CREATE"))
        .collect::<Result<_, _>>()?;
    let mut pbs = (0..4)
        .map(|_| PushBuf::new(&vm, &mut vas, FAIR_JOBS, 128))
        .collect::<Result<Vec<_>, _>>()?;
    let tls = (0..4)
        .map(|_| Syncobj::new(&g.dev, true).ctx("SYNCOBJ_CREATE timeline"))
        .collect::<Result<Vec<_>, _>>()?;
    // Submit round robin, as four clients would at once.
    let t = Instant::now();
    for i in 0..FAIR_JOBS {
        for c in 0..4usize {
            let mut p = start(&g, Engine::Copy);
            let idx = c as u64 * FAIR_JOBS + i;
            p.sem_release(data.va + 4 * idx, idx as u32 + 1, true);
            let r = pbs[c].put(&p)?;
            ctxs[c].exec(&[r], &[], &[tls[c].at(i + 1)]).ctx("EXEC")?;
        }
    }
    let mut done = [None::<Duration>; 4];
    let mut at_first = None::<[u64; 4]>;
    while done.iter().any(|d| d.is_none()) {
        check(t.elapsed() < Duration::from_secs(180), || {
            "fairness: jobs not done within 180 s".into()
        })?;
        let mut counts = [0u64; 4];
        for c in 0..4 {
            counts[c] = tls[c].query(false).ctx("SYNCOBJ_QUERY")?;
            if counts[c] == FAIR_JOBS && done[c].is_none() {
                done[c] = Some(t.elapsed());
            }
        }
        if at_first.is_none() && counts.contains(&FAIR_JOBS) {
            at_first = Some(counts);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let at_first = at_first.unwrap_or([FAIR_JOBS; 4]);
    let times: Vec<f64> = done
        .iter()
        .map(|d| d.unwrap_or_default().as_secs_f64())
        .collect();
    let (lo, hi) = times
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    println!(
        "exec: fairness: 4 x {FAIR_JOBS} jobs; finished at {:.2?} s (spread {:.0}% of the last); done when the first finished: {:?}",
        times,
        100.0 * (hi - lo) / hi.max(1e-9),
        at_first
    );
    let w = data.words();
    for (idx, &v) in w.iter().enumerate().take((4 * FAIR_JOBS) as usize) {
        check(v == idx as u32 + 1, || {
            format!("fairness: job {idx} wrote {v:#x}")
        })?;
    }
    check(at_first.iter().all(|&n| n >= FAIR_JOBS / 4), || {
        format!(
            "fairness: when the first context was done the others had {at_first:?} of {FAIR_JOBS}"
        )
    })?;
    Ok(())
}
