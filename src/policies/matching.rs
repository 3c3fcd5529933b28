//! Which objects a rule looks at: a custom rule's `match:` (kinds, API groups, namespace and name
//! globs, a label selector), compiled once, and the label selectors and resource names that
//! admission policies match by.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::render::Resource;
use crate::settings::custom::{LabelSelector, ObjectMatch};
use crate::yaml::Node;

/// A compiled `match:`.
#[derive(Clone, Debug, Default)]
pub struct ObjectMatcher {
    kinds: Vec<String>,
    groups: Vec<String>,
    namespaces: Option<GlobSet>,
    names: Option<GlobSet>,
    labels: Option<LabelSelector>,
}

fn globs(list: &[String]) -> Result<Option<GlobSet>, String> {
    if list.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in list {
        b.add(Glob::new(g).map_err(|e| format!("invalid glob '{g}': {e}"))?);
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

impl ObjectMatcher {
    pub fn new(m: Option<&ObjectMatch>) -> Result<ObjectMatcher, String> {
        let Some(m) = m else {
            return Ok(ObjectMatcher::default());
        };
        let any = |l: &[String]| {
            if l.iter().any(|x| x == "*") {
                vec![]
            } else {
                l.to_vec()
            }
        };
        Ok(ObjectMatcher {
            kinds: any(&m.kinds),
            groups: any(&m.api_groups),
            namespaces: globs(&m.namespaces)?,
            names: globs(&m.names)?,
            labels: m.label_selector.clone(),
        })
    }

    /// Whether the matcher can select objects of this kind at all (a quick filter).
    pub fn kind(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind)
    }

    pub fn matches(&self, r: &Resource) -> bool {
        self.matches_as(r, r.kind())
    }

    /// [`ObjectMatcher::matches`] for an object whose kind is known.
    pub fn matches_as(&self, r: &Resource, kind: &str) -> bool {
        if !self.kind(kind) {
            return false;
        }
        if self.groups.is_empty()
            && self.namespaces.is_none()
            && self.names.is_none()
            && self.labels.is_none()
        {
            return true;
        }
        let id = r.id();
        if !self.groups.is_empty() && !self.groups.iter().any(|g| *g == id.group) {
            return false;
        }
        if let Some(ns) = &self.namespaces
            && !ns.is_match(id.namespace.as_str())
        {
            return false;
        }
        if let Some(names) = &self.names
            && !names.is_match(id.name.as_str())
        {
            return false;
        }
        self.labels
            .as_ref()
            .is_none_or(|sel| sel.matches(&|k| label(&r.node, k)))
    }
}

/// An object's label, as a string.
pub fn label(node: &Node, key: &str) -> Option<String> {
    node.get_path(&["metadata", "labels", key])
        .and_then(crate::yaml::Node::scalar_string)
}

/// A label selector written in an object (`matchLabels`, `matchExpressions`), read leniently:
/// an absent or empty selector matches everything, as in Kubernetes.
pub fn selector_of(node: Option<&Node>) -> Result<LabelSelector, String> {
    let Some(node) = node else {
        return Ok(LabelSelector::default());
    };
    let json = crate::yaml::to_json(node);
    if json.is_null() {
        return Ok(LabelSelector::default());
    }
    serde_json::from_value(json).map_err(|e| format!("invalid label selector: {e}"))
}

/// The plural resource name Kubernetes serves a kind under (`Deployment` → `deployments`,
/// `NetworkPolicy` → `networkpolicies`, `Ingress` → `ingresses`), as admission policies' rules
/// name them.
pub fn resource_name(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    // Kinds whose plural does not follow the English rules below.
    const IRREGULAR: &[(&str, &str)] = &[("endpoints", "endpoints")];
    if let Some((_, p)) = IRREGULAR.iter().find(|(k, _)| *k == lower) {
        return p.to_string();
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        for (k, p) in [
            ("Deployment", "deployments"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("ConfigMap", "configmaps"),
            ("Gateway", "gateways"),
            ("Endpoints", "endpoints"),
            ("StorageClass", "storageclasses"),
        ] {
            assert_eq!(resource_name(k), p);
        }
    }

    #[test]
    fn matcher() {
        let m = ObjectMatcher::new(Some(&ObjectMatch {
            kinds: vec!["Deployment".into()],
            api_groups: vec!["apps".into()],
            namespaces: vec!["team-*".into()],
            ..Default::default()
        }))
        .unwrap();
        let res = |yaml: &str| {
            Resource::new(
                crate::yaml::parse_documents(yaml, crate::source::FileId(0))
                    .unwrap()
                    .remove(0),
            )
        };
        assert!(m.matches(&res(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: team-x}\n"
        )));
        assert!(!m.matches(&res(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: other}\n"
        )));
        assert!(!m.matches(&res(
            "apiVersion: v1\nkind: Deployment\nmetadata: {name: a, namespace: team-x}\n"
        )));
    }
}
