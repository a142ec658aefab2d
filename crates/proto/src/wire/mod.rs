//! The RFC 4251 §5 data types: `byte`, `boolean`, `uint32`, `uint64`, `string`, `mpint`,
//! `name-list`. Decoding borrows from the input and checks every length before trusting it;
//! encoding appends to a `Vec<u8>`.

pub mod msg;

use crate::error::InvalidMessage;

/// A cursor over a message, decoding RFC 4251 types. Every read checks the remaining length
/// first, so no read panics or allocates from a count the peer chose.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// The bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// How many bytes remain.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        if n > self.buf.len() {
            return Err(InvalidMessage::Truncated(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads a `byte`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, InvalidMessage> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    /// Reads a `boolean` (any non-zero byte is true, as RFC 4251 says).
    pub fn bool(&mut self, what: &'static str) -> Result<bool, InvalidMessage> {
        Ok(self.u8(what)? != 0)
    }

    /// Reads a `uint32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, InvalidMessage> {
        let b = self.take(4, what)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }

    /// Reads a `uint64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, InvalidMessage> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a `string` as raw bytes.
    pub fn string(&mut self, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).map_err(|_| InvalidMessage::Truncated(what))?;
        self.take(len, what)
    }

    /// Reads a `string` that must be UTF-8.
    pub fn utf8(&mut self, what: &'static str) -> Result<&'a str, InvalidMessage> {
        let b = self.string(what)?;
        core::str::from_utf8(b).map_err(|_| InvalidMessage::NotUtf8(what))
    }

    /// Reads a `name-list` and returns it unsplit, checked to be printable US-ASCII with no
    /// empty names. Split it with [`names`].
    pub fn name_list(&mut self, what: &'static str) -> Result<&'a str, InvalidMessage> {
        let b = self.string(what)?;
        if b.iter().any(|&c| !(0x21..=0x7e).contains(&c)) {
            return Err(InvalidMessage::BadValue(what));
        }
        let s = core::str::from_utf8(b).map_err(|_| InvalidMessage::NotUtf8(what))?;
        if !s.is_empty() && s.split(',').any(|n| n.is_empty() || n.len() > 64) {
            return Err(InvalidMessage::BadValue(what));
        }
        Ok(s)
    }

    /// Reads an `mpint` and returns its magnitude bytes with leading zeros stripped.
    /// Negative values are refused.
    pub fn mpint_positive(&mut self, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let b = self.string(what)?;
        if b.first().is_some_and(|&x| x & 0x80 != 0) {
            return Err(InvalidMessage::BadValue(what));
        }
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        Ok(b.get(start..).unwrap_or_default())
    }

    /// Fails unless every byte has been read.
    pub fn end(&self, what: &'static str) -> Result<(), InvalidMessage> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(InvalidMessage::TrailingBytes(what))
        }
    }
}

/// Splits a checked name-list into its names (an empty list has none).
pub fn names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|s| !s.is_empty())
}

/// Appends a `byte`.
pub fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

/// Appends a `boolean`.
pub fn put_bool(out: &mut Vec<u8>, v: bool) {
    out.push(u8::from(v));
}

/// Appends a `uint32`.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a `uint64`.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a `string`. Lengths above `u32::MAX` cannot occur: every caller bounds its data by
/// the packet cap, and the length is saturated rather than truncated if one ever did.
pub fn put_string(out: &mut Vec<u8>, v: &[u8]) {
    put_u32(out, u32::try_from(v.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(v);
}

/// Appends a `name-list` built from names.
pub fn put_name_list<S: AsRef<str>>(out: &mut Vec<u8>, names: &[S]) {
    let len: usize =
        names.iter().map(|n| n.as_ref().len()).sum::<usize>() + names.len().saturating_sub(1);
    put_u32(out, u32::try_from(len).unwrap_or(u32::MAX));
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(n.as_ref().as_bytes());
    }
}

/// Appends an `mpint` holding the non-negative big-endian integer `magnitude`.
pub fn put_mpint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let start = magnitude
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(magnitude.len());
    let m = magnitude.get(start..).unwrap_or_default();
    let pad = m.first().is_some_and(|&x| x & 0x80 != 0);
    put_u32(
        out,
        u32::try_from(m.len() + usize::from(pad)).unwrap_or(u32::MAX),
    );
    if pad {
        out.push(0);
    }
    out.extend_from_slice(m);
}

#[cfg(test)]
mod tests;
