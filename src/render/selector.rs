//! Choosing the objects a patch or replacement applies to.
//!
//! Design. kustomize selects targets the same way for `patches:`, `patchesJson6902:` and
//! `replacements:`: anchored regular expressions on group, version, kind, name and namespace, and
//! Kubernetes label-selector syntax on labels and annotations. Name and namespace match any id the
//! object has had (so a patch written against a base's name still finds a prefixed object); group,
//! version and kind match the object as it is now. Selection only reads resources, so it sits
//! below every transformer that uses it.

use super::error::RenderError;
use super::pattern::Pattern;
use super::resource::{ResId, Resource};
use crate::source::Loc;
use crate::yaml::Node;

/// A patch/replacement target selector (group/version/kind/name/namespace regexes, label and
/// annotation selectors), matched against current and previous ids as kustomize does.
pub(crate) struct Selector {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Option<String>,
    annotations: Option<String>,
}

fn anchored(s: &str, loc: Loc) -> Result<Pattern, RenderError> {
    Pattern::anchored(s)
        .map_err(|e| RenderError::invalid(format!("invalid target regex '{s}': {e}"), loc))
}

impl Selector {
    pub(crate) fn from_node(t: &Node) -> Result<Selector, RenderError> {
        super::check_selectors(t)?;
        let s = |k: &str| {
            t.get(k)
                .and_then(crate::yaml::Node::scalar_string)
                .filter(|s| !s.is_empty())
        };
        Ok(Selector {
            group: s("group").map(|n| anchored(&n, t.loc)).transpose()?,
            version: s("version").map(|n| anchored(&n, t.loc)).transpose()?,
            kind: s("kind").map(|n| anchored(&n, t.loc)).transpose()?,
            name: s("name").map(|n| anchored(&n, t.loc)).transpose()?,
            namespace: s("namespace").map(|n| anchored(&n, t.loc)).transpose()?,
            labels: s("labelSelector"),
            annotations: s("annotationSelector"),
        })
    }

    /// Name and namespace, matched against any id the object has had.
    fn id_matches(&self, id: &ResId) -> bool {
        self.name.as_ref().is_none_or(|r| r.is_match(&id.name))
            && self
                .namespace
                .as_ref()
                .is_none_or(|r| r.is_match(&id.namespace))
    }

    /// Group, version and kind (regexes too), matched against the object as it is now.
    fn gvk_matches(&self, id: &ResId) -> bool {
        self.group.as_ref().is_none_or(|g| g.is_match(&id.group))
            && self
                .version
                .as_ref()
                .is_none_or(|v| v.is_match(&id.version))
            && self.kind.as_ref().is_none_or(|k| k.is_match(&id.kind))
    }

    pub(crate) fn matches(&self, r: &Resource) -> bool {
        self.gvk_matches(&r.id())
            && r.all_ids().iter().any(|id| self.id_matches(id))
            && self.labels.as_deref().is_none_or(|sel| {
                label_selector_matches(sel, r.node.get_path(&["metadata", "labels"]))
            })
            && self.annotations.as_deref().is_none_or(|sel| {
                label_selector_matches(sel, r.node.get_path(&["metadata", "annotations"]))
            })
    }

    pub(crate) fn select(&self, resources: &[Resource]) -> Vec<usize> {
        resources
            .iter()
            .enumerate()
            .filter(|(_, r)| self.matches(r))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Kubernetes label selector syntax: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
pub(crate) fn label_selector_matches(sel: &str, labels: Option<&Node>) -> bool {
    let get = |k: &str| {
        labels
            .and_then(|l| l.get(k))
            .and_then(crate::yaml::Node::scalar_string)
    };
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in sel.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => terms.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    terms.push(cur);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|t| {
            if let Some((k, v)) = t.split_once("!=") {
                get(k.trim()).as_deref() != Some(v.trim())
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                get(k.trim()).as_deref() == Some(v.trim())
            } else if let Some((k, rest)) = t.split_once(" notin ") {
                let set = parse_set(rest);
                get(k.trim()).is_none_or(|v| !set.contains(&v))
            } else if let Some((k, rest)) = t.split_once(" in ") {
                let set = parse_set(rest);
                get(k.trim()).is_some_and(|v| set.contains(&v))
            } else if let Some(k) = t.strip_prefix('!') {
                get(k.trim()).is_none()
            } else {
                get(t).is_some()
            }
        })
}

fn parse_set(s: &str) -> Vec<String> {
    s.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(|x| x.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors() {
        let n = crate::yaml::parse_documents("a: x\nb: y\n", crate::source::FileId(0))
            .unwrap()
            .remove(0);
        assert!(label_selector_matches("a=x", Some(&n)));
        assert!(label_selector_matches("a=x,b in (y,z)", Some(&n)));
        assert!(!label_selector_matches("a!=x", Some(&n)));
        assert!(label_selector_matches("!c", Some(&n)));
    }
}
