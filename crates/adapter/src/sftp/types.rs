//! What the client hands out: [`Metadata`], [`FileType`], [`OpenOptions`], [`DirEntry`].

use seashell_sftp::{FileAttributes, OpenFlags};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// The attributes of a remote file (SFTP `ATTRS`), as [`std::fs::Metadata`] presents them.
/// Fields the server did not send are `None` (or `0` for [`len`](Self::len)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    attrs: FileAttributes,
}

impl Metadata {
    /// Wraps attributes as the server sent them.
    pub fn from_attrs(attrs: FileAttributes) -> Metadata {
        Metadata { attrs }
    }

    /// The attributes as the server sent them.
    pub fn attrs(&self) -> &FileAttributes {
        &self.attrs
    }

    /// Size in bytes (0 when the server did not say).
    pub fn len(&self) -> u64 {
        self.attrs.size.unwrap_or(0)
    }

    /// Whether the size is 0 (or unknown).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The size, if the server sent it.
    pub fn size(&self) -> Option<u64> {
        self.attrs.size
    }

    /// The file type, from the mode bits.
    pub fn file_type(&self) -> FileType {
        FileType(self.attrs.permissions.unwrap_or(0) & S_IFMT)
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type().is_dir()
    }

    /// Whether it is a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type().is_file()
    }

    /// Whether it is a symbolic link (only from `symlink_metadata`/`lstat`).
    pub fn is_symlink(&self) -> bool {
        self.file_type().is_symlink()
    }

    /// The full `st_mode` (type and permission bits), if sent.
    pub fn mode(&self) -> Option<u32> {
        self.attrs.permissions
    }

    /// The permission bits (`mode & 0o7777`), if sent.
    pub fn permissions(&self) -> Option<u32> {
        self.attrs.permissions.map(|p| p & 0o7777)
    }

    /// Owner user id, if sent.
    pub fn uid(&self) -> Option<u32> {
        self.attrs.uid_gid.map(|(u, _)| u)
    }

    /// Owner group id, if sent.
    pub fn gid(&self) -> Option<u32> {
        self.attrs.uid_gid.map(|(_, g)| g)
    }

    /// Last access, if sent (SFTP v3 has whole seconds).
    pub fn accessed(&self) -> Option<SystemTime> {
        self.attrs.atime_mtime.map(|(a, _)| secs(a))
    }

    /// Last modification, if sent (SFTP v3 has whole seconds).
    pub fn modified(&self) -> Option<SystemTime> {
        self.attrs.atime_mtime.map(|(_, m)| secs(m))
    }

    /// Access and modification times in seconds since the epoch, if sent.
    pub fn times(&self) -> Option<(u32, u32)> {
        self.attrs.atime_mtime
    }
}

fn secs(s: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(s))
}

/// Seconds since the epoch as SFTP v3 carries them (clamped to `u32`).
pub fn epoch_secs(t: SystemTime) -> u32 {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    u32::try_from(s).unwrap_or(u32::MAX)
}

/// A file's type, from its mode bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileType(u32);

impl FileType {
    /// A directory.
    pub fn is_dir(self) -> bool {
        self.0 == S_IFDIR
    }

    /// A regular file.
    pub fn is_file(self) -> bool {
        self.0 == S_IFREG
    }

    /// A symbolic link.
    pub fn is_symlink(self) -> bool {
        self.0 == S_IFLNK
    }

    /// The `S_IFMT` bits (0 when the server sent no mode).
    pub fn bits(self) -> u32 {
        self.0
    }
}

/// How to open a remote file, as [`std::fs::OpenOptions`]: set the flags, then pass it to
/// `Sftp::open_with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: Option<u32>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Nothing set (opening with these fails: set read or write).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: None,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.read = on;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.write = on;
        self
    }

    /// Writes go to the end (`SSH_FXF_APPEND`; implies write).
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.append = on;
        self
    }

    /// Truncate an existing file to 0 bytes.
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.truncate = on;
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.create = on;
        self
    }

    /// Create the file, failing if it exists (`SSH_FXF_EXCL`).
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.create_new = on;
        self
    }

    /// Permission bits of a created file (the server's umask may apply).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }

    /// Whether the file is opened for reading.
    pub fn is_read(&self) -> bool {
        self.read
    }

    /// Whether the file is opened for writing (`write` or `append`).
    pub fn is_write(&self) -> bool {
        self.write || self.append
    }

    /// Whether writes go to the end.
    pub fn is_append(&self) -> bool {
        self.append
    }

    /// The `SSH_FXF_*` flags.
    pub fn flags(&self) -> OpenFlags {
        let mut f = OpenFlags(0);
        let on = |f: &mut OpenFlags, yes: bool, bit: OpenFlags| {
            if yes {
                *f = *f | bit;
            }
        };
        on(&mut f, self.read, OpenFlags::READ);
        on(&mut f, self.is_write(), OpenFlags::WRITE);
        on(&mut f, self.append, OpenFlags::APPEND);
        on(&mut f, self.create || self.create_new, OpenFlags::CREAT);
        on(&mut f, self.create_new, OpenFlags::EXCL);
        on(&mut f, self.truncate, OpenFlags::TRUNC);
        f
    }

    /// The attributes sent with OPEN (the mode of a created file).
    pub fn attrs(&self) -> FileAttributes {
        FileAttributes {
            permissions: self.mode,
            ..FileAttributes::default()
        }
    }
}

/// One entry of a remote directory: its name, its full path and its attributes (from the
/// READDIR reply: no extra round trip). `.` and `..` are not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub(crate) dir: PathBuf,
    pub(crate) name: Vec<u8>,
    pub(crate) longname: Vec<u8>,
    pub(crate) metadata: Metadata,
}

impl DirEntry {
    /// The entry's name (no directory part).
    pub fn file_name(&self) -> PathBuf {
        seashell_sftp::bytes_path(&self.name)
    }

    /// The name as bytes, as the server sent it.
    pub fn name_bytes(&self) -> &[u8] {
        &self.name
    }

    /// The directory path joined with the name.
    pub fn path(&self) -> PathBuf {
        self.dir.join(self.file_name())
    }

    /// The attributes from the listing (for a symbolic link: the link's own, like
    /// `symlink_metadata`).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The file type from the listing.
    pub fn file_type(&self) -> FileType {
        self.metadata.file_type()
    }

    /// The server's `ls -l` style line (for display only).
    pub fn longname(&self) -> String {
        seashell_sftp::lossy(&self.longname)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags() {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .flags();
        assert_eq!(f, OpenFlags::WRITE | OpenFlags::CREAT | OpenFlags::TRUNC);
        let f = OpenOptions::new().append(true).create_new(true).flags();
        assert_eq!(
            f,
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREAT | OpenFlags::EXCL
        );
        assert_eq!(OpenOptions::new().read(true).flags(), OpenFlags::READ);
    }

    #[test]
    fn metadata_types() {
        let m = Metadata::from_attrs(FileAttributes {
            permissions: Some(0o100_644),
            size: Some(5),
            atime_mtime: Some((1, 2)),
            ..Default::default()
        });
        assert!(m.is_file() && !m.is_dir() && !m.is_symlink());
        assert_eq!(m.permissions(), Some(0o644));
        assert_eq!(m.modified(), Some(UNIX_EPOCH + Duration::from_secs(2)));
        assert_eq!(epoch_secs(UNIX_EPOCH + Duration::from_secs(9)), 9);
    }
}
