//! `--format github`: workflow-command annotations plus a step summary.
//!
//! GitHub shows only the first 10 errors, 10 warnings and 10 notices of a step as annotations, so
//! annotations are ordered by severity (errors first); every finding goes into the markdown table
//! appended to `$GITHUB_STEP_SUMMARY`, which is kept under GitHub's 1 MiB limit. Escaping follows
//! the Actions toolkit: `%`, CR and LF in messages; additionally `:` and `,` in properties.

use std::io::{self, Write};

use crate::diag::{Finding, Severity};
use crate::report::{Report, span};

/// Escapes an annotation message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes an annotation property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

fn title(f: &Finding) -> String {
    let mut t = f.rule.clone();
    if let Some(app) = &f.app {
        t.push_str(&format!(" ({app}"));
        if let Some(env) = &f.environment {
            t.push_str(&format!("/{env}"));
        }
        t.push(')');
    }
    t
}

/// Annotation lines, errors first.
pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut ordered: Vec<&Finding> = report.active().collect();
    ordered.sort_by_key(|f| f.severity);
    for f in ordered {
        let mut props = Vec::new();
        if let Some((start, end)) = span(f, report.sources) {
            props.push(format!("file={}", escape_property(&start.file)));
            props.push(format!("line={}", start.line));
            if end.line > start.line {
                props.push(format!("endLine={}", end.line));
            }
            props.push(format!("col={}", start.column));
            if end.line == start.line && end.column > start.column {
                props.push(format!("endColumn={}", end.column));
            }
        }
        props.push(format!("title={}", escape_property(&title(f))));
        let mut msg = f.message.clone();
        if let Some(h) = &f.help {
            msg.push_str("\n\n");
            msg.push_str(h);
        }
        writeln!(
            out,
            "::{} {}::{}",
            command(f.severity),
            props.join(","),
            escape_data(&msg)
        )?;
    }
    let s = report.summary;
    writeln!(
        out,
        "kustodian: {} error(s), {} warning(s) in {} overlay(s), {} resource(s){}",
        s.errors,
        s.warnings,
        s.overlays,
        s.resources,
        super::human::suppressed(s.suppressed, ", ")
    )
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// The step summary (markdown), at most `limit` bytes.
pub fn step_summary(report: &Report, limit: usize) -> String {
    let s = report.summary;
    let mut md = String::from("## kustodian\n\n");
    if report.active().next().is_none() {
        md.push_str(&format!(
            "✅ No findings in {} overlays ({} resources{}).\n",
            s.overlays,
            s.resources,
            super::human::suppressed(s.suppressed, "; ")
        ));
        return md;
    }
    md.push_str(&format!(
        "**{} error(s), {} warning(s)** in {} overlays ({} resources{}).\n\n",
        s.errors,
        s.warnings,
        s.overlays,
        s.resources,
        super::human::suppressed(s.suppressed, "; ")
    ));
    md.push_str(
        "| Severity | Rule | App | Environment | Location | Message |\n|---|---|---|---|---|---|\n",
    );
    let mut ordered: Vec<&Finding> = report.active().collect();
    ordered.sort_by_key(|f| f.severity);
    let total = ordered.len();
    for (i, f) in ordered.into_iter().enumerate() {
        let loc = f
            .position(report.sources)
            .map(|p| format!("`{}:{}`", p.file, p.line))
            .unwrap_or_default();
        let row = format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            f.severity.as_str(),
            f.rule,
            cell(f.app.as_deref().unwrap_or("")),
            cell(f.environment.as_deref().unwrap_or("")),
            loc,
            cell(&f.message)
        );
        let note = format!(
            "\n_… {} more finding(s) omitted to stay under GitHub's summary size limit; see the SARIF or JSON report._\n",
            total - i
        );
        if md.len() + row.len() + note.len() > limit {
            md.push_str(&note);
            return md;
        }
        md.push_str(&row);
    }
    md
}

/// Pull-request mode: per affected app, the environments changed, images before → after, and
/// the rendered diff (collapsed), within `limit` bytes.
pub fn changes_markdown(changes: &[crate::check::EnvChange], limit: usize) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n### Rendered changes\n");
    let mut apps: Vec<&str> = changes.iter().map(|c| c.app.as_str()).collect();
    apps.dedup();
    for app in apps {
        md.push_str(&format!("\n#### {}\n\n", cell(app)));
        for c in changes.iter().filter(|c| c.app == app) {
            md.push_str(&format!("- **{}**", cell(&c.env)));
            if c.diff.is_empty() {
                md.push_str(": no rendered change\n");
                continue;
            }
            md.push('\n');
            for (what, before, after) in &c.images {
                let before = if before.is_empty() { "(new)" } else { before };
                md.push_str(&format!("  - `{}`: `{before}` → `{after}`\n", cell(what)));
            }
            let mut diff = c.diff.replace("```", "` ` `");
            let budget = limit.saturating_sub(md.len()).saturating_sub(200);
            if diff.len() > budget {
                let mut cut = budget.min(diff.len());
                while !diff.is_char_boundary(cut) {
                    cut -= 1;
                }
                diff.truncate(cut);
                diff.push_str("\n… (truncated)\n");
            }
            md.push_str(&format!(
                "\n  <details><summary>rendered diff</summary>\n\n```diff\n{diff}```\n\n  </details>\n"
            ));
            if md.len() >= limit {
                return md;
            }
        }
    }
    md
}

/// Appends the step summary to `$GITHUB_STEP_SUMMARY` when that variable is set.
pub fn append_step_summary(report: &Report, changes: &[crate::check::EnvChange]) -> io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    write_summary(report, changes, &mut f)
}

/// The whole step summary: findings table, then the pull request's rendered changes.
pub fn write_summary(
    report: &Report,
    changes: &[crate::check::EnvChange],
    out: &mut dyn Write,
) -> io::Result<()> {
    let table = step_summary(report, 600_000);
    // Pull-request mode: the versions table of the environments the change moves, before → after
    // (the data and its markdown live with `kustodian versions`).
    let versions = crate::report::versions::markdown::changes(
        &crate::promotion::versions::changes_of(changes),
    );
    let rest = changes_markdown(changes, 1_000_000 - table.len() - versions.len());
    out.write_all(table.as_bytes())?;
    out.write_all(versions.as_bytes())?;
    out.write_all(rest.as_bytes())
}
