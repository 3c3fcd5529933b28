//! JSON 6902 patches (stub).

use super::error::RenderError;
use super::resource::Resource;
use crate::yaml::Node;

/// Applies a list of RFC 6902 operations (already parsed, YAML or JSON) to a resource.
pub fn apply(target: &mut Resource, ops: &Node) -> Result<(), RenderError> {
    let _ = (target, ops);
    unimplemented!("json 6902 patch")
}
