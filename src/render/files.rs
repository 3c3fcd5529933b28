//! File access for a build: reading files into the shared table, and kustomize's load
//! restrictions.
//!
//! Design. Every file a build reads goes through the renderer's root-confined
//! [`Fs`](crate::source::Fs) and is interned in [`Sources`](crate::source::Sources) once (error
//! snippets need the text anyway); parsed trees are not kept. References are resolved the way
//! kustomize's default (root-only) loader resolves them: a file must stay inside the referring
//! kustomization's own directory tree (unless the renderer lifts that restriction, as Flux
//! does), another directory is reachable only as a kustomization, and nothing outside the
//! renderer's root (the repository, or a fetched remote base) is read. Each refusal is a
//! [`RenderError`] at the entry that made the reference.

use std::sync::Arc;

use super::Renderer;
use super::error::{RenderError, RenderErrorKind};
use super::remote::{Reference, classify};
use crate::source::{FileId, FsError, Loc, join_rel};
use crate::yaml::Node;
use crate::yaml::duplicates::DuplicateKey;

impl Renderer {
    /// Reads and parses a file. `rel` must already be validated.
    ///
    /// Only the text is kept (interned in `sources`, which error snippets need anyway), not the
    /// parsed tree: most files are read by a single build, parsing again is cheap, and keeping
    /// every tree of a large repository cost more in fresh memory than the parse saves.
    pub(crate) fn load_file(&self, rel: &str) -> Result<Vec<Node>, RenderError> {
        let (docs, dups, first) = self.parse_file(rel)?;
        // Reported once per file, however many builds read it.
        if first && !dups.is_empty() {
            self.duplicates.lock().unwrap().extend(dups);
        }
        Ok(docs)
    }

    /// Reads and parses a file whose documents go to the output (a resource or a patch).
    ///
    /// Where a kustomization's own fields just take a repeated key's later value, kustomize
    /// fails the build when a resource or patch gives a key twice (it converts the result back
    /// through go-yaml, which refuses duplicates) — and so do Argo CD and Flux. Refused here
    /// too, at the second key, every time the file is built.
    pub(crate) fn load_output_file(&self, rel: &str) -> Result<Vec<Node>, RenderError> {
        let (docs, dups, _) = self.parse_file(rel)?;
        match dups.first() {
            Some(d) => Err(duplicate_key_error(d)),
            None => Ok(docs),
        }
    }

    /// A file's documents, its repeated keys, and whether this was its first reading.
    fn parse_file(&self, rel: &str) -> Result<(Vec<Node>, Vec<DuplicateKey>, bool), RenderError> {
        let (id, text, first) = self.intern(rel, Loc::NONE)?;
        match crate::yaml::parse::parse_documents_with_duplicates(&text, id) {
            Ok((docs, dups)) => Ok((docs, dups, first)),
            Err(e) => {
                let mut err = RenderError::new(
                    RenderErrorKind::Yaml,
                    format!("invalid YAML in {rel}: {}", e.message),
                    e.loc,
                );
                if let Some(r) = e.related {
                    err = err.with_related(r, "first defined here");
                }
                Err(err)
            }
        }
    }

    /// A file's text and id, read from disk the first time (`true`) and from `sources` after.
    fn intern(&self, rel: &str, at: Loc) -> Result<(FileId, Arc<str>, bool), RenderError> {
        let key = format!("{}{rel}", self.label);
        if let Some(id) = self.sources.lookup(&key)
            && let Some(f) = self.sources.get(id)
        {
            return Ok((id, f.text.clone(), false));
        }
        let text = self.fs.read(rel).map_err(|e| self.fs_error(e, at))?;
        let (id, first) = self.sources.add_new(&key, text);
        let text = self
            .sources
            .get(id)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        Ok((id, text, first))
    }

    /// Reads a file's raw text (generator inputs), interning it for snippets.
    pub(crate) fn read_text(&self, rel: &str, at: Loc) -> Result<Arc<str>, RenderError> {
        self.intern(rel, at).map(|(_, text, _)| text)
    }

    /// Resolves a file reference: it must exist and, under root-only load restrictions (not
    /// lifted for this renderer), stay inside the kustomization's own directory tree.
    pub(crate) fn restricted_file(
        &self,
        dir: &str,
        reference: &str,
        at: Loc,
    ) -> Result<String, RenderError> {
        let Some(rel) = join_rel(dir, reference) else {
            return Err(self.outside_root(reference, at));
        };
        let inside = dir.is_empty() || rel == dir || rel.starts_with(&format!("{dir}/"));
        if !inside && !self.unrestricted_loads {
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
            return Err(match self.fs.read_bytes(&rel) {
                Err(FsError::NotFound(_)) | Ok(_) => RenderError::new(
                    RenderErrorKind::Missing,
                    format!("'{reference}': no such file or directory (looked for {rel})"),
                    at,
                )
                .with_path(rel),
                // A directory, a FIFO, a symlink out of the root or to nothing: say which.
                Err(e) => self.fs_error(e, at),
            });
        }
        Ok(rel)
    }

    pub(super) fn resolve_dir(
        &self,
        dir: &str,
        reference: &str,
        at: Loc,
    ) -> Result<String, RenderError> {
        match classify(reference) {
            Reference::Local => {}
            Reference::Invalid(why) => {
                return Err(RenderError::invalid(
                    format!("'{reference}' is not a git URL kustomize accepts: {why}"),
                    at,
                ));
            }
            // Git repositories are resolved by the caller (`remote_base`).
            Reference::HttpFile | Reference::Git(_) => {
                return Err(RenderError::new(
                    RenderErrorKind::Unsupported,
                    format!(
                        "remote component '{reference}' is not supported: kustodian never downloads files over the network (git repositories only)"
                    ),
                    at,
                ));
            }
        }
        let Some(rel) = join_rel(dir, reference) else {
            return Err(self.outside_root(reference, at));
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
}

impl Renderer {
    /// A reference that leaves the renderer's root (the repository, or a fetched base's).
    pub(crate) fn outside_root(&self, reference: &str, at: Loc) -> RenderError {
        RenderError::new(
            RenderErrorKind::Escape,
            format!(
                "'{reference}' is outside {}; kustodian does not read outside it",
                self.root_name()
            ),
            at,
        )
    }

    /// [`fs_error`], naming a fetched base's root by its URL rather than its cache directory.
    pub(crate) fn fs_error(&self, e: FsError, at: Loc) -> RenderError {
        match e {
            FsError::OutsideRoot { path, .. } if self.in_fetched_tree => RenderError::new(
                RenderErrorKind::Escape,
                format!(
                    "'{path}' resolves outside {}; refusing to read it",
                    self.root_name()
                ),
                at,
            )
            .with_path(self.build_file_name(&path)),
            e => fs_error(e, at),
        }
    }
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
        e => {
            let path = e.path().to_string();
            RenderError::new(RenderErrorKind::Invalid, e.to_string(), at).with_path(path)
        }
    }
}

/// kustomize's refusal of a resource or patch that gives a key twice, at the second one.
pub(crate) fn duplicate_key_error(d: &DuplicateKey) -> RenderError {
    RenderError::new(
        RenderErrorKind::Yaml,
        format!(
            "mapping key '{}' given twice: kustomize fails the build on a resource or patch with a repeated key",
            d.key
        ),
        d.second,
    )
    .with_related(d.first, "first given here")
}
