// SPDX-License-Identifier: GPL-2.0
//! The host-side "driver" shared by the end-to-end tests: a vGPU behind the vfio-user backend,
//! a memfd that stands for guest RAM, and the register sequences of docs/facts/ga102.md §3, §5.4 and §7.4
//! (GFW-boot wait, falcon reset, DMA load, boot, FWSEC-FRTS), written from the facts.

// Each test crate uses a different part of the rig.
#![allow(dead_code)]

pub mod boot;
pub mod rm;

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};
use vfio_bindings::bindings::vfio::VFIO_PCI_BAR0_REGION_INDEX;
use vfio_user::{DmaMapFlags, ServerBackend};
use vgpu::chip::GA102;
use vgpu::dma::memfd;
use vgpu::server::{Device, Options};
use vgpu::trace::{Filter, Tracer};

pub const GSP: u32 = 0x110000;
pub const SEC2: u32 = 0x840000;
/// Guest RAM of the fake guest starts at 1 GiB.
pub const RAM_GPA: u64 = 0x4000_0000;
/// Enough for FWSEC alone.
pub const SMALL_RAM: u64 = 16 << 20;
/// Where the driver puts the FWSEC ucode (256-byte aligned, docs/facts/ga102.md §5.4).
pub const UCODE_GPA: u64 = RAM_GPA + 0x10_0000;
/// The sysmem flush page.
pub const FLUSH_GPA: u64 = RAM_GPA + 0x1000;

// Register offsets (docs/facts/ga102.md §3, §5.2, §5.3).
pub const IRQSCLR: u32 = 0x004;
pub const IRQSTAT: u32 = 0x008;
pub const MAILBOX0: u32 = 0x040;
pub const MAILBOX1: u32 = 0x044;
pub const OS: u32 = 0x080;
pub const RM: u32 = 0x084;
pub const HWCFG2: u32 = 0x0f4;
pub const CPUCTL: u32 = 0x100;
pub const BOOTVEC: u32 = 0x104;
pub const DMACTL: u32 = 0x10c;
pub const DMATRFBASE: u32 = 0x110;
pub const DMATRFMOFFS: u32 = 0x114;
pub const DMATRFCMD: u32 = 0x118;
pub const DMATRFFBOFFS: u32 = 0x11c;
pub const DMATRFBASE1: u32 = 0x128;
pub const CPUCTL_ALIAS: u32 = 0x130;
pub const ENGINE: u32 = 0x3c0;
pub const FBIF_TRANSCFG0: u32 = 0x600;
pub const FBIF_CTL: u32 = 0x624;
pub const MOD_SEL: u32 = 0x1180;
pub const BROM_CURR_UCODE_ID: u32 = 0x1198;
pub const BROM_ENGIDMASK: u32 = 0x119c;
pub const BROM_PARAADDR0: u32 = 0x1210;
pub const RISCV_CPUCTL: u32 = 0x1388;
pub const RISCV_BCR_CTRL: u32 = 0x1668;
pub const SW_SCRATCH_E: u32 = 0x001438;
pub const SW_SCRATCH_15: u32 = 0x001454;
pub const WPR2_LO: u32 = 0x1fa824;
pub const WPR2_HI: u32 = 0x1fa828;
pub const USABLE_FB_SIZE_IN_MB: u32 = 0x1183a4;
pub const VGA_WORKSPACE_BASE: u32 = 0x625f04;
pub const SEC2_UCODE1_VERSION: u32 = 0x824140;
pub const GSP_UCODE1_VERSION: u32 = 0x8241c0;

pub const FRTS: u32 = 0x15;
pub const SB: u32 = 0x19;
pub const FRTS_START: u64 = 0x5_ffe0_0000;
pub const FRTS_END: u64 = 0x5_fff0_0000;

/// What the test driver does differently from the documented FWSEC sequence.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Deviation {
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

pub struct Gpu {
    pub dev: Device,
    _ram: File,
    /// The test's own view of guest RAM (the "CPU side").
    pub ram: vgpu::dma::GuestMemory,
    pub ram_size: u64,
    trace: Buf,
    /// How the test driver resets a falcon before loading FWSEC or Booter: [`Gpu::falcon_reset`]
    /// unless a test drives the model the way one public driver does (`tests/boot_orderings.rs`).
    pub reset_for_load: Option<fn(&mut Gpu, u32)>,
}

#[derive(Clone, Default)]
pub struct Buf(Arc<Mutex<Vec<u8>>>);
impl Buf {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A vGPU with `ram_size` bytes of guest RAM at [`RAM_GPA`], tracing the falcons.
pub fn gpu_with(opts: Options, ram_size: u64) -> Gpu {
    let trace = Buf::default();
    let tracer = Arc::new(Tracer::new(
        Filter::parse(Some("gsp,sec2,rpc,irq,pci")),
        Box::new(trace.clone()),
    ));
    let mut dev = Device::new(&GA102, opts, tracer).unwrap();
    let ram = memfd(c"fake-guest-ram", ram_size).unwrap();
    dev.dma_map(
        DmaMapFlags::READ_WRITE,
        0,
        RAM_GPA,
        ram_size,
        Some(ram.try_clone().unwrap()),
    )
    .unwrap();
    let mut view = vgpu::dma::GuestMemory::new();
    view.map(RAM_GPA, ram_size, &ram, 0).unwrap();
    Gpu {
        dev,
        _ram: ram,
        ram: view,
        ram_size,
        trace,
        reset_for_load: None,
    }
}

/// A vGPU with [`SMALL_RAM`].
pub fn gpu(opts: Options) -> Gpu {
    gpu_with(opts, SMALL_RAM)
}

pub fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// One DMA load step: `len` bytes from `src` (offset from the DMA base) to falcon memory at
/// `dst`, into IMEM (secure) or DMEM.
#[derive(Clone, Copy)]
pub struct Load {
    pub src: usize,
    pub dst: usize,
    pub len: usize,
    pub imem: bool,
}

impl Gpu {
    /// A 32-bit read at `off` of vfio region `index` (a BAR).
    pub fn region_rd32(&mut self, index: u32, off: u64) -> u32 {
        let mut w = [0u8; 4];
        self.dev.region_read(index, off, &mut w).unwrap();
        u32::from_le_bytes(w)
    }

    /// A 32-bit write at `off` of vfio region `index` (a BAR).
    pub fn region_wr32(&mut self, index: u32, off: u64, v: u32) {
        self.dev.region_write(index, off, &v.to_le_bytes()).unwrap();
    }

    pub fn rd(&mut self, off: u32) -> u32 {
        self.region_rd32(VFIO_PCI_BAR0_REGION_INDEX, u64::from(off))
    }

    pub fn wr(&mut self, off: u32, v: u32) {
        self.region_wr32(VFIO_PCI_BAR0_REGION_INDEX, u64::from(off), v)
    }

    pub fn trace(&self) -> String {
        String::from_utf8(self.trace.0.lock().unwrap().clone()).unwrap()
    }

    /// Polls `off` until `done(value)`, at most `n` reads.
    pub fn poll(&mut self, off: u32, n: usize, done: impl Fn(u32) -> bool) -> Option<u32> {
        (0..n).map(|_| self.rd(off)).find(|&v| done(v))
    }

    /// The VBIOS as a driver reads it through the PROM window (docs/facts/ga102.md §4.1).
    pub fn read_vbios(&mut self, len: usize) -> Vec<u8> {
        (0..len.div_ceil(4))
            .flat_map(|i| self.rd(0x300000 + 4 * i as u32).to_le_bytes())
            .take(len)
            .collect()
    }

    /// §7.4 steps 1-6: GFW boot done, flush page, SWGEN0 cleared, no WPR2 yet.
    pub fn prepare(&mut self) {
        assert_eq!(self.rd(0x118128) & 1, 1, "group 05 open");
        assert_eq!(self.rd(0x118234) & 0xff, 0xff, "GFW boot completed");
        self.wr(0x100c40, (FLUSH_GPA >> 40) as u32);
        self.wr(0x100c10, (FLUSH_GPA >> 8) as u32);
        self.wr(GSP + IRQSCLR, 0x40);
    }

    /// The falcon reset before a load: [`Gpu::reset_for_load`] or [`Gpu::falcon_reset`].
    pub fn reset_before_load(&mut self, base: u32) {
        match self.reset_for_load {
            Some(f) => f(self, base),
            None => self.falcon_reset(base),
        }
    }

    /// Facts §5.4 falcon reset (GA102).
    pub fn falcon_reset(&mut self, base: u32) {
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

    /// Facts §5.4 DMA load from `gpa`, 256 bytes at a time.
    pub fn dma_load_parts(&mut self, base: u32, gpa: u64, parts: &[Load]) {
        let ctl = self.rd(base + FBIF_CTL);
        self.wr(base + FBIF_CTL, ctl | 1 << 7);
        self.wr(base + DMACTL, 0);
        self.wr(base + FBIF_TRANSCFG0, 0x5);
        self.wr(base + DMATRFBASE, (gpa >> 8) as u32);
        self.wr(base + DMATRFBASE1, (gpa >> 40) as u32);
        for p in parts {
            let cmd = if p.imem {
                6 << 8 | 1 << 4 | 1 << 2
            } else {
                6 << 8
            };
            for pos in (0..p.len).step_by(256) {
                self.wr(base + DMATRFMOFFS, (p.dst + pos) as u32);
                self.wr(base + DMATRFFBOFFS, (p.src + pos) as u32);
                self.wr(base + DMATRFCMD, cmd);
                assert!(
                    self.poll(base + DMATRFCMD, 1000, |v| v & 2 != 0).is_some(),
                    "DMA never idle"
                );
            }
        }
    }

    /// `imem` bytes of `ucode_gpa` to secure IMEM at 0, `dmem` bytes after them to DMEM at 0.
    pub fn dma_load(&mut self, base: u32, ucode_gpa: u64, imem: usize, dmem: usize) {
        self.dma_load_parts(
            base,
            ucode_gpa,
            &[
                Load {
                    src: 0,
                    dst: 0,
                    len: imem,
                    imem: true,
                },
                Load {
                    src: imem,
                    dst: 0,
                    len: dmem,
                    imem: false,
                },
            ],
        );
    }

    /// Facts §5.4 boot: MAILBOX0/1 = `args`, STARTCPU (or the alias), wait for HALTED at most
    /// `polls` reads. MAILBOX0 after the halt, or None if the falcon never halted.
    pub fn boot_with(&mut self, base: u32, args: (u32, u32), polls: usize) -> Option<u32> {
        self.wr(base + MAILBOX0, args.0);
        self.wr(base + MAILBOX1, args.1);
        if self.rd(base + CPUCTL) & 1 << 6 != 0 {
            self.wr(base + CPUCTL_ALIAS, 2);
        } else {
            self.wr(base + CPUCTL, 2);
        }
        self.poll(base + CPUCTL, polls, |v| v & 1 << 4 != 0)?;
        Some(self.rd(base + MAILBOX0))
    }

    /// [`Gpu::boot_with`] with mailboxes 0.
    pub fn boot(&mut self, base: u32, polls: usize) -> Option<u32> {
        self.boot_with(base, (0, 0), polls)
    }

    /// FRTS placement, docs/facts/ga102.md §7.2: 1 MiB ending at align_down(VGA workspace base, 128 KiB).
    pub fn frts_region(&mut self) -> (u64, u64) {
        let vram = u64::from(self.rd(USABLE_FB_SIZE_IN_MB)) << 20;
        let ws = self.rd(VGA_WORKSPACE_BASE);
        assert_ne!(ws & 8, 0);
        let mut vga = u64::from(ws >> 8) << 16;
        if vga < vram - (1 << 20) {
            vga = vram - (128 << 10);
        }
        let frts_end = vga & !((128 << 10) - 1);
        (frts_end - (1 << 20), frts_end)
    }

    /// Steps 7-8 as a driver does them, on the falcon at `base`, with `dev` deviation and
    /// `init_cmd`. Returns MAILBOX0, or None if the falcon never halted.
    pub fn run_fwsec(&mut self, base: u32, init_cmd: u32, dev: Deviation) -> Option<u32> {
        let (_, layout) = nova_firmware::build_ga102_vbios_with_layout();
        let p = layout.fwsec_prod.clone();
        let rom = self.read_vbios(layout.len);

        // Signature selection, docs/facts/ga102.md §5.5.
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

        let (frts_start, _) = self.frts_region();

        // DMEM patches, docs/facts/ga102.md §4.5: init_cmd in the DMEM mapper, the FRTS command.
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

        self.reset_before_load(base);
        let (gpa, imem) = match dev {
            Deviation::UnmappedDma => (RAM_GPA + self.ram_size, p.imem_size),
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

    /// WPR2 [start, end) as the CPU decodes it (docs/facts/ga102.md §3).
    pub fn wpr2(&mut self) -> (u64, u64) {
        let lo = u64::from(self.rd(WPR2_LO) & !0xf) << 8;
        let hi = u64::from(self.rd(WPR2_HI) & !0xf) << 8;
        (lo, hi)
    }
}
