//! Which Secrets an environment's rendered objects provide, and with which keys.
//!
//! A workload's secret reference is satisfied by any object that makes a controller create (or
//! fill) a Secret of that name, not only by a `Secret`. Each provider below says the name it
//! creates and, when the manifest tells, its keys; when only the running controller knows them
//! (an external store's keys, a template that renders its own keys), any key is accepted and the
//! reason is kept ([`Unknown`]) so a rule can say why it did not judge a key.
//!
//! - `Secret`: `data` and `stringData` keys. A SOPS-encrypted Secret (a `sops:` block; Flux's
//!   kustomize-controller, ksops and helm-secrets decrypt it) shows its keys in the clear, so it
//!   counts like any other; a generated Secret from a SOPS-encrypted dotenv file loses the
//!   `sops_*` metadata keys when decrypted. A `kubernetes.io/service-account-token` Secret gets
//!   `token`, `ca.crt` and `namespace` from the token controller.
//! - external-secrets `ExternalSecret` (and a `ClusterExternalSecret`'s `externalSecretSpec`):
//!   `spec.target.name` (default: its own name); keys `data[].secretKey`, any with `dataFrom`;
//!   with a `target.template` that has `data` or `templateFrom`, the template's keys instead
//!   (plus the fetched ones under `mergePolicy: Merge`), as the controller applies it.
//!   `creationPolicy: None` creates nothing; `Merge` fills a Secret that must exist already.
//! - `SealedSecret`: `spec.template.metadata.name` (default: its own), `encryptedData` and
//!   `template.data` keys.
//! - cert-manager `Certificate`: `spec.secretName` with `tls.crt`, `tls.key`, `ca.crt`, plus
//!   `tls-combined.pem`/`key.der` for `additionalOutputFormats` and `keystore.jks`,
//!   `truststore.jks`, `keystore.p12`, `truststore.p12` for `keystores`.
//! - Vault Secrets Operator `VaultStaticSecret`, `VaultDynamicSecret`, `VaultPKISecret`,
//!   `HCPVaultSecretsApp`: `spec.destination.name`, keys known only from Vault.
//! - Crossplane claims and managed resources: `spec.writeConnectionSecretToRef.name`, keys the
//!   provider's connection details.
//! - Flux's own `flux-system` GitRepository: the `spec.secretRef` Secret `flux bootstrap` creates
//!   (keys depend on SSH or HTTPS: unknown).
//! - Argo CD's own install: `argocd-initial-admin-secret` (key `password`), which argocd-server
//!   writes on its first start, and the `argocd-redis` Secret (key `auth`) that the redis Deployment's
//!   `argocd admin redis-initial-password` init container creates.
//!
//! Secrets that GitOps controllers merely read (another Flux `GitRepository.spec.secretRef`, a
//! Kustomization's `decryption.secretRef`, Argo CD repository credentials, which are Secrets in
//! the repository already) provide nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::pods;
use crate::render::{Build, Resource};
use crate::source::Loc;
use crate::yaml::Node;

/// What an environment provides under one Secret name.
pub struct Provided<'a> {
    /// The keys; `None` when only the running controller knows them (any key is accepted).
    pub keys: Option<BTreeSet<String>>,
    /// The first object that provides it.
    pub by: &'a Resource,
    /// Why the keys are not known, when they are not.
    pub unknown: Option<Unknown>,
}

/// Why a provider's keys are known only at runtime.
#[derive(Clone, Debug)]
pub struct Unknown {
    /// The field that makes them unknown (`dataFrom`, `destination`, ...).
    pub loc: Loc,
    pub why: String,
}

/// The keys one object gives a Secret.
enum Keys {
    Known(BTreeSet<String>),
    Unknown(Unknown),
}

/// One object's contribution to one Secret.
struct Provision<'a> {
    name: String,
    keys: Keys,
    by: &'a Resource,
    /// Fills a Secret that must exist already (its other keys come from elsewhere).
    merges: bool,
}

/// Secrets an environment provides, by name.
pub fn provided(build: &Build) -> BTreeMap<String, Provided<'_>> {
    let mut out: BTreeMap<String, (Provided, bool)> = BTreeMap::new();
    for r in &build.resources {
        for p in provisions(r) {
            let (keys, unknown) = match p.keys {
                Keys::Known(k) => (Some(k), None),
                Keys::Unknown(u) => (None, Some(u)),
            };
            match out.get_mut(&p.name) {
                None => {
                    let entry = Provided {
                        keys,
                        by: p.by,
                        unknown,
                    };
                    out.insert(p.name, (entry, p.merges));
                }
                Some((e, merges_only)) => {
                    *merges_only &= p.merges;
                    match (&mut e.keys, keys) {
                        (Some(have), Some(more)) => have.extend(more),
                        (Some(_), None) => {
                            e.keys = None;
                            e.unknown = unknown;
                        }
                        (None, _) => {}
                    }
                }
            }
        }
    }
    out.into_iter()
        .map(|(name, (mut p, merges_only))| {
            // Only objects that merge into an existing Secret: that Secret, with keys of its own,
            // is not in this environment.
            if merges_only && p.keys.is_some() {
                p.keys = None;
                p.unknown = Some(Unknown {
                    loc: p
                        .by
                        .node
                        .get_path(&["spec", "target", "creationPolicy"])
                        .map_or(p.by.loc(), crate::yaml::Node::blame),
                    why: format!(
                        "{} '{}' merges into an existing Secret '{name}' that is not rendered here, so its other keys are unknown",
                        p.by.kind(),
                        p.by.orig_id().name
                    ),
                });
            }
            (name, p)
        })
        .collect()
}

fn keys_of(n: Option<&Node>) -> BTreeSet<String> {
    n.and_then(|m| m.as_map())
        .map(|m| m.entries.iter().map(|e| e.key.to_string()).collect())
        .unwrap_or_default()
}

/// The API group of an object (`cert-manager.io`; "" for the core group).
fn group(r: &Resource) -> &str {
    r.node
        .str_at(&["apiVersion"])
        .and_then(|a| a.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

fn unknown(r: &Resource, at: &Node, why: String) -> Keys {
    Keys::Unknown(Unknown {
        loc: at.blame(),
        why: format!("{} '{}' {why}", r.kind(), r.orig_id().name),
    })
}

/// Everything one object provides.
fn provisions(r: &Resource) -> Vec<Provision<'_>> {
    let one = |name: &str, keys: Keys| Provision {
        name: name.to_string(),
        keys,
        by: r,
        merges: false,
    };
    match (r.kind(), group(r)) {
        ("Secret", "") => vec![one(r.name(), Keys::Known(secret_keys(&r.node)))],
        ("ExternalSecret", _) => r
            .node
            .get("spec")
            .and_then(|spec| external_secret(r, spec, r.name()))
            .into_iter()
            .collect(),
        ("ClusterExternalSecret", _) => {
            let name = r
                .node
                .str_at(&["spec", "externalSecretName"])
                .unwrap_or(r.name());
            r.node
                .get_path(&["spec", "externalSecretSpec"])
                .and_then(|spec| external_secret(r, spec, name))
                .into_iter()
                .collect()
        }
        ("SealedSecret", _) => {
            let name = r
                .node
                .str_at(&["spec", "template", "metadata", "name"])
                .unwrap_or(r.name());
            let mut k = keys_of(r.node.get_path(&["spec", "encryptedData"]));
            k.extend(keys_of(r.node.get_path(&["spec", "template", "data"])));
            vec![one(name, Keys::Known(k))]
        }
        ("Certificate", "cert-manager.io") => r
            .node
            .str_at(&["spec", "secretName"])
            .map(|name| one(name, Keys::Known(certificate_keys(&r.node))))
            .into_iter()
            .collect(),
        // `flux bootstrap` creates the credentials its own GitRepository names.
        ("GitRepository", "source.toolkit.fluxcd.io") if r.name() == "flux-system" => {
            match r.node.get_path(&["spec", "secretRef", "name"]) {
                Some(n) => vec![one(
                    n.as_str().unwrap_or(""),
                    unknown(
                        r,
                        n,
                        "names the credentials `flux bootstrap` creates (identity, identity.pub and known_hosts over SSH; username and password over HTTPS)".into(),
                    ),
                )],
                None => vec![],
            }
        }
        (
            "VaultStaticSecret" | "VaultDynamicSecret" | "VaultPKISecret" | "HCPVaultSecretsApp",
            "secrets.hashicorp.com",
        ) => match r.node.get_path(&["spec", "destination", "name"]) {
            Some(n) => vec![one(
                n.as_str().unwrap_or(""),
                unknown(
                    r,
                    n,
                    "writes the keys Vault returns, known only when it runs".into(),
                ),
            )],
            None => vec![],
        },
        _ => {
            let mut out = Vec::new();
            if let Some(n) = r
                .node
                .get_path(&["spec", "writeConnectionSecretToRef", "name"])
                && let Some(name) = n.as_str()
            {
                let why = "writes its connection details, whose keys its provider decides".into();
                out.push(one(name, unknown(r, n, why)));
            }
            if runs(r, |a| a == "redis-initial-password") {
                out.push(one(
                    "argocd-redis",
                    Keys::Known(BTreeSet::from(["auth".to_string()])),
                ));
            }
            // argocd-server writes the initial admin password on its first start.
            if runs(r, |a| a == "argocd-server" || a.ends_with("/argocd-server")) {
                out.push(one(
                    "argocd-initial-admin-secret",
                    Keys::Known(BTreeSet::from(["password".to_string()])),
                ));
            }
            out
        }
    }
}

/// A core Secret's keys as the cluster will hold them.
fn secret_keys(node: &Node) -> BTreeSet<String> {
    let mut k = keys_of(node.get("data"));
    k.extend(keys_of(node.get("stringData")));
    // A Secret generated from a SOPS-encrypted dotenv file carries SOPS's metadata as keys until
    // the controller decrypts it.
    if k.contains("sops_mac") {
        k.retain(|key| !key.starts_with("sops_"));
    }
    if node.str_at(&["type"]) == Some("kubernetes.io/service-account-token") {
        k.extend(["token", "ca.crt", "namespace"].map(String::from));
    }
    k
}

/// The keys cert-manager writes into a Certificate's Secret.
fn certificate_keys(node: &Node) -> BTreeSet<String> {
    let mut k: BTreeSet<String> = ["tls.crt", "tls.key", "ca.crt"].map(String::from).into();
    for f in node
        .get_path(&["spec", "additionalOutputFormats"])
        .and_then(|f| f.as_seq())
        .into_iter()
        .flatten()
    {
        match f.str_at(&["type"]) {
            Some("CombinedPEM") => k.insert("tls-combined.pem".into()),
            Some("DER") => k.insert("key.der".into()),
            _ => false,
        };
    }
    for (store, ext) in [("jks", "jks"), ("pkcs12", "p12")] {
        let created = node
            .get_path(&["spec", "keystores", store, "create"])
            .and_then(crate::yaml::Node::as_bool)
            .unwrap_or(false);
        if created {
            k.insert(format!("keystore.{ext}"));
            k.insert(format!("truststore.{ext}"));
        }
    }
    k
}

/// What an ExternalSecret spec makes the controller write (see `ApplyTemplate` in
/// external-secrets: template data over `templateFrom` over the fetched data, which is kept
/// only without a template or under `mergePolicy: Merge`).
fn external_secret<'a>(r: &'a Resource, spec: &Node, default: &str) -> Option<Provision<'a>> {
    let policy = spec
        .str_at(&["target", "creationPolicy"])
        .unwrap_or("Owner");
    if policy == "None" {
        return None;
    }
    let name = spec.str_at(&["target", "name"]).unwrap_or(default);
    let template = spec.get_path(&["target", "template"]);
    let template_data = template.and_then(|t| t.get("data"));
    let template_from = template
        .and_then(|t| t.get("templateFrom"))
        .and_then(|t| t.as_seq())
        .filter(|t| !t.is_empty());
    let templated = template_data
        .is_some_and(|d| d.as_map().is_some_and(|m| !m.entries.is_empty()))
        || template_from.is_some();
    let merge = template.and_then(|t| t.str_at(&["mergePolicy"])) == Some("Merge");
    let mut keys = BTreeSet::new();
    let mut unknown_at: Option<(&Node, String)> = None;
    if templated {
        keys.extend(keys_of(template_data));
        for t in template_from.into_iter().flatten() {
            if !matches!(t.str_at(&["target"]), None | Some("Data")) {
                continue;
            }
            if let Some(l) = t.get("literal") {
                unknown_at
                    .get_or_insert((l, "renders its keys from a templateFrom literal".into()));
            }
            for source in ["configMap", "secret"] {
                for item in t
                    .get_path(&[source, "items"])
                    .and_then(|i| i.as_seq())
                    .into_iter()
                    .flatten()
                {
                    if item.str_at(&["templateAs"]) == Some("KeysAndValues") {
                        let why =
                            "renders its keys from a templateFrom item (templateAs: KeysAndValues)";
                        unknown_at.get_or_insert((item, why.into()));
                    } else if let Some(k) = item.str_at(&["key"]) {
                        keys.insert(k.to_string());
                    }
                }
            }
        }
    }
    if !templated || merge {
        keys.extend(
            spec.get("data")
                .and_then(|d| d.as_seq())
                .into_iter()
                .flatten()
                .filter_map(|i| i.str_at(&["secretKey"]).map(str::to_string)),
        );
        if let Some(from) = spec
            .get("dataFrom")
            .filter(|d| d.as_seq().is_none_or(|s| !s.is_empty()))
        {
            unknown_at.get_or_insert((
                from,
                "takes its keys from dataFrom, known only when it runs".into(),
            ));
        }
    }
    Some(Provision {
        name: name.to_string(),
        keys: match unknown_at {
            Some((at, why)) => unknown(r, at, why),
            None => Keys::Known(keys),
        },
        by: r,
        merges: matches!(policy, "Merge" | "CreateOrMerge"),
    })
}

/// A workload with a container (or init container) whose command or arguments hold one that
/// `is` picks.
fn runs(r: &Resource, is: impl Fn(&str) -> bool) -> bool {
    pods::containers(r).iter().any(|c| {
        ["command", "args"].iter().any(|f| {
            c.node
                .get(f)
                .and_then(|l| l.as_seq())
                .into_iter()
                .flatten()
                .any(|a| a.as_str().is_some_and(&is))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use crate::source::{DiskFs, Sources};
    use std::sync::Arc;

    /// What one Secret name gets: its keys (`None`: any), the provider, why the keys are unknown.
    type Seen = (Option<Vec<String>>, String, Option<String>);

    /// Renders `manifests` (one YAML stream) as a kustomization of a temporary repository.
    fn provided_by(manifests: &str) -> BTreeMap<String, Seen> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("all.yaml"), manifests).unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources:\n- all.yaml\n",
        )
        .unwrap();
        let fs = Arc::new(DiskFs::new(dir.path()).unwrap());
        let renderer = Renderer::new(fs, Sources::default());
        let build = renderer.build("").expect("renders");
        provided(&build)
            .into_iter()
            .map(|(name, p)| {
                (
                    name,
                    (
                        p.keys.map(|k| k.into_iter().collect()),
                        format!("{}/{}", p.by.kind(), p.by.orig_id().name),
                        p.unknown.map(|u| u.why),
                    ),
                )
            })
            .collect()
    }

    fn keys(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(std::string::ToString::to_string).collect())
    }

    #[test]
    fn certificate_provides_its_secret_with_the_tls_keys() {
        let p = provided_by(
            "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: web}\nspec:\n  secretName: web-tls\n  issuerRef: {name: ca}\n  additionalOutputFormats: [{type: CombinedPEM}]\n  keystores: {pkcs12: {create: true}}\n",
        );
        assert_eq!(
            p["web-tls"].0,
            keys(&[
                "ca.crt",
                "keystore.p12",
                "tls-combined.pem",
                "tls.crt",
                "tls.key",
                "truststore.p12"
            ])
        );
        assert_eq!(p["web-tls"].1, "Certificate/web");
        // Another group's Certificate is not cert-manager's.
        let p = provided_by(
            "apiVersion: example.com/v1\nkind: Certificate\nmetadata: {name: web}\nspec: {secretName: web-tls}\n",
        );
        assert!(p.is_empty());
    }

    #[test]
    fn external_secret_keys_follow_the_controllers_template_rules() {
        let es = |spec: &str| {
            provided_by(&format!(
                "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: db}}\nspec:\n{spec}"
            ))
        };
        let data = "  data: [{secretKey: password, remoteRef: {key: db}}]\n";
        // Fetched keys, under the target name.
        let p = es(&format!("  target: {{name: db-creds}}\n{data}"));
        assert_eq!(p["db-creds"].0, keys(&["password"]));
        // dataFrom: any key, and why.
        let p = es("  dataFrom: [{extract: {key: db}}]\n");
        assert_eq!(p["db"].0, None);
        assert!(p["db"].2.as_ref().unwrap().contains("dataFrom"), "{p:?}");
        // A template with data replaces the fetched keys...
        let t = "  target:\n    template:\n      data: {url: 'postgres://{{ .password }}@db'}\n";
        assert_eq!(es(&format!("{t}{data}"))["db"].0, keys(&["url"]));
        // ...unless it merges them in; templateFrom items add their keys.
        let t = "  target:\n    template:\n      mergePolicy: Merge\n      data: {url: x}\n      templateFrom: [{configMap: {name: tpl, items: [{key: config.yaml}]}}]\n";
        assert_eq!(
            es(&format!("{t}{data}"))["db"].0,
            keys(&["config.yaml", "password", "url"])
        );
        // A template without data or templateFrom keeps the fetched keys.
        let t = "  target:\n    template: {type: kubernetes.io/basic-auth}\n";
        assert_eq!(es(&format!("{t}{data}"))["db"].0, keys(&["password"]));
        // KeysAndValues templates render their own keys.
        let t = "  target:\n    template:\n      templateFrom: [{secret: {name: tpl, items: [{key: all, templateAs: KeysAndValues}]}}]\n";
        assert_eq!(es(&format!("{t}{data}"))["db"].0, None);
        // creationPolicy None creates nothing; Merge alone fills a Secret whose keys are unknown.
        assert!(es(&format!("  target: {{creationPolicy: None}}\n{data}")).is_empty());
        let p = es(&format!("  target: {{creationPolicy: Merge}}\n{data}"));
        assert_eq!(p["db"].0, None);
        assert!(p["db"].2.as_ref().unwrap().contains("merges into"), "{p:?}");
    }

    #[test]
    fn merge_into_a_rendered_secret_adds_its_keys() {
        let p = provided_by(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {user: app}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: db-pass}\nspec:\n  target: {name: db, creationPolicy: Merge}\n  data: [{secretKey: password, remoteRef: {key: db}}]\n",
        );
        assert_eq!(p["db"].0, keys(&["password", "user"]));
        assert_eq!(p["db"].1, "Secret/db");
    }

    #[test]
    fn cluster_external_secret_provides_its_external_secrets_target() {
        let p = provided_by(
            "apiVersion: external-secrets.io/v1\nkind: ClusterExternalSecret\nmetadata: {name: shared}\nspec:\n  externalSecretName: registry\n  externalSecretSpec:\n    data: [{secretKey: .dockerconfigjson, remoteRef: {key: r}}]\n",
        );
        assert_eq!(p["registry"].0, keys(&[".dockerconfigjson"]));
    }

    #[test]
    fn sops_secrets_count_their_visible_keys() {
        let p = provided_by(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: api}\ndata:\n  token: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:m]\n  version: 3.9.0\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: env}\ndata: {API_KEY: eA==, sops_mac: eA==, sops_version: eA==, sops_age__list_0__map_recipient: eA==}\n",
        );
        assert_eq!(p["api"].0, keys(&["token"]));
        assert_eq!(p["env"].0, keys(&["API_KEY"]));
    }

    #[test]
    fn vault_and_crossplane_secrets_have_unknown_keys() {
        let p = provided_by(
            "apiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultStaticSecret\nmetadata: {name: app}\nspec:\n  destination: {name: app-secret, create: true}\n---\napiVersion: secrets.hashicorp.com/v1beta1\nkind: VaultDynamicSecret\nmetadata: {name: dbcreds}\nspec:\n  destination: {name: db-creds, create: true}\n---\napiVersion: database.example.org/v1alpha1\nkind: PostgreSQLInstance\nmetadata: {name: pg}\nspec:\n  writeConnectionSecretToRef: {name: pg-conn}\n",
        );
        for name in ["app-secret", "db-creds", "pg-conn"] {
            assert_eq!(p[name].0, None, "{name}");
            assert!(p[name].2.is_some(), "{name}");
        }
        assert!(p["app-secret"].2.as_ref().unwrap().contains("Vault"));
    }

    #[test]
    fn service_account_tokens_and_argocd_redis_are_filled_by_controllers() {
        let p = provided_by(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: ci-token, annotations: {kubernetes.io/service-account.name: ci}}\ntype: kubernetes.io/service-account-token\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-redis}\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: secret-init\n        image: quay.io/argoproj/argocd:v3.5.1\n        command: [argocd, admin, redis-initial-password]\n      containers:\n      - name: redis\n        image: redis\n",
        );
        assert_eq!(p["ci-token"].0, keys(&["ca.crt", "namespace", "token"]));
        assert_eq!(p["argocd-redis"].0, keys(&["auth"]));
        assert_eq!(p["argocd-redis"].1, "Deployment/argocd-redis");
    }

    #[test]
    fn secrets_flux_bootstrap_and_argocd_server_create() {
        let p = provided_by(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: flux-system}\nspec: {url: 'ssh://git@github.com/example/fleet', secretRef: {name: flux-system}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-server}\nspec:\n  template:\n    spec:\n      containers:\n      - name: argocd-server\n        image: quay.io/argoproj/argocd:v3.5.1\n        args: [/usr/local/bin/argocd-server]\n",
        );
        assert_eq!(p["flux-system"].0, None);
        assert!(
            p["flux-system"]
                .2
                .as_ref()
                .unwrap()
                .contains("flux bootstrap")
        );
        assert_eq!(p["argocd-initial-admin-secret"].0, keys(&["password"]));
        assert_eq!(
            p["argocd-initial-admin-secret"].1,
            "Deployment/argocd-server"
        );
    }

    #[test]
    fn secrets_that_controllers_only_read_provide_nothing() {
        let p = provided_by(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: repo}\nspec: {url: 'https://example.com/r', secretRef: {name: git-auth}}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec:\n  path: ./apps\n  sourceRef: {kind: GitRepository, name: repo}\n  decryption: {provider: sops, secretRef: {name: sops-age}}\n",
        );
        assert!(p.is_empty(), "{:?}", p.keys().collect::<Vec<_>>());
    }
}
