//! `change-not-checked`: a pull request changes manifests that no environment renders.

use super::{AppCtx, NoOptions, OptionsType, RepoCtx, Rule, RuleInfo, docs};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// In pull-request mode, the change touches Kubernetes manifests that no environment kustodian knows renders, so nothing it changes was checked.
///
/// **What.** When a change affects no environment at all, yet changes YAML files that hold
/// Kubernetes objects (`apiVersion` and `kind`), kustodian says so, at the first such file, rather
/// than reporting a clean check of nothing.
///
/// **Why.** A required check that passes because it looked at nothing hides exactly the changes
/// it should have stopped: an environment kustodian's discovery does not find (an unusual layout,
/// a GitOps object it cannot read) is never checked.
///
/// **Example.** A pull request editing `deploy/prod/deployment.yaml` in a repository whose
/// environments kustodian finds only under `apps/`.
///
/// **Fix.** Run `kustodian envs` to see what kustodian checks, and name the missing environments
/// with `environments:` in `.kustodian.yaml` (or `ignore:` the files when they are not deployed).
///
/// **Config.** Severity only.
pub struct ChangeNotChecked;

pub const INFO: RuleInfo = RuleInfo {
    id: "change-not-checked",
    doc: docs::CHANGE_NOT_CHECKED,
    default_level: Level::Warning,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for ChangeNotChecked {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, _settings: &RuleSettings) -> Vec<Finding> {
        let (Some(changed), Some(affected)) = (ctx.changed, ctx.affected) else {
            return vec![];
        };
        if !affected.is_empty() {
            return vec![];
        }
        let manifests: Vec<&String> = changed
            .iter()
            .filter(|p| {
                (p.ends_with(".yaml") || p.ends_with(".yml"))
                    && !p.starts_with(".github/")
                    && !ctx.config.ignored(p)
                    && ctx.fs.read(p).is_ok_and(|t| {
                        t.lines().any(|l| l.starts_with("apiVersion:"))
                            && t.lines().any(|l| l.starts_with("kind:"))
                    })
            })
            .collect();
        let Some(first) = manifests.first() else {
            return vec![];
        };
        let mut f = Finding::new(
            INFO.id,
            crate::diag::Severity::Warning,
            format!(
                "this change touches {} Kubernetes manifest file(s) that no environment renders ({}{}): nothing it changes was checked",
                manifests.len(),
                first,
                if manifests.len() > 1 { ", ..." } else { "" }
            ),
        );
        f.path = Some((*first).clone());
        f.help = Some(
            "`kustodian envs` lists what is checked; name missing environments with `environments:` in .kustodian.yaml, or `ignore:` files that are not deployed".into(),
        );
        vec![f]
    }
}
