//! Micro-benchmarks of the pipeline stages (`cargo bench`): YAML parsing, one overlay's render,
//! and a whole-repository check of a generated repo. `scripts/bench` is the end-to-end comparison
//! against the real kustomize; these pin down which stage a change made faster or slower.
//!
//! The repositories come from `scripts/gen-synthetic-repo` (seeded, so every run sees the same
//! input).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use kustodian::check::{self, CheckOptions};
use kustodian::render::Renderer;
use kustodian::source::{DiskFs, FileId, Sources};

fn main() {
    divan::main();
}

/// A generated repository of `n` apps, made once per process.
fn repo(n: usize) -> PathBuf {
    static DIRS: OnceLock<tempfile::TempDir> = OnceLock::new();
    let root = DIRS.get_or_init(|| tempfile::tempdir().unwrap()).path();
    let dir = root.join(format!("repo{n}"));
    if !dir.exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-synthetic-repo");
        let ok = std::process::Command::new("python3")
            .arg(script)
            .arg(n.to_string())
            .arg(&dir)
            .status()
            .expect("python3 runs scripts/gen-synthetic-repo");
        assert!(ok.success());
    }
    dir
}

#[divan::bench]
fn parse_deployment(b: divan::Bencher) {
    let text = std::fs::read_to_string(repo(1).join("apps/app-0000/base/deployment.yaml")).unwrap();
    b.counter(divan::counter::BytesCount::of_str(&text))
        .bench(|| kustodian::yaml::parse_documents(divan::black_box(&text), FileId(0)).unwrap());
}

/// One overlay with its base, from a cold renderer (nothing memoized).
#[divan::bench]
fn render_overlay(b: divan::Bencher) {
    let root = repo(1);
    b.bench(|| {
        let fs = Arc::new(DiskFs::new(&root).unwrap());
        let r = Renderer::new(fs, Sources::new());
        r.build("apps/app-0000/overlays/production").unwrap()
    });
}

/// `kustodian check` of a whole repository (discover, render, rules), in-process.
#[divan::bench(args = [10, 100], sample_count = 10)]
fn check_repo(b: divan::Bencher, apps: usize) {
    let root = repo(apps);
    b.bench(|| {
        let out = check::run(&CheckOptions {
            root: root.clone(),
            policy: None,
            envs: vec![],
            apps: vec![],
            base: None,
            actor: None,
            shard: None,
            now: Some("2026-12-02T12:00:00Z".into()),
            ..CheckOptions::default()
        });
        assert_eq!(out.exit_code(), 0);
        out.summary.resources
    });
}

/// Schema validation of one rendered Deployment against the bundled Kubernetes schema.
#[divan::bench]
fn validate_deployment(b: divan::Bencher) {
    let root = repo(1);
    let fs = Arc::new(DiskFs::new(&root).unwrap());
    let build = Renderer::new(fs, Sources::new())
        .build("apps/app-0000/overlays/production")
        .unwrap();
    let deployment = build
        .resources
        .iter()
        .find(|r| r.kind() == "Deployment")
        .unwrap();
    let schemas = kustodian::schema::SchemaSet::new(None, true, &[]).unwrap();
    b.bench(|| schemas.validate(divan::black_box(&deployment.node)));
}
