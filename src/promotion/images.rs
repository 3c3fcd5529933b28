//! What an environment runs: the image of every container of its rendered workloads, and the
//! source location that set it.
//!
//! A rendered `image` node keeps two locations: `loc`, where its text was first written (a base
//! manifest, a patch), and `via`, the transformer input that last changed it (an `images:`
//! entry's `digest`/`newTag` line). [`Node::blame`](crate::yaml::Node::blame) picks the one a
//! person edits, which is what `versions` shows and `promote` edits.

use std::collections::BTreeMap;

use crate::render::Build;
use crate::rules::support::pods;
use crate::source::Loc;

/// An image reference split the way kustomize splits it (`host:port/name:tag@digest`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ImageRef {
    pub(crate) repository: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
}

impl ImageRef {
    pub(crate) fn parse(image: &str) -> ImageRef {
        let (repository, tag, digest) = crate::render::transformers::images::split_image(image);
        let some = |s: String| (!s.is_empty()).then_some(s);
        ImageRef {
            repository,
            tag: some(tag),
            digest: some(digest),
        }
    }

    /// The full reference, as a container's `image:` spells it.
    pub(crate) fn reference(&self) -> String {
        format!("{}{}", self.repository, self.version())
    }

    /// The part after the repository: `:tag`, `@digest` or `:tag@digest` (empty for neither).
    pub(crate) fn version(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The last path segment of the repository (`ghcr.io/example/api` → `api`).
    pub(crate) fn name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// Whether `name` designates this image: its repository or its last path segment.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        self.repository == name || self.name() == name
    }

    /// The same image contents: equal digests when both have one, else equal references.
    pub(crate) fn same_as(&self, other: &ImageRef) -> bool {
        self.repository == other.repository
            && match (&self.digest, &other.digest) {
                (Some(a), Some(b)) => a == b,
                _ => self.tag == other.tag && self.digest == other.digest,
            }
    }

    /// What to show for the version: the tag and a short digest.
    pub(crate) fn short_version(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => format!("{t}@{}", short_digest(d)),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => short_digest(d).to_string(),
            (None, None) => "(no tag)".to_string(),
        }
    }
}

/// `sha256:` and the first 12 hex digits (the length `docker images` shows), as the promotion
/// commit message spells a digest.
pub(crate) fn short_digest(d: &str) -> &str {
    let end = d.find(':').map_or(12, |i| i + 1 + 12);
    d.get(..end).unwrap_or(d)
}

/// One image reference an environment runs, with every container running it.
#[derive(Clone, Debug)]
pub(crate) struct ImageUse {
    pub(crate) image: ImageRef,
    /// `Kind/name container` of each container running it.
    pub(crate) containers: Vec<String>,
    /// Where a person changes it (the transformer input, else the text itself).
    pub(crate) set_at: Loc,
    /// Where the text of the value was first written.
    pub(crate) written_at: Loc,
    /// The transformer input that last set it (`Loc::NONE` when none did).
    pub(crate) via: Loc,
}

/// The images of a build's containers, one entry per distinct reference, ordered by repository
/// then reference. Containers running the same reference set in different places keep the first
/// place in output order.
pub(crate) fn images_of(build: &Build) -> Vec<ImageUse> {
    let mut by_ref: BTreeMap<(String, String), ImageUse> = BTreeMap::new();
    for r in &build.resources {
        for c in pods::containers(r) {
            let Some(node) = c.node.get("image") else {
                continue;
            };
            let Some(text) = node.scalar_string() else {
                continue;
            };
            let image = ImageRef::parse(&text);
            let key = (image.repository.clone(), image.reference());
            let container = format!("{}/{} {}", r.kind(), r.name(), c.name);
            by_ref
                .entry(key)
                .or_insert_with(|| ImageUse {
                    image,
                    containers: Vec::new(),
                    set_at: node.blame(),
                    written_at: node.loc,
                    via: node.via,
                })
                .containers
                .push(container);
        }
    }
    by_ref.into_values().collect()
}

/// Each repository an environment runs, with its references (sorted): what the history compares.
pub(crate) fn values_of(uses: &[ImageUse]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for u in uses {
        out.entry(u.image.repository.clone())
            .or_default()
            .push(u.image.reference());
    }
    for refs in out.values_mut() {
        refs.sort();
        refs.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_as_kustomize_splits_them() {
        let d = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let r = ImageRef::parse(&format!("reg:5000/team/api:1.4@{d}"));
        assert_eq!(r.repository, "reg:5000/team/api");
        assert_eq!(r.tag.as_deref(), Some("1.4"));
        assert_eq!(r.digest.as_deref(), Some(d));
        assert_eq!(r.name(), "api");
        assert_eq!(r.reference(), format!("reg:5000/team/api:1.4@{d}"));
        assert_eq!(r.short_version(), "1.4@sha256:9f86d081884c");
        let plain = ImageRef::parse("reg:5000/api");
        assert_eq!((plain.tag, plain.digest), (None, None));
        assert_eq!(short_digest(d), "sha256:9f86d081884c");
        assert_eq!(short_digest(d).len(), 19);
        // Same contents: digests decide when both have one.
        let a = ImageRef::parse(&format!("api:1.4@{d}"));
        let b = ImageRef::parse(&format!("api@{d}"));
        assert!(a.same_as(&b));
        assert!(!ImageRef::parse("api:1.4").same_as(&ImageRef::parse("api:1.5")));
    }
}
