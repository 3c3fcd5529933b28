//! Strategic merge patches (stub).

use super::error::RenderError;
use super::resource::Resource;
use crate::yaml::Node;

/// Applies one strategic-merge patch document to a resource, kyaml `merge2` semantics.
pub fn apply(target: &mut Resource, patch: &Node) -> Result<(), RenderError> {
    let _ = (target, patch);
    unimplemented!("strategic merge patch")
}
