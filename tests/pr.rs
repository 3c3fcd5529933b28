//! Pull-request mode on real git repositories built in temp dirs: each PR rule fires on a planted
//! violation with the right file:line, a benign promotion (staging first, production later to the
//! digest staging ran) stays silent, and only affected overlays are checked.

mod common;
use common::{copy_dir, git};

use std::path::Path;
use std::process::{Command, Output};

const D1: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const D2: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const D3: &str = "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";

fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let p = root.join(path);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{path} lacks {from:?}");
    std::fs::write(p, text.replacen(from, to, 1)).unwrap();
}

/// The example config repo, committed on `main`.
fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config"),
        t.path(),
    );
    git(t.path(), &["init", "-q", "-b", "main"]);
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-q", "-m", "clean"]);
    t
}

fn check(root: &Path, base: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args([
            "check",
            ".",
            "--format",
            "json",
            "--base",
            base,
            "--verbose",
        ])
        .args(extra)
        .current_dir(root)
        .env_remove("GITHUB_ACTOR")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, v)
}

fn rules_of(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap_or("-"),
                    f["location"]["line"]
                ),
            )
        })
        .collect()
}

const PROD: &str = "apps/api-service/overlays/production/kustomization.yaml";
const STAGING: &str = "apps/api-service/overlays/staging/kustomization.yaml";

#[test]
fn benign_promotion_is_silent() {
    let t = repo();
    let r = t.path();
    // Staging first.
    edit(r, STAGING, D1, D2);
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    git(r, &["commit", "-q", "-am", "staging: D2"]);
    let staged = git(r, &["rev-parse", "HEAD"]);
    // Production later, to the digest staging ran.
    edit(r, PROD, D1, D2);
    let (out, report) = check(r, &staged, &[]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("apps/api-service/overlays/production"),
        "{stderr}"
    );
    // Also accepted when staging moved on since: D2 is in staging's recent history.
    git(r, &["commit", "-q", "-am", "production: D2"]);
    let promoted = git(r, &["rev-parse", "HEAD"]);
    edit(r, STAGING, D2, D3);
    git(r, &["commit", "-q", "-am", "staging: D3"]);
    let (out, report) = check(r, &promoted, &[]);
    assert_eq!(out.status.code(), Some(0), "{report}");
}

#[test]
fn promoting_staging_and_production_together_fails() {
    let t = repo();
    let r = t.path();
    edit(r, STAGING, D1, D3);
    edit(r, PROD, D1, D3);
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        rules_of(&report).contains(&("digest-not-promoted".into(), format!("{PROD}:13"))),
        "{:?}",
        rules_of(&report)
    );
}

#[test]
fn production_config_change_is_reported_at_its_line() {
    let t = repo();
    let r = t.path();
    let text = std::fs::read_to_string(r.join(PROD)).unwrap();
    std::fs::write(
        r.join(PROD),
        format!("{text}configMapGenerator:\n- name: api-service-config\n  behavior: merge\n  literals:\n  - LOG_LEVEL=debug\n"),
    )
    .unwrap();
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(1));
    let rules = rules_of(&report);
    assert!(
        rules.contains(&(
            "production-change-not-image-only".into(),
            format!("{PROD}:21")
        )),
        "{rules:?}"
    );
}

#[test]
fn limits_removed_since_base_are_reported() {
    let t = repo();
    let r = t.path();
    // Remove limits in dev (the base still has them; the base revision's dev had them too).
    let dev = "apps/api-service/overlays/dev/kustomization.yaml";
    let text = std::fs::read_to_string(r.join(dev)).unwrap();
    std::fs::write(
        r.join(dev),
        format!("{text}patches:\n- target: {{kind: Deployment}}\n  patch: |-\n    - op: remove\n      path: /spec/template/spec/containers/0/resources/limits\n"),
    )
    .unwrap();
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let rules = rules_of(&report);
    assert!(
        rules
            .iter()
            .any(|(rule, loc)| rule == "resource-limits-removed" && loc.starts_with(dev)),
        "{rules:?}"
    );
}

#[test]
fn bots_may_only_touch_dev() {
    let t = repo();
    let r = t.path();
    edit(
        r,
        "apps/api-service/overlays/dev/kustomization.yaml",
        "1.5.0-rc.2",
        "1.5.0-rc.3",
    );
    let (out, report) = check(r, "main", &["--actor", "renovate[bot]"]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    edit(r, STAGING, D1, D2);
    let (out, report) = check(r, "main", &["--actor", "renovate[bot]"]);
    assert_eq!(out.status.code(), Some(1));
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "bot-write-scope")
        .unwrap()
        .clone();
    assert!(f["message"].as_str().unwrap().contains(STAGING), "{f}");
    // A person may.
    let (out, _) = check(r, "main", &["--actor", "alice"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn codeowners_must_cover_production_with_required_owners() {
    let t = repo();
    let r = t.path();
    std::fs::create_dir_all(r.join(".github")).unwrap();
    std::fs::write(
        r.join(".github/CODEOWNERS"),
        "# owners\n* @org/developers\n/apps/*/overlays/staging/ @org/developers @org/qa\n",
    )
    .unwrap();
    std::fs::write(r.join("policy.yaml"), "rules:\n  codeowners-missing:\n    options:\n      owners:\n        production: [\"@org/oncall\"]\n").unwrap();
    let (out, report) = check(r, "main", &["--policy", "policy.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let rules = rules_of(&report);
    assert!(
        rules.contains(&("codeowners-missing".into(), ".github/CODEOWNERS:2".into())),
        "{rules:?}"
    );
    std::fs::write(
        r.join(".github/CODEOWNERS"),
        "* @org/developers\n/apps/*/overlays/production/ @org/oncall\n",
    )
    .unwrap();
    let (out, report) = check(r, "main", &["--policy", "policy.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{report}");
}

#[test]
fn only_affected_overlays_are_checked() {
    let t = repo();
    let r = t.path();
    edit(
        r,
        "apps/worker/overlays/dev/kustomization.yaml",
        "2.1.0-dev",
        "2.2.0-dev",
    );
    let (out, _) = check(r, "main", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("affected overlays (1):"), "{stderr}");
    assert!(stderr.contains("apps/worker/overlays/dev"));
    // A base change affects every overlay of that app and nothing else.
    edit(
        r,
        "apps/api-service/base/service.yaml",
        "port: 80",
        "port: 8080",
    );
    let (out, _) = check(r, "main", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("affected overlays (4):"), "{stderr}");
    // A missing base revision is a clear error (exit 2) mentioning how to fetch it.
    let (out, report) = check(r, "no-such-branch", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("fetch-depth")
    );
}

#[test]
fn freeze_windows_block_protected_changes_only_while_open() {
    let t = repo();
    let r = t.path();
    std::fs::write(
        r.join(".kustodian.yaml"),
        "freeze:\n- name: weekend\n  weekly: {from: \"Fri 16:00\", to: \"Mon 08:00\", timezone: Europe/Berlin}\n  stages: [production]\n- name: black-friday\n  from: \"2026-11-27T00:00:00Z\"\n  to: \"2026-11-28T00:00:00Z\"\n  paths: [\"apps/worker/**\"]\n",
    )
    .unwrap();
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "freeze config"]);
    // A benign promotion: staging first (merged), then production to the same digest.
    edit(r, STAGING, D1, D2);
    git(r, &["commit", "-q", "-am", "staging"]);
    let base = git(r, &["rev-parse", "HEAD"]);
    edit(r, PROD, D1, D2);
    // Wednesday: no window open.
    let (out, report) = check(r, &base, &["--now", "2026-11-25T10:00:00+01:00"]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    // Sunday 10:00 Berlin: the weekend window protects production.
    let (out, report) = check(r, &base, &["--now", "2026-11-29T10:00:00+01:00"]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "change-freeze")
        .unwrap()
        .clone();
    assert!(f["message"].as_str().unwrap().contains("'weekend'"), "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("apps/api-service/overlays/production"),
        "{f}"
    );
    // Friday 15:00 UTC = 16:00 Berlin: open (the window opens at 16:00 local).
    let (out, _) = check(r, &base, &["--now", "2026-11-27T15:00:00Z"]);
    assert_eq!(out.status.code(), Some(1));
    let (out, _) = check(r, &base, &["--now", "2026-11-27T14:59:00Z"]);
    assert_eq!(out.status.code(), Some(0));
    // The absolute window protects worker's paths on its day, whatever the stage.
    git(r, &["checkout", "-q", "--", "."]);
    edit(
        r,
        "apps/worker/overlays/dev/kustomization.yaml",
        "2.1.0-dev",
        "2.2.0-dev",
    );
    let (out, report) = check(r, &base, &["--now", "2026-11-27T09:00:00Z"]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    // Bad windows are configuration errors.
    std::fs::write(r.join(".kustodian.yaml"), "freeze:\n- name: x\n  weekly: {from: \"Caturday 16:00\", to: \"Mon 08:00\", timezone: Mars/Olympus}\n").unwrap();
    let (out, report) = check(r, &base, &[]);
    assert_eq!(out.status.code(), Some(2), "{report}");
    let msgs: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter().any(|m| m.contains("Caturday"))
            && msgs.iter().any(|m| m.contains("Mars/Olympus")),
        "{msgs:?}"
    );
}

#[test]
fn summary_shows_images_and_rendered_diff_per_app() {
    let t = repo();
    let r = t.path();
    edit(r, STAGING, D1, D2);
    let summary = r.join("summary.md");
    let (out, _) = check(r, "main", &["--summary", summary.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### Rendered changes"), "{md}");
    assert!(md.contains("#### api-service"));
    assert!(
        md.contains(&format!(
            "`ghcr.io/example/api-service@{D1}` → `ghcr.io/example/api-service@{D2}`"
        )),
        "{md}"
    );
    assert!(md.contains("<details><summary>rendered diff of staging</summary>"));
    // The versions table of the environments the change moves, before → after.
    assert!(
        md.contains(
            "| App | Environment | Image | Before | After |\n|---|---|---|---|---|\n\
             | api-service | staging | `ghcr.io/example/api-service` | `sha256:9f86d081884c` | `sha256:2c26b46b68ff` |\n"
        ),
        "{md}"
    );
    assert!(
        md.find("### Versions").unwrap() < md.find("### Rendered changes").unwrap(),
        "{md}"
    );
    assert!(
        md.contains(&format!("+        image: ghcr.io/example/api-service@{D2}")),
        "{md}"
    );
}

#[test]
fn deleting_a_component_still_affects_its_users() {
    let t = repo();
    let r = t.path();
    std::fs::remove_dir_all(r.join("apps/api-service/components/external-db")).unwrap();
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(2), "{report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("apps/api-service/overlays/production"),
        "{stderr}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "render-error")
    );
}

#[test]
fn a_large_repo_checks_only_the_three_touched_overlays() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    let st = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-synthetic-repo"))
        .args(["300", r.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "init"]);
    for app in ["app-0007", "app-0123", "app-0299"] {
        edit(
            r,
            &format!("apps/{app}/overlays/production/kustomization.yaml"),
            "count: 3",
            "count: 4",
        );
    }
    let (out, report) = check(r, "main", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("affected overlays (3):"), "{stderr}");
    for app in ["app-0007", "app-0123", "app-0299"] {
        assert!(
            stderr.contains(&format!("apps/{app}/overlays/production")),
            "{stderr}"
        );
    }
    // Only the three touched apps were rendered and checked (3 envs each).
    assert_eq!(report["summary"]["overlays"], 9, "{report}");
    // The replica change is a production change that is not an image move.
    assert_eq!(out.status.code(), Some(1));
}

/// `(field, file:line)` of each immutable-field-changed finding.
fn immutable_fields(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "immutable-field-changed")
        .map(|f| {
            let at = &f["location"];
            let loc = format!("{}:{}", at["file"].as_str().unwrap(), at["line"]);
            (f["field"].as_str().unwrap().to_string(), loc)
        })
        .collect()
}

#[test]
fn immutable_selector_changes_are_reported_at_the_line_that_made_them() {
    let t = repo();
    let r = t.path();
    let dev = "apps/api-service/overlays/dev/kustomization.yaml";
    // `labels` without includeSelectors leaves selectors alone: allowed.
    edit(
        r,
        dev,
        "namespace: api-dev\n",
        "namespace: api-dev\nlabels:\n- pairs:\n    team: payments\n",
    );
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    // commonLabels reach spec.selector.matchLabels: the API server would refuse the update.
    edit(
        r,
        dev,
        "labels:\n- pairs:\n    team: payments\n",
        "commonLabels:\n  team: payments\n",
    );
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(
        rules_of(&report),
        vec![("immutable-field-changed".into(), format!("{dev}:5"))],
        "{report}"
    );
    let f = &report["findings"][0];
    assert_eq!(f["field"], "spec.selector.matchLabels.team", "{f}");
    assert_eq!(f["environment"], "dev", "{f}");
    // An object Flux recreates on such a change is left alone.
    edit(
        r,
        dev,
        "commonLabels:\n",
        "commonAnnotations:\n  kustomize.toolkit.fluxcd.io/force: enabled\ncommonLabels:\n",
    );
    let (out, report) = check(r, "main", &[]);
    assert_eq!(out.status.code(), Some(0), "{report}");
}

#[test]
fn role_binding_role_refs_and_immutable_config_maps_keep_their_values() {
    let t = repo();
    let r = t.path();
    let base = "apps/api-service/base";
    common::write(
        r,
        &format!("{base}/rbac.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: api-reader\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: reader\nsubjects:\n- kind: ServiceAccount\n  name: api-service\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\nimmutable: true\ndata:\n  mode: strict\n",
    );
    edit(
        r,
        &format!("{base}/kustomization.yaml"),
        "- service.yaml\n",
        "- service.yaml\n- rbac.yaml\n",
    );
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "rbac"]);
    edit(
        r,
        &format!("{base}/rbac.yaml"),
        "name: reader",
        "name: writer",
    );
    edit(r, &format!("{base}/rbac.yaml"), "mode: strict", "mode: lax");
    let (out, report) = check(r, "HEAD", &[]);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let mine = immutable_fields(&report);
    let rbac = format!("{base}/rbac.yaml");
    // Every overlay includes the base: one finding at the base's line, naming all three.
    for (field, line) in [("roleRef.name", 8), ("data.mode", 19)] {
        let n = mine
            .iter()
            .filter(|(f, l)| f == field && *l == format!("{rbac}:{line}"))
            .count();
        assert_eq!(n, 1, "{field}: {mine:?}");
        let envs: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "immutable-field-changed" && f["field"] == field)
            .unwrap()["environments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(envs, ["dev", "production", "staging"], "{field}");
    }
}

#[test]
fn crds_of_apps_a_run_does_not_check_still_describe_their_kinds() {
    // The ExternalSecret CRD lives in the external-secrets app; api-service uses the kind.
    let t = repo();
    let r = t.path();
    edit(
        r,
        "apps/api-service/overlays/production/kustomization.yaml",
        "namespace: api-production\n",
        "namespace: api-production\n# a comment\n",
    );
    for extra in [&["--app", "api-service"][..], &[]] {
        let (out, report) = check(r, "main", extra);
        assert_eq!(out.status.code(), Some(0), "{report}");
        assert_eq!(rules_of(&report), vec![], "{report}");
    }
    // A shard without the CRD's app, in a full check.
    let mut shards = Vec::new();
    for i in 1..=2 {
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args([
                "check",
                ".",
                "--format",
                "json",
                "--shard",
                &format!("{i}/2"),
            ])
            .current_dir(r)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rules_of(&v), vec![], "shard {i}: {v}");
        shards.push(v["summary"]["overlays"].as_u64().unwrap());
    }
    assert!(shards.iter().all(|n| *n > 0), "{shards:?}");
}

#[test]
fn jobs_are_reported_unless_the_cluster_deletes_them_and_defaulted_fields_need_both_sides() {
    let t = repo();
    let r = t.path();
    let base = "apps/api-service/base";
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: migrate\n        image: ghcr.io/example/migrate:1\n";
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: cache\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n";
    common::write(
        r,
        &format!("{base}/extra.yaml"),
        &format!("{job}---\n{claim}"),
    );
    edit(
        r,
        &format!("{base}/kustomization.yaml"),
        "- service.yaml\n",
        "- service.yaml\n- extra.yaml\n",
    );
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "job and claim"]);
    let fields = |report: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = immutable_fields(report)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        v.dedup();
        v
    };
    // A new image in the Job's template; a storage class the claim did not name (the cluster
    // filled one in: unknown, so not reported); more storage (allowed).
    edit(r, &format!("{base}/extra.yaml"), "migrate:1", "migrate:2");
    edit(
        r,
        &format!("{base}/extra.yaml"),
        "  accessModes: [ReadWriteOnce]\n",
        "  accessModes: [ReadWriteOnce]\n  storageClassName: fast\n",
    );
    edit(
        r,
        &format!("{base}/extra.yaml"),
        "storage: 1Gi",
        "storage: 2Gi",
    );
    let (_, report) = check(r, "HEAD", &[]);
    assert_eq!(
        fields(&report),
        vec!["spec.template.spec.containers[name=migrate].image".to_string()],
        "{report}"
    );
    // With a TTL the finished Job is gone by the next sync.
    edit(
        r,
        &format!("{base}/extra.yaml"),
        "spec:\n  template:",
        "spec:\n  ttlSecondsAfterFinished: 600\n  template:",
    );
    let (_, report) = check(r, "HEAD", &[]);
    assert_eq!(fields(&report), Vec::<String>::new(), "{report}");
}
