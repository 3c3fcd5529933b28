//! ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1), enforced at
//! pull-request time: what the cluster will refuse is refused in the config repository, at the
//! line to edit, only in the environments the policy will reach.
//!
//! A policy rendered into an environment applies to that environment's objects; policies,
//! bindings and parameter objects in the files `admission-policies:` names apply to every
//! environment. As the API server does, a policy does nothing without a binding, and a binding
//! narrows it: `matchConstraints` (resource rules by group, version, plural resource name,
//! operation — CREATE for a new object, UPDATE when the pull request's base revision has it —
//! and resource names; `namespaceSelector` against the Namespace rendered in the same
//! environment; `objectSelector`), then the binding's `matchResources`, then `matchConditions`.
//! `validations` (with `variables`, `message`, `messageExpression`, `reason`) fail into findings
//! whose severity the binding's `validationActions` give (Deny → error, Warn → warning, Audit →
//! note); `paramKind` with `paramRef` (name, namespace, selector, `parameterNotFoundAction`)
//! finds its parameters among the environment's objects and the listed files; `failurePolicy:
//! Ignore` lets an expression that cannot be evaluated pass. The rule id is the policy's name.
//! `authorizer` cannot be known before the cluster sees the request: a policy using it is a
//! policy error.

mod listing;
mod model;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::cel::Verdict;
use super::{EnvInput, Status};
use crate::diag::{Finding, Related, RuleDescriptor, Severity};
use crate::render::Resource;
use crate::source::{Fs, Sources};
use crate::yaml::Node;

pub use model::{Binding, Policy, severity_of};

/// The `origin` of an admission policy's description.
pub const ORIGIN: &str = "admission policy";

const POLICY_KIND: &str = "ValidatingAdmissionPolicy";
const BINDING_KIND: &str = "ValidatingAdmissionPolicyBinding";
const GROUP: &str = "admissionregistration.k8s.io";

fn is_kind(r: &Resource, kind: &str) -> bool {
    r.kind() == kind && r.id().group == GROUP
}

/// A rendered policy, compiled (or why it does not compile).
type Compiled = Result<Policy, Box<Finding>>;

/// Every admission policy of a run: those of the configured files, and those rendered into
/// environments (compiled once per distinct content).
#[derive(Default)]
pub struct Admission {
    policies: Vec<Arc<Policy>>,
    bindings: Vec<Binding>,
    params: Vec<Resource>,
    rendered: Mutex<HashMap<Vec<u8>, Arc<Compiled>>>,
    /// Policies rendered into environments or bound there, by name.
    seen: Mutex<BTreeMap<String, listing::Seen>>,
    /// Where expressions' places are resolved (a compile error's line and column).
    sources: Sources,
}

impl Admission {
    /// Loads the policies, bindings and parameter objects of the files the globs name.
    pub fn load(
        fs: &dyn Fs,
        globs: &[String],
        sources: &Sources,
    ) -> Result<Admission, Vec<Finding>> {
        let mut a = Admission {
            sources: sources.clone(),
            ..Admission::default()
        };
        let mut errs = Vec::new();
        for g in globs {
            let files = match super::files::expand(fs, g) {
                Ok(f) => f,
                Err(e) => {
                    let mut f = Finding::error_code(
                        crate::diag::ErrorCode::Config,
                        format!("admission-policies: {e}"),
                    );
                    f.path = Some(".kustodian.yaml".into());
                    errs.push(f);
                    continue;
                }
            };
            for path in files {
                match read_objects(fs, &path, sources) {
                    Ok(objects) => {
                        for r in objects {
                            if is_kind(&r, POLICY_KIND) {
                                match Policy::compile(&r.node, sources) {
                                    Ok(p) => a.policies.push(Arc::new(p)),
                                    Err(f) => errs.push(*f),
                                }
                            } else if is_kind(&r, BINDING_KIND) {
                                match Binding::parse(&r.node) {
                                    Ok(b) => a.bindings.push(b),
                                    Err(msg) => errs.push(object_error(&r, msg)),
                                }
                            } else {
                                a.params.push(r);
                            }
                        }
                    }
                    Err(f) => errs.push(*f),
                }
            }
        }
        if errs.is_empty() { Ok(a) } else { Err(errs) }
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.bindings.is_empty()
    }

    /// Whether a policy of this name was loaded or seen in an environment.
    pub fn knows(&self, id: &str) -> bool {
        self.policies.iter().any(|p| p.name == id) || self.seen.lock().unwrap().contains_key(id)
    }

    /// The policies loaded or seen, described with the levels their bindings give and where
    /// they come from.
    pub fn docs(&self) -> Vec<RuleDescriptor> {
        let mut all = self.seen.lock().unwrap().clone();
        for p in &self.policies {
            let s = all.entry(p.name.clone()).or_default();
            s.doc.get_or_insert_with(|| p.doc.clone());
            s.from_files = true;
            for b in self.bindings.iter().filter(|b| b.policy_name == p.name) {
                s.bindings.insert(b.name.clone(), b.actions.clone());
            }
        }
        all.values().filter_map(listing::describe).collect()
    }

    /// Notes the policies and bindings rendered into an environment, for `kustodian rules`
    /// and `explain`: they render the repository but evaluate nothing.
    pub fn observe(&self, place: &str, objects: &[Resource]) {
        let (policies, rendered_from, bindings) = self.in_env(objects, &mut |_, _, _| {});
        self.record(&policies, rendered_from, &bindings, place);
    }

    /// The policies and bindings that apply in an environment: those of the configured files
    /// and those rendered into it (policies from index `.1` on). One that does not compile is
    /// a finding through `sink`.
    fn in_env(
        &self,
        objects: &[Resource],
        sink: &mut dyn FnMut(&str, usize, Status),
    ) -> (Vec<Arc<Policy>>, usize, Vec<Binding>) {
        let mut policies: Vec<Arc<Policy>> = self.policies.clone();
        let mut bindings: Vec<Binding> = Vec::new();
        for (i, r) in objects.iter().enumerate() {
            if is_kind(r, POLICY_KIND) {
                let compiled = self.rendered(r);
                match &*compiled {
                    Ok(p) => policies.push(Arc::new(p.clone())),
                    Err(f) => sink(r.name(), i, Status::Fail(f.clone())),
                }
            } else if is_kind(r, BINDING_KIND) {
                match Binding::parse(&r.node) {
                    Ok(b) => bindings.push(b),
                    Err(msg) => sink(r.name(), i, Status::Fail(Box::new(object_error(r, msg)))),
                }
            }
        }
        bindings.extend(self.bindings.iter().cloned());
        (policies, self.policies.len(), bindings)
    }

    /// Remembers what an environment (`app/env`) renders and binds, for the descriptions.
    fn record(
        &self,
        policies: &[Arc<Policy>],
        rendered_from: usize,
        bindings: &[Binding],
        place: &str,
    ) {
        let mut seen = self.seen.lock().unwrap();
        for (i, p) in policies.iter().enumerate() {
            let rendered = i >= rendered_from;
            let bound = bindings.iter().filter(|b| b.policy_name == p.name);
            if !rendered && bound.clone().next().is_none() {
                continue;
            }
            let s = seen.entry(p.name.clone()).or_default();
            s.doc.get_or_insert_with(|| p.doc.clone());
            if rendered {
                s.environments.insert(place.to_string());
            }
            for b in bound {
                s.bindings.insert(b.name.clone(), b.actions.clone());
            }
        }
    }

    /// A policy rendered into an environment, compiled once per content.
    fn rendered(&self, r: &Resource) -> Arc<Result<Policy, Box<Finding>>> {
        let mut key = Vec::new();
        super::analysis::node_key(&r.node, &mut key);
        // Its places matter too (a finding points at its expression): the same text in two
        // files is two policies.
        key.extend(r.node.loc.file.0.to_le_bytes());
        key.extend(r.node.loc.start.to_le_bytes());
        if let Some(p) = self.rendered.lock().unwrap().get(&key) {
            return p.clone();
        }
        let compiled = Arc::new(Policy::compile(&r.node, &self.sources));
        self.rendered.lock().unwrap().insert(key, compiled.clone());
        compiled
    }

    /// Evaluates the bound policies on an environment's objects.
    pub fn run(&self, input: &EnvInput, sink: &mut dyn FnMut(&str, usize, Status)) {
        let has_admission_objects = input
            .objects
            .iter()
            .any(|r| is_kind(r, POLICY_KIND) || is_kind(r, BINDING_KIND));
        if !has_admission_objects && self.bindings.is_empty() {
            return;
        }
        let (policies, rendered_from, bindings) = self.in_env(input.objects, sink);
        let place = format!("{}/{}", input.app, input.env);
        self.record(&policies, rendered_from, &bindings, &place);
        for b in &bindings {
            let Some(p) = policies.iter().find(|p| p.name == b.policy_name) else {
                continue;
            };
            for i in 0..input.objects.len() {
                let status = self.admit(p, b, i, input);
                sink(&p.name, i, status);
            }
        }
    }

    /// One binding of one policy on one object.
    fn admit(&self, p: &Policy, b: &Binding, i: usize, input: &EnvInput) -> Status {
        let r = &input.objects[i];
        let old = input.old_at(i);
        let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
        let namespace = namespace_object(input.objects, r);
        if !p.constraints.matches(r, operation, namespace.as_ref())
            || !b
                .match_resources
                .as_ref()
                .is_none_or(|m| m.matches_narrowing(r, operation, namespace.as_ref()))
        {
            return Status::Skip;
        }
        let request = request_node(r, operation);
        let params: Vec<Option<&Node>> = match &p.param_kind {
            None => vec![None],
            Some(kind) => {
                let found = b.params(kind, r, input.objects, &self.params);
                match found {
                    Ok(list) if list.is_empty() => {
                        return if b.allow_missing_params() {
                            Status::Pass
                        } else {
                            Status::Fail(self.failure(
                                p,
                                b,
                                r,
                                input,
                                format!(
                                    "no parameter object {} matches binding '{}'",
                                    kind.1, b.name
                                ),
                                None,
                            ))
                        };
                    }
                    Ok(list) => list.into_iter().map(Some).collect(),
                    Err(msg) => return Status::Fail(self.failure(p, b, r, input, msg, None)),
                }
            }
        };
        for param in params {
            let inputs = [
                ("object", Some(&r.node)),
                ("oldObject", old.map(|o| &o.node)),
                ("params", param),
                ("namespaceObject", namespace.as_ref()),
                ("request", Some(&request)),
            ];
            for c in &p.conditions {
                match c.check.evaluate(&inputs) {
                    Verdict::Pass => {}
                    Verdict::Fail(_) => return Status::Skip,
                    Verdict::Error(_) if p.failure_ignore => return Status::Skip,
                    Verdict::Error(e) => {
                        return Status::Fail(self.failure(
                            p,
                            b,
                            r,
                            input,
                            format!("matchCondition '{}' could not be evaluated: {e}", c.name),
                            Some(c.loc),
                        ));
                    }
                }
            }
            for v in &p.validations {
                let message = match v.check.evaluate(&inputs) {
                    Verdict::Pass => continue,
                    Verdict::Error(_) if p.failure_ignore => continue,
                    Verdict::Error(e) => format!("the expression could not be evaluated: {e}"),
                    Verdict::Fail(Some(m)) => m,
                    Verdict::Fail(None) => v.message.clone().unwrap_or_else(|| {
                        format!("failed expression: {}", v.check.source().trim())
                    }),
                };
                let mut f = *self.failure(p, b, r, input, message, Some(v.loc));
                if let Some(reason) = &v.reason {
                    f.help = Some(format!("{}; reason: {reason}", f.help.unwrap_or_default()));
                }
                let at = super::analysis::single_path(v.check.verdict_needs.get("object"));
                if let Some(path) = at {
                    let placed = input.finding(&p.name, r, String::new(), Some(&path));
                    f.loc = placed.loc;
                    f.field = placed.field;
                }
                return Status::Fail(Box::new(f));
            }
        }
        Status::Pass
    }

    fn failure(
        &self,
        p: &Policy,
        b: &Binding,
        r: &Resource,
        input: &EnvInput,
        message: String,
        expression: Option<crate::source::Loc>,
    ) -> Box<Finding> {
        let mut f = input.finding(&p.name, r, message, None);
        f.severity = b.severity();
        f.help = Some(format!(
            "ValidatingAdmissionPolicy '{}' with binding '{}' ({}) will {} this object",
            p.name,
            b.name,
            b.actions.join(", "),
            match f.severity {
                Severity::Error => "deny",
                Severity::Warning => "warn about",
                Severity::Note => "audit",
            }
        ));
        if let Some(loc) = expression {
            f.related.push(Related {
                loc,
                message: "the policy's expression".into(),
            });
        }
        Box::new(f)
    }
}

/// A finding about an admission object that cannot be read.
fn object_error(r: &Resource, msg: String) -> Finding {
    let mut f = Finding::error_code(
        crate::diag::ErrorCode::Policy,
        format!("{} '{}': {msg}", r.kind(), r.name()),
    );
    f.loc = r.loc();
    f
}

/// The objects of a YAML file of the repository (registered with the sources).
pub fn read_objects(
    fs: &dyn Fs,
    path: &str,
    sources: &Sources,
) -> Result<Vec<Resource>, Box<Finding>> {
    let text = fs.read(path).map_err(|e| {
        let mut f = Finding::error_code(crate::diag::ErrorCode::Policy, e.to_string());
        f.path = Some(path.to_string());
        f
    })?;
    let id = sources.add(path, text.clone());
    let docs = crate::yaml::parse_documents(&text, id).map_err(|e| {
        let mut f = Finding::error_code(
            crate::diag::ErrorCode::Policy,
            format!("invalid YAML: {}", e.message),
        );
        f.loc = e.loc;
        f.path = Some(path.to_string());
        f
    })?;
    Ok(docs
        .into_iter()
        .filter(|d| d.as_map().is_some())
        .map(Resource::new)
        .collect())
}

/// The Namespace object a namespaced object lives in: rendered in the same environment, else
/// one with only the label Kubernetes gives every namespace.
fn namespace_object(objects: &[Resource], r: &Resource) -> Option<Node> {
    if crate::render::resource::is_cluster_scoped(&r.id()) {
        return None;
    }
    let ns = r.namespace();
    if ns.is_empty() {
        return None;
    }
    if let Some(n) = objects
        .iter()
        .find(|o| o.kind() == "Namespace" && o.id().group.is_empty() && o.name() == ns)
    {
        let mut node = n.node.clone();
        node.ensure_path(&["metadata", "labels"])
            .set("kubernetes.io/metadata.name", Node::str(ns));
        return Some(node);
    }
    let mut node = Node::map();
    node.set("apiVersion", Node::str("v1"));
    node.set("kind", Node::str("Namespace"));
    node.ensure_path(&["metadata"]).set("name", Node::str(ns));
    node.ensure_path(&["metadata", "labels"])
        .set("kubernetes.io/metadata.name", Node::str(ns));
    Some(node)
}

/// `request`: what the API server would be asked.
fn request_node(r: &Resource, operation: &str) -> Node {
    let id = r.id();
    let mut n = Node::map();
    n.set("operation", Node::str(operation));
    n.set("name", Node::str(id.name.as_str()));
    n.set("namespace", Node::str(id.namespace.as_str()));
    let mut kind = Node::map();
    kind.set("group", Node::str(id.group.as_str()));
    kind.set("version", Node::str(id.version.as_str()));
    kind.set("kind", Node::str(id.kind.as_str()));
    n.set("kind", kind);
    let mut res = Node::map();
    res.set("group", Node::str(id.group.as_str()));
    res.set("version", Node::str(id.version.as_str()));
    res.set(
        "resource",
        Node::str(super::matching::resource_name(&id.kind)),
    );
    n.set("resource", res);
    n.set("dryRun", Node::synth(crate::yaml::Value::Bool(false)));
    let mut user = Node::map();
    user.set("username", Node::str(""));
    n.set("userInfo", user);
    n
}
