#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# IGT (igt-gpu-tools, Debian sid) for the igt VM suite, never on the host:
#
# 1. $NOVA_CACHE/igt-root: a debootstrapped Debian trixie (minbase) in which apt installs
#    igt-gpu-tools-tests=$IGT_VERSION from sid (apt -t sid: it and the dependencies it brings in come
#    from sid; sid is pinned low so that nothing else is ever taken from it).
# 2. $NOVA_CACHE/igt: what the guest gets in its share as /mnt/igt: igt.tar.xz holds bin/ (the
#    test binaries named in tests/igt/nova.testlist) and lib/ (their shared libraries, the
#    closure ldd finds in the root, and the dynamic loader); nova.testlist is the list itself.
#    Compressed because the guest reads its 9p share at under 1 MB/s under TCG: 8 MB instead of
#    35 MB. The guest unpacks it into its tmpfs and runs the binaries there (tests/vm/igt.sh).
#
# Each step is skipped when its stamp says it is done; step 2 is redone when the test list changes.
. "$(dirname "$0")/lib.sh"

IGT_VERSION=2.5-1
IGT_ROOT=$NOVA_CACHE/igt-root
IGT_STAGE=$NOVA_CACHE/igt
IGT_TESTDIR=/usr/libexec/igt-gpu-tools
TESTLIST=$NOVA_ROOT/tests/igt/nova.testlist

[ -f "$TESTLIST" ] || die "$TESTLIST missing"
# The binaries of the test list: first word of every line that is not blank or a comment.
mapfile -t BINS < <(sed -e 's/#.*//' "$TESTLIST" | awk 'NF { print $1 }' | sort -u)
[ ${#BINS[@]} -gt 0 ] || die "$TESTLIST names no test"

root_want="igt-gpu-tools-tests=$IGT_VERSION"
stage_want="$root_want $(sha256sum < "$TESTLIST" | cut -c1-16)"
if stamp_ok igt-root "$root_want" && stamp_ok igt-stage "$stage_want" && [ -s "$IGT_STAGE/igt.tar.xz" ]; then
    exit 0
fi

[ "$(id -u)" = 0 ] || die "setting up IGT needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/setup-host.sh"

# In a private mount namespace, with /dev, /proc, /sys bound only for this command.
in_root() {
    unshare --mount --propagation private bash -euc '
        r=$1; shift
        for d in dev proc sys; do mount --bind "/$d" "$r/$d"; done
        chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            DEBIAN_FRONTEND=noninteractive "$@"' _ "$IGT_ROOT" "$@"
}

# --- 1. the root with igt-gpu-tools
if ! stamp_ok igt-root "$root_want" || [ ! -d "$IGT_ROOT$IGT_TESTDIR" ]; then
    mirror=$(debian_mirror)
    if [ ! -f "$IGT_ROOT/.nova-debootstrap-done" ]; then
        log "debootstrap trixie into $IGT_ROOT (log: $NOVA_CACHE/igt-debootstrap.log)"
        rm -rf "$IGT_ROOT"
        debootstrap --variant=minbase trixie "$IGT_ROOT" "$mirror" > "$NOVA_CACHE/igt-debootstrap.log" 2>&1 \
            || { tail -20 "$NOVA_CACHE/igt-debootstrap.log" >&2; die "debootstrap of the IGT root failed"; }
        touch "$IGT_ROOT/.nova-debootstrap-done"
    fi
    cat > "$IGT_ROOT/etc/apt/sources.list" <<EOS
deb $mirror trixie main
deb $mirror sid main
EOS
    # sid only when asked for (-t sid below).
    printf 'Package: *\nPin: release n=sid\nPin-Priority: 100\n' > "$IGT_ROOT/etc/apt/preferences.d/nova-sid"
    cp /etc/resolv.conf "$IGT_ROOT/etc/resolv.conf" 2>/dev/null || true
    log "installing igt-gpu-tools-tests=$IGT_VERSION (sid) into $IGT_ROOT (log: $NOVA_CACHE/igt-apt.log)"
    # The mirror serves a dated snapshot of sid: its Release file may be past its Valid-Until.
    in_root sh -c "apt-get -o Acquire::Check-Valid-Until=false update -q && \
        apt-get install -y -q --no-install-recommends -t sid igt-gpu-tools-tests=$IGT_VERSION && apt-get clean" \
        > "$NOVA_CACHE/igt-apt.log" 2>&1 \
        || { tail -20 "$NOVA_CACHE/igt-apt.log" >&2; die "apt-get install igt-gpu-tools-tests=$IGT_VERSION in $IGT_ROOT failed"; }
    [ -x "$IGT_ROOT$IGT_TESTDIR/core_getversion" ] || die "igt-gpu-tools-tests installed no $IGT_TESTDIR/core_getversion"
    stamp_set igt-root "$root_want"
fi

# --- 2. the guest's copy: test binaries, their libraries, the loader
log "staging IGT for the guest in $IGT_STAGE: ${BINS[*]}"
rm -rf "$IGT_STAGE.tmp"
files=$IGT_STAGE.tmp/files
mkdir -p "$files/bin" "$files/lib"
for b in "${BINS[@]}"; do
    [ -x "$IGT_ROOT$IGT_TESTDIR/$b" ] || die "tests/igt/nova.testlist: no IGT test binary '$b' in igt-gpu-tools $IGT_VERSION"
    cp "$IGT_ROOT$IGT_TESTDIR/$b" "$files/bin/"
done
# ldd inside the root: "name => /path (addr)" and the loader as "/path (addr)".
mapfile -t LIBS < <(for b in "${BINS[@]}"; do in_root ldd "$IGT_TESTDIR/$b"; done \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
for l in "${LIBS[@]}"; do
    [ -e "$IGT_ROOT$l" ] || die "ldd named $l, which is not in $IGT_ROOT"
    cp -L "$IGT_ROOT$l" "$files/lib/$(basename "$l")"
done
[ -x "$files/lib/ld-linux-x86-64.so.2" ] || die "ldd found no dynamic loader for the IGT binaries"
size=$(du -sh "$files" | cut -f1)
tar -C "$files" -cf - bin lib | xz -T1 > "$IGT_STAGE.tmp/igt.tar.xz"
rm -rf "$files"
cp "$TESTLIST" "$IGT_STAGE.tmp/nova.testlist"
in_root dpkg-query -W -f='${Package} ${Version}\n' > "$IGT_STAGE.tmp/packages.txt"
rm -rf "$IGT_STAGE"
mv "$IGT_STAGE.tmp" "$IGT_STAGE"
log "IGT staged: ${#BINS[@]} tests, ${#LIBS[@]} libraries, $size ($(du -h "$IGT_STAGE/igt.tar.xz" | cut -f1) packed)"
stamp_set igt-stage "$stage_want"
