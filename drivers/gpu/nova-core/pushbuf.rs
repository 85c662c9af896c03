// SPDX-License-Identifier: GPL-2.0
//! Encodings the kernel writes for a channel: GPFIFO entries (docs/facts/ga102.md §11.1), method headers
//! (§11.2) and the host-class methods of a job's tail (§11.3, OG 570.144 `clc56f.h`).
//! Pure; compiled into the module and into the host crate for tests.

/// Bytes per GPFIFO entry.
pub const GPFIFO_ENTRY_BYTES: usize = 8;

/// Longest push segment one GPFIFO entry can describe, in 32-bit words (LENGTH 30:10).
pub const MAX_SEGMENT_WORDS: u32 = (1 << 21) - 1;

/// The two words of a GPFIFO entry fetching `words` 32-bit words at GPU VA `va` (4-byte
/// aligned, below 2^40): GET 31:2 and GET_HI 7:0 hold the address, LENGTH 30:10 the size,
/// FETCH unconditional, LEVEL main, SYNC proceed. None when the segment cannot be described.
pub fn gpfifo_entry(va: u64, words: u32) -> Option<[u32; 2]> {
    if va & 3 != 0 || va >> 40 != 0 || words == 0 || words > MAX_SEGMENT_WORDS {
        return None;
    }
    Some([va as u32, ((va >> 32) as u32 & 0xff) | (words << 10)])
}

/// Header of an incrementing method group (SEC_OP 1): `count` data words go to `method`,
/// `method + 4`, ... on `subchannel`.
pub const fn inc_header(subchannel: u32, method: u32, count: u32) -> u32 {
    (1 << 29) | ((count & 0x1fff) << 16) | ((subchannel & 7) << 13) | ((method >> 2) & 0xfff)
}

/// Host method offsets (docs/facts/ga102.md §11.3).
pub mod host {
    /// `NON_STALL_INTERRUPT`.
    pub const NON_STALL_INTERRUPT: u32 = 0x0020;
    /// `SEM_ADDR_LO` (then SEM_ADDR_HI, SEM_PAYLOAD_LO, SEM_PAYLOAD_HI, SEM_EXECUTE).
    pub const SEM_ADDR_LO: u32 = 0x005c;
    /// `SEM_EXECUTE`.
    pub const SEM_EXECUTE: u32 = 0x006c;
    /// SEM_EXECUTE OPERATION RELEASE (2:0 = 1).
    pub const SEM_EXECUTE_RELEASE: u32 = 1;
    /// SEM_EXECUTE RELEASE_WFI EN (bit 20 = 1): the release waits for the work before it.
    pub const SEM_EXECUTE_RELEASE_WFI: u32 = 1 << 20;
    /// SEM_EXECUTE PAYLOAD_SIZE 64BIT (bit 24).
    pub const SEM_EXECUTE_PAYLOAD_64: u32 = 1 << 24;
}

/// Words of [`fence_tail`].
pub const FENCE_TAIL_WORDS: usize = 9;

/// The push segment the kernel appends to a job: release the 64-bit `seqno` at GPU VA
/// `fence_va` once everything before has finished, then raise the non-stall interrupt.
/// Host methods on subchannel 0 only (they leave the engine bound there alone).
pub fn fence_tail(fence_va: u64, seqno: u64) -> [u32; FENCE_TAIL_WORDS] {
    [
        inc_header(0, host::SEM_ADDR_LO, 4),
        (fence_va as u32) & !3,
        (fence_va >> 32) as u32 & 0xff,
        seqno as u32,
        (seqno >> 32) as u32,
        inc_header(0, host::SEM_EXECUTE, 1),
        host::SEM_EXECUTE_RELEASE | host::SEM_EXECUTE_RELEASE_WFI | host::SEM_EXECUTE_PAYLOAD_64,
        inc_header(0, host::NON_STALL_INTERRUPT, 1),
        0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(
            gpfifo_entry(0x12_3456_7890, 16),
            Some([0x3456_7890, 0x12 | (16 << 10)])
        );
        assert_eq!(gpfifo_entry(0x1002, 1), None);
        assert_eq!(gpfifo_entry(1 << 40, 1), None);
        assert_eq!(gpfifo_entry(0x1000, 0), None);
        assert_eq!(gpfifo_entry(0x1000, 1 << 21), None);
    }

    #[test]
    fn headers() {
        // SEC_OP 1, COUNT 4, SUBCH 0, ADDRESS 0x5c >> 2 = 0x17.
        assert_eq!(inc_header(0, 0x5c, 4), 0x2004_0017);
        assert_eq!(inc_header(3, 0x300, 1), 0x2001_60c0);
    }

    #[test]
    fn tail() {
        let t = fence_tail(0x1_0010_1000, 0x5_0000_0007);
        assert_eq!(t[0], 0x2004_0017);
        assert_eq!(&t[1..5], &[0x0010_1000, 0x1, 7, 5]);
        assert_eq!(t[5], 0x2001_001b);
        assert_eq!(t[6], 0x0110_0001);
        assert_eq!(t[7], 0x2001_0008);
    }
}
