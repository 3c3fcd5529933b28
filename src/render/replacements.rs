//! `replacements:` — copy a field of one object into fields of others.
//!
//! Semantics as kustomize applies them: the source must select exactly one object (current or
//! earlier id), its `fieldPath` (default `metadata.name`) must exist; `options.delimiter/index`
//! pick a part of a scalar. Every target object selected (and not rejected) must have each of the
//! target's field paths — a missing one is an error unless `options.create` — and a scalar target
//! keeps its own type while taking the source's text. Field paths are dotted with list selectors:
//! `spec.template.spec.containers.[name=app].image`, `[=value]` for primitive lists, an index, or
//! `*`. Replaced nodes get `via` = the replacement entry, so findings point at it.

use super::error::RenderError;
use super::pattern::Pattern;
use super::resource::{ResId, Resource};
use super::selector::label_selector_matches;
use crate::source::{Loc, Sources};
use crate::yaml::resolve::resolve_plain;
use crate::yaml::{Mapping, Node, Value};

/// Applies a list of replacement entries (already loaded; `path:` entries inlined) in order.
pub(crate) fn apply(
    resources: &mut [Resource],
    replacements: &[Node],
    sources: &Sources,
) -> Result<(), RenderError> {
    for r in replacements {
        apply_one(resources, r, sources)?;
    }
    Ok(())
}

/// The source spelling of a number or boolean read from a file (`1.10`, `0o17`): kustomize copies
/// the YAML node, so text built from it (a delimited part, a string field, an annotation) is
/// spelled as written, not as the number prints.
fn spelled(n: &Node, sources: &Sources) -> Option<String> {
    if !matches!(n.value, Value::Int(_) | Value::Float(_) | Value::Bool(_)) || n.loc.is_none() {
        return None;
    }
    let file = sources.get(n.loc.file)?;
    let raw = file.text.get(n.loc.start as usize..n.loc.end as usize)?;
    (!raw.is_empty() && !raw.contains(['\n', '"', '\'', ' '])).then(|| raw.to_string())
}

/// Splits a field path as kustomize's `SmarterPathSplitter` does: on dots, `\.` escaping one;
/// a leading dot ignored; a segment opening `[` runs on over dots to the one ending in `]`, and
/// if it holds no `=` it names a map key (`annotations.[cert-manager.io/inject-ca-from]`), its
/// brackets trimmed; with `=` it selects list items (`[name=a.b]`).
pub(crate) fn split_field_path(p: &str) -> Vec<String> {
    let mut ps: Vec<&str> = p.split('.').collect();
    if ps.len() > 1 && ps[0].is_empty() {
        ps.remove(0);
    }
    let mut pieces: Vec<String> = vec![ps[0].to_string()];
    for part in &ps[1..] {
        let last = pieces.last_mut().expect("one piece at least");
        if let Some(kept) = last.strip_suffix('\\') {
            *last = format!("{kept}.{part}");
        } else {
            pieces.push(part.to_string());
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let elem = &pieces[i];
        if elem.starts_with('[') && !elem.ends_with(']') {
            let mut joined = elem.clone();
            while i + 1 < pieces.len() {
                i += 1;
                joined.push('.');
                joined.push_str(&pieces[i]);
                if pieces[i].ends_with(']') {
                    break;
                }
            }
            if joined.contains('=') {
                out.push(joined);
            } else {
                out.push(joined.trim_matches(['[', ']']).to_string());
            }
        } else {
            out.push(elem.clone());
        }
        i += 1;
    }
    out
}

struct Sel {
    group: Option<String>,
    version: Option<String>,
    /// Target selectors match kinds by anchored regex (`Deployment|.*Set`), sources exactly.
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Option<String>,
    annotations: Option<String>,
}

impl Sel {
    fn from(n: &Node, anchored: bool) -> Result<Sel, RenderError> {
        super::check_selectors(n)?;
        let s = |k: &str| {
            n.get(k)
                .and_then(crate::yaml::Node::scalar_string)
                .filter(|s| !s.is_empty())
        };
        let re = |v: String| {
            if !anchored {
                return Ok(Pattern::literal(&v));
            }
            Pattern::anchored(&v)
                .map_err(|e| RenderError::invalid(format!("invalid selector '{v}': {e}"), n.loc))
        };
        Ok(Sel {
            group: s("group"),
            version: s("version"),
            kind: s("kind").map(re).transpose()?,
            name: s("name").map(re).transpose()?,
            namespace: s("namespace").map(re).transpose()?,
            labels: s("labelSelector"),
            annotations: s("annotationSelector"),
        })
    }
    fn id(&self, id: &ResId) -> bool {
        self.group.as_deref().is_none_or(|g| g == id.group)
            && self.version.as_deref().is_none_or(|v| v == id.version)
            && self.kind.as_ref().is_none_or(|r| r.is_match(&id.kind))
            && self.name.as_ref().is_none_or(|r| r.is_match(&id.name))
            && self
                .namespace
                .as_ref()
                .is_none_or(|r| r.is_match(&id.namespace))
    }
    fn has_id_fields(&self) -> bool {
        self.group.is_some()
            || self.version.is_some()
            || self.kind.is_some()
            || self.name.is_some()
            || self.namespace.is_some()
    }
    fn meta(&self, r: &Resource) -> bool {
        self.labels
            .as_deref()
            .is_none_or(|s| label_selector_matches(s, r.node.get_path(&["metadata", "labels"])))
            && self.annotations.as_deref().is_none_or(|s| {
                label_selector_matches(s, r.node.get_path(&["metadata", "annotations"]))
            })
    }
}

fn apply_one(
    resources: &mut [Resource],
    entry: &Node,
    sources: &Sources,
) -> Result<(), RenderError> {
    let at = entry.loc;
    let targets = entry
        .get("targets")
        .and_then(|t| t.as_seq())
        .ok_or_else(|| {
            RenderError::invalid(
                "replacements must specify a source and at least one target",
                at,
            )
        })?;
    let (mut value, live) = replacement_value(resources, entry, sources)?;
    let mut raw = spelled(&value, sources);
    // What each copy of the value adds to a target resource (see `check_growth`).
    let mut size = crate::yaml::measure(&value);
    for t in targets {
        let Some(select) = t.get("select") else {
            return Err(RenderError::invalid(
                "target must specify resources to select",
                t.loc,
            ));
        };
        let sel = Sel::from(select, true)?;
        let rejects = rejects_of(t)?;
        let paths: Vec<String> = match t.get("fieldPaths").and_then(|f| f.as_seq()) {
            Some(fps) => fps
                .iter()
                .filter_map(crate::yaml::Node::scalar_string)
                .collect(),
            None => vec!["metadata.name".to_string()],
        };
        let opts = t.get("options");
        let create = opts
            .and_then(|o| o.get("create"))
            .and_then(crate::yaml::Node::as_bool)
            .unwrap_or(false);
        let delimiter = opts
            .and_then(|o| o.get("delimiter"))
            .and_then(crate::yaml::Node::scalar_string)
            .filter(|d| !d.is_empty());
        let index = opts
            .and_then(|o| o.get("index"))
            .and_then(crate::yaml::Node::as_i64)
            .unwrap_or(0);
        for (ri, r) in resources.iter_mut().enumerate() {
            if !sel.meta(r) {
                continue;
            }
            let ids = r.all_ids();
            if rejected(&rejects, r, &ids) || !ids.iter().any(|id| sel.id(id)) {
                continue;
            }
            for fp in &paths {
                let segs = split_field_path(fp);
                let mut hits = 0;
                // Annotations print as strings, spelled as the source wrote them.
                let as_string = fp.starts_with("metadata.annotations.");
                // The source field's address, when it is in this resource (compared, never
                // dereferenced).
                let mut src_at: Option<*const Node> = None;
                if let Some(l) = live.as_ref().filter(|l| l.resource == ri) {
                    visit_path(&mut r.node, &l.segs, false, &mut |n| {
                        src_at.get_or_insert(n as *const Node);
                    });
                }
                let mut failed: Option<RenderError> = None;
                let mut nodes = if size.0 > 1 {
                    crate::yaml::measure(&r.node).0
                } else {
                    0
                };
                visit_path(&mut r.node, &segs, create, &mut |target| {
                    hits += 1;
                    if failed.is_some() {
                        return;
                    }
                    if size.0 > 1 {
                        if let Err(e) = crate::yaml::check_growth(nodes, size, segs.len()) {
                            failed = Some(RenderError::invalid(e.to_string(), at));
                            return;
                        }
                        nodes += size.0;
                    }
                    let text = raw.clone().or_else(|| value.scalar_string());
                    let how = Set {
                        text,
                        delimiter: delimiter.as_deref(),
                        index,
                        as_string,
                    };
                    if let Err(e) = set_value(target, &value, &how, at) {
                        failed = Some(e);
                        return;
                    }
                    if src_at.is_some_and(|p| std::ptr::eq(p, &raw const *target)) {
                        value = target.clone();
                        size = crate::yaml::measure(&value);
                        raw = None;
                    }
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                if hits == 0 {
                    return Err(field_not_found(fp, r, t, create));
                }
            }
        }
    }
    Ok(())
}

/// A replacement's value: its `source` field's (and, when kustomize hands targets that very
/// node, where it lives) or its literal `sourceValue`.
fn replacement_value(
    resources: &[Resource],
    entry: &Node,
    sources: &Sources,
) -> Result<(Node, Option<Live>), RenderError> {
    let at = entry.loc;
    Ok(
        if let Some(source) = entry.get("source").filter(|s| !s.is_null()) {
            if entry.get("sourceValue").is_some() {
                return Err(RenderError::invalid(
                    "value and resource selectors are mutually exclusive",
                    at,
                ));
            }
            source_value(resources, source, sources)?
        } else if let Some(v) = entry.get("sourceValue") {
            (v.clone(), None)
        } else {
            return Err(RenderError::invalid(
                "replacements must specify a source and at least one target",
                at,
            ));
        },
    )
}

/// A target's `reject:` selectors.
fn rejects_of(t: &Node) -> Result<Vec<Sel>, RenderError> {
    Ok(t.get("reject")
        .and_then(|r| r.as_seq())
        .map(|s| {
            s.iter()
                .map(|r| Sel::from(r, true))
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default())
}

/// Whether a `reject:` selector excludes the resource: by any id it has had when the selector
/// names id fields, else by its labels or annotations.
fn rejected(rejects: &[Sel], r: &Resource, ids: &[ResId]) -> bool {
    rejects.iter().any(|rej| {
        (rej.has_id_fields() && ids.iter().any(|id| rej.id(id)))
            || (!rej.has_id_fields()
                && (rej.labels.is_some() || rej.annotations.is_some())
                && rej.meta(r))
    })
}

/// A target field path that matched nothing in a selected resource.
fn field_not_found(fp: &str, r: &Resource, t: &Node, create: bool) -> RenderError {
    let what = if create { "find or create" } else { "find" };
    RenderError::invalid(
        format!(
            "unable to {what} field \"{fp}\" in replacement target {}",
            r.id().display()
        ),
        t.get("fieldPaths").map_or(t.loc, |f| f.loc),
    )
}

/// Where a replacement's value lives, when kustomize hands the targets the source's own node
/// (a source without a delimiter): a target that *is* that field changes the value for every
/// target after it.
struct Live {
    resource: usize,
    segs: Vec<String>,
}

fn source_value(
    resources: &[Resource],
    source: &Node,
    sources: &Sources,
) -> Result<(Node, Option<Live>), RenderError> {
    let sel = Sel::from(source, false)?;
    let matches: Vec<(usize, &Resource)> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.all_ids().iter().any(|id| sel.id(id)))
        .collect();
    let desc = || {
        ["group", "version", "kind", "name", "namespace"]
            .iter()
            .filter_map(|k| {
                source
                    .get(k)
                    .and_then(crate::yaml::Node::scalar_string)
                    .map(|v| format!("{k}={v}"))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let (src_idx, src) = match matches.as_slice() {
        [one] => *one,
        [] => {
            return Err(RenderError::invalid(
                format!(
                    "replacement source not found: nothing selected by {}",
                    desc()
                ),
                source.loc,
            ));
        }
        _ => {
            return Err(RenderError::invalid(
                format!(
                    "multiple matches for replacement source selector {}",
                    desc()
                ),
                source.loc,
            ));
        }
    };
    let fp = source
        .get("fieldPath")
        .and_then(crate::yaml::Node::scalar_string)
        .unwrap_or_else(|| "metadata.name".to_string());
    let mut found: Option<Node> = None;
    let mut node = src.node.clone();
    let segs = split_field_path(&fp);
    visit_path(&mut node, &segs, false, &mut |n| {
        if found.is_none() {
            found = Some(n.clone());
        }
    });
    let value = found.filter(|n| !n.is_null()).ok_or_else(|| {
        RenderError::invalid(
            format!(
                "fieldPath `{fp}` is missing for replacement source {}",
                src.id().display()
            ),
            source.get("fieldPath").map_or(source.loc, |f| f.loc),
        )
    })?;
    let opts = source.get("options");
    let delimiter = opts
        .and_then(|o| o.get("delimiter"))
        .and_then(crate::yaml::Node::scalar_string);
    match delimiter.filter(|d| !d.is_empty()) {
        None => {
            let live = (!matches!(value.value, Value::Map(_) | Value::Seq(_))).then_some(Live {
                resource: src_idx,
                segs,
            });
            Ok((value, live))
        }
        Some(d) => {
            let text = spelled(&value, sources)
                .or_else(|| value.scalar_string())
                .ok_or_else(|| {
                    RenderError::invalid(
                        "delimiter option can only be used with scalar nodes",
                        source.loc,
                    )
                })?;
            let parts: Vec<&str> = text.split(d.as_str()).collect();
            let i = opts
                .and_then(|o| o.get("index"))
                .and_then(crate::yaml::Node::as_i64)
                .unwrap_or(0);
            let part = usize::try_from(i)
                .ok()
                .and_then(|i| parts.get(i))
                .ok_or_else(|| {
                    RenderError::invalid(
                        format!("options.index {i} is out of bounds for value {text}"),
                        source.loc,
                    )
                })?;
            Ok((
                Node::new(Value::Str((*part).into()), value.loc).with_via(value.via),
                None,
            ))
        }
    }
}

/// How a target is set: the source's text (as spelled), the target's delimiter and index, and
/// whether the target is a string whatever the value's type.
struct Set<'a> {
    text: Option<String>,
    delimiter: Option<&'a str>,
    index: i64,
    as_string: bool,
}

/// Sets one target field. kustomize sets a scalar target's text and keeps its YAML tag, then
/// prints through a decode to Go values: a field created for the replacement has no tag, so its
/// text is typed the way a plain scalar is (`"12"` prints as 12, `""` as null); a typed target
/// keeps its type — and where the text cannot be read as that type (`abc` into a null field,
/// `""` into a number), kustomize fails to print the object, and so does this.
fn set_value(target: &mut Node, value: &Node, how: &Set, via: Loc) -> Result<(), RenderError> {
    let is_scalar = |n: &Node| !matches!(n.value, Value::Map(_) | Value::Seq(_));
    let (delimiter, index) = (how.delimiter, how.index);
    let mut text = how.text.clone();
    if let (Some(d), Some(v)) = (delimiter, text.clone())
        && let Some(cur) = target.scalar_string()
    {
        let mut parts: Vec<String> = cur.split(d).map(str::to_string).collect();
        if index < 0 {
            parts.insert(0, v);
        } else if index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[index as usize] = v;
        }
        text = Some(parts.join(d));
    }
    if is_scalar(target) && is_scalar(value) {
        // The target keeps its type; only the text changes.
        let text = text.unwrap_or_default();
        // Created by `visit_path` for this replacement (a field read from a file has a place).
        let created = target.is_null() && target.loc.is_none();
        let resolved = resolve_plain(&text);
        let fits = match (&target.value, &resolved) {
            (Value::Null, Value::Null) => true,
            (Value::Null, _) => false,
            (Value::Int(_), Value::Int(_)) => true,
            (Value::Float(_), Value::Int(_) | Value::Float(_)) => true,
            (Value::Bool(_), Value::Bool(_)) => true,
            _ => false,
        };
        let new = match &target.value {
            _ if how.as_string => Value::Str(text.into()),
            Value::Str(_) => Value::Str(text.into()),
            _ if created || fits => resolved,
            other => {
                let (what, tag) = match other {
                    Value::Null => ("a null", "null"),
                    Value::Int(_) => ("an integer", "int"),
                    Value::Float(_) => ("a number", "float"),
                    _ => ("a boolean", "bool"),
                };
                return Err(RenderError::invalid(
                    format!(
                        "the replacement writes '{text}' into a field that holds {what}: kustomize keeps the field's type and then cannot print it (cannot decode '{text}' as !!{tag}); give the field a value of the right type in its source, or remove it and let `create: true` add it"
                    ),
                    via,
                )
                .with_related(target.loc, "the field"));
            }
        };
        *target = Node::new(new, target.loc).with_via(via);
    } else {
        let mut v = value.clone();
        v.loc = if target.loc.is_some() {
            target.loc
        } else {
            value.loc
        };
        v.via = via;
        *target = v;
    }
    Ok(())
}

/// Visits the nodes at a replacement field path, creating missing map fields when asked.
pub(crate) fn visit_path(
    node: &mut Node,
    segs: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Node),
) {
    let Some((seg, rest)) = segs.split_first() else {
        f(node);
        return;
    };
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        // kyaml selects list items by `[field=value]` (`[=value]` in a list of scalars); without
        // `=` nothing matches.
        let Some((k, v)) = inner.split_once('=') else {
            return;
        };
        let Value::Seq(items) = &mut node.value else {
            return;
        };
        let mut any = false;
        for it in items.iter_mut() {
            let hit = if k.is_empty() {
                it.scalar_string().as_deref() == Some(v)
            } else {
                it.get(k)
                    .and_then(crate::yaml::Node::scalar_string)
                    .as_deref()
                    == Some(v)
            };
            if hit {
                any = true;
                visit_path(it, rest, create, f);
            }
        }
        if !any && create && !k.is_empty() {
            let mut m = Mapping::default();
            m.insert(k, Node::str(v));
            items.push(Node::synth(Value::Map(m)));
            let last = items.last_mut().expect("just pushed");
            visit_path(last, rest, create, f);
        }
        return;
    }
    match &mut node.value {
        Value::Seq(items) => {
            if seg == "*" {
                for it in items.iter_mut() {
                    visit_path(it, rest, create, f);
                }
            } else if let Ok(i) = seg.parse::<usize>()
                && let Some(it) = items.get_mut(i)
            {
                visit_path(it, rest, create, f);
            }
        }
        Value::Map(m) => {
            if seg == "*" {
                for e in &mut m.entries {
                    visit_path(&mut e.value, rest, create, f);
                }
                return;
            }
            if m.get(seg).is_none() {
                if !create {
                    return;
                }
                let fresh = if rest.is_empty() {
                    Node::synth(Value::Null)
                } else if rest[0].starts_with('[') {
                    Node::seq(vec![])
                } else {
                    Node::map()
                };
                m.insert(seg, fresh);
            }
            let child = m.get_mut(seg).expect("present");
            if child.is_null() && !rest.is_empty() && create {
                *child = Node::map();
            }
            visit_path(child, rest, create, f);
        }
        Value::Null if create => {
            *node = Node::map();
            visit_path(node, segs, create, f);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::parse_documents;

    #[test]
    fn copies_image_into_selected_container_and_errors_on_missing_field() {
        let docs = parse_documents(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: src\ndata:\n  image: nginx:1.2\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: a\n        image: old\n      - name: b\n        image: keep\n",
            FileId(0),
        )
        .unwrap();
        let mut rs: Vec<Resource> = docs.into_iter().map(Resource::new).collect();
        let repl = parse_documents(
            "- source:\n    kind: ConfigMap\n    name: src\n    fieldPath: data.image\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.template.spec.containers.[name=a].image\n",
            FileId(1),
        )
        .unwrap();
        let list = repl[0].as_seq().unwrap().clone();
        apply(&mut rs, &list, &Sources::new()).unwrap();
        let img = &rs[1]
            .node
            .get_path(&["spec", "template", "spec", "containers"])
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(img.str_at(&["image"]), Some("nginx:1.2"));
        assert_eq!(img.get("image").unwrap().via.file, FileId(1));

        let bad = parse_documents(
            "- source:\n    kind: ConfigMap\n    name: src\n    fieldPath: data.image\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - spec.nothing.here\n",
            FileId(1),
        )
        .unwrap();
        let e = apply(&mut rs, bad[0].as_seq().unwrap(), &Sources::new()).unwrap_err();
        assert!(e.message.contains("unable to find field"), "{}", e.message);
    }

    #[test]
    fn scalar_targets_keep_their_type() {
        let mut n = crate::yaml::parse_documents("a: 1\nb: x\n", FileId(0))
            .unwrap()
            .remove(0);
        let v = Node::str("3");
        let how = Set {
            text: Some("3".into()),
            delimiter: None,
            index: 0,
            as_string: false,
        };
        let set = |n: &mut Node, path: &str, create: bool, v: &Node, how: &Set| {
            let mut out = Ok(());
            visit_path(n, &split_field_path(path), create, &mut |t| {
                out = set_value(t, v, how, Loc::NONE);
            });
            out
        };
        set(&mut n, "a", false, &v, &how).unwrap();
        set(&mut n, "b", false, &v, &how).unwrap();
        assert_eq!(n.get("a").unwrap().as_i64(), Some(3));
        assert_eq!(n.get("b").unwrap().as_str(), Some("3"));
        // A field created for the replacement has no type: its text is read as a plain scalar.
        set(&mut n, "c", true, &v, &how).unwrap();
        assert_eq!(n.get("c").unwrap().as_i64(), Some(3));
        // A null read from a file stays null: only an empty text fits it.
        let mut n = crate::yaml::parse_documents("d: ~\ne: 1\n", FileId(0))
            .unwrap()
            .remove(0);
        let e = set(&mut n, "d", false, &v, &how).unwrap_err();
        assert!(e.message.contains("holds a null"), "{}", e.message);
        let empty = Set {
            text: Some(String::new()),
            ..how
        };
        set(&mut n, "d", false, &Node::str(""), &empty).unwrap();
        assert!(n.get("d").unwrap().is_null());
        let e = set(&mut n, "e", false, &Node::str(""), &empty).unwrap_err();
        assert!(e.message.contains("holds an integer"), "{}", e.message);
    }
}
