//! `secret-keys-differ`: one secret, different keys in different environments.

use std::collections::BTreeMap;

use super::support::secrets::provided;
use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::Finding;
use crate::settings::{Level, RuleSettings};

/// The same secret provides different keys in different environments of an app.
///
/// **What.** For each secret of an app (anything `secret-key-missing` counts as providing a
/// Secret with known keys — a `Secret`, `ExternalSecret`, `SealedSecret`, `Certificate`, ... —
/// matched across environments by its provider's name in the source), the set of keys must be the
/// same in every environment that renders it. Reported once per secret and environment that lacks keys another
/// environment has. A warning by default.
///
/// **Why.** Key sets drifting apart is how a workload that works in staging crashes in production
/// — usually long before `secret-key-missing` can see it, because the key is read by code, not by
/// the manifest.
///
/// **Example.** `secretGenerator: [{name: api, literals: [TOKEN=a, DEBUG_TOKEN=b]}]` in dev and
/// `[{name: api, literals: [TOKEN=c]}]` in production.
///
/// **Fix.** Provide the same keys everywhere (with environment-specific values).
///
/// **Config.** `severity`, `stages`, `environments`, `apps`.
pub struct SecretKeysDiffer;

pub const INFO: RuleInfo = RuleInfo {
    id: "secret-keys-differ",
    doc: docs::SECRET_KEYS_DIFFER,
    default_level: Level::Warning,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

impl Rule for SecretKeysDiffer {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut by_secret: BTreeMap<(String, String), Vec<_>> = BTreeMap::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for (secret, p) in provided(build) {
                if let Some(keys) = p.keys {
                    // A Secret by its name in the source (a generated one's hash differs per
                    // environment); another provider by its own name, the Secret's beside it.
                    let name = match p.by.kind() {
                        "Secret" => format!("secret '{}'", p.by.orig_id().name),
                        kind => format!("secret '{secret}' of {kind} '{}'", p.by.orig_id().name),
                    };
                    by_secret
                        .entry((p.by.kind().to_string(), p.by.orig_id().name.to_string()))
                        .or_default()
                        .push((*env, keys, p.by, name));
                }
            }
        }
        let mut out = Vec::new();
        for envs in by_secret.into_values() {
            for (env, keys, r, name) in &envs {
                let missing: Vec<(String, &str)> = envs
                    .iter()
                    .filter(|(e, ..)| e.name != env.name)
                    .flat_map(|(e, other, ..)| {
                        other
                            .difference(keys)
                            .map(move |k| (k.clone(), e.name.as_str()))
                    })
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let mut keys_missing: Vec<String> =
                    missing.iter().map(|(k, _)| k.clone()).collect();
                keys_missing.sort();
                keys_missing.dedup();
                let mut where_: Vec<&str> = missing.iter().map(|(_, e)| *e).collect();
                where_.sort_unstable();
                where_.dedup();
                let mut f = finding(
                    INFO.id,
                    ctx,
                    Some(env),
                    Some(r),
                    format!(
                        "{name} in {} lacks key{} {} that {} provide{}",
                        env.name,
                        if keys_missing.len() > 1 { "s" } else { "" },
                        keys_missing
                            .iter()
                            .map(|k| format!("'{k}'"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        where_.join(", "),
                        if where_.len() > 1 { "" } else { "s" }
                    ),
                );
                f.loc = r
                    .node
                    .get_path(&["metadata", "name"])
                    .map_or(r.loc(), crate::yaml::Node::blame);
                out.push(f);
            }
        }
        out
    }
}
