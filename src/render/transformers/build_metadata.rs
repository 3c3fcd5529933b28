//! `buildMetadata`: what kustomize records on the output about how it was built.
//!
//! Design. The top-level build asks for some of the origin annotation (where each object came
//! from), the transformations annotation (every transformer that touched it, outermost last) and
//! the managed-by label. Builds record the transformers they run only when their top level asks
//! ([`configured_transformers`] lists a kustomization's own, in kustomize's order); these functions
//! then write the annotations after sorting, with paths relative to the directory being built,
//! and strip kustomize's internal annotations from every object whether asked or not.

use crate::render::error::RenderError;
use crate::render::kustomization::Kustomization;
use crate::render::resource::{Origin, Resource, Transformation};
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// Drops kustomize-internal annotations before printing, and the origin and transformations
/// annotations (even ones a file wrote) unless `buildMetadata` asks for them.
pub(crate) fn strip_internal_annotations(r: &mut Resource, meta: BuildMetadata) {
    // kustomize reads annotations as a map and writes back only a non-empty one: written as
    // anything else (`annotations:` with nothing, `~`, `[]`, a scalar) they are gone.
    if let Some(m) = r.node.get_mut("metadata").and_then(|m| m.as_map_mut())
        && m.get("annotations").is_some_and(|a| a.as_map().is_none())
    {
        m.remove("annotations");
    }
    if let Some(m) = r
        .node
        .get_path_mut(&["metadata", "annotations"])
        .and_then(|a| a.as_map_mut())
    {
        m.entries.retain(|e| {
            !e.key.starts_with("internal.config.kubernetes.io/")
                && e.key != "kustomize.config.k8s.io/needs-hash"
                && e.key != "kustomize.config.k8s.io/id"
                && e.key != "kustomize.config.k8s.io/behavior"
                && (meta.origin_annotations || e.key != ORIGIN_ANNOTATION)
                && (meta.transformer_annotations || e.key != TRANSFORMATIONS_ANNOTATION)
        });
        // kustomize rewrites the annotations as `map[string]string` when it drops its own: a
        // mapping or list written as an annotation's value comes out as "".
        for e in &mut m.entries {
            if matches!(e.value.value, Value::Map(_) | Value::Seq(_)) {
                e.value.value = Value::Str(Default::default());
            }
        }
        if m.is_empty() {
            r.node
                .get_path_mut(&["metadata"])
                .and_then(|m| m.as_map_mut())
                .map(|m| m.remove("annotations"));
        }
    }
}

/// The `buildMetadata` options of the top-level kustomization.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BuildMetadata {
    pub(crate) origin_annotations: bool,
    pub(crate) transformer_annotations: bool,
    pub(crate) managed_by_label: bool,
}

impl BuildMetadata {
    pub(crate) fn of(options: &[String]) -> BuildMetadata {
        let has = |o: &str| options.iter().any(|m| m == o);
        BuildMetadata {
            origin_annotations: has("originAnnotations"),
            transformer_annotations: has("transformerAnnotations"),
            managed_by_label: has("managedByLabel"),
        }
    }
}

const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// What kustomize's library build writes as `app.kubernetes.io/managed-by` (its version stamp as
/// seen by the reference build; a release binary writes its own version there).
const MANAGED_BY: &str = "kustomize-(devel)";

/// The top-level build's `buildMetadata`, as kustomize applies it after sorting: the managed-by
/// label, origin and transformer annotations (paths relative to the directory being built). Those
/// not asked for are removed by [`strip_internal_annotations`].
pub(crate) fn apply_build_metadata(
    r: &mut Resource,
    top: &str,
    meta: BuildMetadata,
) -> Result<(), RenderError> {
    if meta.managed_by_label {
        r.node
            .ensure_path(&["metadata", "labels"])
            .set("app.kubernetes.io/managed-by", Node::str(MANAGED_BY));
    }
    let origin = meta
        .origin_annotations
        .then(|| origin_text(r, top))
        .flatten();
    let transformations = if meta.transformer_annotations && !r.transformations.is_empty() {
        // Like kustomize, a list already written in the file is kept and extended.
        let prior = r
            .node
            .get_path(&["metadata", "annotations", TRANSFORMATIONS_ANNOTATION]);
        let mut text = prior
            .map(prior_transformations)
            .transpose()?
            .unwrap_or_default();
        text.push_str(&transformations_text(r, top));
        Some(text)
    } else {
        None
    };
    for (key, text) in [
        (ORIGIN_ANNOTATION, origin),
        (TRANSFORMATIONS_ANNOTATION, transformations),
    ] {
        if let Some(text) = text {
            r.node
                .ensure_path(&["metadata", "annotations"])
                .set(key, Node::str(text));
        }
    }
    Ok(())
}

/// A transformations annotation written in a file, re-marshalled the way kustomize reads it into
/// its `Origin` list (known fields only, in struct order).
fn prior_transformations(value: &Node) -> Result<String, RenderError> {
    let bad = || {
        RenderError::invalid(
            format!(
                "the '{TRANSFORMATIONS_ANNOTATION}' annotation must be a YAML list of \
                 transformations (configuredIn, configuredBy, ...)"
            ),
            value.loc,
        )
    };
    let text = value.as_str().ok_or_else(bad)?;
    let docs =
        crate::yaml::parse_documents(text, crate::source::FileId::NONE).map_err(|_| bad())?;
    let mut out = String::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        for item in doc.as_seq().ok_or_else(bad)? {
            let field = |n: &Node, k: &str| -> Result<Option<String>, RenderError> {
                match n.get(k).map(|v| &v.value) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Str(s)) if s.is_empty() => Ok(None),
                    Some(Value::Str(s)) => Ok(Some(scalar(s))),
                    Some(_) => Err(bad()),
                }
            };
            if item.is_null() {
                out.push_str("- null\n");
                continue;
            }
            item.as_map().ok_or_else(bad)?;
            let mut lines = Vec::new();
            for k in ["path", "repo", "ref", "configuredIn"] {
                if let Some(v) = field(item, k)? {
                    lines.push(format!("{k}: {v}"));
                }
            }
            if let Some(by) = item.get("configuredBy").filter(|b| !b.is_null()) {
                by.as_map().ok_or_else(bad)?;
                let mut sub = Vec::new();
                for k in ["apiVersion", "kind", "name", "namespace"] {
                    if let Some(v) = field(by, k)? {
                        sub.push(format!("  {k}: {v}"));
                    }
                }
                // An empty `configuredBy` is omitted (omitempty on a struct).
                if !sub.is_empty() {
                    lines.push("configuredBy:".into());
                    lines.extend(sub);
                }
            }
            if lines.is_empty() {
                out.push_str("- {}\n");
            }
            for (i, l) in lines.iter().enumerate() {
                out.push_str(if i == 0 { "- " } else { "  " });
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// `config.kubernetes.io/origin`: where the resource came from.
/// In a remote base, paths start at its repository's top and `repo`/`ref` say which.
fn origin_text(r: &Resource, top: &str) -> Option<String> {
    let repo = r.origin_repo.as_deref();
    let path = |p: &str| match repo {
        Some(_) => scalar(p),
        None => scalar(&relative_path(top, p)),
    };
    let text = match r.origin.as_ref()? {
        Origin::File(p) => format!("path: {}\n{}", path(p), repo_lines(repo, "")),
        Origin::Generator {
            configured_in,
            kind,
            name,
        } => {
            let mut t = format!(
                "{}configuredIn: {}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {}\n",
                repo_lines(repo, ""),
                path(configured_in),
                scalar(kind)
            );
            if let Some(n) = name {
                t.push_str(&format!("  name: {}\n", scalar(n)));
            }
            t
        }
    };
    Some(text)
}

/// `alpha.config.kubernetes.io/transformations`: every transformer of every level, outermost last,
/// as the YAML list kustomize marshals (fields in struct order, not sorted as maps print).
fn transformations_text(r: &Resource, top: &str) -> String {
    let mut out = String::new();
    for t in r.transformations.iter().flat_map(|level| level.iter()) {
        let configured_in = match t.repo {
            Some(_) => t.configured_in.clone(),
            None => relative_path(top, &t.configured_in),
        };
        // Every field indented under the item; `- ` then takes the first one's indent.
        let fields = format!(
            "{}  configuredIn: {}",
            repo_lines(t.repo.as_deref(), "  "),
            scalar(&configured_in)
        );
        out.push_str(&format!(
            "- {}\n  configuredBy:\n    apiVersion: builtin\n    kind: {}\n",
            &fields[2..],
            scalar(&t.kind)
        ));
        for (field, v) in [("name", &t.name), ("namespace", &t.namespace)] {
            if !v.is_empty() {
                out.push_str(&format!("    {field}: {}\n", scalar(v)));
            }
        }
    }
    out
}

/// `repo:` and `ref:` lines (each after `indent`) of an origin in a remote base; empty for a
/// local one.
fn repo_lines(repo: Option<&super::super::resource::OriginRepo>, indent: &str) -> String {
    let Some(r) = repo else {
        return String::new();
    };
    let mut out = format!("{indent}repo: {}\n", scalar(&r.repo));
    if let Some(gr) = &r.git_ref {
        out.push_str(&format!("{indent}ref: {}\n", scalar(gr)));
    }
    out
}

/// A one-line string as a YAML scalar, quoted where YAML needs it.
fn scalar(s: &str) -> String {
    let mut out = String::new();
    crate::yaml::emit_document(&Node::str(s), &mut out);
    out.truncate(out.trim_end_matches('\n').len());
    out
}

/// The builtin transformers a kustomization configures, one entry per transformer instance
/// kustomize creates, in the order it runs them (`transformers:` configs come after, from
/// [`apply_transformer_config`](super::configured::apply_transformer_config)). A quirk kept: any `labels`/`commonLabels` makes one
/// `LabelTransformer` per `labels` entry plus one for `commonLabels`, even an empty one.
pub(crate) fn configured_transformers(
    k: &Kustomization,
    repo: Option<std::sync::Arc<super::super::resource::OriginRepo>>,
) -> Vec<Transformation> {
    let set = |v: &Option<(String, Loc)>| v.as_ref().is_some_and(|(s, _)| !s.is_empty());
    let counts = [
        (
            "PatchStrategicMergeTransformer",
            usize::from(!k.patches_strategic_merge.is_empty()),
        ),
        ("PatchTransformer", k.patches.len()),
        ("NamespaceTransformer", usize::from(set(&k.namespace))),
        ("PrefixTransformer", usize::from(set(&k.name_prefix))),
        ("SuffixTransformer", usize::from(set(&k.name_suffix))),
        (
            "LabelTransformer",
            if k.labels.is_empty() && k.common_labels.is_empty() {
                0
            } else {
                k.labels.len() + 1
            },
        ),
        (
            "AnnotationsTransformer",
            usize::from(!k.common_annotations.is_empty()),
        ),
        ("PatchJson6902Transformer", k.patches_json6902.len()),
        ("ReplicaCountTransformer", k.replicas.len()),
        ("ImageTagTransformer", k.images.len()),
        (
            "ReplacementTransformer",
            usize::from(!k.replacements.is_empty()),
        ),
    ];
    counts
        .into_iter()
        .flat_map(|(kind, n)| {
            std::iter::repeat_n(
                Transformation {
                    configured_in: k.path.clone(),
                    kind: kind.to_string(),
                    name: String::new(),
                    namespace: String::new(),
                    repo: repo.clone(),
                },
                n,
            )
        })
        .collect()
}

/// `to` (repo-relative) as seen from directory `from` (repo-relative).
pub(crate) fn relative_path(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    parts.join("/")
}
