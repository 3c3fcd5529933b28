//! Stages: where an environment sits in the promotion order (dev → staging → production), and
//! the conventions that read a stage from an environment's name.
//!
//! Real repositories name environments `prod-eu`, `eu-prod`, `production-us-east-1`, `stg2` or
//! `integration-non-gpu`, so a name is split into tokens on `-`, `_` and `.` (trailing digits
//! dropped: `prod1` is `prod`), and the first token that names a stage decides. `pre` or `non`
//! before a production word (`pre-prod`, `non-prod`) is not production. The repository config can
//! name a stage for any environment; that wins over the conventions.

use serde::{Deserialize, Serialize};

/// Where an environment sits in the promotion order: `dev` (development and test
/// environments), `staging` (pre-production, what production is compared with and promoted
/// from) and `production`.
// Values documented above, not per variant: variant docs would make the generated JSON Schema
// a `oneOf` of constants instead of an `enum`, and change the messages validation reports.
#[allow(missing_docs)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Dev,
    Staging,
    Production,
}

/// Tokens that name a stage (after lowercasing and dropping trailing digits).
const DEV: &[&str] = &[
    "dev",
    "develop",
    "development",
    "integration",
    "int",
    "test",
    "testing",
    "load",
    "loadtest",
    "perf",
    "sandbox",
    "local",
];
const STAGING: &[&str] = &[
    "stage",
    "staging",
    "stg",
    "preprod",
    "preproduction",
    "uat",
    "qa",
    "acceptance",
    "nonprod",
];
const PRODUCTION: &[&str] = &["prod", "production", "prd", "live"];

impl Stage {
    /// The name config files and reports use (`dev`, `staging`, `production`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Stage::Dev => "dev",
            Stage::Staging => "staging",
            Stage::Production => "production",
        }
    }

    /// The conventional stage of an environment name (see the module doc).
    pub(crate) fn by_convention(env: &str) -> Option<Stage> {
        let lower = env.to_ascii_lowercase();
        let tokens: Vec<&str> = lower
            .split(['-', '_', '.'])
            .map(|t| t.trim_end_matches(|c: char| c.is_ascii_digit()))
            .filter(|t| !t.is_empty())
            .collect();
        let mut prev = "";
        for t in &tokens {
            let stage = if PRODUCTION.contains(t) {
                // `pre-prod` is staging, `non-prod` is not production either.
                Some(match prev {
                    "pre" | "non" => Stage::Staging,
                    _ => Stage::Production,
                })
            } else if STAGING.contains(t) {
                Some(Stage::Staging)
            } else if DEV.contains(t) {
                Some(Stage::Dev)
            } else {
                None
            };
            if stage.is_some() {
                return stage;
            }
            prev = t;
        }
        None
    }

    /// Sort rank: dev, staging, production, then environments with no stage.
    pub(crate) fn rank(stage: Option<Stage>) -> u8 {
        match stage {
            Some(Stage::Dev) => 0,
            Some(Stage::Staging) => 1,
            Some(Stage::Production) => 2,
            None => 3,
        }
    }
}

/// The name without its stage word: `prod-eu` → `eu`, `staging-eu` → `eu`, `eu-prod` → `eu`,
/// `production` → `` (what pairs a production environment with its staging counterpart).
pub(crate) fn qualifiers(env: &str) -> String {
    let lower = env.to_ascii_lowercase();
    let mut kept: Vec<&str> = Vec::new();
    for t in lower.split(['-', '_', '.']) {
        let base = t.trim_end_matches(|c: char| c.is_ascii_digit());
        if PRODUCTION.contains(&base) || STAGING.contains(&base) || DEV.contains(&base) {
            if matches!(kept.last(), Some(&"pre" | &"non")) {
                kept.pop();
            }
            continue;
        }
        if !t.is_empty() {
            kept.push(t);
        }
    }
    kept.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_stages_by_token() {
        let cases = [
            ("prod", Some(Stage::Production)),
            ("prod-eu", Some(Stage::Production)),
            ("eu-prod", Some(Stage::Production)),
            ("production-us-east-1", Some(Stage::Production)),
            ("prd", Some(Stage::Production)),
            ("live", Some(Stage::Production)),
            ("prod1", Some(Stage::Production)),
            ("staging-us", Some(Stage::Staging)),
            ("stg", Some(Stage::Staging)),
            ("preprod", Some(Stage::Staging)),
            ("pre-prod", Some(Stage::Staging)),
            ("non-prod", Some(Stage::Staging)),
            ("uat", Some(Stage::Staging)),
            ("qa", Some(Stage::Staging)),
            ("dev", Some(Stage::Dev)),
            ("development", Some(Stage::Dev)),
            ("integration-non-gpu", Some(Stage::Dev)),
            ("load-gpu", Some(Stage::Dev)),
            ("test", Some(Stage::Dev)),
            ("Prod_EU", Some(Stage::Production)),
            ("eu-west", None),
            ("canary", None),
            ("productivity", None),
        ];
        for (name, want) in cases {
            assert_eq!(Stage::by_convention(name), want, "{name}");
        }
    }

    #[test]
    fn qualifiers_pair_environments_across_stages() {
        assert_eq!(qualifiers("prod-eu"), "eu");
        assert_eq!(qualifiers("staging-eu"), "eu");
        assert_eq!(qualifiers("eu-prod"), "eu");
        assert_eq!(qualifiers("production-us-east-1"), "us-east-1");
        assert_eq!(qualifiers("staging-us-east-1"), "us-east-1");
        assert_eq!(qualifiers("production"), "");
        assert_eq!(qualifiers("pre-prod-asia"), "asia");
    }
}
