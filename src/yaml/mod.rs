//! YAML with provenance: the node tree everything in kustodian works on.
//!
//! Design: one parser underneath (granit-parser events with exact byte spans) builds a small owned
//! tree of [`Node`]s. Each node carries `loc` — where its text is in the source — and `via` — the
//! kustomization entry or patch that last set it, when a transformer changed it. Scalars are resolved
//! once at load time the way kustomize (go-yaml v3 inside kyaml) resolves them (`0755` is an int,
//! `yes` is a string, `'1'` is a string), so rendering, rules and output all agree on types.
//! Output goes through [`emit`], which reproduces what `kustomize build` prints (sorted keys,
//! go-yaml v2 style quoting, folding and block scalars).
//!
//! Mappings keep insertion order (source order) — sorting happens only in the emitter, because
//! strategic-merge and JSON-patch semantics need the source order, and kustomize sorts on output.

pub(crate) mod duplicates;
pub(crate) mod emit;
pub mod fast;
pub(crate) mod keyorder;
pub mod parse;
pub(crate) mod resolve;

use crate::source::Loc;

pub(crate) use emit::emit_document;
pub use emit::emit_documents;
pub use parse::{ParseError, parse_documents};

/// A YAML node: value plus provenance.
#[derive(Clone, Debug)]
pub struct Node {
    /// The value: aliases expanded, scalars resolved as kustomize's go-yaml resolves them.
    pub value: Value,
    /// Where this node's text is (file + byte range). `Loc::NONE` for synthesized nodes.
    pub loc: Loc,
    /// The transformer input (kustomization entry, patch line) that last set this node, if any.
    pub via: Loc,
}

/// A resolved YAML value.
#[derive(Clone, Debug)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A float, `.inf` and `.nan` included.
    Float(f64),
    /// Text, inline up to 24 bytes like keys: most values of a manifest (names, types, images,
    /// short settings) then cost no allocation to parse, copy into an overlay or free.
    Str(Key),
    /// A sequence, in source order.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Mapping),
}

/// A mapping in source order.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    /// The pairs, in source order; a key appears once (a repeated key keeps its later value).
    pub entries: Vec<Entry>,
}

/// A mapping key: inline up to 24 bytes, which almost every key is (see Cargo.toml).
pub(crate) type Key = compact_str::CompactString;

/// Key equality for the lookups every transformer makes (a linear scan of a few keys): lengths
/// and end bytes rule out almost every other key before a byte comparison is called for.
#[inline]
fn key_is(k: &Key, key: &str) -> bool {
    let (a, b) = (k.as_bytes(), key.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a.last() == b.last() && a == b
}

/// One `key: value` pair. Keys are strings (Kubernetes objects have no other kind of key).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key's text.
    pub key: Key,
    /// Where the key is written (`Loc::NONE` for a synthesized entry).
    pub key_loc: Loc,
    /// The value, with its own location.
    pub value: Node,
}

impl PartialEq for Node {
    /// Structural equality of values; provenance is ignored.
    fn eq(&self, other: &Node) -> bool {
        self.value == other.value
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Seq(a), Value::Seq(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => {
                a.entries.len() == b.entries.len()
                    && a.entries.iter().all(|e| b.get(&e.key) == Some(&e.value))
            }
            _ => false,
        }
    }
}

impl Node {
    pub(crate) fn new(value: Value, loc: Loc) -> Node {
        Node {
            value,
            loc,
            via: Loc::NONE,
        }
    }
    /// A synthesized node (no source text).
    pub(crate) fn synth(value: Value) -> Node {
        Node::new(value, Loc::NONE)
    }
    pub(crate) fn str(s: impl Into<Key>) -> Node {
        Node::synth(Value::Str(s.into()))
    }
    pub(crate) fn map() -> Node {
        Node::synth(Value::Map(Mapping::default()))
    }
    pub(crate) fn seq(items: Vec<Node>) -> Node {
        Node::synth(Value::Seq(items))
    }
    /// Sets `via` (builder style).
    pub(crate) fn with_via(mut self, via: Loc) -> Node {
        self.via = via;
        self
    }
    /// Sets `loc` (builder style).
    pub(crate) fn at(mut self, loc: Loc) -> Node {
        self.loc = loc;
        self
    }

    /// Where a person should look to change this value: the transformer input that set it, else its
    /// own source text.
    pub fn blame(&self) -> Loc {
        if self.via.is_some() {
            self.via
        } else {
            self.loc
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    /// The text of a string value (`None` for any other kind, numbers included).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The mapping, when the value is one.
    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub(crate) fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// The sequence's items, when the value is one.
    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Text of a scalar as kustomize would see it when coercing to a string (labels, annotations,
    /// `map[string]string` fields): numbers and bools in their canonical spelling.
    pub fn scalar_string(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(resolve::format_float(*f)),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            _ => None,
        }
    }

    /// Map lookup.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?.get_mut(key)
    }
    /// Nested map lookup along plain keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for k in path {
            n = n.get(k)?;
        }
        Some(n)
    }
    pub(crate) fn get_path_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        let mut n = self;
        for k in path {
            n = n.get_mut(k)?;
        }
        Some(n)
    }
    /// String at a nested path.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.get_path(path)?.as_str()
    }

    /// Walks to `path`, creating empty maps as needed (replacing non-map values on the way).
    pub(crate) fn ensure_path(&mut self, path: &[&str]) -> &mut Node {
        let mut n = self;
        for k in path {
            if n.as_map().is_none() {
                n.value = Value::Map(Mapping::default());
            }
            let m = n.as_map_mut().unwrap();
            if m.get(k).is_none() {
                m.insert(k, Node::map());
            }
            n = m.get_mut(k).unwrap();
        }
        n
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub(crate) fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Node)) {
        f(self);
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.walk_mut(f)),
            Value::Map(m) => m.entries.iter_mut().for_each(|e| e.value.walk_mut(f)),
            _ => {}
        }
    }

    /// Sets a key on a map node (no-op on other nodes).
    pub(crate) fn set(&mut self, key: &str, value: Node) {
        if let Some(m) = self.as_map_mut() {
            m.insert(key, value);
        }
    }
}

impl Mapping {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|e| key_is(&e.key, key))
            .map(|e| &e.value)
    }
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|e| key_is(&e.key, key))
            .map(|e| &mut e.value)
    }
    pub(crate) fn get_entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| key_is(&e.key, key))
    }
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.entries.iter().any(|e| key_is(&e.key, key))
    }
    /// Replaces the value of an existing key (keeping its position and key location) or appends.
    pub(crate) fn insert(&mut self, key: &str, value: Node) {
        self.insert_at(key, Loc::NONE, value);
    }
    /// [`Mapping::insert`] that records where a new key was written (a patch's key).
    pub(crate) fn insert_at(&mut self, key: &str, key_loc: Loc, value: Node) {
        if let Some(e) = self.entries.iter_mut().find(|e| key_is(&e.key, key)) {
            e.value = value;
        } else {
            self.entries.push(Entry {
                key: Key::from(key),
                key_loc,
                value,
            });
        }
    }
    pub(crate) fn remove(&mut self, key: &str) -> Option<Node> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        Some(self.entries.remove(i).value)
    }
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The `(key, value)` pairs in source order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().map(|e| (e.key.as_str(), &e.value))
    }
}

/// Converts a node into `serde_json::Value` (for schema validation, JSON output and hashing).
/// How many nodes a tree has and how deep it nests (a scalar: 1 and 0), without recursing:
/// the renderer asks it of trees a patch is about to grow, which the budgets bound only once
/// measured.
pub(crate) fn measure(node: &Node) -> (usize, usize) {
    let (mut nodes, mut depth) = (0, 0);
    let mut stack = vec![(node, 0usize)];
    while let Some((n, d)) = stack.pop() {
        nodes += 1;
        match &n.value {
            Value::Seq(items) if !items.is_empty() => {
                depth = depth.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Map(m) if !m.entries.is_empty() => {
                depth = depth.max(d + 1);
                stack.extend(m.entries.iter().map(|e| (&e.value, d + 1)));
            }
            Value::Seq(_) | Value::Map(_) => depth = depth.max(d + 1),
            _ => {}
        }
    }
    (nodes, depth)
}

/// Refuses to grow a tree of `nodes` nodes by `added` (nodes, depth) placed `at_depth` levels
/// down: what a patch, a replacement or a copy adds is bounded by the same budgets as what is
/// parsed (a JSON patch `copy` of a subtree into itself doubles it with every operation).
pub(crate) fn check_growth(
    nodes: usize,
    added: (usize, usize),
    at_depth: usize,
) -> Result<(), crate::limits::Exceeded> {
    let limits = crate::limits::get();
    if nodes.saturating_add(added.0) > limits.nodes {
        return Err(crate::limits::Exceeded::new(
            "nodes",
            limits.nodes,
            "YAML nodes in this resource after the change",
        ));
    }
    if at_depth.saturating_add(added.1) > limits.depth {
        return Err(crate::limits::Exceeded::new(
            "depth",
            limits.depth,
            "nesting of this resource after the change",
        ));
    }
    Ok(())
}

pub(crate) fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.to_string()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut o = serde_json::Map::with_capacity(m.entries.len());
            for e in &m.entries {
                o.insert(e.key.to_string(), to_json(&e.value));
            }
            J::Object(o)
        }
    }
}

/// Builds a synthesized node from JSON.
#[cfg(test)]
pub(crate) fn from_json(v: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    Node::synth(match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::Str(s.as_str().into()),
        J::Array(a) => Value::Seq(a.iter().map(from_json).collect()),
        J::Object(o) => Value::Map(Mapping {
            entries: o
                .iter()
                .map(|(k, v)| Entry {
                    key: Key::from(k.as_str()),
                    key_loc: Loc::NONE,
                    value: from_json(v),
                })
                .collect(),
        }),
    })
}

/// Sets `via` on a node and all its descendants (a transformer replaced a whole subtree).
pub(crate) fn set_via_deep(node: &mut Node, via: Loc) {
    node.walk_mut(&mut |n| n.via = via);
}

/// Points every node of an inline patch at the kustomization entry that holds it.
pub(crate) fn relocate(n: &mut Node, loc: Loc) {
    n.loc = loc;
    match &mut n.value {
        Value::Seq(items) => items.iter_mut().for_each(|i| relocate(i, loc)),
        Value::Map(m) => m.entries.iter_mut().for_each(|e| {
            e.key_loc = loc;
            relocate(&mut e.value, loc);
        }),
        _ => {}
    }
}
