//! Field specs: "which fields of which kinds hold X".
//!
//! kustomize's transformers are driven by tables of field specs (`path: spec/selector/matchLabels,
//! kind: Deployment, create: true`). kustodian keeps the same tables as data under
//! `src/render/fieldspecs/*.yaml`, transcribed from kustomize's documented defaults, and one walker
//! here: segments separated by `/`, a `[]` suffix (or any sequence met on the way) visits every
//! element, and `create` makes missing maps (and the leaf) on the way.
//!
//! The default tables are compiled in: build.rs turns the YAML into `static` arrays whose strings
//! point into the binary (`CompactString::const_new`, `Cow::Borrowed` paths), so no run parses them
//! and copying a table into a kustomization's configuration allocates nothing per string. Tables
//! from a kustomization's `configurations:` are parsed into the same type, owning their strings.

use std::borrow::Cow;

use compact_str::CompactString;

use super::resource::ResId;
use crate::yaml::{Mapping, Node, Value};

/// One field spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub group: Option<CompactString>,
    pub version: Option<CompactString>,
    pub kind: Option<CompactString>,
    pub path: Cow<'static, [CompactString]>,
    pub create: bool,
}

/// A built-in table's group, version or kind: "" is "any" (`None`).
pub(crate) const fn static_or_any(s: &'static str) -> Option<CompactString> {
    if s.is_empty() {
        None
    } else {
        Some(CompactString::const_new(s))
    }
}

/// A built-in spec (build.rs writes calls to this; an empty group, version or kind is "any").
pub(crate) const fn spec(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    path: &'static [CompactString],
    create: bool,
) -> FieldSpec {
    FieldSpec {
        group: static_or_any(group),
        version: static_or_any(version),
        kind: static_or_any(kind),
        path: Cow::Borrowed(path),
        create,
    }
}

impl FieldSpec {
    pub fn new(path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            group: None,
            version: None,
            kind: None,
            path: Cow::Owned(split_path(path)),
            create,
        }
    }

    /// Does this spec apply to a resource with this id?
    pub fn matches(&self, id: &ResId) -> bool {
        self.group.as_deref().is_none_or(|g| g == id.group)
            && self.version.as_deref().is_none_or(|v| v == id.version)
            && self.kind.as_deref().is_none_or(|k| k == id.kind)
    }

    /// Reads a spec from a node (`{path, group, version, kind, create}`).
    pub fn from_node(n: &Node) -> Option<FieldSpec> {
        let s = |k: &str| {
            n.get(k)
                .and_then(crate::yaml::Node::scalar_string)
                .filter(|s| !s.is_empty())
        };
        let c = |k: &str| s(k).map(CompactString::from);
        Some(FieldSpec {
            group: c("group"),
            version: c("version"),
            kind: c("kind"),
            path: Cow::Owned(split_path(&s("path")?)),
            create: n
                .get("create")
                .and_then(crate::yaml::Node::as_bool)
                .unwrap_or(false),
        })
    }
}

pub(crate) use super::path_syntax::split_path;

/// Parses a table of field specs from YAML text (a list, or a map whose values are lists).
#[cfg(test)]
pub fn parse_table(yaml_text: &str) -> Vec<FieldSpec> {
    let docs = crate::yaml::parse_documents(yaml_text, crate::source::FileId::NONE)
        .expect("built-in field spec table is valid YAML");
    let mut out = Vec::new();
    for d in docs {
        collect(&d, &mut out);
    }
    out
}

#[cfg(test)]
fn collect(n: &Node, out: &mut Vec<FieldSpec>) {
    match &n.value {
        Value::Seq(items) => out.extend(items.iter().filter_map(FieldSpec::from_node)),
        Value::Map(m) => m.entries.iter().for_each(|e| collect(&e.value, out)),
        _ => {}
    }
}

/// Visits every node at `path` below `node`, creating missing maps when `create` is set.
/// The callback receives the parent map's key and the node (created as `Null` if missing).
pub fn visit(node: &mut Node, path: &[CompactString], create: bool, f: &mut dyn FnMut(&mut Node)) {
    if path.is_empty() {
        f(node);
        return;
    }
    if let Value::Seq(items) = &mut node.value {
        for it in items {
            visit(it, path, create, f);
        }
        return;
    }
    let seg = path[0].trim_end_matches("[]");
    let want_seq = path[0].ends_with("[]");
    let Value::Map(m) = &mut node.value else {
        return;
    };
    if m.get(seg).is_none() {
        // kustomize creates maps and leaves on the way, never lists.
        if !create || want_seq {
            return;
        }
        // kustomize creates intermediate maps; the leaf is created by the callback (as null).
        let new = if path.len() == 1 {
            Node::synth(Value::Null)
        } else {
            Node::synth(Value::Map(Mapping::default()))
        };
        m.insert(seg, new);
    }
    let child = m.get_mut(seg).unwrap();
    if child.is_null() && path.len() > 1 {
        if !create {
            return;
        }
        child.value = Value::Map(Mapping::default());
    }
    visit(child, &path[1..], create, f);
}

/// Applies `f` to every field named by the specs that match the resource.
///
/// `bookkept`: the object carries kustomize's build annotations ([`super::Resource::bookkept`]),
/// so to kustomize's transformers `metadata/annotations` exists even where `create` is off.
pub fn apply_specs<'s>(
    specs: impl IntoIterator<Item = &'s FieldSpec>,
    id: &ResId,
    node: &mut Node,
    bookkept: bool,
    f: &mut dyn FnMut(&mut Node),
) {
    for spec in specs.into_iter().filter(|s| s.matches(id)) {
        let stand_in = bookkept
            && !spec.create
            && spec.path.len() >= 2
            && spec.path[0] == "metadata"
            && spec.path[1] == "annotations"
            && node.get_path(&["metadata", "annotations"]).is_none();
        if stand_in {
            node.ensure_path(&["metadata", "annotations"]).value = Value::Map(Mapping::default());
        }
        visit(node, &spec.path, spec.create, f);
        if stand_in
            && let Some(meta) = node.get_mut("metadata").and_then(|m| m.as_map_mut())
            && meta
                .get("annotations")
                .is_some_and(|a| a.as_map().is_some_and(crate::yaml::Mapping::is_empty))
        {
            meta.remove("annotations");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::builtin;
    use crate::source::FileId;

    /// build.rs reads the tables with a small line parser; the YAML parser must read the same.
    #[test]
    fn builtin_tables_match_their_yaml() {
        for (table, yaml) in [
            (
                builtin::COMMON_LABELS,
                include_str!("fieldspecs/commonlabels.yaml"),
            ),
            (
                builtin::TEMPLATE_LABELS,
                include_str!("fieldspecs/templatelabels.yaml"),
            ),
            (
                builtin::VOLUME_CLAIM_LABELS,
                include_str!("fieldspecs/volumeclaimlabels.yaml"),
            ),
            (
                builtin::COMMON_ANNOTATIONS,
                include_str!("fieldspecs/commonannotations.yaml"),
            ),
            (builtin::IMAGES, include_str!("fieldspecs/images.yaml")),
            (builtin::REPLICAS, include_str!("fieldspecs/replicas.yaml")),
            (
                builtin::NAMESPACE,
                include_str!("fieldspecs/namespace.yaml"),
            ),
            (
                builtin::VAR_REFERENCE,
                include_str!("fieldspecs/varreference.yaml"),
            ),
        ] {
            assert!(!table.is_empty());
            assert_eq!(parse_table(yaml), table);
        }
    }

    #[test]
    fn walks_lists_and_creates() {
        let mut n = crate::yaml::parse_documents(
            "spec:\n  containers:\n  - image: a\n  - image: b\n",
            FileId(0),
        )
        .unwrap()
        .remove(0);
        let mut seen = vec![];
        visit(
            &mut n,
            &split_path("spec/containers[]/image"),
            false,
            &mut |x| seen.push(x.as_str().unwrap().to_string()),
        );
        assert_eq!(seen, ["a", "b"]);
        visit(&mut n, &split_path("metadata/labels"), true, &mut |x| {
            *x = Node::map();
        });
        assert!(
            n.get_path(&["metadata", "labels"])
                .unwrap()
                .as_map()
                .is_some()
        );
        assert_eq!(
            split_path::<String>("metadata/annotations/a\\/b"),
            ["metadata", "annotations", "a/b"]
        );
    }
}
