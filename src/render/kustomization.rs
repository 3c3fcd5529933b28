//! The kustomization file: a typed view over its node tree.
//!
//! Fields keep their nodes (and so their locations): a transformer that sets a value records the
//! entry it came from in `via`, and errors point at the offending entry. Unknown fields are errors,
//! as in kustomize; fields kustodian will not emulate (helm, plugins) are refused by name.

use super::SortChoice;
use super::error::{RenderError, RenderErrorKind};
use super::fieldspec::FieldSpec;
use crate::source::{Fs, Loc, child_rel};
use crate::yaml::{Node, Value};

/// A string entry with its location (a path in `resources`, a patch path, ...).
#[derive(Clone, Debug)]
pub struct Ref {
    pub text: String,
    pub loc: Loc,
}

/// A generator entry (configMapGenerator / secretGenerator item).
#[derive(Clone, Debug)]
pub struct GeneratorArgs {
    pub node: Node,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    pub path: String,
    pub is_component: bool,
    pub resources: Vec<Ref>,
    pub components: Vec<Ref>,
    pub crds: Vec<Ref>,
    pub namespace: Option<(String, Loc)>,
    pub name_prefix: Option<(String, Loc)>,
    pub name_suffix: Option<(String, Loc)>,
    pub common_labels: Vec<(String, String, Loc)>,
    /// `labels:` entries (pairs, includeSelectors, includeTemplates, fields).
    pub labels: Vec<Node>,
    pub common_annotations: Vec<(String, String, Loc)>,
    pub images: Vec<Node>,
    pub replicas: Vec<Node>,
    pub patches: Vec<Node>,
    pub patches_strategic_merge: Vec<Node>,
    pub patches_json6902: Vec<Node>,
    pub config_map_generator: Vec<GeneratorArgs>,
    pub secret_generator: Vec<GeneratorArgs>,
    pub generator_options: Option<Node>,
    pub replacements: Vec<Node>,
    pub vars: Vec<Node>,
    pub sort_options: Option<SortChoice>,
    pub build_metadata: Vec<String>,
    pub transformers: Vec<Ref>,
    /// `openapi.path`: a custom schema file (must exist; it informs CRD patch merging).
    pub openapi_path: Option<Ref>,
    /// Field-spec tables for this kustomization: the defaults plus `configurations:` files.
    pub tconfig: TransformerConfig,
    /// `configurations:` file references.
    pub configurations: Vec<Ref>,
    /// `generators:` entries: builtin generator config files (or inline YAML).
    pub generators: Vec<Ref>,
}

const KNOWN: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "imageTags",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "vars",
    "crds",
    "openapi",
    "configurations",
    "sortOptions",
    "buildMetadata",
    "transformers",
    "generators",
    "validators",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
];

/// The names a kustomization file may have, in kustomize's order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Finds the kustomization file of a directory (`kustomization.yaml`, `.yml`, `Kustomization`):
/// whatever is there under that name, even a symlink out of the root, a directory or a FIFO, so
/// that reading it says what is wrong instead of the directory silently not being one.
pub fn find_kustomization_file(fs: &dyn Fs, dir: &str) -> Option<String> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| child_rel(dir, n))
        .find(|p| fs.exists(p))
}

/// Every kustomization file name present in `dir` (kustomize refuses a directory with two).
pub fn kustomization_files(fs: &dyn Fs, dir: &str) -> Vec<String> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|n| child_rel(dir, n))
        .filter(|p| fs.exists(p))
        .collect()
}

/// kustomize refuses a kustomization that sets nothing (only `apiVersion` and `kind`, or only
/// null, empty or zero values: Go's zero values) as empty, and one whose `apiVersion` is not its
/// kind's.
fn check_type_meta(path: &str, m: &crate::yaml::Mapping, at: Loc) -> Result<(), RenderError> {
    let field = |name: &str| m.entries.iter().find(|e| e.key.eq_ignore_ascii_case(name));
    let zero = |v: &Value| match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::Int(i) => *i == 0,
        Value::Bool(b) => !b,
        Value::Float(f) => *f == 0.0,
        Value::Seq(_) | Value::Map(_) => false,
    };
    let type_meta =
        |k: &str| k.eq_ignore_ascii_case("apiVersion") || k.eq_ignore_ascii_case("kind");
    if m.entries
        .iter()
        .all(|e| type_meta(&e.key) || zero(&e.value.value))
    {
        return Err(empty_kustomization(path, at));
    }
    let kind = field("kind").and_then(|e| e.value.as_str()).unwrap_or("");
    let (name, required) = if kind == "Component" {
        ("Component", "kustomize.config.k8s.io/v1alpha1")
    } else {
        ("Kustomization", "kustomize.config.k8s.io/v1beta1")
    };
    if let Some(e) = field("apiVersion")
        && let Some(v) = e.value.as_str()
        && !v.is_empty()
        && v != required
    {
        return Err(RenderError::invalid(
            format!("{path}: apiVersion for {name} should be {required} (not '{v}')"),
            e.value.loc,
        ));
    }
    Ok(())
}

fn empty_kustomization(path: &str, at: Loc) -> RenderError {
    RenderError::invalid(
        format!(
            "{path} is empty: it sets no field to build (kustomize refuses it: \"kustomization.yaml is empty\")"
        ),
        at,
    )
    .with_path(path)
}

fn refs(n: &Node, field: &str) -> Result<Vec<Ref>, RenderError> {
    match &n.value {
        Value::Null => Ok(vec![]),
        Value::Seq(items) => items
            .iter()
            .map(|i| match i.scalar_string() {
                Some(s) if !matches!(i.value, Value::Null) => Ok(Ref {
                    text: s,
                    loc: i.loc,
                }),
                _ => Err(RenderError::invalid(
                    format!("'{field}' entries must be strings"),
                    i.loc,
                )),
            })
            .collect(),
        _ => Err(RenderError::invalid(
            format!("'{field}' must be a list"),
            n.loc,
        )),
    }
}

fn list(n: &Node, field: &str) -> Result<Vec<Node>, RenderError> {
    match &n.value {
        Value::Null => Ok(vec![]),
        Value::Seq(items) => Ok(items.clone()),
        _ => Err(RenderError::invalid(
            format!("'{field}' must be a list"),
            n.loc,
        )),
    }
}

fn string_map(n: &Node, field: &str) -> Result<Vec<(String, String, Loc)>, RenderError> {
    match &n.value {
        Value::Null => Ok(vec![]),
        Value::Map(m) => Ok(m
            .entries
            .iter()
            .map(|e| {
                (
                    e.key.to_string(),
                    raw_string(&e.value),
                    if e.value.loc.is_some() {
                        e.value.loc
                    } else {
                        e.key_loc
                    },
                )
            })
            .collect()),
        _ => Err(RenderError::invalid(
            format!("'{field}' must be a map"),
            n.loc,
        )),
    }
}

/// A scalar as Go's `map[string]string` sees it (null → empty).
pub fn raw_string(n: &Node) -> String {
    match &n.value {
        Value::Null => String::new(),
        _ => n.scalar_string().unwrap_or_default(),
    }
}

fn scalar(n: &Node, field: &str) -> Result<Option<(String, Loc)>, RenderError> {
    match &n.value {
        Value::Null => Ok(None),
        Value::Seq(_) | Value::Map(_) => Err(RenderError::invalid(
            format!("'{field}' must be a string"),
            n.loc,
        )),
        _ => Ok(Some((n.scalar_string().unwrap_or_default(), n.loc))),
    }
}

impl Kustomization {
    /// Reads the kustomization from its parsed documents; `text` is the file's text (for the
    /// strict decoding of [`super::kusttypes`]).
    pub fn from_docs(
        path: &str,
        docs: Vec<Node>,
        text: &str,
    ) -> Result<Kustomization, RenderError> {
        let docs: Vec<Node> = docs.into_iter().filter(|d| !d.is_null()).collect();
        let mut k = Kustomization {
            path: path.to_string(),
            ..Default::default()
        };
        let Some(mut doc) = docs.into_iter().next() else {
            return Err(empty_kustomization(path, Loc::NONE));
        };
        // Decoded into Go strings, a plain date keeps its spelling (resources print it as a
        // timestamp).
        crate::yaml::resolve::restore_timestamps(&mut doc, text);
        super::kusttypes::check(&mut doc, text)?;
        let Value::Map(m) = &doc.value else {
            return Err(RenderError::invalid(
                format!("{path}: a kustomization must be a mapping"),
                doc.loc,
            ));
        };
        check_type_meta(path, m, doc.loc)?;
        for e in &m.entries {
            let v = &e.value;
            // kustomize decodes through encoding/json, which matches field names
            // case-insensitively (`nameprefix` works).
            let f = KNOWN
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&e.key))
                .copied()
                .unwrap_or(e.key.as_str());
            match f {
                "apiVersion" | "metadata" => {}
                "configurations" => k.configurations = refs(v, f)?,
                "openapi" => {
                    let version = v.get("version").and_then(|x| x.scalar_string());
                    let path = v.get("path").and_then(|x| x.scalar_string());
                    if version.is_some() && path.is_some() {
                        return Err(RenderError::invalid(
                            "builtin version and custom schema provided, cannot use both",
                            v.loc,
                        ));
                    }
                    if let Some(ver) = version
                        && ver != "v1.21.2"
                    {
                        return Err(RenderError::invalid(
                            format!(
                                "the specified OpenAPI version '{ver}' is not built in (known: v1.21.2)"
                            ),
                            v.get("version").map(|x| x.loc).unwrap_or(v.loc),
                        ));
                    }
                    if let Some(p) = path {
                        k.openapi_path = Some(Ref {
                            text: p,
                            loc: v.get("path").map(|x| x.loc).unwrap_or(v.loc),
                        });
                    }
                }
                "kind" => match v.as_str() {
                    Some("Component") => k.is_component = true,
                    Some("Kustomization" | "") | None => {}
                    Some(other) => {
                        return Err(RenderError::invalid(
                            format!(
                                "unknown kind '{other}' in {path}: expected Kustomization or Component"
                            ),
                            v.loc,
                        ));
                    }
                },
                "resources" | "bases" => k.resources.extend(refs(v, f)?),
                "components" => k.components = refs(v, f)?,
                "crds" => k.crds = refs(v, f)?,
                "namespace" => k.namespace = scalar(v, f)?,
                "namePrefix" => k.name_prefix = scalar(v, f)?,
                "nameSuffix" => k.name_suffix = scalar(v, f)?,
                "commonLabels" => k.common_labels = string_map(v, f)?,
                "labels" => k.labels = list(v, f)?,
                "commonAnnotations" => k.common_annotations = string_map(v, f)?,
                "images" | "imageTags" => k.images.extend(list(v, f)?),
                "replicas" => k.replicas = list(v, f)?,
                "patches" => k.patches = list(v, f)?,
                "patchesStrategicMerge" => k.patches_strategic_merge = list(v, f)?,
                "patchesJson6902" => k.patches_json6902 = list(v, f)?,
                "configMapGenerator" => {
                    k.config_map_generator = list(v, f)?
                        .into_iter()
                        .map(|n| GeneratorArgs {
                            loc: n.loc,
                            node: n,
                        })
                        .collect()
                }
                "secretGenerator" => {
                    k.secret_generator = list(v, f)?
                        .into_iter()
                        .map(|n| GeneratorArgs {
                            loc: n.loc,
                            node: n,
                        })
                        .collect()
                }
                "generatorOptions" => k.generator_options = Some(v.clone()),
                "replacements" => k.replacements = list(v, f)?,
                "vars" => k.vars = list(v, f)?,
                "sortOptions" => k.sort_options = parse_sort_options(v)?,
                "buildMetadata" => {
                    k.build_metadata = refs(v, f)?.into_iter().map(|r| r.text).collect()
                }
                "transformers" => k.transformers = refs(v, f)?,
                "generators" => k.generators = refs(v, f)?,
                "validators" => {
                    if !refs(v, f)?.is_empty() {
                        return Err(RenderError::new(
                            RenderErrorKind::Unsupported,
                            format!("'{f}' (plugins) are not supported by kustodian's renderer"),
                            e.key_loc,
                        ));
                    }
                }
                "helmCharts" | "helmGlobals" | "helmChartInflationGenerator" => {
                    return Err(RenderError::new(
                        RenderErrorKind::Unsupported,
                        format!(
                            "'{f}' is not supported: kustodian does not run helm; render the chart into the repository"
                        ),
                        e.key_loc,
                    ));
                }
                _ => {
                    let hint = KNOWN
                        .iter()
                        .find(|k| edit_distance(k, f) <= 2)
                        .map(|k| format!(" (did you mean '{k}'?)"))
                        .unwrap_or_default();
                    return Err(RenderError::invalid(
                        format!("invalid Kustomization: unknown field '{f}' in {path}{hint}"),
                        e.key_loc,
                    ));
                }
            }
        }
        Ok(k)
    }
}

fn parse_sort_options(v: &Node) -> Result<Option<SortChoice>, RenderError> {
    if v.is_null() {
        return Ok(None);
    }
    let order = v.get("order").and_then(|o| o.as_str());
    match order {
        Some("fifo") => Ok(Some(SortChoice::Fifo)),
        Some("legacy") => {
            let lso = v.get("legacySortOptions");
            let get = |k: &str| {
                lso.and_then(|l| l.get(k))
                    .and_then(|x| x.as_seq())
                    .map(|s| {
                        s.iter()
                            .filter_map(|i| i.scalar_string())
                            .collect::<Vec<_>>()
                    })
            };
            Ok(Some(SortChoice::Legacy {
                first: get("orderFirst"),
                last: get("orderLast"),
            }))
        }
        _ => Err(RenderError::invalid(
            "the field 'sortOptions.order' must be one of [fifo, legacy]",
            v.loc,
        )),
    }
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Which fields each transformer touches: kustomize's defaults, extended by the kustomization's
/// `configurations:` files (how CRD fields get images, labels and name references).
///
/// The default tables are shared (`Arc`) and copied only when `configurations:` extends them:
/// every kustomization starts from them, and cloning hundreds of field specs per kustomization
/// was a measurable part of rendering a large repository.
#[derive(Clone, Debug)]
pub struct TransformerConfig {
    pub common_labels: Specs,
    pub template_labels: Specs,
    pub common_annotations: Specs,
    pub images: Specs,
    pub replicas: Specs,
    pub namespace: Specs,
    /// `namePrefix`/`nameSuffix` field specs from `configurations:` (`None`: the default, every
    /// object's `metadata/name`). kustomize merges its default into configured specs, and a
    /// configured `metadata/name` spec of any kind counts as the default already there: so
    /// `metadata/name` for one kind renames only that kind, another path adds to the renaming.
    pub name_prefix: Option<Vec<FieldSpec>>,
    pub name_suffix: Option<Vec<FieldSpec>>,
    /// Extra `nameReference` entries (kind + fieldSpecs), for the name-reference pass.
    pub name_reference: Vec<Node>,
    /// Extra `varReference` field specs, for `vars`.
    pub var_reference: Vec<FieldSpec>,
}

/// A shared, copy-on-write table of field specs.
pub type Specs = std::sync::Arc<Vec<FieldSpec>>;

/// kustomize's default tables, built once.
static DEFAULT_SPECS: std::sync::LazyLock<[Specs; 6]> = std::sync::LazyLock::new(|| {
    use super::transforms as t;
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
    pub fn from_docs(docs: &[std::sync::Arc<Node>]) -> TransformerConfig {
        let mut c = TransformerConfig::default();
        for d in docs {
            c.extend_from(d);
        }
        c
    }

    /// Adds the tables of one `configurations:` document (a spec already there is not added
    /// twice, as kustomize's merge keeps one).
    pub fn extend_from(&mut self, doc: &Node) {
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
