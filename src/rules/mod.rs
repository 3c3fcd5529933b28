//! The rule registry.
//!
//! One rule per file; each rule is a unit struct whose `///` doc comment is its documentation
//! (extracted at build time into [`docs`], shown by `kustodian explain`, SARIF and the README).
//! [`RULES`] is the one table: each rule declares its id, default severity, stages and typed
//! options next to its code ([`RuleInfo`]), and the registry hands that to the settings as their
//! [`RuleCatalog`]. Rules never print and never decide severity: they return findings for an
//! app's rendered environments; the engine stamps each with the severity the policy gives the
//! rule. Helpers several rules share live in [`support`].

pub(crate) mod support;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::diag::{Finding, ResourceRef, Severity};
use crate::discover::{App, Env};
use crate::render::{Build, Resource};
use crate::settings::policy::{Options, TypedRuleEntry};
use crate::settings::{Config, Level, Policy, RuleCatalog, RuleEntry, RuleSettings, Stage};
use crate::source::Sources;

/// Rule documentation extracted from the `///` comments (see `build.rs`).
pub(crate) mod docs {
    include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));
}

/// Static description of a rule, declared next to its code: its stable id, its documentation,
/// its default settings and the type of its options.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Full documentation (what / why / example / fix / config), markdown; the first line is the
    /// summary.
    pub doc: &'static str,
    /// Severity (or `off`) when no policy says otherwise.
    pub default_level: Level,
    /// Stages the rule applies to when no policy says otherwise (`None`: every stage).
    pub default_stages: Option<&'static [Stage]>,
    /// Runs only in pull-request mode (`--base`): a full check without it says nothing about
    /// this rule's suppressions.
    pub pull_request_only: bool,
    /// The type of the rule's `options:` (see [`OptionsType::of`]).
    pub(crate) options: OptionsType,
}

impl RuleInfo {
    /// One line: what the rule checks.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().next().unwrap_or("")
    }
    /// The severity findings get when no policy says otherwise (`None`: off by default).
    pub(crate) fn default_severity(&self) -> Option<Severity> {
        self.default_level.severity()
    }
}

/// A rule's option type, as functions the policy loader calls: its schema (for the policy's JSON
/// Schema and error messages) and its compilation from what was written.
#[derive(Clone, Copy)]
pub(crate) struct OptionsType {
    entry_schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    compile: fn(Option<&serde_json::Value>) -> Result<Options, String>,
}

impl std::fmt::Debug for OptionsType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OptionsType")
    }
}

impl OptionsType {
    /// Options of type `O`: unknown keys refused, absent options are `O::default()`.
    pub(crate) const fn of<O>() -> OptionsType
    where
        O: DeserializeOwned + JsonSchema + Default + Send + Sync + 'static,
    {
        OptionsType {
            entry_schema: |g| g.subschema_for::<TypedRuleEntry<O>>(),
            compile: |written| match written {
                None => Ok(Arc::new(O::default())),
                Some(v) => serde_json::from_value::<O>(v.clone())
                    .map(|o| Arc::new(o) as Options)
                    .map_err(|e| format!("options: {e}")),
            },
        }
    }
}

/// Options of rules that take none.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoOptions {}

/// What a rule sees: one app, its rendered base and environments.
pub(crate) struct AppCtx<'a> {
    pub(crate) app: &'a App,
    /// The app's base, rendered on its own (when it has one and it builds).
    pub(crate) base: Option<&'a Build>,
    /// Environments that rendered, in promotion order.
    pub(crate) envs: Vec<(&'a Env, &'a Build)>,
    pub(crate) sources: &'a Sources,
    pub(crate) config: &'a Config,
    /// Every rule's settings (a rule's own come as `check`'s argument).
    pub(crate) policy: &'a Policy,
    /// Pull-request mode: the base revision's renders and what changed.
    pub(crate) pr: Option<PrCtx<'a>>,
    /// Schemas for `schema-violation` (built-in kinds plus the repository's CRDs).
    pub(crate) schemas: Option<&'a crate::schema::SchemaSet>,
}

/// What a rule sees of the pull request's base revision.
pub(crate) struct PrCtx<'a> {
    pub(crate) rev: &'a str,
    pub(crate) base_fs: &'a crate::git::GitFs,
    /// Environments rendered at the base revision (affected ones, and staging when production
    /// is affected).
    pub(crate) base_envs: Vec<(&'a Env, &'a Build)>,
    /// Names of this app's environments whose inputs changed.
    pub(crate) affected: Vec<&'a str>,
    pub(crate) base_renderer: Option<&'a crate::render::Renderer>,
}

impl PrCtx<'_> {
    pub(crate) fn base_env(&self, name: &str) -> Option<&Build> {
        self.base_envs
            .iter()
            .find(|(e, _)| e.name == name)
            .map(|(_, b)| *b)
    }
}

/// What a repository-wide rule sees.
pub(crate) struct RepoCtx<'a> {
    pub(crate) apps: &'a [App],
    /// What discovery found beyond the apps: GitOps objects pointing at nothing, sources not
    /// rendered.
    pub(crate) discovery: &'a crate::discover::Discovery,
    pub(crate) fs: &'a dyn crate::source::Fs,
    pub(crate) sources: &'a Sources,
    pub(crate) config: &'a Config,
    /// Pull-request mode: changed paths.
    pub(crate) changed: Option<&'a std::collections::BTreeSet<String>>,
    /// Pull-request mode: overlays whose inputs changed.
    pub(crate) affected: Option<&'a [String]>,
    pub(crate) actor: Option<&'a str>,
    /// The time the check judges (`--now`, else the clock).
    pub(crate) now: Option<jiff::Timestamp>,
}

/// A rule.
pub(crate) trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    /// Returns the findings for one app (severity is set by the engine), given the rule's own
    /// settings.
    fn check(&self, ctx: &AppCtx, settings: &RuleSettings) -> Vec<Finding>;
    /// Returns repository-wide findings (most rules have none).
    fn check_repo(&self, _ctx: &RepoCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }
}

/// Declares the rule modules and the one table of rules, in documentation order: adding a rule
/// is its file plus one line here.
macro_rules! registry {
    ($($module:ident :: $rule:ident),* $(,)?) => {
        $(pub(crate) mod $module;)*
        /// Every rule, in documentation order.
        pub(crate) static RULES: &[&dyn Rule] = &[$(&$module::$rule),*];
    };
}

registry! {
    image_not_pinned::ImageNotPinned,
    resource_limits_removed::ResourceLimitsRemoved,
    resource_limits_missing::ResourceLimitsMissing,
    patch_item_ignored::PatchItemIgnored,
    patch_target_unmatched::PatchTargetUnmatched,
    secret_key_missing::SecretKeyMissing,
    secret_keys_differ::SecretKeysDiffer,
    promotion_drift::PromotionDrift,
    stage_config_differs::StageConfigDiffers,
    production_change_not_image_only::ProductionChangeNotImageOnly,
    immutable_field_changed::ImmutableFieldChanged,
    digest_not_promoted::DigestNotPromoted,
    image_automation_in_production::ImageAutomationInProduction,
    bot_write_scope::BotWriteScope,
    codeowners_missing::CodeownersMissing,
    change_freeze::ChangeFreeze,
    schema_violation::SchemaViolation,
    schema_missing::SchemaMissing,
    unused_suppression::UnusedSuppression,
    gitops_path_missing::GitopsPathMissing,
    source_not_rendered::SourceNotRendered,
    change_not_checked::ChangeNotChecked,
    host_network_in_production::HostNetworkInProduction,
}

/// Every rule's description, in documentation order.
pub fn registry() -> impl Iterator<Item = &'static RuleInfo> {
    RULES.iter().map(|r| r.info())
}

/// Looks a rule up by id.
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    registry().find(|r| r.id == id)
}

/// The rule registry as the settings see it.
pub struct Catalog;

/// The catalog policies and the repository config are loaded with.
pub static CATALOG: Catalog = Catalog;

impl RuleCatalog for Catalog {
    fn ids(&self) -> Vec<&'static str> {
        registry().map(|r| r.id).collect()
    }
    fn is_known(&self, id: &str) -> bool {
        lookup(id).is_some()
    }
    fn defaults(&self, id: &str) -> RuleEntry {
        let info = lookup(id).expect("a registered rule");
        RuleEntry {
            severity: Some(info.default_level),
            stages: info.default_stages.map(<[Stage]>::to_vec),
            ..RuleEntry::default()
        }
    }
    fn entry_schema(&self, id: &str, g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        (lookup(id).expect("a registered rule").options.entry_schema)(g)
    }
    fn compile_options(
        &self,
        id: &str,
        written: Option<&serde_json::Value>,
    ) -> Result<Options, String> {
        (lookup(id).expect("a registered rule").options.compile)(written)
    }
}

/// Adds an environment to a finding reported once for several (a base's patch line shows in
/// every environment that includes it).
pub(crate) fn add_environment(f: &mut Finding, env: &str) {
    let envs = f.environment.get_or_insert_with(String::new);
    if !envs.split(", ").any(|x| x == env) {
        if !envs.is_empty() {
            envs.push_str(", ");
        }
        envs.push_str(env);
    }
}

/// A finding about a resource in an environment, with the usual context filled in.
pub(crate) fn finding(
    rule: &str,
    ctx: &AppCtx,
    env: Option<&Env>,
    res: Option<&Resource>,
    message: String,
) -> Finding {
    let mut f = Finding::new(rule, Severity::Error, message);
    f.app = Some(ctx.app.name.clone());
    f.environment = env.map(|e| e.name.clone());
    if let Some(r) = res {
        let id = r.id();
        f.resource = Some(ResourceRef {
            api_version: id.api_version(),
            kind: id.kind.to_string(),
            namespace: id.namespace.to_string(),
            name: id.name.to_string(),
        });
        f.loc = r.loc();
    }
    f
}

/// What reports say about every rule and error code (SARIF's `tool.driver.rules`), as data: the
/// report layer never reads the registry itself.
pub fn descriptors() -> Vec<crate::diag::RuleDescriptor> {
    use crate::diag::{ErrorCode, RuleDescriptor};
    registry()
        .map(|r| RuleDescriptor {
            id: r.id.to_string(),
            summary: r.summary().to_string(),
            doc: r.doc.to_string(),
            default_severity: r.default_severity(),
            help_uri: Some(format!("https://github.com/kustodian/kustodian#{}", r.id)),
            origin: None,
        })
        .chain(ErrorCode::ALL.iter().map(|c| RuleDescriptor {
            id: c.id().to_string(),
            summary: c.summary().to_string(),
            doc: c.summary().to_string(),
            default_severity: Some(Severity::Error),
            help_uri: None,
            origin: None,
        }))
        .collect()
}
