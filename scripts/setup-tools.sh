#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bindgen-cli, pinned, into $NOVA_CACHE/tools (Debian's bindgen needs a newer libc than the host's).
. "$(dirname "$0")/lib.sh"

if ! "$TOOLS/bin/bindgen" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
    log "cargo install bindgen-cli $BINDGEN_VERSION"
    cargo install -q bindgen-cli --locked --version "$BINDGEN_VERSION" --root "$TOOLS"
fi
