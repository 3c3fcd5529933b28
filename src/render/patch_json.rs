//! JSON 6902 patches (`op: add | remove | replace | move | copy | test`).
//!
//! Semantics follow what kustomize applies (RFC 6902 as implemented by evanphx/json-patch v4):
//! `add` needs an existing parent, `-` appends, `remove`/`replace` need an existing target, `test`
//! compares structurally. Operations work directly on the node tree so provenance survives: a value
//! added or replaced keeps the location of its text in the patch file and `via` points at the
//! operation; a removal is recorded as an [`Edit`] on the resource, so a rule can name the patch line
//! that removed something.

use super::error::RenderError;
use super::resource::{Edit, EditKind, Resource};
use crate::source::{FileId, Loc};
use crate::yaml::{Node, Value, set_via_deep};

/// Parses JSON or YAML patch text into a list node.
pub(crate) fn parse_ops(text: &str, file: FileId) -> Result<Node, RenderError> {
    let mut docs = crate::yaml::parse_documents(text, file)
        .map_err(|e| RenderError::invalid(format!("invalid JSON patch: {}", e.message), e.loc))?;
    docs.retain(|d| !d.is_null());
    match docs.len() {
        0 => Ok(Node::seq(vec![])),
        1 => {
            let mut ops = docs.remove(0);
            read_as_yaml11(&mut ops, text);
            Ok(ops)
        }
        _ => Err(RenderError::invalid(
            "a JSON 6902 patch must be one list of operations",
            docs[1].loc,
        )),
    }
}

/// Reads a JSON patch's plain scalars the way kustomize does: it converts the patch YAML to JSON
/// with go-yaml v2, whose YAML 1.1 reads `y`, `yes`, `on`, `n`, `no`, `off` (any of their usual
/// capitalisations) as booleans, in values and in mapping keys (where they become `"true"` and
/// `"false"`, a later key winning). `text` is the text `ops` was parsed from: only scalars written
/// plain there (the text at their span is the value itself) are affected, never quoted ones.
pub(crate) fn read_as_yaml11(ops: &mut Node, text: &str) {
    use super::kusttypes::{plain_at as plain, yaml11_bool_word as bool_word};
    match &mut ops.value {
        Value::Str(s) => {
            if let Some(b) = bool_word(s).filter(|_| plain(text, ops.loc, s)) {
                ops.value = Value::Bool(b);
            } else if let Some(raw) = crate::yaml::resolve::timestamp_spelling(ops, text) {
                // go-yaml v2 leaves a timestamp a string when converting to JSON.
                ops.value = Value::Str(raw.into());
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| read_as_yaml11(i, text)),
        Value::Map(m) => {
            let mut renamed = false;
            for e in &mut m.entries {
                read_as_yaml11(&mut e.value, text);
                if let Some(b) = bool_word(&e.key).filter(|_| plain(text, e.key_loc, &e.key)) {
                    e.key = if b { "true" } else { "false" }.into();
                    renamed = true;
                }
            }
            if renamed {
                // Keys that now coincide: the last one wins, at the first one's place.
                let mut i = 0;
                while i < m.entries.len() {
                    if let Some(j) =
                        (i + 1..m.entries.len()).rfind(|&j| m.entries[j].key == m.entries[i].key)
                    {
                        let last = m.entries.remove(j);
                        m.entries.retain(|e| e.key != last.key);
                        m.entries.insert(i.min(m.entries.len()), last);
                    }
                    i += 1;
                }
            }
        }
        _ => {}
    }
}

/// Whether the pointer's parent exists and is a mapping (its last token then names a key).
fn in_map(root: &Node, toks: &[String]) -> bool {
    toks.split_last()
        .and_then(|(_, parent)| get(root, parent))
        .is_some_and(|p| p.as_map().is_some())
}

/// Applies a list of RFC 6902 operations to a resource.
///
/// On an object carrying kustomize's build annotations ([`Resource::bookkept`]; a `patches:`
/// JSON patch stores the previous id first, the legacy `patchesJson6902` does not),
/// `metadata.annotations` exists for the patch (`add /metadata/annotations/x` works on an object
/// that has none); an empty map stands in for them here and is dropped again if unused.
pub(crate) fn apply(target: &mut Resource, ops: &Node) -> Result<(), RenderError> {
    let bookkept = target.bookkept;
    let stand_in = match target.node.get_mut("metadata").and_then(|m| m.as_map_mut()) {
        Some(m) if bookkept && !m.contains_key("annotations") => {
            m.insert("annotations", Node::map());
            true
        }
        _ => false,
    };
    let result = apply_ops(target, ops);
    target.nulls_spelled = true;
    // Annotations print as strings: kustomize converts the patched object back from JSON and
    // reads annotations as `map[string]string`, so a number a patch put there prints in its JSON
    // spelling (`1e3` as "1000").
    if let Some(Value::Map(m)) = target
        .node
        .get_path_mut(&["metadata", "annotations"])
        .map(|a| &mut a.value)
    {
        for e in &mut m.entries {
            if matches!(
                e.value.value,
                Value::Int(_) | Value::Float(_) | Value::Bool(_)
            ) {
                e.value.value = Value::Str(super::scalars::raw_string(&e.value).into());
            }
        }
    }
    if stand_in
        && let Some(m) = target.node.get_mut("metadata").and_then(|m| m.as_map_mut())
        && m.get("annotations")
            .is_some_and(|a| a.as_map().is_some_and(crate::yaml::Mapping::is_empty))
    {
        m.remove("annotations");
    }
    result
}

fn apply_ops(target: &mut Resource, ops: &Node) -> Result<(), RenderError> {
    let Some(list) = ops.as_seq() else {
        if ops.is_null() {
            return Ok(());
        }
        return Err(RenderError::invalid(
            "a JSON 6902 patch must be a list of operations",
            ops.loc,
        ));
    };
    // The resource's size, kept up to date (an upper bound) as operations add to it.
    let mut nodes = crate::yaml::measure(&target.node).0;
    for op in list {
        apply_one(target, op, &mut nodes)?;
    }
    Ok(())
}

fn field<'a>(op: &'a Node, name: &str) -> Option<&'a str> {
    op.get(name).and_then(|n| n.as_str())
}

/// Splits a JSON pointer into unescaped tokens.
fn tokens(pointer: &str, at: Loc) -> Result<Vec<String>, RenderError> {
    if pointer.is_empty() {
        return Ok(vec![]);
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(RenderError::invalid(
            format!("JSON pointer '{pointer}' must start with '/'"),
            at,
        ));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// Dotted display path for edits (`spec.containers[0].resources`).
fn dotted(tokens: &[String], root: &Node) -> String {
    let mut out = String::new();
    let mut cur = Some(root);
    for t in tokens {
        if let Some(Value::Seq(items)) = cur.map(|c| &c.value) {
            cur = t.parse::<usize>().ok().and_then(|i| items.get(i));
            // Items with a name are addressed by it, as strategic-merge edits are.
            match cur
                .and_then(|c| c.get("name"))
                .and_then(crate::yaml::Node::scalar_string)
            {
                Some(name) => out.push_str(&format!("[name={name}]")),
                None => out.push_str(&format!("[{t}]")),
            }
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(t);
            cur = cur.and_then(|c| c.get(t));
        }
    }
    out
}

fn missing(op: &str, pointer: &str, at: Loc) -> RenderError {
    RenderError::invalid(
        format!("{op} operation does not apply: doc is missing path: \"{pointer}\""),
        at,
    )
}

fn get<'a>(root: &'a Node, toks: &[String]) -> Option<&'a Node> {
    let mut cur = root;
    for t in toks {
        cur = match &cur.value {
            Value::Map(m) => m.get(t)?,
            Value::Seq(items) => items.get(index(t, items.len(), false)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn get_mut<'a>(root: &'a mut Node, toks: &[String]) -> Option<&'a mut Node> {
    let mut cur = root;
    for t in toks {
        cur = match &mut cur.value {
            Value::Map(m) => m.get_mut(t)?,
            Value::Seq(items) => {
                let len = items.len();
                items.get_mut(index(t, len, false)?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Array index of a token (negative indexes count from the end, as json-patch v4 allows).
fn index(t: &str, len: usize, allow_end: bool) -> Option<usize> {
    if t == "-" {
        return allow_end.then_some(len);
    }
    let i: i64 = t.parse().ok()?;
    let i = if i < 0 { len as i64 + i } else { i };
    let max = if allow_end {
        len as i64
    } else {
        len as i64 - 1
    };
    (0..=max).contains(&i).then_some(i as usize)
}

/// A value that replaces the whole document: kustomize (json-patch) takes an object or a list
/// only.
fn whole_document(value: &Node, at: Loc) -> Result<(), RenderError> {
    if matches!(value.value, Value::Map(_) | Value::Seq(_)) {
        return Ok(());
    }
    Err(RenderError::invalid(
        "replace operation value must be object or array (kustomize refuses to replace the \
         whole object with a scalar)",
        at,
    ))
}

fn add(
    root: &mut Node,
    toks: &[String],
    value: Node,
    pointer: &str,
    at: Loc,
) -> Result<(), RenderError> {
    let Some((last, parent_toks)) = toks.split_last() else {
        whole_document(&value, at)?;
        *root = value;
        return Ok(());
    };
    let parent = get_mut(root, parent_toks).ok_or_else(|| missing("add", pointer, at))?;
    match &mut parent.value {
        Value::Map(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Seq(items) => {
            let i = index(last, items.len(), true).ok_or_else(|| {
                RenderError::invalid(
                    format!("add operation does not apply: index out of bounds in \"{pointer}\""),
                    at,
                )
            })?;
            items.insert(i, value);
            Ok(())
        }
        _ => Err(missing("add", pointer, at)),
    }
}

fn remove(root: &mut Node, toks: &[String], pointer: &str, at: Loc) -> Result<Node, RenderError> {
    let Some((last, parent_toks)) = toks.split_last() else {
        return Err(RenderError::invalid("cannot remove the whole document", at));
    };
    let parent = get_mut(root, parent_toks).ok_or_else(|| missing("remove", pointer, at))?;
    match &mut parent.value {
        Value::Map(m) => m.remove(last).ok_or_else(|| missing("remove", pointer, at)),
        Value::Seq(items) => {
            let i =
                index(last, items.len(), false).ok_or_else(|| missing("remove", pointer, at))?;
            Ok(items.remove(i))
        }
        _ => Err(missing("remove", pointer, at)),
    }
}

/// `value` may be added at `toks` in a resource of `nodes` nodes (which it then counts).
fn grow(nodes: &mut usize, toks: &[String], value: &Node, at: Loc) -> Result<(), RenderError> {
    let added = crate::yaml::measure(value);
    crate::yaml::check_growth(*nodes, added, toks.len())
        .map_err(|e| RenderError::invalid(e.to_string(), at))?;
    *nodes += added.0;
    Ok(())
}

fn apply_one(target: &mut Resource, op: &Node, nodes: &mut usize) -> Result<(), RenderError> {
    let at = op.loc;
    let kind =
        field(op, "op").ok_or_else(|| RenderError::invalid("patch operation needs 'op'", at))?;
    let pointer = field(op, "path")
        .ok_or_else(|| RenderError::invalid(format!("'{kind}' operation needs 'path'"), at))?;
    let path_loc = op.get("path").map_or(at, |p| p.loc);
    let toks = tokens(pointer, path_loc)?;
    let value = || -> Result<Node, RenderError> {
        let mut v = op
            .get("value")
            .cloned()
            .ok_or_else(|| RenderError::invalid(format!("'{kind}' operation needs 'value'"), at))?;
        set_via_deep(&mut v, at);
        Ok(v)
    };
    let display = dotted(&toks, &target.node);
    match kind {
        "add" => {
            let v = value()?;
            grow(nodes, &toks, &v, at)?;
            add(&mut target.node, &toks, v, pointer, path_loc)?;
        }
        "remove" => {
            remove(&mut target.node, &toks, pointer, path_loc)?;
            target.edits.push(Edit {
                path: display,
                by: at,
                kind: EditKind::Removed,
            });
        }
        "replace" => {
            let v = value()?;
            grow(nodes, &toks, &v, at)?;
            if toks.is_empty() {
                whole_document(&v, path_loc)?;
            }
            // json-patch v4 (kustomize's) reads a missing object key as null and sets it.
            let settable = get(&target.node, &toks).is_none() && in_map(&target.node, &toks);
            if settable {
                add(&mut target.node, &toks, v, pointer, path_loc)?;
            } else {
                match get_mut(&mut target.node, &toks) {
                    Some(slot) => *slot = v,
                    None => {
                        return Err(RenderError::invalid(
                            format!(
                                "replace operation does not apply: doc is missing key: \"{pointer}\""
                            ),
                            path_loc,
                        ));
                    }
                }
            }
            target.edits.push(Edit {
                path: display,
                by: at,
                kind: EditKind::Replaced,
            });
        }
        "move" | "copy" => {
            let from = field(op, "from").ok_or_else(|| {
                RenderError::invalid(format!("'{kind}' operation needs 'from'"), at)
            })?;
            let from_toks = tokens(from, op.get("from").map_or(at, |f| f.loc))?;
            let mut v = if kind == "move" {
                let from_display = dotted(&from_toks, &target.node);
                let v = remove(&mut target.node, &from_toks, from, at)?;
                target.edits.push(Edit {
                    path: from_display,
                    by: at,
                    kind: EditKind::Removed,
                });
                // Moved, not copied: only where it lands can make the resource deeper.
                grow(nodes, &toks, &v, at)?;
                v
            } else {
                match get(&target.node, &from_toks) {
                    // Measured before it is copied: the copy is what would exhaust memory.
                    Some(v) => {
                        grow(nodes, &toks, v, at)?;
                        v.clone()
                    }
                    // A missing object key copies as null (json-patch v4).
                    None if in_map(&target.node, &from_toks) => Node::synth(Value::Null),
                    None => return Err(missing("copy", from, at)),
                }
            };
            set_via_deep(&mut v, at);
            add(&mut target.node, &toks, v, pointer, path_loc)?;
        }
        "test" => {
            let want = op.get("value").cloned().unwrap_or(Node::synth(Value::Null));
            let got = get(&target.node, &toks);
            // A missing object key tests equal to null (json-patch v4).
            let null_ok = got.is_none() && want.is_null() && in_map(&target.node, &toks);
            if got != Some(&want) && !null_ok {
                return Err(RenderError::invalid(
                    format!("testing value {pointer} failed"),
                    at,
                ));
            }
        }
        other => {
            return Err(RenderError::invalid(
                format!("unknown JSON patch operation '{other}'"),
                op.get("op").map_or(at, |o| o.loc),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_documents, to_json};

    fn res(src: &str) -> Resource {
        Resource::new(parse_documents(src, FileId(0)).unwrap().remove(0))
    }

    #[test]
    fn operations() {
        let mut r = res("spec:\n  a: 1\n  list: [x, y]\n");
        let ops = parse_ops(
            r#"[{"op":"add","path":"/spec/b","value":{"c":2}},{"op":"replace","path":"/spec/a","value":3},
               {"op":"add","path":"/spec/list/-","value":"z"},{"op":"remove","path":"/spec/list/0"},
               {"op":"copy","from":"/spec/a","path":"/spec/d"},{"op":"move","from":"/spec/d","path":"/spec/e"},
               {"op":"test","path":"/spec/e","value":3}]"#,
            FileId(1),
        )
        .unwrap();
        apply(&mut r, &ops).unwrap();
        assert_eq!(
            to_json(&r.node),
            serde_json::json!({"spec": {"a": 3, "list": ["y", "z"], "b": {"c": 2}, "e": 3}})
        );
        assert_eq!(r.edits[0].path, "spec.a");
        assert_eq!(r.edits[1].path, "spec.list[0]");
        assert_eq!(r.edits[1].kind, EditKind::Removed);
        // Values come from the patch file and point at their operation.
        assert_eq!(r.node.get_path(&["spec", "b"]).unwrap().loc.file, FileId(1));
        assert_eq!(r.node.get_path(&["spec", "a"]).unwrap().via.file, FileId(1));
        // Named list items are addressed by name in edits.
        let mut r = res("spec:\n  containers:\n  - name: app\n    resources: {limits: {cpu: 1}}\n");
        apply(
            &mut r,
            &parse_ops(
                "- op: remove\n  path: /spec/containers/0/resources/limits\n",
                FileId(1),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.edits[0].path,
            "spec.containers[name=app].resources.limits"
        );
    }

    #[test]
    fn missing_object_keys_read_as_null_like_json_patch_v4() {
        let ops = "- op: replace\n  path: /spec/b\n  value: 2\n\
                   - op: copy\n  from: /spec/none\n  path: /spec/c\n\
                   - op: test\n  path: /spec/none\n  value: null\n\
                   - op: add\n  path: /metadata/annotations/k\n  value: on\n";
        // Without kustomize's build annotations there is no annotations map to add to...
        let mut r = res("metadata: {name: x}\nspec: {a: 1}\n");
        let e = apply(&mut r, &parse_ops(ops, FileId(1)).unwrap()).unwrap_err();
        assert!(
            e.message.contains("/metadata/annotations/k"),
            "{}",
            e.message
        );
        // ...with them (the object was renamed, namespaced, generated or patched) there is.
        let mut r = res("metadata: {name: x}\nspec: {a: 1}\n");
        r.bookkept = true;
        apply(&mut r, &parse_ops(ops, FileId(1)).unwrap()).unwrap();
        assert_eq!(
            to_json(&r.node),
            serde_json::json!({"metadata": {"name": "x", "annotations": {"k": "true"}},
                               "spec": {"a": 1, "b": 2, "c": null}})
        );
        // A test of a missing key against a value still fails; annotations added for nothing go.
        let mut r = res("metadata: {name: x}\nspec: {}\n");
        r.bookkept = true;
        let ops = "- op: test\n  path: /spec/none\n  value: 1\n";
        assert!(apply(&mut r, &parse_ops(ops, FileId(1)).unwrap()).is_err());
        assert!(r.node.get_path(&["metadata", "annotations"]).is_none());
    }

    #[test]
    fn errors_name_the_path() {
        let mut r = res("spec: {}\n");
        let e = apply(
            &mut r,
            &parse_ops("- op: replace\n  path: /nope/x\n  value: 1\n", FileId(1)).unwrap(),
        )
        .unwrap_err();
        assert!(e.message.contains("missing key"), "{}", e.message);
        let e = apply(
            &mut r,
            &parse_ops("- op: replace\n  path: /spec/l/0\n  value: 1\n", FileId(1)).unwrap(),
        )
        .unwrap_err();
        assert!(e.message.contains("missing key"), "{}", e.message);
        let e = apply(
            &mut r,
            &parse_ops("- op: add\n  path: /nope/x\n  value: 1\n", FileId(1)).unwrap(),
        )
        .unwrap_err();
        assert!(e.message.contains("missing path"), "{}", e.message);
        let e = apply(
            &mut r,
            &parse_ops("- op: remove\n  path: /spec/x\n", FileId(1)).unwrap(),
        )
        .unwrap_err();
        assert!(e.message.contains("missing path"), "{}", e.message);
    }
}
