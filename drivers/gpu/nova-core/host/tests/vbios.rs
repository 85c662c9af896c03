// SPDX-License-Identifier: GPL-2.0
//! VBIOS walker tests on hand-made PROM images (see `common/vbios_builder.rs`), well-formed
//! and malformed.

mod common;

use common::check_error;
use common::vbios_builder::{build, Spec, NPDE_AT, PCIR_AT};
use nova_core_host::firmware::{FwError, FwErrorKind};
use nova_core_host::vbios::fwsec::{FwsecCommand, CMD_FRTS, CMD_SB};
use nova_core_host::vbios::image::{self, ImageType, SCAN_LIMIT};
use nova_core_host::vbios::{falcon::FalconUcodeDesc, Vbios};

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Parses `rom`, expecting an error; checks it names an offset and returns it.
fn expect_err(rom: &[u8], context: &str) -> FwError {
    match Vbios::parse(rom) {
        Ok(_) => panic!("{context}: parsed a malformed VBIOS"),
        Err(e) => {
            check_error(&e, rom.len(), context);
            e
        }
    }
}

#[test]
fn default_v3_image_is_found_and_located() {
    let (rom, l) = build(&Spec::default());
    let v = Vbios::parse(&rom).expect("parse");
    assert_eq!(v.rom_start, 0);
    assert_eq!(v.image_count, 3);
    assert_eq!(v.pci_at.offset(), 0);
    assert_eq!(v.pci_at.size(), l.pcat_len);
    assert_eq!(v.fwsec_section.base(), l.fwsec_start);
    assert_eq!(v.fwsec_section.base() + v.fwsec_section.len(), rom.len());
    assert_eq!(v.bit.offset, l.bit);
    assert_eq!(v.ucode_table.data.base(), l.table);
    assert_eq!(v.fwsec_entry.app_id, 0x85);
    let f = &v.fwsec;
    assert_eq!(f.desc_offset, l.desc);
    assert!(matches!(f.desc, FalconUcodeDesc::V3(_)));
    assert_eq!(f.ucode.base(), l.ucode);
    assert_eq!(f.ucode.len(), l.imem_len + l.dmem_len);
    assert_eq!(f.dmem.base(), l.dmem);
    assert_eq!(f.dmem_offset(), l.imem_len);
    assert_eq!(f.signatures.base(), l.sigs);
    assert_eq!(f.signatures.len(), 2 * 384);
    assert_eq!(f.dmem_mapper_offset as usize, l.mapper);
    assert_eq!(f.dmem_mapper.cmd_in_buffer_offset as usize, l.cmd);
    assert_eq!(f.init_cmd_offset(), l.imem_len + l.mapper + 0x2c);
    assert_eq!(f.frts_cmd_offset(), l.imem_len + l.cmd);
    assert_eq!(f.signature_patch_offset(), Some(l.imem_len + l.pkc));
    assert_eq!(f.fuse_register(), Ok(0x8241c0));
    let (imem, dmem) = f.load_targets().expect("V3 load targets");
    assert_eq!((imem.src, imem.dst, imem.len), (0, 0, l.imem_len as u32));
    assert_eq!(
        (dmem.src, dmem.dst, dmem.len),
        (l.imem_len as u32, 0, l.dmem_len as u32)
    );
}

#[test]
fn fwsec_signature_selection_follows_the_fuse_version() {
    let (rom, _) = build(&Spec::default()); // SignatureVersions 0b0110, 2 signatures
    let v = Vbios::parse(&rom).unwrap();
    let f = &v.fwsec;
    // Nothing fused: bit 0 is wanted but not present.
    assert!(matches!(
        f.select_signature(0).unwrap_err().kind,
        FwErrorKind::NoSignatureForFuse { .. }
    ));
    let (i, s) = f.select_signature(1).unwrap();
    assert_eq!((i, s[0]), (0, 0xa0));
    for reg in [2, 3] {
        let (i, s) = f.select_signature(reg).unwrap();
        assert_eq!((i, s[0]), (1, 0xa1));
    }
    assert!(f.select_signature(4).is_err());
    assert!(f.select_signature(0x8000_0000).is_err());
}

#[test]
fn frts_patch_writes_exactly_the_command_and_signature() {
    let (rom, l) = build(&Spec::default());
    let v = Vbios::parse(&rom).unwrap();
    let f = &v.fwsec;
    let orig = f.ucode_bytes().to_vec();
    let mut ucode = orig.clone();
    let cmd = FwsecCommand::Frts {
        frts_addr: 0x5_ff80_0000,
        frts_size: 0x10_0000,
    };
    assert_eq!(f.patch(&mut ucode, cmd, Some(3)).unwrap(), Some(1));
    assert_eq!(u32_at(&ucode, f.init_cmd_offset()), CMD_FRTS);
    let c = f.frts_cmd_offset();
    let words: Vec<u32> = (0..11).map(|i| u32_at(&ucode, c + 4 * i)).collect();
    assert_eq!(words, [1, 24, 0, 0, 0, 2, 1, 20, 0x5f_f800, 0x100, 2]);
    let pkc = l.imem_len + l.pkc;
    assert!(ucode[pkc..pkc + 384].iter().all(|&b| b == 0xa1));
    // Nothing else changed.
    let changed: Vec<usize> = (0..ucode.len()).filter(|&i| ucode[i] != orig[i]).collect();
    assert!(changed.iter().all(|&i| {
        (f.init_cmd_offset()..f.init_cmd_offset() + 4).contains(&i)
            || (c..c + 44).contains(&i)
            || (pkc..pkc + 384).contains(&i)
    }));
    // Unaligned or too-large FRTS regions are refused.
    for (a, s) in [(0x1001, 0x1000), (0, 0x800), (1 << 44, 0x1000)] {
        let mut u = orig.clone();
        let cmd = FwsecCommand::Frts {
            frts_addr: a,
            frts_size: s,
        };
        let e = f.patch(&mut u, cmd, None).unwrap_err();
        check_error(&e, u.len(), "bad FRTS region");
    }
    // A copy of the wrong length is refused.
    assert!(f
        .patch(&mut orig[1..].to_vec(), FwsecCommand::Sb, None)
        .is_err());
}

#[test]
fn sb_patch_leaves_the_frts_region_alone() {
    let (rom, _) = build(&Spec::default());
    let v = Vbios::parse(&rom).unwrap();
    let f = &v.fwsec;
    let mut ucode = f.ucode_bytes().to_vec();
    assert_eq!(f.patch(&mut ucode, FwsecCommand::Sb, None).unwrap(), None);
    assert_eq!(u32_at(&ucode, f.init_cmd_offset()), CMD_SB);
    let c = f.frts_cmd_offset();
    assert_eq!(u32_at(&ucode, c), 1);
    assert_eq!(u32_at(&ucode, c + 4), 24);
    assert_eq!(u32_at(&ucode, c + 20), 2);
    assert_eq!(u32_at(&ucode, c + 24), 0x1234_5678);
}

#[test]
fn variants_parse() {
    let variants = [
        Spec {
            efi: false,
            ..Spec::default()
        },
        Spec {
            npde: false,
            ..Spec::default()
        },
        Spec {
            token_size: 8,
            ..Spec::default()
        },
        Spec {
            desc_in_second_fwsec_image: true,
            ..Spec::default()
        },
        Spec {
            ifr: 0x400,
            ..Spec::default()
        },
        Spec {
            sig_count: 0,
            sig_versions: 0,
            ..Spec::default()
        },
    ];
    for (i, spec) in variants.iter().enumerate() {
        let (rom, l) = build(spec);
        let v = Vbios::parse(&rom).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_eq!(v.rom_start, spec.ifr, "variant {i}");
        assert_eq!(v.fwsec.desc_offset, l.desc, "variant {i}");
        assert_eq!(v.fwsec.dmem.base(), l.dmem, "variant {i}");
        assert_eq!(v.fwsec.frts_cmd_offset(), l.imem_len + l.cmd, "variant {i}");
        assert_eq!(v.image_count, l.images.len(), "variant {i}");
    }
}

#[test]
fn v2_descriptor() {
    let (rom, l) = build(&Spec {
        desc_version: 2,
        ..Spec::default()
    });
    let v = Vbios::parse(&rom).unwrap();
    let f = &v.fwsec;
    assert!(matches!(f.desc, FalconUcodeDesc::V2(_)));
    assert_eq!(f.dmem.base(), l.dmem);
    assert!(f.signatures.is_empty());
    assert!(f.load_targets().is_none());
    assert!(f.select_signature(1).is_err());
    assert!(f.fuse_register().is_err());
    let mut u = f.ucode_bytes().to_vec();
    assert_eq!(f.patch(&mut u, FwsecCommand::Sb, None), Ok(None));
    assert!(f.patch(&mut u, FwsecCommand::Sb, Some(1)).is_err());
}

#[test]
fn image_walk_reports_types_sizes_and_last_flag() {
    let (rom, l) = build(&Spec::default());
    let imgs: Vec<_> = image::images(&rom, 0).map(|i| i.unwrap()).collect();
    assert_eq!(imgs.len(), 3);
    let types: Vec<_> = imgs.iter().map(|i| i.image_type()).collect();
    assert_eq!(types, [ImageType::PcAt, ImageType::Efi, ImageType::Fwsec]);
    let lasts: Vec<_> = imgs.iter().map(|i| i.is_last()).collect();
    assert_eq!(lasts, [false, false, true]);
    for (i, img) in imgs.iter().enumerate() {
        assert_eq!(img.offset(), l.images[i]);
        assert!(img.npde.is_some());
        assert_eq!(img.pcir.vendor_id, 0x10de);
    }
}

#[test]
fn npde_overrides_pcir_length_and_last_flag() {
    let (mut rom, l) = build(&Spec {
        efi: false,
        ..Spec::default()
    });
    // PCIR claims 1 block and "last" for the PC-AT image; the NPDE says otherwise and wins.
    let p = l.pcirs[0];
    rom[p + 0x10..p + 0x12].copy_from_slice(&1u16.to_le_bytes());
    rom[p + 0x15] = 0x80;
    let v = Vbios::parse(&rom).unwrap();
    assert_eq!(v.pci_at.size(), l.pcat_len);
    assert_eq!(v.image_count, 2);
}

#[test]
fn scan_stops_at_one_mebibyte() {
    // 2100 back-to-back 512-byte EFI images, none flagged last.
    let mut rom = vec![0u8; 2100 * 512];
    for i in 0..2100 {
        let img = &mut rom[i * 512..(i + 1) * 512];
        img[0..2].copy_from_slice(&0xaa55u16.to_le_bytes());
        img[0x18] = 0x40;
        img[0x40..0x44].copy_from_slice(b"PCIR");
        img[0x4a] = 0x18;
        img[0x50] = 1;
        img[0x54] = 0x03;
    }
    let mut it = image::images(&rom, 0);
    let n = it.by_ref().inspect(|i| assert!(i.is_ok())).count();
    assert_eq!(n, SCAN_LIMIT / 512);
    assert!(it.hit_scan_limit());
    // The same chain cut short (no last flag, data ends) is an error at the end.
    let short = &rom[..10 * 512];
    let err = image::images(short, 0)
        .find_map(|i| i.err())
        .expect("error at the end");
    check_error(&err, short.len(), "unterminated chain");
    assert_eq!(err.offset, short.len());
    // So is parsing it as a VBIOS.
    expect_err(short, "unterminated chain");
}

#[test]
fn truncated_roms_fail_with_an_offset() {
    let (rom, _) = build(&Spec::default());
    for len in (0..rom.len()).step_by(3) {
        expect_err(&rom[..len], &format!("truncated to {len:#x}"));
    }
}

#[test]
fn malformed_roms_name_the_offending_field() {
    let (good, l) = build(&Spec::default());
    type Corrupt = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Corrupt, usize)> = vec![
        ("bad ROM signature", Box::new(|r| r[0] = 0), 0),
        (
            "bad signature of the second image",
            Box::new({
                let at = l.images[1];
                move |r| r[at + 1] = 0
            }),
            l.images[1],
        ),
        (
            "bad PCIR signature",
            Box::new({
                let at = l.pcirs[0];
                move |r| r[at] = b'X'
            }),
            l.pcirs[0],
        ),
        (
            "PCIR pointer out of range",
            Box::new(|r| r[0x18..0x1a].copy_from_slice(&0xfff0u16.to_le_bytes())),
            0xfff0.min(good.len()),
        ),
        (
            "image length past the end",
            Box::new({
                let at = l.npdes[2] + 8;
                move |r| r[at..at + 2].copy_from_slice(&0x4000u16.to_le_bytes())
            }),
            l.npdes[2] + 8,
        ),
        (
            "falcon data pointer out of range",
            Box::new({
                let at = l.falcon_ptr;
                move |r| put32(r, at, 0x00ff_ffff)
            }),
            l.falcon_ptr,
        ),
        (
            "falcon token data offset out of range",
            Box::new({
                let at = l.falcon_token + 4;
                move |r| r[at..at + 2].copy_from_slice(&0xfffeu16.to_le_bytes())
            }),
            l.falcon_token + 4,
        ),
        (
            "falcon token version",
            Box::new({
                let at = l.falcon_token + 1;
                move |r| r[at] = 1
            }),
            l.falcon_token + 1,
        ),
        (
            "no BIT",
            Box::new({
                let at = l.bit + 2;
                move |r| r[at] = b'b'
            }),
            0,
        ),
        (
            "BIT token size too small",
            Box::new({
                let at = l.bit + 9;
                move |r| r[at] = 4
            }),
            l.bit + 9,
        ),
        (
            "no production FWSEC entry",
            Box::new({
                let at = l.prod_entry;
                move |r| r[at] = 0x86
            }),
            l.table,
        ),
        (
            "descriptor pointer out of range",
            Box::new({
                let at = l.prod_entry + 2;
                move |r| put32(r, at, 0x7fff_0000)
            }),
            l.prod_entry + 2,
        ),
        (
            "unknown descriptor version",
            Box::new({
                let at = l.desc + 1;
                move |r| r[at] = 5
            }),
            l.desc + 1,
        ),
        (
            "descriptor version flag clear",
            Box::new({
                let at = l.desc;
                move |r| r[at] &= !1
            }),
            l.desc,
        ),
        (
            "descriptor size smaller than the descriptor",
            Box::new({
                let at = l.desc + 2;
                move |r| r[at..at + 2].copy_from_slice(&8u16.to_le_bytes())
            }),
            l.desc + 2,
        ),
        (
            "ucode past the end",
            Box::new({
                let at = l.desc + 0x20;
                move |r| put32(r, at, 0x10_0000)
            }),
            l.desc + 2,
        ),
        (
            "too many signatures",
            Box::new({
                let at = l.desc + 0x27;
                move |r| r[at] = 200
            }),
            l.desc + 0x27,
        ),
        (
            "signature patch location past DMEM",
            Box::new({
                let at = l.desc + 8;
                move |r| put32(r, at, 0x580)
            }),
            l.desc + 8,
        ),
        (
            "app interface version",
            Box::new({
                let at = l.dmem + l.appif;
                move |r| r[at] = 2
            }),
            l.dmem + l.appif,
        ),
        (
            "app interface past DMEM",
            Box::new({
                let at = l.desc + 0x0c;
                move |r| put32(r, at, 0x601)
            }),
            l.desc + 0x0c,
        ),
        (
            "app interface entries past DMEM",
            Box::new({
                let at = l.dmem + l.appif + 3;
                move |r| r[at] = 255
            }),
            l.dmem + l.appif + 3,
        ),
        (
            "no DMEM mapper",
            Box::new({
                let at = l.dmem + l.appif + 12;
                move |r| put32(r, at, 5)
            }),
            l.dmem + l.appif,
        ),
        (
            "DMEM mapper past DMEM",
            Box::new({
                let at = l.dmem + l.appif + 16;
                move |r| put32(r, at, 0x5f0)
            }),
            l.dmem + l.appif + 16,
        ),
        (
            "command buffer past DMEM",
            Box::new({
                let at = l.dmem + l.mapper + 8;
                move |r| put32(r, at, 0x5e0)
            }),
            l.dmem + l.mapper + 8,
        ),
        (
            "IFR version",
            Box::new(|r| {
                r[0..4].copy_from_slice(b"NVGI");
                r[5] = 9;
            }),
            4,
        ),
    ];
    for (name, corrupt, offset) in cases {
        let mut rom = good.clone();
        corrupt(&mut rom);
        let e = expect_err(&rom, name);
        assert_eq!(e.offset, offset, "{name}: {e}");
    }
    // The PCIR length of 0 is refused when no NPDE overrides it.
    let (mut rom, l) = build(&Spec {
        npde: false,
        ..Spec::default()
    });
    let at = l.pcirs[0] + 0x10;
    rom[at..at + 2].copy_from_slice(&0u16.to_le_bytes());
    let e = expect_err(&rom, "PCIR length 0");
    assert_eq!(e.offset, at);
    // The builder puts the NPDE where the rule of docs/facts/ga102.md §4 says: after the 0x18-byte PCIR,
    // rounded up to 16 (a copy of the constant's value could not fail).
    assert_eq!(NPDE_AT, (PCIR_AT + 0x18).next_multiple_of(16));
}

#[test]
fn ifr_v3_rom_directory_gives_the_image_start() {
    // IFR v3: FIXED2 total data size 0x20; the dword there is the flash-status offset 0x40;
    // the ROM directory ("RFRD") is 4 KiB past it and its dword at +8 is the PCI ROM offset.
    let start = 0x1200;
    let (mut rom, l) = build(&Spec {
        ifr: start,
        ..Spec::default()
    });
    rom[..start].fill(0);
    rom[0..4].copy_from_slice(b"NVGI");
    put32(&mut rom, 4, 3 << 8);
    put32(&mut rom, 8, 0x20);
    put32(&mut rom, 0x20, 0x40);
    rom[0x1040..0x1044].copy_from_slice(b"RFRD");
    put32(&mut rom, 0x1048, start as u32);
    assert_eq!(image::rom_start(&rom), Ok(start));
    let v = Vbios::parse(&rom).unwrap();
    assert_eq!(v.rom_start, start);
    assert_eq!(v.fwsec.desc_offset, l.desc);
    // A wrong directory signature is reported where it was expected.
    rom[0x1040] = b'X';
    let e = image::rom_start(&rom).unwrap_err();
    assert_eq!(e.offset, 0x1040);
    check_error(&e, rom.len(), "IFR v3 directory");
}

/// The fuzz seeds (`common::vbios_builder::fuzz_seeds`, written out by the
/// `vbios_fuzz_seeds` example) get as far as the fuzz target goes: each parses, and each with
/// a V3 descriptor selects a signature and takes the FRTS patch with the seed's own fuse value
/// and command byte. A seed that stopped parsing would fuzz only the first checks.
#[test]
fn fuzz_seeds_reach_the_patch() {
    use common::vbios_builder::{fuzz_seeds, FUZZ_SEED_FUSE};
    let seeds = fuzz_seeds();
    assert_eq!(seeds.len(), 4);
    for (i, (spec, seed)) in seeds.iter().enumerate() {
        let (fuse, rest) = seed.split_first_chunk::<4>().unwrap();
        assert_eq!(u32::from_le_bytes(*fuse), FUZZ_SEED_FUSE, "seed {i}");
        let (&cmd, prom) = rest.split_first().unwrap();
        assert_eq!(cmd & 1, 1, "seed {i}: the command byte must select FRTS");
        let v = Vbios::parse(prom).unwrap_or_else(|e| panic!("seed {i} ({spec:?}): {e:?}"));
        let f = &v.fwsec;
        let mut ucode = f.ucode_bytes().to_vec();
        let frts = FwsecCommand::Frts {
            frts_addr: u64::from(FUZZ_SEED_FUSE) << 12,
            frts_size: 1 << 20,
        };
        if spec.desc_version == 3 {
            f.select_signature(FUZZ_SEED_FUSE)
                .unwrap_or_else(|e| panic!("seed {i}: select_signature: {e:?}"));
            let sig = f
                .patch(&mut ucode, frts, Some(FUZZ_SEED_FUSE))
                .unwrap_or_else(|e| panic!("seed {i}: patch: {e:?}"));
            assert!(sig.is_some(), "seed {i}: no signature patched");
        } else {
            f.patch(&mut ucode, frts, None)
                .unwrap_or_else(|e| panic!("seed {i}: patch: {e:?}"));
        }
        assert_eq!(u32_at(&ucode, f.init_cmd_offset()), CMD_FRTS, "seed {i}");
    }
}
