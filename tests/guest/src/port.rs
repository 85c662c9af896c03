// SPDX-License-Identifier: GPL-2.0
//! The vGPU's engine access port: a test instrument (not NVIDIA hardware) that performs 32-bit
//! GPU-virtual accesses through the vGPU's MMU with an instance block of our choosing, so the
//! tests can check from the GPU side what VM_BIND did.
//!
//! It is BAR5 of the vGPU, a PCI I/O BAR (Linux resource index 5), present when the vGPU runs
//! with `VGPU_TEST_PORT=1`. We reach it as root through `/sys/bus/pci/devices/<addr>/resource5`
//! with 4-byte `pread`/`pwrite` at the register offsets. The kernel only forwards those when I/O
//! decoding is on in the function's PCI command register (bit 0), which nova-core (a memory-BAR
//! driver) does not turn on: [`Port::open`] sets it through the sysfs `config` file first.
//!
//! The port's registers are one shared set, so every access sequence (instance block, VA, command,
//! results) runs under an exclusive lock between processes ([`PortLock`], a futex in a shared
//! mapping of [`LOCK_FILE`]): the 16-process stress test uses the port from all its children at
//! once.
//!
//! Register map (offsets in BAR5):
//! - 0x00 ID, RO, [`PORT_ID`] when the port is enabled;
//! - 0x04 INST_LO: bits 1:0 the instance block's aperture ([`Aperture`]), bits 31:12 its address
//!   bits 31:12; 0x08 INST_HI: address bits 63:32;
//! - 0x0C/0x10 VA_LO/VA_HI; 0x14 DATA (the value to write, or the value read);
//! - 0x18 CMD, WO: 1 reads 32 bits at VA into DATA, 2 writes DATA at VA; synchronous;
//! - 0x1C STATUS, RO: bit 0 DONE, bit 1 FAULT, bits 8:4 fault type, bit 12 SPARSE;
//! - 0x20/0x24 PA_LO/PA_HI: the translated physical address;
//! - 0x28 XLATE: bits 1:0 the page's aperture, bits 15:8 log2 of the page size.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::OnceLock;

/// What ID reads when the port is enabled ("NVTP").
pub const PORT_ID: u32 = 0x4e56_5450;
/// Serialises port accesses between processes: its first word is the lock (see [`PortLock`]).
pub const LOCK_FILE: &str = "/tmp/nova-engine-port.futex";

const ID: u64 = 0x00;
const INST_LO: u64 = 0x04;
const INST_HI: u64 = 0x08;
const VA_LO: u64 = 0x0c;
const VA_HI: u64 = 0x10;
const DATA: u64 = 0x14;
const CMD: u64 = 0x18;
const STATUS: u64 = 0x1c;
const PA_LO: u64 = 0x20;
const PA_HI: u64 = 0x24;
const XLATE: u64 = 0x28;

const CMD_READ: u32 = 1;
const CMD_WRITE: u32 = 2;

const STATUS_DONE: u32 = 1 << 0;
const STATUS_FAULT: u32 = 1 << 1;
const STATUS_SPARSE: u32 = 1 << 12;

/// Fault types (STATUS bits 8:4), as the GPU's `NV_PFAULT_FAULT_TYPE_*` (0 PDE, 1 PDE_SIZE,
/// 2 PTE, 3 VA_LIMIT_VIOLATION, ..., 6 RO_VIOLATION, ...). An invalid PDE:
pub const FAULT_PDE: u32 = 0;
/// An invalid PTE.
pub const FAULT_PTE: u32 = 2;
/// A write through a read-only PTE.
pub const FAULT_RO: u32 = 6;

/// Memory apertures, as INST_LO and XLATE encode them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aperture {
    /// Video memory.
    Vram = 0,
    /// System memory, coherent.
    SysCoherent = 2,
    /// System memory, non-coherent.
    SysNonCoherent = 3,
}

impl Aperture {
    /// The aperture of a 2-bit field; 1 is not one.
    pub fn from_bits(b: u32) -> Option<Aperture> {
        match b & 3 {
            0 => Some(Aperture::Vram),
            2 => Some(Aperture::SysCoherent),
            3 => Some(Aperture::SysNonCoherent),
            _ => None,
        }
    }

    /// Whether this is system memory (either coherence).
    pub fn is_system(self) -> bool {
        self != Aperture::Vram
    }
}

/// An instance block: where the port finds the VM's page directory base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inst {
    /// Physical (or DMA) address, 4 KiB aligned.
    pub addr: u64,
    /// Its aperture.
    pub aperture: Aperture,
}

/// The outcome of one port access.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// STATUS after the command.
    pub status: u32,
    /// DATA after the command (the value read, for a read).
    pub data: u32,
    /// The translated physical address.
    pub pa: u64,
    /// XLATE.
    pub xlate: u32,
}

impl Access {
    /// The fault type, if the access faulted.
    pub fn fault(&self) -> Option<u32> {
        (self.status & STATUS_FAULT != 0).then_some((self.status >> 4) & 0x1f)
    }

    /// Whether the access hit a sparse mapping.
    pub fn sparse(&self) -> bool {
        self.status & STATUS_SPARSE != 0
    }

    /// log2 of the page size the translation used.
    pub fn page_shift(&self) -> u32 {
        (self.xlate >> 8) & 0xff
    }

    /// The aperture of the page.
    pub fn page_aperture(&self) -> Option<Aperture> {
        Aperture::from_bits(self.xlate)
    }

    /// The data, or why there is none (a fault).
    pub fn ok(&self, va: u64) -> Result<u32, String> {
        match self.fault() {
            None => Ok(self.data),
            Some(t) => Err(format!(
                "port access at VA {va:#x} faulted (type {t}, STATUS {:#x})",
                self.status
            )),
        }
    }
}

/// The port of one PCI function.
pub struct Port {
    bar: File,
    /// `/sys/bus/pci/devices/<addr>/resource5`.
    path: PathBuf,
}

/// The first NVIDIA PCI function (vendor 0x10de).
pub(crate) fn nvidia_function() -> Result<PathBuf, String> {
    std::fs::read_dir("/sys/bus/pci/devices")
        .map_err(|e| format!("/sys/bus/pci/devices: {e}"))?
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("vendor")).is_ok_and(|v| v.trim() == "0x10de")
        })
        .map(|e| e.path())
        .ok_or_else(|| "no NVIDIA PCI function".into())
}

impl Port {
    /// Opens the port of PCI function `pci` (e.g. from `Device::pci_address`), or of the first
    /// NVIDIA function when `None`; turns I/O decoding on; checks the ID.
    pub fn open(pci: Option<&str>) -> Result<Port, String> {
        let dev = match pci {
            Some(a) => PathBuf::from("/sys/bus/pci/devices").join(a),
            None => nvidia_function()?,
        };
        // PCI command register bit 0: I/O space enable.
        enable_decode(&dev, 1 << 0)?;
        let path = dev.join("resource5");
        let bar = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e} (is BAR5 an I/O BAR?)", path.display()))?;
        let port = Port { bar, path };
        let id = port.rd(ID)?;
        if id != PORT_ID {
            return Err(format!(
                "engine access port ID reads {id:#x}, want {PORT_ID:#x}: start the vGPU with \
                 VGPU_TEST_PORT=1"
            ));
        }
        Ok(port)
    }

    fn rd(&self, off: u64) -> Result<u32, String> {
        let mut b = [0u8; 4];
        let n = self
            .bar
            .read_at(&mut b, off)
            .map_err(|e| format!("{} read at {off:#x}: {e}", self.path.display()))?;
        if n != 4 {
            return Err(format!(
                "{} read at {off:#x}: {n} bytes",
                self.path.display()
            ));
        }
        Ok(u32::from_le_bytes(b))
    }

    fn wr(&self, off: u64, v: u32) -> Result<(), String> {
        let n = self
            .bar
            .write_at(&v.to_le_bytes(), off)
            .map_err(|e| format!("{} write at {off:#x}: {e}", self.path.display()))?;
        if n != 4 {
            return Err(format!(
                "{} write at {off:#x}: {n} bytes",
                self.path.display()
            ));
        }
        Ok(())
    }

    /// One access: `cmd` at `va` through `inst`, with `data` for a write.
    fn access(&self, inst: Inst, va: u64, cmd: u32, data: u32) -> Result<Access, String> {
        let _held = PortLock::acquire()?;
        self.wr(
            INST_LO,
            (inst.addr as u32 & 0xffff_f000) | inst.aperture as u32,
        )?;
        self.wr(INST_HI, (inst.addr >> 32) as u32)?;
        self.wr(VA_LO, va as u32)?;
        self.wr(VA_HI, (va >> 32) as u32)?;
        if cmd == CMD_WRITE {
            self.wr(DATA, data)?;
        }
        self.wr(CMD, cmd)?;
        let status = self.rd(STATUS)?;
        if status & STATUS_DONE == 0 {
            return Err(format!(
                "port command {cmd} at VA {va:#x}: STATUS {status:#x} without DONE"
            ));
        }
        Ok(Access {
            status,
            data: self.rd(DATA)?,
            pa: u64::from(self.rd(PA_LO)?) | (u64::from(self.rd(PA_HI)?) << 32),
            xlate: self.rd(XLATE)?,
        })
    }

    /// A 32-bit GPU read at `va`.
    pub fn read32(&self, inst: Inst, va: u64) -> Result<Access, String> {
        self.access(inst, va, CMD_READ, 0)
    }

    /// A 32-bit GPU write of `v` at `va`.
    pub fn write32(&self, inst: Inst, va: u64, v: u32) -> Result<Access, String> {
        self.access(inst, va, CMD_WRITE, v)
    }
}

/// Sets `bit` of the PCI command register (config offset 4) of the function at `dev` if it is
/// clear, through sysfs `config`: bit 0 enables I/O decoding, bit 1 memory decoding (PCI Local
/// Bus Specification 3.0, §6.2.2).
pub(crate) fn enable_decode(dev: &std::path::Path, bit: u16) -> Result<(), String> {
    let path = dev.join("config");
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut cmd = [0u8; 2];
    f.read_exact_at(&mut cmd, 4)
        .map_err(|e| format!("{}: read COMMAND: {e}", path.display()))?;
    let v = u16::from_le_bytes(cmd);
    if v & bit == 0 {
        f.write_all_at(&(v | bit).to_le_bytes(), 4)
            .map_err(|e| format!("{}: write COMMAND: {e}", path.display()))?;
    }
    Ok(())
}

/// How long a process waits for the port before giving up (a holder that died keeps it). Under
/// TCG on a loaded host, 16 processes queueing for the port once waited past 60 s; the limit only
/// has to end a wait on a dead holder well inside the mem suite's VM_TIMEOUT (1500 s).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// An exclusive lock across processes, released on drop. The guest kernel has no
/// `CONFIG_FILE_LOCKING` (no `flock`), but has futexes: the lock is the first word of a shared
/// mapping of [`LOCK_FILE`] (tmpfs), 0 free, 1 held, 2 held with waiters; a waiter sleeps in
/// `FUTEX_WAIT` until the holder's `FUTEX_WAKE` (the classic three-state mutex, U. Drepper,
/// "Futexes Are Tricky", 2011, §5). Waiting gives up after [`LOCK_WAIT`].
struct PortLock(&'static AtomicU32);

/// The lock word, mapped once per process (children of `fork` inherit the shared mapping).
fn lock_word() -> Result<&'static AtomicU32, String> {
    static WORD: OnceLock<Result<usize, String>> = OnceLock::new();
    let addr = WORD.get_or_init(|| {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(LOCK_FILE)
            .map_err(|e| format!("{LOCK_FILE}: {e}"))?;
        // Growing the file gives zeros: a new lock is free. Every process sets the same length.
        if f.metadata().map_err(|e| format!("{LOCK_FILE}: {e}"))?.len() < 4096 {
            f.set_len(4096)
                .map_err(|e| format!("{LOCK_FILE}: set_len: {e}"))?;
        }
        // SAFETY: a fresh shared mapping of 4096 bytes of a regular file; it is never
        // unmapped, so the reference `lock_word` hands out stays valid.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!(
                "mmap {LOCK_FILE}: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(p as usize)
    });
    let addr = *addr.as_ref().map_err(Clone::clone)?;
    // SAFETY: `addr` is a live, page-aligned shared mapping (above); AtomicU32 has u32's
    // layout, and every process only touches the word atomically.
    Ok(unsafe { &*(addr as *const AtomicU32) })
}

/// `FUTEX_WAIT` on `word` while it holds `val`, for at most `left`. Returns on a wake, a
/// changed value (EAGAIN), a signal or the timeout; the caller re-checks the word and the
/// deadline.
fn futex_wait(word: &AtomicU32, val: u32, left: std::time::Duration) {
    let ts = libc::timespec {
        tv_sec: left.as_secs() as libc::time_t,
        tv_nsec: left.subsec_nanos() as libc::c_long,
    };
    // SAFETY: a shared (not FUTEX_PRIVATE) wait on a valid, aligned u32 with a relative
    // timeout; the kernel only reads the word.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            val,
            &ts as *const libc::timespec,
        )
    };
}

fn futex_wake_one(word: &AtomicU32) {
    // SAFETY: a shared wake of at most one waiter on a valid, aligned u32.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1) };
}

impl PortLock {
    fn acquire() -> Result<Self, String> {
        let word = lock_word()?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let mut c = match word.compare_exchange(0, 1, Acquire, Relaxed) {
            Ok(_) => return Ok(PortLock(word)),
            Err(c) => c,
        };
        if c != 2 {
            c = word.swap(2, Acquire);
        }
        while c != 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{LOCK_FILE}: the engine access port is still held after {LOCK_WAIT:?}"
                ));
            }
            futex_wait(word, 2, left);
            c = word.swap(2, Acquire);
        }
        Ok(PortLock(word))
    }
}

impl Drop for PortLock {
    fn drop(&mut self) {
        if self.0.fetch_sub(1, Release) != 1 {
            self.0.store(0, Release);
            futex_wake_one(self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads taking the lock never overlap, and every one gets through (on the host: the
    /// lock file is in the host's /tmp).
    #[test]
    fn port_lock_excludes() {
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        let inside = AtomicBool::new(false);
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let _held = PortLock::acquire().unwrap();
                        assert!(!inside.swap(true, Acquire), "two holders at once");
                        std::hint::spin_loop();
                        inside.store(false, Release);
                        done.fetch_add(1, Relaxed);
                    }
                });
            }
        });
        assert_eq!(done.load(Relaxed), 8 * 200);
        assert_eq!(lock_word().unwrap().load(Acquire), 0, "lock left held");
    }

    #[test]
    fn status_and_xlate_fields() {
        let a = Access {
            status: STATUS_DONE | STATUS_FAULT | (FAULT_RO << 4),
            data: 0,
            pa: 0,
            xlate: (21 << 8) | 2,
        };
        assert_eq!(a.fault(), Some(FAULT_RO));
        assert!(!a.sparse());
        assert_eq!(a.page_shift(), 21);
        assert_eq!(a.page_aperture(), Some(Aperture::SysCoherent));
        assert!(a.ok(0x1000).unwrap_err().contains("type 6"));
        let s = Access {
            status: STATUS_DONE | STATUS_SPARSE,
            data: 0,
            pa: 0,
            xlate: 0,
        };
        assert_eq!((s.fault(), s.sparse(), s.ok(0)), (None, true, Ok(0)));
        assert_eq!(Aperture::from_bits(1), None);
        assert!(Aperture::SysNonCoherent.is_system() && !Aperture::Vram.is_system());
    }
}
