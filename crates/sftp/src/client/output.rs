//! The engine's output: framed requests waiting for the caller, as a queue of blocks that
//! the caller reads in place (no move of the unsent rest when more is queued behind it) and
//! whose allocations are reused, already initialized, for later requests (a WRITE's data
//! region is not zeroed again before it is filled).

use std::collections::VecDeque;

/// A new block is started when the last one cannot take a request without growing.
const BLOCK: usize = 256 * 1024;
/// Sent blocks kept for reuse.
const SPARE_BLOCKS: usize = 4;

/// Bytes queued for the server.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Blocks, oldest first, each with its end: the bytes in use are `..end`; the vector
    /// may be longer (bytes initialized by an earlier use of the allocation). No block is
    /// empty.
    blocks: VecDeque<(Vec<u8>, usize)>,
    /// Bytes of the first block already taken.
    at: usize,
    /// Allocations of sent blocks, reused.
    spare: Vec<Vec<u8>>,
}

impl Output {
    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The oldest bytes not taken yet (a prefix of all that is queued).
    pub(crate) fn peek(&self) -> &[u8] {
        self.blocks
            .front()
            .and_then(|(b, end)| b.get(self.at..*end))
            .unwrap_or_default()
    }

    /// Forgets the first `n` bytes (all of them if `n` is more).
    pub(crate) fn consume(&mut self, mut n: usize) {
        while n > 0 {
            let Some((_, end)) = self.blocks.front() else {
                return;
            };
            let step = n.min(end.saturating_sub(self.at));
            self.at += step;
            n -= step;
            if self.at >= *end {
                self.pop_front();
            }
        }
    }

    fn pop_front(&mut self) {
        self.at = 0;
        if let Some((b, _)) = self.blocks.pop_front()
            && self.spare.len() < SPARE_BLOCKS
        {
            self.spare.push(b);
        }
    }

    /// Appends everything queued to `out` and forgets it.
    pub(crate) fn take_into(&mut self, out: &mut Vec<u8>) {
        while !self.blocks.is_empty() {
            out.extend_from_slice(self.peek());
            self.pop_front();
        }
    }

    /// Moves everything queued in `other` behind what is queued here.
    pub(crate) fn append(&mut self, other: &mut Output) {
        if other.at > 0 {
            let mut rest = Vec::new();
            other.take_into(&mut rest);
            self.extend(&rest);
            return;
        }
        self.blocks.append(&mut other.blocks);
    }

    /// Appends `bytes`.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(dst) = self.grow(bytes.len()).get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Appends `len` bytes (not zeroed when the allocation was used before) and returns
    /// them, to be written over; [`shrink`](Self::shrink) gives back what is not used.
    pub(crate) fn grow(&mut self, len: usize) -> &mut [u8] {
        let fits = self
            .blocks
            .back()
            .is_some_and(|(b, end)| end.saturating_add(len) <= b.capacity());
        if !fits {
            let mut b = self.spare.pop().unwrap_or_default();
            if b.capacity() < len {
                b.reserve(len.max(BLOCK).saturating_sub(b.len()));
            }
            self.blocks.push_back((b, 0));
        }
        let Some((b, end)) = self.blocks.back_mut() else {
            return &mut [];
        };
        let start = *end;
        *end = start.saturating_add(len);
        if b.len() < *end {
            b.resize(*end, 0);
        }
        b.get_mut(start..*end).unwrap_or_default()
    }

    /// Drops the last `n` bytes appended by [`grow`](Self::grow) (not yet taken).
    pub(crate) fn shrink(&mut self, n: usize) {
        let only = self.blocks.len() == 1;
        let Some((_, end)) = self.blocks.back_mut() else {
            return;
        };
        *end = end.saturating_sub(n);
        let emptied = *end == 0 || (only && *end <= self.at);
        if emptied && let Some((b, _)) = self.blocks.pop_back() {
            if self.blocks.is_empty() {
                self.at = 0;
            }
            if self.spare.len() < SPARE_BLOCKS {
                self.spare.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_in_order_in_any_steps() {
        let mut o = Output::default();
        let mut want = Vec::new();
        let mut got = Vec::new();
        for i in 0..40u32 {
            let piece: Vec<u8> = (0..(i * 7919 % 70_000)).map(|j| (i + j) as u8).collect();
            if i % 3 == 0 {
                let n = piece.len();
                let dst = o.grow(n + 5);
                dst[..n].copy_from_slice(&piece);
                o.shrink(5);
            } else {
                o.extend(&piece);
            }
            want.extend_from_slice(&piece);
            let step = (i as usize * 12_345) % 90_000;
            let p = o.peek();
            let k = step.min(p.len());
            got.extend_from_slice(&p[..k]);
            o.consume(k);
        }
        o.take_into(&mut got);
        assert!(o.is_empty());
        assert_eq!(got, want);
    }

    #[test]
    fn shrink_to_nothing_leaves_no_empty_block() {
        let mut o = Output::default();
        o.grow(10);
        o.shrink(10);
        assert!(o.is_empty());
        o.extend(b"abc");
        o.consume(2);
        o.grow(4);
        o.shrink(4);
        assert_eq!(o.peek(), b"c");
    }
}
