#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs a fuzz target without nightly: libFuzzer with SanitizerCoverage feedback (stable
# -C flags), debug assertions and overflow checks, but no AddressSanitizer (that part of
# cargo-fuzz needs -Zsanitizer). Usage: ./run-stable.sh encode|kernel_abi [seconds]
set -eu
cd "$(dirname "$0")"
target=${1:-encode}
seconds=${2:-60}
triple=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --target "$triple" --bin "$target"
mkdir -p "corpus/$target"
exec "target/$triple/release/$target" -max_total_time="$seconds" -max_len=8200 "corpus/$target"
