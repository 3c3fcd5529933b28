//! Pull-request mode on a repository shaped like kostis-codefresh/gitops-environment-promotion
//! (`envs/<env>` plus `variants/`), as real git repositories in temp dirs: findings the base
//! revision had too are existing (shown, not failing unless `--fail-on all`), findings the change
//! brings are new, and production taking a setting its staging counterpart runs is promotion.

mod common;
use common::{edit, git, stage_variants_repo};

use std::path::Path;
use std::process::{Command, Output};

fn kustodian(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(root)
        .env_remove("GITHUB_ACTOR")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap()
}

/// `check --base main` with a JSON report.
fn check(root: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut args = vec!["check", ".", "--format", "json", "--base", "main"];
    args.extend(extra);
    let out = kustodian(root, &args);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, v)
}

/// `(rule, env, file:line, baseline)` per finding.
fn findings(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|f| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
            (
                s(&f["rule"]),
                s(&f["environment"]),
                format!("{}:{}", s(&f["location"]["file"]), f["location"]["line"]),
                s(&f["baseline"]),
            )
        })
        .collect()
}

fn has(report: &serde_json::Value, rule: &str, at: &str, baseline: &str) -> bool {
    findings(report)
        .iter()
        .any(|(r, _, loc, b)| r == rule && loc == at && b == baseline)
}

const PROD_US: &str = "envs/prod-us/settings.yml";

/// The repository's documented way to promote configuration: copy the setting staging runs into
/// the production environment. The drift it fixes is gone, nothing is new, the run passes.
#[test]
fn copying_a_staging_setting_into_production_passes() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    stage_variants_repo(r);
    // On main (a full check): the drift this change fixes.
    let out = kustodian(r, &["check", ".", "--format", "json"]);
    let before: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        has(&before, "promotion-drift", &format!("{PROD_US}:14"), "-"),
        "{:?}",
        findings(&before)
    );
    edit(r, PROD_US, "value: \"dark\"", "value: \"light\"");
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&report));
    let all = findings(&report);
    assert!(
        !all.iter()
            .any(|(rule, ..)| rule == "production-change-not-image-only"),
        "{all:?}"
    );
    assert!(
        !all.iter()
            .any(|(_, _, loc, _)| loc == &format!("{PROD_US}:14")),
        "the UI_THEME drift is gone: {all:?}"
    );
    assert!(all.iter().all(|(.., b)| b == "existing"), "{all:?}");
    assert_eq!(report["summary"]["new"], 0, "{report}");
    // Taken from staging's base revision counts too: staging moves on in the same change.
    edit(
        r,
        "envs/staging-us/settings.yml",
        "value: \"light\"",
        "value: \"blue\"",
    );
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&report));
}

/// A value production sets on its own (staging runs neither it nor anything like it) is still a
/// production change beyond images, new with the change.
#[test]
fn a_production_value_staging_never_ran_fails() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    stage_variants_repo(r);
    edit(r, PROD_US, "value: \"dark\"", "value: \"neon\"");
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(1), "{:?}", findings(&report));
    assert!(
        has(
            &report,
            "production-change-not-image-only",
            &format!("{PROD_US}:14"),
            "new"
        ),
        "{:?}",
        findings(&report)
    );
    // The drift at that line was there at the base (dark vs light): still existing.
    assert!(
        has(
            &report,
            "promotion-drift",
            &format!("{PROD_US}:14"),
            "existing"
        ),
        "{:?}",
        findings(&report)
    );
}

/// An image-only promotion while drift already exists on `main`: the drift is shown as existing,
/// the run passes; `--fail-on all` (or `error,all`) fails it, `never` never does.
#[test]
fn an_image_only_promotion_passes_beside_existing_drift() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    stage_variants_repo(r);
    edit(r, "envs/prod-us/version.yml", "web:1.0", "web:2.0");
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&report));
    for line in [14, 18] {
        assert!(
            has(
                &report,
                "promotion-drift",
                &format!("{PROD_US}:{line}"),
                "existing"
            ),
            "{:?}",
            findings(&report)
        );
    }
    let existing = report["summary"]["existing"].as_u64().unwrap();
    assert!(existing >= 2, "{report}");
    assert_eq!(report["summary"]["new"], 0);
    for (fail_on, code) in [
        ("all", 1),
        ("error,all", 1),
        ("warning,new", 0),
        ("never", 0),
    ] {
        let (out, _) = check(r, &["--fail-on", fail_on]);
        assert_eq!(out.status.code(), Some(code), "--fail-on {fail_on}");
    }
    // SARIF marks them unchanged; the human report collapses them under a heading.
    let out = kustodian(r, &["check", ".", "--base", "main", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["baselineState"].as_str().unwrap())
        .collect();
    assert!(
        !states.is_empty() && states.iter().all(|s| *s == "unchanged"),
        "{states:?}"
    );
    let out = kustodian(r, &["check", ".", "--base", "main", "--color", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("existing findings ({existing}):")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  error {PROD_US}:14 promotion-drift [")),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with(&format!(
            "({} resources; {existing} existing)",
            report["summary"]["resources"]
        )),
        "{text}"
    );
}

/// A finding the base revision had keeps its identity when lines move above it (here a comment
/// block the change adds), and a drift the change brings in another pair is new — and fails.
#[test]
fn identity_survives_moved_lines_and_new_drift_is_new() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    stage_variants_repo(r);
    let text = std::fs::read_to_string(r.join(PROD_US)).unwrap();
    std::fs::write(
        r.join(PROD_US),
        format!("# owned by the payments team\n# see the runbook\n{text}"),
    )
    .unwrap();
    edit(r, "envs/prod-eu/settings.yml", "1024kb", "2048kb");
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(1), "{:?}", findings(&report));
    assert!(
        has(
            &report,
            "promotion-drift",
            &format!("{PROD_US}:16"),
            "existing"
        ),
        "{:?}",
        findings(&report)
    );
    assert!(
        has(
            &report,
            "promotion-drift",
            "envs/prod-eu/settings.yml:16",
            "new"
        ),
        "{:?}",
        findings(&report)
    );
    // Without the eu edit, only existing findings: the comment block changed nothing.
    git(r, &["checkout", "-q", "envs/prod-eu"]);
    let (out, report) = check(r, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", findings(&report));
}

/// Outside pull-request mode nothing is marked, and the scope changes nothing.
#[test]
fn a_full_check_has_no_baseline() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    stage_variants_repo(r);
    let out = kustodian(
        r,
        &["check", ".", "--format", "json", "--fail-on", "error,new"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["summary"].get("existing").is_none(), "{report}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("baseline").is_none()),
        "{report}"
    );
    let out = kustodian(r, &["check", ".", "--fail-on", "never,all"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("takes no scope"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
