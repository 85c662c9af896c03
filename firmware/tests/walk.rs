// SPDX-License-Identifier: GPL-2.0
//! Walks built images with a small reader written here, independently of the builder: its
//! constants come from the facts sheet (§4.2-§4.5) and open-gpu-doc's BIT specification, not
//! from `nova_firmware::format`. Only the public build functions and `VbiosLayout` are used, the
//! latter to cross-check what the reader found.

use nova_firmware::{build, build_broken, build_ga102_vbios, Broken, Config, VbiosLayout};
use std::collections::BTreeSet;

const WINDOW: usize = 1 << 20;
const SIG: usize = 384;

fn rd8(r: &[u8], o: usize) -> Option<u8> {
    r.get(o).copied()
}
fn rd16(r: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        r.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn rd32(r: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        r.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn bytes(r: &[u8], o: usize, n: usize) -> Option<&[u8]> {
    r.get(o..o.checked_add(n)?)
}
fn sum(b: &[u8]) -> u8 {
    b.iter().fold(0u8, |a, &x| a.wrapping_add(x))
}

/// What the reader can object to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Finding {
    RomSignature { image: usize },
    PcirSignature { image: usize },
    ZeroLength { image: usize },
    PastWindow { image: usize },
    PastData { image: usize },
    NoLastImage,
    PcatChecksum,
    BitMissing,
    BitChecksum,
    FalconTokenMissing,
    FalconTableOutOfRange,
    FalconTableHeader,
    FwsecProdMissing,
    DescOutOfRange,
    DescVersion(u8),
    UcodeOutOfRange,
    InterfaceBad,
    MapperBad,
}

#[derive(Clone, Debug)]
struct Image {
    off: usize,
    len: usize,
    code_type: u8,
    pcir: usize,
    npde: Option<usize>,
    pcir_last: bool,
    last: bool,
}

/// Facts §4.2 and §4.1 "Scan limit": walk images from 0, NPDE overriding length and last flag.
fn walk(rom: &[u8]) -> Result<Vec<Image>, Finding> {
    let mut images = vec![];
    let mut off = 0usize;
    loop {
        let image = images.len();
        if rd16(rom, off) != Some(0xAA55) {
            return Err(Finding::RomSignature { image });
        }
        let pcir = off + usize::from(rd16(rom, off + 0x18).ok_or(Finding::RomSignature { image })?);
        if bytes(rom, pcir, 4) != Some(b"PCIR") {
            return Err(Finding::PcirSignature { image });
        }
        let bad = Finding::PcirSignature { image };
        let pcir_len = usize::from(rd16(rom, pcir + 0x0A).ok_or(bad.clone())?);
        let mut units = rd16(rom, pcir + 0x10).ok_or(bad.clone())?;
        let code_type = rd8(rom, pcir + 0x14).ok_or(bad.clone())?;
        let pcir_last = rd8(rom, pcir + 0x15).ok_or(bad)? & 0x80 != 0;
        let mut last = pcir_last;
        let n = (pcir + pcir_len).next_multiple_of(16);
        let mut npde = None;
        if bytes(rom, n, 4) == Some(b"NPDE") {
            npde = Some(n);
            units = rd16(rom, n + 8).unwrap_or(units);
            if rd16(rom, n + 6).is_some_and(|l| l > 0x0A) {
                last = rd8(rom, n + 0x0A).is_some_and(|v| v & 0x80 != 0);
            }
        }
        let len = usize::from(units) * 512;
        if len == 0 {
            return Err(Finding::ZeroLength { image });
        }
        if off + len > WINDOW {
            return Err(Finding::PastWindow { image });
        }
        if off + len > rom.len() {
            return Err(Finding::PastData { image });
        }
        images.push(Image {
            off,
            len,
            code_type,
            pcir,
            npde,
            pcir_last,
            last,
        });
        if last {
            return Ok(images);
        }
        off = (off + len).next_multiple_of(512);
        if off >= WINDOW {
            return Err(Finding::NoLastImage);
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Desc {
    at: usize,
    vdesc: u32,
    size: usize,
    stored: u32,
    pkc: usize,
    interface: usize,
    imem_phys: u32,
    imem_size: usize,
    imem_virt: u32,
    dmem_phys: u32,
    dmem_size: usize,
    engine_mask: u16,
    ucode_id: u8,
    sig_count: usize,
    sig_versions: u16,
    code: usize,
    data: usize,
}

#[derive(Clone, Debug, Default)]
struct Parsed {
    images: Vec<Image>,
    bit: usize,
    bit_hdr: [u8; 12],
    tokens: Vec<(u8, u8, u16, u16)>,
    falcon_ptr: u32,
    table: usize,
    table_hdr: [u8; 6],
    entries: Vec<(u8, u8, u32, usize)>,
    prod: Desc,
    appif: Vec<(u32, u32)>,
    mapper: usize,
}

const BIT_PATTERN: [u8; 6] = [0xFF, 0xB8, b'B', b'I', b'T', 0];

/// Rebases a table/descriptor pointer (docs/facts/ga102.md §4.3): offset into the FWSEC section =
/// pointer - PC-AT length.
fn rebase(images: &[Image], ptr: u32) -> Option<usize> {
    let fwsec = images.iter().find(|i| i.code_type == 0xE0)?.off;
    let pcat = images.first()?.len;
    fwsec.checked_add((ptr as usize).checked_sub(pcat)?)
}

fn read_desc(rom: &[u8], at: usize) -> Result<Desc, Finding> {
    let vdesc = rd32(rom, at).ok_or(Finding::DescOutOfRange)?;
    let version = (vdesc >> 8) as u8;
    if vdesc & 1 == 0 || version != 3 {
        return Err(Finding::DescVersion(version));
    }
    let r = |o| rd32(rom, at + o).ok_or(Finding::DescOutOfRange);
    let size = (vdesc >> 16) as usize;
    let imem_size = r(0x14)? as usize;
    let d = Desc {
        at,
        vdesc,
        size,
        stored: r(0x04)?,
        pkc: r(0x08)? as usize,
        interface: r(0x0C)? as usize,
        imem_phys: r(0x10)?,
        imem_size,
        imem_virt: r(0x18)?,
        dmem_phys: r(0x1C)?,
        dmem_size: r(0x20)? as usize,
        engine_mask: rd16(rom, at + 0x24).ok_or(Finding::DescOutOfRange)?,
        ucode_id: rd8(rom, at + 0x26).ok_or(Finding::DescOutOfRange)?,
        sig_count: usize::from(rd8(rom, at + 0x27).ok_or(Finding::DescOutOfRange)?),
        sig_versions: rd16(rom, at + 0x28).ok_or(Finding::DescOutOfRange)?,
        code: at + size,
        data: at + size + imem_size,
    };
    // OG's bounds: align_up(StoredSize, 256) bytes from the code start must be in the ROM.
    let end = d.code + (d.stored as usize).next_multiple_of(256);
    if end > rom.len() || d.data + d.dmem_size > rom.len() {
        return Err(Finding::UcodeOutOfRange);
    }
    Ok(d)
}

/// Everything the reader checks, in the order a driver would meet it. A finding that makes the
/// next step impossible ends the audit.
fn audit(rom: &[u8]) -> (Vec<Finding>, Option<Parsed>) {
    let mut f = vec![];
    let mut p = Parsed::default();
    match walk(rom) {
        Ok(i) => p.images = i,
        Err(e) => return (vec![e], None),
    }
    let pcat = p.images[0].clone();
    if sum(&rom[pcat.off..pcat.off + pcat.len]) != 0 {
        f.push(Finding::PcatChecksum);
    }
    let Some(bit) = rom[..pcat.len].windows(6).position(|w| w == BIT_PATTERN) else {
        f.push(Finding::BitMissing);
        return (f, None);
    };
    p.bit = bit;
    p.bit_hdr.copy_from_slice(&rom[bit..bit + 12]);
    let hsize = usize::from(p.bit_hdr[8]);
    if sum(&rom[bit..bit + hsize]) != 0 {
        f.push(Finding::BitChecksum);
    }
    let tsize = usize::from(p.bit_hdr[9]);
    for i in 0..usize::from(p.bit_hdr[10]) {
        let t = bit + hsize + i * tsize;
        p.tokens.push((
            rom[t],
            rom[t + 1],
            rd16(rom, t + 2).unwrap_or(0),
            rd16(rom, t + 4).unwrap_or(0),
        ));
    }
    let Some(&(_, _, _, fptr)) = p
        .tokens
        .iter()
        .find(|t| t.0 == 0x70 && t.1 == 2 && t.2 >= 4)
    else {
        f.push(Finding::FalconTokenMissing);
        return (f, None);
    };
    p.falcon_ptr = rd32(rom, usize::from(fptr)).unwrap_or(0);
    let Some(table) = rebase(&p.images, p.falcon_ptr).filter(|&t| t + 6 <= rom.len()) else {
        f.push(Finding::FalconTableOutOfRange);
        return (f, None);
    };
    p.table = table;
    p.table_hdr.copy_from_slice(&rom[table..table + 6]);
    if p.table_hdr[0] != 1 || p.table_hdr[1] < 6 || p.table_hdr[2] < 6 {
        f.push(Finding::FalconTableHeader);
        return (f, None);
    }
    for i in 0..usize::from(p.table_hdr[3]) {
        let e = table + usize::from(p.table_hdr[1]) + i * usize::from(p.table_hdr[2]);
        let (Some(app), Some(tgt), Some(ptr)) = (rd8(rom, e), rd8(rom, e + 1), rd32(rom, e + 2))
        else {
            f.push(Finding::FalconTableOutOfRange);
            return (f, None);
        };
        p.entries
            .push((app, tgt, ptr, rebase(&p.images, ptr).unwrap_or(usize::MAX)));
    }
    let Some(&(_, _, _, desc)) = p.entries.iter().find(|e| e.0 == 0x85) else {
        f.push(Finding::FwsecProdMissing);
        return (f, None);
    };
    match read_desc(rom, desc) {
        Ok(d) => p.prod = d,
        Err(e) => {
            f.push(e);
            return (f, None);
        }
    }
    // Application interface (docs/facts/ga102.md §4.5), relative to the DMEM image.
    let dm = p.prod.data;
    let t = dm + p.prod.interface;
    let hdr = bytes(rom, t, 4).unwrap_or(&[0; 4]);
    if hdr[0] != 1 || hdr[1] < 4 || hdr[2] < 8 {
        f.push(Finding::InterfaceBad);
        return (f, None);
    }
    for i in 0..usize::from(hdr[3]) {
        let e = t + usize::from(hdr[1]) + i * usize::from(hdr[2]);
        p.appif
            .push((rd32(rom, e).unwrap_or(0), rd32(rom, e + 4).unwrap_or(0)));
    }
    let Some(&(_, base)) = p.appif.iter().find(|e| e.0 == 4) else {
        f.push(Finding::InterfaceBad);
        return (f, None);
    };
    p.mapper = dm + base as usize;
    if bytes(rom, p.mapper, 4) != Some(b"DMAP") || rd16(rom, p.mapper + 4) != Some(3) {
        f.push(Finding::MapperBad);
        return (f, None);
    }
    (f, Some(p))
}

fn good() -> (Vec<u8>, VbiosLayout, Parsed) {
    let (rom, l) = nova_firmware::build_ga102_vbios_with_layout();
    let (f, p) = audit(&rom);
    assert_eq!(f, vec![]);
    (rom, l, p.expect("a clean audit parses everything"))
}

#[test]
fn deterministic() {
    assert_eq!(build_ga102_vbios(), build_ga102_vbios());
    assert_eq!(
        build_ga102_vbios(),
        nova_firmware::build_ga102_vbios_with_layout().0
    );
}

#[test]
fn images_headers_lengths_and_flags() {
    let (rom, l, p) = good();
    let types: Vec<u8> = p.images.iter().map(|i| i.code_type).collect();
    assert_eq!(types, [0x00, 0x03, 0xE0, 0xE0]);
    assert!(rom.len() <= WINDOW);
    let mut next = 0;
    for (n, i) in p.images.iter().enumerate() {
        assert_eq!(i.off, next, "images are back to back");
        assert_eq!(i.off % 512, 0);
        assert_eq!(i.len % 512, 0);
        assert_eq!(i.pcir % 4, 0, "PCIR is dword aligned");
        assert_eq!(rd16(&rom, i.pcir + 4), Some(0x10DE));
        assert_eq!(rd16(&rom, i.pcir + 6), Some(0x2204));
        assert_eq!(bytes(&rom, i.pcir + 0x0D, 3), Some(&[0x00, 0x00, 0x03][..]));
        let units = rd16(&rom, i.pcir + 0x10).unwrap();
        assert_eq!(
            usize::from(units) * 512,
            i.len,
            "PCIR and NPDE lengths agree"
        );
        let npde = i.npde.expect("every image has an NPDE");
        assert_eq!(
            npde,
            (i.pcir + usize::from(rd16(&rom, i.pcir + 0x0A).unwrap())).next_multiple_of(16)
        );
        assert!(matches!(rd16(&rom, npde + 4), Some(0x100 | 0x101)));
        assert!(rd16(&rom, npde + 6).unwrap() >= 0x0B);
        // Only the final image is last for NPDE-aware readers.
        assert_eq!(i.last, n == p.images.len() - 1);
        assert_eq!(l.images[n].offset, i.off);
        assert_eq!(l.images[n].len, i.len);
        assert_eq!(l.images[n].pcir, i.pcir);
        assert_eq!(l.images[n].npde, npde);
        assert_eq!(l.images[n].code_type, i.code_type);
        assert_eq!(l.images[n].npde_last, i.last);
        assert_eq!(l.images[n].pcir_last, i.pcir_last);
        next = i.off + i.len;
    }
    assert_eq!(next, rom.len());
    assert_eq!(l.len, rom.len());
    // The PC-AT PCIR claims "last" (the GA102 example in vbios.rst); its NPDE does not.
    assert!(p.images[0].pcir_last && !p.images[0].last);
    // x86 header: initialisation size in 512-byte blocks.
    assert_eq!(usize::from(rom[2]) * 512, p.images[0].len);
    // EFI header signature 0x0EF1 (PCI Firmware Specification).
    assert_eq!(rd32(&rom, p.images[1].off + 4), Some(0x0EF1));
    assert_eq!(l.efi, Some(1));
    assert_eq!(l.fwsec_section, p.images[2].off);
    // 0x55AA on a 512-byte boundary only where an image starts.
    let starts: BTreeSet<usize> = p.images.iter().map(|i| i.off).collect();
    for o in (0..rom.len()).step_by(512) {
        assert_eq!(
            rd16(&rom, o) == Some(0xAA55),
            starts.contains(&o),
            "at {o:#x}"
        );
    }
}

#[test]
fn pcat_checksum_and_bit() {
    let (rom, l, p) = good();
    let pcat = &p.images[0];
    assert_eq!(sum(&rom[..pcat.len]), 0);
    // One BIT in the whole ROM, inside the PC-AT image.
    let hits: Vec<usize> = rom
        .windows(6)
        .enumerate()
        .filter(|(_, w)| *w == BIT_PATTERN)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits, vec![p.bit]);
    assert_eq!(l.bit, p.bit);
    let h = p.bit_hdr;
    assert_eq!(u16::from_le_bytes([h[6], h[7]]), 0x0100, "BCD version 1.00");
    assert_eq!(h[8], 12, "header size");
    assert_eq!(h[9], 6, "token size");
    assert_eq!(sum(&h), 0, "header checksum");
    assert_eq!(l.bit_tokens, p.bit + 12);
    assert_eq!(l.bit_token_count, p.tokens.len());
    let ids: Vec<u8> = p.tokens.iter().map(|t| t.0).collect();
    assert_eq!(ids, [b'B', b'N', b'p']);
    for &(id, ver, size, ptr) in &p.tokens {
        match id {
            b'B' => {
                assert_eq!((ver, size), (2, 33));
                assert_eq!(usize::from(ptr), l.biosdata);
                assert!(usize::from(ptr) + usize::from(size) <= pcat.len);
                assert_eq!(rd32(&rom, usize::from(ptr)), Some(0x9402_0001));
            }
            b'N' => assert_eq!(ptr, 0, "NOP token has no data"),
            b'p' => {
                assert_eq!((ver, size), (2, 4));
                assert_eq!(usize::from(ptr), l.falcon_data);
                assert!(usize::from(ptr) + 4 <= pcat.len);
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn falcon_table_pointer_rebasing() {
    let (rom, l, p) = good();
    let pcat_len = p.images[0].len;
    let efi_len = p.images[1].len;
    assert_eq!(p.falcon_ptr, l.falcon_table_ptr);
    assert!(p.falcon_ptr as usize > pcat_len);
    // open-gpu-doc's rule: adjusted = pointer + UEFI image length.
    assert_eq!(p.falcon_ptr as usize + efi_len, p.table);
    assert_eq!(p.table, l.falcon_table);
    // The table is in the last FWSEC image, so the pointer spans the first FWSEC image too.
    let last = p.images.last().unwrap();
    assert!(p.table >= last.off && p.table < last.off + last.len);
    assert_eq!(p.table_hdr, [1, 6, 6, 2, 3, 44]);
    assert_eq!(p.entries.len(), 2);
    assert_eq!((p.entries[0].0, p.entries[0].1), (0x45, 0x01));
    assert_eq!((p.entries[1].0, p.entries[1].1), (0x85, 0x01));
    for (e, fl) in p.entries.iter().zip([&l.fwsec_debug, &l.fwsec_prod]) {
        assert_eq!(e.2 as usize + efi_len, e.3);
        assert_eq!(e.3, fl.desc);
        assert_eq!(e.2, fl.desc_ptr);
        assert!(e.3 >= last.off && e.3 < last.off + last.len);
    }
    assert_eq!(l.rebase(p.falcon_ptr), Some(p.table));
    // The debug descriptor parses as well (one signature).
    let dbg = read_desc(&rom, p.entries[0].3).unwrap();
    assert_eq!(dbg.sig_count, 1);
    assert_eq!(dbg.size, 44 + SIG);
}

#[test]
fn fwsec_descriptor_signatures_and_ucode() {
    let (rom, l, p) = good();
    let d = &p.prod;
    let fl = &l.fwsec_prod;
    assert_eq!(
        d.vdesc & 0xFF,
        0x01,
        "FLAGS_VERSION available, not encrypted"
    );
    assert_eq!((d.vdesc >> 8) & 0xFF, 3);
    assert_eq!(
        d.size,
        44 + d.sig_count * SIG,
        "vDesc SIZE covers descriptor + signatures"
    );
    assert_eq!(d.sig_versions.count_ones() as usize, d.sig_count);
    assert_eq!(d.sig_count, 3);
    assert_eq!(d.stored as usize, d.imem_size + d.dmem_size);
    assert_eq!(d.imem_size % 256, 0);
    assert_eq!(d.dmem_size % 256, 0);
    assert_eq!((d.imem_phys, d.imem_virt, d.dmem_phys), (0, 0, 0));
    assert_eq!(d.engine_mask, 0x0400, "GSP");
    assert!(d.ucode_id >= 1);
    assert!(d.pkc + SIG <= d.dmem_size);
    assert!(d.interface < d.dmem_size);
    let last = p.images.last().unwrap();
    assert!(
        d.data + d.dmem_size <= last.off + last.len,
        "ucode inside the last image"
    );
    // Cross-check with the layout.
    assert_eq!(fl.desc, d.at);
    assert_eq!(fl.desc_size, d.size);
    assert_eq!(fl.signatures, d.at + 44);
    assert_eq!(fl.signature_count, d.sig_count);
    assert_eq!(fl.signature_versions, d.sig_versions);
    assert_eq!((fl.imem, fl.imem_size), (d.code, d.imem_size));
    assert_eq!((fl.dmem, fl.dmem_size), (d.data, d.dmem_size));
    assert_eq!(fl.pkc_data_offset, d.pkc);
    assert_eq!(fl.interface_offset, d.interface);
    assert_eq!(fl.engine_id_mask, d.engine_mask);
    assert_eq!(fl.ucode_id, d.ucode_id);
    // Recognisable synthetic contents.
    assert_eq!(&rom[d.code..d.code + 16], b"NOVA-VGPU-IMEM-P");
    assert_eq!(&rom[d.data..d.data + 16], b"NOVA-VGPU-DMEM-P");
    let sigs: Vec<&[u8]> = (0..d.sig_count)
        .map(|i| &rom[d.at + 44 + i * SIG..d.at + 44 + (i + 1) * SIG])
        .collect();
    for (i, s) in sigs.iter().enumerate() {
        assert_eq!(&s[..5], b"NVSIG");
        assert_eq!(s[6] as usize, i);
        assert_eq!(
            Some(d.at + 44 + i * SIG),
            fl.signature_range(i).map(|r| r.start)
        );
    }
    assert!(sigs[0] != sigs[1] && sigs[1] != sigs[2]);
    // The signature slot in DMEM is empty until a driver patches it.
    assert!(rom[d.data + d.pkc..d.data + d.pkc + SIG]
        .iter()
        .all(|&b| b == 0));
    assert_eq!(fl.signature_patch_offset(), d.imem_size + d.pkc);
}

#[test]
fn dmem_interface_table_and_mapper() {
    let (rom, l, p) = good();
    let d = &p.prod;
    let fl = &l.fwsec_prod;
    let t = d.data + d.interface;
    assert_eq!(&rom[t..t + 4], &[1, 4, 8, 2]);
    assert_eq!(p.appif, vec![(1, 0x340), (4, 0x400)]);
    assert_eq!(fl.interface(), t);
    assert_eq!(fl.dmem_mapper(), p.mapper);
    assert_eq!(fl.devinit_offset, 0x340);
    let m = p.mapper;
    let r = |o: usize| rd32(&rom, m + o).unwrap();
    assert_eq!(&rom[m..m + 4], b"DMAP");
    assert_eq!(r(0), 0x5041_4D44);
    assert_eq!(rd16(&rom, m + 4), Some(3));
    assert_eq!(rd16(&rom, m + 6), Some(64));
    let (cin, cin_size, cout, cout_size) = (
        r(0x08) as usize,
        r(0x0C) as usize,
        r(0x10) as usize,
        r(0x14) as usize,
    );
    assert!(cin_size >= 44, "room for the FRTS command");
    assert!(cin + cin_size <= d.dmem_size && cout + cout_size <= d.dmem_size);
    assert!(
        cin + cin_size <= cout || cout + cout_size <= cin,
        "buffers do not overlap"
    );
    assert!(m + 64 <= d.data + cin || d.data + cin + cin_size <= m);
    assert_eq!((fl.cmd_in_offset, fl.cmd_in_size), (cin, cin_size));
    assert_eq!((fl.cmd_out_offset, fl.cmd_out_size), (cout, cout_size));
    assert_eq!(r(0x2C), 0, "init_cmd is not preset");
    assert_ne!(r(0x34) & (1 << 0x15), 0, "FRTS advertised in cmd mask 0");
    assert!(rom[d.data + cin..d.data + cin + cin_size]
        .iter()
        .all(|&b| b == 0));
}

/// A driver patches the FRTS command the documented way (docs/facts/ga102.md §4.5); only the command-in
/// buffer and init_cmd change, and both are inside the DMEM image.
#[test]
fn frts_patch_touches_only_dmem() {
    let (rom, _, p) = good();
    let d = &p.prod;
    let mut patched = rom.clone();
    let cin = d.data + rd32(&rom, p.mapper + 0x08).unwrap() as usize;
    let words: [u32; 11] = [1, 24, 0, 0, 0, 2, 1, 20, 0x5F_FE00, 0x100, 2];
    for (i, w) in words.iter().enumerate() {
        patched[cin + 4 * i..cin + 4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    patched[p.mapper + 0x2C..p.mapper + 0x30].copy_from_slice(&0x15u32.to_le_bytes());
    let changed: Vec<usize> = (0..rom.len()).filter(|&i| rom[i] != patched[i]).collect();
    assert!(!changed.is_empty());
    assert!(changed
        .iter()
        .all(|&i| i >= d.data && i < d.data + d.dmem_size));
    assert_eq!(audit(&patched).0, vec![]);
}

#[test]
fn without_efi_pointers_are_plain_offsets() {
    let (rom, l) = build(&Config {
        efi: false,
        ..Config::default()
    });
    let (f, p) = audit(&rom);
    assert_eq!(f, vec![]);
    let p = p.unwrap();
    let types: Vec<u8> = p.images.iter().map(|i| i.code_type).collect();
    assert_eq!(types, [0x00, 0xE0, 0xE0]);
    assert_eq!(p.falcon_ptr as usize, p.table);
    assert_eq!(p.entries[1].2 as usize, p.entries[1].3);
    assert_eq!(l.efi, None);
    // Same ucode bytes as with EFI, just earlier in the ROM.
    let (rom2, l2) = nova_firmware::build_ga102_vbios_with_layout();
    assert_eq!(
        &rom[l.fwsec_prod.ucode_range()],
        &rom2[l2.fwsec_prod.ucode_range()]
    );
}

#[test]
fn device_id_follows_config() {
    let (rom, _) = build(&Config {
        device_id: 0x2206,
        ..Config::default()
    });
    let (f, p) = audit(&rom);
    assert_eq!(f, vec![]);
    for i in p.unwrap().images {
        assert_eq!(rd16(&rom, i.pcir + 6), Some(0x2206));
    }
}

/// Offsets where two images differ (plus the length difference).
fn diff(a: &[u8], b: &[u8]) -> BTreeSet<usize> {
    (0..a.len().min(b.len()))
        .filter(|&i| a[i] != b[i])
        .collect()
}

fn range(r: std::ops::Range<usize>) -> BTreeSet<usize> {
    r.collect()
}

#[test]
fn each_broken_variant_breaks_exactly_what_it_claims() {
    let (good_rom, l, _) = good();
    let last = l.images.len() - 1;
    for b in Broken::ALL {
        let (rom, lb) = build_broken(b);
        assert_eq!(lb, l, "{b:?}: the layout describes the intact image");
        let (findings, _) = audit(&rom);
        let d = diff(&good_rom, &rom);
        let checksum = l.biosdata + 5;
        match b {
            Broken::Truncated => {
                assert_eq!(findings, vec![Finding::PastData { image: last }]);
                assert!(d.is_empty());
                assert_eq!(rom.len(), l.fwsec_prod.imem + l.fwsec_prod.imem_size / 2);
                assert_eq!(&rom[..], &good_rom[..rom.len()]);
            }
            Broken::BadBitChecksum => {
                assert_eq!(findings, vec![Finding::BitChecksum]);
                assert_eq!(d, BTreeSet::from([l.bit + 11, checksum]));
            }
            Broken::BadPcirSignature => {
                let img = l
                    .images
                    .iter()
                    .position(|i| i.offset == l.fwsec_section)
                    .unwrap();
                assert_eq!(img, 2);
                assert_eq!(findings, vec![Finding::PcirSignature { image: img }]);
                assert_eq!(d, BTreeSet::from([l.images[img].pcir + 3]));
            }
            Broken::ImageLengthPastEnd => {
                assert_eq!(findings, vec![Finding::PastWindow { image: last }]);
                let i = &l.images[last];
                assert!(d.is_subset(
                    &(&range(i.pcir + 0x10..i.pcir + 0x12) | &range(i.npde + 8..i.npde + 10))
                ));
                assert_eq!(rd16(&rom, i.npde + 8), Some(0xFFFF));
            }
            Broken::FalconTablePtrOutOfRange => {
                assert_eq!(findings, vec![Finding::FalconTableOutOfRange]);
                assert!(d.is_subset(
                    &(&range(l.falcon_data..l.falcon_data + 4) | &BTreeSet::from([checksum]))
                ));
                let ptr = rd32(&rom, l.falcon_data).unwrap();
                assert!(l.rebase(ptr).unwrap() >= WINDOW);
            }
            Broken::FwsecDescUnknownVersion => {
                assert_eq!(findings, vec![Finding::DescVersion(5)]);
                assert_eq!(d, BTreeSet::from([l.fwsec_prod.desc + 1]));
                // The debug descriptor is untouched.
                assert!(read_desc(&rom, l.fwsec_debug.desc).is_ok());
            }
            Broken::ZeroLengthImage => {
                assert_eq!(findings, vec![Finding::ZeroLength { image: 1 }]);
                let i = &l.images[1];
                assert!(d.is_subset(
                    &(&range(i.pcir + 0x10..i.pcir + 0x12) | &range(i.npde + 8..i.npde + 10))
                ));
            }
        }
        if b != Broken::Truncated {
            assert_eq!(rom.len(), good_rom.len(), "{b:?}");
            assert_eq!(
                sum(&rom[..l.images[0].len]),
                0,
                "{b:?}: PC-AT checksum still holds"
            );
        }
    }
}
