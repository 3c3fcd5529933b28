//! `resource-limits-missing`: containers in production should declare limits.

use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::Finding;
use super::resource_limits_removed::LimitsOptions;
use crate::settings::{Level, RuleSettings, Stage};

/// A container in production declares no cpu/memory limit.
///
/// **What.** Every container and init container of every workload in the environments the policy
/// names (default: production) should set `resources.limits.cpu` and `resources.limits.memory`
/// (configurable). Reported as a warning by default.
///
/// **Why.** Without limits one workload can starve its node. `resource-limits-removed` catches
/// limits that an overlay dropped; this rule catches limits that were never there.
///
/// **Example.** A base Deployment whose container has only `resources.requests`.
///
/// **Fix.** Add `resources.limits` to the container in the base (or in a production patch).
///
/// **Config.** `options.resources` (default `[cpu, memory]`); `severity`, `stages`,
/// `environments`, `apps`.
pub struct ResourceLimitsMissing;

pub const INFO: RuleInfo = RuleInfo {
    id: "resource-limits-missing",
    doc: docs::RESOURCE_LIMITS_MISSING,
    default_level: Level::Warning,
    default_stages: Some(&[Stage::Production]),
    pull_request_only: false,
    options: OptionsType::of::<LimitsOptions>(),
};

impl Rule for ResourceLimitsMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for r in &build.resources {
                for c in pods::containers(r) {
                    if c.list == "ephemeralContainers" {
                        continue;
                    }
                    let missing: Vec<&str> = s
                        .options::<LimitsOptions>()
                        .resources
                        .iter()
                        .filter(|res| c.node.get_path(&["resources", "limits", res]).is_none())
                        .map(|s| s.as_str())
                        .collect();
                    if missing.is_empty() {
                        continue;
                    }
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!(
                            "container '{}' of {} '{}' in {} sets no {} limit",
                            c.name,
                            r.kind(),
                            r.orig_id().name,
                            env.name,
                            missing.join(" or ")
                        ),
                    );
                    f.field = Some(format!("{}.resources.limits", c.path));
                    f.loc = c
                        .node
                        .get("resources")
                        .map(|n| n.blame())
                        .unwrap_or_else(|| {
                            c.node.get("name").map(|n| n.blame()).unwrap_or(c.node.loc)
                        });
                    out.push(f);
                }
            }
        }
        out
    }
}
