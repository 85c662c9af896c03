// SPDX-License-Identifier: GPL-2.0
//! The GSP boot firmware files as the device sees them: what SEC2's boot ROM accepts (Booter) and
//! what Booter-load compares guest memory against (the RISC-V bootloader, GSP-RM's `.fwimage` and
//! its signature). These are the device's own readers, written from the fact sheet (docs/facts/ga102.md §6);
//! nothing is shared with the driver.
//!
//! Files, under `DIR/nvidia/<chip>/gsp/` (docs/facts/ga102.md §6.1): `booter_load-570.144.bin`,
//! `booter_unload-570.144.bin`, `bootloader-570.144.bin`, `gsp-570.144.bin`. `DIR` is
//! `--firmware-dir` / `VGPU_FIRMWARE_DIR`, by default [`default_dir`].
//!
//! Formats (all little-endian):
//! - `nvfw_bin_hdr` (docs/facts/ga102.md §6.2; nouveau `include/nvfw/fw.h`): six u32 at 0: bin_magic
//!   (0x10DE), bin_ver, bin_size (not a file length), header_offset, data_offset, data_size.
//!   The ucode blob is `file[data_offset .. data_offset + data_size]`.
//! - HS header v2 (docs/facts/ga102.md §6.3; `include/nvfw/hs.h` `nvfw_hs_header_v2`): nine u32 at
//!   header_offset: sig_prod_offset, sig_prod_size, patch_loc, patch_sig, meta_data_offset,
//!   meta_data_size, num_sig, header_offset, header_size. patch_loc, patch_sig and num_sig are
//!   *file offsets of a u32* holding the value; meta_data_offset points at three u32 fuse_ver,
//!   engine_id, ucode_id; header_offset points at the load header.
//! - HS load header v2 (docs/facts/ga102.md §6.4; `nvfw_hs_load_header_v2`): os_code_offset, os_code_size,
//!   os_data_offset, os_data_size, num_apps, then num_apps entries of four u32 {offset, size,
//!   data_offset, data_size}. Offsets are relative to the ucode blob.
//! - `RM_RISCV_UCODE_DESC` (docs/facts/ga102.md §6.5): 21 u32 at the bin header's header_offset; the payload
//!   is the whole blob.
//! - `gsp-570.144.bin` (docs/facts/ga102.md §6.6): an ELF64 little-endian relocatable file; only its section
//!   headers are read (the ELF header's e_shoff at 0x28, e_shentsize 0x3A, e_shnum 0x3C,
//!   e_shstrndx 0x3E; each section header's sh_name at +0, sh_offset +0x18, sh_size +0x20, as
//!   in Linux `include/uapi/linux/elf.h` `Elf64_Ehdr`/`Elf64_Shdr`) to find `.fwimage` and the
//!   chip's signature section (`.fwsignature_ga10x` on GA102).
//!
//! My reading of the HS fields where the facts leave a choice:
//! - Signatures: `num_sig` signatures of `sig_prod_size / num_sig` bytes, which must be 384
//!   (RSA-3K, docs/facts/ga102.md §5.5), starting at `sig_prod_offset + *patch_sig` ("signature base adjust",
//!   0 in the 570.144 files, so either reading gives the same bytes).
//! - The signature slot is `blob[*patch_loc .. + 384]`; it must lie inside the OS data segment,
//!   which is where a GA102 loader puts it in DMEM: DMEM offset `*patch_loc - os_data_offset`
//!   (docs/facts/ga102.md §5.5, §6.3 "PKC DMEM offset 0x10").
//!
//! Every reader checks bounds and returns a [`ParseError`] rather than panicking.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The GSP-RM release whose files the device reads (docs/facts/ga102.md §6.1).
pub const GSP_FW_VERSION: &str = "570.144";
/// Bytes of one HS signature (RSA-3K, docs/facts/ga102.md §5.5).
pub const SIGNATURE_SIZE: usize = 384;
/// `nvfw_bin_hdr.bin_magic` (docs/facts/ga102.md §6.2).
pub const BIN_MAGIC: u32 = 0x10de;
/// Size of `RM_RISCV_UCODE_DESC` (docs/facts/ga102.md §6.5).
pub const RISCV_DESC_SIZE: usize = 84;

/// A file that does not have the expected format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

fn u32_at(b: &[u8], at: usize, what: &str) -> Result<u32, ParseError> {
    match at.checked_add(4).and_then(|e| b.get(at..e)) {
        Some(s) => Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]])),
        None => err(format!(
            "{what} at {at:#x} is past the end ({:#x} bytes)",
            b.len()
        )),
    }
}

fn u16_at(b: &[u8], at: usize, what: &str) -> Result<u16, ParseError> {
    match at.checked_add(2).and_then(|e| b.get(at..e)) {
        Some(s) => Ok(u16::from_le_bytes([s[0], s[1]])),
        None => err(format!(
            "{what} at {at:#x} is past the end ({:#x} bytes)",
            b.len()
        )),
    }
}

fn u64_at(b: &[u8], at: usize, what: &str) -> Result<u64, ParseError> {
    match at.checked_add(8).and_then(|e| b.get(at..e)) {
        Some(s) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            Ok(u64::from_le_bytes(a))
        }
        None => err(format!(
            "{what} at {at:#x} is past the end ({:#x} bytes)",
            b.len()
        )),
    }
}

/// `[start, start + len)` as a range inside `total` bytes.
fn range(start: u64, len: u64, total: usize, what: &str) -> Result<Range<usize>, ParseError> {
    let end = start.checked_add(len);
    match end {
        Some(e) if e <= total as u64 => Ok(start as usize..e as usize),
        _ => err(format!(
            "{what} [{start:#x}, +{len:#x}) does not fit in {total:#x} bytes"
        )),
    }
}

/// `nvfw_bin_hdr` (docs/facts/ga102.md §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinHdr {
    /// bin_magic (0x10DE).
    pub magic: u32,
    /// bin_ver.
    pub version: u32,
    /// bin_size (rounded; not a file length, docs/facts/ga102.md §6.2).
    pub size: u32,
    /// File offset of the next header.
    pub header_offset: u32,
    /// File offset of the ucode blob.
    pub data_offset: u32,
    /// Size of the ucode blob.
    pub data_size: u32,
}

impl BinHdr {
    /// Reads the header at the start of `file` and checks the magic and the blob range.
    pub fn parse(file: &[u8]) -> Result<Self, ParseError> {
        let f = |i: usize, what| u32_at(file, 4 * i, what);
        let h = BinHdr {
            magic: f(0, "bin_magic")?,
            version: f(1, "bin_ver")?,
            size: f(2, "bin_size")?,
            header_offset: f(3, "header_offset")?,
            data_offset: f(4, "data_offset")?,
            data_size: f(5, "data_size")?,
        };
        if h.magic != BIN_MAGIC {
            return err(format!("bin_magic {:#x}, expected {BIN_MAGIC:#x}", h.magic));
        }
        h.blob_range(file.len())?;
        Ok(h)
    }

    /// The blob's range in a file of `len` bytes.
    pub fn blob_range(&self, len: usize) -> Result<Range<usize>, ParseError> {
        range(
            self.data_offset.into(),
            self.data_size.into(),
            len,
            "ucode blob",
        )
    }
}

/// One HS application (`nvfw_hs_load_header_v2.app[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HsApp {
    /// Code offset in the blob.
    pub offset: u32,
    /// Code size.
    pub size: u32,
    /// Data offset in the blob.
    pub data_offset: u32,
    /// Data size.
    pub data_size: u32,
}

/// A Booter file (`booter_load` or `booter_unload`): bin header + HS header v2 + load header v2
/// (docs/facts/ga102.md §6.2-6.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BooterFile {
    /// The ucode blob, `file[data_offset .. + data_size]`, as shipped (signature slot unpatched).
    pub blob: Vec<u8>,
    /// The bin header.
    pub bin: BinHdr,
    /// Load header: non-secure OS code offset in the blob.
    pub os_code_offset: u32,
    /// Load header: non-secure OS code size.
    pub os_code_size: u32,
    /// Load header: OS data offset in the blob.
    pub os_data_offset: u32,
    /// Load header: OS data size.
    pub os_data_size: u32,
    /// Load header: the applications (at least one).
    pub apps: Vec<HsApp>,
    /// `*patch_loc`: blob offset of the signature slot.
    pub patch_loc: u32,
    /// `*patch_sig`: added to sig_prod_offset.
    pub patch_sig: u32,
    /// Metadata: the ucode's fuse version.
    pub fuse_ver: u32,
    /// Metadata: EngineIdMask (SEC2 = 0x1, docs/facts/ga102.md §5.3).
    pub engine_id: u32,
    /// Metadata: ucode id (1..16; selects the fuse register).
    pub ucode_id: u32,
    /// The production signatures, in file order.
    pub signatures: Vec<Vec<u8>>,
}

impl BooterFile {
    /// Reads a Booter file.
    pub fn parse(file: &[u8]) -> Result<Self, ParseError> {
        let bin = BinHdr::parse(file)?;
        let blob_r = bin.blob_range(file.len())?;
        let blob = &file[blob_r];
        let hs = bin.header_offset as usize;
        let h = |i: usize, what| u32_at(file, hs.saturating_add(4 * i), what);
        let sig_prod_offset = h(0, "HS sig_prod_offset")?;
        let sig_prod_size = h(1, "HS sig_prod_size")?;
        let patch_loc = u32_at(file, h(2, "HS patch_loc")? as usize, "*patch_loc")?;
        let patch_sig = u32_at(file, h(3, "HS patch_sig")? as usize, "*patch_sig")?;
        let meta = h(4, "HS meta_data_offset")? as usize;
        let meta_size = h(5, "HS meta_data_size")?;
        let num_sig = u32_at(file, h(6, "HS num_sig")? as usize, "*num_sig")?;
        let lh = h(7, "HS header_offset")? as usize;
        let lh_size = h(8, "HS header_size")? as usize;
        if meta_size < 12 {
            return err(format!("meta_data_size {meta_size} < 12"));
        }
        let fuse_ver = u32_at(file, meta, "fuse_ver")?;
        let engine_id = u32_at(file, meta.saturating_add(4), "engine_id")?;
        let ucode_id = u32_at(file, meta.saturating_add(8), "ucode_id")?;

        let l = |i: usize, what| u32_at(file, lh.saturating_add(4 * i), what);
        let num_apps = l(4, "num_apps")?;
        if num_apps == 0 || num_apps > 16 {
            return err(format!("num_apps {num_apps}"));
        }
        if lh_size < 20 + 16 * num_apps as usize {
            return err(format!(
                "load header size {lh_size:#x} too small for {num_apps} application(s)"
            ));
        }
        let apps = (0..num_apps as usize)
            .map(|i| {
                let a = |j: usize| l(5 + 4 * i + j, "app entry");
                Ok(HsApp {
                    offset: a(0)?,
                    size: a(1)?,
                    data_offset: a(2)?,
                    data_size: a(3)?,
                })
            })
            .collect::<Result<Vec<_>, ParseError>>()?;
        let b = BooterFile {
            blob: blob.to_vec(),
            bin,
            os_code_offset: l(0, "os_code_offset")?,
            os_code_size: l(1, "os_code_size")?,
            os_data_offset: l(2, "os_data_offset")?,
            os_data_size: l(3, "os_data_size")?,
            apps,
            patch_loc,
            patch_sig,
            fuse_ver,
            engine_id,
            ucode_id,
            signatures: Vec::new(),
        };
        // Segments inside the blob.
        b.imem_range()?;
        let data = b.dmem_range()?;
        let slot = range(
            patch_loc.into(),
            SIGNATURE_SIZE as u64,
            blob.len(),
            "signature slot",
        )?;
        if slot.start < data.start || slot.end > data.end {
            return err(format!(
                "signature slot {:#x} is outside the OS data segment [{:#x}, {:#x})",
                slot.start, data.start, data.end
            ));
        }
        // Signatures.
        if num_sig == 0 || sig_prod_size != num_sig.saturating_mul(SIGNATURE_SIZE as u32) {
            return err(format!(
                "{num_sig} signature(s) in {sig_prod_size:#x} bytes, expected {SIGNATURE_SIZE} each"
            ));
        }
        let sigs = range(
            u64::from(sig_prod_offset) + u64::from(patch_sig),
            sig_prod_size.into(),
            file.len(),
            "signatures",
        )?;
        let signatures = file[sigs]
            .chunks_exact(SIGNATURE_SIZE)
            .map(<[u8]>::to_vec)
            .collect();
        if u16::try_from(engine_id).is_err() || !(1..=16).contains(&ucode_id) {
            return err(format!("engine_id {engine_id:#x} / ucode_id {ucode_id}"));
        }
        Ok(BooterFile { signatures, ..b })
    }

    /// The blob range a GA102 loader puts in secure IMEM at 0: application 0's code (docs/facts/ga102.md §6.4).
    pub fn imem_range(&self) -> Result<Range<usize>, ParseError> {
        let a = self
            .apps
            .first()
            .ok_or(ParseError("no application".into()))?;
        range(
            a.offset.into(),
            a.size.into(),
            self.blob.len(),
            "app 0 code",
        )
    }

    /// The blob range a GA102 loader puts in DMEM at 0: the OS data segment (docs/facts/ga102.md §6.4).
    pub fn dmem_range(&self) -> Result<Range<usize>, ParseError> {
        range(
            self.os_data_offset.into(),
            self.os_data_size.into(),
            self.blob.len(),
            "OS data",
        )
    }

    /// The IMEM image (application 0's code). Empty if the header was inconsistent (cannot
    /// happen for a parsed file).
    pub fn imem_image(&self) -> &[u8] {
        self.imem_range()
            .ok()
            .and_then(|r| self.blob.get(r))
            .unwrap_or(&[])
    }

    /// The DMEM image (OS data, signature slot as shipped).
    pub fn dmem_image(&self) -> &[u8] {
        self.dmem_range()
            .ok()
            .and_then(|r| self.blob.get(r))
            .unwrap_or(&[])
    }

    /// DMEM offset of the signature slot: `*patch_loc - os_data_offset` (docs/facts/ga102.md §5.5), the value
    /// for `BROM_PARAADDR(0)`.
    pub fn signature_dmem_offset(&self) -> u32 {
        self.patch_loc.saturating_sub(self.os_data_offset)
    }

    /// The boot vector: application 0's offset (docs/facts/ga102.md §6.4, §7.4 step 10).
    pub fn boot_vector(&self) -> u32 {
        self.apps.first().map_or(0, |a| a.offset)
    }
}

/// `RM_RISCV_UCODE_DESC` (docs/facts/ga102.md §6.5), 21 u32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiscvUcodeDesc {
    /// version.
    pub version: u32,
    /// bootloaderOffset.
    pub bootloader_offset: u32,
    /// bootloaderSize.
    pub bootloader_size: u32,
    /// bootloaderParamOffset.
    pub bootloader_param_offset: u32,
    /// bootloaderParamSize.
    pub bootloader_param_size: u32,
    /// riscvElfOffset.
    pub riscv_elf_offset: u32,
    /// riscvElfSize.
    pub riscv_elf_size: u32,
    /// appVersion (what the driver writes to the GSP falcon's OS register).
    pub app_version: u32,
    /// manifestOffset.
    pub manifest_offset: u32,
    /// manifestSize.
    pub manifest_size: u32,
    /// monitorDataOffset.
    pub monitor_data_offset: u32,
    /// monitorDataSize.
    pub monitor_data_size: u32,
    /// monitorCodeOffset.
    pub monitor_code_offset: u32,
    /// monitorCodeSize.
    pub monitor_code_size: u32,
    /// bIsMonitorEnabled.
    pub is_monitor_enabled: u32,
    /// swbromCodeOffset.
    pub swbrom_code_offset: u32,
    /// swbromCodeSize.
    pub swbrom_code_size: u32,
    /// swbromDataOffset.
    pub swbrom_data_offset: u32,
    /// swbromDataSize.
    pub swbrom_data_size: u32,
    /// fbReservedSize.
    pub fb_reserved_size: u32,
    /// bSignedAsCode.
    pub signed_as_code: u32,
}

/// `bootloader-570.144.bin`: bin header, `RM_RISCV_UCODE_DESC`, payload (docs/facts/ga102.md §6.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootloaderFile {
    /// The descriptor.
    pub desc: RiscvUcodeDesc,
    /// The payload: the whole blob, what the driver copies to sysmem.
    pub payload: Vec<u8>,
}

impl BootloaderFile {
    /// Reads the bootloader file.
    pub fn parse(file: &[u8]) -> Result<Self, ParseError> {
        let bin = BinHdr::parse(file)?;
        let d = bin.header_offset as usize;
        let mut v = [0u32; 21];
        for (i, x) in v.iter_mut().enumerate() {
            *x = u32_at(file, d.saturating_add(4 * i), "RM_RISCV_UCODE_DESC")?;
        }
        let desc = RiscvUcodeDesc {
            version: v[0],
            bootloader_offset: v[1],
            bootloader_size: v[2],
            bootloader_param_offset: v[3],
            bootloader_param_size: v[4],
            riscv_elf_offset: v[5],
            riscv_elf_size: v[6],
            app_version: v[7],
            manifest_offset: v[8],
            manifest_size: v[9],
            monitor_data_offset: v[10],
            monitor_data_size: v[11],
            monitor_code_offset: v[12],
            monitor_code_size: v[13],
            is_monitor_enabled: v[14],
            swbrom_code_offset: v[15],
            swbrom_code_size: v[16],
            swbrom_data_offset: v[17],
            swbrom_data_size: v[18],
            fb_reserved_size: v[19],
            signed_as_code: v[20],
        };
        let payload = file[bin.blob_range(file.len())?].to_vec();
        for (what, off, size) in [
            (
                "monitor code",
                desc.monitor_code_offset,
                desc.monitor_code_size,
            ),
            (
                "monitor data",
                desc.monitor_data_offset,
                desc.monitor_data_size,
            ),
            ("manifest", desc.manifest_offset, desc.manifest_size),
        ] {
            range(off.into(), size.into(), payload.len(), what)?;
        }
        Ok(BootloaderFile { desc, payload })
    }
}

/// `gsp-570.144.bin`: the ELF container, kept whole, with the two sections Booter needs.
pub struct GspElf {
    file: Vec<u8>,
    fwimage: Range<usize>,
    signature: Range<usize>,
    signature_section: String,
}

impl fmt::Debug for GspElf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GspElf")
            .field("len", &self.file.len())
            .field("fwimage", &self.fwimage)
            .field("signature_section", &self.signature_section)
            .field("signature", &self.signature)
            .finish()
    }
}

/// ELF64 header and section-header field offsets (Linux `include/uapi/linux/elf.h`).
mod elf {
    pub const CLASS: usize = 4;
    pub const DATA: usize = 5;
    pub const MACHINE: usize = 0x12;
    pub const SHOFF: usize = 0x28;
    pub const SHENTSIZE: usize = 0x3a;
    pub const SHNUM: usize = 0x3c;
    pub const SHSTRNDX: usize = 0x3e;
    pub const SH_NAME: usize = 0;
    pub const SH_OFFSET: usize = 0x18;
    pub const SH_SIZE: usize = 0x20;
    pub const SHDR_SIZE: usize = 0x40;
    pub const ELFCLASS64: u8 = 2;
    pub const ELFDATA2LSB: u8 = 1;
    pub const EM_RISCV: u16 = 0xf3;
}

impl GspElf {
    /// Reads the section table of `file` and finds `.fwimage` and `signature_section`.
    pub fn parse(file: Vec<u8>, signature_section: &str) -> Result<Self, ParseError> {
        if file.get(..4) != Some(b"\x7fELF".as_slice()) {
            return err("no ELF magic");
        }
        if file.get(elf::CLASS) != Some(&elf::ELFCLASS64)
            || file.get(elf::DATA) != Some(&elf::ELFDATA2LSB)
        {
            return err("not ELF64 little-endian");
        }
        let machine = u16_at(&file, elf::MACHINE, "e_machine")?;
        if machine != elf::EM_RISCV {
            return err(format!("e_machine {machine:#x}, expected RISC-V (0xf3)"));
        }
        let shoff = u64_at(&file, elf::SHOFF, "e_shoff")?;
        let shentsize = usize::from(u16_at(&file, elf::SHENTSIZE, "e_shentsize")?);
        let shnum = usize::from(u16_at(&file, elf::SHNUM, "e_shnum")?);
        let shstrndx = usize::from(u16_at(&file, elf::SHSTRNDX, "e_shstrndx")?);
        if shentsize < elf::SHDR_SIZE {
            return err(format!("e_shentsize {shentsize}"));
        }
        let table = range(
            shoff,
            (shentsize * shnum) as u64,
            file.len(),
            "section headers",
        )?;
        let section = |i: usize| -> Result<(u32, Range<usize>), ParseError> {
            let h = table.start + i * shentsize;
            let name = u32_at(&file, h + elf::SH_NAME, "sh_name")?;
            let off = u64_at(&file, h + elf::SH_OFFSET, "sh_offset")?;
            let size = u64_at(&file, h + elf::SH_SIZE, "sh_size")?;
            Ok((name, range(off, size, file.len(), "section")?))
        };
        if shstrndx >= shnum {
            return err(format!("e_shstrndx {shstrndx} >= e_shnum {shnum}"));
        }
        let strtab = section(shstrndx)?.1;
        let name_of = |n: u32| -> &[u8] {
            let s = file
                .get(strtab.start + n as usize..strtab.end)
                .unwrap_or(&[]);
            let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
            &s[..end]
        };
        let find = |want: &str| -> Result<Range<usize>, ParseError> {
            for i in 0..shnum {
                let (n, r) = section(i)?;
                if name_of(n) == want.as_bytes() {
                    return Ok(r);
                }
            }
            err(format!("no section {want}"))
        };
        let fwimage = find(".fwimage")?;
        let signature = find(signature_section)?;
        Ok(GspElf {
            file,
            fwimage,
            signature,
            signature_section: signature_section.to_string(),
        })
    }

    /// `.fwimage`: the LIBOS image the radix3 table maps (docs/facts/ga102.md §6.6, §6.7).
    pub fn fwimage(&self) -> &[u8] {
        self.file.get(self.fwimage.clone()).unwrap_or(&[])
    }

    /// The chip's signature section (`.fwsignature_ga10x` on GA102).
    pub fn signature(&self) -> &[u8] {
        self.file.get(self.signature.clone()).unwrap_or(&[])
    }

    /// The signature section's name.
    pub fn signature_section(&self) -> &str {
        &self.signature_section
    }
}

/// The four GSP boot files of one chip, read and checked at start-up.
pub struct GspFirmware {
    /// The directory they came from.
    pub dir: PathBuf,
    /// `booter_load-570.144.bin`.
    pub booter_load: BooterFile,
    /// `booter_unload-570.144.bin`.
    pub booter_unload: BooterFile,
    /// `bootloader-570.144.bin`.
    pub bootloader: BootloaderFile,
    /// `gsp-570.144.bin`.
    pub gsp: GspElf,
}

impl fmt::Debug for GspFirmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GspFirmware")
            .field("dir", &self.dir)
            .field("booter_load", &self.booter_load.blob.len())
            .field("booter_unload", &self.booter_unload.blob.len())
            .field("bootloader", &self.bootloader.payload.len())
            .field("gsp", &self.gsp)
            .finish()
    }
}

/// A firmware file that could not be used at start-up.
#[derive(Debug)]
pub struct FirmwareError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: FirmwareErrorKind,
}

/// Why a firmware file could not be used.
#[derive(Debug)]
pub enum FirmwareErrorKind {
    /// It could not be read (missing, unreadable).
    Io(std::io::Error),
    /// It is not in the expected format.
    Format(ParseError),
}

impl fmt::Display for FirmwareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FirmwareErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound => write!(
                f,
                "missing firmware file {} (run `make setup`, or point --firmware-dir / \
                 VGPU_FIRMWARE_DIR at a linux-firmware tree)",
                self.path.display()
            ),
            FirmwareErrorKind::Io(e) => {
                write!(f, "cannot read firmware file {}: {e}", self.path.display())
            }
            FirmwareErrorKind::Format(e) => {
                write!(f, "firmware file {}: {e}", self.path.display())
            }
        }
    }
}

impl std::error::Error for FirmwareError {}

/// `$NOVA_CACHE/firmware/lib/firmware`, with `NOVA_CACHE` defaulting to `$HOME/.cache/nova`.
pub fn default_dir() -> PathBuf {
    let cache = match std::env::var_os("NOVA_CACHE") {
        Some(c) if !c.is_empty() => PathBuf::from(c),
        _ => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/nova")
        }
    };
    cache.join("firmware/lib/firmware")
}

/// `dir/nvidia/<chip>/gsp/<name>-570.144.bin`.
pub fn file_path(dir: &Path, chip: &str, name: &str) -> PathBuf {
    dir.join("nvidia")
        .join(chip)
        .join("gsp")
        .join(format!("{name}-{GSP_FW_VERSION}.bin"))
}

impl GspFirmware {
    /// Reads and checks the four files of `chip` under `dir`; `signature_section` is the ELF
    /// section with this chip's GSP-RM signature.
    pub fn load(dir: &Path, chip: &str, signature_section: &str) -> Result<Self, FirmwareError> {
        fn read<T>(
            path: PathBuf,
            parse: impl FnOnce(Vec<u8>) -> Result<T, ParseError>,
        ) -> Result<T, FirmwareError> {
            let bytes = std::fs::read(&path).map_err(|e| FirmwareError {
                path: path.clone(),
                kind: FirmwareErrorKind::Io(e),
            })?;
            parse(bytes).map_err(|e| FirmwareError {
                path,
                kind: FirmwareErrorKind::Format(e),
            })
        }
        let p = |name| file_path(dir, chip, name);
        Ok(GspFirmware {
            dir: dir.to_path_buf(),
            booter_load: read(p("booter_load"), |b| BooterFile::parse(&b))?,
            booter_unload: read(p("booter_unload"), |b| BooterFile::parse(&b))?,
            bootloader: read(p("bootloader"), |b| BootloaderFile::parse(&b))?,
            gsp: read(p("gsp"), |b| GspElf::parse(b, signature_section))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real 570.144 GA102 file (from `VGPU_FIRMWARE_DIR` if set, as the binary would);
    /// its size must be the fact sheet's (docs/facts/ga102.md §6.1).
    fn real(name: &str) -> Vec<u8> {
        let dir = match std::env::var_os("VGPU_FIRMWARE_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => default_dir(),
        };
        let p = file_path(&dir, "ga102", name);
        let f = std::fs::read(&p).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; the real firmware files are required: run `make setup`",
                p.display()
            )
        });
        let want = match name {
            "booter_load" => 61304,
            "booter_unload" => 41080,
            "bootloader" => 24684,
            _ => 63571696,
        };
        assert_eq!(
            f.len(),
            want,
            "{} is not the file of docs/facts/ga102.md §6.1 (damaged?): run `make setup`",
            p.display()
        );
        f
    }

    #[test]
    fn booter_files_read_as_the_fact_sheet_says() {
        // Facts §6.2-6.4.
        for (name, size, data, sig_at) in [
            ("booter_load", 0xec00, (0x8a00, 0x6200), 0x8a10),
            ("booter_unload", 0x9d00, (0x5000, 0x4d00), 0x5010),
        ] {
            let f = real(name);
            let b = BooterFile::parse(&f).unwrap();
            assert_eq!(b.bin.data_offset, 0x378, "{name}");
            assert_eq!(b.blob.len(), size);
            assert_eq!((b.os_code_offset, b.os_code_size), (0, 0x100));
            assert_eq!((b.os_data_offset, b.os_data_size), data);
            assert_eq!(b.apps.len(), 1);
            assert_eq!(b.apps[0].offset, 0x100);
            assert_eq!(b.apps[0].size, data.0 - 0x100);
            assert_eq!(b.patch_loc, sig_at);
            assert_eq!(b.patch_sig, 0);
            assert_eq!((b.fuse_ver, b.engine_id, b.ucode_id), (1, 1, 3));
            assert_eq!(b.signatures.len(), 2);
            assert_eq!(b.signature_dmem_offset(), 0x10);
            assert_eq!(b.boot_vector(), 0x100);
            assert_eq!(b.imem_image().len(), b.apps[0].size as usize);
            assert_eq!(b.dmem_image().len(), data.1 as usize);
            // The signature GA10x ships as index 1 is all zeros; index 0 is a real one.
            assert!(b.signatures[1].iter().all(|&x| x == 0));
            assert!(b.signatures[0].iter().any(|&x| x != 0));
        }
    }

    #[test]
    fn bootloader_and_gsp_read_as_the_fact_sheet_says() {
        let b = BootloaderFile::parse(&real("bootloader")).unwrap();
        assert_eq!(b.payload.len(), 0x6000);
        let d = b.desc;
        assert_eq!(d.version, 5);
        assert_eq!(
            (d.monitor_code_offset, d.monitor_code_size),
            (0x1800, 0x2900)
        );
        assert_eq!(
            (d.monitor_data_offset, d.monitor_data_size),
            (0x800, 0x1000)
        );
        assert_eq!((d.manifest_offset, d.manifest_size), (0, 0x800));
        assert_eq!(d.app_version, 0);
        assert_eq!(d.fb_reserved_size, 0x6000);

        let g = GspElf::parse(real("gsp"), ".fwsignature_ga10x").unwrap();
        assert_eq!(g.fwimage.start, 0x40);
        assert_eq!(g.fwimage().len(), 0x3c99000);
        assert_eq!(g.signature.start, 0x3c9f06c);
        assert_eq!(g.signature().len(), 0x1000);
        assert!(GspElf::parse(real("gsp"), ".fwsignature_zz99").is_err());
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        for name in ["booter_load", "booter_unload"] {
            let f = real(name);
            // Every truncation of the headers and the whole file.
            for cut in (0..0x400).chain([f.len() - 1]) {
                assert!(
                    BooterFile::parse(&f[..cut]).is_err(),
                    "{name} cut at {cut:#x}"
                );
            }
            // Every header word set to a huge value.
            for w in (0..0x378).step_by(4) {
                let mut g = f.clone();
                g[w..w + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
                let _ = BooterFile::parse(&g);
            }
        }
        let f = real("bootloader");
        for cut in 0..0x70 {
            assert!(BootloaderFile::parse(&f[..cut]).is_err());
        }
        for w in (0..0x6c).step_by(4) {
            let mut g = f.clone();
            g[w..w + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
            let _ = BootloaderFile::parse(&g);
        }
        // A tiny ELF: headers only, with wild section-table values.
        let mut e = vec![0u8; 0x40];
        e[..4].copy_from_slice(b"\x7fELF");
        e[4] = 2;
        e[5] = 1;
        e[0x12] = 0xf3;
        assert!(GspElf::parse(e.clone(), ".fwsignature_ga10x").is_err());
        for (at, v) in [(0x28usize, u64::MAX), (0x28, 0x30)] {
            let mut g = e.clone();
            g[at..at + 8].copy_from_slice(&v.to_le_bytes());
            g[0x3a] = 0x40;
            g[0x3c] = 0xff;
            g[0x3e] = 0xfe;
            assert!(GspElf::parse(g, ".fwimage").is_err());
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = Path::new("/nonexistent/vgpu-firmware");
        let e = GspFirmware::load(dir, "ga102", ".fwsignature_ga10x").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("/nonexistent/vgpu-firmware/nvidia/ga102/gsp/booter_load-570.144.bin"),
            "{msg}"
        );
        assert!(msg.contains("make setup"), "{msg}");
    }
}
