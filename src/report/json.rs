//! `--format json`: the machine-readable report, documented by `schemas/report.schema.json`
//! (generated from these types; a test fails when the committed schema drifts).

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diag::{
    ErrorCode, Finding, Related, Resolved, ResourceRef, Severity, Summary, Suppressed,
};
use crate::report::Report;
use crate::source::{Loc, Position};

/// The JSON report (`version` 1).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonReport {
    /// Format version; incompatible changes bump it.
    pub version: u32,
    pub findings: Vec<JsonFinding>,
    pub summary: Summary,
}

/// One finding.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonFinding {
    /// Stable rule id (`kustodian rules`), or `render-error`/`config-error`/`policy-error` for
    /// inputs that could not be evaluated.
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub app: Option<String>,
    /// The environment, or several joined with `, ` when one finding at one source line holds
    /// in each of them.
    pub environment: Option<String>,
    /// The environments the finding holds in (one, or several for a line they share).
    #[serde(default)]
    pub environments: Vec<String>,
    pub resource: Option<ResourceRef>,
    /// Field path inside the rendered object.
    pub field: Option<String>,
    /// The line to edit.
    pub location: Option<Position>,
    pub related: Vec<JsonRelated>,
    /// Extra text shown after the message (a hint, a rendered diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Present when the finding is waived (it then counts for neither the totals nor the exit
    /// code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<JsonSuppressed>,
}

/// Why and where a finding is waived.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonSuppressed {
    /// `inline` (a `# kustodian:ignore[...]` comment) or `exception` (`.kustodian.yaml`).
    pub kind: String,
    pub reason: String,
    /// The comment or the exception.
    pub location: Option<Position>,
}

/// A secondary location.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonRelated {
    pub location: Option<Position>,
    pub message: String,
}

/// Builds the report value.
pub fn build(report: &Report) -> JsonReport {
    JsonReport {
        version: 1,
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
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
            })
            .collect(),
        summary: report.summary.clone(),
    }
}

/// The findings of a JSON report, as findings again (with their positions resolved), so that a
/// merged report can be written in any format.
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

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(report))?;
    writeln!(out)
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
        out.findings.extend(r.findings);
    }
    out
}
