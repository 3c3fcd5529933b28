//! Policies: which rules run where, with which severity and options.
//!
//! A policy is a map keyed by rule id. The built-in layer comes from the rules themselves (each
//! declares its default severity and stages next to its code, and `policies/default.yaml` is that
//! table written out); `.kustodian.yaml`'s `rules:` overrides it, and a `--policy FILE` overrides
//! both, rule by rule and field by field. This module knows no rule: a [`RuleCatalog`] (the rule
//! registry) tells it which ids exist, their defaults, the JSON Schema of their options and how
//! to turn written options into the rule's typed struct. Options are compiled once per run and
//! handed to the rule as that struct ([`RuleSettings::options`]).
//!
//! Loading is two-phase (see [`super::load`]): an unknown rule id, an unknown option or a
//! misspelled severity is reported with its line, all at once.
//!
//! Severity is data: rules push findings; the engine stamps each with the severity the policy
//! gives that rule, and skips rules set to `off` or not applying to an environment.

use std::any::Any;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use globset::{Glob, GlobSetBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::custom::{CustomDecl, CustomRule, declare};
pub use super::level::Level;
use super::load::load_with_schema;
use super::stage::Stage;
use crate::diag::{ErrorCode, Finding};
use crate::source::Sources;

/// Settings of one rule, as written. Unset fields inherit from the layer below.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    /// `error`, `warning`, `note`, or `off`.
    pub(crate) severity: Option<Level>,
    /// Stages the rule applies to (`dev`, `staging`, `production`). Default: all.
    pub(crate) stages: Option<Vec<Stage>>,
    /// Environment names the rule applies to (in addition to `stages`).
    pub(crate) environments: Option<Vec<String>>,
    /// Globs of app names the rule applies to. Default: all apps.
    pub(crate) apps: Option<Vec<String>>,
    /// Rule-specific options (`kustodian explain <rule>` lists them).
    pub(crate) options: Option<serde_json::Value>,
}

/// [`RuleEntry`] with the options typed: what the JSON Schema of one rule's entry is made from.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RuleEntry_{O}")]
#[allow(dead_code)] // only its schema is used
pub(crate) struct TypedRuleEntry<O> {
    /// `error`, `warning`, `note`, or `off`.
    severity: Option<Level>,
    /// Stages the rule applies to (`dev`, `staging`, `production`). Default: all.
    stages: Option<Vec<Stage>>,
    /// Environment names the rule applies to (in addition to `stages`).
    environments: Option<Vec<String>>,
    /// Globs of app names the rule applies to. Default: all apps.
    apps: Option<Vec<String>>,
    /// Rule-specific options.
    options: Option<O>,
}

/// The rule table of a policy file (or of `.kustodian.yaml`'s `rules:`), by rule id.
pub(crate) type Rules = BTreeMap<String, RuleEntry>;

/// A policy file (`--policy FILE`; `policies/default.yaml` documents the built-in one).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Rules by id. A rule not listed keeps its built-in settings.
    #[serde(default)]
    pub(crate) rules: Rules,
    /// Rules written here, in CEL (docs/policies.md). One with the id of a custom rule of
    /// `.kustodian.yaml` replaces it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) custom: Vec<CustomRule>,
}

/// Typed options, compiled once per run.
pub(crate) type Options = Arc<dyn Any + Send + Sync>;

/// What the settings need to know of the rules (implemented by the rule registry).
pub trait RuleCatalog: Sync {
    /// Every rule id, in documentation order.
    fn ids(&self) -> Vec<&'static str>;
    /// Whether `id` names a rule.
    fn is_known(&self, id: &str) -> bool {
        self.ids().contains(&id)
    }
    /// The built-in settings of a rule (no options: those default to the rule's own).
    fn defaults(&self, id: &str) -> RuleEntry;
    /// The JSON Schema of a rule's entry, its options typed; definitions go into `generator`.
    fn entry_schema(&self, id: &str, generator: &mut schemars::SchemaGenerator)
    -> schemars::Schema;
    /// The rule's typed options from what was written (`None`: the rule's defaults).
    fn compile_options(
        &self,
        id: &str,
        written: Option<&serde_json::Value>,
    ) -> Result<Options, String>;
}

/// The JSON Schema of a document of type `T` whose `rules` property (at `rules_at`) is the rule
/// table: every known id with its typed entry, nothing else.
pub(crate) fn schema_with_rules<T: JsonSchema>(
    catalog: &dyn RuleCatalog,
    rules_at: &[&str],
) -> serde_json::Value {
    let mut generator = schemars::SchemaGenerator::default();
    let mut entries = serde_json::Map::new();
    for id in catalog.ids() {
        let s = catalog.entry_schema(id, &mut generator);
        entries.insert(id.to_string(), s.to_value());
    }
    let mut root = generator.into_root_schema_for::<T>().to_value();
    let mut at = &mut root;
    for key in rules_at {
        at = &mut at[*key];
    }
    let description = at.get("description").cloned();
    let mut table = serde_json::json!({
        "type": "object",
        "properties": entries,
        "additionalProperties": false,
    });
    if let Some(d) = description {
        table["description"] = d;
    }
    *at = table;
    // The untyped entry the Rust type names is no longer referenced.
    if let Some(defs) = root.get_mut("$defs").and_then(|d| d.as_object_mut()) {
        defs.remove("RuleEntry");
    }
    root
}

/// The schema of a policy file.
pub fn policy_schema(catalog: &dyn RuleCatalog) -> serde_json::Value {
    schema_with_rules::<PolicyFile>(catalog, &["properties", "rules"])
}

/// What serde cannot check in a rule table: every id is a rule, and every rule's options have
/// its option type.
pub(crate) fn check_rules(rules: &Rules, catalog: &dyn RuleCatalog) -> Result<(), String> {
    for (id, e) in rules {
        if !catalog.is_known(id) {
            return Err(format!("unknown rule '{id}' (see `kustodian rules`)"));
        }
        catalog.compile_options(id, e.options.as_ref())?;
    }
    Ok(())
}

/// `over` layered on `base`, field by field.
pub(crate) fn layered(over: &Rules, base: &Rules) -> Rules {
    let mut out = base.clone();
    for (id, o) in over {
        let merged = match base.get(id) {
            None => o.clone(),
            Some(b) => RuleEntry {
                severity: o.severity.or(b.severity),
                stages: o.stages.clone().or_else(|| b.stages.clone()),
                environments: o.environments.clone().or_else(|| b.environments.clone()),
                apps: o.apps.clone().or_else(|| b.apps.clone()),
                options: o.options.clone().or_else(|| b.options.clone()),
            },
        };
        out.insert(id.clone(), merged);
    }
    out
}

/// Effective settings of one rule.
#[derive(Clone)]
pub(crate) struct RuleSettings {
    pub(crate) level: Level,
    pub(crate) stages: Option<Vec<Stage>>,
    pub(crate) environments: Option<Vec<String>>,
    apps: Option<globset::GlobSet>,
    options: Options,
}

impl std::fmt::Debug for RuleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSettings")
            .field("level", &self.level)
            .field("stages", &self.stages)
            .field("environments", &self.environments)
            .finish_non_exhaustive()
    }
}

impl RuleSettings {
    /// Enabled for this app and environment?
    pub(crate) fn applies(&self, app: &str, env: &str, stage: Option<Stage>) -> bool {
        if self.level == Level::Off {
            return false;
        }
        if self.apps.as_ref().is_some_and(|g| !g.is_match(app)) {
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
    /// The rule's options, as its declared type.
    ///
    /// # Panics
    /// When `T` is not the type the rule declared (a programming error the rule tests catch).
    pub(crate) fn options<T: Any>(&self) -> &T {
        self.options
            .downcast_ref::<T>()
            .expect("options are read as the type the rule declares")
    }
}

/// The effective policy: every rule's settings, by id.
#[derive(Clone, Debug)]
pub struct Policy {
    rules: BTreeMap<String, RuleSettings>,
    /// The custom rules of the user's policy file (`--policy`); the repository's are in
    /// `Config::custom`.
    pub(crate) custom: Vec<CustomDecl>,
}

impl Policy {
    /// The built-in policy overridden by `user` (a path), reporting every error at once.
    pub fn load(
        user: Option<&Path>,
        sources: &Sources,
        catalog: &dyn RuleCatalog,
    ) -> Result<Policy, Vec<Finding>> {
        Policy::load_layered(None, user, sources, catalog)
    }

    /// The built-in policy, overridden by the repository's `.kustodian.yaml` rules, overridden
    /// by `user` (a path given on the command line: the user's own file, which may live outside
    /// the repository).
    pub(crate) fn load_layered(
        repo: Option<&Rules>,
        user: Option<&Path>,
        sources: &Sources,
        catalog: &dyn RuleCatalog,
    ) -> Result<Policy, Vec<Finding>> {
        let builtin: Rules = catalog
            .ids()
            .into_iter()
            .map(|id| (id.to_string(), catalog.defaults(id)))
            .collect();
        let base = match repo {
            Some(r) => layered(r, &builtin),
            None => builtin,
        };
        let (over, custom) = match user {
            None => (PolicyFile::default(), vec![]),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    let mut f = Finding::error_code(
                        ErrorCode::Policy,
                        format!("cannot read policy {}: {e}", p.display()),
                    );
                    f.path = Some(p.display().to_string());
                    vec![f]
                })?;
                let shown = p.display().to_string();
                let file = load_policy_file(&shown, &text, sources, catalog)?;
                let doc = sources.lookup(&shown).and_then(|id| {
                    crate::yaml::parse_documents(&text, id)
                        .ok()?
                        .into_iter()
                        .find(|d| !d.is_null())
                });
                let errs = doc.map_or(Vec::new(), |d| {
                    super::load::glob_errors(
                        &d,
                        &shown,
                        ErrorCode::Policy.id(),
                        super::load::POLICY_GLOBS,
                    )
                });
                if !errs.is_empty() {
                    return Err(errs);
                }
                let custom = declare(
                    &file.custom,
                    &shown,
                    sources,
                    &|id| catalog.is_known(id),
                    ErrorCode::Policy,
                )?;
                (file, custom)
            }
        };
        let mut policy = Policy::compile(&layered(&over.rules, &base), catalog).map_err(|msg| {
            let mut f = Finding::error_code(ErrorCode::Policy, msg);
            f.path = user.map(|p| p.display().to_string());
            vec![f]
        })?;
        policy.custom = custom;
        Ok(policy)
    }

    /// Compiles a complete rule table (every known rule present).
    fn compile(rules: &Rules, catalog: &dyn RuleCatalog) -> Result<Policy, String> {
        let mut out = BTreeMap::new();
        for id in catalog.ids() {
            let e = rules.get(id).cloned().unwrap_or_default();
            let apps = match &e.apps {
                None => None,
                Some(globs) => {
                    let mut b = GlobSetBuilder::new();
                    for g in globs {
                        b.add(
                            Glob::new(g)
                                .map_err(|err| format!("{id}: invalid app glob '{g}': {err}"))?,
                        );
                    }
                    Some(b.build().map_err(|err| err.to_string())?)
                }
            };
            let options = catalog
                .compile_options(id, e.options.as_ref())
                .map_err(|err| format!("{id}: {err}"))?;
            out.insert(
                id.to_string(),
                RuleSettings {
                    level: e.severity.unwrap_or(Level::Error),
                    stages: e.stages,
                    environments: e.environments,
                    apps,
                    options,
                },
            );
        }
        Ok(Policy {
            rules: out,
            custom: vec![],
        })
    }

    /// The settings of a rule.
    ///
    /// # Panics
    /// When `id` is not a rule of the catalog the policy was loaded with.
    pub(crate) fn rule(&self, id: &str) -> &RuleSettings {
        self.rules
            .get(id)
            .unwrap_or_else(|| panic!("'{id}' is not a registered rule"))
    }

    /// Keeps on only the rules `select` names (every rule when it is empty), minus those
    /// `ignore` names — what `--select` and `--ignore` ask, as ruff's flags of those names do.
    /// The rules kept keep the level the policy gives them: selecting a rule the policy turns
    /// off leaves it off. Ids of other rules (custom and imported ones) are for their owner to
    /// honour, and the check to refuse when no rule has them (`CheckOptions::unknown_rule`).
    pub(crate) fn restrict(&mut self, select: &[String], ignore: &[String]) {
        for (id, rule) in &mut self.rules {
            let kept = (select.is_empty() || select.contains(id)) && !ignore.contains(id);
            if !kept {
                rule.level = Level::Off;
            }
        }
    }

    /// Severity level configured for a rule id (`None` for an unknown id).
    pub(crate) fn level(&self, id: &str) -> Option<Level> {
        self.rules.get(id).map(|r| r.level)
    }

    /// The typed options of a rule (see [`RuleSettings::options`]).
    pub(crate) fn options<T: Any>(&self, id: &str) -> &T {
        self.rule(id).options()
    }
}

/// A policy file, loaded in two phases against the catalog's schema.
pub fn load_policy_file(
    path: &str,
    text: &str,
    sources: &Sources,
    catalog: &dyn RuleCatalog,
) -> Result<PolicyFile, Vec<Finding>> {
    load_with_schema(
        path,
        text,
        sources,
        ErrorCode::Policy.id(),
        &|| policy_schema(catalog),
        &|p: &PolicyFile| check_rules(&p.rules, catalog),
    )
}

/// The built-in policy written out as a policy file (what `policies/default.yaml` holds).
pub fn builtin_policy_yaml(catalog: &dyn RuleCatalog, summary: &dyn Fn(&str) -> String) -> String {
    let mut out = String::from(
        "# kustodian's built-in policy, generated from the rules' own declarations (a test fails\n\
         # when this file and the code disagree). A policy file passed with --policy has the same\n\
         # format and overrides these settings rule by rule, field by field.\n\
         # Format: schemas/policy.schema.json.\nrules:\n",
    );
    for id in catalog.ids() {
        let d = catalog.defaults(id);
        out.push_str(&format!("  # {}\n  {id}:\n", summary(id)));
        if let Some(l) = d.severity {
            out.push_str(&format!("    severity: {}\n", l.as_str()));
        }
        if let Some(st) = &d.stages {
            let list: Vec<&str> = st.iter().map(Stage::as_str).collect();
            out.push_str(&format!("    stages: [{}]\n", list.join(", ")));
        }
    }
    out
}

/// A catalog of one rule, for testing the settings without the rule registry.
#[cfg(test)]
pub(crate) mod test_catalog {
    use super::*;

    /// Options of the demo rule.
    #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct DemoOptions {
        /// Patterns.
        #[serde(default)]
        pub(crate) allow: Vec<String>,
    }

    pub(crate) struct Demo;
    pub(crate) static DEMO: Demo = Demo;

    impl RuleCatalog for Demo {
        fn ids(&self) -> Vec<&'static str> {
            vec!["demo-rule", "other-rule"]
        }
        fn defaults(&self, id: &str) -> RuleEntry {
            RuleEntry {
                severity: Some(if id == "demo-rule" {
                    Level::Error
                } else {
                    Level::Warning
                }),
                stages: (id == "demo-rule").then(|| vec![Stage::Production]),
                ..RuleEntry::default()
            }
        }
        fn entry_schema(&self, _: &str, g: &mut schemars::SchemaGenerator) -> schemars::Schema {
            g.subschema_for::<TypedRuleEntry<DemoOptions>>()
        }
        fn compile_options(
            &self,
            _: &str,
            written: Option<&serde_json::Value>,
        ) -> Result<Options, String> {
            Ok(Arc::new(match written {
                None => DemoOptions::default(),
                Some(v) => serde_json::from_value(v.clone()).map_err(|e| e.to_string())?,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_catalog::{DEMO, DemoOptions};
    use super::*;

    #[test]
    fn builtin_defaults_layer_under_the_repository_and_the_user() {
        let sources = Sources::new();
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("p.yaml");
        std::fs::write(
            &p,
            "rules:\n  demo-rule:\n    severity: warning\n    options:\n      allow: [\"spec.replicas\"]\n",
        )
        .unwrap();
        let repo: Rules = [(
            "other-rule".to_string(),
            RuleEntry {
                severity: Some(Level::Off),
                ..RuleEntry::default()
            },
        )]
        .into();
        let pol = Policy::load_layered(Some(&repo), Some(&p), &sources, &DEMO).unwrap();
        let demo = pol.rule("demo-rule");
        assert_eq!(demo.level, Level::Warning);
        // Stages come from the rule's defaults.
        assert_eq!(demo.stages, Some(vec![Stage::Production]));
        assert_eq!(demo.options::<DemoOptions>().allow, ["spec.replicas"]);
        assert_eq!(pol.level("other-rule"), Some(Level::Off));
        assert!(!demo.applies("app", "staging", Some(Stage::Staging)));
        assert!(demo.applies("app", "prod-eu", Some(Stage::Production)));
    }

    #[test]
    fn bad_policy_reports_all_errors_with_lines() {
        let sources = Sources::new();
        let text = "rules:\n  demo-rul:\n    severity: error\n  demo-rule:\n    sevrity: warning\n  other-rule:\n    severity: fatal\n    options:\n      alow: []\n";
        let errs = load_policy_file("p.yaml", text, &sources, &DEMO).unwrap_err();
        let got: Vec<(u32, String)> = errs
            .iter()
            .map(|f| (sources.position(f.loc).unwrap().line, f.message.clone()))
            .collect();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert!(got[0].1.contains("demo-rul"), "{got:?}");
        assert_eq!(got[1].0, 5);
        assert!(got[1].1.contains("sevrity"));
        assert_eq!(got[2].0, 7);
        assert_eq!(got[3].0, 9);
        assert!(got[3].1.contains("alow"), "{got:?}");
        assert!(errs.iter().all(|f| f.fatal && f.rule == "policy-error"));
    }

    #[test]
    fn a_rule_table_serde_accepts_but_the_catalog_refuses_is_an_error() {
        let sources = Sources::new();
        let errs = load_policy_file("p.yaml", "rules:\n  nope: {}\n", &sources, &DEMO).unwrap_err();
        assert!(errs[0].message.contains("nope"), "{errs:?}");
        assert_eq!(sources.position(errs[0].loc).unwrap().line, 2);
    }
}
