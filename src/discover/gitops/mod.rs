//! Environments named by the repository's GitOps objects.
//!
//! Every YAML file the walk listed is a candidate; only a file that mentions one of the GitOps
//! API groups (`argoproj.io`, `kustomize.toolkit.fluxcd.io`, `kargo.akuity.io`, ...) as an
//! `apiVersion` is parsed, so a repository of plain manifests pays one read per file, shared with
//! the renderer (the text is interned in [`Sources`]). Objects whose source is another repository
//! (an Argo CD `repoURL`, a Flux `sourceRef` to another `GitRepository`) are out of scope, and
//! Helm chart sources are noted as not rendered; objects of this repository pointing at a path
//! with nothing to render are reported (`gitops-path-missing`).
//!
//! Which repository is "this one": the URLs of the git remotes, when an object names one of them;
//! otherwise the source URL whose objects' paths exist here (the most of them).

pub(crate) mod appset;
pub(crate) mod argocd;
pub(crate) mod flux;
pub(crate) mod kargo;
pub(crate) mod template;

use std::collections::BTreeMap;

use super::convention::Walked;
use super::{Found, MissingPath, Note};
use crate::git::RepoInfo;
use crate::settings::Config;
use crate::source::{Fs, Loc, Sources};
use crate::yaml::Node;

/// API groups whose objects discovery reads (and the core kinds Flux substitutes from).
const MARKERS: &[&str] = &[
    "apiVersion: argoproj.io/",
    "apiVersion: kustomize.toolkit.fluxcd.io/",
    "apiVersion: source.toolkit.fluxcd.io/",
    "apiVersion: source.extensions.fluxcd.io/",
    "apiVersion: kargo.akuity.io/",
];

/// One GitOps object, as written.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) namespace: String,
    /// Repo-relative file it is written in.
    pub(crate) file: String,
    pub(crate) node: Node,
}

impl Object {
    /// `Kind/name`, for messages.
    pub(crate) fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
    pub(crate) fn group(&self) -> &str {
        self.api_version.split('/').next().unwrap_or("")
    }
}

/// What the GitOps objects say.
#[derive(Debug, Default)]
pub(crate) struct GitopsFound {
    pub(crate) envs: Vec<Found>,
    /// Directories an ApplicationSet excludes: not environments, whatever their layout.
    pub(crate) excluded: Vec<String>,
    pub(crate) missing: Vec<MissingPath>,
    pub(crate) notes: Vec<Note>,
    /// Promotion edges `(upstream, downstream)` between stage names (Kargo).
    pub(crate) promotions: Vec<(String, String)>,
    /// Applications, ApplicationSets and Flux Kustomizations read.
    pub(crate) objects: usize,
    /// Files mentioning `kind: CustomResourceDefinition`, seen while reading the candidates.
    pub(crate) crd_files: Vec<String>,
}

/// The repository's GitOps objects and the environments they name.
pub(crate) fn find(
    fs: &dyn Fs,
    config: &Config,
    sources: &Sources,
    walked: &Walked,
    repo: &RepoInfo,
) -> GitopsFound {
    let (objects, crd_files) = collect(fs, sources, &walked.yaml_files);
    let mut out = GitopsFound {
        crd_files,
        ..GitopsFound::default()
    };
    if objects.is_empty() {
        return out;
    }
    let scope = Scope::new(fs, &objects, &repo.remotes);
    let ctx = Ctx {
        fs,
        config,
        sources,
        walked,
        objects: &objects,
        scope: &scope,
        branch: repo.branch.as_deref(),
    };
    flux::find(&ctx, &mut out);
    argocd::find(&ctx, &mut out);
    out.promotions = kargo::promotions(&objects);
    out
}

/// What the object readers share.
pub(crate) struct Ctx<'a> {
    pub(crate) fs: &'a dyn Fs,
    pub(crate) config: &'a Config,
    pub(crate) sources: &'a Sources,
    pub(crate) walked: &'a Walked,
    pub(crate) objects: &'a [Object],
    pub(crate) scope: &'a Scope,
    /// The branch checked out, when known.
    pub(crate) branch: Option<&'a str>,
}

/// Reads the candidate files and returns their GitOps objects, in file order, and the files that
/// mention `CustomResourceDefinition` (noted here, where every candidate is read anyway).
fn collect(fs: &dyn Fs, sources: &Sources, files: &[String]) -> (Vec<Object>, Vec<String>) {
    use rayon::prelude::*;
    let per_file: Vec<(Vec<Object>, bool)> = files
        .par_iter()
        .map(|f| {
            let Ok(text) = fs.read(f) else {
                return (vec![], false);
            };
            // Not `kind: CustomResourceDefinition` verbatim: a quoted kind is a CRD too.
            let crd = text.contains("CustomResourceDefinition");
            if !MARKERS.iter().any(|m| text.contains(m)) {
                return (vec![], crd);
            }
            let id = sources.add(f, text.clone());
            // A file that does not parse is the renderer's to report, when something renders it.
            let Ok(docs) = crate::yaml::parse_documents(&text, id) else {
                return (vec![], crd);
            };
            let objects = docs
                .into_iter()
                .filter_map(|d| {
                    let api_version = d.str_at(&["apiVersion"])?.to_string();
                    let kind = d.str_at(&["kind"])?.to_string();
                    // A patch of such an object (a kustomization's `patches:` file) is no object:
                    // Flux needs a `sourceRef`, Argo CD a source.
                    let fragment = match kind.as_str() {
                        "Kustomization" => d.get_path(&["spec", "sourceRef"]).is_none(),
                        "Application" => {
                            d.get_path(&["spec", "source"]).is_none()
                                && d.get_path(&["spec", "sources"]).is_none()
                        }
                        _ => false,
                    };
                    if fragment {
                        return None;
                    }
                    let name = d.str_at(&["metadata", "name"]).unwrap_or("").to_string();
                    let namespace = d
                        .str_at(&["metadata", "namespace"])
                        .unwrap_or("")
                        .to_string();
                    Some(Object {
                        api_version,
                        kind,
                        name,
                        namespace,
                        file: f.clone(),
                        node: d,
                    })
                })
                .collect();
            (objects, crd)
        })
        .collect();
    let crd_files = files
        .iter()
        .zip(&per_file)
        .filter(|(_, (_, crd))| *crd)
        .map(|(f, _)| f.clone())
        .collect();
    let objects = per_file.into_iter().flat_map(|(o, _)| o).collect();
    (objects, crd_files)
}

/// A Git URL without scheme, user, `.git` and trailing slashes, host lowercased:
/// `git@github.com:org/repo.git`, `https://github.com/org/repo` and
/// `ssh://git@github.com/org/repo.git` all read `github.com/org/repo`.
pub(crate) fn normalize_url(url: &str) -> String {
    let mut s = url.trim();
    let mut scheme = false;
    for prefix in [
        "https://",
        "http://",
        "ssh://",
        "git://",
        "git+ssh://",
        "file://",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            scheme = true;
            break;
        }
    }
    let s = match s.split_once('@') {
        Some((user, rest)) if !user.contains('/') => rest,
        _ => s,
    };
    // scp-like `host:org/repo` (with a scheme, a colon starts a port).
    let s = match s.split_once(':') {
        Some((host, rest)) if !scheme && !host.contains('/') => {
            format!("{host}/{}", rest.trim_start_matches('/'))
        }
        _ => s.to_string(),
    };
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    match s.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    }
}

/// Which source URLs are this repository.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    urls: Vec<String>,
}

impl Scope {
    /// The remotes named by any object; else the URL whose objects' paths exist here.
    fn new(fs: &dyn Fs, objects: &[Object], remotes: &[String]) -> Scope {
        let remotes: Vec<String> = remotes.iter().map(|r| normalize_url(r)).collect();
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let flux = flux::sources_of(objects);
        for (url, path) in objects.iter().flat_map(argocd::sources_of).chain(flux) {
            let e = counts.entry(normalize_url(&url)).or_default();
            e.0 += 1;
            if path.as_deref().is_some_and(|p| fs.is_dir(&clean_path(p))) {
                e.1 += 1;
            }
        }
        let named: Vec<String> = counts
            .keys()
            .filter(|u| remotes.contains(u))
            .cloned()
            .collect();
        if !named.is_empty() {
            return Scope { urls: named };
        }
        let best = counts
            .iter()
            .filter(|(_, (_, exist))| *exist > 0)
            .max_by_key(|(_, (_, exist))| *exist)
            .map(|(u, _)| u.clone());
        Scope {
            urls: best.into_iter().collect(),
        }
    }

    /// Whether some URL is known to be this repository.
    pub(crate) fn known(&self) -> bool {
        !self.urls.is_empty()
    }

    /// Whether a source URL is this repository.
    pub(crate) fn is_here(&self, url: &str) -> bool {
        self.urls.contains(&normalize_url(url))
    }
}

/// A repo-relative directory from a path as GitOps objects write it (`./apps/`, `/apps`,
/// `apps/../x`), clamped at the root as Flux and Argo CD clamp it.
pub(crate) fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Whether a directory has something to render: a kustomization, or (for controllers that build
/// one) YAML manifests anywhere below it.
pub(crate) fn renderable(ctx: &Ctx, dir: &str, generate: bool) -> bool {
    if crate::render::kustomization::find_kustomization_file(ctx.fs, dir).is_some() {
        return true;
    }
    generate && has_manifests(ctx.fs, dir, 0)
}

fn has_manifests(fs: &dyn Fs, dir: &str, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    let Ok(names) = fs.list(dir) else {
        return false;
    };
    names.iter().any(|n| {
        let p = crate::source::child_rel(dir, n);
        if fs.is_dir(&p) {
            has_manifests(fs, &p, depth + 1)
        } else {
            n.ends_with(".yaml") || n.ends_with(".yml")
        }
    })
}

/// The closest existing directory names to a missing path, for "did you mean".
pub(crate) fn did_you_mean(ctx: &Ctx, path: &str) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for k in &ctx.walked.kustomizations {
        let d = crate::text::edit_distance(k, path);
        if d <= path.len().max(4) / 3 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k.clone())
}

/// A note at an object.
pub(crate) fn note(out: &mut GitopsFound, obj: &Object, message: String) {
    out.notes.push(Note {
        message,
        loc: obj.node.loc,
    });
}

/// The place of a value in an object, or the object's.
pub(crate) fn loc_at(obj: &Object, path: &[&str]) -> Loc {
    obj.node.get_path(path).map_or(obj.node.loc, |n| n.loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalize_across_forms() {
        for u in [
            "https://github.com/Org/repo.git",
            "https://github.com/Org/repo",
            "git@github.com:Org/repo.git",
            "ssh://git@github.com/Org/repo.git",
            "https://GitHub.com/Org/repo/",
        ] {
            assert_eq!(normalize_url(u), "github.com/Org/repo", "{u}");
        }
        assert_eq!(
            normalize_url("ssh://git@host:2222/a/b.git"),
            "host:2222/a/b"
        );
    }

    #[test]
    fn paths_are_clamped_at_the_root() {
        assert_eq!(clean_path("./apps/staging/"), "apps/staging");
        assert_eq!(clean_path("/apps"), "apps");
        assert_eq!(clean_path("../../x"), "x");
        assert_eq!(clean_path("."), "");
    }
}
