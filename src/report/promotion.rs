//! `kustodian promote`'s output: per app, the images moved and the lines edited, the edits as
//! a diff (dry run), what the checks said about the promoted environment, and the outcome.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::diag::Summary;
use crate::promotion::promote::{Plan, Promotion, Status};
use crate::report::Report;
use crate::report::human;

/// How the plan was carried out.
#[derive(Clone, Debug, Default)]
pub struct Done {
    /// Nothing was written.
    pub dry_run: bool,
    /// The commit made per app (`--commit`).
    pub commits: BTreeMap<String, String>,
    /// Whether to write ANSI colours and styles.
    pub color: bool,
}

/// Writes `kustodian promote`'s human output: per promotion, the images moved, the edits
/// (as a diff on a dry run), the checks' findings and the outcome.
pub fn emit(plan: &Plan, done: &Done, out: &mut dyn Write) -> io::Result<()> {
    for (i, p) in plan.promotions.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        promotion(plan, p, done, out)?;
    }
    Ok(())
}

/// `@sha256:<12 hex>` or `:tag`.
fn short(i: &crate::promotion::images::ImageRef) -> String {
    match (&i.digest, &i.tag) {
        (Some(d), _) => format!("@{}", crate::promotion::images::short_digest(d)),
        (None, Some(t)) => format!(":{t}"),
        (None, None) => String::new(),
    }
}

fn promotion(plan: &Plan, p: &Promotion, done: &Done, out: &mut dyn Write) -> io::Result<()> {
    let from = p
        .from
        .as_deref()
        .map(|f| format!(" from {f}"))
        .unwrap_or_default();
    match &p.status {
        Status::UpToDate => {
            let runs: Vec<String> = p
                .wanted
                .iter()
                .map(|i| format!("{}{}", i.repository, short(i)))
                .collect();
            return writeln!(out, "{}/{}: already runs {}", p.app, p.to, runs.join(", "));
        }
        Status::Skipped(why) => return writeln!(out, "{}/{}: skipped: {why}", p.app, p.to),
        _ => {}
    }
    writeln!(out, "{}/{}: promote{from}", p.app, p.to)?;
    for m in &p.moves {
        writeln!(
            out,
            "  {}  {} -> {}  ({}:{}{})",
            m.repository,
            m.before.short_version(),
            m.after.short_version(),
            m.file,
            m.line,
            if m.created { ", new images: entry" } else { "" }
        )?;
    }
    if done.dry_run {
        for f in &p.files {
            let diff = similar::TextDiff::from_lines(&f.before, &f.after)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                .to_string();
            out.write_all(diff.as_bytes())?;
        }
    }
    let summary = Summary::default();
    let report = Report::new(&p.findings, &summary, &plan.sources);
    for f in &p.findings {
        let opts = human::HumanOptions {
            color: done.color,
            ..Default::default()
        };
        write!(out, "{}", human::render_finding(f, &report, opts))?;
    }
    let files = p.files.len();
    let what = format!("{files} file{}", if files == 1 { "" } else { "s" });
    match (&p.status, done.dry_run) {
        (Status::Refused, _) => writeln!(
            out,
            "refused: {}/{} would fail the checks above; nothing written (--force writes it anyway)",
            p.app, p.to
        ),
        (Status::Forced, true) => writeln!(
            out,
            "dry run: would write {what} despite the errors above (--force)"
        ),
        (Status::Ready, true) => writeln!(out, "dry run: the checks pass; would write {what}"),
        (Status::Forced, false) => writeln!(out, "wrote {what} despite the errors above (--force)"),
        (_, false) => match done.commits.get(&p.app) {
            Some(sha) => writeln!(
                out,
                "wrote {what}; committed {}: {}",
                sha.get(..7).unwrap_or(sha),
                p.commit_message()
            ),
            None => writeln!(out, "wrote {what}; the checks pass"),
        },
        _ => Ok(()),
    }
}
