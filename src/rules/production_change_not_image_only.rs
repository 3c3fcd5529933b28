//! `production-change-not-image-only`: a change to production may only move images.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::support::diff::show;
use super::support::drift::same_but_names;
use super::support::resources::{counterpart, removal_by};
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Related};
use crate::settings::{Level, RuleSettings, Stage};
use crate::discover::Env;
use crate::render::{Build, Resource};
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// In pull-request mode, a change to production changes more than image references.
///
/// **What.** For every production overlay whose inputs the change touches, the rendered output at
/// the pull request's base revision and at its head must be identical except for container image
/// references (and field paths the policy allows). Every other difference is reported with the
/// field, the rendered value before and after, and the source line that caused it.
///
/// **Configuration promotion is promotion.** A change is allowed when production's new value is
/// what the paired staging environment (see `kustodian envs`) renders at the same path of the
/// same object, at the head of the pull request or at its base revision — or differs from it only
/// by the environments' own names (`db.staging.internal` → `db.production.internal`, read as
/// promotion-drift's `environment-names` identity reads them). So copying a setting that staging
/// runs into production passes, whichever file either side writes it in; so does a removal
/// staging already made, and a new object staging already has (names and namespaces aside). What
/// production changes on its own — a value staging renders differently or not at all — is
/// reported.
///
/// **Why.** Production changes by promotion: moving an image digest, or a setting, that ran in
/// staging. Any other production change — a new env var, a resource bump, a new object — should
/// go through staging first, or be reviewed as what it is.
///
/// **Example.** A PR that moves the image *and* sets `LOG_LEVEL=debug` in
/// `overlays/production/config.env` while staging runs `LOG_LEVEL=info`. On the
/// kostis-codefresh/gitops-environment-promotion layout, copying `UI_THEME: "light"` from
/// `envs/staging-us/settings.yml` into `envs/prod-us/settings.yml` passes; setting it to a value
/// staging-us does not run fails at `envs/prod-us/settings.yml`'s line.
///
/// **Fix.** Ship the configuration change to staging first (and the base), then promote; or allow
/// the path in the policy when it is production-specific by design.
///
/// **Config.** `options.allow`: field paths allowed to change (same syntax as promotion-drift).
/// Only runs with `--base`.
pub struct ProductionChangeNotImageOnly;

pub const INFO: RuleInfo = RuleInfo {
    id: "production-change-not-image-only",
    doc: docs::PRODUCTION_CHANGE_NOT_IMAGE_ONLY,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<AllowOptions>(),
};

/// Options of `production-change-not-image-only`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowOptions {
    /// Field paths allowed to change (promotion-drift syntax).
    #[serde(default)]
    pub allow: Vec<String>,
}

fn strip_images(n: &Node, in_containers: bool) -> Node {
    let mut out = n.clone();
    match &mut out.value {
        Value::Map(m) => {
            for e in &mut m.entries {
                if in_containers && e.key == "image" {
                    e.value = Node::str("<image>");
                } else {
                    e.value = strip_images(&e.value, e.key.ends_with("ontainers"));
                }
            }
        }
        Value::Seq(items) => {
            for i in items.iter_mut() {
                *i = strip_images(i, in_containers);
            }
        }
        _ => {}
    }
    out
}

/// One difference between two renders of a production overlay.
pub struct Change<'a> {
    /// Field path inside the object (empty: the whole object is new or removed).
    pub path: String,
    pub before: String,
    pub after: String,
    /// The line that made the change, when known.
    pub loc: Loc,
    /// `Kind/name`.
    pub what: String,
    /// The object at head (absent when removed) and at the base revision (absent when new).
    pub head: Option<&'a Resource>,
    pub base: Option<&'a Resource>,
}

/// Compares two renders of one overlay.
pub fn changes<'a>(before: &'a Build, after: &'a Build) -> Vec<Change<'a>> {
    let mut out = Vec::new();
    for r in &after.resources {
        let kind = r.kind().to_string();
        let what = format!("{kind}/{}", r.orig_id().name);
        let Some(b) = counterpart(before, r) else {
            out.push(Change {
                path: String::new(),
                before: "(absent)".into(),
                after: format!("new {kind}"),
                loc: r.loc(),
                what,
                head: Some(r),
                base: None,
            });
            continue;
        };
        let (x, y) = (strip_images(&b.node, false), strip_images(&r.node, false));
        let mut diffs = Vec::new();
        super::support::diff::diff_nodes(&x, &y, &mut diffs);
        for (path, old, new) in diffs {
            let loc = new
                .map(crate::yaml::Node::blame)
                .filter(crate::source::Loc::is_some)
                .or_else(|| removal_by(r, &path))
                .unwrap_or(r.loc());
            out.push(Change {
                before: show(old),
                after: show(new),
                path,
                loc,
                what: what.clone(),
                head: Some(r),
                base: Some(b),
            });
        }
    }
    for b in &before.resources {
        if counterpart(after, b).is_none() {
            out.push(Change {
                path: String::new(),
                before: format!("{} {}", b.kind(), b.orig_id().name),
                after: "(removed)".into(),
                loc: Loc::NONE,
                what: format!("{}/{}", b.kind(), b.orig_id().name),
                head: None,
                base: Some(b),
            });
        }
    }
    out
}

/// What the paired staging environment renders, at head and at the base revision: production
/// taking a value from either is promotion.
struct Staging<'a> {
    env: &'a Env,
    production: &'a Env,
    builds: Vec<&'a Build>,
}

/// Whether two field paths overlap: one is the other, or inside it.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |child: &str, parent: &str| {
        parent.is_empty()
            || child.starts_with(parent) && matches!(child.as_bytes().get(parent.len()), Some(b'.' | b'['))
    };
    a == b || inside(a, b) || inside(b, a)
}

impl Staging<'_> {
    /// Whether every difference between staging's counterpart of `prod` and `prod` (images
    /// aside) that `relevant` selects differs only by the environments' names.
    fn agrees(&self, prod: &Resource, relevant: impl Fn(&str) -> bool) -> bool {
        self.builds.iter().any(|b| {
            let Some(st) = counterpart(b, prod) else {
                return false;
            };
            let (x, y) = (strip_images(&st.node, false), strip_images(&prod.node, false));
            let mut diffs = Vec::new();
            super::support::diff::diff_nodes(&x, &y, &mut diffs);
            diffs.iter().all(|(path, a, b)| {
                !relevant(path)
                    || matches!((a, b), (Some(a), Some(b)) if same_but_names(a, b, self.env, self.production))
            })
        })
    }

    /// Whether production's change is one staging made already.
    fn promotes(&self, c: &Change) -> bool {
        match (c.head, c.base) {
            // A new object staging has, names and namespaces aside.
            (Some(r), None) => self.agrees(r, |p| {
                !matches!(p, "metadata.name" | "metadata.namespace")
            }),
            (Some(r), Some(_)) => self.agrees(r, |p| overlaps(p, &c.path)),
            // A removed object staging does not have.
            (None, Some(gone)) => self.builds.iter().any(|b| counterpart(b, gone).is_none()),
            (None, None) => false,
        }
    }
}

impl Rule for ProductionChangeNotImageOnly {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let Some(pr) = &ctx.pr else { return vec![] };
        let allow = super::support::diff::allow_patterns(&s.options::<AllowOptions>().allow);
        let mut out = Vec::new();
        for (env, head) in &ctx.envs {
            if env.stage != Some(Stage::Production)
                || !pr.affected.contains(&env.name.as_str())
                || !s.applies(&ctx.app.name, &env.name, env.stage)
            {
                continue;
            }
            let Some(base) = pr.base_env(&env.name) else {
                continue;
            };
            let staging = ctx.app.counterpart(&env.name).map(|senv| Staging {
                env: senv,
                production: env,
                builds: ctx
                    .envs
                    .iter()
                    .filter(|(e, _)| e.name == senv.name)
                    .map(|(_, b)| *b)
                    .chain(pr.base_env(&senv.name))
                    .collect(),
            });
            for c in changes(base, head) {
                if staging.as_ref().is_some_and(|s| s.promotes(&c)) {
                    continue;
                }
                let Change {
                    path,
                    before,
                    after,
                    loc,
                    what,
                    ..
                } = c;
                let kind = what.split('/').next().unwrap_or("");
                if allow
                    .iter()
                    .any(|(k, re)| k.as_deref().is_none_or(|k| k == kind) && re.is_match(&path))
                {
                    continue;
                }
                let res = head
                    .resources
                    .iter()
                    .find(|r| format!("{}/{}", r.kind(), r.orig_id().name) == what);
                let at = if path.is_empty() {
                    String::new()
                } else {
                    format!(" at {path}")
                };
                let mut f = finding(
                    INFO.id,
                    ctx,
                    Some(env),
                    res,
                    format!(
                        "this change modifies {what} in {}{at} beyond image references: {} → {}",
                        env.name,
                        before.lines().next().unwrap_or(""),
                        after.lines().next().unwrap_or("")
                    ),
                );
                if loc.is_some() {
                    f.loc = loc;
                }
                if !path.is_empty() {
                    f.field = Some(path.clone());
                }
                let (x, y) = (before + "\n", after + "\n");
                f.help = Some(format!(
                    "{}\npromote configuration through staging first, or allow `{path}` in the policy",
                    similar::TextDiff::from_lines(&x, &y)
                        .unified_diff()
                        .header(&format!("{}@base", env.name), &format!("{}@head", env.name))
                ));
                if let Some(r) = res {
                    f.related.push(Related {
                        loc: r.loc(),
                        message: "object".into(),
                    });
                    f.related.retain(|rel| rel.loc != f.loc);
                }
                out.push(f);
            }
        }
        out
    }
}
