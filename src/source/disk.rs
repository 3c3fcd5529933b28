//! [`DiskFs`]: a working tree on disk, read without ever leaving its root.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::{Fs, FsError, HashMap, child_path};

/// A path resolved inside the root: its real repo-relative path (no symlink left in it) and
/// what is there.
type Resolved = Result<(String, EntryKind), FsError>;

/// What a directory entry is, as the directory listing (`d_type`) or `lstat` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    File,
    Dir,
    /// Resolved on demand: it may point anywhere, including outside the root.
    Symlink,
    /// A FIFO, a socket, a device: never opened for reading.
    Special(&'static str),
    /// The listing could not tell (`DT_UNKNOWN` on some file systems): ask `lstat`.
    Unknown,
}

impl EntryKind {
    /// The kind of a file type that was not followed through a symlink.
    #[cfg(not(unix))]
    fn of(t: std::fs::FileType) -> EntryKind {
        if t.is_symlink() {
            EntryKind::Symlink
        } else if t.is_dir() {
            EntryKind::Dir
        } else if t.is_file() {
            EntryKind::File
        } else {
            EntryKind::Special("neither a file nor a directory")
        }
    }

    #[cfg(unix)]
    fn of_raw(t: rustix::fs::FileType) -> EntryKind {
        use rustix::fs::FileType;
        match t {
            FileType::RegularFile => EntryKind::File,
            FileType::Directory => EntryKind::Dir,
            FileType::Symlink => EntryKind::Symlink,
            FileType::Fifo => EntryKind::Special(FIFO),
            FileType::Socket => EntryKind::Special(SOCKET),
            FileType::CharacterDevice => EntryKind::Special(CHAR_DEVICE),
            FileType::BlockDevice => EntryKind::Special(BLOCK_DEVICE),
            FileType::Unknown => EntryKind::Unknown,
        }
    }
}

const FIFO: &str = "a FIFO (named pipe)";
const SOCKET: &str = "a socket";
const CHAR_DEVICE: &str = "a character device";
const BLOCK_DEVICE: &str = "a block device";

/// How many symlinks one path may go through (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// What a probe found: the path's kind (`None`: missing) and, for a file, its bytes.
type ProbeResult = (Option<EntryKind>, Option<Vec<u8>>);

/// A probed path: its kind, and a file's bytes until the first `read` takes them.
struct Probed {
    kind: Option<EntryKind>,
    bytes: Option<Vec<u8>>,
}

/// One directory's entries, sorted by name.
type Listing = Arc<Vec<(String, EntryKind)>>;

/// The working tree below a root directory: nothing outside the root is read or followed, and
/// only regular files are read, within the budgets of [`crate::limits`].
///
/// A path's kind comes from its parent's listing (`d_type`) when the parent was listed (a tree
/// walk lists every directory it descends into), and otherwise from an `lstat` of the path
/// itself, once its parent is known to be a real directory: the type is known before anything is
/// opened, so a FIFO, a device or a socket is never opened (a FIFO would block, a device never
/// end, and opening some devices has effects). A regular file found by a probe is read whole
/// right away and kept for the `read` that almost always follows (`is_file`, then `read`): a
/// kustomization's own files then cost one `lstat`/`open`/`read`/`close` each, with no listing of
/// their directory. Files are opened relative to a descriptor of the root with `O_NOFOLLOW`, so
/// the kernel walks only the repository-relative part of each path.
///
/// A path through a symlink is resolved here, one component at a time, reading each link's text:
/// an absolute target or `..` that leaves the root is refused before anything outside is even
/// looked at (so the answer does not tell whether an outside path exists either). The tree is
/// assumed not to change during a run; files are still opened non-blocking and read with a
/// bound, so a file swapped for a FIFO or a device mid-run cannot hang or flood it.
pub struct DiskFs {
    root: PathBuf,
    canon_root: PathBuf,
    #[cfg(unix)]
    root_fd: rustix::fd::OwnedFd,
    /// Resolved path and kind of paths through symlinks.
    meta: RwLock<HashMap<String, Resolved>>,
    /// Listings of the directories read so far, keyed by repo-relative path (`""` = root).
    listings: RwLock<HashMap<String, Result<Listing, FsError>>>,
    /// Kinds of paths whose parent was never listed, found by `lstat` (`None`: missing).
    probed: RwLock<HashMap<String, Probed>>,
    /// Bytes handed out so far, against the `tree-bytes` budget.
    bytes_read: std::sync::atomic::AtomicU64,
}

impl DiskFs {
    /// The repository at `root`; fails when `root` cannot be resolved or opened as a directory.
    /// Nothing is read until asked for.
    pub fn new(root: &Path) -> Result<DiskFs, FsError> {
        let io = |e: std::io::Error| FsError::Io {
            path: root.display().to_string(),
            msg: e.to_string(),
        };
        let canon_root = root.canonicalize().map_err(io)?;
        #[cfg(unix)]
        let root_fd = {
            use rustix::fs::{Mode, OFlags};
            rustix::fs::open(
                &canon_root,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io(e.into()))?
        };
        Ok(DiskFs {
            root: root.to_path_buf(),
            canon_root,
            #[cfg(unix)]
            root_fd,
            meta: RwLock::default(),
            listings: RwLock::default(),
            probed: RwLock::default(),
            bytes_read: Default::default(),
        })
    }

    /// The real path of `rel` and what is there.
    fn resolve_kind(&self, rel: &str) -> Resolved {
        match self.kind_by_listing(rel) {
            Some(Ok(kind)) => Ok((rel.trim_end_matches('/').to_string(), kind)),
            Some(Err(e)) => Err(e),
            None => memoized(&self.meta, rel, || self.resolve_in_root(rel)),
        }
    }

    /// What `rel` is, from its parent's listing or a probe of the path; `None` when the path
    /// goes through a symlink or is not normalized (resolve it component by component).
    fn kind_by_listing(&self, rel: &str) -> Option<Result<EntryKind, FsError>> {
        let path = rel.trim_end_matches('/');
        if path.is_empty() {
            return Some(Ok(EntryKind::Dir));
        }
        // An absolute path would make `openat` ignore the root descriptor: only the slow path,
        // which checks where a path really is, may answer for one.
        if path.starts_with('/') || Path::new(path).is_absolute() {
            return None;
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        // Not a normalized path (`.`, `..`, `//`): resolve it component by component.
        if name.is_empty() || name == "." || name == ".." {
            return None;
        }
        let listed = match self.listings.read().unwrap().get(parent) {
            Some(Ok(listing)) => Some(entry_kind(listing, name)),
            _ => None,
        };
        let kind = if let Some(kind) = listed {
            kind
        } else {
            // Only a real directory (reached without a symlink) may be probed below.
            match self.kind_by_listing(parent)? {
                Ok(EntryKind::Dir) => {}
                Ok(_) | Err(_) => return Some(Err(FsError::NotFound(rel.to_string()))),
            }
            match self.probe(path) {
                Ok(kind) => kind,
                Err(e) => return Some(Err(e)),
            }
        };
        match kind {
            Some(EntryKind::Symlink) => None,
            Some(kind) => Some(Ok(kind)),
            None => Some(Err(FsError::NotFound(rel.to_string()))),
        }
    }

    /// The kind of `path`, whose parent is a real directory that was not listed (memoized; a
    /// failure is not).
    fn probe(&self, path: &str) -> Result<Option<EntryKind>, FsError> {
        if let Some(p) = self.probed.read().unwrap().get(path) {
            return Ok(p.kind);
        }
        let (kind, bytes) = self.probe_uncached(path)?;
        self.probed
            .write()
            .unwrap()
            .entry(path.to_string())
            .or_insert(Probed { kind, bytes });
        Ok(kind)
    }

    /// The bytes a probe of `path` read, if no `read` took them yet.
    fn take_prefetched(&self, path: &str) -> Option<Vec<u8>> {
        self.probed.write().unwrap().get_mut(path)?.bytes.take()
    }

    /// `lstat`s the path; a regular file is also read (kept for the `read` that follows).
    fn probe_uncached(&self, path: &str) -> Result<ProbeResult, FsError> {
        let kind = self.lstat(path).map_err(|e| FsError::Io {
            path: path.to_string(),
            msg: e.to_string(),
        })?;
        // A file that cannot be read now is read again by `read`, which reports why.
        let bytes = match kind {
            Some(EntryKind::File) => self.read_file(path).ok(),
            _ => None,
        };
        Ok((kind, bytes))
    }

    /// What is at `path` (relative to the root, not followed if a symlink); `None`: nothing.
    #[cfg(unix)]
    fn lstat(&self, path: &str) -> std::io::Result<Option<EntryKind>> {
        use rustix::fs::{AtFlags, FileType};
        use rustix::io::Errno;
        match rustix::fs::statat(&self.root_fd, path, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(EntryKind::of_raw(FileType::from_raw_mode(st.st_mode)))),
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    #[cfg(not(unix))]
    fn lstat(&self, path: &str) -> std::io::Result<Option<EntryKind>> {
        match std::fs::symlink_metadata(self.canon_root.join(path)) {
            Ok(m) => Ok(Some(EntryKind::of(m.file_type()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether `rel` exists and is a directory (`Some(true)`) or a regular file (`Some(false)`).
    fn kind(&self, rel: &str) -> Option<bool> {
        match self.resolve_kind(rel) {
            Ok((_, EntryKind::Dir)) => Some(true),
            Ok((_, EntryKind::File)) => Some(false),
            _ => None,
        }
    }

    /// The entries of a directory known to exist under the root (memoized).
    fn listing(&self, dir: &str) -> Result<Listing, FsError> {
        memoized(&self.listings, dir, || self.read_listing(dir))
    }

    fn read_listing(&self, dir: &str) -> Result<Listing, FsError> {
        let io = |e: std::io::Error| FsError::Io {
            path: dir.to_string(),
            msg: e.to_string(),
        };
        let mut entries = self.list_dir(dir).map_err(io)?;
        // An entry the listing could not type (`DT_UNKNOWN` on some file systems) is asked of
        // the file system itself, without following a symlink.
        for (name, kind) in &mut entries {
            if *kind == EntryKind::Unknown {
                *kind = self
                    .lstat(&child_path(dir, name))
                    .ok()
                    .flatten()
                    .unwrap_or(EntryKind::Special("neither a file nor a directory"));
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Arc::new(entries))
    }

    /// `rel` resolved one component at a time inside the root, each symlink replaced by its
    /// text: an absolute target must name a place under the root, and `..` may not climb above
    /// it. Nothing outside the root is looked at.
    fn resolve_in_root(&self, rel: &str) -> Resolved {
        let outside = || FsError::OutsideRoot {
            path: rel.to_string(),
            root: self.root.display().to_string(),
        };
        let bad_link = |msg: &str| FsError::Io {
            path: rel.to_string(),
            msg: msg.to_string(),
        };
        let start = self.strip_root(rel).ok_or_else(outside)?;
        // Components still to walk, the next one last.
        let mut todo: Vec<String> = Vec::new();
        push_components(&mut todo, &start);
        let mut done: Vec<String> = Vec::new();
        let mut kind = EntryKind::Dir;
        let (mut links, mut via_link) = (0, false);
        while let Some(c) = todo.pop() {
            if c.is_empty() {
                continue;
            }
            if kind != EntryKind::Dir {
                return Err(FsError::NotFound(rel.to_string()));
            }
            if c == "." {
                continue;
            }
            if c == ".." {
                done.pop().ok_or_else(outside)?;
                continue;
            }
            done.push(c);
            let here = done.join("/");
            let found = self.lstat(&here).map_err(|e| FsError::Io {
                path: rel.to_string(),
                msg: e.to_string(),
            })?;
            kind = match found {
                None if via_link => {
                    return Err(bad_link("a symlink to nothing (its target does not exist)"));
                }
                None => return Err(FsError::NotFound(rel.to_string())),
                Some(EntryKind::Symlink) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(bad_link("a symlink loop (too many levels of symlinks)"));
                    }
                    via_link = true;
                    let target = self.read_link(&here).map_err(|e| FsError::Io {
                        path: rel.to_string(),
                        msg: e.to_string(),
                    })?;
                    done.pop();
                    if Path::new(&target).is_absolute() {
                        push_components(&mut todo, &self.strip_root(&target).ok_or_else(outside)?);
                        done.clear();
                    } else {
                        push_components(&mut todo, &target);
                    }
                    EntryKind::Dir
                }
                Some(k) => k,
            };
        }
        Ok((done.join("/"), kind))
    }

    /// A path relative to the root: `p` itself when relative, else what follows the root in it
    /// (`None`: elsewhere).
    fn strip_root(&self, p: &str) -> Option<String> {
        let path = Path::new(p);
        if !path.is_absolute() {
            return Some(p.to_string());
        }
        path.strip_prefix(&self.canon_root)
            .or_else(|_| path.strip_prefix(&self.root))
            .ok()
            .filter(|_| self.root.is_absolute() || path.starts_with(&self.canon_root))
            .map(|r| r.to_string_lossy().into_owned())
    }

    /// The text of the symlink at `path` (relative to the root).
    #[cfg(unix)]
    fn read_link(&self, path: &str) -> std::io::Result<String> {
        let t = rustix::fs::readlinkat(&self.root_fd, path, Vec::new())?;
        Ok(t.to_string_lossy().into_owned())
    }

    #[cfg(not(unix))]
    fn read_link(&self, path: &str) -> std::io::Result<String> {
        Ok(std::fs::read_link(self.canon_root.join(path))?
            .to_string_lossy()
            .into_owned())
    }

    /// A file's bytes: what a probe already read, or read now; counted against `tree-bytes`.
    fn read_resolved(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let (p, kind) = self.resolve_kind(rel)?;
        match kind {
            EntryKind::File => {}
            EntryKind::Dir => return Err(FsError::IsDir(rel.to_string())),
            EntryKind::Special(what) => {
                return Err(FsError::NotRegular {
                    path: rel.to_string(),
                    what,
                });
            }
            EntryKind::Symlink | EntryKind::Unknown => {
                return Err(FsError::NotRegular {
                    path: rel.to_string(),
                    what: "neither a file nor a directory",
                });
            }
        }
        let key = rel.trim_end_matches('/');
        let bytes = match self.take_prefetched(key) {
            Some(bytes) => bytes,
            None => self.read_file(&p).map_err(|e| match e {
                ReadError::Io(e) => FsError::Io {
                    path: rel.to_string(),
                    msg: e.to_string(),
                },
                ReadError::TooLarge(limit) => FsError::OverBudget {
                    path: rel.to_string(),
                    exceeded: crate::limits::Exceeded::new(
                        "file-bytes",
                        limit,
                        "bytes in this file",
                    ),
                },
            })?,
        };
        let limit = crate::limits::get().tree_bytes;
        let total = self
            .bytes_read
            .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed)
            + bytes.len() as u64;
        if total > limit {
            return Err(FsError::OverBudget {
                path: rel.to_string(),
                exceeded: crate::limits::Exceeded::new(
                    "tree-bytes",
                    limit,
                    "bytes read from the repository",
                ),
            });
        }
        Ok(bytes)
    }

    /// A directory's entries (without `.` and `..`) and their kinds as the listing reports them.
    /// On Unix through `rustix`: `openat` + `getdents64` + `close`, without the `fstat` glibc's
    /// `opendir` (under `std::fs::read_dir`) adds — one system call in five, on thousands of
    /// directories.
    #[cfg(unix)]
    fn list_dir(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.root_fd,
            if dir.is_empty() { "." } else { dir },
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut d = rustix::fs::Dir::new(fd)?;
        let mut out = Vec::new();
        while let Some(e) = d.read() {
            let e = e?;
            let name = e.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            out.push((
                String::from_utf8_lossy(name).into_owned(),
                EntryKind::of_raw(e.file_type()),
            ));
        }
        Ok(out)
    }

    #[cfg(not(unix))]
    fn list_dir(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.canon_root.join(dir))? {
            let e = e?;
            let kind = e.file_type().map_or(EntryKind::Unknown, EntryKind::of);
            out.push((e.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(out)
    }

    /// A whole regular file, `p` relative to the root, up to the `file-bytes` budget. Opened
    /// without following a symlink and non-blocking: the kind was checked before, and a file
    /// swapped for a FIFO since reads as empty instead of hanging the run.
    #[cfg(unix)]
    fn read_file(&self, p: &str) -> Result<Vec<u8>, ReadError> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.root_fd,
            p,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| ReadError::Io(e.into()))?;
        read_fd(&fd, crate::limits::get().file_bytes)
    }

    #[cfg(not(unix))]
    fn read_file(&self, p: &str) -> Result<Vec<u8>, ReadError> {
        use std::io::Read;
        let limit = crate::limits::get().file_bytes;
        let f = std::fs::File::open(self.canon_root.join(p)).map_err(ReadError::Io)?;
        let mut buf = Vec::new();
        f.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(ReadError::Io)?;
        if buf.len() as u64 > limit {
            return Err(ReadError::TooLarge(limit));
        }
        Ok(buf)
    }
}

/// Why a file could not be read whole.
enum ReadError {
    Io(std::io::Error),
    /// Longer than the budget (in bytes).
    TooLarge(u64),
}

/// `p`'s components pushed so that the first is popped first.
fn push_components(todo: &mut Vec<String>, p: &str) {
    todo.extend(p.split('/').rev().map(str::to_string));
}

impl Fs for DiskFs {
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        self.read_resolved(rel)
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.kind(rel) == Some(true)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.kind(rel) == Some(false)
    }
    fn exists(&self, rel: &str) -> bool {
        !matches!(self.resolve_kind(rel), Err(FsError::NotFound(_)))
    }
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let (real, kind) = self.resolve_kind(rel)?;
        if kind != EntryKind::Dir {
            return Err(FsError::Io {
                path: rel.to_string(),
                msg: "not a directory".into(),
            });
        }
        // A directory reached through a symlink is listed at its real place.
        Ok(self
            .listing(&real)?
            .iter()
            .map(|(n, _)| n.clone())
            .collect())
    }
    fn subdirs(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let (real, kind) = self.resolve_kind(rel)?;
        if kind != EntryKind::Dir {
            return Err(FsError::NotFound(rel.to_string()));
        }
        Ok(self
            .listing(&real)?
            .iter()
            .filter(|(n, k)| match k {
                EntryKind::Dir => true,
                EntryKind::Symlink => self.is_dir(&child_path(rel, n)),
                _ => false,
            })
            .map(|(n, _)| n.clone())
            .collect())
    }
    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// The kind of the entry `name` of a listing, if it has one.
fn entry_kind(listing: &Listing, name: &str) -> Option<EntryKind> {
    listing
        .binary_search_by(|(n, _)| n.as_str().cmp(name))
        .ok()
        .map(|i| listing[i].1)
}

/// The value memoized under `key`, computed (outside the lock) on first use.
fn memoized<T: Clone>(map: &RwLock<HashMap<String, T>>, key: &str, make: impl FnOnce() -> T) -> T {
    if let Some(hit) = map.read().unwrap().get(key) {
        return hit.clone();
    }
    let value = make();
    map.write().unwrap().insert(key.to_string(), value.clone());
    value
}

/// The rest of an open file in `read`s only, up to `limit` bytes. `std::fs::read` and
/// `read_to_end` also `statx` and `lseek` to size their buffer: on a ten-thousand-file repository
/// those two extra system calls per file were a tenth of a whole check. Config files are small;
/// one chunk usually holds them. The last `read` (returning 0) confirms the end: a short read
/// alone does not prove it on every file system.
#[cfg(unix)]
fn read_fd(fd: &rustix::fd::OwnedFd, limit: u64) -> Result<Vec<u8>, ReadError> {
    use rustix::buffer::spare_capacity;
    use rustix::io::Errno;
    // Most files fit the first read. A longer one gets room for the size `fstat` says it has
    // (and a byte more, for the read that meets its end): one allocation, where growing the
    // buffer a chunk at a time copied a multi-megabyte file a dozen times.
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        if buf.len() == buf.capacity() {
            let size = rustix::fs::fstat(fd).map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
            if size > limit {
                return Err(ReadError::TooLarge(limit));
            }
            let rest = usize::try_from(size).unwrap_or(0) + 1;
            // A file that grows while it is read (or reports no size) doubles the room.
            buf.reserve(rest.saturating_sub(buf.len()).max(buf.len()));
        }
        match rustix::io::read(fd, spare_capacity(&mut buf)) {
            Ok(0) => return Ok(buf),
            Ok(_) if buf.len() as u64 > limit => return Err(ReadError::TooLarge(limit)),
            Ok(_) | Err(Errno::INTR) => {}
            // A FIFO swapped in since its kind was checked: nothing to read without waiting.
            Err(Errno::AGAIN) => return Ok(buf),
            Err(e) => return Err(ReadError::Io(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with files in listed and never-listed directories, and symlinks in and out.
    #[cfg(unix)]
    fn tree() -> (tempfile::TempDir, tempfile::TempDir) {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let w = |p: &str, text: &str| {
            let p = t.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w("apps/a/base/kustomization.yaml", "resources: [d.yaml]\n");
        w("apps/a/base/d.yaml", "kind: D\n");
        w("apps/a/base/sub/e.yaml", "kind: E\n");
        std::fs::write(outside.path().join("secret.yaml"), "kind: Secret\n").unwrap();
        symlink("d.yaml", t.path().join("apps/a/base/link.yaml")).unwrap();
        symlink("base", t.path().join("apps/a/alias")).unwrap();
        symlink(
            t.path().join("apps/a/base/d.yaml"),
            t.path().join("apps/a/base/abs.yaml"),
        )
        .unwrap();
        symlink(
            outside.path().join("secret.yaml"),
            t.path().join("apps/a/base/out.yaml"),
        )
        .unwrap();
        symlink(outside.path(), t.path().join("apps/a/base/outdir")).unwrap();
        (t, outside)
    }

    #[cfg(unix)]
    #[test]
    fn probes_unlisted_directories_and_reads_once() {
        let (t, _outside) = tree();
        let fs = DiskFs::new(t.path()).unwrap();
        // Nothing listed yet: every answer below comes from probes.
        assert!(fs.is_dir("apps/a/base"));
        assert!(fs.is_file("apps/a/base/kustomization.yaml"));
        assert!(!fs.is_dir("apps/a/base/kustomization.yaml"));
        assert!(fs.is_dir("apps/a/base/sub"));
        assert!(!fs.is_file("apps/a/base/missing.yaml"));
        assert!(!fs.is_file("apps/a/base/d.yaml/x"));
        assert_eq!(
            fs.read("apps/a/base/missing.yaml"),
            Err(FsError::NotFound("apps/a/base/missing.yaml".into()))
        );
        assert!(fs.listings.read().unwrap().is_empty());
        // The probe's bytes serve the first read; later reads go to disk again.
        assert_eq!(
            &*fs.read("apps/a/base/kustomization.yaml").unwrap(),
            "resources: [d.yaml]\n"
        );
        assert!(
            fs.take_prefetched("apps/a/base/kustomization.yaml")
                .is_none()
        );
        assert_eq!(
            &*fs.read("apps/a/base/kustomization.yaml").unwrap(),
            "resources: [d.yaml]\n"
        );
        assert_eq!(&*fs.read("apps/a/base/sub/e.yaml").unwrap(), "kind: E\n");
        assert_eq!(
            fs.read("apps/a/base/sub"),
            Err(FsError::IsDir("apps/a/base/sub".into()))
        );
        assert_eq!(fs.read_bytes("apps/a/base/d.yaml").unwrap(), b"kind: D\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_the_root_resolve_and_outside_are_refused() {
        let (t, outside) = tree();
        // Once with the parent listed (kinds from d_type), once probed.
        for list_first in [true, false] {
            let fs = DiskFs::new(t.path()).unwrap();
            if list_first {
                fs.list("apps/a/base").unwrap();
                fs.list("apps/a").unwrap();
            }
            assert_eq!(&*fs.read("apps/a/base/link.yaml").unwrap(), "kind: D\n");
            assert_eq!(&*fs.read("apps/a/base/abs.yaml").unwrap(), "kind: D\n");
            assert!(fs.is_dir("apps/a/alias"));
            assert_eq!(&*fs.read("apps/a/alias/d.yaml").unwrap(), "kind: D\n");
            assert_eq!(fs.list("apps/a/alias").unwrap().len(), 7);
            assert!(matches!(
                fs.read("apps/a/base/out.yaml"),
                Err(FsError::OutsideRoot { .. })
            ));
            assert!(matches!(
                fs.read("apps/a/base/outdir/secret.yaml"),
                Err(FsError::OutsideRoot { .. })
            ));
            assert!(!fs.is_dir("apps/a/base/outdir"));
            assert!(!fs.is_file("apps/a/base/out.yaml"));
            // An absolute path never reaches past the root either.
            let abs = outside.path().join("secret.yaml");
            let abs = abs.to_str().unwrap();
            assert!(matches!(fs.read(abs), Err(FsError::OutsideRoot { .. })));
            assert!(!fs.is_file(abs));
            assert!(!fs.is_dir(outside.path().to_str().unwrap()));
        }
    }

    /// FIFOs, sockets, symlink loops, links to nothing, links out through `..`, invalid UTF-8
    /// and the byte budgets: each an error that says what it is, listed or probed.
    #[cfg(unix)]
    #[test]
    fn only_regular_files_inside_the_root_are_read() {
        use rustix::fs::{FileType, Mode};
        use std::os::unix::fs::symlink;
        let (t, _outside) = tree();
        let base = t.path().join("apps/a/base");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            base.join("fifo.yaml"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(base.join("sock.yaml")).unwrap();
        symlink("loop2.yaml", base.join("loop1.yaml")).unwrap();
        symlink("loop1.yaml", base.join("loop2.yaml")).unwrap();
        symlink("nothing.yaml", base.join("dangling.yaml")).unwrap();
        symlink("../../../..", base.join("up")).unwrap();
        std::fs::write(base.join("latin1.yaml"), b"a: 1\nb: caf\xe9\n").unwrap();
        for list_first in [true, false] {
            let fs = DiskFs::new(t.path()).unwrap();
            if list_first {
                fs.list("apps/a/base").unwrap();
            }
            let fifo = fs.read("apps/a/base/fifo.yaml").unwrap_err();
            assert!(fifo.to_string().contains("is a FIFO"), "{fifo}");
            assert!(fs.exists("apps/a/base/fifo.yaml"));
            assert!(!fs.is_file("apps/a/base/fifo.yaml"));
            let sock = fs.read("apps/a/base/sock.yaml").unwrap_err();
            assert!(sock.to_string().contains("is a socket"), "{sock}");
            let looped = fs.read("apps/a/base/loop1.yaml").unwrap_err();
            assert!(looped.to_string().contains("symlink loop"), "{looped}");
            let dangling = fs.read("apps/a/base/dangling.yaml").unwrap_err();
            assert!(
                dangling.to_string().contains("symlink to nothing"),
                "{dangling}"
            );
            assert!(fs.exists("apps/a/base/dangling.yaml"));
            assert!(!fs.exists("apps/a/base/nothing.yaml"));
            assert!(matches!(
                fs.read("apps/a/base/up/x"),
                Err(FsError::OutsideRoot { .. })
            ));
            assert_eq!(
                fs.read("apps/a/base/latin1.yaml"),
                Err(FsError::InvalidUtf8 {
                    path: "apps/a/base/latin1.yaml".into(),
                    line: 2
                })
            );
            assert!(fs.read_bytes("apps/a/base/latin1.yaml").is_ok());
        }
    }
}
