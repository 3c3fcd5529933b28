//! `resource-limits-missing`: containers in production should declare limits.

use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::Finding;
use super::resource_limits_removed::{LimitsOptions, references, set_upstream};
use super::support::resources::removal_by;
use crate::settings::{Level, RuleSettings, Stage};

/// A container in production declares no cpu/memory limit.
///
/// **What.** Every container and init container of every workload in the environments the policy
/// names (default: production) should set `resources.limits.cpu` and `resources.limits.memory`
/// (configurable). Reported as a warning by default.
///
/// **Why.** Without limits one workload can starve its node. `resource-limits-removed` catches
/// limits that an overlay dropped; this rule catches limits that were never there. A limit the
/// base (or the environment before, or the base revision) sets and a patch removes is
/// `resource-limits-removed`'s finding alone while that rule is on here; when it is off, this one
/// points at the patch that removed the limit, not at the line that set it.
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
        // Limits a patch removed are resource-limits-removed's to report, where it applies.
        let removed_rule = ctx.policy.rule(super::resource_limits_removed::INFO.id);
        for (i, (env, build)) in ctx.envs.iter().enumerate() {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            let refs = if removed_rule.applies(&ctx.app.name, &env.name, env.stage) {
                references(ctx, i)
            } else {
                vec![]
            };
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
                        .map(String::as_str)
                        .filter(|res| !set_upstream(&refs, r, &c.name, c.list, res))
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
                    // The patch that removed a limit, else where `resources` (or the container)
                    // is written.
                    f.loc = missing
                        .iter()
                        .find_map(|res| removal_by(r, &format!("{}.resources.limits.{res}", c.path)))
                        .or_else(|| c.node.get("resources").map(crate::yaml::Node::blame))
                        .unwrap_or_else(|| {
                            c.node.get("name").map_or(c.node.loc, crate::yaml::Node::blame)
                        });
                    out.push(f);
                }
            }
        }
        out
    }
}
