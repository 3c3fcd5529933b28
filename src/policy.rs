//! Policies: which rules run where, with which severity and options.
//!
//! The built-in policy (`policies/default.yaml`) is embedded in the binary; a user policy
//! (`--policy FILE`) has the same format and overrides it rule by rule, field by field. Both are
//! loaded in two phases (see [`crate::config::load_validated`]): the format is the JSON Schema
//! generated from these types (`schemas/policy.schema.json`), so an unknown rule id, an unknown
//! option or a misspelled severity is reported with its line, all at once.
//!
//! Severity is data: rules push findings; the engine stamps each with the severity the policy
//! gives that rule, and skips rules set to `off` or not applying to an environment.

use std::collections::BTreeMap;
use std::path::Path;

use globset::{Glob, GlobSetBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::load_validated;
use crate::diag::{Finding, Severity};
use crate::discover::{Env, Stage};
use crate::source::Sources;

/// The embedded default policy.
pub const DEFAULT_POLICY: &str = include_str!("../policies/default.yaml");

/// A severity, or `off` to disable a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
    Off,
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Note => Some(Severity::Note),
            Level::Off => None,
        }
    }
}

/// Settings of one rule. Unset fields inherit from the default policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry<O> {
    /// `error`, `warning`, `note`, or `off`.
    pub severity: Option<Level>,
    /// Stages the rule applies to (`dev`, `staging`, `production`). Default: all.
    pub stages: Option<Vec<Stage>>,
    /// Environment names the rule applies to (in addition to `stages`).
    pub environments: Option<Vec<String>>,
    /// Globs of app names the rule applies to. Default: all apps.
    pub apps: Option<Vec<String>>,
    /// Rule-specific options.
    pub options: Option<O>,
}

/// Options of `image-not-pinned`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageOptions {
    /// Globs of image names exempt from the rule (e.g. `registry.example.com/tools/*`).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// Options of the resource-limit rules.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsOptions {
    /// Which limits matter. Default: `[cpu, memory]`.
    #[serde(default = "default_limits")]
    pub resources: Vec<String>,
}

impl Default for LimitsOptions {
    fn default() -> LimitsOptions {
        LimitsOptions {
            resources: default_limits(),
        }
    }
}

fn default_limits() -> Vec<String> {
    vec!["cpu".into(), "memory".into()]
}

/// Options of `secret-key-missing`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretOptions {
    /// Secret names provided outside the repository (also settable in `.kustodian.yaml`).
    #[serde(default)]
    pub external_secrets: Vec<String>,
}

/// Options of `promotion-drift`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DriftOptions {
    /// Field paths allowed to differ between staging and production, for every app. Dotted
    /// paths inside a resource, `*` matches one segment, `**` any number; prefix with
    /// `Kind:` to limit to a kind (e.g. `Deployment:spec.template.spec.containers[*].env`).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Per-app additions to `allow`, keyed by app name.
    #[serde(default)]
    pub apps: BTreeMap<String, Vec<String>>,
}

/// Options of `production-change-not-image-only`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowOptions {
    /// Field paths allowed to change (promotion-drift syntax).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// Options of `digest-not-promoted`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DigestOptions {
    /// How many commits of staging's history count as "ran in staging" (default 50).
    pub depth: Option<usize>,
}

/// Options of `bot-write-scope`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BotOptions {
    /// Actor globs that are bots (default `*[bot]`, `ci-bot`).
    pub bots: Option<Vec<String>>,
}

/// Options of `codeowners-missing`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OwnersOptions {
    /// Required owners by stage (`staging`, `production`), e.g. `production: ["@org/oncall"]`.
    #[serde(default)]
    pub owners: BTreeMap<String, Vec<String>>,
}

/// Options of `schema-violation`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SchemaOptions {
    /// Bundled Kubernetes version to validate against (`1.36`, `1.37`; default the newest).
    pub kubernetes_version: Option<String>,
    /// Reject unknown fields (default true).
    #[serde(default = "yes")]
    pub strict: bool,
    /// Kinds never validated.
    #[serde(default)]
    pub skip_kinds: Vec<String>,
    /// Kinds always refused.
    #[serde(default)]
    pub reject_kinds: Vec<String>,
    /// Repository directories with more schemas: kubeconform-style JSON files
    /// (`{kind}-{group}-{version}.json`), CRDs-catalog files (`{group}/{kind}_{version}.json`), or
    /// YAML files holding CustomResourceDefinitions.
    #[serde(default)]
    pub schema_dirs: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for SchemaOptions {
    fn default() -> SchemaOptions {
        SchemaOptions {
            kubernetes_version: None,
            strict: true,
            skip_kinds: vec![],
            reject_kinds: vec![],
            schema_dirs: vec![],
        }
    }
}

/// Options for rules without options.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoOptions {}

/// The rule table of a policy file: one optional entry per rule id.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(rename = "image-not-pinned")]
    pub image_not_pinned: Option<RuleEntry<ImageOptions>>,
    #[serde(rename = "resource-limits-removed")]
    pub resource_limits_removed: Option<RuleEntry<LimitsOptions>>,
    #[serde(rename = "resource-limits-missing")]
    pub resource_limits_missing: Option<RuleEntry<LimitsOptions>>,
    #[serde(rename = "patch-item-ignored")]
    pub patch_item_ignored: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "patch-target-unmatched")]
    pub patch_target_unmatched: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "secret-key-missing")]
    pub secret_key_missing: Option<RuleEntry<SecretOptions>>,
    #[serde(rename = "secret-keys-differ")]
    pub secret_keys_differ: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "promotion-drift")]
    pub promotion_drift: Option<RuleEntry<DriftOptions>>,
    #[serde(rename = "production-change-not-image-only")]
    pub production_change_not_image_only: Option<RuleEntry<AllowOptions>>,
    #[serde(rename = "immutable-field-changed")]
    pub immutable_field_changed: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "digest-not-promoted")]
    pub digest_not_promoted: Option<RuleEntry<DigestOptions>>,
    #[serde(rename = "bot-write-scope")]
    pub bot_write_scope: Option<RuleEntry<BotOptions>>,
    #[serde(rename = "codeowners-missing")]
    pub codeowners_missing: Option<RuleEntry<OwnersOptions>>,
    #[serde(rename = "change-freeze")]
    pub change_freeze: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "schema-violation")]
    pub schema_violation: Option<RuleEntry<SchemaOptions>>,
    #[serde(rename = "schema-missing")]
    pub schema_missing: Option<RuleEntry<NoOptions>>,
    #[serde(rename = "unused-suppression")]
    pub unused_suppression: Option<RuleEntry<NoOptions>>,
}

fn layer<O: Clone>(
    over: &Option<RuleEntry<O>>,
    base: &Option<RuleEntry<O>>,
) -> Option<RuleEntry<O>> {
    match (over, base) {
        (None, b) => b.clone(),
        (Some(o), None) => Some(o.clone()),
        (Some(o), Some(b)) => Some(RuleEntry {
            severity: o.severity.or(b.severity),
            stages: o.stages.clone().or_else(|| b.stages.clone()),
            environments: o.environments.clone().or_else(|| b.environments.clone()),
            apps: o.apps.clone().or_else(|| b.apps.clone()),
            options: o.options.clone().or_else(|| b.options.clone()),
        }),
    }
}

impl Rules {
    /// These settings over `base`, field by field.
    pub fn layered_over(&self, base: &Rules) -> Rules {
        Rules {
            image_not_pinned: layer(&self.image_not_pinned, &base.image_not_pinned),
            resource_limits_removed: layer(
                &self.resource_limits_removed,
                &base.resource_limits_removed,
            ),
            resource_limits_missing: layer(
                &self.resource_limits_missing,
                &base.resource_limits_missing,
            ),
            patch_item_ignored: layer(&self.patch_item_ignored, &base.patch_item_ignored),
            patch_target_unmatched: layer(
                &self.patch_target_unmatched,
                &base.patch_target_unmatched,
            ),
            secret_key_missing: layer(&self.secret_key_missing, &base.secret_key_missing),
            secret_keys_differ: layer(&self.secret_keys_differ, &base.secret_keys_differ),
            promotion_drift: layer(&self.promotion_drift, &base.promotion_drift),
            production_change_not_image_only: layer(
                &self.production_change_not_image_only,
                &base.production_change_not_image_only,
            ),
            immutable_field_changed: layer(
                &self.immutable_field_changed,
                &base.immutable_field_changed,
            ),
            digest_not_promoted: layer(&self.digest_not_promoted, &base.digest_not_promoted),
            bot_write_scope: layer(&self.bot_write_scope, &base.bot_write_scope),
            codeowners_missing: layer(&self.codeowners_missing, &base.codeowners_missing),
            change_freeze: layer(&self.change_freeze, &base.change_freeze),
            schema_violation: layer(&self.schema_violation, &base.schema_violation),
            schema_missing: layer(&self.schema_missing, &base.schema_missing),
            unused_suppression: layer(&self.unused_suppression, &base.unused_suppression),
        }
    }
}

/// A policy file (`policies/default.yaml`, `--policy FILE`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Rules by id. A rule not listed keeps the built-in settings.
    #[serde(default)]
    pub rules: Rules,
}

/// Effective settings of one rule.
#[derive(Clone, Debug)]
pub struct Settings<O> {
    pub level: Level,
    pub stages: Option<Vec<Stage>>,
    pub environments: Option<Vec<String>>,
    apps: Option<globset::GlobSet>,
    pub options: O,
}

impl<O> Settings<O> {
    /// Enabled for this app and environment?
    pub fn applies(&self, app: &str, env: &Env) -> bool {
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
                    .is_some_and(|s| env.stage.is_some_and(|st| s.contains(&st)))
                    || envs.as_ref().is_some_and(|e| e.contains(&env.name))
            }
        }
    }
    /// Enabled for this app at all?
    pub fn enabled_for_app(&self, app: &str) -> bool {
        self.level != Level::Off && self.apps.as_ref().is_none_or(|g| g.is_match(app))
    }
    pub fn severity(&self) -> Severity {
        self.level.severity().unwrap_or(Severity::Note)
    }
}

/// The effective policy: every rule's settings.
#[derive(Clone, Debug)]
pub struct Policy {
    pub image_not_pinned: Settings<ImageOptions>,
    pub resource_limits_removed: Settings<LimitsOptions>,
    pub resource_limits_missing: Settings<LimitsOptions>,
    pub patch_item_ignored: Settings<NoOptions>,
    pub patch_target_unmatched: Settings<NoOptions>,
    pub secret_key_missing: Settings<SecretOptions>,
    pub secret_keys_differ: Settings<NoOptions>,
    pub promotion_drift: Settings<DriftOptions>,
    pub production_change_not_image_only: Settings<AllowOptions>,
    pub immutable_field_changed: Settings<NoOptions>,
    pub digest_not_promoted: Settings<DigestOptions>,
    pub bot_write_scope: Settings<BotOptions>,
    pub codeowners_missing: Settings<OwnersOptions>,
    pub change_freeze: Settings<NoOptions>,
    pub schema_violation: Settings<SchemaOptions>,
    pub schema_missing: Settings<NoOptions>,
    pub unused_suppression: Settings<NoOptions>,
}

fn merge<O: Clone + Default>(
    base: &Option<RuleEntry<O>>,
    over: &Option<RuleEntry<O>>,
) -> Result<Settings<O>, String> {
    // The user's value wins field by field; unset fields inherit from the default policy.
    let (over, base) = (over.as_ref(), base.as_ref());
    let level = over
        .and_then(|e| e.severity)
        .or_else(|| base.and_then(|e| e.severity))
        .unwrap_or(Level::Error);
    let stages = over
        .and_then(|e| e.stages.clone())
        .or_else(|| base.and_then(|e| e.stages.clone()));
    let environments = over
        .and_then(|e| e.environments.clone())
        .or_else(|| base.and_then(|e| e.environments.clone()));
    let apps = over
        .and_then(|e| e.apps.clone())
        .or_else(|| base.and_then(|e| e.apps.clone()));
    let apps = match apps {
        None => None,
        Some(globs) => {
            let mut b = GlobSetBuilder::new();
            for g in &globs {
                b.add(Glob::new(g).map_err(|e| format!("invalid app glob '{g}': {e}"))?);
            }
            Some(b.build().map_err(|e| e.to_string())?)
        }
    };
    let options = over
        .and_then(|e| e.options.clone())
        .or_else(|| base.and_then(|e| e.options.clone()))
        .unwrap_or_default();
    Ok(Settings {
        level,
        stages,
        environments,
        apps,
        options,
    })
}

impl Policy {
    /// The built-in policy overridden by `user` (a path), reporting every error at once.
    pub fn load(user: Option<&Path>, sources: &Sources) -> Result<Policy, Vec<Finding>> {
        Policy::load_layered(None, user, sources)
    }

    /// The built-in policy, overridden by the repository's `.kustodian.yaml` rules, overridden
    /// by `user` (a path).
    pub fn load_layered(
        repo: Option<&Rules>,
        user: Option<&Path>,
        sources: &Sources,
    ) -> Result<Policy, Vec<Finding>> {
        let mut base: PolicyFile =
            crate::config::load_builtin("<builtin>/policies/default.yaml", DEFAULT_POLICY, sources)
                .expect("the built-in policy matches its schema (unit-tested)");
        if let Some(r) = repo {
            base.rules = r.layered_over(&base.rules);
        }
        let over = match user {
            None => PolicyFile::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    let mut f = Finding::new(
                        "policy-error",
                        Severity::Error,
                        format!("cannot read policy {}: {e}", p.display()),
                    );
                    f.path = Some(p.display().to_string());
                    f.fatal = true;
                    vec![f]
                })?;
                let shown = p.display().to_string();
                let file: PolicyFile = load_validated(&shown, &text, sources, "policy-error")?;
                let doc = sources.lookup(&shown).and_then(|id| {
                    crate::yaml::parse_documents(&text, id)
                        .ok()?
                        .into_iter()
                        .find(|d| !d.is_null())
                });
                let errs = doc.map_or(Vec::new(), |d| {
                    crate::config::glob_errors(
                        &d,
                        &shown,
                        "policy-error",
                        crate::config::POLICY_GLOBS,
                    )
                });
                if !errs.is_empty() {
                    return Err(errs);
                }
                file
            }
        };
        Policy::merged(&base, &over).map_err(|msg| {
            let mut f = Finding::new("policy-error", Severity::Error, msg);
            f.fatal = true;
            f.path = user.map(|p| p.display().to_string());
            vec![f]
        })
    }

    fn merged(base: &PolicyFile, over: &PolicyFile) -> Result<Policy, String> {
        let (b, o) = (&base.rules, &over.rules);
        Ok(Policy {
            image_not_pinned: merge(&b.image_not_pinned, &o.image_not_pinned)?,
            resource_limits_removed: merge(&b.resource_limits_removed, &o.resource_limits_removed)?,
            resource_limits_missing: merge(&b.resource_limits_missing, &o.resource_limits_missing)?,
            patch_item_ignored: merge(&b.patch_item_ignored, &o.patch_item_ignored)?,
            patch_target_unmatched: merge(&b.patch_target_unmatched, &o.patch_target_unmatched)?,
            secret_key_missing: merge(&b.secret_key_missing, &o.secret_key_missing)?,
            secret_keys_differ: merge(&b.secret_keys_differ, &o.secret_keys_differ)?,
            promotion_drift: merge(&b.promotion_drift, &o.promotion_drift)?,
            production_change_not_image_only: merge(
                &b.production_change_not_image_only,
                &o.production_change_not_image_only,
            )?,
            immutable_field_changed: merge(&b.immutable_field_changed, &o.immutable_field_changed)?,
            digest_not_promoted: merge(&b.digest_not_promoted, &o.digest_not_promoted)?,
            bot_write_scope: merge(&b.bot_write_scope, &o.bot_write_scope)?,
            codeowners_missing: merge(&b.codeowners_missing, &o.codeowners_missing)?,
            change_freeze: merge(&b.change_freeze, &o.change_freeze)?,
            schema_violation: merge(&b.schema_violation, &o.schema_violation)?,
            schema_missing: merge(&b.schema_missing, &o.schema_missing)?,
            unused_suppression: merge(&b.unused_suppression, &o.unused_suppression)?,
        })
    }

    /// Severity level configured for a rule id.
    pub fn level(&self, rule: &str) -> Option<Level> {
        Some(match rule {
            "image-not-pinned" => self.image_not_pinned.level,
            "resource-limits-removed" => self.resource_limits_removed.level,
            "resource-limits-missing" => self.resource_limits_missing.level,
            "patch-item-ignored" => self.patch_item_ignored.level,
            "patch-target-unmatched" => self.patch_target_unmatched.level,
            "secret-key-missing" => self.secret_key_missing.level,
            "secret-keys-differ" => self.secret_keys_differ.level,
            "promotion-drift" => self.promotion_drift.level,
            "production-change-not-image-only" => self.production_change_not_image_only.level,
            "immutable-field-changed" => self.immutable_field_changed.level,
            "digest-not-promoted" => self.digest_not_promoted.level,
            "bot-write-scope" => self.bot_write_scope.level,
            "codeowners-missing" => self.codeowners_missing.level,
            "change-freeze" => self.change_freeze.level,
            "schema-violation" => self.schema_violation.level,
            "schema-missing" => self.schema_missing.level,
            "unused-suppression" => self.unused_suppression.level,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_passes_the_full_two_phase_load() {
        let sources = Sources::new();
        let full: Result<PolicyFile, _> =
            load_validated("default.yaml", DEFAULT_POLICY, &sources, "policy-error");
        assert!(full.is_ok(), "{:?}", full.err());
        let fast: PolicyFile =
            crate::config::load_builtin("default.yaml", DEFAULT_POLICY, &sources).unwrap();
        assert_eq!(
            serde_json::to_value(&fast).unwrap(),
            serde_json::to_value(full.unwrap()).unwrap()
        );
    }

    #[test]
    fn default_policy_loads_and_user_overrides_merge() {
        let sources = Sources::new();
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("p.yaml");
        std::fs::write(&p, "rules:\n  image-not-pinned:\n    severity: warning\n  promotion-drift:\n    options:\n      allow: [\"spec.replicas\"]\n").unwrap();
        let pol = Policy::load(Some(&p), &sources).unwrap();
        assert_eq!(pol.image_not_pinned.level, Level::Warning);
        // Stages come from the default policy.
        assert_eq!(pol.image_not_pinned.stages, Some(vec![Stage::Production]));
        assert_eq!(pol.promotion_drift.options.allow, ["spec.replicas"]);
    }

    #[test]
    fn bad_policy_reports_all_errors_with_lines() {
        let sources = Sources::new();
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("p.yaml");
        std::fs::write(
            &p,
            "rules:\n  image-not-pined:\n    severity: error\n  promotion-drift:\n    sevrity: warning\n  secret-key-missing:\n    severity: fatal\n",
        )
        .unwrap();
        let errs = Policy::load(Some(&p), &sources).unwrap_err();
        let got: Vec<(u32, String)> = errs
            .iter()
            .map(|f| (sources.position(f.loc).unwrap().line, f.message.clone()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert!(got[0].1.contains("image-not-pined"));
        assert_eq!(got[1].0, 5);
        assert!(got[1].1.contains("sevrity"));
        assert_eq!(got[2].0, 7);
    }
}
