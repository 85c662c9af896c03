#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The real NVIDIA firmware files (linux-firmware's nvidia/ tree) from Debian's
# firmware-nvidia-graphics package, unpacked (never installed) into $NOVA_CACHE/firmware.
# Downloaded inside the chroot, whose apt knows sid's non-free-firmware component. The
# mirror serves a dated snapshot of sid, so its Release file may be past its Valid-Until.
. "$(dirname "$0")/lib.sh"

FW=$NOVA_CACHE/firmware
GSP_DIR=$FW/lib/firmware/nvidia/ga102/gsp
# SHA-256 of the GA102 r570.144 files (facts sheet §6.1): a damaged cache is unpacked again.
SUMS="4497e3eff7e95c774b8a569d17b27c08c9650158d10b229d2be81cdcad9a085b  booter_load-570.144.bin
8e63db5b78d7d3e349f20a2d11099c3d7109081393cb09ffc0a28133324ae009  booter_unload-570.144.bin
82428f532240727e95bb3083fbaaba9b2cc7b937314323f2d546ce7245f27fad  bootloader-570.144.bin
a8c3ebeed280323aedb51c061f321e73379cce7a9ae643a33dd03915df027f7f  gsp-570.144.bin"
intact() { [ -d "$GSP_DIR" ] && (cd "$GSP_DIR" && sha256sum --quiet -c - <<< "$SUMS" >/dev/null 2>&1); }
if stamp_ok firmware "$FIRMWARE_PKG_VERSION" && intact; then
    exit 0
fi
[ -x "$CHROOT/usr/bin/apt-get" ] || die "the chroot is missing: run scripts/setup-chroot.sh first"

mirror=$(debian_mirror)
# sid is known to the chroot's apt only for this download (nothing is installed from it): the
# list is removed again on exit so that later apt runs in the chroot never see it.
sid_list=$CHROOT/etc/apt/sources.list.d/nova-sid-firmware.list
sid_pin=$CHROOT/etc/apt/preferences.d/nova-sid
trap 'rm -f "$sid_list" "$sid_pin"' EXIT
echo "deb $mirror sid non-free-firmware" > "$sid_list"
printf 'Package: *\nPin: release n=sid\nPin-Priority: 1\n' > "$sid_pin"
log "downloading firmware-nvidia-graphics $FIRMWARE_PKG_VERSION"
mkdir -p "$CHROOT/tmp/nova-fw"
unshare --mount --propagation private bash -euc '
    for d in dev proc sys; do mount --bind "/$d" "$1/$d"; done
    chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root sh -c \
        "apt-get -o Acquire::Check-Valid-Until=false update -q >/dev/null && cd /tmp/nova-fw && rm -f ./*.deb && apt-get download -q firmware-nvidia-graphics=$2"
' _ "$CHROOT" "$FIRMWARE_PKG_VERSION" > "$NOVA_CACHE/firmware-download.log" 2>&1 \
    || { tail -5 "$NOVA_CACHE/firmware-download.log" >&2; die "could not download firmware-nvidia-graphics=$FIRMWARE_PKG_VERSION"; }
deb=$(ls "$CHROOT"/tmp/nova-fw/firmware-nvidia-graphics_*.deb)
rm -rf "$FW.tmp"
dpkg-deb -x "$deb" "$FW.tmp"
# Debian installs the tree under /usr/lib/firmware; keep a lib/firmware view for the guest.
mkdir -p "$FW.tmp/lib"
[ -d "$FW.tmp/usr/lib/firmware" ] && ln -sfn ../usr/lib/firmware "$FW.tmp/lib/firmware"
rm -rf "$FW"
mv "$FW.tmp" "$FW"
rm -f "$deb"
intact || die "the GA102 570.144 files of firmware-nvidia-graphics $FIRMWARE_PKG_VERSION do not match their known SHA-256"
stamp_set firmware "$FIRMWARE_PKG_VERSION"
