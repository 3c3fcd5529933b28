//! `schema-missing`: objects kustodian cannot validate.

use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// No schema is known for a rendered object's apiVersion/kind.
///
/// **What.** A rendered object whose apiVersion/kind is neither a built-in Kubernetes kind of the
/// configured version nor defined by a `CustomResourceDefinition` rendered from the repository
/// cannot be validated by `schema-violation`. Reported once per kind and environment, as a
/// warning by default (set `severity: off` to ignore, `error` to require schemas).
///
/// **Why.** A typo in `apiVersion` (or a CRD missing from the repository) otherwise means the
/// object is never checked at all.
///
/// **Example.** An `ExternalSecret` in a repo that does not include the external-secrets CRDs.
///
/// **Fix.** Vendor the CRD into the repository (rendered by some kustomization), fix the
/// apiVersion, or list the kind under `schema-violation`'s `skip-kinds`.
///
/// **Config.** `severity`.
pub struct SchemaMissing;

pub const INFO: RuleInfo = RuleInfo {
    id: "schema-missing",
    doc: docs::SCHEMA_MISSING,
    default_level: Level::Warning,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for SchemaMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let skip = &ctx
            .policy
            .options::<super::schema_violation::SchemaOptions>(super::schema_violation::INFO.id)
            .skip_kinds;
        let Some(schemas) = ctx.schemas else {
            return vec![];
        };
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            let mut seen = std::collections::BTreeSet::new();
            for r in &build.resources {
                let id = r.id();
                if skip.iter().any(|k| *k == id.kind)
                    || !seen.insert((id.api_version(), id.kind.to_string()))
                {
                    continue;
                }
                if !schemas.has_schema(&r.node) {
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!(
                            "no schema for {} {} (not a Kubernetes {} kind, and no CustomResourceDefinition for it in the repository)",
                            id.api_version(),
                            id.kind,
                            schemas.version()
                        ),
                    );
                    f.loc = r.node.get("apiVersion").map_or(r.loc(), |n| n.loc);
                    out.push(f);
                }
            }
        }
        out
    }
}
