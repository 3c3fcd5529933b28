//! Exceptions (`exceptions:` in `.kustodian.yaml`): findings of one rule waived on purpose, by
//! app, environment and object globs, optionally until a date — each with its reason. Compiled
//! here (every problem at its line); applied to findings by the check engine, which also handles
//! inline `# kustodian:ignore[...]` comments.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use schemars::JsonSchema;
use serde::Deserialize;

use super::policy::RuleCatalog;
use crate::diag::{ErrorCode, Finding};
use crate::source::{Loc, Sources};

/// A waiver for findings of one rule. Selectors left out match everything.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Exception {
    /// The rule id whose findings are waived (`kustodian rules`).
    pub rule: String,
    /// Why the findings are acceptable; shown with every suppressed finding.
    pub reason: String,
    /// Globs of app names.
    #[serde(default)]
    pub apps: Vec<String>,
    /// Environment names.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Globs of `Kind/name` of the rendered object (`Deployment/legacy-*`).
    #[serde(default)]
    pub resources: Vec<String>,
    /// The last day (`YYYY-MM-DD`, UTC) the exception applies; after it the findings count again
    /// and `unused-suppression` reports the exception.
    pub expires: Option<String>,
}

/// A configured exception, compiled.
#[derive(Clone, Debug)]
pub struct Waiver {
    pub rule: String,
    pub reason: String,
    apps: Option<GlobSet>,
    environments: Vec<String>,
    resources: Option<GlobSet>,
    /// Last day it applies.
    pub expires: Option<jiff::civil::Date>,
    /// The exception's entry in `.kustodian.yaml`.
    pub loc: Loc,
    /// The rule is neither built in nor a custom rule of `.kustodian.yaml`: it must be an
    /// imported one (an admission policy, a Rego rule, a custom rule of `--policy`), which
    /// only a check knows.
    pub imported: bool,
}

impl Waiver {
    /// Compiles the `exceptions` of a config file; every problem is returned, at its line.
    pub fn compile(
        list: &[Exception],
        path: &str,
        sources: &Sources,
        catalog: &dyn RuleCatalog,
        custom: &[&str],
    ) -> Result<Vec<Waiver>, Vec<Finding>> {
        // The entries' places, from the text the loader registered.
        let doc = super::load::document(sources, path);
        let entry = |i: usize| {
            doc.as_ref()
                .and_then(|d| d.get("exceptions")?.as_seq()?.get(i))
        };
        let at = |i: usize, key: &str| {
            entry(i)
                .and_then(|e| e.get(key).or(Some(e)))
                .map_or(Loc::NONE, |n| n.loc)
        };
        let mut errs = Vec::new();
        let mut fail = |msg: String, loc: Loc| {
            let mut f = Finding::error_code(ErrorCode::Config, msg);
            f.path = Some(path.to_string());
            f.loc = loc;
            errs.push(f);
        };
        let mut out = Vec::new();
        for (i, e) in list.iter().enumerate() {
            let known = catalog.is_known(&e.rule) || custom.contains(&e.rule.as_str());
            // An id close to a known one is a typo; any other may name a rule the check
            // imports (an admission policy's name, `<package>/<rule>` of a Rego policy), which
            // the check then confirms (`unused-suppression`).
            let near = (!known)
                .then(|| {
                    catalog
                        .ids()
                        .into_iter()
                        .chain(custom.iter().copied())
                        .find(|id| crate::text::edit_distance(id, &e.rule) <= 2)
                })
                .flatten();
            if let Some(near) = near {
                fail(
                    format!(
                        "exceptions[{i}]: unknown rule '{}'; did you mean '{near}'? (see `kustodian rules`)",
                        e.rule
                    ),
                    at(i, "rule"),
                );
            }
            if e.reason.trim().is_empty() {
                fail(
                    format!("exceptions[{i}]: the reason must say why"),
                    at(i, "reason"),
                );
            }
            let mut globs = |key: &str, list: &[String]| -> Option<GlobSet> {
                if list.is_empty() {
                    return None;
                }
                let mut b = GlobSetBuilder::new();
                for g in list {
                    match GlobBuilder::new(g).literal_separator(true).build() {
                        Ok(g) => {
                            b.add(g);
                        }
                        Err(err) => fail(
                            format!("exceptions[{i}].{key}: invalid glob '{g}': {err}"),
                            at(i, key),
                        ),
                    }
                }
                b.build().ok()
            };
            let apps = globs("apps", &e.apps);
            let resources = globs("resources", &e.resources);
            let expires = match &e.expires {
                None => None,
                // A plain YAML date arrives as the timestamp YAML makes of it.
                Some(d) => {
                    if let Ok(d) = d.parse::<jiff::civil::Date>().or_else(|e| {
                        d.parse::<jiff::Timestamp>()
                            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
                            .map_err(|_| e)
                    }) {
                        Some(d)
                    } else {
                        fail(
                            format!("exceptions[{i}].expires: '{d}' is not a date (YYYY-MM-DD)"),
                            at(i, "expires"),
                        );
                        None
                    }
                }
            };
            out.push(Waiver {
                rule: e.rule.clone(),
                reason: e.reason.trim().to_string(),
                apps,
                environments: e.environments.clone(),
                resources,
                expires,
                loc: entry(i).map_or(Loc::NONE, |n| n.loc),
                imported: !known,
            });
        }
        if errs.is_empty() { Ok(out) } else { Err(errs) }
    }

    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires.is_some_and(|d| today > d)
    }

    pub fn matches(&self, f: &Finding) -> bool {
        if f.rule != self.rule {
            return false;
        }
        if let Some(g) = &self.apps
            && !f.app.as_deref().is_some_and(|a| g.is_match(a))
        {
            return false;
        }
        // A finding about several environments ("dev, staging") is waived when all are listed.
        if !self.environments.is_empty()
            && !f.environment.as_deref().is_some_and(|envs| {
                envs.split(", ")
                    .all(|e| self.environments.iter().any(|x| x == e))
            })
        {
            return false;
        }
        if let Some(g) = &self.resources
            && !f
                .resource
                .as_ref()
                .is_some_and(|r| g.is_match(format!("{}/{}", r.kind, r.name)))
        {
            return false;
        }
        true
    }
}
