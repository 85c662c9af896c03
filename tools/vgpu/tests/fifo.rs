// SPDX-License-Identifier: GPL-2.0
//! End to end: GPFIFO channels on a booted GSP-RM, driven through the real paths — RPCs for
//! the VA space, page directory, channel, copy object, BIND / SCHEDULE / work-submit token and
//! FREE; BAR0 for the usermode doorbell and timer; VRAM for page tables, ring, push buffers
//! and USERD; eventfds for MSI-X (docs/facts/ga102.md §10, §11).

mod common;

use common::rm::*;
use common::*;
use std::fs::File;
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};
use vfio_bindings::bindings::vfio::*;
use vfio_user::ServerBackend;
use vgpu::mmu::format::build::{dual_pde, pde, pte};
use vgpu::mmu::format::Aperture;
use vgpu::vram::Vram;

const VID: Aperture = Aperture::Video;
const CL: u32 = 0xc1d0_0000;
const DEV: u32 = 0xde1d_0000;
const VA: u32 = 0x90f1_0000;
/// The VA space's page directory (PD3) and tables, in VRAM.
const PD3: u64 = 0x10_0000;
/// VA [0, 4 MiB) maps VRAM VA + this.
const VA_TO_PA: u64 = 0x40_0000;
const USERMODE: u32 = 0xbb_0000;
const DOORBELL: u32 = USERMODE + 0x90;
const RC_TRIGGERED: u32 = 0x1004;
const NV_ERR_INVALID_STATE: u32 = 0x40;

fn alloc(g: &mut Gpu, rm: &mut Rm, parent: u32, h: u32, class: u32, params: &[u8]) -> u32 {
    let mut p = words(&[CL, parent, h, class, 0xffff_ffff, params.len() as u32, 0, 0]);
    p.extend_from_slice(params);
    rm.call(g, GSP_RM_ALLOC, &p).result
}

fn control(g: &mut Gpu, rm: &mut Rm, o: u32, cmd: u32, params: &[u8]) -> (u32, Vec<u8>) {
    let mut p = words(&[CL, o, cmd, 0xffff_ffff, params.len() as u32, 0]);
    p.extend_from_slice(params);
    let m = rm.call(g, GSP_RM_CONTROL, &p);
    (m.result, m.payload[24..].to_vec())
}

fn free(g: &mut Gpu, rm: &mut Rm, parent: u32, h: u32) -> u32 {
    rm.call(g, FREE, &words(&[CL, parent, h, 0xffff_ffff]))
        .result
}

fn vram(g: &Gpu) -> Vram {
    g.dev.hub().vram()
}

fn put(g: &Gpu, pa: u64, words: &[u32]) {
    let b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    vram(g).write(pa, &b).unwrap();
}

fn get(g: &Gpu, pa: u64) -> u32 {
    vram(g).read_u32(pa).unwrap()
}

/// Client, device, VA space with its page tables and page directory.
fn va_space(g: &mut Gpu, rm: &mut Rm) {
    let mut root = vec![0u8; 120];
    set32(&mut root, 0, CL);
    assert_eq!(alloc(g, rm, 0, CL, 0x0000, &root), 0);
    let mut devp = vec![0u8; 56];
    set32(&mut devp, 4, CL);
    assert_eq!(alloc(g, rm, CL, DEV, 0x0080, &devp), 0);
    let mut vap = vec![0u8; 48];
    set32(&mut vap, 4, 1 << 3); // IS_EXTERNALLY_OWNED
    set32(&mut vap, 32, 0x10000);
    assert_eq!(alloc(g, rm, DEV, VA, 0x90f1, &vap), 0);
    let v = vram(g);
    let q = |pa: u64, e: u64| v.write(pa, &e.to_le_bytes()).unwrap();
    q(PD3, pde(VID, PD3 + 0x1000));
    q(PD3 + 0x1000, pde(VID, PD3 + 0x2000));
    q(PD3 + 0x2000, pde(VID, PD3 + 0x3000));
    for t in 0..2u64 {
        let table = PD3 + 0x4000 + 0x1000 * t;
        v.write(
            PD3 + 0x3000 + 16 * t,
            &dual_pde(None, Some((VID, table))).to_le_bytes(),
        )
        .unwrap();
        for i in 0..512u64 {
            q(
                table + 8 * i,
                pte(VID, ((t * 512 + i) << 12) + VA_TO_PA, 0, 0),
            );
        }
    }
    let mut pd = vec![0u8; 32];
    set64(&mut pd, 0, PD3);
    set32(&mut pd, 8, 512);
    set32(&mut pd, 16, VA);
    assert_eq!(control(g, rm, DEV, 0x0080_1813, &pd).0, 0, "{}", g.trace());
}

/// A channel `h` on `engine` with chid `chid`: instance block, USERD and ring by chid.
struct Ch {
    h: u32,
    token: u32,
    userd: u64,
    ring: u64,
    pb: u64,
    put: u32,
    used: u64,
}

fn channel_params(engine: u32, chid: u32) -> Vec<u8> {
    let c = u64::from(chid);
    let mut p = vec![0u8; 368];
    set64(&mut p, 8, 0x1_0000 + 0x1000 * c);
    set32(&mut p, 16, 32);
    set32(&mut p, 20, (chid % 8) << 8 | (chid / 8) << 12 | 1 << 21);
    set32(&mut p, 28, VA);
    set32(&mut p, 128, engine);
    set64(&mut p, 144, 0x2_0000 + 0x1000 * c);
    set64(&mut p, 152, 0x1000);
    set32(&mut p, 160, 2);
    set32(&mut p, 164, 1);
    set64(&mut p, 168, 0x8_0000 + 0x200 * c);
    set64(&mut p, 176, 0x200);
    set32(&mut p, 184, 2);
    p
}

fn channel(g: &mut Gpu, rm: &mut Rm, engine: u32, chid: u32) -> Ch {
    let h = 0xf1f0_0000 | chid;
    assert_eq!(
        alloc(g, rm, DEV, h, 0xc56f, &channel_params(engine, chid)),
        0,
        "{}",
        g.trace()
    );
    if engine >= 9 {
        assert_eq!(
            alloc(g, rm, h, 0xc7b5_0000 | chid, 0xc7b5, &words(&[0, engine])),
            0
        );
    }
    assert_eq!(
        control(g, rm, h, 0xa06f_0104, &words(&[engine])).0,
        0,
        "BIND"
    );
    assert_eq!(control(g, rm, h, 0xa06f_0103, &[1, 0]).0, 0, "SCHEDULE");
    let (st, tok) = control(g, rm, h, 0xc36f_0108, &[0; 4]);
    assert_eq!(st, 0);
    let c = u64::from(chid);
    Ch {
        h,
        token: le32(&tok, 0),
        userd: 0x8_0000 + 0x200 * c,
        ring: 0x1_0000 + 0x1000 * c,
        pb: 0x10_0000 + 0x2_0000 * c,
        put: 0,
        used: 0,
    }
}

/// Writes `w` as the next push-buffer segment, its GP entry and GPPut, and rings the
/// doorbell through BAR0.
fn submit(g: &mut Gpu, c: &mut Ch, w: &[u32]) {
    let va = c.pb + c.used;
    put(g, va + VA_TO_PA, w);
    c.used += 4 * w.len() as u64;
    let e = [va as u32, (w.len() as u32) << 10 | (va >> 32) as u32];
    put(g, c.ring + 8 * u64::from(c.put) + VA_TO_PA, &e);
    c.put = (c.put + 1) % 32;
    put(g, c.userd + 0x8c, &[c.put]);
    g.wr(DOORBELL, c.token);
}

fn wait(g: &Gpu, what: &str, mut done: impl FnMut(&Gpu) -> bool) {
    let t = Instant::now();
    while !done(g) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "timed out: {what}\n{}",
            g.trace()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn inc(subch: u32, method: u32, count: u32) -> u32 {
    1 << 29 | count << 16 | subch << 13 | method >> 2
}

fn release(va: u64, v: u32) -> Vec<u32> {
    vec![inc(0, 0x5c, 5), va as u32, (va >> 32) as u32, v, 0, 1]
}

fn acquire_geq(va: u64, v: u32) -> Vec<u32> {
    vec![inc(0, 0x5c, 5), va as u32, (va >> 32) as u32, v, 0, 2]
}

fn eventfd() -> File {
    // SAFETY: eventfd(2) with valid flags; the result is checked.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
    assert!(fd >= 0);
    // SAFETY: a fresh descriptor nothing else owns.
    unsafe { File::from_raw_fd(fd) }
}

#[test]
fn channel_alloc_writes_the_instance_block_and_runs_a_release() {
    let (mut g, mut rm) = ready();
    let (g, rm) = (&mut g, &mut rm);
    va_space(g, rm);
    // A second VA space without a page directory cannot take a channel.
    assert_eq!(alloc(g, rm, DEV, 0x90f1_0001, 0x90f1, &[0; 48]), 0);
    let mut p = channel_params(9, 7);
    set32(&mut p, 28, 0x90f1_0001);
    assert_eq!(
        alloc(g, rm, DEV, 0xf1f0_0007, 0xc56f, &p),
        NV_ERR_INVALID_STATE
    );

    let mut c = channel(g, rm, 9, 2);
    assert_eq!(c.token, 1 << 16 | 2, "runlist 1 (COPY0) << 16 | chid");
    // The instance block GSP-RM wrote: PAGE_DIR_BASE = PD3, VID_MEM, VER2, 64 KiB big pages.
    let inst = 0x2_0000 + 0x2000;
    assert_eq!(get(g, inst + 0x200), PD3 as u32 | 1 << 10 | 1 << 11);
    assert_eq!(get(g, inst + 0x204), 0);
    assert_eq!(get(g, inst + 18 * 4), 0x1_2000, "GP_BASE");
    assert_eq!(get(g, inst + 19 * 4), 5 << 16, "LIMIT2 = log2(32)");

    // The usermode timer runs.
    let t0 = u64::from(g.rd(USERMODE + 0x80)) | u64::from(g.rd(USERMODE + 0x84)) << 32;
    std::thread::sleep(Duration::from_millis(2));
    let t1 = u64::from(g.rd(USERMODE + 0x80)) | u64::from(g.rd(USERMODE + 0x84)) << 32;
    assert!(t1 >= t0 + 1_000_000, "{t0} {t1}");

    submit(g, &mut c, &release(0x3000, 0xcafe));
    wait(g, "semaphore release", |g| {
        get(g, 0x3000 + VA_TO_PA) == 0xcafe
    });
    wait(g, "GPGet", |g| get(g, c.userd + 0x88) == 1);
    // An unknown token is ignored.
    g.wr(DOORBELL, 0x00ff_0fff);
    assert_eq!(g.dev.fifo().stats().unknown_tokens, 1);
    // FREE of the channel frees it in the FIFO.
    assert_eq!(free(g, rm, DEV, c.h), 0);
    assert!(g.dev.fifo().channel(c.token).is_none());
}

#[test]
fn copy_engine_copy_through_a_push_buffer() {
    let (mut g, mut rm) = ready();
    let (g, rm) = (&mut g, &mut rm);
    va_space(g, rm);
    let mut c = channel(g, rm, 9, 0);
    let src: Vec<u32> = (0..0x4000u32)
        .map(|i| i.wrapping_mul(0x9e37_79b9))
        .collect();
    put(g, 0x20_0000 + VA_TO_PA, &src);
    let n = 4 * src.len() as u32;
    let mut w = vec![
        inc(4, 0, 1),
        0xc7b5,
        // OFFSET_IN_UPPER/LOWER, OFFSET_OUT_UPPER/LOWER
        inc(4, 0x400, 4),
        0,
        0x20_0000,
        0,
        0x28_0000,
        inc(4, 0x418, 1),
        n,
        // LAUNCH_DMA: non-pipelined, pitch-linear both sides, virtual.
        inc(4, 0x300, 1),
        2 | 1 << 7 | 1 << 8,
    ];
    w.extend(release(0x3000, 1));
    submit(g, &mut c, &w);
    wait(g, "copy done", |g| get(g, 0x3000 + VA_TO_PA) == 1);
    let mut back = vec![0u8; n as usize];
    vram(g).read(0x28_0000 + VA_TO_PA, &mut back).unwrap();
    let back: Vec<u32> = back
        .chunks(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert!(back == src, "copied data differs");
}

#[test]
fn bad_method_sends_rc_triggered_with_an_interrupt() {
    let (mut g, mut rm) = ready();
    let irq = g.enable_msix();
    g.enable_gsp_intr();
    let (g, rm) = (&mut g, &mut rm);
    va_space(g, rm);
    let mut c = channel(g, rm, 10, 3);
    // Drain the interrupts of the set-up RPCs.
    g.ack_gsp_intr();
    irq_count(&irq);
    submit(g, &mut c, &[inc(0, 0x4, 1), 0x1234]);
    // The interrupt arrives without any further CPU access.
    wait(g, "GSP interrupt", |_| irq_count(&irq) > 0);
    let m = rm.recv(g).expect("RC_TRIGGERED");
    assert_eq!(m.function, RC_TRIGGERED, "{}", g.trace());
    let p = &m.payload;
    assert_eq!(p.len(), 48);
    assert_eq!(le32(p, 0), 10, "nv2080EngineType COPY1");
    assert_eq!(le32(p, 4), 3, "chid");
    assert_eq!(le32(p, 8), 0, "gfid");
    assert_eq!(le32(p, 12), 2, "exceptLevel FATAL");
    assert_eq!(le32(p, 16), 32, "ROBUST_CHANNEL_PBDMA_ERROR");
    assert_eq!(le32(p, 20), 0, "scope CHANNEL");
    assert_eq!((le32(p, 28), le32(p, 32), le32(p, 36)), (0, 0, 0));
    assert_eq!(le32(p, 44), 0, "no journal");
    // The channel stopped: a later submission is ignored.
    submit(g, &mut c, &release(0x3100, 5));
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(get(g, 0x3100 + VA_TO_PA), 0);
    // Freed and allocated again, the channel id works.
    assert_eq!(free(g, rm, DEV, c.h), 0);
    let mut c = channel(g, rm, 10, 3);
    submit(g, &mut c, &release(0x3100, 6));
    wait(g, "new channel runs", |g| get(g, 0x3100 + VA_TO_PA) == 6);
}

#[test]
fn fetch_fault_records_the_fault_and_sends_rc() {
    let (mut g, mut rm) = ready();
    let (g, rm) = (&mut g, &mut rm);
    va_space(g, rm);
    let mut c = channel(g, rm, 9, 1);
    // A GP entry for a segment at 16 MiB: no page table there.
    put(g, c.ring + VA_TO_PA, &[0x100_0000, 4 << 10]);
    c.put = 1;
    put(g, c.userd + 0x8c, &[1]);
    g.wr(DOORBELL, c.token);
    wait(g, "RC message", |_| rm.pending(g));
    let mut msgs = vec![];
    while let Some(m) = rm.recv(g) {
        msgs.push(m);
    }
    let rc = msgs
        .iter()
        .find(|m| m.function == RC_TRIGGERED)
        .unwrap_or_else(|| panic!("{}", g.trace()));
    assert_eq!(
        le32(&rc.payload, 16),
        31,
        "ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT"
    );
    assert_eq!(le32(&rc.payload, 28), 0x100_0000, "mmuFaultAddrLo");
    assert_eq!(le32(&rc.payload, 36), 0, "NV_PFAULT_FAULT_TYPE_PDE");
    // The snapshot registers took it (MMU_FAULT_ADDR_LO / INST_LO).
    assert_eq!(g.rd(0xb8_3080) & !0xfff, 0x100_0000);
    assert_eq!(
        g.rd(0xb8_3088) & !0xfff,
        0x2_1000,
        "the channel's instance block"
    );
    assert_ne!(g.rd(0xb8_3094) & 1 << 31, 0, "STATUS.VALID");
}

#[test]
fn free_preempts_a_hung_channel_and_others_keep_running() {
    let (mut g, mut rm) = ready();
    let (g, rm) = (&mut g, &mut rm);
    va_space(g, rm);
    let mut hung = channel(g, rm, 9, 4);
    let mut ok = channel(g, rm, 11, 5);
    submit(g, &mut hung, &acquire_geq(0x3200, 1));
    for i in 1..=20 {
        submit(g, &mut ok, &release(0x3300, i));
    }
    wait(g, "other channel completes", |g| {
        get(g, 0x3300 + VA_TO_PA) == 20
    });
    // The hung channel's PBDMA thread may pick up its entry after the other channel is done:
    // wait until it is busy (spinning on the acquire), never assume it already is.
    wait(g, "hung channel spinning on the acquire", |g| {
        !g.dev.fifo().channel(hung.token).unwrap().idle
    });
    let t = Instant::now();
    assert_eq!(free(g, rm, DEV, hung.h), 0);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(g.dev.fifo().channel(hung.token).is_none());
    submit(g, &mut ok, &release(0x3300, 21));
    wait(g, "still running", |g| get(g, 0x3300 + VA_TO_PA) == 21);
    // Freeing the VA space stops the remaining channel too.
    assert_eq!(free(g, rm, DEV, VA), 0);
    assert!(g.dev.fifo().channel(ok.token).is_none());
}

#[test]
fn non_stall_interrupt_raises_the_engine_vector() {
    let (mut g, mut rm) = ready();
    let (g, rm) = (&mut g, &mut rm);
    // MSI-X vector 0 (subtree 0: the engine non-stall leaves) to an eventfd.
    let fd = eventfd();
    g.dev
        .set_irqs(
            VFIO_PCI_MSIX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            0,
            1,
            vec![fd.try_clone().unwrap()],
        )
        .unwrap();
    let msix = vgpu::pci::cap::MSIX as u64;
    let ctl = g.cfg_read(msix) | 0x8000_0000;
    g.cfg_write(msix, ctl);
    // CE0's non-stall vector (the kernel interrupt table's): 1, leaf 0 bit 1.
    va_space(g, rm);
    g.wr(LEAF_EN_SET, 1 << 1);
    g.wr(TOP_EN_SET, 1);
    let mut c = channel(g, rm, 9, 6);
    submit(g, &mut c, &[inc(0, 0x20, 1), 0]);
    wait(g, "non-stall message", |_| irq_count(&fd) == 1);
    assert_eq!(g.rd(LEAF), 1 << 1, "CE0 non-stall vector 1 pending");
    g.wr(LEAF, 1 << 1);
    assert_eq!(g.rd(TOP) & 1, 0);
}
