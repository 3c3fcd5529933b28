//! The repository walk, and environments found by convention.
//!
//! One walk lists the repository's directories (in parallel where a directory is wide), noting
//! which hold a kustomization and which YAML files GitOps objects may be in. Conventional layouts,
//! at any depth:
//! - `<app>/overlays/<env>` (and `envs/`, `env/`, `environments/` in place of `overlays/`): every
//!   such directory holding a kustomization is environment `<env>` of `<app>`;
//! - `<app>/<env>` beside `<app>/base` (kustomize's `multibases/`, Flux's `apps/<env>` and
//!   `tenants/<env>`): siblings of a base whose names read as a stage (`staging`, `prod-eu`);
//! - `clusters/<cluster>/...`: every kustomization below a cluster's directory belongs to that
//!   cluster's environment (the app is its path below the cluster).
//!
//! An environment directory (or an app's `base`) under `overlays/` and the like is not listed:
//! apps do not nest inside them, and its files are found by opening them, which reading them needs
//! anyway (see `DiskFs`) — on a thousand-app repository that spares four listings per app.

use rayon::prelude::*;

use super::{Env, Found};
use crate::render::kustomization::find_kustomization_file;
use crate::settings::Config;
use crate::source::{Fs, child_rel, parent_rel};

const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".terraform"];

/// The names kustomize reads a kustomization from.
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Directory names whose children are environments.
const ENV_PARENTS: &[&str] = &["overlays", "envs", "env", "environments"];

/// How many entries a directory needs before its subtrees are walked in parallel: listing
/// thousands of directories is system-call bound and two threads halve it, while a parallel job
/// per entry of a small directory costs more in coordination than the calls it runs.
const PARALLEL_FROM: usize = 8;

/// Deeper than any real layout; bounds the walk on a hostile tree.
const MAX_DEPTH: usize = 24;

/// What the walk saw.
#[derive(Clone, Debug, Default)]
pub(crate) struct Walked {
    /// Directories holding a kustomization, in path order.
    pub(crate) kustomizations: Vec<String>,
    /// YAML files of the listed directories (where GitOps objects are looked for), in path order.
    pub(crate) yaml_files: Vec<String>,
}

/// Walks the repository.
pub(crate) fn walk(fs: &dyn Fs, config: &Config) -> Walked {
    let mut out = Walked::default();
    walk_dir(fs, config, "", 0, &mut out);
    out
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

fn walk_dir(fs: &dyn Fs, config: &Config, dir: &str, depth: usize, out: &mut Walked) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(names) = fs.list(dir) else { return };
    let (mut subdirs, mut files) = (Vec::new(), Vec::new());
    let mut kustomization = false;
    let env_parent = ENV_PARENTS.contains(&basename(dir));
    for n in names {
        let path = child_rel(dir, &n);
        if fs.is_dir(&path) {
            if !n.starts_with('.') && !SKIP_DIRS.contains(&n.as_str()) {
                subdirs.push(n);
            }
            continue;
        }
        // An environment that is neither a directory nor a file (a symlink out of the
        // repository or to nothing) is still one: its build says what is wrong, instead of the
        // environment silently dropping out.
        if env_parent && !n.starts_with('.') && !fs.is_file(&path) && fs.exists(&path) {
            out.kustomizations.push(path);
            continue;
        }
        kustomization |= KUSTOMIZATION_FILES.contains(&n.as_str());
        if is_yaml(&n) && !config.ignored(&path) {
            files.push(path);
        }
    }
    if kustomization {
        out.kustomizations.push(dir.to_string());
    }
    out.yaml_files.extend(files);
    let has_env_parent = subdirs.iter().any(|n| ENV_PARENTS.contains(&n.as_str()));
    let visit = |name: &String| {
        let path = child_rel(dir, name);
        let mut found = Walked::default();
        if config.ignored(&path) {
            return found;
        }
        // An environment under `overlays/` (or an app's base beside one) is a leaf.
        let leaf_candidate = env_parent || (has_env_parent && name == "base");
        if leaf_candidate && find_kustomization_file(fs, &path).is_some() {
            found.kustomizations.push(path);
            return found;
        }
        walk_dir(fs, config, &path, depth + 1, &mut found);
        found
    };
    let found: Vec<Walked> = if subdirs.len() < PARALLEL_FROM {
        subdirs.iter().map(visit).collect()
    } else {
        subdirs.par_iter().map(visit).collect()
    };
    for f in found {
        out.kustomizations.extend(f.kustomizations);
        out.yaml_files.extend(f.yaml_files);
    }
}

/// The last segment of a repo-relative path.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// An app's name from its directory (`.` for the repository root).
pub(crate) fn app_name(dir: &str) -> String {
    if dir.is_empty() {
        ".".to_string()
    } else {
        basename(dir).to_string()
    }
}

/// The conventional environments among the kustomizations the walk found.
pub(crate) fn classify(fs: &dyn Fs, config: &Config, walked: &Walked) -> Vec<Found> {
    walked
        .kustomizations
        .iter()
        .filter(|dir| config.includes_overlay(dir))
        .filter_map(|dir| classify_path(fs, config, dir))
        .collect()
}

/// The conventional reading of one directory: `(app name, app dir, base, env name)`.
pub(crate) fn read_path(
    fs: &dyn Fs,
    config: &Config,
    dir: &str,
) -> Option<(String, String, Option<String>, String)> {
    if dir.is_empty() {
        return None;
    }
    let parent = parent_rel(dir);
    let name = basename(dir);
    let base_of = |app_dir: &str| {
        let b = child_rel(app_dir, "base");
        find_kustomization_file(fs, &b).map(|_| b)
    };
    if ENV_PARENTS.contains(&basename(parent)) {
        let app_dir = parent_rel(parent);
        return Some((
            app_name(app_dir),
            app_dir.to_string(),
            base_of(app_dir),
            name.to_string(),
        ));
    }
    // A `base` directory beside it: a kustomization, or (Flux's `apps/base/<app>`) a folder of them.
    if name != "base" && config.stage_of(name).is_some() && fs.is_dir(&child_rel(parent, "base")) {
        return Some((
            app_name(parent),
            parent.to_string(),
            base_of(parent),
            name.to_string(),
        ));
    }
    // clusters/<cluster>/<rest>: environment <cluster>, app <rest>.
    let segs: Vec<&str> = dir.split('/').collect();
    if let Some(i) = segs.iter().position(|s| *s == "clusters")
        && i + 1 < segs.len()
    {
        let cluster = segs[i + 1];
        let rest = segs[i + 2..].join("/");
        let app = if rest.is_empty() {
            "cluster".to_string()
        } else {
            rest.clone()
        };
        let app_dir = segs[..=i].join("/");
        return Some((app, app_dir, None, cluster.to_string()));
    }
    None
}

fn classify_path(fs: &dyn Fs, config: &Config, dir: &str) -> Option<Found> {
    let (app, app_dir, base, env) = read_path(fs, config, dir)?;
    Some(Found {
        app,
        app_dir,
        base,
        env: Env::plain(env.clone(), config.stage_of(&env), dir.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::discover;
    use crate::settings::Stage;
    use crate::source::{DiskFs, Sources};

    fn repo(dirs: &[&str]) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for d in dirs {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
            std::fs::write(
                t.path().join(d).join("kustomization.yaml"),
                "resources: []\n",
            )
            .unwrap();
        }
        t
    }

    fn listed(t: &tempfile::TempDir) -> Vec<(String, String, Option<Stage>, String)> {
        let fs = DiskFs::new(t.path()).unwrap();
        discover(
            &fs,
            &Config::default(),
            &Sources::new(),
            &Default::default(),
        )
        .apps
        .iter()
        .flat_map(|a| {
            a.envs
                .iter()
                .map(|e| (a.name.clone(), e.name.clone(), e.stage, e.dir.clone()))
        })
        .collect()
    }

    #[test]
    fn finds_apps_envs_and_stages() {
        let t = repo(&[
            "apps/api/base",
            "apps/api/overlays/production",
            "apps/api/overlays/dev",
            "apps/api/overlays/staging",
            "teams/x/apps/worker/overlays/prod",
            "teams/x/apps/worker/overlays/eu-west",
        ]);
        std::fs::create_dir_all(t.path().join("apps/api/overlays/empty")).unwrap();
        // Inside an overlay or a base nothing is an app (not walked); beside them it is.
        for d in [
            "apps/api/overlays/dev/x/overlays/y",
            "apps/api/base/x/overlays/y",
            "apps/api/overlays/empty/app/overlays/z",
        ] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
            std::fs::write(t.path().join(d).join("kustomization.yaml"), "").unwrap();
        }
        let fs = DiskFs::new(t.path()).unwrap();
        let apps = discover(
            &fs,
            &Config::default(),
            &Sources::new(),
            &Default::default(),
        )
        .apps;
        assert_eq!(apps.len(), 3);
        assert_eq!(apps[1].dir, "apps/api/overlays/empty/app");
        let api = &apps[0];
        assert_eq!(api.name, "api");
        assert_eq!(api.base.as_deref(), Some("apps/api/base"));
        let names: Vec<&str> = api.envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["dev", "staging", "production"]);
        let worker = &apps[2];
        assert_eq!(worker.name, "worker");
        assert_eq!(worker.base, None);
        assert_eq!(worker.env("prod").unwrap().stage, Some(Stage::Production));
        assert_eq!(worker.env("eu-west").unwrap().stage, None);
    }

    #[test]
    fn envs_dirs_bases_with_stage_siblings_and_clusters() {
        let t = repo(&[
            // kostis-codefresh/gitops-environment-promotion
            "base",
            "variants/prod",
            "envs/prod-eu",
            "envs/staging-eu",
            "envs/qa",
            // kustomize's examples/multibases
            "examples/multibases/base",
            "examples/multibases/dev",
            "examples/multibases/production",
            // Flux: apps/<env> beside apps/base, tenants/<env>
            "apps/base/podinfo",
            "apps/staging",
            "apps/production",
            "tenants/base/dev-team",
            "tenants/staging",
            "tenants/production",
            // A base's other siblings are not environments.
            "lib/base",
            "lib/crds",
            "clusters/staging/flux-system",
        ]);
        let got = listed(&t);
        let want = [
            (".", "qa", Some(Stage::Staging), "envs/qa"),
            (".", "staging-eu", Some(Stage::Staging), "envs/staging-eu"),
            (".", "prod-eu", Some(Stage::Production), "envs/prod-eu"),
            ("apps", "staging", Some(Stage::Staging), "apps/staging"),
            (
                "apps",
                "production",
                Some(Stage::Production),
                "apps/production",
            ),
            (
                "flux-system",
                "staging",
                Some(Stage::Staging),
                "clusters/staging/flux-system",
            ),
            (
                "multibases",
                "dev",
                Some(Stage::Dev),
                "examples/multibases/dev",
            ),
            (
                "multibases",
                "production",
                Some(Stage::Production),
                "examples/multibases/production",
            ),
            (
                "tenants",
                "staging",
                Some(Stage::Staging),
                "tenants/staging",
            ),
            (
                "tenants",
                "production",
                Some(Stage::Production),
                "tenants/production",
            ),
        ];
        let want: Vec<(String, String, Option<Stage>, String)> = want
            .iter()
            .map(|(a, e, s, d)| (a.to_string(), e.to_string(), *s, d.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
