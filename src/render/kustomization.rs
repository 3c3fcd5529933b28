//! The kustomization file: a typed view over its node tree.
//!
//! Fields keep their nodes (and so their locations): a transformer that sets a value records the
//! entry it came from in `via`, and errors point at the offending entry. Unknown fields are errors,
//! as in kustomize; fields kustodian will not emulate (helm, plugins) are refused by name.

use super::error::{RenderError, RenderErrorKind};
use super::scalars::raw_string;
use super::transformer_config::TransformerConfig;
use crate::source::{Fs, Loc, child_rel};
use crate::text::edit_distance;
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

/// How strictly a kustomization is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decode {
    /// As kustomize: an unknown field is an error.
    Strict,
    /// As Flux reads the root kustomization it edits (`yaml.Unmarshal` into kustomize's types,
    /// then written back): unknown fields are dropped; wrongly typed values still fail.
    Lenient,
}

#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    pub path: String,
    pub is_component: bool,
    pub resources: Vec<Ref>,
    /// How many of `resources` are listed under `resources:` itself (not legacy `bases:`).
    pub resources_listed: usize,
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
        Kustomization::from_docs_with(path, docs, text, Decode::Strict)
    }

    /// [`Kustomization::from_docs`] with a choice of decoder.
    pub fn from_docs_with(
        path: &str,
        docs: Vec<Node>,
        text: &str,
        decode: Decode,
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
        super::kusttypes::check(&mut doc, text, decode == Decode::Lenient)?;
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
                "openapi" => k.openapi_path = openapi_path(v)?,
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
                "resources" | "bases" => {
                    let listed = refs(v, f)?;
                    if f == "resources" {
                        k.resources_listed += listed.len();
                    }
                    k.resources.extend(listed);
                }
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
                "configMapGenerator" => k.config_map_generator = generator_args(list(v, f)?),
                "secretGenerator" => k.secret_generator = generator_args(list(v, f)?),
                "generatorOptions" => k.generator_options = Some(v.clone()),
                "replacements" => k.replacements = list(v, f)?,
                "vars" => k.vars = list(v, f)?,
                "sortOptions" => k.sort_options = parse_sort_options(v)?,
                "buildMetadata" => {
                    k.build_metadata = refs(v, f)?.into_iter().map(|r| r.text).collect();
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
                _ if decode == Decode::Lenient => {}
                _ => return Err(unknown_field(f, path, e.key_loc)),
            }
        }
        Ok(k)
    }
}

/// `openapi:`: the custom schema's path, if any (kustomize's one built-in version is the default).
fn openapi_path(v: &Node) -> Result<Option<Ref>, RenderError> {
    let version = v.get("version").and_then(crate::yaml::Node::scalar_string);
    let path = v.get("path").and_then(crate::yaml::Node::scalar_string);
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
            format!("the specified OpenAPI version '{ver}' is not built in (known: v1.21.2)"),
            v.get("version").map_or(v.loc, |x| x.loc),
        ));
    }
    Ok(path.map(|p| Ref {
        text: p,
        loc: v.get("path").map_or(v.loc, |x| x.loc),
    }))
}

/// Generator entries, each located where it is written.
fn generator_args(list: Vec<Node>) -> Vec<GeneratorArgs> {
    list.into_iter()
        .map(|n| GeneratorArgs {
            loc: n.loc,
            node: n,
        })
        .collect()
}

/// A field kustomize does not know, with the known field it is likely a misspelling of.
fn unknown_field(f: &str, path: &str, at: Loc) -> RenderError {
    let hint = KNOWN
        .iter()
        .find(|k| edit_distance(k, f) <= 2)
        .map(|k| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default();
    RenderError::invalid(
        format!("invalid Kustomization: unknown field '{f}' in {path}{hint}"),
        at,
    )
}

/// `sortOptions` of a kustomization.
#[derive(Clone, Debug, PartialEq)]
pub enum SortChoice {
    Legacy {
        first: Option<Vec<String>>,
        last: Option<Vec<String>>,
    },
    Fifo,
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
                            .filter_map(crate::yaml::Node::scalar_string)
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
