// SPDX-License-Identifier: GPL-2.0
//! Register-level tests of the falcon model, driving a [`Falcon`] block directly.

use super::brom::*;
use super::*;
use crate::blocks::bus::{Bus, FRTS_ERROR};
use crate::blocks::fb::Fb;
use crate::chip::GA102;
use crate::dma::{memfd, GuestMemory};
use crate::trace::{Filter, Tracer};
use nova_firmware::format::dmap;
use std::io::Write;
use std::sync::Mutex;

const GSP: u32 = 0x110000;
const SEC2: u32 = 0x840000;
/// Guest physical address of the test "RAM".
const GPA: u64 = 0x8000_0000;
const RAM: u64 = 1 << 20;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

struct Rig {
    f: Falcon,
    bus: Bus,
    fb: Fb,
    guest: SharedGuestMemory,
    trace: Buf,
    rom: Vec<u8>,
    layout: nova_firmware::VbiosLayout,
    irq: crate::irq::IrqLine,
    _ram: std::fs::File,
}

fn rig_with(engine: Engine, knobs: Knobs) -> Rig {
    let (rom, layout) = nova_firmware::build_ga102_vbios_with_layout();
    let bus = Bus::new();
    let fb = Fb::new();
    let ram = memfd(c"falcon-test-ram", RAM).unwrap();
    let mut g = GuestMemory::new();
    g.map(GPA, RAM, &ram, 0).unwrap();
    let guest = Arc::new(Mutex::new(g));
    let trace = Buf::default();
    let tracer = Arc::new(Tracer::new(Filter::All, Box::new(trace.clone())));
    let irq = crate::irq::IrqLine::new();
    let hub = crate::mmu::hub::Hub::new(
        crate::vram::Vram::new(GA102.vram_size),
        guest.clone(),
        Arc::new(Tracer::off()),
    );
    let w = Wiring {
        known: Arc::new(KnownImages::from_vbios(&rom, &layout)),
        scratch: bus.handle(),
        wpr2: fb.wpr2_handle(),
        guest: guest.clone(),
        tracer,
        vram_size: GA102.vram_size,
        vga_workspace: crate::blocks::disp::Disp::register_value(&GA102),
        gsp_port: GspPort::new(),
        firmware: None,
        fuses: GA102.fuses,
        knobs,
        chip: &GA102,
        bars: crate::pci::BarView::new(),
        irq: irq.clone(),
        rpc_stats: gsprm::RpcStats::new(),
        gsp_rm: gsprm::Knobs::default(),
        fifo: crate::fifo::Fifo::new(hub.clone(), Arc::new(Tracer::off())),
        hub,
    };
    let mut f = Falcon::new(engine, w);
    // Scrubbing ends by read count here; the wall-time rule has its own test.
    f.set_scrub_time(std::time::Duration::from_secs(3600));
    Rig {
        f,
        bus,
        fb,
        guest,
        trace,
        rom,
        layout,
        irq,
        _ram: ram,
    }
}

fn rig() -> Rig {
    rig_with(Engine::Gsp, Knobs::default())
}

impl Rig {
    fn base(&self) -> u32 {
        self.f.engine().base()
    }
    fn r(&mut self, rel: u32) -> u32 {
        let b = self.base();
        self.f.read32(b + rel)
    }
    fn w(&mut self, rel: u32, v: u32) {
        let b = self.base();
        self.f.write32(b + rel, v)
    }
    fn guest_write(&self, at: u64, data: &[u8]) {
        self.guest.lock().unwrap().write(at, data).unwrap();
    }

    /// Facts §5.4 reset: RESET_READY, ENGINE.RESET pulse, wait for scrubbing, falcon core.
    fn reset(&mut self) {
        let _ = self.r(regs::HWCFG2) & HWCFG2_RESET_READY;
        self.w(ENGINE, 1);
        self.w(ENGINE, 0);
        for _ in 0..10 {
            if self.r(HWCFG2) & HWCFG2_MEM_SCRUBBING == 0 {
                break;
            }
        }
        assert_eq!(self.r(HWCFG2) & HWCFG2_MEM_SCRUBBING, 0);
        if self.r(RISCV_BCR_CTRL) & BCR_CORE_SELECT_RISCV != 0 {
            self.w(RISCV_BCR_CTRL, 0);
            assert_ne!(self.r(RISCV_BCR_CTRL) & BCR_VALID, 0);
        }
        self.w(RM, GA102.boot0);
    }

    /// The production FWSEC with signature `sig`, patched for FRTS at the docs/facts/ga102.md §7.2 place.
    fn fwsec_image(&self, sig: usize) -> Vec<u8> {
        let p = &self.layout.fwsec_prod;
        let mut u = p.patched_ucode(&self.rom, sig).unwrap();
        let d = p.imem_size;
        let m = d + p.dmem_mapper_offset + dmap::INIT_CMD;
        u[m..m + 4].copy_from_slice(&dmap::CMD_FRTS.to_le_bytes());
        let cmd: Vec<u8> = [1u32, 24, 0, 0, 0, 2, 1, 20, 0x5ffe00, 0x100, 2]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let c = d + p.cmd_in_offset;
        u[c..c + cmd.len()].copy_from_slice(&cmd);
        u
    }

    /// Facts §5.4 DMA load of `ucode` (IMEM part secure) from guest `GPA`, then BROM params.
    fn dma_load(&mut self, ucode: &[u8], imem_len: usize, sec: bool) {
        self.guest_write(GPA, ucode);
        let ctl = self.r(FBIF_CTL);
        self.w(FBIF_CTL, ctl | FBIF_CTL_ALLOW_PHYS_NO_CTX);
        self.w(DMACTL, 0);
        self.w(
            FBIF_TRANSCFG0,
            TARGET_COHERENT_SYSMEM | TRANSCFG_MEM_TYPE_PHYSICAL,
        );
        self.w(DMATRFBASE, (GPA >> 8) as u32);
        self.w(DMATRFBASE1, (GPA >> 40) as u32);
        let chunks = |len: usize| (0..len).step_by(256);
        for pos in chunks(imem_len) {
            self.w(DMATRFMOFFS, pos as u32);
            self.w(DMATRFFBOFFS, pos as u32);
            let s = if sec { 1 << DMATRFCMD_SEC_SHIFT } else { 0 };
            self.w(DMATRFCMD, 6 << 8 | DMATRFCMD_IMEM | s);
            while self.r(DMATRFCMD) & DMATRFCMD_IDLE == 0 {}
        }
        for pos in chunks(ucode.len() - imem_len) {
            self.w(DMATRFMOFFS, pos as u32);
            self.w(DMATRFFBOFFS, (imem_len + pos) as u32);
            self.w(DMATRFCMD, 6 << 8);
            while self.r(DMATRFCMD) & DMATRFCMD_IDLE == 0 {}
        }
    }

    fn brom(&mut self, paraaddr: u32, engid: u32, ucode_id: u32, mod_sel: u32) {
        self.w(BROM_PARAADDR0, paraaddr);
        self.w(BROM_ENGIDMASK, engid);
        self.w(BROM_CURR_UCODE_ID, ucode_id);
        self.w(MOD_SEL, mod_sel);
    }

    fn start(&mut self) {
        self.w(MAILBOX0, 0);
        if self.r(CPUCTL) & CPUCTL_ALIAS_EN != 0 {
            self.w(CPUCTL_ALIAS, CPUCTL_STARTCPU);
        } else {
            self.w(CPUCTL, CPUCTL_STARTCPU);
        }
    }

    /// The whole FWSEC-FRTS run with the given deviations; returns MAILBOX0.
    fn run_fwsec(&mut self, sig: usize, mod_sel: u32, bootvec: u32) -> u32 {
        let img = self.fwsec_image(sig);
        let p = self.layout.fwsec_prod.clone();
        self.reset();
        self.dma_load(&img, p.imem_size, true);
        self.brom(p.pkc_data_offset as u32, 0x400, 9, mod_sel);
        self.w(BOOTVEC, bootvec);
        self.start();
        assert_ne!(self.r(CPUCTL) & CPUCTL_HALTED, 0);
        self.r(MAILBOX0)
    }
}

#[test]
fn power_on_state() {
    let mut r = rig();
    assert_eq!(r.r(HWCFG), 0x100 | 0x100 << 9, "64 KiB IMEM and DMEM");
    assert_eq!(r.r(HWCFG) & 0x1ff, (IMEM_SIZE / 256) as u32);
    assert_eq!((r.r(HWCFG1) >> 4) & 3, 3, "SECURITY_MODEL heavy secure");
    assert_eq!(r.r(HWCFG1) & 0xf, 7);
    assert_eq!(r.r(HWCFG2), HWCFG2_RISCV | HWCFG2_RESET_READY);
    assert_eq!(r.r(DMACTL), 0);
    assert_eq!(r.r(CPUCTL), CPUCTL_HALTED);
    assert_eq!(r.r(RISCV_CPUCTL), RISCV_CPUCTL_HALTED, "not ACTIVE");
    assert_eq!(
        r.r(RISCV_BCR_CTRL),
        BCR_BRFETCH,
        "INIT: falcon core, BRFETCH, not VALID"
    );
    assert_eq!(r.r(ENGINE), 0);
    assert_eq!(r.r(DMATRFCMD) & DMATRFCMD_IDLE, DMATRFCMD_IDLE);
    for reg in [
        IRQSTAT, IRQMASK, MAILBOX0, MAILBOX1, OS, RM, BOOTVEC, MOD_SEL,
    ] {
        assert_eq!(r.r(reg), 0, "{reg:#x}");
    }
    assert_eq!(r.f.ranges(), &[(0x110000, 0x114000)]);
    assert_eq!(r.f.name(), "gsp");
    let s = rig_with(Engine::Sec2, Knobs::default());
    assert_eq!(s.f.ranges(), &[(0x840000, 0x844000)]);
    assert_eq!(s.f.name(), "sec2");
}

#[test]
fn register_names_for_the_trace() {
    let r = rig();
    let n = |off| r.f.reg_name(off);
    assert_eq!(n(GSP + 0x100), Some("NV_PFALCON_FALCON_CPUCTL"));
    assert_eq!(n(GSP + 0x3c0), Some("NV_PGSP_FALCON_ENGINE"));
    assert_eq!(n(GSP + 0x604), Some("NV_PFALCON_FBIF_TRANSCFG(1)"));
    assert_eq!(n(GSP + 0x1668), Some("NV_PRISCV_RISCV_BCR_CTRL"));
    assert_eq!(n(GSP + 0x1210), Some("NV_PFALCON2_FALCON_BROM_PARAADDR(0)"));
    assert_eq!(n(GSP + 0xc00), Some("NV_PGSP_QUEUE_HEAD(0)"));
    assert_eq!(n(GSP + 0x2000), None);
    let s = rig_with(Engine::Sec2, Knobs::default());
    assert_eq!(s.f.reg_name(SEC2 + 0x3c0), Some("NV_PSEC_FALCON_ENGINE"));
    assert_eq!(s.f.reg_name(SEC2 + 0x804), Some("NV_PSEC_MAILBOX(0)"));
    assert_eq!(s.f.reg_name(SEC2 + 0xc00), None, "no queue heads on SEC2");
}

#[test]
fn engine_reset_scrubs_and_reports_scrubbing_for_a_few_reads() {
    let mut r = rig();
    r.w(DMEMC0, MEMC_AINCW);
    r.w(DMEMC0 + 4, 0x1234_5678);
    r.w(MAILBOX0, 5);
    r.w(ENGINE_MAILBOX0, 6);
    r.w(RISCV_BCR_CTRL, 0x111);
    r.w(IRQMSET, 0x40);
    r.w(ENGINE, 1);
    assert_eq!(r.r(ENGINE), 1);
    assert_eq!(r.r(HWCFG2) & HWCFG2_RESET_READY, 0, "held in reset");
    assert_ne!(r.r(HWCFG2) & HWCFG2_MEM_SCRUBBING, 0);
    r.w(MAILBOX0, 7);
    assert_eq!(
        r.r(MAILBOX0),
        0,
        "writes ignored while held, state back to INIT"
    );
    r.w(ENGINE, 0);
    assert_eq!(r.r(ENGINE), 0);
    // Scrubbing for SCRUB_BUSY_READS reads of HWCFG2 or DMACTL, then done.
    assert_ne!(r.r(HWCFG2) & HWCFG2_MEM_SCRUBBING, 0);
    assert_eq!(
        r.r(DMACTL) & (DMACTL_DMEM_SCRUBBING | DMACTL_IMEM_SCRUBBING),
        DMACTL_DMEM_SCRUBBING | DMACTL_IMEM_SCRUBBING
    );
    assert_eq!(r.r(HWCFG2) & HWCFG2_MEM_SCRUBBING, 0);
    assert_eq!(r.r(DMACTL), 0);
    assert_ne!(r.r(HWCFG2) & HWCFG2_RESET_READY, 0);
    r.w(DMEMC0, MEMC_AINCR);
    assert_eq!(r.r(DMEMC0 + 4), 0, "DMEM scrubbed");
    assert_eq!(r.r(IRQMASK), 0);
    assert_eq!(r.r(CPUCTL), CPUCTL_HALTED);
    assert_eq!(r.r(RISCV_BCR_CTRL), 0x111, "BCR survives ENGINE.RESET");
    assert_eq!(r.r(ENGINE_MAILBOX0), 6);
    // FLR: everything back to power-on.
    r.f.reset();
    assert_eq!(r.r(RISCV_BCR_CTRL), BCR_INIT);
    assert_eq!(r.r(ENGINE_MAILBOX0), 0);
    let t = r.trace.text();
    assert!(t.contains("GSP falcon: reset"), "{t}");
    assert!(
        t.contains("GSP falcon: out of reset, scrubbing IMEM/DMEM"),
        "{t}"
    );
    assert!(t.contains("GSP falcon: scrubbing done"), "{t}");
    assert!(t.contains("GSP falcon: core select RISC-V"), "{t}");
}

#[test]
fn scrubbing_also_ends_with_wall_time_and_loses_writes_meanwhile() {
    let mut r = rig();
    let t = std::time::Duration::from_millis(20);
    r.f.set_scrub_time(t);
    r.w(ENGINE, 1);
    r.w(ENGINE, 0);
    r.w(DMEMC0, MEMC_AINCW);
    r.w(DMEMC0 + 4, 0xaaaa_aaaa);
    std::thread::sleep(t * 2);
    assert_eq!(r.r(HWCFG2) & HWCFG2_MEM_SCRUBBING, 0, "time is up");
    r.w(DMEMC0, 0);
    assert_eq!(r.r(DMEMC0 + 4), 0, "the write during scrubbing was lost");
    assert!(r.trace.text().contains("DMEM write lost: scrubbing"));
}

#[test]
fn imem_pio_with_auto_increment_and_tags() {
    let mut r = rig();
    r.w(IMEMC0 + 16, 0x200 | MEMC_AINCW | IMEMC_SECURE);
    r.w(IMEMC0 + 16 + 8, 0x77);
    for i in 0..4 {
        r.w(IMEMC0 + 16 + 4, 0xc0de_0000 + i);
    }
    assert_eq!(r.r(IMEMC0 + 16) & MEMC_ADDR, 0x210);
    assert_eq!(r.r(IMEMC0 + 16 + 8), 0x77);
    r.w(IMEMC0 + 16, 0x208);
    assert_eq!(r.r(IMEMC0 + 16 + 4), 0xc0de_0002);
    assert_eq!(r.f.imem().tag(0x200), Some(0x77));
    assert_eq!(r.f.imem().u32_at(0x20c), Some(0xc0de_0003));
    assert!(
        !r.f.imem().all_secure(0x200, 16),
        "PIO never yields secure IMEM (docs/facts/ga102.md §5.4)"
    );
}

#[test]
fn dmem_pio_auto_increments_on_write_and_on_read() {
    let mut r = rig();
    let port = |i: u32| DMEMC0 + 8 * i;
    r.w(port(3), 0x40 | MEMC_AINCW);
    for v in [1, 2, 3] {
        r.w(port(3) + 4, v);
    }
    assert_eq!(r.r(port(3)), 0x4c | MEMC_AINCW);
    r.w(port(5), 0x40 | MEMC_AINCR);
    assert_eq!(
        [r.r(port(5) + 4), r.r(port(5) + 4), r.r(port(5) + 4)],
        [1, 2, 3]
    );
    r.w(port(5), 0x40);
    assert_eq!([r.r(port(5) + 4), r.r(port(5) + 4)], [1, 1], "no AINCR");
    assert_eq!(r.f.dmem().u32_at(0x48), Some(3));
}

#[test]
fn interrupt_registers_are_plain_state() {
    let mut r = rig();
    r.w(IRQSTAT, 0xffff_ffff);
    assert_eq!(r.r(IRQSTAT), 0, "read-only");
    r.w(IRQMSET, IRQ_HALT | IRQ_SWGEN0);
    r.w(IRQMCLR, IRQ_HALT);
    assert_eq!(r.r(IRQMASK), IRQ_SWGEN0);
    assert_eq!(r.r(RISCV_IRQMASK), IRQ_SWGEN0);
    r.w(IRQMASK, 0);
    assert_eq!(r.r(IRQMASK), IRQ_SWGEN0, "IRQMASK is read-only");
    r.w(IRQDEST, 0x55);
    assert_eq!(r.r(IRQDEST), 0x55);
    r.w(RISCV_IRQDEST, 0x66);
    assert_eq!(r.r(RISCV_IRQDEST), 0x66);
    // A halt sets IRQSTAT.HALT; IRQSCLR clears it.
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(IRQSTAT), IRQ_HALT);
    r.w(IRQSCLR, IRQ_SWGEN0);
    assert_eq!(r.r(IRQSTAT), IRQ_HALT);
    r.w(IRQSCLR, IRQ_HALT);
    assert_eq!(r.r(IRQSTAT), 0);
    r.w(INTR_RETRIGGER0, 1);
    assert_eq!(r.r(INTR_RETRIGGER0), 0);
    assert_eq!(r.irq.take(), 0, "nothing pending: no retrigger");
}

#[test]
fn retrigger_resends_a_pending_swgen0() {
    // SWGEN0 pending (stuck by the storm knob, as GSP-RM cannot run here).
    let mut r = rig_with(
        Engine::Gsp,
        Knobs {
            irq_storm: true,
            ..Default::default()
        },
    );
    r.w(INTR_RETRIGGER0, 1);
    assert_eq!(r.irq.take(), 0, "masked: nothing reaches the host");
    r.w(IRQMSET, IRQ_SWGEN0);
    r.irq.take();
    r.w(INTR_RETRIGGER0, 1);
    assert_eq!(r.irq.take(), 1, "INTR_RETRIGGER(0).TRIGGER");
    r.w(INTR_RETRIGGER0, 0);
    r.w(INTR_RETRIGGER0 + 4, 1);
    assert_eq!(r.irq.take(), 0, "TRIGGER 0, or index 1");
    // SEC2 never interrupts the host.
    let mut s = rig_with(
        Engine::Sec2,
        Knobs {
            irq_storm: true,
            ..Default::default()
        },
    );
    s.w(IRQMSET, IRQ_SWGEN0);
    s.w(INTR_RETRIGGER0, 1);
    assert_eq!(s.irq.take(), 0);
}

#[test]
fn read_write_registers_and_field_masks() {
    let mut r = rig();
    for (reg, val, back) in [
        (MAILBOX0, 0xcafe_beef, 0xcafe_beef),
        (MAILBOX1, 1, 1),
        (OS, 0x1234, 0x1234),
        (RM, GA102.boot0, GA102.boot0),
        (DEBUGINFO, 9, 9),
        (BOOTVEC, 0x100, 0x100),
        (DMATRFBASE, 0xffff_ffff, 0xffff_ffff),
        (DMATRFBASE1, 0xffff_ffff, 0x1ff),
        (DMATRFMOFFS, 0xffff_ffff, 0x00ff_ffff),
        (DMATRFFBOFFS, 0x100, 0x100),
        (FBIF_CTL, 0x80, 0x80),
        (FBIF_TRANSCFG0 + 28, 0x5, 0x5),
        (MOD_SEL, 0x101, 0x01),
        (BROM_CURR_UCODE_ID, 0x109, 0x09),
        (BROM_ENGIDMASK, 0x400, 0x400),
        (BROM_PARAADDR0 + 12, 0x100, 0x100),
        (ENGINE_MAILBOX0 + 12, 3, 3),
        (QUEUE_HEAD0 + 56, 4, 4),
        (DMACTL, 0xff, DMACTL_REQUIRE_CTX),
        (HWCFG, 0, HWCFG_VALUE),
        (HWCFG1, 0, HWCFG1_VALUE),
    ] {
        r.w(reg, val);
        assert_eq!(r.r(reg), back, "{reg:#x}");
    }
    r.w(CPUCTL, CPUCTL_ALIAS_EN);
    assert_eq!(r.r(CPUCTL), CPUCTL_HALTED | CPUCTL_ALIAS_EN);
    r.w(RISCV_CPUCTL, 0xffff_ffff);
    assert_eq!(r.r(RISCV_CPUCTL), RISCV_CPUCTL_HALTED, "writes ignored");
}

#[test]
fn bcr_core_select_and_valid() {
    let mut r = rig();
    r.w(RISCV_BCR_CTRL, 0x111);
    assert_eq!(r.r(RISCV_BCR_CTRL), 0x111);
    // Starting the falcon CPU with the RISC-V core selected is refused.
    r.w(DMEMC0, 0);
    r.w(DMEMC0 + 4, 1);
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(MAILBOX0), ERR_CORE_SELECT);
    r.w(RISCV_BCR_CTRL, 0);
    assert_eq!(r.r(RISCV_BCR_CTRL), BCR_VALID);
}

#[test]
fn cpuctl_and_alias_start_rules() {
    let mut r = rig();
    r.w(MAILBOX0, 0x1111);
    // Nothing loaded: halts at once, mailboxes untouched.
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(CPUCTL) & CPUCTL_HALTED, CPUCTL_HALTED);
    assert_eq!(r.r(MAILBOX0), 0x1111);
    assert_eq!(r.r(IRQSTAT), IRQ_HALT);
    r.w(IRQSCLR, IRQ_HALT);
    // ALIAS_EN: CPUCTL.STARTCPU ignored, CPUCTL_ALIAS works.
    r.w(CPUCTL, CPUCTL_ALIAS_EN);
    r.w(CPUCTL, CPUCTL_STARTCPU | CPUCTL_ALIAS_EN);
    assert_eq!(r.r(IRQSTAT), 0, "not started");
    r.w(CPUCTL_ALIAS, CPUCTL_STARTCPU);
    assert_eq!(r.r(IRQSTAT), IRQ_HALT);
    r.w(IRQSCLR, IRQ_HALT);
    // Without ALIAS_EN the alias does nothing.
    r.w(CPUCTL, 0);
    r.w(CPUCTL_ALIAS, CPUCTL_STARTCPU);
    assert_eq!(r.r(IRQSTAT), 0);
    assert_eq!(r.r(CPUCTL_ALIAS), 0, "write-only");
    // No start while scrubbing.
    r.w(ENGINE, 1);
    r.w(ENGINE, 0);
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(IRQSTAT), 0);
    let t = r.trace.text();
    assert!(t.contains("GSP falcon: start at BOOTVEC 0x0"), "{t}");
    assert!(t.contains("GSP falcon: halt mailbox0=0x1111"), "{t}");
    assert!(
        t.contains("CPUCTL.STARTCPU ignored: ALIAS_EN is set"),
        "{t}"
    );
    assert!(
        t.contains("STARTCPU ignored: engine in reset or scrubbing"),
        "{t}"
    );
}

#[test]
fn fwsec_frts_by_dma_load() {
    let mut r = rig();
    assert_eq!(r.run_fwsec(1, 1, 0), 0, "{}", r.trace.text());
    let (lo, hi) = r.fb.wpr2_handle().raw();
    assert_eq!(u64::from(lo & !0xf) << 8, 0x5_ffe0_0000);
    assert_eq!(u64::from(hi & !0xf) << 8, 0x5_fff0_0000);
    assert_eq!(r.bus.handle().read(FRTS_ERROR) >> 16, 0);
    assert_eq!(r.r(IRQSTAT) & IRQ_HALT, IRQ_HALT);
    assert_eq!(r.r(RISCV_CPUCTL) & RISCV_CPUCTL_ACTIVE_STAT, 0);
    let t = r.trace.text();
    assert!(
        t.contains("GSP falcon: FWSEC-FRTS ok, WPR2 [0x5ffe00000,0x5fff00000)"),
        "{t}"
    );
    assert!(t.contains("GSP falcon: halt mailbox0=0x0"), "{t}");
}

#[test]
fn boot_rom_rules() {
    // Wrong signature index, BOOTVEC, MOD_SEL.
    let mut r = rig();
    assert_eq!(r.run_fwsec(0, 1, 0), ERR_BAD_SIGNATURE);
    assert!(r
        .trace
        .text()
        .contains("signature 0 loaded, the fuses select 1"));
    assert_eq!(r.run_fwsec(1, 1, 0x100), ERR_BOOTVEC);
    assert_eq!(r.run_fwsec(1, 0, 0), ERR_MOD_SEL);
    assert_eq!(r.fb.wpr2_handle().raw(), (0, 0));

    // BROM params that do not match the descriptor.
    let p = r.layout.fwsec_prod.clone();
    let img = r.fwsec_image(1);
    for (engid, id) in [(0x1, 9), (0x400, 8)] {
        r.reset();
        r.dma_load(&img, p.imem_size, true);
        r.brom(p.pkc_data_offset as u32, engid, id, 1);
        r.start();
        assert_eq!(r.r(MAILBOX0), ERR_BROM_PARAMS);
    }

    // IMEM loaded by non-secure DMA.
    r.reset();
    r.dma_load(&img, p.imem_size, false);
    r.brom(p.pkc_data_offset as u32, 0x400, 9, 1);
    r.start();
    assert_eq!(r.r(MAILBOX0), ERR_IMEM_NOT_SECURE);

    // PARAADDR pointing somewhere else in DMEM.
    r.reset();
    r.dma_load(&img, p.imem_size, true);
    r.brom(0, 0x400, 9, 1);
    r.start();
    assert_eq!(r.r(MAILBOX0), ERR_BAD_SIGNATURE);

    // The debug FWSEC, correctly loaded, is refused on this production chip.
    let d = r.layout.fwsec_debug.clone();
    let dbg = d.patched_ucode(&r.rom, 0).unwrap();
    r.reset();
    r.dma_load(&dbg, d.imem_size, true);
    r.brom(d.pkc_data_offset as u32, 0x400, 9, 1);
    r.start();
    assert_eq!(r.r(MAILBOX0), ERR_DEBUG_SIGNED);

    // Anything else: unknown image.
    r.reset();
    r.dma_load(&[0x42; 512], 256, true);
    r.brom(0, 0x400, 9, 1);
    r.start();
    assert_eq!(r.r(MAILBOX0), ERR_UNKNOWN_IMAGE);
    assert_eq!(r.fb.wpr2_handle().raw(), (0, 0));
}

#[test]
fn pio_loaded_fwsec_is_not_secure() {
    let mut r = rig();
    let p = r.layout.fwsec_prod.clone();
    let img = r.fwsec_image(1);
    r.reset();
    r.w(IMEMC0, MEMC_AINCW | IMEMC_SECURE);
    for (i, w) in img[..p.imem_size].chunks(4).enumerate() {
        if i % 64 == 0 {
            r.w(IMEMC0 + 8, i as u32 / 64);
        }
        r.w(IMEMC0 + 4, u32::from_le_bytes(w.try_into().unwrap()));
    }
    r.w(DMEMC0, MEMC_AINCW);
    for w in img[p.imem_size..].chunks(4) {
        r.w(DMEMC0 + 4, u32::from_le_bytes(w.try_into().unwrap()));
    }
    r.brom(p.pkc_data_offset as u32, 0x400, 9, 1);
    r.start();
    assert_eq!(r.r(MAILBOX0), ERR_IMEM_NOT_SECURE);
}

#[test]
fn dma_errors_halt_and_stay_until_reset() {
    let mut r = rig();
    r.reset();
    r.w(FBIF_CTL, FBIF_CTL_ALLOW_PHYS_NO_CTX);
    r.w(
        FBIF_TRANSCFG0,
        TARGET_COHERENT_SYSMEM | TRANSCFG_MEM_TYPE_PHYSICAL,
    );
    r.w(DMATRFBASE, ((GPA + RAM) >> 8) as u32);
    r.w(DMATRFCMD, 6 << 8 | DMATRFCMD_IMEM);
    assert_eq!(r.r(MAILBOX0), ERR_DMA);
    assert_eq!(r.r(IRQSTAT), IRQ_HALT);
    assert_ne!(r.r(DMATRFCMD) | r.r(DMATRFCMD), 0);
    assert_eq!(
        r.r(DMATRFCMD) & DMATRFCMD_IDLE,
        DMATRFCMD_IDLE,
        "never stuck busy"
    );
    r.w(MAILBOX0, 0);
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(MAILBOX0), ERR_DMA, "the failed load is remembered");
    assert!(r
        .trace
        .text()
        .contains("GSP falcon: DMA error: DMA to unmapped guest memory"));
    // Local FB target: refused the same way.
    r.reset();
    r.w(FBIF_CTL, FBIF_CTL_ALLOW_PHYS_NO_CTX);
    r.w(FBIF_TRANSCFG0, TARGET_LOCAL_FB | TRANSCFG_MEM_TYPE_PHYSICAL);
    r.w(DMATRFBASE, (GPA >> 8) as u32);
    r.w(DMATRFCMD, 6 << 8);
    assert_eq!(r.r(MAILBOX0), ERR_DMA);
    // A reset forgets it.
    r.reset();
    r.w(MAILBOX0, 0);
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert_eq!(r.r(MAILBOX0), 0);
}

#[test]
fn dma_during_scrubbing_is_lost() {
    let mut r = rig();
    r.guest_write(GPA, &[0x11; 256]);
    r.w(ENGINE, 1);
    r.w(ENGINE, 0);
    r.w(FBIF_CTL, FBIF_CTL_ALLOW_PHYS_NO_CTX);
    r.w(
        FBIF_TRANSCFG0,
        TARGET_COHERENT_SYSMEM | TRANSCFG_MEM_TYPE_PHYSICAL,
    );
    r.w(DMATRFBASE, (GPA >> 8) as u32);
    r.w(DMATRFCMD, 6 << 8);
    assert_eq!(r.f.dmem().u32_at(0), Some(0));
    assert!(r.trace.text().contains("DMA lost"));
}

#[test]
fn hang_knob_never_halts() {
    let mut r = rig_with(
        Engine::Gsp,
        Knobs {
            hang: true,
            ..Default::default()
        },
    );
    assert_eq!(r.run_fwsec_no_wait(), 0);
    assert_eq!(r.r(CPUCTL) & CPUCTL_HALTED, 0);
    assert_eq!(r.r(RISCV_CPUCTL) & RISCV_CPUCTL_HALTED, 0);
    assert!(r.f.running());
    r.w(CPUCTL, CPUCTL_STARTCPU);
    assert!(r.trace.text().contains("already running"));
    assert_eq!(r.fb.wpr2_handle().raw(), (0, 0));
    r.reset();
    assert_eq!(r.r(CPUCTL) & CPUCTL_HALTED, CPUCTL_HALTED);
}

impl Rig {
    fn run_fwsec_no_wait(&mut self) -> u32 {
        let img = self.fwsec_image(1);
        let p = self.layout.fwsec_prod.clone();
        self.reset();
        self.dma_load(&img, p.imem_size, true);
        self.brom(p.pkc_data_offset as u32, 0x400, 9, 1);
        self.start();
        self.r(MAILBOX0)
    }
}

#[test]
fn fwsec_fail_knob() {
    let mut r = rig_with(
        Engine::Gsp,
        Knobs {
            fwsec_fail: true,
            ..Default::default()
        },
    );
    assert_eq!(
        r.run_fwsec(1, 1, 0),
        0,
        "FWSEC ran; the error is in scratch"
    );
    assert_eq!(
        r.bus.handle().read(FRTS_ERROR) >> 16,
        u32::from(fwsec::FWSEC_ERR_INJECTED)
    );
    assert_eq!(r.fb.wpr2_handle().raw(), (0, 0));
}

#[test]
fn sec2_refuses_fwsec() {
    let mut r = rig_with(Engine::Sec2, Knobs::default());
    assert_eq!(r.run_fwsec(1, 1, 0), ERR_WRONG_ENGINE);
    assert_eq!(r.fb.wpr2_handle().raw(), (0, 0));
    assert!(r
        .trace
        .text()
        .contains("SEC2 falcon: boot ROM rejects the image"));
}

#[test]
fn any_guest_access_is_safe() {
    // Every offset of the range, every value class: no panic (guest input).
    for engine in [Engine::Gsp, Engine::Sec2] {
        let mut r = rig_with(engine, Knobs::default());
        let base = r.base();
        for v in [0xffff_ffff, 0, 0x8000_0001, 0x0000_0400] {
            for off in (0..0x4000).step_by(4).filter(|&o| o != ENGINE) {
                r.f.write32(base + off, v);
                let _ = r.f.read32(base + off);
            }
            r.f.write32(base + ENGINE, v);
            let _ = r.f.read32(base + ENGINE);
            r.f.write32(base + ENGINE, 0);
        }
        // Out-of-range offsets handed to the block directly are harmless too.
        r.f.write32(0, 1);
        assert_eq!(r.f.read32(0), 0);
        assert_eq!(r.f.read32(u32::MAX - 3), 0);
    }
}
