// SPDX-License-Identifier: GPL-2.0
//! The argument rules of nova-drm (`args.rs`) against the uAPI header's text.

use nova_drm_host::{
    args::{self, ArgError, BindOp, CheckedOp, GemPlan, MapWhat, VA_END, VA_START},
    uapi::*,
};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

const SYS_LIMIT: u64 = 512 * MIB;
const VRAM_LIMIT: u64 = GIB;

fn create(size: u64, flags: u32, align: u64) -> Result<GemPlan, ArgError> {
    args::gem_create(size, flags, align, SYS_LIMIT, VRAM_LIMIT)
}

#[test]
fn gem_create_rounds_to_the_granule() {
    let v = NOVA_GEM_CREATE_VRAM;
    let sys = |size| GemPlan {
        vram: false,
        size,
        align: 0,
    };
    assert_eq!(create(1, 0, 0), Ok(sys(4 * KIB)));
    assert_eq!(create(4 * KIB, 0, 0), Ok(sys(4 * KIB)));
    assert_eq!(create(5000, 0, 0), Ok(sys(8 * KIB)));
    assert_eq!(create(SYS_LIMIT, 0, 0), Ok(sys(SYS_LIMIT)));
    let vram = |size, align| GemPlan {
        vram: true,
        size,
        align,
    };
    assert_eq!(create(1, v, 0), Ok(vram(64 * KIB, 64 * KIB)));
    assert_eq!(create(64 * KIB + 1, v, 0), Ok(vram(128 * KIB, 64 * KIB)));
    // The alignment is physical; the size still rounds to 64 KiB only.
    assert_eq!(create(64 * KIB, v, 2 * MIB), Ok(vram(64 * KIB, 2 * MIB)));
    assert_eq!(create(MIB, v, 4 * KIB), Ok(vram(MIB, 64 * KIB)));
    assert_eq!(create(MIB, v, GIB), Ok(vram(MIB, GIB)));
    assert_eq!(create(VRAM_LIMIT, v, 0), Ok(vram(VRAM_LIMIT, 64 * KIB)));
}

#[test]
fn gem_create_refusals() {
    let v = NOVA_GEM_CREATE_VRAM;
    for (size, flags, align, want) in [
        (4096, 1 << 1, 0, ArgError::Invalid),
        (4096, 1 << 31 | v, 0, ArgError::Invalid),
        (0, 0, 0, ArgError::Invalid),
        (0, v, 0, ArgError::Invalid),
        (4096, 0, 4096, ArgError::Invalid),
        (MIB, v, 3 * 64 * KIB, ArgError::Invalid),
        (MIB, v, 2 * GIB, ArgError::Invalid),
        // Malformed wins over too large.
        (u64::MAX, 1 << 2, 0, ArgError::Invalid),
        (u64::MAX, v, 3, ArgError::Invalid),
        (VRAM_LIMIT + 64 * KIB, v, 0, ArgError::NoSpace),
        (VRAM_LIMIT + 1, v, 0, ArgError::NoSpace),
        (1 << 63, v, 0, ArgError::NoSpace),
        (u64::MAX, v, 0, ArgError::NoSpace),
        (SYS_LIMIT + 1, 0, 0, ArgError::NoSpace),
        (u64::MAX, 0, 0, ArgError::NoSpace),
    ] {
        assert_eq!(
            create(size, flags, align),
            Err(want),
            "size {size:#x} flags {flags:#x} align {align:#x}"
        );
    }
}

fn bind(num_ops: u32, op_size: u32, flags: u32) -> DrmNovaVmBind {
    DrmNovaVmBind {
        vm_id: 1,
        flags,
        num_ops,
        op_size,
        ops: 0x1000,
    }
}

#[test]
fn vm_bind_header() {
    for ok in [
        bind(1, 40, 0),
        bind(1024, 40, 0),
        bind(3, 48, 0),
        bind(1, 4096, 0),
    ] {
        assert_eq!(args::vm_bind(&ok), Ok(()), "{ok:?}");
    }
    for bad in [
        bind(1, 40, 1),
        bind(0, 40, 0),
        bind(1025, 40, 0),
        bind(u32::MAX, 40, 0),
        bind(1, 0, 0),
        bind(1, 32, 0),
        bind(1, 41, 0),
        bind(1, 44, 0),
        bind(1, 4104, 0),
        bind(1, !7, 0),
    ] {
        assert_eq!(args::vm_bind(&bad), Err(ArgError::Invalid), "{bad:?}");
    }
}

fn encode(op: &DrmNovaVmBindOp, size: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [op.op, op.flags, op.handle, op.kind] {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    for w in [op.va, op.range, op.bo_offset] {
        b.extend_from_slice(&w.to_ne_bytes());
    }
    b.resize(size, 0);
    b
}

fn map_op() -> DrmNovaVmBindOp {
    DrmNovaVmBindOp {
        op: NOVA_VM_BIND_OP_MAP,
        flags: NOVA_VM_BIND_READ_ONLY,
        handle: 7,
        kind: 0xfe,
        va: VA_START + 64 * KIB,
        range: 128 * KIB,
        bo_offset: 4 * KIB,
    }
}

#[test]
fn parse_op_reads_the_c_layout() {
    let op = map_op();
    assert_eq!(args::OP_SIZE, 40);
    assert_eq!(args::parse_op(&encode(&op, 40)), Ok(op));
    assert_eq!(args::parse_op(&encode(&op, 48)), Ok(op));
    assert_eq!(args::parse_op(&encode(&op, 4096)), Ok(op));
    let mut tail = encode(&op, 48);
    tail[47] = 1;
    assert_eq!(args::parse_op(&tail), Err(ArgError::Invalid));
    tail[47] = 0;
    tail[40] = 0x80;
    assert_eq!(args::parse_op(&tail), Err(ArgError::Invalid));
    assert_eq!(
        args::parse_op(&encode(&op, 40)[..32]),
        Err(ArgError::Invalid)
    );
}

#[test]
fn check_op_accepts_the_three_kinds() {
    let map = map_op();
    assert_eq!(
        args::check_op(&map),
        Ok(CheckedOp {
            va: map.va,
            range: map.range,
            op: BindOp::Map {
                handle: 7,
                bo_offset: 4 * KIB,
                read_only: true,
                kind: 0xfe
            }
        })
    );
    let sparse = DrmNovaVmBindOp {
        op: NOVA_VM_BIND_OP_MAP,
        flags: NOVA_VM_BIND_SPARSE,
        va: VA_END - 2 * MIB,
        range: 2 * MIB,
        ..Default::default()
    };
    assert_eq!(
        args::check_op(&sparse).map(|c| c.op),
        Ok(BindOp::Sparse { read_only: false })
    );
    let unmap = DrmNovaVmBindOp {
        op: NOVA_VM_BIND_OP_UNMAP,
        va: VA_START,
        range: VA_END - VA_START,
        ..Default::default()
    };
    assert_eq!(args::check_op(&unmap).map(|c| c.op), Ok(BindOp::Unmap));
    // Handle 0 without SPARSE is well-formed: the lookup says ENOENT.
    let h0 = DrmNovaVmBindOp { handle: 0, ..map };
    assert!(args::check_op(&h0).is_ok());
}

#[test]
fn check_op_refusals() {
    type O = DrmNovaVmBindOp;
    let map = map_op();
    let unmap = O {
        op: NOVA_VM_BIND_OP_UNMAP,
        va: map.va,
        range: map.range,
        ..Default::default()
    };
    let sparse = O {
        op: NOVA_VM_BIND_OP_MAP,
        flags: NOVA_VM_BIND_SPARSE,
        va: map.va,
        range: map.range,
        ..Default::default()
    };
    for (what, op) in [
        ("unknown op", O { op: 2, ..map }),
        (
            "unknown flag",
            O {
                flags: 1 << 2,
                ..map
            },
        ),
        (
            "UNMAP READ_ONLY",
            O {
                flags: NOVA_VM_BIND_READ_ONLY,
                ..unmap
            },
        ),
        (
            "UNMAP SPARSE",
            O {
                flags: NOVA_VM_BIND_SPARSE,
                ..unmap
            },
        ),
        ("UNMAP handle", O { handle: 1, ..unmap }),
        (
            "UNMAP bo_offset",
            O {
                bo_offset: 4096,
                ..unmap
            },
        ),
        ("UNMAP kind", O { kind: 1, ..unmap }),
        ("kind 256", O { kind: 256, ..map }),
        (
            "SPARSE handle",
            O {
                handle: 1,
                ..sparse
            },
        ),
        (
            "SPARSE bo_offset",
            O {
                bo_offset: 4096,
                ..sparse
            },
        ),
        ("SPARSE kind", O { kind: 1, ..sparse }),
        (
            "misaligned va",
            O {
                va: map.va + 0x800,
                ..map
            },
        ),
        (
            "misaligned range",
            O {
                range: 0x1800,
                ..map
            },
        ),
        ("zero range", O { range: 0, ..map }),
        ("UNMAP zero range", O { range: 0, ..unmap }),
        (
            "misaligned bo_offset",
            O {
                bo_offset: 0x800,
                ..map
            },
        ),
        (
            "below VA_START",
            O {
                va: VA_START - 4096,
                ..map
            },
        ),
        ("at 0", O { va: 0, ..map }),
        (
            "past VA_END",
            O {
                va: VA_END - 4096,
                range: 8192,
                ..map
            },
        ),
        (
            "UNMAP past VA_END",
            O {
                va: VA_END - 4096,
                range: 8192,
                ..unmap
            },
        ),
        (
            "starting at VA_END",
            O {
                va: VA_END,
                range: 4096,
                ..map
            },
        ),
        (
            "va + range overflows",
            O {
                va: !0xfff,
                range: 0x2000,
                ..map
            },
        ),
        (
            "bo_offset + range overflows",
            O {
                bo_offset: !0xfff,
                ..map
            },
        ),
    ] {
        assert_eq!(
            args::check_op(&op),
            Err(ArgError::Invalid),
            "{what}: {op:?}"
        );
    }
}

#[test]
fn bo_range() {
    assert_eq!(args::check_bo_range(0, 64 * KIB, 64 * KIB), Ok(()));
    assert_eq!(args::check_bo_range(4 * KIB, 60 * KIB, 64 * KIB), Ok(()));
    for (off, range) in [(4 * KIB, 64 * KIB), (64 * KIB, 4 * KIB), (0, 68 * KIB)] {
        assert_eq!(
            args::check_bo_range(off, range, 64 * KIB),
            Err(ArgError::Invalid)
        );
    }
    assert_eq!(
        args::check_bo_range(u64::MAX - 4095, 8192, u64::MAX),
        Err(ArgError::Invalid)
    );
}

#[test]
fn holes_on_page_boundaries() {
    assert!(args::hole_on_page_boundaries(4 * KIB, 64 * KIB, 128 * KIB));
    assert!(args::hole_on_page_boundaries(2 * MIB, 2 * MIB, 4 * MIB));
    assert!(!args::hole_on_page_boundaries(2 * MIB, MIB, MIB + 64 * KIB));
    assert!(!args::hole_on_page_boundaries(64 * KIB, 64 * KIB, 68 * KIB));
    assert!(!args::hole_on_page_boundaries(0, 0, 4 * KIB));
}

fn slice(segs: &[(u64, u64)], off: u64, len: u64) -> Result<Vec<(u64, u64)>, ArgError> {
    let mut out = Vec::new();
    args::slice_segments(segs.iter().copied(), off, len, |a, n| {
        out.push((a, n));
        Ok::<_, ArgError>(())
    })?;
    Ok(out)
}

#[test]
fn segments_sliced_from_an_offset() {
    let segs = [
        (0x10_0000, 8 * KIB),
        (0x40_0000, 64 * KIB),
        (0x80_0000, 4 * KIB),
    ];
    assert_eq!(slice(&segs, 0, 76 * KIB), Ok(segs.to_vec()));
    assert_eq!(slice(&segs, 0, 4 * KIB), Ok(vec![(0x10_0000, 4 * KIB)]));
    assert_eq!(
        slice(&segs, 4 * KIB, 8 * KIB),
        Ok(vec![(0x10_1000, 4 * KIB), (0x40_0000, 4 * KIB)])
    );
    assert_eq!(
        slice(&segs, 12 * KIB, 64 * KIB),
        Ok(vec![(0x40_1000, 60 * KIB), (0x80_0000, 4 * KIB)])
    );
    assert_eq!(
        slice(&segs, 72 * KIB, 4 * KIB),
        Ok(vec![(0x80_0000, 4 * KIB)])
    );
    // Empty segments are skipped.
    assert_eq!(
        slice(&[(0x1000, 0), (0x2000, 4 * KIB)], 0, 4 * KIB),
        Ok(vec![(0x2000, 4 * KIB)])
    );
}

#[test]
fn segments_must_cover_and_align() {
    let segs = [(0x10_0000, 8 * KIB), (0x40_0000, 8 * KIB)];
    assert_eq!(slice(&segs, 0, 20 * KIB), Err(ArgError::Invalid));
    assert_eq!(slice(&segs, 16 * KIB, 4 * KIB), Err(ArgError::Invalid));
    assert_eq!(slice(&[], 0, 4 * KIB), Err(ArgError::Invalid));
    assert_eq!(
        slice(&[(0x1800, 8 * KIB)], 0, 4 * KIB),
        Err(ArgError::Invalid)
    );
    assert_eq!(
        slice(&[(0x1000, 6 * KIB)], 0, 6 * KIB),
        Err(ArgError::Invalid)
    );
    assert_eq!(slice(&segs, u64::MAX - 4095, 8192), Err(ArgError::Invalid));
}

#[test]
fn debugfs_lines_are_exactly_the_documented_format() {
    let mut s = String::new();
    args::write_vm_line(&mut s, 3, 1234, 0x1234_5000, false).unwrap();
    args::write_map_line(&mut s, 0x20_0000, 0x3_0000, 4096, MapWhat::Sysmem).unwrap();
    args::write_map_line(&mut s, 0x40_0000, 0x40_0000, 2 << 20, MapWhat::Vram).unwrap();
    args::write_map_line(&mut s, 0x80_0000, 0x20_0000, 2 << 20, MapWhat::Sparse).unwrap();
    args::write_vm_line(&mut s, 4, 1, 0xabc000, true).unwrap();
    assert_eq!(
        s,
        "vm 3 pid 1234 inst 0x12345000 aperture sys\n\
         \x20 map va 0x200000 range 0x30000 page 4096 sysmem\n\
         \x20 map va 0x400000 range 0x400000 page 2097152 vram\n\
         \x20 map va 0x800000 range 0x200000 page 2097152 sparse\n\
         vm 4 pid 1 inst 0xabc000 aperture vid\n"
    );
}

#[test]
fn getparam_constants() {
    // What the GETPARAM values must satisfy, not their values again (a copy cannot fail):
    // the window leaves [1 MiB, 2 MiB) to the contexts' rings (uapi/README.md), starts and
    // ends on 2 MiB pages, and lies inside the GMMU version 2's 49-bit VA space
    // (nova-core mm/mmu_v2.rs VA_BITS, docs/facts/ga102.md §12).
    assert!(VA_START >= 2 * MIB && VA_START.is_multiple_of(2 * MIB));
    assert!(VA_END.is_multiple_of(2 * MIB) && VA_START < VA_END && VA_END <= 1 << 49);
    // Every listed page size is one the GMMU maps (4 KiB and 64 KiB PTEs, 2 MiB PDE0 pages)
    // and 4 KiB, the GEM granule of system memory, is among them.
    let gmmu = (4 * KIB) | (64 * KIB) | (2 * MIB);
    assert_eq!(args::PAGE_SIZES & !gmmu, 0, "{:#x}", args::PAGE_SIZES);
    assert_ne!(args::PAGE_SIZES & (4 * KIB), 0);
    // A MAP at VA_START is accepted and one a 4 KiB page below it refused.
    let map = |va| DrmNovaVmBindOp {
        va,
        range: 4 * KIB,
        ..map_op()
    };
    assert!(args::check_op(&map(VA_START)).is_ok());
    assert!(args::check_op(&map(VA_START - 4 * KIB)).is_err());
    assert!(args::check_op(&map(VA_END - 4 * KIB)).is_ok());
    assert!(args::check_op(&map(VA_END)).is_err());
}

#[test]
fn exec_header_and_pushes() {
    let ok = DrmNovaExec {
        ctx_id: 1,
        flags: 0,
        num_push: 1,
        num_waits: 32,
        num_signals: 32,
        pad: 0,
        push: 0,
        waits: 0,
        signals: 0,
    };
    assert_eq!(args::exec(&ok), Ok(()));
    for bad in [
        DrmNovaExec { flags: 1, ..ok },
        DrmNovaExec { pad: 1, ..ok },
        DrmNovaExec { num_push: 0, ..ok },
        DrmNovaExec {
            num_push: NOVA_EXEC_MAX_PUSH + 1,
            ..ok
        },
        DrmNovaExec {
            num_waits: 33,
            ..ok
        },
        DrmNovaExec {
            num_signals: u32::MAX,
            ..ok
        },
    ] {
        assert_eq!(args::exec(&bad), Err(ArgError::Invalid));
    }
    let p = DrmNovaExecPush {
        va: 0x20_0000,
        size: 64,
        flags: 0,
    };
    assert_eq!(args::exec_push(&p), Ok(()));
    for bad in [
        DrmNovaExecPush { va: 0x20_0002, ..p },
        DrmNovaExecPush { size: 0, ..p },
        DrmNovaExecPush { size: 6, ..p },
        DrmNovaExecPush {
            size: NOVA_EXEC_MAX_PUSH_SIZE + 4,
            ..p
        },
        DrmNovaExecPush { flags: 2, ..p },
        DrmNovaExecPush {
            va: (1 << 40) - 4,
            size: 8,
            flags: 0,
        },
    ] {
        assert_eq!(args::exec_push(&bad), Err(ArgError::Invalid));
    }
}
