//! The identification-string exchange (RFC 4253 §4.2), with OpenSSH's limits: lines of at
//! most 8 KiB and at most 1024 lines before the identification.

use crate::error::{Error, InvalidMessage, PeerMisbehaved};
use bytes::BytesMut;

/// Longest identification or pre-banner line, CR LF included.
pub const MAX_LINE: usize = 8192;
/// Most lines a server may send before its identification.
pub const MAX_PRE_BANNER_LINES: usize = 1024;

/// Reads the peer's identification line, skipping pre-banner lines.
#[derive(Debug, Default)]
pub struct VersionReader {
    pre_banner_lines: usize,
    /// Whether lines before the identification are allowed (only servers may send them).
    allow_pre_banner: bool,
}

impl VersionReader {
    /// A reader for a client (`allow_pre_banner`: the server may send lines first) or a server
    /// (the client's first line must be its identification).
    pub fn new(allow_pre_banner: bool) -> VersionReader {
        VersionReader {
            pre_banner_lines: 0,
            allow_pre_banner,
        }
    }

    /// Consumes complete lines from `buf`. Returns the identification line (without CR LF) once
    /// it has arrived; bytes after it stay in `buf`.
    pub fn read(&mut self, buf: &mut BytesMut) -> Result<Option<String>, Error> {
        loop {
            let window = buf.get(..buf.len().min(MAX_LINE)).unwrap_or_default();
            let Some(nl) = window.iter().position(|&b| b == b'\n') else {
                if buf.len() >= MAX_LINE {
                    return Err(
                        InvalidMessage::BadIdentification("line longer than 8192 bytes").into(),
                    );
                }
                return Ok(None);
            };
            let line = buf.split_to(nl + 1);
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.starts_with(b"SSH-") {
                return parse_identification(line).map(Some);
            }
            if line.contains(&0) || !self.allow_pre_banner {
                return Err(PeerMisbehaved::NotSsh.into());
            }
            self.pre_banner_lines += 1;
            if self.pre_banner_lines > MAX_PRE_BANNER_LINES {
                return Err(PeerMisbehaved::TooManyPreBannerLines.into());
            }
        }
    }
}

fn parse_identification(line: &[u8]) -> Result<String, Error> {
    let text = core::str::from_utf8(line)
        .map_err(|_| InvalidMessage::BadIdentification("identification is not UTF-8"))?;
    if text.chars().any(|c| c.is_control()) {
        return Err(
            InvalidMessage::BadIdentification("control character in identification").into(),
        );
    }
    let rest = text.strip_prefix("SSH-").unwrap_or(text);
    let (proto, software) = rest.split_once('-').unwrap_or((rest, ""));
    if proto != "2.0" && proto != "1.99" {
        return Err(PeerMisbehaved::UnsupportedProtocolVersion(proto.to_owned()).into());
    }
    let software = software.split(' ').next().unwrap_or("");
    if software.is_empty() {
        return Err(InvalidMessage::BadIdentification("no software version").into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], chunk: usize) -> Result<Option<String>, Error> {
        let mut r = VersionReader::new(true);
        let mut buf = BytesMut::new();
        let mut last = Ok(None);
        for c in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(c);
            last = r.read(&mut buf);
            if !matches!(last, Ok(None)) {
                return last;
            }
        }
        last
    }

    #[test]
    fn table() {
        let long = [b'a'; 8193];
        type Case = (Vec<u8>, Result<Option<String>, ()>);
        let cases: Vec<Case> = vec![
            (
                b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(),
                Ok(Some("SSH-2.0-OpenSSH_9.2".into())),
            ),
            (b"SSH-1.99-x\n".to_vec(), Ok(Some("SSH-1.99-x".into()))),
            (
                b"hello\r\nworld\r\nSSH-2.0-x y\r\n".to_vec(),
                Ok(Some("SSH-2.0-x y".into())),
            ),
            (b"SSH-1.5-x\r\n".to_vec(), Err(())),
            (b"SSH-3.0-x\r\n".to_vec(), Err(())),
            (b"SSH-2.0\r\n".to_vec(), Err(())),
            (b"SSH-2.0-\r\n".to_vec(), Err(())),
            (b"SSH-2.0-a\x00b\r\n".to_vec(), Err(())),
            (b"garbage\x00\r\n".to_vec(), Err(())),
            ([&long[..], b"\r\n"].concat(), Err(())),
            (b"SSH-2.0-partial".to_vec(), Ok(None)),
        ];
        for (input, want) in cases {
            for chunk in [1, 3, input.len()] {
                let got = run(&input, chunk);
                match (&got, &want) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b),
                    (Err(_), Err(())) => {}
                    _ => panic!(
                        "{:?} chunk {chunk}: got {got:?}",
                        String::from_utf8_lossy(&input)
                    ),
                }
            }
        }
    }

    #[test]
    fn server_accepts_no_pre_banner_lines() {
        let mut r = VersionReader::new(false);
        let mut buf = BytesMut::from(&b"hello\r\nSSH-2.0-x\r\n"[..]);
        assert_eq!(r.read(&mut buf), Err(PeerMisbehaved::NotSsh.into()));
        let mut r = VersionReader::new(false);
        let mut buf = BytesMut::from(&b"SSH-2.0-x\r\n"[..]);
        assert_eq!(r.read(&mut buf).unwrap().unwrap(), "SSH-2.0-x");
    }

    #[test]
    fn pre_banner_line_limit() {
        let mut input = b"x\r\n".repeat(1024);
        input.extend_from_slice(b"SSH-2.0-ok\r\n");
        assert_eq!(run(&input, 4096).unwrap().unwrap(), "SSH-2.0-ok");
        let mut input = b"x\r\n".repeat(1025);
        input.extend_from_slice(b"SSH-2.0-ok\r\n");
        assert_eq!(
            run(&input, 4096),
            Err(PeerMisbehaved::TooManyPreBannerLines.into())
        );
    }
}
