// SPDX-License-Identifier: GPL-2.0
//! Bounded fuzzing on stable Rust: seeded xorshift mutations of the real firmware files'
//! headers and of hand-built VBIOS images, and random inputs, through every parser. Asserts
//! that nothing panics and that every error names an offset inside the input. (The
//! coverage-guided libFuzzer targets in `host/fuzz/` need a nightly toolchain.)

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::vbios_builder::{build, fuzz_specs};
use common::{check_error, firmware_dir, mutate, read, undo, Rng};
use nova_core_host::firmware::bin_hdr::{BinFile, FalconBootloader};
use nova_core_host::firmware::elf::Elf;
use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily};
use nova_core_host::firmware::hs::HsFirmware;
use nova_core_host::firmware::radix3::Radix3Layout;
use nova_core_host::firmware::riscv::RiscvBootloader;
use nova_core_host::firmware::{FwError, FwResult};
use nova_core_host::vbios::fwsec::FwsecCommand;
use nova_core_host::vbios::image;
use nova_core_host::vbios::Vbios;

/// Checks a parser result: an error must name an offset within `len`.
fn ok_or_offset<T>(r: FwResult<T>, len: usize, ctx: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            check_error(&e, len, ctx);
            None
        }
    }
}

/// Runs `f`, turning a panic into a test failure that names the seed and iteration.
fn no_panic<T>(seed: u64, iter: usize, what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("{what}: panic at seed {seed:#x}, iteration {iter}"),
    }
}

/// Everything the HS parser offers, on one input.
fn exercise_hs(b: &[u8], rng: &mut Rng) -> bool {
    let Some(fw) = ok_or_offset(HsFirmware::parse(b), b.len(), "HS") else {
        return false;
    };
    let fuse = rng.interesting_u32(4);
    if let Some((i, s)) = ok_or_offset(fw.select_signature(fuse), b.len(), "HS select") {
        assert!(i < fw.num_sig);
        assert_eq!(s.len(), fw.signature_size());
    }
    let _ = fw.fuse_register();
    ok_or_offset(
        fw.signature(rng.interesting_u32(4)),
        b.len(),
        "HS signature",
    );
    ok_or_offset(fw.app(rng.interesting_u32(4)), b.len(), "HS app");
    let mut ucode = fw.ucode().to_vec();
    let _ = fw.patch_signature(&mut ucode, fuse);
    assert!(fw.pkc_dmem_offset() <= fw.load.os_data_size);
    true
}

fn exercise_bootloader(b: &[u8]) -> bool {
    let mut ok = false;
    if let Some(bl) = ok_or_offset(RiscvBootloader::parse(b), b.len(), "bootloader") {
        for r in [bl.manifest(), bl.monitor_code(), bl.monitor_data()] {
            ok_or_offset(r, b.len(), "bootloader part");
        }
        ok = true;
    }
    ok |= ok_or_offset(FalconBootloader::parse(b), b.len(), "gen bootloader").is_some();
    ok_or_offset(BinFile::parse(b), b.len(), "bin header");
    ok
}

fn exercise_elf(b: &[u8]) -> bool {
    let mut ok = false;
    if let Some(elf) = ok_or_offset(Elf::parse(b), b.len(), "ELF") {
        for s in elf.sections() {
            ok_or_offset(s, b.len(), "ELF section");
        }
        ok = ok_or_offset(elf.find(b".fwimage"), b.len(), "ELF find").is_some();
    }
    for fam in [SignatureFamily::Ga10x, SignatureFamily::Tu10x] {
        if let Some(g) = ok_or_offset(GspFirmware::parse(b, fam), b.len(), "GSP") {
            let _ = Radix3Layout::for_image_size(g.image().len());
        }
    }
    ok
}

fn exercise_vbios(b: &[u8], rng: &mut Rng) -> bool {
    for img in image::images(b, 0) {
        ok_or_offset(img, b.len(), "ROM image");
    }
    let Some(v) = ok_or_offset(Vbios::parse(b), b.len(), "VBIOS") else {
        return false;
    };
    let f = &v.fwsec;
    let _ = f.fuse_register();
    let fuse = rng.interesting_u32(4);
    ok_or_offset(f.select_signature(fuse), b.len(), "FWSEC select");
    let mut ucode = f.ucode_bytes().to_vec();
    let cmd = if rng.below(2) == 0 {
        FwsecCommand::Sb
    } else {
        FwsecCommand::Frts {
            frts_addr: u64::from(rng.interesting_u32(4)) << rng.below(16),
            frts_size: 0x10_0000,
        }
    };
    let _ = f.patch(&mut ucode, cmd, Some(fuse));
    let _ = v.resolve(rng.interesting_u32(b.len()), 0);
    true
}

fn real(chip: &str, name: &str) -> Vec<u8> {
    read(
        &firmware_dir()
            .join("nvidia")
            .join(chip)
            .join("gsp")
            .join(name),
    )
}

const SEED: u64 = 0x6e6f_7661_2d63_6f72;

#[test]
fn mutated_hs_headers() {
    let (mut n, mut ok) = (0, 0);
    for (chip, name) in [
        ("ga102", "booter_load-570.144.bin"),
        ("ga102", "booter_unload-535.113.01.bin"),
        ("tu102", "booter_load-570.144.bin"),
        ("ga100", "booter_unload-570.144.bin"),
        ("ad102", "scrubber-570.144.bin"),
    ] {
        let mut b = real(chip, name);
        let hdr_end = BinFile::parse(&b).unwrap().hdr.data_offset as usize + 0x40;
        let seed = SEED ^ b.len() as u64;
        let mut rng = Rng::new(seed);
        for i in 0..6000 {
            // Mostly the headers; sometimes anywhere (the patch location lives in the ucode).
            let hi = if i % 8 == 0 { b.len() } else { hdr_end };
            let u = mutate(&mut rng, &mut b, 0, hi);
            ok += usize::from(no_panic(seed, i, name, || exercise_hs(&b, &mut rng)));
            undo(&mut b, u);
            n += 1;
        }
        assert!(HsFirmware::parse(&b).is_ok(), "undo restored {name}");
    }
    println!("{n} mutated HS files, {ok} still parsed");
}

#[test]
fn mutated_bootloader_headers() {
    let (mut n, mut ok) = (0, 0);
    for (chip, name) in [
        ("ga102", "bootloader-570.144.bin"),
        ("tu102", "bootloader-570.144.bin"),
        ("gb202", "bootloader-570.144.bin"),
        ("ga100", "gen_bootloader-570.144.bin"),
    ] {
        let mut b = real(chip, name);
        let seed = SEED ^ 0xb007 ^ b.len() as u64;
        let mut rng = Rng::new(seed);
        for i in 0..6000 {
            let u = mutate(&mut rng, &mut b, 0, 0x6c);
            ok += usize::from(no_panic(seed, i, name, || exercise_bootloader(&b)));
            undo(&mut b, u);
            n += 1;
        }
    }
    println!("{n} mutated bootloader files, {ok} still parsed");
}

#[test]
fn mutated_elf_headers_and_section_tables() {
    let (mut n, mut ok) = (0, 0);
    for (chip, name) in [
        ("ga102", "gsp-570.144.bin"),
        ("tu102", "gsp-535.113.01.bin"),
        ("gh100", "fmc-570.144.bin"),
    ] {
        let mut b = real(chip, name);
        let (names, table, table_end) = {
            let elf = Elf::parse(&b).unwrap();
            let names = elf.section(elf.shstrndx).unwrap().offset as usize;
            (names, elf.shoff, elf.shoff + elf.shnum * elf.shentsize)
        };
        let len = b.len();
        let seed = SEED ^ 0xe1f ^ b.len() as u64;
        let mut rng = Rng::new(seed);
        for i in 0..8000 {
            let u = match i % 3 {
                0 => mutate(&mut rng, &mut b, 0, 0x40),
                1 => mutate(&mut rng, &mut b, table, table_end),
                _ => mutate(&mut rng, &mut b, names.min(table), len),
            };
            ok += usize::from(no_panic(seed, i, name, || exercise_elf(&b)));
            undo(&mut b, u);
            n += 1;
        }
    }
    println!("{n} mutated ELF files, {ok} still parsed");
}

#[test]
fn mutated_vbios_images() {
    let (mut n, mut ok) = (0, 0);
    let specs = fuzz_specs();
    for (k, spec) in specs.iter().enumerate() {
        let (mut rom, l) = build(spec);
        let seed = SEED ^ 0xb105 ^ k as u64;
        let mut rng = Rng::new(seed);
        for i in 0..5000 {
            // Aim at the structures as often as at random bytes.
            let (lo, hi) = match i % 4 {
                0 => (0, 0x200),
                1 => (l.fwsec_start, l.desc + 0x80),
                2 => (l.dmem, l.dmem + 0x300),
                _ => (0, rom.len()),
            };
            let u = mutate(&mut rng, &mut rom, lo, hi);
            ok += usize::from(no_panic(seed, i, "VBIOS", || {
                exercise_vbios(&rom, &mut rng)
            }));
            undo(&mut rom, u);
            n += 1;
        }
        assert!(Vbios::parse(&rom).is_ok());
    }
    println!("{n} mutated VBIOS images, {ok} still parsed");
}

#[test]
fn random_inputs() {
    let seed = SEED ^ 0x5a5a;
    let mut rng = Rng::new(seed);
    let prefixes: [&[u8]; 4] = [
        &0x10deu32.to_le_bytes(),
        b"\x7fELF\x02\x01\x01",
        b"\x7fELF\x01\x01\x01",
        &[0x55, 0xaa],
    ];
    for i in 0..20_000 {
        let len = rng.below(600);
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if i % 2 == 0 {
            let p = prefixes[rng.below(prefixes.len())];
            let k = p.len().min(b.len());
            b[..k].copy_from_slice(&p[..k]);
        }
        no_panic(seed, i, "random", || {
            let _ = exercise_hs(&b, &mut Rng::new(i as u64));
            let _ = exercise_bootloader(&b);
            let _ = exercise_elf(&b);
            let _ = exercise_vbios(&b, &mut Rng::new(i as u64));
            let _ = image::rom_start(&b).map_err(|e: FwError| check_error(&e, b.len(), "IFR"));
        });
    }
}
