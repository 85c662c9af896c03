// SPDX-License-Identifier: MIT
//! The Rust mirror must match `nova_drm.h` as a C compiler lays it out.
//!
//! `layout_probe.c` exports a table of named values (struct sizes, field offsets and sizes,
//! ioctl numbers, constants) computed by the C compiler from the header. [`rust_table`] builds
//! the same names from the mirror. The tests compare both tables entry by entry, and scan the
//! header and the mirror's source so that nothing either defines escapes the comparison.

use core::ffi::{c_char, c_ulong, CStr};
use core::mem::{offset_of, size_of};
use nova_uapi::*;
use std::collections::BTreeMap;

/// One entry of the C table (`struct nova_probe_entry` in layout_probe.c).
#[repr(C)]
struct ProbeEntry {
    name: *const c_char,
    value: u64,
}

extern "C" {
    static nova_c_layout: ProbeEntry;
    static nova_c_layout_len: c_ulong;
}

/// The C compiler's table, name to value.
fn c_table() -> BTreeMap<String, u64> {
    // SAFETY: `nova_c_layout` is a C array of `nova_c_layout_len` entries defined in
    // layout_probe.c, immutable and alive for the whole program; each name is a string literal.
    unsafe {
        let entries =
            core::slice::from_raw_parts(&raw const nova_c_layout, nova_c_layout_len as usize);
        let mut t = BTreeMap::new();
        for e in entries {
            let name = CStr::from_ptr(e.name).to_str().unwrap().to_string();
            assert!(t.insert(name.clone(), e.value).is_none(), "{name} twice");
        }
        t
    }
}

/// The size of a field, through a projection closure.
fn field_size<T, F>(_: fn(&T) -> &F) -> u64 {
    size_of::<F>() as u64
}

macro_rules! constant {
    ($t:ident, $c:ident) => {
        $t.push((stringify!($c).to_string(), $c as u64));
    };
}

macro_rules! size {
    ($t:ident, $c:ident, $r:ty) => {
        $t.push((
            concat!("sizeof ", stringify!($c)).to_string(),
            size_of::<$r>() as u64,
        ));
    };
}

macro_rules! field {
    ($t:ident, $c:ident, $r:ty, $f:ident) => {
        $t.push((
            concat!("offsetof ", stringify!($c), ".", stringify!($f)).to_string(),
            offset_of!($r, $f) as u64,
        ));
        $t.push((
            concat!("sizeof ", stringify!($c), ".", stringify!($f)).to_string(),
            field_size(|s: &$r| &s.$f),
        ));
    };
}

/// The mirror's table, with the same names as the C one.
fn rust_table() -> Vec<(String, u64)> {
    let mut t = Vec::new();
    constant!(t, DRM_COMMAND_BASE);
    constant!(t, DRM_IOCTL_BASE);

    constant!(t, DRM_NOVA_GETPARAM);
    constant!(t, DRM_NOVA_GEM_CREATE);
    constant!(t, DRM_NOVA_GEM_INFO);
    constant!(t, DRM_NOVA_GEM_MMAP_OFFSET);
    constant!(t, DRM_NOVA_VM_CREATE);
    constant!(t, DRM_NOVA_VM_DESTROY);
    constant!(t, DRM_NOVA_VM_BIND);
    constant!(t, DRM_NOVA_CTX_CREATE);
    constant!(t, DRM_NOVA_CTX_DESTROY);
    constant!(t, DRM_NOVA_CTX_QUERY);
    constant!(t, DRM_NOVA_EXEC);
    constant!(t, DRM_IOCTL_NOVA_GETPARAM);
    constant!(t, DRM_IOCTL_NOVA_GEM_CREATE);
    constant!(t, DRM_IOCTL_NOVA_GEM_INFO);
    constant!(t, DRM_IOCTL_NOVA_GEM_MMAP_OFFSET);
    constant!(t, DRM_IOCTL_NOVA_VM_CREATE);
    constant!(t, DRM_IOCTL_NOVA_VM_DESTROY);
    constant!(t, DRM_IOCTL_NOVA_VM_BIND);
    constant!(t, DRM_IOCTL_NOVA_CTX_CREATE);
    constant!(t, DRM_IOCTL_NOVA_CTX_DESTROY);
    constant!(t, DRM_IOCTL_NOVA_CTX_QUERY);
    constant!(t, DRM_IOCTL_NOVA_EXEC);

    constant!(t, NOVA_GETPARAM_CHIPSET);
    constant!(t, NOVA_GETPARAM_ARCHITECTURE);
    constant!(t, NOVA_GETPARAM_REVISION);
    constant!(t, NOVA_GETPARAM_VRAM_SIZE);
    constant!(t, NOVA_GETPARAM_BAR1_SIZE);
    constant!(t, NOVA_GETPARAM_FW_VERSION);
    constant!(t, NOVA_GETPARAM_VA_START);
    constant!(t, NOVA_GETPARAM_VA_END);
    constant!(t, NOVA_GETPARAM_PAGE_SIZES);
    constant!(t, NOVA_GETPARAM_CLASS_CHANNEL);
    constant!(t, NOVA_GETPARAM_CLASS_COPY);
    constant!(t, NOVA_GETPARAM_CLASS_2D);
    constant!(t, NOVA_GETPARAM_CLASS_3D);
    constant!(t, NOVA_GETPARAM_CLASS_COMPUTE);
    constant!(t, NOVA_GETPARAM_VRAM_FREE);
    constant!(t, NOVA_GETPARAM_JOB_TIMEOUT_MS);

    constant!(t, NOVA_GEM_CREATE_VRAM);
    constant!(t, NOVA_GEM_CREATE_FLAGS);
    constant!(t, NOVA_VM_BIND_MAX_OPS);
    constant!(t, NOVA_VM_MAX_PER_FILE);
    constant!(t, NOVA_VM_BIND_OP_MAP);
    constant!(t, NOVA_VM_BIND_OP_UNMAP);
    constant!(t, NOVA_VM_BIND_SPARSE);
    constant!(t, NOVA_VM_BIND_READ_ONLY);
    constant!(t, NOVA_VM_BIND_OP_FLAGS);
    constant!(t, NOVA_ENGINE_COPY);
    constant!(t, NOVA_ENGINE_2D);
    constant!(t, NOVA_CTX_MAX_PER_VM);
    constant!(t, NOVA_EXEC_MAX_PUSH);
    constant!(t, NOVA_EXEC_MAX_SYNCS);
    constant!(t, NOVA_EXEC_MAX_PUSH_SIZE);

    size!(t, drm_nova_getparam, DrmNovaGetparam);
    field!(t, drm_nova_getparam, DrmNovaGetparam, param);
    field!(t, drm_nova_getparam, DrmNovaGetparam, value);

    size!(t, drm_nova_gem_create, DrmNovaGemCreate);
    field!(t, drm_nova_gem_create, DrmNovaGemCreate, size);
    field!(t, drm_nova_gem_create, DrmNovaGemCreate, flags);
    field!(t, drm_nova_gem_create, DrmNovaGemCreate, handle);
    field!(t, drm_nova_gem_create, DrmNovaGemCreate, align);

    size!(t, drm_nova_gem_info, DrmNovaGemInfo);
    field!(t, drm_nova_gem_info, DrmNovaGemInfo, handle);
    field!(t, drm_nova_gem_info, DrmNovaGemInfo, flags);
    field!(t, drm_nova_gem_info, DrmNovaGemInfo, size);

    size!(t, drm_nova_gem_mmap_offset, DrmNovaGemMmapOffset);
    field!(t, drm_nova_gem_mmap_offset, DrmNovaGemMmapOffset, handle);
    field!(t, drm_nova_gem_mmap_offset, DrmNovaGemMmapOffset, pad);
    field!(t, drm_nova_gem_mmap_offset, DrmNovaGemMmapOffset, offset);

    size!(t, drm_nova_vm_create, DrmNovaVmCreate);
    field!(t, drm_nova_vm_create, DrmNovaVmCreate, flags);
    field!(t, drm_nova_vm_create, DrmNovaVmCreate, id);

    size!(t, drm_nova_vm_destroy, DrmNovaVmDestroy);
    field!(t, drm_nova_vm_destroy, DrmNovaVmDestroy, id);
    field!(t, drm_nova_vm_destroy, DrmNovaVmDestroy, pad);

    size!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, op);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, flags);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, handle);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, kind);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, va);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, range);
    field!(t, drm_nova_vm_bind_op, DrmNovaVmBindOp, bo_offset);

    size!(t, drm_nova_vm_bind, DrmNovaVmBind);
    field!(t, drm_nova_vm_bind, DrmNovaVmBind, vm_id);
    field!(t, drm_nova_vm_bind, DrmNovaVmBind, flags);
    field!(t, drm_nova_vm_bind, DrmNovaVmBind, num_ops);
    field!(t, drm_nova_vm_bind, DrmNovaVmBind, op_size);
    field!(t, drm_nova_vm_bind, DrmNovaVmBind, ops);

    size!(t, drm_nova_ctx_create, DrmNovaCtxCreate);
    field!(t, drm_nova_ctx_create, DrmNovaCtxCreate, vm_id);
    field!(t, drm_nova_ctx_create, DrmNovaCtxCreate, engine);
    field!(t, drm_nova_ctx_create, DrmNovaCtxCreate, flags);
    field!(t, drm_nova_ctx_create, DrmNovaCtxCreate, id);

    size!(t, drm_nova_ctx_destroy, DrmNovaCtxDestroy);
    field!(t, drm_nova_ctx_destroy, DrmNovaCtxDestroy, id);
    field!(t, drm_nova_ctx_destroy, DrmNovaCtxDestroy, pad);

    size!(t, drm_nova_ctx_query, DrmNovaCtxQuery);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, id);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, flags);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, resets);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, last_error);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, submitted);
    field!(t, drm_nova_ctx_query, DrmNovaCtxQuery, completed);

    size!(t, drm_nova_exec_push, DrmNovaExecPush);
    field!(t, drm_nova_exec_push, DrmNovaExecPush, va);
    field!(t, drm_nova_exec_push, DrmNovaExecPush, size);
    field!(t, drm_nova_exec_push, DrmNovaExecPush, flags);

    size!(t, drm_nova_sync, DrmNovaSync);
    field!(t, drm_nova_sync, DrmNovaSync, handle);
    field!(t, drm_nova_sync, DrmNovaSync, flags);
    field!(t, drm_nova_sync, DrmNovaSync, point);

    size!(t, drm_nova_exec, DrmNovaExec);
    field!(t, drm_nova_exec, DrmNovaExec, ctx_id);
    field!(t, drm_nova_exec, DrmNovaExec, flags);
    field!(t, drm_nova_exec, DrmNovaExec, num_push);
    field!(t, drm_nova_exec, DrmNovaExec, num_waits);
    field!(t, drm_nova_exec, DrmNovaExec, num_signals);
    field!(t, drm_nova_exec, DrmNovaExec, pad);
    field!(t, drm_nova_exec, DrmNovaExec, push);
    field!(t, drm_nova_exec, DrmNovaExec, waits);
    field!(t, drm_nova_exec, DrmNovaExec, signals);
    t
}

#[test]
fn every_entry_matches_c() {
    let c = c_table();
    let rust = rust_table();
    let mut names = BTreeMap::new();
    for (name, value) in &rust {
        assert!(names.insert(name.clone(), *value).is_none(), "{name} twice");
        let cv = c
            .get(name)
            .unwrap_or_else(|| panic!("{name}: not in layout_probe.c"));
        assert_eq!(*value, *cv, "{name}: Rust {value:#x}, C {cv:#x}");
    }
    for name in c.keys() {
        assert!(
            names.contains_key(name),
            "{name}: in layout_probe.c, not in the Rust table"
        );
    }
}

/// The header's text.
fn header() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/nova_drm.h")).unwrap()
}

#[test]
fn every_define_of_the_header_is_probed() {
    let c = c_table();
    let text = header();
    let mut defines = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("#define") else {
            continue;
        };
        let name = rest.split_whitespace().next().unwrap();
        if name == "_NOVA_DRM_H_" {
            continue;
        }
        assert!(
            c.contains_key(name),
            "#define {name}: not in layout_probe.c"
        );
        defines.insert(name.to_string());
    }
    // An empty walk would pass: the header has over 50 defines (53 besides its guard).
    assert!(
        defines.len() >= 50,
        "only {} #defines found: parser broken?",
        defines.len()
    );
    // And the other way: every constant the probe has is the header's, but for the two drm.h
    // values the ioctl numbers are built from.
    for name in c.keys() {
        if name.starts_with("sizeof ") || name.starts_with("offsetof ") {
            continue;
        }
        assert!(
            defines.contains(name) || name == "DRM_COMMAND_BASE" || name == "DRM_IOCTL_BASE",
            "{name}: probed but not defined by nova_drm.h"
        );
    }
}

/// The structs of the header: name and field names, in order.
fn header_structs(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("struct ") {
            if let Some(name) = rest.strip_suffix(" {") {
                current = Some((name.to_string(), Vec::new()));
                continue;
            }
        }
        if let Some((name, fields)) = current.as_mut() {
            if l == "};" {
                out.push((name.clone(), std::mem::take(fields)));
                current = None;
            } else if let Some(decl) = l.strip_suffix(';') {
                let field = decl.split_whitespace().last().unwrap();
                fields.push(field.to_string());
            }
        }
    }
    out
}

#[test]
fn every_struct_and_field_of_the_header_is_probed() {
    let c = c_table();
    let structs = header_structs(&header());
    assert_eq!(structs.len(), 14, "{structs:?}");
    for (s, fields) in &structs {
        assert!(
            c.contains_key(&format!("sizeof {s}")),
            "struct {s}: no size"
        );
        assert!(!fields.is_empty(), "struct {s}: no fields parsed");
        let mut end = 0;
        for f in fields {
            let off = c
                .get(&format!("offsetof {s}.{f}"))
                .unwrap_or_else(|| panic!("{s}.{f}: no offset in layout_probe.c"));
            let size = c[&format!("sizeof {s}.{f}")];
            // Explicit sizes, natural alignment, no implicit padding (the header's rules).
            assert_eq!(*off, end, "{s}.{f}: implicit padding before it");
            assert_eq!(off % size, 0, "{s}.{f}: not naturally aligned");
            end = off + size;
        }
        assert_eq!(end, c[&format!("sizeof {s}")], "struct {s}: tail padding");
        // Structs grow at the end and are copied by ioctl: a multiple of 8 on every ABI.
        assert_eq!(end % 8, 0, "struct {s}: size {end} not a multiple of 8");
    }
}

#[test]
fn every_const_of_the_mirror_is_compared() {
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/nova_drm.rs")).unwrap();
    let names: Vec<String> = rust_table().into_iter().map(|(n, _)| n).collect();
    let mut seen = 0;
    for line in src.lines() {
        let Some(rest) = line.strip_prefix("pub const ") else {
            continue;
        };
        if rest.starts_with("fn ") {
            continue;
        }
        let name = rest.split(':').next().unwrap();
        assert!(
            names.iter().any(|n| n == name),
            "{name}: in nova_drm.rs, not compared with C"
        );
        seen += 1;
    }
    assert!(seen >= 40, "only {seen} consts found: parser broken?");
}

#[test]
fn iowr_encoding() {
    // DRM_IOCTL_VERSION on x86-64 is 0xc0406400 (struct drm_version is 64 bytes).
    assert_eq!(iowr(DRM_IOCTL_BASE, 0, 64), 0xc040_6400);
    assert_eq!(DRM_IOCTL_NOVA_GETPARAM, 0xc010_6440);
    assert_eq!(DRM_IOCTL_NOVA_VM_BIND, 0xc018_6446);
    // struct drm_nova_exec is 48 bytes, number 0x40 + 0x0a.
    assert_eq!(DRM_IOCTL_NOVA_EXEC, 0xc030_644a);
    assert_eq!(DRM_IOCTL_NOVA_CTX_QUERY, 0xc020_6449);
    assert_eq!(NOVA_EXEC_MAX_PUSH_SIZE, 0x7f_fffc);
}
