// SPDX-License-Identifier: GPL-2.0
//! GSP-RM's non-replayable fault buffer. Under GSP-RM the non-replayable fault buffer belongs
//! to GSP-RM, which tells the CPU about faults with the `MMU_FAULT_QUEUED` event (docs/facts/ga102.md §12.5;
//! OG 570.144 `kernel_gsp.c` L1005-1012: "Non-replayable fault handling is split between
//! GSP-RM and the UVM driver"). The CPU never programs buffer 0.
//!
//! The model programs it when GSP-RM starts (right after BAR1, [`super::bar`]), the way RM
//! enables a fault buffer (OG 570.144 `kern_gmmu_gv100.c` L1483-1511: HI/LO, SIZE.SET_DEFAULT
//! and VAL read back, then SIZE with ENABLE and OVERFLOW_INTR for the non-replayable buffer):
//! - `MMU_FAULT_BUFFER_HI(0)` / `LO(0)` = [`FAULT_BUFFER_OFFSET`] into the non-WPR heap
//!   (nonWprHeapOffset + 64 KiB; 0x5F3E10000 with the drivers' layout), ADDR_MODE PHYSICAL,
//!   PHYS_APERTURE LOCAL (VRAM). Model choices: RM itself maps its buffers through BAR2
//!   (ADDR_MODE VIRTUAL, `bar2FaultBufferAddr`), and BAR2 is not modelled; the non-WPR heap
//!   (1 MiB, FB region 1: reserved and protected, not usable memory for either driver)
//!   already holds GSP-RM's BAR2 and BAR1 pages at +0 / +4 KiB / +8 KiB;
//! - `SIZE(0)` = SET_DEFAULT, giving [`DEFAULT_ENTRIES`] entries (32 KiB, up to +96 KiB), then
//!   VAL | OVERFLOW_INTR | ENABLE; the 32 KiB are zeroed first.
//!
//! GSP-RM does not service the buffer: a real GSP-RM copies the packets into the CPU's shadow
//! buffer (registered with `GMMU_REGISTER_FAULT_BUFFER`, RPC 81, docs/facts/ga102.md §12.5) and advances
//! GET; here the entries stay in GSP-RM's buffer (readable through PRAMIN) and GET moves only
//! when software writes it.

use crate::blocks::falcon::booter::WprMeta;
use crate::mmu::fault::ENTRY_SIZE;
use crate::mmu::fault_buffer::{
    DEFAULT_ENTRIES, LO_PHYSICAL, NON_REPLAYABLE, SIZE_ENABLE, SIZE_OVERFLOW_INTR,
    SIZE_SET_DEFAULT, SIZE_VAL,
};
use crate::mmu::format::Aperture;
use crate::mmu::hub::Hub;

/// Offset of the non-replayable fault buffer in the non-WPR heap (model choice).
pub const FAULT_BUFFER_OFFSET: u64 = 0x1_0000;

/// Where GSP-RM puts its non-replayable fault buffer (VRAM).
pub fn fault_buffer_addr(meta: &WprMeta) -> u64 {
    meta.non_wpr_heap_offset + FAULT_BUFFER_OFFSET
}

/// Zeroes and programs the non-replayable fault buffer.
pub fn setup_fault_buffer(hub: &Hub, meta: &WprMeta) -> Result<String, String> {
    let addr = fault_buffer_addr(meta);
    let bytes = DEFAULT_ENTRIES as u64 * ENTRY_SIZE as u64;
    if FAULT_BUFFER_OFFSET + bytes > meta.non_wpr_heap_size {
        return Err(format!(
            "{bytes:#x} bytes at +{FAULT_BUFFER_OFFSET:#x} do not fit the {:#x}-byte non-WPR heap",
            meta.non_wpr_heap_size
        ));
    }
    let mut h = hub.lock();
    if !h.write(Aperture::Video, addr, &vec![0u8; bytes as usize]) {
        return Err(format!("fault buffer at {addr:#x} is not in VRAM"));
    }
    let b = h.fault_buffer_mut(NON_REPLAYABLE);
    b.write_hi((addr >> 32) as u32);
    b.write_lo((addr as u32 & 0xffff_f000) | LO_PHYSICAL);
    b.write_size(b.size() | SIZE_SET_DEFAULT);
    let val = b.size() & SIZE_VAL;
    b.write_size(val | SIZE_OVERFLOW_INTR | SIZE_ENABLE);
    Ok(format!(
        "non-replayable fault buffer at vid {addr:#x}, {val} entries of {ENTRY_SIZE} bytes, enabled"
    ))
}
