//! Source files and locations.
//!
//! Every byte kustodian reads goes through a [`Sources`] table: a file is read once, interned under a
//! small [`FileId`], and every YAML node keeps a [`Loc`] (file + byte range) into it. Line and column
//! are derived on demand from a per-file line index, so nodes stay small (12 bytes of provenance) while
//! diagnostics can still point at `file:line:col` and show a snippet.
//!
//! Reading is done through a [`Fs`] — a read-only view of one tree (the working directory today, a Git
//! revision in pull-request mode). The table is shared across threads: rendering runs overlays in
//! parallel and all of them intern into the same table, so a base read by fifty overlays is read once.

/// The hash maps of the per-run caches (see Cargo.toml on foldhash).
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl FileId {
    /// No file: the node was synthesized (e.g. a generated ConfigMap's `kind`).
    pub const NONE: FileId = FileId(u32::MAX);
}

/// A byte range in one source file. `Loc::NONE` when a node has no source (synthesized).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Loc {
    pub const NONE: Loc = Loc {
        file: FileId::NONE,
        start: 0,
        end: 0,
    };
    pub fn new(file: FileId, start: usize, end: usize) -> Loc {
        Loc {
            file,
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn is_none(&self) -> bool {
        self.file == FileId::NONE
    }
    pub fn is_some(&self) -> bool {
        !self.is_none()
    }
}

/// One file's text and line index.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the repository root, with `/` separators (what reports print).
    pub path: String,
    pub text: Arc<str>,
    /// Offsets of line starts, computed the first time a location is shown (most files never
    /// are).
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

impl SourceFile {
    pub fn new(path: String, text: Arc<str>) -> SourceFile {
        SourceFile {
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0u32];
            for (i, b) in self.text.bytes().enumerate() {
                if b == b'\n' {
                    starts.push(i as u32 + 1);
                }
            }
            starts
        })
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts()[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line as u32 + 1, col as u32)
    }

    /// Byte offset where a 1-based line starts (the end of the text past the last line).
    pub fn line_start(&self, line: u32) -> usize {
        let i = (line as usize).saturating_sub(1);
        self.line_starts()
            .get(i)
            .map_or(self.text.len(), |&s| s as usize)
    }

    /// Number of lines (a final newline does not start one more).
    pub fn line_count(&self) -> u32 {
        let n = self.line_starts().len() as u32;
        if self.text.ends_with('\n') { n - 1 } else { n }
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&s) = self.line_starts().get(i) else {
            return "";
        };
        let e = self
            .line_starts()
            .get(i + 1)
            .map(|&e| e as usize - 1)
            .unwrap_or(self.text.len());
        self.text
            .get(s as usize..e)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

/// A resolved, printable location.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Position {
    /// Path relative to the repository root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
}

/// The table of every file read during one run. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Sources {
    inner: Arc<RwLock<SourcesInner>>,
}

impl std::fmt::Debug for Sources {
    /// The paths read, not their texts.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.read().unwrap();
        f.debug_list()
            .entries(inner.files.iter().map(|file| &file.path))
            .finish()
    }
}

#[derive(Default)]
struct SourcesInner {
    files: Vec<Arc<SourceFile>>,
    by_path: HashMap<String, FileId>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Interns a file's text under its display path; the same path twice yields the same id
    /// (the first text wins — a run never sees a file change under it).
    pub fn add(&self, path: &str, text: Arc<str>) -> FileId {
        self.add_new(path, text).0
    }

    /// Like [`Sources::add`], also telling whether this call added the file (`false`: it was
    /// already there, and `text` was dropped).
    pub fn add_new(&self, path: &str, text: Arc<str>) -> (FileId, bool) {
        if let Some(id) = self.inner.read().unwrap().by_path.get(path) {
            return (*id, false);
        }
        let mut inner = self.inner.write().unwrap();
        if let Some(id) = inner.by_path.get(path) {
            return (*id, false);
        }
        let id = FileId(inner.files.len() as u32);
        inner
            .files
            .push(Arc::new(SourceFile::new(path.to_string(), text)));
        inner.by_path.insert(path.to_string(), id);
        (id, true)
    }

    /// Every file read so far, with its id.
    pub fn files(&self) -> Vec<(FileId, Arc<SourceFile>)> {
        let inner = self.inner.read().unwrap();
        inner
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f.clone()))
            .collect()
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.inner.read().unwrap().by_path.get(path).copied()
    }

    pub fn get(&self, id: FileId) -> Option<Arc<SourceFile>> {
        if id == FileId::NONE {
            return None;
        }
        self.inner.read().unwrap().files.get(id.0 as usize).cloned()
    }

    /// File, line and column of a location's start.
    pub fn position(&self, loc: Loc) -> Option<Position> {
        let f = self.get(loc.file)?;
        let (line, column) = f.line_col(loc.start);
        Some(Position {
            file: f.path.clone(),
            line,
            column,
        })
    }

    /// `file:line:col` for messages, or `<generated>`.
    pub fn describe(&self, loc: Loc) -> String {
        match self.position(loc) {
            Some(p) => format!("{}:{}:{}", p.file, p.line, p.column),
            None => "<generated>".to_string(),
        }
    }
}

/// Errors reading from a [`Fs`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FsError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{path}: refusing to read outside the repository root {root}")]
    OutsideRoot { path: String, root: String },
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
}

/// A read-only view of one tree of files, addressed by repo-relative paths (`/`-separated, no `..`).
pub trait Fs: Send + Sync {
    /// Reads a file's text (invalid UTF-8 replaced).
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError>;
    /// Reads a file's bytes (generator inputs may be binary).
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError>;
    fn is_dir(&self, rel: &str) -> bool;
    fn is_file(&self, rel: &str) -> bool;
    /// Entries of a directory (names only), sorted.
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError>;
    /// The subdirectories of a directory, sorted (a tree walk asks this of every directory).
    fn subdirs(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let names = self.list(rel)?;
        Ok(names
            .into_iter()
            .filter(|n| self.is_dir(&crate::source::child_path(rel, n)))
            .collect())
    }
    /// A human name for the tree (a directory path, or `git:REV`).
    fn describe(&self) -> String;
}

/// A path resolved inside the root: where to open it and whether it is a directory.
type Resolved = Result<(PathBuf, bool), FsError>;

/// What a directory entry is, as the directory listing says (no `stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    File,
    Dir,
    /// Resolved on demand: it may point anywhere, including outside the root.
    Symlink,
    Other,
}

impl EntryKind {
    /// The kind of a file type that was not followed through a symlink.
    fn of(t: std::fs::FileType) -> EntryKind {
        if t.is_symlink() {
            EntryKind::Symlink
        } else if t.is_dir() {
            EntryKind::Dir
        } else if t.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        }
    }
}

/// What a probe found: the path's kind (`None`: missing) and, for a file, its bytes.
type ProbeResult = (Option<EntryKind>, Option<Vec<u8>>);

/// A probed path: its kind, and a file's bytes until the first `read` takes them.
struct Probed {
    kind: Option<EntryKind>,
    bytes: Option<Vec<u8>>,
}

/// One directory's entries, sorted by name.
type Listing = Arc<Vec<(String, EntryKind)>>;

/// The working tree below a root directory. Refuses symlinks that resolve outside the root.
///
/// A path's kind comes from its parent's listing (`d_type`) when the parent was listed (a tree
/// walk lists every directory it descends into), and otherwise from opening the path itself
/// without following a symlink (`O_NOFOLLOW`), once its parent is known to be a real directory.
/// Such a probe reads the whole file and keeps the bytes for the `read` that almost always
/// follows (`is_file`, then `read`): a kustomization's own files then cost one
/// `open`/`read`/`close` each, with no listing of their directory and no `stat`. Either way no
/// path is `realpath`ed unless it goes through a symlink, which is canonicalized to check that it
/// stays inside the root. Files are opened relative to a descriptor of the root, so the kernel
/// walks only the repository-relative part of each path. The tree is assumed not to change
/// during a run.
pub struct DiskFs {
    root: PathBuf,
    canon_root: PathBuf,
    #[cfg(unix)]
    root_fd: rustix::fd::OwnedFd,
    /// Resolved path and kind of paths through symlinks.
    meta: RwLock<HashMap<String, Resolved>>,
    /// Listings of the directories read so far, keyed by repo-relative path (`""` = root).
    listings: RwLock<HashMap<String, Result<Listing, FsError>>>,
    /// Kinds of paths whose parent was never listed, found by opening them (`None`: missing).
    probed: RwLock<HashMap<String, Probed>>,
}

impl DiskFs {
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
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where to open a path and whether it is a directory. The path is relative to the root
    /// when it was resolved without a symlink, else its real (absolute) path.
    fn resolve_kind(&self, rel: &str) -> Resolved {
        match self.kind_by_listing(rel) {
            Some(Ok(dir)) => Ok((PathBuf::from(rel.trim_end_matches('/')), dir)),
            Some(Err(e)) => Err(e),
            None => self.resolve_through_symlink(rel),
        }
    }

    /// Through a symlink: canonicalized once, then memoized.
    fn resolve_through_symlink(&self, rel: &str) -> Resolved {
        memoized(&self.meta, rel, || self.resolve_canonical(rel))
    }

    /// Whether `rel` is a directory, from its parent's listing or a probe of the path; `None`
    /// when the path goes through a symlink or is not normalized (resolve it the slow way).
    fn kind_by_listing(&self, rel: &str) -> Option<Result<bool, FsError>> {
        let path = rel.trim_end_matches('/');
        if path.is_empty() {
            return Some(Ok(true));
        }
        // An absolute path would make `openat` ignore the root descriptor: only the slow path,
        // which checks where a path really is, may answer for one.
        if path.starts_with('/') || Path::new(path).is_absolute() {
            return None;
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        // Not a normalized path (`.`, `..`, `//`): let the kernel sort it out.
        if name.is_empty() || name == "." || name == ".." {
            return None;
        }
        let listed = match self.listings.read().unwrap().get(parent) {
            Some(Ok(listing)) => Some(entry_kind(listing, name)),
            _ => None,
        };
        let kind = match listed {
            Some(kind) => kind,
            None => {
                // Only a real directory (reached without a symlink) may be probed below.
                match self.kind_by_listing(parent)? {
                    Ok(true) => {}
                    Ok(false) | Err(_) => return Some(Err(FsError::NotFound(rel.to_string()))),
                }
                match self.probe(parent, path) {
                    Ok(kind) => kind,
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        match kind {
            Some(EntryKind::Dir) => Some(Ok(true)),
            Some(EntryKind::File | EntryKind::Other) => Some(Ok(false)),
            Some(EntryKind::Symlink) => None,
            None => Some(Err(FsError::NotFound(rel.to_string()))),
        }
    }

    /// The kind of `path` inside the real directory `parent`, which was not listed (memoized;
    /// a failure is not).
    fn probe(&self, parent: &str, path: &str) -> Result<Option<EntryKind>, FsError> {
        if let Some(p) = self.probed.read().unwrap().get(path) {
            return Ok(p.kind);
        }
        let (kind, bytes) = self.probe_uncached(parent, path)?;
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

    /// Opens the path without following a symlink: a directory refuses to be read, a symlink
    /// refuses to be opened, and a file is read whole (kept for the `read` that follows).
    #[cfg(unix)]
    fn probe_uncached(&self, parent: &str, path: &str) -> Result<ProbeResult, FsError> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        // `NONBLOCK`: a FIFO in the tree must not hang the run (it reads as empty).
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.root_fd, path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR) => return Ok((None, None)),
            Err(Errno::LOOP) => return Ok((Some(EntryKind::Symlink), None)),
            // Anything else (permissions, ...): the directory's listing knows better.
            Err(_) => return Ok((self.kind_from_listing(parent, path)?, None)),
        };
        match read_fd(&fd) {
            Ok(bytes) => Ok((Some(EntryKind::File), Some(bytes))),
            Err(e) if e.raw_os_error() == Some(Errno::ISDIR.raw_os_error()) => {
                Ok((Some(EntryKind::Dir), None))
            }
            Err(_) => Ok((self.kind_from_listing(parent, path)?, None)),
        }
    }

    #[cfg(not(unix))]
    fn probe_uncached(&self, parent: &str, path: &str) -> Result<ProbeResult, FsError> {
        Ok((self.kind_from_listing(parent, path)?, None))
    }

    /// The kind of `path` as its parent's listing says (listing it if needed).
    fn kind_from_listing(&self, parent: &str, path: &str) -> Result<Option<EntryKind>, FsError> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Ok(entry_kind(&self.listing(parent)?, name))
    }

    /// Whether `rel` exists and is a directory (`Some(true)`) or a file (`Some(false)`).
    fn kind(&self, rel: &str) -> Option<bool> {
        match self.kind_by_listing(rel) {
            Some(r) => r.ok(),
            None => self.resolve_through_symlink(rel).ok().map(|(_, d)| d),
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
        let path = self.canon_root.join(dir);
        for (name, kind) in &mut entries {
            if *kind == EntryKind::Other
                && let Ok(m) = std::fs::symlink_metadata(path.join(&*name))
            {
                *kind = EntryKind::of(m.file_type());
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Arc::new(entries))
    }

    /// The slow, exact path for anything through a symlink: the real path must stay inside the root.
    fn resolve_canonical(&self, rel: &str) -> Resolved {
        let p = self.canon_root.join(rel);
        match p.canonicalize() {
            Ok(real) => {
                if real.starts_with(&self.canon_root) {
                    let dir = real.is_dir();
                    Ok((real, dir))
                } else {
                    Err(FsError::OutsideRoot {
                        path: rel.to_string(),
                        root: self.root.display().to_string(),
                    })
                }
            }
            Err(_) => Err(FsError::NotFound(rel.to_string())),
        }
    }

    /// The repo-relative key of a resolved directory (its real place, for one behind a symlink).
    fn key_of(&self, resolved: &Path) -> Option<String> {
        if resolved.is_relative() {
            return Some(resolved.to_string_lossy().into_owned());
        }
        resolved
            .strip_prefix(&self.canon_root)
            .ok()
            .map(|r| r.to_string_lossy().into_owned())
    }

    /// A file's bytes: what a probe already read, or read now.
    fn read_resolved(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let (p, is_dir) = self.resolve_kind(rel)?;
        if is_dir {
            return Err(FsError::Io {
                path: rel.to_string(),
                msg: "is a directory".into(),
            });
        }
        let key = rel.trim_end_matches('/');
        if let Some(bytes) = self.take_prefetched(key) {
            return Ok(bytes);
        }
        self.read_file(&p).map_err(|e| FsError::Io {
            path: rel.to_string(),
            msg: e.to_string(),
        })
    }

    /// A directory's entries (without `.` and `..`) and their kinds as the listing reports them.
    /// On Unix through `rustix`: `openat` + `getdents64` + `close`, without the `fstat` glibc's
    /// `opendir` (under `std::fs::read_dir`) adds — one system call in five, on thousands of
    /// directories.
    #[cfg(unix)]
    fn list_dir(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        use rustix::fs::{FileType, Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.root_fd,
            if dir.is_empty() { "." } else { dir },
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
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
            let kind = match e.file_type() {
                FileType::Symlink => EntryKind::Symlink,
                FileType::Directory => EntryKind::Dir,
                FileType::RegularFile => EntryKind::File,
                _ => EntryKind::Other,
            };
            out.push((String::from_utf8_lossy(name).into_owned(), kind));
        }
        Ok(out)
    }

    #[cfg(not(unix))]
    fn list_dir(&self, dir: &str) -> std::io::Result<Vec<(String, EntryKind)>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.canon_root.join(dir))? {
            let e = e?;
            let kind = e.file_type().map_or(EntryKind::Other, EntryKind::of);
            out.push((e.file_name().to_string_lossy().into_owned(), kind));
        }
        Ok(out)
    }

    /// A whole file, `p` relative to the root or absolute.
    #[cfg(unix)]
    fn read_file(&self, p: &Path) -> std::io::Result<Vec<u8>> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::openat(
            &self.root_fd,
            p,
            OFlags::RDONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        read_fd(&fd)
    }

    #[cfg(not(unix))]
    fn read_file(&self, p: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.canon_root.join(p))
    }
}

impl Fs for DiskFs {
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError> {
        let bytes = self.read_resolved(rel)?;
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Arc::from(s)),
            Err(e) => Ok(Arc::from(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
        }
    }
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        self.read_resolved(rel)
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.kind(rel) == Some(true)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.kind(rel) == Some(false)
    }
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let (real, is_dir) = self.resolve_kind(rel)?;
        if !is_dir {
            return Err(FsError::Io {
                path: rel.to_string(),
                msg: "not a directory".into(),
            });
        }
        // A directory reached through a symlink is listed at its real place.
        let Some(key) = self.key_of(&real) else {
            return Err(FsError::NotFound(rel.to_string()));
        };
        Ok(self.listing(&key)?.iter().map(|(n, _)| n.clone()).collect())
    }
    fn subdirs(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let (real, is_dir) = self.resolve_kind(rel)?;
        let key = match self.key_of(&real) {
            Some(k) if is_dir => k,
            _ => return Err(FsError::NotFound(rel.to_string())),
        };
        Ok(self
            .listing(&key)?
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

/// The rest of an open file in `read`s only. `std::fs::read` and `read_to_end` also `statx` and
/// `lseek` to size their buffer: on a ten-thousand-file repository those two extra system calls
/// per file were a tenth of a whole check. Config files are small; one chunk usually holds them.
/// The last `read` (returning 0) confirms the end: a short read alone does not prove it on every
/// file system.
#[cfg(unix)]
fn read_fd(fd: &rustix::fd::OwnedFd) -> std::io::Result<Vec<u8>> {
    use rustix::io::Errno;
    let mut chunk = [0u8; 16 * 1024];
    let mut buf = Vec::new();
    loop {
        match rustix::io::read(fd, &mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `dir/name`, or `name` at the root.
pub fn child_path(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Joins a repo-relative directory and a relative reference, normalizing `.` and `..`.
/// Returns `None` when the result would leave the repository root (or the reference is absolute).
pub fn join_rel(dir: &str, reference: &str) -> Option<String> {
    if reference.starts_with('/') || Path::new(reference).is_absolute() {
        return None;
    }
    let mut parts: Vec<&str> = dir
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for c in Path::new(reference).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Parent directory of a repo-relative path (`""` for the root).
pub fn parent_rel(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// `a/b` + `c` without normalization (both already clean).
pub fn child_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The git work tree a directory lies in and the directory's path inside it (`/`-separated,
/// empty at the top): the nearest ancestor holding `.git` (a directory, or a file in a linked
/// worktree or submodule). Honours `GIT_CEILING_DIRECTORIES` as git does: the search never moves
/// up into a listed directory (the start directory itself is always looked at). `None` outside
/// a work tree.
pub fn work_tree_of(dir: &Path) -> Option<(PathBuf, String)> {
    let abs = dir.canonicalize().ok()?;
    let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .map(|p| p.canonicalize().unwrap_or(p))
                .collect()
        })
        .unwrap_or_default();
    let root = abs
        .ancestors()
        .enumerate()
        .take_while(|(i, a)| *i == 0 || !ceilings.iter().any(|c| c == a))
        .map(|(_, a)| a)
        .find(|a| a.join(".git").exists())?
        .to_path_buf();
    let rel = abs
        .strip_prefix(&root)
        .ok()?
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect::<Vec<_>>()
        .join("/");
    Some((root, rel))
}

/// The repository root for a directory: the nearest ancestor holding `.git`, else the filesystem
/// root (so a plain directory tree builds the way `kustomize build` would, reading sibling bases).
/// Returns the root and `dir` relative to it (`/`-separated).
pub fn repo_root_for(dir: &Path) -> Result<(PathBuf, String), FsError> {
    let abs = dir.canonicalize().map_err(|e| FsError::Io {
        path: dir.display().to_string(),
        msg: e.to_string(),
    })?;
    let root = abs
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| abs.ancestors().last().unwrap_or(&abs).to_path_buf());
    let rel = abs
        .strip_prefix(&root)
        .map(|p| {
            p.components()
                .filter_map(|c| c.as_os_str().to_str())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    Ok((root, rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_rel_normalizes_and_refuses_escape() {
        assert_eq!(
            join_rel("apps/a/overlays/prod", "../../base").as_deref(),
            Some("apps/a/base")
        );
        assert_eq!(
            join_rel("apps", "./x/./y.yaml").as_deref(),
            Some("apps/x/y.yaml")
        );
        assert_eq!(join_rel("apps", "../../etc/passwd"), None);
        assert_eq!(join_rel("apps", "/etc/passwd"), None);
        assert_eq!(join_rel("", "..").as_deref(), None);
    }

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
        assert!(matches!(
            fs.read("apps/a/base/sub"),
            Err(FsError::Io { .. })
        ));
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

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("x".into(), Arc::from("ab\néx: 1\n"));
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes; the ':' after 'éx' is column 3.
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_text(2), "éx: 1");
    }
}
