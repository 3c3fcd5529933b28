//! What a GitOps controller applies on top of `kustomize build` for one environment: Argo CD's
//! `spec.source.kustomize` options and Flux's `Kustomization` spec (patches, images, name affixes,
//! target namespace, common metadata, components, post-build variable substitution), and — for a
//! path without a kustomization file — the kustomization Flux generates or the plain manifests
//! Argo CD's directory source reads.
//!
//! Design. The values are kept as the YAML nodes written in the GitOps object, so a rendered
//! field they set remembers the line of the Application or Kustomization that set it. Discovery
//! fills an [`EnvBuild`] in; [`build`] edits the environment's top-level kustomization the way
//! the controller edits that file before building it (`edit.rs`), so each override takes effect
//! in kustomize's own transformer order, builds it (Flux: without kustomize's root-only load
//! restriction, and reading the root kustomization leniently as Flux does), then runs what the
//! controller does after the build (`postbuild.rs`: Flux's variable substitution and common
//! metadata). An edited top-level build is never memoized, so a base rendered plainly elsewhere
//! never sees an environment's overrides; its bases are memoized as usual (per load restriction).
//! `generate.rs` lists what Flux's generated kustomization holds and reads Argo CD directory
//! sources; `envsubst.rs` is Flux's substitution language, `sourceignore.rs` the files a Flux
//! source artifact leaves out.

mod edit;
pub(crate) mod envsubst;
mod generate;
mod postbuild;
pub(crate) mod sourceignore;

use std::collections::{BTreeMap, BTreeSet};

use super::kustomization::Decode;
use super::{Build, RenderError, Renderer};
use crate::source::{FileId, Loc, join_rel};
use crate::yaml::Node;

/// Which controller's semantics apply where the two differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Controller {
    #[default]
    ArgoCd,
    Flux,
}

/// How `labels`/`annotations` reach the objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum LabelMode {
    /// Argo CD `commonLabels`: kustomize's `commonLabels` (selectors and templates too).
    #[default]
    Selectors,
    /// Argo CD `labelWithoutSelector`: a `labels:` entry without selectors.
    WithoutSelector,
    /// Flux `commonMetadata`: set on each object's metadata after the build, nothing else.
    Metadata,
}

/// Overrides of one environment's top-level kustomization, and what follows the build.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvBuild {
    pub(crate) controller: Controller,
    /// The object that asks for this (`Flux Kustomization/apps in clusters/staging/apps.yaml`),
    /// for messages.
    pub(crate) origin: String,
    /// Where the object is written.
    pub(crate) at: Loc,
    /// The path has no kustomization file: build the one Flux generates from the manifests below
    /// it, or read the directory's manifests as they are (Argo CD's directory source).
    pub(crate) generate: bool,
    pub(crate) name_prefix: Option<Node>,
    pub(crate) name_suffix: Option<Node>,
    pub(crate) namespace: Option<Node>,
    /// Flux: `images:` entries (`name`, `newName`, `newTag`, `digest`); Argo CD: `kustomize edit
    /// set image` arguments (`name=newName:tag@digest`).
    pub(crate) images: Vec<Node>,
    /// `patches:` entries (`patch` + `target`; Argo CD also `path`), kustomize's format.
    pub(crate) patches: Vec<Node>,
    /// Component directories as written, relative to the environment's directory (Argo CD:
    /// globs).
    pub(crate) components: Vec<Node>,
    /// Skip components whose directory does not exist.
    pub(crate) ignore_missing_components: bool,
    /// Labels and annotations added to every object, as `(key, value)` nodes.
    pub(crate) labels: Vec<(String, Node)>,
    pub(crate) annotations: Vec<(String, Node)>,
    pub(crate) label_mode: LabelMode,
    /// Argo CD `labelIncludeTemplates` (with `labelWithoutSelector`).
    pub(crate) label_templates: bool,
    /// Argo CD `forceCommonLabels` / `forceCommonAnnotations`: override keys the kustomization
    /// already sets instead of failing.
    pub(crate) force_labels: bool,
    pub(crate) force_annotations: bool,
    /// Argo CD `commonAnnotationsEnvsubst`.
    pub(crate) annotations_envsubst: bool,
    /// `replicas:` entries (`name`, `count`).
    pub(crate) replicas: Vec<Node>,
    /// Flux `spec.buildMetadata` (replaces the kustomization's when not empty).
    pub(crate) build_metadata: Vec<Node>,
    /// Flux post-build substitution, when the object asks for it.
    pub(crate) substitute: Option<Substitution>,
    /// Argo CD's directory source options (with `generate`): which manifests are read.
    pub(crate) directory: Option<DirectoryOptions>,
    /// Flux: the GitRepository's `spec.ignore` (gitignore lines), which with `.sourceignore`
    /// files decides what the source artifact holds.
    pub(crate) source_ignore: Option<String>,
    /// Argo CD's build environment (`ARGOCD_APP_NAME`, ...), for `$VAR` in images and labels;
    /// `None` for a value not known offline (the revision).
    pub(crate) env: Vec<(String, Option<String>)>,
}

/// Argo CD's `spec.source.directory`: the directory's manifests, its subdirectories' too with
/// `recurse`, filtered by `include`/`exclude` globs on the path below the directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DirectoryOptions {
    pub(crate) recurse: bool,
    pub(crate) include: Option<String>,
    pub(crate) exclude: Option<String>,
    /// `jsonnet:` options are set (kustodian does not evaluate Jsonnet).
    pub(crate) jsonnet: bool,
}

/// Flux's post-build variable substitution (`spec.postBuild`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Substitution {
    /// Variable values and where each is written (`substituteFrom` objects, then `substitute`).
    pub(crate) vars: BTreeMap<String, (String, Loc)>,
    /// `substituteFrom` sources that were not found in the repository and are not optional: the
    /// variables they would define are unknown, so unset variables are not reported as errors
    /// and stay as written.
    pub(crate) unknown_sources: Vec<String>,
    /// `substituteStrategy: Always`: substitute even with no variables (for defaults).
    pub(crate) always: bool,
    /// Strict mode (kustomize-controller's default since 1.9): an unset variable without a
    /// default fails the reconciliation.
    pub(crate) strict: bool,
    /// The `postBuild` field.
    pub(crate) at: Loc,
}

/// Builds `dir` with `o` applied (see the module doc).
pub(crate) fn build(r: &Renderer, dir: &str, o: &EnvBuild) -> Result<Build, RenderError> {
    if o.generate && o.controller == Controller::ArgoCd {
        return generate::argo_directory(r, dir, o);
    }
    let r = match o.controller {
        // kustomize-controller builds with LoadRestrictionsNone (inside the artifact).
        Controller::Flux => r.unrestricted(),
        Controller::ArgoCd => r,
    };
    let (kfile, mut k) = if o.generate {
        (None, generate::flux_kustomization(r, dir, o)?)
    } else {
        let decode = match o.controller {
            // Flux reads the root kustomization with a lenient decoder: unknown fields vanish.
            Controller::Flux => Decode::Lenient,
            Controller::ArgoCd => Decode::Strict,
        };
        let (kfile, k) = r.load_kustomization_with(dir, Loc::NONE, decode)?;
        (Some(kfile), k)
    };
    edit::edit(r, dir, kfile.is_some(), &mut k, o)?;
    let acc = r.build_loaded_top(dir, kfile, k)?;
    let mut built = r.finish(dir, acc)?;
    postbuild::run(o, &mut built)?;
    Ok(built)
}

impl Renderer {
    /// Files (and directories) an environment's rendering reads: its build's, the components and
    /// variable sources its GitOps object adds, the files a generated kustomization lists (and
    /// the directory itself, since a new file changes the listing).
    pub(crate) fn env_dependencies(&self, dir: &str, o: Option<&EnvBuild>) -> BTreeSet<String> {
        let Some(o) = o else {
            return self.dependencies(dir);
        };
        let mut out = if o.generate {
            generate::dependencies(self, dir, o)
        } else {
            self.dependencies(dir)
        };
        for c in &o.components {
            if let Some(rel) = c.scalar_string().and_then(|c| join_rel(dir, &c)) {
                out.extend(self.dependencies(&rel));
            }
        }
        let mut files: BTreeSet<FileId> = BTreeSet::new();
        let mut note = |n: &Node| {
            let mut stack = vec![n];
            while let Some(n) = stack.pop() {
                files.insert(n.loc.file);
                if let Some(m) = n.as_map() {
                    stack.extend(m.entries.iter().map(|e| &e.value));
                } else if let Some(s) = n.as_seq() {
                    stack.extend(s);
                }
            }
        };
        let nodes = o
            .name_prefix
            .iter()
            .chain(&o.name_suffix)
            .chain(&o.namespace)
            .chain(&o.images)
            .chain(&o.patches)
            .chain(&o.components)
            .chain(&o.replicas)
            .chain(o.labels.iter().map(|(_, v)| v))
            .chain(o.annotations.iter().map(|(_, v)| v));
        nodes.for_each(&mut note);
        if let Some(s) = &o.substitute {
            files.extend(s.vars.values().map(|(_, l)| l.file));
        }
        files.insert(o.at.file);
        for id in files {
            if id != FileId::NONE
                && let Some(p) = self.path_of(id)
            {
                out.insert(p);
            }
        }
        out
    }
}
