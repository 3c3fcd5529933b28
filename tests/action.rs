//! Runs every `run:` step of `action.yml` exactly as the runner runs a `shell: bash` step (the
//! script in a file, `bash --noprofile --norc -eo pipefail {0}`) with a simulated GitHub runner
//! environment (GITHUB_ACTIONS, GITHUB_EVENT_PATH, GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH,
//! GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH, RUNNER_TEMP) against fixture repos, and checks
//! annotations, outputs, the step summary, the SARIF file, the exit status `fail-on` asks for,
//! the build cache key, and the install step against a local release made by the release
//! scripts exactly as the release workflow makes it.

mod common;
use common::{copy_dir, git};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    env: String,
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
    run_steps(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        repo,
        with,
        event_json,
        extra_env,
    )
}

/// Runs the `run:` steps of `<action_root>/action.yml` in `repo`, as the runner does.
fn run_steps(
    root: &Path,
    repo: &Path,
    with: &[(&str, &str)],
    event_json: &str,
    extra_env: Vec<(String, String)>,
) -> Run {
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
            .env("KUSTODIAN_BIN", env!("CARGO_BIN_EXE_kustodian"))
            // The checked-out repository is a repository of its own, as on a runner (fixtures
            // live inside this one).
            .env("GIT_CEILING_DIRECTORIES", repo.parent().unwrap_or(repo));
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
        env: std::fs::read_to_string(tmp.path().join("GITHUB_ENV")).unwrap(),
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

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A release laid out as .github/workflows/release.yml lays it out, by the same scripts:
/// `<base>/<tag>/kustodian-<tag>-<platform>.tar.gz` for every platform (this machine's holding
/// the binary under test) and `<base>/<tag>/SHA256SUMS`, served from `file://`.
fn local_release(dir: &Path, tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join(tag);
    // The binary under test without its debug info (a fraction of the size: four archives of
    // it are packed).
    let bin = dir.join("kustodian");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&bin)
        .arg(env!("CARGO_BIN_EXE_kustodian"))
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(env!("CARGO_BIN_EXE_kustodian"), &bin).unwrap();
    }
    for platform in [
        "x86_64-linux",
        "aarch64-linux",
        "x86_64-macos",
        "aarch64-macos",
    ] {
        let st = Command::new(root.join("scripts/package-release"))
            .args([tag, platform])
            .arg(&bin)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    let st = Command::new(root.join("scripts/release-sums"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success());
    out
}

fn this_platform() -> String {
    let m = String::from_utf8(Command::new("uname").arg("-m").output().unwrap().stdout).unwrap();
    let arch = match m.trim() {
        "arm64" => "aarch64",
        a => a,
    }
    .to_string();
    let os = if cfg!(target_os = "macos") {
        "macos"
    } else {
        "linux"
    };
    format!("{arch}-{os}")
}

#[test]
fn release_install_verifies_the_checksum() {
    let rel = tempfile::tempdir().unwrap();
    let dir = local_release(rel.path(), "v9.9.9");
    let archive = dir.join(format!("kustodian-v9.9.9-{}.tar.gz", this_platform()));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in [
        "kustodian",
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "kustodian.1",
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l == format!("kustodian-v9.9.9-{}/{f}", this_platform())),
            "{f} in {listing}"
        );
    }
    let env = vec![(
        "KUSTODIAN_RELEASE_BASE_URL".to_string(),
        format!("file://{}", rel.path().display()),
    )];
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/image-not-pinned/fail");
    let install = |checksum: &str| {
        run_action_full(
            &repo,
            &[
                ("version", "v9.9.9"),
                ("checksum", checksum),
                ("base", "none"),
            ],
            "{}",
            env.clone(),
        )
    };
    // Pinned by the SHA256SUMS file (one value for every platform), or by the archive itself.
    for pin in [
        sha256(&dir.join("SHA256SUMS")),
        sha256(&archive).to_uppercase(),
    ] {
        let ok = install(&pin);
        assert_eq!(ok.code, 1, "installed and ran the check: {}", ok.stdout);
        assert!(ok.stdout.contains("image-not-pinned"));
        assert!(ok.env.contains("KUSTODIAN_BIN="), "{}", ok.env);
        let installed = ok
            .env
            .lines()
            .find_map(|l| l.strip_prefix("KUSTODIAN_BIN="))
            .unwrap();
        assert_ne!(installed, env!("CARGO_BIN_EXE_kustodian"));
    }
    let bad = install(&"0".repeat(64));
    assert_eq!(bad.code, 2);
    assert!(bad.stdout.contains("checksum mismatch"), "{}", bad.stdout);
    let missing = install("");
    assert_eq!(missing.code, 2);
    assert!(
        missing.stdout.contains("needs 'checksum'"),
        "{}",
        missing.stdout
    );
    // An archive that is not the one SHA256SUMS lists is refused, whatever was pinned.
    let pinned = sha256(&archive);
    std::fs::write(&archive, b"not the release").unwrap();
    let tampered = install(&pinned);
    assert_eq!(tampered.code, 2);
    assert!(
        tampered
            .stdout
            .contains("does not match the release's SHA256SUMS"),
        "{}",
        tampered.stdout
    );
    let gone = run_action_full(
        &repo,
        &[
            ("version", "v0.0.1"),
            ("checksum", &pinned),
            ("base", "none"),
        ],
        "{}",
        env,
    );
    assert_eq!(gone.code, 2);
    assert!(
        gone.stdout.contains("could not download"),
        "{}",
        gone.stdout
    );
}

/// The build cache key follows the action's source: its commit when it is a clean checkout, else
/// (the runner unpacks actions from an archive, without .git) the content of what the build reads.
#[test]
fn the_build_cache_key_follows_the_actions_source() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let t = tempfile::tempdir().unwrap();
    let action = t.path().join("action");
    std::fs::create_dir_all(&action).unwrap();
    for f in ["action.yml", "Cargo.toml", "Cargo.lock", "build.rs"] {
        std::fs::copy(project.join(f), action.join(f)).unwrap();
    }
    for d in ["src", "policies", "schemas"] {
        copy_dir(&project.join(d), &action.join(d));
    }
    // The install and check steps use the binary under test; only the key matters here.
    let key = |action: &Path| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config");
        let r = run_steps(action, &repo, &[("base", "none")], "{}", vec![]);
        assert_eq!(r.code, 0, "{}", r.stdout);
        r.outputs
            .lines()
            .find_map(|l| l.strip_prefix("key="))
            .unwrap_or_else(|| panic!("no key in {}", r.outputs))
            .to_string()
    };
    // An unpacked archive: keyed on content.
    let a = key(&action);
    assert!(a.contains("-source-"), "{a}");
    assert_eq!(a, key(&action), "stable");
    let lib = action.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{text}\n// changed\n")).unwrap();
    let b = key(&action);
    assert_ne!(a, b, "a source change is a new key");
    // A clean checkout: keyed on its commit, a new key per commit.
    git(&action, &["init", "-q", "-b", "main"]);
    git(&action, &["add", "."]);
    git(&action, &["commit", "-q", "-m", "one"]);
    let c = key(&action);
    assert_eq!(
        c,
        format!(
            "kustodian-local-local-commit-{}",
            git(&action, &["rev-parse", "HEAD"])
        )
    );
    git(&action, &["commit", "-q", "--allow-empty", "-m", "two"]);
    let d = key(&action);
    assert_ne!(c, d);
    // The cache step uses it.
    let yml = std::fs::read_to_string(project.join("action.yml")).unwrap();
    assert!(yml.contains("key: ${{ steps.cache-key.outputs.key }}"));
}

/// Pull-request mode on an image-only promotion while drift already exists on the base branch:
/// the existing findings are notices, the step passes and says how many are new and existing;
/// `fail-on: error,all` fails it.
#[test]
fn existing_findings_are_notices_and_pass_unless_fail_on_all() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path();
    common::stage_variants_repo(repo);
    let base = git(repo, &["rev-parse", "HEAD"]);
    common::edit(repo, "envs/prod-us/version.yml", "web:1.0", "web:2.0");
    let event = format!(r#"{{"pull_request":{{"number":7,"base":{{"sha":"{base}"}}}}}}"#);
    let r = run_action_with_event(repo, &[], &event);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.contains("::error "), "{}", r.stdout);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("::notice ")
            && l.contains("title=promotion-drift (.")
            && l.contains("::existing error (the base revision has it too): ")),
        "{}",
        r.stdout
    );
    let existing: usize = r
        .outputs
        .lines()
        .find_map(|l| l.strip_prefix("existing="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.outputs));
    assert!(existing >= 3, "{}", r.outputs);
    assert!(r.outputs.contains("\nnew=0\n"), "{}", r.outputs);
    assert!(
        r.summary.contains(&format!(
            "✅ **0 new, {existing} existing**: No new findings"
        )),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("<details><summary>"), "{}", r.summary);
    let r = run_action_with_event(repo, &[("fail-on", "error,all")], &event);
    assert_eq!(r.code, 1, "{}", r.stdout);
}

/// The `remote` input: the default (`cache`) fetches nothing and fails at the line of an
/// uncached remote base saying how to fetch it; `fetch` fetches as the check renders; then the
/// cache alone serves it (the source gone); `deny` refuses it.
#[test]
fn remote_input_chooses_how_remote_bases_are_had() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let upstream = root.join("upstream");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/remote/upstream"),
        &upstream,
    );
    git(&upstream, &["init", "-q"]);
    git(&upstream, &["add", "-A"]);
    git(&upstream, &["commit", "-qm", "base"]);
    git(&upstream, &["tag", "v1"]);
    let repo = root.join("repo");
    common::write(
        &repo,
        "web/overlays/production/kustomization.yaml",
        &format!("resources:\n- file://{}//base?ref=v1\n", upstream.display()),
    );
    git(&repo, &["init", "-q"]);
    let env = || {
        vec![(
            "KUSTODIAN_CACHE_DIR".to_string(),
            root.join("cache").display().to_string(),
        )]
    };
    let event = r#"{}"#;
    let cached = run_action_full(&repo, &[], event, env());
    assert_eq!(cached.code, 2, "{}", cached.stdout);
    let at = "::error file=web/overlays/production/kustomization.yaml,line=2";
    let line = cached
        .stdout
        .lines()
        .find(|l| l.starts_with(at))
        .unwrap_or_else(|| panic!("{}", cached.stdout));
    assert!(line.contains("kustodian fetch"), "{line}");
    let fetched = run_action_full(&repo, &[("remote", "fetch")], event, env());
    assert_ne!(fetched.code, 2, "{}", fetched.stdout);
    assert!(fetched.outputs.contains("errors="), "{}", fetched.outputs);
    assert!(
        !fetched.stdout.contains("render-error"),
        "{}",
        fetched.stdout
    );
    std::fs::rename(&upstream, root.join("gone")).unwrap();
    let again = run_action_full(&repo, &[], event, env());
    assert_eq!(again.code, fetched.code, "{}", again.stdout);
    let denied = run_action_full(&repo, &[("remote", "deny")], event, env());
    assert_eq!(denied.code, 2, "{}", denied.stdout);
    assert!(denied.stdout.contains("--remote deny"), "{}", denied.stdout);
}
