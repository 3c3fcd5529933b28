//! `--format junit`: JUnit XML, the test-report format CI systems other than GitHub read
//! (GitLab's test reports, Jenkins, Azure Pipelines), as kubeconform and conftest offer it.
//!
//! One `<testsuite>` per app (findings about no app go to `repository`), one `<testcase>` per
//! finding: a policy violation is a `<failure>` (its `type` the severity), an input that could
//! not be evaluated an `<error>`, a waived finding `<skipped>` with its reason. A clean run is one
//! passing test case, so a CI system shows "1 passed" rather than "no tests". The output
//! validates against Jenkins' `junit-10.xsd` (tests/data): every value is escaped for XML, and
//! characters XML 1.0 cannot carry at all (most C0 controls) are written as visible escapes.

use std::io::{self, Write};

use crate::diag::Finding;
use crate::report::Report;

/// Escapes text for an XML attribute value or element content.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept in attributes as references (a raw one would be normalised to a space).
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            // Not allowed in XML 1.0, not even as a character reference.
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The test case's name: rule and where.
fn case_name(f: &Finding, report: &Report) -> String {
    let mut name = f.rule.clone();
    if let Some(env) = &f.environment {
        name.push_str(&format!(" [{env}]"));
    }
    if let Some(p) = report.location(f) {
        name.push_str(&format!(" {}:{}:{}", p.file, p.line, p.column));
    }
    name
}

/// The failure's body: everything a reader needs without the other reports.
fn details(f: &Finding, report: &Report) -> String {
    let mut lines = vec![f.message.clone()];
    if let Some(p) = report.location(f) {
        lines.push(format!("at {}:{}:{}", p.file, p.line, p.column));
    }
    if let Some(r) = &f.resource {
        let ns = if r.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace {}", r.namespace)
        };
        lines.push(format!(
            "resource {} {}/{}{ns}",
            r.api_version, r.kind, r.name
        ));
    }
    if let Some(field) = &f.field {
        lines.push(format!("field {field}"));
    }
    for (p, message) in report.related(f) {
        match p {
            Some(p) => lines.push(format!("{message}: {}:{}:{}", p.file, p.line, p.column)),
            None => lines.push(message.to_string()),
        }
    }
    if let Some(h) = &f.help {
        lines.push(String::new());
        lines.push(h.clone());
    }
    lines.join("\n")
}

fn testcase(f: &Finding, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let classname = match (&f.app, &f.environment) {
        (Some(a), Some(e)) => format!("{a}.{e}"),
        (Some(a), None) => a.clone(),
        _ => "repository".to_string(),
    };
    writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\">",
        xml(&case_name(f, report)),
        xml(&classname)
    )?;
    if let Some(w) = &f.suppressed {
        writeln!(
            out,
            "      <skipped message=\"{}\"/>",
            xml(&format!("suppressed: {}", w.reason))
        )?;
    } else {
        let element = if f.fatal { "error" } else { "failure" };
        writeln!(
            out,
            "      <{element} type=\"{}\" message=\"{}\">{}</{element}>",
            xml(f.severity.as_str()),
            xml(&f.message),
            xml(&details(f, report))
        )?;
    }
    writeln!(out, "    </testcase>")
}

/// The JUnit XML document.
pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut suites: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in report.findings {
        let name = f.app.as_deref().unwrap_or("repository");
        match suites.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(f),
            None => suites.push((name, vec![f])),
        }
    }
    let count = |v: &[&Finding]| {
        let failures = v
            .iter()
            .filter(|f| f.suppressed.is_none() && !f.fatal)
            .count();
        let errors = v
            .iter()
            .filter(|f| f.suppressed.is_none() && f.fatal)
            .count();
        let skipped = v.iter().filter(|f| f.suppressed.is_some()).count();
        (failures, errors, skipped)
    };
    let (failures, errors, _) = count(&report.findings.iter().collect::<Vec<_>>());
    let tests = report.findings.len().max(1);
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"kustodian\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    )?;
    if report.findings.is_empty() {
        let s = report.summary;
        writeln!(
            out,
            "  <testsuite name=\"kustodian\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">"
        )?;
        writeln!(
            out,
            "    <testcase name=\"{}\" classname=\"repository\"/>",
            xml(&format!(
                "no findings in {} overlays ({} resources)",
                s.overlays, s.resources
            ))
        )?;
        writeln!(out, "  </testsuite>")?;
    }
    for (name, findings) in &suites {
        let (failures, errors, skipped) = count(findings);
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
            xml(name),
            findings.len()
        )?;
        for f in findings {
            testcase(f, report, out)?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_refuses_unrepresentable_characters() {
        assert_eq!(xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml("\u{1b}[31m\u{7}"), "\\u{1b}[31m\\u{7}");
        assert_eq!(xml("a\nb"), "a&#10;b");
    }
}
