//! `--format human`: diagnostics with source snippets, for terminals and CI logs.
//!
//! Each finding becomes a miette diagnostic: the rule id as its code, the app/environment and the
//! resource as context, the primary location as a labelled snippet, related locations in the same
//! file as extra labels (other files are listed as notes), and the rule's help. Without a terminal
//! (or with `NO_COLOR`) output is plain and deterministic, which is what the snapshot tests pin.
//!
//! Text from the repository never reaches the terminal raw: an image name or a YAML value holding
//! ESC, BEL, CR or a C1/bidirectional control could recolour, retitle or rewrite the terminal (or
//! hide what a line says), so every such character is shown as a visible escape (`\u{1b}`) in
//! messages, and replaced by a placeholder of the same byte length in the source snippet (whose
//! labels are byte offsets) — with or without colors.

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::diag::{Baseline, Finding, Severity};
use crate::report::Report;

/// Rendering options.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    /// Findings only: no closing summary line (and nothing at all when clean).
    pub quiet: bool,
}

impl Default for HumanOptions {
    fn default() -> HumanOptions {
        HumanOptions {
            color: false,
            width: 110,
            quiet: false,
        }
    }
}

/// Characters a terminal acts on rather than shows: C0 controls but tab and line feed, DEL, C1
/// controls (U+009B is a one-character CSI), and the bidirectional overrides and isolates.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every terminal-active character shown as a visible escape (`\u{1b}`); line feeds and
/// tabs stay.
pub fn visible(s: &str) -> String {
    if !s.chars().any(unsafe_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A source text safe to print, with every byte offset unchanged: each terminal-active character
/// becomes a placeholder of its UTF-8 length (`?`, `¿`, `�`). A CR ending a line stays (the
/// snippet renderer handles CRLF files).
fn visible_source(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            out.push(c);
        } else if unsafe_char(c) {
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '\u{bf}',
                _ => '\u{fffd}',
            });
        } else {
            out.push(c);
        }
    }
    out
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// Renders one finding.
pub fn render_finding(f: &Finding, report: &Report, opts: HumanOptions) -> String {
    let mut context = Vec::new();
    if let Some(app) = &f.app {
        context.push(match &f.environment {
            Some(env) => format!("{app}/{env}"),
            None => app.clone(),
        });
    }
    if let Some(r) = &f.resource {
        context.push(format!("{}/{}", r.kind, r.name));
    }
    let message = if context.is_empty() {
        f.message.clone()
    } else {
        format!("{} [{}]", f.message, context.join(", "))
    };
    let mut diag = MietteDiagnostic::new(visible(&message))
        .with_code(visible(&f.rule))
        .with_severity(severity(f.severity));
    // Merged reports carry positions, not source text: no snippet then; nor for a line too
    // long to show (the terminal renderer cannot lay out labels past 65,535 columns).
    let mut notes = Vec::new();
    let file = match f.resolved {
        Some(_) => None,
        None => match report.sources.get(f.loc.file) {
            Some(file) if !snippet_fits(&file, f) => {
                if let Some(p) = report.sources.position(f.loc) {
                    notes.push(format!(
                        "at {}:{}:{} (the line is too long to show)",
                        report.paths.path(&p.file),
                        p.line,
                        p.column
                    ));
                }
                None
            }
            file => file,
        },
    };
    let related = report.related(f);
    let at = |p: &crate::source::Position| format!("{}:{}:{}", p.file, p.line, p.column);
    if file.is_some() {
        let len = (f.loc.end.saturating_sub(f.loc.start)) as usize;
        let label = f.field.as_deref().unwrap_or("here");
        diag = diag.and_label(LabeledSpan::new_primary_with_span(
            Some(visible(label)),
            (f.loc.start as usize, len.max(1)),
        ));
        for (r, (p, message)) in f.related.iter().zip(&related) {
            if r.loc.file == f.loc.file {
                let len = (r.loc.end.saturating_sub(r.loc.start)) as usize;
                diag = diag.and_label(LabeledSpan::new_with_span(
                    Some(visible(message)),
                    (r.loc.start as usize, len.max(1)),
                ));
            } else if let Some(p) = p {
                notes.push(format!("{message}: {}", at(p)));
            }
        }
    } else {
        if let Some(p) = report.location(f) {
            notes.push(match f.resolved {
                Some(_) => format!("at {}", at(&p)),
                None => format!("in {}", p.file),
            });
        }
        for (p, message) in &related {
            if let Some(p) = p {
                notes.push(format!("{message}: {}", at(p)));
            }
        }
    }
    let mut help = notes.join("\n");
    if let Some(h) = &f.help {
        if !help.is_empty() {
            help.push('\n');
        }
        help.push_str(h);
    }
    if !help.is_empty() {
        diag = diag.with_help(visible(&help));
    }
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(1);
    let rendered = match file {
        Some(file) => miette::Report::new(diag).with_source_code(NamedSource::new(
            visible(&report.paths.path(&file.path)),
            visible_source(&file.text),
        )),
        None => miette::Report::new(diag),
    };
    let mut out = String::new();
    if handler.render_report(&mut out, rendered.as_ref()).is_err() {
        out = format!("{}: {}\n", visible(&f.rule), visible(&f.message));
    }
    out
}

/// The longest line a snippet shows. miette pads up to a label's column with a formatting
/// width, which panics past 65,535 columns; a line that long shows nothing readable anyway.
const MAX_SNIPPET_LINE: usize = 4096;

/// Whether the lines a finding's labels sit on are short enough to show.
fn snippet_fits(file: &crate::source::SourceFile, f: &Finding) -> bool {
    let locs = std::iter::once(f.loc).chain(f.related.iter().map(|r| r.loc));
    locs.filter(|l| l.file == f.loc.file)
        .flat_map(|l| [l.start, l.end])
        .all(|offset| file.line_text(file.line_col(offset).0).len() <= MAX_SNIPPET_LINE)
}

/// Every finding, then (pull-request mode) the ones the base revision had too, one line each,
/// then a summary line.
pub fn emit(report: &Report, out: &mut dyn Write, opts: HumanOptions) -> io::Result<()> {
    let existing = |f: &&Finding| f.baseline == Some(Baseline::Existing);
    for f in report.active().filter(|f| !existing(f)) {
        write!(out, "{}", render_finding(f, report, opts))?;
        writeln!(out)?;
    }
    existing_section(report, out, report.active().filter(existing).collect())?;
    if opts.quiet {
        return Ok(());
    }
    let s = report.summary;
    if report.active().any(|f| !existing(&f)) {
        let notes = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Note)
            .count();
        let mut parts = vec![
            format!("{} error{}", s.errors, if s.errors == 1 { "" } else { "s" }),
            format!(
                "{} warning{}",
                s.warnings,
                if s.warnings == 1 { "" } else { "s" }
            ),
        ];
        if notes > 0 {
            parts.push(format!("{notes} note{}", if notes == 1 { "" } else { "s" }));
        }
        writeln!(
            out,
            "✖ {} in {} overlays ({} resources{}{})",
            parts.join(", "),
            s.overlays,
            s.resources,
            suppressed(s.suppressed, "; "),
            new_and_existing(s, "; ")
        )
    } else {
        writeln!(
            out,
            "✔ no {}findings in {} overlays ({} resources{}{})",
            if s.existing.unwrap_or(0) > 0 {
                "new "
            } else {
                ""
            },
            s.overlays,
            s.resources,
            suppressed(s.suppressed, "; "),
            match s.existing {
                Some(e) if e > 0 => format!("; {e} existing"),
                _ => String::new(),
            }
        )
    }
}

/// Pull-request mode: the findings the base revision had too, collapsed to a line each (where,
/// which rule, what) under a heading that says why they are there.
fn existing_section(report: &Report, out: &mut dyn Write, found: Vec<&Finding>) -> io::Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "existing findings ({}): the base revision has them too; they fail the run only with `--fail-on all`",
        found.len()
    )?;
    for f in found {
        let at = report
            .location(f)
            .map_or_else(|| "-".into(), |p| format!("{}:{}", p.file, p.line));
        let within = [f.app.as_deref(), f.environment.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/");
        let line = format!(
            "  {} {at} {} [{within}] {}",
            f.severity.as_str(),
            f.rule,
            f.message.lines().next().unwrap_or("")
        );
        writeln!(out, "{}", visible(&line))?;
    }
    writeln!(out)
}

/// Pull-request mode: `"; 3 new, 12 existing"`, else nothing.
pub(crate) fn new_and_existing(s: &crate::diag::Summary, sep: &str) -> String {
    match (s.new, s.existing) {
        (Some(n), Some(e)) => format!("{sep}{n} new, {e} existing"),
        _ => String::new(),
    }
}

/// `"; 2 suppressed"`, or nothing.
pub(crate) fn suppressed(n: usize, sep: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{sep}{n} suppressed")
    }
}
