//! `$patch` directives, as kyaml reads them.
//!
//! Design. A mapping's `$patch` (`delete`, `replace`, `merge`) is read and removed before the
//! mapping is walked. A list is directed only by an item that is nothing but a `$patch`; every
//! item with that same directive is then removed. An item with other fields besides is an item
//! directive, left to the keyed-list merge. Any other value is an error, as in kustomize.

use super::lists::element_setter;
use crate::render::error::RenderError;
use crate::source::Loc;
use crate::yaml::Node;

/// A `$patch` directive, as kyaml reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Directive {
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
pub(super) fn map_directive(n: &Node) -> Result<Option<(Directive, Loc)>, RenderError> {
    match n.get("$patch") {
        None => Ok(None),
        Some(v) => Ok(Some((directive_of(v)?, v.loc))),
    }
}

/// Reads and removes a mapping's `$patch` (kyaml's `determineMappingNodePatchStrategy`).
pub(super) fn take_map_directive(n: &mut Node) -> Result<Option<(Directive, Loc)>, RenderError> {
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
pub(super) fn take_seq_directive(
    items: &mut Vec<Node>,
) -> Result<Option<(Directive, Loc)>, RenderError> {
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
