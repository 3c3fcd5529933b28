//! Following one object across environments and edits: the same source object in another
//! build, and the patch that removed a field from it.

use crate::render::resource::EditKind;
use crate::render::{Build, Resource};
use crate::source::Loc;

/// The workload in `build` that came from the same source object as `r`.
pub(crate) fn counterpart<'a>(build: &'a Build, r: &Resource) -> Option<&'a Resource> {
    let id = r.orig_id();
    build.resources.iter().find(|x| {
        let o = x.orig_id();
        o.kind == id.kind && o.name == id.name && o.group == id.group
    })
}

/// The patch that removed `path` (an edit at the path or one of its parents), if any.
pub(crate) fn removal_by(r: &Resource, path: &str) -> Option<Loc> {
    r.edits
        .iter()
        .filter(|e| matches!(e.kind, EditKind::Removed | EditKind::Replaced))
        .filter(|e| {
            e.path.is_empty()
                || path == e.path
                || path.starts_with(&format!("{}.", e.path))
                || path.starts_with(&format!("{}[", e.path))
        })
        .max_by_key(|e| e.path.len())
        .map(|e| e.by)
}
