//! kustomize's own test cases (`../shared/conformance`) rendered by `kustodian render`.
//!
//! The pass count is the renderer's fidelity score. `tests/conformance-floor.txt` holds the
//! committed floor: this test fails when the score drops below it (and says so when it rose, so
//! the floor can be raised in the same change). The corpus is not in this repository: the test
//! is `#[ignore]`d, and `scripts/test` runs it when the project's shared folder is there
//! (CONTRIBUTING.md).

mod common;

use std::path::PathBuf;
use std::process::Command;

#[test]
#[ignore = "needs the kustomize conformance corpus (../shared or $KUSTODIAN_SHARED); scripts/test runs it when present"]
fn conformance_score_does_not_drop() {
    let shared = common::shared_dir();
    let bin = env!("CARGO_BIN_EXE_kustodian");
    let json = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("python3")
        .arg(shared.join("conformance/run"))
        .arg("--renderer")
        .arg(format!("{bin} render {{dir}}"))
        .arg("--json")
        .arg(json.path())
        .output();
    let out = out.unwrap_or_else(|e| panic!("could not run python3: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = match std::fs::read_to_string(json.path())
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
    {
        Some(v) => v,
        None => panic!(
            "conformance runner produced no summary:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    };
    let passed = summary["passed"].as_u64().expect("summary has 'passed'");
    let floor: u64 = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-floor.txt"),
    )
    .expect("tests/conformance-floor.txt")
    .trim()
    .parse()
    .expect("floor is a number");
    eprintln!("kustomize conformance: {passed} passed (floor {floor})");
    assert!(
        passed >= floor,
        "conformance dropped below the floor: {passed} < {floor}\n{stdout}"
    );
    if passed > floor {
        eprintln!(
            "conformance rose above the floor: raise tests/conformance-floor.txt to {passed}"
        );
    }
}
