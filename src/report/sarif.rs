//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! A small own model (serde_json values), as GitHub requires: driver rules from the registry with
//! short/full descriptions and help, results with `ruleId`/`ruleIndex`/`level`, one physical
//! location with a region, relative URIs under `%SRCROOT%`, and a `primaryLocationLineHash`
//! fingerprint that stays stable across runs (rule, file, the text of the line, resource).

use std::io::{self, Write};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::diag::{ErrorCode, Severity};
use crate::report::{Report, span};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn rule_ids<'a>(report: &'a Report) -> Vec<&'a str> {
    crate::rules::registry()
        .map(|r| r.id)
        .chain(ErrorCode::ALL.iter().map(|c| c.id()))
        .chain(report.rules.iter().map(|r| r.id.as_str()))
        .collect()
}

/// Builds the SARIF log.
pub fn build(report: &Report) -> Value {
    let mut rules: Vec<Value> = crate::rules::registry()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": r.summary()},
                "fullDescription": {"text": r.doc},
                "help": {"text": r.doc, "markdown": r.doc},
                "helpUri": format!("https://github.com/kustodian/kustodian#{}", r.id),
                "defaultConfiguration": {"level": r.default_severity().map_or("none", level)},
            })
        })
        .collect();
    for code in ErrorCode::ALL {
        let (id, text) = (code.id(), code.summary());
        rules.push(json!({
            "id": id,
            "name": id,
            "shortDescription": {"text": text},
            "fullDescription": {"text": text},
            "help": {"text": text, "markdown": text},
            "defaultConfiguration": {"level": "error"},
        }));
    }
    // Custom and imported rules (custom CEL rules, admission policies, Rego rules), after the
    // built-in ones: `helpUri` is the custom rule's `docs`.
    for r in report.rules {
        let mut rule = json!({
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc},
            "help": {"text": r.doc, "markdown": r.doc},
            "defaultConfiguration": {"level": if r.default_level == "off" { "none" } else { r.default_level.as_str() }},
            "properties": {"tags": [r.origin]},
        });
        if let Some(u) = &r.help_uri {
            rule["helpUri"] = json!(u);
        }
        rules.push(rule);
    }
    let ids = rule_ids(report);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (start, end) = span(f, report.sources).unwrap_or_else(|| {
                let p = crate::source::Position {
                    file: f.path.clone().unwrap_or_else(|| ".kustodian.yaml".into()),
                    line: 1,
                    column: 1,
                };
                (p.clone(), p)
            });
            let line_text = report
                .sources
                .get(f.loc.file)
                .map(|sf| sf.line_text(start.line).trim().to_string())
                .unwrap_or_default();
            let resource = f
                .resource
                .as_ref()
                .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
                .unwrap_or_default();
            let digest = Sha256::digest(
                format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                    f.rule,
                    start.file,
                    line_text,
                    resource,
                    f.environment.as_deref().unwrap_or("")
                )
                .as_bytes(),
            );
            let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let mut text = f.message.clone();
            if let Some(h) = &f.help {
                text.push_str("\n\n");
                text.push_str(h);
            }
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let p = report.sources.position(r.loc)?;
                    Some(json!({
                        "id": i,
                        "message": {"text": r.message},
                        "physicalLocation": {
                            "artifactLocation": {"uri": p.file, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": p.line, "startColumn": p.column},
                        }
                    }))
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": start.file, "uriBaseId": "%SRCROOT%"},
                        "region": {
                            "startLine": start.line,
                            "startColumn": start.column,
                            "endLine": end.line,
                            "endColumn": end.column.max(start.column + 1),
                        }
                    }
                }],
                "partialFingerprints": {"primaryLocationLineHash": format!("{hash}:1")},
            });
            if let Some(i) = ids.iter().position(|id| *id == f.rule) {
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
                if let Some(p) = report.sources.position(w.loc) {
                    sup["location"] = json!({
                        "physicalLocation": {
                            "artifactLocation": {"uri": p.file, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": p.line, "startColumn": p.column},
                        }
                    });
                }
                result["suppressions"] = json!([sup]);
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
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kustodian",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/kustodian/kustodian",
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }]
    })
}

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(report))?;
    writeln!(out)
}
