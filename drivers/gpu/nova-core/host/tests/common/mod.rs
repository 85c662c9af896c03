// SPDX-License-Identifier: GPL-2.0
//! Helpers shared by the host tests: finding the real firmware files, a tiny deterministic
//! RNG, and checks on errors.
#![allow(dead_code)]

pub mod vbios_builder;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nova_core_host::firmware::FwError;

/// The firmware versions the tests parse.
pub const VERSIONS: [&str; 2] = ["570.144", "535.113.01"];

/// Where the unpacked linux-firmware tree is: `$NOVA_FIRMWARE_DIR`, else
/// `$NOVA_CACHE/firmware/lib/firmware`, with `NOVA_CACHE` defaulting to `$HOME/.cache/nova`.
/// Panics (the tests fail, they do not skip) if it is missing.
pub fn firmware_dir() -> PathBuf {
    let dir = match std::env::var_os("NOVA_FIRMWARE_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = match std::env::var_os("NOVA_CACHE") {
                Some(c) => PathBuf::from(c),
                None => {
                    let home = std::env::var_os("HOME").unwrap_or_default();
                    Path::new(&home).join(".cache/nova")
                }
            };
            cache.join("firmware/lib/firmware")
        }
    };
    assert!(
        dir.join("nvidia").is_dir(),
        "NVIDIA firmware not found at {}/nvidia: run `make setup` to download and unpack it \
         (or point NOVA_FIRMWARE_DIR at a linux-firmware tree)",
        dir.display()
    );
    dir
}

/// What a firmware file is, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `booter_load-*.bin`.
    BooterLoad,
    /// `booter_unload-*.bin`.
    BooterUnload,
    /// `bootloader-*.bin`.
    Bootloader,
    /// `gen_bootloader-*.bin`.
    GenBootloader,
    /// `gsp-*.bin`.
    Gsp,
    /// `scrubber-*.bin`.
    Scrubber,
    /// `fmc-*.bin`.
    Fmc,
}

impl Kind {
    fn from_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix {
            "booter_load" => Kind::BooterLoad,
            "booter_unload" => Kind::BooterUnload,
            "bootloader" => Kind::Bootloader,
            "gen_bootloader" => Kind::GenBootloader,
            "gsp" => Kind::Gsp,
            "scrubber" => Kind::Scrubber,
            "fmc" => Kind::Fmc,
            _ => return None,
        })
    }
}

/// One firmware file in one chip directory.
#[derive(Clone, Debug)]
pub struct FwFile {
    /// Chip directory name, e.g. `ga102`.
    pub chip: String,
    /// Its kind.
    pub kind: Kind,
    /// Its version, one of [`VERSIONS`].
    pub version: &'static str,
    /// Path through the chip directory (symlinks not resolved).
    pub path: PathBuf,
    /// Canonical path (symlinks resolved), to read shared files once.
    pub canonical: PathBuf,
}

/// Every `nvidia/<chip>/gsp/<kind>-<version>.bin` for the [`VERSIONS`], following symlinks,
/// sorted by chip then name.
pub fn gsp_files() -> Vec<FwFile> {
    let nvidia = firmware_dir().join("nvidia");
    let mut chips: Vec<_> = std::fs::read_dir(&nvidia)
        .expect("read nvidia firmware dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .collect();
    chips.sort();
    let mut out = Vec::new();
    for chip in chips {
        let gsp = nvidia.join(&chip).join("gsp");
        if !gsp.is_dir() {
            continue;
        }
        let mut names: Vec<_> = std::fs::read_dir(&gsp)
            .expect("read gsp dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .into_string()
                    .expect("utf-8")
            })
            .collect();
        names.sort();
        for name in names {
            let Some(stem) = name.strip_suffix(".bin") else {
                continue;
            };
            for version in VERSIONS {
                let Some(prefix) = stem.strip_suffix(&format!("-{version}")) else {
                    continue;
                };
                let Some(kind) = Kind::from_prefix(prefix) else {
                    panic!("unexpected firmware file {chip}/gsp/{name}");
                };
                let path = gsp.join(&name);
                let canonical = path.canonicalize().expect("canonicalize");
                out.push(FwFile {
                    chip: chip.clone(),
                    kind,
                    version,
                    path,
                    canonical,
                });
            }
        }
    }
    assert!(
        !out.is_empty(),
        "no GSP firmware files under {}",
        nvidia.display()
    );
    out
}

/// [`gsp_files`] grouped by canonical path, so each distinct file is read once.
pub fn by_content(files: &[FwFile]) -> BTreeMap<PathBuf, Vec<FwFile>> {
    let mut m: BTreeMap<PathBuf, Vec<FwFile>> = BTreeMap::new();
    for f in files {
        m.entry(f.canonical.clone()).or_default().push(f.clone());
    }
    m
}

/// Reads a file.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Checks an error names an offset inside (or just past) an input of `len` bytes and says so
/// in its message.
pub fn check_error(e: &FwError, len: usize, context: &str) {
    let msg = e.to_string();
    assert!(
        msg.contains(" at offset 0x"),
        "{context}: error message without an offset: {msg}"
    );
    assert!(
        e.offset <= len,
        "{context}: error offset {:#x} beyond the {len:#x}-byte input: {msg}",
        e.offset
    );
}

/// xorshift64* — a small deterministic generator for the bounded fuzz tests.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// An "interesting" 32-bit value for a field of an input of `len` bytes.
    pub fn interesting_u32(&mut self, len: usize) -> u32 {
        let len32 = u32::try_from(len).unwrap_or(u32::MAX);
        match self.below(12) {
            0 => 0,
            1 => u32::MAX,
            2 => len32,
            3 => len32.wrapping_sub(1),
            4 => len32.wrapping_add(1),
            5 => 0x8000_0000,
            6 => 1,
            7 => self.next_u64() as u32 & 0xffff,
            8 => self.next_u64() as u32 & 0xff,
            9 => 0x7fff_ffff,
            10 => len32 / 2,
            _ => self.next_u64() as u32,
        }
    }
}

/// Applies 1–4 random mutations to `buf` within `[lo, hi)` (clamped to the buffer) and returns
/// the (offset, old bytes) pairs to undo them, most recent last.
pub fn mutate(rng: &mut Rng, buf: &mut [u8], lo: usize, hi: usize) -> Vec<(usize, Vec<u8>)> {
    let hi = hi.min(buf.len());
    let mut undo = Vec::new();
    if hi <= lo {
        return undo;
    }
    let len = buf.len();
    for _ in 0..1 + rng.below(4) {
        let at = lo + rng.below(hi - lo);
        match rng.below(4) {
            0 => {
                undo.push((at, vec![buf[at]]));
                buf[at] ^= 1 << rng.below(8);
            }
            1 => {
                undo.push((at, vec![buf[at]]));
                buf[at] = rng.next_u64() as u8;
            }
            _ => {
                let at = at & !3;
                if at + 4 <= hi {
                    undo.push((at, buf[at..at + 4].to_vec()));
                    let v = rng.interesting_u32(len);
                    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    undo
}

/// Reverts [`mutate`].
pub fn undo(buf: &mut [u8], undo: Vec<(usize, Vec<u8>)>) {
    for (at, old) in undo.into_iter().rev() {
        buf[at..at + old.len()].copy_from_slice(&old);
    }
}
