// SPDX-License-Identifier: GPL-2.0
//! LIBOS log buffers (LOGINIT, LOGINTR, LOGRM; docs/facts/ga102.md §7.3): what GSP-RM writes into them.
//!
//! Layout, as NVIDIA's decoder reads it (OG 570.144
//! `src/common/uproc/os/libos-v3.1.0/lib/liblogdecode.c`, `libosExtractLog_ReadRecord`
//! L1155-1235 and the nvlog copies L1354-1456):
//! - the buffer is an array of u64; word 0 is the put pointer: the number of u64 entries
//!   written so far, counting up without wrapping;
//! - entry n lives at word `1 + n % N`, N = size / 8 - 1 (the ring starts right after the put
//!   pointer, i.e. over the page list the CPU left there for LIBOS at start-up, docs/facts/ga102.md §7.3);
//! - a record is `argumentCount` argument words, then the address of its `libosLogMetadata`,
//!   then a non-zero timestamp in ns (the decoder walks backwards from put: timestamp, metadata,
//!   arguments; a timestamp of 0 ends its walk, L1131, L1191).
//!
//! `libosLogMetadata` (OG 570.144 `libos_log.h` L41-49) lives in the firmware's
//! `.fwlogging_*` sections (LOGINIT: `.fwlogging_init`, LOGINTR and LOGRM: `.fwlogging_rm`;
//! OG 570.144 `kernel_gsp.c` L2839-2847), which the shipped `gsp-570.144.bin` does not contain
//! (its sections are `.fwimage`, `.fwversion`, `.fwsignature_*`, symbol tables). The model's
//! metadata addresses are therefore its own: [`META_BASE`] + 0x40 × index into [`MESSAGES`];
//! the README lists them, so a reader can decode the model's records but not a real GSP's.

use crate::dma::{DmaFault, GuestMemory};

/// Where the model's (synthetic) metadata records are said to live.
pub const META_BASE: u64 = 0x7f00_0000_0000;

/// One message the model logs: its format and argument count (the decoder's
/// `libosLogMetadata.format` / `argumentCount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    /// printf-style format (arguments are u64 words).
    pub format: &'static str,
    /// Number of argument words.
    pub args: u8,
}

/// The messages, by index: metadata address = [`META_BASE`] + 0x40 × index.
pub const MESSAGES: [Message; 5] = [
    Message {
        format: "LIBOS: init arguments at 0x%llx, %llu regions",
        args: 2,
    },
    Message {
        format: "LIBOS: region id8 0x%llx at 0x%llx, 0x%llx bytes",
        args: 3,
    },
    Message {
        format:
            "GSP-RM: RMARGS at 0x%llx; shared area 0x%llx, %llu PTEs; queues at +0x%llx, +0x%llx",
        args: 5,
    },
    Message {
        format: "GSP-RM: status queue initialised, %llu entries of 0x%llx bytes",
        args: 2,
    },
    Message {
        format: "GSP-RM: function %llu sequence %llu result 0x%llx",
        args: 3,
    },
];

/// Index of "LIBOS: init arguments".
pub const MSG_INIT_ARGS: usize = 0;
/// Index of "LIBOS: region".
pub const MSG_REGION: usize = 1;
/// Index of "GSP-RM: RMARGS ... queues".
pub const MSG_RM_ARGS: usize = 2;
/// Index of "GSP-RM: status queue initialised".
pub const MSG_STATUS_QUEUE: usize = 3;
/// Index of "GSP-RM: function ... result" (one per message GSP-RM posts).
pub const MSG_RPC: usize = 4;

/// The metadata address of message `i`.
pub const fn meta_addr(i: usize) -> u64 {
    META_BASE + 0x40 * i as u64
}

/// One log buffer as GSP-RM writes it.
#[derive(Clone, Debug)]
pub struct LogBuffer {
    pa: u64,
    size: u64,
    put: u64,
}

impl LogBuffer {
    /// The buffer at bus address `pa`, `size` bytes (contiguous, checked at start-up), put
    /// pointer 0.
    pub fn new(pa: u64, size: u64) -> Self {
        LogBuffer { pa, size, put: 0 }
    }

    /// The put pointer (u64 entries written so far).
    pub fn put(&self) -> u64 {
        self.put
    }

    fn ring_entries(&self) -> u64 {
        (self.size / 8).saturating_sub(1)
    }

    /// Appends message `msg` with `args` (exactly its argument count; missing ones are 0,
    /// extra ones dropped) and timestamp `ts_ns` (0 is raised to 1: 0 ends the decoder's walk),
    /// then publishes the new put pointer.
    pub fn record(
        &mut self,
        g: &GuestMemory,
        msg: usize,
        args: &[u64],
        ts_ns: u64,
    ) -> Result<(), DmaFault> {
        let n = self.ring_entries();
        if n == 0 {
            return Ok(());
        }
        let count = MESSAGES.get(msg).map_or(0, |m| m.args as usize);
        let words = (0..count)
            .map(|i| args.get(i).copied().unwrap_or(0))
            .chain([meta_addr(msg), ts_ns.max(1)]);
        let mut put = self.put;
        for w in words {
            g.write(self.pa + 8 * (1 + put % n), &w.to_le_bytes())?;
            put += 1;
        }
        g.write(self.pa, &put.to_le_bytes())?;
        self.put = put;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::memfd;

    const GPA: u64 = 0x1000_0000;

    fn mem(size: u64) -> (GuestMemory, std::fs::File) {
        let f = memfd(c"log-test", size).unwrap();
        let mut g = GuestMemory::new();
        g.map(GPA, size, &f, 0).unwrap();
        (g, f)
    }

    fn word(g: &GuestMemory, i: u64) -> u64 {
        let mut b = [0u8; 8];
        g.read(GPA + 8 * i, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    /// Walks the buffer backwards from put the way OG's decoder does; returns (message
    /// index, args, timestamp) oldest first.
    fn decode(g: &GuestMemory, size: u64) -> Vec<(usize, Vec<u64>, u64)> {
        let n = size / 8 - 1;
        let put = word(g, 0);
        let mut i = put;
        let mut out = vec![];
        let oldest = put.saturating_sub(n);
        while i >= oldest + 2 {
            let ts = word(g, 1 + (i - 1) % n);
            let meta = word(g, 1 + (i - 2) % n);
            let Some(m) = meta
                .checked_sub(META_BASE)
                .map(|d| (d / 0x40) as usize)
                .filter(|&m| m < MESSAGES.len())
            else {
                break;
            };
            let argc = MESSAGES[m].args as u64;
            if i < oldest + 2 + argc {
                break;
            }
            let args = (0..argc)
                .map(|k| word(g, 1 + (i - 2 - argc + k) % n))
                .collect();
            out.push((m, args, ts));
            i -= 2 + argc;
        }
        out.reverse();
        out
    }

    #[test]
    fn records_are_args_then_metadata_then_timestamp() {
        let (g, _f) = mem(0x1000);
        let mut l = LogBuffer::new(GPA, 0x1000);
        l.record(&g, MSG_RPC, &[72, 0, 0], 1234).unwrap();
        assert_eq!(word(&g, 0), 5, "put counts u64 entries");
        assert_eq!(
            (1..=5).map(|i| word(&g, i)).collect::<Vec<_>>(),
            [72, 0, 0, meta_addr(MSG_RPC), 1234]
        );
        l.record(&g, MSG_STATUS_QUEUE, &[63], 0).unwrap();
        assert_eq!(l.put(), 9);
        assert_eq!(word(&g, 9), 1, "a zero timestamp is raised to 1");
        assert_eq!(word(&g, 7), 0, "missing argument written as 0");
        assert_eq!(
            decode(&g, 0x1000),
            [
                (MSG_RPC, vec![72, 0, 0], 1234),
                (MSG_STATUS_QUEUE, vec![63, 0], 1)
            ]
        );
    }

    #[test]
    fn the_ring_wraps_past_the_put_word() {
        // 0x100 bytes: put + 31 entries.
        let (g, _f) = mem(0x1000);
        let mut l = LogBuffer::new(GPA, 0x100);
        for k in 0..10u64 {
            l.record(&g, MSG_RPC, &[k, k, k], 100 + k).unwrap();
        }
        assert_eq!(word(&g, 0), 50, "put keeps counting");
        // Entry 49 is at word 1 + 49 % 31 = 19; word 32 is past the buffer, untouched.
        assert_eq!(word(&g, 19), 109);
        assert_eq!(word(&g, 32), 0);
        let recs = decode(&g, 0x100);
        assert_eq!(
            recs.len(),
            6,
            "the last 6 five-word records fit in 31 entries"
        );
        assert_eq!(recs.last().unwrap(), &(MSG_RPC, vec![9, 9, 9], 109));
    }

    #[test]
    fn formats_match_their_argument_counts() {
        for m in MESSAGES {
            assert_eq!(
                m.format.matches('%').count(),
                m.args as usize,
                "{}",
                m.format
            );
        }
        assert_eq!(meta_addr(MSG_REGION), 0x7f00_0000_0040);
    }
}
