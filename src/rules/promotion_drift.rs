//! `promotion-drift`: staging and production may differ only in what promotion is expected to change.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::support::drift::{Drift, IdentityOptions, Origin, Pair, Readers, compare};
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Related};
use crate::discover::Env;
use crate::settings::{Level, RuleSettings};

/// A production environment differs from the staging environment it is promoted from, by an edit one environment made on its own.
///
/// **What.** Each production environment is compared with its staging counterpart (see
/// `kustodian envs`: the staging environment that promotes to it, or the one whose name has the
/// same region — `staging-eu` for `prod-eu` —, or the only one). A difference is reported when it
/// comes from a file that belongs to one environment alone: a file in its own directory, or one
/// (a patch, a component) that only it reads among the environments of its stage. That is the
/// failure mode promotion gates exist for: a manual edit in one overlay, forgotten. Each is
/// reported once, at the line that introduced it, with both rendered values; objects present in
/// one environment only are reported too.
///
/// Not reported: differences from a file every environment of a stage shares — a
/// `variants/prod` base all `prod-*` environments use, a `components/production` component —
/// which are the stage's intended configuration (`stage-config-differs` notes them, off by
/// default); container images (promotion's business); `Secret` values (`secret-keys-differ`
/// compares keys); what each overlay sets as its own identity — `namespace`,
/// `namePrefix`/`nameSuffix`, `labels`/`commonLabels`/`commonAnnotations`, `replicas` entries or
/// the builtin transformers behind them, and the hash suffixes and name references that follow;
/// and, unless turned off in `options.identity`: values that differ only by the environments'
/// names (`ENV=staging-eu` vs `ENV=prod-eu`, `podinfo.staging.example.com` vs
/// `podinfo.production.example.com`, Flux `spec.path: ./staging` vs `./production`) —
/// `environment-names` —, namespace fields and each overlay's own `Namespace` object —
/// `namespaces` —, replica counts from any source and HorizontalPodAutoscaler bounds —
/// `replicas` —, and PodDisruptionBudgets and HorizontalPodAutoscalers production has alone —
/// `production-only`.
///
/// **Why.** Promotion should move a tested artifact, not configuration nobody tested: a
/// staging-only config change means production will run a combination that never ran anywhere.
///
/// **Example.** The kostis-codefresh/gitops-environment-promotion layout (`envs/<env>` overlays
/// built from `base/` plus `variants/prod` or `variants/non-prod` and a region variant): with no
/// configuration, `envs/prod-us/settings.yml` setting `UI_THEME: "dark"` where staging-us runs
/// `"light"` is reported at that line (`envs/prod-us/settings.yml:13`). Not reported there:
/// `variants/prod/prod.yml`'s settings, which every `prod-*` environment shares, `ENV: "prod-us"`
/// (the environment's own name), `replicas.yml`, the images in `version.yml`, `namespace` and
/// `namePrefix`. The whole walk-through, with pull-request mode, is in `docs/drift.md`.
///
/// **Fix.** Make the change in the base or a shared variant (so both get it), or in both
/// environments, or allow the path in the policy when the difference is intended.
///
/// **Config.** `options.allow`: dotted field paths allowed to differ (`*` one segment, `**` any,
/// optional `Kind:` prefix, e.g. `Deployment:spec.template.spec.containers[*].env[name=LOG_LEVEL]`);
/// `options.apps.<app>`: more paths for one app; `options.identity`: `environment-names`,
/// `namespaces`, `replicas` (booleans, default true) and `production-only` (kinds, default
/// `[PodDisruptionBudget, HorizontalPodAutoscaler]`).
pub(crate) struct PromotionDrift;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "promotion-drift",
    doc: docs::PROMOTION_DRIFT,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<DriftOptions>(),
};

/// Options of `promotion-drift`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct DriftOptions {
    /// Field paths allowed to differ between staging and production, for every app. Dotted
    /// paths inside a resource, `*` matches one segment, `**` any number; prefix with
    /// `Kind:` to limit to a kind (e.g. `Deployment:spec.template.spec.containers[*].env`).
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    /// Per-app additions to `allow`, keyed by app name.
    #[serde(default)]
    pub(crate) apps: BTreeMap<String, Vec<String>>,
    /// Which differences count as each overlay's own identity (all on by default).
    #[serde(default)]
    pub(crate) identity: IdentityOptions,
}

impl Rule for PromotionDrift {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out = Vec::new();
        for_each_pair(ctx, s.options(), &mut |drift, penv| {
            if drift.origin == Origin::Own && s.applies(&ctx.app.name, &penv.name, penv.stage) {
                out.push(to_finding(ctx, drift, penv));
            }
        });
        out
    }
}

/// Runs the comparison of every staging → production pair of the app (the pairs discovery made).
pub(crate) fn for_each_pair<'a>(
    ctx: &'a AppCtx,
    o: &DriftOptions,
    f: &mut dyn FnMut(Drift<'a>, &'a Env),
) {
    let readers = Readers::new(&ctx.envs);
    let mut allow = o.allow.clone();
    allow.extend(o.apps.get(&ctx.app.name).cloned().unwrap_or_default());
    for (si, pi) in &ctx.app.pairs {
        let (senv, penv) = (&ctx.app.envs[*si], &ctx.app.envs[*pi]);
        let rendered = |e: &Env| ctx.envs.iter().find(|(x, _)| x.name == e.name).map(|(_, b)| *b);
        let (Some(sb), Some(pb)) = (rendered(senv), rendered(penv)) else {
            continue;
        };
        let pair = Pair {
            senv,
            sb,
            penv,
            pb,
            sources: ctx.sources,
            readers: &readers,
            allow: allow.clone(),
            identity: &o.identity,
        };
        for d in compare(&pair) {
            f(d, penv);
        }
    }
}

/// A drift as a finding of environment `penv`.
fn to_finding(ctx: &AppCtx, d: Drift, penv: &Env) -> Finding {
    let mut f = finding(INFO.id, ctx, Some(penv), Some(d.resource), d.message);
    f.field = d.path;
    f.loc = d.loc;
    if let Some((loc, message)) = d.other {
        f.related.push(Related { loc, message });
    }
    f.help = d.help;
    f
}
