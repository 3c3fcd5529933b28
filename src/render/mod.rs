//! Native `kustomize build` with provenance.
//!
//! Design. A [`Renderer`] owns a read-only file tree ([`Fs`]) and the shared [`Sources`] table. It
//! builds a kustomization directory the way kustomize's `KustTarget` does: accumulate `resources`
//! (files and nested kustomizations, each base fully built first), run generators, apply
//! `components`, then the builtin transformers in kustomize's fixed order (strategic-merge patches,
//! patches, namespace, prefix, suffix, labels, annotations, JSON 6902 patches, replicas, images,
//! replacements). Only the top-level build adds content hashes to generated names, fixes name
//! back-references, resolves `vars`, drops `local-config` resources and sorts.
//!
//! Caching: file texts (in [`Sources`]) and built sub-kustomizations are memoized per process,
//! keyed by repo-relative path, so a base shared by a hundred overlays is read and built once and
//! each overlay copies the base's resources once; a top-level overlay's own build is moved into
//! its result, not memoized. Parsed trees are not kept: parsing again (rare) is cheaper than
//! holding every tree of a large repository in memory. Every transformer records provenance: nodes
//! keep the `loc` of the text they came from, and `via` names the kustomization entry or patch line
//! that last changed them.
//!
//! Load restrictions follow kustomize's default (root-only): a kustomization may read files only
//! inside its own directory tree; other directories are reachable only as kustomizations through
//! `resources`/`components`. Nothing outside the [`Fs`] root is ever read and nothing is fetched.

pub mod deps;
pub mod error;
pub mod fieldspec;
pub mod generators;
pub mod hash;
pub mod kustomization;
pub mod nameref;
pub mod patch_json;
pub mod patch_smp;
pub mod pattern;
pub mod replacements;
pub mod resource;
pub mod sort;
pub mod transforms;
pub mod vars;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::source::HashMap;

pub use error::{RenderError, RenderErrorKind};
pub use resource::{ResId, Resource};

use crate::source::{FileId, Fs, FsError, Loc, Sources, join_rel};
use crate::yaml::{Node, Value};
use kustomization::{Kustomization, find_kustomization_file};

/// The result of building one kustomization directory.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// Resources in output order.
    pub resources: Vec<Resource>,
    /// Every repo-relative file the build read (kustomizations, resources, patches, generator inputs).
    pub files: BTreeSet<String>,
}

/// What building one directory accumulates before the top-level finishing steps.
#[derive(Clone, Debug, Default)]
pub(crate) struct Accum {
    resources: Vec<Resource>,
    files: BTreeSet<String>,
    vars: Vec<vars::Var>,
    /// Extra `varReference` field specs from `configurations:`.
    var_refs: Vec<fieldspec::FieldSpec>,
    sort_order: Option<SortChoice>,
    /// `buildMetadata: [originAnnotations]` etc. at this level (only the top level's counts).
    build_metadata: Vec<String>,
    /// `nameReference` entries from `configurations:` here and in every base.
    name_refs: Vec<Node>,
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

type Memo<T> = Mutex<HashMap<String, Arc<T>>>;

/// A built directory shared by every kustomization that includes it.
type SharedAccum = Result<Arc<Accum>, RenderError>;

/// Builds kustomizations from one file tree. Shared across threads.
pub struct Renderer {
    fs: Arc<dyn Fs>,
    sources: Sources,
    /// Prepended to paths interned in `sources` (e.g. `origin/main:`), so files of another
    /// revision do not collide with the working tree's in one table.
    label: String,
    /// The OpenAPI document of the last `openapi: {path}` loaded: like kustomize, a global
    /// setting that gives merge keys to custom resources' lists.
    openapi: Mutex<Option<Arc<serde_json::Value>>>,
    /// Duplicate keys met in any file read (reported by `schema-violation`).
    duplicates: Mutex<Vec<crate::yaml::parse::DuplicateKey>>,
    dirs: Memo<SharedAccum>,
}

impl Renderer {
    pub fn new(fs: Arc<dyn Fs>, sources: Sources) -> Renderer {
        Renderer {
            fs,
            sources,
            label: String::new(),
            openapi: Mutex::default(),
            duplicates: Mutex::default(),
            dirs: Mutex::default(),
        }
    }
    /// The custom OpenAPI document in effect, if any.
    pub fn openapi(&self) -> Option<Arc<serde_json::Value>> {
        self.openapi.lock().unwrap().clone()
    }

    /// Drops the memoized builds of directories at or below `dir`: a caller that is done with an
    /// app frees its base instead of holding every base of the repository until the end. Another
    /// build that needs one again simply builds it again.
    pub fn forget_below(&self, dir: &str) {
        let inside = |d: &str| {
            dir.is_empty()
                || d.strip_prefix(dir)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        self.dirs.lock().unwrap().retain(|d, _| !inside(d));
    }

    /// Every duplicate mapping key met so far (files are parsed once, so each is listed once).
    pub fn duplicate_keys(&self) -> Vec<crate::yaml::parse::DuplicateKey> {
        self.duplicates.lock().unwrap().clone()
    }

    /// A renderer whose files are interned as `<label><path>` (for a Git revision).
    pub fn with_label(fs: Arc<dyn Fs>, sources: Sources, label: &str) -> Renderer {
        let mut r = Renderer::new(fs, sources);
        r.label = label.to_string();
        r
    }
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
    /// The file id of an already-read repo-relative path.
    pub fn file_id(&self, rel: &str) -> crate::source::FileId {
        self.sources
            .lookup(&format!("{}{rel}", self.label))
            .unwrap_or(crate::source::FileId::NONE)
    }
    pub fn fs(&self) -> &dyn Fs {
        &*self.fs
    }

    /// `kustomize build DIR` (DIR repo-relative, `""` for the root).
    pub fn build(&self, dir: &str) -> Result<Build, RenderError> {
        // A top-level overlay is rarely also another kustomization's base, so its accumulation is
        // not memoized: it is moved into the result instead of copied twice (in and out of the
        // cache). If it is a base too, it is built once more for that use.
        let cached = self.dirs.lock().unwrap().get(dir).cloned();
        let acc = match cached {
            Some(hit) => match &*hit {
                Ok(a) => Accum::clone(a),
                Err(e) => return Err(e.clone()),
            },
            None => {
                let mut stack = vec![dir.to_string()];
                self.build_dir_uncached(dir, &mut stack, Loc::NONE, None, false)?
            }
        };
        let Accum {
            mut resources,
            files,
            vars: var_list,
            sort_order,
            build_metadata,
            name_refs,
            var_refs,
        } = acc;
        hash::add_hashes(&mut resources);
        nameref::fix_back_references_with(&mut resources, &nameref::from_config(&name_refs))?;
        vars::apply(&mut resources, &var_list, &var_refs)?;
        resources.retain(|r| {
            r.annotation("config.kubernetes.io/local-config")
                .is_none_or(|v| v != "true")
        });
        match sort_order {
            Some(SortChoice::Fifo) => {}
            Some(SortChoice::Legacy { first, last }) => {
                sort::legacy_sort(&mut resources, first.as_deref(), last.as_deref())
            }
            None => sort::legacy_sort(&mut resources, None, None),
        }
        for r in &mut resources {
            transforms::strip_internal_annotations(r);
        }
        if build_metadata.iter().any(|m| m == "originAnnotations") {
            for r in &mut resources {
                transforms::add_origin_annotation(r, dir);
            }
        }
        Ok(Build { resources, files })
    }

    /// Reads and parses a file. `rel` must already be validated.
    ///
    /// Only the text is kept (interned in `sources`, which error snippets need anyway), not the
    /// parsed tree: most files are read by a single build, parsing again is cheap, and keeping
    /// every tree of a large repository cost more in fresh memory than the parse saves.
    pub fn load_file(&self, rel: &str) -> Result<Vec<Node>, RenderError> {
        let (id, text, first) = self.intern(rel, Loc::NONE)?;
        let parsed =
            crate::yaml::parse::parse_documents_with_duplicates(&text, id).map(|(docs, dups)| {
                // Reported once per file, however many builds read it.
                if first && !dups.is_empty() {
                    self.duplicates.lock().unwrap().extend(dups);
                }
                docs
            });
        parsed.map_err(|e| {
            let mut err = RenderError::new(
                RenderErrorKind::Yaml,
                format!("invalid YAML in {rel}: {}", e.message),
                e.loc,
            );
            if let Some(r) = e.related {
                err = err.with_related(r, "first defined here");
            }
            err
        })
    }

    /// A file's text and id, read from disk the first time (`true`) and from `sources` after.
    fn intern(&self, rel: &str, at: Loc) -> Result<(FileId, Arc<str>, bool), RenderError> {
        let key = format!("{}{rel}", self.label);
        if let Some(id) = self.sources.lookup(&key)
            && let Some(f) = self.sources.get(id)
        {
            return Ok((id, f.text.clone(), false));
        }
        let text = self.fs.read(rel).map_err(|e| fs_error(e, at))?;
        let (id, first) = self.sources.add_new(&key, text);
        let text = self
            .sources
            .get(id)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        Ok((id, text, first))
    }

    /// Reads a file's raw text (generator inputs), interning it for snippets.
    pub fn read_text(&self, rel: &str, at: Loc) -> Result<Arc<str>, RenderError> {
        self.intern(rel, at).map(|(_, text, _)| text)
    }

    /// Builds a directory (memoized), without the top-level finishing steps.
    fn build_dir(
        &self,
        dir: &str,
        stack: &mut Vec<String>,
        at: Loc,
    ) -> Result<Arc<Accum>, RenderError> {
        if stack.iter().any(|d| d == dir) {
            let chain = stack
                .iter()
                .chain(std::iter::once(&dir.to_string()))
                .map(|d| if d.is_empty() { "." } else { d.as_str() })
                .collect::<Vec<_>>()
                .join(" -> ");
            return Err(RenderError::new(
                RenderErrorKind::Cycle,
                format!("cycle detected: kustomizations include each other: {chain}"),
                at,
            ));
        }
        if let Some(hit) = self.dirs.lock().unwrap().get(dir) {
            return match &**hit {
                Ok(a) => Ok(a.clone()),
                Err(e) => Err(e.clone()),
            };
        }
        stack.push(dir.to_string());
        let res = self.build_dir_uncached(dir, stack, at, None, false);
        stack.pop();
        let res = res.map(Arc::new);
        self.dirs
            .lock()
            .unwrap()
            .insert(dir.to_string(), Arc::new(res.clone()));
        res
    }

    /// Builds `dir`. For a component, `input` is the accumulation it applies to.
    fn build_dir_uncached(
        &self,
        dir: &str,
        stack: &mut Vec<String>,
        at: Loc,
        input: Option<Accum>,
        as_component: bool,
    ) -> Result<Accum, RenderError> {
        let Some(kfile) = find_kustomization_file(self.fs(), dir) else {
            let shown = if dir.is_empty() { "." } else { dir };
            let err = if self.fs.is_dir(dir) || dir.is_empty() {
                RenderError::new(
                    RenderErrorKind::Missing,
                    format!(
                        "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{shown}'"
                    ),
                    at,
                )
            } else {
                RenderError::new(
                    RenderErrorKind::Missing,
                    format!("'{shown}': no such file or directory"),
                    at,
                )
            };
            return Err(err.with_path(shown.to_string()));
        };
        let docs = self.load_file(&kfile).map_err(|e| {
            if at.is_some() && e.loc.is_none() {
                RenderError { loc: at, ..e }
            } else {
                e
            }
        })?;
        let mut k = Kustomization::from_docs(&kfile, docs)?;
        let mut config_files = Vec::new();
        for c in k.configurations.clone() {
            let rel = self.restricted_file(dir, &c.text, c.loc)?;
            for doc in self.load_file(&rel)? {
                k.tconfig.extend_from(&doc);
            }
            config_files.push(rel);
        }
        if k.is_component && !as_component {
            return Err(RenderError::invalid(
                format!(
                    "'{dir}' is a Component (kind: Component); it can only be used under 'components', not as a resource"
                ),
                at,
            ));
        }
        if as_component && !k.is_component {
            return Err(RenderError::invalid(
                format!("'{dir}' is not a Component: expected 'kind: Component' in {kfile}"),
                at,
            ));
        }
        let mut acc = input.unwrap_or_default();
        acc.files.insert(kfile.clone());
        acc.files.extend(config_files);

        // resources (and legacy bases), in order.
        for entry in k.resources.iter() {
            self.add_resource_entry(dir, entry, stack, &mut acc)?;
        }
        // crds/configurations/openapi: accepted, files must exist (they only affect CRD-aware
        // transformer behavior).
        if let Some(entry) = &k.openapi_path {
            let rel = self.restricted_file(dir, &entry.text, entry.loc)?;
            let docs = self.load_file(&rel)?;
            let doc = docs
                .into_iter()
                .find(|d| !d.is_null())
                .map(|d| crate::yaml::to_json(&d));
            *self.openapi.lock().unwrap() = doc.map(Arc::new);
            acc.files.insert(rel);
        }
        for entry in k.crds.iter() {
            let rel = self.restricted_file(dir, &entry.text, entry.loc)?;
            acc.files.insert(rel);
        }

        // generators
        let gen_ctx = generators::GenContext {
            renderer: self,
            dir,
            options: &k.generator_options,
        };
        let declared = [
            (
                &k.config_map_generator,
                generators::GenKind::ConfigMap,
                "ConfigMapGenerator",
            ),
            (
                &k.secret_generator,
                generators::GenKind::Secret,
                "SecretGenerator",
            ),
        ];
        for (entries, gk, kind) in declared {
            for g in entries {
                let (mut res, files) = gen_ctx.generate(g, gk)?;
                res.origin = Some(resource::Origin::Generator {
                    configured_in: kfile.clone(),
                    kind: kind.into(),
                    name: None,
                });
                acc.files.extend(files);
                generators::merge_generated(&mut acc.resources, res, g.loc)?;
            }
        }

        for entry in &k.generators {
            for doc in self.load_plugin_config(dir, entry, &mut acc)? {
                let kind = doc.str_at(&["kind"]).unwrap_or("").to_string();
                let gk = match (doc.str_at(&["apiVersion"]), kind.as_str()) {
                    (Some("builtin"), "ConfigMapGenerator") => generators::GenKind::ConfigMap,
                    (Some("builtin"), "SecretGenerator") => generators::GenKind::Secret,
                    _ => {
                        return Err(RenderError::new(
                            RenderErrorKind::Unsupported,
                            format!(
                                "generator '{kind}' is a plugin; kustodian only runs builtin generators"
                            ),
                            doc.loc,
                        ));
                    }
                };
                let mut node = doc.clone();
                if node.get("name").is_none()
                    && let Some(n) = doc.get_path(&["metadata", "name"])
                {
                    node.set("name", n.clone());
                }
                if node.get("namespace").is_none()
                    && let Some(n) = doc.get_path(&["metadata", "namespace"])
                {
                    node.set("namespace", n.clone());
                }
                let g = kustomization::GeneratorArgs { loc: doc.loc, node };
                let (mut res, files) = gen_ctx.generate(&g, gk)?;
                let configured_in = self
                    .sources
                    .get(doc.loc.file)
                    .map(|f| f.path.clone())
                    .unwrap_or_else(|| kfile.clone());
                res.origin = Some(resource::Origin::Generator {
                    configured_in,
                    kind,
                    name: doc
                        .get_path(&["metadata", "name"])
                        .and_then(|n| n.scalar_string()),
                });
                acc.files.extend(files);
                generators::merge_generated(&mut acc.resources, res, g.loc)?;
            }
        }

        check_unique(&acc.resources)?;
        let newly = vars::bind(&mut acc.resources, &acc.vars, &k.vars)?;
        acc.vars.extend(newly);

        // components
        for entry in k.components.iter() {
            let cdir = self.resolve_dir(dir, &entry.text, entry.loc)?;
            if stack.contains(&cdir) {
                return Err(RenderError::new(
                    RenderErrorKind::Cycle,
                    format!("cycle detected: component '{cdir}' includes itself"),
                    entry.loc,
                ));
            }
            stack.push(cdir.clone());
            let taken = std::mem::take(&mut acc);
            let r = self.build_dir_uncached(&cdir, stack, entry.loc, Some(taken), true);
            stack.pop();
            acc = r?;
        }

        // transformers, in kustomize's fixed order
        transforms::apply_patches_strategic_merge(self, dir, &k, &mut acc.resources)?;
        transforms::apply_patches(self, dir, &k, &mut acc.resources)?;
        transforms::apply_namespace(&k, &mut acc.resources)?;
        transforms::apply_prefix_suffix(&k, &mut acc.resources);
        transforms::apply_labels(&k, &mut acc.resources);
        transforms::apply_annotations(&k, &mut acc.resources);
        transforms::apply_patches_json6902(self, dir, &k, &mut acc.resources)?;
        transforms::apply_replicas(&k, &mut acc.resources)?;
        transforms::apply_images(&k, &mut acc.resources);
        let repl = self.load_replacements(dir, &k)?;
        replacements::apply(&mut acc.resources, &repl)?;
        for t in &k.transformers {
            transforms::apply_transformer_config(self, dir, t, &mut acc)?;
        }

        acc.var_refs.extend(k.tconfig.var_reference.iter().cloned());
        acc.name_refs
            .extend(k.tconfig.name_reference.iter().cloned());
        if let Some(s) = &k.sort_options {
            acc.sort_order = Some(s.clone());
        }
        acc.build_metadata = k.build_metadata.clone();
        Ok(acc)
    }

    fn add_resource_entry(
        &self,
        dir: &str,
        entry: &kustomization::Ref,
        stack: &mut Vec<String>,
        acc: &mut Accum,
    ) -> Result<(), RenderError> {
        let text = entry.text.as_str();
        if is_remote(text) {
            return Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!(
                    "remote resource '{text}' is not supported: kustodian never fetches over the network; vendor it into the repository"
                ),
                entry.loc,
            ));
        }
        let Some(rel) = join_rel(dir, text) else {
            return Err(RenderError::new(
                RenderErrorKind::Escape,
                format!(
                    "'{text}' is outside the repository root; kustodian does not read outside it"
                ),
                entry.loc,
            ));
        };
        if self.fs.is_dir(&rel) {
            // The base is shared (memoized); this overlay transforms its own copy.
            let sub = self.build_dir(&rel, stack, entry.loc)?;
            acc.resources.extend(sub.resources.iter().cloned());
            acc.files.extend(sub.files.iter().cloned());
            for v in sub.vars.iter().cloned() {
                if acc.vars.iter().any(|x| x.name == v.name) {
                    return Err(RenderError::new(
                        RenderErrorKind::Conflict,
                        format!(
                            "var '{}' already encountered (declared again through '{text}')",
                            v.name
                        ),
                        entry.loc,
                    )
                    .with_related(v.loc, "declared here"));
                }
                acc.vars.push(v);
            }
            acc.name_refs.extend(sub.name_refs.iter().cloned());
            acc.var_refs.extend(sub.var_refs.iter().cloned());
            return Ok(());
        }
        let rel = self.restricted_file(dir, text, entry.loc)?;
        let docs = self.load_file(&rel)?;
        let text = self.read_text(&rel, entry.loc)?;
        acc.files.insert(rel.clone());
        for doc in docs {
            for mut r in resources_from_doc(doc, &rel, &text)? {
                r.origin = Some(resource::Origin::File(rel.clone()));
                acc.resources.push(r);
            }
        }
        Ok(())
    }

    /// Resolves a file reference under root-only load restrictions: it must exist and stay inside
    /// the kustomization's own directory tree.
    pub(crate) fn restricted_file(
        &self,
        dir: &str,
        reference: &str,
        at: Loc,
    ) -> Result<String, RenderError> {
        let Some(rel) = join_rel(dir, reference) else {
            return Err(RenderError::new(
                RenderErrorKind::Escape,
                format!(
                    "'{reference}' is outside the repository root; kustodian does not read outside it"
                ),
                at,
            ));
        };
        let inside = dir.is_empty() || rel == dir || rel.starts_with(&format!("{dir}/"));
        if !inside {
            return Err(RenderError::new(
                RenderErrorKind::Escape,
                format!(
                    "security: file '{reference}' is not in or below '{}' (kustomize's root-only load restriction); reference a kustomization directory instead",
                    if dir.is_empty() { "." } else { dir }
                ),
                at,
            ));
        }
        if !self.fs.is_file(&rel) {
            return Err(match self.fs.read(&rel) {
                Err(e @ FsError::OutsideRoot { .. }) => fs_error(e, at),
                _ => RenderError::new(
                    RenderErrorKind::Missing,
                    format!("'{reference}': no such file or directory (looked for {rel})"),
                    at,
                )
                .with_path(rel),
            });
        }
        Ok(rel)
    }

    fn resolve_dir(&self, dir: &str, reference: &str, at: Loc) -> Result<String, RenderError> {
        if is_remote(reference) {
            return Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!(
                    "remote component '{reference}' is not supported: kustodian never fetches over the network"
                ),
                at,
            ));
        }
        let Some(rel) = join_rel(dir, reference) else {
            return Err(RenderError::new(
                RenderErrorKind::Escape,
                format!(
                    "'{reference}' is outside the repository root; kustodian does not read outside it"
                ),
                at,
            ));
        };
        if !self.fs.is_dir(&rel) {
            return Err(RenderError::new(
                RenderErrorKind::Missing,
                format!("'{reference}': not a directory (looked for {rel})"),
                at,
            )
            .with_path(rel));
        }
        Ok(rel)
    }

    /// Loads a `generators:`/`transformers:` entry: a config file, or inline YAML text.
    pub(crate) fn load_plugin_config(
        &self,
        dir: &str,
        entry: &kustomization::Ref,
        acc: &mut Accum,
    ) -> Result<Vec<Node>, RenderError> {
        let docs = if entry.text.contains('\n') {
            let mut docs = crate::yaml::parse_documents(&entry.text, crate::source::FileId::NONE)
                .map_err(|e| {
                RenderError::new(
                    RenderErrorKind::Yaml,
                    format!("invalid inline config: {}", e.message),
                    entry.loc,
                )
            })?;
            for d in &mut docs {
                transforms::relocate(d, entry.loc);
            }
            docs
        } else {
            if let Some(sub) = join_rel(dir, &entry.text).filter(|p| self.fs.is_dir(p)) {
                // A directory is a kustomization whose output resources are the configs.
                let built = self.build_dir(&sub, &mut vec![dir.to_string()], entry.loc)?;
                acc.files.extend(built.files.iter().cloned());
                return Ok(built.resources.iter().map(|r| r.node.clone()).collect());
            }
            let rel = self.restricted_file(dir, &entry.text, entry.loc)?;
            acc.files.insert(rel.clone());
            self.load_file(&rel)?
        };
        Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
    }

    fn load_replacements(&self, dir: &str, k: &Kustomization) -> Result<Vec<Node>, RenderError> {
        let mut out = Vec::new();
        for r in &k.replacements {
            if let Some(p) = r.get("path").and_then(|p| p.as_str()) {
                let loc = r.get("path").map(|p| p.loc).unwrap_or(r.loc);
                let rel = self.restricted_file(dir, p, loc)?;
                for d in self.load_file(&rel)? {
                    match d.value {
                        Value::Seq(items) => out.extend(items),
                        Value::Null => {}
                        _ => out.push(d),
                    }
                }
            } else {
                out.push(r.clone());
            }
        }
        Ok(out)
    }
}

fn is_remote(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("github.com/")
        || s.starts_with("git@")
        || s.starts_with("gitlab.com/")
        || s.starts_with("bitbucket.org/")
}

pub(crate) fn fs_error(e: FsError, at: Loc) -> RenderError {
    match e {
        FsError::NotFound(p) => RenderError::new(
            RenderErrorKind::Missing,
            format!("'{p}': no such file or directory"),
            at,
        )
        .with_path(p),
        FsError::OutsideRoot { path, root } => RenderError::new(
            RenderErrorKind::Escape,
            format!("'{path}' resolves outside the repository root {root}; refusing to read it"),
            at,
        )
        .with_path(path),
        FsError::Io { path, msg } => {
            RenderError::new(RenderErrorKind::Missing, format!("{path}: {msg}"), at).with_path(path)
        }
    }
}

/// Turns a parsed document into resources (expanding `kind: List`), validating its shape.
pub(crate) fn resources_from_doc(
    doc: Node,
    rel: &str,
    text: &str,
) -> Result<Vec<Resource>, RenderError> {
    match &doc.value {
        Value::Null => return Ok(vec![]),
        Value::Map(m) if m.is_empty() => return Ok(vec![]),
        Value::Map(_) => {}
        _ => {
            return Err(RenderError::new(
                RenderErrorKind::Yaml,
                format!("{rel}: a resource document must be a mapping (a Kubernetes object)"),
                doc.loc,
            ));
        }
    }
    let kind = doc.str_at(&["kind"]).unwrap_or("");
    if kind.ends_with("List") && doc.get("items").is_some() {
        let mut out = Vec::new();
        if let Some(items) = doc.get("items").and_then(|i| i.as_seq()) {
            for it in items.clone() {
                out.extend(resources_from_doc(it, rel, text)?);
            }
        }
        return Ok(out);
    }
    if doc.get("kind").is_none() {
        return Err(RenderError::new(
            RenderErrorKind::Invalid,
            format!("{rel}: missing 'kind' in resource"),
            doc.loc,
        ));
    }
    if doc.get_path(&["metadata", "name"]).is_none()
        && doc.get_path(&["metadata", "generateName"]).is_none()
    {
        return Err(RenderError::new(
            RenderErrorKind::Invalid,
            format!("{rel}: missing metadata.name in {kind} resource"),
            doc.loc,
        ));
    }
    let mut r = Resource::new(doc);
    transforms::normalize_metadata(&mut r, text);
    Ok(vec![r])
}

/// Refuses two resources with the same id (one pass, hashing ids).
pub(crate) fn check_unique(list: &[Resource]) -> Result<(), RenderError> {
    let mut seen: HashMap<ResId, usize> =
        HashMap::with_capacity_and_hasher(list.len(), Default::default());
    for (i, r) in list.iter().enumerate() {
        let id = r.id();
        if let Some(&prev) = seen.get(&id) {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "may not add resource with an already registered id: {}",
                    id.display()
                ),
                r.loc(),
            )
            .with_related(list[prev].loc(), "already defined here"));
        }
        seen.insert(id, i);
    }
    Ok(())
}

/// Builds kustomize's default field-spec and name-reference tables (parsed from the YAML under
/// `fieldspecs/` on first use) on the thread pool while the caller does other work — a check
/// discovering the repository — instead of by the first render, which every other thread would
/// wait for.
pub fn warm_up() {
    rayon::spawn(|| {
        let _ = kustomization::TransformerConfig::default();
        nameref::warm_up();
    });
}

/// Prints resources as `kustomize build` does.
pub fn to_yaml(resources: &[Resource]) -> String {
    crate::yaml::emit_documents(resources.iter().map(|r| &r.node))
}
