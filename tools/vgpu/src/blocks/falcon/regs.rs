// SPDX-License-Identifier: GPL-2.0
//! Falcon register offsets, fields and trace names, relative to the engine's PFALCON base
//! (docs/facts/ga102.md §5.2, §5.3; open-gpu-kernel-modules `ampere/ga102/dev_falcon_v4.h`,
//! `dev_falcon_v4_addendum.h`, `dev_fbif_v4.h`, `dev_falcon_second_pri.h`, `dev_riscv_pri.h`,
//! `dev_gsp.h`, `dev_sec_pri.h`). PFALCON2/PRISCV registers sit at PFALCON base + 0x1000
//! (docs/facts/ga102.md §5.1), FBIF at + 0x600.

/// `NV_PFALCON_FALCON_IRQSCLR` (write 1 to clear).
pub const IRQSCLR: u32 = 0x004;
/// `NV_PFALCON_FALCON_IRQSTAT` (read-only).
pub const IRQSTAT: u32 = 0x008;
/// `NV_PFALCON_FALCON_IRQMSET` (write 1 to set mask bits).
pub const IRQMSET: u32 = 0x010;
/// `NV_PFALCON_FALCON_IRQMCLR` (write 1 to clear mask bits).
pub const IRQMCLR: u32 = 0x014;
/// `NV_PFALCON_FALCON_IRQMASK` (read-only view of the mask).
pub const IRQMASK: u32 = 0x018;
/// `NV_PFALCON_FALCON_IRQDEST`.
pub const IRQDEST: u32 = 0x01c;
/// `NV_PFALCON_FALCON_MAILBOX0`.
pub const MAILBOX0: u32 = 0x040;
/// `NV_PFALCON_FALCON_MAILBOX1`.
pub const MAILBOX1: u32 = 0x044;
/// `NV_PFALCON_FALCON_OS`.
pub const OS: u32 = 0x080;
/// `NV_PFALCON_FALCON_RM`.
pub const RM: u32 = 0x084;
/// `NV_PFALCON_FALCON_DEBUGINFO`.
pub const DEBUGINFO: u32 = 0x094;
/// `NV_PFALCON_FALCON_HWCFG2`.
pub const HWCFG2: u32 = 0x0f4;
/// `NV_PFALCON_FALCON_CPUCTL`.
pub const CPUCTL: u32 = 0x100;
/// `NV_PFALCON_FALCON_BOOTVEC`.
pub const BOOTVEC: u32 = 0x104;
/// `NV_PFALCON_FALCON_HWCFG`.
pub const HWCFG: u32 = 0x108;
/// `NV_PFALCON_FALCON_DMACTL`.
pub const DMACTL: u32 = 0x10c;
/// `NV_PFALCON_FALCON_DMATRFBASE`.
pub const DMATRFBASE: u32 = 0x110;
/// `NV_PFALCON_FALCON_DMATRFMOFFS`.
pub const DMATRFMOFFS: u32 = 0x114;
/// `NV_PFALCON_FALCON_DMATRFCMD`.
pub const DMATRFCMD: u32 = 0x118;
/// `NV_PFALCON_FALCON_DMATRFFBOFFS`.
pub const DMATRFFBOFFS: u32 = 0x11c;
/// `NV_PFALCON_FALCON_DMATRFBASE1`.
pub const DMATRFBASE1: u32 = 0x128;
/// `NV_PFALCON_FALCON_HWCFG1`.
pub const HWCFG1: u32 = 0x12c;
/// `NV_PFALCON_FALCON_CPUCTL_ALIAS` (write-only).
pub const CPUCTL_ALIAS: u32 = 0x130;
/// `NV_PFALCON_FALCON_IMEMC(0)`; port i at + 16i, i < [`IMEM_PORTS`]; IMEMD at +4, IMEMT at +8.
pub const IMEMC0: u32 = 0x180;
/// Number of IMEM PIO ports (`IMEMC(i)`, i < 4).
pub const IMEM_PORTS: u32 = 4;
/// `NV_PFALCON_FALCON_DMEMC(0)`; port i at + 8i, i < [`DMEM_PORTS`]; DMEMD at +4.
pub const DMEMC0: u32 = 0x1c0;
/// Number of DMEM PIO ports (`DMEMC(i)`, i < 8).
pub const DMEM_PORTS: u32 = 8;
/// `NV_P{GSP,SEC}_FALCON_ENGINE`.
pub const ENGINE: u32 = 0x3c0;
/// `NV_PFALCON_FALCON_INTR_RETRIGGER(0)`, i < 2 (write-only).
pub const INTR_RETRIGGER0: u32 = 0x3e8;
/// `NV_PFALCON_FBIF_TRANSCFG(0)` (FBIF + 0x000), i < 8.
pub const FBIF_TRANSCFG0: u32 = 0x600;
/// `NV_PFALCON_FBIF_TRANSCFG__SIZE_1`.
pub const TRANSCFG_COUNT: u32 = 8;
/// `NV_PFALCON_FBIF_CTL` (FBIF + 0x024).
pub const FBIF_CTL: u32 = 0x624;
/// `NV_PGSP_MAILBOX(0)` / `NV_PSEC_MAILBOX(0)` (BAR0 0x110804 / 0x840804), i < 4.
pub const ENGINE_MAILBOX0: u32 = 0x804;
/// `NV_PGSP_QUEUE_HEAD(0)` (BAR0 0x110c00, GSP only), + 8i, i < 8.
pub const QUEUE_HEAD0: u32 = 0xc00;
/// `NV_PFALCON2_FALCON_MOD_SEL`.
pub const MOD_SEL: u32 = 0x1180;
/// `NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID`.
pub const BROM_CURR_UCODE_ID: u32 = 0x1198;
/// `NV_PFALCON2_FALCON_BROM_ENGIDMASK`.
pub const BROM_ENGIDMASK: u32 = 0x119c;
/// `NV_PFALCON2_FALCON_BROM_PARAADDR(0)`, + 4i.
pub const BROM_PARAADDR0: u32 = 0x1210;
/// Number of PARAADDR registers modelled (the header gives no `__SIZE_1`; only index 0 is
/// used by the documented sequences, docs/facts/ga102.md §5.3).
pub const PARAADDR_COUNT: u32 = 4;
/// `NV_PRISCV_RISCV_CPUCTL`.
pub const RISCV_CPUCTL: u32 = 0x1388;
/// `NV_PRISCV_RISCV_IRQMASK` (read-only).
pub const RISCV_IRQMASK: u32 = 0x1528;
/// `NV_PRISCV_RISCV_IRQDEST`.
pub const RISCV_IRQDEST: u32 = 0x152c;
/// `NV_PRISCV_RISCV_BCR_CTRL`.
pub const RISCV_BCR_CTRL: u32 = 0x1668;

/// IRQSTAT/IRQSCLR HALT (bit 4).
pub const IRQ_HALT: u32 = 1 << 4;
/// IRQSTAT/IRQSCLR SWGEN0 (bit 6).
pub const IRQ_SWGEN0: u32 = 1 << 6;
/// IRQSTAT/IRQSCLR SWGEN1 (bit 7).
pub const IRQ_SWGEN1: u32 = 1 << 7;

/// HWCFG2 RISCV (bit 10): the engine has a RISC-V core.
pub const HWCFG2_RISCV: u32 = 1 << 10;
/// HWCFG2 MEM_SCRUBBING (bit 12): 1 while IMEM/DMEM are being scrubbed.
pub const HWCFG2_MEM_SCRUBBING: u32 = 1 << 12;
/// HWCFG2 RESET_READY (bit 31, `dev_falcon_v4_addendum.h`).
pub const HWCFG2_RESET_READY: u32 = 1 << 31;

/// CPUCTL STARTCPU (bit 1, write-only).
pub const CPUCTL_STARTCPU: u32 = 1 << 1;
/// CPUCTL HALTED (bit 4, read-only).
pub const CPUCTL_HALTED: u32 = 1 << 4;
/// CPUCTL ALIAS_EN (bit 6).
pub const CPUCTL_ALIAS_EN: u32 = 1 << 6;

/// DMACTL REQUIRE_CTX (bit 0).
pub const DMACTL_REQUIRE_CTX: u32 = 1 << 0;
/// DMACTL DMEM_SCRUBBING (bit 1, read-only).
pub const DMACTL_DMEM_SCRUBBING: u32 = 1 << 1;
/// DMACTL IMEM_SCRUBBING (bit 2, read-only).
pub const DMACTL_IMEM_SCRUBBING: u32 = 1 << 2;

/// DMATRFCMD FULL (bit 0, read-only).
pub const DMATRFCMD_FULL: u32 = 1 << 0;
/// DMATRFCMD IDLE (bit 1, read-only).
pub const DMATRFCMD_IDLE: u32 = 1 << 1;
/// DMATRFCMD SEC (3:2).
pub const DMATRFCMD_SEC_SHIFT: u32 = 2;
/// DMATRFCMD IMEM (bit 4).
pub const DMATRFCMD_IMEM: u32 = 1 << 4;
/// DMATRFCMD WRITE (bit 5): falcon memory to external memory.
pub const DMATRFCMD_WRITE: u32 = 1 << 5;
/// DMATRFCMD SIZE (10:8): 4 << SIZE bytes, 6 = 256 bytes.
pub const DMATRFCMD_SIZE_SHIFT: u32 = 8;
/// DMATRFCMD CTXDMA (14:12): which FBIF_TRANSCFG applies.
pub const DMATRFCMD_CTXDMA_SHIFT: u32 = 12;
/// The writable DMATRFCMD fields: SEC, IMEM, WRITE, SIZE, CTXDMA, SET_DMTAG (bit 16).
pub const DMATRFCMD_FIELDS: u32 = 0x3 << 2 | 1 << 4 | 1 << 5 | 0x7 << 8 | 0x7 << 12 | 1 << 16;

/// HWCFG IMEM_SIZE (8:0), in 256-byte blocks.
pub const HWCFG_IMEM_SIZE_SHIFT: u32 = 0;
/// HWCFG DMEM_SIZE (17:9), in 256-byte blocks. Not in the GA102 header; the field is in
/// NVIDIA's falcon hardware headers (nvgpu `hw_falcon_*.h`: `falcon_falcon_hwcfg_dmem_size`,
/// bits 17:9) and nothing in GA102's headers contradicts it.
pub const HWCFG_DMEM_SIZE_SHIFT: u32 = 9;

/// HWCFG1 CORE_REV (3:0).
pub const HWCFG1_CORE_REV_SHIFT: u32 = 0;
/// HWCFG1 SECURITY_MODEL (5:4): 3 = heavy secure.
pub const HWCFG1_SECURITY_MODEL_SHIFT: u32 = 4;
/// HWCFG1 CORE_REV_SUBVERSION (7:6).
pub const HWCFG1_CORE_REV_SUBVERSION_SHIFT: u32 = 6;

/// IMEMC/DMEMC address bits (OFFS 7:2 and BLK 23:8 together: a byte address in 23:2).
pub const MEMC_ADDR: u32 = 0x00ff_fffc;
/// IMEMC/DMEMC AINCW (bit 24): auto-increment on write.
pub const MEMC_AINCW: u32 = 1 << 24;
/// DMEMC AINCR (bit 25): auto-increment on read (docs/facts/ga102.md §5.2; nouveau `falcon/gm200.c`).
pub const MEMC_AINCR: u32 = 1 << 25;
/// IMEMC SECURE (bit 28).
pub const IMEMC_SECURE: u32 = 1 << 28;
/// IMEMT TAG (15:0).
pub const IMEMT_TAG: u32 = 0xffff;

/// ENGINE RESET (bit 0).
pub const ENGINE_RESET: u32 = 1 << 0;

/// FBIF_TRANSCFG TARGET (1:0).
pub const TRANSCFG_TARGET: u32 = 0x3;
/// TARGET value: local frame buffer.
pub const TARGET_LOCAL_FB: u32 = 0;
/// TARGET value: coherent system memory.
pub const TARGET_COHERENT_SYSMEM: u32 = 1;
/// TARGET value: non-coherent system memory.
pub const TARGET_NONCOHERENT_SYSMEM: u32 = 2;
/// FBIF_TRANSCFG MEM_TYPE (bit 2): 1 = physical, 0 = virtual.
pub const TRANSCFG_MEM_TYPE_PHYSICAL: u32 = 1 << 2;
/// FBIF_CTL ALLOW_PHYS_NO_CTX (bit 7).
pub const FBIF_CTL_ALLOW_PHYS_NO_CTX: u32 = 1 << 7;

/// MOD_SEL ALGO (7:0).
pub const MOD_SEL_ALGO: u32 = 0xff;
/// MOD_SEL ALGO value RSA3K.
pub const MOD_SEL_ALGO_RSA3K: u32 = 1;
/// BROM_CURR_UCODE_ID VAL (7:0).
pub const UCODE_ID_VAL: u32 = 0xff;

/// RISCV_CPUCTL HALTED (bit 4; docs/facts/ga102.md §5.3 from nouveau `falcon/ga102.c`).
pub const RISCV_CPUCTL_HALTED: u32 = 1 << 4;
/// RISCV_CPUCTL ACTIVE_STAT (bit 7).
pub const RISCV_CPUCTL_ACTIVE_STAT: u32 = 1 << 7;

/// BCR_CTRL VALID (bit 0, read-only).
pub const BCR_VALID: u32 = 1 << 0;
/// BCR_CTRL CORE_SELECT (bit 4): 0 falcon, 1 RISC-V.
pub const BCR_CORE_SELECT_RISCV: u32 = 1 << 4;
/// BCR_CTRL BRFETCH (bit 8).
pub const BCR_BRFETCH: u32 = 1 << 8;
/// BCR_CTRL at power-on: CORE_SELECT falcon (INIT), BRFETCH true (INIT), VALID false (INIT).
pub const BCR_INIT: u32 = BCR_BRFETCH;

/// One decoded falcon register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// A register without index, by its relative offset.
    Plain(u32),
    /// `IMEMC(i)`.
    Imemc(usize),
    /// `IMEMD(i)`.
    Imemd(usize),
    /// `IMEMT(i)`.
    Imemt(usize),
    /// `DMEMC(i)`.
    Dmemc(usize),
    /// `DMEMD(i)`.
    Dmemd(usize),
    /// `INTR_RETRIGGER(i)`.
    IntrRetrigger(usize),
    /// `FBIF_TRANSCFG(i)`.
    Transcfg(usize),
    /// `BROM_PARAADDR(i)`.
    Paraaddr(usize),
    /// `NV_PGSP_MAILBOX(i)` / `NV_PSEC_MAILBOX(i)`.
    EngineMailbox(usize),
    /// `NV_PGSP_QUEUE_HEAD(i)` (GSP only).
    QueueHead(usize),
}

const PLAIN: &[(u32, &str)] = &[
    (IRQSCLR, "NV_PFALCON_FALCON_IRQSCLR"),
    (IRQSTAT, "NV_PFALCON_FALCON_IRQSTAT"),
    (IRQMSET, "NV_PFALCON_FALCON_IRQMSET"),
    (IRQMCLR, "NV_PFALCON_FALCON_IRQMCLR"),
    (IRQMASK, "NV_PFALCON_FALCON_IRQMASK"),
    (IRQDEST, "NV_PFALCON_FALCON_IRQDEST"),
    (MAILBOX0, "NV_PFALCON_FALCON_MAILBOX0"),
    (MAILBOX1, "NV_PFALCON_FALCON_MAILBOX1"),
    (OS, "NV_PFALCON_FALCON_OS"),
    (RM, "NV_PFALCON_FALCON_RM"),
    (DEBUGINFO, "NV_PFALCON_FALCON_DEBUGINFO"),
    (HWCFG2, "NV_PFALCON_FALCON_HWCFG2"),
    (CPUCTL, "NV_PFALCON_FALCON_CPUCTL"),
    (BOOTVEC, "NV_PFALCON_FALCON_BOOTVEC"),
    (HWCFG, "NV_PFALCON_FALCON_HWCFG"),
    (DMACTL, "NV_PFALCON_FALCON_DMACTL"),
    (DMATRFBASE, "NV_PFALCON_FALCON_DMATRFBASE"),
    (DMATRFMOFFS, "NV_PFALCON_FALCON_DMATRFMOFFS"),
    (DMATRFCMD, "NV_PFALCON_FALCON_DMATRFCMD"),
    (DMATRFFBOFFS, "NV_PFALCON_FALCON_DMATRFFBOFFS"),
    (DMATRFBASE1, "NV_PFALCON_FALCON_DMATRFBASE1"),
    (HWCFG1, "NV_PFALCON_FALCON_HWCFG1"),
    (CPUCTL_ALIAS, "NV_PFALCON_FALCON_CPUCTL_ALIAS"),
    (ENGINE, "NV_PFALCON_FALCON_ENGINE"),
    (FBIF_CTL, "NV_PFALCON_FBIF_CTL"),
    (MOD_SEL, "NV_PFALCON2_FALCON_MOD_SEL"),
    (BROM_CURR_UCODE_ID, "NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID"),
    (BROM_ENGIDMASK, "NV_PFALCON2_FALCON_BROM_ENGIDMASK"),
    (RISCV_CPUCTL, "NV_PRISCV_RISCV_CPUCTL"),
    (RISCV_IRQMASK, "NV_PRISCV_RISCV_IRQMASK"),
    (RISCV_IRQDEST, "NV_PRISCV_RISCV_IRQDEST"),
    (RISCV_BCR_CTRL, "NV_PRISCV_RISCV_BCR_CTRL"),
];

const IMEMC_NAMES: [&str; 4] = [
    "NV_PFALCON_FALCON_IMEMC(0)",
    "NV_PFALCON_FALCON_IMEMC(1)",
    "NV_PFALCON_FALCON_IMEMC(2)",
    "NV_PFALCON_FALCON_IMEMC(3)",
];
const IMEMD_NAMES: [&str; 4] = [
    "NV_PFALCON_FALCON_IMEMD(0)",
    "NV_PFALCON_FALCON_IMEMD(1)",
    "NV_PFALCON_FALCON_IMEMD(2)",
    "NV_PFALCON_FALCON_IMEMD(3)",
];
const IMEMT_NAMES: [&str; 4] = [
    "NV_PFALCON_FALCON_IMEMT(0)",
    "NV_PFALCON_FALCON_IMEMT(1)",
    "NV_PFALCON_FALCON_IMEMT(2)",
    "NV_PFALCON_FALCON_IMEMT(3)",
];
const DMEMC_NAMES: [&str; 8] = [
    "NV_PFALCON_FALCON_DMEMC(0)",
    "NV_PFALCON_FALCON_DMEMC(1)",
    "NV_PFALCON_FALCON_DMEMC(2)",
    "NV_PFALCON_FALCON_DMEMC(3)",
    "NV_PFALCON_FALCON_DMEMC(4)",
    "NV_PFALCON_FALCON_DMEMC(5)",
    "NV_PFALCON_FALCON_DMEMC(6)",
    "NV_PFALCON_FALCON_DMEMC(7)",
];
const DMEMD_NAMES: [&str; 8] = [
    "NV_PFALCON_FALCON_DMEMD(0)",
    "NV_PFALCON_FALCON_DMEMD(1)",
    "NV_PFALCON_FALCON_DMEMD(2)",
    "NV_PFALCON_FALCON_DMEMD(3)",
    "NV_PFALCON_FALCON_DMEMD(4)",
    "NV_PFALCON_FALCON_DMEMD(5)",
    "NV_PFALCON_FALCON_DMEMD(6)",
    "NV_PFALCON_FALCON_DMEMD(7)",
];
const RETRIGGER_NAMES: [&str; 2] = [
    "NV_PFALCON_FALCON_INTR_RETRIGGER(0)",
    "NV_PFALCON_FALCON_INTR_RETRIGGER(1)",
];
const TRANSCFG_NAMES: [&str; 8] = [
    "NV_PFALCON_FBIF_TRANSCFG(0)",
    "NV_PFALCON_FBIF_TRANSCFG(1)",
    "NV_PFALCON_FBIF_TRANSCFG(2)",
    "NV_PFALCON_FBIF_TRANSCFG(3)",
    "NV_PFALCON_FBIF_TRANSCFG(4)",
    "NV_PFALCON_FBIF_TRANSCFG(5)",
    "NV_PFALCON_FBIF_TRANSCFG(6)",
    "NV_PFALCON_FBIF_TRANSCFG(7)",
];
const PARAADDR_NAMES: [&str; 4] = [
    "NV_PFALCON2_FALCON_BROM_PARAADDR(0)",
    "NV_PFALCON2_FALCON_BROM_PARAADDR(1)",
    "NV_PFALCON2_FALCON_BROM_PARAADDR(2)",
    "NV_PFALCON2_FALCON_BROM_PARAADDR(3)",
];
const GSP_MAILBOX_NAMES: [&str; 4] = [
    "NV_PGSP_MAILBOX(0)",
    "NV_PGSP_MAILBOX(1)",
    "NV_PGSP_MAILBOX(2)",
    "NV_PGSP_MAILBOX(3)",
];
const SEC_MAILBOX_NAMES: [&str; 4] = [
    "NV_PSEC_MAILBOX(0)",
    "NV_PSEC_MAILBOX(1)",
    "NV_PSEC_MAILBOX(2)",
    "NV_PSEC_MAILBOX(3)",
];
const QUEUE_HEAD_NAMES: [&str; 8] = [
    "NV_PGSP_QUEUE_HEAD(0)",
    "NV_PGSP_QUEUE_HEAD(1)",
    "NV_PGSP_QUEUE_HEAD(2)",
    "NV_PGSP_QUEUE_HEAD(3)",
    "NV_PGSP_QUEUE_HEAD(4)",
    "NV_PGSP_QUEUE_HEAD(5)",
    "NV_PGSP_QUEUE_HEAD(6)",
    "NV_PGSP_QUEUE_HEAD(7)",
];

/// Index `i` of an array of registers at `base + stride * i`, i < `count`.
fn indexed(rel: u32, base: u32, stride: u32, count: u32) -> Option<usize> {
    let d = rel.checked_sub(base)?;
    (d.is_multiple_of(stride) && d / stride < count).then_some((d / stride) as usize)
}

/// Decodes relative offset `rel`; `gsp` enables the GSP-only registers.
pub fn decode(rel: u32, gsp: bool) -> Option<Reg> {
    if PLAIN.iter().any(|&(o, _)| o == rel) {
        return Some(Reg::Plain(rel));
    }
    if let Some(i) = indexed(rel, IMEMC0, 16, IMEM_PORTS) {
        return Some(Reg::Imemc(i));
    }
    if let Some(i) = indexed(rel, IMEMC0 + 4, 16, IMEM_PORTS) {
        return Some(Reg::Imemd(i));
    }
    if let Some(i) = indexed(rel, IMEMC0 + 8, 16, IMEM_PORTS) {
        return Some(Reg::Imemt(i));
    }
    if let Some(i) = indexed(rel, DMEMC0, 8, DMEM_PORTS) {
        return Some(Reg::Dmemc(i));
    }
    if let Some(i) = indexed(rel, DMEMC0 + 4, 8, DMEM_PORTS) {
        return Some(Reg::Dmemd(i));
    }
    if let Some(i) = indexed(rel, INTR_RETRIGGER0, 4, 2) {
        return Some(Reg::IntrRetrigger(i));
    }
    if let Some(i) = indexed(rel, FBIF_TRANSCFG0, 4, TRANSCFG_COUNT) {
        return Some(Reg::Transcfg(i));
    }
    if let Some(i) = indexed(rel, BROM_PARAADDR0, 4, PARAADDR_COUNT) {
        return Some(Reg::Paraaddr(i));
    }
    if let Some(i) = indexed(rel, ENGINE_MAILBOX0, 4, 4) {
        return Some(Reg::EngineMailbox(i));
    }
    if gsp {
        if let Some(i) = indexed(rel, QUEUE_HEAD0, 8, 8) {
            return Some(Reg::QueueHead(i));
        }
    }
    None
}

/// The register's name for the trace; `gsp` picks the engine-specific names.
pub fn name(reg: Reg, gsp: bool) -> &'static str {
    let pick = |names: &'static [&'static str], i: usize| names.get(i).copied().unwrap_or("?");
    match reg {
        Reg::Plain(ENGINE) if gsp => "NV_PGSP_FALCON_ENGINE",
        Reg::Plain(ENGINE) => "NV_PSEC_FALCON_ENGINE",
        Reg::Plain(o) => PLAIN
            .iter()
            .find(|&&(p, _)| p == o)
            .map_or("?", |&(_, n)| n),
        Reg::Imemc(i) => pick(&IMEMC_NAMES, i),
        Reg::Imemd(i) => pick(&IMEMD_NAMES, i),
        Reg::Imemt(i) => pick(&IMEMT_NAMES, i),
        Reg::Dmemc(i) => pick(&DMEMC_NAMES, i),
        Reg::Dmemd(i) => pick(&DMEMD_NAMES, i),
        Reg::IntrRetrigger(i) => pick(&RETRIGGER_NAMES, i),
        Reg::Transcfg(i) => pick(&TRANSCFG_NAMES, i),
        Reg::Paraaddr(i) => pick(&PARAADDR_NAMES, i),
        Reg::EngineMailbox(i) if gsp => pick(&GSP_MAILBOX_NAMES, i),
        Reg::EngineMailbox(i) => pick(&SEC_MAILBOX_NAMES, i),
        Reg::QueueHead(i) => pick(&QUEUE_HEAD_NAMES, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_names() {
        assert_eq!(decode(0x100, true), Some(Reg::Plain(CPUCTL)));
        assert_eq!(decode(0x190, true), Some(Reg::Imemc(1)));
        assert_eq!(decode(0x1b4, true), Some(Reg::Imemd(3)));
        assert_eq!(decode(0x1b8, true), Some(Reg::Imemt(3)));
        assert_eq!(decode(0x1bc, true), None);
        assert_eq!(decode(0x1f8, true), Some(Reg::Dmemc(7)));
        assert_eq!(decode(0x1fc, true), Some(Reg::Dmemd(7)));
        assert_eq!(decode(0x61c, true), Some(Reg::Transcfg(7)));
        assert_eq!(decode(0x620, true), None);
        assert_eq!(decode(0x1210, true), Some(Reg::Paraaddr(0)));
        assert_eq!(decode(0xc38, true), Some(Reg::QueueHead(7)));
        assert_eq!(decode(0xc38, false), None);
        assert_eq!(decode(0x3ec, false), Some(Reg::IntrRetrigger(1)));
        assert_eq!(name(Reg::Plain(ENGINE), true), "NV_PGSP_FALCON_ENGINE");
        assert_eq!(name(Reg::Plain(ENGINE), false), "NV_PSEC_FALCON_ENGINE");
        assert_eq!(name(Reg::Dmemd(5), true), "NV_PFALCON_FALCON_DMEMD(5)");
        assert_eq!(name(Reg::EngineMailbox(2), false), "NV_PSEC_MAILBOX(2)");
        for &(o, n) in PLAIN.iter().filter(|&&(o, _)| o != ENGINE) {
            assert_eq!(name(decode(o, true).unwrap(), true), n);
            assert_eq!(o & 3, 0);
        }
        assert_eq!(DMATRFCMD_FIELDS, 0x0001_773c);
    }
}
