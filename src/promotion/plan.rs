//! The data of a promotion plan: what `promote` is asked to do, and per app and environment
//! what moves, which files change and what the checks say — shared by the planner
//! ([`super::promote`]) and the check of the edited tree ([`super::verify`]), and read by the
//! report layer.

use std::path::PathBuf;

use super::images::{ImageRef, short_digest};
use crate::diag::Finding;
use crate::source::Sources;

/// What `promote` is asked to do.
#[derive(Clone, Debug, Default)]
pub struct PromoteOptions {
    /// The repository to promote in (its root directory).
    pub root: PathBuf,
    /// The app to promote (`None` with `all`).
    pub app: Option<String>,
    /// Every app that has environment `to` and whose `to` runs something else than `from`.
    pub all: bool,
    /// The environment to promote to.
    pub to: String,
    /// The environment to take the images from (default: the one before `to`).
    pub from: Option<String>,
    /// Only this image (repository or its last path segment).
    pub image: Option<String>,
    /// Set this digest instead of what `from` runs.
    pub digest: Option<String>,
    /// Set this tag instead of what `from` runs.
    pub tag: Option<String>,
    /// Add an `images:` entry to the target overlay when the image is set in a shared file.
    pub create: bool,
    /// Keep a promotion the checks refuse.
    pub force: bool,
    /// The edited files are to be committed: they must not carry other uncommitted changes.
    pub commit: bool,
    /// Extra policy file, as for `check`.
    pub policy: Option<PathBuf>,
}

/// Every promotion asked for, checked.
pub struct Plan {
    /// One per app promoted (the one asked for, or each with `all`).
    pub promotions: Vec<Promotion>,
    /// The table the findings' locations refer to.
    pub(crate) sources: Sources,
}

/// One app's promotion to one environment.
pub struct Promotion {
    /// The app promoted.
    pub app: String,
    /// The environment promoted to (whose overlay files are edited).
    pub to: String,
    /// The environment the images come from (`None` with `--digest`/`--tag`).
    pub(crate) from: Option<String>,
    /// What the environment is to run (already runs, when nothing moves).
    pub(crate) wanted: Vec<ImageRef>,
    pub(crate) moves: Vec<Move>,
    /// The files the promotion edits, with their text before and after (empty when nothing
    /// moves).
    pub files: Vec<FileEdit>,
    /// What the checks say about the environment after the edit (errors and warnings).
    pub(crate) findings: Vec<Finding>,
    pub(crate) status: Status,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// The environment already runs what it would be promoted to.
    UpToDate,
    /// Checked and clean: write it.
    Ready,
    /// An error finding: the files stay as they are.
    Refused,
    /// An error finding, overridden with `force`.
    Forced,
    /// (`all`) Not promotable, and why.
    Skipped(String),
}

/// One image moved in the target environment.
#[derive(Clone, Debug)]
pub(crate) struct Move {
    pub(crate) repository: String,
    pub(crate) before: ImageRef,
    pub(crate) after: ImageRef,
    /// The file and 1-based line edited.
    pub(crate) file: String,
    pub(crate) line: usize,
    /// An `images:` entry was added (`create`).
    pub(crate) created: bool,
}

/// A file's text before and after the promotion.
#[derive(Clone, Debug)]
pub struct FileEdit {
    /// Repo-relative path.
    pub path: String,
    pub(crate) before: String,
    /// The file's whole text after the edit.
    pub after: String,
}

impl Promotion {
    /// Whether its files are to be written.
    pub fn writes(&self) -> bool {
        matches!(self.status, Status::Ready | Status::Forced)
    }

    /// `chore(<env>): promote <app> to <digest[:19]>` (the tag when no digest is set).
    pub fn commit_message(&self) -> String {
        let mut to: Vec<String> = self
            .moves
            .iter()
            .map(|m| match (&m.after.digest, &m.after.tag) {
                (Some(d), _) => short_digest(d).to_string(),
                (None, Some(t)) => t.clone(),
                (None, None) => m.after.reference(),
            })
            .collect();
        to.dedup();
        format!(
            "chore({}): promote {} to {}",
            self.to,
            self.app,
            to.join(", ")
        )
    }
}

impl Plan {
    /// 0 when every promotion is written or up to date, 1 when one is refused.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.promotions.iter().any(|p| p.status == Status::Refused))
    }
}
