//! `configMapGenerator`, `secretGenerator` and the builtin `IAMPolicyGenerator`.
//!
//! A generator entry becomes one ConfigMap/Secret. Sources are read through the renderer (so they
//! are cached, restricted to the kustomization's tree and recorded as files the overlay depends on).
//! Every data value node points at the literal, the env-file line or the file entry it came from, so
//! a finding about a generated key can name the line to edit. Names get their content hash later,
//! at the top-level build, once prefixes and patches are final (see [`super::hash`]).

use base64::Engine;

use super::Renderer;
use super::error::{RenderError, RenderErrorKind};
use super::kustomization::GeneratorArgs;
use super::resource::{Behavior, Resource};
use crate::source::Loc;
use crate::yaml::{Entry, Key, Mapping, Node, Value};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GenKind {
    ConfigMap,
    Secret,
}

pub(crate) struct GenContext<'a> {
    pub(crate) renderer: &'a Renderer,
    pub(crate) dir: &'a str,
    pub(crate) options: &'a Option<Node>,
}

struct Pair {
    key: String,
    value: Vec<u8>,
    loc: Loc,
}

impl GenContext<'_> {
    /// Generates the object for one entry; returns it and the files it read.
    pub(crate) fn generate(
        &self,
        g: &GeneratorArgs,
        kind: GenKind,
    ) -> Result<(Resource, Vec<String>), RenderError> {
        let n = &g.node;
        let name = n
            .get("name")
            .and_then(crate::yaml::Node::scalar_string)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| RenderError::invalid("generator entry needs a 'name'", g.loc))?;
        let mut files = Vec::new();
        let mut pairs = literal_pairs(n)?;
        self.add_file_pairs(n, &mut pairs, &mut files)?;
        self.add_env_pairs(n, &mut pairs, &mut files)?;

        // Build the object.
        let mut meta = Mapping::default();
        meta.insert(
            "name",
            Node::str(name.clone()).at(n.get("name").map_or(g.loc, |x| x.loc)),
        );
        if let Some(ns) = n
            .get("namespace")
            .and_then(crate::yaml::Node::scalar_string)
            .filter(|s| !s.is_empty())
        {
            meta.insert(
                "namespace",
                Node::str(ns).at(n.get("namespace").map_or(g.loc, |x| x.loc)),
            );
        }
        let opts = merged_options(self.options.as_ref(), n.get("options"));
        if !opts.labels.is_empty() {
            meta.insert("labels", string_map_node(&opts.labels));
        }
        if !opts.annotations.is_empty() {
            meta.insert("annotations", string_map_node(&opts.annotations));
        }
        let (data, binary) = data_maps(pairs, kind, &name)?;
        let mut obj = Mapping::default();
        obj.insert("apiVersion", Node::str("v1"));
        obj.insert(
            "kind",
            Node::str(match kind {
                GenKind::ConfigMap => "ConfigMap",
                GenKind::Secret => "Secret",
            }),
        );
        obj.insert("metadata", Node::synth(Value::Map(meta)));
        if kind == GenKind::Secret {
            let t = n
                .get("type")
                .and_then(crate::yaml::Node::scalar_string)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "Opaque".to_string());
            obj.insert("type", Node::str(t));
        }
        // kyaml makes a Secret's `data` whatever it holds (`data: {}` when nothing), a
        // ConfigMap's only when something goes in it.
        if !data.is_empty() || kind == GenKind::Secret {
            obj.insert("data", Node::synth(Value::Map(data)));
        }
        if !binary.is_empty() {
            obj.insert("binaryData", Node::synth(Value::Map(binary)));
        }
        if opts.immutable {
            obj.insert("immutable", Node::synth(Value::Bool(true)));
        }
        let mut r = Resource::new(Node::new(Value::Map(obj), g.loc));
        r.needs_hash = !opts.disable_hash;
        // kustomize annotates generated objects with their generator options.
        r.bookkept = true;
        // kustomize reads any other word (`add`, `Merge`) as unspecified, which creates.
        r.behavior = match n.get("behavior").and_then(|b| b.as_str()) {
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            _ => Behavior::Create,
        };
        Ok((r, files))
    }

    /// `files:` sources: `key=path` or a path whose file name is the key.
    fn add_file_pairs(
        &self,
        n: &Node,
        pairs: &mut Vec<Pair>,
        files: &mut Vec<String>,
    ) -> Result<(), RenderError> {
        for f in seq(n, "files") {
            let s = f.scalar_string().unwrap_or_default();
            let (key, path) = match s.split_once('=') {
                Some((k, p)) if !k.is_empty() => (k.to_string(), p.to_string()),
                Some(_) => {
                    return Err(RenderError::invalid(
                        format!("file source '{s}' has an empty key"),
                        f.loc,
                    ));
                }
                None => (s.rsplit('/').next().unwrap_or(&s).to_string(), s.clone()),
            };
            let rel = self.renderer.restricted_file(self.dir, &path, f.loc)?;
            let bytes = self.read_bytes(&rel, f.loc)?;
            files.push(rel);
            pairs.push(Pair {
                key,
                value: bytes,
                loc: f.loc,
            });
        }
        Ok(())
    }

    /// `envs:` (and the legacy `env:`) files: one `key=value` pair per line.
    fn add_env_pairs(
        &self,
        n: &Node,
        pairs: &mut Vec<Pair>,
        files: &mut Vec<String>,
    ) -> Result<(), RenderError> {
        let mut env_refs = seq(n, "envs");
        if let Some(e) = n.get("env").filter(|e| !e.is_null()) {
            env_refs.push(e.clone());
        }
        for e in env_refs {
            let s = e.scalar_string().unwrap_or_default();
            let rel = self.renderer.restricted_file(self.dir, &s, e.loc)?;
            let text = self.renderer.read_text(&rel, e.loc)?;
            let file_id = self.renderer.file_id(&rel);
            files.push(rel.clone());
            let mut offset = 0usize;
            for (i, raw_line) in text.split('\n').enumerate() {
                let line_start = offset;
                offset += raw_line.len() + 1;
                let mut line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
                if i == 0 {
                    line = line.strip_prefix('\u{feff}').unwrap_or(line);
                }
                let trimmed = line.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                // kustomize takes the key as written: its key validation is a no-op (the API
                // server's data-key rule is `schema-violation`'s to report), and a line with
                // nothing before the `=` counts as blank.
                let (k, v) = trimmed.split_once('=').unwrap_or((trimmed, ""));
                if k.is_empty() {
                    continue;
                }
                let start = line_start + (raw_line.len() - trimmed.len());
                pairs.push(Pair {
                    key: k.to_string(),
                    value: v.as_bytes().to_vec(),
                    loc: Loc::new(file_id, start, line_start + line.len()),
                });
            }
        }
        Ok(())
    }

    fn read_bytes(&self, rel: &str, at: Loc) -> Result<Vec<u8>, RenderError> {
        // Generator files may be binary: read bytes; text files also go through the shared
        // table so findings can show them.
        let bytes = self
            .renderer
            .fs()
            .read_bytes(rel)
            .map_err(|e| self.renderer.fs_error(e, at))?;
        if std::str::from_utf8(&bytes).is_ok() {
            self.renderer.read_text(rel, at)?;
        }
        Ok(bytes)
    }
}

/// `literals:` sources: `key=value`, the value's quotes removed.
fn literal_pairs(n: &Node) -> Result<Vec<Pair>, RenderError> {
    let mut pairs: Vec<Pair> = Vec::new();
    for lit in seq(n, "literals") {
        let s = lit.scalar_string().unwrap_or_default();
        let Some(eq) = s.find('=').filter(|&i| i > 0) else {
            return Err(RenderError::invalid(
                format!("invalid literal source {s}, expected key=value"),
                lit.loc,
            ));
        };
        pairs.push(Pair {
            key: s[..eq].to_string(),
            value: remove_quotes(&s[eq + 1..]).as_bytes().to_vec(),
            loc: lit.loc,
        });
    }
    Ok(pairs)
}

/// The pairs as `data` (text; base64 in a Secret) and `binaryData` (a ConfigMap's non-UTF-8
/// values); a key given twice is refused.
fn data_maps(
    pairs: Vec<Pair>,
    kind: GenKind,
    name: &str,
) -> Result<(Mapping, Mapping), RenderError> {
    let mut data = Mapping::default();
    let mut binary = Mapping::default();
    for p in pairs {
        if data.contains_key(&p.key) || binary.contains_key(&p.key) {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "cannot add key {}, another key by that name already exists in {name}",
                    p.key
                ),
                p.loc,
            ));
        }
        let entry = |v: String| Entry {
            key: Key::from(p.key.as_str()),
            key_loc: p.loc,
            value: Node::str(v).at(p.loc),
        };
        match kind {
            GenKind::Secret => data.entries.push(entry(encode_base64(&p.value))),
            GenKind::ConfigMap => match String::from_utf8(p.value) {
                Ok(s) => data.entries.push(entry(s)),
                Err(e) => binary.entries.push(entry(encode_base64(e.as_bytes()))),
            },
        }
    }
    Ok((data, binary))
}

/// kustomize's builtin `IAMPolicyGenerator` (`generators:` entry with `apiVersion: builtin`): a
/// GKE Workload Identity ServiceAccount annotated with the Google service account it acts as.
///
/// kustomize formats the object as YAML text and parses it back, so a name or project id that is
/// not a plain YAML string (`true`, `0123`, `a: b`) comes out the way that parse makes it; doing
/// the same keeps the output identical. Every node of the result points at the generator config.
pub(crate) fn iam_policy(config: &Node) -> Result<Resource, RenderError> {
    let field = |path: &[&str]| -> Result<String, RenderError> {
        match config.get_path(path) {
            None => Ok(String::new()),
            Some(v) => match &v.value {
                Value::Null => Ok(String::new()),
                Value::Str(s) => Ok(s.to_string()),
                _ => Err(RenderError::invalid(
                    format!("IAMPolicyGenerator: '{}' must be a string", path.join(".")),
                    v.loc,
                )),
            },
        }
    };
    let cloud = field(&["cloud"])?;
    if cloud != "gke" {
        let at = config.get("cloud").map_or(config.loc, |c| c.loc);
        return Err(RenderError::invalid(
            format!("IAMPolicyGenerator: cloud provider '{cloud}' not supported yet (only 'gke')"),
            at,
        ));
    }
    let (ksa, namespace) = (
        field(&["kubernetesService", "name"])?,
        field(&["kubernetesService", "namespace"])?,
    );
    let (gsa, project) = (
        field(&["serviceAccount", "name"])?,
        field(&["serviceAccount", "projectId"])?,
    );
    let mut text = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  annotations:\n    \
         iam.gke.io/gcp-service-account: {gsa}@{project}.iam.gserviceaccount.com\n  name: {ksa}\n"
    );
    if !namespace.is_empty() {
        text.push_str(&format!("  namespace: {namespace}\n"));
    }
    let bad = |why: String| {
        RenderError::invalid(
            format!("IAMPolicyGenerator: the generated ServiceAccount is not valid YAML ({why})"),
            config.loc,
        )
    };
    let mut doc = crate::yaml::parse_documents(&text, crate::source::FileId::NONE)
        .map_err(|e| bad(e.message))?
        .into_iter()
        .find(|d| !d.is_null())
        .ok_or_else(|| bad("empty".into()))?;
    crate::yaml::relocate(&mut doc, config.loc);
    Ok(Resource::new(doc))
}

/// Base64 as kustomize writes generated data: lines of 70 characters, each followed by a newline,
/// once the encoding reaches 70 characters (so it prints as a literal block).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < 70 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / 70 + 1);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn seq(n: &Node, key: &str) -> Vec<Node> {
    n.get(key)
        .and_then(|v| v.as_seq())
        .cloned()
        .unwrap_or_default()
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

#[derive(Default)]
struct Options {
    labels: Vec<(String, Node)>,
    annotations: Vec<(String, Node)>,
    disable_hash: bool,
    immutable: bool,
}

fn merged_options(global: Option<&Node>, local: Option<&Node>) -> Options {
    let mut o = Options::default();
    for src in [global, local].into_iter().flatten() {
        for (field, dst) in [
            ("labels", &mut o.labels),
            ("annotations", &mut o.annotations),
        ] {
            if let Some(m) = src.get(field).and_then(|m| m.as_map()) {
                for e in &m.entries {
                    let v = Node::str(super::scalars::raw_string(&e.value)).at(e.value.loc);
                    if let Some(slot) = dst.iter_mut().find(|(k, _)| *k == e.key) {
                        slot.1 = v;
                    } else {
                        dst.push((e.key.to_string(), v));
                    }
                }
            }
        }
        // A generator's own `false` cannot undo the kustomization's `true` (kustomize's
        // `MergeGlobalOptionsIntoLocal`).
        if let Some(b) = src
            .get("disableNameSuffixHash")
            .and_then(crate::yaml::Node::as_bool)
        {
            o.disable_hash |= b;
        }
        if let Some(b) = src.get("immutable").and_then(crate::yaml::Node::as_bool) {
            o.immutable |= b;
        }
    }
    o
}

fn string_map_node(pairs: &[(String, Node)]) -> Node {
    Node::synth(Value::Map(Mapping {
        entries: pairs
            .iter()
            .map(|(k, v)| Entry {
                key: Key::from(k.as_str()),
                key_loc: v.loc,
                value: v.clone(),
            })
            .collect(),
    }))
}

/// Adds a generated object: `create` must be new; `merge`/`replace` combine with an existing
/// object of the same kind and name from a base.
pub(crate) fn merge_generated(
    list: &mut Vec<Resource>,
    new: Resource,
    at: Loc,
) -> Result<(), RenderError> {
    let id = new.id();
    if new.behavior == Behavior::Create {
        // Duplicates are refused once all resources are in (`check_unique`).
        list.push(new);
        return Ok(());
    }
    let pos = list.iter().position(|r| {
        r.kind() == id.kind
            && r.all_ids().iter().any(|old| old.name == id.name)
            && (id.namespace.is_empty() || r.namespace() == id.namespace)
    });
    match (new.behavior, pos) {
        (Behavior::Create, _) => unreachable!("handled above"),
        (_, None) => Err(RenderError::new(
            RenderErrorKind::Conflict,
            format!(
                "id {} does not exist; cannot merge or replace",
                id.display()
            ),
            at,
        )),
        (behavior, Some(i)) => {
            let old = &mut list[i];
            if behavior == Behavior::Replace {
                old.origin = new.origin.clone();
                for f in ["data", "binaryData"] {
                    match new.node.get(f) {
                        Some(v) => old.node.set(f, v.clone()),
                        None => {
                            old.node.as_map_mut().map(|m| m.remove(f));
                        }
                    }
                }
            } else {
                for f in ["data", "binaryData"] {
                    if let Some(nm) = new.node.get(f).and_then(|v| v.as_map()).cloned() {
                        let dst = old.node.ensure_path(&[f]);
                        for e in nm.entries {
                            dst.set(&e.key, e.value);
                        }
                    }
                }
            }
            for f in ["labels", "annotations"] {
                if let Some(nm) = new
                    .node
                    .get_path(&["metadata", f])
                    .and_then(|v| v.as_map())
                    .cloned()
                {
                    let dst = old.node.ensure_path(&["metadata", f]);
                    for e in nm.entries {
                        dst.set(&e.key, e.value);
                    }
                }
            }
            // kustomize keeps the *new* object (with the old one's name, labels, annotations
            // and, for merge, data underneath): its `type` and `immutable` win, a Secret
            // merged without a `type` becomes Opaque.
            for f in ["type", "immutable"] {
                match new.node.get(f) {
                    Some(v) => old.node.set(f, v.clone()),
                    None => {
                        old.node.as_map_mut().map(|m| m.remove(f));
                    }
                }
            }
            // The merged object keeps the base's naming: a plain ConfigMap stays unhashed.
            if !new.needs_hash {
                old.needs_hash = false;
            }
            Ok(())
        }
    }
}
