//! Structural differences between two rendered objects, as the promotion rules compare them:
//! mappings key by key, lists matched by a name-like key (`name`, `mountPath`, `containerPort`,
//! `port`) or by position, scalars by value. A value promotion-drift's normalization marks exempt
//! (overlay identity) compares with nothing. Also the `allow` path patterns of the rules' options
//! and how a value is shown in a message.

use regex::Regex;

use crate::yaml::{Entry, Mapping, Node, Value};

/// What promotion-drift's normalization leaves for a value promotion may change (no YAML text can hold a NUL).
pub(crate) const EXEMPT: &str = "\0exempt";

pub(crate) fn is_marker(n: &Node) -> bool {
    matches!(&n.value, Value::Str(s) if s == EXEMPT)
}

/// Whether a normalized value one side has alone compares with nothing: exempt, or a non-empty
/// mapping of only such values (a `labels` map the overlay's transformer created is the same as
/// none; an empty map written in a file is not).
pub(crate) fn exempt(n: &Node) -> bool {
    match &n.value {
        Value::Map(m) => !m.entries.is_empty() && m.entries.iter().all(|e| exempt(&e.value)),
        _ => is_marker(n),
    }
}

/// One difference: the field path and each side's value (absent on one side, or both set).
pub(crate) struct Diff<'a> {
    pub(crate) path: String,
    pub(crate) staging: Option<&'a Node>,
    pub(crate) production: Option<&'a Node>,
}

fn key_of(items: &[Node]) -> Option<&'static str> {
    ["name", "mountPath", "containerPort", "port"]
        .into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(k).is_some()))
}

/// The differences between two trees, appended to `out` (lists matched by name-like keys;
/// values marked exempt compare with nothing).
pub(crate) fn diff<'a>(a: &'a Node, b: &'a Node, path: String, out: &mut Vec<Diff<'a>>) {
    match (&a.value, &b.value) {
        (Value::Map(ma), Value::Map(mb)) => {
            let join = |key: &str| {
                if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                }
            };
            // Only promotion-drift's normalization's output holds exempt markers: raw trees (`diff_nodes`) have none.
            for e in &ma.entries {
                match mb.get(&e.key) {
                    Some(v) if is_marker(&e.value) || is_marker(v) => {}
                    Some(v) => diff(&e.value, v, join(&e.key), out),
                    None if exempt(&e.value) => {}
                    None => out.push(Diff {
                        path: join(&e.key),
                        staging: Some(&e.value),
                        production: None,
                    }),
                }
            }
            for e in &mb.entries {
                if !ma.contains_key(&e.key) && !exempt(&e.value) {
                    out.push(Diff {
                        path: join(&e.key),
                        staging: None,
                        production: Some(&e.value),
                    });
                }
            }
        }
        (Value::Seq(sa), Value::Seq(sb)) => {
            if let (Some(k), Some(_)) = (key_of(sa), key_of(sb)) {
                for x in sa {
                    let kv = x
                        .get(k)
                        .and_then(crate::yaml::Node::scalar_string)
                        .unwrap_or_default();
                    let p = format!("{path}[{k}={kv}]");
                    match sb.iter().find(|y| {
                        y.get(k)
                            .and_then(crate::yaml::Node::scalar_string)
                            .as_deref()
                            == Some(kv.as_str())
                    }) {
                        Some(y) => diff(x, y, p, out),
                        None => out.push(Diff {
                            path: p,
                            staging: Some(x),
                            production: None,
                        }),
                    }
                }
                for y in sb {
                    let kv = y
                        .get(k)
                        .and_then(crate::yaml::Node::scalar_string)
                        .unwrap_or_default();
                    if !sa.iter().any(|x| {
                        x.get(k)
                            .and_then(crate::yaml::Node::scalar_string)
                            .as_deref()
                            == Some(kv.as_str())
                    }) {
                        out.push(Diff {
                            path: format!("{path}[{k}={kv}]"),
                            staging: None,
                            production: Some(y),
                        });
                    }
                }
            } else if sa.len() == sb.len() {
                for (i, (x, y)) in sa.iter().zip(sb).enumerate() {
                    diff(x, y, format!("{path}[{i}]"), out);
                }
            } else {
                out.push(Diff {
                    path,
                    staging: Some(a),
                    production: Some(b),
                });
            }
        }
        _ => {
            if a != b {
                out.push(Diff {
                    path,
                    staging: Some(a),
                    production: Some(b),
                });
            }
        }
    }
}

/// Compiles `allow` patterns: `*` one segment, `**` any, `[*]` any list selector, optional
/// `Kind:` prefix.
pub(crate) fn allow_patterns(patterns: &[String]) -> Vec<(Option<String>, Regex)> {
    patterns
        .iter()
        .filter_map(|p| {
            let (kind, path) = match p.split_once(':') {
                Some((k, rest)) if !k.contains('.') && !k.contains('[') => {
                    (Some(k.to_string()), rest)
                }
                _ => (None, p.as_str()),
            };
            let mut re = String::from("^");
            let mut chars = path.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '*' if chars.peek() == Some(&'*') => {
                        chars.next();
                        re.push_str(".*");
                    }
                    '*' => re.push_str("[^.\\[\\]]*"),
                    c => re.push_str(&regex::escape(&c.to_string())),
                }
            }
            // A pattern also allows everything below the path it names.
            re.push_str("(?:$|[.\\[])");
            Regex::new(&re).ok().map(|r| (kind, r))
        })
        .collect()
}

/// A value as the rendered YAML spells it (`1`, `"1"`, a block for collections), or `(absent)`.
pub(crate) fn show(n: Option<&Node>) -> String {
    match n {
        None => "(absent)".to_string(),
        Some(n) if holds_marker(n) => crate::yaml::emit_documents([&unmarked(n)])
            .trim_end()
            .to_string(),
        Some(n) => crate::yaml::emit_documents([n]).trim_end().to_string(),
    }
}

fn holds_marker(n: &Node) -> bool {
    match &n.value {
        Value::Map(m) => m.entries.iter().any(|e| holds_marker(&e.value)),
        Value::Seq(s) => s.iter().any(holds_marker),
        _ => is_marker(n),
    }
}

/// `n` without the entries promotion-drift's normalization exempted: a diff shows what was compared (a label the
/// overlay sets as its identity is not, so it is not shown either).
fn unmarked(n: &Node) -> Node {
    let value = match &n.value {
        Value::Map(m) => Value::Map(Mapping {
            entries: m
                .entries
                .iter()
                .filter(|e| !exempt(&e.value))
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_loc: e.key_loc,
                    value: unmarked(&e.value),
                })
                .collect(),
        }),
        Value::Seq(s) => Value::Seq(s.iter().map(unmarked).collect()),
        v => v.clone(),
    };
    Node::new(value, n.loc).with_via(n.via)
}

/// Structural differences `(path, a, b)` between two nodes (lists matched by name-like keys).
pub(crate) fn diff_nodes<'a>(
    a: &'a Node,
    b: &'a Node,
    out: &mut Vec<(String, Option<&'a Node>, Option<&'a Node>)>,
) {
    let mut d = Vec::new();
    diff(a, b, String::new(), &mut d);
    out.extend(d.into_iter().map(|x| (x.path, x.staging, x.production)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_patterns_match_segments() {
        let pats = allow_patterns(&[
            "spec.replicas".into(),
            "Deployment:spec.template.spec.containers[*].env".into(),
            "metadata.annotations.**".into(),
        ]);
        let m = |kind: &str, p: &str| {
            pats.iter()
                .any(|(k, re)| k.as_deref().is_none_or(|k| k == kind) && re.is_match(p))
        };
        assert!(m("Deployment", "spec.replicas"));
        assert!(!m("Deployment", "spec.replicasX"));
        assert!(m(
            "Deployment",
            "spec.template.spec.containers[name=a].env[name=X].value"
        ));
        assert!(!m(
            "StatefulSet",
            "spec.template.spec.containers[name=a].env"
        ));
        assert!(m("Service", "metadata.annotations.a/b"));
    }
}
