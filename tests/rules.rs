//! Every rule against its mini repos: `fixtures/rules/<rule>/fail` exits 1 and reports the rule
//! (with the human output snapshotted), `fixtures/rules/<rule>/pass` exits 0 with no findings.
//! A fixture directory may hold a `policy.yaml` used for both (to check a warning-level rule as an
//! error).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(dir: &Path, policy: Option<&Path>, format: &str) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kustodian"));
    cmd.arg("check")
        .arg(dir)
        .arg("--format")
        .arg(format)
        .env_remove("GITHUB_ACTIONS");
    if let Some(p) = policy {
        cmd.arg("--policy").arg(p);
    }
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
        // Covered by tests/schema.rs (it needs CRDs and many kinds).
        "schema-violation",
        "schema-missing",
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

        let (code, human) = run(&dir.join("fail"), policy, "human");
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
    // The production literal that differs from staging's.
    assert_eq!(
        loc("promotion-drift"),
        "apps/shop/overlays/production/kustomization.yaml:10"
    );
}
