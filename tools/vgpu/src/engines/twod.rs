// SPDX-License-Identifier: GPL-2.0
//! The 2D engine class FERMI_TWOD_A (0x902D), docs/facts/ga102.md §11.5: solid rectangles and blits
//! (pixels from memory) on pitch-linear surfaces.
//!
//! Method offsets, fields and format codes are from OG:cls `cl902d.h` (tag 570.144): the
//! method struct L29-228 (which offsets exist), the defines L231-1090. Every method of the
//! class stores its data word; three kinds of methods then act:
//!
//! | Method | Action | Source / note |
//! |---|---|---|
//! | `RENDER_SOLID_PRIM_POINT_Y(j)` (0x604 + 8j) | completes a vertex (X from `_SET_X(j)`, 0x600 + 8j) | L804-808 |
//! | `RENDER_SOLID_PRIM_POINT_X_Y` (0x5E0) | completes a vertex, X 15:0, Y 31:16 (unsigned) | L800-802 |
//! | `PIXELS_FROM_MEMORY_SRC_Y0_INT` (0x8DC) | runs the blit | L981; the assumed trigger, docs/facts/ga102.md §13 item 12 |
//!
//! Vertices: `RENDER_SOLID_PRIM_MODE` (0x580, L761-767) starts a new primitive sequence.
//! In POINTS mode each vertex draws one pixel; in RECTS mode every second vertex completes a
//! rectangle with the previous one as opposite corner. The vertex index `j` only selects
//! which `SET_X` register holds the X: a sequence may use j = 0, 1 over and over or count up
//! (two rectangles in one 8-method burst). Why the Y method and not X: in this class's naming
//! a `SET_` prefix marks state and its absence an action (`PIXELS_FROM_MEMORY_SRC_Y0_INT`,
//! `RENDER_SOLID_PRIM_POINT_Y` vs `RENDER_SOLID_PRIM_POINT_SET_X`), and Y is the second word
//! of each vertex. A rectangle covers the pixels x in [min(x0, x1), max(x0, x1)) and
//! y in [min(y0, y1), max(y0, y1)): the second corner is exclusive (a model choice; no
//! document found states it). Vertex coordinates and `SET_PIXELS_FROM_MEMORY_DST_X0/Y0` are
//! read as signed 32-bit values, so a primitive may start left of or above the surface.
//! LINES, POLYLINE and TRIANGLES are refused (`BadArgument`) when their vertex arrives.
//!
//! Clipping: every primitive and blit is clipped to the destination surface
//! (`SET_DST_WIDTH`/`_HEIGHT`) and, with `SET_CLIP_ENABLE` (L537-540), to the rectangle
//! `SET_CLIP_X0`/`_Y0`/`_WIDTH`/`_HEIGHT` (L525-535, unsigned).
//!
//! Blit: destination rectangle `SET_PIXELS_FROM_MEMORY_DST_X0/Y0/WIDTH/HEIGHT` (L948-958),
//! steps `DU_DX`/`DV_DY` and source origin `SRC_X0`/`SRC_Y0` in 32.32 fixed point
//! (`_INT` signed 31:0, `_FRAC` 31:0; L960-982). Destination pixel (i, j) of the rectangle
//! samples source pixel (floor(SRC_X0 + (i + h)·DU_DX), floor(SRC_Y0 + (j + h)·DV_DY)) with
//! h = 1/2 for `SET_PIXELS_FROM_MEMORY_SAMPLE_MODE` ORIGIN CENTER and 0 for CORNER
//! (L940-946): nearest-neighbour, exact for 1:1 and for integer magnification in both modes.
//! Samples outside the source surface are clamped to its edge. FILTER BILINEAR is refused
//! except at 1:1 with integer origins, where it samples pixel centres and equals POINT.
//! Rows are read and written whole (in runs of at most [`SEGMENT`] pixels), never pixel by
//! pixel through [`ChannelMemory`]. Overlapping source and destination (a scroll within one
//! surface) are copied as if through a temporary, by walking rows (and runs) away from the
//! overlap, unless `SET_PIXELS_FROM_MEMORY_DIRECTION` (L630-638) forces a direction.
//!
//! Formats (codes from L306-345 and L397-437, bytes per pixel from the names): A8R8G8B8
//! 0xCF, A8B8G8R8 0xD5, X8R8G8B8 0xE6, X8B8G8R8 0xF9, Y32 0xFF (4 bytes); R5G6B5 0xE8,
//! A1R5G5B5 0xE9, X1R5G5B5 0xF8, Y16 0xEE (2 bytes); Y8 0xF3 (1 byte). Others are refused.
//! Conversion (blit source to destination, and `SET_RENDER_SOLID_PRIM_COLOR` from
//! `SET_RENDER_SOLID_PRIM_COLOR_FORMAT`, L769-792, to the destination) is limited to: the
//! same format (bits copied as they are), and any pair of the four 8-bit RGBA formats (R and
//! B swapped between the ARGB and ABGR orders; X to A gives alpha 0xFF, A to X keeps the
//! byte). Other pairs are refused, even at equal size.
//!
//! Refused at the action (`BadArgument`, nothing written): BLOCKLINEAR surfaces
//! (`SET_DST/SRC_MEMORY_LAYOUT`, L347-350, L439-442), `SET_OPERATION` (L572-580) other than
//! SRCCOPY_AND (0) and SRCCOPY (3), both treated as a plain copy, `SET_COLOR_KEY_ENABLE`
//! TRUE, zero-sized surfaces, and draws of more than [`MAX_LAUNCH_BYTES`] (4 GiB).
//! Methods that act but are not modelled are refused when they arrive: `PIXELS_FROM_CPU_DATA`
//! (0x860), the MME DMA methods (0x55C-0x570) and `CALL_MME_MACRO`/`_DATA` (0x3800-0x3EFC).
//! `NO_OPERATION`, `SET_NOTIFY_A/B`, `NOTIFY` and `WAIT_FOR_IDLE` (0x100-0x110) are accepted;
//! `NOTIFY` writes no notifier (its memory format is not in the class header). Render-enable,
//! ROP, pattern, compression and the rest are stored only.

use super::{check_method, ChannelMemory, Effects, Engine, EngineError, MemFault};

/// The class number of FERMI_TWOD_A.
pub const CLASS: u32 = 0x902d;

/// Method byte offsets (`cl902d.h` L231-1090).
pub mod mthd {
    /// NO_OPERATION.
    pub const NO_OPERATION: u32 = 0x100;
    /// SET_NOTIFY_A.
    pub const SET_NOTIFY_A: u32 = 0x104;
    /// SET_NOTIFY_B.
    pub const SET_NOTIFY_B: u32 = 0x108;
    /// NOTIFY (accepted, no notifier written).
    pub const NOTIFY: u32 = 0x10c;
    /// WAIT_FOR_IDLE.
    pub const WAIT_FOR_IDLE: u32 = 0x110;
    /// SET_DST_FORMAT: V 7:0.
    pub const SET_DST_FORMAT: u32 = 0x200;
    /// SET_DST_MEMORY_LAYOUT: V 0:0, 0 BLOCKLINEAR, 1 PITCH.
    pub const SET_DST_MEMORY_LAYOUT: u32 = 0x204;
    /// SET_DST_PITCH (bytes).
    pub const SET_DST_PITCH: u32 = 0x214;
    /// SET_DST_WIDTH (pixels).
    pub const SET_DST_WIDTH: u32 = 0x218;
    /// SET_DST_HEIGHT (pixels).
    pub const SET_DST_HEIGHT: u32 = 0x21c;
    /// SET_DST_OFFSET_UPPER: V 7:0.
    pub const SET_DST_OFFSET_UPPER: u32 = 0x220;
    /// SET_DST_OFFSET_LOWER.
    pub const SET_DST_OFFSET_LOWER: u32 = 0x224;
    /// SET_SRC_FORMAT: V 7:0.
    pub const SET_SRC_FORMAT: u32 = 0x230;
    /// SET_SRC_MEMORY_LAYOUT: V 0:0.
    pub const SET_SRC_MEMORY_LAYOUT: u32 = 0x234;
    /// SET_SRC_PITCH.
    pub const SET_SRC_PITCH: u32 = 0x244;
    /// SET_SRC_WIDTH.
    pub const SET_SRC_WIDTH: u32 = 0x248;
    /// SET_SRC_HEIGHT.
    pub const SET_SRC_HEIGHT: u32 = 0x24c;
    /// SET_SRC_OFFSET_UPPER: V 7:0.
    pub const SET_SRC_OFFSET_UPPER: u32 = 0x250;
    /// SET_SRC_OFFSET_LOWER.
    pub const SET_SRC_OFFSET_LOWER: u32 = 0x254;
    /// SET_CLIP_X0.
    pub const SET_CLIP_X0: u32 = 0x280;
    /// SET_CLIP_Y0.
    pub const SET_CLIP_Y0: u32 = 0x284;
    /// SET_CLIP_WIDTH.
    pub const SET_CLIP_WIDTH: u32 = 0x288;
    /// SET_CLIP_HEIGHT.
    pub const SET_CLIP_HEIGHT: u32 = 0x28c;
    /// SET_CLIP_ENABLE: V 0:0.
    pub const SET_CLIP_ENABLE: u32 = 0x290;
    /// SET_COLOR_KEY_ENABLE: V 0:0.
    pub const SET_COLOR_KEY_ENABLE: u32 = 0x29c;
    /// SET_ROP (stored only).
    pub const SET_ROP: u32 = 0x2a0;
    /// SET_OPERATION: V 2:0.
    pub const SET_OPERATION: u32 = 0x2ac;
    /// SET_PIXELS_FROM_MEMORY_DIRECTION: HORIZONTAL 1:0, VERTICAL 5:4.
    pub const SET_PIXELS_FROM_MEMORY_DIRECTION: u32 = 0x2e0;
    /// MME_DMA_READ, the first MME DMA method.
    pub const MME_DMA_READ: u32 = 0x55c;
    /// MME_DMA_SYNC, the last MME DMA method.
    pub const MME_DMA_SYNC: u32 = 0x570;
    /// RENDER_SOLID_PRIM_MODE: V 2:0.
    pub const RENDER_SOLID_PRIM_MODE: u32 = 0x580;
    /// SET_RENDER_SOLID_PRIM_COLOR_FORMAT: V 7:0.
    pub const SET_RENDER_SOLID_PRIM_COLOR_FORMAT: u32 = 0x584;
    /// SET_RENDER_SOLID_PRIM_COLOR.
    pub const SET_RENDER_SOLID_PRIM_COLOR: u32 = 0x588;
    /// RENDER_SOLID_PRIM_POINT_X_Y: X 15:0, Y 31:16.
    pub const RENDER_SOLID_PRIM_POINT_X_Y: u32 = 0x5e0;
    /// RENDER_SOLID_PRIM_POINT_SET_X(j) = this + 8j, j < 64.
    pub const RENDER_SOLID_PRIM_POINT_SET_X: u32 = 0x600;
    /// RENDER_SOLID_PRIM_POINT_Y(j) = this + 8j, j < 64.
    pub const RENDER_SOLID_PRIM_POINT_Y: u32 = 0x604;
    /// PIXELS_FROM_CPU_DATA (refused).
    pub const PIXELS_FROM_CPU_DATA: u32 = 0x860;
    /// SET_PIXELS_FROM_MEMORY_SAMPLE_MODE: ORIGIN 0:0 (0 CENTER, 1 CORNER), FILTER 4:4
    /// (0 POINT, 1 BILINEAR).
    pub const SET_PIXELS_FROM_MEMORY_SAMPLE_MODE: u32 = 0x88c;
    /// SET_PIXELS_FROM_MEMORY_DST_X0.
    pub const SET_PIXELS_FROM_MEMORY_DST_X0: u32 = 0x8b0;
    /// SET_PIXELS_FROM_MEMORY_DST_Y0.
    pub const SET_PIXELS_FROM_MEMORY_DST_Y0: u32 = 0x8b4;
    /// SET_PIXELS_FROM_MEMORY_DST_WIDTH.
    pub const SET_PIXELS_FROM_MEMORY_DST_WIDTH: u32 = 0x8b8;
    /// SET_PIXELS_FROM_MEMORY_DST_HEIGHT.
    pub const SET_PIXELS_FROM_MEMORY_DST_HEIGHT: u32 = 0x8bc;
    /// SET_PIXELS_FROM_MEMORY_DU_DX_FRAC.
    pub const SET_PIXELS_FROM_MEMORY_DU_DX_FRAC: u32 = 0x8c0;
    /// SET_PIXELS_FROM_MEMORY_DU_DX_INT.
    pub const SET_PIXELS_FROM_MEMORY_DU_DX_INT: u32 = 0x8c4;
    /// SET_PIXELS_FROM_MEMORY_DV_DY_FRAC.
    pub const SET_PIXELS_FROM_MEMORY_DV_DY_FRAC: u32 = 0x8c8;
    /// SET_PIXELS_FROM_MEMORY_DV_DY_INT.
    pub const SET_PIXELS_FROM_MEMORY_DV_DY_INT: u32 = 0x8cc;
    /// SET_PIXELS_FROM_MEMORY_SRC_X0_FRAC.
    pub const SET_PIXELS_FROM_MEMORY_SRC_X0_FRAC: u32 = 0x8d0;
    /// SET_PIXELS_FROM_MEMORY_SRC_X0_INT.
    pub const SET_PIXELS_FROM_MEMORY_SRC_X0_INT: u32 = 0x8d4;
    /// SET_PIXELS_FROM_MEMORY_SRC_Y0_FRAC.
    pub const SET_PIXELS_FROM_MEMORY_SRC_Y0_FRAC: u32 = 0x8d8;
    /// PIXELS_FROM_MEMORY_SRC_Y0_INT: stores the source Y origin and runs the blit.
    pub const PIXELS_FROM_MEMORY_SRC_Y0_INT: u32 = 0x8dc;
    /// CALL_MME_MACRO(0), the first MME call method (refused).
    pub const CALL_MME_MACRO: u32 = 0x3800;
    /// One past CALL_MME_DATA(0xDF), the end of the class.
    pub const END: u32 = 0x3f00;
}

/// Pixel format codes (`cl902d.h` L306-345; the same codes for sources, L397-437, and the
/// solid color, L771-789).
pub mod format {
    /// A8R8G8B8.
    pub const A8R8G8B8: u32 = 0xcf;
    /// A8B8G8R8.
    pub const A8B8G8R8: u32 = 0xd5;
    /// X8R8G8B8.
    pub const X8R8G8B8: u32 = 0xe6;
    /// X8B8G8R8.
    pub const X8B8G8R8: u32 = 0xf9;
    /// Y32.
    pub const Y32: u32 = 0xff;
    /// R5G6B5.
    pub const R5G6B5: u32 = 0xe8;
    /// A1R5G5B5.
    pub const A1R5G5B5: u32 = 0xe9;
    /// X1R5G5B5.
    pub const X1R5G5B5: u32 = 0xf8;
    /// Y16.
    pub const Y16: u32 = 0xee;
    /// Y8.
    pub const Y8: u32 = 0xf3;
}

/// The largest number of bytes one draw or blit may write (and a blit read).
pub const MAX_LAUNCH_BYTES: u64 = 4 << 30;

/// The most pixels a blit moves per memory access, and the run length of solid fills.
pub const SEGMENT: usize = 16 << 10;

/// The class's methods as half-open byte-offset ranges (the struct at `cl902d.h` L29-228,
/// skipping its `Reserved_*` members).
const METHODS: &[(u32, u32)] = &[
    (0x000, 0x004),   // SET_OBJECT
    (0x100, 0x128),   // NO_OPERATION .. SET_MME_SHADOW_RAM_CONTROL
    (0x130, 0x144),   // SET_GLOBAL_RENDER_ENABLE_A/B/C, SEND_GO_IDLE, PM_TRIGGER
    (0x150, 0x158),   // SET_INSTRUMENTATION_METHOD_HEADER/DATA
    (0x1ec, 0x1f0),   // SET_MME_SWITCH_STATE
    (0x200, 0x578),   // surfaces, clip, ROP, patterns, solid colors, MME DMA
    (0x580, 0x590),   // RENDER_SOLID_PRIM_MODE .. SET_RENDER_SOLID_LINE_TIE_BREAK_BITS
    (0x5e0, 0x5e4),   // RENDER_SOLID_PRIM_POINT_X_Y
    (0x600, 0x800),   // RENDER_SOLID_PRIM_POINT_SET_X/Y(0..63)
    (0x800, 0x820),   // SET_PIXELS_FROM_CPU_*
    (0x838, 0x864),   // SET_PIXELS_FROM_CPU_SRC_WIDTH .. PIXELS_FROM_CPU_DATA
    (0x870, 0x874),   // SET_BIG_ENDIAN_CONTROL
    (0x880, 0x890),   // SET_PIXELS_FROM_MEMORY_BLOCK_SHAPE .. _SAMPLE_MODE
    (0x8b0, 0x960),   // SET_PIXELS_FROM_MEMORY_DST_X0 .. SET_FALCON31
    (0xdec, 0xdf0),   // MME_DMA_WRITE_METHOD_BARRIER
    (0x3400, 0x3800), // SET_MME_SHADOW_SCRATCH(0..255)
    (0x3800, 0x3f00), // CALL_MME_MACRO/DATA(0..223)
];

fn bits(v: u32, hi: u32, lo: u32) -> u32 {
    ((u64::from(v) >> lo) & ((1u64 << (hi - lo + 1)) - 1)) as u32
}

/// A supported pixel format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Format {
    code: u32,
    bpp: usize,
    /// For the 8-bit RGBA formats: (R and B swapped vs A8R8G8B8, has alpha).
    rgba8: Option<(bool, bool)>,
}

impl Format {
    fn new(code: u32) -> Option<Format> {
        use format::*;
        let (bpp, rgba8) = match code {
            A8R8G8B8 => (4, Some((false, true))),
            X8R8G8B8 => (4, Some((false, false))),
            A8B8G8R8 => (4, Some((true, true))),
            X8B8G8R8 => (4, Some((true, false))),
            Y32 => (4, None),
            R5G6B5 | A1R5G5B5 | X1R5G5B5 | Y16 => (2, None),
            Y8 => (1, None),
            _ => return None,
        };
        Some(Format { code, bpp, rgba8 })
    }
}

/// How pixels of one format become pixels of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Convert {
    /// Bits as they are.
    Same,
    /// 8-bit RGBA: swap bytes 0 and 2 or not, force byte 3 to 0xFF or not.
    Rgba8 { swap: bool, opaque: bool },
}

impl Convert {
    fn new(from: Format, to: Format) -> Option<Convert> {
        if from.code == to.code {
            return Some(Convert::Same);
        }
        match (from.rgba8, to.rgba8) {
            (Some((fs, fa)), Some((ts, ta))) => {
                let c = Convert::Rgba8 {
                    swap: fs != ts,
                    opaque: !fa && ta,
                };
                Some(
                    if c == (Convert::Rgba8 {
                        swap: false,
                        opaque: false,
                    }) {
                        Convert::Same
                    } else {
                        c
                    },
                )
            }
            _ => None,
        }
    }

    /// Converts one pixel.
    fn pixel(self, src: &[u8], dst: &mut [u8]) {
        dst.copy_from_slice(src);
        if let Convert::Rgba8 { swap, opaque } = self {
            if swap {
                dst.swap(0, 2);
            }
            if opaque {
                dst[3] = 0xff;
            }
        }
    }
}

/// A validated pitch-linear surface.
#[derive(Clone, Copy, Debug)]
struct Surface {
    va: u64,
    pitch: u64,
    width: u32,
    height: u32,
    fmt: Format,
}

impl Surface {
    fn row(&self, y: u32) -> u64 {
        self.va + u64::from(y) * self.pitch
    }

    fn pixel(&self, x: u32, y: u32) -> u64 {
        self.row(y) + u64::from(x) * self.fmt.bpp as u64
    }
}

/// A rectangle of pixels, [x0, x1) × [y0, y1), in i64 so that nothing overflows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Rect {
    fn intersect(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.max(o.x0),
            y0: self.y0.max(o.y0),
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
        }
    }

    fn is_empty(&self) -> bool {
        self.x0 >= self.x1 || self.y0 >= self.y1
    }

    fn width(&self) -> u64 {
        (self.x1 - self.x0).max(0) as u64
    }

    fn height(&self) -> u64 {
        (self.y1 - self.y0).max(0) as u64
    }
}

/// One FERMI_TWOD_A instance: the class's method state, the vertices of the primitive
/// being assembled, and reused row buffers.
pub struct TwoD {
    /// The last data word of every method, indexed by offset / 4.
    regs: Vec<u32>,
    /// Vertices received since the primitive started.
    verts: Vec<(i64, i64)>,
    /// Row buffers (source span, destination run).
    sbuf: Vec<u8>,
    dbuf: Vec<u8>,
}

impl Default for TwoD {
    fn default() -> Self {
        TwoD {
            regs: vec![0; (mthd::END / 4) as usize],
            verts: Vec::with_capacity(2),
            sbuf: Vec::new(),
            dbuf: Vec::new(),
        }
    }
}

type Why = String;

impl TwoD {
    fn reg(&self, method: u32) -> u32 {
        self.regs[(method / 4) as usize]
    }

    /// 32.32 fixed point from an `_INT` (signed) and a `_FRAC` method.
    fn fixed(&self, int: u32, frac: u32) -> i64 {
        (i64::from(self.reg(int) as i32) << 32) | i64::from(self.reg(frac))
    }

    fn surface(&self, dst: bool) -> Result<Surface, Why> {
        let (side, fmt, layout, pitch, width, height, upper, lower) = if dst {
            (
                "DST",
                mthd::SET_DST_FORMAT,
                mthd::SET_DST_MEMORY_LAYOUT,
                mthd::SET_DST_PITCH,
                mthd::SET_DST_WIDTH,
                mthd::SET_DST_HEIGHT,
                mthd::SET_DST_OFFSET_UPPER,
                mthd::SET_DST_OFFSET_LOWER,
            )
        } else {
            (
                "SRC",
                mthd::SET_SRC_FORMAT,
                mthd::SET_SRC_MEMORY_LAYOUT,
                mthd::SET_SRC_PITCH,
                mthd::SET_SRC_WIDTH,
                mthd::SET_SRC_HEIGHT,
                mthd::SET_SRC_OFFSET_UPPER,
                mthd::SET_SRC_OFFSET_LOWER,
            )
        };
        if self.reg(layout) & 1 == 0 {
            return Err(format!(
                "SET_{side}_MEMORY_LAYOUT BLOCKLINEAR: block-linear layout not modelled"
            ));
        }
        let code = bits(self.reg(fmt), 7, 0);
        let fmt =
            Format::new(code).ok_or_else(|| format!("SET_{side}_FORMAT {code:#x} not modelled"))?;
        let (width, height) = (self.reg(width), self.reg(height));
        if width == 0 || height == 0 {
            return Err(format!("SET_{side}_WIDTH/HEIGHT: zero-sized surface"));
        }
        Ok(Surface {
            va: (u64::from(bits(self.reg(upper), 7, 0)) << 32) | u64::from(self.reg(lower)),
            pitch: u64::from(self.reg(pitch)),
            width,
            height,
            fmt,
        })
    }

    /// The destination surface and the area draws may touch (surface ∩ clip rectangle).
    fn target(&self) -> Result<(Surface, Rect), Why> {
        match bits(self.reg(mthd::SET_OPERATION), 2, 0) {
            0 | 3 => {}
            op => {
                let name = ["", "ROP_AND", "BLEND_AND", "", "ROP", "SRCCOPY_PREMULT"]
                    .get(op as usize)
                    .copied()
                    .unwrap_or("BLEND_PREMULT/undefined");
                return Err(format!("SET_OPERATION {op} ({name}) not modelled"));
            }
        }
        if self.reg(mthd::SET_COLOR_KEY_ENABLE) & 1 != 0 {
            return Err("SET_COLOR_KEY_ENABLE TRUE: color keying not modelled".into());
        }
        let dst = self.surface(true)?;
        let mut area = Rect {
            x0: 0,
            y0: 0,
            x1: i64::from(dst.width),
            y1: i64::from(dst.height),
        };
        if self.reg(mthd::SET_CLIP_ENABLE) & 1 != 0 {
            let x0 = i64::from(self.reg(mthd::SET_CLIP_X0));
            let y0 = i64::from(self.reg(mthd::SET_CLIP_Y0));
            area = area.intersect(Rect {
                x0,
                y0,
                x1: x0 + i64::from(self.reg(mthd::SET_CLIP_WIDTH)),
                y1: y0 + i64::from(self.reg(mthd::SET_CLIP_HEIGHT)),
            });
        }
        Ok((dst, area))
    }

    fn check_size(r: &Rect, bpp: usize) -> Result<(), Why> {
        let bytes = r
            .width()
            .saturating_mul(r.height())
            .saturating_mul(bpp as u64);
        if bytes > MAX_LAUNCH_BYTES {
            return Err(format!(
                "{}x{} pixels: {bytes} bytes, a draw is capped at {MAX_LAUNCH_BYTES}",
                r.width(),
                r.height()
            ));
        }
        Ok(())
    }

    /// A vertex arrived (from `method`/`data`): draws the primitive it completes.
    fn vertex(
        &mut self,
        mem: &mut dyn ChannelMemory,
        x: i64,
        y: i64,
        method: u32,
        data: u32,
    ) -> Result<Effects, EngineError> {
        let bad = |why: Why| EngineError::BadArgument { method, data, why };
        let rect = match bits(self.reg(mthd::RENDER_SOLID_PRIM_MODE), 2, 0) {
            0 => Rect {
                x0: x,
                y0: y,
                x1: x + 1,
                y1: y + 1,
            },
            4 => {
                self.verts.push((x, y));
                if self.verts.len() < 2 {
                    return Ok(Effects::default());
                }
                let (a, b) = (self.verts[0], self.verts[1]);
                self.verts.clear();
                Rect {
                    x0: a.0.min(b.0),
                    y0: a.1.min(b.1),
                    x1: a.0.max(b.0),
                    y1: a.1.max(b.1),
                }
            }
            mode => {
                let name = ["", "LINES", "POLYLINE", "TRIANGLES"]
                    .get(mode as usize)
                    .copied()
                    .unwrap_or("undefined");
                return Err(bad(format!(
                    "RENDER_SOLID_PRIM_MODE {mode} ({name}) not modelled"
                )));
            }
        };
        let (dst, area) = self.target().map_err(bad)?;
        let cfmt_code = bits(self.reg(mthd::SET_RENDER_SOLID_PRIM_COLOR_FORMAT), 7, 0);
        let cfmt = Format::new(cfmt_code).ok_or_else(|| {
            bad(format!(
                "SET_RENDER_SOLID_PRIM_COLOR_FORMAT {cfmt_code:#x} not modelled"
            ))
        })?;
        let conv = Convert::new(cfmt, dst.fmt).ok_or_else(|| {
            bad(format!(
                "solid color format {:#x} to SET_DST_FORMAT {:#x} not modelled",
                cfmt.code, dst.fmt.code
            ))
        })?;
        let color = self.reg(mthd::SET_RENDER_SOLID_PRIM_COLOR).to_le_bytes();
        let mut pixel = [0u8; 4];
        conv.pixel(&color[..cfmt.bpp], &mut pixel[..dst.fmt.bpp]);
        let r = rect.intersect(area);
        if r.is_empty() {
            return Ok(Effects::default());
        }
        Self::check_size(&r, dst.fmt.bpp).map_err(bad)?;
        let bytes = self
            .fill(mem, &dst, &r, &pixel[..dst.fmt.bpp])
            .map_err(EngineError::Fault)?;
        Ok(Effects {
            nonstall_interrupt: false,
            bytes,
        })
    }

    /// Fills `r` (inside `dst`) with `pixel`, one run per row (or one run in all when the
    /// rows are back to back).
    fn fill(
        &mut self,
        mem: &mut dyn ChannelMemory,
        dst: &Surface,
        r: &Rect,
        pixel: &[u8],
    ) -> Result<u64, MemFault> {
        let bpp = pixel.len() as u64;
        let row_bytes = r.width() * bpp;
        let (rows, run_bytes) = if dst.pitch == row_bytes {
            (1, row_bytes * r.height())
        } else {
            (r.height(), row_bytes)
        };
        let run = (run_bytes.min((SEGMENT * 4) as u64) / bpp * bpp) as usize;
        self.dbuf.clear();
        self.dbuf.resize(run, 0);
        for p in self.dbuf.chunks_exact_mut(pixel.len()) {
            p.copy_from_slice(pixel);
        }
        let first = dst.pixel(r.x0 as u32, r.y0 as u32);
        for i in 0..rows {
            let mut va = first + i * dst.pitch;
            let mut left = run_bytes;
            while left > 0 {
                let n = left.min(run as u64) as usize;
                mem.write(va, &self.dbuf[..n])?;
                va += n as u64;
                left -= n as u64;
            }
        }
        Ok(row_bytes * r.height())
    }

    fn blit(&mut self, mem: &mut dyn ChannelMemory, data: u32) -> Result<Effects, EngineError> {
        let method = mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT;
        let bad = |why: Why| EngineError::BadArgument { method, data, why };
        let (dst, area) = self.target().map_err(bad)?;
        let src = self.surface(false).map_err(bad)?;
        let conv = Convert::new(src.fmt, dst.fmt).ok_or_else(|| {
            bad(format!(
                "SET_SRC_FORMAT {:#x} to SET_DST_FORMAT {:#x} not modelled",
                src.fmt.code, dst.fmt.code
            ))
        })?;
        let dx0 = i64::from(self.reg(mthd::SET_PIXELS_FROM_MEMORY_DST_X0) as i32);
        let dy0 = i64::from(self.reg(mthd::SET_PIXELS_FROM_MEMORY_DST_Y0) as i32);
        let rect = Rect {
            x0: dx0,
            y0: dy0,
            x1: dx0 + i64::from(self.reg(mthd::SET_PIXELS_FROM_MEMORY_DST_WIDTH)),
            y1: dy0 + i64::from(self.reg(mthd::SET_PIXELS_FROM_MEMORY_DST_HEIGHT)),
        };
        let du = self.fixed(
            mthd::SET_PIXELS_FROM_MEMORY_DU_DX_INT,
            mthd::SET_PIXELS_FROM_MEMORY_DU_DX_FRAC,
        );
        let dv = self.fixed(
            mthd::SET_PIXELS_FROM_MEMORY_DV_DY_INT,
            mthd::SET_PIXELS_FROM_MEMORY_DV_DY_FRAC,
        );
        let u0 = self.fixed(
            mthd::SET_PIXELS_FROM_MEMORY_SRC_X0_INT,
            mthd::SET_PIXELS_FROM_MEMORY_SRC_X0_FRAC,
        );
        let v0 = (i64::from(data as i32) << 32)
            | i64::from(self.reg(mthd::SET_PIXELS_FROM_MEMORY_SRC_Y0_FRAC));
        let mode = self.reg(mthd::SET_PIXELS_FROM_MEMORY_SAMPLE_MODE);
        let center = bits(mode, 0, 0) == 0;
        if bits(mode, 4, 4) != 0 {
            let one = 1i64 << 32;
            let frac = (one - 1) & (u0 | v0);
            if du != one || dv != one || frac != 0 {
                return Err(bad(
                    "SET_PIXELS_FROM_MEMORY_SAMPLE_MODE FILTER BILINEAR not modelled \
                     (except 1:1 with integer origins)"
                        .into(),
                ));
            }
        }
        let r = rect.intersect(area);
        if r.is_empty() {
            return Ok(Effects::default());
        }
        Self::check_size(&r, dst.fmt.bpp.max(src.fmt.bpp)).map_err(bad)?;
        let blit = Blit {
            src,
            dst,
            conv,
            rect,
            clip: r,
            u0,
            v0,
            du,
            dv,
            center,
            dir: self.reg(mthd::SET_PIXELS_FROM_MEMORY_DIRECTION),
        };
        let mut sbuf = std::mem::take(&mut self.sbuf);
        let mut dbuf = std::mem::take(&mut self.dbuf);
        let res = blit.run(mem, &mut sbuf, &mut dbuf);
        self.sbuf = sbuf;
        self.dbuf = dbuf;
        res.map_err(EngineError::Fault)?;
        Ok(Effects {
            nonstall_interrupt: false,
            bytes: r.width() * r.height() * dst.fmt.bpp as u64,
        })
    }
}

/// The source pixel index that destination index `i` (from the rectangle's origin) samples:
/// floor(origin + (i + h)·step), h = 1/2 or 0, clamped to [0, size).
fn sample(origin: i64, step: i64, i: i64, center: bool, size: u32) -> u32 {
    let twice =
        2 * i128::from(origin) + (2 * i128::from(i) + i128::from(center)) * i128::from(step);
    (twice >> 33).clamp(0, i128::from(size) - 1) as u32
}

/// A validated blit.
struct Blit {
    src: Surface,
    dst: Surface,
    conv: Convert,
    /// The whole destination rectangle (sampling is relative to its origin).
    rect: Rect,
    /// The part of it that is drawn.
    clip: Rect,
    u0: i64,
    v0: i64,
    du: i64,
    dv: i64,
    center: bool,
    dir: u32,
}

impl Blit {
    fn run(
        &self,
        mem: &mut dyn ChannelMemory,
        sbuf: &mut Vec<u8>,
        dbuf: &mut Vec<u8>,
    ) -> Result<(), MemFault> {
        let (sb, db) = (self.src.fmt.bpp, self.dst.fmt.bpp);
        // Runs of at most SEGMENT pixels along each row.
        let mut runs: Vec<(i64, i64)> = (self.clip.x0..self.clip.x1)
            .step_by(SEGMENT)
            .map(|x| (x, (x + SEGMENT as i64).min(self.clip.x1)))
            .collect();
        // Walk away from an overlap: if the destination starts after the source in memory,
        // go bottom-up and right-to-left (unless the direction is forced).
        let sy = sample(
            self.v0,
            self.dv,
            self.clip.y0 - self.rect.y0,
            self.center,
            self.src.height,
        );
        let sx = sample(
            self.u0,
            self.du,
            self.clip.x0 - self.rect.x0,
            self.center,
            self.src.width,
        );
        let later =
            self.dst.pixel(self.clip.x0 as u32, self.clip.y0 as u32) > self.src.pixel(sx, sy);
        let rev_y = match bits(self.dir, 5, 4) {
            1 => false,
            2 => true,
            _ => later,
        };
        let rev_x = match bits(self.dir, 1, 0) {
            1 => false,
            2 => true,
            _ => later,
        };
        if rev_x {
            runs.reverse();
        }
        let mut xs: Vec<u32> = Vec::with_capacity(SEGMENT);
        let mut visit = |y: i64| -> Result<(), MemFault> {
            let v = sample(
                self.v0,
                self.dv,
                y - self.rect.y0,
                self.center,
                self.src.height,
            );
            for &(x0, x1) in &runs {
                xs.clear();
                xs.extend((x0..x1).map(|x| {
                    sample(
                        self.u0,
                        self.du,
                        x - self.rect.x0,
                        self.center,
                        self.src.width,
                    )
                }));
                let n = xs.len();
                let (lo, hi) = xs
                    .iter()
                    .fold((u32::MAX, 0), |(l, h), &x| (l.min(x), h.max(x)));
                let span = (hi - lo) as usize + 1;
                let dst_va = self.dst.pixel(x0 as u32, y as u32);
                dbuf.resize(n * db, 0);
                if span <= 4 * n {
                    // One read of the source span this run needs.
                    sbuf.resize(span * sb, 0);
                    mem.read(self.src.pixel(lo, v), &mut sbuf[..span * sb])?;
                    let direct = self.conv == Convert::Same
                        && xs[0] == lo
                        && xs.windows(2).all(|w| w[1] == w[0] + 1);
                    if direct {
                        mem.write(dst_va, &sbuf[..n * sb])?;
                        continue;
                    }
                    for (k, &x) in xs.iter().enumerate() {
                        let s = (x - lo) as usize * sb;
                        self.conv
                            .pixel(&sbuf[s..s + sb], &mut dbuf[k * db..(k + 1) * db]);
                    }
                } else {
                    // A strong minification: read only the sampled pixels.
                    let mut px = [0u8; 4];
                    for (k, &x) in xs.iter().enumerate() {
                        mem.read(self.src.pixel(x, v), &mut px[..sb])?;
                        self.conv.pixel(&px[..sb], &mut dbuf[k * db..(k + 1) * db]);
                    }
                }
                mem.write(dst_va, &dbuf[..n * db])?;
            }
            Ok(())
        };
        let mut rows = self.clip.y0..self.clip.y1;
        if rev_y {
            rows.rev().try_for_each(&mut visit)
        } else {
            rows.try_for_each(&mut visit)
        }
    }
}

impl Engine for TwoD {
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
        let refuse = |why: &str| {
            Err(EngineError::BadArgument {
                method,
                data,
                why: why.into(),
            })
        };
        match method {
            mthd::PIXELS_FROM_CPU_DATA => return refuse("PIXELS_FROM_CPU_DATA not modelled"),
            mthd::MME_DMA_READ..=mthd::MME_DMA_SYNC => return refuse("MME DMA not modelled"),
            mthd::CALL_MME_MACRO..mthd::END => {
                return refuse("CALL_MME_MACRO/DATA: MME not modelled")
            }
            _ => {}
        }
        self.regs[(method / 4) as usize] = data;
        match method {
            mthd::RENDER_SOLID_PRIM_MODE => {
                self.verts.clear();
                Ok(Effects::default())
            }
            mthd::RENDER_SOLID_PRIM_POINT_X_Y => {
                let (x, y) = (i64::from(bits(data, 15, 0)), i64::from(bits(data, 31, 16)));
                self.vertex(mem, x, y, method, data)
            }
            m if (mthd::RENDER_SOLID_PRIM_POINT_SET_X..0x800).contains(&m)
                && m % 8 == mthd::RENDER_SOLID_PRIM_POINT_Y % 8 =>
            {
                let x = i64::from(self.reg(m - 4) as i32);
                self.vertex(mem, x, i64::from(data as i32), method, data)
            }
            mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT => self.blit(mem, data),
            _ => Ok(Effects::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testmem::FakeMem;
    use super::*;
    use format::*;

    const BASE: u64 = 0x20_0000_0000;
    const DST: u64 = BASE + 0x10000;
    const SRC: u64 = BASE + 0x40000;

    fn m(e: &mut TwoD, mem: &mut FakeMem, method: u32, data: u32) -> Effects {
        e.method(mem, method, data).expect("method")
    }

    fn surface(
        e: &mut TwoD,
        mem: &mut FakeMem,
        dst: bool,
        va: u64,
        fmt: u32,
        pitch: u32,
        (w, h): (u32, u32),
    ) {
        let b = if dst {
            mthd::SET_DST_FORMAT
        } else {
            mthd::SET_SRC_FORMAT
        };
        let (pitch_m, w_m, h_m, up, lo) = if dst {
            (
                mthd::SET_DST_PITCH,
                mthd::SET_DST_WIDTH,
                mthd::SET_DST_HEIGHT,
                mthd::SET_DST_OFFSET_UPPER,
                mthd::SET_DST_OFFSET_LOWER,
            )
        } else {
            (
                mthd::SET_SRC_PITCH,
                mthd::SET_SRC_WIDTH,
                mthd::SET_SRC_HEIGHT,
                mthd::SET_SRC_OFFSET_UPPER,
                mthd::SET_SRC_OFFSET_LOWER,
            )
        };
        m(e, mem, b, fmt);
        m(e, mem, b + 4, 1); // PITCH layout
        m(e, mem, pitch_m, pitch);
        m(e, mem, w_m, w);
        m(e, mem, h_m, h);
        m(e, mem, up, (va >> 32) as u32);
        m(e, mem, lo, va as u32);
    }

    /// A 64x32 A8R8G8B8 destination, pitch 0x100 (64 pixels), at DST.
    fn setup() -> (TwoD, FakeMem) {
        let mut mem = FakeMem::new(BASE, 0x80000);
        let mut e = TwoD::default();
        surface(&mut e, &mut mem, true, DST, A8R8G8B8, 0x100, (64, 32));
        m(&mut e, &mut mem, mthd::SET_OPERATION, 3);
        (e, mem)
    }

    fn solid(e: &mut TwoD, mem: &mut FakeMem, fmt: u32, color: u32) {
        m(e, mem, mthd::RENDER_SOLID_PRIM_MODE, 4);
        m(e, mem, mthd::SET_RENDER_SOLID_PRIM_COLOR_FORMAT, fmt);
        m(e, mem, mthd::SET_RENDER_SOLID_PRIM_COLOR, color);
    }

    fn vertex(
        e: &mut TwoD,
        mem: &mut FakeMem,
        j: u32,
        x: i32,
        y: i32,
    ) -> Result<Effects, EngineError> {
        m(
            e,
            mem,
            mthd::RENDER_SOLID_PRIM_POINT_SET_X + 8 * j,
            x as u32,
        );
        e.method(mem, mthd::RENDER_SOLID_PRIM_POINT_Y + 8 * j, y as u32)
    }

    fn rect(e: &mut TwoD, mem: &mut FakeMem, x0: i32, y0: i32, x1: i32, y1: i32) -> Effects {
        assert_eq!(
            vertex(e, mem, 0, x0, y0),
            Ok(Effects::default()),
            "first vertex draws nothing"
        );
        vertex(e, mem, 1, x1, y1).expect("rect")
    }

    /// The pixels of a `w`-wide 4-byte surface at `va` with pitch `pitch`, row by row.
    fn px(mem: &FakeMem, va: u64, pitch: u64, x: u64, y: u64) -> u32 {
        mem.u32_at(va + y * pitch + 4 * x)
    }

    /// Asserts that exactly `inside` pixels of the 64x32 destination hold `color`, the rest 0.
    fn check_rect(mem: &FakeMem, inside: impl Fn(u64, u64) -> bool, color: u32) {
        for y in 0..32 {
            for x in 0..64 {
                let want = if inside(x, y) { color } else { 0 };
                assert_eq!(px(mem, DST, 0x100, x, y), want, "pixel ({x}, {y})");
            }
        }
    }

    #[test]
    fn class_and_factory() {
        assert_eq!(TwoD::default().class(), 0x902d);
        assert_eq!(super::super::new_engine(0x902d).unwrap().class(), 0x902d);
        assert!(super::super::new_engine(0x1234).is_none());
    }

    #[test]
    fn rect_fill() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0x80ff_0000);
        let fx = rect(&mut e, &mut mem, 3, 2, 10, 5);
        assert_eq!(fx.bytes, 7 * 3 * 4);
        check_rect(
            &mem,
            |x, y| (3..10).contains(&x) && (2..5).contains(&y),
            0x80ff_0000,
        );
        // Row-wise: one write per row.
        assert_eq!(mem.writes, 3);
    }

    #[test]
    fn rect_corners_in_any_order_and_two_rects_per_burst() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0x1122_3344);
        // j = 0..3: two rectangles; the second given bottom-right first.
        vertex(&mut e, &mut mem, 0, 0, 0).unwrap();
        vertex(&mut e, &mut mem, 1, 2, 2).unwrap();
        vertex(&mut e, &mut mem, 2, 12, 9).unwrap();
        let fx = vertex(&mut e, &mut mem, 3, 10, 7).unwrap();
        assert_eq!(fx.bytes, 2 * 2 * 4);
        check_rect(
            &mem,
            |x, y| (x < 2 && y < 2) || ((10..12).contains(&x) && (7..9).contains(&y)),
            0x1122_3344,
        );
    }

    #[test]
    fn rect_clipped_to_surface_and_clip_rect() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0xffff_ffff);
        // Off the top-left and the bottom-right of the 64x32 surface.
        rect(&mut e, &mut mem, -5, -3, 2, 1);
        rect(&mut e, &mut mem, 60, 30, 100, 100);
        check_rect(
            &mem,
            |x, y| (x < 2 && y < 1) || (x >= 60 && y >= 30),
            0xffff_ffff,
        );

        let (mut e, mut mem) = setup();
        m(&mut e, &mut mem, mthd::SET_CLIP_X0, 4);
        m(&mut e, &mut mem, mthd::SET_CLIP_Y0, 6);
        m(&mut e, &mut mem, mthd::SET_CLIP_WIDTH, 3);
        m(&mut e, &mut mem, mthd::SET_CLIP_HEIGHT, 100);
        // Stored but not enabled yet: no clip.
        solid(&mut e, &mut mem, A8R8G8B8, 7);
        rect(&mut e, &mut mem, 0, 0, 1, 1);
        m(&mut e, &mut mem, mthd::SET_CLIP_ENABLE, 1);
        let fx = rect(&mut e, &mut mem, 0, 0, 64, 10);
        assert_eq!(fx.bytes, 3 * 4 * 4);
        check_rect(
            &mem,
            |x, y| (x == 0 && y == 0) || ((4..7).contains(&x) && (6..10).contains(&y)),
            7,
        );
        // Entirely clipped away: nothing, no error.
        let w = mem.writes;
        assert_eq!(rect(&mut e, &mut mem, 20, 0, 30, 10), Effects::default());
        assert_eq!(mem.writes, w);
    }

    #[test]
    fn full_width_rect_is_one_run() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0xabcd_ef01);
        rect(&mut e, &mut mem, 0, 4, 64, 20);
        assert_eq!(mem.writes, 1);
        check_rect(&mem, |_, y| (4..20).contains(&y), 0xabcd_ef01);
    }

    #[test]
    fn packed_vertices_and_points() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0x5);
        m(
            &mut e,
            &mut mem,
            mthd::RENDER_SOLID_PRIM_POINT_X_Y,
            1 | (2 << 16),
        );
        m(
            &mut e,
            &mut mem,
            mthd::RENDER_SOLID_PRIM_POINT_X_Y,
            4 | (3 << 16),
        );
        m(&mut e, &mut mem, mthd::RENDER_SOLID_PRIM_MODE, 0); // POINTS
        m(
            &mut e,
            &mut mem,
            mthd::RENDER_SOLID_PRIM_POINT_X_Y,
            40 | (20 << 16),
        );
        let fx = vertex(&mut e, &mut mem, 5, 63, 31).unwrap();
        assert_eq!(fx.bytes, 4);
        check_rect(
            &mem,
            |x, y| ((1..4).contains(&x) && y == 2) || (x, y) == (40, 20) || (x, y) == (63, 31),
            0x5,
        );
    }

    #[test]
    fn mode_change_drops_a_half_rect() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0x9);
        vertex(&mut e, &mut mem, 0, 0, 0).unwrap();
        solid(&mut e, &mut mem, A8R8G8B8, 0x9); // RECTS again: a new sequence
        rect(&mut e, &mut mem, 5, 5, 6, 6);
        check_rect(&mem, |x, y| (x, y) == (5, 5), 0x9);
    }

    #[test]
    fn lines_refused() {
        let (mut e, mut mem) = setup();
        solid(&mut e, &mut mem, A8R8G8B8, 0x9);
        m(&mut e, &mut mem, mthd::RENDER_SOLID_PRIM_MODE, 1);
        match vertex(&mut e, &mut mem, 0, 1, 1) {
            Err(EngineError::BadArgument { method, why, .. }) => {
                assert_eq!(method, mthd::RENDER_SOLID_PRIM_POINT_Y);
                assert!(why.contains("LINES"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(mem.writes, 0);
    }

    #[test]
    fn solid_color_formats() {
        // ARGB color into an ABGR surface: R and B swap.
        let (mut e, mut mem) = setup();
        surface(&mut e, &mut mem, true, DST, A8B8G8R8, 0x100, (64, 32));
        solid(&mut e, &mut mem, A8R8G8B8, 0x80_11_22_33);
        rect(&mut e, &mut mem, 0, 0, 1, 1);
        assert_eq!(mem.u32_at(DST), 0x80_33_22_11);
        // XRGB color into an ARGB surface: opaque.
        solid(&mut e, &mut mem, X8R8G8B8, 0x00_11_22_33);
        surface(&mut e, &mut mem, true, DST, A8R8G8B8, 0x100, (64, 32));
        rect(&mut e, &mut mem, 1, 0, 2, 1);
        assert_eq!(mem.u32_at(DST + 4), 0xff_11_22_33);
        // R5G6B5 into R5G6B5: 2-byte pixels.
        surface(&mut e, &mut mem, true, DST, R5G6B5, 0x80, (64, 32));
        solid(&mut e, &mut mem, R5G6B5, 0xdead_f81f);
        let fx = rect(&mut e, &mut mem, 0, 1, 3, 2);
        assert_eq!(fx.bytes, 6);
        assert_eq!(
            mem.peek(DST + 0x80, 8),
            &[0x1f, 0xf8, 0x1f, 0xf8, 0x1f, 0xf8, 0, 0]
        );
        // Y8.
        surface(&mut e, &mut mem, true, DST, Y8, 0x40, (64, 32));
        solid(&mut e, &mut mem, Y8, 0x7e);
        rect(&mut e, &mut mem, 2, 4, 5, 5);
        assert_eq!(mem.peek(DST + 4 * 0x40, 6), &[0, 0, 0x7e, 0x7e, 0x7e, 0]);
        // ARGB color into R5G6B5: not modelled.
        solid(&mut e, &mut mem, A8R8G8B8, 0);
        vertex(&mut e, &mut mem, 0, 0, 0).unwrap();
        let r = vertex(&mut e, &mut mem, 1, 1, 1);
        assert!(matches!(r, Err(EngineError::BadArgument { .. })), "{r:?}");
    }

    #[test]
    fn refused_draws() {
        let cases: [(u32, u32, &str); 5] = [
            (
                mthd::SET_DST_MEMORY_LAYOUT,
                0,
                "block-linear layout not modelled",
            ),
            (mthd::SET_OPERATION, 4, "SET_OPERATION"),
            (mthd::SET_COLOR_KEY_ENABLE, 1, "SET_COLOR_KEY_ENABLE"),
            (mthd::SET_DST_WIDTH, 0, "zero-sized"),
            (mthd::SET_DST_FORMAT, 0xca, "SET_DST_FORMAT"),
        ];
        for (method, value, name) in cases {
            let (mut e, mut mem) = setup();
            solid(&mut e, &mut mem, A8R8G8B8, 1);
            m(&mut e, &mut mem, method, value);
            vertex(&mut e, &mut mem, 0, 0, 0).unwrap();
            match vertex(&mut e, &mut mem, 1, 4, 4) {
                Err(EngineError::BadArgument { why, .. }) => assert!(why.contains(name), "{why}"),
                other => panic!("{name}: {other:?}"),
            }
            assert_eq!(mem.writes, 0);
        }
        // SRCCOPY_AND draws like SRCCOPY.
        let (mut e, mut mem) = setup();
        m(&mut e, &mut mem, mthd::SET_OPERATION, 0);
        solid(&mut e, &mut mem, A8R8G8B8, 1);
        rect(&mut e, &mut mem, 0, 0, 1, 1);
        assert_eq!(mem.u32_at(DST), 1);
    }

    /// A 16x8 X8R8G8B8 source at SRC, pitch 0x80 (32 pixels), pixel (x, y) = 0x00yy00xx.
    fn source(e: &mut TwoD, mem: &mut FakeMem, fmt: u32) {
        surface(e, mem, false, SRC, fmt, 0x80, (16, 8));
        for y in 0..8u64 {
            for x in 0..16u64 {
                mem.put_u32(SRC + y * 0x80 + 4 * x, ((y as u32) << 16) | x as u32);
            }
        }
    }

    /// Sets a blit of the `w`x`h` destination rectangle at (x, y) from source origin
    /// (sx, sy) with step `step` (32.32), and launches it.
    #[allow(clippy::too_many_arguments)]
    fn blit(
        e: &mut TwoD,
        mem: &mut FakeMem,
        x: i32,
        y: i32,
        w: u32,
        h: u32,
        sx: i64,
        sy: i64,
        step: i64,
    ) -> Result<Effects, EngineError> {
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DST_X0, x as u32);
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DST_Y0, y as u32);
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DST_WIDTH, w);
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DST_HEIGHT, h);
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DU_DX_FRAC, step as u32);
        m(
            e,
            mem,
            mthd::SET_PIXELS_FROM_MEMORY_DU_DX_INT,
            (step >> 32) as u32,
        );
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_DV_DY_FRAC, step as u32);
        m(
            e,
            mem,
            mthd::SET_PIXELS_FROM_MEMORY_DV_DY_INT,
            (step >> 32) as u32,
        );
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_SRC_X0_FRAC, sx as u32);
        m(
            e,
            mem,
            mthd::SET_PIXELS_FROM_MEMORY_SRC_X0_INT,
            (sx >> 32) as u32,
        );
        m(e, mem, mthd::SET_PIXELS_FROM_MEMORY_SRC_Y0_FRAC, sy as u32);
        e.method(mem, mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT, (sy >> 32) as u32)
    }

    const ONE: i64 = 1 << 32;

    #[test]
    fn blit_one_to_one() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        let (w0, r0) = (mem.writes, mem.reads);
        let fx = blit(&mut e, &mut mem, 10, 3, 5, 4, 2 * ONE, ONE, ONE).unwrap();
        assert_eq!(fx.bytes, 5 * 4 * 4);
        // Row-wise: one read and one write per row.
        assert_eq!((mem.reads - r0, mem.writes - w0), (4, 4));
        for y in 0..32u64 {
            for x in 0..64u64 {
                let want = if (10..15).contains(&x) && (3..7).contains(&y) {
                    (((y - 3 + 1) as u32) << 16) | (x - 10 + 2) as u32
                } else {
                    0
                };
                assert_eq!(px(&mem, DST, 0x100, x, y), want, "({x}, {y})");
            }
        }
    }

    #[test]
    fn blit_clipped_by_surface_and_clip_rect() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        m(&mut e, &mut mem, mthd::SET_CLIP_X0, 0);
        m(&mut e, &mut mem, mthd::SET_CLIP_Y0, 1);
        m(&mut e, &mut mem, mthd::SET_CLIP_WIDTH, 64);
        m(&mut e, &mut mem, mthd::SET_CLIP_HEIGHT, 64);
        m(&mut e, &mut mem, mthd::SET_CLIP_ENABLE, 1);
        // Starts at (-2, -1): column 0 samples source x 2, row 0 is clipped.
        let fx = blit(&mut e, &mut mem, -2, -1, 6, 4, 0, 0, ONE).unwrap();
        assert_eq!(fx.bytes, 4 * 2 * 4);
        for y in 0..32u64 {
            for x in 0..64u64 {
                let want = if x < 4 && (1..3).contains(&y) {
                    (((y + 1) as u32) << 16) | (x + 2) as u32
                } else {
                    0
                };
                assert_eq!(px(&mem, DST, 0x100, x, y), want, "({x}, {y})");
            }
        }
    }

    #[test]
    fn blit_2x_magnification() {
        for corner in [false, true] {
            let (mut e, mut mem) = setup();
            source(&mut e, &mut mem, X8R8G8B8);
            m(&mut e, &mut mem, mthd::SET_DST_FORMAT, X8R8G8B8);
            m(
                &mut e,
                &mut mem,
                mthd::SET_PIXELS_FROM_MEMORY_SAMPLE_MODE,
                u32::from(corner),
            );
            blit(&mut e, &mut mem, 0, 0, 8, 6, 3 * ONE, 2 * ONE, ONE / 2).unwrap();
            for y in 0..8u64 {
                for x in 0..10u64 {
                    let want = if x < 8 && y < 6 {
                        (((2 + y / 2) as u32) << 16) | (3 + x / 2) as u32
                    } else {
                        0
                    };
                    assert_eq!(
                        px(&mem, DST, 0x100, x, y),
                        want,
                        "corner {corner} ({x}, {y})"
                    );
                }
            }
        }
    }

    #[test]
    fn blit_2x_minification_and_edge_clamp() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        m(
            &mut e,
            &mut mem,
            mthd::SET_PIXELS_FROM_MEMORY_SAMPLE_MODE,
            1,
        ); // CORNER
           // Source x 0, 2, .., 14, then past the 16-pixel edge: clamped to 15.
        blit(&mut e, &mut mem, 0, 0, 10, 2, 0, 0, 2 * ONE).unwrap();
        let row0: Vec<u32> = (0..10).map(|x| px(&mem, DST, 0x100, x, 0)).collect();
        assert_eq!(row0, [0, 2, 4, 6, 8, 10, 12, 14, 15, 15]);
        assert_eq!(px(&mem, DST, 0x100, 3, 1), (2 << 16) | 6);
        // CENTER samples the second pixel (and row) of each pair.
        m(
            &mut e,
            &mut mem,
            mthd::SET_PIXELS_FROM_MEMORY_SAMPLE_MODE,
            0,
        );
        blit(&mut e, &mut mem, 0, 0, 3, 1, 0, 0, 2 * ONE).unwrap();
        assert_eq!(px(&mem, DST, 0x100, 2, 0), (1 << 16) | 5);
    }

    #[test]
    fn blit_format_conversion() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, X8R8G8B8);
        mem.put_u32(SRC, 0x00aa_bbcc);
        m(&mut e, &mut mem, mthd::SET_DST_FORMAT, A8B8G8R8);
        blit(&mut e, &mut mem, 0, 0, 2, 1, 0, 0, ONE).unwrap();
        assert_eq!(mem.u32_at(DST), 0xffcc_bbaa);
        assert_eq!(mem.u32_at(DST + 4), 0xff01_0000);
        // Same size, different kind: refused.
        m(&mut e, &mut mem, mthd::SET_DST_FORMAT, Y32);
        let r = blit(&mut e, &mut mem, 0, 0, 2, 1, 0, 0, ONE);
        assert!(
            matches!(&r, Err(EngineError::BadArgument { why, .. }) if why.contains("SET_SRC_FORMAT")),
            "{r:?}"
        );
        // 16-bit to 16-bit, same format.
        surface(&mut e, &mut mem, false, SRC, R5G6B5, 0x20, (16, 8));
        surface(&mut e, &mut mem, true, DST, R5G6B5, 0x40, (64, 32));
        mem.poke(SRC + 0x20, &[1, 2, 3, 4, 5, 6]);
        blit(&mut e, &mut mem, 1, 0, 3, 1, 0, ONE, ONE).unwrap();
        assert_eq!(mem.peek(DST, 10), &[0xaa, 0xbb, 1, 2, 3, 4, 5, 6, 0, 0]);
    }

    #[test]
    fn blit_overlapping_scroll() {
        // Scroll the destination surface down by one row and right by one pixel, in place.
        let (mut e, mut mem) = setup();
        for y in 0..4u64 {
            for x in 0..4u64 {
                mem.put_u32(DST + y * 0x100 + 4 * x, (10 * y + x + 1) as u32);
            }
        }
        surface(&mut e, &mut mem, false, DST, A8R8G8B8, 0x100, (64, 32));
        blit(&mut e, &mut mem, 1, 1, 4, 4, 0, 0, ONE).unwrap();
        for y in 0..4u64 {
            for x in 0..4u64 {
                assert_eq!(
                    px(&mem, DST, 0x100, x + 1, y + 1),
                    (10 * y + x + 1) as u32,
                    "({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn blit_refusals() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        m(&mut e, &mut mem, mthd::SET_SRC_MEMORY_LAYOUT, 0);
        let r = blit(&mut e, &mut mem, 0, 0, 2, 2, 0, 0, ONE);
        match r {
            Err(EngineError::BadArgument { method, why, .. }) => {
                assert_eq!(method, mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT);
                assert!(
                    why.contains("SET_SRC_MEMORY_LAYOUT") && why.contains("block-linear"),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
        m(&mut e, &mut mem, mthd::SET_SRC_MEMORY_LAYOUT, 1);
        // Bilinear is refused when scaling, accepted at 1:1.
        m(
            &mut e,
            &mut mem,
            mthd::SET_PIXELS_FROM_MEMORY_SAMPLE_MODE,
            0x10,
        );
        let r = blit(&mut e, &mut mem, 0, 0, 2, 2, 0, 0, ONE / 2);
        assert!(
            matches!(&r, Err(EngineError::BadArgument { why, .. }) if why.contains("BILINEAR")),
            "{r:?}"
        );
        assert_eq!(mem.writes, 0);
        blit(&mut e, &mut mem, 0, 0, 2, 2, ONE, 0, ONE).unwrap();
        assert_eq!(mem.u32_at(DST), 1);
        // A draw of more than 4 GiB.
        surface(
            &mut e,
            &mut mem,
            true,
            DST,
            A8R8G8B8,
            0x100,
            (u32::MAX, u32::MAX),
        );
        let r = blit(&mut e, &mut mem, 0, 0, u32::MAX, u32::MAX, 0, 0, ONE);
        assert!(
            matches!(&r, Err(EngineError::BadArgument { why, .. }) if why.contains("capped")),
            "{r:?}"
        );
    }

    #[test]
    fn blit_fault_stops_at_the_faulting_row() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        // Source row 3 is unmapped.
        mem.hole = Some(SRC + 3 * 0x80..SRC + 4 * 0x80);
        let r = blit(&mut e, &mut mem, 0, 0, 4, 6, 0, 0, ONE);
        assert_eq!(
            r,
            Err(EngineError::Fault(MemFault {
                va: SRC + 3 * 0x80,
                write: false
            }))
        );
        assert_eq!(px(&mem, DST, 0x100, 1, 2), (2 << 16) | 1);
        for y in 3..6 {
            assert_eq!(px(&mem, DST, 0x100, 1, y), 0, "row {y} after the fault");
        }
    }

    #[test]
    fn methods_accepted_and_refused() {
        let (mut e, mut mem) = setup();
        for method in [
            0x0,
            mthd::NO_OPERATION,
            mthd::SET_NOTIFY_A,
            mthd::SET_NOTIFY_B,
            mthd::NOTIFY,
            mthd::WAIT_FOR_IDLE,
            mthd::SET_ROP,
            0x300,
            0x7f8,
            0x95c,
            0xdec,
            0x3400,
        ] {
            assert_eq!(
                e.method(&mut mem, method, 1),
                Ok(Effects::default()),
                "{method:#x}"
            );
        }
        for method in [
            0x4, 0x128, 0x1f0, 0x578, 0x590, 0x5e4, 0x820, 0x864, 0x890, 0x960, 0x1000, 0x3f00,
            0x201,
        ] {
            assert_eq!(
                e.method(&mut mem, method, 1),
                Err(EngineError::BadMethod { method, data: 1 }),
                "{method:#x}"
            );
        }
        for method in [
            mthd::PIXELS_FROM_CPU_DATA,
            mthd::MME_DMA_READ,
            mthd::MME_DMA_SYNC,
            mthd::CALL_MME_MACRO,
            0x3efc,
        ] {
            let r = e.method(&mut mem, method, 1);
            assert!(
                matches!(r, Err(EngineError::BadArgument { .. })),
                "{method:#x}: {r:?}"
            );
        }
        assert_eq!(mem.writes, 0);
    }

    #[test]
    fn no_panic_on_odd_state() {
        let (mut e, mut mem) = setup();
        source(&mut e, &mut mem, A8R8G8B8);
        let odd = [0u32, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX, 0xcf, 0x100];
        for &v in &odd {
            for method in [
                mthd::SET_DST_PITCH,
                mthd::SET_SRC_PITCH,
                mthd::SET_CLIP_X0,
                mthd::SET_CLIP_WIDTH,
                mthd::SET_PIXELS_FROM_MEMORY_DU_DX_INT,
                mthd::SET_PIXELS_FROM_MEMORY_SRC_X0_INT,
                mthd::SET_PIXELS_FROM_MEMORY_DST_X0,
                mthd::SET_PIXELS_FROM_MEMORY_DST_WIDTH,
                mthd::SET_PIXELS_FROM_MEMORY_DIRECTION,
            ] {
                m(&mut e, &mut mem, method, v);
                let _ = e.method(&mut mem, mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT, v);
                let _ = e.method(&mut mem, mthd::PIXELS_FROM_MEMORY_SRC_Y0_INT, 0);
                let _ = vertex(&mut e, &mut mem, 63, v as i32, v as i32);
                let _ = e.method(&mut mem, mthd::RENDER_SOLID_PRIM_POINT_X_Y, v);
            }
        }
    }
}
