//! The controller's edits to an environment's top-level kustomization, made on the parsed
//! kustomization before it is built, so every override takes effect in kustomize's own
//! transformer order and remembers the GitOps object's line.
//!
//! Flux (fluxcd/pkg `kustomize.Generator.GenerateManifest`, in its code order): a kustomization
//! file without `resources:` gets `buildMetadata: [originAnnotations]`; `targetNamespace`,
//! `namePrefix`, `nameSuffix` override (an empty string clears); `patches` and `components`
//! (local and relative only; missing ones skipped with `ignoreMissingComponents`) are appended;
//! `images` merge by exact name, `newName` when set and `newTag`/`digest` as one unit;
//! `buildMetadata` replaces. Argo CD (`kustomize edit` per option, in Argo CD's order): name
//! prefix and suffix override; `images` replace same-name entries wholesale (`*` keeps the
//! file's value) and the list is sorted by name, as are `replicas`; `commonLabels` and
//! `commonAnnotations` refuse a key the file already has unless forced; `namespace` overrides;
//! `patches` are appended; `components` are globs appended when not already listed.

use std::collections::BTreeMap;

use super::{Controller, EnvBuild, LabelMode};
use crate::render::Renderer;
use crate::render::error::{RenderError, RenderErrorKind};
use crate::render::kustomization::{Kustomization, Ref};
use crate::render::scalars::raw_string;
use crate::render::transformers::images::split_image;
use crate::source::{Loc, join_rel};
use crate::yaml::{Entry, Mapping, Node, Value};

/// Edits `k` (the kustomization of `dir`) as the controller does. `existed`: the kustomization
/// is a file of the repository (not generated).
pub(super) fn edit(
    r: &Renderer,
    dir: &str,
    existed: bool,
    k: &mut Kustomization,
    o: &EnvBuild,
) -> Result<(), RenderError> {
    match o.controller {
        Controller::Flux => edit_flux(r, dir, existed, k, o),
        Controller::ArgoCd => edit_argo(r, dir, k, o),
    }
}

fn scalar(n: &Node) -> (String, Loc) {
    (raw_string(n), n.loc)
}

fn edit_flux(
    r: &Renderer,
    dir: &str,
    existed: bool,
    k: &mut Kustomization,
    o: &EnvBuild,
) -> Result<(), RenderError> {
    if existed && k.resources_listed == 0 {
        // Flux's guard against kustomize's "kustomization.yaml is empty" error; it makes the
        // objects carry their origin annotation.
        k.build_metadata = vec!["originAnnotations".into()];
    }
    let nonempty = |n: &Node| Some(scalar(n)).filter(|(s, _)| !s.is_empty());
    if let Some(n) = &o.namespace {
        k.namespace = nonempty(n);
    }
    if let Some(n) = &o.name_prefix {
        k.name_prefix = nonempty(n);
    }
    if let Some(n) = &o.name_suffix {
        k.name_suffix = nonempty(n);
    }
    for p in &o.patches {
        k.patches.push(only_fields(p, &["patch", "target"]));
    }
    for c in &o.components {
        let text = raw_string(c);
        if !local_relative(&text) {
            return Err(RenderError::invalid(
                format!(
                    "component path '{text}' must be local and relative ({} fails)",
                    o.origin
                ),
                c.loc,
            ));
        }
        let exists = join_rel(dir, &text).is_some_and(|p| r.fs().is_dir(&p) || r.fs().is_file(&p));
        if !exists && o.ignore_missing_components {
            continue;
        }
        k.components.push(Ref { text, loc: c.loc });
    }
    for img in &o.images {
        merge_flux_image(&mut k.images, img);
    }
    if !o.build_metadata.is_empty() {
        k.build_metadata = o.build_metadata.iter().map(raw_string).collect();
    }
    Ok(())
}

/// `IsLocalRelativePath` of fluxcd/pkg: no remote prefixes, not absolute.
fn local_relative(p: &str) -> bool {
    let lower = p.to_ascii_lowercase();
    let remote = [
        "git::",
        "gh:",
        "ssh://",
        "https://",
        "http://",
        "git@",
        "github.com:",
        "github.com/",
    ]
    .iter()
    .any(|pre| pre.len() < p.len() && lower.starts_with(pre));
    !remote && !p.starts_with('/') && !lower.trim_start_matches("file://").starts_with('/')
}

/// A copy of a mapping with only the listed fields (a typed struct's round trip).
fn only_fields(n: &Node, fields: &[&str]) -> Node {
    let mut out = n.clone();
    if let Some(m) = out.as_map_mut() {
        m.entries.retain(|e| fields.contains(&e.key.as_str()));
    }
    out
}

fn field_text(n: &Node, key: &str) -> String {
    n.get(key).map(raw_string).unwrap_or_default()
}

fn merge_flux_image(images: &mut Vec<Node>, img: &Node) {
    let name = field_text(img, "name");
    let Some(have) = images.iter_mut().find(|i| field_text(i, "name") == name) else {
        images.push(only_fields(img, &["name", "newName", "newTag", "digest"]));
        return;
    };
    let set = |have: &mut Node, key: &str| match img.get(key).filter(|v| !raw_string(v).is_empty())
    {
        Some(v) => set_field(have, key, v.clone(), img.loc),
        None => {
            if let Some(m) = have.as_map_mut() {
                m.remove(key);
            }
        }
    };
    if !field_text(img, "newName").is_empty() {
        set(have, "newName");
    }
    if !field_text(img, "newTag").is_empty() || !field_text(img, "digest").is_empty() {
        set(have, "newTag");
        set(have, "digest");
    }
}

fn set_field(n: &mut Node, key: &str, value: Node, key_loc: Loc) {
    if let Some(m) = n.as_map_mut() {
        match m.get_mut(key) {
            Some(v) => *v = value,
            None => m.insert_at(key, key_loc, value),
        }
    }
}

fn edit_argo(
    r: &Renderer,
    dir: &str,
    k: &mut Kustomization,
    o: &EnvBuild,
) -> Result<(), RenderError> {
    let nonempty = |n: &Option<Node>| n.as_ref().map(scalar).filter(|(s, _)| !s.is_empty());
    if let Some(p) = nonempty(&o.name_prefix) {
        k.name_prefix = Some(p);
    }
    if let Some(s) = nonempty(&o.name_suffix) {
        k.name_suffix = Some(s);
    }
    if !o.images.is_empty() {
        set_images(k, o)?;
    }
    if !o.replicas.is_empty() {
        set_replicas(k, o)?;
    }
    if !o.labels.is_empty() {
        add_labels(k, o)?;
    }
    if !o.annotations.is_empty() {
        for (key, v) in &o.annotations {
            let value = if o.annotations_envsubst {
                expand(&raw_string(v), &o.env)
            } else {
                raw_string(v)
            };
            put_pair(
                &mut k.common_annotations,
                key,
                value,
                v.loc,
                o.force_annotations,
                "annotation",
            )?;
        }
    }
    if let Some(ns) = nonempty(&o.namespace) {
        k.namespace = Some(ns);
    }
    for p in &o.patches {
        k.patches
            .push(only_fields(p, &["path", "patch", "target", "options"]));
    }
    for c in &o.components {
        let pattern = raw_string(c);
        let exists =
            join_rel(dir, &pattern).is_some_and(|p| r.fs().is_dir(&p) || r.fs().is_file(&p));
        if o.ignore_missing_components && !exists {
            continue;
        }
        let found = glob(r, dir, &pattern);
        if found.is_empty() {
            return Err(RenderError::new(
                RenderErrorKind::Missing,
                format!(
                    "{pattern} has no match ({} fails: kustomize edit add component)",
                    o.origin
                ),
                c.loc,
            ));
        }
        for text in found {
            if !k.components.iter().any(|have| have.text == text) {
                k.components.push(Ref { text, loc: c.loc });
            }
        }
    }
    Ok(())
}

/// `kustomize edit set image`: each argument replaces the same-name entry (a `*` keeps the
/// file's field), other entries stay, and the list is sorted by name.
fn set_images(k: &mut Kustomization, o: &EnvBuild) -> Result<(), RenderError> {
    let mut args: BTreeMap<String, Node> = BTreeMap::new();
    for n in &o.images {
        let arg = expand(&raw_string(n), &o.env);
        let img = parse_image_arg(&arg, n.loc).ok_or_else(|| {
            RenderError::invalid(
                format!(
                    "invalid image '{arg}' ({} fails: kustomize edit set image): use <image>=<newimage>:<newtag>@<digest>, <image>=<newimage>, <image>:<newtag> or <image>@<digest>",
                    o.origin
                ),
                n.loc,
            )
        })?;
        args.insert(field_text(&img, "name"), img);
    }
    // As kustomize's map: an argument keeps its name's place (with the file's values where it
    // says `*`), file entries of other names stay (a later one of the same name wins).
    let mut merged: BTreeMap<String, Node> = BTreeMap::new();
    for have in &k.images {
        let name = field_text(have, "name");
        let node = match args.get_mut(&name) {
            Some(arg) => {
                for f in ["newName", "newTag", "digest"] {
                    if field_text(arg, f) == "*" {
                        match have.get(f) {
                            Some(v) => set_field(arg, f, v.clone(), v.loc),
                            None => drop_field(arg, f),
                        }
                    }
                }
                arg.clone()
            }
            None => have.clone(),
        };
        merged.insert(name, node);
    }
    for (name, arg) in args {
        merged.entry(name).or_insert(arg);
    }
    for n in merged.values_mut() {
        for f in ["newName", "newTag", "digest"] {
            if field_text(n, f) == "*" {
                drop_field(n, f);
            }
        }
    }
    k.images = merged.into_values().collect();
    Ok(())
}

fn drop_field(n: &mut Node, key: &str) {
    if let Some(m) = n.as_map_mut() {
        m.remove(key);
    }
}

/// One `kustomize edit set image` argument as an `images:` entry written at `loc`:
/// `name=newName:tag@digest`, `name=newName`, `name:tag`, `name@digest`.
pub(crate) fn parse_image_arg(arg: &str, loc: Loc) -> Option<Node> {
    let (key, value) = match arg.split_once('=') {
        Some((k, v)) => (Some(k), v),
        None => (None, arg),
    };
    let (name, tag, digest) = split_image(value);
    if name == arg {
        return None;
    }
    let field = |k: &str, v: String| Entry {
        key: k.into(),
        key_loc: loc,
        value: Node::new(Value::Str(v.into()), loc),
    };
    let mut entries = match key {
        Some(k) => {
            let mut e = vec![field("name", k.to_string())];
            if !name.is_empty() {
                e.push(field("newName", name));
            }
            e
        }
        None => vec![field("name", name)],
    };
    if !tag.is_empty() {
        entries.push(field("newTag", tag));
    }
    if !digest.is_empty() {
        entries.push(field("digest", digest));
    }
    Some(Node::new(Value::Map(Mapping { entries }), loc))
}

/// `kustomize edit set replicas`: same-name entries replaced, the list sorted by name.
fn set_replicas(k: &mut Kustomization, o: &EnvBuild) -> Result<(), RenderError> {
    let mut merged: BTreeMap<String, Node> = BTreeMap::new();
    for have in &k.replicas {
        merged.insert(field_text(have, "name"), have.clone());
    }
    for n in &o.replicas {
        let name = field_text(n, "name");
        let count = n.get("count");
        let value = match count.map(|c| &c.value) {
            Some(Value::Int(i)) => Some(*i),
            Some(Value::Str(s)) => s.parse::<i64>().ok(),
            _ => None,
        };
        let Some(value) = value else {
            return Err(RenderError::invalid(
                format!(
                    "expected integer value for count. Received: {} ({} fails)",
                    count.map(raw_string).unwrap_or_default(),
                    o.origin
                ),
                count.map_or(n.loc, |c| c.loc),
            ));
        };
        let mut entry = only_fields(n, &["name", "count"]);
        if let Some(c) = entry.get_mut("count") {
            c.value = Value::Int(value);
        }
        merged.insert(name, entry);
    }
    k.replicas = merged.into_values().collect();
    Ok(())
}

/// `kustomize edit add label`: into `commonLabels`, or (without selector) into the `labels:`
/// entry with the same selector and template settings.
fn add_labels(k: &mut Kustomization, o: &EnvBuild) -> Result<(), RenderError> {
    let at = o.labels.first().map_or(o.at, |(_, v)| v.loc);
    let templates = o.label_templates;
    if templates && o.label_mode != LabelMode::WithoutSelector {
        return Err(RenderError::invalid(
            format!(
                "labelIncludeTemplates needs labelWithoutSelector ({} fails: --without-selector flag must be specified for --include-templates to work)",
                o.origin
            ),
            at,
        ));
    }
    for (key, v) in &o.labels {
        let value = expand(&raw_string(v), &o.env);
        if o.label_mode != LabelMode::WithoutSelector {
            put_pair(
                &mut k.common_labels,
                key,
                value,
                v.loc,
                o.force_labels,
                "label",
            )?;
            continue;
        }
        let flag =
            |l: &Node, f: &str| matches!(l.get(f).map(|b| &b.value), Some(Value::Bool(true)));
        let i =
            if let Some(i) = k.labels.iter().position(|l| {
                !flag(l, "includeSelectors") && flag(l, "includeTemplates") == templates
            }) {
                i
            } else {
                let mut l = Node::new(Value::Map(Mapping::default()), v.loc);
                l.set("pairs", Node::new(Value::Map(Mapping::default()), v.loc));
                l.set("includeSelectors", Node::new(Value::Bool(false), v.loc));
                if templates {
                    l.set("includeTemplates", Node::new(Value::Bool(true), v.loc));
                }
                k.labels.push(l);
                k.labels.len() - 1
            };
        let entry = &mut k.labels[i];
        if entry.get("pairs").is_none_or(|p| p.as_map().is_none()) {
            entry.set("pairs", Node::new(Value::Map(Mapping::default()), v.loc));
        }
        let pairs = entry
            .get_mut("pairs")
            .and_then(Node::as_map_mut)
            .expect("just set");
        if let Some(e) = pairs.get_entry(key)
            && !o.force_labels
        {
            return Err(exists_error("label", key, v.loc, e.key_loc));
        }
        let node = Node::new(Value::Str(value.into()), v.loc);
        match pairs.get_mut(key) {
            Some(have) => *have = node,
            None => pairs.insert_at(key, v.loc, node),
        }
    }
    Ok(())
}

fn put_pair(
    map: &mut Vec<(String, String, Loc)>,
    key: &str,
    value: String,
    loc: Loc,
    force: bool,
    what: &str,
) -> Result<(), RenderError> {
    match map.iter_mut().find(|(k, _, _)| k == key) {
        Some(have) if !force => Err(exists_error(what, key, loc, have.2)),
        Some(have) => {
            *have = (key.to_string(), value, loc);
            Ok(())
        }
        None => {
            map.push((key.to_string(), value, loc));
            Ok(())
        }
    }
}

fn exists_error(what: &str, key: &str, loc: Loc, have: Loc) -> RenderError {
    RenderError::new(
        RenderErrorKind::Conflict,
        format!(
            "{what} {key} already in kustomization file. Use --force to override. (Argo CD's kustomize edit fails; set force{}s: true to override it)",
            if what == "label" {
                "CommonLabel"
            } else {
                "CommonAnnotation"
            }
        ),
        loc,
    )
    .with_related(have, "the kustomization sets it here")
}

/// Go's `os.Expand` as Argo CD's `Env.Envsubst` uses it: `$VAR` and `${VAR}`, `$$` is `$`,
/// unknown names are empty. Variables whose value is not known offline (the revision) stay as
/// written.
pub(crate) fn expand(s: &str, env: &[(String, Option<String>)]) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 >= b.len() {
            let ch = s[i..].chars().next().unwrap_or('$');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let rest = &s[i + 1..];
        let (name, width, braced) = shell_name(rest);
        match name {
            None if width > 0 => {} // invalid syntax: eaten
            None => out.push('$'),
            Some("$") => out.push('$'),
            Some(n) => match env.iter().find(|(k, _)| k == n) {
                Some((_, Some(v))) => out.push_str(v),
                Some((_, None)) => {
                    out.push('$');
                    out.push_str(&rest[..width]);
                }
                None => {}
            },
        }
        let _ = braced;
        i += 1 + width;
    }
    out
}

/// Go's `getShellName`: the name after `$`, how many bytes it takes, whether braced.
fn shell_name(s: &str) -> (Option<&str>, usize, bool) {
    let b = s.as_bytes();
    let special = |c: u8| b"*#$@!?-".contains(&c) || c.is_ascii_digit();
    if b.first() == Some(&b'{') {
        if b.len() > 2 && special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3, true);
        }
        return match s.find('}') {
            Some(1) | None => (None, if b.len() > 1 && b[1] == b'}' { 2 } else { 1 }, true),
            Some(j) => (Some(&s[1..j]), j + 1, true),
        };
    }
    if b.first().is_some_and(|&c| special(c)) {
        return (Some(&s[..1]), 1, false);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if n == 0 {
        (None, 0, false)
    } else {
        (Some(&s[..n]), n, false)
    }
}

/// Go's `filepath.Glob` relative to `dir`: the matches spelled as the pattern spells them,
/// sorted per directory; a pattern without wildcards matches itself when it exists.
fn glob(r: &Renderer, dir: &str, pattern: &str) -> Vec<String> {
    let meta = |s: &str| s.contains(['*', '?', '[', '\\']);
    if !meta(pattern) {
        let exists =
            join_rel(dir, pattern).is_some_and(|p| r.fs().is_dir(&p) || r.fs().is_file(&p));
        return if exists {
            vec![pattern.to_string()]
        } else {
            vec![]
        };
    }
    let mut found: Vec<String> = vec![String::new()];
    for (i, seg) in pattern.split('/').enumerate() {
        let mut next = Vec::new();
        for written in &found {
            let join = |s: &str| {
                if i == 0 {
                    s.to_string()
                } else {
                    format!("{written}/{s}")
                }
            };
            if !meta(seg) {
                next.push(join(seg));
                continue;
            }
            let Some(rel) = join_rel(dir, if written.is_empty() { "." } else { written }) else {
                continue;
            };
            for name in r.fs().list(&rel).unwrap_or_default() {
                if super::envsubst::glob_match(seg, &name) == Some(true) {
                    next.push(join(&name));
                }
            }
        }
        found = next;
    }
    found
        .into_iter()
        .filter(|p| join_rel(dir, p).is_some_and(|p| r.fs().is_dir(&p) || r.fs().is_file(&p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(s: &str) -> Vec<(String, String)> {
        let n = parse_image_arg(s, Loc::NONE).unwrap();
        n.as_map()
            .unwrap()
            .entries
            .iter()
            .map(|e| (e.key.to_string(), raw_string(&e.value)))
            .collect()
    }

    fn kv(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn image_arguments_read_as_kustomize_edit_set_image() {
        assert_eq!(
            img("nginx:1.25"),
            kv(&[("name", "nginx"), ("newTag", "1.25")])
        );
        assert_eq!(
            img("app=reg:5000/team/app:2.0@sha256:abc"),
            kv(&[
                ("name", "app"),
                ("newName", "reg:5000/team/app"),
                ("newTag", "2.0"),
                ("digest", "sha256:abc")
            ])
        );
        assert_eq!(
            img("reg:5000/app@sha256:abc"),
            kv(&[("name", "reg:5000/app"), ("digest", "sha256:abc")])
        );
        // kustomize splits at the first `:` after the first `/`.
        assert_eq!(img("a:b:c"), kv(&[("name", "a"), ("newTag", "b:c")]));
        assert_eq!(
            img("app=other"),
            kv(&[("name", "app"), ("newName", "other")])
        );
        assert!(parse_image_arg("nginx", Loc::NONE).is_none());
    }

    #[test]
    fn argo_environment_expands_like_os_expand() {
        let env = vec![
            ("ARGOCD_APP_NAME".to_string(), Some("web-prd".to_string())),
            ("ARGOCD_APP_REVISION".to_string(), None),
        ];
        assert_eq!(
            expand("app=repo:${ARGOCD_APP_NAME}", &env),
            "app=repo:web-prd"
        );
        assert_eq!(expand("$ARGOCD_APP_NAME-x", &env), "web-prd-x");
        assert_eq!(expand("$UNKNOWN/$$/$", &env), "/$/$");
        assert_eq!(
            expand("repo:${ARGOCD_APP_REVISION}", &env),
            "repo:${ARGOCD_APP_REVISION}"
        );
        assert_eq!(expand("a${}b", &env), "ab");
    }

    #[test]
    fn flux_component_paths_must_be_local() {
        assert!(local_relative("../ingress"));
        assert!(local_relative("components/x"));
        assert!(!local_relative("/abs"));
        assert!(!local_relative("https://github.com/x/y"));
        assert!(!local_relative("file:///abs"));
        assert!(!local_relative("github.com/org/repo"));
    }
}
