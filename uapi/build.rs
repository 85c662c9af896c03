// SPDX-License-Identifier: MIT
//! Compiles `layout_probe.c` against `nova_drm.h` so the tests can compare the C layout with
//! the Rust mirror. `drm.h` comes from libdrm's headers (Debian `libdrm-dev`).

fn main() {
    println!("cargo:rerun-if-changed=nova_drm.h");
    println!("cargo:rerun-if-changed=layout_probe.c");
    let drm = ["/usr/include/libdrm", "/usr/include/drm"]
        .into_iter()
        .find(|d| std::path::Path::new(d).join("drm.h").exists())
        .expect("drm.h not found: install libdrm-dev (make setup does)");
    cc::Build::new()
        .file("layout_probe.c")
        .include(".")
        .include(drm)
        .warnings_into_errors(true)
        .compile("nova_layout_probe");
}
