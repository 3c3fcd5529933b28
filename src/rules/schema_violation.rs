//! `schema-violation`: rendered objects must be valid against the Kubernetes (or CRD) schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};
use crate::schema::Outcome;
use crate::source::Loc;

/// A rendered object does not validate against its Kubernetes or CRD schema (offline, strict), or has a ConfigMap/Secret data key the API server refuses.
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
/// Beyond the schema, the one API-server rule config repositories trip over: keys of a
/// ConfigMap's or Secret's `data` (also `binaryData`, `stringData`) may contain only letters,
/// digits, `-`, `_` and `.`. kustomize copies generator keys unchecked, so a dotenv file's
/// `export NAME=value` renders as the key `export NAME` — reported at that line of the env file.
///
/// **Example.** `replicas: "three"`; `imagePullPolicyy: Always`; a Service `port: "http"`;
/// `export LOG_LEVEL=debug` in a `configMapGenerator` env file.
///
/// **Fix.** Correct the field at the line shown.
///
/// **Config.** `options.kubernetes-version` (`1.29` … `1.37`; default the newest; the command
/// line's `--kubernetes-version` overrides it), `options.strict` (default true),
/// `options.skip-kinds` / `options.reject-kinds` (kinds never validated / always refused). Objects without any schema are `schema-missing`'s business.
pub struct SchemaViolation;

pub const INFO: RuleInfo = RuleInfo {
    id: "schema-violation",
    doc: docs::SCHEMA_VIOLATION,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<SchemaOptions>(),
};

/// Options of `schema-violation`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SchemaOptions {
    /// Bundled Kubernetes version to validate against (`1.36`, `1.37`; default the newest).
    pub kubernetes_version: Option<String>,
    /// Reject unknown fields (default true).
    #[serde(default = "yes")]
    pub strict: bool,
    /// Kinds never validated.
    #[serde(default)]
    pub skip_kinds: Vec<String>,
    /// Kinds always refused.
    #[serde(default)]
    pub reject_kinds: Vec<String>,
    /// Repository directories with more schemas: kubeconform-style JSON files
    /// (`{kind}-{group}-{version}.json`), CRDs-catalog files (`{group}/{kind}_{version}.json`), or
    /// YAML files holding CustomResourceDefinitions.
    #[serde(default)]
    pub schema_dirs: Vec<String>,
}
fn yes() -> bool {
    true
}

impl Default for SchemaOptions {
    fn default() -> SchemaOptions {
        SchemaOptions {
            kubernetes_version: None,
            strict: true,
            skip_kinds: vec![],
            reject_kinds: vec![],
            schema_dirs: vec![],
        }
    }
}


impl Rule for SchemaViolation {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for r in &build.resources {
                let kind = r.kind();
                if s.options::<SchemaOptions>().skip_kinds.iter().any(|k| k == kind) {
                    continue;
                }
                let invalid = |message: String, field: Option<String>, loc: Loc| {
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!("{kind} '{}' is invalid: {message}", r.orig_id().name),
                    );
                    f.field = field;
                    if loc.is_some() {
                        f.loc = loc;
                    }
                    f
                };
                for (field, key, why, loc) in bad_data_keys(r) {
                    let mut f = invalid(
                        format!("{field} key '{key}' {why}; the API server refuses it"),
                        Some(format!("{field}.{key}")),
                        loc,
                    );
                    f.help = Some(
                        "keys may contain only letters, digits, '-', '_' and '.' (e.g. 'LOG_LEVEL', 'app.conf'); \
                         in an env file, drop shell syntax such as 'export'"
                            .into(),
                    );
                    out.push(f);
                }
                let Some(schemas) = ctx.schemas else {
                    continue;
                };
                if s.options::<SchemaOptions>().reject_kinds.iter().any(|k| k == kind) {
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!("{kind} objects are not allowed by the policy (reject-kinds)"),
                    );
                    f.loc = r.node.get("kind").map_or(r.loc(), |n| n.loc);
                    out.push(f);
                    continue;
                }
                if let Outcome::Invalid(vs) = schemas.validate(&r.node) {
                    for v in vs {
                        out.push(invalid(v.message, Some(v.path), v.loc));
                    }
                }
            }
        }
        out
    }
}

/// Keys of a v1 ConfigMap's or Secret's data maps the API server refuses (its `IsConfigMapKey`):
/// (field, key, what is wrong, where the key was written).
fn bad_data_keys(r: &crate::render::Resource) -> Vec<(&'static str, String, &'static str, Loc)> {
    let fields: &[&'static str] = match (r.node.str_at(&["apiVersion"]), r.kind()) {
        (Some("v1"), "ConfigMap") => &["data", "binaryData"],
        (Some("v1"), "Secret") => &["data", "stringData"],
        _ => return vec![],
    };
    let mut out = Vec::new();
    for field in fields {
        let Some(m) = r.node.get(field).and_then(|m| m.as_map()) else {
            continue;
        };
        for e in &m.entries {
            let key: &str = &e.key;
            let why = if key.is_empty() {
                "is empty"
            } else if key.len() > 253 {
                "is longer than 253 characters"
            } else if !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                "has a character other than letters, digits, '-', '_' and '.'"
            } else if key == "." || key.starts_with("..") {
                "must not be '.' or start with '..'"
            } else {
                continue;
            };
            let loc = if e.key_loc.is_some() {
                e.key_loc
            } else {
                e.value.loc
            };
            out.push((*field, key.to_string(), why, loc));
        }
    }
    out
}
