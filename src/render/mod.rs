//! Native `kustomize build` with provenance.
//!
//! (Pipeline under construction: see `build`.)

pub mod error;
pub mod fieldspec;
pub mod nameref;
pub mod patch_json;
pub mod patch_smp;
pub mod replacements;
pub mod resource;
pub mod vars;

use std::collections::BTreeSet;
use std::sync::Arc;

pub use error::{RenderError, RenderErrorKind};
pub use resource::{ResId, Resource};

use crate::source::{Fs, Sources};

/// The result of building one kustomization directory.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// Resources in output order.
    pub resources: Vec<Resource>,
    /// Every repo-relative file the build read (kustomizations, resources, patches, generator inputs).
    pub files: BTreeSet<String>,
}

/// Builds kustomizations from one file tree. Shared across threads; caches parsed files and built
/// bases so every base is read and built once per process.
pub struct Renderer {
    fs: Arc<dyn Fs>,
    sources: Sources,
}

impl Renderer {
    pub fn new(fs: Arc<dyn Fs>, sources: Sources) -> Renderer {
        Renderer { fs, sources }
    }
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
    pub fn fs(&self) -> &dyn Fs {
        &*self.fs
    }
    /// `kustomize build DIR` (DIR repo-relative).
    pub fn build(&self, dir: &str) -> Result<Build, RenderError> {
        let _ = dir;
        unimplemented!()
    }
}

/// Prints resources as `kustomize build` does.
pub fn to_yaml(resources: &[Resource]) -> String {
    crate::yaml::emit_documents(resources.iter().map(|r| &r.node))
}
