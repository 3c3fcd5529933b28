//! `bot-write-scope`: automation may only write to dev environments.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::{AppCtx, OptionsType, RepoCtx, Rule, RuleInfo, docs};
use crate::diag::{Finding, Severity};
use crate::settings::{Level, RuleSettings, Stage};

/// In pull-request mode, a bot changed files outside dev environments.
///
/// **What.** When the change's actor (`--actor`, default `$GITHUB_ACTOR`) matches a bot pattern
/// (`options.bots`, default `*[bot]` and `ci-bot`), every changed file must belong to a
/// dev-stage overlay of some app (inside its overlay directory). Anything else — a base, a staging
/// or production overlay, a shared component — is reported, file by file.
///
/// **Why.** Image-update bots (Renovate, Flux image automation, CI) are allowed to move dev
/// forward on their own; promotion to staging and production must stay a human decision.
///
/// **Example.** `renovate[bot]` bumps the image in `apps/api/overlays/production`.
///
/// **Fix.** Restrict the bot's configuration to dev overlays; promote by hand.
///
/// **Config.** `options.bots`: actor globs. Only runs with `--base`.
pub(crate) struct BotWriteScope;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "bot-write-scope",
    doc: docs::BOT_WRITE_SCOPE,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<BotOptions>(),
};

/// Options of `bot-write-scope`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct BotOptions {
    /// Actor globs that are bots (default `*[bot]`, `ci-bot`).
    pub(crate) bots: Option<Vec<String>>,
}

impl Rule for BotWriteScope {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, s: &RuleSettings) -> Vec<Finding> {
        let (Some(changed), Some(actor)) = (ctx.changed, ctx.actor) else {
            return vec![];
        };
        let bots = s
            .options::<BotOptions>()
            .bots
            .clone()
            .unwrap_or_else(|| vec!["*[bot]".into(), "ci-bot".into()]);
        // Only `*` is a wildcard: `[` and `]` are literal in actor names (`renovate[bot]`).
        let is_bot = bots.iter().any(|g| {
            let re = format!(
                "^{}$",
                g.split('*')
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(".*")
            );
            regex::Regex::new(&re).is_ok_and(|r| r.is_match(actor))
        });
        if !is_bot {
            return vec![];
        }
        let dev_dirs: Vec<&str> = ctx
            .apps
            .iter()
            .flat_map(|a| a.envs.iter())
            .filter(|e| e.stage == Some(Stage::Dev))
            .map(|e| e.dir.as_str())
            .collect();
        changed
            .iter()
            .filter(|p| !dev_dirs.iter().any(|d| p.starts_with(&format!("{d}/"))))
            .map(|p| {
                let mut f = Finding::new(
                    INFO.id,
                    Severity::Error,
                    format!(
                        "'{actor}' is a bot and may only change dev environments, but changed {p}"
                    ),
                );
                f.path = Some(p.clone());
                f.help = Some(
                    "limit the bot to dev overlays; promotion beyond dev is a human decision"
                        .into(),
                );
                f
            })
            .collect()
    }
}
