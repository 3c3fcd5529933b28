//! Bundled schemas of the GitOps ecosystem's custom resources: Argo CD, Flux, Kargo,
//! cert-manager, external-secrets and sealed-secrets kinds, which a config repository writes
//! without ever holding their CRDs (the controllers install them).
//!
//! Design. `scripts/update-crd-schemas` converts the projects' published CRDs with the same
//! conversion the repository's own CRDs go through (`openapi::crd_schemas`, strict) and stores
//! them in `schemas/gitops/<project>.json.gz` (sources, versions and licences in its NOTICE).
//! `build.rs` compresses each kind's schema on its own into one blob with a sorted index, so the
//! binary carries a few dozen kilobytes and a check inflates only the kinds the repository uses.
//! These schemas go through `jsonschema` like any CRD's (they use `pattern`, bounds and `anyOf`,
//! which the native tables of the Kubernetes schemas do not implement). A CRD of the repository
//! for the same kind takes precedence: it is the version the repository installs.

use std::io::Read;

use serde_json::Value as J;

/// One bundled kind: where its compressed schema is in the blob, and where it came from.
#[derive(Debug)]
pub struct Bundled {
    /// The kind (`Application`, `Kustomization`, `HelmRelease`, ...).
    pub kind: &'static str,
    pub(crate) group: &'static str,
    pub(crate) version: &'static str,
    /// `Argo CD`, `Flux`, ...
    pub(crate) project: &'static str,
    /// The repository and release its CRD was taken from (`fluxcd/helm-controller v1.6.3`).
    pub source: &'static str,
    start: u32,
    len: u32,
}

include!(concat!(env!("OUT_DIR"), "/gitops_schemas.rs"));

impl Bundled {
    /// `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// The kind's JSON Schema (strict: unknown fields are errors).
    pub(crate) fn schema(&self) -> J {
        let range = self.start as usize..(self.start + self.len) as usize;
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(&DATA[range])
            .read_to_string(&mut text)
            .expect("bundled schema inflates");
        serde_json::from_str(&text).expect("bundled schema is JSON")
    }
}

/// Every bundled kind, sorted by kind, group and version.
pub fn all() -> &'static [Bundled] {
    &KINDS
}

/// The bundled kind of an `apiVersion`, if any.
pub fn find(api: &str, kind: &str) -> Option<&'static Bundled> {
    let (group, version) = crate::text::split_api_version(api);
    KINDS
        .binary_search_by(|b| (b.kind, b.group, b.version).cmp(&(kind, group, version)))
        .ok()
        .map(|i| &KINDS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_schema_inflates_and_compiles() {
        assert!(!KINDS.is_empty());
        for b in all() {
            let s = b.schema();
            assert!(s.is_object(), "{} {}", b.api_version(), b.kind);
            jsonschema::validator_for(&s)
                .unwrap_or_else(|e| panic!("{} {}: {e}", b.api_version(), b.kind));
            assert_eq!(
                find(&b.api_version(), b.kind).map(|f| f.start),
                Some(b.start)
            );
        }
        assert!(find("argoproj.io/v1alpha1", "Application").is_some());
        assert!(find("argoproj.io/v1", "Application").is_none());
    }
}
