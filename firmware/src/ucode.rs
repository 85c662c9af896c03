// SPDX-License-Identifier: GPL-2.0
//! One falcon ucode as the FWSEC image stores it (docs/facts/ga102.md §4.4, §4.5): `FalconUCodeDescV3`, the
//! signatures, then the IMEM image and the DMEM image. The code and data bytes are synthetic;
//! the DMEM carries the real application-interface table and DMEM mapper layout.

use crate::format::{appif, desc, dmap, ENGINE_ID_MASK_GSP, SIGNATURE_SIZE, TARGET_ID};
use crate::layout::FwsecLayout;
use crate::prng::Prng;
use crate::{put16, put32};

/// DMEM placement (all DMEM offsets; our choice, the formats only say "an offset").
const DMEM_PKC: usize = 0x100;
const DMEM_INTERFACE: usize = 0x300;
const DMEM_DEVINIT: usize = 0x340;
const DMEM_MAPPER: usize = 0x400;
const DMEM_CMD_IN: usize = 0x500;
const DMEM_CMD_IN_SIZE: usize = 0x100;
const DMEM_CMD_OUT: usize = 0x600;
const DMEM_CMD_OUT_SIZE: usize = 0x100;
const DMEM_NVF: usize = 0x700;
const DMEM_NVF_SIZE: usize = 0x100;
/// The DMEM must at least hold everything above.
const DMEM_MIN: usize = DMEM_NVF + DMEM_NVF_SIZE;

/// A synthetic build time stamp for the DMEM mapper (no meaning).
const BUILD_TIME_STAMP: u32 = 0x6400_0000;

/// What to build.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UcodeSpec {
    /// Falcon ucode table application ID.
    pub app_id: u8,
    /// One letter that ends up in the recognisable headers ('P' production, 'D' debug).
    pub tag: u8,
    /// IMEMLoadSize (multiple of 256).
    pub imem_size: usize,
    /// DMEMLoadSize (multiple of 256, at least `DMEM_MIN`).
    pub dmem_size: usize,
    /// SignatureVersions; SignatureCount is its population count.
    pub signature_versions: u16,
    /// UcodeId.
    pub ucode_id: u8,
    /// Seed for the synthetic bytes.
    pub seed: u64,
}

impl UcodeSpec {
    fn signature_count(&self) -> usize {
        self.signature_versions.count_ones() as usize
    }

    /// vDesc SIZE: the descriptor and its signatures (docs/facts/ga102.md §4.4; OG fwsec takes
    /// `descSize - 44` as the signatures' total size).
    fn desc_size(&self) -> usize {
        desc::V3_SIZE + self.signature_count() * SIGNATURE_SIZE
    }

    /// Bytes the ucode occupies in the ROM.
    pub(crate) fn len(&self) -> usize {
        self.desc_size() + self.imem_size + self.dmem_size
    }
}

/// The recognisable 16-byte header at the start of the IMEM and DMEM images.
fn banner(what: &[u8; 4], tag: u8) -> [u8; 16] {
    let mut b = *b"NOVA-VGPU-....-?";
    b[10..14].copy_from_slice(what);
    b[15] = tag;
    b
}

/// Writes the ucode at `rom[at..at + spec.len()]` and returns its layout (table entry fields
/// are left for the caller: `table_entry` 0, `desc_ptr` 0).
pub(crate) fn write(rom: &mut [u8], at: usize, spec: &UcodeSpec) -> FwsecLayout {
    assert!(
        spec.dmem_size >= DMEM_MIN
            && spec.imem_size.is_multiple_of(256)
            && spec.dmem_size.is_multiple_of(256)
    );
    let desc_size = spec.desc_size();
    let count = spec.signature_count();
    let imem = at + desc_size;
    let dmem = imem + spec.imem_size;

    // FalconUCodeDescV3 (docs/facts/ga102.md §4.4).
    let d = &mut rom[at..at + desc::V3_SIZE];
    d.fill(0);
    let vdesc = desc::FLAGS_VERSION_AVAILABLE
        | u32::from(desc::VERSION_3) << desc::VERSION_SHIFT
        | (desc_size as u32) << desc::SIZE_SHIFT;
    put32(d, 0, vdesc);
    put32(
        d,
        desc::STORED_SIZE,
        (spec.imem_size + spec.dmem_size) as u32,
    );
    put32(d, desc::PKC_DATA_OFFSET, DMEM_PKC as u32);
    put32(d, desc::INTERFACE_OFFSET, DMEM_INTERFACE as u32);
    put32(d, desc::IMEM_PHYS_BASE, 0);
    put32(d, desc::IMEM_LOAD_SIZE, spec.imem_size as u32);
    put32(d, desc::IMEM_VIRT_BASE, 0);
    put32(d, desc::DMEM_PHYS_BASE, 0);
    put32(d, desc::DMEM_LOAD_SIZE, spec.dmem_size as u32);
    put16(d, desc::ENGINE_ID_MASK, ENGINE_ID_MASK_GSP);
    d[desc::UCODE_ID] = spec.ucode_id;
    d[desc::SIGNATURE_COUNT] = count as u8;
    put16(d, desc::SIGNATURE_VERSIONS, spec.signature_versions);

    // Signatures: synthetic 384-byte blobs, each with a recognisable head.
    let sigs = at + desc::V3_SIZE;
    for i in 0..count {
        let s = &mut rom[sigs + i * SIGNATURE_SIZE..sigs + (i + 1) * SIGNATURE_SIZE];
        Prng::new(spec.seed ^ (0x5160 + i as u64)).fill(s);
        s[..8].copy_from_slice(&[b'N', b'V', b'S', b'I', b'G', spec.tag, i as u8, 0]);
    }

    // IMEM: synthetic code.
    let code = &mut rom[imem..dmem];
    Prng::new(spec.seed ^ 0x1337).fill(code);
    code[..16].copy_from_slice(&banner(b"IMEM", spec.tag));

    // DMEM: synthetic data with the documented structures at their offsets.
    let data = &mut rom[dmem..dmem + spec.dmem_size];
    Prng::new(spec.seed ^ 0xDA7A).fill(data);
    data[..16].copy_from_slice(&banner(b"DMEM", spec.tag));
    // The signature slot a driver patches (docs/facts/ga102.md §5.5); empty in the image.
    data[DMEM_PKC..DMEM_PKC + SIGNATURE_SIZE].fill(0);
    // Application-interface table v1 (docs/facts/ga102.md §4.5): header, then DEVINIT and DMEMMAPPER entries.
    let t = DMEM_INTERFACE;
    data[t..t + 4].copy_from_slice(&[appif::VERSION, appif::HEADER_SIZE, appif::ENTRY_SIZE, 2]);
    let e = t + usize::from(appif::HEADER_SIZE);
    put32(data, e, appif::ID_DEVINIT);
    put32(data, e + 4, DMEM_DEVINIT as u32);
    put32(data, e + 8, appif::ID_DMEMMAPPER);
    put32(data, e + 12, DMEM_MAPPER as u32);
    // The DEVINIT engine interface's layout is not documented: its bytes stay synthetic.
    // DMEM mapper v3 (docs/facts/ga102.md §4.5).
    let m = &mut data[DMEM_MAPPER..DMEM_MAPPER + usize::from(dmap::SIZE)];
    m.fill(0);
    m[..4].copy_from_slice(&dmap::SIGNATURE);
    put16(m, 4, dmap::VERSION);
    put16(m, 6, dmap::SIZE);
    put32(m, dmap::CMD_IN_BUFFER_OFFSET, DMEM_CMD_IN as u32);
    put32(m, dmap::CMD_IN_BUFFER_SIZE, DMEM_CMD_IN_SIZE as u32);
    put32(m, dmap::CMD_OUT_BUFFER_OFFSET, DMEM_CMD_OUT as u32);
    put32(m, dmap::CMD_OUT_BUFFER_SIZE, DMEM_CMD_OUT_SIZE as u32);
    put32(m, dmap::NVF_IMG_DATA_BUFFER_OFFSET, DMEM_NVF as u32);
    put32(m, dmap::NVF_IMG_DATA_BUFFER_SIZE, DMEM_NVF_SIZE as u32);
    put32(m, dmap::UCODE_BUILD_TIME_STAMP, BUILD_TIME_STAMP);
    put32(m, dmap::INIT_CMD, 0);
    put32(
        m,
        dmap::UCODE_CMD_MASK0,
        (1 << dmap::CMD_FRTS) | (1 << dmap::CMD_SB),
    );
    // Command buffers start empty.
    data[DMEM_CMD_IN..DMEM_CMD_IN + DMEM_CMD_IN_SIZE].fill(0);
    data[DMEM_CMD_OUT..DMEM_CMD_OUT + DMEM_CMD_OUT_SIZE].fill(0);

    FwsecLayout {
        app_id: spec.app_id,
        target_id: TARGET_ID,
        table_entry: 0,
        desc_ptr: 0,
        desc: at,
        desc_size,
        signatures: sigs,
        signature_count: count,
        signature_versions: spec.signature_versions,
        imem,
        imem_size: spec.imem_size,
        dmem,
        dmem_size: spec.dmem_size,
        pkc_data_offset: DMEM_PKC,
        interface_offset: DMEM_INTERFACE,
        dmem_mapper_offset: DMEM_MAPPER,
        devinit_offset: DMEM_DEVINIT,
        cmd_in_offset: DMEM_CMD_IN,
        cmd_in_size: DMEM_CMD_IN_SIZE,
        cmd_out_offset: DMEM_CMD_OUT,
        cmd_out_size: DMEM_CMD_OUT_SIZE,
        engine_id_mask: ENGINE_ID_MASK_GSP,
        ucode_id: spec.ucode_id,
    }
}
