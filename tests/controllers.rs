//! Environments rendered as their GitOps controller renders them (`kustodian render --env`):
//! Flux Kustomizations and Argo CD Applications with their overrides, Flux's generated
//! kustomization and post-build substitution, Argo CD directory sources — and the failures the
//! controller would report, at the line to fix. Repositories are copied to temp dirs, so no
//! enclosing Git repository is seen.

mod common;
use common::{copy_dir, write};

use std::path::Path;
use std::process::{Command, Output};

fn kustodian(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("GITHUB_HEAD_REF")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn copy(from: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(from, t.path());
    t
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn render_env(dir: &Path, env: &str) -> Output {
    kustodian(&["render", ".", "--env", env], dir)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `fixtures/golden-envs/<suite>`: each target rendered as its controller renders it must be
/// what the reference kustomize builds from the kustomization the controller writes
/// (`edited/`, see `scripts/regen-goldens`).
#[test]
fn environments_render_as_the_kustomization_their_controller_writes() {
    let root = manifest_dir().join("fixtures/golden-envs");
    let mut failures = Vec::new();
    let mut checked = 0;
    for suite in std::fs::read_dir(&root).unwrap() {
        let suite = suite.unwrap().path();
        let repo = copy(&suite.join("repo"));
        let targets = std::fs::read_to_string(suite.join("targets")).unwrap();
        for line in targets.lines().filter(|l| !l.trim().is_empty()) {
            let target = line.split_whitespace().next().unwrap();
            let stem = target.replace('/', "__");
            let expected =
                std::fs::read_to_string(suite.join("expected").join(format!("{stem}.yaml")));
            let out = render_env(repo.path(), target);
            checked += 1;
            match expected {
                Ok(exp) if out.status.success() && stdout(&out) == exp => {}
                Ok(exp) => {
                    let got = stdout(&out);
                    failures.push(format!(
                        "{}: {target} differs (exit {:?})\n{}\nstderr: {}",
                        suite.display(),
                        out.status.code(),
                        similar::TextDiff::from_lines(exp.as_str(), got.as_str())
                            .unified_diff()
                            .header("kustomize", "kustodian"),
                        stderr(&out)
                    ));
                }
                Err(_) if out.status.code() == Some(2) => {}
                Err(_) => failures.push(format!(
                    "{}: {target}: kustomize fails, kustodian did not exit 2",
                    suite.display()
                )),
            }
        }
    }
    assert!(checked >= 5, "golden environments missing");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn flux_post_build_substitution_and_common_metadata() {
    let t = copy(&manifest_dir().join("fixtures/discovery/flux-postbuild"));
    let out = render_env(t.path(), "apps/staging");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Printed and read back as Flux does: a quoted `"${REPLICAS}"` becomes a number too; `$$`
    // escapes; a default applies; the opted-out object keeps its text; substitute overrides the
    // ConfigMap's DOMAIN; the ConfigMap of this cluster's directory is the one used;
    // commonMetadata lands on metadata only (not the pod template or selector).
    assert_eq!(
        stdout(&out),
        r#"apiVersion: v1
data:
  run.sh: |
    echo "${HOME}" $$
kind: ConfigMap
metadata:
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
    owner: platform
  labels:
    team: web
  name: scripts
  namespace: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    owner: platform
  labels:
    region: eu-west-1
    team: web
  name: web
  namespace: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - env:
        - name: WORKERS
          value: 2
        - name: PRICE
          value: ${AMOUNT}
        image: ghcr.io/acme/web:1.0.0
        name: web
        resources:
          limits:
            cpu: 100m
            memory: 64Mi
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  annotations:
    owner: platform
  labels:
    team: web
  name: web
  namespace: web
spec:
  rules:
  - host: app.staging.example.com
"#
    );
    // A substituted value is blamed on where the variable's value is written.
    let out = kustodian(&["check", ".", "--format", "json"], t.path());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = |field: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "promotion-drift" && f["field"] == field)
            .map(|f| {
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap(),
                    f["location"]["line"]
                )
            })
    };
    // (Replica counts are each environment's own business to promotion-drift; WORKERS is set
    // from the same variable.)
    assert_eq!(
        at("spec.template.spec.containers[name=web].env[name=WORKERS].value").as_deref(),
        Some("clusters/production/apps.yaml:15")
    );
    assert_eq!(
        at("metadata.labels.region").as_deref(),
        Some("clusters/production/cluster-vars.yaml:7")
    );
    // The number Flux makes of the quoted value is what the API server would refuse.
    let schema = v["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == "schema-violation" && f["message"].as_str().unwrap().contains("env[0].value")
    });
    assert!(schema, "{v}");
}

#[test]
fn an_unset_variable_fails_at_the_manifest_line_as_strict_mode_does() {
    let t = copy(&manifest_dir().join("fixtures/discovery/flux-postbuild"));
    write(
        t.path(),
        "apps/base/ingress.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: web\nspec:\n  rules:\n    - host: ${SUBDOMAIN}.${DOMAIN}\n",
    );
    let out = render_env(t.path(), "apps/staging");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("variable not set (strict mode): \"SUBDOMAIN\""),
        "{err}"
    );
    assert!(err.contains("apps/base/ingress.yaml:8"), "{err}");
    // A default makes it fine; `check` reports the failure per environment, exit 2.
    write(
        t.path(),
        "apps/base/ingress.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: web\nspec:\n  rules:\n    - host: ${SUBDOMAIN:=www}.${DOMAIN}\n",
    );
    let out = render_env(t.path(), "apps/staging");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("host: www.staging.example.com"));
}

#[test]
fn a_flux_generated_kustomization_fails_on_yaml_that_is_not_kubernetes() {
    let t = copy(&manifest_dir().join("fixtures/golden-envs/flux/repo"));
    write(
        t.path(),
        "infrastructure/staging/policies/values.yaml",
        "# helm values\nreplicaCount: 2\n",
    );
    let out = render_env(t.path(), "infra/staging");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "failed to decode Kubernetes YAML from infrastructure/staging/policies/values.yaml"
        ),
        "{err}"
    );
    assert!(err.contains("values.yaml:2"), "{err}");
    // A .sourceignore leaves it out of the source artifact, as source-controller does; with one,
    // source-controller's default ignore list (which covers .sops.yaml) no longer applies.
    write(t.path(), ".sourceignore", "values.yaml\n.sops.yaml\n");
    let out = render_env(t.path(), "infra/staging");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    write(t.path(), ".sourceignore", "values.yaml\n");
    let out = render_env(t.path(), "infra/staging");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("from infrastructure/staging/.sops.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_argo_common_label_the_kustomization_sets_fails_unless_forced() {
    let t = copy(&manifest_dir().join("fixtures/golden-envs/argocd/repo"));
    let app = std::fs::read_to_string(t.path().join("argocd/web-prd.yaml")).unwrap();
    write(
        t.path(),
        "argocd/web-prd.yaml",
        &app.replace("      forceCommonLabels: true\n", ""),
    );
    let out = render_env(t.path(), "web/prd");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("label app already in kustomization file"),
        "{err}"
    );
    // At the Application's line, with the kustomization's own entry alongside.
    assert!(err.contains("argocd/web-prd.yaml:27"), "{err}");
    assert!(err.contains("deploy/web/prd/kustomization.yaml:5"), "{err}");
}

/// One renderer builds an environment with its overrides and the same directories plainly, in
/// either order: neither sees the other's result.
#[test]
fn a_build_with_overrides_is_not_shared_with_plain_builds() {
    use kustodian::render::Renderer;
    use kustodian::source::DiskFs;
    use std::sync::Arc;
    let t = copy(&manifest_dir().join("fixtures/golden-envs/flux/repo"));
    let (d, sources) =
        kustodian::discover::listing::discover_repo(t.path(), &kustodian::rules::CATALOG).unwrap();
    let env = d.apps.iter().find(|a| a.name == "apps").unwrap().envs[0].clone();
    let names = |b: &kustodian::render::Build| -> Vec<String> {
        b.resources.iter().map(|r| r.name().to_string()).collect()
    };
    for env_first in [true, false] {
        let r = Renderer::new(Arc::new(DiskFs::new(t.path()).unwrap()), sources.clone());
        let plain = || r.build("apps/base/podinfo").unwrap();
        let overridden = || r.build_env(&env.dir, env.build.as_deref()).unwrap();
        let (a, b) = if env_first {
            let e = overridden();
            (e, plain())
        } else {
            let p = plain();
            (overridden(), p)
        };
        assert_eq!(
            names(&a),
            ["stg-podinfo", "stg-podinfo"],
            "env first: {env_first}"
        );
        assert_eq!(names(&b), ["podinfo", "podinfo"], "env first: {env_first}");
        // The overlay itself, plainly: kustomize refuses the field Flux's lenient read drops.
        let err = r.build(&env.dir).unwrap_err();
        assert!(err.message.contains("'namPrefix'"), "{}", err.message);
    }
}

/// Pull-request mode: a new file under a Flux path without a kustomization changes what Flux
/// generates there, and a variable's ConfigMap changes what substitution makes; each affects its
/// environment (and only it).
#[test]
fn pull_requests_see_what_generated_kustomizations_and_variables_read() {
    let check = |root: &Path| {
        let out = kustodian(&["check", ".", "--base", "main", "--verbose"], root);
        stderr(&out)
    };
    let t = copy(&manifest_dir().join("fixtures/golden-envs/flux/repo"));
    // A production cluster too (a check needs one), with its own generated path.
    let infra = std::fs::read_to_string(t.path().join("clusters/staging/infra.yaml")).unwrap();
    write(
        t.path(),
        "clusters/production/infra.yaml",
        &infra.replace("staging", "production"),
    );
    write(
        t.path(),
        "infrastructure/production/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n",
    );
    common::git(t.path(), &["init", "-q", "-b", "main"]);
    common::git(t.path(), &["add", "."]);
    common::git(t.path(), &["commit", "-q", "-m", "base"]);
    write(
        t.path(),
        "infrastructure/staging/policies/quota.yaml",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  namespace: monitoring\nspec:\n  hard:\n    pods: \"10\"\n",
    );
    let err = check(t.path());
    assert!(err.contains("affected overlays (1):"), "{err}");
    assert!(err.contains("infrastructure/staging"), "{err}");

    let t = copy(&manifest_dir().join("fixtures/discovery/flux-postbuild"));
    common::git(t.path(), &["init", "-q", "-b", "main"]);
    common::git(t.path(), &["add", "."]);
    common::git(t.path(), &["commit", "-q", "-m", "base"]);
    let vars = t.path().join("clusters/staging/cluster-vars.yaml");
    let text = std::fs::read_to_string(&vars).unwrap();
    std::fs::write(&vars, text.replace("eu-west-1", "eu-west-2")).unwrap();
    let err = check(t.path());
    assert!(err.contains("affected overlays (1):"), "{err}");
    assert!(err.contains("apps/staging"), "{err}");
}
