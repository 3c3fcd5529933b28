//! `--fail-on`: which findings make a run fail (exit code 1).
//!
//! Two independent choices, written as a comma-separated list in any order: a severity threshold
//! (`error`, the default; `warning`, errors and warnings; `never`) and, for pull-request mode, a
//! scope (`new`, the default: only findings the change brings; `all`: also those the base
//! revision had already). `--fail-on new` fails on new errors, `--fail-on warning,new` on new
//! errors and warnings, `--fail-on error,all` on every error. Outside pull-request mode no
//! finding is existing, so the scope changes nothing there. Inputs that could not be evaluated
//! exit 2 whatever is asked.

use std::str::FromStr;

use crate::diag::{Baseline, Finding, Severity};

/// Which findings fail the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailOn {
    /// The least severe finding that fails the run; `None`: none does (`never`).
    pub threshold: Option<Severity>,
    /// Whether findings the base revision already had count too.
    pub existing: bool,
}

impl Default for FailOn {
    fn default() -> FailOn {
        FailOn {
            threshold: Some(Severity::Error),
            existing: false,
        }
    }
}

impl FromStr for FailOn {
    type Err = String;

    fn from_str(s: &str) -> Result<FailOn, String> {
        let (mut threshold, mut scope) = (None, None);
        for word in s.split(',').map(str::trim) {
            let (slot, value) = match word {
                "error" => (&mut threshold, "error"),
                "warning" => (&mut threshold, "warning"),
                "never" => (&mut threshold, "never"),
                "new" => (&mut scope, "new"),
                "all" => (&mut scope, "all"),
                _ => {
                    return Err(format!(
                        "'{word}' is not a --fail-on value: give a severity (error, warning, never) and/or a scope (new, all), e.g. `warning,new`"
                    ));
                }
            };
            if let Some(before) = slot.replace(value) {
                return Err(format!(
                    "--fail-on names two {}: '{before}' and '{value}'",
                    if matches!(value, "new" | "all") {
                        "scopes"
                    } else {
                        "severities"
                    }
                ));
            }
        }
        if threshold == Some("never") && scope.is_some() {
            return Err("--fail-on never fails on nothing: it takes no scope (new, all)".into());
        }
        Ok(FailOn {
            threshold: match threshold.unwrap_or("error") {
                "never" => None,
                "warning" => Some(Severity::Warning),
                _ => Some(Severity::Error),
            },
            existing: scope == Some("all"),
        })
    }
}

impl FailOn {
    /// Whether this finding fails the run.
    pub fn counts(&self, f: &Finding) -> bool {
        f.suppressed.is_none()
            && self.threshold.is_some_and(|t| f.severity <= t)
            && (self.existing || f.baseline != Some(Baseline::Existing))
    }

    /// 2 when something could not be evaluated, 1 when a finding this counts is there, else 0.
    pub fn exit_code(&self, findings: &[Finding]) -> u8 {
        if findings.iter().any(|f| f.fatal) {
            2
        } else {
            u8::from(findings.iter().any(|f| self.counts(f)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_and_scope_combine_in_any_order() {
        let p = |s: &str| s.parse::<FailOn>();
        assert_eq!(p("error").unwrap(), FailOn::default());
        assert_eq!(p("new").unwrap(), FailOn::default());
        let all_warnings = FailOn {
            threshold: Some(Severity::Warning),
            existing: true,
        };
        assert_eq!(p("warning,all").unwrap(), all_warnings);
        assert_eq!(p("all, warning").unwrap(), all_warnings);
        assert_eq!(p("never").unwrap().threshold, None);
        assert!(p("never,all").unwrap_err().contains("no scope"));
        assert!(p("error,warning").unwrap_err().contains("two severities"));
        assert!(p("new,all").unwrap_err().contains("two scopes"));
        assert!(p("errors").unwrap_err().contains("'errors'"));
    }

    #[test]
    fn existing_findings_fail_only_with_all() {
        let mut f = Finding::new("r", Severity::Error, "m");
        f.baseline = Some(Baseline::Existing);
        let findings = [f.clone()];
        assert_eq!(FailOn::default().exit_code(&findings), 0);
        assert_eq!("all".parse::<FailOn>().unwrap().exit_code(&findings), 1);
        f.baseline = Some(Baseline::New);
        assert_eq!(FailOn::default().exit_code(&[f.clone()]), 1);
        f.severity = Severity::Warning;
        assert_eq!(FailOn::default().exit_code(&[f.clone()]), 0);
        assert_eq!("warning".parse::<FailOn>().unwrap().exit_code(&[f]), 1);
    }
}
