//! [`LocalFs`]: the local filesystem, confined to a root directory that the client sees as
//! `/`. Every path is resolved beneath the root by [`resolve`] (never by string checks) and
//! the final operation uses the `*at` system calls on the resolved parent directory.

mod names;
mod resolve;

use std::fs::{File, FileTimes, Permissions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

#[cfg(any(target_os = "linux", target_os = "android"))]
use rustix::fs::renameat_with;
use rustix::fs::{
    AtFlags, Dir, FileType, Gid, Mode, OFlags, Stat, Timespec, Timestamps, Uid, chownat, fstatvfs,
    linkat, mkdirat, openat, readlinkat, renameat, statat, symlinkat, unlinkat, utimensat,
};
use rustix::io::Errno;

use self::names::NameCache;
use self::resolve::{Resolved, components, errno, open_path, resolve};
use super::fs::{DirEntry, Filesystem, FsError, FsResult};
use crate::{FileAttributes, OpenFlags, StatVfs};

pub use self::resolve::{MAX_DEPTH, MAX_SYMLINKS};

/// The local filesystem confined to a root directory (see the module documentation).
#[derive(Debug)]
pub struct LocalFs {
    root: OwnedFd,
    start: Vec<Vec<u8>>,
    read_only: bool,
    names: NameCache,
}

/// An open file of [`LocalFs`].
#[derive(Debug)]
pub struct LocalFile {
    file: File,
}

/// An open directory of [`LocalFs`].
#[derive(Debug)]
pub struct LocalDir {
    dir: Dir,
    is_root: bool,
}

fn attrs_of(mode: u32, uid: u32, gid: u32, size: u64, atime: i64, mtime: i64) -> FileAttributes {
    let t = |s: i64| u32::try_from(s.max(0)).unwrap_or(u32::MAX);
    FileAttributes {
        size: Some(size),
        uid_gid: Some((uid, gid)),
        permissions: Some(mode),
        atime_mtime: Some((t(atime), t(mtime))),
        extended: None,
    }
}

#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn stat_attrs(st: &Stat) -> (FileAttributes, u64) {
    let a = attrs_of(
        st.st_mode as u32,
        st.st_uid as u32,
        st.st_gid as u32,
        u64::try_from(st.st_size).unwrap_or(0),
        st.st_atime as i64,
        st.st_mtime as i64,
    );
    (a, st.st_nlink as u64)
}

#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn statvfs_of(v: &rustix::fs::StatVfs) -> StatVfs {
    StatVfs {
        bsize: v.f_bsize as u64,
        frsize: v.f_frsize as u64,
        blocks: v.f_blocks as u64,
        bfree: v.f_bfree as u64,
        bavail: v.f_bavail as u64,
        files: v.f_files as u64,
        ffree: v.f_ffree as u64,
        favail: v.f_favail as u64,
        fsid: v.f_fsid as u64,
        // SSH_FXE_STATVFS_ST_RDONLY and SSH_FXE_STATVFS_ST_NOSUID are ST_RDONLY and ST_NOSUID.
        flag: v.f_flag.bits() & 0x3,
        namemax: v.f_namemax as u64,
    }
}

#[allow(clippy::useless_conversion, reason = "RawMode is u16 on some systems")]
fn mode_bits(attrs: &FileAttributes, default: u32) -> Mode {
    let bits = attrs.permissions.map_or(default, |p| p & 0o7777);
    Mode::from_raw_mode(rustix::fs::RawMode::try_from(bits).unwrap_or(0o600))
}

impl LocalFs {
    /// Serves `root` (which must be a directory) as `/`; the start and home directory is `/`.
    pub fn confined(root: impl AsRef<Path>) -> io::Result<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = rustix::fs::open(root.as_ref(), flags, Mode::empty())?;
        Ok(Self {
            root,
            start: Vec::new(),
            read_only: false,
            names: NameCache::default(),
        })
    }

    /// Refuses every change to the filesystem (on top of the engine's own read-only mode).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Sets the start (and home) directory: relative paths start there and `~` expands to
    /// it. `dir` is a client path (resolved beneath the root) and must be a directory.
    pub fn start_dir(mut self, dir: impl AsRef<[u8]>) -> io::Result<Self> {
        let r = resolve(&self.root, &self.start, dir.as_ref(), true).map_err(to_io)?;
        let st = statat(
            r.dir(&self.root),
            r.name.as_slice(),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
            return Err(io::Error::from(io::ErrorKind::NotADirectory));
        }
        self.start = components(&r.client_path()).map(<[u8]>::to_vec).collect();
        Ok(self)
    }

    /// The root directory descriptor.
    pub fn root_fd(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    fn resolve(&self, path: &[u8], follow_last: bool) -> FsResult<Resolved> {
        resolve(&self.root, &self.start, path, follow_last)
    }

    fn writable(&self) -> FsResult<()> {
        if self.read_only {
            Err(FsError::PermissionDenied)
        } else {
            Ok(())
        }
    }

    fn stat_resolved(&self, r: &Resolved) -> FsResult<FileAttributes> {
        let st = statat(
            r.dir(&self.root),
            r.name.as_slice(),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(errno)?;
        Ok(stat_attrs(&st).0)
    }

    /// SETSTAT on a resolved target, never following a link in the last place.
    fn setstat_resolved(&self, r: &Resolved, attrs: &FileAttributes) -> FsResult<()> {
        let dir = r.dir(&self.root);
        let name = r.name.as_slice();
        let nofollow = OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
        if let Some(size) = attrs.size {
            let fd = openat(dir, name, OFlags::WRONLY | nofollow, Mode::empty()).map_err(errno)?;
            File::from(fd).set_len(size)?;
        }
        if let Some(p) = attrs.permissions {
            // fchmodat cannot refuse to follow a link, so the mode is set on a descriptor
            // opened without following (for reading, else for writing).
            let fd = openat(dir, name, OFlags::RDONLY | nofollow, Mode::empty())
                .or_else(|_| openat(dir, name, OFlags::WRONLY | nofollow, Mode::empty()))
                .map_err(errno)?;
            File::from(fd).set_permissions(Permissions::from_mode(p & 0o7777))?;
        }
        if let Some((a, m)) = attrs.atime_mtime {
            let ts = |s: u32| Timespec {
                tv_sec: i64::from(s),
                tv_nsec: 0,
            };
            let times = Timestamps {
                last_access: ts(a),
                last_modification: ts(m),
            };
            utimensat(dir, name, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(errno)?;
        }
        if let Some((u, g)) = attrs.uid_gid {
            chownat(
                dir,
                name,
                Some(Uid::from_raw(u)),
                Some(Gid::from_raw(g)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(errno)?;
        }
        Ok(())
    }

    fn named(&self, path: &[u8]) -> FsResult<Resolved> {
        let r = self.resolve(path, false)?;
        if r.is_self() {
            // The path names a directory by itself (`/`, `x/..`): nothing to unlink or create.
            return Err(FsError::Failure);
        }
        Ok(r)
    }
}

fn to_io(e: FsError) -> io::Error {
    io::Error::from(match e {
        FsError::NotFound => io::ErrorKind::NotFound,
        FsError::PermissionDenied => io::ErrorKind::PermissionDenied,
        FsError::Unsupported => io::ErrorKind::Unsupported,
        FsError::Eof => io::ErrorKind::UnexpectedEof,
        FsError::Failure => io::ErrorKind::Other,
    })
}

fn file_attrs(f: &File) -> FsResult<FileAttributes> {
    let m = f.metadata()?;
    Ok(attrs_of(
        m.mode(),
        m.uid(),
        m.gid(),
        m.size(),
        m.atime(),
        m.mtime(),
    ))
}

impl Filesystem for LocalFs {
    type File = LocalFile;
    type Dir = LocalDir;

    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> FsResult<LocalFile> {
        let write = flags.contains(OpenFlags::WRITE);
        let mut o = match (flags.contains(OpenFlags::READ), write) {
            (_, false) => OFlags::RDONLY,
            (false, true) => OFlags::WRONLY,
            (true, true) => OFlags::RDWR,
        };
        for (f, of) in [
            (OpenFlags::APPEND, OFlags::APPEND),
            (OpenFlags::CREAT, OFlags::CREATE),
            (OpenFlags::TRUNC, OFlags::TRUNC),
            (OpenFlags::EXCL, OFlags::EXCL),
        ] {
            if flags.contains(f) {
                o |= of;
            }
        }
        if write || o.intersects(OFlags::CREATE | OFlags::TRUNC | OFlags::APPEND) {
            self.writable()?;
        }
        let r = self.resolve(path, true)?;
        let o = o | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
        let fd = openat(
            r.dir(&self.root),
            r.name.as_slice(),
            o,
            mode_bits(attrs, 0o666),
        )
        .map_err(errno)?;
        Ok(LocalFile {
            file: File::from(fd),
        })
    }

    fn read(&mut self, file: &mut LocalFile, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        Ok(file.file.read_at(buf, offset)?)
    }

    fn write(&mut self, file: &mut LocalFile, offset: u64, data: &[u8]) -> FsResult<()> {
        self.writable()?;
        Ok(file.file.write_all_at(data, offset)?)
    }

    fn fstat(&mut self, file: &mut LocalFile) -> FsResult<FileAttributes> {
        file_attrs(&file.file)
    }

    fn fsetstat(&mut self, file: &mut LocalFile, attrs: &FileAttributes) -> FsResult<()> {
        self.writable()?;
        let f = &file.file;
        if let Some(size) = attrs.size {
            f.set_len(size)?;
        }
        if let Some(p) = attrs.permissions {
            f.set_permissions(Permissions::from_mode(p & 0o7777))?;
        }
        if let Some((a, m)) = attrs.atime_mtime {
            let t = |s: u32| UNIX_EPOCH + Duration::from_secs(u64::from(s));
            f.set_times(FileTimes::new().set_accessed(t(a)).set_modified(t(m)))?;
        }
        if let Some((u, g)) = attrs.uid_gid {
            std::os::unix::fs::fchown(f, Some(u), Some(g))?;
        }
        Ok(())
    }

    fn fsync(&mut self, file: &mut LocalFile) -> FsResult<()> {
        Ok(file.file.sync_all()?)
    }

    fn fstatvfs(&mut self, file: &mut LocalFile) -> FsResult<StatVfs> {
        Ok(statvfs_of(&fstatvfs(&file.file).map_err(errno)?))
    }

    fn opendir(&mut self, path: &[u8]) -> FsResult<LocalDir> {
        let r = self.resolve(path, true)?;
        let o = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = openat(r.dir(&self.root), r.name.as_slice(), o, Mode::empty()).map_err(errno)?;
        Ok(LocalDir {
            dir: Dir::new(fd).map_err(errno)?,
            is_root: r.is_root(),
        })
    }

    fn readdir(&mut self, dir: &mut LocalDir, max: usize) -> FsResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some(entry) = dir.dir.read() else { break };
            let entry = entry.map_err(errno)?;
            let name = entry.file_name().to_bytes().to_vec();
            // `..` of the root is outside: show the root's own attributes instead.
            let look: &[u8] = if dir.is_root && name == b".." {
                b"."
            } else {
                &name
            };
            let Ok(fd) = dir.dir.fd() else { break };
            match statat(fd, look, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => {
                    let (attrs, nlink) = stat_attrs(&st);
                    out.push(DirEntry { name, attrs, nlink });
                }
                // Gone since it was listed: skip it, as sftp-server does.
                Err(_) => continue,
            }
        }
        Ok(out)
    }

    fn stat(&mut self, path: &[u8]) -> FsResult<FileAttributes> {
        let r = self.resolve(path, true)?;
        self.stat_resolved(&r)
    }

    fn lstat(&mut self, path: &[u8]) -> FsResult<FileAttributes> {
        let r = self.resolve(path, false)?;
        self.stat_resolved(&r)
    }

    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        self.writable()?;
        let r = self.resolve(path, true)?;
        self.setstat_resolved(&r, attrs)
    }

    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        self.writable()?;
        let r = self.resolve(path, false)?;
        self.setstat_resolved(&r, attrs)
    }

    fn remove(&mut self, path: &[u8]) -> FsResult<()> {
        self.writable()?;
        let r = self.named(path)?;
        unlinkat(r.dir(&self.root), r.name.as_slice(), AtFlags::empty()).map_err(errno)
    }

    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        self.writable()?;
        let r = self.named(path)?;
        mkdirat(
            r.dir(&self.root),
            r.name.as_slice(),
            mode_bits(attrs, 0o777),
        )
        .map_err(errno)
    }

    fn rmdir(&mut self, path: &[u8]) -> FsResult<()> {
        self.writable()?;
        let r = self.named(path)?;
        unlinkat(r.dir(&self.root), r.name.as_slice(), AtFlags::REMOVEDIR).map_err(errno)
    }

    fn realpath(&mut self, path: &[u8]) -> FsResult<Vec<u8>> {
        Ok(self.resolve(path, true)?.client_path())
    }

    fn rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()> {
        self.writable()?;
        let (o, n) = (self.named(old)?, self.named(new)?);
        let (od, nd) = (o.dir(&self.root), n.dir(&self.root));
        let (on, nn) = (o.name.as_slice(), n.name.as_slice());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let tried = renameat_with(od, on, nd, nn, rustix::fs::RenameFlags::NOREPLACE);
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let tried: rustix::io::Result<()> = Err(Errno::NOSYS);
        match tried {
            Err(Errno::INVAL | Errno::NOSYS) => {
                // No RENAME_NOREPLACE here: check, then rename (as sftp-server does).
                if statat(nd, nn, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                    return Err(FsError::Failure);
                }
                renameat(od, on, nd, nn).map_err(errno)
            }
            r => r.map_err(errno),
        }
    }

    fn posix_rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()> {
        self.writable()?;
        let (o, n) = (self.named(old)?, self.named(new)?);
        renameat(
            o.dir(&self.root),
            o.name.as_slice(),
            n.dir(&self.root),
            n.name.as_slice(),
        )
        .map_err(errno)
    }

    fn readlink(&mut self, path: &[u8]) -> FsResult<Vec<u8>> {
        let r = self.resolve(path, false)?;
        let t = readlinkat(r.dir(&self.root), r.name.as_slice(), Vec::new()).map_err(errno)?;
        Ok(t.into_bytes())
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> FsResult<()> {
        self.writable()?;
        let r = self.named(link)?;
        symlinkat(target, r.dir(&self.root), r.name.as_slice()).map_err(errno)
    }

    fn hardlink(&mut self, old: &[u8], new: &[u8]) -> FsResult<()> {
        self.writable()?;
        let (o, n) = (self.named(old)?, self.named(new)?);
        // No AT_SYMLINK_FOLLOW: a symbolic link is linked itself, never followed.
        linkat(
            o.dir(&self.root),
            o.name.as_slice(),
            n.dir(&self.root),
            n.name.as_slice(),
            AtFlags::empty(),
        )
        .map_err(errno)
    }

    fn statvfs(&mut self, path: &[u8]) -> FsResult<StatVfs> {
        let r = self.resolve(path, true)?;
        let fd = open_path(r.dir(&self.root), &r.name)?;
        Ok(statvfs_of(&fstatvfs(&fd).map_err(errno)?))
    }

    fn home(&mut self) -> FsResult<Vec<u8>> {
        let comps: Vec<&[u8]> = self.start.iter().map(Vec::as_slice).collect();
        Ok(resolve::join(&comps))
    }

    fn user_name(&mut self, uid: u32) -> Option<Vec<u8>> {
        self.names.user(uid)
    }

    fn group_name(&mut self, gid: u32) -> Option<Vec<u8>> {
        self.names.group(gid)
    }
}
