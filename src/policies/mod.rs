//! Policy as code: the rules users write and the policies they already have, run by the check
//! engine beside the built-in rules, per app and environment, in the same pass.
//!
//! Three sources, one shape. Custom rules (`custom:` in a policy file or `.kustodian.yaml`) are
//! CEL expressions ([`custom`]); ValidatingAdmissionPolicies and their bindings — rendered into
//! an environment, or loaded from `admission-policies:` files — are what the cluster will enforce,
//! enforced at pull-request time ([`vap`]); Conftest policies in Rego run in-process ([`rego`],
//! a cargo feature). Each is compiled once per run (a syntax error is a fatal `policy-error` at
//! its file, line and column), each evaluates one environment's objects at a time
//! ([`EnvInput`]: the object, the same object at the pull request's base revision and in the
//! staging environment production is promoted from), and each produces ordinary findings —
//! rule id, severity, the line to edit — that go through the same suppressions, exceptions and
//! reports as the built-in rules'. Every evaluation also says pass or skip, which `kustodian
//! test` (`crate::policy_tests`, above the check engine it runs) compares with what a test suite
//! expects.
//!
//! This module sits beside `rules` above the settings: the settings declare custom rules
//! (typed, with their lines); compiling and evaluating them happens here.

pub mod analysis;
pub mod at;
pub mod cel;
pub mod custom;
pub mod direct;
pub mod files;
pub mod matching;
#[cfg(feature = "rego")]
pub mod rego;
pub mod vap;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::diag::{ErrorCode, Finding, ResourceRef, RuleDescriptor, Severity};
use crate::render::Resource;
use crate::rules::AppCtx;
use crate::settings::custom::PathStep;
use crate::settings::{Config, Policy, Stage};
use crate::source::{Fs, Sources};
use crate::yaml::Node;

/// What one evaluation of a rule on one object found.
#[derive(Clone, Debug)]
pub enum Status {
    Pass,
    /// The rule does not apply to the object (its match, stages or binding leave it out).
    Skip,
    Fail(Box<Finding>),
}

/// The base revision's side of an environment, for `oldObject`.
#[derive(Clone, Copy, Debug)]
pub enum Old<'a> {
    /// Not a pull-request check: `oldObject` is null.
    Outside,
    /// The pull request does not change the environment: every object is its own old self.
    Unchanged,
    /// The environment rendered at the base revision.
    Base(&'a [Resource]),
}

/// One environment's objects and what policies compare them with.
pub struct EnvInput<'a> {
    pub app: &'a str,
    pub env: &'a str,
    pub stage: Option<Stage>,
    pub objects: &'a [Resource],
    pub old: Old<'a>,
    /// Production: the objects of the staging environment it is promoted from.
    pub counterpart: Option<&'a [Resource]>,
    /// `environment`: `{name, stage, app}`.
    pub environment: Node,
    /// Each object's kind, read once for every rule's match.
    pub kinds: Vec<&'a str>,
    /// Each object at the base revision and in the staging environment, found once for every
    /// rule that reads them.
    olds: OnceLock<Vec<Option<&'a Resource>>>,
    counterparts: OnceLock<Vec<Option<&'a Resource>>>,
}

impl<'a> EnvInput<'a> {
    pub fn new(
        app: &'a str,
        env: &'a str,
        stage: Option<Stage>,
        objects: &'a [Resource],
        old: Old<'a>,
        counterpart: Option<&'a [Resource]>,
    ) -> EnvInput<'a> {
        let mut environment = Node::map();
        environment.set("name", Node::str(env));
        environment.set(
            "stage",
            stage.map_or_else(
                || Node::synth(crate::yaml::Value::Null),
                |s| Node::str(s.as_str()),
            ),
        );
        environment.set("app", Node::str(app));
        EnvInput {
            app,
            env,
            stage,
            objects,
            old,
            counterpart,
            environment,
            kinds: objects.iter().map(Resource::kind).collect(),
            olds: OnceLock::new(),
            counterparts: OnceLock::new(),
        }
    }
}

impl<'a> EnvInput<'a> {
    /// The `i`th object at the base revision ([`EnvInput::old_of`]), found once per environment.
    pub fn old_at(&self, i: usize) -> Option<&'a Resource> {
        match self.old {
            Old::Outside => None,
            Old::Unchanged => Some(&self.objects[i]),
            Old::Base(list) => self
                .olds
                .get_or_init(|| self.objects.iter().map(|r| same_object(list, r)).collect())[i],
        }
    }

    /// The `i`th object's counterpart ([`EnvInput::counterpart_of`]), found once per
    /// environment.
    pub fn counterpart_at(&self, i: usize) -> Option<&'a Resource> {
        self.counterpart?;
        self.counterparts.get_or_init(|| {
            self.objects
                .iter()
                .map(|r| self.counterpart_of(r))
                .collect()
        })[i]
    }

    /// The object at the base revision (`None`: outside pull-request mode, or new).
    pub fn old_of<'b>(&'b self, r: &'b Resource) -> Option<&'b Resource> {
        match self.old {
            Old::Outside => None,
            Old::Unchanged => Some(r),
            Old::Base(list) => same_object(list, r),
        }
    }

    /// The same object in the staging environment production is promoted from.
    pub fn counterpart_of(&self, r: &Resource) -> Option<&'a Resource> {
        let list = self.counterpart?;
        let orig = r.orig_id();
        let mut candidates = list.iter().filter(|o| {
            let oid = o.orig_id();
            oid.same_gk(&orig) && oid.name == orig.name
        });
        let first = candidates.next()?;
        let ns = r.namespace();
        Some(
            std::iter::once(first)
                .chain(candidates)
                .find(|o| o.namespace() == ns)
                .unwrap_or(first),
        )
    }

    /// A finding of `rule` about an object, at the field `at` (or the object).
    pub fn finding(
        &self,
        rule: &str,
        r: &Resource,
        message: String,
        at: Option<&[PathStep]>,
    ) -> Finding {
        let mut f = Finding::new(rule, Severity::Error, message);
        f.app = Some(self.app.to_string());
        f.environment = Some(self.env.to_string());
        f.resource = Some(resource_ref(r));
        f.loc = r.loc();
        if let Some(path) = at {
            let (loc, field, related) = at::primary_and_related(at::locate(&r.node, path));
            if loc.is_some() {
                f.loc = loc;
            }
            f.field = field;
            f.related = related;
        }
        f
    }
}

/// The object a finding is about.
pub fn resource_ref(r: &Resource) -> ResourceRef {
    let id = r.id();
    ResourceRef {
        api_version: id.api_version(),
        kind: id.kind.to_string(),
        namespace: id.namespace.to_string(),
        name: id.name.to_string(),
    }
}

/// The same object in another rendering of an environment: same id, else same original id.
fn same_object<'a>(list: &'a [Resource], r: &Resource) -> Option<&'a Resource> {
    let id = r.id();
    list.iter().find(|o| o.id() == id).or_else(|| {
        let orig = r.orig_id();
        list.iter().find(|o| o.orig_id() == orig)
    })
}

/// Every policy of a run, compiled.
pub struct PolicySet {
    custom: Vec<custom::CustomCheck>,
    admission: vap::Admission,
    #[cfg(feature = "rego")]
    rego: Option<rego::RegoSet>,
    timings: Option<Mutex<BTreeMap<String, Duration>>>,
    /// Every evaluation's outcome, when asked for (`kustodian test` of a repository).
    record: Option<Mutex<Vec<Recorded>>>,
    /// `--select` (empty: all) and `--ignore`.
    select: Vec<String>,
    ignore: Vec<String>,
    /// The custom rules these leave out (still rules of the run, for waivers and `--ignore`).
    left_out: Vec<String>,
}

/// One evaluation of a rule on an object in a check.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub rule: String,
    pub app: String,
    pub environment: String,
    pub resource: ResourceRef,
    pub status: Status,
}

impl PolicySet {
    /// No policies.
    pub fn empty() -> PolicySet {
        PolicySet {
            custom: vec![],
            admission: vap::Admission::default(),
            #[cfg(feature = "rego")]
            rego: None,
            timings: None,
            record: None,
            select: vec![],
            ignore: vec![],
            left_out: vec![],
        }
    }

    /// Runs only the rules of `select` (when not empty) that `ignore` does not name; ids of
    /// other rules are someone else's (built-in rules are restricted in the policy).
    pub fn restrict(&mut self, select: &[String], ignore: &[String]) {
        self.select = select.to_vec();
        self.ignore = ignore.to_vec();
        let (s, i) = (&self.select, &self.ignore);
        let (kept, out): (Vec<_>, Vec<_>) = std::mem::take(&mut self.custom)
            .into_iter()
            .partition(|c| (s.is_empty() || s.contains(&c.id)) && !i.contains(&c.id));
        self.custom = kept;
        self.left_out = out.into_iter().map(|c| c.id).collect();
    }

    fn kept(&self, id: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == id))
            && !self.ignore.iter().any(|s| s == id)
    }

    /// Keeps every evaluation's outcome ([`PolicySet::recorded`]).
    pub fn recording(mut self) -> PolicySet {
        self.record = Some(Mutex::default());
        self
    }

    /// The outcomes kept since [`PolicySet::recording`].
    pub fn recorded(&self) -> Vec<Recorded> {
        self.record
            .as_ref()
            .map(|r| r.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// Compiles the custom rules of the repository config and the user's policy, and loads the
    /// admission policies and Rego policies the config names; every error at its place.
    pub fn load(
        fs: &dyn Fs,
        config: &Config,
        policy: &Policy,
        sources: &Sources,
        timings: bool,
    ) -> Result<PolicySet, Vec<Finding>> {
        let mut errs = Vec::new();
        let mut set = PolicySet::empty();
        for decl in crate::settings::custom::layered(&config.custom, &policy.custom) {
            match custom::CustomCheck::compile(&decl, sources) {
                Ok(c) => set.custom.push(c),
                Err(f) => errs.push(*f),
            }
        }
        match vap::Admission::load(fs, &config.file.admission_policies, sources) {
            Ok(a) => set.admission = a,
            Err(e) => errs.extend(e),
        }
        let rego = &config.file.rego;
        #[cfg(feature = "rego")]
        if !rego.is_empty() {
            match rego::RegoSet::load(fs, rego, &config.file.rego_namespaces, sources) {
                Ok(r) => set.rego = Some(r),
                Err(e) => errs.extend(e),
            }
        }
        #[cfg(not(feature = "rego"))]
        if !rego.is_empty() {
            let mut f = Finding::error_code(
                ErrorCode::Config,
                "`rego:` names Conftest policies, but this kustodian was built without Rego support (cargo feature `rego`)",
            );
            f.path = Some(".kustodian.yaml".into());
            errs.push(f);
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        set.timings = timings.then(Default::default);
        Ok(set)
    }

    /// Whether any policy could run (admission policies may also come with the renders).
    pub fn has_custom_or_imported(&self) -> bool {
        !self.custom.is_empty() || !self.admission.is_empty() || self.has_rego()
    }

    fn has_rego(&self) -> bool {
        #[cfg(feature = "rego")]
        return self.rego.is_some();
        #[cfg(not(feature = "rego"))]
        false
    }

    /// Evaluates every policy on one environment; `sink` hears every (rule, object, status).
    pub fn evaluate(&self, input: &EnvInput, sink: &mut dyn FnMut(&str, usize, Status)) {
        let restricted = !self.select.is_empty() || !self.ignore.is_empty();
        let mut filtered = |id: &str, i: usize, s: Status| {
            if !restricted || self.kept(id) {
                sink(id, i, s);
            }
        };
        let sink: &mut dyn FnMut(&str, usize, Status) = &mut filtered;
        for c in &self.custom {
            let t = self.timings.as_ref().map(|_| Instant::now());
            c.run(input, sink);
            self.time(&c.id, t);
        }
        let t = self.timings.as_ref().map(|_| Instant::now());
        self.admission.run(input, sink);
        self.time("(admission policies)", t);
        #[cfg(feature = "rego")]
        if let Some(r) = &self.rego {
            let t = self.timings.as_ref().map(|_| Instant::now());
            r.run(input, sink);
            self.time("(rego)", t);
        }
    }

    fn time(&self, id: &str, start: Option<Instant>) {
        if let (Some(t), Some(start)) = (&self.timings, start) {
            *t.lock().unwrap().entry(id.to_string()).or_default() += start.elapsed();
        }
    }

    /// The findings of every policy on one app's environments.
    pub fn check_app(&self, ctx: &AppCtx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            let old = match &ctx.pr {
                None => Old::Outside,
                Some(pr) if !pr.affected.contains(&env.name.as_str()) => Old::Unchanged,
                Some(pr) => Old::Base(pr.base_env(&env.name).map_or(&[][..], |b| &b.resources)),
            };
            let counterpart = (env.stage == Some(Stage::Production))
                .then(|| ctx.app.counterpart(&env.name))
                .flatten()
                .and_then(|s| ctx.envs.iter().find(|(e, _)| e.name == s.name))
                .map(|(_, b)| &b.resources[..]);
            let input = EnvInput::new(
                &ctx.app.name,
                &env.name,
                env.stage,
                &build.resources,
                old,
                counterpart,
            );
            let mut kept = Vec::new();
            self.evaluate(&input, &mut |rule, i, s| {
                if self.record.is_some() {
                    kept.push(Recorded {
                        rule: rule.to_string(),
                        app: ctx.app.name.clone(),
                        environment: env.name.clone(),
                        resource: resource_ref(&build.resources[i]),
                        status: s.clone(),
                    });
                }
                if let Status::Fail(f) = s {
                    out.push(*f);
                }
            });
            if let Some(r) = &self.record {
                r.lock().unwrap().extend(kept);
            }
        }
        out
    }

    /// The ids of this run's custom and imported rules (those `--select` left out too).
    pub fn ids(&self) -> Vec<String> {
        let mut out: Vec<String> = self.docs().into_iter().map(|d| d.id).collect();
        out.extend(self.left_out.iter().cloned());
        out
    }

    /// Whether `id` names a rule of this run (custom, or imported and seen).
    pub fn knows(&self, id: &str) -> bool {
        self.custom.iter().any(|c| c.id == id)
            || self.left_out.iter().any(|c| c == id)
            || self.admission.knows(id)
            || self.rego_knows(id)
    }

    fn rego_knows(&self, id: &str) -> bool {
        #[cfg(feature = "rego")]
        return self.rego.as_ref().is_some_and(|r| r.knows(id));
        #[cfg(not(feature = "rego"))]
        {
            let _ = id;
            false
        }
    }

    /// Whether the rule `id` of this run is turned on.
    pub fn enabled(&self, id: &str) -> bool {
        if !self.kept(id) {
            return false;
        }
        match self.custom.iter().find(|c| c.id == id) {
            Some(c) => c.level != crate::settings::Level::Off,
            None => self.knows(id),
        }
    }

    /// The descriptions of this run's custom and imported rules, by id.
    pub fn docs(&self) -> Vec<RuleDescriptor> {
        let mut out: Vec<RuleDescriptor> = self.custom.iter().map(|c| c.doc.clone()).collect();
        out.extend(self.admission.docs());
        #[cfg(feature = "rego")]
        if let Some(r) = &self.rego {
            out.extend(r.docs());
        }
        out
    }

    /// Time spent per rule (when asked for), longest first.
    pub fn times(&self) -> Vec<(String, Duration)> {
        let Some(t) = &self.timings else {
            return vec![];
        };
        let mut v: Vec<(String, Duration)> = t.lock().unwrap().clone().into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// A fatal `policy-error` finding in a file, at 1-based `line` and `column` (characters).
pub fn error_at(
    sources: &Sources,
    path: &str,
    line: usize,
    column: usize,
    message: String,
) -> Finding {
    let mut f = Finding::error_code(ErrorCode::Policy, message);
    f.path = Some(path.to_string());
    if let Some(id) = sources.lookup(path)
        && let Some(file) = sources.get(id)
        && line >= 1
        && line as u32 <= file.line_count()
    {
        let start = file.line_start(line as u32);
        let text = file.line_text(line as u32);
        let byte = text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(text.len(), |(b, _)| b);
        f.loc = crate::source::Loc::new(id, start + byte, start + byte);
    }
    f
}

/// The custom and imported rules of a repository, for `kustodian rules` and `explain`.
pub struct Catalog {
    pub rules: Vec<RuleDescriptor>,
    /// Environments that did not render (`app/env`): admission policies rendered into them
    /// are not listed (a check reports why).
    pub unrendered: Vec<String>,
}

/// The custom and imported rules of the repository at `root` (its `.kustodian.yaml`) and of a
/// user's policy file. With `render`, every environment is rendered too (as a check renders
/// it, nothing evaluated) for the admission policies and bindings rendered into them.
pub fn catalog(
    root: &std::path::Path,
    policy: Option<&std::path::Path>,
    render: bool,
) -> Result<Catalog, (Vec<Finding>, Sources)> {
    let sources = Sources::new();
    let fs: std::sync::Arc<dyn Fs> = match crate::source::DiskFs::new(root) {
        Ok(fs) => std::sync::Arc::new(fs),
        Err(e) => {
            let f = Finding::error_code(ErrorCode::Config, format!("cannot read repository: {e}"));
            return Err((vec![f], sources));
        }
    };
    let catalog = &crate::rules::CATALOG;
    let loaded = Config::load(&*fs, &sources, catalog).and_then(|config| {
        Policy::load_layered(Some(&config.file.rules), policy, &sources, catalog)
            .map(|p| (config, p))
    });
    let (config, policy) = match loaded {
        Ok(x) => x,
        Err(errs) => return Err((errs, sources)),
    };
    let set = match PolicySet::load(&*fs, &config, &policy, &sources, false) {
        Ok(set) => set,
        Err(errs) => return Err((errs, sources)),
    };
    let unrendered = if render {
        observe_rendered(&set, fs, &config, &sources, root)
    } else {
        vec![]
    };
    Ok(Catalog {
        rules: set.docs(),
        unrendered,
    })
}

/// Renders every environment of the repository and notes the admission policies and
/// bindings in each; returns the environments that did not render.
fn observe_rendered(
    set: &PolicySet,
    fs: std::sync::Arc<dyn Fs>,
    config: &Config,
    sources: &Sources,
    root: &std::path::Path,
) -> Vec<String> {
    use rayon::prelude::*;
    let found = crate::discover::discover(&*fs, config, sources, &crate::git::repo_info(root));
    let renderer = crate::render::Renderer::new(fs, sources.clone());
    let envs: Vec<_> = found
        .apps
        .iter()
        .flat_map(|a| a.envs.iter().map(move |e| (a, e)))
        .collect();
    let mut failed: Vec<String> = envs
        .par_iter()
        .filter_map(|(app, env)| {
            let place = format!("{}/{}", app.name, env.name);
            match renderer.build_env(&env.dir, env.build.as_deref()) {
                Ok(build) => {
                    set.admission.observe(&place, &build.resources);
                    None
                }
                Err(_) => Some(place),
            }
        })
        .collect();
    failed.sort();
    failed
}
