//! Two generated inputs of the crate:
//!
//! - each rule's `///` documentation (the doc comment on the rule's struct in
//!   `src/rules/<rule>.rs`) as constants, so the doc comment is the single source of the text
//!   `kustodian explain`, SARIF and the README show;
//! - the bundled Kubernetes schemas (`schemas/kubernetes/v1.NN.json.gz`) as static tables of
//!   pre-resolved schema nodes (`src/schema/native.rs` validates against them), so a check starts
//!   with nothing to inflate, parse or compile;
//! - the bundled schemas of the GitOps ecosystem's custom resources (`schemas/gitops/*.json.gz`,
//!   JSON Schema converted from the projects' CRDs by `scripts/update-crd-schemas`) as one blob of
//!   per-kind deflate streams and a sorted index (`src/schema/gitops.rs` inflates a kind's
//!   schema only when a repository uses the kind);
//! - kustomize's default field-spec and name-reference tables (`src/render/fieldspecs/*.yaml`) as
//!   static `FieldSpec`/`BackRef` arrays, for the same reason (parsing them took ~0.4 ms of every
//!   run). The YAML stays the source: a unit test parses it with the real YAML parser and compares.

#![warn(clippy::too_many_lines)]

use std::fmt::Write;
use std::path::Path;

/// Field-spec path splitting, shared with the crate (`src/render/path_syntax.rs`).
#[path = "src/render/path_syntax.rs"]
mod path_syntax;
use path_syntax::split_path;

fn main() {
    rule_docs();
    kubernetes_schemas();
    gitops_schemas();
    field_specs();
}

/// One `{path: …, group: …, version: …, kind: …, create: …}` flow mapping of a field-spec table.
///
/// The tables use a small, fixed subset of YAML (one flow mapping per line; plain or quoted
/// scalars); anything outside it stops the build rather than being read differently from the
/// YAML parser (the unit test `builtin_tables_match_their_yaml` holds the two to each other).
fn flow_map(text: &str, file: &str, line: usize) -> FlowMap {
    let fail = |why: &str| -> ! { panic!("{file}:{line}: {why}: {text}") };
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| fail("expected a one-line flow mapping"));
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once(':')
            .unwrap_or_else(|| fail("expected `key: value`"));
        let after = after.trim_start();
        let (value, after) = if let Some(q) = after.strip_prefix('\'') {
            // Single-quoted: `''` is a quote, nothing else is special.
            let mut v = String::new();
            let mut chars = q.char_indices().peekable();
            let end = loop {
                match chars.next() {
                    Some((_, '\'')) if chars.peek().map(|c| c.1) == Some('\'') => {
                        chars.next();
                        v.push('\'');
                    }
                    Some((i, '\'')) => break i + 1,
                    Some((_, c)) => v.push(c),
                    None => fail("unterminated single-quoted scalar"),
                }
            };
            (v, &q[end..])
        } else if let Some(q) = after.strip_prefix('"') {
            // Double-quoted: escapes would be decoded by YAML (`\/` becomes `/`), which is a
            // trap for paths with escaped slashes; they are written single-quoted instead.
            let end = q
                .find('"')
                .unwrap_or_else(|| fail("unterminated double-quoted scalar"));
            if q[..end].contains('\\') {
                fail("escape in a double-quoted scalar (write it single-quoted)");
            }
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = after.find([',', '}']).unwrap_or(after.len());
            (after[..end].trim_end().to_string(), &after[end..])
        };
        out.push((key.trim().to_string(), value));
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if after.is_empty() => after,
            None => fail("expected `,` or `}` after a value"),
        };
    }
    FlowMap(out)
}

/// The keys and values of one flow mapping, in order.
struct FlowMap(Vec<(String, String)>);

impl FlowMap {
    /// The value of `key`, or "" when absent.
    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Stops the build on a key outside `allowed` (a typo would otherwise be ignored).
    fn only(&self, allowed: &[&str], file: &str, line: usize) {
        if let Some((k, _)) = self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            panic!(
                "{file}:{line}: unexpected key `{k}` (allowed: {})",
                allowed.join(", ")
            );
        }
    }
}

/// Rust for one field spec: `spec(group, version, kind, P<n>, create)`, its path one of the
/// shared `P<n>` statics (a temporary array inside a static's initializer would not live long
/// enough; many specs share a path).
fn spec_expr(e: &FlowMap, paths: &mut Vec<Vec<String>>, file: &str, line: usize) -> String {
    e.only(&["path", "group", "version", "kind", "create"], file, line);
    let create = match e.get("create") {
        "" | "false" => false,
        "true" => true,
        other => panic!("{file}:{line}: create: {other} is not true/false"),
    };
    let path: Vec<String> = split_path(e.get("path"));
    if path.is_empty() {
        panic!("{file}:{line}: field spec without a path");
    }
    let n = paths.iter().position(|p| *p == path).unwrap_or_else(|| {
        paths.push(path);
        paths.len() - 1
    });
    format!(
        "spec({:?}, {:?}, {:?}, &P{n}, {create})",
        e.get("group"),
        e.get("version"),
        e.get("kind"),
    )
}

/// The default field-spec tables (a list of specs per file) and the name-reference table (a list
/// of `{referral: {…}, fields: [specs]}`), as Rust statics.
fn field_specs() {
    let dir = Path::new("src/render/fieldspecs");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut out = String::from(
        "// Generated by build.rs from src/render/fieldspecs/*.yaml.\n\
         use compact_str::CompactString;\n\
         use super::fieldspec::{FieldSpec, spec};\n\
         const fn c(s: &'static str) -> CompactString { CompactString::const_new(s) }\n",
    );
    let mut paths: Vec<Vec<String>> = Vec::new();
    for (name, file) in [
        ("COMMON_LABELS", "commonlabels.yaml"),
        ("TEMPLATE_LABELS", "templatelabels.yaml"),
        ("VOLUME_CLAIM_LABELS", "volumeclaimlabels.yaml"),
        ("COMMON_ANNOTATIONS", "commonannotations.yaml"),
        ("IMAGES", "images.yaml"),
        ("REPLICAS", "replicas.yaml"),
        ("NAMESPACE", "namespace.yaml"),
        ("VAR_REFERENCE", "varreference.yaml"),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).expect("field-spec table");
        let shown = path.display().to_string();
        writeln!(out, "pub(crate) static {name}: &[FieldSpec] = &[").unwrap();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let item = l
                .strip_prefix("- ")
                .unwrap_or_else(|| panic!("{shown}:{}: expected `- {{…}}`", i + 1));
            let e = flow_map(item, &shown, i + 1);
            writeln!(out, "    {},", spec_expr(&e, &mut paths, &shown, i + 1)).unwrap();
        }
        out.push_str("];\n");
    }
    // Name references: `- referral: {kind, group?, version?}` then `  fields:` then `  - {spec}`.
    // Each referral's fields become a static `R<n>` (see `spec_expr` on temporaries).
    let path = dir.join("namereference.yaml");
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).expect("name-reference table");
    let mut referrals: Vec<(String, Vec<String>)> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(r) = l.strip_prefix("- referral: ") {
            let e = flow_map(r, &shown, n);
            e.only(&["kind", "group", "version"], &shown, n);
            if e.get("kind").is_empty() {
                panic!("{shown}:{n}: a referral needs a kind");
            }
            let head = format!(
                "{:?}, {:?}, {:?}",
                e.get("group"),
                e.get("version"),
                e.get("kind")
            );
            referrals.push((head, Vec::new()));
        } else if l == "  fields:" {
            if referrals.is_empty() {
                panic!("{shown}:{n}: `fields:` outside a referral");
            }
        } else if let Some(item) = l.strip_prefix("  - ") {
            let e = flow_map(item, &shown, n);
            let spec = spec_expr(&e, &mut paths, &shown, n);
            match referrals.last_mut() {
                Some((_, fields)) => fields.push(spec),
                None => panic!("{shown}:{n}: field spec outside a referral"),
            }
        } else {
            panic!("{shown}:{n}: unexpected line in the name-reference table");
        }
    }
    out.push_str("pub(crate) static NAME_REFERENCE: &[super::nameref::BackRef] = &[\n");
    for (i, (head, _)) in referrals.iter().enumerate() {
        writeln!(out, "    super::nameref::BackRef::builtin({head}, &R{i}),").unwrap();
    }
    out.push_str("];\n");
    for (i, (_, fields)) in referrals.iter().enumerate() {
        writeln!(
            out,
            "static R{i}: [FieldSpec; {}] = [{}];",
            fields.len(),
            fields.join(", ")
        )
        .unwrap();
    }
    for (n, p) in paths.iter().enumerate() {
        let segs: Vec<String> = p.iter().map(|s| format!("c({s:?})")).collect();
        writeln!(
            out,
            "static P{n}: [CompactString; {}] = [{}];",
            p.len(),
            segs.join(", ")
        )
        .unwrap();
    }
    write_out("fieldspecs.rs", &out);
}

fn rule_docs() {
    let dir = Path::new("src/rules");
    println!("cargo:rerun-if-changed=src/rules");
    let mut out = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/rules exists")
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if stem == "mod" || stem == "pods" {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let lines: Vec<&str> = text.lines().collect();
        let Some(idx) = lines
            .iter()
            .position(|l| l.starts_with("pub struct ") || l.starts_with("pub(crate) struct "))
        else {
            continue;
        };
        let mut doc: Vec<String> = Vec::new();
        let mut i = idx;
        while i > 0 {
            i -= 1;
            let l = lines[i].trim_start();
            if let Some(rest) = l.strip_prefix("///") {
                doc.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
            } else if l.starts_with("#[") {
                continue;
            } else {
                break;
            }
        }
        doc.reverse();
        writeln!(
            out,
            "pub(crate) const {}: &str = {:?};",
            stem.to_uppercase(),
            doc.join("\n")
        )
        .unwrap();
    }
    write_out("rule_docs.rs", &out);
}

/// Writes a generated file into `OUT_DIR` (where `include!` finds it).
fn write_out(name: &str, text: &str) {
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join(name);
    std::fs::write(dest, text).unwrap();
}

/// Sentinel node indexes, as `src/schema/native.rs` reads them.
const NONE: u32 = u32::MAX;
const FALSE: u32 = u32::MAX - 1;

/// Type bits, as `src/schema/native.rs` reads them.
fn type_bit(name: &str) -> u8 {
    match name {
        "null" => 1,
        "boolean" => 2,
        "integer" => 4,
        "number" => 8,
        "string" => 16,
        "array" => 32,
        "object" => 64,
        other => panic!("unsupported JSON Schema type {other:?}"),
    }
}

/// One schema node as generated Rust (fields of `native::Schema`).
#[derive(Default, Clone)]
struct Lowered {
    types: u8,
    props: Vec<(String, u32)>,
    required: Vec<String>,
    additional: u32,
    items: u32,
    enumeration: Vec<String>,
    one_of: Vec<u32>,
}

/// Lowers one bundled version's `$defs` into a flat node table: every definition gets the node
/// of its own name's rank, inline subschemas are appended, and a `{"$ref": ...}` is replaced by
/// the index of the definition it names (the bundle never puts keywords beside `$ref`). A keyword
/// the validator does not implement stops the build, so a newer bundle cannot be validated
/// half-way without anyone noticing.
struct Lowering<'a> {
    defs: &'a serde_json::Map<String, serde_json::Value>,
    index: std::collections::BTreeMap<&'a str, u32>,
    nodes: Vec<Lowered>,
}

impl Lowering<'_> {
    fn reference(&self, r: &str) -> u32 {
        let name = r
            .strip_prefix("#/$defs/")
            .unwrap_or_else(|| panic!("unsupported $ref {r:?}"));
        *self
            .index
            .get(name)
            .unwrap_or_else(|| panic!("$ref to a missing definition {name:?}"))
    }

    /// The node index of a subschema (a new node unless it is a bare reference).
    fn sub(&mut self, v: &serde_json::Value) -> u32 {
        if let Some(r) = v.get("$ref").and_then(|r| r.as_str()) {
            let others = v
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "$ref" && !k.starts_with("x-kubernetes-"))
                .count();
            assert_eq!(others, 0, "keywords beside $ref are not supported: {v}");
            return self.reference(r);
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Lowered::default());
        self.fill(i, v);
        i
    }

    fn fill(&mut self, i: u32, v: &serde_json::Value) {
        let mut n = Lowered {
            additional: NONE,
            items: NONE,
            ..Lowered::default()
        };
        let obj = match v {
            serde_json::Value::Bool(true) => {
                self.nodes[i as usize] = n;
                return;
            }
            serde_json::Value::Object(o) => o,
            other => panic!("unsupported schema {other}"),
        };
        for (k, x) in obj {
            match k.as_str() {
                "type" => {
                    let names: Vec<&str> = match x {
                        serde_json::Value::String(s) => vec![s.as_str()],
                        serde_json::Value::Array(a) => {
                            a.iter().map(|t| t.as_str().unwrap()).collect()
                        }
                        other => panic!("unsupported type {other}"),
                    };
                    // Messages name the one non-null type (see native.rs).
                    assert!(
                        names.iter().filter(|t| **t != "null").count() <= 1,
                        "more than one non-null type: {x}"
                    );
                    n.types = names.iter().map(|t| type_bit(t)).fold(0, |a, b| a | b);
                }
                "properties" => {
                    for (name, p) in x.as_object().unwrap() {
                        let j = self.sub(p);
                        n.props.push((name.clone(), j));
                    }
                    // By length, then bytes: a lookup compares lengths and reads the text of
                    // only the names as long as the key (see native.rs).
                    n.props
                        .sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
                }
                "additionalProperties" => {
                    n.additional = match x {
                        serde_json::Value::Bool(false) => FALSE,
                        serde_json::Value::Bool(true) => NONE,
                        s => self.sub(s),
                    }
                }
                "required" => {
                    n.required = x
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_string())
                        .collect();
                }
                "items" => {
                    assert!(x.is_object(), "tuple items are not supported: {x}");
                    n.items = self.sub(x);
                }
                "enum" => {
                    n.enumeration = x
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| {
                            e.as_str()
                                .unwrap_or_else(|| panic!("non-string enum value {e}"))
                                .to_string()
                        })
                        .collect();
                }
                "oneOf" => n.one_of = x.as_array().unwrap().iter().map(|b| self.sub(b)).collect(),
                // An annotation in JSON Schema 2020-12 (jsonschema does not assert it by default
                // either): int32/int64/byte/double/date-time are not checked.
                "format" => {}
                "$ref" => panic!("$ref beside other keywords is not supported: {v}"),
                k if k.starts_with("x-kubernetes-") || k == "description" => {}
                k => panic!("unsupported JSON Schema keyword {k:?} in the bundled schemas"),
            }
        }
        self.nodes[i as usize] = n;
    }
}

/// `Span{start,len}` as generated Rust.
fn span(start: usize, len: usize) -> String {
    format!("Span{{start:{start},len:{len}}}")
}

/// One text holding every string of a version's tables, each stored once.
#[derive(Default)]
struct Text {
    text: String,
    seen: std::collections::HashMap<String, String>,
}

impl Text {
    fn add(&mut self, s: &str) -> String {
        if let Some(sp) = self.seen.get(s) {
            return sp.clone();
        }
        let sp = span(self.text.len(), s.len());
        self.text.push_str(s);
        self.seen.insert(s.to_string(), sp.clone());
        sp
    }
}

fn kubernetes_schemas() {
    use std::io::Read;
    let dir = Path::new("schemas/kubernetes");
    println!("cargo:rerun-if-changed=schemas/kubernetes");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("schemas/kubernetes exists")
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    // Oldest first by minor version (v1.9 before v1.10).
    let minor = |p: &Path| -> u32 {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        name.trim_start_matches("v1.")
            .trim_end_matches(".json.gz")
            .parse()
            .unwrap_or_else(|_| panic!("schema file {name} is not named v1.NN.json.gz"))
    };
    files.sort_by_key(|p| minor(p));
    let mut out = String::from("// @generated by build.rs from schemas/kubernetes/*.json.gz\n");
    let mut versions = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let defs = doc["$defs"].as_object().expect("$defs");
        let mut names: Vec<&str> = defs.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut l = Lowering {
            defs,
            index: names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .collect(),
            nodes: vec![Lowered::default(); names.len()],
        };
        let mut kinds = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let def = &l.defs[*name];
            assert!(
                def.get("$ref").is_none(),
                "definition {name} is a bare $ref"
            );
            l.fill(i as u32, def);
            for g in def
                .get("x-kubernetes-group-version-kind")
                .and_then(|g| g.as_array())
                .into_iter()
                .flatten()
            {
                let s = |k: &str| g.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                kinds.push((s("group"), s("version"), s("kind"), i as u32));
            }
        }
        // By kind (length, then bytes), group, version: the kind tells most apart cheaply.
        kinds.sort_by(|a, b| (a.2.len(), &a.2, &a.0, &a.1).cmp(&(b.2.len(), &b.2, &b.0, &b.1)));
        kinds.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
        let v = format!("{}", minor(path));
        let id = format!("V1_{v}");
        write_version_tables(&mut out, &id, &l.nodes, &kinds);
        versions.push(format!(
            "Tables{{version:\"1.{v}\",text:{id}_TEXT,nodes:&{id}_NODES,props:&{id}_PROPS,names:&{id}_NAMES,indexes:&{id}_INDEXES,kinds:&{id}_KINDS}}"
        ));
    }
    assert!(!versions.is_empty(), "no bundled Kubernetes schemas");
    writeln!(
        out,
        "/// Bundled versions, oldest first.\npub(crate) static BUNDLED: [Tables; {}] = [{}];",
        versions.len(),
        versions.join(",")
    )
    .unwrap();
    write_out("kubernetes_schemas.rs", &out);
}

/// One Kubernetes version's schema tables as Rust statics named `{id}_*`.
fn write_version_tables(
    out: &mut String,
    id: &str,
    nodes: &[Lowered],
    kinds: &[(String, String, String, u32)],
) {
    // No pointers in the tables (strings are spans of one text, lists spans of flat
    // arrays): pointers in statics are relocations the loader writes at every start, on
    // pages it must copy first.
    let mut text = Text::default();
    let mut props = Vec::new();
    let mut names = Vec::new();
    let mut indexes = Vec::new();
    let idx = |i: u32| match i {
        NONE => "NONE".to_string(),
        FALSE => "FALSE".to_string(),
        i => i.to_string(),
    };
    writeln!(out, "static {id}_NODES: [Schema; {}] = [", nodes.len()).unwrap();
    for n in nodes {
        let p = span(props.len(), n.props.len());
        for (k, j) in &n.props {
            props.push(format!("Prop{{name:{},node:{j}}}", text.add(k)));
        }
        let r = span(names.len(), n.required.len());
        names.extend(n.required.iter().map(|x| text.add(x)));
        let e = span(names.len(), n.enumeration.len());
        names.extend(n.enumeration.iter().map(|x| text.add(x)));
        let o = span(indexes.len(), n.one_of.len());
        indexes.extend(n.one_of.iter().map(std::string::ToString::to_string));
        writeln!(
            out,
            "Schema{{types:{},props:{p},required:{r},additional:{},items:{},enumeration:{e},one_of:{o}}},",
            n.types,
            idx(n.additional),
            idx(n.items),
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
    let list = |out: &mut String, name: &str, ty: &str, items: &[String]| {
        writeln!(
            out,
            "static {id}_{name}: [{ty}; {}] = [{}];",
            items.len(),
            items.join(",")
        )
        .unwrap();
    };
    list(out, "PROPS", "Prop", &props);
    list(out, "NAMES", "Span", &names);
    list(out, "INDEXES", "u32", &indexes);
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(g, ver, k, i)| {
            format!(
                "KindEntry{{group:{},version:{},kind:{},node:{i}}}",
                text.add(g),
                text.add(ver),
                text.add(k)
            )
        })
        .collect();
    list(out, "KINDS", "KindEntry", &kinds);
    writeln!(out, "static {id}_TEXT: &str = {:?};", text.text).unwrap();
}

/// The bundled GitOps schemas: every kind's schema compressed on its own (a check that meets one
/// Flux kind inflates a few kilobytes, not every project's schemas), in one blob, with an index
/// sorted by kind, group and version.
fn gitops_schemas() {
    use std::io::{Read, Write};
    let dir = Path::new("schemas/gitops");
    println!("cargo:rerun-if-changed=schemas/gitops");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("schemas/gitops exists")
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    let mut blob = Vec::new();
    // (kind, group, version, project, source, start, len)
    let mut index: Vec<(String, String, String, String, String, usize, usize)> = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let project = doc["project"].as_str().expect("project").to_string();
        for k in doc["kinds"].as_array().expect("kinds") {
            let s = |key: &str| {
                k[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: a kind without {key}", path.display()))
                    .to_string()
            };
            let api = s("apiVersion");
            let (group, version) = api.split_once('/').expect("group/version");
            let json = serde_json::to_string(&k["schema"]).unwrap();
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(json.as_bytes()).unwrap();
            let z = z.finish().unwrap();
            index.push((
                s("kind"),
                group.to_string(),
                version.to_string(),
                project.clone(),
                s("source"),
                blob.len(),
                z.len(),
            ));
            blob.extend(z);
        }
    }
    index.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    for w in index.windows(2) {
        assert!(
            (&w[0].0, &w[0].1, &w[0].2) != (&w[1].0, &w[1].1, &w[1].2),
            "{}/{} {} bundled twice",
            w[0].1,
            w[0].2,
            w[0].0
        );
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("gitops_schemas.bin");
    std::fs::write(&dest, &blob).unwrap();
    let mut out = String::from("// @generated by build.rs from schemas/gitops/*.json.gz\n");
    writeln!(
        out,
        "static DATA: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/gitops_schemas.bin\"));"
    )
    .unwrap();
    writeln!(
        out,
        "/// Sorted by kind, group, version.\npub static KINDS: [Bundled; {}] = [",
        index.len()
    )
    .unwrap();
    for (kind, group, version, project, source, start, len) in &index {
        writeln!(
            out,
            "Bundled{{kind:{kind:?},group:{group:?},version:{version:?},project:{project:?},source:{source:?},start:{start},len:{len}}},"
        )
        .unwrap();
    }
    out.push_str("];\n");
    write_out("gitops_schemas.rs", &out);
}
