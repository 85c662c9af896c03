// SPDX-License-Identifier: GPL-2.0
//! GPU interrupts: the Ampere CPU interrupt tree (facts §2.3) behind one MSI (or INTx).
//!
//! GSP-RM says which tree vectors belong to which engine
//! (`NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`, [`crate::gsp::fifo::intr_vectors`]). We
//! open three: GSP's stall vector (GSP-RM posted a message: events, channel errors), and the
//! non-stall vectors of copy engine 0 and of the graphics engine (a channel's
//! `NON_STALL_INTERRUPT`, i.e. a job's fence release). The hard handler only checks that the
//! tree has something pending and masks the tree's top level; the threaded handler clears the
//! leaf bits, drains GSP-RM's queue, tells the [`EngineListener`] (nova-drm) and unmasks.
//!
//! A GSP vector that keeps firing with nothing in the queue (a stuck line; the vGPU's
//! `--irq-storm`) is closed after [`STORM_LIMIT`] empty rounds in a row: the queues are then
//! polled as before interrupts existed.

use kernel::{
    device::{self, Bound},
    io::Io,
    irq::{self, IrqReturn, ThreadedHandler, ThreadedIrqReturn},
    new_mutex,
    pci::{self, IrqType, IrqTypes},
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    },
};

use crate::{driver::Bar0, gpfifo::EngineKind, gsp::channel::GspChannel};

/// `..._CPU_INTR_LEAF(i)` (write 1 to clear), facts §2.3.
const LEAF: usize = 0xb8_1000;
/// `..._CPU_INTR_LEAF_EN_SET(i)`.
const LEAF_EN_SET: usize = 0xb8_1200;
/// `..._CPU_INTR_LEAF_EN_CLEAR(i)`.
const LEAF_EN_CLEAR: usize = 0xb8_1400;
/// `..._CPU_INTR_TOP(0)`: one bit per subtree (leaves 2s and 2s + 1).
const TOP: usize = 0xb8_1600;
/// `..._CPU_INTR_TOP_EN_SET(0)` / `_EN_CLEAR(0)`.
const TOP_EN_SET: usize = 0xb8_1608;
const TOP_EN_CLEAR: usize = 0xb8_1610;
/// Vectors the 8 leaves hold.
pub(crate) const VECTORS: u32 = 256;
/// GSP falcon `IRQSCLR` (PFALCON base 0x110000 + 0x004) and its SWGEN0 bit, the interrupt
/// GSP-RM raises when it posts a message (facts §5.2, §7.4).
const GSP_IRQSCLR: usize = 0x11_0004;
const GSP_SWGEN0: u32 = 1 << 6;
/// Empty GSP rounds in a row after which the GSP vector is closed.
pub(crate) const STORM_LIMIT: u32 = 1000;

/// Who hears about engine interrupts (nova-drm). Called from the interrupt thread, so it may
/// sleep briefly but must not wait for other interrupts.
pub trait EngineListener: Send + Sync {
    /// An engine's non-stall interrupt fired: fence releases of its channels may have landed.
    fn nonstall(&self, engine: EngineKind);
    /// GSP-RM posted messages; channel errors may be waiting
    /// ([`crate::link::GpuLink::take_channel_errors`]).
    fn gsp_event(&self);
}

/// The vectors in use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vectors {
    pub(crate) gsp: Option<u32>,
    pub(crate) copy: Option<u32>,
    pub(crate) graphics: Option<u32>,
}

impl Vectors {
    fn all(&self) -> impl Iterator<Item = u32> {
        [self.gsp, self.copy, self.graphics].into_iter().flatten()
    }

    /// TOP bits of the subtrees holding our vectors.
    fn top_mask(&self) -> u32 {
        self.all().fold(0, |m, v| m | 1 << (v / 64))
    }
}

/// State shared by the handler and the link.
#[pin_data]
pub struct IrqShared {
    #[pin]
    listener: Mutex<Option<Arc<dyn EngineListener>>>,
    vectors: Vectors,
    gsp_open: Atomic<bool>,
    empty_gsp_rounds: Atomic<u32>,
    /// Interrupts handled (for debugfs and tests).
    pub(crate) count: Atomic<u64>,
}

impl IrqShared {
    pub(crate) fn new(vectors: Vectors) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(IrqShared {
                listener <- new_mutex!(None),
                vectors,
                gsp_open: Atomic::new(vectors.gsp.is_some()),
                empty_gsp_rounds: Atomic::new(0),
                count: Atomic::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Replaces the listener; returns after a notification in progress has finished.
    pub(crate) fn set_listener(&self, l: Option<Arc<dyn EngineListener>>) {
        *self.listener.lock() = l;
    }
}

/// The threaded handler.
pub(crate) struct Handler<'bound> {
    bar: Arc<Bar0<'bound>>,
    gsp: Arc<GspChannel>,
    shared: Arc<IrqShared>,
    dev: ARef<device::Device>,
}

impl Handler<'_> {
    fn leaf_vectors(&self, top: u32) -> Result<[u32; 8]> {
        let mut pending = [0u32; 8];
        for (i, p) in pending.iter_mut().enumerate() {
            if top & (1 << (i / 2)) != 0 {
                *p = self.bar.try_read32(LEAF + 4 * i)?;
            }
        }
        Ok(pending)
    }

    fn service(&self) -> Result {
        let v = self.shared.vectors;
        for _ in 0..16 {
            let top = self.bar.try_read32(TOP)? & v.top_mask();
            if top == 0 {
                break;
            }
            let pending = self.leaf_vectors(top)?;
            for (i, p) in pending.iter().enumerate() {
                if *p != 0 {
                    self.bar.try_write32(*p, LEAF + 4 * i)?;
                }
            }
            let hit = |vec: Option<u32>| {
                vec.is_some_and(|x| pending[(x / 32) as usize] & (1 << (x % 32)) != 0)
            };
            let mut gsp_messages = None;
            if hit(v.gsp) && self.shared.gsp_open.load(Relaxed) {
                self.bar.try_write32(GSP_SWGEN0, GSP_IRQSCLR)?;
                let n = self.gsp.take_events().unwrap_or(0);
                gsp_messages = Some(n);
                if n == 0 {
                    let empty = self.shared.empty_gsp_rounds.fetch_add(1, Relaxed) + 1;
                    if empty >= STORM_LIMIT {
                        self.close_gsp_vector()?;
                    }
                } else {
                    self.shared.empty_gsp_rounds.store(0, Relaxed);
                }
            }
            let listener = self.shared.listener.lock();
            if let Some(l) = listener.as_ref() {
                if hit(v.copy) {
                    l.nonstall(EngineKind::Copy);
                }
                if hit(v.graphics) {
                    l.nonstall(EngineKind::TwoD);
                }
                if gsp_messages.is_some_and(|n| n > 0) {
                    l.gsp_event();
                }
            }
        }
        Ok(())
    }

    fn close_gsp_vector(&self) -> Result {
        let Some(g) = self.shared.vectors.gsp else {
            return Ok(());
        };
        self.shared.gsp_open.store(false, Relaxed);
        self.bar
            .try_write32(1 << (g % 32), LEAF_EN_CLEAR + 4 * (g / 32) as usize)?;
        dev_err!(
            self.dev,
            "GSP interrupt fired {} times with no message: closed, the queues are polled\n",
            STORM_LIMIT
        );
        Ok(())
    }
}

impl ThreadedHandler for Handler<'_> {
    fn handle(&self) -> ThreadedIrqReturn {
        let mask = self.shared.vectors.top_mask();
        match self.bar.try_read32(TOP) {
            Ok(top) if top & mask != 0 => {
                // Masked until the thread has served it (a new edge follows the unmask if
                // anything is still pending, facts §2.3).
                let _ = self.bar.try_write32(mask, TOP_EN_CLEAR);
                ThreadedIrqReturn::WakeThread
            }
            _ => ThreadedIrqReturn::None,
        }
    }

    fn handle_threaded(&self) -> IrqReturn {
        self.shared.count.fetch_add(1, Relaxed);
        if let Err(e) = self.service() {
            dev_err!(self.dev, "interrupt handling failed: {:?}\n", e);
        }
        let _ = self
            .bar
            .try_write32(self.shared.vectors.top_mask(), TOP_EN_SET);
        IrqReturn::Handled
    }
}

/// The interrupt of one GPU: the vector allocation and the handler on its first vector.
///
/// Field order matters: the handler registration is dropped (freeing the IRQ) before the
/// vector allocation it was requested from.
pub(crate) struct GpuIrq<'bound> {
    registration: Pin<KBox<irq::ThreadedRegistration<'bound, Handler<'bound>>>>,
    _vectors: KBox<pci::IrqVectorRegistration<'bound>>,
    bar: Arc<Bar0<'bound>>,
    shared: Arc<IrqShared>,
}

impl<'bound> GpuIrq<'bound> {
    /// Allocates one MSI (or the INTx line), requests the handler on it and opens the
    /// vectors in the tree.
    pub(crate) fn new(
        pdev: &'bound pci::Device<Bound>,
        bar: Arc<Bar0<'bound>>,
        gsp: Arc<GspChannel>,
        vectors: Vectors,
    ) -> Result<Self> {
        let shared = IrqShared::new(vectors)?;
        let types = IrqTypes::default().with(IrqType::Msi).with(IrqType::Intx);
        let alloc = KBox::new(pdev.alloc_irq_vectors(1, 1, types)?, GFP_KERNEL)?;
        // SAFETY: `alloc` is a heap allocation that is neither moved out of nor dropped before
        // `registration` (below, stored beside it in `GpuIrq`, declared first and hence dropped
        // first; `GpuIrq` is only ever dropped as a whole). The reference therefore stays valid
        // for as long as anything derived from it is alive, and the vector allocation is
        // itself bounded by the device's binding (`'bound`).
        let vectors_ref: &'bound pci::IrqVectorRegistration<'bound> = unsafe {
            // SAFETY: see above: `alloc` outlives every use of this reference.
            &*core::ptr::from_ref(&*alloc)
        };
        let request = vectors_ref.index(0)?;
        let handler = Handler {
            bar: bar.clone(),
            gsp,
            shared: shared.clone(),
            dev: pdev.as_ref().into(),
        };
        let registration = KBox::pin_init(
            // SAFETY: the registration is kept in `GpuIrq::registration` until `GpuIrq` is
            // dropped and is never forgotten.
            unsafe {
                irq::ThreadedRegistration::new(
                    request.into(),
                    irq::Flags::SHARED,
                    c"nova-core",
                    Ok::<_, Error>(handler),
                )
            },
            GFP_KERNEL,
        )?;
        let this = GpuIrq {
            registration,
            _vectors: alloc,
            bar,
            shared,
        };
        for v in vectors.all() {
            this.bar
                .try_write32(1 << (v % 32), LEAF_EN_SET + 4 * (v / 32) as usize)?;
        }
        this.bar.try_write32(vectors.top_mask(), TOP_EN_SET)?;
        Ok(this)
    }

    /// The shared state (the link hands it to nova-drm's listener registration).
    pub(crate) fn shared(&self) -> &Arc<IrqShared> {
        &self.shared
    }

    /// Closes our vectors in the tree and waits for a running handler.
    pub(crate) fn quiesce(&self) {
        let v = self.shared.vectors;
        let _ = self.bar.try_write32(v.top_mask(), TOP_EN_CLEAR);
        for x in v.all() {
            let _ = self
                .bar
                .try_write32(1 << (x % 32), LEAF_EN_CLEAR + 4 * (x / 32) as usize);
        }
        self.registration.synchronize();
    }
}
