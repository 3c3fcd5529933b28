//! `kustodian versions`: which image each environment runs, where it is set, and since which
//! commit — the answer to "what runs where" from Git alone.
//!
//! Every environment is rendered (in parallel, bases shared); the images of its containers are
//! read from the output with the location that set them. With history on, [`history::walk`]
//! attributes each value to the commit that introduced it. Markers compare each production
//! environment with the app's staging environment: production behind staging (a pending
//! promotion), production running something staging never ran (only decidable with history), and
//! references without a digest. Without history everything here depends on the tree alone, which
//! is what makes a generated `VERSIONS.md` checkable for staleness.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;

use super::history::{self, CommitInfo, EnvStart};
use super::images::{ImageRef, images_of, values_of};
use super::{PromotionError, Repo};
use crate::discover::{App, Stage};
use crate::render::Renderer;
use crate::source::Position;

/// What `versions` is asked for.
#[derive(Clone, Debug, Default)]
pub struct VersionsOptions {
    /// Only these apps (names), empty = all.
    pub apps: Vec<String>,
    /// Read Git history for the commit that set each value; `false` reads the tree alone.
    pub git: bool,
    /// List this many values of each image per environment (the current one included) with
    /// their commits (0: none).
    pub history: usize,
}

/// Every app's environments and the images they run.
#[derive(Clone, Debug, Default)]
pub struct Versions {
    /// The commit history was read from (`HEAD`), when it was.
    pub revision: Option<String>,
    pub apps: Vec<AppVersions>,
}

#[derive(Clone, Debug)]
pub struct AppVersions {
    pub app: String,
    pub dir: String,
    /// In promotion order.
    pub environments: Vec<EnvVersions>,
}

#[derive(Clone, Debug)]
pub struct EnvVersions {
    pub environment: String,
    pub stage: Option<Stage>,
    pub dir: String,
    pub images: Vec<ImageVersion>,
    /// The environment does not render: why, and where.
    pub error: Option<EnvError>,
}

#[derive(Clone, Debug)]
pub struct EnvError {
    pub message: String,
    pub location: Option<Position>,
}

/// One image reference an environment runs.
#[derive(Clone, Debug)]
pub struct ImageVersion {
    pub image: ImageRef,
    /// `Kind/name container` of each container running it.
    pub containers: Vec<String>,
    /// Where it is set: the line to edit.
    pub location: Option<Position>,
    /// The commit that set this value (`None` without history, or when the value is not
    /// committed yet).
    pub commit: Option<CommitInfo>,
    /// When asked for: the last values of this image in this environment, newest (the current
    /// one) first.
    pub history: Vec<Past>,
    pub markers: Vec<Marker>,
}

/// A value an image had in an environment, and the commit that set it.
#[derive(Clone, Debug)]
pub struct Past {
    pub images: Vec<ImageRef>,
    pub commit: Option<CommitInfo>,
}

/// What deserves a look in a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marker {
    /// Referenced by tag only: the tag can be moved.
    NoDigest,
    /// Production differs from what `env` (staging) runs, and ran that before or history is not
    /// known: a promotion is pending.
    PendingPromotion { env: String, runs: ImageRef },
    /// Production runs something `env` (staging) never ran in the history read.
    NotRunIn { env: String },
}

impl Versions {
    /// Whether some environment failed to render (the command then exits 2).
    pub fn has_errors(&self) -> bool {
        self.apps
            .iter()
            .flat_map(|a| &a.environments)
            .any(|e| e.error.is_some())
    }
}

/// Renders every environment of the repository at `root` and reports what runs where.
pub fn collect(root: &Path, opts: &VersionsOptions) -> Result<Versions, PromotionError> {
    let repo = Repo::open(root)?;
    let apps: Vec<&App> = if opts.apps.is_empty() {
        repo.apps.iter().collect()
    } else {
        opts.apps
            .iter()
            .map(|n| repo.app(n))
            .collect::<Result<_, _>>()?
    };
    let renderer = Renderer::new(repo.dyn_fs(), repo.sources.clone());
    let jobs: Vec<(usize, usize)> = apps
        .iter()
        .enumerate()
        .flat_map(|(ai, a)| (0..a.envs.len()).map(move |ei| (ai, ei)))
        .collect();
    let rendered: Vec<(EnvVersions, EnvStart)> = jobs
        .par_iter()
        .map(|&(ai, ei)| render_env(&renderer, apps[ai], ei, opts.git))
        .collect();
    let mut out = Versions::default();
    let mut starts = Vec::new();
    let mut it = rendered.into_iter();
    for a in &apps {
        let mut envs = Vec::new();
        for _ in &a.envs {
            let (ev, start) = it.next().expect("one render per environment");
            envs.push(ev);
            starts.push(start);
        }
        out.apps.push(AppVersions {
            app: a.name.clone(),
            dir: a.dir.clone(),
            environments: envs,
        });
    }
    let mut found = Vec::new();
    if opts.git {
        want_staging_history(&out, &mut starts);
        if let Some(walk) = history::walk(root, starts, opts.history.max(1))? {
            found = attach(&mut out, walk, opts.history > 0);
        }
    }
    mark(&mut out, &found);
    Ok(out)
}

/// One environment's images, and where its history walk starts.
fn render_env(renderer: &Renderer, app: &App, ei: usize, deps: bool) -> (EnvVersions, EnvStart) {
    let env = &app.envs[ei];
    let mut ev = EnvVersions {
        environment: env.name.clone(),
        stage: env.stage,
        dir: env.dir.clone(),
        images: Vec::new(),
        error: None,
    };
    let mut start = EnvStart {
        dir: env.dir.clone(),
        deps: if deps {
            renderer.dependencies(&env.dir)
        } else {
            BTreeSet::new()
        },
        values: BTreeMap::new(),
        wanted: BTreeSet::new(),
    };
    match renderer.build(&env.dir) {
        Ok(b) => {
            let uses = images_of(&b);
            start.values = values_of(&uses);
            ev.images = uses
                .into_iter()
                .map(|u| ImageVersion {
                    location: renderer.sources().position(u.set_at),
                    image: u.image,
                    containers: u.containers,
                    commit: None,
                    history: Vec::new(),
                    markers: Vec::new(),
                })
                .collect();
        }
        Err(e) => {
            ev.error = Some(EnvError {
                message: e.message.clone(),
                location: renderer.sources().position(e.loc),
            });
        }
    }
    (ev, start)
}

/// The staging environment of an app (the first of its stage) and its production environments.
fn staging_and_production(a: &AppVersions) -> Option<(usize, Vec<usize>)> {
    let staging = a
        .environments
        .iter()
        .position(|e| e.stage == Some(Stage::Staging))?;
    let prod = (0..a.environments.len())
        .filter(|&i| a.environments[i].stage == Some(Stage::Production))
        .collect();
    Some((staging, prod))
}

/// Asks the walk to look for production's references in staging's past.
fn want_staging_history(v: &Versions, starts: &mut [EnvStart]) {
    let mut base = 0;
    for a in &v.apps {
        if let Some((si, prods)) = staging_and_production(a) {
            for pi in prods {
                for img in &a.environments[pi].images {
                    starts[base + si]
                        .wanted
                        .insert((img.image.repository.clone(), img.image.reference()));
                }
            }
        }
        base += a.environments.len();
    }
}

/// Puts the walk's commits and pasts on the images; returns, per environment (in order), the
/// production references found in its past (see [`want_staging_history`]).
fn attach(v: &mut Versions, walk: history::Walk, list: bool) -> Vec<BTreeSet<(String, String)>> {
    v.revision = Some(walk.head);
    let mut found = Vec::new();
    let mut envs = walk.envs.into_iter();
    for e in v.apps.iter_mut().flat_map(|a| &mut a.environments) {
        let Some(h) = envs.next() else { break };
        for img in &mut e.images {
            let Some(segs) = h.segments.get(&img.image.repository) else {
                continue;
            };
            img.commit = segs.first().and_then(|s| s.commit.clone());
            if !list {
                continue;
            }
            img.history = segs
                .iter()
                .map(|s| Past {
                    images: s.references.iter().map(|r| ImageRef::parse(r)).collect(),
                    commit: s.commit.clone(),
                })
                .collect();
        }
        found.push(h.found);
    }
    found
}

/// Sets the markers: references without a digest; production against staging. `found`: what
/// the history walk found of production's references in each environment's past (empty
/// without history).
fn mark(v: &mut Versions, found: &[BTreeSet<(String, String)>]) {
    let history = v.revision.is_some();
    let mut base = 0;
    for a in &mut v.apps {
        for img in a.environments.iter_mut().flat_map(|e| &mut e.images) {
            if img.image.digest.is_none() {
                img.markers.push(Marker::NoDigest);
            }
        }
        if let Some((si, prods)) = staging_and_production(a) {
            let staging = a.environments[si].clone();
            let ran_in_staging = |img: &ImageRef| {
                found.get(base + si).is_some_and(|f| {
                    f.iter()
                        .any(|(repo, r)| repo == &img.repository && ImageRef::parse(r).same_as(img))
                })
            };
            for pi in prods {
                for img in &mut a.environments[pi].images {
                    let theirs: Vec<&ImageRef> = staging
                        .images
                        .iter()
                        .map(|i| &i.image)
                        .filter(|i| i.repository == img.image.repository)
                        .collect();
                    if theirs.is_empty() || theirs.iter().any(|t| t.same_as(&img.image)) {
                        continue;
                    }
                    img.markers.push(if history && !ran_in_staging(&img.image) {
                        Marker::NotRunIn {
                            env: staging.environment.clone(),
                        }
                    } else {
                        Marker::PendingPromotion {
                            env: staging.environment.clone(),
                            runs: theirs[0].clone(),
                        }
                    });
                }
            }
        }
        base += a.environments.len();
    }
}

/// An image a change moves in one environment (pull-request mode's versions table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionChange {
    pub app: String,
    pub environment: String,
    pub repository: String,
    /// What the environment ran before (empty: the image is new there).
    pub before: Vec<ImageRef>,
    pub after: Vec<ImageRef>,
}

/// The versions diff of a pull request: per changed environment and image repository, the
/// references before and after, from the rendered changes the check engine computed.
pub fn changes_of(changes: &[crate::check::EnvChange]) -> Vec<VersionChange> {
    let mut out: Vec<VersionChange> = Vec::new();
    for c in changes {
        for (_, before, after) in &c.images {
            let after = ImageRef::parse(after);
            let before = (!before.is_empty()).then(|| ImageRef::parse(before));
            let row = if let Some(row) = out.iter_mut().find(|v| {
                v.app == c.app && v.environment == c.env && v.repository == after.repository
            }) {
                row
            } else {
                out.push(VersionChange {
                    app: c.app.clone(),
                    environment: c.env.clone(),
                    repository: after.repository.clone(),
                    before: Vec::new(),
                    after: Vec::new(),
                });
                out.last_mut().expect("just pushed")
            };
            if let Some(b) = before
                && !row.before.contains(&b)
            {
                row.before.push(b);
            }
            if !row.after.contains(&after) {
                row.after.push(after);
            }
        }
    }
    out
}
