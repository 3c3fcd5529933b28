//! Render errors: what went wrong, where (file:line), and what else is relevant.

use crate::source::Loc;

/// Why a build failed. Every variant that can point at a file does.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RenderError {
    pub kind: RenderErrorKind,
    pub message: String,
    /// Where to look (the kustomization entry, the bad YAML, ...). `Loc::NONE` when unknown.
    pub loc: Loc,
    /// Other places worth showing (e.g. the first definition of a duplicate).
    pub related: Vec<(Loc, String)>,
    /// Repo-relative path named when `loc` is unknown (a missing file, a directory).
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderErrorKind {
    /// Invalid YAML or a document that is not an object.
    Yaml,
    /// A file or directory that does not exist.
    Missing,
    /// A path leaving the repository root or the kustomization's own tree.
    Escape,
    /// A kustomization that includes itself.
    Cycle,
    /// A feature kustodian refuses to emulate (helm, remote bases, plugins).
    Unsupported,
    /// Two resources with the same id, or a generator/patch target that does not resolve.
    Conflict,
    /// An invalid kustomization field or patch.
    Invalid,
    /// A remote base that could not be had: denied, not in the cache, or its fetch failed.
    Remote,
}

impl RenderError {
    pub fn new(kind: RenderErrorKind, message: impl Into<String>, loc: Loc) -> RenderError {
        RenderError {
            kind,
            message: message.into(),
            loc,
            related: Vec::new(),
            path: None,
        }
    }
    pub fn invalid(message: impl Into<String>, loc: Loc) -> RenderError {
        RenderError::new(RenderErrorKind::Invalid, message, loc)
    }
    pub fn with_related(mut self, loc: Loc, label: impl Into<String>) -> RenderError {
        self.related.push((loc, label.into()));
        self
    }
    pub fn with_path(mut self, path: impl Into<String>) -> RenderError {
        self.path = Some(path.into());
        self
    }
}
