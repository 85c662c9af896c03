// SPDX-License-Identifier: GPL-2.0

//! `panic-decode`: prints the kernel log carried by a DRM panic QR code.
//!
//! ```text
//! panic-decode <screenshot.png|screenshot.ppm>
//! panic-decode --url '<url from the QR code>'
//! ```

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use panic_decode::{decode_image, kmsg_from_content, kmsg_from_url, DecodeError};

const USAGE: &str = "usage: panic-decode <image.png|image.ppm>
       panic-decode --url '<url>'

Reads the QR code of a Linux DRM panic screen (a screenshot, e.g. from QEMU's
screendump, which writes PPM, or PNG with -f png), or the URL it holds, and
prints the kernel log it carries: the z= parameter's digits are turned back
into bytes (17 digits per 7 bytes) and inflated with zlib. A QR code without
a URL holds the log as plain text, which is printed as it is.";

fn run(args: &[String]) -> Result<Vec<u8>, String> {
    let error = |e: DecodeError| e.to_string();
    match args {
        [flag] if flag == "-h" || flag == "--help" => Ok(format!("{USAGE}\n").into_bytes()),
        [flag, url] if flag == "--url" => kmsg_from_url(url).map_err(error),
        [path] if !path.starts_with('-') => {
            let content = decode_image(Path::new(path)).map_err(error)?;
            kmsg_from_content(&content).map_err(error)
        }
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(kmsg) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&kmsg)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("panic-decode: {message}");
            if message == USAGE {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
