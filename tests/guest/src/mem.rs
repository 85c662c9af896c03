// SPDX-License-Identifier: GPL-2.0
//! Suite "mem" (issue #5): GEM objects in system memory and VRAM, PRIME, VM_BIND, every
//! documented error of the uAPI, and stress.
//!
//! The VM_BIND tests check the GPU's view through the vGPU's engine access port (`port.rs`;
//! the vGPU must run with `VGPU_TEST_PORT=1`), with the VM's instance block address taken from
//! nova-drm's debugfs VM list (`vms.rs`). Faults must show up in dmesg as a line matching
//! [`MMU_FAULT_LINE`].

use crate::port::{self, Aperture, Inst, Port};
use crate::suites::{dmesg, load_both};
use crate::util::{align_up, check, expect_err, poll_until, Ctx};
use crate::vms::{self, Backing, MapEntry};
use crate::Test;
use libnova::{drm, raw, uapi, Bo, Device, Error, Info, Mapping, Op, Placement, Vm};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// The driver's MMU-fault report in dmesg (nova-core logs it when GSP-RM queues a fault).
/// The exact line is not fixed yet: keep this loose.
pub const MMU_FAULT_LINE: &str = r"(?i)\bmmu fault\b";
/// Whether a fault report must also name the faulting (page-aligned) VA as `0x…` hex.
pub const FAULT_LINE_NAMES_VA: bool = true;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// The tests, in run order.
pub fn tests() -> Vec<Test> {
    vec![
        ("gem_sysmem_sizes", gem_sysmem_sizes),
        ("gem_vram_sizes_and_vram_free", gem_vram_sizes),
        ("gem_vram_aligned", gem_vram_aligned),
        ("prime_sysmem_shared_between_files", prime_sysmem),
        ("prime_vram_export_is_eopnotsupp", prime_vram_export),
        ("foreign_objects_refused_by_handle_ioctls", foreign_objects),
        ("vm_create_destroy_and_limit", vm_create_and_limit),
        ("bind_sysmem_4k_pages_gpu_view", bind_sysmem_4k),
        ("bind_vram_2m_pages_gpu_view", bind_vram_2m),
        ("bind_vram_64k_pages_gpu_view", bind_vram_64k),
        ("debugfs_lists_vm_and_mappings", debugfs_lists),
        ("unmap_faults_reported_device_recovers", unmap_faults),
        ("fault_reported_with_no_ioctl", fault_reported_with_no_ioctl),
        ("read_only_map_faults_on_write", read_only_faults),
        ("sparse_reads_zero_without_fault", sparse_reads_zero),
        ("partial_unmap_keeps_both_ends", partial_unmap),
        ("bad_gem_create", bad_gem_create),
        ("bad_gem_info_and_mmap_offset", bad_gem_info_mmap),
        ("bad_vm_create_destroy", bad_vm_create_destroy),
        ("bad_bind_header", bad_bind_header),
        ("bad_bind_ops_nothing_applied", bad_bind_ops),
        ("bind_state_errors", bind_state_errors),
        ("batch_stops_at_failing_op", batch_stops_at_failing_op),
        ("stress_10k_gem_cycles", stress_10k_cycles),
        ("stress_16_processes", stress_16_processes),
    ]
}

// --- helpers -----------------------------------------------------------------------------

/// The loaded driver, an open render node and its parameters.
struct Gpu {
    dev: Device,
    info: Info,
}

fn gpu() -> Result<Gpu, String> {
    load_both()?;
    let dev = Device::open().ctx("open the nova render node")?;
    let info = dev.info().ctx("GETPARAMs")?;
    check(info.va_end > info.va_start, || {
        format!(
            "VA window [{:#x}, {:#x}) is empty",
            info.va_start, info.va_end
        )
    })?;
    Ok(Gpu { dev, info })
}

impl Gpu {
    /// The `n`-th 256 MiB slot of the VA window (1 GiB aligned start): tests put each mapping
    /// in its own slot, at an offset that decides which page sizes can be used.
    fn slot(&self, n: u64) -> Result<u64, String> {
        let va = align_up(self.info.va_start.max(GIB), GIB) + n * 256 * MIB;
        check(va + 256 * MIB <= self.info.va_end, || {
            format!(
                "VA slot {n} at {va:#x} is past VA_END {:#x}",
                self.info.va_end
            )
        })?;
        Ok(va)
    }

    fn vram_free(&self) -> Result<u64, String> {
        self.dev.vram_free().ctx("GETPARAM VRAM_FREE")
    }

    /// Waits (up to 2 s) for VRAM_FREE to read `want`: freeing may finish just after a close.
    fn vram_free_back_to(&self, want: u64, when: &str) -> Result<(), String> {
        poll_until(
            when,
            Duration::from_secs(2),
            Duration::from_millis(20),
            || {
                let now = self.vram_free()?;
                Ok((now != want).then(|| {
                    format!(
                        "VRAM_FREE {now:#x}, want {want:#x} (differs by {})",
                        now as i128 - want as i128
                    )
                }))
            },
        )
    }
}

/// The value of the 8-byte word at byte offset `off` of pattern `seed`.
fn word(seed: u64, off: usize) -> u64 {
    ((off as u64) | 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed
}

/// Whether a VRAM mapping's word at byte `off` is written and checked. Every CPU access to
/// VRAM goes through the trapped BAR1 (one vfio-user round trip each), so VRAM objects get a
/// sample: in each 4 KiB page the words covering bytes [0, 32), [2048, 2080) and the last one,
/// which include every offset [`samples`] gives the port checks.
fn vram_sampled(off: usize) -> bool {
    let o = off % 4096;
    o < 32 || (2048..2080).contains(&o) || o >= 4088
}

/// Whether the word at byte `off` of a mapping in `placement` is written and checked: every
/// word of system memory, [`vram_sampled`] words of VRAM.
fn touched(placement: Placement, off: usize) -> bool {
    placement != Placement::Vram || vram_sampled(off)
}

/// Fills the mapping with pattern `seed` (the words [`touched`] selects).
fn fill_placed(m: &mut Mapping, seed: u64, placement: Placement) {
    // SAFETY: any bit pattern is a valid u64; the bytes are ours through `&mut`.
    let (pre, words, post) = unsafe { m.as_mut_slice().align_to_mut::<u64>() };
    assert!(
        pre.is_empty() && post.is_empty(),
        "mapping not page aligned"
    );
    for (i, w) in words.iter_mut().enumerate() {
        if touched(placement, i * 8) {
            *w = word(seed, i * 8);
        }
    }
}

/// Checks what [`fill_placed`] wrote.
fn verify_placed(m: &Mapping, seed: u64, placement: Placement) -> Result<(), String> {
    // SAFETY: any bit pattern is a valid u64; read-only.
    let (pre, words, post) = unsafe { m.as_slice().align_to::<u64>() };
    assert!(
        pre.is_empty() && post.is_empty(),
        "mapping not page aligned"
    );
    match words
        .iter()
        .enumerate()
        .find(|(i, w)| touched(placement, i * 8) && **w != word(seed, i * 8))
    {
        None => Ok(()),
        Some((i, w)) => Err(format!(
            "byte {:#x} of {:#x}: read {w:#018x}, wrote {:#018x}",
            i * 8,
            m.len(),
            word(seed, i * 8)
        )),
    }
}

/// Offsets (4-byte aligned, in `[0, len)`) worth reading through the port: the first, a middle
/// and the last word of up to 16 pages of `page` bytes spread over the range.
fn samples(len: u64, page: u64) -> Vec<u64> {
    let pages = len.div_ceil(page);
    let step = (pages / 16).max(1);
    let mut v = vec![];
    let mut p = 0;
    while p < pages {
        let base = p * page;
        for off in [base, base + page / 2 + 4 * (p % 7), base + page - 4] {
            if off < len {
                v.push(off);
            }
        }
        p += step;
    }
    v.push(len - 4);
    v.sort_unstable();
    v.dedup();
    v
}

/// The port, with a VM's instance block from debugfs.
struct GpuView {
    port: Port,
    inst: Inst,
}

fn gpu_view(g: &Gpu, vm: &Vm) -> Result<GpuView, String> {
    let port = Port::open(g.dev.pci_address().as_deref())?;
    let e = vms::mine(vm.id())?;
    check(e.inst.addr != 0 && e.inst.addr % 4096 == 0, || {
        format!("VM {}: instance block address {:#x}", vm.id(), e.inst.addr)
    })?;
    Ok(GpuView { port, inst: e.inst })
}

impl GpuView {
    fn read(&self, va: u64) -> Result<port::Access, String> {
        self.port.read32(self.inst, va)
    }

    /// `va` must fault with one of `types`; returns the type.
    fn expect_fault(&self, va: u64, write: bool, types: &[u32]) -> Result<u32, String> {
        let a = if write {
            self.port.write32(self.inst, va, 0xbad0_bad0)?
        } else {
            self.read(va)?
        };
        let what = if write { "write" } else { "read" };
        match a.fault() {
            Some(t) if types.contains(&t) => Ok(t),
            Some(t) => Err(format!(
                "GPU {what} at {va:#x}: fault type {t}, want one of {types:?}"
            )),
            None => Err(format!(
                "GPU {what} at {va:#x}: no fault (read {:#x}), want one of types {types:?}",
                a.data
            )),
        }
    }

    /// Through the port, `[va, va + len)` shows bytes `[bo_off, bo_off + len)` of `m`: each
    /// sample reads the CPU's word, translates through pages of `page` bytes in VRAM or in
    /// system memory (`sys`), and the physical address keeps the VA's offset in the page.
    fn sees(
        &self,
        va: u64,
        m: &Mapping,
        bo_off: u64,
        len: u64,
        page: u64,
        sys: bool,
    ) -> Result<(), String> {
        for off in samples(len, page) {
            let a = self.read(va + off)?;
            let got = a.ok(va + off)?;
            let cpu = m.read_u32((bo_off + off) as usize);
            check(got == cpu, || {
                format!(
                    "GPU read at VA {:#x}: {got:#010x}, CPU wrote {cpu:#010x} at object offset {:#x}",
                    va + off,
                    bo_off + off
                )
            })?;
            let shift = a.page_shift();
            check(1u64 << shift == page, || {
                format!(
                    "VA {:#x}: translated with {} byte pages, want {page}",
                    va + off,
                    1u64 << shift.min(63)
                )
            })?;
            let ap = a.page_aperture();
            let ap_ok = match ap {
                Some(ap) if sys => ap.is_system(),
                Some(ap) => ap == Aperture::Vram,
                None => false,
            };
            check(ap_ok, || {
                format!(
                    "VA {:#x}: page aperture {ap:?} (XLATE {:#x}), want {}",
                    va + off,
                    a.xlate,
                    if sys { "system memory" } else { "VRAM" }
                )
            })?;
            check((a.pa ^ (va + off)) & (page - 1) == 0, || {
                format!(
                    "VA {:#x} translated to PA {:#x}: offset in the {page}-byte page differs",
                    va + off,
                    a.pa
                )
            })?;
        }
        Ok(())
    }

    /// Writes through the port at a few offsets of `[va, va + len)` show up in `m` (at
    /// `bo_off` + offset) and read back through the port.
    fn writes_land(&self, va: u64, m: &Mapping, bo_off: u64, len: u64) -> Result<(), String> {
        for (i, off) in [0, len / 2 + 8, len - 4].into_iter().enumerate() {
            let v = 0xc0de_0000 | i as u32;
            let a = self.port.write32(self.inst, va + off, v)?;
            a.ok(va + off)?;
            let cpu = m.read_u32((bo_off + off) as usize);
            check(cpu == v, || {
                format!(
                    "GPU wrote {v:#x} at VA {:#x}; the CPU mapping reads {cpu:#x}",
                    va + off
                )
            })?;
            let back = self.read(va + off)?.ok(va + off)?;
            check(back == v, || {
                format!(
                    "GPU wrote {v:#x} at VA {:#x}, reads back {back:#x}",
                    va + off
                )
            })?;
        }
        Ok(())
    }
}

/// dmesg lines matching [`MMU_FAULT_LINE`].
fn fault_lines() -> Result<Vec<String>, String> {
    let re = regex::Regex::new(MMU_FAULT_LINE).ctx("MMU_FAULT_LINE")?;
    Ok(dmesg()?
        .lines()
        .filter(|l| re.is_match(l))
        .map(str::to_string)
        .collect())
}

/// A fault report for `va` appears in dmesg after the lines in `before`. With `dev`, an ioctl
/// is issued between looks (it must make no difference: nova-core reports faults from its
/// interrupt path); without, nothing but dmesg is read.
fn expect_fault_reported(dev: Option<&Device>, before: &[String], va: u64) -> Result<(), String> {
    let hex = format!("{va:#x}");
    let what = format!(
        "a dmesg line matching {MMU_FAULT_LINE:?}{} after the fault",
        if FAULT_LINE_NAMES_VA {
            format!(" and naming {hex}")
        } else {
            String::new()
        }
    );
    // Each look runs `dmesg`, so looks are 50 ms apart.
    poll_until(
        what,
        Duration::from_secs(5),
        Duration::from_millis(50),
        || {
            if let Some(dev) = dev {
                let _ = dev.getparam(uapi::NOVA_GETPARAM_VRAM_FREE);
            }
            let lines = fault_lines()?;
            // New lines: those after the last line seen before (dmesg's ring may have wrapped).
            let start = before
                .last()
                .and_then(|last| lines.iter().rposition(|l| l == last))
                .map_or(0, |i| i + 1);
            let new = &lines[start.min(lines.len())..];
            Ok(
                (!new.iter().any(|l| !FAULT_LINE_NAMES_VA || l.contains(&hex)))
                    .then(|| format!("new matching lines: {new:?}")),
            )
        },
    )
}

/// The mappings debugfs lists for `vm`, sorted by VA.
fn listed_maps(vm: &Vm) -> Result<Vec<MapEntry>, String> {
    let mut m = vms::mine(vm.id())?.maps;
    m.sort_by_key(|e| e.va);
    Ok(m)
}

/// An object of `size` bytes filled with pattern `seed` (see [`fill_placed`]), and its mapping.
fn filled(
    dev: &Device,
    size: u64,
    placement: Placement,
    align: u64,
    seed: u64,
) -> Result<(Bo, Mapping), String> {
    let bo = Bo::new(dev, size, placement, align).ctx(format!(
        "GEM_CREATE {size:#x} {placement:?} align {align:#x}"
    ))?;
    let mut m = bo.map().ctx("mmap")?;
    fill_placed(&mut m, seed, placement);
    Ok((bo, m))
}

// --- GEM ---------------------------------------------------------------------------------

/// Creates, checks, maps, fills and verifies one object; returns it.
fn gem_roundtrip(
    g: &Gpu,
    size: u64,
    placement: Placement,
    align: u64,
    seed: u64,
) -> Result<Bo, String> {
    let what = format!("{placement:?} object of {size:#x} bytes (align {align:#x})");
    let bo = Bo::new(&g.dev, size, placement, align).ctx(format!("create {what}"))?;
    let want = placement.round(size).unwrap_or(0);
    check(bo.size() == want, || {
        format!("{what}: size {:#x}, want {want:#x}", bo.size())
    })?;
    let info = bo.info().ctx(format!("GEM_INFO of {what}"))?;
    check(info.size == want && info.flags == placement.flags(), || {
        format!(
            "{what}: GEM_INFO {info:?}, want size {want:#x} flags {:#x}",
            placement.flags()
        )
    })?;
    let mut m = bo.map().ctx(format!("mmap {what}"))?;
    check(m.len() as u64 == want, || {
        format!("{what}: mapped {:#x} bytes", m.len())
    })?;
    fill_placed(&mut m, seed, placement);
    // Read back through a second mapping made after the first is gone: reading the mapping
    // just written would pass for any memory behind it, not only the object's.
    drop(m);
    let m = bo.map().ctx(format!("second mmap of {what}"))?;
    verify_placed(&m, seed, placement).ctx(format!("{what}, second mapping"))?;
    Ok(bo)
}

fn gem_sysmem_sizes() -> Result<(), String> {
    let g = gpu()?;
    for (i, size) in [4 * KIB, 5000, 64 * KIB, MIB + 4 * KIB, 16 * MIB, 64 * MIB]
        .into_iter()
        .enumerate()
    {
        gem_roundtrip(&g, size, Placement::System, 0, 0x5150_0000 + i as u64)?;
    }
    Ok(())
}

fn gem_vram_sizes() -> Result<(), String> {
    let g = gpu()?;
    let start = g.vram_free()?;
    for (i, size) in [
        4 * KIB,
        64 * KIB,
        100 * KIB,
        MIB + 4 * KIB,
        2 * MIB,
        16 * MIB,
        64 * MIB,
    ]
    .into_iter()
    .enumerate()
    {
        let before = g.vram_free()?;
        let bo = Bo::new(&g.dev, size, Placement::Vram, 0).ctx(format!("VRAM {size:#x}"))?;
        let after = g.vram_free()?;
        check(before.checked_sub(after) == Some(bo.size()), || {
            format!(
                "VRAM object of {:#x} bytes: VRAM_FREE went from {before:#x} to {after:#x}",
                bo.size()
            )
        })?;
        drop(bo);
        g.vram_free_back_to(before, &format!("after closing a {size:#x} VRAM object"))?;
        let bo = gem_roundtrip(&g, size, Placement::Vram, 0, 0x7a50_0000 + i as u64)?;
        drop(bo);
        g.vram_free_back_to(
            before,
            &format!("after mapping and closing a {size:#x} VRAM object"),
        )?;
    }
    g.vram_free_back_to(start, "at the end")
}

fn gem_vram_aligned() -> Result<(), String> {
    let g = gpu()?;
    let start = g.vram_free()?;
    for (size, align) in [
        (64 * KIB, 2 * MIB),
        (4 * MIB, 2 * MIB),
        (MIB, 64 * KIB),
        (3 * MIB, GIB),
    ] {
        let bo = gem_roundtrip(&g, size, Placement::Vram, align, size ^ align)?;
        let used = start.saturating_sub(g.vram_free()?);
        check(used >= bo.size(), || {
            format!("{size:#x} VRAM object aligned {align:#x}: VRAM_FREE dropped by only {used:#x}")
        })?;
        drop(bo);
        g.vram_free_back_to(
            start,
            &format!("after closing the {size:#x}/{align:#x} object"),
        )?;
    }
    Ok(())
}

// --- PRIME -------------------------------------------------------------------------------

fn prime_sysmem() -> Result<(), String> {
    let g = gpu()?;
    let size = MIB + 4 * KIB;
    let (bo, m) = filled(&g.dev, size, Placement::System, 0, 0x9a1e)?;
    let fd = bo.export().ctx("PRIME export of a system-memory object")?;
    // A second open of the device, as another client would have.
    let other = Device::open().ctx("second open")?;
    let imported = Bo::import(&other, std::os::fd::AsFd::as_fd(&fd)).ctx("PRIME import")?;
    let info = imported.info().ctx("GEM_INFO of the import")?;
    check(
        info.size == bo.size() && imported.size() == bo.size(),
        || format!("imported GEM_INFO {info:?}, exported size {:#x}", bo.size()),
    )?;
    check(info.flags == 0, || {
        format!("imported object flags {:#x}, want 0", info.flags)
    })?;
    let mut m2 = imported.map().ctx("mmap of the import")?;
    verify_placed(&m2, 0x9a1e, Placement::System).ctx("the importer's mapping")?;
    // Writes in either mapping are seen in the other.
    m2.write_u32(4096, 0x1234_5678);
    check(m.read_u32(4096) == 0x1234_5678, || {
        "exporter does not see the importer's write".into()
    })?;
    // Importing into the exporting file gives back the same handle; libnova counts it.
    let again = Bo::import(&g.dev, std::os::fd::AsFd::as_fd(&fd)).ctx("self-import")?;
    check(again.handle() == bo.handle(), || {
        format!("self-import handle {} != {}", again.handle(), bo.handle())
    })?;
    drop(again);
    bo.info()
        .ctx("GEM_INFO after dropping the self-import (handle closed too early?)")?;
    // The importer's object outlives the exporter's handle, file and dma-buf fd.
    drop(bo);
    drop(m);
    drop(fd);
    drop(g);
    check(m2.read_u32(4096) == 0x1234_5678, || {
        "importer lost the data".into()
    })?;
    imported
        .info()
        .ctx("GEM_INFO of the import after the exporter closed")?;
    Ok(())
}

fn prime_vram_export() -> Result<(), String> {
    let g = gpu()?;
    let bo = Bo::new(&g.dev, 64 * KIB, Placement::Vram, 0).ctx("VRAM object")?;
    expect_err(
        "PRIME export of a VRAM object",
        bo.export(),
        libc::EOPNOTSUPP,
    )
}

// --- foreign objects ---------------------------------------------------------------------

/// A 64 KiB dumb buffer (128 x 128 x 32 bpp) made with `DRM_IOCTL_MODE_CREATE_DUMB` on `card`.
fn create_dumb(card: &Device, what: &str) -> Result<drm::DrmModeCreateDumb, String> {
    let mut c = drm::DrmModeCreateDumb {
        width: 128,
        height: 128,
        bpp: 32,
        ..Default::default()
    };
    // SAFETY: CREATE_DUMB takes a drm_mode_create_dumb and touches nothing else.
    unsafe { card.ioctl("MODE_CREATE_DUMB", drm::DRM_IOCTL_MODE_CREATE_DUMB, &mut c) }
        .ctx(format!("CREATE_DUMB on {what}"))?;
    check(c.size >= 64 * KIB, || {
        format!(
            "{what}: dumb buffer of {:#x} bytes, want at least 64 KiB",
            c.size
        )
    })?;
    Ok(c)
}

/// Exports `handle` of `from` as a dma-buf and imports it into `into`: the handle in `into`
/// (not owned by a [`Bo`]; the caller closes it).
fn reimport(from: &Device, handle: u32, into: &Device, what: &str) -> Result<u32, String> {
    let mut e = drm::DrmPrimeHandle {
        handle,
        flags: drm::DRM_CLOEXEC | drm::DRM_RDWR,
        fd: -1,
    };
    raw::prime_handle_to_fd(from, &mut e).ctx(format!("PRIME export of {what}"))?;
    check(e.fd >= 0, || format!("PRIME export of {what}: fd {}", e.fd))?;
    // SAFETY: the kernel installed a new file descriptor for us; nothing else owns it.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(e.fd) };
    let mut i = drm::DrmPrimeHandle {
        handle: 0,
        flags: 0,
        fd: fd.as_raw_fd(),
    };
    raw::prime_fd_to_handle(into, &mut i).ctx(format!("PRIME import of {what} into nova"))?;
    Ok(i.handle)
}

/// Every nova ioctl that takes a GEM handle, on `handle` of `g.dev`: `errno` from each, or
/// success with the size `size` when `errno` is 0. VM_BIND gets a batch whose first op maps
/// `own` (a nova object of 64 KiB) and whose second maps the first 64 KiB of `handle`: nothing
/// may be applied when the second op fails.
fn handle_ioctls(
    g: &Gpu,
    vm: &Vm,
    own: &Bo,
    handle: u32,
    size: u64,
    errno: i32,
    what: &str,
) -> Result<(), String> {
    let mut i = uapi::DrmNovaGemInfo {
        handle,
        ..Default::default()
    };
    let mut o = uapi::DrmNovaGemMmapOffset {
        handle,
        ..Default::default()
    };
    let (va_own, va) = (g.slot(0)?, g.slot(1)?);
    let ops = [
        Op::map(own, va_own, 0, 64 * KIB).encode(),
        uapi::DrmNovaVmBindOp {
            handle,
            ..Op::map(own, va, 0, 64 * KIB).encode()
        },
    ];
    if errno == 0 {
        raw::gem_info(&g.dev, &mut i).ctx(format!("GEM_INFO of {what}"))?;
        check(i.size == size, || {
            format!("GEM_INFO of {what}: size {:#x}, want {size:#x}", i.size)
        })?;
        raw::gem_mmap_offset(&g.dev, &mut o).ctx(format!("GEM_MMAP_OFFSET of {what}"))?;
        let len = usize::try_from(size).map_err(|e| e.to_string())?;
        Mapping::new(g.dev.as_fd(), o.offset, len).ctx(format!("mmap of {what}"))?;
        vm.bind_raw(&ops)
            .map_err(|e| format!("VM_BIND MAP of {what}: {e}"))?;
        return vm
            .unmap(va_own, 64 * KIB)
            .and_then(|()| vm.unmap(va, 64 * KIB))
            .ctx("UNMAP");
    }
    expect_err(
        format!("GEM_INFO of {what}"),
        raw::gem_info(&g.dev, &mut i),
        errno,
    )?;
    expect_err(
        format!("GEM_MMAP_OFFSET of {what}"),
        raw::gem_mmap_offset(&g.dev, &mut o),
        errno,
    )?;
    match vm.bind_raw(&ops) {
        Err(e) if e.errno() == errno && e.applied == 0 => Ok(()),
        Err(e) => Err(format!(
            "VM_BIND MAP of {what} after a good MAP: {e}, want {} with nothing applied",
            crate::util::errno_str(errno)
        )),
        Ok(()) => Err(format!(
            "VM_BIND MAP of {what}: succeeded, want {}",
            crate::util::errno_str(errno)
        )),
    }?;
    // Nothing was applied: the good op's range is still free.
    vm.map(own, va_own)
        .and_then(|()| vm.unmap(va_own, own.size()))
        .ctx(format!(
            "MAP of the nova object after the refused batch with {what}"
        ))
}

/// Objects nova did not create (a dumb buffer made by the shmem helpers on nova's own card
/// node, a vgem dumb buffer imported as a dma-buf) are refused with `EINVAL` by GEM_INFO,
/// GEM_MMAP_OFFSET and VM_BIND MAP, while a nova object exported and imported into another
/// nova file is nova's and works in all three. The core's ioctls still work on the foreign
/// objects (MAP_DUMB, GEM_CLOSE). Any splat in dmesg fails the run.
fn foreign_objects() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let own = Bo::new(&g.dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;

    // A nova object imported into another nova file is still nova's.
    let other = Device::open().ctx("second open of the nova render node")?;
    let bo = Bo::new(&other, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE (other file)")?;
    let h = reimport(&other, bo.handle(), &g.dev, "a nova object")?;
    let r = handle_ioctls(&g, &vm, &own, h, 64 * KIB, 0, "a re-imported nova object");
    raw::gem_close(&g.dev, h).ctx("GEM_CLOSE of the re-imported nova object")?;
    r?;

    // A dumb buffer that the shmem helpers create on nova's card node, seen through a handle
    // of the card file itself and, re-imported, of the render file.
    let card_path = libnova::nodes_of(libnova::DRIVER_NAME, "card")
        .into_iter()
        .next()
        .ok_or("no card node of nova in /dev/dri")?;
    let card = Device::open_path(&card_path).ctx("open nova's card node")?;
    let dumb = create_dumb(&card, "nova's card node")?;
    let h = reimport(&card, dumb.handle, &g.dev, "a nova dumb buffer")?;
    let r = handle_ioctls(
        &g,
        &vm,
        &own,
        h,
        dumb.size,
        libc::EINVAL,
        "a nova dumb buffer",
    );
    raw::gem_close(&g.dev, h).ctx("GEM_CLOSE of the imported nova dumb buffer")?;
    r?;
    let card_gpu = Gpu {
        dev: card.clone(),
        info: g.info,
    };
    let card_vm = Vm::new(&card).ctx("VM_CREATE on the card node")?;
    let card_own = Bo::new(&card, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE on card")?;
    handle_ioctls(
        &card_gpu,
        &card_vm,
        &card_own,
        dumb.handle,
        dumb.size,
        libc::EINVAL,
        "a dumb buffer in its own card file",
    )?;
    // The core's dumb-buffer path still maps it.
    let mut md = drm::DrmModeMapDumb {
        handle: dumb.handle,
        ..Default::default()
    };
    // SAFETY: MAP_DUMB takes a drm_mode_map_dumb and touches nothing else.
    unsafe { card.ioctl("MODE_MAP_DUMB", drm::DRM_IOCTL_MODE_MAP_DUMB, &mut md) }
        .ctx("MAP_DUMB of the nova dumb buffer")?;
    let len = usize::try_from(dumb.size).map_err(|e| e.to_string())?;
    let mut m = Mapping::new(card.as_fd(), md.offset, len).ctx("mmap of the dumb buffer")?;
    m.write_u32(0, 0x0d0e_0f10);
    check(m.read_u32(0) == 0x0d0e_0f10, || {
        "dumb buffer mapping lost a write".into()
    })?;
    drop(m);
    raw::gem_close(&card, dumb.handle).ctx("GEM_CLOSE of the nova dumb buffer")?;

    // A dma-buf of another device (vgem), imported into nova.
    let vgem_path = libnova::nodes_of("vgem", "card")
        .into_iter()
        .next()
        .ok_or("no vgem card node in /dev/dri (CONFIG_DRM_VGEM)")?;
    let vgem = Device::open_path(&vgem_path).ctx("open vgem's card node")?;
    let vdumb = create_dumb(&vgem, "vgem")?;
    let h = reimport(&vgem, vdumb.handle, &g.dev, "a vgem dumb buffer")?;
    let r = handle_ioctls(
        &g,
        &vm,
        &own,
        h,
        vdumb.size,
        libc::EINVAL,
        "an imported vgem dma-buf",
    );
    raw::gem_close(&g.dev, h).ctx("GEM_CLOSE of the imported vgem dma-buf")?;
    r?;
    raw::gem_close(&vgem, vdumb.handle).ctx("GEM_CLOSE of the vgem dumb buffer")?;

    // Unknown handles are still ENOENT, not EINVAL.
    expect_err(
        "GEM_INFO of the closed import",
        raw::gem_info(
            &g.dev,
            &mut uapi::DrmNovaGemInfo {
                handle: h,
                ..Default::default()
            },
        ),
        libc::ENOENT,
    )
}

// --- VM create/destroy -------------------------------------------------------------------

fn vm_create_and_limit() -> Result<(), String> {
    let g = gpu()?;
    let mut ids = vec![];
    for i in 0..uapi::NOVA_VM_MAX_PER_FILE {
        let id = raw::vm_create(&g.dev, 0).ctx(format!("VM_CREATE #{i}"))?;
        check(id != 0 && !ids.contains(&id), || {
            format!("VM id {id} (have {ids:?})")
        })?;
        ids.push(id);
    }
    expect_err(
        "VM_CREATE past NOVA_VM_MAX_PER_FILE",
        raw::vm_create(&g.dev, 0),
        libc::ENOSPC,
    )?;
    raw::vm_destroy(&g.dev, ids[10]).ctx("VM_DESTROY")?;
    expect_err(
        "VM_DESTROY twice",
        raw::vm_destroy(&g.dev, ids[10]),
        libc::ENOENT,
    )?;
    let id = raw::vm_create(&g.dev, 0).ctx("VM_CREATE after a destroy")?;
    ids[10] = id;
    // Each file has its own VMs: another open may create its own.
    let other = Device::open().ctx("second open")?;
    drop(Vm::new(&other).ctx("VM_CREATE in a second file")?);
    for id in ids {
        raw::vm_destroy(&g.dev, id).ctx(format!("VM_DESTROY {id}"))?;
    }
    Ok(())
}

// --- VM_BIND seen from the GPU -----------------------------------------------------------

fn bind_sysmem_4k() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (bo, m) = filled(&g.dev, 256 * KIB, Placement::System, 0, 0x4b)?;
    // 4 KiB aligned but not 64 KiB aligned: only 4 KiB pages fit.
    let va = g.slot(0)? + 4 * KIB;
    vm.map(&bo, va).ctx(format!("MAP at {va:#x}"))?;
    view.sees(va, &m, 0, bo.size(), 4 * KIB, true)?;
    view.writes_land(va, &m, 0, bo.size())?;
    // Part of the object, from an offset, at a second VA.
    let va2 = g.slot(1)? + 4 * KIB;
    vm.bind(&[Op::map(&bo, va2, 64 * KIB, 64 * KIB)])
        .ctx("MAP with bo_offset")?;
    view.sees(va2, &m, 64 * KIB, 64 * KIB, 4 * KIB, true)
}

fn bind_vram_2m() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (bo, m) = filled(&g.dev, 4 * MIB, Placement::Vram, 2 * MIB, 0x2a)?;
    let va = g.slot(0)?;
    vm.map(&bo, va).ctx(format!("MAP at {va:#x}"))?;
    view.sees(va, &m, 0, bo.size(), 2 * MIB, false)?;
    let pa = view.read(va)?.pa;
    check(pa % (2 * MIB) == 0, || {
        format!("object aligned 2 MiB at PA {pa:#x}")
    })?;
    view.writes_land(va, &m, 0, bo.size())?;
    // The second half at another 2 MiB-aligned VA.
    let va2 = g.slot(1)?;
    vm.bind(&[Op::map(&bo, va2, 2 * MIB, 2 * MIB)])
        .ctx("MAP with bo_offset 2 MiB")?;
    view.sees(va2, &m, 2 * MIB, 2 * MIB, 2 * MIB, false)
}

fn bind_vram_64k() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (bo, m) = filled(&g.dev, MIB, Placement::Vram, 64 * KIB, 0x64)?;
    // 64 KiB aligned, not 2 MiB aligned.
    let va = g.slot(0)? + 64 * KIB;
    vm.map(&bo, va).ctx(format!("MAP at {va:#x}"))?;
    view.sees(va, &m, 0, bo.size(), 64 * KIB, false)?;
    view.writes_land(va, &m, 0, bo.size())?;
    // A 2 MiB-aligned object at a VA that is only 64 KiB aligned gets 64 KiB pages too.
    let (big, bm) = filled(&g.dev, 2 * MIB, Placement::Vram, 2 * MIB, 0x65)?;
    let va2 = g.slot(1)? + 64 * KIB;
    vm.map(&big, va2).ctx(format!("MAP at {va2:#x}"))?;
    view.sees(va2, &bm, 0, big.size(), 64 * KIB, false)
}

fn debugfs_lists() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let sys = Bo::new(&g.dev, 192 * KIB, Placement::System, 0).ctx("sysmem object")?;
    let vram = Bo::new(&g.dev, 4 * MIB, Placement::Vram, 2 * MIB).ctx("VRAM object")?;
    let (va_s, va_v) = (g.slot(0)? + 4 * KIB, g.slot(1)?);
    vm.bind(&[Op::map_all(&sys, va_s), Op::map_all(&vram, va_v)])
        .ctx("MAP both")?;
    let e = vms::mine(vm.id())?;
    check(e.inst.addr != 0 && e.inst.addr % 4096 == 0, || {
        format!("instance block at {:#x}", e.inst.addr)
    })?;
    let mut maps = e.maps.clone();
    maps.sort_by_key(|m| m.va);
    // The listing gives a mapping's largest page. The system-memory object starts 4 KiB into a
    // 64 KiB page, so it is mapped with 4 KiB pages, except where its memory happens to be
    // physically contiguous over an aligned 64 KiB: there the planner uses 64 KiB pages. Which
    // one depends on the allocator, so both are right.
    if let Some(m) = maps.first_mut() {
        if m.va == va_s && m.page == 64 * KIB {
            m.page = 4 * KIB;
        }
    }
    let want = [
        MapEntry {
            va: va_s,
            range: 192 * KIB,
            page: 4 * KIB,
            backing: Backing::Sysmem,
        },
        MapEntry {
            va: va_v,
            range: 4 * MIB,
            page: 2 * MIB,
            backing: Backing::Vram,
        },
    ];
    check(maps == want, || format!("listed {maps:?}, want {want:?}"))?;
    vm.unmap(va_s, 192 * KIB).ctx("UNMAP")?;
    let maps = listed_maps(&vm)?;
    check(maps == want[1..], || format!("after UNMAP: {maps:?}"))?;
    let id = vm.id();
    drop(vm);
    let left = vms::lookup(std::process::id(), id)?;
    check(left.is_none(), || {
        format!("VM {id} still listed after VM_DESTROY: {left:?}")
    })
}

fn unmap_faults() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (bo, m) = filled(&g.dev, 64 * KIB, Placement::System, 0, 0xfa)?;
    let va = g.slot(0)? + 4 * KIB;
    vm.map(&bo, va).ctx("MAP")?;
    view.sees(va, &m, 0, bo.size(), 4 * KIB, true)?;
    let before = fault_lines()?;
    vm.unmap(va, bo.size()).ctx("UNMAP")?;
    view.expect_fault(va, false, &[port::FAULT_PDE, port::FAULT_PTE])?;
    expect_fault_reported(Some(&g.dev), &before, va)?;
    // The device keeps working: a new object at the same VA, and another elsewhere.
    let (bo2, m2) = filled(&g.dev, 64 * KIB, Placement::System, 0, 0xfb)?;
    vm.map(&bo2, va).ctx("MAP after the fault")?;
    view.sees(va, &m2, 0, bo2.size(), 4 * KIB, true)?;
    let (bo3, m3) = filled(&g.dev, 2 * MIB, Placement::Vram, 2 * MIB, 0xfc)?;
    let va3 = g.slot(1)?;
    vm.map(&bo3, va3).ctx("VRAM MAP after the fault")?;
    view.sees(va3, &m3, 0, bo3.size(), 2 * MIB, false)
}

/// GSP-RM's `MMU_FAULT_QUEUED` is serviced with no ioctl in flight: after the faulting access
/// (through the vGPU's port, no nova ioctl) the test only reads dmesg until nova-core's report
/// of the fault shows up. Interrupt-driven, or polled when the GSP vector is closed (the
/// irq-storm suite runs this test too).
fn fault_reported_with_no_ioctl() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    // Never mapped in this VM.
    let va = g.slot(0)? + 8 * KIB;
    let before = fault_lines()?;
    view.expect_fault(va, false, &[port::FAULT_PDE, port::FAULT_PTE])?;
    expect_fault_reported(None, &before, va)
}

fn read_only_faults() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (bo, m) = filled(&g.dev, 64 * KIB, Placement::System, 0, 0x20)?;
    let va = g.slot(0)? + 4 * KIB;
    vm.bind(&[Op::map_all(&bo, va).read_only()])
        .ctx("MAP READ_ONLY")?;
    view.sees(va, &m, 0, bo.size(), 4 * KIB, true)?;
    let cpu = m.read_u32(0x100);
    view.expect_fault(va + 0x100, true, &[port::FAULT_RO])?;
    check(m.read_u32(0x100) == cpu, || {
        "a faulting GPU write changed memory".into()
    })?;
    // Reads still work after the write fault.
    view.sees(va, &m, 0, bo.size(), 4 * KIB, true)
}

fn sparse_reads_zero() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let va = g.slot(0)?;
    let range = 2 * MIB;
    vm.bind(&[Op::sparse(va, range)]).ctx("MAP SPARSE")?;
    for off in [0, 4 * KIB, MIB + 12, range - 4] {
        let a = view.read(va + off)?;
        let v = a.ok(va + off)?;
        check(v == 0 && a.sparse(), || {
            format!(
                "sparse read at {:#x}: {v:#x}, STATUS {:#x} (want 0 with SPARSE set)",
                va + off,
                a.status
            )
        })?;
    }
    let a = view.port.write32(view.inst, va + 8, 0x5555_aaaa)?;
    a.ok(va + 8).ctx("sparse write")?;
    let v = view.read(va + 8)?.ok(va + 8)?;
    check(v == 0, || format!("sparse write was kept: reads {v:#x}"))?;
    let maps = listed_maps(&vm)?;
    check(
        maps.len() == 1
            && maps[0].va == va
            && maps[0].range == range
            && maps[0].backing == Backing::Sparse,
        || format!("debugfs lists {maps:?}"),
    )?;
    vm.unmap(va, range).ctx("UNMAP of the sparse range")?;
    view.expect_fault(va, false, &[port::FAULT_PDE, port::FAULT_PTE])
        .map(|_| ())
}

fn partial_unmap() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    // System memory, 4 KiB pages: 192 KiB, the middle 64 KiB unmapped.
    let (bo, m) = filled(&g.dev, 192 * KIB, Placement::System, 0, 0x3)?;
    let va = g.slot(0)? + 4 * KIB;
    vm.map(&bo, va).ctx("MAP")?;
    vm.unmap(va + 64 * KIB, 64 * KIB)
        .ctx("UNMAP of the middle")?;
    view.sees(va, &m, 0, 64 * KIB, 4 * KIB, true)?;
    view.sees(va + 128 * KIB, &m, 128 * KIB, 64 * KIB, 4 * KIB, true)?;
    for off in [64 * KIB, 96 * KIB, 128 * KIB - 4] {
        view.expect_fault(va + off, false, &[port::FAULT_PDE, port::FAULT_PTE])?;
    }
    let maps: Vec<(u64, u64)> = listed_maps(&vm)?.iter().map(|e| (e.va, e.range)).collect();
    let want = [(va, 64 * KIB), (va + 128 * KIB, 64 * KIB)];
    check(maps == want, || {
        format!("debugfs lists {maps:x?}, want {want:x?}")
    })?;
    expect_err(
        "UNMAP of the hole again",
        vm.unmap(va + 64 * KIB, 64 * KIB),
        libc::ENOENT,
    )?;
    // VRAM in 2 MiB pages: a 64 KiB hole in the first 2 MiB page splits it.
    let (big, bm) = filled(&g.dev, 4 * MIB, Placement::Vram, 2 * MIB, 0x4)?;
    let vb = g.slot(1)?;
    vm.map(&big, vb).ctx("VRAM MAP")?;
    vm.unmap(vb + MIB, 64 * KIB)
        .ctx("UNMAP inside a 2 MiB page")?;
    for (off, len) in [
        (0, MIB),
        (MIB + 64 * KIB, MIB - 64 * KIB),
        (2 * MIB, 2 * MIB),
    ] {
        for s in samples(len, 64 * KIB) {
            let got = view.read(vb + off + s)?.ok(vb + off + s)?;
            let cpu = bm.read_u32((off + s) as usize);
            check(got == cpu, || {
                format!(
                    "after the split, GPU reads {got:#x} at {:#x}, CPU has {cpu:#x}",
                    vb + off + s
                )
            })?;
        }
    }
    view.expect_fault(vb + MIB, false, &[port::FAULT_PDE, port::FAULT_PTE])?;
    view.expect_fault(
        vb + MIB + 64 * KIB - 4,
        false,
        &[port::FAULT_PDE, port::FAULT_PTE],
    )
    .map(|_| ())
}

// --- bad input ---------------------------------------------------------------------------

/// GEM_CREATE with `a`; a handle it unexpectedly creates is closed.
fn try_create(dev: &Device, mut a: uapi::DrmNovaGemCreate) -> Result<u32, Error> {
    raw::gem_create(dev, &mut a)?;
    let _ = raw::gem_close(dev, a.handle);
    Ok(a.handle)
}

fn bad_gem_create() -> Result<(), String> {
    let g = gpu()?;
    let free = g.vram_free()?;
    let args = libnova::gem_create_args;
    let (sys, vram) = (Placement::System, Placement::Vram);
    let cases: Vec<(&str, uapi::DrmNovaGemCreate, i32)> = vec![
        (
            "unknown flag bit 1",
            uapi::DrmNovaGemCreate {
                flags: 1 << 1,
                ..args(4096, sys, 0)
            },
            libc::EINVAL,
        ),
        (
            "unknown flag bit 31",
            uapi::DrmNovaGemCreate {
                flags: 1 << 31,
                ..args(4096, vram, 0)
            },
            libc::EINVAL,
        ),
        ("zero size, sysmem", args(0, sys, 0), libc::EINVAL),
        ("zero size, VRAM", args(0, vram, 0), libc::EINVAL),
        (
            "align in system memory",
            args(4096, sys, 4096),
            libc::EINVAL,
        ),
        (
            "align not a power of two",
            args(MIB, vram, 3 * 64 * KIB),
            libc::EINVAL,
        ),
        ("align above 1 GiB", args(MIB, vram, 2 * GIB), libc::EINVAL),
        (
            "VRAM larger than VRAM",
            args(g.info.vram_size + 64 * KIB, vram, 0),
            libc::ENOSPC,
        ),
        ("VRAM of 2^63 bytes", args(1 << 63, vram, 0), libc::ENOSPC),
    ];
    for (what, a, errno) in cases {
        expect_err(format!("GEM_CREATE, {what}"), try_create(&g.dev, a), errno)?;
    }
    g.vram_free_back_to(free, "after the refused GEM_CREATEs")
}

fn bad_gem_info_mmap() -> Result<(), String> {
    let g = gpu()?;
    for h in [0, 0xdead] {
        let mut i = uapi::DrmNovaGemInfo {
            handle: h,
            ..Default::default()
        };
        expect_err(
            format!("GEM_INFO of handle {h:#x}"),
            raw::gem_info(&g.dev, &mut i),
            libc::ENOENT,
        )?;
        let mut o = uapi::DrmNovaGemMmapOffset {
            handle: h,
            ..Default::default()
        };
        expect_err(
            format!("GEM_MMAP_OFFSET of handle {h:#x}"),
            raw::gem_mmap_offset(&g.dev, &mut o),
            libc::ENOENT,
        )?;
    }
    let bo = Bo::new(&g.dev, 4096, Placement::System, 0).ctx("GEM_CREATE")?;
    let mut o = uapi::DrmNovaGemMmapOffset {
        handle: bo.handle(),
        pad: 1,
        offset: 0,
    };
    expect_err(
        "GEM_MMAP_OFFSET with pad 1",
        raw::gem_mmap_offset(&g.dev, &mut o),
        libc::EINVAL,
    )?;
    let h = bo.handle();
    drop(bo);
    let mut i = uapi::DrmNovaGemInfo {
        handle: h,
        ..Default::default()
    };
    expect_err(
        "GEM_INFO of a closed handle",
        raw::gem_info(&g.dev, &mut i),
        libc::ENOENT,
    )
}

fn bad_vm_create_destroy() -> Result<(), String> {
    let g = gpu()?;
    let mut c = uapi::DrmNovaVmCreate { flags: 1, id: 0 };
    expect_err(
        "VM_CREATE with flags 1",
        raw::vm_create_raw(&g.dev, &mut c),
        libc::EINVAL,
    )?;
    expect_err(
        "VM_DESTROY of id 0xdead",
        raw::vm_destroy(&g.dev, 0xdead),
        libc::ENOENT,
    )?;
    expect_err(
        "VM_DESTROY of id 0",
        raw::vm_destroy(&g.dev, 0),
        libc::ENOENT,
    )?;
    let id = raw::vm_create(&g.dev, 0).ctx("VM_CREATE")?;
    let mut d = uapi::DrmNovaVmDestroy { id, pad: 1 };
    expect_err(
        "VM_DESTROY with pad 1",
        raw::vm_destroy_raw(&g.dev, &mut d),
        libc::EINVAL,
    )?;
    raw::vm_destroy(&g.dev, id).ctx("VM_DESTROY after the refused one")?;
    // VM ids are per file.
    let other = Device::open().ctx("second open")?;
    let id = raw::vm_create(&g.dev, 0).ctx("VM_CREATE")?;
    expect_err(
        "VM_DESTROY of another file's VM",
        raw::vm_destroy(&other, id),
        libc::ENOENT,
    )
}

/// One raw VM_BIND: the result and the `num_ops` the kernel returned.
fn bind_raw(dev: &Device, mut a: uapi::DrmNovaVmBind) -> (Result<(), Error>, u32) {
    let r = raw::vm_bind(dev, &mut a);
    (r, a.num_ops)
}

/// A failed VM_BIND must have failed with `errno` and applied nothing (`num_ops` 0), and the
/// valid op it carried (`probe`, a MAP) must not be mapped: its UNMAP fails with ENOENT.
fn expect_bind_refused(
    vm: &Vm,
    what: &str,
    got: (Result<(), Error>, u32),
    errno: i32,
    probe: Option<&Op>,
) -> Result<(), String> {
    expect_err(what, got.0, errno)?;
    check(got.1 == 0, || {
        format!("{what}: num_ops came back {}, want 0", got.1)
    })?;
    if let Some(Op::Map { va, range, .. }) = probe {
        match vm.unmap(*va, *range) {
            Err(e) if e.errno() == libc::ENOENT => {}
            other => {
                return Err(format!(
                    "{what}: the valid op before the bad one was applied (UNMAP: {other:?})"
                ))
            }
        }
    }
    Ok(())
}

fn bad_bind_header() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let bo = Bo::new(&g.dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
    let good = Op::map_all(&bo, g.slot(0)?);
    let ops = [good.encode()];
    let base = libnova::bind_args(vm.id(), &ops);
    let many = vec![Op::unmap(g.slot(1)?, 4096).encode(); 1025];
    let cases: Vec<(&str, uapi::DrmNovaVmBind, i32)> = vec![
        (
            "flags 1",
            uapi::DrmNovaVmBind { flags: 1, ..base },
            libc::EINVAL,
        ),
        (
            "unknown VM id",
            uapi::DrmNovaVmBind {
                vm_id: 0xdead,
                ..base
            },
            libc::ENOENT,
        ),
        (
            "VM id 0",
            uapi::DrmNovaVmBind { vm_id: 0, ..base },
            libc::ENOENT,
        ),
        (
            "op_size 32",
            uapi::DrmNovaVmBind {
                op_size: 32,
                ..base
            },
            libc::EINVAL,
        ),
        (
            "op_size 41",
            uapi::DrmNovaVmBind {
                op_size: 41,
                ..base
            },
            libc::EINVAL,
        ),
        (
            "op_size 0",
            uapi::DrmNovaVmBind { op_size: 0, ..base },
            libc::EINVAL,
        ),
        (
            "num_ops 0",
            uapi::DrmNovaVmBind { num_ops: 0, ..base },
            libc::EINVAL,
        ),
        (
            "num_ops 1025",
            uapi::DrmNovaVmBind {
                num_ops: 1025,
                ops: many.as_ptr() as u64,
                ..base
            },
            libc::EINVAL,
        ),
        (
            "ops at address 8",
            uapi::DrmNovaVmBind { ops: 8, ..base },
            libc::EFAULT,
        ),
        (
            "ops at a kernel address",
            uapi::DrmNovaVmBind {
                ops: 0xffff_8000_0000_0000,
                ..base
            },
            libc::EFAULT,
        ),
    ];
    for (what, a, errno) in cases {
        let what = format!("VM_BIND with {what}");
        expect_bind_refused(&vm, &what, bind_raw(&g.dev, a), errno, Some(&good))?;
    }
    // Ops larger than this kernel knows: accepted when the extra bytes are zero.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct BigOp {
        op: uapi::DrmNovaVmBindOp,
        extra: u64,
    }
    let mut big = [BigOp {
        op: good.encode(),
        extra: 1,
    }];
    let a = uapi::DrmNovaVmBind {
        op_size: 48,
        ops: big.as_ptr() as u64,
        ..base
    };
    expect_bind_refused(
        &vm,
        "VM_BIND, op_size 48 with non-zero extra bytes",
        bind_raw(&g.dev, a),
        libc::EINVAL,
        Some(&good),
    )?;
    big[0].extra = 0;
    let a = uapi::DrmNovaVmBind {
        op_size: 48,
        ops: big.as_ptr() as u64,
        ..base
    };
    let (r, n) = bind_raw(&g.dev, a);
    r.ctx("VM_BIND, op_size 48 with zero extra bytes")?;
    check(n == 1, || format!("op_size 48: num_ops came back {n}"))?;
    vm.unmap(g.slot(0)?, bo.size())
        .ctx("UNMAP of what the 48-byte op mapped")
}

fn bad_bind_ops() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let bo = Bo::new(&g.dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
    let size = bo.size();
    let good = Op::map_all(&bo, g.slot(0)?);
    let va = g.slot(1)?;
    let map = Op::map_all(&bo, va).encode();
    let unmap = Op::unmap(va, size).encode();
    let sparse = Op::sparse(va, size).encode();
    let (start, end) = (g.info.va_start, g.info.va_end);
    type O = uapi::DrmNovaVmBindOp;
    let mut cases: Vec<(&str, O, i32)> = vec![
        ("unknown op 2", O { op: 2, ..map }, libc::EINVAL),
        (
            "unknown op flag bit 2",
            O {
                flags: 1 << 2,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "UNMAP with READ_ONLY",
            O {
                flags: uapi::NOVA_VM_BIND_READ_ONLY,
                ..unmap
            },
            libc::EINVAL,
        ),
        (
            "UNMAP with SPARSE",
            O {
                flags: uapi::NOVA_VM_BIND_SPARSE,
                ..unmap
            },
            libc::EINVAL,
        ),
        (
            "UNMAP with a handle",
            O {
                handle: bo.handle(),
                ..unmap
            },
            libc::EINVAL,
        ),
        (
            "UNMAP with bo_offset",
            O {
                bo_offset: 4096,
                ..unmap
            },
            libc::EINVAL,
        ),
        ("UNMAP with kind", O { kind: 1, ..unmap }, libc::EINVAL),
        ("MAP with kind 256", O { kind: 256, ..map }, libc::EINVAL),
        (
            "SPARSE with a handle",
            O {
                handle: bo.handle(),
                ..sparse
            },
            libc::EINVAL,
        ),
        (
            "SPARSE with bo_offset",
            O {
                bo_offset: 4096,
                ..sparse
            },
            libc::EINVAL,
        ),
        ("SPARSE with kind", O { kind: 1, ..sparse }, libc::EINVAL),
        (
            "misaligned va",
            O {
                va: va + 0x800,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "misaligned range",
            O {
                range: 0x1800,
                ..map
            },
            libc::EINVAL,
        ),
        ("zero range", O { range: 0, ..map }, libc::EINVAL),
        (
            "misaligned bo_offset",
            O {
                bo_offset: 0x800,
                range: 4096,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "UNMAP misaligned va",
            O {
                va: va + 0x800,
                ..unmap
            },
            libc::EINVAL,
        ),
        ("UNMAP zero range", O { range: 0, ..unmap }, libc::EINVAL),
        (
            "range past VA_END",
            O {
                va: (end - 4096) & !0xfff,
                range: 8192,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "UNMAP past VA_END",
            O {
                va: (end - 4096) & !0xfff,
                range: 8192,
                ..unmap
            },
            libc::EINVAL,
        ),
        (
            "va + range overflowing",
            O {
                va: !0xfff_u64,
                range: 0x2000,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "bo_offset + range past the object",
            O {
                bo_offset: 4096,
                range: size,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "bo_offset at the object's end",
            O {
                bo_offset: size,
                range: 4096,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "range larger than the object",
            O {
                range: size + 4096,
                ..map
            },
            libc::EINVAL,
        ),
        (
            "unknown handle",
            O {
                handle: 0xdead,
                ..map
            },
            libc::ENOENT,
        ),
    ];
    if start >= 4096 {
        cases.push((
            "va below VA_START",
            O {
                va: (start - 4096) & !0xfff,
                range: 4096,
                ..map
            },
            libc::EINVAL,
        ));
    }
    for (what, bad, errno) in cases {
        let ops = [good.encode(), bad];
        let what = format!("VM_BIND [valid MAP, {what}]");
        expect_bind_refused(
            &vm,
            &what,
            bind_raw(&g.dev, libnova::bind_args(vm.id(), &ops)),
            errno,
            Some(&good),
        )?;
    }
    // The valid op alone still works.
    vm.bind(&[good]).ctx("the valid op alone")
}

fn bind_state_errors() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let a = Bo::new(&g.dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
    let b = Bo::new(&g.dev, 128 * KIB, Placement::Vram, 0).ctx("GEM_CREATE")?;
    // Slot 1: slot 0 may start right at VA_START, and ranges below start here.
    let va = g.slot(1)?;
    vm.map(&a, va).ctx("MAP")?;
    for (what, op) in [
        ("MAP onto the same range", Op::map(&b, va, 0, 64 * KIB)),
        (
            "MAP overlapping the end",
            Op::map(&b, va + 32 * KIB, 0, 64 * KIB),
        ),
        (
            "MAP overlapping the start",
            Op::map(&b, va - 32 * KIB, 0, 64 * KIB),
        ),
        ("MAP covering it", Op::map_all(&b, va - 32 * KIB)),
        (
            "MAP of one page inside it",
            Op::map(&b, va + 8 * KIB, 0, 4 * KIB),
        ),
        ("SPARSE over it", Op::sparse(va - 4 * KIB, 128 * KIB)),
    ] {
        let ops = [op.encode()];
        let got = bind_raw(&g.dev, libnova::bind_args(vm.id(), &ops));
        expect_err(what, got.0, libc::ENOSPC)?;
        check(got.1 == 0, || {
            format!("{what}: num_ops came back {}", got.1)
        })?;
    }
    vm.unmap(va, 64 * KIB).ctx("UNMAP")?;
    expect_err("UNMAP twice", vm.unmap(va, 64 * KIB), libc::ENOENT)?;
    expect_err(
        "UNMAP of a range never mapped",
        vm.unmap(g.slot(2)?, 4096),
        libc::ENOENT,
    )
}

fn batch_stops_at_failing_op() -> Result<(), String> {
    let g = gpu()?;
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let (x, mx) = filled(&g.dev, 64 * KIB, Placement::System, 0, 0xb1)?;
    let (y, my) = filled(&g.dev, 64 * KIB, Placement::Vram, 64 * KIB, 0xb2)?;
    let z = Bo::new(&g.dev, 64 * KIB, Placement::System, 0).ctx("GEM_CREATE")?;
    let (v1, v2, v3) = (g.slot(0)? + 4 * KIB, g.slot(1)?, g.slot(2)?);
    // Op 3 overlaps op 1: it fails on the VM's state, after ops 1 and 2 were applied.
    let ops = [
        Op::map_all(&x, v1),
        Op::map_all(&y, v2),
        Op::map_all(&z, v1 + 4 * KIB),
        Op::map_all(&z, v3),
    ];
    let raw_ops: Vec<_> = ops.iter().map(Op::encode).collect();
    let (r, n) = bind_raw(&g.dev, libnova::bind_args(vm.id(), &raw_ops));
    expect_err("batch with op 3 overlapping op 1", r, libc::ENOSPC)?;
    check(n == 2, || format!("num_ops came back {n}, want 2"))?;
    view.sees(v1, &mx, 0, 64 * KIB, 4 * KIB, true)?;
    view.sees(v2, &my, 0, 64 * KIB, 64 * KIB, false)?;
    view.expect_fault(v3, false, &[port::FAULT_PDE, port::FAULT_PTE])?;
    vm.unmap(v1, 64 * KIB).ctx("UNMAP of op 1")?;
    vm.unmap(v2, 64 * KIB).ctx("UNMAP of op 2")?;
    expect_err(
        "UNMAP of op 4 (never applied)",
        vm.unmap(v3, 64 * KIB),
        libc::ENOENT,
    )?;
    // libnova reports the same through BindError::applied.
    match vm.bind(&ops) {
        Err(e) if e.applied == 2 && e.errno() == libc::ENOSPC => Ok(()),
        other => Err(format!(
            "libnova bind: {other:?}, want 2 applied and ENOSPC"
        )),
    }
}

// --- stress ------------------------------------------------------------------------------

fn stress_10k_cycles() -> Result<(), String> {
    let g = gpu()?;
    let start = g.vram_free()?;
    let sizes = [4 * KIB, 12 * KIB, 64 * KIB, 200 * KIB, MIB];
    for i in 0..10_000u32 {
        let placement = if i.is_multiple_of(2) {
            Placement::System
        } else {
            Placement::Vram
        };
        let size = sizes[(i as usize / 2) % sizes.len()];
        let bo = Bo::new(&g.dev, size, placement, 0).ctx(format!("cycle {i}: GEM_CREATE"))?;
        let mut m = bo.map().ctx(format!("cycle {i}: mmap"))?;
        let last = m.len() - 4;
        m.write_u32(0, i);
        m.write_u32(last, !i);
        // Read back through a new mapping of the object, not the one just written.
        drop(m);
        let m = bo.map().ctx(format!("cycle {i}: second mmap"))?;
        let got = (m.read_u32(0), m.read_u32(last));
        check(got == (i, !i), || {
            format!(
                "cycle {i}: {placement:?} object of {size:#x} reads {got:x?} through a new \
                 mapping, want ({i:#x}, {:#x})",
                !i
            )
        })?;
    }
    g.vram_free_back_to(start, "after 10,000 cycles")
}

/// One client of the 16-process test: its own file and VM, map/verify/unmap loops.
fn client(i: u64) -> Result<(), String> {
    let dev = Device::open().ctx("open")?;
    let info = dev.info().ctx("GETPARAMs")?;
    let g = Gpu { dev, info };
    let vm = Vm::new(&g.dev).ctx("VM_CREATE")?;
    let view = gpu_view(&g, &vm)?;
    let va = g.slot(i % 4)?;
    for n in 0..8u64 {
        let placement = if (i + n).is_multiple_of(2) {
            Placement::System
        } else {
            Placement::Vram
        };
        let (bo, m) = filled(&g.dev, 64 * KIB, placement, 0, (i << 32) | n)?;
        vm.map(&bo, va).ctx(format!("loop {n}: MAP"))?;
        for off in [0, 4 * KIB + 8, 64 * KIB - 4] {
            let got = view.read(va + off)?.ok(va + off)?;
            let cpu = m.read_u32(off as usize);
            check(got == cpu, || {
                format!("loop {n}: GPU reads {got:#x} at +{off:#x}, CPU wrote {cpu:#x}")
            })?;
        }
        vm.unmap(va, bo.size()).ctx(format!("loop {n}: UNMAP"))?;
    }
    Ok(())
}

fn stress_16_processes() -> Result<(), String> {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let g = gpu()?;
    // Fail here, clearly, when the port is missing, rather than 16 times below.
    Port::open(g.dev.pci_address().as_deref())?;
    let start = g.vram_free()?;
    let _ = std::io::stdout().flush();
    let mut kids = vec![];
    for i in 0..16u64 {
        let mut fds = [0i32; 2];
        // SAFETY: pipe() writes two fds into the array.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(format!("pipe: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: this program is single-threaded here, so the child may run Rust code; it
        // leaves with _exit and never returns into the parent's stack.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if pid == 0 {
            // SAFETY: the fds are ours (fresh from pipe()).
            let mut w = unsafe {
                libc::close(fds[0]);
                std::fs::File::from_raw_fd(fds[1])
            };
            let r = client(i);
            if let Err(e) = &r {
                let _ = w.write_all(e.as_bytes());
            }
            // SAFETY: ends the child without unwinding or running the parent's destructors.
            unsafe { libc::_exit(i32::from(r.is_err())) };
        }
        // SAFETY: closing the child's end; taking ownership of ours.
        let r = unsafe {
            libc::close(fds[1]);
            std::fs::File::from_raw_fd(fds[0])
        };
        kids.push((i, pid, r));
    }
    let mut failures = vec![];
    for (i, pid, mut r) in kids {
        let mut msg = String::new();
        let _ = r.read_to_string(&mut msg);
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        if !ok {
            failures.push(format!("client {i} (pid {pid}, status {status:#x}): {msg}"));
        }
    }
    check(failures.is_empty(), || failures.join("; "))?;
    g.vram_free_back_to(start, "after the 16 clients exited")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_regex_matches_the_driver_line() {
        let re = regex::Regex::new(MMU_FAULT_LINE).unwrap();
        assert!(re.is_match(
            "[   12.5] nova_core 0000:00:03.0: MMU fault: PTE at VA 0x40001000 (read), ..."
        ));
        assert!(re.is_match("nova-drm: mmu fault in VM 1"));
        assert!(!re.is_match("nova_core: boot: GSP-RM ready"));
    }

    #[test]
    fn sample_offsets_cover_each_page() {
        let s = samples(64 * KIB, 4 * KIB);
        assert_eq!(s.first(), Some(&0));
        assert_eq!(s.last(), Some(&(64 * KIB - 4)));
        assert!(s.iter().all(|o| o % 4 == 0 && *o < 64 * KIB));
        for p in 0..16 {
            assert!(s.contains(&(p * 4 * KIB)));
        }
        let s = samples(4 * MIB, 2 * MIB);
        assert!(s.contains(&(2 * MIB)) && s.contains(&(2 * MIB - 4)));
        // Large ranges stay around 16 pages' worth.
        assert!(samples(64 * MIB, 4 * KIB).len() <= 3 * 17 + 1);
    }

    #[test]
    fn pattern_differs_per_word_and_seed() {
        assert_ne!(word(1, 0), word(1, 8));
        assert_ne!(word(1, 0), word(2, 0));
        assert_eq!(align_up(GIB + 1, GIB), 2 * GIB);
    }
}
