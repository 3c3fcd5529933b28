//! The CustomResourceDefinitions of a few kinds in a repository file, without parsing the rest.
//!
//! Repositories vendor CRDs by the megabyte (kubeflow/manifests holds 23 MB of them, kserve's
//! install alone 3.5 MB), and most describe kinds the repository never uses or that a rendered
//! CRD already describes; parsing them all cost more than the whole check. So a file is cut into
//! its YAML documents by text (a `---` or `...` line at column 0 is a document marker wherever it
//! stands, block scalars included), and only a document that spells out one wanted kind as
//! `kind: <Kind>` and its group as `group: <group>` (quoted or not, block or flow style) is
//! parsed. A CRD that writes its kind or group with escape sequences in a double-quoted string is
//! not recognised.

use std::collections::BTreeSet;

use crate::yaml::Node;

/// The `CustomResourceDefinition`s in `text` that define one of the `(group, kind)` pairs of
/// `wanted`, in file order. Documents that do not parse are left out (a file that does not parse
/// is the renderer's to report, when something renders it).
pub(crate) fn crds_defining(text: &str, wanted: &BTreeSet<(String, String)>) -> Vec<Node> {
    let mut out = Vec::new();
    // One pass over the lines, noting each document's `kind:` and `group:` values that a wanted
    // pair has (a line scan: searching megabytes once per wanted kind cost more than parsing).
    let mut doc = Seen::default();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > doc.start && is_marker(line) {
            doc.flush(text, at, wanted, &mut out);
            doc = Seen {
                start: at,
                ..Seen::default()
            };
        }
        doc.scan(line, wanted);
        at += line.len();
    }
    doc.flush(text, text.len(), wanted, &mut out);
    out
}

/// The wanted `kind:` and `group:` values one document holds.
#[derive(Default)]
struct Seen<'w> {
    start: usize,
    kinds: Vec<&'w str>,
    groups: Vec<&'w str>,
}

impl<'w> Seen<'w> {
    fn scan(&mut self, line: &str, wanted: &'w BTreeSet<(String, String)>) {
        let t = line.trim_start_matches([' ', '\t', '-']);
        // A quoted key (`"kind": Widget`) too.
        let t = t.strip_prefix(['"', '\'']).unwrap_or(t);
        let block = [("kind", &mut self.kinds), ("group", &mut self.groups)];
        if !line.contains('{') {
            // Block style: the line's own key.
            for (key, seen) in block {
                let after_key = t
                    .strip_prefix(key)
                    .map(|r| r.strip_prefix(['"', '\'']).unwrap_or(r));
                if let Some(v) = after_key.and_then(|r| r.strip_prefix(':')) {
                    let v = value(v);
                    for (g, k) in wanted {
                        let w = if key == "kind" { k } else { g };
                        if w == v && !seen.contains(&w.as_str()) {
                            seen.push(w.as_str());
                        }
                    }
                }
            }
            return;
        }
        // Flow style: any key of the line (descriptions hold braces too: look closer only when
        // a key is there).
        if !line.contains("kind") && !line.contains("group") {
            return;
        }
        for (key, seen) in block {
            for (g, k) in wanted {
                let w = if key == "kind" { k } else { g };
                if !seen.contains(&w.as_str()) && has_value(line, key, w) {
                    seen.push(w.as_str());
                }
            }
        }
    }

    /// Parses the document (`text[self.start..end]`) when it holds a wanted pair and is a CRD.
    fn flush(
        &self,
        text: &str,
        end: usize,
        wanted: &BTreeSet<(String, String)>,
        out: &mut Vec<Node>,
    ) {
        let pair = wanted
            .iter()
            .any(|(g, k)| self.groups.contains(&g.as_str()) && self.kinds.contains(&k.as_str()));
        let doc = &text[self.start..end];
        if !pair || !doc.contains("CustomResourceDefinition") {
            return;
        }
        let Ok(parsed) = crate::yaml::parse_documents(doc, crate::source::FileId::NONE) else {
            return;
        };
        out.extend(parsed.into_iter().filter(|d| {
            d.str_at(&["kind"]) == Some("CustomResourceDefinition")
                && wanted.iter().any(|(group, kind)| {
                    d.str_at(&["spec", "group"]) == Some(group.as_str())
                        && d.str_at(&["spec", "names", "kind"]) == Some(kind.as_str())
                })
        }));
    }
}

/// A block-style value after its key's colon: unquoted, up to a blank or a comment.
fn value(rest: &str) -> &str {
    let v = rest.trim_start_matches([' ', '\t']);
    let v = v.strip_prefix(['"', '\'']).unwrap_or(v);
    let end = v
        .find(['"', '\'', ' ', '\t', '\r', '\n', '#', ','])
        .unwrap_or(v.len());
    &v[..end]
}

/// Whether a document marker (`---` or `...` followed by a blank or the line's end) starts the
/// line.
fn is_marker(line: &str) -> bool {
    let rest = line
        .strip_prefix("---")
        .or_else(|| line.strip_prefix("..."));
    rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether `text` holds `key: value` for this value, the value plain or quoted and ended by a
/// blank, a comma, a closing brace, a comment or the line's end (flow style).
fn has_value(text: &str, key: &str, value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    text.match_indices(value).any(|(i, _)| {
        let before = text[..i]
            .strip_suffix(['"', '\''])
            .unwrap_or(&text[..i])
            .trim_end_matches([' ', '\t']);
        let after = &text[i + value.len()..];
        let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
        before
            .strip_suffix(':')
            .and_then(|b| b.strip_suffix(key))
            .is_some_and(|b| b.is_empty() || b.ends_with([' ', '\t', '\n', '{', ',', '"', '\'']))
            && (after.is_empty() || after.starts_with([' ', '\t', '\r', '\n', ',', '}', '#']))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(g, k)| (g.to_string(), k.to_string()))
            .collect()
    }

    fn crd(group: &str, kind: &str) -> String {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.{group}\nspec:\n  group: {group}\n  names:\n    kind: {kind}\n    plural: x\n  versions: []\n"
        )
    }

    fn kinds(nodes: &[Node]) -> Vec<&str> {
        nodes
            .iter()
            .map(|n| n.str_at(&["spec", "names", "kind"]).unwrap())
            .collect()
    }

    #[test]
    fn only_the_wanted_kinds_crds_are_returned() {
        let text = format!(
            "{}---\n{}--- # a comment\n{}...\n---\n{}",
            crd("networking.istio.io", "VirtualService"),
            crd("networking.istio.io", "Gateway"),
            crd("serving.kserve.io", "InferenceService"),
            crd("networking.istio.io", "Sidecar"),
        );
        let w = wanted(&[
            ("networking.istio.io", "Gateway"),
            ("networking.istio.io", "Sidecar"),
        ]);
        assert_eq!(kinds(&crds_defining(&text, &w)), ["Gateway", "Sidecar"]);
        // The group must match too.
        let w = wanted(&[("gateway.networking.k8s.io", "Gateway")]);
        assert!(crds_defining(&text, &w).is_empty());
    }

    #[test]
    fn quoted_and_flow_style_values_are_found() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: \"CustomResourceDefinition\"\nmetadata: {name: widgets.example.com}\nspec: {group: 'example.com', names: {kind: \"Widget\", plural: widgets}, versions: []}\n";
        let w = wanted(&[("example.com", "Widget")]);
        assert_eq!(kinds(&crds_defining(text, &w)), ["Widget"]);
        let text = "\"apiVersion\": apiextensions.k8s.io/v1\n\"kind\": CustomResourceDefinition\n\"spec\":\n  \"group\": \"example.com\"\n  \"names\":\n    \"kind\": \"Widget\" # the kind\n  \"versions\": []\n";
        assert_eq!(kinds(&crds_defining(text, &w)), ["Widget"]);
    }

    #[test]
    fn a_kind_only_mentioned_is_not_parsed_for() {
        // A CRD whose text names the kind elsewhere (a description, a longer kind).
        let doc = crd("example.com", "WidgetSet").replace(
            "  versions: []\n",
            "  versions: []\n  # holds Widget objects; kind: Widgets\n",
        );
        assert!(!has_value(&doc, "kind", "Widget"));
        assert!(has_value(&doc, "kind", "WidgetSet"));
        assert!(has_value(&doc, "group", "example.com"));
        assert!(!has_value(&doc, "group", "example"));
        assert!(!has_value("subkind: Widget\n", "kind", "Widget"));
    }

    #[test]
    fn documents_are_cut_at_markers_only() {
        // A `---` inside a block scalar is indented; `----` is no marker; `--- ` is one.
        let w = wanted(&[("example.com", "Widget")]);
        let text = format!(
            "a: |\n  ---\n  kind: Widget\n----\n--- \n{}",
            crd("example.com", "Widget")
        );
        assert_eq!(kinds(&crds_defining(&text, &w)), ["Widget"]);
        // The kind in one document and the group in another do not make a match.
        let text = format!(
            "{}---\n{}",
            crd("example.com", "Gadget"),
            crd("other.io", "Widget")
        );
        assert!(crds_defining(&text, &w).is_empty());
    }
}
