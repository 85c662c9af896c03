# SPDX-License-Identifier: GPL-2.0
# Common settings for the nova build scripts. Sourced, never run.
#
# Everything that is downloaded or built lives in $NOVA_CACHE (default ~/.cache/nova) so that a
# fresh clone of the repository reuses it. Each step records what it was built from in a stamp
# file and redoes the work only when that changes.

set -euo pipefail

NOVA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NOVA_CACHE=${NOVA_CACHE:-$HOME/.cache/nova}
JOBS=${JOBS:-$(nproc)}

# Pinned versions (see kernel/README.md for why each one).
KVER=7.3
KPKG_VERSION=7.3.4-1~bpo13+1
RUST_SRC_VERSION=1.95.0+dfsg1-2~bpo13+1
BINDGEN_VERSION=0.72.1
LLVM_SUFFIX=-19
FIRMWARE_PKG_VERSION=20260916-1

TOOLS=$NOVA_CACHE/tools
KSRC=$NOVA_CACHE/linux-$KVER
KOUT=$NOVA_CACHE/kbuild
CHROOT=$NOVA_CACHE/chroot
export RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export PATH=$TOOLS/bin:$HOME/.cargo/bin:$PATH

mkdir -p "$NOVA_CACHE"

log() { printf '[nova %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[nova] ERROR: %s\n' "$*" >&2; exit 1; }

# The host's own Debian mirror, read from its apt configuration (never hard-coded here).
debian_mirror() {
    local m=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
    fi
    [ -n "$m" ] || die "cannot find the host's Debian mirror in /etc/apt/sources.list{,.d/debian.sources}"
    echo "$m"
}

# stamp NAME CONTENT: true when the stamp file holds exactly CONTENT (the step is up to date).
stamp_ok() { [ -f "$NOVA_CACHE/stamps/$1" ] && [ "$(cat "$NOVA_CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$NOVA_CACHE/stamps"; printf '%s' "$2" > "$NOVA_CACHE/stamps/$1"; }
