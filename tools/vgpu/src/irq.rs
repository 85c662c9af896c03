// SPDX-License-Identifier: GPL-2.0
//! Interrupt delivery. QEMU hands the device one eventfd per vector (vfio-user SET_IRQS); raising
//! an interrupt is writing 1 to it. Which of INTx, MSI or MSI-X is used follows the guest's
//! configuration-space settings, as on hardware.
//!
//! Blocks do not own the eventfds: a block that interrupts the host asserts an [`IrqLine`]
//! from inside a register access, and the [`crate::server::Device`] delivers it right after
//! that access returns, after passing it through the CPU interrupt tree
//! ([`crate::blocks::intr`]): the GSP's interrupt (GSP-RM's SWGEN0 notification, facts §7.4)
//! becomes GPU vector [`crate::blocks::intr::GSP_VECTOR`], and a newly asserted subtree s of the
//! tree becomes MSI-X vector s (or the MSI / INTx message).

use crate::pci::{PciConfig, MSIX_VECTORS};
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_PCI_INTX_IRQ_INDEX,
    VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX,
};

/// Which mechanism delivered an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// MSI-X vector n.
    Msix(u32),
    /// MSI.
    Msi,
    /// Legacy INTx.
    Intx,
}

/// An interrupt output of a block towards the host. Asserting it counts an edge; the device
/// takes the count after the access and raises the vector. Cloning shares the line.
#[derive(Clone, Default, Debug)]
pub struct IrqLine(Arc<AtomicU32>);

impl IrqLine {
    /// A line with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signals one interrupt.
    pub fn assert(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// The number of interrupts signalled since the last call.
    pub fn take(&self) -> u32 {
        self.0.swap(0, Ordering::SeqCst)
    }
}

/// The eventfds of every vector.
#[derive(Default)]
pub struct Irqs {
    intx: Option<File>,
    msi: Option<File>,
    msix: Vec<Option<File>>,
    /// Interrupts delivered so far.
    pub delivered: u64,
}

impl Irqs {
    /// No vectors wired yet.
    pub fn new() -> Self {
        Irqs {
            msix: (0..MSIX_VECTORS).map(|_| None).collect(),
            ..Default::default()
        }
    }

    /// Handles vfio-user `SET_IRQS`. Returns a description for the trace.
    pub fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> String {
        if flags & VFIO_IRQ_SET_ACTION_TRIGGER == 0 {
            // Mask/unmask of INTx: the line is edge-signalled through the eventfd, nothing to do.
            return format!("index {index} flags {flags:#x}: mask/unmask ignored");
        }
        let with_fds = flags & VFIO_IRQ_SET_DATA_EVENTFD != 0;
        let mut fds = fds.into_iter();
        match index {
            VFIO_PCI_INTX_IRQ_INDEX => {
                self.intx = if with_fds && count > 0 {
                    fds.next()
                } else {
                    None
                }
            }
            VFIO_PCI_MSI_IRQ_INDEX => {
                self.msi = if with_fds && count > 0 {
                    fds.next()
                } else {
                    None
                }
            }
            VFIO_PCI_MSIX_IRQ_INDEX => {
                if count == 0 {
                    self.msix.iter_mut().for_each(|v| *v = None);
                }
                for v in start..start.saturating_add(count).min(MSIX_VECTORS) {
                    self.msix[v as usize] = if with_fds { fds.next() } else { None };
                }
            }
            _ => return format!("index {index}: not an interrupt this device has"),
        }
        let kind = match index {
            VFIO_PCI_INTX_IRQ_INDEX => "INTx",
            VFIO_PCI_MSI_IRQ_INDEX => "MSI",
            _ => "MSI-X",
        };
        format!(
            "{kind} vectors {start}..{} {}",
            start.saturating_add(count),
            if with_fds { "wired" } else { "released" }
        )
    }

    /// Raises `vector` the way the guest configured the function. Returns what was used, or
    /// `None` when no mechanism is enabled and wired (the interrupt is lost, as on hardware).
    pub fn raise(&mut self, vector: u32, pci: &PciConfig) -> Option<Delivered> {
        let one = 1u64.to_ne_bytes();
        let (fd, how) = if pci.msix_enabled() {
            (
                self.msix.get_mut(vector as usize).and_then(|f| f.as_mut()),
                Delivered::Msix(vector),
            )
        } else if pci.msi_enabled() {
            (self.msi.as_mut(), Delivered::Msi)
        } else if !pci.intx_disabled() {
            (self.intx.as_mut(), Delivered::Intx)
        } else {
            (None, Delivered::Intx)
        };
        let fd = fd?;
        fd.write_all(&one).ok()?;
        self.delivered += 1;
        Some(how)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;
    use crate::pci::cap;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn eventfd() -> File {
        // SAFETY: eventfd(2) with valid flags returns a new descriptor or -1, checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        unsafe { File::from_raw_fd(fd) }
    }

    fn count(f: &File) -> u64 {
        let mut b = [0u8; 8];
        match (&*f).read(&mut b) {
            Ok(8) => u64::from_ne_bytes(b),
            _ => 0,
        }
    }

    #[test]
    fn follows_guest_configuration() {
        let mut pci = PciConfig::new(&GA102);
        let mut irqs = Irqs::new();
        let intx = eventfd();
        let msix3 = eventfd();
        irqs.set_irqs(
            VFIO_PCI_INTX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            0,
            1,
            vec![intx.try_clone().unwrap()],
        );
        irqs.set_irqs(
            VFIO_PCI_MSIX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            3,
            1,
            vec![msix3.try_clone().unwrap()],
        );

        assert_eq!(irqs.raise(0, &pci), Some(Delivered::Intx));
        assert_eq!(count(&intx), 1);

        pci.write((cap::MSIX + 3) as u64, &[0x80]);
        assert_eq!(irqs.raise(3, &pci), Some(Delivered::Msix(3)));
        assert_eq!(count(&msix3), 1);
        // Vector 2 has no eventfd: lost.
        assert_eq!(irqs.raise(2, &pci), None);
        // Out-of-range vector: lost, no panic.
        assert_eq!(irqs.raise(99, &pci), None);

        // INTx disabled and no MSI/MSI-X: nothing.
        let mut pci = PciConfig::new(&GA102);
        pci.write(4, &[0x00, 0x04]);
        assert_eq!(irqs.raise(0, &pci), None);
        assert_eq!(irqs.delivered, 2);
    }

    #[test]
    fn irq_line_counts_edges() {
        let l = IrqLine::new();
        let m = l.clone();
        l.assert();
        m.assert();
        assert_eq!(l.take(), 2);
        assert_eq!(m.take(), 0);
    }
}
