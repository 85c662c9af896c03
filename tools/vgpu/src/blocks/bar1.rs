// SPDX-License-Identifier: GPL-2.0
//! BAR1's binding registers in PBUS. Trace block `bar1` (the BAR1 accesses themselves are
//! traced under the same name, see [`crate::mmu::bar1`]).
//!
//! | BAR0 | Register | Behaviour | Source |
//! |---|---|---|---|
//! | 0x001704 | `NV_PBUS_BAR1_BLOCK` | PTR 27:0, TARGET 29:28, MODE 31 read/write (bit 30 reads 0); INIT 0 (physical, video memory); a write binds BAR1 at once; 0 after FLR | OD `ampere/ga100/dev_bus.ref.txt` L163-175 |
//! | 0x001710 | `NV_PBUS_BIND_STATUS` | reads 0: no BAR1/BAR2 bind pending or outstanding (binds complete at the write); writes ignored | L176-189 |
//!
//! Under GSP-RM the BAR1 binding is GSP-RM's (docs/facts/ga102.md §13 item 16); the GSP-RM model binds BAR1
//! when it starts. The CPU can still write the register; the model lets it.

use super::Block;
use crate::mmu::bar1::{BAR1_BLOCK, BIND_STATUS};
use crate::mmu::hub::Hub;

/// The block.
pub struct Bar1Regs {
    hub: Hub,
}

impl Bar1Regs {
    /// The registers of `hub`'s BAR1.
    pub fn new(hub: Hub) -> Self {
        Bar1Regs { hub }
    }
}

impl Block for Bar1Regs {
    fn name(&self) -> &'static str {
        "bar1"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(BAR1_BLOCK, BAR1_BLOCK + 4), (BIND_STATUS, BIND_STATUS + 4)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        match off {
            BAR1_BLOCK => self.hub.lock().bar1().block,
            _ => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        if off == BAR1_BLOCK {
            self.hub.lock().bar1_bind(val);
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        match off {
            BAR1_BLOCK => Some("NV_PBUS_BAR1_BLOCK"),
            BIND_STATUS => Some("NV_PBUS_BIND_STATUS"),
            _ => None,
        }
    }

    fn reset(&mut self) {
        // The hub's reset (from the `mmu` block) puts BAR1 back in physical mode too; doing it
        // here as well keeps this block correct on its own.
        self.hub.lock().reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmu::bar1::{Bind, MODE_VIRTUAL};
    use crate::mmu::format::Aperture;
    use crate::mmu::mem::testing::Rig;
    use crate::mmu::walk::FaultType;
    use crate::trace::Tracer;
    use std::sync::Arc;

    #[test]
    fn bind_register_and_status() {
        let r = Rig::new();
        let hub = Hub::new(
            r.mem.vram.clone(),
            r.mem.guest.clone(),
            Arc::new(Tracer::off()),
        );
        let mut b = Bar1Regs::new(hub.clone());
        assert_eq!(b.read32(BAR1_BLOCK), 0);
        assert_eq!(
            hub.lock().bar1().bind,
            Bind::Physical(Some(Aperture::Video))
        );
        b.write32(BAR1_BLOCK, 0xffff_ffff);
        assert_eq!(b.read32(BAR1_BLOCK), 0xbfff_ffff);
        // Virtual, TARGET 3, an instance block nobody can read: unbound.
        assert!(matches!(
            hub.lock().bar1().bind,
            Bind::Virtual {
                pdb: Err(FaultType::UnboundInstBlock),
                ..
            }
        ));
        b.write32(BAR1_BLOCK, MODE_VIRTUAL | (1 << 28));
        assert!(matches!(
            hub.lock().bar1().bind,
            Bind::Virtual {
                inst: (None, 0),
                ..
            }
        ));
        assert_eq!(b.read32(BIND_STATUS), 0);
        b.write32(BIND_STATUS, 0xf);
        assert_eq!(b.read32(BIND_STATUS), 0);
        b.reset();
        assert_eq!(b.read32(BAR1_BLOCK), 0);
        assert_eq!(b.reg_name(BIND_STATUS), Some("NV_PBUS_BIND_STATUS"));
        assert_eq!(b.reg_name(0), None);
    }
}
