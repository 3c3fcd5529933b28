//! Two generated inputs of the crate:
//!
//! - each rule's `///` documentation (the doc comment on the rule's struct in
//!   `src/rules/<rule>.rs`) as constants, so the doc comment is the single source of the text
//!   `kustodian explain`, SARIF and the README show;
//! - the bundled Kubernetes schemas (`schemas/kubernetes/v1.NN.json.gz`) as static tables of
//!   pre-resolved schema nodes (`src/schema/native.rs` validates against them), so a check starts
//!   with nothing to inflate, parse or compile.

use std::fmt::Write;
use std::path::Path;

fn main() {
    rule_docs();
    kubernetes_schemas();
}

fn rule_docs() {
    let dir = Path::new("src/rules");
    println!("cargo:rerun-if-changed=src/rules");
    let mut out = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/rules exists")
        .filter_map(|e| e.ok())
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
        let Some(idx) = lines.iter().position(|l| l.starts_with("pub struct ")) else {
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
            "pub const {}: &str = {:?};",
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

impl<'a> Lowering<'a> {
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
                        .collect()
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
                        .collect()
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
        .filter_map(|e| e.ok())
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
        names.sort();
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
        writeln!(out, "static {id}_NODES: [Schema; {}] = [", l.nodes.len()).unwrap();
        for n in &l.nodes {
            let p = span(props.len(), n.props.len());
            for (k, j) in &n.props {
                props.push(format!("Prop{{name:{},node:{j}}}", text.add(k)));
            }
            let r = span(names.len(), n.required.len());
            names.extend(n.required.iter().map(|x| text.add(x)));
            let e = span(names.len(), n.enumeration.len());
            names.extend(n.enumeration.iter().map(|x| text.add(x)));
            let o = span(indexes.len(), n.one_of.len());
            indexes.extend(n.one_of.iter().map(|j| j.to_string()));
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
        list(&mut out, "PROPS", "Prop", &props);
        list(&mut out, "NAMES", "Span", &names);
        list(&mut out, "INDEXES", "u32", &indexes);
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
        list(&mut out, "KINDS", "KindEntry", &kinds);
        writeln!(out, "static {id}_TEXT: &str = {:?};", text.text).unwrap();
        versions.push(format!(
            "Tables{{version:\"1.{v}\",text:{id}_TEXT,nodes:&{id}_NODES,props:&{id}_PROPS,names:&{id}_NAMES,indexes:&{id}_INDEXES,kinds:&{id}_KINDS}}"
        ));
    }
    assert!(!versions.is_empty(), "no bundled Kubernetes schemas");
    writeln!(
        out,
        "/// Bundled versions, oldest first.\npub static BUNDLED: [Tables; {}] = [{}];",
        versions.len(),
        versions.join(",")
    )
    .unwrap();
    write_out("kubernetes_schemas.rs", &out);
}
