// SPDX-License-Identifier: GPL-2.0
//! The copy engine class AMPERE_DMA_COPY_B (0xC7B5), docs/facts/ga102.md §11.4.
//!
//! Method offsets and fields are from OG:cls `clc7b5.h` (tag 570.144): methods L35-297,
//! `LAUNCH_DMA` fields L84-160, `SET_REMAP_COMPONENTS` L181-228. Every method of the class
//! stores its data word; `LAUNCH_DMA` (0x300) then runs, in this order:
//!
//! 1. the data transfer (`DATA_TRANSFER_TYPE` PIPELINED or NON_PIPELINED; NONE skips it),
//! 2. the semaphore release (`SEMAPHORE_TYPE`),
//! 3. the non-stall interrupt (`INTERRUPT_TYPE` BLOCKING or NON_BLOCKING).
//!
//! A fault stops the launch where it happens: nothing after the faulting access is done.
//! Everything the launch needs is validated before the first access, so a refused launch
//! (`BadArgument`) touches no memory.
//!
//! | Feature | Modelled | Source / note |
//! |---|---|---|
//! | pitch-linear 1D (`MULTI_LINE_ENABLE` 0: `LINE_LENGTH_IN` bytes) and 2D (`LINE_COUNT` lines, `PITCH_IN`/`PITCH_OUT`) | yes | L112-114, L169-176 |
//! | block-linear layouts, `SRC_TYPE`/`DST_TYPE` PHYSICAL | refused (`BadArgument`) | L106-111, L121-126 |
//! | remap (`REMAP_ENABLE`): components SRC_X..W, CONST_A/B, NO_WRITE; 1-4 byte components, 1-4 src/dst components; `LINE_LENGTH_IN` counts elements | yes | L177-228 |
//! | constant fill = remap with only CONST_A/CONST_B destination components | yes, fast (the source is not read) | docs/facts/ga102.md §13 item 13 (recipe derived from the fields) |
//! | semaphore ONE_WORD: 4 bytes, or 8 with `SEMAPHORE_PAYLOAD_SIZE` TWO_WORD | yes | L95-101, L157-159 |
//! | semaphore FOUR_WORD: 16 bytes = payload (lo, hi or 0), then the 64-bit timer at +8 | yes | see below |
//! | semaphore reduction (`SEMAPHORE_REDUCTION_ENABLE`, ONE_WORD only) | IMIN/IMAX/IXOR/IAND/IOR/IADD/INC/DEC | see below |
//! | CONDITIONAL_INTR semaphores, float reductions, reduction with a timestamp | refused | not documented |
//! | `SET_RENDER_ENABLE_*`, phys modes, block sizes, origins, monitored fence, `FLUSH_*`, `VPRMODE`, `DISABLE_PLC` | stored only | a copy always runs |
//!
//! The four-word layout: OD `manuals/ampere/ga100/dev_pbdma.ref.txt` L3859-3897 gives the
//! 16-byte semaphore of the host (payload bytes 0-7, zero-extended for a 32-bit payload, the
//! nanosecond timer at bytes 8-15); OG `kernel-open/nvidia-uvm/uvm_push.c` L477 reads a CE
//! FOUR_WORD release's timestamp from the second half of its 16 bytes, which agrees. The
//! 16 bytes are written with one access. The reduction functions are the host's table (same
//! file L3900-3953), whose opcodes 0-7 are the CE's `SEMAPHORE_REDUCTION` values 0-7
//! (`clc7b5.h` L127-135 vs OD `classes/host/clc56f.h` L234-245); the table's unsupported
//! combinations (64-bit INC/DEC, signed INC/DEC, signed 64-bit IADD) are refused. Semaphore
//! address alignment is not checked (the CE's rule is not documented).
//!
//! Size cap: a launch may read and write at most [`MAX_LAUNCH_BYTES`] (4 GiB) each; beyond
//! that, or if an address computation overflows 64 bits, it is refused (`BadArgument`). This
//! keeps one guest method from occupying the device model for minutes.
//!
//! Speed: plain copies and fills move [`CHUNK`]-sized runs through one reused buffer, never
//! single bytes or words through [`ChannelMemory`].

use super::{check_method, ChannelMemory, Effects, Engine, EngineError};

/// The class number of AMPERE_DMA_COPY_B.
pub const CLASS: u32 = 0xc7b5;

/// Method byte offsets (`clc7b5.h` L35-297).
pub mod mthd {
    /// NOP.
    pub const NOP: u32 = 0x100;
    /// PM_TRIGGER.
    pub const PM_TRIGGER: u32 = 0x140;
    /// SET_SEMAPHORE_A: UPPER 16:0 (VA bits 48:32).
    pub const SET_SEMAPHORE_A: u32 = 0x240;
    /// SET_SEMAPHORE_B: LOWER 31:0.
    pub const SET_SEMAPHORE_B: u32 = 0x244;
    /// SET_SEMAPHORE_PAYLOAD: payload bits 31:0.
    pub const SET_SEMAPHORE_PAYLOAD: u32 = 0x248;
    /// SET_SEMAPHORE_PAYLOAD_UPPER: payload bits 63:32.
    pub const SET_SEMAPHORE_PAYLOAD_UPPER: u32 = 0x24c;
    /// SET_RENDER_ENABLE_C (stored only).
    pub const SET_RENDER_ENABLE_C: u32 = 0x25c;
    /// SET_SRC_PHYS_MODE (stored only).
    pub const SET_SRC_PHYS_MODE: u32 = 0x260;
    /// SET_DST_PHYS_MODE (stored only).
    pub const SET_DST_PHYS_MODE: u32 = 0x264;
    /// LAUNCH_DMA.
    pub const LAUNCH_DMA: u32 = 0x300;
    /// OFFSET_IN_UPPER: 16:0.
    pub const OFFSET_IN_UPPER: u32 = 0x400;
    /// OFFSET_IN_LOWER.
    pub const OFFSET_IN_LOWER: u32 = 0x404;
    /// OFFSET_OUT_UPPER: 16:0.
    pub const OFFSET_OUT_UPPER: u32 = 0x408;
    /// OFFSET_OUT_LOWER.
    pub const OFFSET_OUT_LOWER: u32 = 0x40c;
    /// PITCH_IN (bytes).
    pub const PITCH_IN: u32 = 0x410;
    /// PITCH_OUT (bytes).
    pub const PITCH_OUT: u32 = 0x414;
    /// LINE_LENGTH_IN (bytes, or elements when remapping).
    pub const LINE_LENGTH_IN: u32 = 0x418;
    /// LINE_COUNT.
    pub const LINE_COUNT: u32 = 0x41c;
    /// SET_REMAP_CONST_A.
    pub const SET_REMAP_CONST_A: u32 = 0x700;
    /// SET_REMAP_CONST_B.
    pub const SET_REMAP_CONST_B: u32 = 0x704;
    /// SET_REMAP_COMPONENTS.
    pub const SET_REMAP_COMPONENTS: u32 = 0x708;
    /// SET_DST_BLOCK_SIZE (stored only).
    pub const SET_DST_BLOCK_SIZE: u32 = 0x70c;
    /// PM_TRIGGER_END, the last method of the class.
    pub const PM_TRIGGER_END: u32 = 0x1114;
}

/// `LAUNCH_DMA` fields (`clc7b5.h` L84-160) as (hi, lo) bit ranges and values.
pub mod launch {
    /// DATA_TRANSFER_TYPE 1:0: 0 NONE, 1 PIPELINED, 2 NON_PIPELINED.
    pub const DATA_TRANSFER_TYPE: (u32, u32) = (1, 0);
    /// SEMAPHORE_TYPE 4:3: 0 NONE, 1 RELEASE_ONE_WORD, 2 RELEASE_FOUR_WORD, 3 CONDITIONAL_INTR.
    pub const SEMAPHORE_TYPE: (u32, u32) = (4, 3);
    /// INTERRUPT_TYPE 6:5: 0 NONE, 1 BLOCKING, 2 NON_BLOCKING.
    pub const INTERRUPT_TYPE: (u32, u32) = (6, 5);
    /// SRC_MEMORY_LAYOUT 7: 0 BLOCKLINEAR, 1 PITCH.
    pub const SRC_MEMORY_LAYOUT: (u32, u32) = (7, 7);
    /// DST_MEMORY_LAYOUT 8: 0 BLOCKLINEAR, 1 PITCH.
    pub const DST_MEMORY_LAYOUT: (u32, u32) = (8, 8);
    /// MULTI_LINE_ENABLE 9.
    pub const MULTI_LINE_ENABLE: (u32, u32) = (9, 9);
    /// REMAP_ENABLE 10.
    pub const REMAP_ENABLE: (u32, u32) = (10, 10);
    /// SRC_TYPE 12: 0 VIRTUAL, 1 PHYSICAL.
    pub const SRC_TYPE: (u32, u32) = (12, 12);
    /// DST_TYPE 13: 0 VIRTUAL, 1 PHYSICAL.
    pub const DST_TYPE: (u32, u32) = (13, 13);
    /// SEMAPHORE_REDUCTION 17:14: 0 IMIN .. 7 DEC, 0xA-0xC float.
    pub const SEMAPHORE_REDUCTION: (u32, u32) = (17, 14);
    /// SEMAPHORE_REDUCTION_SIGN 18: 0 SIGNED, 1 UNSIGNED.
    pub const SEMAPHORE_REDUCTION_SIGN: (u32, u32) = (18, 18);
    /// SEMAPHORE_REDUCTION_ENABLE 19.
    pub const SEMAPHORE_REDUCTION_ENABLE: (u32, u32) = (19, 19);
    /// SEMAPHORE_PAYLOAD_SIZE 27: 0 ONE_WORD, 1 TWO_WORD.
    pub const SEMAPHORE_PAYLOAD_SIZE: (u32, u32) = (27, 27);
}

/// The largest number of bytes one launch may read, and the largest it may write.
pub const MAX_LAUNCH_BYTES: u64 = 4 << 30;

/// The size of the runs plain copies and fills move through [`ChannelMemory`].
pub const CHUNK: usize = 256 << 10;

/// The class's methods as half-open byte-offset ranges (`clc7b5.h` L35-297).
const METHODS: &[(u32, u32)] = &[
    (0x100, 0x104),   // NOP
    (0x140, 0x144),   // PM_TRIGGER
    (0x21c, 0x228),   // SET_MONITORED_FENCE_TYPE, _SIGNAL_ADDR_BASE_UPPER/_LOWER
    (0x240, 0x250),   // SET_SEMAPHORE_A/B, _PAYLOAD, _PAYLOAD_UPPER
    (0x254, 0x268),   // SET_RENDER_ENABLE_A/B/C, SET_SRC/DST_PHYS_MODE
    (0x300, 0x304),   // LAUNCH_DMA
    (0x400, 0x420),   // OFFSET_IN/OUT_UPPER/LOWER, PITCH_IN/OUT, LINE_LENGTH_IN, LINE_COUNT
    (0x700, 0x724),   // SET_REMAP_*, SET_DST_BLOCK_SIZE/WIDTH/HEIGHT/DEPTH/LAYER/ORIGIN
    (0x728, 0x740),   // SET_SRC_BLOCK_SIZE/WIDTH/HEIGHT/DEPTH/LAYER/ORIGIN
    (0x744, 0x754),   // SRC_ORIGIN_X/Y, DST_ORIGIN_X/Y
    (0x1114, 0x1118), // PM_TRIGGER_END
];

fn field(v: u32, (hi, lo): (u32, u32)) -> u32 {
    let width = hi - lo + 1;
    ((u64::from(v) >> lo) & ((1u64 << width) - 1)) as u32
}

/// One AMPERE_DMA_COPY_B instance: the class's method state and a reused copy buffer.
pub struct CopyEngine {
    /// The last data word of every method, indexed by offset / 4.
    regs: Vec<u32>,
    /// The run buffer for copies and fills (grown on first use).
    buf: Vec<u8>,
}

impl Default for CopyEngine {
    fn default() -> Self {
        CopyEngine {
            regs: vec![0; (mthd::PM_TRIGGER_END / 4 + 1) as usize],
            buf: Vec::new(),
        }
    }
}

/// What a remapping launch does per element (`SET_REMAP_COMPONENTS`, `clc7b5.h` L181-228).
#[derive(Clone, Copy, Debug)]
struct Remap {
    /// Bytes per component (1-4).
    comp: usize,
    /// Source components per element (1-4).
    nsrc: usize,
    /// Destination components per element (1-4).
    ndst: usize,
    /// For each destination component: 0-3 SRC_X..W, 4 CONST_A, 5 CONST_B, 6 NO_WRITE.
    sel: [u8; 4],
    const_a: u32,
    const_b: u32,
}

const SEL_CONST_A: u8 = 4;
const SEL_CONST_B: u8 = 5;
const SEL_NO_WRITE: u8 = 6;

impl Remap {
    fn src_elem(&self) -> usize {
        self.comp * self.nsrc
    }

    fn dst_elem(&self) -> usize {
        self.comp * self.ndst
    }

    fn sels(&self) -> &[u8] {
        &self.sel[..self.ndst]
    }

    fn reads_src(&self) -> bool {
        self.sels().iter().any(|&s| s < SEL_CONST_A)
    }

    fn reads_dst(&self) -> bool {
        self.sels().contains(&SEL_NO_WRITE)
    }

    /// The destination element when it depends on constants only.
    fn const_elem(&self) -> Option<Vec<u8>> {
        if self.reads_src() || self.reads_dst() {
            return None;
        }
        let mut e = Vec::with_capacity(self.dst_elem());
        for &s in self.sels() {
            let c = if s == SEL_CONST_A {
                self.const_a
            } else {
                self.const_b
            };
            e.extend_from_slice(&c.to_le_bytes()[..self.comp]);
        }
        Some(e)
    }

    /// Builds destination element `out` from source element `src`; `out` holds the old
    /// destination bytes where a component is NO_WRITE.
    fn apply(&self, src: &[u8], out: &mut [u8]) {
        let c = self.comp;
        for (k, &s) in self.sels().iter().enumerate() {
            let o = &mut out[k * c..(k + 1) * c];
            match s {
                SEL_CONST_A => o.copy_from_slice(&self.const_a.to_le_bytes()[..c]),
                SEL_CONST_B => o.copy_from_slice(&self.const_b.to_le_bytes()[..c]),
                SEL_NO_WRITE => {}
                i => {
                    let i = usize::from(i);
                    o.copy_from_slice(&src[i * c..(i + 1) * c]);
                }
            }
        }
    }
}

/// A validated data transfer.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    src: u64,
    dst: u64,
    pitch_in: u64,
    pitch_out: u64,
    lines: u64,
    /// Bytes read per line.
    src_line: u64,
    /// Bytes written per line.
    dst_line: u64,
    remap: Option<Remap>,
    /// Whether the source is read at all (a constant fill does not read it).
    reads_src: bool,
}

/// A validated semaphore release.
#[derive(Clone, Copy, Debug)]
struct Release {
    va: u64,
    payload: u64,
    two_words: bool,
    four_words: bool,
    /// (reduction opcode, signed)
    reduction: Option<(u32, bool)>,
}

impl CopyEngine {
    fn reg(&self, method: u32) -> u32 {
        self.regs[(method / 4) as usize]
    }

    fn va(&self, upper: u32, lower: u32) -> u64 {
        (u64::from(self.reg(upper) & 0x1_ffff) << 32) | u64::from(self.reg(lower))
    }

    fn plan_transfer(&self, data: u32) -> Result<Option<Transfer>, String> {
        match field(data, launch::DATA_TRANSFER_TYPE) {
            0 => return Ok(None),
            1 | 2 => {}
            _ => return Err("DATA_TRANSFER_TYPE 3 is not defined".into()),
        }
        if field(data, launch::SRC_MEMORY_LAYOUT) == 0 {
            return Err("SRC_MEMORY_LAYOUT BLOCKLINEAR: block-linear layout not modelled".into());
        }
        if field(data, launch::DST_MEMORY_LAYOUT) == 0 {
            return Err("DST_MEMORY_LAYOUT BLOCKLINEAR: block-linear layout not modelled".into());
        }
        if field(data, launch::SRC_TYPE) != 0 {
            return Err("SRC_TYPE PHYSICAL: physical addressing not modelled".into());
        }
        if field(data, launch::DST_TYPE) != 0 {
            return Err("DST_TYPE PHYSICAL: physical addressing not modelled".into());
        }
        let len = u64::from(self.reg(mthd::LINE_LENGTH_IN));
        let multi = field(data, launch::MULTI_LINE_ENABLE) != 0;
        let lines = if multi {
            u64::from(self.reg(mthd::LINE_COUNT))
        } else {
            1
        };
        let remap = if field(data, launch::REMAP_ENABLE) != 0 {
            Some(self.remap()?)
        } else {
            None
        };
        let (src_line, dst_line) = match &remap {
            Some(r) => (len * r.src_elem() as u64, len * r.dst_elem() as u64),
            None => (len, len),
        };
        let t = Transfer {
            src: self.va(mthd::OFFSET_IN_UPPER, mthd::OFFSET_IN_LOWER),
            dst: self.va(mthd::OFFSET_OUT_UPPER, mthd::OFFSET_OUT_LOWER),
            pitch_in: if multi {
                u64::from(self.reg(mthd::PITCH_IN))
            } else {
                0
            },
            pitch_out: if multi {
                u64::from(self.reg(mthd::PITCH_OUT))
            } else {
                0
            },
            lines,
            src_line,
            dst_line,
            remap,
            reads_src: remap.is_none_or(|r| r.reads_src()),
        };
        if t.lines == 0 || t.dst_line == 0 {
            return Ok(Some(t));
        }
        let total_in = if t.reads_src {
            src_line.saturating_mul(lines)
        } else {
            0
        };
        let total_out = dst_line.saturating_mul(lines);
        if total_in > MAX_LAUNCH_BYTES || total_out > MAX_LAUNCH_BYTES {
            return Err(format!(
                "LINE_LENGTH_IN x LINE_COUNT: {total_out} bytes out, {total_in} in; \
                 a launch is capped at {MAX_LAUNCH_BYTES} bytes each way"
            ));
        }
        let end = |base: u64, pitch: u64, line: u64| {
            (lines - 1)
                .checked_mul(pitch)
                .and_then(|o| o.checked_add(line))
                .and_then(|o| o.checked_add(base))
        };
        if t.reads_src && end(t.src, t.pitch_in, src_line).is_none() {
            return Err("OFFSET_IN + PITCH_IN x LINE_COUNT overflows 64 bits".into());
        }
        if end(t.dst, t.pitch_out, dst_line).is_none() {
            return Err("OFFSET_OUT + PITCH_OUT x LINE_COUNT overflows 64 bits".into());
        }
        Ok(Some(t))
    }

    fn remap(&self) -> Result<Remap, String> {
        let v = self.reg(mthd::SET_REMAP_COMPONENTS);
        let r = Remap {
            comp: field(v, (17, 16)) as usize + 1,
            nsrc: field(v, (21, 20)) as usize + 1,
            ndst: field(v, (25, 24)) as usize + 1,
            sel: [
                field(v, (2, 0)) as u8,
                field(v, (6, 4)) as u8,
                field(v, (10, 8)) as u8,
                field(v, (14, 12)) as u8,
            ],
            const_a: self.reg(mthd::SET_REMAP_CONST_A),
            const_b: self.reg(mthd::SET_REMAP_CONST_B),
        };
        for (k, &s) in r.sels().iter().enumerate() {
            let name = ["DST_X", "DST_Y", "DST_Z", "DST_W"][k];
            if s > SEL_NO_WRITE {
                return Err(format!("SET_REMAP_COMPONENTS {name} = {s} is not defined"));
            }
            if s < SEL_CONST_A && usize::from(s) >= r.nsrc {
                return Err(format!(
                    "SET_REMAP_COMPONENTS {name} = SRC_{} but NUM_SRC_COMPONENTS is {}",
                    ["X", "Y", "Z", "W"][usize::from(s)],
                    r.nsrc
                ));
            }
        }
        Ok(r)
    }

    fn plan_release(&self, data: u32) -> Result<Option<Release>, String> {
        let four_words = match field(data, launch::SEMAPHORE_TYPE) {
            0 => return Ok(None),
            1 => false,
            2 => true,
            _ => return Err("SEMAPHORE_TYPE CONDITIONAL_INTR not modelled".into()),
        };
        let two_words = field(data, launch::SEMAPHORE_PAYLOAD_SIZE) != 0;
        let lo = u64::from(self.reg(mthd::SET_SEMAPHORE_PAYLOAD));
        let hi = u64::from(self.reg(mthd::SET_SEMAPHORE_PAYLOAD_UPPER));
        let reduction = if field(data, launch::SEMAPHORE_REDUCTION_ENABLE) != 0 {
            let op = field(data, launch::SEMAPHORE_REDUCTION);
            let signed = field(data, launch::SEMAPHORE_REDUCTION_SIGN) == 0;
            if four_words {
                return Err("SEMAPHORE_REDUCTION with RELEASE_FOUR_WORD not modelled".into());
            }
            match op {
                0..=4 => {}
                5 if !(signed && two_words) => {}
                6 | 7 if !signed && !two_words => {}
                5..=7 => {
                    return Err(format!(
                        "SEMAPHORE_REDUCTION {op} is not supported {} with a {}-bit payload",
                        if signed { "SIGNED" } else { "UNSIGNED" },
                        if two_words { 64 } else { 32 }
                    ))
                }
                _ => return Err(format!("SEMAPHORE_REDUCTION {op:#x} not modelled")),
            }
            Some((op, signed))
        } else {
            None
        };
        Ok(Some(Release {
            va: self.va(mthd::SET_SEMAPHORE_A, mthd::SET_SEMAPHORE_B),
            payload: if two_words { (hi << 32) | lo } else { lo },
            two_words,
            four_words,
            reduction,
        }))
    }

    fn launch(&mut self, mem: &mut dyn ChannelMemory, data: u32) -> Result<Effects, EngineError> {
        let bad = |why: String| EngineError::BadArgument {
            method: mthd::LAUNCH_DMA,
            data,
            why,
        };
        let transfer = self.plan_transfer(data).map_err(bad)?;
        let release = self.plan_release(data).map_err(bad)?;
        let interrupt = match field(data, launch::INTERRUPT_TYPE) {
            0 => false,
            1 | 2 => true,
            _ => return Err(bad("INTERRUPT_TYPE 3 is not defined".into())),
        };
        let mut fx = Effects::default();
        if let Some(t) = transfer {
            fx.bytes = self.run(mem, &t)?;
        }
        if let Some(r) = release {
            release_semaphore(mem, &r)?;
        }
        fx.nonstall_interrupt = interrupt;
        Ok(fx)
    }

    /// Runs a transfer; returns the bytes written.
    fn run(&mut self, mem: &mut dyn ChannelMemory, t: &Transfer) -> Result<u64, EngineError> {
        if t.lines == 0 || t.dst_line == 0 {
            return Ok(0);
        }
        let mut buf = std::mem::take(&mut self.buf);
        if buf.len() < CHUNK {
            buf.resize(CHUNK, 0);
        }
        let r = match t.remap {
            None => copy_lines(mem, t, &mut buf),
            Some(r) => match r.const_elem() {
                Some(elem) => fill_lines(mem, t, &elem, &mut buf),
                None => remap_lines(mem, t, &r, &mut buf),
            },
        };
        self.buf = buf;
        r.map_err(EngineError::Fault)?;
        Ok(t.dst_line * t.lines)
    }
}

/// A transfer's lines as (count, bytes read per line, bytes written per line); lines that
/// are back to back on both sides (or on the destination, if the source is not read) are
/// merged into one.
fn line_starts(t: &Transfer) -> (u64, u64, u64) {
    let src_packed = !t.reads_src || t.pitch_in == t.src_line;
    if t.lines == 1 || (src_packed && t.pitch_out == t.dst_line) {
        (1, t.src_line * t.lines, t.dst_line * t.lines)
    } else {
        (t.lines, t.src_line, t.dst_line)
    }
}

fn copy_lines(
    mem: &mut dyn ChannelMemory,
    t: &Transfer,
    buf: &mut [u8],
) -> Result<(), super::MemFault> {
    let (lines, len, _) = line_starts(t);
    for i in 0..lines {
        let mut src = t.src + i * t.pitch_in;
        let mut dst = t.dst + i * t.pitch_out;
        let mut left = len;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            mem.read(src, &mut buf[..n])?;
            mem.write(dst, &buf[..n])?;
            src += n as u64;
            dst += n as u64;
            left -= n as u64;
        }
    }
    Ok(())
}

fn fill_lines(
    mem: &mut dyn ChannelMemory,
    t: &Transfer,
    elem: &[u8],
    buf: &mut [u8],
) -> Result<(), super::MemFault> {
    let (lines, _, len) = line_starts(t);
    // A whole number of elements, so every run starts on an element boundary.
    let run = buf.len() / elem.len() * elem.len();
    let buf = &mut buf[..run];
    for chunk in buf.chunks_exact_mut(elem.len()) {
        chunk.copy_from_slice(elem);
    }
    for i in 0..lines {
        let mut dst = t.dst + i * t.pitch_out;
        let mut left = len;
        while left > 0 {
            let n = left.min(run as u64) as usize;
            mem.write(dst, &buf[..n])?;
            dst += n as u64;
            left -= n as u64;
        }
    }
    Ok(())
}

fn remap_lines(
    mem: &mut dyn ChannelMemory,
    t: &Transfer,
    r: &Remap,
    buf: &mut [u8],
) -> Result<(), super::MemFault> {
    let (se, de) = (r.src_elem(), r.dst_elem());
    let (lines, _, dst_len) = line_starts(t);
    let elems = dst_len / de as u64;
    // Per run: `per` source elements in the first half of `buf`, destination in the second.
    let per = (buf.len() / 2 / se.max(de)) as u64;
    let (sbuf, dbuf) = buf.split_at_mut(buf.len() / 2);
    let (reads_src, reads_dst) = (r.reads_src(), r.reads_dst());
    for i in 0..lines {
        let mut src = t.src + i * t.pitch_in;
        let mut dst = t.dst + i * t.pitch_out;
        let mut left = elems;
        while left > 0 {
            let n = left.min(per) as usize;
            let (s, d) = (&mut sbuf[..n * se], &mut dbuf[..n * de]);
            if reads_src {
                mem.read(src, s)?;
            }
            if reads_dst {
                mem.read(dst, d)?;
            }
            for (se_bytes, de_bytes) in s.chunks_exact(se).zip(d.chunks_exact_mut(de)) {
                r.apply(se_bytes, de_bytes);
            }
            mem.write(dst, d)?;
            src += (n * se) as u64;
            dst += (n * de) as u64;
            left -= n as u64;
        }
    }
    Ok(())
}

fn reduce(op: u32, signed: bool, two_words: bool, v: u64, p: u64) -> u64 {
    // Compare as the payload's width and signedness.
    let key = |x: u64| -> i128 {
        match (two_words, signed) {
            (false, false) => i128::from(x as u32),
            (false, true) => i128::from(x as u32 as i32),
            (true, false) => i128::from(x),
            (true, true) => i128::from(x as i64),
        }
    };
    let r = match op {
        0 => {
            if key(v) < key(p) {
                v
            } else {
                p
            }
        }
        1 => {
            if key(v) > key(p) {
                v
            } else {
                p
            }
        }
        2 => v ^ p,
        3 => v & p,
        4 => v | p,
        5 => v.wrapping_add(p),
        // INC and DEC: 32-bit unsigned only (checked at planning).
        6 => {
            if v >= p {
                0
            } else {
                v + 1
            }
        }
        _ => {
            if v == 0 || v > p {
                p
            } else {
                v - 1
            }
        }
    };
    if two_words {
        r
    } else {
        r & 0xffff_ffff
    }
}

fn release_semaphore(mem: &mut dyn ChannelMemory, r: &Release) -> Result<(), EngineError> {
    let width = if r.two_words { 8 } else { 4 };
    if r.four_words {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&r.payload.to_le_bytes());
        b[8..].copy_from_slice(&mem.timestamp_ns().to_le_bytes());
        return mem.write(r.va, &b).map_err(EngineError::Fault);
    }
    let value = match r.reduction {
        None => r.payload,
        Some((op, signed)) => {
            let mut old = [0u8; 8];
            mem.read(r.va, &mut old[..width])
                .map_err(EngineError::Fault)?;
            reduce(op, signed, r.two_words, u64::from_le_bytes(old), r.payload)
        }
    };
    mem.write(r.va, &value.to_le_bytes()[..width])
        .map_err(EngineError::Fault)
}

impl Engine for CopyEngine {
    fn class(&self) -> u32 {
        CLASS
    }

    fn method(
        &mut self,
        mem: &mut dyn ChannelMemory,
        method: u32,
        data: u32,
    ) -> Result<Effects, EngineError> {
        check_method(METHODS, method, data)?;
        self.regs[(method / 4) as usize] = data;
        if method == mthd::LAUNCH_DMA {
            return self.launch(mem, data);
        }
        Ok(Effects::default())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testmem::FakeMem;
    use super::super::MemFault;
    use super::*;

    const BASE: u64 = 0x1_0000_0000;

    /// LAUNCH_DMA: PIPELINED, both pitch-linear, virtual.
    const COPY: u32 = 1 | (1 << 7) | (1 << 8);
    const MULTI: u32 = 1 << 9;
    const REMAP: u32 = 1 << 10;
    const SEM_ONE: u32 = 1 << 3;
    const SEM_FOUR: u32 = 2 << 3;
    const INTR_NON_BLOCKING: u32 = 2 << 5;
    const PAYLOAD_64: u32 = 1 << 27;

    fn m(ce: &mut CopyEngine, mem: &mut FakeMem, method: u32, data: u32) -> Effects {
        ce.method(mem, method, data).expect("method")
    }

    fn set_io(ce: &mut CopyEngine, mem: &mut FakeMem, src: u64, dst: u64) {
        m(ce, mem, mthd::OFFSET_IN_UPPER, (src >> 32) as u32);
        m(ce, mem, mthd::OFFSET_IN_LOWER, src as u32);
        m(ce, mem, mthd::OFFSET_OUT_UPPER, (dst >> 32) as u32);
        m(ce, mem, mthd::OFFSET_OUT_LOWER, dst as u32);
    }

    fn set_sem(ce: &mut CopyEngine, mem: &mut FakeMem, va: u64, lo: u32, hi: u32) {
        m(ce, mem, mthd::SET_SEMAPHORE_A, (va >> 32) as u32);
        m(ce, mem, mthd::SET_SEMAPHORE_B, va as u32);
        m(ce, mem, mthd::SET_SEMAPHORE_PAYLOAD, lo);
        m(ce, mem, mthd::SET_SEMAPHORE_PAYLOAD_UPPER, hi);
    }

    fn pattern(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn remap_components(sel: [u32; 4], comp: u32, nsrc: u32, ndst: u32) -> u32 {
        sel[0]
            | (sel[1] << 4)
            | (sel[2] << 8)
            | (sel[3] << 12)
            | ((comp - 1) << 16)
            | ((nsrc - 1) << 20)
            | ((ndst - 1) << 24)
    }

    #[test]
    fn class_and_factory() {
        assert_eq!(CopyEngine::default().class(), 0xc7b5);
        assert_eq!(super::super::new_engine(0xc7b5).unwrap().class(), 0xc7b5);
    }

    #[test]
    fn copy_1d() {
        let mut mem = FakeMem::new(BASE, 0x4000);
        let data = pattern(1000, 7);
        mem.poke(BASE + 0x10, &data);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE + 0x10, BASE + 0x2003);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 1000);
        // LINE_COUNT and the pitches do not matter without MULTI_LINE_ENABLE.
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 5);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 7);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY);
        assert_eq!(mem.peek(BASE + 0x2003, 1000), &data[..]);
        assert_eq!(mem.peek(BASE + 0x2003 + 1000, 1), &[0]);
        assert_eq!(mem.peek(BASE + 0x2002, 1), &[0]);
        assert_eq!(
            fx,
            Effects {
                nonstall_interrupt: false,
                bytes: 1000
            }
        );
    }

    #[test]
    fn copy_multi_line_with_pitches() {
        let mut mem = FakeMem::new(BASE, 0x10000);
        let src = pattern(0x1000, 3);
        mem.poke(BASE, &src);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE + 4, BASE + 0x8000);
        m(&mut ce, &mut mem, mthd::PITCH_IN, 100);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 64);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 40);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 7);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | MULTI);
        assert_eq!(fx.bytes, 280);
        for l in 0..7usize {
            let out = BASE + 0x8000 + 64 * l as u64;
            assert_eq!(
                mem.peek(out, 40),
                &src[4 + 100 * l..4 + 100 * l + 40],
                "line {l}"
            );
            // The gap between lines is untouched.
            assert_eq!(mem.peek(out + 40, 24), &[0; 24], "gap {l}");
        }
        assert_eq!(mem.peek(BASE + 0x8000 + 7 * 64, 64), &[0; 64]);
    }

    #[test]
    fn multi_line_zero_count_copies_nothing() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE, &[9; 16]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x800);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 16);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 0);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | MULTI);
        assert_eq!(fx.bytes, 0);
        assert_eq!(mem.peek(BASE + 0x800, 16), &[0; 16]);
    }

    #[test]
    fn copy_8mib_in_large_runs() {
        let len = 8 << 20;
        let mut mem = FakeMem::new(BASE, 2 * len + 0x1000);
        let src = pattern(len, 11);
        mem.poke(BASE, &src);
        let mut ce = CopyEngine::default();
        let dst = BASE + len as u64 + 0x1000;
        set_io(&mut ce, &mut mem, BASE, dst);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, len as u32);
        let (r0, w0) = (mem.reads, mem.writes);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY);
        assert_eq!(fx.bytes, len as u64);
        assert!(mem.peek(dst, len) == &src[..], "8 MiB copy differs");
        // One read and one write per run, not per byte or word.
        assert_eq!(mem.reads - r0, len / CHUNK);
        assert_eq!(mem.writes - w0, len / CHUNK);
    }

    #[test]
    fn contiguous_multi_line_is_one_run() {
        let mut mem = FakeMem::new(BASE, 0x10000);
        let src = pattern(0x4000, 5);
        mem.poke(BASE, &src);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x8000);
        m(&mut ce, &mut mem, mthd::PITCH_IN, 0x100);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 0x100);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 0x100);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 0x40);
        let w0 = mem.writes;
        m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | MULTI);
        assert_eq!(mem.writes - w0, 1);
        assert_eq!(mem.peek(BASE + 0x8000, 0x4000), &src[..]);
    }

    fn fill(ce: &mut CopyEngine, mem: &mut FakeMem, dst: u64, value: u32, elems: u32) -> Effects {
        set_io(ce, mem, 0, dst);
        m(ce, mem, mthd::SET_REMAP_CONST_A, value);
        m(
            ce,
            mem,
            mthd::SET_REMAP_COMPONENTS,
            remap_components([4, 0, 0, 0], 4, 1, 1),
        );
        m(ce, mem, mthd::LINE_LENGTH_IN, elems);
        m(ce, mem, mthd::LAUNCH_DMA, COPY | REMAP)
    }

    #[test]
    fn constant_fill_const_a() {
        let mut mem = FakeMem::new(BASE, 0x100000);
        let mut ce = CopyEngine::default();
        // More than one run, and not a whole number of runs.
        let elems = (CHUNK / 4 + 1) as u32;
        let fx = fill(&mut ce, &mut mem, BASE + 8, 0xdead_beef, elems);
        assert_eq!(fx.bytes, u64::from(elems) * 4);
        for i in 0..u64::from(elems) {
            assert_eq!(mem.u32_at(BASE + 8 + 4 * i), 0xdead_beef, "element {i}");
        }
        assert_eq!(mem.u32_at(BASE + 4), 0);
        assert_eq!(mem.u32_at(BASE + 8 + 4 * u64::from(elems)), 0);
    }

    #[test]
    fn constant_fill_does_not_read_the_source() {
        // OFFSET_IN is 0, outside the window: a fill must not fault on it.
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        let r0 = mem.reads;
        fill(&mut ce, &mut mem, BASE, 0x0102_0304, 16);
        assert_eq!(mem.reads, r0);
        assert_eq!(mem.peek(BASE, 8), &[4, 3, 2, 1, 4, 3, 2, 1]);
    }

    #[test]
    fn packed_multi_line_fill_ignores_the_source_side() {
        let mut mem = FakeMem::new(BASE, 0x10000);
        let mut ce = CopyEngine::default();
        // A source address and pitch that would overflow if the fill read them.
        set_io(&mut ce, &mut mem, 0x1_ffff_ffff_ffff, BASE);
        m(&mut ce, &mut mem, mthd::PITCH_IN, u32::MAX);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 0x100);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 0x40);
        m(&mut ce, &mut mem, mthd::SET_REMAP_CONST_A, 0x0607_0809);
        let rc = remap_components([4, 0, 0, 0], 4, 1, 1);
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 0x40);
        let w0 = mem.writes;
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | MULTI | REMAP);
        assert_eq!(fx.bytes, 0x4000);
        assert_eq!(mem.writes - w0, 1, "back-to-back lines are one run");
        assert!((0..0x1000).all(|i| mem.u32_at(BASE + 4 * i) == 0x0607_0809));
        assert_eq!(mem.u32_at(BASE + 0x4000), 0);
    }

    #[test]
    fn multi_line_fill_with_const_b_pairs() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, 0, BASE);
        m(&mut ce, &mut mem, mthd::SET_REMAP_CONST_A, 0x1111_2222);
        m(&mut ce, &mut mem, mthd::SET_REMAP_CONST_B, 0x3333_4444);
        // Two 2-byte components per element: (CONST_B, CONST_A).
        let rc = remap_components([5, 4, 0, 0], 2, 1, 2);
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 3);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 2);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 16);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | MULTI | REMAP);
        assert_eq!(fx.bytes, 24);
        for line in 0..2u64 {
            for e in 0..3u64 {
                assert_eq!(mem.u32_at(BASE + 16 * line + 4 * e), 0x2222_4444);
            }
            assert_eq!(mem.u32_at(BASE + 16 * line + 12), 0);
        }
    }

    #[test]
    fn general_remap_swizzle_and_no_write() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        // Source: 3 elements of 4 one-byte components each.
        mem.poke(BASE, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        mem.poke(BASE + 0x100, &[0xee; 12]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x100);
        m(&mut ce, &mut mem, mthd::SET_REMAP_CONST_A, 0x77);
        // dst = (SRC_W, NO_WRITE, CONST_A, SRC_Y)
        let rc = remap_components([3, 6, 4, 1], 1, 4, 4);
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 3);
        m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | REMAP);
        assert_eq!(
            mem.peek(BASE + 0x100, 12),
            &[4, 0xee, 0x77, 2, 8, 0xee, 0x77, 6, 12, 0xee, 0x77, 10]
        );
    }

    #[test]
    fn remap_narrowing_to_one_component() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        // Two elements of two 3-byte components; keep SRC_Y.
        mem.poke(BASE, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x100);
        let rc = remap_components([1, 0, 0, 0], 3, 2, 1);
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 2);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | REMAP);
        assert_eq!(fx.bytes, 6);
        assert_eq!(mem.peek(BASE + 0x100, 7), &[4, 5, 6, 10, 11, 12, 0]);
    }

    #[test]
    fn remap_refuses_missing_source_component() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x100);
        let rc = remap_components([2, 0, 0, 0], 4, 2, 1); // SRC_Z of 2 components
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 1);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, COPY | REMAP);
        assert!(
            matches!(&e, Err(EngineError::BadArgument { why, .. }) if why.contains("DST_X")),
            "{e:?}"
        );
    }

    #[test]
    fn semaphore_one_word() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE + 0x40, &[0xff; 8]);
        let mut ce = CopyEngine::default();
        set_sem(&mut ce, &mut mem, BASE + 0x40, 0x1234_5678, 0x9abc_def0);
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, SEM_ONE);
        assert_eq!(fx, Effects::default());
        assert_eq!(mem.u32_at(BASE + 0x40), 0x1234_5678);
        // A one-word payload writes 4 bytes only.
        assert_eq!(mem.u32_at(BASE + 0x44), 0xffff_ffff);
    }

    #[test]
    fn semaphore_one_word_64bit_payload() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_sem(&mut ce, &mut mem, BASE + 0x48, 0x1234_5678, 0x9abc_def0);
        m(&mut ce, &mut mem, mthd::LAUNCH_DMA, SEM_ONE | PAYLOAD_64);
        assert_eq!(mem.u64_at(BASE + 0x48), 0x9abc_def0_1234_5678);
    }

    #[test]
    fn semaphore_four_word_with_timestamp() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE + 0x80, &[0xff; 16]);
        mem.now = 0x0123_4567_89ab_cdef;
        let mut ce = CopyEngine::default();
        set_sem(&mut ce, &mut mem, BASE + 0x80, 0xcafe_f00d, 0x5555_aaaa);
        m(&mut ce, &mut mem, mthd::LAUNCH_DMA, SEM_FOUR);
        assert_eq!(mem.u32_at(BASE + 0x80), 0xcafe_f00d);
        assert_eq!(
            mem.u32_at(BASE + 0x84),
            0,
            "32-bit payload is zero-extended"
        );
        assert_eq!(mem.u64_at(BASE + 0x88), 0x0123_4567_89ab_cdef);

        m(&mut ce, &mut mem, mthd::LAUNCH_DMA, SEM_FOUR | PAYLOAD_64);
        assert_eq!(mem.u64_at(BASE + 0x80), 0x5555_aaaa_cafe_f00d);
        assert_eq!(mem.u64_at(BASE + 0x88), 0x0123_4567_89ab_cdef);
    }

    #[test]
    fn semaphore_reductions() {
        let red = |op: u32, unsigned: bool| {
            SEM_ONE | (op << 14) | (u32::from(unsigned) << 18) | (1 << 19)
        };
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        let va = BASE + 0x100;
        let mut run = |mem: &mut FakeMem, old: u32, payload: u32, launch: u32| {
            mem.put_u32(va, old);
            set_sem(&mut ce, mem, va, payload, 0);
            m(&mut ce, mem, mthd::LAUNCH_DMA, launch);
            mem.u32_at(va)
        };
        assert_eq!(run(&mut mem, 5, 0xffff_fffe, red(0, false)), 0xffff_fffe); // signed min(5, -2)
        assert_eq!(run(&mut mem, 5, 0xffff_fffe, red(0, true)), 5); // unsigned min
        assert_eq!(run(&mut mem, 5, 9, red(1, true)), 9); // IMAX
        assert_eq!(run(&mut mem, 0b1100, 0b1010, red(2, true)), 0b0110); // IXOR
        assert_eq!(run(&mut mem, 0b1100, 0b1010, red(3, true)), 0b1000); // IAND
        assert_eq!(run(&mut mem, 0b1100, 0b1010, red(4, true)), 0b1110); // IOR
        assert_eq!(run(&mut mem, 0xffff_ffff, 2, red(5, true)), 1); // IADD wraps
        assert_eq!(run(&mut mem, 3, 5, red(6, true)), 4); // INC
        assert_eq!(run(&mut mem, 5, 5, red(6, true)), 0); // INC wraps at payload
        assert_eq!(run(&mut mem, 3, 5, red(7, true)), 2); // DEC
        assert_eq!(run(&mut mem, 0, 5, red(7, true)), 5); // DEC wraps to payload
                                                          // Signed INC is not a supported combination.
        set_sem(&mut ce, &mut mem, va, 1, 0);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, red(6, false));
        assert!(matches!(e, Err(EngineError::BadArgument { .. })), "{e:?}");
    }

    #[test]
    fn interrupt_after_copy_and_semaphore() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE, &[1, 2, 3, 4]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x10);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 4);
        set_sem(&mut ce, &mut mem, BASE + 0x20, 42, 0);
        for intr in [1u32 << 5, INTR_NON_BLOCKING] {
            let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY | SEM_ONE | intr);
            assert!(fx.nonstall_interrupt);
            assert_eq!(fx.bytes, 4);
            assert_eq!(mem.peek(BASE + 0x10, 4), &[1, 2, 3, 4]);
            assert_eq!(mem.u32_at(BASE + 0x20), 42);
        }
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, SEM_ONE);
        assert!(!fx.nonstall_interrupt);
    }

    #[test]
    fn transfer_none_does_not_copy() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE, &[1, 2, 3, 4]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x10);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 4);
        // Layout bits say block-linear, which only matters when copying.
        let fx = m(&mut ce, &mut mem, mthd::LAUNCH_DMA, INTR_NON_BLOCKING);
        assert_eq!(fx.bytes, 0);
        assert!(fx.nonstall_interrupt);
        assert_eq!(mem.peek(BASE + 0x10, 4), &[0; 4]);
    }

    #[test]
    fn fault_mid_copy_stops_everything_after_it() {
        let len = 3 * CHUNK;
        let mut mem = FakeMem::new(BASE, 2 * len + 0x10000);
        let src = pattern(len, 13);
        mem.poke(BASE, &src);
        let dst = BASE + len as u64 + 0x1000;
        // An unmapped page in the second run of the destination.
        let hole = dst + CHUNK as u64 + 0x3000;
        mem.hole = Some(hole..hole + 0x1000);
        let sem = BASE + 2 * len as u64 + 0x8000;
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, dst);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, len as u32);
        set_sem(&mut ce, &mut mem, sem, 7, 0);
        let e = ce.method(
            &mut mem,
            mthd::LAUNCH_DMA,
            COPY | SEM_ONE | INTR_NON_BLOCKING,
        );
        assert_eq!(
            e,
            Err(EngineError::Fault(MemFault {
                va: hole,
                write: true
            }))
        );
        // The first run landed; nothing from the faulting run on did.
        assert_eq!(mem.peek(dst, CHUNK), &src[..CHUNK]);
        assert!(mem
            .peek(dst + CHUNK as u64, 2 * CHUNK)
            .iter()
            .all(|&b| b == 0));
        assert_eq!(mem.u32_at(sem), 0, "no semaphore after a fault");
    }

    #[test]
    fn fault_on_read_and_on_semaphore() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE + 0xff0, BASE);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 0x20);
        set_sem(&mut ce, &mut mem, BASE + 0x100, 1, 0);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, COPY | SEM_ONE);
        assert_eq!(
            e,
            Err(EngineError::Fault(MemFault {
                va: BASE + 0x1000,
                write: false
            }))
        );
        assert_eq!(mem.u32_at(BASE + 0x100), 0);

        set_sem(&mut ce, &mut mem, BASE + 0x2000, 1, 0);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, SEM_FOUR);
        assert_eq!(
            e,
            Err(EngineError::Fault(MemFault {
                va: BASE + 0x2000,
                write: true
            }))
        );
    }

    #[test]
    fn bad_methods() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        for method in [
            0x0, 0x104, 0x250, 0x304, 0x420, 0x724, 0x740, 0x1110, 0x1118, 0x402,
        ] {
            assert_eq!(
                ce.method(&mut mem, method, 5),
                Err(EngineError::BadMethod { method, data: 5 }),
                "{method:#x}"
            );
        }
        // Known but not modelled: stored, no effect.
        for method in [
            mthd::NOP,
            mthd::PM_TRIGGER,
            mthd::SET_RENDER_ENABLE_C,
            mthd::SET_SRC_PHYS_MODE,
            mthd::SET_DST_PHYS_MODE,
            mthd::SET_DST_BLOCK_SIZE,
            0x738,
            0x750,
            mthd::PM_TRIGGER_END,
        ] {
            assert_eq!(ce.method(&mut mem, method, 5), Ok(Effects::default()));
        }
        assert_eq!(mem.writes, 0);
    }

    #[test]
    fn refused_launches_touch_nothing() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        mem.poke(BASE, &[1; 16]);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x100);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 16);
        set_sem(&mut ce, &mut mem, BASE + 0x200, 1, 0);
        let cases = [
            (1 | (1 << 8), "SRC_MEMORY_LAYOUT"),
            (1 | (1 << 7), "DST_MEMORY_LAYOUT"),
            (COPY | (1 << 12), "SRC_TYPE"),
            (COPY | (1 << 13), "DST_TYPE"),
            (COPY | 2, "DATA_TRANSFER_TYPE"),
            (COPY | (3 << 3), "CONDITIONAL_INTR"),
            (COPY | (3 << 5), "INTERRUPT_TYPE"),
            (COPY | SEM_FOUR | (1 << 19), "RELEASE_FOUR_WORD"),
            (
                COPY | SEM_ONE | (1 << 19) | (0xa << 14),
                "SEMAPHORE_REDUCTION",
            ),
        ];
        for (launch, name) in cases {
            match ce.method(&mut mem, mthd::LAUNCH_DMA, launch) {
                Err(EngineError::BadArgument { method, data, why }) => {
                    assert_eq!((method, data), (mthd::LAUNCH_DMA, launch));
                    assert!(why.contains(name), "{why:?} should name {name}");
                }
                other => panic!("{launch:#x}: {other:?}"),
            }
        }
        assert_eq!(mem.writes, 0);
        assert!(mem.peek(BASE + 0x100, 0x200).iter().all(|&b| b == 0));
    }

    #[test]
    fn block_linear_named() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 16);
        match ce.method(&mut mem, mthd::LAUNCH_DMA, 1 | (1 << 7)) {
            Err(EngineError::BadArgument { why, .. }) => {
                assert!(why.contains("block-linear layout not modelled"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_and_overflowing_launches_are_refused() {
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x100);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 0x1000_0000);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 17); // 4.25 GiB
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, COPY | MULTI);
        assert!(matches!(e, Err(EngineError::BadArgument { .. })), "{e:?}");
        // A 4-component, 4-byte fill of u32::MAX elements: 64 GiB out.
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, u32::MAX);
        let rc = remap_components([4, 4, 4, 4], 4, 1, 4);
        m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, COPY | REMAP);
        assert!(matches!(e, Err(EngineError::BadArgument { .. })), "{e:?}");
        // Pitches that run past the top of the address space.
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 1);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, u32::MAX);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, u32::MAX);
        m(&mut ce, &mut mem, mthd::OFFSET_OUT_UPPER, 0x1_ffff);
        m(&mut ce, &mut mem, mthd::OFFSET_OUT_LOWER, u32::MAX);
        let e = ce.method(&mut mem, mthd::LAUNCH_DMA, COPY | MULTI);
        assert!(matches!(e, Err(EngineError::BadArgument { .. })), "{e:?}");
        assert_eq!(mem.writes, 0);
    }

    #[test]
    fn no_panic_on_any_launch_word() {
        // Sweep every field combination of LAUNCH_DMA's low bits with odd state.
        let mut mem = FakeMem::new(BASE, 0x1000);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + 0x800);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, 3);
        m(&mut ce, &mut mem, mthd::LINE_COUNT, 2);
        m(&mut ce, &mut mem, mthd::PITCH_IN, 5);
        m(&mut ce, &mut mem, mthd::PITCH_OUT, 0);
        set_sem(&mut ce, &mut mem, BASE + 0x10, 1, 2);
        for rc in [0u32, u32::MAX, 0x0333_3333, 0x0130_6543] {
            m(&mut ce, &mut mem, mthd::SET_REMAP_COMPONENTS, rc);
            for low in 0..(1u32 << 14) {
                let _ = ce.method(&mut mem, mthd::LAUNCH_DMA, low);
                let _ = ce.method(&mut mem, mthd::LAUNCH_DMA, low | 0xfffc_0000);
            }
        }
    }

    /// Copy speed against `copy_from_slice` on the same buffers. Run with
    /// `cargo test --release -p vgpu engines::ce::tests::bench_copy_64mib -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_copy_64mib() {
        use std::time::Instant;
        let len = 64 << 20;
        let mut mem = FakeMem::new(BASE, 2 * len);
        let src = pattern(len, 17);
        mem.poke(BASE, &src);
        let mut ce = CopyEngine::default();
        set_io(&mut ce, &mut mem, BASE, BASE + len as u64);
        m(&mut ce, &mut mem, mthd::LINE_LENGTH_IN, len as u32);
        let mbs = |secs: f64| len as f64 / secs / 1e6;
        let (mut best_ce, mut best_host) = (f64::MAX, f64::MAX);
        for _ in 0..5 {
            let t = Instant::now();
            m(&mut ce, &mut mem, mthd::LAUNCH_DMA, COPY);
            best_ce = best_ce.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let (a, b) = mem.data.split_at_mut(len);
            b.copy_from_slice(a);
            std::hint::black_box(&mut mem.data);
            best_host = best_host.min(t.elapsed().as_secs_f64());
        }
        assert!(mem.peek(BASE + len as u64, len) == &src[..]);
        let mut fillce = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            fill(
                &mut ce,
                &mut mem,
                BASE + len as u64,
                0x5a5a_5a5a,
                (len / 4) as u32,
            );
            fillce = fillce.min(t.elapsed().as_secs_f64());
        }
        println!(
            "64 MiB copy: CE {:.0} MB/s, copy_from_slice {:.0} MB/s, ratio {:.2}; \
             CE fill {:.0} MB/s",
            mbs(best_ce),
            mbs(best_host),
            best_host / best_ce,
            mbs(fillce)
        );
    }
}
