// SPDX-License-Identifier: GPL-2.0
//! The test suites. Each is a list of named tests; `scripts/vm.sh` picks suites per VM boot.

use crate::drm;
use crate::Test;
use nova_uapi as uapi;
use std::process::Command;

/// Every suite, in run order.
pub fn all() -> Vec<(&'static str, Vec<Test>)> {
    vec![
        (
            "probe",
            vec![
                ("ga102_identified", probe_ga102_identified),
                ("boot_stages_logged", probe_boot_stages_logged),
                ("gsp_queues_and_logs", probe_gsp_queues_and_logs),
            ],
        ),
        (
            "drm",
            vec![
                ("version_is_nova", drm_version_is_nova),
                ("getparam_chip", drm_getparam_chip),
                ("getparam_unknown_is_einval", drm_getparam_unknown),
            ],
        ),
        ("reload", vec![("ten_cycles", reload_ten_cycles)]),
        ("rebind", vec![("twenty_cycles", rebind_twenty_cycles)]),
        (
            "unknown_chip",
            vec![("probe_fails_enodev", unknown_chip_probe_fails)],
        ),
        ("no_gfw", vec![("probe_times_out", no_gfw_probe_times_out)]),
        (
            "probe_fails",
            vec![("as_expected", probe_fails_as_expected)],
        ),
        (
            "described_chip",
            vec![("identified_then_stops", described_chip_stops)],
        ),
        (
            "extra_events",
            vec![("counted_not_taken_as_replies", extra_events_counted)],
        ),
        ("mem", crate::mem::tests()),
        ("exec", crate::exec::tests()),
        ("syncobj", crate::syncobj::tests()),
        ("fuzz", crate::fuzz::tests()),
    ]
}

fn modules_dir() -> String {
    std::env::var("NOVA_MODULES").unwrap_or_else(|_| "/mnt/modules".into())
}

fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd} {}: {}", args.join(" "), text.trim()))
    }
}

pub(crate) fn dmesg() -> Result<String, String> {
    run("dmesg", &[])
}

fn loaded(module: &str) -> bool {
    std::fs::read_to_string("/proc/modules")
        .map(|m| m.lines().any(|l| l.starts_with(&format!("{module} "))))
        .unwrap_or(false)
}

pub(crate) fn load_both() -> Result<(), String> {
    let d = modules_dir();
    if !loaded("nova_core") {
        run("insmod", &[&format!("{d}/nova-core.ko")])?;
    }
    if !loaded("nova_drm") {
        run("insmod", &[&format!("{d}/nova-drm.ko")])?;
    }
    Ok(())
}

fn unload_both() -> Result<(), String> {
    if loaded("nova_drm") {
        run("rmmod", &["nova_drm"])?;
    }
    if loaded("nova_core") {
        run("rmmod", &["nova_core"])?;
    }
    Ok(())
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn probe_ga102_identified() -> Result<(), String> {
    load_both()?;
    let log = dmesg()?;
    let line = log
        .lines()
        .find(|l| l.contains("nova_core") && l.contains("NVIDIA "));
    check(
        line.is_some_and(|l| l.contains("NVIDIA GA102 (Ampere), rev a1")),
        || format!("no identification line; got {line:?}"),
    )
}

fn probe_boot_stages_logged() -> Result<(), String> {
    load_both()?;
    let report = std::fs::read_dir("/sys/kernel/debug")
        .map_err(|e| format!("debugfs: {e}"))?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("nova-core-"))
        .map(|e| e.path().join("boot"))
        .ok_or("no /sys/kernel/debug/nova-core-* directory")?;
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    for w in [
        "chip: GA102",
        "vram_bytes: 25769803776",
        "wpr2: 0x5ffe00000-0x5fff00000",
        "stage gfw_wait: ",
        "stage fwsec_frts: ",
        "stage gsp_boot: ",
    ] {
        check(text.contains(w), || {
            format!("debugfs boot report lacks {w:?}: {text:?}")
        })?;
    }
    let log = dmesg()?;
    let want = [
        "boot: GFW boot complete",
        "boot: VRAM 24576 MiB, sysmem flush page at 0x",
        "boot: VBIOS read (196608 bytes) in",
        "boot: firmware files loaded in",
        "boot: FWSEC-FRTS done in",
        "WPR2 [0x5ffe00000, 0x5fff00000)",
        "boot: GSP-RM started by booter_load in",
        // GET_GSP_STATIC_INFO as the vGPU's GA102 profile answers it: two FB regions split at
        // the non-WPR heap, BAR1 PDE base one page above it.
        "boot: GSP-RM ready: GA102, 2 FB region(s), BAR1 PDE base 0x5f3e01000",
        // The allocator takes the usable region, which ends below GSP-RM's BAR1 page directory.
        "boot: VRAM allocator: 24382 MiB in [0x0, 0x5f3dfffff]",
        // A 64 KiB block from the allocator, written and read back through the PRAMIN window.
        "written and read back through PRAMIN",
        // A 64 KiB block given a BAR1 window under GSP-RM's page directory: PRAMIN writes read
        // back through BAR1 and BAR1 writes through PRAMIN (the vGPU translates BAR1 through
        // the page tables the driver wrote).
        "read back through BAR1 at 0x",
    ];
    for w in want {
        check(
            log.lines()
                .any(|l| l.contains("nova_core") && l.contains(w)),
            || format!("no '{w}' line"),
        )?;
    }
    Ok(())
}

/// The debugfs directory of the (single) GPU.
fn debugfs_dir() -> Result<std::path::PathBuf, String> {
    std::fs::read_dir("/sys/kernel/debug")
        .map_err(|e| format!("debugfs: {e}"))?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("nova-core-"))
        .map(|e| e.path())
        .ok_or_else(|| "no /sys/kernel/debug/nova-core-* directory".into())
}

/// The number after `key` on the line starting with it (`key: 12`, `cmdq: cpu_write 3 ...`).
fn field(text: &str, line: &str, key: &str) -> Result<u64, String> {
    let l = text
        .lines()
        .find(|l| l.starts_with(line))
        .ok_or_else(|| format!("no {line:?} line in {text:?}"))?;
    let mut words = l.split_whitespace();
    words
        .find(|w| *w == key)
        .and_then(|_| words.next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no number after {key:?} in {l:?}"))
}

fn probe_gsp_queues_and_logs() -> Result<(), String> {
    load_both()?;
    let dir = debugfs_dir()?;
    let q = dir.join("gsp_queues");
    let text = std::fs::read_to_string(&q).map_err(|e| format!("{}: {e}", q.display()))?;
    // Boot: SET_SYSTEM_INFO, SET_REGISTRY, GET_GSP_STATIC_INFO, three RM_ALLOCs (client,
    // device, subdevice), then the RM_CONTROL for the interrupt table. Each command got exactly
    // one reply except the first two, which GSP-RM does not answer; INIT_DONE is the event.
    let commands = field(&text, "commands:", "commands:")?;
    let messages = field(&text, "messages:", "messages:")?;
    check(commands == 7, || {
        format!("{commands} commands sent: {text}")
    })?;
    check(messages >= 6, || format!("{messages} messages: {text}"))?;
    check(field(&text, "errors:", "errors:")? == 0, || text.clone())?;
    // Everything written was consumed, in both directions.
    check(
        field(&text, "cmdq:", "cpu_write")? == field(&text, "cmdq:", "gsp_read")?,
        || format!("GSP-RM left commands unread: {text}"),
    )?;
    check(
        field(&text, "msgq:", "gsp_write")? == field(&text, "msgq:", "cpu_read")?,
        || format!("messages left unread: {text}"),
    )?;
    check(text.contains("last_command: 0x4c GSP_RM_CONTROL"), || {
        text.clone()
    })?;
    for name in ["loginit", "logintr", "logrm"] {
        let p = dir.join(name);
        let data = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        check(data.len() == 64 << 10, || {
            format!("{name}: {} bytes, expected 64 KiB", data.len())
        })?;
        // Word 0 is GSP-RM's put pointer: entries written so far. The init and RM logs get
        // records at boot; a valid pointer is below the buffer's entry count.
        let put = u64::from_le_bytes(data[..8].try_into().unwrap_or([0xff; 8]));
        check(put < (64 << 10) / 8, || {
            format!("{name}: put pointer {put:#x}")
        })?;
        if name != "logintr" {
            check(put > 0, || format!("{name}: no LIBOS log record written"))?;
        }
    }
    let log = dmesg()?;
    let want = "boot: RM client 0x4e560000, device 0x4e560080, subdevice 0x4e562080 allocated";
    check(
        log.lines()
            .any(|l| l.contains("nova_core") && l.contains(want)),
        || format!("no '{want}' line"),
    )
}

fn drm_version_is_nova() -> Result<(), String> {
    load_both()?;
    let f = drm::open_nova()?;
    let (name, desc, major, minor, _) = drm::version(&f)?;
    check(name == "nova", || format!("driver name {name:?}"))?;
    check(!desc.is_empty(), || "empty description".into())?;
    check((major, minor) == (0, 1), || {
        format!("version {major}.{minor}")
    })
}

fn drm_getparam_chip() -> Result<(), String> {
    load_both()?;
    let f = drm::open_nova()?;
    let get = |p| drm::getparam(&f, p).map_err(|e| format!("GETPARAM {p}: errno {e}"));
    let chipset = get(uapi::NOVA_GETPARAM_CHIPSET)?;
    let arch = get(uapi::NOVA_GETPARAM_ARCHITECTURE)?;
    let rev = get(uapi::NOVA_GETPARAM_REVISION)?;
    let vram = get(uapi::NOVA_GETPARAM_VRAM_SIZE)?;
    let bar1 = get(uapi::NOVA_GETPARAM_BAR1_SIZE)?;
    let fw = get(uapi::NOVA_GETPARAM_FW_VERSION)?;
    check((bar1, fw) == (256 << 20, (570 << 32) | 144), || {
        format!("BAR1 {bar1:#x} firmware {fw:#x}, want 256 MiB and 570.144")
    })?;
    check(
        (chipset, arch, rev, vram) == (0x172, 0x17, 0xa1, 24 << 30),
        || {
            format!("chipset {chipset:#x} arch {arch:#x} rev {rev:#x} vram {vram:#x}, want 0x172 0x17 0xa1 24 GiB")
        },
    )
}

fn drm_getparam_unknown() -> Result<(), String> {
    load_both()?;
    let f = drm::open_nova()?;
    // 0..=15 are defined (uapi/nova_drm.h); the first undefined one must fail.
    for p in [16u64, 0x1000, u64::MAX] {
        match drm::getparam(&f, p) {
            Err(e) if e == libc::EINVAL => {}
            other => return Err(format!("param {p:#x}: {other:?}, want EINVAL")),
        }
    }
    Ok(())
}

fn reload_ten_cycles() -> Result<(), String> {
    for i in 0..10 {
        unload_both().map_err(|e| format!("cycle {i}: {e}"))?;
        check(drm::render_nodes_of("nova").is_empty(), || {
            format!("cycle {i}: render node survived unload")
        })?;
        load_both().map_err(|e| format!("cycle {i}: {e}"))?;
        let f = drm::open_nova().map_err(|e| format!("cycle {i}: {e}"))?;
        let chip = drm::getparam(&f, uapi::NOVA_GETPARAM_CHIPSET)
            .map_err(|e| format!("cycle {i}: errno {e}"))?;
        check(chip == 0x172, || format!("cycle {i}: chipset {chip:#x}"))?;
    }
    // Every unbind released WPR2 and every probe booted GSP-RM again.
    let log = dmesg()?;
    let released = log
        .lines()
        .filter(|l| l.contains("unload: WPR2 [0x5ffe00000, 0x5fff00000) released in"))
        .count();
    let booted = log
        .lines()
        .filter(|l| l.contains("boot: GSP-RM started by booter_load in"))
        .count();
    check(released >= 10 && booted >= 11, || {
        format!("{released} WPR2 releases and {booted} GSP-RM boots in the log")
    })?;
    check(!log.contains("already set by an earlier boot"), || {
        "a probe found WPR2 still set".into()
    })
}

/// Run with a vGPU whose BOOT_42 names no real chip (VGPU_BOOT42=0x3f000000).
fn unknown_chip_probe_fails() -> Result<(), String> {
    let d = modules_dir();
    run("insmod", &[&format!("{d}/nova-core.ko")])?;
    let log = dmesg()?;
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("unknown NVIDIA chipset"))
        .collect();
    check(lines.len() == 1, || {
        format!("want one 'unknown NVIDIA chipset' line, got {lines:?}")
    })?;
    check(
        lines[0].contains("0x3f0") && lines[0].contains("0x3f000000"),
        || format!("line lacks the values: {}", lines[0]),
    )?;
    check(drm::render_nodes_of("nova").is_empty(), || {
        "a nova render node exists".into()
    })?;
    // The driver core logs -ENODEV probes only at debug level; a manual bind returns the
    // probe's error to the writer, which shows it is -ENODEV.
    let drv = "/sys/bus/pci/drivers/nova_core";
    let bound: Vec<String> = std::fs::read_dir(drv)
        .map_err(|e| format!("{drv}: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("0000:"))
        .collect();
    check(bound.is_empty(), || {
        format!("nova_core is bound to {bound:?}")
    })?;
    let bdf = std::fs::read_dir("/sys/bus/pci/devices")
        .map_err(|e| e.to_string())?
        .flatten()
        .find(|e| {
            std::fs::read_to_string(e.path().join("vendor")).is_ok_and(|v| v.trim() == "0x10de")
        })
        .map(|e| e.file_name().to_string_lossy().to_string())
        .ok_or("no NVIDIA PCI function")?;
    match std::fs::write(format!("{drv}/bind"), &bdf) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
        other => return Err(format!("bind {bdf}: {other:?}, want ENODEV")),
    }
    run("rmmod", &["nova_core"]).map(|_| ())
}

/// Run with a vGPU whose GFW boot never completes (`--no-gfw-boot`).
fn no_gfw_probe_times_out() -> Result<(), String> {
    let d = modules_dir();
    let start = std::time::Instant::now();
    run("insmod", &[&format!("{d}/nova-core.ko")])?;
    let waited = start.elapsed();
    let log = dmesg()?;
    check(
        log.contains("GPU firmware boot (GFW) did not complete within 4000 ms"),
        || "no GFW timeout message".into(),
    )?;
    check(
        log.contains("probe with driver nova_core failed with error -110"),
        || "no 'probe ... failed with error -110' (ETIMEDOUT) line".into(),
    )?;
    // The documented limit is 4 s; the whole insmod must not hang far past it.
    check(waited.as_secs() < 30, || format!("insmod took {waited:?}"))?;
    check(drm::render_nodes_of("nova").is_empty(), || {
        "a nova render node exists".into()
    })?;
    run("rmmod", &["nova_core"]).map(|_| ())
}

/// Run with a vGPU fault knob. The guest script says what must happen through the environment:
/// `EXPECT_MSG` (a substring of nova-core's error line) and `EXPECT_ERRNO` (the probe's error,
/// which the driver core logs as "probe with driver nova_core failed with error -N").
fn probe_fails_as_expected() -> Result<(), String> {
    let msg = std::env::var("EXPECT_MSG").map_err(|_| "EXPECT_MSG not set")?;
    let errno: i32 = std::env::var("EXPECT_ERRNO")
        .ok()
        .and_then(|e| e.parse().ok())
        .ok_or("EXPECT_ERRNO not set")?;
    let d = modules_dir();
    let start = std::time::Instant::now();
    run("insmod", &[&format!("{d}/nova-core.ko")])?;
    let waited = start.elapsed();
    let log = dmesg()?;
    let line = log
        .lines()
        .find(|l| l.contains("nova_core") && l.contains(&msg));
    check(line.is_some(), || {
        format!("no nova_core line containing {msg:?}")
    })?;
    // The driver core logs -ENODEV probe failures only at debug level.
    if errno != libc::ENODEV {
        let core = format!("probe with driver nova_core failed with error -{errno}");
        check(log.contains(&core), || format!("no '{core}' line"))?;
    }
    let bound = std::fs::read_dir("/sys/bus/pci/drivers/nova_core")
        .map_err(|e| e.to_string())?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("0000:"));
    check(!bound, || "nova_core is bound after a failed probe".into())?;
    check(waited.as_secs() < 60, || format!("insmod took {waited:?}"))?;
    check(drm::render_nodes_of("nova").is_empty(), || {
        "a nova render node exists".into()
    })?;
    run("rmmod", &["nova_core"]).map(|_| ())
}

/// A chip `hal.rs` describes but has not brought up (EXPECT_CHIP, e.g. "TU102 (Turing)"):
/// identified, stopped before any firmware runs, and still handed to nova-drm.
fn described_chip_stops() -> Result<(), String> {
    let chip = std::env::var("EXPECT_CHIP").map_err(|_| "EXPECT_CHIP not set")?;
    load_both()?;
    let log = dmesg()?;
    let name = chip.split(' ').next().unwrap_or_default();
    for w in [
        format!("NVIDIA {chip}, rev a1"),
        format!("boot: the GSP boot of {name} is described but not brought up yet; stopping here"),
    ] {
        check(
            log.lines()
                .any(|l| l.contains("nova_core") && l.contains(&w)),
            || format!("no '{w}' line"),
        )?;
    }
    check(!log.contains("FWSEC"), || {
        "FWSEC ran on a chip not brought up".into()
    })?;
    check(drm::render_nodes_of("nova").len() == 1, || {
        "no nova render node".into()
    })?;
    unload_both()
}

/// GSP-RM posts OS_ERROR_LOG and GSP_LOCKDOWN_NOTICE with INIT_DONE (vGPU
/// `--gsp-extra-events`): the boot must count them as events and still match every reply.
fn extra_events_counted() -> Result<(), String> {
    load_both()?;
    let q = debugfs_dir()?.join("gsp_queues");
    let text = std::fs::read_to_string(&q).map_err(|e| format!("{}: {e}", q.display()))?;
    check(field(&text, "events:", "events:")? >= 3, || {
        format!("INIT_DONE and the two extra events not counted: {text}")
    })?;
    check(field(&text, "errors:", "errors:")? == 0, || text.clone())?;
    // The boot's seven commands (see probe_gsp_queues_and_logs).
    check(field(&text, "commands:", "commands:")? == 7, || {
        text.clone()
    })?;
    let log = dmesg()?;
    check(
        log.contains("boot: RM client 0x4e560000, device 0x4e560080, subdevice 0x4e562080"),
        || "RM objects not allocated".into(),
    )?;
    unload_both()
}

/// 20 unbind/bind cycles of the PCI function through sysfs, the modules staying loaded: each
/// bind must boot GSP-RM again and bring the render node back.
fn rebind_twenty_cycles() -> Result<(), String> {
    load_both()?;
    let drv = "/sys/bus/pci/drivers/nova_core";
    let bdf = std::fs::read_dir(drv)
        .map_err(|e| format!("{drv}: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .find(|n| n.starts_with("0000:"))
        .ok_or("nova_core is not bound to any device")?;
    let count = |what: &str| -> Result<usize, String> {
        Ok(dmesg()?.lines().filter(|l| l.contains(what)).count())
    };
    let boots_before = count("boot: GSP-RM started by booter_load in")?;
    for i in 0..20 {
        std::fs::write(format!("{drv}/unbind"), &bdf)
            .map_err(|e| format!("cycle {i}: unbind: {e}"))?;
        check(drm::render_nodes_of("nova").is_empty(), || {
            format!("cycle {i}: render node survived unbind")
        })?;
        std::fs::write(format!("{drv}/bind"), &bdf).map_err(|e| format!("cycle {i}: bind: {e}"))?;
        let f = drm::open_nova().map_err(|e| format!("cycle {i}: {e}"))?;
        let chip = drm::getparam(&f, uapi::NOVA_GETPARAM_CHIPSET)
            .map_err(|e| format!("cycle {i}: errno {e}"))?;
        check(chip == 0x172, || format!("cycle {i}: chipset {chip:#x}"))?;
    }
    let boots = count("boot: GSP-RM started by booter_load in")? - boots_before;
    check(boots == 20, || format!("{boots} GSP-RM boots in 20 binds"))
}
