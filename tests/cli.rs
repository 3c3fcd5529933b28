//! The binary as users run it: subcommands, exit codes, bad input, and each output format, on real
//! repositories written to temp dirs.

mod common;
use common::write;

use std::path::Path;
use std::process::{Command, Output};

/// kustodian in `dir`. Git's search for a work tree stops above each fixture: a fixture checked
/// from this repository is a config repository of its own, as in a user's checkout.
fn kustodian(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("GIT_CEILING_DIRECTORIES", fixture_ceilings())
        .output()
        .unwrap()
}

/// Every directory holding fixture repositories.
fn fixture_ceilings() -> std::ffi::OsString {
    let f = manifest_dir().join("fixtures");
    std::env::join_paths(
        [f.clone(), f.join("rules")].into_iter().chain(
            std::fs::read_dir(f.join("rules"))
                .unwrap()
                .map(|e| e.unwrap().path()),
        ),
    )
    .unwrap()
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn rules_explain_and_usage_errors() {
    let out = kustodian(&["rules"], manifest_dir());
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for r in kustodian::rules::registry() {
        assert!(text.contains(r.id), "{text}");
    }
    for c in kustodian::diag::ErrorCode::ALL {
        assert!(text.contains(c.id()), "{text}");
    }
    let out = kustodian(&["explain", "image-not-pinned"], manifest_dir());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("**Fix.**"));
    let out = kustodian(&["explain", "no-such-rule"], manifest_dir());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known rules"));
    let out = kustodian(&["check", "--format", "xml"], manifest_dir());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn example_repo_is_clean() {
    let out = kustodian(&["check", "fixtures/gitops-config"], manifest_dir());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no findings in 8 overlays"));
}

/// A repo where each app is broken in a different way, plus one with a real violation.
fn broken_repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let ok_base = "resources:\n- d.yaml\n";
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.25\n        resources:\n          limits: {cpu: 1, memory: 1Gi}\n";
    for app in ["yaml", "missing", "cycle", "escape", "violation", "strict"] {
        write(r, &format!("apps/{app}/base/kustomization.yaml"), ok_base);
        write(r, &format!("apps/{app}/base/d.yaml"), dep);
    }
    write(
        r,
        "apps/yaml/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n- bad.yaml\n",
    );
    write(
        r,
        "apps/yaml/overlays/production/bad.yaml",
        "kind: ConfigMap\nmetadata: {name: x\n",
    );
    write(
        r,
        "apps/missing/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n- nothere.yaml\n",
    );
    write(
        r,
        "apps/cycle/overlays/production/kustomization.yaml",
        "resources:\n- ../staging\n",
    );
    write(
        r,
        "apps/cycle/overlays/staging/kustomization.yaml",
        "resources:\n- ../production\n",
    );
    write(
        r,
        "apps/escape/overlays/production/kustomization.yaml",
        "resources:\n- ../../../../../../etc\n",
    );
    write(
        r,
        "apps/violation/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    // Decodes as kustomize decodes it: a number where a string belongs is refused.
    write(
        r,
        "apps/strict/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\nimages:\n- name: nginx\n  newTag: 1.25\n",
    );
    // A base every overlay includes, broken once: one finding naming all three environments.
    write(
        r,
        "apps/shared/base/kustomization.yaml",
        "resources:\n- d.yaml\n- ../../missing-everywhere.yaml\n",
    );
    write(r, "apps/shared/base/d.yaml", dep);
    for env in ["dev", "staging", "production"] {
        write(
            r,
            &format!("apps/shared/overlays/{env}/kustomization.yaml"),
            "resources:\n- ../../base\n",
        );
    }
    // A file inside the overlay that is a symlink to one outside the repository.
    write(r, "apps/symlink/base/kustomization.yaml", ok_base);
    write(r, "apps/symlink/base/d.yaml", dep);
    write(
        r,
        "apps/symlink/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n- leak.yaml\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "/etc/passwd",
        r.join("apps/symlink/overlays/production/leak.yaml"),
    )
    .unwrap();
    t
}

#[test]
fn bad_input_exits_2_with_locations_and_keeps_other_findings() {
    let t = broken_repo();
    let out = kustodian(&["check", ".", "--format", "json"], t.path());
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let render: Vec<String> = findings
        .iter()
        .filter(|f| f["rule"] == "render-error")
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["app"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap_or("-"),
                f["location"]["line"],
                f["message"]
            )
        })
        .collect();
    let has = |app: &str, file_line: &str, text: &str| {
        assert!(
            render
                .iter()
                .any(|l| l.starts_with(&format!("{app} {file_line}")) && l.contains(text)),
            "no {app} {file_line} '{text}' in {render:#?}"
        );
    };
    has(
        "yaml",
        "apps/yaml/overlays/production/bad.yaml:2",
        "invalid YAML",
    );
    has(
        "missing",
        "apps/missing/overlays/production/kustomization.yaml:3",
        "nothere.yaml",
    );
    has("cycle", "apps/cycle/overlays/", "cycle");
    has(
        "escape",
        "apps/escape/overlays/production/kustomization.yaml:2",
        "outside the repository root",
    );
    has(
        "strict",
        "apps/strict/overlays/production/kustomization.yaml:5",
        "'images[0].newTag' must be a string",
    );
    #[cfg(unix)]
    has(
        "symlink",
        "apps/symlink/overlays/production/kustomization.yaml:3",
        "resolves outside the repository root",
    );
    let shared: Vec<_> = findings.iter().filter(|f| f["app"] == "shared").collect();
    assert_eq!(shared.len(), 1, "{shared:#?}");
    assert_eq!(shared[0]["environment"], "dev, staging, production");
    assert_eq!(
        shared[0]["location"]["file"],
        "apps/shared/base/kustomization.yaml"
    );
    // The healthy app is still checked and its violation reported.
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "image-not-pinned" && f["app"] == "violation")
    );
}

#[test]
fn github_format_escapes_orders_and_writes_the_step_summary() {
    let t = broken_repo();
    let summary = t.path().join("summary.md");
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(["check", "."])
        .current_dir(t.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert!(!lines.is_empty());
    // Errors first; every property value escaped (no raw ',' or ':' inside values).
    assert!(lines[0].starts_with("::error "));
    for l in &lines {
        assert!(!l.contains('\n'));
        let props = &l[l.find(' ').unwrap() + 1..l[2..].find("::").unwrap() + 2];
        for p in props.split(',') {
            let (_k, v) = p.split_once('=').unwrap();
            assert!(!v.contains(':'), "unescaped ':' in {p}");
        }
    }
    assert!(
        text.contains("file=apps/violation/overlays/production/kustomization.yaml")
            || text.contains("file=apps/violation/base/d.yaml")
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| Severity | Rule |"));
    assert!(md.contains("image-not-pinned"));
    assert!(md.contains("render-error"));
}

#[test]
fn escaping_rules() {
    use kustodian::report::github::{escape_data, escape_property};
    assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
    assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
}

#[test]
fn sarif_has_required_fields_and_stable_fingerprints() {
    let dir = manifest_dir().join("fixtures/rules/image-not-pinned/fail");
    let run = || {
        let out = kustodian(
            &["check", dir.to_str().unwrap(), "--format", "sarif"],
            manifest_dir(),
        );
        assert_eq!(out.status.code(), Some(1));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let a = run();
    let b = run();
    assert_eq!(a["version"], "2.1.0");
    let run0 = &a["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        for k in ["id", "shortDescription", "fullDescription", "help"] {
            assert!(!r[k].is_null(), "rule lacks {k}: {r}");
        }
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
    }
    let res = &run0["results"][0];
    assert_eq!(res["ruleId"], "image-not-pinned");
    let idx = res["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "image-not-pinned");
    let region = &res["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 6);
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "apps/shop/overlays/production/kustomization.yaml"
    );
    let fp = &res["partialFingerprints"]["primaryLocationLineHash"];
    assert!(fp.as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        fp,
        &b["runs"][0]["results"][0]["partialFingerprints"]["primaryLocationLineHash"]
    );
}

#[test]
fn render_matches_and_fails_cleanly() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "k/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let out = kustodian(&["render", "k"], t.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no partial output on error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("missing.yaml") && err.contains("kustomization.yaml:2"),
        "{err}"
    );
}

#[test]
fn render_many_overlays_in_one_run() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join(".git")).unwrap();
    write(
        t.path(),
        "base/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    write(
        t.path(),
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n",
    );
    for env in ["dev", "prod"] {
        write(
            t.path(),
            &format!("{env}/kustomization.yaml"),
            &format!("resources:\n- ../base\nnamePrefix: {env}-\n"),
        );
    }
    write(
        t.path(),
        "broken/kustomization.yaml",
        "resources:\n- nope.yaml\n",
    );
    // One directory: exactly kustomize's output, no header.
    let one = kustodian(&["render", "dev"], t.path());
    assert_eq!(one.status.code(), Some(0));
    let one = String::from_utf8(one.stdout).unwrap();
    assert!(
        one.starts_with("apiVersion: v1\n") && one.contains("name: dev-c"),
        "{one}"
    );
    // Several: each after its source line, in the order given; a broken one is reported on
    // stderr without hiding the others, and the exit code says so.
    let many = kustodian(&["render", "prod", "broken", "dev"], t.path());
    assert_eq!(many.status.code(), Some(2));
    let text = String::from_utf8(many.stdout).unwrap();
    assert_eq!(
        text,
        format!(
            "# Source: prod\n{}---\n# Source: dev\n{one}",
            one.replace("dev-c", "prod-c")
        )
    );
    let err = String::from_utf8_lossy(&many.stderr);
    assert!(err.contains("nope.yaml"), "{err}");
}

#[test]
fn output_file_is_written_atomically_and_completely() {
    let t = tempfile::tempdir().unwrap();
    let out_path = t.path().join("report.json");
    let sarif = t.path().join("report.sarif");
    let dir = manifest_dir().join("fixtures/rules/promotion-drift/fail");
    let out = kustodian(
        &[
            "check",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--output",
            out_path.to_str().unwrap(),
            "--sarif-output",
            sarif.to_str().unwrap(),
        ],
        manifest_dir(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(report["summary"]["errors"], 2);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 2);
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "temp files left behind: {leftovers:?}");
}

#[test]
fn repo_config_rules_override_the_builtin_policy_and_typos_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let fixture = manifest_dir().join("fixtures/rules/resource-limits-missing/fail/apps");
    let copy = |from: &Path, to: &Path| {
        fn rec(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap() {
                let e = e.unwrap();
                if e.path().is_dir() {
                    rec(&e.path(), &to.join(e.file_name()));
                } else {
                    std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
                }
            }
        }
        rec(from, to);
    };
    copy(&fixture, &t.path().join("apps"));
    // A warning by default: exit 0.
    assert_eq!(kustodian(&["check", "."], t.path()).status.code(), Some(0));
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  resource-limits-missing:\n    severity: error\n",
    );
    assert_eq!(kustodian(&["check", "."], t.path()).status.code(), Some(1));
    write(
        t.path(),
        ".kustodian.yaml",
        "rules:\n  resource-limits-misng:\n    severity: error\n",
    );
    let out = kustodian(&["check", ".", "--format", "json"], t.path());
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "config-error");
    assert_eq!(f["location"]["file"], ".kustodian.yaml");
    assert_eq!(f["location"]["line"], 2);
}

#[test]
fn shards_partition_the_apps_and_merge_back() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    let st = Command::new(manifest_dir().join("scripts/gen-synthetic-repo"))
        .arg("12")
        .arg(&repo)
        .status()
        .unwrap();
    assert!(st.success());
    // Plant one violation so findings have to survive the merge.
    let prod = repo.join("apps/app-0003/overlays/production/kustomization.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("  digest:") {
                "  newTag: 9.9.9"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&prod, text).unwrap();
    let whole = kustodian(
        &["check", repo.to_str().unwrap(), "--format", "json"],
        t.path(),
    );
    let whole: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    let mut paths = Vec::new();
    for i in 1..=3 {
        let p = t.path().join(format!("shard{i}.json"));
        let out = kustodian(
            &[
                "check",
                repo.to_str().unwrap(),
                "--format",
                "json",
                "--shard",
                &format!("{i}/3"),
                "--output",
                p.to_str().unwrap(),
            ],
            t.path(),
        );
        assert!(matches!(out.status.code(), Some(0 | 1)));
        paths.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["merge-reports"];
    args.extend(paths.iter().map(std::string::String::as_str));
    let merged = kustodian(&args, t.path());
    assert_eq!(merged.status.code(), Some(1));
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(
        merged["findings"].as_array().unwrap().len(),
        whole["findings"].as_array().unwrap().len()
    );
    assert_eq!(
        kustodian(&["check", ".", "--shard", "4/3"], t.path())
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_dir().join("tests/data/sarif-2.1.0-rtm.5.json")).unwrap(),
    )
    .unwrap();
    // The published schema's `language` patterns have a stray `]` that strict regex engines
    // reject; use the pattern they intend (a two-letter language, optional region).
    fn fix(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("pattern").and_then(|p| p.as_str())
                    == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$")
                {
                    m.insert(
                        "pattern".into(),
                        serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"),
                    );
                }
                m.values_mut().for_each(fix);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(fix),
            _ => {}
        }
    }
    fix(&mut schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    for dir in [
        "fixtures/rules/image-not-pinned/fail",
        "fixtures/rules/promotion-drift/fail",
        "fixtures/rules/codeowners-missing/fail",
        "fixtures/gitops-config",
        // Waived findings, with `suppressions`.
        "fixtures/rules/unused-suppression/pass",
    ] {
        let out = kustodian(&["check", dir, "--format", "sarif"], manifest_dir());
        let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
            .collect();
        assert!(errors.is_empty(), "{dir}: {errors:#?}");
    }
    // Render errors (no resource, a path but maybe no line) validate too.
    let t = broken_repo();
    let out = kustodian(&["check", ".", "--format", "sarif"], t.path());
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn nothing_to_check_is_an_error_not_a_pass() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "README.md", "not a config repo\n");
    let out = kustodian(&["check", "."], t.path());
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    assert!(text.contains("nothing to check"), "{text}");
    assert!(
        text.contains("environments:"),
        "says how to configure it: {text}"
    );
    // Pull-request mode is not a way around it.
    common::git(t.path(), &["init", "-q", "-b", "main"]);
    common::git(t.path(), &["add", "."]);
    common::git(t.path(), &["commit", "-q", "-m", "one"]);
    let out = kustodian(&["check", ".", "--base", "HEAD"], t.path());
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Environments, none of them production: the production rules would check nothing.
    write(
        t.path(),
        "envs/eu-west/kustomization.yaml",
        "resources: []\n",
    );
    write(
        t.path(),
        "envs/sandbox/kustomization.yaml",
        "resources: []\n",
    );
    let out = kustodian(&["check", "."], t.path());
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    assert!(text.contains("no environment is production"), "{text}");
    assert!(text.contains("eu-west"), "{text}");
    // Naming its stage is enough.
    write(
        t.path(),
        ".kustodian.yaml",
        "stages:\n  eu-west: production\n",
    );
    let out = kustodian(&["check", "."], t.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = kustodian(&["check", "no/such/dir"], t.path());
    assert_eq!(out.status.code(), Some(2));
    let out = kustodian(
        &["check", "fixtures/gitops-config", "--app", "nope"],
        manifest_dir(),
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Inline suppressions and configured exceptions: what they waive leaves the exit code and the
/// totals, stays in JSON and SARIF with its reason; what waives nothing is reported on a full
/// check only; an expired exception always; a bad exception is a config error at its line.
#[test]
fn suppressions_waive_with_a_reason_and_stale_ones_are_reported() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let dep = |image_line: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {{matchLabels: {{app: d}}}}\n  template:\n    metadata: {{labels: {{app: d}}}}\n    spec:\n      containers:\n      - name: c\n{image_line}\n        resources:\n          limits: {{cpu: 1, memory: 1Gi}}\n"
        )
    };
    for app in ["inline", "config", "noreason"] {
        write(
            r,
            &format!("apps/{app}/base/kustomization.yaml"),
            "resources:\n- d.yaml\n",
        );
        write(
            r,
            &format!("apps/{app}/overlays/production/kustomization.yaml"),
            "resources:\n- ../../base\n",
        );
    }
    write(
        r,
        "apps/inline/base/d.yaml",
        &dep(
            "        image: nginx:1.25 # kustodian:ignore[image-not-pinned] upstream tag is immutable",
        ),
    );
    write(
        r,
        "apps/config/base/d.yaml",
        &dep("        image: nginx:1.25"),
    );
    write(
        r,
        "apps/noreason/base/d.yaml",
        &dep("        # kustodian:ignore[image-not-pinned]\n        image: nginx:1.25"),
    );
    let config = "exceptions:\n- rule: image-not-pinned\n  apps: [config]\n  environments: [production]\n  resources: [Deployment/d]\n  reason: mirrored registry pins by tag\n- rule: schema-missing\n  reason: matches nothing\n- rule: promotion-drift\n  reason: was needed once\n  expires: 2020-01-31\n";
    write(r, ".kustodian.yaml", config);

    let out = kustodian(&["check", ".", "--format", "json"], r);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let of = |app: &str, rule: &str| -> Vec<&serde_json::Value> {
        findings
            .iter()
            .filter(|f| f["app"] == app && f["rule"] == rule)
            .collect()
    };
    // Waived: inline (with its comment's place) and by the exception.
    let inline = of("inline", "image-not-pinned");
    assert_eq!(inline.len(), 1);
    assert_eq!(inline[0]["suppressed"]["kind"], "inline");
    assert_eq!(
        inline[0]["suppressed"]["reason"],
        "upstream tag is immutable"
    );
    assert_eq!(inline[0]["suppressed"]["location"]["line"], 12);
    let configured = of("config", "image-not-pinned");
    assert_eq!(configured[0]["suppressed"]["kind"], "exception");
    assert_eq!(configured[0]["suppressed"]["location"]["line"], 2);
    // No reason, no waiver.
    let noreason = of("noreason", "image-not-pinned");
    assert!(noreason[0].get("suppressed").is_none(), "{}", noreason[0]);
    // Stale: the exception that matched nothing, the expired one.
    let stale: Vec<String> = findings
        .iter()
        .filter(|f| f["rule"] == "unused-suppression")
        .map(|f| format!("{}:{}", f["location"]["line"], f["message"]))
        .collect();
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(stale[0].starts_with("7:") && stale[0].contains("matched no finding"));
    assert!(stale[1].starts_with("9:") && stale[1].contains("expired on 2020-01-31"));
    assert_eq!(report["summary"]["suppressed"], 2);
    assert_eq!(report["summary"]["errors"], 1, "{findings:#?}");
    assert_eq!(out.status.code(), Some(1));

    // `--verbose` lists what was waived, where and why.
    let out = kustodian(&["check", ".", "--verbose", "--color", "never"], r);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("suppressed findings (2):"), "{err}");
    assert!(
        err.contains("image-not-pinned [production] waived at .kustodian.yaml:2: mirrored registry pins by tag"),
        "{err}"
    );

    // SARIF marks the waived results.
    let out = kustodian(&["check", ".", "--format", "sarif"], r);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["suppressions"][0]["kind"].as_str())
        .collect();
    // Sorted by file: apps/config before apps/inline.
    assert_eq!(kinds, ["external", "inSource"]);

    // With the unreasoned app fixed, only waived errors remain: exit 0. A partial check cannot
    // tell that a waiver is unused; the expired exception is still reported.
    write(
        r,
        "apps/noreason/base/d.yaml",
        &dep(
            "        # kustodian:ignore[image-not-pinned] pinned by the mirror\n        image: nginx:1.25",
        ),
    );
    let out = kustodian(&["check", ".", "--format", "json", "--app", "config"], r);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stale: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unused-suppression")
        .collect();
    assert_eq!(stale.len(), 1);
    assert!(stale[0]["message"].as_str().unwrap().contains("expired"));

    // A typo in an exception's rule is a config error at its line.
    write(
        r,
        ".kustodian.yaml",
        "exceptions:\n- rule: image-not-pined\n  reason: typo\n",
    );
    let out = kustodian(&["check", ".", "--format", "json"], r);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "config-error");
    assert_eq!(f["location"]["line"], 2);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("unknown rule 'image-not-pined'")
    );
}

/// The repository under check is untrusted: a `.kustodian.yaml` that is a symlink out of it (to
/// the runner's environment, to a file with other settings) is refused — exit 2 — and nothing of
/// what it points at appears in any output format.
#[cfg(unix)]
#[test]
fn a_config_file_linked_out_of_the_repository_is_refused_unread() {
    let outside = tempfile::tempdir().unwrap();
    let secret = "TOKEN_THAT_MUST_NOT_LEAK";
    let target = outside.path().join("settings.yaml");
    std::fs::write(
        &target,
        format!("ignore: ['{secret}/**']\nnot-a-key: {secret}\n"),
    )
    .unwrap();
    for name in [".kustodian.yaml", ".kustodian.yml"] {
        let t = tempfile::tempdir().unwrap();
        common::copy_dir(&manifest_dir().join("fixtures/gitops-config"), t.path());
        std::os::unix::fs::symlink(&target, t.path().join(name)).unwrap();
        for format in ["human", "github", "json", "sarif"] {
            let out = kustodian(&["check", ".", "--format", format], t.path());
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(2), "{name} {format}: {all}");
            assert!(!all.contains(secret), "{name} {format} leaked: {all}");
            assert!(all.contains("outside the repository root"), "{all}");
        }
    }
}
