//! Name back-references (stub).

use super::resource::Resource;

/// After renames (prefix/suffix/hash/namespace), rewrites every reference to a renamed object.
pub fn fix_back_references(resources: &mut [Resource]) {
    let _ = resources;
}
