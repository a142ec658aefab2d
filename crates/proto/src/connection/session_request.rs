//! Decoding the requests a client sends on a session channel (RFC 4254 §6).

use crate::error::{InvalidMessage, PeerMisbehaved};
use crate::event::SessionRequestKind;
use crate::wire::Reader;

/// Longest terminal-modes string accepted (OpenSSH's modes fit in a few hundred bytes).
const MAX_MODES: usize = 4096;

fn text(r: &mut Reader<'_>, what: &'static str) -> Result<String, InvalidMessage> {
    Ok(String::from_utf8_lossy(r.string(what)?).into_owned())
}

/// Decodes the type-specific part of a CHANNEL_REQUEST. Unknown types become `Other`.
pub fn decode(kind: &[u8], r: &mut Reader<'_>) -> Result<SessionRequestKind, crate::Error> {
    let req = match kind {
        b"exec" => SessionRequestKind::Exec(r.string("command")?.to_vec()),
        b"shell" => SessionRequestKind::Shell,
        b"subsystem" => SessionRequestKind::Subsystem(text(r, "subsystem name")?),
        b"pty-req" => {
            let term = text(r, "TERM")?;
            let (cols, rows) = (r.u32("columns")?, r.u32("rows")?);
            let (width_px, height_px) = (r.u32("width")?, r.u32("height")?);
            let modes = r.string("terminal modes")?;
            if modes.len() > MAX_MODES {
                return Err(InvalidMessage::BadValue("terminal modes too long").into());
            }
            SessionRequestKind::Pty {
                term,
                cols,
                rows,
                width_px,
                height_px,
                modes: modes.to_vec(),
            }
        }
        b"env" => SessionRequestKind::Env {
            name: text(r, "env name")?,
            value: text(r, "env value")?,
        },
        b"window-change" => SessionRequestKind::WindowChange {
            cols: r.u32("columns")?,
            rows: r.u32("rows")?,
            width_px: r.u32("width")?,
            height_px: r.u32("height")?,
        },
        b"signal" => SessionRequestKind::Signal(text(r, "signal name")?),
        b"break" => SessionRequestKind::Break(r.u32("break length")?),
        b"xon-xoff" => SessionRequestKind::XonXoff(r.bool("client can do")?),
        b"eow@openssh.com" => SessionRequestKind::EndOfWrite,
        b"x11-req" => SessionRequestKind::X11 {
            single_connection: r.bool("single connection")?,
            protocol: text(r, "x11 auth protocol")?,
            cookie: text(r, "x11 auth cookie")?,
            screen: r.u32("x11 screen")?,
        },
        b"auth-agent-req@openssh.com" => SessionRequestKind::AuthAgent,
        b"agent-req" => SessionRequestKind::AgentReq,
        b"exit-status" | b"exit-signal" => {
            return Err(
                PeerMisbehaved::UnexpectedMessage(crate::wire::msg::CHANNEL_REQUEST).into(),
            );
        }
        other => {
            let name = String::from_utf8_lossy(other).into_owned();
            // The body of an unknown request is not ours to parse.
            let _ = r.take(r.remaining(), "request body");
            return Ok(SessionRequestKind::Other(name));
        }
    };
    r.end("channel request")?;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire;

    #[test]
    fn pty_req_and_trailing_bytes() {
        let mut p = Vec::new();
        wire::put_string(&mut p, b"xterm");
        for v in [80, 24, 640, 480] {
            wire::put_u32(&mut p, v);
        }
        wire::put_string(&mut p, &[0]);
        let req = decode(b"pty-req", &mut Reader::new(&p)).unwrap();
        assert!(matches!(
            req,
            SessionRequestKind::Pty {
                cols: 80,
                rows: 24,
                ..
            }
        ));
        p.push(1);
        assert!(decode(b"pty-req", &mut Reader::new(&p)).is_err());
        assert!(decode(b"exec", &mut Reader::new(&[0, 0, 0, 9])).is_err());
        assert!(decode(b"x11-req", &mut Reader::new(&[1, 2, 3])).is_err());
        assert_eq!(
            decode(b"frobnicate", &mut Reader::new(&[1, 2, 3])).unwrap(),
            SessionRequestKind::Other("frobnicate".into())
        );
        assert_eq!(
            decode(b"break", &mut Reader::new(&[0, 0, 1, 0])).unwrap(),
            SessionRequestKind::Break(256)
        );
    }
}
