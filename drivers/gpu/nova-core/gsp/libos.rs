// SPDX-License-Identifier: GPL-2.0
//! The LIBOS boot arguments GSP-RM reads at start-up (facts sheet §7.3, §8.1): the array of
//! `LibosMemoryRegionInitArgument` whose bus address goes into the GSP falcon mailboxes, the
//! `GSP_ARGUMENTS_CACHED` block (RMARGS) and the message-queue initialisation arguments.
//!
//! Pure logic, shared with the host crate; everything is written at documented byte offsets.

/// Size of one `LibosMemoryRegionInitArgument`.
pub const REGION_ARG_SIZE: usize = 32;
/// `LIBOS_MEMORY_REGION_CONTIGUOUS`.
pub const KIND_CONTIGUOUS: u8 = 1;
/// `LIBOS_MEMORY_REGION_LOC_SYSMEM`.
pub const LOC_SYSMEM: u8 = 1;
/// Size of `GSP_ARGUMENTS_CACHED`.
pub const RMARGS_SIZE: usize = 72;

/// A region name packed the LIBOS way: up to 8 ASCII characters, the first in the most
/// significant byte of a `u64` (so "LOGINIT" is 0x004c4f47494e4954).
pub const fn id8(name: &[u8]) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < name.len() && i < 8 {
        v = (v << 8) | name[i] as u64;
        i += 1;
    }
    v
}

/// One memory region argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Name, see [`id8`].
    pub id8: u64,
    /// Bus address.
    pub pa: u64,
    /// Size in bytes.
    pub size: u64,
}

/// Writes `regions` (contiguous, in system memory) into `page` (the 4 KiB argument array).
/// Returns false if they do not fit.
pub fn write_regions(page: &mut [u8], regions: &[Region]) -> bool {
    for (i, r) in regions.iter().enumerate() {
        let Some(e) = page.get_mut(i * REGION_ARG_SIZE..(i + 1) * REGION_ARG_SIZE) else {
            return false;
        };
        e.fill(0);
        e[0..8].copy_from_slice(&r.id8.to_le_bytes());
        e[8..16].copy_from_slice(&r.pa.to_le_bytes());
        e[16..24].copy_from_slice(&r.size.to_le_bytes());
        e[24] = KIND_CONTIGUOUS;
        e[25] = LOC_SYSMEM;
    }
    true
}

/// Message-queue placement inside the shared area (docs/facts/ga102.md §8.1 defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueArgs {
    /// Bus address of the shared area (its first page is the PTE page).
    pub shared_mem_pa: u64,
    /// Number of PTE entries (pages of the whole area).
    pub pte_count: u32,
    /// Offset of the command queue in the area.
    pub cmdq_offset: u64,
    /// Offset of the status (message) queue in the area.
    pub statq_offset: u64,
}

/// Writes `GSP_ARGUMENTS_CACHED` for a cold boot into `out` (at least [`RMARGS_SIZE`] bytes):
/// the queue arguments, a zero suspend/resume block, GPU instance 0, `bDmemStack` = 1, no
/// profiler buffer. Returns false if `out` is too small.
pub fn write_rmargs(out: &mut [u8], q: &QueueArgs) -> bool {
    let Some(b) = out.get_mut(..RMARGS_SIZE) else {
        return false;
    };
    b.fill(0);
    b[0..8].copy_from_slice(&q.shared_mem_pa.to_le_bytes());
    b[8..12].copy_from_slice(&q.pte_count.to_le_bytes());
    b[16..24].copy_from_slice(&q.cmdq_offset.to_le_bytes());
    b[24..32].copy_from_slice(&q.statq_offset.to_le_bytes());
    b[48] = 1; // bDmemStack
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pack_like_libos() {
        assert_eq!(id8(b"LOGINIT"), 0x004c_4f47_494e_4954);
        assert_eq!(id8(b"LOGINTR"), 0x004c_4f47_494e_5452);
        assert_eq!(id8(b"LOGRM"), 0x0000_004c_4f47_524d);
        assert_eq!(id8(b"RMARGS"), 0x0000_524d_4152_4753);
    }

    #[test]
    fn region_encoding() {
        let mut page = [0xaau8; 4096];
        let r = [Region {
            id8: id8(b"RMARGS"),
            pa: 0x1234_5000,
            size: 4096,
        }];
        assert!(write_regions(&mut page, &r));
        assert_eq!(&page[0..8], &0x0000_524d_4152_4753u64.to_le_bytes());
        assert_eq!(&page[8..16], &0x1234_5000u64.to_le_bytes());
        assert_eq!(&page[16..24], &4096u64.to_le_bytes());
        assert_eq!((page[24], page[25]), (1, 1));
        assert!(page[26..32].iter().all(|&b| b == 0));
        assert!(!write_regions(&mut page[..40], &[r[0], r[0]]));
    }

    #[test]
    fn rmargs_encoding() {
        let mut b = [0xffu8; 96];
        let q = QueueArgs {
            shared_mem_pa: 0xabc000,
            pte_count: 0x81,
            cmdq_offset: 0x1000,
            statq_offset: 0x41000,
        };
        assert!(write_rmargs(&mut b, &q));
        assert_eq!(&b[0..8], &0xabc000u64.to_le_bytes());
        assert_eq!(&b[8..12], &0x81u32.to_le_bytes());
        assert_eq!(&b[16..24], &0x1000u64.to_le_bytes());
        assert_eq!(&b[24..32], &0x41000u64.to_le_bytes());
        assert_eq!(b[48], 1);
        assert!(b[32..48].iter().all(|&x| x == 0));
        assert_eq!(b[72], 0xff, "nothing written past the structure");
        assert!(!write_rmargs(&mut b[..10], &q));
    }
}
