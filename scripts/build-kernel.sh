#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The pinned kernel: Debian's linux-source tarball + kernel/patches/*.patch, configured as
# tinyconfig + kernel/nova.config, built with LLVM=-19 into $KOUT. Each stage is skipped when
# what it depends on (package version, patches, fragment) is unchanged.
. "$(dirname "$0")/lib.sh"

tarball=/usr/src/linux-source-$KVER.tar.xz
[ -f "$tarball" ] || die "$tarball missing: run 'make setup' (Debian package linux-source-$KVER)"
[ -x "$TOOLS/bin/bindgen" ] || die "bindgen missing in $TOOLS/bin: run 'make setup'"

# 0000-cover-letter.patch describes the series and carries no diff.
patches=()
for p in "$NOVA_ROOT"/kernel/patches/*.patch; do
    case "$(basename "$p")" in 0000-*) ;; *) [ -e "$p" ] && patches+=("$p") ;; esac
done
tree_id="$KPKG_VERSION $(cat "${patches[@]}" /dev/null | sha256sum | cut -c1-16)"

# 1. source tree with our patches applied. The patched tree is always made afresh in $KSRC.tmp.
#    The first time it becomes $KSRC; after that it is synced onto $KSRC by content, so that
#    only the files the patch set changes get a new mtime and make rebuilds only what depends on
#    them. Neither keeps the tarball's mtimes (tar -m, rsync without -t): a file that goes back to
#    an older content must look newer than the objects in $KOUT built from the newer one.
#    The stage-3 drm_panic_qr.rs is ours, not the tree's: the sync leaves it alone.
qr_rel=drivers/gpu/drm/drm_panic_qr.rs
if ! stamp_ok kernel-tree "$tree_id" || [ ! -f "$KSRC/Makefile" ]; then
    log "unpacking $tarball and applying ${#patches[@]} patch(es)"
    rm -rf "$KSRC.tmp"
    mkdir -p "$KSRC.tmp"
    tar -C "$KSRC.tmp" --strip-components=1 -m -xf "$tarball"
    for p in "${patches[@]}"; do
        patch -d "$KSRC.tmp" -p1 --no-backup-if-mismatch -s < "$p" || die "patch $(basename "$p") does not apply"
    done
    # From here until the stamp is set again $KSRC may be half-updated: never trust it.
    rm -f "$NOVA_CACHE/stamps/kernel-tree"
    if [ -f "$KSRC/Makefile" ]; then
        command -v rsync >/dev/null || die "rsync missing: run 'make setup'"
        log "syncing the changed files onto $KSRC"
        rsync -rlp --checksum --delete --exclude="/$qr_rel" --itemize-changes \
            "$KSRC.tmp/" "$KSRC/" > "$NOVA_CACHE/kernel-tree-sync.log" \
            || die "rsync onto $KSRC failed"
        log "$(grep -c '^[<>ch*]' "$NOVA_CACHE/kernel-tree-sync.log" || true) path(s) changed (list in $NOVA_CACHE/kernel-tree-sync.log)"
        rm -rf "$KSRC.tmp"
    else
        rm -rf "$KSRC"
        mv "$KSRC.tmp" "$KSRC"
    fi
    stamp_set kernel-tree "$tree_id"
    rm -f "$NOVA_CACHE/stamps/kernel-config" "$NOVA_CACHE/stamps/kernel-built"
fi

K=(-C "$KSRC" O="$KOUT" LLVM="$LLVM_SUFFIX")
frag=$NOVA_ROOT/kernel/nova.config
config_id="$tree_id $(sha256sum < "$frag" | cut -c1-16)"

# 2. configuration
if ! stamp_ok kernel-config "$config_id" || [ ! -f "$KOUT/.config" ]; then
    log "configuring (tinyconfig + kernel/nova.config)"
    mkdir -p "$KOUT"
    # Regenerating an unchanged .config must not make kbuild think it changed (syncconfig,
    # rewritten include/generated/rustc_cfg): keep the old file's mtime when the content is equal.
    prev_config=$KOUT/.config.nova-prev
    rm -f "$prev_config"
    [ -f "$KOUT/.config" ] && cp -p "$KOUT/.config" "$prev_config"
    make "${K[@]}" rustavailable >/dev/null || die "the kernel says Rust is not available (make rustavailable)"
    make "${K[@]}" tinyconfig >/dev/null
    (cd "$KSRC" && scripts/kconfig/merge_config.sh -m -O "$KOUT" "$KOUT/.config" "$frag" >/dev/null)
    make "${K[@]}" olddefconfig >/dev/null
    # Every line of the fragment must have survived olddefconfig (a dependency may drop one).
    bad=0
    while read -r l; do
        case "$l" in
            CONFIG_*=*) grep -qxF "$l" "$KOUT/.config" || { echo "config: wanted '$l', got '$(grep "^${l%%=*}=" "$KOUT/.config" || echo unset)'" >&2; bad=1; } ;;
            "# CONFIG_"*" is not set") s=${l#\# }; s=${s%% *}; grep -q "^$s=" "$KOUT/.config" && { echo "config: $s should be off" >&2; bad=1; } ;;
        esac
    done < "$frag"
    [ $bad = 0 ] || die "kernel/nova.config was not applied as written (see above)"
    if [ -f "$prev_config" ] && cmp -s "$prev_config" "$KOUT/.config"; then
        touch -r "$prev_config" "$KOUT/.config"
        log "configuration unchanged"
    fi
    rm -f "$prev_config"
    stamp_set kernel-config "$config_id"
    rm -f "$NOVA_CACHE/stamps/kernel-built"
fi

# 3. our QR encoder in place of the in-tree one (scripts/gen-panic-qr.py); rewritten only when
#    it changes, so make rebuilds just that object and the link
qr_tmp=$(mktemp)
python3 "$NOVA_ROOT/scripts/gen-panic-qr.py" "$NOVA_ROOT/drivers/gpu/drm-panic-qr" > "$qr_tmp" \
    || { rm -f "$qr_tmp"; die "could not generate drm_panic_qr.rs from drivers/gpu/drm-panic-qr"; }
qr_target=$KSRC/$qr_rel
cmp -s "$qr_tmp" "$qr_target" || cp "$qr_tmp" "$qr_target"
build_id="$config_id $(sha256sum < "$qr_tmp" | cut -c1-16)"
rm -f "$qr_tmp"

# 4. build
if ! stamp_ok kernel-built "$build_id" || [ ! -f "$KOUT/arch/x86/boot/bzImage" ]; then
    log "building the kernel (-j$JOBS, log in $KOUT/build.log)"
    start=$(date +%s)
    if ! make "${K[@]}" -j"$JOBS" all > "$KOUT/build.log" 2>&1; then
        tail -40 "$KOUT/build.log" >&2
        die "kernel build failed (full log: $KOUT/build.log)"
    fi
    log "kernel built in $(( $(date +%s) - start )) s"
    stamp_set kernel-built "$build_id"
fi
