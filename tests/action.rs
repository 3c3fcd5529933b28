//! Runs every `run:` step of `action.yml` in bash with a simulated GitHub runner environment
//! (GITHUB_ACTIONS, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY,
//! GITHUB_ACTION_PATH, RUNNER_TEMP) against fixture repos, and checks annotations, outputs, the
//! step summary, the SARIF file and the exit status `fail-on` asks for.

mod common;
use common::{copy_dir, git};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kustodian::yaml::{Node, parse_documents};

/// Resolves `${{ inputs.x }}` / `${{ github.action_path }}` the way the runner would.
fn expand(s: &str, inputs: &BTreeMap<String, String>, action_path: &str) -> String {
    let mut out = s.to_string();
    while let Some(i) = out.find("${{") {
        let j = out[i..].find("}}").unwrap() + i;
        let expr = out[i + 3..j].trim();
        let v = if let Some(name) = expr.strip_prefix("inputs.") {
            inputs.get(name).cloned().unwrap_or_default()
        } else if expr == "github.action_path" {
            action_path.to_string()
        } else {
            String::new()
        };
        out.replace_range(i..j + 2, &v);
    }
    out
}

struct Run {
    code: i32,
    stdout: String,
    outputs: String,
    summary: String,
}

fn run_action(repo: &Path, with: &[(&str, &str)]) -> Run {
    run_action_with_event(
        repo,
        with,
        r#"{"pull_request":{"number":7,"base":{"sha":"0000000000000000000000000000000000000000"}}}"#,
    )
}

fn run_action_with_event(repo: &Path, with: &[(&str, &str)], event_json: &str) -> Run {
    run_action_full(repo, with, event_json, vec![])
}

fn run_action_full(
    repo: &Path,
    with: &[(&str, &str)],
    event_json: &str,
    extra_env: Vec<(String, String)>,
) -> Run {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let action = parse_documents(&text, kustodian::source::FileId(0))
        .unwrap()
        .remove(0);
    let mut inputs = BTreeMap::new();
    for (name, def) in action.get("inputs").unwrap().as_map().unwrap().iter() {
        inputs.insert(
            name.to_string(),
            def.get("default")
                .and_then(Node::scalar_string)
                .unwrap_or_default(),
        );
    }
    for (k, v) in with {
        inputs.insert(k.to_string(), v.to_string());
    }
    let tmp = tempfile::tempdir().unwrap();
    let event = tmp.path().join("event.json");
    std::fs::write(&event, event_json).unwrap();
    let files = [
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STEP_SUMMARY",
    ];
    for f in files {
        std::fs::write(tmp.path().join(f), "").unwrap();
    }
    let mut code = 0;
    let mut stdout = String::new();
    for step in action
        .get_path(&["runs", "steps"])
        .unwrap()
        .as_seq()
        .unwrap()
    {
        let Some(script) = step.get("run").and_then(Node::as_str) else {
            continue;
        };
        // Exactly as the runner runs a `shell: bash` step: the script in a file, under
        // `bash --noprofile --norc -eo pipefail {0}`.
        let script_file = tmp.path().join("step.sh");
        std::fs::write(&script_file, script).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(repo);
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_ACTION_PATH", root)
            .env("RUNNER_TEMP", tmp.path())
            .env("KUSTODIAN_BIN", env!("CARGO_BIN_EXE_kustodian"));
        // Steps see what earlier steps exported through GITHUB_ENV.
        for line in std::fs::read_to_string(tmp.path().join("GITHUB_ENV"))
            .unwrap_or_default()
            .lines()
        {
            if let Some((k, v)) = line.split_once('=') {
                cmd.env(k, v);
            }
        }
        for f in files {
            cmd.env(f, tmp.path().join(f));
        }
        for (k, v) in &extra_env {
            cmd.env(k, v);
        }
        if let Some(env) = step.get("env").and_then(Node::as_map) {
            for (k, v) in env.iter() {
                cmd.env(
                    k,
                    expand(
                        &v.scalar_string().unwrap_or_default(),
                        &inputs,
                        root.to_str().unwrap(),
                    ),
                );
            }
        }
        let out = cmd.output().unwrap();
        stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        code = out.status.code().unwrap_or(-1);
        if code != 0 {
            break;
        }
    }
    Run {
        code,
        stdout,
        outputs: std::fs::read_to_string(tmp.path().join("GITHUB_OUTPUT")).unwrap(),
        summary: std::fs::read_to_string(tmp.path().join("GITHUB_STEP_SUMMARY")).unwrap(),
    }
}

#[test]
fn failing_repo_annotates_outputs_and_fails() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/image-not-pinned/fail");
    let sarif = tempfile::NamedTempFile::new().unwrap();
    let r = run_action(
        &repo,
        &[
            ("sarif-file", sarif.path().to_str().unwrap()),
            ("base", "none"),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("::error file=apps/shop/overlays/production/kustomization.yaml,line=6"),
        "{}",
        r.stdout
    );
    assert!(r.outputs.contains("findings=1\n"), "{}", r.outputs);
    assert!(r.outputs.contains("errors=1\n"));
    assert!(
        r.outputs
            .contains(&format!("sarif-file={}", sarif.path().display()))
    );
    assert!(r.summary.contains("image-not-pinned"), "{}", r.summary);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif.path()).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["results"][0]["ruleId"], "image-not-pinned");
}

#[test]
fn fail_on_controls_the_exit_status() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/image-not-pinned/fail");
    assert_eq!(
        run_action(&repo, &[("fail-on", "never"), ("base", "none")]).code,
        0
    );
    // A warning-only repo passes with fail-on=error and fails with fail-on=warning.
    let warn =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/resource-limits-missing/fail");
    assert_eq!(run_action(&warn, &[("base", "none")]).code, 0);
    assert_eq!(
        run_action(&warn, &[("fail-on", "warning"), ("base", "none")]).code,
        1
    );
}

#[test]
fn fail_on_never_with_findings_passes_and_sets_every_output() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/image-not-pinned/fail");
    let sarif = tempfile::NamedTempFile::new().unwrap();
    let r = run_action(
        &repo,
        &[
            ("fail-on", "never"),
            ("base", "none"),
            ("sarif-file", sarif.path().to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("::error file="), "{}", r.stdout);
    for key in ["findings=1\n", "errors=1\n", "warnings=0\n"] {
        assert!(r.outputs.contains(key), "{key} missing: {}", r.outputs);
    }
    assert!(
        r.outputs
            .contains(&format!("sarif-file={}", sarif.path().display())),
        "{}",
        r.outputs
    );
}

#[test]
fn could_not_evaluate_prints_its_annotation_and_fails() {
    let t = tempfile::tempdir().unwrap();
    let overlay = t.path().join("apps/a/overlays/production");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n  - missing.yaml\n",
    )
    .unwrap();
    for fail_on in ["error", "never"] {
        let r = run_action(t.path(), &[("base", "none"), ("fail-on", fail_on)]);
        assert_eq!(r.code, 2, "fail-on {fail_on}: {}", r.stdout);
        assert!(
            r.stdout
                .contains("::error title=kustodian::could not evaluate the repository (exit 2)"),
            "{}",
            r.stdout
        );
        assert!(r.outputs.contains("errors="), "{}", r.outputs);
    }
}

#[test]
fn clean_repo_passes_with_a_summary() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config");
    let r = run_action(&repo, &[("base", "none")]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.outputs.contains("findings=0\n"));
    assert!(r.summary.contains("No findings"));
}

#[test]
fn pull_request_event_base_enables_pull_request_mode() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config"),
        r,
    );
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "base"]);
    let base = git(r, &["rev-parse", "HEAD"]);
    // The PR sets a digest in staging and production at once: digest-not-promoted.
    for env in ["staging", "production"] {
        let p = r.join(format!(
            "apps/api-service/overlays/{env}/kustomization.yaml"
        ));
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("9f86d081", "0f86d081");
        std::fs::write(p, text).unwrap();
    }
    let event = format!(r#"{{"pull_request":{{"number":7,"base":{{"sha":"{base}"}}}}}}"#);
    let run = run_action_with_event(r, &[], &event);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("title=digest-not-promoted"),
        "{}",
        run.stdout
    );
    assert!(run.summary.contains("Rendered changes"), "{}", run.summary);
}

#[test]
fn release_install_verifies_the_checksum() {
    // A fake release: the binary under test packed as the action expects, served from file://.
    let rel = tempfile::tempdir().unwrap();
    let arch = String::from_utf8(Command::new("uname").arg("-m").output().unwrap().stdout).unwrap();
    let archive = format!("kustodian-v9.9.9-{}-unknown-linux-musl.tar.gz", arch.trim());
    std::fs::create_dir_all(rel.path().join("v9.9.9")).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kustodian")).parent().unwrap();
    let st = Command::new("tar")
        .args([
            "-czf",
            rel.path().join("v9.9.9").join(&archive).to_str().unwrap(),
            "-C",
            bin_dir.to_str().unwrap(),
            "kustodian",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let sum = Command::new("sha256sum")
        .arg(rel.path().join("v9.9.9").join(&archive))
        .output()
        .unwrap();
    let sum = String::from_utf8(sum.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let env = vec![(
        "KUSTODIAN_RELEASE_BASE_URL".to_string(),
        format!("file://{}", rel.path().display()),
    )];
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/image-not-pinned/fail");
    let ok = run_action_full(
        &repo,
        &[("version", "v9.9.9"), ("checksum", &sum), ("base", "none")],
        "{}",
        env.clone(),
    );
    assert_eq!(ok.code, 1, "installed and ran the check: {}", ok.stdout);
    assert!(ok.stdout.contains("image-not-pinned"));
    let bad = run_action_full(
        &repo,
        &[
            ("version", "v9.9.9"),
            ("checksum", &"0".repeat(64)),
            ("base", "none"),
        ],
        "{}",
        env.clone(),
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stdout.contains("checksum mismatch"), "{}", bad.stdout);
    let missing = run_action_full(&repo, &[("version", "v9.9.9"), ("base", "none")], "{}", env);
    assert_eq!(missing.code, 2);
}
