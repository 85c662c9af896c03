// SPDX-License-Identifier: GPL-2.0
//! End to end: a host-side "driver" runs FWSEC-FRTS on the vGPU through the vfio-user backend,
//! register by register, the way docs/facts/ga102.md §5.4 and §7.4 steps 1-8 describe it, with the ucode
//! DMA-loaded from a memfd that stands for guest RAM. Then one test per failure.

mod common;

use common::*;
use vfio_bindings::bindings::vfio::VFIO_PCI_CONFIG_REGION_INDEX;
use vfio_user::ServerBackend;
use vgpu::blocks::falcon::brom::*;
use vgpu::server::Options;

#[test]
fn fwsec_frts_carves_wpr2() {
    let mut g = gpu(Options::default());
    g.prepare();
    assert_eq!(g.rd(WPR2_HI), 0, "step 6: no WPR2 before FRTS");
    let mb = g.run_fwsec(GSP, FRTS, Deviation::None);
    assert_eq!(mb, Some(0), "{}", g.trace());
    // Step 8.
    assert_eq!(g.rd(SW_SCRATCH_E) >> 16, 0);
    assert_ne!(g.rd(WPR2_HI), 0);
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
    assert_eq!(g.rd(GSP + IRQSTAT) & 1 << 4, 1 << 4, "IRQSTAT.HALT");
    let t = g.trace();
    assert!(t.contains("GSP falcon: reset"), "{t}");
    assert!(t.contains("GSP falcon: start at BOOTVEC 0x0"), "{t}");
    assert!(
        t.contains("GSP falcon: FWSEC-FRTS ok, WPR2 [0x5ffe00000,0x5fff00000)"),
        "{t}"
    );
    assert!(t.contains("GSP falcon: halt mailbox0=0x0"), "{t}");
    assert!(
        t.contains("gsp    W32 0x110100 <- 0x00000002  NV_PFALCON_FALCON_CPUCTL"),
        "{t}"
    );
    assert!(t.contains("NV_PFALCON2_FALCON_BROM_PARAADDR(0)"), "{t}");

    // WPR2 survives an FLR, as the driver's "already set" check expects (docs/facts/ga102.md §7.4 step 6).
    g.dev
        .region_write(VFIO_PCI_CONFIG_REGION_INDEX, 0x78 + 9, &[0x80])
        .unwrap();
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
}

#[test]
fn fwsec_sb_on_the_unload_path() {
    let mut g = gpu(Options::default());
    g.prepare();
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    g.wr(SW_SCRATCH_15, 0x1234_5678);
    assert_eq!(g.run_fwsec(GSP, SB, Deviation::None), Some(0));
    assert_eq!(g.rd(SW_SCRATCH_15), 0x1234_0000, "15:0 = 0, the rest kept");
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END), "SB leaves WPR2 alone");
    assert!(g.trace().contains("GSP falcon: FWSEC-SB ok"));
}

fn failed_run(dev: Deviation) -> (Gpu, Option<u32>) {
    let mut g = gpu(Options::default());
    g.prepare();
    let mb = g.run_fwsec(GSP, FRTS, dev);
    (g, mb)
}

fn assert_untouched(g: &mut Gpu) {
    assert_eq!(g.rd(WPR2_HI), 0, "WPR2 untouched");
    assert_eq!(g.rd(WPR2_LO), 0);
    assert_eq!(g.rd(SW_SCRATCH_E), 0, "FWSEC never ran");
}

#[test]
fn wrong_signature_index() {
    let (mut g, mb) = failed_run(Deviation::WrongSignature);
    assert_eq!(mb, Some(ERR_BAD_SIGNATURE));
    assert_untouched(&mut g);
    assert!(g.trace().contains("signature 0 loaded, the fuses select 1"));
}

#[test]
fn unpatched_signature() {
    let (mut g, mb) = failed_run(Deviation::Unpatched);
    assert_eq!(mb, Some(ERR_BAD_SIGNATURE));
    assert_untouched(&mut g);
}

#[test]
fn wrong_mod_sel() {
    let (mut g, mb) = failed_run(Deviation::ModSelAes);
    assert_eq!(mb, Some(ERR_MOD_SEL));
    assert_untouched(&mut g);
}

#[test]
fn truncated_load() {
    let (mut g, mb) = failed_run(Deviation::TruncatedLoad);
    assert_eq!(mb, Some(ERR_UNKNOWN_IMAGE));
    assert_untouched(&mut g);
}

#[test]
fn truncated_vbios_gives_an_unknown_image() {
    // The ROM ends inside the production IMEM (0xFF from there on): what the driver loads is
    // not what was signed.
    let mut g = gpu(Options {
        vbios_broken: Some(nova_firmware::Broken::Truncated),
        ..Default::default()
    });
    g.prepare();
    assert_eq!(
        g.run_fwsec(GSP, FRTS, Deviation::None),
        Some(ERR_UNKNOWN_IMAGE)
    );
    assert_untouched(&mut g);
}

#[test]
fn dma_from_unmapped_memory_halts_with_an_error() {
    let (mut g, mb) = failed_run(Deviation::UnmappedDma);
    assert_eq!(mb, Some(ERR_DMA));
    assert_untouched(&mut g);
    assert!(g.trace().contains("GSP falcon: DMA error"));
}

#[test]
fn fwsec_on_sec2_is_refused() {
    let mut g = gpu(Options::default());
    g.prepare();
    assert_eq!(
        g.run_fwsec(SEC2, FRTS, Deviation::None),
        Some(ERR_WRONG_ENGINE)
    );
    assert_untouched(&mut g);
    assert!(g
        .trace()
        .contains("SEC2 falcon: boot ROM rejects the image"));
}

#[test]
fn frts_with_wpr2_already_set_fails() {
    let mut g = gpu(Options::default());
    g.prepare();
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    assert_eq!(
        g.rd(SW_SCRATCH_E) >> 16,
        u32::from(vgpu::blocks::falcon::fwsec::FRTS_ERR_WPR2_SET)
    );
    assert_eq!(g.wpr2(), (FRTS_START, FRTS_END), "unchanged");
}

#[test]
fn fwsec_fail_knob() {
    let mut g = gpu(Options {
        fwsec_fail: true,
        ..Default::default()
    });
    g.prepare();
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
    assert_eq!(
        g.rd(SW_SCRATCH_E) >> 16,
        u32::from(vgpu::blocks::falcon::fwsec::FWSEC_ERR_INJECTED)
    );
    assert_eq!(g.rd(WPR2_HI), 0);
    // SB fails the same way, in its own scratch register.
    assert_eq!(g.run_fwsec(GSP, SB, Deviation::None), Some(0));
    assert_eq!(g.rd(SW_SCRATCH_15) & 0xffff, 0xff);
}

#[test]
fn falcon_hang_knob() {
    let mut g = gpu(Options {
        falcon_hang: true,
        ..Default::default()
    });
    g.prepare();
    assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), None, "never halts");
    assert_eq!(g.rd(GSP + CPUCTL) & 1 << 4, 0);
    assert_eq!(g.rd(WPR2_HI), 0);
    // A reset brings it back to halted.
    g.falcon_reset(GSP);
    assert_ne!(g.rd(GSP + CPUCTL) & 1 << 4, 0);
    assert!(g.trace().contains("never halts (--falcon-hang)"));
}
