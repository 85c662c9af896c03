// SPDX-License-Identifier: GPL-2.0
//! Choosing which of a heavy-secure (HS) ucode's signatures to patch in, from the ucode
//! revision fused into the chip (facts sheet §5.3, §5.5).
//!
//! The fuse value is an input: the caller reads the register named by
//! [`fuse_version_register`] and passes the raw value. Two rules exist:
//!
//! - Booter, the scrubber and other `nvfw_hs_header_v2` files ([`booter_signature_index`]):
//!   the file's metadata holds `fuse_ver`, the newest revision it is signed for, and the
//!   signatures are stored newest first. With `v` the 1-based position of the fuse
//!   register's highest set bit, the index is `fuse_ver - v`; a zero register (nothing fused)
//!   selects the last signature. nouveau `nvkm/falcon/ga100.c` L31–68
//!   (`ga100_flcn_fw_signature`).
//! - FWSEC from the VBIOS ([`fwsec_signature_index`]): the descriptor's `SignatureVersions`
//!   has one bit per included signature, lowest revision first. Bit `v` (same `v`, 0 when
//!   nothing is fused) must be set, and the index is the number of set bits below it.
//!   nouveau `nvkm/subdev/gsp/ga102.c` L94–126 (`ga102_gsp_fwsec_signature`).

use super::error::FwErrorKind;

/// Size of one RSA-3K (BCRT 3.0) signature, as used by FWSEC and by the GA10x+ Booter.
pub const RSA3K_SIGNATURE_SIZE: usize = 384;

/// Number of ucode-revision fuse registers per engine (ucode ids 1 to 16).
pub const FUSE_UCODE_VERSION_REGS: u32 = 16;

/// BAR0 address of the register holding the fused revision of ucode `ucode_id` (1-based) on
/// the engine selected by `engine_id_mask`: SEC2 (bit 0), NVDEC (bit 2) or GSP (bit 10),
/// tested in that order. `None` for another engine or an id outside 1..=16.
///
/// `NV_FUSE_OPT_FPF_{SEC2,NVDEC,GSP}_UCODE1_VERSION(i)` at 0x824140, 0x824100 and 0x8241C0
/// plus `4 * i` (facts sheet §5.3; nouveau `nvkm/falcon/ga100.c` L41–52).
pub fn fuse_version_register(engine_id_mask: u32, ucode_id: u32) -> Option<u32> {
    let index = ucode_id.checked_sub(1)?;
    if index >= FUSE_UCODE_VERSION_REGS {
        return None;
    }
    let base = if engine_id_mask & 0x0001 != 0 {
        0x0082_4140
    } else if engine_id_mask & 0x0004 != 0 {
        0x0082_4100
    } else if engine_id_mask & 0x0400 != 0 {
        0x0082_41c0
    } else {
        return None;
    };
    Some(base + index * 4)
}

/// 1-based position of the highest set bit of `value` (0 for 0), like the kernel's `fls()`.
pub const fn highest_bit(value: u32) -> u32 {
    u32::BITS - value.leading_zeros()
}

/// Index of the Booter signature to use (see the module docs), given the file's `fuse_ver`
/// metadata, its signature count and the raw fuse register value.
pub fn booter_signature_index(
    fuse_ver: u32,
    count: u32,
    fuse_reg: u32,
) -> Result<u32, FwErrorKind> {
    let err = FwErrorKind::NoSignatureForFuse {
        fuse_reg,
        sig_versions: fuse_ver,
        count,
    };
    let index = if fuse_reg == 0 {
        count.checked_sub(1).ok_or(err)?
    } else {
        fuse_ver.checked_sub(highest_bit(fuse_reg)).ok_or(err)?
    };
    if index >= count {
        return Err(err);
    }
    Ok(index)
}

/// Index of the FWSEC signature to use (see the module docs), given the descriptor's
/// `SignatureVersions` bit mask, its `SignatureCount` and the raw fuse register value.
pub fn fwsec_signature_index(
    sig_versions: u16,
    count: u8,
    fuse_reg: u32,
) -> Result<u32, FwErrorKind> {
    let err = FwErrorKind::NoSignatureForFuse {
        fuse_reg,
        sig_versions: sig_versions.into(),
        count: count.into(),
    };
    let versions = u32::from(sig_versions);
    let bit = highest_bit(fuse_reg);
    let wanted = 1u32.checked_shl(bit).ok_or(err)?;
    if versions & wanted == 0 {
        return Err(err);
    }
    let index = (versions & (wanted - 1)).count_ones();
    if index >= u32::from(count) {
        return Err(err);
    }
    Ok(index)
}
