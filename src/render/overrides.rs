//! What a GitOps controller applies on top of `kustomize build` for one environment: Argo CD's
//! `spec.source.kustomize` options and Flux's `Kustomization` spec (patches, images, name affixes,
//! target namespace, common metadata, components, post-build variable substitution), and — for a
//! Flux path without a kustomization file — the kustomization Flux generates.
//!
//! The values are kept as the YAML nodes written in the GitOps object, so a rendered field they set
//! remembers the line of the Application or Kustomization that set it. Discovery fills this in;
//! the renderer applies it to the environment's top-level kustomization the way the controller
//! edits that kustomization before building it.

use std::collections::BTreeMap;

use crate::source::Loc;
use crate::yaml::Node;

/// Which controller's semantics apply where the two differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Controller {
    #[default]
    ArgoCd,
    Flux,
}

/// Overrides of one environment's top-level kustomization, and what follows the build.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvBuild {
    pub controller: Controller,
    /// The object that asks for this (`Kustomization/apps in clusters/staging/apps.yaml`), for
    /// messages.
    pub origin: String,
    /// The path has no kustomization file: build one that lists its manifests (Flux), or read the
    /// directory's manifests as they are (Argo CD's directory source).
    pub generate: bool,
    pub name_prefix: Option<Node>,
    pub name_suffix: Option<Node>,
    pub namespace: Option<Node>,
    /// `images:` entries, kustomize's format.
    pub images: Vec<Node>,
    /// `patches:` entries (`patch` + `target`), kustomize's format.
    pub patches: Vec<Node>,
    /// Component directories, repo-relative, with the place they are written.
    pub components: Vec<(String, Loc)>,
    /// Labels and annotations added to every object: `(key, value)` nodes. `selectors`: also to
    /// selectors and templates (Argo CD `commonLabels`), or to metadata only (Flux
    /// `commonMetadata`, Argo CD `labelWithoutSelector`).
    pub labels: Vec<(String, Node)>,
    pub label_selectors: bool,
    pub annotations: Vec<(String, Node)>,
    /// `replicas:` entries (`name`, `count`).
    pub replicas: Vec<Node>,
    /// Flux post-build substitution, when the object asks for it.
    pub substitute: Option<Substitution>,
    /// Argo CD's directory source options (with `generate`): which manifests are read.
    pub directory: Option<DirectoryOptions>,
}

/// Argo CD's `spec.source.directory`: the directory's manifests, its subdirectories' too with
/// `recurse`, filtered by `include`/`exclude` globs on the path below the directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryOptions {
    pub recurse: bool,
    pub include: Option<String>,
    pub exclude: Option<String>,
}

/// Flux's post-build variable substitution (`spec.postBuild`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Substitution {
    /// Variable values and where each is written (`substitute`, then `substituteFrom` objects).
    pub vars: BTreeMap<String, (String, Loc)>,
    /// `substituteFrom` sources that were not found in the repository and are not optional: the
    /// variables they would define are unknown, so unset variables are not reported as empty.
    pub unknown_sources: Vec<String>,
}

/// Builds `dir` with `o` applied (see the module doc).
pub fn build(
    r: &super::Renderer,
    dir: &str,
    o: &EnvBuild,
) -> Result<super::Build, super::RenderError> {
    if o.generate {
        return Err(super::RenderError::invalid(
            format!(
                "{dir}: no kustomization file here; {} renders the directory's manifests, which kustodian does not do yet",
                o.origin
            ),
            Loc::NONE,
        ));
    }
    r.build(dir)
}
