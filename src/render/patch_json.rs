//! JSON 6902 patches (stub until the patch engine lands).

use super::error::RenderError;
use super::resource::Resource;
use crate::source::FileId;
use crate::yaml::Node;

/// Applies a list of RFC 6902 operations (already parsed, YAML or JSON) to a resource.
pub fn apply(target: &mut Resource, ops: &Node) -> Result<(), RenderError> {
    let _ = target;
    Err(RenderError::invalid(
        "JSON 6902 patches are not implemented yet",
        ops.loc,
    ))
}

/// Parses JSON or YAML patch text into a list node.
pub fn parse_ops(text: &str, file: FileId) -> Result<Node, RenderError> {
    crate::yaml::parse_documents(text, file)
        .map_err(|e| RenderError::invalid(e.message, e.loc))
        .map(|mut d| {
            if d.is_empty() {
                Node::seq(vec![])
            } else {
                d.remove(0)
            }
        })
}
