//! What kustomize can print: values and keys its JSON round trip refuses.
//!
//! Design. kustomize prints a resource through JSON, which has neither infinity nor NaN nor keys
//! other than text, so such a value or key fails its build. Keys are kept as text once parsed,
//! so whether one was a boolean, number or null is judged from its source text: a cheap test on
//! the parsed key first ([`non_text_candidate`]), the source spelling (and any tag) only then.
//! Output resources are checked at the end of the top-level build; inline patches are checked
//! when they are loaded, before relocating them loses their keys' own text.

use super::error::RenderError;
use crate::source::{Loc, Sources};
use crate::yaml::{Node, Value};

/// kustomize prints a resource through JSON, which has neither infinity nor NaN nor keys other
/// than text: a plain `.inf` or `.nan` value, or a key YAML reads as a boolean, a float or null
/// (`true:`, `1.5:`, `~:`), fails its build. Refused the same way, at the value or key. (Integer
/// and timestamp keys print as text and pass.)
pub(crate) fn refuse_unprintable(n: &Node, sources: &Sources) -> Result<(), RenderError> {
    match &n.value {
        Value::Float(f) if !f.is_finite() => Err(RenderError::invalid(
            "kustomize cannot print this value: .inf and .nan are floats to YAML and JSON has no \
             such numbers (quote it to keep it as text)",
            n.loc,
        )),
        Value::Map(m) => m.entries.iter().try_for_each(|e| {
            if let Some(found) = non_text_key(e, sources) {
                return Err(unprintable_key(found, e.key_loc));
            }
            refuse_unprintable(&e.value, sources)
        }),
        Value::Seq(items) => items
            .iter()
            .try_for_each(|i| refuse_unprintable(i, sources)),
        _ => Ok(()),
    }
}

/// The error for a key kustomize cannot print.
pub(crate) fn unprintable_key((kind, spelling): (&str, String), at: Loc) -> RenderError {
    RenderError::invalid(
        format!(
            "kustomize cannot print this key: YAML reads `{spelling}` as {kind} and JSON keys \
             are text only (quote it: \"{spelling}\")"
        ),
        at,
    )
}

/// What a key YAML does not read as text was read as, and its spelling, judged by its source
/// text (keys are kept as text once parsed). Most keys are ruled out by their first byte
/// without a lookup.
fn non_text_key(e: &crate::yaml::Entry, sources: &Sources) -> Option<(&'static str, String)> {
    if e.key_loc.is_none() || !non_text_candidate(&e.key) {
        return None;
    }
    let file = sources.get(e.key_loc.file)?;
    non_text_key_in(&e.key, e.key_loc, &file.text)
}

/// Whether a key as parsed (its canonical text) can have been a boolean, number or null: the
/// cheap test before its source text is read.
pub(crate) fn non_text_candidate(k: &str) -> bool {
    matches!(k, "true" | "false" | "~" | "null" | "Null" | "NULL")
        || crate::yaml::resolve::starts_like_number(k)
}

/// [`non_text_key`] with the key's location in `text` at hand (for a [`non_text_candidate`]).
pub(crate) fn non_text_key_in(k: &str, key_loc: Loc, text: &str) -> Option<(&'static str, String)> {
    let (start, end) = (key_loc.start as usize, key_loc.end as usize);
    let raw = text.get(start..end)?.trim_end();
    // A tag is the word before the key's text: inside its span or (for a plain key) before it.
    let (tag, raw) = match raw.split_once(' ') {
        Some((t, rest)) if t.starts_with('!') => (Some(t), rest.trim_start()),
        _ => {
            let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
            let before = line.split_whitespace().next_back();
            (before.filter(|w| w.starts_with('!')), raw)
        }
    };
    if tag.is_none() && raw.starts_with(['"', '\'']) {
        return None;
    }
    // Only when the spelling there reads as this very key: a location that is not the key's own
    // text (a relocated inline patch) proves nothing.
    let kind = match (tag, crate::yaml::resolve::resolve_plain(raw)) {
        (Some("!!bool"), _) => "a boolean",
        (Some("!!float"), _) => "a number with a fraction or exponent",
        (Some("!!null"), _) => "null",
        (Some(_), _) => return None,
        (None, Value::Bool(b)) if b.to_string() == k => "a boolean",
        (None, Value::Float(f)) if crate::yaml::resolve::format_float(f) == k => {
            "a number with a fraction or exponent"
        }
        (None, Value::Null) if raw == k => "null",
        _ => return None,
    };
    Some((kind, raw.to_string()))
}
