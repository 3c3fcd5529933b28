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

use super::error::RenderError;
use super::openapi::SchemaState;
use super::resource::{Edit, EditKind, Resource};
use crate::source::Loc;
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
    apply_with_schema(target, patch, &SchemaState::default())
}

/// Like [`apply`], under the build's schema state: a custom OpenAPI document (a kustomization's
/// `openapi: {path}`) gives merge keys (`x-kubernetes-patch-merge-key`) to the lists of the
/// kinds it defines, and, set before kyaml consulted its own, leaves built-in kinds without
/// theirs (see [`super::openapi`]).
pub fn apply_with_schema(
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

/// Kinds of the Kubernetes API groups (whose schemas kyaml has built in).
pub(crate) fn is_builtin_kind(group: &str) -> bool {
    group.is_empty()
        || group.ends_with(".k8s.io")
        || matches!(
            group,
            "apps" | "batch" | "policy" | "autoscaling" | "extensions"
        )
}

/// A `$patch` directive, as kyaml reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn directive_of(value: &Node) -> Result<Directive, RenderError> {
    match value.scalar_string().as_deref() {
        Some("merge") => Ok(Directive::Merge),
        Some("replace") => Ok(Directive::Replace),
        Some("delete") => Ok(Directive::Delete),
        _ => Err(RenderError::invalid(
            format!(
                "unknown patch strategy '{}' (kustomize knows merge, replace and delete)",
                value.scalar_string().unwrap_or_default()
            ),
            value.loc,
        )),
    }
}

/// The directive of a patch mapping, without removing it.
fn map_directive(n: &Node) -> Result<Option<(Directive, Loc)>, RenderError> {
    match n.get("$patch") {
        None => Ok(None),
        Some(v) => Ok(Some((directive_of(v)?, v.loc))),
    }
}

/// Reads and removes a mapping's `$patch` (kyaml's `determineMappingNodePatchStrategy`).
fn take_map_directive(n: &mut Node) -> Result<Option<(Directive, Loc)>, RenderError> {
    let d = map_directive(n)?;
    if d.is_some()
        && let Some(m) = n.as_map_mut()
    {
        m.remove("$patch");
    }
    Ok(d)
}

/// kyaml's `determineSequenceNodePatchStrategy`: the first mapping item with a `$patch` directs
/// the list only when it has nothing else; then every item with that same `$patch` is removed.
/// An item with other fields besides (`{name: a, $patch: replace}`) is an item directive instead.
fn take_seq_directive(items: &mut Vec<Node>) -> Result<Option<(Directive, Loc)>, RenderError> {
    let Some(first) = items
        .iter()
        .find(|i| i.as_map().is_some_and(|m| m.contains_key("$patch")))
    else {
        return Ok(None);
    };
    if first.as_map().is_some_and(|m| m.len() > 1) {
        return Ok(None);
    }
    let v = first.get("$patch").expect("found above");
    let (d, loc) = (directive_of(v)?, v.loc);
    let raw = v.scalar_string().unwrap_or_default();
    element_setter(items, None, &["$patch"], &[raw]);
    Ok(Some((d, loc)))
}

fn into_items(n: Node) -> Vec<Node> {
    match n.value {
        Value::Seq(items) => items,
        _ => Vec::new(),
    }
}

/// A list node's items, taken out (the node keeps its place and provenance).
fn take_items(n: &mut Node) -> Vec<Node> {
    match std::mem::replace(&mut n.value, Value::Null) {
        Value::Seq(items) => items,
        _ => Vec::new(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A patch subtree as it lands in the output: each node's `via` is its own place in the patch.
/// Directives stay; the walk removes the ones kyaml reads.
fn from_patch(n: &Node) -> Node {
    let mut out = n.clone();
    out.walk_mut(&mut |n| n.via = n.loc);
    out
}

/// What walking one field gave its parent mapping.
enum Field {
    /// Merged in place (or left as it was).
    Keep,
    Set(Node),
    Clear,
}

fn wrong_kind(expected: &str, o: &Node, path: &str) -> RenderError {
    let got = match &o.value {
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
        _ => "a scalar",
    };
    RenderError::invalid(
        format!(
            "strategic merge patch: '{path}' is {expected} in the target but {got} in the patch; \
             kustomize fails on this (wrong node kind)"
        ),
        o.loc,
    )
}

impl Ctx<'_> {
    fn field_schema<'s>(
        &'s self,
        schema: Option<&'s serde_json::Value>,
        key: &str,
    ) -> Option<&'s serde_json::Value> {
        self.resolve(
            self.resolve(schema)
                .and_then(|s| s.get("properties"))
                .and_then(|p| p.get(key)),
        )
    }

    fn item_schema<'s>(
        &'s self,
        schema: Option<&'s serde_json::Value>,
    ) -> Option<&'s serde_json::Value> {
        self.resolve(schema.and_then(|s| s.get("items")))
    }

    /// The keys a list's items are matched on, or `None` for a list the patch replaces
    /// (kyaml's `IsAssociative`: the schema's merge strategy). `[""]` marks a list of scalars
    /// merged as a set.
    fn list_keys<'s>(
        &'s self,
        field: &str,
        path: &str,
        lists: &[&Node],
        schema: Option<&'s serde_json::Value>,
    ) -> Option<Vec<&'s str>> {
        if let Some(s) = schema {
            // kyaml's `IsAssociative` with a schema: a merge strategy decides, and the keys are
            // `x-kubernetes-list-map-keys`, else the merge key, else none (a list of scalars
            // merged as a set).
            let strategy = s.get("x-kubernetes-patch-strategy")?.as_str()?;
            if !strategy.split(',').any(|x| x == "merge") {
                return None;
            }
            let keys: Vec<&str> = match s
                .get("x-kubernetes-list-map-keys")
                .and_then(|k| k.as_array())
            {
                Some(list) => list.iter().filter_map(|k| k.as_str()).collect(),
                None => s
                    .get("x-kubernetes-patch-merge-key")
                    .and_then(|k| k.as_str())
                    .into_iter()
                    .collect(),
            };
            return Some(if keys.is_empty() { vec![""] } else { keys });
        }
        if !self.builtin {
            return None;
        }
        let all: Vec<&Node> = lists
            .iter()
            .flat_map(|l| l.as_seq().map(|v| v.as_slice()).unwrap_or(&[]))
            .collect();
        let key = merge_key(field, &all)?;
        Some(match list_map_keys(field, key, path) {
            Some(keys) => keys.to_vec(),
            None => vec![key],
        })
    }
}

/// Merges patch mapping `patch` into target mapping `dst` in place, as kyaml's merge walk does
/// with both present: every field of either is visited. The caller has handled `patch`'s own
/// `$patch`.
fn merge_map(
    ctx: &Ctx,
    dst: &mut Node,
    patch: &Node,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) -> Result<(), RenderError> {
    let Some(pm) = patch.as_map() else {
        return Ok(());
    };
    if dst.as_map().is_none() {
        *dst = Node::new(Value::Map(Mapping::default()), dst.loc);
    }
    for e in &pm.entries {
        let key = e.key.as_str();
        if key == "$patch" {
            continue;
        }
        let fpath = join(path, key);
        let child_schema = ctx.field_schema(schema, key);
        let dm = dst.as_map_mut().expect("made a map above");
        match walk_field(
            ctx,
            dm.get_mut(key),
            &e.value,
            key,
            &fpath,
            edits,
            child_schema,
            e.key_loc,
        )? {
            Field::Keep => {}
            Field::Set(n) => dm.insert_at(key, e.key_loc, n),
            Field::Clear => {
                dm.remove(key);
            }
        }
    }
    // Fields only the target has are walked too: kyaml re-merges their keyed lists.
    let dm = dst.as_map_mut().expect("made a map above");
    target_only_fields(ctx, dm, Some(pm), path, schema)
}

/// [`target_only`] over a mapping's fields, but those `skip` has.
fn target_only_fields(
    ctx: &Ctx,
    m: &mut Mapping,
    skip: Option<&Mapping>,
    path: &str,
    schema: Option<&serde_json::Value>,
) -> Result<(), RenderError> {
    for e in m.entries.iter_mut() {
        if skip.is_some_and(|s| s.contains_key(&e.key)) {
            continue;
        }
        let fpath = join(path, &e.key);
        let child_schema = ctx.field_schema(schema, &e.key);
        target_only(ctx, &mut e.value, &e.key, &fpath, child_schema)?;
    }
    Ok(())
}

/// kyaml's walk of one field present in the patch (`o`), with the target's value `d` if any.
#[allow(clippy::too_many_arguments)]
fn walk_field(
    ctx: &Ctx,
    d: Option<&mut Node>,
    o: &Node,
    key: &str,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
    key_loc: Loc,
) -> Result<Field, RenderError> {
    let removed = |edits: &mut Vec<Edit>, by: Loc| {
        edits.push(Edit {
            path: path.to_string(),
            by,
            kind: EditKind::Removed,
        })
    };
    let Some(d) = d.filter(|d| !d.is_null()) else {
        // Nothing in the target: the patch's value, walked against itself.
        return Ok(match &o.value {
            Value::Null => Field::Clear,
            Value::Map(_) => {
                let mut v = from_patch(o);
                match take_map_directive(&mut v)? {
                    Some((Directive::Delete, _)) => Field::Clear,
                    _ if self_walk(ctx, &mut v, key, path, edits, schema)? => Field::Set(v),
                    _ => Field::Clear,
                }
            }
            Value::Seq(_) => {
                let mut v = from_patch(o);
                match self_walk_list(ctx, &mut v, key, path, edits, schema, false)? {
                    true => Field::Set(v),
                    false => Field::Clear,
                }
            }
            _ => Field::Set(from_patch(o)),
        });
    };
    match &d.value {
        Value::Map(_) => {
            if o.is_null() {
                removed(edits, key_loc);
                return Ok(Field::Clear);
            }
            if o.as_map().is_none() {
                return Err(wrong_kind("a mapping", o, path));
            }
            match map_directive(o)? {
                Some((Directive::Delete, by)) => {
                    removed(edits, by);
                    Ok(Field::Clear)
                }
                Some((Directive::Replace, by)) => {
                    edits.push(Edit {
                        path: path.to_string(),
                        by,
                        kind: EditKind::Replaced,
                    });
                    let mut v = from_patch(o);
                    take_map_directive(&mut v)?;
                    Ok(match self_walk(ctx, &mut v, key, path, edits, schema)? {
                        true => Field::Set(v),
                        false => Field::Clear,
                    })
                }
                _ => {
                    merge_map(ctx, d, o, path, edits, schema)?;
                    Ok(Field::Keep)
                }
            }
        }
        Value::Seq(_) => {
            if o.is_null() {
                removed(edits, key_loc);
                return Ok(Field::Clear);
            }
            if o.as_seq().is_none() {
                return Err(wrong_kind("a list", o, path));
            }
            let Some(keys) = ctx.list_keys(key, path, &[d, o], schema) else {
                // Not merged by key: the patch's list, as written.
                edits.push(Edit {
                    path: path.to_string(),
                    by: o.loc,
                    kind: EditKind::Replaced,
                });
                return Ok(Field::Set(from_patch(o)));
            };
            let mut items = into_items(from_patch(o));
            let item_schema = ctx.item_schema(schema);
            match take_seq_directive(&mut items)? {
                Some((Directive::Delete, by)) => {
                    removed(edits, by);
                    Ok(Field::Clear)
                }
                Some((Directive::Replace, by)) => {
                    edits.push(Edit {
                        path: path.to_string(),
                        by,
                        kind: EditKind::Replaced,
                    });
                    let merged =
                        assoc_merge(ctx, items, Side::Aliased, &keys, path, edits, item_schema)?;
                    Ok(Field::Set(
                        Node::new(Value::Seq(merged), o.loc).with_via(o.loc),
                    ))
                }
                _ => {
                    // Merged into the target's list, which keeps its place.
                    let dest = take_items(d);
                    let side = Side::Patch(&items);
                    let merged = assoc_merge(ctx, dest, side, &keys, path, edits, item_schema)?;
                    d.value = Value::Seq(merged);
                    Ok(Field::Keep)
                }
            }
        }
        _ => {
            if o.is_null() {
                removed(edits, key_loc);
                return Ok(Field::Clear);
            }
            // Setting a value to what it already is changes nothing (provenance included).
            if &*d == o {
                return Ok(Field::Keep);
            }
            Ok(Field::Set(from_patch(o)))
        }
    }
}

/// kyaml's walk of a patch value against itself (what it does where the target has nothing):
/// directives are read and removed, `null`s dropped, keyed lists re-merged. `false`: cleared.
fn self_walk(
    ctx: &Ctx,
    x: &mut Node,
    field: &str,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) -> Result<bool, RenderError> {
    match &x.value {
        Value::Null => Ok(false),
        Value::Map(_) => {
            if let Some((Directive::Delete, _)) = take_map_directive(x)? {
                return Ok(false);
            }
            let m = x.as_map_mut().expect("a map");
            let mut cleared = Vec::new();
            for e in m.entries.iter_mut() {
                let fpath = join(path, &e.key);
                if !self_walk(
                    ctx,
                    &mut e.value,
                    &e.key,
                    &fpath,
                    edits,
                    ctx.field_schema(schema, &e.key),
                )? {
                    cleared.push(e.key.clone());
                }
            }
            m.entries.retain(|e| !cleared.contains(&e.key));
            Ok(true)
        }
        Value::Seq(_) => self_walk_list(ctx, x, field, path, edits, schema, true),
        _ => Ok(true),
    }
}

/// A patch list walked against itself: a keyed list has its directive read, then is merged with
/// itself (the same items on both sides, as kyaml's walk has them); other lists stay as written.
/// `read_directive` is false where the target lacks the list (kyaml reads no directive there).
fn self_walk_list(
    ctx: &Ctx,
    x: &mut Node,
    field: &str,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
    read_directive: bool,
) -> Result<bool, RenderError> {
    let Some(keys) = ctx.list_keys(field, path, &[x], schema) else {
        return Ok(true);
    };
    let mut items = take_items(x);
    if read_directive && let Some((Directive::Delete, _)) = take_seq_directive(&mut items)? {
        return Ok(false);
    }
    let merged = assoc_merge(
        ctx,
        items,
        Side::Aliased,
        &keys,
        path,
        edits,
        ctx.item_schema(schema),
    )?;
    x.value = Value::Seq(merged);
    Ok(true)
}

/// kyaml's walk of a target value the patch does not mention: unchanged, except that keyed lists
/// are re-merged with themselves (which drops items without their key, and collapses repeats).
fn target_only(
    ctx: &Ctx,
    d: &mut Node,
    field: &str,
    path: &str,
    schema: Option<&serde_json::Value>,
) -> Result<(), RenderError> {
    match &mut d.value {
        Value::Map(m) => target_only_fields(ctx, m, None, path, schema),
        Value::Seq(_) => {
            let Some(keys) = ctx.list_keys(field, path, &[&*d], schema) else {
                return Ok(());
            };
            let item_schema = ctx.item_schema(schema);
            // The common case: every item has all its keys, none repeats — re-merging changes
            // nothing but what the items' own lists do.
            let Value::Seq(items) = &mut d.value else {
                unreachable!()
            };
            let tuples: Vec<Vec<String>> = items.iter().map(|i| item_values(i, &keys)).collect();
            let complete = tuples.iter().all(|t| t.iter().all(|v| !v.is_empty()))
                && (1..tuples.len()).all(|i| !tuples[..i].contains(&tuples[i]));
            if complete {
                if keys[0].is_empty() {
                    return Ok(());
                }
                for item in items.iter_mut() {
                    let ipath = format!("{path}[{}]", describe(&keys, &item_values(item, &keys)));
                    target_only(ctx, item, field, &ipath, item_schema)?;
                }
                return Ok(());
            }
            let dest = std::mem::take(items);
            let mut no_edits = Vec::new();
            *items = assoc_merge(
                ctx,
                dest,
                Side::Absent,
                &keys,
                path,
                &mut no_edits,
                item_schema,
            )?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The other side of a keyed-list merge.
#[derive(Clone, Copy)]
enum Side<'p> {
    /// The patch's list (its directive already read).
    Patch(&'p [Node]),
    /// The same list on both sides: the patch's own, where the target has none or it replaces.
    Aliased,
    /// No patch list: the target's list walked on its own.
    Absent,
}

/// An item's values of the keys (kyaml's `ElementValuesList`; a scalar's own value for `[""]`).
fn item_values(n: &Node, keys: &[&str]) -> Vec<String> {
    if keys.first().is_some_and(|k| k.is_empty()) {
        return vec![raw_value(n)];
    }
    key_values(n, keys)
}

/// What kyaml compares a node by: a scalar's text, `""` for collections.
fn raw_value(n: &Node) -> String {
    match n.value {
        Value::Map(_) | Value::Seq(_) => String::new(),
        _ => n.scalar_string().unwrap_or_default(),
    }
}

fn describe(keys: &[&str], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| {
            if k.is_empty() {
                v.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// kyaml's `ElementMatcher` with values: the first item whose keys have exactly these values.
fn find_item(list: &[Node], keys: &[&str], values: &[String]) -> Option<usize> {
    if keys.first().is_none_or(|k| k.is_empty()) {
        let want = values.first().map(String::as_str).unwrap_or("");
        return list.iter().position(|n| raw_value(n) == want);
    }
    list.iter().position(|n| {
        n.as_map().is_some()
            && keys
                .iter()
                .zip(values)
                .all(|(k, v)| field_matches_exact(n, k, v))
    })
}

/// What became of a patch item, to tell the user when kustomize dropped it.
enum Fate {
    /// Merged into the target's item (at this location) or added as itself.
    Lands(Loc),
    /// Merged with `$patch: replace` into a target item that then wins.
    ReplaceIgnored,
    Deleted,
}

/// kyaml's `setAssociativeSequenceElements` plus `appendListNode` in the prepend direction
/// kustomize's patches use, step by step: the tuples of key values of both lists (the patch's
/// first), each walked and set into a fresh list, then the target's items set over that list.
/// Its oddities are what gets deployed, so they are reproduced rather than tidied: an item
/// without its key removes every item that has one; `$patch: replace` on an item the target
/// has leaves the target's item; items matching only some of several keys are dropped.
#[allow(clippy::too_many_arguments)]
fn assoc_merge(
    ctx: &Ctx,
    mut dest: Vec<Node>,
    side: Side,
    keys: &[&str],
    path: &str,
    edits: &mut Vec<Edit>,
    item_schema: Option<&serde_json::Value>,
) -> Result<Vec<Node>, RenderError> {
    let primitive = keys.first().is_some_and(|k| k.is_empty());
    // What the report on dropped items needs: the patch's items as written (a copy only where
    // the walk changes them in place), the target's items' places and keys.
    let patch_items: std::borrow::Cow<[Node]> = match side {
        Side::Patch(o) => std::borrow::Cow::Borrowed(o),
        Side::Aliased => std::borrow::Cow::Owned(dest.clone()),
        Side::Absent => std::borrow::Cow::Borrowed(&[]),
    };
    let target: Vec<(Loc, Vec<String>)> = match side {
        Side::Patch(_) if !primitive => dest.iter().map(|d| (d.loc, key_values(d, keys))).collect(),
        _ => Vec::new(),
    };
    let mut deleted: Vec<Loc> = Vec::new();
    // Every tuple of key values, the patch's items first, without repeats.
    let mut tuples: Vec<Vec<String>> = Vec::new();
    let origin: &[Node] = match side {
        Side::Patch(o) => o,
        _ => &[],
    };
    for n in origin.iter().chain(dest.iter()) {
        let t = item_values(n, keys);
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    if keys.len() > 1 {
        merge_values(&mut tuples);
    }
    let mut fates: Vec<Option<Fate>> = (0..patch_items.len()).map(|_| None).collect();
    let mut added: Vec<Node> = Vec::new();
    let mut last_keys: Vec<&str> = keys.to_vec();
    for values in tuples.clone() {
        let (vk, vv) = valid_keys(&tuples, &values, keys);
        let (lk, lv) = valid_keys(std::slice::from_ref(&vv), &vv, &vk);
        let di = find_item(&dest, &lk, &lv);
        let item_path = format!("{path}[{}]", describe(&vk, &vv));
        let val: Option<Node> = match side {
            Side::Absent => match di {
                Some(i) => {
                    if !primitive {
                        target_only(ctx, &mut dest[i], "", &item_path, item_schema)?;
                    }
                    Some(dest[i].clone())
                }
                None => None,
            },
            Side::Aliased => match di {
                Some(i) => {
                    let pi = patch_items.iter().position(|p| p.loc == dest[i].loc);
                    let keep = primitive
                        || self_walk(ctx, &mut dest[i], "", &item_path, edits, item_schema)?;
                    if let Some(pi) = pi {
                        fates[pi] = Some(if keep {
                            Fate::Lands(dest[i].loc)
                        } else {
                            Fate::Deleted
                        });
                    }
                    keep.then(|| dest[i].clone())
                }
                None => None,
            },
            Side::Patch(o) => {
                let oi = find_item(o, &lk, &lv);
                match (di, oi) {
                    (None, None) => None,
                    (Some(i), None) => {
                        if !primitive {
                            target_only(ctx, &mut dest[i], "", &item_path, item_schema)?;
                        }
                        Some(dest[i].clone())
                    }
                    (None, Some(j)) if primitive => {
                        fates[j] = Some(Fate::Lands(o[j].loc));
                        Some(from_patch(&o[j]))
                    }
                    (None, Some(j)) => {
                        let mut v = from_patch(&o[j]);
                        match take_map_directive(&mut v)? {
                            Some((Directive::Delete, _)) => {
                                fates[j] = Some(Fate::Deleted);
                                None
                            }
                            _ => {
                                let keep =
                                    self_walk(ctx, &mut v, "", &item_path, edits, item_schema)?;
                                fates[j] = Some(Fate::Lands(o[j].loc));
                                keep.then_some(v)
                            }
                        }
                    }
                    (Some(i), Some(j)) if primitive => {
                        fates[j] = Some(Fate::Lands(dest[i].loc));
                        Some(from_patch(&o[j]))
                    }
                    (Some(i), Some(j)) => match map_directive(&o[j])? {
                        Some((Directive::Delete, by)) => {
                            fates[j] = Some(Fate::Deleted);
                            deleted.push(dest[i].loc);
                            edits.push(Edit {
                                path: item_path.clone(),
                                by,
                                kind: EditKind::Removed,
                            });
                            None
                        }
                        Some((Directive::Replace, _)) => {
                            // kyaml takes the patch's item, then sets the target's own item
                            // (untouched) over it: the replace is lost.
                            fates[j] = Some(Fate::ReplaceIgnored);
                            let mut v = from_patch(&o[j]);
                            take_map_directive(&mut v)?;
                            let keep = self_walk(ctx, &mut v, "", &item_path, edits, item_schema)?;
                            keep.then_some(v)
                        }
                        _ => {
                            merge_map(ctx, &mut dest[i], &o[j], &item_path, edits, item_schema)?;
                            fates[j] = Some(Fate::Lands(dest[i].loc));
                            Some(dest[i].clone())
                        }
                    },
                }
            }
        };
        last_keys = vk.clone();
        let Some(mut val) =
            val.filter(|v| !v.is_null() && v.as_map().is_none_or(|m| !m.is_empty()))
        else {
            element_setter(&mut dest, None, &vk, &vv);
            continue;
        };
        if !primitive {
            // The keys' values are written onto the item when it lacks them.
            for (k, v) in vk.iter().zip(&vv) {
                if !v.is_empty() && val.get(k).is_none() {
                    val.set(k, Node::synth(crate::yaml::resolve::resolve_plain(v)));
                }
            }
        }
        element_setter(&mut added, Some(&val), &vk, &vv);
    }
    let out = if tuples.is_empty() {
        dest
    } else {
        // `appendListNode`: the target's items go after the patch's, each replacing its match;
        // an item missing a key is appended as is, once per missing key.
        let mut out = added;
        for item in &dest {
            if primitive {
                element_setter(&mut out, Some(item), &[""], &[raw_value(item)]);
                continue;
            }
            let mut v: Vec<String> = Vec::new();
            for k in &last_keys {
                match item.get(k) {
                    None => out.push(item.clone()),
                    Some(x) => v.push(raw_value(x)),
                }
            }
            if last_keys.len() > 1 {
                element_setter(&mut out, None, &last_keys, &v);
            }
            element_setter(&mut out, Some(item), &last_keys, &v);
        }
        out
    };
    report_dropped(
        &patch_items,
        &fates,
        &target,
        &deleted,
        &out,
        keys,
        path,
        edits,
    );
    Ok(out)
}

/// Records, for the `patch-item-ignored` rule, every patch item that did not make it into the
/// merged list although it asked for nothing to be deleted, and the target's items that went
/// with an item lacking its key.
#[allow(clippy::too_many_arguments)]
fn report_dropped(
    patch_items: &[Node],
    fates: &[Option<Fate>],
    target: &[(Loc, Vec<String>)],
    deleted: &[Loc],
    out: &[Node],
    keys: &[&str],
    path: &str,
    edits: &mut Vec<Edit>,
) {
    let present = |loc: Loc| out.iter().any(|n| n.loc == loc);
    let primitive = keys.first().is_some_and(|k| k.is_empty());
    // An item as the user wrote its keys: `{containerPort: 80, protocol: TCP}`.
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
    let mut culprit: Option<Loc> = None;
    for (p, fate) in patch_items.iter().zip(fates) {
        if p.as_map().is_none() || primitive {
            continue;
        }
        let mine = key_values(p, keys);
        if present(p.loc) {
            continue;
        }
        let (why, fix) = match fate {
            Some(Fate::Deleted) => continue,
            Some(Fate::Lands(loc)) if present(*loc) => continue,
            Some(Fate::ReplaceIgnored) => (
                format!(
                    "kustomize ignores `$patch: replace` on an item of '{path}' the target already \
                     has: the target's item {{{}}} is kept unchanged",
                    shown(p)
                ),
                "to replace the item, use a JSON 6902 patch (`op: replace`), or delete it with \
                 `$patch: delete` in one patch and add it in another"
                    .to_string(),
            ),
            _ if mine.iter().all(|v| v.is_empty()) => {
                culprit.get_or_insert(p.loc);
                let named = keys
                    .iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                (
                    format!(
                        "this item of '{path}' has no {named}, which the list's items are matched \
                         on: kustomize drops it, and with it every item of the list that has one"
                    ),
                    format!("give the item its {named}"),
                )
            }
            _ => {
                let agrees = |(_, theirs): &&(Loc, Vec<String>)| {
                    mine.iter().zip(theirs).any(|(a, b)| a == b)
                        && mine
                            .iter()
                            .zip(theirs)
                            .all(|(a, b)| a == b || a.is_empty() || b.is_empty())
                };
                match target.iter().find(agrees) {
                    Some((_, theirs)) if keys.len() > 1 => (
                        format!(
                            "kustomize ignores this patch item {{{}}}: items of '{path}' are matched \
                             on {} together, and the target's item {{{}}} writes them differently, so \
                             it is kept unchanged",
                            shown(p),
                            keys.join(" and "),
                            keys.iter()
                                .zip(theirs)
                                .filter(|(_, v)| !v.is_empty())
                                .map(|(k, v)| format!("{k}: {v}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        format!(
                            "write the list's key fields ({}) the same way in the patch item and in \
                             the item it patches",
                            keys.iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                    _ => (
                        format!(
                            "kustomize ignores this patch item {{{}}} of '{path}'",
                            shown(p)
                        ),
                        "compare the patch with the rendered output (`kustodian render`)"
                            .to_string(),
                    ),
                }
            }
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
            kind: EditKind::Ignored { why, fix },
        });
    }
    // The target's items that vanished without a delete asking for them.
    if let Some(by) = culprit {
        let gone = target
            .iter()
            .filter(|(loc, _)| !present(*loc) && !deleted.contains(loc));
        for (_, values) in gone {
            edits.push(Edit {
                path: format!("{path}[{}]", describe(keys, values)),
                by,
                kind: EditKind::Removed,
            });
        }
    }
}

/// kyaml's `mergeValues`: tuples that agree wherever both have a value become one.
fn merge_values(tuples: &mut [Vec<String>]) {
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

/// Lists whose schema names several keys (`x-kubernetes-list-map-keys`) besides a merge
/// strategy: kyaml matches their items on all of them, the way [`assoc_merge`] does.
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
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
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
                ok = if k.is_empty() {
                    item.as_map().is_none() && item.as_seq().is_none() && raw_value(&item) == *v
                } else {
                    item.as_map().is_some() && field_matches(&item, k, v)
                };
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
