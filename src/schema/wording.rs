//! Problems worded and located: what a schema violation says and which line it points at.
//!
//! Design. Both validators report the same [`Problem`]s (the native walk directly, `jsonschema`
//! through [`problem`], which reads its error and the compiled schema document), so findings
//! read alike whichever validated. A problem's JSON pointer is walked back through the node
//! tree to the source line that produced the offending value — the unknown key itself for
//! "unknown field" — and the message names what was found, what was expected, and for a
//! misspelt field the allowed one it is closest to.

use serde_json::Value as J;

use super::{Problem, ProblemKind, Violation};
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// A `jsonschema` error as a [`Problem`].
pub(super) fn problem(e: &jsonschema::ValidationError<'_>, document: &J) -> Problem {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let kind = match e.kind() {
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            ProblemKind::Unknown {
                keys: unexpected.clone(),
                allowed: allowed_properties(document, e.schema_path().as_str()),
            }
        }
        K::Required { property } => ProblemKind::Required(
            property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_string),
        ),
        K::AnyOf { .. } | K::OneOfNotValid { .. }
            if let Some(types) = branch_types(document, e.schema_path().as_str()) =>
        {
            ProblemKind::Expected(types)
        }
        K::Type { kind } => {
            let names: Vec<String> = match kind {
                TypeKind::Single(t) => vec![t.to_string()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
            };
            let non_null: Vec<String> = names.iter().filter(|t| *t != "null").cloned().collect();
            ProblemKind::Expected(if non_null.is_empty() { names } else { non_null }.join(", "))
        }
        K::Enum { options } => ProblemKind::Enum(
            options
                .as_array()
                .map(|a| a.iter().map(J::to_string).collect())
                .unwrap_or_default(),
        ),
        _ => ProblemKind::Other(e.to_string()),
    };
    Problem {
        pointer: e.instance_path().as_str().to_string(),
        kind,
    }
}

/// A problem worded and located in the source: an unknown field at its key (the line to fix),
/// anything else at the value (a missing field at the object that lacks it).
pub(super) fn violations(obj: &Node, Problem { pointer, kind }: Problem) -> Vec<Violation> {
    let path = dotted(obj, &pointer);
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    };
    let (node, _) = locate(obj, &pointer, None);
    let loc = node.map_or(obj.loc, crate::yaml::Node::blame);
    let one = |message: String| {
        vec![Violation {
            pointer: pointer.clone(),
            path: path.clone(),
            message: format!("{prefix}{message}"),
            loc,
        }]
    };
    match kind {
        ProblemKind::Unknown { keys, allowed } => keys
            .iter()
            .map(|k| {
                let (_, key_loc) = locate(obj, &pointer, Some(k));
                Violation {
                    pointer: format!("{pointer}/{}", super::native::escape(k)),
                    path: if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    },
                    message: format!("{prefix}unknown field \"{k}\"{}", suggestion(&allowed, k)),
                    loc: key_loc.unwrap_or(loc),
                }
            })
            .collect(),
        ProblemKind::Required(name) => one(format!("missing required field \"{name}\"")),
        ProblemKind::Expected(want) => one(format!("expected {want}, got {}", described(node))),
        ProblemKind::Enum(options) => one(format!(
            "expected one of {}, got {}",
            listed(&options),
            described(node)
        )),
        ProblemKind::Other(message) => one(message),
    }
}

/// `"a", "b" or "c"`; past six options, the first five and how many more.
fn listed(options: &[String]) -> String {
    const SHOWN: usize = 6;
    match options {
        [] => "nothing".into(),
        [one] => one.clone(),
        _ if options.len() <= SHOWN => format!(
            "{} or {}",
            options[..options.len() - 1].join(", "),
            options[options.len() - 1]
        ),
        _ => format!(
            "{} or {} more",
            options[..SHOWN - 1].join(", "),
            options.len() - (SHOWN - 1)
        ),
    }
}

/// A value as the messages name it: `string "three"`, `integer 3`, `an object`.
fn described(node: Option<&Node>) -> String {
    match node.map(|n| &n.value) {
        Some(Value::Str(s)) => format!("string {s:?}"),
        Some(Value::Int(i)) => format!("integer {i}"),
        Some(Value::Float(f)) => format!("number {f}"),
        Some(Value::Bool(b)) => format!("boolean {b}"),
        Some(Value::Map(_)) => "an object".into(),
        Some(Value::Seq(_)) => "a list".into(),
        Some(Value::Null) | None => "null".into(),
    }
}

/// `"integer or string"` when every branch of the failed `anyOf`/`oneOf` (at `schema_path` in
/// `document`) is a bare type check; `None` for richer alternatives (left in the validator's words).
fn branch_types(document: &J, schema_path: &str) -> Option<String> {
    let mut types = Vec::new();
    for branch in document.pointer(schema_path)?.as_array()? {
        let b = branch.as_object()?;
        if b.len() != 1 {
            return None;
        }
        match b.get("type")? {
            J::String(t) => types.push(t.clone()),
            J::Array(ts) => types.extend(ts.iter().filter_map(|t| t.as_str().map(str::to_string))),
            _ => return None,
        }
    }
    types.retain(|t| t != "null");
    types.dedup();
    (!types.is_empty()).then(|| types.join(" or "))
}

fn child<'a>(n: &'a Node, tok: &str) -> Option<&'a Node> {
    match &n.value {
        Value::Map(m) => m.get(tok),
        Value::Seq(items) => items.get(tok.parse::<usize>().ok()?),
        _ => None,
    }
}

/// The node at a JSON pointer, and the location of `key` in it (for unknown fields).
fn locate<'a>(obj: &'a Node, pointer: &str, key: Option<&str>) -> (Option<&'a Node>, Option<Loc>) {
    let mut cur = obj;
    for tok in pointer.split('/').skip(1) {
        let tok = tok.replace("~1", "/").replace("~0", "~");
        match child(cur, &tok) {
            Some(n) => cur = n,
            None => return (Some(cur), None),
        }
    }
    let key_loc = key.and_then(|k| cur.as_map()?.get_entry(k).map(|e| e.key_loc));
    (Some(cur), key_loc)
}

fn dotted(obj: &Node, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(obj);
    for tok in pointer.split('/').skip(1) {
        let tok = tok.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Seq(_)) = cur.map(|c| &c.value) {
            out.push_str(&format!("[{tok}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&tok);
        }
        cur = cur.and_then(|c| child(c, &tok));
    }
    out
}

/// The property names the schema allows where an `additionalProperties` keyword failed:
/// `schema_path` ends in `/additionalProperties` (or `/unevaluatedProperties`); its parent is the
/// object schema, whose `properties` are read from the compiled document.
fn allowed_properties(document: &J, schema_path: &str) -> Vec<String> {
    let parent = schema_path
        .rsplit_once('/')
        .map_or("", |(parent, _)| parent);
    document
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(J::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// " (did you mean \"x\"?)" when an allowed field is close to the unknown one: a case-only
/// difference, or within a third of its length in edits (at most 3).
fn suggestion(allowed: &[String], key: &str) -> String {
    if let Some(same) = allowed.iter().find(|a| a.eq_ignore_ascii_case(key)) {
        return format!(" (did you mean \"{same}\"?)");
    }
    let limit = (key.chars().count() / 3).clamp(1, 3);
    allowed
        .iter()
        .map(|a| (crate::text::edit_distance(a, key), a))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, a)| format!(" (did you mean \"{a}\"?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_options_are_listed_in_full_up_to_six() {
        let opts = |n: usize| -> Vec<String> { (1..=n).map(|i| format!("\"v{i}\"")).collect() };
        assert_eq!(listed(&opts(1)), r#""v1""#);
        assert_eq!(listed(&opts(2)), r#""v1" or "v2""#);
        assert_eq!(listed(&opts(6)), r#""v1", "v2", "v3", "v4", "v5" or "v6""#);
        assert_eq!(
            listed(&opts(9)),
            r#""v1", "v2", "v3", "v4", "v5" or 4 more"#
        );
    }
}
