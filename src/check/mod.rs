//! The check engine: discover → load config and policy → render → run rules → sorted findings.
//!
//! Rendering fans out over every overlay and base with rayon, through one shared [`Renderer`]
//! (so a base used by many overlays is parsed and built once). A render error becomes a fatal
//! finding for that overlay (exit code 2) with the file:line kustomize would have complained
//! about — and every other overlay is still rendered and checked, so one broken overlay never
//! hides the findings of the others. Rules run per app, also in parallel; the engine, not the
//! rules, stamps each finding with the severity the policy gives its rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Collector, ErrorCode, Finding, Severity, Summary};
use crate::discover::{App, discover};
use crate::git::GitFs;
use crate::render::{Build, RenderError, Renderer};
use crate::rules::{self, AppCtx, PrCtx};
use crate::settings::{Config, Policy};
use crate::source::{DiskFs, Fs, Sources};

pub mod suppress;

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
}

/// Which shard (0-based) an app belongs to: a stable hash (FNV-1a) of its directory, so every
/// CI job agrees without coordination.
pub fn shard_of(app_dir: &str, n: usize) -> usize {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in app_dir.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % n.max(1) as u64) as usize
}

/// Pull-request mode state: the base revision and what changed since.
pub struct PrState {
    pub rev: String,
    pub base_fs: Arc<GitFs>,
    /// Repo-relative paths whose content differs between the base and the working tree.
    pub changed: BTreeSet<String>,
    pub actor: Option<String>,
}

/// Resolves `auto` to the pull request's base branch (`origin/$GITHUB_BASE_REF`), else `origin/HEAD`.
pub fn resolve_base(rev: &str) -> String {
    if rev != "auto" {
        return rev.to_string();
    }
    match std::env::var("GITHUB_BASE_REF") {
        Ok(b) if !b.is_empty() => format!("origin/{b}"),
        _ => "origin/HEAD".to_string(),
    }
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
}

/// What a pull request does to one environment's rendered output.
#[derive(Clone, Debug)]
pub struct EnvChange {
    pub app: String,
    pub env: String,
    /// Image references that changed: (container, before, after).
    pub images: Vec<(String, String, String)>,
    /// Unified diff of the rendered output, base → head (empty when identical).
    pub diff: String,
}

fn images_of(b: &Build) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for r in &b.resources {
        for c in crate::rules::support::pods::containers(r) {
            if let Some(img) = c.node.str_at(&["image"]) {
                m.insert(
                    format!("{}/{} {}", r.kind(), r.orig_id().name, c.name),
                    img.to_string(),
                );
            }
        }
    }
    m
}

impl Outcome {
    /// 0 clean, 1 error-severity violations, 2 could not evaluate (fatal findings).
    pub fn exit_code(&self) -> i32 {
        if self.findings.iter().any(|f| f.fatal) {
            2
        } else if self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.suppressed.is_none())
        {
            1
        } else {
            0
        }
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
            let mut f =
                Finding::error_code(ErrorCode::Config, format!("cannot read repository: {e}"));
            f.path = Some(opts.root.display().to_string());
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
    let (config, policy) = match (config, policy) {
        (Ok(c), Ok(p)) => (c, p),
        (c, p) => {
            let mut all = Vec::new();
            all.extend(c.err().unwrap_or_default());
            all.extend(p.err().unwrap_or_default());
            return fatal_outcome(sort(all, &sources), sources);
        }
    };
    let pr = match &opts.base {
        None => None,
        Some(rev) => {
            let rev = resolve_base(rev);
            match GitFs::open(&opts.root, &rev) {
                Ok(g) => {
                    let known = crate::git::index_known(&opts.root);
                    let changed = crate::git::changed_paths_on_disk(&g, &opts.root, &known);
                    Some(PrState {
                        rev,
                        base_fs: Arc::new(g),
                        changed,
                        actor: opts
                            .actor
                            .clone()
                            .or_else(|| std::env::var("GITHUB_ACTOR").ok()),
                    })
                }
                Err(e) => {
                    let mut f = Finding::error_code(ErrorCode::Config, e.to_string());
                    f.path = Some(opts.root.display().to_string());
                    return fatal_outcome(vec![f], sources);
                }
            }
        }
    };
    phases.mark("config+policy+git");
    check_tree(fs, sources, &config, &policy, opts, pr.as_ref())
}

/// Checks one file tree (the working tree, or a Git revision) with a loaded config and policy.
pub fn check_tree(
    fs: Arc<dyn Fs>,
    sources: Sources,
    config: &Config,
    policy: &Policy,
    opts: &CheckOptions,
    pr: Option<&PrState>,
) -> Outcome {
    let mut phases = crate::timings::Phases::start();
    let schema_rules_on = ["schema-violation", "schema-missing"]
        .iter()
        .any(|id| policy.level(id).and_then(|l| l.severity()).is_some());
    // Schema files are compiled with jsonschema: set up its one-time work while discovering.
    if schema_rules_on && !schema_options(policy).schema_dirs.is_empty() {
        crate::schema::warm_up();
    }
    let mut apps = discover(&*fs, config);
    phases.mark("discover");
    // Everything discovered, before filters, shards and pull-request selection: CRDs may come
    // from apps this run does not check.
    let discovered = apps.clone();
    apps.retain(|a| opts.apps.is_empty() || opts.apps.contains(&a.name));
    for a in &mut apps {
        a.envs
            .retain(|e| opts.envs.is_empty() || opts.envs.contains(&e.name));
    }
    apps.retain(|a| !a.envs.is_empty());
    // Nothing to check is almost always a wrong path or filter, not a clean repository.
    if apps.is_empty() && pr.is_none() && opts.shard.is_none() {
        let what = if opts.apps.is_empty() && opts.envs.is_empty() {
            "no Kustomize overlays found (expected <app>/overlays/<env>/kustomization.yaml; see `overlays:` in .kustodian.yaml)".to_string()
        } else {
            format!(
                "no overlays match the filters (--app {:?}, --env {:?})",
                opts.apps, opts.envs
            )
        };
        let mut f = Finding::error_code(ErrorCode::Config, what);
        f.path = Some(opts.root.display().to_string());
        return fatal_outcome(vec![f], sources);
    }
    if let Some((i, n)) = opts.shard {
        apps.retain(|a| shard_of(&a.dir, n) + 1 == i);
    }
    let renderer = Renderer::new(fs, sources.clone());
    let out = Collector::new();
    // Repository-wide rules see every app, whatever the change touched.
    let all_apps = apps.clone();
    // Pull-request mode: only apps with an overlay whose inputs changed are checked, and only
    // those overlays are rendered at the base revision.
    let base_renderer = pr
        .map(|p| Renderer::with_label(p.base_fs.clone(), sources.clone(), &format!("{}:", p.rev)));
    let mut affected: Vec<String> = Vec::new();
    let mut affected_envs: BTreeSet<(usize, usize)> = BTreeSet::new();
    if let Some(p) = pr {
        // An overlay is affected when a file its build reads at head changed, or lies in a
        // directory where something changed (a deleted component directory). Scanning the base
        // revision too is unnecessary: whatever the base build read that head's no longer does
        // was dropped by an edit to a kustomization head reads — which is itself a change.
        let mut changed_dirs: BTreeSet<&str> = BTreeSet::new();
        for c in &p.changed {
            let mut d = c.as_str();
            while let Some(i) = d.rfind('/') {
                d = &d[..i];
                if !changed_dirs.insert(d) {
                    break;
                }
            }
        }
        let touched = |deps: &BTreeSet<String>| {
            deps.iter()
                .any(|d| p.changed.contains(d) || changed_dirs.contains(d.as_str()))
        };
        let flags: Vec<Vec<bool>> = apps
            .par_iter()
            .map(|a| {
                a.envs
                    .iter()
                    .map(|e| touched(&renderer.dependencies(&e.dir)))
                    .collect()
            })
            .collect();
        for (ai, a) in apps.iter().enumerate() {
            for (ei, e) in a.envs.iter().enumerate() {
                if flags[ai][ei] {
                    affected.push(e.dir.clone());
                    affected_envs.insert((ai, ei));
                }
            }
        }
        let keep: BTreeSet<usize> = affected_envs.iter().map(|(a, _)| *a).collect();
        let mut i = 0;
        let mut remap = BTreeMap::new();
        apps.retain(|_| {
            let k = keep.contains(&i);
            if k {
                remap.insert(i, remap.len());
            }
            i += 1;
            k
        });
        affected_envs = affected_envs
            .into_iter()
            .map(|(a, e)| (remap[&a], e))
            .collect();
    }
    phases.mark("pr-affected");
    // Schemas: the configured Kubernetes version and schema directories now; the CRDs the
    // repository renders join once every app is rendered.
    let mut schemas = if !schema_rules_on {
        None
    } else {
        let o = schema_options(policy);
        match crate::schema::SchemaSet::new(o.kubernetes_version.as_deref(), o.strict, &[])
            .and_then(|mut s| s.add_dirs(renderer.fs(), &o.schema_dirs).map(|_| s))
        {
            Ok(s) => Some(s),
            Err(msg) => {
                let f = Finding::error_code(ErrorCode::Policy, msg);
                out.push(f);
                None
            }
        }
    };
    phases.mark("schemas");
    let rules = rules::RULES;
    let stream = Stream {
        apps: &apps,
        renderer: &renderer,
        base_renderer: base_renderer.as_ref(),
        affected_envs: &affected_envs,
        pr,
        sources: &sources,
        config,
        policy,
        rules,
        out: &out,
    };
    // Each app is rendered, checked and dropped in one parallel pass, so memory holds one app per
    // thread rather than the whole repository. An app with a kind that only a CRD describes waits
    // until every app is rendered (the CRD may come from any of them); so does one whose kind's
    // validator another thread is compiling (the first few apps), instead of idling.
    let streamed: Vec<Streamed> = (0..apps.len())
        .into_par_iter()
        .map(|ai| stream.render_and_check(ai, schemas.as_ref()))
        .collect();
    phases.mark("render+check");
    let mut summary = Summary {
        overlays: apps.iter().map(|a| a.envs.len()).sum(),
        ..Summary::default()
    };
    let mut changes = Vec::new();
    let mut waiting = Vec::new();
    let mut crds = Vec::new();
    for st in streamed {
        summary.resources += st.resources;
        crds.extend(st.crds);
        changes.extend(st.changes);
        waiting.extend(st.waiting);
    }
    let add_crds = |s: &mut crate::schema::SchemaSet, crds: &[crate::yaml::Node]| {
        if let Err(msg) = s.add_crds(&crds.iter().collect::<Vec<_>>()) {
            let f = Finding::error_code(ErrorCode::Policy, msg);
            out.push(f);
        }
    };
    if let Some(s) = &mut schemas {
        add_crds(s, &crds);
    }
    // A checked app has a kind no schema describes yet: the CRDs of the apps this run does not
    // check (unaffected by the pull request, in other shards, filtered out) are rendered for it
    // — only then, so a run whose kinds all resolve reads nothing more.
    if let Some(s) = &mut schemas {
        let checked: BTreeSet<&str> = apps.iter().map(|a| a.dir.as_str()).collect();
        let others: Vec<&crate::discover::App> = discovered
            .iter()
            .filter(|a| !checked.contains(a.dir.as_str()))
            .collect();
        let unresolved = !others.is_empty()
            && waiting.iter().any(|w| {
                w.envs
                    .iter()
                    .map(|(_, b)| b)
                    .chain(w.base.iter())
                    .flat_map(|b| &b.resources)
                    .any(|r| {
                        r.kind() != "CustomResourceDefinition"
                            && !s.resolvable(&r.id().api_version(), r.kind())
                    })
            });
        if unresolved {
            let more: Vec<crate::yaml::Node> = others
                .par_iter()
                .flat_map_iter(|a| {
                    let dirs = a.envs.iter().map(|e| &e.dir).chain(a.base.iter());
                    let crds: Vec<crate::yaml::Node> = dirs
                        .filter_map(|d| renderer.build(d).ok())
                        .flat_map(|b| b.resources)
                        .filter(|r| r.kind() == "CustomResourceDefinition")
                        .map(|r| r.node)
                        .collect();
                    renderer.forget_below(&a.dir);
                    crds
                })
                .collect();
            add_crds(s, &more);
        }
    }
    let waited: Vec<Vec<EnvChange>> = waiting
        .par_iter()
        .map(|w| stream.check(w, schemas.as_ref()))
        .collect();
    // Changes in app order, as if no app had waited.
    let mut changes: Vec<(usize, EnvChange)> = changes;
    for (w, c) in waiting.iter().zip(waited) {
        changes.extend(c.into_iter().map(|c| (w.ai, c)));
    }
    changes.sort_by_key(|(ai, _)| *ai);
    let changes: Vec<EnvChange> = changes.into_iter().map(|(_, c)| c).collect();
    phases.mark("apps-checked-last");
    // Duplicate keys in any file an overlay read: kustomize keeps the last one, the API server
    // refuses the document.
    if let Some(sev) = policy
        .rule(rules::schema_violation::INFO.id)
        .level
        .severity()
    {
        for d in renderer.duplicate_keys() {
            let mut f = Finding::new(
                "schema-violation",
                sev,
                format!(
                    "duplicate key '{}': kustomize keeps this later value, kubectl and the API server reject the document",
                    d.key
                ),
            );
            f.loc = d.second;
            f.related.push(crate::diag::Related {
                loc: d.first,
                message: "first given here".into(),
            });
            out.push(f);
        }
    }
    // Repository-wide rules (who changed what, who owns what).
    let now = opts
        .now
        .as_deref()
        .and_then(|n| n.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let repo = rules::RepoCtx {
        apps: &all_apps,
        fs: renderer.fs(),
        sources: &sources,
        config,
        changed: pr.map(|p| &p.changed),
        affected: pr.map(|_| affected.as_slice()),
        actor: pr.and_then(|p| p.actor.as_deref()),
        now: Some(now),
    };
    for rule in rules::RULES {
        let Some(severity) = policy.level(rule.info().id).and_then(|l| l.severity()) else {
            continue;
        };
        for mut f in rule.check_repo(&repo, policy.rule(rule.info().id)) {
            // A file the rule could not read is an error whatever the rule's severity.
            if !f.fatal {
                f.severity = severity;
            }
            out.push(f);
        }
    }
    phases.mark("repo-rules");
    let mut findings = out.into_sorted(&sources);
    // Waivers: inline comments and configured exceptions; then the ones that waived nothing.
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let used = suppress::apply(&mut findings, &config.waivers, &sources, today);
    if let Some(sev) = policy
        .level(rules::unused_suppression::INFO.id)
        .and_then(|l| l.severity())
    {
        // Only a run that checked everything can tell that a waiver matched nothing.
        let full = opts.base.is_none()
            && opts.envs.is_empty()
            && opts.apps.is_empty()
            && opts.shard.is_none();
        let ran = |rule: &str| {
            rules::lookup(rule).is_some_and(|r| !r.pull_request_only)
                && policy.level(rule).and_then(|l| l.severity()).is_some()
        };
        let app_of = |path: &str| {
            all_apps
                .iter()
                .find(|a| path.starts_with(&format!("{}/", a.dir)))
                .map(|a| a.name.clone())
        };
        let unused = suppress::unused(&used, &config.waivers, &sources, today, full, &ran, &app_of);
        if !unused.is_empty() {
            let c = Collector::new();
            for mut f in findings.into_iter().chain(unused) {
                if f.rule == rules::unused_suppression::INFO.id {
                    f.severity = sev;
                }
                c.push(f);
            }
            findings = c.into_sorted(&sources);
        }
    }
    let counted = || findings.iter().filter(|f| f.suppressed.is_none());
    summary.errors = counted().filter(|f| f.severity == Severity::Error).count();
    summary.warnings = counted()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    summary.suppressed = findings.iter().filter(|f| f.suppressed.is_some()).count();
    phases.mark("sort-findings");
    // Freeing thousands of rendered trees and the renderer's caches takes a tenth of a whole-repo
    // check; nothing waits for it. In the CLI the process exits first, in a library caller a
    // pool thread finishes it in the background.
    let garbage = (waiting, renderer, base_renderer, schemas);
    rayon::spawn(move || drop(garbage));
    phases.mark("drop");
    Outcome {
        findings,
        summary,
        sources,
        apps,
        affected,
        changes,
    }
}

/// What one app's pass leaves behind.
#[derive(Default)]
struct Streamed {
    /// Rendered resources (base and overlays), for the summary.
    resources: usize,
    /// CustomResourceDefinitions it renders.
    crds: Vec<crate::yaml::Node>,
    /// Pull-request mode: rendered changes of its affected overlays, with the app index.
    changes: Vec<(usize, EnvChange)>,
    /// Its renders, when its rules wait for the repository's CRDs (or for a validator another
    /// thread was compiling).
    waiting: Option<AppRenders>,
}

/// One app's renders: its base, its overlays and (pull-request mode) overlays at the base revision.
struct AppRenders {
    ai: usize,
    base: Option<Build>,
    envs: Vec<(usize, Build)>,
    base_envs: Vec<(usize, Build)>,
}

/// Everything the per-app pass shares.
struct Stream<'a> {
    apps: &'a [App],
    renderer: &'a Renderer,
    base_renderer: Option<&'a Renderer>,
    affected_envs: &'a BTreeSet<(usize, usize)>,
    pr: Option<&'a PrState>,
    sources: &'a Sources,
    config: &'a Config,
    policy: &'a Policy,
    rules: &'a [&'a dyn rules::Rule],
    out: &'a Collector,
}

impl Stream<'_> {
    fn render_and_check(&self, ai: usize, schemas: Option<&crate::schema::SchemaSet>) -> Streamed {
        let app = &self.apps[ai];
        let mut st = Streamed::default();
        let mut envs = Vec::new();
        // A broken base fails every overlay of the app the same way: one finding naming all of
        // them, not the same snippet once per environment.
        let mut failed: Vec<Finding> = Vec::new();
        for (ei, e) in app.envs.iter().enumerate() {
            match self.renderer.build(&e.dir) {
                Ok(b) => envs.push((ei, b)),
                Err(err) => match failed
                    .iter_mut()
                    .find(|f| f.loc == err.loc && f.message == err.message)
                {
                    Some(f) => rules::add_environment(f, &e.name),
                    None => failed.push(render_finding(&err, Some(&app.name), Some(&e.name))),
                },
            }
        }
        for f in failed {
            self.out.push(f);
        }
        // After the overlays, which memoized it: the base's own build starts from that copy
        // instead of reading and transforming its files again. One that does not build on its
        // own is reported through its overlays.
        let base = app.base.as_ref().and_then(|b| self.renderer.build(b).ok());
        // At the base revision: the affected overlays, plus staging when production is affected
        // (digest promotion is judged against it).
        let mut base_envs = Vec::new();
        if let Some(br) = self.base_renderer {
            let mut jobs: BTreeSet<usize> = (0..app.envs.len())
                .filter(|ei| self.affected_envs.contains(&(ai, *ei)))
                .collect();
            if jobs
                .iter()
                .any(|ei| app.envs[*ei].stage == Some(crate::settings::Stage::Production))
                && let Some(si) = app
                    .envs
                    .iter()
                    .position(|e| e.stage == Some(crate::settings::Stage::Staging))
            {
                jobs.insert(si);
            }
            base_envs = jobs
                .into_iter()
                .filter_map(|ei| br.build(&app.envs[ei].dir).ok().map(|b| (ei, b)))
                .collect();
        }
        // Its own bases are rendered for good: free them now (a base inside one app's directory
        // is practically never another app's).
        self.renderer.forget_below(&app.dir);
        if let Some(br) = self.base_renderer {
            br.forget_below(&app.dir);
        }
        let all = base.iter().chain(envs.iter().map(|(_, b)| b));
        let mut kinds = BTreeSet::new();
        for b in all {
            st.resources += b.resources.len();
            for r in &b.resources {
                if r.kind() == "CustomResourceDefinition" {
                    st.crds.push(r.node.clone());
                } else if schemas.is_some() {
                    kinds.insert((r.id().api_version(), r.kind().to_string()));
                }
            }
        }
        let kinds: Vec<(String, String)> = kinds.into_iter().collect();
        // A kind another thread is still compiling: check this app at the end rather than wait.
        let ready = schemas.is_none_or(|s| s.prepare(&kinds));
        let needs_crds = schemas.is_some_and(|s| kinds.iter().any(|(a, k)| !s.resolvable(a, k)));
        let renders = AppRenders {
            ai,
            base,
            envs,
            base_envs,
        };
        if needs_crds || !ready {
            st.waiting = Some(renders);
        } else {
            st.changes = self
                .check(&renders, schemas)
                .into_iter()
                .map(|c| (ai, c))
                .collect();
        }
        st
    }

    /// Runs the app rules on one app's renders; returns its overlays' rendered changes.
    fn check(&self, r: &AppRenders, schemas: Option<&crate::schema::SchemaSet>) -> Vec<EnvChange> {
        let app = &self.apps[r.ai];
        if r.base.is_none() && r.envs.is_empty() {
            return vec![];
        }
        let ctx = AppCtx {
            app,
            base: r.base.as_ref(),
            envs: r.envs.iter().map(|(ei, b)| (&app.envs[*ei], b)).collect(),
            sources: self.sources,
            config: self.config,
            policy: self.policy,
            pr: self.pr.map(|p| PrCtx {
                rev: &p.rev,
                base_fs: &p.base_fs,
                base_envs: r
                    .base_envs
                    .iter()
                    .map(|(ei, b)| (&app.envs[*ei], b))
                    .collect(),
                affected: app
                    .envs
                    .iter()
                    .enumerate()
                    .filter(|(ei, _)| self.affected_envs.contains(&(r.ai, *ei)))
                    .map(|(_, e)| e.name.as_str())
                    .collect(),
                changed: &p.changed,
                actor: p.actor.as_deref(),
                base_renderer: self.base_renderer,
            }),
            schemas,
        };
        for rule in self.rules {
            let Some(level) = self.policy.level(rule.info().id) else {
                continue;
            };
            let Some(severity) = level.severity() else {
                continue;
            };
            for mut f in rule.check(&ctx, self.policy.rule(rule.info().id)) {
                f.severity = severity;
                self.out.push(f);
            }
        }
        // Pull-request mode: the rendered change of each affected overlay.
        let mut changes = Vec::new();
        for (ei, base_build) in &r.base_envs {
            if !self.affected_envs.contains(&(r.ai, *ei)) {
                continue;
            }
            let Some((_, head_build)) = r.envs.iter().find(|(e, _)| e == ei) else {
                continue;
            };
            changes.push(env_change(app, *ei, base_build, head_build));
        }
        changes
    }
}

/// The rendered change of one overlay between the base revision and head.
fn env_change(app: &App, ei: usize, base_build: &Build, head_build: &Build) -> EnvChange {
    let (before, after) = (images_of(base_build), images_of(head_build));
    let images = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| {
            (
                k.clone(),
                before.get(k).cloned().unwrap_or_default(),
                v.clone(),
            )
        })
        .collect();
    let (x, y) = (
        crate::render::to_yaml(&base_build.resources),
        crate::render::to_yaml(&head_build.resources),
    );
    let diff = if x == y {
        String::new()
    } else {
        similar::TextDiff::from_lines(&x, &y)
            .unified_diff()
            .context_radius(3)
            .header("base", "head")
            .to_string()
    };
    EnvChange {
        app: app.name.clone(),
        env: app.envs[ei].name.clone(),
        images,
        diff,
    }
}

fn sort(findings: Vec<Finding>, sources: &Sources) -> Vec<Finding> {
    let c = Collector::new();
    for f in findings {
        c.push(f);
    }
    c.into_sorted(sources)
}
