//! `stage-config-differs`: what a stage's shared configuration sets apart from the stage before.

use std::collections::{BTreeMap, BTreeSet};

use super::promotion_drift::{self, DriftOptions, for_each_pair};
use super::support::drift::Origin;
use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, add_environment, docs};
use crate::diag::{Finding, Severity};
use crate::settings::{Level, RuleSettings};
use crate::source::Loc;

/// A file every production (or staging) environment shares sets them apart from the stage before: intended stage configuration, listed once per file.
///
/// **What.** The differences `promotion-drift` does not report because a file shared by every
/// environment of a stage introduces them (kostis-codefresh's `variants/prod`, used by every
/// `prod-*` environment; a `components/production` component). One note per such file, at its
/// first differing line, naming the fields and the environments.
///
/// **Why.** Off by default: these differences are the stage's configuration, written on
/// purpose in one place. Turn the rule on to review them — for instance in the step summary of
/// a pull request that changes such a file.
///
/// **Example.** `variants/prod/prod.yml` sets `PAYPAL_URL` and `DB_USER` for every production
/// environment.
///
/// **Fix.** Nothing to fix; move a value into the base when it should not differ.
///
/// **Config.** `severity` (off by default); the comparison follows `promotion-drift`'s options.
pub(crate) struct StageConfigDiffers;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "stage-config-differs",
    doc: docs::STAGE_CONFIG_DIFFERS,
    default_level: Level::Off,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for StageConfigDiffers {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let o: &DriftOptions = ctx.policy.options(promotion_drift::INFO.id);
        // Per stage file: its first differing line, the fields it sets apart, the environments.
        let mut files: BTreeMap<String, (Loc, BTreeSet<String>, Vec<String>)> = BTreeMap::new();
        for_each_pair(ctx, o, &mut |d, penv| {
            let Origin::Stage { file } = d.origin else { return };
            if !s.applies(&ctx.app.name, &penv.name, penv.stage) {
                return;
            }
            let e = files.entry(file).or_insert((d.loc, BTreeSet::new(), vec![]));
            if d.loc.start < e.0.start && d.loc.file == e.0.file {
                e.0 = d.loc;
            }
            e.1.insert(d.path.unwrap_or_else(|| d.resource.kind().to_string()));
            if !e.2.contains(&penv.name) {
                e.2.push(penv.name.clone());
            }
        });
        files
            .into_iter()
            .map(|(file, (loc, fields, envs))| {
                let list: Vec<&str> = fields.iter().map(String::as_str).take(5).collect();
                let more = fields.len().saturating_sub(5);
                let mut f = Finding::new(
                    INFO.id,
                    Severity::Note,
                    format!(
                        "{file} sets {} field(s) of {} apart from staging: {}{}",
                        fields.len(),
                        envs.join(", "),
                        list.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ),
                );
                f.app = Some(ctx.app.name.clone());
                for e in &envs {
                    add_environment(&mut f, e);
                }
                f.loc = loc;
                f
            })
            .collect()
    }
}
