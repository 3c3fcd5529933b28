//! The two-phase loader every user-written file goes through (repository config, policies).
//!
//! Phase one parses with kustodian's YAML loader, so every value has a line. Phase two
//! deserializes into the typed model. Serde decides first: a document it accepts is one the JSON
//! Schema accepts (every type denies unknown fields, and debug builds check that agreement), so a
//! valid file costs no schema compilation. Only a document serde refuses pays for compiling the
//! schema, which then reports every problem at once, each at its line: unknown keys at the key,
//! wrong types and bad enum values at the value.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::diag::{Finding, Severity};
use crate::source::{Loc, Sources};
use crate::yaml::{Node, Value};

/// The JSON Schema of a type, as committed under `schemas/`.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize")
}

/// Phase one and two: parse with spans, validate against `T`'s schema (all errors, each with its
/// line), then deserialize. Errors come back as fatal findings with rule id `rule`.
pub fn load_validated<T: DeserializeOwned + JsonSchema>(
    path: &str,
    text: &str,
    sources: &Sources,
    rule: &str,
) -> Result<T, Vec<Finding>> {
    load_with_schema(path, text, sources, rule, &schema_of::<T>, &|_: &T| Ok(()))
}

/// [`load_validated`] for a model whose schema is assembled at run time (a policy's `rules:`
/// map, whose entries the rule catalog describes): `schema` builds the full schema, and
/// `accepted` is the typed check serde alone cannot make (rule ids, each rule's options). A
/// document both accept is loaded without compiling the schema.
pub fn load_with_schema<T: DeserializeOwned>(
    path: &str,
    text: &str,
    sources: &Sources,
    rule: &str,
    schema: &dyn Fn() -> serde_json::Value,
    accepted: &dyn Fn(&T) -> Result<(), String>,
) -> Result<T, Vec<Finding>> {
    let id = sources.add(path, text.into());
    let fail = |msg: String, loc: Loc| {
        let mut f = Finding::new(rule, Severity::Error, msg);
        f.loc = loc;
        f.path = Some(path.to_string());
        f.fatal = true;
        f
    };
    let docs = crate::yaml::parse_documents(text, id)
        .map_err(|e| vec![fail(format!("invalid YAML: {}", e.message), e.loc)])?;
    let doc = docs
        .into_iter()
        .find(|d| !d.is_null())
        .unwrap_or_else(|| Node::synth(Value::Map(Default::default())));
    let json = crate::yaml::to_json(&doc);
    let schema_errors = |json: &serde_json::Value| {
        let schema = schema();
        let validator = jsonschema::validator_for(&schema).expect("generated schemas compile");
        validator
            .iter_errors(json)
            .map(|e| (e.instance_path().as_str().to_string(), e.to_string()))
            .collect::<Vec<_>>()
    };
    // The schema is generated from `T`, whose types all deny unknown fields: a document serde
    // accepts is one the schema accepts. Only a document that fails pays for compiling the schema
    // (~2 ms, most of a one-app check) to report every error at its line. Debug builds (every
    // test) check that agreement on each document they load.
    if let Ok(v) = serde_json::from_value::<T>(json.clone())
        && accepted(&v).is_ok()
    {
        debug_assert!(
            schema_errors(&json).is_empty(),
            "{path}: serde accepts what the schema refuses: {:?}",
            schema_errors(&json)
        );
        return Ok(v);
    }
    let mut errors: Vec<Finding> = schema_errors(&json)
        .into_iter()
        .map(|(pointer, msg)| {
            let (loc, key_loc) = locate(&doc, &pointer);
            // For unknown keys, point at the offending key itself.
            let unknown = msg
                .split('\'')
                .nth(1)
                .filter(|_| msg.contains("Additional properties"))
                .map(str::to_string);
            let loc = match &unknown {
                Some(k) => find_key(&doc, &pointer, k).unwrap_or(loc),
                None => key_loc.unwrap_or(loc),
            };
            let at = if pointer.is_empty() {
                "top level".to_string()
            } else {
                pointer.trim_start_matches('/').replace('/', ".")
            };
            let msg = match unknown {
                Some(k) => format!("unknown key '{k}' in {at}"),
                None => format!("{at}: {msg}"),
            };
            fail(msg, loc)
        })
        .collect();
    if !errors.is_empty() {
        errors.sort_by_key(|f| (f.loc.start, f.message.clone()));
        return Err(errors);
    }
    let v: T = serde_json::from_value(json).map_err(|e| vec![fail(e.to_string(), doc.loc)])?;
    // The schema and the typed check should agree; if they do not, the typed check's word
    // stands, at the document.
    accepted(&v).map_err(|msg| vec![fail(msg, doc.loc)])?;
    Ok(v)
}

/// The node at a JSON pointer (its location) and, for map entries, the key's location.
fn locate(doc: &Node, pointer: &str) -> (Loc, Option<Loc>) {
    let mut cur = doc;
    let mut key_loc = None;
    for tok in pointer.split('/').skip(1) {
        let tok = tok.replace("~1", "/").replace("~0", "~");
        match &cur.value {
            Value::Map(m) => match m.get_entry(&tok) {
                Some(e) => {
                    key_loc = Some(e.key_loc);
                    cur = &e.value;
                }
                None => break,
            },
            Value::Seq(items) => match tok.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(n) => {
                    key_loc = None;
                    cur = n;
                }
                None => break,
            },
            _ => break,
        }
    }
    (cur.loc, key_loc.filter(|_| !cur.loc.is_some()))
}

fn find_key(doc: &Node, pointer: &str, key: &str) -> Option<Loc> {
    let mut cur = doc;
    for tok in pointer.split('/').skip(1) {
        cur = match &cur.value {
            Value::Map(m) => m.get(tok)?,
            Value::Seq(items) => items.get(tok.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    cur.as_map()?.get_entry(key).map(|e| e.key_loc)
}

/// The first non-empty document of a file the loader registered, parsed again for the places of
/// its entries (the typed model keeps values, not lines).
pub fn document(sources: &Sources, path: &str) -> Option<Node> {
    let id = sources.lookup(path)?;
    let text = sources.get(id)?.text.clone();
    crate::yaml::parse_documents(&text, id)
        .ok()?
        .into_iter()
        .find(|d| !d.is_null())
}
