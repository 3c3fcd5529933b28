//! Strategic merge patches, as kustomize applies them.
//!
//! kustomize merges with kyaml's `merge2` walker, not apimachinery's strategic patch, and this
//! module follows that walk step by step rather than the documented semantics, because what it
//! does is what gets deployed. Every field of the target and the patch is visited: maps merge
//! recursively, `null` deletes, scalars replace; lists of built-in kinds with a merge key
//! (containers and env by `name`, volume mounts by `mountPath`, ports by `containerPort` and
//! `protocol`, ...) are merged item by item with the patch's items first (kustomize's "prepend"
//! direction); other lists, and every list of a kind kustomize has no schema for (CRDs), are
//! replaced by the patch's list exactly as written. Where the target has nothing, the patch's
//! value is walked against itself, as kyaml's walk has it.
//!
//! Directives: `$patch: delete`/`replace`/`merge` on the document or a map; on a list, only as an
//! item of its own (`- $patch: replace`); on a list item with other fields, `delete` removes the
//! item and `replace` is lost (kyaml sets the target's untouched item over it). Every other `$`
//! key (`$deleteFromPrimitiveList/...`, `$setElementOrder/...`, `$retainKeys`) is kept as a field,
//! since kyaml does not implement them (schema validation then reports it).
//!
//! kyaml's keyed-list merge has oddities, reproduced in `assoc_merge` and reported through
//! [`EditKind::Ignored`] (the `patch-item-ignored` rule): an item without its key field removes
//! every item that has one — also when it is the target's own and the patch touches anything else
//! in the object; repeated keys collapse to the last; items matching only some of several keys are
//! dropped. All observed with the reference kustomize (`fixtures/golden/smp-walk`).
//!
//! Provenance: values taken from the patch keep the patch's locations and get `via` = their own
//! place in the patch; deletions and list replacements are recorded as [`Edit`]s on the resource.
//!
//! Layout: this module applies a patch document to a resource; `merge.rs` is the walk itself,
//! `directives.rs` reads `$patch`, `schema.rs` finds list merge keys, `lists.rs` matches keyed
//! list items and `dropped.rs` reports the items the merge lost.

mod directives;
mod dropped;
mod lists;
mod merge;
mod schema;

use super::error::RenderError;
use super::openapi::SchemaState;
use super::resource::{Edit, EditKind, Resource};
use crate::yaml::Node;
use directives::{Directive, map_directive, take_map_directive};
use merge::{from_patch, merge_map, self_walk};
use schema::Ctx;
pub(crate) use schema::is_builtin_kind;

/// What applying a patch did to the resource as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmpOutcome {
    Merged,
    /// The patch was `$patch: delete` at the top level: the caller drops the resource.
    Deleted,
}

/// Applies one strategic-merge patch document to a resource.
#[cfg(test)]
pub(crate) fn apply(target: &mut Resource, patch: &Node) -> Result<SmpOutcome, RenderError> {
    apply_with_schema(target, patch, &SchemaState::default())
}

/// Like [`apply`], under the build's schema state: a custom OpenAPI document (a kustomization's
/// `openapi: {path}`) gives merge keys (`x-kubernetes-patch-merge-key`) to the lists of the
/// kinds it defines, and, set before kyaml consulted its own, leaves built-in kinds without
/// theirs (see [`super::openapi`]).
pub(crate) fn apply_with_schema(
    target: &mut Resource,
    patch: &Node,
    schema: &SchemaState,
) -> Result<SmpOutcome, RenderError> {
    let custom = schema.custom.as_deref();
    let openapi = custom.map(|c| &c.doc);
    let builtin_known = schema.builtin_known();
    if patch.as_map().is_none() {
        return Err(RenderError::invalid(
            "a strategic merge patch must be a mapping (a partial Kubernetes object)",
            patch.loc,
        ));
    }
    match map_directive(patch)?.map(|(d, _)| d) {
        Some(Directive::Delete) => {
            target.edits.push(Edit {
                path: String::new(),
                by: patch.loc,
                kind: EditKind::Removed,
            });
            return Ok(SmpOutcome::Deleted);
        }
        Some(Directive::Replace) => {
            let mut n = from_patch(patch);
            take_map_directive(&mut n)?;
            let ctx = Ctx {
                builtin: builtin_known && is_builtin_kind(&target.id().group),
                openapi,
                drop_empty_nulls: false,
            };
            let mut edits = Vec::new();
            self_walk(&ctx, &mut n, "", "", &mut edits, None)?;
            target.edits.extend(edits);
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
        builtin: builtin_known && is_builtin_kind(&id.group),
        openapi,
        drop_empty_nulls: !target.nulls_spelled,
    };
    let root_schema = custom.and_then(|c| c.root_for(&id));
    let mut edits = Vec::new();
    let mut node = std::mem::replace(&mut target.node, Node::map());
    // The caller decides whether the patch may rename or re-kind its target (it rewrites the
    // patch's identity to the target's unless `allowNameChange`/`allowKindChange`), so identity
    // fields merge like any other.
    let p = patch.clone();
    let merged = merge_map(&ctx, &mut node, &p, "", &mut edits, root_schema);
    target.node = node;
    merged?;
    target.edits.extend(edits);
    Ok(SmpOutcome::Merged)
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

    #[test]
    fn lost_items_are_reported_with_what_they_took() {
        // `$patch: replace` on an existing item: the target's item stays (moved first, as the
        // reference kustomize moves it), the patch's is lost.
        let mut r = res(BASE);
        apply(
            &mut r,
            &with("      - name: b\n        $patch: replace\n        image: b2\n"),
        )
        .unwrap();
        assert_eq!(names(&r), ["b", "a", "c"]);
        let img = r
            .node
            .get_path(&["spec", "template", "spec", "containers"])
            .unwrap()
            .as_seq()
            .unwrap()[0]
            .str_at(&["image"]);
        assert_eq!(img, Some("b"));
        assert!(matches!(
            &r.edits[..],
            [Edit {
                kind: EditKind::Ignored { .. },
                ..
            }]
        ));
        // An item without its key: dropped, and every keyed item goes with it.
        let mut r = res(BASE);
        apply(&mut r, &with("      - image: nameless\n")).unwrap();
        assert_eq!(
            to_json(
                r.node
                    .get_path(&["spec", "template", "spec", "containers"])
                    .unwrap()
            ),
            serde_json::json!([])
        );
        let removed = r
            .edits
            .iter()
            .filter(|e| e.kind == EditKind::Removed)
            .count();
        let ignored = r
            .edits
            .iter()
            .filter(|e| matches!(e.kind, EditKind::Ignored { .. }))
            .count();
        assert_eq!((removed, ignored), (3, 1));
    }
}
