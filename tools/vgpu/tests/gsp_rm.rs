// SPDX-License-Identifier: GPL-2.0
//! End to end: GSP-RM r570.144 on the vGPU, driven the way docs/facts/ga102.md §7.3-§10 describe it by the
//! test-side client of `common/rm.rs`, after a real boot through booter_load (`common/boot.rs`,
//! real firmware files: run `make setup`).

mod common;

use common::boot::*;
use common::rm::*;
use common::*;
use vgpu::server::Options;

#[test]
fn start_up_initialises_the_status_queue() {
    let (g, _rm) = boot_rm();
    // Facts §8.1: GSP-RM initialises its own tx header.
    let h: Vec<u32> = (0..8).map(|i| g.area32(MSGQ + 4 * i)).collect();
    assert_eq!(
        h,
        [0, 0x40000, 0x1000, 63, 0, 1, 0x20, 0x1000],
        "{}",
        g.trace()
    );
    assert_eq!(
        g.area32(MSGQ + 0x20),
        0,
        "its read pointer in the command queue"
    );
    let t = g.trace();
    assert!(
        t.contains("GSP-RM running: LIBOS args at 0x40301000, RMARGS at 0x40530000; shared area at 0x40600000 (129 pages)"),
        "{t}"
    );
}

#[test]
fn init_handshake_with_interrupts_and_timing() {
    let (mut g, mut rm) = boot_rm();
    let irq = g.enable_msix();
    g.enable_gsp_intr();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    // An asynchronous RPC: no reply, no notification (docs/facts/ga102.md §7.4 step 14).
    assert_eq!(g.rd(GSP + IRQSTAT) & 0x40, 0, "SWGEN0");
    assert!(rm.recv(&g).is_none());
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    // The cold boot's CPU sequencer is posted and notified before the doorbell write returns.
    assert_ne!(g.rd(GSP + IRQSTAT) & 0x40, 0, "SWGEN0");
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT, "leaf 4 bit 27");
    assert_eq!(g.rd(TOP), 1 << 2, "subtree 2");
    assert_eq!(irq_count(&irq), 1, "MSI-X vector 2");
    g.ack_gsp_intr();
    assert_eq!(g.rd(GSP + IRQSTAT) & 0x40, 0);
    assert_eq!(g.rd(LEAF + 16), 0);
    let q = rm.recv(&g).unwrap();
    assert_eq!(
        (q.function, q.sequence, q.result, q.payload.len()),
        (GSP_RUN_CPU_SEQUENCER, 0, 0, 40 + 256)
    );
    assert!(
        rm.recv(&g).is_none(),
        "no GSP_INIT_DONE before the sequencer ran"
    );
    // Commands wait while GSP-RM waits for the sequencer.
    let nop = rm.send(&mut g, NOP, &[9]);
    assert!(rm.recv(&g).is_none());
    let save = run_sequencer(&mut g, &q.payload).unwrap_or_else(|e| panic!("{e}\n{}", g.trace()));
    assert_eq!(save[0], 0, "MAILBOX0 after the HS step");
    let d = rm.recv(&g).unwrap();
    assert_eq!(
        (d.function, d.result, d.payload.len()),
        (GSP_INIT_DONE, 0, 0)
    );
    let n = rm.recv(&g).unwrap();
    assert_eq!(
        (n.function, n.sequence, n.result),
        (NOP, nop, 0),
        "the waiting NOP"
    );
    assert_eq!((q.seq, d.seq, n.seq), (0, 1, 2), "status queue seqNum");
    assert!(rm.recv(&g).is_none());
    assert_eq!(
        irq_count(&irq),
        1,
        "one interrupt for GSP_INIT_DONE and the reply"
    );
    assert_eq!(g.rd(BSI_SECURE_SCRATCH_14), HANDOFF);

    let st = g.dev.rpc_stats();
    assert_eq!((st.doorbells, st.rpcs, st.messages), (3, 3, 3));
    assert_eq!(
        st.timed, 2,
        "SET_REGISTRY (sequencer) and the waiting NOP (its reply)"
    );
    // More samples: 50 NOPs, each rung and answered.
    for _ in 0..50 {
        let m = rm.call(&mut g, NOP, &[1, 2, 3, 4]);
        assert_eq!(m.result, 0);
    }
    let st = g.dev.rpc_stats();
    assert_eq!(st.timed, 52);
    eprintln!(
        "doorbell-to-reply over {} doorbells: min {:.1} µs, mean {:.1} µs, max {:.1} µs",
        st.timed,
        st.min.as_secs_f64() * 1e6,
        st.total.as_secs_f64() * 1e6 / st.timed as f64,
        st.max.as_secs_f64() * 1e6
    );
    assert!(st.min <= st.max && st.max.as_millis() < 1000);
    let t = g.trace();
    assert!(
        t.contains("rpc    <- GSP_SET_SYSTEM_INFO seq 0 len 0x3c0"),
        "{t}"
    );
    assert!(!t.contains("rpc    -> GSP_SET_SYSTEM_INFO"));
    assert!(t.contains("GSP_SET_SYSTEM_INFO: asynchronous, no reply"));
    assert!(t.contains("rpc    -> GSP_RUN_CPU_SEQUENCER seq 0 result 0x0 len 0x148"));
    assert!(t.contains("GSP-RM suspended for the CPU sequencer"));
    assert!(t.contains("CPU sequencer HS step"));
    assert!(
        t.contains("SEC2-RTOS resumed GSP-RM on the GSP RISC-V core (LIBOS args at 0x40301000)")
    );
    assert!(t.contains("CPU sequencer done: GSP-RM resumed"));
    assert!(t.contains("rpc    -> GSP_INIT_DONE seq 0 result 0x0 len 0x20"));
    assert!(t.find("-> GSP_RUN_CPU_SEQUENCER") < t.find("-> GSP_INIT_DONE"));
    assert!(t.contains(
        "registry: RMSecBusResetEnable=1, RMForcePcieConfigSave=1, RMDevidCheckIgnore=1"
    ));
    assert!(t.contains("rpc    doorbell-to-reply"));
    assert!(t.contains("irq    raise vector 2: Some(Msix(2))"), "{t}");
}

#[test]
fn init_rpc_replies_knob() {
    let (mut g, mut rm) = knob(|o| o.gsp_rm.init_rpc_replies = true);
    let si = g.system_info();
    let a = rm.call(&mut g, GSP_SET_SYSTEM_INFO, &si);
    assert_eq!(
        (a.result, &a.payload),
        (0, &si),
        "reply carries the payload back"
    );
    assert_eq!(rm.call(&mut g, SET_REGISTRY, &default_registry()).result, 0);
    let q = rm.recv(&g).unwrap();
    assert_eq!(q.function, GSP_RUN_CPU_SEQUENCER);
    run_sequencer(&mut g, &q.payload).unwrap();
    assert_eq!(rm.recv(&g).unwrap().function, GSP_INIT_DONE);
}

#[test]
fn a_driver_that_ignores_the_sequencer_never_gets_init_done() {
    let (mut g, mut rm) = boot_rm();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert_eq!(rm.recv(&g).unwrap().function, GSP_RUN_CPU_SEQUENCER);
    rm.send(&mut g, GET_GSP_STATIC_INFO, &[]);
    for _ in 0..20 {
        g.rd(GSP + IRQSTAT);
        assert!(rm.recv(&g).is_none(), "{}", g.trace());
    }
    assert!(g
        .trace()
        .contains("doorbell while GSP-RM waits for the CPU sequencer"));
    // Skipping CORE_RESUME's reset: SEC2-RTOS finds the HS step still on the GSP.
    g.falcon_reset(GSP);
    g.wr(GSP + CPUCTL, 2);
    assert!(g.poll(GSP + CPUCTL, 10, |v| v & 0x10 != 0).is_some());
    g.wr(SEC2 + CPUCTL, 2);
    assert_eq!(
        g.rd(SEC2 + MAILBOX0),
        vgpu::blocks::falcon::ERR_RTOS_GSP_NOT_RESET
    );
    assert_eq!(g.rd(BSI_SECURE_SCRATCH_14), 0);
    assert!(rm.recv(&g).is_none());
    assert!(g
        .trace()
        .contains("SEC2-RTOS cannot resume GSP-RM: the GSP was not reset after the HS step"));
}

#[test]
fn the_unload_path_works_while_the_sequencer_is_outstanding() {
    // A driver that failed its sequencer still releases WPR2: FWSEC-SB on the reset GSP and
    // booter_unload on SEC2 run as images, not as the sequencer's HS step or SEC2-RTOS.
    let (mut g, mut rm) = boot_rm();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert_eq!(rm.recv(&g).unwrap().function, GSP_RUN_CPU_SEQUENCER);
    assert_eq!(g.run_fwsec(GSP, SB, Deviation::None), Some(0));
    assert_eq!(g.rd(SW_SCRATCH_15) & 0xffff, 0);
    assert_eq!(
        g.run_booter(SEC2, &files().unload, (0xff, 0xff), Dev::None),
        Some(0),
        "{}",
        g.trace()
    );
    assert_eq!(g.wpr2(), (0, 0));
    assert!(!g.trace().contains("HS step"));
}

#[test]
fn sequencer_fault_knobs() {
    use vgpu::blocks::falcon::gsprm::seq::SeqFault;
    for (f, want) in [
        (SeqFault::BadOpcode, "unknown opcode 9 at dword 22"),
        (
            SeqFault::Truncated,
            "opcode 2 at dword 1 truncated by cmdIndex 4",
        ),
        (
            SeqFault::PollTimeout,
            "REG_POLL at dword 1: 0x110044 never matched",
        ),
        (
            SeqFault::NoHandoff,
            "CORE_RESUME: no handoff, SEC2 MAILBOX0 0x0 (opcode 8 at dword 24)",
        ),
    ] {
        let (mut g, mut rm) = knob(|o| o.gsp_rm.seq_fault = f);
        let si = g.system_info();
        rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
        rm.send(&mut g, SET_REGISTRY, &default_registry());
        let q = rm.recv(&g).unwrap();
        assert_eq!(q.function, GSP_RUN_CPU_SEQUENCER);
        assert_eq!(
            run_sequencer(&mut g, &q.payload).err().as_deref(),
            Some(want),
            "{f:?}"
        );
        assert!(rm.recv(&g).is_none(), "{f:?}: no GSP_INIT_DONE");
    }
}

#[test]
fn gsp_interrupt_through_the_cpu_tree() {
    // Replies to the init RPCs give this test its first interrupts.
    let (mut g, mut rm) = knob(|o| o.gsp_rm.init_rpc_replies = true);
    let irq = g.enable_msix();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    // Nothing enabled: the leaf bit is pending, no message.
    assert_ne!(g.rd(GSP + IRQSTAT) & 0x40, 0);
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT);
    assert_eq!(g.rd(TOP), 0);
    assert_eq!(irq_count(&irq), 0);
    // Leaf enable alone: TOP shows it, still no message.
    g.wr(LEAF_EN_SET + 16, GSP_LEAF_BIT);
    assert_eq!(g.rd(TOP), 1 << 2);
    assert_eq!(irq_count(&irq), 0);
    // TOP_EN completes the path: the pending interrupt is delivered now.
    g.wr(TOP_EN_SET, 1 << 2);
    assert_eq!(irq_count(&irq), 1);
    // A driver that clears only the leaf but leaves SWGEN0 pending gets it back on
    // INTR_RETRIGGER(0) (falcon +0x3E8), as nouveau's handler does after servicing.
    g.wr(LEAF + 16, GSP_LEAF_BIT);
    assert_eq!(g.rd(TOP), 0);
    g.wr(GSP + 0x3e8, 1);
    assert_eq!(
        g.rd(LEAF + 16),
        GSP_LEAF_BIT,
        "re-sent while SWGEN0 is pending"
    );
    assert_eq!(irq_count(&irq), 1);
    // Proper acknowledgement: SWGEN0, then the leaf; a retrigger then finds nothing.
    g.ack_gsp_intr();
    g.wr(GSP + 0x3e8, 1);
    assert_eq!(g.rd(LEAF + 16), 0);
    assert_eq!(irq_count(&irq), 0);
    // The next message raises it again.
    rm.recv(&g).unwrap();
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert_eq!(irq_count(&irq), 1);
    g.ack_gsp_intr();
    // Leaf enable cleared: pending, not delivered.
    g.wr(LEAF_EN_CLEAR + 16, GSP_LEAF_BIT);
    rm.recv(&g).unwrap();
    let q = rm.recv(&g).unwrap();
    run_sequencer(&mut g, &q.payload).unwrap();
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT);
    assert_eq!(irq_count(&irq), 0);
    // TOP_EN cleared, leaf re-enabled: still nothing until TOP_EN is set again.
    g.wr(TOP_EN_CLEAR, 1 << 2);
    g.wr(LEAF_EN_SET + 16, GSP_LEAF_BIT);
    assert_eq!(irq_count(&irq), 0);
    g.wr(TOP_EN_SET, 1 << 2);
    assert_eq!(irq_count(&irq), 1);
}

#[test]
fn kernel_interrupt_table_names_the_gsp_vector() {
    let (mut g, mut rm) = ready();
    let p = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]).payload;
    let (client, subdevice) = (le32(&p, 1600), le32(&p, 1608));
    let (st, out) = control(
        &mut g,
        &mut rm,
        client,
        subdevice,
        INTR_GET_KERNEL_TABLE,
        &[0; KERNEL_TABLE_SIZE],
    );
    assert_eq!(st, 0, "{}", g.trace());
    let n = le32(&out, 0) as usize;
    let gsp = (0..n)
        .map(|i| 4 + 16 * i)
        .find(|&e| u16::from_le_bytes([out[e], out[e + 1]]) == 50)
        .expect("an MC_ENGINE_IDX_GSP entry");
    assert_eq!(le32(&out, gsp + 8), 155, "vectorStall");
    assert_eq!(le32(&out, gsp + 12), u32::MAX, "no non-stall vector");
    // The vector leads to the leaf and subtree the tree uses.
    assert_eq!(155 / 32, 4);
    assert_eq!(1u32 << (155 % 32), GSP_LEAF_BIT);
    assert_eq!(155 / 64, GSP_MSIX);
    assert!(g.trace().contains("kernel interrupt table: GSP vector 155"));
    // Short parameters are refused.
    let (st, _) = control(
        &mut g,
        &mut rm,
        client,
        subdevice,
        INTR_GET_KERNEL_TABLE,
        &[0; 2064],
    );
    assert_eq!(st, NV_ERR_INVALID_PARAM_STRUCT);
}

#[test]
fn commands_queued_before_gsp_rm_runs() {
    // nouveau queues SET_SYSTEM_INFO and SET_REGISTRY before the GSP runs (docs/facts/ga102.md §7.4 step 5).
    let (mut g, mut rm) = boot_rm_with(rm_options(), |g, rm| {
        let si = g.system_info();
        rm.put(g, GSP_SET_SYSTEM_INFO, &si, Flaw::None);
        rm.put(g, SET_REGISTRY, &default_registry(), Flaw::None);
        rm.commit(g);
        rm.ring(g);
    });
    let msgs: Vec<Msg> = std::iter::from_fn(|| rm.recv(&g)).collect();
    let f: Vec<u32> = msgs.iter().map(|m| m.function).collect();
    assert_eq!(f, [GSP_RUN_CPU_SEQUENCER], "no replies: {}", g.trace());
    assert!(g
        .trace()
        .contains("QUEUE_HEAD(0) doorbell: GSP-RM is not running"));
    run_sequencer(&mut g, &msgs[0].payload).unwrap();
    assert_eq!(rm.recv(&g).unwrap().function, GSP_INIT_DONE);
    assert_eq!(rm.call(&mut g, NOP, &[]).result, 0);
}

#[test]
fn static_info() {
    let (mut g, mut rm) = ready();
    let m = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]);
    assert_eq!(m.result, 0);
    let p = &m.payload;
    assert_eq!(p.len(), 1656, "sizeof(GspStaticConfigInfo)");
    // The driver's own FB layout (docs/facts/ga102.md §7.2).
    let l = g.layout(files());
    let vram = 24u64 << 30;
    assert_eq!(l.fb_end, vram);
    assert_eq!(l.non_wpr, 0x5_f3e0_0000, "the README's example");
    assert_eq!(le32(p, 344), 2, "numFBRegions");
    let r0 = 352;
    assert_eq!(le64(p, r0), 0);
    assert_eq!(
        le64(p, r0 + 8),
        l.non_wpr - 1,
        "usable up to the non-WPR heap"
    );
    assert_eq!(le64(p, r0 + 16), 0, "reserved");
    assert_eq!((p[r0 + 28], p[r0 + 29], p[r0 + 30]), (1, 1, 0));
    let r1 = r0 + 48;
    assert_eq!((le64(p, r1), le64(p, r1 + 8)), (l.non_wpr, vram - 1));
    assert_eq!(p[r1 + 30], 1, "protected");
    assert_eq!(le64(p, 1224), vram, "fb_length");
    assert_eq!(&p[1260..1284], b"NVIDIA GeForce RTX 3090\0");
    assert_eq!(&p[1324..1330], b"GA102\0");
    assert_eq!(u16::from_le_bytes([p[1388], p[1389]]), u16::from(b'N'));
    let (bar1_pde, bar2_pde) = (le64(p, 1536), le64(p, 1544));
    assert!(bar1_pde % 4096 == 0 && bar2_pde % 4096 == 0);
    assert!((l.non_wpr..l.wpr_start).contains(&bar1_pde));
    assert_eq!(p[1552], 1, "bVbiosValid");
    assert_eq!((le32(p, 1556), le32(p, 1560)), (0x10de, 0x147d));
    let internal = (le32(p, 1600), le32(p, 1604), le32(p, 1608));
    assert!(internal.0 != 0 && internal.1 != 0 && internal.2 != 0);
    assert_eq!((le64(p, 1640), le64(p, 1648)), (l.non_wpr, l.frts));
    // The internal subdevice answers controls.
    let mut c = words(&[internal.0, internal.2, 0x2080_2a08, 0, 4, 0]);
    c.extend([0u8; 4]);
    let r = rm.call(&mut g, GSP_RM_CONTROL, &c);
    assert_eq!(r.result, 0, "{}", g.trace());
    assert_eq!(le32(&r.payload, 24), 0x1000);
}

#[test]
fn static_info_before_init_done_is_refused() {
    let (mut g, mut rm) = boot_rm();
    let m = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]);
    assert_eq!(m.result, NV_ERR_INVALID_STATE);
}

fn alloc(g: &mut Gpu, rm: &mut Rm, c: u32, parent: u32, h: u32, class: u32, params: &[u8]) -> u32 {
    let mut p = words(&[c, parent, h, class, 0xffff_ffff, params.len() as u32, 0, 0]);
    p.extend_from_slice(params);
    let m = rm.call(g, GSP_RM_ALLOC, &p);
    assert_eq!(le32(&m.payload, 16), m.result, "status field = rpc_result");
    assert_eq!(&m.payload[32..], params);
    m.result
}

fn control(g: &mut Gpu, rm: &mut Rm, c: u32, o: u32, cmd: u32, params: &[u8]) -> (u32, Vec<u8>) {
    let mut p = words(&[c, o, cmd, 0xffff_ffff, params.len() as u32, 0]);
    p.extend_from_slice(params);
    let m = rm.call(g, GSP_RM_CONTROL, &p);
    assert_eq!(le32(&m.payload, 12), m.result);
    (m.result, m.payload[24..].to_vec())
}

fn free(g: &mut Gpu, rm: &mut Rm, c: u32, parent: u32, h: u32) -> u32 {
    let m = rm.call(g, FREE, &words(&[c, parent, h, 0xffff_ffff]));
    assert_eq!(le32(&m.payload, 12), m.result);
    m.result
}

/// `NV_CHANNEL_ALLOC_PARAMS` (docs/facts/ga102.md §10.2) for a channel on `engine` in `va`.
fn channel_params(va: u32, engine: u32, chid: Option<u32>) -> Vec<u8> {
    let mut p = vec![0u8; 368];
    set64(&mut p, 8, 0x1_0000_0000);
    set32(&mut p, 16, 1024);
    if let Some(id) = chid {
        set32(&mut p, 20, (id % 8) << 8 | (id / 8) << 12 | 1 << 21);
    }
    set32(&mut p, 28, va);
    set32(&mut p, 128, engine);
    set64(&mut p, 144, 0x10_0000);
    set64(&mut p, 152, 0x1000);
    set32(&mut p, 160, 2);
    set32(&mut p, 164, 1);
    set64(&mut p, 168, 0x20_0000 + 0x200 * u64::from(engine));
    set64(&mut p, 176, 0x200);
    set32(&mut p, 184, 2);
    p
}

/// NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY: `va`'s page directory at VRAM `pd`.
fn set_page_directory(g: &mut Gpu, rm: &mut Rm, c: u32, dev: u32, va: u32, pd: u64) -> u32 {
    let mut p = vec![0u8; 32];
    set64(&mut p, 0, pd);
    set32(&mut p, 8, 512);
    set32(&mut p, 16, va);
    control(g, rm, c, dev, 0x0080_1813, &p).0
}

#[test]
fn rm_object_tree() {
    let (mut g, mut rm) = ready();
    let (cl, dev, sub, va, tsg, gr, ce) = (
        0xc1d0_0000,
        0xde1d_0000,
        0x5d1d_0000,
        0x90f1_0000,
        0xa06c_0000,
        0xf1f0_0000,
        0xf1f0_0001,
    );
    let mut root = vec![0u8; 120];
    set32(&mut root, 0, cl);
    set32(&mut root, 4, 0xffff_ffff);
    let g = &mut g;
    let rm = &mut rm;
    assert_eq!(alloc(g, rm, cl, 0, cl, 0x0000, &root), 0, "{}", g.trace());
    let mut devp = vec![0u8; 56];
    set32(&mut devp, 4, cl);
    assert_eq!(alloc(g, rm, cl, cl, dev, 0x0080, &devp), 0);
    assert_eq!(alloc(g, rm, cl, dev, sub, 0x2080, &[0; 4]), 0);
    assert_eq!(alloc(g, rm, cl, dev, va, 0x90f1, &[0; 48]), 0);
    assert_eq!(
        alloc(g, rm, cl, dev, ce, 0xc56f, &channel_params(va, 9, Some(1))),
        NV_ERR_INVALID_STATE,
        "no page directory yet"
    );
    assert_eq!(set_page_directory(g, rm, cl, dev, va, 0x30_0000), 0);
    let mut tsgp = words(&[0, 0, va, 1]);
    tsgp.extend([0u8; 4]);
    assert_eq!(alloc(g, rm, cl, dev, tsg, 0xa06c, &tsgp), 0);
    assert_eq!(
        alloc(g, rm, cl, tsg, gr, 0xc56f, &channel_params(0, 1, Some(0))),
        0,
        "GRAPHICS channel in the group, VA space from the group"
    );
    assert_eq!(
        alloc(g, rm, cl, dev, ce, 0xc56f, &channel_params(va, 9, Some(1))),
        0
    );
    assert_eq!(alloc(g, rm, cl, gr, 0x902d_0000, 0x902d, &[]), 0, "2D");
    assert_eq!(
        alloc(g, rm, cl, ce, 0xc7b5_0000, 0xc7b5, &words(&[0, 9])),
        0,
        "CE"
    );
    assert_eq!(
        alloc(g, rm, cl, sub, 0xc561_0000, 0xc561, &[]),
        0,
        "usermode"
    );

    // Refusals.
    assert_eq!(
        alloc(g, rm, cl, dev, va, 0x90f1, &[0; 48]),
        NV_ERR_INSERT_DUPLICATE_NAME
    );
    assert_eq!(
        alloc(g, rm, cl, sub, 0x90f1_0001, 0x90f1, &[0; 48]),
        NV_ERR_INVALID_OBJECT_PARENT
    );
    assert_eq!(
        alloc(g, rm, cl, dev, 0x90f1_0002, 0x90f1, &[0; 40]),
        NV_ERR_INVALID_PARAM_STRUCT
    );
    assert_eq!(
        alloc(g, rm, cl, dev, 0x1234, 0xc369, &[]),
        NV_ERR_INVALID_CLASS
    );
    assert_eq!(
        alloc(g, rm, 0x4242, dev, 0x1235, 0x90f1, &[0; 48]),
        NV_ERR_INVALID_CLIENT
    );
    assert_eq!(
        alloc(g, rm, cl, ce, 0x902d_0001, 0x902d, &[]),
        NV_ERR_INVALID_OBJECT_PARENT,
        "2D on a COPY channel"
    );
    assert_eq!(
        alloc(g, rm, cl, gr, 0xc7b5_0001, 0xc7b5, &words(&[0, 9])),
        NV_ERR_INVALID_OBJECT_PARENT
    );
    assert_eq!(
        alloc(
            g,
            rm,
            cl,
            dev,
            0xf1f0_0002,
            0xc56f,
            &channel_params(0x777, 1, None)
        ),
        NV_ERR_INVALID_ARGUMENT,
        "no such VA space"
    );

    // Controls on the channels (docs/facts/ga102.md §10.2, §10.3).
    assert_eq!(
        control(g, rm, cl, gr, 0xa06f_0104, &words(&[1])).0,
        0,
        "BIND"
    );
    assert_eq!(
        control(g, rm, cl, gr, 0xa06f_0104, &words(&[9])).0,
        NV_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        control(g, rm, cl, gr, 0xa06f_0103, &[1, 0]).0,
        0,
        "GPFIFO_SCHEDULE"
    );
    assert_eq!(
        control(g, rm, cl, gr, 0xa06f_0103, &[1, 0, 0]).0,
        NV_ERR_INVALID_PARAM_STRUCT
    );
    let (st, tok) = control(g, rm, cl, ce, 0xc36f_0108, &[0; 4]);
    assert_eq!(st, 0);
    assert_eq!(le32(&tok, 0), 1 << 16 | 1, "runlist of COPY0 << 16 | chid");
    assert_eq!(
        control(g, rm, cl, sub, 0xc36f_0108, &[0; 4]).0,
        NV_ERR_NOT_SUPPORTED
    );
    assert_eq!(
        control(g, rm, cl, 0xdead, 0xc36f_0108, &[0; 4]).0,
        NV_ERR_INVALID_OBJECT_HANDLE
    );

    // FREE: wrong parent refused; the device takes everything under it.
    assert_eq!(free(g, rm, cl, sub, dev), NV_ERR_INVALID_OBJECT_PARENT);
    assert_eq!(free(g, rm, cl, tsg, gr), 0);
    assert_eq!(
        control(g, rm, cl, gr, 0xa06f_0103, &[1, 0]).0,
        NV_ERR_INVALID_OBJECT_HANDLE
    );
    assert_eq!(free(g, rm, cl, cl, dev), 0);
    assert_eq!(
        control(g, rm, cl, ce, 0xc36f_0108, &[0; 4]).0,
        NV_ERR_INVALID_OBJECT_HANDLE
    );
    // The channel ids are free again.
    assert_eq!(alloc(g, rm, cl, cl, dev, 0x0080, &devp), 0);
    assert_eq!(alloc(g, rm, cl, dev, va, 0x90f1, &[0; 48]), 0);
    assert_eq!(set_page_directory(g, rm, cl, dev, va, 0x30_0000), 0);
    assert_eq!(
        alloc(g, rm, cl, dev, ce, 0xc56f, &channel_params(va, 9, Some(1))),
        0
    );
    assert_eq!(free(g, rm, cl, 0, cl), 0, "free the client");
    assert_eq!(free(g, rm, cl, 0, cl), NV_ERR_INVALID_CLIENT);
    let t = g.trace();
    assert!(t.contains("GSP_RM_ALLOC: AMPERE_CHANNEL_GPFIFO_A 0xf1f00001 under 0xde1d0000: engine 9, runlist 1, chid 1"), "{t}");
    assert!(
        t.contains("FREE: NV01_DEVICE_0 0xde1d0000 freed with 6 descendant(s)"),
        "{t}"
    );
}

#[test]
fn unknown_function() {
    let (mut g, mut rm) = ready();
    let m = rm.call(&mut g, INVALIDATE_TLB, &[7; 12]);
    assert_eq!(m.result, RPC_UNKNOWN_FUNCTION);
    assert_eq!(m.payload, [7; 12]);
    // An event number sent by the CPU is no function either.
    assert_eq!(
        rm.call(&mut g, GSP_INIT_DONE, &[]).result,
        RPC_UNKNOWN_FUNCTION
    );
    assert!(g
        .trace()
        .contains("INVALIDATE_TLB: not a function this GSP-RM model serves"));
}

#[test]
fn bad_elements_from_the_cpu() {
    let (mut g, mut rm) = ready();
    for (flaw, what) in [
        (
            Flaw::BadChecksum,
            "bad checksum: the element XORs to 0x00000001",
        ),
        (Flaw::BadSignature, "signature 0x58505256"),
        (Flaw::BadSeq, "seqNum 7, expected 6"),
    ] {
        let s = rm.send_flawed(&mut g, NOP, &[5; 8], flaw);
        let m = rm.recv(&g).unwrap();
        assert_eq!(
            (m.function, m.sequence, m.result),
            (NOP, s, RPC_INVALID_MESSAGE_FORMAT),
            "{flaw:?}"
        );
        assert!(g.trace().contains(what), "{flaw:?}: {}", g.trace());
        if flaw == Flaw::BadSeq {
            // GSP-RM resynchronises to the element's number.
            rm.tx_seq += 1;
        }
        // The next good command works.
        assert_eq!(rm.call(&mut g, NOP, &[]).result, 0);
    }
    assert_eq!(g.dev.rpc_stats().bad_elements, 3);
}

#[test]
fn both_queues_wrap() {
    let (mut g, mut rm) = ready();
    // 2 messages so far (the sequencer, GSP_INIT_DONE): both queues at entry 2.
    for i in 0..150u32 {
        let m = rm.call(&mut g, NOP, &i.to_le_bytes());
        assert_eq!(m.payload, i.to_le_bytes());
    }
    assert_eq!((rm.wp, rm.rp), ((2 + 150) % 63, (2 + 150) % 63));
    assert_eq!(rm.rx_seq, 152);

    // A burst the CPU does not drain: 62 commands fill the command queue; the 62 replies fit
    // the status queue only if the CPU reads, so GSP-RM stops when it is full.
    let free = rm.free(&g);
    assert_eq!(free, 62);
    for i in 0..62u32 {
        rm.put(&g, NOP, &i.to_le_bytes(), Flaw::None);
    }
    rm.commit(&g);
    rm.ring(&mut g);
    let mut got = 0u32;
    while let Some(m) = rm.recv(&g) {
        assert_eq!(m.payload, got.to_le_bytes());
        got += 1;
    }
    assert_eq!(got, 62, "62 replies fit in 62 free entries");
    // Now 70 commands with the CPU reading only after the doorbell: the queue stalls at 62.
    for i in 0..62u32 {
        rm.put(&g, NOP, &i.to_le_bytes(), Flaw::None);
    }
    rm.commit(&g);
    rm.ring(&mut g);
    for i in 0..8u32 {
        // Room for these only after the GSP consumed the first batch.
        assert!(rm.free(&g) > 0);
        rm.put(&g, NOP, &(100 + i).to_le_bytes(), Flaw::None);
    }
    rm.commit(&g);
    rm.ring(&mut g);
    let mut n = 0;
    loop {
        match rm.recv(&g) {
            Some(_) => n += 1,
            None => {
                // Any GSP register access lets GSP-RM retry the held replies.
                g.rd(GSP + IRQSTAT);
                if !rm.pending(&g) {
                    break;
                }
            }
        }
    }
    assert_eq!(n, 70, "{}", g.trace());
    assert!(g.trace().contains("status queue: 1 entry to post, 0 free"));
}

#[test]
fn multi_element_command_across_the_ring_end() {
    let (mut g, mut rm) = ready();
    // Move the command queue to entry 61 so the next 3-entry element wraps (61, 62, 0); the
    // reply then starts at 61 and wraps too.
    while rm.wp != 61 {
        rm.call(&mut g, NOP, &[]);
    }
    let start = rm.wp;
    assert_eq!(rm.rp, 61);
    // An RM control the model does not know, with 8 KiB of parameters: 3 entries each way.
    let mut p = words(&[
        0xc1e0_0001,
        0x5d1e_0001,
        0x2080_0000,
        0xffff_ffff,
        0x2000,
        0,
    ]);
    p.extend((0..0x2000u32).map(|i| (i * 7) as u8));
    let m = rm.call(&mut g, GSP_RM_CONTROL, &p);
    assert_eq!(m.result, NV_ERR_NOT_SUPPORTED);
    assert_eq!(m.elem_count, 3);
    assert_eq!(&m.payload[24..], &p[24..], "parameters come back");
    assert_eq!(rm.wp, (start + 3) % 63);
    assert_eq!((m.entry, rm.rp), (61, 1));
    assert!(g.trace().contains("len 0x2038 [element"), "{}", g.trace());
}

#[test]
fn continuation_records_both_ways() {
    let (mut g, mut rm) = ready();
    // 100 KiB of control parameters: a full element plus one CONTINUATION_RECORD.
    let size = 100 << 10;
    let mut p = words(&[0xc1e0_0001, 0x5d1e_0001, 0x2080_0000, 0xffff_ffff, size, 0]);
    p.extend((0..size).map(|i| (i % 251) as u8));
    let m = rm.call(&mut g, GSP_RM_CONTROL, &p);
    assert_eq!(m.result, NV_ERR_NOT_SUPPORTED);
    assert_eq!(m.elem_count, 16, "a full first element");
    assert_eq!(m.payload, {
        let mut q = p.clone();
        set32(&mut q, 12, NV_ERR_NOT_SUPPORTED);
        q
    });
    let t = g.trace();
    assert!(
        t.contains("GSP_RM_CONTROL: 0xffb0 of 0x19018 payload bytes, continuation records follow"),
        "{t}"
    );
    assert!(t.contains("GSP_RM_CONTROL reassembled: 0x19018 payload bytes"));
    // A continuation record nobody asked for.
    let m = rm.call(&mut g, CONTINUATION_RECORD, &[1; 16]);
    assert_eq!(m.result, RPC_INVALID_MESSAGE_FORMAT);
}

#[test]
fn unloading_guest_driver_sets_mailbox_bit_31() {
    let (mut g, mut rm) = ready();
    assert_eq!(g.rd(GSP + MAILBOX0) & 1 << 31, 0);
    let m = rm.call(&mut g, UNLOADING_GUEST_DRIVER, &[0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(m.result, 0);
    assert!(
        g.poll(GSP + MAILBOX0, 10, |v| v & 1 << 31 != 0).is_some(),
        "docs/facts/ga102.md §7.4 unload step 2\n{}",
        g.trace()
    );
    // GSP-RM answers nothing more.
    rm.send(&mut g, NOP, &[]);
    assert!(rm.recv(&g).is_none());
    assert!(g.trace().contains("doorbell ignored: GSP-RM unloaded"));
    // Unload steps 3-4 follow as before: FWSEC-SB on the reset GSP, then booter_unload.
    assert_eq!(g.run_fwsec(GSP, SB, Deviation::None), Some(0));
    assert_eq!(
        g.run_booter(SEC2, &files().unload, (0xff, 0xff), Dev::None),
        Some(0)
    );
    assert_eq!(g.rd(WPR2_HI), 0);
}

#[test]
fn bad_unload_level() {
    let (mut g, mut rm) = ready();
    let m = rm.call(&mut g, UNLOADING_GUEST_DRIVER, &[0, 0, 0, 0, 5, 0, 0, 0]);
    assert_eq!(m.result, NV_ERR_INVALID_ARGUMENT);
    assert_eq!(g.rd(GSP + MAILBOX0) & 1 << 31, 0);
    assert_eq!(rm.call(&mut g, NOP, &[]).result, 0);
}

#[test]
fn bad_system_info_stops_the_init() {
    let (mut g, mut rm) = boot_rm();
    let mut si = g.system_info();
    set64(&mut si, 0, BAR0_GPA + 0x100_0000);
    let m = rm.call(&mut g, GSP_SET_SYSTEM_INFO, &si);
    assert_eq!(m.result, NV_ERR_INVALID_ARGUMENT);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert!(rm.recv(&g).is_none(), "no GSP_INIT_DONE");
    let t = g.trace();
    assert!(t.contains("GspSystemInfo.gpuPhysAddr (+0) = 0xf3000000, expected 0xf2000000 (BAR0 as the guest programmed it)"), "{t}");
    assert!(t.contains("GSP-RM halted: GSP_SET_SYSTEM_INFO refused"));
}

#[test]
fn bad_registry_stops_the_init() {
    let (mut g, mut rm) = boot_rm();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    let mut r = default_registry();
    r[12] = 4; // type of entry 0
    assert_eq!(
        rm.call(&mut g, SET_REGISTRY, &r).result,
        NV_ERR_INVALID_ARGUMENT
    );
    assert!(rm.recv(&g).is_none());
    assert!(g
        .trace()
        .contains("registry entry 0 (RMSecBusResetEnable): type 4"));
}

fn halted_at_start(edit: impl FnOnce(&mut Gpu), why: &str) {
    let (mut g, mut rm) = boot_rm_with(rm_options(), |g, _| edit(g));
    let t = g.trace();
    assert!(t.contains("GSP-RM halted: start-up: "), "{t}");
    assert!(t.contains(why), "want {why:?} in\n{t}");
    assert_eq!(g.area32(MSGQ + 28), 0, "status queue never initialised");
    rm.send(&mut g, NOP, &[]);
    assert!(g.trace().contains("doorbell ignored: GSP-RM halted"));
    assert_eq!(g.rd(GSP + IRQSTAT) & 0x40, 0, "no notification");
}

#[test]
fn missing_rmargs() {
    halted_at_start(
        |g| g.ram.write(LIBOS_GPA + 3 * 32, &[0; 32]).unwrap(),
        "no RMARGS region (id8 0x0000524d41524753)",
    );
}

#[test]
fn log_buffer_page_list() {
    halted_at_start(
        |g| g.ram.write(LOG_GPA + LOG_SIZE + 16, &[0; 8]).unwrap(),
        "LIBOS region LOGINTR: page-list word 2 = 0x0",
    );
}

#[test]
fn wrong_command_queue_header() {
    halted_at_start(
        |g| g.area_write(CMDQ + 12, &64u32.to_le_bytes()),
        "command queue msgqTxHeader.msgCount = 0x40, expected 0x3f",
    );
}

#[test]
fn wrong_first_pte() {
    halted_at_start(
        |g| g.area_write(0, &(SHARED_GPA + 0x1000).to_le_bytes()),
        "shared-area PTE 0 = 0x40601000, expected the PTE page itself",
    );
}

#[test]
fn resume_arguments_are_not_modelled() {
    halted_at_start(
        |g| g.ram.write(RMARGS_GPA + 40, &[1]).unwrap(),
        "bInPMTransition = 1",
    );
}

fn knob(o: impl FnOnce(&mut Options)) -> (Gpu, Rm) {
    let mut opts = rm_options();
    o(&mut opts);
    boot_rm_with(opts, |_, _| {})
}

#[test]
fn knob_gsp_silent() {
    let (mut g, mut rm) = knob(|o| o.gsp_rm.silent = true);
    let irq = g.enable_msix();
    g.enable_gsp_intr();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert!(rm.recv(&g).is_none(), "no sequencer, no GSP_INIT_DONE");
    assert_eq!(g.area32(MSGQ + 0x20), 2, "the commands were consumed");
    assert_eq!(irq_count(&irq), 0);
    assert_eq!(g.rd(GSP + IRQSTAT) & 0x40, 0);
    assert!(g
        .trace()
        .contains("-> GSP_RUN_CPU_SEQUENCER seq 0 not sent (--gsp-silent)"));
    assert_eq!(g.dev.rpc_stats().timed, 0);
}

#[test]
fn knob_gsp_corrupt_reply() {
    let (mut g, mut rm) = knob(|o| o.gsp_rm.corrupt_reply = true);
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    let r = rm.peek_raw(&g).expect("a message");
    assert_eq!(r.function, GSP_RUN_CPU_SEQUENCER);
    assert_eq!(r.elem_count, 1);
    assert_ne!(r.sum, 0, "the checksum does not verify");
}

#[test]
fn knob_gsp_oversized_reply() {
    let (mut g, mut rm) = knob(|o| o.gsp_rm.oversized_reply = true);
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    let r = rm.peek_raw(&g).expect("a message");
    assert_eq!(r.elem_count, 64, "beyond the 63-entry queue");
    assert_eq!(g.area32(MSGQ + 16), 1, "writePtr moved by the real size");
}

#[test]
fn knob_irq_storm() {
    let mut opts = rm_options();
    opts.irq_storm = true;
    let mut g = gpu_with(opts, SMALL_RAM);
    let irq = g.enable_msix();
    for _ in 0..10 {
        g.rd(0);
    }
    assert_eq!(irq_count(&irq), 0, "the tree is closed");
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT);
    g.enable_gsp_intr();
    for _ in 0..10 {
        g.rd(0);
    }
    assert_eq!(
        irq_count(&irq),
        11,
        "one interrupt per BAR0 access once open"
    );
    g.ack_gsp_intr();
    assert_ne!(g.rd(GSP + IRQSTAT) & 0x40, 0, "SWGEN0 cannot be cleared");
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT, "nor can the leaf bit");
    assert!(irq_count(&irq) >= 2);
}

#[test]
fn knob_fall_off_bus() {
    let mut opts = rm_options();
    opts.fall_off_bus_after = Some(5);
    let mut g = gpu_with(opts, SMALL_RAM);
    for _ in 0..5 {
        assert_eq!(g.rd(0), 0x1720_00a1);
    }
    assert_eq!(g.rd(0), 0xffff_ffff);
    assert_eq!(g.rd(GSP + MAILBOX0), 0xffff_ffff);
    g.wr(0x1438, 5);
    assert_eq!(g.rd(0x1438), 0xffff_ffff);
    assert_eq!(g.cfg_read(0), 0xffff_ffff, "configuration space too");
    assert_eq!(g.dev.bar0_accesses(), 5);
    g.wr(GSP + QUEUE_HEAD0, 0);
    let t = g.trace();
    assert!(
        t.contains("the device falls off the bus after this access (5 BAR0 accesses"),
        "{t}"
    );
    assert!(
        t.contains("BAR0 write dropped at 0x110c00: off the bus"),
        "{t}"
    );
}

/// u64 word `i` of log buffer `buf` (0 LOGINIT, 1 LOGINTR, 2 LOGRM).
fn log_word(g: &Gpu, buf: u64, i: u64) -> u64 {
    let mut b = [0u8; 8];
    g.ram
        .read(LOG_GPA + buf * LOG_SIZE + 8 * i, &mut b)
        .unwrap();
    u64::from_le_bytes(b)
}

/// Decodes a LIBOS log buffer as OG's `liblogdecode.c` does: backwards from the put pointer,
/// timestamp, metadata address, then the metadata's argument count of arguments. The model's
/// metadata addresses are 0x7f00_0000_0000 + 0x40 * index (README "LIBOS log buffers").
fn decode_log(g: &Gpu, buf: u64) -> Vec<(u64, Vec<u64>, u64)> {
    const ARGS: [u64; 5] = [2, 3, 5, 2, 3];
    let n = LOG_SIZE / 8 - 1;
    let put = log_word(g, buf, 0);
    let mut i = put;
    let mut out = vec![];
    while i >= 2 {
        let ts = log_word(g, buf, 1 + (i - 1) % n);
        let meta = log_word(g, buf, 1 + (i - 2) % n);
        let m = (meta - 0x7f00_0000_0000) / 0x40;
        let argc = ARGS[m as usize];
        let args = (0..argc)
            .map(|k| log_word(g, buf, 1 + (i - 2 - argc + k) % n))
            .collect();
        out.push((m, args, ts));
        i -= 2 + argc;
    }
    assert_eq!(i, 0, "records tile the buffer from entry 0");
    out.reverse();
    out
}

#[test]
fn libos_logs_are_written_in_the_libos_format() {
    let (mut g, mut rm) = boot_rm();
    // LOGINIT: init arguments, the four regions, RM's arguments.
    let li = decode_log(&g, 0);
    assert_eq!(li.len(), 6, "{li:?}");
    assert_eq!(li[0].0, 0);
    assert_eq!(li[0].1, [0x4030_1000, 4]);
    assert_eq!(li[1].1, [0x004c_4f47_494e_4954, LOG_GPA, LOG_SIZE]);
    assert_eq!(li[4].1, [0x0000_524d_4152_4753, RMARGS_GPA, 4096]);
    assert_eq!(li[5].1, [RMARGS_GPA, SHARED_GPA, 129, CMDQ, MSGQ]);
    assert!(
        li.windows(2).all(|w| w[0].2 <= w[1].2 && w[0].2 > 0),
        "timestamps"
    );
    assert_eq!(
        log_word(&g, 0, 0),
        4 + 4 * 5 + 7,
        "put = u64 entries written"
    );
    // LOGINTR: nothing.
    assert_eq!(log_word(&g, 1, 0), 0);
    // LOGRM: the status queue, then one record per posted message.
    assert_eq!(
        decode_log(&g, 2),
        [(3, vec![63, 0x1000], decode_log(&g, 2)[0].2)]
    );
    init(&mut g, &mut rm);
    let rmlog = decode_log(&g, 2);
    let posted: Vec<(u64, u64)> = rmlog[1..].iter().map(|r| (r.1[0], r.1[2])).collect();
    assert_eq!(
        posted,
        [
            (u64::from(GSP_RUN_CPU_SEQUENCER), 0),
            (u64::from(GSP_INIT_DONE), 0)
        ]
    );
    assert_eq!(rm.call(&mut g, 0x4242, &[]).result, RPC_UNKNOWN_FUNCTION);
    let last = decode_log(&g, 2).pop().unwrap();
    assert_eq!(
        (last.1[0], last.1[2]),
        (0x4242, u64::from(RPC_UNKNOWN_FUNCTION))
    );
}

#[test]
fn knob_gsp_extra_events() {
    let (mut g, mut rm) = knob(|o| o.gsp_rm.extra_events = true);
    let irq = g.enable_msix();
    g.enable_gsp_intr();
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    let q = rm.recv(&g).unwrap();
    g.ack_gsp_intr();
    irq_count(&irq);
    run_sequencer(&mut g, &q.payload).unwrap();
    assert_eq!(irq_count(&irq), 1, "one notification for the batch");
    let d = rm.recv(&g).unwrap();
    assert_eq!(d.function, GSP_INIT_DONE);
    // OS_ERROR_LOG (0x1006): rpc_os_error_log_v17_00, 272 bytes.
    let e = rm.recv(&g).unwrap();
    assert_eq!((e.function, e.sequence, e.result), (0x1006, 0, 0));
    assert_eq!(e.payload.len(), 272);
    assert_eq!(le32(&e.payload, 0), 0, "exceptType");
    assert_eq!(le32(&e.payload, 4), 0, "runlistId");
    assert_eq!(le32(&e.payload, 8), 0xffff_ffff, "chid: INVALID_CHID");
    let text = &e.payload[12..268];
    let end = text.iter().position(|&b| b == 0).unwrap();
    assert_eq!(
        std::str::from_utf8(&text[..end]).unwrap(),
        "vgpu: injected OS_ERROR_LOG (--gsp-extra-events)"
    );
    assert_eq!(le32(&e.payload, 268), 0, "preemptiveRemovalPreviousXid");
    // GSP_LOCKDOWN_NOTICE (0x101C): bLockdownEngaging = 0.
    let l = rm.recv(&g).unwrap();
    assert_eq!((l.function, l.payload.as_slice()), (0x101c, &[0u8][..]));
    assert!(rm.recv(&g).is_none());
    // GSP-RM carries on.
    assert_eq!(rm.call(&mut g, NOP, &[]).result, 0);
    let t = g.trace();
    assert!(
        t.contains("-> OS_ERROR_LOG seq 0 result 0x0 len 0x130"),
        "{t}"
    );
    assert!(
        t.contains("-> GSP_LOCKDOWN_NOTICE seq 0 result 0x0 len 0x21"),
        "{t}"
    );
}
