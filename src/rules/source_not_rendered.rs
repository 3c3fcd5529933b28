//! `source-not-rendered`: what the repository's GitOps objects deploy that kustodian does not render.

use super::{AppCtx, NoOptions, OptionsType, RepoCtx, Rule, RuleInfo, docs};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// A GitOps object deploys something kustodian does not render: a Helm chart, another repository or branch, or an ApplicationSet generator that needs a cluster.
///
/// **What.** Discovery reads every Argo CD Application and ApplicationSet and every Flux
/// Kustomization of the repository. Sources it cannot render offline are reported here, each at
/// its object: Helm charts (from a chart repository or a path with a `Chart.yaml`), sources in
/// another repository or on another branch or tag of this one (rendered-branch setups), OCI and
/// bucket sources, ApplicationSet generators that need the cluster (the `clusters` generator
/// without labels in its selector, pull-request and SCM generators) and templates using Go
/// template functions that cannot be evaluated offline.
///
/// **Why.** So that what is not checked is said, not silently skipped: a required status check
/// that is green only because it looked at nothing is worse than none.
///
/// **Example.** An Application with `chart: ingress-nginx` and `repoURL:
/// https://kubernetes.github.io/ingress-nginx`.
///
/// **Fix.** Nothing to fix when the source is checked elsewhere. Render Helm charts in CI and pipe
/// them to `kustodian check -` to check them.
///
/// **Config.** A note by default; set `severity: off` to hide these, or `warning` to make them
/// visible in annotations.
pub(crate) struct SourceNotRendered;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "source-not-rendered",
    doc: docs::SOURCE_NOT_RENDERED,
    default_level: Level::Note,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for SourceNotRendered {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, _settings: &RuleSettings) -> Vec<Finding> {
        ctx.discovery
            .notes
            .iter()
            .map(|n| {
                let mut f = Finding::new(INFO.id, crate::diag::Severity::Note, n.message.clone());
                f.loc = n.loc;
                f
            })
            .collect()
    }
}
