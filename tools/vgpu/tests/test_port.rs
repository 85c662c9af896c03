// SPDX-License-Identifier: GPL-2.0
//! End to end: the engine access port in BAR5 (a test instrument, README "Engine access
//! port"), driven through the vfio-user region handlers as a driver's test would: copy engine
//! 0's accesses through VA spaces the test builds in VRAM (through PRAMIN) and in guest RAM,
//! the hub TLB and its invalidation, read-only pages, sparse entries, the fault snapshot
//! registers, the non-replayable fault buffer, and GSP-RM's MMU_FAULT_QUEUED event. Page
//! tables and instance blocks are written by this test with its own few lines from facts
//! §12.1-§12.3; fault entries are decoded from docs/facts/ga102.md §12.5.

mod common;

use common::rm::*;
use common::*;
use vfio_bindings::bindings::vfio::VFIO_PCI_BAR5_REGION_INDEX;
use vfio_user::ServerBackend;
use vgpu::server::Options;

// The port (README "Engine access port").
const ID: u64 = 0x00;
const INST_LO: u64 = 0x04;
const INST_HI: u64 = 0x08;
const VA_LO: u64 = 0x0c;
const VA_HI: u64 = 0x10;
const DATA: u64 = 0x14;
const CMD: u64 = 0x18;
const STATUS: u64 = 0x1c;
const PA_LO: u64 = 0x20;
const PA_HI: u64 = 0x24;
const XLATE: u64 = 0x28;
const DONE: u32 = 1;
const FAULT: u32 = 2;
const SPARSE: u32 = 1 << 12;

// BAR0 (docs/facts/ga102.md §12.4, §12.5).
const BAR0_WINDOW: u32 = 0x1700;
const PRAMIN: u32 = 0x70_0000;
const INVALIDATE_PDB: u32 = 0xb8_30a0;
const INVALIDATE_UPPER_PDB: u32 = 0xb8_30a4;
const INVALIDATE: u32 = 0xb8_30b0;
const BUF_LO: u32 = 0xb8_3000;
const BUF_HI: u32 = 0xb8_3004;
const BUF_GET: u32 = 0xb8_3008;
const BUF_PUT: u32 = 0xb8_300c;
const BUF_SIZE: u32 = 0xb8_3010;
const FAULT_ADDR_LO: u32 = 0xb8_3080;
const FAULT_ADDR_HI: u32 = 0xb8_3084;
const FAULT_INST_LO: u32 = 0xb8_3088;
const FAULT_INST_HI: u32 = 0xb8_308c;
const FAULT_INFO: u32 = 0xb8_3090;
const FAULT_STATUS: u32 = 0xb8_3094;

// Fault types (docs/facts/ga102.md §12.5).
const PDE: u32 = 0;
const PTE: u32 = 2;
const VA_LIMIT: u32 = 3;
const UNBOUND: u32 = 4;
const RO: u32 = 6;
const UNSUPPORTED_APERTURE: u32 = 0xa;
const MMU_FAULT_QUEUED: u32 = 0x1005;

// Apertures: PDE (1 vid, 2 sys coh, 3 sys noncoh), PTE / instance block (0 vid, 2, 3).
const VID: u64 = 0;
const SYSC: u64 = 2;
const SYSNC: u64 = 3;

fn port_gpu() -> Gpu {
    gpu(Options {
        test_port: true,
        ..Default::default()
    })
}

fn io_rd(g: &mut Gpu, off: u64) -> u32 {
    g.region_rd32(VFIO_PCI_BAR5_REGION_INDEX, off)
}

fn io_wr(g: &mut Gpu, off: u64, v: u32) {
    g.region_wr32(VFIO_PCI_BAR5_REGION_INDEX, off, v)
}

/// Points the port at the instance block at `inst` in aperture `ap` (0 VRAM, 2/3 sysmem).
fn bind(g: &mut Gpu, ap: u64, inst: u64) {
    io_wr(g, INST_LO, (inst as u32 & 0xffff_f000) | ap as u32);
    io_wr(g, INST_HI, (inst >> 32) as u32);
}

fn at(g: &mut Gpu, va: u64) {
    io_wr(g, VA_LO, va as u32);
    io_wr(g, VA_HI, (va >> 32) as u32);
}

/// CMD 1 at `va`: (DATA, STATUS).
fn read(g: &mut Gpu, va: u64) -> (u32, u32) {
    at(g, va);
    io_wr(g, CMD, 1);
    (io_rd(g, DATA), io_rd(g, STATUS))
}

/// CMD 2 of `v` at `va`: STATUS.
fn write(g: &mut Gpu, va: u64, v: u32) -> u32 {
    at(g, va);
    io_wr(g, DATA, v);
    io_wr(g, CMD, 2);
    io_rd(g, STATUS)
}

fn pa(g: &mut Gpu) -> u64 {
    (u64::from(io_rd(g, PA_HI)) << 32) | u64::from(io_rd(g, PA_LO))
}

fn fault(t: u32) -> u32 {
    DONE | FAULT | (t << 4)
}

// Memory as the test's CPU reaches it: VRAM through PRAMIN, guest RAM directly.
fn mem_wr64(g: &mut Gpu, ap: u64, addr: u64, v: u64) {
    if ap == VID {
        g.wr(BAR0_WINDOW, (addr >> 16) as u32 & !0xf);
        let off = PRAMIN + (addr & 0xf_ffff) as u32;
        g.wr(off, v as u32);
        g.wr(off + 4, (v >> 32) as u32);
    } else {
        g.ram.write(addr, &v.to_le_bytes()).unwrap();
    }
}

fn mem_rd32(g: &mut Gpu, ap: u64, addr: u64) -> u32 {
    if ap == VID {
        g.wr(BAR0_WINDOW, (addr >> 16) as u32 & !0xf);
        g.rd(PRAMIN + (addr & 0xf_ffff) as u32)
    } else {
        let mut b = [0u8; 4];
        g.ram.read(addr, &mut b).unwrap();
        u32::from_le_bytes(b)
    }
}

// Version-2 entries (docs/facts/ga102.md §12.2).
/// A PDE for a table in `ap` (PTE-style aperture code; the PDE field is one more for VRAM).
fn pde(ap: u64, table: u64) -> u64 {
    let field = if ap == VID { 1 } else { ap };
    (field << 1) | ((table >> 12) << 8)
}
fn pte(ap: u64, page: u64) -> u64 {
    1 | (ap << 1) | ((page >> 12) << 8)
}
const PTE_RO: u64 = 1 << 6;
const PTE_SPARSE: u64 = 1 << 3;

/// Writes an instance block at `inst` (in `ap`) whose PAGE_DIR_BASE is `pd3` in `pd_ap`,
/// version 2, 64 KiB big pages (docs/facts/ga102.md §12.3).
fn inst_block(g: &mut Gpu, ap: u64, inst: u64, pd_ap: u64, pd3: u64) {
    let w128 = pd_ap | (1 << 10) | (1 << 11) | (pd3 & 0xffff_f000);
    mem_wr64(g, ap, inst + 512, w128 | ((pd3 >> 32) << 32));
}

/// A VA space with every table in `ap` from `base`: PD3 base, PD2 +4K, PD1 +8K, PD0 +12K,
/// 4 KiB table +16K, big table +20K, for the first 2 MiB of VA (PD3[0], PD2[0], PD1[0],
/// PD0[0]); returns (PD0, 4 KiB table, big table).
fn space(g: &mut Gpu, ap: u64, base: u64) -> (u64, u64, u64) {
    let (pd2, pd1, pd0, pt, big) = (
        base + 0x1000,
        base + 0x2000,
        base + 0x3000,
        base + 0x4000,
        base + 0x5000,
    );
    mem_wr64(g, ap, base, pde(ap, pd2));
    mem_wr64(g, ap, pd2, pde(ap, pd1));
    mem_wr64(g, ap, pd1, pde(ap, pd0));
    // Dual PDE: big half (aperture 2:1, address 32:4 = PA >> 8), small half (66:65, 96:72).
    let field = if ap == VID { 1 } else { ap };
    mem_wr64(g, ap, pd0, (field << 1) | ((big >> 8) << 4));
    mem_wr64(g, ap, pd0 + 8, pde(ap, pt));
    (pd0, pt, big)
}

#[test]
fn disabled_port_reads_zero_and_ignores_writes() {
    let mut g = gpu(Options::default());
    for off in (0..0x80).step_by(4) {
        io_wr(&mut g, off, 0xffff_ffff);
    }
    for off in (0..0x80).step_by(4) {
        assert_eq!(io_rd(&mut g, off), 0, "offset {off:#x}");
    }
    // A read command went nowhere: no fault recorded either.
    assert_eq!(g.rd(FAULT_STATUS), 0);
    assert!(!g.dev.test_port().enabled());
    // Enabled: ID reads "NVTP".
    let mut g = port_gpu();
    assert_eq!(io_rd(&mut g, ID), 0x4e56_5450);
    assert_eq!(io_rd(&mut g, 0x7c), 0);
}

#[test]
fn walk_with_vram_tables_every_page_size() {
    let mut g = port_gpu();
    let (inst, pd3) = (0x10_0000, 0x11_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    let (pd0, pt, big) = space(&mut g, VID, pd3);
    bind(&mut g, VID, inst);
    // 4 KiB page at VA 0x1000 -> VRAM 0x80_0000.
    mem_wr64(&mut g, VID, pt + 8, pte(VID, 0x80_0000));
    mem_wr64(&mut g, VID, 0x80_0040, 0x1234_5678);
    assert_eq!(read(&mut g, 0x1040), (0x1234_5678, DONE));
    assert_eq!(pa(&mut g), 0x80_0040);
    assert_eq!(io_rd(&mut g, XLATE), 12 << 8, "VRAM, 4 KiB");
    assert_eq!(write(&mut g, 0x1044, 0xfeed), DONE);
    assert_eq!(mem_rd32(&mut g, VID, 0x80_0044), 0xfeed);
    // 64 KiB page at VA 0x1_0000 (big table entry 1) -> VRAM 0x90_0000.
    mem_wr64(&mut g, VID, big + 8, pte(VID, 0x90_0000));
    assert_eq!(write(&mut g, 0x1_8008, 0xb16), DONE);
    assert_eq!(mem_rd32(&mut g, VID, 0x90_8008), 0xb16);
    assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0x90_8008, 16 << 8));
    // 2 MiB page: PD0[1] holds a PTE (VA 0x20_0000 -> VRAM 0x120_0000).
    mem_wr64(&mut g, VID, pd0 + 16, pte(VID, 0x120_0000));
    assert_eq!(write(&mut g, 0x21_2340, 0x2002), DONE);
    assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0x121_2340, 21 << 8));
    assert_eq!(read(&mut g, 0x21_2340), (0x2002, DONE));
    // 512 MiB page: PD1[1] holds a PTE (VA 0x2000_0000 -> VRAM 0x4000_0000).
    mem_wr64(&mut g, VID, pd3 + 0x2000 + 8, pte(VID, 0x4000_0000));
    assert_eq!(write(&mut g, 0x2765_4320, 0x512), DONE);
    assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0x4765_4320, 29 << 8));
    assert_eq!(mem_rd32(&mut g, VID, 0x4765_4320), 0x512);
    // A VRAM table pointing at a page in guest RAM: XLATE shows the PTE aperture.
    mem_wr64(&mut g, VID, pt + 16, pte(SYSNC, RAM_GPA + 0x8000));
    assert_eq!(write(&mut g, 0x2010, 0x5a5a), DONE);
    assert_eq!(
        (pa(&mut g), io_rd(&mut g, XLATE)),
        (RAM_GPA + 0x8010, SYSNC as u32 | 12 << 8)
    );
    assert_eq!(mem_rd32(&mut g, SYSC, RAM_GPA + 0x8010), 0x5a5a);
}

#[test]
fn walk_with_sysmem_instance_block_and_tables() {
    let mut g = port_gpu();
    // Instance block (system non-coherent) and every table in guest RAM (coherent).
    let (inst, pd3) = (RAM_GPA + 0x10_0000, RAM_GPA + 0x11_0000);
    inst_block(&mut g, SYSNC, inst, SYSC, pd3);
    let (_, pt, _) = space(&mut g, SYSC, pd3);
    mem_wr64(&mut g, SYSC, pt + 8, pte(VID, 0x80_0000));
    mem_wr64(&mut g, SYSC, pt + 16, pte(SYSC, RAM_GPA + 0x20_0000));
    bind(&mut g, SYSNC, inst);
    assert_eq!(write(&mut g, 0x1ffc, 0x1111), DONE);
    assert_eq!(mem_rd32(&mut g, VID, 0x80_0ffc), 0x1111);
    assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0x80_0ffc, 12 << 8));
    assert_eq!(write(&mut g, 0x2004, 0x2222), DONE);
    assert_eq!(mem_rd32(&mut g, SYSC, RAM_GPA + 0x20_0004), 0x2222);
    assert_eq!(io_rd(&mut g, XLATE), SYSC as u32 | 12 << 8);
    assert_eq!(read(&mut g, 0x2004), (0x2222, DONE));
    // A 32-bit access across the page boundary: both pages, each through its own PTE.
    assert_eq!(write(&mut g, 0x1ffe, 0xaabb_ccdd), DONE);
    assert_eq!(mem_rd32(&mut g, VID, 0x80_0ffc) >> 16, 0xccdd);
    assert_eq!(mem_rd32(&mut g, SYSC, RAM_GPA + 0x20_0000) & 0xffff, 0xaabb);
    assert_eq!(read(&mut g, 0x1ffe), (0xaabb_ccdd, DONE));
}

#[test]
fn stale_translation_until_invalidate() {
    let mut g = port_gpu();
    // Space A: VRAM; space B: PDB in guest RAM.
    let (ia, pa3) = (0x10_0000, 0x11_0000);
    let (ib, pb3) = (RAM_GPA + 0x10_0000, RAM_GPA + 0x11_0000);
    inst_block(&mut g, VID, ia, VID, pa3);
    inst_block(&mut g, SYSC, ib, SYSC, pb3);
    let (_, pta, _) = space(&mut g, VID, pa3);
    let (_, ptb, _) = space(&mut g, SYSC, pb3);
    for (ap, pt) in [(VID, pta), (SYSC, ptb)] {
        mem_wr64(&mut g, ap, pt + 8, pte(VID, 0x80_0000));
    }
    mem_wr64(&mut g, VID, 0x80_0000, 0xa);
    mem_wr64(&mut g, VID, 0x81_0000, 0xb);
    mem_wr64(&mut g, VID, 0x82_0000, 0xc);
    for inst in [(VID, ia), (SYSC, ib)] {
        bind(&mut g, inst.0, inst.1);
        assert_eq!(read(&mut g, 0x1000).0, 0xa);
    }
    // Remap both without invalidating: the old page stays in use.
    mem_wr64(&mut g, VID, pta + 8, pte(VID, 0x81_0000));
    mem_wr64(&mut g, SYSC, ptb + 8, pte(VID, 0x81_0000));
    assert_eq!(read(&mut g, 0x1000).0, 0xa, "B stale");
    bind(&mut g, VID, ia);
    assert_eq!(read(&mut g, 0x1000).0, 0xa, "A stale");
    // Invalidate A's PDB (VID_MEM): A sees the new page, B does not.
    g.wr(INVALIDATE_PDB, (pa3 >> 8) as u32);
    g.wr(INVALIDATE_UPPER_PDB, 0);
    g.wr(INVALIDATE, 0x8000_0001);
    assert_eq!(read(&mut g, 0x1000).0, 0xb);
    bind(&mut g, SYSC, ib);
    assert_eq!(read(&mut g, 0x1000).0, 0xa, "B still stale");
    // B's PDB in system memory: INVALIDATE_PDB.APERTURE (bit 1) = SYS_MEM.
    g.wr(INVALIDATE_PDB, ((pb3 >> 12) << 4) as u32 | 2);
    g.wr(INVALIDATE, 0x8000_0001);
    assert_eq!(read(&mut g, 0x1000).0, 0xb);
    // ALL_PDB drops both.
    mem_wr64(&mut g, VID, pta + 8, pte(VID, 0x82_0000));
    mem_wr64(&mut g, SYSC, ptb + 8, pte(VID, 0x82_0000));
    assert_eq!(read(&mut g, 0x1000).0, 0xb);
    g.wr(INVALIDATE_PDB, 0);
    g.wr(INVALIDATE, 0x8000_0003);
    assert_eq!(read(&mut g, 0x1000).0, 0xc);
    bind(&mut g, VID, ia);
    assert_eq!(read(&mut g, 0x1000).0, 0xc);
}

#[test]
fn read_only_page_faults_a_write_and_latches_the_registers() {
    let mut g = port_gpu();
    let (inst, pd3) = (0x10_0000, 0x11_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    let (_, pt, _) = space(&mut g, VID, pd3);
    mem_wr64(&mut g, VID, pt + 8, pte(VID, 0x80_0000) | PTE_RO);
    mem_wr64(&mut g, VID, 0x80_0010, 0x7777);
    bind(&mut g, VID, inst);
    assert_eq!(read(&mut g, 0x1010), (0x7777, DONE), "reads are allowed");
    assert_eq!(write(&mut g, 0x1010, 0x8888), fault(RO));
    assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0, 0));
    assert_eq!(mem_rd32(&mut g, VID, 0x80_0010), 0x7777, "nothing written");
    // The snapshot (docs/facts/ga102.md §12.5; decoded as nouveau's tu102 handler reads it).
    assert_eq!(g.rd(FAULT_ADDR_LO), 0x1000);
    assert_eq!(g.rd(FAULT_ADDR_HI), 0);
    assert_eq!(
        g.rd(FAULT_INST_LO),
        0x10_0000 | 15,
        "CE0 (ENGINE_ID 15), VID_MEM"
    );
    assert_eq!(g.rd(FAULT_INST_HI), 0);
    let info = g.rd(FAULT_INFO);
    assert_eq!(info & 0x1f, RO);
    assert_eq!((info >> 8) & 0x7f, 1, "CLIENT HUB_CE0");
    assert_eq!((info >> 16) & 0xf, 1, "VIRT_WRITE");
    assert_eq!((info >> 20) & 1, 1, "HUB client");
    assert_eq!(info >> 31, 1, "VALID");
    assert_eq!(g.rd(FAULT_STATUS), 1 << 31);
    // Latched until STATUS.VALID is cleared: a second fault only sets DROPPED_OTHER_VIRT.
    assert_eq!(read(&mut g, 0x5000).1, fault(PTE));
    assert_eq!(g.rd(FAULT_STATUS), (1 << 31) | (1 << 7));
    assert_eq!(g.rd(FAULT_INFO) & 0x1f, RO);
    g.wr(FAULT_STATUS, (1 << 31) | (1 << 7));
    assert_eq!(g.rd(FAULT_STATUS), 0);
    assert_eq!(read(&mut g, 0x5000), (0, fault(PTE)));
    assert_eq!(g.rd(FAULT_ADDR_LO), 0x5000);
    assert_eq!((g.rd(FAULT_INFO) >> 16) & 0xf, 0, "VIRT_READ");
}

#[test]
fn sparse_entries_read_zero_and_drop_writes() {
    let mut g = port_gpu();
    let (inst, pd3) = (0x10_0000, 0x11_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    let (_, pt, big) = space(&mut g, VID, pd3);
    bind(&mut g, VID, inst);
    // A 4 KiB sparse PTE (VALID 0, VOL 1), a big sparse PTE, a sparse PD2 entry (APERTURE
    // INVALID, VOL) covering VA 256 GiB..512 GiB.
    mem_wr64(&mut g, VID, pt + 8, PTE_SPARSE);
    mem_wr64(&mut g, VID, big + 16, PTE_SPARSE);
    mem_wr64(&mut g, VID, pd3 + 0x1000 + 8, PTE_SPARSE);
    for va in [0x1008u64, 0x2_0010, 0x40_0000_1000] {
        assert_eq!(read(&mut g, va), (0, DONE | SPARSE), "VA {va:#x}");
        assert_eq!((pa(&mut g), io_rd(&mut g, XLATE)), (0, 0));
        assert_eq!(write(&mut g, va, 0x1234), DONE | SPARSE);
    }
    assert_eq!(g.rd(FAULT_STATUS), 0, "no fault");
    // A sparse range is cached like a page: mapping it needs an invalidate.
    mem_wr64(&mut g, VID, pt + 8, pte(VID, 0x80_0000));
    assert_eq!(read(&mut g, 0x1008).1, DONE | SPARSE);
    g.wr(INVALIDATE, 0x8000_0003);
    assert_eq!(read(&mut g, 0x1008).1, DONE);
}

#[test]
fn fault_types() {
    let mut g = port_gpu();
    let (inst, pd3) = (0x10_0000, 0x11_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    let (_, pt, _) = space(&mut g, VID, pd3);
    mem_wr64(&mut g, VID, pt + 8, 1 | (1 << 1)); // PEER aperture
    bind(&mut g, VID, inst);
    for (va, t) in [
        (0x1000u64, UNSUPPORTED_APERTURE),
        (0x2000, PTE),
        (0x8000_0000, PDE),
        (1 << 49, VA_LIMIT),
    ] {
        assert_eq!(read(&mut g, va), (0, fault(t)), "VA {va:#x}");
        g.wr(FAULT_STATUS, 1 << 31);
    }
    // Instance blocks that cannot be bound: aperture 1 (INVALID), all zeros (old format),
    // guest memory that is not there.
    for (ap, addr) in [(1, inst), (VID, 0x20_0000), (SYSC, 0x1000)] {
        bind(&mut g, ap, addr);
        assert_eq!(read(&mut g, 0x1000).1, fault(UNBOUND), "{ap} {addr:#x}");
        assert_eq!(g.rd(FAULT_INST_LO) >> 10 & 3, ap as u32 & 3);
        g.wr(FAULT_STATUS, 1 << 31);
    }
}

/// Programs fault buffer 0 as a CPU would without GSP-RM: `entries` in guest RAM at `addr`.
fn own_buffer(g: &mut Gpu, addr: u64, entries: u32) {
    g.wr(BUF_HI, (addr >> 32) as u32);
    g.wr(BUF_LO, (addr as u32 & 0xffff_f000) | (2 << 1) | 1); // SYS_COH, PHYSICAL
    g.wr(BUF_SIZE, entries | (1 << 31));
}

fn entry(g: &mut Gpu, addr: u64, i: u64) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (k, v) in w.iter_mut().enumerate() {
        *v = mem_rd32(g, SYSC, addr + 32 * i + 4 * k as u64);
    }
    w
}

#[test]
fn fault_entry_contents() {
    let mut g = port_gpu();
    let buf = RAM_GPA + 0x40_0000;
    own_buffer(&mut g, buf, 8);
    assert_eq!(g.rd(BUF_SIZE), 8 | (1 << 31));
    assert_eq!(g.rd(BUF_LO), (buf as u32) | 5);
    // An instance block in guest RAM whose PD3 is empty: a PDE fault on a write.
    let (inst, pd3) = (RAM_GPA + 0x10_3000, RAM_GPA + 0x11_0000);
    inst_block(&mut g, SYSNC, inst, SYSC, pd3);
    bind(&mut g, SYSNC, inst);
    assert_eq!(write(&mut g, 0x1_2345_6789, 1), fault(PDE));
    assert_eq!(g.rd(BUF_PUT), 1);
    assert_eq!(g.rd(BUF_GET), 0);
    let w = entry(&mut g, buf, 0);
    assert_eq!(
        w[0],
        (inst as u32) | (SYSNC as u32) << 8,
        "INST_LO, INST_APERTURE 9:8"
    );
    assert_eq!(w[1], (inst >> 32) as u32, "INST_HI");
    assert_eq!(w[2], 0x2345_6000, "ADDR_LO (page), PHYS_APERTURE 0");
    assert_eq!(w[3], 1, "ADDR_HI");
    assert_ne!(u64::from(w[4]) | u64::from(w[5]) << 32, 0, "TIMESTAMP");
    assert_eq!(w[6], 15, "ENGINE_ID CE0");
    assert_eq!(
        w[7],
        PDE | (1 << 8) | (1 << 16) | (1 << 20) | (1 << 31),
        "FAULT_TYPE, CLIENT HUB_CE0, VIRT_WRITE, HUB, VALID"
    );
    // The same fault in the snapshot registers.
    assert_eq!(g.rd(FAULT_INFO), w[7]);
    assert_eq!(g.rd(FAULT_ADDR_HI), 1);
    assert_eq!(g.rd(FAULT_INST_LO), (inst as u32) | (3 << 10) | 15);
    // A read fault goes to the next entry.
    read(&mut g, 0x7000);
    let w = entry(&mut g, buf, 1);
    assert_eq!((w[2], w[7] >> 16 & 0xf), (0x7000, 0), "VIRT_READ");
}

#[test]
fn fault_buffer_put_wraps_and_overflows() {
    let mut g = port_gpu();
    let buf = RAM_GPA + 0x40_0000;
    bind(&mut g, VID, 0x20_0000); // zeros: UNBOUND_INST_BLOCK on every access
                                  // Disabled: nothing is written, PUT stays.
    read(&mut g, 0x1000);
    assert_eq!(g.rd(BUF_PUT), 0);
    g.wr(FAULT_STATUS, 1 << 31);
    own_buffer(&mut g, buf, 4);
    for (i, va) in [0x1000u64, 0x2000, 0x3000].iter().enumerate() {
        assert_eq!(read(&mut g, *va).1, fault(UNBOUND));
        assert_eq!(g.rd(BUF_PUT), i as u32 + 1);
        assert_eq!(entry(&mut g, buf, i as u64)[2], *va as u32);
    }
    // PUT + 1 == GET: full. The fault is dropped and OVERFLOW is set (GET, PUT, STATUS 13).
    assert_eq!(
        read(&mut g, 0x4000).1,
        fault(UNBOUND),
        "the access still faults"
    );
    assert_eq!(g.rd(BUF_PUT), 3 | (1 << 31));
    assert_eq!(g.rd(BUF_GET), 1 << 31);
    assert_eq!(
        g.rd(FAULT_STATUS) & (1 << 13),
        1 << 13,
        "NON_REPLAYABLE_OVERFLOW"
    );
    assert_eq!(entry(&mut g, buf, 3)[2], 0, "not written");
    // Software consumed two entries and clears OVERFLOW: PUT wraps 3 -> 0 -> 1.
    g.wr(BUF_GET, 2 | (1 << 31));
    assert_eq!(g.rd(BUF_GET), 2);
    assert_eq!(g.rd(FAULT_STATUS) & (1 << 13), 0);
    read(&mut g, 0x5000);
    read(&mut g, 0x6000);
    assert_eq!(g.rd(BUF_PUT), 1);
    assert_eq!(entry(&mut g, buf, 3)[2], 0x5000);
    assert_eq!(entry(&mut g, buf, 0)[2], 0x6000);
    read(&mut g, 0x7000);
    assert_eq!(g.rd(BUF_PUT), 1 | (1 << 31), "full again");
    // Disabling resets the pointers and the flag.
    g.wr(BUF_SIZE, 4);
    assert_eq!((g.rd(BUF_GET), g.rd(BUF_PUT)), (0, 0));
}

#[test]
fn gsp_rm_owns_buffer_0_and_posts_mmu_fault_queued() {
    let (mut g, mut rm) = ready_with_port();
    let irq = g.enable_msix();
    g.enable_gsp_intr();
    // GSP-RM programmed buffer 0 when it started: VRAM, physical, enabled (README "MMU
    // faults"), 64 KiB into the non-WPR heap (bar1PdeBase = nonWprHeapOffset + 4 KiB).
    let m = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]);
    let non_wpr = le64(&m.payload, 1536) - 0x1000;
    let lo = g.rd(BUF_LO);
    let addr = (u64::from(g.rd(BUF_HI)) << 32) | u64::from(lo & 0xffff_f000);
    assert_eq!(addr, non_wpr + 0x1_0000);
    assert_eq!(lo & 7, 1, "PHYSICAL, LOCAL (VRAM)");
    let size = g.rd(BUF_SIZE);
    assert_eq!(size >> 31, 1, "ENABLE");
    assert!(size & 0xf_ffff >= 2);
    assert_eq!((g.rd(BUF_GET), g.rd(BUF_PUT)), (0, 0));
    g.ack_gsp_intr();
    irq_count(&irq); // the reply's interrupt
    assert!(!rm.pending(&g));
    let (inst, pd3) = (0x100_0000, 0x101_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    space(&mut g, VID, pd3);
    bind(&mut g, VID, inst);
    assert_eq!(write(&mut g, 0x3000, 1), fault(PTE));
    // Before the I/O write returned: the entry, SWGEN0, leaf 4 bit 27, MSI-X vector 2.
    assert_eq!(g.rd(BUF_PUT), 1);
    assert_eq!(irq_count(&irq), 1, "MSI-X vector 2\n{}", g.trace());
    assert_ne!(g.rd(GSP + IRQSTAT) & 0x40, 0, "SWGEN0");
    assert_eq!(g.rd(LEAF + 16), GSP_LEAF_BIT);
    g.ack_gsp_intr();
    let e = rm.recv(&g).expect("MMU_FAULT_QUEUED");
    assert_eq!(
        (e.function, e.sequence, e.result, e.payload.len()),
        (MMU_FAULT_QUEUED, 0, 0, 0)
    );
    assert!(rm.recv(&g).is_none());
    // The packet in GSP-RM's buffer, read through PRAMIN.
    let buf = (u64::from(g.rd(BUF_HI)) << 32) | u64::from(g.rd(BUF_LO) & 0xffff_f000);
    assert_eq!(mem_rd32(&mut g, VID, buf), inst as u32);
    assert_eq!(mem_rd32(&mut g, VID, buf + 8), 0x3000);
    assert_eq!(mem_rd32(&mut g, VID, buf + 24), 15);
    assert_eq!(mem_rd32(&mut g, VID, buf + 28), g.rd(FAULT_INFO));
    // The snapshot stays until software clears STATUS.VALID.
    assert_eq!(g.rd(FAULT_STATUS) >> 31, 1);
    let _ = rm.call(&mut g, NOP, &[]);
    g.ack_gsp_intr();
    irq_count(&irq);
    assert_eq!(g.rd(FAULT_STATUS) >> 31, 1);
    g.wr(FAULT_STATUS, 1 << 31);
    assert_eq!(g.rd(FAULT_STATUS), 0);
    // A second fault, a second event and interrupt; a good access posts nothing.
    mem_wr64(&mut g, VID, pd3 + 0x4000 + 8, pte(VID, 0x180_0000));
    assert_eq!(write(&mut g, 0x1000, 5), DONE);
    assert!(!rm.pending(&g));
    assert_eq!(read(&mut g, 0x9000).1, fault(PTE));
    assert_eq!(g.rd(BUF_PUT), 2);
    let e = rm.recv(&g).expect("second MMU_FAULT_QUEUED");
    assert_eq!(e.function, MMU_FAULT_QUEUED);
    assert_eq!(irq_count(&irq), 1);
}

#[test]
fn a_fault_before_gsp_init_done_is_announced_after_it() {
    let (mut g, mut rm) = boot_rm_with(
        Options {
            test_port: true,
            ..rm_options()
        },
        |_, _| {},
    );
    // GSP-RM runs (buffer 0 programmed) but has not sent GSP_INIT_DONE.
    bind(&mut g, VID, 0x100_0000); // zeros: UNBOUND_INST_BLOCK
    assert_eq!(read(&mut g, 0x1000).1, fault(UNBOUND));
    assert_eq!(g.rd(BUF_PUT), 1);
    assert!(!rm.pending(&g), "held until GSP_INIT_DONE");
    init(&mut g, &mut rm);
    let e = rm.recv(&g).expect("MMU_FAULT_QUEUED after GSP_INIT_DONE");
    assert_eq!((e.function, e.payload.len()), (MMU_FAULT_QUEUED, 0));
    assert!(rm.recv(&g).is_none());
}

fn ready_with_port() -> (Gpu, Rm) {
    let (mut g, mut rm) = boot_rm_with(
        Options {
            test_port: true,
            ..rm_options()
        },
        |_, _| {},
    );
    init(&mut g, &mut rm);
    (g, rm)
}

#[test]
fn mmu_log_lines_for_port_accesses() {
    let path = std::env::temp_dir().join(format!("vgpu-port-log-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut g = gpu(Options {
        test_port: true,
        mmu_log: Some(path.clone()),
        ..Default::default()
    });
    let (inst, pd3) = (0x10_0000, 0x11_0000);
    inst_block(&mut g, VID, inst, VID, pd3);
    let (_, pt, _) = space(&mut g, VID, pd3);
    mem_wr64(&mut g, VID, pt + 8, pte(VID, 0x80_0000) | PTE_RO);
    mem_wr64(&mut g, VID, pt + 16, PTE_SPARSE);
    bind(&mut g, VID, inst);
    read(&mut g, 0x1040);
    read(&mut g, 0x1044);
    write(&mut g, 0x1040, 1);
    read(&mut g, 0x2000);
    bind(&mut g, VID, 0x20_0000);
    read(&mut g, 0x40);
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "port R va=0x1040 len=4 inst=vid:0x100000 pdb=vid:0x110000 -> vid:0x800040 page=0x800000 size=4K ro=1 kind=0x00 tlb=miss",
            "port R va=0x1044 len=4 inst=vid:0x100000 pdb=vid:0x110000 -> vid:0x800044 page=0x800000 size=4K ro=1 kind=0x00 tlb=hit",
            "port W va=0x1040 len=4 inst=vid:0x100000 pdb=vid:0x110000 -> fault=RO_VIOLATION fault_buffer=disabled",
            "port R va=0x2000 len=4 inst=vid:0x100000 pdb=vid:0x110000 -> sparse",
            "port R va=0x40 len=4 inst=vid:0x200000 unbound -> fault=UNBOUND_INST_BLOCK fault_buffer=disabled",
        ]
    );
}

#[test]
fn trace_names_the_registers_and_the_accesses() {
    let buf = Buf::default();
    let tracer = std::sync::Arc::new(vgpu::trace::Tracer::new(
        vgpu::trace::Filter::parse(Some("mmu,io")),
        Box::new(buf.clone()),
    ));
    let mut dev = vgpu::server::Device::new(
        &vgpu::chip::GA102,
        Options {
            test_port: true,
            ..Default::default()
        },
        tracer,
    )
    .unwrap();
    let mut io = |off: u64, v: u32| {
        dev.region_write(VFIO_PCI_BAR5_REGION_INDEX, off, &v.to_le_bytes())
            .unwrap()
    };
    io(INST_LO, 0x20_0000);
    io(VA_LO, 0x1234);
    io(CMD, 1);
    io(CMD + 1, 1); // not an aligned 32-bit write
    let t = buf.text();
    for want in [
        "TEST_PORT_INST_LO",
        "TEST_PORT_CMD",
        "not an aligned 32-bit write, ignored",
        "CE0 fault UNBOUND_INST_BLOCK (0x4) at VA 0x1234 (R; instance block vid:0x200000)",
        "CE0 R32 VA 0x1234 (instance block vid:0x200000) = 0x0 -> fault UNBOUND_INST_BLOCK",
    ] {
        assert!(t.contains(want), "{want:?} not in\n{t}");
    }
}
