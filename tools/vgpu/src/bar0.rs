// SPDX-License-Identifier: GPL-2.0
//! BAR0 decoding: which block owns an offset, and how accesses of 1, 2, 4 or 8 bytes become
//! 32-bit register accesses. Offsets no block claims read as zero and ignore writes (and show
//! up as `unclaimed` in the trace, so a driver touching an unmodelled register is visible).

use crate::blocks::Block;
use crate::chip::BAR0_SIZE;
use crate::trace::Tracer;
use std::sync::Arc;

/// The BAR0 register file: a set of blocks and an offset decoder.
pub struct Bar0 {
    blocks: Vec<Box<dyn Block>>,
    /// Sorted (start, end, block index).
    map: Vec<(u32, u32, usize)>,
    tracer: Arc<Tracer>,
    /// Number of 32-bit register reads served (for statistics and tests).
    pub reads: u64,
}

impl Bar0 {
    /// Builds the decoder. Overlapping ranges are a model bug and are rejected.
    pub fn new(blocks: Vec<Box<dyn Block>>, tracer: Arc<Tracer>) -> Result<Self, String> {
        let mut map = vec![];
        for (i, b) in blocks.iter().enumerate() {
            for &(s, e) in b.ranges() {
                if s >= e || u64::from(e) > BAR0_SIZE {
                    return Err(format!("block {} has a bad range {s:#x}..{e:#x}", b.name()));
                }
                map.push((s, e, i));
            }
        }
        map.sort();
        for w in map.windows(2) {
            if w[0].1 > w[1].0 {
                return Err(format!("BAR0 ranges overlap at {:#x}", w[1].0));
            }
        }
        Ok(Bar0 {
            blocks,
            map,
            tracer,
            reads: 0,
        })
    }

    fn owner(&self, off: u32) -> Option<usize> {
        let i = self.map.partition_point(|&(s, _, _)| s <= off);
        let &(s, e, b) = self.map.get(i.checked_sub(1)?)?;
        (s <= off && off < e).then_some(b)
    }

    fn read_word(&mut self, off: u32) -> (u32, &'static str, Option<&'static str>) {
        self.reads += 1;
        match self.owner(off) {
            Some(i) => {
                let b = &mut self.blocks[i];
                (b.read32(off), b.name(), b.reg_name(off))
            }
            None => (0, "unclaimed", None),
        }
    }

    fn write_word(&mut self, off: u32, val: u32) -> (&'static str, Option<&'static str>) {
        match self.owner(off) {
            Some(i) => {
                let b = &mut self.blocks[i];
                b.write32(off, val);
                (b.name(), b.reg_name(off))
            }
            None => ("unclaimed", None),
        }
    }

    /// A guest read of `data.len()` bytes at `offset`.
    pub fn read(&mut self, offset: u64, data: &mut [u8]) {
        let mut done = 0;
        while done < data.len() {
            let Some(addr) = offset.checked_add(done as u64).filter(|a| *a < BAR0_SIZE) else {
                data[done..].fill(0xff);
                return;
            };
            let word = (addr & !3) as u32;
            let shift = (addr & 3) as usize;
            let n = (4 - shift).min(data.len() - done);
            let (v, block, name) = self.read_word(word);
            let bytes = v.to_le_bytes();
            data[done..done + n].copy_from_slice(&bytes[shift..shift + n]);
            self.tracer
                .access(block, false, u64::from(word), 4, v, name.unwrap_or(""));
            done += n;
        }
    }

    /// A guest write of `data.len()` bytes at `offset`. Partial words are merged with the
    /// current register value (read-modify-write, as a byte-enable would).
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let Some(addr) = offset.checked_add(done as u64).filter(|a| *a < BAR0_SIZE) else {
                return;
            };
            let word = (addr & !3) as u32;
            let shift = (addr & 3) as usize;
            let n = (4 - shift).min(data.len() - done);
            let val = if n == 4 {
                u32::from_le_bytes(data[done..done + 4].try_into().unwrap_or([0; 4]))
            } else {
                let mut cur = self.read_word(word).0.to_le_bytes();
                cur[shift..shift + n].copy_from_slice(&data[done..done + n]);
                u32::from_le_bytes(cur)
            };
            let (block, name) = self.write_word(word, val);
            self.tracer
                .access(block, true, u64::from(word), 4, val, name.unwrap_or(""));
            done += n;
        }
    }

    /// Lets every block serve what an access elsewhere started ([`Block::service`]).
    pub fn service(&mut self) {
        for b in &mut self.blocks {
            b.service();
        }
    }

    /// Resets every block.
    pub fn reset(&mut self) {
        for b in &mut self.blocks {
            b.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::pmc::Pmc;
    use crate::chip::GA102;

    fn bar0() -> Bar0 {
        Bar0::new(
            vec![Box::new(Pmc::new(&GA102, None))],
            Arc::new(Tracer::off()),
        )
        .unwrap()
    }

    #[test]
    fn word_and_byte_reads() {
        let mut b = bar0();
        let mut w = [0u8; 4];
        b.read(0xa00, &mut w);
        assert_eq!(u32::from_le_bytes(w), 0x172a_1000);
        let mut by = [0u8; 1];
        b.read(0xa03, &mut by);
        assert_eq!(by[0], 0x17);
        let mut q = [0u8; 8];
        b.read(0x0, &mut q);
        assert_eq!(u64::from_le_bytes(q), 0x0000_0000_1720_00a1);
    }

    #[test]
    fn partial_writes_merge() {
        let mut b = bar0();
        b.write(0x600, &0xaabb_ccddu32.to_le_bytes());
        b.write(0x601, &[0x11]);
        let mut w = [0u8; 4];
        b.read(0x600, &mut w);
        assert_eq!(u32::from_le_bytes(w), 0xaabb_11dd);
    }

    #[test]
    fn unclaimed_and_out_of_range() {
        let mut b = bar0();
        let mut w = [0xaa; 4];
        b.read(0x40_0000, &mut w);
        assert_eq!(w, [0; 4]);
        b.read(BAR0_SIZE - 2, &mut w);
        assert_eq!(w, [0, 0, 0xff, 0xff]);
        b.write(u64::MAX, &[1, 2, 3, 4]);
    }

    struct Dummy(&'static [(u32, u32)]);
    impl Block for Dummy {
        fn name(&self) -> &'static str {
            "dummy"
        }
        fn ranges(&self) -> &'static [(u32, u32)] {
            self.0
        }
        fn read32(&mut self, _: u32) -> u32 {
            0
        }
        fn write32(&mut self, _: u32, _: u32) {}
        fn reg_name(&self, _: u32) -> Option<&'static str> {
            None
        }
        fn reset(&mut self) {}
    }

    #[test]
    fn overlapping_blocks_are_rejected() {
        let t = Arc::new(Tracer::off());
        let r = Bar0::new(
            vec![
                Box::new(Dummy(&[(0, 0x100)])),
                Box::new(Dummy(&[(0x80, 0x200)])),
            ],
            t,
        );
        assert!(r.is_err());
    }
}
