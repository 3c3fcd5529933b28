//! The check engine: load config and policy → discover → render → run rules → sorted findings.
//!
//! Rendering fans out over every environment and base with rayon, through one shared [`Renderer`]
//! (so a base used by many environments is parsed and built once). A render error becomes a fatal
//! finding for that environment (exit code 2) with the file:line kustomize would have complained
//! about — and every other environment is still rendered and checked, so one broken overlay never
//! hides the findings of the others. Rules run per app, also in parallel; the engine, not the
//! rules, stamps each finding with the severity the policy gives its rule.

use std::path::PathBuf;
use std::sync::Arc;

pub use crate::diag::EnvChange;
use crate::diag::{Collector, ErrorCode, Finding, Summary};
use crate::discover::App;
use crate::render::RenderError;
use crate::rules;
use crate::settings::{Config, Policy};
use crate::source::{DiskFs, Fs, Sources};

mod baseline;
mod fail_on;
pub mod pr;
pub mod stdin;
mod stream;
pub mod suppress;
mod tree;

pub use fail_on::FailOn;
pub use pr::{PrState, resolve_base};
pub use tree::check_tree;

/// What `kustodian check` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Repository root.
    pub root: PathBuf,
    /// Extra policy file (extends/overrides the embedded default).
    pub policy: Option<PathBuf>,
    /// Only these environments (names as in the repo), empty = all.
    pub envs: Vec<String>,
    /// Only these apps, empty = all.
    pub apps: Vec<String>,
    /// Pull-request mode: the base revision to compare with (`auto` = the PR's base branch).
    pub base: Option<String>,
    /// Who made the change (for `bot-write-scope`); default `$GITHUB_ACTOR`.
    pub actor: Option<String>,
    /// Check only shard `i` of `n` (1-based): apps are split deterministically by directory.
    pub shard: Option<(usize, usize)>,
    /// The time to judge freeze windows at (RFC 3339); default: now.
    pub now: Option<String>,
    /// Measure the time each custom and imported rule takes (`Outcome::rule_times`).
    pub timings: bool,
    /// Keep every policy evaluation's outcome (`Outcome::policy_results`), for `kustodian test`.
    pub record_policies: bool,
    /// The bundled Kubernetes version to validate against (`--kubernetes-version`), over the
    /// policy's `schema-violation` option.
    pub kubernetes_version: Option<String>,
    /// Run only these rules (`--select`), empty = every rule the policy turns on.
    pub select: Vec<String>,
    /// Turn these rules off (`--ignore`).
    pub ignore: Vec<String>,
}

impl CheckOptions {
    /// The policy as `--select` and `--ignore` narrow it. Ids that are not built in are left to
    /// the custom and imported rules ([`CheckOptions::restrict_policies`]).
    pub fn restrict(&self, policy: &mut Policy) {
        policy.restrict(&self.select, &self.ignore);
    }

    /// The time rules judge by: `--now` (validated before the run), else the clock.
    pub fn now_or_clock(&self) -> jiff::Timestamp {
        self.now
            .as_deref()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(jiff::Timestamp::now)
    }

    /// The custom and imported rules as `--select` and `--ignore` narrow them.
    pub fn restrict_policies(&self, policies: &mut crate::policies::PolicySet) {
        policies.restrict(&self.select, &self.ignore);
    }

    /// After a run: a `--select` or `--ignore` id that names no rule (built in, custom, or
    /// imported — admission policies rendered into an environment are known once rendered) is a
    /// policy error, with the closest id.
    pub fn unknown_rule(
        &self,
        policy: &Policy,
        policies: &crate::policies::PolicySet,
    ) -> Option<Finding> {
        let known = |id: &str| policy.level(id).is_some() || policies.knows(id);
        let id = self
            .select
            .iter()
            .chain(&self.ignore)
            .find(|id| !known(id))?;
        let mut all: Vec<String> = rules::registry().map(|r| r.id.to_string()).collect();
        all.extend(policies.ids());
        let near = all
            .iter()
            .map(|k| (crate::text::edit_distance(k, id), k))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, k)| format!(" (did you mean '{k}'?)"))
            .unwrap_or_default();
        Some(Finding::error_code(
            ErrorCode::Policy,
            format!("'{id}' is not a rule{near}; `kustodian rules` lists them"),
        ))
    }
}

impl CheckOptions {
    /// The Kubernetes version to validate against: the command line's, else the policy's.
    pub fn kubernetes_version<'a>(
        &'a self,
        policy: &'a rules::schema_violation::SchemaOptions,
    ) -> Option<&'a str> {
        self.kubernetes_version
            .as_deref()
            .or(policy.kubernetes_version.as_deref())
    }
}

/// Which shard (0-based) an app belongs to: a stable hash (FNV-1a) of its directory, so every
/// CI job agrees without coordination.
pub fn shard_of(app_dir: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in app_dir.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % n.max(1) as u64) as usize
}

/// Result of a check run.
pub struct Outcome {
    /// Sorted findings (including `fatal` ones for inputs that could not be evaluated).
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub sources: Sources,
    /// The apps and environments that were checked.
    pub apps: Vec<App>,
    /// Pull-request mode: the overlays whose rendered output could have changed.
    pub affected: Vec<String>,
    /// Pull-request mode: what changed per affected overlay (for the step summary).
    pub changes: Vec<EnvChange>,
    /// The custom and imported rules the run knew (for SARIF's rule descriptors).
    pub rules: Vec<crate::diag::RuleDescriptor>,
    /// Time spent per custom or imported rule, longest first (with `CheckOptions::timings`).
    pub rule_times: Vec<(String, std::time::Duration)>,
    /// Every policy evaluation (with `CheckOptions::record_policies`).
    pub policy_results: Vec<crate::policies::Recorded>,
}

impl Outcome {
    /// 0 clean, 1 error-severity violations (in pull-request mode: new ones), 2 could not
    /// evaluate (fatal findings): the exit code of `--fail-on`'s default.
    pub fn exit_code(&self) -> i32 {
        FailOn::default().exit_code(&self.findings).into()
    }
}

/// The options of `schema-violation`, which also steer the engine (schema directories, the
/// Kubernetes version).
fn schema_options(policy: &Policy) -> &rules::schema_violation::SchemaOptions {
    policy.options(rules::schema_violation::INFO.id)
}

/// A render error as a fatal finding.
pub fn render_finding(e: &RenderError, app: Option<&str>, env: Option<&str>) -> Finding {
    let mut f = Finding::error_code(ErrorCode::Render, e.message.clone());
    f.loc = e.loc;
    f.path = e.path.clone();
    f.app = app.map(str::to_string);
    f.environment = env.map(str::to_string);
    f.related = e
        .related
        .iter()
        .map(|(loc, m)| crate::diag::Related {
            loc: *loc,
            message: m.clone(),
        })
        .collect();
    f
}

fn fatal_outcome(findings: Vec<Finding>, sources: Sources) -> Outcome {
    let summary = Summary {
        errors: findings.len(),
        ..Summary::default()
    };
    Outcome {
        findings,
        summary,
        sources,
        apps: vec![],
        affected: vec![],
        changes: vec![],
        rules: vec![],
        rule_times: vec![],
        policy_results: vec![],
    }
}

/// Runs discovery, rendering and every enabled rule.
pub fn run(opts: &CheckOptions) -> Outcome {
    let mut phases = crate::timings::Phases::start();
    // Rendering needs the thread pool (with the stack the budgets need); start it before
    // loading config and policy.
    crate::limits::init_threads();
    crate::render::warm_up();
    let sources = Sources::new();
    let fs = match DiskFs::new(&opts.root) {
        Ok(fs) => Arc::new(fs) as Arc<dyn Fs>,
        Err(e) => {
            let f = Finding::error_code(ErrorCode::Config, format!("cannot read repository: {e}"));
            return fatal_outcome(vec![f], sources);
        }
    };
    if let Some(n) = &opts.now
        && n.parse::<jiff::Timestamp>().is_err()
    {
        let f = Finding::error_code(
            ErrorCode::Config,
            format!("--now '{n}' is not an RFC 3339 time (e.g. 2026-11-27T17:00:00+01:00)"),
        );
        return fatal_outcome(vec![f], sources);
    }
    let config = Config::load(&*fs, &sources, &rules::CATALOG);
    // What follows keeps to the budgets the repository lowered, if it did.
    if let Ok(c) = &config {
        crate::limits::set(c.limits);
    }
    let policy = match &config {
        Ok(c) => Policy::load_layered(
            Some(&c.file.rules),
            opts.policy.as_deref(),
            &sources,
            &rules::CATALOG,
        ),
        Err(_) => Policy::load(opts.policy.as_deref(), &sources, &rules::CATALOG),
    };
    let (config, mut policy) = match (config, policy) {
        (Ok(c), Ok(p)) => (c, p),
        (c, p) => {
            let mut all = Vec::new();
            all.extend(c.err().unwrap_or_default());
            all.extend(p.err().unwrap_or_default());
            return fatal_outcome(sort(all, &sources), sources);
        }
    };
    opts.restrict(&mut policy);
    let pr = match &opts.base {
        None => None,
        Some(rev) => match PrState::open(&opts.root, &*fs, rev, opts.actor.clone()) {
            Ok(p) => Some(p),
            Err(f) => return fatal_outcome(vec![*f], sources),
        },
    };
    phases.mark("config+policy+git");
    let repo = crate::git::repo_info(&opts.root);
    check_tree(fs, sources, &config, &policy, opts, pr.as_ref(), &repo)
}

fn sort(findings: Vec<Finding>, sources: &Sources) -> Vec<Finding> {
    let c = Collector::new();
    for f in findings {
        c.push(f);
    }
    c.into_sorted(sources)
}
