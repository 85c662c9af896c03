// SPDX-License-Identifier: GPL-2.0
//! nova-smi's report: what it gathers from a device and how it prints it (text or JSON).
//! Gathering needs a device; formatting is pure and host-tested with a fake [`Info`].

use libnova::{format_bytes, Device, Info};
use std::fmt::Write;

/// The driver's identity (DRM_IOCTL_VERSION).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Driver {
    /// "nova".
    pub name: String,
    /// Version, "major.minor.patch".
    pub version: String,
    /// Description.
    pub desc: String,
}

/// Everything nova-smi reports about one GPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The render node.
    pub node: String,
    /// PCI address from sysfs, if found.
    pub pci: Option<String>,
    /// The driver, if VERSION answered.
    pub driver: Option<Driver>,
    /// Every GETPARAM.
    pub info: Info,
}

impl Report {
    /// Gathers the report of `dev`.
    pub fn gather(dev: &Device) -> Result<Report, libnova::Error> {
        let info = dev.info()?;
        let driver = dev.version().ok().map(|v| Driver {
            name: v.name,
            version: format!("{}.{}.{}", v.major, v.minor, v.patchlevel),
            desc: v.desc,
        });
        Ok(Report {
            node: dev.path().display().to_string(),
            pci: dev.pci_address(),
            driver,
            info,
        })
    }
}

/// Whole MiB, as nvidia-smi prints memory ("24576MiB"); a fraction when not whole.
pub fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{}MiB", bytes >> 20)
    } else {
        format!("{:.2}MiB", bytes as f64 / f64::from(1 << 20))
    }
}

/// A class number, or "unknown" for 0.
fn class(c: u32) -> String {
    if c == 0 {
        "unknown".into()
    } else {
        format!("{c:#06x}")
    }
}

/// The human-readable report of `gpus` (numbered from 0).
pub fn text(gpus: &[Report]) -> String {
    let mut s = String::new();
    for (n, r) in gpus.iter().enumerate() {
        let i = &r.info;
        if n > 0 {
            s.push('\n');
        }
        let chip = i.chip_name().unwrap_or("unknown chip");
        let arch = i.arch_name().unwrap_or("unknown architecture");
        let _ = writeln!(s, "GPU {n}: NVIDIA {chip} ({arch})");
        let row = |s: &mut String, k: &str, v: String| {
            let _ = writeln!(s, "    {k:<20}: {v}");
        };
        row(
            &mut s,
            "PCI address",
            r.pci.clone().unwrap_or_else(|| "unknown".into()),
        );
        row(&mut s, "Render node", r.node.clone());
        if let Some(d) = &r.driver {
            row(
                &mut s,
                "Driver",
                format!("{} {} ({})", d.name, d.version, d.desc),
            );
        }
        row(&mut s, "Chip", format!("{chip} (chipset {:#x})", i.chipset));
        row(
            &mut s,
            "Architecture",
            format!("{arch} ({:#x})", i.architecture),
        );
        row(
            &mut s,
            "Revision",
            format!("{} ({:#x})", i.revision_name(), i.revision),
        );
        row(
            &mut s,
            "Firmware",
            if i.fw_version.is_known() {
                format!("GSP-RM {}", i.fw_version)
            } else {
                "GSP-RM not running".into()
            },
        );
        let _ = writeln!(s, "    FB Memory Usage");
        row(&mut s, "    Total", mib(i.vram_size));
        row(&mut s, "    Used", mib(i.vram_used()));
        row(&mut s, "    Free", mib(i.vram_free));
        row(&mut s, "BAR1 Memory", mib(i.bar1_size));
        row(
            &mut s,
            "VA window",
            format!(
                "[{:#x}, {:#x}) ({})",
                i.va_start,
                i.va_end,
                format_bytes(i.va_end.saturating_sub(i.va_start))
            ),
        );
        let pages: Vec<String> = i.page_size_list().into_iter().map(format_bytes).collect();
        row(
            &mut s,
            "Page sizes",
            if pages.is_empty() {
                "none".into()
            } else {
                pages.join(", ")
            },
        );
        let _ = writeln!(s, "    Engine classes");
        let c = &i.classes;
        row(&mut s, "    Channel (GPFIFO)", class(c.channel));
        row(&mut s, "    Copy", class(c.copy));
        row(&mut s, "    2D", class(c.twod));
        row(&mut s, "    3D", class(c.threed));
        row(&mut s, "    Compute", class(c.compute));
    }
    s
}

/// `v` as a JSON string literal.
pub fn json_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn opt_str(v: Option<&str>) -> String {
    v.map_or_else(|| "null".into(), json_str)
}

/// The machine-readable report: `{"gpus": [...]}`, numbers in bytes and plain integers.
pub fn json(gpus: &[Report]) -> String {
    let mut s = String::from("{\n  \"gpus\": [");
    for (n, r) in gpus.iter().enumerate() {
        let i = &r.info;
        let c = &i.classes;
        let driver = r.driver.as_ref().map_or_else(
            || "null".into(),
            |d| {
                format!(
                    "{{\"name\": {}, \"version\": {}, \"desc\": {}}}",
                    json_str(&d.name),
                    json_str(&d.version),
                    json_str(&d.desc)
                )
            },
        );
        let fw = if i.fw_version.is_known() {
            json_str(&i.fw_version.to_string())
        } else {
            "null".into()
        };
        let pages: Vec<String> = i
            .page_size_list()
            .into_iter()
            .map(|p| p.to_string())
            .collect();
        let _ = write!(
            s,
            "{}\n    {{\n      \"index\": {n},\n      \"pci_address\": {},\n      \
             \"render_node\": {},\n      \"driver\": {driver},\n      \"chip\": {},\n      \
             \"chipset\": {},\n      \"architecture\": {},\n      \"architecture_id\": {},\n      \
             \"revision\": {},\n      \"revision_id\": {},\n      \"firmware_version\": {fw},\n      \
             \"vram_total_bytes\": {},\n      \"vram_used_bytes\": {},\n      \
             \"vram_free_bytes\": {},\n      \"bar1_bytes\": {},\n      \"va_start\": {},\n      \
             \"va_end\": {},\n      \"page_sizes\": [{}],\n      \"classes\": {{\"channel\": {}, \
             \"copy\": {}, \"2d\": {}, \"3d\": {}, \"compute\": {}}}\n    }}",
            if n > 0 { "," } else { "" },
            opt_str(r.pci.as_deref()),
            json_str(&r.node),
            opt_str(i.chip_name()),
            i.chipset,
            opt_str(i.arch_name()),
            i.architecture,
            json_str(&i.revision_name()),
            i.revision,
            i.vram_size,
            i.vram_used(),
            i.vram_free,
            i.bar1_size,
            i.va_start,
            i.va_end,
            pages.join(", "),
            c.channel,
            c.copy,
            c.twod,
            c.threed,
            c.compute,
        );
    }
    s.push_str(if gpus.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    s
}

/// What the command line asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `--json`.
    pub json: bool,
    /// `-d/--device PATH`: one node instead of every nova render node.
    pub device: Option<String>,
    /// `-h/--help`.
    pub help: bool,
    /// `-V/--version`.
    pub version: bool,
}

/// The usage text.
pub const USAGE: &str = "\
usage: nova-smi [--json] [-d|--device /dev/dri/renderDN]

Prints what each nova GPU is (chip, architecture, revision, firmware, PCI address) and its
memory (VRAM total/used/free, BAR1), VA window, page sizes and engine classes.
  --json        machine-readable output: {\"gpus\": [...]}, sizes in bytes
  -d, --device  report only this DRM node (default: every render node of driver nova)
  -h, --help    this text
  -V, --version nova-smi's version
";

/// Parses the arguments (without the program name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" | "-j" => a.json = true,
            "-h" | "--help" => a.help = true,
            "-V" | "--version" => a.version = true,
            "-d" | "--device" => {
                a.device = Some(it.next().ok_or("--device needs a path")?);
            }
            s if s.starts_with("--device=") => {
                a.device = Some(s["--device=".len()..].to_string());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libnova::{Classes, FwVersion};

    /// The vGPU's GA102 as the driver describes it.
    fn ga102() -> Report {
        Report {
            node: "/dev/dri/renderD128".into(),
            pci: Some("0000:00:03.0".into()),
            driver: Some(Driver {
                name: "nova".into(),
                version: "0.1.0".into(),
                desc: "Nova GPU driver".into(),
            }),
            info: Info {
                chipset: 0x172,
                architecture: 0x17,
                revision: 0xa1,
                vram_size: 24 << 30,
                vram_free: 24382 << 20,
                bar1_size: 256 << 20,
                fw_version: FwVersion {
                    major: 570,
                    minor: 144,
                },
                va_start: 1 << 32,
                va_end: 1 << 47,
                page_sizes: (1 << 12) | (1 << 16) | (1 << 21),
                classes: Classes {
                    channel: 0xc56f,
                    copy: 0xc7b5,
                    twod: 0x902d,
                    threed: 0xc797,
                    compute: 0xc7c0,
                },
            },
        }
    }

    #[test]
    fn text_report() {
        let t = text(&[ga102()]);
        for want in [
            "GPU 0: NVIDIA GA102 (Ampere)\n",
            "    PCI address         : 0000:00:03.0\n",
            "    Render node         : /dev/dri/renderD128\n",
            "    Driver              : nova 0.1.0 (Nova GPU driver)\n",
            "    Chip                : GA102 (chipset 0x172)\n",
            "    Architecture        : Ampere (0x17)\n",
            "    Revision            : A1 (0xa1)\n",
            "    Firmware            : GSP-RM 570.144\n",
            "        Total           : 24576MiB\n",
            "        Used            : 194MiB\n",
            "        Free            : 24382MiB\n",
            "    BAR1 Memory         : 256MiB\n",
            "    VA window           : [0x100000000, 0x800000000000) (131068 GiB)\n",
            "    Page sizes          : 4 KiB, 64 KiB, 2 MiB\n",
            "        Channel (GPFIFO): 0xc56f\n",
            "        Copy            : 0xc7b5\n",
            "        2D              : 0x902d\n",
            "        3D              : 0xc797\n",
            "        Compute         : 0xc7c0\n",
        ] {
            assert!(t.contains(want), "{want:?} missing from:\n{t}");
        }
    }

    #[test]
    fn text_report_of_an_unknown_chip_without_firmware() {
        let mut r = ga102();
        r.info.chipset = 0x3f0;
        r.info.architecture = 0x3f;
        r.info.fw_version = FwVersion::default();
        r.info.classes = Classes::default();
        r.pci = None;
        r.driver = None;
        let t = text(&[r.clone(), r]);
        assert!(t.contains("GPU 0: NVIDIA unknown chip (unknown architecture)\n"));
        assert!(t.contains("\nGPU 1: "), "{t}");
        assert!(t.contains("Firmware            : GSP-RM not running\n"));
        assert!(t.contains("PCI address         : unknown\n"));
        assert!(t.contains("3D              : unknown\n"));
        assert!(!t.contains("Driver"));
    }

    #[test]
    fn json_report_parses_and_holds_every_field() {
        let j = json(&[ga102()]);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap_or_else(|e| panic!("{e}: {j}"));
        let g = &v["gpus"][0];
        assert_eq!(g["index"], 0);
        assert_eq!(g["pci_address"], "0000:00:03.0");
        assert_eq!(g["render_node"], "/dev/dri/renderD128");
        assert_eq!(g["driver"]["name"], "nova");
        assert_eq!(g["chip"], "GA102");
        assert_eq!(g["chipset"], 0x172);
        assert_eq!(g["architecture"], "Ampere");
        assert_eq!(g["architecture_id"], 0x17);
        assert_eq!(g["revision"], "A1");
        assert_eq!(g["revision_id"], 0xa1);
        assert_eq!(g["firmware_version"], "570.144");
        assert_eq!(g["vram_total_bytes"], 24u64 << 30);
        assert_eq!(g["vram_used_bytes"], 194u64 << 20);
        assert_eq!(g["vram_free_bytes"], 24382u64 << 20);
        assert_eq!(g["bar1_bytes"], 256u64 << 20);
        assert_eq!(g["va_start"], 1u64 << 32);
        assert_eq!(g["va_end"], 1u64 << 47);
        assert_eq!(g["page_sizes"], serde_json::json!([4096, 65536, 2097152]));
        assert_eq!(g["classes"]["channel"], 0xc56f);
        assert_eq!(g["classes"]["copy"], 0xc7b5);
        assert_eq!(g["classes"]["2d"], 0x902d);
        assert_eq!(g["classes"]["3d"], 0xc797);
        assert_eq!(g["classes"]["compute"], 0xc7c0);
    }

    #[test]
    fn json_nulls_and_lists() {
        let mut r = ga102();
        r.info.chipset = 0x3f0;
        r.info.fw_version = FwVersion::default();
        r.pci = None;
        r.driver = None;
        r.node = "/dev/dri/\"odd\"\\node".into();
        let j = json(&[ga102(), r]);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap_or_else(|e| panic!("{e}: {j}"));
        let g = &v["gpus"][1];
        assert_eq!(g["index"], 1);
        assert!(g["chip"].is_null() && g["pci_address"].is_null() && g["driver"].is_null());
        assert!(g["firmware_version"].is_null());
        assert_eq!(g["render_node"], "/dev/dri/\"odd\"\\node");
        let empty: serde_json::Value = serde_json::from_str(&json(&[])).unwrap();
        assert_eq!(empty["gpus"], serde_json::json!([]));
        assert_eq!(json_str("a\u{1}\tb"), "\"a\\u0001\\tb\"");
    }

    #[test]
    fn memory_in_mib() {
        assert_eq!(mib(24 << 30), "24576MiB");
        assert_eq!(mib((1 << 20) + (1 << 19)), "1.50MiB");
        assert_eq!(mib(0), "0MiB");
    }

    #[test]
    fn arguments() {
        let p = |v: &[&str]| parse_args(v.iter().map(|s| s.to_string()));
        assert_eq!(p(&[]).unwrap(), Args::default());
        let a = p(&["--json", "-d", "/dev/dri/renderD129"]).unwrap();
        assert!(a.json);
        assert_eq!(a.device.as_deref(), Some("/dev/dri/renderD129"));
        assert_eq!(
            p(&["--device=/dev/x"]).unwrap().device.as_deref(),
            Some("/dev/x")
        );
        assert!(p(&["-h"]).unwrap().help);
        assert!(p(&["--version"]).unwrap().version);
        assert!(p(&["-d"]).unwrap_err().contains("needs a path"));
        assert!(p(&["--bogus"]).unwrap_err().contains("unknown argument"));
    }
}
