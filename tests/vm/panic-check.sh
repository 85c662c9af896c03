#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# panic-check.sh WxH: one panic-screen run at that resolution, then decode its screendump with
# two independent decoders (zbarimg from the chroot, and panic-decode's own rqrr path) and
# check that the kmsg recovered holds the marker lines and the panic message.
. "$(dirname "$0")/../../scripts/lib.sh"
res=${1:?usage: panic-check.sh WIDTHxHEIGHT}
name=panic-$res
PD=$NOVA_CACHE/target/release/panic-decode
[ -x "$PD" ] || die "panic-decode not built: run 'make all'"

# drm_panic.c draws the code at scale >= 2 inside 3/4 of the shorter side, else falls back to
# the text screen: use the largest QR version (at most 40) that fits, as a user of this screen
# would set drm.panic_qr_version. Side of version v with its 4-module margins: 17 + 4v + 8.
w=${res%x*}
h=${res#*x}
short=$(( w < h ? w : h ))
version=$(( (3 * short / 4 / 2 - 25) / 4 ))
[ "$version" -gt 40 ] && version=40

VM_APPEND="drm.panic_qr_version=$version" VM_VGA=$res VM_PANIC=1 VM_TIMEOUT=${VM_TIMEOUT:-300} \
    bash "$NOVA_ROOT/scripts/vm.sh" "$name" "$NOVA_ROOT/tests/vm/panic.sh" || true
run=$NOVA_CACHE/vm/runs/$name
shot=$run/screen.ppm

kmsg_ok() { # FILE: the recovered log has the three markers and the panic message
    local f=$1 i
    for i in 1 2 3; do grep -q "nova-panic-test: marker line $i" "$f" || { echo "marker line $i missing"; return 1; }; done
    grep -q "Kernel panic - not syncing: sysrq triggered crash" "$f" || { echo "panic message missing"; return 1; }
}

if [ ! -s "$shot" ]; then
    echo "FAIL $name::zbar_decodes: no screendump"
    echo "FAIL $name::kmsg_via_zbar: no screendump"
    echo "FAIL $name::kmsg_via_panic_decode: no screendump"
    exit 0
fi
# zbarimg runs in the chroot; the run directory is not bound there, so copy the image in.
tmp=$CHROOT/tmp/nova-$name.ppm
cp "$shot" "$tmp"
url=$(chroot "$CHROOT" zbarimg -q --raw "/tmp/nova-$name.ppm" 2>/dev/null || true)
rm -f "$tmp"
printf '%s\n' "$url" > "$run/qr-url.txt"
if [[ "$url" == "https://panic.archlinux.org/panic_report#?a=x86_64&v="*"&z="* ]]; then
    echo "PASS $name::zbar_decodes"
else
    echo "FAIL $name::zbar_decodes: zbarimg read '${url:0:80}'"
fi
if "$PD" --url "$url" > "$run/kmsg-zbar.txt" 2>&1 && why=$(kmsg_ok "$run/kmsg-zbar.txt"); then
    echo "PASS $name::kmsg_via_zbar (version $version, $(wc -c < "$run/kmsg-zbar.txt") bytes of kmsg)"
else
    echo "FAIL $name::kmsg_via_zbar: ${why:-$(head -c 200 "$run/kmsg-zbar.txt")}"
fi
if "$PD" "$shot" > "$run/kmsg-image.txt" 2>&1 && why=$(kmsg_ok "$run/kmsg-image.txt"); then
    echo "PASS $name::kmsg_via_panic_decode"
else
    echo "FAIL $name::kmsg_via_panic_decode: ${why:-$(head -c 200 "$run/kmsg-image.txt")}"
fi
