// SPDX-License-Identifier: GPL-2.0
//! The link nova-drm holds to a bound GPU: the auxiliary device's registration data.
//!
//! A [`GpuLink`] lives exactly as long as nova-core's binding (`'bound`): nova-drm reaches it
//! only through its own DRM registration, which is torn down before nova-core unbinds. It
//! carries the register window, so the hardware steps of memory management (BAR1 windows,
//! page-table updates followed by TLB invalidates) happen here. GSP-RM's events do not: the
//! interrupt thread services them ([`crate::irq`]) and hands channel errors to the
//! [`EngineListener`] nova-drm sets here.
//! What must outlive the binding (VRAM blocks, address spaces) holds only [`GpuMm`].

use kernel::{
    device::{self, Bound},
    io::{poll::read_poll_timeout, Io},
    pci,
    prelude::*,
    sizes::SZ_64K,
    sync::{
        atomic::{Atomic, Relaxed},
        barrier::{dma_mb, Full},
        Arc,
    },
    time::Delta,
};

use crate::{
    address_space::{map_runs, mmu_err, AddressSpace, Backing, MapFlags},
    driver::Bar0,
    gpfifo::{Channel, ChannelHandles, ChannelMemory, EngineKind, GPFIFO_ENTRIES, RING_BYTES},
    gsp::{
        channel::GspChannel,
        fifo::{self, ctrl, MemDesc, PdAperture},
        rm::RmDevice,
    },
    handoff::DrmHandoff,
    irq::{EngineListener, IrqShared},
    memory::{Bar1Slot, GpuMm, VramBlock},
    mm::{
        mmu_v2::{PageSize, TableAddr},
        pagetable::PageTable,
        tlb::{
            invalidate_pdb_values, invalidate_pending, invalidate_value, Invalidate,
            MMU_INVALIDATE, MMU_INVALIDATE_PDB, MMU_INVALIDATE_UPPER_PDB,
        },
    },
    page_tables::{TableCtx, VramTables},
};

/// How long a TLB invalidate may take (nouveau's choice, docs/facts/ga102.md §12.4 and §13 item 17).
const INVALIDATE_TIMEOUT: Delta = Delta::from_secs(2);

/// What nova-drm gets from nova-core for one GPU.
pub struct GpuLink<'bound> {
    info: DrmHandoff,
    dev: &'bound device::Device<Bound>,
    bar: Arc<Bar0<'bound>>,
    mm: Option<Arc<GpuMm>>,
    gsp: Option<Arc<GspChannel>>,
    rm: Option<RmDevice>,
    irq: Option<Arc<IrqShared>>,
    /// Handles of the RM objects this link allocates (channels and their VA spaces).
    next_handle: Atomic<u32>,
}

/// First handle of the objects a link allocates: "NW" in the top half (the device's own
/// objects use "NV", [`crate::gsp::rm`]).
const HANDLE_BASE: u32 = 0x4e57_0000;

/// Entries of our root page directory (PD3, VA bits 48:47, docs/facts/ga102.md §12.1).
const ROOT_ENTRIES: u32 = 4;

/// The usermode doorbell `NOTIFY_CHANNEL_PENDING` (docs/facts/ga102.md §10.3: PF BAR0 0xBB0090).
const DOORBELL: usize = 0xbb_0090;

impl<'bound> GpuLink<'bound> {
    pub(crate) fn new(
        info: DrmHandoff,
        dev: &'bound device::Device<Bound>,
        bar: Arc<Bar0<'bound>>,
        mm: Option<Arc<GpuMm>>,
        gsp: Option<Arc<GspChannel>>,
        rm: Option<RmDevice>,
        irq: Option<Arc<IrqShared>>,
    ) -> Self {
        GpuLink {
            info,
            dev,
            bar,
            mm,
            gsp,
            rm,
            irq,
            next_handle: Atomic::new(HANDLE_BASE),
        }
    }

    /// Whether the engines' completion (non-stall) interrupts reach the listener (otherwise
    /// callers must poll for completions).
    pub fn has_interrupts(&self) -> bool {
        self.irq.as_ref().is_some_and(|i| i.nonstall_open())
    }

    /// Sets (or, with None, clears) who hears about engine interrupts and channel errors
    /// (GSP-RM's `RC_TRIGGERED`, from nova-core's interrupt thread). Clearing waits until a
    /// running notification has returned.
    pub fn set_listener(&self, l: Option<Arc<dyn EngineListener>>) {
        if let Some(irq) = &self.irq {
            irq.set_listener(l);
        }
    }

    fn handle(&self) -> u32 {
        self.next_handle.fetch_add(1, Relaxed)
    }

    fn rm(&self) -> Result<(&Arc<GspChannel>, RmDevice)> {
        match (&self.gsp, self.rm) {
            (Some(g), Some(rm)) => Ok((g, rm)),
            _ => Err(ENODEV),
        }
    }

    /// A new channel of `engine` in `space`, its ring area mapped at `ring_va` (64 KiB
    /// aligned, [`RING_BYTES`] long, not mapped yet). -EOPNOTSUPP if the chip's class for the
    /// engine is not known.
    pub fn channel_new(
        &self,
        space: &mut AddressSpace,
        engine: EngineKind,
        ring_va: u64,
    ) -> Result<Channel> {
        let (gsp, rm) = self.rm()?;
        let (class, engine_type) = match engine {
            EngineKind::Copy => (self.info.classes.copy, fifo::ENGINE_COPY0),
            EngineKind::TwoD => (self.info.classes.twod, fifo::ENGINE_GRAPHICS),
        };
        if class == 0 || self.info.classes.channel == 0 {
            return Err(EOPNOTSUPP);
        }
        let bar: &Bar0<'_> = &self.bar;
        let mut size = [0u8; 4];
        gsp.rm_control(
            bar,
            rm.client,
            rm.subdevice,
            ctrl::NV2080_CE_GET_FAULT_METHOD_BUFFER_SIZE,
            &mut size,
        )?;
        let mthd_bytes = usize::try_from(u32::from_le_bytes(size))?;
        if mthd_bytes > 1 << 20 {
            dev_err!(
                self.dev,
                "GSP: method buffer of {} bytes asked for\n",
                mthd_bytes
            );
            return Err(EIO);
        }
        let mem = ChannelMemory::new(self.dev, mthd_bytes)?;
        let segments = [(mem.ring.dma_address(), RING_BYTES as u64)];
        self.vm_map(
            space,
            ring_va,
            Backing::Sysmem {
                segments: &segments,
                len: RING_BYTES as u64,
            },
            MapFlags::default(),
        )?;
        let handles = ChannelHandles {
            vaspace: self.handle(),
            channel: self.handle(),
            object: self.handle(),
        };
        let mut ch = Channel::assemble(handles, engine, engine_type, ring_va, mem);
        match self.channel_objects(gsp, rm, space, &mut ch, class) {
            Ok(()) => Ok(ch),
            Err(e) => {
                // Freeing the VA space frees everything allocated under it.
                let _ = gsp.rm_free(bar, rm.client, rm.device, handles.vaspace);
                let _ = self.vm_unmap(space, ring_va, RING_BYTES as u64);
                Err(e)
            }
        }
    }

    /// Steps 1-5 of [`crate::gsp::fifo`].
    fn channel_objects(
        &self,
        gsp: &GspChannel,
        rm: RmDevice,
        space: &AddressSpace,
        ch: &mut Channel,
        class: u32,
    ) -> Result {
        let bar: &Bar0<'_> = &self.bar;
        let h = ch.handles;
        gsp.rm_alloc(
            bar,
            rm.client,
            rm.device,
            h.vaspace,
            fifo::class::FERMI_VASPACE_A,
            &fifo::vaspace_params(),
        )?;
        let root = space.root();
        let aperture = if root.aperture.is_system() {
            PdAperture::SysmemCoherent
        } else {
            PdAperture::Vidmem
        };
        let mut pd = fifo::set_page_directory_params(root.addr, ROOT_ENTRIES, aperture, h.vaspace);
        gsp.rm_control(
            bar,
            rm.client,
            rm.device,
            ctrl::NV0080_DMA_SET_PAGE_DIRECTORY,
            &mut pd,
        )?;
        let params = fifo::channel_params(&fifo::ChannelAlloc {
            gpfifo_va: ch.ring_va,
            gpfifo_entries: GPFIFO_ENTRIES,
            h_vaspace: h.vaspace,
            engine_type: ch.engine_type,
            inst: MemDesc::sysmem(ch.inst.dma_address(), 0x1000),
            userd: MemDesc::sysmem(ch.userd.dma_address(), 0x200),
            mthdbuf: MemDesc::sysmem(ch.mthdbuf.dma_address(), ch.mthdbuf.size() as u64),
        });
        gsp.rm_alloc(
            bar,
            rm.client,
            rm.device,
            h.channel,
            self.info.classes.channel,
            &params,
        )?;
        ch.live = true;
        match ch.engine {
            EngineKind::Copy => gsp.rm_alloc(
                bar,
                rm.client,
                h.channel,
                h.object,
                class,
                &fifo::copy_params(ch.engine_type),
            )?,
            EngineKind::TwoD => gsp.rm_alloc(bar, rm.client, h.channel, h.object, class, &[])?,
        }
        let mut p = ch.engine_type.to_le_bytes();
        gsp.rm_control(bar, rm.client, h.channel, ctrl::NVA06F_BIND, &mut p)?;
        let mut p = [1u8, 0];
        gsp.rm_control(
            bar,
            rm.client,
            h.channel,
            ctrl::NVA06F_GPFIFO_SCHEDULE,
            &mut p,
        )?;
        let mut p = [0u8; 4];
        gsp.rm_control(
            bar,
            rm.client,
            h.channel,
            ctrl::NVC36F_GET_WORK_SUBMIT_TOKEN,
            &mut p,
        )?;
        ch.token = u32::from_le_bytes(p);
        Ok(())
    }

    /// Stops the channel for good: frees its RM objects, and GSP-RM preempts it off the GPU
    /// first. Touches no address space, so it can run where the VM's lock cannot be taken (a
    /// scheduler's timeout handler). Its ring stays mapped until [`GpuLink::channel_free`].
    pub fn channel_stop(&self, ch: &mut Channel) {
        if !ch.live {
            return;
        }
        ch.live = false;
        if let Ok((gsp, rm)) = self.rm() {
            let bar: &Bar0<'_> = &self.bar;
            if let Err(e) = gsp.rm_free(bar, rm.client, rm.device, ch.handles.vaspace) {
                dev_err!(
                    self.dev,
                    "GSP: freeing channel {} failed: {:?}\n",
                    ch.chid(),
                    e
                );
            }
        }
    }

    /// Stops the channel (if [`GpuLink::channel_stop`] has not) and unmaps its ring area. The
    /// memory goes when `ch` is dropped.
    pub fn channel_free(&self, space: &mut AddressSpace, ch: &mut Channel) {
        self.channel_stop(ch);
        if ch.ring_mapped {
            ch.ring_mapped = false;
            if let Err(e) = self.vm_unmap(space, ch.ring_va, RING_BYTES as u64) {
                dev_err!(
                    self.dev,
                    "unmapping the ring of channel {} failed: {:?}\n",
                    ch.chid(),
                    e
                );
            }
        }
    }

    /// Tells the GPU that the channel's GPFIFO entries up to `put` (exclusive, mod the ring
    /// size) are ready: GP_PUT in USERD, then the doorbell (docs/facts/ga102.md §10.3).
    pub fn channel_kick(&self, ch: &Channel, put: u32) -> Result {
        if !ch.live {
            return Err(ENODEV);
        }
        ch.set_gp_put(put)?;
        // Ring entries, push segments and GP_PUT must be in memory before the GPU looks.
        dma_mb(Full);
        self.bar.try_write32(ch.token, DOORBELL)
    }

    /// What nova-core identified.
    pub fn info(&self) -> &DrmHandoff {
        &self.info
    }

    /// The memory state; -ENODEV when GSP-RM did not come up (no VRAM region is known).
    pub fn mm(&self) -> Result<&Arc<GpuMm>> {
        self.mm.as_ref().ok_or(ENODEV)
    }

    /// An empty GPU address space.
    pub fn new_address_space(&self) -> Result<AddressSpace> {
        self.mm()?;
        AddressSpace::new(self.dev)
    }

    /// Maps `backing` at `va` in `space` and invalidates the GPU TLB; returns the largest
    /// page size used. All or nothing.
    pub fn vm_map(
        &self,
        space: &mut AddressSpace,
        va: u64,
        backing: Backing<'_>,
        flags: MapFlags,
    ) -> Result<PageSize> {
        let r = space.map(self.dev, va, &backing, flags);
        // A failed map was undone, but entries may have been valid for a moment.
        self.invalidate(space.root(), Invalidate::address_space())?;
        space.release_retired();
        Ok(r?.1)
    }

    /// Unmaps `[va, va + len)` (wholly mapped, by pages inside the range) and invalidates.
    pub fn vm_unmap(&self, space: &mut AddressSpace, va: u64, len: u64) -> Result {
        let r = space.unmap(self.dev, va, len);
        if r.is_ok() {
            self.invalidate(space.root(), Invalidate::address_space())?;
            space.release_retired();
        }
        r.map(|_| ())
    }

    /// Gives `block` a BAR1 window (once; later calls return the same) and returns the CPU
    /// physical address of its first byte. Windows of dropped blocks are unmapped first.
    pub fn bar1_map(&self, block: &VramBlock) -> Result<u64> {
        let mm = self.mm()?;
        if !Arc::ptr_eq(&block.mm, mm) {
            return Err(EINVAL);
        }
        let mut guard = mm.bar1.lock();
        let space = (*guard).as_mut().ok_or(ENODEV)?;
        let vram = || VramTables {
            bar: &self.bar,
            pramin: &mm.pramin,
        };

        // Dead windows first: their VA ranges go back to the allocator.
        let mut changed = false;
        let mut i = 0;
        while i < space.slots.len() {
            if space.slots[i].live {
                i += 1;
                continue;
            }
            let (va, size) = (space.slots[i].va, space.slots[i].size);
            let mut ctx = TableCtx::new(self.dev, &mut space.tables, Some(vram()));
            PageTable::new(&mut ctx, space.root)
                .unmap(va, size)
                .map_err(mmu_err)?;
            let _ = space.slots.remove(i);
            changed = true;
        }

        if let Some(va) = block.bar1_va() {
            if changed {
                self.invalidate(space.root, bar1_invalidate())?;
                space.tables.release_retired();
            }
            return Ok(mm.bar1_phys + va);
        }

        let range = GpuMm::bar1_va(space, block.size())?;
        let va = range.iter().next().ok_or(ENOSPC)?.offset();
        space.slots.reserve(1, GFP_KERNEL)?;
        let size = block.size();
        let map = {
            let mut ctx = TableCtx::new(self.dev, &mut space.tables, Some(vram()));
            let mut pt = PageTable::new(&mut ctx, space.root);
            let backing = Backing::Vram {
                block,
                offset: 0,
                len: size,
            };
            map_runs(&mut pt, va, &backing, MapFlags::default())
        };
        self.invalidate(space.root, bar1_invalidate())?;
        space.tables.release_retired();
        map?;
        space
            .slots
            .push_within_capacity(Bar1Slot {
                va,
                size,
                _range: range,
                live: true,
            })
            .map_err(|_| ENOMEM)?;
        block.set_bar1_va(va);
        Ok(mm.bar1_phys + va)
    }

    /// Boot self-check of the CPU's two ways into VRAM: a pattern written through PRAMIN
    /// must read back through a BAR1 window and the reverse. Returns the VRAM address and the
    /// BAR1 offset used.
    pub(crate) fn check_bar1(&self, pdev: &pci::Device<Bound>) -> Result<(u64, u64)> {
        const LEN: usize = SZ_64K;
        let mm = self.mm()?;
        let block = mm.alloc_vram(LEN as u64, 0)?;
        let va = self.bar1_map(&block)? - mm.bar1_phys;
        let win = pdev.iomap_region(1, c"nova-core/bar1-check")?;
        let base = usize::try_from(va)?;
        let word = |i: usize| 0x6231_0000 ^ (i as u32).wrapping_mul(0x9e37_79b9);
        let offs = [0usize, 4, 0x1000, LEN - 4];
        for &o in &offs {
            mm.pramin
                .write32(&self.bar, block.addr() + o as u64, word(o))?;
        }
        for &o in &offs {
            let got = win.try_read32(base + o)?;
            if got != word(o) {
                dev_err!(
                    self.dev,
                    "boot: BAR1 offset {:#x} reads {:#x}, PRAMIN wrote {:#x}\n",
                    base + o,
                    got,
                    word(o)
                );
                return Err(EIO);
            }
            win.try_write32(!word(o), base + o)?;
        }
        for &o in &offs {
            let got = mm.pramin.read32(&self.bar, block.addr() + o as u64)?;
            if got != !word(o) {
                dev_err!(
                    self.dev,
                    "boot: PRAMIN reads {:#x} at VRAM {:#x}, BAR1 wrote {:#x}\n",
                    got,
                    block.addr() + o as u64,
                    !word(o)
                );
                return Err(EIO);
            }
        }
        Ok((block.addr(), va))
    }

    /// Invalidates the TLB entries of the address space rooted at `root` (docs/facts/ga102.md §12.4:
    /// PDB, UPPER_PDB, then INVALIDATE with TRIGGER; TRIGGER clears when done).
    fn invalidate(&self, root: TableAddr, req: Invalidate) -> Result {
        // The table writes must reach memory before the GPU is told to re-walk.
        dma_mb(Full);
        let [lo, hi] = invalidate_pdb_values(root).map_err(mmu_err)?;
        let bar: &Bar0<'_> = &self.bar;
        bar.try_write32(lo, MMU_INVALIDATE_PDB as usize)?;
        bar.try_write32(hi, MMU_INVALIDATE_UPPER_PDB as usize)?;
        bar.try_write32(invalidate_value(&req), MMU_INVALIDATE as usize)?;
        read_poll_timeout(
            || bar.try_read32(MMU_INVALIDATE as usize),
            |v| !invalidate_pending(*v),
            Delta::from_micros(10),
            INVALIDATE_TIMEOUT,
        )
        .inspect_err(|_| dev_err!(self.dev, "MMU: TLB invalidate did not complete in 2 s\n"))?;
        Ok(())
    }
}

/// BAR1's invalidate: every PDB, hub TLB only (nouveau's BAR flush, docs/facts/ga102.md §12.4).
fn bar1_invalidate() -> Invalidate {
    Invalidate {
        all_pdb: true,
        hubtlb_only: true,
        ..Invalidate::address_space()
    }
}
