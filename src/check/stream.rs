//! The per-app pass: render an app's environments (and its base, and in pull-request mode the
//! affected environments at the base revision), run the app rules on them, and keep only what the
//! report needs, so memory holds one app per thread rather than the whole repository.

use std::collections::{BTreeMap, BTreeSet};

use super::{EnvChange, PrState, baseline, render_finding};
use crate::diag::{Collector, Finding};
use crate::discover::{App, Env};
use crate::render::{Build, RenderError, Renderer};
use crate::rules::{self, AppCtx, PrCtx};
use crate::settings::{Config, Policy};
use crate::source::Sources;

/// Renders one environment as its GitOps controller does.
pub(super) fn build_env(renderer: &Renderer, env: &Env) -> Result<Build, RenderError> {
    renderer.build_env(&env.dir, env.build.as_deref())
}

/// What one app's pass leaves behind.
#[derive(Default)]
pub(super) struct Streamed {
    /// Rendered resources (base and overlays), for the summary.
    pub(super) resources: usize,
    /// CustomResourceDefinitions it renders.
    pub(super) crds: Vec<crate::yaml::Node>,
    /// Pull-request mode: rendered changes of its affected overlays, with the app index.
    pub(super) changes: Vec<(usize, EnvChange)>,
    /// Its renders, when its rules wait for the repository's CRDs (or for a validator another
    /// thread was compiling).
    pub(super) waiting: Option<AppRenders>,
}

/// One app's renders: its base, its overlays and (pull-request mode) overlays at the base revision.
pub(super) struct AppRenders {
    pub(super) ai: usize,
    pub(super) base: Option<Build>,
    pub(super) envs: Vec<(usize, Build)>,
    pub(super) base_envs: Vec<(usize, Build)>,
}

/// Everything the per-app pass shares.
pub(super) struct Stream<'a> {
    pub(super) apps: &'a [App],
    pub(super) renderer: &'a Renderer,
    pub(super) base_renderer: Option<&'a Renderer>,
    pub(super) affected_envs: &'a BTreeSet<(usize, usize)>,
    pub(super) pr: Option<&'a PrState>,
    pub(super) sources: &'a Sources,
    pub(super) config: &'a Config,
    pub(super) policy: &'a Policy,
    pub(super) rules: &'a [&'a dyn rules::Rule],
    /// Custom rules, admission policies and Conftest policies.
    pub(super) policies: &'a crate::policies::PolicySet,
    pub(super) out: &'a Collector,
}

impl Stream<'_> {
    pub(super) fn render_and_check(
        &self,
        ai: usize,
        schemas: Option<&crate::schema::SchemaSet>,
    ) -> Streamed {
        let app = &self.apps[ai];
        let mut st = Streamed::default();
        let mut envs = Vec::new();
        // A broken base fails every overlay of the app the same way: one finding naming all of
        // them, not the same snippet once per environment.
        let mut failed: Vec<Finding> = Vec::new();
        for (ei, e) in app.envs.iter().enumerate() {
            match build_env(self.renderer, e) {
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
            // The staging environment each affected production environment is promoted from.
            let paired: Vec<usize> = app
                .pairs
                .iter()
                .filter(|(_, p)| jobs.contains(p))
                .map(|(s, _)| *s)
                .collect();
            jobs.extend(paired);
            base_envs = jobs
                .into_iter()
                .filter_map(|ei| build_env(br, &app.envs[ei]).ok().map(|b| (ei, b)))
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
    pub(super) fn check(
        &self,
        r: &AppRenders,
        schemas: Option<&crate::schema::SchemaSet>,
    ) -> Vec<EnvChange> {
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
        let mut found = self.run_rules(&ctx, None);
        // Pull-request mode: what the base revision had already.
        if let Some(p) = self.pr {
            let base = match self.base_renderer {
                Some(br) if found.iter().any(baseline::comparable) => {
                    self.base_findings(r, br, schemas, &found)
                }
                _ => vec![],
            };
            let at_base = baseline::AtBase {
                findings: &base,
                sources: self.sources,
            };
            baseline::mark(&mut found, self.sources, at_base, &format!("{}:", p.rev));
        }
        for f in found {
            self.out.push(f);
        }
        // Their severity is their own (a custom rule's, a binding's action, a Rego rule's kind).
        for f in self.policies.check_app(&ctx) {
            self.out.push(f);
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

impl Stream<'_> {
    /// Runs the enabled app rules, or only those named in `only`.
    fn run_rules(&self, ctx: &AppCtx, only: Option<&BTreeSet<&str>>) -> Vec<Finding> {
        let mut found = Vec::new();
        for rule in self.rules {
            if only.is_some_and(|o| !o.contains(rule.info().id)) {
                continue;
            }
            let Some(severity) = self
                .policy
                .level(rule.info().id)
                .and_then(crate::settings::level::Level::severity)
            else {
                continue;
            };
            for mut f in rule.check(ctx, self.policy.rule(rule.info().id)) {
                f.severity = severity;
                found.push(f);
            }
        }
        found
    }

    /// The app's findings at the base revision, of the rules that found something at head
    /// (nothing else needs comparing; rules that judge the change have no base findings):
    /// every environment rendered there (the ones the pass already rendered are reused).
    fn base_findings(
        &self,
        r: &AppRenders,
        br: &Renderer,
        schemas: Option<&crate::schema::SchemaSet>,
        head: &[Finding],
    ) -> Vec<Finding> {
        let rules: BTreeSet<&str> = head
            .iter()
            .filter(|f| baseline::comparable(f))
            .map(|f| f.rule.as_str())
            .collect();
        let app = &self.apps[r.ai];
        let more: Vec<(usize, Build)> = (0..app.envs.len())
            .filter(|ei| !r.base_envs.iter().any(|(e, _)| e == ei))
            .filter_map(|ei| build_env(br, &app.envs[ei]).ok().map(|b| (ei, b)))
            .collect();
        let base = app.base.as_ref().and_then(|b| br.build(b).ok());
        br.forget_below(&app.dir);
        let envs = app
            .envs
            .iter()
            .enumerate()
            .filter_map(|(ei, e)| {
                let b = r.base_envs.iter().chain(&more).find(|(i, _)| *i == ei)?;
                Some((e, &b.1))
            })
            .collect();
        let ctx = AppCtx {
            app,
            base: base.as_ref(),
            envs,
            sources: self.sources,
            config: self.config,
            policy: self.policy,
            pr: None,
            schemas,
        };
        self.run_rules(&ctx, Some(&rules))
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
