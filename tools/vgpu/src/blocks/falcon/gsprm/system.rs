// SPDX-License-Identifier: GPL-2.0
//! The two RPCs GSP-RM needs before it finishes initialising: `GSP_SET_SYSTEM_INFO`
//! (`GspSystemInfo`, docs/facts/ga102.md §9.4) and `SET_REGISTRY` (`PACKED_REGISTRY_TABLE`, docs/facts/ga102.md §9.3).

use super::bytes::{get_u32, get_u64, get_u8};
use super::rpc::status;
use super::Refusal;
use crate::chip::ChipProfile;
use crate::pci::BarBases;

/// `sizeof(GspSystemInfo)` lower bound (OG:abi L324, `ABI_CHECK_SIZE_GE(GspSystemInfo, 920)`).
pub const SYSTEM_INFO_MIN: usize = 920;
/// `pciConfigMirrorBase` (docs/facts/ga102.md §1.4, §9.4).
pub const CONFIG_MIRROR_BASE: u32 = 0x88000;
/// `pciConfigMirrorSize`.
pub const CONFIG_MIRROR_SIZE: u32 = 0x1000;

/// `GspSystemInfo` offsets (docs/facts/ga102.md §9.4).
pub mod sysinfo {
    /// gpuPhysAddr (BAR0).
    pub const GPU_PHYS_ADDR: usize = 0;
    /// gpuPhysFbAddr (BAR1).
    pub const GPU_PHYS_FB_ADDR: usize = 8;
    /// gpuPhysInstAddr (Linux BAR3).
    pub const GPU_PHYS_INST_ADDR: usize = 16;
    /// nvDomainBusDeviceFunc.
    pub const BDF: usize = 32;
    /// maxUserVa.
    pub const MAX_USER_VA: usize = 72;
    /// pciConfigMirrorBase.
    pub const CONFIG_MIRROR_BASE: usize = 80;
    /// pciConfigMirrorSize.
    pub const CONFIG_MIRROR_SIZE: usize = 84;
    /// PCIDeviceID.
    pub const PCI_DEVICE_ID: usize = 88;
    /// PCISubDeviceID.
    pub const PCI_SUB_DEVICE_ID: usize = 92;
    /// PCIRevisionID.
    pub const PCI_REVISION_ID: usize = 96;
    /// bIsPrimary.
    pub const IS_PRIMARY: usize = 896;
}

fn refuse<T>(status: u32, why: String) -> Result<T, Refusal> {
    Err(Refusal { status, why })
}

/// What a good `GspSystemInfo` said, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    /// BAR0, BAR1, BAR3 physical addresses.
    pub bars: [u64; 3],
    /// nvDomainBusDeviceFunc.
    pub bdf: u64,
    /// maxUserVa.
    pub max_user_va: u64,
}

/// Checks a `GspSystemInfo` against the device: the BAR addresses against where the guest
/// placed the BARs (when the device saw them programmed), the config mirror, the PCI IDs of the
/// chip profile (docs/facts/ga102.md §9.4 "Value used by drivers"), and a non-zero `maxUserVa`. The bus
/// number (`nvDomainBusDeviceFunc`) is the host's business and not checked.
pub fn check_system_info(
    p: &[u8],
    chip: &ChipProfile,
    bars: BarBases,
) -> Result<SystemInfo, Refusal> {
    use sysinfo::*;
    if p.len() < SYSTEM_INFO_MIN {
        return refuse(
            status::NV_ERR_INVALID_PARAM_STRUCT,
            format!(
                "GspSystemInfo is {:#x} bytes, at least {SYSTEM_INFO_MIN:#x} expected",
                p.len()
            ),
        );
    }
    let q = |o: usize| get_u64(p, o).unwrap_or(0);
    let d = |o: usize| get_u32(p, o).unwrap_or(0);
    let bad = |field: &str, off: usize, got: u64, want: u64, why: &str| {
        refuse(
            status::NV_ERR_INVALID_ARGUMENT,
            format!("GspSystemInfo.{field} (+{off}) = {got:#x}, expected {want:#x} ({why})"),
        )
    };
    for (field, off, want, what) in [
        ("gpuPhysAddr", GPU_PHYS_ADDR, bars.bar0, "BAR0"),
        ("gpuPhysFbAddr", GPU_PHYS_FB_ADDR, bars.bar1, "BAR1"),
        ("gpuPhysInstAddr", GPU_PHYS_INST_ADDR, bars.bar3, "BAR3"),
    ] {
        // 0: the device never saw the BAR programmed (no configuration writes reached it).
        if want != 0 && q(off) != want {
            return bad(
                field,
                off,
                q(off),
                want,
                &format!("{what} as the guest programmed it"),
            );
        }
    }
    for (field, off, got, want) in [
        (
            "pciConfigMirrorBase",
            CONFIG_MIRROR_BASE,
            d(sysinfo::CONFIG_MIRROR_BASE),
            super::system::CONFIG_MIRROR_BASE,
        ),
        (
            "pciConfigMirrorSize",
            sysinfo::CONFIG_MIRROR_SIZE,
            d(sysinfo::CONFIG_MIRROR_SIZE),
            super::system::CONFIG_MIRROR_SIZE,
        ),
        (
            "PCIDeviceID",
            PCI_DEVICE_ID,
            d(PCI_DEVICE_ID),
            u32::from(chip.device_id) << 16 | 0x10de,
        ),
        (
            "PCISubDeviceID",
            PCI_SUB_DEVICE_ID,
            d(PCI_SUB_DEVICE_ID),
            u32::from(chip.subsystem.1) << 16 | u32::from(chip.subsystem.0),
        ),
        (
            "PCIRevisionID",
            PCI_REVISION_ID,
            d(PCI_REVISION_ID),
            u32::from(chip.revision),
        ),
    ] {
        if got != want {
            return bad(
                field,
                off,
                got.into(),
                want.into(),
                "this device's configuration space",
            );
        }
    }
    if q(MAX_USER_VA) == 0 {
        return refuse(
            status::NV_ERR_INVALID_ARGUMENT,
            format!("GspSystemInfo.maxUserVa (+{MAX_USER_VA}) = 0"),
        );
    }
    Ok(SystemInfo {
        bars: [q(GPU_PHYS_ADDR), q(GPU_PHYS_FB_ADDR), q(GPU_PHYS_INST_ADDR)],
        bdf: q(BDF),
        max_user_va: q(MAX_USER_VA),
    })
}

/// `REGISTRY_TABLE_ENTRY_TYPE_*` (OG `g_os_nvoc.h`): 1 DWORD, 2 BINARY, 3 STRING.
pub const REG_DWORD: u8 = 1;
/// BINARY.
pub const REG_BINARY: u8 = 2;
/// STRING.
pub const REG_STRING: u8 = 3;
/// `PACKED_REGISTRY_ENTRY` size (OG:abi L2126).
pub const REG_ENTRY: usize = 16;
/// `PACKED_REGISTRY_TABLE` header size (OG:abi L2133).
pub const REG_TABLE_HDR: usize = 8;

/// One registry key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegEntry {
    /// The key.
    pub name: String,
    /// type.
    pub kind: u8,
    /// data (DWORD value, or offset of the data).
    pub data: u32,
    /// length.
    pub length: u32,
}

/// The registry table's declared size (`size` @0), for reassembling a split SET_REGISTRY.
pub fn registry_declared_size(p: &[u8]) -> Option<usize> {
    get_u32(p, 0).map(|s| s as usize)
}

/// Checks a `PACKED_REGISTRY_TABLE` (docs/facts/ga102.md §9.3): the declared size fits the payload and holds
/// the entry array; every key is a NUL-terminated, printable, non-empty string after the
/// entries and inside the table; types are DWORD, BINARY or STRING, and the data of the last two
/// lies inside the table.
pub fn check_registry(p: &[u8]) -> Result<Vec<RegEntry>, Refusal> {
    let inval = |why: String| refuse(status::NV_ERR_INVALID_ARGUMENT, why);
    let (Some(size), Some(n)) = (get_u32(p, 0), get_u32(p, 4)) else {
        return refuse(
            status::NV_ERR_INVALID_PARAM_STRUCT,
            format!("PACKED_REGISTRY_TABLE is {} bytes", p.len()),
        );
    };
    let size = size as usize;
    if size > p.len() {
        return inval(format!(
            "PACKED_REGISTRY_TABLE.size = {size:#x}, but the payload is {:#x} bytes",
            p.len()
        ));
    }
    let strings = (n as usize)
        .checked_mul(REG_ENTRY)
        .and_then(|e| e.checked_add(REG_TABLE_HDR))
        .filter(|&e| e <= size)
        .ok_or(Refusal {
            status: status::NV_ERR_INVALID_ARGUMENT,
            why: format!("PACKED_REGISTRY_TABLE: {n} entries do not fit its size {size:#x}"),
        })?;
    let t = &p[..size];
    let mut out = vec![];
    for i in 0..n as usize {
        let e = REG_TABLE_HDR + i * REG_ENTRY;
        let name_off = get_u32(t, e).unwrap_or(0) as usize;
        let kind = get_u8(t, e + 4).unwrap_or(0);
        let data = get_u32(t, e + 8).unwrap_or(0);
        let length = get_u32(t, e + 12).unwrap_or(0);
        if name_off < strings || name_off >= size {
            return inval(format!(
                "registry entry {i}: nameOffset {name_off:#x} outside the strings [{strings:#x}, {size:#x})"
            ));
        }
        let Some(len) = t[name_off..].iter().position(|&b| b == 0) else {
            return inval(format!(
                "registry entry {i}: key at {name_off:#x} is not NUL-terminated"
            ));
        };
        let key = &t[name_off..name_off + len];
        if key.is_empty() || !key.iter().all(|b| b.is_ascii_graphic()) {
            return inval(format!(
                "registry entry {i}: key at {name_off:#x} is empty or not printable ASCII"
            ));
        }
        match kind {
            REG_DWORD => {}
            REG_BINARY | REG_STRING => {
                let end = (data as usize).checked_add(length as usize);
                if data as usize >= size || end.is_none_or(|e| e > size) {
                    return inval(format!(
                        "registry entry {i}: data [{data:#x}, +{length:#x}) outside the table"
                    ));
                }
            }
            k => {
                return inval(format!(
                "registry entry {i} ({}): type {k}, expected 1 (DWORD), 2 (BINARY) or 3 (STRING)",
                String::from_utf8_lossy(key)
            ))
            }
        }
        out.push(RegEntry {
            name: String::from_utf8_lossy(key).into_owned(),
            kind,
            data,
            length,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    fn good_sysinfo() -> Vec<u8> {
        let mut p = vec![0u8; 928];
        let mut q = |o: usize, v: u64| p[o..o + 8].copy_from_slice(&v.to_le_bytes());
        q(0, 0xf300_0000);
        q(8, 0x4_2000_0000);
        q(16, 0x4_0600_0000);
        q(72, (1 << 47) - 4096);
        for (o, v) in [
            (80, 0x88000u32),
            (84, 0x1000),
            (88, 0x2204_10de),
            (92, 0x147d_10de),
            (96, 0xa1),
        ] {
            p[o..o + 4].copy_from_slice(&v.to_le_bytes());
        }
        p
    }

    #[test]
    fn system_info_checks() {
        let bars = BarBases {
            bar0: 0xf300_0000,
            bar1: 0x4_2000_0000,
            bar3: 0x4_0600_0000,
            bar5: 0xe080,
        };
        let p = good_sysinfo();
        assert!(check_system_info(&p, &GA102, bars).is_ok());
        assert!(check_system_info(&p, &GA102, BarBases::default()).is_ok());
        assert_eq!(
            check_system_info(&p[..919], &GA102, bars)
                .unwrap_err()
                .status,
            status::NV_ERR_INVALID_PARAM_STRUCT
        );
        let mut b = p.clone();
        b[8] = 0x10;
        let e = check_system_info(&b, &GA102, bars).unwrap_err();
        assert!(e.why.contains("gpuPhysFbAddr (+8)"), "{e:?}");
        let mut b = p.clone();
        b[88] = 0xdf;
        assert!(check_system_info(&b, &GA102, bars)
            .unwrap_err()
            .why
            .contains("PCIDeviceID"));
        let mut b = p;
        b[82] = 0;
        assert!(check_system_info(&b, &GA102, bars)
            .unwrap_err()
            .why
            .contains("pciConfigMirrorBase"));
    }

    #[test]
    fn registry_checks() {
        // Two DWORD keys.
        let mut t = vec![0u8; 8 + 32];
        t.extend_from_slice(b"RMA\0RMBee\0");
        let size = t.len() as u32;
        t[0..4].copy_from_slice(&size.to_le_bytes());
        t[4..8].copy_from_slice(&2u32.to_le_bytes());
        for (i, (off, v)) in [(40u32, 1u32), (44, 7)].into_iter().enumerate() {
            let e = 8 + 16 * i;
            t[e..e + 4].copy_from_slice(&off.to_le_bytes());
            t[e + 4] = 1;
            t[e + 8..e + 12].copy_from_slice(&v.to_le_bytes());
            t[e + 12..e + 16].copy_from_slice(&4u32.to_le_bytes());
        }
        let r = check_registry(&t).unwrap();
        assert_eq!(r[1].name, "RMBee");
        assert_eq!(r[1].data, 7);
        let mut b = t.clone();
        b[12] = 9;
        assert!(check_registry(&b).unwrap_err().why.contains("type 9"));
        let mut b = t.clone();
        b[8] = 0;
        assert!(check_registry(&b).is_err());
        let mut b = t.clone();
        b[4] = 200;
        assert!(check_registry(&b).is_err());
        let mut b = t;
        b[0] = 0xff;
        assert!(check_registry(&b).is_err());
        assert!(check_registry(&[1, 2]).is_err());
    }
}
