// SPDX-License-Identifier: GPL-2.0
//! PROM: the VBIOS ROM window (BAR0 0x300000-0x3fffff).
//!
//! Facts (sheet §4.1): `NV_PROM_DATA(i)` = BAR0 0x300000 + i, `__SIZE_1` = 1 MiB
//! (open-gpu-kernel-modules `turing/tu102/dev_ext_devices.h`), read as 32-bit words. The window
//! starts directly at the PCI expansion ROM images: the IFR header only has to be skipped on
//! GA100 (docs/facts/ga102.md §4.1 "When needed"), so none is served here.
//!
//! Model choices (not in the facts):
//! - bytes past the end of the image read as 0xFF, as erased flash does; a truncated image
//!   therefore reads as 0xFF from the cut onward;
//! - writes are ignored (a ROM; flash programming is not modelled).

use super::Block;

/// `NV_PROM_DATA(0)`.
pub const BASE: u32 = 0x300000;
/// `NV_PROM_DATA__SIZE_1`.
pub const SIZE: u32 = 1 << 20;

/// The PROM block.
pub struct Prom {
    image: Vec<u8>,
}

impl Prom {
    /// A PROM holding `image` (at most 1 MiB is visible; the rest is never read).
    pub fn new(image: Vec<u8>) -> Self {
        Prom { image }
    }

    /// The image served.
    pub fn image(&self) -> &[u8] {
        &self.image
    }
}

impl Block for Prom {
    fn name(&self) -> &'static str {
        "prom"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(BASE, BASE + SIZE)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        let at = off.wrapping_sub(BASE) as usize;
        let mut w = [0xffu8; 4];
        for (i, b) in w.iter_mut().enumerate() {
            if let Some(&v) = at.checked_add(i).and_then(|a| self.image.get(a)) {
                *b = v;
            }
        }
        u32::from_le_bytes(w)
    }

    fn write32(&mut self, _off: u32, _val: u32) {}

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        (BASE..BASE + SIZE).contains(&off).then_some("NV_PROM_DATA")
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bar0::Bar0;
    use crate::trace::Tracer;
    use std::sync::Arc;

    #[test]
    fn serves_the_image_le_and_ff_past_the_end() {
        let mut p = Prom::new(vec![0x55, 0xaa, 0x01, 0x02, 0x03, 0x04]);
        assert_eq!(p.read32(BASE), 0x0201_aa55);
        assert_eq!(p.read32(BASE + 4), 0xffff_0403);
        assert_eq!(p.read32(BASE + SIZE - 4), 0xffff_ffff);
        p.write32(BASE, 0);
        assert_eq!(p.read32(BASE), 0x0201_aa55);
        assert_eq!(p.reg_name(BASE + 0x1234), Some("NV_PROM_DATA"));
        p.reset();
        assert_eq!(p.image().len(), 6);
    }

    #[test]
    fn byte_and_word_reads_through_bar0_match_the_vbios() {
        let rom = nova_firmware::build_ga102_vbios();
        let mut b = Bar0::new(
            vec![Box::new(Prom::new(rom.clone()))],
            Arc::new(Tracer::off()),
        )
        .unwrap();
        // Whole image through 32-bit reads.
        let mut got = vec![0u8; rom.len()];
        for (i, chunk) in got.chunks_mut(4).enumerate() {
            let mut w = [0u8; 4];
            b.read(u64::from(BASE) + 4 * i as u64, &mut w);
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        assert_eq!(got, rom);
        // Sub-word and unaligned reads the decoder splits.
        let mut one = [0u8; 1];
        b.read(u64::from(BASE) + 1, &mut one);
        assert_eq!(one[0], 0xaa);
        let mut two = [0u8; 2];
        b.read(u64::from(BASE) + 0x1a1, &mut two);
        assert_eq!(two, [rom[0x1a1], rom[0x1a2]]);
        let mut eight = [0u8; 8];
        b.read(u64::from(BASE) + 3, &mut eight);
        assert_eq!(&eight[..], &rom[3..11]);
        // Past the image: erased flash.
        b.read(u64::from(BASE) + rom.len() as u64, &mut eight);
        assert_eq!(eight, [0xff; 8]);
        // Writes do nothing.
        b.write(u64::from(BASE), &[0, 0, 0, 0]);
        b.read(u64::from(BASE), &mut two);
        assert_eq!(two, [0x55, 0xaa]);
    }
}
