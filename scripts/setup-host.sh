#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host prerequisites: compilers for the kernel, the pinned kernel source and rust-src from
# trixie-backports (pinned low, arch:all packages only), bindgen-cli, debootstrap.
# Refuses any apt transaction that would upgrade the host's C or C++ runtime.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "setup needs root (apt-get, chroot, mount)"
command -v rustc >/dev/null || die "rustc is missing: the machine's rustup toolchain 1.95.0 is required"
rustc --version | grep -q '^rustc 1\.95\.' || die "rustc 1.95.x required (RUST_LIB_SRC must match), found: $(rustc --version)"

PKGS=(
    "linux-source-$KVER=$KPKG_VERSION"
    "rust-src=$RUST_SRC_VERSION"
    clang-19 lld-19 llvm-19 libclang-19-dev
    build-essential bc bison flex libelf-dev libssl-dev cpio kmod rsync python3
    debootstrap zstd xz-utils libdrm-dev
)

want="$(printf '%s\n' "${PKGS[@]}")"
if stamp_ok host-pkgs "$want"; then
    exit 0
fi

mirror=$(debian_mirror)
# trixie and trixie-backports, pinned so that nothing is taken from them unless asked for by
# version. The file names are ours so that re-running replaces them.
cat > /etc/apt/sources.list.d/nova-trixie.sources <<EOS
Types: deb
URIs: $mirror
Suites: trixie trixie-backports
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
cat > /etc/apt/preferences.d/nova-trixie <<'EOS'
Package: *
Pin: release n=trixie
Pin-Priority: 50

Package: *
Pin: release n=trixie-backports
Pin-Priority: 50
EOS
if ! grep -q trixie /var/lib/apt/lists/*_InRelease 2>/dev/null || [ ! -f "$NOVA_CACHE/stamps/apt-updated" ]; then
    log "apt-get update"
    apt-get update -q >/dev/null
    stamp_set apt-updated 1
fi

need=()
for p in "${PKGS[@]}"; do
    name=${p%%=*}
    ver=""; [ "$name" != "$p" ] && ver=${p#*=}
    cur=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
    if [[ "$cur" != "install ok installed"* ]] || { [ -n "$ver" ] && [[ "$cur" != *" $ver" ]]; }; then
        need+=("$p")
    fi
done
if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    sim=$(apt-get install -s -y --no-install-recommends "${need[@]}" | grep '^Inst ' || true)
    if echo "$sim" | grep -E '^Inst (libc6|libc-bin|libc6-dev|libstdc\+\+6|libgcc-s1)[ :]'; then
        die "apt would upgrade the host's C/C++ runtime; refusing (see the lines above)"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

[ -d "$RUST_LIB_SRC/core" ] || die "rust-src did not install the core library at $RUST_LIB_SRC"
stamp_set host-pkgs "$want"
