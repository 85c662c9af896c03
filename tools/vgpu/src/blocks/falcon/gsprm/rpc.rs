// SPDX-License-Identifier: GPL-2.0
//! The RPC layer of r570.144: the `rpc_message_header_v` every queue element carries (facts
//! §9.1), the function and event numbers (docs/facts/ga102.md §9.2; nova-core's r570.144 bindings), the
//! RPC-layer result codes (docs/facts/ga102.md §9.1; OG `src/nvidia/inc/kernel/vgpu/rpc_headers.h`) and the
//! `NV_STATUS` codes the model returns (OG `src/common/sdk/nvidia/inc/nvstatuscodes.h`; result
//! codes below 0xFF000000 are NV_STATUS values, rpc_headers.h).

use super::bytes::{get_u32, put_u32};

/// `rpc_message_header_v` size.
pub const HEADER_SIZE: usize = 0x20;
/// header_version: MAJOR 31:24 = 3, MINOR 23:16 = 0.
pub const HEADER_VERSION: u32 = 0x0300_0000;
/// `NV_VGPU_MSG_SIGNATURE_VALID` ("VRPC").
pub const SIGNATURE: u32 = 0x4350_5256;

/// Function numbers (CPU to GSP).
pub mod func {
    /// NOP.
    pub const NOP: u32 = 0;
    /// FREE (`rpc_free_v03_00`).
    pub const FREE: u32 = 10;
    /// LOG.
    pub const LOG: u32 = 11;
    /// UNLOADING_GUEST_DRIVER.
    pub const UNLOADING_GUEST_DRIVER: u32 = 47;
    /// GET_STATIC_INFO.
    pub const GET_STATIC_INFO: u32 = 51;
    /// GET_GSP_STATIC_INFO.
    pub const GET_GSP_STATIC_INFO: u32 = 65;
    /// UPDATE_BAR_PDE.
    pub const UPDATE_BAR_PDE: u32 = 70;
    /// CONTINUATION_RECORD.
    pub const CONTINUATION_RECORD: u32 = 71;
    /// GSP_SET_SYSTEM_INFO.
    pub const GSP_SET_SYSTEM_INFO: u32 = 72;
    /// SET_REGISTRY.
    pub const SET_REGISTRY: u32 = 73;
    /// GSP_INIT_POST_OBJGPU.
    pub const GSP_INIT_POST_OBJGPU: u32 = 74;
    /// GSP_RM_CONTROL.
    pub const GSP_RM_CONTROL: u32 = 76;
    /// GMMU_REGISTER_FAULT_BUFFER.
    pub const GMMU_REGISTER_FAULT_BUFFER: u32 = 81;
    /// GMMU_UNREGISTER_FAULT_BUFFER.
    pub const GMMU_UNREGISTER_FAULT_BUFFER: u32 = 82;
    /// GSP_RM_ALLOC.
    pub const GSP_RM_ALLOC: u32 = 103;
    /// INVALIDATE_TLB.
    pub const INVALIDATE_TLB: u32 = 200;
    /// NUM_FUNCTIONS (r570.144).
    pub const NUM_FUNCTIONS: u32 = 227;
}

/// Event numbers (GSP to CPU).
pub mod event {
    /// GSP_INIT_DONE.
    pub const GSP_INIT_DONE: u32 = 0x1001;
    /// GSP_RUN_CPU_SEQUENCER.
    pub const GSP_RUN_CPU_SEQUENCER: u32 = 0x1002;
    /// POST_EVENT.
    pub const POST_EVENT: u32 = 0x1003;
    /// RC_TRIGGERED.
    pub const RC_TRIGGERED: u32 = 0x1004;
    /// MMU_FAULT_QUEUED.
    pub const MMU_FAULT_QUEUED: u32 = 0x1005;
    /// OS_ERROR_LOG.
    pub const OS_ERROR_LOG: u32 = 0x1006;
    /// UCODE_LIBOS_PRINT.
    pub const UCODE_LIBOS_PRINT: u32 = 0x100c;
    /// GSP_LOCKDOWN_NOTICE.
    pub const GSP_LOCKDOWN_NOTICE: u32 = 0x101c;
    /// GSP_POST_NOCAT_RECORD.
    pub const GSP_POST_NOCAT_RECORD: u32 = 0x1020;
}

/// `sizeof(rpc_os_error_log_v17_00)`: exceptType u32 @0, runlistId @4, chid @8, errString[256]
/// @12, preemptiveRemovalPreviousXid @268 (OG 570.144 `g_rpc-structures.h` L1458-1465;
/// `gsp_abi_check.c` L2270-2274).
pub const OS_ERROR_LOG_SIZE: usize = 272;
/// `INVALID_CHID` (OG 570.144 `g_kernel_fifo_nvoc.h` L106): the error names no channel.
pub const INVALID_CHID: u32 = 0xffff_ffff;

/// An `OS_ERROR_LOG` event payload: Xid `except_type` on `runlist`/`chid`, message `text`
/// (cut to 255 bytes, NUL-terminated).
pub fn os_error_log(except_type: u32, runlist: u32, chid: u32, text: &str) -> Vec<u8> {
    let mut p = vec![0u8; OS_ERROR_LOG_SIZE];
    p[0..4].copy_from_slice(&except_type.to_le_bytes());
    p[4..8].copy_from_slice(&runlist.to_le_bytes());
    p[8..12].copy_from_slice(&chid.to_le_bytes());
    let t = &text.as_bytes()[..text.len().min(255)];
    p[12..12 + t.len()].copy_from_slice(t);
    p
}

/// `sizeof(rpc_rc_triggered_v17_02)` without journal records: nv2080EngineType u32 @0, chid
/// @4, gfid @8, exceptLevel @12, exceptType @16, scope @20, partitionAttributionId u16 @24,
/// mmuFaultAddrLo @28, mmuFaultAddrHi @32, mmuFaultType @36, bCallbackNeeded u8 @40,
/// rcJournalBufferSize @44, rcJournalBuffer[] @48 (OG 570.144 `g_rpc-structures.h`
/// L1439-1454; `gsp_abi_check.c` L2291-2304).
pub const RC_TRIGGERED_SIZE: usize = 48;

/// An `RC_TRIGGERED` event payload for channel error `e`: gfid 0 (the physical function),
/// exceptLevel `ROBUST_CHANNEL_ERROR_RECOVERY_LEVEL_FATAL`, scope `RC_NOTIFIER_SCOPE_CHANNEL`,
/// partitionAttributionId 0, the MMU fault's address and type (0 for other errors),
/// bCallbackNeeded 0, no journal records. (The CPU side, OG 570.144 `kernel_gsp.c` L510-640
/// `_kgspRpcRCTriggered`, looks the channel up by engine type and chid.)
pub fn rc_triggered(e: &crate::fifo::RcEvent) -> Vec<u8> {
    let mut p = vec![0u8; RC_TRIGGERED_SIZE];
    let (va, ty) = e.mmu_fault.unwrap_or((0, 0));
    for (at, v) in [
        (0, e.engine),
        (4, e.chid),
        (8, 0),
        (12, crate::fifo::RECOVERY_LEVEL_FATAL),
        (16, e.except_type),
        (20, crate::fifo::RC_SCOPE_CHANNEL),
        (28, va as u32),
        (32, (va >> 32) as u32),
        (36, ty),
        (44, 0),
    ] {
        put_u32(&mut p, at, v);
    }
    p
}

/// A `GSP_LOCKDOWN_NOTICE` event payload: `rpc_gsp_lockdown_notice_v17_00`, one NvBool
/// `bLockdownEngaging` (OG 570.144 `g_rpc-structures.h` L1689-1692).
pub fn lockdown_notice(engaging: bool) -> Vec<u8> {
    vec![u8::from(engaging)]
}

/// RPC-layer results (`NV_VGPU_MSG_RESULT_*`).
pub mod result {
    /// `NV_VGPU_MSG_RESULT_RPC_UNKNOWN_FUNCTION`.
    pub const RPC_UNKNOWN_FUNCTION: u32 = 0xff10_0001;
    /// `NV_VGPU_MSG_RESULT_RPC_INVALID_MESSAGE_FORMAT`.
    pub const RPC_INVALID_MESSAGE_FORMAT: u32 = 0xff10_0002;
    /// `NV_VGPU_MSG_RESULT_RPC_PENDING`: what the CPU writes into rpc_result when sending.
    pub const RPC_PENDING: u32 = 0xffff_ffff;
}

/// `NV_STATUS` codes used by the model.
pub mod status {
    /// `NV_OK`.
    pub const NV_OK: u32 = 0x00;
    /// `NV_ERR_INSERT_DUPLICATE_NAME`: the handle exists.
    pub const NV_ERR_INSERT_DUPLICATE_NAME: u32 = 0x19;
    /// `NV_ERR_INSUFFICIENT_RESOURCES`.
    pub const NV_ERR_INSUFFICIENT_RESOURCES: u32 = 0x1a;
    /// `NV_ERR_INSUFFICIENT_PERMISSIONS`.
    pub const NV_ERR_INSUFFICIENT_PERMISSIONS: u32 = 0x1b;
    /// `NV_ERR_INVALID_ARGUMENT`.
    pub const NV_ERR_INVALID_ARGUMENT: u32 = 0x1f;
    /// `NV_ERR_INVALID_CLASS`.
    pub const NV_ERR_INVALID_CLASS: u32 = 0x22;
    /// `NV_ERR_INVALID_CLIENT`.
    pub const NV_ERR_INVALID_CLIENT: u32 = 0x23;
    /// `NV_ERR_INVALID_OBJECT_HANDLE`.
    pub const NV_ERR_INVALID_OBJECT_HANDLE: u32 = 0x33;
    /// `NV_ERR_INVALID_OBJECT_PARENT`.
    pub const NV_ERR_INVALID_OBJECT_PARENT: u32 = 0x36;
    /// `NV_ERR_INVALID_PARAM_STRUCT`: a parameter block of the wrong size.
    pub const NV_ERR_INVALID_PARAM_STRUCT: u32 = 0x3a;
    /// `NV_ERR_INVALID_STATE`.
    pub const NV_ERR_INVALID_STATE: u32 = 0x40;
    /// `NV_ERR_NOT_SUPPORTED`.
    pub const NV_ERR_NOT_SUPPORTED: u32 = 0x56;
    /// `NV_ERR_STATE_IN_USE`.
    pub const NV_ERR_STATE_IN_USE: u32 = 0x63;
}

/// The name of a function or event for the trace (`NV_VGPU_MSG_FUNCTION_*` /
/// `NV_VGPU_MSG_EVENT_*` without the prefix), or `FUNCTION_<n>` for numbers the model does not
/// name.
pub fn name(f: u32) -> std::borrow::Cow<'static, str> {
    let n = match f {
        func::NOP => "NOP",
        1 => "SET_GUEST_SYSTEM_INFO",
        2 => "ALLOC_ROOT",
        3 => "ALLOC_DEVICE",
        4 => "ALLOC_MEMORY",
        6 => "ALLOC_CHANNEL_DMA",
        9 => "ALLOC_OBJECT",
        func::FREE => "FREE",
        func::LOG => "LOG",
        func::UNLOADING_GUEST_DRIVER => "UNLOADING_GUEST_DRIVER",
        func::GET_STATIC_INFO => "GET_STATIC_INFO",
        func::GET_GSP_STATIC_INFO => "GET_GSP_STATIC_INFO",
        func::UPDATE_BAR_PDE => "UPDATE_BAR_PDE",
        func::CONTINUATION_RECORD => "CONTINUATION_RECORD",
        func::GSP_SET_SYSTEM_INFO => "GSP_SET_SYSTEM_INFO",
        func::SET_REGISTRY => "SET_REGISTRY",
        func::GSP_INIT_POST_OBJGPU => "GSP_INIT_POST_OBJGPU",
        func::GSP_RM_CONTROL => "GSP_RM_CONTROL",
        func::GMMU_REGISTER_FAULT_BUFFER => "GMMU_REGISTER_FAULT_BUFFER",
        func::GMMU_UNREGISTER_FAULT_BUFFER => "GMMU_UNREGISTER_FAULT_BUFFER",
        func::GSP_RM_ALLOC => "GSP_RM_ALLOC",
        func::INVALIDATE_TLB => "INVALIDATE_TLB",
        event::GSP_INIT_DONE => "GSP_INIT_DONE",
        event::GSP_RUN_CPU_SEQUENCER => "GSP_RUN_CPU_SEQUENCER",
        event::POST_EVENT => "POST_EVENT",
        event::RC_TRIGGERED => "RC_TRIGGERED",
        event::MMU_FAULT_QUEUED => "MMU_FAULT_QUEUED",
        event::OS_ERROR_LOG => "OS_ERROR_LOG",
        event::UCODE_LIBOS_PRINT => "UCODE_LIBOS_PRINT",
        event::GSP_LOCKDOWN_NOTICE => "GSP_LOCKDOWN_NOTICE",
        event::GSP_POST_NOCAT_RECORD => "GSP_POST_NOCAT_RECORD",
        _ => return format!("FUNCTION_{f}").into(),
    };
    n.into()
}

/// `rpc_message_header_v03_00` (docs/facts/ga102.md §9.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// header_version (+0x00).
    pub version: u32,
    /// signature (+0x04).
    pub signature: u32,
    /// length (+0x08): 0x20 + payload bytes.
    pub length: u32,
    /// function (+0x0C).
    pub function: u32,
    /// rpc_result (+0x10).
    pub result: u32,
    /// rpc_result_private (+0x14).
    pub result_private: u32,
    /// sequence (+0x18).
    pub sequence: u32,
    /// u.spare / u.cpuRmGfid (+0x1C).
    pub spare: u32,
}

impl Header {
    /// Decodes the 32 bytes at the start of `b` (None if `b` is shorter).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let w = |i: usize| get_u32(b, 4 * i);
        Some(Header {
            version: w(0)?,
            signature: w(1)?,
            length: w(2)?,
            function: w(3)?,
            result: w(4)?,
            result_private: w(5)?,
            sequence: w(6)?,
            spare: w(7)?,
        })
    }

    /// The 32 bytes.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        for (i, v) in [
            self.version,
            self.signature,
            self.length,
            self.function,
            self.result,
            self.result_private,
            self.sequence,
            self.spare,
        ]
        .into_iter()
        .enumerate()
        {
            put_u32(&mut b, 4 * i, v);
        }
        b
    }

    /// A GSP-to-CPU header for `function` with a payload of `payload_len` bytes.
    pub fn reply(function: u32, sequence: u32, result: u32, payload_len: usize) -> Self {
        Header {
            version: HEADER_VERSION,
            signature: SIGNATURE,
            length: (HEADER_SIZE + payload_len) as u32,
            function,
            result,
            result_private: result,
            sequence,
            spare: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_names() {
        let h = Header::reply(func::GSP_RM_ALLOC, 7, status::NV_ERR_INVALID_CLASS, 0x40);
        let b = h.encode();
        assert_eq!(&b[4..8], b"VRPC");
        assert_eq!(Header::parse(&b), Some(h));
        assert_eq!(Header::parse(&b[..31]), None);
        assert_eq!(h.length, 0x60);
        assert_eq!(name(72), "GSP_SET_SYSTEM_INFO");
        assert_eq!(name(0x1001), "GSP_INIT_DONE");
        assert_eq!(name(9999), "FUNCTION_9999");
    }
}
