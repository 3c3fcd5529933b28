//! Telling the user what kyaml's keyed-list merge dropped.
//!
//! Design. kyaml's merge loses patch items in ways nobody writes on purpose: an item without its
//! key removes every item that has one, `$patch: replace` on an item the target has is ignored,
//! items whose several keys are written differently are dropped. The merge records each patch
//! item's [`Fate`]; afterwards every item that did not land, and every target item that vanished
//! with it, becomes an [`EditKind::Ignored`] or [`EditKind::Removed`] edit, which the
//! `patch-item-ignored` rule reports with why and how to fix it.

use super::lists::{describe, key_values};
use crate::render::resource::{Edit, EditKind};
use crate::source::Loc;
use crate::yaml::Node;

/// What became of a patch item, to tell the user when kustomize dropped it.
pub(super) enum Fate {
    /// Merged into the target's item (at this location) or added as itself.
    Lands(Loc),
    /// Merged with `$patch: replace` into a target item that then wins.
    ReplaceIgnored,
    Deleted,
}

/// Records, for the `patch-item-ignored` rule, every patch item that did not make it into the
/// merged list although it asked for nothing to be deleted, and the target's items that went
/// with an item lacking its key.
#[allow(clippy::too_many_arguments)]
pub(super) fn report_dropped(
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
                    shown(p, keys)
                ),
                "to replace the item, use a JSON 6902 patch (`op: replace`), or delete it with \
                 `$patch: delete` in one patch and add it in another"
                    .to_string(),
            ),
            _ if mine.iter().all(String::is_empty) => {
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
            _ => mismatch(p, &mine, target, keys, path),
        };
        let id = keys
            .iter()
            .filter_map(|k| {
                p.get(k)
                    .and_then(crate::yaml::Node::scalar_string)
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

/// An item as the user wrote its keys: `{containerPort: 80, protocol: TCP}`.
fn shown(n: &Node, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|k| {
            n.get(k)
                .and_then(crate::yaml::Node::scalar_string)
                .map(|v| format!("{k}: {v}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a patch item that has its keys was dropped, and the fix: with several keys, the target's
/// item that writes them differently; else only that kustomize ignored it.
fn mismatch(
    p: &Node,
    mine: &[String],
    target: &[(Loc, Vec<String>)],
    keys: &[&str],
    path: &str,
) -> (String, String) {
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
                shown(p, keys),
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
                shown(p, keys)
            ),
            "compare the patch with the rendered output (`kustodian render`)".to_string(),
        ),
    }
}
