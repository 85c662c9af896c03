#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A debootstrapped Debian trixie in $CHROOT that holds QEMU 11 (trixie-backports, the first with
# a vfio-user client) and the guest userland tools, so that the host's libc is never upgraded.
# Nothing stays mounted: scripts/vm.sh binds what it needs in a private mount namespace.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "the chroot needs root"
command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/setup-host.sh"

# Packages, taken from trixie-backports where it has them (QEMU 11). Changing this list installs what is new on the next run.
PKGS=(
    qemu-system-x86
    busybox-static
    zbar-tools
)
want="$(printf '%s\n' "${PKGS[@]}")"
stamp_ok chroot "$want" && [ -x "$CHROOT/usr/bin/qemu-system-x86_64" ] && exit 0

mirror=$(debian_mirror)
if [ ! -f "$CHROOT/.nova-debootstrap-done" ]; then
    log "debootstrap trixie into $CHROOT (log: $NOVA_CACHE/debootstrap.log)"
    rm -rf "$CHROOT"
    debootstrap --variant=minbase trixie "$CHROOT" "$mirror" > "$NOVA_CACHE/debootstrap.log" 2>&1 \
        || { tail -20 "$NOVA_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    touch "$CHROOT/.nova-debootstrap-done"
fi
cat > "$CHROOT/etc/apt/sources.list" <<EOS
deb $mirror trixie main non-free-firmware
deb $mirror trixie-backports main
EOS
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true

log "installing into the chroot: ${PKGS[*]}"
# A private mount namespace: /proc and /dev are bound only for this apt run.
unshare --mount --propagation private bash -euc '
    for d in dev proc sys; do mount --bind "/$d" "$1/$d"; done
    chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends -t trixie-backports \"\$@\" && apt-get clean" sh "${@:2}"
' _ "$CHROOT" "${PKGS[@]}" > "$NOVA_CACHE/chroot-apt.log" 2>&1 \
    || { tail -20 "$NOVA_CACHE/chroot-apt.log" >&2; die "apt-get in the chroot failed"; }
[ -x "$CHROOT/usr/bin/qemu-system-x86_64" ] || die "qemu-system-x86_64 missing in the chroot"
chroot "$CHROOT" qemu-system-x86_64 -device help 2>/dev/null | grep -q vfio-user-pci \
    || die "the chroot's QEMU has no vfio-user-pci device"
stamp_set chroot "$want"
