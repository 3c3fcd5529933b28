//! Findings: the one data type every rule produces and every report format consumes.
//!
//! Rules never print. They push [`Finding`]s into a [`Collector`]; the check engine sorts them
//! deterministically and hands them to one emitter per output format (`report::*`). Locations are
//! kept as [`Loc`]s (file id + byte range) until the very end so the human emitter can show source
//! snippets; the JSON/SARIF/GitHub emitters resolve them to `file:line:column` via [`Sources`].

use std::sync::Mutex;

use serde::Serialize;

use crate::source::{Loc, Position, Sources};

/// Severity, as data from the policy (a rule has a default; the policy may change it). By
/// default an `error` fails the run (exit 1), a `warning` fails it only with
/// `--fail-on warning`, and a `note` never does.
// Values documented above, not per variant: variant docs would make the generated JSON Schema
// a `oneOf` of constants instead of an `enum`, and change the messages validation reports.
#[allow(missing_docs)]
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    /// The lowercase name reports and policies use (`error`, `warning`, `note`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Codes of findings that mean "could not evaluate" (exit code 2) rather than a policy
/// violation. They sit in the same id space as rules (`kustodian rules` and SARIF list them with
/// the rules), so they are data here rather than strings compared by suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The repository configuration (`.kustodian.yaml`), the repository itself, or a
    /// command-line value could not be read or is invalid.
    Config,
    /// A policy file is invalid.
    Policy,
    /// An overlay could not be rendered (invalid YAML, a missing file, a kustomization error, an
    /// unsupported feature, a path escaping the repository).
    Render,
}

impl ErrorCode {
    /// Every error code, in documentation order.
    pub const ALL: [ErrorCode; 3] = [ErrorCode::Render, ErrorCode::Config, ErrorCode::Policy];

    /// The stable id findings carry.
    pub fn id(self) -> &'static str {
        match self {
            ErrorCode::Config => "config-error",
            ErrorCode::Policy => "policy-error",
            ErrorCode::Render => "render-error",
        }
    }

    /// One line on what it means.
    pub fn summary(self) -> &'static str {
        match self {
            ErrorCode::Config => {
                "The repository configuration (.kustodian.yaml), the repository itself, or a command-line value is invalid or unreadable."
            }
            ErrorCode::Policy => "The policy file is invalid.",
            ErrorCode::Render => {
                "An overlay could not be rendered (invalid YAML, missing file, kustomization error, unsupported feature)."
            }
        }
    }

    /// The code with this id, if `id` is one.
    pub fn from_id(id: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// The Kubernetes object a finding is about.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub(crate) struct ResourceRef {
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// A secondary location with a label ("limits were set here", "base value").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Related {
    pub(crate) loc: Loc,
    pub(crate) message: String,
}

/// One problem found. `rule` is a stable kebab-case id from the registry, or `render-error` /
/// `config-error` for inputs that could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable kebab-case id: a rule (`image-not-pinned`) or an [`ErrorCode`] id (`render-error`).
    pub rule: String,
    pub(crate) severity: Severity,
    /// One sentence for the person editing the file: what is wrong and, where it helps, what to
    /// do instead.
    pub message: String,
    pub(crate) app: Option<String>,
    /// The environment (overlay) the finding is in, as discovery names it; several joined with
    /// `, ` when one source line is found in several; `None` for repository-wide findings.
    pub environment: Option<String>,
    pub(crate) resource: Option<ResourceRef>,
    /// Field path in the rendered object (`spec.template.spec.containers[name=api].image`).
    pub(crate) field: Option<String>,
    /// Where to edit. `Loc::NONE` when unknown.
    pub(crate) loc: Loc,
    /// A file to name when `loc` is unknown (e.g. a missing file).
    pub(crate) path: Option<String>,
    pub(crate) related: Vec<Related>,
    /// Extra text shown after the message (a rendered diff, a hint).
    pub(crate) help: Option<String>,
    /// True when the finding means "could not evaluate" (exit code 2), not a policy violation.
    pub fatal: bool,
    /// Set when an inline comment or a configured exception waives the finding: it is then
    /// reported as suppressed (JSON, SARIF) and counts for nothing.
    pub suppressed: Option<Suppressed>,
    /// Pull-request mode: whether the finding is new with the change or already held at the base
    /// revision (`None` outside pull-request mode).
    pub(crate) baseline: Option<Baseline>,
    /// Positions already resolved elsewhere: a finding read back from a JSON report (by
    /// `merge-reports`) has no source text, only the positions that report names. They take the
    /// place of `loc`, `related[].loc` and `suppressed.loc`.
    pub(crate) resolved: Option<Box<Resolved>>,
}

/// Pull-request mode: a finding the change brings, or one the base revision already had (same
/// rule, app, environment, object and field: see `check::baseline`). Existing findings are shown
/// but fail the run only with `--fail-on all`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Baseline {
    /// Not found at the base revision: the change brings it.
    New,
    /// Found at the base revision too.
    Existing,
}

/// The positions of a finding that was read back from a report rather than found in this run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) start: Option<Position>,
    pub(crate) end: Option<Position>,
    /// One per `related` entry, in order.
    pub(crate) related: Vec<Option<Position>>,
    pub(crate) suppressed: Option<Position>,
}

/// Why a finding is waived, and where that is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// In the source next to the finding (`# kustodian:ignore[...]`), or in `.kustodian.yaml`'s
    /// `exceptions`.
    pub(crate) in_source: bool,
    /// Why, as the suppression comment or the exception says it (never empty: an inline
    /// suppression without a reason waives nothing, an exception without one is a config error).
    pub reason: String,
    pub(crate) loc: Loc,
}

impl Finding {
    pub(crate) fn new(rule: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            message: message.into(),
            app: None,
            environment: None,
            resource: None,
            field: None,
            loc: Loc::NONE,
            path: None,
            related: Vec::new(),
            help: None,
            fatal: false,
            suppressed: None,
            baseline: None,
            resolved: None,
        }
    }

    /// A fatal finding (exit code 2) with an error code.
    pub(crate) fn error_code(code: ErrorCode, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(code.id(), Severity::Error, message);
        f.fatal = true;
        f
    }

    /// Resolved primary position (file:line:col), falling back to `path` with line 1.
    pub(crate) fn position(&self, sources: &Sources) -> Option<Position> {
        if let Some(r) = &self.resolved {
            return r.start.clone();
        }
        sources.position(self.loc).or_else(|| {
            self.path.as_ref().map(|p| Position {
                file: p.clone(),
                line: 1,
                column: 1,
            })
        })
    }
}

/// Thread-safe sink for findings.
#[derive(Default)]
pub(crate) struct Collector {
    findings: Mutex<Vec<Finding>>,
}

impl Collector {
    pub(crate) fn new() -> Collector {
        Collector::default()
    }
    pub(crate) fn push(&self, f: Finding) {
        self.findings.lock().unwrap().push(f);
    }
    /// All findings, sorted by file, line, rule, message (stable output across runs and threads).
    pub(crate) fn into_sorted(self, sources: &Sources) -> Vec<Finding> {
        let v = self.findings.into_inner().unwrap();
        // Sorted once: each position is resolved once, and the other keys are compared in
        // place (thousands of findings would otherwise copy five strings each for their keys).
        let positions: Vec<Option<Position>> = v.iter().map(|f| f.position(sources)).collect();
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (&positions[a], &positions[b]);
            fn file(p: &Option<Position>) -> &str {
                p.as_ref().map_or("", |p| p.file.as_str())
            }
            let at = |p: &Option<Position>| p.as_ref().map_or((0, 0), |p| (p.line, p.column));
            let (fa, fb) = (&v[a], &v[b]);
            file(pa)
                .cmp(file(pb))
                .then_with(|| at(pa).cmp(&at(pb)))
                .then_with(|| fa.rule.cmp(&fb.rule))
                .then_with(|| fa.app.cmp(&fb.app))
                .then_with(|| fa.environment.cmp(&fb.environment))
                .then_with(|| fa.message.cmp(&fb.message))
        });
        let mut slots: Vec<Option<Finding>> = v.into_iter().map(Some).collect();
        let mut sorted: Vec<Finding> = order.iter().filter_map(|&i| slots[i].take()).collect();
        sorted.dedup();
        sorted
    }
}

/// Totals printed in every report.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Summary {
    /// Overlays (environments) checked.
    pub(crate) overlays: usize,
    /// Rendered resources across all overlays.
    pub resources: usize,
    /// Findings of severity error (including inputs that could not be evaluated).
    pub(crate) errors: usize,
    /// Findings of severity warning.
    pub(crate) warnings: usize,
    /// Findings waived by an inline suppression or a configured exception (not counted above).
    #[serde(default)]
    pub(crate) suppressed: usize,
    /// Pull-request mode: active findings the change brings (every severity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) new: Option<usize>,
    /// Pull-request mode: active findings the base revision had too (every severity); they fail
    /// the run only with `--fail-on all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) existing: Option<usize>,
}

/// What a pull request does to one environment's rendered output: the step summary shows it per
/// affected app (the check engine fills it, the GitHub emitter prints it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvChange {
    pub(crate) app: String,
    pub(crate) env: String,
    /// Image references that changed: (container, before, after); `before` is empty for a new one.
    pub(crate) images: Vec<(String, String, String)>,
    /// Unified diff of the rendered output, base → head (empty when identical).
    pub(crate) diff: String,
}

/// What a report format says about a rule (SARIF's `tool.driver.rules`): data the binary builds
/// from the rule registry, so emitters never reach into the rules themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDescriptor {
    /// Stable kebab-case id.
    pub id: String,
    /// One line: what the rule checks.
    pub summary: String,
    /// Full documentation (markdown).
    pub doc: String,
    /// `None`: off unless a policy turns it on.
    pub default_severity: Option<Severity>,
    /// Where the rule is documented on the web, when it is (a custom rule's `docs`).
    pub(crate) help_uri: Option<String>,
    /// Rules the repository declares: `custom`, `admission policy` or `rego` (`None`: built in).
    pub origin: Option<String>,
}
