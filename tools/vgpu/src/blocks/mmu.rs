// SPDX-License-Identifier: GPL-2.0
//! The MMU registers in the PF's view of the virtual-function window (BAR0 0xB80000 + VF
//! offset: `NV_VIRTUAL_FUNCTION_FULL_PHYS_OFFSET` 0xBBFFFF:0xB80000, OD
//! `ampere/ga102/dev_vm.ref.txt` L24; docs/facts/ga102.md §12.4). Trace block `mmu`.
//!
//! | BAR0 | Register | Behaviour | Source (OD ga102 dev_vm.ref.txt) |
//! |---|---|---|---|
//! | 0xB83000 + 32i, i < 2 | `NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_LO(i)` | ADDR_MODE 0, PHYS_APERTURE 2:1, PHYS_VOL 3, ADDR 31:12 read/write; other bits read 0 | L158-169 |
//! | 0xB83004 + 32i | `..._MMU_FAULT_BUFFER_HI(i)` | ADDR 31:0 read/write | L170-173 |
//! | 0xB83008 + 32i | `..._MMU_FAULT_BUFFER_GET(i)` | PTR 19:0 read/write; GETPTR_CORRUPTED 30, OVERFLOW 31 set by the MMU, cleared by writing 1 | L174-186 |
//! | 0xB8300C + 32i | `..._MMU_FAULT_BUFFER_PUT(i)` | read-only: PTR 19:0 (advanced by the MMU), GETPTR_CORRUPTED 30, OVERFLOW 31 | L187-197 |
//! | 0xB83010 + 32i | `..._MMU_FAULT_BUFFER_SIZE(i)` | VAL 19:0, OVERFLOW_INTR 29, ENABLE 31 read/write; SET_DEFAULT 30 loads VAL with the default and reads 0; ENABLE 0 resets GET/PUT | L198-211 |
//! | 0xB83080 / 0xB83084 | `NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_ADDR_LO` / `_HI` | read-only: the snapped fault's PHYS_APERTURE 1:0 and address 31:12 / 63:32 | L217-229 |
//! | 0xB83088 / 0xB8308C | `..._MMU_FAULT_INST_LO` / `_HI` | read-only: ENGINE_ID 8:0, APERTURE 11:10, instance block 31:12 / 63:32 | L230-244 |
//! | 0xB83090 | `..._MMU_FAULT_INFO` | read-only: FAULT_TYPE 4:0, REPLAYABLE_FAULT 7, CLIENT 14:8, ACCESS_TYPE 19:16, CLIENT_TYPE 20, GPC_ID 28:24, PROTECTED_MODE 29, REPLAYABLE_FAULT_EN 30, VALID 31 | L245-278 |
//! | 0xB83094 | `..._MMU_FAULT_STATUS` | DROPPED_* 7:0 and VALID 31 set by the MMU, cleared by writing 1; REPLAYABLE_/NON_REPLAYABLE_OVERFLOW 12/13 and _GETPTR_CORRUPTED 14/15 mirror the fault buffers' flags; other bits read 0 | L279-344 |
//! | 0xB830A0 | `NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE_PDB` | APERTURE 1 (0 VID_MEM, 1 SYS_MEM) and ADDR 31:4 = PDB >> 12 stored; other bits read 0 | L346-354 |
//! | 0xB830A4 | `..._MMU_INVALIDATE_UPPER_PDB` | ADDR 19:0 stored: the PDB bits above ADDR's 28, i.e. PDB >> 40 (how OG 570.144 `kern_gmmu_tu102.c` L137-147 fills it) | L355-357 |
//! | 0xB830B0 | `..._MMU_INVALIDATE` | fields stored; a write with TRIGGER (31) performs the invalidate at once; TRIGGER reads 1 on the first read after it and 0 from then on (self-clearing; drivers poll it, nouveau `vmmtu102.c` L45-49) | L359-418 |
//!
//! An invalidate with ALL_VA (0) drops cached translations of the PDB named by
//! INVALIDATE_PDB/UPPER_PDB, or of every PDB with ALL_PDB (1), at CACHE_LEVEL (26:24; see
//! [`crate::mmu::tlb`]). HUBTLB_ONLY (2) changes nothing: the model has only the hub TLB.
//! ALL_VA = 0 asks for one VA, whose register (`NV_PFB_PRI_MMU_INVALIDATE_VADDR`, OD
//! `turing/tu104/pri_mmu_hub.ref.txt` L96) is not in this window: the model invalidates nothing
//! and says so in the trace. REPLAY (5:3), SYS_MEMBAR, ACK, the CANCEL fields, INVAL_SCOPE,
//! USE_PASID, USE_SIZE and PROP_FLUSH are stored and otherwise ignored (a non-zero REPLAY is
//! traced: replayable faults are not modelled).
//!
//! The fault buffers' behaviour (where entries go, wrap, overflow) is in
//! [`crate::mmu::fault_buffer`].

use super::Block;
use crate::mmu::hub::Hub;
use crate::mmu::tlb::{CacheLevel, PdbKey};

/// `..._MMU_FAULT_BUFFER_LO(0)`; buffer i's registers are 32 bytes further on.
pub const FAULT_BUFFER_LO: u32 = 0xb8_3000;
/// `..._MMU_FAULT_BUFFER_HI(0)`.
pub const FAULT_BUFFER_HI: u32 = 0xb8_3004;
/// `..._MMU_FAULT_BUFFER_GET(0)`.
pub const FAULT_BUFFER_GET: u32 = 0xb8_3008;
/// `..._MMU_FAULT_BUFFER_PUT(0)`.
pub const FAULT_BUFFER_PUT: u32 = 0xb8_300c;
/// `..._MMU_FAULT_BUFFER_SIZE(0)`.
pub const FAULT_BUFFER_SIZE: u32 = 0xb8_3010;
/// Stride between the two buffers' registers.
pub const FAULT_BUFFER_STRIDE: u32 = 32;
/// `..._MMU_FAULT_ADDR_LO`.
pub const FAULT_ADDR_LO: u32 = 0xb8_3080;
/// `..._MMU_FAULT_ADDR_HI`.
pub const FAULT_ADDR_HI: u32 = 0xb8_3084;
/// `..._MMU_FAULT_INST_LO`.
pub const FAULT_INST_LO: u32 = 0xb8_3088;
/// `..._MMU_FAULT_INST_HI`.
pub const FAULT_INST_HI: u32 = 0xb8_308c;
/// `..._MMU_FAULT_INFO`.
pub const FAULT_INFO: u32 = 0xb8_3090;
/// `..._MMU_FAULT_STATUS`.
pub const FAULT_STATUS: u32 = 0xb8_3094;
/// `..._MMU_INVALIDATE_PDB`.
pub const INVALIDATE_PDB: u32 = 0xb8_30a0;
/// `..._MMU_INVALIDATE_UPPER_PDB`.
pub const INVALIDATE_UPPER_PDB: u32 = 0xb8_30a4;
/// `..._MMU_INVALIDATE`.
pub const INVALIDATE: u32 = 0xb8_30b0;

/// INVALIDATE.ALL_VA.
pub const ALL_VA: u32 = 1 << 0;
/// INVALIDATE.ALL_PDB.
pub const ALL_PDB: u32 = 1 << 1;
/// INVALIDATE.HUBTLB_ONLY.
pub const HUBTLB_ONLY: u32 = 1 << 2;
/// INVALIDATE.TRIGGER.
pub const TRIGGER: u32 = 1 << 31;

/// The block.
pub struct Mmu {
    hub: Hub,
    pdb: u32,
    upper: u32,
    inval: u32,
    /// Reads of INVALIDATE that still show TRIGGER.
    pending: u32,
}

impl Mmu {
    /// The registers at power-on, on `hub`.
    pub fn new(hub: Hub) -> Self {
        Mmu {
            hub,
            pdb: 0,
            upper: 0,
            inval: 0,
            pending: 0,
        }
    }

    /// The PDB INVALIDATE_PDB and UPPER_PDB name.
    pub fn pdb_key(&self) -> PdbKey {
        PdbKey {
            sys: self.pdb & 2 != 0,
            addr: (u64::from(self.upper & 0xf_ffff) << 40) | (u64::from(self.pdb >> 4) << 12),
        }
    }

    fn trigger(&mut self, v: u32) {
        let mut hub = self.hub.lock();
        let replay = (v >> 3) & 7;
        if replay != 0 {
            hub.tracer().line(
                "mmu",
                format_args!("MMU_INVALIDATE REPLAY {replay}: replayable faults are not modelled"),
            );
        }
        let pdb = (v & ALL_PDB == 0).then(|| self.pdb_key());
        if v & ALL_VA == 0 {
            hub.tracer().line(
                "mmu",
                format_args!(
                    "MMU_INVALIDATE {v:#010x} with ALL_VA = 0: a one-VA invalidate (its VA register is not in this window and not modelled): nothing invalidated"
                ),
            );
            hub.log(format_args!(
                "invalidate pdb={} level={} dropped=0 by=MMU_INVALIDATE all_va=0 ignored",
                pdb.map_or("all".to_string(), |p| p.to_string()),
                CacheLevel::from_field(v >> 24).name()
            ));
            return;
        }
        hub.invalidate(pdb, CacheLevel::from_field(v >> 24), "MMU_INVALIDATE");
    }
}

/// Fault buffer i and its register (as buffer 0's offset) for `off`, if `off` is one of them.
fn buffer_reg(off: u32) -> Option<(usize, u32)> {
    let rel = off.checked_sub(FAULT_BUFFER_LO)?;
    let (i, reg) = (rel / FAULT_BUFFER_STRIDE, rel % FAULT_BUFFER_STRIDE);
    (i < 2 && reg <= FAULT_BUFFER_SIZE - FAULT_BUFFER_LO)
        .then_some((i as usize, FAULT_BUFFER_LO + reg))
}

impl Block for Mmu {
    fn name(&self) -> &'static str {
        "mmu"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[
            (FAULT_BUFFER_LO, FAULT_BUFFER_SIZE + FAULT_BUFFER_STRIDE + 4),
            (FAULT_ADDR_LO, FAULT_STATUS + 4),
            (INVALIDATE_PDB, INVALIDATE_UPPER_PDB + 4),
            (INVALIDATE, INVALIDATE + 4),
        ]
    }

    fn read32(&mut self, off: u32) -> u32 {
        if let Some((i, reg)) = buffer_reg(off) {
            let b = self.hub.lock().fault_buffers().0[i];
            return match reg {
                FAULT_BUFFER_LO => b.lo(),
                FAULT_BUFFER_HI => b.hi(),
                FAULT_BUFFER_GET => b.get(),
                FAULT_BUFFER_PUT => b.put(),
                _ => b.size(),
            };
        }
        match off {
            FAULT_ADDR_LO..=FAULT_STATUS => {
                let hub = self.hub.lock();
                let f = hub.faults();
                match off {
                    FAULT_ADDR_LO => f.addr_lo,
                    FAULT_ADDR_HI => f.addr_hi,
                    FAULT_INST_LO => f.inst_lo,
                    FAULT_INST_HI => f.inst_hi,
                    FAULT_INFO => f.info,
                    _ => f.status | hub.fault_buffers().status_bits(),
                }
            }
            INVALIDATE_PDB => self.pdb,
            INVALIDATE_UPPER_PDB => self.upper,
            INVALIDATE => {
                let t = if self.pending > 0 {
                    self.pending -= 1;
                    TRIGGER
                } else {
                    0
                };
                self.inval | t
            }
            _ => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        if let Some((i, reg)) = buffer_reg(off) {
            let mut hub = self.hub.lock();
            let b = hub.fault_buffer_mut(i);
            match reg {
                FAULT_BUFFER_LO => b.write_lo(val),
                FAULT_BUFFER_HI => b.write_hi(val),
                FAULT_BUFFER_GET => b.write_get(val),
                FAULT_BUFFER_SIZE => b.write_size(val),
                _ => {}
            }
            return;
        }
        match off {
            FAULT_STATUS => self.hub.lock().write_fault_status(val),
            INVALIDATE_PDB => self.pdb = val & 0xffff_fff2,
            INVALIDATE_UPPER_PDB => self.upper = val & 0xf_ffff,
            INVALIDATE => {
                self.inval = val & !TRIGGER;
                if val & TRIGGER != 0 {
                    self.trigger(val);
                    self.pending = 1;
                }
            }
            _ => {}
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        if let Some((i, reg)) = buffer_reg(off) {
            return Some(match (i, reg) {
                (0, FAULT_BUFFER_LO) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_LO(0)",
                (0, FAULT_BUFFER_HI) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_HI(0)",
                (0, FAULT_BUFFER_GET) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_GET(0)",
                (0, FAULT_BUFFER_PUT) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_PUT(0)",
                (0, _) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_SIZE(0)",
                (_, FAULT_BUFFER_LO) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_LO(1)",
                (_, FAULT_BUFFER_HI) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_HI(1)",
                (_, FAULT_BUFFER_GET) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_GET(1)",
                (_, FAULT_BUFFER_PUT) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_PUT(1)",
                (_, _) => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_BUFFER_SIZE(1)",
            });
        }
        Some(match off {
            FAULT_ADDR_LO => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_ADDR_LO",
            FAULT_ADDR_HI => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_ADDR_HI",
            FAULT_INST_LO => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_INST_LO",
            FAULT_INST_HI => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_INST_HI",
            FAULT_INFO => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_INFO",
            FAULT_STATUS => "NV_VIRTUAL_FUNCTION_PRIV_MMU_FAULT_STATUS",
            INVALIDATE_PDB => "NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE_PDB",
            INVALIDATE_UPPER_PDB => "NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE_UPPER_PDB",
            INVALIDATE => "NV_VIRTUAL_FUNCTION_PRIV_MMU_INVALIDATE",
            _ => return None,
        })
    }

    fn reset(&mut self) {
        self.pdb = 0;
        self.upper = 0;
        self.inval = 0;
        self.pending = 0;
        self.hub.lock().reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::format::build::{dual_pde, pde, pte};
    use crate::mmu::format::{Aperture, BigPage};
    use crate::mmu::mem::testing::{Rig, GPA};
    use crate::mmu::walk::{Outcome, Pdb};
    use crate::trace::Tracer;
    use std::sync::Arc;

    const VID: Aperture = Aperture::Video;
    const VA: u64 = 0x1000;

    /// A hub with one VA space at `pd3` mapping VA 0x1000 to `page`; returns the PT entry.
    fn space(r: &Rig, ap: Aperture, pd3: u64, page: u64) -> (Pdb, u64) {
        let t = if ap == VID {
            0x20_0000
        } else {
            GPA + 0x10_0000
        };
        r.put64(ap, pd3, pde(ap, t));
        r.put64(ap, t, pde(ap, t + 0x1000));
        r.put64(ap, t + 0x1000, pde(ap, t + 0x2000));
        r.put128(ap, t + 0x2000, dual_pde(None, Some((ap, t + 0x3000))));
        r.put64(ap, t + 0x3008, pte(VID, page, 0, 0));
        let pdb = Pdb {
            aperture: ap,
            addr: pd3,
            big_page: BigPage::K64,
        };
        (pdb, t + 0x3008)
    }

    fn pa(hub: &Hub, pdb: &Pdb) -> u64 {
        match hub.lock().lookup(pdb, VA).outcome {
            Outcome::Mapped(t) => t.pa,
            o => panic!("{o:?}"),
        }
    }

    fn rig() -> (Rig, Hub, Mmu) {
        let r = Rig::new();
        let hub = Hub::new(
            r.mem.vram.clone(),
            r.mem.guest.clone(),
            Arc::new(Tracer::off()),
        );
        let m = Mmu::new(hub.clone());
        (r, hub, m)
    }

    #[test]
    fn the_invalidate_sequence_drops_one_pdb() {
        let (r, hub, mut m) = rig();
        let (a, a_pte) = space(&r, VID, 0x1_0000, 0x5000);
        assert_eq!(pa(&hub, &a), 0x5000);
        r.put64(VID, a_pte, pte(VID, 0x9000, 0, 0));
        assert_eq!(pa(&hub, &a), 0x5000, "stale until invalidated");
        // nouveau's sequence (docs/facts/ga102.md §12.4): PDB >> 8, UPPER 0, ALL_VA | TRIGGER, poll.
        m.write32(INVALIDATE_PDB, (0x1_0000u64 >> 8) as u32);
        m.write32(INVALIDATE_UPPER_PDB, 0);
        m.write32(INVALIDATE, TRIGGER | ALL_VA);
        assert_eq!(m.read32(INVALIDATE), TRIGGER | ALL_VA, "pending once");
        assert_eq!(m.read32(INVALIDATE), ALL_VA, "TRIGGER self-clears");
        assert_eq!(pa(&hub, &a), 0x9000);
        assert_eq!(hub.lock().tlb_stats().invalidates, 1);
    }

    #[test]
    fn aperture_and_upper_bits_name_the_pdb() {
        let (r, hub, mut m) = rig();
        let (s, s_pte) = space(&r, Aperture::SysNonCoherent, GPA, 0x5000);
        let (v, v_pte) = space(&r, VID, 0x1_0000, 0x6000);
        pa(&hub, &s);
        pa(&hub, &v);
        r.put64(Aperture::SysNonCoherent, s_pte, pte(VID, 0x7000, 0, 0));
        r.put64(VID, v_pte, pte(VID, 0x8000, 0, 0));
        // Aperture bit 1 = SYS_MEM; ADDR = GPA >> 12 (0x80000, fits below bit 40).
        m.write32(INVALIDATE_PDB, ((GPA >> 12) << 4) as u32 | 2);
        m.write32(INVALIDATE, TRIGGER | ALL_VA);
        assert_eq!((pa(&hub, &s), pa(&hub, &v)), (0x7000, 0x6000));
        // UPPER_PDB carries PDB bits 59:40.
        m.write32(INVALIDATE_PDB, 0xffff_ffff);
        m.write32(INVALIDATE_UPPER_PDB, 0xfff_ffff);
        assert_eq!(m.read32(INVALIDATE_PDB), 0xffff_fff2);
        assert_eq!(m.read32(INVALIDATE_UPPER_PDB), 0xf_ffff);
        assert_eq!(
            m.pdb_key(),
            PdbKey {
                sys: true,
                addr: 0x0fff_ffff_ffff_f000
            }
        );
    }

    #[test]
    fn all_pdb_and_targeted_requests() {
        let (r, hub, mut m) = rig();
        let (a, a_pte) = space(&r, VID, 0x1_0000, 0x5000);
        pa(&hub, &a);
        r.put64(VID, a_pte, pte(VID, 0x9000, 0, 0));
        // ALL_VA = 0: nothing happens (its VA register is not modelled).
        m.write32(INVALIDATE, TRIGGER | ALL_PDB);
        assert_eq!(pa(&hub, &a), 0x5000);
        assert_eq!(m.read32(INVALIDATE), TRIGGER | ALL_PDB);
        // Without TRIGGER nothing happens either.
        m.write32(INVALIDATE, ALL_PDB | ALL_VA);
        assert_eq!(pa(&hub, &a), 0x5000);
        assert_eq!(m.read32(INVALIDATE), ALL_PDB | ALL_VA, "no TRIGGER pending");
        // ALL_PDB with a PDB register naming something else.
        m.write32(INVALIDATE_PDB, 0x4560);
        m.write32(
            INVALIDATE,
            TRIGGER | ALL_PDB | ALL_VA | HUBTLB_ONLY | (1 << 3),
        );
        assert_eq!(pa(&hub, &a), 0x9000);
    }

    #[test]
    fn cache_level_reaches_the_tlb() {
        let (r, hub, mut m) = rig();
        let (a, _) = space(&r, VID, 0x1_0000, 0x5000);
        pa(&hub, &a);
        assert_eq!(hub.lock().tlb_len(), 5);
        m.write32(INVALIDATE_PDB, 0x100);
        m.write32(INVALIDATE, TRIGGER | ALL_VA | (1 << 24)); // PTE_ONLY
        assert_eq!(hub.lock().tlb_len(), 4, "the four directory entries stay");
        m.write32(INVALIDATE, TRIGGER | ALL_VA | (4 << 24)); // UP_TO_PDE2
        assert_eq!(hub.lock().tlb_len(), 1, "PD3's entry stays");
    }

    #[test]
    fn reset_clears_registers_and_tlb() {
        let (r, hub, mut m) = rig();
        let (a, _) = space(&r, VID, 0x1_0000, 0x5000);
        pa(&hub, &a);
        m.write32(INVALIDATE_PDB, 0x100);
        m.write32(INVALIDATE_UPPER_PDB, 1);
        m.write32(INVALIDATE, TRIGGER | ALL_VA | ALL_PDB);
        m.reset();
        assert_eq!(hub.lock().tlb_len(), 0);
        for off in [INVALIDATE_PDB, INVALIDATE_UPPER_PDB, INVALIDATE] {
            assert_eq!(m.read32(off), 0);
            assert!(m.reg_name(off).is_some());
        }
        assert_eq!(m.reg_name(INVALIDATE + 4), None);
    }

    #[test]
    fn fault_buffer_registers() {
        let (_r, hub, mut m) = rig();
        for i in 0..2u32 {
            let at = |reg: u32| reg + FAULT_BUFFER_STRIDE * i;
            m.write32(at(FAULT_BUFFER_LO), 0xffff_ffff);
            m.write32(at(FAULT_BUFFER_HI), 0x12 + i);
            m.write32(at(FAULT_BUFFER_SIZE), (1 << 31) | (1 << 30));
            m.write32(at(FAULT_BUFFER_GET), 3);
            m.write32(at(FAULT_BUFFER_PUT), 7); // read-only
            assert_eq!(m.read32(at(FAULT_BUFFER_LO)), 0xffff_f00f);
            assert_eq!(m.read32(at(FAULT_BUFFER_HI)), 0x12 + i);
            assert_eq!(
                m.read32(at(FAULT_BUFFER_SIZE)),
                (1 << 31) | 1024,
                "SET_DEFAULT"
            );
            assert_eq!(m.read32(at(FAULT_BUFFER_GET)), 3);
            assert_eq!(m.read32(at(FAULT_BUFFER_PUT)), 0);
            for reg in [
                FAULT_BUFFER_LO,
                FAULT_BUFFER_HI,
                FAULT_BUFFER_GET,
                FAULT_BUFFER_PUT,
                FAULT_BUFFER_SIZE,
            ] {
                let name = m.reg_name(at(reg)).unwrap();
                assert!(name.ends_with(&format!("({i})")), "{name}");
            }
        }
        // The gap between the two buffers' registers is not decoded.
        assert_eq!(m.read32(0xb8_3014), 0);
        assert_eq!(m.reg_name(0xb8_3014), None);
        assert_eq!(hub.lock().fault_buffers().0[1].hi(), 0x13);
        // The rings' flags show in STATUS (GET >= SIZE here: GETPTR_CORRUPTED).
        m.write32(FAULT_BUFFER_SIZE, (1 << 31) | 2);
        m.write32(FAULT_BUFFER_GET, 3);
        let mut h = hub.lock();
        let mem = h.mem().clone();
        h.fault_buffer_mut(0).push(&mem, &[0; 32]);
        drop(h);
        assert_eq!(m.read32(FAULT_STATUS), 1 << 15);
        m.reset();
        assert_eq!(m.read32(FAULT_BUFFER_SIZE), 0);
        assert_eq!(m.read32(FAULT_STATUS), 0);
    }

    #[test]
    fn fault_registers_read_the_hub_and_clear_by_writing_1() {
        let (_r, hub, mut m) = rig();
        // A BAR1 access with BAR1 bound to an instance block nobody wrote (target VID_MEM).
        hub.lock()
            .bar1_bind(crate::mmu::bar1::block_value(VID, 0x7000));
        let mut b = [0u8; 4];
        hub.lock()
            .bar1_access(0x12_3000, &mut b, crate::mmu::walk::Access::Write);
        assert_eq!(m.read32(FAULT_ADDR_LO), 0x12_3000);
        assert_eq!(m.read32(FAULT_ADDR_HI), 0);
        assert_eq!(m.read32(FAULT_INST_LO), 0x7000 | 128);
        assert_eq!(m.read32(FAULT_INST_HI), 0);
        // Word 128 is 0: the old page-table format, UNBOUND_INST_BLOCK; VIRT_WRITE.
        assert_eq!(
            m.read32(FAULT_INFO),
            4 | (7 << 8) | (1 << 16) | (1 << 20) | (1 << 31)
        );
        assert_eq!(m.read32(FAULT_STATUS), 1 << 31);
        // Read-only registers ignore writes; STATUS bits other than VALID/DROPPED stay 0.
        m.write32(FAULT_INFO, 0);
        assert_eq!(m.read32(FAULT_INFO) >> 31, 1);
        m.write32(FAULT_STATUS, 0x7fff_ffff);
        assert_eq!(m.read32(FAULT_STATUS), 1 << 31);
        m.write32(FAULT_STATUS, 0x8000_0000);
        assert_eq!(m.read32(FAULT_STATUS), 0);
        for off in [
            FAULT_ADDR_LO,
            FAULT_ADDR_HI,
            FAULT_INST_LO,
            FAULT_INST_HI,
            FAULT_INFO,
            FAULT_STATUS,
        ] {
            assert!(m.reg_name(off).is_some());
        }
    }
}
