//! OpenSSH's named extensions (its `PROTOCOL` file, section 4): request bodies of
//! `SSH_FXP_EXTENDED` and the replies that are not plain STATUS, HANDLE or NAME.

use crate::attrs::FileAttributes;
use crate::wire::{DecodeError, Reader, Writer};

/// `posix-rename@openssh.com`.
pub const POSIX_RENAME: &str = "posix-rename@openssh.com";
/// `statvfs@openssh.com`.
pub const STATVFS: &str = "statvfs@openssh.com";
/// `fstatvfs@openssh.com`.
pub const FSTATVFS: &str = "fstatvfs@openssh.com";
/// `hardlink@openssh.com`.
pub const HARDLINK: &str = "hardlink@openssh.com";
/// `fsync@openssh.com`.
pub const FSYNC: &str = "fsync@openssh.com";
/// `lsetstat@openssh.com`.
pub const LSETSTAT: &str = "lsetstat@openssh.com";
/// `limits@openssh.com`.
pub const LIMITS: &str = "limits@openssh.com";
/// `expand-path@openssh.com`.
pub const EXPAND_PATH: &str = "expand-path@openssh.com";
/// `copy-data`.
pub const COPY_DATA: &str = "copy-data";
/// `home-directory`.
pub const HOME_DIRECTORY: &str = "home-directory";
/// `users-groups-by-id@openssh.com`.
pub const USERS_GROUPS_BY_ID: &str = "users-groups-by-id@openssh.com";

/// The body of an `SSH_FXP_EXTENDED` request, by extension name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtendedRequest {
    /// `posix-rename@openssh.com`: rename with POSIX semantics (replaces `new`).
    PosixRename {
        /// Current path.
        old: Vec<u8>,
        /// New path.
        new: Vec<u8>,
    },
    /// `statvfs@openssh.com`: file system statistics of a path; replied with [`StatVfs`].
    StatVfs {
        /// Path on the file system.
        path: Vec<u8>,
    },
    /// `fstatvfs@openssh.com`: the same for an open handle.
    FStatVfs {
        /// Open handle.
        handle: Vec<u8>,
    },
    /// `hardlink@openssh.com`: a hard link `new` to `old`.
    Hardlink {
        /// Existing path.
        old: Vec<u8>,
        /// Link to create.
        new: Vec<u8>,
    },
    /// `fsync@openssh.com`: flush an open file.
    Fsync {
        /// Open handle.
        handle: Vec<u8>,
    },
    /// `lsetstat@openssh.com`: SETSTAT without following symbolic links.
    LSetStat {
        /// Path.
        path: Vec<u8>,
        /// Attributes to set.
        attrs: FileAttributes,
    },
    /// `limits@openssh.com`: the server's limits; replied with [`Limits`].
    Limits,
    /// `expand-path@openssh.com`: REALPATH that also expands `~`; replied with NAME.
    ExpandPath {
        /// Path, possibly starting with `~` or `~user`.
        path: Vec<u8>,
    },
    /// `copy-data`: server-side copy between two open handles.
    CopyData {
        /// Handle to read from.
        read_handle: Vec<u8>,
        /// Offset to read from.
        read_offset: u64,
        /// Bytes to copy; 0 means until end of file.
        length: u64,
        /// Handle to write to.
        write_handle: Vec<u8>,
        /// Offset to write at.
        write_offset: u64,
    },
    /// `home-directory`: a user's home directory; replied with NAME.
    HomeDirectory {
        /// User name.
        username: Vec<u8>,
    },
    /// `users-groups-by-id@openssh.com`: names for ids; replied with [`UsersGroups`].
    UsersGroupsById {
        /// User ids to look up.
        uids: Vec<u32>,
        /// Group ids to look up.
        gids: Vec<u32>,
    },
    /// Any other extension, its body kept as bytes.
    Unknown {
        /// Extension name.
        name: Vec<u8>,
        /// Request body after the name.
        data: Vec<u8>,
    },
}

fn read_ids(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<u32>, DecodeError> {
    let b = r.bytes(what)?;
    if b.len() % 4 != 0 {
        return Err(DecodeError::Invalid { what });
    }
    let mut inner = Reader::new(b);
    let mut out = Vec::with_capacity(b.len() / 4);
    while inner.remaining() > 0 {
        out.push(inner.u32(what)?);
    }
    Ok(out)
}

fn write_ids(w: &mut Writer, ids: &[u32]) {
    w.len32(ids.len().saturating_mul(4));
    for id in ids {
        w.u32(*id);
    }
}

impl ExtendedRequest {
    /// The extension name sent before the body.
    pub fn name(&self) -> &[u8] {
        match self {
            Self::PosixRename { .. } => POSIX_RENAME.as_bytes(),
            Self::StatVfs { .. } => STATVFS.as_bytes(),
            Self::FStatVfs { .. } => FSTATVFS.as_bytes(),
            Self::Hardlink { .. } => HARDLINK.as_bytes(),
            Self::Fsync { .. } => FSYNC.as_bytes(),
            Self::LSetStat { .. } => LSETSTAT.as_bytes(),
            Self::Limits => LIMITS.as_bytes(),
            Self::ExpandPath { .. } => EXPAND_PATH.as_bytes(),
            Self::CopyData { .. } => COPY_DATA.as_bytes(),
            Self::HomeDirectory { .. } => HOME_DIRECTORY.as_bytes(),
            Self::UsersGroupsById { .. } => USERS_GROUPS_BY_ID.as_bytes(),
            Self::Unknown { name, .. } => name,
        }
    }

    /// Writes the name and the body.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.string(self.name());
        match self {
            Self::PosixRename { old, new } | Self::Hardlink { old, new } => {
                w.string(old).string(new);
            }
            Self::StatVfs { path } | Self::ExpandPath { path } => {
                w.string(path);
            }
            Self::FStatVfs { handle } | Self::Fsync { handle } => {
                w.string(handle);
            }
            Self::LSetStat { path, attrs } => {
                w.string(path);
                attrs.write(w);
            }
            Self::Limits => {}
            Self::CopyData {
                read_handle,
                read_offset,
                length,
                write_handle,
                write_offset,
            } => {
                w.string(read_handle)
                    .u64(*read_offset)
                    .u64(*length)
                    .string(write_handle)
                    .u64(*write_offset);
            }
            Self::HomeDirectory { username } => {
                w.string(username);
            }
            Self::UsersGroupsById { uids, gids } => {
                write_ids(w, uids);
                write_ids(w, gids);
            }
            Self::Unknown { data, .. } => {
                w.raw(data);
            }
        }
    }

    /// Reads the name and the body (the reader must then be finished by the caller).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = r.bytes("extension name")?;
        let s = |r: &mut Reader<'_>, what| r.string(what);
        Ok(match name {
            n if n == POSIX_RENAME.as_bytes() => Self::PosixRename {
                old: s(r, "old path")?,
                new: s(r, "new path")?,
            },
            n if n == HARDLINK.as_bytes() => Self::Hardlink {
                old: s(r, "old path")?,
                new: s(r, "new path")?,
            },
            n if n == STATVFS.as_bytes() => Self::StatVfs {
                path: s(r, "path")?,
            },
            n if n == EXPAND_PATH.as_bytes() => Self::ExpandPath {
                path: s(r, "path")?,
            },
            n if n == FSTATVFS.as_bytes() => Self::FStatVfs {
                handle: s(r, "handle")?,
            },
            n if n == FSYNC.as_bytes() => Self::Fsync {
                handle: s(r, "handle")?,
            },
            n if n == LSETSTAT.as_bytes() => Self::LSetStat {
                path: s(r, "path")?,
                attrs: FileAttributes::read(r)?,
            },
            n if n == LIMITS.as_bytes() => Self::Limits,
            n if n == COPY_DATA.as_bytes() => Self::CopyData {
                read_handle: s(r, "read handle")?,
                read_offset: r.u64("read offset")?,
                length: r.u64("length")?,
                write_handle: s(r, "write handle")?,
                write_offset: r.u64("write offset")?,
            },
            n if n == HOME_DIRECTORY.as_bytes() => Self::HomeDirectory {
                username: s(r, "username")?,
            },
            n if n == USERS_GROUPS_BY_ID.as_bytes() => Self::UsersGroupsById {
                uids: read_ids(r, "uids")?,
                gids: read_ids(r, "gids")?,
            },
            n => Self::Unknown {
                name: n.to_vec(),
                data: r.rest().to_vec(),
            },
        })
    }
}

/// The reply to `statvfs@openssh.com` and `fstatvfs@openssh.com` (`struct statvfs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatVfs {
    /// File system block size.
    pub bsize: u64,
    /// Fundamental block size.
    pub frsize: u64,
    /// Blocks, in `frsize` units.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Free inodes for unprivileged users.
    pub favail: u64,
    /// File system id.
    pub fsid: u64,
    /// Mount flags (`SSH_FXE_STATVFS_ST_RDONLY` 1, `SSH_FXE_STATVFS_ST_NOSUID` 2).
    pub flag: u64,
    /// Longest file name.
    pub namemax: u64,
}

impl StatVfs {
    /// Decodes the data of an EXTENDED_REPLY.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let mut f = [0u64; 11];
        for v in &mut f {
            *v = r.u64("statvfs")?;
        }
        r.finish()?;
        let [
            bsize,
            frsize,
            blocks,
            bfree,
            bavail,
            files,
            ffree,
            favail,
            fsid,
            flag,
            namemax,
        ] = f;
        Ok(Self {
            bsize,
            frsize,
            blocks,
            bfree,
            bavail,
            files,
            ffree,
            favail,
            fsid,
            flag,
            namemax,
        })
    }

    /// Encodes as the data of an EXTENDED_REPLY.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        for v in [
            self.bsize,
            self.frsize,
            self.blocks,
            self.bfree,
            self.bavail,
            self.files,
            self.ffree,
            self.favail,
            self.fsid,
            self.flag,
            self.namemax,
        ] {
            w.u64(v);
        }
        w.finish().unwrap_or_default()
    }
}

/// The reply to `limits@openssh.com`; 0 means no limit (or unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Largest packet the server accepts.
    pub max_packet_length: u64,
    /// Largest READ length served in full.
    pub max_read_length: u64,
    /// Largest WRITE length accepted.
    pub max_write_length: u64,
    /// Most handles open at once.
    pub max_open_handles: u64,
}

impl Limits {
    /// Decodes the data of an EXTENDED_REPLY.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let l = Self {
            max_packet_length: r.u64("max packet length")?,
            max_read_length: r.u64("max read length")?,
            max_write_length: r.u64("max write length")?,
            max_open_handles: r.u64("max open handles")?,
        };
        r.finish()?;
        Ok(l)
    }

    /// Encodes as the data of an EXTENDED_REPLY.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(self.max_packet_length)
            .u64(self.max_read_length)
            .u64(self.max_write_length)
            .u64(self.max_open_handles);
        w.finish().unwrap_or_default()
    }
}

/// The reply to `users-groups-by-id@openssh.com`: one name per id asked, empty when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersGroups {
    /// User names, in the order of the uids asked.
    pub users: Vec<Vec<u8>>,
    /// Group names, in the order of the gids asked.
    pub groups: Vec<Vec<u8>>,
}

fn read_names(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Vec<u8>>, DecodeError> {
    let mut inner = Reader::new(r.bytes(what)?);
    let mut out = Vec::new();
    while inner.remaining() > 0 {
        out.push(inner.string(what)?);
    }
    Ok(out)
}

fn write_names(w: &mut Writer, names: &[Vec<u8>]) {
    let mut inner = Writer::new();
    for n in names {
        inner.string(n);
    }
    match inner.finish() {
        Ok(b) => {
            w.string(&b);
        }
        Err(_) => {
            w.len32(usize::MAX);
        }
    }
}

impl UsersGroups {
    /// Decodes the data of an EXTENDED_REPLY.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(data);
        let u = Self {
            users: read_names(&mut r, "user names")?,
            groups: read_names(&mut r, "group names")?,
        };
        r.finish()?;
        Ok(u)
    }

    /// Encodes as the data of an EXTENDED_REPLY.
    pub fn encode(&self) -> Result<Vec<u8>, crate::EncodeError> {
        let mut w = Writer::new();
        write_names(&mut w, &self.users);
        write_names(&mut w, &self.groups);
        w.finish()
    }
}
