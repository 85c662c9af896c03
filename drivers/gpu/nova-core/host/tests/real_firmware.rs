// SPDX-License-Identifier: GPL-2.0
//! Every r570.144 and r535.113.01 GSP, Booter, bootloader (and scrubber, generic bootloader,
//! FMC) file of every chip directory in the linux-firmware package, parsed and checked
//! against the invariants the parsers document, plus the exact GA102 r570.144 values of the
//! facts sheet §6. The files are found through `NOVA_FIRMWARE_DIR` (see `common`); the tests
//! fail, rather than skip, when they are missing.

mod common;

use std::collections::BTreeMap;

use common::{by_content, check_error, gsp_files, read, FwFile, Kind};
use nova_core_host::chip::CHIPS;
use nova_core_host::firmware::bin_hdr::{BinFile, FalconBootloader};
use nova_core_host::firmware::elf::{Elf, ElfClass, ET_REL};
use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily};
use nova_core_host::firmware::hs::HsFirmware;
use nova_core_host::firmware::radix3::{
    build_radix3, contiguous_pages, Radix3Buffers, Radix3Layout, RADIX3_PAGE_SIZE,
};
use nova_core_host::firmware::riscv::RiscvBootloader;
use nova_core_host::firmware::{FwError, FwErrorKind};

/// The signature family of a chip directory, through `chip::CHIPS`.
fn family(chip_dir: &str) -> SignatureFamily {
    let chip = CHIPS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(chip_dir))
        .unwrap_or_else(|| panic!("chip directory {chip_dir} is not in chip::CHIPS"));
    SignatureFamily::for_chipset(chip.chipset)
        .unwrap_or_else(|| panic!("no signature family for {}", chip.name))
}

fn is_turing(chip: &str) -> bool {
    chip.starts_with("tu")
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Parses a file with the parser for its kind; for the truncation tests.
fn parse_any(kind: Kind, chip: &str, bytes: &[u8]) -> Result<(), FwError> {
    match kind {
        Kind::BooterLoad | Kind::BooterUnload | Kind::Scrubber => {
            HsFirmware::parse(bytes).map(|_| ())
        }
        Kind::Bootloader => RiscvBootloader::parse(bytes).map(|_| ()),
        Kind::GenBootloader => FalconBootloader::parse(bytes).map(|_| ()),
        Kind::Gsp => GspFirmware::parse(bytes, family(chip)).map(|_| ()),
        Kind::Fmc => Elf::parse(bytes).and_then(|e| {
            e.sections().try_for_each(|s| s.map(|_| ()))?;
            e.require(b"image", "FMC image section").map(|_| ())
        }),
    }
}

fn check_hs(f: &FwFile, b: &[u8]) {
    let ctx = f.path.display();
    let fw = HsFirmware::parse(b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let h = fw.bin.hdr;
    assert_eq!(
        (h.bin_magic, h.bin_ver, h.header_offset),
        (0x10de, 1, 0x18),
        "{ctx}"
    );
    assert_eq!(
        (h.data_offset + h.data_size) as usize,
        b.len(),
        "{ctx}: data ends the file"
    );
    assert!(h.bin_size >= h.data_size, "{ctx}");
    // Signatures: sizes consistent, 16-byte AES on Turing, RSA-3K elsewhere.
    let sig = fw.signature_size();
    assert_eq!(
        sig * fw.num_sig as usize,
        fw.hs.sig_prod_size as usize,
        "{ctx}"
    );
    assert_eq!(sig, if is_turing(&f.chip) { 16 } else { 384 }, "{ctx}");
    assert_eq!(fw.signatures().len(), fw.hs.sig_prod_size as usize, "{ctx}");
    // Observed: the GA10x Booter files (r535 and r570, load and unload) carry two
    // signatures of which the second, the one a zero fuse register selects, is all zeros.
    // Every other signature of every file is non-zero.
    let ga10x = family(&f.chip) == SignatureFamily::Ga10x;
    for i in 0..fw.num_sig {
        let s = fw.signature(i).unwrap();
        let blank = s.iter().all(|&x| x == 0);
        assert_eq!(
            blank,
            ga10x && i == 1,
            "{ctx}: signature {i} blank: {blank}"
        );
    }
    assert!(fw.signature(fw.num_sig).is_err(), "{ctx}");
    // Metadata: SEC2, with a valid fuse register.
    assert_eq!(fw.meta.engine_id, 1, "{ctx}: runs on SEC2");
    let reg = fw.fuse_register().unwrap();
    assert_eq!(reg, 0x824140 + 4 * (fw.meta.ucode_id - 1), "{ctx}");
    // Load header: one app, right before the DMEM image, which ends the ucode.
    let l = fw.load;
    assert_eq!(l.num_apps, 1, "{ctx}");
    let app = fw.app(0).unwrap();
    assert_eq!(app.offset, 0x100, "{ctx}");
    assert_eq!(app.offset + app.size, l.os_data_offset, "{ctx}");
    assert!(l.os_data_offset + l.os_data_size <= h.data_size, "{ctx}");
    assert_eq!((l.os_code_offset, l.os_code_size), (0, 0x100), "{ctx}");
    assert!(fw.app(1).is_err(), "{ctx}");
    assert!(
        fw.pkc_dmem_offset() as usize + sig <= l.os_data_size as usize,
        "{ctx}"
    );
    // Signature selection: nothing fused -> the last one; the newest fuse the file is
    // signed for -> the first; anything newer -> none.
    let (i, _) = fw.select_signature(0).unwrap();
    assert_eq!(i, fw.num_sig - 1, "{ctx}");
    if fw.meta.fuse_ver >= 1 {
        let (i, s) = fw.select_signature(1 << (fw.meta.fuse_ver - 1)).unwrap();
        assert_eq!(i, 0, "{ctx}");
        assert_eq!(s, fw.signature(0).unwrap(), "{ctx}");
    }
    let e = fw.select_signature(1 << fw.meta.fuse_ver).unwrap_err();
    assert!(
        matches!(e.kind, FwErrorKind::NoSignatureForFuse { .. }),
        "{ctx}"
    );
    check_error(&e, b.len(), "fuse too new");
    // Patching puts the chosen signature at the patch location of a copy.
    let mut ucode = fw.ucode().to_vec();
    let idx = fw.patch_signature(&mut ucode, 0).unwrap();
    let at = fw.patch_loc as usize;
    assert_eq!(&ucode[at..at + sig], fw.signature(idx).unwrap(), "{ctx}");
    assert!(fw.patch_signature(&mut ucode[..at], 0).is_err(), "{ctx}");
}

fn check_bootloader(f: &FwFile, b: &[u8]) {
    let ctx = f.path.display();
    let bl = RiscvBootloader::parse(b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let h = bl.bin.hdr;
    assert_eq!(
        (h.bin_magic, h.bin_ver, h.header_offset),
        (0x10de, 1, 0x18),
        "{ctx}"
    );
    assert_eq!((h.data_offset + h.data_size) as usize, b.len(), "{ctx}");
    // The descriptor fills the space between the header and the payload exactly.
    assert_eq!(0x18 + bl.desc_size, h.data_offset as usize, "{ctx}");
    let d = bl.desc;
    let old = is_turing(&f.chip) || f.chip == "ga100";
    assert_eq!(d.version, if old { 4 } else { 5 }, "{ctx}");
    assert_eq!(bl.image().len(), h.data_size as usize, "{ctx}");
    if !old {
        assert_eq!(d.is_monitor_enabled, 1, "{ctx}");
        assert!(!bl.monitor_code().unwrap().is_empty(), "{ctx}");
        assert!(!bl.monitor_data().unwrap().is_empty(), "{ctx}");
        assert!(!bl.manifest().unwrap().is_empty(), "{ctx}");
        assert_eq!(
            d.monitor_data_offset,
            d.manifest_offset + d.manifest_size,
            "{ctx}"
        );
        assert_eq!(
            d.monitor_code_offset,
            d.monitor_data_offset + d.monitor_data_size
        );
    } else {
        assert!(d.bootloader_size > 0, "{ctx}");
        assert_eq!(
            d.bootloader_param_offset,
            d.bootloader_offset + d.bootloader_size
        );
    }
}

fn check_gen_bootloader(f: &FwFile, b: &[u8]) {
    let ctx = f.path.display();
    let bl = FalconBootloader::parse(b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(
        (bl.bin.hdr.data_offset + bl.bin.hdr.data_size) as usize,
        b.len()
    );
    assert_eq!(bl.code.len(), bl.desc.code_size as usize, "{ctx}");
    assert_eq!(bl.data.len(), bl.desc.data_size as usize, "{ctx}");
    assert!(!bl.code.is_empty(), "{ctx}");
}

fn check_fmc(f: &FwFile, b: &[u8]) {
    let ctx = f.path.display();
    let elf = Elf::parse(b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(elf.class, ElfClass::Elf32, "{ctx}");
    for name in [&b"hash"[..], b"signature", b"publickey", b"image"] {
        let s = elf.require(name, "FMC section").unwrap();
        assert!(!s.data.is_empty(), "{ctx}");
    }
}

/// Fake bus addresses for the radix3 checks.
const LVL1_ADDR: u64 = 0x1_0000_0000;
const LVL2_BASE: u64 = 0x2_0000_0000;
const LVL2_STRIDE: u64 = 0x3000; // level-2 pages deliberately not contiguous
const FW_BASE: u64 = 0x40_0000_0000;

/// Builds the radix3 table for an image of `len` bytes over fake addresses and checks every
/// entry, the zeroed tails, and a translation of the first, last and some middle bytes.
fn check_radix3(len: usize, ctx: &str) -> Radix3Layout {
    let layout = Radix3Layout::for_image_size(len).unwrap();
    let pages = len.div_ceil(4096);
    assert_eq!(layout.fw_pages, pages, "{ctx}");
    assert_eq!(layout.lvl2_pages, (pages * 8).div_ceil(4096), "{ctx}");
    assert!(
        (pages - 1) * 4096 < len && len <= pages * 4096,
        "{ctx}: pages cover the image"
    );
    // Buffers start dirty (and one page too big) so zeroing is checked.
    let mut l0 = vec![0xaau8; layout.lvl0_size()];
    let mut l1 = vec![0xaau8; layout.lvl1_size()];
    let mut l2 = vec![0xaau8; layout.lvl2_size() + 4096];
    let lvl2_addrs = (0..layout.lvl2_pages as u64).map(|i| LVL2_BASE + i * LVL2_STRIDE);
    build_radix3(
        &layout,
        Radix3Buffers {
            lvl0: &mut l0,
            lvl1: &mut l1,
            lvl2: &mut l2,
        },
        LVL1_ADDR,
        lvl2_addrs,
        contiguous_pages(FW_BASE, layout.fw_pages),
    )
    .unwrap();
    assert_eq!(le64(&l0, 0), LVL1_ADDR, "{ctx}");
    assert!(
        l0[8..].iter().all(|&b| b == 0),
        "{ctx}: level 0 tail zeroed"
    );
    for i in 0..512 {
        let want = if i < layout.lvl2_pages {
            LVL2_BASE + i as u64 * LVL2_STRIDE
        } else {
            0
        };
        assert_eq!(le64(&l1, i * 8), want, "{ctx}: level-1 entry {i}");
    }
    for i in 0..l2.len() / 8 {
        let want = if i < pages {
            FW_BASE + i as u64 * 4096
        } else {
            0
        };
        assert_eq!(le64(&l2, i * 8), want, "{ctx}: level-2 entry {i}");
    }
    // Translate byte offsets the way GSP does: level 0 -> level 1 -> level 2 -> page.
    for off in [0, len / 3, len / 2, len - 1] {
        let page = off / RADIX3_PAGE_SIZE;
        let l1_addr = le64(&l0, 0);
        assert_eq!(l1_addr, LVL1_ADDR);
        let l2_page_addr = le64(&l1, (page / 512) * 8);
        let l2_index = ((l2_page_addr - LVL2_BASE) / LVL2_STRIDE) as usize;
        let fw_addr = le64(&l2, (l2_index * 512 + page % 512) * 8);
        assert_eq!(
            fw_addr + (off % 4096) as u64,
            FW_BASE + off as u64,
            "{ctx}: byte {off:#x}"
        );
    }
    layout
}

fn check_gsp(f: &FwFile, b: &[u8]) {
    let ctx = f.path.display().to_string();
    let fam = family(&f.chip);
    let g = GspFirmware::parse(b, fam).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    assert_eq!(g.elf.class, ElfClass::Elf64, "{ctx}");
    assert_eq!(g.elf.e_type, ET_REL, "{ctx}");
    assert_eq!(g.fwimage.offset, 0x40, "{ctx}");
    assert_eq!(g.fwimage.flags, 3, "{ctx}: .fwimage is WA");
    assert_eq!(g.version, Some(f.version.as_bytes()), "{ctx}");
    assert_eq!(g.signature.name, fam.section_name().as_bytes(), "{ctx}");
    assert_eq!(g.signature_bytes().len(), 0x1000, "{ctx}");
    assert_eq!(
        g.build_id.map(<[u8]>::len),
        (f.version == "570.144").then_some(20)
    );
    // Sections are laid out back to back after the image, the table ends the file.
    let end = g.elf.shoff + g.elf.shnum * g.elf.shentsize;
    assert_eq!(end, b.len(), "{ctx}: section table ends the file");
    let mut families = 0;
    for s in g.elf.sections() {
        let s = s.unwrap();
        assert!(s.offset as usize + s.data.len() <= g.elf.shoff, "{ctx}");
        if s.name.starts_with(b".fwsignature_") {
            assert_eq!(s.data.len(), 0x1000, "{ctx}");
            families += 1;
        }
    }
    assert!(families >= 3, "{ctx}");
    check_radix3(g.image().len(), &ctx);
}

/// The GA102 r570.144 numbers of facts sheet §6.2–6.7.
fn check_ga102_570_values(f: &FwFile, b: &[u8]) {
    match f.kind {
        Kind::BooterLoad | Kind::BooterUnload => {
            let fw = HsFirmware::parse(b).unwrap();
            let load = f.kind == Kind::BooterLoad;
            assert_eq!(b.len(), if load { 61304 } else { 41080 });
            let h = fw.bin.hdr;
            assert_eq!(h.bin_size, if load { 0xf000 } else { 0xa100 });
            assert_eq!(
                (h.data_offset, h.data_size),
                (0x378, if load { 0xec00 } else { 0x9d00 })
            );
            let hs = fw.hs;
            assert_eq!(
                [
                    hs.sig_prod_offset,
                    hs.sig_prod_size,
                    hs.patch_loc,
                    hs.patch_sig
                ],
                [0x3c, 0x300, 0x33c, 0x340]
            );
            assert_eq!(
                [
                    hs.meta_data_offset,
                    hs.meta_data_size,
                    hs.num_sig,
                    hs.header_offset
                ],
                [0x344, 0xc, 0x350, 0x354]
            );
            assert_eq!(hs.header_size, 0x24);
            assert_eq!(fw.patch_loc, if load { 0x8a10 } else { 0x5010 });
            assert_eq!((fw.patch_sig, fw.num_sig), (0, 2));
            assert_eq!(
                (fw.meta.fuse_ver, fw.meta.engine_id, fw.meta.ucode_id),
                (1, 1, 3)
            );
            assert_eq!(fw.fuse_register().unwrap(), 0x824148);
            assert_eq!(fw.pkc_dmem_offset(), 0x10);
            let l = fw.load;
            assert_eq!(
                [
                    l.os_code_offset,
                    l.os_code_size,
                    l.os_data_offset,
                    l.os_data_size
                ],
                [
                    0,
                    0x100,
                    if load { 0x8a00 } else { 0x5000 },
                    if load { 0x6200 } else { 0x4d00 }
                ]
            );
            let app = fw.app(0).unwrap();
            assert_eq!(
                [app.offset, app.size, app.data_offset, app.data_size],
                [0x100, if load { 0x8900 } else { 0x4f00 }, 0x100, 0]
            );
        }
        Kind::Bootloader => {
            let bl = RiscvBootloader::parse(b).unwrap();
            assert_eq!(b.len(), 24684);
            let h = bl.bin.hdr;
            assert_eq!(
                (h.bin_size, h.data_offset, h.data_size),
                (0x6100, 0x6c, 0x6000)
            );
            let d = bl.desc;
            assert_eq!(
                [d.version, d.bootloader_offset, d.bootloader_size],
                [5, 0x5000, 0x880]
            );
            assert_eq!(
                [d.bootloader_param_offset, d.bootloader_param_size],
                [0x5880, 0x10]
            );
            assert_eq!(
                [d.riscv_elf_offset, d.riscv_elf_size, d.app_version],
                [0, 0, 0]
            );
            assert_eq!([d.manifest_offset, d.manifest_size], [0, 0x800]);
            assert_eq!(
                [d.monitor_data_offset, d.monitor_data_size],
                [0x800, 0x1000]
            );
            assert_eq!(
                [d.monitor_code_offset, d.monitor_code_size],
                [0x1800, 0x2900]
            );
            assert_eq!(
                [d.is_monitor_enabled, d.fb_reserved_size, d.signed_as_code],
                [1, 0x6000, 0]
            );
        }
        Kind::Gsp => {
            let g = GspFirmware::parse(b, SignatureFamily::Ga10x).unwrap();
            assert_eq!(b.len(), 63_571_696);
            assert_eq!(
                (g.elf.shoff, g.elf.shnum, g.elf.shstrndx),
                (0x3ca0370, 14, 13)
            );
            assert_eq!(g.elf.machine, 0xf3);
            assert_eq!((g.fwimage.offset, g.fwimage.size), (0x40, 0x3c99000));
            assert_eq!(g.version, Some(&b"570.144"[..]));
            assert_eq!(
                g.build_id.unwrap(),
                [
                    0x1e, 0x56, 0x54, 0xb5, 0x16, 0x60, 0xfd, 0x9c, 0x46, 0x21, 0x33, 0xe4, 0x63,
                    0x81, 0xaf, 0x21, 0x83, 0xdd, 0x43, 0x71
                ]
            );
            assert_eq!((g.signature.offset, g.signature.size), (0x3c9f06c, 0x1000));
            let names: Vec<_> = g.elf.sections().map(|s| s.unwrap().name.to_vec()).collect();
            for n in [
                ".fwsignature_gb20x",
                ".fwsignature_cc_gb10x",
                ".fwsignature_gb10x",
                ".fwsignature_cc_gh100",
                ".fwsignature_gh100",
                ".fwsignature_ad10x",
                ".symtab",
                ".strtab",
                ".shstrtab",
            ] {
                assert!(names.contains(&n.as_bytes().to_vec()), "{n}");
            }
            let l = check_radix3(g.image().len(), "ga102 gsp-570.144");
            assert_eq!((l.fw_pages, l.lvl2_pages), (15_513, 31));
            assert_eq!(l.fw_pages * 8, 124_104);
        }
        _ => {}
    }
}

#[test]
fn every_gsp_booter_and_bootloader_file_of_every_chip_parses() {
    let files = gsp_files();
    let mut per_chip: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut ga102_570 = 0;
    for (canonical, group) in by_content(&files) {
        let bytes = read(&canonical);
        for f in &group {
            match f.kind {
                Kind::BooterLoad | Kind::BooterUnload | Kind::Scrubber => check_hs(f, &bytes),
                Kind::Bootloader => check_bootloader(f, &bytes),
                Kind::GenBootloader => check_gen_bootloader(f, &bytes),
                Kind::Gsp => check_gsp(f, &bytes),
                Kind::Fmc => check_fmc(f, &bytes),
            }
            if f.chip == "ga102" && f.version == "570.144" {
                check_ga102_570_values(f, &bytes);
                ga102_570 += 1;
            }
            *per_chip
                .entry(f.chip.clone())
                .or_default()
                .entry(format!("{:?}-{}", f.kind, f.version))
                .or_default() += 1;
        }
    }
    let total: usize = per_chip.values().flat_map(|m| m.values()).sum();
    println!(
        "parsed {total} firmware files in {} chip directories:",
        per_chip.len()
    );
    for (chip, kinds) in &per_chip {
        let n: usize = kinds.values().sum();
        let list: Vec<_> = kinds.keys().cloned().collect();
        println!("  {chip}: {n} ({})", list.join(", "));
    }
    assert_eq!(ga102_570, 4, "the four GA102 r570.144 files");
    // Every chip with GSP firmware has the r570 image; every pre-Hopper one has Booter.
    for (chip, kinds) in &per_chip {
        assert!(kinds.contains_key("Gsp-570.144"), "{chip}");
        assert!(kinds.contains_key("Bootloader-570.144"), "{chip}");
        if !chip.starts_with("gh") && !chip.starts_with("gb") {
            for k in ["BooterLoad", "BooterUnload", "Bootloader", "Gsp"] {
                for v in common::VERSIONS {
                    assert!(kinds.contains_key(&format!("{k}-{v}")), "{chip}: {k}-{v}");
                }
            }
        }
    }
    for chip in [
        "tu102", "tu116", "ga100", "ga102", "ga107", "ad102", "gh100", "gb202",
    ] {
        assert!(per_chip.contains_key(chip), "{chip} missing");
    }
}

/// Prefix lengths to try for a file of `len` bytes whose interesting structure ends at
/// `dense_end` and, for ELF, sits again at `tail_start..len`.
fn cut_points(len: usize, dense_end: usize, tail_start: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..dense_end.min(len)).collect();
    v.extend((dense_end..len).step_by(97));
    v.extend(tail_start.min(len)..len);
    v.push(len - 1);
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn truncated_real_files_fail_with_an_offset() {
    let files = gsp_files();
    let mut tried = 0usize;
    for (canonical, group) in by_content(&files) {
        let f = &group[0];
        let bytes = read(&canonical);
        let len = bytes.len();
        let points = match f.kind {
            Kind::Gsp | Kind::Fmc => {
                // The header, the section table, the name table, both sides of every
                // section's end, and a sparse sweep.
                let elf = Elf::parse(&bytes).unwrap();
                let mut v: Vec<usize> = (0..0x80).collect();
                v.extend(elf.shoff..elf.shoff + elf.shnum * elf.shentsize);
                let names = elf.section(elf.shstrndx).unwrap();
                v.extend(names.offset as usize..names.offset as usize + names.data.len());
                for s in elf.sections() {
                    let end = (s.unwrap().offset as usize + s.unwrap().data.len()).max(1);
                    v.extend([end - 1, end, end + 1]);
                }
                v.extend((0..len).step_by(len / 64 + 1));
                v.retain(|&p| p < len);
                v.sort_unstable();
                v.dedup();
                v
            }
            _ => {
                let data_offset = BinFile::parse(&bytes).unwrap().hdr.data_offset as usize;
                cut_points(len, data_offset + 0x40, len - 0x40)
            }
        };
        for n in points {
            let prefix = &bytes[..n];
            let e = parse_any(f.kind, &f.chip, prefix)
                .err()
                .unwrap_or_else(|| panic!("{}: prefix of {n:#x} bytes parsed", f.path.display()));
            check_error(&e, n, &format!("{} cut at {n:#x}", f.path.display()));
            tried += 1;
        }
    }
    println!("{tried} truncated inputs rejected");
}

#[test]
fn radix3_edge_sizes_and_errors() {
    for len in [1, 4095, 4096, 4097, 512 * 4096, 512 * 4096 + 1, 0x1b3_4ea0] {
        check_radix3(len, &format!("len {len:#x}"));
    }
    let max = Radix3Layout::for_image_size(512 * 512 * 4096).unwrap();
    assert_eq!(
        (max.fw_pages, max.lvl2_pages, max.lvl2_size()),
        (262_144, 512, 2 << 20)
    );
    for bad in [0, 512 * 512 * 4096 + 1] {
        let e = Radix3Layout::for_image_size(bad).unwrap_err();
        check_error(&e, 0, "bad radix3 size");
    }
    let layout = Radix3Layout::for_image_size(3 * 4096 + 5).unwrap();
    let run = |l0: usize, l2: usize, lvl1: u64, fw_base: u64, fw_n: usize| {
        let (mut a, mut b, mut c) = (vec![0; l0], vec![0; 4096], vec![0; l2]);
        build_radix3(
            &layout,
            Radix3Buffers {
                lvl0: &mut a,
                lvl1: &mut b,
                lvl2: &mut c,
            },
            lvl1,
            [0x9000u64],
            contiguous_pages(fw_base, fw_n),
        )
    };
    assert!(run(4096, 4096, 0x1000, 0x10000, 4).is_ok());
    let cases = [
        ("level 0 too small", run(4095, 4096, 0x1000, 0x10000, 4), 0),
        ("level 2 too small", run(4096, 24, 0x1000, 0x10000, 4), 0),
        ("misaligned level 1", run(4096, 4096, 0x1008, 0x10000, 4), 0),
        (
            "misaligned firmware page",
            run(4096, 4096, 0x1000, 0x10010, 4),
            0,
        ),
        ("too few pages", run(4096, 4096, 0x1000, 0x10000, 3), 24),
        (
            "address overflow",
            run(4096, 4096, 0x1000, u64::MAX - 0xfff, 4),
            8,
        ),
    ];
    for (name, r, offset) in cases {
        let e = r.expect_err(name);
        check_error(&e, 4096, name);
        assert_eq!(e.offset, offset, "{name}: {e}");
    }
}
