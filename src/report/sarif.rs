//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! A small own model (serde_json values), as GitHub requires: driver rules from the descriptors
//! the report carries (short/full descriptions and help), results with `ruleId`/`ruleIndex`/
//! `level`, one physical location with a region, URIs relative to `%SRCROOT%` — the git work
//! tree, given as an absolute `file://` URI — and a `primaryLocationLineHash` fingerprint that
//! stays stable across runs and tells identical lines apart (see [`super::fingerprints`]). A
//! finding about no file (a configuration error) has no location at all rather than a made-up
//! one, and files of the pull request's base revision are named in messages only: they are not
//! in the checked-out tree a URI would point into.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diag::{Baseline, Severity};
use crate::report::{Report, fingerprints};
use crate::source::Position;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encodes a path for a URI: everything but unreserved characters and `/` (so a `:` in a
/// file name never reads as a scheme, a space never ends the reference).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn physical(report: &Report, p: &Position, region: Value) -> Option<Value> {
    if !report.paths.in_work_tree(&p.file) {
        return None;
    }
    Some(json!({
        "artifactLocation": {"uri": uri_path(&p.file), "uriBaseId": "%SRCROOT%"},
        "region": region,
    }))
}

/// Builds the SARIF log.
pub fn build(report: &Report) -> Value {
    let (mut run, prints) = run_without_results(report);
    run["results"] = report
        .findings
        .iter()
        .zip(&prints)
        .map(|(f, print)| result(report, f, print))
        .collect();
    log(run)
}

fn log(run: Value) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The run object with `results` left null (in its place), and each finding's fingerprint.
fn run_without_results(report: &Report) -> (Value, Vec<String>) {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": r.default_severity.map_or("none", level)},
            });
            if let Some(u) = &r.help_uri {
                v["helpUri"] = json!(u);
            }
            if let Some(o) = &r.origin {
                v["properties"] = json!({"tags": [o]});
            }
            v
        })
        .collect();
    let prints = fingerprints(report);
    let mut run = json!({
        "tool": {"driver": {
            "name": "kustodian",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/kustodian/kustodian",
            "rules": rules,
        }},
        "results": Value::Null,
        "columnKind": "unicodeCodePoints",
    });
    if let Some(root) = report.paths.root.as_ref().and_then(|r| r.to_str()) {
        let mut uri = format!("file://{}", uri_path(root));
        if !uri.ends_with('/') {
            uri.push('/');
        }
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": uri}});
    }
    (run, prints)
}

/// One finding as a SARIF result.
fn result(report: &Report, f: &crate::diag::Finding, print: &str) -> Value {
    let mut text = f.message.clone();
    if let Some(h) = &f.help {
        text.push_str("\n\n");
        text.push_str(h);
    }
    let related: Vec<Value> = report
        .related(f)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (p, message))| {
            let p = p?;
            let region = json!({"startLine": p.line, "startColumn": p.column});
            Some(match physical(report, &p, region) {
                Some(loc) => json!({
                    "id": i,
                    "message": {"text": message},
                    "physicalLocation": loc,
                }),
                None => json!({
                    "id": i,
                    "message": {"text": format!("{message} ({}:{})", p.file, p.line)},
                }),
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": text},
        "partialFingerprints": {"primaryLocationLineHash": print},
    });
    if let Some((start, end)) = report.span(f) {
        let region = json!({
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column.max(start.column + 1),
        });
        match physical(report, &start, region) {
            Some(loc) => result["locations"] = json!([{ "physicalLocation": loc }]),
            // A fetched remote base is no artifact of the repository: the message says where.
            None if crate::source::remote::is_fetched_path(&start.file) => {
                result["message"]["text"] = json!(format!(
                    "{text}\n\nAt {}:{}:{}",
                    start.file, start.line, start.column
                ));
            }
            None => {}
        }
    }
    if let Some(i) = report.rules.iter().position(|r| r.id == f.rule) {
        result["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    // A waived finding stays, marked as SARIF marks it (code scanning shows it as
    // dismissed, with the justification).
    if let Some(w) = &f.suppressed {
        let mut sup = json!({
            "kind": if w.in_source { "inSource" } else { "external" },
            "justification": w.reason,
        });
        if let Some(p) = report.suppressed_at(f) {
            let region = json!({"startLine": p.line, "startColumn": p.column});
            if let Some(loc) = physical(report, &p, region) {
                sup["location"] = json!({ "physicalLocation": loc });
            }
        }
        result["suppressions"] = json!([sup]);
    }
    // Pull-request mode: whether the base revision had it too.
    if let Some(b) = f.baseline {
        result["baselineState"] = json!(match b {
            Baseline::New => "new",
            Baseline::Existing => "unchanged",
        });
    }
    let mut props = serde_json::Map::new();
    if let Some(a) = &f.app {
        props.insert("app".into(), json!(a));
    }
    if let Some(e) = &f.environment {
        props.insert("environment".into(), json!(e));
    }
    if let Some(fp) = &f.field {
        props.insert("field".into(), json!(fp));
    }
    if !props.is_empty() {
        result["properties"] = Value::Object(props);
    }
    result
}

/// Writes the log [`build`] makes, streamed: the results are made and written one at a time
/// into the run (same bytes, see the test below), so thousands of findings never sit in memory
/// as one JSON tree.
pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    use serde::ser::{SerializeMap, Serializer};
    struct Results<'a, 'r>(&'a Report<'r>, &'a [String]);
    impl serde::Serialize for Results<'_, '_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let Results(report, prints) = *self;
            s.collect_seq(
                report
                    .findings
                    .iter()
                    .zip(prints)
                    .map(|(f, p)| result(report, f, p)),
            )
        }
    }
    /// The run's members in order, `results` streamed.
    struct Run<'a, 'r>(&'a serde_json::Map<String, Value>, Results<'a, 'r>);
    impl serde::Serialize for Run<'_, '_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                if k == "results" {
                    m.serialize_entry(k, &self.1)?;
                } else {
                    m.serialize_entry(k, v)?;
                }
            }
            m.end()
        }
    }
    let (run, prints) = run_without_results(report);
    let Value::Object(members) = &run else {
        unreachable!("a run is an object")
    };
    // The log around the run: every member but `runs` as `log` makes it.
    let Value::Object(top) = log(Value::Null) else {
        unreachable!("a log is an object")
    };
    let mut w = io::BufWriter::with_capacity(64 << 10, out);
    let mut ser = serde_json::Serializer::pretty(&mut w);
    let mut m = (&mut ser).serialize_map(Some(top.len()))?;
    for (k, v) in &top {
        if k == "runs" {
            m.serialize_entry(k, &[Run(members, Results(report, &prints))])?;
        } else {
            m.serialize_entry(k, v)?;
        }
    }
    SerializeMap::end(m)?;
    writeln!(w)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Finding, Summary};
    use crate::source::Sources;

    /// The streamed log is byte for byte the serialized [`build`] value.
    #[test]
    fn streamed_log_is_the_built_one() {
        let sources = Sources::new();
        let mut a = Finding::new("image-not-pinned", Severity::Error, "pin it");
        a.app = Some("shop".into());
        a.environment = Some("production".into());
        a.help = Some("use a digest".into());
        let b = Finding::new("promotion-drift", Severity::Warning, "drift \"quoted\"\n");
        let summary = Summary::default();
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
