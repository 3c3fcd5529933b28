//! Rendered nodes as JSON Schema instances, validated in place.
//!
//! `jsonschema` validates any JSON representation that implements its accessor traits. Handing
//! it kustodian's own [`Node`] tree saves building a `serde_json::Value` copy of every rendered
//! object before validating it — allocating every key into a hashed map and every string again
//! was a third of validation. The accessors answer exactly what [`crate::yaml::to_json`] would
//! produce (the conversion the error messages and the cold paths still use): a non-finite float
//! is `null`, integers stay integers, mapping keys keep their order.

use std::borrow::Cow;
use std::ops::ControlFlow;

use jsonschema::json::{Array, Json, JsonNumber, Node as JsonNode, NodeIdentity, Object};
use jsonschema::types::JsonType;
use serde_json::Value as J;

use crate::yaml::{Entry, Node, Value};

/// The representation: borrowed [`Node`]s.
pub struct Rendered;

/// A node handle (`Clone` is a pointer copy), or a property name being validated on its own
/// (`propertyNames`).
#[derive(Clone, Copy)]
pub enum Handle<'a> {
    Node(&'a Node),
    Name(&'a str),
}

impl Json for Rendered {
    type Node<'a> = Handle<'a>;
    type PreparedKey = String;
    type StringBuffer = ();

    fn prepare_key(key: &str) -> String {
        key.to_string()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(Handle<'_>) -> T) -> T {
        f(Handle::Name(string))
    }
}

/// An `Int` or a finite `Float`.
#[derive(Clone, Copy)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl JsonNumber for Number {
    fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::Int(i) => u64::try_from(i).ok(),
            Number::Float(_) => None,
        }
    }
    fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::Int(i) => Some(i),
            Number::Float(_) => None,
        }
    }
    fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        })
    }
    fn as_str(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_number().to_string())
    }
    fn to_number(&self) -> Cow<'_, serde_json::Number> {
        Cow::Owned(match *self {
            Number::Int(i) => serde_json::Number::from(i),
            Number::Float(f) => serde_json::Number::from_f64(f).unwrap_or_else(|| 0.into()),
        })
    }
    fn is_integer(&self) -> bool {
        match *self {
            Number::Int(_) => true,
            Number::Float(f) => f.fract() == 0.0,
        }
    }
    fn is_written_as_integer(&self) -> bool {
        matches!(self, Number::Int(_))
    }
}

impl<'a> Handle<'a> {
    fn value(&self) -> Option<&'a Value> {
        match self {
            Handle::Node(n) => Some(&n.value),
            Handle::Name(_) => None,
        }
    }
}

impl<'a> JsonNode<'a, Rendered> for Handle<'a> {
    type Object = &'a [Entry];
    type Array = &'a [Node];
    type Number = Number;

    fn as_object(&self) -> Option<&'a [Entry]> {
        match self.value()? {
            Value::Map(m) => Some(&m.entries),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&'a [Node]> {
        match self.value()? {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }
    fn as_string(&self) -> Option<Cow<'a, str>> {
        match *self {
            Handle::Name(s) => Some(Cow::Borrowed(s)),
            Handle::Node(n) => match &n.value {
                Value::Str(s) => Some(Cow::Borrowed(s)),
                _ => None,
            },
        }
    }
    fn as_number(&self) -> Option<Number> {
        match *self.value()? {
            Value::Int(i) => Some(Number::Int(i)),
            Value::Float(f) if f.is_finite() => Some(Number::Float(f)),
            _ => None,
        }
    }
    fn as_boolean(&self) -> Option<bool> {
        match *self.value()? {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn is_null(&self) -> bool {
        self.json_type() == JsonType::Null
    }
    fn json_type(&self) -> JsonType {
        match self.value() {
            None => JsonType::String,
            Some(Value::Null) => JsonType::Null,
            Some(Value::Bool(_)) => JsonType::Boolean,
            Some(Value::Int(_)) => JsonType::Number,
            Some(Value::Float(f)) if f.is_finite() => JsonType::Number,
            Some(Value::Float(_)) => JsonType::Null,
            Some(Value::Str(_)) => JsonType::String,
            Some(Value::Seq(_)) => JsonType::Array,
            Some(Value::Map(_)) => JsonType::Object,
        }
    }
    fn to_value(&self) -> Cow<'a, J> {
        Cow::Owned(match *self {
            Handle::Node(n) => crate::yaml::to_json(n),
            Handle::Name(s) => J::String(s.to_string()),
        })
    }
    fn identity(&self) -> Option<NodeIdentity> {
        match *self {
            Handle::Node(n) => Some(NodeIdentity::new(std::ptr::from_ref::<Node>(n) as usize)),
            // A name lives in a scratch buffer: no identity to track cycles by.
            Handle::Name(_) => None,
        }
    }
}

impl<'a> Object<'a, Rendered> for &'a [Entry] {
    type Node = Handle<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        <[Entry]>::len(self)
    }
    fn get(&self, key: &String) -> Option<Handle<'a>> {
        // A Kubernetes object level has a handful of keys: a scan beats hashing.
        self.iter()
            .find(|e| e.key == key.as_str())
            .map(|e| Handle::Node(&e.value))
    }
    fn members(&self) -> Members<'a> {
        Members(self.iter())
    }
    fn try_for_each_name_node<B>(
        &self,
        (): &mut (),
        mut f: impl FnMut(Handle<'_>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for e in *self {
            f(Handle::Name(&e.key))?;
        }
        ControlFlow::Continue(())
    }
}

/// `(name, value)` of each mapping entry, in order.
pub struct Members<'a>(std::slice::Iter<'a, Entry>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Handle<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|e| (e.key.as_str(), Handle::Node(&e.value)))
    }
}

impl<'a> Array<'a, Rendered> for &'a [Node] {
    type Node = Handle<'a>;
    type ElementsIter = std::iter::Map<std::slice::Iter<'a, Node>, fn(&'a Node) -> Handle<'a>>;

    fn len(&self) -> usize {
        <[Node]>::len(self)
    }
    fn elements(&self) -> Self::ElementsIter {
        self.iter().map(Handle::Node as fn(&'a Node) -> Handle<'a>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meets_the_validator_contract() {
        let doc = crate::yaml::from_json(&jsonschema::json::conformance::document());
        jsonschema::json::conformance::assert_conformance::<Rendered>(&Handle::Node(&doc));
    }

    #[test]
    fn answers_what_the_json_conversion_would() {
        let text = "a: 1\nb: 1.5\nc: ~\nd: [x, {e: null}]\nf: true\ng: '7'\n";
        let node = crate::yaml::parse_documents(text, crate::source::FileId(0))
            .unwrap()
            .remove(0);
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"type": "number", "not": {"type": "integer"}},
                "c": {"type": "null"},
                "d": {"type": "array", "prefixItems": [{"const": "x"}, {"type": "object"}]},
                "f": {"const": true},
                "g": {"type": "string", "maxLength": 1}
            },
            "propertyNames": {"pattern": "^[a-g]$"},
            "required": ["a", "g"],
            "additionalProperties": false
        });
        let ours = jsonschema::options_for::<Rendered>()
            .build(&schema)
            .unwrap();
        let theirs = jsonschema::validator_for(&schema).unwrap();
        assert!(ours.is_valid(Handle::Node(&node)));
        assert!(theirs.is_valid(&crate::yaml::to_json(&node)));
        let bad = crate::yaml::parse_documents("a: x\nzz: 1\ng: '77'\n", crate::source::FileId(0))
            .unwrap()
            .remove(0);
        let errors = |v: Vec<String>| {
            let mut v = v;
            v.sort();
            v
        };
        assert_eq!(
            errors(
                ours.iter_errors(Handle::Node(&bad))
                    .map(|e| format!("{} {e}", e.instance_path().as_str()))
                    .collect()
            ),
            errors(
                theirs
                    .iter_errors(&crate::yaml::to_json(&bad))
                    .map(|e| format!("{} {e}", e.instance_path().as_str()))
                    .collect()
            )
        );
    }
}
