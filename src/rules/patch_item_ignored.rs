//! `patch-item-ignored`: strategic-merge patch items kustomize drops without a word.

use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, add_environment, docs, finding};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};
use crate::render::resource::EditKind;

/// A strategic-merge patch item that kustomize silently ignores: a port written without the `protocol` its target names, `$patch: replace` on an existing list item, an item without its key field (which also wipes the list).
///
/// **What.** kustomize merges lists of containers, env vars, ports, volumes and the like item by
/// item, matching items on their key fields, and in three cases (kyaml's merge) drops a patch item
/// without a word — `kustomize build` succeeds and the change is simply not there:
/// - lists matched on several fields at once (container ports on `containerPort` and `protocol`,
///   Service ports on `port` and `protocol`, topology spread constraints on `topologyKey` and
///   `whenUnsatisfiable`), when the patch item and the item it targets write those fields
///   differently — one has `protocol: TCP`, the other leaves it out: the target's item is kept;
/// - `$patch: replace` on an item the target already has (`{name: app, $patch: replace, ...}`):
///   the target's item is kept unchanged;
/// - an item without its key field (an env var without `name`): it is dropped, and every item
///   of that list that does have one is removed with it.
///
/// kustodian renders exactly what kustomize renders and reports the patch item. Each patch line is
/// reported once per app, with the environments it affects.
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
/// `protocol: TCP` to the patch item (or remove it from the base). To replace an item, use a JSON
/// 6902 patch (`op: replace`). Give every item its key field.
///
/// **Config.** `severity`, `stages`/`environments`.
pub(crate) struct PatchItemIgnored;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "patch-item-ignored",
    doc: docs::PATCH_ITEM_IGNORED,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for PatchItemIgnored {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for r in &build.resources {
                for e in &r.edits {
                    let EditKind::Ignored { why, fix } = &e.kind else {
                        continue;
                    };
                    // A base's patch shows in every environment: one finding, every env named.
                    if let Some(f) = out.iter_mut().find(|f| f.loc == e.by && f.message == *why) {
                        add_environment(f, &env.name);
                        continue;
                    }
                    let mut f = finding(INFO.id, ctx, Some(env), Some(r), why.clone());
                    f.field = Some(e.path.clone());
                    f.loc = e.by;
                    f.help = Some(fix.clone());
                    out.push(f);
                }
            }
        }
        out
    }
}
