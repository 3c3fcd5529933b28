//! `--format json`: the machine-readable report, documented by `schemas/report.schema.json`
//! (generated from these types; a test fails when the committed schema drifts).

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::{
    Baseline, ErrorCode, Finding, Related, Resolved, ResourceRef, Severity, Summary, Suppressed,
};
use crate::report::Report;
use crate::source::{Loc, Position};

/// The JSON report (`version` 1).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonReport {
    /// Format version; incompatible changes bump it.
    pub(crate) version: u32,
    pub(crate) findings: Vec<JsonFinding>,
    /// The run's totals, as the human report's closing line counts them.
    pub summary: Summary,
}

/// One finding.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonFinding {
    /// Stable rule id (`kustodian rules`), or `render-error`/`config-error`/`policy-error` for
    /// inputs that could not be evaluated.
    pub(crate) rule: String,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) app: Option<String>,
    /// The environment, or several joined with `, ` when one finding at one source line holds
    /// in each of them.
    pub(crate) environment: Option<String>,
    /// The environments the finding holds in (one, or several for a line they share).
    #[serde(default)]
    pub(crate) environments: Vec<String>,
    pub(crate) resource: Option<ResourceRef>,
    /// Field path inside the rendered object.
    pub(crate) field: Option<String>,
    /// The line to edit.
    pub(crate) location: Option<Position>,
    pub(crate) related: Vec<JsonRelated>,
    /// Extra text shown after the message (a hint, a rendered diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) help: Option<String>,
    /// Present when the finding is waived (it then counts for neither the totals nor the exit
    /// code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) suppressed: Option<JsonSuppressed>,
    /// Pull-request mode: `new` when the change brings the finding, `existing` when the base
    /// revision had it too (same rule, app, environment, object and field); existing findings
    /// fail the run only with `--fail-on all`. Absent outside pull-request mode and for inputs
    /// that could not be evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) baseline: Option<Baseline>,
}

/// Why and where a finding is waived.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonSuppressed {
    /// `inline` (a `# kustodian:ignore[...]` comment) or `exception` (`.kustodian.yaml`).
    pub(crate) kind: String,
    pub(crate) reason: String,
    /// The comment or the exception.
    pub(crate) location: Option<Position>,
}

/// A secondary location.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonRelated {
    pub(crate) location: Option<Position>,
    pub(crate) message: String,
}

/// Builds the report value.
#[cfg(test)]
pub(crate) fn build(report: &Report) -> JsonReport {
    JsonReport {
        version: 1,
        findings: report
            .findings
            .iter()
            .map(|f| json_finding(report, f))
            .collect(),
        summary: report.summary.clone(),
    }
}

/// One finding as the JSON report shows it.
fn json_finding(report: &Report, f: &Finding) -> JsonFinding {
    JsonFinding {
        rule: f.rule.clone(),
        severity: f.severity,
        message: f.message.clone(),
        app: f.app.clone(),
        environment: f.environment.clone(),
        environments: f
            .environment
            .iter()
            .flat_map(|e| e.split(", "))
            .map(str::to_string)
            .collect(),
        resource: f.resource.clone(),
        field: f.field.clone(),
        location: report.location(f),
        related: report
            .related(f)
            .into_iter()
            .map(|(location, message)| JsonRelated {
                location,
                message: message.to_string(),
            })
            .collect(),
        help: f.help.clone(),
        suppressed: f.suppressed.as_ref().map(|w| JsonSuppressed {
            kind: if w.in_source { "inline" } else { "exception" }.into(),
            reason: w.reason.clone(),
            location: report.suppressed_at(f),
        }),
        baseline: f.baseline,
    }
}

/// The report's findings read back as findings (for merging shards' reports): locations
/// come back resolved as written (file and line), not as offsets into a file table.
pub fn findings(report: &JsonReport) -> Vec<Finding> {
    report
        .findings
        .iter()
        .map(|j| {
            let mut f = Finding::new(&j.rule, j.severity, j.message.clone());
            f.app = j.app.clone();
            f.environment = j.environment.clone();
            f.resource = j.resource.clone();
            f.field = j.field.clone();
            f.help = j.help.clone();
            f.baseline = j.baseline;
            // Error codes mean "could not evaluate" (exit code 2), not a policy violation.
            f.fatal = ErrorCode::from_id(&j.rule).is_some();
            f.related = j
                .related
                .iter()
                .map(|r| Related {
                    loc: Loc::NONE,
                    message: r.message.clone(),
                })
                .collect();
            f.suppressed = j.suppressed.as_ref().map(|s| Suppressed {
                in_source: s.kind == "inline",
                reason: s.reason.clone(),
                loc: Loc::NONE,
            });
            f.resolved = Some(Box::new(Resolved {
                start: j.location.clone(),
                end: None,
                related: j.related.iter().map(|r| r.location.clone()).collect(),
                suppressed: j.suppressed.as_ref().and_then(|s| s.location.clone()),
            }));
            f
        })
        .collect()
}

/// Writes the report as [`build`] makes it, streamed: each finding is turned into its JSON form
/// and written before the next is made, so a report of thousands of findings is never held
/// twice in memory (the bytes are those of `build`'s value, see the test below).
pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    use serde::ser::{SerializeStruct, Serializer};
    struct Findings<'a, 'r>(&'a Report<'r>);
    impl Serialize for Findings<'_, '_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.findings.iter().map(|f| json_finding(self.0, f)))
        }
    }
    struct Streamed<'a, 'r>(&'a Report<'r>);
    impl Serialize for Streamed<'_, '_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("JsonReport", 3)?;
            st.serialize_field("version", &1u32)?;
            st.serialize_field("findings", &Findings(self.0))?;
            st.serialize_field("summary", self.0.summary)?;
            st.end()
        }
    }
    let mut w = io::BufWriter::with_capacity(64 << 10, out);
    serde_json::to_writer_pretty(&mut w, &Streamed(report))?;
    writeln!(w)?;
    w.flush()
}

/// Merges JSON reports (from `check --shard i/n` jobs) into one: findings concatenated in input
/// order, summaries added up.
pub fn merge(reports: Vec<JsonReport>) -> JsonReport {
    let mut out = JsonReport {
        version: 1,
        findings: Vec::new(),
        summary: Summary::default(),
    };
    for r in reports {
        out.summary.overlays += r.summary.overlays;
        out.summary.resources += r.summary.resources;
        out.summary.errors += r.summary.errors;
        out.summary.warnings += r.summary.warnings;
        out.summary.suppressed += r.summary.suppressed;
        let add = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        out.summary.new = add(out.summary.new, r.summary.new);
        out.summary.existing = add(out.summary.existing, r.summary.existing);
        out.findings.extend(r.findings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    /// The streamed report is byte for byte the serialized [`build`] value, with and without
    /// findings.
    #[test]
    fn streamed_report_is_the_built_one() {
        let sources = Sources::new();
        let mut a = Finding::new("image-not-pinned", Severity::Error, "pin it");
        a.app = Some("shop".into());
        a.environment = Some("production, staging".into());
        a.help = Some("use a digest".into());
        let b = Finding::new("promotion-drift", Severity::Warning, "drift \"quoted\"\n");
        let summary = Summary {
            overlays: 3,
            resources: 9,
            errors: 1,
            warnings: 1,
            ..Summary::default()
        };
        for findings in [vec![], vec![a, b]] {
            let report = Report::new(&findings, &summary, &sources);
            let mut streamed = Vec::new();
            emit(&report, &mut streamed).unwrap();
            let mut built = serde_json::to_vec_pretty(&build(&report)).unwrap();
            built.push(b'\n');
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(built).unwrap()
            );
        }
    }
}
