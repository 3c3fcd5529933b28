//! kyaml's merge walk: maps, scalars and keyed lists, field by field.
//!
//! Design. The walk visits every field of the target and the patch. With both present, maps merge
//! recursively, `null` deletes and scalars replace; a list with merge keys ([`Ctx::list_keys`]) is
//! merged item by item ([`assoc_merge`]), any other list is replaced by the patch's. Where the
//! target has nothing, the patch's value is walked against itself ([`self_walk`]); where the patch
//! has nothing, the target's keyed lists are still re-merged with themselves ([`target_only`]).
//! Maps, lists and their items recurse into each other, so the whole walk lives in this one file;
//! the item matching it relies on is `lists.rs`, the report on dropped items `dropped.rs`.

use super::directives::{Directive, map_directive, take_map_directive, take_seq_directive};
use super::dropped::{Fate, report_dropped};
use super::lists::{
    describe, element_setter, find_item, item_values, key_values, merge_values, raw_value,
    valid_keys,
};
use super::schema::Ctx;
use crate::render::error::RenderError;
use crate::render::resource::{Edit, EditKind};
use crate::source::Loc;
use crate::yaml::{Mapping, Node, Value};

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
pub(super) fn from_patch(n: &Node) -> Node {
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

/// Merges patch mapping `patch` into target mapping `dst` in place, as kyaml's merge walk does
/// with both present: every field of either is visited. The caller has handled `patch`'s own
/// `$patch`.
pub(super) fn merge_map(
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

/// A null written as nothing (`key:`): its text is empty.
fn is_empty_null(n: &Node) -> bool {
    n.is_null() && n.loc.is_some() && n.loc.start == n.loc.end
}

/// [`target_only`] over a mapping's fields, but those `skip` has.
fn target_only_fields(
    ctx: &Ctx,
    m: &mut Mapping,
    skip: Option<&Mapping>,
    path: &str,
    schema: Option<&serde_json::Value>,
) -> Result<(), RenderError> {
    // kyaml's merge keeps a null the target spells out (`null`, `~`) where the patch has
    // nothing, and drops one written as nothing at all (`key:`): it sets the patch's absent
    // value there.
    if ctx.drop_empty_nulls {
        m.entries
            .retain(|e| skip.is_some_and(|s| s.contains_key(&e.key)) || !is_empty_null(&e.value));
    }
    for e in &mut m.entries {
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
    let Some(d) = d.filter(|d| !d.is_null()) else {
        // Nothing in the target: the patch's value, walked against itself.
        return patch_only(ctx, o, key, path, edits, schema);
    };
    match &d.value {
        Value::Map(_) => {
            if o.is_null() {
                removed(edits, path, key_loc);
                return Ok(Field::Clear);
            }
            if o.as_map().is_none() {
                return Err(wrong_kind("a mapping", o, path));
            }
            match map_directive(o)? {
                Some((Directive::Delete, by)) => {
                    removed(edits, path, by);
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
                    Ok(if self_walk(ctx, &mut v, key, path, edits, schema)? {
                        Field::Set(v)
                    } else {
                        Field::Clear
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
                removed(edits, path, key_loc);
                return Ok(Field::Clear);
            }
            walk_list(ctx, d, o, key, path, edits, schema)
        }
        _ => {
            if o.is_null() {
                removed(edits, path, key_loc);
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

/// [`walk_field`] where the target has nothing: the patch's value, walked against itself.
fn patch_only(
    ctx: &Ctx,
    o: &Node,
    key: &str,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) -> Result<Field, RenderError> {
    Ok(match &o.value {
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
            if self_walk_list(ctx, &mut v, key, path, edits, schema, false)? {
                Field::Set(v)
            } else {
                Field::Clear
            }
        }
        _ => Field::Set(from_patch(o)),
    })
}

/// [`walk_field`] of a list the target has: merged by key, or replaced by the patch's list.
fn walk_list(
    ctx: &Ctx,
    d: &mut Node,
    o: &Node,
    key: &str,
    path: &str,
    edits: &mut Vec<Edit>,
    schema: Option<&serde_json::Value>,
) -> Result<Field, RenderError> {
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
            removed(edits, path, by);
            Ok(Field::Clear)
        }
        Some((Directive::Replace, by)) => {
            edits.push(Edit {
                path: path.to_string(),
                by,
                kind: EditKind::Replaced,
            });
            let merged = assoc_merge(ctx, items, Side::Aliased, &keys, path, edits, item_schema)?;
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

/// Records that the field at `path` was removed, asked for at `by`.
fn removed(edits: &mut Vec<Edit>, path: &str, by: Loc) {
    edits.push(Edit {
        path: path.to_string(),
        by,
        kind: EditKind::Removed,
    });
}

/// kyaml's walk of a patch value against itself (what it does where the target has nothing):
/// directives are read and removed, `null`s dropped, keyed lists re-merged. `false`: cleared.
pub(super) fn self_walk(
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
            for e in &mut m.entries {
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
    let origin: &[Node] = match side {
        Side::Patch(o) => o,
        _ => &[],
    };
    let tuples = key_tuples(origin, &dest, keys);
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
                patch_item(
                    ctx,
                    &mut dest,
                    di,
                    o,
                    oi,
                    primitive,
                    &item_path,
                    edits,
                    item_schema,
                    &mut fates,
                    &mut deleted,
                )?
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
        append_list_node(added, &dest, primitive, &last_keys)
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

/// One tuple's item where the patch has a list: the target's item (`di`) and the patch's (`oi`)
/// merged, deleted or taken as they are, and what became of the patch's item recorded in `fates`.
#[allow(clippy::too_many_arguments)]
fn patch_item(
    ctx: &Ctx,
    dest: &mut [Node],
    di: Option<usize>,
    o: &[Node],
    oi: Option<usize>,
    primitive: bool,
    item_path: &str,
    edits: &mut Vec<Edit>,
    item_schema: Option<&serde_json::Value>,
    fates: &mut [Option<Fate>],
    deleted: &mut Vec<Loc>,
) -> Result<Option<Node>, RenderError> {
    Ok(match (di, oi) {
        (None, None) => None,
        (Some(i), None) => {
            if !primitive {
                target_only(ctx, &mut dest[i], "", item_path, item_schema)?;
            }
            Some(dest[i].clone())
        }
        (None, Some(j)) if primitive => {
            fates[j] = Some(Fate::Lands(o[j].loc));
            Some(from_patch(&o[j]))
        }
        (None, Some(j)) => {
            let mut v = from_patch(&o[j]);
            if let Some((Directive::Delete, _)) = take_map_directive(&mut v)? {
                fates[j] = Some(Fate::Deleted);
                None
            } else {
                let keep = self_walk(ctx, &mut v, "", item_path, edits, item_schema)?;
                fates[j] = Some(Fate::Lands(o[j].loc));
                keep.then_some(v)
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
                    path: item_path.to_string(),
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
                let keep = self_walk(ctx, &mut v, "", item_path, edits, item_schema)?;
                keep.then_some(v)
            }
            _ => {
                merge_map(ctx, &mut dest[i], &o[j], item_path, edits, item_schema)?;
                fates[j] = Some(Fate::Lands(dest[i].loc));
                Some(dest[i].clone())
            }
        },
    })
}

/// `appendListNode`: the target's items go after the patch's, each replacing its match; an item
/// missing a key is appended as is, once per missing key.
fn append_list_node(
    added: Vec<Node>,
    dest: &[Node],
    primitive: bool,
    last_keys: &[&str],
) -> Vec<Node> {
    let mut out = added;
    for item in dest {
        if primitive {
            element_setter(&mut out, Some(item), &[""], &[raw_value(item)]);
            continue;
        }
        let mut v: Vec<String> = Vec::new();
        for k in last_keys {
            match item.get(k) {
                None => out.push(item.clone()),
                Some(x) => v.push(raw_value(x)),
            }
        }
        if last_keys.len() > 1 {
            element_setter(&mut out, None, last_keys, &v);
        }
        element_setter(&mut out, Some(item), last_keys, &v);
    }
    out
}

/// Every tuple of key values, the patch's items (`origin`) first, without repeats; with several
/// keys, tuples that agree wherever both have a value become one.
fn key_tuples(origin: &[Node], dest: &[Node], keys: &[&str]) -> Vec<Vec<String>> {
    let mut tuples: Vec<Vec<String>> = Vec::new();
    for n in origin.iter().chain(dest.iter()) {
        let t = item_values(n, keys);
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    if keys.len() > 1 {
        merge_values(&mut tuples);
    }
    tuples
}
