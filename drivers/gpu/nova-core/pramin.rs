// SPDX-License-Identifier: GPL-2.0
//! PRAMIN: the 1 MiB window in BAR0 at 0x700000 through which the CPU reads and writes VRAM
//! before (and besides) any BAR1 mapping, positioned by `NV_PBUS_BAR0_WINDOW` (see
//! [`crate::regs::NV_PBUS_BAR0_WINDOW`] for the sources). Used for the few VRAM structures the
//! CPU must write itself, such as BAR1 page-directory entries under GSP-RM's root.

use kernel::{io::Io, new_mutex, prelude::*, sync::Mutex};

use crate::{driver::Bar0, regs::NV_PBUS_BAR0_WINDOW};

/// BAR0 offset of the window.
const WINDOW: usize = 0x70_0000;
/// Window size.
const WINDOW_SIZE: u64 = 1 << 20;

/// The window and where it points; the lock keeps a move and the access after it together.
#[pin_data]
pub(crate) struct Pramin {
    /// VRAM address of the window's first byte, `None` until first moved.
    #[pin]
    base: Mutex<Option<u64>>,
}

impl Pramin {
    /// A window whose position is not known yet.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Pramin {
            base <- new_mutex!(None),
        })
    }

    fn with<R>(&self, bar: &Bar0<'_>, addr: u64, f: impl FnOnce(usize) -> Result<R>) -> Result<R> {
        if addr % 4 != 0 {
            return Err(EINVAL);
        }
        let want = addr & !(WINDOW_SIZE - 1);
        let mut base = self.base.lock();
        if *base != Some(want) {
            let field = u32::try_from(want >> 16).map_err(|_| ERANGE)?;
            bar.write_reg(NV_PBUS_BAR0_WINDOW::zeroed().try_with_base(field)?);
            *base = Some(want);
        }
        f(WINDOW + (addr - want) as usize)
    }

    /// Reads the 32-bit word at VRAM address `addr`.
    pub(crate) fn read32(&self, bar: &Bar0<'_>, addr: u64) -> Result<u32> {
        self.with(bar, addr, |off| bar.try_read32(off))
    }

    /// Writes the 32-bit word at VRAM address `addr`.
    pub(crate) fn write32(&self, bar: &Bar0<'_>, addr: u64, v: u32) -> Result {
        self.with(bar, addr, |off| bar.try_write32(v, off))
    }
}
