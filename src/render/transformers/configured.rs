//! `transformers:` entries: builtin transformers configured by their own documents.
//!
//! Design. A config names a builtin transformer (`kind: PrefixSuffixTransformer`, ...) with
//! `apiVersion: builtin`; it is turned into the kustomization fields the same transformer reads
//! and run through the same code as a kustomization's own fields, with the config's field specs
//! in place of the defaults (kustomize uses exactly those). Plugins (exec, Go, containers) are
//! refused: kustodian runs nothing it did not write. Each config run is returned for
//! `buildMetadata`, configured in the file it was read from.

use super::images::apply_images;
use super::labels::set_string_map;
use super::names::apply_prefix_suffix;
use super::namespace::{SubjectMode, set_namespace};
use super::patches::{apply_patches, apply_patches_json6902, apply_patches_strategic_merge};
use super::replicas::apply_replicas;
use crate::render::error::{RenderError, RenderErrorKind};
use crate::render::fieldspec::FieldSpec;
use crate::render::kustomization::{Kustomization, Ref};
use crate::render::resource::{Resource, Transformation};
use crate::render::scalars::raw_string;
use crate::render::{Accum, Renderer};
use crate::source::Loc;
use crate::text::split_api_version;
use crate::yaml::Node;

/// A transformer config's own `fieldSpecs` (kustomize uses exactly these, not its defaults).
fn config_specs(doc: &Node) -> Vec<FieldSpec> {
    doc.get("fieldSpecs")
        .and_then(|f| f.as_seq())
        .map(|s| s.iter().filter_map(FieldSpec::from_node).collect())
        .unwrap_or_default()
}

/// `transformers:` entries naming builtin transformer configs (files with `kind: PrefixSuffixTransformer`
/// etc.). Plugins (exec, Go, containers) are refused. Returns the transformers run, each configured
/// in the file its config was read from (the kustomization, for inline configs).
pub(crate) fn apply_transformer_config(
    renderer: &Renderer,
    dir: &str,
    t: &Ref,
    acc: &mut Accum,
) -> Result<Vec<Transformation>, RenderError> {
    let mut ran = Vec::new();
    for doc in renderer.load_plugin_config(dir, t, acc)? {
        let kind = doc.str_at(&["kind"]).unwrap_or("").to_string();
        ran.push(Transformation {
            configured_in: renderer.path_of(doc.loc.file).unwrap_or_default(),
            kind: kind.clone(),
            name: doc.str_at(&["metadata", "name"]).unwrap_or("").to_string(),
            namespace: doc
                .str_at(&["metadata", "namespace"])
                .unwrap_or("")
                .to_string(),
            repo: renderer.fetched_origin(),
        });
        let api = doc.str_at(&["apiVersion"]).unwrap_or("");
        if api != "builtin" && split_api_version(api).0 != "builtin" {
            return Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!(
                    "transformer '{kind}' ({}) is a plugin; kustodian only runs builtin transformers",
                    doc.str_at(&["apiVersion"]).unwrap_or("")
                ),
                doc.loc,
            ));
        }
        run_builtin(renderer, dir, &kind, &doc, acc)?;
    }
    Ok(ran)
}

/// Runs one builtin transformer config through the code a kustomization's own fields use.
fn run_builtin(
    renderer: &Renderer,
    dir: &str,
    kind: &str,
    doc: &Node,
    acc: &mut Accum,
) -> Result<(), RenderError> {
    let mut k = Kustomization::default();
    let loc = doc.loc;
    match kind {
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            k.name_prefix = doc
                .get("prefix")
                .and_then(crate::yaml::Node::scalar_string)
                .map(|p| (p, loc));
            k.name_suffix = doc
                .get("suffix")
                .and_then(crate::yaml::Node::scalar_string)
                .map(|p| (p, loc));
            // The config's field specs replace the default (every object's name).
            let specs = config_specs(doc);
            k.tconfig.name_prefix = Some(specs.clone());
            k.tconfig.name_suffix = Some(specs);
            apply_prefix_suffix(&k, &mut acc.resources);
        }
        "NamespaceTransformer" => {
            namespace_config(doc, &mut acc.resources)?;
        }
        "LabelTransformer" | "AnnotationsTransformer" => {
            let field = if kind == "LabelTransformer" {
                "labels"
            } else {
                "annotations"
            };
            let pairs: Vec<(String, String, Loc)> = doc
                .get(field)
                .and_then(|m| m.as_map())
                .map(|m| {
                    m.entries
                        .iter()
                        .map(|e| (e.key.to_string(), raw_string(&e.value), e.value.loc))
                        .collect()
                })
                .unwrap_or_default();
            let specs = config_specs(doc);
            for r in &mut acc.resources {
                set_string_map(&specs, r, &pairs);
            }
        }
        "ImageTagTransformer" => {
            if let Some(it) = doc.get("imageTag") {
                k.images = vec![it.clone()];
                apply_images(&k, &mut acc.resources);
            }
        }
        "PatchTransformer" | "PatchStrategicMergeTransformer" | "PatchJson6902Transformer" => {
            patch_config(renderer, dir, kind, doc, acc)?;
        }
        "ReplicaCountTransformer" => {
            if let Some(rc) = doc.get("replica") {
                k.replicas = vec![rc.clone()];
                k.tconfig.replicas = std::sync::Arc::new(config_specs(doc));
                apply_replicas(&k, &mut acc.resources)?;
            }
        }
        "ReplacementTransformer" => {
            let list = doc
                .get("replacements")
                .and_then(|r| r.as_seq())
                .cloned()
                .unwrap_or_default();
            crate::render::replacements::apply(&mut acc.resources, &list, renderer.sources())?;
        }
        _ => {
            return Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!("unable to load builtin {kind}"),
                doc.loc,
            ));
        }
    }
    Ok(())
}

/// A `NamespaceTransformer` config: its namespace, RoleBinding subjects mode, `unsetOnly` and
/// field specs.
fn namespace_config(doc: &Node, resources: &mut [Resource]) -> Result<(), RenderError> {
    let loc = doc.loc;
    let ns = doc.get_path(&["metadata", "namespace"]);
    let mode = doc.get("setRoleBindingSubjects");
    let subjects = match mode.and_then(crate::yaml::Node::scalar_string).as_deref() {
        None | Some("" | "defaultOnly") => SubjectMode::DefaultOnly,
        Some("allServiceAccounts") => SubjectMode::AllServiceAccounts,
        Some("none") => SubjectMode::None,
        Some(other) => {
            return Err(RenderError::invalid(
                format!(
                    "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \
                     \"defaultOnly\", \"none\" or \"allServiceAccounts\""
                ),
                mode.map_or(loc, |m| m.loc),
            ));
        }
    };
    set_namespace(
        &ns.and_then(crate::yaml::Node::scalar_string)
            .unwrap_or_default(),
        ns.map_or(loc, |n| n.loc),
        &config_specs(doc),
        doc.get("unsetOnly")
            .and_then(crate::yaml::Node::as_bool)
            .unwrap_or(false),
        subjects,
        resources,
    );
    Ok(())
}

/// A patch transformer config: the config less its own identity is the kustomization entry.
fn patch_config(
    renderer: &Renderer,
    dir: &str,
    kind: &str,
    doc: &Node,
    acc: &mut Accum,
) -> Result<(), RenderError> {
    let mut k = Kustomization::default();
    let mut entry = doc.clone();
    if let Some(m) = entry.as_map_mut() {
        m.remove("apiVersion");
        m.remove("kind");
        m.remove("metadata");
    }
    if kind == "PatchStrategicMergeTransformer" {
        k.patches_strategic_merge = entry
            .get("paths")
            .and_then(|p| p.as_seq())
            .cloned()
            .unwrap_or_default();
        if let Some(p) = entry.get("patches") {
            k.patches_strategic_merge.push(p.clone());
        }
        apply_patches_strategic_merge(renderer, dir, &k, &mut acc.resources, &mut acc.schema)?;
    } else if kind == "PatchJson6902Transformer" {
        k.patches_json6902 = vec![entry];
        let missed = apply_patches_json6902(renderer, dir, &k, &mut acc.resources)?;
        acc.unmatched_patches.extend(missed);
    } else {
        k.patches = vec![entry];
        let missed = apply_patches(renderer, dir, &k, &mut acc.resources, &mut acc.schema)?;
        acc.unmatched_patches.extend(missed);
    }
    Ok(())
}
