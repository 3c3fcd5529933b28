//! The parts of ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding objects that
//! admission uses, read from their nodes (so every expression keeps its place), and the
//! resource matching both use.

use super::super::cel::{Check, Part, place};
use super::super::matching::{label, resource_name, selector_of};
use crate::diag::{ErrorCode, Finding, RuleDescriptor, Severity};
use crate::render::Resource;
use crate::settings::custom::LabelSelector;
use crate::source::{Loc, Sources};
use crate::yaml::Node;

/// The variables an admission policy's expressions may use.
pub(super) const VARIABLES: &[&str] = &[
    "object",
    "oldObject",
    "params",
    "namespaceObject",
    "request",
];

fn strings(n: Option<&Node>) -> Vec<String> {
    n.and_then(|n| n.as_seq())
        .map(|s| {
            s.iter()
                .filter_map(crate::yaml::Node::scalar_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One `resourceRules` entry.
#[derive(Clone, Debug, Default)]
pub(super) struct ResourceRule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    names: Vec<String>,
    scope: String,
}

fn any_of(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

impl ResourceRule {
    fn parse(n: &Node) -> ResourceRule {
        ResourceRule {
            groups: strings(n.get("apiGroups")),
            versions: strings(n.get("apiVersions")),
            resources: strings(n.get("resources")),
            operations: strings(n.get("operations")),
            names: strings(n.get("resourceNames")),
            scope: n
                .get("scope")
                .and_then(crate::yaml::Node::scalar_string)
                .unwrap_or_else(|| "*".into()),
        }
    }

    fn matches(&self, r: &Resource, operation: &str) -> bool {
        let id = r.id();
        let plural = resource_name(&id.kind);
        let cluster = crate::render::resource::is_cluster_scoped(&id);
        any_of(&self.groups, &id.group)
            && any_of(&self.versions, &id.version)
            && self
                .resources
                .iter()
                .any(|x| x == "*" || x == "*/*" || *x == plural)
            && any_of(&self.operations, operation)
            && (self.names.is_empty() || self.names.iter().any(|x| *x == id.name))
            && match self.scope.as_str() {
                "Cluster" => cluster,
                "Namespaced" => !cluster,
                _ => true,
            }
    }
}

/// `matchConstraints` of a policy, or `matchResources` of a binding.
#[derive(Clone, Debug, Default)]
pub struct MatchResources {
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
    rules: Vec<ResourceRule>,
    exclude: Vec<ResourceRule>,
}

impl MatchResources {
    fn parse(n: Option<&Node>) -> Result<MatchResources, String> {
        let Some(n) = n else {
            return Ok(MatchResources::default());
        };
        let rules = |key: &str| {
            n.get(key)
                .and_then(|l| l.as_seq())
                .map(|l| l.iter().map(ResourceRule::parse).collect())
                .unwrap_or_default()
        };
        Ok(MatchResources {
            namespace_selector: selector_of(n.get("namespaceSelector"))?,
            object_selector: selector_of(n.get("objectSelector"))?,
            rules: rules("resourceRules"),
            exclude: rules("excludeResourceRules"),
        })
    }

    /// A policy's constraints: an object must match a resource rule.
    pub fn matches(&self, r: &Resource, operation: &str, namespace: Option<&Node>) -> bool {
        self.rules.iter().any(|x| x.matches(r, operation))
            && self.selectors_match(r, operation, namespace)
    }

    /// A binding's narrowing: no resource rules narrow nothing.
    pub fn matches_narrowing(
        &self,
        r: &Resource,
        operation: &str,
        namespace: Option<&Node>,
    ) -> bool {
        (self.rules.is_empty() || self.rules.iter().any(|x| x.matches(r, operation)))
            && self.selectors_match(r, operation, namespace)
    }

    fn selectors_match(&self, r: &Resource, operation: &str, namespace: Option<&Node>) -> bool {
        if self.exclude.iter().any(|x| x.matches(r, operation)) {
            return false;
        }
        // A Namespace is matched by its own labels; other cluster-scoped objects always pass.
        let ns_ok = if r.kind() == "Namespace" && r.id().group.is_empty() {
            self.namespace_selector.matches(&|k| label(&r.node, k))
        } else {
            namespace.is_none_or(|ns| self.namespace_selector.matches(&|k| label(ns, k)))
        };
        ns_ok && self.object_selector.matches(&|k| label(&r.node, k))
    }
}

/// A named condition.
#[derive(Clone, Debug)]
pub struct Condition {
    pub name: String,
    pub check: std::sync::Arc<Check>,
    pub loc: Loc,
}

/// One validation.
#[derive(Clone, Debug)]
pub struct Validation {
    pub check: std::sync::Arc<Check>,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub loc: Loc,
}

/// A ValidatingAdmissionPolicy, compiled.
#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub failure_ignore: bool,
    /// `paramKind`: (apiVersion, kind).
    pub param_kind: Option<(String, String)>,
    pub constraints: MatchResources,
    pub conditions: Vec<Condition>,
    pub validations: Vec<Validation>,
    pub doc: RuleDescriptor,
}

fn fatal(node: &Node, name: &str, loc: Loc, msg: String) -> Box<Finding> {
    let mut f = Finding::error_code(
        ErrorCode::Policy,
        format!("ValidatingAdmissionPolicy '{name}': {msg}"),
    );
    f.loc = if loc.is_some() { loc } else { node.loc };
    Box::new(f)
}

impl Policy {
    /// Compiles a policy object; an expression that does not compile is a policy error at its
    /// line and column.
    pub fn compile(node: &Node, sources: &Sources) -> Result<Policy, Box<Finding>> {
        let name = node.str_at(&["metadata", "name"]).unwrap_or("").to_string();
        let spec = node.get("spec").cloned().unwrap_or_else(Node::map);
        let seq = |key: &str| {
            spec.get(key)
                .and_then(|v| v.as_seq())
                .cloned()
                .unwrap_or_default()
        };
        let variables: Vec<(String, String)> = seq("variables")
            .iter()
            .map(|v| {
                (
                    v.str_at(&["name"]).unwrap_or("").to_string(),
                    v.str_at(&["expression"]).unwrap_or("").to_string(),
                )
            })
            .collect();
        let var_nodes = seq("variables");
        let compile = |expr: &Node, message: Option<&Node>| -> Result<Check, Box<Finding>> {
            Check::new(
                &variables,
                expr.as_str().unwrap_or(""),
                message.and_then(|m| m.as_str()),
                VARIABLES,
            )
            .map_err(|(part, e)| {
                let at = match part {
                    Part::Expression => expr.loc,
                    Part::Message => message.map_or(expr.loc, |m| m.loc),
                    Part::Variable(i) => var_nodes
                        .get(i)
                        .and_then(|v| v.get("expression"))
                        .map_or(expr.loc, |n| n.loc),
                };
                let hint = if e.message.contains("'authorizer'") {
                    " (`authorizer` needs the cluster: it cannot be checked before the request)"
                } else {
                    ""
                };
                fatal(
                    node,
                    &name,
                    place(sources, at, e.line, e.column),
                    format!("{}{hint}", e.message),
                )
            })
        };
        let missing =
            |n: &Node, key: &str| fatal(node, &name, n.loc, format!("an entry without `{key}`"));
        let mut conditions = Vec::new();
        for c in seq("matchConditions") {
            let expr = c
                .get("expression")
                .ok_or_else(|| missing(&c, "expression"))?;
            conditions.push(Condition {
                name: c.str_at(&["name"]).unwrap_or("").to_string(),
                check: std::sync::Arc::new(compile(expr, None)?),
                loc: expr.loc,
            });
        }
        let mut validations = Vec::new();
        for v in seq("validations") {
            let expr = v
                .get("expression")
                .ok_or_else(|| missing(&v, "expression"))?;
            validations.push(Validation {
                check: std::sync::Arc::new(compile(expr, v.get("messageExpression"))?),
                message: v.str_at(&["message"]).map(str::to_string),
                reason: v.str_at(&["reason"]).map(str::to_string),
                loc: expr.loc,
            });
        }
        let constraints = MatchResources::parse(spec.get("matchConstraints"))
            .map_err(|e| fatal(node, &name, node.loc, e))?;
        let param_kind = spec.get("paramKind").map(|p| {
            (
                p.str_at(&["apiVersion"]).unwrap_or("").to_string(),
                p.str_at(&["kind"]).unwrap_or("").to_string(),
            )
        });
        let doc = policy_doc(&name, &validations, sources, node.loc);
        Ok(Policy {
            failure_ignore: spec.str_at(&["failurePolicy"]) == Some("Ignore"),
            name,
            param_kind,
            constraints,
            conditions,
            validations,
            doc,
        })
    }
}

fn policy_doc(
    name: &str,
    validations: &[Validation],
    sources: &Sources,
    at: Loc,
) -> RuleDescriptor {
    let summary = validations
        .iter()
        .find_map(|v| v.message.clone())
        .unwrap_or_else(|| format!("ValidatingAdmissionPolicy {name}"));
    let mut doc = format!(
        "{summary}\n\nValidatingAdmissionPolicy '{name}', declared at {}.\n\n**Validations.**\n\n",
        sources.describe(at)
    );
    for v in validations {
        doc.push_str(&format!("- `{}`", v.check.source().trim()));
        if let Some(m) = &v.message {
            doc.push_str(&format!(": {m}"));
        }
        doc.push('\n');
    }
    RuleDescriptor {
        id: name.to_string(),
        summary,
        doc,
        help_uri: None,
        default_severity: Some(Severity::Error),
        origin: Some(super::ORIGIN.into()),
    }
}

/// Deny → error, Warn → warning, Audit → note (the strongest one listed).
pub fn severity_of(actions: &[String]) -> Severity {
    if actions.iter().any(|a| a == "Deny") {
        Severity::Error
    } else if actions.iter().any(|a| a == "Warn") {
        Severity::Warning
    } else {
        Severity::Note
    }
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Clone, Debug)]
pub struct Binding {
    pub name: String,
    pub policy_name: String,
    pub actions: Vec<String>,
    pub match_resources: Option<MatchResources>,
    param_ref: Option<ParamRef>,
}

#[derive(Clone, Debug)]
struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<LabelSelector>,
    allow_missing: bool,
}

impl Binding {
    pub fn parse(node: &Node) -> Result<Binding, String> {
        let spec = node.get("spec").ok_or("no spec")?;
        let policy_name = spec
            .str_at(&["policyName"])
            .ok_or("spec.policyName is required")?
            .to_string();
        let mut actions = strings(spec.get("validationActions"));
        if actions.is_empty() {
            actions.push("Deny".into());
        }
        if let Some(a) = actions
            .iter()
            .find(|a| !["Deny", "Warn", "Audit"].contains(&a.as_str()))
        {
            return Err(format!(
                "unknown validationAction '{a}' (Deny, Warn, Audit)"
            ));
        }
        let match_resources = spec
            .get("matchResources")
            .map(|m| MatchResources::parse(Some(m)))
            .transpose()?;
        let param_ref = match spec.get("paramRef") {
            None => None,
            Some(p) => Some(ParamRef {
                name: p.str_at(&["name"]).map(str::to_string),
                namespace: p.str_at(&["namespace"]).map(str::to_string),
                selector: p
                    .get("selector")
                    .map(|s| selector_of(Some(s)))
                    .transpose()?,
                allow_missing: p.str_at(&["parameterNotFoundAction"]) == Some("Allow"),
            }),
        };
        Ok(Binding {
            name: node.str_at(&["metadata", "name"]).unwrap_or("").to_string(),
            policy_name,
            actions,
            match_resources,
            param_ref,
        })
    }

    /// The level of this binding's findings ([`severity_of`] its actions).
    pub fn severity(&self) -> Severity {
        severity_of(&self.actions)
    }

    pub fn allow_missing_params(&self) -> bool {
        self.param_ref.as_ref().is_some_and(|p| p.allow_missing)
    }

    /// The parameter objects of kind `kind` (apiVersion, kind) this binding names for an
    /// object, among an environment's objects and the configured files'.
    pub fn params<'a>(
        &self,
        kind: &(String, String),
        r: &Resource,
        objects: &'a [Resource],
        library: &'a [Resource],
    ) -> Result<Vec<&'a Node>, String> {
        let Some(p) = &self.param_ref else {
            return Err(format!(
                "the policy has paramKind {} but binding '{}' has no paramRef",
                kind.1, self.name
            ));
        };
        let found = objects
            .iter()
            .chain(library)
            .filter(|o| {
                o.kind() == kind.1 && o.node.str_at(&["apiVersion"]) == Some(kind.0.as_str())
            })
            .filter(|o| p.name.as_deref().is_none_or(|n| o.name() == n))
            .filter(|o| match &p.namespace {
                Some(ns) => o.namespace() == ns,
                // Namespaced parameters default to the admitted object's namespace.
                None => {
                    crate::render::resource::is_cluster_scoped(&o.id())
                        || o.namespace().is_empty()
                        || o.namespace() == r.namespace()
                }
            })
            .filter(|o| {
                p.selector
                    .as_ref()
                    .is_none_or(|s| s.matches(&|k| label(&o.node, k)))
            })
            .map(|o| &o.node)
            .collect();
        Ok(found)
    }
}
