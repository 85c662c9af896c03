// SPDX-License-Identifier: GPL-2.0

//! Splitting the input into segments with the fewest bits, and writing them.
//!
//! QR codes have three modes worth using here (ISO/IEC 18004:2015 §7.4):
//!
//! | mode         | characters                     | data bits                        |
//! |--------------|--------------------------------|----------------------------------|
//! | numeric      | `0-9`                          | 10 per 3 digits (+4 or 7 at end) |
//! | alphanumeric | `0-9 A-Z`, space, `$%*+-./:`   | 11 per 2 characters (+6 at end)  |
//! | byte         | anything                       | 8 per byte                       |
//!
//! Every segment also costs a 4-bit mode indicator and a character count whose length
//! depends on the mode and the version (Table 3). Switching mode is worthwhile only for
//! long enough runs, and where exactly to switch depends on the surroundings, so the split
//! is found by dynamic programming.
//!
//! # The dynamic programme
//!
//! A state says which mode the open segment is in and, for numeric and alphanumeric, how
//! many of its characters are not yet part of a full group (3 digits, 2 characters). The
//! cost of one character depends only on the state: a digit costs 4 bits when it starts a
//! group, then 3, then 3 (so a full group is 10 bits, and a segment ending after one or two
//! digits of a group pays exactly the 4 or 7 bits of §7.4.3); an alphanumeric character
//! costs 6 then 5; a byte costs 8. With those costs every way of splitting the input has a
//! cost equal to its exact length in bits.
//!
//! Going backwards from the end, `cost[i][state]` is the fewest bits needed for characters
//! `i..` when the segment open before character `i` is in `state`: either character `i`
//! continues that segment, or a new segment (header included) starts with it. The minimum
//! at the first character is the optimal length, found in one pass with six numbers of
//! memory.
//!
//! To write the segments, the choices are replayed forwards, which needs the costs at
//! every position. Rather than storing them all (up to 7089 characters), the backward pass
//! keeps the costs at every 256th position, and the forward pass recomputes the choices of
//! one 256-character chunk at a time from the checkpoint at its end. A count field is
//! written when its segment is finished.
//!
//! The kernel's URL form appends a run of digits (the data in decimal), thousands of them,
//! generated from the data on the fly. Their cost from each state at the end of the URL
//! has a closed form: the digits all continue the open segment, or they all go into a new
//! numeric segment (see [`tail_step`] for why nothing in between can be better). The tests
//! check this against the character-by-character programme on the whole string.

use crate::bits::{BitWriter, Full};
use crate::digits;

/// Encoding modes (Table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Numeric,
    Alphanumeric,
    Byte,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Numeric, Mode::Alphanumeric, Mode::Byte];

    /// The 4-bit mode indicator.
    const fn indicator(self) -> u32 {
        match self {
            Mode::Numeric => 0b0001,
            Mode::Alphanumeric => 0b0010,
            Mode::Byte => 0b0100,
        }
    }

    /// Length of the character count field for versions in `group` (0: 1–9, 1: 10–26,
    /// 2: 27–40), Table 3.
    pub(crate) const fn count_bits(self, group: usize) -> u32 {
        match (self, group) {
            (Mode::Numeric, 0) => 10,
            (Mode::Numeric, 1) => 12,
            (Mode::Numeric, _) => 14,
            (Mode::Alphanumeric, 0) => 9,
            (Mode::Alphanumeric, 1) => 11,
            (Mode::Alphanumeric, _) => 13,
            (Mode::Byte, 0) => 8,
            (Mode::Byte, _) => 16,
        }
    }

    /// The most characters one segment can count.
    pub(crate) const fn max_count(self, group: usize) -> usize {
        (1 << self.count_bits(group)) - 1
    }

    /// Mode indicator plus character count.
    const fn header_bits(self, group: usize) -> u32 {
        4 + self.count_bits(group)
    }

    fn accepts(self, class: Class) -> bool {
        match self {
            Mode::Numeric => class == Class::Digit,
            Mode::Alphanumeric => class != Class::Other,
            Mode::Byte => true,
        }
    }
}

/// The most compact mode a byte can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Digit,
    Alphanumeric,
    Other,
}

fn classify(byte: u8) -> Class {
    if byte.is_ascii_digit() {
        Class::Digit
    } else if alphanumeric_value(byte).is_some() {
        Class::Alphanumeric
    } else {
        Class::Other
    }
}

/// The value of a character in alphanumeric mode (Table 5), `0..=44`.
pub(crate) fn alphanumeric_value(byte: u8) -> Option<u32> {
    let value = match byte {
        b'0'..=b'9' => byte - b'0',
        b'A'..=b'Z' => byte - b'A' + 10,
        b' ' => 36,
        b'$' => 37,
        b'%' => 38,
        b'*' => 39,
        b'+' => 40,
        b'-' => 41,
        b'.' => 42,
        b'/' => 43,
        b':' => 44,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Data bits of `count` characters in one segment of `mode` (§7.4.3 to §7.4.5).
const fn data_bits(mode: Mode, count: usize) -> usize {
    match mode {
        Mode::Numeric => {
            10 * (count / 3)
                + match count % 3 {
                    0 => 0,
                    1 => 4,
                    _ => 7,
                }
        }
        Mode::Alphanumeric => 11 * (count / 2) + 6 * (count % 2),
        Mode::Byte => 8 * count,
    }
}

/// Bits of one segment of `count` characters in `mode`, header included, or `None` if
/// the count does not fit in the character count field.
pub(crate) const fn single_segment_bits(mode: Mode, count: usize, group: usize) -> Option<usize> {
    if count > mode.max_count(group) {
        None
    } else {
        Some(mode.header_bits(group) as usize + data_bits(mode, count))
    }
}

/// What to encode: `prefix` (text or URL) followed by the digits of `tail` (binary data,
/// see [`digits`]).
pub(crate) struct Input<'a> {
    prefix: &'a [u8],
    tail: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(prefix: &'a [u8], tail: &'a [u8]) -> Self {
        Input { prefix, tail }
    }

    pub(crate) fn prefix_len(&self) -> usize {
        self.prefix.len()
    }

    pub(crate) fn tail_digits(&self) -> usize {
        digits::digit_count(self.tail.len())
    }
}

/// A state of the dynamic programme: the mode of the open segment and, for numeric and
/// alphanumeric, the number of its characters not yet in a full group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Numeric0,
    Numeric1,
    Numeric2,
    Alphanumeric0,
    Alphanumeric1,
    Byte,
}

impl State {
    const ALL: [State; 6] = [
        State::Numeric0,
        State::Numeric1,
        State::Numeric2,
        State::Alphanumeric0,
        State::Alphanumeric1,
        State::Byte,
    ];

    fn mode(self) -> Mode {
        match self {
            State::Numeric0 | State::Numeric1 | State::Numeric2 => Mode::Numeric,
            State::Alphanumeric0 | State::Alphanumeric1 => Mode::Alphanumeric,
            State::Byte => Mode::Byte,
        }
    }

    /// The state of a segment that has just been opened.
    fn fresh(mode: Mode) -> State {
        match mode {
            Mode::Numeric => State::Numeric0,
            Mode::Alphanumeric => State::Alphanumeric0,
            Mode::Byte => State::Byte,
        }
    }

    /// Bits that one more character adds in this state.
    fn char_bits(self) -> u32 {
        match self {
            State::Numeric0 => 4,
            State::Numeric1 | State::Numeric2 => 3,
            State::Alphanumeric0 => 6,
            State::Alphanumeric1 => 5,
            State::Byte => 8,
        }
    }

    /// The state after one more character.
    fn after_char(self) -> State {
        match self {
            State::Numeric0 => State::Numeric1,
            State::Numeric1 => State::Numeric2,
            State::Numeric2 => State::Numeric0,
            State::Alphanumeric0 => State::Alphanumeric1,
            State::Alphanumeric1 => State::Alphanumeric0,
            State::Byte => State::Byte,
        }
    }

    /// Characters of the open segment not yet in a full group.
    fn pending(self) -> usize {
        match self {
            State::Numeric1 | State::Alphanumeric1 => 1,
            State::Numeric2 => 2,
            _ => 0,
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A cost (in bits) for each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Costs([u32; 6]);

impl Costs {
    fn get(&self, state: State) -> u32 {
        let [n0, n1, n2, a0, a1, b] = self.0;
        match state {
            State::Numeric0 => n0,
            State::Numeric1 => n1,
            State::Numeric2 => n2,
            State::Alphanumeric0 => a0,
            State::Alphanumeric1 => a1,
            State::Byte => b,
        }
    }

    fn set(&mut self, state: State, cost: u32) {
        let [n0, n1, n2, a0, a1, b] = &mut self.0;
        *match state {
            State::Numeric0 => n0,
            State::Numeric1 => n1,
            State::Numeric2 => n2,
            State::Alphanumeric0 => a0,
            State::Alphanumeric1 => a1,
            State::Byte => b,
        } = cost;
    }
}

/// The choices at one position: for each state whether to continue its segment (one bit
/// per state), and otherwise which mode the new segment takes (top two bits).
#[derive(Clone, Copy, Debug, Default)]
struct Decision(u8);

impl Decision {
    fn new_segment(mode: Mode) -> Self {
        let code = match mode {
            Mode::Numeric => 0,
            Mode::Alphanumeric => 1,
            Mode::Byte => 2,
        };
        Decision(code << 6)
    }

    fn continues(self, state: State) -> bool {
        self.0 & state.bit() != 0
    }

    fn new_mode(self) -> Mode {
        match self.0 >> 6 {
            0 => Mode::Numeric,
            1 => Mode::Alphanumeric,
            _ => Mode::Byte,
        }
    }
}

/// One backward step of the programme.
struct Step {
    /// Costs before the character, per state of the segment open before it.
    costs: Costs,
    /// Cost before the character when no segment is open (the first character).
    start: u32,
    decision: Decision,
}

/// The costs before a character of class `class`, from the costs `after` it.
fn step_back(after: &Costs, class: Class, group: usize) -> Step {
    // The cheapest new segment starting here.
    let mut start = u32::MAX;
    let mut start_mode = Mode::Byte;
    for mode in Mode::ALL {
        if mode.accepts(class) {
            let fresh = State::fresh(mode);
            let cost = mode
                .header_bits(group)
                .saturating_add(fresh.char_bits())
                .saturating_add(after.get(fresh.after_char()));
            if cost < start {
                start = cost;
                start_mode = mode;
            }
        }
    }
    // Continuing the open segment, where the character fits and it is no worse.
    let mut costs = Costs([start; 6]);
    let mut decision = Decision::new_segment(start_mode);
    for state in State::ALL {
        if state.mode().accepts(class) {
            let cost = state
                .char_bits()
                .saturating_add(after.get(state.after_char()));
            if cost <= start {
                costs.set(state, cost);
                decision.0 |= state.bit();
            }
        }
    }
    Step {
        costs,
        start,
        decision,
    }
}

/// Costs at the end of the prefix: the digits of the tail either all continue the open
/// segment (whatever its mode: a few digits are cheaper in a byte segment than behind a
/// new header) or all go into one new numeric segment. Splitting the digits between the
/// two never helps: a digit costs at least 5 bits in alphanumeric mode and 8 in byte mode
/// but saves at most 4 in the numeric segment, and two bits per pair more for longer
/// stretches.
fn tail_step(tail_digits: usize, group: usize) -> Step {
    if tail_digits == 0 {
        return Step {
            costs: Costs::default(),
            start: 0,
            decision: Decision::default(),
        };
    }
    let start = clamp_u32(
        Mode::Numeric.header_bits(group) as usize + data_bits(Mode::Numeric, tail_digits),
    );
    let mut costs = Costs([start; 6]);
    let mut decision = Decision::new_segment(Mode::Numeric);
    for state in State::ALL {
        let mode = state.mode();
        let pending = state.pending();
        let more = data_bits(mode, pending + tail_digits) - data_bits(mode, pending);
        let more = clamp_u32(more);
        if more <= start {
            costs.set(state, more);
            decision.0 |= state.bit();
        }
    }
    Step {
        costs,
        start,
        decision,
    }
}

fn clamp_u32(bits: usize) -> u32 {
    u32::try_from(bits).unwrap_or(u32::MAX)
}

/// The fewest bits needed for `input` with the character count lengths of `group`, or
/// `None` if the input is too long to look at.
pub(crate) fn optimal_bits(input: &Input<'_>, group: usize) -> Option<usize> {
    if input.prefix.len() > MAX_CHUNKS * CHUNK {
        return None;
    }
    let mut step = tail_step(input.tail_digits(), group);
    for byte in input.prefix.iter().rev() {
        step = step_back(&step.costs, classify(*byte), group);
    }
    Some(step.start as usize)
}

/// Characters whose choices are recomputed together when writing.
const CHUNK: usize = 256;
/// Enough chunks for 7168 characters, more than any symbol holds.
const MAX_CHUNKS: usize = 28;

/// Writes the segments of the optimal split of `input` (the one [`optimal_bits`] costs).
pub(crate) fn write_segments(
    input: &Input<'_>,
    group: usize,
    out: &mut BitWriter<'_>,
) -> Result<(), Full> {
    let prefix = input.prefix;
    let chunks = prefix.len().div_ceil(CHUNK);
    if chunks > MAX_CHUNKS {
        return Err(Full);
    }

    // Backward pass: keep the costs at the start of every chunk, and at the end.
    let tail = tail_step(input.tail_digits(), group);
    let mut checkpoints = [Costs::default(); MAX_CHUNKS + 1];
    if let Some(end) = checkpoints.get_mut(chunks) {
        *end = tail.costs;
    }
    let mut costs = tail.costs;
    for (i, byte) in prefix.iter().enumerate().rev() {
        costs = step_back(&costs, classify(*byte), group).costs;
        if i % CHUNK == 0 {
            if let Some(slot) = checkpoints.get_mut(i / CHUNK) {
                *slot = costs;
            }
        }
    }

    // Forward pass, one chunk at a time.
    let mut writer = SegmentWriter::new(out, group);
    let mut state: Option<State> = None;
    for (chunk, text) in prefix.chunks(CHUNK).enumerate() {
        let mut decisions = [Decision::default(); CHUNK];
        let mut costs = checkpoints.get(chunk + 1).copied().unwrap_or_default();
        for (byte, decision) in text.iter().zip(decisions.iter_mut()).rev() {
            let step = step_back(&costs, classify(*byte), group);
            *decision = step.decision;
            costs = step.costs;
        }
        for (byte, decision) in text.iter().zip(decisions) {
            let current = match state {
                Some(open) if decision.continues(open) => open,
                _ => {
                    let mode = decision.new_mode();
                    writer.begin(mode)?;
                    State::fresh(mode)
                }
            };
            writer.push_char(*byte)?;
            state = Some(current.after_char());
        }
    }

    if !input.tail.is_empty() {
        match state {
            Some(open) if tail.decision.continues(open) => {}
            _ => writer.begin(Mode::Numeric)?,
        }
        let mut result = Ok(());
        digits::for_each_digit(input.tail, |digit| {
            if result.is_ok() {
                result = writer.push_char(b'0' + digit);
            }
        });
        result?;
    }
    writer.close()
}

/// Writes segments: mode indicator, a count field filled in when the segment closes, and
/// the characters packed by mode.
struct SegmentWriter<'w, 'b> {
    out: &'w mut BitWriter<'b>,
    group: usize,
    open: Option<OpenSegment>,
}

struct OpenSegment {
    mode: Mode,
    /// Characters so far.
    count: usize,
    /// Bit offset of the count field.
    count_at: usize,
    /// Values of the characters of an incomplete group, and how many there are.
    pending: u32,
    pending_len: u32,
}

impl<'w, 'b> SegmentWriter<'w, 'b> {
    fn new(out: &'w mut BitWriter<'b>, group: usize) -> Self {
        SegmentWriter {
            out,
            group,
            open: None,
        }
    }

    /// Closes the open segment, if any, and opens one in `mode`.
    fn begin(&mut self, mode: Mode) -> Result<(), Full> {
        self.close()?;
        self.out.push(mode.indicator(), 4)?;
        let count_at = self.out.len();
        self.out.push(0, mode.count_bits(self.group))?;
        self.open = Some(OpenSegment {
            mode,
            count: 0,
            count_at,
            pending: 0,
            pending_len: 0,
        });
        Ok(())
    }

    /// Adds an input character to the open segment.
    fn push_char(&mut self, byte: u8) -> Result<(), Full> {
        let value = match self.open.as_ref().map(|open| open.mode) {
            Some(Mode::Numeric) if byte.is_ascii_digit() => u32::from(byte - b'0'),
            Some(Mode::Alphanumeric) => alphanumeric_value(byte).ok_or(Full)?,
            Some(Mode::Byte) => u32::from(byte),
            _ => return Err(Full),
        };
        self.push_value(value)
    }

    /// Adds a character, given as its value in the open segment's mode (a digit, an
    /// alphanumeric value or a byte).
    fn push_value(&mut self, value: u32) -> Result<(), Full> {
        let open = self.open.as_mut().ok_or(Full)?;
        open.count += 1;
        let (group_len, group_bits, radix) = match open.mode {
            Mode::Numeric => (3, 10, 10),
            Mode::Alphanumeric => (2, 11, 45),
            Mode::Byte => (1, 8, 256),
        };
        open.pending = open.pending * radix + value;
        open.pending_len += 1;
        if open.pending_len == group_len {
            let bits = open.pending;
            open.pending = 0;
            open.pending_len = 0;
            self.out.push(bits, group_bits)?;
        }
        Ok(())
    }

    /// Writes the incomplete group and the count of the open segment.
    fn close(&mut self) -> Result<(), Full> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let leftover_bits = match (open.mode, open.pending_len) {
            (_, 0) => 0,
            (Mode::Numeric, 1) => 4,
            (Mode::Numeric, _) => 7,
            (Mode::Alphanumeric, _) => 6,
            (Mode::Byte, _) => 8,
        };
        if leftover_bits > 0 {
            self.out.push(open.pending, leftover_bits)?;
        }
        if open.count > open.mode.max_count(self.group) {
            return Err(Full);
        }
        self.out.patch(
            open.count_at,
            open.count as u32,
            open.mode.count_bits(self.group),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// Segment-level optimum by exhaustive search over every way of cutting the input
    /// into segments and every mode for each piece (memoised on the start position).
    fn reference_bits(text: &[u8], group: usize) -> usize {
        let n = text.len();
        let mut best = std::vec![usize::MAX; n + 1];
        best[n] = 0;
        for start in (0..n).rev() {
            for end in start + 1..=n {
                for mode in Mode::ALL {
                    if text[start..end].iter().all(|b| mode.accepts(classify(*b))) {
                        if let Some(bits) = single_segment_bits(mode, end - start, group) {
                            if best[end] != usize::MAX {
                                best[start] = best[start].min(bits + best[end]);
                            }
                        }
                    }
                }
            }
        }
        best[0]
    }

    /// All splits of a short input, listed one by one (no memoisation).
    fn exhaustive_bits(text: &[u8], group: usize) -> usize {
        if text.is_empty() {
            return 0;
        }
        let mut best = usize::MAX;
        for end in 1..=text.len() {
            for mode in Mode::ALL {
                if text[..end].iter().all(|b| mode.accepts(classify(*b))) {
                    let here = single_segment_bits(mode, end, group).unwrap();
                    best = best.min(here + exhaustive_bits(&text[end..], group));
                }
            }
        }
        best
    }

    /// Parses the segments in a bit stream back into text (digits of the tail included).
    fn parse_segments(bytes: &[u8], bit_len: usize, group: usize) -> (Vec<u8>, usize) {
        let mut pos = 0;
        let read = |pos: &mut usize, n: u32| -> u32 {
            let mut v = 0;
            for _ in 0..n {
                let bit = bytes[*pos / 8] >> (7 - *pos % 8) & 1;
                v = v << 1 | u32::from(bit);
                *pos += 1;
            }
            v
        };
        let alnum = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        let mut text = Vec::new();
        let mut segments = 0;
        while pos < bit_len {
            segments += 1;
            let mode = match read(&mut pos, 4) {
                1 => Mode::Numeric,
                2 => Mode::Alphanumeric,
                4 => Mode::Byte,
                other => panic!("mode {other}"),
            };
            let mut count = read(&mut pos, mode.count_bits(group)) as usize;
            match mode {
                Mode::Numeric => {
                    while count > 0 {
                        let take = count.min(3);
                        let bits = [0, 4, 7, 10][take];
                        let v = read(&mut pos, bits);
                        let s = std::format!("{:0width$}", v, width = take);
                        text.extend_from_slice(s.as_bytes());
                        count -= take;
                    }
                }
                Mode::Alphanumeric => {
                    while count > 0 {
                        if count >= 2 {
                            let v = read(&mut pos, 11) as usize;
                            text.push(alnum[v / 45]);
                            text.push(alnum[v % 45]);
                            count -= 2;
                        } else {
                            let v = read(&mut pos, 6) as usize;
                            text.push(alnum[v]);
                            count -= 1;
                        }
                    }
                }
                Mode::Byte => {
                    for _ in 0..count {
                        text.push(read(&mut pos, 8) as u8);
                    }
                }
            }
        }
        assert_eq!(pos, bit_len);
        (text, segments)
    }

    fn write(input: &Input<'_>, group: usize) -> (Vec<u8>, usize) {
        let mut buf = std::vec![0u8; 8192];
        let mut w = BitWriter::new(&mut buf);
        write_segments(input, group, &mut w).unwrap();
        let len = w.len();
        (buf, len)
    }

    fn random_text(seed: &mut u32, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 17;
                *seed ^= *seed << 5;
                alphabet[*seed as usize % alphabet.len()]
            })
            .collect()
    }

    #[test]
    fn segment_sizes_by_hand() {
        // §7.4.3 example: "01234567" is 4 + 10 + 27 = 41 bits in version 1.
        assert_eq!(single_segment_bits(Mode::Numeric, 8, 0), Some(41));
        // §7.4.4 example: "AC-42" is 4 + 9 + 28 = 41 bits in version 1.
        assert_eq!(single_segment_bits(Mode::Alphanumeric, 5, 0), Some(41));
        assert_eq!(single_segment_bits(Mode::Byte, 256, 0), None);
        assert_eq!(single_segment_bits(Mode::Byte, 256, 1), Some(20 + 2048));
    }

    #[test]
    fn simple_inputs() {
        let bits = |s: &[u8]| optimal_bits(&Input::new(s, &[]), 0).unwrap();
        assert_eq!(bits(b""), 0);
        assert_eq!(bits(b"01234567"), 41);
        assert_eq!(bits(b"AC-42"), 41);
        assert_eq!(bits(b"a"), 20);
        // Mixed: "abc" bytes then 12 digits: 12 + 24 + 14 + 40 = 90 beats 12 + 120.
        assert_eq!(bits(b"abc123456789012"), 90);
    }

    #[test]
    fn optimal_against_exhaustive_search_on_short_inputs() {
        let mut seed = 7;
        let alphabet = b"0123ABZ $a~\x00\xff";
        for len in 0..=9 {
            for _ in 0..60 {
                let text = random_text(&mut seed, len, alphabet);
                for group in 0..3 {
                    let got = optimal_bits(&Input::new(&text, &[]), group).unwrap();
                    assert_eq!(got, exhaustive_bits(&text, group), "{text:?} group {group}");
                }
            }
        }
    }

    #[test]
    fn optimal_against_segment_search_and_written_bits() {
        let mut seed = 99;
        // Alphabets that make mode switches worth weighing.
        let alphabets: [&[u8]; 4] = [
            b"0123456789",
            b"0123456789ABC:/",
            b"0123456789ABCabc",
            b"0000000000000000A.a",
        ];
        for alphabet in alphabets {
            for len in [1, 2, 3, 7, 20, 64, 150, 300] {
                for _ in 0..8 {
                    let text = random_text(&mut seed, len, alphabet);
                    for group in 0..3 {
                        let input = Input::new(&text, &[]);
                        let bits = optimal_bits(&input, group).unwrap();
                        assert_eq!(bits, reference_bits(&text, group), "{text:?}");
                        let (buf, written) = write(&input, group);
                        assert_eq!(written, bits);
                        let (parsed, _) = parse_segments(&buf, written, group);
                        assert_eq!(parsed, text);
                    }
                }
            }
        }
    }

    #[test]
    fn long_inputs_cross_chunk_boundaries() {
        let mut seed = 5;
        for len in [255, 256, 257, 1000, 3000, 7089] {
            let text = random_text(&mut seed, len, b"0123456789012345678901234567890ABab");
            let input = Input::new(&text, &[]);
            let bits = optimal_bits(&input, 2).unwrap();
            let (buf, written) = write(&input, 2);
            assert_eq!(written, bits, "len {len}");
            assert_eq!(parse_segments(&buf, written, 2).0, text);
        }
        let text = std::vec![b'7'; MAX_CHUNKS * CHUNK + 1];
        assert_eq!(optimal_bits(&Input::new(&text, &[]), 2), None);
    }

    #[test]
    fn url_tail_is_optimal_for_the_whole_string() {
        let mut seed = 3;
        let urls: [&[u8]; 6] = [
            b"https://panic.archlinux.org/panic_report#?a=x86_64&v=6.12.0&z=",
            b"HTTPS://EXAMPLE.COM/R?Z=",
            b"HTTPS://EXAMPLE.COM/R/12",
            b"x1",
            b"ABC123",
            b"",
        ];
        for url in urls {
            for data_len in [0usize, 1, 2, 6, 7, 8, 13, 14, 15, 100] {
                let data = random_text(&mut seed, data_len, &(0..=255).collect::<Vec<u8>>());
                let mut whole = url.to_vec();
                let mut ascii = std::vec![0u8; digits::digit_count(data_len)];
                digits::write_ascii_digits(&data, &mut ascii).unwrap();
                whole.extend_from_slice(&ascii);
                for group in 0..3 {
                    let input = Input::new(url, &data);
                    let bits = optimal_bits(&input, group).unwrap();
                    let expected = optimal_bits(&Input::new(&whole, &[]), group).unwrap();
                    assert_eq!(
                        bits,
                        expected,
                        "{:?} + {data_len} bytes",
                        String::from_utf8_lossy(url)
                    );
                    let (buf, written) = write(&input, group);
                    assert_eq!(written, bits);
                    assert_eq!(parse_segments(&buf, written, group).0, whole);
                }
            }
        }
    }

    #[test]
    fn url_digits_continue_a_numeric_segment() {
        // A URL ending in digits: those digits and the data share one numeric segment.
        let data = [1, 2, 3, 4, 5, 6, 7];
        let input = Input::new(b"HTTPS://X.Y/123", &data);
        let (buf, written) = write(&input, 0);
        let (text, segments) = parse_segments(&buf, written, 0);
        assert_eq!(segments, 2, "{}", String::from_utf8_lossy(&text));
        // 0x07060504030201, little-endian, zero-padded to 17 digits.
        assert_eq!(&text[..], b"HTTPS://X.Y/12301976943448883713");
    }
}
