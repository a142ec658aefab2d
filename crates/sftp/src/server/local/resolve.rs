//! Path resolution beneath a root directory, component by component, from directory file
//! descriptors: the kernel never follows a symbolic link and never sees `..`.
//!
//! Each component is pinned without following it — on Linux with `openat(dir, name, O_PATH |
//! O_NOFOLLOW)` and `fstat` on that descriptor, elsewhere with `fstatat(AT_SYMLINK_NOFOLLOW)`
//! and `openat(O_DIRECTORY | O_NOFOLLOW)` — a directory becomes the next directory
//! descriptor; a symbolic link is read (from the pinned descriptor on Linux) and its target
//! spliced into the components still to walk (an absolute target restarts at the root); `..` pops the walk
//! (at the root it stays). So whatever a concurrent actor swaps in, the walk only ever holds
//! descriptors of directories it reached from the root, and the final operation uses the
//! parent descriptor and the last name with `*at` calls that do not follow links.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, fstat, openat, readlinkat, statat};
use rustix::io::Errno;

use crate::server::fs::{FsError, FsResult};

/// Symbolic links followed in one resolution (Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;
/// Directory depth walked at once.
pub const MAX_DEPTH: usize = 256;
/// Components to walk at once (after splicing link targets).
const MAX_COMPONENTS: usize = 8192;

/// The outcome: the parent directory, the last name in it (`.` when the path names a
/// directory reached by the walk itself) and the client-visible path of the target.
pub(crate) struct Resolved {
    dir: Option<OwnedFd>,
    /// The last component (never empty, never `..`, never containing `/`).
    pub(crate) name: Vec<u8>,
    /// Components from the root to the parent.
    parents: Vec<Vec<u8>>,
}

impl Resolved {
    /// The parent directory descriptor (`root` when the parent is the root).
    pub(crate) fn dir<'a>(&'a self, root: &'a OwnedFd) -> BorrowedFd<'a> {
        self.dir.as_ref().unwrap_or(root).as_fd()
    }

    /// Whether the target is a directory reached by the walk (the name is `.`).
    pub(crate) fn is_self(&self) -> bool {
        self.name == b"."
    }

    /// Whether the target is the root itself.
    pub(crate) fn is_root(&self) -> bool {
        self.is_self() && self.parents.is_empty()
    }

    /// The absolute client-visible path of the target (`/` for the root).
    pub(crate) fn client_path(&self) -> Vec<u8> {
        let mut comps: Vec<&[u8]> = self.parents.iter().map(Vec::as_slice).collect();
        if !self.is_self() {
            comps.push(&self.name);
        }
        join(&comps)
    }
}

/// `/a/b/c` from components (`/` for none).
pub(crate) fn join(comps: &[&[u8]]) -> Vec<u8> {
    if comps.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::new();
    for c in comps {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}

/// The components of a path, without empty ones and `.`.
pub(crate) fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

pub(crate) fn errno(e: Errno) -> FsError {
    FsError::from_errno(e.raw_os_error())
}

/// One component, looked at without following it.
pub(crate) enum Pinned {
    /// A directory, held open (so the walk goes on from what was checked).
    Dir(OwnedFd),
    /// A symbolic link and its target.
    Link(Vec<u8>),
    /// Anything else.
    Other,
}

/// Opens `name` in `dir` for use as a directory or for `fstat`/`fstatvfs`, never following
/// a link (`O_PATH` where the system has it).
pub(crate) fn open_path(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    openat(dir, name, flags, Mode::empty()).map_err(errno)
}

/// The pinning strategy of this system.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PIN: Pin = pin_o_path;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const PIN: Pin = pin_portable;

type Pin = fn(BorrowedFd<'_>, &[u8]) -> FsResult<Option<Pinned>>;

/// Linux: `openat(O_PATH | O_NOFOLLOW)` pins the object itself, whatever it is; `fstat` and
/// `readlinkat(fd, "")` then look at that very object.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn pin_o_path(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<Option<Pinned>> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(errno(e)),
    };
    let st = fstat(&fd).map_err(errno)?;
    Ok(Some(match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => Pinned::Dir(fd),
        FileType::Symlink => Pinned::Link(
            readlinkat(&fd, c"", Vec::new())
                .map_err(errno)?
                .into_bytes(),
        ),
        _ => Pinned::Other,
    }))
}

/// Elsewhere: `fstatat(AT_SYMLINK_NOFOLLOW)`, then a directory is opened with
/// `O_DIRECTORY | O_NOFOLLOW` (a link swapped in meanwhile fails) and a link is read with
/// `readlinkat` (anything else swapped in fails).
#[cfg_attr(
    any(target_os = "linux", target_os = "android"),
    allow(dead_code, reason = "tested on Linux, used elsewhere")
)]
pub(crate) fn pin_portable(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<Option<Pinned>> {
    let st = match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(errno(e)),
    };
    Ok(Some(match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = openat(dir, name, flags, Mode::empty()).map_err(errno)?;
            let again = fstat(&fd).map_err(errno)?;
            if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino) {
                return Err(FsError::Failure);
            }
            Pinned::Dir(fd)
        }
        FileType::Symlink => Pinned::Link(
            readlinkat(dir, name, Vec::new())
                .map_err(errno)?
                .into_bytes(),
        ),
        _ => Pinned::Other,
    }))
}

/// Resolves `path` beneath `root`. Relative paths start at `start` (components from the
/// root). With `follow_last`, a symbolic link in the last place is followed too (within the
/// root); a last component that does not exist is returned as is (for creation); an earlier
/// one that does not exist, or is not a directory, is [`FsError::NotFound`].
pub(crate) fn resolve(
    root: &OwnedFd,
    start: &[Vec<u8>],
    path: &[u8],
    follow_last: bool,
) -> FsResult<Resolved> {
    resolve_with(PIN, root, start, path, follow_last)
}

/// [`resolve`] with a given pinning strategy.
pub(crate) fn resolve_with(
    pin: Pin,
    root: &OwnedFd,
    start: &[Vec<u8>],
    path: &[u8],
    follow_last: bool,
) -> FsResult<Resolved> {
    let mut todo: VecDeque<Vec<u8>> = VecDeque::new();
    if !path.starts_with(b"/") {
        todo.extend(start.iter().cloned());
    }
    todo.extend(components(path).map(<[u8]>::to_vec));
    if todo.len() > MAX_COMPONENTS {
        return Err(FsError::Failure);
    }
    let mut stack: Vec<(Vec<u8>, OwnedFd)> = Vec::new();
    let mut links = 0usize;
    let parents = |stack: &[(Vec<u8>, OwnedFd)]| stack.iter().map(|(n, _)| n.clone()).collect();
    while let Some(comp) = todo.pop_front() {
        let last = todo.is_empty();
        if comp == b".." {
            stack.pop();
            continue;
        }
        let cur = stack.last().map_or(root.as_fd(), |(_, fd)| fd.as_fd());
        let pinned = pin(cur, &comp)?;
        let Some(pinned) = pinned else {
            if last {
                let p = parents(&stack);
                let dir = stack.pop().map(|(_, fd)| fd);
                return Ok(Resolved {
                    dir,
                    name: comp,
                    parents: p,
                });
            }
            return Err(FsError::NotFound);
        };
        if let Pinned::Link(target) = &pinned
            && (!last || follow_last)
        {
            links = links.saturating_add(1);
            if links > MAX_SYMLINKS {
                return Err(FsError::Failure);
            }
            if target.is_empty() {
                return Err(FsError::NotFound);
            }
            if target.starts_with(b"/") {
                stack.clear();
            }
            for c in components(target).collect::<Vec<_>>().into_iter().rev() {
                todo.push_front(c.to_vec());
            }
            if todo.len() > MAX_COMPONENTS {
                return Err(FsError::Failure);
            }
            continue;
        }
        if last {
            let p = parents(&stack);
            let dir = stack.pop().map(|(_, fd)| fd);
            return Ok(Resolved {
                dir,
                name: comp,
                parents: p,
            });
        }
        let Pinned::Dir(fd) = pinned else {
            return Err(FsError::NotFound);
        };
        if stack.len() >= MAX_DEPTH {
            return Err(FsError::Failure);
        }
        stack.push((comp, fd));
    }
    // The path ends at a directory the walk holds (or the root): name it `.` in itself.
    let p = parents(&stack);
    let dir = stack.pop().map(|(_, fd)| fd);
    Ok(Resolved {
        dir,
        name: b".".to_vec(),
        parents: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Both pinning strategies resolve the same way, and never outside.
    #[test]
    fn strategies_agree_and_stay_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let root_path = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(root_path.join("sub/deep")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"s").unwrap();
        symlink(&outside, root_path.join("abs")).unwrap();
        symlink("../outside", root_path.join("rel")).unwrap();
        symlink("deep/../..", root_path.join("sub/up")).unwrap();
        symlink("loop", root_path.join("loop")).unwrap();
        std::fs::write(root_path.join("sub/f"), b"f").unwrap();
        let root = rustix::fs::open(
            &root_path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let show = |r: FsResult<Resolved>| match r {
            Ok(r) => Ok(String::from_utf8(r.client_path()).unwrap()),
            Err(e) => Err(e),
        };
        let cases: &[(&[u8], bool, Result<&str, FsError>)] = &[
            (b"/", true, Ok("/")),
            (b"..", true, Ok("/")),
            (b"../../sub/./f", true, Ok("/sub/f")),
            (b"sub/up", true, Ok("/")),
            (b"sub/up", false, Ok("/sub/up")),
            (b"sub/up/sub/f", true, Ok("/sub/f")),
            (b"abs/secret", true, Err(FsError::NotFound)),
            (b"rel", true, Ok("/outside")),
            (b"rel/secret", true, Err(FsError::NotFound)),
            (b"sub/f/x", true, Err(FsError::NotFound)),
            (b"loop", true, Err(FsError::Failure)),
            (b"loop", false, Ok("/loop")),
            (b"new", true, Ok("/new")),
        ];
        for (path, follow, want) in cases {
            let want = want.map(str::to_owned);
            let what = String::from_utf8_lossy(path);
            let a = show(resolve_with(pin_portable, &root, &[], path, *follow));
            assert_eq!(a, want, "portable: {what}");
            let b = show(resolve(&root, &[], path, *follow));
            assert_eq!(b, want, "native: {what}");
        }
        // From a start directory.
        let start = vec![b"sub".to_vec()];
        let r = resolve_with(pin_portable, &root, &start, b"f", true).unwrap();
        assert_eq!(r.client_path(), b"/sub/f");
        assert_eq!(
            resolve(&root, &start, b"../..", true)
                .unwrap()
                .client_path(),
            b"/"
        );
    }
}
