// SPDX-License-Identifier: GPL-2.0
//! End to end: a host-side "driver" boots GSP-RM on the vGPU the way docs/facts/ga102.md §7.4 describes it
//! (the boot sequence is in `common/boot.rs`) — FWSEC-FRTS on the GSP, the GSP reset into
//! RISC-V with the LIBOS-argument address in its mailboxes, then the signed booter_load
//! DMA-loaded onto SEC2 with the `GspFwWprMeta` address in SEC2's mailboxes — from the real
//! firmware files. Then booter_unload, and one test per failure. The files must be present:
//! run `make setup`.

mod common;

use common::boot::*;
use common::*;
use vgpu::blocks::falcon::booter::*;
use vgpu::blocks::falcon::brom::{ERR_BAD_SIGNATURE, ERR_BOOTVEC, ERR_WRONG_ENGINE};
use vgpu::server::Options;

#[test]
fn booter_load_starts_gsp_rm() {
    let f = files();
    let (mut g, mb) = boot_gsp(Dev::None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    // Step 12-13.
    g.wr(GSP + OS, f.app_version);
    assert!(
        g.poll(GSP + RISCV_CPUCTL, 10, |v| v & 1 << 7 != 0)
            .is_some(),
        "RISCV_CPUCTL.ACTIVE_STAT"
    );
    assert_eq!(g.rd(GSP + RISCV_CPUCTL) & 1 << 4, 0, "RISC-V not halted");
    assert_eq!(g.rd(SEC2 + MAILBOX0), 0);
    assert_ne!(g.rd(SEC2 + IRQSTAT) & 1 << 4, 0, "SEC2 IRQSTAT.HALT");
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END), "WPR2 as FWSEC left it");
    let b = g.dev.gsp().boot().expect("GspBoot recorded");
    assert_eq!(b.libos_args, LIBOS_GPA);
    assert_eq!(b.wpr_meta_addr, META_GPA);
    assert_eq!(b.meta.magic, WPR_META_MAGIC);
    assert_eq!(b.meta.frts_offset, FRTS_START);
    assert_eq!(b.meta.heap_size, 129 << 20);
    assert_eq!(b.wpr2, (FRTS_START, FRTS_END));
    let t = g.trace();
    assert!(
        t.contains("SEC2 falcon: boot ROM accepted booter_load (heavy secure)"),
        "{t}"
    );
    let line = t
        .lines()
        .find(|l| l.contains("radix3: 15513 pages match .fwimage"))
        .unwrap_or_else(|| panic!("{t}"));
    eprintln!("{line}");
    assert!(t.contains("GSP-RM started on the GSP RISC-V core, LIBOS args at 0x40301000"));
    assert!(t.contains("SEC2 falcon: halt mailbox0=0x0"));

    // A GSP reset stops GSP-RM.
    g.falcon_reset(GSP);
    assert_not_booted(&mut g);
    assert!(g.trace().contains("GSP falcon: GSP-RM stopped"));
}

#[test]
fn booter_unload_clears_wpr2() {
    let f = files();
    let (mut g, mb) = boot_gsp(Dev::None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    // Unload steps 3-4: GSP reset, FWSEC-SB, then booter_unload with 0xFF/0xFF.
    assert_eq!(g.run_fwsec(GSP, SB, Deviation::None), Some(0));
    assert_eq!(g.rd(SW_SCRATCH_15) & 0xffff, 0);
    assert_not_booted(&mut g);
    assert_ne!(g.rd(WPR2_HI), 0, "only Booter-unload removes WPR2");
    // Wrong arguments first: refused, WPR2 kept.
    assert_eq!(
        g.run_booter(SEC2, &f.unload, (0xff, 0), Dev::None),
        Some(ERR_UNLOAD_ARGS)
    );
    assert_ne!(g.rd(WPR2_HI), 0);
    assert_eq!(
        g.run_booter(SEC2, &f.unload, (0xff, 0xff), Dev::None),
        Some(0),
        "{}",
        g.trace()
    );
    assert_eq!(g.rd(WPR2_HI), 0);
    assert_eq!(g.rd(WPR2_LO), 0);
    let t = g.trace();
    assert!(
        t.contains("SEC2 falcon: booter_unload: WPR2 [0x5ffe00000,0x5fff00000) cleared"),
        "{t}"
    );
    // FWSEC-FRTS can carve WPR2 again afterwards.
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
}

#[test]
fn booter_unload_after_frts_only() {
    let f = files();
    let mut g = gpu_with(options(), SMALL_RAM);
    g.prepare();
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    assert_eq!(
        g.run_booter(SEC2, &f.unload, (0xff, 0xff), Dev::None),
        Some(0)
    );
    assert_eq!(g.wpr2(), (0, 0));
}

fn failed(dev: Dev, code: u32, trace: &str) -> Gpu {
    let (mut g, mb) = boot_gsp(dev);
    let t = g.trace();
    assert_eq!(mb, Some(code), "{dev:?}: {t}");
    assert!(t.contains(trace), "{dev:?}: want {trace:?} in\n{t}");
    assert_not_booted(&mut g);
    g
}

#[test]
fn last_signature_is_refused() {
    failed(
        Dev::LastSignature,
        ERR_BAD_SIGNATURE,
        "all-zero signature at DMEM 0x10 (the fuses select 0)",
    );
}

#[test]
fn foreign_signature_is_refused() {
    failed(
        Dev::ForeignSignature,
        ERR_BAD_SIGNATURE,
        "no valid signature at DMEM 0x10",
    );
}

#[test]
fn unpatched_signature_is_refused() {
    failed(
        Dev::Unpatched,
        ERR_BAD_SIGNATURE,
        "SEC2 falcon: boot ROM rejects the image: all-zero signature",
    );
}

#[test]
fn bootvec_zero_is_refused() {
    failed(
        Dev::BootvecZero,
        ERR_BOOTVEC,
        "BOOTVEC 0x0, entry point 0x100",
    );
}

#[test]
fn booter_on_the_gsp_is_refused() {
    failed(
        Dev::OnGsp,
        ERR_WRONG_ENGINE,
        "GSP falcon: boot ROM rejects the image: image for EngineIdMask 0x1",
    );
}

#[test]
fn bad_meta_magic() {
    failed(
        Dev::BadMagic,
        ERR_META_FIELD,
        "GspFwWprMeta.magic (+0x0) = 0xdc3aae21371a60b4, expected 0xdc3aae21371a60b3",
    );
}

#[test]
fn radix3_pointing_at_a_wrong_page() {
    failed(
        Dev::Radix3WrongPage,
        ERR_RADIX3_PAGE | 100,
        "radix3 mismatch at page 100",
    );
}

#[test]
fn corrupted_fwimage_byte() {
    let g = failed(
        Dev::CorruptFwimage,
        ERR_RADIX3_PAGE | 5000,
        "radix3 mismatch at page 5000",
    );
    assert!(g
        .trace()
        .contains(&format!(".fwimage byte {:#x}", 5000 * 4096 + 123)));
}

#[test]
fn corrupted_bootloader_copy() {
    failed(
        Dev::CorruptBootloader,
        ERR_BOOTLOADER_MISMATCH,
        "bootloader copy at 0x40310000 differs from the file at byte 0x1800",
    );
}

#[test]
fn fb_layout_field_off() {
    failed(
        Dev::FbLayoutOff,
        ERR_META_FIELD + 0x90,
        "GspFwWprMeta.bootBinOffset (+0x90) = 0x5ffdf9000, expected 0x5ffdfa000",
    );
}

#[test]
fn wpr2_not_set() {
    failed(Dev::Wpr2NotSet, ERR_WPR2_NOT_SET, "WPR2 not set");
}

#[test]
fn booter_fail_knob() {
    let (mut g, mb) = boot_gsp_with(
        Options {
            booter_fail: true,
            ..options()
        },
        Dev::None,
    );
    assert_eq!(mb, Some(ERR_BOOTER_INJECTED));
    assert_not_booted(&mut g);
    assert!(g.trace().contains("booter_load fails (--booter-fail)"));
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
}

#[test]
fn falcon_hang_knob_applies_to_sec2() {
    let f = files();
    let mut g = gpu_with(
        Options {
            falcon_hang: true,
            ..options()
        },
        SMALL_RAM,
    );
    g.prepare();
    assert_eq!(
        g.run_booter(SEC2, &f.unload, (0xff, 0xff), Dev::None),
        None,
        "never halts"
    );
    assert_eq!(g.rd(SEC2 + CPUCTL) & 1 << 4, 0);
    assert!(g
        .trace()
        .contains("SEC2 falcon: running, never halts (--falcon-hang)"));
    g.falcon_reset(SEC2);
    assert_ne!(g.rd(SEC2 + CPUCTL) & 1 << 4, 0);
}

#[test]
fn without_firmware_booter_is_unknown() {
    let f = files();
    let mut g = gpu(Options::default());
    g.prepare();
    assert_eq!(
        g.run_booter(SEC2, &f.unload, (0xff, 0xff), Dev::None),
        Some(vgpu::blocks::falcon::brom::ERR_UNKNOWN_IMAGE)
    );
}
