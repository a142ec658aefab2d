//! The SFTP wire primitives: big-endian integers and `uint32`-length-prefixed strings, read
//! with every length checked against the remaining bytes and written with every length
//! checked against `u32`.

use std::fmt;

/// Why a packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The packet ended inside a field (`what`).
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// Bytes were left after the last field of a message.
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// The payload was empty (no packet type byte).
    Empty,
    /// The packet type byte is not one this direction accepts.
    UnknownType(u8),
    /// A count (NAME entries, extension pairs) cannot fit in the remaining bytes.
    CountTooLarge {
        /// The field holding the count.
        what: &'static str,
        /// The count read.
        count: u32,
    },
    /// The attribute flags carry bits that version 3 does not define.
    UnknownAttrFlags(u32),
    /// A field holds a value it cannot hold (`what`).
    Invalid {
        /// The field and the reason.
        what: &'static str,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => write!(f, "packet truncated in {what}"),
            Self::TrailingBytes { count } => write!(f, "{count} trailing bytes after message"),
            Self::Empty => f.write_str("empty packet"),
            Self::UnknownType(t) => write!(f, "unknown packet type {t}"),
            Self::CountTooLarge { what, count } => {
                write!(f, "{what} count {count} exceeds the packet size")
            }
            Self::UnknownAttrFlags(fl) => write!(f, "unknown attribute flags {fl:#x}"),
            Self::Invalid { what } => write!(f, "invalid {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// A string, a count or the whole packet exceeds `u32::MAX` bytes.
    TooLong,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field or packet longer than u32::MAX")
    }
}

impl std::error::Error for EncodeError {}

/// An extension `(name, data)` pair (INIT, VERSION, attributes).
pub type ExtensionPair = (Vec<u8>, Vec<u8>);

/// A cursor over a packet payload.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated { what });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.take(1, what)?;
        b.first().copied().ok_or(DecodeError::Truncated { what })
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        let a: [u8; 4] = b.try_into().map_err(|_| DecodeError::Truncated { what })?;
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, what)?;
        let a: [u8; 8] = b.try_into().map_err(|_| DecodeError::Truncated { what })?;
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(what)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated { what })?;
        self.take(len, what)
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        self.bytes(what).map(<[u8]>::to_vec)
    }

    /// Reads a count of items each at least `min_size` bytes long, refusing counts that
    /// cannot fit in what is left.
    pub(crate) fn count(
        &mut self,
        what: &'static str,
        min_size: usize,
    ) -> Result<u32, DecodeError> {
        let count = self.u32(what)?;
        let fits = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(min_size))
            .is_some_and(|need| need <= self.buf.len());
        if fits {
            Ok(count)
        } else {
            Err(DecodeError::CountTooLarge { what, count })
        }
    }

    /// The rest of the payload.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.buf.len(),
            })
        }
    }
}

/// A payload being built; the first over-long field is remembered and reported by
/// [`Writer::finish`].
#[derive(Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
    too_long: bool,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn len32(&mut self, n: usize) -> &mut Self {
        match u32::try_from(n) {
            Ok(n) => self.u32(n),
            Err(_) => {
                self.too_long = true;
                self
            }
        }
    }

    pub(crate) fn string(&mut self, s: &[u8]) -> &mut Self {
        self.len32(s.len());
        self.raw(s)
    }

    pub(crate) fn raw(&mut self, s: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(s);
        self
    }

    pub(crate) fn finish(self) -> Result<Vec<u8>, EncodeError> {
        if self.too_long || u32::try_from(self.buf.len()).is_err() {
            Err(EncodeError::TooLong)
        } else {
            Ok(self.buf)
        }
    }
}

/// Reads `count`-prefixed `(name, data)` string pairs (extension lists).
pub(crate) fn read_pairs(
    r: &mut Reader<'_>,
    what: &'static str,
    count: u32,
) -> Result<Vec<ExtensionPair>, DecodeError> {
    let mut out = Vec::new();
    for _ in 0..count {
        let name = r.string(what)?;
        let data = r.string(what)?;
        out.push((name, data));
    }
    Ok(out)
}

/// Reads `(name, data)` pairs until the payload ends (INIT and VERSION).
pub(crate) fn read_pairs_to_end(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<ExtensionPair>, DecodeError> {
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let name = r.string(what)?;
        let data = r.string(what)?;
        out.push((name, data));
    }
    Ok(out)
}

/// Writes `(name, data)` pairs with no count.
pub(crate) fn write_pairs(w: &mut Writer, pairs: &[ExtensionPair]) {
    for (n, d) in pairs {
        w.string(n).string(d);
    }
}

/// Reads a string of UTF-8 text, replacing invalid sequences: for messages shown to people.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The bytes of a local path, as SFTP sends them (Unix: the raw bytes; elsewhere UTF-8,
/// lossily).
pub fn path_bytes(path: &std::path::Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// A local path from SFTP path bytes (Unix: the raw bytes; elsewhere UTF-8, lossily).
pub fn bytes_path(bytes: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        std::path::PathBuf::from(lossy(bytes))
    }
}
