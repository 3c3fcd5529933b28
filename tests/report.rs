//! What every report says about where a finding is and which finding it is, checked the way
//! consumers read it: paths relative to the git work tree in every format (a check of `deploy/`
//! in a monorepo), SARIF's `%SRCROOT%` and file-less findings, fingerprints that tell identical
//! lines apart, GitHub's annotation budget (10 per kind and step), the step summary rendered by a
//! real CommonMark renderer (markdown-it-py), and terminal escaping of repository text.

mod common;
use common::{copy_dir, git, python, python_has, skip, write};

use std::path::Path;
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// kustodian in `cwd`, with git's work-tree search stopped above `ceiling` (temp dirs are not in
/// a repository, but keep it explicit).
fn run(cwd: &Path, ceiling: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args(args)
        .current_dir(cwd)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn commit_all(r: &Path) {
    git(r, &["init", "-q", "-b", "main"]);
    git(r, &["add", "."]);
    git(r, &["commit", "-q", "-m", "config"]);
}

#[test]
fn a_subfolder_check_names_files_from_the_work_tree_root() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("mono");
    copy_dir(
        &manifest_dir().join("fixtures/rules/image-not-pinned/fail"),
        &r.join("deploy"),
    );
    write(&r, "README.md", "a monorepo\n");
    commit_all(&r);
    let want = "deploy/apps/shop/overlays/production/kustomization.yaml";
    let root_uri = format!("file://{}/", r.canonicalize().unwrap().display());
    // From the top of the work tree, and from inside the checked folder.
    for (cwd, path) in [(r.clone(), "deploy"), (r.join("deploy"), ".")] {
        let ctx = format!("check {path} in {}", cwd.display());
        let gh = run(&cwd, t.path(), &["check", path, "--format", "github"]);
        assert_eq!(gh.status.code(), Some(1), "{ctx}");
        assert!(
            stdout(&gh).contains(&format!("::error file={want},line=6")),
            "{ctx}: {}",
            stdout(&gh)
        );
        let j = json(&run(&cwd, t.path(), &["check", path, "--format", "json"]));
        let f = &j["findings"][0];
        assert_eq!(f["location"]["file"], want, "{ctx}");
        assert_eq!(
            f["related"][0]["location"]["file"], "deploy/apps/shop/base/deployment.yaml",
            "{ctx}"
        );
        let s = json(&run(&cwd, t.path(), &["check", path, "--format", "sarif"]));
        let run0 = &s["runs"][0];
        assert_eq!(
            run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], want,
            "{ctx}"
        );
        assert_eq!(
            run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            root_uri.as_str()
        );
        let human = stdout(&run(&cwd, t.path(), &["check", path, "--color", "never"]));
        assert!(human.contains(&format!("[{want}:6:11]")), "{ctx}: {human}");
        let junit = stdout(&run(&cwd, t.path(), &["check", path, "--format", "junit"]));
        assert!(junit.contains(&format!("{want}:6:11")), "{ctx}: {junit}");
        let gl = json(&run(&cwd, t.path(), &["check", path, "--format", "gitlab"]));
        assert_eq!(gl[0]["location"]["path"], want, "{ctx}");
    }
    // The --summary file too (its table names the location).
    let md = t.path().join("summary.md");
    run(
        &r,
        t.path(),
        &["check", "deploy", "--summary", md.to_str().unwrap()],
    );
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .contains(&format!("{want}:6"))
    );
}

#[test]
fn outside_a_work_tree_paths_are_relative_to_the_checked_folder() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("plain");
    copy_dir(
        &manifest_dir().join("fixtures/rules/image-not-pinned/fail"),
        &r,
    );
    let s = json(&run(
        t.path(),
        t.path(),
        &["check", "plain", "--format", "sarif"],
    ));
    let run0 = &s["runs"][0];
    assert_eq!(
        run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "apps/shop/overlays/production/kustomization.yaml"
    );
    assert_eq!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", r.canonicalize().unwrap().display())
    );
}

#[test]
fn findings_about_no_file_carry_no_location() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("repo");
    write(&r, "README.md", "not a config repo\n");
    commit_all(&r);
    let out = run(&r, t.path(), &["check", ".", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    let s = json(&out);
    let res = &s["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "config-error");
    assert!(res.get("locations").is_none(), "{res}");
    let j = json(&run(&r, t.path(), &["check", ".", "--format", "json"]));
    assert!(j["findings"][0]["location"].is_null(), "{j}");
}

/// Two containers with the same `image:` line text: two alerts for code scanning, not one.
#[test]
fn identical_image_lines_get_different_fingerprints() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("repo");
    write(
        &r,
        "apps/shop/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(
        &r,
        "apps/shop/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n      - name: a\n        image: busybox:1.36\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n      - name: b\n        image: busybox:1.36\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n",
    );
    write(
        &r,
        "apps/shop/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    commit_all(&r);
    let prints = || {
        let s = json(&run(&r, t.path(), &["check", ".", "--format", "sarif"]));
        s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] == "image-not-pinned")
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    let a = prints();
    assert_eq!(a.len(), 2, "{a:?}");
    assert_ne!(a[0], a[1]);
    assert_eq!(a, prints(), "fingerprints are stable across runs");
    let gl = json(&run(&r, t.path(), &["check", ".", "--format", "gitlab"]));
    let gl: Vec<&str> = gl
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(gl.len(), 2);
    assert_ne!(gl[0], gl[1]);
}

/// 11 apps whose base image is unpinned, each in 5 production environments: 55 violations at 11
/// base lines, reported as 11 findings that each name their 5 environments. GitHub keeps 10
/// error annotations per step: they go to 10 distinct lines, and a notice says what was left
/// out and where to find it.
#[test]
fn eleven_errors_in_five_environments_annotate_ten_locations_and_a_notice() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("repo");
    write(
        &r,
        ".kustodian.yaml",
        "stages: {prod-eu: production, prod-us: production}\n",
    );
    let envs = ["production", "prod", "live", "prod-eu", "prod-us"];
    for i in 1..=11 {
        let app = format!("apps/app{i:02}");
        write(
            &r,
            &format!("{app}/base/kustomization.yaml"),
            "resources:\n- deployment.yaml\n",
        );
        write(
            &r,
            &format!("{app}/base/deployment.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web{i}\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}\n"
            ),
        );
        for env in envs {
            write(
                &r,
                &format!("{app}/overlays/{env}/kustomization.yaml"),
                "resources:\n- ../../base\n",
            );
        }
    }
    commit_all(&r);
    let j = json(&run(&r, t.path(), &["check", ".", "--format", "json"]));
    assert_eq!(j["summary"]["errors"], 11, "{}", j["summary"]);
    let named: usize = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["environments"].as_array().unwrap().len())
        .sum();
    assert_eq!(named, 55, "every environment of every finding is named");
    let out = run(&r, t.path(), &["check", ".", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 10, "{text}");
    let files: std::collections::BTreeSet<&str> = errors
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(files.len(), 10, "ten distinct locations: {text}");
    for e in &errors {
        assert!(
            e.contains("title=image-not-pinned (app") && envs.iter().all(|env| e.contains(env)),
            "one annotation names every environment: {e}"
        );
    }
    let last = lines.last().unwrap();
    assert!(last.starts_with("::notice "), "{text}");
    assert!(
        last.contains("1 more finding(s) at 1 location(s)") && last.contains("step summary"),
        "{last}"
    );
    // Most severe first: every error before the notice.
    assert!(lines[..10].iter().all(|l| l.starts_with("::error ")));
}

/// A pull request whose rendered change and findings carry markup: the step summary, rendered
/// by markdown-it-py (CommonMark + tables), shows every value as text and collapses each diff.
#[test]
fn the_step_summary_renders_under_commonmark() {
    if !python_has("markdown_it") {
        skip(
            "the_step_summary_renders_under_commonmark",
            "python3 cannot import markdown_it (pip install markdown-it-py)",
        );
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("repo");
    let hostile = "<script>alert(1)</script>|*x*_y_`z`";
    // A container whose unpinned image the base revision had already: an existing finding,
    // in the summary's collapsed section.
    let sidecar = "side<b>car</b>|_x_";
    // App names are directory names: markup without a slash.
    let app = "w*e_b<img src=x onerror=alert(3)>&amp;";
    let deployment = |tag: &str, note: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    note: \"{note}\"\nspec:\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: \"{hostile}\"\n        image: registry.example.com/web:{tag}\n        resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}\n      - name: \"{sidecar}\"\n        image: busybox:1\n        resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}\n"
        )
    };
    write(
        &r,
        &format!("apps/{app}/base/kustomization.yaml"),
        "resources:\n- deployment.yaml\n",
    );
    write(
        &r,
        &format!("apps/{app}/base/deployment.yaml"),
        &deployment(
            "1.0@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "plain",
        ),
    );
    for env in ["staging", "production"] {
        write(
            &r,
            &format!("apps/{app}/overlays/{env}/kustomization.yaml"),
            "resources:\n- ../../base\n",
        );
    }
    commit_all(&r);
    let base = git(&r, &["rev-parse", "HEAD"]);
    write(
        &r,
        &format!("apps/{app}/base/deployment.yaml"),
        &deployment("2.0", "```\\n</details><img src=x onerror=alert(2)>"),
    );
    let md_path = t.path().join("summary.md");
    let out = run(
        &r,
        t.path(),
        &[
            "check",
            ".",
            "--base",
            &base,
            "--summary",
            md_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(md.contains("Rendered changes"), "{md}");
    let report = python(
        r#"
import html.parser, json, sys
from markdown_it import MarkdownIt
out = MarkdownIt("commonmark").enable("table").render(open(sys.argv[1]).read())
VOID = {"br", "hr", "img", "input"}
class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.pre, self.text = [], [], set(), [], []
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "pre":
            self.pre.append("details" in self.stack)
        if tag not in VOID:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> inside %s" % (tag, "/".join(self.stack)))
        else:
            self.stack.pop()
    def handle_data(self, data):
        self.text.append(data)
t = Tree()
t.feed(out)
t.close()
print(json.dumps({"html": out, "errors": t.errors, "open": t.stack, "tags": sorted(t.tags),
                  "pre_in_details": t.pre, "text": "".join(t.text)}))
"#,
        &[md_path.to_str().unwrap()],
    );
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let html = v["html"].as_str().unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{md}\n---\n{html}");
    assert_eq!(v["open"], serde_json::json!([]), "{html}");
    let pre = v["pre_in_details"].as_array().unwrap();
    assert!(!pre.is_empty(), "a rendered diff: {html}");
    assert!(
        pre.iter().all(|p| p == true),
        "every diff inside its <details>: {md}\n---\n{html}"
    );
    let allowed = [
        "br", "code", "details", "em", "h2", "h3", "h4", "li", "p", "pre", "strong", "summary",
        "table", "tbody", "td", "th", "thead", "tr", "ul",
    ];
    for tag in v["tags"].as_array().unwrap() {
        assert!(
            allowed.contains(&tag.as_str().unwrap()),
            "<{tag}> from the repository's values: {html}"
        );
    }
    let text = v["text"].as_str().unwrap();
    assert!(text.contains(hostile), "the container name as text: {text}");
    assert!(text.contains(app), "the app name as text: {text}");
    assert!(md.contains("### Versions"), "{md}");
    // The new finding in the table, the one the base revision had in the collapsed section.
    assert!(md.contains("**1 new, 1 existing**"), "{md}");
    assert!(
        text.contains(sidecar),
        "the existing finding as text: {text}"
    );
    let details = html.split("<details>").nth(1).unwrap_or("");
    assert!(
        details.starts_with("<summary>1 existing finding(s)")
            && details.contains("<table>")
            && details.contains("busybox:1"),
        "the existing finding's table inside the first <details>: {html}"
    );
    assert!(
        !html.split("<details>").next().unwrap().contains("busybox"),
        "not among the new findings: {html}"
    );
    assert!(
        text.contains("</details><img src=x onerror=alert(2)>"),
        "the diff as text: {text}"
    );
}

/// Repository text never drives the terminal: an image name holding ESC/BEL/CR (a YAML
/// double-quoted escape) is shown with visible escapes, with or without colors.
#[test]
fn control_characters_from_the_repository_never_reach_the_terminal_raw() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path().join("repo");
    write(
        &r,
        "apps/shop/base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    write(
        &r,
        "apps/shop/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n      - name: \"shop\\r\\u009b2J\"\n        image: \"evil\\e]0;pwned\\a\\e[2J:1.0\"\n        resources: {limits: {cpu: 100m, memory: 64Mi}}\n",
    );
    write(
        &r,
        "apps/shop/overlays/production/kustomization.yaml",
        "resources:\n- ../../base\n",
    );
    for color in ["never", "always"] {
        let out = run(&r, t.path(), &["check", ".", "--color", color]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let text = stdout(&out);
        assert!(text.contains("image-not-pinned"), "{text}");
        for raw in ["\u{1b}]0;pwned", "\u{7}", "\u{1b}[2J", "\r", "\u{9b}"] {
            assert!(
                !text.contains(raw),
                "--color {color}: raw {raw:?} in {text:?}"
            );
        }
        assert!(
            text.contains(r"evil\u{1b}]0;pwned\u{7}\u{1b}[2J:1.0"),
            "--color {color}: {text}"
        );
        if color == "never" {
            assert!(!text.contains('\u{1b}'), "no escape at all: {text:?}");
        }
    }
}
