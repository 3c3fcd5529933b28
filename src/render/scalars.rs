//! Scalars as kustomize's Go types read them.
//!
//! Design. kustomize reads parts of every object it loads through Go types rather than as YAML:
//! annotations and labels through `map[string]string` (so a number keeps its source spelling as
//! text), folded block scalars through one emit-and-reparse round trip of go-yaml's (which adds
//! blank lines in places), and kustomization fields typed `string` see `null` as empty. These
//! conversions are shared by loading resources, parsing kustomizations, JSON patches and the
//! transformers, so they live here, below all of them, as plain functions on [`Node`]s that take
//! the source text where the spelling matters.

use super::resource::Resource;
use crate::yaml::{Node, Value};

/// A scalar as Go's `map[string]string` sees it (null → empty).
pub(crate) fn raw_string(n: &Node) -> String {
    match &n.value {
        Value::Null => String::new(),
        _ => n.scalar_string().unwrap_or_default(),
    }
}

/// On load: kustomize reads annotations (and labels) through `map[string]string`, so non-string
/// values print as strings spelled as in the source (`0755` stays `"0755"`); folded block scalars
/// come out as go-yaml's emitter round-trips them ([`go_folded_roundtrip`]). `folded`: the
/// file's text may hold one ([`may_hold_folded`], asked once per file).
pub(crate) fn normalize_metadata(r: &mut Resource, text: &str, folded: bool) {
    if let Some(m) = r.node.get_path_mut(&["metadata", "annotations"]) {
        stringify_values(m, text);
    }
    if folded {
        refold(&mut r.node, text);
    }
}

/// Whether `text` may hold a folded block scalar: a `>` that starts a word and ends its line
/// but for indicators, spaces and a comment — everything [`folded_header`] accepts, and little
/// else (`a > b` in a description is not). Every resource of a file is walked for folded
/// scalars when it holds one, so this is asked once per file.
pub(crate) fn may_hold_folded(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'>', b).any(|i| {
        if i > 0 && !matches!(b[i - 1], b' ' | b'\t' | b'\n') {
            return false;
        }
        let mut j = i + 1;
        while j < b.len() && matches!(b[j], b'0'..=b'9' | b'+' | b'-') {
            j += 1;
        }
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        j == b.len() || matches!(b[j], b'\n' | b'\r' | b'#')
    })
}

fn refold(n: &mut Node, text: &str) {
    n.walk_mut(&mut |n| {
        let start = n.loc.start as usize;
        if let Value::Str(v) = &mut n.value
            && v.contains('\n')
            && folded_header(text, start)
        {
            *v = go_folded_roundtrip(v).into();
        }
    });
}

/// Whether the block scalar whose content starts at `start` has a folded (`>`) header.
fn folded_header(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    let line = before
        .trim_end_matches([' ', '\t', '\n', '\r'])
        .rsplit('\n')
        .next()
        .unwrap_or("");
    let line = line.find(" #").map_or(line, |i| &line[..i]).trim_end();
    let token = line.rsplit([' ', '\t']).next().unwrap_or("");
    token.strip_prefix('>').is_some_and(|rest| {
        rest.bytes()
            .all(|b| b.is_ascii_digit() || b == b'+' || b == b'-')
    })
}

/// A folded (`>`) scalar's value after kustomize has written it out in folded style and read it
/// back, as it does once on loading a resource. go-yaml's folded-scalar emitter decides whether a
/// line break needs an extra blank line by looking at the start of the whole value instead of the
/// text after the break, so a line followed by a more-indented line gains a blank line
/// (`"a\n  b"` becomes `"a\n\n  b"`), and when the value starts with a blank no break gets one.
/// Observed with the reference kustomize; the emitted text is re-read with the YAML parser.
pub(crate) fn go_folded_roundtrip(v: &str) -> String {
    // A space before a line break, or at the very end, rules block styles out: the emitter
    // quotes such a value, which reads back exactly.
    if v.contains(" \n") || v.ends_with(' ') {
        return v.to_string();
    }
    let is_break = |c: char| c == '\n';
    let first = v.chars().find(|c| !is_break(*c));
    let bug_blank = first.is_none_or(|c| c == ' ' || c == '\t');
    let mut body = String::new();
    let (mut breaks, mut leading_spaces) = (true, true);
    for c in v.chars() {
        if is_break(c) {
            if !breaks && !leading_spaces && !bug_blank {
                body.push('\n');
            }
            body.push('\n');
            breaks = true;
        } else {
            if breaks {
                leading_spaces = c == ' ' || c == '\t';
            }
            body.push(c);
            breaks = false;
        }
    }
    let trailing = v.len() - v.trim_end_matches('\n').len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let indicator = if v.starts_with([' ', '\n']) { "2" } else { "" };
    let mut doc = format!("v: >{indicator}{chomp}\n");
    let lines: Vec<&str> = body.split('\n').collect();
    let n = if body.ends_with('\n') {
        lines.len() - 1
    } else {
        lines.len()
    };
    for line in &lines[..n] {
        if !line.is_empty() {
            doc.push_str("  ");
        }
        doc.push_str(line);
        doc.push('\n');
    }
    crate::yaml::parse_documents(&doc, crate::source::FileId(0))
        .ok()
        .and_then(|mut d| d.pop())
        .and_then(|d| d.get("v").and_then(|x| x.as_str()).map(str::to_string))
        .unwrap_or_else(|| v.to_string())
}

/// Converts the scalar values of a map to strings, using the source spelling.
pub(crate) fn stringify_values(m: &mut Node, text: &str) {
    if let Value::Map(map) = &mut m.value {
        for e in &mut map.entries {
            stringify_scalar(&mut e.value, text);
        }
    }
}

/// A scalar's source spelling when it has one (`1.10`, `0755`, `null`), else its canonical text.
pub(crate) fn stringify_scalar(n: &mut Node, text: &str) {
    let raw = match &n.value {
        Value::Str(_) => {
            // A plain date is a timestamp to go-yaml; as a string it keeps its spelling.
            if let Some(raw) = crate::yaml::resolve::timestamp_spelling(n, text) {
                n.value = Value::Str(raw.into());
            }
            return;
        }
        Value::Seq(_) | Value::Map(_) => return,
        // The span is into `text` (also for an inline patch parsed without a file id).
        _ if n.loc.end > n.loc.start => text
            .get(n.loc.start as usize..n.loc.end as usize)
            .map_or_else(|| raw_string(n), std::string::ToString::to_string),
        Value::Null => String::new(),
        _ => raw_string(n),
    };
    n.value = Value::Str(raw.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_scalars_round_trip_like_go_yaml() {
        // Observed with the reference kustomize: a more-indented line after a normal one gains a
        // blank line; plain folding, and values go-yaml would quote, are unchanged.
        assert_eq!(go_folded_roundtrip("a\n  b\n"), "a\n\n  b\n");
        assert_eq!(
            go_folded_roundtrip("a b\n  c\n  d\ne\n"),
            "a b\n\n  c\n  d\ne\n"
        );
        assert_eq!(go_folded_roundtrip("a\n\n  b"), "a\n\n\n  b");
        assert_eq!(go_folded_roundtrip("a\nb\n"), "a\nb\n");
        assert_eq!(go_folded_roundtrip("a\n \nb\n"), "a\n \nb\n");
        assert!(folded_header("k: >-\n  a\n", 8));
        assert!(folded_header("k: > # note\n\n  a\n", 15));
        assert!(!folded_header("k: |\n  a\n", 7));
        for (text, folded) in [
            ("k: >-\n  a\n", true),
            ("k: > # note\n\n  a\n", true),
            ("- >2+\r\n  a", true),
            ("k: >", true),
            (">\n a", true),
            ("k: |\n  a > b\n", false),
            ("k: a>\n", false),
            ("k: '>'\n", false),
        ] {
            assert_eq!(may_hold_folded(text), folded, "{text:?}");
            // Never false where a header is.
            if let Some(start) = text.find('a') {
                assert!(
                    !folded_header(text, start) || may_hold_folded(text),
                    "{text:?}"
                );
            }
        }
    }
}
