//! Remote bases, end to end and without the network: real git repositories in temp dirs named
//! by `file://` URLs (fetched by gix through the local `git-upload-pack`, as `https://` and
//! `ssh://` would be through their transports), a cache in the temp dir (`KUSTODIAN_CACHE_DIR`:
//! the user's is never touched), and the binary as users run it. The base is
//! `fixtures/remote/upstream`; `fixtures/remote/expected.yaml` is what kustomize prints for the
//! overlay with that base vendored into the repository (and, when the project's shared folder
//! has kustomize, the test asks it again, vendored and through the `file://` URL).

mod common;
use common::{copy_dir, git, kustodian_in, write};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const OVERLAY: &str = "web/overlays/production";

struct World {
    _t: tempfile::TempDir,
    root: PathBuf,
    upstream: PathBuf,
    config: PathBuf,
    cache: PathBuf,
}

impl World {
    /// The upstream repository tagged `v1`, and a config repository whose production overlay
    /// takes its base from it.
    fn new() -> World {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let upstream = root.join("upstream");
        copy_dir(&fixtures().join("upstream"), &upstream);
        git(&upstream, &["init", "-q", "-b", "main"]);
        commit_and_tag(&upstream, "v1");
        let config = root.join("config");
        let w = World {
            _t: t,
            cache: root.join("cache"),
            root,
            upstream,
            config,
        };
        w.overlay(OVERLAY, &w.url("base"));
        git(&w.config, &["init", "-q"]);
        w
    }

    /// `file://<upstream>//<path>?ref=v1`.
    fn url(&self, path: &str) -> String {
        format!("file://{}//{path}?ref=v1", self.upstream.display())
    }

    /// Writes an overlay of the fixture's shape at `dir` with `resource` as its base.
    fn overlay(&self, dir: &str, resource: &str) {
        let tail =
            std::fs::read_to_string(fixtures().join("overlay/kustomization.yaml.tail")).unwrap();
        write(
            &self.config,
            &format!("{dir}/kustomization.yaml"),
            &format!("resources:\n- {resource}\n{tail}"),
        );
        std::fs::copy(
            fixtures().join("overlay/replicas.yaml"),
            self.config.join(dir).join("replicas.yaml"),
        )
        .unwrap();
    }

    /// Runs kustodian in the config repository with the test's cache.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = kustodian_in(&self.config);
        cmd.args(args)
            .env("KUSTODIAN_CACHE_DIR", &self.cache)
            .env_remove("KUSTODIAN_REMOTE");
        cmd
    }

    /// Changes a file of the upstream repository and moves `v1` to the new commit.
    fn retag(&self, path: &str, text: &str) {
        write(&self.upstream, path, text);
        git(&self.upstream, &["add", "-A"]);
        git(&self.upstream, &["commit", "-qm", "moved"]);
        git(&self.upstream, &["tag", "-f", "v1"]);
    }

    fn head(&self) -> String {
        git(&self.upstream, &["rev-parse", "HEAD"])
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/remote")
}

fn commit_and_tag(repo: &Path, tag: &str) {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "base"]);
    git(repo, &["tag", tag]);
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error with miette's wrapping undone (one space between words).
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn expected() -> String {
    std::fs::read_to_string(fixtures().join("expected.yaml")).unwrap()
}

/// The real kustomize, when the project's shared folder has it.
fn kustomize_ref() -> Option<PathBuf> {
    let p = std::env::var_os("KUSTODIAN_SHARED")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
            PathBuf::from,
        )
        .join("tools/kustomize-ref");
    p.exists().then_some(p)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

#[test]
fn a_fetched_base_renders_as_kustomize_renders_it_vendored() {
    let w = World::new();
    let fetched = w.run(&["fetch"]);
    assert_eq!(fetched.status.code(), Some(0), "{}", stderr(&fetched));
    let short = &w.head()[..7];
    assert!(
        stdout(&fetched).contains(&format!(
            "fetched file://{}?ref=v1@{short} ({OVERLAY}/kustomization.yaml:2)",
            w.upstream.display()
        )),
        "{}",
        stdout(&fetched)
    );
    let out = w.run(&["render", OVERLAY]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected());
    let Some(kustomize) = kustomize_ref() else {
        eprintln!("note: no kustomize-ref; compared with fixtures/remote/expected.yaml only");
        return;
    };
    // kustomize itself, through the same file:// URL (it clones with the git CLI) ...
    let direct = Command::new(&kustomize)
        .args(["build", OVERLAY])
        .current_dir(&w.config)
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
    assert_eq!(stdout(&out), stdout(&direct));
    // ... and with the base vendored into the repository.
    copy_dir(&w.upstream.join("base"), &w.config.join("vendor/base"));
    copy_dir(&w.upstream.join("common"), &w.config.join("vendor/common"));
    w.overlay("vendored", "../vendor/base");
    let vendored = Command::new(&kustomize)
        .args(["build", "vendored"])
        .current_dir(&w.config)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), stdout(&vendored), "{}", stderr(&vendored));
}

#[test]
fn an_uncached_base_is_exit_2_at_its_line_saying_how_to_fetch_it() {
    let w = World::new();
    let out = w.run(&["render", OVERLAY]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("kustodian fetch"), "{err}");
    assert!(err.contains("is not in the cache"), "{err}");
    assert!(
        err.contains(&format!("{OVERLAY}/kustomization.yaml:2")),
        "{err}"
    );
    let check = w.run(&["check", "--format", "json"]);
    assert_eq!(check.status.code(), Some(2), "{}", stdout(&check));
    let j = json(&check);
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "render-error")
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(
        f["location"]["file"],
        format!("{OVERLAY}/kustomization.yaml")
    );
    assert_eq!(f["location"]["line"], 2);
    assert!(f["message"].as_str().unwrap().contains("kustodian fetch"));
    // Cache mode fetched nothing.
    assert!(!w.cache.join("git/refs").exists());
}

#[test]
fn after_a_fetch_builds_read_the_cache_and_never_the_source() {
    let w = World::new();
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    // The source is gone: only the cache can serve the base now.
    std::fs::rename(&w.upstream, w.root.join("gone")).unwrap();
    let out = w.run(&["render", OVERLAY]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected());
    let check = w.run(&["check", "--format", "json"]);
    let j = json(&check);
    assert_ne!(check.status.code(), Some(2), "{j}");
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "render-error"),
        "{j}"
    );
    // Fetch mode does go to the source, and says that it failed.
    let fetch = w.run(&["render", "--remote", "fetch", OVERLAY]);
    assert_eq!(fetch.status.code(), Some(2));
    assert!(stderr(&fetch).contains("fetching"), "{}", stderr(&fetch));
    assert_eq!(w.run(&["fetch"]).status.code(), Some(2));
}

#[test]
fn deny_refuses_remote_bases_even_when_cached() {
    let w = World::new();
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    let out = w.run(&["render", "--remote", "deny", OVERLAY]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--remote deny"), "{err}");
    assert!(
        err.contains(&format!("{OVERLAY}/kustomization.yaml:2")),
        "{err}"
    );
    let check = w
        .command(&["check", "--format", "json"])
        .env("KUSTODIAN_REMOTE", "deny")
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(json(&check).to_string().contains("--remote deny"));
    // `fetch` and `deny` contradict each other.
    assert_eq!(w.run(&["fetch", "--remote", "deny"]).status.code(), Some(2));
}

#[test]
fn a_moved_tag_renders_the_recorded_commit_until_fetched_again() {
    let w = World::new();
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    let first = w.head();
    let config = std::fs::read_to_string(w.upstream.join("base/kustomization.yaml")).unwrap();
    w.retag(
        "base/kustomization.yaml",
        &config.replace("MODE=upstream", "MODE=moved"),
    );
    assert_ne!(w.head(), first);
    let pinned = w.run(&["render", OVERLAY]);
    assert_eq!(stdout(&pinned), expected(), "{}", stderr(&pinned));
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    let moved = w.run(&["render", OVERLAY]);
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    assert!(stdout(&moved).contains("MODE: moved"), "{}", stdout(&moved));
    // Trees are kept per commit: the first one is still there, unchanged.
    let trees = w.cache.join("git/trees");
    assert!(trees.join(&first).join("commit").is_file());
    assert!(trees.join(w.head()).join("commit").is_file());
    // A record names the commit a ref resolved to.
    let records: Vec<_> = std::fs::read_dir(w.cache.join("git/refs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert!(records[0].contains(&w.head()), "{}", records[0]);
}

#[test]
fn a_remote_base_cannot_reach_out_of_its_tree() {
    let w = World::new();
    write(
        &w.root,
        "outside/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    write(
        &w.root,
        "outside/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside-secret\n",
    );
    // Enough `..` to reach the temp dir from the cache's tree, whatever its depth.
    let up = "../".repeat(12);
    let outside = w.root.strip_prefix("/").unwrap().join("outside");
    write(
        &w.upstream,
        "escape/kustomization.yaml",
        &format!("resources:\n- {up}{}\n", outside.display()),
    );
    write(
        &w.upstream,
        "escape-file/kustomization.yaml",
        &format!("resources:\n- {up}{}/cm.yaml\n", outside.display()),
    );
    git(&w.upstream, &["add", "-A"]);
    git(&w.upstream, &["commit", "-qm", "escape"]);
    git(&w.upstream, &["tag", "-f", "v1"]);
    w.overlay("escape", &w.url("escape"));
    w.overlay("escape-file", &w.url("escape-file"));
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    for dir in ["escape", "escape-file"] {
        let out = w.run(&["render", dir]);
        assert_eq!(out.status.code(), Some(2), "{dir}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("is outside the fetched repository file://"),
            "{dir}: {err}"
        );
        assert!(!stdout(&out).contains("outside-secret"), "{dir}");
    }
}

#[test]
fn a_symlink_out_of_the_fetched_tree_is_refused() {
    let w = World::new();
    let secret = w.root.join("secret.yaml");
    write(
        &w.root,
        "secret.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside-secret\n",
    );
    write(
        &w.upstream,
        "linked/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    std::os::unix::fs::symlink(&secret, w.upstream.join("linked/cm.yaml")).unwrap();
    // A symlink that stays inside the tree is read like the file it names.
    write(
        &w.upstream,
        "inside/kustomization.yaml",
        "resources:\n- service.yaml\n",
    );
    std::os::unix::fs::symlink(
        "../common/service.yaml",
        w.upstream.join("inside/service.yaml"),
    )
    .unwrap();
    git(&w.upstream, &["add", "-A"]);
    git(&w.upstream, &["commit", "-qm", "links"]);
    git(&w.upstream, &["tag", "-f", "v1"]);
    w.overlay("linked", &w.url("linked"));
    write(
        &w.config,
        "inside/kustomization.yaml",
        &format!("resources:\n- {}\n", w.url("inside")),
    );
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    // The cache holds the link as a link: writing the tree followed nothing.
    let tree = w.cache.join("git/trees").join(w.head()).join("tree");
    let meta = std::fs::symlink_metadata(tree.join("linked/cm.yaml")).unwrap();
    assert!(meta.file_type().is_symlink());
    let out = w.run(&["render", "linked"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("resolves outside the fetched repository file://"),
        "{err}"
    );
    assert!(!err.contains("outside-secret") && !stdout(&out).contains("outside-secret"));
    let inside = w.run(&["render", "inside"]);
    assert_eq!(inside.status.code(), Some(0), "{}", stderr(&inside));
    assert!(stdout(&inside).contains("kind: Service"));
}

#[test]
fn remote_bases_of_fetched_trees_are_fetched_too() {
    let w = World::new();
    let other = w.root.join("other");
    write(&other, "x/kustomization.yaml", "resources:\n- cm.yaml\n");
    write(
        &other,
        "x/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-other\n",
    );
    git(&other, &["init", "-q"]);
    commit_and_tag(&other, "v2");
    write(
        &w.upstream,
        "nested/kustomization.yaml",
        &format!(
            "resources:\n- ../common\n- file://{}//x?ref=v2\n",
            other.display()
        ),
    );
    git(&w.upstream, &["add", "-A"]);
    git(&w.upstream, &["commit", "-qm", "nested"]);
    git(&w.upstream, &["tag", "-f", "v1"]);
    write(
        &w.config,
        "nested/kustomization.yaml",
        &format!("resources:\n- {}\n", w.url("nested")),
    );
    let fetched = w.run(&["fetch"]);
    assert_eq!(fetched.status.code(), Some(0), "{}", stderr(&fetched));
    let lines = stdout(&fetched);
    assert!(
        lines.contains(&format!("file://{}?ref=v2@", other.display())),
        "{lines}"
    );
    std::fs::rename(&other, w.root.join("other-gone")).unwrap();
    let out = w.run(&["render", "nested"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: from-other"));
    assert!(stdout(&out).contains("kind: Service"));
}

/// Findings in a fetched file point into it, with the URL and commit in the location; the
/// reports stay well-formed and no annotation names a path that is not in the repository.
#[test]
fn findings_in_a_fetched_file_name_the_url_and_commit() {
    let w = World::new();
    write(
        &w.config,
        "api/overlays/production/kustomization.yaml",
        &format!("resources:\n- {}\nnamePrefix: api-\n", w.url("base")),
    );
    std::fs::remove_dir_all(w.config.join("web")).unwrap();
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    let check = w.run(&["check", "--format", "json"]);
    let j = json(&check);
    let file = format!(
        "file://{}?ref=v1@{}:base/deployment.yaml",
        w.upstream.display(),
        &w.head()[..7]
    );
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["file"] == file.as_str())
        .unwrap_or_else(|| panic!("no finding in {file}: {j}"));
    let line = f["location"]["line"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(w.upstream.join("base/deployment.yaml")).unwrap();
    assert!(text.lines().nth(line - 1).is_some(), "{f}");
    let github = w.run(&["check", "--format", "github"]);
    let annotations = stdout(&github);
    for l in annotations.lines().filter(|l| l.starts_with("::")) {
        assert!(!l.contains("file=file:"), "{l}");
    }
    assert!(
        annotations.contains(&format!("{file}:{line}")),
        "{annotations}"
    );
    let sarif = w.run(&["check", "--format", "sarif"]);
    let s = json(&sarif);
    for r in s["runs"][0]["results"].as_array().unwrap() {
        for l in r["locations"].as_array().into_iter().flatten() {
            let uri = l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap();
            assert!(!uri.contains("file:"), "{uri}");
        }
    }
}

/// `buildMetadata` names a remote base's files from its repository's top, with `repo` and
/// `ref`, as kustomize does.
#[test]
fn build_metadata_names_the_remote_repository() {
    let w = World::new();
    write(
        &w.config,
        "meta/kustomization.yaml",
        &format!(
            "resources:\n- {}\nnamePrefix: x-\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
            w.url("base")
        ),
    );
    assert_eq!(w.run(&["fetch"]).status.code(), Some(0));
    let out = w.run(&["render", "meta"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let yaml = stdout(&out);
    let repo = format!("repo: file://{}\n      ref: v1\n", w.upstream.display());
    for want in [
        format!("config.kubernetes.io/origin: |\n      path: base/deployment.yaml\n      {repo}"),
        format!("config.kubernetes.io/origin: |\n      path: common/service.yaml\n      {repo}"),
        format!("      {repo}      configuredIn: base/kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator"),
        format!("      - {}        configuredIn: base/kustomization.yaml\n", repo.replace("\n      ref", "\n        ref")),
        "      - configuredIn: kustomization.yaml\n        configuredBy:\n          apiVersion: builtin\n          kind: PrefixTransformer".to_string(),
    ] {
        assert!(yaml.contains(&want), "missing:\n{want}\nin:\n{yaml}");
    }
    if let Some(kustomize) = kustomize_ref() {
        let k = Command::new(&kustomize)
            .args(["build", "meta"])
            .current_dir(&w.config)
            .output()
            .unwrap();
        assert_eq!(yaml, stdout(&k), "{}", stderr(&k));
    }
}
