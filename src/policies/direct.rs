//! Direct evaluation: the common shapes of CEL run on the rendered YAML tree itself, with the
//! interpreter kept for everything else.
//!
//! The `cel` interpreter works on its own values: every input is converted into a tree of boxed
//! maps and lists, every field selection copies the subtree it selects, and each evaluation
//! builds a scope. Over the pruned inputs ([`super::analysis`]) that is still a microsecond or
//! two per rule and object, which a hundred rules over a thousand apps (hundreds of thousands
//! of evaluations) turn into most of a check's time. What policy expressions do is mostly
//! simpler: follow fields, test presence, compare scalars, match strings, loop with
//! `all`/`exists` over a list. This evaluator does exactly that on borrowed [`Node`]s —
//! nothing is converted or copied.
//!
//! It is a fast path, never a second dialect. An expression is taken here only if every part of
//! it is in the subset: [`Code::compile`] turns the parsed expression into a tree with its
//! operators resolved, its macro variables given slots and its literal patterns compiled, once
//! per run, or declines it. An evaluation that
//! meets anything the subset does not decide exactly as the interpreter does — a missing field,
//! a type mismatch, mixed numeric types, an overflow, an invalid pattern, a non-bool condition —
//! gives up (`None`) and the caller runs the interpreter on the same inputs, which then gives
//! the verdict or the error message. Debug builds (every test) run the interpreter after each
//! direct verdict too and require the same answer.

use std::borrow::Cow;
use std::cmp::Ordering;

use kube_cel::cel::common::ast::{
    CallExpr, ComprehensionExpr, Expr, IdedExpr, LiteralValue, operators,
};

use crate::yaml::{Node, Value as Y};

mod values;
pub use values::{V, regex_match};
use values::{arithmetic, compare, contains, equal, index, quantity, quantity_order, size};

/// A literal.
#[derive(Debug)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Quantity(i128, i32),
}

/// The operators and functions of the subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    And,
    Or,
    Not,
    Conditional,
    NotStrictlyFalse,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Neg,
    In,
    Index,
    Size,
    StartsWith,
    EndsWith,
    Contains,
    Matches,
    Quantity,
    IsLessThan,
    IsGreaterThan,
    CompareTo,
}

/// Operators and functions called without a target, by name and argument count.
const FUNCTIONS: &[(&str, usize, Func)] = &[
    (operators::LOGICAL_AND, 2, Func::And),
    (operators::LOGICAL_OR, 2, Func::Or),
    (operators::LOGICAL_NOT, 1, Func::Not),
    (operators::CONDITIONAL, 3, Func::Conditional),
    (operators::NOT_STRICTLY_FALSE, 1, Func::NotStrictlyFalse),
    (operators::EQUALS, 2, Func::Eq),
    (operators::NOT_EQUALS, 2, Func::Ne),
    (operators::LESS, 2, Func::Lt),
    (operators::LESS_EQUALS, 2, Func::Le),
    (operators::GREATER, 2, Func::Gt),
    (operators::GREATER_EQUALS, 2, Func::Ge),
    (operators::ADD, 2, Func::Add),
    (operators::SUBSTRACT, 2, Func::Sub),
    (operators::MULTIPLY, 2, Func::Mul),
    (operators::DIVIDE, 2, Func::Div),
    (operators::MODULO, 2, Func::Mod),
    (operators::NEGATE, 1, Func::Neg),
    (operators::IN, 2, Func::In),
    (operators::INDEX, 2, Func::Index),
    ("size", 1, Func::Size),
    ("quantity", 1, Func::Quantity),
];

/// Methods, by name and argument count (the target not counted).
const METHODS: &[(&str, usize, Func)] = &[
    ("size", 0, Func::Size),
    ("startsWith", 1, Func::StartsWith),
    ("endsWith", 1, Func::EndsWith),
    ("contains", 1, Func::Contains),
    ("matches", 1, Func::Matches),
    ("isLessThan", 1, Func::IsLessThan),
    ("isGreaterThan", 1, Func::IsGreaterThan),
    ("compareTo", 1, Func::CompareTo),
];

/// Namespaces of the Kubernetes libraries' functions: `sets.contains(...)` is a library
/// function even where a macro variable is called `sets`.
const NAMESPACES: &[&str] = &[
    "base64",
    "format",
    "ip",
    "jsonpatch",
    "lists",
    "math",
    "sets",
    "strings",
    "url",
];

/// Macro variables in scope at most (two per nested macro).
const SLOTS: usize = 8;

/// An expression of the subset, ready to run.
#[derive(Debug)]
pub enum Code {
    Lit(Lit),
    /// An input, by name.
    Root(String),
    /// A macro variable.
    Slot(usize),
    /// `variables.<name>`.
    Variable(String),
    /// Fields selected one after the other (`object.spec.template`): one step of the
    /// evaluator for the whole chain.
    Path(Box<Code>, Vec<String>),
    /// `has(x.field)`.
    Has(Box<Code>, String),
    /// A function; a method's target is its first argument.
    Call(Func, Vec<Code>),
    /// `x in [a, b]`.
    InList(Box<Code>, Vec<Code>),
    /// `x.matches('literal')`.
    Matches(Box<Code>, regex::Regex),
    Loop(Box<Loop>),
    /// `all` (`true`) or `exists` (`false`) over a list or a map's keys, recognised in the
    /// macro's expansion: stops at the first item whose predicate is not `all`.
    Quantifier {
        all: bool,
        range: Box<Code>,
        item: usize,
        predicate: Box<Code>,
    },
}

/// A macro's comprehension.
#[derive(Debug)]
pub struct Loop {
    range: Code,
    init: Code,
    cond: Code,
    step: Code,
    result: Code,
    accu: usize,
    item: usize,
}

/// What compiling sees: the macro variables in scope, innermost last.
struct Names<'e> {
    bound: Vec<(&'e str, usize)>,
}

impl Code {
    /// The expression as code, or `None` when a part of it is outside the subset.
    pub fn compile(e: &IdedExpr) -> Option<Code> {
        Names { bound: Vec::new() }.code(e)
    }
}

impl<'e> Names<'e> {
    fn code(&mut self, e: &'e IdedExpr) -> Option<Code> {
        Some(match &e.expr {
            Expr::Literal(l) => Code::Lit(match l {
                LiteralValue::Boolean(b) => Lit::Bool(*b.inner()),
                LiteralValue::Int(i) => Lit::Int(*i.inner()),
                LiteralValue::UInt(u) => Lit::UInt(*u.inner()),
                LiteralValue::Double(d) => Lit::Float(*d.inner()),
                LiteralValue::String(s) => Lit::Str(s.inner().to_string()),
                LiteralValue::Null => Lit::Null,
                LiteralValue::Bytes(_) => return None,
            }),
            Expr::Ident(name) => match self.bound.iter().rev().find(|(n, _)| n == name) {
                Some((_, slot)) => Code::Slot(*slot),
                None => Code::Root(name.clone()),
            },
            Expr::Select(s) => match &s.operand.expr {
                Expr::Ident(v) if v == "variables" && !self.is_bound(v) => {
                    if s.test {
                        return None;
                    }
                    Code::Variable(s.field.clone())
                }
                _ if s.test => Code::Has(Box::new(self.code(&s.operand)?), s.field.clone()),
                _ => self.path(e)?,
            },
            Expr::Call(c) => self.call(c)?,
            Expr::Comprehension(c) => self.comprehension(c)?,
            Expr::List(_) | Expr::Map(_) | Expr::Struct(_) | Expr::Unspecified => return None,
        })
    }

    /// A chain of selections, down to what it starts from.
    fn path(&mut self, mut e: &'e IdedExpr) -> Option<Code> {
        let mut fields = Vec::new();
        while let Expr::Select(s) = &e.expr
            && !s.test
            && !matches!(&s.operand.expr, Expr::Ident(v) if v == "variables" && !self.is_bound(v))
        {
            fields.push(s.field.clone());
            e = &s.operand;
        }
        fields.reverse();
        Some(Code::Path(Box::new(self.code(e)?), fields))
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|(n, _)| *n == name)
    }

    fn call(&mut self, c: &'e CallExpr) -> Option<Code> {
        let n = c.args.len();
        let name = c.func_name.as_str();
        let Some(target) = &c.target else {
            let (_, _, f) = FUNCTIONS.iter().find(|(f, a, _)| *f == name && *a == n)?;
            // `quantity('1Gi')`: parsed here.
            if *f == Func::Quantity
                && let Expr::Literal(LiteralValue::String(q)) = &c.args[0].expr
                && let Some((m, e)) = quantity(q.inner())
            {
                return Some(Code::Lit(Lit::Quantity(m, e)));
            }
            if *f == Func::In
                && let Expr::List(l) = &c.args[1].expr
            {
                if !l.optional_indices.is_empty() {
                    return None;
                }
                let items = l.elements.iter().map(|x| self.code(x));
                let items = items.collect::<Option<Vec<_>>>()?;
                return Some(Code::InList(Box::new(self.code(&c.args[0])?), items));
            }
            let args = c.args.iter().map(|a| self.code(a));
            return Some(Code::Call(*f, args.collect::<Option<_>>()?));
        };
        let (_, _, f) = METHODS.iter().find(|(f, a, _)| *f == name && *a == n)?;
        if matches!(&target.expr, Expr::Ident(ns) if NAMESPACES.contains(&ns.as_str())) {
            return None;
        }
        let this = self.code(target)?;
        // A literal pattern is compiled here; an invalid one is the interpreter's to report.
        if *f == Func::Matches
            && let Expr::Literal(LiteralValue::String(p)) = &c.args[0].expr
            && let Ok(re) = regex::Regex::new(p.inner())
        {
            return Some(Code::Matches(Box::new(this), re));
        }
        let mut args = vec![this];
        for a in &c.args {
            args.push(self.code(a)?);
        }
        Some(Code::Call(*f, args))
    }

    fn comprehension(&mut self, c: &'e ComprehensionExpr) -> Option<Code> {
        if c.iter_var2.is_some() {
            return None;
        }
        // The range and the initial value are evaluated outside the macro's scope.
        let range = self.code(&c.iter_range)?;
        let init = self.code(&c.accu_init)?;
        let accu = self.next_slot();
        let item = accu + 1;
        if item >= SLOTS {
            return None;
        }
        let depth = self.bound.len();
        self.bound.push((&c.accu_var, accu));
        self.bound.push((&c.iter_var, item));
        let parts = (|| {
            Some((
                self.code(&c.loop_cond)?,
                self.code(&c.loop_step)?,
                self.code(&c.result)?,
            ))
        })();
        self.bound.truncate(depth);
        let (cond, step, result) = parts?;
        if let Some(q) = quantifier(&init, &cond, &step, &result, accu) {
            return Some(Code::Quantifier {
                all: q,
                range: Box::new(range),
                item,
                predicate: Box::new(step.into_predicate()),
            });
        }
        Some(Code::Loop(Box::new(Loop {
            range,
            init,
            cond,
            step,
            result,
            accu,
            item,
        })))
    }

    fn next_slot(&self) -> usize {
        self.bound.iter().map(|(_, s)| s + 1).max().unwrap_or(0)
    }
}

/// What an evaluation reads: the inputs (`None`: null), the values of `variables.<name>`, and
/// the macro variables' slots (`None`: not bound yet).
pub struct Scope<'a> {
    roots: &'a [(&'a str, Option<&'a Node>)],
    variables: Vec<(&'a str, V<'a>)>,
    slots: [Option<V<'a>>; SLOTS],
}

impl<'a> Scope<'a> {
    pub fn new(roots: &'a [(&'a str, Option<&'a Node>)]) -> Scope<'a> {
        Scope {
            roots,
            variables: Vec::new(),
            slots: Default::default(),
        }
    }

    /// Makes `variables.<name>` this value for the expressions evaluated next.
    pub fn set_variable(&mut self, name: &'a str, v: V<'a>) {
        self.variables.push((name, v));
    }
}

impl Code {
    /// Evaluates the code; `None`: the interpreter must decide.
    pub fn eval<'a>(&'a self, s: &mut Scope<'a>) -> Option<V<'a>> {
        match self {
            Code::Lit(l) => Some(match l {
                Lit::Null => V::Null,
                Lit::Bool(b) => V::Bool(*b),
                Lit::Int(i) => V::Int(*i),
                Lit::UInt(u) => V::UInt(*u),
                Lit::Float(f) => V::Float(*f),
                Lit::Str(s) => V::Str(Cow::Borrowed(s)),
                Lit::Quantity(m, e) => V::Quantity(*m, *e),
            }),
            Code::Root(name) => {
                let (_, node) = s.roots.iter().find(|(n, _)| *n == name)?;
                Some(node.map_or(V::Null, V::of))
            }
            Code::Slot(i) => s.slots[*i].clone(),
            Code::Variable(name) => {
                let (_, v) = s.variables.iter().find(|(n, _)| *n == name)?;
                Some(v.clone())
            }
            Code::Path(of, fields) => {
                let mut v = of.eval(s)?;
                for f in fields {
                    let V::Node(n) = v else {
                        return None;
                    };
                    v = V::of(n.as_map()?.get(f)?);
                }
                Some(v)
            }
            Code::Has(of, field) => {
                let V::Node(n) = of.eval(s)? else {
                    return None;
                };
                Some(V::Bool(n.as_map()?.contains_key(field)))
            }
            Code::Call(f, args) => call(*f, args, s),
            Code::InList(needle, items) => {
                let needle = needle.eval(s)?;
                for item in items {
                    if equal(&item.eval(s)?, &needle)? {
                        return Some(V::Bool(true));
                    }
                }
                Some(V::Bool(false))
            }
            Code::Matches(text, re) => match text.eval(s)? {
                V::Str(t) => Some(V::Bool(re.is_match(&t))),
                _ => None,
            },
            Code::Loop(l) => l.run(s),
            Code::Quantifier {
                all,
                range,
                item: slot,
                predicate,
            } => {
                let V::Node(range) = range.eval(s)? else {
                    return None;
                };
                for i in 0..items(range)? {
                    s.slots[*slot] = Some(item(range, i));
                    let b = bool_of(predicate.eval(s))?;
                    if b != *all {
                        return Some(V::Bool(b));
                    }
                }
                Some(V::Bool(*all))
            }
        }
    }
}

fn bool_of(v: Option<V<'_>>) -> Option<bool> {
    match v? {
        V::Bool(b) => Some(b),
        _ => None,
    }
}

fn call<'a>(f: Func, a: &'a [Code], s: &mut Scope<'a>) -> Option<V<'a>> {
    match f {
        Func::And | Func::Or => {
            // Short-circuits like the interpreter: `false && x` is false, `true || x` true.
            let stop = f == Func::Or;
            if bool_of(a[0].eval(s))? == stop {
                return Some(V::Bool(stop));
            }
            bool_of(a[1].eval(s)).map(V::Bool)
        }
        Func::Not => bool_of(a[0].eval(s)).map(|b| V::Bool(!b)),
        Func::NotStrictlyFalse => bool_of(a[0].eval(s)).map(V::Bool),
        Func::Conditional => {
            let branch = if bool_of(a[0].eval(s))? { 1 } else { 2 };
            a[branch].eval(s)
        }
        Func::Neg => match a[0].eval(s)? {
            V::Int(i) => i.checked_neg().map(V::Int),
            V::Float(x) => Some(V::Float(-x)),
            _ => None,
        },
        Func::Size => size(&a[0].eval(s)?),
        Func::Quantity => match a[0].eval(s)? {
            V::Str(q) => quantity(&q).map(|(m, e)| V::Quantity(m, e)),
            _ => None,
        },
        _ => {
            let l = a[0].eval(s)?;
            let r = a[1].eval(s)?;
            binary(f, l, r)
        }
    }
}

fn binary<'a>(f: Func, l: V<'a>, r: V<'a>) -> Option<V<'a>> {
    let order = |want: fn(Ordering) -> bool| compare(&l, &r).map(|o| V::Bool(want(o)));
    match f {
        Func::Eq => equal(&l, &r).map(V::Bool),
        Func::Ne => equal(&l, &r).map(|e| V::Bool(!e)),
        Func::Lt => order(Ordering::is_lt),
        Func::Le => order(Ordering::is_le),
        Func::Gt => order(Ordering::is_gt),
        Func::Ge => order(Ordering::is_ge),
        Func::In => contains(&r, &l).map(V::Bool),
        Func::Index => index(l, &r),
        Func::IsLessThan | Func::IsGreaterThan | Func::CompareTo => {
            let (V::Quantity(am, ae), V::Quantity(bm, be)) = (l, r) else {
                return None;
            };
            let o = quantity_order((am, ae), (bm, be))?;
            Some(match f {
                Func::IsLessThan => V::Bool(o.is_lt()),
                Func::IsGreaterThan => V::Bool(o.is_gt()),
                _ => V::Int(o as i64),
            })
        }
        Func::StartsWith | Func::EndsWith | Func::Contains | Func::Matches => {
            let (V::Str(this), V::Str(arg)) = (&l, &r) else {
                return None;
            };
            Some(V::Bool(match f {
                Func::StartsWith => this.starts_with(arg.as_ref()),
                Func::EndsWith => this.ends_with(arg.as_ref()),
                Func::Contains => this.contains(arg.as_ref()),
                _ => regex_match(this, arg).ok()?,
            }))
        }
        _ => arithmetic(f, l, r),
    }
}

impl Loop {
    /// Runs as the interpreter runs a comprehension: the accumulator starts at `init`; before
    /// each item the condition is tested, then the item bound and the step evaluated.
    fn run<'a>(&'a self, s: &mut Scope<'a>) -> Option<V<'a>> {
        let init = self.init.eval(s)?;
        let V::Node(range) = self.range.eval(s)? else {
            return None;
        };
        let count = items(range)?;
        s.slots[self.accu] = Some(init);
        s.slots[self.item] = None;
        for i in 0..count {
            if !bool_of(self.cond.eval(s))? {
                break;
            }
            s.slots[self.item] = Some(item(range, i));
            let accu = self.step.eval(s)?;
            s.slots[self.accu] = Some(accu);
        }
        self.result.eval(s)
    }
}

/// How many items a list has, or keys a map.
fn items(range: &Node) -> Option<usize> {
    match &range.value {
        Y::Seq(items) => Some(items.len()),
        Y::Map(m) => Some(m.entries.len()),
        _ => None,
    }
}

/// Whether a comprehension is the expansion of `all` (`Some(true)`) or `exists`
/// (`Some(false)`): the accumulator starts at `true` (`false`), the loop goes on while it is not
/// strictly false (true), each step is `accu && predicate` (`accu || predicate`), and the result
/// is the accumulator. The predicate cannot see the accumulator (its name is not one users can
/// write).
fn quantifier(init: &Code, cond: &Code, step: &Code, result: &Code, accu: usize) -> Option<bool> {
    let is_accu = |c: &Code| matches!(c, Code::Slot(i) if *i == accu);
    let Code::Lit(Lit::Bool(all)) = init else {
        return None;
    };
    let Code::Call(Func::NotStrictlyFalse, c) = cond else {
        return None;
    };
    let cond_ok = if *all {
        is_accu(&c[0])
    } else {
        matches!(&c[0], Code::Call(Func::Not, n) if is_accu(&n[0]))
    };
    let want = if *all { Func::And } else { Func::Or };
    let step_ok = matches!(step, Code::Call(f, a) if *f == want && is_accu(&a[0]));
    (cond_ok && step_ok && is_accu(result)).then_some(*all)
}

impl Code {
    /// The predicate of a quantifier's step (`accu && predicate`).
    fn into_predicate(self) -> Code {
        match self {
            Code::Call(_, mut args) => args.pop().expect("a step has two operands"),
            other => other,
        }
    }
}

/// The `i`th item of a list, or key of a map. The interpreter's maps have no order: a result
/// that depends on it (a list built from a map's keys) is outside the subset anyway, and an
/// error met on one key gives up whatever came before.
fn item(range: &Node, i: usize) -> V<'_> {
    match &range.value {
        Y::Seq(items) => V::of(&items[i]),
        Y::Map(m) => V::Str(Cow::Borrowed(m.entries[i].key.as_str())),
        _ => V::Null,
    }
}
