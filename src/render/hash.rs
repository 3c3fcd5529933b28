//! Content-hash name suffixes of generated ConfigMaps and Secrets.
//!
//! kustomize hashes a JSON encoding of `{kind, name, data[, binaryData]}` (Secrets also `type` and
//! `stringData`; the name is always empty, see below) made by Go's `json.Marshal`: object keys sorted, and `<`, `>`, `&`, U+2028 and
//! U+2029 escaped as `\u003c`-style sequences. The sha256 hex digest's first ten characters, with
//! `0 1 3 a e` mapped to `g h k m t` (so the suffix never looks like a number or a word), become the
//! suffix. Data is final only after patches and merges, so this runs at the top level.

use sha2::{Digest, Sha256};

use super::resource::Resource;
use crate::yaml::{Node, Value, to_json};

/// Appends `-<hash>` to the name of every resource that needs one.
pub fn add_hashes(resources: &mut [Resource]) {
    for r in resources.iter_mut().filter(|r| r.needs_hash) {
        let h = content_hash(&r.node);
        let name = format!("{}-{}", r.name(), h);
        let via = r
            .node
            .get_path(&["metadata", "name"])
            .map_or(crate::source::Loc::NONE, |n| n.via);
        r.set_name(&name, via);
        r.needs_hash = false;
    }
}

/// The suffix kustomize would compute for a ConfigMap or Secret node.
pub fn content_hash(node: &Node) -> String {
    let kind = node.str_at(&["kind"]).unwrap_or("");
    let mut m = serde_json::Map::new();
    let field = |k: &str| -> serde_json::Value {
        match node.get_path(&k.split('/').collect::<Vec<_>>()) {
            None => serde_json::Value::String(String::new()),
            Some(n) => match &n.value {
                Value::Map(_) | Value::Seq(_) => to_json(n),
                _ => serde_json::Value::String(n.scalar_string().unwrap_or_default()),
            },
        }
    };
    m.insert("kind".into(), kind.into());
    // kustomize looks the name up as one field literally called "metadata/name", which never
    // exists, so the name it hashes is always empty. Reproduced on purpose: suffixes must match.
    m.insert("name".into(), serde_json::Value::String(String::new()));
    m.insert("data".into(), field("data"));
    if kind == "Secret" {
        m.insert("type".into(), field("type"));
        if node.get("stringData").and_then(|n| n.as_map()).is_some() {
            m.insert("stringData".into(), field("stringData"));
        }
    } else if node.get("binaryData").and_then(|n| n.as_map()).is_some() {
        m.insert("binaryData".into(), field("binaryData"));
    }
    let text = go_json(&serde_json::Value::Object(m));
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's `json.Marshal` writes it: sorted keys, HTML-safe escaping.
pub fn go_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

fn write_go_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go_json(&o[k.as_str()], out);
            }
            out.push('}');
        }
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(x, out);
            }
            out.push(']');
        }
        J::String(s) => write_go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn hash_of(src: &str) -> String {
        content_hash(&crate::yaml::parse_documents(src, FileId(0)).unwrap()[0])
    }

    #[test]
    fn matches_kustomize_for_configmap_with_html_chars() {
        // Generated with the reference kustomize: literals a=1, b=on, c=<&> and name p-cm.
        assert_eq!(
            hash_of(
                "kind: ConfigMap\nmetadata:\n  name: p-cm\ndata:\n  a: \"1\"\n  b: \"on\"\n  c: <&>\n"
            ),
            "hgf6b6797b"
        );
    }
}
