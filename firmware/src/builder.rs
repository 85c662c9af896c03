// SPDX-License-Identifier: GPL-2.0
//! Assembles the image: PCI expansion ROM images in sequence (docs/facts/ga102.md §4.2), the BIT in the PC-AT
//! image (docs/facts/ga102.md §4.3), the falcon ucode table and the FWSEC ucodes in the last FWSEC image
//! (docs/facts/ga102.md §4.4, §4.5).
//!
//! Layout (with the EFI image; without it every later image moves up by its length):
//!
//! | image | code type | length | contents |
//! |---|---|---|---|
//! | 0 PC-AT | 0x00 | 0xC400 | ROM header, PCIR @0x40, NPDE @0x60, id string, BIT @0x1A0 with tokens 'B', 'N', 'p' |
//! | 1 EFI | 0x03 | 0xA200 | EFI ROM header, PCIR @0x1C, NPDE @0x40, synthetic payload |
//! | 2 FWSEC | 0xE0 | 0x0C00 | ROM header, PCIR @0x20, NPDE @0x40, synthetic payload |
//! | 3 FWSEC | 0xE0 | computed | ROM header, PCIR @0x30, NPDE @0x50, falcon ucode table @0x100, debug FWSEC @0x200, production FWSEC after it |
//!
//! Last-image flags follow the GA102 example in the Linux 7.3 `Documentation/gpu/nova/core/
//! vbios.rst`: the PC-AT image's PCIR says "last" (0x80) while its NPDE says "not last"; the NPDE
//! flag, which overrides the PCIR one (docs/facts/ga102.md §4.2), is set only on the final image.

use crate::format::*;
use crate::layout::{FwsecLayout, ImageLayout, VbiosLayout};
use crate::prng::Prng;
use crate::ucode::{self, UcodeSpec};
use crate::{put16, put32, Broken};

/// What to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// PCI device ID written in every PCIR (the profile's; 0x2204 for an RTX 3090).
    pub device_id: u16,
    /// Whether an EFI image sits between the PC-AT image and the FWSEC images.
    pub efi: bool,
    /// A deliberate defect, for tests.
    pub broken: Option<Broken>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            device_id: 0x2204,
            efi: true,
            broken: None,
        }
    }
}

const PCAT_LEN: usize = 0xC400;
const EFI_LEN: usize = 0xA200;
const FWSEC1_LEN: usize = 0x0C00;

const PCAT_PCIR: usize = 0x40;
const EFI_PCIR: usize = 0x1C;
const FWSEC1_PCIR: usize = 0x20;
const FWSEC2_PCIR: usize = 0x30;
/// Bytes at the start of an image kept free of filler (ROM header, PCIR, NPDE).
const HEADER_AREA: usize = 0x80;

const ID_STRING_AT: usize = 0x80;
const ID_STRING: &[u8] = b"NVIDIA GA102 VGA BIOS - nova vGPU synthetic image, not for flashing\0";
const BIT_AT: usize = 0x1A0;
const BIOSDATA_AT: usize = 0x1C0;
const FALCON_DATA_AT: usize = 0x1F0;
/// BIOSDATA "BIOS Version" and "BIOS OEM Version" (synthetic: 94.02.00.01, OEM 0).
const BIOS_VERSION: u32 = 0x9402_0001;
const BIOS_OEM_VERSION: u8 = 0x00;

/// EFI ROM header fields (PCI Firmware Specification 3.0, "EFI expansion ROM header"): signature
/// 0x0EF1 at 0x04, subsystem at 0x08 (0x0B: boot service driver), machine type at 0x0A (0x8664:
/// x64), compression type at 0x0C, offset of the EFI image at 0x16.
const EFI_SIGNATURE: u32 = 0x0EF1;
const EFI_SUBSYSTEM: u16 = 0x000B;
const EFI_MACHINE_X64: u16 = 0x8664;
const EFI_IMAGE_AT: u16 = 0x80;

const TABLE_AT: usize = 0x100;
const FIRST_UCODE_AT: usize = 0x200;

const SEED: u64 = 0x6A10_2000_5EED_0001;

/// The debug FWSEC (listed first, so a driver that takes the first entry picks the wrong one).
const DEBUG: UcodeSpec = UcodeSpec {
    app_id: app_id::FWSEC_DBG,
    tag: b'D',
    imem_size: 0x2000,
    dmem_size: 0x1000,
    signature_versions: 0x0001,
    ucode_id: 9,
    seed: SEED ^ 0xD,
};

/// The production FWSEC: three signatures with a non-contiguous SignatureVersions bitmap so the
/// index arithmetic of docs/facts/ga102.md §5.5 is exercised.
const PROD: UcodeSpec = UcodeSpec {
    app_id: app_id::FWSEC_PROD,
    tag: b'P',
    imem_size: 0x6000,
    dmem_size: 0x2000,
    signature_versions: 0x000B,
    ucode_id: 9,
    seed: SEED ^ 0x9,
};

fn align_up(v: usize, a: usize) -> usize {
    v.div_ceil(a) * a
}

/// The part of an image every image has: ROM signature, PCIR, NPDE.
struct ImageSpec {
    code_type: u8,
    len: usize,
    pcir_at: usize,
    pcir_last: bool,
    npde_last: bool,
}

fn write_image_headers(rom: &mut [u8], base: usize, s: &ImageSpec, device_id: u16) -> ImageLayout {
    let units = (s.len / BLOCK) as u16;
    rom[base..base + HEADER_AREA].fill(0);
    put16(rom, base, ROM_SIGNATURE);
    put16(rom, base + ROM_PCIR_PTR, s.pcir_at as u16);

    let p = base + s.pcir_at;
    rom[p..p + 4].copy_from_slice(&PCIR_SIGNATURE);
    put16(rom, p + pcir::VENDOR, VENDOR_NVIDIA);
    put16(rom, p + pcir::DEVICE, device_id);
    put16(rom, p + pcir::LEN, PCIR_LEN);
    rom[p + pcir::REV] = 0;
    rom[p + pcir::CLASS..p + pcir::CLASS + 3].copy_from_slice(&CLASS_VGA);
    put16(rom, p + pcir::IMAGE_LEN, units);
    put16(rom, p + pcir::VENDOR_ROM_REV, 0);
    rom[p + pcir::CODE_TYPE] = s.code_type;
    rom[p + pcir::LAST] = if s.pcir_last { LAST_IMAGE } else { 0 };
    let runtime = if s.code_type == code_type::PCAT {
        units
    } else {
        0
    };
    put16(rom, p + pcir::MAX_RUNTIME_LEN, runtime);

    // NPDE at align16(PCIR offset + PCIR length) (docs/facts/ga102.md §4.2).
    let n = base + align_up(s.pcir_at + usize::from(PCIR_LEN), 16);
    rom[n..n + 4].copy_from_slice(&NPDE_SIGNATURE);
    put16(rom, n + npde::REV, NPDE_REV);
    put16(rom, n + npde::LEN, NPDE_LEN);
    put16(rom, n + npde::SUBIMAGE_LEN, units);
    rom[n + npde::LAST] = if s.npde_last { LAST_IMAGE } else { 0 };
    // Bit 0: the ROM has private images (the FWSEC images after the PCI-visible ones).
    rom[n + npde::FLAGS] = 0x01;

    ImageLayout {
        offset: base,
        len: s.len,
        code_type: s.code_type,
        pcir: p,
        npde: n,
        pcir_last: s.pcir_last,
        npde_last: s.npde_last,
    }
}

/// The byte that makes the PC-AT image sum to zero, written into BIOSDATA (OD BIT "BIOS
/// Checksum"). Called again after a broken variant edits image 0.
pub(crate) fn fix_pcat_checksum(rom: &mut [u8], layout: &VbiosLayout) {
    let at = layout.biosdata + BIOSDATA_CHECKSUM;
    let Some(img) = layout.images.first() else {
        return;
    };
    if rom.len() < img.offset + img.len {
        return;
    }
    rom[at] = 0;
    let sum = rom[img.range()].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    rom[at] = sum.wrapping_neg();
}

/// Builds the image for `config`.
pub fn build(config: &Config) -> (Vec<u8>, VbiosLayout) {
    let pcat_off = 0;
    let efi_off = PCAT_LEN;
    let fwsec1_off = efi_off + if config.efi { EFI_LEN } else { 0 };
    let fwsec2_off = fwsec1_off + FWSEC1_LEN;

    let debug_at = FIRST_UCODE_AT;
    let prod_at = align_up(debug_at + DEBUG.len(), 0x100);
    let fwsec2_len = align_up(prod_at + PROD.len(), BLOCK);
    let total = fwsec2_off + fwsec2_len;
    assert!(total <= PROM_WINDOW);

    let mut rom = vec![0u8; total];
    Prng::new(SEED).fill(&mut rom);

    let mut images = vec![write_image_headers(
        &mut rom,
        pcat_off,
        &ImageSpec {
            code_type: code_type::PCAT,
            len: PCAT_LEN,
            pcir_at: PCAT_PCIR,
            pcir_last: true,
            npde_last: false,
        },
        config.device_id,
    )];
    // x86 ROM header: initialisation size in 512-byte units, then an entry point that returns.
    rom[pcat_off + 2] = (PCAT_LEN / BLOCK) as u8;
    rom[pcat_off + 3] = 0xCB;

    let mut efi = None;
    if config.efi {
        efi = Some(images.len());
        images.push(write_image_headers(
            &mut rom,
            efi_off,
            &ImageSpec {
                code_type: code_type::EFI,
                len: EFI_LEN,
                pcir_at: EFI_PCIR,
                pcir_last: false,
                npde_last: false,
            },
            config.device_id,
        ));
        put16(&mut rom, efi_off + 2, (EFI_LEN / BLOCK) as u16);
        put32(&mut rom, efi_off + 4, EFI_SIGNATURE);
        put16(&mut rom, efi_off + 8, EFI_SUBSYSTEM);
        put16(&mut rom, efi_off + 0x0A, EFI_MACHINE_X64);
        put16(&mut rom, efi_off + 0x0C, 0);
        put16(&mut rom, efi_off + 0x16, EFI_IMAGE_AT);
    }
    images.push(write_image_headers(
        &mut rom,
        fwsec1_off,
        &ImageSpec {
            code_type: code_type::FWSEC,
            len: FWSEC1_LEN,
            pcir_at: FWSEC1_PCIR,
            pcir_last: false,
            npde_last: false,
        },
        config.device_id,
    ));
    images.push(write_image_headers(
        &mut rom,
        fwsec2_off,
        &ImageSpec {
            code_type: code_type::FWSEC,
            len: fwsec2_len,
            pcir_at: FWSEC2_PCIR,
            pcir_last: true,
            npde_last: true,
        },
        config.device_id,
    ));

    // PC-AT image body: identification string, BIT header, tokens, token data.
    rom[ID_STRING_AT..ID_STRING_AT + ID_STRING.len()].copy_from_slice(ID_STRING);
    let bit = pcat_off + BIT_AT;
    let tokens = bit + usize::from(BIT_HEADER_SIZE);
    let token_list: [(u8, u8, u16, u16); 3] = [
        (
            token::BIOSDATA,
            BIOSDATA_VERSION,
            BIOSDATA_SIZE,
            BIOSDATA_AT as u16,
        ),
        (token::NOP, 0, 0, 0),
        (
            token::FALCON_DATA,
            FALCON_DATA_VERSION,
            FALCON_DATA_SIZE,
            FALCON_DATA_AT as u16,
        ),
    ];
    put16(&mut rom, bit, BIT_ID);
    rom[bit + 2..bit + 6].copy_from_slice(&BIT_SIGNATURE);
    put16(&mut rom, bit + 6, BIT_VERSION);
    rom[bit + 8] = BIT_HEADER_SIZE;
    rom[bit + 9] = BIT_TOKEN_SIZE;
    rom[bit + 10] = token_list.len() as u8;
    rom[bit + BIT_CHECKSUM] = 0;
    let sum = rom[bit..bit + usize::from(BIT_HEADER_SIZE)]
        .iter()
        .fold(0u8, |a, &b| a.wrapping_add(b));
    rom[bit + BIT_CHECKSUM] = sum.wrapping_neg();
    for (i, &(id, ver, size, ptr)) in token_list.iter().enumerate() {
        let t = tokens + i * usize::from(BIT_TOKEN_SIZE);
        rom[t] = id;
        rom[t + 1] = ver;
        put16(&mut rom, t + 2, size);
        put16(&mut rom, t + 4, ptr);
    }
    let biosdata = pcat_off + BIOSDATA_AT;
    rom[biosdata..biosdata + usize::from(BIOSDATA_SIZE)].fill(0);
    put32(&mut rom, biosdata, BIOS_VERSION);
    rom[biosdata + 4] = BIOS_OEM_VERSION;
    let falcon_data = pcat_off + FALCON_DATA_AT;

    // Last FWSEC image: falcon ucode table and the two ucodes.
    let mut debug = ucode::write(&mut rom, fwsec2_off + debug_at, &DEBUG);
    let mut prod = ucode::write(&mut rom, fwsec2_off + prod_at, &PROD);
    let table = fwsec2_off + TABLE_AT;

    let mut layout = VbiosLayout {
        len: total,
        images,
        efi,
        fwsec_section: fwsec1_off,
        bit,
        bit_tokens: tokens,
        bit_token_count: token_list.len(),
        biosdata,
        falcon_data,
        falcon_table_ptr: 0,
        falcon_table: table,
        falcon_table_entries: 2,
        fwsec_prod: prod.clone(),
        fwsec_debug: debug.clone(),
    };
    let ptr = |l: &VbiosLayout, abs: usize| l.pointer_to(abs).unwrap_or(0);
    layout.falcon_table_ptr = ptr(&layout, table);
    put32(&mut rom, falcon_data, layout.falcon_table_ptr);

    rom[table..table + 6].copy_from_slice(&[
        table::VERSION,
        table::HEADER_SIZE,
        table::ENTRY_SIZE,
        2,
        desc::VERSION_3,
        desc::V3_SIZE as u8,
    ]);
    let entries: [&mut FwsecLayout; 2] = [&mut debug, &mut prod];
    for (i, e) in entries.into_iter().enumerate() {
        let at = table + usize::from(table::HEADER_SIZE) + i * usize::from(table::ENTRY_SIZE);
        e.table_entry = at;
        e.desc_ptr = ptr(&layout, e.desc);
        rom[at] = e.app_id;
        rom[at + 1] = e.target_id;
        put32(&mut rom, at + 2, e.desc_ptr);
    }
    layout.fwsec_debug = debug;
    layout.fwsec_prod = prod;

    fix_pcat_checksum(&mut rom, &layout);
    if let Some(b) = config.broken {
        crate::broken::apply(b, &mut rom, &layout);
    }
    (rom, layout)
}
