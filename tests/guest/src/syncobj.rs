// SPDX-License-Identifier: GPL-2.0
//! Suite "syncobj": the DRM core's sync object ioctls on nova, where userspace made the kernel
//! warn (issue #19; fixed by kernel/patches/0008 and 0009). Each test checks the ioctls' results
//! and that dmesg gained no splat (the VM harness checks dmesg as well).

use crate::exec::gpu;
use crate::util::{check, expect_err, no_new_splat, splats, Ctx};
use crate::Test;
use libnova::{drm, raw, Syncobj};
use std::time::Duration;

/// The tests, in run order.
pub fn tests() -> Vec<Test> {
    vec![
        ("timeline_sync_file_into_timeline_point", chain_import),
        ("signal_huge_count_enomem_quietly", huge_count),
    ]
}

/// A sync file exported from a timeline point holds a dma_fence_chain; importing it into a
/// point of another timeline must not wrap a chain in a chain (dma_fence_chain_init warns).
/// The imported points must signal like the ones they came from.
fn chain_import() -> Result<(), String> {
    let g = gpu()?;
    let before = splats()?.len();
    let a = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE a")?;
    let b = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE b")?;
    a.signal_point(1).ctx("TIMELINE_SIGNAL a point 1")?;
    let f = a
        .export_sync_file_at(1)
        .ctx("HANDLE_TO_FD a point 1 (EXPORT_SYNC_FILE | TIMELINE)")?;
    b.import_sync_file_at(&f, 1)
        .ctx("FD_TO_HANDLE b point 1 (IMPORT_SYNC_FILE | TIMELINE)")?;
    // The same once more on top of an existing point, and back into a binary syncobj.
    a.signal_point(2).ctx("TIMELINE_SIGNAL a point 2")?;
    let f2 = a.export_sync_file_at(2).ctx("export a point 2")?;
    b.import_sync_file_at(&f2, 2).ctx("import into b point 2")?;
    let c = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE c")?;
    c.import_sync_file(&f2).ctx("import into binary c")?;
    // What b holds now must be signalled at both points, as the fences it came from.
    for p in [1, 2] {
        b.wait_point(p, Duration::from_secs(5), 0)
            .ctx(format!("TIMELINE_WAIT b point {p}"))?;
    }
    let last = b.query(false).ctx("QUERY b")?;
    check(last == 2, || {
        format!("b's last signalled point is {last}, want 2")
    })?;
    c.wait(Duration::from_secs(5), 0).ctx("WAIT c")?;
    no_new_splat(
        before,
        "importing a timeline point's sync file into a timeline point",
    )
}

/// SYNCOBJ_SIGNAL and RESET with a count far beyond what the kernel can allocate:
/// ENOMEM, without a page-allocator warning.
fn huge_count() -> Result<(), String> {
    let g = gpu()?;
    let before = splats()?.len();
    let s = Syncobj::new(&g.dev, false).ctx("SYNCOBJ_CREATE")?;
    let handles = [s.handle(); 16];
    for count in [0x1000_0000u32, 0x0100_0000, u32::MAX / 4] {
        let mut a = drm::DrmSyncobjArray {
            handles: handles.as_ptr() as u64,
            count_handles: count,
            pad: 0,
        };
        expect_err(
            format!("SIGNAL count {count:#x}"),
            raw::syncobj_signal(&g.dev, &mut a),
            libc::ENOMEM,
        )?;
        expect_err(
            format!("RESET count {count:#x}"),
            raw::syncobj_reset(&g.dev, &mut a),
            libc::ENOMEM,
        )?;
    }
    // The syncobj still works.
    s.signal().ctx("SIGNAL count 1")?;
    check(s.is_signaled().ctx("WAIT")?, || {
        "not signalled after SIGNAL".into()
    })?;
    no_new_splat(before, "SYNCOBJ_SIGNAL with a huge count")
}
