//! `versions --format table`: per app, one row per image repository and one column per
//! environment in promotion order; each cell holds the version, the commit that set it and how
//! long ago, and the line that sets it. Markers are spelt out under the table, and `--history`
//! lists the last values of each image per environment.

use std::io::{self, Write};

use super::{marker_long, marker_short, rows, short_path};
use crate::promotion::history::CommitInfo;
use crate::promotion::versions::{AppVersions, ImageVersion, Versions};

/// Table options.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions {
    /// The time ages are counted to.
    pub now: jiff::Timestamp,
    /// List each image's past values (`--history`).
    pub history: bool,
}

pub fn emit(v: &Versions, out: &mut dyn Write, opts: TableOptions) -> io::Result<()> {
    if v.apps.is_empty() {
        return writeln!(out, "no apps found");
    }
    for (i, app) in v.apps.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        app_table(app, v.revision.is_some(), out, opts)?;
    }
    Ok(())
}

fn app_table(
    app: &AppVersions,
    with_commits: bool,
    out: &mut dyn Write,
    opts: TableOptions,
) -> io::Result<()> {
    writeln!(out, "{} ({})", app.app, app.dir)?;
    if app
        .environments
        .iter()
        .all(|e| e.images.is_empty() && e.error.is_none())
    {
        let envs: Vec<&str> = app
            .environments
            .iter()
            .map(|e| e.environment.as_str())
            .collect();
        return writeln!(out, "  no container images in {}", envs.join(", "));
    }
    let mut grid: Vec<Vec<Vec<String>>> = Vec::new();
    let mut header = vec![vec!["IMAGE".to_string()]];
    header.extend(app.environments.iter().map(|e| vec![e.environment.clone()]));
    grid.push(header);
    let mut notes = Vec::new();
    for (repo, cells) in rows(app) {
        let mut row = vec![vec![repo.clone()]];
        for (env, images) in app.environments.iter().zip(&cells) {
            let mut lines = Vec::new();
            for img in images {
                lines.extend(cell(img, &app.dir, with_commits, opts.now));
                for m in &img.markers {
                    if let Some(n) = marker_long(m) {
                        notes.push(format!("{} {repo}: {n}", env.environment));
                    }
                }
            }
            if images.is_empty() {
                lines.push("-".into());
            }
            row.push(lines);
        }
        grid.push(row);
    }
    write_grid(&grid, out)?;
    for e in &app.environments {
        if let Some(err) = &e.error {
            let at = err
                .location
                .as_ref()
                .map(|p| format!(" ({}:{})", p.file, p.line))
                .unwrap_or_default();
            notes.push(format!(
                "{}: does not render: {}{at}",
                e.environment, err.message
            ));
        }
    }
    for n in notes {
        writeln!(out, "  note: {n}")?;
    }
    if opts.history {
        history(app, out)?;
    }
    Ok(())
}

/// The lines of one image in one environment's cell.
fn cell(
    img: &ImageVersion,
    app_dir: &str,
    with_commits: bool,
    now: jiff::Timestamp,
) -> Vec<String> {
    let mut first = img.image.short_version();
    if !img.markers.is_empty() {
        let m: Vec<String> = img.markers.iter().map(marker_short).collect();
        first.push_str(&format!(" ({})", m.join(", ")));
    }
    let mut lines = vec![first];
    if with_commits {
        lines.push(match &img.commit {
            Some(c) => format!("{} {}", short_sha(c), age(now, c.time)),
            None => "uncommitted".into(),
        });
    }
    if let Some(p) = &img.location {
        lines.push(format!("{}:{}", short_path(app_dir, &p.file), p.line));
    }
    lines
}

/// `--history`: per image and environment, the last values with their commits.
fn history(app: &AppVersions, out: &mut dyn Write) -> io::Result<()> {
    for (repo, cells) in rows(app) {
        for (env, images) in app.environments.iter().zip(&cells) {
            let Some(img) = images.first() else { continue };
            if img.history.is_empty() {
                continue;
            }
            writeln!(out, "  history of {repo} in {}:", env.environment)?;
            let mut grid = Vec::new();
            for past in &img.history {
                let versions: Vec<String> = past
                    .images
                    .iter()
                    .map(crate::promotion::images::ImageRef::short_version)
                    .collect();
                let commit = past.commit.as_ref();
                grid.push(vec![
                    vec![format!("  {}", versions.join(", "))],
                    vec![commit.map_or("uncommitted", short_sha).to_string()],
                    vec![commit.map(date).unwrap_or_default()],
                    vec![commit.map(|c| c.author.clone()).unwrap_or_default()],
                    vec![commit.map(|c| c.subject.clone()).unwrap_or_default()],
                ]);
            }
            write_grid(&grid, out)?;
        }
    }
    Ok(())
}

fn short_sha(c: &CommitInfo) -> &str {
    c.sha.get(..7).unwrap_or(&c.sha)
}

fn date(c: &CommitInfo) -> String {
    c.time.strftime("%Y-%m-%d").to_string()
}

/// How long ago `then` was, in the largest whole unit.
pub fn age(now: jiff::Timestamp, then: jiff::Timestamp) -> String {
    let secs = now.as_second() - then.as_second();
    if secs < 0 {
        return "in the future".into();
    }
    let (n, unit) = match secs {
        s if s < 60 => return "just now".into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 60 * 86_400 => (s / 86_400, "day"),
        s if s < 730 * 86_400 => (s / (30 * 86_400), "month"),
        s => (s / (365 * 86_400), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Prints rows of multi-line cells in aligned columns, indented by two spaces.
fn write_grid(grid: &[Vec<Vec<String>>], out: &mut dyn Write) -> io::Result<()> {
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            grid.iter()
                .filter_map(|r| r.get(c))
                .flatten()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in grid {
        let height = row.iter().map(Vec::len).max().unwrap_or(0);
        for l in 0..height {
            let mut line = String::from(" ");
            for (c, cell) in row.iter().enumerate() {
                let text = cell.get(l).map_or("", String::as_str);
                line.push(' ');
                line.push_str(text);
                if c + 1 < row.len() {
                    let pad = widths[c] - text.chars().count() + 1;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_the_largest_whole_unit() {
        let t = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        let now = t(1_000_000_000);
        assert_eq!(age(now, t(1_000_000_000 - 30)), "just now");
        assert_eq!(age(now, t(1_000_000_000 - 3 * 3600)), "3 hours ago");
        assert_eq!(age(now, t(1_000_000_000 - 86_400)), "1 day ago");
        assert_eq!(age(now, t(1_000_000_000 - 90 * 86_400)), "3 months ago");
        assert_eq!(age(now, t(1_000_000_000 - 800 * 86_400)), "2 years ago");
    }
}
