// SPDX-License-Identifier: GPL-2.0
//! The boot ROM model: what a started falcon runs.
//!
//! A real falcon's boot ROM verifies a heavy-secure (HS) image against the signature the driver
//! points it at (`BROM_PARAADDR(0)`, docs/facts/ga102.md §5.4 load step 5; `Documentation/gpu/nova/core/
//! falcon.rst` "Root of trust establishment") and runs it only if the check passes. The model
//! has no falcon instruction set: it recognises the images it knows byte for byte — the VBIOS
//! FWSEC ucodes built by `nova-firmware`, taken from the intact image of the same build
//! configuration, and the Booter ucodes of the configured firmware files
//! ([`crate::firmware`]) — and runs the behaviour of the one it found ([`super::fwsec`],
//! [`super::booter`]).
//!
//! Rules, in order (each failure halts the falcon at once with the code in MAILBOX0):
//! 1. The falcon core must be selected (`RISCV_BCR_CTRL.CORE_SELECT` = falcon), else
//!    [`ERR_CORE_SELECT`] (the RISC-V core is started another way, not modelled).
//! 2. A DMA error since the last reset: [`ERR_DMA`].
//! 3. Nothing written to IMEM or DMEM since the last reset/scrub: the falcon halts and leaves the
//!    mailboxes as the driver wrote them (there is no code that could report anything).
//! 4. `MOD_SEL.ALGO` must be RSA3K (1): else [`ERR_MOD_SEL`].
//! 5. IMEM and DMEM must hold a known ucode where its loader puts it, ignoring only the bytes a
//!    driver patches (docs/facts/ga102.md §4.5, §5.5). FWSEC: IMEM at IMEMPhysBase, DMEM at DMEMPhysBase;
//!    patchable are the 384-byte signature slot at PKCDataOffset, `init_cmd` in the DMEM mapper
//!    and the command-in buffer. Booter (docs/facts/ga102.md §6.3, §6.4): IMEM at 0 holds application 0's
//!    code (`blob[app[0].offset .. + app[0].size]`), DMEM at 0 the OS data segment
//!    (`blob[os_data_offset .. + os_data_size]`); patchable is only the signature slot at
//!    DMEM `*patch_loc - os_data_offset`. The non-secure OS code segment is not part of a GA102
//!    load (docs/facts/ga102.md §6.4), so IMEM beyond application 0 is not looked at. Else
//!    [`ERR_UNKNOWN_IMAGE`] (this covers partial and truncated loads, and images read from a
//!    damaged ROM).
//! 6. Every IMEM block of the image must come from a secure DMA load (DMATRFCMD SEC set), else
//!    [`ERR_IMEM_NOT_SECURE`] (docs/facts/ga102.md §5.4: no PIO path for HS images on GA102).
//! 7. `BROM_ENGIDMASK` and `BROM_CURR_UCODE_ID` must equal the descriptor's EngineIdMask and
//!    UcodeId, else [`ERR_BROM_PARAMS`].
//! 8. The descriptor's EngineIdMask must include this engine (GSP bit 10, SEC2 bit 0; facts
//!    §5.3), else [`ERR_WRONG_ENGINE`]: the FWSEC (EngineIdMask 0x400) halts this way on SEC2,
//!    Booter (EngineIdMask 0x1) on the GSP.
//! 9. The 384 bytes at DMEM `BROM_PARAADDR(0)` must be the signature the fuse rule of docs/facts/ga102.md §5.5
//!    selects for this chip, and not all zeros (no RSA signature is). `reg` = the engine's
//!    `UCODE<UcodeId>_VERSION` fuse, `v` = 1-based position of its highest set bit (0 for 0).
//!    FWSEC: bit v of SignatureVersions must be set, index =
//!    popcount(SignatureVersions & ((1 << v) - 1)). Booter: reg = 0 selects the last
//!    signature, else index = fuse_ver - v (docs/facts/ga102.md §5.5 "Booter load/unload"; "highest-set-bit
//!    position" read as the same 1-based position as the FWSEC row, which is also what makes
//!    reg = 0 give fuse_ver - 0 = the last of the 570.144 files' two signatures). Else
//!    [`ERR_BAD_SIGNATURE`]; the debug FWSEC is rejected here with [`ERR_DEBUG_SIGNED`] (a
//!    production chip does not accept debug-signed ucode).
//! 10. `BOOTVEC` must be the image's entry point, else [`ERR_BOOTVEC`]: 0 for FWSEC (facts
//!     §4.4), application 0's offset for Booter (0x100; docs/facts/ga102.md §6.4, §7.4 step 10).
//!
//! Error codes are the model's own (the real boot ROM's are not in the facts); they all read
//! 0xBAD0_00xx so they cannot be mistaken for success (0).

use super::mem::Memory;
use crate::chip::UcodeFuses;
use crate::firmware::{BooterFile, GspFirmware};
use nova_firmware::format::{desc, dmap, SIGNATURE_SIZE};
use nova_firmware::{FwsecLayout, VbiosLayout};

/// The loaded image is none the boot ROM knows (or it was loaded incompletely).
pub const ERR_UNKNOWN_IMAGE: u32 = 0xbad0_0001;
/// The signature at `BROM_PARAADDR(0)` is not the one this chip's fuses select.
pub const ERR_BAD_SIGNATURE: u32 = 0xbad0_0002;
/// `MOD_SEL.ALGO` is not RSA3K.
pub const ERR_MOD_SEL: u32 = 0xbad0_0003;
/// `BROM_ENGIDMASK` or `BROM_CURR_UCODE_ID` does not match the descriptor.
pub const ERR_BROM_PARAMS: u32 = 0xbad0_0004;
/// The image is not meant for this engine.
pub const ERR_WRONG_ENGINE: u32 = 0xbad0_0005;
/// Some IMEM block of the image was not loaded by secure DMA.
pub const ERR_IMEM_NOT_SECURE: u32 = 0xbad0_0006;
/// `BOOTVEC` is not the image's entry point.
pub const ERR_BOOTVEC: u32 = 0xbad0_0007;
/// A debug-signed ucode on this production chip.
pub const ERR_DEBUG_SIGNED: u32 = 0xbad0_0008;
/// STARTCPU while the RISC-V core is selected.
pub const ERR_CORE_SELECT: u32 = 0xbad0_0009;
/// A DMA transfer failed since the last reset (also written when the transfer fails).
pub const ERR_DMA: u32 = 0xbad0_000d;

/// Which known ucode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ucode {
    /// The production FWSEC (falcon ucode table application 0x85).
    FwsecProd,
    /// The debug FWSEC (application 0x45).
    FwsecDebug,
    /// `booter_load-570.144.bin`.
    BooterLoad,
    /// `booter_unload-570.144.bin`.
    BooterUnload,
}

/// How an image's signature index follows from the fuse (docs/facts/ga102.md §5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigRule {
    /// FWSEC descriptor v3: by SignatureVersions.
    Versions(u16),
    /// HS header v2 (Booter): by the metadata's fuse_ver.
    FuseVer(u32),
}

/// A ucode as signed: its descriptor fields and intact IMEM/DMEM images.
#[derive(Clone, Debug)]
pub struct KnownUcode {
    /// Which one.
    pub which: Ucode,
    /// IMEM image.
    pub imem: Vec<u8>,
    /// DMEM image.
    pub dmem: Vec<u8>,
    /// IMEMPhysBase.
    pub imem_base: usize,
    /// DMEMPhysBase.
    pub dmem_base: usize,
    /// PKCDataOffset (DMEM offset of the signature slot).
    pub pkc_data_offset: usize,
    /// InterfaceOffset (DMEM offset of the application-interface table).
    pub interface_offset: usize,
    /// EngineIdMask.
    pub engine_id_mask: u16,
    /// UcodeId.
    pub ucode_id: u8,
    /// How the fuses select a signature.
    pub rule: SigRule,
    /// The entry point `BOOTVEC` must hold.
    pub entry: u32,
    /// The signatures, in ROM (or file) order.
    pub signatures: Vec<Vec<u8>>,
    /// DMEM ranges a driver may change without breaking the signature (signature slot,
    /// `init_cmd`, command-in buffer).
    pub patchable: Vec<std::ops::Range<usize>>,
}

fn rd32(rom: &[u8], at: usize) -> Option<u32> {
    let b = rom.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn rd16(rom: &[u8], at: usize) -> Option<u16> {
    let b = rom.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

impl KnownUcode {
    /// Reads the ucode described at `l` from the intact `rom` (descriptor fields per docs/facts/ga102.md §4.4).
    pub fn from_rom(which: Ucode, rom: &[u8], l: &FwsecLayout) -> Option<Self> {
        let d = l.desc;
        let field = |o: usize| rd32(rom, d + o).map(|v| v as usize);
        let imem_size = field(desc::IMEM_LOAD_SIZE)?;
        let dmem_size = field(desc::DMEM_LOAD_SIZE)?;
        let pkc = field(desc::PKC_DATA_OFFSET)?;
        let signatures = (0..l.signature_count)
            .map(|i| rom.get(l.signature_range(i)?).map(<[u8]>::to_vec))
            .collect::<Option<Vec<_>>>()?;
        let init_cmd = l.dmem_mapper_offset + dmap::INIT_CMD;
        Some(KnownUcode {
            which,
            imem: rom.get(l.imem..l.imem.checked_add(imem_size)?)?.to_vec(),
            dmem: rom.get(l.dmem..l.dmem.checked_add(dmem_size)?)?.to_vec(),
            imem_base: field(desc::IMEM_PHYS_BASE)?,
            dmem_base: field(desc::DMEM_PHYS_BASE)?,
            pkc_data_offset: pkc,
            interface_offset: field(desc::INTERFACE_OFFSET)?,
            engine_id_mask: rd16(rom, d + desc::ENGINE_ID_MASK)?,
            ucode_id: *rom.get(d + desc::UCODE_ID)?,
            rule: SigRule::Versions(rd16(rom, d + desc::SIGNATURE_VERSIONS)?),
            entry: 0,
            signatures,
            patchable: vec![
                pkc..pkc + SIGNATURE_SIZE,
                init_cmd..init_cmd + 4,
                l.cmd_in_offset..l.cmd_in_offset + l.cmd_in_size,
            ],
        })
    }

    /// A Booter ucode as a GA102 loader places it (docs/facts/ga102.md §6.4): IMEM 0 = application 0's code,
    /// DMEM 0 = the OS data segment, signature slot at `*patch_loc - os_data_offset`.
    pub fn from_booter(which: Ucode, b: &BooterFile) -> Self {
        let pkc = b.signature_dmem_offset() as usize;
        KnownUcode {
            which,
            imem: b.imem_image().to_vec(),
            dmem: b.dmem_image().to_vec(),
            imem_base: 0,
            dmem_base: 0,
            pkc_data_offset: pkc,
            interface_offset: 0,
            engine_id_mask: b.engine_id as u16,
            ucode_id: b.ucode_id as u8,
            rule: SigRule::FuseVer(b.fuse_ver),
            entry: b.boot_vector(),
            signatures: b.signatures.clone(),
            patchable: std::iter::once(pkc..pkc + SIGNATURE_SIZE).collect(),
        }
    }

    /// The signature index this chip's `fuses` select, if the image has one for them.
    pub fn signature_index(&self, fuses: &UcodeFuses) -> Option<usize> {
        let fuse = fuse_for(fuses, self.engine_id_mask, self.ucode_id)?;
        match self.rule {
            SigRule::Versions(v) => signature_index(fuse, v),
            SigRule::FuseVer(f) => booter_signature_index(fuse, f, self.signatures.len()),
        }
        .filter(|&i| i < self.signatures.len())
    }

    /// Whether `imem`/`dmem` hold this ucode (patchable DMEM bytes excepted).
    fn loaded_in(&self, imem: &Memory, dmem: &Memory) -> bool {
        let Some(i) = imem.get(self.imem_base, self.imem.len()) else {
            return false;
        };
        let Some(d) = dmem.get(self.dmem_base, self.dmem.len()) else {
            return false;
        };
        if i != self.imem.as_slice() {
            return false;
        }
        let mut at = 0;
        let mut ranges = self.patchable.clone();
        ranges.sort_by_key(|r| r.start);
        for r in ranges {
            let start = r.start.min(d.len());
            if at < start && d.get(at..start) != self.dmem.get(at..start) {
                return false;
            }
            at = at.max(r.end.min(d.len()));
        }
        d.get(at..) == self.dmem.get(at..)
    }
}

/// The ucodes the boot ROM can verify.
#[derive(Clone, Debug, Default)]
pub struct KnownImages {
    /// Known ucodes.
    pub ucodes: Vec<KnownUcode>,
}

impl KnownImages {
    /// The FWSEC ucodes of an intact VBIOS `rom` laid out as `layout`.
    pub fn from_vbios(rom: &[u8], layout: &VbiosLayout) -> Self {
        let ucodes = [
            (Ucode::FwsecProd, &layout.fwsec_prod),
            (Ucode::FwsecDebug, &layout.fwsec_debug),
        ]
        .into_iter()
        .filter_map(|(w, l)| KnownUcode::from_rom(w, rom, l))
        .collect();
        KnownImages { ucodes }
    }

    /// Adds the Booter ucodes of `fw`.
    pub fn with_booters(mut self, fw: &GspFirmware) -> Self {
        self.ucodes
            .push(KnownUcode::from_booter(Ucode::BooterLoad, &fw.booter_load));
        self.ucodes.push(KnownUcode::from_booter(
            Ucode::BooterUnload,
            &fw.booter_unload,
        ));
        self
    }

    /// The production FWSEC, if known.
    pub fn fwsec(&self) -> Option<&KnownUcode> {
        self.get(Ucode::FwsecProd)
    }

    /// A known ucode.
    pub fn get(&self, which: Ucode) -> Option<&KnownUcode> {
        self.ucodes.iter().find(|u| u.which == which)
    }
}

/// What the boot ROM sees when the CPU is started.
pub struct BootState<'a> {
    /// This engine's EngineIdMask bit (GSP 0x400, SEC2 0x1).
    pub engine_bit: u16,
    /// IMEM.
    pub imem: &'a Memory,
    /// DMEM.
    pub dmem: &'a Memory,
    /// `MOD_SEL`.
    pub mod_sel: u32,
    /// `BROM_CURR_UCODE_ID`.
    pub ucode_id: u32,
    /// `BROM_ENGIDMASK`.
    pub engidmask: u32,
    /// `BROM_PARAADDR(0)`.
    pub paraaddr0: u32,
    /// `BOOTVEC`.
    pub bootvec: u32,
    /// `RISCV_BCR_CTRL.CORE_SELECT` is RISC-V.
    pub riscv_selected: bool,
    /// A DMA error happened since the last reset.
    pub dma_error: bool,
    /// The chip's ucode revision fuses.
    pub fuses: &'a UcodeFuses,
}

/// The boot ROM's decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Run this ucode.
    Run(Ucode),
    /// Nothing was loaded: halt without touching the mailboxes.
    Empty,
    /// Halt with this code in MAILBOX0; the text says why (for the trace).
    Reject(u32, String),
}

/// The signature index the fuse rule of docs/facts/ga102.md §5.5 picks, if SignatureVersions has one.
pub fn signature_index(fuse: u32, versions: u16) -> Option<usize> {
    let v = 32 - fuse.leading_zeros();
    if v >= 16 || versions & (1 << v) == 0 {
        return None;
    }
    Some((versions & ((1u16 << v) - 1)).count_ones() as usize)
}

/// The Booter signature index (docs/facts/ga102.md §5.5): fuse 0 selects the last of `count` signatures,
/// else index = `fuse_ver` - v with v the 1-based position of the fuse's highest set bit; None
/// if that is negative or past the signatures.
pub fn booter_signature_index(fuse: u32, fuse_ver: u32, count: usize) -> Option<usize> {
    if fuse == 0 {
        return count.checked_sub(1);
    }
    let v = 32 - fuse.leading_zeros();
    let i = fuse_ver.checked_sub(v)? as usize;
    (i < count).then_some(i)
}

/// The fuse register for a ucode (docs/facts/ga102.md §5.3): by the descriptor's EngineIdMask (SEC2 bit 0,
/// NVDEC bit 2, GSP bit 10) and UcodeId 1..16 (register index UcodeId - 1).
pub fn fuse_for(fuses: &UcodeFuses, engine_id_mask: u16, ucode_id: u8) -> Option<u32> {
    let i = usize::from(ucode_id).checked_sub(1)?;
    let table = if engine_id_mask & 0x0001 != 0 {
        &fuses.sec2
    } else if engine_id_mask & 0x0004 != 0 {
        &fuses.nvdec
    } else if engine_id_mask & 0x0400 != 0 {
        &fuses.gsp
    } else {
        return None;
    };
    table.get(i).copied()
}

/// Decides what a started falcon runs (the rules in the module documentation).
pub fn verify(known: &KnownImages, s: &BootState<'_>) -> Verdict {
    let reject = |code, why: &str| Verdict::Reject(code, why.to_string());
    if s.riscv_selected {
        return reject(ERR_CORE_SELECT, "RISC-V core selected");
    }
    if s.dma_error {
        return reject(ERR_DMA, "DMA error during the load");
    }
    if !s.imem.written() && !s.dmem.written() {
        return Verdict::Empty;
    }
    if s.mod_sel & super::regs::MOD_SEL_ALGO != super::regs::MOD_SEL_ALGO_RSA3K {
        return reject(ERR_MOD_SEL, "MOD_SEL is not RSA3K");
    }
    let Some(u) = known.ucodes.iter().find(|u| u.loaded_in(s.imem, s.dmem)) else {
        return reject(ERR_UNKNOWN_IMAGE, "IMEM/DMEM hold no known image");
    };
    if !s.imem.all_secure(u.imem_base, u.imem.len()) {
        return reject(ERR_IMEM_NOT_SECURE, "IMEM not loaded by secure DMA");
    }
    if s.engidmask != u32::from(u.engine_id_mask)
        || s.ucode_id & super::regs::UCODE_ID_VAL != u32::from(u.ucode_id)
    {
        return Verdict::Reject(
            ERR_BROM_PARAMS,
            format!(
                "ENGIDMASK {:#x} / UCODE_ID {} but the image says {:#x} / {}",
                s.engidmask, s.ucode_id, u.engine_id_mask, u.ucode_id
            ),
        );
    }
    if u.engine_id_mask & s.engine_bit == 0 {
        return Verdict::Reject(
            ERR_WRONG_ENGINE,
            format!("image for EngineIdMask {:#x}", u.engine_id_mask),
        );
    }
    let slot = s
        .dmem
        .get(s.paraaddr0 as usize, SIGNATURE_SIZE)
        .unwrap_or(&[]);
    if u.which == Ucode::FwsecDebug {
        return reject(ERR_DEBUG_SIGNED, "debug-signed FWSEC on a production chip");
    }
    let Some(idx) = u.signature_index(s.fuses) else {
        return reject(
            ERR_BAD_SIGNATURE,
            "no signature for this chip's fuse revision",
        );
    };
    if slot.iter().all(|&b| b == 0) {
        return Verdict::Reject(
            ERR_BAD_SIGNATURE,
            format!(
                "all-zero signature at DMEM {:#x} (the fuses select {idx})",
                s.paraaddr0
            ),
        );
    }
    if u.signatures.get(idx).map(Vec::as_slice) != Some(slot) {
        let why = match u.signatures.iter().position(|g| g.as_slice() == slot) {
            Some(other) => format!("signature {other} loaded, the fuses select {idx}"),
            None => format!("no valid signature at DMEM {:#x}", s.paraaddr0),
        };
        return Verdict::Reject(ERR_BAD_SIGNATURE, why);
    }
    if s.bootvec != u.entry {
        return Verdict::Reject(
            ERR_BOOTVEC,
            format!("BOOTVEC {:#x}, entry point {:#x}", s.bootvec, u.entry),
        );
    }
    Verdict::Run(u.which)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuse_rule_of_facts_5_5() {
        // SignatureVersions 0xB = versions 0, 1 and 3.
        assert_eq!(signature_index(0, 0xb), Some(0));
        assert_eq!(signature_index(1, 0xb), Some(1));
        assert_eq!(
            signature_index(0b11, 0xb),
            None,
            "v = 2 is not in the image"
        );
        assert_eq!(signature_index(0b100, 0xb), Some(2));
        assert_eq!(signature_index(0x8000, 0xffff), None, "v = 16");
        assert_eq!(signature_index(u32::MAX, 0xffff), None);
    }

    #[test]
    fn booter_fuse_rule_of_facts_5_5() {
        // fuse_ver 1, two signatures (the 570.144 files).
        assert_eq!(booter_signature_index(0, 1, 2), Some(1), "0: the last");
        assert_eq!(booter_signature_index(1, 1, 2), Some(0), "v = 1");
        assert_eq!(booter_signature_index(2, 1, 2), None, "v = 2 > fuse_ver");
        assert_eq!(booter_signature_index(u32::MAX, 1, 2), None);
        assert_eq!(booter_signature_index(1, 5, 2), None, "past the signatures");
        assert_eq!(booter_signature_index(0, 1, 0), None);
        assert_eq!(booter_signature_index(0b100, 3, 4), Some(0));
    }

    #[test]
    fn fuse_register_choice() {
        let mut f = UcodeFuses::default();
        f.gsp[8] = 7;
        f.sec2[2] = 3;
        f.nvdec[0] = 5;
        assert_eq!(fuse_for(&f, 0x400, 9), Some(7));
        assert_eq!(fuse_for(&f, 0x1, 3), Some(3));
        assert_eq!(fuse_for(&f, 0x4, 1), Some(5));
        assert_eq!(fuse_for(&f, 0x400, 0), None);
        assert_eq!(fuse_for(&f, 0x400, 17), None);
        assert_eq!(fuse_for(&f, 0x2, 1), None);
    }

    #[test]
    fn known_images_come_from_the_vbios() {
        let (rom, l) = nova_firmware::build_ga102_vbios_with_layout();
        let k = KnownImages::from_vbios(&rom, &l);
        assert_eq!(k.ucodes.len(), 2);
        let p = k.fwsec().unwrap();
        assert_eq!(p.imem.len(), l.fwsec_prod.imem_size);
        assert_eq!(p.dmem.len(), l.fwsec_prod.dmem_size);
        assert_eq!((p.engine_id_mask, p.ucode_id), (0x400, 9));
        assert_eq!(p.signatures.len(), 3);
        assert_eq!(&p.imem[..16], b"NOVA-VGPU-IMEM-P");
        // A truncated ROM yields no production ucode rather than a panic.
        let cut = KnownImages::from_vbios(&rom[..l.fwsec_prod.imem + 16], &l);
        assert!(cut.fwsec().is_none());
    }
}
