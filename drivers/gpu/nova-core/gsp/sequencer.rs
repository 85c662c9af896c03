// SPDX-License-Identifier: GPL-2.0
//! The CPU sequencer buffer GSP-RM sends with `GSP_RUN_CPU_SEQUENCER` (event 0x1002) on a GA102
//! cold boot, before `GSP_INIT_DONE` (facts sheet §7.4 step 15, §9.5). Pure parsing, no_std and
//! host-tested; `gsp/mod.rs` executes the commands.
//!
//! Payload `rpc_run_cpu_sequencer_v17_00` (OG 570.144 `gsp_abi_check.c` L2308-2312):
//! bufferSizeDWord u32 @0, cmdIndex u32 @4 (valid dwords), regSaveArea[8] @8, commandBuffer
//! @40. Commands are packed: one opcode dword, then exactly that opcode's payload dwords (OG
//! 570.144 `rmgspseq.h` L78-101, L103-135). A buffer is refused as a whole, before any command
//! runs, when cmdIndex is not below bufferSizeDWord or runs past the payload, when an opcode is
//! unknown, or when a command's payload runs past cmdIndex (OG 570.144 `kernel_gsp.c`
//! `kgspExecuteSequencerBuffer_IMPL` refuses the same, command by command).

use core::fmt;

/// Byte offset of commandBuffer in the payload.
pub const COMMANDS: usize = 40;
/// Entries of regSaveArea (`GSP_SEQ_BUF_REG_SAVE_SIZE`, rmgspseq.h L215).
pub const SAVE_SLOTS: u32 = 8;

/// `GSP_SEQ_BUF_OPCODE_*` (rmgspseq.h L78-89).
pub mod opcode {
    /// {addr, val}: BAR0 write.
    pub const REG_WRITE: u32 = 0;
    /// {addr, mask, val}: read, `(old & !mask) | val`, write.
    pub const REG_MODIFY: u32 = 1;
    /// {addr, mask, val, timeout µs, error}: poll until `reg & mask == val`.
    pub const REG_POLL: u32 = 2;
    /// {µs}: wait.
    pub const DELAY_US: u32 = 3;
    /// {addr, index}: read into regSaveArea[index].
    pub const REG_STORE: u32 = 4;
    /// Reset the GSP falcon (falcon core, DMA without a context).
    pub const CORE_RESET: u32 = 5;
    /// Start the GSP falcon's CPU.
    pub const CORE_START: u32 = 6;
    /// Wait for the GSP falcon's CPU to halt.
    pub const CORE_WAIT_FOR_HALT: u32 = 7;
    /// Resume GSP-RM: GSP into RISC-V with the LIBOS arguments, start SEC2, wait for the
    /// handoff.
    pub const CORE_RESUME: u32 = 8;
}

/// Payload dwords of `op`, None for an unknown opcode (rmgspseq.h L91-101).
pub fn payload_dwords(op: u32) -> Option<usize> {
    Some(match op {
        opcode::REG_WRITE | opcode::REG_STORE => 2,
        opcode::REG_MODIFY => 3,
        opcode::REG_POLL => 5,
        opcode::DELAY_US => 1,
        opcode::CORE_RESET..=opcode::CORE_RESUME => 0,
        _ => return None,
    })
}

/// The name of `op` for messages.
pub fn name(op: u32) -> &'static str {
    match op {
        opcode::REG_WRITE => "REG_WRITE",
        opcode::REG_MODIFY => "REG_MODIFY",
        opcode::REG_POLL => "REG_POLL",
        opcode::DELAY_US => "DELAY_US",
        opcode::REG_STORE => "REG_STORE",
        opcode::CORE_RESET => "CORE_RESET",
        opcode::CORE_START => "CORE_START",
        opcode::CORE_WAIT_FOR_HALT => "CORE_WAIT_FOR_HALT",
        opcode::CORE_RESUME => "CORE_RESUME",
        _ => "unknown",
    }
}

/// One decoded command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// REG_WRITE.
    RegWrite {
        /// BAR0 offset.
        addr: u32,
        /// Value.
        val: u32,
    },
    /// REG_MODIFY.
    RegModify {
        /// BAR0 offset.
        addr: u32,
        /// Bits replaced.
        mask: u32,
        /// Their new value.
        val: u32,
    },
    /// REG_POLL.
    RegPoll {
        /// BAR0 offset.
        addr: u32,
        /// Bits compared.
        mask: u32,
        /// Expected value.
        val: u32,
        /// Limit in µs (0: the default, docs/facts/ga102.md §9.5).
        timeout_us: u32,
        /// GSP-RM's error code for this poll (`GSP_SEQUENCER_BUFFER_ERR`).
        error: u32,
    },
    /// DELAY_US.
    DelayUs(u32),
    /// REG_STORE.
    RegStore {
        /// BAR0 offset.
        addr: u32,
        /// regSaveArea index (< [`SAVE_SLOTS`], checked by [`validate`]).
        index: u32,
    },
    /// CORE_RESET.
    CoreReset,
    /// CORE_START.
    CoreStart,
    /// CORE_WAIT_FOR_HALT.
    CoreWaitForHalt,
    /// CORE_RESUME.
    CoreResume,
}

/// A command and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Dword index of its opcode in commandBuffer.
    pub at: u32,
    /// Its opcode.
    pub op: u32,
    /// The command.
    pub cmd: Cmd,
}

impl Step {
    /// Byte offset of the opcode in the payload.
    pub fn offset(&self) -> usize {
        offset_of(self.at)
    }
}

fn offset_of(at: u32) -> usize {
    COMMANDS + 4 * at as usize
}

/// Why a buffer is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqError {
    /// The payload cannot hold the fixed part.
    Short {
        /// Payload bytes.
        len: usize,
    },
    /// cmdIndex is not below bufferSizeDWord.
    IndexBeyondBuffer {
        /// cmdIndex.
        index: u32,
        /// bufferSizeDWord.
        size: u32,
    },
    /// cmdIndex needs more dwords than the payload carries.
    IndexBeyondPayload {
        /// cmdIndex.
        index: u32,
        /// Dwords of commandBuffer in the payload.
        dwords: usize,
    },
    /// An opcode no GSP-RM defines.
    UnknownOpcode {
        /// The opcode.
        op: u32,
        /// Its dword index.
        at: u32,
    },
    /// A command whose payload runs past cmdIndex.
    Truncated {
        /// The opcode.
        op: u32,
        /// Its dword index.
        at: u32,
        /// cmdIndex.
        index: u32,
    },
    /// REG_STORE into a slot regSaveArea does not have.
    BadSaveIndex {
        /// The slot.
        slot: u32,
        /// The command's dword index.
        at: u32,
    },
}

impl fmt::Display for SeqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SeqError::Short { len } => write!(
                f,
                "payload of {len} bytes is shorter than the {COMMANDS}-byte header"
            ),
            SeqError::IndexBeyondBuffer { index, size } => {
                write!(f, "cmdIndex {index} is not below bufferSizeDWord {size}")
            }
            SeqError::IndexBeyondPayload { index, dwords } => write!(
                f,
                "truncated buffer: cmdIndex {index} but the payload carries {dwords} command dwords"
            ),
            SeqError::UnknownOpcode { op, at } => write!(
                f,
                "unknown opcode {op:#x} at dword {at} (payload offset {:#x})",
                offset_of(at)
            ),
            SeqError::Truncated { op, at, index } => write!(
                f,
                "truncated buffer: opcode {op:#x} ({}) at dword {at} (payload offset {:#x}) needs {} payload dwords, cmdIndex {index} ends it after {}",
                name(op),
                offset_of(at),
                payload_dwords(op).unwrap_or(0),
                index.saturating_sub(at + 1)
            ),
            SeqError::BadSaveIndex { slot, at } => write!(
                f,
                "opcode 0x4 (REG_STORE) at dword {at} (payload offset {:#x}) stores into slot {slot} of {SAVE_SLOTS}",
                offset_of(at)
            ),
        }
    }
}

fn word(p: &[u8], byte: usize) -> Option<u32> {
    let b = p.get(byte..byte.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The commands of a payload, validated as a whole first.
pub struct Steps<'a> {
    p: &'a [u8],
    at: u32,
    end: u32,
}

impl Iterator for Steps<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        if self.at >= self.end {
            return None;
        }
        let (step, len) = decode(self.p, self.at, self.end).ok()?;
        self.at += len;
        Some(step)
    }
}

/// Decodes the command at dword `at`; returns it and its length in dwords.
fn decode(p: &[u8], at: u32, end: u32) -> Result<(Step, u32), SeqError> {
    let w = |i: u32| word(p, offset_of(i)).unwrap_or(0);
    let op = w(at);
    let n = payload_dwords(op).ok_or(SeqError::UnknownOpcode { op, at })? as u32;
    if at + 1 + n > end {
        return Err(SeqError::Truncated { op, at, index: end });
    }
    let a = |k: u32| w(at + 1 + k);
    let cmd = match op {
        opcode::REG_WRITE => Cmd::RegWrite {
            addr: a(0),
            val: a(1),
        },
        opcode::REG_MODIFY => Cmd::RegModify {
            addr: a(0),
            mask: a(1),
            val: a(2),
        },
        opcode::REG_POLL => Cmd::RegPoll {
            addr: a(0),
            mask: a(1),
            val: a(2),
            timeout_us: a(3),
            error: a(4),
        },
        opcode::DELAY_US => Cmd::DelayUs(a(0)),
        opcode::REG_STORE => {
            if a(1) >= SAVE_SLOTS {
                return Err(SeqError::BadSaveIndex { slot: a(1), at });
            }
            Cmd::RegStore {
                addr: a(0),
                index: a(1),
            }
        }
        opcode::CORE_RESET => Cmd::CoreReset,
        opcode::CORE_START => Cmd::CoreStart,
        opcode::CORE_WAIT_FOR_HALT => Cmd::CoreWaitForHalt,
        _ => Cmd::CoreResume,
    };
    Ok((Step { at, op, cmd }, 1 + n))
}

/// Checks the whole buffer and returns its commands; nothing may run from a refused buffer.
pub fn parse(p: &[u8]) -> Result<Steps<'_>, SeqError> {
    let (Some(size), Some(end)) = (word(p, 0), word(p, 4)) else {
        return Err(SeqError::Short { len: p.len() });
    };
    if p.len() < COMMANDS {
        return Err(SeqError::Short { len: p.len() });
    }
    if end >= size {
        return Err(SeqError::IndexBeyondBuffer { index: end, size });
    }
    let dwords = (p.len() - COMMANDS) / 4;
    if end as usize > dwords {
        return Err(SeqError::IndexBeyondPayload { index: end, dwords });
    }
    let mut at = 0;
    while at < end {
        let (_, len) = decode(p, at, end)?;
        at += len;
    }
    Ok(Steps { p, at: 0, end })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn payload(size: u32, index: u32, cmds: &[u32]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&size.to_le_bytes());
        p.extend_from_slice(&index.to_le_bytes());
        p.extend_from_slice(&[0u8; 32]);
        for c in cmds {
            p.extend_from_slice(&c.to_le_bytes());
        }
        p
    }

    const ALL: [u32; 25] = [
        5, 2, 0x1100f4, 0x1000, 0, 20000, 1, 1, 0x110624, 0x80, 0x80, 0, 0x110040, 0, 6, 7, 4,
        0x110040, 0, 4, 0x110044, 1, 3, 10, 8,
    ];

    #[test]
    fn every_opcode_decodes() {
        let p = payload(64, 25, &ALL);
        let steps: Vec<Step> = parse(&p).unwrap().collect();
        assert_eq!(steps.len(), 10);
        assert_eq!(steps[0].cmd, Cmd::CoreReset);
        assert_eq!(
            steps[1].cmd,
            Cmd::RegPoll {
                addr: 0x1100f4,
                mask: 0x1000,
                val: 0,
                timeout_us: 20000,
                error: 1
            }
        );
        assert_eq!(
            steps[2].cmd,
            Cmd::RegModify {
                addr: 0x110624,
                mask: 0x80,
                val: 0x80
            }
        );
        assert_eq!(
            steps[3].cmd,
            Cmd::RegWrite {
                addr: 0x110040,
                val: 0
            }
        );
        assert_eq!(steps[4].cmd, Cmd::CoreStart);
        assert_eq!(steps[5].cmd, Cmd::CoreWaitForHalt);
        assert_eq!(
            steps[7].cmd,
            Cmd::RegStore {
                addr: 0x110044,
                index: 1
            }
        );
        assert_eq!(steps[8].cmd, Cmd::DelayUs(10));
        assert_eq!(
            (steps[9].cmd, steps[9].at, steps[9].offset()),
            (Cmd::CoreResume, 24, 136)
        );
        // Dwords past cmdIndex are not commands.
        let p = payload(64, 1, &[5, 0xdead]);
        assert_eq!(parse(&p).unwrap().count(), 1);
        // An empty stream is valid.
        assert_eq!(parse(&payload(1, 0, &[])).unwrap().count(), 0);
    }

    #[test]
    fn bad_buffers_name_the_opcode_and_offset() {
        let mut c = ALL;
        c[22] = 9;
        let e = parse(&payload(64, 25, &c)).err().unwrap();
        assert_eq!(e, SeqError::UnknownOpcode { op: 9, at: 22 });
        assert_eq!(
            std::format!("{e}"),
            "unknown opcode 0x9 at dword 22 (payload offset 0x80)"
        );
        let e = parse(&payload(64, 4, &ALL)).err().unwrap();
        assert_eq!(
            e,
            SeqError::Truncated {
                op: 2,
                at: 1,
                index: 4
            }
        );
        assert_eq!(
            std::format!("{e}"),
            "truncated buffer: opcode 0x2 (REG_POLL) at dword 1 (payload offset 0x2c) needs 5 payload dwords, cmdIndex 4 ends it after 2"
        );
        assert_eq!(
            parse(&payload(25, 25, &ALL)).err(),
            Some(SeqError::IndexBeyondBuffer {
                index: 25,
                size: 25
            })
        );
        assert_eq!(
            parse(&payload(64, 26, &ALL)).err(),
            Some(SeqError::IndexBeyondPayload {
                index: 26,
                dwords: 25
            })
        );
        assert_eq!(
            parse(&payload(64, 3, &[4, 0x110040, 8])).err(),
            Some(SeqError::BadSaveIndex { slot: 8, at: 0 })
        );
        assert_eq!(parse(&[0u8; 39]).err(), Some(SeqError::Short { len: 39 }));
        assert_eq!(parse(&[0u8; 4]).err(), Some(SeqError::Short { len: 4 }));
        assert!(std::format!("{}", SeqError::Short { len: 4 }).contains("4 bytes"));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 30) as usize;
            let cmds: Vec<u32> = (0..n)
                .map(|i| (x.rotate_left(i as u32 * 5) % 12) as u32)
                .collect();
            let p = payload((x >> 40) as u32 % 40, (x >> 50) as u32 % 40, &cmds);
            if let Ok(s) = parse(&p) {
                for step in s {
                    assert!(payload_dwords(step.op).is_some());
                }
            }
        }
    }
}
