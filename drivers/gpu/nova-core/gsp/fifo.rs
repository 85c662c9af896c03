// SPDX-License-Identifier: GPL-2.0
//! The GSP-RM side of a GPFIFO channel: allocation parameters and control payloads of the
//! render path's RM objects (docs/facts/ga102.md §10), and the `RC_TRIGGERED` event GSP-RM sends when it
//! stops a channel. Pure byte layouts; `crate::gpfifo` issues them.
//!
//! Objects of one channel, all under nova-core's RM device (docs/facts/ga102.md §10.1):
//! 1. `FERMI_VASPACE_A` (0x90F1), externally owned: the page tables are ours.
//! 2. `NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY` on the device points it at our root table.
//! 3. `AMPERE_CHANNEL_GPFIFO_A` (0xC56F) with our instance block, USERD and method buffer;
//!    GSP-RM writes the instance block.
//! 4. The engine's class object under the channel (AMPERE_DMA_COPY_B, FERMI_TWOD_A).
//! 5. `NVA06F_CTRL_CMD_BIND`, `NVA06F_CTRL_CMD_GPFIFO_SCHEDULE`, and
//!    `NVC36F_CTRL_CMD_GPFIFO_GET_WORK_SUBMIT_TOKEN` for the doorbell value.

use super::rpc::{get32, put32, put64};

/// Classes (docs/facts/ga102.md §10.1).
pub mod class {
    /// `FERMI_VASPACE_A`.
    pub const FERMI_VASPACE_A: u32 = 0x90f1;
    /// `AMPERE_CHANNEL_GPFIFO_A`.
    pub const AMPERE_CHANNEL_GPFIFO_A: u32 = 0xc56f;
}

/// Control commands (docs/facts/ga102.md §10.2).
pub mod ctrl {
    /// `NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY` (on the device).
    pub const NV0080_DMA_SET_PAGE_DIRECTORY: u32 = 0x0080_1813;
    /// `NVA06F_CTRL_CMD_GPFIFO_SCHEDULE` (on the channel; params: `bEnable` NvBool).
    pub const NVA06F_GPFIFO_SCHEDULE: u32 = 0xa06f_0103;
    /// `NVA06F_CTRL_CMD_BIND` (on the channel; params: engineType u32).
    pub const NVA06F_BIND: u32 = 0xa06f_0104;
    /// `NVC36F_CTRL_CMD_GPFIFO_GET_WORK_SUBMIT_TOKEN` (on the channel; params: token u32).
    pub const NVC36F_GET_WORK_SUBMIT_TOKEN: u32 = 0xc36f_0108;
    /// `NV2080_CTRL_CMD_CE_GET_FAULT_METHOD_BUFFER_SIZE` (on the subdevice; params: size u32).
    pub const NV2080_CE_GET_FAULT_METHOD_BUFFER_SIZE: u32 = 0x2080_2a08;
}

/// `NV2080_ENGINE_TYPE_GRAPHICS` (docs/facts/ga102.md §10.2).
pub const ENGINE_GRAPHICS: u32 = 1;
/// `NV2080_ENGINE_TYPE_COPY0` (COPY(n) = 9 + n, docs/facts/ga102.md §10.2).
pub const ENGINE_COPY0: u32 = 9;

/// Size of `NV_VASPACE_ALLOCATION_PARAMETERS` (docs/facts/ga102.md §10.2).
pub const VASPACE_PARAMS: usize = 48;
/// `NV_VASPACE_ALLOCATION_FLAGS_IS_EXTERNALLY_OWNED` (flags bit 3, docs/facts/ga102.md §10.2).
pub const VASPACE_EXTERNALLY_OWNED: u32 = 1 << 3;

/// `NV_VASPACE_ALLOCATION_PARAMETERS` for a new GPU VA space (index `GPU_NEW` = 0) whose page
/// tables the CPU owns, with 64 KiB big pages (the size our instance blocks select).
pub fn vaspace_params() -> [u8; VASPACE_PARAMS] {
    let mut b = [0u8; VASPACE_PARAMS];
    put32(&mut b, 4, VASPACE_EXTERNALLY_OWNED);
    put64(&mut b, 32, 0x1_0000);
    b
}

/// Size of `NV0080_CTRL_DMA_SET_PAGE_DIRECTORY_PARAMS`: physAddress u64 @0, numEntries @8,
/// flags @12, hVASpace @16, chId @20, subDeviceId @24, pasid @28 (OG 570.144
/// `ctrl/ctrl0080/ctrl0080dma.h`, `NV0080_CTRL_DMA_SET_PAGE_DIRECTORY_PARAMS`).
pub const SET_PAGE_DIRECTORY_PARAMS: usize = 32;

/// Aperture of a page directory (`..._FLAGS_APERTURE`, bits 1:0, same header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdAperture {
    /// `VIDMEM` (0).
    Vidmem = 0,
    /// `SYSMEM_COH` (1).
    SysmemCoherent = 1,
}

/// `NV0080_CTRL_DMA_SET_PAGE_DIRECTORY_PARAMS` for VA space `h_vaspace` whose root table of
/// `entries` entries is at `phys` in `aperture`. chId and subDeviceId 0 (all subdevices).
pub fn set_page_directory_params(
    phys: u64,
    entries: u32,
    aperture: PdAperture,
    h_vaspace: u32,
) -> [u8; SET_PAGE_DIRECTORY_PARAMS] {
    let mut b = [0u8; SET_PAGE_DIRECTORY_PARAMS];
    put64(&mut b, 0, phys);
    put32(&mut b, 8, entries);
    put32(&mut b, 12, aperture as u32);
    put32(&mut b, 16, h_vaspace);
    b
}

/// Size of `NV_CHANNEL_ALLOC_PARAMS` (docs/facts/ga102.md §10.2, OG:abi L1756-1783).
pub const CHANNEL_PARAMS: usize = 368;

/// Where a memory block of a channel lives (`NV_MEMORY_DESC_PARAMS`: base u64, size u64,
/// addressSpace u32 (1 SYSMEM, 2 FBMEM), cacheAttrib u32 (0 cached, 1 uncached), docs/facts/ga102.md §10.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemDesc {
    /// Address (DMA address for system memory).
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// `ADDR_SYSMEM` (1) or `ADDR_FBMEM` (2).
    pub address_space: u32,
    /// `NV_MEMORY_CACHED` (0) / `UNCACHED` (1).
    pub cache_attrib: u32,
}

impl MemDesc {
    /// Coherent (cached) system memory.
    pub fn sysmem(base: u64, size: u64) -> Self {
        MemDesc {
            base,
            size,
            address_space: 1,
            cache_attrib: 0,
        }
    }

    fn put(&self, b: &mut [u8], at: usize) {
        put64(b, at, self.base);
        put64(b, at + 8, self.size);
        put32(b, at + 16, self.address_space);
        put32(b, at + 20, self.cache_attrib);
    }
}

/// What a channel allocation asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChannelAlloc {
    /// GPU VA of the GPFIFO ring.
    pub gpfifo_va: u64,
    /// Entries in the ring (8 bytes each).
    pub gpfifo_entries: u32,
    /// The VA space handle.
    pub h_vaspace: u32,
    /// NV2080 engine type the channel runs on.
    pub engine_type: u32,
    /// The 4 KiB instance block GSP-RM fills in.
    pub inst: MemDesc,
    /// USERD (512 bytes used).
    pub userd: MemDesc,
    /// Method buffer for faulted CE methods.
    pub mthdbuf: MemDesc,
}

/// `NV_CHANNEL_ALLOC_PARAMS` (field offsets docs/facts/ga102.md §10.2): flags 0 (a physical channel whose id
/// GSP-RM picks), internalFlags 0 (user privilege, no error notifiers), RAMFC at the start of
/// the instance block (0x200 bytes).
pub fn channel_params(a: &ChannelAlloc) -> [u8; CHANNEL_PARAMS] {
    let mut b = [0u8; CHANNEL_PARAMS];
    put64(&mut b, 8, a.gpfifo_va);
    put32(&mut b, 16, a.gpfifo_entries);
    put32(&mut b, 28, a.h_vaspace);
    put32(&mut b, 128, a.engine_type);
    a.inst.put(&mut b, 144);
    a.userd.put(&mut b, 168);
    MemDesc {
        size: 0x200,
        ..a.inst
    }
    .put(&mut b, 192);
    a.mthdbuf.put(&mut b, 216);
    b
}

/// `NVB0B5_ALLOCATION_PARAMETERS` of a copy-engine object: version 0, engineType (facts
/// §10.1: 8 bytes).
pub fn copy_params(engine_type: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    put32(&mut b, 4, engine_type);
    b
}

/// What `RC_TRIGGERED` says (`rpc_rc_triggered_v17_02` of r570: nv2080EngineType @0, chid @4,
/// gfid @8, exceptLevel @12, exceptType @16, scope @20; OG 570.144
/// `src/nvidia/generated/g_rpc-structures.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RcTriggered {
    /// NV2080 engine type of the channel.
    pub engine_type: u32,
    /// Channel id.
    pub chid: u32,
    /// `ROBUST_CHANNEL_*` error code (`nverror.h`).
    pub except_type: u32,
}

/// Decodes an `RC_TRIGGERED` payload; None when it is too short.
pub fn rc_triggered(payload: &[u8]) -> Option<RcTriggered> {
    payload.get(..24)?;
    Some(RcTriggered {
        engine_type: get32(payload, 0),
        chid: get32(payload, 4),
        except_type: get32(payload, 16),
    })
}

/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`, sent to GSP-RM's internal subdevice.
pub const INTR_GET_KERNEL_TABLE: u32 = 0x2080_0a5c;
/// Its params: tableLen u32 @0, then 16-byte entries from @4 (engineIdx u16 @0, pmcIntrMask
/// @4, vectorStall @8, vectorNonStall @12), the subtree map from @2052 (OG 570.144
/// `ctrl2080internal.h`, asserted in OG:abi).
pub const INTR_TABLE_PARAMS: usize = 2068;
/// Entries the table has room for.
pub const INTR_TABLE_MAX: usize = 128;
/// `NV_INTR_VECTOR_INVALID`.
pub const INTR_VECTOR_INVALID: u32 = u32::MAX;

/// Engine indices of the interrupt table in r570.144 (`MC_ENGINE_IDX_*`, nouveau's copy of
/// the 570.144 `engine_idx.h`: `nvkm/subdev/gsp/rm/r570/nvrm/engine.h` L26, L62, L100; the
/// numbers differ between firmware versions).
pub mod engine_idx {
    /// `MC_ENGINE_IDX_CE0`.
    pub const CE0: u16 = 15;
    /// `MC_ENGINE_IDX_GSP`.
    pub const GSP: u16 = 50;
    /// `MC_ENGINE_IDX_GR0`.
    pub const GR0: u16 = 84;
}

/// One engine's interrupt vectors (None where GSP-RM says `NV_INTR_VECTOR_INVALID`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntrVectors {
    /// Stall vector.
    pub stall: Option<u32>,
    /// Non-stall vector.
    pub nonstall: Option<u32>,
}

/// The vectors of engine `idx` in an interrupt table reply; None if the engine is not listed
/// or the table is malformed. Vectors past `max_vector` count as invalid.
pub fn intr_vectors(p: &[u8], idx: u16, max_vector: u32) -> Option<IntrVectors> {
    let len = get32(p, 0) as usize;
    if p.len() < INTR_TABLE_PARAMS || len > INTR_TABLE_MAX {
        return None;
    }
    let valid = |v: u32| (v != INTR_VECTOR_INVALID && v < max_vector).then_some(v);
    (0..len).map(|i| 4 + 16 * i).find_map(|at| {
        let e = u16::from_le_bytes([*p.get(at)?, *p.get(at + 1)?]);
        (e == idx).then(|| IntrVectors {
            stall: valid(get32(p, at + 8)),
            nonstall: valid(get32(p, at + 12)),
        })
    })
}

/// Channel id of a work-submit token ((runlist << 16) | chid, docs/facts/ga102.md §10.3).
pub fn token_chid(token: u32) -> u32 {
    token & 0xfff
}

#[cfg(test)]
mod tests {
    use super::super::rpc::get64;
    use super::*;

    #[test]
    fn channel_params_place_every_field() {
        let b = channel_params(&ChannelAlloc {
            gpfifo_va: 0x10_0000,
            gpfifo_entries: 512,
            h_vaspace: 0x4e57_0001,
            engine_type: ENGINE_COPY0,
            inst: MemDesc::sysmem(0x1234_5000, 0x1000),
            userd: MemDesc::sysmem(0x2000_0000, 0x200),
            mthdbuf: MemDesc::sysmem(0x3000_0000, 0x1000),
        });
        assert_eq!(get64(&b, 8), 0x10_0000);
        assert_eq!(get32(&b, 16), 512);
        assert_eq!(get32(&b, 28), 0x4e57_0001);
        assert_eq!(get32(&b, 128), 9);
        assert_eq!(get64(&b, 144), 0x1234_5000);
        assert_eq!(get64(&b, 152), 0x1000);
        assert_eq!(get32(&b, 160), 1);
        assert_eq!(get64(&b, 168), 0x2000_0000);
        assert_eq!(get64(&b, 176), 0x200);
        assert_eq!(get64(&b, 192), 0x1234_5000);
        assert_eq!(get64(&b, 200), 0x200);
        assert_eq!(get64(&b, 216), 0x3000_0000);
        assert_eq!(get32(&b, 20), 0);
    }

    #[test]
    fn page_directory_and_vaspace() {
        let p = set_page_directory_params(0xabc000, 4, PdAperture::SysmemCoherent, 7);
        assert_eq!(get64(&p, 0), 0xabc000);
        assert_eq!(get32(&p, 8), 4);
        assert_eq!(get32(&p, 12), 1);
        assert_eq!(get32(&p, 16), 7);
        let v = vaspace_params();
        assert_eq!(get32(&v, 0), 0);
        assert_eq!(get32(&v, 4), 8);
        assert_eq!(get64(&v, 32), 0x10000);
    }

    #[test]
    fn interrupt_table() {
        let mut p = [0u8; INTR_TABLE_PARAMS];
        put32(&mut p, 0, 2);
        p[4..6].copy_from_slice(&50u16.to_le_bytes());
        put32(&mut p, 12, 155);
        put32(&mut p, 16, INTR_VECTOR_INVALID);
        p[20..22].copy_from_slice(&15u16.to_le_bytes());
        put32(&mut p, 28, 300);
        put32(&mut p, 32, 20);
        assert_eq!(
            intr_vectors(&p, engine_idx::GSP, 256),
            Some(IntrVectors {
                stall: Some(155),
                nonstall: None
            })
        );
        assert_eq!(
            intr_vectors(&p, engine_idx::CE0, 256),
            Some(IntrVectors {
                stall: None,
                nonstall: Some(20)
            })
        );
        assert_eq!(intr_vectors(&p, engine_idx::GR0, 256), None);
        put32(&mut p, 0, 129);
        assert_eq!(intr_vectors(&p, engine_idx::GSP, 256), None);
        assert_eq!(intr_vectors(&p[..100], engine_idx::GSP, 256), None);
    }

    #[test]
    fn rc_payload() {
        let mut p = [0u8; 48];
        put32(&mut p, 0, 9);
        put32(&mut p, 4, 3);
        put32(&mut p, 16, 31);
        assert_eq!(
            rc_triggered(&p),
            Some(RcTriggered {
                engine_type: 9,
                chid: 3,
                except_type: 31
            })
        );
        assert_eq!(rc_triggered(&p[..20]), None);
        assert_eq!(token_chid(0x0001_0005), 5);
    }
}
