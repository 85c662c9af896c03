// SPDX-License-Identifier: MIT
//! An open DRM file of a nova device.

use crate::drm::{self, DrmVersion};
use crate::{Error, Info, Result};
use nova_uapi as uapi;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The driver name nova registers (`DRM_IOCTL_VERSION`).
pub const DRIVER_NAME: &str = "nova";

/// An open DRM file. Cheap to clone (the clones share the file); the file closes when the last
/// clone and the last [`Bo`](crate::Bo) and [`Vm`](crate::Vm) made from it are gone.
#[derive(Clone)]
pub struct Device {
    inner: Arc<Inner>,
}

struct Inner {
    file: File,
    path: PathBuf,
    /// GEM handles owned by live `Bo`s, with their count: importing a dma-buf this file already
    /// has a handle for returns that same handle, which must be closed only once.
    handles: Mutex<HashMap<u32, u32>>,
}

/// What `DRM_IOCTL_VERSION` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Driver name, e.g. `"nova"`.
    pub name: String,
    /// Driver description.
    pub desc: String,
    /// Driver date (often empty).
    pub date: String,
    /// Major, minor and patch level.
    pub major: i32,
    /// Minor version.
    pub minor: i32,
    /// Patch level.
    pub patchlevel: i32,
}

/// DRM device nodes under `/dev/dri` whose name starts with `prefix` (`"renderD"`, `"card"`)
/// and whose driver is `driver`, sorted by name.
pub fn nodes_of(driver: &str, prefix: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    let Ok(dir) = std::fs::read_dir("/dev/dri") else {
        return out;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with(prefix) {
            continue;
        }
        if let Ok(d) = Device::open_path(e.path()) {
            if d.version().is_ok_and(|v| v.name == driver) {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The render nodes of driver `driver`.
pub fn render_nodes_of(driver: &str) -> Vec<PathBuf> {
    nodes_of(driver, "renderD")
}

impl Device {
    /// Opens the first render node whose driver is nova.
    pub fn open() -> Result<Device> {
        let nodes = render_nodes_of(DRIVER_NAME);
        let p = nodes.first().ok_or(Error::new("open", libc::ENODEV))?;
        Self::open_path(p)
    }

    /// Opens the DRM node at `path` (read-write, close-on-exec). The driver is not checked:
    /// see [`Device::version`].
    pub fn open_path(path: impl AsRef<Path>) -> Result<Device> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::new("open", e.raw_os_error().unwrap_or(libc::EIO)))?;
        Ok(Device {
            inner: Arc::new(Inner {
                file,
                path: path.to_path_buf(),
                handles: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The node's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Issues ioctl `cmd` on this file.
    ///
    /// # Safety
    ///
    /// As [`drm::ioctl`]: `cmd` takes a `T`, and pointers inside `arg` are valid for it.
    pub unsafe fn ioctl<T>(&self, op: &'static str, cmd: u32, arg: &mut T) -> Result<()> {
        // SAFETY: the caller's contract is the one drm::ioctl needs.
        unsafe { drm::ioctl(self.as_fd(), op, cmd, arg) }
    }

    /// `DRM_IOCTL_VERSION`.
    pub fn version(&self) -> Result<Version> {
        let mut v = DrmVersion::default();
        // SAFETY: DRM_IOCTL_VERSION takes a drm_version; with zero lengths (and null
        // pointers) the kernel writes nothing through the pointers.
        unsafe { self.ioctl("VERSION", drm::DRM_IOCTL_VERSION, &mut v)? };
        let mut name = vec![0u8; v.name_len];
        let mut date = vec![0u8; v.date_len];
        let mut desc = vec![0u8; v.desc_len];
        v.name = name.as_mut_ptr() as usize;
        v.date = date.as_mut_ptr() as usize;
        v.desc = desc.as_mut_ptr() as usize;
        // SAFETY: each pointer is a live buffer of exactly the length passed with it; the
        // kernel copies at most that many bytes into each.
        unsafe { self.ioctl("VERSION", drm::DRM_IOCTL_VERSION, &mut v)? };
        let text = |mut b: Vec<u8>, len: usize| {
            b.truncate(len);
            String::from_utf8_lossy(&b)
                .trim_end_matches('\0')
                .to_string()
        };
        Ok(Version {
            name: text(name, v.name_len),
            desc: text(desc, v.desc_len),
            date: text(date, v.date_len),
            major: v.version_major,
            minor: v.version_minor,
            patchlevel: v.version_patchlevel,
        })
    }

    /// `DRM_IOCTL_NOVA_GETPARAM`: the value of `param` (`NOVA_GETPARAM_*`).
    pub fn getparam(&self, param: u64) -> Result<u64> {
        let mut a = uapi::DrmNovaGetparam { param, value: 0 };
        crate::raw::getparam(self, &mut a)?;
        Ok(a.value)
    }

    /// Every parameter, typed.
    pub fn info(&self) -> Result<Info> {
        Info::query(|p| self.getparam(p))
    }

    /// Free VRAM in bytes, now.
    pub fn vram_free(&self) -> Result<u64> {
        self.getparam(uapi::NOVA_GETPARAM_VRAM_FREE)
    }

    /// The PCI address (`0000:01:00.0`) of the GPU behind this node, from sysfs.
    pub fn pci_address(&self) -> Option<String> {
        let rdev = self.inner.file.metadata().ok()?.rdev();
        let (major, minor) = (libc::major(rdev), libc::minor(rdev));
        let dev = std::fs::canonicalize(format!("/sys/dev/char/{major}:{minor}/device")).ok()?;
        pci_address_in(&dev)
    }

    /// Registers one more owner of `handle`.
    pub(crate) fn hold_handle(&self, handle: u32) {
        let mut h = self.inner.handles.lock().unwrap_or_else(|e| e.into_inner());
        *h.entry(handle).or_insert(0) += 1;
    }

    /// Drops one owner of `handle`; closes it (`DRM_IOCTL_GEM_CLOSE`) when it was the last.
    pub(crate) fn release_handle(&self, handle: u32) -> Result<()> {
        let last = {
            let mut h = self.inner.handles.lock().unwrap_or_else(|e| e.into_inner());
            match h.get_mut(&handle) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => {
                    h.remove(&handle);
                    true
                }
            }
        };
        if last {
            crate::raw::gem_close(self, handle)
        } else {
            Ok(())
        }
    }

    /// How many `Bo`s of this file own `handle` (0 when none).
    pub fn handle_owners(&self, handle: u32) -> u32 {
        let h = self.inner.handles.lock().unwrap_or_else(|e| e.into_inner());
        h.get(&handle).copied().unwrap_or(0)
    }
}

impl AsFd for Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.file.as_fd()
    }
}

impl AsRawFd for Device {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.file.as_raw_fd()
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("path", &self.inner.path)
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// Whether `s` is a PCI address, `DDDD:BB:DD.F` in hex.
fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10) || c.is_ascii_hexdigit())
}

/// The PCI address in a sysfs device path: the nearest ancestor (or the path itself) named
/// like one. A nova DRM node's device is the PCI function itself; the nearest-ancestor rule
/// also covers devices registered below it, e.g.
/// `/sys/devices/pci0000:00/0000:00:03.0/nova_core.nova-drm.0`.
pub fn pci_address_in(path: &Path) -> Option<String> {
    path.ancestors()
        .filter_map(|p| p.file_name()?.to_str())
        .find(|n| is_pci_address(n))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_address_of_auxiliary_device() {
        let p = Path::new("/sys/devices/pci0000:00/0000:00:03.0/nova_core.nova-drm.0");
        assert_eq!(pci_address_in(p).as_deref(), Some("0000:00:03.0"));
        let p = Path::new("/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0");
        assert_eq!(pci_address_in(p).as_deref(), Some("0000:01:00.0"));
        assert_eq!(
            pci_address_in(Path::new("/sys/devices/platform/vgem")),
            None
        );
        assert!(!is_pci_address("pci0000:00"));
        assert!(!is_pci_address("0000:0g:00.0"));
    }

    #[test]
    fn non_drm_file_fails_with_enotty() {
        let d = Device::open_path("/dev/null").unwrap();
        let e = d.getparam(uapi::NOVA_GETPARAM_CHIPSET).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("GETPARAM", libc::ENOTTY));
        assert_eq!(d.version().unwrap_err().errno(), libc::ENOTTY);
        assert_eq!(d.path(), Path::new("/dev/null"));
        assert!(d.pci_address().is_none());
    }

    #[test]
    fn open_missing_path_keeps_errno() {
        let e = Device::open_path("/nonexistent/renderD128").unwrap_err();
        assert_eq!((e.op(), e.errno()), ("open", libc::ENOENT));
    }

    #[test]
    fn handle_registry_closes_once() {
        let d = Device::open_path("/dev/null").unwrap();
        d.hold_handle(7);
        d.hold_handle(7);
        assert_eq!(d.handle_owners(7), 2);
        // Not the last owner: no ioctl, so no ENOTTY from /dev/null.
        assert_eq!(d.release_handle(7), Ok(()));
        assert_eq!(d.handle_owners(7), 1);
        // The last one closes, which /dev/null refuses.
        assert_eq!(d.release_handle(7).unwrap_err().errno(), libc::ENOTTY);
        assert_eq!(d.handle_owners(7), 0);
    }
}
