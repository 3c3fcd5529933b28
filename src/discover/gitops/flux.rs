//! Flux `Kustomization` objects (kustomize.toolkit.fluxcd.io): each is one app (its name) in one
//! environment (the cluster whose directory holds it: `clusters/<cluster>/...`), rendering
//! `spec.path` of its source as kustomize-controller does — the kustomization found there (or
//! the one Flux generates from the manifests below the path), with `targetNamespace`,
//! `namePrefix`/`nameSuffix`, `patches`, `images`, `components` and `commonMetadata` applied, and
//! `postBuild` variable substitution after the build.
//!
//! The source must be this repository: a `GitRepository` whose URL is one of its remotes (or the
//! bootstrap `flux-system` one), or an `ExternalArtifact` an `ArtifactGenerator` copies from it,
//! whose copy rules map the artifact's paths back to the repository's. Other sources (another
//! repository, OCI artifacts, buckets) are noted, not rendered.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Ctx, GitopsFound, Object, clean_path, did_you_mean, loc_at, note, renderable};
use crate::discover::convention::read_path;
use crate::discover::{Env, EnvSource, Found, MissingPath, SourceKind};
use crate::render::kustomization::find_kustomization_file;
use crate::render::overrides::{Controller, EnvBuild, LabelMode, Substitution};
use crate::source::Loc;
use crate::yaml::{Node, Value};

const GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// `(url, path)` pairs of the Flux Kustomizations whose GitRepository is written in the
/// repository, for deciding which URL is this repository.
pub(crate) fn sources_of(objects: &[Object]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for r in objects.iter().filter(|o| o.kind == "GitRepository") {
        let Some(url) = r.node.str_at(&["spec", "url"]) else {
            continue;
        };
        out.push((url.to_string(), None));
        for k in objects.iter().filter(|o| {
            o.group() == GROUP
                && o.kind == "Kustomization"
                && o.node.str_at(&["spec", "sourceRef", "name"]) == Some(r.name.as_str())
        }) {
            out.push((
                url.to_string(),
                Some(k.node.str_at(&["spec", "path"]).unwrap_or("").to_string()),
            ));
        }
    }
    out
}

/// Adds the environments of every Flux Kustomization.
pub(crate) fn find(ctx: &Ctx, out: &mut GitopsFound) {
    for k in ctx
        .objects
        .iter()
        .filter(|o| o.group() == GROUP && o.kind == "Kustomization")
    {
        out.objects += 1;
        let Some(path) = source_path(ctx, k, out) else {
            continue;
        };
        let written = k.node.str_at(&["spec", "path"]).unwrap_or("").to_string();
        let path_loc = loc_at(k, &["spec", "path"]);
        if !ctx.fs.is_dir(&path) || !renderable(ctx, &path, true) {
            out.missing.push(MissingPath {
                object: format!("Flux {}", k.id()),
                path: if written.is_empty() {
                    path.clone()
                } else {
                    written
                },
                loc: path_loc,
                exists: ctx.fs.is_dir(&path),
                did_you_mean: did_you_mean(ctx, &path),
            });
            continue;
        }
        let env = env_name(ctx, k, &path);
        let build = build_of(ctx, k, &path);
        out.envs.push(Found {
            app: k.name.clone(),
            app_dir: String::new(),
            base: None,
            env: Env {
                stage: ctx.config.stage_of(&env),
                name: env,
                dir: path,
                source: EnvSource {
                    kind: SourceKind::FluxKustomization,
                    loc: k.node.loc,
                },
                build: Some(Arc::new(build)),
            },
        });
    }
}

/// The repository directory the Kustomization renders, when its source is this repository.
fn source_path(ctx: &Ctx, k: &Object, out: &mut GitopsFound) -> Option<String> {
    let path = clean_path(k.node.str_at(&["spec", "path"]).unwrap_or(""));
    let src = k.node.get_path(&["spec", "sourceRef"]);
    let kind = src
        .and_then(|s| s.str_at(&["kind"]))
        .unwrap_or("GitRepository");
    let name = src.and_then(|s| s.str_at(&["name"])).unwrap_or("");
    match kind {
        "GitRepository" => {
            let repo = ctx
                .objects
                .iter()
                .find(|o| o.kind == "GitRepository" && o.name == name);
            let here = match repo.and_then(|r| r.node.str_at(&["spec", "url"])) {
                Some(url) => {
                    (ctx.scope.is_here(url) || (name == "flux-system" && !ctx.scope.known()))
                        && same_tree(ctx, repo.expect("has a url"))
                }
                // Bootstrapped: the flux-system GitRepository lives in the cluster, not the repo.
                None => name == "flux-system" || ctx.fs.is_dir(&path),
            };
            if !here {
                note(
                    out,
                    k,
                    format!(
                        "Flux {} deploys from GitRepository '{name}', which is not this checkout (another repository or branch): not rendered",
                        k.id()
                    ),
                );
                return None;
            }
            Some(path)
        }
        "ExternalArtifact" => {
            let mapped = artifact_path(ctx, name, &path);
            if mapped.is_none() {
                note(
                    out,
                    k,
                    format!(
                        "Flux {} deploys ExternalArtifact '{name}', which no ArtifactGenerator of this repository produces: not rendered",
                        k.id()
                    ),
                );
            }
            mapped
        }
        other => {
            note(
                out,
                k,
                format!(
                    "Flux {} deploys from a {other} ('{name}'), not from this repository: not rendered",
                    k.id()
                ),
            );
            None
        }
    }
}

/// Whether a GitRepository of this repository's URL reads the tree being checked: no branch
/// named, or the branch checked out, or the `flux-system` GitRepository's. Another branch of the
/// same repository (a tenant's `dev-team` branch) is another tree.
fn same_tree(ctx: &Ctx, repo: &Object) -> bool {
    let Some(branch) = repo.node.str_at(&["spec", "ref", "branch"]) else {
        return true;
    };
    if let Some(current) = ctx.branch {
        return branch == current;
    }
    let bootstrap = ctx
        .objects
        .iter()
        .find(|o| o.kind == "GitRepository" && o.name == "flux-system")
        .and_then(|o| o.node.str_at(&["spec", "ref", "branch"]));
    match bootstrap {
        Some(b) => b == branch,
        None => repo.name == "flux-system",
    }
}

/// Maps a path inside an ExternalArtifact back to this repository through the copy rules of the
/// ArtifactGenerator that produces it (`from: "@repo/apps/staging/**"`, `to: "@artifact/staging/"`).
fn artifact_path(ctx: &Ctx, artifact: &str, path: &str) -> Option<String> {
    for g in ctx.objects.iter().filter(|o| o.kind == "ArtifactGenerator") {
        let Some(artifacts) = g
            .node
            .get_path(&["spec", "artifacts"])
            .and_then(Node::as_seq)
        else {
            continue;
        };
        for a in artifacts
            .iter()
            .filter(|a| a.str_at(&["name"]) == Some(artifact))
        {
            let Some(copies) = a.get("copy").and_then(Node::as_seq) else {
                continue;
            };
            // The most specific rule whose destination holds the path.
            let mut best: Option<(usize, String)> = None;
            for c in copies {
                let (Some(from), Some(to)) = (c.str_at(&["from"]), c.str_at(&["to"])) else {
                    continue;
                };
                let to = clean_path(to.trim_start_matches("@artifact"));
                let from = from
                    .split_once('/')
                    .map_or("", |(_, rest)| rest)
                    .trim_end_matches("**")
                    .trim_end_matches('*');
                let from = clean_path(from);
                let rest = if to.is_empty() {
                    Some(path)
                } else if path == to {
                    Some("")
                } else {
                    path.strip_prefix(&format!("{to}/"))
                };
                if let Some(rest) = rest
                    && best.as_ref().is_none_or(|(n, _)| to.len() >= *n)
                {
                    best = Some((to.len(), clean_path(&format!("{from}/{rest}"))));
                }
            }
            if let Some((_, p)) = best {
                return Some(p);
            }
        }
    }
    None
}

/// The environment a Kustomization belongs to: the cluster whose directory holds it
/// (`clusters/<cluster>/...`), else what its path reads as, else a directory of its file whose
/// name reads as a stage, else its namespace.
fn env_name(ctx: &Ctx, k: &Object, path: &str) -> String {
    let segs: Vec<&str> = k.file.split('/').collect();
    if let Some(i) = segs.iter().position(|s| *s == "clusters")
        && i + 2 < segs.len()
    {
        return segs[i + 1].to_string();
    }
    if let Some((_, _, _, env)) = read_path(ctx.fs, ctx.config, path) {
        return env;
    }
    if let Some(s) = segs[..segs.len().saturating_sub(1)]
        .iter()
        .rev()
        .find(|s| ctx.config.stage_of(s).is_some())
    {
        return s.to_string();
    }
    if k.namespace.is_empty() {
        "default".into()
    } else {
        k.namespace.clone()
    }
}

/// What kustomize-controller applies to the path's kustomization.
fn build_of(ctx: &Ctx, k: &Object, path: &str) -> EnvBuild {
    let spec = k.node.get("spec");
    let get = |key: &str| spec.and_then(|s| s.get(key)).cloned();
    let list = |key: &str| {
        spec.and_then(|s| s.get(key))
            .and_then(Node::as_seq)
            .cloned()
            .unwrap_or_default()
    };
    let pairs = |key: &str| {
        spec.and_then(|s| s.get_path(&["commonMetadata", key]))
            .and_then(Node::as_map)
            .map(|m| {
                m.entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let flag = |key: &str| {
        matches!(
            spec.and_then(|s| s.get(key)).map(|v| &v.value),
            Some(Value::Bool(true))
        )
    };
    EnvBuild {
        controller: Controller::Flux,
        origin: format!("Flux {} in {}", k.id(), k.file),
        at: k.node.loc,
        generate: find_kustomization_file(ctx.fs, path).is_none(),
        name_prefix: get("namePrefix"),
        name_suffix: get("nameSuffix"),
        namespace: get("targetNamespace"),
        images: list("images"),
        patches: list("patches"),
        components: list("components"),
        ignore_missing_components: flag("ignoreMissingComponents"),
        labels: pairs("labels"),
        annotations: pairs("annotations"),
        label_mode: LabelMode::Metadata,
        build_metadata: list("buildMetadata"),
        substitute: spec
            .and_then(|s| s.get("postBuild"))
            .map(|pb| substitution(ctx, k, pb)),
        source_ignore: source_ignore(ctx, k),
        ..EnvBuild::default()
    }
}

/// The `spec.ignore` of the Kustomization's GitRepository, which decides (with `.sourceignore`
/// files) what its artifact holds.
fn source_ignore(ctx: &Ctx, k: &Object) -> Option<String> {
    let src = k.node.get_path(&["spec", "sourceRef"]);
    if src
        .and_then(|s| s.str_at(&["kind"]))
        .unwrap_or("GitRepository")
        != "GitRepository"
    {
        return None;
    }
    let name = src.and_then(|s| s.str_at(&["name"]))?;
    ctx.objects
        .iter()
        .find(|o| o.kind == "GitRepository" && o.name == name)
        .and_then(|r| r.node.str_at(&["spec", "ignore"]))
        .map(str::to_string)
}

/// Variables for post-build substitution: `substituteFrom` ConfigMaps and Secrets found in the
/// repository (in order, later ones winning), then `substitute` over them.
fn substitution(ctx: &Ctx, k: &Object, pb: &Node) -> Substitution {
    let mut vars: BTreeMap<String, (String, Loc)> = BTreeMap::new();
    let mut unknown = Vec::new();
    for s in pb
        .get("substituteFrom")
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
    {
        let kind = s.str_at(&["kind"]).unwrap_or("ConfigMap");
        let name = s.str_at(&["name"]).unwrap_or("");
        let optional = matches!(s.get("optional").map(|o| &o.value), Some(Value::Bool(true)));
        match lookup_vars(ctx, kind, name, &k.namespace, &k.file) {
            Some(found) => vars.extend(found),
            None if optional => {}
            None => unknown.push(format!("{kind}/{name}")),
        }
    }
    if let Some(m) = pb.get("substitute").and_then(Node::as_map) {
        for e in &m.entries {
            if let Some(v) = e.value.scalar_string() {
                vars.insert(e.key.to_string(), (v, e.value.loc));
            }
        }
    }
    Substitution {
        vars,
        unknown_sources: unknown,
        always: pb.str_at(&["substituteStrategy"]) == Some("Always"),
        // kustomize-controller's StrictPostBuildSubstitutions gate, on by default since 1.9.
        strict: true,
        at: pb.loc,
    }
}

/// The data of a ConfigMap or Secret written in the repository (a Secret's `data` decoded, its
/// `stringData` as is), or `None` when the repository has no such object or its values are
/// encrypted (SOPS): they are then cluster state, unknown offline. When several files define it
/// (one per cluster directory), the one nearest the Kustomization's own file (`near`) is the
/// one its cluster has.
fn lookup_vars(
    ctx: &Ctx,
    kind: &str,
    name: &str,
    namespace: &str,
    near: &str,
) -> Option<BTreeMap<String, (String, Loc)>> {
    let shared = |f: &str| {
        f.split('/')
            .zip(near.split('/'))
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut files: Vec<&String> = ctx.walked.yaml_files.iter().collect();
    // Nearest first; the walk order among equally near ones.
    files.sort_by_key(|f| std::cmp::Reverse(shared(f)));
    use base64::Engine;
    for f in files {
        let Ok(text) = ctx.fs.read(f) else { continue };
        if name.is_empty() || !text.contains(name) || !text.contains(kind) {
            continue;
        }
        let id = ctx.sources.add(f, text.clone());
        let Ok(docs) = crate::yaml::parse_documents(&text, id) else {
            continue;
        };
        for d in docs {
            let ns = d.str_at(&["metadata", "namespace"]).unwrap_or("");
            if d.str_at(&["kind"]) != Some(kind)
                || d.str_at(&["metadata", "name"]) != Some(name)
                || (!ns.is_empty() && !namespace.is_empty() && ns != namespace)
            {
                continue;
            }
            if d.get("sops").is_some() {
                return None;
            }
            let mut vars = BTreeMap::new();
            let decode = kind == "Secret";
            for (key, section) in [("data", decode), ("stringData", false)] {
                for e in d
                    .get(key)
                    .and_then(Node::as_map)
                    .into_iter()
                    .flat_map(|m| &m.entries)
                {
                    let Some(v) = e.value.scalar_string() else {
                        continue;
                    };
                    let v = if section {
                        match base64::engine::general_purpose::STANDARD.decode(v.trim()) {
                            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                            Err(_) => continue,
                        }
                    } else {
                        v
                    };
                    vars.insert(e.key.to_string(), (v.replace('\n', ""), e.value.loc));
                }
            }
            return Some(vars);
        }
    }
    None
}
