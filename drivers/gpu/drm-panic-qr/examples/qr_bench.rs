// SPDX-License-Identifier: GPL-2.0

//! Benchmark (work in progress).

fn main() {}
