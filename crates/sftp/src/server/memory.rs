//! [`MemoryFs`]: a small in-memory filesystem (directories and regular files, bounded in
//! size and count) for tests and fuzzing. Paths are normalised lexically; `..` at the root
//! stays at the root. Links are not supported.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::fs::{DirEntry, Filesystem, FsError, FsResult};
use crate::{FileAttributes, OpenFlags, StatVfs};

type Key = Vec<Vec<u8>>;

#[derive(Debug, Clone, Copy)]
enum Node {
    Dir { mode: u32, mtime: u32 },
    File(u64),
}

#[derive(Debug, Default)]
struct Inode {
    data: Vec<u8>,
    mode: u32,
    mtime: u32,
}

/// The in-memory filesystem (see the module documentation).
#[derive(Debug)]
pub struct MemoryFs {
    tree: BTreeMap<Key, Node>,
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    max_file: usize,
    max_nodes: usize,
}

/// An open file of [`MemoryFs`]: its inode, and whether it may be read and written.
#[derive(Debug)]
pub struct MemFile {
    inode: u64,
    read: bool,
    write: bool,
}

/// An open directory of [`MemoryFs`]: the entries listed at OPENDIR.
#[derive(Debug)]
pub struct MemDir {
    entries: VecDeque<DirEntry>,
}

impl Default for MemoryFs {
    fn default() -> Self {
        Self::new()
    }
}

fn key(path: &[u8]) -> Key {
    let mut k: Key = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                k.pop();
            }
            c => k.push(c.to_vec()),
        }
    }
    k
}

fn path_of(k: &[Vec<u8>]) -> Vec<u8> {
    if k.is_empty() {
        return b"/".to_vec();
    }
    k.iter()
        .flat_map(|c| std::iter::once(&b'/').chain(c))
        .copied()
        .collect()
}

impl MemoryFs {
    /// An empty filesystem (a root directory), files up to 1 MiB, 4,096 nodes.
    pub fn new() -> Self {
        Self::with_limits(1024 * 1024, 4096)
    }

    /// An empty filesystem with files up to `max_file` bytes and at most `max_nodes` nodes.
    pub fn with_limits(max_file: usize, max_nodes: usize) -> Self {
        let mut tree = BTreeMap::new();
        tree.insert(
            Vec::new(),
            Node::Dir {
                mode: 0o755,
                mtime: 0,
            },
        );
        Self {
            tree,
            inodes: HashMap::new(),
            next_inode: 1,
            max_file,
            max_nodes,
        }
    }

    /// The contents of a file, if it exists.
    pub fn contents(&self, path: &[u8]) -> Option<&[u8]> {
        match self.tree.get(&key(path))? {
            Node::File(i) => self.inodes.get(i).map(|n| n.data.as_slice()),
            Node::Dir { .. } => None,
        }
    }

    fn attrs(&self, node: Node) -> FileAttributes {
        let (mode, size, mtime) = match node {
            Node::Dir { mode, mtime } => (0o040_000 | mode, 0, mtime),
            Node::File(i) => self.inodes.get(&i).map_or((0o100_000, 0, 0), |n| {
                let len = u64::try_from(n.data.len()).unwrap_or(u64::MAX);
                (0o100_000 | n.mode, len, n.mtime)
            }),
        };
        FileAttributes {
            size: Some(size),
            uid_gid: Some((0, 0)),
            permissions: Some(mode),
            atime_mtime: Some((mtime, mtime)),
            extended: None,
        }
    }

    fn node(&self, path: &[u8]) -> FsResult<(Key, Node)> {
        let k = key(path);
        let n = *self.tree.get(&k).ok_or(FsError::NotFound)?;
        Ok((k, n))
    }

    /// Checks that the parent of `k` is a directory and a new node fits.
    fn creatable(&self, k: &Key) -> FsResult<()> {
        let parent = k
            .split_last()
            .map(|(_, p)| p.to_vec())
            .ok_or(FsError::Failure)?;
        match self.tree.get(&parent) {
            Some(Node::Dir { .. }) if self.tree.len() < self.max_nodes => Ok(()),
            Some(Node::Dir { .. }) => Err(FsError::Failure),
            _ => Err(FsError::NotFound),
        }
    }

    fn inode(&mut self, i: u64) -> FsResult<&mut Inode> {
        self.inodes.get_mut(&i).ok_or(FsError::NotFound)
    }

    fn resize(&mut self, i: u64, size: u64) -> FsResult<()> {
        let max = self.max_file;
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= max)
            .ok_or(FsError::Failure)?;
        self.inode(i)?.data.resize(size, 0);
        Ok(())
    }

    fn set(&mut self, k: &Key, attrs: &FileAttributes) -> FsResult<()> {
        let node = *self.tree.get(k).ok_or(FsError::NotFound)?;
        match node {
            Node::File(i) => {
                if let Some(s) = attrs.size {
                    self.resize(i, s)?;
                }
                let n = self.inode(i)?;
                if let Some(p) = attrs.permissions {
                    n.mode = p & 0o7777;
                }
                if let Some((_, m)) = attrs.atime_mtime {
                    n.mtime = m;
                }
            }
            Node::Dir {
                mut mode,
                mut mtime,
            } => {
                if let Some(p) = attrs.permissions {
                    mode = p & 0o7777;
                }
                if let Some((_, m)) = attrs.atime_mtime {
                    mtime = m;
                }
                self.tree.insert(k.clone(), Node::Dir { mode, mtime });
            }
        }
        Ok(())
    }

    fn move_node(&mut self, old: &[u8], new: &[u8], replace: bool) -> FsResult<()> {
        let (ok, node) = self.node(old)?;
        let nk = key(new);
        if ok.is_empty() || nk.starts_with(&ok) {
            return Err(FsError::Failure);
        }
        if self.tree.contains_key(&nk) && !(replace && matches!(node, Node::File(_))) {
            return Err(FsError::Failure);
        }
        self.creatable(&nk)?;
        if let Some(Node::File(i)) = self.tree.remove(&nk) {
            self.inodes.remove(&i);
        }
        let moved: Vec<Key> = (self.tree.range(ok.clone()..))
            .map(|(k, _)| k.clone())
            .take_while(|k| k.starts_with(&ok))
            .collect();
        for k in moved {
            if let Some(n) = self.tree.remove(&k) {
                let mut dest = nk.clone();
                dest.extend(k.get(ok.len()..).unwrap_or_default().iter().cloned());
                self.tree.insert(dest, n);
            }
        }
        Ok(())
    }
}

impl Filesystem for MemoryFs {
    type File = MemFile;
    type Dir = MemDir;

    fn open(&mut self, path: &[u8], flags: OpenFlags, attrs: &FileAttributes) -> FsResult<MemFile> {
        let k = key(path);
        let inode = match self.tree.get(&k) {
            Some(Node::File(_)) if flags.contains(OpenFlags::CREAT | OpenFlags::EXCL) => {
                return Err(FsError::Failure);
            }
            Some(Node::File(i)) => *i,
            Some(Node::Dir { .. }) => return Err(FsError::Failure),
            None if flags.contains(OpenFlags::CREAT) => {
                self.creatable(&k)?;
                let i = self.next_inode;
                self.next_inode = i.wrapping_add(1);
                let mode = attrs.permissions.map_or(0o644, |p| p & 0o7777);
                self.inodes.insert(
                    i,
                    Inode {
                        mode,
                        ..Inode::default()
                    },
                );
                self.tree.insert(k, Node::File(i));
                i
            }
            None => return Err(FsError::NotFound),
        };
        let write = flags.contains(OpenFlags::WRITE);
        if write && flags.contains(OpenFlags::TRUNC) {
            self.resize(inode, 0)?;
        }
        Ok(MemFile {
            inode,
            read: flags.contains(OpenFlags::READ),
            write,
        })
    }

    fn read(&mut self, file: &mut MemFile, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        if !file.read {
            return Err(FsError::PermissionDenied);
        }
        let data = &self.inode(file.inode)?.data;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let src = data.get(start..).unwrap_or_default();
        let n = src.len().min(buf.len());
        buf.get_mut(..n)
            .ok_or(FsError::Failure)?
            .copy_from_slice(src.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn write(&mut self, file: &mut MemFile, offset: u64, data: &[u8]) -> FsResult<()> {
        if !file.write {
            return Err(FsError::PermissionDenied);
        }
        let end = offset
            .checked_add(u64::try_from(data.len()).unwrap_or(u64::MAX))
            .ok_or(FsError::Failure)?;
        let len = self.inode(file.inode)?.data.len();
        if end > u64::try_from(len).unwrap_or(u64::MAX) {
            self.resize(file.inode, end)?;
        }
        let start = usize::try_from(offset).map_err(|_| FsError::Failure)?;
        let n = self.inode(file.inode)?;
        let dst = n
            .data
            .get_mut(start..)
            .and_then(|d| d.get_mut(..data.len()));
        dst.ok_or(FsError::Failure)?.copy_from_slice(data);
        Ok(())
    }

    fn fstat(&mut self, file: &mut MemFile) -> FsResult<FileAttributes> {
        Ok(self.attrs(Node::File(file.inode)))
    }

    fn fsetstat(&mut self, file: &mut MemFile, attrs: &FileAttributes) -> FsResult<()> {
        let k = self
            .tree
            .iter()
            .find(|(_, n)| matches!(n, Node::File(i) if *i == file.inode));
        let k = k.map(|(k, _)| k.clone()).ok_or(FsError::NotFound)?;
        self.set(&k, attrs)
    }

    fn fsync(&mut self, _file: &mut MemFile) -> FsResult<()> {
        Ok(())
    }

    fn fstatvfs(&mut self, _file: &mut MemFile) -> FsResult<StatVfs> {
        self.statvfs(b"/")
    }

    fn opendir(&mut self, path: &[u8]) -> FsResult<MemDir> {
        let (k, node) = self.node(path)?;
        if !matches!(node, Node::Dir { .. }) {
            return Err(FsError::NotFound);
        }
        let children = self.tree.range(k.clone()..).skip(1);
        let entries = children
            .take_while(|(c, _)| c.starts_with(&k))
            .filter(|(c, _)| c.len() == k.len().saturating_add(1))
            .map(|(c, n)| DirEntry {
                name: c.last().cloned().unwrap_or_default(),
                attrs: self.attrs(*n),
                nlink: 1,
            })
            .collect();
        Ok(MemDir { entries })
    }

    fn readdir(&mut self, dir: &mut MemDir, max: usize) -> FsResult<Vec<DirEntry>> {
        let n = max.min(dir.entries.len());
        Ok(dir.entries.drain(..n).collect())
    }

    fn stat(&mut self, path: &[u8]) -> FsResult<FileAttributes> {
        let (_, n) = self.node(path)?;
        Ok(self.attrs(n))
    }

    fn lstat(&mut self, path: &[u8]) -> FsResult<FileAttributes> {
        self.stat(path)
    }

    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        self.set(&key(path), attrs)
    }

    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        self.set(&key(path), attrs)
    }

    fn remove(&mut self, path: &[u8]) -> FsResult<()> {
        match self.node(path)? {
            (k, Node::File(i)) => {
                self.tree.remove(&k);
                self.inodes.remove(&i);
                Ok(())
            }
            _ => Err(FsError::Failure),
        }
    }

    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> FsResult<()> {
        let k = key(path);
        if self.tree.contains_key(&k) {
            return Err(FsError::Failure);
        }
        self.creatable(&k)?;
        let mode = attrs.permissions.map_or(0o755, |p| p & 0o7777);
        self.tree.insert(k, Node::Dir { mode, mtime: 0 });
        Ok(())
    }

    fn rmdir(&mut self, path: &[u8]) -> FsResult<()> {
        let (k, node) = self.node(path)?;
        let has_children = self
            .tree
            .range(k.clone()..)
            .nth(1)
            .is_some_and(|(c, _)| c.starts_with(&k));
        if k.is_empty() || has_children || !matches!(node, Node::Dir { .. }) {
            return Err(FsError::Failure);
        }
        self.tree.remove(&k);
        Ok(())
    }

    fn realpath(&mut self, path: &[u8]) -> FsResult<Vec<u8>> {
        Ok(path_of(&key(path)))
    }

    fn rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()> {
        self.move_node(old, new, false)
    }

    fn posix_rename(&mut self, old: &[u8], new: &[u8]) -> FsResult<()> {
        self.move_node(old, new, true)
    }

    fn readlink(&mut self, path: &[u8]) -> FsResult<Vec<u8>> {
        self.node(path)?;
        Err(FsError::Failure)
    }

    fn symlink(&mut self, _target: &[u8], _link: &[u8]) -> FsResult<()> {
        Err(FsError::Unsupported)
    }

    fn hardlink(&mut self, _old: &[u8], _new: &[u8]) -> FsResult<()> {
        Err(FsError::Unsupported)
    }

    fn statvfs(&mut self, path: &[u8]) -> FsResult<StatVfs> {
        self.node(path)?;
        let nodes = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(StatVfs {
            bsize: 4096,
            frsize: 4096,
            files: nodes(self.max_nodes),
            ffree: nodes(self.max_nodes.saturating_sub(self.tree.len())),
            favail: nodes(self.max_nodes.saturating_sub(self.tree.len())),
            namemax: 255,
            ..StatVfs::default()
        })
    }

    fn home(&mut self) -> FsResult<Vec<u8>> {
        Ok(b"/".to_vec())
    }
}
