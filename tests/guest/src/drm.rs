// SPDX-License-Identifier: GPL-2.0
//! Minimal DRM client: open a render node, DRM_IOCTL_VERSION, nova ioctls.

use nova_uapi as uapi;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// `struct drm_version` (include/uapi/drm/drm.h).
#[repr(C)]
#[derive(Default)]
struct DrmVersion {
    version_major: i32,
    version_minor: i32,
    version_patchlevel: i32,
    name_len: usize,
    name: u64,
    date_len: usize,
    date: u64,
    desc_len: usize,
    desc: u64,
}

/// `DRM_IOCTL_VERSION` = `DRM_IOWR(0x00, struct drm_version)`.
const DRM_IOCTL_VERSION: u32 = uapi::iowr(
    uapi::DRM_IOCTL_BASE,
    0x00,
    std::mem::size_of::<DrmVersion>(),
);

/// The render nodes of DRM devices whose driver is `name`, found through sysfs.
pub fn render_nodes_of(driver: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    let Ok(dir) = std::fs::read_dir("/sys/class/drm") else {
        return out;
    };
    for e in dir.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if !n.starts_with("renderD") {
            continue;
        }
        let path = PathBuf::from("/dev/dri").join(&n);
        if let Ok(f) = OpenOptions::new().read(true).write(true).open(&path) {
            if version(&f).map(|v| v.0 == driver).unwrap_or(false) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Opens the first nova render node.
pub fn open_nova() -> Result<File, String> {
    let nodes = render_nodes_of("nova");
    let p = nodes.first().ok_or("no render node of driver \"nova\"")?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(p)
        .map_err(|e| format!("open {}: {e}", p.display()))
}

fn ioctl<T>(f: &File, cmd: u32, arg: &mut T) -> Result<(), i32> {
    // SAFETY: `arg` is a live, exclusively borrowed struct whose size is the one encoded in
    // `cmd`, so the kernel reads and writes only inside it.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), cmd as libc::c_ulong, arg as *mut T) };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(())
    }
}

/// DRM_IOCTL_VERSION: (name, description, major, minor, patchlevel).
pub fn version(f: &File) -> Result<(String, String, i32, i32, i32), String> {
    let mut v = DrmVersion::default();
    ioctl(f, DRM_IOCTL_VERSION, &mut v).map_err(|e| format!("DRM_IOCTL_VERSION: errno {e}"))?;
    let mut name = vec![0u8; v.name_len];
    let mut desc = vec![0u8; v.desc_len];
    let mut date = vec![0u8; v.date_len];
    v.name = name.as_mut_ptr() as u64;
    v.desc = desc.as_mut_ptr() as u64;
    v.date = date.as_mut_ptr() as u64;
    ioctl(f, DRM_IOCTL_VERSION, &mut v).map_err(|e| format!("DRM_IOCTL_VERSION: errno {e}"))?;
    let s = |b: Vec<u8>| {
        String::from_utf8_lossy(&b)
            .trim_end_matches('\0')
            .to_string()
    };
    Ok((
        s(name),
        s(desc),
        v.version_major,
        v.version_minor,
        v.version_patchlevel,
    ))
}

/// DRM_IOCTL_NOVA_GETPARAM: the value, or the errno.
pub fn getparam(f: &File, param: u64) -> Result<u64, i32> {
    let mut a = uapi::DrmNovaGetparam { param, value: 0 };
    ioctl(f, uapi::DRM_IOCTL_NOVA_GETPARAM, &mut a)?;
    Ok(a.value)
}
