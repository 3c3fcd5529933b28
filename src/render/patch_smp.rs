//! Strategic merge patches (stub until the patch engine lands).

use super::error::RenderError;
use super::resource::Resource;
use crate::yaml::Node;

pub enum SmpOutcome {
    Merged,
    Deleted,
}

/// Applies one strategic-merge patch document to a resource, kyaml `merge2` semantics.
pub fn apply(target: &mut Resource, patch: &Node) -> Result<SmpOutcome, RenderError> {
    let _ = (target, patch);
    Err(RenderError::invalid(
        "strategic merge patches are not implemented yet",
        patch.loc,
    ))
}
