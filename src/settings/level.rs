//! Rule levels: the severity a policy gives a rule, or `off`. Below both the policy and the
//! custom rules it declares, which each name a level.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::Severity;

/// A severity, or `off` to disable a rule: `error` findings fail the run, `warning` ones only
/// with `--fail-on warning`, `note` ones never; an `off` rule does not run.
// Values documented above, not per variant: variant docs would make the generated JSON Schema
// a `oneOf` of constants instead of an `enum`, and change the messages validation reports.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
    Off,
}

impl Level {
    pub(crate) fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Note => Some(Severity::Note),
            Level::Off => None,
        }
    }
    /// The name policies write (`error`, `warning`, `note`, `off`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
            Level::Off => "off",
        }
    }
}
