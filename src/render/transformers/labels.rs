//! The label and annotation transformers: `labels:`, `commonLabels:`, `commonAnnotations:`
//! and their configs.
//!
//! Design. Each sets string pairs into the maps its field specs reach, as `map[string]string`:
//! values already there that are not strings are rewritten as their source spelling. Which specs
//! apply is the transformer's choice (`labels:` entries pick selectors, templates or neither);
//! the default tables are borrowed, never copied, since they hold dozens of specs.

use crate::render::builtin::VOLUME_CLAIM_LABELS;
use crate::render::fieldspec::{FieldSpec, apply_specs};
use crate::render::kustomization::Kustomization;
use crate::render::resource::Resource;
use crate::render::scalars::raw_string;
use crate::source::Loc;
use crate::yaml::{Mapping, Node, Value};

pub(crate) fn set_string_map<'s>(
    specs: impl IntoIterator<Item = &'s FieldSpec>,
    r: &mut Resource,
    pairs: &[(String, String, Loc)],
) {
    let id = r.id();
    apply_specs(specs, &id, &mut r.node, r.bookkept, &mut |n| {
        if n.is_null() {
            *n = Node::new(Value::Map(Mapping::default()), n.loc);
        }
        if let Some(m) = n.as_map_mut() {
            for e in &mut m.entries {
                if !matches!(e.value.value, Value::Str(_) | Value::Map(_) | Value::Seq(_)) {
                    e.value.value = Value::Str(raw_string(&e.value).into());
                }
            }
            for (k, v, loc) in pairs {
                let keep_loc = m.get(k).map_or(Loc::NONE, |x| x.loc);
                m.insert(
                    k,
                    Node::new(Value::Str(v.as_str().into()), keep_loc).with_via(*loc),
                );
            }
        }
    });
}

pub(crate) fn apply_labels(k: &Kustomization, resources: &mut [Resource]) {
    for l in &k.labels {
        let pairs: Vec<(String, String, Loc)> = l
            .get("pairs")
            .and_then(|p| p.as_map())
            .map(|m| {
                m.entries
                    .iter()
                    .map(|e| (e.key.to_string(), raw_string(&e.value), e.value.loc))
                    .collect()
            })
            .unwrap_or_default();
        let flag = |f: &str| {
            l.get(f)
                .and_then(crate::yaml::Node::as_bool)
                .unwrap_or(false)
        };
        let own: Vec<FieldSpec> = l
            .get("fields")
            .and_then(|f| f.as_seq())
            .map(|s| s.iter().filter_map(FieldSpec::from_node).collect())
            .unwrap_or_default();
        let metadata_labels = FieldSpec::new("metadata/labels", true);
        // Borrowed, not copied: the default tables hold dozens of specs.
        let mut specs: Vec<&FieldSpec> = own.iter().collect();
        if flag("includeSelectors") {
            specs.extend(k.tconfig.common_labels.iter());
        } else {
            if flag("includeTemplates") {
                specs.extend(k.tconfig.template_labels.iter());
            }
            if flag("includeVolumeClaimTemplates") {
                specs.extend(VOLUME_CLAIM_LABELS.iter());
            }
            specs.push(&metadata_labels);
        }
        dedup_specs(&mut specs);
        for r in resources.iter_mut() {
            set_string_map(specs.iter().copied(), r, &pairs);
        }
    }
    if !k.common_labels.is_empty() {
        for r in resources.iter_mut() {
            set_string_map(k.tconfig.common_labels.iter(), r, &k.common_labels);
        }
    }
}

/// Drops repeated specs, keeping the first of each.
fn dedup_specs(specs: &mut Vec<&FieldSpec>) {
    let mut i = 0;
    while i < specs.len() {
        if specs[..i].contains(&specs[i]) {
            specs.remove(i);
        } else {
            i += 1;
        }
    }
}

pub(crate) fn apply_annotations(k: &Kustomization, resources: &mut [Resource]) {
    if k.common_annotations.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        set_string_map(
            k.tconfig.common_annotations.iter(),
            r,
            &k.common_annotations,
        );
    }
}
