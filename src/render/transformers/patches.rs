//! The patch transformers: `patchesStrategicMerge:`, `patches:` and `patchesJson6902:`.
//!
//! Design. A patch is loaded from a file under the kustomization's root-only restriction or
//! parsed from the kustomization's own text (an inline patch, whose nodes are then pointed at the
//! entry that holds it, so provenance names the line to edit). Its scalars are read the way
//! kustomize reads them while the source text is at hand. Targets are found by the patch's own
//! id or by a [`Selector`]; the merge itself is [`patch_smp`] or [`patch_json`]. A target that
//! selects nothing is returned to the caller, which reports it outside components.

use crate::render::error::{RenderError, RenderErrorKind};
use crate::render::kustomization::Kustomization;
use crate::render::openapi::SchemaState;
use crate::render::resource::{ResId, Resource};
use crate::render::scalars::stringify_scalar;
use crate::render::selector::Selector;
use crate::render::{Renderer, patch_json, patch_smp, printable};
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// One loaded patch: its documents and where it was declared.
struct LoadedPatch {
    docs: Vec<Node>,
    loc: Loc,
}

/// kustomize refuses a patch entry that sets both `path` and `patch` (an empty one counts as
/// unset): which of the two would apply is not for kustodian to guess.
fn one_of_path_and_patch(
    path: Option<&Node>,
    inline: Option<&Node>,
    at: Loc,
) -> Result<(), RenderError> {
    let set = |n: Option<&Node>| n.and_then(|n| n.as_str()).is_some_and(|s| !s.is_empty());
    if set(path) && set(inline) {
        return Err(RenderError::invalid(
            "a patch sets both 'path' and 'patch'; kustomize refuses it (patch and path can't be \
             set at the same time)",
            at,
        ));
    }
    Ok(())
}

fn load_patch_source(
    renderer: &Renderer,
    dir: &str,
    path: Option<&Node>,
    inline: Option<&Node>,
    trim: bool,
    at: Loc,
) -> Result<LoadedPatch, RenderError> {
    one_of_path_and_patch(path, inline, at)?;
    if let Some(p) = path.and_then(|p| p.as_str()).filter(|p| !p.is_empty()) {
        let rel = renderer.restricted_file(dir, p, path.map_or(at, |p| p.loc))?;
        let loc = path.map_or(at, |p| p.loc);
        let mut docs: Vec<Node> = renderer
            .load_file(&rel)?
            .into_iter()
            .filter(|d| !d.is_null())
            .collect();
        read_patch_scalars(&mut docs, &renderer.read_text(&rel, loc)?);
        return Ok(LoadedPatch { docs, loc });
    }
    if let Some(text) = inline.and_then(|p| p.as_str()) {
        // Inline patches are parsed from the kustomization's string; their nodes point at it.
        let loc = inline.map_or(at, |p| p.loc);
        // `patches:` trims its inline text (PatchTransformer's Config): a block scalar that ends
        // the patch so loses its last line break.
        let text = if trim { text.trim() } else { text };
        if trim && text.is_empty() {
            return Err(RenderError::invalid(
                "an empty 'patch': kustomize refuses it (must specify one of patch and path)",
                loc,
            ));
        }
        let docs =
            crate::yaml::parse_documents(text, crate::source::FileId::NONE).map_err(|e| {
                RenderError::new(
                    RenderErrorKind::Yaml,
                    format!("invalid inline patch: {}", e.message),
                    loc,
                )
            })?;
        let mut docs: Vec<Node> = docs.into_iter().filter(|d| !d.is_null()).collect();
        read_patch_scalars(&mut docs, text);
        // Relocating loses the keys' own text, which tells a `true:` key from a `"true":` one:
        // such a key in an inline patch is refused now, as the output it ends up in would be.
        if let Some(found) = docs.iter().find_map(|d| unprintable_key_in(d, text)) {
            return Err(printable::unprintable_key(found, loc));
        }
        for d in &mut docs {
            crate::yaml::relocate(d, loc);
        }
        return Ok(LoadedPatch { docs, loc });
    }
    Err(RenderError::invalid(
        "patch entry needs a 'path' or a 'patch'",
        at,
    ))
}

/// Applies a JSON 6902 patch. kustomize applies one by converting the object to JSON and back,
/// so afterwards an annotation written as a plain number or boolean (`0o17`, `1e3`, `yes`: kept in
/// its source spelling until then) is spelled as JSON spells its value (`"15"`, `"1000"`).
fn json_patch(renderer: &Renderer, r: &mut Resource, ops: &Node) -> Result<(), RenderError> {
    patch_json::apply(r, ops)?;
    if let Some(Value::Map(m)) = r
        .node
        .get_path_mut(&["metadata", "annotations"])
        .map(|a| &mut a.value)
    {
        for e in &mut m.entries {
            let v = &mut e.value;
            let Value::Str(s) = &v.value else { continue };
            let Some(file) = renderer.sources().get(v.loc.file) else {
                continue;
            };
            // Written unquoted (the source text is the value itself) and typed by YAML.
            if file.text.get(v.loc.start as usize..v.loc.end as usize) != Some(s.as_str()) {
                continue;
            }
            let canonical = match crate::yaml::resolve::resolve_plain(s) {
                Value::Int(i) => i.to_string(),
                Value::Float(f) => crate::yaml::resolve::format_float(f),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            v.value = Value::Str(canonical.into());
        }
    }
    Ok(())
}

/// Reads a patch's scalars as kustomize does, while their source text is at hand: a JSON 6902
/// patch through YAML 1.1 ([`patch_json::read_as_yaml11`]); in a strategic-merge patch, annotation
/// values as strings spelled as written (`1e3` stays "1e3"; `null` still deletes).
fn read_patch_scalars(docs: &mut [Node], text: &str) {
    if let [ops] = &mut *docs
        && ops.as_seq().is_some()
    {
        patch_json::read_as_yaml11(ops, text);
        return;
    }
    for d in docs {
        if let Some(Value::Map(m)) = d
            .get_path_mut(&["metadata", "annotations"])
            .map(|a| &mut a.value)
        {
            for e in m.entries.iter_mut().filter(|e| !e.value.is_null()) {
                stringify_scalar(&mut e.value, text);
            }
        }
    }
}

/// The first key of `n` (parsed from `text`) that YAML reads as other than text, unless it is
/// a deletion (`true: null` removes a field rather than adding one).
fn unprintable_key_in(n: &Node, text: &str) -> Option<(&'static str, String)> {
    match &n.value {
        Value::Map(m) => m.entries.iter().find_map(|e| {
            if e.value.is_null() {
                return None;
            }
            printable::non_text_candidate(&e.key)
                .then(|| printable::non_text_key_in(&e.key, e.key_loc, text))
                .flatten()
                .or_else(|| unprintable_key_in(&e.value, text))
        }),
        Value::Seq(items) => items.iter().find_map(|i| unprintable_key_in(i, text)),
        _ => None,
    }
}

/// Finds the single resource a strategic-merge patch names by its own id.
fn target_by_patch_id(resources: &[Resource], patch: &Node, at: Loc) -> Result<usize, RenderError> {
    let pid = ResId::of(patch);
    let matches: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.all_ids().iter().any(|id| {
                id.kind == pid.kind
                    && id.name == pid.name
                    && id.group == pid.group
                    && (pid.namespace.is_empty() || id.namespace == pid.namespace)
            })
        })
        .map(|(i, _)| i)
        .collect();
    match matches.len() {
        1 => Ok(matches[0]),
        0 => Err(RenderError::new(
            RenderErrorKind::Conflict,
            format!(
                "no matches for Id {}; failed to find unique target for patch",
                pid.display()
            ),
            at,
        )),
        _ => Err(RenderError::new(
            RenderErrorKind::Conflict,
            format!(
                "multiple matches for Id {}; failed to find unique target for patch",
                pid.display()
            ),
            at,
        )),
    }
}

/// The patch with the target's identity (a patch found by its own, possibly older, name must not
/// rename its target).
fn adopt_identity(patch: &Node, target: &Resource, name: bool, kind: bool) -> Node {
    let id = target.id();
    let mut p = patch.clone();
    if name && let Some(meta) = p.get_mut("metadata").and_then(|m| m.as_map_mut()) {
        if meta.contains_key("name") {
            meta.insert("name", Node::str(id.name.clone()));
        }
        if meta.contains_key("namespace") {
            meta.insert("namespace", Node::str(id.namespace.clone()));
        }
    }
    if kind && let Some(m) = p.as_map_mut() {
        if m.contains_key("kind") {
            m.insert("kind", Node::str(id.kind.clone()));
        }
        if m.contains_key("apiVersion") {
            m.insert("apiVersion", Node::str(id.api_version()));
        }
    }
    p
}

fn smp_into(
    schema: &mut SchemaState,
    resources: &mut Vec<Resource>,
    idx: usize,
    patch: &Node,
) -> Result<(), RenderError> {
    let outcome = patch_smp::apply_with_schema(&mut resources[idx], patch, schema);
    // kyaml's merge walk looks the resource's schema up (loading its built-in one).
    schema.touch();
    match outcome? {
        patch_smp::SmpOutcome::Merged => {}
        patch_smp::SmpOutcome::Deleted => {
            resources.remove(idx);
        }
    }
    Ok(())
}

pub(crate) fn apply_patches_strategic_merge(
    renderer: &Renderer,
    dir: &str,
    k: &Kustomization,
    resources: &mut Vec<Resource>,
    schema: &mut SchemaState,
) -> Result<(), RenderError> {
    let mut any = false;
    for entry in &k.patches_strategic_merge {
        let s = entry.as_str().unwrap_or("");
        // An entry is a file path, or an inline patch (YAML text with a newline or a ':').
        let lp = if s.contains('\n') || (s.contains(": ") && !renderer_has_file(renderer, dir, s)) {
            load_patch_source(renderer, dir, None, Some(entry), false, entry.loc)?
        } else {
            load_patch_source(renderer, dir, Some(entry), None, false, entry.loc)?
        };
        any |= !lp.docs.is_empty();
        for doc in &lp.docs {
            let idx = target_by_patch_id(resources, doc, lp.loc)?;
            let p = adopt_identity(doc, &resources[idx], true, true);
            smp_into(schema, resources, idx, &p)?;
        }
    }
    if !any && !k.patches_strategic_merge.is_empty() {
        return Err(RenderError::invalid(
            "patchesStrategicMerge: patch appears to be empty (every listed patch file has no documents)",
            k.patches_strategic_merge[0].loc,
        ));
    }
    Ok(())
}

fn renderer_has_file(renderer: &Renderer, dir: &str, s: &str) -> bool {
    crate::source::join_rel(dir, s).is_some_and(|p| renderer.fs().is_file(&p))
}

/// Applies `patches:`. Returns where each patch whose `target` selected nothing was written
/// (kustomize applies it to nothing, silently).
pub(crate) fn apply_patches(
    renderer: &Renderer,
    dir: &str,
    k: &Kustomization,
    resources: &mut Vec<Resource>,
    schema: &mut SchemaState,
) -> Result<Vec<Loc>, RenderError> {
    let mut unmatched = Vec::new();
    for entry in &k.patches {
        let lp = load_patch_source(
            renderer,
            dir,
            entry.get("path"),
            entry.get("patch"),
            true,
            entry.loc,
        )?;
        let target = entry.get("target");
        let opts = entry.get("options");
        let allow_name = opts
            .and_then(|o| o.get("allowNameChange"))
            .and_then(crate::yaml::Node::as_bool)
            .unwrap_or(false);
        let allow_kind = opts
            .and_then(|o| o.get("allowKindChange"))
            .and_then(crate::yaml::Node::as_bool)
            .unwrap_or(false);
        // A patch whose single document is a list is a JSON 6902 patch.
        let is_json = lp.docs.len() == 1 && lp.docs[0].as_seq().is_some();
        if is_json {
            let Some(t) = target else {
                return Err(RenderError::invalid(
                    "a JSON 6902 patch needs a 'target'",
                    entry.loc,
                ));
            };
            let sel = Selector::from_node(t)?;
            let picked = sel.select(resources);
            if picked.is_empty() {
                unmatched.push(t.loc);
            }
            for i in picked {
                // kustomize stores the object's previous id before a JSON patch.
                resources[i].remember_id();
                resources[i].bookkept = true;
                json_patch(renderer, &mut resources[i], &lp.docs[0])?;
            }
            continue;
        }
        for doc in &lp.docs {
            if let Some(t) = target {
                let sel = Selector::from_node(t)?;
                let mut idxs = sel.select(resources);
                if idxs.is_empty() {
                    unmatched.push(t.loc);
                }
                idxs.reverse(); // deletions keep earlier indexes valid
                for i in idxs {
                    let p = adopt_identity(doc, &resources[i], !allow_name, !allow_kind);
                    if allow_name || allow_kind {
                        resources[i].remember_id();
                        resources[i].bookkept = true;
                    }
                    smp_into(schema, resources, i, &p)?;
                }
            } else {
                let idx = target_by_patch_id(resources, doc, lp.loc)?;
                let p = adopt_identity(doc, &resources[idx], !allow_name, !allow_kind);
                if allow_name || allow_kind {
                    resources[idx].remember_id();
                    resources[idx].bookkept = true;
                }
                smp_into(schema, resources, idx, &p)?;
            }
        }
    }
    Ok(unmatched)
}

/// Applies the legacy `patchesJson6902:`; returns the targets that selected nothing.
pub(crate) fn apply_patches_json6902(
    renderer: &Renderer,
    dir: &str,
    k: &Kustomization,
    resources: &mut [Resource],
) -> Result<Vec<Loc>, RenderError> {
    let mut unmatched = Vec::new();
    for entry in &k.patches_json6902 {
        one_of_path_and_patch(entry.get("path"), entry.get("patch"), entry.loc)?;
        let ops = if let Some(p) = entry
            .get("path")
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
        {
            let loc = entry.get("path").map_or(entry.loc, |p| p.loc);
            let rel = renderer.restricted_file(dir, p, loc)?;
            let text = renderer.read_text(&rel, loc)?;
            let id = renderer.file_id(&rel);
            // kustomize refuses an empty file, and one that reads as null (comments only).
            let ops = if text.is_empty() {
                None
            } else {
                Some(patch_json::parse_ops(&text, id)?).filter(|o| o.loc.is_some())
            };
            ops.ok_or_else(|| {
                RenderError::invalid(
                    format!("patch file '{p}' is empty; kustomize refuses it"),
                    loc,
                )
            })?
        } else if let Some(inline) = entry.get("patch") {
            let lp = load_patch_source(renderer, dir, None, Some(inline), false, entry.loc)?;
            lp.docs
                .into_iter()
                .next()
                .unwrap_or_else(|| Node::seq(vec![]))
        } else {
            return Err(RenderError::invalid(
                "patchesJson6902 entry needs 'path' or 'patch'",
                entry.loc,
            ));
        };
        let Some(t) = entry.get("target") else {
            return Err(RenderError::invalid(
                "patchesJson6902 entry needs a 'target'",
                entry.loc,
            ));
        };
        // kustomize's legacy JSON 6902 transformer neither complains about a target that
        // matches nothing nor stores the patched object's previous id (so a name this patch
        // changes is not followed by references, unlike with `patches:`).
        let sel = Selector::from_node(t)?;
        let picked = sel.select(resources);
        if picked.is_empty() {
            unmatched.push(t.loc);
        }
        for i in picked {
            json_patch(renderer, &mut resources[i], &ops)?;
        }
    }
    Ok(unmatched)
}
