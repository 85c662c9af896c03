// SPDX-License-Identifier: GPL-2.0
//! nova-drm's debugfs list of VMs: where each VM's instance block is, and its mappings.
//!
//! ASSUMED FORMAT, to be confirmed by nova-drm (everything about it is in this file):
//! - the file is one of [`VMS_FILES`] (glob patterns, `*` within one path component);
//! - one line per VM: `vm <id> pid <pid> inst <hex addr> aperture <sys|vid>`;
//! - under it, one line per mapping:
//!   `  map va <hex> range <hex> page <bytes> <vram|sysmem|sparse>`.
//!
//! The parser is lenient so small changes need no edit here: keys may come in any order,
//! unknown `key value` pairs and words are ignored, hex may have a `0x` or not, page sizes may
//! be decimal, hex or `4K`/`64K`/`2M`, and apertures may be spelled `sys`, `sys_coh`,
//! `sys_noncoh`, `vid` or `vram`.

use crate::port::{Aperture, Inst};

/// Where the VM list lives, tried in order (all matches are read).
pub const VMS_FILES: &[&str] = &[
    "/sys/kernel/debug/dri/*/nova_vms",
    "/sys/kernel/debug/nova-drm*/vms",
];

/// What backs a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// A VRAM object.
    Vram,
    /// A system-memory object.
    Sysmem,
    /// Sparse (no object).
    Sparse,
}

/// One mapping line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// First VA.
    pub va: u64,
    /// Length in bytes.
    pub range: u64,
    /// GPU page size in bytes.
    pub page: u64,
    /// What backs it.
    pub backing: Backing,
}

/// One VM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmEntry {
    /// The VM's id in its file.
    pub id: u32,
    /// The process that created it.
    pub pid: u32,
    /// Its instance block.
    pub inst: Inst,
    /// Its mappings, as listed.
    pub maps: Vec<MapEntry>,
}

fn hex(s: &str) -> Option<u64> {
    let s = s.trim_end_matches(',');
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(s, 16).ok()
}

fn dec(s: &str) -> Option<u64> {
    s.trim_end_matches(',').parse().ok()
}

/// A page size: decimal bytes, `0x` hex, or a `K`/`KiB`/`M`/`MiB` suffix.
fn page_size(s: &str) -> Option<u64> {
    let s = s.trim_end_matches(',');
    if s.starts_with("0x") {
        return hex(s);
    }
    for (suffix, shift) in [("KiB", 10), ("K", 10), ("MiB", 20), ("M", 20)] {
        if let Some(n) = s.strip_suffix(suffix) {
            return n.parse::<u64>().ok().map(|n| n << shift);
        }
    }
    dec(s)
}

fn aperture(s: &str) -> Option<Aperture> {
    match s.trim_end_matches(',').to_ascii_lowercase().as_str() {
        "vid" | "vram" | "video" => Some(Aperture::Vram),
        "sys" | "sys_coh" | "sysmem" | "coh" => Some(Aperture::SysCoherent),
        "sys_noncoh" | "sys_ncoh" | "noncoh" => Some(Aperture::SysNonCoherent),
        _ => None,
    }
}

fn backing(s: &str) -> Option<Backing> {
    match s.trim_end_matches(',').to_ascii_lowercase().as_str() {
        "vram" | "vid" => Some(Backing::Vram),
        "sysmem" | "sys" => Some(Backing::Sysmem),
        "sparse" => Some(Backing::Sparse),
        _ => None,
    }
}

/// The value after `key` among `words`.
fn after<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| w.eq_ignore_ascii_case(key))
        .and_then(|i| words.get(i + 1).copied())
}

/// Parses the whole file.
pub fn parse(text: &str) -> Result<Vec<VmEntry>, String> {
    let mut out: Vec<VmEntry> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |what: &str| format!("nova VM list line {}: {what}: {line:?}", n + 1);
        match words.first().copied() {
            Some("vm") => {
                let id = words
                    .get(1)
                    .and_then(|w| dec(w))
                    .ok_or_else(|| bad("no id"))?;
                let pid = after(&words, "pid")
                    .and_then(dec)
                    .ok_or_else(|| bad("no pid"))?;
                let addr = after(&words, "inst")
                    .and_then(hex)
                    .ok_or_else(|| bad("no inst"))?;
                let ap = after(&words, "aperture")
                    .and_then(aperture)
                    .ok_or_else(|| bad("no aperture"))?;
                out.push(VmEntry {
                    id: u32::try_from(id).map_err(|_| bad("id"))?,
                    pid: u32::try_from(pid).map_err(|_| bad("pid"))?,
                    inst: Inst { addr, aperture: ap },
                    maps: vec![],
                });
            }
            Some("map") => {
                let vm = out.last_mut().ok_or_else(|| bad("map before any vm"))?;
                let va = after(&words, "va")
                    .and_then(hex)
                    .ok_or_else(|| bad("no va"))?;
                let range = after(&words, "range")
                    .and_then(hex)
                    .ok_or_else(|| bad("no range"))?;
                let page = after(&words, "page")
                    .and_then(page_size)
                    .ok_or_else(|| bad("no page"))?;
                let backing = words
                    .iter()
                    .skip(1)
                    .find_map(|w| backing(w))
                    .ok_or_else(|| bad("no vram|sysmem|sparse"))?;
                vm.maps.push(MapEntry {
                    va,
                    range,
                    page,
                    backing,
                });
            }
            // Headers, blank lines, anything else: ignored.
            _ => {}
        }
    }
    Ok(out)
}

/// Paths matching `pattern` (`*` matches within one component).
fn glob(pattern: &str) -> Vec<std::path::PathBuf> {
    let mut paths = vec![std::path::PathBuf::from("/")];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = vec![];
        for p in &paths {
            if let Some((pre, post)) = comp.split_once('*') {
                let Ok(dir) = std::fs::read_dir(p) else {
                    continue;
                };
                let mut found: Vec<_> = dir
                    .flatten()
                    .filter(|e| {
                        let n = e.file_name().to_string_lossy().to_string();
                        n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post)
                    })
                    .map(|e| e.path())
                    .collect();
                found.sort();
                next.extend(found);
            } else {
                let q = p.join(comp);
                if q.exists() {
                    next.push(q);
                }
            }
        }
        paths = next;
    }
    paths
}

/// Every VM of every file found.
pub fn read_all() -> Result<Vec<VmEntry>, String> {
    let files: Vec<_> = VMS_FILES.iter().flat_map(|p| glob(p)).collect();
    if files.is_empty() {
        return Err(format!(
            "no nova VM list in debugfs (looked for {VMS_FILES:?})"
        ));
    }
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        out.extend(parse(&text).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    Ok(out)
}

/// The VM `id` of process `pid`, if listed.
pub fn lookup(pid: u32, id: u32) -> Result<Option<VmEntry>, String> {
    let mut found: Vec<VmEntry> = read_all()?
        .into_iter()
        .filter(|v| v.pid == pid && v.id == id)
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(format!(
            "{n} VMs with id {id} of pid {pid}: the tests keep one file with VMs per process"
        )),
    }
}

/// The VM `id` of this process.
pub fn mine(id: u32) -> Result<VmEntry, String> {
    let pid = std::process::id();
    lookup(pid, id)?.ok_or_else(|| format!("VM {id} of pid {pid} not in the debugfs VM list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
vm 1 pid 412 inst 0x1f3c2000 aperture sys
  map va 0x100001000 range 0x30000 page 4096 sysmem
  map va 0x100200000 range 0x400000 page 2097152 vram
vm 2 pid 412 inst 5f3e00000 aperture vid
  map va 0x200000000 range 200000 page 64K sparse
";

    #[test]
    fn parses_the_assumed_format() {
        let vms = parse(SAMPLE).unwrap();
        assert_eq!(vms.len(), 2);
        assert_eq!((vms[0].id, vms[0].pid), (1, 412));
        assert_eq!(
            vms[0].inst,
            Inst {
                addr: 0x1f3c_2000,
                aperture: Aperture::SysCoherent
            }
        );
        assert_eq!(
            vms[0].maps,
            [
                MapEntry {
                    va: 0x1_0000_1000,
                    range: 0x30000,
                    page: 4096,
                    backing: Backing::Sysmem
                },
                MapEntry {
                    va: 0x1_0020_0000,
                    range: 0x40_0000,
                    page: 2 << 20,
                    backing: Backing::Vram
                }
            ]
        );
        assert_eq!(vms[1].inst.addr, 0x5_f3e0_0000);
        assert_eq!(vms[1].inst.aperture, Aperture::Vram);
        assert_eq!(vms[1].maps[0].range, 0x20_0000);
        assert_eq!(vms[1].maps[0].page, 64 << 10);
        assert_eq!(vms[1].maps[0].backing, Backing::Sparse);
    }

    #[test]
    fn tolerates_reordering_and_extra_fields() {
        let vms = parse(
            "# nova VMs\n\nvm 3 aperture sys_noncoh pid 9 inst 0x2000 pdb 0x3000\n\
             \tmap range 0x1000 va 0x4000 read_only page 0x1000 sysmem\n",
        )
        .unwrap();
        assert_eq!(vms[0].inst.aperture, Aperture::SysNonCoherent);
        assert_eq!(vms[0].maps[0].va, 0x4000);
        assert_eq!(vms[0].maps[0].page, 4096);
    }

    #[test]
    fn rejects_broken_lines() {
        assert!(parse("  map va 0x1000 range 0x1000 page 4096 vram\n")
            .unwrap_err()
            .contains("map before any vm"));
        assert!(parse("vm 1 pid 2 aperture sys\n")
            .unwrap_err()
            .contains("no inst"));
        assert!(
            parse("vm 1 pid 2 inst 0x1000 aperture sys\n map va 1 range 1 page 4096\n")
                .unwrap_err()
                .contains("no vram|sysmem|sparse")
        );
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size("2M"), Some(2 << 20));
        assert_eq!(page_size("64KiB"), Some(64 << 10));
        assert_eq!(page_size("0x200000"), Some(2 << 20));
        assert_eq!(page_size("65536"), Some(64 << 10));
        assert_eq!(page_size("x"), None);
    }
}
