// SPDX-License-Identifier: GPL-2.0
//! Typed BAR0 registers, grouped by hardware block. Offsets and fields are hardware facts; each
//! group names its source.

use kernel::io::register;

// PMC: open-gpu-doc `manuals/ampere/ga100/dev_boot.ref.txt` (facts sheet §2.1).
register! {
    /// `NV_PMC_BOOT_0`: architecture, implementation and revision of the chip.
    pub(crate) NV_PMC_BOOT_0(u32) @ 0x0000_0000 {
        /// Low five bits of the architecture.
        28:24   architecture;
        /// Implementation within the architecture.
        23:20   implementation;
        /// High architecture bit (set on chips whose architecture does not fit 5 bits).
        8:8     architecture_hi;
        /// Major silicon revision.
        7:4     major_revision;
        /// Minor silicon revision.
        3:0     minor_revision;
    }

    /// `NV_PMC_BOOT_42`: the extended chip identification used from Fermi on.
    pub(crate) NV_PMC_BOOT_42(u32) @ 0x0000_0a00 {
        /// Architecture (6 bits).
        29:24   architecture;
        /// Implementation within the architecture.
        23:20   implementation;
        /// Major silicon revision.
        19:16   major_revision;
        /// Minor silicon revision.
        15:12   minor_revision;
    }
}
