//! A whole repository, rendered and checked in memory, then reported in every format. The input
//! is structure-aware (`arbitrary`): apps with a base and environments built from a small
//! vocabulary, so most inputs are repositories kustodian gets far into, plus raw text where any
//! file may go wrong (an overlay's extra fields, a broken file, `.kustodian.yaml`, CODEOWNERS).
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use arbitrary::Arbitrary;
use kustodian::check::{CheckOptions, check_tree};
use kustodian::report::Report;
use kustodian::rules::CATALOG;
use kustodian::settings::{Config, Policy};
use kustodian::report::{github, human, json, sarif};
use kustodian::source::{Fs, MemFs, Sources};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Repo {
    apps: Vec<App>,
    config: Option<String>,
    codeowners: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct App {
    name: Word,
    base: Vec<Object>,
    envs: Vec<Env>,
}

#[derive(Arbitrary, Debug)]
struct Env {
    name: EnvName,
    image: Option<Image>,
    replicas: Option<u8>,
    prefix: Option<Word>,
    patch_limits: bool,
    /// Raw text appended to the overlay's kustomization.
    extra: Option<String>,
    /// A file of the overlay replaced by raw text.
    broken: Option<(Which, String)>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    Kustomization,
    Patch,
    BaseResource,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Object {
    kind: Kind,
    name: Word,
    image: Image,
    replicas: u8,
    limits: bool,
    secret_ref: Option<Word>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    Deployment,
    StatefulSet,
    ConfigMap,
    Secret,
    Service,
    CronJob,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Word {
    Web,
    Api,
    Worker,
    Db,
    Cache,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum EnvName {
    Dev,
    Staging,
    Production,
    Qa,
    Sandbox,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Image {
    Latest,
    Tagged(u8),
    Digest(u8),
    Bare,
}

impl Word {
    fn s(self) -> &'static str {
        match self {
            Word::Web => "web",
            Word::Api => "api",
            Word::Worker => "worker",
            Word::Db => "db",
            Word::Cache => "cache",
        }
    }
}

impl EnvName {
    fn s(self) -> &'static str {
        match self {
            EnvName::Dev => "dev",
            EnvName::Staging => "staging",
            EnvName::Production => "production",
            EnvName::Qa => "qa",
            EnvName::Sandbox => "sandbox",
        }
    }
}

impl Image {
    fn s(self) -> String {
        match self {
            Image::Latest => "ghcr.io/x/app:latest".into(),
            Image::Tagged(n) => format!("ghcr.io/x/app:1.{n}.0"),
            Image::Digest(n) => format!("ghcr.io/x/app@sha256:{}", format!("{n:02x}").repeat(32)),
            Image::Bare => "ghcr.io/x/app".into(),
        }
    }
}

impl Object {
    fn yaml(&self) -> String {
        let name = self.name.s();
        let pod = |indent: &str| {
            let mut s = format!(
                "{indent}containers:\n{indent}- name: {name}\n{indent}  image: {}\n",
                self.image.s()
            );
            if self.limits {
                s += &format!("{indent}  resources:\n{indent}    limits:\n{indent}      cpu: 100m\n{indent}      memory: 64Mi\n");
            }
            if let Some(sec) = self.secret_ref {
                s += &format!("{indent}  envFrom:\n{indent}  - secretRef:\n{indent}      name: {}\n", sec.s());
            }
            s
        };
        match self.kind {
            Kind::Deployment | Kind::StatefulSet => format!(
                "apiVersion: apps/v1\nkind: {:?}\nmetadata:\n  name: {name}\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n{}",
                self.kind,
                self.replicas,
                pod("      ")
            ),
            Kind::CronJob => format!(
                "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n{}",
                pod("          ")
            ),
            Kind::ConfigMap => format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  n: \"{}\"\n", self.replicas),
            Kind::Secret => format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n  k{}: v\n", self.replicas % 3),
            Kind::Service => format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n  - port: {}\n", 80 + self.replicas as u32),
        }
    }
}

fn build(repo: &Repo) -> MemFs {
    // Later writes replace earlier ones: a broken file replaces the good one.
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut broken: Vec<(String, String)> = Vec::new();
    for app in repo.apps.iter().take(3) {
        let dir = format!("apps/{}", app.name.s());
        let mut names = String::new();
        for (i, o) in app.base.iter().take(4).enumerate() {
            files.insert(format!("{dir}/base/r{i}.yaml"), o.yaml());
            names += &format!("- r{i}.yaml\n");
        }
        files.insert(format!("{dir}/base/kustomization.yaml"), format!("resources:\n{names}"));
        for env in app.envs.iter().take(4) {
            let edir = format!("{dir}/overlays/{}", env.name.s());
            let mut k = "resources:\n- ../../base\n".to_string();
            if let Some(img) = env.image {
                let full = img.s();
                let (name, tag) = full.split_once([':', '@']).unwrap_or((full.as_str(), "x"));
                k += &format!("images:\n- name: {name}\n  newTag: \"{tag}\"\n");
            }
            if let Some(n) = env.replicas {
                let target = app.base.first().map_or("web", |o| o.name.s());
                k += &format!("replicas:\n- name: {target}\n  count: {n}\n");
            }
            if let Some(p) = env.prefix {
                k += &format!("namePrefix: {}-\n", p.s());
            }
            if env.patch_limits {
                k += "patches:\n- path: patch.yaml\n  target:\n    kind: Deployment\n";
                files.insert(
                    format!("{edir}/patch.yaml"),
                    "- op: remove\n  path: /spec/template/spec/containers/0/resources\n".into(),
                );
            }
            if let Some(extra) = &env.extra {
                k += extra;
            }
            files.insert(format!("{edir}/kustomization.yaml"), k);
            if let Some((which, text)) = &env.broken {
                let path = match which {
                    Which::Kustomization => format!("{edir}/kustomization.yaml"),
                    Which::Patch => format!("{edir}/patch.yaml"),
                    Which::BaseResource => format!("{dir}/base/r0.yaml"),
                };
                broken.push((path, text.clone()));
            }
        }
    }
    files.extend(broken);
    if let Some(c) = &repo.config {
        files.insert(".kustodian.yaml".into(), c.clone());
    }
    if let Some(c) = &repo.codeowners {
        files.insert(".github/CODEOWNERS".into(), c.clone());
    }
    let mut fs = MemFs::new();
    for (p, t) in files {
        fs.insert(&p, t.into_bytes());
    }
    fs
}

fuzz_target!(|repo: Repo| {
    kustodian_fuzz::setup();
    let fs = build(&repo);
    kustodian::limits::with_stack(move || {
        let sources = Sources::new();
        let config = match Config::load(&fs, &sources, &CATALOG) {
            Ok(c) => c,
            Err(_) => return,
        };
        let policy = Policy::load(None, &sources, &CATALOG).expect("the built-in policy loads");
        let opts = CheckOptions {
            now: Some("2026-01-01T00:00:00Z".into()),
            ..CheckOptions::default()
        };
        let repo = kustodian::git::RepoInfo::default();
        let outcome = check_tree(
            Arc::new(fs) as Arc<dyn Fs>,
            sources,
            &config,
            &policy,
            &opts,
            None,
            &repo,
        );
        let report = Report::new(&outcome.findings, &outcome.summary, &outcome.sources);
        let mut buf = Vec::new();
        human::emit(&report, &mut buf, human::HumanOptions::default()).unwrap();
        github::emit(&report, &mut buf, false).unwrap();
        let mut j = Vec::new();
        json::emit(&report, &mut j).unwrap();
        let _: serde_json::Value = serde_json::from_slice(&j).expect("the JSON report is JSON");
        let mut s = Vec::new();
        sarif::emit(&report, &mut s).unwrap();
        let _: serde_json::Value = serde_json::from_slice(&s).expect("the SARIF report is JSON");
        // A fatal finding and only a fatal finding makes the run "could not evaluate".
        assert_eq!(outcome.exit_code() == 2, outcome.findings.iter().any(|f| f.fatal));
    });
});
