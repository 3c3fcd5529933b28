//! `schema-violation`: rendered objects must be valid against the Kubernetes (or CRD) schema.

use super::{AppCtx, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Severity};
use crate::policy::Policy;
use crate::schema::Outcome;

/// A rendered object does not validate against its schema.
///
/// **What.** Every rendered object of every environment is validated, offline, against the
/// Kubernetes schema of its apiVersion/kind (bundled in kustodian: the two newest supported
/// Kubernetes minor versions, strict by default so unknown fields are errors) or, for custom
/// resources, against the `openAPIV3Schema` of a `CustomResourceDefinition` rendered from the
/// repository. Each finding names the field, says what is wrong in plain words, and points at the
/// source line that produced the value (the misspelled key itself for unknown fields).
///
/// **Why.** `kubectl apply` and Argo CD reject invalid objects at sync time — after merge. Unknown
/// fields are worse: without strict validation they are silently dropped (`imagePullPolicyy`).
///
/// **Example.** `replicas: "three"`; `imagePullPolicyy: Always`; a Service `port: "http"`.
///
/// **Fix.** Correct the field at the line shown.
///
/// **Config.** `options.kubernetes-version` (`1.36`, `1.37`; default the newest), `options.strict`
/// (default true), `options.skip-kinds` / `options.reject-kinds` (kinds never validated / always
/// refused). Objects without any schema are `schema-missing`'s business.
pub struct SchemaViolation;

pub const INFO: RuleInfo = RuleInfo {
    id: "schema-violation",
    doc: docs::SCHEMA_VIOLATION,
    default_severity: Severity::Error,
};

impl Rule for SchemaViolation {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, policy: &Policy) -> Vec<Finding> {
        let s = &policy.schema_violation;
        let Some(schemas) = ctx.schemas else {
            return vec![];
        };
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, env) {
                continue;
            }
            for r in &build.resources {
                let kind = r.kind();
                if s.options.skip_kinds.iter().any(|k| k == kind) {
                    continue;
                }
                if s.options.reject_kinds.iter().any(|k| k == kind) {
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!("{kind} objects are not allowed by the policy (reject-kinds)"),
                    );
                    f.loc = r.node.get("kind").map(|n| n.loc).unwrap_or(r.loc());
                    out.push(f);
                    continue;
                }
                if let Outcome::Invalid(vs) = schemas.validate(&r.node) {
                    for v in vs {
                        let mut f = finding(
                            INFO.id,
                            ctx,
                            Some(env),
                            Some(r),
                            format!("{kind} '{}' is invalid: {}", r.orig_id().name, v.message),
                        );
                        f.field = Some(v.path);
                        if v.loc.is_some() {
                            f.loc = v.loc;
                        }
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}
