//! Framing: every agent message is `uint32 length || payload`, the payload starting with
//! its type byte.

use crate::error::AgentError;
use zeroize::Zeroizing;

/// The longest message accepted in either direction (OpenSSH's `AGENT_MAX_LEN`, 256 KiB).
pub const MAX_MESSAGE: usize = 256 * 1024;

/// Wraps a payload in its length prefix.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
    out
}

/// Cuts a byte stream into messages. It holds at most one message plus its prefix: a
/// length above [`MAX_MESSAGE`] is refused before anything is buffered for it. Buffers are
/// wiped on drop (messages may carry private keys or passphrases).
#[derive(Debug, Default)]
pub struct Framer {
    buf: Zeroizing<Vec<u8>>,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Takes in bytes from the stream and returns how many were used: never more than the
    /// rest of the current message, so the framer holds at most one message.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let want = self.wanted();
        let n = want.min(bytes.len());
        self.buf
            .extend_from_slice(bytes.get(..n).unwrap_or_default());
        n
    }

    /// How many more bytes complete the current message (or its length prefix); 0 when a
    /// message is complete or the length is refused.
    pub fn wanted(&self) -> usize {
        match self.announced() {
            None => 4 - self.buf.len(),
            Some(n) if n > MAX_MESSAGE => 0,
            Some(n) => (n + 4).saturating_sub(self.buf.len()),
        }
    }

    fn announced(&self) -> Option<usize> {
        let b: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(b)).ok()
    }

    /// The next complete message's payload, if one is complete.
    ///
    /// # Errors
    /// [`AgentError::TooLong`] for a length above [`MAX_MESSAGE`] (the stream cannot be
    /// resynchronised: close it), [`AgentError::Empty`] for a zero length.
    pub fn next_message(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, AgentError> {
        let Some(n) = self.announced() else {
            return Ok(None);
        };
        if n > MAX_MESSAGE {
            return Err(AgentError::TooLong(u32::try_from(n).unwrap_or(u32::MAX)));
        }
        if n == 0 {
            self.buf.clear();
            return Err(AgentError::Empty);
        }
        if self.buf.len() < n + 4 {
            return Ok(None);
        }
        let payload = Zeroizing::new(self.buf.get(4..n + 4).unwrap_or_default().to_vec());
        self.buf.clear();
        Ok(Some(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_by_byte_and_whole_give_the_same_messages() {
        let mut stream = frame(&[11]);
        stream.extend(frame(&[13, 1, 2, 3]));
        let mut whole = Framer::new();
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = whole.push(rest);
            rest = &rest[n..];
            if let Some(m) = whole.next_message().unwrap() {
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, vec![vec![11], vec![13, 1, 2, 3]]);
        let mut single = Framer::new();
        let mut got2 = Vec::new();
        for b in &stream {
            assert_eq!(single.push(std::slice::from_ref(b)), 1);
            if let Some(m) = single.next_message().unwrap() {
                got2.push(m.to_vec());
            }
        }
        assert_eq!(got, got2);
    }

    #[test]
    fn too_long_is_refused_before_buffering() {
        let mut f = Framer::new();
        let len = u32::try_from(MAX_MESSAGE + 1).unwrap().to_be_bytes();
        assert_eq!(f.push(&len), 4);
        assert_eq!(f.wanted(), 0);
        assert_eq!(f.push(&[0; 100]), 0);
        assert!(matches!(f.next_message(), Err(AgentError::TooLong(_))));
        let mut g = Framer::new();
        g.push(&[0, 0, 0, 0]);
        assert_eq!(g.next_message(), Err(AgentError::Empty));
    }
}
