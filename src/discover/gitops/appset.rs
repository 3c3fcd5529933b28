//! ApplicationSet generators, evaluated offline on the repository: `list`, git `directories` (with
//! `exclude`), git `files`, `cluster` (where the selector's `matchLabels` say what the cluster's
//! labels are), and `matrix`/`merge` of those. Each produces parameter sets in the nested shape of
//! Go templates (`path: {path, basename, basenameNormalized, segments}`), which the fasttemplate
//! lookup reads flat (`path.basename`, `path[1]`) as Argo CD's flattened keys.
//!
//! Git generators read this repository only (their `repoURL` must be it); `path.Match` semantics:
//! `*` within one segment, the whole path matched, hidden directories skipped, an `exclude` entry
//! removing matches whatever the order.

use serde_json::{Map, Value, json};

use super::template::{self, normalize};
use super::{Ctx, clean_path};
use crate::source::child_rel;
use crate::yaml::{Node, to_json};

/// The parameter sets of a generator, and the directories its `exclude` entries remove.
#[derive(Debug, Default)]
pub(crate) struct Generated {
    pub(crate) params: Vec<Value>,
    pub(crate) excluded: Vec<String>,
}

/// Why a generator could not be evaluated offline.
pub(crate) type Unsupported = String;

/// Evaluates one generator node (`{list: ...}`, `{git: ...}`, `{matrix: ...}`, ...).
pub(crate) fn generate(ctx: &Ctx, g: &Node, go: bool) -> Result<Generated, Unsupported> {
    let Some(m) = g.as_map() else {
        return Err("a generator must be a mapping".into());
    };
    let Some(e) = m
        .entries
        .iter()
        .find(|e| e.key != "selector" && e.key != "template")
    else {
        return Err("an empty generator".into());
    };
    let body = &e.value;
    let mut out = match e.key.as_str() {
        "list" => list(body),
        "git" => git(ctx, body),
        "clusters" => clusters(body),
        "matrix" => matrix(ctx, body, go),
        "merge" => merge(ctx, body, go),
        other => Err(format!(
            "the '{other}' generator needs a cluster or an API: not evaluated offline"
        )),
    }?;
    if let Some(sel) = m.get("selector") {
        out.params.retain(|p| selector_matches(sel, p));
    }
    Ok(out)
}

fn list(body: &Node) -> Result<Generated, Unsupported> {
    let mut params = Vec::new();
    for el in body
        .get("elements")
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
    {
        params.push(to_json(el));
    }
    if body.get("elementsYaml").is_some() {
        return Err("'elementsYaml' is not evaluated offline".into());
    }
    Ok(Generated {
        params,
        excluded: vec![],
    })
}

/// `path.Match` of a whole path, `*` and `?` within one segment, `[...]` classes.
#[cfg(test)]
pub(crate) fn path_match(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == s.len()
        && p.iter()
            .zip(&s)
            .all(|(p, s)| segment_match(p.as_bytes(), s.as_bytes()))
}

fn segment_match(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| segment_match(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && segment_match(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(end) = p.iter().position(|c| *c == b']') else {
                return false;
            };
            let Some(c) = s.first() else { return false };
            let class = &p[1..end];
            let (neg, class) = match class.first() {
                Some(b'^') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= *c && *c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == *c;
                    i += 1;
                }
            }
            hit != neg && segment_match(&p[end + 1..], &s[1..])
        }
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && segment_match(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && segment_match(&p[1..], &s[1..]),
    }
}

/// The repository's directories matching a pattern, walking only along it.
fn dirs_matching(ctx: &Ctx, pattern: &str) -> Vec<String> {
    let pattern = clean_path(pattern);
    let segs: Vec<&str> = pattern.split('/').collect();
    let mut cur = vec![String::new()];
    for seg in &segs {
        let mut next = Vec::new();
        for d in &cur {
            let glob = seg.contains(['*', '?', '[', '\\']);
            if !glob {
                let p = child_rel(d, seg);
                if !seg.starts_with('.') && ctx.fs.is_dir(&p) {
                    next.push(p);
                }
                continue;
            }
            for n in ctx.fs.subdirs(d).unwrap_or_default() {
                if !n.starts_with('.') && segment_match(seg.as_bytes(), n.as_bytes()) {
                    next.push(child_rel(d, &n));
                }
            }
        }
        cur = next;
    }
    cur.sort();
    cur
}

/// Parameters of a directory (or of a file's directory).
fn path_params(dir: &str, file: Option<&str>) -> Value {
    let segments: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    let basename = segments.last().copied().unwrap_or("");
    let mut p = json!({
        "path": dir,
        "basename": basename,
        "basenameNormalized": normalize(basename),
        "segments": segments,
    });
    if let Some(f) = file {
        p["filename"] = json!(f);
        p["filenameNormalized"] = json!(normalize(f));
    }
    p
}

fn git(ctx: &Ctx, body: &Node) -> Result<Generated, Unsupported> {
    if let Some(url) = body.str_at(&["repoURL"])
        && !ctx.scope.is_here(url)
    {
        return Err(format!(
            "its git generator reads another repository ({url})"
        ));
    }
    let prefix = body.str_at(&["pathParamPrefix"]).unwrap_or("");
    let wrap = |p: Value| {
        let mut root = Map::new();
        if prefix.is_empty() {
            root.insert("path".into(), p);
        } else {
            root.insert(prefix.into(), json!({ "path": p }));
        }
        Value::Object(root)
    };
    let mut out = Generated::default();
    if let Some(items) = body.get("directories").and_then(Node::as_seq) {
        let (mut include, mut exclude) = (Vec::new(), Vec::new());
        for it in items {
            let Some(p) = it.str_at(&["path"]) else {
                continue;
            };
            let excluded = matches!(
                it.get("exclude").map(|e| &e.value),
                Some(crate::yaml::Value::Bool(true))
            );
            if excluded {
                exclude.push(p.to_string());
            } else {
                include.push(p.to_string());
            }
        }
        let removed: Vec<String> = exclude.iter().flat_map(|p| dirs_matching(ctx, p)).collect();
        let mut kept: Vec<String> = include
            .iter()
            .flat_map(|p| dirs_matching(ctx, p))
            .filter(|d| !removed.contains(d))
            .collect();
        kept.sort();
        kept.dedup();
        out.params = kept.iter().map(|d| wrap(path_params(d, None))).collect();
        out.excluded = removed;
        add_values(body, &mut out.params)?;
        return Ok(out);
    }
    if let Some(items) = body.get("files").and_then(Node::as_seq) {
        for it in items {
            let Some(p) = it.str_at(&["path"]) else {
                continue;
            };
            if p.contains("**")
                || p.contains('*') && !p.rsplit('/').next().unwrap_or("").contains('*')
            {
                return Err(format!("git files pattern '{p}' is not evaluated offline"));
            }
            let (dir_pat, file_pat) = match p.rsplit_once('/') {
                Some((d, f)) => (d.to_string(), f.to_string()),
                None => (String::new(), p.to_string()),
            };
            let dirs = if dir_pat.is_empty() {
                vec![String::new()]
            } else {
                dirs_matching(ctx, &dir_pat)
            };
            for d in dirs {
                for name in ctx.fs.list(&d).unwrap_or_default() {
                    let f = child_rel(&d, &name);
                    if !ctx.fs.is_file(&f) || !segment_match(file_pat.as_bytes(), name.as_bytes()) {
                        continue;
                    }
                    let Ok(text) = ctx.fs.read(&f) else { continue };
                    let id = ctx.sources.add(&f, text.clone());
                    let Ok(docs) = crate::yaml::parse_documents(&text, id) else {
                        return Err(format!("{f}: not valid YAML"));
                    };
                    for doc in docs {
                        let objs = match to_json(&doc) {
                            Value::Array(a) => a,
                            v => vec![v],
                        };
                        for mut o in objs {
                            if let Value::Object(m) = &mut o {
                                m.insert("path".into(), path_params(&d, Some(&name)));
                                out.params.push(o);
                            }
                        }
                    }
                }
            }
        }
        add_values(body, &mut out.params)?;
        return Ok(out);
    }
    Err("a git generator without directories or files".into())
}

/// `values: {k: template}`: each rendered with the set's own parameters.
fn add_values(body: &Node, params: &mut [Value]) -> Result<(), Unsupported> {
    let Some(vals) = body.get("values").and_then(Node::as_map) else {
        return Ok(());
    };
    for p in params {
        let mut v = Map::new();
        for e in &vals.entries {
            let t = e.value.scalar_string().unwrap_or_default();
            let r = template::render(&t, p, false, false).map_err(|e| e.0)?;
            v.insert(e.key.to_string(), Value::String(r));
        }
        p["values"] = Value::Object(v);
    }
    Ok(())
}

/// The cluster generator: what its selector's `matchLabels` say of the clusters it selects.
fn clusters(body: &Node) -> Result<Generated, Unsupported> {
    let labels = body
        .get_path(&["selector", "matchLabels"])
        .map_or_else(|| json!({}), to_json);
    if labels.as_object().is_none_or(serde_json::Map::is_empty) {
        return Err("the clusters generator selects clusters by what is registered in Argo CD: not evaluated offline".into());
    }
    let mut p = json!({"metadata": {"labels": labels, "annotations": {}}});
    if let Some(v) = body.get("values") {
        p["values"] = to_json(v);
    }
    Ok(Generated {
        params: vec![p],
        excluded: vec![],
    })
}

/// Renders every string of a node with `params` (a child generator inside a matrix).
pub(crate) fn interpolate(n: &Node, params: &Value, go: bool) -> Result<Node, Unsupported> {
    use crate::yaml::Value as Y;
    let value = match &n.value {
        Y::Str(s) if s.contains("{{") => Y::Str(
            template::render(s, params, go, false)
                .map_err(|e| e.0)?
                .into(),
        ),
        Y::Seq(items) => Y::Seq(
            items
                .iter()
                .map(|i| interpolate(i, params, go))
                .collect::<Result<_, _>>()?,
        ),
        Y::Map(m) => {
            let mut out = m.clone();
            for e in &mut out.entries {
                e.value = interpolate(&e.value, params, go)?;
            }
            Y::Map(out)
        }
        v => v.clone(),
    };
    Ok(Node::new(value, n.loc).with_via(n.via))
}

fn children(body: &Node) -> Vec<&Node> {
    body.get("generators")
        .and_then(Node::as_seq)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn matrix(ctx: &Ctx, body: &Node, go: bool) -> Result<Generated, Unsupported> {
    let gens = children(body);
    if gens.len() != 2 {
        return Err("a matrix generator needs exactly two generators".into());
    }
    let first = generate(ctx, gens[0], go)?;
    let mut out = Generated {
        params: vec![],
        excluded: first.excluded,
    };
    for a in &first.params {
        let second = generate(ctx, &interpolate(gens[1], a, go)?, go)?;
        out.excluded.extend(second.excluded);
        for b in second.params {
            out.params.push(merge_values(a.clone(), b));
        }
    }
    Ok(out)
}

/// `a` deep-merged with `b`, `a` winning (the first generator's parameters win).
fn merge_values(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut am), Value::Object(bm)) => {
            for (k, bv) in bm {
                let merged = match am.remove(&k) {
                    Some(av) => merge_values(av, bv),
                    None => bv,
                };
                am.insert(k, merged);
            }
            Value::Object(am)
        }
        (a, _) => a,
    }
}

fn merge(ctx: &Ctx, body: &Node, go: bool) -> Result<Generated, Unsupported> {
    let keys: Vec<String> = body
        .get("mergeKeys")
        .and_then(Node::as_seq)
        .map(|s| s.iter().filter_map(Node::scalar_string).collect())
        .unwrap_or_default();
    let gens = children(body);
    if gens.len() < 2 || keys.is_empty() {
        return Err("a merge generator needs two generators and mergeKeys".into());
    }
    let mut base = generate(ctx, gens[0], go)?;
    let key_of = |p: &Value| -> Vec<Option<String>> {
        keys.iter()
            .map(|k| template::render(&format!("{{{{{k}}}}}"), p, false, false).ok())
            .collect()
    };
    for g in &gens[1..] {
        let more = generate(ctx, g, go)?;
        base.excluded.extend(more.excluded);
        for m in more.params {
            let k = key_of(&m);
            for b in base.params.iter_mut().filter(|b| key_of(b) == k) {
                *b = merge_values(m.clone(), b.clone());
            }
        }
    }
    Ok(base)
}

/// A generator's `selector` (matchLabels on the flattened parameters).
fn selector_matches(sel: &Node, params: &Value) -> bool {
    let Some(m) = sel.get("matchLabels").and_then(Node::as_map) else {
        return true;
    };
    m.entries.iter().all(|e| {
        let got = template::render(&format!("{{{{{}}}}}", e.key), params, false, false).ok();
        got.as_deref() == e.value.scalar_string().as_deref()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_match_is_per_segment() {
        assert!(path_match("apps/*", "apps/a"));
        assert!(!path_match("apps/*", "apps/a/b"));
        assert!(!path_match("apps/*", "apps"));
        assert!(path_match("deploy/*/[ps]r?", "deploy/x/prd"));
        assert!(!path_match("deploy/*/[^p]rd", "deploy/x/prd"));
    }

    #[test]
    fn merged_parameters_keep_the_first_generators_values() {
        let a = json!({"path": {"basename": "prd"}, "env": "a"});
        let b = json!({"path": {"basename": "x", "extra": 1}, "env": "b", "region": "eu"});
        let m = merge_values(a, b);
        assert_eq!(
            m,
            json!({"path": {"basename": "prd", "extra": 1}, "env": "a", "region": "eu"})
        );
    }
}
