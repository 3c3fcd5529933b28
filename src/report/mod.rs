//! Output formats: one emitter per format, all reading the same [`Report`].
//!
//! Emitters write to any `io::Write`; the CLI decides where (stdout, or a file written
//! atomically). A report is data only — findings, totals, the pull request's rendered changes and
//! the rule descriptors — so nothing here reaches back into the check engine or the rules.
//! Locations are resolved through [`crate::source::Sources`] only here, at the end of the
//! pipeline, and named the way every consumer expects them: relative to the git work tree (a
//! check of `deploy/` in a monorepo names `deploy/apps/…`, the path a pull request's diff and
//! code scanning know), see [`PathBase`].

pub mod envs;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod promotion;
pub mod sarif;
pub mod versions;

use std::path::PathBuf;

use crate::diag::{EnvChange, Finding, RuleDescriptor, Summary};
use crate::source::{Loc, Position, Sources};

/// How a report names files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathBase {
    /// The checked directory relative to the git work tree, with a trailing `/` (`deploy/`);
    /// empty when it is the work tree's top, or not inside one.
    pub prefix: String,
    /// The absolute directory report paths are relative to (the git work tree, else the checked
    /// directory): SARIF's `%SRCROOT%`.
    pub root: Option<PathBuf>,
    /// Labels (`<rev>:`) of files read from another revision: their paths keep the label in
    /// front, the prefix goes after it.
    pub revision_labels: Vec<String>,
}

static NO_PATHS: PathBase = PathBase {
    prefix: String::new(),
    root: None,
    revision_labels: Vec::new(),
};

impl PathBase {
    /// Paths relative to `work_tree`, for a check of `work_tree/rel`.
    pub fn new(work_tree: PathBuf, rel: &str) -> PathBase {
        let rel = rel.trim_matches('/');
        PathBase {
            prefix: if rel.is_empty() {
                String::new()
            } else {
                format!("{rel}/")
            },
            root: Some(work_tree),
            revision_labels: Vec::new(),
        }
    }

    /// The report's name for a file the engine names relative to the checked directory (a
    /// fetched remote base's file keeps its URL name).
    pub fn path(&self, display: &str) -> String {
        if self.prefix.is_empty() || crate::source::remote::is_fetched_path(display) {
            return display.to_string();
        }
        for label in &self.revision_labels {
            if let Some(rest) = display.strip_prefix(label.as_str()) {
                return format!("{label}{}{rest}", self.prefix);
            }
        }
        format!("{}{display}", self.prefix)
    }

    /// True when a (report) path names a file of another revision, not of the work tree.
    pub fn is_revision(&self, path: &str) -> bool {
        self.revision_labels
            .iter()
            .any(|l| path.starts_with(l.as_str()))
    }

    /// True when a (report) path names a file of the work tree: not of another revision, not
    /// of a fetched remote base. Only those may be annotated in a pull request or code scanning.
    pub fn in_work_tree(&self, path: &str) -> bool {
        !self.is_revision(path) && !crate::source::remote::is_fetched_path(path)
    }

    /// The checked directory itself, as reports name it (`.` at the top).
    pub fn checked_dir(&self) -> &str {
        match self.prefix.strip_suffix('/') {
            Some(p) => p,
            None => ".",
        }
    }
}

/// Everything an emitter needs.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
    pub sources: &'a Sources,
    /// Pull-request mode: what changed per affected overlay (the step summary shows it).
    pub changes: &'a [EnvChange],
    /// The rules (and input errors) a format may describe (SARIF's `tool.driver.rules`).
    pub rules: &'a [RuleDescriptor],
    pub paths: &'a PathBase,
}

impl<'a> Report<'a> {
    /// A report of findings alone: no pull-request changes, no rule descriptors, paths as the
    /// engine names them.
    pub fn new(findings: &'a [Finding], summary: &'a Summary, sources: &'a Sources) -> Report<'a> {
        Report {
            findings,
            summary,
            sources,
            changes: &[],
            rules: &[],
            paths: &NO_PATHS,
        }
    }

    /// The findings that count: all but the suppressed ones (which only JSON and SARIF carry).
    pub fn active(&self) -> impl Iterator<Item = &'a Finding> + Clone + use<'a> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    fn named(&self, p: Position) -> Position {
        Position {
            file: self.paths.path(&p.file),
            ..p
        }
    }

    /// Where a location is, as reports name it.
    pub fn position(&self, loc: Loc) -> Option<Position> {
        self.sources.position(loc).map(|p| self.named(p))
    }

    /// A finding's primary position (file:line:col), as reports name it.
    pub fn location(&self, f: &Finding) -> Option<Position> {
        match &f.resolved {
            Some(r) => r.start.clone(),
            None => f.position(self.sources).map(|p| self.named(p)),
        }
    }

    /// Start and end (line, column) of a finding's primary location.
    pub fn span(&self, f: &Finding) -> Option<(Position, Position)> {
        if let Some(r) = &f.resolved {
            let start = r.start.clone()?;
            let end = r.end.clone().unwrap_or_else(|| start.clone());
            return Some((start, end));
        }
        let start = self.location(f)?;
        let end = if f.loc.is_some() && f.loc.end > f.loc.start {
            self.position(Loc {
                start: f.loc.end,
                ..f.loc
            })
            .unwrap_or_else(|| start.clone())
        } else {
            start.clone()
        };
        Some((start, end))
    }

    /// Each related location's position (when known) with its message.
    pub fn related(&self, f: &'a Finding) -> Vec<(Option<Position>, &'a str)> {
        f.related
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = match &f.resolved {
                    Some(res) => res.related.get(i).cloned().flatten(),
                    None => self.position(r.loc),
                };
                (p, r.message.as_str())
            })
            .collect()
    }

    /// Where the waiver of a suppressed finding is written.
    pub fn suppressed_at(&self, f: &Finding) -> Option<Position> {
        match &f.resolved {
            Some(r) => r.suppressed.clone(),
            None => self.position(f.suppressed.as_ref()?.loc),
        }
    }

    /// The text of a finding's primary line (empty when unknown).
    pub fn line_text(&self, f: &Finding) -> String {
        let Some(p) = f.position(self.sources) else {
            return String::new();
        };
        self.sources
            .get(f.loc.file)
            .map(|sf| sf.line_text(p.line).trim().to_string())
            .unwrap_or_default()
    }
}

/// A stable identity per finding, in `report.findings` order: a hash of what the finding is about
/// (rule, file, the text of its line, resource, environment, field path) and a counter that tells
/// identical ones apart (`<hash>:1`, `<hash>:2`, …, in report order). Two containers with the
/// same `image:` line differ by field path; SARIF's `primaryLocationLineHash` and GitLab's
/// `fingerprint` use it, so code scanning never merges different alerts.
pub fn fingerprints(report: &Report) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    report
        .findings
        .iter()
        .map(|f| {
            let file = report.location(f).map(|p| p.file).unwrap_or_default();
            let resource = f
                .resource
                .as_ref()
                .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
                .unwrap_or_default();
            let digest = Sha256::digest(
                [
                    f.rule.as_str(),
                    &file,
                    &report.line_text(f),
                    &resource,
                    f.environment.as_deref().unwrap_or(""),
                    f.field.as_deref().unwrap_or(""),
                ]
                .join("\u{0}")
                .as_bytes(),
            );
            let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let n = seen.entry(hash.clone()).or_default();
            *n += 1;
            format!("{hash}:{n}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;

    /// Findings alike in everything still get distinct fingerprints: the counter tells them
    /// apart, in report order.
    #[test]
    fn identical_findings_are_counted_apart() {
        let sources = Sources::new();
        let file = sources.add("apps/a/base/d.yaml", "image: x\nimage: x\n".into());
        let mut findings = Vec::new();
        for start in [0, 9, 0] {
            let mut f = Finding::new("r", Severity::Error, "m");
            f.loc = Loc::new(file, start, start + 5);
            findings.push(f);
        }
        let summary = Summary::default();
        let prints = fingerprints(&Report::new(&findings, &summary, &sources));
        let (hash, n) = prints[0].split_once(':').unwrap();
        assert_eq!(n, "1");
        assert_eq!(
            prints[1],
            format!("{hash}:2"),
            "same line text, same everything"
        );
        assert_eq!(prints[2], format!("{hash}:3"));
        let mut with_field = findings[0].clone();
        with_field.field = Some("spec.containers[name=b].image".into());
        let prints = fingerprints(&Report::new(
            std::slice::from_ref(&with_field),
            &summary,
            &sources,
        ));
        assert!(
            !prints[0].starts_with(hash),
            "the field path is part of the identity"
        );
    }

    #[test]
    fn paths_get_the_work_tree_prefix_after_a_revision_label() {
        let mut p = PathBase::new("/repo".into(), "deploy");
        p.revision_labels.push("abc123:".into());
        assert_eq!(p.path("apps/x.yaml"), "deploy/apps/x.yaml");
        assert_eq!(p.path("abc123:apps/x.yaml"), "abc123:deploy/apps/x.yaml");
        assert_eq!(p.checked_dir(), "deploy");
        assert!(p.is_revision("abc123:deploy/apps/x.yaml"));
        assert_eq!(PathBase::new("/repo".into(), "").checked_dir(), ".");
    }
}
