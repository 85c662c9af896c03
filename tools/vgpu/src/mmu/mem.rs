// SPDX-License-Identifier: GPL-2.0
//! The physical memory behind the MMU: VRAM for the video aperture, guest RAM (through the
//! device's DMA access, [`crate::dma`]) for both system apertures. The peer aperture reaches
//! nothing (no peer GPU on this board).

use super::format::Aperture;
use super::walk::PhysMem;
use crate::dma::SharedGuestMemory;
use crate::vram::Vram;

/// VRAM plus guest memory.
#[derive(Clone)]
pub struct Memory {
    /// The board's VRAM.
    pub vram: Vram,
    /// Guest RAM as the device reaches it.
    pub guest: SharedGuestMemory,
}

impl PhysMem for Memory {
    fn read(&self, aperture: Aperture, pa: u64, buf: &mut [u8]) -> bool {
        match aperture {
            Aperture::Video => self.vram.read(pa, buf).is_ok(),
            Aperture::SysCoherent | Aperture::SysNonCoherent => self
                .guest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .read(pa, buf)
                .is_ok(),
            Aperture::Peer => false,
        }
    }

    fn write(&self, aperture: Aperture, pa: u64, buf: &[u8]) -> bool {
        match aperture {
            Aperture::Video => self.vram.write(pa, buf).is_ok(),
            Aperture::SysCoherent | Aperture::SysNonCoherent => self
                .guest
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write(pa, buf)
                .is_ok(),
            Aperture::Peer => false,
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A [`Memory`] with 64 MiB of VRAM and 8 MiB of guest RAM at [`GPA`], for unit tests.
    use super::*;
    use crate::dma::{memfd, GuestMemory};
    use std::sync::{Arc, Mutex};

    /// Guest RAM base.
    pub const GPA: u64 = 0x8000_0000;
    /// Guest RAM size.
    pub const RAM: u64 = 8 << 20;
    /// VRAM size.
    pub const VRAM: u64 = 64 << 20;

    /// The memory and the memfd behind guest RAM (kept alive with it).
    pub struct Rig {
        /// The memory.
        pub mem: Memory,
        _ram: std::fs::File,
    }

    impl Rig {
        /// Fresh, zeroed memory.
        pub fn new() -> Rig {
            let ram = memfd(c"mmu-test", RAM).unwrap();
            let mut g = GuestMemory::new();
            g.map(GPA, RAM, &ram, 0).unwrap();
            Rig {
                mem: Memory {
                    vram: Vram::new(VRAM),
                    guest: Arc::new(Mutex::new(g)),
                },
                _ram: ram,
            }
        }

        /// Writes a u64.
        pub fn put64(&self, a: Aperture, pa: u64, v: u64) {
            assert!(self.mem.write(a, pa, &v.to_le_bytes()), "{a:?} {pa:#x}");
        }

        /// Writes a u128.
        pub fn put128(&self, a: Aperture, pa: u64, v: u128) {
            assert!(self.mem.write(a, pa, &v.to_le_bytes()), "{a:?} {pa:#x}");
        }

        /// Reads a u32.
        pub fn get32(&self, a: Aperture, pa: u64) -> u32 {
            let mut b = [0u8; 4];
            assert!(self.mem.read(a, pa, &mut b));
            u32::from_le_bytes(b)
        }
    }

    #[test]
    fn apertures_reach_vram_and_guest_ram() {
        let r = Rig::new();
        r.put64(Aperture::Video, 0x1000, 0x1122);
        r.put64(Aperture::SysCoherent, GPA + 8, 0x3344);
        assert_eq!(r.get32(Aperture::Video, 0x1000), 0x1122);
        assert_eq!(r.get32(Aperture::SysNonCoherent, GPA + 8), 0x3344);
        let mut b = [0u8; 4];
        assert!(!r.mem.read(Aperture::Peer, 0, &mut b));
        assert!(!r.mem.read(Aperture::Video, VRAM, &mut b));
        assert!(!r.mem.write(Aperture::SysCoherent, GPA + RAM, &b));
    }
}
