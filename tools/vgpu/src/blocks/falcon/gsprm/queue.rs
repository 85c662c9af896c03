// SPDX-License-Identifier: GPL-2.0
//! The shared area and its two message queues (docs/facts/ga102.md §8).
//!
//! GSP-RM reaches the shared area only through its PTE page: page i of the area is wherever
//! PTE i points ([`Area`]); the open drivers allocate it contiguously (PTE i = base + i × 4 KiB),
//! but the model does not rely on that. Each queue is a header page (`msgqTxHeader` at +0,
//! `msgqRxHeader` at +0x20) followed by `msgCount` entries of 4 KiB ([`Ring`]). An element
//! (`GSP_MSG_QUEUE_ELEMENT`, docs/facts/ga102.md §8.2) occupies `elemCount` consecutive entries, wrapping
//! from the last entry to entry 0.

use super::bytes::{get_u32, put_u32};
use crate::dma::GuestMemory;

/// Page size of the shared area and of a queue entry (`GSP_MSG_QUEUE_ELEMENT_SIZE_MIN`).
pub const PAGE: usize = 0x1000;
/// `GSP_MSG_QUEUE_ELEMENT_SIZE_MAX`: an element, headers included, spans at most 16 entries.
pub const ELEMENT_MAX: usize = 0x10000;
/// Entries an element may span.
pub const MAX_ELEM_ENTRIES: u32 = (ELEMENT_MAX / PAGE) as u32;
/// The queue-level element header before the RPC header.
pub const ELEM_HDR: usize = 0x30;
/// `msgqTxHeader` size.
pub const TX_HDR_SIZE: usize = 32;
/// `rxHdrOff`: where `msgqRxHeader` sits in the header page.
pub const RX_HDR_OFF: u32 = 0x20;
/// `entryOff`: where entry 0 starts.
pub const ENTRY_OFF: u32 = 0x1000;
/// `MSGQ_FLAGS_SWAP_RX`.
pub const FLAGS_SWAP_RX: u32 = 1;

/// Element header offsets (docs/facts/ga102.md §8.2).
pub mod elem {
    /// checkSum.
    pub const CHECKSUM: usize = 0x20;
    /// seqNum.
    pub const SEQ: usize = 0x24;
    /// elemCount.
    pub const COUNT: usize = 0x28;
    /// The RPC header.
    pub const RPC: usize = 0x30;
}

/// The queue checksum (docs/facts/ga102.md §8.3): XOR of the bytes as little-endian u64 words (the tail
/// zero-padded), folded to 32 bits as high XOR low. A correct element sums to 0.
pub fn checksum(b: &[u8]) -> u32 {
    let mut x = 0u64;
    for c in b.chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        x ^= u64::from_le_bytes(w);
    }
    ((x >> 32) ^ x) as u32
}

/// Entries an element of `rpc_len` RPC bytes (header + payload) occupies.
pub fn entries_for(rpc_len: usize) -> u32 {
    (ELEM_HDR + rpc_len).div_ceil(PAGE) as u32
}

/// `msgqTxHeader` (docs/facts/ga102.md §8.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxHeader {
    /// version.
    pub version: u32,
    /// size: the whole queue, header page included.
    pub size: u32,
    /// msgSize: entry size.
    pub msg_size: u32,
    /// msgCount: number of entries.
    pub msg_count: u32,
    /// writePtr: next entry the owner fills.
    pub write_ptr: u32,
    /// flags.
    pub flags: u32,
    /// rxHdrOff.
    pub rx_hdr_off: u32,
    /// entryOff.
    pub entry_off: u32,
}

impl TxHeader {
    /// Decodes 32 bytes.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let w = |i: usize| get_u32(b, 4 * i);
        Some(TxHeader {
            version: w(0)?,
            size: w(1)?,
            msg_size: w(2)?,
            msg_count: w(3)?,
            write_ptr: w(4)?,
            flags: w(5)?,
            rx_hdr_off: w(6)?,
            entry_off: w(7)?,
        })
    }

    /// The 32 bytes.
    pub fn encode(&self) -> [u8; TX_HDR_SIZE] {
        let mut b = [0u8; TX_HDR_SIZE];
        for (i, v) in [
            self.version,
            self.size,
            self.msg_size,
            self.msg_count,
            self.write_ptr,
            self.flags,
            self.rx_hdr_off,
            self.entry_off,
        ]
        .into_iter()
        .enumerate()
        {
            put_u32(&mut b, 4 * i, v);
        }
        b
    }

    /// The header of a queue of `size` bytes with the layout all three stacks use (docs/facts/ga102.md §8.1):
    /// 4 KiB entries after a 4 KiB header page, rx header at +0x20, SWAP_RX.
    pub fn standard(size: u32) -> Self {
        TxHeader {
            version: 0,
            size,
            msg_size: PAGE as u32,
            msg_count: (size - ENTRY_OFF) / PAGE as u32,
            write_ptr: 0,
            flags: FLAGS_SWAP_RX,
            rx_hdr_off: RX_HDR_OFF,
            entry_off: ENTRY_OFF,
        }
    }
}

/// The shared area as GSP-RM maps it: page i at `pages[i]` (PTE i).
#[derive(Clone, Debug)]
pub struct Area {
    pages: Vec<u64>,
}

impl Area {
    /// An area whose page i is at `pages[i]`.
    pub fn new(pages: Vec<u64>) -> Self {
        Area { pages }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.pages.len() as u64 * PAGE as u64
    }

    /// Splits `[off, off + len)` into (guest address, buffer range) pieces, one per page.
    fn pieces(&self, off: u64, len: usize) -> Result<Vec<(u64, std::ops::Range<usize>)>, String> {
        let end = off
            .checked_add(len as u64)
            .filter(|&e| e <= self.size())
            .ok_or_else(|| format!("shared-area access [{off:#x}, +{len:#x}) outside the area"))?;
        let mut v = vec![];
        let mut at = off;
        while at < end {
            let page = (at / PAGE as u64) as usize;
            let in_page = (at % PAGE as u64) as usize;
            let n = (PAGE - in_page).min((end - at) as usize);
            let Some(&pa) = self.pages.get(page) else {
                return Err(format!("shared-area page {page} has no PTE"));
            };
            let b = (at - off) as usize;
            v.push((pa + in_page as u64, b..b + n));
            at += n as u64;
        }
        Ok(v)
    }

    /// Reads `buf.len()` bytes at area offset `off`.
    pub fn read(&self, g: &GuestMemory, off: u64, buf: &mut [u8]) -> Result<(), String> {
        for (pa, r) in self.pieces(off, buf.len())? {
            g.read(pa, &mut buf[r]).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Writes `buf` at area offset `off`.
    pub fn write(&self, g: &GuestMemory, off: u64, buf: &[u8]) -> Result<(), String> {
        for (pa, r) in self.pieces(off, buf.len())? {
            g.write(pa, &buf[r]).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The u32 at area offset `off`.
    pub fn read_u32(&self, g: &GuestMemory, off: u64) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.read(g, off, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Writes a u32 at area offset `off`.
    pub fn write_u32(&self, g: &GuestMemory, off: u64, v: u32) -> Result<(), String> {
        self.write(g, off, &v.to_le_bytes())
    }
}

/// One queue in the shared area: header page at `base`, `count` entries of 4 KiB after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    /// Area offset of the header page.
    pub base: u64,
    /// msgCount.
    pub count: u32,
}

impl Ring {
    /// Area offset of `msgqTxHeader.writePtr`.
    pub fn write_ptr_off(&self) -> u64 {
        self.base + 16
    }

    /// Area offset of `msgqRxHeader.readPtr` in this queue's header page (the position of
    /// this queue's *owner* in the other queue, docs/facts/ga102.md §8.1).
    pub fn rx_read_ptr_off(&self) -> u64 {
        self.base + u64::from(RX_HDR_OFF)
    }

    fn entry(&self, i: u32) -> u64 {
        self.base + u64::from(ENTRY_OFF) + u64::from(i % self.count.max(1)) * PAGE as u64
    }

    /// Entries in use between a reader at `read` and a writer at `write`.
    pub fn used(&self, read: u32, write: u32) -> u32 {
        (write + self.count - read) % self.count.max(1)
    }

    /// Entries a writer at `write` may fill before reaching a reader at `read` (one entry
    /// always stays empty, docs/facts/ga102.md §8.1).
    pub fn free(&self, read: u32, write: u32) -> u32 {
        (read + self.count - write - 1) % self.count.max(1)
    }

    /// Reads `n` entries starting at entry `start`, wrapping, into `buf` (n × 4 KiB bytes).
    pub fn read_entries(
        &self,
        area: &Area,
        g: &GuestMemory,
        start: u32,
        n: u32,
        buf: &mut [u8],
    ) -> Result<(), String> {
        for (k, chunk) in buf.chunks_mut(PAGE).take(n as usize).enumerate() {
            area.read(g, self.entry(start + k as u32), chunk)?;
        }
        Ok(())
    }

    /// Writes `buf` (whole entries) starting at entry `start`, wrapping.
    pub fn write_entries(
        &self,
        area: &Area,
        g: &GuestMemory,
        start: u32,
        buf: &[u8],
    ) -> Result<(), String> {
        for (k, chunk) in buf.chunks(PAGE).enumerate() {
            area.write(g, self.entry(start + k as u32), chunk)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dma::memfd;

    #[test]
    fn checksum_of_a_patched_element_is_zero() {
        let mut e = vec![0u8; 0x53];
        for (i, b) in e.iter_mut().enumerate() {
            *b = (i * 37) as u8;
        }
        put_u32(&mut e, elem::CHECKSUM, 0);
        let c = checksum(&e);
        put_u32(&mut e, elem::CHECKSUM, c);
        assert_eq!(checksum(&e), 0);
        // Byte-wise formulation (each byte k rotated left by 8·(k mod 8), docs/facts/ga102.md §8.3).
        let mut bw = 0u64;
        for (k, &b) in e.iter().enumerate() {
            bw ^= u64::from(b) << (8 * (k % 8));
        }
        assert_eq!(((bw >> 32) ^ bw) as u32, 0);
    }

    #[test]
    fn standard_header_and_ring_arithmetic() {
        let h = TxHeader::standard(0x40000);
        assert_eq!(h.msg_count, 63);
        assert_eq!(TxHeader::parse(&h.encode()), Some(h));
        let r = Ring {
            base: 0x1000,
            count: 63,
        };
        assert_eq!(r.free(0, 0), 62);
        assert_eq!(r.free(5, 4), 0);
        assert_eq!(r.used(60, 2), 5);
        assert_eq!(entries_for(0x20), 1);
        assert_eq!(entries_for(0x1000 - 0x30), 1);
        assert_eq!(entries_for(0x1000 - 0x2f), 2);
        assert_eq!(entries_for(ELEMENT_MAX - ELEM_HDR), 16);
    }

    #[test]
    fn area_follows_its_ptes() {
        const GPA: u64 = 0x10_0000;
        let ram = memfd(c"area-test", 0x10000).unwrap();
        let mut g = GuestMemory::new();
        g.map(GPA, 0x10000, &ram, 0).unwrap();
        // Page 0 of the area is guest page 3, page 1 is guest page 1.
        let a = Area::new(vec![GPA + 0x3000, GPA + 0x1000]);
        a.write(&g, 0xffe, &[1, 2, 3, 4]).unwrap();
        let mut b = [0u8; 2];
        g.read(GPA + 0x3ffe, &mut b).unwrap();
        assert_eq!(b, [1, 2]);
        g.read(GPA + 0x1000, &mut b).unwrap();
        assert_eq!(b, [3, 4]);
        assert!(a.read(&g, 0x1ffe, &mut [0u8; 4]).is_err());
        assert!(a.read(&g, u64::MAX, &mut [0u8; 4]).is_err());
        // Wrapping ring reads.
        let r = Ring { base: 0, count: 1 };
        assert_eq!(r.entry(5), 0x1000);
    }
}
