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
pub(crate) fn load_validated<T: DeserializeOwned + JsonSchema>(
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
pub(crate) fn load_with_schema<T: DeserializeOwned>(
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
    let (docs, duplicates) = crate::yaml::parse::parse_documents_with_duplicates(text, id)
        .map_err(|e| vec![fail(format!("invalid YAML: {}", e.message), e.loc)])?;
    // The later value would win silently: a setting or an exception written twice is a mistake
    // to point at, not a choice to make for the user.
    if !duplicates.is_empty() {
        return Err(duplicates
            .into_iter()
            .map(|d| {
                let mut f = fail(
                    format!("duplicate key '{}' (the later one would win)", d.key),
                    d.second,
                );
                f.related.push(crate::diag::Related {
                    loc: d.first,
                    message: "first given here".into(),
                });
                f
            })
            .collect());
    }
    let doc = docs
        .into_iter()
        .find(|d| !d.is_null())
        .unwrap_or_else(|| Node::synth(Value::Map(Default::default())));
    let json = crate::yaml::to_json(&doc);
    let schema_errors = |json: &serde_json::Value| {
        let schema = schema();
        let validator = jsonschema::validator_for(&schema).expect("generated schemas compile");
        let mut out = Vec::new();
        for e in validator.iter_errors(json) {
            specific_errors(&e, &mut out);
        }
        out
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

/// The errors to show for one schema error. "Not valid under any of the schemas listed in
/// 'anyOf'" names neither the field nor the value at fault: the alternative that got deepest
/// into the value (an object with a bad field, rather than "not null") says both.
fn specific_errors(e: &jsonschema::ValidationError, out: &mut Vec<(String, String)>) {
    use jsonschema::error::ValidationErrorKind as K;
    let here = e.instance_path().as_str().len();
    if let K::AnyOf { context } | K::OneOfNotValid { context } = e.kind() {
        let depth = |branch: &Vec<jsonschema::ValidationError>| {
            branch
                .iter()
                .map(|x| x.instance_path().as_str().len())
                .max()
                .unwrap_or(0)
        };
        if let Some(best) = context.iter().max_by_key(|b| depth(b))
            && depth(best) > here
        {
            for x in best {
                specific_errors(x, out);
            }
            return;
        }
    }
    out.push((e.instance_path().as_str().to_string(), e.to_string()));
}

/// Where `.kustodian.yaml` holds globs (JSON pointers, `*` for any key or index).
pub(crate) const CONFIG_GLOBS: &[&str] = &[
    "/overlays/*",
    "/ignore/*",
    "/freeze/*/paths/*",
    "/exceptions/*/apps/*",
    "/exceptions/*/resources/*",
    "/rules/*/apps/*",
    "/rules/image-not-pinned/options/allow/*",
    "/rules/bot-write-scope/options/bots/*",
    "/admission-policies/*",
];

/// Where a policy file holds globs.
pub(crate) const POLICY_GLOBS: &[&str] = &[
    "/rules/*/apps/*",
    "/rules/image-not-pinned/options/allow/*",
    "/rules/bot-write-scope/options/bots/*",
];

/// Every string at one of `patterns` (JSON pointers with `*` segments) that is not a valid glob,
/// as a fatal finding at its line: a glob that does not compile would otherwise match nothing,
/// silently.
pub(crate) fn glob_errors(doc: &Node, path: &str, rule: &str, patterns: &[&str]) -> Vec<Finding> {
    fn walk<'a>(n: &'a Node, segs: &[&str], at: String, out: &mut Vec<(String, &'a Node)>) {
        let Some((first, rest)) = segs.split_first() else {
            out.push((at, n));
            return;
        };
        match &n.value {
            Value::Map(m) => {
                for e in &m.entries {
                    if *first == "*" || e.key == *first {
                        walk(&e.value, rest, format!("{at}.{}", e.key), out);
                    }
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if *first == "*" || first.parse() == Ok(i) {
                        walk(item, rest, format!("{at}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for p in patterns {
        let segs: Vec<&str> = p.split('/').skip(1).collect();
        walk(doc, &segs, String::new(), &mut found);
    }
    found
        .into_iter()
        .filter_map(|(at, n)| {
            let g = n.as_str()?;
            let e = globset::GlobBuilder::new(g).build().err()?;
            let mut f = Finding::new(
                rule,
                Severity::Error,
                format!(
                    "{}: invalid glob '{g}': {}",
                    at.trim_start_matches('.'),
                    e.kind()
                ),
            );
            f.loc = n.loc;
            f.path = Some(path.to_string());
            f.fatal = true;
            Some(f)
        })
        .collect()
}

/// The node at a JSON pointer (its location) and, for map entries, the key's location.
pub(crate) fn locate(doc: &Node, pointer: &str) -> (Loc, Option<Loc>) {
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
pub(crate) fn document(sources: &Sources, path: &str) -> Option<Node> {
    let id = sources.lookup(path)?;
    let text = sources.get(id)?.text.clone();
    crate::yaml::parse_documents(&text, id)
        .ok()?
        .into_iter()
        .find(|d| !d.is_null())
}
