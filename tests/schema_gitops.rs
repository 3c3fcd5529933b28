//! The bundled schemas of the GitOps ecosystem's kinds (Argo CD, Flux, Kargo, cert-manager,
//! external-secrets, sealed-secrets): every bundled kind validates a correct object and rejects
//! an unknown field; a check uses them without any CRD in the repository, and a CRD of the
//! repository, wherever it is, takes precedence; `kustodian schemas list` shows them.

mod common;
use common::write;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kustodian::schema::{Outcome, SchemaSet, gitops};

/// A correct object of each bundled kind (the same body serves each of its API versions).
fn samples() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        (
            "Application",
            "metadata: {name: web}\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/example/config\n    path: apps/web/overlays/production\n    targetRevision: main\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n  syncPolicy:\n    automated: {prune: true, selfHeal: true}\n",
        ),
        (
            "ApplicationSet",
            "metadata: {name: web}\nspec:\n  generators:\n  - git:\n      repoURL: https://github.com/example/config\n      revision: main\n      directories:\n      - path: apps/*/overlays/*\n  template:\n    metadata:\n      name: '{{path.basename}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/example/config\n        path: '{{path}}'\n        targetRevision: main\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{{path.basename}}'\n",
        ),
        (
            "AppProject",
            "metadata: {name: team}\nspec:\n  sourceRepos: ['*']\n  destinations:\n  - server: https://kubernetes.default.svc\n    namespace: team-*\n",
        ),
        (
            "GitRepository",
            "metadata: {name: config}\nspec:\n  interval: 1m\n  url: https://github.com/example/config\n  ref: {branch: main}\n",
        ),
        (
            "OCIRepository",
            "metadata: {name: podinfo}\nspec:\n  interval: 10m\n  url: oci://ghcr.io/stefanprodan/manifests/podinfo\n  ref: {tag: latest}\n",
        ),
        (
            "HelmRepository",
            "metadata: {name: podinfo}\nspec:\n  interval: 1h\n  url: https://stefanprodan.github.io/podinfo\n",
        ),
        (
            "HelmChart",
            "metadata: {name: podinfo}\nspec:\n  interval: 1h\n  chart: podinfo\n  version: '6.x'\n  sourceRef: {kind: HelmRepository, name: podinfo}\n",
        ),
        (
            "Bucket",
            "metadata: {name: config}\nspec:\n  interval: 5m\n  provider: generic\n  bucketName: config\n  endpoint: minio.example.com\n",
        ),
        (
            "ExternalArtifact",
            "metadata: {name: bundle}\nspec:\n  sourceRef: {apiVersion: source.extensions.fluxcd.io/v1beta1, kind: ArtifactGenerator, name: bundle}\n",
        ),
        (
            "Kustomization",
            "metadata: {name: apps}\nspec:\n  interval: 10m\n  path: ./apps/production\n  prune: true\n  sourceRef: {kind: GitRepository, name: config}\n  postBuild:\n    substitute: {cluster: production}\n",
        ),
        (
            "HelmRelease",
            "metadata: {name: podinfo}\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: '6.x'\n      sourceRef: {kind: HelmRepository, name: podinfo}\n  values:\n    replicaCount: 2\n",
        ),
        (
            "ImageRepository",
            "metadata: {name: podinfo}\nspec:\n  image: ghcr.io/stefanprodan/podinfo\n  interval: 5m\n",
        ),
        (
            "ImagePolicy",
            "metadata: {name: podinfo}\nspec:\n  imageRepositoryRef: {name: podinfo}\n  policy:\n    semver: {range: '>=6.0.0'}\n",
        ),
        (
            "ImageUpdateAutomation",
            "metadata: {name: config}\nspec:\n  interval: 30m\n  sourceRef: {kind: GitRepository, name: config}\n  git:\n    checkout:\n      ref: {branch: main}\n    commit:\n      author: {name: fluxcdbot, email: fluxcdbot@users.noreply.github.com}\n    push: {branch: main}\n  update:\n    path: ./clusters/production\n    strategy: Setters\n",
        ),
        (
            "Alert",
            "metadata: {name: slack}\nspec:\n  providerRef: {name: slack}\n  eventSeverity: error\n  eventSources:\n  - kind: Kustomization\n    name: '*'\n",
        ),
        (
            "Provider",
            "metadata: {name: slack}\nspec:\n  type: slack\n  channel: alerts\n  secretRef: {name: slack-url}\n",
        ),
        (
            "Receiver",
            "metadata: {name: github}\nspec:\n  type: github\n  events: [push]\n  secretRef: {name: webhook-token}\n  resources:\n  - kind: GitRepository\n    name: config\n",
        ),
        (
            "ArtifactGenerator",
            "metadata: {name: bundle}\nspec:\n  sources:\n  - alias: config\n    kind: GitRepository\n    name: config\n  artifacts:\n  - name: apps\n    copy:\n    - from: '@config/apps/**'\n      to: '@artifact/'\n",
        ),
        // Kargo 1.x projects hold no spec (promotion policies moved to ProjectConfig).
        ("Project", "metadata: {name: shop}\n"),
        (
            "ProjectConfig",
            "metadata: {name: shop}\nspec:\n  promotionPolicies:\n  - stage: staging\n    autoPromotionEnabled: true\n",
        ),
        (
            "Stage",
            "metadata: {name: production}\nspec:\n  requestedFreight:\n  - origin: {kind: Warehouse, name: shop}\n    sources:\n      stages: [staging]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: git-clone\n        config:\n          repoURL: https://github.com/example/config\n",
        ),
        (
            "Warehouse",
            "metadata: {name: shop}\nspec:\n  interval: 5m0s\n  subscriptions:\n  - image:\n      repoURL: ghcr.io/example/shop\n      constraint: ^1.0.0\n",
        ),
        (
            "PromotionTask",
            "metadata: {name: update}\nspec:\n  steps:\n  - uses: git-clone\n    config:\n      repoURL: https://github.com/example/config\n",
        ),
        (
            "ClusterPromotionTask",
            "metadata: {name: update}\nspec:\n  steps:\n  - uses: git-clone\n    config:\n      repoURL: https://github.com/example/config\n",
        ),
        ("ClusterConfig", "metadata: {name: cluster}\nspec: {}\n"),
        (
            "Certificate",
            "metadata: {name: web}\nspec:\n  secretName: web-tls\n  dnsNames: [web.example.com]\n  issuerRef: {name: letsencrypt, kind: ClusterIssuer}\n",
        ),
        (
            "CertificateRequest",
            "metadata: {name: web}\nspec:\n  request: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K\n  issuerRef: {name: ca, kind: Issuer}\n",
        ),
        (
            "Issuer",
            "metadata: {name: ca}\nspec:\n  ca: {secretName: ca-key-pair}\n",
        ),
        (
            "ClusterIssuer",
            "metadata: {name: letsencrypt}\nspec:\n  acme:\n    server: https://acme-v02.api.letsencrypt.org/directory\n    email: ops@example.com\n    privateKeySecretRef: {name: letsencrypt-account}\n    solvers:\n    - http01:\n        ingress: {ingressClassName: nginx}\n",
        ),
        (
            "ExternalSecret",
            "metadata: {name: db}\nspec:\n  refreshInterval: 1h\n  secretStoreRef: {kind: ClusterSecretStore, name: vault}\n  target: {name: db}\n  data:\n  - secretKey: password\n    remoteRef: {key: db, property: password}\n",
        ),
        (
            "SecretStore",
            "metadata: {name: vault}\nspec:\n  provider:\n    vault:\n      server: https://vault.example.com\n      path: secret\n      version: v2\n      auth:\n        kubernetes:\n          mountPath: kubernetes\n          role: shop\n",
        ),
        (
            "ClusterSecretStore",
            "metadata: {name: vault}\nspec:\n  provider:\n    vault:\n      server: https://vault.example.com\n      path: secret\n      version: v2\n      auth:\n        kubernetes:\n          mountPath: kubernetes\n          role: shop\n",
        ),
        (
            "ClusterExternalSecret",
            "metadata: {name: registry}\nspec:\n  namespaceSelectors:\n  - matchLabels: {team: shop}\n  externalSecretSpec:\n    secretStoreRef: {kind: ClusterSecretStore, name: vault}\n    data:\n    - secretKey: .dockerconfigjson\n      remoteRef: {key: registry}\n",
        ),
        (
            "PushSecret",
            "metadata: {name: token}\nspec:\n  secretStoreRefs:\n  - name: vault\n    kind: ClusterSecretStore\n  selector:\n    secret: {name: token}\n  data:\n  - match:\n      secretKey: token\n      remoteRef: {remoteKey: shop/token}\n",
        ),
        (
            "ClusterPushSecret",
            "metadata: {name: token}\nspec:\n  namespaceSelectors:\n  - matchLabels: {team: shop}\n  pushSecretSpec:\n    secretStoreRefs:\n    - name: vault\n      kind: ClusterSecretStore\n    selector:\n      secret: {name: token}\n",
        ),
        (
            "SealedSecret",
            "metadata: {name: api}\nspec:\n  encryptedData:\n    token: AgBy3i4OJSWK+PiTySYZZA==\n  template:\n    metadata: {name: api}\n    type: Opaque\n",
        ),
    ])
}

fn parse(text: &str) -> kustodian::yaml::Node {
    kustodian::yaml::parse_documents(text, kustodian::source::FileId::NONE)
        .unwrap()
        .remove(0)
}

#[test]
fn every_bundled_kind_validates_a_correct_object_and_rejects_an_unknown_field() {
    let set = SchemaSet::new(None, true, &[]).unwrap();
    let samples = samples();
    assert!(gitops::all().len() >= 50, "{}", gitops::all().len());
    for b in gitops::all() {
        let body = samples
            .get(b.kind)
            .unwrap_or_else(|| panic!("no sample for {} {}", b.api_version(), b.kind));
        let doc = format!("apiVersion: {}\nkind: {}\n{body}", b.api_version(), b.kind);
        match set.validate(&parse(&doc)) {
            Outcome::Valid => {}
            other => panic!("{} {}: {other:?}\n{doc}", b.api_version(), b.kind),
        }
        // A misspelt field under spec (or beside metadata, for a kind without one) is refused,
        // by name.
        let (bad, path) = if body.contains("\nspec:") {
            (
                doc.replacen("\nspec:", "\nspec:\n  notAField: 1", 1),
                "spec.notAField",
            )
        } else {
            (format!("{doc}notAField: 1\n"), "notAField")
        };
        match set.validate(&parse(&bad)) {
            Outcome::Invalid(v) => assert!(
                v.iter()
                    .any(|v| v.path == path && v.message.contains("notAField")),
                "{} {}: {v:?}",
                b.api_version(),
                b.kind
            ),
            other => panic!("{} {}: {other:?}\n{bad}", b.api_version(), b.kind),
        }
    }
    // The kinds the bundle must hold, by project.
    for (api, kind) in [
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
        ("source.toolkit.fluxcd.io/v1", "HelmRepository"),
        ("source.toolkit.fluxcd.io/v1", "Bucket"),
        ("source.toolkit.fluxcd.io/v1", "ExternalArtifact"),
        ("source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator"),
        ("image.toolkit.fluxcd.io/v1", "ImagePolicy"),
        ("image.toolkit.fluxcd.io/v1", "ImageRepository"),
        ("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation"),
        ("kargo.akuity.io/v1alpha1", "Stage"),
        ("kargo.akuity.io/v1alpha1", "Warehouse"),
        ("kargo.akuity.io/v1alpha1", "Project"),
        ("kargo.akuity.io/v1alpha1", "PromotionTask"),
        ("cert-manager.io/v1", "Certificate"),
        ("cert-manager.io/v1", "Issuer"),
        ("cert-manager.io/v1", "ClusterIssuer"),
        ("cert-manager.io/v1", "CertificateRequest"),
        ("external-secrets.io/v1", "ExternalSecret"),
        ("external-secrets.io/v1", "SecretStore"),
        ("external-secrets.io/v1", "ClusterSecretStore"),
        ("external-secrets.io/v1", "ClusterExternalSecret"),
        ("bitnami.com/v1alpha1", "SealedSecret"),
    ] {
        assert!(
            gitops::find(api, kind).is_some(),
            "{api} {kind} not bundled"
        );
    }
}

fn check(root: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(["check", ".", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

const CERTIFICATE: &str = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n  issuerRef: {name: ca}\n  renewBeforePercentage: 30\n";

/// A Certificate CRD as a newer cert-manager release might publish it: with a field the bundled
/// release lacks (`rotationWindow`, invented here).
const NEWER_CERTIFICATE_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: certificates.cert-manager.io\nspec:\n  group: cert-manager.io\n  names: {kind: Certificate, plural: certificates}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              secretName: {type: string}\n              issuerRef: {type: object, properties: {name: {type: string}}}\n              renewBeforePercentage: {type: integer}\n              rotationWindow: {type: string}\n";

fn app(t: &Path, resources: &str) {
    write(
        t,
        "apps/web/base/kustomization.yaml",
        "resources:\n- all.yaml\n",
    );
    write(t, "apps/web/base/all.yaml", resources);
    write(
        t,
        "apps/web/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
}

fn schema_findings(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("schema-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_check_validates_gitops_kinds_without_any_crd_in_the_repository() {
    let t = tempfile::tempdir().unwrap();
    let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      sourceRef: {kind: HelmRepository, name: podinfo}\n";
    app(t.path(), &format!("{CERTIFICATE}---\n{release}"));
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(schema_findings(&report), [], "{report}");
    // A misspelt HelmRelease field, at its line.
    app(
        t.path(),
        &format!(
            "{CERTIFICATE}---\n{}",
            release.replace("  interval: 10m\n", "  interval: 10m\n  valuesFromm: []\n")
        ),
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "schema-violation")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(f["field"], "spec.valuesFromm", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("did you mean \"valuesFrom\""),
        "{f}"
    );
    assert_eq!(f["location"]["line"], 16, "{f}");
}

#[test]
fn a_crd_of_the_repository_takes_precedence_over_the_bundled_schema() {
    let newer = CERTIFICATE.replace(
        "  renewBeforePercentage: 30\n",
        "  renewBeforePercentage: 30\n  rotationWindow: 24h\n",
    );
    // The bundled (older) schema does not know the field.
    let t = tempfile::tempdir().unwrap();
    app(t.path(), &newer);
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    assert!(
        schema_findings(&report)
            .iter()
            .any(|(_, m)| m.contains("unknown field \"rotationWindow\"")),
        "{report}"
    );
    // The repository's CRD, in a file no kustomization renders, knows it.
    write(t.path(), "crds/certificates.yaml", NEWER_CERTIFICATE_CRD);
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(schema_findings(&report), [], "{report}");
    // So does one rendered by an app (here beside its Certificate, in a base the repository walk
    // does not list: only rendering finds it).
    let t = tempfile::tempdir().unwrap();
    app(t.path(), &format!("{NEWER_CERTIFICATE_CRD}---\n{newer}"));
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(schema_findings(&report), [], "{report}");
}

#[test]
fn schemas_list_shows_the_bundled_gitops_kinds_and_their_sources() {
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(["schemas", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "Argo CD: 3 kinds",
        "  argoproj.io/v1alpha1 Application (argoproj/argo-cd v3.5.1)",
        "  helm.toolkit.fluxcd.io/v2 HelmRelease (fluxcd/helm-controller v1.6.3)",
        "  kargo.akuity.io/v1alpha1 Stage (akuity/kargo v1.11.2)",
        "  cert-manager.io/v1 Certificate (cert-manager/cert-manager v1.21.1)",
        "  external-secrets.io/v1 ExternalSecret (external-secrets/external-secrets v2.9.0)",
        "  bitnami.com/v1alpha1 SealedSecret (bitnami-labs/sealed-secrets v0.36.6)",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    // Every bundled kind is listed once.
    for b in gitops::all() {
        let line = format!("  {} {} ({})", b.api_version(), b.kind, b.source);
        assert_eq!(
            text.lines().filter(|l| *l == line).count(),
            1,
            "{line}\n{text}"
        );
    }
}
