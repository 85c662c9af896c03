// SPDX-License-Identifier: GPL-2.0
/*
 * Exports the Rust symbols of nova_core that nova_drm links against. The list is generated at
 * build time from the undefined symbols of nova_drm.o (scripts/rust-exports.sh), because the
 * kernel's Rust build has no cross-module export mechanism of its own yet.
 */
#include <linux/export.h>

#define NOVA_EXPORT_RUST(sym) extern int sym; EXPORT_SYMBOL_GPL(sym)
#include "exports_nova_core_generated.h"
