//! `change-freeze`: no changes to protected environments during a freeze window.

use globset::{Glob, GlobSetBuilder};

use super::{AppCtx, NoOptions, OptionsType, RepoCtx, Rule, RuleInfo, docs};
use crate::diag::{Finding, Severity};
use crate::settings::{Level, RuleSettings};

/// In pull-request mode, the change touches a frozen environment or path during a freeze window.
///
/// **What.** `.kustodian.yaml` declares freeze windows — absolute (`from`/`to`, RFC 3339) or
/// weekly (`weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}`) — each with the
/// stages, environments and/or path globs it protects. When the check runs inside a window
/// (`--now RFC3339` replays another time), a change whose affected overlays include a protected
/// environment, or that changes a protected path, fails, naming the window and what it touches.
///
/// **Why.** Freezes (weekends, peak sales, audits) are only real when the merge button enforces
/// them.
///
/// **Example.**
/// ```yaml
/// freeze:
/// - name: weekend
///   weekly: {from: "Fri 16:00", to: "Mon 08:00", timezone: Europe/Berlin}
///   stages: [production]
/// ```
///
/// **Fix.** Wait for the window to close, or get the freeze lifted (change the policy for an
/// emergency, which is itself a reviewed change).
///
/// **Config.** `freeze:` in `.kustodian.yaml`. Only runs with `--base`.
pub(crate) struct ChangeFreeze;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "change-freeze",
    doc: docs::CHANGE_FREEZE,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for ChangeFreeze {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, _settings: &RuleSettings) -> Vec<Finding> {
        let (Some(changed), Some(affected), Some(now)) = (ctx.changed, ctx.affected, ctx.now)
        else {
            return vec![];
        };
        let mut out = Vec::new();
        for w in &ctx.config.file.freeze {
            if !w.active(now) {
                continue;
            }
            let everything = w.stages.is_empty() && w.environments.is_empty() && w.paths.is_empty();
            let mut hits: Vec<String> = Vec::new();
            for app in ctx.apps {
                for env in &app.envs {
                    let protected = everything
                        || env.stage.is_some_and(|s| w.stages.contains(&s))
                        || w.environments.contains(&env.name);
                    if protected && affected.contains(&env.dir) {
                        hits.push(env.dir.clone());
                    }
                }
            }
            if !w.paths.is_empty() {
                let mut b = GlobSetBuilder::new();
                for g in &w.paths {
                    if let Ok(g) = globset::GlobBuilder::new(g).literal_separator(true).build() {
                        b.add(g);
                    }
                    if let Some(stem) = g.strip_suffix("/**")
                        && let Ok(g) = Glob::new(stem)
                    {
                        b.add(g);
                    }
                }
                if let Ok(set) = b.build() {
                    hits.extend(changed.iter().filter(|p| set.is_match(p.as_str())).cloned());
                }
            }
            hits.sort();
            hits.dedup();
            if hits.is_empty() {
                continue;
            }
            let mut f = Finding::new(
                INFO.id,
                Severity::Error,
                format!(
                    "change freeze '{}' is in effect ({}) and this change touches: {}",
                    w.name,
                    match (&w.from, &w.to, &w.weekly) {
                        (Some(a), Some(b), _) => format!("{a} to {b}"),
                        (_, _, Some(wk)) => format!(
                            "every week {} to {} {}",
                            wk.from,
                            wk.to,
                            wk.timezone.as_deref().unwrap_or("UTC")
                        ),
                        _ => String::new(),
                    },
                    hits.join(", ")
                ),
            );
            f.path = Some(".kustodian.yaml".into());
            if let Some(id) = ctx.sources.lookup(".kustodian.yaml") {
                f.loc = crate::source::Loc::new(id, 0, 0);
            }
            f.help = Some("wait until the window closes, or lift the freeze in .kustodian.yaml through review".into());
            out.push(f);
        }
        out
    }
}
