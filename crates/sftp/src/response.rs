//! Server-to-client messages.

use crate::attrs::FileAttributes;
use crate::request::fxp;
use crate::status::StatusCode;
use crate::wire::{DecodeError, EncodeError, Reader, Writer, read_pairs_to_end, write_pairs};

/// One entry of `SSH_FXP_NAME`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameEntry {
    /// File name (a bare name for READDIR, a full path for REALPATH).
    pub filename: Vec<u8>,
    /// The `ls -l` style line (servers format it; clients should only display it).
    pub longname: Vec<u8>,
    /// Attributes (often empty for REALPATH).
    pub attrs: FileAttributes,
}

/// A response (server to client). Every one but `Version` echoes the request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `SSH_FXP_VERSION`: the server's version and extension pairs.
    Version {
        /// Protocol version (3).
        version: u32,
        /// `(name, data)` extension pairs, e.g. `("posix-rename@openssh.com", "1")`.
        extensions: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// `SSH_FXP_STATUS`.
    Status {
        /// Request id.
        id: u32,
        /// Status code.
        code: StatusCode,
        /// Human-readable message (UTF-8 by the draft; treat as bytes).
        message: Vec<u8>,
        /// Language tag of the message.
        language: Vec<u8>,
    },
    /// `SSH_FXP_HANDLE`.
    Handle {
        /// Request id.
        id: u32,
        /// Opaque handle.
        handle: Vec<u8>,
    },
    /// `SSH_FXP_DATA`.
    Data {
        /// Request id.
        id: u32,
        /// Bytes read.
        data: Vec<u8>,
    },
    /// `SSH_FXP_NAME`.
    Name {
        /// Request id.
        id: u32,
        /// Entries.
        entries: Vec<NameEntry>,
    },
    /// `SSH_FXP_ATTRS`.
    Attrs {
        /// Request id.
        id: u32,
        /// Attributes.
        attrs: FileAttributes,
    },
    /// `SSH_FXP_EXTENDED_REPLY`: the data is extension-specific (see
    /// [`StatVfs`](crate::StatVfs), [`Limits`](crate::Limits),
    /// [`UsersGroups`](crate::UsersGroups)).
    ExtendedReply {
        /// Request id.
        id: u32,
        /// Reply body.
        data: Vec<u8>,
    },
}

impl Response {
    /// A STATUS with OpenSSH's message for `code` and language tag `""`.
    pub fn status(id: u32, code: StatusCode) -> Self {
        Self::Status {
            id,
            code,
            message: code.message().as_bytes().to_vec(),
            language: Vec::new(),
        }
    }

    /// The request id (`None` for `Version`).
    pub fn id(&self) -> Option<u32> {
        match self {
            Self::Version { .. } => None,
            Self::Status { id, .. }
            | Self::Handle { id, .. }
            | Self::Data { id, .. }
            | Self::Name { id, .. }
            | Self::Attrs { id, .. }
            | Self::ExtendedReply { id, .. } => Some(*id),
        }
    }

    /// The payload (type byte onward), without the length prefix.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        match self {
            Self::Version {
                version,
                extensions,
            } => {
                w.u8(fxp::VERSION).u32(*version);
                write_pairs(&mut w, extensions);
            }
            Self::Status {
                id,
                code,
                message,
                language,
            } => {
                w.u8(fxp::STATUS)
                    .u32(*id)
                    .u32(code.to_u32())
                    .string(message)
                    .string(language);
            }
            Self::Handle { id, handle } => {
                w.u8(fxp::HANDLE).u32(*id).string(handle);
            }
            Self::Data { id, data } => {
                w.u8(fxp::DATA).u32(*id).string(data);
            }
            Self::Name { id, entries } => {
                w.u8(fxp::NAME).u32(*id).len32(entries.len());
                for e in entries {
                    w.string(&e.filename).string(&e.longname);
                    e.attrs.write(&mut w);
                }
            }
            Self::Attrs { id, attrs } => {
                w.u8(fxp::ATTRS).u32(*id);
                attrs.write(&mut w);
            }
            Self::ExtendedReply { id, data } => {
                w.u8(fxp::EXTENDED_REPLY).u32(*id).raw(data);
            }
        }
        w.finish()
    }

    /// The packet as it goes on the wire: length prefix and payload.
    pub fn encode_framed(&self) -> Result<Vec<u8>, EncodeError> {
        crate::frame::frame(&self.encode()?)
    }

    /// [`decode`](Self::decode) taking the payload by value: a DATA keeps the payload's
    /// buffer for its bytes (no second allocation or copy of up to 256 KiB per reply).
    pub fn decode_owned(mut payload: Vec<u8>) -> Result<Self, DecodeError> {
        const DATA_HEADER: usize = 9; // type, id, length
        if payload.first() != Some(&fxp::DATA) || payload.len() < DATA_HEADER {
            return Self::decode(&payload);
        }
        let mut r = Reader::new(&payload);
        let _ = r.u8("packet type")?;
        let id = r.u32("request id")?;
        let len = r.u32("data length")?;
        if usize::try_from(len).ok() != Some(r.remaining()) {
            return Self::decode(&payload);
        }
        payload.drain(..DATA_HEADER);
        Ok(Self::Data { id, data: payload })
    }

    /// Decodes a payload (type byte onward); every byte must belong to the message.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        let ty = r.u8("packet type").map_err(|_| DecodeError::Empty)?;
        if ty == fxp::VERSION {
            let version = r.u32("version")?;
            let extensions = read_pairs_to_end(&mut r, "extension")?;
            return Ok(Self::Version {
                version,
                extensions,
            });
        }
        if !(fxp::STATUS..=fxp::ATTRS).contains(&ty) && ty != fxp::EXTENDED_REPLY {
            return Err(DecodeError::UnknownType(ty));
        }
        let id = r.u32("request id")?;
        let m = match ty {
            fxp::STATUS => Self::Status {
                id,
                code: StatusCode::from_u32(r.u32("status code")?),
                message: r.string("status message")?,
                language: r.string("language tag")?,
            },
            fxp::HANDLE => Self::Handle {
                id,
                handle: r.string("handle")?,
            },
            fxp::DATA => Self::Data {
                id,
                data: r.string("data")?,
            },
            fxp::NAME => {
                // Each entry takes at least two empty strings and a flags word.
                let count = r.count("name entries", 12)?;
                let mut entries = Vec::new();
                for _ in 0..count {
                    entries.push(NameEntry {
                        filename: r.string("filename")?,
                        longname: r.string("longname")?,
                        attrs: FileAttributes::read(&mut r)?,
                    });
                }
                Self::Name { id, entries }
            }
            fxp::ATTRS => Self::Attrs {
                id,
                attrs: FileAttributes::read(&mut r)?,
            },
            _ => Self::ExtendedReply {
                id,
                data: r.rest().to_vec(),
            },
        };
        r.finish()?;
        Ok(m)
    }
}
