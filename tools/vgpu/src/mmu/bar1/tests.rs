// SPDX-License-Identifier: GPL-2.0
//! BAR1 as an MMU client: physical mode, binding, translated accesses of every kind.

use super::*;
use crate::mmu::format::build::{self, dual_pde, pde, pte};
use crate::mmu::hub::Hub;
use crate::mmu::inst::{PageDirBase, Target};
use crate::mmu::mem::testing::{Rig, GPA};
use crate::mmu::tlb::CacheLevel;
use crate::trace::Tracer;
use std::sync::Arc;

const VID: Aperture = Aperture::Video;
const INST: u64 = 0x8_0000;
const PD3: u64 = 0x9_0000;
const PD2: u64 = 0x9_1000;
const PD1: u64 = 0x9_2000;
const PD0: u64 = 0x9_3000;
const LPT: u64 = 0x9_4000;
const SPT: u64 = 0x9_5000;

fn hub(r: &Rig) -> Hub {
    Hub::new(
        r.mem.vram.clone(),
        r.mem.guest.clone(),
        Arc::new(Tracer::off()),
    )
}

/// An instance block at INST whose PDB is PD3, with `lo_extra` or-ed into word 128.
fn inst_block(r: &Rig, big_64k: bool) {
    let p = PageDirBase {
        target: Target::Video,
        vol: false,
        fault_replay_tex: false,
        fault_replay_gcc: false,
        ver2: true,
        big_page_64k: big_64k,
        addr: PD3,
    };
    let (lo, hi) = p.encode();
    r.put64(VID, INST + 4 * 128, (u64::from(hi) << 32) | u64::from(lo));
}

/// VA space: VA 0..2 MiB through PD0[0] with a big table (LPT) and a small one (SPT).
fn tables(r: &Rig) {
    r.put64(VID, PD3, pde(VID, PD2));
    r.put64(VID, PD2, pde(VID, PD1));
    r.put64(VID, PD1, pde(VID, PD0));
    r.put128(VID, PD0, dual_pde(Some((VID, LPT)), Some((VID, SPT))));
}

fn rw(h: &Hub, va: u64, n: usize) -> u64 {
    let mut b = [0u8; 8];
    h.lock().bar1_access(va, &mut b[..n], Access::Read);
    u64::from_le_bytes(b)
}

fn wr(h: &Hub, va: u64, n: usize, v: u64) {
    let mut b = v.to_le_bytes();
    h.lock().bar1_access(va, &mut b[..n], Access::Write);
}

fn bound(r: &Rig) -> Hub {
    inst_block(r, true);
    tables(r);
    let h = hub(r);
    h.lock().bar1_bind(block_value(VID, INST));
    h
}

#[test]
fn physical_mode_at_power_on() {
    let r = Rig::new();
    let h = hub(&r);
    wr(&h, 0x1234, 4, 0xcafe_f00d);
    assert_eq!(r.get32(VID, 0x1234), 0xcafe_f00d);
    assert_eq!(rw(&h, 0x1234, 2), 0xf00d);
    // TARGET SYS_MEM_COHERENT: offsets are guest physical addresses.
    h.lock().bar1_bind(2 << 28);
    wr(&h, GPA + 8, 8, 0x1122_3344_5566_7788);
    assert_eq!(r.get32(Aperture::SysCoherent, GPA + 12), 0x1122_3344);
    // TARGET 1: nothing there.
    h.lock().bar1_bind(1 << 28);
    assert_eq!(rw(&h, 0x1234, 4), 0);
    wr(&h, 0x1234, 4, 1);
    assert_eq!(r.get32(VID, 0x1234), 0xcafe_f00d);
}

#[test]
fn binding_reads_the_instance_block() {
    let r = Rig::new();
    let h = bound(&r);
    let b = h.lock().bar1();
    assert_eq!(b.block, MODE_VIRTUAL | (INST >> 12) as u32);
    assert_eq!(
        b.bind,
        Bind::Virtual {
            inst: (Some(VID), INST),
            pdb: Ok(Pdb {
                aperture: VID,
                addr: PD3,
                big_page: crate::mmu::format::BigPage::K64
            })
        }
    );
    // Changing the block after the bind changes nothing until the next bind.
    inst_block(&r, false);
    assert!(matches!(
        h.lock().bar1().bind,
        Bind::Virtual { pdb: Ok(_), .. }
    ));
    h.lock().bar1_bind(block_value(VID, INST));
    assert!(matches!(
        h.lock().bar1().bind,
        Bind::Virtual {
            pdb: Err(FaultType::UnboundInstBlock),
            ..
        }
    ));
}

#[test]
fn big_and_small_pages_in_both_memories() {
    let r = Rig::new();
    let h = bound(&r);
    // VA 64 KiB..128 KiB: a big page in VRAM; VA 0x20_3000: a 4 KiB page in guest RAM.
    r.put64(VID, LPT + 8, pte(VID, 0x40_0000, 0, 0));
    r.put64(
        VID,
        SPT + 8 * 0x1f3,
        pte(Aperture::SysNonCoherent, GPA + 0x3000, 0, 0),
    );
    wr(&h, 0x1_fffc, 4, 0xaabb_ccdd);
    assert_eq!(r.get32(VID, 0x40_fffc), 0xaabb_ccdd);
    assert_eq!(rw(&h, 0x1_fffc, 4), 0xaabb_ccdd);
    wr(&h, 0x1f_3010, 4, 0x600d);
    assert_eq!(r.get32(Aperture::SysCoherent, GPA + 0x3010), 0x600d);
    assert_eq!(rw(&h, 0x1f_3010, 1), 0x0d);
}

#[test]
fn accesses_split_at_page_boundaries() {
    let r = Rig::new();
    let h = bound(&r);
    r.put64(VID, SPT + 8 * 0x20, pte(VID, 0x60_0000, 0, 0));
    r.put64(VID, SPT + 8 * 0x21, pte(VID, 0x50_0000, 0, 0));
    wr(&h, 0x2_0ffc, 8, 0x1111_2222_3333_4444);
    assert_eq!(r.get32(VID, 0x60_0ffc), 0x3333_4444);
    assert_eq!(r.get32(VID, 0x50_0000), 0x1111_2222);
    assert_eq!(rw(&h, 0x2_0ffc, 8), 0x1111_2222_3333_4444);
    // Half of it unmapped: that half reads 0.
    r.put64(VID, SPT + 8 * 0x21, 0);
    h.lock().invalidate(None, CacheLevel::All, "test");
    assert_eq!(rw(&h, 0x2_0ffc, 8), 0x3333_4444);
}

#[test]
fn unmapped_sparse_and_read_only() {
    let r = Rig::new();
    let h = bound(&r);
    r.put64(VID, 0x70_0000, 0x5555);
    // Unmapped (big PTE 0, small PTE 0): reads 0, writes go nowhere.
    assert_eq!(rw(&h, 0x3000, 4), 0);
    wr(&h, 0x3000, 4, 0x1);
    // Sparse small PTE.
    r.put64(VID, SPT + 8 * 4, build::PTE_SPARSE);
    assert_eq!(rw(&h, 0x4000, 4), 0);
    wr(&h, 0x4000, 4, 0x1);
    // Read-only page: reads work, writes are dropped.
    r.put64(VID, SPT + 8 * 5, pte(VID, 0x70_0000, 0, build::RO));
    assert_eq!(rw(&h, 0x5000, 4), 0x5555);
    wr(&h, 0x5000, 4, 0x6666);
    assert_eq!(r.get32(VID, 0x70_0000), 0x5555);
    // A page past the end of VRAM: nothing there.
    r.put64(VID, SPT + 8 * 6, pte(VID, 1 << 36, 0, 0));
    assert_eq!(rw(&h, 0x6000, 4), 0);
    wr(&h, 0x6000, 4, 1);
}

#[test]
fn unbound_instance_block_blocks_every_access() {
    let r = Rig::new();
    inst_block(&r, false); // 128 KiB big pages: UNBOUND_INSTANCE
    tables(&r);
    r.put64(VID, SPT, pte(VID, 0x70_0000, 0, 0));
    r.put64(VID, 0x70_0000, 0x77);
    let h = hub(&r);
    h.lock().bar1_bind(block_value(VID, INST));
    assert_eq!(rw(&h, 0, 4), 0);
    wr(&h, 0, 4, 1);
    assert_eq!(r.get32(VID, 0x70_0000), 0x77);
}

#[test]
fn stale_until_invalidated() {
    let r = Rig::new();
    let h = bound(&r);
    r.put64(VID, SPT + 8 * 7, pte(VID, 0x70_0000, 0, 0));
    r.put64(VID, 0x70_0000, 0x1);
    r.put64(VID, 0x71_0000, 0x2);
    assert_eq!(rw(&h, 0x7000, 4), 1);
    r.put64(VID, SPT + 8 * 7, pte(VID, 0x71_0000, 0, 0));
    assert_eq!(rw(&h, 0x7000, 4), 1, "TLB hit on the old page");
    h.lock().invalidate(None, CacheLevel::All, "test");
    assert_eq!(rw(&h, 0x7000, 4), 2);
    // A VA that faulted becomes visible as soon as it is mapped (faults are not cached).
    assert_eq!(rw(&h, 0x8000, 4), 0);
    r.put64(VID, SPT + 8 * 8, pte(VID, 0x71_0000, 0, 0));
    assert_eq!(rw(&h, 0x8000, 4), 2);
    let s = h.lock().tlb_stats();
    assert!(s.hits >= 1 && s.walks >= 3, "{s:?}");
}

#[test]
fn faults_are_snapped_in_the_fault_registers() {
    use crate::mmu::fault::{STATUS_DROPPED_BAR1_VIRT, STATUS_VALID};
    let r = Rig::new();
    let h = bound(&r);
    assert_eq!(h.lock().faults().status, 0);
    // Read of an unmapped VA: PTE fault (the small table exists, its PTE is 0).
    assert_eq!(rw(&h, 0x3_4567, 4), 0);
    let f = h.lock().faults();
    assert_eq!(f.status, STATUS_VALID);
    assert_eq!((f.addr_lo, f.addr_hi), (0x3_4000, 0), "VA, 4 KiB aligned");
    assert_eq!(
        f.inst_lo,
        INST as u32 | 128,
        "BAR1 instance block in VID_MEM, ENGINE_ID BAR1"
    );
    assert_eq!(f.inst_hi, 0);
    assert_eq!(f.info & 0x1f, FaultType::Pte as u32);
    assert_eq!((f.info >> 16) & 0xf, 0, "VIRT_READ");
    assert_eq!((f.info >> 8) & 0x7f, 7, "HUB_HOST_CPU");
    assert_eq!(
        f.info & (1 << 20 | 1 << 31),
        1 << 20 | 1 << 31,
        "HUB client, VALID"
    );
    // A second fault while VALID is set is dropped.
    r.put64(VID, SPT + 8 * 5, pte(VID, 0x70_0000, 0, build::RO));
    wr(&h, 0x5000, 4, 1);
    let g = h.lock().faults();
    assert_eq!(g.status, STATUS_VALID | STATUS_DROPPED_BAR1_VIRT);
    assert_eq!(g.addr_lo, 0x3_4000, "the first fault stays");
    // Cleared: the next one is snapped.
    h.lock()
        .write_fault_status(STATUS_VALID | STATUS_DROPPED_BAR1_VIRT);
    wr(&h, 0x5000, 4, 1);
    let g = h.lock().faults();
    assert_eq!(g.status, STATUS_VALID);
    assert_eq!(g.info & 0x1f, FaultType::Ro as u32);
    assert_eq!((g.info >> 16) & 0xf, 1, "VIRT_WRITE");
    // PDE fault beyond the mapped 2 MiB; sparse ranges record nothing.
    h.lock().write_fault_status(STATUS_VALID);
    r.put64(VID, SPT + 8 * 4, build::PTE_SPARSE);
    assert_eq!(rw(&h, 0x4000, 4), 0);
    assert_eq!(h.lock().faults().status, 0, "sparse: no fault");
    assert_eq!(rw(&h, 0x20_0000, 4), 0);
    assert_eq!(h.lock().faults().info & 0x1f, FaultType::Pde as u32);
    assert_eq!(h.lock().faults().addr_lo, 0x20_0000);
    // An unbound instance block: UNBOUND_INST_BLOCK, with the block's address.
    h.lock().write_fault_status(STATUS_VALID);
    h.lock().bar1_bind(MODE_VIRTUAL | (1 << 28) | 0x123);
    assert_eq!(rw(&h, 0, 4), 0);
    let u = h.lock().faults();
    assert_eq!(u.info & 0x1f, FaultType::UnboundInstBlock as u32);
    assert_eq!(
        u.inst_lo,
        0x12_3000 | (1 << 10) | 128,
        "APERTURE 11:10 = the TARGET written"
    );
    // Physical mode never faults.
    h.lock().write_fault_status(STATUS_VALID);
    h.lock().bar1_bind(0);
    rw(&h, 0x3_4567, 4);
    assert_eq!(h.lock().faults().status, 0);
    h.lock().reset();
    assert_eq!(h.lock().faults(), Default::default());
}

#[derive(Clone, Default)]
struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_mmu_log_records_binds_translations_faults_and_invalidates() {
    let r = Rig::new();
    inst_block(&r, true);
    tables(&r);
    r.put64(VID, SPT + 8, pte(VID, 0x40_1000, 0x06, build::RO));
    let h = hub(&r);
    let buf = Buf::default();
    h.lock()
        .set_log(crate::mmu::log::MmuLog::new(Box::new(buf.clone())));
    wr(&h, 0x10, 4, 1); // physical mode
    h.lock().bar1_bind(block_value(VID, INST));
    rw(&h, 0x1ffc, 8); // two pieces: 4 KiB page, then PTE fault
    rw(&h, 0x1000, 4); // TLB hit
    wr(&h, 0x1000, 4, 2); // RO
    h.lock()
        .invalidate(None, CacheLevel::All, "test invalidate");
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            "bar1 W va=0x10 len=4 physical -> vid:0x10",
            "bind bar1 mode=virtual inst=vid:0x80000 pdb=vid:0x90000 big=64K",
            "bar1 R va=0x1ffc len=4 pdb=vid:0x90000 -> vid:0x401ffc page=0x401000 size=4K ro=1 kind=0x06 tlb=miss",
            "bar1 R va=0x2000 len=4 pdb=vid:0x90000 -> fault=PTE",
            "bar1 R va=0x1000 len=4 pdb=vid:0x90000 -> vid:0x401000 page=0x401000 size=4K ro=1 kind=0x06 tlb=hit",
            "bar1 W va=0x1000 len=4 pdb=vid:0x90000 -> fault=RO_VIOLATION",
            "invalidate pdb=all level=ALL dropped=5 by=test_invalidate",
        ],
        "{log}"
    );
}
