// SPDX-License-Identifier: GPL-2.0
//! `vgpu`: serve a software GA102 over vfio-user on a unix socket for QEMU's `vfio-user-pci`.
//!
//! ```text
//! vgpu --socket PATH [--chip ga102|tu102|ad102] [--boot42 0xVALUE] [--trace[=pmc,pci,irq,dma]] [--trace-file PATH]
//!      [--vbios-variant NAME] [--no-gfw-boot] [--gfw-boot-ms N] [--fwsec-fail] [--falcon-hang]
//!      [--booter-fail] [--gsp-silent] [--gsp-corrupt-reply] [--gsp-oversized-reply]
//!      [--gsp-extra-events] [--irq-storm] [--fall-off-bus-after N] [--firmware-dir DIR]
//!      [--mmu-log FILE] [--test-port] [--init-rpc-replies] [--seq-bad-opcode] [--seq-truncated]
//!      [--seq-poll-timeout] [--seq-no-handoff]
//! ```
//! Environment equivalents (used by the test harness): `VGPU_BOOT42`, `VGPU_TRACE`,
//! `VGPU_VBIOS_VARIANT`, `VGPU_NO_GFW_BOOT`, `VGPU_GFW_BOOT_MS`, `VGPU_FWSEC_FAIL`,
//! `VGPU_FALCON_HANG`, `VGPU_BOOTER_FAIL`, `VGPU_GSP_SILENT`, `VGPU_GSP_CORRUPT_REPLY`,
//! `VGPU_GSP_OVERSIZED_REPLY`, `VGPU_GSP_EXTRA_EVENTS`, `VGPU_IRQ_STORM`, `VGPU_INIT_RPC_REPLIES`, `VGPU_SEQ_BAD_OPCODE`,
//! `VGPU_SEQ_TRUNCATED`, `VGPU_SEQ_POLL_TIMEOUT`, `VGPU_SEQ_NO_HANDOFF` (the flags count as set when the variable is set
//! and not `0`), `VGPU_FALL_OFF_BUS_AFTER`, `VGPU_FIRMWARE_DIR`, `VGPU_MMU_LOG`, `VGPU_TEST_PORT`.
//! `--mmu-log FILE` appends one line per BAR1 translation or fault, BAR1 bind, TLB
//! invalidate and test-port access to FILE: a test instrument, not hardware (`vgpu::mmu::log`).
//! `--test-port` enables the engine access port in BAR5, another test instrument
//! (`vgpu::testport`): copy engine 0's reads and writes through a GPU VA space.
//! The GSP boot firmware files are read from `DIR/nvidia/<chip>/gsp/` at start-up (default
//! `DIR` = `$NOVA_CACHE/firmware/lib/firmware`, `NOVA_CACHE` = `$HOME/.cache/nova`); a missing
//! or malformed file is a start-up error naming it.
//! Trace block names: `pmc`, `bus`, `fb`, `gsp`, `gc6`, `prom`, `disp`, `fuse`, `sec2`, `intr`, `pci`,
//! `irq`, `dma`, `io` (BAR5), `rpc` (GSP-RM: one line per RPC each way, checks, doorbell-to-reply times),
//! `mmu` (TLB invalidates, page-table walks, faults), `pramin` (the BAR0 window onto VRAM),
//! `bar1` (BAR1 binding and every BAR1 access with its translation), `usermode` (the doorbell
//! region's registers), `fifo` (channels: doorbells, GP entries, errors), `methods` (every
//! push-buffer method, verbose).
//! The process serves one QEMU and exits when it disconnects.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vgpu::blocks::falcon::gsprm::seq::SeqFault;
use vgpu::blocks::gc6::GfwBoot;
use vgpu::chip;
use vgpu::server::{Device, Options};
use vgpu::trace::{Filter, Tracer};

const USAGE: &str = "usage: vgpu --socket PATH [--chip ga102|tu102|ad102] [--boot42 0xVALUE] [--trace[=BLOCK,...]] [--trace-file PATH]
            [--vbios-variant intact|no-efi|truncated|bad-bit-checksum|bad-pcir-signature|image-length-past-end|
                             falcon-table-out-of-range|fwsec-desc-unknown-version|zero-length-image]
            [--no-gfw-boot] [--gfw-boot-ms N] [--fwsec-fail] [--falcon-hang] [--booter-fail]
            [--gsp-silent] [--gsp-corrupt-reply] [--gsp-oversized-reply] [--gsp-extra-events] [--irq-storm]
            [--init-rpc-replies] [--seq-bad-opcode] [--seq-truncated] [--seq-poll-timeout] [--seq-no-handoff]
            [--fall-off-bus-after N] [--firmware-dir DIR] [--mmu-log FILE] [--test-port]";

/// `--vbios-variant`: the intact image, the image without EFI, or a broken variant.
fn set_vbios_variant(opts: &mut Options, name: &str) -> Result<(), String> {
    match name {
        "intact" => {
            opts.vbios_broken = None;
            opts.vbios_no_efi = false;
        }
        "no-efi" => opts.vbios_no_efi = true,
        n => {
            opts.vbios_broken = Some(
                nova_firmware::Broken::from_name(n)
                    .ok_or(format!("unknown VBIOS variant {n:?}\n{USAGE}"))?,
            )
        }
    }
    Ok(())
}

/// `--gfw-boot-ms N`: GFW boot completes N ms after the first boot-state read.
fn gfw_boot_after(ms: u32) -> GfwBoot {
    GfwBoot::AfterFirstRead(std::time::Duration::from_millis(u64::from(ms)))
}

/// The sequencer fault knobs' environment variables.
const SEQ_FAULTS: [(&str, SeqFault); 4] = [
    ("VGPU_SEQ_BAD_OPCODE", SeqFault::BadOpcode),
    ("VGPU_SEQ_TRUNCATED", SeqFault::Truncated),
    ("VGPU_SEQ_POLL_TIMEOUT", SeqFault::PollTimeout),
    ("VGPU_SEQ_NO_HANDOFF", SeqFault::NoHandoff),
];

struct Args {
    socket: PathBuf,
    chip: &'static chip::ChipProfile,
    opts: Options,
    trace: Filter,
    trace_file: Option<PathBuf>,
    firmware_dir: PathBuf,
}

/// A boolean environment knob: set, non-empty and not `0`.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| format!("not a 32-bit number: {s:?}"))
}

fn parse_args() -> Result<Args, String> {
    let mut socket = None;
    let mut chip = &chip::GA102;
    let mut opts = Options::default();
    let mut trace = match std::env::var("VGPU_TRACE") {
        Ok(v) => Filter::parse(Some(v.as_str())),
        Err(_) => Filter::Off,
    };
    if let Ok(v) = std::env::var("VGPU_BOOT42") {
        opts.boot42 = Some(parse_u32(&v).map_err(|e| format!("VGPU_BOOT42: {e}"))?);
    }
    if let Ok(v) = std::env::var("VGPU_VBIOS_VARIANT") {
        set_vbios_variant(&mut opts, v.trim()).map_err(|e| format!("VGPU_VBIOS_VARIANT: {e}"))?;
    }
    if let Ok(v) = std::env::var("VGPU_GFW_BOOT_MS") {
        opts.gfw_boot =
            gfw_boot_after(parse_u32(&v).map_err(|e| format!("VGPU_GFW_BOOT_MS: {e}"))?);
    }
    if env_flag("VGPU_NO_GFW_BOOT") {
        opts.gfw_boot = GfwBoot::Never;
    }
    opts.fwsec_fail = env_flag("VGPU_FWSEC_FAIL");
    opts.falcon_hang = env_flag("VGPU_FALCON_HANG");
    opts.booter_fail = env_flag("VGPU_BOOTER_FAIL");
    opts.gsp_rm.silent = env_flag("VGPU_GSP_SILENT");
    opts.gsp_rm.corrupt_reply = env_flag("VGPU_GSP_CORRUPT_REPLY");
    opts.gsp_rm.oversized_reply = env_flag("VGPU_GSP_OVERSIZED_REPLY");
    opts.gsp_rm.extra_events = env_flag("VGPU_GSP_EXTRA_EVENTS");
    opts.gsp_rm.init_rpc_replies = env_flag("VGPU_INIT_RPC_REPLIES");
    for (var, f) in SEQ_FAULTS {
        if env_flag(var) {
            opts.gsp_rm.seq_fault = f;
        }
    }
    opts.irq_storm = env_flag("VGPU_IRQ_STORM");
    if let Ok(v) = std::env::var("VGPU_FALL_OFF_BUS_AFTER") {
        opts.fall_off_bus_after = Some(
            parse_u32(&v)
                .map_err(|e| format!("VGPU_FALL_OFF_BUS_AFTER: {e}"))?
                .into(),
        );
    }
    opts.test_port = env_flag("VGPU_TEST_PORT");
    if let Some(p) = std::env::var_os("VGPU_MMU_LOG").filter(|p| !p.is_empty()) {
        opts.mmu_log = Some(PathBuf::from(p));
    }
    let mut firmware_dir = match std::env::var_os("VGPU_FIRMWARE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => vgpu::firmware::default_dir(),
    };
    let mut trace_file = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value"))
        };
        match key.as_str() {
            "--socket" => socket = Some(PathBuf::from(value("--socket")?)),
            "--chip" => {
                let n = value("--chip")?;
                chip = chip::by_name(&n).ok_or(format!("unknown chip {n:?}"))?;
            }
            "--boot42" => opts.boot42 = Some(parse_u32(&value("--boot42")?)?),
            "--vbios-variant" => set_vbios_variant(&mut opts, &value("--vbios-variant")?)?,
            "--no-gfw-boot" => opts.gfw_boot = GfwBoot::Never,
            "--gfw-boot-ms" => opts.gfw_boot = gfw_boot_after(parse_u32(&value("--gfw-boot-ms")?)?),
            "--fwsec-fail" => opts.fwsec_fail = true,
            "--falcon-hang" => opts.falcon_hang = true,
            "--booter-fail" => opts.booter_fail = true,
            "--gsp-silent" => opts.gsp_rm.silent = true,
            "--gsp-corrupt-reply" => opts.gsp_rm.corrupt_reply = true,
            "--gsp-oversized-reply" => opts.gsp_rm.oversized_reply = true,
            "--gsp-extra-events" => opts.gsp_rm.extra_events = true,
            "--init-rpc-replies" => opts.gsp_rm.init_rpc_replies = true,
            "--seq-bad-opcode" => opts.gsp_rm.seq_fault = SeqFault::BadOpcode,
            "--seq-truncated" => opts.gsp_rm.seq_fault = SeqFault::Truncated,
            "--seq-poll-timeout" => opts.gsp_rm.seq_fault = SeqFault::PollTimeout,
            "--seq-no-handoff" => opts.gsp_rm.seq_fault = SeqFault::NoHandoff,
            "--irq-storm" => opts.irq_storm = true,
            "--fall-off-bus-after" => {
                opts.fall_off_bus_after = Some(parse_u32(&value("--fall-off-bus-after")?)?.into())
            }
            "--firmware-dir" => firmware_dir = PathBuf::from(value("--firmware-dir")?),
            "--mmu-log" => opts.mmu_log = Some(PathBuf::from(value("--mmu-log")?)),
            "--test-port" => opts.test_port = true,
            "--trace" => trace = Filter::parse(inline.as_deref()),
            "--trace-file" => trace_file = Some(PathBuf::from(value("--trace-file")?)),
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
        }
    }
    let socket = socket.ok_or(format!("--socket is required\n{USAGE}"))?;
    Ok(Args {
        socket,
        chip,
        opts,
        trace,
        trace_file,
        firmware_dir,
    })
}

fn main() -> ExitCode {
    let mut args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vgpu: {e}");
            return ExitCode::from(2);
        }
    };
    if args.chip.boots_gsp {
        match vgpu::firmware::GspFirmware::load(
            &args.firmware_dir,
            args.chip.name,
            args.chip.gsp_signature_section,
        ) {
            Ok(fw) => args.opts.firmware = Some(Arc::new(fw)),
            Err(e) => {
                eprintln!("vgpu: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        eprintln!(
            "vgpu: {}: identity only, no GSP boot (no firmware loaded; SEC2 refuses Booter)",
            args.chip.name
        );
    }
    let out: Box<dyn std::io::Write + Send> = match &args.trace_file {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("vgpu: cannot create trace file {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(std::io::stderr()),
    };
    let tracer = Arc::new(Tracer::new(args.trace, out));
    let mut dev = match Device::new(args.chip, args.opts.clone(), tracer.clone()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("vgpu: cannot create the device: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server =
        match vfio_user::Server::new(&args.socket, true, Device::irq_infos(), dev.regions()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("vgpu: cannot listen on {}: {e:?}", args.socket.display());
                return ExitCode::FAILURE;
            }
        };
    eprintln!(
        "vgpu: {} (10de:{:04x}) listening on {}{}",
        args.chip.name,
        args.chip.device_id,
        args.socket.display(),
        match args.opts.boot42 {
            Some(v) => format!(", BOOT_42 overridden to {v:#010x}"),
            None => String::new(),
        }
    );
    if args.opts.vbios_broken.is_some()
        || args.opts.vbios_no_efi
        || args.opts.gfw_boot != GfwBoot::default()
        || args.opts.fwsec_fail
        || args.opts.falcon_hang
        || args.opts.booter_fail
        || args.opts.gsp_rm != Default::default()
        || args.opts.irq_storm
        || args.opts.fall_off_bus_after.is_some()
    {
        let mut gsp = String::new();
        for (on, what) in [
            (args.opts.gsp_rm.silent, ", GSP-RM silent"),
            (args.opts.gsp_rm.corrupt_reply, ", GSP-RM replies corrupted"),
            (
                args.opts.gsp_rm.oversized_reply,
                ", GSP-RM replies oversized",
            ),
            (
                args.opts.gsp_rm.extra_events,
                ", GSP-RM posts OS_ERROR_LOG and GSP_LOCKDOWN_NOTICE after GSP_INIT_DONE",
            ),
            (args.opts.irq_storm, ", interrupt storm"),
            (
                args.opts.gsp_rm.init_rpc_replies,
                ", GSP-RM answers SET_SYSTEM_INFO and SET_REGISTRY",
            ),
        ] {
            if on {
                gsp.push_str(what);
            }
        }
        if args.opts.gsp_rm.seq_fault != SeqFault::None {
            gsp.push_str(&format!(
                ", CPU sequencer fault {:?}",
                args.opts.gsp_rm.seq_fault
            ));
        }
        if let Some(n) = args.opts.fall_off_bus_after {
            gsp.push_str(&format!(", off the bus after {n} BAR0 accesses"));
        }
        eprintln!(
            "vgpu: fault knobs: VBIOS {}{}, GFW boot {:?}{}{}{}{gsp}",
            args.opts.vbios_broken.map_or("intact", |b| b.name()),
            if args.opts.vbios_no_efi {
                " (no EFI image)"
            } else {
                ""
            },
            args.opts.gfw_boot,
            if args.opts.fwsec_fail {
                ", FWSEC fails"
            } else {
                ""
            },
            if args.opts.falcon_hang {
                ", falcons never halt"
            } else {
                ""
            },
            if args.opts.booter_fail {
                ", booter_load fails"
            } else {
                ""
            }
        );
    }
    if let Some(p) = &args.opts.mmu_log {
        eprintln!(
            "vgpu: MMU log (test instrument) appended to {}",
            p.display()
        );
    }
    if args.opts.test_port {
        eprintln!("vgpu: engine access port (test instrument) enabled in BAR5");
    }
    tracer.line("pci", format_args!("waiting for the vfio-user client"));
    match server.run(&mut dev) {
        Ok(()) => {
            tracer.line("pci", format_args!("client disconnected"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vgpu: vfio-user server error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vbios_variant_names() {
        let mut o = Options::default();
        for b in nova_firmware::Broken::ALL {
            set_vbios_variant(&mut o, b.name()).unwrap();
            assert_eq!(o.vbios_broken, Some(b));
        }
        set_vbios_variant(&mut o, "no-efi").unwrap();
        assert!(o.vbios_no_efi);
        set_vbios_variant(&mut o, "intact").unwrap();
        assert_eq!((o.vbios_broken, o.vbios_no_efi), (None, false));
        assert!(set_vbios_variant(&mut o, "shiny").is_err());
        assert_eq!(
            gfw_boot_after(250),
            GfwBoot::AfterFirstRead(std::time::Duration::from_millis(250))
        );
    }

    #[test]
    fn usage_names_every_gsp_rm_knob() {
        for k in [
            "--gsp-silent",
            "--gsp-corrupt-reply",
            "--gsp-oversized-reply",
            "--gsp-extra-events",
            "--init-rpc-replies",
            "--seq-bad-opcode",
            "--seq-truncated",
            "--seq-poll-timeout",
            "--seq-no-handoff",
            "--irq-storm",
            "--mmu-log",
            "--test-port",
        ] {
            assert!(USAGE.contains(k), "{k}");
        }
    }
}
