//! Strategic merge patches, as kustomize applies them.
//!
//! kustomize merges with kyaml's `merge2` walker, not apimachinery's strategic patch: maps merge
//! recursively, `null` deletes, scalars replace; lists of built-in kinds merge by their Kubernetes
//! merge key (containers and env by `name`, volume mounts by `mountPath`, container ports by
//! `containerPort`, ...) with the patch's items first, in patch order, followed by the remaining
//! items of the target (kustomize's "prepend" direction); lists without a merge key, and every list
//! of a kind kustomize has no schema for (CRDs), are replaced. Directives: `$patch: delete` (on the
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
