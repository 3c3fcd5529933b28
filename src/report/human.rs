//! `--format human`: diagnostics with source snippets, for terminals and CI logs.
//!
//! Each finding becomes a miette diagnostic: the rule id as its code, the app/environment and the
//! resource as context, the primary location as a labelled snippet, related locations in the same
//! file as extra labels (other files are listed as notes), and the rule's help. Without a terminal
//! (or with `NO_COLOR`) output is plain and deterministic, which is what the snapshot tests pin.

use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::diag::{Finding, Severity};
use crate::report::Report;

/// Rendering options.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> HumanOptions {
        HumanOptions {
            color: false,
            width: 110,
        }
    }
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
    let sources = report.sources;
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
    let mut diag = MietteDiagnostic::new(message)
        .with_code(f.rule.clone())
        .with_severity(severity(f.severity));
    let mut notes = Vec::new();
    let file = sources.get(f.loc.file);
    let file = match file {
        Some(file) if !snippet_fits(&file, f) => {
            if let Some(p) = sources.position(f.loc) {
                notes.push(format!(
                    "at {}:{}:{} (the line is too long to show)",
                    p.file, p.line, p.column
                ));
            }
            None
        }
        file => file,
    };
    if let Some(file) = &file {
        let len = (f.loc.end.saturating_sub(f.loc.start)) as usize;
        let label = f
            .field
            .as_ref()
            .cloned()
            .unwrap_or_else(|| "here".to_string());
        diag = diag.and_label(LabeledSpan::new_primary_with_span(
            Some(label),
            (f.loc.start as usize, len.max(1)),
        ));
        for r in &f.related {
            if r.loc.file == f.loc.file {
                let len = (r.loc.end.saturating_sub(r.loc.start)) as usize;
                diag = diag.and_label(LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    (r.loc.start as usize, len.max(1)),
                ));
            } else if let Some(p) = sources.position(r.loc) {
                notes.push(format!("{}: {}:{}:{}", r.message, p.file, p.line, p.column));
            }
        }
        let _ = file;
    } else {
        if let Some(p) = &f.path {
            notes.push(format!("in {p}"));
        }
        for r in &f.related {
            if let Some(p) = sources.position(r.loc) {
                notes.push(format!("{}: {}:{}:{}", r.message, p.file, p.line, p.column));
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
        diag = diag.with_help(help);
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
    let report = match file {
        Some(file) => miette::Report::new(diag)
            .with_source_code(NamedSource::new(file.path.clone(), file.text.to_string())),
        None => miette::Report::new(diag),
    };
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{}: {}\n", f.rule, f.message);
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

/// Every finding, then a summary line.
pub fn emit(report: &Report, out: &mut dyn Write, opts: HumanOptions) -> io::Result<()> {
    for f in report.active() {
        write!(out, "{}", render_finding(f, report, opts))?;
        writeln!(out)?;
    }
    let s = report.summary;
    if report.active().next().is_none() {
        writeln!(
            out,
            "✔ no findings in {} overlays ({} resources{})",
            s.overlays,
            s.resources,
            suppressed(s.suppressed, "; ")
        )
    } else {
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
            "✖ {} in {} overlays ({} resources{})",
            parts.join(", "),
            s.overlays,
            s.resources,
            suppressed(s.suppressed, "; ")
        )
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
