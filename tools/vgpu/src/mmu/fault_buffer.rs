// SPDX-License-Identifier: GPL-2.0
//! The MMU fault buffers: rings of 32-byte `MMU_FAULT_BUFFER` (class 0xC369) entries the MMU
//! writes faults into (docs/facts/ga102.md §12.5). Buffer 0 takes non-replayable faults, buffer 1
//! replayable ones (the model produces none). Registers, PF view of the VF window (OD
//! `ampere/ga102/dev_vm.ref.txt` L158-211):
//!
//! | BAR0 (i = 0, 1) | Register | Fields |
//! |---|---|---|
//! | 0xB83000 + 32i | `NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_LO(i)` | ADDR_MODE 0 (0 VIRTUAL, 1 PHYSICAL), PHYS_APERTURE 2:1 (0 LOCAL, 2 SYS_COH, 3 SYS_NCOH), PHYS_VOL 3, ADDR 31:12 |
//! | 0xB83004 + 32i | `..._HI(i)` | ADDR 31:0 (address bits 63:32) |
//! | 0xB83008 + 32i | `..._GET(i)` | PTR 19:0 (written by software), GETPTR_CORRUPTED 30 and OVERFLOW 31 (write 1 to clear) |
//! | 0xB8300C + 32i | `..._PUT(i)` | read-only: PTR 19:0, GETPTR_CORRUPTED 30, OVERFLOW 31 |
//! | 0xB83010 + 32i | `..._SIZE(i)` | VAL 19:0 (entries), OVERFLOW_INTR 29, SET_DEFAULT 30, ENABLE 31 |
//!
//! Behaviour (the manual gives the fields only; the rest is the model's reading, with what RM
//! does with them):
//! - A fault with ENABLE set is written at `ADDR + PUT × 32` and PUT advances, wrapping at
//!   VAL. One entry always stays free: the ring is full when PUT + 1 = GET (mod VAL) — RM
//!   sizes its buffers so that "1 entry used for Full detection" (OG 570.144
//!   `kern_gmmu_gv100.c` L954). A fault that finds the ring full is dropped and sets OVERFLOW
//!   (in GET and PUT: one flag; RM calls it fatal, "fault packet loss", L1493-1499).
//! - GET ≥ VAL when a fault arrives (RM's "Buffer overflow detected due to GET > SIZE",
//!   L463-469): the fault is dropped and GETPTR_CORRUPTED is set.
//! - Writing GET with bit 31 / bit 30 set clears OVERFLOW / GETPTR_CORRUPTED.
//! - SET_DEFAULT (write 1) loads VAL with the hardware default, [`DEFAULT_ENTRIES`] (RM sets
//!   it and reads VAL back, OG 570.144 `kern_gmmu_tu102.c` L542-560; GA102's default is not
//!   published: model choice); it reads 0.
//! - Writing SIZE with ENABLE 0 resets GET and PUT to 0 and clears both flags (RM resets its
//!   cached GET then, "which will be 0", `kern_gmmu_tu102.c` L579).
//! - ADDR_MODE VIRTUAL names a BAR2 virtual address (RM places its buffers in BAR2,
//!   `kern_gmmu_gv100.c` L1483-1485); BAR2 is not modelled, so such a buffer takes no entry
//!   (the fault is dropped, traced). PHYS_APERTURE 1 (undefined) and memory that is not there
//!   drop the fault the same way. PUT does not advance for a dropped fault.
//! - `MMU_FAULT_STATUS` shows the rings' flags: NON_REPLAYABLE_OVERFLOW 13 /
//!   REPLAYABLE_OVERFLOW 12 and NON_REPLAYABLE_GETPTR_CORRUPTED 15 / REPLAYABLE_GETPTR_CORRUPTED
//!   14 mirror buffer 0's / 1's flags (L313-336, read-only there).
//!
//! INIT: every register 0 (the manual's GET/PUT/SIZE reset values; LO/HI have none, 0 here).

use super::format::Aperture;
use super::walk::PhysMem;

/// Number of fault buffers.
pub const BUFFERS: usize = 2;
/// The non-replayable buffer.
pub const NON_REPLAYABLE: usize = 0;
/// The replayable buffer.
pub const REPLAYABLE: usize = 1;
/// Entries `SIZE.SET_DEFAULT` loads (model choice: GA102's hardware default is not published).
pub const DEFAULT_ENTRIES: u32 = 1024;

/// LO.ADDR_MODE = PHYSICAL.
pub const LO_PHYSICAL: u32 = 1 << 0;
/// Bits LO keeps: ADDR_MODE, PHYS_APERTURE, PHYS_VOL, ADDR.
pub const LO_MASK: u32 = 0xffff_f00f;
/// PTR field of GET and PUT.
pub const PTR_MASK: u32 = 0xf_ffff;
/// GET/PUT.GETPTR_CORRUPTED.
pub const GETPTR_CORRUPTED: u32 = 1 << 30;
/// GET/PUT.OVERFLOW.
pub const OVERFLOW: u32 = 1 << 31;
/// SIZE.VAL.
pub const SIZE_VAL: u32 = 0xf_ffff;
/// SIZE.OVERFLOW_INTR.
pub const SIZE_OVERFLOW_INTR: u32 = 1 << 29;
/// SIZE.SET_DEFAULT.
pub const SIZE_SET_DEFAULT: u32 = 1 << 30;
/// SIZE.ENABLE.
pub const SIZE_ENABLE: u32 = 1 << 31;

/// What became of a fault offered to a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Written at this entry index; PUT advanced.
    Written(u32),
    /// SIZE.ENABLE is clear: nothing written.
    Disabled,
    /// The ring was full: dropped, OVERFLOW set.
    Overflow,
    /// GET was beyond VAL: dropped, GETPTR_CORRUPTED set.
    GetCorrupted,
    /// ADDR_MODE VIRTUAL (a BAR2 address; BAR2 is not modelled): dropped.
    Virtual,
    /// PHYS_APERTURE 1, or no memory at the entry's address: dropped.
    Unreachable(u64),
}

impl Push {
    /// Short form for the trace and the MMU log.
    pub fn describe(self) -> String {
        match self {
            Push::Written(i) => format!("entry:{i}"),
            Push::Disabled => "disabled".into(),
            Push::Overflow => "overflow".into(),
            Push::GetCorrupted => "getptr_corrupted".into(),
            Push::Virtual => "virtual_unmodelled".into(),
            Push::Unreachable(a) => format!("unreachable:{a:#x}"),
        }
    }
}

/// One fault buffer's registers and state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultBuffer {
    lo: u32,
    hi: u32,
    get: u32,
    put: u32,
    size: u32,
    overflow: bool,
    corrupted: bool,
}

impl FaultBuffer {
    fn flags(&self) -> u32 {
        (if self.corrupted { GETPTR_CORRUPTED } else { 0 })
            | (if self.overflow { OVERFLOW } else { 0 })
    }

    /// `LO`.
    pub fn lo(&self) -> u32 {
        self.lo
    }

    /// `HI`.
    pub fn hi(&self) -> u32 {
        self.hi
    }

    /// `GET`.
    pub fn get(&self) -> u32 {
        self.get | self.flags()
    }

    /// `PUT`.
    pub fn put(&self) -> u32 {
        self.put | self.flags()
    }

    /// `SIZE` (SET_DEFAULT reads 0).
    pub fn size(&self) -> u32 {
        self.size
    }

    /// OVERFLOW.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// GETPTR_CORRUPTED.
    pub fn corrupted(&self) -> bool {
        self.corrupted
    }

    /// Where the ring is and how it is addressed: (physical, aperture, base address).
    pub fn base(&self) -> (bool, Option<Aperture>, u64) {
        let ap = match (self.lo >> 1) & 3 {
            0 => Some(Aperture::Video),
            2 => Some(Aperture::SysCoherent),
            3 => Some(Aperture::SysNonCoherent),
            _ => None,
        };
        (
            self.lo & LO_PHYSICAL != 0,
            ap,
            (u64::from(self.hi) << 32) | u64::from(self.lo & 0xffff_f000),
        )
    }

    /// A CPU write of `LO`.
    pub fn write_lo(&mut self, v: u32) {
        self.lo = v & LO_MASK;
    }

    /// A CPU write of `HI`.
    pub fn write_hi(&mut self, v: u32) {
        self.hi = v;
    }

    /// A CPU write of `GET`: the pointer, and 1s clear the two flags.
    pub fn write_get(&mut self, v: u32) {
        self.get = v & PTR_MASK;
        if v & OVERFLOW != 0 {
            self.overflow = false;
        }
        if v & GETPTR_CORRUPTED != 0 {
            self.corrupted = false;
        }
    }

    /// A CPU write of `SIZE`.
    pub fn write_size(&mut self, v: u32) {
        let val = if v & SIZE_SET_DEFAULT != 0 {
            DEFAULT_ENTRIES
        } else {
            v & SIZE_VAL
        };
        self.size = val | (v & (SIZE_OVERFLOW_INTR | SIZE_ENABLE));
        if v & SIZE_ENABLE == 0 {
            self.get = 0;
            self.put = 0;
            self.overflow = false;
            self.corrupted = false;
        }
    }

    /// Offers the 32-byte `entry` to the ring in `mem`.
    pub fn push(&mut self, mem: &dyn PhysMem, entry: &[u8]) -> Push {
        if self.size & SIZE_ENABLE == 0 {
            return Push::Disabled;
        }
        let n = self.size & SIZE_VAL;
        if self.get >= n {
            self.corrupted = true;
            return Push::GetCorrupted;
        }
        if (self.put + 1) % n == self.get {
            self.overflow = true;
            return Push::Overflow;
        }
        let (physical, ap, base) = self.base();
        if !physical {
            return Push::Virtual;
        }
        let at = base.wrapping_add(u64::from(self.put) * entry.len() as u64);
        match ap {
            Some(a) if mem.write(a, at, entry) => {}
            _ => return Push::Unreachable(at),
        }
        let i = self.put;
        self.put = (self.put + 1) % n;
        Push::Written(i)
    }
}

/// Both buffers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultBuffers(pub [FaultBuffer; BUFFERS]);

impl FaultBuffers {
    /// The `MMU_FAULT_STATUS` bits the rings drive: REPLAYABLE_OVERFLOW 12,
    /// NON_REPLAYABLE_OVERFLOW 13, REPLAYABLE_GETPTR_CORRUPTED 14,
    /// NON_REPLAYABLE_GETPTR_CORRUPTED 15.
    pub fn status_bits(&self) -> u32 {
        let (nr, r) = (&self.0[NON_REPLAYABLE], &self.0[REPLAYABLE]);
        (u32::from(r.overflow) << 12)
            | (u32::from(nr.overflow) << 13)
            | (u32::from(r.corrupted) << 14)
            | (u32::from(nr.corrupted) << 15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::mem::testing::{Rig, GPA};

    fn entry(tag: u8) -> [u8; 32] {
        [tag; 32]
    }

    #[test]
    fn registers_keep_their_fields() {
        let mut b = FaultBuffer::default();
        b.write_lo(0xffff_ffff);
        assert_eq!(b.lo(), 0xffff_f00f);
        b.write_hi(0x1234);
        assert_eq!(
            b.base(),
            (true, Some(Aperture::SysNonCoherent), 0x1234_ffff_f000)
        );
        b.write_size(SIZE_SET_DEFAULT | SIZE_ENABLE | 5);
        assert_eq!(
            b.size(),
            DEFAULT_ENTRIES | SIZE_ENABLE,
            "SET_DEFAULT reads 0"
        );
        b.write_size(!SIZE_SET_DEFAULT);
        assert_eq!(b.size(), SIZE_VAL | SIZE_OVERFLOW_INTR | SIZE_ENABLE);
        b.write_get(0xffff_ffff);
        assert_eq!(b.get(), PTR_MASK);
        assert_eq!(b.put(), 0);
    }

    #[test]
    fn entries_wrap_and_the_full_ring_overflows() {
        let r = Rig::new();
        let mut b = FaultBuffer::default();
        let base = GPA + 0x2000;
        b.write_lo(LO_PHYSICAL | (2 << 1) | base as u32);
        b.write_hi((base >> 32) as u32);
        assert_eq!(b.push(&r.mem, &entry(1)), Push::Disabled);
        b.write_size(SIZE_ENABLE | 4);
        for (i, tag) in [(0u32, 1u8), (1, 2), (2, 3)] {
            assert_eq!(b.push(&r.mem, &entry(tag)), Push::Written(i));
            assert_eq!(
                r.get32(Aperture::SysCoherent, base + 32 * u64::from(i)),
                u32::from_le_bytes([tag; 4])
            );
        }
        assert_eq!(b.put(), 3);
        // PUT + 1 == GET (0): full.
        assert_eq!(b.push(&r.mem, &entry(4)), Push::Overflow);
        assert_eq!(b.put(), 3 | OVERFLOW);
        assert_eq!(b.get(), OVERFLOW);
        // Software consumed two entries and clears OVERFLOW: PUT wraps to 0.
        b.write_get(2 | OVERFLOW);
        assert_eq!(b.push(&r.mem, &entry(5)), Push::Written(3));
        assert_eq!(b.push(&r.mem, &entry(6)), Push::Written(0));
        assert_eq!(b.put(), 1);
        assert_eq!(r.get32(Aperture::SysCoherent, base), 0x0606_0606);
        assert_eq!(b.push(&r.mem, &entry(7)), Push::Overflow);
    }

    #[test]
    fn dropped_faults() {
        let r = Rig::new();
        let mut b = FaultBuffer::default();
        b.write_size(SIZE_ENABLE | 8);
        assert_eq!(
            b.push(&r.mem, &entry(1)),
            Push::Virtual,
            "ADDR_MODE VIRTUAL"
        );
        b.write_lo(LO_PHYSICAL | (1 << 1));
        assert_eq!(b.push(&r.mem, &entry(1)), Push::Unreachable(0));
        b.write_lo(LO_PHYSICAL | (3 << 1));
        assert_eq!(
            b.push(&r.mem, &entry(1)),
            Push::Unreachable(0),
            "no guest RAM at 0"
        );
        assert_eq!(b.put(), 0, "PUT does not move for a dropped fault");
        b.write_get(9);
        assert_eq!(b.push(&r.mem, &entry(1)), Push::GetCorrupted);
        assert_eq!(b.get(), 9 | GETPTR_CORRUPTED);
        let bufs = FaultBuffers([b, FaultBuffer::default()]);
        assert_eq!(bufs.status_bits(), 1 << 15);
        b.write_get(GETPTR_CORRUPTED);
        assert_eq!(b.get(), 0);
        // Disabling resets the pointers and flags.
        b.write_get(3);
        b.write_size(8);
        assert_eq!((b.get(), b.put()), (0, 0));
    }
}
