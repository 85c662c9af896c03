// SPDX-License-Identifier: GPL-2.0
//! The trace: one readable line per register access or device event, in the spirit of the
//! kernel's mmiotrace. Lines go to stderr (or a file) and can be limited to some blocks.
//!
//! Line format: `[   seconds] block   R32 0xOFFSET = 0xVALUE  REGISTER_NAME`

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

/// Which blocks are traced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// No tracing.
    #[default]
    Off,
    /// Every block.
    All,
    /// Only these blocks (names as printed in the trace, e.g. `pmc`, `pci`, `irq`, `dma`).
    Blocks(Vec<String>),
}

impl Filter {
    /// Parses `--trace` (all) or `--trace=pmc,irq` (a list).
    pub fn parse(spec: Option<&str>) -> Self {
        match spec {
            None | Some("") | Some("all") => Filter::All,
            Some(list) => Filter::Blocks(list.split(',').map(|s| s.trim().to_string()).collect()),
        }
    }

    /// Whether lines of `block` are printed.
    pub fn wants(&self, block: &str) -> bool {
        match self {
            Filter::Off => false,
            Filter::All => true,
            Filter::Blocks(b) => b.iter().any(|x| x == block),
        }
    }
}

/// The trace sink shared by every block.
pub struct Tracer {
    filter: Filter,
    start: Instant,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Tracer {
    /// A tracer writing to `out`.
    pub fn new(filter: Filter, out: Box<dyn Write + Send>) -> Self {
        Tracer {
            filter,
            start: Instant::now(),
            out: Mutex::new(out),
        }
    }

    /// A tracer that prints nothing.
    pub fn off() -> Self {
        Self::new(Filter::Off, Box::new(std::io::sink()))
    }

    /// Whether `block` is traced (lets callers skip formatting work).
    pub fn enabled(&self, block: &str) -> bool {
        self.filter.wants(block)
    }

    /// Emits one line for `block`.
    pub fn line(&self, block: &str, msg: std::fmt::Arguments<'_>) {
        if !self.filter.wants(block) {
            return;
        }
        let t = self.start.elapsed().as_secs_f64();
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "[{t:10.6}] {block:<6} {msg}");
            let _ = out.flush();
        }
    }

    /// Emits one register access line.
    pub fn access(&self, block: &str, write: bool, off: u64, size: usize, val: u32, name: &str) {
        if !self.filter.wants(block) {
            return;
        }
        let dir = if write { 'W' } else { 'R' };
        let sep = if write { "<-" } else { "=" };
        self.line(
            block,
            format_args!("{dir}{:<2} 0x{off:06x} {sep} 0x{val:08x}  {name}", size * 8),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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

    #[test]
    fn filter_parsing() {
        assert_eq!(Filter::parse(None), Filter::All);
        assert!(Filter::parse(Some("pmc,irq")).wants("irq"));
        assert!(!Filter::parse(Some("pmc,irq")).wants("dma"));
        assert!(!Filter::Off.wants("pmc"));
    }

    #[test]
    fn access_lines_are_filtered_and_formatted() {
        let buf = Buf::default();
        let t = Tracer::new(Filter::parse(Some("pmc")), Box::new(buf.clone()));
        t.access("pmc", false, 0xa00, 4, 0x172a_1000, "NV_PMC_BOOT_42");
        t.access("pci", true, 0x4, 2, 0x6, "COMMAND");
        let s = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(s.lines().count(), 1);
        assert!(
            s.contains("pmc    R32 0x000a00 = 0x172a1000  NV_PMC_BOOT_42"),
            "{s}"
        );
    }
}
