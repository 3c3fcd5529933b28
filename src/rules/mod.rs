//! The rule registry.
//!
//! One rule per file; each rule is a unit struct whose `///` doc comment is its documentation
//! (extracted at build time into [`docs`], shown by `kustodian explain`, SARIF and the README).
//! [`REGISTRY`] is the one table of stable kebab-case ids. Rules never print and never decide
//! severity: they return findings for an app's rendered environments; the engine stamps each with
//! the severity the policy gives the rule.

pub mod bot_write_scope;
pub mod change_freeze;
pub mod codeowners_missing;
pub mod digest_not_promoted;
pub mod image_not_pinned;
pub mod immutable_field_changed;
pub mod patch_item_ignored;
pub mod patch_target_unmatched;
pub mod pods;
pub mod production_change_not_image_only;
pub mod promotion_drift;
pub mod resource_limits_missing;
pub mod resource_limits_removed;
pub mod schema_missing;
pub mod schema_violation;
pub mod secret_key_missing;
pub mod secret_keys_differ;
pub mod unused_suppression;

use crate::config::Config;
use crate::diag::{Finding, ResourceRef, Severity};
use crate::discover::{App, Env};
use crate::policy::Policy;
use crate::render::{Build, Resource};
use crate::source::Sources;

/// Rule documentation extracted from the `///` comments (see `build.rs`).
pub mod docs {
    include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));
}

/// Static description of a rule: its stable id and its documentation.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Full documentation (what / why / example / fix / config), markdown; the first line is the
    /// summary.
    pub doc: &'static str,
    /// Severity when the policy does not say otherwise.
    pub default_severity: Severity,
    /// Runs only in pull-request mode (`--base`): a full check without it says nothing about
    /// this rule's suppressions.
    pub pull_request_only: bool,
}

impl RuleInfo {
    /// One line: what the rule checks.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().next().unwrap_or("")
    }
}

/// What a rule sees: one app, its rendered base and environments.
pub struct AppCtx<'a> {
    pub app: &'a App,
    /// The app's base, rendered on its own (when it has one and it builds).
    pub base: Option<&'a Build>,
    /// Environments that rendered, in promotion order.
    pub envs: Vec<(&'a Env, &'a Build)>,
    pub sources: &'a Sources,
    pub config: &'a Config,
    /// Pull-request mode: the base revision's renders and what changed.
    pub pr: Option<PrCtx<'a>>,
    /// Schemas for `schema-violation` (built-in kinds plus the repository's CRDs).
    pub schemas: Option<&'a crate::schema::SchemaSet>,
}

/// What a rule sees of the pull request's base revision.
pub struct PrCtx<'a> {
    pub rev: &'a str,
    pub base_fs: &'a crate::git::GitFs,
    /// Environments rendered at the base revision (affected ones, and staging when production
    /// is affected).
    pub base_envs: Vec<(&'a Env, &'a Build)>,
    /// Names of this app's environments whose inputs changed.
    pub affected: Vec<&'a str>,
    pub changed: &'a std::collections::BTreeSet<String>,
    pub actor: Option<&'a str>,
    pub base_renderer: Option<&'a crate::render::Renderer>,
}

impl PrCtx<'_> {
    pub fn base_env(&self, name: &str) -> Option<&Build> {
        self.base_envs
            .iter()
            .find(|(e, _)| e.name == name)
            .map(|(_, b)| *b)
    }
}

/// What a repository-wide rule sees.
pub struct RepoCtx<'a> {
    pub apps: &'a [App],
    pub fs: &'a dyn crate::source::Fs,
    pub sources: &'a Sources,
    pub config: &'a Config,
    /// Pull-request mode: changed paths.
    pub changed: Option<&'a std::collections::BTreeSet<String>>,
    /// Pull-request mode: overlays whose inputs changed.
    pub affected: Option<&'a [String]>,
    pub actor: Option<&'a str>,
    /// The time the check judges (`--now`, else the clock).
    pub now: Option<jiff::Timestamp>,
}

/// A rule.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    /// Returns the findings for one app (severity is set by the engine).
    fn check(&self, ctx: &AppCtx, policy: &Policy) -> Vec<Finding>;
    /// Returns repository-wide findings (most rules have none).
    fn check_repo(&self, _ctx: &RepoCtx, _policy: &Policy) -> Vec<Finding> {
        vec![]
    }
}

/// Every rule, in documentation order.
pub static REGISTRY: &[RuleInfo] = &[
    image_not_pinned::INFO,
    resource_limits_removed::INFO,
    resource_limits_missing::INFO,
    patch_item_ignored::INFO,
    patch_target_unmatched::INFO,
    secret_key_missing::INFO,
    secret_keys_differ::INFO,
    promotion_drift::INFO,
    production_change_not_image_only::INFO,
    immutable_field_changed::INFO,
    digest_not_promoted::INFO,
    bot_write_scope::INFO,
    codeowners_missing::INFO,
    change_freeze::INFO,
    schema_violation::INFO,
    schema_missing::INFO,
    unused_suppression::INFO,
];

/// The rule implementations, in registry order.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &image_not_pinned::ImageNotPinned,
        &resource_limits_removed::ResourceLimitsRemoved,
        &resource_limits_missing::ResourceLimitsMissing,
        &patch_item_ignored::PatchItemIgnored,
        &patch_target_unmatched::PatchTargetUnmatched,
        &secret_key_missing::SecretKeyMissing,
        &secret_keys_differ::SecretKeysDiffer,
        &promotion_drift::PromotionDrift,
        &production_change_not_image_only::ProductionChangeNotImageOnly,
        &immutable_field_changed::ImmutableFieldChanged,
        &digest_not_promoted::DigestNotPromoted,
        &bot_write_scope::BotWriteScope,
        &codeowners_missing::CodeownersMissing,
        &change_freeze::ChangeFreeze,
        &schema_violation::SchemaViolation,
        &schema_missing::SchemaMissing,
        &unused_suppression::UnusedSuppression,
    ]
}

/// Looks a rule up by id.
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    REGISTRY.iter().find(|r| r.id == id)
}

/// Adds an environment to a finding reported once for several (a base's patch line shows in
/// every environment that includes it).
pub fn add_environment(f: &mut Finding, env: &str) {
    let envs = f.environment.get_or_insert_with(String::new);
    if !envs.split(", ").any(|x| x == env) {
        if !envs.is_empty() {
            envs.push_str(", ");
        }
        envs.push_str(env);
    }
}

/// A finding about a resource in an environment, with the usual context filled in.
pub fn finding(
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

/// Descriptors for findings that are not rules: inputs that could not be evaluated.
const INPUT_ERRORS: &[(&str, &str)] = &[
    (
        "render-error",
        "An overlay could not be rendered (invalid YAML, missing file, cycle, path outside the repository, unsupported feature).",
    ),
    (
        "config-error",
        "The repository configuration (.kustodian.yaml) is invalid.",
    ),
    ("policy-error", "The policy file is invalid."),
];

/// What reports say about every rule and input error (SARIF's `tool.driver.rules`), as data.
pub fn descriptors() -> Vec<crate::diag::RuleDescriptor> {
    use crate::diag::RuleDescriptor;
    REGISTRY
        .iter()
        .map(|r| RuleDescriptor {
            id: r.id.to_string(),
            summary: r.summary().to_string(),
            doc: r.doc.to_string(),
            default_severity: r.default_severity,
            help_uri: Some(format!("https://github.com/kustodian/kustodian#{}", r.id)),
        })
        .chain(INPUT_ERRORS.iter().map(|(id, text)| RuleDescriptor {
            id: id.to_string(),
            summary: text.to_string(),
            doc: text.to_string(),
            default_severity: Severity::Error,
            help_uri: None,
        }))
        .collect()
}
