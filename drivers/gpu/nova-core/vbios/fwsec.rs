// SPDX-License-Identifier: GPL-2.0
//! The FWSEC ucode found through the falcon ucode table: its code, data and signatures, its
//! application interface and DMEM mapper, and where the FRTS/SB command goes
//! (facts sheet §4.4–4.5, §5.5).
//!
//! Placement (nova-core `vbios.rs` L925–977; nouveau `nvkm/subdev/gsp/fwsec.c` L223–258):
//! the ucode starts `vDesc.SIZE` bytes after the descriptor and is `IMEMLoadSize +
//! DMEMLoadSize` bytes long; a V3 descriptor is followed by `SignatureCount` 384-byte
//! signatures. The DMEM image is at [`FalconUcodeDesc::dmem_offset`] in the ucode.
//!
//! Application interface, at DMEM image + `InterfaceOffset` (nova-core `firmware/fwsec.rs`
//! L53–67; nouveau `fwsec.c` L30–44, L89–128): header 0x00 version (must be 1), 0x01 header
//! size, 0x02 entry size, 0x03 entry count; entries (packed) `u32` id, `u32` DMEM base. Entry
//! id 4 is the DMEM mapper, at DMEM image + its base; its v3 layout (64 bytes, nouveau
//! `fwsec.c` L46–68) has `cmd_in_buffer_offset` at 0x08 and `init_cmd` at 0x2C. The command
//! buffer, at DMEM image + `cmd_in_buffer_offset`, receives the 44-byte FRTS command
//! (nouveau `fwsec.c` L70–87, L106–120): `read_vbios` {ver 1, hdr 24, `u64` addr 0, size 0,
//! flags 2} then `frts_region` {ver 1, hdr 20, addr >> 12, size >> 12, type 2 = FB}.
//! `init_cmd` is 0x15 for FRTS and 0x19 for SB; SB leaves `frts_region` as it is.
//!
//! Signature patching: the chosen signature is copied to DMEM image + `PKCDataOffset`, which
//! the BROM is also given (nouveau `fwsec.c` L244–253).

use crate::firmware::error::{FwError, FwErrorKind, FwResult};
use crate::firmware::reader::{copy_bytes, to_u64, to_usize, Reader};
use crate::firmware::signature::{
    fuse_version_register, fwsec_signature_index, RSA3K_SIGNATURE_SIZE,
};

use super::falcon::FalconUcodeDesc;

/// App-interface id of the DMEM mapper.
pub const APPIF_ID_DMEMMAPPER: u32 = 4;
/// Size of the DMEM mapper v3 structure.
pub const DMEMMAPPER_SIZE: usize = 64;
/// Offset of `init_cmd` in the DMEM mapper.
pub const DMEMMAPPER_INIT_CMD: usize = 0x2c;
/// Offset of `cmd_in_buffer_offset` in the DMEM mapper.
pub const DMEMMAPPER_CMD_IN_BUFFER_OFFSET: usize = 0x08;
/// Size of the FRTS command (`read_vbios` + `frts_region`).
pub const FRTS_CMD_SIZE: usize = 44;
/// `init_cmd` value: carve out WPR2 and copy the verified VBIOS data into it.
pub const CMD_FRTS: u32 = 0x15;
/// `init_cmd` value: the SB command (run at unload).
pub const CMD_SB: u32 = 0x19;
/// `frts_region.type` for a region in FB.
pub const FRTS_REGION_TYPE_FB: u32 = 2;

/// The command FWSEC is patched to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FwsecCommand {
    /// Carve out WPR2 with the FRTS region at `frts_addr` (FB offset) of `frts_size` bytes,
    /// both 4 KiB aligned.
    Frts {
        /// FB offset of the FRTS region.
        frts_addr: u64,
        /// Size of the FRTS region.
        frts_size: u64,
    },
    /// The SB command.
    Sb,
}

/// The application-interface table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppIfHeader {
    /// Version (1).
    pub version: u8,
    /// Header size.
    pub header_size: u8,
    /// Entry size (at least 8).
    pub entry_size: u8,
    /// Number of entries.
    pub entry_count: u8,
}

/// The DMEM mapper (v3) fields nova-core uses, plus its identification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmemMapper {
    /// `signature`.
    pub signature: u32,
    /// `version`.
    pub version: u16,
    /// `size`.
    pub size: u16,
    /// Command input buffer, DMEM-image relative.
    pub cmd_in_buffer_offset: u32,
    /// Its size.
    pub cmd_in_buffer_size: u32,
    /// Command output buffer, DMEM-image relative.
    pub cmd_out_buffer_offset: u32,
    /// Its size.
    pub cmd_out_buffer_size: u32,
    /// `init_cmd` as found in the image.
    pub init_cmd: u32,
}

/// Where a falcon DMA load copies from and to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadTarget {
    /// Offset in the ucode.
    pub src: u32,
    /// Offset in falcon IMEM or DMEM.
    pub dst: u32,
    /// Length in bytes.
    pub len: u32,
}

/// The FWSEC ucode, located and checked.
#[derive(Clone, Copy, Debug)]
pub struct Fwsec<'a> {
    /// The descriptor.
    pub desc: FalconUcodeDesc,
    /// PROM offset of the descriptor.
    pub desc_offset: usize,
    /// The ucode (`IMEMLoadSize + DMEMLoadSize` bytes); `ucode.base()` is its PROM offset.
    pub ucode: Reader<'a>,
    /// The DMEM image within the ucode.
    pub dmem: Reader<'a>,
    /// The signatures after a V3 descriptor (empty for V2).
    pub signatures: Reader<'a>,
    /// The app-interface header.
    pub appif: AppIfHeader,
    /// DMEM-image offset of the DMEM mapper.
    pub dmem_mapper_offset: u32,
    /// The DMEM mapper.
    pub dmem_mapper: DmemMapper,
}

impl<'a> Fwsec<'a> {
    /// Locates everything from the descriptor at the start of `at` (which runs to the end of
    /// the descriptor's container, e.g. the FWSEC section).
    pub fn parse(at: Reader<'a>) -> FwResult<Self> {
        let desc = FalconUcodeDesc::parse(&at)?;
        let size_at = at.abs(2);
        let start = to_usize(desc.size().into(), "vDesc size", size_at)?;
        let len = u64::from(desc.imem_load_size()) + u64::from(desc.dmem_load_size());
        let ucode = at.region(to_u64(start), len, "FWSEC ucode", size_at)?;

        let sig_len = usize::from(desc.signature_count())
            .checked_mul(RSA3K_SIGNATURE_SIZE)
            .ok_or(at.error(FwErrorKind::Overflow { what: "signatures" }, 0))?;
        let signatures = at.region(
            to_u64(desc.struct_size()),
            to_u64(sig_len),
            "FWSEC signatures",
            at.abs(0x27),
        )?;

        let dmem_field = match desc {
            FalconUcodeDesc::V2(_) => at.abs(0x28),
            FalconUcodeDesc::V3(_) => at.abs(0x20),
        };
        let dmem = ucode.region(
            desc.dmem_offset().into(),
            desc.dmem_load_size().into(),
            "FWSEC DMEM image",
            dmem_field,
        )?;

        if let FalconUcodeDesc::V3(d) = desc {
            if d.signature_count != 0 {
                dmem.region(
                    d.pkc_data_offset.into(),
                    to_u64(RSA3K_SIGNATURE_SIZE),
                    "FWSEC signature patch location (PKCDataOffset)",
                    at.abs(0x08),
                )?;
            }
        }

        // Application interface.
        let if_field = match desc {
            FalconUcodeDesc::V2(_) => at.abs(0x10),
            FalconUcodeDesc::V3(_) => at.abs(0x0c),
        };
        let ifr = dmem.region(
            desc.interface_offset().into(),
            to_u64(dmem.len()).saturating_sub(desc.interface_offset().into()),
            "FWSEC application interface",
            if_field,
        )?;
        let appif = AppIfHeader {
            version: ifr.u8(0, "app interface version")?,
            header_size: ifr.u8(1, "app interface header size")?,
            entry_size: ifr.u8(2, "app interface entry size")?,
            entry_count: ifr.u8(3, "app interface entry count")?,
        };
        if appif.version != 1 {
            return Err(ifr.error(
                FwErrorKind::UnsupportedVersion {
                    what: "FWSEC application interface",
                    found: appif.version.into(),
                },
                0,
            ));
        }
        if appif.entry_size < 8 {
            return Err(ifr.error(
                FwErrorKind::BadValue {
                    what: "app interface entry size",
                    value: appif.entry_size.into(),
                },
                2,
            ));
        }
        let table_len = usize::from(appif.entry_count) * usize::from(appif.entry_size);
        ifr.region(
            u64::from(appif.header_size),
            to_u64(table_len),
            "app interface entries",
            ifr.abs(3),
        )?;
        let mut mapper_base = None;
        for i in 0..usize::from(appif.entry_count) {
            let eo = usize::from(appif.header_size)
                .saturating_add(i.saturating_mul(usize::from(appif.entry_size)));
            let id = ifr.u32(eo, "app interface entry id")?;
            if id == APPIF_ID_DMEMMAPPER {
                mapper_base = Some((eo, ifr.u32(eo.saturating_add(4), "app DMEM base")?));
                break;
            }
        }
        let (entry_off, dmem_mapper_offset) = mapper_base.ok_or(ifr.error(
            FwErrorKind::NotFound {
                what: "DMEM mapper entry in the FWSEC application interface",
            },
            0,
        ))?;
        let m = dmem.region(
            dmem_mapper_offset.into(),
            to_u64(DMEMMAPPER_SIZE),
            "FWSEC DMEM mapper",
            ifr.abs(entry_off.saturating_add(4)),
        )?;
        let dmem_mapper = DmemMapper {
            signature: m.u32(0, "DMEM mapper signature")?,
            version: m.u16(4, "DMEM mapper version")?,
            size: m.u16(6, "DMEM mapper size")?,
            cmd_in_buffer_offset: m.u32(0x08, "cmd_in_buffer_offset")?,
            cmd_in_buffer_size: m.u32(0x0c, "cmd_in_buffer_size")?,
            cmd_out_buffer_offset: m.u32(0x10, "cmd_out_buffer_offset")?,
            cmd_out_buffer_size: m.u32(0x14, "cmd_out_buffer_size")?,
            init_cmd: m.u32(DMEMMAPPER_INIT_CMD, "init_cmd")?,
        };
        dmem.region(
            dmem_mapper.cmd_in_buffer_offset.into(),
            to_u64(FRTS_CMD_SIZE),
            "FWSEC command buffer",
            m.abs(DMEMMAPPER_CMD_IN_BUFFER_OFFSET),
        )?;
        Ok(Self {
            desc,
            desc_offset: at.base(),
            ucode,
            dmem,
            signatures,
            appif,
            dmem_mapper_offset,
            dmem_mapper,
        })
    }

    /// The ucode bytes, to be copied into a DMA buffer and patched with [`Fwsec::patch`].
    pub fn ucode_bytes(&self) -> &'a [u8] {
        self.ucode.data()
    }

    /// Ucode offset of the DMEM image.
    pub fn dmem_offset(&self) -> usize {
        self.dmem.base().saturating_sub(self.ucode.base())
    }

    /// Ucode offset of the DMEM mapper's `init_cmd` field.
    pub fn init_cmd_offset(&self) -> usize {
        self.dmem_offset()
            .saturating_add(usize::try_from(self.dmem_mapper_offset).unwrap_or(usize::MAX))
            .saturating_add(DMEMMAPPER_INIT_CMD)
    }

    /// Ucode offset of the FRTS command (the DMEM mapper's command input buffer).
    pub fn frts_cmd_offset(&self) -> usize {
        self.dmem_offset().saturating_add(
            usize::try_from(self.dmem_mapper.cmd_in_buffer_offset).unwrap_or(usize::MAX),
        )
    }

    /// Ucode offset the signature is patched to (V3 only).
    pub fn signature_patch_offset(&self) -> Option<usize> {
        match self.desc {
            FalconUcodeDesc::V3(d) if d.signature_count != 0 => Some(
                self.dmem_offset()
                    .saturating_add(usize::try_from(d.pkc_data_offset).unwrap_or(usize::MAX)),
            ),
            _ => None,
        }
    }

    /// Signature `index` (V3).
    pub fn signature(&self, index: u32) -> FwResult<&'a [u8]> {
        let off = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(RSA3K_SIGNATURE_SIZE))
            .ok_or(
                self.signatures
                    .error(FwErrorKind::Overflow { what: "signature" }, 0),
            )?;
        self.signatures
            .bytes(off, RSA3K_SIGNATURE_SIZE, "FWSEC signature")
    }

    /// The signature for the raw fuse register value `fuse_reg` (read from
    /// [`Fwsec::fuse_register`]), with its index (V3 only).
    pub fn select_signature(&self, fuse_reg: u32) -> FwResult<(u32, &'a [u8])> {
        let FalconUcodeDesc::V3(d) = self.desc else {
            return Err(FwError::new(
                FwErrorKind::NotFound {
                    what: "signatures (V2 FWSEC descriptors carry none)",
                },
                self.desc_offset,
            ));
        };
        let index = fwsec_signature_index(d.signature_versions, d.signature_count, fuse_reg)
            .map_err(|k| FwError::new(k, self.desc_offset.saturating_add(0x28)))?;
        Ok((index, self.signature(index)?))
    }

    /// BAR0 address of the fuse register choosing the signature (V3: from `EngineIdMask`
    /// and `UcodeId`).
    pub fn fuse_register(&self) -> FwResult<u32> {
        let bad = |value: u64| {
            FwError::new(
                FwErrorKind::BadValue {
                    what: "FWSEC EngineIdMask/UcodeId",
                    value,
                },
                self.desc_offset.saturating_add(0x24),
            )
        };
        match self.desc {
            FalconUcodeDesc::V3(d) => {
                fuse_version_register(d.engine_id_mask.into(), d.ucode_id.into()).ok_or(bad(
                    (u64::from(d.engine_id_mask) << 8) | u64::from(d.ucode_id),
                ))
            }
            FalconUcodeDesc::V2(_) => Err(bad(0)),
        }
    }

    /// DMA load targets (V3): secure IMEM from ucode 0 to `IMEMPhysBase`, DMEM from
    /// `IMEMLoadSize` to `DMEMPhysBase`; boot vector 0 (facts sheet §4.4). `None` for V2,
    /// whose secure-IMEM placement the two open drivers compute differently.
    pub fn load_targets(&self) -> Option<(LoadTarget, LoadTarget)> {
        match self.desc {
            FalconUcodeDesc::V3(d) => Some((
                LoadTarget {
                    src: 0,
                    dst: d.imem_phys_base,
                    len: d.imem_load_size,
                },
                LoadTarget {
                    src: d.imem_load_size,
                    dst: d.dmem_phys_base,
                    len: d.dmem_load_size,
                },
            )),
            FalconUcodeDesc::V2(_) => None,
        }
    }

    /// Patches `ucode`, a mutable copy of [`Fwsec::ucode_bytes`]: sets `init_cmd`, writes the
    /// command buffer for `cmd`, and, if `fuse_reg` is given (V3), copies in the signature it
    /// selects. Returns the signature index used.
    pub fn patch(
        &self,
        ucode: &mut [u8],
        cmd: FwsecCommand,
        fuse_reg: Option<u32>,
    ) -> FwResult<Option<u32>> {
        if ucode.len() != self.ucode.len() {
            return Err(FwError::new(
                FwErrorKind::Truncated {
                    what: "FWSEC ucode copy (must match the ucode length)",
                    need: self.ucode.len(),
                    have: ucode.len(),
                },
                0,
            ));
        }
        let init_cmd = match cmd {
            FwsecCommand::Frts { .. } => CMD_FRTS,
            FwsecCommand::Sb => CMD_SB,
        };
        put(ucode, self.init_cmd_offset(), &init_cmd.to_le_bytes())?;
        let c = self.frts_cmd_offset();
        // read_vbios: ver, hdr (its size, 24), addr, size, flags.
        put(ucode, c, &1u32.to_le_bytes())?;
        put(ucode, c.saturating_add(4), &24u32.to_le_bytes())?;
        put(ucode, c.saturating_add(8), &0u64.to_le_bytes())?;
        put(ucode, c.saturating_add(16), &0u32.to_le_bytes())?;
        put(ucode, c.saturating_add(20), &2u32.to_le_bytes())?;
        if let FwsecCommand::Frts {
            frts_addr,
            frts_size,
        } = cmd
        {
            let page = |v: u64, what: &'static str| -> FwResult<u32> {
                if v & 0xfff != 0 {
                    return Err(FwError::new(
                        FwErrorKind::Misaligned {
                            what,
                            value: v,
                            align: 4096,
                        },
                        c.saturating_add(24),
                    ));
                }
                u32::try_from(v >> 12).map_err(|_| {
                    FwError::new(
                        FwErrorKind::BadValue { what, value: v },
                        c.saturating_add(24),
                    )
                })
            };
            let addr = page(frts_addr, "FRTS address")?;
            let size = page(frts_size, "FRTS size")?;
            let r = c.saturating_add(24);
            put(ucode, r, &1u32.to_le_bytes())?;
            put(ucode, r.saturating_add(4), &20u32.to_le_bytes())?;
            put(ucode, r.saturating_add(8), &addr.to_le_bytes())?;
            put(ucode, r.saturating_add(12), &size.to_le_bytes())?;
            put(
                ucode,
                r.saturating_add(16),
                &FRTS_REGION_TYPE_FB.to_le_bytes(),
            )?;
        }
        let Some(fuse_reg) = fuse_reg else {
            return Ok(None);
        };
        let (index, sig) = self.select_signature(fuse_reg)?;
        let at = self.signature_patch_offset().ok_or(FwError::new(
            FwErrorKind::NotFound {
                what: "FWSEC signature patch location",
            },
            self.desc_offset,
        ))?;
        put(ucode, at, sig)?;
        Ok(Some(index))
    }
}

/// Copies `bytes` into `buf` at `off`, or fails naming `off`.
fn put(buf: &mut [u8], off: usize, bytes: &[u8]) -> FwResult<()> {
    let have = buf.len();
    let dst = off
        .checked_add(bytes.len())
        .and_then(|end| buf.get_mut(off..end))
        .ok_or(FwError::new(
            FwErrorKind::Truncated {
                what: "FWSEC ucode copy",
                need: off.saturating_add(bytes.len()),
                have,
            },
            off,
        ))?;
    copy_bytes(dst, bytes);
    Ok(())
}
