//! Discovery on the layouts public GitOps repositories use (small fixtures written after them,
//! copied to temp dirs so no enclosing Git repository is seen): what `kustodian envs` lists, in
//! its JSON contract, and that `check` runs the rules on what it lists.

mod common;
use common::{copy_dir, git, write};

use std::path::Path;
use std::process::{Command, Output};

fn kustodian(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("GITHUB_HEAD_REF")
        .output()
        .unwrap()
}

fn fixture(name: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/discovery")
            .join(name),
        t.path(),
    );
    t
}

/// `(app, environment, stage, path, source kind, source file:line)` of every listed environment.
fn listed(dir: &Path) -> (Vec<[String; 6]>, serde_json::Value) {
    let out = kustodian(&["envs", ".", "--format", "json"], dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
    let envs = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let src = &e["source"];
            let at = match (src.get("file"), src.get("line")) {
                (Some(f), Some(l)) => format!("{}:{l}", s(f)),
                _ => String::new(),
            };
            [
                s(&e["app"]),
                s(&e["environment"]),
                s(&e["stage"]),
                s(&e["path"]),
                s(&src["kind"]),
                at,
            ]
        })
        .collect();
    (envs, v)
}

fn rows(want: &[[&str; 6]]) -> Vec<[String; 6]> {
    want.iter().map(|r| r.map(str::to_string)).collect()
}

#[test]
fn argo_cd_applications_and_applicationsets_name_the_environments() {
    let t = fixture("argocd");
    let (got, v) = listed(t.path());
    assert_eq!(
        got,
        rows(&[
            [
                "billing",
                "stg",
                "staging",
                "deploy/billing/stg",
                "argocd-application",
                "argocd/billing-stg.yaml:1"
            ],
            [
                "billing",
                "prd",
                "production",
                "deploy/billing/prd",
                "argocd-application",
                "argocd/billing-prd.yaml:1"
            ],
            [
                "reports",
                "preprod",
                "staging",
                "deploy/reports/preprod",
                "argocd-applicationset",
                "argocd/reports.yaml:14"
            ],
            [
                "reports",
                "stg",
                "staging",
                "deploy/reports/stg",
                "argocd-applicationset",
                "argocd/reports.yaml:14"
            ],
            [
                "reports",
                "live",
                "production",
                "deploy/reports/live",
                "argocd-applicationset",
                "argocd/reports.yaml:14"
            ],
            [
                "web",
                "stg",
                "staging",
                "deploy/web/stg",
                "argocd-applicationset",
                "argocd/web.yaml:19"
            ],
            [
                "web",
                "prd",
                "production",
                "deploy/web/prd",
                "argocd-applicationset",
                "argocd/web.yaml:19"
            ],
        ])
    );
    // The excluded directory is not an environment, though its layout would make it one; the
    // preprod environment is the one closest to production.
    let pairs: Vec<(String, String, String)> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["app"].to_string(),
                p["staging"].to_string(),
                p["production"].to_string(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&(
            "\"reports\"".into(),
            "\"preprod\"".into(),
            "\"live\"".into()
        )),
        "{pairs:?}"
    );
    // The Helm chart is said to be not rendered, at its object.
    assert!(
        v["notes"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Helm chart 'ingress-nginx'")
    );
    assert_eq!(v["notes"][0]["file"], "argocd/ingress.yaml");
    let out = kustodian(&["check", ".", "--format", "json"], t.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["overlays"], 7);
}

#[test]
fn an_application_pointing_at_a_missing_path_fails_at_its_path_line() {
    let t = fixture("argocd");
    let f = t.path().join("argocd/billing-prd.yaml");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("deploy/billing/prd", "deploy/biling/prd");
    std::fs::write(&f, text).unwrap();
    let out = kustodian(&["check", ".", "--format", "json"], t.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "gitops-path-missing")
        .collect();
    assert_eq!(missing.len(), 1, "{report}");
    assert_eq!(missing[0]["location"]["file"], "argocd/billing-prd.yaml");
    assert_eq!(missing[0]["location"]["line"], 11);
    let human = kustodian(&["check", ".", "--color", "never"], t.path());
    assert!(String::from_utf8_lossy(&human.stdout).contains("did you mean 'deploy/billing/prd'?"));
}

#[test]
fn envs_directories_over_variants_pair_regions() {
    let t = fixture("envs");
    let (got, v) = listed(t.path());
    let names: Vec<(&str, &str)> = got.iter().map(|r| (r[1].as_str(), r[2].as_str())).collect();
    assert_eq!(
        names,
        [
            ("integration-gpu", "dev"),
            ("qa", "staging"),
            ("staging-eu", "staging"),
            ("staging-us", "staging"),
            ("prod-eu", "production"),
            ("prod-us", "production"),
        ]
    );
    assert!(got.iter().all(|r| r[4] == "convention" && r[5].is_empty()));
    // Environments at the repository root make an app of the repository: it is called by the
    // checked directory's name (in CI, the repository's), not `.`.
    let dir_name = t.path().file_name().unwrap().to_str().unwrap();
    assert!(got.iter().all(|r| r[0] == dir_name), "{got:?}");
    let pairs = v["pairs"].to_string();
    assert!(
        pairs.contains(r#""staging":"staging-eu","production":"prod-eu""#),
        "{pairs}"
    );
    assert!(
        pairs.contains(r#""staging":"staging-us","production":"prod-us""#),
        "{pairs}"
    );
}

#[test]
fn flux_kustomizations_in_cluster_directories_name_the_environments() {
    let t = fixture("flux");
    let (got, _) = listed(t.path());
    assert_eq!(
        got,
        rows(&[
            [
                "apps",
                "staging",
                "staging",
                "apps/staging",
                "flux-kustomization",
                "clusters/staging/apps.yaml:1"
            ],
            [
                "apps",
                "production",
                "production",
                "apps/production",
                "flux-kustomization",
                "clusters/production/apps.yaml:1"
            ],
            // Through the ArtifactGenerator that copies infrastructure/ into the artifact.
            [
                "infra-configs",
                "staging",
                "staging",
                "infrastructure/configs",
                "flux-kustomization",
                "clusters/staging/infrastructure.yaml:1"
            ],
            [
                "infra-configs",
                "production",
                "production",
                "infrastructure/configs",
                "flux-kustomization",
                "clusters/production/infrastructure.yaml:1"
            ],
        ])
    );
    let out = kustodian(&["check", "."], t.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn kustomize_multibases_are_environments_beside_their_base() {
    let t = fixture("multibases");
    let (got, _) = listed(t.path());
    let names: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("dev", "dev", "dev"),
            ("staging", "staging", "staging"),
            ("production", "production", "production")
        ]
    );
}

#[test]
fn configured_patterns_name_environments_nothing_else_finds() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    for (app, env) in [
        ("billing", "green"),
        ("billing", "blue"),
        ("search", "green"),
    ] {
        write(
            r,
            &format!("teams/a/apps/{app}/deploy/{env}/kustomization.yaml"),
            "resources: []\n",
        );
    }
    write(
        r,
        ".kustodian.yaml",
        "environments:\n  - path: teams/*/apps/{app}/deploy/{env}\n  - name: green\n    stage: production\n  - name: blue\n    stage: staging\n    promotes-to: [green]\n",
    );
    let (got, v) = listed(r);
    let names: Vec<(&str, &str, &str, &str, &str)> = got
        .iter()
        .map(|x| {
            (
                x[0].as_str(),
                x[1].as_str(),
                x[2].as_str(),
                x[4].as_str(),
                x[5].as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("billing", "blue", "staging", "config", ".kustodian.yaml:2"),
            (
                "billing",
                "green",
                "production",
                "config",
                ".kustodian.yaml:2"
            ),
            (
                "search",
                "green",
                "production",
                "config",
                ".kustodian.yaml:2"
            ),
        ]
    );
    assert!(
        v["pairs"]
            .to_string()
            .contains(r#""staging":"blue","production":"green""#)
    );
    // A pattern that cannot name an environment is an error at its line.
    write(
        r,
        ".kustodian.yaml",
        "environments:\n  - app: x\n  - path: deploy/{app}\n",
    );
    let out = kustodian(&["check", "."], r);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(".kustodian.yaml:2"), "{text}");
    assert!(text.contains(".kustodian.yaml:3"), "{text}");
}

#[test]
fn a_pull_request_changing_manifests_no_environment_renders_says_so() {
    let t = fixture("multibases");
    let r = t.path();
    write(
        r,
        "legacy/deploy.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n",
    );
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "one"]);
    write(
        r,
        "legacy/deploy.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n",
    );
    let out = kustodian(&["check", ".", "--base", "HEAD", "--format", "json"], r);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "change-not-checked", "{report}");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["location"]["file"], "legacy/deploy.yaml");
}
