// SPDX-License-Identifier: GPL-2.0
//! Kernel formatting for the types of the pure (core-only) modules: the kernel's `dev_*!`
//! macros format with `kernel::fmt::Display`, the shared modules implement `core::fmt::Display`.

use crate::firmware::FwError;

impl kernel::fmt::Display for FwError {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl kernel::fmt::Display for crate::gsp::rpc::RpcError {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl kernel::fmt::Display for crate::gsp::sequencer::SeqError {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}
