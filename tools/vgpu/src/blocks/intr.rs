// SPDX-License-Identifier: GPL-2.0
//! The Ampere CPU interrupt tree, as the physical function sees it in the "virtual function"
//! register window at BAR0 0xB80000 (docs/facts/ga102.md §2.3; OG 570.144 `ampere/ga102/dev_vm.h` L26-62;
//! nouveau `nvkm/subdev/vfn/tu102.c`, `ga100.c` L49 for the 0xB80000 base).
//!
//! Registers (window offset + 0xB80000):
//! - `CPU_INTR_LEAF(i)`, i < 8, 0x1000 + 4i: one pending bit per GPU interrupt vector
//!   (vector v = leaf v / 32, bit v % 32); writing 1s clears them (docs/facts/ga102.md §2.3).
//! - `CPU_INTR_LEAF_EN_SET(i)` 0x1200 + 4i / `CPU_INTR_LEAF_EN_CLEAR(i)` 0x1400 + 4i: writing 1s
//!   sets / clears enable bits; both read the enable mask (INIT 0).
//! - `CPU_INTR_TOP(0)` 0x1600 (read-only): bit s = subtree s has a leaf bit pending and enabled.
//!   Subtree s owns leaves 2s and 2s + 1 (OG 570.144 `dev_ctrl_defines.h` L47-48; nouveau
//!   `tu102_vfn_intr_pending` reads leaf i when TOP bit i / 2 is set).
//! - `CPU_INTR_TOP_EN_SET(0)` 0x1608 / `CPU_INTR_TOP_EN_CLEAR(0)` 0x1610: as the leaf enables, one
//!   bit per subtree.
//! - `CPU_INTR_LEAF_TRIGGER` 0x1640 (write-only): sets the leaf bit of the vector in 11:0.
//!
//! The tree asserts subtree s towards the host while TOP bit s and TOP_EN bit s are both set.
//! [`crate::server::Device`] turns each newly asserted subtree into an interrupt message: MSI-X
//! vector s (OD `ampere/host/ampere_interrupt_map.csv`, "MSI-X Vector" column: leaves 0-1 →
//! 0, 2-3 → 1, 4-5 → 2, 6-7 → 3), or the single MSI / INTx when MSI-X is off.
//!
//! Sources feeding leaf bits: the GSP falcon's interrupt output ([`GSP_VECTOR`]) and
//! `LEAF_TRIGGER`. Nothing else in the model interrupts.

use super::Block;
use std::sync::{Arc, Mutex, MutexGuard};

/// BAR0 base of the virtual-function window (`NV_VIRTUAL_FUNCTION_FULL_PHYS_OFFSET`, facts
/// §2.3).
pub const VF_BASE: u32 = 0xb8_0000;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(i)`.
pub const LEAF: u32 = VF_BASE + 0x1000;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(i)`.
pub const LEAF_EN_SET: u32 = VF_BASE + 0x1200;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(i)`.
pub const LEAF_EN_CLEAR: u32 = VF_BASE + 0x1400;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP(0)`.
pub const TOP: u32 = VF_BASE + 0x1600;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_SET(0)`.
pub const TOP_EN_SET: u32 = VF_BASE + 0x1608;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_CLEAR(0)`.
pub const TOP_EN_CLEAR: u32 = VF_BASE + 0x1610;
/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_TRIGGER`.
pub const LEAF_TRIGGER: u32 = VF_BASE + 0x1640;
/// `LEAF__SIZE_1` on GA102 (OG 570.144 `ampere/ga102/dev_vm.h` L50).
pub const LEAVES: usize = 8;
/// GPU interrupt vectors the 8 leaves hold.
pub const VECTORS: u32 = 32 * LEAVES as u32;

/// The GSP falcon's interrupt (`gsp_intr_0`): GPU interrupt vector 155 = `CPU_LEAF(4)` bit 27,
/// subtree 2, MSI-X vector 2 (OD `ampere/host/ampere_interrupt_map.csv` L157). GSP-RM reports
/// it to the CPU as the `vectorStall` of the `MC_ENGINE_IDX_GSP` entry of
/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`.
pub const GSP_VECTOR: u32 = 155;
/// The display engine (`pdisp`): vector 154 = `CPU_LEAF(4)` bit 26 (same map, L156). Nothing in
/// the model raises it; GSP-RM's interrupt table lists it.
pub const DISP_VECTOR: u32 = 154;

/// Leaf register index of vector `v`.
pub const fn leaf_of(v: u32) -> usize {
    (v / 32) as usize
}

/// Bit of vector `v` in its leaf register.
pub const fn bit_of(v: u32) -> u32 {
    1 << (v % 32)
}

/// Subtree (TOP bit, and MSI-X vector) of vector `v`.
pub const fn subtree_of(v: u32) -> u32 {
    v / 64
}

/// The tree's state.
#[derive(Default, Debug, Clone, Copy)]
struct Tree {
    leaf: [u32; LEAVES],
    leaf_en: [u32; LEAVES],
    top_en: u32,
}

impl Tree {
    fn top(&self) -> u32 {
        (0..LEAVES).fold(0, |t, i| {
            if self.leaf[i] & self.leaf_en[i] != 0 {
                t | 1 << (i / 2)
            } else {
                t
            }
        })
    }
}

type Shared = Arc<Mutex<Tree>>;

fn lock(t: &Shared) -> MutexGuard<'_, Tree> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

/// Access to the tree for the device (interrupt sources and delivery).
#[derive(Clone)]
pub struct IntrHandle(Shared);

impl Default for IntrHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl IntrHandle {
    /// A tree at power-on, not yet in a block (see [`Intr::on`]).
    pub fn new() -> Self {
        IntrHandle(Arc::new(Mutex::new(Tree::default())))
    }

    /// An interrupt source signals GPU vector `v`: its leaf bit becomes pending. Vectors past
    /// the 8 leaves are ignored.
    pub fn signal(&self, v: u32) {
        if v < VECTORS {
            lock(&self.0).leaf[leaf_of(v)] |= bit_of(v);
        }
    }

    /// The subtrees the tree asserts towards the host: `TOP(0) & TOP_EN(0)`.
    pub fn asserted(&self) -> u32 {
        let t = lock(&self.0);
        t.top() & t.top_en
    }

    /// Whether vector `v` is pending in its leaf (enabled or not).
    pub fn pending(&self, v: u32) -> bool {
        v < VECTORS && lock(&self.0).leaf[leaf_of(v)] & bit_of(v) != 0
    }
}

/// The interrupt-tree block.
pub struct Intr {
    tree: Shared,
}

impl Default for Intr {
    fn default() -> Self {
        Self::new()
    }
}

/// Register names, indexed by leaf.
const LEAF_NAMES: [&str; LEAVES] = [
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(0)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(1)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(2)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(3)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(4)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(5)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(6)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(7)",
];
const EN_SET_NAMES: [&str; LEAVES] = [
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(0)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(1)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(2)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(3)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(4)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(5)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(6)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(7)",
];
const EN_CLEAR_NAMES: [&str; LEAVES] = [
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(0)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(1)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(2)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(3)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(4)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(5)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(6)",
    "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(7)",
];

enum Reg {
    Leaf(usize),
    EnSet(usize),
    EnClear(usize),
    Top,
    TopEnSet,
    TopEnClear,
    Trigger,
}

fn decode(off: u32) -> Option<Reg> {
    let idx = |base: u32| {
        let i = (off.checked_sub(base)? / 4) as usize;
        (i < LEAVES).then_some(i)
    };
    Some(match off {
        TOP => Reg::Top,
        TOP_EN_SET => Reg::TopEnSet,
        TOP_EN_CLEAR => Reg::TopEnClear,
        LEAF_TRIGGER => Reg::Trigger,
        _ if (LEAF..LEAF + 4 * LEAVES as u32).contains(&off) => Reg::Leaf(idx(LEAF)?),
        _ if (LEAF_EN_SET..LEAF_EN_SET + 4 * LEAVES as u32).contains(&off) => {
            Reg::EnSet(idx(LEAF_EN_SET)?)
        }
        _ if (LEAF_EN_CLEAR..LEAF_EN_CLEAR + 4 * LEAVES as u32).contains(&off) => {
            Reg::EnClear(idx(LEAF_EN_CLEAR)?)
        }
        _ => return None,
    })
}

impl Intr {
    /// The tree at power-on: nothing pending, nothing enabled.
    pub fn new() -> Self {
        Intr {
            tree: Arc::new(Mutex::new(Tree::default())),
        }
    }

    /// The block serving the registers of the tree behind `h`.
    pub fn on(h: &IntrHandle) -> Self {
        Intr { tree: h.0.clone() }
    }

    /// A handle that reaches the tree after the block went into the BAR0 decoder.
    pub fn handle(&self) -> IntrHandle {
        IntrHandle(self.tree.clone())
    }
}

impl Block for Intr {
    fn name(&self) -> &'static str {
        "intr"
    }

    fn ranges(&self) -> &'static [(u32, u32)] {
        &[(LEAF, LEAF_TRIGGER + 4)]
    }

    fn read32(&mut self, off: u32) -> u32 {
        let t = lock(&self.tree);
        match decode(off) {
            Some(Reg::Leaf(i)) => t.leaf[i],
            Some(Reg::EnSet(i) | Reg::EnClear(i)) => t.leaf_en[i],
            Some(Reg::Top) => t.top(),
            Some(Reg::TopEnSet | Reg::TopEnClear) => t.top_en,
            Some(Reg::Trigger) | None => 0,
        }
    }

    fn write32(&mut self, off: u32, val: u32) {
        let mut t = lock(&self.tree);
        match decode(off) {
            Some(Reg::Leaf(i)) => t.leaf[i] &= !val,
            Some(Reg::EnSet(i)) => t.leaf_en[i] |= val,
            Some(Reg::EnClear(i)) => t.leaf_en[i] &= !val,
            Some(Reg::TopEnSet) => t.top_en |= val,
            Some(Reg::TopEnClear) => t.top_en &= !val,
            Some(Reg::Trigger) => {
                // VECTOR 11:0 (OG 570.144 `ampere/ga102/dev_vm.h` L62).
                let v = val & 0xfff;
                if v < VECTORS {
                    t.leaf[leaf_of(v)] |= bit_of(v);
                }
            }
            Some(Reg::Top) | None => {}
        }
    }

    fn reg_name(&self, off: u32) -> Option<&'static str> {
        Some(match decode(off)? {
            Reg::Leaf(i) => LEAF_NAMES[i],
            Reg::EnSet(i) => EN_SET_NAMES[i],
            Reg::EnClear(i) => EN_CLEAR_NAMES[i],
            Reg::Top => "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP(0)",
            Reg::TopEnSet => "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_SET(0)",
            Reg::TopEnClear => "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_CLEAR(0)",
            Reg::Trigger => "NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_TRIGGER",
        })
    }

    fn reset(&mut self) {
        *lock(&self.tree) = Tree::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsp_vector_lands_in_leaf_4_bit_27_subtree_2() {
        assert_eq!(leaf_of(GSP_VECTOR), 4);
        assert_eq!(bit_of(GSP_VECTOR), 1 << 27);
        assert_eq!(subtree_of(GSP_VECTOR), 2);
        assert_eq!(bit_of(DISP_VECTOR), 1 << 26);
    }

    #[test]
    fn pending_needs_leaf_and_top_enables() {
        let mut b = Intr::new();
        let h = b.handle();
        h.signal(GSP_VECTOR);
        assert!(h.pending(GSP_VECTOR));
        assert_eq!(b.read32(LEAF + 16), 1 << 27, "pending whatever the enables");
        assert_eq!(b.read32(TOP), 0, "not enabled at leaf level");
        assert_eq!(h.asserted(), 0);
        b.write32(LEAF_EN_SET + 16, 1 << 27);
        assert_eq!(b.read32(LEAF_EN_SET + 16), 1 << 27);
        assert_eq!(b.read32(LEAF_EN_CLEAR + 16), 1 << 27);
        assert_eq!(b.read32(TOP), 1 << 2);
        assert_eq!(h.asserted(), 0, "subtree 2 not enabled at the top");
        b.write32(TOP_EN_SET, 0xf);
        assert_eq!(b.read32(TOP_EN_SET), 0xf);
        assert_eq!(h.asserted(), 1 << 2);
        // nouveau's unarm/rearm pair.
        b.write32(TOP_EN_CLEAR, 0xf);
        assert_eq!(h.asserted(), 0);
        b.write32(TOP_EN_SET, 0xf);
        assert_eq!(h.asserted(), 1 << 2);
        // Leaf enable clear masks it again; the bit stays pending.
        b.write32(LEAF_EN_CLEAR + 16, 1 << 27);
        assert_eq!(h.asserted(), 0);
        assert!(h.pending(GSP_VECTOR));
    }

    #[test]
    fn leaves_are_write_one_to_clear() {
        let mut b = Intr::new();
        let h = b.handle();
        h.signal(GSP_VECTOR);
        h.signal(DISP_VECTOR);
        b.write32(LEAF + 16, 0);
        assert_eq!(b.read32(LEAF + 16), 3 << 26, "writing 0 clears nothing");
        b.write32(LEAF + 16, 1 << 27);
        assert_eq!(b.read32(LEAF + 16), 1 << 26);
        assert!(!h.pending(GSP_VECTOR));
    }

    #[test]
    fn trigger_sets_any_vector_and_ignores_out_of_range() {
        let mut b = Intr::new();
        b.write32(LEAF_TRIGGER, 0xf000 | 5);
        assert_eq!(b.read32(LEAF), 1 << 5, "VECTOR is 11:0");
        b.write32(LEAF_TRIGGER, 255);
        assert_eq!(b.read32(LEAF + 28), 1 << 31);
        b.write32(LEAF_TRIGGER, 256);
        assert_eq!(
            (0..8).map(|i| b.read32(LEAF + 4 * i)).sum::<u32>(),
            1 << 5 | 1 << 31
        );
        assert_eq!(b.read32(LEAF_TRIGGER), 0, "write-only");
        b.write32(LEAF_EN_SET + 28, 1 << 31);
        b.write32(LEAF_EN_SET, 1 << 5);
        assert_eq!(b.read32(TOP), 1 << 3 | 1);
        b.write32(TOP, 0xffff_ffff);
        assert_eq!(b.read32(TOP), 1 << 3 | 1, "TOP is read-only");
    }

    #[test]
    fn names_and_reset() {
        let mut b = Intr::new();
        assert_eq!(b.ranges(), &[(0xb81000, 0xb81644)]);
        assert_eq!(
            b.reg_name(0xb81010),
            Some("NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF(4)")
        );
        assert_eq!(
            b.reg_name(0xb8121c),
            Some("NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET(7)")
        );
        assert_eq!(
            b.reg_name(0xb81400),
            Some("NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR(0)")
        );
        assert_eq!(
            b.reg_name(0xb81600),
            Some("NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP(0)")
        );
        assert_eq!(
            b.reg_name(0xb81640),
            Some("NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_TRIGGER")
        );
        assert_eq!(b.reg_name(0xb81020), None);
        assert_eq!(b.reg_name(0xb81604), None);
        assert_eq!(b.read32(0xb81020), 0);
        let h = b.handle();
        h.signal(GSP_VECTOR);
        b.write32(LEAF_EN_SET + 16, !0);
        b.write32(TOP_EN_SET, !0);
        assert_ne!(h.asserted(), 0);
        b.reset();
        assert_eq!(h.asserted(), 0);
        assert!(!h.pending(GSP_VECTOR));
        assert_eq!(b.read32(LEAF_EN_SET + 16), 0);
        assert_eq!(b.read32(TOP_EN_SET), 0);
    }
}
