//! `replacements` (stub).

use super::error::RenderError;
use super::resource::Resource;
use crate::yaml::Node;

/// Applies a list of replacement entries (already loaded; `path:` entries inlined) to the resources.
pub fn apply(resources: &mut [Resource], replacements: &[Node]) -> Result<(), RenderError> {
    let _ = (resources, replacements);
    Ok(())
}
