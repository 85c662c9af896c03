// SPDX-License-Identifier: GPL-2.0
//! Engine-access tests at the hub: instance blocks and tables in either memory, page sizes,
//! sparse ranges, faults and what they leave in the registers and the fault buffer.

use super::*;
use crate::mmu::fault::{CE0, STATUS_DROPPED_OTHER_VIRT, STATUS_VALID};
use crate::mmu::fault_buffer::{LO_PHYSICAL, SIZE_ENABLE};
use crate::mmu::format::build::{dual_pde, pde, pte, PTE_SPARSE, RO};
use crate::mmu::hub::Hub;
use crate::mmu::inst::{PageDirBase, PAGE_DIR_BASE_WORD};
use crate::mmu::mem::testing::{Rig, GPA};
use crate::trace::Tracer;
use std::sync::Arc;

const VID: Aperture = Aperture::Video;
const SYSC: Aperture = Aperture::SysCoherent;

fn rig() -> (Rig, Hub) {
    let r = Rig::new();
    let hub = Hub::new(
        r.mem.vram.clone(),
        r.mem.guest.clone(),
        Arc::new(Tracer::off()),
    );
    (r, hub)
}

/// An instance block at `inst` whose PAGE_DIR_BASE names `pd3` (64 KiB big pages, VER2).
fn inst_block(r: &Rig, ap: Aperture, inst: u64, pd3_ap: Aperture, pd3: u64) {
    let target = match pd3_ap {
        Aperture::SysCoherent => Target::SysCoherent,
        Aperture::SysNonCoherent => Target::SysNonCoherent,
        _ => Target::Video,
    };
    let (lo, hi) = PageDirBase {
        target,
        vol: false,
        fault_replay_tex: false,
        fault_replay_gcc: false,
        ver2: true,
        big_page_64k: true,
        addr: pd3,
    }
    .encode();
    r.put64(
        ap,
        inst + 4 * PAGE_DIR_BASE_WORD as u64,
        u64::from(lo) | (u64::from(hi) << 32),
    );
}

/// PD3[0] -> PD2[0] -> PD1[0] -> PD0[0] -> 4 KiB table, all in `ap` from `t`; returns the
/// 4 KiB table's address.
fn chain(r: &Rig, ap: Aperture, t: u64) -> u64 {
    r.put64(ap, t, pde(ap, t + 0x1000));
    r.put64(ap, t + 0x1000, pde(ap, t + 0x2000));
    r.put64(ap, t + 0x2000, pde(ap, t + 0x3000));
    r.put128(ap, t + 0x3000, dual_pde(None, Some((ap, t + 0x4000))));
    t + 0x4000
}

fn ptr(ap: Aperture, addr: u64) -> InstPtr {
    InstPtr {
        aperture: pte_aperture_bits(ap),
        addr,
    }
}

fn read(hub: &Hub, inst: InstPtr, va: u64) -> (u32, EngineAccess) {
    let mut b = [0xeeu8; 4];
    let r = hub
        .lock()
        .engine_access(&CE0, "test", inst, va, &mut b, Access::Read);
    (u32::from_le_bytes(b), r)
}

fn write(hub: &Hub, inst: InstPtr, va: u64, v: u32) -> EngineAccess {
    let mut b = v.to_le_bytes();
    hub.lock()
        .engine_access(&CE0, "test", inst, va, &mut b, Access::Write)
}

#[test]
fn vram_and_sysmem_spaces() {
    let (r, hub) = rig();
    // VRAM: instance block, tables and page.
    inst_block(&r, VID, 0x1_0000, VID, 0x2_0000);
    let pt = chain(&r, VID, 0x2_0000);
    r.put64(VID, pt + 8, pte(VID, 0x40_0000, 0, 0));
    r.put64(VID, 0x40_0010, 0x1234_5678);
    let (v, a) = read(&hub, ptr(VID, 0x1_0000), 0x1010);
    assert_eq!(v, 0x1234_5678);
    let m = a.mapped.unwrap();
    assert_eq!(
        (m.t.aperture, m.t.pa, m.t.page_shift, m.hit),
        (VID, 0x40_0010, 12, false)
    );
    assert_eq!(a.fault, None);
    // Guest RAM: instance block, tables (both coherences) and a page in guest RAM.
    inst_block(&r, SYSC, GPA, Aperture::SysNonCoherent, GPA + 0x1_0000);
    let pt = chain(&r, Aperture::SysNonCoherent, GPA + 0x1_0000);
    r.put64(
        Aperture::SysNonCoherent,
        pt + 8,
        pte(SYSC, GPA + 0x8_0000, 0, 0),
    );
    assert!(write(&hub, ptr(SYSC, GPA), 0x1ffc, 0xcafe).fault.is_none());
    assert_eq!(r.get32(SYSC, GPA + 0x8_0ffc), 0xcafe);
    let (v, a) = read(&hub, ptr(SYSC, GPA), 0x1ffc);
    assert_eq!(v, 0xcafe);
    assert!(a.mapped.unwrap().hit, "second access: TLB hit");
}

#[test]
fn large_pages() {
    let (r, hub) = rig();
    inst_block(&r, VID, 0x1_0000, VID, 0x2_0000);
    let t = 0x2_0000;
    r.put64(VID, t, pde(VID, t + 0x1000));
    r.put64(VID, t + 0x1000, pde(VID, t + 0x2000));
    // PD1[0] -> PD0 (2 MiB PTE at entry 1, big table at entry 2); PD1[1]: a 512 MiB PTE.
    r.put64(VID, t + 0x2000, pde(VID, t + 0x3000));
    r.put64(VID, t + 0x2008, pte(VID, 0, 0, 0));
    r.put64(VID, t + 0x3010, pte(VID, 0x60_0000, 0, 0));
    r.put128(VID, t + 0x3020, dual_pde(Some((VID, t + 0x4000)), None));
    r.put64(VID, t + 0x4008, pte(VID, 0x90_0000, 0, 0));
    let i = ptr(VID, 0x1_0000);
    for (va, pa, shift) in [
        (0x20_1234u64, 0x60_1234u64, 21),
        (0x41_0008, 0x90_0008, 16),
        (0x2345_6780, 0x345_6780, 29),
    ] {
        let a = write(&hub, i, va, va as u32);
        let m = a.mapped.unwrap();
        assert_eq!((m.t.pa, m.t.page_shift), (pa, shift), "VA {va:#x}");
        assert_eq!(r.get32(VID, pa), va as u32);
    }
}

#[test]
fn sparse_reads_zero_and_drops_writes() {
    let (r, hub) = rig();
    inst_block(&r, VID, 0x1_0000, VID, 0x2_0000);
    let pt = chain(&r, VID, 0x2_0000);
    r.put64(VID, pt + 8, PTE_SPARSE);
    let i = ptr(VID, 0x1_0000);
    let a = write(&hub, i, 0x1000, 7);
    assert!(a.sparse && a.fault.is_none() && a.mapped.is_none());
    let (v, a) = read(&hub, i, 0x1000);
    assert_eq!((v, a.sparse), (0, true));
    assert_eq!(hub.lock().faults().status, 0, "no fault");
}

#[test]
fn faults_reach_the_registers_and_the_buffer() {
    let (r, hub) = rig();
    inst_block(&r, SYSC, GPA + 0x7000, VID, 0x2_0000);
    let pt = chain(&r, VID, 0x2_0000);
    r.put64(VID, pt + 8, pte(VID, 0x40_0000, 0, RO));
    {
        let mut h = hub.lock();
        let b = h.fault_buffer_mut(0);
        b.write_lo(LO_PHYSICAL | 0x30_0000);
        b.write_size(SIZE_ENABLE | 16);
    }
    let i = ptr(SYSC, GPA + 0x7000);
    // Reads of a read-only page are fine; a write faults RO_VIOLATION and writes nothing.
    assert!(read(&hub, i, 0x1000).1.fault.is_none());
    let a = write(&hub, i, 0x1abc, 5);
    let f = a.fault.unwrap();
    assert_eq!((f.fault, f.va, f.snapped), (FaultType::Ro, 0x1abc, true));
    assert_eq!(f.buffer, Push::Written(0));
    assert_eq!(r.get32(VID, 0x40_0abc), 0);
    let regs = hub.lock().faults();
    assert_eq!(regs.addr_lo, 0x1000);
    assert_eq!(
        regs.inst_lo,
        (GPA as u32 + 0x7000) | (2 << 10) | 15,
        "CE0, SYS_MEM_COHERENT"
    );
    assert_eq!(regs.info, 6 | (1 << 8) | (1 << 16) | (1 << 20) | (1 << 31));
    assert_eq!(
        r.get32(VID, 0x30_0000),
        (GPA as u32 + 0x7000) | (2 << 8),
        "entry w0"
    );
    assert_eq!(r.get32(VID, 0x30_0000 + 28), regs.info, "entry w7");
    assert_eq!(hub.lock().take_fault_notify(), 1);
    // A PTE fault while STATUS.VALID: DROPPED_OTHER_VIRT, but the buffer takes it.
    let (v, a) = read(&hub, i, 0x5000);
    assert_eq!(v, 0, "a faulting read returns 0");
    assert_eq!(a.fault.unwrap().buffer, Push::Written(1));
    assert_eq!(
        hub.lock().faults().status,
        STATUS_VALID | STATUS_DROPPED_OTHER_VIRT
    );
    assert_eq!(r.get32(VID, 0x30_0020 + 28) & 0x1f, 2, "PTE");
    // VA beyond 49 bits, an INVALID aperture, an unreadable block, an unbindable block.
    assert_eq!(
        read(&hub, i, 1 << 49).1.fault.unwrap().fault,
        FaultType::VaLimit
    );
    for bad in [
        InstPtr {
            aperture: 1,
            addr: 0x1_0000,
        },
        ptr(SYSC, 0x1000),
        ptr(VID, 0x5_0000),
    ] {
        let f = read(&hub, bad, 0x1000).1.fault.unwrap();
        assert_eq!(f.fault, FaultType::UnboundInstBlock, "{bad}");
    }
}

#[test]
fn an_access_across_pages_is_all_or_nothing() {
    let (r, hub) = rig();
    inst_block(&r, VID, 0x1_0000, VID, 0x2_0000);
    let pt = chain(&r, VID, 0x2_0000);
    r.put64(VID, pt + 8, pte(VID, 0x40_0000, 0, 0));
    r.put64(VID, pt + 16, pte(VID, 0x80_0000, 0, 0));
    let i = ptr(VID, 0x1_0000);
    assert!(write(&hub, i, 0x1ffe, 0xaabb_ccdd).fault.is_none());
    assert_eq!(r.get32(VID, 0x40_0ffc) >> 16, 0xccdd);
    assert_eq!(r.get32(VID, 0x80_0000) & 0xffff, 0xaabb);
    // The second page unmapped: nothing is written.
    r.put64(VID, pt + 24, 0);
    let a = write(&hub, i, 0x2ffe, 1);
    assert_eq!(a.fault.unwrap().va, 0x3000);
    assert_eq!(r.get32(VID, 0x80_0ffc), 0);
}
