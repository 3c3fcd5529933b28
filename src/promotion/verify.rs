//! Checking a promotion before it is written: the check engine reads the working tree with the
//! promotion's edits laid over it.
//!
//! Design. The edited files are served through [`OverlayFs`] (every other file comes from the
//! working tree), and the promoted apps are checked with the repository's configuration and
//! policy. In a Git work tree the check runs in pull-request mode against `HEAD`, so the change
//! is also judged by the pull-request rules — `digest-not-promoted` refuses a production digest
//! staging never ran, `change-freeze` a promotion inside a freeze window, `bot-write-scope` a
//! bot (`$GITHUB_ACTOR`) promoting past dev. Only the findings about the promoted environment
//! count against a promotion.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::plan::{PromoteOptions, Promotion, Status};
use super::{PromotionError, Repo};
use crate::check::{self, CheckOptions, PrState};
use crate::diag::{Finding, Severity};
use crate::git::GitFs;
use crate::settings::Policy;
use crate::source::{Fs, FsError, Sources};

/// Checks the edited tree; sets each promotion's findings and status. Returns the sources the
/// findings point into.
pub(crate) fn check(
    repo: &Repo,
    opts: &PromoteOptions,
    promotions: &mut [Promotion],
) -> Result<Sources, PromotionError> {
    let sources = Sources::new();
    let edited: BTreeMap<String, Arc<str>> = promotions
        .iter()
        .flat_map(|p| &p.files)
        .map(|f| (f.path.clone(), Arc::from(f.after.as_str())))
        .collect();
    if edited.is_empty() {
        return Ok(sources);
    }
    let policy = Policy::load_layered(
        Some(&repo.config.file.rules),
        opts.policy.as_deref(),
        &sources,
        &crate::rules::CATALOG,
    )
    .map_err(|f| PromotionError::Findings(f, sources.clone()))?;
    // In a Git work tree the promotion is judged as a change to HEAD, by the pull-request rules too.
    let pr = GitFs::open(&opts.root, "HEAD").ok().map(|g| {
        let known = crate::git::index_known(&opts.root);
        let mut changed = crate::git::changed_paths_with(&g, &*repo.dyn_fs(), &known);
        changed.extend(edited.keys().cloned());
        PrState {
            rev: "HEAD".into(),
            base_fs: Arc::new(g),
            changed,
            actor: std::env::var("GITHUB_ACTOR").ok(),
        }
    });
    let copts = CheckOptions {
        root: opts.root.clone(),
        policy: opts.policy.clone(),
        apps: promotions
            .iter()
            .filter(|p| !p.files.is_empty())
            .map(|p| p.app.clone())
            .collect(),
        base: pr.as_ref().map(|p| p.rev.clone()),
        ..CheckOptions::default()
    };
    let fs = Arc::new(OverlayFs {
        inner: repo.dyn_fs(),
        files: edited,
    });
    let info = crate::git::repo_info(&opts.root);
    let outcome = check::check_tree(
        fs,
        sources,
        &repo.config,
        &policy,
        &copts,
        pr.as_ref(),
        &info,
    );
    for p in promotions.iter_mut().filter(|p| p.status == Status::Ready) {
        p.findings = outcome
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none() && concerns(f, &p.app, &p.to))
            .cloned()
            .collect();
        let blocked = p
            .findings
            .iter()
            .any(|f| f.fatal || f.severity == Severity::Error);
        if blocked {
            p.status = if opts.force {
                Status::Forced
            } else {
                Status::Refused
            };
        }
    }
    Ok(outcome.sources)
}

/// Whether a finding is about environment `env` of `app` (or could not evaluate at all).
fn concerns(f: &Finding, app: &str, env: &str) -> bool {
    if f.fatal && f.app.is_none() {
        return true;
    }
    f.app.as_deref() == Some(app)
        && f.environment
            .as_deref()
            .is_some_and(|e| e.split(", ").any(|x| x == env))
}

/// The working tree with some files' contents replaced: what the check engine reads to judge
/// a promotion before it is written.
struct OverlayFs {
    inner: Arc<dyn Fs>,
    files: BTreeMap<String, Arc<str>>,
}

impl Fs for OverlayFs {
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError> {
        match self.files.get(rel) {
            Some(t) => Ok(t.clone()),
            None => self.inner.read(rel),
        }
    }
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        match self.files.get(rel) {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => self.inner.read_bytes(rel),
        }
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.inner.is_dir(rel)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || self.inner.is_file(rel)
    }
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError> {
        self.inner.list(rel)
    }
    fn subdirs(&self, rel: &str) -> Result<Vec<String>, FsError> {
        self.inner.subdirs(rel)
    }
    fn describe(&self) -> String {
        format!("{} (with the promotion's edits)", self.inner.describe())
    }
}
