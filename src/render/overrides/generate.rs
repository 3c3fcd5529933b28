//! Paths without a kustomization file, as each controller reads them.
//!
//! Flux (fluxcd/pkg `scanManifests`) generates a kustomization listing, in a depth-first walk
//! sorted by name, every `.yaml`/`.yml` file below the path and every subdirectory holding a
//! kustomization file (as one resource, not descended into); hidden directories are walked too,
//! but files the source artifact leaves out (`.sourceignore`, its defaults) do not exist. Each
//! listed file must parse as Kubernetes objects, or the whole Kustomization fails. An empty
//! listing gets `namespace: _placeholder` (Flux's guard against an empty kustomization).
//!
//! Argo CD's directory source (repo-server `findManifests`) reads the `.yaml`/`.yml`/`.json`
//! files of the directory (and below it with `recurse`), filtered by the `exclude` then
//! `include` glob on the path below the directory (`*` crosses `/`, `{a,b}` alternates), skips
//! files marked `+argocd:skip-file-rendering`, and tolerates YAML that is not Kubernetes objects
//! unless it looks like one (it has `apiVersion:`, `kind:` and `metadata:`). Nothing is
//! transformed or reordered: no kustomize is involved.

use std::collections::BTreeSet;

use super::sourceignore::SourceIgnore;
use super::{DirectoryOptions, EnvBuild};
use crate::render::build::resources_from_doc;
use crate::render::error::{RenderError, RenderErrorKind};
use crate::render::kustomization::{Kustomization, Ref, find_kustomization_file};
use crate::render::resource::{Origin, Resource};
use crate::render::{Build, Renderer};
use crate::source::{Loc, child_rel};
use crate::yaml::Value;

/// What Flux's generated kustomization lists: `(path relative to dir, is a directory)`.
fn flux_listing(r: &Renderer, dir: &str, o: &EnvBuild) -> (Vec<(String, bool)>, SourceIgnore) {
    let ignore = SourceIgnore::load(r.fs(), dir, o.source_ignore.as_deref());
    let mut out = Vec::new();
    walk(r, dir, "", &ignore, &mut out);
    (out, ignore)
}

fn walk(r: &Renderer, root: &str, sub: &str, ignore: &SourceIgnore, out: &mut Vec<(String, bool)>) {
    let here = child_rel(root, sub);
    let here = if sub.is_empty() {
        root.to_string()
    } else {
        here
    };
    for name in r.fs().list(&here).unwrap_or_default() {
        let rel = child_rel(&here, &name);
        let below = if sub.is_empty() {
            name.clone()
        } else {
            format!("{sub}/{name}")
        };
        if r.fs().is_dir(&rel) {
            match find_kustomization_file(r.fs(), &rel) {
                Some(k) if !ignore.ignored(&k, false) => out.push((below, true)),
                _ => walk(r, root, &below, ignore, out),
            }
            continue;
        }
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if yaml && !ignore.ignored(&rel, false) {
            out.push((below, false));
        }
    }
}

/// The kustomization Flux generates for `dir` (see the module doc).
pub(super) fn flux_kustomization(
    r: &Renderer,
    dir: &str,
    o: &EnvBuild,
) -> Result<Kustomization, RenderError> {
    let (listing, _) = flux_listing(r, dir, o);
    let mut k = Kustomization {
        path: child_rel(dir, "kustomization.yaml"),
        ..Kustomization::default()
    };
    for (below, is_dir) in listing {
        let rel = child_rel(dir, &below);
        let loc = if is_dir {
            Loc::NONE
        } else {
            check_manifests(r, &rel, o)?
        };
        k.resources.push(Ref {
            text: format!("./{below}"),
            loc,
        });
    }
    k.resources_listed = k.resources.len();
    if k.resources.is_empty() {
        k.namespace = Some(("_placeholder".into(), Loc::NONE));
    }
    Ok(k)
}

/// Flux's check of a listed file: it must parse as Kubernetes objects. Returns the file's start.
fn check_manifests(r: &Renderer, rel: &str, o: &EnvBuild) -> Result<Loc, RenderError> {
    let fail = |e: RenderError| {
        RenderError::new(
            e.kind,
            format!(
                "failed to decode Kubernetes YAML from {rel}: {} ({} fails: Flux generates a kustomization listing every YAML file under its path; exclude this file with a .sourceignore or move it out of the path)",
                e.message, o.origin
            ),
            e.loc,
        )
        .with_related(o.at, "the Flux Kustomization")
    };
    let docs = r.load_file(rel).map_err(fail)?;
    let text = r.read_text(rel, Loc::NONE)?;
    let folded = crate::render::scalars::may_hold_folded(&text);
    for d in docs {
        resources_from_doc(d, rel, &text, folded).map_err(fail)?;
    }
    Ok(Loc::new(r.file_id(rel), 0, 0))
}

/// The manifests of an Argo CD directory source (see the module doc).
pub(super) fn argo_directory(r: &Renderer, dir: &str, o: &EnvBuild) -> Result<Build, RenderError> {
    let opts = o.directory.clone().unwrap_or_default();
    if opts.jsonnet {
        return Err(RenderError::new(
            RenderErrorKind::Unsupported,
            format!(
                "{}: Jsonnet options are set; kustodian does not evaluate Jsonnet",
                o.origin
            ),
            o.at,
        ));
    }
    let mut built = Build::default();
    for rel in argo_files(r, dir, &opts, o)? {
        let text = r.read_text(&rel, Loc::NONE)?;
        if text.contains("+argocd:skip-file-rendering") {
            continue;
        }
        built.files.insert(rel.clone());
        for res in argo_objects(r, &rel, &text)? {
            built.resources.push(res);
        }
    }
    Ok(built)
}

/// The candidate files of a directory source, in walk order.
fn argo_files(
    r: &Renderer,
    dir: &str,
    opts: &DirectoryOptions,
    o: &EnvBuild,
) -> Result<Vec<String>, RenderError> {
    let glob = |p: &Option<String>| -> Result<Option<globset::GlobMatcher>, RenderError> {
        p.as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| {
                globset::Glob::new(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| {
                        RenderError::invalid(format!("{}: invalid glob '{p}': {e}", o.origin), o.at)
                    })
            })
            .transpose()
    };
    let filter = Filter {
        include: glob(&opts.include)?,
        exclude: glob(&opts.exclude)?,
        recurse: opts.recurse,
    };
    let mut out = Vec::new();
    filter.walk(r, dir, "", o, &mut out)?;
    Ok(out)
}

struct Filter {
    include: Option<globset::GlobMatcher>,
    exclude: Option<globset::GlobMatcher>,
    recurse: bool,
}

impl Filter {
    /// Go's `filepath.Walk` order: by name, each directory where its name sorts.
    fn walk(
        &self,
        r: &Renderer,
        dir: &str,
        sub: &str,
        o: &EnvBuild,
        out: &mut Vec<String>,
    ) -> Result<(), RenderError> {
        let here = if sub.is_empty() {
            dir.to_string()
        } else {
            child_rel(dir, sub)
        };
        for name in r.fs().list(&here).unwrap_or_default() {
            let below = if sub.is_empty() {
                name.clone()
            } else {
                format!("{sub}/{name}")
            };
            let rel = child_rel(&here, &name);
            if r.fs().is_dir(&rel) {
                if self.recurse {
                    self.walk(r, dir, &below, o, out)?;
                }
                continue;
            }
            let manifest = [".yaml", ".yml", ".json", ".jsonnet"]
                .iter()
                .any(|e| name.ends_with(e));
            if !manifest
                || self.exclude.as_ref().is_some_and(|g| g.is_match(&below))
                || self.include.as_ref().is_some_and(|g| !g.is_match(&below))
            {
                continue;
            }
            if name.ends_with(".jsonnet") {
                return Err(RenderError::new(
                    RenderErrorKind::Unsupported,
                    format!(
                        "{rel}: Argo CD evaluates Jsonnet files of a directory source; kustodian does not ({})",
                        o.origin
                    ),
                    o.at,
                ));
            }
            out.push(rel);
        }
        Ok(())
    }
}

/// The objects of one file as Argo CD decodes them.
fn argo_objects(r: &Renderer, rel: &str, text: &str) -> Result<Vec<Resource>, RenderError> {
    let looks_like_manifest =
        text.contains("apiVersion:") && text.contains("kind:") && text.contains("metadata:");
    let docs = match r.load_file(rel) {
        Ok(d) => d,
        Err(_) if !looks_like_manifest && !rel.ends_with(".json") => return Ok(vec![]),
        Err(e) => {
            return Err(RenderError::new(
                e.kind,
                format!("Failed to unmarshal \"{rel}\": {}", e.message),
                e.loc,
            ));
        }
    };
    let mut out = Vec::new();
    let folded = crate::render::scalars::may_hold_folded(text);
    for (i, d) in docs.into_iter().enumerate() {
        if d.is_null() {
            continue;
        }
        let has_kind =
            matches!(d.get("kind").map(|k| &k.value), Some(Value::Str(k)) if !k.is_empty());
        if !has_kind {
            // A file that is not Kubernetes objects at all is ignored; one that breaks after
            // objects, or looks like a manifest, fails the app.
            if out.is_empty() && i == 0 && !looks_like_manifest {
                return Ok(vec![]);
            }
            return Err(RenderError::invalid(
                format!("Failed to unmarshal \"{rel}\": Object 'Kind' is missing"),
                d.loc,
            ));
        }
        for mut res in resources_from_doc(d, rel, text, folded)? {
            res.origin = Some(Origin::File(rel.to_string()));
            out.push(res);
        }
    }
    Ok(out)
}

/// What a generated listing depends on: the directory (a new file changes the listing), the
/// listed files and the `.sourceignore` files, and what the listed kustomizations read.
pub(super) fn dependencies(r: &Renderer, dir: &str, o: &EnvBuild) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.insert(dir.to_string());
    if o.directory.is_some() || o.controller == super::Controller::ArgoCd {
        let opts = o.directory.clone().unwrap_or_default();
        out.extend(argo_files(r, dir, &opts, o).unwrap_or_default());
        return out;
    }
    let (listing, ignore) = flux_listing(r, dir, o);
    out.extend(ignore.files);
    for (below, is_dir) in listing {
        let rel = child_rel(dir, &below);
        if is_dir {
            out.extend(r.dependencies(&rel));
        } else {
            out.insert(rel);
        }
    }
    out
}
