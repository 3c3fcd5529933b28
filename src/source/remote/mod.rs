//! Remote bases: git repositories named in `resources:`/`components:`, fetched once into a cache
//! on the user's machine and read from there like any other tree.
//!
//! Design. Three parts, each its own file: the URL grammar kustomize accepts ([`url`]), the cache
//! ([`cache`]: a content-addressed store of trees, one per commit, and a small record per
//! repository and ref saying which commit the ref resolved to when it was last fetched), and the
//! fetch itself ([`fetch`]: gix, shallow, into a temporary bare repository, the commit's tree
//! written out and renamed into place). Nothing here parses kustomizations or renders: the
//! renderer (`render::remote`) asks for a pinned tree and reads it through a [`super::DiskFs`]
//! rooted at it, so a fetched tree gets the same root-confined, no-follow access as the
//! repository itself.
//!
//! Whether the network may be used is a property of the run, not of one build: renderers are
//! made in many places (check, diff, promotion, versions), so the command line sets the mode once
//! for the process ([`set`]), as it sets the budgets (`crate::limits`). The default is
//! [`Mode::Cache`]: what was fetched before is used, nothing is fetched, and a base that is not
//! in the cache is an error that says how to fill it (`kustodian fetch`).

pub mod cache;
pub mod fetch;
pub mod url;

use std::path::PathBuf;
use std::sync::RwLock;

pub use cache::{Cache, Pinned};
pub use url::{RepoSpec, UrlError};

/// Whether a file name (as [`crate::source::Sources`] and reports hold it) is in a fetched
/// remote base: those are named by their repository's URL (`https://…@1a2b3c4:deploy.yaml`),
/// and no repository-relative path holds `://` (`render::remote` makes the names).
pub fn is_fetched_path(path: &str) -> bool {
    path.contains("://")
}

/// What a run may do with a remote base.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Fetch every remote base (once per run) and record the commit its ref resolves to.
    Fetch,
    /// Use the commit recorded by the last fetch; never touch the network.
    #[default]
    Cache,
    /// Refuse remote bases.
    Deny,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fetch => "fetch",
            Mode::Cache => "cache",
            Mode::Deny => "deny",
        }
    }
}

/// How this process treats remote bases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// The cache directory; `None`: [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
}

impl Settings {
    /// The cache these settings name (`None` when no directory can be found: no
    /// `KUSTODIAN_CACHE_DIR`, `XDG_CACHE_HOME` or `HOME`).
    pub fn cache(&self) -> Option<Cache> {
        self.cache_dir
            .clone()
            .or_else(default_cache_dir)
            .map(Cache::new)
    }
}

static SETTINGS: RwLock<Option<Settings>> = RwLock::new(None);

/// Sets how this process treats remote bases (the command line does, once, before any build).
pub fn set(settings: Settings) {
    *SETTINGS.write().unwrap() = Some(settings);
}

/// How this process treats remote bases ([`Settings::default`] unless [`set`]).
pub fn get() -> Settings {
    SETTINGS.read().unwrap().clone().unwrap_or_default()
}

/// `$KUSTODIAN_CACHE_DIR`, else `$XDG_CACHE_HOME/kustodian`, else `~/.cache/kustodian` (empty
/// variables count as unset, and relative XDG paths are ignored, as the XDG spec says).
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("KUSTODIAN_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = var("XDG_CACHE_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Some(xdg.join("kustodian"));
    }
    var("HOME").map(|h| PathBuf::from(h).join(".cache").join("kustodian"))
}

/// Why a remote base could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// Cache mode, and no fetch recorded this repository and ref.
    #[error("{url} is not in the cache ({dir})")]
    NotCached { url: String, dir: String },
    /// A record names a commit whose tree is missing or does not match it.
    #[error("the cache entry of {url} is incomplete ({msg})")]
    Incomplete { url: String, msg: String },
    /// No directory to cache in.
    #[error(
        "no cache directory: set KUSTODIAN_CACHE_DIR (or XDG_CACHE_HOME, or HOME) to where fetched bases may be kept"
    )]
    NoCacheDir,
    /// The transport or the remote failed.
    #[error("fetching {url} failed: {msg}")]
    Fetch { url: String, msg: String },
    /// The remote has no such ref.
    #[error("{url} has no ref '{git_ref}'")]
    RefNotFound { url: String, git_ref: String },
    /// The fetch took longer than the URL's `timeout` (kustomize's default: 27 s).
    #[error("fetching {url} took longer than {secs} s (raise it with `?timeout=`)")]
    Timeout { url: String, secs: u64 },
    /// The fetched tree holds an entry no checkout may write (`..`, `.git`, a `/` in a name).
    #[error("{url}: refusing tree entry '{path}': {msg}")]
    BadTree {
        url: String,
        path: String,
        msg: String,
    },
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
}

impl RemoteError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> RemoteError {
        RemoteError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        }
    }
}
