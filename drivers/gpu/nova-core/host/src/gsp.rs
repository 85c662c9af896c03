// SPDX-License-Identifier: GPL-2.0
//! The pure files of nova-core's `gsp` module (the kernel module adds its own glue around them).

#[path = "../../gsp/fifo.rs"]
pub mod fifo;
#[path = "../../gsp/libos.rs"]
pub mod libos;
#[path = "../../gsp/queue.rs"]
pub mod queue;
#[path = "../../gsp/rpc.rs"]
pub mod rpc;
#[path = "../../gsp/sequencer.rs"]
pub mod sequencer;
#[path = "../../gsp/wpr_meta.rs"]
pub mod wpr_meta;
