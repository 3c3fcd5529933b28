//! Helpers shared by the integration tests: real files and real git repositories in temp dirs.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Writes a file, creating its directories.
pub(crate) fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Runs git with a fixed identity; panics on failure; returns trimmed stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Says on the terminal — past the test harness's output capture, which hides what a passing
/// test prints — that a test did not run, and why. Under CI (`CI=true`) a missing tool is a
/// failure instead: `.ci/run` installs everything the tests drive.
pub(crate) fn skip(test: &str, why: &str) {
    use std::io::Write;
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} cannot run: {why} (.ci/run installs what the tests need)");
    }
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Whether `python3` can import `module`.
pub(crate) fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `python3 -c script args…` and returns its stdout; panics with its stderr on failure.
pub(crate) fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kustodian binary under test, run in `dir` with no GitHub Actions environment, and with
/// git's search for a work tree stopped at `dir`'s parent: a fixture inside this repository is
/// then its own repository, as it would be in a user's checkout.
pub(crate) fn kustodian_in(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kustodian"));
    cmd.current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE");
    if let Some(parent) = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf))
    {
        cmd.env("GIT_CEILING_DIRECTORIES", parent);
    }
    cmd
}

/// The project's shared folder with the kustomize conformance corpus: `$KUSTODIAN_SHARED`, else
/// `../shared` beside this checkout. The tests that need it are `#[ignore]`d (cargo lists them
/// as ignored rather than passing them without it); `scripts/test` runs them with `--ignored`
/// when it is there. Run by hand without it, they fail saying so.
pub(crate) fn shared_dir() -> std::path::PathBuf {
    let candidates = [
        std::env::var_os("KUSTODIAN_SHARED").map(std::path::PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("conformance/run").exists())
        .expect(
            "the conformance corpus is not here: set KUSTODIAN_SHARED to the project's shared folder (see CONTRIBUTING.md)",
        )
}

/// A config repository shaped like kostis-codefresh/gitops-environment-promotion, committed on
/// `main`: one `base/`, environments `envs/<env>` (staging-us, prod-us, staging-eu, prod-eu)
/// that each patch their own settings and version, and `variants/` components per stage
/// (`prod`, `non-prod`) and region (`us`, `eu`). At the start, prod-us sets two values its
/// staging counterpart does not (`UI_THEME`, `N_BUCKETS`: drift on `main`) and every image is a
/// tag (not pinned); the eu pair agrees.
pub(crate) fn stage_variants_repo(root: &Path) {
    let deployment = |body: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n{body}")
    };
    write(
        root,
        "base/kustomization.yml",
        "resources:\n- deployment.yml\n",
    );
    write(
        root,
        "base/deployment.yml",
        &deployment(
            "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n        resources:\n          limits: {cpu: 100m, memory: 64Mi}\n",
        ),
    );
    let env_patch = |pairs: &[(&str, &str)]| {
        let env: String = pairs
            .iter()
            .map(|(k, v)| format!("        - name: {k}\n          value: \"{v}\"\n"))
            .collect();
        deployment(&format!(
            "  template:\n    spec:\n      containers:\n      - name: web\n        env:\n{env}"
        ))
    };
    for (variant, pairs) in [
        (
            "prod",
            &[("ENV_TYPE", "production"), ("DB_USER", "prod_user")][..],
        ),
        (
            "non-prod",
            &[("ENV_TYPE", "non-prod"), ("DB_USER", "test_user")][..],
        ),
        ("us", &[("REGION", "us")][..]),
        ("eu", &[("REGION", "eu")][..]),
    ] {
        write(
            root,
            &format!("variants/{variant}/kustomization.yml"),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- path: patch.yml\n",
        );
        write(
            root,
            &format!("variants/{variant}/patch.yml"),
            &env_patch(pairs),
        );
    }
    for (env, stage, region, theme, buckets, tag) in [
        ("staging-us", "non-prod", "us", "light", "24", "2.0"),
        ("prod-us", "prod", "us", "dark", "42", "1.0"),
        ("staging-eu", "non-prod", "eu", "dark", "42", "2.0"),
        ("prod-eu", "prod", "eu", "dark", "42", "1.0"),
    ] {
        write(
            root,
            &format!("envs/{env}/kustomization.yml"),
            &format!(
                "namespace: {}\nnamePrefix: {env}-\nresources:\n- ../../base\ncomponents:\n- ../../variants/{stage}\n- ../../variants/{region}\npatches:\n- path: settings.yml\n- path: version.yml\n",
                if stage == "prod" { "prod" } else { "staging" }
            ),
        );
        write(
            root,
            &format!("envs/{env}/settings.yml"),
            &env_patch(&[
                ("ENV", env),
                ("UI_THEME", theme),
                ("CACHE_SIZE", "1024kb"),
                ("N_BUCKETS", buckets),
            ]),
        );
        write(
            root,
            &format!("envs/{env}/version.yml"),
            &deployment(&format!(
                "  template:\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:{tag}\n"
            )),
        );
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "environments"]);
}

/// Replaces the first `from` in a file with `to` (which must be there).
pub(crate) fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let p = root.join(path);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{path} lacks {from:?}");
    std::fs::write(p, text.replacen(from, to, 1)).unwrap();
}
