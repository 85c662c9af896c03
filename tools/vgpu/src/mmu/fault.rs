// SPDX-License-Identifier: GPL-2.0
//! MMU faults as the hardware reports them (docs/facts/ga102.md §12.5).
//!
//! A [`Fault`] carries the fields of a fault packet. Two encodings:
//! - the 32-byte fault-buffer entry of class `MMU_FAULT_BUFFER` (0xC369; OG 570.144
//!   `src/common/sdk/nvidia/inc/class/clc369.h` L34-67): w0 INST_APERTURE 9:8, INST_LO 31:12;
//!   w1 INST_HI; w2 ADDR_PHYS_APERTURE 1:0, ADDR_LO 31:12; w3 ADDR_HI; w4-w5 TIMESTAMP; w6
//!   ENGINE_ID 8:0; w7 FAULT_TYPE 4:0, REPLAYABLE_FAULT 7, CLIENT 14:8, ACCESS_TYPE 19:16,
//!   MMU_CLIENT_TYPE 20, GPC_ID 28:24, PROTECTED_MODE 29, REPLAYABLE_FAULT_EN 30, VALID 31;
//! - the fault snapshot registers in the PF's view of the VF window ([`FaultRegs`]; OD
//!   `ampere/ga102/dev_vm.ref.txt` L217-344): `MMU_FAULT_ADDR_LO` 0xB83080 (PHYS_APERTURE 1:0,
//!   ADDR 31:12), `_ADDR_HI` 0xB83084, `_INST_LO` 0xB83088 (ENGINE_ID 8:0, APERTURE 11:10,
//!   ADDR 31:12), `_INST_HI` 0xB8308C, `_INFO` 0xB83090 (the fields of w7), `_STATUS` 0xB83094
//!   (DROPPED_BAR1_PHYS 0, DROPPED_BAR1_VIRT 1, DROPPED_BAR2_* 2-3, DROPPED_IFB_* 4-5,
//!   DROPPED_OTHER_* 6-7, write 1 to clear; the buffer status bits 8-15 and BUSY 30 read 0
//!   here; VALID 31, write 1 to clear).
//!
//! BAR1 faults are reported through the snapshot registers: RM looks for BAR1 faults only
//! there (`kgmmuServicePriFaults_GV100`, OG 570.144 `kern_gmmu_gv100.c` L2462-2497, by the
//! snapped ENGINE_ID), and reads then clears STATUS.VALID (L2578-2579; nouveau the same at
//! 0xB83094, `nvkm/subdev/fault/tu102.c` L92-111). The model snaps a fault when STATUS.VALID
//! is clear; while it is set, a further BAR1 virtual fault only sets DROPPED_BAR1_VIRT (the
//! model's reading of the field name; the manual gives no prose).
//!
//! A BAR1 fault's fields: ENGINE_ID `NV_PFAULT_MMU_ENG_ID_BAR1` = 128 (OG 570.144
//! `ampere/ga100/dev_fault.h` L30); CLIENT `HUB_HOST_CPU` (7, L117; the model's choice for a
//! CPU access, no source names the BAR1 client); MMU_CLIENT_TYPE HUB (1); ACCESS_TYPE
//! VIRT_READ (0) / VIRT_WRITE (1) (OD `turing/tu104/dev_fault.ref.txt` L43-54); not
//! replayable; the instance block is BAR1's; ADDR is the VA, 4 KiB aligned.
//!
//! An engine's fault ([`Fault::engine`], e.g. copy engine 0 through the test port,
//! [`super::engine`]) carries the engine's MMU engine id and HUB client id (CE0: ENGINE_ID
//! `NV_PFAULT_MMU_ENG_ID_CE0` = 15, CLIENT `NV_PFAULT_CLIENT_HUB_CE0` = 1; OG 570.144
//! `src/common/inc/swref/published/ampere/ga100/dev_fault.h` L42, L108 — OD's
//! `dev_fault.ref.txt` lists fault types and access types but no engine or client ids) and the
//! engine's instance block. It is snapped into the registers the same way, except that a
//! fault arriving while STATUS.VALID is set sets DROPPED_OTHER_VIRT (7) (model's reading of
//! the name, as for BAR1), and it is also written to the non-replayable fault buffer
//! ([`super::fault_buffer`]).

use super::walk::{Access, FaultType};

/// `NV_PFAULT_MMU_ENG_ID_BAR1`.
pub const ENGINE_BAR1: u16 = 128;
/// `NV_PFAULT_CLIENT_HUB_HOST_CPU`.
pub const CLIENT_HUB_HOST_CPU: u8 = 7;
/// `NV_PFAULT_MMU_CLIENT_TYPE_HUB`.
pub const CLIENT_TYPE_HUB: bool = true;
/// `MMU_FAULT_BUFFER` (class 0xC369) entry size.
pub const ENTRY_SIZE: usize = 32;

/// STATUS.DROPPED_BAR1_PHYS.
pub const STATUS_DROPPED_BAR1_PHYS: u32 = 1 << 0;
/// STATUS.DROPPED_BAR1_VIRT.
pub const STATUS_DROPPED_BAR1_VIRT: u32 = 1 << 1;
/// STATUS.DROPPED_OTHER_VIRT.
pub const STATUS_DROPPED_OTHER_VIRT: u32 = 1 << 7;
/// STATUS.VALID.
pub const STATUS_VALID: u32 = 1 << 31;
/// STATUS bits a write of 1 clears: the DROPPED_* bits and VALID.
pub const STATUS_W1C: u32 = 0xff | STATUS_VALID;

/// An MMU client: an engine behind the hub with its fault-packet identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// Name for the trace and the MMU log.
    pub name: &'static str,
    /// ENGINE_ID (`NV_PFAULT_MMU_ENG_ID_*`).
    pub engine_id: u16,
    /// CLIENT (`NV_PFAULT_CLIENT_HUB_*`).
    pub client: u8,
}

/// Copy engine 0: `NV_PFAULT_MMU_ENG_ID_CE0` 15, `NV_PFAULT_CLIENT_HUB_CE0` 1 (OG 570.144
/// `ampere/ga100/dev_fault.h` L42, L108; the same ids in `ada/ad102/dev_fault.h`).
pub const CE0: Client = Client {
    name: "CE0",
    engine_id: 15,
    client: 1,
};

/// One fault packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// INST_APERTURE (0 VID_MEM, 2 SYS_MEM_COHERENT, 3 SYS_MEM_NONCOHERENT).
    pub inst_aperture: u32,
    /// Instance block address (4 KiB aligned).
    pub inst: u64,
    /// The faulting address (its 4 KiB page is reported).
    pub addr: u64,
    /// ADDR_PHYS_APERTURE (physical faults only; 0 for virtual ones).
    pub phys_aperture: u32,
    /// TIMESTAMP (ns).
    pub timestamp: u64,
    /// ENGINE_ID.
    pub engine_id: u16,
    /// FAULT_TYPE.
    pub fault_type: FaultType,
    /// REPLAYABLE_FAULT.
    pub replayable: bool,
    /// CLIENT.
    pub client: u8,
    /// ACCESS_TYPE.
    pub access_type: u32,
    /// MMU_CLIENT_TYPE: HUB (true) or GPC.
    pub hub_client: bool,
    /// GPC_ID.
    pub gpc_id: u8,
    /// PROTECTED_MODE.
    pub protected_mode: bool,
    /// REPLAYABLE_FAULT_EN.
    pub replayable_en: bool,
}

impl Fault {
    /// A fault of a CPU access through BAR1 at `va`, with BAR1's instance block.
    pub fn bar1(
        va: u64,
        inst_aperture: u32,
        inst: u64,
        access: Access,
        f: FaultType,
        timestamp: u64,
    ) -> Fault {
        Fault {
            inst_aperture,
            inst,
            addr: va,
            phys_aperture: 0,
            timestamp,
            engine_id: ENGINE_BAR1,
            fault_type: f,
            replayable: false,
            client: CLIENT_HUB_HOST_CPU,
            access_type: access.fault_code(),
            hub_client: CLIENT_TYPE_HUB,
            gpc_id: 0,
            protected_mode: false,
            replayable_en: false,
        }
    }

    /// A fault of `client` (a HUB client) at `va` through the instance block at `inst`
    /// (INST_APERTURE encoding `inst_aperture`).
    pub fn engine(
        client: &Client,
        va: u64,
        inst_aperture: u32,
        inst: u64,
        access: Access,
        f: FaultType,
        timestamp: u64,
    ) -> Fault {
        Fault {
            engine_id: client.engine_id,
            client: client.client,
            ..Fault::bar1(va, inst_aperture, inst, access, f, timestamp)
        }
    }

    /// The INFO word (also word 7 of the buffer entry), VALID set.
    pub fn info(&self) -> u32 {
        (self.fault_type as u32)
            | (u32::from(self.replayable) << 7)
            | (u32::from(self.client & 0x7f) << 8)
            | ((self.access_type & 0xf) << 16)
            | (u32::from(self.hub_client) << 20)
            | (u32::from(self.gpc_id & 0x1f) << 24)
            | (u32::from(self.protected_mode) << 29)
            | (u32::from(self.replayable_en) << 30)
            | (1 << 31)
    }

    /// The 32-byte `MMU_FAULT_BUFFER` entry.
    pub fn buffer_entry(&self) -> [u8; ENTRY_SIZE] {
        let w = [
            ((self.inst_aperture & 3) << 8) | (self.inst as u32 & 0xffff_f000),
            (self.inst >> 32) as u32,
            (self.phys_aperture & 3) | (self.addr as u32 & 0xffff_f000),
            (self.addr >> 32) as u32,
            self.timestamp as u32,
            (self.timestamp >> 32) as u32,
            u32::from(self.engine_id & 0x1ff),
            self.info(),
        ];
        let mut b = [0u8; ENTRY_SIZE];
        for (i, v) in w.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
}

/// The fault snapshot registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultRegs {
    /// `MMU_FAULT_ADDR_LO`.
    pub addr_lo: u32,
    /// `MMU_FAULT_ADDR_HI`.
    pub addr_hi: u32,
    /// `MMU_FAULT_INST_LO`.
    pub inst_lo: u32,
    /// `MMU_FAULT_INST_HI`.
    pub inst_hi: u32,
    /// `MMU_FAULT_INFO`.
    pub info: u32,
    /// `MMU_FAULT_STATUS`.
    pub status: u32,
}

impl FaultRegs {
    /// Reports a BAR1 virtual fault: snapped if STATUS.VALID is clear, else counted as dropped.
    /// Returns whether it was snapped.
    pub fn bar1_virtual(&mut self, f: &Fault) -> bool {
        self.latch(f, STATUS_DROPPED_BAR1_VIRT)
    }

    /// Snaps `f` if STATUS.VALID is clear, else sets the `dropped` STATUS bit. Returns whether
    /// it was snapped.
    pub fn latch(&mut self, f: &Fault, dropped: u32) -> bool {
        if self.status & STATUS_VALID != 0 {
            self.status |= dropped;
            return false;
        }
        self.addr_lo = (f.phys_aperture & 3) | (f.addr as u32 & 0xffff_f000);
        self.addr_hi = (f.addr >> 32) as u32;
        self.inst_lo = u32::from(f.engine_id & 0x1ff)
            | ((f.inst_aperture & 3) << 10)
            | (f.inst as u32 & 0xffff_f000);
        self.inst_hi = (f.inst >> 32) as u32;
        self.info = f.info();
        self.status |= STATUS_VALID;
        true
    }

    /// A CPU write of `MMU_FAULT_STATUS`: 1s clear VALID and the DROPPED bits.
    pub fn write_status(&mut self, v: u32) {
        self.status &= !(v & STATUS_W1C);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Fault {
        Fault::bar1(
            0x12_3456_7890,
            0,
            0x5_f3e0_2000,
            Access::Write,
            FaultType::Pte,
            0x1_0000_0002,
        )
    }

    #[test]
    fn buffer_entry_layout() {
        let b = sample().buffer_entry();
        let w = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(w(0), 0xf3e0_2000, "INST_APERTURE 0 (VID_MEM), INST_LO");
        assert_eq!(w(1), 5, "INST_HI");
        assert_eq!(
            w(2),
            0x3456_7000,
            "ADDR_LO (4 KiB aligned), PHYS_APERTURE 0"
        );
        assert_eq!(w(3), 0x12, "ADDR_HI");
        assert_eq!((w(4), w(5)), (2, 1), "TIMESTAMP");
        assert_eq!(w(6), 128, "ENGINE_ID BAR1");
        // FAULT_TYPE PTE 2, CLIENT 7, ACCESS_TYPE VIRT_WRITE 1, HUB, VALID.
        assert_eq!(w(7), 2 | (7 << 8) | (1 << 16) | (1 << 20) | (1 << 31));
        let s = Fault {
            inst_aperture: 3,
            phys_aperture: 2,
            replayable: true,
            gpc_id: 0x1f,
            protected_mode: true,
            replayable_en: true,
            hub_client: false,
            ..sample()
        };
        let b = s.buffer_entry();
        assert_eq!(b[1] & 3, 3, "INST_APERTURE 9:8");
        assert_eq!(b[8] & 3, 2, "ADDR_PHYS_APERTURE 1:0");
        let w7 = u32::from_le_bytes(b[28..32].try_into().unwrap());
        assert_eq!(w7 & (1 << 7), 1 << 7);
        assert_eq!((w7 >> 24) & 0x1f, 0x1f);
        assert_eq!(w7 & (7 << 28), 7 << 28);
        assert_eq!(w7 & (1 << 20), 0, "GPC client");
    }

    #[test]
    fn snapshot_registers_and_dropped_faults() {
        let mut r = FaultRegs::default();
        let f = sample();
        assert!(r.bar1_virtual(&f));
        assert_eq!(r.addr_lo, 0x3456_7000);
        assert_eq!(r.addr_hi, 0x12);
        assert_eq!(
            r.inst_lo,
            0xf3e0_2000 | 128,
            "ENGINE_ID 8:0, APERTURE 11:10 = VID_MEM"
        );
        assert_eq!(r.inst_hi, 5);
        assert_eq!(r.info, f.info());
        assert_eq!(r.status, STATUS_VALID);
        // A second fault while VALID: not snapped, DROPPED_BAR1_VIRT.
        let g = Fault::bar1(0x1000, 0, 0x5_f3e0_2000, Access::Read, FaultType::Pde, 0);
        assert!(!r.bar1_virtual(&g));
        assert_eq!(r.addr_lo, 0x3456_7000);
        assert_eq!(r.status, STATUS_VALID | STATUS_DROPPED_BAR1_VIRT);
        // RM/nouveau clear VALID by writing it (other bits written 0 stay).
        r.write_status(STATUS_VALID);
        assert_eq!(r.status, STATUS_DROPPED_BAR1_VIRT);
        r.write_status(0xffff_ffff);
        assert_eq!(r.status, 0);
        assert!(r.bar1_virtual(&g));
        assert_eq!(r.info & 0x1f, 0, "PDE");
        assert_eq!((r.info >> 16) & 0xf, 0, "VIRT_READ");
    }
}
