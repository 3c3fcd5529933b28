//! `kustodian envs`: the environments a check will check, as a table (human) or JSON
//! ([`crate::discover::listing::Listing`], `schemas/envs.schema.json`).

use std::fmt::Write;

use crate::discover::listing::Listing;

/// The human listing: one line per environment, grouped by app, then the compared pairs and
/// anything discovery could not follow.
pub fn human(l: &Listing) -> String {
    let mut out = String::new();
    let w = |f: fn(&crate::discover::listing::ListedEnv) -> usize| {
        l.environments.iter().map(f).max().unwrap_or(0)
    };
    let (wa, we, wp) = (
        w(|e| e.app.chars().count()).max(3),
        w(|e| e.environment.chars().count()).max(11),
        w(|e| e.path.chars().count()).max(4),
    );
    let _ = writeln!(
        out,
        "{:<wa$}  {:<we$}  {:<10}  {:<wp$}  SOURCE",
        "APP", "ENVIRONMENT", "STAGE", "PATH"
    );
    for e in &l.environments {
        let stage = e.stage.map_or("-", |s| s.as_str());
        let source = match (&e.source.file, e.source.line) {
            (Some(f), Some(n)) => format!("{} {f}:{n}", e.source.kind.describe()),
            _ => e.source.kind.describe().to_string(),
        };
        let _ = writeln!(
            out,
            "{:<wa$}  {:<we$}  {:<10}  {:<wp$}  {source}",
            printable(&e.app),
            printable(&e.environment),
            stage,
            printable(&e.path),
        );
    }
    if !l.pairs.is_empty() {
        let _ = writeln!(
            out,
            "\ncompared by the promotion rules (staging → production):"
        );
        for p in &l.pairs {
            let _ = writeln!(out, "  {}: {} → {}", p.app, p.staging, p.production);
        }
    }
    for (title, list) in [
        ("pointing at nothing", &l.missing),
        ("not rendered", &l.notes),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for n in list {
            let at = match (&n.file, n.line) {
                (Some(f), Some(line)) => format!("{f}:{line}: "),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {at}{}", printable(&n.message));
        }
    }
    let _ = writeln!(
        out,
        "\n{} environment(s) of {} app(s)",
        l.environments.len(),
        l.environments
            .iter()
            .map(|e| e.app.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    out
}

/// Text from the repository with control characters shown as escapes: a name cannot move the
/// cursor or rewrite the terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
