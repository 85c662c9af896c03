// SPDX-License-Identifier: MIT
//! Every GETPARAM of a device, typed, and the names that go with the numbers.

use crate::{Error, Result};
use nova_uapi::*;
use std::fmt;

/// GSP-RM firmware version, `major.minor` (570.144).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FwVersion {
    /// Major, 570.
    pub major: u32,
    /// Minor, 144.
    pub minor: u32,
}

impl FwVersion {
    /// From `NOVA_GETPARAM_FW_VERSION`, `(major << 32) | minor`.
    pub const fn from_param(v: u64) -> Self {
        Self {
            major: (v >> 32) as u32,
            minor: v as u32,
        }
    }

    /// Back to the GETPARAM encoding.
    pub const fn to_param(self) -> u64 {
        ((self.major as u64) << 32) | self.minor as u64
    }

    /// Whether GSP-RM was booted (the kernel reports 0 otherwise).
    pub const fn is_known(self) -> bool {
        self.major != 0 || self.minor != 0
    }
}

impl fmt::Display for FwVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Engine classes (0 when the driver does not know the chip's class).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Classes {
    /// Host channel (GPFIFO), 0xc56f on GA102.
    pub channel: u32,
    /// Copy engine, 0xc7b5 on GA102.
    pub copy: u32,
    /// 2D, 0x902d.
    pub twod: u32,
    /// 3D, 0xc797 on GA102.
    pub threed: u32,
    /// Compute, 0xc7c0 on GA102.
    pub compute: u32,
}

/// What a nova device is: every `NOVA_GETPARAM_*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// `(architecture << 4) | implementation`, 0x172 for GA102.
    pub chipset: u32,
    /// 0x16 Turing, 0x17 Ampere, 0x18 Hopper, 0x19 Ada, 0x1a/0x1b Blackwell.
    pub architecture: u32,
    /// `(major << 4) | minor`, 0xa1 for A1.
    pub revision: u32,
    /// Usable VRAM in bytes.
    pub vram_size: u64,
    /// Free VRAM in bytes when queried.
    pub vram_free: u64,
    /// BAR1 aperture size in bytes.
    pub bar1_size: u64,
    /// GSP-RM version.
    pub fw_version: FwVersion,
    /// First byte of the VM_BIND VA window.
    pub va_start: u64,
    /// End (exclusive) of the VM_BIND VA window.
    pub va_end: u64,
    /// Page sizes VM_BIND can use: bit n means 2^n bytes.
    pub page_sizes: u64,
    /// Engine classes.
    pub classes: Classes,
}

/// A parameter the interface defines as 32 bits wide; a wider value is `ERANGE`.
fn narrow(v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::new("GETPARAM", libc::ERANGE))
}

impl Info {
    /// Queries every parameter through `get` (a device's [`getparam`](crate::Device::getparam),
    /// or a fake one in tests).
    pub fn query(mut get: impl FnMut(u64) -> Result<u64>) -> Result<Info> {
        let mut get32 = |p| get(p).and_then(narrow);
        let chipset = get32(NOVA_GETPARAM_CHIPSET)?;
        let architecture = get32(NOVA_GETPARAM_ARCHITECTURE)?;
        let revision = get32(NOVA_GETPARAM_REVISION)?;
        let classes = Classes {
            channel: get32(NOVA_GETPARAM_CLASS_CHANNEL)?,
            copy: get32(NOVA_GETPARAM_CLASS_COPY)?,
            twod: get32(NOVA_GETPARAM_CLASS_2D)?,
            threed: get32(NOVA_GETPARAM_CLASS_3D)?,
            compute: get32(NOVA_GETPARAM_CLASS_COMPUTE)?,
        };
        Ok(Info {
            chipset,
            architecture,
            revision,
            vram_size: get(NOVA_GETPARAM_VRAM_SIZE)?,
            vram_free: get(NOVA_GETPARAM_VRAM_FREE)?,
            bar1_size: get(NOVA_GETPARAM_BAR1_SIZE)?,
            fw_version: FwVersion::from_param(get(NOVA_GETPARAM_FW_VERSION)?),
            va_start: get(NOVA_GETPARAM_VA_START)?,
            va_end: get(NOVA_GETPARAM_VA_END)?,
            page_sizes: get(NOVA_GETPARAM_PAGE_SIZES)?,
            classes,
        })
    }

    /// The chip's name ("GA102"), if this library knows the chipset.
    pub fn chip_name(&self) -> Option<&'static str> {
        chip_name(self.chipset)
    }

    /// The architecture's name ("Ampere"), if known.
    pub fn arch_name(&self) -> Option<&'static str> {
        arch_name(self.architecture)
    }

    /// The revision as NVIDIA writes it: 0xa1 is "A1".
    pub fn revision_name(&self) -> String {
        let major = self.revision >> 4;
        let minor = self.revision & 0xf;
        if (0xa..=0xf).contains(&major) {
            format!("{}{minor:X}", char::from(b'A' + (major - 0xa) as u8))
        } else {
            format!("{:#x}", self.revision)
        }
    }

    /// The page sizes VM_BIND can use, in bytes, smallest first.
    pub fn page_size_list(&self) -> Vec<u64> {
        (0..64)
            .filter(|n| self.page_sizes & (1 << n) != 0)
            .map(|n| 1u64 << n)
            .collect()
    }

    /// Bytes of VRAM in use (size minus free).
    pub fn vram_used(&self) -> u64 {
        self.vram_size.saturating_sub(self.vram_free)
    }
}

/// Chip names by chipset, Turing through Blackwell (the chipset numbers of nouveau's and
/// nova-core's chip tables).
pub const CHIPS: &[(u32, &str)] = &[
    (0x162, "TU102"),
    (0x164, "TU104"),
    (0x166, "TU106"),
    (0x167, "TU117"),
    (0x168, "TU116"),
    (0x170, "GA100"),
    (0x172, "GA102"),
    (0x173, "GA103"),
    (0x174, "GA104"),
    (0x176, "GA106"),
    (0x177, "GA107"),
    (0x180, "GH100"),
    (0x192, "AD102"),
    (0x193, "AD103"),
    (0x194, "AD104"),
    (0x196, "AD106"),
    (0x197, "AD107"),
    (0x1a0, "GB100"),
    (0x1a2, "GB102"),
    (0x1b2, "GB202"),
    (0x1b3, "GB203"),
    (0x1b5, "GB205"),
    (0x1b6, "GB206"),
    (0x1b7, "GB207"),
];

/// The name of `chipset`, if known.
pub fn chip_name(chipset: u32) -> Option<&'static str> {
    CHIPS.iter().find(|c| c.0 == chipset).map(|c| c.1)
}

/// The name of architecture `arch` (the BOOT_42 field), if known.
pub fn arch_name(arch: u32) -> Option<&'static str> {
    Some(match arch {
        0x16 => "Turing",
        0x17 => "Ampere",
        0x18 => "Hopper",
        0x19 => "Ada",
        0x1a | 0x1b => "Blackwell",
        _ => return None,
    })
}

/// `bytes` in the largest binary unit that divides it ("24 GiB", "64 KiB", "4097 B").
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, unit) in UNITS {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    // Not a whole number of any unit: MiB with a fraction when large, else bytes.
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The parameters of the vGPU's GA102 as the driver reports them.
    pub(crate) fn ga102(p: u64) -> Result<u64> {
        Ok(match p {
            NOVA_GETPARAM_CHIPSET => 0x172,
            NOVA_GETPARAM_ARCHITECTURE => 0x17,
            NOVA_GETPARAM_REVISION => 0xa1,
            NOVA_GETPARAM_VRAM_SIZE => 24 << 30,
            NOVA_GETPARAM_VRAM_FREE => (24 << 30) - (256 << 20),
            NOVA_GETPARAM_BAR1_SIZE => 256 << 20,
            NOVA_GETPARAM_FW_VERSION => 0x23a_0000_0090,
            NOVA_GETPARAM_VA_START => 1 << 32,
            NOVA_GETPARAM_VA_END => 1 << 47,
            NOVA_GETPARAM_PAGE_SIZES => (1 << 12) | (1 << 16) | (1 << 21),
            NOVA_GETPARAM_CLASS_CHANNEL => 0xc56f,
            NOVA_GETPARAM_CLASS_COPY => 0xc7b5,
            NOVA_GETPARAM_CLASS_2D => 0x902d,
            NOVA_GETPARAM_CLASS_3D => 0xc797,
            NOVA_GETPARAM_CLASS_COMPUTE => 0xc7c0,
            _ => return Err(Error::new("GETPARAM", libc::EINVAL)),
        })
    }

    #[test]
    fn query_fills_every_field() {
        let i = Info::query(ga102).unwrap();
        assert_eq!(i.chip_name(), Some("GA102"));
        assert_eq!(i.arch_name(), Some("Ampere"));
        assert_eq!(i.revision_name(), "A1");
        assert_eq!(
            i.fw_version,
            FwVersion {
                major: 570,
                minor: 144
            }
        );
        assert_eq!(i.fw_version.to_string(), "570.144");
        assert_eq!(i.fw_version.to_param(), 0x23a_0000_0090);
        assert_eq!(i.page_size_list(), [4096, 65536, 2 << 20]);
        assert_eq!(i.vram_used(), 256 << 20);
        assert_eq!(
            i.classes,
            Classes {
                channel: 0xc56f,
                copy: 0xc7b5,
                twod: 0x902d,
                threed: 0xc797,
                compute: 0xc7c0
            }
        );
        assert_eq!((i.va_start, i.va_end), (1 << 32, 1 << 47));
    }

    #[test]
    fn query_passes_errors_through() {
        let e = Info::query(|p| {
            if p == NOVA_GETPARAM_VA_END {
                Err(Error::new("GETPARAM", libc::EINVAL))
            } else {
                ga102(p)
            }
        })
        .unwrap_err();
        assert_eq!(e.errno(), libc::EINVAL);
        // A 32-bit field the kernel reports wider than 32 bits.
        let e = Info::query(|p| {
            if p == NOVA_GETPARAM_CHIPSET {
                Ok(1 << 40)
            } else {
                ga102(p)
            }
        })
        .unwrap_err();
        assert_eq!(e.errno(), libc::ERANGE);
    }

    #[test]
    fn names() {
        assert_eq!(chip_name(0x192), Some("AD102"));
        assert_eq!(chip_name(0x3f0), None);
        assert_eq!(arch_name(0x1b), Some("Blackwell"));
        assert_eq!(arch_name(0x3f), None);
        let i = Info {
            revision: 0x12,
            ..Info::default()
        };
        assert_eq!(i.revision_name(), "0x12");
        assert!(!FwVersion::from_param(0).is_known());
    }

    #[test]
    fn bytes() {
        assert_eq!(format_bytes(24 << 30), "24 GiB");
        assert_eq!(format_bytes(24382 << 20), "24382 MiB");
        assert_eq!(format_bytes(64 << 10), "64 KiB");
        assert_eq!(format_bytes(4097), "4097 B");
        assert_eq!(format_bytes((3 << 20) + 512), "3.0 MiB");
        assert_eq!(format_bytes(0), "0 B");
    }
}
