// SPDX-License-Identifier: MIT
//! Push buffers: method headers and the methods of the host channel, the copy engine and the
//! 2D class that the render path uses.
//!
//! Every number here is from the project's GA102 facts sheet, which
//! cites NVIDIA's class headers: §11.2 method headers (`clc56f.h`), §11.3 host methods
//! (AMPERE_CHANNEL_GPFIFO_A, `clc56f.h`), §11.4 AMPERE_DMA_COPY_B (`clc7b5.h`), §11.5
//! FERMI_TWOD_A (`cl902d.h`).
//!
//! A [`Push`] is a list of 32-bit words; write it into a buffer mapped in the context's VM
//! ([`Push::write_to`]) and pass [`Push::range`] to EXEC. The engine classes must be bound to
//! a subchannel with SET_OBJECT by the push buffer itself ([`Push::set_object`]): after a
//! channel reset the new channel has no bindings, so every job here starts with one.

use crate::Mapping;
use nova_uapi::DrmNovaExecPush;

/// Subchannel this crate binds the copy class to (any of the 8 works, docs/facts/ga102.md §13 #14).
pub const SUBC_COPY: u32 = 4;
/// Subchannel this crate binds the 2D class to.
pub const SUBC_2D: u32 = 3;
/// Subchannel host methods are sent on (host methods work on any subchannel, docs/facts/ga102.md §11.2).
pub const SUBC_HOST: u32 = 0;
/// Number of subchannels (`NVC56F_NUMBER_OF_SUBCHANNELS`, docs/facts/ga102.md §11.2).
pub const SUBCHANNELS: u32 = 8;

/// Method header encodings, docs/facts/ga102.md §11.2 (`clc56f.h` L287–361).
pub mod header {
    /// SEC_OP (31:29) INC_METHOD: each data word goes to the next method.
    pub const SEC_OP_INC: u32 = 1;
    /// SEC_OP NON_INC_METHOD: every data word goes to the same method.
    pub const SEC_OP_NON_INC: u32 = 3;
    /// SEC_OP IMMD_DATA_METHOD: a 13-bit immediate in 28:16, no data words.
    pub const SEC_OP_IMMD: u32 = 4;
    /// SEC_OP ONE_INC: the first word to ADDRESS, the rest to ADDRESS + 1.
    pub const SEC_OP_ONE_INC: u32 = 5;
    /// SEC_OP END_PB_SEGMENT.
    pub const SEC_OP_END_PB_SEGMENT: u32 = 7;
    /// Largest COUNT (28:16, 13 bits) and immediate.
    pub const MAX_COUNT: u32 = (1 << 13) - 1;
    /// Largest method byte offset: ADDRESS (11:0) holds offset >> 2.
    pub const MAX_METHOD: u32 = 0xfff << 2;

    /// A header: SEC_OP 31:29, COUNT (or immediate) 28:16, SUBCHANNEL 15:13, ADDRESS 11:0 =
    /// the method's byte offset >> 2. Panics on a field that does not fit.
    pub const fn encode(sec_op: u32, count: u32, subc: u32, method: u32) -> u32 {
        assert!(sec_op < 8 && count <= MAX_COUNT && subc < 8);
        assert!(method.is_multiple_of(4) && method <= MAX_METHOD);
        (sec_op << 29) | (count << 16) | (subc << 13) | (method >> 2)
    }

    /// INC_METHOD header for `count` data words from `method` on `subc`.
    pub const fn inc(subc: u32, method: u32, count: u32) -> u32 {
        encode(SEC_OP_INC, count, subc, method)
    }

    /// NON_INC_METHOD header.
    pub const fn non_inc(subc: u32, method: u32, count: u32) -> u32 {
        encode(SEC_OP_NON_INC, count, subc, method)
    }

    /// IMMD_DATA_METHOD header carrying `data` (< 8192).
    pub const fn immd(subc: u32, method: u32, data: u32) -> u32 {
        encode(SEC_OP_IMMD, data, subc, method)
    }

    /// ONE_INC header.
    pub const fn one_inc(subc: u32, method: u32, count: u32) -> u32 {
        encode(SEC_OP_ONE_INC, count, subc, method)
    }
}

/// Host methods of AMPERE_CHANNEL_GPFIFO_A (0xC56F), docs/facts/ga102.md §11.3 (`clc56f.h` L67–262).
pub mod host {
    /// SET_OBJECT: NVCLASS 15:0, ENGINE 20:16.
    pub const SET_OBJECT: u32 = 0x0000;
    /// ILLEGAL.
    pub const ILLEGAL: u32 = 0x0004;
    /// NOP.
    pub const NOP: u32 = 0x0008;
    /// NON_STALL_INTERRUPT.
    pub const NON_STALL_INTERRUPT: u32 = 0x0020;
    /// SEM_ADDR_LO: OFFSET 31:2 (the VA's low word, 4-byte aligned).
    pub const SEM_ADDR_LO: u32 = 0x005c;
    /// SEM_ADDR_HI: OFFSET 7:0 (VA bits 39:32).
    pub const SEM_ADDR_HI: u32 = 0x0060;
    /// SEM_PAYLOAD_LO.
    pub const SEM_PAYLOAD_LO: u32 = 0x0064;
    /// SEM_PAYLOAD_HI.
    pub const SEM_PAYLOAD_HI: u32 = 0x0068;
    /// SEM_EXECUTE.
    pub const SEM_EXECUTE: u32 = 0x006c;
    /// WFI.
    pub const WFI: u32 = 0x0078;
    /// SEM_EXECUTE OPERATION (2:0) ACQUIRE: wait until the word equals the payload.
    pub const SEM_EXECUTE_OPERATION_ACQUIRE: u32 = 0;
    /// SEM_EXECUTE OPERATION RELEASE: write the payload.
    pub const SEM_EXECUTE_OPERATION_RELEASE: u32 = 1;
    /// SEM_EXECUTE OPERATION ACQ_STRICT_GEQ.
    pub const SEM_EXECUTE_OPERATION_ACQ_STRICT_GEQ: u32 = 2;
    /// SEM_EXECUTE ACQUIRE_SWITCH_TSG (bit 12) EN: while an acquire is not satisfied, let
    /// the scheduler run other channels.
    pub const SEM_EXECUTE_ACQUIRE_SWITCH_TSG_EN: u32 = 1 << 12;
    /// SEM_EXECUTE RELEASE_WFI (bit 20) EN: wait for the engine to idle before releasing
    /// (1 = enabled here; SEMAPHORED has the opposite polarity).
    pub const SEM_EXECUTE_RELEASE_WFI_EN: u32 = 1 << 20;
    /// SEM_EXECUTE PAYLOAD_SIZE (bit 24) 64BIT (0 is 32-bit).
    pub const SEM_EXECUTE_PAYLOAD_SIZE_64BIT: u32 = 1 << 24;
    /// Highest VA bit a host semaphore address holds (39:0).
    pub const SEM_VA_BITS: u32 = 40;
}

/// AMPERE_DMA_COPY_B (0xC7B5), docs/facts/ga102.md §11.4 (`clc7b5.h` L33–239).
pub mod ce {
    /// The class number.
    pub const CLASS: u32 = 0xc7b5;
    /// NOP.
    pub const NOP: u32 = 0x0100;
    /// SET_SEMAPHORE_A: UPPER 16:0 (VA bits 48:32).
    pub const SET_SEMAPHORE_A: u32 = 0x0240;
    /// SET_SEMAPHORE_B: LOWER 31:0.
    pub const SET_SEMAPHORE_B: u32 = 0x0244;
    /// SET_SEMAPHORE_PAYLOAD.
    pub const SET_SEMAPHORE_PAYLOAD: u32 = 0x0248;
    /// LAUNCH_DMA.
    pub const LAUNCH_DMA: u32 = 0x0300;
    /// OFFSET_IN_UPPER (16:0); OFFSET_IN_LOWER, OFFSET_OUT_UPPER, OFFSET_OUT_LOWER, PITCH_IN,
    /// PITCH_OUT, LINE_LENGTH_IN and LINE_COUNT follow, 4 bytes apart.
    pub const OFFSET_IN_UPPER: u32 = 0x0400;
    /// LINE_COUNT (the last of the block above).
    pub const LINE_COUNT: u32 = 0x041c;
    /// SET_REMAP_CONST_A.
    pub const SET_REMAP_CONST_A: u32 = 0x0700;
    /// SET_REMAP_COMPONENTS.
    pub const SET_REMAP_COMPONENTS: u32 = 0x0708;

    /// LAUNCH_DMA DATA_TRANSFER_TYPE (1:0) NONE.
    pub const LAUNCH_DATA_TRANSFER_NONE: u32 = 0;
    /// LAUNCH_DMA DATA_TRANSFER_TYPE NON_PIPELINED.
    pub const LAUNCH_DATA_TRANSFER_NON_PIPELINED: u32 = 2;
    /// LAUNCH_DMA FLUSH_ENABLE (bit 2).
    pub const LAUNCH_FLUSH_ENABLE: u32 = 1 << 2;
    /// LAUNCH_DMA SEMAPHORE_TYPE (4:3) RELEASE_ONE_WORD.
    pub const LAUNCH_SEMAPHORE_RELEASE_ONE_WORD: u32 = 1 << 3;
    /// LAUNCH_DMA SRC_MEMORY_LAYOUT (bit 7) PITCH.
    pub const LAUNCH_SRC_PITCH: u32 = 1 << 7;
    /// LAUNCH_DMA DST_MEMORY_LAYOUT (bit 8) PITCH.
    pub const LAUNCH_DST_PITCH: u32 = 1 << 8;
    /// LAUNCH_DMA MULTI_LINE_ENABLE (bit 9).
    pub const LAUNCH_MULTI_LINE: u32 = 1 << 9;
    /// LAUNCH_DMA REMAP_ENABLE (bit 10).
    pub const LAUNCH_REMAP_ENABLE: u32 = 1 << 10;
    /// SRC_TYPE (bit 12) and DST_TYPE (bit 13) are 0: VIRTUAL addresses.
    pub const LAUNCH_VIRTUAL: u32 = 0;

    /// SET_REMAP_COMPONENTS DST_X (2:0) = CONST_A (4).
    pub const REMAP_DST_X_CONST_A: u32 = 4;
    /// SET_REMAP_COMPONENTS COMPONENT_SIZE (17:16) FOUR (3 = 4 bytes).
    pub const REMAP_COMPONENT_SIZE_FOUR: u32 = 3 << 16;
    /// SET_REMAP_COMPONENTS NUM_SRC_COMPONENTS (21:20) ONE (0).
    pub const REMAP_NUM_SRC_ONE: u32 = 0 << 20;
    /// SET_REMAP_COMPONENTS NUM_DST_COMPONENTS (25:24) ONE (0).
    pub const REMAP_NUM_DST_ONE: u32 = 0 << 24;
    /// The constant-fill remap: every 4-byte destination element is CONST_A (docs/facts/ga102.md §11.4's
    /// recipe, derived from the field definitions; docs/facts/ga102.md §13 #13).
    pub const REMAP_FILL_CONST_A: u32 =
        REMAP_DST_X_CONST_A | REMAP_COMPONENT_SIZE_FOUR | REMAP_NUM_SRC_ONE | REMAP_NUM_DST_ONE;
    /// The copy launch: non-pipelined, flushed, pitch-linear source and destination, virtual.
    pub const LAUNCH_COPY: u32 = LAUNCH_DATA_TRANSFER_NON_PIPELINED
        | LAUNCH_FLUSH_ENABLE
        | LAUNCH_SRC_PITCH
        | LAUNCH_DST_PITCH
        | LAUNCH_VIRTUAL;
}

/// FERMI_TWOD_A (0x902D), docs/facts/ga102.md §11.5 (`cl902d.h` L231–1017).
pub mod twod {
    /// The class number.
    pub const CLASS: u32 = 0x902d;
    /// SET_DST_FORMAT; SET_DST_MEMORY_LAYOUT follows at 0x0204.
    pub const SET_DST_FORMAT: u32 = 0x0200;
    /// SET_DST_PITCH; WIDTH, HEIGHT, OFFSET_UPPER, OFFSET_LOWER follow, 4 bytes apart.
    pub const SET_DST_PITCH: u32 = 0x0214;
    /// SET_SRC_FORMAT; SET_SRC_MEMORY_LAYOUT follows at 0x0234.
    pub const SET_SRC_FORMAT: u32 = 0x0230;
    /// SET_SRC_PITCH; WIDTH, HEIGHT, OFFSET_UPPER, OFFSET_LOWER follow, 4 bytes apart.
    pub const SET_SRC_PITCH: u32 = 0x0244;
    /// SET_CLIP_ENABLE.
    pub const SET_CLIP_ENABLE: u32 = 0x0290;
    /// SET_OPERATION.
    pub const SET_OPERATION: u32 = 0x02ac;
    /// RENDER_SOLID_PRIM_MODE; SET_RENDER_SOLID_PRIM_COLOR_FORMAT (0x0584) and
    /// SET_RENDER_SOLID_PRIM_COLOR (0x0588) follow.
    pub const RENDER_SOLID_PRIM_MODE: u32 = 0x0580;
    /// RENDER_SOLID_PRIM_POINT_SET_X(0); Y(0) at +4, X(1) at +8, Y(1) at +0xC.
    pub const RENDER_SOLID_PRIM_POINT_SET_X0: u32 = 0x0600;
    /// SET_PIXELS_FROM_MEMORY_DST_X0: the first of 12 consecutive blit methods ending with
    /// PIXELS_FROM_MEMORY_SRC_Y0_INT (0x08DC), the one written last (docs/facts/ga102.md §11.5, §13 #12).
    pub const SET_PIXELS_FROM_MEMORY_DST_X0: u32 = 0x08b0;
    /// PIXELS_FROM_MEMORY_SRC_Y0_INT.
    pub const PIXELS_FROM_MEMORY_SRC_Y0_INT: u32 = 0x08dc;
    /// Color format A8R8G8B8.
    pub const FORMAT_A8R8G8B8: u32 = 0xcf;
    /// Memory layout PITCH.
    pub const LAYOUT_PITCH: u32 = 1;
    /// SET_OPERATION SRCCOPY.
    pub const OPERATION_SRCCOPY: u32 = 3;
    /// RENDER_SOLID_PRIM_MODE RECTS.
    pub const PRIM_RECTS: u32 = 4;
}

/// A pitch-linear A8R8G8B8 surface in a VM: `width` x `height` pixels, rows `pitch` bytes
/// apart from `va`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Surface {
    /// GPU VA of pixel (0, 0).
    pub va: u64,
    /// Bytes from one row to the next (at least `width * 4`).
    pub pitch: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Surface {
    /// Bytes the surface spans: `pitch * height`.
    pub const fn bytes(&self) -> u64 {
        self.pitch as u64 * self.height as u64
    }
}

/// A push buffer being built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Push {
    words: Vec<u32>,
}

impl Push {
    /// An empty push buffer.
    pub fn new() -> Push {
        Push::default()
    }

    /// The words.
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// Size in bytes.
    pub fn len_bytes(&self) -> usize {
        self.words.len() * 4
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Little-endian bytes, as the GPU fetches them.
    pub fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Copies the words into `m` at byte offset `off` (volatile 32-bit writes).
    pub fn write_to(&self, m: &mut Mapping, off: usize) {
        for (i, w) in self.words.iter().enumerate() {
            m.write_u32(off + 4 * i, *w);
        }
    }

    /// The EXEC range of this push buffer once written at GPU VA `va`.
    pub fn range(&self, va: u64) -> DrmNovaExecPush {
        DrmNovaExecPush {
            va,
            size: u32::try_from(self.len_bytes()).expect("push buffer over 4 GiB"),
            flags: 0,
        }
    }

    /// Appends raw words (headers or data).
    pub fn raw(&mut self, words: &[u32]) -> &mut Self {
        self.words.extend_from_slice(words);
        self
    }

    /// INC_METHOD: `data[i]` to method `method + 4 i` on `subc`.
    pub fn inc(&mut self, subc: u32, method: u32, data: &[u32]) -> &mut Self {
        let count = u32::try_from(data.len()).expect("too many data words");
        self.words.push(header::inc(subc, method, count));
        self.raw(data)
    }

    /// NON_INC_METHOD: every word of `data` to `method`.
    pub fn non_inc(&mut self, subc: u32, method: u32, data: &[u32]) -> &mut Self {
        let count = u32::try_from(data.len()).expect("too many data words");
        self.words.push(header::non_inc(subc, method, count));
        self.raw(data)
    }

    /// IMMD_DATA_METHOD: `value` (< 8192) to `method`, in the header itself.
    pub fn immd(&mut self, subc: u32, method: u32, value: u32) -> &mut Self {
        self.words.push(header::immd(subc, method, value));
        self
    }

    /// ONE_INC: `data[0]` to `method`, the rest to `method + 4`.
    pub fn one_inc(&mut self, subc: u32, method: u32, data: &[u32]) -> &mut Self {
        let count = u32::try_from(data.len()).expect("too many data words");
        self.words.push(header::one_inc(subc, method, count));
        self.raw(data)
    }

    /// A header word of 0: a NOP (docs/facts/ga102.md §11.2).
    pub fn nop(&mut self) -> &mut Self {
        self.raw(&[0])
    }

    /// Host SET_OBJECT: binds `class` to `subc`.
    pub fn set_object(&mut self, subc: u32, class: u32) -> &mut Self {
        assert!(
            class <= 0xffff,
            "class {class:#x} does not fit NVCLASS 15:0"
        );
        self.inc(subc, host::SET_OBJECT, &[class])
    }

    /// The host semaphore methods SEM_ADDR_LO/HI, SEM_PAYLOAD_LO/HI and SEM_EXECUTE (one INC
    /// group) with `execute`.
    fn sem(&mut self, va: u64, payload: u64, execute: u32) -> &mut Self {
        assert!(
            va.is_multiple_of(4) && va >> host::SEM_VA_BITS == 0,
            "semaphore VA {va:#x} unaligned or past 40 bits"
        );
        self.inc(
            SUBC_HOST,
            host::SEM_ADDR_LO,
            &[
                va as u32,
                (va >> 32) as u32 & 0xff,
                payload as u32,
                (payload >> 32) as u32,
                execute,
            ],
        )
    }

    /// Host semaphore release: writes the 32-bit `payload` at `va` (4-byte aligned), after the
    /// engine is idle when `wfi`.
    pub fn sem_release(&mut self, va: u64, payload: u32, wfi: bool) -> &mut Self {
        let wfi = if wfi {
            host::SEM_EXECUTE_RELEASE_WFI_EN
        } else {
            0
        };
        self.sem(
            va,
            payload.into(),
            host::SEM_EXECUTE_OPERATION_RELEASE | wfi,
        )
    }

    /// Host semaphore acquire: the channel waits until the 32-bit word at `va` equals
    /// `payload`, yielding to other channels meanwhile (ACQUIRE_SWITCH_TSG).
    pub fn sem_acquire(&mut self, va: u64, payload: u32) -> &mut Self {
        self.sem(
            va,
            payload.into(),
            host::SEM_EXECUTE_OPERATION_ACQUIRE | host::SEM_EXECUTE_ACQUIRE_SWITCH_TSG_EN,
        )
    }

    /// Host NON_STALL_INTERRUPT.
    pub fn non_stall_interrupt(&mut self) -> &mut Self {
        self.inc(SUBC_HOST, host::NON_STALL_INTERRUPT, &[0])
    }

    /// The CE's OFFSET_IN_UPPER … LINE_COUNT block.
    fn ce_lines(
        &mut self,
        src: u64,
        src_pitch: u32,
        dst: u64,
        dst_pitch: u32,
        len: u32,
        lines: u32,
    ) {
        self.inc(
            SUBC_COPY,
            ce::OFFSET_IN_UPPER,
            &[
                (src >> 32) as u32 & 0x1_ffff,
                src as u32,
                (dst >> 32) as u32 & 0x1_ffff,
                dst as u32,
                src_pitch,
                dst_pitch,
                len,
                lines,
            ],
        );
    }

    /// CE LAUNCH_DMA with `flags`.
    pub fn ce_launch(&mut self, flags: u32) -> &mut Self {
        self.inc(SUBC_COPY, ce::LAUNCH_DMA, &[flags])
    }

    /// CE copy of `len` bytes from `src` to `dst` (pitch-linear, one line). The copy class
    /// must be bound to [`SUBC_COPY`].
    pub fn ce_copy(&mut self, src: u64, dst: u64, len: u32) -> &mut Self {
        self.ce_lines(src, 0, dst, 0, len, 1);
        self.ce_launch(ce::LAUNCH_COPY)
    }

    /// CE copy of `lines` lines of `width` bytes, from `src` (rows `src_pitch` apart) to `dst`
    /// (rows `dst_pitch` apart).
    pub fn ce_copy_2d(
        &mut self,
        src: u64,
        src_pitch: u32,
        dst: u64,
        dst_pitch: u32,
        width: u32,
        lines: u32,
    ) -> &mut Self {
        self.ce_lines(src, src_pitch, dst, dst_pitch, width, lines);
        self.ce_launch(ce::LAUNCH_COPY | ce::LAUNCH_MULTI_LINE)
    }

    /// CE constant fill: `lines` lines of `width` bytes (a multiple of 4) at `dst`, rows
    /// `pitch` apart, every 32-bit word `value` (REMAP with CONST_A, docs/facts/ga102.md §11.4).
    pub fn ce_fill_2d(
        &mut self,
        dst: u64,
        pitch: u32,
        width: u32,
        lines: u32,
        value: u32,
    ) -> &mut Self {
        assert!(
            width.is_multiple_of(4),
            "fill width {width} not a multiple of 4"
        );
        self.inc(SUBC_COPY, ce::SET_REMAP_CONST_A, &[value]);
        self.inc(
            SUBC_COPY,
            ce::SET_REMAP_COMPONENTS,
            &[ce::REMAP_FILL_CONST_A],
        );
        // With REMAP_ENABLE, LINE_LENGTH_IN counts 4-byte elements. The source is not read;
        // it is given the destination so that it is a mapped address anyway.
        self.ce_lines(dst, pitch, dst, pitch, width / 4, lines);
        let multi = if lines > 1 { ce::LAUNCH_MULTI_LINE } else { 0 };
        self.ce_launch(ce::LAUNCH_COPY | ce::LAUNCH_REMAP_ENABLE | multi)
    }

    /// CE constant fill of `len` bytes (a multiple of 4) at `dst` with the word `value`.
    pub fn ce_fill(&mut self, dst: u64, len: u32, value: u32) -> &mut Self {
        self.ce_fill_2d(dst, 0, len, 1, value)
    }

    /// CE semaphore release: writes the 32-bit `payload` at `va` once the CE's earlier work
    /// is done (SET_SEMAPHORE_A/B/PAYLOAD, then a LAUNCH_DMA that moves nothing).
    pub fn ce_sem_release(&mut self, va: u64, payload: u32) -> &mut Self {
        assert!(va.is_multiple_of(4), "semaphore VA {va:#x} unaligned");
        self.inc(
            SUBC_COPY,
            ce::SET_SEMAPHORE_A,
            &[(va >> 32) as u32 & 0x1_ffff, va as u32, payload],
        );
        self.ce_launch(
            ce::LAUNCH_DATA_TRANSFER_NONE
                | ce::LAUNCH_FLUSH_ENABLE
                | ce::LAUNCH_SEMAPHORE_RELEASE_ONE_WORD,
        )
    }

    /// 2D: the state every 2D job here starts from: clipping off, SRCCOPY. The 2D class must
    /// be bound to [`SUBC_2D`].
    pub fn twod_setup(&mut self) -> &mut Self {
        self.inc(SUBC_2D, twod::SET_CLIP_ENABLE, &[0]);
        self.inc(SUBC_2D, twod::SET_OPERATION, &[twod::OPERATION_SRCCOPY])
    }

    /// 2D destination surface (A8R8G8B8, pitch layout).
    pub fn twod_dst(&mut self, s: &Surface) -> &mut Self {
        self.inc(
            SUBC_2D,
            twod::SET_DST_FORMAT,
            &[twod::FORMAT_A8R8G8B8, twod::LAYOUT_PITCH],
        );
        self.inc(
            SUBC_2D,
            twod::SET_DST_PITCH,
            &[s.pitch, s.width, s.height, (s.va >> 32) as u32, s.va as u32],
        )
    }

    /// 2D source surface (A8R8G8B8, pitch layout) for [`Push::twod_blit`].
    pub fn twod_src(&mut self, s: &Surface) -> &mut Self {
        self.inc(
            SUBC_2D,
            twod::SET_SRC_FORMAT,
            &[twod::FORMAT_A8R8G8B8, twod::LAYOUT_PITCH],
        );
        self.inc(
            SUBC_2D,
            twod::SET_SRC_PITCH,
            &[s.pitch, s.width, s.height, (s.va >> 32) as u32, s.va as u32],
        )
    }

    /// 2D solid rectangle `[x0, x1) x [y0, y1)` of A8R8G8B8 `color` into the destination
    /// surface (RECTS: two vertices per rectangle, the second one exclusive).
    pub fn twod_fill_rect(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, color: u32) -> &mut Self {
        self.inc(
            SUBC_2D,
            twod::RENDER_SOLID_PRIM_MODE,
            &[twod::PRIM_RECTS, twod::FORMAT_A8R8G8B8, color],
        );
        self.inc(
            SUBC_2D,
            twod::RENDER_SOLID_PRIM_POINT_SET_X0,
            &[x0, y0, x1, y1],
        )
    }

    /// 2D blit at scale 1:1: the `w` x `h` pixels at (`sx`, `sy`) of the source surface to
    /// (`dx`, `dy`) of the destination (PIXELS_FROM_MEMORY, launched by its last method).
    pub fn twod_blit(&mut self, dx: u32, dy: u32, w: u32, h: u32, sx: u32, sy: u32) -> &mut Self {
        self.inc(
            SUBC_2D,
            twod::SET_PIXELS_FROM_MEMORY_DST_X0,
            &[
                dx, dy, w, h, // DST_X0, DST_Y0, DST_WIDTH, DST_HEIGHT
                0, 1, // DU_DX_FRAC, DU_DX_INT: 1.0
                0, 1, // DV_DY_FRAC, DV_DY_INT: 1.0
                0, sx, // SRC_X0_FRAC, SRC_X0_INT
                0, sy, // SRC_Y0_FRAC, PIXELS_FROM_MEMORY_SRC_Y0_INT (launch)
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field `hi:lo` of `w`.
    fn bits(w: u32, hi: u32, lo: u32) -> u32 {
        (w >> lo) & ((1u64 << (hi - lo + 1)) - 1) as u32
    }

    #[test]
    fn header_fields_match_the_facts_table() {
        // §11.2: SEC_OP 31:29, COUNT 28:16, SUBCHANNEL 15:13, ADDRESS 11:0 (= offset >> 2).
        let h = header::inc(5, 0x0400, 8);
        assert_eq!(
            (
                bits(h, 31, 29),
                bits(h, 28, 16),
                bits(h, 15, 13),
                bits(h, 11, 0)
            ),
            (1, 8, 5, 0x100)
        );
        assert_eq!(bits(h, 12, 12), 0);
        assert_eq!(h, 0x2008_a100);
        assert_eq!(bits(header::non_inc(0, 0x300, 2), 31, 29), 3);
        assert_eq!(bits(header::one_inc(0, 0x300, 2), 31, 29), 5);
        let i = header::immd(7, 0x0290, 0x1fff);
        assert_eq!(
            (
                bits(i, 31, 29),
                bits(i, 28, 16),
                bits(i, 15, 13),
                bits(i, 11, 0)
            ),
            (4, 0x1fff, 7, 0xa4)
        );
        // The largest method and the host SET_OBJECT on subchannel 0.
        assert_eq!(bits(header::inc(0, header::MAX_METHOD, 1), 11, 0), 0xfff);
        assert_eq!(header::inc(0, host::SET_OBJECT, 1), 0x2001_0000);
    }

    #[test]
    #[should_panic]
    fn header_rejects_a_subchannel_past_7() {
        let _ = header::inc(8, 0, 1);
    }

    #[test]
    #[should_panic]
    fn header_rejects_an_unaligned_method() {
        let _ = header::inc(0, 0x102, 1);
    }

    #[test]
    #[should_panic]
    fn header_rejects_a_count_past_13_bits() {
        let _ = header::inc(0, 0x100, 8192);
    }

    #[test]
    fn set_object_and_nop() {
        let mut p = Push::new();
        p.set_object(SUBC_COPY, ce::CLASS).nop();
        assert_eq!(p.words(), &[header::inc(4, 0, 1), 0xc7b5, 0]);
        assert_eq!(p.words()[0], 0x2001_8000);
        assert_eq!(p.len_bytes(), 12);
        assert_eq!(&p.bytes()[4..8], &[0xb5, 0xc7, 0, 0]);
        assert_eq!(p.range(0x10_0000).size, 12);
    }

    #[test]
    fn host_semaphores() {
        let mut p = Push::new();
        p.sem_release(0xab_1234_5678, 7, true);
        let w = p.words();
        // One INC group of 5 from SEM_ADDR_LO (0x5c >> 2 = 0x17).
        assert_eq!(w[0], header::inc(SUBC_HOST, 0x5c, 5));
        assert_eq!(bits(w[0], 11, 0), 0x17);
        assert_eq!(&w[1..5], &[0x1234_5678, 0xab, 7, 0]);
        // OPERATION RELEASE (1) in 2:0, RELEASE_WFI EN in bit 20, 32-bit payload (bit 24 = 0).
        assert_eq!(w[5], 1 | (1 << 20));
        let mut a = Push::new();
        a.sem_acquire(0x1000, 1);
        // OPERATION ACQUIRE (0), ACQUIRE_SWITCH_TSG (bit 12).
        assert_eq!(&a.words()[1..], &[0x1000, 0, 1, 0, 1 << 12]);
        let mut r = Push::new();
        r.sem_release(0x2000, 3, false);
        assert_eq!(r.words()[5], 1);
        let mut n = Push::new();
        n.non_stall_interrupt();
        assert_eq!(n.words(), &[header::inc(0, 0x20, 1), 0]);
    }

    #[test]
    #[should_panic(expected = "past 40 bits")]
    fn host_semaphore_va_limit() {
        Push::new().sem_release(1 << 40, 0, false);
    }

    #[test]
    fn ce_copy_1d_and_2d() {
        let mut p = Push::new();
        p.ce_copy(0x1_0020_0000, 0x2_0040_0000, 64 << 20);
        let w = p.words();
        assert_eq!(w[0], header::inc(SUBC_COPY, 0x400, 8));
        assert_eq!(
            &w[1..9],
            &[1, 0x0020_0000, 2, 0x0040_0000, 0, 0, 64 << 20, 1]
        );
        assert_eq!(w[9], header::inc(SUBC_COPY, 0x300, 1));
        // NON_PIPELINED (2) | FLUSH (bit 2) | SRC PITCH (bit 7) | DST PITCH (bit 8).
        assert_eq!(w[10], 0x186);
        assert_eq!(w.len(), 11);

        let mut q = Push::new();
        q.ce_copy_2d(0x1000, 4096, 0x9000, 2048, 1024, 16);
        let w = q.words();
        assert_eq!(&w[1..9], &[0, 0x1000, 0, 0x9000, 4096, 2048, 1024, 16]);
        // ... | MULTI_LINE_ENABLE (bit 9).
        assert_eq!(w[10], 0x386);
    }

    #[test]
    fn ce_fill_uses_remap_const_a() {
        let mut p = Push::new();
        p.ce_fill(0x4000, 4096, 0xa5a5_5a5a);
        let w = p.words();
        assert_eq!(&w[0..2], &[header::inc(SUBC_COPY, 0x700, 1), 0xa5a5_5a5a]);
        // DST_X = CONST_A (4), COMPONENT_SIZE 4 bytes (3 << 16), one source and one
        // destination component (0 in 21:20 and 25:24).
        assert_eq!(&w[2..4], &[header::inc(SUBC_COPY, 0x708, 1), 0x0003_0004]);
        // LINE_LENGTH_IN in elements: 4096 / 4.
        assert_eq!(&w[5..13], &[0, 0x4000, 0, 0x4000, 0, 0, 1024, 1]);
        // Copy launch | REMAP_ENABLE (bit 10), one line.
        assert_eq!(w[14], 0x586);
        let mut q = Push::new();
        q.ce_fill_2d(0x4000, 2048, 512, 3, 1);
        assert_eq!(q.words()[14], 0x786);
    }

    #[test]
    fn ce_semaphore_release() {
        let mut p = Push::new();
        p.ce_sem_release(0x1_0000_0010, 99);
        let w = p.words();
        assert_eq!(w[0], header::inc(SUBC_COPY, 0x240, 3));
        assert_eq!(&w[1..4], &[1, 0x10, 99]);
        // DATA_TRANSFER NONE | FLUSH | SEMAPHORE_TYPE RELEASE_ONE_WORD (1 in 4:3).
        assert_eq!(w[5], 0b0_1100);
    }

    #[test]
    fn twod_surfaces_rects_and_blits() {
        let s = Surface {
            va: 0x3_0000_1000,
            pitch: 2048,
            width: 512,
            height: 384,
        };
        assert_eq!(s.bytes(), 2048 * 384);
        let mut p = Push::new();
        p.twod_setup().twod_dst(&s).twod_src(&s);
        let w = p.words();
        assert_eq!(&w[0..2], &[header::inc(SUBC_2D, 0x290, 1), 0]);
        assert_eq!(&w[2..4], &[header::inc(SUBC_2D, 0x2ac, 1), 3]);
        assert_eq!(&w[4..7], &[header::inc(SUBC_2D, 0x200, 2), 0xcf, 1]);
        assert_eq!(
            &w[7..13],
            &[header::inc(SUBC_2D, 0x214, 5), 2048, 512, 384, 3, 0x1000]
        );
        assert_eq!(&w[13..16], &[header::inc(SUBC_2D, 0x230, 2), 0xcf, 1]);
        assert_eq!(w[16], header::inc(SUBC_2D, 0x244, 5));

        let mut r = Push::new();
        r.twod_fill_rect(1, 2, 30, 40, 0xff00_ff00);
        assert_eq!(
            r.words(),
            &[
                header::inc(SUBC_2D, 0x580, 3),
                4,
                0xcf,
                0xff00_ff00,
                header::inc(SUBC_2D, 0x600, 4),
                1,
                2,
                30,
                40
            ]
        );

        let mut b = Push::new();
        b.twod_blit(10, 20, 64, 32, 5, 6);
        let w = b.words();
        assert_eq!(w[0], header::inc(SUBC_2D, 0x8b0, 12));
        assert_eq!(&w[1..], &[10, 20, 64, 32, 0, 1, 0, 1, 0, 5, 0, 6]);
        // The launch method is the last one of the group.
        assert_eq!(0x8b0 + 4 * 11, twod::PIXELS_FROM_MEMORY_SRC_Y0_INT);
    }

    #[test]
    fn write_to_a_mapping() {
        // SAFETY: memfd_create with a static name; checked below.
        let fd = unsafe { libc::memfd_create(c"push-test".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: a fresh fd we own.
        let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        use std::os::fd::{AsFd, AsRawFd};
        // SAFETY: resizing our own memfd.
        assert_eq!(unsafe { libc::ftruncate(fd.as_raw_fd(), 4096) }, 0);
        let mut m = Mapping::new(fd.as_fd(), 0, 4096).unwrap();
        let mut p = Push::new();
        p.set_object(SUBC_2D, twod::CLASS).twod_setup();
        p.write_to(&mut m, 64);
        assert_eq!(m.read_u32(64), header::inc(SUBC_2D, 0, 1));
        assert_eq!(m.read_u32(68), 0x902d);
        assert_eq!(&m.as_slice()[64..64 + p.len_bytes()], p.bytes().as_slice());
    }
}
