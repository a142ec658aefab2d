//! Path resolution beneath a root directory, component by component, from directory file
//! descriptors: the kernel never follows a symbolic link and never sees `..`.
//!
//! Each component is pinned with `openat(dir, name, O_PATH | O_NOFOLLOW)` and inspected with
//! `fstat` on that descriptor: a directory becomes the next directory descriptor; a symbolic
//! link is read from the descriptor (`readlinkat(fd, "")`) and its target spliced into the
//! components still to walk (an absolute target restarts at the root); `..` pops the walk
//! (at the root it stays). So whatever a concurrent actor swaps in, the walk only ever holds
//! descriptors of directories it reached from the root, and the final operation uses the
//! parent descriptor and the last name with `*at` calls that do not follow links.

use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{FileType, Mode, OFlags, Stat, fstat, openat, readlinkat};
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

/// Pins `name` in `dir` without following it; `None` when it does not exist.
fn pin(dir: BorrowedFd<'_>, name: &[u8]) -> FsResult<Option<(OwnedFd, Stat)>> {
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => {
            let st = fstat(&fd).map_err(errno)?;
            Ok(Some((fd, st)))
        }
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(errno(e)),
    }
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
        let Some((fd, st)) = pinned else {
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
        let ty = FileType::from_raw_mode(st.st_mode);
        if ty == FileType::Symlink && (!last || follow_last) {
            links = links.saturating_add(1);
            if links > MAX_SYMLINKS {
                return Err(FsError::Failure);
            }
            let target = readlinkat(&fd, c"", Vec::new()).map_err(errno)?;
            let target = target.into_bytes();
            if target.is_empty() {
                return Err(FsError::NotFound);
            }
            if target.starts_with(b"/") {
                stack.clear();
            }
            for c in components(&target).collect::<Vec<_>>().into_iter().rev() {
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
        if ty != FileType::Directory {
            return Err(FsError::NotFound);
        }
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
