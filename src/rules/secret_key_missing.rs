//! `secret-key-missing`: every secret a workload reads must exist, with the key, in its environment.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::support::pods;
use super::support::secrets::provided;
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Suppressed};
use crate::render::Resource;
use crate::settings::{Level, RuleSettings};
use crate::yaml::Node;

/// A workload reads a secret (or a key of it) that its environment does not provide.
///
/// **What.** In every environment, each secret reference of every workload —
/// `env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`, `volumes[].secret`, `projected` secret
/// sources (with their `items[].key`) and `imagePullSecrets` — must be satisfied by an object
/// rendered in that environment that makes a Secret of that name exist, or by a name declared as
/// provided outside the repository. References marked `optional: true` are exempt. Providers: a
/// `Secret` (`data`/`stringData` keys; SOPS-encrypted ones too, their keys are in the clear; a
/// service-account token Secret gets `token`, `ca.crt`, `namespace`), an external-secrets
/// `ExternalSecret` or `ClusterExternalSecret` (its target name; keys from `data[].secretKey` or
/// from `target.template.data` and `templateFrom`, as the controller applies the template;
/// `creationPolicy: None` provides nothing), a `SealedSecret` (`encryptedData` keys), a
/// cert-manager `Certificate` (`spec.secretName`: `tls.crt`, `tls.key`, `ca.crt`, and the
/// additional output formats and keystores it asks for), a Vault Secrets Operator
/// `VaultStaticSecret`/`VaultDynamicSecret`/`VaultPKISecret`/`HCPVaultSecretsApp`
/// (`spec.destination.name`), a Crossplane `spec.writeConnectionSecretToRef`, the credentials
/// `flux bootstrap` creates for the `flux-system` GitRepository's `secretRef`, and the Secrets
/// Argo CD's install creates for itself: `argocd-initial-admin-secret` (key `password`, when
/// argocd-server runs in the environment) and `argocd-redis` (key `auth`, created by its redis init
/// container). Where only the running controller knows the keys (`dataFrom`, Vault, connection
/// details, bootstrap credentials, templates that render their own keys), any key is accepted: the
/// reference is reported as set aside, with the reason, in `--verbose` output and in JSON and
/// SARIF (as suppressed). Secrets a controller only reads (other Flux `secretRef`s,
/// `decryption.secretRef`) provide nothing.
///
/// **Why.** A key that exists only in dev makes the pod crash-loop (`CreateContainerConfigError`)
/// the moment the change is promoted — after review, in production.
///
/// **Example.** The base reads `DB_PASSWORD` from key `password` of secret `db`, but only
/// `overlays/dev` generates `db` with a `password` key.
///
/// **Fix.** Provide the secret and key in that environment (a `secretGenerator`, an
/// `ExternalSecret`, a `SealedSecret`, a `Certificate`), or declare the secret external.
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

/// One secret reference of a workload.
struct SecretRef<'a> {
    secret: String,
    key: Option<String>,
    /// The node to point at (the key, else the name).
    at: &'a Node,
    field: String,
}

fn is_optional(n: &Node) -> bool {
    n.get("optional").and_then(crate::yaml::Node::as_bool).unwrap_or(false)
}

fn refs(r: &Resource) -> Vec<SecretRef<'_>> {
    let mut out = Vec::new();
    let Some((spec, base)) = pods::pod_spec(r) else {
        return out;
    };
    for c in pods::containers(r) {
        container_refs(&c, &mut out);
    }
    volume_refs(spec, &base, &mut out);
    pull_secret_refs(spec, &base, &mut out);
    out
}

/// References in one container's `env` and `envFrom`.
fn container_refs<'a>(c: &pods::Container<'a>, out: &mut Vec<SecretRef<'a>>) {
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

/// References in the pod's `secret` and projected `secret` volumes.
fn volume_refs<'a>(spec: &'a Node, base: &str, out: &mut Vec<SecretRef<'a>>) {
    for v in spec
        .get("volumes")
        .and_then(|v| v.as_seq())
        .into_iter()
        .flatten()
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
}

/// The pod's `imagePullSecrets`.
fn pull_secret_refs<'a>(spec: &'a Node, base: &str, out: &mut Vec<SecretRef<'a>>) {
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
            .map(String::as_str)
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
                    let reads = || {
                        format!(
                            "{} '{}' in {} reads {}secret '{}'",
                            r.kind(),
                            r.orig_id().name,
                            env.name,
                            rf.key
                                .as_ref()
                                .map(|k| format!("key '{k}' of "))
                                .unwrap_or_default(),
                            rf.secret,
                        )
                    };
                    let mut set_aside = None;
                    let problem = match (have.get(&rf.secret), &rf.key) {
                        (None, _) => Some(format!(
                            "{}, but nothing rendered in {} provides a Secret named '{}' (a Secret, ExternalSecret, SealedSecret, Certificate, ...)",
                            reads(),
                            env.name,
                            rf.secret,
                        )),
                        (Some(p), Some(k)) => match (&p.keys, &p.unknown) {
                            (Some(keys), _) if !keys.contains(k) => Some(format!(
                                "{}, but {} '{}' in {} provides only: {}",
                                reads(),
                                p.by.kind(),
                                p.by.orig_id().name,
                                env.name,
                                if keys.is_empty() {
                                    "no keys".to_string()
                                } else {
                                    keys.iter().cloned().collect::<Vec<_>>().join(", ")
                                }
                            )),
                            (None, Some(u)) => {
                                set_aside = Some(Suppressed {
                                    in_source: false,
                                    reason: format!("any key is accepted: {}", u.why),
                                    loc: u.loc,
                                });
                                Some(format!("{}, whose keys are not known before it runs", reads()))
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(msg) = problem {
                        let mut f = finding(INFO.id, ctx, Some(env), Some(r), msg);
                        f.field = Some(rf.field);
                        f.loc = rf.at.blame();
                        f.help = Some(format!(
                            "provide it in {} (secretGenerator, ExternalSecret, SealedSecret, Certificate), mark the reference `optional: true`, or list the secret under `external-secrets`",
                            env.dir
                        ));
                        f.suppressed = set_aside;
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}
