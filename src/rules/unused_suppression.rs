//! `unused-suppression`: inline suppressions and configured exceptions that waive nothing. The
//! matching itself is the engine's (`crate::check::suppress`), which sees every other rule's findings;
//! this file is the rule's identity and documentation.

use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, docs};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// A `# kustodian:ignore[...]` comment or a configured exception that waives nothing (full checks), or an exception past its `expires` date.
///
/// **What.** Findings can be waived next to the line they point at, with a YAML comment on that
/// line or on the comment lines right above it —
/// `# kustodian:ignore[image-not-pinned] vendor image, pinned by the vendor's tag policy` — or
/// repository-wide in `.kustodian.yaml` under `exceptions:` (rule, reason, and optionally
/// `apps`, `environments`, `resources` globs and an `expires` date). A full check (no `--app`,
/// `--env`, `--shard` or `--base`) reports each such comment or exception that waived nothing in
/// this run; suppressions of pull-request-only rules and of rules the policy turns off are not
/// judged. An exception whose `expires` date has passed is reported in every run (and waives
/// nothing any more).
///
/// **Why.** A waiver outliving its reason hides the next real finding at that place; an unknown
/// rule id in a comment (a typo) never waived anything.
///
/// **Example.** `# kustodian:ignore[resource-limits-missing] batch job` stays in a file after
/// the job got its limits.
///
/// **Fix.** Delete the comment or the exception (or correct its rule id); renew an expired
/// exception deliberately by moving its date.
///
/// **Config.** `severity` (default warning).
pub(crate) struct UnusedSuppression;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "unused-suppression",
    doc: docs::UNUSED_SUPPRESSION,
    default_level: Level::Warning,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for UnusedSuppression {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    /// Nothing per app: see `crate::check::suppress::unused`.
    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }
}
