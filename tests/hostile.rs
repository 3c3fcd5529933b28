//! Hostile repositories (docs/security.md): the repository kustodian checks is a pull request's,
//! on a runner that holds secrets. Each case below breaks a small repository the way an attacker
//! or a careless user would — symlinks out of the root, FIFOs, devices, memory and stack bombs,
//! files kustomize refuses — and runs the real binary in every output format, asserting:
//!
//! - the exit code (0 clean, 1 findings, 2 could not evaluate), and the diagnostic's words;
//! - that no text from outside the repository (a secret file's content, the runner's environment,
//!   the outside directory's path) appears in any output: stdout, stderr, the step summary and the
//!   report files;
//! - a wall-time and a peak-memory bound per run (10 s and 1 GiB, far above what each needs;
//!   peak memory is the child's own, from `wait4`);
//! - for a case that breaks one overlay, that every other overlay's findings are still reported
//!   and no overlay dropped out of the count.
//!
//! FIFOs, sockets, sparse files and symlinks are made by the test in temp dirs; a device node
//! only when the test runs as root. Each run prints `hostile: <case> <format> exit=.. secs=..
//! rss=..KiB` (see it with `--nocapture`); docs/security.md quotes those figures.

mod common;

use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::write;

/// What every output must never contain: the secret file's text and the runner's environment.
const MARKER: &str = "OUTSIDE-SECRET-7f3a9c";
/// Bounds far above what any case needs (the figures printed are a few ms and a few MiB in a
/// release build). `cargo test` runs a debug build, whose byte-by-byte loops over the 24 MB of
/// the deepest case run some twenty times slower: there the time bound is 60 s; run
/// `cargo test --release --test hostile` for the 10 s one.
const MAX_SECS: f64 = if cfg!(debug_assertions) { 60.0 } else { 10.0 };
const MAX_RSS_KIB: i64 = 1 << 20;
/// A run still going after this is killed (and fails its wall-time bound).
const KILL_AFTER: Duration = Duration::from_secs(60);

const APPS: [&str; 3] = ["a", "b", "c"];
const ENVS: [&str; 3] = ["dev", "staging", "production"];

/// One finished run of the binary.
struct Run {
    code: i32,
    out: String,
    secs: f64,
    rss_kib: i64,
}

/// Runs a command to the end, measuring its wall time and peak resident memory (`wait4`), and
/// killing it if it outlives [`KILL_AFTER`].
// The child is reaped by `wait4`, which also returns its resource usage (`Child::wait` does not).
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            String::from_utf8_lossy(&b).into_owned()
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + KILL_AFTER;
            while Instant::now() < until {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !done.load(Ordering::SeqCst) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
    }
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    done.store(true, Ordering::SeqCst);
    assert_eq!(r, pid, "wait4 failed");
    let secs = start.elapsed().as_secs_f64();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Run {
        code,
        out: format!(
            "{}\n--- stderr ---\n{}",
            out.join().unwrap(),
            err.join().unwrap()
        ),
        secs,
        rss_kib: usage.ru_maxrss,
    }
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {p:?}"
    );
}

/// A repository of three apps with three environments each, every overlay with a finding of its
/// own (`image-not-pinned` in every stage), and a directory outside it holding a secret.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
    reports: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let outside = dir.path().join("outside-dir-x9");
        let reports = dir.path().join("reports");
        std::fs::create_dir_all(&reports).unwrap();
        for app in APPS {
            write(
                &root,
                &format!("apps/{app}/base/kustomization.yaml"),
                "resources: [deploy.yaml]\n",
            );
            write(
                &root,
                &format!("apps/{app}/base/deploy.yaml"),
                &format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n  selector:\n    matchLabels: {{app: {app}}}\n  template:\n    metadata:\n      labels: {{app: {app}}}\n    spec:\n      containers:\n      - name: {app}\n        image: ghcr.io/x/{app}:latest\n        resources:\n          limits: {{cpu: 100m, memory: 64Mi}}\n"
                ),
            );
            for env in ENVS {
                write(
                    &root,
                    &format!("apps/{app}/overlays/{env}/kustomization.yaml"),
                    &format!("resources:\n- ../../base\nnamePrefix: {env}-\n"),
                );
            }
        }
        write(
            &root,
            ".kustodian.yaml",
            "rules:\n  image-not-pinned:\n    stages: [dev, staging, production]\n",
        );
        write(
            &outside,
            "secret.yaml",
            &format!("# {MARKER}\nkind: Secret\n"),
        );
        write(
            &outside,
            "config.yaml",
            &format!("# {MARKER}\nignore: [\"**\"]\n"),
        );
        write(
            &outside,
            "kustomization.yaml",
            &format!("# {MARKER}\nresources: []\nnamePrefix: x-\n"),
        );
        Fixture {
            _dir: dir,
            root,
            outside,
            reports,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        write(&self.root, rel, text);
    }

    /// Replaces whatever is at `rel` with a symlink to `target`.
    fn link(&self, rel: &str, target: &Path) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        symlink(target, p).unwrap();
    }

    /// Runs `check` in every output format; returns the runs (human, github, json, sarif).
    fn check_all(&self, case: &str, extra: &[&str]) -> Vec<Run> {
        let mut runs = Vec::new();
        for format in ["human", "github", "json", "sarif"] {
            let summary = self.reports.join(format!("{format}-step-summary.md"));
            let _ = std::fs::remove_file(&summary);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_kustodian"));
            cmd.arg("check")
                .arg(&self.root)
                .args(["--format", format, "--color", "never"])
                .args(extra)
                .env("KUSTODIAN_HOSTILE_SECRET", MARKER)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env_remove("GITHUB_ACTIONS");
            let files: Vec<PathBuf> = if format == "human" {
                let fs: Vec<PathBuf> = ["summary.md", "report.sarif", "report.json"]
                    .iter()
                    .map(|f| self.reports.join(f))
                    .collect();
                cmd.arg("--summary")
                    .arg(&fs[0])
                    .arg("--sarif-output")
                    .arg(&fs[1])
                    .arg("--json-output")
                    .arg(&fs[2]);
                fs
            } else {
                vec![summary]
            };
            let mut run = measure(&mut cmd);
            for f in files {
                if let Ok(text) = std::fs::read_to_string(&f) {
                    run.out
                        .push_str(&format!("\n--- {} ---\n{text}", f.display()));
                }
            }
            println!(
                "hostile: {case} {format} exit={} secs={:.3} rss={}KiB",
                run.code, run.secs, run.rss_kib
            );
            assert!(
                !run.out.contains(MARKER),
                "{case} ({format}): outside content in the output:\n{}",
                run.out
            );
            let outside = self.outside.display().to_string();
            assert!(
                !run.out.contains(&outside),
                "{case} ({format}): the outside path in the output:\n{}",
                run.out
            );
            assert!(
                run.secs < MAX_SECS,
                "{case} ({format}): {:.1} s:\n{}",
                run.secs,
                run.out
            );
            assert!(
                run.rss_kib < MAX_RSS_KIB,
                "{case} ({format}): {} KiB peak memory",
                run.rss_kib
            );
            runs.push(run);
        }
        runs
    }
}

/// The JSON report's findings as (app, environment, rule, message).
fn findings(json: &str) -> Vec<(String, String, String, String)> {
    let json = json.split("\n--- stderr ---\n").next().unwrap();
    let v: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{json}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            // One finding at one source line in several environments is reported once, naming
            // them all in `environments`; each of them counts as reported here.
            let envs: Vec<String> = match f["environments"].as_array() {
                Some(list) if !list.is_empty() => list
                    .iter()
                    .map(|e| e.as_str().unwrap_or("").to_string())
                    .collect(),
                _ => vec![s("environment")],
            };
            envs.into_iter()
                .map(|e| (s("app"), e, s("rule"), s("message")))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn overlay_count(json: &str) -> u64 {
    let json = json.split("\n--- stderr ---\n").next().unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["summary"]["overlays"].as_u64().unwrap()
}

/// A hostile case: what it does to the fixture, the exit code expected in every format, words
/// the JSON report must contain, and the overlay it breaks (whose neighbours must still report).
struct Case {
    name: &'static str,
    setup: fn(&Fixture),
    code: i32,
    says: &'static str,
    breaks: Option<(&'static str, &'static str)>,
    args: &'static [&'static str],
}

fn run_case(c: &Case) {
    let f = Fixture::new();
    (c.setup)(&f);
    let runs = f.check_all(c.name, c.args);
    for r in &runs {
        assert_eq!(r.code, c.code, "{}: exit code\n{}", c.name, r.out);
    }
    let json = &runs[2].out;
    assert!(
        json.contains(c.says),
        "{}: the report does not say {:?}:\n{json}",
        c.name,
        c.says
    );
    if let Some((app, env)) = c.breaks {
        let found = findings(json);
        for a in APPS {
            for e in ENVS {
                if (a, e) == (app, env) {
                    continue;
                }
                assert!(
                    found
                        .iter()
                        .any(|(fa, fe, rule, _)| fa == a && fe == e && rule == "image-not-pinned"),
                    "{}: breaking {app}/{env} hid the findings of {a}/{e}:\n{json}",
                    c.name
                );
            }
        }
        assert!(
            found.iter().any(|(fa, fe, _, _)| fa == app && fe == env),
            "{}: the broken overlay {app}/{env} is not reported:\n{json}",
            c.name
        );
        assert_eq!(
            overlay_count(json),
            9,
            "{}: an overlay dropped out of the count",
            c.name
        );
    }
}

/// `depth` nested flow sequences as a ConfigMap value.
fn deep_flow(depth: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// A mapping `depth` levels deep, one space of indentation per level.
fn deep_block(depth: usize) -> String {
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nx:\n");
    for i in 0..depth {
        s.push_str(&" ".repeat(i + 1));
        s.push_str("a:\n");
    }
    s
}

/// Nine levels of nine aliases each: 387 million nodes from a few hundred bytes.
fn laughs(indent: &str) -> String {
    let mut s = format!("{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = format!("*l{}", i - 1);
        s += &format!(
            "{indent}l{i}: &l{i} [{}]\n",
            std::iter::repeat_n(p.as_str(), 9)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

const OV: &str = "apps/a/overlays/dev";

/// The broken overlay's kustomization with more fields (`resources: [x]` adds to its own).
fn overlay_kustomization(extra: &str) -> String {
    match extra.strip_prefix("resources: [") {
        Some(rest) => {
            let (list, more) = rest.split_once("]\n").unwrap();
            format!("resources:\n- ../../base\n- {list}\nnamePrefix: dev-\n{more}")
        }
        None => format!("resources:\n- ../../base\nnamePrefix: dev-\n{extra}"),
    }
}

fn cases() -> Vec<Case> {
    vec![
        // --- Security: nothing outside the root is read, followed or echoed.
        Case {
            name: "config-symlink-to-proc-environ",
            setup: |f| f.link(".kustodian.yaml", Path::new("/proc/self/environ")),
            code: 2,
            says: "outside the repository root",
            breaks: None,
            args: &[],
        },
        Case {
            name: "config-yml-symlink-to-outside-settings",
            setup: |f| {
                std::fs::remove_file(f.path(".kustodian.yaml")).unwrap();
                f.link(".kustodian.yml", &f.outside.join("config.yaml"));
            },
            code: 2,
            says: "outside the repository root",
            breaks: None,
            args: &[],
        },
        Case {
            name: "codeowners-symlink-out",
            setup: |f| f.link(".github/CODEOWNERS", &f.outside.join("secret.yaml")),
            code: 2,
            says: "cannot read CODEOWNERS",
            breaks: None,
            args: &[],
        },
        Case {
            name: "component-kustomization-symlink-out",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("components: [../../comp]\n"),
                );
                f.link(
                    "apps/a/comp/kustomization.yaml",
                    &f.outside.join("kustomization.yaml"),
                );
            },
            code: 2,
            says: "outside the repository root",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "resource-symlink-out-by-dotdot",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [leak.yaml]\n"),
                );
                let rel = Path::new("../../../../../outside-dir-x9/secret.yaml");
                f.link(&format!("{OV}/leak.yaml"), rel);
            },
            code: 2,
            says: "outside the repository root",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "base-directory-symlink-out",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    "resources:\n- ../../base\n- ../../elsewhere\n",
                );
                f.link("apps/a/elsewhere", &f.outside);
            },
            code: 2,
            says: "elsewhere",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        // --- Crashes and resource exhaustion: a diagnostic, exit 2, bounded time and memory.
        Case {
            name: "label-past-65535-columns",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(&format!(
                        "commonAnnotations: {{a: \"{}\", b: [1]}}\n",
                        "x".repeat(70_000)
                    )),
                );
            },
            code: 2,
            says: "must be a string",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "flow-nesting-4500",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [deep.yaml]\n"),
                );
                f.write(&format!("{OV}/deep.yaml"), &deep_flow(4500));
            },
            code: 2,
            says: "over the 'depth' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "block-mapping-7000-deep",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [deep.yaml]\n"),
                );
                f.write(&format!("{OV}/deep.yaml"), &deep_block(7000));
            },
            code: 2,
            says: "over the 'depth' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "nesting-at-the-depth-budget-renders",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [deep.yaml]\n"),
                );
                // The ConfigMap's own two levels plus 253: exactly the default budget of 256.
                f.write(&format!("{OV}/deep.yaml"), &deep_flow(254));
            },
            code: 1,
            says: "image-not-pinned",
            breaks: None,
            args: &[],
        },
        Case {
            name: "bases-doubling-under-prefixes",
            setup: |f| {
                // Each level includes both of the next under a prefix of its own: 2^30 objects.
                for i in 0..30 {
                    for side in ["a", "b"] {
                        let k = if i == 29 {
                            format!("resources: [cm.yaml]\nnamePrefix: {side}\n")
                        } else {
                            format!(
                                "resources: [../l{}a, ../l{}b]\nnamePrefix: {side}\n",
                                i + 1,
                                i + 1
                            )
                        };
                        f.write(&format!("apps/a/d/l{i}{side}/kustomization.yaml"), &k);
                    }
                }
                f.write(
                    "apps/a/d/l29a/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
                );
                f.write(
                    "apps/a/d/l29b/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
                );
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [../../d/l0a]\n"),
                );
            },
            code: 2,
            says: "over the 'resources' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "bases-nested-past-the-budget",
            setup: |f| {
                for i in 0..700 {
                    f.write(
                        &format!("apps/a/chain/l{i}/kustomization.yaml"),
                        &format!("resources: [../l{}]\n", i + 1),
                    );
                }
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [../../chain/l0]\n"),
                );
            },
            code: 2,
            says: "over the 'nesting' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "prefix-at-every-level",
            setup: |f| {
                let prefix = "p".repeat(100);
                for i in 0..20 {
                    let next = if i == 19 {
                        "../../base".to_string()
                    } else {
                        format!("../l{}", i + 1)
                    };
                    f.write(
                        &format!("apps/a/chain/l{i}/kustomization.yaml"),
                        &format!("resources: [{next}]\nnamePrefix: {prefix}-\n"),
                    );
                }
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    "resources:\n- ../../chain/l0\n",
                );
            },
            code: 2,
            says: "over the 'name-bytes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "billion-laughs-in-a-resource",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [lol.yaml]\n"),
                );
                f.write(
                    &format!("{OV}/lol.yaml"),
                    &format!(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n{}",
                        laughs("  ")
                    ),
                );
            },
            code: 2,
            says: "over the 'alias-nodes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "billion-laughs-in-a-patch",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("patches:\n- path: lol.yaml\n"),
                );
                f.write(
                    &format!("{OV}/lol.yaml"),
                    &format!(
                        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  annotations:\n{}",
                        laughs("    ")
                    ),
                );
            },
            code: 2,
            says: "over the 'alias-nodes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "billion-laughs-in-a-kustomization",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(&format!("metadata:\n{}", laughs("  "))),
                );
            },
            code: 2,
            says: "over the 'alias-nodes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "billion-laughs-in-the-config",
            setup: |f| f.write(".kustodian.yaml", &format!("x:\n{}", laughs("  "))),
            code: 2,
            says: "over the 'alias-nodes' budget",
            breaks: None,
            args: &[],
        },
        Case {
            name: "json-patch-copy-bomb",
            setup: |f| {
                let ops: String = (0..40)
                    .map(|i| format!("    - op: copy\n      from: /spec\n      path: /spec/s{i}\n"))
                    .collect();
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(&format!(
                        "patches:\n- target: {{kind: Deployment}}\n  patch: |-\n{ops}"
                    )),
                );
            },
            code: 2,
            says: "over the 'nodes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "huge-sparse-file",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [huge.yaml]\n"),
                );
                let file = std::fs::File::create(f.path(&format!("{OV}/huge.yaml"))).unwrap();
                file.set_len(16 << 30).unwrap();
            },
            code: 2,
            says: "over the 'file-bytes' budget",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "tree-bytes-budget",
            setup: |_| {},
            code: 2,
            says: "over the 'tree-bytes' budget",
            breaks: None,
            args: &["--limits", "tree-bytes=1KiB"],
        },
        Case {
            name: "fifo-as-generator-file",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("configMapGenerator:\n- name: g\n  files: [data.txt]\n"),
                );
                mkfifo(&f.path(&format!("{OV}/data.txt")));
            },
            code: 2,
            says: "is a FIFO",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "fifo-as-component-file",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("components: [../../comp]\n"),
                );
                mkfifo(&f.path("apps/a/comp/kustomization.yaml"));
            },
            code: 2,
            says: "is a FIFO",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "fifo-as-config",
            setup: |f| {
                std::fs::remove_file(f.path(".kustodian.yaml")).unwrap();
                mkfifo(&f.path(".kustodian.yaml"));
            },
            code: 2,
            says: "is a FIFO",
            breaks: None,
            args: &[],
        },
        Case {
            name: "socket-as-resource",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [sock.yaml]\n"),
                );
                let l = std::os::unix::net::UnixListener::bind(f.path(&format!("{OV}/sock.yaml")))
                    .unwrap();
                // The socket file stays after the listener is gone.
                drop(l);
            },
            code: 2,
            says: "is a socket",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        // --- Silent skips in discovery: an error that names the overlay.
        Case {
            name: "overlay-kustomization-symlink-out",
            setup: |f| {
                f.link(
                    &format!("{OV}/kustomization.yaml"),
                    &f.outside.join("kustomization.yaml"),
                );
            },
            code: 2,
            says: "apps/a/overlays/dev/kustomization.yaml",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "overlay-directory-symlink-out",
            setup: |f| {
                std::fs::remove_dir_all(f.path(OV)).unwrap();
                f.link(OV, &f.outside);
            },
            code: 2,
            says: "apps/a/overlays/dev",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "overlay-kustomization-dangling",
            setup: |f| f.link(&format!("{OV}/kustomization.yaml"), Path::new("gone.yaml")),
            code: 2,
            says: "symlink to nothing",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "overlay-kustomization-is-a-directory",
            setup: |f| {
                std::fs::remove_file(f.path(&format!("{OV}/kustomization.yaml"))).unwrap();
                std::fs::create_dir(f.path(&format!("{OV}/kustomization.yaml"))).unwrap();
            },
            code: 2,
            says: "is a directory",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "empty-kustomization-0-bytes",
            setup: |f| f.write(&format!("{OV}/kustomization.yaml"), ""),
            code: 2,
            says: "is empty",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "empty-kustomization-dashes",
            setup: |f| f.write(&format!("{OV}/kustomization.yaml"), "---\n---\n"),
            code: 2,
            says: "is empty",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "empty-kustomization-comments",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    "# resources:\n# - ../../base\n",
                );
            },
            code: 2,
            says: "is empty",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        // --- What kustomize refuses is refused.
        Case {
            name: "invalid-utf8",
            setup: |f| {
                std::fs::write(
                    f.path("apps/a/base/deploy.yaml"),
                    b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  annotations: {x: \"caf\xe9\"}\n",
                )
                .unwrap();
            },
            code: 2,
            says: "invalid UTF-8 at line 5",
            breaks: None,
            args: &[],
        },
        Case {
            name: "yaml-and-yml-side-by-side",
            setup: |f| f.write(&format!("{OV}/kustomization.yml"), "resources: []\n"),
            code: 2,
            says: "multiple kustomization files",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "malformed-label-selector",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(
                        "patches:\n- target:\n    labelSelector: \"app in (a\"\n  patch: |-\n    - op: add\n      path: /metadata/labels/x\n      value: y\n",
                    ),
                );
            },
            code: 2,
            says: "invalid labelSelector",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "patch-with-path-and-patch",
            setup: |f| {
                f.write(
                    &format!("{OV}/p.yaml"),
                    "- op: add\n  path: /metadata/labels/x\n  value: y\n",
                );
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(
                        "patches:\n- target: {kind: Deployment}\n  path: p.yaml\n  patch: |-\n    - op: add\n      path: /metadata/labels/z\n      value: y\n",
                    ),
                );
            },
            code: 2,
            says: "both 'path' and 'patch'",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "json-patch-root-to-scalar",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization(
                        "patches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: replace\n      path: \"\"\n      value: 5\n",
                    ),
                );
            },
            code: 2,
            says: "must be object or array",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "kind-5-in-kustomization",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("kind: 5\n"),
                );
            },
            code: 2,
            says: "'kind' must be a string",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "unknown-kustomization-api-version",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("apiVersion: kustomize.config.k8s.io/v9\n"),
                );
            },
            code: 2,
            says: "apiVersion for Kustomization should be",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        Case {
            name: "merge-key-with-a-scalar",
            setup: |f| {
                f.write(
                    &format!("{OV}/kustomization.yaml"),
                    &overlay_kustomization("resources: [m.yaml]\n"),
                );
                f.write(
                    &format!("{OV}/m.yaml"),
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  <<: 5\n",
                );
            },
            code: 2,
            says: "map merge requires map or sequence of maps",
            breaks: Some(("a", "dev")),
            args: &[],
        },
        // --- Configuration accepted silently.
        Case {
            name: "freeze-to-before-from",
            setup: |f| {
                f.write(
                    ".kustodian.yaml",
                    "freeze:\n- name: x\n  from: \"2026-02-01T00:00:00Z\"\n  to: \"2026-01-01T00:00:00Z\"\n",
                );
            },
            code: 2,
            says: "is not after `from`",
            breaks: None,
            args: &[],
        },
        Case {
            name: "duplicate-config-keys",
            setup: |f| f.write(".kustodian.yaml", "ignore: [\"apps/a/**\"]\nignore: []\n"),
            code: 2,
            says: "duplicate key 'ignore'",
            breaks: None,
            args: &[],
        },
        Case {
            name: "config-is-a-directory",
            setup: |f| {
                std::fs::remove_file(f.path(".kustodian.yaml")).unwrap();
                std::fs::create_dir(f.path(".kustodian.yaml")).unwrap();
            },
            code: 2,
            says: "is a directory",
            breaks: None,
            args: &[],
        },
        Case {
            name: "config-glob-error-has-a-line",
            setup: |f| f.write(".kustodian.yaml", "ignore:\n- ok/**\n- \"a[b\"\n"),
            code: 2,
            says: "\"line\": 3",
            breaks: None,
            args: &[],
        },
        Case {
            name: "config-cannot-raise-a-budget",
            setup: |f| f.write(".kustodian.yaml", "limits:\n  depth: 100000\n"),
            code: 2,
            says: "may only lower its budgets",
            breaks: None,
            args: &[],
        },
        Case {
            name: "codeowners-owner-without-at",
            setup: |f| f.write(".github/CODEOWNERS", "/apps/ alice\n"),
            code: 1,
            says: "GitHub skips the rule '/apps/'",
            breaks: None,
            args: &[],
        },
    ]
}

#[test]
fn every_hostile_case() {
    let only = std::env::var("HOSTILE_CASE").ok();
    for c in cases() {
        if only.as_deref().is_some_and(|o| o != c.name) {
            continue;
        }
        run_case(&c);
    }
}

#[test]
fn a_device_node_is_never_read() {
    if !is_root() {
        println!("hostile: device case skipped (not root)");
        return;
    }
    let f = Fixture::new();
    f.write(
        &format!("{OV}/kustomization.yaml"),
        &overlay_kustomization("resources: [zero.yaml]\n"),
    );
    let p = std::ffi::CString::new(
        f.path(&format!("{OV}/zero.yaml"))
            .as_os_str()
            .as_encoded_bytes(),
    )
    .unwrap();
    // The device /dev/zero is (1, 5): read whole, it never ends.
    let dev = libc::makedev(1, 5);
    assert_eq!(
        unsafe { libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o600, dev) },
        0
    );
    let runs = f.check_all("char-device-as-resource", &[]);
    for r in &runs {
        assert_eq!(r.code, 2, "{}", r.out);
    }
    assert!(
        runs[2].out.contains("is a character device"),
        "{}",
        runs[2].out
    );
}

/// kustomize renders a chain of 500 nested bases; so does kustodian, on its worker threads (each
/// level adds a label: a prefix at every level would pass the `name-bytes` budget, see
/// `prefix-at-every-level`).
#[test]
fn five_hundred_nested_bases_render() {
    let f = Fixture::new();
    for i in 0..500 {
        let next = if i == 499 {
            "resources:\n- ../../base\n".to_string()
        } else {
            format!("resources:\n- ../l{}\ncommonLabels: {{l{i}: x}}\n", i + 1)
        };
        f.write(&format!("apps/a/chain/l{i}/kustomization.yaml"), &next);
    }
    f.write(
        &format!("{OV}/kustomization.yaml"),
        "resources:\n- ../../chain/l0\n",
    );
    let runs = f.check_all("five-hundred-nested-bases", &[]);
    for r in &runs {
        assert_eq!(r.code, 1, "{}", r.out);
    }
    let found = findings(&runs[2].out);
    assert!(
        found
            .iter()
            .any(|(a, e, rule, _)| a == "a" && e == "dev" && rule == "image-not-pinned"),
        "{}",
        runs[2].out
    );
    assert!(!found.iter().any(|(_, _, rule, _)| rule == "render-error"));
}

/// Report files: written through a symlink to its target (the link stays), into a FIFO and a
/// device directly, the mode of an existing file kept, and the umask honoured for a new one.
#[test]
fn report_files_follow_links_keep_modes_and_honour_the_umask() {
    let f = Fixture::new();
    let real = f.reports.join("real");
    std::fs::create_dir(&real).unwrap();
    let target = real.join("report.json");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = f.reports.join("link.json");
    symlink(&target, &link).unwrap();
    let summary = f.reports.join("summary.md");
    std::fs::write(&summary, "old").unwrap();
    std::fs::set_permissions(&summary, std::fs::Permissions::from_mode(0o604)).unwrap();
    let fifo = f.reports.join("pipe");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let fresh = f.reports.join("fresh.sarif");
    let bin = env!("CARGO_BIN_EXE_kustodian");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 027; exec \"$0\" \"$@\"")
        .arg(bin)
        .arg("check")
        .arg(&f.root)
        .args(["--format", "human", "--color", "never", "--json-output"])
        .arg(&link)
        .arg("--summary")
        .arg(&summary)
        .arg("--sarif-output")
        .arg(&fresh)
        .arg("--output")
        .arg(&fifo);
    let run = measure(&mut cmd);
    assert_eq!(run.code, 1, "{}", run.out);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("\"findings\"")
    );
    assert_eq!(mode(&target), 0o640);
    assert_eq!(mode(&summary), 0o604);
    assert_eq!(mode(&fresh), 0o640, "0666 less the umask 027");
    assert!(reader.join().unwrap().contains("image-not-pinned"));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // Only the reports themselves were left in the directories (no temporary files).
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 1);
    // A device is written to, not replaced (/dev/null stays a device whatever we write).
    let mut cmd = Command::new(bin);
    cmd.arg("check")
        .arg(&f.root)
        .args(["--format", "json", "--output", "/dev/null"]);
    assert_eq!(measure(&mut cmd).code, 1);
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// Messages that said "no such file or directory" for what is something else.
#[test]
fn generator_files_say_what_they_are() {
    let f = Fixture::new();
    f.write(
        &format!("{OV}/kustomization.yaml"),
        &overlay_kustomization("configMapGenerator:\n- name: g\n  files: [loop.txt]\n"),
    );
    f.link(&format!("{OV}/loop.txt"), Path::new("loop2.txt"));
    f.link(&format!("{OV}/loop2.txt"), Path::new("loop.txt"));
    f.write(
        "apps/b/overlays/dev/kustomization.yaml",
        "resources:\n- ../../base\nconfigMapGenerator:\n- name: g\n  files: [dir]\n",
    );
    std::fs::create_dir(f.path("apps/b/overlays/dev/dir")).unwrap();
    let runs = f.check_all("generator-file-messages", &[]);
    let json = &runs[2].out;
    assert_eq!(runs[2].code, 2);
    assert!(json.contains("symlink loop"), "{json}");
    assert!(json.contains("is a directory"), "{json}");
    assert!(!json.contains("no such file"), "{json}");
}

/// A policy's type error names the field and the value.
#[test]
fn policy_type_errors_name_the_value() {
    let f = Fixture::new();
    let policy = f.reports.join("policy.yaml");
    std::fs::write(&policy, "rules:\n  image-not-pinned:\n    severity: 5\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kustodian"));
    cmd.arg("check")
        .arg(&f.root)
        .args(["--format", "json", "--policy"])
        .arg(&policy);
    let run = measure(&mut cmd);
    assert_eq!(run.code, 2, "{}", run.out);
    assert!(
        run.out
            .contains("rules.image-not-pinned.severity: 5 is not valid"),
        "{}",
        run.out
    );
}
