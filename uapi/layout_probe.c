// SPDX-License-Identifier: MIT
/*
 * The C compiler's view of nova_drm.h, for uapi/tests/layout.rs: every struct's size, every
 * field's offset and size, every ioctl number and every constant, as C userspace (Mesa) would
 * see them. The table is exported as named entries; the Rust test builds the same names from
 * the mirror and compares both ways, and checks that every #define and every struct field of
 * nova_drm.h appears here.
 */
#include <stddef.h>
#include "nova_drm.h"

struct nova_probe_entry {
	const char *name;
	unsigned long long value;
};

#define SIZE(s) { "sizeof " #s, sizeof(struct s) }
#define FIELD(s, f) \
	{ "offsetof " #s "." #f, offsetof(struct s, f) }, \
	{ "sizeof " #s "." #f, sizeof(((struct s *)0)->f) }
#define CONST(c) { #c, (unsigned long long)(c) }

const struct nova_probe_entry nova_c_layout[] = {
	/* From drm.h, mirrored because the ioctl numbers are built from them. */
	CONST(DRM_COMMAND_BASE),
	CONST(DRM_IOCTL_BASE),

	/* Ioctl numbers relative to DRM_COMMAND_BASE, and the full ioctl requests. */
	CONST(DRM_NOVA_GETPARAM),
	CONST(DRM_NOVA_GEM_CREATE),
	CONST(DRM_NOVA_GEM_INFO),
	CONST(DRM_NOVA_GEM_MMAP_OFFSET),
	CONST(DRM_NOVA_VM_CREATE),
	CONST(DRM_NOVA_VM_DESTROY),
	CONST(DRM_NOVA_VM_BIND),
	CONST(DRM_NOVA_CTX_CREATE),
	CONST(DRM_NOVA_CTX_DESTROY),
	CONST(DRM_NOVA_CTX_QUERY),
	CONST(DRM_NOVA_EXEC),
	CONST(DRM_IOCTL_NOVA_GETPARAM),
	CONST(DRM_IOCTL_NOVA_GEM_CREATE),
	CONST(DRM_IOCTL_NOVA_GEM_INFO),
	CONST(DRM_IOCTL_NOVA_GEM_MMAP_OFFSET),
	CONST(DRM_IOCTL_NOVA_VM_CREATE),
	CONST(DRM_IOCTL_NOVA_VM_DESTROY),
	CONST(DRM_IOCTL_NOVA_VM_BIND),
	CONST(DRM_IOCTL_NOVA_CTX_CREATE),
	CONST(DRM_IOCTL_NOVA_CTX_DESTROY),
	CONST(DRM_IOCTL_NOVA_CTX_QUERY),
	CONST(DRM_IOCTL_NOVA_EXEC),

	/* GETPARAM parameters. */
	CONST(NOVA_GETPARAM_CHIPSET),
	CONST(NOVA_GETPARAM_ARCHITECTURE),
	CONST(NOVA_GETPARAM_REVISION),
	CONST(NOVA_GETPARAM_VRAM_SIZE),
	CONST(NOVA_GETPARAM_BAR1_SIZE),
	CONST(NOVA_GETPARAM_FW_VERSION),
	CONST(NOVA_GETPARAM_VA_START),
	CONST(NOVA_GETPARAM_VA_END),
	CONST(NOVA_GETPARAM_PAGE_SIZES),
	CONST(NOVA_GETPARAM_CLASS_CHANNEL),
	CONST(NOVA_GETPARAM_CLASS_COPY),
	CONST(NOVA_GETPARAM_CLASS_2D),
	CONST(NOVA_GETPARAM_CLASS_3D),
	CONST(NOVA_GETPARAM_CLASS_COMPUTE),
	CONST(NOVA_GETPARAM_VRAM_FREE),
	CONST(NOVA_GETPARAM_JOB_TIMEOUT_MS),

	/* Flags and limits. */
	CONST(NOVA_GEM_CREATE_VRAM),
	CONST(NOVA_GEM_CREATE_FLAGS),
	CONST(NOVA_VM_BIND_MAX_OPS),
	CONST(NOVA_VM_MAX_PER_FILE),
	CONST(NOVA_VM_BIND_OP_MAP),
	CONST(NOVA_VM_BIND_OP_UNMAP),
	CONST(NOVA_VM_BIND_SPARSE),
	CONST(NOVA_VM_BIND_READ_ONLY),
	CONST(NOVA_VM_BIND_OP_FLAGS),
	CONST(NOVA_ENGINE_COPY),
	CONST(NOVA_ENGINE_2D),
	CONST(NOVA_CTX_MAX_PER_VM),
	CONST(NOVA_EXEC_MAX_PUSH),
	CONST(NOVA_EXEC_MAX_SYNCS),
	CONST(NOVA_EXEC_MAX_PUSH_SIZE),

	/* Structs. */
	SIZE(drm_nova_getparam),
	FIELD(drm_nova_getparam, param),
	FIELD(drm_nova_getparam, value),

	SIZE(drm_nova_gem_create),
	FIELD(drm_nova_gem_create, size),
	FIELD(drm_nova_gem_create, flags),
	FIELD(drm_nova_gem_create, handle),
	FIELD(drm_nova_gem_create, align),

	SIZE(drm_nova_gem_info),
	FIELD(drm_nova_gem_info, handle),
	FIELD(drm_nova_gem_info, flags),
	FIELD(drm_nova_gem_info, size),

	SIZE(drm_nova_gem_mmap_offset),
	FIELD(drm_nova_gem_mmap_offset, handle),
	FIELD(drm_nova_gem_mmap_offset, pad),
	FIELD(drm_nova_gem_mmap_offset, offset),

	SIZE(drm_nova_vm_create),
	FIELD(drm_nova_vm_create, flags),
	FIELD(drm_nova_vm_create, id),

	SIZE(drm_nova_vm_destroy),
	FIELD(drm_nova_vm_destroy, id),
	FIELD(drm_nova_vm_destroy, pad),

	SIZE(drm_nova_vm_bind_op),
	FIELD(drm_nova_vm_bind_op, op),
	FIELD(drm_nova_vm_bind_op, flags),
	FIELD(drm_nova_vm_bind_op, handle),
	FIELD(drm_nova_vm_bind_op, kind),
	FIELD(drm_nova_vm_bind_op, va),
	FIELD(drm_nova_vm_bind_op, range),
	FIELD(drm_nova_vm_bind_op, bo_offset),

	SIZE(drm_nova_vm_bind),
	FIELD(drm_nova_vm_bind, vm_id),
	FIELD(drm_nova_vm_bind, flags),
	FIELD(drm_nova_vm_bind, num_ops),
	FIELD(drm_nova_vm_bind, op_size),
	FIELD(drm_nova_vm_bind, ops),

	SIZE(drm_nova_ctx_create),
	FIELD(drm_nova_ctx_create, vm_id),
	FIELD(drm_nova_ctx_create, engine),
	FIELD(drm_nova_ctx_create, flags),
	FIELD(drm_nova_ctx_create, id),

	SIZE(drm_nova_ctx_destroy),
	FIELD(drm_nova_ctx_destroy, id),
	FIELD(drm_nova_ctx_destroy, pad),

	SIZE(drm_nova_ctx_query),
	FIELD(drm_nova_ctx_query, id),
	FIELD(drm_nova_ctx_query, flags),
	FIELD(drm_nova_ctx_query, resets),
	FIELD(drm_nova_ctx_query, last_error),
	FIELD(drm_nova_ctx_query, submitted),
	FIELD(drm_nova_ctx_query, completed),

	SIZE(drm_nova_exec_push),
	FIELD(drm_nova_exec_push, va),
	FIELD(drm_nova_exec_push, size),
	FIELD(drm_nova_exec_push, flags),

	SIZE(drm_nova_sync),
	FIELD(drm_nova_sync, handle),
	FIELD(drm_nova_sync, flags),
	FIELD(drm_nova_sync, point),

	SIZE(drm_nova_exec),
	FIELD(drm_nova_exec, ctx_id),
	FIELD(drm_nova_exec, flags),
	FIELD(drm_nova_exec, num_push),
	FIELD(drm_nova_exec, num_waits),
	FIELD(drm_nova_exec, num_signals),
	FIELD(drm_nova_exec, pad),
	FIELD(drm_nova_exec, push),
	FIELD(drm_nova_exec, waits),
	FIELD(drm_nova_exec, signals),
};

const unsigned long nova_c_layout_len = sizeof(nova_c_layout) / sizeof(nova_c_layout[0]);
