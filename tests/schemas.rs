//! `schemas/*.schema.json` are generated from the Rust types; this test fails when a committed
//! schema drifts from the code (run with `KUSTODIAN_BLESS=1` to rewrite them), and checks that
//! real output validates against the report schema.

use std::path::Path;
use std::process::Command;

fn check(name: &str, schema: serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("KUSTODIAN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "schemas/{name} is out of date with the code; regenerate with `KUSTODIAN_BLESS=1 cargo test --test schemas`"
    );
}

#[test]
fn committed_schemas_match_the_code() {
    let catalog = &kustodian::rules::CATALOG;
    check(
        "policy.schema.json",
        kustodian::settings::policy::policy_schema(catalog),
    );
    check(
        "config.schema.json",
        kustodian::settings::config::config_schema(catalog),
    );
    check(
        "envs.schema.json",
        kustodian::settings::load::schema_of::<kustodian::discover::listing::Listing>(),
    );
    check(
        "report.schema.json",
        kustodian::settings::load::schema_of::<kustodian::report::json::JsonReport>(),
    );
    check(
        "versions.schema.json",
        kustodian::settings::load::schema_of::<kustodian::report::versions::json::JsonVersions>(),
    );
}

#[test]
fn versions_json_validates_against_its_schema_in_the_documented_shape() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/versions.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for args in [
        &["versions", "fixtures/gitops-config", "--format", "json"][..],
        &[
            "versions",
            "fixtures/gitops-config",
            "--format",
            "json",
            "--history",
            "2",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{args:?}: {errors:?}");
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&v), ["version", "revision", "apps"]);
        let app = &v["apps"][0];
        assert_eq!(keys(app), ["app", "environments"]);
        let env = &app["environments"][0];
        assert_eq!(keys(env), ["environment", "stage", "images"]);
        let image = keys(&env["images"][0]);
        assert_eq!(
            image[..6],
            ["name", "repository", "tag", "digest", "location", "commit"]
        );
    }
}

#[test]
fn json_output_validates_against_the_report_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for dir in [
        "fixtures/gitops-config",
        "fixtures/rules/secret-key-missing/fail",
        "fixtures/rules/promotion-drift/fail",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args(["check", dir, "--format", "json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{dir}: {errors:?}");
        // The exact top-level shape the issue documents.
        let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["version", "findings", "summary"]);
        for f in report["findings"].as_array().unwrap() {
            // `help` and `suppressed` are there when a finding has them.
            let keys: Vec<&String> = f
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "help" && *k != "suppressed")
                .collect();
            assert_eq!(
                keys,
                [
                    "rule",
                    "severity",
                    "message",
                    "app",
                    "environment",
                    "environments",
                    "resource",
                    "field",
                    "location",
                    "related"
                ]
            );
        }
    }
}
