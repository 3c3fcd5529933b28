//! How promotion-drift compares two rendered objects: what promotion is allowed to change is
//! marked exempt (an overlay's identity set by its kustomization's `namespace`, `labels`,
//! `replicas`...), images become a placeholder, renamed objects are spelled by their source
//! names — and a shortcut ([`same`]) decides most pairs without building the normalized copies.

use std::collections::BTreeMap;

use super::diff::EXEMPT;
use crate::render::Build;
use crate::source::{Loc, Sources};
use crate::yaml::{Entry, Mapping, Node, Value};

/// A node set by one of a kustomization's identity fields — `namespace`, `labels`,
/// `commonLabels`, `commonAnnotations`, `replicas`, `buildMetadata` — or by the builtin
/// transformer behind one, configured in a `transformers:` file, as opposed to a resource file
/// or a patch (an inline patch is kustomization text too, but a change like any other).
fn set_by_kustomization(n: &Node, sources: &Sources) -> bool {
    if n.via.is_none() {
        return false;
    }
    let Some(f) = sources.get(n.via.file) else {
        return false;
    };
    let name = f.path.rsplit('/').next().unwrap_or("");
    if !matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) {
        return document_kind(&f.text, n.via.start as usize).is_some_and(|k| {
            matches!(
                k,
                "NamespaceTransformer"
                    | "LabelTransformer"
                    | "AnnotationsTransformer"
                    | "ReplicaCountTransformer"
            )
        });
    }
    // A field the scan cannot name (a flow-style kustomization) counts as identity, as all
    // kustomization-set values did before patches were told apart.
    kustomization_field(&f.text, n.via.start as usize).is_none_or(|k| {
        matches!(
            k,
            "namespace"
                | "labels"
                | "commonLabels"
                | "commonAnnotations"
                | "replicas"
                | "buildMetadata"
        )
    })
}

/// The top-level `kind:` of the YAML document (of a multi-document file) holding byte `offset`.
fn document_kind(text: &str, offset: usize) -> Option<&str> {
    let mut start = 0;
    let mut kind = None;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        if line.starts_with("---") {
            if start > offset {
                break;
            }
            kind = None;
        } else if let Some(k) = line.strip_prefix("kind:") {
            kind = Some(k.trim().trim_matches(|c| c == '"' || c == '\''));
            if start > offset {
                break;
            }
        }
        start = end;
    }
    kind
}

/// The top-level field of a kustomization file whose value holds byte `offset`: the nearest
/// line at or before it that starts in column 0 with a key. Kustomizations are block mappings
/// at the top (what every tool writes); inline patches are block scalars, indented below their
/// field, so they never start a line in column 0.
fn kustomization_field(text: &str, offset: usize) -> Option<&str> {
    let head = text.get(..offset.min(text.len()))?;
    for line in head.rsplit('\n') {
        let line = line.trim_start_matches('\u{feff}');
        match line.chars().next() {
            None | Some(' ' | '\t' | '-' | '#' | '\r') => continue,
            Some('{' | '[' | '.' | '%') => return None,
            _ => {}
        }
        let key = line.split_once(':')?.0.trim();
        return Some(key.trim_matches(|c| c == '"' || c == '\''));
    }
    None
}

/// Marks what promotion is allowed to change (see [`Side::keeps`]) as [`exempt`], puts a
/// placeholder for container images, and spells renamed objects' names by their source names.
/// Exempt values stay as markers rather than going: a field one environment sets as its
/// identity (production's `replicas:`) must not be compared with the other's value either, and
/// `diff` can only know that from a marker.
pub(crate) fn normalize(n: &Node, path: &str, side: &Side) -> Option<Node> {
    match &n.value {
        // Built level by level: cloning a subtree only to clear it would copy every level
        // once per ancestor.
        Value::Map(m) => {
            let image_parent = path.contains("ontainers");
            let mut entries = Vec::with_capacity(m.entries.len());
            for e in &m.entries {
                let p = if path.is_empty() {
                    e.key.to_string()
                } else {
                    format!("{path}.{}", e.key)
                };
                if !side.keeps(e, &p, image_parent) {
                    entries.push(Entry {
                        key: e.key.clone(),
                        key_loc: e.key_loc,
                        value: Node::str(EXEMPT),
                    });
                    continue;
                }
                if e.key == "image" && image_parent {
                    entries.push(Entry {
                        key: e.key.clone(),
                        key_loc: Loc::NONE,
                        value: Node::str("<image>"),
                    });
                    continue;
                }
                if let Some(v) = normalize(&e.value, &p, side) {
                    entries.push(Entry {
                        key: e.key.clone(),
                        key_loc: e.key_loc,
                        value: v,
                    });
                }
            }
            Some(Node::new(Value::Map(Mapping { entries }), n.loc).with_via(n.via))
        }
        Value::Seq(items) => {
            let item_path = format!("{path}[]");
            let v: Vec<Node> = items
                .iter()
                .filter_map(|i| normalize(i, &item_path, side))
                .collect();
            Some(Node::new(Value::Seq(v), n.loc).with_via(n.via))
        }
        Value::Str(s) if side.renames.contains_key(s.as_str()) => {
            Some(Node::new(Value::Str(side.string(s).into()), n.loc).with_via(n.via))
        }
        _ => Some(n.clone()),
    }
}

/// One environment's normalization inputs.
pub(crate) struct Side<'a> {
    pub(crate) renames: &'a BTreeMap<String, String>,
    pub(crate) sources: &'a Sources,
}

impl Side<'_> {
    /// Whether [`normalize`] keeps the entry `e` (at path `p`) of a mapping, in its order of
    /// tests: `metadata.name`/`namespace` go, a container's image stays (as a placeholder), an
    /// identity value a kustomization set goes.
    fn keeps(&self, e: &Entry, p: &str, image_parent: bool) -> bool {
        if p == "metadata.name" || p == "metadata.namespace" {
            return false;
        }
        if e.key == "image" && image_parent {
            return true;
        }
        let identity = p.contains("labels")
            || p.contains("annotations")
            || p.contains("selector")
            || p.ends_with("namespace")
            || p.ends_with(".replicas")
            || p == "replicas";
        !(identity && set_by_kustomization(&e.value, self.sources))
    }

    /// Whether `n` (at `path`) normalizes to a mapping [`exempt`] holds for.
    fn vacuous(&self, n: &Node, path: &mut String) -> bool {
        let Value::Map(m) = &n.value else {
            return false;
        };
        if m.entries.is_empty() {
            return false;
        }
        let len = path.len();
        let image_parent = path.contains("ontainers");
        m.entries.iter().all(|e| {
            push_key(path, &e.key);
            let v = !self.keeps(e, path, image_parent) || self.vacuous(&e.value, path);
            path.truncate(len);
            v
        })
    }

    /// A string as [`normalize`] leaves it.
    fn string<'s>(&'s self, s: &'s str) -> std::borrow::Cow<'s, str> {
        match self.renames.get(s) {
            Some(orig) => format!("<name of {orig}>").into(),
            None => s.into(),
        }
    }

    /// The normalized scalar text of a list item's `key` entry, as [`diff`] matches items by.
    fn item_key(&self, item: &Node, key: &str, item_path: &mut String) -> Option<String> {
        let Value::Map(m) = &item.value else {
            return None;
        };
        let e = m.entries.iter().find(|e| e.key == key)?;
        let len = item_path.len();
        let image_parent = item_path.contains("ontainers");
        push_key(item_path, key);
        let kept = self.keeps(e, item_path, image_parent);
        item_path.truncate(len);
        if !kept {
            return None;
        }
        // What `diff` reads: the scalar text, or "" for a collection.
        Some(match &e.value.value {
            Value::Str(s) => self.string(s).into_owned(),
            _ => e.value.scalar_string().unwrap_or_default(),
        })
    }
}

pub(crate) fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Whether `diff` of the normalized `a` (staging) and `b` (production) would find nothing,
/// decided on the original trees. Conservative: `false` whenever it cannot tell cheaply (lists
/// in a different order, duplicate item keys) — the caller then normalizes and diffs.
pub(crate) fn same(a: &Node, b: &Node, path: &mut String, sa: &Side, sb: &Side) -> bool {
    match (&a.value, &b.value) {
        (Value::Map(ma), Value::Map(mb)) => {
            let len = path.len();
            let image_parent = path.contains("ontainers");
            // A field either side exempts is not compared; one side has alone only if it is
            // (or holds nothing but) exempt values.
            for e in &ma.entries {
                push_key(path, &e.key);
                let ok = if sa.keeps(e, path, image_parent) {
                    match mb.entries.iter().find(|f| f.key == e.key) {
                        Some(f) if !sb.keeps(f, path, image_parent) => true,
                        // Both images become the same placeholder.
                        Some(f) => {
                            (e.key == "image" && image_parent)
                                || same(&e.value, &f.value, path, sa, sb)
                        }
                        None => sa.vacuous(&e.value, path),
                    }
                } else {
                    true
                };
                path.truncate(len);
                if !ok {
                    return false;
                }
            }
            for f in &mb.entries {
                if ma.contains_key(&f.key) {
                    continue;
                }
                push_key(path, &f.key);
                let ok = !sb.keeps(f, path, image_parent) || sb.vacuous(&f.value, path);
                path.truncate(len);
                if !ok {
                    return false;
                }
            }
            true
        }
        (Value::Seq(xa), Value::Seq(xb)) => {
            if xa.len() != xb.len() {
                return false;
            }
            let len = path.len();
            path.push_str("[]");
            let mut ok = xa.iter().zip(xb).all(|(x, y)| same(x, y, path, sa, sb));
            // Pairwise equal lists diff as equal when matched by a key too, unless a key value
            // repeats (the keyed match pairs the first one).
            if ok {
                for k in ["name", "mountPath", "containerPort", "port"] {
                    let mut seen = std::collections::BTreeSet::new();
                    for x in xa {
                        if let Some(v) = sa.item_key(x, k, path)
                            && !seen.insert(v)
                        {
                            ok = false;
                        }
                    }
                }
            }
            path.truncate(len);
            ok
        }
        (Value::Str(x), Value::Str(y)) => sa.string(x) == sb.string(y),
        (Value::Str(_), _) | (_, Value::Str(_)) => false,
        _ => a == b,
    }
}

/// Current name → source name of every renamed object of an environment.
pub(crate) fn renames(b: &Build) -> BTreeMap<String, String> {
    b.resources
        .iter()
        .filter_map(|r| {
            let (cur, orig) = (r.name().to_string(), r.orig_id().name.to_string());
            (cur != orig).then_some((cur, orig))
        })
        .collect()
}

pub(crate) fn first_loc(n: &Node) -> Loc {
    if n.blame().is_some() {
        return n.blame();
    }
    match &n.value {
        Value::Map(m) => m
            .entries
            .iter()
            .map(|e| first_loc(&e.value))
            .find(crate::source::Loc::is_some)
            .unwrap_or(Loc::NONE),
        Value::Seq(s) => s
            .iter()
            .map(first_loc)
            .find(crate::source::Loc::is_some)
            .unwrap_or(Loc::NONE),
        _ => Loc::NONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::support::diff::{diff, show};

    /// `same` agrees with normalize + diff: true for pairs that do not drift, false for pairs that
    /// do — and conservatively false for a reordered list the keyed diff still matches.
    #[test]
    fn shortcut_agrees_with_the_full_comparison() {
        let sources = Sources::new();
        let kfile = sources.add(
            "apps/a/overlays/production/kustomization.yaml",
            "namespace: prod\n".into(),
        );
        let res = sources.add("apps/a/base/d.yaml", "".into());
        let doc = |y: &str| {
            let mut n = crate::yaml::parse_documents(y, res).unwrap().remove(0);
            // What the namespace transformer records: set by the overlay's kustomization.
            if let Value::Map(m) = &mut n.value
                && let Some(md) = m.entries.iter_mut().find(|e| e.key == "metadata")
                && let Value::Map(md) = &mut md.value.value
                && let Some(ns) = md.entries.iter_mut().find(|e| e.key == "labels")
            {
                ns.value.via = Loc::new(kfile, 0, 1);
            }
            n
        };
        let base = "kind: Deployment\nmetadata:\n  name: web\n  labels: {env: X}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: IMG\n        envFrom:\n        - configMapRef: {name: CM}\n        ports: [{containerPort: 80}, {containerPort: 81}]\n";
        let renames_s: BTreeMap<String, String> = [("cfg-s".to_string(), "cfg".to_string())].into();
        let renames_p: BTreeMap<String, String> = [("cfg-p".to_string(), "cfg".to_string())].into();
        let cases = [
            // (staging edits, production edits, `same`; the diff is empty unless noted below)
            (vec![], vec![], true),
            (vec![("IMG", "r/app:1")], vec![("IMG", "r/app:2")], true),
            (vec![("X", "stg")], vec![("X", "prd")], true),
            (vec![("CM", "cfg-s")], vec![("CM", "cfg-p")], true),
            (vec![("CM", "cfg-s")], vec![("CM", "other")], false),
            (vec![], vec![("80", "8080")], false),
            (vec![], vec![("name: app", "name: app2")], false),
            (
                vec![],
                vec![("        envFrom:\n        - configMapRef: {name: CM}\n", "")],
                false,
            ),
            (
                vec![],
                vec![(
                    "{containerPort: 80}, {containerPort: 81}",
                    "{containerPort: 81}, {containerPort: 80}",
                )],
                false,
            ),
            (
                vec![],
                vec![("  name: web\n", "  name: web\n  annotations: {a: b}\n")],
                false,
            ),
        ];
        for (i, (se, pe, want)) in cases.into_iter().enumerate() {
            let edit = |edits: &[(&str, &str)]| {
                let mut y = base.to_string();
                for (a, b) in edits {
                    y = y.replace(a, b);
                }
                doc(&y)
            };
            let (a, b) = (edit(&se), edit(&pe));
            let (ss, ps) = (
                Side {
                    renames: &renames_s,
                    sources: &sources,
                },
                Side {
                    renames: &renames_p,
                    sources: &sources,
                },
            );
            let fast = same(&a, &b, &mut String::new(), &ss, &ps);
            let (na, nb) = (
                normalize(&a, "", &ss).unwrap(),
                normalize(&b, "", &ps).unwrap(),
            );
            let mut diffs = Vec::new();
            diff(&na, &nb, String::new(), &mut diffs);
            assert_eq!(fast, want, "case {i}");
            // Case 8: the keyed diff pairs the reordered ports; `same` does not try.
            assert_eq!(
                diffs.is_empty(),
                want || i == 8,
                "case {i}: {:?}",
                diffs.iter().map(|d| &d.path).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn kustomization_fields_are_told_apart_from_inline_patches() {
        let text = "namespace: prod\nreplicas:\n- name: web\n  count: 3\npatches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n\"labels\":\n- pairs: {a: b}\n";
        let at = |needle: &str| kustomization_field(text, text.find(needle).unwrap());
        assert_eq!(at("prod"), Some("namespace"));
        assert_eq!(at("3\npatches"), Some("replicas"));
        assert_eq!(at("- op"), Some("patches"));
        assert_eq!(at("value: 3"), Some("patches"));
        assert_eq!(at("{a: b}"), Some("labels"));
        assert_eq!(kustomization_field("{namespace: x}", 12), None);
    }

    #[test]
    fn shown_values_leave_out_what_was_not_compared() {
        let mut labels = Mapping::default();
        labels.insert("tier", Node::str(EXEMPT));
        labels.insert("pager", Node::str("on-call"));
        let shown = show(Some(&Node::new(Value::Map(labels), Loc::NONE)));
        assert_eq!(shown, "pager: on-call");
    }

    #[test]
    fn transformer_documents_are_told_apart() {
        let text = "apiVersion: builtin\nkind: LabelTransformer\nlabels: {env: prod}\n---\nlabels: {a: b}\nkind: PatchTransformer\n---\nkind: \"ReplicaCountTransformer\"\nreplica: {count: 3}\n";
        let at = |needle: &str| document_kind(text, text.find(needle).unwrap());
        assert_eq!(at("env: prod"), Some("LabelTransformer"));
        assert_eq!(at("a: b"), Some("PatchTransformer"));
        assert_eq!(at("count: 3"), Some("ReplicaCountTransformer"));
        assert_eq!(document_kind("labels: {}\n", 3), None);
    }

    /// A field one environment sets as its identity is compared with nothing — not even the
    /// other environment's value from the base — while an inline patch's change is drift.
    #[test]
    fn identity_set_on_one_side_only_is_not_drift() {
        let sources = Sources::new();
        let ktext = "replicas:\n- name: web\n  count: 3\npatches:\n- patch: |-\n    - op: add\n      path: /metadata/annotations/x\n      value: y\n";
        let kfile = sources.add(
            "apps/a/overlays/production/kustomization.yaml",
            ktext.into(),
        );
        let res = sources.add("apps/a/base/d.yaml", "".into());
        let parse = |y: &str| crate::yaml::parse_documents(y, res).unwrap().remove(0);
        let staging = parse("kind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n");
        let production = |via: &str, extra: &str| {
            let mut n = parse(&format!(
                "kind: Deployment\nmetadata:\n  name: web\n{extra}spec:\n  replicas: 3\n"
            ));
            let at = ktext.find(via).unwrap();
            n.walk_mut(&mut |n| {
                if matches!(n.value, Value::Int(3))
                    || matches!(&n.value, Value::Map(m) if m.get("x").is_some())
                {
                    n.via = Loc::new(kfile, at, at + 1);
                }
            });
            n
        };
        let empty = BTreeMap::new();
        let side = Side {
            renames: &empty,
            sources: &sources,
        };
        let drift = |a: &Node, b: &Node| {
            let (na, nb) = (
                normalize(a, "", &side).unwrap(),
                normalize(b, "", &side).unwrap(),
            );
            let mut d = Vec::new();
            diff(&na, &nb, String::new(), &mut d);
            let fast = same(a, b, &mut String::new(), &side, &side);
            assert_eq!(
                fast,
                d.is_empty(),
                "{:?}",
                d.iter().map(|d| &d.path).collect::<Vec<_>>()
            );
            d.into_iter().map(|d| d.path).collect::<Vec<_>>()
        };
        // Production's `replicas:` entry: not drift, in either direction.
        let p = production("count: 3", "");
        assert!(drift(&staging, &p).is_empty());
        assert!(drift(&p, &staging).is_empty());
        // The same value from the inline patch is.
        let p = production("value: y", "");
        assert_eq!(drift(&staging, &p), ["spec.replicas"]);
        // An annotations map the patch created is drift too.
        let p = production("value: y", "  annotations:\n    x: y\n");
        assert_eq!(
            drift(&staging, &p),
            ["metadata.annotations", "spec.replicas"]
        );
    }
}
