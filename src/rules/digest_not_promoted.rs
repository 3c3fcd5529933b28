//! `digest-not-promoted`: production may only run digests that ran in staging.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings, Stage};
use crate::render::Build;

/// In pull-request mode, a production image digest was never staging's.
///
/// **What.** Every image digest that the change introduces in a production overlay must have been
/// the digest of the same image in staging at the pull request's base revision — or earlier in
/// staging's history, within `options.depth` commits (default 50). Promoting staging and
/// production in the same change therefore fails: staging has not run the digest yet.
///
/// **Why.** The point of staging is that production runs only what staging ran. A digest that
/// skipped staging is untested by definition.
///
/// **Example.** One PR sets `digest: sha256:abc…` in both `overlays/staging` and
/// `overlays/production`.
///
/// **Fix.** Merge the staging promotion first; promote to production in a later change, with the
/// digest staging ran.
///
/// **Config.** `options.depth`: how many commits of staging's history count (default 50). Only
/// runs with `--base`.
pub(crate) struct DigestNotPromoted;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "digest-not-promoted",
    doc: docs::DIGEST_NOT_PROMOTED,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<DigestOptions>(),
};

/// Options of `digest-not-promoted`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct DigestOptions {
    /// How many commits of staging's history count as "ran in staging" (default 50).
    pub(crate) depth: Option<usize>,
}

/// `(image name, digest)` of every container image with a digest.
fn digests(b: &Build) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in &b.resources {
        for c in pods::containers(r) {
            if let Some(img) = c.node.str_at(&["image"])
                && let Some((name, digest)) = img.split_once('@')
            {
                let name = pods::image_name(name);
                out.insert((name.to_string(), digest.to_string()));
            }
        }
    }
    out
}

impl Rule for DigestNotPromoted {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let Some(pr) = &ctx.pr else { return vec![] };
        let depth = s.options::<DigestOptions>().depth.unwrap_or(50);
        let mut out = Vec::new();
        for (env, head) in &ctx.envs {
            if env.stage != Some(Stage::Production)
                || !pr.affected.contains(&env.name.as_str())
                || !s.applies(&ctx.app.name, &env.name, env.stage)
            {
                continue;
            }
            // The staging environment this production environment is promoted from.
            let staging = ctx.app.counterpart(&env.name);
            let staging_digests = staging
                .and_then(|e| pr.base_env(&e.name))
                .map(digests)
                .unwrap_or_default();
            let before = pr.base_env(&env.name).map(digests).unwrap_or_default();
            for r in &head.resources {
                for c in pods::containers(r) {
                    let Some(node) = c.node.get("image") else {
                        continue;
                    };
                    let Some(img) = node.as_str() else { continue };
                    let Some((name, digest)) = img.split_once('@') else {
                        continue;
                    };
                    let name = pods::image_name(name);
                    let key = (name.to_string(), digest.to_string());
                    if before.contains(&key) || staging_digests.contains(&key) {
                        continue;
                    }
                    // Earlier in staging's history: the digest text in one of the files staging reads.
                    let in_history = match (staging, pr.base_renderer) {
                        (Some(st), Some(br)) => {
                            let files: Vec<String> = br.dependencies(&st.dir).into_iter().collect();
                            pr.base_fs.history_contains(&files, digest, depth)
                        }
                        _ => false,
                    };
                    if in_history {
                        continue;
                    }
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!(
                            "production image {name}@{digest} (container '{}') was not staging's digest at {} nor in the last {depth} commits of staging",
                            c.name, pr.rev
                        ),
                    );
                    f.field = Some(format!("{}.image", c.path));
                    f.loc = node.blame();
                    f.help = Some(match staging {
                        Some(st) => format!(
                            "promote to {} first, merge, then promote the digest staging ran to production",
                            st.dir
                        ),
                        None => "this app has no staging environment to promote from".into(),
                    });
                    out.push(f);
                }
            }
        }
        out
    }
}
