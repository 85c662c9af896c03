// SPDX-License-Identifier: GPL-2.0
//! `vgpu`: serve a software GA102 over vfio-user on a unix socket for QEMU's `vfio-user-pci`.
//!
//! ```text
//! vgpu --socket PATH [--chip ga102] [--boot42 0xVALUE] [--trace[=pmc,pci,irq,dma]] [--trace-file PATH]
//! ```
//! Environment equivalents (used by the test harness): `VGPU_BOOT42`, `VGPU_TRACE`.
//! The process serves one QEMU and exits when it disconnects.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vgpu::chip;
use vgpu::server::{Device, Options};
use vgpu::trace::{Filter, Tracer};

const USAGE: &str = "usage: vgpu --socket PATH [--chip NAME] [--boot42 0xVALUE] [--trace[=BLOCK,...]] [--trace-file PATH]";

struct Args {
    socket: PathBuf,
    chip: &'static chip::ChipProfile,
    opts: Options,
    trace: Filter,
    trace_file: Option<PathBuf>,
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
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vgpu: {e}");
            return ExitCode::from(2);
        }
    };
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
