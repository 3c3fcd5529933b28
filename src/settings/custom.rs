//! Custom rules: checks users write in the policy file (or `.kustodian.yaml`) under `custom:`,
//! each a CEL expression over every rendered object it matches.
//!
//! This module holds what is *written*: the typed entry (its JSON Schema is part of the policy's
//! and the config's), and the checks that need no CEL — a kebab-case id that is no built-in
//! rule's and appears once, `message` or `messageExpression` but not both, a well-formed `at`
//! path — each reported at its line. Compiling and evaluating the expressions belongs to the
//! `policies` module above the settings floor, which finds each expression's place in the file
//! through the entry's parsed [`Node`] kept here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::level::Level;
use super::stage::Stage;
use crate::diag::{ErrorCode, Finding};
use crate::source::{Loc, Sources};
use crate::yaml::Node;

/// A rule written in CEL: `expression` must hold for every object the rule matches, in every
/// environment it applies to.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomRule {
    /// Stable kebab-case id (`team-label-required`): findings, suppressions and exceptions name
    /// the rule by it. It must not be a built-in rule's id.
    pub id: String,
    /// `error` (default), `warning`, `note`, or `off`.
    pub severity: Option<Level>,
    /// Stages the rule applies to (`dev`, `staging`, `production`). Default: all.
    pub stages: Option<Vec<Stage>>,
    /// Environment names the rule applies to (in addition to `stages`).
    pub environments: Option<Vec<String>>,
    /// Globs of app names the rule applies to. Default: all apps.
    pub apps: Option<Vec<String>>,
    /// Which objects the rule checks. Default: every object.
    #[serde(rename = "match")]
    pub matches: Option<ObjectMatch>,
    /// Named CEL sub-expressions, usable as `variables.<name>` in `expression`,
    /// `messageExpression` and later variables (as in a ValidatingAdmissionPolicy).
    #[serde(default)]
    pub variables: Vec<NamedExpression>,
    /// CEL expression that must be true. Variables: `object` (the rendered object),
    /// `oldObject` (the same object at the pull request's base revision; null outside
    /// pull-request mode or for a new object), `counterpart` (the same object in the staging
    /// environment a production environment is promoted from; else null), `environment`
    /// (`{name, stage, app}`), `variables`.
    pub expression: String,
    /// The finding's message. Default: the rule id and the expression.
    pub message: Option<String>,
    /// A CEL expression giving the message (a string), with the same variables.
    pub message_expression: Option<String>,
    /// The field whose source line the finding points at (`metadata.labels`,
    /// `spec.template.spec.containers[*].resources`); the closest existing parent when absent.
    /// Default: the object.
    pub at: Option<String>,
    /// A link to the rule's documentation (shown by `kustodian explain`, SARIF `helpUri`).
    pub docs: Option<String>,
}

/// Which objects a custom rule checks. Selectors left out match everything.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMatch {
    /// Kinds (`Deployment`); `*` for any.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// API groups (`apps`; `""` for the core group); `*` for any.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// Globs of namespaces (`team-*`).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Globs of object names.
    #[serde(default)]
    pub names: Vec<String>,
    /// The object's labels must match (Kubernetes label selector).
    pub label_selector: Option<LabelSelector>,
}

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must have these values.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements on labels.
    #[serde(default)]
    pub match_expressions: Vec<LabelRequirement>,
}

/// One requirement of a label selector.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default)]
    pub values: Vec<String>,
}

/// How a label requirement compares.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum SelectorOperator {
    #[default]
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Whether labels (key → value) satisfy the selector.
    pub fn matches(&self, label: &dyn Fn(&str) -> Option<String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| label(k).as_deref() == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| {
                let have = label(&r.key);
                match r.operator {
                    SelectorOperator::In => have.is_some_and(|h| r.values.contains(&h)),
                    SelectorOperator::NotIn => have.is_none_or(|h| !r.values.contains(&h)),
                    SelectorOperator::Exists => have.is_some(),
                    SelectorOperator::DoesNotExist => have.is_none(),
                }
            })
    }
}

/// A named CEL expression.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedExpression {
    /// The name (`variables.<name>`): a CEL identifier.
    pub name: String,
    /// The CEL expression.
    pub expression: String,
}

/// One step of an `at` path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// A map key.
    Key(String),
    /// A list position.
    Index(usize),
    /// Every item of a list (`[*]`).
    Each,
}

/// Parses an `at` path: keys separated by `.`, list items as `[N]` or `[*]`, keys with dots as
/// `['app.kubernetes.io/name']`.
pub fn parse_field_path(s: &str) -> Result<Vec<PathStep>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    let bad = |why: &str| Err(format!("'{s}' is not a field path: {why}"));
    while i < b.len() {
        match b[i] {
            b'.' if i == 0 || i + 1 == b.len() || b[i + 1] == b'.' => {
                return bad("empty key");
            }
            b'.' => i += 1,
            b'[' => {
                let Some(close) = s[i..].find(']').map(|c| c + i) else {
                    return bad("'[' without ']'");
                };
                let inner = &s[i + 1..close];
                let quoted = (inner.starts_with('\'') && inner.ends_with('\''))
                    || (inner.starts_with('"') && inner.ends_with('"'));
                if inner == "*" {
                    out.push(PathStep::Each);
                } else if quoted && inner.len() >= 2 {
                    out.push(PathStep::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(n) = inner.parse::<usize>() {
                    out.push(PathStep::Index(n));
                } else {
                    return bad("write [N], [*] or ['key']");
                }
                i = close + 1;
                if i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    return bad("expected '.' or '[' after ']'");
                }
            }
            _ => {
                let end = s[i..].find(['.', '[']).map_or(s.len(), |e| e + i);
                out.push(PathStep::Key(s[i..end].to_string()));
                i = end;
            }
        }
    }
    if out.is_empty() {
        return bad("empty");
    }
    Ok(out)
}

/// Whether `id` is a kebab-case rule id.
pub fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Whether `name` is a CEL identifier.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A custom rule as declared: the entry, the file it is written in and its parsed node (for the
/// places of its expressions).
#[derive(Clone, Debug)]
pub struct CustomDecl {
    pub rule: CustomRule,
    /// The file's display path.
    pub file: String,
    /// The entry under `custom:`, as parsed (every field with its location).
    pub node: Node,
}

impl CustomDecl {
    /// Where a field of the entry is written (the entry itself when the field is absent).
    pub fn loc_of(&self, field: &str) -> Loc {
        self.node.get(field).map_or(self.node.loc, |n| n.loc)
    }
    /// Where the `index`th variable's expression is written.
    pub fn variable_loc(&self, index: usize) -> Loc {
        self.node
            .get("variables")
            .and_then(|v| v.as_seq()?.get(index))
            .map_or(self.node.loc, |v| {
                v.get("expression").map_or(v.loc, |e| e.loc)
            })
    }
}

/// Checks the `custom:` list of a loaded file (`path`, whose text the loader registered) and
/// returns the declarations, or every problem at its line.
pub fn declare(
    list: &[CustomRule],
    path: &str,
    sources: &Sources,
    is_builtin: &dyn Fn(&str) -> bool,
    code: ErrorCode,
) -> Result<Vec<CustomDecl>, Vec<Finding>> {
    if list.is_empty() {
        return Ok(vec![]);
    }
    let doc = super::load::document(sources, path);
    let entry = |i: usize| -> Node {
        doc.as_ref()
            .and_then(|d| d.get("custom")?.as_seq()?.get(i).cloned())
            .unwrap_or_else(Node::map)
    };
    let mut errs = Vec::new();
    let mut out: Vec<CustomDecl> = Vec::new();
    for (i, rule) in list.iter().enumerate() {
        let decl = CustomDecl {
            rule: rule.clone(),
            file: path.to_string(),
            node: entry(i),
        };
        let mut fail = |field: &str, msg: String| {
            let mut f = Finding::error_code(code, format!("custom[{i}] ({}): {msg}", rule.id));
            f.path = Some(path.to_string());
            f.loc = decl.loc_of(field);
            errs.push(f);
        };
        if !is_kebab_id(&rule.id) {
            fail(
                "id",
                "the id must be kebab-case (`team-label-required`)".into(),
            );
        } else if is_builtin(&rule.id) {
            fail(
                "id",
                format!(
                    "'{}' is a built-in rule; give the custom rule its own id",
                    rule.id
                ),
            );
        } else if out.iter().any(|d| d.rule.id == rule.id) {
            fail(
                "id",
                format!("'{}' is declared twice in this file", rule.id),
            );
        }
        if rule.message.is_some() && rule.message_expression.is_some() {
            fail(
                "messageExpression",
                "give `message` or `messageExpression`, not both".into(),
            );
        }
        if let Some(at) = &rule.at
            && let Err(e) = parse_field_path(at)
        {
            fail("at", e);
        }
        for (j, v) in rule.variables.iter().enumerate() {
            if !is_identifier(&v.name) {
                fail(
                    "variables",
                    format!("variables[{j}]: '{}' is not a CEL identifier", v.name),
                );
            } else if rule.variables[..j].iter().any(|w| w.name == v.name) {
                fail(
                    "variables",
                    format!("variables[{j}]: '{}' is declared twice", v.name),
                );
            }
        }
        for g in rule.apps.iter().flatten() {
            if let Err(e) = globset::Glob::new(g) {
                fail("apps", format!("invalid app glob '{g}': {e}"));
            }
        }
        if let Some(m) = &rule.matches {
            for g in m.namespaces.iter().chain(&m.names) {
                if let Err(e) = globset::Glob::new(g) {
                    fail("match", format!("invalid glob '{g}': {e}"));
                }
            }
        }
        out.push(decl);
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// The repository's custom rules overridden by the user's (`--policy`), id by id.
pub fn layered(repo: &[CustomDecl], user: &[CustomDecl]) -> Vec<CustomDecl> {
    let mut out: Vec<CustomDecl> = repo
        .iter()
        .filter(|r| !user.iter().any(|u| u.rule.id == r.rule.id))
        .cloned()
        .collect();
    out.extend(user.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths() {
        use PathStep::*;
        assert_eq!(
            parse_field_path("spec.template.spec.containers[*].image").unwrap(),
            [
                Key("spec".into()),
                Key("template".into()),
                Key("spec".into()),
                Key("containers".into()),
                Each,
                Key("image".into())
            ]
        );
        assert_eq!(
            parse_field_path("metadata.labels['app.kubernetes.io/name']").unwrap(),
            [
                Key("metadata".into()),
                Key("labels".into()),
                Key("app.kubernetes.io/name".into())
            ]
        );
        assert_eq!(
            parse_field_path("spec.ports[1]").unwrap()[2],
            PathStep::Index(1)
        );
        for bad in ["", ".a", "a.", "a..b", "a[", "a[x]", "a[0]b"] {
            assert!(parse_field_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn label_selectors() {
        let sel = LabelSelector {
            match_labels: [("tier".to_string(), "web".to_string())].into(),
            match_expressions: vec![LabelRequirement {
                key: "env".into(),
                operator: SelectorOperator::NotIn,
                values: vec!["dev".into()],
            }],
        };
        let labels = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(x, _)| *x == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(sel.matches(&labels(&[("tier", "web")])));
        assert!(sel.matches(&labels(&[("tier", "web"), ("env", "prod")])));
        assert!(!sel.matches(&labels(&[("tier", "web"), ("env", "dev")])));
        assert!(!sel.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn ids() {
        assert!(is_kebab_id("team-label-required"));
        assert!(is_kebab_id("r2"));
        for bad in ["", "Team", "a--b", "-a", "a_b", "a/b"] {
            assert!(!is_kebab_id(bad), "{bad}");
        }
    }
}
