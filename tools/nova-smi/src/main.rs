// SPDX-License-Identifier: GPL-2.0
//! `nova-smi [--json] [-d NODE]`: what each nova GPU is and how its memory is used.

use libnova::Device;
use nova_smi::{json, parse_args, text, Report, USAGE};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nova-smi: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.version {
        println!("nova-smi {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let nodes = match &args.device {
        Some(d) => vec![d.into()],
        None => libnova::render_nodes_of(libnova::DRIVER_NAME),
    };
    if nodes.is_empty() {
        eprintln!("nova-smi: no render node of driver \"nova\" (is nova-drm loaded?)");
        return ExitCode::FAILURE;
    }
    let mut reports = vec![];
    for n in &nodes {
        match Device::open_path(n).and_then(|d| Report::gather(&d)) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("nova-smi: {}: {e}", n.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if args.json {
        print!("{}", json(&reports));
    } else {
        print!("{}", text(&reports));
    }
    ExitCode::SUCCESS
}
