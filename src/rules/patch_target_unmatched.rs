//! `patch-target-unmatched`: patches whose `target` selects nothing, which kustomize applies to
//! nothing without a word.

use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, add_environment, docs, finding};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// A `patches`/`patchesJson6902` entry whose `target` selects no object: kustomize applies it to nothing, silently (patches in components are not reported).
///
/// **What.** A `patches:` (or legacy `patchesJson6902:`) entry with a `target` is applied to every
/// object the target selects — and when it selects none, `kustomize build` succeeds and the patch
/// is simply not there. A misspelt name, a kind that changed in the base, a label selector that no
/// longer matches: the overlay still looks patched. Patches in components are not reported
/// (components are meant to be used by apps that lack some of their targets). Each patch is
/// reported once per app, with the environments it affects.
///
/// **Why.** Promotion relies on overlays saying what differs per environment. A production patch
/// raising replicas or memory that matches nothing is the most silent way to ship staging's
/// settings to production.
///
/// **Example.** The base renames `api` to `api-server`; production's patch still has
/// `target: {kind: Deployment, name: api}` and no longer raises the replicas.
///
/// **Fix.** Correct the target (kind, name, namespace, label or annotation selector) so it selects
/// the object, or remove the patch.
///
/// **Config.** `severity` (default warning), `stages`/`environments`.
pub(crate) struct PatchTargetUnmatched;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "patch-target-unmatched",
    doc: docs::PATCH_TARGET_UNMATCHED,
    default_level: Level::Warning,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for PatchTargetUnmatched {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for &loc in &build.unmatched_patches {
                // A base's patch shows in every environment: one finding, every env named.
                if let Some(f) = out.iter_mut().find(|f| f.loc == loc) {
                    add_environment(f, &env.name);
                    continue;
                }
                let mut f = finding(
                    INFO.id,
                    ctx,
                    Some(env),
                    None,
                    "this patch's target selects no object, so the patch changes nothing".into(),
                );
                f.loc = loc;
                f.help = Some(
                    "correct the target (kind, name, namespace or selector) so it selects the object, or remove the patch"
                        .into(),
                );
                out.push(f);
            }
        }
        out
    }
}
