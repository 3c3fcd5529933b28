//! Strategic merge patches, as kustomize applies them.
//!
//! kustomize merges with kyaml's `merge2` walker, not apimachinery's strategic patch: maps merge
//! recursively, `null` deletes, scalars replace; lists of built-in kinds merge by their Kubernetes
//! merge key (containers and env by `name`, volume mounts by `mountPath`, container ports by
//! `containerPort`, ...) with the patch's items first, in patch order, followed by the remaining
//! items of the target (kustomize's "prepend" direction); lists without a merge key, and every list
//! of a kind kustomize has no schema for (CRDs), are replaced. Lists keyed by several fields
//! (container and Service ports with `protocol`, topology spread constraints) follow kyaml's
//! associative-list walk step by step, since its handling of items that name only some of the keys
//! (it keeps the target's item and drops the patch's) is what gets deployed. Directives: `$patch: delete` (on the
//! document, a map or a list item), `$patch: replace` (a map, or a list when one item says so),
//! `$patch: merge`; `$deleteFromPrimitiveList/...` keys are dropped; other `$` keys are kept as
//! fields — all observed with the reference kustomize.
//!
//! Provenance: values taken from the patch keep the patch's locations and get `via` = the patch
//! node; deletions and list replacements are recorded as [`Edit`]s on the resource.

use super::error::RenderError;
use super::resource::{Edit, EditKind, Resource};
use crate::yaml::{Mapping, Node, Value};

/// What applying a patch did to the resource as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpOutcome {
    Merged,
    /// The patch was `$patch: delete` at the top level: the caller drops the resource.
    Deleted,
}

/// Applies one strategic-merge patch document to a resource.
pub fn apply(target: &mut Resource, patch: &Node) -> Result<SmpOutcome, RenderError> {
    apply_with_schema(target, patch, None)
}

/// Like [`apply`], with an OpenAPI document (a kustomization's `openapi: {path}`) that gives
/// merge keys (`x-kubernetes-patch-merge-key`) for custom resources' lists.
pub fn apply_with_schema(
    target: &mut Resource,
    patch: &Node,
    openapi: Option<&serde_json::Value>,
) -> Result<SmpOutcome, RenderError> {
    let Some(pm) = patch.as_map() else {
        return Err(RenderError::invalid(
            "a strategic merge patch must be a mapping (a partial Kubernetes object)",
            patch.loc,
        ));
    };
    match directive(pm) {
        Some("delete") => {
            target.edits.push(Edit {
                path: String::new(),
                by: patch.loc,
                kind: EditKind::Removed,
            });
            return Ok(SmpOutcome::Deleted);
        }
        Some("replace") => {
            let mut n = strip_directives(patch);
            for k in ["apiVersion", "kind"] {
                if let Some(v) = target.node.get(k).cloned() {
                    n.set(k, v);
                }
            }
            target.node = n;
            target.edits.push(Edit {
                path: String::new(),
                by: patch.loc,
                kind: EditKind::Replaced,
            });
            return Ok(SmpOutcome::Merged);
        }
        _ => {}
    }
    let id = target.id();
    let ctx = Ctx {
        builtin: is_builtin_kind(&id.group),
        openapi,
    };
    let root_schema = openapi.and_then(|doc| {
        doc.get("definitions")?.as_object()?.values().find(|d| {
            d.get("x-kubernetes-group-version-kind")
                .and_then(|g| g.as_array())
                .is_some_and(|gs| {
                    gs.iter().any(|g| {
                        g["kind"] == id.kind.as_str()
                            && g["version"] == id.version.as_str()
                            && (g["group"] == id.group.as_str() || g["group"] == "")
                    })
                })
        })
    });
    let mut edits = Vec::new();
    let mut node = std::mem::replace(&mut target.node, Node::map());
    // The caller decides whether the patch may rename or re-kind its target (it rewrites the
    // patch's identity to the target's unless `allowNameChange`/`allowKindChange`), so identity
    // fields merge like any other.
    let p = patch.clone();
    merge_map(&ctx, &mut node, &p, "", &mut edits, root_schema);
    target.node = node;
    target.edits.extend(edits);
    Ok(SmpOutcome::Merged)
}

struct Ctx<'a> {
    /// The resource is of a built-in kind, so list merge keys are known.
    builtin: bool,
    /// A user-supplied OpenAPI document (`openapi: {path}`), for `$ref` resolution.
    openapi: Option<&'a serde_json::Value>,
}

impl Ctx<'_> {
    /// Follows a `$ref` into the OpenAPI document's definitions.
    fn resolve<'s>(&'s self, s: Option<&'s serde_json::Value>) -> Option<&'s serde_json::Value> {
        let s = s?;
        match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let name = r.rsplit('/').next()?;
                self.openapi?.get("definitions")?.get(name)
            }
            None => Some(s),
        }
    }
}

fn is_builtin_kind(group: &str) -> bool {
    group.is_empty()
        || group.ends_with(".k8s.io")
        || matches!(
            group,
            "apps" | "batch" | "policy" | "autoscaling" | "extensions"
        )
}

fn directive(m: &Mapping) -> Option<&str> {
    m.get("$patch").and_then(|d| d.as_str())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A patch subtree as it lands in the output: directives removed, provenance set.
fn strip_directives(n: &Node) -> Node {
    let mut out = n.clone();
    out.via = n.loc;
    match &mut out.value {
        Value::Map(m) => {
            m.entries
                .retain(|e| e.key != "$patch" && !e.key.starts_with("$deleteFromPrimitiveList/"));
            for e in &mut m.entries {
                e.value = strip_directives(&e.value);
            }
        }
        Value::Seq(items) => {
            items.retain(|i| i.as_map().and_then(directive).is_none());
            for i in items.iter_mut() {
                *i = strip_directives(i);
            }
        }
        _ => {}
    }
    out
}

fn merge_map(
    ctx: &Ctx,
    dst: &mut Node,
    patch: &Node,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) {
    let Some(pm) = patch.as_map() else { return };
    if dst.as_map().is_none() {
        *dst = Node::new(Value::Map(Mapping::default()), dst.loc);
    }
    for e in &pm.entries {
        let key = e.key.as_str();
        if key == "$patch" || key.starts_with("$deleteFromPrimitiveList/") {
            continue;
        }
        let fpath = join(path, key);
        let pv = &e.value;
        let child_schema = ctx.resolve(
            ctx.resolve(schema)
                .and_then(|s| s.get("properties"))
                .and_then(|p| p.get(key)),
        );
        let dm = dst.as_map_mut().expect("made a map above");
        // `key: null` deletes.
        if pv.is_null() {
            if dm.remove(key).is_some() {
                edits.push(Edit {
                    path: fpath,
                    by: e.key_loc,
                    kind: EditKind::Removed,
                });
            }
            continue;
        }
        match &pv.value {
            Value::Map(sub) => match directive(sub) {
                Some("delete") => {
                    if dm.remove(key).is_some() {
                        edits.push(Edit {
                            path: fpath,
                            by: sub.get("$patch").map(|d| d.loc).unwrap_or(pv.loc),
                            kind: EditKind::Removed,
                        });
                    }
                }
                Some("replace") => {
                    dm.insert(key, strip_directives(pv));
                    edits.push(Edit {
                        path: fpath,
                        by: sub.get("$patch").map(|d| d.loc).unwrap_or(pv.loc),
                        kind: EditKind::Replaced,
                    });
                }
                _ => match dm.get_mut(key) {
                    Some(d) if d.as_map().is_some() => {
                        merge_map(ctx, d, pv, &fpath, edits, child_schema)
                    }
                    _ => {
                        let mut fresh = Node::new(Value::Map(Mapping::default()), pv.loc);
                        merge_map(ctx, &mut fresh, pv, &fpath, edits, child_schema);
                        fresh.via = pv.loc;
                        dm.insert(key, fresh);
                    }
                },
            },
            Value::Seq(items) => {
                let merged = match dm.get(key) {
                    Some(d) if d.as_seq().is_some() => {
                        merge_list(ctx, key, d, pv, items, &fpath, edits, child_schema)
                    }
                    _ => strip_directives(pv),
                };
                dm.insert(key, merged);
            }
            _ => {
                // Setting a value to what it already is changes nothing (provenance included).
                if dm.get(key).is_some_and(|d| d == pv) {
                    continue;
                }
                let mut v = pv.clone();
                v.via = pv.loc;
                dm.insert(key, v);
            }
        }
    }
}

/// The merge key of a list field of a built-in kind, or `None` to replace the list.
/// `Some("")` marks a primitive list merged as a set.
fn merge_key(field: &str, items: &[&Node]) -> Option<&'static str> {
    let has = |k: &str| items.iter().any(|i| i.get(k).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "imagePullSecrets"
        | "env"
        | "resourceClaims"
        | "schedulingGates" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ownerReferences" => Some("uid"),
        "finalizers" => Some(""),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        _ => None,
    }
}

fn key_of(n: &Node, key: &str) -> Option<String> {
    if key.is_empty() {
        n.scalar_string()
    } else {
        n.get(key).and_then(|v| v.scalar_string())
    }
}

#[allow(clippy::too_many_arguments)]
fn merge_list(
    ctx: &Ctx,
    field: &str,
    dst: &Node,
    patch: &Node,
    items: &[Node],
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) -> Node {
    let schema_key = schema
        .and_then(|s| s.get("x-kubernetes-patch-merge-key"))
        .and_then(|k| k.as_str());
    let item_schema = ctx.resolve(schema.and_then(|s| s.get("items")));
    let replace_directive = items
        .iter()
        .find(|i| i.as_map().and_then(directive) == Some("replace"));
    let dst_items = dst.as_seq().map(|v| v.as_slice()).unwrap_or(&[]);
    let all: Vec<&Node> = dst_items.iter().chain(items.iter()).collect();
    // A user-supplied schema names the merge key; else the built-in kinds' table.
    let key: Option<&str> = match schema_key {
        Some(k) => Some(k),
        None if ctx.builtin => merge_key(field, &all),
        None => None,
    };
    let (Some(key), None) = (key, replace_directive) else {
        // Replaced wholesale: whatever the target had is gone.
        edits.push(Edit {
            path: path.to_string(),
            by: replace_directive.map(|d| d.loc).unwrap_or(patch.loc),
            kind: EditKind::Replaced,
        });
        return Node::new(strip_directives(patch).value, patch.loc).with_via(patch.loc);
    };
    if schema_key.is_none()
        && ctx.builtin
        && let Some(keys) = list_map_keys(field, key, path)
    {
        let merged = merge_list_multikey(ctx, dst_items, items, keys, path, edits, item_schema);
        return Node::new(Value::Seq(merged), dst.loc);
    }
    let mut out: Vec<Node> = Vec::new();
    let mut used = vec![false; dst_items.len()];
    for p in items {
        let Some(k) = key_of(p, key) else {
            out.push(strip_directives(p));
            continue;
        };
        let found = dst_items
            .iter()
            .enumerate()
            .find(|(i, d)| !used[*i] && key_of(d, key).as_deref() == Some(k.as_str()));
        let item_path = if key.is_empty() {
            format!("{path}[{k}]")
        } else {
            format!("{path}[{key}={k}]")
        };
        if p.as_map().and_then(directive) == Some("delete") {
            if let Some((i, _)) = found {
                used[i] = true;
                edits.push(Edit {
                    path: item_path,
                    by: p.get("$patch").map(|d| d.loc).unwrap_or(p.loc),
                    kind: EditKind::Removed,
                });
            }
            continue;
        }
        match found {
            Some((i, d)) => {
                used[i] = true;
                if key.is_empty() {
                    out.push(d.clone());
                } else {
                    let mut m = d.clone();
                    merge_map(ctx, &mut m, p, &item_path, edits, item_schema);
                    out.push(m);
                }
            }
            None => out.push(strip_directives(p)),
        }
    }
    out.extend(
        dst_items
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(d, _)| d.clone()),
    );
    Node::new(Value::Seq(out), dst.loc)
}

/// Lists whose schema names several keys (`x-kubernetes-list-map-keys`) besides a merge
/// strategy: kyaml matches their items on all of them, the way [`merge_list_multikey`] does.
fn list_map_keys(field: &str, key: &str, path: &str) -> Option<&'static [&'static str]> {
    match (field, key) {
        ("ports", "containerPort") => Some(&["containerPort", "protocol"]),
        ("ports", "port") if path == "spec.ports" => Some(&["port", "protocol"]),
        ("topologySpreadConstraints", _) => Some(&["topologyKey", "whenUnsatisfiable"]),
        _ => None,
    }
}

/// An item's values of the keys, `""` where it has none (kyaml's `ElementValuesList`).
fn key_values(n: &Node, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            n.get(k)
                .filter(|v| !matches!(v.value, Value::Null | Value::Seq(_) | Value::Map(_)))
                .and_then(|v| v.scalar_string())
                .unwrap_or_default()
        })
        .collect()
}

/// kyaml's `FieldMatcher` on an item: the key is there and, unless `value` is empty, has it.
fn field_matches(n: &Node, key: &str, value: &str) -> bool {
    match n.get(key) {
        None => false,
        Some(_) if value.is_empty() => true,
        Some(v) => v.scalar_string().as_deref() == Some(value),
    }
}

/// kyaml's `ElementSetter`: drops null and empty items; replaces every item matching the keys
/// and values with `element` (drops them when `None`), or appends `element` when none matched.
/// A value missing at index `j` reuses the previous key's verdict, as kyaml's loop does.
fn element_setter(list: &mut Vec<Node>, element: Option<&Node>, keys: &[&str], values: &[String]) {
    let mapping_setter = values.first().is_some_and(|v| !v.is_empty());
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut matched = false;
    for item in list.drain(..) {
        if item.is_null() || item.as_map().is_some_and(|m| m.is_empty()) {
            continue;
        }
        if item.as_map().is_none() && mapping_setter {
            out.push(item);
            continue;
        }
        let mut ok = false;
        let mut found = true;
        for (j, k) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                ok = item.as_map().is_some() && field_matches(&item, k, v);
            }
            if !ok {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(item);
            }
            continue;
        }
        matched = true;
        if let Some(e) = element {
            out.push(e.clone());
        }
    }
    if let Some(e) = element
        && !matched
    {
        out.push(e.clone());
    }
    *list = out;
}

/// kyaml's `validateKeys`: the keys some tuple has a value for (all keys when none has any), and
/// this tuple's values of them.
fn valid_keys<'k>(
    all: &[Vec<String>],
    values: &[String],
    keys: &[&'k str],
) -> (Vec<&'k str>, Vec<String>) {
    let used: Vec<bool> = (0..keys.len())
        .map(|i| all.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect();
    if !used.iter().any(|u| *u) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys.iter().zip(&used).filter(|(_, u)| **u).map(|(k, _)| *k);
    let vv = values
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(v, _)| v.clone());
    (vk.collect(), vv.collect())
}

/// A list with several item keys (container ports: `containerPort` + `protocol`), merged exactly
/// as kyaml's associative-sequence walker does, including what it does with items that have only
/// some of the keys: a port written with a protocol in the target and without one in the patch
/// (or the other way round) keeps the target's item and drops the patch's — observed with the
/// reference kustomize, and reproduced here so that rendering agrees with what gets deployed.
#[allow(clippy::too_many_arguments)]
fn merge_list_multikey(
    ctx: &Ctx,
    dst_items: &[Node],
    items: &[Node],
    keys: &[&str],
    path: &str,
    edits: &mut Vec<Edit>,
    item_schema: Option<&serde_json::Value>,
) -> Vec<Node> {
    let mut dest: Vec<Node> = dst_items.to_vec();
    // Every tuple of key values, the patch's items first (kustomize prepends), without repeats.
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for n in items.iter().chain(dst_items) {
        let t = key_values(n, keys);
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    // `mergeValues`: tuples that agree wherever both have a value become one.
    let agree = |a: &[String], b: &[String]| -> Option<Vec<String>> {
        let mut common = false;
        let mut out = Vec::with_capacity(a.len());
        for (x, y) in a.iter().zip(b) {
            if x == y {
                common = true;
                out.push(x.clone());
            } else if !x.is_empty() && !y.is_empty() {
                return None;
            } else {
                out.push(if x.is_empty() { y.clone() } else { x.clone() });
            }
        }
        common.then_some(out)
    };
    for i in 0..tuples.len() {
        let first = tuples[i].clone();
        for j in 0..tuples.len() {
            if let Some(m) = agree(&first, &tuples[j].clone()) {
                tuples[i] = m.clone();
                tuples[j] = m;
            }
        }
    }
    let find = |list: &[Node], k: &[&str], v: &[String]| {
        list.iter().position(|n| {
            n.as_map().is_some() && k.iter().zip(v).all(|(k, v)| field_matches_exact(n, k, v))
        })
    };
    let mut added: Vec<Node> = Vec::new();
    let mut last_keys: Vec<&str> = keys.to_vec();
    let mut used = vec![false; items.len()];
    for values in &tuples {
        let (vk, vv) = valid_keys(&tuples, values, keys);
        let (lk, lv) = valid_keys(std::slice::from_ref(&vv), &vv, &vk);
        let d = find(&dest, &lk, &lv);
        let pi = find(items, &lk, &lv);
        if let Some(i) = pi {
            used[i] = true;
        }
        let p = pi.map(|i| &items[i]);
        let item_path = format!(
            "{path}[{}]",
            vk.iter()
                .zip(&vv)
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let delete = p.is_some_and(|p| p.as_map().and_then(directive) == Some("delete"));
        // The merged item: the target's own (kyaml merges into it in place) or the patch's.
        let mut owned: Option<Node> = None;
        let at: Option<usize> = match (d, p) {
            _ if delete => None,
            (Some(di), Some(p)) => {
                merge_map(ctx, &mut dest[di], p, &item_path, edits, item_schema);
                Some(di)
            }
            (Some(di), None) => Some(di),
            (None, Some(p)) => {
                owned = Some(strip_directives(p));
                None
            }
            (None, None) => None,
        };
        let val = match at {
            Some(i) => Some(&mut dest[i]),
            None => owned.as_mut(),
        };
        let Some(val) = val.filter(|v| !v.is_null() && v.as_map().is_none_or(|m| !m.is_empty()))
        else {
            if let (true, Some(p), Some(_)) = (delete, p, d) {
                edits.push(Edit {
                    path: item_path,
                    by: p.get("$patch").map(|x| x.loc).unwrap_or(p.loc),
                    kind: EditKind::Removed,
                });
            }
            element_setter(&mut dest, None, &vk, &vv);
            last_keys = vk;
            continue;
        };
        // The keys' values are written onto the item when it lacks them.
        for (k, v) in vk.iter().zip(&vv) {
            if !v.is_empty() && val.get(k).is_none() {
                val.set(k, Node::synth(crate::yaml::resolve::resolve_plain(v)));
            }
        }
        let val = val.clone();
        element_setter(&mut added, Some(&val), &vk, &vv);
        last_keys = vk;
    }
    // Patch items no tuple led to were dropped: say so, naming the target item that won.
    let shown = |n: &Node| {
        keys.iter()
            .filter_map(|k| {
                n.get(k)
                    .and_then(|v| v.scalar_string())
                    .map(|v| format!("{k}: {v}"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (p, _) in items
        .iter()
        .zip(&used)
        .filter(|(p, u)| !**u && p.as_map().is_some())
    {
        let mine = key_values(p, keys);
        let rival = dst_items
            .iter()
            .find(|d| agree(&mine, &key_values(d, keys)).is_some());
        let why = match rival {
            Some(d) => format!(
                "kustomize ignores this patch item {{{}}}: items of '{path}' are matched on {} \
                 together, and the target's item {{{}}} writes them differently, so it is kept unchanged",
                shown(p),
                keys.join(" and "),
                shown(d)
            ),
            None => format!(
                "kustomize ignores this patch item {{{}}} of '{path}'",
                shown(p)
            ),
        };
        let id = keys
            .iter()
            .filter_map(|k| {
                p.get(k)
                    .and_then(|v| v.scalar_string())
                    .map(|v| format!("{k}={v}"))
            })
            .collect::<Vec<_>>()
            .join(",");
        edits.push(Edit {
            path: format!("{path}[{id}]"),
            by: p.loc,
            kind: EditKind::Ignored(why),
        });
    }
    if tuples.is_empty() {
        return dest;
    }
    // `appendListNode`: the target's items (merged in place) go after the patch's, each
    // replacing its match; an item missing a key is appended as is, once per missing key.
    let mut out = added;
    for item in &dest {
        let mut v: Vec<String> = Vec::new();
        for k in &last_keys {
            match item.get(k) {
                None => out.push(item.clone()),
                Some(x) => v.push(x.scalar_string().unwrap_or_default()),
            }
        }
        if last_keys.len() > 1 {
            element_setter(&mut out, None, &last_keys, &v);
        }
        element_setter(&mut out, Some(item), &last_keys, &v);
    }
    out
}

/// kyaml's `MatchField`: the key is there with exactly this value (an empty value included).
fn field_matches_exact(n: &Node, key: &str, value: &str) -> bool {
    n.get(key)
        .is_some_and(|v| v.scalar_string().unwrap_or_default() == value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{parse_documents, to_json};

    fn res(src: &str) -> Resource {
        Resource::new(parse_documents(src, FileId(0)).unwrap().remove(0))
    }
    fn patch(src: &str) -> Node {
        parse_documents(src, FileId(1)).unwrap().remove(0)
    }
    fn names(r: &Resource) -> Vec<String> {
        r.node
            .get_path(&["spec", "template", "spec", "containers"])
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|c| c.str_at(&["name"]).unwrap().to_string())
            .collect()
    }
    const BASE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: a\n      - name: b\n        image: b\n      - name: c\n        image: c\n";

    fn with(containers: &str) -> Node {
        patch(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n{containers}"
        ))
    }

    #[test]
    fn list_order_matches_kustomize_prepend() {
        // Orders observed with the reference kustomize.
        let mut r = res(BASE);
        apply(
            &mut r,
            &with("      - name: b\n        image: b2\n      - name: x\n        image: x\n"),
        )
        .unwrap();
        assert_eq!(names(&r), ["b", "x", "a", "c"]);
        let mut r = res(BASE);
        apply(
            &mut r,
            &with("      - name: c\n        image: c2\n      - name: a\n        image: a2\n"),
        )
        .unwrap();
        assert_eq!(names(&r), ["c", "a", "b"]);
        let mut r = res(BASE);
        apply(&mut r, &with("      - name: b\n        $patch: delete\n")).unwrap();
        assert_eq!(names(&r), ["a", "c"]);
        assert_eq!(r.edits[0].path, "spec.template.spec.containers[name=b]");
        let mut r = res(BASE);
        apply(
            &mut r,
            &with("      - $patch: replace\n      - name: q\n        image: q\n"),
        )
        .unwrap();
        assert_eq!(names(&r), ["q"]);
    }

    #[test]
    fn merges_maps_deletes_nulls_and_keeps_provenance() {
        let mut r = res(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    a: x\n    b: y\ndata:\n  k: v\n",
        );
        let p = patch(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    b: null\n    c: z\ndata:\n  k: w\n",
        );
        apply(&mut r, &p).unwrap();
        assert_eq!(
            to_json(&r.node),
            serde_json::json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"x","c":"z"}},"data":{"k":"w"}})
        );
        let k = r.node.get_path(&["data", "k"]).unwrap();
        assert_eq!(k.loc.file, FileId(1));
        assert_eq!(k.blame().file, FileId(1));
        assert_eq!(r.edits[0].path, "metadata.labels.b");
    }

    #[test]
    fn crd_lists_are_replaced_and_top_level_delete() {
        let mut r = res(
            "apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  items:\n  - name: a\n  - name: b\n",
        );
        apply(&mut r, &patch("apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: f\nspec:\n  items:\n  - name: b\n    v: 3\n")).unwrap();
        assert_eq!(
            to_json(r.node.get_path(&["spec", "items"]).unwrap()),
            serde_json::json!([{"name":"b","v":3}])
        );
        let out = apply(
            &mut r,
            &patch("apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: f\n$patch: delete\n"),
        )
        .unwrap();
        assert_eq!(out, SmpOutcome::Deleted);
    }

    #[test]
    fn removing_limits_is_recorded() {
        let mut r = res(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        resources:\n          limits:\n            cpu: 1\n",
        );
        let p = with("      - name: app\n        resources:\n          limits: null\n");
        apply(&mut r, &p).unwrap();
        let e = &r.edits[0];
        assert_eq!(
            e.path,
            "spec.template.spec.containers[name=app].resources.limits"
        );
        assert_eq!(e.kind, EditKind::Removed);
        assert_eq!(e.by.file, FileId(1));
    }
}
