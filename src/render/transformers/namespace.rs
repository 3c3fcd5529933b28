//! The namespace transformer: `namespace:` and `NamespaceTransformer` configs.
//!
//! Design. kustomize sets `metadata.namespace` on every namespaced object (which kinds are
//! cluster-scoped is a fixed table of the Kubernetes API's built-in kinds, shared with the
//! name-reference pass: [`is_cluster_scoped`]; custom kinds count as namespaced), the chosen
//! RoleBinding subjects, then the namespace field specs. Every object's previous id is
//! remembered, namespaced or not, so references to it can still be followed.

use crate::render::error::RenderError;
use crate::render::fieldspec::{FieldSpec, visit};
use crate::render::kustomization::Kustomization;
use crate::render::resource::{Resource, is_cluster_scoped};
use crate::source::Loc;
use crate::yaml::{Node, Value};

pub(crate) fn apply_namespace(
    k: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), RenderError> {
    let Some((ns, loc)) = &k.namespace else {
        return Ok(());
    };
    set_namespace(
        ns,
        *loc,
        &k.tconfig.namespace,
        false,
        SubjectMode::DefaultOnly,
        resources,
    );
    Ok(())
}

/// Which RoleBinding subjects the namespace transformer sets (`setRoleBindingSubjects`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SubjectMode {
    /// Subjects named `default` (what `namespace:` in a kustomization does).
    DefaultOnly,
    AllServiceAccounts,
    None,
}

/// kustomize's namespace filter: `metadata.namespace` of every namespaced object (created; with
/// `unset_only`, only where empty), the chosen RoleBinding subjects, then the field specs — less
/// `metadata/namespace` (done), `metadata/name` except on `v1` objects (the Namespace itself),
/// and RoleBinding subjects (done by mode).
pub(crate) fn set_namespace(
    ns: &str,
    loc: Loc,
    specs: &[FieldSpec],
    unset_only: bool,
    subjects: SubjectMode,
    resources: &mut [Resource],
) {
    if ns.is_empty() {
        return;
    }
    let mut fill = |n: &mut Node| {
        if !unset_only || n.is_null() || n.as_str() == Some("") {
            *n = Node::new(Value::Str(ns.into()), n.loc).with_via(loc);
        }
    };
    for r in resources.iter_mut() {
        // kustomize stores every object's previous id here, namespaced or not.
        r.bookkept = true;
        r.remember_id();
        let id = r.id();
        if !is_cluster_scoped(&id) && (!unset_only || r.namespace().is_empty()) {
            r.set_namespace(ns, loc);
        }
        let binding = matches!(id.kind.as_str(), "RoleBinding" | "ClusterRoleBinding");
        if binding
            && subjects != SubjectMode::None
            && let Some(list) = r.node.get_mut("subjects").and_then(|s| s.as_seq_mut())
        {
            for s in list {
                let picked = match subjects {
                    SubjectMode::DefaultOnly => s.str_at(&["name"]) == Some("default"),
                    SubjectMode::AllServiceAccounts => {
                        s.str_at(&["kind"]) == Some("ServiceAccount")
                    }
                    SubjectMode::None => false,
                };
                if picked && s.as_map().is_some() {
                    match s.get_mut("namespace") {
                        Some(n) => fill(n),
                        None => s.set("namespace", Node::str(ns).with_via(loc)),
                    }
                }
            }
        }
        for spec in specs.iter().filter(|s| s.matches(&id)) {
            let path: &[compact_str::CompactString] = &spec.path;
            if path == ["metadata", "namespace"] {
                continue;
            }
            if path == ["metadata", "name"] {
                if id.api_version() == "v1" && !unset_only {
                    r.set_name(ns, loc);
                }
                continue;
            }
            if binding
                && matches!(
                    spec.kind.as_deref(),
                    Some("RoleBinding" | "ClusterRoleBinding")
                )
                && path == ["subjects", "namespace"]
            {
                continue;
            }
            visit(&mut r.node, path, spec.create, &mut fill);
        }
    }
}
