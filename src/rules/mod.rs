//! The rule registry.
//!
//! One rule per file; each rule is a unit struct whose `///` doc comment is its documentation
//! (extracted at build time into [`docs`], shown by `kustodian explain`, SARIF and the README).
//! [`REGISTRY`] is the one table of stable kebab-case ids. Rules never print and never decide
//! severity: they return findings for an app's rendered environments; the engine stamps each with
//! the severity the policy gives the rule.

pub mod image_not_pinned;
pub mod pods;
pub mod promotion_drift;
pub mod resource_limits_missing;
pub mod resource_limits_removed;
pub mod secret_key_missing;
pub mod secret_keys_differ;

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
}

/// A rule.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    /// Returns the findings for one app (severity is set by the engine).
    fn check(&self, ctx: &AppCtx, policy: &Policy) -> Vec<Finding>;
}

/// Every rule, in documentation order.
pub static REGISTRY: &[RuleInfo] = &[
    image_not_pinned::INFO,
    resource_limits_removed::INFO,
    resource_limits_missing::INFO,
    secret_key_missing::INFO,
    secret_keys_differ::INFO,
    promotion_drift::INFO,
];

/// The rule implementations, in registry order.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &image_not_pinned::ImageNotPinned,
        &resource_limits_removed::ResourceLimitsRemoved,
        &resource_limits_missing::ResourceLimitsMissing,
        &secret_key_missing::SecretKeyMissing,
        &secret_keys_differ::SecretKeysDiffer,
        &promotion_drift::PromotionDrift,
    ]
}

/// Looks a rule up by id.
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    REGISTRY.iter().find(|r| r.id == id)
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
            kind: id.kind,
            namespace: id.namespace,
            name: id.name,
        });
        f.loc = r.loc();
    }
    f
}
