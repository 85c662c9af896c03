// SPDX-License-Identifier: GPL-2.0
//! Guest benchmarks: `nova-guest-bench`.
//!
//! BAR0 read round trip: 10,000 32-bit reads of `NV_PMC_BOOT_0` through a mapping of the vGPU's
//! BAR0 (each one a vfio-user message to the vGPU process and back), beside the same number of
//! reads of BAR1 in the same run (BAR1 is a shared memfd QEMU maps straight into the guest, so
//! it measures the guest's own cost of a device-memory read without the round trip).

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::time::Instant;

const READS: usize = 10_000;

fn nvidia_function() -> Result<std::path::PathBuf, String> {
    std::fs::read_dir("/sys/bus/pci/devices")
        .map_err(|e| e.to_string())?
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("vendor")).is_ok_and(|v| v.trim() == "0x10de")
        })
        .map(|e| e.path())
        .ok_or_else(|| "no NVIDIA PCI function".into())
}

/// Maps `len` bytes of `resourceN` of the function and times `READS` 32-bit reads at `off`.
fn time_reads(dev: &std::path::Path, bar: u32, off: usize) -> Result<(f64, u32), String> {
    let path = dev.join(format!("resource{bar}"));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let len = 4096;
    // SAFETY: a fresh shared mapping of a sysfs resource file; the kernel picks the address and
    // checks the range against the BAR. The result is checked for MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            f.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!(
            "mmap {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    let reg = p.cast::<u8>().wrapping_add(off).cast::<u32>();
    let mut last = 0;
    let start = Instant::now();
    for _ in 0..READS {
        // SAFETY: `reg` lies inside the 4 KiB mapping made above (off < 4096 - 4) and is 4-byte
        // aligned; a volatile read is what a device register needs.
        last = unsafe { std::ptr::read_volatile(reg) };
    }
    let ns = start.elapsed().as_nanos() as f64 / READS as f64;
    // SAFETY: unmapping exactly what mmap returned; no reference into it remains.
    unsafe { libc::munmap(p, len) };
    Ok((ns, last))
}

fn main() -> std::process::ExitCode {
    let run = || -> Result<(), String> {
        let dev = nvidia_function()?;
        std::fs::write(dev.join("enable"), "1").map_err(|e| format!("enable: {e}"))?;
        let (bar0, boot0) = time_reads(&dev, 0, 0)?;
        let (bar1, _) = time_reads(&dev, 1, 0)?;
        println!("bench: BAR0 read round trip (NV_PMC_BOOT_0 = {boot0:#010x}): {bar0:.0} ns per read over {READS} reads");
        println!("bench: BAR1 read (memfd, no round trip, same run): {bar1:.0} ns per read over {READS} reads");
        println!("bench: BAR0 / BAR1 = {:.1}x", bar0 / bar1.max(1.0));
        Ok(())
    };
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("bench: FAILED: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
