//! Every rule against its mini repos: `fixtures/rules/<rule>/fail` exits 1 and reports the rule
//! (with the human output of that rule alone snapshotted, `--select <rule>`, so a change to one
//! rule's output shows in its own snapshot only), `fixtures/rules/<rule>/pass` exits 0 with no
//! findings from any rule.
//! A fixture directory may hold a `policy.yaml` used for both (to check a warning-level rule as an
//! error).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(dir: &Path, policy: Option<&Path>, format: &str) -> (i32, String) {
    run_with(dir, policy, format, &[])
}

fn run_with(dir: &Path, policy: Option<&Path>, format: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kustodian"));
    // Each fixture is a config repository of its own: git's search for a work tree stops there.
    cmd.arg("check")
        .arg(dir)
        .arg("--format")
        .arg(format)
        .env_remove("GITHUB_ACTIONS")
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap());
    if let Some(p) = policy {
        cmd.arg("--policy").arg(p);
    }
    cmd.args(args);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn rule_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_registered_rule_has_fixtures() {
    let names: Vec<String> = rule_dirs()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // Pull-request rules need a git history: tests/pr.rs builds their repositories.
    const PR_ONLY: &[&str] = &[
        "change-not-checked",
        "production-change-not-image-only",
        "immutable-field-changed",
        "digest-not-promoted",
        "bot-write-scope",
        "change-freeze",
    ];
    for r in kustodian::rules::registry().filter(|r| !PR_ONLY.contains(&r.id)) {
        assert!(
            names.contains(&r.id.to_string()),
            "no fixtures/rules/{}",
            r.id
        );
    }
}

#[test]
fn fail_fixtures_report_their_rule_and_pass_fixtures_are_clean() {
    for dir in rule_dirs() {
        let rule = dir.file_name().unwrap().to_string_lossy().into_owned();
        let policy = dir.join("policy.yaml");
        let policy = policy.exists().then_some(policy.as_path());

        let (code, json) = run(&dir.join("fail"), policy, "json");
        assert_eq!(code, 1, "{rule}/fail should exit 1:\n{json}");
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let findings = report["findings"].as_array().unwrap();
        let mine: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["rule"] == rule.as_str())
            .collect();
        assert!(
            !mine.is_empty(),
            "{rule}/fail did not report {rule}:\n{json}"
        );
        for f in &mine {
            let loc = &f["location"];
            // At a file of the fixture: an app's, CODEOWNERS, or a GitOps object's.
            assert!(
                loc["file"]
                    .as_str()
                    .is_some_and(|p| dir.join("fail").join(p).is_file()),
                "{rule}: {f}"
            );
            assert!(loc["line"].as_u64().unwrap() >= 1);
            // About the fixture's app, or about the repository as a whole.
            assert!(f["app"] == "shop" || f["app"].is_null(), "{rule}: {f}");
        }
        // Errors come only from the rule under test.
        for f in findings.iter().filter(|f| f["severity"] == "error") {
            assert_eq!(
                f["rule"],
                rule.as_str(),
                "unexpected error in {rule}/fail: {f}"
            );
        }

        let (code, human) = run_with(&dir.join("fail"), policy, "human", &["--select", &rule]);
        assert_eq!(code, 1);
        insta::assert_snapshot!(format!("{rule}-fail"), human);

        let (code, json) = run(&dir.join("pass"), policy, "json");
        assert_eq!(code, 0, "{rule}/pass should exit 0:\n{json}");
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        // Clean: nothing but findings a suppression waives (they stay in the JSON, marked).
        assert_eq!(
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f.get("suppressed").is_none())
                .count(),
            0,
            "{rule}/pass:\n{json}"
        );
    }
}

#[test]
fn rules_point_at_the_line_to_edit() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let loc = |rule: &str| {
        let (_, json) = run(&base.join(rule).join("fail"), None, "json");
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .cloned()
            .unwrap();
        format!(
            "{}:{}",
            f["location"]["file"].as_str().unwrap(),
            f["location"]["line"]
        )
    };
    // The overlay's images entry (its newTag line), not the base.
    assert_eq!(
        loc("image-not-pinned"),
        "apps/shop/overlays/production/kustomization.yaml:6"
    );
    // The JSON patch operation that removed the limits.
    assert!(loc("resource-limits-removed").ends_with("/drop-limits.yaml:1"));
    // The secretKeyRef key in the base.
    assert_eq!(
        loc("secret-key-missing"),
        "apps/shop/base/deployment.yaml:16"
    );
    // The misspelt field of a Flux Kustomization (validated against the bundled Flux schema) and
    // of a Widget (against the CRD vendored outside any app).
    let (_, json) = run(&base.join("schema-violation/fail"), None, "json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let at: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["field"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            "spec apps/shop/base/flux.yaml:17",
            "spec.prunne apps/shop/base/flux.yaml:19",
            "spec.color apps/shop/base/widget.yaml:7"
        ]
    );
    // The production literal that differs from staging's.
    assert_eq!(
        loc("promotion-drift"),
        "apps/shop/envs/prod-eu/kustomization.yaml:12"
    );
    // And the patch one production environment makes on its own, under the variant every
    // production environment shares (whose own settings are not drift).
    let (_, json) = run(&base.join("promotion-drift/fail"), None, "json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let at: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            "apps/shop/envs/prod-eu/kustomization.yaml:12",
            "apps/shop/envs/prod-us/kustomization.yaml:19"
        ]
    );
}

/// Limits a patch removed are `resource-limits-removed`'s finding alone; with that rule off,
/// `resource-limits-missing` reports them at the patch that removed them, not at the base line
/// that set them.
#[test]
fn limits_a_patch_removed_are_reported_once_at_the_patch() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/resource-limits-removed/fail");
    let found = |policy: Option<&Path>| {
        let (_, json) = run(&dir, policy, "json");
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{}",
                    f["rule"].as_str().unwrap(),
                    f["location"]["file"].as_str().unwrap(),
                    f["location"]["line"]
                )
            })
            .collect::<Vec<_>>()
    };
    let both = found(None);
    assert!(
        both.iter()
            .all(|f| f.starts_with("resource-limits-removed ")),
        "{both:?}"
    );
    let t = tempfile::tempdir().unwrap();
    let policy = t.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "rules:\n  resource-limits-removed:\n    severity: off\n",
    )
    .unwrap();
    let missing = found(Some(&policy));
    assert_eq!(
        missing,
        ["resource-limits-missing apps/shop/overlays/production/drop-limits.yaml:1"],
        "{missing:?}"
    );
}

/// Each overlay-identity exemption of `promotion-drift` is what keeps its part of the pass
/// fixture clean: turned off in the policy, that part is reported.
#[test]
fn promotion_drift_identity_exemptions_each_hold_their_part() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/promotion-drift/pass");
    let cases = [
        ("environment-names: false", "at data.ENV"),
        ("environment-names: false", "external-dns/hostname"),
        (
            "namespaces: false",
            "Namespace 'shop-prod-eu' exists in prod-eu",
        ),
        ("replicas: false", "at spec.replicas"),
        (
            "production-only: []",
            "PodDisruptionBudget 'shop' exists in prod-eu",
        ),
        (
            "production-only: []",
            "HorizontalPodAutoscaler 'shop' exists in prod-eu",
        ),
    ];
    for (off, reported) in cases {
        let t = tempfile::tempdir().unwrap();
        let policy = t.path().join("policy.yaml");
        std::fs::write(
            &policy,
            format!("rules:\n  promotion-drift:\n    options:\n      identity:\n        {off}\n"),
        )
        .unwrap();
        let (code, json) = run(&dir, Some(&policy), "json");
        assert_eq!(code, 1, "{off}: {json}");
        assert!(
            json.contains(reported),
            "{off} should report '{reported}': {json}"
        );
    }
}

/// `--select` runs the named rules alone and `--ignore` turns rules off; an unknown id is a
/// policy error (exit 2) with the closest id.
#[test]
fn select_and_ignore_narrow_the_rules() {
    // A production image by tag (image-not-pinned, an error) without limits
    // (resource-limits-missing, a warning).
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("repo");
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "apps/web/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(
        "apps/web/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n",
    );
    for env in ["staging", "production"] {
        write(
            &format!("apps/web/overlays/{env}/kustomization.yaml"),
            "resources:\n- ../../base\n",
        );
    }
    let rules = |args: &[&str]| {
        let (code, json) = run_with(&dir, None, "json", args);
        let report: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut ids: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        (code, ids)
    };
    let (code, all) = rules(&[]);
    assert_eq!(
        (code, all),
        (
            1,
            vec!["image-not-pinned".into(), "resource-limits-missing".into()]
        )
    );
    let (code, only) = rules(&["--select", "resource-limits-missing"]);
    assert_eq!(
        (code, only),
        (0, vec!["resource-limits-missing".to_string()])
    );
    let (code, rest) = rules(&["--ignore", "resource-limits-missing"]);
    assert_eq!((code, rest), (1, vec!["image-not-pinned".to_string()]));
    let (code, none) = rules(&[
        "--select",
        "image-not-pinned,resource-limits-missing",
        "--ignore",
        "image-not-pinned",
    ]);
    assert_eq!(
        (code, none),
        (0, vec!["resource-limits-missing".to_string()])
    );
    let (code, json) = run_with(&dir, None, "json", &["--select", "image-not-pined"]);
    assert_eq!(code, 2);
    assert!(json.contains("did you mean 'image-not-pinned'"), "{json}");
}
