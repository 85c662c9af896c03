// SPDX-License-Identifier: GPL-2.0
//! GSP-RM's object tree: what `GSP_RM_ALLOC` (103), `GSP_RM_CONTROL` (76) and `FREE` (10)
//! create, query and destroy (docs/facts/ga102.md §9.3, §10).
//!
//! Objects live in clients (`NV01_ROOT`); each has a handle unique in its client, a class and a
//! parent. The classes the render path needs are modelled (docs/facts/ga102.md §10.1) with the parents they
//! are allocated under and the allocation-parameter sizes of docs/facts/ga102.md §10.2 (OG:abi):
//!
//! | Class | Parent | paramsSize | Checked |
//! |---|---|---|---|
//! | NV01_ROOT 0x0000 | none (hParent 0 or the client) | 120 | hObject = hClient = params.hClient |
//! | NV01_DEVICE_0 0x0080 | client | 56 | deviceId 0 (one GPU) |
//! | NV20_SUBDEVICE_0 0x2080 | device | 4 | subDeviceId 0 |
//! | FERMI_VASPACE_A 0x90F1 | device | 48 | index 0/1, bigPageSize 0, 64 KiB or 128 KiB |
//! | KEPLER_CHANNEL_GROUP_A 0xA06C | device | 20 | engineType, hVASpace 0 or a VA space of the device |
//! | AMPERE_CHANNEL_GPFIFO_A 0xC56F | device or channel group | 368 | hVASpace (or the group's) with a page directory set (below; else `NV_ERR_INVALID_STATE`), engineType (= the group's), gpFifoOffset 8-byte aligned, gpFifoEntries ≠ 0, instanceMem (4 KiB aligned, ≥ 4 KiB, SYSMEM/FBMEM, cache attribute 0-2), userdMem (512-byte aligned, ≥ 512 bytes, SYSMEM/FBMEM), a free channel id |
//! | AMPERE_USERMODE_A 0xC561 | device or subdevice | 0 | |
//! | AMPERE_DMA_COPY_B 0xC7B5 | a COPY channel | 8 | engineType = the channel's |
//! | FERMI_TWOD_A 0x902D, KEPLER_INLINE_TO_MEMORY_B 0xA140, AMPERE_B 0xC797, AMPERE_COMPUTE_B 0xC7C0 | a GRAPHICS channel | 0 | |
//!
//! A channel allocation creates the channel in the FIFO ([`crate::fifo::Fifo::create`]: GSP-RM
//! writes the instance block, PAGE_DIR_BASE from the VA space's page directory) at
//! instanceMem (aperture: FBMEM video memory; SYSMEM coherent when cacheAttrib is CACHED (0),
//! non-coherent otherwise — model choice) with USERD at userdMem; its PBDMA runs once BIND and
//! GPFIFO_SCHEDULE (bEnable 1) are done. Engine objects under a channel tell the FIFO which
//! classes SET_OBJECT may bind. `FREE` of a channel, or of an ancestor, or of the VA space it
//! uses, preempts and frees it in the FIFO ([`crate::fifo::Fifo::destroy`]).
//!
//! `NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY` (0x00801813, on the device;
//! `NV0080_CTRL_DMA_SET_PAGE_DIRECTORY_PARAMS`, 32 bytes, OG 570.144
//! `src/common/sdk/nvidia/inc/ctrl/ctrl0080/ctrl0080dma.h` L781-857): physAddress u64 @0,
//! numEntries @8, flags @12 (APERTURE 1:0: 0 VIDMEM, 1 SYSMEM_COH, 2 SYSMEM_NONCOH;
//! PRESERVE_PDES 2, ALL_CHANNELS 3, IGNORE_CHANNEL_BUSY 4, EXTEND_VASPACE 5), hVASpace @16,
//! chId @20, subDeviceId @24 (ID + 1, 0 for broadcast), pasid @28. The model requires hVASpace
//! to name a FERMI_VASPACE_A of the device (RM's "0 = the implicit VA space" is not modelled),
//! physAddress 4 KiB aligned (PAGE_DIR_BASE holds bits 63:12), numEntries ≠ 0 and APERTURE ≠ 3;
//! it remembers the page directory in the VA space and rewrites PAGE_DIR_BASE of the channels
//! already using it (the header: "RM will propagate the update to all channels"). The VA space's
//! bigPageSize 128 KiB gives BIG_PAGE_SIZE 128 KiB, which the MMU refuses to bind.
//!
//! `NV90F1_CTRL_CMD_VASPACE_COPY_SERVER_RESERVED_PDES` (0x90F10106, on the VA space; 184 bytes,
//! OG 570.144 `ctrl90f1.h` L268-332, `gsp_abi_check.c` L1608-1617): hSubDevice @0, subDeviceId
//! @4, pageSize u64 @8, virtAddrLo @16, virtAddrHi @24, numLevelsToCopy @32, levels[6] @40 of 24
//! bytes {physAddress u64 @0, size u64 @8, aperture u32 @16, pageShift u8 @20}. The model
//! checks numLevelsToCopy ≤ 6 and virtAddrLo ≤ virtAddrHi, and records the levels (GSP-RM's own
//! mappings are not modelled, so nothing else happens).
//!
//! Engines (NV2080_ENGINE_TYPE numbering, docs/facts/ga102.md §10.2): GRAPHICS (1) and COPY0-COPY9 (9-18).
//! Runlists (model choice): GRAPHICS runlist 0, COPYn runlist 1 + n. Channel ids are per runlist:
//! the one the flags fix (USERD_INDEX_PAGE_FIXED: page × 8 + index, as nouveau requests them,
//! docs/facts/ga102.md §10.2), otherwise the lowest free one.
//!
//! Status codes (OG `nvstatuscodes.h` names; the mapping is the model's, after RM's resource
//! server): unknown client `NV_ERR_INVALID_CLIENT`, handle 0 or unknown object
//! `NV_ERR_INVALID_OBJECT_HANDLE`, handle in use `NV_ERR_INSERT_DUPLICATE_NAME`, missing or
//! wrong parent `NV_ERR_INVALID_OBJECT_PARENT`, unknown class `NV_ERR_INVALID_CLASS`, wrong
//! paramsSize `NV_ERR_INVALID_PARAM_STRUCT` (RM's resource server answers a control of the
//! wrong size so: OG `rs_resource.c` L133-141), bad field `NV_ERR_INVALID_ARGUMENT`, fixed
//! channel id in use `NV_ERR_STATE_IN_USE`, GSP-RM's own internal client
//! `NV_ERR_INSUFFICIENT_PERMISSIONS`.

use super::bytes::{get_u32, get_u64, put_u32};
use super::rpc::status;
use super::Refusal;
use crate::fifo::{ChannelConfig, Fifo};
use crate::mmu::engine::InstPtr;
use crate::mmu::format::Aperture;
use crate::mmu::inst::{PageDirBase, Target};
use std::collections::{BTreeMap, BTreeSet};

/// Class numbers (docs/facts/ga102.md §10.1).
pub mod class {
    /// NV01_ROOT (client).
    pub const NV01_ROOT: u32 = 0x0000;
    /// NV01_DEVICE_0.
    pub const NV01_DEVICE_0: u32 = 0x0080;
    /// NV20_SUBDEVICE_0.
    pub const NV20_SUBDEVICE_0: u32 = 0x2080;
    /// FERMI_VASPACE_A.
    pub const FERMI_VASPACE_A: u32 = 0x90f1;
    /// KEPLER_CHANNEL_GROUP_A (TSG).
    pub const KEPLER_CHANNEL_GROUP_A: u32 = 0xa06c;
    /// AMPERE_CHANNEL_GPFIFO_A.
    pub const AMPERE_CHANNEL_GPFIFO_A: u32 = 0xc56f;
    /// AMPERE_USERMODE_A.
    pub const AMPERE_USERMODE_A: u32 = 0xc561;
    /// AMPERE_DMA_COPY_B.
    pub const AMPERE_DMA_COPY_B: u32 = 0xc7b5;
    /// FERMI_TWOD_A.
    pub const FERMI_TWOD_A: u32 = 0x902d;
    /// KEPLER_INLINE_TO_MEMORY_B.
    pub const KEPLER_INLINE_TO_MEMORY_B: u32 = 0xa140;
    /// AMPERE_B (3D).
    pub const AMPERE_B: u32 = 0xc797;
    /// AMPERE_COMPUTE_B.
    pub const AMPERE_COMPUTE_B: u32 = 0xc7c0;
}

/// The class's name for the trace.
pub fn class_name(c: u32) -> String {
    use class::*;
    match c {
        NV01_ROOT => "NV01_ROOT".into(),
        NV01_DEVICE_0 => "NV01_DEVICE_0".into(),
        NV20_SUBDEVICE_0 => "NV20_SUBDEVICE_0".into(),
        FERMI_VASPACE_A => "FERMI_VASPACE_A".into(),
        KEPLER_CHANNEL_GROUP_A => "KEPLER_CHANNEL_GROUP_A".into(),
        AMPERE_CHANNEL_GPFIFO_A => "AMPERE_CHANNEL_GPFIFO_A".into(),
        AMPERE_USERMODE_A => "AMPERE_USERMODE_A".into(),
        AMPERE_DMA_COPY_B => "AMPERE_DMA_COPY_B".into(),
        FERMI_TWOD_A => "FERMI_TWOD_A".into(),
        KEPLER_INLINE_TO_MEMORY_B => "KEPLER_INLINE_TO_MEMORY_B".into(),
        AMPERE_B => "AMPERE_B".into(),
        AMPERE_COMPUTE_B => "AMPERE_COMPUTE_B".into(),
        _ => format!("class {c:#06x}"),
    }
}

/// `NV2080_ENGINE_TYPE_GRAPHICS`.
pub const ENGINE_GRAPHICS: u32 = 1;
/// `NV2080_ENGINE_TYPE_COPY0`; COPY(n) = 9 + n.
pub const ENGINE_COPY0: u32 = 9;
/// Copy engines modelled (COPY0-COPY9).
pub const COPY_ENGINES: u32 = 10;
/// Channel ids per runlist.
pub const CHANNELS_PER_RUNLIST: u32 = 4096;
/// What `NV2080_CTRL_CMD_CE_GET_FAULT_METHOD_BUFFER_SIZE` answers (model choice: one page;
/// no source gives GA102's value).
pub const FAULT_METHOD_BUFFER_SIZE: u32 = 0x1000;

/// Control commands the model answers (docs/facts/ga102.md §10.2; parameter layouts OG 570.144
/// `ctrla06fgpfifo.h`, `ctrlc36f.h`, `ctrl2080ce.h`).
pub mod ctrl {
    /// NVA06F_CTRL_CMD_GPFIFO_SCHEDULE {bEnable, bSkipSubmit}: 2 bytes.
    pub const NVA06F_GPFIFO_SCHEDULE: u32 = 0xa06f_0103;
    /// NVA06F_CTRL_CMD_BIND {engineType}: 4 bytes.
    pub const NVA06F_BIND: u32 = 0xa06f_0104;
    /// NVC36F_CTRL_CMD_GPFIFO_GET_WORK_SUBMIT_TOKEN {workSubmitToken}: 4 bytes.
    pub const NVC36F_GET_WORK_SUBMIT_TOKEN: u32 = 0xc36f_0108;
    /// NV2080_CTRL_CMD_CE_GET_FAULT_METHOD_BUFFER_SIZE {size}: 4 bytes.
    pub const NV2080_CE_GET_FAULT_METHOD_BUFFER_SIZE: u32 = 0x2080_2a08;
    /// NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY: 32 bytes (module documentation).
    pub const NV0080_DMA_SET_PAGE_DIRECTORY: u32 = 0x0080_1813;
    /// NV90F1_CTRL_CMD_VASPACE_COPY_SERVER_RESERVED_PDES: 184 bytes.
    pub const NV90F1_VASPACE_COPY_SERVER_RESERVED_PDES: u32 = 0x90f1_0106;
    /// NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE (OG 570.144 `ctrl2080internal.h` L1439):
    /// [`super::KERNEL_TABLE_SIZE`] bytes, see [`super::kernel_intr_table`].
    pub const NV2080_INTERNAL_INTR_GET_KERNEL_TABLE: u32 = 0x2080_0a5c;
}

/// `sizeof(NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_PARAMS)` (OG 570.144 `gsp_abi_check.c`
/// L1228): tableLen u32 @0, table[128] of 16-byte entries @4 (engineIdx u16 @0, pmcIntrMask
/// @4, vectorStall @8, vectorNonStall @12; L1221-1225), subtreeMap[7] {subtreeStart u8,
/// subtreeEnd u8} @2052 (L1229-1231).
pub const KERNEL_TABLE_SIZE: usize = 2068;
/// `MC_ENGINE_IDX_DISP` (OG 570.144 `engine_idx.h` L41).
pub const MC_ENGINE_IDX_DISP: u16 = 2;
/// `MC_ENGINE_IDX_GSP` (OG 570.144 `engine_idx.h` L91).
pub const MC_ENGINE_IDX_GSP: u16 = 50;
/// `NV_INTR_VECTOR_INVALID` (OG 570.144 `dev_ctrl_defines.h` L87).
pub const NV_INTR_VECTOR_INVALID: u32 = u32::MAX;
/// `NV_PMC_INTR_INVALID_MASK` (OG 570.144 `g_intr_nvoc.h` L2083): not in the legacy PMC tree.
pub const NV_PMC_INTR_INVALID_MASK: u32 = 0;

/// The kernel interrupt table GSP-RM hands the CPU (the output of
/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`), written into `p`
/// ([`KERNEL_TABLE_SIZE`] bytes). Entries: GSP (stall vector
/// [`crate::blocks::intr::GSP_VECTOR`] = 155) and DISP (154), the two engines of the Ampere
/// interrupt map with a fixed vector that a driver on this model looks up (OD
/// `ampere/host/ampere_interrupt_map.csv` L156-157: `pdisp`, `gsp_intr_0`), no non-stall
/// vector; then GR0 (`MC_ENGINE_IDX_GR0` 84) and CE0-CE9 (`MC_ENGINE_IDX_CE0` 15 .. 24) with
/// the stall and non-stall vectors of [`crate::fifo::engine_vectors`] (GR0 192 / 0, CEn
/// 193 + n / 1 + n). None is in the PMC tree. Subtree map: the ranges OG 570.144 `intr_tu102.c` L1214-1240
/// (`intrInitSubtreeMap_TU102`) gives, with the subtree numbers of
/// `ampere/ga100/dev_vm_addendum.h` L33-44: ESCHED_DRIVEN_ENGINE 3-3,
/// ESCHED_DRIVEN_ENGINE_NOTIFICATION 0-0, UVM_OWNED 1-1, UVM_SHARED 2-2; the other categories
/// `NV2080_INTR_INVALID_SUBTREE` (0xFF, as `intr.c` L817-818 initialises them).
pub fn kernel_intr_table(p: &mut [u8]) {
    use crate::blocks::intr::{DISP_VECTOR, GSP_VECTOR};
    p.fill(0);
    let mut entries = vec![
        (MC_ENGINE_IDX_GSP, GSP_VECTOR, NV_INTR_VECTOR_INVALID),
        (MC_ENGINE_IDX_DISP, DISP_VECTOR, NV_INTR_VECTOR_INVALID),
    ];
    for e in std::iter::once(ENGINE_GRAPHICS).chain(ENGINE_COPY0..ENGINE_COPY0 + COPY_ENGINES) {
        if let Some(v) = crate::fifo::engine_vectors(e) {
            entries.push(v);
        }
    }
    put_u32(p, 0, entries.len() as u32);
    for (i, (engine, stall, nonstall)) in entries.into_iter().enumerate() {
        let at = 4 + 16 * i;
        p[at..at + 2].copy_from_slice(&engine.to_le_bytes());
        put_u32(p, at + 4, NV_PMC_INTR_INVALID_MASK);
        put_u32(p, at + 8, stall);
        put_u32(p, at + 12, nonstall);
    }
    // NV2080_INTR_CATEGORY_* 0..7: DEFAULT, ESCHED_DRIVEN_ENGINE, .._NOTIFICATION, RUNLIST,
    // RUNLIST_NOTIFICATION, UVM_OWNED, UVM_SHARED (`ctrl2080internal.h` L1449-1457).
    let map: [(u8, u8); 7] = [
        (0xff, 0xff),
        (3, 3),
        (0, 0),
        (0xff, 0xff),
        (0xff, 0xff),
        (1, 1),
        (2, 2),
    ];
    for (i, (start, end)) in map.into_iter().enumerate() {
        p[2052 + 2 * i] = start;
        p[2053 + 2 * i] = end;
    }
}

/// Is `e` an engine this GPU has?
pub fn engine_known(e: u32) -> bool {
    e == ENGINE_GRAPHICS || (ENGINE_COPY0..ENGINE_COPY0 + COPY_ENGINES).contains(&e)
}

fn is_copy(e: u32) -> bool {
    (ENGINE_COPY0..ENGINE_COPY0 + COPY_ENGINES).contains(&e)
}

/// The runlist of engine `e` (model choice, module documentation).
pub fn runlist_of(e: u32) -> u32 {
    if e == ENGINE_GRAPHICS {
        0
    } else {
        1 + e - ENGINE_COPY0
    }
}

/// A GPFIFO channel's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// NV2080 engine type.
    pub engine: u32,
    /// Runlist id.
    pub runlist: u32,
    /// Channel id in the runlist.
    pub chid: u32,
    /// The VA space handle.
    pub vaspace: u32,
    /// NVA06F_CTRL_CMD_BIND done.
    pub bound: bool,
    /// NVA06F_CTRL_CMD_GPFIFO_SCHEDULE bEnable.
    pub scheduled: bool,
    /// The instance block (instanceMem).
    pub inst: InstPtr,
    /// gpFifoOffset (GPU VA).
    pub gpfifo_va: u64,
    /// gpFifoEntries.
    pub entries: u32,
    /// USERD (userdMem).
    pub userd: (Aperture, u64),
}

impl Channel {
    /// The work-submit token: (runlist_id << 16) | chid (docs/facts/ga102.md §10.3).
    pub fn token(&self) -> u32 {
        self.runlist << 16 | self.chid
    }
}

/// A VA space's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VaSpace {
    /// bigPageSize is 64 KiB (0 = the default, 64 KiB on Ampere).
    pub big_page_64k: bool,
    /// The page directory NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY set.
    pub pdb: Option<PageDirBase>,
    /// numEntries of that page directory.
    pub pd_entries: u32,
    /// Levels VASPACE_COPY_SERVER_RESERVED_PDES reported: (physAddress, size, aperture,
    /// pageShift) each.
    pub reserved: [(u64, u64, u32, u8); 6],
    /// How many of them.
    pub reserved_levels: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    VaSpace(VaSpace),
    Tsg { engine: u32, vaspace: u32 },
    Channel(Channel),
}

#[derive(Clone, Copy, Debug)]
struct Object {
    class: u32,
    parent: u32,
    kind: Kind,
}

#[derive(Default)]
struct Client {
    objects: BTreeMap<u32, Object>,
    internal: bool,
}

/// Handles of GSP-RM's own client (reported in `GspStaticConfigInfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Internal {
    /// hInternalClient.
    pub client: u32,
    /// hInternalDevice.
    pub device: u32,
    /// hInternalSubdevice.
    pub subdevice: u32,
}

/// The object tree.
#[derive(Default)]
pub struct Objects {
    clients: BTreeMap<u32, Client>,
    chids: BTreeMap<u32, BTreeSet<u32>>,
    fifo: Option<Fifo>,
}

fn refuse<T>(status: u32, why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        status,
        why: why.into(),
    })
}

/// `rpc_gsp_rm_alloc_v03_00` fixed part (docs/facts/ga102.md §9.3).
pub const ALLOC_HDR: usize = 32;
/// `rpc_gsp_rm_control_v03_00` fixed part.
pub const CONTROL_HDR: usize = 24;
/// `rpc_free_v03_00`.
pub const FREE_SIZE: usize = 16;

/// The allocation-parameter size of a class, None for classes the model does not know.
pub fn params_size(c: u32) -> Option<usize> {
    use class::*;
    Some(match c {
        NV01_ROOT => 120,
        NV01_DEVICE_0 => 56,
        NV20_SUBDEVICE_0 => 4,
        FERMI_VASPACE_A => 48,
        KEPLER_CHANNEL_GROUP_A => 20,
        AMPERE_CHANNEL_GPFIFO_A => 368,
        AMPERE_DMA_COPY_B => 8,
        AMPERE_USERMODE_A
        | FERMI_TWOD_A
        | KEPLER_INLINE_TO_MEMORY_B
        | AMPERE_B
        | AMPERE_COMPUTE_B => 0,
        _ => return None,
    })
}

impl Objects {
    /// A tree holding GSP-RM's internal client, device and subdevice.
    pub fn new(internal: Internal) -> Self {
        let mut o = Objects::default();
        let mut c = Client {
            internal: true,
            ..Default::default()
        };
        let plain = |class, parent| Object {
            class,
            parent,
            kind: Kind::Plain,
        };
        c.objects
            .insert(internal.client, plain(class::NV01_ROOT, 0));
        c.objects.insert(
            internal.device,
            plain(class::NV01_DEVICE_0, internal.client),
        );
        c.objects.insert(
            internal.subdevice,
            plain(class::NV20_SUBDEVICE_0, internal.device),
        );
        o.clients.insert(internal.client, c);
        o
    }

    /// A tree whose channels run in `fifo`.
    pub fn with_fifo(internal: Internal, fifo: Fifo) -> Self {
        Objects {
            fifo: Some(fifo),
            ..Self::new(internal)
        }
    }

    /// A VA space's state.
    pub fn vaspace(&self, client: u32, h: u32) -> Option<VaSpace> {
        match self.clients.get(&client)?.objects.get(&h)?.kind {
            Kind::VaSpace(v) => Some(v),
            _ => None,
        }
    }

    /// Number of objects in `client` (clients included), None if there is no such client.
    pub fn count(&self, client: u32) -> Option<usize> {
        self.clients.get(&client).map(|c| c.objects.len())
    }

    /// The class and parent of `h` in `client`.
    pub fn lookup(&self, client: u32, h: u32) -> Option<(u32, u32)> {
        let o = self.clients.get(&client)?.objects.get(&h)?;
        Some((o.class, o.parent))
    }

    /// A channel's state.
    pub fn channel(&self, client: u32, h: u32) -> Option<Channel> {
        match self.clients.get(&client)?.objects.get(&h)?.kind {
            Kind::Channel(c) => Some(c),
            _ => None,
        }
    }

    /// The device an object belongs to (itself for a device).
    fn device_of(c: &Client, mut h: u32) -> Option<u32> {
        for _ in 0..16 {
            let o = c.objects.get(&h)?;
            if o.class == class::NV01_DEVICE_0 {
                return Some(h);
            }
            h = o.parent;
        }
        None
    }

    fn vaspace_of_device(c: &Client, device: u32, va: u32) -> bool {
        c.objects.get(&va).is_some_and(|o| {
            o.class == class::FERMI_VASPACE_A && Self::device_of(c, va) == Some(device)
        })
    }

    fn free_chid(&self, runlist: u32) -> Option<u32> {
        let used = self.chids.get(&runlist);
        (0..CHANNELS_PER_RUNLIST).find(|i| used.is_none_or(|u| !u.contains(i)))
    }

    /// `GSP_RM_ALLOC`: `p` is the payload (fixed part + params, length already checked).
    /// Returns a description for the trace.
    pub fn alloc(&mut self, p: &[u8]) -> Result<String, Refusal> {
        let w = |o: usize| get_u32(p, o).unwrap_or(0);
        let (h_client, h_parent, h_object, h_class, size) = (w(0), w(4), w(8), w(12), w(20));
        let params = p.get(ALLOC_HDR..ALLOC_HDR + size as usize).unwrap_or(&[]);
        let name = class_name(h_class);
        let Some(want) = params_size(h_class) else {
            return refuse(
                status::NV_ERR_INVALID_CLASS,
                format!("{name} is not a class this GPU allocates"),
            );
        };
        if size as usize != want {
            return refuse(
                status::NV_ERR_INVALID_PARAM_STRUCT,
                format!("{name}: paramsSize {size}, expected {want}"),
            );
        }
        let pw = |o: usize| get_u32(params, o).unwrap_or(0);
        if h_class == class::NV01_ROOT {
            if h_object == 0 || h_object != h_client {
                return refuse(
                    status::NV_ERR_INVALID_OBJECT_HANDLE,
                    format!(
                        "NV01_ROOT: hObject {h_object:#x} must be the client handle {h_client:#x}"
                    ),
                );
            }
            if h_parent != 0 && h_parent != h_client {
                return refuse(
                    status::NV_ERR_INVALID_OBJECT_PARENT,
                    format!("NV01_ROOT: hParent {h_parent:#x}, expected 0 or the client"),
                );
            }
            if pw(0) != h_client {
                return refuse(
                    status::NV_ERR_INVALID_ARGUMENT,
                    format!(
                        "NV0000_ALLOC_PARAMETERS.hClient {:#x}, expected {h_client:#x}",
                        pw(0)
                    ),
                );
            }
            if self.clients.contains_key(&h_client) {
                return refuse(
                    status::NV_ERR_INSERT_DUPLICATE_NAME,
                    format!("client {h_client:#x} exists"),
                );
            }
            let mut c = Client::default();
            c.objects.insert(
                h_client,
                Object {
                    class: class::NV01_ROOT,
                    parent: 0,
                    kind: Kind::Plain,
                },
            );
            self.clients.insert(h_client, c);
            return Ok(format!("client {h_client:#x}"));
        }

        let Some(c) = self.clients.get(&h_client) else {
            return refuse(
                status::NV_ERR_INVALID_CLIENT,
                format!("no client {h_client:#x}"),
            );
        };
        if c.internal {
            return refuse(
                status::NV_ERR_INSUFFICIENT_PERMISSIONS,
                format!("client {h_client:#x} is GSP-RM's internal client"),
            );
        }
        if h_object == 0 {
            return refuse(status::NV_ERR_INVALID_OBJECT_HANDLE, "hObject 0");
        }
        if c.objects.contains_key(&h_object) {
            return refuse(
                status::NV_ERR_INSERT_DUPLICATE_NAME,
                format!("handle {h_object:#x} exists in client {h_client:#x}"),
            );
        }
        let Some(parent) = c.objects.get(&h_parent).copied() else {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_PARENT,
                format!("{name}: no parent {h_parent:#x} in client {h_client:#x}"),
            );
        };
        use class::*;
        let parents: &[u32] = match h_class {
            NV01_DEVICE_0 => &[NV01_ROOT],
            NV20_SUBDEVICE_0 | FERMI_VASPACE_A | KEPLER_CHANNEL_GROUP_A => &[NV01_DEVICE_0],
            AMPERE_CHANNEL_GPFIFO_A => &[NV01_DEVICE_0, KEPLER_CHANNEL_GROUP_A],
            AMPERE_USERMODE_A => &[NV01_DEVICE_0, NV20_SUBDEVICE_0],
            _ => &[AMPERE_CHANNEL_GPFIFO_A],
        };
        if !parents.contains(&parent.class) {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_PARENT,
                format!(
                    "{name} cannot be allocated under {} {h_parent:#x}",
                    class_name(parent.class)
                ),
            );
        }
        let inval = |why: String| refuse(status::NV_ERR_INVALID_ARGUMENT, format!("{name}: {why}"));
        let mut note = format!("{name} {h_object:#x} under {h_parent:#x}");
        let kind = match h_class {
            NV01_DEVICE_0 if pw(0) != 0 => {
                return inval(format!("deviceId {} (this system has one GPU, 0)", pw(0)))
            }
            NV20_SUBDEVICE_0 if pw(0) != 0 => {
                return inval(format!("subDeviceId {} (one subdevice, 0)", pw(0)))
            }
            FERMI_VASPACE_A => {
                let (index, big) = (pw(0), pw(32));
                if index > 1 {
                    return inval(format!("index {index}, expected 0 (new) or 1 (BAR1)"));
                }
                if ![0, 0x10000, 0x20000].contains(&big) {
                    return inval(format!(
                        "bigPageSize {big:#x}, expected 0, 64 KiB or 128 KiB"
                    ));
                }
                Kind::VaSpace(VaSpace {
                    big_page_64k: big != 0x20000,
                    pdb: None,
                    pd_entries: 0,
                    reserved: [(0, 0, 0, 0); 6],
                    reserved_levels: 0,
                })
            }
            KEPLER_CHANNEL_GROUP_A => {
                let (va, engine) = (pw(8), pw(12));
                if !engine_known(engine) {
                    return inval(format!("engineType {engine} is not an engine of this GPU"));
                }
                if va != 0 && !Self::vaspace_of_device(c, h_parent, va) {
                    return inval(format!(
                        "hVASpace {va:#x} is not a VA space of device {h_parent:#x}"
                    ));
                }
                Kind::Tsg {
                    engine,
                    vaspace: va,
                }
            }
            AMPERE_CHANNEL_GPFIFO_A => {
                let device = Self::device_of(c, h_parent).unwrap_or(0);
                let (entries, flags, mut va, engine) = (pw(16), pw(20), pw(28), pw(128));
                if let Kind::Tsg {
                    engine: tsg_engine,
                    vaspace,
                } = parent.kind
                {
                    if engine != tsg_engine {
                        return inval(format!(
                            "engineType {engine} differs from its channel group's {tsg_engine}"
                        ));
                    }
                    if va == 0 {
                        va = vaspace;
                    }
                }
                if !engine_known(engine) {
                    return inval(format!("engineType {engine} is not an engine of this GPU"));
                }
                if !Self::vaspace_of_device(c, device, va) {
                    return inval(format!(
                        "hVASpace {va:#x} is not a FERMI_VASPACE_A of device {device:#x}"
                    ));
                }
                let Some(Kind::VaSpace(vas)) = c.objects.get(&va).map(|o| o.kind) else {
                    return inval(format!("hVASpace {va:#x} is not a VA space"));
                };
                let Some(pdb) = vas.pdb else {
                    return refuse(
                        status::NV_ERR_INVALID_STATE,
                        format!(
                            "{name}: VA space {va:#x} has no page directory (NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY first)"
                        ),
                    );
                };
                if entries == 0 {
                    return inval("gpFifoEntries 0".into());
                }
                let gpfifo_va = get_u64(params, 8).unwrap_or(0);
                if !gpfifo_va.is_multiple_of(8) || gpfifo_va >= 1 << 40 {
                    return inval(format!(
                        "gpFifoOffset {gpfifo_va:#x} is not an 8-byte aligned 40-bit VA"
                    ));
                }
                let userd = get_u64(params, 168).unwrap_or(0);
                let userd_size = get_u64(params, 176).unwrap_or(0);
                let userd_space = pw(184);
                if !userd.is_multiple_of(crate::fifo::USERD_SIZE)
                    || userd_size < crate::fifo::USERD_SIZE
                    || !(1..=2).contains(&userd_space)
                {
                    return inval(format!(
                        "userdMem [{userd:#x}, +{userd_size:#x}) addressSpace {userd_space} is not a 512-byte aligned block of at least 512 bytes in SYSMEM (1) or FBMEM (2)"
                    ));
                }
                let inst = get_u64(params, 144).unwrap_or(0);
                let inst_size = get_u64(params, 152).unwrap_or(0);
                let (aspace, cache) = (pw(160), pw(164));
                if !inst.is_multiple_of(0x1000) || inst_size < 0x1000 {
                    return inval(format!(
                        "instanceMem [{inst:#x}, +{inst_size:#x}) is not a 4 KiB-aligned block of at least 4 KiB"
                    ));
                }
                if !(1..=2).contains(&aspace) || cache > 2 {
                    return inval(format!(
                        "instanceMem addressSpace {aspace} / cacheAttrib {cache}, expected 1 (SYSMEM) or 2 (FBMEM) / 0-2"
                    ));
                }
                let runlist = runlist_of(engine);
                let chid = if flags & 1 << 21 != 0 {
                    let id = (flags >> 12 & 0x1ff) * 8 + (flags >> 8 & 7);
                    if self.chids.get(&runlist).is_some_and(|u| u.contains(&id)) {
                        return refuse(
                            status::NV_ERR_STATE_IN_USE,
                            format!("{name}: channel id {id} on runlist {runlist} is in use"),
                        );
                    }
                    id
                } else {
                    match self.free_chid(runlist) {
                        Some(id) => id,
                        None => {
                            return refuse(
                                status::NV_ERR_INSUFFICIENT_RESOURCES,
                                format!("{name}: runlist {runlist} has no free channel"),
                            )
                        }
                    }
                };
                note = format!("{note}: engine {engine}, runlist {runlist}, chid {chid}");
                let inst = InstPtr {
                    aperture: match (aspace, cache) {
                        (2, _) => 0,
                        (_, 0) => 2,
                        _ => 3,
                    },
                    addr: inst,
                };
                let userd = (
                    if userd_space == 2 {
                        Aperture::Video
                    } else {
                        Aperture::SysCoherent
                    },
                    userd,
                );
                let pdb = PageDirBase {
                    big_page_64k: vas.big_page_64k,
                    ..pdb
                };
                if let Some(f) = &self.fifo {
                    let cfg = ChannelConfig {
                        engine,
                        runlist,
                        chid,
                        inst,
                        gpfifo_va,
                        entries,
                        userd,
                        pdb,
                        handle: (h_client, h_object),
                    };
                    if let Err(why) = f.create(cfg) {
                        return inval(why);
                    }
                }
                Kind::Channel(Channel {
                    engine,
                    runlist,
                    chid,
                    vaspace: va,
                    bound: false,
                    scheduled: false,
                    inst,
                    gpfifo_va,
                    entries,
                    userd,
                })
            }
            AMPERE_DMA_COPY_B => {
                let Kind::Channel(ch) = parent.kind else {
                    return inval("parent is not a channel".into());
                };
                let engine = pw(4);
                if !is_copy(ch.engine) {
                    return refuse(
                        status::NV_ERR_INVALID_OBJECT_PARENT,
                        format!(
                            "{name} needs a COPY channel, {h_parent:#x} runs engine {}",
                            ch.engine
                        ),
                    );
                }
                if engine != ch.engine {
                    return inval(format!(
                        "engineType {engine}, but channel {h_parent:#x} runs engine {}",
                        ch.engine
                    ));
                }
                Kind::Plain
            }
            FERMI_TWOD_A | KEPLER_INLINE_TO_MEMORY_B | AMPERE_B | AMPERE_COMPUTE_B => {
                match parent.kind {
                    Kind::Channel(ch) if ch.engine == ENGINE_GRAPHICS => Kind::Plain,
                    _ => {
                        return refuse(
                            status::NV_ERR_INVALID_OBJECT_PARENT,
                            format!("{name} needs a GRAPHICS channel as parent"),
                        )
                    }
                }
            }
            _ => Kind::Plain,
        };
        if let Kind::Channel(ch) = kind {
            self.chids.entry(ch.runlist).or_default().insert(ch.chid);
        }
        if let (Kind::Channel(ch), Some(f)) = (parent.kind, &self.fifo) {
            f.allow_class(ch.token(), h_class);
        }
        if let Some(c) = self.clients.get_mut(&h_client) {
            c.objects.insert(
                h_object,
                Object {
                    class: h_class,
                    parent: h_parent,
                    kind,
                },
            );
        }
        Ok(note)
    }

    /// `FREE` (`NVOS00_PARAMETERS`): frees the object and everything under it. Returns a
    /// description for the trace.
    pub fn free(&mut self, p: &[u8]) -> Result<String, Refusal> {
        let w = |o: usize| get_u32(p, o).unwrap_or(0);
        let (root, parent, old) = (w(0), w(4), w(8));
        let Some(c) = self.clients.get(&root) else {
            return refuse(
                status::NV_ERR_INVALID_CLIENT,
                format!("no client {root:#x}"),
            );
        };
        if c.internal {
            return refuse(
                status::NV_ERR_INSUFFICIENT_PERMISSIONS,
                format!("client {root:#x} is GSP-RM's internal client"),
            );
        }
        let Some(o) = c.objects.get(&old) else {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_HANDLE,
                format!("no object {old:#x} in client {root:#x}"),
            );
        };
        let real_parent = if old == root { root } else { o.parent };
        if parent != 0 && parent != real_parent {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_PARENT,
                format!("hObjectParent {parent:#x}, but {old:#x}'s parent is {real_parent:#x}"),
            );
        }
        let class = o.class;
        // The object and its descendants.
        let mut doomed = BTreeSet::from([old]);
        loop {
            let more: Vec<u32> = c
                .objects
                .iter()
                .filter(|(h, o)| !doomed.contains(h) && doomed.contains(&o.parent))
                .map(|(h, _)| *h)
                .collect();
            if more.is_empty() {
                break;
            }
            doomed.extend(more);
        }
        let channels: Vec<Channel> = doomed
            .iter()
            .filter_map(|h| match c.objects.get(h).map(|o| o.kind) {
                Some(Kind::Channel(ch)) => Some(ch),
                _ => None,
            })
            .collect();
        // Channels that survive but lose their VA space stop too; objects under a surviving
        // channel no longer bind.
        let orphaned: Vec<u32> = c
            .objects
            .iter()
            .filter_map(|(h, o)| match o.kind {
                Kind::Channel(ch) if !doomed.contains(h) && doomed.contains(&ch.vaspace) => {
                    Some(ch.token())
                }
                _ => None,
            })
            .collect();
        let unbound: Vec<(u32, u32)> = doomed
            .iter()
            .filter_map(|h| {
                let o = c.objects.get(h)?;
                match c.objects.get(&o.parent)?.kind {
                    Kind::Channel(ch) if !doomed.contains(&o.parent) => Some((ch.token(), o.class)),
                    _ => None,
                }
            })
            .collect();
        if let Some(f) = &self.fifo {
            for ch in &channels {
                f.destroy(ch.token());
            }
            for t in orphaned {
                f.destroy(t);
            }
            for (t, class) in unbound {
                f.forbid_class(t, class);
            }
        }
        for ch in channels {
            if let Some(u) = self.chids.get_mut(&ch.runlist) {
                u.remove(&ch.chid);
            }
        }
        let n = doomed.len();
        if old == root {
            self.clients.remove(&root);
        } else if let Some(c) = self.clients.get_mut(&root) {
            c.objects.retain(|h, _| !doomed.contains(h));
        }
        Ok(format!(
            "{} {old:#x} freed with {} descendant(s)",
            class_name(class),
            n - 1
        ))
    }

    /// `NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY` on device `h_device` (module documentation).
    fn set_page_directory(
        &mut self,
        h_client: u32,
        h_device: u32,
        params: &[u8],
    ) -> Result<String, Refusal> {
        let Some(c) = self.clients.get_mut(&h_client) else {
            return refuse(
                status::NV_ERR_INVALID_CLIENT,
                format!("no client {h_client:#x}"),
            );
        };
        let Some(dev) = c.objects.get(&h_device) else {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_HANDLE,
                format!("no object {h_device:#x} in client {h_client:#x}"),
            );
        };
        if dev.class != class::NV01_DEVICE_0 {
            return refuse(
                status::NV_ERR_NOT_SUPPORTED,
                format!(
                    "SET_PAGE_DIRECTORY applies to a device, {h_device:#x} is {}",
                    class_name(dev.class)
                ),
            );
        }
        if params.len() != 32 {
            return refuse(
                status::NV_ERR_INVALID_PARAM_STRUCT,
                format!(
                    "SET_PAGE_DIRECTORY: paramsSize {}, expected 32",
                    params.len()
                ),
            );
        }
        let w = |o: usize| get_u32(params, o).unwrap_or(0);
        let (addr, n, flags, h_va) = (get_u64(params, 0).unwrap_or(0), w(8), w(12), w(16));
        let inval = |why: String| {
            refuse(
                status::NV_ERR_INVALID_ARGUMENT,
                format!("SET_PAGE_DIRECTORY: {why}"),
            )
        };
        if !Self::vaspace_of_device(c, h_device, h_va) {
            return inval(format!(
                "hVASpace {h_va:#x} is not a FERMI_VASPACE_A of device {h_device:#x}"
            ));
        }
        let target = match flags & 3 {
            0 => Target::Video,
            1 => Target::SysCoherent,
            2 => Target::SysNonCoherent,
            _ => return inval("APERTURE 3 is not an aperture".into()),
        };
        if !addr.is_multiple_of(0x1000) || n == 0 {
            return inval(format!(
                "physAddress {addr:#x} (must be 4 KiB aligned), numEntries {n} (must not be 0)"
            ));
        }
        let Some(Object {
            kind: Kind::VaSpace(v),
            ..
        }) = c.objects.get_mut(&h_va)
        else {
            return inval(format!("{h_va:#x} is not a VA space"));
        };
        let pdb = PageDirBase {
            target,
            vol: false,
            fault_replay_tex: false,
            fault_replay_gcc: false,
            ver2: true,
            big_page_64k: v.big_page_64k,
            addr,
        };
        v.pdb = Some(pdb);
        v.pd_entries = n;
        let users: Vec<u32> = c
            .objects
            .values()
            .filter_map(|o| match o.kind {
                Kind::Channel(ch) if ch.vaspace == h_va => Some(ch.token()),
                _ => None,
            })
            .collect();
        let moved = match &self.fifo {
            Some(f) => f.repoint(&users, pdb),
            None => 0,
        };
        Ok(format!(
            "VA space {h_va:#x}: page directory {}:{addr:#x}, {n} entries, flags {flags:#x}, chId {}, subDeviceId {}, pasid {}; {moved} channel(s) repointed",
            crate::mmu::hub::inst_name(target.bits()),
            w(20),
            w(24),
            w(28)
        ))
    }

    /// `GSP_RM_CONTROL`: `hdr` = (hClient, hObject, cmd), `params` the parameter block, updated
    /// in place with the command's outputs. Returns a description for the trace.
    pub fn control(
        &mut self,
        h_client: u32,
        h_object: u32,
        cmd: u32,
        params: &mut [u8],
    ) -> Result<String, Refusal> {
        if cmd == ctrl::NV0080_DMA_SET_PAGE_DIRECTORY {
            return self.set_page_directory(h_client, h_object, params);
        }
        let fifo = self.fifo.clone();
        let Some(c) = self.clients.get_mut(&h_client) else {
            return refuse(
                status::NV_ERR_INVALID_CLIENT,
                format!("no client {h_client:#x}"),
            );
        };
        let Some(o) = c.objects.get_mut(&h_object) else {
            return refuse(
                status::NV_ERR_INVALID_OBJECT_HANDLE,
                format!("no object {h_object:#x} in client {h_client:#x}"),
            );
        };
        let iface = cmd >> 16;
        let ok_iface = match o.class {
            class::AMPERE_CHANNEL_GPFIFO_A => [0xa06f, 0xc36f, 0xc56f].contains(&iface),
            k => iface == k,
        };
        if !ok_iface {
            return refuse(
                status::NV_ERR_NOT_SUPPORTED,
                format!(
                    "command {cmd:#010x} (interface {iface:#06x}) does not apply to {} {h_object:#x}",
                    class_name(o.class)
                ),
            );
        }
        let want = match cmd {
            ctrl::NVA06F_GPFIFO_SCHEDULE => 2,
            ctrl::NV90F1_VASPACE_COPY_SERVER_RESERVED_PDES => 184,
            ctrl::NVA06F_BIND
            | ctrl::NVC36F_GET_WORK_SUBMIT_TOKEN
            | ctrl::NV2080_CE_GET_FAULT_METHOD_BUFFER_SIZE => 4,
            ctrl::NV2080_INTERNAL_INTR_GET_KERNEL_TABLE => KERNEL_TABLE_SIZE,
            _ => {
                return refuse(
                    status::NV_ERR_NOT_SUPPORTED,
                    format!("command {cmd:#010x} is not modelled"),
                )
            }
        };
        if params.len() != want {
            return refuse(
                status::NV_ERR_INVALID_PARAM_STRUCT,
                format!(
                    "command {cmd:#010x}: paramsSize {}, expected {want}",
                    params.len()
                ),
            );
        }
        match (cmd, &mut o.kind) {
            (ctrl::NVA06F_BIND, Kind::Channel(ch)) => {
                let e = get_u32(params, 0).unwrap_or(0);
                if e != ch.engine {
                    return refuse(
                        status::NV_ERR_INVALID_ARGUMENT,
                        format!("BIND engineType {e}, channel runs engine {}", ch.engine),
                    );
                }
                ch.bound = true;
                if let Some(f) = &fifo {
                    f.set_bound(ch.token());
                }
                Ok(format!("channel {h_object:#x} bound to engine {e}"))
            }
            (ctrl::NVA06F_GPFIFO_SCHEDULE, Kind::Channel(ch)) => {
                ch.scheduled = params.first().is_some_and(|&b| b != 0);
                if let Some(f) = &fifo {
                    f.set_scheduled(ch.token(), ch.scheduled);
                }
                Ok(format!(
                    "channel {h_object:#x} {}",
                    if ch.scheduled {
                        "scheduled"
                    } else {
                        "unscheduled"
                    }
                ))
            }
            (ctrl::NVC36F_GET_WORK_SUBMIT_TOKEN, Kind::Channel(ch)) => {
                put_u32(params, 0, ch.token());
                Ok(format!("work-submit token {:#x}", ch.token()))
            }
            (ctrl::NV90F1_VASPACE_COPY_SERVER_RESERVED_PDES, Kind::VaSpace(v)) => {
                let n = get_u32(params, 32).unwrap_or(0);
                let (lo, hi) = (
                    get_u64(params, 16).unwrap_or(0),
                    get_u64(params, 24).unwrap_or(0),
                );
                if n > 6 || lo > hi {
                    return refuse(
                        status::NV_ERR_INVALID_ARGUMENT,
                        format!("COPY_SERVER_RESERVED_PDES: numLevelsToCopy {n} (at most 6), range [{lo:#x}, {hi:#x}]"),
                    );
                }
                for i in 0..n as usize {
                    let at = 40 + 24 * i;
                    v.reserved[i] = (
                        get_u64(params, at).unwrap_or(0),
                        get_u64(params, at + 8).unwrap_or(0),
                        get_u32(params, at + 16).unwrap_or(0),
                        params.get(at + 20).copied().unwrap_or(0),
                    );
                }
                v.reserved_levels = n;
                Ok(format!(
                    "VA space {h_object:#x}: {n} server-reserved PDE level(s) recorded for [{lo:#x}, {hi:#x}]"
                ))
            }
            (ctrl::NV2080_CE_GET_FAULT_METHOD_BUFFER_SIZE, _) => {
                put_u32(params, 0, FAULT_METHOD_BUFFER_SIZE);
                Ok(format!(
                    "fault method buffer size {FAULT_METHOD_BUFFER_SIZE:#x}"
                ))
            }
            (ctrl::NV2080_INTERNAL_INTR_GET_KERNEL_TABLE, _) => {
                kernel_intr_table(params);
                Ok(format!(
                    "kernel interrupt table: GSP vector {}, DISP vector {}, GR0/CE0-CE9 stall 192-202, non-stall 0-10",
                    crate::blocks::intr::GSP_VECTOR,
                    crate::blocks::intr::DISP_VECTOR
                ))
            }
            _ => refuse(
                status::NV_ERR_NOT_SUPPORTED,
                format!("command {cmd:#010x} does not apply to {h_object:#x}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use class::*;

    const INTERNAL: Internal = Internal {
        client: 0xc1e0_0001,
        device: 0xde1e_0001,
        subdevice: 0x5d1e_0001,
    };

    fn alloc(o: &mut Objects, c: u32, parent: u32, h: u32, class: u32, params: &[u8]) -> u32 {
        let mut p = vec![0u8; ALLOC_HDR];
        for (i, v) in [c, parent, h, class, 0, params.len() as u32]
            .into_iter()
            .enumerate()
        {
            put_u32(&mut p, 4 * i, v);
        }
        p.extend_from_slice(params);
        match o.alloc(&p) {
            Ok(_) => status::NV_OK,
            Err(r) => r.status,
        }
    }

    fn channel_params(va: u32, engine: u32) -> Vec<u8> {
        let mut p = vec![0u8; 368];
        put_u32(&mut p, 16, 512);
        put_u32(&mut p, 28, va);
        put_u32(&mut p, 128, engine);
        p[144..152].copy_from_slice(&0x1000_0000u64.to_le_bytes());
        p[152..160].copy_from_slice(&0x1000u64.to_le_bytes());
        put_u32(&mut p, 160, 2);
        put_u32(&mut p, 164, 1);
        p[168..176].copy_from_slice(&0x2000u64.to_le_bytes());
        p[176..184].copy_from_slice(&0x200u64.to_le_bytes());
        put_u32(&mut p, 184, 2);
        p
    }

    /// NV0080_CTRL_CMD_DMA_SET_PAGE_DIRECTORY of `va` under `dev` at VRAM `addr`.
    fn set_pd(o: &mut Objects, c: u32, dev: u32, va: u32, addr: u64) -> u32 {
        let mut p = [0u8; 32];
        p[..8].copy_from_slice(&addr.to_le_bytes());
        put_u32(&mut p, 8, 512);
        put_u32(&mut p, 16, va);
        match o.control(c, dev, ctrl::NV0080_DMA_SET_PAGE_DIRECTORY, &mut p) {
            Ok(_) => status::NV_OK,
            Err(r) => r.status,
        }
    }

    #[test]
    fn a_render_tree() {
        let mut o = Objects::new(INTERNAL);
        let (cl, dev, sub, va, gr, ce) = (
            0xc1d0_0000,
            0xde1d_0000,
            0x5d1d_0000,
            0x90f1_0000,
            0xf1f0_0000,
            0xf1f0_0001,
        );
        let mut root = vec![0u8; 120];
        put_u32(&mut root, 0, cl);
        assert_eq!(alloc(&mut o, cl, 0, cl, NV01_ROOT, &root), 0);
        assert_eq!(
            alloc(&mut o, cl, 0, cl, NV01_ROOT, &root),
            status::NV_ERR_INSERT_DUPLICATE_NAME
        );
        assert_eq!(alloc(&mut o, cl, cl, dev, NV01_DEVICE_0, &[0; 56]), 0);
        assert_eq!(alloc(&mut o, cl, dev, sub, NV20_SUBDEVICE_0, &[0; 4]), 0);
        assert_eq!(alloc(&mut o, cl, dev, va, FERMI_VASPACE_A, &[0; 48]), 0);
        assert_eq!(
            alloc(
                &mut o,
                cl,
                dev,
                gr,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(va, 1)
            ),
            status::NV_ERR_INVALID_STATE,
            "no page directory yet"
        );
        let mut bad = [0u8; 32];
        put_u32(&mut bad, 16, va);
        put_u32(&mut bad, 8, 1);
        bad[0] = 0x10;
        assert_eq!(
            o.control(cl, dev, ctrl::NV0080_DMA_SET_PAGE_DIRECTORY, &mut bad)
                .unwrap_err()
                .status,
            status::NV_ERR_INVALID_ARGUMENT,
            "unaligned"
        );
        assert_eq!(
            o.control(cl, dev, ctrl::NV0080_DMA_SET_PAGE_DIRECTORY, &mut [0; 24])
                .unwrap_err()
                .status,
            status::NV_ERR_INVALID_PARAM_STRUCT
        );
        assert_eq!(set_pd(&mut o, cl, dev, va, 0x40_0000), 0);
        let v = o.vaspace(cl, va).unwrap();
        assert_eq!(v.pdb.unwrap().addr, 0x40_0000);
        assert_eq!(v.pdb.unwrap().target, Target::Video);
        assert_eq!(v.pd_entries, 512);
        // COPY_SERVER_RESERVED_PDES records the levels.
        let mut pdes = [0u8; 184];
        pdes[8..16].copy_from_slice(&(1u64 << 29).to_le_bytes());
        pdes[16..24].copy_from_slice(&0x1_0000_0000u64.to_le_bytes());
        pdes[24..32].copy_from_slice(&0x1_1fff_ffffu64.to_le_bytes());
        put_u32(&mut pdes, 32, 2);
        pdes[40..48].copy_from_slice(&0x40_0000u64.to_le_bytes());
        pdes[64 + 20] = 38;
        o.control(
            cl,
            va,
            ctrl::NV90F1_VASPACE_COPY_SERVER_RESERVED_PDES,
            &mut pdes,
        )
        .unwrap();
        let v = o.vaspace(cl, va).unwrap();
        assert_eq!(v.reserved_levels, 2);
        assert_eq!(v.reserved[0].0, 0x40_0000);
        assert_eq!(v.reserved[1].3, 38);
        put_u32(&mut pdes, 32, 7);
        assert_eq!(
            o.control(
                cl,
                va,
                ctrl::NV90F1_VASPACE_COPY_SERVER_RESERVED_PDES,
                &mut pdes
            )
            .unwrap_err()
            .status,
            status::NV_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            alloc(
                &mut o,
                cl,
                dev,
                gr,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(va, 1)
            ),
            0
        );
        assert_eq!(
            alloc(
                &mut o,
                cl,
                dev,
                ce,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(va, 9)
            ),
            0
        );
        assert_eq!(o.channel(cl, ce).unwrap().token(), 1 << 16);
        assert_eq!(alloc(&mut o, cl, gr, 0x2d, FERMI_TWOD_A, &[]), 0);
        assert_eq!(
            alloc(&mut o, cl, ce, 0x2e, FERMI_TWOD_A, &[]),
            status::NV_ERR_INVALID_OBJECT_PARENT
        );
        let mut cp = [0u8; 8];
        put_u32(&mut cp, 4, 9);
        assert_eq!(alloc(&mut o, cl, ce, 0xb5, AMPERE_DMA_COPY_B, &cp), 0);
        assert_eq!(
            alloc(&mut o, cl, gr, 0xb6, AMPERE_DMA_COPY_B, &cp),
            status::NV_ERR_INVALID_OBJECT_PARENT
        );
        assert_eq!(
            alloc(&mut o, cl, dev, 0x99, 0xc369, &[]),
            status::NV_ERR_INVALID_CLASS
        );
        assert_eq!(
            alloc(&mut o, cl, dev, 0x98, FERMI_VASPACE_A, &[0; 40]),
            status::NV_ERR_INVALID_PARAM_STRUCT
        );
        assert_eq!(
            alloc(&mut o, cl, sub, 0x97, FERMI_VASPACE_A, &[0; 48]),
            status::NV_ERR_INVALID_OBJECT_PARENT
        );
        assert_eq!(
            alloc(&mut o, 0x1234, dev, 0x96, FERMI_VASPACE_A, &[0; 48]),
            status::NV_ERR_INVALID_CLIENT
        );
        assert_eq!(
            alloc(
                &mut o,
                INTERNAL.client,
                INTERNAL.device,
                0x95,
                FERMI_VASPACE_A,
                &[0; 48]
            ),
            status::NV_ERR_INSUFFICIENT_PERMISSIONS
        );
        assert_eq!(o.count(cl), Some(8));

        let mut tok = [0u8; 4];
        o.control(cl, ce, ctrl::NVC36F_GET_WORK_SUBMIT_TOKEN, &mut tok)
            .unwrap();
        assert_eq!(u32::from_le_bytes(tok), 1 << 16);
        assert_eq!(
            o.control(cl, sub, ctrl::NVC36F_GET_WORK_SUBMIT_TOKEN, &mut tok)
                .unwrap_err()
                .status,
            status::NV_ERR_NOT_SUPPORTED
        );
        assert_eq!(
            o.control(cl, gr, ctrl::NVA06F_GPFIFO_SCHEDULE, &mut [1, 0, 0])
                .unwrap_err()
                .status,
            status::NV_ERR_INVALID_PARAM_STRUCT
        );
        o.control(cl, gr, ctrl::NVA06F_GPFIFO_SCHEDULE, &mut [1, 0])
            .unwrap();
        assert!(o.channel(cl, gr).unwrap().scheduled);
        assert_eq!(
            o.control(cl, gr, ctrl::NVA06F_BIND, &mut 9u32.to_le_bytes())
                .unwrap_err()
                .status,
            status::NV_ERR_INVALID_ARGUMENT
        );

        // Freeing the device frees everything under it and its channel ids.
        let mut f = [0u8; 16];
        put_u32(&mut f, 0, cl);
        put_u32(&mut f, 4, 0x1234);
        put_u32(&mut f, 8, dev);
        assert_eq!(
            o.free(&f).unwrap_err().status,
            status::NV_ERR_INVALID_OBJECT_PARENT
        );
        put_u32(&mut f, 4, cl);
        o.free(&f).unwrap();
        assert_eq!(o.count(cl), Some(1));
        assert!(o.free_chid(0) == Some(0));
        put_u32(&mut f, 8, cl);
        put_u32(&mut f, 4, 0);
        o.free(&f).unwrap();
        assert_eq!(o.count(cl), None);
    }

    #[test]
    fn kernel_interrupt_table() {
        let mut o = Objects::new(INTERNAL);
        let mut p = vec![0xaau8; KERNEL_TABLE_SIZE];
        o.control(
            INTERNAL.client,
            INTERNAL.subdevice,
            ctrl::NV2080_INTERNAL_INTR_GET_KERNEL_TABLE,
            &mut p,
        )
        .unwrap();
        let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().unwrap());
        assert_eq!(u32_at(0), 13, "tableLen");
        assert_eq!(u16::from_le_bytes([p[4], p[5]]), 50, "MC_ENGINE_IDX_GSP");
        assert_eq!((u32_at(8), u32_at(12), u32_at(16)), (0, 155, u32::MAX));
        assert_eq!(u16::from_le_bytes([p[20], p[21]]), 2, "MC_ENGINE_IDX_DISP");
        assert_eq!((u32_at(24), u32_at(28), u32_at(32)), (0, 154, u32::MAX));
        // GR0: MC_ENGINE_IDX_GR0 84, stall 192, non-stall 0; CE0: 15, 193, 1; CE9: 24, 202, 10.
        assert_eq!(u16::from_le_bytes([p[36], p[37]]), 84);
        assert_eq!((u32_at(40), u32_at(44), u32_at(48)), (0, 192, 0));
        assert_eq!(u16::from_le_bytes([p[52], p[53]]), 15);
        assert_eq!((u32_at(56), u32_at(60), u32_at(64)), (0, 193, 1));
        assert_eq!(u16::from_le_bytes([p[196], p[197]]), 24);
        assert_eq!((u32_at(200), u32_at(204), u32_at(208)), (0, 202, 10));
        assert!(
            p[212..2052].iter().all(|&b| b == 0),
            "unused entries zeroed"
        );
        assert_eq!(
            &p[2052..2066],
            &[0xff, 0xff, 3, 3, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 1, 2, 2]
        );
        // Wrong size, wrong object class.
        assert_eq!(
            o.control(
                INTERNAL.client,
                INTERNAL.subdevice,
                ctrl::NV2080_INTERNAL_INTR_GET_KERNEL_TABLE,
                &mut [0; 2064]
            )
            .unwrap_err()
            .status,
            status::NV_ERR_INVALID_PARAM_STRUCT
        );
        assert_eq!(
            o.control(
                INTERNAL.client,
                INTERNAL.device,
                ctrl::NV2080_INTERNAL_INTR_GET_KERNEL_TABLE,
                &mut p
            )
            .unwrap_err()
            .status,
            status::NV_ERR_NOT_SUPPORTED
        );
    }

    #[test]
    fn fixed_channel_ids() {
        let mut o = Objects::new(INTERNAL);
        let cl = 1;
        let mut root = vec![0u8; 120];
        put_u32(&mut root, 0, cl);
        alloc(&mut o, cl, 0, cl, NV01_ROOT, &root);
        alloc(&mut o, cl, cl, 2, NV01_DEVICE_0, &[0; 56]);
        alloc(&mut o, cl, 2, 3, FERMI_VASPACE_A, &[0; 48]);
        assert_eq!(set_pd(&mut o, cl, 2, 3, 0x1000), 0);
        let mut p = channel_params(3, 1);
        // chid 13 = page 1, index 5.
        put_u32(&mut p, 20, 1 << 21 | 1 << 12 | 5 << 8);
        assert_eq!(alloc(&mut o, cl, 2, 4, AMPERE_CHANNEL_GPFIFO_A, &p), 0);
        assert_eq!(o.channel(cl, 4).unwrap().chid, 13);
        assert_eq!(
            alloc(&mut o, cl, 2, 5, AMPERE_CHANNEL_GPFIFO_A, &p),
            status::NV_ERR_STATE_IN_USE
        );
        assert_eq!(
            alloc(
                &mut o,
                cl,
                2,
                6,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(3, 1)
            ),
            0
        );
        assert_eq!(o.channel(cl, 6).unwrap().chid, 0);
        assert_eq!(
            alloc(
                &mut o,
                cl,
                2,
                7,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(0x77, 1)
            ),
            status::NV_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            alloc(
                &mut o,
                cl,
                2,
                8,
                AMPERE_CHANNEL_GPFIFO_A,
                &channel_params(3, 40)
            ),
            status::NV_ERR_INVALID_ARGUMENT
        );
    }
}
