//! Discovery: which apps and environments a config repository has, and where each was named.
//!
//! Three sources, most explicit first. (1) `environments:` in `.kustodian.yaml`: path patterns
//! with `{app}`/`{env}` captures. (2) The repository's own GitOps wiring: Argo CD `Application`
//! and `ApplicationSet` objects, Flux `Kustomization` objects (and Kargo `Stage`s for the
//! promotion order) in the repository's YAML files — each names a path the cluster reconciles,
//! with the transformations the controller applies on top ([`EnvBuild`]). (3) Conventional
//! layouts: `<app>/overlays/<env>`, `envs/<env>`, `<app>/<env>` beside a `base`, and the like.
//! A path named by (1) or (2) is authoritative: a conventional overlay at the same path, or one an
//! ApplicationSet excludes, is not checked twice or at all; other conventional overlays are.
//!
//! Each environment gets a stage (configured, else read from its name by token: `prod-eu`,
//! `stg`, `preprod`), and each production environment a staging counterpart to be compared with
//! (configured or Kargo promotion edges, else the staging environment whose name has the same
//! qualifiers — `staging-eu` for `prod-eu` —, else the only staging environment). Discovery walks
//! through [`Fs`], so it works the same on the working tree and on a Git revision.

pub(crate) mod convention;
pub(crate) mod gitops;
pub mod listing;
pub(crate) mod pairing;
pub(crate) mod patterns;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::git::RepoInfo;
use crate::render::overrides::EnvBuild;
use crate::settings::Config;
pub use crate::settings::Stage;
use crate::source::{Fs, Loc, Sources};

/// How an environment was found.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SourceKind {
    /// An `environments:` entry of `.kustodian.yaml`.
    Config,
    /// An Argo CD `Application`.
    ArgocdApplication,
    /// An Argo CD `ApplicationSet`.
    ArgocdApplicationset,
    /// A Flux `Kustomization`.
    FluxKustomization,
    /// A conventional layout (`<app>/overlays/<env>`, `envs/<env>`, ...).
    Convention,
}

/// Where an environment was named: the kind of source and, for objects and config entries, the
/// place they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EnvSource {
    pub(crate) kind: SourceKind,
    /// The object or config entry (`Loc::NONE` for conventions).
    pub(crate) loc: Loc,
}

/// One environment of an app: a directory rendered as the GitOps controller renders it.
#[derive(Clone, Debug, PartialEq)]
pub struct Env {
    /// The environment's name as reports and `--env` use it (`production`, `staging`);
    /// `name@dir` when two environments of one app would otherwise share a name.
    pub name: String,
    pub(crate) stage: Option<Stage>,
    /// Repo-relative directory that is rendered.
    pub dir: String,
    pub(crate) source: EnvSource,
    /// What the controller applies on top of `kustomize build` (Argo CD kustomize options, Flux
    /// patches, images, post-build substitution...); `None`: a plain build.
    pub build: Option<Arc<EnvBuild>>,
}

impl Env {
    /// A plain environment found by convention.
    pub(crate) fn plain(name: String, stage: Option<Stage>, dir: String) -> Env {
        Env {
            name,
            stage,
            dir,
            source: EnvSource {
                kind: SourceKind::Convention,
                loc: Loc::NONE,
            },
            build: None,
        }
    }
}

/// An app and its environments, ordered dev → staging → production (then by name).
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    /// The app's name as reports and `--app` use it (`.` for a repository that is one app).
    pub name: String,
    /// Repo-relative directory of the app (the directory holding its environments, or the
    /// deepest directory its environments share).
    pub(crate) dir: String,
    /// The app's base kustomization directory, when there is one.
    pub(crate) base: Option<String>,
    /// The app's environments, dev → staging → production, then by name.
    pub envs: Vec<Env>,
    /// Pairs `(staging, production)` of indexes into `envs`: which staging environment each
    /// production environment is compared with.
    pub(crate) pairs: Vec<(usize, usize)>,
}

impl App {
    /// The environment called `name`, if the app has one.
    pub fn env(&self, name: &str) -> Option<&Env> {
        self.envs.iter().find(|e| e.name == name)
    }
    /// The staging environment a production environment is compared with.
    pub(crate) fn counterpart(&self, production: &str) -> Option<&Env> {
        let pi = self.envs.iter().position(|e| e.name == production)?;
        self.pairs
            .iter()
            .find(|(_, p)| *p == pi)
            .map(|(s, _)| &self.envs[*s])
    }
}

/// A GitOps object of this repository that points at a path with nothing to render
/// (`gitops-path-missing`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MissingPath {
    /// The object's kind and name (`Application/billing-prd`).
    pub(crate) object: String,
    /// The path as written (after templating), repo-relative.
    pub(crate) path: String,
    /// The `path:` value's place.
    pub(crate) loc: Loc,
    /// Whether the path exists (as a directory without a kustomization or manifests).
    pub(crate) exists: bool,
    /// The closest directory holding a kustomization, when one is close.
    pub(crate) did_you_mean: Option<String>,
}

/// Something discovery could not follow, worth telling the user (not a failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) message: String,
    pub(crate) loc: Loc,
}

/// Everything discovery found.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Every app found, each with its environments, sorted by name.
    pub apps: Vec<App>,
    /// GitOps objects of this repository pointing at nothing.
    pub(crate) missing: Vec<MissingPath>,
    /// Sources that are not rendered (Helm charts, other repositories' paths, templates
    /// kustodian cannot evaluate).
    pub(crate) notes: Vec<Note>,
    /// How many GitOps objects (Applications, ApplicationSets, Flux Kustomizations) were read.
    pub(crate) gitops_objects: usize,
    /// Directories holding a kustomization that no environment renders directly (a repository
    /// with some but no environments is one to configure, not a clean one).
    pub(crate) kustomizations: usize,
    /// YAML files of the walk that mention `CustomResourceDefinition` (their CRDs describe
    /// kinds for schema validation wherever they are).
    pub(crate) crd_files: Vec<String>,
}

/// Finds every app and environment under the root of `fs` (the files it reads are interned in
/// `sources`, where the renderer finds them again).
///
/// `repo` says what GitOps objects may call this repository (its remotes' URLs, its branch).
pub(crate) fn discover(
    fs: &dyn Fs,
    config: &Config,
    sources: &Sources,
    repo: &RepoInfo,
) -> Discovery {
    let walked = convention::walk(fs, config);
    let mut found: Vec<Found> = Vec::new();
    found.extend(patterns::find(fs, config, &walked));
    let gitops = gitops::find(fs, config, sources, &walked, repo);
    found.extend(gitops.envs);
    let covered: BTreeSet<&str> = found.iter().map(|f| f.env.dir.as_str()).collect();
    let conventional: Vec<Found> = convention::classify(fs, config, &walked)
        .into_iter()
        .filter(|f| !covered.contains(f.env.dir.as_str()))
        .filter(|f| !gitops.excluded.iter().any(|x| x == &f.env.dir))
        .collect();
    found.extend(conventional);
    let mut apps = assemble(found, config);
    for app in &mut apps {
        // Environments at the repository root (`envs/<env>`) make an app of the repository
        // itself: it goes by the checked directory's name rather than `.`.
        if app.name == "."
            && let Some(name) = &repo.dir_name
        {
            app.name.clone_from(name);
        }
        app.pairs = pairing::pairs(app, config, &gitops.promotions);
    }
    Discovery {
        apps,
        missing: gitops.missing,
        notes: gitops.notes,
        gitops_objects: gitops.objects,
        kustomizations: walked.kustomizations.len(),
        crd_files: gitops.crd_files,
    }
}

/// One environment found by one source, with the app it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) app: String,
    /// The app's directory (what names an app apart from another of the same name).
    pub(crate) app_dir: String,
    pub(crate) base: Option<String>,
    pub(crate) env: Env,
}

/// Groups environments into apps, orders them, and makes app names unique.
fn assemble(found: Vec<Found>, config: &Config) -> Vec<App> {
    let mut apps: BTreeMap<(String, String), App> = BTreeMap::new();
    for f in found {
        let app = apps
            .entry((f.app_dir.clone(), f.app.clone()))
            .or_insert_with(|| App {
                name: f.app.clone(),
                dir: f.app_dir.clone(),
                base: f.base.clone(),
                envs: Vec::new(),
                pairs: Vec::new(),
            });
        if app.base.is_none() {
            app.base = f.base;
        }
        // The same environment twice (two objects deploying one path under one name): once.
        if !app
            .envs
            .iter()
            .any(|e| e.name == f.env.name && e.dir == f.env.dir && e.build == f.env.build)
        {
            app.envs.push(f.env);
        }
    }
    let mut out: Vec<App> = apps.into_values().collect();
    for app in &mut out {
        app.envs.sort_by(|a, b| {
            config
                .env_rank(&a.name, a.stage)
                .cmp(&config.env_rank(&b.name, b.stage))
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.dir.cmp(&b.dir))
        });
        // Two environments of one app with one name (two clusters' objects): tell them apart.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for e in &app.envs {
            *seen.entry(e.name.clone()).or_default() += 1;
        }
        for e in &mut app.envs {
            if seen[&e.name] > 1 {
                e.name = format!("{}@{}", e.name, e.dir);
            }
        }
    }
    // An app named by GitOps objects alone lives where its environments' directories meet.
    for app in &mut out {
        if app.dir.is_empty() && app.name != "." {
            app.dir = common_dir(
                app.envs
                    .iter()
                    .map(|e| e.dir.as_str())
                    .chain(app.base.as_deref()),
            );
        }
    }
    // Two apps with one name in different places keep both; make names unique.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for app in &out {
        *seen.entry(app.name.clone()).or_default() += 1;
    }
    for app in &mut out {
        if seen[&app.name] > 1 && !app.dir.is_empty() {
            app.name = app.dir.clone();
        }
    }
    out
}

/// The deepest directory holding every path.
fn common_dir<'a>(mut paths: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = paths.next() else {
        return String::new();
    };
    let mut common: Vec<&str> = first.split('/').collect();
    for p in paths {
        let segs: Vec<&str> = p.split('/').collect();
        let n = common.iter().zip(&segs).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    common.join("/")
}
