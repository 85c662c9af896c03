// SPDX-License-Identifier: GPL-2.0
//! libnova's chip names (what nova-smi prints) agree with nova-core's identification table.
//! chip.rs is pure `core` code, so it is included as is.

#[allow(dead_code)]
#[path = "../../../drivers/gpu/nova-core/chip.rs"]
mod chip;

#[test]
fn libnova_names_every_chip_nova_core_identifies() {
    for c in chip::CHIPS {
        assert_eq!(
            libnova::chip_name(u32::from(c.chipset)),
            Some(c.name),
            "chipset {:#x}",
            c.chipset
        );
        assert_eq!(
            libnova::arch_name(c.arch as u32),
            Some(c.arch.name()),
            "{}",
            c.name
        );
    }
    assert_eq!(libnova::CHIPS.len(), chip::CHIPS.len());
}
