//! One check of one file tree (the working tree, or a Git revision) with a loaded config and
//! policy: discover, select what to check, render and check each app in one parallel pass, then
//! the repository-wide rules, waivers and totals.

use std::collections::BTreeSet;
use std::sync::Arc;

use rayon::prelude::*;

use super::pr::{PrState, affected};
use super::stream::{AppRenders, Stream, Streamed, build_env};
use super::{
    CheckOptions, EnvChange, Outcome, baseline, fatal_outcome, schema_options, shard_of, suppress,
};
use crate::diag::{Baseline, Collector, ErrorCode, Finding, Severity, Summary};
use crate::discover::{App, Discovery, Stage, discover};
use crate::git::RepoInfo;
use crate::policies::PolicySet;
use crate::render::Renderer;
use crate::rules;
use crate::schema::SchemaSet;
use crate::settings::{Config, Policy};
use crate::source::{Fs, Sources};

/// Custom rules and the policies the config names, compiled before anything renders (a syntax
/// error stops the run with its place) and narrowed to `--select`/`--ignore`.
fn load_policies(
    fs: &dyn Fs,
    config: &Config,
    policy: &Policy,
    sources: &Sources,
    opts: &CheckOptions,
) -> Result<PolicySet, Vec<Finding>> {
    let mut policies = PolicySet::load(fs, config, policy, sources, opts.timings)?;
    if opts.record_policies {
        policies = policies.recording();
    }
    opts.restrict_policies(&mut policies);
    Ok(policies)
}

/// What the parallel pass brought back, joined: pull-request changes, apps whose checks wait for
/// the repository's CRDs, the CRDs rendered; resources counted into the summary.
fn gather(
    streamed: Vec<Streamed>,
    summary: &mut Summary,
) -> (
    Vec<(usize, EnvChange)>,
    Vec<AppRenders>,
    Vec<crate::yaml::Node>,
) {
    let (mut changes, mut waiting, mut crds) = (Vec::new(), Vec::new(), Vec::new());
    for st in streamed {
        summary.resources += st.resources;
        crds.extend(st.crds);
        changes.extend(st.changes);
        waiting.extend(st.waiting);
    }
    (changes, waiting, crds)
}

/// Counts the findings the summary line gives: errors and warnings not waived, waived ones, and
/// in pull-request mode the new and existing ones.
pub(super) fn count(summary: &mut Summary, findings: &[Finding], pr: bool) {
    let counted = || findings.iter().filter(|f| f.suppressed.is_none());
    summary.errors = counted().filter(|f| f.severity == Severity::Error).count();
    summary.warnings = counted()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    summary.suppressed = findings.iter().filter(|f| f.suppressed.is_some()).count();
    if pr {
        let state = |b| counted().filter(|f| f.baseline == Some(b)).count();
        summary.new = Some(state(Baseline::New));
        summary.existing = Some(state(Baseline::Existing));
    }
}

/// Checks one file tree. `repo`: what GitOps objects may call the repository (which of their
/// sources are this one).
pub fn check_tree(
    fs: Arc<dyn Fs>,
    sources: Sources,
    config: &Config,
    policy: &Policy,
    opts: &CheckOptions,
    pr: Option<&PrState>,
    repo: &RepoInfo,
) -> Outcome {
    let mut phases = crate::timings::Phases::start();
    let schema_rules_on = ["schema-violation", "schema-missing"].iter().any(|id| {
        policy
            .level(id)
            .and_then(crate::settings::level::Level::severity)
            .is_some()
    });
    // Schema files are compiled with jsonschema: set up its one-time work while discovering.
    if schema_rules_on && !schema_options(policy).schema_dirs.is_empty() {
        crate::schema::warm_up();
    }
    let policies = match load_policies(&*fs, config, policy, &sources, opts) {
        Ok(p) => p,
        Err(errs) => return fatal_outcome(errs, sources),
    };
    phases.mark("policies");
    let discovery = discover(&*fs, config, &sources, repo);
    phases.mark("discover");
    if let Some(f) = nothing_to_check(&discovery, opts) {
        return fatal_outcome(vec![f], sources);
    }
    let mut apps = match selected(&discovery, opts) {
        Ok(a) => a,
        Err(f) => return fatal_outcome(vec![*f], sources),
    };
    let renderer = Renderer::new(fs, sources.clone());
    let out = Collector::new();
    // Repository-wide rules see every app, whatever the change touched.
    let all_apps = apps.clone();
    // Pull-request mode: only apps with an environment whose inputs changed are checked, and only
    // those environments are rendered at the base revision.
    let base_renderer = pr
        .map(|p| Renderer::with_label(p.base_fs.clone(), sources.clone(), &format!("{}:", p.rev)));
    let (affected_dirs, affected_envs) = match pr {
        Some(p) => keep_affected(&mut apps, &renderer, p),
        None => (vec![], BTreeSet::new()),
    };
    phases.mark("pr-affected");
    let mut schemas = schema_set(opts, policy, &renderer, &out, schema_rules_on);
    phases.mark("schemas");
    let stream = Stream {
        apps: &apps,
        renderer: &renderer,
        base_renderer: base_renderer.as_ref(),
        affected_envs: &affected_envs,
        pr,
        sources: &sources,
        config,
        policy,
        rules: rules::RULES,
        policies: &policies,
        out: &out,
    };
    // Each app is rendered, checked and dropped in one parallel pass. An app with a kind that is
    // not a Kubernetes one waits until every app is rendered (a CRD for it may come from any of
    // them, or from another file of the repository); so does one whose kind's validator another
    // thread is compiling (the first few apps).
    let streamed: Vec<Streamed> = (0..apps.len())
        .into_par_iter()
        .map(|ai| stream.render_and_check(ai, schemas.as_ref()))
        .collect();
    phases.mark("render+check");
    let mut summary = Summary {
        overlays: apps.iter().map(|a| a.envs.len()).sum(),
        ..Summary::default()
    };
    let (changes, waiting, crds) = gather(streamed, &mut summary);
    if let Some(s) = &mut schemas {
        add_crds(s, &crds, &out);
        phases.mark("rendered-crds");
        crds_of_files(s, renderer.fs(), &discovery.crd_files, &waiting, &out);
        phases.mark("crd-files");
        crds_of_unchecked_apps(s, &discovery.apps, &apps, &waiting, &renderer, &out);
    }
    let changes = check_waiting(&stream, &waiting, schemas.as_ref(), changes);
    phases.mark("apps-checked-last");
    duplicate_keys(policy, &renderer, &out);
    let now = opts.now_or_clock();
    let repo_ctx = rules::RepoCtx {
        apps: &all_apps,
        discovery: &discovery,
        fs: renderer.fs(),
        sources: &sources,
        config,
        changed: pr.map(|p| &p.changed),
        affected: pr.map(|_| affected_dirs.as_slice()),
        actor: pr.and_then(|p| p.actor.as_deref()),
        now: Some(now),
    };
    repo_findings(&repo_ctx, policy, pr, repo, &out);
    phases.mark("repo-rules");
    let findings = waive(
        merge_environments(out.into_sorted(&sources)),
        Waive {
            config,
            policy,
            policies: &policies,
            opts,
            all_apps: &all_apps,
            sources: &sources,
            now,
        },
    );
    count(&mut summary, &findings, pr.is_some());
    phases.mark("sort-findings");
    // Freeing thousands of rendered trees and the renderer's caches takes a tenth of a whole-repo
    // check; nothing waits for it. In the CLI the process exits first, in a library caller a
    // pool thread finishes it in the background.
    let garbage = (waiting, renderer, base_renderer, schemas);
    rayon::spawn(move || drop(garbage));
    phases.mark("drop");
    if let Some(f) = opts.unknown_rule(policy, &policies) {
        return fatal_outcome(vec![f], sources);
    }
    Outcome {
        findings,
        summary,
        sources,
        affected: affected_dirs,
        changes,
        rules: policies.docs(),
        rule_times: policies.times(),
        policy_results: policies.recorded(),
    }
}

/// A repository with nothing kustodian would check, or with no production environment, is one
/// to configure, not a clean one (never silently green).
fn nothing_to_check(d: &Discovery, opts: &CheckOptions) -> Option<Finding> {
    const LOOKED_FOR: &str = "looked for Argo CD Applications/ApplicationSets and Flux Kustomizations in the repository's YAML files, and for <app>/overlays/<env>, envs/<env>, <app>/<env> beside <app>/base and clusters/<env>/ directories holding a kustomization";
    let envs: Vec<&str> = d
        .apps
        .iter()
        .flat_map(|a| &a.envs)
        .map(|e| e.name.as_str())
        .collect();
    let msg = if envs.is_empty() {
        let seen = match (d.gitops_objects, d.kustomizations) {
            (0, 0) => "found no GitOps object and no kustomization".to_string(),
            (g, k) => {
                format!("found {g} GitOps object(s) and {k} kustomization(s), but no environment")
            }
        };
        format!(
            "nothing to check: {seen} ({LOOKED_FOR}). Name your environments with `environments:` in .kustodian.yaml (e.g. `- path: deploy/{{app}}/{{env}}`)"
        )
    } else if !d
        .apps
        .iter()
        .flat_map(|a| &a.envs)
        .any(|e| e.stage == Some(Stage::Production))
    {
        let mut names: Vec<&str> = envs.clone();
        names.sort_unstable();
        names.dedup();
        format!(
            "no environment is production, so the production rules would check nothing: found {} ({}). Names such as prod, production, prd, live or prod-eu read as production; for others set `stages: {{<env>: production}}` in .kustodian.yaml",
            names.len(),
            names.join(", ")
        )
    } else {
        return None;
    };
    // About the checked directory as a whole: named in the message, no file to point at.
    Some(Finding::error_code(
        ErrorCode::Config,
        format!("{}: {msg}", opts.root.display()),
    ))
}

/// The apps and environments the filters and the shard select.
fn selected(d: &Discovery, opts: &CheckOptions) -> Result<Vec<App>, Box<Finding>> {
    let mut apps = d.apps.clone();
    apps.retain(|a| opts.apps.is_empty() || opts.apps.contains(&a.name));
    for a in &mut apps {
        let keep: Vec<bool> = a
            .envs
            .iter()
            .map(|e| opts.envs.is_empty() || opts.envs.contains(&e.name))
            .collect();
        retain_envs(a, &keep);
    }
    apps.retain(|a| !a.envs.is_empty());
    if apps.is_empty() {
        let f = Finding::error_code(
            ErrorCode::Config,
            format!(
                "no environment matches the filters (--app {:?}, --env {:?})",
                opts.apps, opts.envs
            ),
        );
        return Err(Box::new(f));
    }
    if let Some((i, n)) = opts.shard {
        apps.retain(|a| shard_of(&a.dir, n) + 1 == i);
    }
    Ok(apps)
}

/// Keeps the environments flagged in `keep`, and the pairs between kept ones (re-indexed).
fn retain_envs(app: &mut App, keep: &[bool]) {
    let mut index = Vec::with_capacity(keep.len());
    let mut n = 0;
    for k in keep {
        index.push(k.then(|| {
            n += 1;
            n - 1
        }));
    }
    app.pairs = app
        .pairs
        .iter()
        .filter_map(|(s, p)| Some((index[*s]?, index[*p]?)))
        .collect();
    let mut i = 0;
    app.envs.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Pull-request mode: keeps the apps with an affected environment; returns the affected
/// directories and `(app, env)` indexes into the kept apps.
fn keep_affected(
    apps: &mut Vec<App>,
    renderer: &Renderer,
    p: &PrState,
) -> (Vec<String>, BTreeSet<(usize, usize)>) {
    let hit = affected(apps, renderer, &p.changed);
    let dirs: Vec<String> = hit
        .iter()
        .map(|(a, e)| apps[*a].envs[*e].dir.clone())
        .collect();
    let keep: BTreeSet<usize> = hit.iter().map(|(a, _)| *a).collect();
    let mut remap = std::collections::BTreeMap::new();
    let mut i = 0;
    apps.retain(|_| {
        let k = keep.contains(&i);
        if k {
            remap.insert(i, remap.len());
        }
        i += 1;
        k
    });
    let envs = hit.into_iter().map(|(a, e)| (remap[&a], e)).collect();
    (dirs, envs)
}

/// The configured Kubernetes version and schema directories; the repository's CRDs join once
/// every app is rendered (those it renders, then those of its other files).
fn schema_set(
    opts: &CheckOptions,
    policy: &Policy,
    renderer: &Renderer,
    out: &Collector,
    on: bool,
) -> Option<SchemaSet> {
    if !on {
        return None;
    }
    let o = schema_options(policy);
    match SchemaSet::new(opts.kubernetes_version(o), o.strict, &[])
        .and_then(|mut s| s.add_dirs(renderer.fs(), &o.schema_dirs).map(|()| s))
    {
        Ok(mut s) => {
            s.await_repository_crds();
            Some(s)
        }
        Err(msg) => {
            out.push(Finding::error_code(ErrorCode::Policy, msg));
            None
        }
    }
}

/// The `(apiVersion, kind)` pairs of the apps that waited for the repository's CRDs.
fn waiting_kinds(waiting: &[AppRenders]) -> BTreeSet<(String, &str)> {
    waiting
        .iter()
        .flat_map(|w| w.envs.iter().map(|(_, b)| b).chain(w.base.iter()))
        .flat_map(|b| &b.resources)
        .filter(|r| r.kind() != "CustomResourceDefinition")
        .map(|r| (r.id().api_version(), r.kind()))
        .collect()
}

/// Adds the CRDs of the repository's other YAML files (`files`: those discovery saw mention
/// `CustomResourceDefinition`) for the kinds of waiting apps that still want one; only those
/// CRDs are parsed ([`crate::schema::crds_defining`]).
fn crds_of_files(
    s: &mut SchemaSet,
    fs: &dyn Fs,
    files: &[String],
    waiting: &[AppRenders],
    out: &Collector,
) {
    if files.is_empty() {
        return;
    }
    let wanted: BTreeSet<(String, String)> = waiting_kinds(waiting)
        .into_iter()
        .filter(|(api, kind)| s.wants_crd(api, kind))
        .map(|(api, kind)| {
            let group = crate::text::split_api_version(&api).0.to_string();
            (group, kind.to_string())
        })
        .collect();
    if wanted.is_empty() {
        return;
    }
    let per_file: Vec<Vec<crate::yaml::Node>> = files
        .par_iter()
        .map(|f| match fs.read(f) {
            Ok(text) => crate::schema::crds_defining(&text, &wanted),
            Err(_) => vec![],
        })
        .collect();
    let crds: Vec<&crate::yaml::Node> = per_file.iter().flatten().collect();
    if let Err(msg) = s.add_crd_files(&crds) {
        out.push(Finding::error_code(ErrorCode::Policy, msg));
    }
}

fn add_crds(s: &mut SchemaSet, crds: &[crate::yaml::Node], out: &Collector) {
    if let Err(msg) = s.add_rendered_crds(&crds.iter().collect::<Vec<_>>()) {
        out.push(Finding::error_code(ErrorCode::Policy, msg));
    }
}

/// A checked app has a kind no schema describes yet: the CRDs of the apps this run does not
/// check (unaffected by the pull request, in other shards, filtered out) are rendered for it —
/// only then, so a run whose kinds all resolve reads nothing more.
fn crds_of_unchecked_apps(
    s: &mut SchemaSet,
    discovered: &[App],
    checked: &[App],
    waiting: &[AppRenders],
    renderer: &Renderer,
    out: &Collector,
) {
    let checked: BTreeSet<&str> = checked.iter().map(|a| a.dir.as_str()).collect();
    let others: Vec<&App> = discovered
        .iter()
        .filter(|a| !checked.contains(a.dir.as_str()))
        .collect();
    let unresolved = !others.is_empty()
        && waiting_kinds(waiting)
            .iter()
            .any(|(api, kind)| !s.resolvable(api, kind));
    if !unresolved {
        return;
    }
    let more: Vec<crate::yaml::Node> = others
        .par_iter()
        .flat_map_iter(|a| {
            let mut builds: Vec<crate::render::Build> = a
                .envs
                .iter()
                .filter_map(|e| build_env(renderer, e).ok())
                .collect();
            builds.extend(a.base.iter().filter_map(|b| renderer.build(b).ok()));
            renderer.forget_below(&a.dir);
            builds
                .into_iter()
                .flat_map(|b| b.resources)
                .filter(|r| r.kind() == "CustomResourceDefinition")
                .map(|r| r.node)
        })
        .collect();
    if let Err(msg) = s.add_other_crds(&more.iter().collect::<Vec<_>>()) {
        out.push(Finding::error_code(ErrorCode::Policy, msg));
    }
}

/// Checks the apps that waited for the repository's CRDs; returns every environment change in
/// app order, as if no app had waited.
fn check_waiting(
    stream: &Stream,
    waiting: &[AppRenders],
    schemas: Option<&SchemaSet>,
    mut changes: Vec<(usize, EnvChange)>,
) -> Vec<EnvChange> {
    let waited: Vec<Vec<EnvChange>> = waiting
        .par_iter()
        .map(|w| stream.check(w, schemas))
        .collect();
    for (w, c) in waiting.iter().zip(waited) {
        changes.extend(c.into_iter().map(|c| (w.ai, c)));
    }
    changes.sort_by_key(|(ai, _)| *ai);
    changes.into_iter().map(|(_, c)| c).collect()
}

/// Duplicate keys in the files an environment read that kustomize does not refuse (a resource
/// with one fails the build, see `Renderer::load_output_file`): in a kustomization kustomize keeps
/// the later value; in a patch its merge keeps one of them; kubectl would refuse either.
fn duplicate_keys(policy: &Policy, renderer: &Renderer, out: &Collector) {
    let Some(sev) = policy
        .rule(rules::schema_violation::INFO.id)
        .level
        .severity()
    else {
        return;
    };
    for d in renderer.duplicate_keys() {
        let mut f = Finding::new(
            rules::schema_violation::INFO.id,
            sev,
            format!(
                "duplicate key '{}': only one of the values takes effect (in a kustomization, the later one); kubectl would refuse this file",
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

/// Repository-wide rules (who changed what, who owns what, what the GitOps objects point at).
fn repo_rules(repo: &rules::RepoCtx, policy: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules::RULES {
        let Some(severity) = policy
            .level(rule.info().id)
            .and_then(crate::settings::level::Level::severity)
        else {
            continue;
        };
        for mut f in rule.check_repo(repo, policy.rule(rule.info().id)) {
            // A file the rule could not read is an error whatever the rule's severity.
            if !f.fatal {
                f.severity = severity;
            }
            out.push(f);
        }
    }
    out
}

/// Pull-request mode: marks the repository-wide findings new or existing. Only when one could
/// be existing is the base revision discovered and its repository-wide rules run (with their
/// own sources: nothing of it reaches the report).
/// The repository-wide rules' findings, in pull-request mode marked new or existing against the
/// base revision's.
fn repo_findings(
    ctx: &rules::RepoCtx,
    policy: &Policy,
    pr: Option<&PrState>,
    repo: &RepoInfo,
    out: &Collector,
) {
    let mut found = repo_rules(ctx, policy);
    if let (Some(p), Some(now)) = (pr, ctx.now) {
        repo_baseline(&mut found, p, ctx.config, policy, repo, ctx.sources, now);
    }
    for f in found {
        out.push(f);
    }
}

fn repo_baseline(
    found: &mut [Finding],
    p: &PrState,
    config: &Config,
    policy: &Policy,
    repo: &RepoInfo,
    sources: &Sources,
    now: jiff::Timestamp,
) {
    let mut base = Vec::new();
    let base_sources = Sources::new();
    if found.iter().any(baseline::comparable) {
        let discovery = discover(&*p.base_fs, config, &base_sources, repo);
        let ctx = rules::RepoCtx {
            apps: &discovery.apps,
            discovery: &discovery,
            fs: &*p.base_fs,
            sources: &base_sources,
            config,
            changed: None,
            affected: None,
            actor: None,
            now: Some(now),
        };
        base = repo_rules(&ctx, policy);
    }
    let at_base = baseline::AtBase {
        findings: &base,
        sources: &base_sources,
    };
    baseline::mark(found, sources, at_base, &format!("{}:", p.rev));
}

/// One finding at one source line that holds in several environments (a base's limits, a shared
/// env var) is reported once, naming them all, rather than once per environment. Findings are
/// the same when rule, app, place, field and message agree once the environment's name is
/// taken out of the message; the merged message names the environments where it named one.
fn merge_environments(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for f in findings {
        let (Some(env), false) = (f.environment.clone(), f.fatal || f.loc.is_none()) else {
            out.push(f);
            continue;
        };
        let key = (
            f.rule.clone(),
            f.app.clone(),
            (f.loc.file, f.loc.start, f.loc.end),
            f.field.clone(),
            f.resource.as_ref().map(|r| r.kind.clone()),
            f.message.replace(&env, "\0"),
            f.baseline,
        );
        if let Some(&i) = index.get(&key) {
            let first = &mut out[i];
            let before = first.environment.clone().unwrap_or_default();
            rules::add_environment(first, &env);
            let after = first.environment.clone().unwrap_or_default();
            first.message = first.message.replace(&before, &after);
        } else {
            index.insert(key, out.len());
            out.push(f);
        }
    }
    out
}

/// What waiving findings looks at.
struct Waive<'a> {
    config: &'a Config,
    policy: &'a Policy,
    policies: &'a PolicySet,
    opts: &'a CheckOptions,
    all_apps: &'a [App],
    sources: &'a Sources,
    now: jiff::Timestamp,
}

/// Inline comments and configured exceptions; then the waivers that waived nothing.
fn waive(mut findings: Vec<Finding>, w: Waive) -> Vec<Finding> {
    let Waive {
        config,
        policy,
        policies,
        opts,
        all_apps,
        sources,
        now,
    } = w;
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let used = suppress::apply(&mut findings, &config.waivers, sources, today);
    let Some(sev) = policy
        .level(rules::unused_suppression::INFO.id)
        .and_then(crate::settings::level::Level::severity)
    else {
        return findings;
    };
    // Only a run that checked everything can tell that a waiver matched nothing.
    let full =
        opts.base.is_none() && opts.envs.is_empty() && opts.apps.is_empty() && opts.shard.is_none();
    let ran = |rule: &str| match rules::lookup(rule) {
        Some(r) => {
            !r.pull_request_only
                && policy
                    .level(rule)
                    .and_then(crate::settings::level::Level::severity)
                    .is_some()
        }
        None => policies.enabled(rule),
    };
    let known = |rule: &str| rules::lookup(rule).is_some() || policies.knows(rule);
    let app_of = |path: &str| {
        all_apps
            .iter()
            .find(|a| path.starts_with(&format!("{}/", a.dir)))
            .map(|a| a.name.clone())
    };
    let unused = suppress::unused(
        &used,
        &config.waivers,
        sources,
        today,
        suppress::Scope {
            full,
            ran: &ran,
            known: &known,
            app_of: &app_of,
        },
    );
    if unused.is_empty() {
        return findings;
    }
    let c = Collector::new();
    for mut f in findings.into_iter().chain(unused) {
        if f.rule == rules::unused_suppression::INFO.id {
            f.severity = sev;
        }
        c.push(f);
    }
    c.into_sorted(sources)
}
