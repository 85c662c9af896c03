// SPDX-License-Identifier: GPL-2.0
//! End to end: VRAM through PRAMIN, BAR1 through the page tables, TLB invalidation, driven
//! through the device's vfio-user region handlers the way a driver would (docs/facts/ga102.md §1.3, §9.6,
//! §12; the page-table layout from docs/facts/ga102.md §12.1-12.2, written by this test with its own few
//! lines). The GSP-RM tests boot through booter_load with the real firmware files.

mod common;

use common::rm::*;
use common::*;
use vfio_bindings::bindings::vfio::VFIO_PCI_BAR1_REGION_INDEX;
use vgpu::server::Options;

const BAR0_WINDOW: u32 = 0x1700;
const PRAMIN: u32 = 0x70_0000;
const BAR1_BLOCK: u32 = 0x1704;
const INVALIDATE_PDB: u32 = 0xb8_30a0;
const INVALIDATE_UPPER_PDB: u32 = 0xb8_30a4;
const INVALIDATE: u32 = 0xb8_30b0;
const FAULT_ADDR_LO: u32 = 0xb8_3080;
const FAULT_ADDR_HI: u32 = 0xb8_3084;
const FAULT_INST_LO: u32 = 0xb8_3088;
const FAULT_INST_HI: u32 = 0xb8_308c;
const FAULT_INFO: u32 = 0xb8_3090;
const FAULT_STATUS: u32 = 0xb8_3094;

fn bar1_rd(g: &mut Gpu, off: u64) -> u32 {
    g.region_rd32(VFIO_PCI_BAR1_REGION_INDEX, off)
}

fn bar1_wr(g: &mut Gpu, off: u64, v: u32) {
    g.region_wr32(VFIO_PCI_BAR1_REGION_INDEX, off, v)
}

/// Writes a u64 to VRAM through PRAMIN (window = address >> 16, 1 MiB aligned).
fn vram_wr64(g: &mut Gpu, addr: u64, v: u64) {
    g.wr(BAR0_WINDOW, (addr >> 16) as u32 & !0xf);
    let off = PRAMIN + (addr & 0xf_ffff) as u32;
    g.wr(off, v as u32);
    g.wr(off + 4, (v >> 32) as u32);
}

fn vram_rd32(g: &mut Gpu, addr: u64) -> u32 {
    g.wr(BAR0_WINDOW, (addr >> 16) as u32 & !0xf);
    g.rd(PRAMIN + (addr & 0xf_ffff) as u32)
}

// Version-2 entries (docs/facts/ga102.md §12.2).
fn pde_vid(table: u64) -> u64 {
    (1 << 1) | ((table >> 12) << 8)
}
fn pte_vid(page: u64) -> u64 {
    1 | ((page >> 12) << 8)
}

#[test]
fn bar1_is_physical_vram_before_gsp_rm() {
    let mut g = gpu(Options::default());
    assert_eq!(g.rd(BAR1_BLOCK), 0, "INIT: physical, video memory");
    bar1_wr(&mut g, 0x12_3450, 0xfeed_beef);
    assert_eq!(vram_rd32(&mut g, 0x12_3450), 0xfeed_beef);
    vram_wr64(&mut g, 0x20_0000, 0x1122_3344_5566_7788);
    assert_eq!(bar1_rd(&mut g, 0x20_0004), 0x1122_3344);
    // Outside the BAR: all ones.
    assert_eq!(bar1_rd(&mut g, 256 << 20), 0xffff_ffff);
}

#[test]
fn bar1_through_gsp_rm_page_directory() {
    let (mut g, mut rm) = ready();
    let m = rm.call(&mut g, GET_GSP_STATIC_INFO, &[]);
    let pd3 = le64(&m.payload, 1536);
    assert_eq!(pd3, 0x5_f3e0_1000, "bar1PdeBase");
    // GSP-RM bound BAR1: virtual mode, an instance block in VRAM.
    let block = g.rd(BAR1_BLOCK);
    assert_eq!(block >> 31, 1, "MODE_VIRTUAL");
    assert_eq!((block >> 28) & 3, 0, "TARGET VID_MEM");
    let inst = u64::from(block & 0x0fff_ffff) << 12;
    let w128 = vram_rd32(&mut g, inst + 512);
    assert_eq!(w128 & 3, 0, "PDB in video memory");
    assert_eq!(w128 & (3 << 10), 3 << 10, "VER2, 64 KiB big pages");
    assert_eq!(
        (u64::from(vram_rd32(&mut g, inst + 516)) << 32) | u64::from(w128 & 0xffff_f000),
        pd3
    );
    // Nothing mapped: reads 0, writes go nowhere.
    assert_eq!(bar1_rd(&mut g, 0x1000), 0);
    // The driver adopts PD3 and builds the rest in usable VRAM (nouveau r535 style):
    // VA 0x1000 -> PD3[0] -> PD2[0] -> PD1[0] -> PD0[0] (small table) -> PT[1] -> page.
    let (pd2, pd1, pd0, pt, page, page2) = (
        0x100_0000u64,
        0x100_1000,
        0x100_2000,
        0x100_3000,
        0x180_0000,
        0x181_0000,
    );
    vram_wr64(&mut g, pd3, pde_vid(pd2));
    vram_wr64(&mut g, pd2, pde_vid(pd1));
    vram_wr64(&mut g, pd1, pde_vid(pd0));
    vram_wr64(&mut g, pd0, 0);
    vram_wr64(&mut g, pd0 + 8, pde_vid(pt)); // small half: aperture 66:65, address 96:72
    vram_wr64(&mut g, pt + 8, pte_vid(page));
    vram_wr64(&mut g, page + 0x40, 0xabcd);
    vram_wr64(&mut g, page2 + 0x40, 0x1234);
    assert_eq!(bar1_rd(&mut g, 0x1040), 0xabcd);
    bar1_wr(&mut g, 0x1044, 0x5555);
    assert_eq!(vram_rd32(&mut g, page + 0x44), 0x5555);
    // Remap without invalidating: the GPU keeps the old translation.
    vram_wr64(&mut g, pt + 8, pte_vid(page2));
    assert_eq!(bar1_rd(&mut g, 0x1040), 0xabcd, "stale TLB");
    // nouveau's invalidate (docs/facts/ga102.md §12.4): PDB >> 8, UPPER 0, ALL_VA | HUB_ONLY | ALL_PDB.
    g.wr(INVALIDATE_PDB, (pd3 >> 8) as u32);
    g.wr(INVALIDATE_UPPER_PDB, 0);
    g.wr(INVALIDATE, 0x8000_0007);
    assert!(g.poll(INVALIDATE, 10, |v| v & 1 << 31 == 0).is_some());
    assert_eq!(bar1_rd(&mut g, 0x1040), 0x1234);
}

#[test]
fn bar1_faults_in_the_fault_registers() {
    let (mut g, rm) = ready();
    assert_eq!(g.rd(FAULT_STATUS), 0);
    let block = g.rd(BAR1_BLOCK);
    let inst = u64::from(block & 0x0fff_ffff) << 12;
    // GSP-RM's PD3 is empty: a PDE fault, reads 0.
    assert_eq!(bar1_rd(&mut g, 0x0abc_d123), 0);
    // Decoded the way nouveau's tu102 fault handler reads the registers (docs/facts/ga102.md §12.5).
    let addr = (u64::from(g.rd(FAULT_ADDR_HI)) << 32) | u64::from(g.rd(FAULT_ADDR_LO));
    let info0 = g.rd(FAULT_INST_LO);
    let inst_read = (u64::from(g.rd(FAULT_INST_HI)) << 32) | u64::from(info0 & 0xffff_f000);
    let info1 = g.rd(FAULT_INFO);
    assert_eq!(addr, 0x0abc_d000);
    assert_eq!(inst_read, inst, "BAR1's instance block");
    assert_eq!(info0 & 0x1ff, 128, "ENGINE_ID BAR1");
    assert_eq!((info0 >> 10) & 3, 0, "instance block in VID_MEM");
    assert_eq!(info1 & 0x1f, 0, "FAULT_TYPE PDE");
    assert_eq!((info1 >> 16) & 0xf, 0, "ACCESS_TYPE VIRT_READ");
    assert_eq!(info1 >> 31, 1, "VALID");
    assert_eq!(g.rd(FAULT_STATUS), 1 << 31);
    // A write fault while VALID: dropped (DROPPED_BAR1_VIRT), the snapshot stays.
    bar1_wr(&mut g, 0x10, 1);
    assert_eq!(g.rd(FAULT_STATUS), (1 << 31) | 2);
    assert_eq!(g.rd(FAULT_ADDR_LO), 0x0abc_d000);
    // Cleared the way nouveau clears it; the next fault is snapped.
    g.wr(FAULT_STATUS, 0x8000_0002);
    assert_eq!(g.rd(FAULT_STATUS), 0);
    bar1_wr(&mut g, 0x10, 1);
    assert_eq!(g.rd(FAULT_ADDR_LO), 0);
    assert_eq!((g.rd(FAULT_INFO) >> 16) & 0xf, 1, "VIRT_WRITE");
    // No MMU_FAULT_QUEUED event for a BAR1 fault: nothing waits in the status queue.
    assert!(!rm.pending(&g), "{}", g.trace());
}

#[test]
fn mmu_log_option_writes_the_test_instrument() {
    let path = std::env::temp_dir().join(format!("vgpu-mmu-log-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut g = gpu(Options {
        mmu_log: Some(path.clone()),
        ..Default::default()
    });
    bar1_rd(&mut g, 0x40);
    g.wr(BAR1_BLOCK, 0x8000_0010); // virtual, an instance block of zeros at 0x10000
    bar1_rd(&mut g, 0x40);
    g.wr(INVALIDATE, 0x8000_0003); // ALL_PDB | ALL_VA
    g.wr(INVALIDATE, 0x8000_0002); // ALL_VA = 0
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "bar1 R va=0x40 len=4 physical -> vid:0x40",
            "bind bar1 mode=virtual inst=vid:0x10000 unbound=UNBOUND_INST_BLOCK",
            "bar1 R va=0x40 len=4 unbound inst=vid:0x10000 -> fault=UNBOUND_INST_BLOCK",
            "invalidate pdb=all level=ALL dropped=0 by=MMU_INVALIDATE",
            "invalidate pdb=all level=ALL dropped=0 by=MMU_INVALIDATE all_va=0 ignored",
        ]
    );
    // A log that cannot be opened is a start-up error naming it.
    let bad = vgpu::server::Device::new(
        &vgpu::chip::GA102,
        Options {
            mmu_log: Some("/nonexistent/dir/mmu.log".into()),
            ..Default::default()
        },
        std::sync::Arc::new(vgpu::trace::Tracer::off()),
    );
    assert!(bad
        .err()
        .unwrap()
        .to_string()
        .contains("/nonexistent/dir/mmu.log"));
}
