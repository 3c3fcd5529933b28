//! kustomize's builtin transformers, one file each.
//!
//! Design. A kustomization runs them in kustomize's fixed order (`build.rs` calls them):
//! strategic-merge patches, patches, namespace, name prefix and suffix, labels, annotations,
//! JSON 6902 patches, replicas, images, then replacements and the `transformers:` configs
//! ([`configured`]), which drive the same code with the config's own field specs. Each takes the
//! parsed kustomization and the resources; those that read files (the patches) also take the
//! [`Renderer`](super::Renderer) for its root-confined file access. Each sets `via` on every node
//! it writes to the location of the kustomization entry responsible (the `images:` item, the
//! `namespace:` value, the patch file line), so a finding about a rendered field can point at the
//! line a person has to edit. The field-spec tables that say which fields each transformer
//! touches are data (`fieldspecs/*.yaml`), shared through
//! [`TransformerConfig`](super::transformer_config::TransformerConfig); selection of targets is
//! [`selector`](super::selector); both live below the transformers and kustomization parsing.
//! [`build_metadata`] writes what the top-level build records about them.

pub(crate) mod build_metadata;
pub(crate) mod configured;
pub(crate) mod images;
pub(crate) mod labels;
pub(crate) mod names;
pub(crate) mod namespace;
pub(crate) mod patches;
pub(crate) mod replicas;
