//! What `kustodian envs` shows: every environment a check will check, with its app, stage, path
//! and where it was named, the staging → production pairs the promotion rules compare, and what
//! discovery could not follow. Also the JSON contract (`schemas/envs.schema.json`).

use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Discovery, SourceKind, discover};
use crate::diag::Finding;
use crate::settings::{Config, RuleCatalog, Stage};
use crate::source::{DiskFs, Fs, Loc, Sources};

/// The listing (`version` 1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Listing {
    /// Format version; incompatible changes bump it.
    pub(crate) version: u32,
    pub(crate) environments: Vec<ListedEnv>,
    /// Which staging environment each production environment is compared with.
    pub(crate) pairs: Vec<ListedPair>,
    /// GitOps objects of the repository pointing at a path with nothing to render.
    pub(crate) missing: Vec<ListedNote>,
    /// Sources not rendered (Helm charts, other repositories, generators needing a cluster).
    pub(crate) notes: Vec<ListedNote>,
}

/// One environment.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListedEnv {
    pub(crate) app: String,
    pub(crate) environment: String,
    pub(crate) stage: Option<Stage>,
    /// The rendered directory, relative to the repository root.
    pub(crate) path: String,
    pub(crate) source: ListedSource,
}

/// Where an environment was named.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListedSource {
    pub(crate) kind: SourceKind,
    /// The file of the object or config entry (absent for conventions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u32>,
}

/// A compared pair.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListedPair {
    pub(crate) app: String,
    pub(crate) staging: String,
    pub(crate) production: String,
}

/// A message at a place.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ListedNote {
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
}

fn place(sources: &Sources, loc: Loc) -> (Option<String>, Option<u32>) {
    match sources.position(loc) {
        Some(p) => (Some(p.file), Some(p.line)),
        None => (None, None),
    }
}

/// The listing of a discovery.
pub fn listing(d: &Discovery, sources: &Sources) -> Listing {
    let mut environments = Vec::new();
    let mut pairs = Vec::new();
    for app in &d.apps {
        for e in &app.envs {
            let (file, line) = place(sources, e.source.loc);
            environments.push(ListedEnv {
                app: app.name.clone(),
                environment: e.name.clone(),
                stage: e.stage,
                path: e.dir.clone(),
                source: ListedSource {
                    kind: e.source.kind,
                    file,
                    line,
                },
            });
        }
        for (s, p) in &app.pairs {
            pairs.push(ListedPair {
                app: app.name.clone(),
                staging: app.envs[*s].name.clone(),
                production: app.envs[*p].name.clone(),
            });
        }
    }
    let note = |message: String, loc: Loc| {
        let (file, line) = place(sources, loc);
        ListedNote {
            message,
            file,
            line,
        }
    };
    Listing {
        version: 1,
        environments,
        pairs,
        missing: d
            .missing
            .iter()
            .map(|m| {
                note(
                    format!(
                        "{} points at '{}', which {}",
                        m.object,
                        m.path,
                        missing_what(m.exists)
                    ),
                    m.loc,
                )
            })
            .collect(),
        notes: d
            .notes
            .iter()
            .map(|n| note(n.message.clone(), n.loc))
            .collect(),
    }
}

/// Why a path has nothing to render.
pub(crate) fn missing_what(exists: bool) -> &'static str {
    if exists {
        "holds no kustomization and no manifests"
    } else {
        "does not exist"
    }
}

/// Discovers the repository at `root` as `check` would.
pub fn discover_repo(
    root: &Path,
    catalog: &dyn RuleCatalog,
) -> Result<(Discovery, Sources), Vec<Finding>> {
    let sources = Sources::new();
    let fs: Arc<dyn Fs> = Arc::new(DiskFs::new(root).map_err(|e| {
        let mut f = Finding::error_code(
            crate::diag::ErrorCode::Config,
            format!("cannot read repository: {e}"),
        );
        f.path = Some(root.display().to_string());
        vec![f]
    })?);
    let config = Config::load(&*fs, &sources, catalog)?;
    let repo = crate::git::repo_info(root);
    let d = discover(&*fs, &config, &sources, &repo);
    Ok((d, sources))
}

impl SourceKind {
    /// How the human listing names a source.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            SourceKind::Config => ".kustodian.yaml",
            SourceKind::ArgocdApplication => "Argo CD Application",
            SourceKind::ArgocdApplicationset => "Argo CD ApplicationSet",
            SourceKind::FluxKustomization => "Flux Kustomization",
            SourceKind::Convention => "convention",
        }
    }
}
