//! What `kustodian rules`, `explain` and SARIF say of an admission policy: the level its
//! bindings give and where it comes from.
//!
//! A policy has no severity of its own: each binding's `validationActions` give its findings
//! theirs (Deny → error, Warn → warning, Audit → note). A policy bound several times is listed
//! at the strongest of those levels — the worst a pull request can meet — and its description
//! names every binding with its actions and level, so a Warn binding's findings being warnings
//! is not a surprise. A policy no binding names does nothing, as in the API server, and is
//! listed `off`. Where it comes from is said too: the files `admission-policies:` lists (every
//! environment), or the environments it is rendered into (their objects only).

use std::collections::{BTreeMap, BTreeSet};

use super::severity_of;
use crate::diag::RuleDescriptor;

/// Environments named in a description at most.
const PLACES: usize = 5;

/// What is known of one policy.
#[derive(Clone, Debug, Default)]
pub(super) struct Seen {
    /// Its description as compiled (levels and origins not yet said).
    pub doc: Option<RuleDescriptor>,
    /// Its bindings: name → validationActions.
    pub bindings: BTreeMap<String, Vec<String>>,
    /// Listed in the files `admission-policies:` names.
    pub from_files: bool,
    /// `app/env` of the environments it is rendered into.
    pub environments: BTreeSet<String>,
}

/// The policy's description with its level, bindings and origin (`None`: only bindings were
/// seen, never the policy).
pub(super) fn describe(s: &Seen) -> Option<RuleDescriptor> {
    let mut d = s.doc.clone()?;
    d.default_severity = s.bindings.values().map(|a| severity_of(a)).min();
    if s.bindings.is_empty() {
        d.doc.push_str(
            "\n**No binding.** No ValidatingAdmissionPolicyBinding names this policy: it does nothing (as in the API server).\n",
        );
    } else {
        d.doc.push_str(
            "\n**Bindings.** Each finding has its binding's level; the rule is listed at the strongest.\n\n",
        );
        for (name, actions) in &s.bindings {
            d.doc.push_str(&format!(
                "- `{name}`: validationActions [{}] → {}\n",
                actions.join(", "),
                severity_of(actions).as_str()
            ));
        }
    }
    if s.from_files {
        d.doc.push_str(
            "\n**Loaded** from the files `admission-policies:` names in `.kustodian.yaml`: it applies in every environment.\n",
        );
    }
    if !s.environments.is_empty() {
        let shown: Vec<&str> = s
            .environments
            .iter()
            .take(PLACES)
            .map(String::as_str)
            .collect();
        let more = s.environments.len().saturating_sub(PLACES);
        d.doc.push_str(&format!(
            "\n**Rendered into** {}{} (it applies there only).\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more environments")
            } else {
                String::new()
            }
        ));
    }
    Some(d)
}
