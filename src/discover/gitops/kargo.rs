//! Kargo `Stage` objects (kargo.akuity.io): the promotion graph. Each requested freight's
//! `sources.stages` are the stages it is promoted from, so `uat: {sources: {stages: [test]}}` is the
//! edge test → uat. Discovery pairs environments of the same names along these edges.

use super::Object;
use crate::yaml::Node;

/// Edges `(upstream, downstream)` between stage names.
pub(crate) fn promotions(objects: &[Object]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in objects
        .iter()
        .filter(|o| o.group() == "kargo.akuity.io" && o.kind == "Stage")
    {
        for req in s
            .node
            .get_path(&["spec", "requestedFreight"])
            .and_then(Node::as_seq)
            .into_iter()
            .flatten()
        {
            for up in req
                .get_path(&["sources", "stages"])
                .and_then(Node::as_seq)
                .into_iter()
                .flatten()
                .filter_map(Node::scalar_string)
            {
                out.push((up, s.name.clone()));
            }
        }
    }
    out
}
