//! Conventions users bring from other command-line tools, each checked with the real client:
//! shell completions loaded into a real bash, the man page formatted by `man`/groff, FORCE_COLOR /
//! CLICOLOR_FORCE / NO_COLOR, `--quiet`, `--fail-on`, `--kubernetes-version`, and `-o FORMAT`
//! (an output file in kustodian, a format in kubeconform and conftest) refused with a hint.

mod common;
use common::{kustodian_in, skip};

use std::path::Path;
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    manifest_dir().join("fixtures").join(name)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let bin = env!("CARGO_BIN_EXE_kustodian");
    let script = format!(
        r#"
source <("{bin}" completions bash)
complete -p kustodian
COMP_WORDS=(kustodian ch); COMP_CWORD=1; COMP_LINE="kustodian ch"; COMP_POINT=12
_kustodian kustodian ch kustodian
echo "subcommands: ${{COMPREPLY[*]}}"
COMP_WORDS=(kustodian check --fail); COMP_CWORD=2; COMP_LINE="kustodian check --fail"; COMP_POINT=22
_kustodian kustodian --fail check
echo "flags: ${{COMPREPLY[*]}}"
COMP_WORDS=(kustodian check --format ''); COMP_CWORD=3; COMP_LINE="kustodian check --format "; COMP_POINT=25
_kustodian kustodian '' --format
echo "formats: ${{COMPREPLY[*]}}"
"#
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &script])
        .output()
        .unwrap();
    let stdout = text(&out);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("-F _kustodian kustodian"), "{stdout}");
    assert!(stdout.contains("subcommands: check"), "{stdout}");
    assert!(stdout.contains("flags: --fail-on"), "{stdout}");
    let formats = stdout.lines().find(|l| l.starts_with("formats:")).unwrap();
    for f in ["human", "github", "json", "sarif", "junit", "gitlab"] {
        assert!(formats.contains(f), "{formats}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(bin)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
}

#[test]
fn the_man_page_formats_with_man() {
    let page = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .arg("man")
        .output()
        .unwrap();
    assert!(page.status.success());
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("kustodian.1");
    std::fs::write(&file, &page.stdout).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    // `man` where it is installed, else groff (which man drives) on its own.
    let out = match out {
        Ok(o) if o.status.success() => o,
        _ => match Command::new("groff")
            .args(["-man", "-Tutf8"])
            .arg(&file)
            .output()
        {
            Ok(o) if o.status.success() => o,
            _ => {
                skip(
                    "the_man_page_formats_with_man",
                    "neither man nor groff is installed (apt-get install man-db)",
                );
                return;
            }
        },
    };
    let shown = text(&out);
    for needle in [
        "NAME",
        "kustodian",
        "SUBCOMMANDS",
        "merge-reports",
        "completions",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
}

#[test]
fn force_color_clicolor_force_and_no_color() {
    let repo = fixture("rules/image-not-pinned/fail");
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = kustodian_in(&repo);
        cmd.args(["check", "."]).args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        text(&cmd.output().unwrap())
    };
    let colored = |s: &str| s.contains("\u{1b}[");
    // Piped stdout: plain by default.
    assert!(!colored(&run(&[], &[])));
    assert!(colored(&run(&[("FORCE_COLOR", "1")], &[])));
    assert!(colored(&run(&[("CLICOLOR_FORCE", "1")], &[])));
    assert!(!colored(&run(&[("FORCE_COLOR", "0")], &[])));
    assert!(colored(&run(
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")],
        &[]
    )));
    assert!(!colored(&run(
        &[("FORCE_COLOR", "1")],
        &["--color", "never"]
    )));
    assert!(!colored(&run(&[("NO_COLOR", "1")], &["--color", "auto"])));
    assert!(colored(&run(&[("NO_COLOR", "1")], &["--color", "always"])));
}

#[test]
fn quiet_prints_findings_only() {
    let clean = kustodian_in(&fixture("gitops-config"))
        .args(["check", ".", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(text(&clean), "");
    let failing = kustodian_in(&fixture("rules/image-not-pinned/fail"))
        .args(["check", ".", "-q"])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(1));
    let out = text(&failing);
    assert!(out.contains("image-not-pinned"), "{out}");
    assert!(!out.contains("✖"), "no summary line: {out}");
    let gh = kustodian_in(&fixture("rules/image-not-pinned/fail"))
        .args(["check", ".", "-q", "--format", "github"])
        .output()
        .unwrap();
    assert!(!text(&gh).contains("kustodian: 1 error"), "{}", text(&gh));
}

#[test]
fn fail_on_chooses_what_fails() {
    let code = |fixture_name: &str, fail_on: Option<&str>| {
        let mut cmd = kustodian_in(&fixture(fixture_name));
        cmd.args(["check", ".", "--format", "json"]);
        if let Some(f) = fail_on {
            cmd.args(["--fail-on", f]);
        }
        cmd.output().unwrap().status.code()
    };
    let warnings = "rules/resource-limits-missing/fail";
    let errors = "rules/image-not-pinned/fail";
    assert_eq!(code(warnings, None), Some(0));
    assert_eq!(code(warnings, Some("error")), Some(0));
    assert_eq!(code(warnings, Some("warning")), Some(1));
    assert_eq!(code(errors, Some("warning")), Some(1));
    assert_eq!(code(errors, Some("never")), Some(0));
    assert_eq!(code("gitops-config", Some("warning")), Some(0));
    // Could not evaluate stays 2 whatever fail-on says.
    let t = tempfile::tempdir().unwrap();
    common::write(
        t.path(),
        "apps/a/overlays/production/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let out = kustodian_in(t.path())
        .args(["check", ".", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_output_file_named_like_a_format_is_refused_with_a_hint() {
    let t = tempfile::tempdir().unwrap();
    let repo = fixture("rules/image-not-pinned/fail");
    let out = kustodian_in(t.path())
        .arg("check")
        .arg(&repo)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `--format json`"), "{err}");
    assert!(!t.path().join("json").exists());
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(["merge-reports", "a.json", "--output", "sarif"])
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format sarif"));
    // A path is a path.
    let out = kustodian_in(&repo)
        .args(["check", ".", "--format", "json", "-o", "./json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(repo.join("json").exists());
    std::fs::remove_file(repo.join("json")).unwrap();
}

#[test]
fn kubernetes_version_chooses_the_bundled_schemas() {
    // DeviceClass (resource.k8s.io/v1) is in Kubernetes 1.34 and later, not in 1.29.
    let manifest =
        "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata:\n  name: gpu\nspec: {}\n";
    let check = |version: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args([
                "check",
                "--format",
                "json",
                "--kubernetes-version",
                version,
                "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(manifest.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        )
    };
    let rules = |j: &serde_json::Value| -> Vec<String> {
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let (code, j) = check("1.37");
    assert_eq!(code, Some(0), "{j}");
    assert!(!rules(&j).contains(&"schema-missing".to_string()), "{j}");
    let (_, j) = check("1.29");
    assert!(rules(&j).contains(&"schema-missing".to_string()), "{j}");
    let (code, j) = check("1.12");
    assert_eq!(code, Some(2), "{j}");
    assert!(
        j["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1.29"),
        "{j}"
    );
    // Every minor version from 1.29 to 1.37 is bundled.
    let list = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(["schemas", "list"])
        .output()
        .unwrap();
    let list = text(&list);
    for minor in 29..=37 {
        assert!(list.contains(&format!("Kubernetes 1.{minor}:")), "{list}");
    }
}
