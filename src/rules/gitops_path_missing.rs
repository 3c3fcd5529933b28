//! `gitops-path-missing`: a GitOps object of this repository points at nothing to render.

use super::{NoOptions, OptionsType, RepoCtx, Rule, RuleInfo, AppCtx, docs};
use crate::diag::Finding;
use crate::discover::listing::missing_what;
use crate::settings::{Level, RuleSettings};

/// An Argo CD Application/ApplicationSet or Flux Kustomization of this repository points at a path that does not exist or holds nothing to render.
///
/// **What.** Every `spec.source.path` (and `spec.sources[].path`) of an Argo CD Application —
/// including each Application an ApplicationSet generates — and every `spec.path` of a Flux
/// Kustomization whose source is this repository must name a directory that holds a
/// kustomization (or, where the controller builds one, manifests). The finding points at the
/// `path:` line, with the closest existing directory when one is close (`deploy/reports/prod`
/// beside `deploy/billing/prd`).
///
/// **Why.** The controller cannot sync such an object: the environment it names is not deployed at
/// all, and nothing else in the repository says so — kustodian would otherwise check everything
/// except the one environment that is broken.
///
/// **Example.** `path: deploy/biling/prd` in `argocd/billing-prd.yaml`.
///
/// **Fix.** Correct the path, or create the directory with its kustomization.
///
/// **Config.** Severity only. Objects whose source is another repository or another branch are
/// not this repository's to check (`kustodian envs` lists them as not rendered).
pub(crate) struct GitopsPathMissing;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "gitops-path-missing",
    doc: docs::GITOPS_PATH_MISSING,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for GitopsPathMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, _settings: &RuleSettings) -> Vec<Finding> {
        ctx.discovery
            .missing
            .iter()
            .map(|m| {
                let mut f = Finding::new(
                    INFO.id,
                    crate::diag::Severity::Error,
                    format!("{} points at '{}', which {}", m.object, m.path, missing_what(m.exists)),
                );
                f.loc = m.loc;
                f.help = Some(match &m.did_you_mean {
                    Some(d) => format!("did you mean '{d}'?"),
                    None => "correct the path, or create the directory with its kustomization".into(),
                });
                f
            })
            .collect()
    }
}
