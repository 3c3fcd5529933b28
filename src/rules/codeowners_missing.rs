//! `codeowners-missing`: staging and production overlays must have owners.

use std::collections::BTreeMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use super::{AppCtx, OptionsType, RepoCtx, Rule, RuleInfo, docs};
use crate::diag::{Finding, Severity};
use crate::settings::{Level, RuleSettings, Stage};
use crate::source::Loc;

/// A staging or production overlay is not covered by CODEOWNERS (or lacks the required owners).
///
/// **What.** Every staging and production overlay directory must be matched by a rule of the
/// repository's CODEOWNERS file (`.github/CODEOWNERS`, `CODEOWNERS` or `docs/CODEOWNERS`, GitHub's
/// order and last-match-wins semantics), and the matching rule must name every owner the policy
/// requires for that stage (`options.owners`, e.g. `production: ["@myorg/oncall-approvers"]`).
/// Runs only when the repository has a CODEOWNERS file or the policy requires owners.
///
/// **Why.** Branch protection's "require review from code owners" only protects paths that have
/// owners. A new production overlay without a CODEOWNERS rule can be merged by anyone.
///
/// **Example.** `apps/billing/overlays/production/` is matched by no rule, or only by
/// `* @myorg/developers`.
///
/// **Fix.** Add a rule such as `/apps/*/overlays/production/ @myorg/oncall-approvers`.
///
/// **Config.** `options.owners`: required owners by stage (`staging`, `production`).
pub struct CodeownersMissing;

pub const INFO: RuleInfo = RuleInfo {
    id: "codeowners-missing",
    doc: docs::CODEOWNERS_MISSING,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: false,
    options: OptionsType::of::<OwnersOptions>(),
};

/// Options of `codeowners-missing`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OwnersOptions {
    /// Required owners by stage (`staging`, `production`), e.g. `production: ["@org/oncall"]`.
    #[serde(default)]
    pub owners: BTreeMap<String, Vec<String>>,
}

/// One CODEOWNERS rule.
struct OwnerRule {
    pattern: String,
    owners: Vec<String>,
    /// An entry GitHub does not take for an owner: it skips the whole line.
    invalid_owner: Option<String>,
    loc: Loc,
}

/// Does a CODEOWNERS (gitignore-style) pattern match a repo-relative path?
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let dir_only = pattern.ends_with('/');
    let pat = pattern.trim_start_matches('/').trim_end_matches('/');
    let glob = if pat.is_empty() {
        "**".to_string()
    } else {
        pat.to_string()
    };
    let build = |g: &str| {
        globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .ok()
            .map(|g| g.compile_matcher())
    };
    let candidates: Vec<String> = if anchored {
        vec![glob.clone(), format!("{glob}/**")]
    } else {
        vec![
            format!("**/{glob}"),
            format!("**/{glob}/**"),
            glob.clone(),
            format!("{glob}/**"),
        ]
    };
    candidates
        .iter()
        .filter(|g| !dir_only || g.ends_with("/**"))
        .filter_map(|g| build(g))
        .any(|m| m.is_match(path))
}

impl Rule for CodeownersMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, _ctx: &AppCtx, _settings: &RuleSettings) -> Vec<Finding> {
        vec![]
    }

    fn check_repo(&self, ctx: &RepoCtx, s: &RuleSettings) -> Vec<Finding> {
        let required = &s.options::<OwnersOptions>().owners;
        // Whatever is there under one of the names: a symlink out of the repository or a FIFO
        // is an error to report, not a missing file.
        let file = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]
            .into_iter()
            .find(|p| ctx.fs.exists(p));
        if file.is_none() && required.is_empty() {
            return vec![];
        }
        let mut rules = Vec::new();
        if let Some(path) = file {
            match ctx.fs.read(path) {
                Ok(text) => rules = parse(&text, ctx.sources.add(path, text.clone())),
                Err(e) => {
                    let mut f = Finding::new(
                        "config-error",
                        Severity::Error,
                        format!("cannot read CODEOWNERS: {e}"),
                    );
                    f.path = Some(path.to_string());
                    f.fatal = true;
                    return vec![f];
                }
            }
        }
        // A line GitHub skips (an owner that is not `@user`, `@org/team` or an email) matches
        // nothing; the one an overlay would have matched is named in its finding.
        let (rules, skipped): (Vec<OwnerRule>, Vec<OwnerRule>) =
            rules.into_iter().partition(|r| r.invalid_owner.is_none());
        let mut out = Vec::new();
        for app in ctx.apps {
            for env in &app.envs {
                let stage = match env.stage {
                    Some(Stage::Staging) => "staging",
                    Some(Stage::Production) => "production",
                    _ => continue,
                };
                if !s.applies(&app.name, &env.name, env.stage) {
                    continue;
                }
                let probe = format!("{}/kustomization.yaml", env.dir);
                let rule = rules
                    .iter()
                    .rev()
                    .find(|r| pattern_matches(&r.pattern, &probe));
                let skipped_line = skipped
                    .iter()
                    .rev()
                    .find(|r| r.loc.start >= rule.map_or(0, |r| r.loc.start))
                    .filter(|r| pattern_matches(&r.pattern, &probe));
                let need: &[String] = required.get(stage).map_or(&[], Vec::as_slice);
                let problem = match rule {
                    None => Some(format!(
                        "{stage} overlay {} has no CODEOWNERS rule{}",
                        env.dir,
                        if file.is_none() {
                            " (the repository has no CODEOWNERS file)"
                        } else {
                            ""
                        }
                    )),
                    Some(r) if r.owners.is_empty() => Some(format!(
                        "{stage} overlay {} is matched by CODEOWNERS rule '{}', which names no owners",
                        env.dir, r.pattern
                    )),
                    Some(r) => {
                        let missing: Vec<&String> =
                            need.iter().filter(|o| !r.owners.contains(o)).collect();
                        (!missing.is_empty()).then(|| {
                            format!(
                                "{stage} overlay {} is owned by {} (CODEOWNERS rule '{}'), but the policy requires {}",
                                env.dir,
                                r.owners.join(" "),
                                r.pattern,
                                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                            )
                        })
                    }
                };
                if let Some(mut msg) = problem {
                    if let Some(r) = skipped_line {
                        msg += &format!(
                            "; GitHub skips the rule '{}' that would match it: '{}' is not an \
                             owner (owners are @user, @org/team or an email address)",
                            r.pattern,
                            r.invalid_owner.as_deref().unwrap_or_default()
                        );
                    }
                    let mut f = Finding::new(INFO.id, Severity::Error, msg);
                    f.app = Some(app.name.clone());
                    f.environment = Some(env.name.clone());
                    f.loc = skipped_line.or(rule).map_or(Loc::NONE, |r| r.loc);
                    f.path = Some(file.unwrap_or(".github/CODEOWNERS").to_string());
                    f.help = Some(format!(
                        "add a rule such as `/{}/ {}` to {}",
                        env.dir,
                        if need.is_empty() {
                            "@your-org/approvers".to_string()
                        } else {
                            need.join(" ")
                        },
                        file.unwrap_or(".github/CODEOWNERS")
                    ));
                    out.push(f);
                }
            }
        }
        out
    }
}

/// The rules of a CODEOWNERS file, in order (a leading byte-order mark is not part of the first
/// pattern).
fn parse(text: &str, file_id: crate::source::FileId) -> Vec<OwnerRule> {
    let mut rules = Vec::new();
    let mut offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for line in text[offset..].split('\n') {
        let start = offset;
        offset += line.len() + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut parts = t.split_whitespace();
        let Some(pattern) = parts.next() else {
            continue;
        };
        let owners: Vec<String> = parts
            .take_while(|p| !p.starts_with('#'))
            .map(str::to_string)
            .collect();
        rules.push(OwnerRule {
            pattern: pattern.to_string(),
            invalid_owner: owners.iter().find(|o| !is_owner(o)).cloned(),
            owners,
            loc: Loc::new(file_id, start, start + line.len()),
        });
    }
    rules
}

/// `@user`, `@org/team` or an email address: what GitHub accepts as an owner.
fn is_owner(o: &str) -> bool {
    match o.strip_prefix('@') {
        Some(name) => !name.is_empty() && !name.contains('@'),
        None => o
            .split_once('@')
            .is_some_and(|(u, d)| !u.is_empty() && d.contains('.')),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_owner, parse, pattern_matches};
    use crate::source::FileId;

    #[test]
    fn owners_need_an_at_and_a_bom_is_not_part_of_the_first_pattern() {
        assert!(is_owner("@alice"));
        assert!(is_owner("@org/team"));
        assert!(is_owner("alice@example.com"));
        assert!(!is_owner("alice"));
        assert!(!is_owner("@"));
        let rules = parse("\u{feff}/apps/ @a bob\n* @c\n", FileId(0));
        assert_eq!(rules[0].pattern, "/apps/");
        assert_eq!(rules[0].invalid_owner.as_deref(), Some("bob"));
        assert_eq!(rules[0].loc.start, 3);
        assert_eq!(rules[1].invalid_owner, None);
    }

    #[test]
    fn codeowners_patterns() {
        let p = "apps/api/overlays/production/kustomization.yaml";
        assert!(pattern_matches("*", p));
        assert!(pattern_matches("/apps/*/overlays/production/", p));
        assert!(pattern_matches("apps/", p));
        assert!(pattern_matches("production/", p));
        assert!(!pattern_matches("/apps/*/overlays/staging/", p));
        assert!(!pattern_matches("/production/", p));
        assert!(pattern_matches("*.yaml", p));
    }
}
