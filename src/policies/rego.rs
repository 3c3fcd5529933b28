//! Conftest policies (Rego), evaluated in-process with regorus, by conftest's conventions: the
//! packages named by `rego-namespaces:` (conftest's `--namespace`, default `main`; `*` for all),
//! their rules `deny`, `violation` and `warn` (and `deny_*`, `violation_*`, `warn_*`) over
//! `input` = one rendered object, each result a message string or an object with `msg`. `deny`
//! and `violation` results are errors, `warn` results warnings; the rule id is
//! `<package>/<rule>` (`main/deny`). `data.kustodian.environment` is `{name, stage, app}`.
//!
//! Files may be Rego v1 (OPA 1.0, conftest's default) or the classic v0 syntax: a file that
//! fails as v1 only for want of v1's keywords (`deny[msg] { ... }`) is read as v0. A syntax error
//! is a `policy-error` at its file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use regorus::{Engine, Value};

use super::{EnvInput, Status, error_at};
use crate::diag::{ErrorCode, Finding, Related, RuleDescriptor, Severity};
use crate::source::{Fs, Loc, Sources};

/// One rule conftest would run.
#[derive(Clone, Debug)]
struct RegoRule {
    /// `<package>/<rule>`.
    id: String,
    /// `data.<package>.<rule>`.
    query: String,
    severity: Severity,
    /// The rule's first head in its file.
    loc: Loc,
}

/// The Conftest policies of a run.
pub struct RegoSet {
    base: Engine,
    rules: Vec<RegoRule>,
    /// Whether a policy reads `data.kustodian` (else one engine serves every environment).
    uses_env: bool,
    /// Engines prepared with an environment's data, by (app, environment, stage).
    pool: Mutex<BTreeMap<(String, String, String), Vec<Engine>>>,
}

/// Where regorus says an error is: (line, column) from its `--> file:line:col` and the message
/// from its `error: ...` line.
fn parse_error(e: &str) -> (usize, usize, String) {
    let position = e
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|p| {
            let mut it = p.rsplitn(3, ':');
            let col = it.next()?.trim().parse().ok()?;
            let line = it.next()?.trim().parse().ok()?;
            Some((line, col))
        })
        .unwrap_or((1, 1));
    let message = e
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(e.trim())
        .to_string();
    (position.0, position.1, message)
}

/// Rule names conftest looks for, as written at the start of a line (each then confirmed
/// against the parsed module).
fn candidate_rules(text: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let base = name.split('_').next().unwrap_or("");
        if ["deny", "violation", "warn"].contains(&base)
            && (name.len() == base.len() || name.as_bytes()[base.len()] == b'_')
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, i + 1));
        }
    }
    out
}

fn add_file(engine: &mut Engine, path: &str, text: &str) -> Result<String, (usize, usize, String)> {
    engine.set_rego_v0(false);
    match engine.add_policy(path.to_string(), text.to_string()) {
        Ok(p) => Ok(p),
        Err(e1) => {
            let e1 = e1.to_string();
            let v0 = e1.contains("keyword is required") && !text.contains("import rego.v1");
            if !v0 {
                return Err(parse_error(&e1));
            }
            engine.set_rego_v0(true);
            let r = engine.add_policy(path.to_string(), text.to_string());
            engine.set_rego_v0(false);
            r.map_err(|e0| parse_error(&e0.to_string()))
        }
    }
}

impl RegoSet {
    /// Loads every `.rego` file (but conftest's `_test.rego` unit tests) under the paths.
    pub fn load(
        fs: &dyn Fs,
        paths: &[String],
        namespaces: &[String],
        sources: &Sources,
    ) -> Result<RegoSet, Vec<Finding>> {
        let mut engine = Engine::new();
        let mut errs = Vec::new();
        let mut rules: Vec<RegoRule> = Vec::new();
        let mut uses_env = false;
        let wanted: Vec<&str> = if namespaces.is_empty() {
            vec!["main"]
        } else {
            namespaces.iter().map(String::as_str).collect()
        };
        let mut files = BTreeSet::new();
        for p in paths {
            match super::files::files_under(fs, p, ".rego") {
                Ok(list) => files.extend(list.into_iter().filter(|f| !f.ends_with("_test.rego"))),
                Err(e) => {
                    let mut f = Finding::error_code(ErrorCode::Config, format!("rego: {e}"));
                    f.path = Some(".kustodian.yaml".into());
                    errs.push(f);
                }
            }
        }
        for path in files {
            let text = match fs.read(&path) {
                Ok(t) => t,
                Err(e) => {
                    let mut f = Finding::error_code(ErrorCode::Policy, e.to_string());
                    f.path = Some(path.clone());
                    errs.push(f);
                    continue;
                }
            };
            let id = sources.add(&path, text.clone());
            let package = match add_file(&mut engine, &path, &text) {
                Ok(p) => p,
                Err((line, col, msg)) => {
                    errs.push(error_at(sources, &path, line, col, format!("Rego: {msg}")));
                    continue;
                }
            };
            uses_env |= text.contains("kustodian");
            let package = package.trim_start_matches("data.").to_string();
            if !wanted.contains(&"*") && !wanted.contains(&package.as_str()) {
                continue;
            }
            for (name, line) in candidate_rules(&text) {
                if !engine
                    .has_declared_rule_rooted_at(&path, &name)
                    .unwrap_or(false)
                {
                    continue;
                }
                let rule_id = format!("{package}/{name}");
                if rules.iter().any(|r| r.id == rule_id) {
                    continue;
                }
                let loc = sources.get(id).map_or(Loc::NONE, |f| {
                    let s = f.line_start(line as u32);
                    Loc::new(id, s, s + name.len())
                });
                rules.push(RegoRule {
                    query: format!("data.{package}.{name}"),
                    severity: if name.starts_with("warn") {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    id: rule_id,
                    loc,
                });
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(RegoSet {
            base: engine,
            rules,
            uses_env,
            pool: Mutex::default(),
        })
    }

    pub fn knows(&self, id: &str) -> bool {
        self.rules.iter().any(|r| r.id == id)
    }

    pub fn docs(&self) -> Vec<RuleDescriptor> {
        self.rules
            .iter()
            .map(|r| RuleDescriptor {
                id: r.id.clone(),
                summary: format!("Conftest policy rule {}", r.query),
                doc: format!(
                    "Conftest policy rule `{}`: every result it gives for a rendered object is a finding.",
                    r.query
                ),
                help_uri: None,
                default_severity: Some(r.severity),
                origin: Some("rego".into()),
            })
            .collect()
    }

    /// An engine for an environment (with its `data.kustodian.environment`).
    fn engine(&self, input: &EnvInput) -> Result<((String, String, String), Engine), String> {
        let key = if self.uses_env {
            (
                input.app.to_string(),
                input.env.to_string(),
                input.stage.map_or("", |s| s.as_str()).to_string(),
            )
        } else {
            Default::default()
        };
        if let Some(e) = self
            .pool
            .lock()
            .unwrap()
            .get_mut(&key)
            .and_then(std::vec::Vec::pop)
        {
            return Ok((key, e));
        }
        let mut e = self.base.clone();
        if self.uses_env {
            let env = crate::yaml::to_json(&input.environment);
            e.add_data(Value::from(
                serde_json::json!({"kustodian": {"environment": env}}),
            ))
            .map_err(|err| err.to_string())?;
        }
        Ok((key, e))
    }

    /// Evaluates every rule on every object of an environment.
    pub fn run(&self, input: &EnvInput, sink: &mut dyn FnMut(&str, usize, Status)) {
        if self.rules.is_empty() {
            return;
        }
        let (key, mut engine) = match self.engine(input) {
            Ok(x) => x,
            Err(e) => {
                let f = Finding::error_code(ErrorCode::Policy, format!("Rego: {e}"));
                sink("rego", 0, Status::Fail(Box::new(f)));
                return;
            }
        };
        for (i, r) in input.objects.iter().enumerate() {
            engine.set_input(Value::from(crate::yaml::to_json(&r.node)));
            for rule in &self.rules {
                let results = match engine.eval_rule(rule.query.clone()) {
                    Ok(v) => messages(&v),
                    Err(e) => vec![(format!("the policy could not be evaluated: {e}"), None)],
                };
                if results.is_empty() {
                    sink(&rule.id, i, Status::Pass);
                }
                for (msg, at) in results {
                    let at = at.and_then(|a| crate::settings::custom::parse_field_path(&a).ok());
                    let mut f = input.finding(&rule.id, r, msg, at.as_deref());
                    f.severity = rule.severity;
                    f.related.push(Related {
                        loc: rule.loc,
                        message: "the policy's rule".into(),
                    });
                    sink(&rule.id, i, Status::Fail(Box::new(f)));
                }
            }
        }
        self.pool
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .push(engine);
    }
}

/// The messages of a rule's value: a set or array of strings or `{msg: ...}` objects (with an
/// optional `at` field path).
fn messages(v: &Value) -> Vec<(String, Option<String>)> {
    let items: Vec<&Value> = match v {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        Value::Undefined | Value::Null => return vec![],
        Value::Bool(false) => return vec![],
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => (s.to_string(), None),
            Value::Object(o) => {
                let field = |k: &str| {
                    o.get(&Value::from(k))
                        .and_then(|m| m.as_string().ok())
                        .map(std::string::ToString::to_string)
                };
                (
                    field("msg").unwrap_or_else(|| item.to_json_str().unwrap_or_default()),
                    field("at"),
                )
            }
            other => (other.to_json_str().unwrap_or_default(), None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_candidates() {
        let (l, c, m) =
            parse_error("\n--> p/a.rego:5:3\n  |\n5 | }\n  | ^\nerror: expecting expression");
        assert_eq!((l, c, m.as_str()), (5, 3, "expecting expression"));
        let names = candidate_rules(
            "package main\ndeny[msg] {\n}\nwarn_replicas contains m if {\n}\ndenylist := 1\n",
        );
        assert_eq!(
            names,
            [("deny".to_string(), 2), ("warn_replicas".to_string(), 4)]
        );
    }
}
