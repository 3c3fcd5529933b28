//! `production-change-not-image-only`: a change to production may only move images.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::support::diff::show;
use super::support::resources::{counterpart, removal_by};
use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Related};
use crate::settings::{Level, RuleSettings, Stage};
use crate::render::Build;
use crate::source::Loc;
use crate::yaml::{Node, Value};

/// In pull-request mode, a change to production changes more than image references.
///
/// **What.** For every production overlay whose inputs the change touches, the rendered output at
/// the pull request's base revision and at its head must be identical except for container image
/// references (and field paths the policy allows). Every other difference is reported with the
/// field, the rendered value before and after, and the source line that caused it.
///
/// **Why.** Production changes by promotion: moving an image digest that ran in staging. Any other
/// production change — a new env var, a resource bump, a new object — should go through staging
/// first, or be reviewed as what it is.
///
/// **Example.** A PR that moves the image *and* sets `LOG_LEVEL=debug` in
/// `overlays/production/config.env`.
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

/// Compares two renders of one overlay; `(path, before, after, blame)` per difference.
pub fn changes<'a>(
    before: &'a Build,
    after: &'a Build,
) -> Vec<(String, String, String, Loc, String)> {
    let mut out = Vec::new();
    for r in &after.resources {
        let kind = r.kind().to_string();
        let name = r.orig_id().name;
        let Some(b) = counterpart(before, r) else {
            out.push((
                String::new(),
                "(absent)".into(),
                format!("new {kind}"),
                r.loc(),
                format!("{kind}/{name}"),
            ));
            continue;
        };
        let (x, y) = (strip_images(&b.node, false), strip_images(&r.node, false));
        let mut diffs = Vec::new();
        super::support::diff::diff_nodes(&x, &y, &mut diffs);
        for (path, old, new) in diffs {
            let loc = new
                .map(|n| n.blame())
                .filter(|l| l.is_some())
                .or_else(|| removal_by(r, &path))
                .unwrap_or(r.loc());
            out.push((path, show(old), show(new), loc, format!("{kind}/{name}")));
        }
    }
    for b in &before.resources {
        if counterpart(after, b).is_none() {
            out.push((
                String::new(),
                format!("{} {}", b.kind(), b.orig_id().name),
                "(removed)".into(),
                Loc::NONE,
                format!("{}/{}", b.kind(), b.orig_id().name),
            ));
        }
    }
    out
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
            for (path, before, after, loc, what) in changes(base, head) {
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
