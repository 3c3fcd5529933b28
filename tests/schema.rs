//! `schema-violation` as a new user meets it: rendered objects validated offline against the
//! bundled Kubernetes schemas and the repository's own CRDs, each problem at its source line.

mod common;
use common::write;

use std::path::Path;
use std::process::Command;

fn crd() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/gitops-config/apps/external-secrets/base/externalsecret-crd.yaml"),
    )
    .unwrap()
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

const CLEAN: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 8080
          name: http
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: "1", memory: 128Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port: {number: 80}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 80}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cleanup
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: cleanup
            image: busybox@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
            resources:
              limits: {cpu: 100m, memory: 32Mi}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: web
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web}
subjects:
- kind: ServiceAccount
  name: web
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: web
spec:
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: web}
  data:
  - secretKey: token
    remoteRef: {key: web/token}
"#;

fn repo(resources: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "apps/web/base/kustomization.yaml",
        "resources:\n- all.yaml\n",
    );
    write(t.path(), "apps/web/base/all.yaml", resources);
    write(
        t.path(),
        "apps/web/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    write(
        t.path(),
        "apps/crds/base/kustomization.yaml",
        "resources:\n- crd.yaml\n",
    );
    write(t.path(), "apps/crds/base/crd.yaml", &crd());
    write(
        t.path(),
        "apps/crds/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    t
}

#[test]
fn a_clean_set_of_common_kinds_validates() {
    let t = repo(CLEAN);
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
}

#[test]
fn violations_point_at_their_lines() {
    let bad = CLEAN
        .replace("  replicas: 2\n", "  replicas: \"three\"\n")
        .replace(
            "        imagePullPolicy: IfNotPresent\n",
            "        imagePullPolicyy: IfNotPresent\n",
        )
        .replace("  - port: 80\n", "  - port: \"http\"\n")
        .replace(
            "  target: {name: web}\n",
            "  target: {name: web, owner: me}\n",
        );
    let t = repo(&bad);
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    let got: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-violation")
        .map(|f| {
            (
                f["field"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |field: &str, line: u64, text: &str| {
        assert!(
            got.iter()
                .any(|(f, l, m)| f == field && *l == line && m.contains(text)),
            "no {field} at line {line} containing {text:?} in {got:#?}"
        );
    };
    has("spec.replicas", 6, "expected integer");
    has(
        "spec.template.spec.containers[0].imagePullPolicyy",
        17,
        "did you mean \"imagePullPolicy\"",
    );
    has("spec.ports[0].port", 32, "expected integer");
    has("spec.target.owner", 120, "unknown field \"owner\"");
    assert!(got.iter().all(|(_, _, m)| !m.is_empty()));
    for f in report["findings"].as_array().unwrap() {
        if f["rule"] == "schema-violation" {
            assert_eq!(f["location"]["file"], "apps/web/base/all.yaml");
        }
    }
}

#[test]
fn unknown_kinds_are_reported_as_missing_schemas_and_strict_can_be_relaxed() {
    let t = repo(&format!(
        "{CLEAN}---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    ));
    std::fs::remove_dir_all(t.path().join("apps/crds")).unwrap();
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "warnings only: {report}");
    let missing: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-missing")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        missing.iter().any(|m| m.contains("example.com/v1 Widget")),
        "{missing:?}"
    );
    // Without the repository's CRD, ExternalSecret has the bundled external-secrets schema.
    assert!(
        !missing.iter().any(|m| m.contains("ExternalSecret")),
        "{missing:?}"
    );

    let bad = CLEAN.replace(
        "        imagePullPolicy: IfNotPresent\n",
        "        imagePullPolicyy: IfNotPresent\n",
    );
    let t = repo(&bad);
    assert_eq!(check(t.path()).0, 1);
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  schema-violation:\n    options:\n      strict: false\n",
    );
    assert_eq!(check(t.path()).0, 0);
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  schema-violation:\n    options:\n      kubernetes-version: \"1.12\"\n",
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 2, "{report}");
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not bundled")
    );
}

/// kustomize fails the build of a resource that gives a key twice, and so does the check (exit
/// 2), at the second key with the first as related.
#[test]
fn duplicate_keys_in_a_resource_fail_its_build_with_both_lines() {
    let dup = CLEAN.replace("  replicas: 2\n", "  replicas: 2\n  replicas: 3\n");
    let t = repo(&dup);
    let (code, report) = check(t.path());
    assert_eq!(code, 2, "{report}");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("mapping key 'replicas' given twice")
        })
        .cloned()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(f["location"]["line"], 7);
    assert_eq!(f["related"][0]["location"]["line"], 6);
}

#[test]
fn schema_dirs_supply_schemas_for_other_kinds() {
    let t = repo(&format!(
        "{CLEAN}---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n"
    ));
    // The ExternalSecret CRD comes from a plain directory, not from a rendered kustomization.
    std::fs::remove_dir_all(t.path().join("apps/crds")).unwrap();
    write(t.path(), "schemas/crds/externalsecret.yaml", &crd());
    write(
        t.path(),
        "schemas/json/widget-example-v1.json",
        r#"{"type":"object","properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},"spec":{"type":"object","properties":{"size":{"type":"integer"}},"additionalProperties":false}}}"#,
    );
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  schema-violation:\n    options:\n      schema-dirs: [schemas/crds, schemas/json]\n",
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["rule"] != "schema-missing"),
        "{report}"
    );
    assert!(
        findings.iter().any(|f| f["rule"] == "schema-violation"
            && f["field"] == "spec.size"
            && f["location"]["line"] == 130),
        "{report}"
    );
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  schema-violation:\n    options:\n      schema-dirs: [nope]\n",
    );
    assert_eq!(check(t.path()).0, 2);
}

/// The library API directly: a file on disk parsed with provenance, validated with `SchemaSet`.
fn parsed(
    dir: &Path,
    name: &str,
    text: &str,
) -> (kustodian::source::Sources, Vec<kustodian::yaml::Node>) {
    write(dir, name, text);
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let sources = kustodian::source::Sources::default();
    let id = sources.add(name, text.as_str().into());
    let docs = kustodian::yaml::parse_documents(&text, id).unwrap();
    (sources, docs)
}

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSecond: 30
      containers:
      - name: web
        image: nginx:1.27
        imagePulPolicy: Always
        portz: []
        ports:
        - containerPort: 80
      - image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports:
  - port: 80
    targetPort: true
"#;

#[test]
fn library_api_reports_pointers_lines_hints_and_missing_fields() {
    let t = tempfile::tempdir().unwrap();
    let (sources, docs) = parsed(t.path(), "deploy.yaml", DEPLOY);
    let set = kustodian::schema::SchemaSet::new(None, true, &[]).unwrap();
    let kustodian::schema::Outcome::Invalid(vs) = set.validate(&docs[0]) else {
        panic!("expected violations");
    };
    let got: Vec<(String, u32, String)> = vs
        .iter()
        .map(|v| {
            let p = sources.position(v.loc).expect("violation has a location");
            assert_eq!(p.file, "deploy.yaml");
            (v.pointer.clone(), p.line, v.message.clone())
        })
        .collect();
    let has = |pointer: &str, line: u32, text: &str| {
        assert!(
            got.iter()
                .any(|(p, l, m)| p == pointer && *l == line && m.contains(text)),
            "no {pointer} at line {line} containing {text:?} in {got:#?}"
        );
    };
    // Hints come from the schema's own fields at that level, not from a fixed word list.
    has(
        "/spec/template/spec/terminationGracePeriodSecond",
        12,
        "did you mean \"terminationGracePeriodSeconds\"",
    );
    // Two unknown keys in one object: one violation each, each at its own key.
    has(
        "/spec/template/spec/containers/0/imagePulPolicy",
        16,
        "did you mean \"imagePullPolicy\"",
    );
    has(
        "/spec/template/spec/containers/0/portz",
        17,
        "did you mean \"ports\"",
    );
    // A missing required field points at the object lacking it (the list item on line 18).
    has(
        "/spec/template/spec/containers/1",
        20,
        "missing required field \"name\"",
    );
    assert_eq!(vs.len(), 4, "{got:#?}");
    // An int-or-string field given a boolean: the alternatives named in plain words.
    let kustodian::schema::Outcome::Invalid(vs) = set.validate(&docs[1]) else {
        panic!("expected a violation in the Service");
    };
    assert_eq!(vs.len(), 1, "{vs:?}");
    assert_eq!(vs[0].pointer, "/spec/ports/0/targetPort");
    assert_eq!(
        vs[0].message,
        "spec.ports[0].targetPort: expected string or integer, got boolean true"
    );
    assert_eq!(sources.position(vs[0].loc).unwrap().line, 28);
}

/// Run with `cargo test --release --test schema -- --ignored --nocapture`: 10,000 rendered
/// resources of eight kinds (built-in and CRD) validated on all cores, target under a second.
#[test]
#[ignore]
fn ten_thousand_resources_validate_quickly() {
    use rayon::prelude::*;
    let t = tempfile::tempdir().unwrap();
    let (_, crds) = parsed(t.path(), "crd.yaml", &crd());
    let (_, docs) = parsed(t.path(), "all.yaml", CLEAN);
    let crd_refs: Vec<&kustodian::yaml::Node> = crds.iter().collect();
    let many: Vec<&kustodian::yaml::Node> = docs.iter().cycle().take(10_000).collect();
    let start = std::time::Instant::now();
    let set = kustodian::schema::SchemaSet::new(None, true, &crd_refs).unwrap();
    let invalid = many
        .par_iter()
        .filter(|d| !matches!(set.validate(d), kustodian::schema::Outcome::Valid))
        .count();
    let took = start.elapsed();
    eprintln!(
        "validated {} resources ({} kinds) in {:.3}s",
        many.len(),
        docs.len(),
        took.as_secs_f64()
    );
    assert_eq!(invalid, 0);
    if !cfg!(debug_assertions) {
        assert!(took.as_secs_f64() < 1.0, "took {took:?}");
    }
}

#[test]
fn options_skip_reject_relax_and_read_schema_dirs_from_disk() {
    use kustodian::schema::{Outcome, SchemaOptions, SchemaSet};
    let t = tempfile::tempdir().unwrap();
    let (_, docs) = parsed(t.path(), "deploy.yaml", DEPLOY);
    let (_, widget) = parsed(
        t.path(),
        "widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n",
    );
    // A kubeconform-style schema directory outside any repository.
    write(
        t.path(),
        "schemas/widget-example-v1.json",
        r#"{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}"#,
    );
    let strict = SchemaSet::with_options(&SchemaOptions::default(), &[]).unwrap();
    assert!(matches!(
        strict.validate(&widget[0]),
        Outcome::MissingSchema
    ));
    let opts = SchemaOptions {
        skip_kinds: vec!["apps/v1/Deployment".into()],
        reject_kinds: vec!["Secret".into()],
        schema_dirs: vec![t.path().join("schemas")],
        ..SchemaOptions::default()
    };
    let set = SchemaSet::with_options(&opts, &[]).unwrap();
    assert!(matches!(set.validate(&docs[0]), Outcome::Skipped));
    let secret = kustodian::yaml::parse_documents(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
        kustodian::source::FileId::NONE,
    )
    .unwrap();
    assert!(matches!(set.validate(&secret[0]), Outcome::Rejected));
    let Outcome::Invalid(vs) = set.validate(&widget[0]) else {
        panic!("the schema from schema_dirs applies");
    };
    assert_eq!(vs[0].pointer, "/spec/size");
    // Non-strict: unknown fields pass, wrong types still fail (one missing "name" remains).
    let relaxed = SchemaSet::with_options(
        &SchemaOptions {
            strict: false,
            ..SchemaOptions::default()
        },
        &[],
    )
    .unwrap();
    let Outcome::Invalid(vs) = relaxed.validate(&docs[0]) else {
        panic!("the container without a name is still invalid");
    };
    assert_eq!(vs.len(), 1, "{vs:?}");
    assert!(vs[0].message.contains("missing required field \"name\""));
    let bad = SchemaOptions {
        kubernetes_version: Some("1.2".into()),
        ..SchemaOptions::default()
    };
    assert!(matches!(
        SchemaSet::with_options(&bad, &[]),
        Err(kustodian::schema::SchemaError::UnknownVersion { .. })
    ));
}

/// Fields literally named `description` survive the bundling (which drops documentation texts):
/// PriorityClass has one, and every real CRD documents its schema with them.
#[test]
fn fields_named_description_are_known() {
    use kustodian::schema::{Outcome, SchemaSet};
    let t = tempfile::tempdir().unwrap();
    let (_, docs) = parsed(
        t.path(),
        "pc.yaml",
        r#"apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
description: for the payment path
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A widget.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size: {type: integer, description: How big.}
"#,
    );
    let set = SchemaSet::new(None, true, &[]).unwrap();
    for d in &docs {
        let out = set.validate(d);
        assert!(matches!(out, Outcome::Valid), "{out:?}");
    }
}

#[test]
fn fields_named_description_are_still_known() {
    // PriorityClass has a `description` field; stripping schema annotations must not drop it.
    let pc = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 1000\ndescription: for the important things\n";
    let t = repo(&format!("{CLEAN}---\n{pc}"));
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
}

#[test]
fn data_keys_the_api_server_refuses_are_reported_at_the_line_that_wrote_them() {
    let t = repo(CLEAN);
    // kustomize renders a dotenv file's `export NAME=value` as the key `export NAME`.
    write(
        t.path(),
        "apps/web/base/kustomization.yaml",
        "resources:\n- all.yaml\nconfigMapGenerator:\n- name: settings\n  envs: [app.env]\n  literals: [ok.key=1]\nsecretGenerator:\n- name: creds\n  literals: [\"pass word=x\"]\n",
    );
    write(
        t.path(),
        "apps/web/base/app.env",
        "LOG_LEVEL=info\nexport FEATURE_X=on\n",
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    let got: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-violation")
        .map(|f| {
            (
                f["field"].as_str().unwrap_or("").to_string(),
                f["location"]["file"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "data.export FEATURE_X".to_string(),
                "apps/web/base/app.env".to_string(),
                2
            ),
            (
                "data.pass word".to_string(),
                "apps/web/base/kustomization.yaml".to_string(),
                9
            ),
        ],
        "{report}"
    );
}

/// A Widget CRD written the way vendored CRDs are: in a directory no kustomization renders.
const WIDGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
"#;

#[test]
fn crd_files_anywhere_in_the_repository_describe_their_kinds() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "apps/web/base/kustomization.yaml",
        "resources:\n- widget.yaml\n",
    );
    write(
        t.path(),
        "apps/web/base/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n",
    );
    write(
        t.path(),
        "apps/web/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    // Without the CRD: no schema.
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "schema-missing"),
        "{report}"
    );
    // The CRD in a directory outside any app (quoted kind and all): the kind validates.
    write(
        t.path(),
        "platform/crds/widget.yaml",
        &WIDGET_CRD.replace(
            "kind: CustomResourceDefinition",
            "kind: \"CustomResourceDefinition\"",
        ),
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    // ...and rejects what its schema does not allow, at the line.
    write(
        t.path(),
        "apps/web/base/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n  colour: red\n",
    );
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    let violations: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "schema-violation")
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        violations,
        [("spec.size".to_string(), 6), ("spec.colour".to_string(), 7)],
        "{report}"
    );
}

#[test]
fn sops_metadata_is_not_a_violation_but_other_unknown_fields_are() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  token: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\nsops:\n  lastmodified: \"2026-01-05T10:00:00Z\"\n  mac: ENC[AES256_GCM,data:m,iv:x,tag:y,type:str]\n  version: 3.9.4\n";
    let t = repo(&format!("{CLEAN}---\n{secret}"));
    let (code, report) = check(t.path());
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    // A `sops` field that is not SOPS's metadata, or another unknown field beside it, still is.
    let t = repo(&format!(
        "{CLEAN}---\n{}",
        secret.replace("  version: 3.9.4\n", "")
    ));
    assert_eq!(check(t.path()).0, 1);
    let t = repo(&format!("{CLEAN}---\n{secret}tokn: x\n"));
    let (code, report) = check(t.path());
    assert_eq!(code, 1, "{report}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "schema-violation"
                && f["message"].as_str().unwrap().contains("\"tokn\"")),
        "{report}"
    );
}
