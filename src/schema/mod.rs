//! Offline schema validation of rendered manifests.
//!
//! Built-in kinds are validated against the Kubernetes schemas bundled in the binary
//! (`schemas/kubernetes/v1.NN.json.gz`, from the `kubernetes-validate` package: JSON Schema
//! 2020-12, strict — unknown fields are errors — with nullable types, int-or-string and quantities
//! as the API server accepts them), lowered at build time into static tables that [`native`]
//! walks directly. Custom resources are validated against the `openAPIV3Schema` of
//! `CustomResourceDefinition`s found in the rendered repository (`nullable`,
//! `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields` honoured) and
//! `schema-dirs` files, with `jsonschema`; each such validator is compiled once and shared across
//! threads. Both validators report the same `Problem`s, worded and located in one place
//! (`wording.rs`). A violation's JSON pointer is walked back through the node tree to the source
//! line that produced the offending value — the unknown key itself for "unknown field" — so the
//! finding points at the line to edit, which kubeconform cannot.
//!
//! Layout: this module holds the [`SchemaSet`] (which schema validates which kind, compiled once);
//! `native.rs` walks the bundled tables, `instance.rs` shows a node tree to `jsonschema`,
//! `openapi.rs` converts CRD schemas and names `schema-dirs` files, `wording.rs` words and
//! locates problems, `dupkeys.rs` finds duplicate keys.

pub mod dupkeys;
pub mod instance;
pub mod native;
mod openapi;
mod wording;

pub use dupkeys::find_duplicate_keys;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value as J, json};

use crate::source::Loc;
use crate::yaml::Node;
use openapi::{convert_openapi, key_from_file_name, relax};
use wording::{problem, violations};

/// Why a [`SchemaSet`] could not be built (a configuration problem: exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("Kubernetes version '{wanted}' is not bundled (available: {available})")]
    UnknownVersion { wanted: String, available: String },
    #[error("schema-dirs: '{0}' is not a directory in the repository")]
    NotADirectory(String),
    #[error("schema-dirs: {path}: {message}")]
    BadFile { path: String, message: String },
}

/// Callers that report configuration problems as plain text (findings) take the message.
impl From<SchemaError> for String {
    fn from(e: SchemaError) -> String {
        e.to_string()
    }
}

/// What to validate against, as configured (`schema-violation` options).
#[derive(Clone, Debug)]
pub struct SchemaOptions {
    /// `1.NN` (a leading `v` and a patch level are ignored); `None`: the newest bundled.
    pub kubernetes_version: Option<String>,
    /// Unknown fields are errors (the API server's `fieldValidation=Strict`).
    pub strict: bool,
    /// Kinds not validated at all: `Kind` or `apiVersion/Kind` (`Outcome::Skipped`).
    pub skip_kinds: Vec<String>,
    /// Kinds refused outright: `Kind` or `apiVersion/Kind` (`Outcome::Rejected`).
    pub reject_kinds: Vec<String>,
    /// Extra schema directories on disk (kubeconform layout or CRD manifests).
    pub schema_dirs: Vec<PathBuf>,
}

impl Default for SchemaOptions {
    fn default() -> SchemaOptions {
        SchemaOptions {
            kubernetes_version: None,
            strict: true,
            skip_kinds: Vec::new(),
            reject_kinds: Vec::new(),
            schema_dirs: Vec::new(),
        }
    }
}

/// Versions bundled in the binary, oldest first.
pub fn bundled_versions() -> Vec<String> {
    native::BUNDLED
        .iter()
        .map(|t| t.version.to_string())
        .collect()
}

/// The tables of the bundled version a configured `kubernetes-version` names (`1.NN`; a leading
/// `v` and a patch level are ignored; `None`: the newest bundled).
fn bundled_tables(version: Option<&str>) -> Result<&'static native::Tables, SchemaError> {
    let wanted = version.unwrap_or(default_version()).trim_start_matches('v');
    native::BUNDLED
        .iter()
        .find(|t| wanted == t.version || wanted.starts_with(&format!("{}.", t.version)))
        .ok_or_else(|| SchemaError::UnknownVersion {
            wanted: wanted.to_string(),
            available: bundled_versions().join(", "),
        })
}

/// The default Kubernetes version: the newest bundled.
pub fn default_version() -> &'static str {
    native::BUNDLED
        .last()
        .expect("at least one bundled version")
        .version
}

/// Sets up, on the thread pool the check uses anyway, the one-time work of the first
/// `jsonschema` compilation (its meta-schema), so that it overlaps with reading the repository.
/// Only schemas from `schema-dirs` and CRDs are compiled; a check without them never pays it.
pub fn warm_up() {
    rayon::spawn(|| {
        let _ = jsonschema::validator_for(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
        }));
    });
}

/// Kinds of a bundled version: `(apiVersion, kind)`, sorted.
pub fn kinds(version: &str) -> Vec<(String, String)> {
    let Some(t) = native::tables(version) else {
        return vec![];
    };
    let mut out: Vec<(String, String)> = t
        .kinds()
        .map(|(group, version, kind)| {
            let api = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            (api, kind.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Text for `kustodian schemas list`.
pub fn list_bundled() -> String {
    let mut s = String::new();
    for v in bundled_versions() {
        let k = kinds(&v);
        s.push_str(&format!("Kubernetes {v}: {} kinds\n", k.len()));
        for (api, kind) in k {
            s.push_str(&format!("  {api} {kind}\n"));
        }
    }
    s
}

/// One schema violation, located in the source.
#[derive(Clone, Debug)]
pub struct Violation {
    /// JSON pointer of the offending value (`/spec/replicas`); for an unknown field, of the field.
    pub pointer: String,
    /// Dotted path (`spec.replicas`).
    pub path: String,
    pub message: String,
    pub loc: Loc,
}

/// The result of validating one object.
#[derive(Clone, Debug)]
pub enum Outcome {
    Valid,
    Invalid(Vec<Violation>),
    /// No schema for this apiVersion/kind (neither built in nor from a CRD in the repo).
    MissingSchema,
    /// The kind is listed in `skip_kinds`.
    Skipped,
    /// The kind is listed in `reject_kinds`.
    Rejected,
}

/// How one kind is validated.
#[derive(Clone)]
enum Validator {
    /// A bundled kind: the static tables and the kind's root node (nothing to compile).
    Native(&'static native::Tables, u32),
    /// A schema from a CRD or `schema-dirs`, compiled, with the document its error locations
    /// refer to (read back for "did you mean" hints).
    Compiled(Arc<jsonschema::Validator<instance::Rendered>>, Arc<J>),
}

/// A kind's validator, or `None` when there is no schema for the kind.
type Compiled = Option<Validator>;

/// One problem found by either validator, before it is worded and located: both produce the
/// same problems for the same schema, so their findings read alike.
#[derive(Debug)]
pub(crate) struct Problem {
    /// JSON pointer of the value (for unknown fields, of the object holding them).
    pub pointer: String,
    pub kind: ProblemKind,
}

#[derive(Debug)]
pub(crate) enum ProblemKind {
    /// Fields the schema does not allow, and the ones it does at that level (for hints).
    Unknown {
        keys: Vec<String>,
        allowed: Vec<String>,
    },
    /// A required field, missing.
    Required(String),
    /// The value is not of the type(s) named: `integer`, or `string or integer` for the plain
    /// alternatives of an int-or-string.
    Expected(String),
    /// Not one of the allowed values (JSON texts).
    Enum(Vec<String>),
    /// Anything else, in the validator's words.
    Other(String),
}

/// A kind's validator, compiled by the thread that claims it first; others wait for it.
#[derive(Default)]
struct SlotInner {
    claimed: std::sync::atomic::AtomicBool,
    cell: std::sync::OnceLock<Compiled>,
}
type Slot = Arc<SlotInner>;

/// Validators for one Kubernetes version plus the repository's CRDs.
pub struct SchemaSet {
    /// The bundled Kubernetes version's tables.
    tables: &'static native::Tables,
    strict: bool,
    /// `apiVersion/kind` → openAPIV3Schema converted to JSON Schema.
    crds: HashMap<(String, String), J>,
    /// `(lowercase kind, group, version)` → schema from `schema-dirs` JSON files.
    file_schemas: HashMap<(String, String, String), J>,
    /// One slot per kind, filled once: a thread asking for a kind another thread is compiling
    /// waits for it instead of compiling it again (compiling is the costly part).
    compiled: Mutex<HashMap<(String, String), Slot>>,
    skip_kinds: Vec<String>,
    reject_kinds: Vec<String>,
}

impl SchemaSet {
    /// `version`: a bundled `1.NN` (default: newest). `crds`: CustomResourceDefinition objects.
    pub fn new(
        version: Option<&str>,
        strict: bool,
        crds: &[&Node],
    ) -> Result<SchemaSet, SchemaError> {
        let tables = bundled_tables(version)?;
        let mut map = HashMap::new();
        for crd in crds {
            let crd = crate::yaml::to_json(crd);
            let group = crd["spec"]["group"].as_str().unwrap_or("").to_string();
            let kind = crd["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or("")
                .to_string();
            for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                let (Some(name), Some(schema)) =
                    (v["name"].as_str(), v["schema"].get("openAPIV3Schema"))
                else {
                    continue;
                };
                if v["served"] == J::Bool(false) {
                    continue;
                }
                let mut s = convert_openapi(schema, strict);
                // apiVersion, kind and metadata are always allowed on a custom resource.
                if let Some(props) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
                    props
                        .entry("apiVersion")
                        .or_insert(json!({"type": "string"}));
                    props.entry("kind").or_insert(json!({"type": "string"}));
                    props.entry("metadata").or_insert(json!({"type": "object"}));
                }
                map.insert((format!("{group}/{name}"), kind.clone()), s);
            }
        }
        Ok(SchemaSet {
            tables,
            strict,
            crds: map,
            file_schemas: HashMap::new(),
            compiled: Mutex::default(),
            skip_kinds: Vec::new(),
            reject_kinds: Vec::new(),
        })
    }

    /// A set from configured options: bundled version, strictness, skipped and rejected kinds,
    /// the given CRDs and the CRDs and JSON schemas under `schema_dirs` (read from disk).
    pub fn with_options(options: &SchemaOptions, crds: &[&Node]) -> Result<SchemaSet, SchemaError> {
        let mut set = SchemaSet::new(options.kubernetes_version.as_deref(), options.strict, crds)?;
        set.skip_kinds = options.skip_kinds.clone();
        set.reject_kinds = options.reject_kinds.clone();
        for dir in &options.schema_dirs {
            let fs = crate::source::DiskFs::new(dir).map_err(|e| SchemaError::BadFile {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
            set.add_dirs(&fs, &[String::new()])?;
        }
        Ok(set)
    }

    /// Adds CustomResourceDefinitions found later (the repository's rendered CRDs). Schemas
    /// already known for a kind — from `schema_dirs` — take precedence.
    pub fn add_crds(&mut self, crds: &[&Node]) -> Result<(), SchemaError> {
        if crds.is_empty() {
            return Ok(());
        }
        let more = SchemaSet::new(Some(self.tables.version), self.strict, crds)?;
        for (k, v) in more.crds {
            self.crds.entry(k).or_insert(v);
        }
        // Kinds looked up before their CRD arrived were remembered as having no schema.
        self.compiled
            .lock()
            .unwrap()
            .retain(|_, v| v.cell.get().is_some_and(|c| c.is_some()));
        Ok(())
    }

    /// Whether validating this kind needs no more schemas: it has one, or the policy skips or
    /// rejects it by name.
    pub fn resolvable(&self, api: &str, kind: &str) -> bool {
        Self::listed(&self.reject_kinds, api, kind)
            || Self::listed(&self.skip_kinds, api, kind)
            || self.validator(api, kind).is_some()
    }

    /// `(apiVersion, kind)` pairs with a schema: the bundled version's kinds and the CRDs'.
    pub fn kinds(&self) -> Vec<(String, String)> {
        let mut out = kinds(self.tables.version);
        out.extend(self.crds.keys().cloned());
        out.sort();
        out.dedup();
        out
    }

    fn listed(list: &[String], api: &str, kind: &str) -> bool {
        list.iter().any(|k| {
            k == kind || k.strip_suffix(kind).and_then(|a| a.strip_suffix('/')) == Some(api)
        })
    }

    pub fn version(&self) -> &str {
        self.tables.version
    }

    /// Adds schemas from repository directories: JSON Schema files named like kubeconform's
    /// (`{kind}-{group}-{version}.json`, `{kind}-{version}.json` for the core group, or
    /// `{group}/{kind}_{version}.json` as in the CRDs catalog), and YAML files holding
    /// `CustomResourceDefinition`s. Paths are repository-relative and read through `fs`.
    pub fn add_dirs(
        &mut self,
        fs: &dyn crate::source::Fs,
        dirs: &[String],
    ) -> Result<(), SchemaError> {
        for dir in dirs {
            if !fs.is_dir(dir) {
                return Err(SchemaError::NotADirectory(dir.clone()));
            }
            let mut stack = vec![dir.clone()];
            while let Some(d) = stack.pop() {
                let io = |path: &str, e: &dyn std::fmt::Display| SchemaError::BadFile {
                    path: path.to_string(),
                    message: e.to_string(),
                };
                for name in fs.list(&d).map_err(|e| io(&d, &e))? {
                    let path = crate::source::child_rel(&d, &name);
                    if fs.is_dir(&path) {
                        stack.push(path);
                        continue;
                    }
                    let text = fs.read(&path).map_err(|e| io(&path, &e))?;
                    if name.ends_with(".json") {
                        let schema: J = serde_json::from_str(&text)
                            .map_err(|e| io(&path, &format!("invalid JSON: {e}")))?;
                        let Some(key) = key_from_file_name(&d, &name) else {
                            continue;
                        };
                        let mut schema = schema;
                        if !self.strict {
                            relax(&mut schema);
                        }
                        self.file_schemas.insert(key, schema);
                    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                        let docs = crate::yaml::parse_documents(&text, crate::source::FileId::NONE)
                            .map_err(|e| io(&path, &format!("invalid YAML: {}", e.message)))?;
                        let crds: Vec<&Node> = docs
                            .iter()
                            .filter(|d| d.str_at(&["kind"]) == Some("CustomResourceDefinition"))
                            .collect();
                        let more = SchemaSet::new(Some(self.tables.version), self.strict, &crds)?;
                        self.crds.extend(more.crds);
                    }
                }
            }
        }
        Ok(())
    }

    fn slot(&self, api: &str, kind: &str) -> Slot {
        self.compiled
            .lock()
            .unwrap()
            .entry((api.to_string(), kind.to_string()))
            .or_default()
            .clone()
    }

    /// Whether every kind is validated against the bundled tables: no CRDs or schema files that
    /// could take precedence, so there is nothing to compile or cache.
    fn bundled_only(&self) -> bool {
        self.crds.is_empty() && self.file_schemas.is_empty()
    }

    /// The bundled validator of a kind, if the version has the kind.
    fn native(&self, api: &str, kind: &str) -> Compiled {
        let (group, version) = crate::text::split_api_version(api);
        let root = self.tables.root(group, version, kind)?;
        Some(Validator::Native(self.tables, root))
    }

    fn validator(&self, api: &str, kind: &str) -> Compiled {
        if self.bundled_only() {
            return self.native(api, kind);
        }
        let slot = self.slot(api, kind);
        if let Some(c) = slot.cell.get() {
            return c.clone();
        }
        if !slot.claimed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            let c = self.compile(api, kind);
            let _ = slot.cell.set(c.clone());
            return c;
        }
        slot.cell.wait().clone()
    }

    /// Compiles the validators of these `(apiVersion, kind)` pairs that no other thread is
    /// compiling; returns whether all of them are ready (`false`: another thread is still
    /// compiling one). Threads that meet the same kinds at the same moment (the first app each
    /// renders) so compile different kinds side by side, and neither waits for the other: an
    /// app whose kinds are not ready can be checked later (see `check.rs`).
    pub fn prepare(&self, kinds: &[(String, String)]) -> bool {
        if self.bundled_only() {
            return true;
        }
        let mut ready = true;
        for (api, kind) in kinds {
            let slot = self.slot(api, kind);
            if slot.cell.get().is_some() {
                continue;
            }
            if slot.claimed.swap(true, std::sync::atomic::Ordering::AcqRel) {
                ready &= slot.cell.get().is_some();
            } else {
                let _ = slot.cell.set(self.compile(api, kind));
            }
        }
        ready
    }

    fn compile(&self, api: &str, kind: &str) -> Compiled {
        let key = (api.to_string(), kind.to_string());
        let (group, version) = crate::text::split_api_version(api);
        // kubeconform names files by the group's first label, the CRDs catalog by the full group.
        let lower = kind.to_ascii_lowercase();
        let file_schema = [group, group.split('.').next().unwrap_or(group)]
            .iter()
            .find_map(|g| {
                self.file_schemas
                    .get(&(lower.clone(), g.to_string(), version.to_string()))
            })
            .cloned();
        let own = self.crds.get(&key).cloned().or(file_schema);
        let Some(document) = own else {
            return self.native(api, kind);
        };
        let document = Arc::new(document);
        let v = jsonschema::options_for::<instance::Rendered>()
            .build(&document)
            .ok()?;
        Some(Validator::Compiled(Arc::new(v), document))
    }

    /// Whether validating this object would find a schema (without validating it): the answer
    /// `validate` gives as [`Outcome::MissingSchema`], for kinds neither skipped nor rejected.
    pub fn has_schema(&self, obj: &Node) -> bool {
        self.resolvable(
            obj.str_at(&["apiVersion"]).unwrap_or(""),
            obj.str_at(&["kind"]).unwrap_or(""),
        )
    }

    /// Validates one rendered object.
    pub fn validate(&self, obj: &Node) -> Outcome {
        let api = obj.str_at(&["apiVersion"]).unwrap_or("");
        let kind = obj.str_at(&["kind"]).unwrap_or("");
        if Self::listed(&self.reject_kinds, api, kind) {
            return Outcome::Rejected;
        }
        if Self::listed(&self.skip_kinds, api, kind) {
            return Outcome::Skipped;
        }
        let problems = match self.validator(api, kind) {
            None => return Outcome::MissingSchema,
            Some(Validator::Native(tables, root)) => {
                // Almost every object is valid: the yes/no walk stops early and collects nothing.
                if tables.is_valid(root, obj, self.strict) {
                    return Outcome::Valid;
                }
                let mut out = Vec::new();
                tables.problems(root, obj, self.strict, &mut String::new(), &mut out);
                out
            }
            Some(Validator::Compiled(v, document)) => {
                // The node tree itself, not a JSON copy of it (see `instance`).
                let instance = instance::Handle::Node(obj);
                if v.is_valid(instance) {
                    return Outcome::Valid;
                }
                v.iter_errors(instance)
                    .map(|e| problem(&e, &document))
                    .collect()
            }
        };
        let violations: Vec<Violation> = problems
            .into_iter()
            .flat_map(|p| violations(obj, p))
            .collect();
        if violations.is_empty() {
            Outcome::Valid
        } else {
            Outcome::Invalid(violations)
        }
    }
}
