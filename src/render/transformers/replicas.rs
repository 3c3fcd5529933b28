//! The replica count transformer: `replicas:` and `ReplicaCountTransformer` configs.
//!
//! Design. As kustomize: per field spec, the objects one of whose ids (current or earlier) has
//! the name and a kind the spec selects; the count is set only where the spec also selects the
//! object's current kind. A name that matches nothing is an error, as in kustomize.

use crate::render::error::{RenderError, RenderErrorKind};
use crate::render::fieldspec::visit;
use crate::render::kustomization::Kustomization;
use crate::render::resource::Resource;
use crate::yaml::{Node, Value};

pub(crate) fn apply_replicas(
    k: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), RenderError> {
    for entry in &k.replicas {
        let Some(name) = entry.get("name").and_then(crate::yaml::Node::scalar_string) else {
            return Err(RenderError::invalid(
                "replicas entry needs a 'name'",
                entry.loc,
            ));
        };
        let count_node = entry.get("count");
        let count = count_node.and_then(crate::yaml::Node::as_i64).unwrap_or(0);
        let via = count_node.map_or(entry.loc, |c| c.loc);
        // As kustomize: per field spec, the resources one of whose ids (current or earlier)
        // has the name and a kind the spec selects; the spec then sets the field only if it
        // also selects the resource's current kind (a patch that changed the kind leaves the
        // count alone, yet counts as a match).
        let mut matched = false;
        for s in k.tconfig.replicas.iter() {
            for r in resources.iter_mut() {
                if !r
                    .all_ids()
                    .iter()
                    .any(|id| id.name == name && s.matches(id))
                {
                    continue;
                }
                matched = true;
                if s.matches(&r.id()) {
                    visit(&mut r.node, &s.path, s.create, &mut |n| {
                        *n = Node::new(Value::Int(count), n.loc).with_via(via);
                    });
                }
            }
        }
        if !matched {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "resource with name {name} does not match a config with the following GVK [{}]",
                    k.tconfig
                        .replicas
                        .iter()
                        .map(|s| s.kind.as_deref().unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                entry.loc,
            ));
        }
    }
    Ok(())
}
