//! The name prefix and suffix transformer: `namePrefix:`, `nameSuffix:` and their configs.
//!
//! Design. Field specs select objects by their original type, as kustomize's do: a
//! `metadata/name` spec renames the object itself (and the affix is remembered, so name
//! references can be fixed up at the end of the top-level build), any other path gets the affix
//! added to its value.

use crate::render::fieldspec::{FieldSpec, visit};
use crate::render::kustomization::Kustomization;
use crate::render::resource::Resource;
use crate::source::Loc;
use crate::yaml::{Node, Value};

pub(crate) fn apply_prefix_suffix(k: &Kustomization, resources: &mut [Resource]) {
    if k.name_prefix.is_none() && k.name_suffix.is_none() {
        return;
    }
    for r in resources.iter_mut() {
        // kustomize leaves these names alone: they are referenced by fixed names elsewhere.
        if matches!(r.kind(), "CustomResourceDefinition" | "Namespace") {
            continue;
        }
        // Field specs select by the object's original type, as kustomize's do; `metadata/name`
        // renames the object, any other path (a transformer config's) gets the affix too.
        let id = r.orig_id();
        let is_name = |f: &FieldSpec| *f.path == ["metadata", "name"];
        let selected = |specs: &Option<Vec<FieldSpec>>| {
            specs
                .as_ref()
                .is_none_or(|s| s.iter().any(|f| is_name(f) && f.matches(&id)))
        };
        for (affix, specs, front) in [
            (&k.name_prefix, &k.tconfig.name_prefix, true),
            (&k.name_suffix, &k.tconfig.name_suffix, false),
        ] {
            let (Some((a, l)), Some(specs)) = (affix, specs) else {
                continue;
            };
            for f in specs.iter().filter(|f| !is_name(f) && f.matches(&id)) {
                visit(&mut r.node, &f.path, f.create, &mut |n| {
                    let cur = n.scalar_string().unwrap_or_default();
                    let v = if front {
                        format!("{a}{cur}")
                    } else {
                        format!("{cur}{a}")
                    };
                    *n = Node::new(Value::Str(v.into()), n.loc).with_via(*l);
                });
            }
        }
        let mut name = r.name().to_string();
        let mut via = Loc::NONE;
        if let Some((p, l)) = k
            .name_prefix
            .as_ref()
            .filter(|_| selected(&k.tconfig.name_prefix))
        {
            name = format!("{p}{name}");
            via = *l;
            r.prefixes.push(p.clone());
            // kustomize stores the previous id of an object it prefixes.
            r.bookkept |= !p.is_empty();
        }
        if let Some((s, l)) = k
            .name_suffix
            .as_ref()
            .filter(|_| selected(&k.tconfig.name_suffix))
        {
            name = format!("{name}{s}");
            via = *l;
            r.suffixes.push(s.clone());
            r.bookkept |= !s.is_empty();
        }
        if via.is_some() {
            r.set_name(&name, via);
        }
    }
}
