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

mod disk;
mod mem;
pub mod remote;

pub use disk::DiskFs;
pub use mem::MemFs;

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

impl Default for Loc {
    fn default() -> Loc {
        Loc::NONE
    }
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
        let col = self.text.get(start..end).map_or(0, |s| s.chars().count()) + 1;
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
            .map_or(self.text.len(), |&e| e as usize - 1);
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
    /// A FIFO, a device, a socket: never opened for reading (a FIFO blocks, a device never ends).
    #[error("{path}: is {what}, not a regular file (only regular files are read)")]
    NotRegular { path: String, what: &'static str },
    #[error("{0}: is a directory, not a file")]
    IsDir(String),
    /// kustomize refuses such files; replacing the bytes would check something else.
    #[error("{path}: invalid UTF-8 at line {line} (kustomize refuses such files)")]
    InvalidUtf8 { path: String, line: usize },
    #[error("{path}: {exceeded}")]
    OverBudget {
        path: String,
        exceeded: crate::limits::Exceeded,
    },
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
}

impl FsError {
    /// The repo-relative path the error is about.
    pub fn path(&self) -> &str {
        match self {
            FsError::NotFound(p) | FsError::IsDir(p) => p,
            FsError::OutsideRoot { path, .. }
            | FsError::NotRegular { path, .. }
            | FsError::InvalidUtf8 { path, .. }
            | FsError::OverBudget { path, .. }
            | FsError::Io { path, .. } => path,
        }
    }
}

/// A file's bytes as text: the one place every text read from a tree passes through.
pub fn text_of(rel: &str, bytes: Vec<u8>) -> Result<Arc<str>, FsError> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Arc::from(s)),
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..bad].iter().filter(|&&b| b == b'\n').count();
            Err(FsError::InvalidUtf8 {
                path: rel.to_string(),
                line,
            })
        }
    }
}

/// A read-only view of one tree of files, addressed by repo-relative paths (`/`-separated, no `..`).
///
/// It is the only way kustodian reads a repository: every implementation refuses what lies
/// outside its root, reads regular files only, and keeps to the budgets of [`crate::limits`].
pub trait Fs: Send + Sync {
    /// Reads a file's text; invalid UTF-8 is an error ([`text_of`]).
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError> {
        text_of(rel, self.read_bytes(rel)?)
    }
    /// Reads a file's bytes (generator inputs may be binary).
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError>;
    fn is_dir(&self, rel: &str) -> bool;
    /// Whether `rel` is a regular file (or a symlink inside the root to one).
    fn is_file(&self, rel: &str) -> bool;
    /// Whether anything is at `rel`: a file, a directory, a symlink (even one that leads nowhere
    /// or out of the root), a FIFO... Lookups by name (a kustomization, CODEOWNERS) ask this, so
    /// that something there that cannot be read is an error rather than "absent".
    fn exists(&self, rel: &str) -> bool {
        self.is_file(rel) || self.is_dir(rel)
    }
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
        .map_or_else(
            || abs.ancestors().last().unwrap_or(&abs).to_path_buf(),
            Path::to_path_buf,
        );
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
