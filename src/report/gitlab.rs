//! `--format gitlab`: a GitLab Code Quality report (the Code Climate subset GitLab reads), for
//! merge-request widgets and diff annotations on GitLab CI:
//! `[{"description", "check_name", "fingerprint", "severity", "location": {"path", "lines":
//! {"begin", "end"}}}]`.
//!
//! Waived findings are left out (GitLab has no notion of a dismissed issue in this format).
//! Severities: an input that could not be evaluated is `blocker`, an error `major`, a warning
//! `minor`, a note `info` — as ESLint's GitLab formatter maps them. The fingerprint is the one
//! SARIF uses, so the same finding keeps its identity across runs and report formats. A finding
//! about no file names the checked directory, line 1 (GitLab requires a path); so does one in a
//! fetched remote base (not a file of the repository), its description saying where.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diag::{Finding, Severity};
use crate::report::{Report, fingerprints};

fn severity(f: &Finding) -> &'static str {
    if f.fatal {
        return "blocker";
    }
    match f.severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Note => "info",
    }
}

/// The report value.
pub fn build(report: &Report) -> Value {
    let prints = fingerprints(report);
    let issues: Vec<Value> = report
        .findings
        .iter()
        .zip(prints)
        .filter(|(f, _)| f.suppressed.is_none())
        .map(|(f, print)| {
            let mut description = f.message.clone();
            let (path, begin, end) = match report.span(f) {
                // A fetched remote base's file is not in the repository: the description
                // says where, the location is the checked directory.
                Some((s, _)) if crate::source::remote::is_fetched_path(&s.file) => {
                    description = format!("{}:{}: {description}", s.file, s.line);
                    (report.paths.checked_dir().to_string(), 1, 1)
                }
                Some((s, e)) => (s.file, s.line, e.line.max(s.line)),
                None => (report.paths.checked_dir().to_string(), 1, 1),
            };
            let context: Vec<&str> = [f.app.as_deref(), f.environment.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if !context.is_empty() {
                description.push_str(&format!(" [{}]", context.join("/")));
            }
            json!({
                "type": "issue",
                "engine_name": "kustodian",
                "description": description,
                "check_name": f.rule,
                "categories": ["Bug Risk"],
                "fingerprint": print,
                "severity": severity(f),
                "location": {"path": path, "lines": {"begin": begin, "end": end}},
            })
        })
        .collect();
    Value::Array(issues)
}

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(report))?;
    writeln!(out)
}
