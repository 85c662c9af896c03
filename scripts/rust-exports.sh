#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rust-exports.sh NM PROVIDER.o CONSUMER.o...
#
# Prints one NOVA_EXPORT_RUST(symbol); line for every Rust (v0-mangled, "_R...") symbol that a
# consumer object leaves undefined and the provider object defines (text, read-only data, data
# or bss). Module init/exit entry points and compiler-generated prefixes are never exported.
set -eu
nm=$1
provider=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for c in "$@"; do
	$nm -u "$c"
done | awk '{ print $NF }' | grep '^_R' | sort -u > "$tmp/wanted"

$nm -p --defined-only "$provider" |
	awk '$2 ~ /^[TtRrDdBb]$/ && $3 ~ /^_R/ { print $3 }' |
	grep -v -e '_init_module$' -e '_cleanup_module$' -e '__pfx' -e '__cfi' -e '__odr_asan' |
	sort -u > "$tmp/defined"

comm -12 "$tmp/wanted" "$tmp/defined" | sed 's/.*/NOVA_EXPORT_RUST(&);/'
