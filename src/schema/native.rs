//! Validation against the bundled Kubernetes schemas without a JSON Schema compiler.
//!
//! The bundled schemas use a small, fixed part of JSON Schema: `type` (one type, optionally
//! nullable), `properties`, `additionalProperties` (`false` or a schema), `required`, `items`,
//! string `enum`s, `oneOf` between plain types (int-or-string, quantities) and `$ref` to a
//! definition. `build.rs` lowers every definition into a static table of [`Schema`] nodes with the
//! references already resolved to node indexes (and stops the build on any other keyword), so a
//! check starts with nothing to inflate, parse or compile: compiling a Deployment's validator with
//! `jsonschema` took longer than validating a hundred Deployments, and it sat at the start of
//! every run. The checks below follow JSON Schema 2020-12 as `jsonschema` applies it — each
//! keyword judged on its own, `format` an annotation — and `tests/schema_native.rs` holds them to
//! that: it validates thousands of valid and broken objects both ways and compares every problem.
//! Schemas from CRDs and `schema-dirs` (any JSON Schema) still go through `jsonschema`.

use crate::yaml::{Node, Value};

use super::{Problem, ProblemKind};

/// No node: the keyword is absent.
pub(crate) const NONE: u32 = u32::MAX;
/// `additionalProperties: false`.
pub(crate) const FALSE: u32 = u32::MAX - 1;

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;

/// A part of a version's text or of one of its flat arrays.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// One schema node (see `build.rs`). Lists are spans of the version's flat arrays, strings
/// spans of its text: the tables hold no pointers, so the loader has nothing to relocate in them
/// and they stay read-only pages of the binary until read.
#[derive(Debug)]
pub(crate) struct Schema {
    /// Type bits; `0`: any type.
    pub(crate) types: u8,
    /// Of `props`, sorted by name length, then name.
    pub(crate) props: Span,
    /// Of `names`.
    pub(crate) required: Span,
    /// [`NONE`], [`FALSE`] or the node other properties must match.
    pub(crate) additional: u32,
    /// [`NONE`] or the node every item must match.
    pub(crate) items: u32,
    /// Of `names`: the allowed strings.
    pub(crate) enumeration: Span,
    /// Of `indexes`: the nodes of the alternatives.
    pub(crate) one_of: Span,
}

/// A property: its name (of the text) and its node.
#[derive(Debug)]
pub(crate) struct Prop {
    pub(crate) name: Span,
    pub(crate) node: u32,
}

/// A kind's `(group, version, kind)` (of the text) and root node.
#[derive(Debug)]
pub(crate) struct KindEntry {
    pub(crate) group: Span,
    pub(crate) version: Span,
    pub(crate) kind: Span,
    pub(crate) node: u32,
}

/// One bundled Kubernetes version.
#[derive(Debug)]
pub(crate) struct Tables {
    /// `1.NN`.
    pub(crate) version: &'static str,
    text: &'static str,
    nodes: &'static [Schema],
    props: &'static [Prop],
    names: &'static [Span],
    indexes: &'static [u32],
    /// Sorted by kind (length, then text), group, version.
    kinds: &'static [KindEntry],
}

include!(concat!(env!("OUT_DIR"), "/kubernetes_schemas.rs"));

/// The tables of a bundled version (`1.NN`).
pub(crate) fn tables(version: &str) -> Option<&'static Tables> {
    BUNDLED.iter().find(|t| t.version == version)
}

/// The type bits a value satisfies: an integral float is an integer (as in JSON Schema), a
/// non-finite float is `null` (as the JSON conversion writes it).
fn bits(v: &Value) -> u8 {
    match v {
        Value::Null => NULL,
        Value::Bool(_) => BOOLEAN,
        Value::Int(_) => INTEGER | NUMBER,
        Value::Float(f) if !f.is_finite() => NULL,
        Value::Float(f) if f.fract() == 0.0 => INTEGER | NUMBER,
        Value::Float(_) => NUMBER,
        Value::Str(_) => STRING,
        Value::Seq(_) => ARRAY,
        Value::Map(_) => OBJECT,
    }
}

/// The non-null type names in `types` (the bundle has at most one per node).
fn type_names(types: u8) -> Vec<&'static str> {
    [
        (ARRAY, "array"),
        (BOOLEAN, "boolean"),
        (INTEGER, "integer"),
        (NUMBER, "number"),
        (OBJECT, "object"),
        (STRING, "string"),
    ]
    .iter()
    .filter(|(b, _)| types & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// A key as a JSON pointer token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

impl Tables {
    fn text(&self, s: Span) -> &'static str {
        let text: &'static str = self.text;
        &text[s.range()]
    }

    fn names(&self, s: Span) -> impl Iterator<Item = &'static str> + '_ {
        self.names[s.range()].iter().map(|n| self.text(*n))
    }

    fn props(&self, s: &Schema) -> &'static [Prop] {
        let props: &'static [Prop] = self.props;
        &props[s.props.range()]
    }

    fn one_of(&self, s: &Schema) -> &'static [u32] {
        let indexes: &'static [u32] = self.indexes;
        &indexes[s.one_of.range()]
    }

    /// Every `(group, version, kind)` of the version.
    pub(crate) fn kinds(
        &self,
    ) -> impl Iterator<Item = (&'static str, &'static str, &'static str)> + '_ {
        self.kinds
            .iter()
            .map(|k| (self.text(k.group), self.text(k.version), self.text(k.kind)))
    }

    /// Orders a name of the text against `key` as the tables are sorted: by length, then
    /// bytes — most comparisons end at the length.
    fn order(&self, name: Span, key: &str) -> std::cmp::Ordering {
        (name.len as usize)
            .cmp(&key.len())
            .then_with(|| self.text.as_bytes()[name.range()].cmp(key.as_bytes()))
    }

    /// The root node of a kind, if the version has it.
    pub(crate) fn root(&self, group: &str, version: &str, kind: &str) -> Option<u32> {
        self.kinds
            .binary_search_by(|k| {
                self.order(k.kind, kind)
                    .then_with(|| (self.text(k.group), self.text(k.version)).cmp(&(group, version)))
            })
            .ok()
            .map(|i| self.kinds[i].node)
    }

    fn node(&self, i: u32) -> &'static Schema {
        let nodes: &'static [Schema] = self.nodes;
        &nodes[i as usize]
    }

    /// A property's node.
    fn lookup(&self, s: &Schema, key: &str) -> Option<u32> {
        let props = self.props(s);
        props
            .binary_search_by(|p| self.order(p.name, key))
            .ok()
            .map(|i| props[i].node)
    }

    fn allowed(&self, s: &Schema, value: &str) -> bool {
        self.names(s.enumeration).any(|e| e == value)
    }

    /// Whether `value` matches node `i`; `strict: false` allows unknown fields.
    pub(crate) fn is_valid(&self, i: u32, value: &Node, strict: bool) -> bool {
        let s = self.node(i);
        let v = &value.value;
        if s.types != 0 && s.types & bits(v) == 0 {
            return false;
        }
        if s.enumeration.len != 0 && !matches!(v, Value::Str(x) if self.allowed(s, x)) {
            return false;
        }
        if s.one_of.len != 0
            && self
                .one_of(s)
                .iter()
                .filter(|b| self.is_valid(**b, value, strict))
                .take(2)
                .count()
                != 1
        {
            return false;
        }
        match v {
            Value::Map(m) => {
                for e in &m.entries {
                    let ok = match self.lookup(s, &e.key) {
                        Some(j) => self.is_valid(j, &e.value, strict),
                        None => match s.additional {
                            NONE => true,
                            FALSE => !strict,
                            j => self.is_valid(j, &e.value, strict),
                        },
                    };
                    if !ok {
                        return false;
                    }
                }
                self.names(s.required).all(|r| m.get(r).is_some())
            }
            Value::Seq(items) if s.items != NONE => {
                items.iter().all(|x| self.is_valid(s.items, x, strict))
            }
            _ => true,
        }
    }

    /// Every problem of `value` against node `i`, with JSON pointers below `pointer`.
    pub(crate) fn problems(
        &self,
        i: u32,
        value: &Node,
        strict: bool,
        pointer: &mut String,
        out: &mut Vec<Problem>,
    ) {
        let s = self.node(i);
        let v = &value.value;
        if s.types != 0 && s.types & bits(v) == 0 {
            out.push(Problem {
                pointer: pointer.clone(),
                kind: ProblemKind::Expected(type_names(s.types).join(", ")),
            });
        }
        if s.enumeration.len != 0 && !matches!(v, Value::Str(x) if self.allowed(s, x)) {
            out.push(Problem {
                pointer: pointer.clone(),
                kind: ProblemKind::Enum(
                    self.names(s.enumeration)
                        .map(|o| serde_json::Value::from(o).to_string())
                        .collect(),
                ),
            });
        }
        if s.one_of.len != 0 {
            let branches = self.one_of(s);
            let matching = branches
                .iter()
                .filter(|b| self.is_valid(**b, value, strict))
                .count();
            if matching != 1 {
                out.push(self.one_of_problem(branches, matching, value, pointer));
            }
        }
        match v {
            Value::Map(m) => {
                let mut unknown = Vec::new();
                for e in &m.entries {
                    let sub = match self.lookup(s, &e.key) {
                        Some(j) => j,
                        None => match s.additional {
                            NONE => continue,
                            FALSE => {
                                if strict {
                                    unknown.push(e.key.to_string());
                                }
                                continue;
                            }
                            j => j,
                        },
                    };
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape(&e.key));
                    self.problems(sub, &e.value, strict, pointer, out);
                    pointer.truncate(len);
                }
                for r in self.names(s.required) {
                    if m.get(r).is_none() {
                        out.push(Problem {
                            pointer: pointer.clone(),
                            kind: ProblemKind::Required(r.to_string()),
                        });
                    }
                }
                if !unknown.is_empty() {
                    out.push(Problem {
                        pointer: pointer.clone(),
                        kind: ProblemKind::Unknown {
                            keys: unknown,
                            allowed: self
                                .props(s)
                                .iter()
                                .map(|p| self.text(p.name).to_string())
                                .collect(),
                        },
                    });
                }
            }
            Value::Seq(items) if s.items != NONE => {
                for (k, x) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&k.to_string());
                    self.problems(s.items, x, strict, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// A failed `oneOf`: between plain types (all the bundle has), which types were expected;
    /// otherwise `jsonschema`'s own wording.
    fn one_of_problem(
        &self,
        branches: &[u32],
        matching: usize,
        value: &Node,
        pointer: &str,
    ) -> Problem {
        let plain = branches.iter().all(|b| {
            let s = self.node(*b);
            s.types != 0
                && s.props.len == 0
                && s.required.len == 0
                && s.additional == NONE
                && s.items == NONE
                && s.enumeration.len == 0
                && s.one_of.len == 0
        });
        if matching == 0 && plain {
            let mut types: Vec<&str> = branches
                .iter()
                .flat_map(|b| type_names(self.node(*b).types))
                .collect();
            types.dedup();
            return Problem {
                pointer: pointer.to_string(),
                kind: ProblemKind::Expected(types.join(" or ")),
            };
        }
        let json = crate::yaml::to_json(value);
        Problem {
            pointer: pointer.to_string(),
            kind: ProblemKind::Other(if matching == 0 {
                format!(
                    "{json} is not valid under any of the schemas listed in the 'oneOf' keyword"
                )
            } else {
                format!(
                    "{json} is valid under more than one of the schemas listed in the 'oneOf' keyword"
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_resolve_kinds_and_references() {
        let t = BUNDLED.last().unwrap();
        let deploy = t.root("apps", "v1", "Deployment").expect("Deployment");
        let s = t.node(deploy);
        assert_eq!(s.additional, FALSE);
        assert_eq!(t.names(s.required).collect::<Vec<_>>(), ["spec"]);
        // `spec` is a reference resolved to DeploymentSpec's node, whose `replicas` is an
        // optional integer.
        let spec = t.lookup(s, "spec").unwrap();
        let replicas = t.lookup(t.node(spec), "replicas").unwrap();
        assert_eq!(t.node(replicas).types, INTEGER | NULL);
        assert!(t.root("apps", "v1", "NoSuchKind").is_none());
        assert!(t.root("", "v1", "ConfigMap").is_some());
    }

    #[test]
    fn integral_floats_are_integers_and_non_finite_floats_null() {
        assert_eq!(bits(&Value::Float(2.0)), INTEGER | NUMBER);
        assert_eq!(bits(&Value::Float(2.5)), NUMBER);
        assert_eq!(bits(&Value::Float(f64::NAN)), NULL);
        assert_eq!(type_names(STRING | NULL), ["string"]);
    }
}
