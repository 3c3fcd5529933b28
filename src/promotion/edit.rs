//! Span-exact edits of YAML sources: replace the bytes of one scalar, or add lines, and leave
//! every other byte of the file as it was.
//!
//! Design. `promote` never re-emits YAML (which would lose comments, quoting, key order and
//! blank lines); it splices new text into the original at the byte spans the parser recorded.
//! A scalar keeps its style: a double-quoted value stays double-quoted, a single-quoted one
//! single-quoted, a plain one plain — unless the new text would read back as something else
//! when plain (`1.25` is a number, `sha256:` ends in a mapping indicator), in which case it is
//! double-quoted. What follows the value on its line — a comment, a Flux `$imagepolicy` setter
//! marker — stays after it. Values this cannot edit faithfully (block and multi-line scalars,
//! anchored or tagged values, flow-style lists to add to) are refused with the reason.

use crate::source::Loc;
use crate::yaml::resolve::resolve_plain;
use crate::yaml::{Node, Value};

/// Bytes `start..end` of a text replaced by `text` (an insertion when `start == end`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Splice {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) text: String,
}

/// Applies splices (in any order; they must not overlap, and insertions at one offset keep
/// their order).
pub(crate) fn apply(text: &str, splices: &[Splice]) -> Result<String, String> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for s in sorted {
        if s.start < at || s.end < s.start || s.end > text.len() {
            return Err("two edits of the same bytes".into());
        }
        out.push_str(&text[at..s.start]);
        out.push_str(&s.text);
        at = s.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The splice that sets the scalar at `loc` to `value`, written in the scalar's own style.
pub(crate) fn set_scalar(text: &str, loc: Loc, value: &str) -> Result<Splice, String> {
    let (start, end) = (loc.start as usize, loc.end as usize);
    let raw = text
        .get(start..end)
        .ok_or("the value's location is not in the file")?;
    if raw.contains('\n') {
        return Err("the value spans several lines".into());
    }
    // An anchor or tag written before the value: aliases elsewhere share it, a tag types it.
    let before = text[line_start(text, start)..start].trim_end();
    let word = before.rsplit([' ', '\t']).next().unwrap_or("");
    if word.starts_with(['&', '!']) {
        return Err("the value carries an anchor or tag".into());
    }
    let written = match raw.chars().next() {
        Some('"') => double_quoted(value),
        Some('\'') => format!("'{}'", value.replace('\'', "''")),
        Some('|' | '>') => return Err("the value is a block scalar".into()),
        Some('&' | '!' | '*') => return Err("the value carries an anchor, alias or tag".into()),
        _ => scalar_text(value),
    };
    Ok(Splice {
        start,
        end,
        text: written,
    })
}

/// The splice that turns `key: value` into `new_key: new_value` (the key and its value
/// replaced, what follows on the line kept).
pub(crate) fn replace_entry(
    text: &str,
    key_loc: Loc,
    value_loc: Loc,
    new_key: &str,
    value: &str,
) -> Result<Splice, String> {
    let (start, end) = (key_loc.start as usize, value_loc.end as usize);
    let raw = text
        .get(start..end)
        .ok_or("the entry's location is not in the file")?;
    if raw.contains('\n') || !raw.contains(':') {
        return Err("the entry is not a one-line `key: value`".into());
    }
    let value = set_scalar(text, value_loc, value)?.text;
    Ok(Splice {
        start,
        end,
        text: format!("{new_key}: {value}"),
    })
}

/// The splice that adds `key: value` lines to a block mapping, after its last line, at the
/// indentation of its keys.
pub(crate) fn add_to_mapping(
    text: &str,
    map: &Node,
    fields: &[(&str, &str)],
) -> Result<Splice, String> {
    let m = map.as_map().ok_or("not a mapping")?;
    let first = m.entries.first().ok_or("an empty mapping")?;
    let key_col = column(text, first.key_loc.start as usize);
    if text[line_start(text, first.key_loc.start as usize)..first.key_loc.start as usize]
        .contains(['{', ','])
    {
        return Err("the mapping is written in flow style".into());
    }
    let at = after_line(text, subtree_end(map));
    let nl = newline(text);
    let mut add = String::new();
    if at == text.len() && !text.ends_with('\n') {
        add.push_str(nl);
    }
    for (k, v) in fields {
        add.push_str(&" ".repeat(key_col));
        add.push_str(&format!("{k}: {}{nl}", scalar_text(v)));
    }
    Ok(Splice {
        start: at,
        end: at,
        text: add,
    })
}

/// The splice that adds items (mappings of `key: value` fields) to the top-level `key:` list
/// of a document, creating the key at the end of the document when it has none. New items
/// follow the indentation of the existing ones, or of the document's other lists.
pub(crate) fn add_list_items(
    text: &str,
    doc: &Node,
    key: &str,
    items: &[Vec<(&str, &str)>],
) -> Result<Splice, String> {
    let m = doc
        .as_map()
        .ok_or("the document is not a mapping of fields")?;
    let nl = newline(text);
    let render = |dash_col: usize, key_col: usize| -> String {
        let mut s = String::new();
        for item in items {
            for (i, (k, v)) in item.iter().enumerate() {
                if i == 0 {
                    s.push_str(&" ".repeat(dash_col));
                    s.push('-');
                    s.push_str(&" ".repeat(key_col - dash_col - 1));
                } else {
                    s.push_str(&" ".repeat(key_col));
                }
                s.push_str(&format!("{k}: {}{nl}", scalar_text(v)));
            }
        }
        s
    };
    if let Some(entry) = m.get_entry(key) {
        let Value::Seq(seq) = &entry.value.value else {
            return Err(format!("`{key}:` is not a list"));
        };
        let first = seq.first().ok_or(format!("`{key}:` is an empty list"))?;
        if text
            .get(entry.value.loc.start as usize..)
            .is_some_and(|t| t.starts_with('['))
        {
            return Err(format!("`{key}:` is written in flow style (`[...]`)"));
        }
        if first.as_map().is_none() {
            return Err(format!(
                "the items of `{key}:` are not mappings (`- name: ...`)"
            ));
        }
        let (dash_col, key_col) = item_columns(text, first).ok_or(format!(
            "the items of `{key}:` are not written one per line (`- name: ...`)"
        ))?;
        let at = after_line(text, subtree_end(&entry.value));
        let mut add = String::new();
        if at == text.len() && !text.ends_with('\n') {
            add.push_str(nl);
        }
        add.push_str(&render(dash_col, key_col));
        return Ok(Splice {
            start: at,
            end: at,
            text: add,
        });
    }
    // A new key at the end of the document, its items indented like the document's lists.
    let dash_col = m
        .entries
        .iter()
        .filter_map(|e| e.value.as_seq()?.first())
        .find_map(|first| item_columns(text, first).map(|(d, _)| d))
        .unwrap_or(0);
    let end = text.len();
    let mut add = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        add.push_str(nl);
    }
    add.push_str(&format!("{key}:{nl}"));
    add.push_str(&render(dash_col, dash_col + 2));
    Ok(Splice {
        start: end,
        end,
        text: add,
    })
}

/// The columns of the dash and of the content (a mapping's first key) of a block-sequence item.
fn item_columns(text: &str, item: &Node) -> Option<(usize, usize)> {
    let key_at = match item.as_map() {
        Some(m) => m.entries.first()?.key_loc.start as usize,
        None => item.loc.start as usize,
    };
    let ls = line_start(text, key_at);
    let before = &text[ls..key_at];
    let dash = before.rfind('-')?;
    if !before[..dash].trim().is_empty() || !before[dash + 1..].trim().is_empty() {
        return None;
    }
    Some((dash, key_at - ls))
}

/// The end offset of the last text of a node or anything below it.
pub(crate) fn subtree_end(n: &Node) -> usize {
    let mut end = n.loc.end as usize;
    match &n.value {
        Value::Seq(items) => items.iter().for_each(|i| end = end.max(subtree_end(i))),
        Value::Map(m) => m.entries.iter().for_each(|e| {
            end = end.max(e.key_loc.end as usize).max(subtree_end(&e.value));
        }),
        _ => {}
    }
    end
}

/// The mapping below `n` one of whose values is at exactly `loc` (in the same text).
pub(crate) fn owner_of(n: &Node, loc: Loc) -> Option<&Node> {
    match &n.value {
        Value::Map(m) => {
            if m.entries
                .iter()
                .any(|e| e.value.loc.start == loc.start && e.value.loc.end == loc.end)
            {
                return Some(n);
            }
            m.entries.iter().find_map(|e| owner_of(&e.value, loc))
        }
        Value::Seq(items) => items.iter().find_map(|i| owner_of(i, loc)),
        _ => None,
    }
}

/// The scalar node at exactly `loc`.
pub(crate) fn scalar_at(n: &Node, loc: Loc) -> Option<&Node> {
    match &n.value {
        Value::Map(m) => m.entries.iter().find_map(|e| scalar_at(&e.value, loc)),
        Value::Seq(items) => items.iter().find_map(|i| scalar_at(i, loc)),
        _ => (n.loc.start == loc.start && n.loc.end == loc.end).then_some(n),
    }
}

/// A value as written where any style may be chosen: plain when it reads back as this very
/// string, else double-quoted.
pub(crate) fn scalar_text(value: &str) -> String {
    if plain_ok(value) {
        value.to_string()
    } else {
        double_quoted(value)
    }
}

/// Whether `s` written plain (in block or flow context) reads back as the string `s`.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@` \t".contains(first)
        || s.ends_with([' ', '\t', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || s.contains([',', '[', ']', '{', '}'])
        || s.chars().any(char::is_control)
    {
        return false;
    }
    matches!(resolve_plain(s), Value::Str(ref v) if v == s)
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn column(text: &str, at: usize) -> usize {
    at - line_start(text, at)
}

/// The offset just past the line break ending the line that holds `at` (the end of the text
/// on its last line).
fn after_line(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    // A span may end just after the line break itself.
    if at > 0 && text.as_bytes()[at - 1] == b'\n' {
        return at;
    }
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The file's line break (`\r\n` when it uses them).
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn doc(text: &str) -> Node {
        crate::yaml::parse_documents(text, FileId(0))
            .unwrap()
            .remove(0)
    }

    fn set(text: &str, path: &[&str], value: &str) -> String {
        let d = doc(text);
        let n = d.get_path(path).unwrap();
        apply(text, &[set_scalar(text, n.loc, value).unwrap()]).unwrap()
    }

    #[test]
    fn a_scalar_keeps_its_style_and_what_follows_it() {
        let t =
            "a:\n  b: \"x\"   # {\"$imagepolicy\": \"flux-system:api\"}\n  c: 'y' # keep\n  d: z\n";
        assert_eq!(
            set(t, &["a", "b"], "sha256:abc"),
            "a:\n  b: \"sha256:abc\"   # {\"$imagepolicy\": \"flux-system:api\"}\n  c: 'y' # keep\n  d: z\n"
        );
        assert_eq!(set(t, &["a", "c"], "it's"), t.replace("'y'", "'it''s'"));
        assert_eq!(set(t, &["a", "d"], "1.5.0"), t.replace("d: z", "d: 1.5.0"));
        // Plain text that would read back as a number (or end in a mapping indicator) is quoted.
        assert_eq!(
            set(t, &["a", "d"], "1.25"),
            t.replace("d: z", "d: \"1.25\"")
        );
        assert_eq!(set(t, &["a", "d"], "v:"), t.replace("d: z", "d: \"v:\""));
        // In a flow mapping too.
        let f = "images: [{name: api, digest: sha256:aaa}]\n";
        assert_eq!(
            apply(
                f,
                &[set_scalar(
                    f,
                    doc(f).get("images").unwrap().as_seq().unwrap()[0]
                        .get("digest")
                        .unwrap()
                        .loc,
                    "sha256:bbb"
                )
                .unwrap()]
            )
            .unwrap(),
            "images: [{name: api, digest: sha256:bbb}]\n"
        );
    }

    #[test]
    fn what_cannot_be_edited_faithfully_is_refused() {
        let t = "a: |\n  x\nb: &anchor v\n";
        let d = doc(t);
        assert!(set_scalar(t, d.get("a").unwrap().loc, "y").is_err());
        assert!(set_scalar(t, d.get("b").unwrap().loc, "y").is_err());
    }

    #[test]
    fn an_entry_changes_key_and_value_on_its_line() {
        let t = "images:\n- name: api\n  newTag: 1.4.0 # {\"$imagepolicy\": \"ns:api:tag\"}\n";
        let d = doc(t);
        let item = &d.get("images").unwrap().as_seq().unwrap()[0];
        let e = item.as_map().unwrap().get_entry("newTag").unwrap();
        let s = replace_entry(t, e.key_loc, e.value.loc, "digest", "sha256:abc").unwrap();
        assert_eq!(
            apply(t, &[s]).unwrap(),
            "images:\n- name: api\n  digest: sha256:abc # {\"$imagepolicy\": \"ns:api:tag\"}\n"
        );
    }

    #[test]
    fn list_items_follow_the_files_indentation() {
        let items = vec![vec![("name", "api"), ("digest", "sha256:abc")]];
        // Appended to an existing list, indented like its items.
        let t = "images:\n  - name: web # keep\n    newTag: \"1\"\nreplicas: []\n";
        let s = add_list_items(t, &doc(t), "images", &items).unwrap();
        assert_eq!(
            apply(t, &[s]).unwrap(),
            "images:\n  - name: web # keep\n    newTag: \"1\"\n  - name: api\n    digest: sha256:abc\nreplicas: []\n"
        );
        // A new key, indented like the document's other lists; a missing final newline added.
        let t = "resources:\n- ../../base";
        let s = add_list_items(t, &doc(t), "images", &items).unwrap();
        assert_eq!(
            apply(t, &[s]).unwrap(),
            "resources:\n- ../../base\nimages:\n- name: api\n  digest: sha256:abc\n"
        );
        let t = "images: [{name: web}]\n";
        assert!(add_list_items(t, &doc(t), "images", &items).is_err());
        // CRLF files get CRLF lines.
        let t = "resources:\r\n- a\r\n";
        let s = add_list_items(t, &doc(t), "images", &items).unwrap();
        assert!(
            apply(t, &[s])
                .unwrap()
                .ends_with("images:\r\n- name: api\r\n  digest: sha256:abc\r\n")
        );
    }

    #[test]
    fn fields_join_a_mapping_at_its_keys_indentation() {
        let t = "images:\n- name: api # the API\n  newName: reg/api\nnamespace: x\n";
        let d = doc(t);
        let item = &d.get("images").unwrap().as_seq().unwrap()[0];
        let s = add_to_mapping(t, item, &[("digest", "sha256:abc")]).unwrap();
        assert_eq!(
            apply(t, &[s]).unwrap(),
            "images:\n- name: api # the API\n  newName: reg/api\n  digest: sha256:abc\nnamespace: x\n"
        );
    }
}
