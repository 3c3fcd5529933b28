//! The report formats CI systems other than GitHub read, and the ways of feeding kustodian that
//! users bring from other tools: JUnit XML validated by a real XSD validator (Python `xmlschema`)
//! against Jenkins' `junit-10.xsd`, GitLab Code Quality, `merge-reports --format` for every
//! format, and rendered manifests on standard input (`… | kustodian check -`), run through bash
//! pipes as a user types them.

mod common;
use common::{git, kustodian_in, python, python_has, skip, write};

use std::path::Path;
use std::process::Command;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const FORMATS: &[&str] = &["human", "github", "json", "sarif", "junit", "gitlab"];

/// Validates XML files against tests/data/junit-10.xsd; returns the first error, if any.
fn validate_junit(files: &[&Path]) -> Option<String> {
    let xsd = manifest_dir().join("tests/data/junit-10.xsd");
    let mut args = vec![xsd.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = python(
        r#"
import sys, xmlschema
schema = xmlschema.XMLSchema(sys.argv[1])
for f in sys.argv[2:]:
    errors = list(schema.iter_errors(f))
    if errors:
        print("%s: %s" % (f, errors[0]))
        break
"#,
        &args,
    );
    (!out.trim().is_empty()).then_some(out)
}

/// A repository with a violation, a waived finding and a render error: every JUnit element kind.
fn mixed_repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "apps/shop/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(
        r,
        "apps/shop/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n      - name: shop\n        # kustodian:ignore[image-not-pinned] vendor image, no digests <yet> & \"never\"\n        image: vendor.example.com/shop:1.0\n      - name: side\n        image: \"side\\e[31m:1.0\"\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n",
    );
    write(
        r,
        "apps/shop/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    write(
        r,
        "apps/broken/overlays/production/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    t
}

#[test]
fn junit_validates_against_the_jenkins_xsd() {
    if !python_has("xmlschema") {
        skip(
            "junit_validates_against_the_jenkins_xsd",
            "python3 cannot import xmlschema (pip install xmlschema)",
        );
        return;
    }
    let t = mixed_repo();
    let out = kustodian_in(t.path())
        .args(["check", ".", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let xml = String::from_utf8(out.stdout).unwrap();
    for element in ["<failure ", "<error ", "<skipped "] {
        assert!(xml.contains(element), "{element} in {xml}");
    }
    assert!(
        xml.contains("suppressed: vendor image, no digests &lt;yet&gt; &amp; &quot;never&quot;")
    );
    let bad = t.path().join("bad.xml");
    std::fs::write(&bad, &xml).unwrap();
    // A clean run: one passing test case.
    let clean = kustodian_in(&manifest_dir().join("fixtures/gitops-config"))
        .args(["check", ".", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    let clean_xml = t.path().join("clean.xml");
    std::fs::write(&clean_xml, &clean.stdout).unwrap();
    assert_eq!(validate_junit(&[&bad, &clean_xml]), None, "{xml}");
    // The validator does reject what the schema forbids.
    let broken = t.path().join("broken.xml");
    std::fs::write(&broken, xml.replacen(" tests=\"", " tezts=\"", 1)).unwrap();
    assert!(validate_junit(&[&broken]).is_some());
}

#[test]
fn gitlab_code_quality_has_what_gitlab_requires() {
    let t = mixed_repo();
    let out = kustodian_in(t.path())
        .args(["check", ".", "--format", "gitlab"])
        .output()
        .unwrap();
    let issues: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(!issues.is_empty());
    let mut prints = std::collections::BTreeSet::new();
    for i in issues {
        for k in ["description", "check_name", "fingerprint", "severity"] {
            assert!(i[k].is_string(), "{k}: {i}");
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().unwrap())
        );
        assert!(i["location"]["path"].is_string());
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(prints.insert(i["fingerprint"].as_str().unwrap().to_string()));
    }
    // The waived finding is not an issue; the render error is a blocker.
    assert!(issues.iter().all(|i| {
        !i["description"]
            .as_str()
            .unwrap()
            .contains("vendor.example.com")
    }));
    assert!(
        issues
            .iter()
            .any(|i| i["check_name"] == "render-error" && i["severity"] == "blocker")
    );
}

/// Sharded JSON reports merge into every format, with positions, fingerprints and exit codes
/// intact.
#[test]
fn merge_reports_writes_every_format() {
    let t = tempfile::tempdir().unwrap();
    let repo = manifest_dir().join("fixtures/rules/image-not-pinned/fail");
    let mut shards = Vec::new();
    for i in 1..=2 {
        let p = t.path().join(format!("shard{i}.json"));
        kustodian_in(&repo)
            .args([
                "check",
                ".",
                "--format",
                "json",
                "--shard",
                &format!("{i}/2"),
                "-o",
            ])
            .arg(&p)
            .output()
            .unwrap();
        shards.push(p);
    }
    let merged = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .arg("merge-reports")
            .args(&shards)
            .args(["--format", format, "--color", "never"])
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let want = "apps/shop/overlays/production/kustomization.yaml";
    for format in FORMATS {
        let (code, text) = merged(format);
        assert_eq!(code, Some(1), "{format}: {text}");
        assert!(text.contains(want), "{format}: {text}");
    }
    let (_, human) = merged("human");
    assert!(human.contains(&format!("at {want}:6:11")), "{human}");
    assert!(human.contains("✖ 1 error"), "{human}");
    let (_, gh) = merged("github");
    assert!(
        gh.contains(&format!("::error file={want},line=6,col=11")),
        "{gh}"
    );
    let (_, sarif) = merged("sarif");
    let s: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let res = &s["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "image-not-pinned");
    assert_eq!(
        res["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
    assert_eq!(
        s["runs"][0]["tool"]["driver"]["rules"][res["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "image-not-pinned"
    );
    // The help travels through JSON, so merged reports keep it.
    assert!(
        res["message"]["text"]
            .as_str()
            .unwrap()
            .contains("pin it in"),
        "{res}"
    );
    if python_has("xmlschema") {
        let (_, junit) = merged("junit");
        let f = t.path().join("merged.xml");
        std::fs::write(&f, junit).unwrap();
        assert_eq!(validate_junit(&[&f]), None);
    }
    // --fail-on applies to merged reports as to checks.
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .arg("merge-reports")
        .args(&shards)
        .args(["--fail-on", "never", "-o"])
        .arg(t.path().join("all.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `kustomize build DIR | kustodian check -`: a schema violation at its line in the stream.
#[test]
fn rendered_manifests_on_stdin_are_checked_at_their_line_in_the_stream() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "app/kustomization.yaml",
        "resources:\n- config.yaml\n- deployment.yaml\nnamePrefix: x-\n",
    );
    write(
        r,
        "app/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n",
    );
    write(
        r,
        "app/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: three\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n",
    );
    git(r, &["init", "-q"]);
    let bin = env!("CARGO_BIN_EXE_kustodian");
    // Renderers to pipe from: kustodian's own (kustomize build's output byte for byte) and,
    // when the project's shared folder has it, the real kustomize.
    let mut renderers = vec![format!("{bin} render")];
    let reference = std::env::var_os("KUSTODIAN_SHARED")
        .map_or_else(
            || manifest_dir().join("../shared"),
            std::path::PathBuf::from,
        )
        .join("tools/kustomize-ref");
    if reference.exists() {
        renderers.push(format!("{} build", reference.display()));
    }
    for renderer in renderers {
        let rendered = Command::new("bash")
            .args(["-c", &format!("{renderer} app")])
            .current_dir(r)
            .output()
            .unwrap();
        let stream = String::from_utf8(rendered.stdout).unwrap();
        let line = stream
            .lines()
            .position(|l| l.contains("replicas: three"))
            .unwrap_or_else(|| panic!("{renderer}: {stream}"))
            + 1;
        let out = Command::new("bash")
            .args([
                "--noprofile",
                "--norc",
                "-o",
                "pipefail",
                "-c",
                &format!("{renderer} app | {bin} check --format json --env production -"),
            ])
            .current_dir(r)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{renderer}");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "schema-violation")
            .unwrap_or_else(|| panic!("{renderer}: {j}"));
        assert_eq!(f["location"]["file"], "<stdin>");
        assert_eq!(f["location"]["line"], line, "{renderer}: {stream}");
        assert_eq!(f["field"], "spec.replicas");
        // --env production gives the stage: the production-only rules ran too.
        assert!(
            j["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "image-not-pinned" && f["environment"] == "production"),
            "{j}"
        );
        assert_eq!(j["summary"]["resources"], 2);
    }
    // Without --env, the stream is of no stage: production-only rules stay quiet.
    let out = Command::new("bash")
        .args([
            "-o",
            "pipefail",
            "-c",
            &format!("{bin} render app | {bin} check --format json -"),
        ])
        .current_dir(r)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "image-not-pinned"),
        "{j}"
    );
}

#[test]
fn broken_streams_are_diagnosed_at_their_line() {
    let t = tempfile::tempdir().unwrap();
    let check = |input: &str, extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args(["check", "--format", "json"])
            .args(extra)
            .arg("-")
            .current_dir(t.path())
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
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = check(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n",
        &[],
    );
    assert_eq!(code, Some(2), "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["findings"][0]["rule"], "render-error");
    assert_eq!(j["findings"][0]["location"]["file"], "<stdin>");
    // A document that is no Kubernetes object.
    let (code, out, _) = check(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\njust: data\n",
        &[],
    );
    assert_eq!(code, Some(2), "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["findings"][0]["location"]["line"], 5, "{j}");
    // Repository-only options are refused.
    let (code, _, err) = check("", &["--base", "HEAD"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("standard input"), "{err}");
    // A `List` is its items.
    let (code, out, _) = check(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n  spec:\n    ports:\n    - port: eighty\n",
        &[],
    );
    assert_eq!(code, Some(1), "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["findings"][0]["location"]["line"], 9, "{j}");
}
