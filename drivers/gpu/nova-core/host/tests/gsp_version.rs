// SPDX-License-Identifier: GPL-2.0
//! The GSP-RM version nova-drm reports comes from `.fwversion` of the real file.

mod common;

use nova_core_host::firmware::gsp::{GspFirmware, SignatureFamily};

#[test]
fn ga102_570_144_version() {
    let path = common::firmware_dir().join("nvidia/ga102/gsp/gsp-570.144.bin");
    let file = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make setup`)", path.display()));
    let fw = GspFirmware::parse(&file, SignatureFamily::Ga10x).unwrap();
    assert_eq!(fw.version, Some(&b"570.144"[..]));
    assert_eq!(fw.version_numbers(), Some((570, 144)));
}
