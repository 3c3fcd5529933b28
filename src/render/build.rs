//! Building one kustomization directory (without the top-level finishing steps).
//!
//! Design. A directory is built the way kustomize's `KustTarget` does: accumulate `resources`
//! (files and nested kustomizations, each base fully built first), run generators, apply
//! `components` (each takes the accumulation so far and returns it transformed), then the
//! builtin transformers in kustomize's fixed order with every transformer configuration
//! accumulated so far. A built directory is memoized per process under its path (plus the
//! variants that change its result: whether transformers are recorded, the schema state it
//! starts from), so a base shared by a hundred overlays is built once; an include cycle is
//! refused with the chain that makes it. The steps are methods of [`Renderer`], one per step of
//! [`Renderer::build_dir_uncached`].

use std::sync::Arc;

use super::kustomization::{self, Decode, Kustomization, find_kustomization_file};
use super::{
    Accum, RenderError, RenderErrorKind, Renderer, Resource, crds, generators, openapi, patch_smp,
    replacements, resource, scalars, transformer_config, transformers, vars,
};
use crate::source::{Loc, child_rel, join_rel};
use crate::yaml::{Node, Value};

/// Appended to a directory's memo key for a build that records transformers (no path has a NUL).
const TRACKED: &str = "\0tracked";

/// How a kustomization is entered: where it is referenced, the accumulation it applies to (for
/// a component), and whether to record transformers (`None`: as its own `buildMetadata` says).
struct Frame {
    at: Loc,
    input: Option<Accum>,
    as_component: bool,
    track: Option<bool>,
}

impl Renderer {
    /// Builds a directory (memoized), without the top-level finishing steps. `track`: record the
    /// transformers that run (for a top level's `buildMetadata`); such builds are memoized apart.
    pub(super) fn build_dir(
        &self,
        dir: &str,
        stack: &mut Vec<String>,
        at: Loc,
        track: bool,
        schema: &openapi::SchemaState,
    ) -> Result<Arc<Accum>, RenderError> {
        let key = self.stack_key(dir);
        if stack.contains(&key) {
            let chain = stack
                .iter()
                .chain(std::iter::once(&key))
                .map(|d| if d.is_empty() { "." } else { d.as_str() })
                .collect::<Vec<_>>()
                .join(" -> ");
            return Err(RenderError::new(
                RenderErrorKind::Cycle,
                format!("cycle detected: kustomizations include each other: {chain}"),
                at,
            ));
        }
        nesting_budget(stack, at)?;
        // Memoized from an untouched start; a build that set a custom schema there is built
        // again (and kept apart) for a start where kyaml had already consulted its own schema.
        let res = self.build_dir_memo(dir, stack, at, track, schema.entry(false))?;
        if schema.touched && schema.custom.is_none() && res.schema.sensitive {
            return self.build_dir_memo(dir, stack, at, track, schema.entry(true));
        }
        Ok(res)
    }

    fn build_dir_memo(
        &self,
        dir: &str,
        stack: &mut Vec<String>,
        at: Loc,
        track: bool,
        entry: openapi::SchemaState,
    ) -> Result<Arc<Accum>, RenderError> {
        let key = format!(
            "{dir}{}{}",
            if track { TRACKED } else { "" },
            entry.memo_suffix()
        );
        if let Some(hit) = self.dirs.lock().unwrap().get(&key) {
            return match &**hit {
                Ok(a) => Ok(a.clone()),
                Err(e) => Err(e.clone()),
            };
        }
        stack.push(self.stack_key(dir));
        let input = Accum {
            schema: entry,
            ..Accum::default()
        };
        let res = self.build_dir_uncached(dir, stack, at, Some(input), false, Some(track));
        stack.pop();
        let res = res.map(Arc::new);
        self.dirs.lock().unwrap().insert(key, Arc::new(res.clone()));
        res
    }

    /// Builds `dir`. For a component, `input` is the accumulation it applies to. `track`: whether
    /// to record transformers on resources; `None` for the top level, which decides by its own
    /// `buildMetadata` (as kustomize tracks origins only then).
    pub(super) fn build_dir_uncached(
        &self,
        dir: &str,
        stack: &mut Vec<String>,
        at: Loc,
        input: Option<Accum>,
        as_component: bool,
        track: Option<bool>,
    ) -> Result<Accum, RenderError> {
        let (kfile, k) = self.load_kustomization(dir, at)?;
        let frame = Frame {
            at,
            input,
            as_component,
            track,
        };
        self.build_loaded(dir, Some(kfile), k, stack, frame)
    }

    /// Builds a top-level kustomization that was read (and edited) by the caller; `kfile`:
    /// its file, `None` for one generated in memory.
    pub(crate) fn build_loaded_top(
        &self,
        dir: &str,
        kfile: Option<String>,
        k: Kustomization,
    ) -> Result<Accum, RenderError> {
        let frame = Frame {
            at: Loc::NONE,
            input: None,
            as_component: false,
            track: None,
        };
        self.build_loaded(dir, kfile, k, &mut vec![dir.to_string()], frame)
    }

    /// Builds the kustomization `k` of `dir` (read from `kfile`).
    fn build_loaded(
        &self,
        dir: &str,
        kfile: Option<String>,
        mut k: Kustomization,
        stack: &mut Vec<String>,
        frame: Frame,
    ) -> Result<Accum, RenderError> {
        let Frame {
            at,
            input,
            as_component,
            track,
        } = frame;
        let track = track.unwrap_or(!k.build_metadata.is_empty());
        let mut config_files = Vec::new();
        let mut own_configs = Vec::new();
        for c in k.configurations.clone() {
            let rel = self.restricted_file(dir, &c.text, c.loc)?;
            own_configs.extend(self.load_file(&rel)?.into_iter().map(Arc::new));
            config_files.push(rel);
        }
        let kname = kfile
            .clone()
            .unwrap_or_else(|| child_rel(dir, "kustomization.yaml"));
        check_component(dir, &kname, &k, at, as_component)?;
        let mut acc = input.unwrap_or_default();
        acc.files.extend(kfile);
        acc.files.extend(config_files);

        self.load_openapi(dir, &k, &mut acc)?;
        // resources (and legacy bases), in order.
        for entry in &k.resources {
            self.add_resource_entry(dir, entry, stack, &mut acc, track)?;
        }
        acc.configs.extend(own_configs);
        self.add_crds(dir, &k, &mut acc)?;

        self.run_generators(dir, &kname, &k, &mut acc)?;

        resource::check_unique(&acc.resources)?;
        let newly = vars::bind(&mut acc.resources, &acc.vars, &k.vars)?;
        acc.vars.extend(newly);

        acc = self.apply_components(dir, &k, stack, acc, track)?;

        self.run_transformers(dir, &mut k, &mut acc, as_component, track)?;

        if let Some(s) = &k.sort_options {
            acc.sort_order = Some(s.clone());
        }
        acc.build_metadata = k.build_metadata.clone();
        build_budget(&acc.resources, at)?;
        Ok(acc)
    }

    /// Finds, reads and parses the kustomization file of `dir`.
    pub(crate) fn load_kustomization(
        &self,
        dir: &str,
        at: Loc,
    ) -> Result<(String, Kustomization), RenderError> {
        self.load_kustomization_with(dir, at, Decode::Strict)
    }

    /// [`Renderer::load_kustomization`] with a choice of decoder (Flux reads the root leniently).
    pub(crate) fn load_kustomization_with(
        &self,
        dir: &str,
        at: Loc,
        decode: Decode,
    ) -> Result<(String, Kustomization), RenderError> {
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
        let found = super::kustomization::kustomization_files(self.fs(), dir);
        if found.len() > 1 {
            return Err(RenderError::invalid(
                format!(
                    "found multiple kustomization files in '{}': {} (kustomize refuses to choose)",
                    if dir.is_empty() { "." } else { dir },
                    found.join(", ")
                ),
                at,
            )
            .with_path(kfile));
        }
        let docs = self.load_file(&kfile).map_err(|e| {
            if at.is_some() && e.loc.is_none() {
                RenderError { loc: at, ..e }
            } else {
                e
            }
        })?;
        let text = self.read_text(&kfile, at)?;
        let k = Kustomization::from_docs_with(&kfile, docs, &text, decode)?;
        Ok((kfile, k))
    }

    /// `openapi: {path}` takes effect before this kustomization's resources load (and only if no
    /// kustomization above or before it set one: see `openapi`).
    fn load_openapi(
        &self,
        dir: &str,
        k: &Kustomization,
        acc: &mut Accum,
    ) -> Result<(), RenderError> {
        if let Some(entry) = &k.openapi_path {
            let rel = self.restricted_file(dir, &entry.text, entry.loc)?;
            let docs = self.load_file(&rel)?;
            if acc.schema.custom.is_none() {
                let doc = docs
                    .into_iter()
                    .find(|d| !d.is_null())
                    .map(|d| crate::yaml::to_json(&d))
                    .unwrap_or_default();
                acc.schema.set_custom(rel.clone(), doc);
            }
            acc.files.insert(rel);
        }
        Ok(())
    }

    /// `crds:`: OpenAPI definitions whose reference hints merge in like `configurations:`.
    fn add_crds(&self, dir: &str, k: &Kustomization, acc: &mut Accum) -> Result<(), RenderError> {
        for entry in &k.crds {
            let rel = self.restricted_file(dir, &entry.text, entry.loc)?;
            if let Some(doc) = self.load_file(&rel)?.into_iter().next() {
                acc.configs
                    .push(Arc::new(crds::config_from_definitions(&doc, &entry.text)?));
            }
            acc.files.insert(rel);
        }
        Ok(())
    }

    /// The generators: `configMapGenerator:` and `secretGenerator:`, then `generators:` configs.
    fn run_generators(
        &self,
        dir: &str,
        kfile: &str,
        k: &Kustomization,
        acc: &mut Accum,
    ) -> Result<(), RenderError> {
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
                    configured_in: kfile.to_string(),
                    kind: kind.into(),
                    name: None,
                });
                res.origin_repo = self.fetched_origin();
                acc.files.extend(files);
                generators::merge_generated(&mut acc.resources, res, g.loc)?;
            }
        }
        self.run_generator_configs(dir, kfile, k, &gen_ctx, acc)
    }

    /// `generators:` entries: builtin generator configs (plugins are refused).
    fn run_generator_configs(
        &self,
        dir: &str,
        kfile: &str,
        k: &Kustomization,
        gen_ctx: &generators::GenContext,
        acc: &mut Accum,
    ) -> Result<(), RenderError> {
        for entry in inline_first(&k.generators) {
            for doc in self.load_plugin_config(dir, entry, acc)? {
                let kind = doc.str_at(&["kind"]).unwrap_or("").to_string();
                let (mut res, files) = generate_from_config(gen_ctx, &kind, &doc)?;
                let configured_in = self
                    .path_of(doc.loc.file)
                    .unwrap_or_else(|| kfile.to_string());
                res.origin = Some(resource::Origin::Generator {
                    configured_in,
                    kind,
                    name: doc
                        .get_path(&["metadata", "name"])
                        .and_then(crate::yaml::Node::scalar_string),
                });
                res.origin_repo = self.fetched_origin();
                acc.files.extend(files);
                generators::merge_generated(&mut acc.resources, res, doc.loc)?;
            }
        }
        Ok(())
    }

    /// `components:`, in order: each takes the accumulation so far and returns it transformed.
    fn apply_components(
        &self,
        dir: &str,
        k: &Kustomization,
        stack: &mut Vec<String>,
        mut acc: Accum,
        track: bool,
    ) -> Result<Accum, RenderError> {
        for entry in &k.components {
            // A remote component is built by its fetched tree's renderer.
            let (remote, cdir) = self.component_dir(dir, entry)?;
            let builder = remote.as_deref().unwrap_or(self);
            let key = builder.stack_key(&cdir);
            if stack.contains(&key) {
                return Err(RenderError::new(
                    RenderErrorKind::Cycle,
                    format!("cycle detected: component '{key}' includes itself"),
                    entry.loc,
                ));
            }
            nesting_budget(stack, entry.loc)?;
            stack.push(key);
            let taken = std::mem::take(&mut acc);
            let r =
                builder.build_dir_uncached(&cdir, stack, entry.loc, Some(taken), true, Some(track));
            stack.pop();
            acc = r?;
        }
        Ok(acc)
    }

    /// The transformers, in kustomize's fixed order, with every configuration accumulated so far;
    /// records those run on the resources when `track`.
    fn run_transformers(
        &self,
        dir: &str,
        k: &mut Kustomization,
        acc: &mut Accum,
        as_component: bool,
        track: bool,
    ) -> Result<(), RenderError> {
        if !acc.configs.is_empty() {
            k.tconfig = transformer_config::TransformerConfig::from_docs(&acc.configs);
        }
        // The patch files this level reads are files of the build too (the rules tell an
        // environment's own files from shared ones by them).
        let patch_files = k
            .patches
            .iter()
            .chain(&k.patches_json6902)
            .filter_map(|e| e.get("path").and_then(|p| p.as_str()))
            .chain(k.patches_strategic_merge.iter().filter_map(|e| e.as_str()))
            .filter(|p| !p.contains('\n'))
            .filter_map(|p| crate::source::join_rel(dir, p))
            .collect::<Vec<_>>();
        acc.files.extend(patch_files);
        // transformers, in kustomize's fixed order
        transformers::patches::apply_patches_strategic_merge(
            self,
            dir,
            k,
            &mut acc.resources,
            &mut acc.schema,
        )?;
        let missed = transformers::patches::apply_patches(
            self,
            dir,
            k,
            &mut acc.resources,
            &mut acc.schema,
        )?;
        if !as_component {
            acc.unmatched_patches.extend(missed);
        }
        transformers::namespace::apply_namespace(k, &mut acc.resources)?;
        transformers::names::apply_prefix_suffix(k, &mut acc.resources);
        transformers::labels::apply_labels(k, &mut acc.resources);
        transformers::labels::apply_annotations(k, &mut acc.resources);
        let missed =
            transformers::patches::apply_patches_json6902(self, dir, k, &mut acc.resources)?;
        if !as_component {
            acc.unmatched_patches.extend(missed);
        }
        transformers::replicas::apply_replicas(k, &mut acc.resources)?;
        transformers::images::apply_images(k, &mut acc.resources);
        let repl = self.load_replacements(dir, k)?;
        replacements::apply(&mut acc.resources, &repl, self.sources())?;
        let mut ran = if track {
            transformers::build_metadata::configured_transformers(k, self.fetched_origin())
        } else {
            Vec::new()
        };
        for t in inline_first(&k.transformers) {
            ran.extend(transformers::configured::apply_transformer_config(
                self, dir, t, acc,
            )?);
        }
        if track && !ran.is_empty() {
            let ran: Arc<[resource::Transformation]> = ran.into();
            for r in &mut acc.resources {
                r.transformations.push(ran.clone());
            }
        }
        Ok(())
    }

    fn add_resource_entry(
        &self,
        dir: &str,
        entry: &kustomization::Ref,
        stack: &mut Vec<String>,
        acc: &mut Accum,
        track: bool,
    ) -> Result<(), RenderError> {
        let text = entry.text.as_str();
        if let Some(done) = self.add_remote_resource(dir, entry, stack, acc, track) {
            return done;
        }
        let Some(rel) = join_rel(dir, text) else {
            return Err(self.outside_root(text, entry.loc));
        };
        if self.fs.is_dir(&rel) {
            // The base is shared (memoized); this overlay transforms its own copy.
            let sub = self.build_dir(&rel, stack, entry.loc, track, &acc.schema)?;
            return self.merge_base(acc, &sub, text, entry.loc);
        }
        let rel = self.restricted_file(dir, text, entry.loc)?;
        let docs = self.load_output_file(&rel)?;
        let text = self.read_text(&rel, entry.loc)?;
        acc.files.insert(rel.clone());
        let folded = scalars::may_hold_folded(&text);
        for doc in docs {
            for mut r in resources_from_doc(doc, &rel, &text, folded)? {
                if !patch_smp::is_builtin_kind(&r.id().group) {
                    // kyaml asks its schema whether an unknown kind is cluster-scoped.
                    acc.schema.touch();
                }
                r.origin = Some(resource::Origin::File(rel.clone()));
                r.origin_repo = self.fetched_origin();
                acc.resources.push(r);
            }
        }
        Ok(())
    }

    /// Adds a built base (`sub`, built by this renderer) to the accumulation of the
    /// kustomization that names it (`text`, at `at`).
    pub(super) fn merge_base(
        &self,
        acc: &mut Accum,
        sub: &Accum,
        text: &str,
        at: Loc,
    ) -> Result<(), RenderError> {
        acc.schema.after_sub(&sub.schema);
        acc.resources.extend(sub.resources.iter().cloned());
        acc.files
            .extend(sub.files.iter().map(|f| self.build_file_name(f)));
        for v in sub.vars.iter().cloned() {
            if acc.vars.iter().any(|x| x.name == v.name) {
                return Err(RenderError::new(
                    RenderErrorKind::Conflict,
                    format!(
                        "var '{}' already encountered (declared again through '{text}')",
                        v.name
                    ),
                    at,
                )
                .with_related(v.loc, "declared here"));
            }
            acc.vars.push(v);
        }
        acc.unmatched_patches
            .extend(sub.unmatched_patches.iter().copied());
        for c in &sub.configs {
            if !acc.configs.iter().any(|have| Arc::ptr_eq(have, c)) {
                acc.configs.push(c.clone());
            }
        }
        Ok(())
    }

    /// Loads a `generators:`/`transformers:` entry: a config file, or inline YAML text.
    pub(crate) fn load_plugin_config(
        &self,
        dir: &str,
        entry: &kustomization::Ref,
        acc: &mut Accum,
    ) -> Result<Vec<Node>, RenderError> {
        let docs = if is_inline_config(&entry.text) {
            let mut docs = crate::yaml::parse_documents(&entry.text, crate::source::FileId::NONE)
                .map_err(|e| {
                RenderError::new(
                    RenderErrorKind::Yaml,
                    format!("invalid inline config: {}", e.message),
                    entry.loc,
                )
            })?;
            for d in &mut docs {
                crate::yaml::relocate(d, entry.loc);
            }
            docs
        } else {
            if let Some(sub) = join_rel(dir, &entry.text).filter(|p| self.fs.is_dir(p)) {
                // A directory is a kustomization whose output resources are the configs.
                let built = self.build_dir(
                    &sub,
                    &mut vec![self.stack_key(dir)],
                    entry.loc,
                    false,
                    &acc.schema,
                )?;
                acc.schema.after_sub(&built.schema);
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
                let loc = r.get("path").map_or(r.loc, |p| p.loc);
                let rel = self.restricted_file(dir, p, loc)?;
                // kustomize reads the file's first document as one replacement (a mapping) or
                // a list of them, and refuses anything else (an empty file too).
                let first = self.load_file(&rel)?.into_iter().next();
                match first {
                    Some(Node {
                        value: Value::Seq(items),
                        ..
                    }) => out.extend(items),
                    Some(d) if d.as_map().is_some() => out.push(d),
                    _ => {
                        return Err(RenderError::invalid(
                            format!(
                                "replacements file '{p}' holds neither a replacement nor a list \
                                 of them; kustomize refuses it"
                            ),
                            loc,
                        ));
                    }
                }
            } else {
                out.push(r.clone());
            }
        }
        Ok(out)
    }
}

/// A `generators:`/`transformers:` entry holding the config itself rather than naming a file.
fn is_inline_config(entry: &str) -> bool {
    entry.contains('\n')
}

/// `generators:`/`transformers:` entries in the order kustomize runs them: inline configs first,
/// then the files (it collects the inline ones, then appends what the paths load).
fn inline_first(entries: &[kustomization::Ref]) -> impl Iterator<Item = &kustomization::Ref> {
    let (inline, files): (Vec<_>, Vec<_>) = entries.iter().partition(|e| is_inline_config(&e.text));
    inline.into_iter().chain(files)
}

/// Turns a parsed document into resources (expanding `kind: List`), validating its shape.
/// `folded`: the file's text may hold folded block scalars ([`scalars::may_hold_folded`]).
pub(crate) fn resources_from_doc(
    doc: Node,
    rel: &str,
    text: &str,
    folded: bool,
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
                out.extend(resources_from_doc(it, rel, text, folded)?);
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
    scalars::normalize_metadata(&mut r, text, folded);
    Ok(vec![r])
}

/// A component only under `components:` (or built on its own: kustomize builds a component
/// directory given to it like any kustomization), and only a component there.
fn check_component(
    dir: &str,
    kfile: &str,
    k: &Kustomization,
    at: Loc,
    as_component: bool,
) -> Result<(), RenderError> {
    if k.is_component && !as_component && at.is_some() {
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
    Ok(())
}

/// One `generators:` config's resource: a builtin generator's (its name and namespace may come
/// from its own metadata); anything else is a plugin, refused.
fn generate_from_config(
    gen_ctx: &generators::GenContext,
    kind: &str,
    doc: &Node,
) -> Result<(Resource, Vec<String>), RenderError> {
    let builtin = doc.str_at(&["apiVersion"]) == Some("builtin");
    Ok(match kind {
        "ConfigMapGenerator" | "SecretGenerator" if builtin => {
            let gk = if kind == "SecretGenerator" {
                generators::GenKind::Secret
            } else {
                generators::GenKind::ConfigMap
            };
            let mut node = doc.clone();
            for (field, path) in [
                ("name", ["metadata", "name"]),
                ("namespace", ["metadata", "namespace"]),
            ] {
                if node.get(field).is_none()
                    && let Some(n) = doc.get_path(&path)
                {
                    node.set(field, n.clone());
                }
            }
            let g = kustomization::GeneratorArgs { loc: doc.loc, node };
            gen_ctx.generate(&g, gk)?
        }
        "IAMPolicyGenerator" if builtin => (generators::iam_policy(doc)?, Vec::new()),
        _ => {
            return Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!(
                    "generator '{kind}' is a plugin; kustodian only runs builtin generators \
                     (ConfigMapGenerator, SecretGenerator, IAMPolicyGenerator)"
                ),
                doc.loc,
            ));
        }
    })
}

/// Each nested kustomization (base or component) is a level of recursion: the `nesting` budget
/// keeps a build within the stack its thread was given (`crate::limits::Limits::stack_bytes`).
fn nesting_budget(stack: &[String], at: Loc) -> Result<(), RenderError> {
    let nesting = crate::limits::get().nesting;
    if stack.len() < nesting {
        return Ok(());
    }
    Err(RenderError::invalid(
        crate::limits::Exceeded::new("nesting", nesting, "kustomizations nested in this build")
            .to_string(),
        at,
    ))
}

/// What one level of a build may hold: bases included twice under different prefixes double
/// the resources with every level, and a prefix added at every level of a deep chain grows each
/// name (and the history of names every resource keeps, at every level) without bound.
fn build_budget(resources: &[Resource], at: Loc) -> Result<(), RenderError> {
    let limits = crate::limits::get();
    let over = |name, limit, what, loc| {
        RenderError::invalid(
            crate::limits::Exceeded::new(name, limit, what).to_string(),
            loc,
        )
    };
    if resources.len() > limits.resources {
        return Err(over(
            "resources",
            limits.resources,
            "resources in this build",
            at,
        ));
    }
    match resources
        .iter()
        .find(|r| r.name().len() > limits.name_bytes)
    {
        Some(r) => Err(over(
            "name-bytes",
            limits.name_bytes,
            "bytes in a resource's name",
            if r.loc().is_some() { r.loc() } else { at },
        )),
        None => Ok(()),
    }
}
