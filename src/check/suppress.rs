//! Suppressions: findings waived on purpose, with a reason.
//!
//! Two sources, one effect. An inline comment `# kustodian:ignore[rule-a, rule-b] reason` on the
//! line a finding points at, or on the comment lines directly above it, waives that rule's
//! findings at that line — the line the person would otherwise edit, so the waiver sits where
//! the reviewer sees it. `.kustodian.yaml`'s `exceptions:` waive a rule by app, environment and
//! object globs, optionally until a date. A waived finding stays in the findings with its
//! [`Suppressed`] record: the human and GitHub reports leave it out, JSON and SARIF carry it
//! (SARIF as a `suppressions` entry, which code scanning shows as dismissed), and it counts for
//! neither the totals nor the exit code. Fatal findings (inputs that could not be evaluated) are
//! never waived.
//!
//! The pass runs once, after every rule, on the sorted findings: the inline lookup reads the
//! finding's line and the lines above it from the source table, so a clean repository costs
//! nothing. Only a full check (see [`unused`]) scans every file for comments, to report the ones
//! that waived nothing.

use std::collections::BTreeSet;

use crate::diag::{Finding, Severity, Suppressed};
use crate::settings::waivers::Waiver;
use crate::source::{FileId, Loc, SourceFile, Sources};

/// An inline `# kustodian:ignore[...]` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inline {
    rules: Vec<String>,
    reason: String,
    /// The comment, from its `#`.
    loc: Loc,
}

const MARKER: &str = "kustodian:ignore[";

/// The suppression comment of one line, if it has one. The marker must start a comment: a `#`
/// at the start of the line or after a blank (YAML's rule), so a `#` inside a value
/// (`url: a#b`) does not count.
fn inline_on(line: &str) -> Option<(usize, Vec<String>, String)> {
    let mut from = 0;
    while let Some(i) = line[from..].find('#').map(|i| i + from) {
        let starts_comment = i == 0 || line[..i].ends_with([' ', '\t']);
        let rest = line[i + 1..].trim_start();
        if starts_comment && let Some(body) = rest.strip_prefix(MARKER) {
            let (list, reason) = body.split_once(']')?;
            let rules = list
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            let reason = reason
                .trim()
                .trim_start_matches(['-', ':', '—'])
                .trim()
                .to_string();
            return Some((i, rules, reason));
        }
        from = i + 1;
    }
    None
}

/// The suppression comment on line `n` of a file, located (the same place for [`apply`], which
/// records what it used, and [`unused`], which looks it up).
fn inline_at(f: &SourceFile, id: FileId, n: u32) -> Option<Inline> {
    let text = f.line_text(n);
    let (col, rules, reason) = inline_on(text)?;
    let start = f.line_start(n);
    Some(Inline {
        rules,
        reason,
        loc: Loc::new(id, start + col, start + text.len()),
    })
}

/// Whether a line holds nothing but a comment.
fn comment_only(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The inline suppressions that apply to line `line` (1-based) of `file`: the line's own, and
/// those on the block of comment-only lines right above it.
fn inline_for(sources: &Sources, loc: Loc, line: u32) -> Vec<Inline> {
    let Some(f) = sources.get(loc.file) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut n = line;
    loop {
        if n != line && !comment_only(f.line_text(n)) {
            break;
        }
        out.extend(inline_at(&f, loc.file, n));
        if n <= 1 {
            break;
        }
        n -= 1;
    }
    out
}

/// What [`apply`] used, for [`unused`].
#[derive(Default)]
pub(crate) struct Used {
    /// Inline comments (by their location) and the rule ids of theirs that waived something.
    inline: BTreeSet<((u32, u32), String)>,
    /// Indexes of the exceptions that waived something.
    waivers: BTreeSet<usize>,
}

/// Marks the findings the inline comments and the configured exceptions waive.
pub(crate) fn apply(
    findings: &mut [Finding],
    waivers: &[Waiver],
    sources: &Sources,
    today: jiff::civil::Date,
) -> Used {
    let mut used = Used::default();
    for f in findings.iter_mut().filter(|f| !f.fatal) {
        if let Some(p) = sources.position(f.loc) {
            let hit = inline_for(sources, f.loc, p.line)
                .into_iter()
                .find(|s| s.rules.contains(&f.rule));
            if let Some(s) = hit {
                used.inline
                    .insert(((s.loc.file.0, s.loc.start), f.rule.clone()));
                if !s.reason.is_empty() {
                    f.suppressed = Some(Suppressed {
                        in_source: true,
                        reason: s.reason,
                        loc: s.loc,
                    });
                    continue;
                }
                // Not waived by the comment (a suppression must say why); an exception may.
                let note = "a `kustodian:ignore` comment here names this rule but gives no reason after `]`, so it waives nothing";
                f.help = Some(match f.help.take() {
                    Some(h) => format!("{h}\n{note}"),
                    None => note.to_string(),
                });
            }
        }
        if let Some((i, w)) = waivers
            .iter()
            .enumerate()
            .find(|(_, w)| !w.expired(today) && w.matches(f))
        {
            used.waivers.insert(i);
            f.suppressed = Some(Suppressed {
                in_source: false,
                reason: w.reason.clone(),
                loc: w.loc,
            });
        }
    }
    used
}

/// What a check knows of its rules, for judging waivers.
pub(crate) struct Scope<'a> {
    /// The check saw every app and environment (not a pull request, filter or shard).
    pub(crate) full: bool,
    /// Whether a rule ran (false: turned off, or pull-request only).
    pub(crate) ran: &'a dyn Fn(&str) -> bool,
    /// Whether an id names a rule: built in, custom, or imported by this run.
    pub(crate) known: &'a dyn Fn(&str) -> bool,
    /// The app a file belongs to.
    pub(crate) app_of: &'a dyn Fn(&str) -> Option<String>,
}

/// `unused-suppression` findings: expired exceptions always; on a full check, also every
/// exception and inline comment that waived nothing — except for rules that did not run — and
/// every one naming no rule of the run.
pub(crate) fn unused(
    used: &Used,
    waivers: &[Waiver],
    sources: &Sources,
    today: jiff::civil::Date,
    scope: Scope,
) -> Vec<Finding> {
    let Scope {
        full,
        ran,
        known,
        app_of,
    } = scope;
    let id_rule = crate::rules::unused_suppression::INFO.id;
    let mut out = Vec::new();
    for (i, w) in waivers.iter().enumerate() {
        let msg = if w.expired(today) {
            format!(
                "the exception for {} expired on {} and waives nothing any more",
                w.rule,
                w.expires.map(|d| d.to_string()).unwrap_or_default()
            )
        } else if full && w.imported && !known(&w.rule) {
            format!(
                "the exception names '{}', which is no rule of this check: not built in, not a custom rule, and no admission policy or Rego rule it loaded has that id",
                w.rule
            )
        } else if full && !used.waivers.contains(&i) && ran(&w.rule) {
            format!("the exception for {} matched no finding", w.rule)
        } else {
            continue;
        };
        let mut f = Finding::new(id_rule, Severity::Warning, msg);
        f.loc = w.loc;
        f.help = Some(format!("reason given: {}", w.reason));
        out.push(f);
    }
    if !full {
        return out;
    }
    for (id, file) in sources.files() {
        if !file.text.contains(MARKER) {
            continue;
        }
        for n in 1..=file.line_count() {
            let Some(Inline { rules, loc, .. }) = inline_at(&file, id, n) else {
                continue;
            };
            for r in rules {
                if used.inline.contains(&((id.0, loc.start), r.clone())) {
                    continue;
                }
                let msg = if !known(&r) {
                    format!("'{r}' is not a rule id (see `kustodian rules`)")
                } else if !ran(&r) {
                    continue;
                } else {
                    format!("this suppression of {r} matched no finding")
                };
                let mut f = Finding::new(id_rule, Severity::Warning, msg);
                f.loc = loc;
                f.app = app_of(&file.path);
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_read_only_where_yaml_has_comments() {
        assert_eq!(
            inline_on("  image: nginx # kustodian:ignore[image-not-pinned, schema-missing] vendor"),
            Some((
                15,
                vec!["image-not-pinned".into(), "schema-missing".into()],
                "vendor".into()
            ))
        );
        assert_eq!(
            inline_on("# kustodian:ignore[a] -- why").map(|x| x.2),
            Some("why".into())
        );
        assert_eq!(inline_on("url: http://x#kustodian:ignore[a] no"), None);
        assert_eq!(inline_on("# kustodian:ignore[a").map(|x| x.1), None);
        assert_eq!(
            inline_on("x: 1 #kustodian:ignore[a]").map(|x| x.2),
            Some(String::new())
        );
    }
}
