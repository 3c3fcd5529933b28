//! `kustodian test [DIR]`: policy unit tests, as `kyverno test` runs them. Every
//! `kustodian-test.yaml` under DIR names policies (policy files with `custom:` rules, admission
//! policy files, Rego directories), the objects to judge — files of objects evaluated as one
//! environment (with the base revision's and the staging counterpart's objects for `oldObject`
//! and `counterpart`), or a small config repository checked whole — and the result expected per
//! rule and object: `pass`, `fail` or `skip` (the rule does not apply). A test whose results
//! differ fails with expected and got side by side; a test that cannot run (a missing file, a
//! policy that does not compile) is an error.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::Finding;
use crate::policies::{EnvInput, Old, PolicySet, Status};
use crate::render::Resource;
use crate::settings::custom::declare;
use crate::settings::{Config, Policy, Stage};
use crate::source::{DiskFs, Fs, Sources};

/// The name every test file has.
pub const FILE_NAME: &str = "kustodian-test.yaml";

/// A `kustodian-test.yaml`: policies, objects, expected results. Paths are relative to the file.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestFile {
    /// What the test is about (shown in the output).
    pub name: Option<String>,
    /// Policy files whose `custom:` rules are tested.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Files of ValidatingAdmissionPolicies, their bindings and parameter objects.
    #[serde(default)]
    pub admission_policies: Vec<String>,
    /// Directories or files of Conftest (Rego) policies.
    #[serde(default)]
    pub rego: Vec<String>,
    /// The Rego packages whose rules run (default `main`; `*` for every package).
    #[serde(default)]
    pub rego_namespaces: Vec<String>,
    /// Files of objects, judged as one environment.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The environment the objects are in. Default: `production` (stage production), app `test`.
    pub environment: Option<TestEnvironment>,
    /// Files of the same objects at the pull request's base revision (`oldObject`). Without
    /// them, the test is not a pull request (`oldObject` is null).
    #[serde(default)]
    pub old_resources: Vec<String>,
    /// Files of the objects of the staging environment production is promoted from
    /// (`counterpart`).
    #[serde(default)]
    pub counterpart_resources: Vec<String>,
    /// Instead of `resources`: a config repository, checked whole with its own
    /// `.kustodian.yaml` (and the first of `policies`, as `--policy`).
    pub repo: Option<String>,
    /// The results expected.
    pub results: Vec<Expected>,
}

/// The environment of a test's objects.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEnvironment {
    pub name: Option<String>,
    pub stage: Option<Stage>,
    pub app: Option<String>,
}

/// What one rule is expected to say about some objects.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expected {
    /// The rule id (a custom rule's id, an admission policy's name, `<package>/<rule>`).
    pub rule: String,
    /// The objects' kind (default: any).
    pub kind: Option<String>,
    /// The objects' names (`name` or `namespace/name`).
    pub resources: Vec<String>,
    /// Repository tests: the environment (default: every one the objects are in).
    pub environment: Option<String>,
    /// Repository tests: the app.
    pub app: Option<String>,
    pub result: Outcome,
}

/// A result.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
        }
    }
}

/// One evaluation, as a test sees it.
#[derive(Clone, Debug)]
struct Seen {
    rule: String,
    app: String,
    environment: String,
    kind: String,
    namespace: String,
    name: String,
    outcome: Outcome,
    message: Option<String>,
}

/// What running one test file gave.
#[derive(Debug)]
pub struct TestRun {
    /// The file, relative to the directory tested.
    pub path: String,
    pub name: Option<String>,
    /// Checked expectations.
    pub checked: usize,
    /// Expected and got, one line per object, when they differ.
    pub mismatch: Option<(String, String)>,
    /// Why the test could not run.
    pub errors: Vec<Finding>,
}

/// The test files under `dir`, sorted.
pub fn find(dir: &Path) -> Vec<String> {
    let Ok(fs) = DiskFs::new(dir) else {
        return vec![];
    };
    crate::policies::files::expand(&fs, &format!("**/{FILE_NAME}"))
        .unwrap_or_default()
        .into_iter()
        .chain(fs.is_file(FILE_NAME).then(|| FILE_NAME.to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Runs every test file under `dir`; the sources resolve the errors' places.
pub fn run_all(dir: &Path) -> Result<(Vec<TestRun>, Sources), String> {
    let fs = DiskFs::new(dir).map_err(|e| e.to_string())?;
    let sources = Sources::new();
    let runs = find(dir)
        .into_iter()
        .map(|path| run_one(dir, &fs, &path, &sources))
        .collect();
    Ok((runs, sources))
}

fn run_one(dir: &Path, fs: &DiskFs, path: &str, sources: &Sources) -> TestRun {
    let mut run = TestRun {
        path: path.to_string(),
        name: None,
        checked: 0,
        mismatch: None,
        errors: vec![],
    };
    let loaded = fs
        .read(path)
        .map_err(|e| vec![*error(path, e.to_string())])
        .and_then(|text| {
            crate::settings::load::load_validated::<TestFile>(
                path,
                &text,
                sources,
                crate::diag::ErrorCode::Config.id(),
            )
        });
    let test = match loaded {
        Ok(t) => t,
        Err(e) => {
            run.errors = e;
            return run;
        }
    };
    run.name = test.name.clone();
    let base = crate::source::parent_rel(path).to_string();
    let rel = |p: &String| match crate::source::join_rel(&base, p) {
        Some(r) => Ok(r),
        None => Err(error(
            path,
            format!("'{p}' leaves the directory under test"),
        )),
    };
    let seen = match &test.repo {
        Some(repo) => rel(repo).and_then(|r| repo_outcomes(dir, &r, &test, &rel)),
        None => env_outcomes(fs, &test, &rel, sources),
    };
    let seen = match seen {
        Ok(s) => s,
        Err(e) => {
            run.errors = vec![*e];
            return run;
        }
    };
    let (expected, got) = compare(&test.results, &seen);
    run.checked = expected.lines().count();
    if expected != got {
        run.mismatch = Some((expected, got));
    }
    run
}

fn error(path: &str, msg: String) -> Box<Finding> {
    let mut f = Finding::error_code(crate::diag::ErrorCode::Config, msg);
    f.path = Some(path.to_string());
    Box::new(f)
}

/// The policies a test names, as a config and policy would give them.
fn test_config(
    test: &TestFile,
    rel: &dyn Fn(&String) -> Result<String, Box<Finding>>,
    fs: &DiskFs,
    sources: &Sources,
) -> Result<Config, Box<Finding>> {
    let mut config = Config::default();
    for p in &test.policies {
        let p = rel(p)?;
        let text = fs.read(&p).map_err(|e| error(&p, e.to_string()))?;
        let catalog = &crate::rules::CATALOG;
        let first = |e: Vec<Finding>| e.into_iter().next().expect("an error");
        let file = crate::settings::policy::load_policy_file(&p, &text, sources, catalog)
            .map_err(first)?;
        let decls = declare(
            &file.custom,
            &p,
            sources,
            &|id| crate::settings::RuleCatalog::is_known(catalog, id),
            crate::diag::ErrorCode::Policy,
        )
        .map_err(first)?;
        config.custom = crate::settings::custom::layered(&config.custom, &decls);
    }
    config.file.admission_policies = test
        .admission_policies
        .iter()
        .map(rel)
        .collect::<Result<_, _>>()?;
    config.file.rego = test.rego.iter().map(rel).collect::<Result<_, _>>()?;
    config.file.rego_namespaces = test.rego_namespaces.clone();
    Ok(config)
}

/// Objects evaluated as one environment.
fn env_outcomes(
    fs: &DiskFs,
    test: &TestFile,
    rel: &dyn Fn(&String) -> Result<String, Box<Finding>>,
    sources: &Sources,
) -> Result<Vec<Seen>, Box<Finding>> {
    let config = test_config(test, rel, fs, sources)?;
    let policy = Policy::load(None, sources, &crate::rules::CATALOG)
        .map_err(|e| e.into_iter().next().expect("an error"))?;
    let set = PolicySet::load(fs, &config, &policy, sources, false)
        .map_err(|e| e.into_iter().next().expect("an error"))?;
    let objects = |files: &[String]| -> Result<Vec<Resource>, Box<Finding>> {
        let mut out = Vec::new();
        for f in files {
            out.extend(crate::policies::vap::read_objects(fs, &rel(f)?, sources)?);
        }
        Ok(out)
    };
    let objs = objects(&test.resources)?;
    let old = objects(&test.old_resources)?;
    let counterpart = objects(&test.counterpart_resources)?;
    let env = test.environment.clone().unwrap_or_default();
    let name = env.name.unwrap_or_else(|| "production".into());
    let stage = env.stage.or_else(|| Stage::by_convention(&name));
    let app = env.app.unwrap_or_else(|| "test".into());
    let input = EnvInput::new(
        &app,
        &name,
        stage,
        &objs,
        if test.old_resources.is_empty() {
            Old::Outside
        } else {
            Old::Base(&old)
        },
        (!test.counterpart_resources.is_empty()).then_some(&counterpart[..]),
    );
    let mut seen = Vec::new();
    let mut fatal = None;
    set.evaluate(&input, &mut |rule, i, status| {
        if let Status::Fail(f) = &status
            && f.fatal
        {
            fatal.get_or_insert_with(|| f.clone());
        }
        let r = &objs[i];
        seen.push(seen_of(
            rule,
            &app,
            &name,
            r.kind(),
            r.namespace(),
            r.name(),
            &status,
        ));
    });
    match fatal {
        Some(f) => Err(f),
        None => Ok(seen),
    }
}

fn seen_of(
    rule: &str,
    app: &str,
    env: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    status: &Status,
) -> Seen {
    let (outcome, message) = match status {
        Status::Pass => (Outcome::Pass, None),
        Status::Skip => (Outcome::Skip, None),
        Status::Fail(f) => (Outcome::Fail, Some(f.message.clone())),
    };
    Seen {
        rule: rule.to_string(),
        app: app.to_string(),
        environment: env.to_string(),
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        outcome,
        message,
    }
}

/// A config repository checked whole.
fn repo_outcomes(
    dir: &Path,
    repo: &str,
    test: &TestFile,
    rel: &dyn Fn(&String) -> Result<String, Box<Finding>>,
) -> Result<Vec<Seen>, Box<Finding>> {
    if test.policies.len() > 1 {
        return Err(error(
            repo,
            "a repository test takes at most one policy file (its --policy)".into(),
        ));
    }
    let outcome = crate::check::run(&crate::check::CheckOptions {
        root: dir.join(repo),
        policy: test
            .policies
            .first()
            .map(|p| rel(p).map(|p| dir.join(p)))
            .transpose()?,
        record_policies: true,
        ..Default::default()
    });
    if let Some(f) = outcome.findings.iter().find(|f| f.fatal) {
        let mut f = f.clone();
        f.message = format!("{repo}: {}", f.message);
        return Err(Box::new(f));
    }
    Ok(outcome
        .policy_results
        .iter()
        .map(|r| {
            seen_of(
                &r.rule,
                &r.app,
                &r.environment,
                &r.resource.kind,
                &r.resource.namespace,
                &r.resource.name,
                &r.status,
            )
        })
        .collect())
}

/// Expected and got, one line per (rule, object), in the same order.
fn compare(results: &[Expected], seen: &[Seen]) -> (String, String) {
    let mut expected = String::new();
    let mut got = String::new();
    for e in results {
        for want in &e.resources {
            let (ns, name) = want
                .split_once('/')
                .map_or((None, want.as_str()), |(n, m)| (Some(n), m));
            let objects = |s: &&Seen| {
                s.name == name
                    && ns.is_none_or(|n| s.namespace == n)
                    && e.kind.as_deref().is_none_or(|k| s.kind == k)
                    && e.environment.as_deref().is_none_or(|x| s.environment == x)
                    && e.app.as_deref().is_none_or(|x| s.app == x)
            };
            // Per environment, the strongest outcome of the rule on the object (one binding may
            // skip it while another fails it).
            let mut by_env: BTreeMap<(String, String), (Outcome, Option<String>)> = BTreeMap::new();
            let mut exists = false;
            for s in seen.iter().filter(objects) {
                exists = true;
                if s.rule != e.rule {
                    continue;
                }
                let slot = by_env
                    .entry((s.app.clone(), s.environment.clone()))
                    .or_insert((Outcome::Skip, None));
                match s.outcome {
                    Outcome::Fail if slot.0 != Outcome::Fail => {
                        *slot = (Outcome::Fail, s.message.clone());
                    }
                    Outcome::Pass if slot.0 == Outcome::Skip => *slot = (Outcome::Pass, None),
                    _ => {}
                }
            }
            let what = format!(
                "{} {}{}",
                e.rule,
                e.kind
                    .as_deref()
                    .map(|k| format!("{k}/"))
                    .unwrap_or_default(),
                want
            );
            if !exists {
                expected.push_str(&format!("{what}: {}\n", e.result.as_str()));
                got.push_str(&format!("{what}: no such object\n"));
                continue;
            }
            if by_env.is_empty() {
                by_env.insert(Default::default(), (Outcome::Skip, None));
            }
            for ((app, env), (outcome, message)) in by_env {
                let place = if env.is_empty() || e.environment.is_some() || test_env_is_single(seen)
                {
                    String::new()
                } else {
                    format!(" [{app}/{env}]")
                };
                expected.push_str(&format!("{what}{place}: {}\n", e.result.as_str()));
                let detail = match (outcome, e.result, message) {
                    (Outcome::Fail, Outcome::Fail, _) | (_, _, None) => String::new(),
                    (_, _, Some(m)) => format!(" ({m})"),
                };
                got.push_str(&format!("{what}{place}: {}{detail}\n", outcome.as_str()));
            }
        }
    }
    (expected, got)
}

/// Whether every evaluation is of one environment (then lines need not name it).
fn test_env_is_single(seen: &[Seen]) -> bool {
    seen.windows(2)
        .all(|w| w[0].environment == w[1].environment && w[0].app == w[1].app)
}

/// The output of a run: one line per test, a diff per failed one, a summary.
pub fn render(runs: &[TestRun], sources: &Sources) -> String {
    let mut out = String::new();
    for r in runs {
        let label = match &r.name {
            Some(n) => format!("{} ({n})", r.path),
            None => r.path.clone(),
        };
        if !r.errors.is_empty() {
            out.push_str(&format!("ERROR {label}\n"));
            for f in &r.errors {
                let at = f
                    .position(sources)
                    .map(|p| format!("{}:{}:{}: ", p.file, p.line, p.column))
                    .unwrap_or_default();
                out.push_str(&format!("  {at}{}\n", f.message));
            }
        } else if let Some((expected, got)) = &r.mismatch {
            out.push_str(&format!("FAIL  {label}\n"));
            let diff = similar::TextDiff::from_lines(expected, got)
                .unified_diff()
                .context_radius(2)
                .header("expected", "got")
                .to_string();
            for l in diff.lines() {
                out.push_str(&format!("  {l}\n"));
            }
        } else {
            out.push_str(&format!("PASS  {label} ({} results)\n", r.checked));
        }
    }
    let failed = runs.iter().filter(|r| r.mismatch.is_some()).count();
    let errors = runs.iter().filter(|r| !r.errors.is_empty()).count();
    out.push_str(&format!(
        "\n{} test files: {} passed, {failed} failed, {errors} could not run\n",
        runs.len(),
        runs.len() - failed - errors
    ));
    out
}

/// Exit code: 0 all passed, 1 a result differs, 2 a test could not run (or there is none).
pub fn exit_code(runs: &[TestRun]) -> u8 {
    if runs.is_empty() || runs.iter().any(|r| !r.errors.is_empty()) {
        2
    } else {
        u8::from(runs.iter().any(|r| r.mismatch.is_some()))
    }
}
