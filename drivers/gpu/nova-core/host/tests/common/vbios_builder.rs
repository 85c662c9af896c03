// SPDX-License-Identifier: GPL-2.0
//! A tiny VBIOS image builder for the tests, written from the facts sheet §4 (no real GA102
//! VBIOS is available). It lays out a PC-AT image with a BIT, optionally an EFI image, and
//! a FWSEC image holding the falcon ucode table, a V3 (or V2) FWSEC descriptor, signatures,
//! IMEM, and DMEM with an application interface, DMEM mapper and command buffer. It records
//! where everything went so tests can corrupt a field and check the error names it.

/// Knobs for [`build`].
#[derive(Clone, Debug)]
pub struct Spec {
    /// Put an EFI image between the PC-AT and FWSEC images.
    pub efi: bool,
    /// Give each image an NPDE (else lengths and last flags come from the PCIR).
    pub npde: bool,
    /// BIT token size (6 or 8).
    pub token_size: u8,
    /// FWSEC descriptor version (2 or 3).
    pub desc_version: u8,
    /// Signatures after a V3 descriptor.
    pub sig_count: u8,
    /// `SignatureVersions` of a V3 descriptor.
    pub sig_versions: u16,
    /// Put the descriptor (and ucode) in an extra image after the FWSEC image, to check the
    /// FWSEC section spans images.
    pub desc_in_second_fwsec_image: bool,
    /// Bytes of IFR header in front of the images (0 for none; else at least 0x200, v1).
    pub ifr: usize,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            efi: true,
            npde: true,
            token_size: 6,
            desc_version: 3,
            sig_count: 2,
            sig_versions: 0b0110,
            desc_in_second_fwsec_image: false,
            ifr: 0,
        }
    }
}

/// PROM offsets of everything [`build`] placed.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Offset of each image.
    pub images: Vec<usize>,
    /// Offset of the PCIR of each image.
    pub pcirs: Vec<usize>,
    /// Offset of the NPDE of each image (if any).
    pub npdes: Vec<usize>,
    /// Length of the PC-AT image.
    pub pcat_len: usize,
    /// Start of the FWSEC section.
    pub fwsec_start: usize,
    /// BIT header.
    pub bit: usize,
    /// The falcon-data token.
    pub falcon_token: usize,
    /// The `u32` falcon-data pointer.
    pub falcon_ptr: usize,
    /// The falcon ucode table.
    pub table: usize,
    /// The production entry of the table.
    pub prod_entry: usize,
    /// The FWSEC descriptor.
    pub desc: usize,
    /// The signatures.
    pub sigs: usize,
    /// The ucode (IMEM then DMEM).
    pub ucode: usize,
    /// The DMEM image.
    pub dmem: usize,
    /// DMEM-relative offset of the app interface.
    pub appif: usize,
    /// DMEM-relative offset of the DMEM mapper.
    pub mapper: usize,
    /// DMEM-relative offset of the command buffer.
    pub cmd: usize,
    /// DMEM-relative offset of the signature patch location (V3).
    pub pkc: usize,
    /// IMEM bytes.
    pub imem_len: usize,
    /// DMEM bytes.
    pub dmem_len: usize,
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Offset of the PCIR in every built image.
pub const PCIR_AT: usize = 0x40;
/// Offset of the NPDE in every built image: the PCIR offset plus its 0x18-byte length,
/// rounded up to 16.
pub const NPDE_AT: usize = 0x60;

/// Writes a ROM header, PCIR and (optionally) NPDE at the start of `img`.
fn header(img: &mut [u8], code_type: u8, last: bool, npde: bool) {
    let blocks = u16::try_from(img.len() / 512).unwrap();
    put16(img, 0, 0xaa55);
    put16(img, 0x18, PCIR_AT as u16);
    let p = PCIR_AT;
    img[p..p + 4].copy_from_slice(b"PCIR");
    put16(img, p + 4, 0x10de);
    put16(img, p + 6, 0x2204);
    put16(img, p + 0x0a, 0x18);
    img[p + 0x0d..p + 0x10].copy_from_slice(&[0x00, 0x00, 0x03]);
    put16(img, p + 0x10, blocks);
    img[p + 0x14] = code_type;
    img[p + 0x15] = if last { 0x80 } else { 0 };
    if npde {
        let n = NPDE_AT;
        img[n..n + 4].copy_from_slice(b"NPDE");
        put16(img, n + 4, 0x0100);
        put16(img, n + 6, 0x0b);
        put16(img, n + 8, blocks);
        img[n + 0x0a] = if last { 0x80 } else { 0 };
    }
}

/// Builds a PROM image per `spec`.
pub fn build(spec: &Spec) -> (Vec<u8>, Layout) {
    let mut l = Layout::default();
    let mut rom = vec![0u8; spec.ifr];
    if spec.ifr != 0 {
        // IFR v1: FIXED1 version 1 and fixed-data size 0x10, so the PCI ROM offset is the
        // dword at 0x14.
        rom[0..4].copy_from_slice(b"NVGI");
        put32(&mut rom, 4, (0x10 << 16) | (1 << 8));
        put32(&mut rom, 0x14, u32::try_from(spec.ifr).unwrap());
    }

    // --- PC-AT image: 0x1000 bytes, BIT at 0x100.
    let mut pcat = vec![0u8; 0x1000];
    header(&mut pcat, 0x00, false, spec.npde);
    let bit = 0x100;
    pcat[bit..bit + 6].copy_from_slice(&[0xff, 0xb8, b'B', b'I', b'T', 0]);
    put16(&mut pcat, bit + 6, 0x0100);
    pcat[bit + 8] = 12;
    pcat[bit + 9] = spec.token_size;
    pcat[bit + 10] = 3;
    let tokens = bit + 12;
    let ts = usize::from(spec.token_size);
    let token = |pcat: &mut Vec<u8>, i: usize, id: u8, ver: u8, size: u16, off: u32| {
        let t = tokens + i * ts;
        pcat[t] = id;
        pcat[t + 1] = ver;
        put16(pcat, t + 2, size);
        if ts >= 8 {
            put32(pcat, t + 4, off);
        } else {
            put16(pcat, t + 4, u16::try_from(off).unwrap());
        }
    };
    token(&mut pcat, 0, b'B', 1, 5, 0x200);
    token(&mut pcat, 1, b'I', 1, 4, 0x210);
    token(&mut pcat, 2, 0x70, 2, 4, 0x180);
    let pcat_at = rom.len();
    l.bit = pcat_at + bit;
    l.falcon_token = pcat_at + tokens + 2 * ts;
    l.falcon_ptr = pcat_at + 0x180;
    l.pcat_len = pcat.len();
    l.images.push(pcat_at);
    l.pcirs.push(pcat_at + PCIR_AT);
    l.npdes.push(pcat_at + NPDE_AT);

    // --- FWSEC payload, placed in the FWSEC image at 0x100 (or in a second image).
    let imem_len = 0x400usize;
    let dmem_len = 0x600usize;
    let appif = 0x40usize;
    let mapper = 0x80usize;
    let cmd = 0x200usize;
    let pkc = 0x400usize;
    let (desc_size, sig_bytes) = if spec.desc_version == 2 {
        (60usize, 0usize)
    } else {
        (44usize, usize::from(spec.sig_count) * 384)
    };
    let vdesc_size = (desc_size + sig_bytes + 15) & !15;
    let mut payload = vec![0u8; 0x100 + vdesc_size + imem_len + dmem_len];
    // Ucode table at payload 0: header v1 {1, 6, 6, 2, desc version, desc size}; entries
    // follow. Descriptor pointers are filled in below.
    payload[0..6].copy_from_slice(&[1, 6, 6, 2, spec.desc_version, desc_size as u8]);
    payload[6] = 0x45; // debug FWSEC, pointing at the same descriptor
    payload[12] = 0x85;
    let d = 0x100;
    let vdesc = 1 | (u32::from(spec.desc_version) << 8) | ((vdesc_size as u32) << 16);
    put32(&mut payload, d, vdesc);
    if spec.desc_version == 2 {
        put32(&mut payload, d + 0x10, appif as u32); // InterfaceOffset
        put32(&mut payload, d + 0x18, imem_len as u32); // IMEMLoadSize
        put32(&mut payload, d + 0x28, imem_len as u32); // DMEMOffset
        put32(&mut payload, d + 0x30, dmem_len as u32); // DMEMLoadSize
    } else {
        put32(&mut payload, d + 0x08, pkc as u32);
        put32(&mut payload, d + 0x0c, appif as u32);
        put32(&mut payload, d + 0x14, imem_len as u32);
        put32(&mut payload, d + 0x20, dmem_len as u32);
        put16(&mut payload, d + 0x24, 0x0400); // GSP
        payload[d + 0x26] = 1; // UcodeId
        payload[d + 0x27] = spec.sig_count;
        put16(&mut payload, d + 0x28, spec.sig_versions);
        for i in 0..usize::from(spec.sig_count) {
            let s = d + desc_size + i * 384;
            payload[s..s + 384].fill(0xa0 + i as u8);
        }
    }
    let ucode = d + vdesc_size;
    for (i, b) in payload[ucode..ucode + imem_len].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let dmem = ucode + imem_len;
    payload[dmem + appif..dmem + appif + 4].copy_from_slice(&[1, 4, 8, 2]);
    put32(&mut payload, dmem + appif + 4, 3);
    put32(&mut payload, dmem + appif + 8, 0x300);
    put32(&mut payload, dmem + appif + 12, 4);
    put32(&mut payload, dmem + appif + 16, mapper as u32);
    put32(&mut payload, dmem + mapper, u32::from_le_bytes(*b"DMAP"));
    put16(&mut payload, dmem + mapper + 4, 3);
    put16(&mut payload, dmem + mapper + 6, 64);
    put32(&mut payload, dmem + mapper + 8, cmd as u32);
    put32(&mut payload, dmem + mapper + 12, 0x100);
    put32(&mut payload, dmem + mapper + 16, 0x300);
    put32(&mut payload, dmem + mapper + 20, 0x80);
    // A recognisable frts_region that SB must leave alone.
    put32(&mut payload, dmem + cmd + 24, 0x1234_5678);

    // --- Images after the PC-AT one.
    let mut after = Vec::new();
    if spec.efi {
        let mut efi = vec![0u8; 0x800];
        header(&mut efi, 0x03, false, spec.npde);
        after.push(efi);
    }
    let payload_len = payload.len();
    let first_fwsec_len = (0x100
        + if spec.desc_in_second_fwsec_image {
            0x100
        } else {
            payload_len
        }
        + 511)
        & !511;
    let mut fwsec = vec![0u8; first_fwsec_len];
    header(
        &mut fwsec,
        0xe0,
        !spec.desc_in_second_fwsec_image,
        spec.npde,
    );
    let payload_in_image = if spec.desc_in_second_fwsec_image {
        // The table stays in the first FWSEC image; the descriptor and ucode go to the next.
        fwsec[0x100..0x100 + 0x100].copy_from_slice(&payload[..0x100]);
        after.push(fwsec);
        let mut second = vec![0u8; (0x100 + payload_len + 511) & !511];
        header(&mut second, 0xe0, true, spec.npde);
        second[0x100..0x100 + payload_len - 0x100].copy_from_slice(&payload[0x100..]);
        after.push(second);
        false
    } else {
        fwsec[0x100..0x100 + payload_len].copy_from_slice(&payload);
        after.push(fwsec);
        true
    };

    rom.extend_from_slice(&pcat);
    for img in &after {
        l.images.push(rom.len());
        l.pcirs.push(rom.len() + PCIR_AT);
        l.npdes.push(rom.len() + NPDE_AT);
        rom.extend_from_slice(img);
    }
    let fwsec_idx = if spec.efi { 2 } else { 1 };
    l.fwsec_start = l.images[fwsec_idx];
    l.table = l.fwsec_start + 0x100;
    l.prod_entry = l.table + 12;
    l.desc = if payload_in_image {
        l.table + d
    } else {
        l.images[fwsec_idx + 1] + 0x100
    };
    l.sigs = l.desc + desc_size;
    l.ucode = l.desc + vdesc_size;
    l.dmem = l.ucode + imem_len;
    l.appif = appif;
    l.mapper = mapper;
    l.cmd = cmd;
    l.pkc = pkc;
    l.imem_len = imem_len;
    l.dmem_len = dmem_len;

    // ROM addresses: the PC-AT image length plus the offset in the FWSEC section.
    let rom_addr = |prom_off: usize| (l.pcat_len + prom_off - l.fwsec_start) as u32;
    let table_addr = rom_addr(l.table);
    let desc_addr = rom_addr(l.desc);
    put32(&mut rom, l.falcon_ptr, table_addr);
    put32(&mut rom, l.table + 6 + 2, desc_addr);
    put32(&mut rom, l.prod_entry + 2, desc_addr);
    (rom, l)
}

/// The fuse value a fuzz seed's first four bytes carry: 2 selects the second signature of the
/// default `sig_versions` (0b0110), so seeds reach the signature copy.
pub const FUZZ_SEED_FUSE: u32 = 2;

/// The four VBIOS shapes the fuzzers start from (the libFuzzer seeds and the bounded mutation
/// test): the default image; no EFI image, no NPDE and 8-byte BIT tokens; a version-2 FWSEC
/// descriptor; the descriptor in the second FWSEC image behind an IFR header.
pub fn fuzz_specs() -> [Spec; 4] {
    [
        Spec::default(),
        Spec {
            efi: false,
            npde: false,
            token_size: 8,
            ..Spec::default()
        },
        Spec {
            desc_version: 2,
            ..Spec::default()
        },
        Spec {
            desc_in_second_fwsec_image: true,
            ifr: 0x200,
            ..Spec::default()
        },
    ]
}

/// Seeds for the `vbios` libFuzzer target (`host/fuzz/fuzz_targets/vbios.rs`): built images
/// of four shapes, each after the target's five control bytes (the fuse register, little
/// endian, then the command byte; odd is FRTS). Written by the `vbios_fuzz_seeds` example and
/// checked by the `fuzz_seeds_reach_the_patch` test.
pub fn fuzz_seeds() -> Vec<(Spec, Vec<u8>)> {
    fuzz_specs()
        .into_iter()
        .map(|spec| {
            let (rom, _) = build(&spec);
            let mut seed = FUZZ_SEED_FUSE.to_le_bytes().to_vec();
            seed.push(1);
            seed.extend_from_slice(&rom);
            (spec, seed)
        })
        .collect()
}
