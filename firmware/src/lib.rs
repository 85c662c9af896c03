// SPDX-License-Identifier: GPL-2.0
//! VBIOS image builder for the vGPU (in progress).
