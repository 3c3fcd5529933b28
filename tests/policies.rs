//! Policy as code through the real binary: custom CEL rules, ValidatingAdmissionPolicies with
//! bindings and Conftest (Rego) policies report at the line to edit, in the environments they
//! apply to; `oldObject` and `counterpart` in pull-request mode on a real git repository; syntax
//! errors exit 2 with file:line:column; `kustodian test` on `fixtures/policies/`; the rules'
//! descriptions in `rules`, `explain` and SARIF; waivers; and docs/policies.md showing the very
//! files the suites test.

mod common;
use common::{copy_dir, git, kustodian_in, write};

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A copy of a fixture directory, so that reports name files relative to it.
fn copy(name: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), t.path());
    t
}

fn run(dir: &Path, args: &[&str]) -> Output {
    kustodian_in(dir).args(args).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (rule, file:line, environments) of every finding whose rule is in `rules`.
fn placed(report: &serde_json::Value, rules: &[&str]) -> BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap()))
        .map(|f| {
            let envs: Vec<&str> = f["environments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            (
                f["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap_or("-"),
                    f["location"]["line"]
                ),
                envs.join(","),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

const REPO_RULES: &[&str] = &[
    "team-label-required",
    "memory-limit-ceiling",
    "min-replicas",
    "no-public-services",
    "main/deny",
    "main/warn",
];

#[test]
fn each_kind_of_policy_reports_at_its_line_in_its_environments() {
    let t = copy("fixtures/policies/repo");
    let out = run(t.path(), &["check", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json(&out);
    assert_eq!(
        placed(&report, REPO_RULES),
        set(&[
            // Custom CEL rule, production only, at `metadata.labels`.
            (
                "team-label-required",
                "apps/web/base/deployment.yaml:5",
                "production"
            ),
            // Custom rule with `[*]` in `at`: the patch line that sets the memory.
            (
                "memory-limit-ceiling",
                "apps/web/overlays/production/memory.yaml:13",
                "production"
            ),
            // The VAP rendered into production, with its binding: production only, at the
            // field its validation reads (`replicas: 1` in the patch).
            (
                "min-replicas",
                "apps/web/overlays/production/memory.yaml:6",
                "production"
            ),
            // The VAP listed in `admission-policies:` applies everywhere, at `type:`.
            (
                "no-public-services",
                "apps/web/base/service.yaml:6",
                "production,staging"
            ),
            // Conftest `deny` holds for production only (data.kustodian.environment), at the
            // `newTag:` line its `at` names.
            (
                "main/deny",
                "apps/web/overlays/production/kustomization.yaml:9",
                "production"
            ),
            (
                "main/warn",
                "apps/web/base/service.yaml:1",
                "production,staging"
            ),
        ])
    );
    let severity = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["severity"].as_str().unwrap().to_string())
            .unwrap()
    };
    // Deny → error, Warn → warning; deny → error, warn → warning; the rule's own severity.
    assert_eq!(severity("min-replicas"), "error");
    assert_eq!(severity("no-public-services"), "warning");
    assert_eq!(severity("main/deny"), "error");
    assert_eq!(severity("main/warn"), "warning");
    assert_eq!(severity("memory-limit-ceiling"), "warning");
    let message = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    // messageExpression, evaluated on the object.
    assert_eq!(
        message("memory-limit-ceiling"),
        "a container asks for 2Gi of memory; the ceiling is 1Gi"
    );
    assert_eq!(
        message("no-public-services"),
        "Service web would get a public load balancer"
    );
}

/// A repository whose production overlay patches the replicas staging sets, with the worked
/// examples of docs/policies.md in `.kustodian.yaml`.
fn pr_repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let custom = |name: &str| {
        std::fs::read_to_string(fixture("fixtures/policies").join(name).join("policy.yaml"))
            .unwrap()
            .replace("custom:\n", "")
    };
    write(
        root,
        ".kustodian.yaml",
        &format!(
            "custom:\n{}{}",
            custom("replicas-drop"),
            custom("counterpart")
        ),
    );
    write(
        root,
        "apps/api/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        root,
        "apps/api/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: api\n        image: registry.example.com/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
    );
    for (env, replicas) in [("staging", 6), ("production", 6)] {
        write(
            root,
            &format!("apps/api/overlays/{env}/kustomization.yaml"),
            "resources: [../../base]\npatches:\n- path: replicas.yaml\n",
        );
        write(
            root,
            &format!("apps/api/overlays/{env}/replicas.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: {replicas}\n"
            ),
        );
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "six replicas"]);
    t
}

#[test]
fn old_object_and_counterpart_in_pull_request_mode() {
    let t = pr_repo();
    let root = t.path();
    let rules = &["replicas-halved", "production-not-smaller"];
    // The base revision itself: nothing to say.
    let clean = run(root, &["check", ".", "--format", "json", "--base", "main"]);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    // The pull request scales production from 6 to 2.
    git(root, &["checkout", "-q", "-b", "scale-down"]);
    write(
        root,
        "apps/api/overlays/production/replicas.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n",
    );
    git(root, &["commit", "-q", "-am", "scale down"]);
    let out = run(root, &["check", ".", "--format", "json", "--base", "main"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json(&out);
    let line = "apps/api/overlays/production/replicas.yaml:6";
    assert_eq!(
        placed(&report, rules),
        set(&[
            ("replicas-halved", line, "production"),
            ("production-not-smaller", line, "production"),
        ])
    );
    let messages: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .contains("replicas drop from 6 to 2 in one pull request; step down by at most half"),
        "{messages:?}"
    );
    assert!(
        messages.contains("production runs 2 replicas, fewer than staging (6)"),
        "{messages:?}"
    );
    // Outside pull-request mode `oldObject` is null: only the counterpart rule holds.
    let out = run(root, &["check", ".", "--format", "json"]);
    assert_eq!(
        placed(&json(&out), rules),
        set(&[("production-not-smaller", line, "production")])
    );
}

#[test]
fn syntax_errors_exit_2_with_file_line_and_column() {
    // A CEL expression in .kustodian.yaml, in a folded block on its second line.
    let t = copy("fixtures/policies/repo");
    let config = t.path().join(".kustodian.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let bad = text.replace(
        "isLessThan(quantity('1Gi')))",
        "isLessThan(quantity('1Gi'))))",
    );
    assert_ne!(text, bad);
    std::fs::write(&config, bad).unwrap();
    let out = run(t.path(), &["check", "."]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("policy-error"), "{stdout}");
    assert!(stdout.contains("memory-limit-ceiling: expression: Syntax error"));
    assert!(stdout.contains(".kustodian.yaml:17:73"), "{stdout}");
    std::fs::write(&config, text).unwrap();

    // A CEL expression in a policy file given with --policy, and a Rego file.
    write(
        t.path(),
        "extra.yaml",
        "custom:\n  - id: odd\n    expression: \"object.spec.replicas >\"\n",
    );
    let out = run(t.path(), &["check", ".", "--policy", "extra.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("extra.yaml:3:40"), "{stdout}");

    write(
        t.path(),
        "policy/bad.rego",
        "package main\n\ndeny contains msg if {\n  input.kind == \"Deployment\"\n  msg := sprintf(\"%s\", [input.metadata.name]\n}\n",
    );
    let out = run(t.path(), &["check", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "policy-error");
    assert_eq!(f["location"]["file"], "policy/bad.rego");
    assert_eq!(f["location"]["line"], 6);
    assert_eq!(f["location"]["column"], 1);
}

#[test]
fn kustodian_test_passes_on_the_fixtures_and_diffs_a_wrong_expectation() {
    let out = run(&fixture("fixtures/policies"), &["test", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{out:?}");
    assert!(stdout.contains("7 test files: 7 passed"), "{stdout}");

    let t = copy("fixtures/policies/team-labels");
    let suite = t.path().join("kustodian-test.yaml");
    let text = std::fs::read_to_string(&suite).unwrap();
    // `search` and `ledger` have no team label: expecting them to pass is wrong.
    let wrong = text.replacen("result: fail", "result: pass", 1);
    assert_ne!(text, wrong);
    std::fs::write(&suite, wrong).unwrap();
    let out = run(t.path(), &["test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  kustodian-test.yaml"), "{stdout}");
    assert!(stdout.contains("--- expected\n  +++ got"), "{stdout}");
    assert!(
        stdout.contains("   team-label-required Deployment/checkout: pass\n  -team-label-required search: pass\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  +team-label-required search: fail (every production workload names its owning team)\n"
        ),
        "{stdout}"
    );

    // A test that cannot run (its policy file is missing) exits 2.
    std::fs::remove_file(t.path().join("policy.yaml")).unwrap();
    let out = run(t.path(), &["test"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn custom_rules_are_described_waived_and_timed() {
    let t = copy("fixtures/policies/repo");
    let root = t.path();
    let rules = run(root, &["rules"]);
    let listing = String::from_utf8_lossy(&rules.stdout);
    // Every rule declared or listed in the config, and `min-replicas`, rendered with the
    // production overlay (the listing renders the environments).
    for id in REPO_RULES {
        assert!(listing.contains(id), "{id} not in {listing}");
    }
    let explain = run(root, &["explain", "team-label-required"]);
    assert_eq!(explain.status.code(), Some(0));
    let doc = String::from_utf8_lossy(&explain.stdout);
    assert!(doc.contains("every production workload names its owning team"));
    assert!(doc.contains("'team' in object.metadata.labels"));
    assert!(doc.contains("https://wiki.example.com/team-labels"));

    let sarif = run(root, &["check", ".", "--format", "sarif"]);
    let sarif = json(&sarif);
    let driver = &sarif["runs"][0]["tool"]["driver"]["rules"];
    let rule = driver
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "team-label-required")
        .expect("SARIF describes the custom rule");
    assert_eq!(rule["helpUri"], "https://wiki.example.com/team-labels");
    for id in REPO_RULES {
        assert!(
            driver.as_array().unwrap().iter().any(|r| r["id"] == *id),
            "{id} not described in SARIF"
        );
    }

    // An inline suppression at the line, and an exception in .kustodian.yaml.
    let deployment = root.join("apps/web/base/deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(
        &deployment,
        text.replacen(
            "  labels:\n",
            "  labels: # kustodian:ignore[team-label-required] the team label comes with the next release\n",
            1,
        ),
    )
    .unwrap();
    let config = root.join(".kustodian.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "exceptions:\n- rule: main/deny\n  reason: tags until the registry signs digests\n  environments: [production]\n",
    );
    std::fs::write(&config, text).unwrap();
    let out = run(root, &["check", ".", "--format", "json", "--verbose"]);
    let report = json(&out);
    let suppressed: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["suppressed"].is_null())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        suppressed,
        BTreeSet::from(["team-label-required", "main/deny"])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("time per custom or imported rule:"),
        "{stderr}"
    );
    assert!(stderr.contains("team-label-required"), "{stderr}");
}

#[test]
fn custom_rules_and_streamed_admission_policies_judge_standard_input() {
    let dir = fixture("fixtures/policies/team-labels");
    let resources = std::fs::read(dir.join("resources.yaml")).unwrap();
    let check = |env: &str| {
        let mut child = kustodian_in(&dir)
            .args([
                "check",
                "-",
                "--env",
                env,
                "--policy",
                "policy.yaml",
                "--format",
                "json",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&resources).unwrap();
        child.wait_with_output().unwrap()
    };
    let production = check("production");
    let report = json(&production);
    let fired: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "team-label-required")
        .map(|f| f["location"]["file"].as_str().unwrap())
        .collect();
    assert!(!fired.is_empty(), "{report}");
    assert!(fired.iter().all(|f| *f == "<stdin>"));
    // The rule is for production only.
    let staging = json(&check("staging"));
    assert!(
        !staging["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "team-label-required")
    );
}

/// The examples in docs/policies.md are the files the suites test: a block right after
/// `<!-- PATH -->` is PATH's content.
#[test]
fn the_documented_examples_are_the_tested_files() {
    let doc = std::fs::read_to_string(fixture("docs/policies.md")).unwrap();
    let mut checked = 0;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap();
        assert!(fence.starts_with("```"), "{path}: no code block after it");
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let file = std::fs::read_to_string(fixture(path)).unwrap();
        assert_eq!(
            block.join("\n") + "\n",
            file,
            "docs/policies.md shows {path} otherwise"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} examples found");
}

#[test]
fn select_and_ignore_name_custom_and_imported_rules() {
    let t = copy("fixtures/policies/repo");
    let rules_of = |args: &[&str]| {
        let mut all = vec!["check", ".", "--format", "json"];
        all.extend(args);
        let out = run(t.path(), &all);
        let report = json(&out);
        let rules: BTreeSet<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        (out.status.code(), rules)
    };
    let (code, only) = rules_of(&[
        "--select",
        "team-label-required",
        "--select",
        "min-replicas",
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(
        only,
        BTreeSet::from(["team-label-required".into(), "min-replicas".into()])
    );
    let (_, rest) = rules_of(&["--ignore", "main/deny", "--ignore", "memory-limit-ceiling"]);
    assert!(rest.contains("team-label-required") && rest.contains("image-not-pinned"));
    assert!(!rest.contains("main/deny") && !rest.contains("memory-limit-ceiling"));
    let (code, bad) = rules_of(&["--select", "team-labl-required"]);
    assert_eq!(code, Some(2));
    assert_eq!(bad, BTreeSet::from(["policy-error".into()]));
    let out = run(t.path(), &["check", ".", "--select", "team-labl-required"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("did you mean 'team-label-required'"),
        "{out:?}"
    );
}

/// The `rules` line of a rule: its level and summary.
fn listed(root: &Path, id: &str) -> String {
    let out = run(root, &["rules"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("{id} not listed in {listing}"))
        .to_string()
}

fn level(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap()
}

fn explained(root: &Path, id: &str) -> String {
    let out = run(root, &["explain", id]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn admission_policies_are_listed_where_they_come_from_at_their_bindings_level() {
    let t = copy("fixtures/policies/repo");
    let root = t.path();
    // Rendered into production only: listed, and explained with its file and environment.
    assert_eq!(level(&listed(root, "min-replicas")), "error");
    let doc = explained(root, "min-replicas");
    assert!(
        doc.contains("declared at apps/web/overlays/production/admission.yaml:3"),
        "{doc}"
    );
    assert!(doc.contains("**Rendered into** web/production"), "{doc}");
    assert!(
        doc.contains("`min-replicas`: validationActions [Deny] → error"),
        "{doc}"
    );
    // Bound with [Warn]: a warning, as its findings are.
    assert_eq!(level(&listed(root, "no-public-services")), "warning");
    let doc = explained(root, "no-public-services");
    assert!(doc.contains("`admission-policies:`"), "{doc}");
    let sarif = json(&run(root, &["check", ".", "--format", "sarif"]));
    let described = |sarif: &serde_json::Value, id: &str| {
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in SARIF"))["defaultConfiguration"]["level"]
            .clone()
    };
    assert_eq!(described(&sarif, "no-public-services"), "warning");

    // [Audit]: a note.
    let policy = root.join("admission/no-loadbalancer.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        text.replace("validationActions: [Warn]", "validationActions: [Audit]"),
    )
    .unwrap();
    assert_eq!(level(&listed(root, "no-public-services")), "note");

    // Bound twice, the second binding rendered into production with [Deny]: listed at the
    // strongest, each binding explained with its level.
    write(
        root,
        "apps/web/overlays/production/deny-public.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: deny-public-in-production\nspec:\n  policyName: no-public-services\n  validationActions: [Deny, Audit]\n",
    );
    let kustomization = root.join("apps/web/overlays/production/kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    std::fs::write(
        &kustomization,
        text.replace(
            "- admission.yaml\n",
            "- admission.yaml\n- deny-public.yaml\n",
        ),
    )
    .unwrap();
    assert_eq!(level(&listed(root, "no-public-services")), "error");
    let doc = explained(root, "no-public-services");
    assert!(
        doc.contains("`no-public-services`: validationActions [Audit] → note"),
        "{doc}"
    );
    assert!(
        doc.contains("`deny-public-in-production`: validationActions [Deny, Audit] → error"),
        "{doc}"
    );
    let sarif = json(&run(root, &["check", ".", "--format", "sarif"]));
    assert_eq!(described(&sarif, "no-public-services"), "error");

    // A policy no binding names does nothing: listed off, and explained so.
    write(
        root,
        "apps/web/overlays/staging/unbound.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: unbound-policy\nspec:\n  validations:\n  - expression: 'false'\n",
    );
    let kustomization = root.join("apps/web/overlays/staging/kustomization.yaml");
    let mut text = std::fs::read_to_string(&kustomization).unwrap();
    text = text.replacen("resources:\n", "resources:\n- unbound.yaml\n", 1);
    std::fs::write(&kustomization, text).unwrap();
    assert_eq!(level(&listed(root, "unbound-policy")), "off");
    let doc = explained(root, "unbound-policy");
    assert!(doc.contains("**No binding.**"), "{doc}");
    assert!(doc.contains("**Rendered into** web/staging"), "{doc}");

    // An environment that does not render is named: its policies cannot be listed.
    std::fs::write(&kustomization, "resources:\n- missing.yaml\n").unwrap();
    let out = run(root, &["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not render (web/staging)"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("unbound-policy"));
}
