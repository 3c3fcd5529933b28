//! The rule registry (stub: filled by the rules work).

use crate::diag::Severity;

/// Static description of a rule: its stable id and its documentation (the rule file's `///` doc).
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// Full documentation (what / why / example / fix / config), markdown.
    pub doc: &'static str,
    /// Severity when the policy does not say otherwise.
    pub default_severity: Severity,
}

/// Every rule, in documentation order.
pub static REGISTRY: &[RuleInfo] = &[];

/// Looks a rule up by id.
pub fn lookup(id: &str) -> Option<&'static RuleInfo> {
    REGISTRY.iter().find(|r| r.id == id)
}
