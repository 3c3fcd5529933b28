//! Offline schema validation of rendered manifests.
//!
//! Built-in kinds are validated against the Kubernetes schemas bundled in the binary
//! (`schemas/kubernetes/v1.NN.json.gz`, from the `kubernetes-validate` package: JSON Schema
//! 2020-12, strict — unknown fields are errors — with nullable types, int-or-string and quantities
//! as the API server accepts them), lowered at build time into static tables that [`native`]
//! walks directly. Custom resources are validated against the `openAPIV3Schema` of the
//! repository's `CustomResourceDefinition`s (`nullable`, `x-kubernetes-int-or-string` and
//! `x-kubernetes-preserve-unknown-fields` honoured), against `schema-dirs` files, and against the
//! bundled schemas of the GitOps ecosystem's kinds ([`gitops`]: Argo CD, Flux, Kargo,
//! cert-manager, external-secrets, sealed-secrets), with `jsonschema`; each such validator is
//! compiled once and shared across threads. Which schema wins for a kind: `schema-dirs`, then the
//! CRDs the checked apps render, then CRDs in any other YAML file of the repository, then the
//! bundled GitOps schemas. So an app with a kind that is not a Kubernetes one is checked once
//! every app is rendered; only then are the repository's other CRD files read, and only those
//! that could define a kind still without a schema (vendored CRDs run to megabytes: parsing them
//! all would cost more than the check). Both validators report the same `Problem`s, worded and
//! located in one place
//! (`wording.rs`). A violation's JSON pointer is walked back through the node tree to the source
//! line that produced the offending value — the unknown key itself for "unknown field" — so the
//! finding points at the line to edit, which kubeconform cannot.
//!
//! Layout: this module holds the [`SchemaSet`] (which schema validates which kind, compiled once);
//! `native.rs` walks the bundled tables, `gitops.rs` holds the bundled GitOps schemas,
//! `crd_files.rs` picks the wanted CRDs out of the repository's files,
//! `instance.rs` shows a node tree to `jsonschema`,
//! `openapi.rs` converts CRD schemas and names `schema-dirs` files, `wording.rs` words and
//! locates problems, `dupkeys.rs` finds duplicate keys.

mod crd_files;
pub mod dupkeys;
pub mod gitops;
pub mod instance;
pub mod native;
mod openapi;
mod wording;

pub use crd_files::crds_defining;
pub use dupkeys::find_duplicate_keys;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value as J, json};

use crate::source::Loc;
use crate::yaml::Node;
use openapi::{crd_schemas, key_from_file_name, relax};
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

/// Whether a top-level `sops` value is SOPS's metadata (it always holds `mac` and `version`).
fn is_sops_metadata(n: Option<&Node>) -> bool {
    n.is_some_and(|m| m.get("mac").is_some() && m.get("version").is_some())
}

/// Text for `kustodian schemas list`: the Kubernetes versions, then the GitOps projects' kinds
/// with the release each schema was taken from.
pub fn list_bundled() -> String {
    let mut s = String::new();
    for v in bundled_versions() {
        let k = kinds(&v);
        s.push_str(&format!("Kubernetes {v}: {} kinds\n", k.len()));
        for (api, kind) in k {
            s.push_str(&format!("  {api} {kind}\n"));
        }
    }
    let mut projects: std::collections::BTreeMap<&str, Vec<(String, &str, &str)>> =
        Default::default();
    for b in gitops::all() {
        projects
            .entry(b.project)
            .or_default()
            .push((b.api_version(), b.kind, b.source));
    }
    s.push_str(
        "Custom resources of the GitOps ecosystem (a CRD in the repository takes precedence):\n",
    );
    for (project, mut k) in projects {
        k.sort();
        s.push_str(&format!("{project}: {} kinds\n", k.len()));
        for (api, kind, source) in k {
            s.push_str(&format!("  {api} {kind} ({source})\n"));
        }
    }
    s
}

/// The JSON Schema of each served version of a `CustomResourceDefinition`: `(apiVersion, kind,
/// schema)`, strict — the conversion every CRD goes through, here for
/// `scripts/update-crd-schemas`.
pub fn crd_kind_schemas(crd: &Node) -> Vec<(String, String, J)> {
    crd_schemas(&crate::yaml::to_json(crd), true)
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
    /// The repository's CRDs are still to come: a kind whose only schema is a bundled GitOps one
    /// is not resolvable yet (a CRD of the repository for it would take precedence).
    repository_pending: bool,
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
            for (api, kind, schema) in crd_schemas(&crate::yaml::to_json(crd), strict) {
                map.insert((api, kind), schema);
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
            repository_pending: false,
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

    /// Says that the repository's CRDs will be added once every app is rendered
    /// ([`Self::add_rendered_crds`], then [`Self::add_crd_files`]): until then a kind only a
    /// bundled GitOps schema describes is not [`Self::resolvable`], so its objects wait for them
    /// instead of being validated against a schema a CRD of the repository would replace.
    pub fn await_repository_crds(&mut self) {
        self.repository_pending = true;
    }

    /// Adds the CustomResourceDefinitions the checked apps render, and ends the wait for the
    /// repository's CRDs: [`Self::add_crd_files`] must follow before anything is validated.
    pub fn add_rendered_crds(&mut self, crds: &[&Node]) -> Result<(), SchemaError> {
        self.repository_pending = false;
        self.add(crds, false)
    }

    /// Adds CustomResourceDefinitions read from the repository's files (wherever they are, rendered
    /// or not): after the rendered ones, before the bundled GitOps schemas.
    pub fn add_crd_files(&mut self, crds: &[&Node]) -> Result<(), SchemaError> {
        self.add(crds, false)
    }

    /// Adds CustomResourceDefinitions rendered only to resolve kinds nothing described (those of
    /// apps a run does not check): a kind with a bundled schema keeps it, as in the run that
    /// does not need them.
    pub fn add_other_crds(&mut self, crds: &[&Node]) -> Result<(), SchemaError> {
        self.add(crds, true)
    }

    /// Whether a CustomResourceDefinition of the repository would give this kind its schema: no
    /// `schema-dirs` file or CRD describes it yet, it is not a Kubernetes kind, and the policy
    /// neither skips nor rejects it (a bundled GitOps kind wants one: the repository's wins).
    pub fn wants_crd(&self, api: &str, kind: &str) -> bool {
        !Self::listed(&self.reject_kinds, api, kind)
            && !Self::listed(&self.skip_kinds, api, kind)
            && self.own_schema(api, kind).is_none()
            && self.native(api, kind).is_none()
    }

    fn add(&mut self, crds: &[&Node], keep_bundled: bool) -> Result<(), SchemaError> {
        if crds.is_empty() {
            return Ok(());
        }
        let more = SchemaSet::new(Some(self.tables.version), self.strict, crds)?;
        for (k, v) in more.crds {
            if keep_bundled && gitops::find(&k.0, &k.1).is_some() {
                continue;
            }
            self.crds.entry(k).or_insert(v);
        }
        // Kinds looked up before their CRD arrived were remembered as having no schema.
        self.compiled
            .lock()
            .unwrap()
            .retain(|_, v| v.cell.get().is_some_and(std::option::Option::is_some));
        Ok(())
    }

    /// Whether validating this kind needs no more schemas: it has one, or the policy skips or
    /// rejects it by name.
    pub fn resolvable(&self, api: &str, kind: &str) -> bool {
        Self::listed(&self.reject_kinds, api, kind)
            || Self::listed(&self.skip_kinds, api, kind)
            || (!self.awaits_repository(api, kind) && self.validator(api, kind).is_some())
    }

    /// Whether a kind's schema would be a bundled GitOps one while the repository's CRDs are
    /// still to come.
    fn awaits_repository(&self, api: &str, kind: &str) -> bool {
        self.repository_pending
            && gitops::find(api, kind).is_some()
            && self.own_schema(api, kind).is_none()
    }

    /// `(apiVersion, kind)` pairs with a schema: the bundled version's kinds, the bundled GitOps
    /// kinds and the CRDs'.
    pub fn kinds(&self) -> Vec<(String, String)> {
        let mut out = kinds(self.tables.version);
        out.extend(self.crds.keys().cloned());
        out.extend(
            gitops::all()
                .iter()
                .map(|b| (b.api_version(), b.kind.to_string())),
        );
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

    /// The validator of a kind that needs nothing compiled: without CRDs or schema files that
    /// could take precedence, a kind of the bundled Kubernetes tables, or one no schema
    /// describes (`Some(None)`). `None`: the kind goes through the compiled slots.
    fn uncompiled(&self, api: &str, kind: &str) -> Option<Compiled> {
        if !self.crds.is_empty() || !self.file_schemas.is_empty() {
            return None;
        }
        match self.native(api, kind) {
            Some(v) => Some(Some(v)),
            None if gitops::find(api, kind).is_none() => Some(None),
            None => None,
        }
    }

    /// The bundled validator of a kind, if the version has the kind.
    fn native(&self, api: &str, kind: &str) -> Compiled {
        let (group, version) = crate::text::split_api_version(api);
        let root = self.tables.root(group, version, kind)?;
        Some(Validator::Native(self.tables, root))
    }

    fn validator(&self, api: &str, kind: &str) -> Compiled {
        if let Some(v) = self.uncompiled(api, kind) {
            return v;
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
        let mut ready = true;
        for (api, kind) in kinds {
            if self.uncompiled(api, kind).is_some() || self.awaits_repository(api, kind) {
                continue;
            }
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

    /// A kind's schema from the repository's CRDs or `schema-dirs` files.
    fn own_schema(&self, api: &str, kind: &str) -> Option<&J> {
        if let Some(s) = self.crds.get(&(api.to_string(), kind.to_string())) {
            return Some(s);
        }
        let (group, version) = crate::text::split_api_version(api);
        // kubeconform names files by the group's first label, the CRDs catalog by the full group.
        let lower = kind.to_ascii_lowercase();
        [group, group.split('.').next().unwrap_or(group)]
            .iter()
            .find_map(|g| {
                self.file_schemas
                    .get(&(lower.clone(), g.to_string(), version.to_string()))
            })
    }

    fn compile(&self, api: &str, kind: &str) -> Compiled {
        // The bundled GitOps kinds and the Kubernetes tables' never overlap.
        let document = match (self.own_schema(api, kind).cloned(), gitops::find(api, kind)) {
            (Some(d), _) => d,
            (None, Some(b)) => {
                let mut s = b.schema();
                if !self.strict {
                    relax(&mut s);
                }
                s
            }
            (None, None) => return self.native(api, kind),
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
        let api = obj.str_at(&["apiVersion"]).unwrap_or("");
        let kind = obj.str_at(&["kind"]).unwrap_or("");
        Self::listed(&self.reject_kinds, api, kind)
            || Self::listed(&self.skip_kinds, api, kind)
            || self.validator(api, kind).is_some()
    }

    /// Validates one rendered object.
    pub fn validate(&self, obj: &Node) -> Outcome {
        // A SOPS-encrypted manifest carries its encryption metadata as a top-level `sops` map;
        // the tool that decrypts it (Flux's kustomize-controller, ksops, helm-secrets) removes it
        // before the API server sees the object.
        let decrypted;
        let obj = if is_sops_metadata(obj.get("sops")) {
            let mut o = obj.clone();
            if let Some(m) = o.as_map_mut() {
                m.remove("sops");
            }
            decrypted = o;
            &decrypted
        } else {
            obj
        };
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
