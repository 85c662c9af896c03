// SPDX-License-Identifier: GPL-2.0
//! The vfio-user glue: region and interrupt descriptions for QEMU, and the [`Device`] that
//! answers its messages by handing them to the PCI function, BAR0 decoder, DMA and IRQ models.

use crate::bar0::Bar0;
use crate::blocks::falcon::gsprm::{self, RpcCounters, RpcStats};
use crate::blocks::falcon::{self, brom::KnownImages, Engine, Falcon, GspPort};
use crate::blocks::intr::{Intr, IntrHandle};
use crate::blocks::{
    bar1::Bar1Regs, bus::Bus, disp::Disp, fb::Fb, fuse::Fuse, gc6::Gc6, gc6::GfwBoot, mmu::Mmu,
    pmc::Pmc, pramin::Pramin, prom::Prom, Block, Shared,
};
use crate::chip::{ChipProfile, BAR0_SIZE, BAR5_SIZE};
use crate::dma::{memfd, GuestMemory, SharedGuestMemory};
use crate::fifo::{usermode::Usermode, Fifo, Notify};
use crate::firmware::GspFirmware;
use crate::irq::{Interrupts, IrqLine, Mode};
use crate::mmu::hub::Hub;
use crate::mmu::walk::Access;
use crate::pci::{BarView, PciConfig, CONFIG_SIZE, MSIX_VECTORS};
use crate::testport::TestPort;
use crate::trace::Tracer;
use crate::vram::Vram;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use vfio_bindings::bindings::vfio::*;
use vfio_user::{DmaMapFlags, DmaUnmapFlags, IrqInfo, ServerBackend, ServerRegion, SparseArea};

/// Options that change how the device behaves (fault injection and identity overrides).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Serve this `NV_PMC_BOOT_42` instead of the profile's (an unknown chip).
    pub boot42: Option<u32>,
    /// Serve this broken VBIOS instead of the intact image (fault injection).
    pub vbios_broken: Option<nova_firmware::Broken>,
    /// Build the VBIOS without its EFI image.
    pub vbios_no_efi: bool,
    /// When GFW boot completes (`Never` is the "GFW boot never completes" fault).
    pub gfw_boot: GfwBoot,
    /// FWSEC reports an error for every command (fault injection, `--fwsec-fail`).
    pub fwsec_fail: bool,
    /// A started falcon never halts (fault injection, `--falcon-hang`).
    pub falcon_hang: bool,
    /// An accepted booter_load halts with an error (fault injection, `--booter-fail`).
    pub booter_fail: bool,
    /// The GSP boot firmware files (`--firmware-dir`), read once at start-up and shared. The
    /// `vgpu` binary always loads them; without them (library users and tests that do not need
    /// Booter) SEC2's boot ROM knows no Booter image and refuses every Booter load with
    /// `ERR_UNKNOWN_IMAGE`.
    pub firmware: Option<Arc<GspFirmware>>,
    /// GSP-RM fault knobs (`--gsp-silent`, `--gsp-corrupt-reply`, `--gsp-oversized-reply`).
    pub gsp_rm: gsprm::Knobs,
    /// Interrupt storm (`--irq-storm`): after every BAR0 access the GSP's interrupt sets its
    /// leaf bit again and, when the tree lets it through, raises a message; its
    /// `IRQSTAT.SWGEN0` cannot be cleared.
    pub irq_storm: bool,
    /// The device falls off the bus after this many BAR0 accesses (`--fall-off-bus-after N`):
    /// from then on every BAR0 and configuration read returns all ones, writes are dropped and
    /// no interrupt is raised.
    pub fall_off_bus_after: Option<u64>,
    /// Append the MMU log to this file (`--mmu-log`): a test instrument, not hardware
    /// ([`crate::mmu::log`]).
    pub mmu_log: Option<std::path::PathBuf>,
    /// The engine access port in BAR5 (`--test-port`): a test instrument, not hardware
    /// ([`crate::testport`]). Off: BAR5 reads 0 and ignores writes.
    pub test_port: bool,
}

/// One vGPU instance.
pub struct Device {
    chip: &'static ChipProfile,
    opts: Options,
    pci: PciConfig,
    bar0: Bar0,
    /// Interrupt delivery (eventfds, mode, edge detection), shared with the PBDMA threads.
    ints: Interrupts,
    dma: SharedGuestMemory,
    tracer: Arc<Tracer>,
    /// The GSP's mailboxes and RISC-V boot state (shared with the GSP and SEC2 falcons).
    gsp_port: GspPort,
    /// BAR3 backing: a memfd QEMU maps straight into the guest. (BAR1 is trapped: every
    /// access is translated by the MMU, see [`crate::mmu::bar1`].)
    bar3: File,
    /// The CPU interrupt tree (BAR0 0xB81000).
    intr: IntrHandle,
    /// The GSP falcon, shared with the PBDMA threads (GSP-RM sends their RC_TRIGGERED).
    gsp: Arc<Mutex<Falcon>>,
    /// The FIFO: channels and their PBDMAs.
    fifo: Fifo,
    /// GSP-RM's counters and doorbell-to-reply times.
    rpc_stats: RpcStats,
    /// The BAR bases the guest programmed, as GSP-RM sees them.
    bars: BarView,
    /// BAR0 accesses served.
    bar0_accesses: u64,
    /// The hub MMU (VRAM, TLB) the MMU blocks and clients share.
    hub: Hub,
    /// The engine access port in BAR5 (a test instrument; inert unless enabled).
    port: TestPort,
}

/// What the device shares with its blocks beyond guest memory and the trace.
struct Links {
    gsp_port: GspPort,
    gsp_irq: IrqLine,
    intr: IntrHandle,
    rpc_stats: RpcStats,
    bars: BarView,
    hub: Hub,
    fifo: Fifo,
}

/// How a PBDMA thread reaches the device: non-stall interrupts go through the tree; channel
/// errors make GSP-RM (on the GSP falcon) post `RC_TRIGGERED` and raise its interrupt.
struct DeviceNotify {
    ints: Interrupts,
    gsp: Arc<Mutex<Falcon>>,
    fifo: Fifo,
}

impl Notify for DeviceNotify {
    fn nonstall(&self, vector: u32) {
        self.ints.signal(vector);
    }

    fn rc(&self) {
        // Never wait for the GSP: the vfio-user thread may hold it while it frees this very
        // channel. Whoever holds it serves the pending events once it lets go (the device
        // after its access, or another PBDMA thread here), rechecking after the release.
        for _ in 0..4 {
            match self.gsp.try_lock() {
                Ok(mut f) => Block::service(&mut *f),
                Err(_) => break,
            }
            if self.fifo.rc_pending() == 0 {
                break;
            }
        }
        self.ints.pump(false);
    }
}

/// The `nova-firmware` build configuration for `chip` and `opts`.
fn vbios_config(chip: &ChipProfile, opts: &Options) -> nova_firmware::Config {
    nova_firmware::Config {
        device_id: chip.device_id,
        efi: !opts.vbios_no_efi,
        broken: opts.vbios_broken,
    }
}

/// The VBIOS image the PROM serves for `chip` and `opts`.
pub fn vbios_image(chip: &ChipProfile, opts: &Options) -> Vec<u8> {
    nova_firmware::build(&vbios_config(chip, opts)).0
}

/// The ucodes the falcon boot ROMs accept: those of the intact image of the same build
/// configuration (a broken variant damages what the driver reads, not what NVIDIA signed), and
/// the Booter ucodes of the configured firmware files.
fn known_images(chip: &ChipProfile, opts: &Options) -> KnownImages {
    let (rom, layout) = nova_firmware::build(&nova_firmware::Config {
        broken: None,
        ..vbios_config(chip, opts)
    });
    let k = KnownImages::from_vbios(&rom, &layout);
    match &opts.firmware {
        Some(fw) => k.with_booters(fw),
        None => k,
    }
}

/// The blocks of a device. Blocks that act on others get handles at construction: the falcons
/// get the PBUS scratch and WPR2 handles, the shared guest memory for DMA, the tracer for
/// their state-change lines, and the GSP port (the GSP's mailboxes and RISC-V state, which
/// Booter on SEC2 reaches); the [`Block`] trait itself stays register-only.
fn blocks(
    chip: &'static ChipProfile,
    opts: &Options,
    guest: &SharedGuestMemory,
    tracer: &Arc<Tracer>,
    links: &Links,
) -> (Vec<Box<dyn Block>>, Arc<Mutex<Falcon>>) {
    let bus = Bus::new();
    let fb = Fb::new();
    let wiring = falcon::Wiring {
        known: Arc::new(known_images(chip, opts)),
        scratch: bus.handle(),
        wpr2: fb.wpr2_handle(),
        guest: guest.clone(),
        tracer: tracer.clone(),
        vram_size: chip.vram_size,
        vga_workspace: Disp::register_value(chip),
        gsp_port: links.gsp_port.clone(),
        firmware: opts.firmware.clone(),
        fuses: chip.fuses,
        knobs: falcon::Knobs {
            fwsec_fail: opts.fwsec_fail,
            hang: opts.falcon_hang,
            booter_fail: opts.booter_fail,
            irq_storm: opts.irq_storm,
        },
        chip,
        bars: links.bars.clone(),
        irq: links.gsp_irq.clone(),
        rpc_stats: links.rpc_stats.clone(),
        gsp_rm: opts.gsp_rm,
        hub: links.hub.clone(),
        fifo: links.fifo.clone(),
    };
    let gsp = Arc::new(Mutex::new(Falcon::new(Engine::Gsp, wiring.clone())));
    let list: Vec<Box<dyn Block>> = vec![
        Box::new(Pmc::new(chip, opts.boot42)),
        Box::new(bus),
        Box::new(fb),
        Box::new(Shared(gsp.clone())),
        Box::new(Gc6::new(chip, opts.gfw_boot).with_port(links.gsp_port.clone())),
        Box::new(Prom::new(vbios_image(chip, opts))),
        Box::new(Disp::new(chip)),
        Box::new(Fuse::new(chip)),
        Box::new(Falcon::new(Engine::Sec2, wiring)),
        Box::new(Intr::on(&links.intr)),
        Box::new(Mmu::new(links.hub.clone())),
        Box::new(Pramin::new(links.hub.lock().mem().clone(), tracer.clone())),
        Box::new(Bar1Regs::new(links.hub.clone())),
        Box::new(Usermode::new(links.fifo.clone())),
    ];
    (list, gsp)
}

impl Device {
    /// A powered-on device.
    pub fn new(
        chip: &'static ChipProfile,
        opts: Options,
        tracer: Arc<Tracer>,
    ) -> std::io::Result<Self> {
        let dma = Arc::new(Mutex::new(GuestMemory::new()));
        let hub = Hub::new(Vram::new(chip.vram_size), dma.clone(), tracer.clone());
        let links = Links {
            gsp_port: GspPort::new(),
            gsp_irq: IrqLine::new(),
            intr: IntrHandle::new(),
            rpc_stats: RpcStats::new(),
            bars: BarView::new(),
            fifo: Fifo::new(hub.clone(), tracer.clone()),
            hub,
        };
        if let Some(p) = &opts.mmu_log {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| {
                    std::io::Error::new(e.kind(), format!("MMU log {}: {e}", p.display()))
                })?;
            links
                .hub
                .lock()
                .set_log(crate::mmu::log::MmuLog::new(Box::new(f)));
        }
        let (list, gsp) = blocks(chip, &opts, &dma, &tracer, &links);
        let bar0 = Bar0::new(list, tracer.clone())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let ints = Interrupts::new(links.intr.clone(), links.gsp_irq.clone(), tracer.clone());
        let pci = PciConfig::new(chip);
        ints.set_mode(Mode::of(&pci));
        links.fifo.set_notify(Arc::new(DeviceNotify {
            ints: ints.clone(),
            gsp: gsp.clone(),
            fifo: links.fifo.clone(),
        }));
        let port = TestPort::new(opts.test_port, links.hub.clone(), tracer.clone());
        Ok(Device {
            chip,
            pci,
            bar0,
            ints,
            dma,
            tracer,
            gsp_port: links.gsp_port,
            bar3: memfd(c"vgpu-bar3", chip.bar3_size)?,
            opts,
            intr: links.intr,
            gsp,
            fifo: links.fifo,
            rpc_stats: links.rpc_stats,
            bars: links.bars,
            bar0_accesses: 0,
            port,
            hub: links.hub,
        })
    }

    /// The region table QEMU asks for (indices are VFIO_PCI_*_REGION_INDEX).
    pub fn regions(&self) -> Vec<ServerRegion> {
        let rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        (0..VFIO_PCI_NUM_REGIONS)
            .map(|index| {
                let mut info = vfio_region_info {
                    argsz: std::mem::size_of::<vfio_region_info>() as u32,
                    index,
                    ..Default::default()
                };
                let mut sparse = vec![];
                let mut mmap_fd = None;
                let mut mem = |size: u64, fd: &File| {
                    info.size = size;
                    info.flags = rw | VFIO_REGION_INFO_FLAG_MMAP;
                    sparse.push(SparseArea {
                        area: vfio_region_sparse_mmap_area { offset: 0, size },
                    });
                    mmap_fd = Some(fd.as_raw_fd());
                };
                match index {
                    VFIO_PCI_BAR0_REGION_INDEX => {
                        info.size = BAR0_SIZE;
                        info.flags = rw;
                    }
                    VFIO_PCI_BAR1_REGION_INDEX => {
                        info.size = self.chip.bar1_size;
                        info.flags = rw;
                    }
                    VFIO_PCI_BAR3_REGION_INDEX => mem(self.chip.bar3_size, &self.bar3),
                    VFIO_PCI_BAR5_REGION_INDEX => {
                        info.size = BAR5_SIZE;
                        info.flags = rw;
                    }
                    VFIO_PCI_CONFIG_REGION_INDEX => {
                        info.size = CONFIG_SIZE as u64;
                        info.flags = rw;
                    }
                    _ => {}
                }
                ServerRegion {
                    region_info: info,
                    sparse_areas: sparse,
                    mmap_fd,
                }
            })
            .collect()
    }

    /// The interrupt table: INTx, one MSI vector, MSI-X vectors.
    pub fn irq_infos() -> Vec<IrqInfo> {
        (0..VFIO_PCI_NUM_IRQS)
            .map(|index| {
                let count = match index {
                    VFIO_PCI_INTX_IRQ_INDEX | VFIO_PCI_MSI_IRQ_INDEX => 1,
                    VFIO_PCI_MSIX_IRQ_INDEX => MSIX_VECTORS,
                    _ => 0,
                };
                IrqInfo {
                    index,
                    count,
                    flags: if count > 0 { VFIO_IRQ_INFO_EVENTFD } else { 0 },
                }
            })
            .collect()
    }

    /// Raises interrupt `vector` (used by blocks once they signal; exposed for tests).
    pub fn raise_irq(&mut self, vector: u32) {
        self.ints.raise(vector);
    }

    /// Function-level reset: every block back to its power-on state.
    fn function_reset(&mut self) {
        self.tracer
            .line("pci", format_args!("function-level reset"));
        self.pci.reset(self.chip);
        self.bars.set(self.pci.bar_bases());
        self.bar0.reset();
        self.port.reset();
        // GSP-RM and every channel are gone with the reset.
        self.fifo.shutdown();
        self.ints.reset();
        self.ints.set_mode(Mode::of(&self.pci));
    }

    /// Whether the device has fallen off the bus (`--fall-off-bus-after`).
    pub fn off_bus(&self) -> bool {
        self.opts
            .fall_off_bus_after
            .is_some_and(|n| self.bar0_accesses >= n)
    }

    /// Counts a BAR0 access; false once the device is off the bus (the access is not served).
    fn bar0_access(&mut self, write: bool, offset: u64) -> bool {
        if self.off_bus() {
            if self.tracer.enabled("pci") {
                self.tracer.line(
                    "pci",
                    format_args!(
                        "BAR0 {} at {offset:#x}: off the bus",
                        if write {
                            "write dropped"
                        } else {
                            "read = all ones"
                        }
                    ),
                );
            }
            return false;
        }
        self.bar0_accesses += 1;
        if self.off_bus() {
            self.tracer.line(
                "pci",
                format_args!(
                    "the device falls off the bus after this access ({} BAR0 accesses, --fall-off-bus-after)",
                    self.bar0_accesses
                ),
            );
        }
        true
    }

    /// After a BAR0 access: the GSP's interrupt output (or the storm) sets its leaf bit in the
    /// CPU interrupt tree, the tree's newly asserted subtrees are delivered, then a
    /// doorbell-to-reply measurement is completed.
    fn after_bar0_access(&mut self) {
        self.after_access(self.opts.irq_storm);
    }

    /// After a BAR5 access: the blocks serve what the access started outside BAR0 (an MMU
    /// fault's notification reaches GSP-RM, which may post `MMU_FAULT_QUEUED` and raise
    /// SWGEN0), then interrupts are delivered as after a BAR0 access (no storm: that knob
    /// counts BAR0 accesses).
    fn after_io_access(&mut self) {
        self.bar0.service();
        self.after_access(false);
    }

    fn after_access(&mut self, storm: bool) {
        // Channel errors a PBDMA reported while this access held the GSP: GSP-RM sends them
        // now (see `DeviceNotify::rc`).
        if self.fifo.rc_pending() > 0 {
            Block::service(&mut *self.gsp.lock().unwrap_or_else(|e| e.into_inner()));
        }
        self.ints.pump(storm);
        if let Some(d) = self.rpc_stats.complete() {
            self.tracer.line(
                "rpc",
                format_args!(
                    "doorbell-to-reply {:.1} µs (reply posted, interrupt raised)",
                    d.as_secs_f64() * 1e6
                ),
            );
        }
    }

    /// Traces a BAR5 (I/O space) access: the test port's register, or nothing modelled
    /// (README "BAR5").
    fn io_trace(&self, write: bool, offset: u64, data: &[u8], off_bus: bool) {
        if !self.tracer.enabled("io") {
            return;
        }
        let mut v = [0u8; 4];
        let n = data.len().min(4);
        v[..n].copy_from_slice(&data[..n]);
        let what = match (offset < BAR5_SIZE, off_bus) {
            (_, true) => "off the bus",
            (false, _) => "past the 128-byte BAR",
            (true, _) if !self.port.enabled() => "I/O BAR, not modelled",
            (true, _) if n != 4 || !offset.is_multiple_of(4) => {
                if write {
                    "test port: not an aligned 32-bit write, ignored"
                } else {
                    "test port (bytes of the word)"
                }
            }
            (true, _) => TestPort::reg_name(offset as u32),
        };
        self.tracer
            .access("io", write, offset, n, u32::from_le_bytes(v), what);
    }

    /// A BAR5 read: the test port's registers when enabled (narrow reads take the bytes of
    /// the word), else 0; all ones off the bus.
    fn io_read(&mut self, offset: u64, data: &mut [u8]) {
        let off_bus = self.off_bus();
        if off_bus {
            data.fill(0xff);
        } else {
            for (i, b) in data.iter_mut().enumerate() {
                let a = offset.saturating_add(i as u64);
                *b = if a < BAR5_SIZE {
                    self.port.read32(a as u32 & !3).to_le_bytes()[(a & 3) as usize]
                } else {
                    0
                };
            }
        }
        self.io_trace(false, offset, data, off_bus);
    }

    /// A BAR5 write: an aligned 32-bit write reaches the test port when it is enabled; then
    /// anything the port's access started is served.
    fn io_write(&mut self, offset: u64, data: &[u8]) {
        let off_bus = self.off_bus();
        self.io_trace(true, offset, data, off_bus);
        if off_bus || !self.port.enabled() || offset >= BAR5_SIZE {
            return;
        }
        if data.len() == 4 && offset.is_multiple_of(4) {
            let v = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            self.port.write32(offset as u32, v);
            self.after_io_access();
        }
    }

    /// The engine access port (for tests).
    pub fn test_port(&self) -> &TestPort {
        &self.port
    }

    /// The CPU interrupt tree (for tests).
    pub fn intr(&self) -> &IntrHandle {
        &self.intr
    }

    /// A CPU access to BAR1: translated by the MMU (off the bus: reads all ones, writes
    /// dropped; outside the BAR: the same, traced).
    fn bar1_access(&mut self, offset: u64, data: &mut [u8], access: Access) {
        let inside = offset
            .checked_add(data.len() as u64)
            .is_some_and(|end| end <= self.chip.bar1_size);
        if self.off_bus() || !inside {
            if !inside {
                self.tracer.line(
                    "bar1",
                    format_args!("access at {offset:#x}+{:#x}: outside BAR1", data.len()),
                );
            }
            if access == Access::Read {
                data.fill(0xff);
            }
            return;
        }
        self.hub.lock().bar1_access(offset, data, access);
    }

    /// BAR0 accesses served so far.
    pub fn bar0_accesses(&self) -> u64 {
        self.bar0_accesses
    }

    /// GSP-RM's counters and doorbell-to-reply times.
    pub fn rpc_stats(&self) -> RpcCounters {
        self.rpc_stats.get()
    }

    /// Guest memory as the device sees it (shared with the falcons' DMA engines).
    pub fn dma(&self) -> &SharedGuestMemory {
        &self.dma
    }

    fn guest(&self) -> std::sync::MutexGuard<'_, GuestMemory> {
        self.dma.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Options in force.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The GSP's mailboxes and GSP-RM boot state ([`crate::blocks::falcon::GspBoot`] once
    /// booter_load started it), for models of GSP-RM and for tests.
    pub fn gsp(&self) -> &GspPort {
        &self.gsp_port
    }

    /// The hub MMU: VRAM and the TLB (tests and test instruments).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The FIFO: channels and their PBDMAs (tests).
    pub fn fifo(&self) -> &Fifo {
        &self.fifo
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // The PBDMA threads hold the FIFO: stop them with the device.
        self.fifo.shutdown();
    }
}

impl ServerBackend for Device {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> std::io::Result<()> {
        match region {
            VFIO_PCI_CONFIG_REGION_INDEX if self.off_bus() => data.fill(0xff),
            VFIO_PCI_CONFIG_REGION_INDEX => {
                self.pci.read(offset, data);
                if self.tracer.enabled("pci") {
                    let mut v = [0u8; 4];
                    let n = data.len().min(4);
                    v[..n].copy_from_slice(&data[..n]);
                    self.tracer
                        .access("pci", false, offset, n, u32::from_le_bytes(v), "config");
                }
            }
            VFIO_PCI_BAR0_REGION_INDEX => {
                if self.bar0_access(false, offset) {
                    self.bar0.read(offset, data);
                    self.after_bar0_access();
                } else {
                    data.fill(0xff);
                }
            }
            VFIO_PCI_BAR5_REGION_INDEX => self.io_read(offset, data),
            VFIO_PCI_BAR1_REGION_INDEX => self.bar1_access(offset, data, Access::Read),
            _ => {
                self.tracer.line(
                    "pci",
                    format_args!("read of region {region} at {offset:#x}: no such region"),
                );
                data.fill(0xff);
            }
        }
        Ok(())
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> std::io::Result<()> {
        match region {
            VFIO_PCI_CONFIG_REGION_INDEX if self.off_bus() => {}
            VFIO_PCI_CONFIG_REGION_INDEX => {
                if self.tracer.enabled("pci") {
                    let mut v = [0u8; 4];
                    let n = data.len().min(4);
                    v[..n].copy_from_slice(&data[..n]);
                    self.tracer
                        .access("pci", true, offset, n, u32::from_le_bytes(v), "config");
                }
                if self.pci.write(offset, data) {
                    self.function_reset();
                }
                self.bars.set(self.pci.bar_bases());
                self.ints.set_mode(Mode::of(&self.pci));
            }
            VFIO_PCI_BAR0_REGION_INDEX => {
                if self.bar0_access(true, offset) {
                    self.bar0.write(offset, data);
                    self.after_bar0_access();
                }
            }
            VFIO_PCI_BAR5_REGION_INDEX => self.io_write(offset, data),
            VFIO_PCI_BAR1_REGION_INDEX => {
                self.bar1_access(offset, &mut data.to_vec(), Access::Write)
            }
            _ => self.tracer.line(
                "pci",
                format_args!("write to region {region} at {offset:#x}: no such region"),
            ),
        }
        Ok(())
    }

    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> std::io::Result<()> {
        let Some(fd) = fd else {
            // Without a descriptor the device cannot reach that memory (guest RAM must be a
            // shared memfd); record it in the trace so a silent zero-read is explained.
            self.tracer.line(
                "dma",
                format_args!("DMA_MAP {address:#x}+{size:#x} without fd: unreachable"),
            );
            return Ok(());
        };
        let r = self.guest().map(address, size, &fd, offset);
        self.tracer.line(
            "dma",
            format_args!("DMA_MAP {address:#x}+{size:#x} fd_offset {offset:#x} {flags:?}: {r:?}"),
        );
        r
    }

    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> std::io::Result<()> {
        let n = self
            .guest()
            .unmap(address, size, flags.contains(DmaUnmapFlags::UNMAP_ALL));
        self.tracer.line(
            "dma",
            format_args!("DMA_UNMAP {address:#x}+{size:#x} {flags:?}: {n} region(s)"),
        );
        Ok(())
    }

    fn reset(&mut self) -> std::io::Result<()> {
        self.function_reset();
        Ok(())
    }

    fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> std::io::Result<()> {
        let what = self.ints.set_irqs(index, flags, start, count, fds);
        self.tracer.line("irq", format_args!("SET_IRQS {what}"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chip::GA102;

    #[test]
    fn regions_describe_the_bars() {
        let d = Device::new(&GA102, Options::default(), Arc::new(Tracer::off())).unwrap();
        let r = d.regions();
        assert_eq!(r.len(), VFIO_PCI_NUM_REGIONS as usize);
        assert_eq!(r[0].region_info.size, 16 << 20);
        assert!(r[0].mmap_fd.is_none(), "BAR0 accesses must reach the model");
        assert_eq!(r[1].region_info.size, 256 << 20);
        assert!(r[1].mmap_fd.is_none(), "BAR1 accesses are translated");
        assert!(r[1].sparse_areas.is_empty());
        assert!(r[3].mmap_fd.is_some(), "BAR3 stays a plain memfd");
        assert_eq!(r[2].region_info.size, 0, "upper half of the 64-bit BAR1");
        assert_eq!(r[3].region_info.size, 32 << 20);
        assert_eq!(r[5].region_info.size, 128, "BAR5: 128 bytes of I/O space");
        assert!(r[5].mmap_fd.is_none());
        assert_eq!(
            r[5].region_info.flags,
            VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE
        );
        assert_eq!(r[4].region_info.size, 0, "upper half of the 64-bit BAR3");
        assert_eq!(
            r[VFIO_PCI_CONFIG_REGION_INDEX as usize].region_info.size,
            4096
        );
    }

    #[test]
    fn bar0_and_config_through_the_backend() {
        let mut d = Device::new(
            &GA102,
            Options {
                boot42: Some(0xdead_0000),
                ..Default::default()
            },
            Arc::new(Tracer::off()),
        )
        .unwrap();
        let mut w = [0u8; 4];
        d.region_read(VFIO_PCI_BAR0_REGION_INDEX, 0xa00, &mut w)
            .unwrap();
        assert_eq!(u32::from_le_bytes(w), 0xdead_0000);
        d.region_read(VFIO_PCI_CONFIG_REGION_INDEX, 0, &mut w)
            .unwrap();
        assert_eq!(u32::from_le_bytes(w), 0x2204_10de);
        d.region_read(42, 0, &mut w).unwrap();
        assert_eq!(w, [0xff; 4]);
    }

    #[test]
    fn bar5_reads_zero_and_ignores_writes() {
        let opts = Options {
            fall_off_bus_after: Some(2),
            ..Default::default()
        };
        let mut d = Device::new(&GA102, opts, Arc::new(Tracer::off())).unwrap();
        let mut w = [0x55u8; 4];
        d.region_write(VFIO_PCI_BAR5_REGION_INDEX, 0, &0x0000_0a00u32.to_le_bytes())
            .unwrap();
        d.region_write(VFIO_PCI_BAR5_REGION_INDEX, 4, &[0xff; 4])
            .unwrap();
        for off in [0u64, 4, 0x7c] {
            d.region_read(VFIO_PCI_BAR5_REGION_INDEX, off, &mut w)
                .unwrap();
            assert_eq!(w, [0; 4], "offset {off:#x}");
        }
        // No indirect window: BAR0 is untouched and still counts its own accesses only.
        assert_eq!(d.bar0_accesses(), 0);
        let mut b = [0u8; 1];
        d.region_read(VFIO_PCI_BAR5_REGION_INDEX, 3, &mut b)
            .unwrap();
        assert_eq!(b, [0]);
        // Off the bus, I/O reads return all ones too.
        bar0_read(&mut d, 0);
        bar0_read(&mut d, 0);
        d.region_read(VFIO_PCI_BAR5_REGION_INDEX, 0, &mut w)
            .unwrap();
        assert_eq!(w, [0xff; 4]);
    }

    #[test]
    fn other_profiles_identify_as_their_chip() {
        use crate::chip::{AD102, TU102};
        for (p, id, boot0, boot42) in [
            (&TU102, 0x1e04_10de, 0x1620_00a1, 0x162a_1000),
            (&AD102, 0x2684_10de, 0x1920_00a1, 0x192a_1000),
        ] {
            let mut d = Device::new(p, Options::default(), Arc::new(Tracer::off())).unwrap();
            let mut w = [0u8; 4];
            d.region_read(VFIO_PCI_CONFIG_REGION_INDEX, 0, &mut w)
                .unwrap();
            assert_eq!(u32::from_le_bytes(w), id);
            assert_eq!(bar0_read(&mut d, 0), boot0);
            assert_eq!(bar0_read(&mut d, 0xa00), boot42);
            assert_eq!(
                bar0_read(&mut d, 0x1183a4),
                (p.vram_size >> 20) as u32,
                "NV_USABLE_FB_SIZE_IN_MB"
            );
            // The VBIOS's PCI data structure names the profile's device.
            let rom = vbios_image(p, &Options::default());
            let pcir = usize::from(u16::from_le_bytes([rom[0x18], rom[0x19]]));
            assert_eq!(&rom[pcir..pcir + 4], b"PCIR");
            assert_eq!(
                u16::from_le_bytes([rom[pcir + 6], rom[pcir + 7]]),
                p.device_id
            );
        }
    }

    #[test]
    fn flr_resets_blocks() {
        let mut d = Device::new(&GA102, Options::default(), Arc::new(Tracer::off())).unwrap();
        d.region_write(VFIO_PCI_BAR0_REGION_INDEX, 0x600, &7u32.to_le_bytes())
            .unwrap();
        d.region_write(
            VFIO_PCI_CONFIG_REGION_INDEX,
            (crate::pci::cap::PCIE + 9) as u64,
            &[0x80],
        )
        .unwrap();
        let mut w = [0u8; 4];
        d.region_read(VFIO_PCI_BAR0_REGION_INDEX, 0x600, &mut w)
            .unwrap();
        assert_eq!(u32::from_le_bytes(w), 0);
    }

    fn bar0_read(d: &mut Device, off: u64) -> u32 {
        let mut w = [0u8; 4];
        d.region_read(VFIO_PCI_BAR0_REGION_INDEX, off, &mut w)
            .unwrap();
        u32::from_le_bytes(w)
    }

    #[test]
    fn boot_state_of_a_powered_on_board() {
        let mut d = Device::new(&GA102, Options::default(), Arc::new(Tracer::off())).unwrap();
        assert_eq!(
            bar0_read(&mut d, 0x118128) & 1,
            1,
            "group 05 open to the CPU"
        );
        assert_eq!(
            bar0_read(&mut d, 0x118234) & 0xff,
            0xff,
            "GFW boot completed"
        );
        assert_eq!(bar0_read(&mut d, 0x1183a4), 24576);
        assert_eq!(bar0_read(&mut d, 0x1fa828), 0, "no WPR2");
        assert_eq!(bar0_read(&mut d, 0x625f04) & 8, 8, "VGA workspace valid");
        d.region_write(VFIO_PCI_BAR0_REGION_INDEX, 0x1438, &5u32.to_le_bytes())
            .unwrap();
        assert_eq!(bar0_read(&mut d, 0x1438), 5);
        // The PROM serves the VBIOS built for this profile.
        let rom = vbios_image(&GA102, &Options::default());
        assert_eq!(
            bar0_read(&mut d, 0x300000),
            u32::from_le_bytes([rom[0], rom[1], rom[2], rom[3]])
        );
        assert_eq!(bar0_read(&mut d, 0x300000) & 0xffff, 0xaa55);
        let end = 0x300000 + rom.len() as u64;
        assert_eq!(bar0_read(&mut d, end), 0xffff_ffff);
    }

    #[test]
    fn fault_knobs_reach_the_blocks() {
        let opts = Options {
            gfw_boot: GfwBoot::Never,
            vbios_broken: Some(nova_firmware::Broken::Truncated),
            ..Default::default()
        };
        let mut d = Device::new(&GA102, opts.clone(), Arc::new(Tracer::off())).unwrap();
        assert_eq!(bar0_read(&mut d, 0x118128) & 1, 0, "PLM never opens");
        assert_eq!(bar0_read(&mut d, 0x1183a4), 0);
        let rom = vbios_image(&GA102, &opts);
        let intact = vbios_image(&GA102, &Options::default());
        assert!(rom.len() < intact.len());
        let past = (0x300000 + rom.len() as u64 + 3) & !3;
        assert_eq!(
            bar0_read(&mut d, past),
            0xffff_ffff,
            "truncated image reads erased flash"
        );

        let no_efi = Options {
            vbios_no_efi: true,
            ..Default::default()
        };
        assert!(vbios_image(&GA102, &no_efi).len() < intact.len());
    }

    fn eventfd() -> File {
        // SAFETY: eventfd(2) with valid flags returns a new descriptor or -1, checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
    }

    fn count(f: &File) -> u64 {
        use std::io::Read;
        let mut b = [0u8; 8];
        match (&*f).read(&mut b) {
            Ok(8) => u64::from_ne_bytes(b),
            _ => 0,
        }
    }

    fn bar0_write(d: &mut Device, off: u64, v: u32) {
        d.region_write(VFIO_PCI_BAR0_REGION_INDEX, off, &v.to_le_bytes())
            .unwrap();
    }

    #[test]
    fn the_interrupt_tree_gates_and_routes_messages() {
        use crate::blocks::intr::*;
        let mut d = Device::new(&GA102, Options::default(), Arc::new(Tracer::off())).unwrap();
        let fds: Vec<File> = (0..4).map(|_| eventfd()).collect();
        d.set_irqs(
            VFIO_PCI_MSIX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            0,
            4,
            fds.iter().map(|f| f.try_clone().unwrap()).collect(),
        )
        .unwrap();
        d.region_write(
            VFIO_PCI_CONFIG_REGION_INDEX,
            (crate::pci::cap::MSIX + 3) as u64,
            &[0x80],
        )
        .unwrap();
        let counts = |fds: &[File]| fds.iter().map(count).collect::<Vec<_>>();

        // Pending but not enabled: no message.
        bar0_write(&mut d, LEAF_TRIGGER as u64, GSP_VECTOR);
        bar0_write(&mut d, LEAF_EN_SET as u64 + 16, 1 << 27);
        assert_eq!(counts(&fds), [0, 0, 0, 0]);
        // TOP_EN completes the path: one message on MSI-X vector 2 (subtree 2).
        bar0_write(&mut d, TOP_EN_SET as u64, 0xf);
        assert_eq!(counts(&fds), [0, 0, 1, 0]);
        assert_eq!(bar0_read(&mut d, TOP as u64), 1 << 2);
        // Still asserted: no new edge, no new message.
        bar0_read(&mut d, 0);
        assert_eq!(counts(&fds), [0, 0, 0, 0]);
        // Unarm, rearm with the bit still pending: a new message (nouveau's handler pattern).
        bar0_write(&mut d, TOP_EN_CLEAR as u64, 0xf);
        bar0_write(&mut d, TOP_EN_SET as u64, 0xf);
        assert_eq!(counts(&fds), [0, 0, 1, 0]);
        // Acknowledge (W1C), raise again: another message.
        bar0_write(&mut d, LEAF as u64 + 16, 1 << 27);
        assert_eq!(bar0_read(&mut d, TOP as u64), 0);
        bar0_write(&mut d, LEAF_TRIGGER as u64, GSP_VECTOR);
        assert_eq!(counts(&fds), [0, 0, 1, 0]);
        // Vector 5: leaf 0, subtree 0, MSI-X vector 0.
        bar0_write(&mut d, LEAF_EN_SET as u64, 1 << 5);
        bar0_write(&mut d, LEAF_TRIGGER as u64, 5);
        assert_eq!(counts(&fds), [1, 0, 0, 0]);

        // MSI-X off, INTx on: one message per newly asserted state.
        let intx = eventfd();
        d.set_irqs(
            VFIO_PCI_INTX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            0,
            1,
            vec![intx.try_clone().unwrap()],
        )
        .unwrap();
        d.region_write(
            VFIO_PCI_CONFIG_REGION_INDEX,
            (crate::pci::cap::MSIX + 3) as u64,
            &[0x00],
        )
        .unwrap();
        bar0_write(&mut d, TOP_EN_CLEAR as u64, 0xf);
        bar0_write(&mut d, TOP_EN_SET as u64, 0xf);
        assert_eq!(count(&intx), 1);
        assert_eq!(counts(&fds), [0, 0, 0, 0]);

        // An FLR resets the tree.
        d.region_write(
            VFIO_PCI_CONFIG_REGION_INDEX,
            (crate::pci::cap::PCIE + 9) as u64,
            &[0x80],
        )
        .unwrap();
        assert!(!d.intr().pending(GSP_VECTOR));
        assert_eq!(bar0_read(&mut d, TOP_EN_SET as u64), 0);
    }

    #[test]
    fn the_storm_goes_through_the_tree() {
        use crate::blocks::intr::*;
        let opts = Options {
            irq_storm: true,
            ..Default::default()
        };
        let mut d = Device::new(&GA102, opts, Arc::new(Tracer::off())).unwrap();
        let intx = eventfd();
        d.set_irqs(
            VFIO_PCI_INTX_IRQ_INDEX,
            VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD,
            0,
            1,
            vec![intx.try_clone().unwrap()],
        )
        .unwrap();
        for _ in 0..5 {
            bar0_read(&mut d, 0);
        }
        assert_eq!(count(&intx), 0, "not enabled: nothing reaches the host");
        assert!(d.intr().pending(GSP_VECTOR));
        bar0_write(&mut d, LEAF_EN_SET as u64 + 16, 1 << 27);
        bar0_write(&mut d, TOP_EN_SET as u64, 1 << 2);
        for _ in 0..5 {
            bar0_read(&mut d, 0);
        }
        assert_eq!(count(&intx), 6, "one message per access once enabled");
        bar0_write(&mut d, LEAF as u64 + 16, 1 << 27);
        assert!(d.intr().pending(GSP_VECTOR), "the storm sets it again");
    }

    #[test]
    fn the_falcons_own_their_engine_ranges() {
        // GSP 0x110000-0x113fff and SEC2 0x840000-0x843fff (docs/facts/ga102.md §5.1) belong to the falcon
        // blocks and to nothing else.
        let guest = Arc::new(Mutex::new(GuestMemory::new()));
        let t = Arc::new(Tracer::off());
        let links = Links {
            gsp_port: GspPort::new(),
            gsp_irq: IrqLine::new(),
            intr: IntrHandle::new(),
            rpc_stats: RpcStats::new(),
            bars: BarView::new(),
            fifo: Fifo::new(
                Hub::new(Vram::new(GA102.vram_size), guest.clone(), t.clone()),
                t.clone(),
            ),
            hub: Hub::new(Vram::new(GA102.vram_size), guest.clone(), t.clone()),
        };
        for b in blocks(&GA102, &Options::default(), &guest, &t, &links).0 {
            for &(s, e) in b.ranges() {
                for (name, fs, fe) in [("gsp", 0x110000, 0x114000), ("sec2", 0x840000, 0x844000)] {
                    if b.name() == name {
                        assert_eq!((s, e), (fs, fe));
                    } else {
                        assert!(e <= fs || s >= fe, "{} {s:#x}..{e:#x}", b.name());
                    }
                }
            }
        }
    }
}
