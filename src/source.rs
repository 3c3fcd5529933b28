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

use std::collections::HashMap;
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

/// A path resolved inside the root: its real path and whether it is a directory.
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

/// One directory's entries, sorted by name.
type Listing = Arc<Vec<(String, EntryKind)>>;

/// The working tree below a root directory. Refuses symlinks that resolve outside the root.
///
/// Every directory is listed at most once per run and its entries' kinds come from the listing
/// itself (`d_type`), so resolving `apps/web/overlays/dev/patch.yaml` costs a few hash lookups
/// instead of a `realpath` (one `lstat` per component) and a `stat`. Only a path through a
/// symlink is canonicalized, to check that it stays inside the root. The tree is assumed not to
/// change during a run.
pub struct DiskFs {
    root: PathBuf,
    canon_root: PathBuf,
    /// Resolved path and kind of paths through symlinks.
    meta: RwLock<HashMap<String, Resolved>>,
    /// Listings of the directories read so far, keyed by repo-relative path (`""` = root).
    listings: RwLock<HashMap<String, Result<Listing, FsError>>>,
}

impl DiskFs {
    pub fn new(root: &Path) -> Result<DiskFs, FsError> {
        let canon_root = root.canonicalize().map_err(|e| FsError::Io {
            path: root.display().to_string(),
            msg: e.to_string(),
        })?;
        Ok(DiskFs {
            root: root.to_path_buf(),
            canon_root,
            meta: RwLock::default(),
            listings: RwLock::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn resolve(&self, rel: &str) -> Result<PathBuf, FsError> {
        self.resolve_kind(rel).map(|(p, _)| p)
    }

    /// Resolved path and whether it is a directory.
    fn resolve_kind(&self, rel: &str) -> Result<(PathBuf, bool), FsError> {
        match self.kind_by_listing(rel) {
            Some(Ok(dir)) => Ok((self.canon_root.join(rel.trim_end_matches('/')), dir)),
            Some(Err(e)) => Err(e),
            None => self.resolve_through_symlink(rel),
        }
    }

    /// Through a symlink: canonicalized once, then memoized.
    fn resolve_through_symlink(&self, rel: &str) -> Resolved {
        memoized(&self.meta, rel, || self.resolve_canonical(rel))
    }

    /// Whether `rel` is a directory, from the cached listings of its ancestors; `None` when the
    /// path goes through a symlink or is not normalized (resolve it the slow way).
    fn kind_by_listing(&self, rel: &str) -> Option<Result<bool, FsError>> {
        let path = rel.trim_end_matches('/');
        if path.is_empty() {
            return Some(Ok(true));
        }
        // Fast path: the parent was listed already. Only real directories (reached without a
        // symlink) are ever listed under their own path, so its entry decides.
        if let Some((parent, name)) = path.rsplit_once('/')
            && !name.is_empty()
            && name != "."
            && name != ".."
            && let Some(Ok(listing)) = self.listings.read().unwrap().get(parent)
        {
            return match listing
                .binary_search_by(|(n, _)| n.as_str().cmp(name))
                .map(|i| listing[i].1)
            {
                Ok(EntryKind::Dir) => Some(Ok(true)),
                Ok(EntryKind::File) | Ok(EntryKind::Other) => Some(Ok(false)),
                Ok(EntryKind::Symlink) => None,
                Err(_) => Some(Err(FsError::NotFound(rel.to_string()))),
            };
        }
        let mut parent = "";
        let mut is_dir = true;
        for (i, name) in path.split('/').enumerate() {
            // Not a normalized path (`.`, `..`, `//`): let the kernel sort it out.
            if !is_dir || name.is_empty() || name == "." || name == ".." {
                return None;
            }
            let end = if i == 0 {
                name.len()
            } else {
                parent.len() + 1 + name.len()
            };
            let listing = match self.listing(parent) {
                Ok(l) => l,
                Err(_) => return Some(Err(FsError::NotFound(rel.to_string()))),
            };
            match listing
                .binary_search_by(|(n, _)| n.as_str().cmp(name))
                .map(|i| listing[i].1)
            {
                Ok(EntryKind::Dir) => is_dir = true,
                Ok(EntryKind::File) | Ok(EntryKind::Other) => is_dir = false,
                Ok(EntryKind::Symlink) => return None,
                Err(_) => return Some(Err(FsError::NotFound(rel.to_string()))),
            }
            parent = &path[..end];
        }
        Some(Ok(is_dir))
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
        let path = self.canon_root.join(dir);
        let mut entries = list_dir(&path).map_err(io)?;
        // An entry the listing could not type (`DT_UNKNOWN` on some file systems) is asked of
        // the file system itself, without following a symlink.
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
}

impl Fs for DiskFs {
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError> {
        let (p, is_dir) = self.resolve_kind(rel)?;
        if is_dir {
            return Err(FsError::Io {
                path: rel.to_string(),
                msg: "is a directory".into(),
            });
        }
        let bytes = read_file(&p).map_err(|e| FsError::Io {
            path: rel.to_string(),
            msg: e.to_string(),
        })?;
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Arc::from(s)),
            Err(e) => Ok(Arc::from(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
        }
    }
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let p = self.resolve(rel)?;
        std::fs::read(&p).map_err(|e| FsError::Io {
            path: rel.to_string(),
            msg: e.to_string(),
        })
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
        let key = match real.strip_prefix(&self.canon_root) {
            Ok(r) => r.to_string_lossy().into_owned(),
            Err(_) => return Err(FsError::NotFound(rel.to_string())),
        };
        Ok(self.listing(&key)?.iter().map(|(n, _)| n.clone()).collect())
    }
    fn subdirs(&self, rel: &str) -> Result<Vec<String>, FsError> {
        let (real, is_dir) = self.resolve_kind(rel)?;
        let key = match real.strip_prefix(&self.canon_root) {
            Ok(r) if is_dir => r.to_string_lossy().into_owned(),
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

/// The value memoized under `key`, computed (outside the lock) on first use.
fn memoized<T: Clone>(map: &RwLock<HashMap<String, T>>, key: &str, make: impl FnOnce() -> T) -> T {
    if let Some(hit) = map.read().unwrap().get(key) {
        return hit.clone();
    }
    let value = make();
    map.write().unwrap().insert(key.to_string(), value.clone());
    value
}

/// A directory's entries (without `.` and `..`) and their kinds as the listing reports them.
/// On Unix through `rustix`: `open` + `getdents64` + `close`, without the `fstat` glibc's
/// `opendir` (under `std::fs::read_dir`) adds — one system call in five, on thousands of
/// directories.
#[cfg(unix)]
fn list_dir(path: &Path) -> std::io::Result<Vec<(String, EntryKind)>> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut dir = rustix::fs::Dir::new(fd)?;
    let mut out = Vec::new();
    while let Some(e) = dir.read() {
        let e = e?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let kind = match e.file_type() {
            FileType::Symlink => EntryKind::Symlink,
            FileType::Directory => EntryKind::Dir,
            FileType::RegularFile => EntryKind::File,
            FileType::Unknown => EntryKind::Other,
            _ => EntryKind::Other,
        };
        out.push((String::from_utf8_lossy(name).into_owned(), kind));
    }
    Ok(out)
}

#[cfg(not(unix))]
fn list_dir(path: &Path) -> std::io::Result<Vec<(String, EntryKind)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(path)? {
        let e = e?;
        let kind = e.file_type().map_or(EntryKind::Other, EntryKind::of);
        out.push((e.file_name().to_string_lossy().into_owned(), kind));
    }
    Ok(out)
}

/// A whole file in `open`, `read`s and `close` only. `std::fs::read` and `read_to_end` also
/// `statx` and `lseek` to size their buffer: on a ten-thousand-file repository those two extra
/// system calls per file were a tenth of a whole check. Config files are small; one chunk
/// usually holds them.
fn read_file(p: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(p)?;
    let mut chunk = [0u8; 16 * 1024];
    let mut buf = Vec::new();
    loop {
        match f.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
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
