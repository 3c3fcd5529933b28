//! The pre-commit hook, run by the real `pre-commit` (installed from PyPI into a temp venv) on
//! real git repositories: it fails on a violating config repo and passes on a clean one.
//! Skipped with a message when PyPI cannot be reached or this checkout is not a git repository.
//!
//! Both hooks are exercised: `kustodian-system` (the binary under test on PATH) and `kustodian`
//! (`language: rust`: pre-commit runs `cargo install` on this repository — without `--locked` —
//! in its own environment, so this also proves the crate builds with the newest compatible
//! dependencies).

mod common;
use common::{copy_dir, git, skip};

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn pre_commit_runs_the_hook() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(project)
        .output();
    let Some(rev) = head
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    else {
        skip(
            "pre_commit_runs_the_hook",
            &format!("{} is not a git checkout", project.display()),
        );
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let venv = t.path().join("venv");
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "pre-commit"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        skip(
            "pre_commit_runs_the_hook",
            "could not install pre-commit from PyPI",
        );
        return;
    }
    let bin_dir: PathBuf = Path::new(env!("CARGO_BIN_EXE_kustodian"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let hook_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(
            || project.join("target"),
            |d| if d.is_absolute() { d } else { project.join(d) },
        )
        .join("pre-commit-hook");
    let run = |fixture: &str, hook: &str| -> (i32, String) {
        let repo = t
            .path()
            .join(format!("{hook}-{}", fixture.replace('/', "_")));
        copy_dir(&project.join(fixture), &repo);
        std::fs::write(
            repo.join(".pre-commit-config.yaml"),
            format!(
                "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: {hook}\n",
                project.display()
            ),
        )
        .unwrap();
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "config"]);
        let out = Command::new(venv.join("bin/pre-commit"))
            .args(["run", "--all-files"])
            .current_dir(&repo)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", t.path().join("pre-commit-home"))
            // The rust hook's `cargo install` reuses one build directory across runs, inside the
            // target directory the suite itself builds in.
            .env("CARGO_TARGET_DIR", &hook_target)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    for hook in ["kustodian-system", "kustodian"] {
        let (code, out) = run("fixtures/rules/image-not-pinned/fail", hook);
        assert_eq!(code, 1, "{hook}: {out}");
        assert!(out.contains("image-not-pinned"), "{hook}: {out}");
        let (code, out) = run("fixtures/gitops-config", hook);
        assert_eq!(code, 0, "{hook}: {out}");
    }
}
