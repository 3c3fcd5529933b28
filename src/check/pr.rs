//! Pull-request mode: the base revision, what changed since, and which environments a change
//! affects — shared by `check --base` and `diff`.
//!
//! An environment is affected when a file its build reads at head changed, or lies in a directory
//! where something changed (a deleted component directory), or when the GitOps object that names
//! it changed. Scanning the base revision too is unnecessary: whatever the base build read that
//! head's no longer does was dropped by an edit to a kustomization head reads — itself a change.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{ErrorCode, Finding};
use crate::discover::{App, Env};
use crate::git::GitFs;
use crate::render::Renderer;
use crate::source::Fs;

/// Pull-request mode state: the base revision and what changed since.
pub struct PrState {
    pub(crate) rev: String,
    pub(crate) base_fs: Arc<GitFs>,
    /// Repo-relative paths whose content differs between the base and the working tree.
    pub(crate) changed: BTreeSet<String>,
    pub(crate) actor: Option<String>,
}

/// Resolves `auto` to the pull request's base branch (`origin/$GITHUB_BASE_REF`), else `origin/HEAD`.
pub fn resolve_base(rev: &str) -> String {
    if rev != "auto" {
        return rev.to_string();
    }
    match std::env::var("GITHUB_BASE_REF") {
        Ok(b) if !b.is_empty() => format!("origin/{b}"),
        _ => "origin/HEAD".to_string(),
    }
}

impl PrState {
    /// Opens the base revision of the repository at `root` and compares it with the working tree
    /// `head` (files the git index vouches for by their stat data are not read).
    pub(crate) fn open(
        root: &Path,
        head: &dyn Fs,
        rev: &str,
        actor: Option<String>,
    ) -> Result<PrState, Box<Finding>> {
        let rev = resolve_base(rev);
        match GitFs::open(root, &rev) {
            Ok(g) => {
                let known = crate::git::index_known(root);
                let changed = crate::git::changed_paths_with(&g, head, &known);
                Ok(PrState {
                    rev,
                    base_fs: Arc::new(g),
                    changed,
                    actor: actor.or_else(|| std::env::var("GITHUB_ACTOR").ok()),
                })
            }
            Err(e) => Err(Box::new(Finding::error_code(
                ErrorCode::Config,
                e.to_string(),
            ))),
        }
    }
}

/// The files an environment's rendering depends on: what its build reads, and the object (or
/// config entry) that names it, with what that adds (components).
pub(crate) fn env_dependencies(renderer: &Renderer, env: &Env) -> BTreeSet<String> {
    let mut deps = renderer.env_dependencies(&env.dir, env.build.as_deref());
    if let Some(p) = renderer.sources().position(env.source.loc) {
        deps.insert(p.file);
    }
    deps
}

/// Which environments (`(app index, env index)`) a set of changed paths affects.
pub(crate) fn affected(
    apps: &[App],
    renderer: &Renderer,
    changed: &BTreeSet<String>,
) -> BTreeSet<(usize, usize)> {
    let mut changed_dirs: BTreeSet<&str> = BTreeSet::new();
    for c in changed {
        let mut d = c.as_str();
        while let Some(i) = d.rfind('/') {
            d = &d[..i];
            if !changed_dirs.insert(d) {
                break;
            }
        }
    }
    let touched = |deps: &BTreeSet<String>| {
        deps.iter()
            .any(|d| changed.contains(d) || changed_dirs.contains(d.as_str()))
    };
    let flags: Vec<Vec<bool>> = apps
        .par_iter()
        .map(|a| {
            a.envs
                .iter()
                .map(|e| touched(&env_dependencies(renderer, e)))
                .collect()
        })
        .collect();
    let mut out = BTreeSet::new();
    for (ai, f) in flags.iter().enumerate() {
        for (ei, hit) in f.iter().enumerate() {
            if *hit {
                out.insert((ai, ei));
            }
        }
    }
    out
}
