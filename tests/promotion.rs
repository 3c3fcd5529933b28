//! `kustodian versions` and `kustodian promote` on real git repositories built in temp dirs
//! (the git CLI builds them; kustodian itself reads and commits with gix).

mod common;
use common::{copy_dir, git, write};

use std::path::Path;
use std::process::{Command, Output};

const D1: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const D2: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const D3: &str = "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";
const D4: &str = "sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c";

const PROD: &str = "apps/api-service/overlays/production/kustomization.yaml";
const STAGING: &str = "apps/api-service/overlays/staging/kustomization.yaml";
const API: &str = "ghcr.io/example/api-service";

fn kustodian(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_ACTOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn both(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn edit(root: &Path, path: &str, from: &str, to: &str) {
    let p = root.join(path);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{path} lacks {from:?}");
    std::fs::write(p, text.replacen(from, to, 1)).unwrap();
}

/// The example config repo, committed on `main` with a configured identity (kustodian's
/// `--commit` reads it from the repository's config, as git does).
fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config"),
        t.path(),
    );
    git(t.path(), &["init", "-q", "-b", "main"]);
    git(t.path(), &["config", "user.name", "Release Bot"]);
    git(t.path(), &["config", "user.email", "release@example.com"]);
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-q", "-m", "clean"]);
    t
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("not JSON:\n{}", both(o)))
}

/// The JSON image entry of an app's environment.
fn image<'a>(v: &'a serde_json::Value, app: &str, env: &str) -> &'a serde_json::Value {
    let app = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == app)
        .unwrap();
    let env = app["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["environment"] == env)
        .unwrap();
    &env["images"][0]
}

/// Every table of a markdown document, as rows of cell texts, read by a CommonMark parser with
/// GitHub's table extension.
fn tables(md: &str) -> Vec<Vec<Vec<String>>> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut out: Vec<Vec<Vec<String>>> = Vec::new();
    let mut in_cell = false;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Table(_)) => out.push(Vec::new()),
            Event::Start(Tag::TableHead | Tag::TableRow) => out.last_mut().unwrap().push(vec![]),
            Event::Start(Tag::TableCell) => {
                in_cell = true;
                out.last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push(String::new());
            }
            Event::End(TagEnd::TableCell) => in_cell = false,
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) if in_cell => {
                let cell = out
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap();
                cell.push_str(&t);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn versions_show_every_environments_images_where_they_are_set_and_the_commit() {
    let t = repo();
    let r = t.path();
    let head = git(r, &["rev-parse", "HEAD"]);
    let v = kustodian(&["versions", ".", "--format", "json"], r);
    assert_eq!(v.status.code(), Some(0), "{}", both(&v));
    let v = json(&v);
    assert_eq!(v["revision"], head.as_str());
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["name"], "api-service");
    assert_eq!(prod["repository"], API);
    assert_eq!(prod["tag"], serde_json::Value::Null);
    assert_eq!(prod["digest"], D1);
    assert_eq!(prod["location"]["file"], PROD);
    assert_eq!(prod["location"]["line"], 13);
    assert_eq!(prod["commit"]["sha"], head.as_str());
    assert_eq!(prod["commit"]["subject"], "clean");
    assert_eq!(prod["commit"]["author"], "t");
    assert_eq!(prod["containers"][0], "Deployment/api-service api");
    assert_eq!(prod["markers"], serde_json::json!([]));
    // dev runs a tag: marked.
    let dev = image(&v, "api-service", "dev");
    assert_eq!(dev["tag"], "1.5.0-rc.2");
    assert_eq!(dev["markers"], serde_json::json!([{"kind": "no-digest"}]));
    let worker = image(&v, "worker", "production");
    assert_eq!(worker["repository"], "ghcr.io/example/report-worker");
    assert_eq!(
        worker["location"]["file"],
        "apps/worker/overlays/production/kustomization.yaml"
    );

    // The table: environments as columns in promotion order, the commit and the line per cell.
    let out = kustodian(&["versions", "--now", "2099-01-01T00:00:00Z"], r);
    assert_eq!(out.status.code(), Some(0));
    let table = stdout(&out);
    let header = table
        .lines()
        .find(|l| l.contains("IMAGE") && l.contains("staging"))
        .unwrap();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(cols, ["IMAGE", "dev", "staging", "production"], "{table}");
    assert!(
        table.contains(&format!("{API}  1.5.0-rc.2 (no digest)")),
        "{table}"
    );
    assert!(table.contains(&head[..7]), "{table}");
    assert!(table.contains("years ago"), "{table}");
    assert!(
        table.contains("overlays/production/kustomization.yaml:13"),
        "{table}"
    );

    // Markdown: a table per app that a CommonMark parser reads as such.
    let out = kustodian(&["versions", "--format", "markdown"], r);
    let md = stdout(&out);
    let t = tables(&md);
    assert_eq!(t.len(), 2, "{md}");
    assert_eq!(t[0][0], ["Image", "dev", "staging", "production"]);
    assert_eq!(t[0][1][0], API);
    assert!(
        t[0][1][3].starts_with(&format!("sha256:9f86d081884c<br>{} · ", &head[..7])),
        "{:?}",
        t[0][1]
    );
    assert!(t[0][1][3].ends_with(&format!("{PROD}:13")), "{:?}", t[0][1]);
    assert!(
        md.contains("No container images in staging, production."),
        "{md}"
    );
}

#[test]
fn three_promotions_committed_by_kustodian_are_its_history() {
    let t = repo();
    let r = t.path();
    let mut promotions = Vec::new();
    for (before, after) in [(D1, D2), (D2, D3), (D3, D4)] {
        edit(r, STAGING, before, after);
        git(
            r,
            &["commit", "-q", "-am", &format!("staging: {}", &after[..19])],
        );
        let out = kustodian(
            &["promote", "api-service", "--to", "production", "--commit"],
            r,
        );
        assert_eq!(out.status.code(), Some(0), "{}", both(&out));
        let subject = git(r, &["log", "-1", "--format=%s"]);
        assert_eq!(
            subject,
            format!("chore(production): promote api-service to {}", &after[..19])
        );
        assert_eq!(
            git(r, &["log", "-1", "--format=%an <%ae>"]),
            "Release Bot <release@example.com>"
        );
        // The commit holds the promotion alone; index and working tree agree with it.
        assert_eq!(git(r, &["show", "--name-only", "--format=", "HEAD"]), PROD);
        assert_eq!(git(r, &["status", "--porcelain"]), "", "{}", both(&out));
        promotions.push(git(r, &["rev-parse", "HEAD"]));
    }
    git(r, &["fsck", "--strict"]);
    // An unrelated commit on top changes nothing about the answer.
    write(r, "README.md", "# config\n");
    git(r, &["add", "README.md"]);
    git(r, &["commit", "-q", "-m", "docs"]);

    let out = kustodian(&["versions", "--format", "json", "--history", "3"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let v = json(&out);
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["digest"], D4);
    assert_eq!(prod["commit"]["sha"], promotions[2].as_str());
    let history: Vec<(String, String)> = prod["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["images"][0]["digest"].as_str().unwrap().to_string(),
                h["commit"]["sha"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (D4.to_string(), promotions[2].clone()),
            (D3.to_string(), promotions[1].clone()),
            (D2.to_string(), promotions[0].clone()),
        ]
    );
    let staging = image(&v, "api-service", "staging");
    assert_eq!(
        staging["commit"]["subject"],
        format!("staging: {}", &D4[..19])
    );
    // dev never changed: one value, set by the first commit.
    let dev = image(&v, "api-service", "dev");
    assert_eq!(dev["history"].as_array().unwrap().len(), 1);
    assert_eq!(dev["history"][0]["commit"]["subject"], "clean");

    // The table lists the same three promotions, newest first.
    let out = kustodian(&["versions", "--history", "3", "--app", "api-service"], r);
    let table = stdout(&out);
    let section = table
        .split(&format!("history of {API} in production:"))
        .nth(1)
        .unwrap_or_else(|| panic!("{table}"));
    let shas: Vec<&str> = section
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        shas,
        [
            &promotions[2][..7],
            &promotions[1][..7],
            &promotions[0][..7]
        ],
        "{table}"
    );
    assert!(section.contains("chore(production): promote api-service to sha256:fcde2b2edba5"));
    // Markdown with history names the commit in each cell and lists the history.
    let md = stdout(&kustodian(
        &["versions", "--format", "markdown", "--history", "3"],
        r,
    ));
    assert!(md.contains(&format!("{} · ", &promotions[2][..7])), "{md}");
    assert!(md.contains("<details><summary>History</summary>"), "{md}");
    // A fourth value is the initial one.
    let v = json(&kustodian(
        &["versions", "--format", "json", "--history", "4"],
        r,
    ));
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["history"][3]["images"][0]["digest"], D1);
    assert_eq!(prod["history"][3]["commit"]["subject"], "clean");
}

#[test]
fn uncommitted_values_and_pending_promotions_are_marked() {
    let t = repo();
    let r = t.path();
    // Staging moved on (committed); production has not followed: a pending promotion.
    edit(r, STAGING, D1, D2);
    git(r, &["commit", "-q", "-am", "staging: D2"]);
    let v = json(&kustodian(&["versions", "--format", "json"], r));
    let prod = image(&v, "api-service", "production");
    assert_eq!(
        prod["markers"],
        serde_json::json!([{"kind": "pending-promotion", "environment": "staging", "runs": format!("{API}@{D2}")}])
    );
    // Production set by hand to something staging never ran, not committed yet.
    edit(r, PROD, D1, D3);
    let v = json(&kustodian(&["versions", "--format", "json"], r));
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["commit"], serde_json::Value::Null);
    assert_eq!(
        prod["markers"],
        serde_json::json!([{"kind": "not-run-in", "environment": "staging"}])
    );
    let table = stdout(&kustodian(&["versions", "--app", "api-service"], r));
    assert!(table.contains("uncommitted"), "{table}");
    assert!(table.contains("(never ran in staging)"), "{table}");
}

/// Production's kustomization written by hand: comments, quoted values, a Flux setter marker.
const HAND_WRITTEN: &str = "\
# Production changes only by promotion.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: \"api-production\"   # quoted on purpose
labels:
- pairs:
    environment: 'production'
resources:
- ../../base
components:
- ../../components/external-db
images:
  # The API, promoted from staging.
  - name: \"ghcr.io/example/api-service\"
    digest: \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"   # {\"$imagepolicy\": \"flux-system:api-service\"}
replicas:
- name: api-service
  count: 4
";

#[test]
fn promote_changes_exactly_one_value_and_refuses_what_fails_a_rule() {
    let t = repo();
    let r = t.path();
    write(r, PROD, HAND_WRITTEN);
    git(r, &["commit", "-q", "-am", "production by hand"]);
    edit(r, STAGING, D1, D2);
    git(r, &["commit", "-q", "-am", "staging: D2"]);
    let before = std::fs::read(r.join(PROD)).unwrap();

    // A dry run shows the edit and writes nothing.
    let out = kustodian(
        &["promote", "api-service", "--to", "production", "--dry-run"],
        r,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let o = stdout(&out);
    assert!(o.contains(&format!("--- a/{PROD}")), "{o}");
    assert!(o.contains(&format!("+    digest: \"{D2}\"")), "{o}");
    assert_eq!(std::fs::read(r.join(PROD)).unwrap(), before);

    let out = kustodian(&["promote", "api-service", "--to", "production"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let after = std::fs::read(r.join(PROD)).unwrap();
    let (b, a) = (
        String::from_utf8(before.clone()).unwrap(),
        String::from_utf8(after).unwrap(),
    );
    let changed: Vec<(&str, &str)> = b.lines().zip(a.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(b.lines().count(), a.lines().count());
    assert_eq!(
        changed,
        [(
            "    digest: \"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"   # {\"$imagepolicy\": \"flux-system:api-service\"}",
            "    digest: \"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\"   # {\"$imagepolicy\": \"flux-system:api-service\"}"
        )]
    );
    assert_eq!(a, b.replace(D1, D2));
    // The check passes afterwards; the setter marker in production is worth a warning.
    let out = kustodian(&["check", ".", "--format", "json"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let report = json(&out);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["image-automation-in-production"]);
    git(r, &["commit", "-q", "-am", "production: D2"]);

    // A digest staging never ran: digest-not-promoted refuses it, the file stays byte-identical.
    let before = std::fs::read(r.join(PROD)).unwrap();
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--digest",
            D3,
        ],
        r,
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains("digest-not-promoted"),
        "{}",
        both(&out)
    );
    assert!(stdout(&out).contains("refused"), "{}", both(&out));
    assert_eq!(std::fs::read(r.join(PROD)).unwrap(), before);
    // A tag in production: image-not-pinned refuses it.
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--tag",
            "1.6.0",
        ],
        r,
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stdout(&out).contains("image-not-pinned"), "{}", both(&out));
    assert_eq!(std::fs::read(r.join(PROD)).unwrap(), before);
    assert_eq!(git(r, &["status", "--porcelain"]), "");
    // --force writes it anyway (and says so).
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--digest",
            D3,
            "--force",
        ],
        r,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(stdout(&out).contains("despite"), "{}", both(&out));
    assert!(std::fs::read_to_string(r.join(PROD)).unwrap().contains(D3));
}

#[test]
fn an_image_set_in_a_shared_file_is_refused_or_given_its_own_entry() {
    let t = repo();
    let r = t.path();
    // The worker's production has no images: entry; the base sets its image for every env.
    write(
        r,
        "apps/worker/overlays/production/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: worker-production\nnamePrefix: production-\nresources:\n  - ../../base\n",
    );
    git(
        r,
        &["commit", "-q", "-am", "production runs the base's image"],
    );
    let prod = "apps/worker/overlays/production/kustomization.yaml";
    let before = std::fs::read(r.join(prod)).unwrap();
    let out = kustodian(&["promote", "worker", "--to", "production"], r);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let e = both(&out);
    assert!(e.contains("apps/worker/base/cronjob.yaml:14"), "{e}");
    assert!(e.contains("worker/dev"), "{e}");
    assert!(e.contains("--create"), "{e}");
    assert!(
        e.contains("images:\n  - name: ghcr.io/example/report-worker\n    digest: sha256:60303ae2"),
        "{e}"
    );
    assert_eq!(std::fs::read(r.join(prod)).unwrap(), before);

    let out = kustodian(&["promote", "worker", "--to", "production", "--create"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let text = std::fs::read_to_string(r.join(prod)).unwrap();
    assert_eq!(
        text,
        format!(
            "{}images:\n  - name: ghcr.io/example/report-worker\n    digest: sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752\n",
            String::from_utf8(before).unwrap()
        )
    );
    // The base is untouched; production now runs staging's digest.
    assert_eq!(git(r, &["status", "--porcelain"]), format!("M {prod}"));
    let v = json(&kustodian(&["versions", "--format", "json"], r));
    assert_eq!(image(&v, "worker", "production")["location"]["file"], prod);
}

#[test]
fn all_promotes_every_app_that_is_behind() {
    let t = repo();
    let r = t.path();
    edit(r, STAGING, D1, D2);
    edit(
        r,
        "apps/worker/overlays/staging/kustomization.yaml",
        "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
        D3,
    );
    git(r, &["commit", "-q", "-am", "staging moves on"]);
    let out = kustodian(&["promote", "--all", "--to", "production", "--commit"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let log = git(r, &["log", "--format=%s", "-3"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "chore(production): promote worker to sha256:fcde2b2edba5",
            "chore(production): promote api-service to sha256:2c26b46b68ff",
            "staging moves on"
        ]
    );
    assert_eq!(git(r, &["status", "--porcelain"]), "");
    // Nothing is behind any more.
    let out = kustodian(&["promote", "--all", "--to", "production"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(stdout(&out).contains("already runs"), "{}", both(&out));
    assert_eq!(git(r, &["status", "--porcelain"]), "");
}

#[test]
fn commit_refuses_a_file_with_other_changes() {
    let t = repo();
    let r = t.path();
    edit(r, STAGING, D1, D2);
    git(r, &["commit", "-q", "-am", "staging: D2"]);
    // An unrelated uncommitted edit in the file to promote.
    edit(r, PROD, "count: 4", "count: 5");
    let before = std::fs::read(r.join(PROD)).unwrap();
    let out = kustodian(
        &["promote", "api-service", "--to", "production", "--commit"],
        r,
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(both(&out).contains("uncommitted changes"), "{}", both(&out));
    assert_eq!(std::fs::read(r.join(PROD)).unwrap(), before);
    assert_eq!(git(r, &["log", "-1", "--format=%s"]), "staging: D2");
}

#[test]
fn versions_md_goes_stale_when_what_runs_changes_and_check_says_so() {
    let t = repo();
    let r = t.path();
    let out = kustodian(&["versions", "--check", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let out = kustodian(
        &["versions", "--format", "markdown", "--write", "VERSIONS.md"],
        r,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let md = std::fs::read_to_string(r.join("VERSIONS.md")).unwrap();
    assert!(md.starts_with("# Versions\n"), "{md}");
    // What the tree says, nothing about commits: committing it keeps it fresh.
    assert!(!md.contains("Commits are read"), "{md}");
    assert_eq!(tables(&md)[0][1].len(), 4);
    let out = kustodian(&["versions", "--check", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    git(r, &["add", "VERSIONS.md"]);
    git(r, &["commit", "-q", "-m", "versions"]);
    let out = kustodian(&["versions", "--check", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));

    // Staging moves: the file is stale, and the diff says what changed.
    edit(r, STAGING, D1, D2);
    let out = kustodian(&["versions", "--check", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("VERSIONS.md is stale"), "{e}");
    assert!(e.contains("+| `ghcr.io/example/api-service` |"), "{e}");
    let out = kustodian(&["versions", "--write", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let out = kustodian(&["versions", "--check", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert!(
        std::fs::read_to_string(r.join("VERSIONS.md"))
            .unwrap()
            .contains("(behind staging)")
    );
}

#[test]
fn broken_environments_and_bad_usage_exit_2() {
    let t = repo();
    let r = t.path();
    let out = kustodian(&["promote", "nope", "--to", "production"], r);
    assert_eq!(out.status.code(), Some(2));
    assert!(both(&out).contains("no app 'nope'"), "{}", both(&out));
    let out = kustodian(&["promote", "api-service", "--to", "dev"], r);
    assert_eq!(out.status.code(), Some(2));
    assert!(both(&out).contains("first environment"), "{}", both(&out));
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--digest",
            "sha256:abc",
        ],
        r,
    );
    assert_eq!(out.status.code(), Some(2));
    // One broken environment is reported with its location; the others are still shown.
    write(
        r,
        "apps/worker/overlays/dev/kustomization.yaml",
        "resources:\n- ../../missing\n",
    );
    let out = kustodian(&["versions", "--now", "2099-01-01T00:00:00Z"], r);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let o = stdout(&out);
    assert!(o.contains("dev: does not render"), "{o}");
    assert!(
        o.contains("apps/worker/overlays/dev/kustomization.yaml:2"),
        "{o}"
    );
    assert!(o.contains("sha256:9f86d081884c"), "{o}");
    // ... and never written to a file.
    let out = kustodian(&["versions", "--write", "VERSIONS.md"], r);
    assert_eq!(out.status.code(), Some(2));
    assert!(!r.join("VERSIONS.md").exists());
}

#[test]
fn versions_work_without_git() {
    let t = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config"),
        t.path(),
    );
    // Not a Git work tree: no history to read, and nothing fails for it.
    let v = kustodian(&["versions", ".", "--format", "json"], t.path());
    assert_eq!(v.status.code(), Some(0), "{}", both(&v));
    let v = json(&v);
    assert_eq!(v["revision"], serde_json::Value::Null);
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["commit"], serde_json::Value::Null);
    assert_eq!(prod["digest"], D1);
    // Without git, promote checks the edited tree without the pull-request rules.
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--tag",
            "1.6.0",
        ],
        t.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(stdout(&out).contains("image-not-pinned"));
}

#[test]
fn argo_cd_image_updater_on_a_production_application_is_reported() {
    let t = repo();
    let r = t.path();
    let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api-service
  annotations:
    argocd-image-updater.argoproj.io/image-list: api=ghcr.io/example/api-service
spec:
  project: default
  source:
    repoURL: https://example.com/config.git
    path: apps/api-service/overlays/production
  destination:
    server: https://kubernetes.default.svc
";
    // Staging and production render the same Application; only production's is reported.
    for env in ["staging", "production"] {
        write(
            r,
            &format!("apps/api-service/overlays/{env}/application.yaml"),
            app,
        );
        edit(
            r,
            &format!("apps/api-service/overlays/{env}/kustomization.yaml"),
            "- ../../base\n",
            "- ../../base\n- application.yaml\n",
        );
    }
    let out = kustodian(&["check", ".", "--format", "json"], r);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let report = json(&out);
    let mine: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "image-automation-in-production")
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["environment"].as_str().unwrap(),
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"],
                f["severity"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        mine,
        ["production apps/api-service/overlays/production/application.yaml:6 warning"]
    );
}

#[test]
fn a_config_tree_in_a_subdirectory_of_the_repository() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitops-config"),
        &r.join("deploy"),
    );
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["config", "user.name", "Release Bot"]);
    git(r, &["config", "user.email", "release@example.com"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "clean"]);
    edit(r, &format!("deploy/{STAGING}"), D1, D2);
    git(r, &["commit", "-q", "-am", "staging: D2"]);
    let out = kustodian(
        &[
            "promote",
            "api-service",
            "--to",
            "production",
            "--commit",
            "-C",
            "deploy",
        ],
        r,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        git(r, &["show", "--name-only", "--format=", "HEAD"]),
        format!("deploy/{PROD}")
    );
    assert_eq!(git(r, &["status", "--porcelain"]), "");
    let v = json(&kustodian(&["versions", "deploy", "--format", "json"], r));
    let prod = image(&v, "api-service", "production");
    assert_eq!(prod["location"]["file"], PROD);
    assert_eq!(
        prod["commit"]["sha"],
        git(r, &["rev-parse", "HEAD"]).as_str()
    );
}
