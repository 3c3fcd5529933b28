//! Which fields each transformer touches: the field-spec tables in effect for one kustomization.
//!
//! Design. kustomize's default tables are data (`fieldspecs/*.yaml`, compiled into statics by
//! build.rs); a kustomization's `configurations:` files, and those of every kustomization below
//! it, extend them (kustomize accumulates transformer configurations upwards). Parsing a
//! kustomization and running its transformers both need the tables, so they live here, below
//! both; the default tables themselves are the generated `builtin` statics.

use super::fieldspec::FieldSpec;
use crate::yaml::{Node, Value};

/// Which fields each transformer touches: kustomize's defaults, extended by the kustomization's
/// `configurations:` files (how CRD fields get images, labels and name references).
///
/// The default tables are shared (`Arc`) and copied only when `configurations:` extends them:
/// every kustomization starts from them, and cloning hundreds of field specs per kustomization
/// was a measurable part of rendering a large repository.
#[derive(Clone, Debug)]
pub(crate) struct TransformerConfig {
    pub(crate) common_labels: Specs,
    pub(crate) template_labels: Specs,
    pub(crate) common_annotations: Specs,
    pub(crate) images: Specs,
    pub(crate) replicas: Specs,
    pub(crate) namespace: Specs,
    /// `namePrefix`/`nameSuffix` field specs from `configurations:` (`None`: the default, every
    /// object's `metadata/name`). kustomize merges its default into configured specs, and a
    /// configured `metadata/name` spec of any kind counts as the default already there: so
    /// `metadata/name` for one kind renames only that kind, another path adds to the renaming.
    pub(crate) name_prefix: Option<Vec<FieldSpec>>,
    pub(crate) name_suffix: Option<Vec<FieldSpec>>,
    /// Extra `nameReference` entries (kind + fieldSpecs), for the name-reference pass.
    pub(crate) name_reference: Vec<Node>,
    /// Extra `varReference` field specs, for `vars`.
    pub(crate) var_reference: Vec<FieldSpec>,
}

/// A shared, copy-on-write table of field specs.
pub(crate) type Specs = std::sync::Arc<Vec<FieldSpec>>;

/// kustomize's default tables, built once.
static DEFAULT_SPECS: std::sync::LazyLock<[Specs; 6]> = std::sync::LazyLock::new(|| {
    use super::builtin as t;
    [
        Specs::new(t::COMMON_LABELS.to_vec()),
        Specs::new(t::TEMPLATE_LABELS.to_vec()),
        Specs::new(t::COMMON_ANNOTATIONS.to_vec()),
        Specs::new(t::IMAGES.to_vec()),
        Specs::new(t::REPLICAS.to_vec()),
        Specs::new(t::NAMESPACE.to_vec()),
    ]
});

impl Default for TransformerConfig {
    fn default() -> TransformerConfig {
        let [
            common_labels,
            template_labels,
            common_annotations,
            images,
            replicas,
            namespace,
        ] = DEFAULT_SPECS.clone();
        TransformerConfig {
            common_labels,
            template_labels,
            common_annotations,
            images,
            replicas,
            namespace,
            name_prefix: None,
            name_suffix: None,
            name_reference: Vec::new(),
            var_reference: Vec::new(),
        }
    }
}

impl TransformerConfig {
    /// kustomize's defaults with the given `configurations:` documents merged in, in order.
    pub(crate) fn from_docs(docs: &[std::sync::Arc<Node>]) -> TransformerConfig {
        let mut c = TransformerConfig::default();
        for d in docs {
            c.extend_from(d);
        }
        c
    }

    /// Adds the tables of one `configurations:` document (a spec already there is not added
    /// twice, as kustomize's merge keeps one).
    pub(crate) fn extend_from(&mut self, doc: &Node) {
        let specs = |key: &str| -> Vec<FieldSpec> {
            doc.get(key)
                .and_then(|n| n.as_seq())
                .map(|s| s.iter().filter_map(FieldSpec::from_node).collect())
                .unwrap_or_default()
        };
        for (key, table) in [
            ("commonLabels", &mut self.common_labels),
            ("templateLabels", &mut self.template_labels),
            ("commonAnnotations", &mut self.common_annotations),
            ("images", &mut self.images),
            ("replicas", &mut self.replicas),
            ("namespace", &mut self.namespace),
        ] {
            let more: Vec<FieldSpec> = specs(key)
                .into_iter()
                .filter(|f| !table.contains(f))
                .collect();
            if !more.is_empty() {
                std::sync::Arc::make_mut(table).extend(more);
            }
        }
        for f in specs("varReference") {
            if !self.var_reference.contains(&f) {
                self.var_reference.push(f);
            }
        }
        for (key, slot) in [
            ("namePrefix", &mut self.name_prefix),
            ("nameSuffix", &mut self.name_suffix),
        ] {
            let more = specs(key);
            if !more.is_empty() {
                let is_name = |f: &FieldSpec| *f.path == ["metadata", "name"];
                let default = FieldSpec {
                    group: None,
                    version: None,
                    kind: None,
                    path: std::borrow::Cow::Owned(vec!["metadata".into(), "name".into()]),
                    create: false,
                };
                let v = slot.get_or_insert_with(Vec::new);
                v.retain(|f| *f != default);
                for f in more {
                    if !v.contains(&f) {
                        v.push(f);
                    }
                }
                if !v.iter().any(is_name) {
                    v.insert(0, default);
                }
            }
        }
        if let Some(Value::Seq(items)) = doc.get("nameReference").map(|n| &n.value) {
            for it in items {
                if !self.name_reference.contains(it) {
                    self.name_reference.push(it.clone());
                }
            }
        }
    }
}
