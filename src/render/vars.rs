//! Legacy `vars` (stub).

use super::error::RenderError;
use super::resource::Resource;
use crate::yaml::Node;

/// Substitutes `$(VAR)` references using the `vars` entries collected across the build.
pub fn apply(resources: &mut [Resource], vars: &[Node]) -> Result<(), RenderError> {
    let _ = (resources, vars);
    Ok(())
}
