// SPDX-License-Identifier: GPL-2.0
//! End to end: a host-side "driver" runs FWSEC-FRTS on the vGPU through the vfio-user backend,
//! register by register, the way facts §5.4 and §7.4 steps 1-8 describe it, with the ucode
//! DMA-loaded from a memfd that stands for guest RAM. Then one test per failure.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};
use vfio_bindings::bindings::vfio::{VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX};
use vfio_user::{DmaMapFlags, ServerBackend};
use vgpu::blocks::falcon::brom::*;
use vgpu::chip::GA102;
use vgpu::dma::memfd;
use vgpu::server::{Device, Options};
use vgpu::trace::{Filter, Tracer};

const GSP: u32 = 0x110000;
const SEC2: u32 = 0x840000;
/// Guest RAM of the fake guest: 16 MiB at 1 GiB.
const RAM_GPA: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 16 << 20;
/// Where the driver puts the ucode (256-byte aligned, facts §5.4).
const UCODE_GPA: u64 = RAM_GPA + 0x10_0000;
/// The sysmem flush page.
const FLUSH_GPA: u64 = RAM_GPA + 0x1000;

// Register offsets (facts §3, §5.2, §5.3).
const IRQSCLR: u32 = 0x004;
const IRQSTAT: u32 = 0x008;
const MAILBOX0: u32 = 0x040;
const MAILBOX1: u32 = 0x044;
const RM: u32 = 0x084;
const HWCFG2: u32 = 0x0f4;
const CPUCTL: u32 = 0x100;
const BOOTVEC: u32 = 0x104;
const DMACTL: u32 = 0x10c;
const DMATRFBASE: u32 = 0x110;
const DMATRFMOFFS: u32 = 0x114;
const DMATRFCMD: u32 = 0x118;
const DMATRFFBOFFS: u32 = 0x11c;
const DMATRFBASE1: u32 = 0x128;
const CPUCTL_ALIAS: u32 = 0x130;
const ENGINE: u32 = 0x3c0;
const FBIF_TRANSCFG0: u32 = 0x600;
const FBIF_CTL: u32 = 0x624;
const MOD_SEL: u32 = 0x1180;
const BROM_CURR_UCODE_ID: u32 = 0x1198;
const BROM_ENGIDMASK: u32 = 0x119c;
const BROM_PARAADDR0: u32 = 0x1210;
const RISCV_BCR_CTRL: u32 = 0x1668;
const SW_SCRATCH_E: u32 = 0x001438;
const SW_SCRATCH_15: u32 = 0x001454;
const WPR2_LO: u32 = 0x1fa824;
const WPR2_HI: u32 = 0x1fa828;
const GSP_UCODE1_VERSION: u32 = 0x8241c0;

/// What the test driver does differently from the documented sequence.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Deviation {
    #[default]
    None,
    /// Signature index 0 instead of the fuse-selected one.
    WrongSignature,
    /// No signature copied in (the slot stays as in the ROM).
    Unpatched,
    /// MOD_SEL 0 (AES) instead of RSA3K.
    ModSelAes,
    /// Only half of the IMEM image is loaded.
    TruncatedLoad,
    /// DMATRFBASE points at guest memory that is not mapped.
    UnmappedDma,
}

struct Gpu {
    dev: Device,
    _ram: File,
    ram: vgpu::dma::GuestMemory,
    trace: Buf,
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn gpu(opts: Options) -> Gpu {
    let trace = Buf::default();
    let tracer = Arc::new(Tracer::new(
        Filter::parse(Some("gsp,sec2")),
        Box::new(trace.clone()),
    ));
    let mut dev = Device::new(&GA102, opts, tracer).unwrap();
    let ram = memfd(c"fake-guest-ram", RAM_SIZE).unwrap();
    dev.dma_map(
        DmaMapFlags::READ_WRITE,
        0,
        RAM_GPA,
        RAM_SIZE,
        Some(ram.try_clone().unwrap()),
    )
    .unwrap();
    // The test's own view of the same RAM (the "CPU side").
    let mut view = vgpu::dma::GuestMemory::new();
    view.map(RAM_GPA, RAM_SIZE, &ram, 0).unwrap();
    Gpu {
        dev,
        _ram: ram,
        ram: view,
        trace,
    }
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Gpu {
    fn rd(&mut self, off: u32) -> u32 {
        let mut w = [0u8; 4];
        self.dev
            .region_read(VFIO_PCI_BAR0_REGION_INDEX, u64::from(off), &mut w)
            .unwrap();
        u32::from_le_bytes(w)
    }

    fn wr(&mut self, off: u32, v: u32) {
        self.dev
            .region_write(VFIO_PCI_BAR0_REGION_INDEX, u64::from(off), &v.to_le_bytes())
            .unwrap();
    }

    fn trace(&self) -> String {
        String::from_utf8(self.trace.0.lock().unwrap().clone()).unwrap()
    }

    /// Polls `off` until `done(value)`, at most `n` reads.
    fn poll(&mut self, off: u32, n: usize, done: impl Fn(u32) -> bool) -> Option<u32> {
        (0..n).map(|_| self.rd(off)).find(|&v| done(v))
    }

    /// The VBIOS as a driver reads it through the PROM window (facts §4.1).
    fn read_vbios(&mut self, len: usize) -> Vec<u8> {
        (0..len.div_ceil(4))
            .flat_map(|i| self.rd(0x300000 + 4 * i as u32).to_le_bytes())
            .take(len)
            .collect()
    }

    /// §7.4 steps 1-6: GFW boot done, flush page, SWGEN0 cleared, no WPR2 yet.
    fn prepare(&mut self) {
        assert_eq!(self.rd(0x118128) & 1, 1, "group 05 open");
        assert_eq!(self.rd(0x118234) & 0xff, 0xff, "GFW boot completed");
        self.wr(0x100c40, (FLUSH_GPA >> 40) as u32);
        self.wr(0x100c10, (FLUSH_GPA >> 8) as u32);
        self.wr(GSP + IRQSCLR, 0x40);
    }

    /// Facts §5.4 falcon reset (GA102).
    fn falcon_reset(&mut self, base: u32) {
        // RESET_READY may never come; a timeout is tolerated.
        let _ = self.poll(base + HWCFG2, 10, |v| v & 1 << 31 != 0);
        self.wr(base + ENGINE, 1);
        self.wr(base + ENGINE, 0);
        assert!(self
            .poll(base + HWCFG2, 100, |v| v & 1 << 12 == 0)
            .is_some());
        if self.rd(base + RISCV_BCR_CTRL) & 1 << 4 != 0 {
            self.wr(base + RISCV_BCR_CTRL, 0);
            assert!(self
                .poll(base + RISCV_BCR_CTRL, 100, |v| v & 1 != 0)
                .is_some());
        }
        assert!(self
            .poll(base + HWCFG2, 100, |v| v & 1 << 12 == 0)
            .is_some());
        let boot0 = self.rd(0);
        self.wr(base + RM, boot0);
    }

    /// Facts §5.4 DMA load: `imem` bytes of `ucode_gpa` to secure IMEM at 0, `dmem` bytes after
    /// them to DMEM at 0, 256 bytes at a time.
    fn dma_load(&mut self, base: u32, ucode_gpa: u64, imem: usize, dmem: usize) {
        let ctl = self.rd(base + FBIF_CTL);
        self.wr(base + FBIF_CTL, ctl | 1 << 7);
        self.wr(base + DMACTL, 0);
        self.wr(base + FBIF_TRANSCFG0, 0x5);
        self.wr(base + DMATRFBASE, (ucode_gpa >> 8) as u32);
        self.wr(base + DMATRFBASE1, (ucode_gpa >> 40) as u32);
        for (mem_base, src, len, cmd) in [
            (0, 0, imem, 6 << 8 | 1 << 4 | 1 << 2),
            (0, imem, dmem, 6 << 8),
        ] {
            for pos in (0..len).step_by(256) {
                self.wr(base + DMATRFMOFFS, (mem_base + pos) as u32);
                self.wr(base + DMATRFFBOFFS, (src + pos) as u32);
                self.wr(base + DMATRFCMD, cmd);
                assert!(
                    self.poll(base + DMATRFCMD, 1000, |v| v & 2 != 0).is_some(),
                    "DMA never idle"
                );
            }
        }
    }

    /// Facts §5.4 boot: mailboxes, STARTCPU (or the alias), wait for HALTED.
    fn boot(&mut self, base: u32, polls: usize) -> Option<u32> {
        self.wr(base + MAILBOX0, 0);
        self.wr(base + MAILBOX1, 0);
        if self.rd(base + CPUCTL) & 1 << 6 != 0 {
            self.wr(base + CPUCTL_ALIAS, 2);
        } else {
            self.wr(base + CPUCTL, 2);
        }
        self.poll(base + CPUCTL, polls, |v| v & 1 << 4 != 0)?;
        Some(self.rd(base + MAILBOX0))
    }

    /// Steps 7-8 as a driver does them, on the falcon at `base`, with `dev` deviation and
    /// `init_cmd`. Returns MAILBOX0, or None if the falcon never halted.
    fn run_fwsec(&mut self, base: u32, init_cmd: u32, dev: Deviation) -> Option<u32> {
        let (_, layout) = nova_firmware::build_ga102_vbios_with_layout();
        let p = layout.fwsec_prod.clone();
        let rom = self.read_vbios(layout.len);

        // Signature selection, facts §5.5.
        let fuse = self.rd(GSP_UCODE1_VERSION + 4 * (u32::from(p.ucode_id) - 1));
        let v = 32 - fuse.leading_zeros();
        assert_ne!(p.signature_versions & (1 << v), 0);
        let idx = (p.signature_versions & ((1 << v) - 1)).count_ones() as usize;
        assert_eq!(idx, 1, "GA102 profile fuse selects signature 1");
        let mut ucode = match dev {
            Deviation::WrongSignature => p.patched_ucode(&rom, 0).unwrap(),
            Deviation::Unpatched => rom[p.ucode_range()].to_vec(),
            _ => p.patched_ucode(&rom, idx).unwrap(),
        };

        // FRTS placement, facts §7.2: 1 MiB ending at align_down(VGA workspace base, 128 KiB).
        let vram = u64::from(self.rd(0x1183a4)) << 20;
        let ws = self.rd(0x625f04);
        assert_ne!(ws & 8, 0);
        let mut vga = u64::from(ws >> 8) << 16;
        if vga < vram - (1 << 20) {
            vga = vram - (128 << 10);
        }
        let frts_end = vga & !((128 << 10) - 1);
        let frts_start = frts_end - (1 << 20);

        // DMEM patches, facts §4.5: init_cmd in the DMEM mapper, the FRTS command.
        let d = p.imem_size;
        let mapper = d + p.dmem_mapper_offset;
        // (A careful driver would check "DMAP" here; the truncated-ROM test wants a careless one.)
        ucode[mapper + 0x2c..mapper + 0x30].copy_from_slice(&init_cmd.to_le_bytes());
        let cmd = u32s(&[
            1,
            24,
            0,
            0,
            0,
            2,
            1,
            20,
            (frts_start >> 12) as u32,
            (1 << 20) >> 12,
            2,
        ]);
        ucode[d + p.cmd_in_offset..d + p.cmd_in_offset + cmd.len()].copy_from_slice(&cmd);
        self.ram.write(UCODE_GPA, &ucode).unwrap();

        self.falcon_reset(base);
        let (gpa, imem) = match dev {
            Deviation::UnmappedDma => (RAM_GPA + RAM_SIZE, p.imem_size),
            Deviation::TruncatedLoad => (UCODE_GPA, p.imem_size / 2),
            _ => (UCODE_GPA, p.imem_size),
        };
        self.dma_load(base, gpa, imem, p.dmem_size);
        self.wr(base + BROM_PARAADDR0, p.pkc_data_offset as u32);
        self.wr(base + BROM_ENGIDMASK, u32::from(p.engine_id_mask));
        self.wr(base + BROM_CURR_UCODE_ID, u32::from(p.ucode_id));
        let mod_sel = if dev == Deviation::ModSelAes { 0 } else { 1 };
        self.wr(base + MOD_SEL, mod_sel);
        self.wr(base + BOOTVEC, 0);
        self.boot(base, 1000)
    }

    fn wpr2(&mut self) -> (u64, u64) {
        let lo = u64::from(self.rd(WPR2_LO) & !0xf) << 8;
        let hi = u64::from(self.rd(WPR2_HI) & !0xf) << 8;
        (lo, hi)
    }
}

const FRTS: u32 = 0x15;
const SB: u32 = 0x19;
const FRTS_START: u64 = 0x5_ffe0_0000;
const FRTS_END: u64 = 0x5_fff0_0000;

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

    // WPR2 survives an FLR, as the driver's "already set" check expects (facts §7.4 step 6).
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
