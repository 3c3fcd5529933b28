//! The check engine (stub: filled by the rules work).

use std::path::PathBuf;

use crate::diag::{Finding, Summary};
use crate::source::Sources;

/// What `kustodian check` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Repository root.
    pub root: PathBuf,
    /// Extra policy file (extends/overrides the embedded default).
    pub policy: Option<PathBuf>,
    /// Only these environments (names as in the repo), empty = all.
    pub envs: Vec<String>,
    /// Only these apps, empty = all.
    pub apps: Vec<String>,
}

/// Result of a check run.
pub struct Outcome {
    /// Sorted findings (including `fatal` ones for inputs that could not be evaluated).
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub sources: Sources,
}

impl Outcome {
    /// 0 clean, 1 error-severity violations, 2 could not evaluate (fatal findings).
    pub fn exit_code(&self) -> i32 {
        if self.findings.iter().any(|f| f.fatal) {
            2
        } else if self
            .findings
            .iter()
            .any(|f| f.severity == crate::diag::Severity::Error)
        {
            1
        } else {
            0
        }
    }
}

/// Runs discovery, rendering and every enabled rule.
pub fn run(opts: &CheckOptions) -> Outcome {
    let _ = opts;
    unimplemented!()
}
