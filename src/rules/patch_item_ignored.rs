//! `patch-item-ignored`: strategic-merge patch items kustomize drops without a word.

use super::{AppCtx, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Severity};
use crate::policy::Policy;
use crate::render::resource::EditKind;

/// A strategic-merge patch item that kustomize silently ignores.
///
/// **What.** Some lists are matched on several fields at once: container ports on `containerPort`
/// and `protocol`, Service ports on `port` and `protocol`, topology spread constraints on
/// `topologyKey` and `whenUnsatisfiable`. When a patch item and the item it targets name those
/// fields differently — one writes `protocol: TCP`, the other leaves it out — kustomize (kyaml's
/// merge) keeps the target's item unchanged and drops the patch item: `kustomize build` succeeds
/// and the change is simply not there. kustodian renders exactly that and reports the patch item.
/// Each patch line is reported once per app, with the environments it affects.
///
/// **Why.** The overlay says one thing and the cluster gets another; reviewers read the patch,
/// not the rendered output, so nobody notices until the port name, target port or constraint
/// is missing in production.
///
/// **Example.** The base has `ports: [{containerPort: 8080, protocol: TCP}]`; the production
/// patch adds `ports: [{containerPort: 8080, name: http}]`. The rendered Deployment has no
/// port name.
///
/// **Fix.** Write the key fields the same way in the patch and in the base: add
/// `protocol: TCP` to the patch item (or remove it from the base).
///
/// **Config.** `severity`, `stages`/`environments`.
pub struct PatchItemIgnored;

pub const INFO: RuleInfo = RuleInfo {
    id: "patch-item-ignored",
    doc: docs::PATCH_ITEM_IGNORED,
    default_severity: Severity::Error,
};

impl Rule for PatchItemIgnored {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, policy: &Policy) -> Vec<Finding> {
        let s = &policy.patch_item_ignored;
        let mut out: Vec<Finding> = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, env) {
                continue;
            }
            for r in &build.resources {
                for e in &r.edits {
                    let EditKind::Ignored(why) = &e.kind else {
                        continue;
                    };
                    // A base's patch shows in every environment: one finding, every env named.
                    if let Some(f) = out.iter_mut().find(|f| f.loc == e.by && f.message == *why) {
                        let envs = f.environment.get_or_insert_with(String::new);
                        if !envs.split(", ").any(|x| x == env.name) {
                            envs.push_str(", ");
                            envs.push_str(&env.name);
                        }
                        continue;
                    }
                    let mut f = finding(INFO.id, ctx, Some(env), Some(r), why.clone());
                    f.field = Some(e.path.clone());
                    f.loc = e.by;
                    f.help = Some(
                        "write the list's key fields (e.g. `protocol`) the same way in the patch \
                         item and in the item it patches"
                            .into(),
                    );
                    out.push(f);
                }
            }
        }
        out
    }
}
