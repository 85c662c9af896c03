// SPDX-License-Identifier: MIT
//! The nova DRM uAPI for Rust userspace: the mirror of `nova_drm.h`, shared with the kernel.
#![no_std]

pub mod nova_drm;
pub use nova_drm::*;
