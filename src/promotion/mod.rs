//! The promotion workflow: what runs where ([`versions`]), since when ([`history`]), and moving
//! an image from one environment to the next ([`promote`]).
//!
//! Design. This layer sits beside the check engine and above discovery and rendering: it learns
//! which images an environment runs from the rendered output ([`images`]), and *where* each is
//! set from the provenance every rendered node carries (the `images:` entry of a kustomization,
//! a patch line, the base manifest). History comes from the Git object database through gix —
//! no git binary, no checkout: the first-parent chain is walked from `HEAD`, and an environment
//! is rendered again at a commit only when a file its build reads changed there. Promotion edits
//! the source by splicing bytes at the spans the YAML parser recorded ([`edit`]), never by
//! re-emitting YAML, so comments, quoting, key order and Flux setter markers stay as written; it
//! checks the edited tree with the check engine through an overlay file tree before anything is
//! written, and commits with gix ([`commit`]). Nothing here prints: results are data, and the
//! report layer turns them into tables, markdown and JSON.

pub mod commit;
pub mod edit;
pub mod history;
pub mod images;
mod plan;
pub mod promote;
mod tree;
mod verify;
pub mod versions;

use std::path::Path;
use std::sync::Arc;

use crate::diag::Finding;
use crate::discover::App;
use crate::settings::Config;
use crate::source::{DiskFs, Fs, FsError, Sources};

/// Why a promotion command could not do what it was asked (exit code 2), as opposed to a
/// promotion the checks refuse (exit code 1, reported as findings).
#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    /// The repository root cannot be read.
    #[error("cannot read repository {path}: {source}")]
    Repo { path: String, source: FsError },
    /// Inputs that cannot be evaluated (an invalid `.kustodian.yaml` or policy, an environment
    /// that does not render): the findings say what and where.
    #[error("{}", .0.first().map_or("could not evaluate", |f| f.message.as_str()))]
    Findings(Vec<Finding>, Sources),
    /// An app, environment or image that does not exist, or options that contradict each other.
    #[error("{0}")]
    Usage(String),
    /// The value cannot be edited in place (a block scalar, a flow sequence, a shared file...).
    #[error("{0}")]
    Edit(String),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// The repository as the promotion commands see it: its files, configuration and apps.
pub struct Repo {
    pub fs: Arc<DiskFs>,
    pub sources: Sources,
    pub config: Config,
    pub apps: Vec<App>,
}

impl Repo {
    /// Reads `.kustodian.yaml` and discovers the apps under `root`.
    pub fn open(root: &Path) -> Result<Repo, PromotionError> {
        let fs = DiskFs::new(root).map_err(|source| PromotionError::Repo {
            path: root.display().to_string(),
            source,
        })?;
        let sources = Sources::new();
        let config = Config::load(&fs, &sources, &crate::rules::CATALOG)
            .map_err(|f| PromotionError::Findings(f, sources.clone()))?;
        let apps =
            crate::discover::discover(&fs, &config, &sources, &crate::git::repo_info(root)).apps;
        Ok(Repo {
            fs: Arc::new(fs),
            sources,
            config,
            apps,
        })
    }

    /// The file tree as the renderer takes it.
    pub fn dyn_fs(&self) -> Arc<dyn Fs> {
        self.fs.clone()
    }

    /// The app called `name` (or whose directory is `name`).
    pub fn app(&self, name: &str) -> Result<&App, PromotionError> {
        self.apps
            .iter()
            .find(|a| a.name == name || a.dir == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.apps.iter().map(|a| a.name.as_str()).collect();
                PromotionError::Usage(format!(
                    "no app '{name}' in this repository (apps: {})",
                    if names.is_empty() {
                        "none found".to_string()
                    } else {
                        names.join(", ")
                    }
                ))
            })
    }
}
