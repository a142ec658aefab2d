//! The engine's bounded handle table: opaque 8-byte handles (slot index and generation, so a
//! stale handle never reaches a reused slot).

use std::collections::VecDeque;

use super::fs::{DirEntry, Filesystem};

/// What a handle refers to.
pub(crate) enum Slot<F: Filesystem> {
    /// An open file.
    File(F::File),
    /// An open directory, with entries read but not yet sent.
    Dir {
        dir: F::Dir,
        pending: VecDeque<DirEntry>,
        done: bool,
    },
}

struct Entry<F: Filesystem> {
    generation: u32,
    slot: Option<Slot<F>>,
}

/// At most `max` open handles; a full table refuses new ones.
pub(crate) struct HandleTable<F: Filesystem> {
    entries: Vec<Entry<F>>,
    open: usize,
    max: usize,
}

impl<F: Filesystem> HandleTable<F> {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            entries: Vec::new(),
            open: 0,
            max,
        }
    }

    /// How many handles are open.
    pub(crate) fn len(&self) -> usize {
        self.open
    }

    /// Stores `slot` and returns its handle, or gives the slot back when the table is full.
    pub(crate) fn insert(&mut self, slot: Slot<F>) -> Result<Vec<u8>, Slot<F>> {
        if self.open >= self.max {
            return Err(slot);
        }
        let index = match self.entries.iter().position(|e| e.slot.is_none()) {
            Some(i) => i,
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    slot: None,
                });
                self.entries.len().saturating_sub(1)
            }
        };
        let (Ok(index32), Some(entry)) = (u32::try_from(index), self.entries.get_mut(index)) else {
            return Err(slot);
        };
        entry.generation = entry.generation.wrapping_add(1);
        entry.slot = Some(slot);
        self.open = self.open.saturating_add(1);
        let mut h = Vec::with_capacity(8);
        h.extend_from_slice(&index32.to_be_bytes());
        h.extend_from_slice(&entry.generation.to_be_bytes());
        Ok(h)
    }

    fn locate(&self, handle: &[u8]) -> Option<usize> {
        let (i, g) = handle.split_first_chunk::<4>()?;
        let g: [u8; 4] = g.try_into().ok()?;
        let index = usize::try_from(u32::from_be_bytes(*i)).ok()?;
        let e = self.entries.get(index)?;
        (e.slot.is_some() && e.generation == u32::from_be_bytes(g)).then_some(index)
    }

    /// The slot of a live handle.
    pub(crate) fn get_mut(&mut self, handle: &[u8]) -> Option<&mut Slot<F>> {
        let i = self.locate(handle)?;
        self.entries.get_mut(i)?.slot.as_mut()
    }

    /// Two distinct live file handles at once (for `copy-data`).
    pub(crate) fn two_files(&mut self, a: &[u8], b: &[u8]) -> Option<(&mut F::File, &mut F::File)> {
        let ia = self.locate(a)?;
        let ib = self.locate(b)?;
        if ia == ib {
            return None;
        }
        let (lo, hi, swap) = if ia < ib {
            (ia, ib, false)
        } else {
            (ib, ia, true)
        };
        let (left, right) = self.entries.split_at_mut(hi);
        let first = left.get_mut(lo)?.slot.as_mut()?;
        let second = right.first_mut()?.slot.as_mut()?;
        let (Slot::File(x), Slot::File(y)) = (first, second) else {
            return None;
        };
        Some(if swap { (y, x) } else { (x, y) })
    }

    /// Removes a live handle.
    pub(crate) fn remove(&mut self, handle: &[u8]) -> Option<Slot<F>> {
        let i = self.locate(handle)?;
        let slot = self.entries.get_mut(i)?.slot.take()?;
        self.open = self.open.saturating_sub(1);
        Some(slot)
    }

    /// Removes every handle (at the end of a session).
    pub(crate) fn drain(&mut self) -> Vec<Slot<F>> {
        self.open = 0;
        self.entries
            .iter_mut()
            .filter_map(|e| e.slot.take())
            .collect()
    }
}
