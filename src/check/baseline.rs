//! Pull-request mode: which findings the change brings and which the base revision already had.
//!
//! The rules run a second time on the base revision's renders of the apps the change affects
//! (and only when their head run found something: a clean app needs no comparison), and each
//! head finding is matched against those by an identity that survives line shifts and reworded
//! values: rule, app, environment, object (kind, namespace and name, a generated name's content
//! hash taken off) and field path. A finding about no field (a patch that matches nothing, an
//! overlay CODEOWNERS misses) is known by its file and message instead, the base revision's label
//! taken out of both. Matching counts: a base finding vouches for one head finding, so a second
//! container missing limits is new even when the first one already was.
//!
//! Rules that only run in pull-request mode judge the change itself (what production gains, which
//! digest it moves to): their findings are new by definition and never run at the base.

use std::collections::HashMap;

use crate::diag::{Baseline, Finding};
use crate::rules;
use crate::source::Sources;

/// What makes two findings the same one across revisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Identity {
    rule: String,
    app: Option<String>,
    environment: Option<String>,
    object: Option<(String, String, String)>,
    field: Option<String>,
    /// File and message, for findings about no field.
    about: Option<(String, String)>,
}

/// A generated ConfigMap's or Secret's name without the content hash kustomize appends (it
/// changes with every value).
fn without_hash(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stem, h)) if h.len() == 10 && h.bytes().all(|b| b.is_ascii_alphanumeric()) => stem,
        _ => name,
    }
}

fn identity(f: &Finding, sources: &Sources, label: &str) -> Identity {
    let unlabel = |s: &str| s.replace(label, "");
    let object = f.resource.as_ref().map(|r| {
        let name = match r.kind.as_str() {
            "ConfigMap" | "Secret" => without_hash(&r.name),
            _ => &r.name,
        };
        (r.kind.clone(), r.namespace.clone(), name.to_string())
    });
    let about = f.field.is_none().then(|| {
        let file = f
            .position(sources)
            .map(|p| unlabel(&p.file))
            .unwrap_or_default();
        (file, unlabel(&f.message))
    });
    Identity {
        rule: f.rule.clone(),
        app: f.app.clone(),
        environment: f.environment.clone(),
        object,
        field: f.field.clone(),
        about,
    }
}

/// Whether a finding's rule runs at the base revision at all (rules of the change itself do not;
/// neither are inputs that could not be evaluated compared).
pub(super) fn comparable(f: &Finding) -> bool {
    !f.fatal && rules::lookup(&f.rule).is_some_and(|r| !r.pull_request_only)
}

/// The base revision's findings, with the sources their locations are in.
pub(super) struct AtBase<'a> {
    pub(super) findings: &'a [Finding],
    pub(super) sources: &'a Sources,
}

/// Marks each head finding new or existing against the base revision's findings; `label` is
/// what the base revision's file names start with (`<rev>:`). Inputs that could not be evaluated
/// stay unmarked: they fail the run whatever it compares.
pub(super) fn mark(head: &mut [Finding], sources: &Sources, base: AtBase, label: &str) {
    let mut at_base: HashMap<Identity, usize> = HashMap::new();
    for f in base.findings.iter().filter(|f| comparable(f)) {
        *at_base.entry(identity(f, base.sources, label)).or_default() += 1;
    }
    for f in head.iter_mut().filter(|f| !f.fatal) {
        let existing = comparable(f)
            && at_base
                .get_mut(&identity(f, sources, label))
                .is_some_and(|n| {
                    let had = *n > 0;
                    *n = n.saturating_sub(1);
                    had
                });
        f.baseline = Some(if existing {
            Baseline::Existing
        } else {
            Baseline::New
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{ResourceRef, Severity};
    use crate::source::Loc;

    fn finding(sources: &Sources, file: &str, line: usize, field: Option<&str>) -> Finding {
        let text: String = (1..=line).map(|i| format!("l{i}\n")).collect();
        let id = sources.add(file, text.clone().into());
        let mut f = Finding::new("promotion-drift", Severity::Error, "differs");
        f.app = Some("a".into());
        f.environment = Some("prod".into());
        f.field = field.map(str::to_string);
        f.resource = Some(ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "prod".into(),
            name: format!("cfg-{}", if line > 3 { "5tf8mh8t9m" } else { "b7hg2kb4f6" }),
        });
        f.loc = Loc::new(id, text.len() - 3, text.len() - 1);
        f
    }

    fn at<'a>(findings: &'a [Finding], sources: &'a Sources) -> AtBase<'a> {
        AtBase { findings, sources }
    }

    /// Same rule, app, environment, object and field: existing, though the line moved and the
    /// generated name's hash changed; one base finding vouches for one head finding only.
    #[test]
    fn identity_survives_line_shifts_and_counts() {
        let sources = Sources::new();
        let base = vec![finding(&sources, "rev:a/prod/cm.yaml", 2, Some("data.X"))];
        let mut head = vec![
            finding(&sources, "a/prod/cm.yaml", 7, Some("data.X")),
            finding(&sources, "a/prod/cm.yaml", 8, Some("data.X")),
            finding(&sources, "a/prod/cm.yaml", 9, Some("data.Y")),
        ];
        mark(&mut head, &sources, at(&base, &sources), "rev:");
        let states: Vec<_> = head.iter().map(|f| f.baseline).collect();
        assert_eq!(
            states,
            [
                Some(Baseline::Existing),
                Some(Baseline::New),
                Some(Baseline::New)
            ]
        );
    }

    /// Without a field, file (the revision's label taken off) and message decide.
    #[test]
    fn fieldless_findings_are_known_by_file_and_message() {
        let sources = Sources::new();
        let base = vec![finding(&sources, "rev:a/prod/p.yaml", 2, None)];
        let mut head = vec![
            finding(&sources, "a/prod/p.yaml", 5, None),
            finding(&sources, "a/prod/q.yaml", 5, None),
        ];
        mark(&mut head, &sources, at(&base, &sources), "rev:");
        assert_eq!(head[0].baseline, Some(Baseline::Existing));
        assert_eq!(head[1].baseline, Some(Baseline::New));
    }
}
