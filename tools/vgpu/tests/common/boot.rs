// SPDX-License-Identifier: GPL-2.0
//! Booting GSP-RM through booter_load, shared by the end-to-end tests: the host-side "driver"
//! of docs/facts/ga102.md §7.4 — FWSEC-FRTS on the GSP, the GSP reset into RISC-V with the LIBOS-argument
//! address in its mailboxes, then the signed booter_load DMA-loaded onto SEC2 with the
//! `GspFwWprMeta` address in SEC2's mailboxes — from the real firmware files, with radix3,
//! bootloader, signature and meta built in a memfd that stands for guest RAM.
//!
//! The driver side reads the files with its own few lines written from docs/facts/ga102.md §6 (and checks
//! the values the fact sheet gives), not with the device's parsers. The files must be present:
//! run `make setup`.

use super::*;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use vgpu::firmware::{default_dir, file_path, GspFirmware};
use vgpu::server::Options;

/// Guest RAM for a GSP boot: 96 MiB (the image alone is 63.5 MB).
pub const BIG_RAM: u64 = 96 << 20;
// Where the driver puts things (offsets into guest RAM).
pub const BOOTER_GPA: u64 = RAM_GPA + 0x20_0000;
pub const META_GPA: u64 = RAM_GPA + 0x30_0000;
pub const LIBOS_GPA: u64 = RAM_GPA + 0x30_1000;
pub const BOOTLOADER_GPA: u64 = RAM_GPA + 0x31_0000;
pub const SIGNATURE_GPA: u64 = RAM_GPA + 0x32_0000;
pub const RADIX3_GPA: u64 = RAM_GPA + 0x40_0000;
pub const FWIMAGE_GPA: u64 = RAM_GPA + 0x100_0000;
pub const PAGE: u64 = 4096;
pub const MIB: u64 = 1 << 20;

pub fn firmware_dir() -> PathBuf {
    match std::env::var_os("VGPU_FIRMWARE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => default_dir(),
    }
}

/// A real 570.144 GA102 file; its size must be the fact sheet's (docs/facts/ga102.md §6.1).
pub fn read_file(name: &str) -> Vec<u8> {
    let p = file_path(&firmware_dir(), "ga102", name);
    let f = std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The real GA102 firmware files are required: run `make setup`",
            p.display()
        )
    });
    let want = match name {
        "booter_load" => 61304,
        "booter_unload" => 41080,
        "bootloader" => 24684,
        _ => 63571696,
    };
    assert_eq!(
        f.len(),
        want,
        "{} is not the file of docs/facts/ga102.md §6.1 (damaged?): run `make setup`",
        p.display()
    );
    f
}

/// The device's firmware, loaded once per test process.
pub fn device_firmware() -> Arc<GspFirmware> {
    static FW: OnceLock<Arc<GspFirmware>> = OnceLock::new();
    FW.get_or_init(|| {
        Arc::new(
            GspFirmware::load(&firmware_dir(), "ga102", ".fwsignature_ga10x")
                .unwrap_or_else(|e| panic!("{e}")),
        )
    })
    .clone()
}

pub fn w32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

pub fn w64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A Booter file as the driver reads it (docs/facts/ga102.md §6.2-6.4).
pub struct Booter {
    pub blob: Vec<u8>,
    pub app0: (usize, usize),
    pub data: (usize, usize),
    pub patch_loc: usize,
    pub sigs: Vec<Vec<u8>>,
    pub fuse_ver: u32,
    pub engine_id: u32,
    pub ucode_id: u32,
}

pub fn read_booter(name: &str, data: (usize, usize), patch: usize) -> Booter {
    let f = read_file(name);
    assert_eq!(w32(&f, 0), 0x10de, "bin_magic");
    let (hdr, off, size) = (w32(&f, 0xc), w32(&f, 0x10), w32(&f, 0x14));
    assert_eq!((hdr, off), (0x18, 0x378), "docs/facts/ga102.md §6.2");
    let h = |i: usize| w32(&f, hdr + 4 * i);
    let (sig_off, sig_size) = (h(0), h(1));
    let patch_loc = w32(&f, h(2));
    let patch_sig = w32(&f, h(3));
    let meta = h(4);
    let num_sig = w32(&f, h(6));
    let lh = h(7);
    let l = |i: usize| w32(&f, lh + 4 * i);
    assert_eq!((num_sig, sig_size), (2, 0x300), "docs/facts/ga102.md §6.3");
    assert_eq!(l(4), 1, "one application");
    let b = Booter {
        blob: f[off..off + size].to_vec(),
        app0: (l(5), l(6)),
        data: (l(2), l(3)),
        patch_loc,
        sigs: f[sig_off + patch_sig..sig_off + patch_sig + sig_size]
            .chunks(384)
            .map(<[u8]>::to_vec)
            .collect(),
        fuse_ver: w32(&f, meta) as u32,
        engine_id: w32(&f, meta + 4) as u32,
        ucode_id: w32(&f, meta + 8) as u32,
    };
    assert_eq!(b.data, data, "docs/facts/ga102.md §6.4");
    assert_eq!(b.app0, (0x100, data.0 - 0x100), "docs/facts/ga102.md §6.4");
    assert_eq!(b.patch_loc, patch, "docs/facts/ga102.md §6.3");
    assert_eq!((b.fuse_ver, b.engine_id, b.ucode_id), (1, 1, 3));
    b
}

/// Everything the driver needs from the four files.
pub struct Files {
    pub load: Booter,
    pub unload: Booter,
    pub bootloader: Vec<u8>,
    pub monitor_code: u64,
    pub monitor_data: u64,
    pub manifest: u64,
    pub app_version: u32,
    pub gsp: Vec<u8>,
    pub fwimage: (usize, usize),
    pub signature: (usize, usize),
}

impl Files {
    pub fn fwimage(&self) -> &[u8] {
        &self.gsp[self.fwimage.0..self.fwimage.0 + self.fwimage.1]
    }
    pub fn signature(&self) -> &[u8] {
        &self.gsp[self.signature.0..self.signature.0 + self.signature.1]
    }
}

/// An ELF64 section by name: (offset, size).
pub fn elf_section(f: &[u8], name: &str) -> (usize, usize) {
    let shoff = w64(f, 0x28) as usize;
    let (entsize, num, strndx) = (
        w32(f, 0x38) >> 16,
        w32(f, 0x3c) & 0xffff,
        w32(f, 0x3c) >> 16,
    );
    let sh = |i: usize| shoff + i * entsize;
    let strtab = w64(f, sh(strndx) + 0x18) as usize;
    (0..num)
        .map(sh)
        .find(|&s| {
            let n = strtab + w32(f, s);
            f[n..].starts_with(name.as_bytes()) && f[n + name.len()] == 0
        })
        .map(|s| (w64(f, s + 0x18) as usize, w64(f, s + 0x20) as usize))
        .unwrap_or_else(|| panic!("no section {name}"))
}

pub fn files() -> &'static Files {
    static F: OnceLock<Files> = OnceLock::new();
    F.get_or_init(|| {
        let bl = read_file("bootloader");
        // nvfw_bin_hdr, then RM_RISCV_UCODE_DESC at header_offset (docs/facts/ga102.md §6.5).
        let (desc, off, size) = (w32(&bl, 0xc), w32(&bl, 0x10), w32(&bl, 0x14));
        let gsp = read_file("gsp");
        let f = Files {
            load: read_booter("booter_load", (0x8a00, 0x6200), 0x8a10),
            unload: read_booter("booter_unload", (0x5000, 0x4d00), 0x5010),
            bootloader: bl[off..off + size].to_vec(),
            manifest: w32(&bl, desc + 0x20) as u64,
            monitor_data: w32(&bl, desc + 0x28) as u64,
            monitor_code: w32(&bl, desc + 0x30) as u64,
            app_version: w32(&bl, desc + 0x1c) as u32,
            fwimage: elf_section(&gsp, ".fwimage"),
            signature: elf_section(&gsp, ".fwsignature_ga10x"),
            gsp,
        };
        // Facts §6.5, §6.6.
        assert_eq!(f.bootloader.len(), 0x6000);
        assert_eq!(
            (f.monitor_code, f.monitor_data, f.manifest),
            (0x1800, 0x800, 0)
        );
        assert_eq!(f.fwimage, (0x40, 0x3c99000));
        assert_eq!(f.signature, (0x3c9f06c, 0x1000));
        f
    })
}

/// What the test driver does differently from the documented sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dev {
    #[default]
    None,
    /// The last signature (what a fuse of 0 would select: all zeros in GA10x files).
    LastSignature,
    /// booter_unload's signature patched into booter_load.
    ForeignSignature,
    /// The signature slot left as shipped.
    Unpatched,
    /// BOOTVEC 0 (FWSEC's entry point) instead of app 0's offset.
    BootvecZero,
    /// Booter loaded onto the GSP falcon.
    OnGsp,
    /// `GspFwWprMeta.magic` wrong.
    BadMagic,
    /// Level-2 entry 100 points at firmware page 101.
    Radix3WrongPage,
    /// One byte of `.fwimage` page 5000 flipped in guest memory.
    CorruptFwimage,
    /// One byte of the bootloader copy flipped.
    CorruptBootloader,
    /// bootBinOffset 4 KiB too low.
    FbLayoutOff,
    /// FWSEC-FRTS never ran.
    Wpr2NotSet,
}

/// The FB layout (docs/facts/ga102.md §7.2) and the WPR heap size the driver computes.
pub struct Layout {
    pub fb_end: u64,
    pub vga: u64,
    pub frts: u64,
    pub boot: u64,
    pub elf: u64,
    pub heap: (u64, u64),
    pub wpr_start: u64,
    pub non_wpr: u64,
}

pub fn align_down(v: u64, a: u64) -> u64 {
    v / a * a
}

impl Gpu {
    pub fn layout(&mut self, f: &Files) -> Layout {
        let fb_end = u64::from(self.rd(USABLE_FB_SIZE_IN_MB)) * MIB;
        let ws = self.rd(VGA_WORKSPACE_BASE);
        let vga = if ws & 8 != 0 {
            let b = u64::from(ws >> 8) << 16;
            if b < fb_end - MIB {
                fb_end - (128 << 10)
            } else {
                b
            }
        } else {
            fb_end - MIB
        };
        let frts_end = align_down(vga, 128 << 10);
        let frts = frts_end - MIB;
        let boot = align_down(frts - f.bootloader.len() as u64, PAGE);
        let elf = align_down(boot - f.fwimage.1 as u64, 64 << 10);
        // WPR heap size, LIBOS3: 22 MiB OS + 8 MiB RM + 96 MiB client + 96 KiB per GiB of FB
        // aligned up to 1 MiB, clamped to [88 MiB, 280 MiB) (docs/facts/ga102.md §7.2).
        let per_gb = (96 << 10) * fb_end.div_ceil(1 << 30);
        let heap_size = (23068672 + 8 * MIB + 96 * MIB + per_gb.div_ceil(MIB) * MIB)
            .clamp(88 * MIB, 280 * MIB - 1);
        assert_eq!(heap_size, 129 * MIB, "docs/facts/ga102.md §7.2 example");
        let heap = (align_down(elf - heap_size, MIB), align_down(elf, MIB));
        let wpr_start = align_down(heap.0 - 256, MIB);
        Layout {
            fb_end,
            vga,
            frts,
            boot,
            elf,
            heap,
            wpr_start,
            non_wpr: wpr_start - MIB,
        }
    }

    /// §7.4 step 4: radix3, bootloader and signature copies, a LIBOS-argument page and the
    /// `GspFwWprMeta`, in guest RAM. Firmware pages are stored in reverse order so that only
    /// a real walk of the table finds them.
    pub fn build_gsp_boot(&mut self, f: &Files, dev: Dev) {
        let img = f.fwimage();
        let pages = img.len() as u64 / PAGE;
        let page_at = |p: u64| FWIMAGE_GPA + (pages - 1 - p) * PAGE;
        let (l0, l1, l2) = (RADIX3_GPA, RADIX3_GPA + PAGE, RADIX3_GPA + 2 * PAGE);
        let l2_pages = (pages * 8).div_ceil(PAGE);
        self.ram.write(l0, &l1.to_le_bytes()).unwrap();
        let l1_entries: Vec<u8> = (0..l2_pages)
            .flat_map(|j| (l2 + j * PAGE).to_le_bytes())
            .collect();
        self.ram.write(l1, &l1_entries).unwrap();
        let l2_entries: Vec<u8> = (0..pages).flat_map(|p| page_at(p).to_le_bytes()).collect();
        self.ram.write(l2, &l2_entries).unwrap();
        for (p, chunk) in img.chunks(PAGE as usize).enumerate() {
            self.ram.write(page_at(p as u64), chunk).unwrap();
        }
        self.ram.write(BOOTLOADER_GPA, &f.bootloader).unwrap();
        self.ram.write(SIGNATURE_GPA, f.signature()).unwrap();
        // LIBOS arguments (docs/facts/ga102.md §7.3): their contents are GSP-RM's business, not Booter's.
        self.ram
            .write(LIBOS_GPA, &0x004c_4f47_494e_4954u64.to_le_bytes())
            .unwrap();

        let l = self.layout(f);
        let mut m = [0u64; 32];
        let mut set = |off: usize, v: u64| m[off / 8] = v;
        set(0, 0xdc3a_ae21_371a_60b3);
        set(8, 1);
        set(16, l0);
        set(24, img.len() as u64);
        set(32, BOOTLOADER_GPA);
        set(40, f.bootloader.len() as u64);
        set(48, f.monitor_code);
        set(56, f.monitor_data);
        set(64, f.manifest);
        set(72, SIGNATURE_GPA);
        set(80, f.signature().len() as u64);
        set(88, l.non_wpr);
        set(96, l.non_wpr);
        set(104, MIB);
        set(112, l.wpr_start);
        set(120, l.heap.0);
        set(128, l.heap.1 - l.heap.0);
        set(136, l.elf);
        set(144, l.boot);
        set(152, l.frts);
        set(160, MIB);
        set(168, l.frts + MIB);
        set(176, l.fb_end);
        set(184, l.vga);
        set(192, l.fb_end - l.vga);
        match dev {
            Dev::BadMagic => set(0, 0xdc3a_ae21_371a_60b4),
            Dev::FbLayoutOff => set(144, l.boot - PAGE),
            _ => {}
        }
        let bytes: Vec<u8> = m.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.ram.write(META_GPA, &bytes).unwrap();

        match dev {
            Dev::Radix3WrongPage => self
                .ram
                .write(l2 + 8 * 100, &page_at(101).to_le_bytes())
                .unwrap(),
            Dev::CorruptFwimage => {
                let at = page_at(5000) + 123;
                let mut b = [0u8];
                self.ram.read(at, &mut b).unwrap();
                self.ram.write(at, &[b[0] ^ 0x40]).unwrap();
            }
            Dev::CorruptBootloader => {
                let at = BOOTLOADER_GPA + 0x1800;
                self.ram.write(at, &[f.bootloader[0x1800] ^ 1]).unwrap();
            }
            _ => {}
        }
    }

    /// Facts §7.4 step 10 (and unload step 4): reset the falcon at `base`, DMA-load the
    /// signed Booter as a GA102 loader does (docs/facts/ga102.md §6.4: app 0 code to secure IMEM 0, OS data
    /// to DMEM 0), program the BROM, BOOTVEC, mailboxes, start, wait for the halt.
    pub fn run_booter(&mut self, base: u32, b: &Booter, args: (u32, u32), dev: Dev) -> Option<u32> {
        // Signature selection, docs/facts/ga102.md §5.5 (Booter): fuse of engine_id (SEC2) for ucode_id;
        // 0 selects the last signature, else fuse_ver - v.
        let fuse = self.rd(SEC2_UCODE1_VERSION + 4 * (b.ucode_id - 1));
        let v = 32 - fuse.leading_zeros();
        let idx = if fuse == 0 {
            b.sigs.len() - 1
        } else {
            (b.fuse_ver - v) as usize
        };
        assert_eq!(idx, 0, "the GA102 profile selects signature 0");
        let mut blob = b.blob.clone();
        let sig = match dev {
            Dev::Unpatched => None,
            Dev::LastSignature => Some(b.sigs[1].clone()),
            Dev::ForeignSignature => Some(files().unload.sigs[0].clone()),
            _ => Some(b.sigs[idx].clone()),
        };
        if let Some(s) = sig {
            blob[b.patch_loc..b.patch_loc + 384].copy_from_slice(&s);
        }
        self.ram.write(BOOTER_GPA, &blob).unwrap();

        self.reset_before_load(base);
        self.dma_load_parts(
            base,
            BOOTER_GPA,
            &[
                Load {
                    src: b.app0.0,
                    dst: 0,
                    len: b.app0.1,
                    imem: true,
                },
                Load {
                    src: b.data.0,
                    dst: 0,
                    len: b.data.1,
                    imem: false,
                },
            ],
        );
        self.wr(base + BROM_PARAADDR0, (b.patch_loc - b.data.0) as u32);
        self.wr(base + BROM_ENGIDMASK, b.engine_id);
        self.wr(base + BROM_CURR_UCODE_ID, b.ucode_id);
        self.wr(base + MOD_SEL, 1);
        let bootvec = if dev == Dev::BootvecZero {
            0
        } else {
            b.app0.0 as u32
        };
        self.wr(base + BOOTVEC, bootvec);
        self.boot_with(base, args, 1000)
    }
}

pub fn options() -> Options {
    Options {
        firmware: Some(device_firmware()),
        ..Default::default()
    }
}

/// §7.4 steps 1-10 with `dev`. Returns the vGPU and SEC2's (or, for [`Dev::OnGsp`], the
/// GSP's) MAILBOX0 after booter_load, None if it never halted.
pub fn boot_gsp_with(opts: Options, dev: Dev) -> (Gpu, Option<u32>) {
    boot_gsp_ext(opts, dev, |_| {})
}

/// [`boot_gsp_with`], with `before` run once the boot images are in guest memory (step 4:
/// where a driver also sets up its LIBOS arguments and queues).
pub fn boot_gsp_ext(opts: Options, dev: Dev, before: impl FnOnce(&mut Gpu)) -> (Gpu, Option<u32>) {
    let f = files();
    let mut g = gpu_with(opts, BIG_RAM);
    g.prepare();
    g.build_gsp_boot(f, dev);
    before(&mut g);
    assert_eq!(g.rd(WPR2_HI), 0, "step 6: no WPR2 yet");
    if dev != Dev::Wpr2NotSet {
        // Steps 7-8.
        assert_eq!(g.run_fwsec(GSP, FRTS, Deviation::None), Some(0));
        assert_eq!(g.rd(SW_SCRATCH_E) >> 16, 0);
        assert_eq!(g.wpr2(), (FRTS_START, FRTS_END));
    }
    // Step 9: GSP reset into RISC-V, LIBOS arguments in its mailboxes.
    g.falcon_reset(GSP);
    g.wr(GSP + RISCV_BCR_CTRL, 0x111);
    g.wr(GSP + MAILBOX0, LIBOS_GPA as u32);
    g.wr(GSP + MAILBOX1, (LIBOS_GPA >> 32) as u32);
    // Step 10.
    let base = if dev == Dev::OnGsp { GSP } else { SEC2 };
    let meta = (META_GPA as u32, (META_GPA >> 32) as u32);
    let t = Instant::now();
    let mb = g.run_booter(base, &f.load, meta, dev);
    eprintln!(
        "booter_load ({dev:?}): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    (g, mb)
}

pub fn boot_gsp(dev: Dev) -> (Gpu, Option<u32>) {
    boot_gsp_with(options(), dev)
}

pub fn assert_not_booted(g: &mut Gpu) {
    assert_eq!(g.rd(GSP + RISCV_CPUCTL) & 1 << 7, 0, "ACTIVE_STAT");
    assert!(g.dev.gsp().boot().is_none());
}
