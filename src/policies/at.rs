//! Where a policy's finding points: the source line of a field of the rendered object.
//!
//! Rendered nodes keep the place they were written (or the kustomization entry or patch that
//! last set them), so a field path leads to the line to edit. A path through `[*]` reaches every
//! item: the finding points at the first, the others are related locations. A path that leads
//! nowhere (the field is missing, which is often why the rule failed) points at the deepest
//! parent that exists — `metadata.labels` missing points at `metadata`.

use crate::diag::Related;
use crate::settings::custom::PathStep;
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// Where a node's field is: its key when the value is a collection written below it (the
/// `labels:` line rather than the first label), else the value; a transformer's input when one
/// set it.
fn place(key_loc: Loc, value: &Node) -> Loc {
    if value.via.is_some() {
        return value.via;
    }
    let collection = matches!(value.value, Value::Map(_) | Value::Seq(_));
    if collection && key_loc.is_some() {
        key_loc
    } else if value.loc.is_some() {
        value.loc
    } else {
        key_loc
    }
}

/// The places of the nodes `path` reaches in `root` (the deepest existing parent's when none),
/// with their dotted paths.
pub(crate) fn locate(root: &Node, path: &[PathStep]) -> Vec<(Loc, String)> {
    let mut found = Vec::new();
    let mut deepest = (root.blame(), String::new(), 0usize);
    walk(
        root,
        Loc::NONE,
        path,
        String::new(),
        0,
        &mut found,
        &mut deepest,
    );
    if found.is_empty() {
        found.push((deepest.0, deepest.1));
    }
    found
}

fn walk(
    node: &Node,
    key_loc: Loc,
    path: &[PathStep],
    at: String,
    depth: usize,
    found: &mut Vec<(Loc, String)>,
    deepest: &mut (Loc, String, usize),
) {
    let here = place(key_loc, node);
    if depth >= deepest.2 && here.is_some() {
        *deepest = (here, at.clone(), depth);
    }
    let Some((step, rest)) = path.split_first() else {
        found.push((here, at));
        return;
    };
    let join = |seg: &str| {
        if at.is_empty() {
            seg.to_string()
        } else if seg.starts_with('[') {
            format!("{at}{seg}")
        } else {
            format!("{at}.{seg}")
        }
    };
    match (step, &node.value) {
        (PathStep::Key(k), Value::Map(m)) => {
            if let Some(e) = m.get_entry(k) {
                walk(
                    &e.value,
                    e.key_loc,
                    rest,
                    join(k),
                    depth + 1,
                    found,
                    deepest,
                );
            }
        }
        (PathStep::Index(i), Value::Seq(items)) => {
            if let Some(n) = items.get(*i) {
                walk(
                    n,
                    Loc::NONE,
                    rest,
                    join(&format!("[{i}]")),
                    depth + 1,
                    found,
                    deepest,
                );
            }
        }
        (PathStep::Each, Value::Seq(items)) => {
            for (i, n) in items.iter().enumerate() {
                walk(
                    n,
                    Loc::NONE,
                    rest,
                    join(&format!("[{i}]")),
                    depth + 1,
                    found,
                    deepest,
                );
            }
        }
        _ => {}
    }
}

/// The primary place and the others as related locations.
pub(crate) fn primary_and_related(
    places: Vec<(Loc, String)>,
) -> (Loc, Option<String>, Vec<Related>) {
    let mut it = places.into_iter();
    let Some((loc, field)) = it.next() else {
        return (Loc::NONE, None, vec![]);
    };
    let related = it
        .filter(|(l, _)| *l != loc && l.is_some())
        .map(|(l, f)| Related {
            loc: l,
            message: format!("also {f}"),
        })
        .collect();
    (loc, (!field.is_empty()).then_some(field), related)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::custom::parse_field_path;
    use crate::source::{FileId, Sources};

    #[test]
    fn fields_items_and_missing_ones() {
        let sources = Sources::new();
        let text = "metadata:\n  name: web\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n";
        let id = sources.add("d.yaml", text.into());
        let doc = crate::yaml::parse_documents(text, id).unwrap().remove(0);
        let line = |path: &str| -> Vec<(u32, String)> {
            locate(&doc, &parse_field_path(path).unwrap())
                .into_iter()
                .map(|(l, f)| (sources.position(l).unwrap().line, f))
                .collect()
        };
        assert_eq!(line("metadata.name"), [(2, "metadata.name".to_string())]);
        assert_eq!(
            line("spec.containers[*].image"),
            [
                (6, "spec.containers[0].image".to_string()),
                (8, "spec.containers[1].image".to_string())
            ]
        );
        // Missing: the deepest parent that exists.
        assert_eq!(line("metadata.labels.team"), [(1, "metadata".to_string())]);
        assert_eq!(
            line("spec.containers[1].ports"),
            [(7, "spec.containers[1]".to_string())]
        );
        let _ = FileId(0);
    }
}
