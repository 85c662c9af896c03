// SPDX-License-Identifier: GPL-2.0
//! GSP-RM messages: the queue element around each RPC (facts sheet §8.2-8.3), the RPC header
//! (§9.1), the function and event numbers (§9.2) and the payloads the boot needs (§9.3-9.6).
//!
//! Pure logic, shared with the host crate. Encoders write into caller buffers at documented
//! byte offsets; decoders check every length and return borrowed views.

use super::queue::{checksum, PAGE};

/// Size of the queue element header (`GSP_MSG_QUEUE_ELEMENT` before the RPC).
pub const ELEM_HDR: usize = 0x30;
/// Size of `rpc_message_header_v`.
pub const RPC_HDR: usize = 0x20;
/// Largest element, headers included (16 queue entries).
pub const ELEM_MAX: usize = 0x10000;
/// `rpc_message_header_v.header_version` (3.0).
pub const HEADER_VERSION: u32 = 0x0300_0000;
/// `NV_VGPU_MSG_SIGNATURE_VALID`, "VRPC".
pub const SIGNATURE: u32 = 0x4350_5256;
/// `NV_VGPU_MSG_RESULT_RPC_PENDING`.
pub const RESULT_PENDING: u32 = 0xffff_ffff;

/// RPC functions (CPU to GSP) and events (GSP to CPU), r570.144.
pub mod function {
    /// `FREE`.
    pub const FREE: u32 = 10;
    /// `UNLOADING_GUEST_DRIVER`.
    pub const UNLOADING_GUEST_DRIVER: u32 = 47;
    /// `GET_GSP_STATIC_INFO`.
    pub const GET_GSP_STATIC_INFO: u32 = 65;
    /// `CONTINUATION_RECORD`.
    pub const CONTINUATION_RECORD: u32 = 71;
    /// `GSP_SET_SYSTEM_INFO`.
    pub const GSP_SET_SYSTEM_INFO: u32 = 72;
    /// `SET_REGISTRY`.
    pub const SET_REGISTRY: u32 = 73;
    /// `GSP_RM_CONTROL`.
    pub const GSP_RM_CONTROL: u32 = 76;
    /// `GSP_RM_ALLOC`.
    pub const GSP_RM_ALLOC: u32 = 103;
    /// Event `GSP_INIT_DONE`.
    pub const GSP_INIT_DONE: u32 = 0x1001;
    /// Event `GSP_RUN_CPU_SEQUENCER`.
    pub const GSP_RUN_CPU_SEQUENCER: u32 = 0x1002;
    /// Event `POST_EVENT`.
    pub const POST_EVENT: u32 = 0x1003;
    /// Event `OS_ERROR_LOG`.
    pub const OS_ERROR_LOG: u32 = 0x1006;
    /// Event `UCODE_LIBOS_PRINT`.
    pub const UCODE_LIBOS_PRINT: u32 = 0x100c;
    /// Event `GSP_LOCKDOWN_NOTICE`.
    pub const GSP_LOCKDOWN_NOTICE: u32 = 0x101c;
    /// Event `MMU_FAULT_QUEUED`.
    pub const MMU_FAULT_QUEUED: u32 = 0x1005;
    /// Event `RC_TRIGGERED`: GSP-RM stopped a channel (robust-channel recovery).
    pub const RC_TRIGGERED: u32 = 0x1004;

    /// The name of a function or event number, or "unknown".
    pub const fn name(f: u32) -> &'static str {
        match f {
            FREE => "FREE",
            UNLOADING_GUEST_DRIVER => "UNLOADING_GUEST_DRIVER",
            GET_GSP_STATIC_INFO => "GET_GSP_STATIC_INFO",
            CONTINUATION_RECORD => "CONTINUATION_RECORD",
            GSP_SET_SYSTEM_INFO => "GSP_SET_SYSTEM_INFO",
            SET_REGISTRY => "SET_REGISTRY",
            GSP_RM_CONTROL => "GSP_RM_CONTROL",
            GSP_RM_ALLOC => "GSP_RM_ALLOC",
            GSP_INIT_DONE => "GSP_INIT_DONE",
            GSP_RUN_CPU_SEQUENCER => "GSP_RUN_CPU_SEQUENCER",
            POST_EVENT => "POST_EVENT",
            MMU_FAULT_QUEUED => "MMU_FAULT_QUEUED",
            RC_TRIGGERED => "RC_TRIGGERED",
            OS_ERROR_LOG => "OS_ERROR_LOG",
            UCODE_LIBOS_PRINT => "UCODE_LIBOS_PRINT",
            GSP_LOCKDOWN_NOTICE => "GSP_LOCKDOWN_NOTICE",
            _ => "unknown",
        }
    }
}

/// What is wrong with a received element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcError {
    /// Shorter than its headers, or its lengths disagree.
    BadLength {
        /// The length field found.
        found: u32,
    },
    /// `elemCount` is 0 or larger than an element may be.
    BadElemCount {
        /// The count found.
        found: u32,
    },
    /// The checksum over the element is not zero.
    BadChecksum {
        /// The residue.
        residue: u32,
    },
    /// Header version or signature is wrong.
    BadHeader {
        /// The header version found.
        version: u32,
        /// The signature found.
        signature: u32,
    },
    /// The payload does not fit the buffer.
    TooLarge,
}

impl core::fmt::Display for RpcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RpcError::BadLength { found } => write!(f, "bad RPC length {found:#x}"),
            RpcError::BadElemCount { found } => write!(f, "bad element count {found}"),
            RpcError::BadChecksum { residue } => write!(f, "bad checksum (residue {residue:#x})"),
            RpcError::BadHeader { version, signature } => {
                write!(
                    f,
                    "bad RPC header (version {version:#x}, signature {signature:#x})"
                )
            }
            RpcError::TooLarge => write!(f, "message too large"),
        }
    }
}

pub(crate) fn put32(b: &mut [u8], off: usize, v: u32) {
    if let Some(d) = b.get_mut(off..off + 4) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn put64(b: &mut [u8], off: usize, v: u64) {
    if let Some(d) = b.get_mut(off..off + 8) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn get32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |d| u32::from_le_bytes([d[0], d[1], d[2], d[3]]))
}

pub(crate) fn get64(b: &[u8], off: usize) -> u64 {
    u64::from(get32(b, off)) | (u64::from(get32(b, off + 4)) << 32)
}

/// Number of 4 KiB queue entries an RPC with `payload_len` bytes takes.
pub const fn elem_count(payload_len: usize) -> usize {
    (ELEM_HDR + RPC_HDR + payload_len).div_ceil(PAGE)
}

/// Writes a complete element (element header, RPC header, payload, checksum) into `out`,
/// which must be `elem_count(payload.len()) * 4096` bytes. Returns the number of entries.
pub fn encode(
    out: &mut [u8],
    seq_num: u32,
    rpc_seq: u32,
    function: u32,
    payload: &[u8],
) -> Result<usize, RpcError> {
    let len = ELEM_HDR + RPC_HDR + payload.len();
    let count = elem_count(payload.len());
    if len > ELEM_MAX || out.len() != count * PAGE {
        return Err(RpcError::TooLarge);
    }
    out.fill(0);
    put32(out, 0x24, seq_num);
    put32(out, 0x28, count as u32);
    let r = ELEM_HDR;
    put32(out, r, HEADER_VERSION);
    put32(out, r + 4, SIGNATURE);
    put32(out, r + 8, (RPC_HDR + payload.len()) as u32);
    put32(out, r + 12, function);
    put32(out, r + 16, RESULT_PENDING);
    put32(out, r + 20, RESULT_PENDING);
    put32(out, r + 24, rpc_seq);
    out.get_mut(r + RPC_HDR..len)
        .ok_or(RpcError::TooLarge)?
        .copy_from_slice(payload);
    let sum = checksum(out.get(..len).ok_or(RpcError::TooLarge)?);
    put32(out, 0x20, sum);
    Ok(count)
}

/// The element count a received element claims (read before the rest is copied in).
pub fn claimed_elem_count(first_entry: &[u8]) -> Result<usize, RpcError> {
    let n = get32(first_entry, 0x28);
    if n == 0 || n as usize > ELEM_MAX / PAGE {
        return Err(RpcError::BadElemCount { found: n });
    }
    Ok(n as usize)
}

/// A received RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// Queue sequence number.
    pub seq_num: u32,
    /// Function or event number.
    pub function: u32,
    /// `rpc_result`.
    pub result: u32,
    /// RPC sequence.
    pub rpc_seq: u32,
    /// The payload.
    pub payload: &'a [u8],
}

/// Checks and decodes an element copied out of the queue (all its entries, contiguous).
pub fn decode(elem: &[u8]) -> Result<Message<'_>, RpcError> {
    let count = claimed_elem_count(elem)?;
    if elem.len() < count * PAGE {
        return Err(RpcError::BadElemCount {
            found: count as u32,
        });
    }
    let r = ELEM_HDR;
    let (version, signature) = (get32(elem, r), get32(elem, r + 4));
    if version != HEADER_VERSION || signature != SIGNATURE {
        return Err(RpcError::BadHeader { version, signature });
    }
    let length = get32(elem, r + 8);
    let total = ELEM_HDR + length as usize;
    if (length as usize) < RPC_HDR || total > count * PAGE {
        return Err(RpcError::BadLength { found: length });
    }
    let residue = checksum(
        elem.get(..total)
            .ok_or(RpcError::BadLength { found: length })?,
    );
    if residue != 0 {
        return Err(RpcError::BadChecksum { residue });
    }
    Ok(Message {
        seq_num: get32(elem, 0x24),
        function: get32(elem, r + 12),
        result: get32(elem, r + 16),
        rpc_seq: get32(elem, r + 24),
        payload: elem
            .get(r + RPC_HDR..total)
            .ok_or(RpcError::BadLength { found: length })?,
    })
}

/// Size of the `GspSystemInfo` payload we send (fields up to `hostPageSize`, docs/facts/ga102.md §9.4).
pub const SYSTEM_INFO_SIZE: usize = 928;

/// What `GSP_SET_SYSTEM_INFO` tells GSP-RM about the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemInfo {
    /// BAR0, BAR1 and Linux BAR3 physical bases.
    pub bar_phys: [u64; 3],
    /// PCI bus << 8 | devfn.
    pub bus_dev_fn: u64,
    /// Highest user virtual address.
    pub max_user_va: u64,
    /// (device << 16) | vendor.
    pub pci_device_id: u32,
    /// (subsystem device << 16) | subsystem vendor.
    pub pci_sub_device_id: u32,
    /// PCI revision.
    pub pci_revision_id: u32,
}

/// Encodes `GspSystemInfo` (docs/facts/ga102.md §9.4) into `out` ([`SYSTEM_INFO_SIZE`] bytes).
pub fn system_info(out: &mut [u8], s: &SystemInfo) -> Result<(), RpcError> {
    let b = out.get_mut(..SYSTEM_INFO_SIZE).ok_or(RpcError::TooLarge)?;
    b.fill(0);
    put64(b, 0, s.bar_phys[0]);
    put64(b, 8, s.bar_phys[1]);
    put64(b, 16, s.bar_phys[2]);
    put64(b, 32, s.bus_dev_fn);
    put64(b, 72, s.max_user_va);
    put32(b, 80, 0x88000); // pciConfigMirrorBase
    put32(b, 84, 0x1000); // pciConfigMirrorSize
    put32(b, 88, s.pci_device_id);
    put32(b, 92, s.pci_sub_device_id);
    put32(b, 96, s.pci_revision_id);
    put64(b, 920, 4096); // hostPageSize
    Ok(())
}

/// Registry keys both open drivers send (docs/facts/ga102.md §9.3), each a DWORD of 1.
pub const REGISTRY_KEYS: [&[u8]; 3] = [
    b"RMSecBusResetEnable",
    b"RMForcePcieConfigSave",
    b"RMDevidCheckIgnore",
];

/// Encodes a `PACKED_REGISTRY_TABLE` of DWORD keys into `out`; returns its length.
pub fn registry(out: &mut [u8], keys: &[(&[u8], u32)]) -> Result<usize, RpcError> {
    let entries = 8 + 16 * keys.len();
    let strings: usize = keys.iter().map(|(k, _)| k.len() + 1).sum();
    let total = entries + strings;
    let b = out.get_mut(..total).ok_or(RpcError::TooLarge)?;
    b.fill(0);
    put32(b, 0, total as u32);
    put32(b, 4, keys.len() as u32);
    let mut name = entries;
    for (i, (k, v)) in keys.iter().enumerate() {
        let e = 8 + 16 * i;
        put32(b, e, name as u32);
        if let Some(t) = b.get_mut(e + 4) {
            *t = 1; // REGISTRY_TABLE_ENTRY_TYPE_DWORD
        }
        put32(b, e + 8, *v);
        put32(b, e + 12, 4);
        b.get_mut(name..name + k.len())
            .ok_or(RpcError::TooLarge)?
            .copy_from_slice(k);
        name += k.len() + 1;
    }
    Ok(total)
}

/// One frame-buffer region of `GspStaticConfigInfo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FbRegion {
    /// First byte.
    pub base: u64,
    /// Last byte (inclusive).
    pub limit: u64,
    /// Reserved bytes.
    pub reserved: u64,
    /// Supports compression.
    pub compressed: bool,
    /// Supports isochronous traffic.
    pub iso: bool,
    /// Protected.
    pub protected: bool,
}

impl FbRegion {
    /// Usable for general allocations (nova's rule, docs/facts/ga102.md §9.6).
    pub fn usable(&self) -> bool {
        self.reserved == 0
            && !self.protected
            && self.compressed
            && self.iso
            && self.limit >= self.base
    }
}

/// The parts of `GspStaticConfigInfo` (docs/facts/ga102.md §9.6) the driver uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticInfo {
    /// Number of valid entries in `regions`.
    pub num_regions: usize,
    /// The frame-buffer regions.
    pub regions: [FbRegion; 16],
    /// `fb_length`.
    pub fb_length: u64,
    /// `bar1PdeBase`.
    pub bar1_pde_base: u64,
    /// `bar2PdeBase`.
    pub bar2_pde_base: u64,
    /// `gpuShortNameString`, NUL-padded.
    pub short_name: [u8; 64],
    /// GSP-RM's internal client handle.
    pub internal_client: u32,
    /// GSP-RM's internal subdevice handle (target of internal controls).
    pub internal_subdevice: u32,
}

/// Smallest `GspStaticConfigInfo` the driver accepts.
pub const STATIC_INFO_MIN: usize = 1656;

/// Decodes the reply to `GET_GSP_STATIC_INFO`.
pub fn static_info(p: &[u8]) -> Result<StaticInfo, RpcError> {
    if p.len() < STATIC_INFO_MIN {
        return Err(RpcError::BadLength {
            found: p.len() as u32,
        });
    }
    let mut s = StaticInfo {
        num_regions: (get32(p, 344) as usize).min(16),
        regions: [FbRegion::default(); 16],
        fb_length: 0,
        bar1_pde_base: 0,
        bar2_pde_base: 0,
        short_name: [0; 64],
        internal_client: 0,
        internal_subdevice: 0,
    };
    for (i, r) in s.regions.iter_mut().enumerate().take(s.num_regions) {
        let e = 344 + 8 + 48 * i;
        *r = FbRegion {
            base: get64(p, e),
            limit: get64(p, e + 8),
            reserved: get64(p, e + 16),
            compressed: p.get(e + 28).is_some_and(|&v| v != 0),
            iso: p.get(e + 29).is_some_and(|&v| v != 0),
            protected: p.get(e + 30).is_some_and(|&v| v != 0),
        };
    }
    s.fb_length = get64(p, 1224);
    s.bar1_pde_base = get64(p, 1536);
    s.bar2_pde_base = get64(p, 1544);
    if let Some(n) = p.get(1324..1388) {
        s.short_name.copy_from_slice(n);
    }
    s.internal_client = get32(p, 1600);
    s.internal_subdevice = get32(p, 1608);
    Ok(s)
}

/// `UNLOADING_GUEST_DRIVER` payload for a full unload (docs/facts/ga102.md §7.4 unload step 1).
pub const fn unloading_guest_driver() -> [u8; 8] {
    [0; 8]
}

/// Size of `rpc_gsp_rm_alloc_v03_00` before its params (docs/facts/ga102.md §9.3, OG:abi L2246-2255).
pub const RM_ALLOC_HDR: usize = 32;
/// Size of `rpc_gsp_rm_control_v03_00` before its params (docs/facts/ga102.md §9.3, OG:abi L2259-2266).
pub const RM_CONTROL_HDR: usize = 24;
/// Size of `rpc_free_v03_00` (`NVOS00_PARAMETERS_v03_00`, docs/facts/ga102.md §9.3, OG:abi L1636-1642).
pub const FREE_SIZE: usize = 16;

/// RM object classes (docs/facts/ga102.md §10.1).
pub mod class {
    /// `NV01_ROOT`: a client.
    pub const NV01_ROOT: u32 = 0x0000;
    /// `NV01_DEVICE_0`.
    pub const NV01_DEVICE_0: u32 = 0x0080;
    /// `NV20_SUBDEVICE_0`.
    pub const NV20_SUBDEVICE_0: u32 = 0x2080;
}

/// Writes a `GSP_RM_ALLOC` payload into `out` (which must be `RM_ALLOC_HDR + params.len()`
/// bytes): the object `h_object` of class `h_class` under `h_parent` in client `h_client`.
pub fn rm_alloc(
    out: &mut [u8],
    h_client: u32,
    h_parent: u32,
    h_object: u32,
    h_class: u32,
    params: &[u8],
) -> Result<(), RpcError> {
    if out.len() != RM_ALLOC_HDR + params.len() || out.len() + ELEM_HDR + RPC_HDR > ELEM_MAX {
        return Err(RpcError::TooLarge);
    }
    out.fill(0);
    put32(out, 0, h_client);
    put32(out, 4, h_parent);
    put32(out, 8, h_object);
    put32(out, 12, h_class);
    put32(out, 16, RESULT_PENDING);
    put32(out, 20, params.len() as u32);
    out.get_mut(RM_ALLOC_HDR..)
        .ok_or(RpcError::TooLarge)?
        .copy_from_slice(params);
    Ok(())
}

/// Writes a `GSP_RM_CONTROL` payload into `out` (`RM_CONTROL_HDR + params.len()` bytes).
pub fn rm_control(
    out: &mut [u8],
    h_client: u32,
    h_object: u32,
    cmd: u32,
    params: &[u8],
) -> Result<(), RpcError> {
    if out.len() != RM_CONTROL_HDR + params.len() || out.len() + ELEM_HDR + RPC_HDR > ELEM_MAX {
        return Err(RpcError::TooLarge);
    }
    out.fill(0);
    put32(out, 0, h_client);
    put32(out, 4, h_object);
    put32(out, 8, cmd);
    put32(out, 12, RESULT_PENDING);
    put32(out, 16, params.len() as u32);
    out.get_mut(RM_CONTROL_HDR..)
        .ok_or(RpcError::TooLarge)?
        .copy_from_slice(params);
    Ok(())
}

/// The `FREE` payload for object `h_object` under `h_parent` in client `h_client`.
pub fn rm_free(h_client: u32, h_parent: u32, h_object: u32) -> [u8; FREE_SIZE] {
    let mut b = [0u8; FREE_SIZE];
    put32(&mut b, 0, h_client);
    put32(&mut b, 4, h_parent);
    put32(&mut b, 8, h_object);
    b
}

/// The status GSP-RM wrote into an alloc (`@16`), control (`@12`) or free (`@12`) reply,
/// or `None` when the reply is too short to hold it.
pub fn rm_status(function: u32, reply: &[u8]) -> Option<u32> {
    let at = match function {
        function::GSP_RM_ALLOC => 16,
        function::GSP_RM_CONTROL | function::FREE => 12,
        _ => return None,
    };
    reply.get(at..at + 4)?;
    Some(get32(reply, at))
}

/// The params of a control reply, checked against the size the reply claims.
pub fn rm_control_params(reply: &[u8]) -> Option<&[u8]> {
    let n = reply.get(16..20).map(|_| get32(reply, 16))? as usize;
    reply.get(RM_CONTROL_HDR..RM_CONTROL_HDR.checked_add(n)?)
}

/// `NV0000_ALLOC_PARAMETERS` (120 bytes, docs/facts/ga102.md §10.2): the client's own handle, processID
/// 0xFFFFFFFF (kernel client), empty name.
pub fn root_alloc_params(h_client: u32) -> [u8; 120] {
    let mut b = [0u8; 120];
    put32(&mut b, 0, h_client);
    put32(&mut b, 4, u32::MAX);
    b
}

/// `NV0080_ALLOC_PARAMETERS` (56 bytes, docs/facts/ga102.md §10.2): device 0, shared with `h_client`.
pub fn device_alloc_params(h_client: u32) -> [u8; 56] {
    let mut b = [0u8; 56];
    put32(&mut b, 4, h_client);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rm_alloc_control_free_layouts() {
        let mut a = [0u8; RM_ALLOC_HDR + 4];
        rm_alloc(&mut a, 1, 2, 3, class::NV20_SUBDEVICE_0, &[9, 8, 7, 6]).unwrap();
        assert_eq!(get32(&a, 0), 1);
        assert_eq!(get32(&a, 4), 2);
        assert_eq!(get32(&a, 8), 3);
        assert_eq!(get32(&a, 12), 0x2080);
        assert_eq!(get32(&a, 16), RESULT_PENDING);
        assert_eq!(get32(&a, 20), 4);
        assert_eq!(&a[32..], &[9, 8, 7, 6]);
        assert_eq!(
            rm_alloc(&mut [0u8; 35], 1, 2, 3, 4, &[1, 2, 3, 4]),
            Err(RpcError::TooLarge)
        );
        let mut c = [0u8; RM_CONTROL_HDR + 8];
        rm_control(&mut c, 5, 6, 0x2080_0101, &[1; 8]).unwrap();
        assert_eq!(get32(&c, 8), 0x2080_0101);
        assert_eq!(get32(&c, 16), 8);
        assert_eq!(rm_control_params(&c), Some(&[1u8; 8][..]));
        put32(&mut c, 16, 9);
        assert_eq!(rm_control_params(&c), None);
        let f = rm_free(1, 2, 3);
        assert_eq!((get32(&f, 0), get32(&f, 4), get32(&f, 8)), (1, 2, 3));
        assert_eq!(rm_status(function::FREE, &f), Some(0));
        assert_eq!(rm_status(function::GSP_RM_ALLOC, &a), Some(RESULT_PENDING));
        assert_eq!(rm_status(function::GSP_RM_ALLOC, &a[..19]), None);
        assert_eq!(rm_status(function::SET_REGISTRY, &a), None);
        assert_eq!(get32(&root_alloc_params(7), 4), u32::MAX);
        assert_eq!(get32(&device_alloc_params(7), 4), 7);
    }

    #[test]
    fn every_named_function_has_a_name() {
        for f in [
            function::FREE,
            function::GSP_RM_ALLOC,
            function::GSP_RM_CONTROL,
            function::GSP_INIT_DONE,
            function::MMU_FAULT_QUEUED,
            function::GSP_LOCKDOWN_NOTICE,
        ] {
            assert_ne!(function::name(f), "unknown");
        }
        assert_eq!(function::name(0xdead), "unknown");
    }

    #[test]
    fn encode_decode_round_trip_with_checksum() {
        let payload = [0x5au8; 100];
        let mut buf = [0u8; 4096];
        assert_eq!(
            encode(&mut buf, 7, 3, function::SET_REGISTRY, &payload),
            Ok(1)
        );
        assert_eq!(checksum(&buf[..0x50 + 100]), 0);
        let m = decode(&buf).unwrap();
        assert_eq!(
            (m.seq_num, m.function, m.rpc_seq, m.result),
            (7, 73, 3, RESULT_PENDING)
        );
        assert_eq!(m.payload, &payload[..]);
        assert_eq!(
            u32::from_le_bytes(buf[0x38..0x3c].try_into().unwrap()),
            0x20 + 100
        );
    }

    #[test]
    fn multi_entry_elements() {
        assert_eq!(elem_count(0), 1);
        assert_eq!(elem_count(4096 - 0x50), 1);
        assert_eq!(elem_count(4096 - 0x50 + 1), 2);
        let payload = [1u8; 5000];
        let mut buf = [0u8; 8192];
        assert_eq!(encode(&mut buf, 0, 0, 65, &payload), Ok(2));
        assert_eq!(decode(&buf).unwrap().payload.len(), 5000);
        let mut small = [0u8; 4096];
        assert_eq!(
            encode(&mut small, 0, 0, 65, &payload),
            Err(RpcError::TooLarge)
        );
    }

    #[test]
    fn corrupted_elements_are_rejected() {
        let mut buf = [0u8; 4096];
        encode(&mut buf, 0, 0, 72, &[1, 2, 3]).unwrap();
        let mut bad = buf;
        bad[0x51] ^= 0x10;
        assert!(matches!(decode(&bad), Err(RpcError::BadChecksum { .. })));
        let mut bad = buf;
        bad[0x34] = 0;
        assert!(matches!(decode(&bad), Err(RpcError::BadHeader { .. })));
        let mut bad = buf;
        bad[0x28] = 17;
        assert!(matches!(
            decode(&bad),
            Err(RpcError::BadElemCount { found: 17 })
        ));
        let mut bad = buf;
        bad[0x38..0x3c].copy_from_slice(&0x2000u32.to_le_bytes());
        assert!(matches!(decode(&bad), Err(RpcError::BadLength { .. })));
        assert!(decode(&buf[..100]).is_err());
    }

    #[test]
    fn system_info_fields() {
        let mut b = [0xffu8; SYSTEM_INFO_SIZE];
        let s = SystemInfo {
            bar_phys: [0xfd00_0000, 0xe000_0000, 0xf000_0000],
            bus_dev_fn: 0x10,
            max_user_va: (1 << 47) - 4096,
            pci_device_id: 0x2204_10de,
            pci_sub_device_id: 0x147d_10de,
            pci_revision_id: 0xa1,
        };
        system_info(&mut b, &s).unwrap();
        assert_eq!(get64(&b, 8), 0xe000_0000);
        assert_eq!(get32(&b, 80), 0x88000);
        assert_eq!(get32(&b, 88), 0x2204_10de);
        assert_eq!(get32(&b, 96), 0xa1);
        assert_eq!(get64(&b, 920), 4096);
        assert_eq!(b[124], 0);
    }

    #[test]
    fn registry_table() {
        let mut b = [0u8; 256];
        let keys: [(&[u8], u32); 2] = [(b"AB", 1), (b"C", 7)];
        let n = registry(&mut b, &keys).unwrap();
        assert_eq!(n, 8 + 32 + 3 + 2);
        assert_eq!(get32(&b, 0), n as u32);
        assert_eq!(get32(&b, 4), 2);
        assert_eq!(get32(&b, 8), 40);
        assert_eq!(b[12], 1);
        assert_eq!(get32(&b, 16), 1);
        assert_eq!(&b[40..43], b"AB\0");
        assert_eq!(get32(&b, 24), 43);
        assert_eq!(get32(&b, 32), 7);
        assert_eq!(&b[43..45], b"C\0");
        assert!(registry(&mut b[..20], &keys).is_err());
    }

    #[test]
    fn static_info_decoding() {
        let mut p = [0u8; STATIC_INFO_MIN];
        p[344..348].copy_from_slice(&1u32.to_le_bytes());
        p[352..360].copy_from_slice(&0x10_0000u64.to_le_bytes());
        p[360..368].copy_from_slice(&0x5_bfff_ffffu64.to_le_bytes());
        p[352 + 28] = 1;
        p[352 + 29] = 1;
        p[1536..1544].copy_from_slice(&0x1234_5000u64.to_le_bytes());
        p[1324..1329].copy_from_slice(b"GA102");
        let s = static_info(&p).unwrap();
        assert_eq!(s.num_regions, 1);
        assert!(s.regions[0].usable());
        assert_eq!(s.bar1_pde_base, 0x1234_5000);
        assert_eq!(&s.short_name[..5], b"GA102");
        assert!(static_info(&p[..100]).is_err());
        p[344..348].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(static_info(&p).unwrap().num_regions, 16);
    }
}
