//! `resource-limits-removed`: limits set upstream must not disappear downstream.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::{Finding, Related};
use super::support::resources::{counterpart, removal_by};
use crate::settings::{Level, RuleSettings};
use crate::render::Build;

/// A container that has cpu/memory limits in the base (or the environment before) lost them.
///
/// **What.** For every container of every workload, each limit (`resources.limits.cpu`,
/// `resources.limits.memory` by default) present in the app's base — rendered on its own — or in
/// the previous environment (dev → staging → production) must still be present in this
/// environment. Removals by a JSON patch (`op: remove`), a strategic-merge `null` or
/// `$patch: delete`, or a replaced container list are all caught.
///
/// **Why.** Limits protect the neighbours of a workload. An overlay that drops them "temporarily"
/// ships an unbounded container to production on the next promotion.
///
/// **Example.** `overlays/production/patch.yaml` with
/// `- {op: remove, path: /spec/template/spec/containers/0/resources/limits}`.
///
/// **Fix.** Delete the patch (or the part of it) the finding points at, or set a different limit
/// instead of removing it.
///
/// In pull-request mode (`--base`) it also fires when a container had a limit at the base
/// revision and lacks it at head, in any environment.
///
/// **Config.** `options.resources` lists the limits that matter (default `[cpu, memory]`);
/// `stages`/`environments` choose where it applies.
pub struct ResourceLimitsRemoved;

pub const INFO: RuleInfo = RuleInfo {
    id: "resource-limits-removed",
    doc: docs::RESOURCE_LIMITS_REMOVED,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<LimitsOptions>(),
};

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


/// What an environment's limits are compared with: the app's base rendered on its own, the
/// environment just before it, and in pull-request mode the same environment at the base
/// revision.
pub(crate) fn references<'a>(ctx: &'a AppCtx, i: usize) -> Vec<(&'a str, &'a Build)> {
    let mut refs: Vec<(&str, &Build)> = Vec::new();
    if let Some(b) = ctx.base {
        refs.push(("the base", b));
    }
    if i > 0 {
        let (prev, pb) = ctx.envs[i - 1];
        refs.push((prev.name.as_str(), pb));
    }
    if let Some(pr) = &ctx.pr
        && let Some(b) = pr.base_env(&ctx.envs[i].0.name)
    {
        refs.push(("the base revision", b));
    }
    refs
}

/// Whether a reference sets the limit `res` on this container (of `r`, in list `list`): then
/// its absence is a removal this rule reports.
pub(crate) fn set_upstream(
    refs: &[(&str, &Build)],
    r: &crate::render::Resource,
    container: &str,
    list: &str,
    res: &str,
) -> bool {
    refs.iter().any(|(_, rb)| {
        counterpart(rb, r).is_some_and(|theirs| {
            pods::containers(theirs).iter().any(|tc| {
                tc.name == container
                    && tc.list == list
                    && tc.node.get_path(&["resources", "limits", res]).is_some()
            })
        })
    })
}

impl Rule for ResourceLimitsRemoved {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, (env, build)) in ctx.envs.iter().enumerate() {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            let refs = references(ctx, i);
            for r in &build.resources {
                let mine = pods::containers(r);
                if mine.is_empty() {
                    continue;
                }
                let mut reported: Vec<(String, String)> = Vec::new();
                for (ref_name, rb) in &refs {
                    let Some(theirs) = counterpart(rb, r) else {
                        continue;
                    };
                    for tc in pods::containers(theirs) {
                        let Some(mc) = mine.iter().find(|c| c.name == tc.name && c.list == tc.list)
                        else {
                            continue;
                        };
                        for res in &s.options::<LimitsOptions>().resources {
                            let had = tc.node.get_path(&["resources", "limits", res]);
                            let has = mc.node.get_path(&["resources", "limits", res]);
                            let (Some(had), None) = (had, has) else {
                                continue;
                            };
                            if reported.contains(&(mc.name.clone(), res.clone())) {
                                continue;
                            }
                            reported.push((mc.name.clone(), res.clone()));
                            let field = format!("{}.resources.limits.{res}", mc.path);
                            let mut f = finding(
                                INFO.id,
                                ctx,
                                Some(env),
                                Some(r),
                                format!(
                                    "container '{}' of {} '{}' has no {res} limit in {}, but {ref_name} sets {res}: {}",
                                    mc.name,
                                    r.kind(),
                                    r.orig_id().name,
                                    env.name,
                                    had.scalar_string().unwrap_or_default()
                                ),
                            );
                            f.field = Some(field.clone());
                            f.loc = removal_by(r, &field)
                                .or_else(|| mc.node.get("resources").map(crate::yaml::Node::blame))
                                .unwrap_or(mc.node.loc);
                            f.related.push(Related {
                                loc: had.blame(),
                                message: format!("{res} limit set here ({ref_name})"),
                            });
                            f.help = Some(
                                "remove the patch that drops the limit, or set a new limit instead"
                                    .into(),
                            );
                            out.push(f);
                        }
                    }
                }
            }
        }
        out
    }
}
