// SPDX-License-Identifier: GPL-2.0
//! The test suites. Each is a list of named tests; `scripts/vm.sh` picks suites per VM boot.

use crate::bar0::Bar0;
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
        (
            "init_rpc_replies",
            vec![("tolerated", init_rpc_replies_tolerated)],
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

/// The nova_core dmesg line containing `what`.
fn core_line<'a>(log: &'a str, what: &str) -> Result<&'a str, String> {
    log.lines()
        .find(|l| l.contains("nova_core") && l.contains(what))
        .ok_or_else(|| format!("no nova_core line with '{what}'"))
}

/// The hex number right after `key` in `line` (`"... base 0x5f3e01000"`).
fn hex_after(line: &str, key: &str) -> Result<u64, String> {
    let rest = line
        .split_once(key)
        .map(|(_, r)| r)
        .ok_or_else(|| format!("no {key:?} in {line:?}"))?;
    let digits: String = rest
        .trim_start()
        .trim_start_matches("0x")
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u64::from_str_radix(&digits, 16).map_err(|_| format!("no hex number after {key:?} in {line:?}"))
}

/// WPR2 as nova-core must have left it after a probe: set in the registers, and equal to the
/// FRTS region the published FB layout puts below the VGA workspace (computed from the
/// registers, [`Bar0::expected_wpr2`]). Read through BAR0 from user space, not from the driver.
fn wpr2_from_hardware() -> Result<(u64, u64), String> {
    let bar = Bar0::open()?;
    let want = bar.expected_wpr2();
    match bar.wpr2() {
        Some(r) if r == want => Ok(r),
        got => Err(format!(
            "WPR2 registers {got:x?}, want [{:#x}, {:#x}) (FRTS below the VGA workspace)",
            want.0, want.1
        )),
    }
}

fn probe_boot_stages_logged() -> Result<(), String> {
    load_both()?;
    // What the driver reports is compared with the GPU's registers, read through BAR0 here.
    let (w_start, w_end) = wpr2_from_hardware()?;
    let vram = Bar0::open()?.usable_vram();
    let report = debugfs_dir()?.join("boot");
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    for w in [
        "chip: GA102".to_string(),
        format!("vram_bytes: {vram}"),
        format!("wpr2: {w_start:#x}-{w_end:#x}"),
        "stage gfw_wait: ".into(),
        "stage fwsec_frts: ".into(),
        "stage gsp_boot: ".into(),
    ] {
        check(text.contains(&w), || {
            format!("debugfs boot report lacks {w:?} (from the registers): {text:?}")
        })?;
    }
    let log = dmesg()?;
    let want = [
        "boot: GFW boot complete".to_string(),
        format!("boot: VRAM {} MiB, sysmem flush page at 0x", vram >> 20),
        "boot: VBIOS read (196608 bytes) in".into(),
        "boot: firmware files loaded in".into(),
        "boot: FWSEC-FRTS done in".into(),
        format!("WPR2 [{w_start:#x}, {w_end:#x})"),
        "boot: GSP-RM started by booter_load in".into(),
        // A 64 KiB block from the allocator, written and read back through the PRAMIN window.
        "written and read back through PRAMIN".into(),
        // A 64 KiB block given a BAR1 window under GSP-RM's page directory: PRAMIN writes read
        // back through BAR1 and BAR1 writes through PRAMIN (the vGPU translates BAR1 through
        // the page tables the driver wrote, so a wrong page directory fails here).
        "read back through BAR1 at 0x".into(),
    ];
    for w in &want {
        core_line(&log, w)?;
    }
    // GET_GSP_STATIC_INFO's answer as nova-core logs it. Its values are GSP-RM's (the vGPU's
    // model choices), so only their relations to the registers are checked here; the values
    // themselves are compared with the vGPU's trace on the host (tests/vm/check-main.sh).
    let ready = core_line(&log, "boot: GSP-RM ready: GA102, ")?;
    let pde = hex_after(ready, "BAR1 PDE base")?;
    let alloc = core_line(&log, "boot: VRAM allocator: ")?;
    let alloc_end = hex_after(alloc, ", 0x")?;
    let alloc_mib: u64 = alloc
        .split("allocator: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no MiB count in {alloc:?}"))?;
    check(alloc.contains(" in [0x0, "), || {
        format!("allocator range does not start at 0: {alloc:?}")
    })?;
    check(alloc_mib == (alloc_end + 1) >> 20, || {
        format!("{alloc_mib} MiB is not the size of [0, {alloc_end:#x}]: {alloc:?}")
    })?;
    // The allocator ends below GSP-RM's BAR1 page directory, which lies below WPR2.
    check(
        pde.is_multiple_of(4096) && alloc_end < pde && pde < w_start,
        || {
            format!(
                "BAR1 PDE base {pde:#x}, allocator end {alloc_end:#x}, WPR2 start {w_start:#x}: \
                 want allocator < page directory < WPR2, the directory page aligned"
            )
        },
    )?;
    // GETPARAM's free VRAM (the allocator's own count) fits in what the allocator was given.
    let f = drm::open_nova()?;
    let free = drm::getparam(&f, uapi::NOVA_GETPARAM_VRAM_FREE)
        .map_err(|e| format!("GETPARAM VRAM_FREE: errno {e}"))?;
    check(free > 0 && free <= alloc_end + 1, || {
        format!("VRAM_FREE {free:#x}, allocator [0, {alloc_end:#x}]")
    })
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
    queue_counters_agree(&text)?;
    // GSP_RUN_CPU_SEQUENCER and GSP_INIT_DONE are both events of the cold boot.
    check(field(&text, "events:", "events:")? >= 2, || {
        format!("GSP_RUN_CPU_SEQUENCER and GSP_INIT_DONE not counted: {text}")
    })?;
    // The cold boot ran GSP-RM's CPU sequencer (docs/facts/ga102.md §7.4 step 15) to its CORE_RESUME.
    check(dmesg()?.contains("commands; GSP-RM resumed"), || {
        "no 'boot: CPU sequencer ran N commands; GSP-RM resumed' line".into()
    })?;
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
    rm_objects_logged()
}

/// The counters of debugfs `gsp_queues` (`text`) agree with the queue pointers GSP-RM keeps:
/// the command queue's read pointer is written by GSP-RM and the status queue's write pointer
/// too (docs/facts/ga102.md §8.1), so they count, independently of nova-core's counters, the elements
/// GSP-RM consumed and posted. Every boot command and message fits one 4 KiB element (the
/// largest, GET_GSP_STATIC_INFO's reply, is 1656 bytes of payload), so after a boot
/// commands == elements consumed and messages == elements posted, modulo the ring size.
fn queue_counters_agree(text: &str) -> Result<(), String> {
    let commands = field(text, "commands:", "commands:")?;
    let messages = field(text, "messages:", "messages:")?;
    let events = field(text, "events:", "events:")?;
    check(field(text, "errors:", "errors:")? == 0, || text.to_string())?;
    let (cmd_w, cmd_r) = (
        field(text, "cmdq:", "cpu_write")?,
        field(text, "cmdq:", "gsp_read")?,
    );
    let (msg_w, msg_r) = (
        field(text, "msgq:", "gsp_write")?,
        field(text, "msgq:", "cpu_read")?,
    );
    let (cmd_n, msg_n) = (
        field(text, "cmdq:", "entries")?,
        field(text, "msgq:", "entries")?,
    );
    // Everything written was consumed, in both directions.
    check(cmd_w == cmd_r, || {
        format!("GSP-RM left commands unread: {text}")
    })?;
    check(msg_w == msg_r, || format!("messages left unread: {text}"))?;
    check(
        cmd_n > 0 && commands > 0 && commands % cmd_n == cmd_r,
        || format!("{commands} commands counted, GSP-RM's read pointer is {cmd_r}: {text}"),
    )?;
    check(msg_n > 0 && messages % msg_n == msg_w, || {
        format!("{messages} messages counted, GSP-RM's write pointer is {msg_w}: {text}")
    })?;
    // GSP_INIT_DONE is an event (docs/facts/ga102.md §9.3), and at least one reply came.
    check(events >= 1 && messages > events, || {
        format!("{events} events among {messages} messages: {text}")
    })
}

/// nova-core's RM client, device and subdevice line: three distinct, non-zero handles. Which
/// handles GSP-RM accepted, and under which parents, is in the vGPU's trace: the host compares
/// them there (tests/vm/check-main.sh).
fn rm_objects_logged() -> Result<(), String> {
    let log = dmesg()?;
    let line = core_line(&log, "boot: RM client 0x")?;
    check(line.contains(" allocated"), || format!("{line:?}"))?;
    let h = [
        hex_after(line, "client")?,
        hex_after(line, "device")?,
        hex_after(line, "subdevice")?,
    ];
    check(
        h.iter().all(|v| *v != 0 && *v <= u64::from(u32::MAX))
            && h[0] != h[1]
            && h[1] != h[2]
            && h[0] != h[2],
        || format!("RM handles {h:x?}: want three distinct non-zero 32-bit handles"),
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

/// Where the guest finds the GPU firmware (scripts/vm.sh shares it there).
const GSP_FIRMWARE_DIR: &str = "/mnt/firmware/nvidia/ga102/gsp";

/// The GSP-RM version as GETPARAM FW_VERSION encodes it (`major << 32 | minor`), read from the
/// `.fwversion` section of the one `gsp-*.bin` the guest has: the ELF-64 file and section
/// headers are read at their documented offsets (System V gABI, "ELF Header" and "Sections":
/// e_shoff @0x28, e_shentsize @0x3a, e_shnum @0x3c, e_shstrndx @0x3e; sh_name @0x0,
/// sh_offset @0x18, sh_size @0x20).
fn gsp_version_from_firmware() -> Result<u64, String> {
    let files: Vec<_> = std::fs::read_dir(GSP_FIRMWARE_DIR)
        .map_err(|e| format!("{GSP_FIRMWARE_DIR}: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("gsp-"))
        })
        .collect();
    let [path] = files.as_slice() else {
        return Err(format!(
            "want one gsp-*.bin in {GSP_FIRMWARE_DIR}, found {files:?}"
        ));
    };
    fw_version_of(path)
}

/// The `.fwversion` of the GSP-RM ELF at `path` (see [`gsp_version_from_firmware`]).
fn fw_version_of(path: &std::path::Path) -> Result<u64, String> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let at = |off: u64, len: usize| -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; len];
        f.read_exact_at(&mut b, off)
            .map_err(|e| format!("{}: {len} bytes at {off:#x}: {e}", path.display()))?;
        Ok(b)
    };
    let u16_ = |b: &[u8], o: usize| u64::from(u16::from_le_bytes([b[o], b[o + 1]]));
    let u32_ = |b: &[u8], o: usize| u64::from(u32::from_le_bytes(b[o..o + 4].try_into().unwrap()));
    let u64_ = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let eh = at(0, 64)?;
    check(&eh[..5] == b"\x7fELF\x02", || {
        format!("{}: not ELF-64", path.display())
    })?;
    let (shoff, shentsize, shnum, shstrndx) = (
        u64_(&eh, 0x28),
        u16_(&eh, 0x3a),
        u16_(&eh, 0x3c),
        u16_(&eh, 0x3e),
    );
    check(shentsize >= 0x28 && shnum > 0 && shstrndx < shnum, || {
        format!(
            "{}: section table {shentsize} x {shnum}, names {shstrndx}",
            path.display()
        )
    })?;
    let shdrs = at(shoff, (shentsize * shnum) as usize)?;
    let sh = |i: u64| &shdrs[(i * shentsize) as usize..];
    let names = at(u64_(sh(shstrndx), 0x18), u64_(sh(shstrndx), 0x20) as usize)?;
    let name_of = |i: u64| {
        let n = &names[(u32_(sh(i), 0) as usize).min(names.len())..];
        &n[..n.iter().position(|&c| c == 0).unwrap_or(n.len())]
    };
    let i = (0..shnum)
        .find(|&i| name_of(i) == b".fwversion")
        .ok_or_else(|| format!("{}: no .fwversion section", path.display()))?;
    let text = at(u64_(sh(i), 0x18), u64_(sh(i), 0x20) as usize)?;
    let text = String::from_utf8_lossy(&text);
    let text = text.trim_end_matches('\0');
    let (major, minor) = text
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("{}: .fwversion {text:?}", path.display()))?;
    Ok((major << 32) | minor)
}

/// The size of BAR `n` of the NVIDIA function, from its PCI resources (sysfs `resource`: one
/// `start end flags` line per BAR), not from the driver.
fn pci_bar_size(n: usize) -> Result<u64, String> {
    let path = crate::port::nvidia_function()?.join("resource");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    text.lines()
        .nth(n)
        .and_then(|l| {
            let mut w = l.split_whitespace();
            Some((hex(w.next()?)?, hex(w.next()?)?))
        })
        .filter(|&(start, end)| end > start)
        .map(|(start, end)| end - start + 1)
        .ok_or_else(|| format!("{}: no BAR {n} in {text:?}", path.display()))
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
    // Each value against a source other than the driver: the PCI BAR's size, the register
    // GFW boot fills, the firmware file's own version section.
    let (want_bar1, want_vram, want_fw) = (
        pci_bar_size(1)?,
        Bar0::open()?.usable_vram(),
        gsp_version_from_firmware()?,
    );
    check((bar1, vram, fw) == (want_bar1, want_vram, want_fw), || {
        format!(
            "BAR1 {bar1:#x} VRAM {vram:#x} firmware {fw:#x}; want the PCI BAR1 size \
             {want_bar1:#x}, NV_USABLE_FB_SIZE_IN_MB's {want_vram:#x} and .fwversion's {want_fw:#x}"
        )
    })?;
    // GA102 (public chip id 0x172, Ampere 0x17), revision A1 as the vGPU's profile reports.
    check((chipset, arch, rev) == (0x172, 0x17, 0xa1), || {
        format!("chipset {chipset:#x} arch {arch:#x} rev {rev:#x}, want 0x172 0x17 0xa1")
    })
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
        // The unbind released WPR2: the register says so, not only the driver's log.
        let left = Bar0::open()?.wpr2();
        check(left.is_none(), || {
            format!("cycle {i}: WPR2 {left:x?} still set after unload")
        })?;
        load_both().map_err(|e| format!("cycle {i}: {e}"))?;
        wpr2_from_hardware().map_err(|e| format!("cycle {i}: after load: {e}"))?;
        let f = drm::open_nova().map_err(|e| format!("cycle {i}: {e}"))?;
        let chip = drm::getparam(&f, uapi::NOVA_GETPARAM_CHIPSET)
            .map_err(|e| format!("cycle {i}: errno {e}"))?;
        check(chip == 0x172, || format!("cycle {i}: chipset {chip:#x}"))?;
    }
    // Every unbind logged the release of the WPR2 the registers held, and every probe booted
    // GSP-RM again.
    let (w_start, w_end) = wpr2_from_hardware()?;
    let log = dmesg()?;
    let released_line = format!("unload: WPR2 [{w_start:#x}, {w_end:#x}) released in");
    let released = log.lines().filter(|l| l.contains(&released_line)).count();
    let booted = log
        .lines()
        .filter(|l| l.contains("boot: GSP-RM started by booter_load in"))
        .count();
    check(released >= 10 && booted >= 11, || {
        format!("{released} '{released_line}' lines and {booted} GSP-RM boots in the log")
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
    // Every reply still matched its command: the counters agree with GSP-RM's pointers.
    queue_counters_agree(&text)?;
    rm_objects_logged()?;
    unload_both()
}

/// GSP-RM answers SET_SYSTEM_INFO and SET_REGISTRY (vGPU `--init-rpc-replies`; real GSP-RM
/// most likely does not): the boot must take the two replies as events and still match every
/// later reply to its command.
fn init_rpc_replies_tolerated() -> Result<(), String> {
    load_both()?;
    let q = debugfs_dir()?.join("gsp_queues");
    let text = std::fs::read_to_string(&q).map_err(|e| format!("{}: {e}", q.display()))?;
    // The two replies, the sequencer and GSP_INIT_DONE.
    check(field(&text, "events:", "events:")? >= 4, || {
        format!("the init replies were not counted as events: {text}")
    })?;
    // Every command and message counted is one GSP-RM's own queue pointers account for.
    queue_counters_agree(&text)?;
    let log = dmesg()?;
    check(log.contains("boot: CPU sequencer ran "), || {
        "no CPU sequencer line".into()
    })?;
    check(
        log.contains("boot: RM client 0x4e560000, device 0x4e560080, subdevice 0x4e562080"),
        || "RM objects not allocated".into(),
    )?;
    check(drm::render_nodes_of("nova").len() == 1, || {
        "no nova render node".into()
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUES: &str = "cmdq: cpu_write 7 gsp_read 7 entries 63\n\
        msgq: gsp_write 8 cpu_read 8 entries 63\n\
        commands: 7\nmessages: 8\nevents: 1\nerrors: 0\n\
        last_command: 0x4c GSP_RM_CONTROL\nlast_message: 0x4c GSP_RM_CONTROL\n";

    /// The counters must match GSP-RM's pointers; each way of not matching fails.
    #[test]
    fn queue_counters_must_match_gsp_rms_pointers() {
        assert_eq!(queue_counters_agree(QUEUES), Ok(()));
        for (from, to) in [
            ("commands: 7", "commands: 6"),
            ("messages: 8", "messages: 9"),
            ("gsp_read 7", "gsp_read 6"),
            ("cpu_read 8", "cpu_read 7"),
            ("errors: 0", "errors: 1"),
            ("events: 1", "events: 0"),
            ("events: 1", "events: 8"),
        ] {
            let bad = QUEUES.replace(from, to);
            assert!(queue_counters_agree(&bad).is_err(), "{to}: passed");
        }
        // Past the ring's size the pointers wrap.
        let wrapped = QUEUES
            .replace("commands: 7", "commands: 70")
            .replace("messages: 8", "messages: 71");
        assert_eq!(queue_counters_agree(&wrapped), Ok(()));
    }

    #[test]
    fn hex_after_reads_the_number() {
        let l = "nova_core 0000:00:03.0: boot: GSP-RM ready: GA102, 2 FB region(s), BAR1 PDE \
                 base 0x5f3e01000";
        assert_eq!(hex_after(l, "BAR1 PDE base"), Ok(0x5f3e01000));
        let l = "boot: RM client 0x4e560000, device 0x4e560080, subdevice 0x4e562080 allocated";
        assert_eq!(hex_after(l, "client"), Ok(0x4e560000));
        assert_eq!(hex_after(l, "device"), Ok(0x4e560080));
        assert_eq!(hex_after(l, "subdevice"), Ok(0x4e562080));
        assert!(hex_after(l, "channel").is_err());
    }

    /// The `.fwversion` reader on the real file (the host's copy, where the host tests find
    /// the firmware: `$NOVA_FIRMWARE_DIR`, else `$HOME/.cache/nova/firmware/lib/firmware`).
    #[test]
    fn fwversion_of_the_real_gsp_file() {
        let dir = std::env::var_os("NOVA_FIRMWARE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(&std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/nova/firmware/lib/firmware")
            });
        let path = dir.join("nvidia/ga102/gsp/gsp-570.144.bin");
        assert_eq!(fw_version_of(&path), Ok((570 << 32) | 144));
        let bad = dir.join("nvidia/ga102/gsp/booter_load-570.144.bin");
        assert!(fw_version_of(&bad).is_err());
    }
}
