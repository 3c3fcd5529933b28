//! kustomize-identical YAML output (stub, replaced by the full emitter).

use super::Node;

/// Appends one document (no `---`) to `out`.
pub fn emit_document(node: &Node, out: &mut String) {
    let _ = (node, out);
    unimplemented!()
}

/// Documents joined by `---\n`, as `kustomize build` prints them.
pub fn emit_documents<'a>(docs: impl IntoIterator<Item = &'a Node>) -> String {
    let mut out = String::new();
    for (i, d) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        emit_document(d, &mut out);
    }
    out
}
