// SPDX-License-Identifier: GPL-2.0
//! The shared memory area of the CPU/GSP message queues (facts sheet §8.1-8.3): its page table,
//! the command queue's header as the CPU initialises it, the element header and its checksum.
//!
//! Pure logic, shared with the host crate.

/// Page size of the area.
pub const PAGE: usize = 0x1000;
/// Size of each queue, header page included.
pub const QUEUE_SIZE: usize = 0x40000;
/// Offset of the command queue (CPU to GSP) in the area.
pub const CMDQ_OFFSET: usize = PAGE;
/// Offset of the status queue (GSP to CPU) in the area.
pub const STATQ_OFFSET: usize = CMDQ_OFFSET + QUEUE_SIZE;
/// Size of the whole area.
pub const AREA_SIZE: usize = STATQ_OFFSET + QUEUE_SIZE;
/// Pages of the whole area (the `pageTableEntryCount`).
pub const AREA_PAGES: usize = AREA_SIZE / PAGE;
/// Entries per queue (the header page is not one).
pub const MSG_COUNT: u32 = ((QUEUE_SIZE - PAGE) / PAGE) as u32;
/// `MSGQ_FLAGS_SWAP_RX`.
pub const FLAG_SWAP_RX: u32 = 1;
/// Offset of the rx header in a queue header page.
pub const RX_HDR_OFFSET: u32 = 0x20;

/// Fills the PTE page (the first page of the area): entry `i` is the bus address of page `i`.
pub fn write_pte_page(page: &mut [u8], area_base: u64) -> bool {
    for i in 0..AREA_PAGES {
        let Some(e) = page.get_mut(i * 8..i * 8 + 8) else {
            return false;
        };
        e.copy_from_slice(&(area_base + (i * PAGE) as u64).to_le_bytes());
    }
    true
}

/// Writes the command queue's `msgqTxHeader` as the CPU initialises it (docs/facts/ga102.md §8.1 table) and a
/// zero rx header.
pub fn write_cmdq_header(hdr: &mut [u8]) -> bool {
    let Some(h) = hdr.get_mut(..0x24) else {
        return false;
    };
    let fields: [u32; 8] = [
        0,
        QUEUE_SIZE as u32,
        PAGE as u32,
        MSG_COUNT,
        0,
        FLAG_SWAP_RX,
        RX_HDR_OFFSET,
        PAGE as u32,
    ];
    for (i, f) in fields.iter().enumerate() {
        h[i * 4..i * 4 + 4].copy_from_slice(&f.to_le_bytes());
    }
    h[0x20..0x24].fill(0);
    true
}

/// The queue checksum (docs/facts/ga102.md §8.3): XOR of the bytes as little-endian `u64` words, the tail
/// zero-padded, folded to 32 bits.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut x = 0u64;
    for chunk in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        x ^= u64::from_le_bytes(w);
    }
    ((x >> 32) as u32) ^ (x as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_area_is_129_pages() {
        assert_eq!(AREA_SIZE, 0x81000);
        assert_eq!(AREA_PAGES, 0x81);
        assert_eq!(STATQ_OFFSET, 0x41000);
        assert_eq!(MSG_COUNT, 63);
    }

    #[test]
    fn pte_page() {
        let mut p = [0u8; PAGE];
        assert!(write_pte_page(&mut p, 0x10_0000));
        assert_eq!(&p[0..8], &0x10_0000u64.to_le_bytes());
        assert_eq!(
            &p[0x80 * 8..0x81 * 8],
            &(0x10_0000u64 + 0x80_000).to_le_bytes()
        );
        assert!(p[0x81 * 8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn cmdq_header() {
        let mut h = [0xffu8; 0x40];
        assert!(write_cmdq_header(&mut h));
        let w = |i: usize| u32::from_le_bytes(h[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!(
            [w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8)],
            [0, 0x40000, 0x1000, 63, 0, 1, 0x20, 0x1000, 0]
        );
    }

    #[test]
    fn checksum_makes_the_element_zero() {
        let mut e = [0u8; 0x60];
        for (i, b) in e.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        e[0x20..0x24].fill(0);
        let c = checksum(&e);
        e[0x20..0x24].copy_from_slice(&c.to_le_bytes());
        assert_eq!(checksum(&e), 0);
        // Odd lengths are zero-padded.
        assert_eq!(checksum(&[1, 0, 0, 0, 0]), 1);
        assert_eq!(checksum(&[0, 0, 0, 0, 2]), 2);
    }
}
