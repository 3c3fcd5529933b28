//! `--format github`: workflow-command annotations plus a step summary.
//!
//! GitHub keeps only 10 error, 10 warning and 10 notice annotations per step and drops the rest,
//! so they are spent with care: a finding on a base line that every environment shares becomes
//! one annotation naming its environments, not one per environment; errors come first, and within
//! a severity the locations not annotated yet come before a second finding at an annotated line.
//! When something is left out, a last notice says how many findings and where to see them all:
//! the markdown table of every finding appended to `$GITHUB_STEP_SUMMARY` (kept under GitHub's
//! 1 MiB limit). Escaping follows the Actions toolkit: `%`, CR and LF in messages; additionally
//! `:` and `,` in properties. Repository values in the summary are escaped for markdown
//! ([`super::markdown`]).

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::diag::{Baseline, EnvChange, Finding, Severity};
use crate::report::{Report, markdown};
use crate::source::Position;

/// Annotations GitHub keeps per kind (error, warning, notice) and step.
pub const SHOWN_PER_KIND: usize = 10;

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

/// The annotation a finding gets: what the base revision had already is a notice, whatever its
/// severity (it does not fail the pull request unless `--fail-on all` says so).
fn kind(f: &Finding) -> Severity {
    if f.baseline == Some(Baseline::Existing) {
        Severity::Note
    } else {
        f.severity
    }
}

fn command(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// Findings that differ only in their app or environment: one annotation.
struct Group<'a> {
    members: Vec<&'a Finding>,
    span: Option<(Position, Position)>,
}

impl Group<'_> {
    fn first(&self) -> &Finding {
        self.members[0]
    }

    /// `rule (app/env, env2; other-app/env)`.
    fn title(&self) -> String {
        let mut apps: Vec<(&str, Vec<&str>)> = Vec::new();
        for f in &self.members {
            let Some(app) = f.app.as_deref() else {
                continue;
            };
            let i = if let Some(i) = apps.iter().position(|(a, _)| *a == app) {
                i
            } else {
                apps.push((app, Vec::new()));
                apps.len() - 1
            };
            for env in f.environment.iter().flat_map(|e| e.split(", ")) {
                if !apps[i].1.contains(&env) {
                    apps[i].1.push(env);
                }
            }
        }
        let mut t = self.first().rule.clone();
        if !apps.is_empty() {
            let parts: Vec<String> = apps
                .iter()
                .map(|(a, envs)| {
                    if envs.is_empty() {
                        a.to_string()
                    } else {
                        format!("{a}/{}", envs.join(", "))
                    }
                })
                .collect();
            t.push_str(&format!(" ({})", parts.join("; ")));
        }
        t
    }
}

/// Active findings grouped by what they say and where, in the order they are annotated.
fn groups<'a>(report: &Report<'a>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    for f in report.active() {
        let span = report.span(f);
        // Messages and help name the environment ("… in production …"): one finding per
        // environment at a shared line is the same finding for an annotation.
        let same = |g: &Group| {
            let o = g.first();
            o.rule == f.rule
                && o.severity == f.severity
                && o.baseline == f.baseline
                && g.span == span
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.members.push(f),
            None => groups.push(Group {
                members: vec![f],
                span,
            }),
        }
    }
    // Most severe first; within a severity, a line not annotated yet before another finding
    // at a line that is.
    let mut seen: BTreeSet<(String, u32)> = BTreeSet::new();
    let mut keyed: Vec<(Severity, bool, usize, Group)> = groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            let at = g.span.as_ref().map(|(s, _)| (s.file.clone(), s.line));
            let repeat = at.is_some_and(|a| !seen.insert(a));
            (kind(g.first()), repeat, i, g)
        })
        .collect();
    keyed.sort_by_key(|(sev, repeat, i, _)| (*sev, *repeat, *i));
    keyed.into_iter().map(|(.., g)| g).collect()
}

fn annotation(g: &Group, out: &mut dyn Write) -> io::Result<()> {
    let f = g.first();
    let mut props = Vec::new();
    // A file of a fetched remote base is not in the repository: the annotation then belongs
    // to the run (no file), and its message says where.
    let fetched = g
        .span
        .as_ref()
        .filter(|(start, _)| crate::source::remote::is_fetched_path(&start.file));
    if let Some((start, end)) = g.span.as_ref().filter(|_| fetched.is_none()) {
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
    props.push(format!("title={}", escape_property(&g.title())));
    let mut msg = f.message.clone();
    if let Some((start, _)) = fetched {
        msg = format!("{}:{}: {msg}", start.file, start.line);
    }
    if f.baseline == Some(Baseline::Existing) {
        msg = format!(
            "existing {} (the base revision has it too): {msg}",
            f.severity.as_str()
        );
    }
    if let Some(h) = &f.help {
        msg.push_str("\n\n");
        msg.push_str(h);
    }
    let others: Vec<String> = g.members[1..]
        .iter()
        .filter(|o| o.message != f.message)
        .map(|o| {
            [o.app.as_deref(), o.environment.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    if !others.is_empty() {
        msg.push_str(&format!(
            "\n\nThe same finding, worded for its environment, in: {}",
            others.join(", ")
        ));
    }
    writeln!(
        out,
        "::{} {}::{}",
        command(kind(f)),
        props.join(","),
        escape_data(&msg)
    )
}

/// Annotation lines (at most what GitHub keeps), then a notice for what they leave out, then the
/// totals (unless `quiet`).
pub fn emit(report: &Report, out: &mut dyn Write, quiet: bool) -> io::Result<()> {
    let groups = groups(report);
    let fits = |sev: Severity| groups.iter().filter(|g| kind(g.first()) == sev).count();
    let overflow = [Severity::Error, Severity::Warning]
        .into_iter()
        .any(|s| fits(s) > SHOWN_PER_KIND)
        || fits(Severity::Note) > SHOWN_PER_KIND;
    let mut shown = [0usize; 3];
    let (mut left_findings, mut left_groups) = (0, 0);
    for g in &groups {
        let sev = kind(g.first());
        // The closing notice takes one of the notices' places.
        let cap = if sev == Severity::Note && overflow {
            SHOWN_PER_KIND - 1
        } else {
            SHOWN_PER_KIND
        };
        let slot = &mut shown[sev as usize];
        if *slot < cap {
            *slot += 1;
            annotation(g, out)?;
        } else {
            left_findings += g.members.len();
            left_groups += 1;
        }
    }
    if left_groups > 0 {
        writeln!(
            out,
            "::notice title=kustodian::{}",
            escape_data(&format!(
                "{left_findings} more finding(s) at {left_groups} location(s) are not annotated: GitHub shows {SHOWN_PER_KIND} errors, {SHOWN_PER_KIND} warnings and {SHOWN_PER_KIND} notices per step. Every finding is listed in the job's step summary (and in the SARIF/JSON reports)."
            ))
        )?;
    }
    if quiet {
        return Ok(());
    }
    let s = report.summary;
    writeln!(
        out,
        "kustodian: {} error(s), {} warning(s) in {} overlay(s), {} resource(s){}{}",
        s.errors,
        s.warnings,
        s.overlays,
        s.resources,
        super::human::suppressed(s.suppressed, ", "),
        super::human::new_and_existing(s, ", ")
    )
}

/// The step summary (markdown), at most `limit` bytes. In pull-request mode the findings the
/// base revision had too come after the new ones, collapsed.
pub fn step_summary(report: &Report, limit: usize) -> String {
    let s = report.summary;
    let mut md = String::from("## kustodian\n\n");
    let (existing, new): (Vec<&Finding>, Vec<&Finding>) = report
        .active()
        .partition(|f| f.baseline == Some(Baseline::Existing));
    let counts = match (s.new, s.existing) {
        (Some(n), Some(e)) => format!("**{n} new, {e} existing**: "),
        _ => String::new(),
    };
    if new.is_empty() {
        md.push_str(&format!(
            "✅ {counts}No {}findings in {} overlays ({} resources{}).\n",
            if existing.is_empty() { "" } else { "new " },
            s.overlays,
            s.resources,
            super::human::suppressed(s.suppressed, "; ")
        ));
    } else {
        md.push_str(&format!(
            "{counts}**{} error(s), {} warning(s)** in {} overlays ({} resources{}).\n\n",
            s.errors,
            s.warnings,
            s.overlays,
            s.resources,
            super::human::suppressed(s.suppressed, "; ")
        ));
        table(report, new, &mut md, limit);
    }
    if !existing.is_empty() && md.len() < limit {
        md.push_str(&format!(
            "\n<details><summary>{} existing finding(s): the base revision has them too (they fail the check only with <code>fail-on: all</code>)</summary>\n\n",
            existing.len()
        ));
        // Room for the closing tag whatever the table leaves.
        table(report, existing, &mut md, limit.saturating_sub(20));
        md.push_str("\n</details>\n");
    }
    md
}

/// A markdown table of findings, most severe first, appended to `md` while it stays within
/// `limit` bytes (then a line says how many were left out).
fn table(report: &Report, mut findings: Vec<&Finding>, md: &mut String, limit: usize) {
    md.push_str(
        "| Severity | Rule | App | Environment | Location | Message |\n|---|---|---|---|---|---|\n",
    );
    findings.sort_by_key(|f| f.severity);
    let total = findings.len();
    for (i, f) in findings.into_iter().enumerate() {
        let loc = report
            .location(f)
            .map(|p| markdown::code(&format!("{}:{}", p.file, p.line), true))
            .unwrap_or_default();
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            f.severity.as_str(),
            markdown::code(&f.rule, true),
            markdown::cell(f.app.as_deref().unwrap_or("")),
            markdown::cell(f.environment.as_deref().unwrap_or("")),
            loc,
            markdown::cell(&f.message)
        );
        let note = format!(
            "\n_… {} more finding(s) omitted to stay under GitHub's summary size limit; see the SARIF or JSON report._\n",
            total - i
        );
        if md.len() + row.len() + note.len() > limit {
            md.push_str(&note);
            return;
        }
        md.push_str(&row);
    }
}

/// Pull-request mode: per affected app, the environments changed, images before → after, and
/// the rendered diff (collapsed), within `limit` bytes. Every block starts at the left margin:
/// a `<details>` HTML block inside a list item would end the list at its code fence, and the
/// diff would show expanded.
pub fn changes_markdown(changes: &[EnvChange], limit: usize) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n### Rendered changes\n");
    let mut apps: Vec<&str> = changes.iter().map(|c| c.app.as_str()).collect();
    apps.dedup();
    for app in apps {
        md.push_str(&format!("\n#### {}\n\n", markdown::text(app)));
        for c in changes.iter().filter(|c| c.app == app) {
            let env = markdown::text(&c.env);
            if c.diff.is_empty() {
                md.push_str(&format!("**{env}**: no rendered change\n\n"));
                continue;
            }
            md.push_str(&format!("**{env}**\n\n"));
            for (what, before, after) in &c.images {
                let before = if before.is_empty() {
                    "(new)".to_string()
                } else {
                    markdown::code(before, false)
                };
                md.push_str(&format!(
                    "- {}: {before} → {}\n",
                    markdown::code(what, false),
                    markdown::code(after, false)
                ));
            }
            if !c.images.is_empty() {
                md.push('\n');
            }
            let mut diff = c.diff.clone();
            let budget = limit.saturating_sub(md.len()).saturating_sub(300);
            if diff.len() > budget {
                let mut cut = budget.min(diff.len());
                while !diff.is_char_boundary(cut) {
                    cut -= 1;
                }
                diff.truncate(cut);
                diff.push_str("\n… (truncated)\n");
            }
            md.push_str(&format!(
                "<details><summary>rendered diff of {}</summary>\n\n{}\n</details>\n\n",
                markdown::html(&c.env),
                markdown::code_block("diff", &diff)
            ));
            if md.len() >= limit {
                return md;
            }
        }
    }
    md
}

/// Appends the step summary to `$GITHUB_STEP_SUMMARY` when that variable is set.
pub fn append_step_summary(report: &Report) -> io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    write_summary(report, &mut f)
}

/// The whole step summary: findings table, then the pull request's rendered changes.
pub fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let table = step_summary(report, 600_000);
    // Pull-request mode: the versions table of the environments the change moves, before → after
    // (the data and its markdown live with `kustodian versions`).
    let versions = crate::report::versions::markdown::changes(
        &crate::promotion::versions::changes_of(report.changes),
    );
    let rest = changes_markdown(report.changes, 1_000_000 - table.len() - versions.len());
    out.write_all(table.as_bytes())?;
    out.write_all(versions.as_bytes())?;
    out.write_all(rest.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Summary;
    use crate::source::{Loc, Sources};

    /// Eleven error groups on ten lines (two rules share line 1): the ten annotations go to ten
    /// distinct lines, and the second finding at line 1 is the one left for the notice.
    #[test]
    fn distinct_lines_before_a_second_finding_at_an_annotated_line() {
        let sources = Sources::new();
        let text: String = (1..=12).map(|i| format!("line{i:02}\n")).collect();
        let file = sources.add("apps/a/base/d.yaml", text.into());
        let at = |line: usize| Loc::new(file, (line - 1) * 7, (line - 1) * 7 + 6);
        let mut findings = Vec::new();
        for line in 1..=10 {
            let mut f = Finding::new(&format!("rule-{line:02}"), Severity::Error, "m");
            f.loc = at(line);
            findings.push(f);
        }
        let mut second = Finding::new("rule-zz", Severity::Error, "m");
        second.loc = at(1);
        findings.insert(1, second);
        let summary = Summary::default();
        let report = Report::new(&findings, &summary, &sources);
        let mut out = Vec::new();
        emit(&report, &mut out, true).unwrap();
        let out = String::from_utf8(out).unwrap();
        let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
        assert_eq!(errors.len(), 10, "{out}");
        for line in 1..=10 {
            assert!(
                errors.iter().any(|e| e.contains(&format!(",line={line},"))),
                "line {line}: {out}"
            );
        }
        assert!(!out.contains("title=rule-zz"), "{out}");
        assert!(
            out.lines()
                .last()
                .unwrap()
                .starts_with("::notice title=kustodian::1 more finding(s) at 1 location(s)"),
            "{out}"
        );
    }

    #[test]
    fn one_annotation_per_line_lists_its_environments() {
        let sources = Sources::new();
        let file = sources.add("apps/a/base/d.yaml", "image: x\n".into());
        let findings: Vec<Finding> = ["dev", "staging"]
            .iter()
            .map(|env| {
                let mut f = Finding::new("r", Severity::Warning, format!("x in {env}"));
                f.loc = Loc::new(file, 7, 8);
                f.app = Some("a".into());
                f.environment = Some(env.to_string());
                f
            })
            .collect();
        let summary = Summary::default();
        let report = Report::new(&findings, &summary, &sources);
        let mut out = Vec::new();
        emit(&report, &mut out, true).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.contains("title=r (a/dev%2C staging)::x in dev"),
            "{out}"
        );
        assert!(
            out.contains("in%3A a/staging") || out.contains("in: a/staging"),
            "{out}"
        );
    }
}
