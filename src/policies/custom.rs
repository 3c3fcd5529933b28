//! Custom rules at run time: each declared rule compiled once (a CEL error is a `policy-error`
//! at the expression's line and column in the file that declares it), then evaluated on every
//! object it matches in every environment it applies to.

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::cel::{Check, Part, Verdict, place};
use super::matching::ObjectMatcher;
use super::{EnvInput, Status};
use crate::diag::{ErrorCode, Finding, Related, RuleDescriptor, Severity};
use crate::render::Resource;
use crate::settings::custom::{CustomDecl, PathStep, parse_field_path};
use crate::settings::{Level, Stage};
use crate::source::{Loc, Sources};

/// The variables a custom rule's expressions may use.
pub const VARIABLES: &[&str] = &["object", "oldObject", "counterpart", "environment"];

/// A custom rule, compiled.
#[derive(Debug)]
pub struct CustomCheck {
    pub id: String,
    pub level: Level,
    stages: Option<Vec<Stage>>,
    environments: Option<Vec<String>>,
    apps: Option<GlobSet>,
    matcher: ObjectMatcher,
    pub check: Check,
    /// Whether the expressions read `oldObject` and `counterpart` (else they are not looked
    /// up).
    reads_old: bool,
    reads_counterpart: bool,
    message: Option<String>,
    at: Option<Vec<PathStep>>,
    /// Where the expression is written (findings point there as a related location).
    pub expression_loc: Loc,
    pub doc: RuleDescriptor,
}

fn fatal(decl: &CustomDecl, loc: Loc, msg: String) -> Finding {
    let mut f = Finding::error_code(ErrorCode::Policy, format!("{}: {msg}", decl.rule.id));
    f.loc = loc;
    f.path = Some(decl.file.clone());
    f
}

impl CustomCheck {
    /// Compiles a declared rule.
    pub fn compile(decl: &CustomDecl, sources: &Sources) -> Result<CustomCheck, Box<Finding>> {
        let r = &decl.rule;
        let vars: Vec<(String, String)> = r
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.expression.clone()))
            .collect();
        let check = Check::new(
            &vars,
            &r.expression,
            r.message_expression.as_deref(),
            VARIABLES,
        )
        .map_err(|(part, e)| {
            let at = match part {
                Part::Expression => decl.loc_of("expression"),
                Part::Message => decl.loc_of("messageExpression"),
                Part::Variable(i) => decl.variable_loc(i),
            };
            let what = match part {
                Part::Expression => "expression".to_string(),
                Part::Message => "messageExpression".to_string(),
                Part::Variable(i) => format!("variables[{i}]"),
            };
            fatal(
                decl,
                place(sources, at, e.line, e.column),
                format!("{what}: {}", e.message),
            )
        })?;
        let apps = match &r.apps {
            None => None,
            Some(globs) => {
                let mut b = GlobSetBuilder::new();
                for g in globs {
                    b.add(
                        Glob::new(g)
                            .map_err(|e| fatal(decl, decl.loc_of("apps"), e.to_string()))?,
                    );
                }
                Some(
                    b.build()
                        .map_err(|e| fatal(decl, decl.loc_of("apps"), e.to_string()))?,
                )
            }
        };
        let matcher = ObjectMatcher::new(r.matches.as_ref())
            .map_err(|e| fatal(decl, decl.loc_of("match"), e))?;
        let at =
            r.at.as_deref()
                .map(parse_field_path)
                .transpose()
                .map_err(|e| fatal(decl, decl.loc_of("at"), e))?;
        let level = r.severity.unwrap_or(Level::Error);
        Ok(CustomCheck {
            id: r.id.clone(),
            level,
            stages: r.stages.clone(),
            environments: r.environments.clone(),
            apps,
            matcher,
            reads_old: check.needs.contains_key("oldObject"),
            reads_counterpart: check.needs.contains_key("counterpart"),
            check,
            message: r.message.clone(),
            at,
            expression_loc: decl.loc_of("expression"),
            doc: doc_of(decl, level, sources),
        })
    }

    /// Whether the rule runs in this app's environment.
    pub fn applies(&self, app: &str, env: &str, stage: Option<Stage>) -> bool {
        if self.level == Level::Off || self.apps.as_ref().is_some_and(|g| !g.is_match(app)) {
            return false;
        }
        match (&self.stages, &self.environments) {
            (None, None) => true,
            (stages, envs) => {
                stages
                    .as_ref()
                    .is_some_and(|s| stage.is_some_and(|st| s.contains(&st)))
                    || envs.as_ref().is_some_and(|e| e.iter().any(|x| x == env))
            }
        }
    }

    /// Evaluates the rule on every object of an environment.
    pub fn run(&self, input: &EnvInput, sink: &mut dyn FnMut(&str, usize, Status)) {
        let applies = self.applies(input.app, input.env, input.stage);
        for (i, r) in input.objects.iter().enumerate() {
            if !applies || !self.matcher.matches_as(r, input.kinds[i]) {
                sink(&self.id, i, Status::Skip);
                continue;
            }
            let old = self.reads_old.then(|| input.old_at(i)).flatten();
            let counterpart = self
                .reads_counterpart
                .then(|| input.counterpart_at(i))
                .flatten();
            let verdict = self.check.evaluate(&[
                ("object", Some(&r.node)),
                ("oldObject", old.map(|o| &o.node)),
                ("counterpart", counterpart.map(|o| &o.node)),
                ("environment", Some(&input.environment)),
            ]);
            let status = match verdict {
                Verdict::Pass => Status::Pass,
                Verdict::Fail(msg) => Status::Fail(Box::new(self.finding(input, r, msg, None))),
                Verdict::Error(e) => Status::Fail(Box::new(self.finding(input, r, None, Some(e)))),
            };
            sink(&self.id, i, status);
        }
    }

    fn finding(
        &self,
        input: &EnvInput,
        r: &Resource,
        from_expression: Option<String>,
        error: Option<String>,
    ) -> Finding {
        let message = match (&error, from_expression, &self.message) {
            (Some(e), _, _) => format!("{}: the expression could not be evaluated: {e}", self.id),
            (None, Some(m), _) => m,
            (None, None, Some(m)) => m.clone(),
            (None, None, None) => format!("failed: {}", self.check.source().trim()),
        };
        let inferred;
        let at = if let Some(at) = &self.at {
            Some(at.as_slice())
        } else {
            inferred = super::analysis::single_path(self.check.verdict_needs.get("object"));
            inferred.as_deref()
        };
        let mut f = input.finding(&self.id, r, message, at);
        f.severity = self.level.severity().unwrap_or(Severity::Note);
        if error.is_some() {
            f.help = Some(
                "an expression that cannot be evaluated counts as failed; guard optional fields with has() or `?.`".into(),
            );
        }
        f.related.push(Related {
            loc: self.expression_loc,
            message: "the rule's expression".into(),
        });
        f
    }
}

/// A custom rule's description for `kustodian rules`, `explain` and SARIF.
fn doc_of(decl: &CustomDecl, level: Level, sources: &Sources) -> RuleDescriptor {
    let r = &decl.rule;
    let summary = r.message.clone().unwrap_or_else(|| {
        // One line: a folded expression's line breaks are only layout.
        let words: Vec<&str> = r.expression.split_whitespace().collect();
        format!("custom rule: {}", words.join(" "))
    });
    let mut doc = format!(
        "{summary}\n\nCustom rule declared in {}",
        sources.describe(decl.node.loc)
    );
    doc.push_str(&format!(
        ".\n\n**Expression.**\n\n```cel\n{}\n```\n",
        r.expression.trim()
    ));
    if let Some(m) = &r.message_expression {
        doc.push_str(&format!("\n**Message expression.** `{}`\n", m.trim()));
    }
    if !r.variables.is_empty() {
        doc.push_str("\n**Variables.**\n\n");
        for v in &r.variables {
            doc.push_str(&format!("- `{}`: `{}`\n", v.name, v.expression.trim()));
        }
    }
    if let Some(at) = &r.at {
        doc.push_str(&format!("\n**Points at** `{at}`.\n"));
    }
    if let Some(d) = &r.docs {
        doc.push_str(&format!("\n**Docs.** {d}\n"));
    }
    RuleDescriptor {
        id: r.id.clone(),
        summary,
        doc,
        help_uri: r.docs.clone(),
        default_severity: level.severity(),
        origin: Some("custom".into()),
    }
}
