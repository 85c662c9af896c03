// SPDX-License-Identifier: GPL-2.0
//! Interrupt delivery. QEMU hands the device one eventfd per vector (vfio-user SET_IRQS); raising
//! an interrupt is writing 1 to it. Which of INTx, MSI or MSI-X is used follows the guest's
//! configuration-space settings, as on hardware.
//!
//! Blocks do not own the eventfds: a block that interrupts the host asserts an [`IrqLine`]
//! from inside a register access, and the [`crate::server::Device`] delivers it right after
//! that access returns, after passing it through the CPU interrupt tree
//! ([`crate::blocks::intr`]): the GSP's interrupt (GSP-RM's SWGEN0 notification, docs/facts/ga102.md §7.4)
//! becomes GPU vector [`crate::blocks::intr::GSP_VECTOR`], and a newly asserted subtree s of the
//! tree becomes MSI-X vector s (or the MSI / INTx message).
//!
//! Sources outside a register access (the PBDMAs of [`crate::fifo`], which run on their own
//! threads) deliver through the same [`Interrupts`]: the eventfds, the guest's delivery mode
//! and the tree's edge detection live behind one lock, so any thread can set a leaf bit and
//! send the message the tree's newly asserted subtrees call for (writing an eventfd from any
//! thread is fine).

use crate::blocks::intr::{self, IntrHandle};
use crate::pci::{PciConfig, MSIX_VECTORS};
use crate::trace::Tracer;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
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

/// How the guest configured interrupt delivery in configuration space (MSI-X enable, MSI
/// enable, INTx disable), as [`Irqs::raise`] needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mode {
    /// MSI-X enabled.
    pub msix: bool,
    /// MSI enabled.
    pub msi: bool,
    /// Command register INTx disable.
    pub intx_disabled: bool,
}

impl Mode {
    /// The mode `pci` is in.
    pub fn of(pci: &PciConfig) -> Mode {
        Mode {
            msix: pci.msix_enabled(),
            msi: pci.msi_enabled(),
            intx_disabled: pci.intx_disabled(),
        }
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
    pub fn raise(&mut self, vector: u32, mode: Mode) -> Option<Delivered> {
        let one = 1u64.to_ne_bytes();
        let (fd, how) = if mode.msix {
            (
                self.msix.get_mut(vector as usize).and_then(|f| f.as_mut()),
                Delivered::Msix(vector),
            )
        } else if mode.msi {
            (self.msi.as_mut(), Delivered::Msi)
        } else if !mode.intx_disabled {
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

struct DeliveryState {
    irqs: Irqs,
    mode: Mode,
    /// The subtrees the tree asserted at the previous delivery (edge detection).
    asserted: u32,
}

/// Interrupt delivery shared by the device (after each register access) and the threads that
/// interrupt on their own (the PBDMAs): the eventfds, the guest's mode, the edge detection,
/// the CPU interrupt tree and the GSP's interrupt line. Cloning shares it.
#[derive(Clone)]
pub struct Interrupts {
    state: Arc<Mutex<DeliveryState>>,
    intr: IntrHandle,
    gsp_irq: IrqLine,
    tracer: Arc<Tracer>,
}

impl Interrupts {
    /// Delivery through `intr` (the tree) for the GSP line `gsp_irq`, tracing under `irq`.
    pub fn new(intr: IntrHandle, gsp_irq: IrqLine, tracer: Arc<Tracer>) -> Self {
        Interrupts {
            state: Arc::new(Mutex::new(DeliveryState {
                irqs: Irqs::new(),
                mode: Mode::default(),
                asserted: 0,
            })),
            intr,
            gsp_irq,
            tracer,
        }
    }

    fn lock(&self) -> MutexGuard<'_, DeliveryState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// vfio-user `SET_IRQS` ([`Irqs::set_irqs`]).
    pub fn set_irqs(
        &self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> String {
        self.lock().irqs.set_irqs(index, flags, start, count, fds)
    }

    /// The guest changed configuration space: the mode in force from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    /// Function-level reset: nothing counts as asserted any more.
    pub fn reset(&self) {
        self.lock().asserted = 0;
    }

    /// Interrupts delivered so far.
    pub fn delivered(&self) -> u64 {
        self.lock().irqs.delivered
    }

    /// Raises message `vector` as the guest configured it (traced).
    pub fn raise(&self, vector: u32) -> Option<Delivered> {
        let mut s = self.lock();
        let mode = s.mode;
        let how = s.irqs.raise(vector, mode);
        drop(s);
        self.tracer
            .line("irq", format_args!("raise vector {vector}: {how:?}"));
        how
    }

    /// An interrupt source outside a register access signals GPU vector `v`: its leaf bit
    /// becomes pending and the tree's new edges are delivered.
    pub fn signal(&self, v: u32) {
        self.intr.signal(v);
        self.pump(false);
    }

    /// Takes the GSP's interrupt line into the tree (`storm`: set its leaf bit in any case)
    /// and sends a message for every subtree the tree newly asserts (`TOP & TOP_EN` went from
    /// 0 to 1 since the previous delivery): MSI-X vector = subtree number (OD
    /// `ampere/host/ampere_interrupt_map.csv`), or one MSI / INTx message for any number of
    /// them. `storm` re-sends the GSP's subtree while it stays asserted.
    pub fn pump(&self, storm: bool) {
        let mut s = self.lock();
        if self.gsp_irq.take() > 0 || storm {
            self.intr.signal(intr::GSP_VECTOR);
        }
        let now = self.intr.asserted();
        let mut fire = now & !s.asserted;
        if storm {
            fire |= now & 1 << intr::subtree_of(intr::GSP_VECTOR);
        }
        s.asserted = now;
        if fire == 0 {
            return;
        }
        let mode = s.mode;
        let vectors: Vec<u32> = if mode.msix {
            (0..32).filter(|v| fire & 1 << v != 0).collect()
        } else {
            vec![0]
        };
        let done: Vec<(u32, Option<Delivered>)> = vectors
            .into_iter()
            .map(|v| (v, s.irqs.raise(v, mode)))
            .collect();
        drop(s);
        for (v, how) in done {
            self.tracer
                .line("irq", format_args!("raise vector {v}: {how:?}"));
        }
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

        assert_eq!(irqs.raise(0, Mode::of(&pci)), Some(Delivered::Intx));
        assert_eq!(count(&intx), 1);

        pci.write((cap::MSIX + 3) as u64, &[0x80]);
        assert_eq!(irqs.raise(3, Mode::of(&pci)), Some(Delivered::Msix(3)));
        assert_eq!(count(&msix3), 1);
        // Vector 2 has no eventfd: lost.
        assert_eq!(irqs.raise(2, Mode::of(&pci)), None);
        // Out-of-range vector: lost, no panic.
        assert_eq!(irqs.raise(99, Mode::of(&pci)), None);

        // INTx disabled and no MSI/MSI-X: nothing.
        let mut pci = PciConfig::new(&GA102);
        pci.write(4, &[0x00, 0x04]);
        assert_eq!(irqs.raise(0, Mode::of(&pci)), None);
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
