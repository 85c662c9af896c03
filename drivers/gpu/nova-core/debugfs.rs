// SPDX-License-Identifier: GPL-2.0
//! debugfs: `/sys/kernel/debug/nova-core-<pci name>/boot`, what probe found and how long each
//! boot stage took.

use kernel::{debugfs, dma::Coherent, fmt, prelude::*, str::CString, sync::Arc};

use crate::gsp::channel::{GspChannel, QueueReport, LOG_NAMES};

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

/// A debugfs file showing one LIBOS log buffer.
type LogFile = Pin<KBox<debugfs::File<Arc<Coherent<[u8]>>>>>;

/// The debugfs directory of one GPU and its files (removed on drop, files first).
pub(crate) struct DebugDir {
    _boot: Pin<KBox<debugfs::File<BootReport>>>,
    _queues: Option<Pin<KBox<debugfs::File<QueueReport>>>>,
    _logs: KVec<LogFile>,
    _dir: debugfs::Dir,
}

impl DebugDir {
    /// Creates `nova-core-<pci_name>/boot` and, when GSP-RM runs, `gsp_queues` (live queue
    /// pointers and counters) and the raw LIBOS log buffers `loginit`, `logintr`, `logrm`
    /// (word 0 is GSP-RM's write pointer, docs/facts/ga102.md §7.3).
    pub(crate) fn new(
        pci_name: &CStr,
        report: BootReport,
        gsp: Option<&Arc<GspChannel>>,
    ) -> Result<Self> {
        let name = CString::try_from_fmt(fmt!("nova-core-{}", pci_name))?;
        let dir = debugfs::Dir::new(&name);
        let boot = KBox::pin_init(dir.read_only_file(c"boot", report), GFP_KERNEL)?;
        let mut logs = KVec::new();
        let mut queues = None;
        if let Some(chan) = gsp {
            queues = Some(KBox::pin_init(
                dir.read_only_file(c"gsp_queues", QueueReport(chan.clone())),
                GFP_KERNEL,
            )?);
            for (name, buf) in LOG_NAMES.iter().zip(chan.logs.iter()) {
                logs.push(
                    KBox::pin_init(dir.read_binary_file(name, buf.clone()), GFP_KERNEL)?,
                    GFP_KERNEL,
                )?;
            }
        }
        Ok(DebugDir {
            _boot: boot,
            _queues: queues,
            _logs: logs,
            _dir: dir,
        })
    }
}
