//! CEL, as Kubernetes speaks it: compiling an expression (a syntax error names its line and
//! column inside the expression, which [`place`] turns into the file's), binding rendered objects
//! and evaluating a [`Check`] — variables, an expression that must be true, an optional message
//! expression — with what [`super::analysis`] found it reads, and remembering results by those
//! inputs.
//!
//! A check whose parts are all in [`super::direct`]'s subset is evaluated there first, on the
//! rendered nodes themselves; the interpreter decides the rest. For the interpreter, one root
//! context holds the standard and Kubernetes function libraries (kube-cel), built once per
//! process and shared by every thread; each evaluation adds its variables in a child scope.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use kube_cel::KubeCelExt;
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, Program, Value};

use super::analysis::{self, Need, Pruned, Uses};
use super::direct::{self, V};
use crate::source::{Loc, Sources};
use crate::yaml::Node;

/// The root context: standard functions plus the Kubernetes libraries.
fn root() -> &'static Context<'static> {
    static ROOT: OnceLock<Context<'static>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mut ctx = Context::default().with_all();
        ctx.add_function("matches", matches);
        ctx
    })
}

/// `string.matches(regex)`, through [`direct::regex_match`]: the interpreter's own compiles the pattern
/// on every call, which made a name-pattern rule the costliest of a hundred.
fn matches(
    ftx: &kube_cel::cel::FunctionContext,
    kube_cel::cel::extractors::This(this): kube_cel::cel::extractors::This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, kube_cel::cel::ExecutionError> {
    direct::regex_match(&this, &pattern).map_err(|e| ftx.error(e))
}

/// An expression that did not compile: where (1-based, inside the expression) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CelError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

/// A compiled expression and what it reads.
#[derive(Debug)]
pub(crate) struct Compiled {
    program: Program,
    pub(crate) uses: Uses,
    pub(crate) source: String,
    /// The expression as [`direct`] code, when it is in the subset.
    direct: Option<direct::Code>,
}

/// Compiles an expression that may use the variables `known` (and `variables.<name>`).
pub(crate) fn compile(source: &str, known: &[&str]) -> Result<Compiled, CelError> {
    let program = Program::compile(source).map_err(|errs| {
        let e = errs.errors.first();
        let (line, column) = e.map_or((1, 1), |e| {
            (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize)
        });
        let message = e.map_or_else(|| errs.to_string(), |e| e.msg.clone());
        CelError {
            line,
            column,
            message,
        }
    })?;
    let uses = analysis::analyze(program.expression(), known).map_err(|message| CelError {
        line: 1,
        column: 1,
        message,
    })?;
    let direct = direct::Code::compile(program.expression());
    Ok(Compiled {
        program,
        uses,
        source: source.to_string(),
        direct,
    })
}

/// Where line `line`, column `column` (1-based) of an expression written as the YAML scalar at
/// `at` is in its file: a block scalar's (`|`, `>`) lines start at the content's indentation,
/// a quoted one's first line one character after the quote, and continuation lines of flow
/// scalars at their first non-blank.
pub(crate) fn place(sources: &Sources, at: Loc, line: usize, column: usize) -> Loc {
    let Some(file) = sources.get(at.file) else {
        return at;
    };
    let text = &file.text;
    let (from, to) = (at.start as usize, (at.end as usize).min(text.len()));
    // A block scalar's node starts at its indicator or at its first content line (after a
    // header line ending in the indicator).
    let line_begin = text[..from].rfind('\n').map_or(0, |i| i + 1);
    let header_before = text[line_begin..from].trim().is_empty()
        && text[..line_begin.saturating_sub(1)]
            .rsplit('\n')
            .next()
            .is_some_and(|prev| {
                let prev = prev.split(" #").next().unwrap_or(prev).trim_end();
                prev.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit())
                    .ends_with(['|', '>'])
            });
    let indicator = text[from..to].starts_with(['|', '>']);
    let mut starts = Vec::new();
    if indicator || header_before {
        let content = if indicator {
            text[from..to].find('\n').map_or(to, |i| from + i + 1)
        } else {
            line_begin
        };
        let body = &text[content..to];
        let indent = body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let mut offset = content;
        for l in body.split_inclusive('\n') {
            starts.push(offset + indent.min(l.trim_end_matches(['\n', '\r']).len()));
            offset += l.len();
        }
    } else {
        let mut offset = from;
        for (i, l) in text[from..to].split_inclusive('\n').enumerate() {
            let content = l.trim_end_matches(['\n', '\r']);
            if i == 0 {
                starts.push(offset + usize::from(content.starts_with(['"', '\''])));
            } else {
                starts.push(offset + (content.len() - content.trim_start().len()));
            }
            offset += l.len();
        }
    }
    let Some(&start) = starts.get(line.saturating_sub(1)) else {
        return at;
    };
    // Columns count characters.
    let rest = &text[start..];
    let byte = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(b, _)| b);
    let pos = (start + byte).min(text.len());
    Loc::new(at.file, pos, pos)
}

/// A whole node as a CEL value.
pub(crate) fn value_of(node: &Node) -> Value {
    use crate::yaml::Value as Y;
    match &node.value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Int(i) => Value::Int(*i),
        Y::Float(f) => Value::Float(*f),
        Y::Str(s) => Value::String(Arc::new(s.to_string())),
        Y::Seq(items) => Value::List(Arc::new(items.iter().map(value_of).collect())),
        Y::Map(m) => Value::Map(Map {
            map: Arc::new(
                m.entries
                    .iter()
                    .map(|e| (Key::String(Arc::new(e.key.to_string())), value_of(&e.value)))
                    .collect(),
            ),
        }),
    }
}

/// A pruned value as a CEL value.
fn pruned_value(p: &Pruned) -> Value {
    match p {
        Pruned::Present => Value::Null,
        Pruned::Whole(n) => value_of(n),
        Pruned::List(items) => Value::List(Arc::new(items.iter().map(pruned_value).collect())),
        Pruned::Map(entries) => Value::Map(Map {
            map: Arc::new(
                entries
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.to_string())), pruned_value(v)))
                    .collect(),
            ),
        }),
    }
}

/// Renders a CEL value for a message (strings without quotes).
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// The outcome of a check on one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    /// Failed; the message expression's result, when there is one and it gave a string.
    Fail(Option<String>),
    /// Could not be evaluated (a missing field, a type error), with the interpreter's words.
    Error(String),
}

/// Variables, an expression that must be true and an optional message expression, evaluated
/// together on one object's inputs.
pub(crate) struct Check {
    variables: Vec<(String, Compiled)>,
    /// Indexes of the variables the expressions use, directly or through other variables.
    used: Vec<usize>,
    expression: Compiled,
    message: Option<Compiled>,
    /// What of each input the whole check reads.
    pub(crate) needs: BTreeMap<String, Need>,
    /// What of each input the verdict reads (the expression and the variables it uses, not the
    /// message): a finding points at its one field when there is one.
    pub(crate) verdict_needs: BTreeMap<String, Need>,
    /// Whether the expression and the variables it uses are all in [`direct`]'s subset.
    direct: bool,
    memo: Memo,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("expression", &self.expression.source)
            .finish_non_exhaustive()
    }
}

/// A compile error of one part of a check: which part (`None`: the expression; `Some(i)`: the
/// `i`th variable; `message` for the message expression).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Expression,
    Variable(usize),
    Message,
}

impl Check {
    /// Compiles every part; the first error names its part.
    pub(crate) fn new(
        variables: &[(String, String)],
        expression: &str,
        message: Option<&str>,
        known: &[&str],
    ) -> Result<Check, (Part, CelError)> {
        let mut vars = Vec::new();
        for (i, (name, src)) in variables.iter().enumerate() {
            let c = compile(src, known).map_err(|e| (Part::Variable(i), e))?;
            if let Some(later) = c
                .uses
                .variables
                .iter()
                .find(|v| !variables[..i].iter().any(|(n, _)| n == *v))
            {
                return Err((
                    Part::Variable(i),
                    CelError {
                        line: 1,
                        column: 1,
                        message: format!(
                            "variables.{later} is not declared before '{name}' (a variable may use the ones above it)"
                        ),
                    },
                ));
            }
            vars.push((name.clone(), c));
        }
        let expression = compile(expression, known).map_err(|e| (Part::Expression, e))?;
        let message = message
            .map(|m| compile(m, known))
            .transpose()
            .map_err(|e| (Part::Message, e))?;
        for (part, c) in [
            (Part::Expression, Some(&expression)),
            (Part::Message, message.as_ref()),
        ] {
            if let Some(c) = c
                && let Some(v) = c
                    .uses
                    .variables
                    .iter()
                    .find(|v| !vars.iter().any(|(n, _)| n == *v))
            {
                return Err((
                    part,
                    CelError {
                        line: 1,
                        column: 1,
                        message: format!("variables.{v} is not declared"),
                    },
                ));
            }
        }
        // The variables used, transitively, in declaration order.
        let mut wanted: std::collections::BTreeSet<String> = expression.uses.variables.clone();
        if let Some(m) = &message {
            wanted.extend(m.uses.variables.iter().cloned());
        }
        for (name, c) in vars.iter().rev() {
            if wanted.contains(name) {
                wanted.extend(c.uses.variables.iter().cloned());
            }
        }
        let used: Vec<usize> = (0..vars.len())
            .filter(|i| wanted.contains(&vars[*i].0))
            .collect();
        let mut verdict = expression.uses.clone();
        let mut through: std::collections::BTreeSet<String> = expression.uses.variables.clone();
        for (name, c) in vars.iter().rev() {
            if through.contains(name) {
                through.extend(c.uses.variables.iter().cloned());
                verdict.merge(&c.uses);
            }
        }
        let mut all = expression.uses.clone();
        if let Some(m) = &message {
            all.merge(&m.uses);
        }
        for i in &used {
            all.merge(&vars[*i].1.uses);
        }
        let direct =
            expression.direct.is_some() && used.iter().all(|i| vars[*i].1.direct.is_some());
        Ok(Check {
            direct,
            variables: vars,
            used,
            expression,
            message,
            needs: all.roots,
            verdict_needs: verdict.roots,
            memo: Memo::default(),
        })
    }

    /// The expression's source.
    pub(crate) fn source(&self) -> &str {
        &self.expression.source
    }

    /// Evaluates the check on named inputs (`None`: null). Inputs the check does not read are
    /// never looked at.
    pub(crate) fn evaluate(&self, inputs: &[(&str, Option<&Node>)]) -> Verdict {
        if self.direct
            && let Some(v) = self.evaluate_directly(inputs)
        {
            debug_assert_eq!(
                v,
                self.interpret(inputs),
                "direct evaluation of `{}` differs from the interpreter's",
                self.expression.source
            );
            return v;
        }
        self.interpret(inputs)
    }

    /// The verdict of [`direct`] evaluation, when it decides every part (a failed check's
    /// message too).
    fn evaluate_directly<'a>(
        &'a self,
        inputs: &'a [(&'a str, Option<&'a Node>)],
    ) -> Option<Verdict> {
        let mut scope = direct::Scope::new(inputs);
        let code = |c: &'a Compiled| c.direct.as_ref();
        for i in &self.used {
            let (name, c) = &self.variables[*i];
            let v = code(c)?.eval(&mut scope)?;
            scope.set_variable(name, v);
        }
        match code(&self.expression)?.eval(&mut scope)? {
            V::Bool(true) => Some(Verdict::Pass),
            V::Bool(false) => match self.message.as_ref().and_then(code) {
                None if self.message.is_none() => Some(Verdict::Fail(None)),
                Some(m) => match m.eval(&mut scope)? {
                    V::Str(s) if !s.trim().is_empty() => Some(Verdict::Fail(Some(s.into_owned()))),
                    _ => Some(Verdict::Fail(None)),
                },
                None => None,
            },
            _ => None,
        }
    }

    /// Evaluates the check with the interpreter, on the inputs pruned to what it reads, its
    /// results remembered by those.
    fn interpret(&self, inputs: &[(&str, Option<&Node>)]) -> Verdict {
        let pruned: Vec<(&str, Option<Pruned>)> = self
            .needs
            .iter()
            .map(|(name, need)| {
                let node = inputs.iter().find(|(n, _)| n == name).and_then(|(_, n)| *n);
                (name.as_str(), node.and_then(|n| analysis::prune(n, need)))
            })
            .collect();
        if self.memo.off.load(Ordering::Relaxed) {
            return self.run(&pruned);
        }
        let mut key = Vec::with_capacity(64);
        for (_, p) in &pruned {
            analysis::key(p.as_ref(), &mut key);
        }
        if let Some(v) = self.memo.get(&key) {
            return v;
        }
        let v = self.run(&pruned);
        self.memo.put(key, &v);
        v
    }

    fn run(&self, inputs: &[(&str, Option<Pruned>)]) -> Verdict {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut ctx = root().new_inner_scope();
            for (name, p) in inputs {
                ctx.add_variable_from_value(*name, p.as_ref().map_or(Value::Null, pruned_value));
            }
            let mut values: HashMap<Key, Value> = HashMap::new();
            for i in &self.used {
                let (name, c) = &self.variables[*i];
                let mut scope = ctx.new_inner_scope();
                scope.add_variable_from_value(
                    "variables",
                    Value::Map(Map {
                        map: Arc::new(values.clone()),
                    }),
                );
                let v = c
                    .program
                    .execute(&scope)
                    .map_err(|e| format!("variables.{name}: {e}"))?;
                values.insert(Key::String(Arc::new(name.clone())), v);
            }
            if !self.variables.is_empty() {
                ctx.add_variable_from_value(
                    "variables",
                    Value::Map(Map {
                        map: Arc::new(values),
                    }),
                );
            }
            match self.expression.program.execute(&ctx) {
                Ok(Value::Bool(true)) => Ok(Verdict::Pass),
                Ok(Value::Bool(false)) => Ok(Verdict::Fail(self.message.as_ref().and_then(|m| {
                    match m.program.execute(&ctx) {
                        Ok(Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                        _ => None,
                    }
                }))),
                Ok(other) => Err(format!(
                    "the expression gave {}, not a bool",
                    display(&other)
                )),
                Err(e) => Err(e.to_string()),
            }
        }));
        match outcome {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => Verdict::Error(e),
            Err(_) => Verdict::Error("the CEL interpreter failed on this expression".into()),
        }
    }
}

/// Results by their inputs' encoding, sharded by hash so threads rarely wait on each other. A
/// check whose inputs hardly repeat (names, digests) stops remembering after a while: the
/// lookups would cost more than they save.
#[derive(Default)]
struct Memo {
    shards: [Mutex<HashMap<Vec<u8>, Verdict, foldhash::fast::RandomState>>; 8],
    lookups: AtomicU32,
    hits: AtomicU32,
    off: AtomicBool,
}

/// Lookups after which a check that rarely repeats stops remembering.
const MEMO_TRIAL: u32 = 512;
/// Entries per check at most.
const MEMO_CAP: usize = 4096;

impl Memo {
    fn shard(&self, key: &[u8]) -> &Mutex<HashMap<Vec<u8>, Verdict, foldhash::fast::RandomState>> {
        let h = foldhash::fast::FixedState::default().hash_one(key);
        &self.shards[(h % 8) as usize]
    }

    fn get(&self, key: &[u8]) -> Option<Verdict> {
        if self.off.load(Ordering::Relaxed) {
            return None;
        }
        let n = self.lookups.fetch_add(1, Ordering::Relaxed) + 1;
        let hit = self.shard(key).lock().unwrap().get(key).cloned();
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else if n >= MEMO_TRIAL && self.hits.load(Ordering::Relaxed) * 4 < n {
            self.off.store(true, Ordering::Relaxed);
        }
        hit
    }

    fn put(&self, key: Vec<u8>, v: &Verdict) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        let mut shard = self.shard(&key).lock().unwrap();
        if shard.len() < MEMO_CAP / 8 {
            shard.insert(key, v.clone());
        }
    }
}

#[cfg(test)]
mod agreement;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn node(yaml: &str) -> Node {
        crate::yaml::parse_documents(yaml, FileId(0))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn kubernetes_libraries_and_variables() {
        let c = Check::new(
            &[("mem".into(), "object.spec.containers[0].resources.limits.memory".into())],
            "quantity(variables.mem).isLessThan(quantity('1Gi')) && object.metadata.name.matches('^web-')",
            Some("'too much memory: ' + variables.mem"),
            &["object"],
        )
        .unwrap();
        let ok = node(
            "metadata: {name: web-1}\nspec:\n  containers:\n  - resources: {limits: {memory: 512Mi}}\n",
        );
        assert_eq!(c.evaluate(&[("object", Some(&ok))]), Verdict::Pass);
        let big = node(
            "metadata: {name: web-1}\nspec:\n  containers:\n  - resources: {limits: {memory: 2Gi}}\n",
        );
        assert_eq!(
            c.evaluate(&[("object", Some(&big))]),
            Verdict::Fail(Some("too much memory: 2Gi".into()))
        );
        // Remembered: the same inputs give the same verdict.
        assert_eq!(
            c.evaluate(&[("object", Some(&big))]),
            Verdict::Fail(Some("too much memory: 2Gi".into()))
        );
        let missing = node("metadata: {name: web-1}\nspec: {containers: [{}]}\n");
        assert!(matches!(
            c.evaluate(&[("object", Some(&missing))]),
            Verdict::Error(e) if e.contains("resources")
        ));
    }

    #[test]
    fn regular_expressions_compiled_once_per_thread_still_judge_each_string() {
        let c = Check::new(
            &[],
            "object.name.matches('^app-[0-9]+$')",
            None,
            &["object"],
        )
        .unwrap();
        for (name, want) in [("app-1", true), ("app-x", false), ("app-22", true)] {
            let o = node(&format!("name: {name}\n"));
            let got = c.evaluate(&[("object", Some(&o))]) == Verdict::Pass;
            assert_eq!(got, want, "{name}");
        }
        let bad = Check::new(&[], "object.name.matches('(')", None, &["object"]).unwrap();
        assert!(matches!(
            bad.evaluate(&[("object", Some(&node("name: a\n")))]),
            Verdict::Error(e) if e.contains("not a valid regex")
        ));
    }

    #[test]
    fn null_inputs_and_non_bool_results() {
        let c = Check::new(
            &[],
            "oldObject == null || object.x >= oldObject.x / 2",
            None,
            &["object", "oldObject"],
        )
        .unwrap();
        let o = node("x: 2\n");
        assert_eq!(
            c.evaluate(&[("object", Some(&o)), ("oldObject", None)]),
            Verdict::Pass
        );
        let old = node("x: 10\n");
        assert_eq!(
            c.evaluate(&[("object", Some(&o)), ("oldObject", Some(&old))]),
            Verdict::Fail(None)
        );
        let c = Check::new(&[], "object.x", None, &["object"]).unwrap();
        assert!(
            matches!(c.evaluate(&[("object", Some(&o))]), Verdict::Error(e) if e.contains("not a bool"))
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = compile("object.spec\n  .replicas >= )", &["object"]).unwrap_err();
        assert_eq!((e.line, e.column), (2, 16));
        let e = compile("objet.x > 1", &["object"]).unwrap_err();
        assert!(e.message.contains("unknown variable 'objet'"));
        let e = Check::new(&[], "variables.nope", None, &["object"]).unwrap_err();
        assert_eq!(e.0, Part::Expression);
    }

    #[test]
    fn places_in_the_file() {
        let sources = Sources::new();
        let text = "a: \"object.x >\"\nb: |\n  object.x\n    > )\n";
        let id = sources.add("p.yaml", text.into());
        let doc = crate::yaml::parse_documents(text, id).unwrap().remove(0);
        let at = |key: &str, line, col| {
            let loc = place(&sources, doc.get(key).unwrap().loc, line, col);
            let p = sources.position(loc).unwrap();
            (p.line, p.column)
        };
        assert_eq!(at("a", 1, 11), (1, 15));
        assert_eq!(at("b", 2, 5), (4, 7));
        assert_eq!(at("b", 1, 1), (3, 3));
    }
}
