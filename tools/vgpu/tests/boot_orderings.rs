// SPDX-License-Identifier: GPL-2.0
//! The cold-boot orderings of the public GA102 drivers, each driven against the model register
//! by register as docs/facts/ga102.md §7.5 records it: how the GSP is reset before Booter-load and in the
//! sequencer's CORE_RESUME (OpenRM and nouveau select the RISC-V core, nova-core 7.3 leaves
//! the falcon core selected), and whether SET_SYSTEM_INFO/SET_REGISTRY are queued before
//! GSP-RM runs (OpenRM, nouveau) or sent after it started (nova-core 7.3, this project's
//! driver). Every accepted ordering must reach GSP_INIT_DONE and serve a command; the refused
//! ones must show what the model says the hardware shows (README "Boot orderings").

mod common;

use common::boot::*;
use common::rm::*;
use common::*;
use vgpu::blocks::falcon::booter::ERR_GSP_IN_RESET;
use vgpu::blocks::falcon::ERR_RTOS_GSP_IN_RESET;

/// A public driver's way of resetting the falcons (docs/facts/ga102.md §7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Driver {
    /// NVIDIA's open-gpu-kernel-modules 570.144.
    OpenRm,
    /// Linux 7.3 nouveau (r570 back-end).
    Nouveau,
    /// Linux 7.3 nova-core.
    NovaCore73,
    /// This project's nova-core.
    ThisProject,
}

/// Where the driver puts SET_SYSTEM_INFO and SET_REGISTRY (docs/facts/ga102.md §7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InitRpcs {
    /// Queued (doorbell after each) before FWSEC, the GSP reset and Booter.
    BeforeBoot,
    /// Sent once RISCV_CPUCTL.ACTIVE_STAT is set.
    AfterStart,
}

const HWCFG2_RISCV: u32 = 1 << 10;
const HWCFG2_SCRUBBING: u32 = 1 << 12;
const HWCFG2_RESET_READY: u32 = 1 << 31;
const BCR_VALID: u32 = 1;
const BCR_RISCV: u32 = 1 << 4;
const ITFEN: u32 = 0x048;
const IRQMCLR: u32 = 0x014;

fn mask(g: &mut Gpu, reg: u32, m: u32, v: u32) {
    let r = g.rd(reg);
    g.wr(reg, (r & !m) | v);
}

fn wait_scrubbed(g: &mut Gpu, base: u32) {
    assert!(
        g.poll(base + HWCFG2, 100, |v| v & HWCFG2_SCRUBBING == 0)
            .is_some(),
        "scrubbing never ended\n{}",
        g.trace()
    );
}

/// The RESET_READY poll every driver does first; its timeout is tolerated.
fn reset_ready(g: &mut Gpu, base: u32) {
    g.rd(base + HWCFG2);
    let _ = g.poll(base + HWCFG2, 10, |v| v & HWCFG2_RESET_READY != 0);
}

fn start(g: &mut Gpu, base: u32) {
    if g.rd(base + CPUCTL) & 1 << 6 != 0 {
        g.wr(base + CPUCTL_ALIAS, 2);
    } else {
        g.wr(base + CPUCTL, 2);
    }
}

fn libos_mailboxes(g: &mut Gpu) {
    g.wr(GSP + MAILBOX0, LIBOS_GPA as u32);
    g.wr(GSP + MAILBOX1, (LIBOS_GPA >> 32) as u32);
}

// OpenRM 570.144 (docs/facts/ga102.md §7.5).

/// `kgspResetHw_TU102` / `ksec2ResetHw_TU102`: RESET by read-modify-write, 10 reads, cleared,
/// 10 reads.
fn openrm_reset_hw(g: &mut Gpu, base: u32) {
    mask(g, base + ENGINE, 1, 1);
    for _ in 0..10 {
        g.rd(base + ENGINE);
    }
    mask(g, base + ENGINE, 1, 0);
    for _ in 0..10 {
        g.rd(base + ENGINE);
    }
}

/// `kflcnReset_TU102` with the GA102 helpers: falcon core, RM = BOOT_0.
fn openrm_reset(g: &mut Gpu, base: u32) {
    reset_ready(g, base);
    openrm_reset_hw(g, base);
    wait_scrubbed(g, base);
    if g.rd(base + HWCFG2) & HWCFG2_RISCV != 0 && g.rd(base + RISCV_BCR_CTRL) & BCR_RISCV != 0 {
        g.wr(base + RISCV_BCR_CTRL, 0);
        assert!(g
            .poll(base + RISCV_BCR_CTRL, 100, |v| v & BCR_VALID != 0)
            .is_some());
    }
    let boot0 = g.rd(0);
    g.wr(base + RM, boot0);
}

/// `kflcnResetIntoRiscv_GA102`: the reset, then one BCR write (no VALID poll, no RM write).
fn openrm_reset_into_riscv(g: &mut Gpu, base: u32) {
    reset_ready(g, base);
    openrm_reset_hw(g, base);
    wait_scrubbed(g, base);
    g.wr(base + RISCV_BCR_CTRL, 0x111);
}

fn openrm_core(g: &mut Gpu, op: u32) -> Result<(), String> {
    match op {
        5 => {
            openrm_reset(g, GSP);
            mask(g, GSP + FBIF_CTL, 0x80, 0x80);
            g.wr(GSP + DMACTL, 0);
        }
        6 => start(g, GSP),
        7 => {
            g.poll(GSP + CPUCTL, 1000, |v| v & 0x10 != 0)
                .ok_or("never halted")?;
        }
        _ => {
            openrm_reset_into_riscv(g, GSP);
            libos_mailboxes(g);
            start(g, SEC2);
            resume_tail(g)?;
        }
    }
    Ok(())
}

// nouveau, Linux 7.3 (docs/facts/ga102.md §7.5).

/// `gp102_flcn_reset_eng` with the GA102 prep and scrub wait (which rewrites MAILBOX0).
fn nouveau_reset_eng(g: &mut Gpu, base: u32) {
    reset_ready(g, base);
    mask(g, base + ENGINE, 1, 1);
    mask(g, base + ENGINE, 1, 0);
    mask(g, base + MAILBOX0, 0, 0);
    wait_scrubbed(g, base);
}

/// `ga102_flcn_select`.
fn nouveau_select(g: &mut Gpu, base: u32) {
    if g.rd(base + RISCV_BCR_CTRL) & BCR_RISCV != 0 {
        g.wr(base + RISCV_BCR_CTRL, 0);
        assert!(g
            .poll(base + RISCV_BCR_CTRL, 100, |v| v & BCR_VALID != 0)
            .is_some());
    }
}

/// `nvkm_falcon_reset`: disable (select, ITFEN, IRQMCLR, engine reset; no PMC under GSP-RM),
/// enable (engine reset, select, scrub wait, RM = BOOT_0).
fn nouveau_falcon_reset(g: &mut Gpu, base: u32) {
    nouveau_select(g, base);
    mask(g, base + ITFEN, 3, 0);
    g.wr(base + IRQMCLR, 0xffff_ffff);
    nouveau_reset_eng(g, base);
    nouveau_reset_eng(g, base);
    nouveau_select(g, base);
    wait_scrubbed(g, base);
    let boot0 = g.rd(0);
    g.wr(base + RM, boot0);
}

/// `ga102_gsp_reset`: engine reset, then BCR |= 0x111 by read-modify-write.
fn nouveau_gsp_reset(g: &mut Gpu) {
    nouveau_reset_eng(g, GSP);
    mask(g, GSP + RISCV_BCR_CTRL, 0x111, 0x111);
}

fn nouveau_core(g: &mut Gpu, op: u32) -> Result<(), String> {
    match op {
        5 => {
            nouveau_falcon_reset(g, GSP);
            mask(g, GSP + FBIF_CTL, 0x80, 0x80);
            g.wr(GSP + DMACTL, 0);
        }
        6 => start(g, GSP),
        // nouveau does not act on a timeout here.
        7 => {
            let _ = g.poll(GSP + CPUCTL, 1000, |v| v & 0x10 != 0);
        }
        _ => {
            nouveau_gsp_reset(g);
            libos_mailboxes(g);
            start(g, SEC2);
            resume_tail(g)?;
        }
    }
    Ok(())
}

// nova-core, Linux 7.3 (docs/facts/ga102.md §7.5).

/// `Falcon::reset`: engine reset, falcon core selected, scrub wait, RM = BOOT_0.
fn nova73_reset(g: &mut Gpu, base: u32) {
    reset_ready(g, base);
    mask(g, base + ENGINE, 1, 1);
    mask(g, base + ENGINE, 1, 0);
    wait_scrubbed(g, base);
    if g.rd(base + RISCV_BCR_CTRL) & BCR_RISCV != 0 {
        g.wr(base + RISCV_BCR_CTRL, 0);
        assert!(g
            .poll(base + RISCV_BCR_CTRL, 100, |v| v & BCR_VALID != 0)
            .is_some());
    }
    wait_scrubbed(g, base);
    let boot0 = g.rd(0);
    g.wr(base + RM, boot0);
}

fn nova73_core(g: &mut Gpu, op: u32) -> Result<(), String> {
    match op {
        5 => {
            nova73_reset(g, GSP);
            mask(g, GSP + FBIF_CTL, 0x80, 0x80);
            g.wr(GSP + DMACTL, 0);
        }
        6 => start(g, GSP),
        7 => {
            g.poll(GSP + CPUCTL, 1000, |v| v & 0x10 != 0)
                .ok_or("never halted")?;
        }
        // CORE_RESUME resets the GSP into its falcon core, not RISC-V.
        _ => {
            nova73_reset(g, GSP);
            libos_mailboxes(g);
            start(g, SEC2);
            resume_tail(g)?;
        }
    }
    Ok(())
}

// This project's driver: the common rig (`common::boot`, `common::rm::this_driver_core`).

/// This project's reset into RISC-V: ENGINE pulse, scrub wait, BCR = 0x111, mailboxes.
fn this_reset_into_riscv(g: &mut Gpu) {
    g.wr(GSP + ENGINE, 1);
    g.wr(GSP + ENGINE, 0);
    wait_scrubbed(g, GSP);
    g.wr(GSP + RISCV_BCR_CTRL, 0x111);
    libos_mailboxes(g);
}

fn send_init_rpcs(g: &mut Gpu, rm: &mut Rm) {
    let si = g.system_info();
    rm.send(g, GSP_SET_SYSTEM_INFO, &si);
    rm.send(g, SET_REGISTRY, &default_registry());
}

/// Facts §7.4 steps 1-4 and 6-8 (FWSEC-FRTS with `d`'s falcon reset), the init RPCs where
/// `rpcs` says, the GSP before Booter as `d` leaves it (`pre_booter` overrides that), and
/// Booter-load. Returns SEC2's MAILBOX0 after Booter.
fn boot_until_booter(
    d: Driver,
    rpcs: InitRpcs,
    pre_booter: Option<fn(&mut Gpu)>,
) -> (Gpu, Rm, Option<u32>) {
    let f = files();
    let mut g = gpu_with(rm_options(), BIG_RAM);
    g.reset_for_load = match d {
        Driver::OpenRm => Some(openrm_reset),
        Driver::Nouveau => Some(nouveau_falcon_reset),
        Driver::NovaCore73 => Some(nova73_reset),
        Driver::ThisProject => None,
    };
    let mut rm = Rm::default();
    g.prepare();
    g.build_gsp_boot(f, Dev::None);
    g.program_bars();
    g.setup_rm_args();
    if rpcs == InitRpcs::BeforeBoot {
        send_init_rpcs(&mut g, &mut rm);
    }
    assert_eq!(
        g.run_fwsec(GSP, FRTS, Deviation::None),
        Some(0),
        "{}",
        g.trace()
    );
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
    match (pre_booter, d) {
        (Some(p), _) => p(&mut g),
        (None, Driver::OpenRm) => {
            openrm_reset_into_riscv(&mut g, GSP);
            libos_mailboxes(&mut g);
        }
        (None, Driver::Nouveau) => {
            nouveau_gsp_reset(&mut g);
            libos_mailboxes(&mut g);
        }
        (None, Driver::NovaCore73) => {
            nova73_reset(&mut g, GSP);
            libos_mailboxes(&mut g);
            start(&mut g, GSP);
            assert!(g.poll(GSP + CPUCTL, 100, |v| v & 0x10 != 0).is_some());
            g.rd(GSP + MAILBOX0);
            g.rd(GSP + MAILBOX1);
        }
        (None, Driver::ThisProject) => this_reset_into_riscv(&mut g),
    }
    let meta = (META_GPA as u32, (META_GPA >> 32) as u32);
    let mb = g.run_booter(SEC2, &f.load, meta, Dev::None);
    (g, rm, mb)
}

/// The whole cold boot as `d` runs it, with the init RPCs where `rpcs` says; returns once
/// GSP_INIT_DONE arrived and a NOP was answered.
fn cold_boot(d: Driver, rpcs: InitRpcs) -> Gpu {
    let (mut g, mut rm, mb) = boot_until_booter(d, rpcs, None);
    assert_eq!(mb, Some(0), "{d:?}: booter_load\n{}", g.trace());
    // Facts §7.5 "After Booter-load": OS, then ACTIVE_STAT read once (OpenRM, nouveau) or
    // polled (nova-core).
    g.wr(GSP + OS, files().app_version);
    assert_ne!(g.rd(GSP + RISCV_CPUCTL) & 1 << 7, 0, "{d:?}: ACTIVE_STAT");
    if d == Driver::OpenRm {
        // GspStatusQueueInit: GSP-RM linked its status queue (entryOff set).
        assert_eq!(g.area32(MSGQ + 28), 0x1000, "status queue linked");
    }
    if rpcs == InitRpcs::AfterStart {
        assert!(
            rm.recv(&g).is_none(),
            "{d:?}: nothing before the init RPCs\n{}",
            g.trace()
        );
        send_init_rpcs(&mut g, &mut rm);
    }
    let s = rm
        .recv(&g)
        .unwrap_or_else(|| panic!("{d:?}: no sequencer\n{}", g.trace()));
    assert_eq!(
        s.function, GSP_RUN_CPU_SEQUENCER,
        "{d:?}: no replies to the init RPCs"
    );
    let mut core: fn(&mut Gpu, u32) -> Result<(), String> = match d {
        Driver::OpenRm => openrm_core,
        Driver::Nouveau => nouveau_core,
        Driver::NovaCore73 => nova73_core,
        Driver::ThisProject => this_driver_core,
    };
    if let Err(e) = run_sequencer_with(&mut g, &s.payload, &mut core) {
        panic!("{d:?}: sequencer: {e}\n{}", g.trace());
    }
    let done = rm
        .recv(&g)
        .unwrap_or_else(|| panic!("{d:?}: no GSP_INIT_DONE\n{}", g.trace()));
    assert_eq!(done.function, GSP_INIT_DONE, "{d:?}");
    assert_eq!(
        rm.call(&mut g, NOP, &[]).result,
        0,
        "{d:?}: GSP-RM serves commands"
    );
    g
}

#[test]
fn gsp_reset_ordering_openrm() {
    let g = cold_boot(Driver::OpenRm, InitRpcs::BeforeBoot);
    let t = g.trace();
    assert!(
        t.contains("booter_load: the CPU left the GSP's RISC-V core selected"),
        "{t}"
    );
    assert!(t.contains("SEC2-RTOS: the CPU left the GSP's RISC-V core selected"));
    assert!(t.contains("QUEUE_HEAD(0) doorbell: GSP-RM is not running"));
}

#[test]
fn gsp_reset_ordering_nouveau() {
    let g = cold_boot(Driver::Nouveau, InitRpcs::BeforeBoot);
    let t = g.trace();
    assert!(
        t.contains("booter_load: the CPU left the GSP's RISC-V core selected"),
        "{t}"
    );
    assert!(t.contains("SEC2-RTOS: the CPU left the GSP's RISC-V core selected"));
}

#[test]
fn gsp_reset_ordering_nova_core_7_3() {
    let mut g = cold_boot(Driver::NovaCore73, InitRpcs::AfterStart);
    let t = g.trace();
    // Its empty-GSP start before Booter halts without touching the LIBOS arguments.
    assert!(t.contains("GSP falcon: nothing loaded since reset"), "{t}");
    assert!(
        t.contains("booter_load: the CPU left the GSP's falcon core selected"),
        "{t}"
    );
    assert!(t.contains("SEC2-RTOS: the CPU left the GSP's falcon core selected"));
    // GSP-RM runs on the RISC-V core whichever core the CPU left selected.
    assert_ne!(g.rd(GSP + RISCV_BCR_CTRL) & BCR_RISCV, 0);
}

#[test]
fn gsp_reset_ordering_this_driver() {
    let g = cold_boot(Driver::ThisProject, InitRpcs::AfterStart);
    assert!(g
        .trace()
        .contains("booter_load: the CPU left the GSP's RISC-V core selected"));
}

#[test]
fn init_rpcs_queued_before_gsp_rm_starts() {
    // This project's resets with OpenRM's placement: the sequencer is already posted when the
    // CPU first looks after Booter, without a doorbell after the start.
    let (mut g, mut rm, mb) = boot_until_booter(Driver::ThisProject, InitRpcs::BeforeBoot, None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    assert_eq!(g.area32(MSGQ + 16), 0, "nothing posted before GSP-RM runs");
    g.wr(GSP + OS, files().app_version);
    assert_eq!(g.area32(MSGQ + 16), 1, "the sequencer, posted at start-up");
    let t = g.trace();
    assert!(
        t.contains("QUEUE_HEAD(0) doorbell: GSP-RM is not running"),
        "{t}"
    );
    assert!(t.contains("GSP_SET_SYSTEM_INFO: asynchronous, no reply"));
    assert!(t.contains("SET_REGISTRY: asynchronous, no reply"));
    let s = rm.recv(&g).unwrap();
    assert_eq!(s.function, GSP_RUN_CPU_SEQUENCER);
    run_sequencer(&mut g, &s.payload).unwrap();
    assert_eq!(rm.recv(&g).unwrap().function, GSP_INIT_DONE);
}

#[test]
fn init_rpcs_sent_after_gsp_rm_starts() {
    // OpenRM's resets with nova-core's placement: GSP-RM waits for the init RPCs.
    let (mut g, mut rm, mb) = boot_until_booter(Driver::OpenRm, InitRpcs::AfterStart, None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    g.wr(GSP + OS, files().app_version);
    for _ in 0..20 {
        g.rd(GSP + RISCV_CPUCTL);
        assert!(rm.recv(&g).is_none(), "{}", g.trace());
    }
    send_init_rpcs(&mut g, &mut rm);
    let s = rm.recv(&g).unwrap();
    assert_eq!(s.function, GSP_RUN_CPU_SEQUENCER);
    run_sequencer_with(&mut g, &s.payload, &mut openrm_core).unwrap();
    assert_eq!(rm.recv(&g).unwrap().function, GSP_INIT_DONE);
}

#[test]
fn init_rpcs_never_sent_no_init_done() {
    // GSP-RM cannot finish its init without SET_SYSTEM_INFO (docs/facts/ga102.md §7.5): a driver that waits
    // for the sequencer or GSP_INIT_DONE first waits forever; other commands are refused.
    let (mut g, mut rm, mb) = boot_until_booter(Driver::ThisProject, InitRpcs::AfterStart, None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    g.wr(GSP + OS, files().app_version);
    for _ in 0..20 {
        g.rd(GSP + IRQSTAT);
        assert!(rm.recv(&g).is_none(), "{}", g.trace());
    }
    let m = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]);
    assert_eq!(m.result, NV_ERR_INVALID_STATE);
    assert!(
        rm.recv(&g).is_none(),
        "still no sequencer, no GSP_INIT_DONE"
    );
    // Only SET_REGISTRY: still nothing.
    rm.send(&mut g, SET_REGISTRY, &default_registry());
    assert!(rm.recv(&g).is_none());
    let si = g.system_info();
    rm.send(&mut g, GSP_SET_SYSTEM_INFO, &si);
    assert_eq!(rm.recv(&g).unwrap().function, GSP_RUN_CPU_SEQUENCER);
}

#[test]
fn gsp_reset_ordering_refused_gsp_held_in_reset() {
    // A driver that asserts the GSP's ENGINE.RESET and starts Booter without releasing it:
    // Booter cannot start GSP-RM on a core held in reset.
    let (mut g, _rm, mb) = boot_until_booter(
        Driver::ThisProject,
        InitRpcs::AfterStart,
        Some(|g| {
            g.wr(GSP + ENGINE, 1);
            g.wr(GSP + RISCV_BCR_CTRL, 0x111);
            libos_mailboxes(g);
        }),
    );
    assert_eq!(mb, Some(ERR_GSP_IN_RESET), "{}", g.trace());
    assert!(g
        .trace()
        .contains("booter_load failed: the GSP is held in ENGINE.RESET"));
    g.wr(GSP + ENGINE, 0);
    assert_not_booted(&mut g);
}

#[test]
fn gsp_reset_ordering_refused_mailboxes_before_reset() {
    // The LIBOS arguments written before the reset into RISC-V: the reset clears the mailboxes,
    // Booter passes 0 on, and GSP-RM finds no arguments: it halts at start-up and never answers.
    let (mut g, mut rm, mb) = boot_until_booter(
        Driver::OpenRm,
        InitRpcs::BeforeBoot,
        Some(|g| {
            libos_mailboxes(g);
            openrm_reset_into_riscv(g, GSP);
        }),
    );
    assert_eq!(mb, Some(0), "{}", g.trace());
    g.wr(GSP + OS, files().app_version);
    let t = g.trace();
    assert!(t.contains("LIBOS args at 0x0"), "{t}");
    assert!(t.contains("GSP-RM halted: start-up"), "{t}");
    assert_eq!(g.area32(MSGQ + 28), 0, "status queue never linked");
    rm.ring(&mut g);
    assert!(rm.recv(&g).is_none());
}

#[test]
fn sequencer_resume_refused_gsp_held_in_reset() {
    // CORE_RESUME that leaves the GSP held in ENGINE.RESET: SEC2-RTOS cannot resume GSP-RM.
    let (mut g, mut rm, mb) = boot_until_booter(Driver::OpenRm, InitRpcs::BeforeBoot, None);
    assert_eq!(mb, Some(0));
    g.wr(GSP + OS, files().app_version);
    let s = rm.recv(&g).unwrap();
    assert_eq!(s.function, GSP_RUN_CPU_SEQUENCER);
    let r = run_sequencer_with(&mut g, &s.payload, &mut |g, op| {
        if op != 8 {
            return openrm_core(g, op);
        }
        g.wr(GSP + ENGINE, 1);
        libos_mailboxes(g);
        start(g, SEC2);
        resume_tail(g)
    });
    let e = r.unwrap_err();
    assert!(e.contains("no handoff"), "{e}");
    assert_eq!(g.rd(SEC2 + MAILBOX0), ERR_RTOS_GSP_IN_RESET);
    assert!(g
        .trace()
        .contains("SEC2-RTOS cannot resume GSP-RM: the GSP is held in ENGINE.RESET"));
    assert!(rm.recv(&g).is_none(), "no GSP_INIT_DONE");
}
