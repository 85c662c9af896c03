// SPDX-License-Identifier: GPL-2.0
//! The DRM helpers the older suites use, over libnova (errors as text or bare errno).

use libnova::Device;
use std::path::PathBuf;

/// The render nodes of DRM devices whose driver is `driver`.
pub fn render_nodes_of(driver: &str) -> Vec<PathBuf> {
    libnova::render_nodes_of(driver)
}

/// Opens the first nova render node.
pub fn open_nova() -> Result<Device, String> {
    Device::open().map_err(|e| format!("no render node of driver \"nova\" ({e})"))
}

/// DRM_IOCTL_VERSION: (name, description, major, minor, patchlevel).
pub fn version(d: &Device) -> Result<(String, String, i32, i32, i32), String> {
    let v = d.version().map_err(|e| e.to_string())?;
    Ok((v.name, v.desc, v.major, v.minor, v.patchlevel))
}

/// DRM_IOCTL_NOVA_GETPARAM: the value, or the errno.
pub fn getparam(d: &Device, param: u64) -> Result<u64, i32> {
    d.getparam(param).map_err(|e| e.errno())
}
