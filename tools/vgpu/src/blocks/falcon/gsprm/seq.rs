// SPDX-License-Identifier: GPL-2.0
//! The CPU sequencer GSP-RM sends on a GA102 cold boot (`GSP_RUN_CPU_SEQUENCER`, event 0x1002,
//! before `GSP_INIT_DONE`; docs/facts/ga102.md §7.4 step 15, §9.5).
//!
//! Payload `rpc_run_cpu_sequencer_v17_00` (OG 570.144 `gsp_abi_check.c` L2308-2312):
//! bufferSizeDWord @0, cmdIndex @4 (valid dwords), regSaveArea[8] @8, commandBuffer @40. The
//! command stream is packed: an opcode dword, then exactly that opcode's payload dwords (OG
//! 570.144 `src/nvidia/arch/nvalloc/common/inc/rmgspseq.h` L30-100, L103-135): REG_WRITE 0
//! {addr, val}, REG_MODIFY 1 {addr, mask, val}, REG_POLL 2 {addr, mask, val, timeout, error},
//! DELAY_US 3 {val}, REG_STORE 4 {addr, index}, CORE_RESET 5, CORE_START 6,
//! CORE_WAIT_FOR_HALT 7, CORE_RESUME 8 (no payload). The CPU side accepts cmdIndex only below
//! bufferSizeDWord and refuses a command whose payload runs past cmdIndex (OG 570.144
//! `kernel_gsp.c` `kgspExecuteSequencerBuffer_IMPL`).
//!
//! What the GA102 buffer does, from public sources: the GSP is made to run an HS ucode the CPU
//! loads through the sequencer, which loads SEC2-RTOS onto SEC2; then GSP-RM resumes (Linux
//! 7.3 `Documentation/gpu/nova/core/falcon.rst` L77-91); the resume is CORE_RESUME (OG 570.144
//! `kernel_gsp_ga102.c` `kgspExecuteSequencerCommand_GA102`: GSP reset into RISC-V, LIBOS
//! arguments in MAILBOX0/1, SEC2 started, `BSI_SECURE_SCRATCH_14` handoff polled, SEC2
//! MAILBOX0 = 0, GSP OS written, RISC-V active). Register-save indices 0/1 are MAILBOX0/1
//! (`rmgspseq.h` L211-217). **The real buffer's exact commands are not public**: which
//! registers the HS ucode's load writes and the ucode itself are unknown, so the model's buffer
//! keeps the core steps (reset, start, wait for halt, resume) and surrounds them with register
//! commands whose targets the model can check; the HS ucode is represented by the GSP falcon's
//! behaviour on CORE_START (see the falcon module).

use super::bytes::put_u32;

/// `GSP_SEQ_BUF_OPCODE_*` (rmgspseq.h L78-89).
pub mod op {
    /// {addr, val}
    pub const REG_WRITE: u32 = 0;
    /// {addr, mask, val}
    pub const REG_MODIFY: u32 = 1;
    /// {addr, mask, val, timeout, error}
    pub const REG_POLL: u32 = 2;
    /// {val}
    pub const DELAY_US: u32 = 3;
    /// {addr, index}
    pub const REG_STORE: u32 = 4;
    /// no payload
    pub const CORE_RESET: u32 = 5;
    /// no payload
    pub const CORE_START: u32 = 6;
    /// no payload
    pub const CORE_WAIT_FOR_HALT: u32 = 7;
    /// no payload
    pub const CORE_RESUME: u32 = 8;
}

/// Offset of commandBuffer in the payload.
pub const COMMANDS: usize = 40;
/// bufferSizeDWord the model sends (its own choice: the real size is not public).
pub const BUFFER_DWORDS: u32 = 64;
/// `GSP_SEQUENCER_BUFFER_ERR_TIMEOUT1` / `_TIMEOUT2` (rmgspseq.h L147-153).
pub const ERR_TIMEOUT1: u32 = 1;
/// See [`ERR_TIMEOUT1`].
pub const ERR_TIMEOUT2: u32 = 2;

/// GSP falcon `HWCFG2` (docs/facts/ga102.md §5.2: 0x110000 + 0x0F4); MEM_SCRUBBING is bit 12.
pub const GSP_HWCFG2: u32 = 0x1100f4;
/// GSP falcon `MAILBOX0` / `MAILBOX1`.
pub const GSP_MAILBOX0: u32 = 0x110040;
/// See [`GSP_MAILBOX0`].
pub const GSP_MAILBOX1: u32 = 0x110044;
/// GSP `FBIF_CTL` (0x110000 + 0x624); ALLOW_PHYS_NO_CTX is bit 7.
pub const GSP_FBIF_CTL: u32 = 0x110624;
/// The value the `--seq-poll-timeout` REG_POLL waits for (nothing ever writes it).
pub const NEVER: u32 = 0x5e9b_ad00;
/// Timeout of the `--seq-poll-timeout` REG_POLL, µs.
pub const NEVER_TIMEOUT_US: u32 = 100_000;

/// A broken buffer or resume (fault knobs, `--seq-*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeqFault {
    /// A well-formed buffer, a resume that completes.
    #[default]
    None,
    /// DELAY_US's opcode replaced by 9 (no such opcode).
    BadOpcode,
    /// cmdIndex cuts the REG_POLL's payload short.
    Truncated,
    /// The REG_POLL waits for a MAILBOX1 value nothing writes ([`NEVER`]).
    PollTimeout,
    /// SEC2-RTOS never sets the handoff bit (the falcon model reads this one).
    NoHandoff,
}

/// Dword index of the REG_POLL in [`buffer`] (the one the truncation cuts).
pub const POLL_AT: usize = 1;
/// Dword index of DELAY_US in [`buffer`] (the one [`SeqFault::BadOpcode`] replaces).
pub const DELAY_AT: usize = 22;
/// The opcode [`SeqFault::BadOpcode`] puts there.
pub const BAD_OPCODE: u32 = 9;

/// The command stream (dwords) and cmdIndex.
pub fn commands(fault: SeqFault) -> (Vec<u32>, u32) {
    let (poll_addr, poll_mask, poll_val, poll_us, poll_err) = if fault == SeqFault::PollTimeout {
        (
            GSP_MAILBOX1,
            u32::MAX,
            NEVER,
            NEVER_TIMEOUT_US,
            ERR_TIMEOUT2,
        )
    } else {
        (GSP_HWCFG2, 1 << 12, 0, 20_000, ERR_TIMEOUT1)
    };
    let mut c = vec![
        // 0: the GSP falcon reset into its falcon core for the HS step.
        op::CORE_RESET,
        // 1: wait for IMEM/DMEM scrubbing (docs/facts/ga102.md §5.4) before the start.
        op::REG_POLL,
        poll_addr,
        poll_mask,
        poll_val,
        poll_us,
        poll_err,
        // 7: DMA without a context (as falcon loads do, docs/facts/ga102.md §5.4).
        op::REG_MODIFY,
        GSP_FBIF_CTL,
        1 << 7,
        1 << 7,
        // 11: MAILBOX0 cleared before the start (docs/facts/ga102.md §7.4 step 7 does the same).
        op::REG_WRITE,
        GSP_MAILBOX0,
        0,
        // 14: the HS step.
        op::CORE_START,
        op::CORE_WAIT_FOR_HALT,
        // 16: its result into the save area (indices 0/1 = MAILBOX0/1, rmgspseq.h L211-217).
        op::REG_STORE,
        GSP_MAILBOX0,
        0,
        op::REG_STORE,
        GSP_MAILBOX1,
        1,
        // 22
        op::DELAY_US,
        10,
        // 24: back to GSP-RM.
        op::CORE_RESUME,
    ];
    debug_assert_eq!(c[DELAY_AT], op::DELAY_US);
    debug_assert_eq!(c[POLL_AT], op::REG_POLL);
    let mut index = c.len() as u32;
    match fault {
        SeqFault::BadOpcode => c[DELAY_AT] = BAD_OPCODE,
        // The REG_POLL needs dwords POLL_AT + 1 ..= POLL_AT + 5; cmdIndex ends after two.
        SeqFault::Truncated => index = POLL_AT as u32 + 3,
        _ => {}
    }
    (c, index)
}

/// The `rpc_run_cpu_sequencer_v17_00` payload: the whole buffer of [`BUFFER_DWORDS`].
pub fn payload(fault: SeqFault) -> Vec<u8> {
    let (c, index) = commands(fault);
    let mut p = vec![0u8; COMMANDS + 4 * BUFFER_DWORDS as usize];
    put_u32(&mut p, 0, BUFFER_DWORDS);
    put_u32(&mut p, 4, index);
    for (i, w) in c.iter().enumerate() {
        put_u32(&mut p, COMMANDS + 4 * i, *w);
    }
    p
}

/// Payload dwords of `opcode`; None for an unknown one (rmgspseq.h L91-101).
pub fn payload_dwords(opcode: u32) -> Option<usize> {
    Some(match opcode {
        op::REG_WRITE | op::REG_STORE => 2,
        op::REG_MODIFY => 3,
        op::REG_POLL => 5,
        op::DELAY_US => 1,
        op::CORE_RESET..=op::CORE_RESUME => 0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(p: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(p[4 * i..4 * i + 4].try_into().unwrap())
    }

    /// Walks the stream the way the CPU does; returns the opcodes or the first problem.
    fn walk(p: &[u8]) -> Result<Vec<u32>, String> {
        let size = word(p, 0);
        let end = word(p, 1) as usize;
        if end >= size as usize {
            return Err("cmdIndex".into());
        }
        let mut i = 0;
        let mut ops = vec![];
        while i < end {
            let o = word(p, 10 + i);
            let n = payload_dwords(o).ok_or(format!("opcode {o} at {i}"))?;
            if i + 1 + n > end {
                return Err(format!("truncated at {i}"));
            }
            ops.push(o);
            i += 1 + n;
        }
        Ok(ops)
    }

    #[test]
    fn the_buffer_ends_in_core_resume() {
        let p = payload(SeqFault::None);
        assert_eq!(p.len(), 40 + 256);
        let ops = walk(&p).unwrap();
        assert_eq!(ops.first(), Some(&op::CORE_RESET));
        assert_eq!(ops.last(), Some(&op::CORE_RESUME));
        for o in 0..=8 {
            assert!(ops.contains(&o), "opcode {o} used");
        }
        assert_eq!(walk(&payload(SeqFault::NoHandoff)), Ok(ops.clone()));
        assert_eq!(walk(&payload(SeqFault::PollTimeout)), Ok(ops));
    }

    #[test]
    fn faults_break_the_buffer_where_documented() {
        assert_eq!(
            walk(&payload(SeqFault::BadOpcode)),
            Err(format!("opcode 9 at {DELAY_AT}"))
        );
        assert_eq!(
            walk(&payload(SeqFault::Truncated)),
            Err(format!("truncated at {POLL_AT}"))
        );
        let (c, _) = commands(SeqFault::PollTimeout);
        assert_eq!(
            &c[POLL_AT + 1..POLL_AT + 6],
            &[GSP_MAILBOX1, u32::MAX, NEVER, 100_000, 2]
        );
    }
}
