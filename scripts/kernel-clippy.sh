#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel modules through clippy (CLIPPY=1) with the kernel's own lint set; any warning fails.
. "$(dirname "$0")/lib.sh"
out=$NOVA_CACHE/modules-clippy
mkdir -p "$out"
# Clippy speaks only when a crate is compiled: drop the crate objects so both always are.
rm -f "$out"/drivers/gpu/nova-core/nova_core.o "$out"/drivers/gpu/nova-drm/nova_drm.o
make -s -C "$KSRC" O="$KOUT" LLVM="$LLVM_SUFFIX" M="$NOVA_ROOT" MO="$out" CLIPPY=1 modules > "$out/clippy.log" 2>&1 \
    || { cat "$out/clippy.log"; die "kernel clippy build failed"; }
if grep -qE '^(warning|error)' "$out/clippy.log"; then
    cat "$out/clippy.log"
    die "kernel clippy reported warnings"
fi
log "kernel clippy: clean"
