// SPDX-License-Identifier: GPL-2.0
//! What the VBIOS FWSEC does when the boot ROM accepted it (docs/facts/ga102.md §4.5, §3, §7.4 steps 7-8 and
//! unload step 3).
//!
//! FWSEC reads its own DMEM as the driver left it: the application-interface table at
//! InterfaceOffset (v1: u8 version, header size, entry size, entry count; entries u32 id, u32
//! dmem_base), the DMEMMAPPER entry (id 4), and in the DMEM mapper v3 ("DMAP") `init_cmd`
//! (+0x2C), the command-in buffer (+0x08 offset, +0x0C size) and the command masks (+0x34,
//! +0x38).
//!
//! - `init_cmd` 0x15, FRTS: the 44-byte command in the command-in buffer must read
//!   read_vbios {ver 1, hdr 24, ...} and frts_region {ver 1, hdr 20, addr, size, type 2 (FB)},
//!   with addr/size in 4 KiB units, size non-zero and the region inside VRAM. WPR2 becomes
//!   `[addr << 12, (addr + size) << 12)` (`NV_PFB_PRI_MMU_WPR2_ADDR_LO/HI`, docs/facts/ga102.md §3) and
//!   `SW_SCRATCH(0xE)[31:16]` = 0. If WPR2 is already set (HI != 0), FRTS fails with
//!   [`FRTS_ERR_WPR2_SET`] and WPR2 is left alone.
//! - `init_cmd` 0x19, SB: `SW_SCRATCH(0x15)[15:0]` = 0. The facts do not say SB reads its
//!   command buffer, so its contents are not checked.
//! - Any other command, or one not in the mapper's command mask: [`FWSEC_ERR_UNKNOWN_CMD`] in
//!   `SW_SCRATCH(0xE)[31:16]`.
//!
//! Failures go to the scratch register of the command (0xE bits 31:16 for FRTS and unknown
//! commands, 0x15 bits 15:0 for SB); the other bits of the scratch register are preserved.
//! MAILBOX0 reads 0 after every FWSEC run, success or not: the ucode itself ran to its end and
//! reports through scratch, which is what docs/facts/ga102.md §7.4 step 8 has the driver check. The error
//! values are the model's own (not in the facts). "Copy verified VBIOS data" into the FRTS
//! region is not modelled (VRAM contents are not).

use super::mem::Memory;
use crate::blocks::bus::{ScratchHandle, FRTS_ERROR, SB_ERROR};
use crate::blocks::fb::Wpr2Handle;
use nova_firmware::format::{appif, dmap, FRTS_CMD_SIZE};

/// FRTS/unknown: `init_cmd` is not a command this FWSEC supports.
pub const FWSEC_ERR_UNKNOWN_CMD: u16 = 0x0001;
/// FRTS: the read_vbios header is not {ver 1, hdr 24}.
pub const FRTS_ERR_READ_VBIOS: u16 = 0x0002;
/// FRTS: the frts_region header is not {ver 1, hdr 20} or its type is not 2 (FB).
pub const FRTS_ERR_REGION_HEADER: u16 = 0x0003;
/// FRTS: the region is empty or not inside VRAM.
pub const FRTS_ERR_REGION_RANGE: u16 = 0x0004;
/// FRTS: WPR2 is already set.
pub const FRTS_ERR_WPR2_SET: u16 = 0x0005;
/// The application-interface table or the DMEM mapper cannot be read.
pub const FWSEC_ERR_NO_MAPPER: u16 = 0x0006;
/// The `--fwsec-fail` fault knob.
pub const FWSEC_ERR_INJECTED: u16 = 0x00ff;

/// `init_cmd` FRTS (docs/facts/ga102.md §4.5).
pub const CMD_FRTS: u32 = dmap::CMD_FRTS;
/// `init_cmd` SB (docs/facts/ga102.md §4.5).
pub const CMD_SB: u32 = dmap::CMD_SB;

/// The FRTS command's constant fields (docs/facts/ga102.md §4.5).
const READ_VBIOS_VER: u32 = 1;
const READ_VBIOS_HDR: u32 = 24;
const FRTS_REGION_VER: u32 = 1;
const FRTS_REGION_HDR: u32 = 20;
const FRTS_REGION_TYPE_FB: u32 = 2;

/// What the run did, for the trace.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// FRTS carved WPR2 = [start, end).
    Frts {
        /// Start (inclusive).
        start: u64,
        /// End (exclusive).
        end: u64,
    },
    /// SB succeeded.
    Sb,
    /// Failed: the command, the scratch register written, its code, and why.
    Failed {
        /// `init_cmd`.
        cmd: u32,
        /// SW_SCRATCH index written.
        scratch: usize,
        /// Error code written.
        code: u16,
        /// Why.
        why: String,
    },
}

/// What FWSEC reaches.
pub struct Env<'a> {
    /// DMEM as loaded and patched.
    pub dmem: &'a Memory,
    /// DMEMPhysBase: where the DMEM image starts.
    pub dmem_base: usize,
    /// InterfaceOffset from the descriptor.
    pub interface_offset: usize,
    /// PBUS scratch.
    pub scratch: &'a ScratchHandle,
    /// WPR2.
    pub wpr2: &'a Wpr2Handle,
    /// VRAM size in bytes.
    pub vram_size: u64,
    /// `--fwsec-fail`.
    pub inject_failure: bool,
}

struct Mapper {
    init_cmd: u32,
    cmd_in: usize,
    cmd_in_size: usize,
    mask: u64,
}

fn find_mapper(e: &Env<'_>) -> Option<Mapper> {
    let t = e.dmem_base.checked_add(e.interface_offset)?;
    let hdr = e.dmem.get(t, 4)?;
    let (version, header_size, entry_size, count) = (hdr[0], hdr[1], hdr[2], hdr[3]);
    if version != appif::VERSION || entry_size < 8 {
        return None;
    }
    let base = (0..usize::from(count)).find_map(|i| {
        let at = t + usize::from(header_size) + i * usize::from(entry_size);
        (e.dmem.u32_at(at)? == appif::ID_DMEMMAPPER).then(|| e.dmem.u32_at(at + 4))?
    })?;
    let m = e.dmem_base.checked_add(base as usize)?;
    if e.dmem.get(m, 4)? != dmap::SIGNATURE || e.dmem.u16_at(m + 4)? != dmap::VERSION {
        return None;
    }
    let rd = |o: usize| e.dmem.u32_at(m + o);
    Some(Mapper {
        init_cmd: rd(dmap::INIT_CMD)?,
        cmd_in: e
            .dmem_base
            .checked_add(rd(dmap::CMD_IN_BUFFER_OFFSET)? as usize)?,
        cmd_in_size: rd(dmap::CMD_IN_BUFFER_SIZE)? as usize,
        mask: u64::from(rd(dmap::UCODE_CMD_MASK0)?) | u64::from(rd(dmap::UCODE_CMD_MASK1)?) << 32,
    })
}

/// Writes `code` into SW_SCRATCH(0xE)[31:16] keeping bits 15:0.
fn report_frts(s: &ScratchHandle, code: u16) {
    let v = s.read(FRTS_ERROR);
    s.write(FRTS_ERROR, (v & 0xffff) | u32::from(code) << 16);
}

/// Writes `code` into SW_SCRATCH(0x15)[15:0] keeping bits 31:16.
fn report_sb(s: &ScratchHandle, code: u16) {
    let v = s.read(SB_ERROR);
    s.write(SB_ERROR, (v & 0xffff_0000) | u32::from(code));
}

fn fail(e: &Env<'_>, cmd: u32, code: u16, why: impl Into<String>) -> Outcome {
    let scratch = if cmd == CMD_SB {
        report_sb(e.scratch, code);
        SB_ERROR
    } else {
        report_frts(e.scratch, code);
        FRTS_ERROR
    };
    Outcome::Failed {
        cmd,
        scratch,
        code,
        why: why.into(),
    }
}

fn frts(e: &Env<'_>, m: &Mapper) -> Outcome {
    let cmd = CMD_FRTS;
    let buf = match e.dmem.get(m.cmd_in, FRTS_CMD_SIZE) {
        Some(b) if m.cmd_in_size >= FRTS_CMD_SIZE => b,
        _ => return fail(e, cmd, FWSEC_ERR_NO_MAPPER, "command-in buffer too small"),
    };
    // Offsets are constants inside the 44 bytes `get` returned; `get` keeps it panic-free.
    let w = |o: usize| {
        buf.get(o..o + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    // read_vbios: ver, hdr, u64 addr, size, flags (24 bytes); frts_region at +24.
    if w(0) != READ_VBIOS_VER || w(4) != READ_VBIOS_HDR {
        return fail(
            e,
            cmd,
            FRTS_ERR_READ_VBIOS,
            format!("read_vbios ver {} hdr {}", w(0), w(4)),
        );
    }
    let (ver, hdr, addr, size, ty) = (w(24), w(28), w(32), w(36), w(40));
    if ver != FRTS_REGION_VER || hdr != FRTS_REGION_HDR || ty != FRTS_REGION_TYPE_FB {
        return fail(
            e,
            cmd,
            FRTS_ERR_REGION_HEADER,
            format!("frts_region ver {ver} hdr {hdr} type {ty}"),
        );
    }
    let start = u64::from(addr) << 12;
    let end = start + (u64::from(size) << 12);
    if size == 0 || end > e.vram_size {
        return fail(
            e,
            cmd,
            FRTS_ERR_REGION_RANGE,
            format!(
                "region [{start:#x},{end:#x}) outside VRAM [0,{:#x})",
                e.vram_size
            ),
        );
    }
    let (lo, hi) = e.wpr2.raw();
    if hi != 0 {
        return fail(
            e,
            cmd,
            FRTS_ERR_WPR2_SET,
            format!("WPR2 already set (LO {lo:#x} HI {hi:#x})"),
        );
    }
    e.wpr2.set(start, end);
    report_frts(e.scratch, 0);
    Outcome::Frts { start, end }
}

/// Runs FWSEC on `e`.
pub fn run(e: &Env<'_>) -> Outcome {
    let Some(m) = find_mapper(e) else {
        return fail(e, 0, FWSEC_ERR_NO_MAPPER, "no DMEM mapper");
    };
    let cmd = m.init_cmd;
    let supported = cmd < 64 && m.mask & (1 << cmd) != 0;
    if !supported || (cmd != CMD_FRTS && cmd != CMD_SB) {
        return fail(
            e,
            cmd,
            FWSEC_ERR_UNKNOWN_CMD,
            format!("unsupported init_cmd {cmd:#x}"),
        );
    }
    if e.inject_failure {
        return fail(e, cmd, FWSEC_ERR_INJECTED, "--fwsec-fail");
    }
    if cmd == CMD_SB {
        report_sb(e.scratch, 0);
        return Outcome::Sb;
    }
    frts(e, &m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::{bus::Bus, fb::Fb};

    const VRAM: u64 = 24 << 30;

    /// DMEM holding the production FWSEC's DMEM image at 0.
    fn dmem() -> (Memory, nova_firmware::FwsecLayout) {
        let (rom, l) = nova_firmware::build_ga102_vbios_with_layout();
        let p = l.fwsec_prod.clone();
        let mut m = Memory::new(0x10000);
        m.store(0, &rom[p.dmem..p.dmem + p.dmem_size], false);
        (m, p)
    }

    fn frts_cmd(addr: u32, size: u32) -> Vec<u8> {
        [1u32, 24, 0, 0, 0, 2, 1, 20, addr, size, 2]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    fn patch(m: &mut Memory, p: &nova_firmware::FwsecLayout, cmd: u32, buf: &[u8]) {
        m.store(
            p.dmem_mapper_offset + dmap::INIT_CMD,
            &cmd.to_le_bytes(),
            false,
        );
        m.store(p.cmd_in_offset, buf, false);
    }

    fn go(m: &Memory, p: &nova_firmware::FwsecLayout, bus: &Bus, fb: &Fb, fail: bool) -> Outcome {
        run(&Env {
            dmem: m,
            dmem_base: 0,
            interface_offset: p.interface_offset,
            scratch: &bus.handle(),
            wpr2: &fb.wpr2_handle(),
            vram_size: VRAM,
            inject_failure: fail,
        })
    }

    #[test]
    fn frts_carves_wpr2_and_reports_success() {
        let (mut m, p) = dmem();
        let (bus, fb) = (Bus::new(), Fb::new());
        bus.handle().write(FRTS_ERROR, 0xdead_1234);
        let start = 0x5_ffe0_0000u64;
        patch(&mut m, &p, CMD_FRTS, &frts_cmd((start >> 12) as u32, 0x100));
        assert_eq!(
            go(&m, &p, &bus, &fb, false),
            Outcome::Frts {
                start,
                end: start + (1 << 20)
            }
        );
        assert_eq!(
            bus.handle().read(FRTS_ERROR),
            0x0000_1234,
            "31:16 = 0, 15:0 kept"
        );
        let (lo, hi) = fb.wpr2_handle().raw();
        assert_eq!(u64::from(lo & !0xf) << 8, start);
        assert_eq!(u64::from(hi & !0xf) << 8, start + (1 << 20));
        // Again with WPR2 set: fails, WPR2 untouched.
        let o = go(&m, &p, &bus, &fb, false);
        assert!(
            matches!(
                o,
                Outcome::Failed {
                    code: FRTS_ERR_WPR2_SET,
                    ..
                }
            ),
            "{o:?}"
        );
        assert_eq!(
            bus.handle().read(FRTS_ERROR) >> 16,
            u32::from(FRTS_ERR_WPR2_SET)
        );
        assert_eq!(fb.wpr2_handle().raw(), (lo, hi));
    }

    #[test]
    fn frts_parameter_errors_leave_wpr2_alone() {
        let (mut m, p) = dmem();
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (frts_cmd(0x5ffe00, 0), FRTS_ERR_REGION_RANGE),
            (frts_cmd(0x600000, 0x100), FRTS_ERR_REGION_RANGE),
            (frts_cmd(u32::MAX, u32::MAX), FRTS_ERR_REGION_RANGE),
            (
                {
                    let mut c = frts_cmd(0x5ffe00, 0x100);
                    c[40] = 1;
                    c
                },
                FRTS_ERR_REGION_HEADER,
            ),
            (
                {
                    let mut c = frts_cmd(0x5ffe00, 0x100);
                    c[4] = 0;
                    c
                },
                FRTS_ERR_READ_VBIOS,
            ),
            (vec![0; 44], FRTS_ERR_READ_VBIOS),
        ];
        for (buf, code) in cases {
            let (bus, fb) = (Bus::new(), Fb::new());
            patch(&mut m, &p, CMD_FRTS, &buf);
            let o = go(&m, &p, &bus, &fb, false);
            assert!(
                matches!(&o, Outcome::Failed { code: c, .. } if *c == code),
                "{o:?}"
            );
            assert_eq!(bus.handle().read(FRTS_ERROR) >> 16, u32::from(code));
            assert_eq!(fb.wpr2_handle().raw(), (0, 0));
        }
    }

    #[test]
    fn sb_unknown_commands_and_the_fault_knob() {
        let (mut m, p) = dmem();
        let (bus, fb) = (Bus::new(), Fb::new());
        bus.handle().write(SB_ERROR, 0xabcd_ffff);
        patch(&mut m, &p, CMD_SB, &[]);
        assert_eq!(go(&m, &p, &bus, &fb, false), Outcome::Sb);
        assert_eq!(bus.handle().read(SB_ERROR), 0xabcd_0000);
        let o = go(&m, &p, &bus, &fb, true);
        assert!(matches!(
            o,
            Outcome::Failed {
                scratch: SB_ERROR,
                code: FWSEC_ERR_INJECTED,
                ..
            }
        ));
        assert_eq!(bus.handle().read(SB_ERROR), 0xabcd_00ff);

        for cmd in [0, 0x14, 0x40, u32::MAX] {
            patch(&mut m, &p, cmd, &[]);
            let o = go(&m, &p, &bus, &fb, false);
            assert!(
                matches!(
                    o,
                    Outcome::Failed {
                        code: FWSEC_ERR_UNKNOWN_CMD,
                        ..
                    }
                ),
                "{cmd:#x}"
            );
            assert_eq!(bus.handle().read(FRTS_ERROR) >> 16, 1);
        }
        patch(&mut m, &p, CMD_FRTS, &frts_cmd(0x5ffe00, 0x100));
        let o = go(&m, &p, &bus, &fb, true);
        assert!(matches!(
            o,
            Outcome::Failed {
                scratch: FRTS_ERROR,
                code: FWSEC_ERR_INJECTED,
                ..
            }
        ));
        assert_eq!(fb.wpr2_handle().raw(), (0, 0));
    }

    #[test]
    fn a_damaged_interface_table_is_an_error_not_a_panic() {
        let (mut m, p) = dmem();
        let (bus, fb) = (Bus::new(), Fb::new());
        // Entry count 255 and entry size 255: entries run past DMEM.
        m.store(p.interface_offset + 2, &[0xff, 0xff], false);
        let o = go(&m, &p, &bus, &fb, false);
        assert!(
            matches!(
                o,
                Outcome::Failed {
                    code: FWSEC_ERR_NO_MAPPER,
                    ..
                }
            ),
            "{o:?}"
        );
        let mut e = Memory::new(0x100);
        e.store(0, &[1, 4, 8, 1, 4, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff], false);
        let o = run(&Env {
            dmem: &e,
            dmem_base: 0,
            interface_offset: 0,
            scratch: &bus.handle(),
            wpr2: &fb.wpr2_handle(),
            vram_size: VRAM,
            inject_failure: false,
        });
        assert!(matches!(
            o,
            Outcome::Failed {
                code: FWSEC_ERR_NO_MAPPER,
                ..
            }
        ));
    }
}
