// SPDX-License-Identifier: GPL-2.0
//! Heavy-secure falcon ucode files: `nvfw_bin_hdr` + `nvfw_hs_header_v2` +
//! `nvfw_hs_load_header_v2` (`booter_load-*.bin`, `booter_unload-*.bin`, `scrubber-*.bin`).
//!
//! Layouts: nouveau `include/nvfw/hs.h` L20–30 (`nvfw_hs_header_v2`) and L46–58
//! (`nvfw_hs_load_header_v2`); how the fields are used: nouveau `nvkm/subdev/gsp/ga102.c`
//! L41–92 (`ga102_gsp_booter_ctor`) and `nvkm/falcon/fw.c` L177–192; facts sheet §6.3–6.4.
//!
//! `nvfw_hs_header_v2` (36 bytes at the bin header's `header_offset`). Several of its fields
//! are *file offsets of a `u32`* rather than values:
//!
//! | Off  | Field              | Meaning                                                    |
//! |------|--------------------|------------------------------------------------------------|
//! | 0x00 | `sig_prod_offset`  | file offset of the production signatures                   |
//! | 0x04 | `sig_prod_size`    | total bytes of all production signatures                   |
//! | 0x08 | `patch_loc`        | file offset of a `u32`: ucode offset the signature goes to |
//! | 0x0C | `patch_sig`        | file offset of a `u32`: added to `sig_prod_offset`         |
//! | 0x10 | `meta_data_offset` | file offset of `fuse_ver`, `engine_id`, `ucode_id` (u32s)  |
//! | 0x14 | `meta_data_size`   | 12                                                         |
//! | 0x18 | `num_sig`          | file offset of a `u32`: number of signatures               |
//! | 0x1C | `header_offset`    | file offset of the load header                             |
//! | 0x20 | `header_size`      | its size                                                   |
//!
//! `nvfw_hs_load_header_v2`: `os_code_offset`, `os_code_size`, `os_data_offset`,
//! `os_data_size`, `num_apps`, then `num_apps` × {`offset`, `size`, `data_offset`,
//! `data_size`}; all offsets are relative to the ucode (the bin header's payload).
//!
//! Invariants checked (all hold for every r535/r570 file): the signatures lie in the file and
//! divide evenly; every load-header region lies in the ucode; the signature patch location
//! lies inside the DMEM image `[os_data_offset, +os_data_size)`, so the BROM's PKC offset
//! `patch_loc - os_data_offset` is a valid DMEM offset.

use super::bin_hdr::BinFile;
use super::error::{FwError, FwErrorKind, FwResult};
use super::reader::{copy_bytes, to_u64, to_usize, Reader};
use super::signature::{booter_signature_index, fuse_version_register};

/// Size of `nvfw_hs_header_v2` in bytes.
pub const HS_HEADER_V2_SIZE: usize = 36;
/// Size of `nvfw_hs_load_header_v2` without its app table.
pub const HS_LOAD_HEADER_V2_SIZE: usize = 20;
/// Size of one app entry of `nvfw_hs_load_header_v2`.
pub const HS_LOAD_APP_V2_SIZE: usize = 16;
/// Size of the HS metadata (`fuse_ver`, `engine_id`, `ucode_id`).
pub const HS_META_SIZE: usize = 12;

/// `nvfw_hs_header_v2`, raw field values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsHeaderV2 {
    /// File offset of the production signatures.
    pub sig_prod_offset: u32,
    /// Total size of the production signatures.
    pub sig_prod_size: u32,
    /// File offset of the `u32` patch location.
    pub patch_loc: u32,
    /// File offset of the `u32` signature base adjustment.
    pub patch_sig: u32,
    /// File offset of the metadata.
    pub meta_data_offset: u32,
    /// Size of the metadata.
    pub meta_data_size: u32,
    /// File offset of the `u32` signature count.
    pub num_sig: u32,
    /// File offset of the load header.
    pub header_offset: u32,
    /// Size of the load header.
    pub header_size: u32,
}

impl HsHeaderV2 {
    /// Parses the header at the start of `r`.
    pub fn parse(r: &Reader<'_>) -> FwResult<Self> {
        r.bytes(0, HS_HEADER_V2_SIZE, "nvfw_hs_header_v2")?;
        let mut c = r.cursor(0);
        Ok(Self {
            sig_prod_offset: c.u32("sig_prod_offset")?,
            sig_prod_size: c.u32("sig_prod_size")?,
            patch_loc: c.u32("patch_loc")?,
            patch_sig: c.u32("patch_sig")?,
            meta_data_offset: c.u32("meta_data_offset")?,
            meta_data_size: c.u32("meta_data_size")?,
            num_sig: c.u32("num_sig")?,
            header_offset: c.u32("header_offset")?,
            header_size: c.u32("header_size")?,
        })
    }
}

/// One app of `nvfw_hs_load_header_v2` (ucode-relative offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsApp {
    /// Code offset in the ucode.
    pub offset: u32,
    /// Code size.
    pub size: u32,
    /// Data offset in the ucode.
    pub data_offset: u32,
    /// Data size.
    pub data_size: u32,
}

/// `nvfw_hs_load_header_v2` without its app table (see [`HsFirmware::app`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsLoadHeaderV2 {
    /// Non-secure OS code offset in the ucode.
    pub os_code_offset: u32,
    /// Non-secure OS code size.
    pub os_code_size: u32,
    /// DMEM image offset in the ucode.
    pub os_data_offset: u32,
    /// DMEM image size.
    pub os_data_size: u32,
    /// Number of apps (at least 1).
    pub num_apps: u32,
}

/// The HS metadata block: which fuse register chooses the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsMeta {
    /// Newest fuse revision the file is signed for.
    pub fuse_ver: u32,
    /// Engine mask (bit 0 SEC2, bit 2 NVDEC, bit 10 GSP).
    pub engine_id: u32,
    /// Ucode id (1-based fuse register index).
    pub ucode_id: u32,
}

/// A byte range `[start, start + len)` of the ucode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UcodeRange {
    /// Offset in the ucode.
    pub start: u32,
    /// Length in bytes.
    pub len: u32,
}

/// A parsed, fully bounds-checked HS ucode file.
#[derive(Clone, Copy, Debug)]
pub struct HsFirmware<'a> {
    /// The file header and payload.
    pub bin: BinFile<'a>,
    /// The HS header.
    pub hs: HsHeaderV2,
    /// The load header.
    pub load: HsLoadHeaderV2,
    /// The metadata.
    pub meta: HsMeta,
    /// Ucode offset the chosen signature is copied to (the value at `hs.patch_loc`).
    pub patch_loc: u32,
    /// Signature base adjustment (the value at `hs.patch_sig`).
    pub patch_sig: u32,
    /// Number of signatures (the value at `hs.num_sig`).
    pub num_sig: u32,
    sig_size: usize,
    sigs: Reader<'a>,
    apps: Reader<'a>,
}

impl<'a> HsFirmware<'a> {
    /// Parses an HS ucode file and checks the invariants listed in the module docs.
    pub fn parse(file: &'a [u8]) -> FwResult<Self> {
        let bin = BinFile::parse(file)?;
        let f = bin.file;
        let hs = HsHeaderV2::parse(&bin.header)?;
        let hs_at = |field: usize| bin.header.abs(field);

        // A `u32` at the file offset held by the header field at `field`.
        let indirect = |ptr: u32, what: &'static str, field: usize| -> FwResult<u32> {
            f.region(ptr.into(), 4, what, hs_at(field))?.u32(0, what)
        };
        let patch_loc = indirect(hs.patch_loc, "patch_loc value", 0x08)?;
        let patch_sig = indirect(hs.patch_sig, "patch_sig value", 0x0c)?;
        let num_sig = indirect(hs.num_sig, "num_sig value", 0x18)?;

        // Signatures.
        let sig_start = u64::from(hs.sig_prod_offset) + u64::from(patch_sig);
        let sigs = f.region(
            sig_start,
            hs.sig_prod_size.into(),
            "production signatures",
            hs_at(0x00),
        )?;
        if num_sig == 0 || hs.sig_prod_size % num_sig != 0 || hs.sig_prod_size == 0 {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "signature count (does not divide sig_prod_size)",
                    value: num_sig.into(),
                },
                f.abs(to_usize(hs.num_sig.into(), "num_sig", hs_at(0x18))?),
            ));
        }
        let sig_size = to_usize((hs.sig_prod_size / num_sig).into(), "sig size", hs_at(4))?;

        // Metadata.
        if u64::from(hs.meta_data_size) < to_u64(HS_META_SIZE) {
            return Err(FwError::new(
                FwErrorKind::BadValue {
                    what: "meta_data_size",
                    value: hs.meta_data_size.into(),
                },
                hs_at(0x14),
            ));
        }
        let meta_r = f.region(
            hs.meta_data_offset.into(),
            hs.meta_data_size.into(),
            "HS metadata",
            hs_at(0x10),
        )?;
        let mut c = meta_r.cursor(0);
        let meta = HsMeta {
            fuse_ver: c.u32("fuse_ver")?,
            engine_id: c.u32("engine_id")?,
            ucode_id: c.u32("ucode_id")?,
        };

        // Load header.
        let lh = f.region(
            hs.header_offset.into(),
            hs.header_size.into(),
            "nvfw_hs_load_header_v2",
            hs_at(0x1c),
        )?;
        lh.bytes(0, HS_LOAD_HEADER_V2_SIZE, "nvfw_hs_load_header_v2")?;
        let mut c = lh.cursor(0);
        let load = HsLoadHeaderV2 {
            os_code_offset: c.u32("os_code_offset")?,
            os_code_size: c.u32("os_code_size")?,
            os_data_offset: c.u32("os_data_offset")?,
            os_data_size: c.u32("os_data_size")?,
            num_apps: c.u32("num_apps")?,
        };
        if load.num_apps == 0 {
            return Err(lh.error(
                FwErrorKind::BadValue {
                    what: "num_apps",
                    value: 0,
                },
                0x10,
            ));
        }
        let apps_len = u64::from(load.num_apps) * to_u64(HS_LOAD_APP_V2_SIZE);
        let apps = lh.region(
            to_u64(HS_LOAD_HEADER_V2_SIZE),
            apps_len,
            "nvfw_hs_load_header_v2 apps",
            lh.abs(0x10),
        )?;

        let ucode = bin.data;
        ucode.region(
            load.os_code_offset.into(),
            load.os_code_size.into(),
            "HS OS code",
            lh.abs(0x00),
        )?;
        ucode.region(
            load.os_data_offset.into(),
            load.os_data_size.into(),
            "HS OS data",
            lh.abs(0x08),
        )?;

        let fw = Self {
            bin,
            hs,
            load,
            meta,
            patch_loc,
            patch_sig,
            num_sig,
            sig_size,
            sigs,
            apps,
        };
        for i in 0..load.num_apps {
            let app = fw.app(i)?;
            let at = apps.abs(app_offset(i)?);
            ucode.region(app.offset.into(), app.size.into(), "HS app code", at)?;
            ucode.region(
                app.data_offset.into(),
                app.data_size.into(),
                "HS app data",
                at.saturating_add(8),
            )?;
        }

        // The signature is patched into the DMEM image.
        let patch_at = f.abs(to_usize(hs.patch_loc.into(), "patch_loc", hs_at(8))?);
        let dmem_end = u64::from(load.os_data_offset) + u64::from(load.os_data_size);
        let patch_end = u64::from(patch_loc) + to_u64(sig_size);
        if patch_loc < load.os_data_offset || patch_end > dmem_end {
            return Err(FwError::new(
                FwErrorKind::OutOfBounds {
                    what: "signature patch location (in the DMEM image)",
                    start: patch_loc.into(),
                    len: to_u64(sig_size),
                    limit: dmem_end,
                },
                patch_at,
            ));
        }
        Ok(fw)
    }

    /// The ucode image (the bin header's payload): what is DMA-loaded, after patching.
    pub fn ucode(&self) -> &'a [u8] {
        self.bin.data.data()
    }

    /// File offset of the ucode image.
    pub fn ucode_file_offset(&self) -> usize {
        self.bin.data.base()
    }

    /// Size of one signature in bytes (`sig_prod_size / num_sig`: 384 for RSA-3K on GA100
    /// and later, 16 on TU10x).
    pub fn signature_size(&self) -> usize {
        self.sig_size
    }

    /// All production signatures, back to back.
    pub fn signatures(&self) -> &'a [u8] {
        self.sigs.data()
    }

    /// Signature `index` (0-based).
    pub fn signature(&self, index: u32) -> FwResult<&'a [u8]> {
        let i = to_usize(index.into(), "signature index", self.sigs.base())?;
        let off = i.checked_mul(self.sig_size).ok_or_else(|| {
            self.sigs
                .error(FwErrorKind::Overflow { what: "signature" }, 0)
        })?;
        self.sigs.bytes(off, self.sig_size, "signature")
    }

    /// The signature to patch in for the raw fuse register value `fuse_reg` (read from
    /// [`HsFirmware::fuse_register`]), with its index.
    pub fn select_signature(&self, fuse_reg: u32) -> FwResult<(u32, &'a [u8])> {
        let index = booter_signature_index(self.meta.fuse_ver, self.num_sig, fuse_reg)
            .map_err(|k| FwError::new(k, self.meta_offset()))?;
        Ok((index, self.signature(index)?))
    }

    fn meta_offset(&self) -> usize {
        usize::try_from(self.hs.meta_data_offset).unwrap_or(usize::MAX)
    }

    /// BAR0 address of the fuse register that selects the signature (from `engine_id` and
    /// `ucode_id`), or an error naming the metadata if they select none.
    pub fn fuse_register(&self) -> FwResult<u32> {
        fuse_version_register(self.meta.engine_id, self.meta.ucode_id).ok_or(FwError::new(
            FwErrorKind::BadValue {
                what: "HS engine_id/ucode_id",
                value: (u64::from(self.meta.engine_id) << 32) | u64::from(self.meta.ucode_id),
            },
            self.meta_offset(),
        ))
    }

    /// DMEM offset of the signature, for the BROM `PARAADDR(0)` register:
    /// `patch_loc - os_data_offset` (checked in [`HsFirmware::parse`]).
    pub fn pkc_dmem_offset(&self) -> u32 {
        self.patch_loc.saturating_sub(self.load.os_data_offset)
    }

    /// App `index` of the load header.
    pub fn app(&self, index: u32) -> FwResult<HsApp> {
        let off = app_offset(index).map_err(|e| e.rebase(self.apps.base()))?;
        let r = self.apps.sub(off, HS_LOAD_APP_V2_SIZE, "HS app")?;
        let mut c = r.cursor(0);
        Ok(HsApp {
            offset: c.u32("app offset")?,
            size: c.u32("app size")?,
            data_offset: c.u32("app data_offset")?,
            data_size: c.u32("app data_size")?,
        })
    }

    /// The DMEM image, `[os_data_offset, +os_data_size)` of the ucode.
    pub fn dmem_range(&self) -> UcodeRange {
        UcodeRange {
            start: self.load.os_data_offset,
            len: self.load.os_data_size,
        }
    }

    /// The non-secure OS code, `[os_code_offset, +os_code_size)` of the ucode (loaded only on
    /// TU10x/GA100).
    pub fn os_code_range(&self) -> UcodeRange {
        UcodeRange {
            start: self.load.os_code_offset,
            len: self.load.os_code_size,
        }
    }

    /// Copies the signature chosen for `fuse_reg` into `ucode`, a mutable copy of
    /// [`HsFirmware::ucode`], at the patch location. Returns the signature index used.
    pub fn patch_signature(&self, ucode: &mut [u8], fuse_reg: u32) -> FwResult<u32> {
        let (index, sig) = self.select_signature(fuse_reg)?;
        let start = to_usize(self.patch_loc.into(), "patch_loc", self.ucode_file_offset())?;
        let have = ucode.len();
        let dst = start
            .checked_add(sig.len())
            .and_then(|end| ucode.get_mut(start..end))
            .ok_or(FwError::new(
                FwErrorKind::Truncated {
                    what: "ucode copy for signature patch",
                    need: start.saturating_add(sig.len()),
                    have,
                },
                start,
            ))?;
        copy_bytes(dst, sig);
        Ok(index)
    }
}

fn app_offset(index: u32) -> FwResult<usize> {
    usize::try_from(index)
        .ok()
        .and_then(|i| i.checked_mul(HS_LOAD_APP_V2_SIZE))
        .ok_or(FwError::new(
            FwErrorKind::Overflow {
                what: "HS app offset",
            },
            0,
        ))
}
