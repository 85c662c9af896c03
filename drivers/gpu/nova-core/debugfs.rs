// SPDX-License-Identifier: GPL-2.0
//! debugfs: `/sys/kernel/debug/nova-core-<pci name>/boot`, what probe found and how long each
//! boot stage took.

use kernel::{debugfs, fmt, prelude::*, str::CString};

/// The boot report (written once at probe, read-only afterwards).
pub(crate) struct BootReport {
    /// Chip name, e.g. "GA102".
    pub(crate) chip: &'static str,
    /// Usable VRAM in bytes.
    pub(crate) vram: u64,
    /// WPR2 after the boot, if set.
    pub(crate) wpr2: Option<(u64, u64)>,
    /// Boot stages and their duration in microseconds, in order.
    pub(crate) stages: KVec<(&'static str, i64)>,
}

impl debugfs::Writer for BootReport {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "chip: {}", self.chip)?;
        writeln!(f, "vram_bytes: {}", self.vram)?;
        match self.wpr2 {
            Some((s, e)) => writeln!(f, "wpr2: {:#x}-{:#x}", s, e)?,
            None => writeln!(f, "wpr2: none")?,
        }
        for (name, us) in self.stages.iter() {
            writeln!(f, "stage {}: {} us", name, us)?;
        }
        Ok(())
    }
}

/// The debugfs directory of one GPU and its files (removed on drop, files first).
pub(crate) struct DebugDir {
    _boot: Pin<KBox<debugfs::File<BootReport>>>,
    _dir: debugfs::Dir,
}

impl DebugDir {
    /// Creates `nova-core-<pci_name>/boot`.
    pub(crate) fn new(pci_name: &CStr, report: BootReport) -> Result<Self> {
        let name = CString::try_from_fmt(fmt!("nova-core-{}", pci_name))?;
        let dir = debugfs::Dir::new(&name);
        let boot = KBox::pin_init(dir.read_only_file(c"boot", report), GFP_KERNEL)?;
        Ok(DebugDir {
            _boot: boot,
            _dir: dir,
        })
    }
}
