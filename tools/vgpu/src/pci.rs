// SPDX-License-Identifier: GPL-2.0
//! The PCI function: a 4 KiB configuration space with the capability chain of a GA102.
//!
//! QEMU's vfio-user client virtualises the BAR registers and the MSI-X table itself; what it
//! reads from here is the identity, the capability layout and the bits the guest may write.
//! QEMU still forwards every configuration write, so the BAR registers here are writable with
//! the address bits their sizes allow (as on hardware): [`PciConfig::bar_bases`] is the
//! device's own record of where the guest placed BAR0, BAR1 and BAR3 (GSP-RM compares it with
//! what the driver reports in `GSP_SET_SYSTEM_INFO`, docs/facts/ga102.md §9.4).
//!
//! Layout (facts sheet §1.4, from open-gpu-doc `dev_nv_xve3g_fn0.ref.txt` and the lspci of an
//! RTX 3090): PM at 0x60, MSI at 0x68 (1 vector, 64-bit, not maskable), PCI Express at 0x78,
//! vendor-specific at 0xB4. MSI-X is not in that lspci; we add an MSI-X capability at 0xC8
//! (8 vectors, table and PBA in BAR0) because the test driver needs per-vector interrupts. That
//! is a documented deviation (tools/vgpu/README.md).

use crate::chip::{ChipProfile, BAR0_SIZE, BAR5_SIZE};
use std::sync::{Arc, Mutex};

/// Size of the configuration space (PCI Express extended).
pub const CONFIG_SIZE: usize = 4096;

/// Offsets of the capabilities in the chain.
pub mod cap {
    /// Power management.
    pub const PM: usize = 0x60;
    /// MSI.
    pub const MSI: usize = 0x68;
    /// PCI Express.
    pub const PCIE: usize = 0x78;
    /// Vendor specific (GA102 message box).
    pub const VENDOR: usize = 0xb4;
    /// MSI-X (our addition, see the module docs).
    pub const MSIX: usize = 0xc8;
}

/// Number of MSI-X vectors.
pub const MSIX_VECTORS: u32 = 8;
/// BAR0 offset of the MSI-X table (16 bytes per vector). QEMU emulates it; the range is unused
/// by any register block we model.
pub const MSIX_TABLE_OFFSET: u32 = 0x00ff_0000;
/// BAR0 offset of the MSI-X pending-bit array.
pub const MSIX_PBA_OFFSET: u32 = 0x00ff_8000;

/// The configuration space: current values and the mask of guest-writable bits.
pub struct PciConfig {
    bytes: [u8; CONFIG_SIZE],
    writable: [u8; CONFIG_SIZE],
}

fn put8(b: &mut [u8], o: usize, v: u8) {
    b[o] = v;
}
fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}

impl PciConfig {
    /// The reset state of the function for `chip`.
    pub fn new(chip: &ChipProfile) -> Self {
        let mut c = [0u8; CONFIG_SIZE];
        let mut w = [0u8; CONFIG_SIZE];

        put16(&mut c, 0x00, 0x10de);
        put16(&mut c, 0x02, chip.device_id);
        put16(&mut c, 0x06, 0x0010); // status: capability list present
        put8(&mut c, 0x08, chip.revision);
        put8(&mut c, 0x09, chip.class_code as u8);
        put8(&mut c, 0x0a, (chip.class_code >> 8) as u8);
        put8(&mut c, 0x0b, (chip.class_code >> 16) as u8);
        put8(&mut c, 0x0e, 0x00); // header type 0, single function in this model
        put32(&mut c, 0x10, 0x0000_0000); // BAR0: 32-bit non-prefetchable memory
        put32(&mut c, 0x14, 0x0000_000c); // BAR1: 64-bit prefetchable memory (uses 0x18 too)
        put32(&mut c, 0x1c, 0x0000_000c); // BAR3: 64-bit prefetchable memory (uses 0x20 too)
                                          // BAR5 (NV_XVE_BAR3, OD `ga102/dev_nv_xve3g_fn0.ref.txt` L283-297): SPACE_TYPE 0:0 = IO,
                                          // ADDRESS_TYPE 2:1 = 32-bit, not prefetchable.
        put32(&mut c, 0x24, 0x0000_0001);
        put16(&mut c, 0x2c, chip.subsystem.0);
        put16(&mut c, 0x2e, chip.subsystem.1);
        put8(&mut c, 0x34, cap::PM as u8);
        put8(&mut c, 0x3d, 0x01); // interrupt pin INTA

        // BAR address bits: those above the BAR's size (docs/facts/ga102.md §1.3: BAR0 16 MiB, base field
        // 31:24; BAR1/BAR3 64-bit with their sizes from the profile).
        put32(&mut w, 0x10, bar_mask(BAR0_SIZE));
        put32(&mut w, 0x14, bar_mask(chip.bar1_size));
        put32(&mut w, 0x18, 0xffff_ffff);
        put32(&mut w, 0x1c, bar_mask(chip.bar3_size));
        put32(&mut w, 0x20, 0xffff_ffff);
        // BASE_ADDRESS 31:7 (128 bytes).
        put32(&mut w, 0x24, !(BAR5_SIZE as u32 - 1));

        // Command: I/O space (NV_XVE_DEV_CTRL_CMD_IO_SPACE 0:0, OD L161-163), memory space, bus
        // master, parity, SERR, INTx disable.
        put16(&mut w, 0x04, 0x0547);
        put8(&mut w, 0x0c, 0xff); // cache line size
        put8(&mut w, 0x0d, 0xff); // latency timer
        put8(&mut w, 0x3c, 0xff); // interrupt line

        // Power management: version 3, D0/D3hot via PMCSR.
        put8(&mut c, cap::PM, 0x01);
        put8(&mut c, cap::PM + 1, cap::MSI as u8);
        put16(&mut c, cap::PM + 2, 0x0003);
        put16(&mut w, cap::PM + 4, 0x0003);

        // MSI: 64-bit address, one vector, no per-vector masking.
        put8(&mut c, cap::MSI, 0x05);
        put8(&mut c, cap::MSI + 1, cap::PCIE as u8);
        put16(&mut c, cap::MSI + 2, 0x0080);
        put16(&mut w, cap::MSI + 2, 0x0071); // enable, multiple message enable
        put32(&mut w, cap::MSI + 4, 0xffff_fffc);
        put32(&mut w, cap::MSI + 8, 0xffff_ffff);
        put16(&mut w, cap::MSI + 12, 0xffff);

        // PCI Express v2, legacy endpoint; DevCap: max payload 256 B, FLR.
        put8(&mut c, cap::PCIE, 0x10);
        put8(&mut c, cap::PCIE + 1, cap::VENDOR as u8);
        put16(&mut c, cap::PCIE + 2, 0x0012); // version 2, device/port type 1 (legacy endpoint)
        put32(&mut c, cap::PCIE + 4, 0x1000_8001); // DevCap: FLR (bit 28), 256 B payload
        put16(&mut w, cap::PCIE + 8, 0xfcff); // DevCtl (bit 15 = initiate FLR)
        put32(&mut c, cap::PCIE + 0xc, 0x0000_4104); // LinkCap: x16, 16 GT/s
        put16(&mut c, cap::PCIE + 0x12, 0x1104); // LinkSta: x16, 16 GT/s, slot clock

        // Vendor-specific capability, length 0x14 (GA102 message box registers live here).
        put8(&mut c, cap::VENDOR, 0x09);
        put8(&mut c, cap::VENDOR + 1, cap::MSIX as u8);
        put8(&mut c, cap::VENDOR + 2, 0x14);

        // MSI-X: table and PBA in BAR0 (BIR 0).
        put8(&mut c, cap::MSIX, 0x11);
        put8(&mut c, cap::MSIX + 1, 0x00);
        put16(&mut c, cap::MSIX + 2, (MSIX_VECTORS - 1) as u16);
        put32(&mut c, cap::MSIX + 4, MSIX_TABLE_OFFSET);
        put32(&mut c, cap::MSIX + 8, MSIX_PBA_OFFSET);
        put16(&mut w, cap::MSIX + 2, 0xc000); // enable, function mask

        PciConfig {
            bytes: c,
            writable: w,
        }
    }

    /// Reads `data.len()` bytes at `offset`; bytes past the end read as zero.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        for (i, b) in data.iter_mut().enumerate() {
            *b = usize::try_from(offset)
                .ok()
                .and_then(|o| o.checked_add(i))
                .and_then(|o| self.bytes.get(o))
                .copied()
                .unwrap_or(0);
        }
    }

    /// Writes, honouring the writable mask; writes past the end are dropped.
    /// Returns true when the write started a function-level reset.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> bool {
        let mut flr = false;
        for (i, b) in data.iter().enumerate() {
            let Some(o) = usize::try_from(offset).ok().and_then(|o| o.checked_add(i)) else {
                continue;
            };
            let (Some(cur), Some(mask)) =
                (self.bytes.get(o).copied(), self.writable.get(o).copied())
            else {
                continue;
            };
            if o == cap::PCIE + 9 && b & 0x80 != 0 {
                flr = true;
            }
            self.bytes[o] = (cur & !mask) | (b & mask);
        }
        if flr {
            // "Initiate FLR" reads back as zero.
            self.bytes[cap::PCIE + 9] &= 0x7f;
        }
        flr
    }

    fn u32_at(&self, o: usize) -> u32 {
        u32::from_le_bytes([
            self.bytes[o],
            self.bytes[o + 1],
            self.bytes[o + 2],
            self.bytes[o + 3],
        ])
    }

    /// Where the guest placed BAR0, BAR1 and BAR3 (Linux resource indices 0, 1, 3): the address
    /// bits of the BAR registers, 0 while unprogrammed.
    pub fn bar_bases(&self) -> BarBases {
        let lo = |o: usize| u64::from(self.u32_at(o) & !0xf);
        let hi = |o: usize| u64::from(self.u32_at(o)) << 32;
        BarBases {
            bar0: lo(0x10),
            bar1: hi(0x18) | lo(0x14),
            bar3: hi(0x20) | lo(0x1c),
            bar5: u64::from(self.u32_at(0x24) & !(BAR5_SIZE as u32 - 1)),
        }
    }

    fn u16_at(&self, o: usize) -> u16 {
        u16::from_le_bytes([self.bytes[o], self.bytes[o + 1]])
    }

    /// Whether MSI is enabled by the guest.
    pub fn msi_enabled(&self) -> bool {
        self.u16_at(cap::MSI + 2) & 1 != 0
    }

    /// Whether MSI-X is enabled and the function is not masked.
    pub fn msix_enabled(&self) -> bool {
        let ctl = self.u16_at(cap::MSIX + 2);
        ctl & 0x8000 != 0
    }

    /// Whether the guest disabled INTx in the command register.
    pub fn intx_disabled(&self) -> bool {
        self.u16_at(0x04) & 0x0400 != 0
    }

    /// Whether memory decoding is enabled (BAR accesses are answered).
    pub fn memory_enabled(&self) -> bool {
        self.u16_at(0x04) & 0x0002 != 0
    }

    /// Back to the reset state (function-level reset), keeping nothing the guest wrote.
    pub fn reset(&mut self, chip: &ChipProfile) {
        *self = PciConfig::new(chip);
    }
}

/// The writable address bits of a memory BAR of `size` bytes (a power of two, at least 16).
fn bar_mask(size: u64) -> u32 {
    (!(size.max(16) - 1) & 0xffff_fff0) as u32
}

/// BAR base addresses as the guest programmed them (0 = not programmed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BarBases {
    /// BAR0 (registers).
    pub bar0: u64,
    /// BAR1 (VRAM aperture, Linux resource 1).
    pub bar1: u64,
    /// Linux BAR3 (NVIDIA "BAR2", instance memory).
    pub bar3: u64,
    /// Linux BAR5 (NVIDIA "BAR3", I/O space): an I/O port address.
    pub bar5: u64,
}

/// A shared, read-only view of [`BarBases`] for models that are not part of the PCI function
/// (GSP-RM). The [`crate::server::Device`] refreshes it after every configuration write and
/// reset. Cloning shares the view.
#[derive(Clone, Default)]
pub struct BarView(Arc<Mutex<BarBases>>);

impl BarView {
    /// A view with every BAR unprogrammed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current bases.
    pub fn get(&self) -> BarBases {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records new bases.
    pub fn set(&self, b: BarBases) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    fn rd(c: &PciConfig, off: u64, n: usize) -> u32 {
        let mut b = [0u8; 4];
        c.read(off, &mut b[..n]);
        u32::from_le_bytes(b)
    }

    #[test]
    fn identity() {
        let c = PciConfig::new(&GA102);
        assert_eq!(rd(&c, 0, 4), 0x2204_10de);
        assert_eq!(rd(&c, 8, 4), 0x0300_00a1);
        assert_eq!(rd(&c, 0x2c, 4), 0x147d_10de);
    }

    #[test]
    fn capability_chain_is_walkable_and_ends() {
        let c = PciConfig::new(&GA102);
        let mut ids = vec![];
        let mut p = rd(&c, 0x34, 1) as u64;
        while p != 0 && ids.len() < 16 {
            ids.push((p, rd(&c, p, 1)));
            p = rd(&c, p + 1, 1) as u64;
        }
        assert_eq!(
            ids,
            vec![
                (0x60, 0x01),
                (0x68, 0x05),
                (0x78, 0x10),
                (0xb4, 0x09),
                (0xc8, 0x11)
            ]
        );
        // No extended capabilities.
        assert_eq!(rd(&c, 0x100, 4), 0);
    }

    #[test]
    fn read_only_bits_stay() {
        let mut c = PciConfig::new(&GA102);
        c.write(0, &[0xff; 4]);
        assert_eq!(rd(&c, 0, 4), 0x2204_10de);
        c.write(4, &[0xff, 0xff]);
        assert_eq!(
            rd(&c, 4, 2),
            0x0547,
            "I/O space is writable: BAR5 is an I/O BAR"
        );
        assert!(c.memory_enabled() && c.intx_disabled());
    }

    #[test]
    fn msi_and_msix_enable() {
        let mut c = PciConfig::new(&GA102);
        assert!(!c.msi_enabled() && !c.msix_enabled());
        c.write((cap::MSI + 2) as u64, &[0x01, 0x00]);
        assert!(c.msi_enabled());
        c.write((cap::MSIX + 3) as u64, &[0x80]);
        assert!(c.msix_enabled());
        // Table size field is read-only.
        c.write((cap::MSIX + 2) as u64, &[0xff, 0xff]);
        assert_eq!(rd(&c, (cap::MSIX + 2) as u64, 2), 0xc007);
    }

    #[test]
    fn bars_keep_the_address_bits_their_size_allows() {
        let mut c = PciConfig::new(&GA102);
        assert_eq!(c.bar_bases(), BarBases::default());
        // Sizing: all ones reads back the size mask and the type bits.
        c.write(0x10, &[0xff; 4]);
        assert_eq!(rd(&c, 0x10, 4), 0xff00_0000);
        c.write(0x14, &[0xff; 4]);
        assert_eq!(rd(&c, 0x14, 4), 0xf000_000c);
        c.write(0x1c, &[0xff; 4]);
        assert_eq!(rd(&c, 0x1c, 4), 0xfe00_000c);
        c.write(0x24, &[0xff; 4]);
        assert_eq!(rd(&c, 0x24, 4), 0xffff_ff81, "128 bytes of I/O space");
        c.write(0x24, &0xe080u32.to_le_bytes());
        assert_eq!(rd(&c, 0x24, 4), 0xe081);
        assert_eq!(c.bar_bases().bar5, 0xe080);
        c.write(0x24, &0u32.to_le_bytes());
        c.write(0x10, &0xf300_0000u32.to_le_bytes());
        c.write(0x14, &0x2000_0000u32.to_le_bytes());
        c.write(0x18, &0x4u32.to_le_bytes());
        c.write(0x1c, &0x0600_0000u32.to_le_bytes());
        c.write(0x20, &0x4u32.to_le_bytes());
        assert_eq!(
            c.bar_bases(),
            BarBases {
                bar0: 0xf300_0000,
                bar1: 0x4_2000_0000,
                bar3: 0x4_0600_0000,
                bar5: 0
            }
        );
        let v = BarView::new();
        v.set(c.bar_bases());
        assert_eq!(v.clone().get().bar0, 0xf300_0000);
        c.reset(&GA102);
        assert_eq!(c.bar_bases(), BarBases::default());
    }

    #[test]
    fn flr_is_reported_and_self_clears() {
        let mut c = PciConfig::new(&GA102);
        assert!(c.write((cap::PCIE + 9) as u64, &[0x80]));
        assert_eq!(rd(&c, (cap::PCIE + 9) as u64, 1) & 0x80, 0);
    }

    #[test]
    fn out_of_range_is_harmless() {
        let mut c = PciConfig::new(&GA102);
        let mut b = [0xaa; 8];
        c.read(4094, &mut b);
        assert_eq!(b, [0; 8]);
        c.write(u64::MAX - 1, &[1, 2, 3]);
    }
}
