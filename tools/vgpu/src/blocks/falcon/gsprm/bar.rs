// SPDX-License-Identifier: GPL-2.0
//! GSP-RM's BAR1 set-up. On a real board GSP-RM creates the BAR1 VA space, reports its root
//! page directory as `GspStaticConfigInfo.bar1PdeBase` (docs/facts/ga102.md §9.6) and binds BAR1 to it;
//! nouveau's r535 code then adopts that PD3 and writes its own lower levels and PTEs under it
//! (nouveau `nvkm/subdev/gsp/rm/r535/bar.c` L127-148: it wraps 4 KiB of VRAM at
//! `rm_bar1_pdb` as its BAR1 VMM's top-level table).
//!
//! The model does the same when GSP-RM starts (right after its start-up checks pass):
//! - PD3 at bar1PdeBase = nonWprHeapOffset + 4 KiB ([`static_info::pde_bases`]), 4 KiB of
//!   zeros: every entry INVALID, so every BAR1 access faults until the driver writes PDEs. What
//!   the real GSP-RM leaves in it is not published (RM makes BAR1 "sparse" to avoid CPU faults,
//!   OG 570.144 `kern_bus_gm107.c` L906-920; nouveau overwrites the entries it needs anyway);
//! - the BAR1 instance block at nonWprHeapOffset + 8 KiB (model choice): PAGE_DIR_BASE =
//!   bar1PdeBase in VID_MEM, USE_VER2_PT_FORMAT, BIG_PAGE_SIZE 64 KiB — RM's BAR1 VA space
//!   uses the default big-page size (`kbusInitBar1_GM107`, OG `kern_bus_gm107.c` L954-965,
//!   BIG_PAGE_SIZE_DEFAULT), which is 64 KiB on GA102 (`defaultBigPageSize`, OG
//!   `g_kern_gmmu_nvoc.c` L231-236); 64 KiB is also the only size the instance block may
//!   select (OD ga100 `dev_ram.ref.txt` L231);
//! - `NV_PBUS_BAR1_BLOCK` = MODE_VIRTUAL | TARGET VID_MEM | PTR = instance block >> 12, and a
//!   TLB invalidate of the new PDB.
//!
//! Both pages lie in the non-WPR heap, inside FB region 1 of the static info, which is reserved
//! and protected: neither nova (reserved 0, not protected, compressible and ISO) nor nouveau
//! (`r535/gsp.c` L191-201: reserved 0 and not protected) treats it as usable memory.

use super::static_info;
use crate::blocks::falcon::booter::WprMeta;
use crate::mmu::bar1::block_value;
use crate::mmu::format::Aperture;
use crate::mmu::hub::Hub;
use crate::mmu::inst::{PageDirBase, Target, PAGE_DIR_BASE_WORD, SIZE};
use crate::mmu::tlb::{CacheLevel, PdbKey};

/// Offset of the BAR1 instance block in the non-WPR heap (model choice).
pub const BAR1_INST_OFFSET: u64 = 0x2000;

/// Where GSP-RM keeps BAR1's tables: (PD3, instance block).
pub fn bar1_layout(meta: &WprMeta) -> (u64, u64) {
    (
        static_info::pde_bases(meta).0,
        meta.non_wpr_heap_offset + BAR1_INST_OFFSET,
    )
}

/// Builds BAR1's PD3 and instance block in VRAM and binds BAR1 to them.
pub fn setup_bar1(hub: &Hub, meta: &WprMeta) -> Result<String, String> {
    let (pd3, inst) = bar1_layout(meta);
    let dir = PageDirBase {
        target: Target::Video,
        vol: false,
        fault_replay_tex: false,
        fault_replay_gcc: false,
        ver2: true,
        big_page_64k: true,
        addr: pd3,
    };
    let (lo, hi) = dir.encode();
    let mut block = vec![0u8; SIZE];
    block[4 * PAGE_DIR_BASE_WORD..4 * PAGE_DIR_BASE_WORD + 4].copy_from_slice(&lo.to_le_bytes());
    block[4 * PAGE_DIR_BASE_WORD + 4..4 * PAGE_DIR_BASE_WORD + 8]
        .copy_from_slice(&hi.to_le_bytes());
    let mut h = hub.lock();
    if !h.write(Aperture::Video, pd3, &[0u8; 4096]) || !h.write(Aperture::Video, inst, &block) {
        return Err(format!(
            "BAR1 tables at {pd3:#x} / {inst:#x} are not in VRAM"
        ));
    }
    h.bar1_bind(block_value(Aperture::Video, inst));
    h.invalidate(
        Some(PdbKey {
            sys: false,
            addr: pd3,
        }),
        CacheLevel::All,
        "GSP-RM BAR1 set-up",
    );
    Ok(format!(
        "BAR1 bound: PD3 (bar1PdeBase) at {pd3:#x}, all entries invalid; instance block at {inst:#x}; 64 KiB big pages"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::falcon::gsprm::bytes::{get_u32, get_u64, get_u8};
    use crate::chip::GA102;
    use crate::dma::GuestMemory;
    use crate::mmu::bar1::Bind;
    use crate::mmu::walk::{Access, Pdb};
    use crate::trace::Tracer;
    use crate::vram::Vram;
    use std::sync::{Arc, Mutex};

    /// The layout Booter accepts on a 24 GiB board with the drivers' 129 MiB heap.
    fn meta() -> WprMeta {
        WprMeta {
            fb_size: 24 << 30,
            rsvd_start: 0x5_f3e0_0000,
            non_wpr_heap_offset: 0x5_f3e0_0000,
            non_wpr_heap_size: 1 << 20,
            frts_offset: 0x5_ffe0_0000,
            ..Default::default()
        }
    }

    fn hub() -> Hub {
        Hub::new(
            Vram::new(GA102.vram_size),
            Arc::new(Mutex::new(GuestMemory::new())),
            Arc::new(Tracer::off()),
        )
    }

    #[test]
    fn bar1_is_bound_to_an_empty_pd3_at_bar1_pde_base() {
        let h = hub();
        let vram = h.vram();
        vram.write_u64(0x5_f3e0_1008, 0xdead).unwrap();
        let msg = setup_bar1(&h, &meta()).unwrap();
        assert!(msg.contains("0x5f3e01000"), "{msg}");
        assert_eq!(vram.read_u64(0x5_f3e0_1008), Ok(0), "PD3 cleared");
        assert_eq!(
            h.lock().bar1().bind,
            Bind::Virtual {
                inst: (Some(Aperture::Video), 0x5_f3e0_2000),
                pdb: Ok(Pdb {
                    aperture: Aperture::Video,
                    addr: 0x5_f3e0_1000,
                    big_page: crate::mmu::format::BigPage::K64
                })
            }
        );
        // Word 128: VID_MEM, VER2, 64 KiB, PDB 31:12.
        assert_eq!(vram.read_u32(0x5_f3e0_2000 + 512), Ok(0xf3e0_1c00));
        assert_eq!(vram.read_u32(0x5_f3e0_2000 + 516), Ok(5));
        assert_eq!(h.lock().bar1().block, 0x805f_3e02);
        // Nothing mapped yet: every BAR1 access faults and reads 0.
        let mut b = [0xffu8; 4];
        h.lock().bar1_access(0, &mut b, Access::Read);
        assert_eq!(b, [0; 4]);
    }

    #[test]
    fn bar1_tables_are_in_reserved_memory() {
        let m = meta();
        let info = static_info::build(&GA102, &m);
        let (pd3, inst) = bar1_layout(&m);
        assert_eq!(
            get_u64(&info, static_info::off::BAR1_PDE_BASE),
            Some(pd3),
            "the reported bar1PdeBase"
        );
        let n = get_u32(&info, static_info::off::NUM_FB_REGIONS).unwrap() as usize;
        // NV2080_CTRL_CMD_FB_GET_FB_REGION_FB_REGION_INFO (OG:abi L1078-1086): base @0, limit
        // @8 (inclusive), reserved @16, supportCompressed @28, supportISO @29, bProtected @30.
        let regions: Vec<(u64, u64, u64, u8, u8, u8)> = (0..n)
            .map(|i| {
                let r = static_info::off::FB_REGION + i * static_info::off::FB_REGION_SIZE;
                (
                    get_u64(&info, r).unwrap(),
                    get_u64(&info, r + 8).unwrap(),
                    get_u64(&info, r + 16).unwrap(),
                    get_u8(&info, r + 28).unwrap(),
                    get_u8(&info, r + 29).unwrap(),
                    get_u8(&info, r + 30).unwrap(),
                )
            })
            .collect();
        for page in [pd3, inst] {
            let inside = |r: &&(u64, u64, u64, u8, u8, u8)| r.0 <= page && page + 0xfff <= r.1;
            let holder = regions.iter().find(inside).expect("inside a region");
            assert!(
                holder.2 != 0 && holder.5 != 0,
                "reserved and protected: {holder:x?}"
            );
            for r in &regions {
                let nouveau_usable = r.2 == 0 && r.5 == 0;
                let nova_usable = nouveau_usable && r.3 != 0 && r.4 != 0;
                let overlaps = r.0 <= page + 0xfff && page <= r.1;
                assert!(
                    !(overlaps && (nouveau_usable || nova_usable)),
                    "{page:#x} {r:x?}"
                );
            }
        }
    }

    #[test]
    fn tables_outside_vram_are_refused() {
        let m = WprMeta {
            non_wpr_heap_offset: 48 << 30,
            ..meta()
        };
        assert!(setup_bar1(&hub(), &m).is_err());
    }
}
