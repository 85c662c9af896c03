// SPDX-License-Identifier: GPL-2.0
//! Falcon registers, relative to an engine's PFALCON base (and PFALCON2 = PFALCON + 0x1000).
//!
//! Offsets and fields: open-gpu-kernel-modules `src/common/inc/swref/published/ampere/ga102/`
//! `dev_falcon_v4.h`, `dev_fbif_v4.h`, `dev_falcon_second_pri.h`, `dev_riscv_pri.h`,
//! `dev_gsp.h` (facts sheet §5.2, §5.3).

use kernel::io::register;

/// Marker for registers relative to a PFALCON base.
pub(crate) struct PFalconBase;
/// Marker for registers relative to a PFALCON2 (PRISCV) base.
pub(crate) struct PFalcon2Base;

register! {
    /// Interrupt status clear (write 1 to clear).
    pub(crate) NV_PFALCON_FALCON_IRQSCLR(u32) @ PFalconBase + 0x004 {
        /// The falcon halted.
        4:4 halt => bool;
        /// Software-generated interrupt 0 (GSP-RM's "message queue has data").
        6:6 swgen0 => bool;
    }

    /// Interrupt status.
    pub(crate) NV_PFALCON_FALCON_IRQSTAT(u32) @ PFalconBase + 0x008 {
        /// The falcon halted.
        4:4 halt => bool;
        /// Software-generated interrupt 0.
        6:6 swgen0 => bool;
    }

    /// Mailbox 0: argument in, status out.
    pub(crate) NV_PFALCON_FALCON_MAILBOX0(u32) @ PFalconBase + 0x040 {
        31:0 value;
    }

    /// Mailbox 1.
    pub(crate) NV_PFALCON_FALCON_MAILBOX1(u32) @ PFalconBase + 0x044 {
        31:0 value;
    }

    /// OS register (the host writes the RISC-V bootloader's application version here).
    pub(crate) NV_PFALCON_FALCON_OS(u32) @ PFalconBase + 0x080 {
        31:0 value;
    }

    /// RM register (the host writes NV_PMC_BOOT_0 here after a reset).
    pub(crate) NV_PFALCON_FALCON_RM(u32) @ PFalconBase + 0x084 {
        31:0 value;
    }

    /// Hardware configuration 2.
    pub(crate) NV_PFALCON_FALCON_HWCFG2(u32) @ PFalconBase + 0x0f4 {
        /// The engine has a RISC-V core.
        10:10 riscv => bool;
        /// Memory scrubbing in progress (0 = done).
        12:12 mem_scrubbing => bool;
        /// The engine is ready to be reset.
        31:31 reset_ready => bool;
    }

    /// CPU control.
    pub(crate) NV_PFALCON_FALCON_CPUCTL(u32) @ PFalconBase + 0x100 {
        /// Start the CPU (write 1).
        1:1 startcpu => bool;
        /// The CPU is halted.
        4:4 halted => bool;
        /// CPUCTL_ALIAS must be used to start the CPU.
        6:6 alias_en => bool;
    }

    /// Boot vector: the IMEM address the CPU starts at.
    pub(crate) NV_PFALCON_FALCON_BOOTVEC(u32) @ PFalconBase + 0x104 {
        31:0 value;
    }

    /// DMA control.
    pub(crate) NV_PFALCON_FALCON_DMACTL(u32) @ PFalconBase + 0x10c {
        /// DMA requires a context.
        0:0 require_ctx => bool;
        /// DMEM scrubbing in progress.
        1:1 dmem_scrubbing => bool;
        /// IMEM scrubbing in progress.
        2:2 imem_scrubbing => bool;
    }

    /// DMA transfer base, address bits 39:8.
    pub(crate) NV_PFALCON_FALCON_DMATRFBASE(u32) @ PFalconBase + 0x110 {
        31:0 base;
    }

    /// DMA transfer destination offset in falcon memory.
    pub(crate) NV_PFALCON_FALCON_DMATRFMOFFS(u32) @ PFalconBase + 0x114 {
        23:0 offs;
    }

    /// DMA transfer command.
    pub(crate) NV_PFALCON_FALCON_DMATRFCMD(u32) @ PFalconBase + 0x118 {
        /// The DMA queue is full.
        0:0 full => bool;
        /// The DMA engine is idle.
        1:1 idle => bool;
        /// Security level of the transfer (1 = secure IMEM).
        3:2 sec;
        /// The destination is IMEM (else DMEM).
        4:4 imem => bool;
        /// Falcon memory to system (else system to falcon memory).
        5:5 write => bool;
        /// Transfer size, 2^(size+2) bytes; 6 = 256 bytes.
        10:8 size;
        /// Context DMA index (FBIF_TRANSCFG entry).
        14:12 ctxdma;
    }

    /// DMA transfer source offset from the base.
    pub(crate) NV_PFALCON_FALCON_DMATRFFBOFFS(u32) @ PFalconBase + 0x11c {
        31:0 offs;
    }

    /// DMA transfer base, address bits 48:40.
    pub(crate) NV_PFALCON_FALCON_DMATRFBASE1(u32) @ PFalconBase + 0x128 {
        8:0 base;
    }

    /// CPU control alias (start the CPU when CPUCTL.ALIAS_EN is set).
    pub(crate) NV_PFALCON_FALCON_CPUCTL_ALIAS(u32) @ PFalconBase + 0x130 {
        /// Start the CPU (write 1).
        1:1 startcpu => bool;
    }

    /// Engine reset.
    pub(crate) NV_PFALCON_FALCON_ENGINE(u32) @ PFalconBase + 0x3c0 {
        /// Hold the engine in reset.
        0:0 reset => bool;
    }

    /// FBIF transfer configuration of context DMA 0 (the one our transfers use).
    pub(crate) NV_PFALCON_FBIF_TRANSCFG0(u32) @ PFalconBase + 0x600 {
        /// Target: 0 local FB, 1 coherent system memory, 2 non-coherent system memory.
        1:0 target;
        /// Addressing: 0 virtual, 1 physical.
        2:2 mem_type_physical => bool;
    }

    /// FBIF control.
    pub(crate) NV_PFALCON_FBIF_CTL(u32) @ PFalconBase + 0x624 {
        /// Allow physical addressing without a context.
        7:7 allow_phys_no_ctx => bool;
    }

    /// Boot ROM signature algorithm.
    pub(crate) NV_PFALCON2_FALCON_MOD_SEL(u32) @ PFalcon2Base + 0x180 {
        /// 1 = RSA-3K.
        7:0 algo;
    }

    /// Boot ROM: ucode id of the image being loaded.
    pub(crate) NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID(u32) @ PFalcon2Base + 0x198 {
        7:0 ucode_id;
    }

    /// Boot ROM: engine id mask of the image.
    pub(crate) NV_PFALCON2_FALCON_BROM_ENGIDMASK(u32) @ PFalcon2Base + 0x19c {
        31:0 value;
    }

    /// Boot ROM parameter 0: DMEM offset of the signature.
    pub(crate) NV_PFALCON2_FALCON_BROM_PARAADDR0(u32) @ PFalcon2Base + 0x210 {
        31:0 value;
    }

    /// RISC-V CPU control.
    pub(crate) NV_PRISCV_RISCV_CPUCTL(u32) @ PFalcon2Base + 0x388 {
        /// The RISC-V core is halted.
        4:4 halted => bool;
        /// The RISC-V core is active.
        7:7 active_stat => bool;
    }

    /// Boot configuration: which core (falcon or RISC-V) the engine boots.
    pub(crate) NV_PRISCV_RISCV_BCR_CTRL(u32) @ PFalcon2Base + 0x668 {
        /// The configuration is valid.
        0:0 valid => bool;
        /// 0 = falcon core, 1 = RISC-V core.
        4:4 core_select_riscv => bool;
        /// Fetch the boot ROM.
        8:8 brfetch => bool;
    }
}
