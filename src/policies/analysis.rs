//! What a CEL expression reads of its variables, found once at compile time.
//!
//! The `cel` interpreter copies the map it selects a field from (`object.spec` copies all of
//! `spec`), so evaluating `object.spec.replicas >= 2` over a whole rendered Deployment costs tens
//! of microseconds — a hundred rules over a thousand apps would take seconds. Most expressions
//! read a few fields, though, and this pass finds which: every use of a variable inside a chain
//! of field selections (`object.spec.replicas`), literal map indexes (`labels['team']`),
//! presence tests (`has(...)`, `'team' in labels`) and macros over a list
//! (`containers.all(c, has(c.resources.limits))`: the same fields of every item) becomes a
//! [`Need`]; any other use (`size(labels)`, `object == oldObject`) needs the whole value. The
//! evaluator then hands the expression only what it reads ([`prune`]), and — since the result
//! can depend on nothing else — remembers results by those values ([`key`]): in a repository
//! whose overlays share a base, most objects give a rule the same inputs.
//!
//! The same walk refuses what the interpreter cannot run (struct literals) and names unknown
//! variables (a typo such as `objet.spec` is a policy error at compile time, not a finding per
//! object).

use std::collections::{BTreeMap, BTreeSet};

use kube_cel::cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};

use crate::settings::custom::PathStep;
use crate::yaml::{Node, Value};

/// What an expression reads of one value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Need {
    /// Nothing.
    #[default]
    Nothing,
    /// Only whether it exists.
    Presence,
    /// These fields, if it is a map (else all of it).
    Fields(BTreeMap<String, Need>),
    /// The same of every item, if it is a list (else all of it).
    Items(Box<Need>),
    /// All of it.
    Whole,
}

impl Need {
    /// Both needs.
    pub fn merge(&mut self, other: Need) {
        let merged = match (std::mem::take(self), other) {
            (Need::Nothing, x) | (x, Need::Nothing) => x,
            (Need::Whole, _) | (_, Need::Whole) => Need::Whole,
            (Need::Presence, x) | (x, Need::Presence) => x,
            (Need::Fields(mut a), Need::Fields(b)) => {
                for (k, n) in b {
                    a.entry(k).or_default().merge(n);
                }
                Need::Fields(a)
            }
            (Need::Items(mut a), Need::Items(b)) => {
                a.merge(*b);
                Need::Items(a)
            }
            (Need::Fields(_), Need::Items(_)) | (Need::Items(_), Need::Fields(_)) => Need::Whole,
        };
        *self = merged;
    }

    /// The need of a path below this value, ending in `leaf`.
    fn along(path: &[Step], leaf: Need) -> Need {
        path.iter().rev().fold(leaf, |inner, step| match step {
            Step::Field(k) => Need::Fields([(k.clone(), inner)].into()),
            Step::Items => Need::Items(Box::new(inner)),
        })
    }
}

/// One step of an access path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Field(String),
    Items,
}

/// What an expression reads: its free variables and what of each, and the `variables.<name>`
/// it uses.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uses {
    pub roots: BTreeMap<String, Need>,
    pub variables: BTreeSet<String>,
}

impl Uses {
    pub fn merge(&mut self, other: &Uses) {
        for (k, n) in &other.roots {
            self.roots.entry(k.clone()).or_default().merge(n.clone());
        }
        self.variables.extend(other.variables.iter().cloned());
    }
}

/// Walks an expression; `known` are the variables it may use (`variables` is always allowed).
pub fn analyze(expr: &IdedExpr, known: &[&str]) -> Result<Uses, String> {
    let mut w = Walk {
        known,
        bound: Vec::new(),
        uses: Uses::default(),
    };
    w.visit(expr)?;
    Ok(w.uses)
}

/// A macro variable in scope: its name and, for an item of a list path, that path.
type Bound = (String, Option<(String, Vec<Step>)>);

struct Walk<'a> {
    known: &'a [&'a str],
    /// Macro variables in scope, innermost last: the name and, for an item of a list path,
    /// that path.
    bound: Vec<Bound>,
    uses: Uses,
}

impl Walk<'_> {
    /// The access path an expression is, if it is one: a root (or a macro variable over a
    /// path) and steps.
    fn path(&self, e: &IdedExpr) -> Option<(String, Vec<Step>)> {
        match &e.expr {
            Expr::Ident(name) => match self.bound.iter().rev().find(|(n, _)| n == name) {
                Some((_, over)) => over.clone(),
                None if self.known.contains(&name.as_str()) => Some((name.clone(), vec![])),
                None => None,
            },
            Expr::Select(s) if !s.test => {
                let (root, mut steps) = self.path(&s.operand)?;
                steps.push(Step::Field(s.field.clone()));
                Some((root, steps))
            }
            Expr::Call(c)
                if c.target.is_none()
                    && c.args.len() == 2
                    && [
                        operators::INDEX,
                        operators::OPT_INDEX,
                        operators::OPT_SELECT,
                    ]
                    .contains(&c.func_name.as_str()) =>
            {
                let Expr::Literal(LiteralValue::String(key)) = &c.args[1].expr else {
                    return None;
                };
                let (root, mut steps) = self.path(&c.args[0])?;
                steps.push(Step::Field(key.inner().to_string()));
                Some((root, steps))
            }
            _ => None,
        }
    }

    fn record(&mut self, root: String, steps: &[Step], leaf: Need) {
        self.uses
            .roots
            .entry(root)
            .or_default()
            .merge(Need::along(steps, leaf));
    }

    fn visit(&mut self, e: &IdedExpr) -> Result<(), String> {
        if let Some((root, steps)) = self.path(e) {
            self.record(root, &steps, Need::Whole);
            return Ok(());
        }
        match &e.expr {
            Expr::Ident(name) => {
                if name == "variables" {
                    return Err("`variables` is used alone: write `variables.<name>`".into());
                }
                if !self.bound.iter().any(|(n, _)| n == name) {
                    return Err(format!(
                        "unknown variable '{name}' (known: {})",
                        self.known.join(", ")
                    ));
                }
                Ok(())
            }
            Expr::Select(s) => {
                if let Expr::Ident(v) = &s.operand.expr
                    && v == "variables"
                    && !self.bound.iter().any(|(n, _)| n == "variables")
                {
                    self.uses.variables.insert(s.field.clone());
                    return Ok(());
                }
                if s.test
                    && let Some((root, mut steps)) = self.path(&s.operand)
                {
                    steps.push(Step::Field(s.field.clone()));
                    self.record(root, &steps, Need::Presence);
                    return Ok(());
                }
                self.visit(&s.operand)
            }
            Expr::Call(c) => {
                // `'team' in object.metadata.labels`: only whether the key is there (a list
                // needs all of it, which `Fields` on a list gives).
                if c.func_name == operators::IN
                    && c.args.len() == 2
                    && let Expr::Literal(LiteralValue::String(key)) = &c.args[0].expr
                    && let Some((root, mut steps)) = self.path(&c.args[1])
                {
                    steps.push(Step::Field(key.inner().to_string()));
                    self.record(root, &steps, Need::Presence);
                    return Ok(());
                }
                if let Some(t) = &c.target {
                    self.visit(t)?;
                }
                c.args.iter().try_for_each(|a| self.visit(a))
            }
            Expr::Comprehension(c) => {
                self.visit(&c.accu_init)?;
                let over = self.path(&c.iter_range).map(|(root, mut steps)| {
                    steps.push(Step::Items);
                    (root, steps)
                });
                if over.is_none() {
                    self.visit(&c.iter_range)?;
                } else if c.iter_var2.is_some() {
                    // Two-variable macros see indexes or keys: all of the range.
                    let (root, steps) = self.path(&c.iter_range).expect("a path");
                    self.record(root, &steps, Need::Whole);
                }
                // The items are there even when the macro reads nothing of them (`all(i, true)`
                // still counts them).
                if let Some((root, steps)) = &over {
                    self.record(root.clone(), steps, Need::Nothing);
                }
                let depth = self.bound.len();
                self.bound.push((c.iter_var.clone(), over));
                if let Some(v2) = &c.iter_var2 {
                    self.bound.push((v2.clone(), None));
                }
                self.bound.push((c.accu_var.clone(), None));
                let r = [&c.loop_cond, &c.loop_step, &c.result]
                    .into_iter()
                    .try_for_each(|x| self.visit(x));
                self.bound.truncate(depth);
                r
            }
            Expr::List(l) => l.elements.iter().try_for_each(|x| self.visit(x)),
            Expr::Map(m) => m.entries.iter().try_for_each(|entry| match &entry.expr {
                kube_cel::cel::common::ast::EntryExpr::MapEntry(me) => {
                    self.visit(&me.key)?;
                    self.visit(&me.value)
                }
                kube_cel::cel::common::ast::EntryExpr::StructField(_) => {
                    Err("message literals are not supported".into())
                }
            }),
            Expr::Literal(_) => Ok(()),
            Expr::Struct(s) => Err(format!(
                "message literals ({}{{...}}) are not supported",
                s.type_name
            )),
            Expr::Unspecified => Err("an incomplete expression".into()),
        }
    }
}

/// The one field an expression reads of a value, when it reads one (`object.spec.replicas`),
/// as the path a finding points at.
pub fn single_path(need: Option<&Need>) -> Option<Vec<PathStep>> {
    let mut out = Vec::new();
    let mut n = need?;
    loop {
        match n {
            Need::Fields(f) if f.len() == 1 => {
                let (k, inner) = f.iter().next().expect("one field");
                out.push(PathStep::Key(k.clone()));
                n = inner;
            }
            Need::Items(inner) => {
                out.push(PathStep::Each);
                n = inner;
            }
            _ => break,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The part of `node` that `need` reads (`None`: nothing).
pub fn prune<'a>(node: &'a Node, need: &Need) -> Option<Pruned<'a>> {
    Some(match (need, &node.value) {
        (Need::Nothing, _) => return None,
        (Need::Presence, _) => Pruned::Present,
        (Need::Fields(fields), Value::Map(m)) => Pruned::Map(
            fields
                .iter()
                .filter_map(|(k, n)| {
                    let e = m.get_entry(k)?;
                    Some((e.key.as_str(), prune(&e.value, n)?))
                })
                .collect(),
        ),
        (Need::Items(item), Value::Seq(items)) => Pruned::List(
            items
                .iter()
                .map(|i| prune(i, item).unwrap_or(Pruned::Present))
                .collect(),
        ),
        _ => Pruned::Whole(node),
    })
}

/// A value cut down to what an expression reads.
#[derive(Debug)]
pub enum Pruned<'a> {
    /// Exists; its value is not read (bound as null).
    Present,
    Map(Vec<(&'a str, Pruned<'a>)>),
    List(Vec<Pruned<'a>>),
    Whole(&'a Node),
}

/// Appends a canonical encoding of a pruned value to `out`: equal encodings mean equal values
/// to the expression.
pub fn key(p: Option<&Pruned>, out: &mut Vec<u8>) {
    match p {
        None => out.push(0),
        Some(Pruned::Present) => out.push(1),
        Some(Pruned::Map(entries)) => {
            out.push(2);
            out.extend((entries.len() as u32).to_le_bytes());
            for (k, v) in entries {
                str_key(k, out);
                key(Some(v), out);
            }
        }
        Some(Pruned::List(items)) => {
            out.push(3);
            out.extend((items.len() as u32).to_le_bytes());
            for i in items {
                key(Some(i), out);
            }
        }
        Some(Pruned::Whole(n)) => node_key(n, out),
    }
}

fn str_key(s: &str, out: &mut Vec<u8>) {
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// The canonical encoding of a whole node (map keys in source order: the same order gives the
/// same key, a different one only a missed reuse).
pub fn node_key(n: &Node, out: &mut Vec<u8>) {
    match &n.value {
        Value::Null => out.push(4),
        Value::Bool(b) => out.extend([5, u8::from(*b)]),
        Value::Int(i) => {
            out.push(6);
            out.extend(i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(7);
            out.extend(f.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            out.push(8);
            str_key(s, out);
        }
        Value::Seq(items) => {
            out.push(9);
            out.extend((items.len() as u32).to_le_bytes());
            for i in items {
                node_key(i, out);
            }
        }
        Value::Map(m) => {
            out.push(10);
            out.extend((m.entries.len() as u32).to_le_bytes());
            for e in &m.entries {
                str_key(&e.key, out);
                node_key(&e.value, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_cel::cel::Program;

    fn uses(src: &str) -> Uses {
        let p = Program::compile(src).unwrap();
        analyze(p.expression(), &["object", "oldObject"]).unwrap()
    }

    fn fields(pairs: Vec<(&str, Need)>) -> Need {
        Need::Fields(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn paths_presence_and_items() {
        let u = uses("object.spec.replicas >= 2 && has(object.metadata.labels)");
        assert_eq!(
            u.roots["object"],
            fields(vec![
                ("spec", fields(vec![("replicas", Need::Whole)])),
                ("metadata", fields(vec![("labels", Need::Presence)])),
            ])
        );
        let u = uses("'team' in object.metadata.labels && object.metadata.labels['tier'] == 'x'");
        assert_eq!(
            u.roots["object"],
            fields(vec![(
                "metadata",
                fields(vec![(
                    "labels",
                    fields(vec![("team", Need::Presence), ("tier", Need::Whole)])
                )])
            )])
        );
        let u = uses("object.spec.containers.all(c, has(c.resources.limits) && c.image != '')");
        assert_eq!(
            u.roots["object"],
            fields(vec![(
                "spec",
                fields(vec![(
                    "containers",
                    Need::Items(Box::new(fields(vec![
                        ("resources", fields(vec![("limits", Need::Presence)])),
                        ("image", Need::Whole)
                    ])))
                )])
            )])
        );
    }

    #[test]
    fn other_uses_need_the_whole_value() {
        let u = uses("size(object.metadata.labels) > 0");
        assert_eq!(
            u.roots["object"],
            fields(vec![("metadata", fields(vec![("labels", Need::Whole)]))])
        );
        let u = uses("object == oldObject");
        assert_eq!(u.roots["object"], Need::Whole);
        assert_eq!(u.roots["oldObject"], Need::Whole);
        // An item used whole: every item, whole.
        let u = uses("object.items.exists(i, i == 'x')");
        assert_eq!(
            u.roots["object"],
            fields(vec![("items", Need::Items(Box::new(Need::Whole)))])
        );
    }

    #[test]
    fn unknown_variables_and_struct_literals_are_refused() {
        let p = Program::compile("objet.spec.replicas > 1").unwrap();
        let e = analyze(p.expression(), &["object"]).unwrap_err();
        assert!(e.contains("unknown variable 'objet'"), "{e}");
        let u = uses("variables.a && object.x.all(x, x > 0)");
        assert!(u.variables.contains("a"));
    }

    #[test]
    fn pruning_keeps_what_is_read() {
        let docs = crate::yaml::parse_documents(
            "spec:\n  replicas: 3\n  template: {big: [1, 2, 3]}\nmetadata:\n  labels: {team: a, tier: b}\n",
            crate::source::FileId(0),
        )
        .unwrap();
        let u = uses("object.spec.replicas > 1 && 'team' in object.metadata.labels");
        let p = prune(&docs[0], &u.roots["object"]);
        let mut k = Vec::new();
        key(p.as_ref(), &mut k);
        // Another object with the same replicas and a team label has the same key.
        let other = crate::yaml::parse_documents(
            "metadata:\n  labels: {team: b}\nspec:\n  replicas: 3\n",
            crate::source::FileId(0),
        )
        .unwrap();
        let mut k2 = Vec::new();
        key(prune(&other[0], &u.roots["object"]).as_ref(), &mut k2);
        assert_eq!(k, k2);
        let third =
            crate::yaml::parse_documents("spec:\n  replicas: 2\n", crate::source::FileId(0))
                .unwrap();
        let mut k3 = Vec::new();
        key(prune(&third[0], &u.roots["object"]).as_ref(), &mut k3);
        assert_ne!(k, k3);
    }
}
