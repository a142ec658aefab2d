//! Client-to-server messages.

use crate::attrs::{FileAttributes, OpenFlags};
use crate::ext::ExtendedRequest;
use crate::wire::{DecodeError, EncodeError, Reader, Writer, read_pairs_to_end, write_pairs};

/// Packet type numbers (`SSH_FXP_*`).
pub mod fxp {
    /// `SSH_FXP_INIT`.
    pub const INIT: u8 = 1;
    /// `SSH_FXP_VERSION`.
    pub const VERSION: u8 = 2;
    /// `SSH_FXP_OPEN`.
    pub const OPEN: u8 = 3;
    /// `SSH_FXP_CLOSE`.
    pub const CLOSE: u8 = 4;
    /// `SSH_FXP_READ`.
    pub const READ: u8 = 5;
    /// `SSH_FXP_WRITE`.
    pub const WRITE: u8 = 6;
    /// `SSH_FXP_LSTAT`.
    pub const LSTAT: u8 = 7;
    /// `SSH_FXP_FSTAT`.
    pub const FSTAT: u8 = 8;
    /// `SSH_FXP_SETSTAT`.
    pub const SETSTAT: u8 = 9;
    /// `SSH_FXP_FSETSTAT`.
    pub const FSETSTAT: u8 = 10;
    /// `SSH_FXP_OPENDIR`.
    pub const OPENDIR: u8 = 11;
    /// `SSH_FXP_READDIR`.
    pub const READDIR: u8 = 12;
    /// `SSH_FXP_REMOVE`.
    pub const REMOVE: u8 = 13;
    /// `SSH_FXP_MKDIR`.
    pub const MKDIR: u8 = 14;
    /// `SSH_FXP_RMDIR`.
    pub const RMDIR: u8 = 15;
    /// `SSH_FXP_REALPATH`.
    pub const REALPATH: u8 = 16;
    /// `SSH_FXP_STAT`.
    pub const STAT: u8 = 17;
    /// `SSH_FXP_RENAME`.
    pub const RENAME: u8 = 18;
    /// `SSH_FXP_READLINK`.
    pub const READLINK: u8 = 19;
    /// `SSH_FXP_SYMLINK`.
    pub const SYMLINK: u8 = 20;
    /// `SSH_FXP_STATUS`.
    pub const STATUS: u8 = 101;
    /// `SSH_FXP_HANDLE`.
    pub const HANDLE: u8 = 102;
    /// `SSH_FXP_DATA`.
    pub const DATA: u8 = 103;
    /// `SSH_FXP_NAME`.
    pub const NAME: u8 = 104;
    /// `SSH_FXP_ATTRS`.
    pub const ATTRS: u8 = 105;
    /// `SSH_FXP_EXTENDED`.
    pub const EXTENDED: u8 = 200;
    /// `SSH_FXP_EXTENDED_REPLY`.
    pub const EXTENDED_REPLY: u8 = 201;
}

/// A request (client to server). Every one but `Init` carries the request `id` echoed in
/// the response. Paths, handles and data are bytes: paths need not be UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `SSH_FXP_INIT`: the client's version and extension pairs.
    Init {
        /// Protocol version (3).
        version: u32,
        /// `(name, data)` extension pairs.
        extensions: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// `SSH_FXP_OPEN`.
    Open {
        /// Request id.
        id: u32,
        /// File name.
        filename: Vec<u8>,
        /// `SSH_FXF_*` flags.
        flags: OpenFlags,
        /// Attributes for a created file.
        attrs: FileAttributes,
    },
    /// `SSH_FXP_CLOSE`.
    Close {
        /// Request id.
        id: u32,
        /// Handle to close.
        handle: Vec<u8>,
    },
    /// `SSH_FXP_READ`.
    Read {
        /// Request id.
        id: u32,
        /// Open file handle.
        handle: Vec<u8>,
        /// Offset in the file.
        offset: u64,
        /// Bytes wanted.
        len: u32,
    },
    /// `SSH_FXP_WRITE`.
    Write {
        /// Request id.
        id: u32,
        /// Open file handle.
        handle: Vec<u8>,
        /// Offset in the file.
        offset: u64,
        /// Bytes to write.
        data: Vec<u8>,
    },
    /// `SSH_FXP_LSTAT` (does not follow symbolic links).
    Lstat {
        /// Request id.
        id: u32,
        /// Path.
        path: Vec<u8>,
    },
    /// `SSH_FXP_FSTAT`.
    Fstat {
        /// Request id.
        id: u32,
        /// Open handle.
        handle: Vec<u8>,
    },
    /// `SSH_FXP_SETSTAT`.
    SetStat {
        /// Request id.
        id: u32,
        /// Path.
        path: Vec<u8>,
        /// Attributes to set.
        attrs: FileAttributes,
    },
    /// `SSH_FXP_FSETSTAT`.
    FSetStat {
        /// Request id.
        id: u32,
        /// Open handle.
        handle: Vec<u8>,
        /// Attributes to set.
        attrs: FileAttributes,
    },
    /// `SSH_FXP_OPENDIR`.
    OpenDir {
        /// Request id.
        id: u32,
        /// Directory path.
        path: Vec<u8>,
    },
    /// `SSH_FXP_READDIR`.
    ReadDir {
        /// Request id.
        id: u32,
        /// Directory handle.
        handle: Vec<u8>,
    },
    /// `SSH_FXP_REMOVE`.
    Remove {
        /// Request id.
        id: u32,
        /// File name.
        filename: Vec<u8>,
    },
    /// `SSH_FXP_MKDIR`.
    Mkdir {
        /// Request id.
        id: u32,
        /// Directory path.
        path: Vec<u8>,
        /// Attributes of the new directory.
        attrs: FileAttributes,
    },
    /// `SSH_FXP_RMDIR`.
    Rmdir {
        /// Request id.
        id: u32,
        /// Directory path.
        path: Vec<u8>,
    },
    /// `SSH_FXP_REALPATH`.
    RealPath {
        /// Request id.
        id: u32,
        /// Path to canonicalise.
        path: Vec<u8>,
    },
    /// `SSH_FXP_STAT` (follows symbolic links).
    Stat {
        /// Request id.
        id: u32,
        /// Path.
        path: Vec<u8>,
    },
    /// `SSH_FXP_RENAME`.
    Rename {
        /// Request id.
        id: u32,
        /// Current path.
        old: Vec<u8>,
        /// New path.
        new: Vec<u8>,
    },
    /// `SSH_FXP_READLINK`.
    ReadLink {
        /// Request id.
        id: u32,
        /// Symbolic link path.
        path: Vec<u8>,
    },
    /// `SSH_FXP_SYMLINK`, in OpenSSH's argument order: the target first, then the link to
    /// create (the draft says the reverse; every deployed server follows OpenSSH).
    Symlink {
        /// Request id.
        id: u32,
        /// What the link points to (first on the wire).
        target: Vec<u8>,
        /// The link to create (second on the wire).
        link: Vec<u8>,
    },
    /// `SSH_FXP_EXTENDED`.
    Extended {
        /// Request id.
        id: u32,
        /// Extension name and body.
        request: ExtendedRequest,
    },
}

impl Request {
    /// The request id (`None` for `Init`).
    pub fn id(&self) -> Option<u32> {
        match self {
            Self::Init { .. } => None,
            Self::Open { id, .. }
            | Self::Close { id, .. }
            | Self::Read { id, .. }
            | Self::Write { id, .. }
            | Self::Lstat { id, .. }
            | Self::Fstat { id, .. }
            | Self::SetStat { id, .. }
            | Self::FSetStat { id, .. }
            | Self::OpenDir { id, .. }
            | Self::ReadDir { id, .. }
            | Self::Remove { id, .. }
            | Self::Mkdir { id, .. }
            | Self::Rmdir { id, .. }
            | Self::RealPath { id, .. }
            | Self::Stat { id, .. }
            | Self::Rename { id, .. }
            | Self::ReadLink { id, .. }
            | Self::Symlink { id, .. }
            | Self::Extended { id, .. } => Some(*id),
        }
    }

    /// Replaces the request id (no effect on `Init`, which has none): a client engine
    /// assigns ids as it sends.
    pub fn set_id(&mut self, new_id: u32) {
        match self {
            Self::Init { .. } => {}
            Self::Open { id, .. }
            | Self::Close { id, .. }
            | Self::Read { id, .. }
            | Self::Write { id, .. }
            | Self::Lstat { id, .. }
            | Self::Fstat { id, .. }
            | Self::SetStat { id, .. }
            | Self::FSetStat { id, .. }
            | Self::OpenDir { id, .. }
            | Self::ReadDir { id, .. }
            | Self::Remove { id, .. }
            | Self::Mkdir { id, .. }
            | Self::Rmdir { id, .. }
            | Self::RealPath { id, .. }
            | Self::Stat { id, .. }
            | Self::Rename { id, .. }
            | Self::ReadLink { id, .. }
            | Self::Symlink { id, .. }
            | Self::Extended { id, .. } => *id = new_id,
        }
    }

    /// The payload (type byte onward), without the length prefix.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        match self {
            Self::Init {
                version,
                extensions,
            } => {
                w.u8(fxp::INIT).u32(*version);
                write_pairs(&mut w, extensions);
            }
            Self::Open {
                id,
                filename,
                flags,
                attrs,
            } => {
                w.u8(fxp::OPEN).u32(*id).string(filename).u32(flags.0);
                attrs.write(&mut w);
            }
            Self::Close { id, handle } => {
                w.u8(fxp::CLOSE).u32(*id).string(handle);
            }
            Self::Read {
                id,
                handle,
                offset,
                len,
            } => {
                w.u8(fxp::READ)
                    .u32(*id)
                    .string(handle)
                    .u64(*offset)
                    .u32(*len);
            }
            Self::Write {
                id,
                handle,
                offset,
                data,
            } => {
                w.u8(fxp::WRITE)
                    .u32(*id)
                    .string(handle)
                    .u64(*offset)
                    .string(data);
            }
            Self::Lstat { id, path } => {
                w.u8(fxp::LSTAT).u32(*id).string(path);
            }
            Self::Fstat { id, handle } => {
                w.u8(fxp::FSTAT).u32(*id).string(handle);
            }
            Self::SetStat { id, path, attrs } => {
                w.u8(fxp::SETSTAT).u32(*id).string(path);
                attrs.write(&mut w);
            }
            Self::FSetStat { id, handle, attrs } => {
                w.u8(fxp::FSETSTAT).u32(*id).string(handle);
                attrs.write(&mut w);
            }
            Self::OpenDir { id, path } => {
                w.u8(fxp::OPENDIR).u32(*id).string(path);
            }
            Self::ReadDir { id, handle } => {
                w.u8(fxp::READDIR).u32(*id).string(handle);
            }
            Self::Remove { id, filename } => {
                w.u8(fxp::REMOVE).u32(*id).string(filename);
            }
            Self::Mkdir { id, path, attrs } => {
                w.u8(fxp::MKDIR).u32(*id).string(path);
                attrs.write(&mut w);
            }
            Self::Rmdir { id, path } => {
                w.u8(fxp::RMDIR).u32(*id).string(path);
            }
            Self::RealPath { id, path } => {
                w.u8(fxp::REALPATH).u32(*id).string(path);
            }
            Self::Stat { id, path } => {
                w.u8(fxp::STAT).u32(*id).string(path);
            }
            Self::Rename { id, old, new } => {
                w.u8(fxp::RENAME).u32(*id).string(old).string(new);
            }
            Self::ReadLink { id, path } => {
                w.u8(fxp::READLINK).u32(*id).string(path);
            }
            Self::Symlink { id, target, link } => {
                w.u8(fxp::SYMLINK).u32(*id).string(target).string(link);
            }
            Self::Extended { id, request } => {
                w.u8(fxp::EXTENDED).u32(*id);
                request.write(&mut w);
            }
        }
        w.finish()
    }

    /// The packet as it goes on the wire: length prefix and payload.
    pub fn encode_framed(&self) -> Result<Vec<u8>, EncodeError> {
        crate::frame::frame(&self.encode()?)
    }

    /// Decodes a payload (type byte onward); every byte must belong to the message.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        let ty = r.u8("packet type").map_err(|_| DecodeError::Empty)?;
        if ty == fxp::INIT {
            let version = r.u32("version")?;
            let extensions = read_pairs_to_end(&mut r, "extension")?;
            return Ok(Self::Init {
                version,
                extensions,
            });
        }
        if !(fxp::OPEN..=fxp::SYMLINK).contains(&ty) && ty != fxp::EXTENDED {
            return Err(DecodeError::UnknownType(ty));
        }
        let id = r.u32("request id")?;
        let m = match ty {
            fxp::OPEN => Self::Open {
                id,
                filename: r.string("filename")?,
                flags: OpenFlags(r.u32("open flags")?),
                attrs: FileAttributes::read(&mut r)?,
            },
            fxp::CLOSE => Self::Close {
                id,
                handle: r.string("handle")?,
            },
            fxp::READ => Self::Read {
                id,
                handle: r.string("handle")?,
                offset: r.u64("offset")?,
                len: r.u32("length")?,
            },
            fxp::WRITE => Self::Write {
                id,
                handle: r.string("handle")?,
                offset: r.u64("offset")?,
                data: r.string("data")?,
            },
            fxp::LSTAT => Self::Lstat {
                id,
                path: r.string("path")?,
            },
            fxp::FSTAT => Self::Fstat {
                id,
                handle: r.string("handle")?,
            },
            fxp::SETSTAT => Self::SetStat {
                id,
                path: r.string("path")?,
                attrs: FileAttributes::read(&mut r)?,
            },
            fxp::FSETSTAT => Self::FSetStat {
                id,
                handle: r.string("handle")?,
                attrs: FileAttributes::read(&mut r)?,
            },
            fxp::OPENDIR => Self::OpenDir {
                id,
                path: r.string("path")?,
            },
            fxp::READDIR => Self::ReadDir {
                id,
                handle: r.string("handle")?,
            },
            fxp::REMOVE => Self::Remove {
                id,
                filename: r.string("filename")?,
            },
            fxp::MKDIR => Self::Mkdir {
                id,
                path: r.string("path")?,
                attrs: FileAttributes::read(&mut r)?,
            },
            fxp::RMDIR => Self::Rmdir {
                id,
                path: r.string("path")?,
            },
            fxp::REALPATH => Self::RealPath {
                id,
                path: r.string("path")?,
            },
            fxp::STAT => Self::Stat {
                id,
                path: r.string("path")?,
            },
            fxp::RENAME => Self::Rename {
                id,
                old: r.string("old path")?,
                new: r.string("new path")?,
            },
            fxp::READLINK => Self::ReadLink {
                id,
                path: r.string("path")?,
            },
            fxp::SYMLINK => Self::Symlink {
                id,
                target: r.string("target path")?,
                link: r.string("link path")?,
            },
            fxp::EXTENDED => Self::Extended {
                id,
                request: ExtendedRequest::read(&mut r)?,
            },
            other => return Err(DecodeError::UnknownType(other)),
        };
        r.finish()?;
        Ok(m)
    }
}
