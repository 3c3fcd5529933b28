//! `secret-key-missing`: every secret a workload reads must exist, with the key, in its environment.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};
use crate::render::{Build, Resource};
use crate::yaml::Node;

/// A workload reads a secret (or a key of it) that its environment does not provide.
///
/// **What.** In every environment, each secret reference of every workload —
/// `env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`, `volumes[].secret`, `projected` secret
/// sources (with their `items[].key`) and `imagePullSecrets` — must be satisfied by a `Secret`
/// (`data`/`stringData` keys), an `ExternalSecret` (its target name; keys from `data[].secretKey`,
/// any key with `dataFrom`) or a `SealedSecret` (`encryptedData` keys) rendered in that
/// environment, or by a name declared as provided outside the repository. References marked
/// `optional: true` are exempt.
///
/// **Why.** A key that exists only in dev makes the pod crash-loop (`CreateContainerConfigError`)
/// the moment the change is promoted — after review, in production.
///
/// **Example.** The base reads `DB_PASSWORD` from key `password` of secret `db`, but only
/// `overlays/dev` generates `db` with a `password` key.
///
/// **Fix.** Provide the secret and key in that environment (a `secretGenerator`, an
/// `ExternalSecret`, a `SealedSecret`), or declare the secret external.
///
/// **Config.** `options.external-secrets` (or `external-secrets` in `.kustodian.yaml`): names
/// provided outside the repository.
pub struct SecretKeyMissing;

pub const INFO: RuleInfo = RuleInfo {
    id: "secret-key-missing",
    doc: docs::SECRET_KEY_MISSING,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<SecretOptions>(),
};

/// Options of `secret-key-missing`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretOptions {
    /// Secret names provided outside the repository (also settable in `.kustodian.yaml`).
    #[serde(default)]
    pub external_secrets: Vec<String>,
}

/// Secrets an environment provides: name → keys (`None` = any key).
pub fn provided(build: &Build) -> BTreeMap<String, (Option<BTreeSet<String>>, &Resource)> {
    let mut out = BTreeMap::new();
    let keys_of = |n: Option<&Node>| -> BTreeSet<String> {
        n.and_then(|m| m.as_map())
            .map(|m| m.entries.iter().map(|e| e.key.to_string()).collect())
            .unwrap_or_default()
    };
    for r in &build.resources {
        match r.kind() {
            "Secret" => {
                let mut k = keys_of(r.node.get("data"));
                k.extend(keys_of(r.node.get("stringData")));
                out.insert(r.name().to_string(), (Some(k), r));
            }
            "ExternalSecret" => {
                let name = r
                    .node
                    .str_at(&["spec", "target", "name"])
                    .unwrap_or(r.name())
                    .to_string();
                let any = r.node.get_path(&["spec", "dataFrom"]).is_some();
                let keys = r
                    .node
                    .get_path(&["spec", "data"])
                    .and_then(|d| d.as_seq())
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i.str_at(&["secretKey"]).map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(name, ((!any).then_some(keys), r));
            }
            "SealedSecret" => {
                let name = r
                    .node
                    .str_at(&["spec", "template", "metadata", "name"])
                    .unwrap_or(r.name())
                    .to_string();
                let mut k = keys_of(r.node.get_path(&["spec", "encryptedData"]));
                k.extend(keys_of(r.node.get_path(&["spec", "template", "data"])));
                out.insert(name, (Some(k), r));
            }
            _ => {}
        }
    }
    out
}

/// One secret reference of a workload.
struct SecretRef<'a> {
    secret: String,
    key: Option<String>,
    /// The node to point at (the key, else the name).
    at: &'a Node,
    field: String,
}

fn is_optional(n: &Node) -> bool {
    n.get("optional").and_then(|o| o.as_bool()).unwrap_or(false)
}

fn refs(r: &Resource) -> Vec<SecretRef<'_>> {
    let mut out = Vec::new();
    let Some((spec, base)) = pods::pod_spec(r) else {
        return out;
    };
    for c in pods::containers(r) {
        for (i, e) in c
            .node
            .get("env")
            .and_then(|e| e.as_seq())
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(k) = e.get_path(&["valueFrom", "secretKeyRef"]) {
                if is_optional(k) {
                    continue;
                }
                if let (Some(name), Some(key)) = (k.str_at(&["name"]), k.get("key")) {
                    out.push(SecretRef {
                        secret: name.to_string(),
                        key: key.scalar_string(),
                        at: key,
                        field: format!("{}.env[{i}].valueFrom.secretKeyRef", c.path),
                    });
                }
            }
        }
        for (i, e) in c
            .node
            .get("envFrom")
            .and_then(|e| e.as_seq())
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = e.get("secretRef") {
                if is_optional(s) {
                    continue;
                }
                if let Some(n) = s.get("name") {
                    out.push(SecretRef {
                        secret: n.scalar_string().unwrap_or_default(),
                        key: None,
                        at: n,
                        field: format!("{}.envFrom[{i}].secretRef", c.path),
                    });
                }
            }
        }
    }
    for (i, v) in spec
        .get("volumes")
        .and_then(|v| v.as_seq())
        .into_iter()
        .flatten()
        .enumerate()
    {
        let vname = v.str_at(&["name"]).unwrap_or("");
        let mut sources: Vec<(&Node, &'static str, String)> = Vec::new();
        if let Some(s) = v.get("secret") {
            sources.push((
                s,
                "secretName",
                format!("{base}.volumes[name={vname}].secret"),
            ));
        }
        for (j, src) in v
            .get_path(&["projected", "sources"])
            .and_then(|s| s.as_seq())
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = src.get("secret") {
                sources.push((
                    s,
                    "name",
                    format!("{base}.volumes[name={vname}].projected.sources[{j}].secret"),
                ));
            }
        }
        let _ = i;
        for (s, name_field, field) in sources {
            if is_optional(s) {
                continue;
            }
            let Some(n) = s.get(name_field) else { continue };
            let secret = n.scalar_string().unwrap_or_default();
            let items: Vec<&Node> = s
                .get("items")
                .and_then(|x| x.as_seq())
                .map(|x| x.iter().collect())
                .unwrap_or_default();
            if items.is_empty() {
                out.push(SecretRef {
                    secret,
                    key: None,
                    at: n,
                    field,
                });
            } else {
                for it in items {
                    if let Some(k) = it.get("key") {
                        out.push(SecretRef {
                            secret: secret.clone(),
                            key: k.scalar_string(),
                            at: k,
                            field: format!("{field}.items"),
                        });
                    }
                }
            }
        }
    }
    for (i, s) in spec
        .get("imagePullSecrets")
        .and_then(|v| v.as_seq())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(n) = s.get("name") {
            out.push(SecretRef {
                secret: n.scalar_string().unwrap_or_default(),
                key: None,
                at: n,
                field: format!("{base}.imagePullSecrets[{i}]"),
            });
        }
    }
    out
}

impl Rule for SecretKeyMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let external: BTreeSet<&str> = s
            .options::<SecretOptions>()
            .external_secrets
            .iter()
            .chain(ctx.config.file.external_secrets.iter())
            .map(|x| x.as_str())
            .collect();
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            let have = provided(build);
            for r in &build.resources {
                for rf in refs(r) {
                    if external.contains(rf.secret.as_str()) {
                        continue;
                    }
                    let problem = match (have.get(&rf.secret), &rf.key) {
                        (None, _) => Some(format!(
                            "{} '{}' in {} reads secret '{}'{}, but no Secret, ExternalSecret or SealedSecret named '{}' is rendered in {}",
                            r.kind(),
                            r.orig_id().name,
                            env.name,
                            rf.secret,
                            rf.key
                                .as_ref()
                                .map(|k| format!(" (key '{k}')"))
                                .unwrap_or_default(),
                            rf.secret,
                            env.name
                        )),
                        (Some((Some(keys), by)), Some(k)) if !keys.contains(k) => Some(format!(
                            "{} '{}' in {} reads key '{k}' of secret '{}', but {} '{}' in {} provides only: {}",
                            r.kind(),
                            r.orig_id().name,
                            env.name,
                            rf.secret,
                            by.kind(),
                            by.orig_id().name,
                            env.name,
                            if keys.is_empty() {
                                "no keys".to_string()
                            } else {
                                keys.iter().cloned().collect::<Vec<_>>().join(", ")
                            }
                        )),
                        _ => None,
                    };
                    if let Some(msg) = problem {
                        let mut f = finding(INFO.id, ctx, Some(env), Some(r), msg);
                        f.field = Some(rf.field);
                        f.loc = rf.at.blame();
                        f.help = Some(format!(
                            "provide it in {} (secretGenerator, ExternalSecret or SealedSecret), mark the reference `optional: true`, or list the secret under `external-secrets`",
                            env.dir
                        ));
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}
