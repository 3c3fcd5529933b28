//! `versions --format markdown` (and `VERSIONS.md`): a GitHub-flavoured markdown table per app,
//! environments as columns in promotion order. Everything printed comes from the data: without
//! history the document depends on the tree alone (what `--check` compares); with it, cells also
//! name the commit that set each value and the history is listed in a collapsed section.
//! [`changes`] renders pull-request mode's versions diff for the step summary.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{marker_long, marker_short, rows};
use crate::promotion::history::CommitInfo;
use crate::promotion::images::ImageRef;
use crate::promotion::versions::{AppVersions, ImageVersion, VersionChange, Versions};

/// Writes the markdown document: a table per app (what `VERSIONS.md` holds).
pub fn emit(v: &Versions, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(document(v).as_bytes())
}

/// The whole document.
pub(crate) fn document(v: &Versions) -> String {
    let mut md = String::from("# Versions\n\n");
    md.push_str(
        "What each environment runs, rendered from this repository by `kustodian versions`.\n",
    );
    if let Some(rev) = &v.revision {
        let _ = writeln!(md, "Commits are read from the history of `{}`.", short(rev));
    }
    if v.apps.is_empty() {
        md.push_str("\nNo apps found.\n");
    }
    for app in &v.apps {
        app_section(app, v.revision.is_some(), &mut md);
    }
    md
}

fn app_section(app: &AppVersions, with_commits: bool, md: &mut String) {
    if app
        .environments
        .iter()
        .all(|e| e.images.is_empty() && e.error.is_none())
    {
        let envs: Vec<String> = app
            .environments
            .iter()
            .map(|e| cell(&e.environment))
            .collect();
        let _ = write!(
            md,
            "\n## {}\n\nNo container images in {}.\n",
            cell(&app.app),
            envs.join(", ")
        );
        return;
    }
    let _ = write!(md, "\n## {}\n\n| Image |", cell(&app.app));
    for e in &app.environments {
        let _ = write!(md, " {} |", cell(&e.environment));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(app.environments.len()));
    md.push('\n');
    let mut notes = Vec::new();
    for (repo, cells) in rows(app) {
        let _ = write!(md, "| `{}` |", code(&repo));
        for (env, images) in app.environments.iter().zip(&cells) {
            let parts: Vec<String> = images
                .iter()
                .map(|img| image_cell(img, with_commits))
                .collect();
            let text = if parts.is_empty() {
                "–".to_string()
            } else {
                parts.join("<br>")
            };
            let _ = write!(md, " {text} |");
            for img in images {
                for m in &img.markers {
                    if let Some(n) = marker_long(m) {
                        notes.push(format!("{} `{}`: {n}", cell(&env.environment), code(&repo)));
                    }
                }
            }
        }
        md.push('\n');
    }
    for e in &app.environments {
        if let Some(err) = &e.error {
            let at = err
                .location
                .as_ref()
                .map(|p| format!(" (`{}:{}`)", code(&p.file), p.line))
                .unwrap_or_default();
            notes.push(format!(
                "{} does not render: {}{at}",
                cell(&e.environment),
                cell(&err.message)
            ));
        }
    }
    if !notes.is_empty() {
        md.push('\n');
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    if with_commits {
        history(app, md);
    }
}

/// One image in a cell: version, markers, commit, the line that sets it.
fn image_cell(img: &ImageVersion, with_commits: bool) -> String {
    let mut s = format!("`{}`", code(&img.image.short_version()));
    for m in &img.markers {
        let _ = write!(s, " ({})", cell(&marker_short(m)));
    }
    if with_commits {
        match &img.commit {
            Some(c) => {
                let _ = write!(s, "<br>{} · {}", short(&c.sha), date(c));
            }
            None => s.push_str("<br>uncommitted"),
        }
    }
    if let Some(p) = &img.location {
        let _ = write!(s, "<br>`{}:{}`", code(&p.file), p.line);
    }
    s
}

/// The values each image had, per environment, in a collapsed section.
fn history(app: &AppVersions, md: &mut String) {
    let mut body = String::new();
    for (repo, cells) in rows(app) {
        for (env, images) in app.environments.iter().zip(&cells) {
            let Some(img) = images.first() else { continue };
            if img.history.len() < 2 {
                continue;
            }
            let _ = writeln!(body, "\n**{}** `{}`\n", cell(&env.environment), code(&repo));
            for past in &img.history {
                let versions: Vec<String> = past
                    .images
                    .iter()
                    .map(|i| format!("`{}`", code(&i.short_version())))
                    .collect();
                let _ = match &past.commit {
                    Some(c) => writeln!(
                        body,
                        "- {} — {} · {} · {} · {}",
                        versions.join(", "),
                        short(&c.sha),
                        date(c),
                        cell(&c.author),
                        cell(&c.subject)
                    ),
                    None => writeln!(body, "- {} — uncommitted", versions.join(", ")),
                };
            }
        }
    }
    if !body.is_empty() {
        let _ = write!(
            md,
            "\n<details><summary>History</summary>\n{body}\n</details>\n"
        );
    }
}

/// Pull-request mode: the images a change moves, before → after, per environment.
pub(crate) fn changes(rows: &[VersionChange]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\n### Versions\n\n| App | Environment | Image | Before | After |\n|---|---|---|---|---|\n",
    );
    // In the step summary: repository values escaped as the rest of it is (report::markdown).
    use crate::report::markdown;
    let refs = |v: &[ImageRef]| -> String {
        if v.is_empty() {
            return "(new)".into();
        }
        v.iter()
            .map(|i| markdown::code(&i.short_version(), true))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            markdown::cell(&r.app),
            markdown::cell(&r.environment),
            markdown::code(&r.repository, true),
            refs(&r.before),
            refs(&r.after)
        );
    }
    md
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

fn date(c: &CommitInfo) -> String {
    c.time.strftime("%Y-%m-%d").to_string()
}

/// Text in a table cell: pipes escaped, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside a code span in a table cell (a backtick would end the span).
fn code(s: &str) -> String {
    cell(s).replace('`', "'")
}
