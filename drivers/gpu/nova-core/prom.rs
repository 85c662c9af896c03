// SPDX-License-Identifier: GPL-2.0
//! Reading the VBIOS out of the PROM window (BAR0 0x300000, 1 MiB; facts sheet §4.1).
//!
//! Every PROM read is a register access, and slow ones on some platforms, so the image is read
//! in 64 KiB steps until the parser finds the whole image chain in what was read, rather than
//! always reading the full megabyte.

use kernel::{alloc::VVec, device, io::Io, prelude::*};

use crate::{driver::Bar0, regs::NV_PMC_BOOT_0, vbios::Vbios};

/// BAR0 offset of `NV_PROM_DATA(0)`.
const PROM_BASE: usize = 0x0030_0000;
/// Size of the window.
const PROM_SIZE: usize = 0x0010_0000;
/// Read step.
const STEP: usize = 0x1_0000;

/// The VBIOS as read from the PROM.
pub(crate) struct VbiosImage {
    bytes: VVec<u8>,
}

impl VbiosImage {
    /// Reads as much of the PROM as the image chain needs and checks that it parses.
    pub(crate) fn read(dev: &device::Device, bar: &Bar0<'_>) -> Result<Self> {
        let mut bytes = VVec::with_capacity(PROM_SIZE, GFP_KERNEL)?;
        loop {
            let end = (bytes.len() + STEP).min(PROM_SIZE);
            while bytes.len() < end {
                let v = bar.try_read64(PROM_BASE + bytes.len())?;
                bytes.extend_from_slice(&v.to_le_bytes(), GFP_KERNEL)?;
            }
            // A GPU that fell off the bus reads all ones everywhere: say so rather than
            // reporting a broken VBIOS.
            if bar.read(NV_PMC_BOOT_0).into_raw() == u32::MAX {
                dev_err!(
                    dev,
                    "GPU not responding (NV_PMC_BOOT_0 reads 0xffffffff) while reading the VBIOS\n"
                );
                return Err(ENODEV);
            }
            match Vbios::parse(&bytes) {
                Ok(_) => return Ok(VbiosImage { bytes }),
                // A prefix may fail in many ways (a length or pointer past what was read):
                // read on until the whole window is in.
                Err(_) if bytes.len() < PROM_SIZE => continue,
                Err(e) => {
                    dev_err!(
                        dev,
                        "VBIOS: {} (PROM window of {:#x} bytes)\n",
                        e,
                        PROM_SIZE
                    );
                    return Err(EINVAL);
                }
            }
        }
    }

    /// Bytes read.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The parsed VBIOS.
    pub(crate) fn parse(&self) -> Result<Vbios<'_>> {
        Vbios::parse(&self.bytes).map_err(|_| EINVAL)
    }
}
