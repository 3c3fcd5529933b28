//! Argo CD `Application` and `ApplicationSet` objects (argoproj.io): each source of this
//! repository is one environment, rendered as the repo-server renders it — a kustomization with
//! the source's `kustomize` options applied (`namePrefix`, `nameSuffix`, `images`,
//! `commonLabels`/`labelWithoutSelector`, `commonAnnotations`, `namespace`, `replicas`, `patches`,
//! `components`, merged with the `.argocd-source*.yaml` files Argo CD reads from the path), or
//! the directory's plain manifests. Helm sources are noted, not rendered.
//!
//! An ApplicationSet's generators are evaluated ([`super::appset`]) and its template rendered for
//! each parameter set ([`super::template`]); the resulting Applications are read the same way,
//! their locations pointing into the ApplicationSet. Which app and environment a source is: what
//! its path reads as by convention (`deploy/billing/prd`: app `billing`, environment `prd`), else
//! the stage word in the Application's name (`billing-prd`), else its path's last segment.

use std::sync::Arc;

use super::appset::{self, interpolate};
use super::{Ctx, GitopsFound, Object, clean_path, did_you_mean, note};
use crate::discover::convention::{app_name, basename, read_path};
use crate::discover::{Env, EnvSource, Found, MissingPath, Note, SourceKind};
use crate::render::kustomization::find_kustomization_file;
use crate::render::overrides::{Controller, DirectoryOptions, EnvBuild, LabelMode};
use crate::source::{child_rel, parent_rel};
use crate::yaml::{Node, Value};

const GROUP: &str = "argoproj.io";

/// `(repoURL, path)` of every source an object names, for deciding which URL is this
/// repository.
pub(crate) fn sources_of(obj: &Object) -> Vec<(String, Option<String>)> {
    let spec = match (obj.group(), obj.kind.as_str()) {
        (GROUP, "Application") => obj.node.get("spec"),
        (GROUP, "ApplicationSet") => obj.node.get_path(&["spec", "template", "spec"]),
        _ => None,
    };
    let Some(spec) = spec else {
        return vec![];
    };
    source_nodes(spec)
        .into_iter()
        .filter_map(|s| {
            let url = s.str_at(&["repoURL"])?.to_string();
            Some((url, s.str_at(&["path"]).map(str::to_string)))
        })
        .collect()
}

fn source_nodes(spec: &Node) -> Vec<&Node> {
    let mut v: Vec<&Node> = spec.get("source").into_iter().collect();
    v.extend(
        spec.get("sources")
            .and_then(Node::as_seq)
            .into_iter()
            .flatten(),
    );
    v
}

/// Adds the environments of every Application and ApplicationSet.
pub(crate) fn find(ctx: &Ctx, out: &mut GitopsFound) {
    for o in ctx.objects.iter().filter(|o| o.group() == GROUP) {
        match o.kind.as_str() {
            "Application" => {
                out.objects += 1;
                application(ctx, out, &o.node, o, SourceKind::ArgocdApplication);
            }
            "ApplicationSet" => {
                out.objects += 1;
                application_set(ctx, out, o);
            }
            _ => {}
        }
    }
}

fn application_set(ctx: &Ctx, out: &mut GitopsFound, set: &Object) {
    let spec = set.node.get("spec");
    let go = matches!(
        spec.and_then(|s| s.get("goTemplate")).map(|g| &g.value),
        Some(Value::Bool(true))
    );
    let strict = spec
        .and_then(|s| s.get("goTemplateOptions"))
        .and_then(Node::as_seq)
        .is_some_and(|o| o.iter().any(|x| x.as_str() == Some("missingkey=error")));
    let Some(template) = spec.and_then(|s| s.get("template")) else {
        note(
            out,
            set,
            format!("ApplicationSet '{}' has no template", set.name),
        );
        return;
    };
    for g in spec
        .and_then(|s| s.get("generators"))
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
    {
        let generated = match appset::generate(ctx, g, go) {
            Ok(x) => x,
            Err(why) => {
                out.notes.push(Note {
                    message: format!(
                        "ApplicationSet '{}': a generator was not evaluated ({why}); its Applications are not checked",
                        set.name
                    ),
                    loc: g.loc,
                });
                continue;
            }
        };
        out.excluded.extend(generated.excluded);
        // A generator's own template is merged over the ApplicationSet's.
        let template = match g
            .as_map()
            .and_then(|m| m.entries.first())
            .and_then(|e| e.value.get("template"))
        {
            Some(t) => merged(template, t),
            None => template.clone(),
        };
        for params in &generated.params {
            match render_template(&template, params, go, strict) {
                Ok(app) => application(ctx, out, &app, set, SourceKind::ArgocdApplicationset),
                Err(why) => out.notes.push(Note {
                    message: format!(
                        "ApplicationSet '{}': the template was not evaluated ({why}); that Application is not checked",
                        set.name
                    ),
                    loc: template.loc,
                }),
            }
        }
    }
}

/// The template with every string rendered; a path or name left unrendered is an error.
fn render_template(
    template: &Node,
    params: &serde_json::Value,
    go: bool,
    strict: bool,
) -> Result<Node, String> {
    let app = if strict {
        render_strict(template, params)?
    } else {
        interpolate(template, params, go)?
    };
    for s in app
        .get("spec")
        .map(source_nodes)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.str_at(&["path"]))
        .chain(app.str_at(&["metadata", "name"]))
    {
        if s.contains("{{") || s.contains("<no value>") {
            return Err(format!("'{s}' names a parameter no generator provides"));
        }
    }
    Ok(app)
}

fn render_strict(n: &Node, params: &serde_json::Value) -> Result<Node, String> {
    let value = match &n.value {
        Value::Str(s) if s.contains("{{") => Value::Str(
            super::template::render(s, params, true, true)
                .map_err(|e| e.0)?
                .into(),
        ),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|i| render_strict(i, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => {
            let mut out = m.clone();
            for e in &mut out.entries {
                e.value = render_strict(&e.value, params)?;
            }
            Value::Map(out)
        }
        v => v.clone(),
    };
    Ok(Node::new(value, n.loc).with_via(n.via))
}

/// `over` merged into `base` (maps key by key, anything else replaced), as a JSON merge patch.
fn merged(base: &Node, over: &Node) -> Node {
    match (&base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut out = b.clone();
            for e in &o.entries {
                match out.entries.iter_mut().find(|x| x.key == e.key) {
                    Some(x) => x.value = merged(&x.value, &e.value),
                    None => out.entries.push(e.clone()),
                }
            }
            Node::new(Value::Map(out), base.loc)
        }
        _ => over.clone(),
    }
}

/// One Application (as written, or rendered from an ApplicationSet's template).
fn application(ctx: &Ctx, out: &mut GitopsFound, app: &Node, obj: &Object, kind: SourceKind) {
    let name = app
        .str_at(&["metadata", "name"])
        .unwrap_or(&obj.name)
        .to_string();
    let Some(spec) = app.get("spec") else { return };
    for src in source_nodes(spec) {
        let Some(url) = src.str_at(&["repoURL"]) else {
            continue;
        };
        if src.get("chart").is_some() {
            out.notes.push(Note {
                message: format!(
                    "Argo CD Application '{name}' deploys the Helm chart '{}' from {url}: not rendered",
                    src.str_at(&["chart"]).unwrap_or("")
                ),
                loc: src.loc,
            });
            continue;
        }
        if !ctx.scope.is_here(url) {
            out.notes.push(Note {
                message: format!("Argo CD Application '{name}' deploys from another repository ({url}): not rendered"),
                loc: src.loc,
            });
            continue;
        }
        if let Some(rev) = src.str_at(&["targetRevision"])
            && !same_revision(ctx, rev)
        {
            out.notes.push(Note {
                message: format!(
                    "Argo CD Application '{name}' deploys revision '{rev}' of this repository, not the checked-out tree: not rendered"
                ),
                loc: src.loc,
            });
            continue;
        }
        let Some(written) = src.get("path") else {
            continue;
        };
        let path = clean_path(&written.scalar_string().unwrap_or_default());
        let exists = ctx.fs.is_dir(&path);
        let helm = src.get("helm").is_some()
            || exists
                && src.get("kustomize").is_none()
                && src.get("directory").is_none()
                && ctx
                    .fs
                    .list(&path)
                    .unwrap_or_default()
                    .iter()
                    .any(|n| n.ends_with("Chart.yaml"))
                && find_kustomization_file(ctx.fs, &path).is_none();
        if helm {
            out.notes.push(Note {
                message: format!(
                    "Argo CD Application '{name}' renders {path} with Helm: not rendered"
                ),
                loc: written.loc,
            });
            continue;
        }
        let kustomize = find_kustomization_file(ctx.fs, &path).is_some();
        if !exists || !kustomize && !super::renderable(ctx, &path, true) {
            out.missing.push(MissingPath {
                object: format!("Argo CD Application '{name}'"),
                path: path.clone(),
                loc: written.loc,
                exists,
                did_you_mean: did_you_mean(ctx, &path),
            });
            continue;
        }
        // An explicit `directory:` source reads the plain manifests even beside a kustomization.
        let build = if kustomize && src.get("directory").is_none() {
            kustomize_build(ctx, src, &path, &name)
        } else {
            directory_build(src)
        };
        let env_vars = argo_env(&name, spec, src);
        let (app_name, app_dir, base, env) = naming(ctx, &name, &path);
        let env = Env {
            stage: ctx.config.stage_of(&env),
            name: env,
            dir: path,
            source: EnvSource { kind, loc: app.loc },
            build: Some(Arc::new(EnvBuild {
                origin: format!("Argo CD Application '{name}' in {}", obj.file),
                at: app.loc,
                env: env_vars,
                ..build
            })),
        };
        out.envs.push(Found {
            app: app_name,
            app_dir,
            base,
            env,
        });
    }
}

/// Whether a `targetRevision` is the tree being checked: `HEAD` or none, the branch checked out
/// (or the pull request's base branch), or — when neither is known — a usual default branch.
/// Another branch, a tag or a commit (Kargo's rendered branches, a pinned release) is not.
fn same_revision(ctx: &Ctx, rev: &str) -> bool {
    let rev = rev.trim().trim_start_matches("refs/heads/");
    if rev.is_empty() || rev == "HEAD" {
        return true;
    }
    let base = std::env::var("GITHUB_BASE_REF")
        .ok()
        .filter(|b| !b.is_empty());
    match (ctx.branch, base) {
        (None, None) => matches!(rev, "main" | "master" | "trunk"),
        (b, base) => b == Some(rev) || base.as_deref() == Some(rev),
    }
}

/// Which app and environment a source is (see the module doc).
fn naming(ctx: &Ctx, app: &str, path: &str) -> (String, String, Option<String>, String) {
    if let Some(r) = read_path(ctx.fs, ctx.config, path) {
        return r;
    }
    let leaf = basename(path);
    if ctx.config.stage_of(leaf).is_some() {
        let parent = parent_rel(path);
        return (app_name(parent), parent.to_string(), None, leaf.to_string());
    }
    let tokens: Vec<&str> = app.split(['-', '_', '.']).collect();
    if let Some(i) = tokens.iter().position(|t| ctx.config.stage_of(t).is_some())
        && tokens.len() > 1
    {
        let rest: Vec<&str> = tokens
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, t)| *t)
            .collect();
        return (rest.join("-"), String::new(), None, tokens[i].to_string());
    }
    (app.to_string(), String::new(), None, leaf.to_string())
}

/// The source's `kustomize` options, with the `.argocd-source.yaml` and
/// `.argocd-source-<app>.yaml` files of the path merged over them as Argo CD merges them.
fn kustomize_build(ctx: &Ctx, src: &Node, path: &str, app: &str) -> EnvBuild {
    let mut k = src.get("kustomize").cloned().unwrap_or_else(Node::map);
    for f in [
        ".argocd-source.yaml".to_string(),
        format!(".argocd-source-{app}.yaml"),
    ] {
        let p = child_rel(path, &f);
        let Ok(text) = ctx.fs.read(&p) else { continue };
        let id = ctx.sources.add(&p, text.clone());
        if let Ok(docs) = crate::yaml::parse_documents(&text, id)
            && let Some(over) = docs.iter().find_map(|d| d.get("kustomize"))
        {
            k = merged(&k, over);
        }
    }
    let list = |key: &str| {
        k.get(key)
            .and_then(Node::as_seq)
            .cloned()
            .unwrap_or_default()
    };
    let pairs = |key: &str| -> Vec<(String, Node)> {
        k.get(key)
            .and_then(Node::as_map)
            .map(|m| {
                m.entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let flag = |key: &str| matches!(k.get(key).map(|v| &v.value), Some(Value::Bool(true)));
    EnvBuild {
        controller: Controller::ArgoCd,
        name_prefix: k.get("namePrefix").cloned(),
        name_suffix: k.get("nameSuffix").cloned(),
        namespace: k.get("namespace").cloned(),
        images: list("images"),
        patches: list("patches"),
        components: list("components"),
        ignore_missing_components: flag("ignoreMissingComponents"),
        labels: pairs("commonLabels"),
        label_mode: if flag("labelWithoutSelector") {
            LabelMode::WithoutSelector
        } else {
            LabelMode::Selectors
        },
        label_templates: flag("labelIncludeTemplates"),
        force_labels: flag("forceCommonLabels"),
        annotations: pairs("commonAnnotations"),
        force_annotations: flag("forceCommonAnnotations"),
        annotations_envsubst: flag("commonAnnotationsEnvsubst"),
        replicas: list("replicas"),
        ..EnvBuild::default()
    }
}

/// Argo CD's build environment for an Application's source (repo-server `newEnv`); the
/// revision is the commit the target revision resolves to, not known here.
fn argo_env(name: &str, spec: &Node, src: &Node) -> Vec<(String, Option<String>)> {
    let s = |n: Option<&str>| Some(n.unwrap_or("").to_string());
    vec![
        ("ARGOCD_APP_NAME".into(), Some(name.to_string())),
        (
            "ARGOCD_APP_NAMESPACE".into(),
            s(spec.str_at(&["destination", "namespace"])),
        ),
        (
            "ARGOCD_APP_PROJECT_NAME".into(),
            s(spec.str_at(&["project"])),
        ),
        ("ARGOCD_APP_REVISION".into(), None),
        ("ARGOCD_APP_REVISION_SHORT".into(), None),
        ("ARGOCD_APP_REVISION_SHORT_8".into(), None),
        (
            "ARGOCD_APP_SOURCE_REPO_URL".into(),
            s(src.str_at(&["repoURL"])),
        ),
        ("ARGOCD_APP_SOURCE_PATH".into(), s(src.str_at(&["path"]))),
        (
            "ARGOCD_APP_SOURCE_TARGET_REVISION".into(),
            s(src.str_at(&["targetRevision"])),
        ),
    ]
}

/// Argo CD's directory source: the path's manifests as they are.
fn directory_build(src: &Node) -> EnvBuild {
    let d = src.get("directory");
    let s = |k: &str| d.and_then(|d| d.str_at(&[k])).map(str::to_string);
    EnvBuild {
        controller: Controller::ArgoCd,
        generate: true,
        directory: Some(DirectoryOptions {
            recurse: matches!(
                d.and_then(|d| d.get("recurse")).map(|v| &v.value),
                Some(Value::Bool(true))
            ),
            include: s("include"),
            exclude: s("exclude"),
            jsonnet: d
                .and_then(|d| d.get("jsonnet"))
                .and_then(Node::as_map)
                .is_some_and(|m| !m.is_empty()),
        }),
        ..EnvBuild::default()
    }
}
