//! `ATTRS`: file attributes, and the open flags of `SSH_FXP_OPEN`.

use crate::wire::{DecodeError, Reader, Writer, read_pairs};

/// `SSH_FILEXFER_ATTR_SIZE`.
pub const ATTR_SIZE: u32 = 0x0000_0001;
/// `SSH_FILEXFER_ATTR_UIDGID`.
pub const ATTR_UIDGID: u32 = 0x0000_0002;
/// `SSH_FILEXFER_ATTR_PERMISSIONS`.
pub const ATTR_PERMISSIONS: u32 = 0x0000_0004;
/// `SSH_FILEXFER_ATTR_ACMODTIME`.
pub const ATTR_ACMODTIME: u32 = 0x0000_0008;
/// `SSH_FILEXFER_ATTR_EXTENDED`.
pub const ATTR_EXTENDED: u32 = 0x8000_0000;
const KNOWN: u32 = ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME | ATTR_EXTENDED;

/// File attributes: each field is present on the wire only when set (the flags word is
/// derived from which fields are `Some`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileAttributes {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Owner and group ids, sent together.
    pub uid_gid: Option<(u32, u32)>,
    /// `st_mode`: permission bits and file type.
    pub permissions: Option<u32>,
    /// Access and modification times (seconds since the epoch), sent together.
    pub atime_mtime: Option<(u32, u32)>,
    /// Extended `(type, data)` pairs; `None` when the EXTENDED flag is clear.
    pub extended: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl FileAttributes {
    /// The flags word for the fields present.
    pub fn flags(&self) -> u32 {
        let mut f = 0;
        if self.size.is_some() {
            f |= ATTR_SIZE;
        }
        if self.uid_gid.is_some() {
            f |= ATTR_UIDGID;
        }
        if self.permissions.is_some() {
            f |= ATTR_PERMISSIONS;
        }
        if self.atime_mtime.is_some() {
            f |= ATTR_ACMODTIME;
        }
        if self.extended.is_some() {
            f |= ATTR_EXTENDED;
        }
        f
    }

    /// Whether the permissions say directory (`S_IFDIR`).
    pub fn is_dir(&self) -> bool {
        self.permissions.is_some_and(|p| p & 0o170_000 == 0o040_000)
    }

    /// Whether the permissions say regular file (`S_IFREG`).
    pub fn is_regular(&self) -> bool {
        self.permissions.is_some_and(|p| p & 0o170_000 == 0o100_000)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.flags());
        if let Some(s) = self.size {
            w.u64(s);
        }
        if let Some((u, g)) = self.uid_gid {
            w.u32(u).u32(g);
        }
        if let Some(p) = self.permissions {
            w.u32(p);
        }
        if let Some((a, m)) = self.atime_mtime {
            w.u32(a).u32(m);
        }
        if let Some(ext) = &self.extended {
            w.len32(ext.len());
            crate::wire::write_pairs(w, ext);
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = r.u32("attribute flags")?;
        if flags & !KNOWN != 0 {
            return Err(DecodeError::UnknownAttrFlags(flags));
        }
        let mut a = Self::default();
        if flags & ATTR_SIZE != 0 {
            a.size = Some(r.u64("attribute size")?);
        }
        if flags & ATTR_UIDGID != 0 {
            a.uid_gid = Some((r.u32("attribute uid")?, r.u32("attribute gid")?));
        }
        if flags & ATTR_PERMISSIONS != 0 {
            a.permissions = Some(r.u32("attribute permissions")?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            a.atime_mtime = Some((r.u32("attribute atime")?, r.u32("attribute mtime")?));
        }
        if flags & ATTR_EXTENDED != 0 {
            let n = r.count("attribute extended", 8)?;
            a.extended = Some(read_pairs(r, "attribute extended", n)?);
        }
        Ok(a)
    }
}

/// The `pflags` of `SSH_FXP_OPEN` (`SSH_FXF_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// `SSH_FXF_READ`.
    pub const READ: Self = Self(0x01);
    /// `SSH_FXF_WRITE`.
    pub const WRITE: Self = Self(0x02);
    /// `SSH_FXF_APPEND`.
    pub const APPEND: Self = Self(0x04);
    /// `SSH_FXF_CREAT`.
    pub const CREAT: Self = Self(0x08);
    /// `SSH_FXF_TRUNC`.
    pub const TRUNC: Self = Self(0x10);
    /// `SSH_FXF_EXCL`.
    pub const EXCL: Self = Self(0x20);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for OpenFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}
