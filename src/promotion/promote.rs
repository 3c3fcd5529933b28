//! `kustodian promote`: set an environment's image to what the previous environment runs (or
//! to a given digest or tag), at the place provenance says it is set, and check the result
//! before anything is written.
//!
//! Design. The target environment is rendered; for each image to move, the rendered node's
//! provenance names the edit site: the `images:` entry (or `ImageTagTransformer` config) whose
//! `digest`/`newTag` set it, else the text of the image in a patch or manifest. A site in a file
//! that another environment also reads (a base, a shared component) is refused with the entry to
//! add instead — or, with `create`, that `images:` entry is added to the target's own
//! kustomization. Edits are byte splices ([`super::edit`]). The edited tree is then checked
//! ([`super::verify`]) and a promotion whose environment would have an error finding is refused
//! unless forced. The plan holds the new file contents; writing and committing are the caller's
//! next steps.

use std::collections::{BTreeMap, BTreeSet};

use super::edit::{self, Splice};
use super::images::{ImageRef, ImageUse, images_of};
pub use super::plan::{FileEdit, Plan, PromoteOptions, Promotion};
pub(crate) use super::plan::{Move, Status};
use super::{PromotionError, Repo};
use crate::check;
use crate::discover::{App, Env};
use crate::render::Renderer;
use crate::render::kustomization::find_kustomization_file;
use crate::source::{FileId, Fs};

/// Works out, edits in memory and checks every promotion asked for.
pub fn plan(opts: &PromoteOptions) -> Result<Plan, PromotionError> {
    validate(opts)?;
    let repo = Repo::open(&opts.root)?;
    let renderer = Renderer::new(repo.dyn_fs(), repo.sources.clone());
    let targets: Vec<(&App, usize)> = match (&opts.app, opts.all) {
        (Some(name), false) => {
            let app = repo.app(name)?;
            let ei = env_index(app, &opts.to)?;
            vec![(app, ei)]
        }
        (None, true) => repo
            .apps
            .iter()
            .filter_map(|a| {
                a.envs
                    .iter()
                    .position(|e| e.name == opts.to)
                    .map(|i| (a, i))
            })
            .collect(),
        _ => return Err(usage("name one app, or pass --all")),
    };
    if targets.is_empty() {
        return Err(usage(&format!("no app has an environment '{}'", opts.to)));
    }
    let mut editor = Editor::new(&repo, &renderer, opts);
    let mut promotions = Vec::new();
    for (app, ei) in targets {
        match editor.prepare(app, ei) {
            Ok(p) => promotions.push(p),
            Err(PromotionError::Usage(why) | PromotionError::Edit(why)) if opts.all => promotions
                .push(Promotion {
                    app: app.name.clone(),
                    to: opts.to.clone(),
                    from: None,
                    wanted: vec![],
                    moves: vec![],
                    files: vec![],
                    findings: vec![],
                    status: Status::Skipped(why),
                }),
            Err(e) => return Err(e),
        }
    }
    let sources = super::verify::check(&repo, opts, &mut promotions)?;
    Ok(Plan {
        promotions,
        sources,
    })
}

fn usage(msg: &str) -> PromotionError {
    PromotionError::Usage(msg.to_string())
}

fn validate(opts: &PromoteOptions) -> Result<(), PromotionError> {
    if opts.digest.is_some() && opts.tag.is_some() {
        return Err(usage("--digest and --tag exclude each other"));
    }
    if let Some(d) = &opts.digest {
        let hex = d.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(usage(&format!(
                "--digest '{d}' is not sha256:<64 lowercase hex digits>"
            )));
        }
    }
    if let Some(t) = &opts.tag
        && (t.is_empty() || t.contains(['@', ':', '/', ' ']))
    {
        return Err(usage(&format!("--tag '{t}' is not an image tag")));
    }
    if opts.all && (opts.digest.is_some() || opts.tag.is_some()) {
        return Err(usage(
            "--all promotes what each app's previous environment runs: it takes no --digest or --tag",
        ));
    }
    Ok(())
}

fn env_index(app: &App, name: &str) -> Result<usize, PromotionError> {
    app.envs.iter().position(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = app.envs.iter().map(|e| e.name.as_str()).collect();
        usage(&format!(
            "app '{}' has no environment '{name}' (environments: {})",
            app.name,
            names.join(", ")
        ))
    })
}

/// Works out the edits of promotions.
struct Editor<'a> {
    repo: &'a Repo,
    renderer: &'a Renderer,
    opts: &'a PromoteOptions,
    /// Every environment's label (`app/env`), directory and the files its build reads.
    readers: Option<Vec<(String, String, BTreeSet<String>)>>,
}

/// What one image needs: splices in a file, or an `images:` entry in the target overlay.
enum Site {
    Splices(String, Vec<Splice>),
    Create,
}

impl<'a> Editor<'a> {
    fn new(repo: &'a Repo, renderer: &'a Renderer, opts: &'a PromoteOptions) -> Editor<'a> {
        Editor {
            repo,
            renderer,
            opts,
            readers: None,
        }
    }

    /// The environments other than `dir` whose builds read `path`.
    fn others_reading(&mut self, path: &str, dir: &str) -> Vec<String> {
        let readers = self.readers.get_or_insert_with(|| {
            use rayon::prelude::*;
            let all: Vec<(String, String)> = self
                .repo
                .apps
                .iter()
                .flat_map(|a| {
                    a.envs
                        .iter()
                        .map(move |e| (format!("{}/{}", a.name, e.name), e.dir.clone()))
                })
                .collect();
            all.into_par_iter()
                .map(|(label, dir)| {
                    let deps = self.renderer.dependencies(&dir);
                    (label, dir, deps)
                })
                .collect()
        });
        readers
            .iter()
            .filter(|(_, d, deps)| d != dir && deps.contains(path))
            .map(|(l, _, _)| l.clone())
            .collect()
    }

    /// A file's text, fresh from disk; it must be what the render read.
    fn text(&self, path: &str, id: FileId) -> Result<String, PromotionError> {
        let bytes = self
            .repo
            .fs
            .read_bytes(path)
            .map_err(|e| PromotionError::Edit(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| PromotionError::Edit(format!("{path} is not UTF-8 text")))?;
        if self
            .renderer
            .sources()
            .get(id)
            .is_some_and(|f| *f.text != *text)
        {
            return Err(PromotionError::Edit(format!(
                "{path} changed while kustodian was reading it"
            )));
        }
        Ok(text)
    }

    /// One app's promotion to `app.envs[ti]`, edited in memory (not checked yet).
    fn prepare(&mut self, app: &App, ti: usize) -> Result<Promotion, PromotionError> {
        let target = &app.envs[ti];
        let given = self.opts.digest.is_some() || self.opts.tag.is_some();
        let from = match &self.opts.from {
            Some(f) => Some(&app.envs[env_index(app, f)?]),
            None if given => None,
            None => Some(app.envs[..ti].last().ok_or_else(|| {
                usage(&format!(
                    "{} is {}'s first environment: there is nothing to promote from (pass --from, --digest or --tag)",
                    target.name, app.name
                ))
            })?),
        };
        let uses = images_of(&self.build(app, target)?);
        if uses.is_empty() {
            return Err(usage(&format!(
                "{}/{} runs no container images",
                app.name, target.name
            )));
        }
        let wanted = self.wanted(app, target, from, &uses)?;
        if wanted.is_empty() {
            return Err(usage(&format!(
                "{}/{} runs none of the images {}/{} runs",
                app.name,
                from.map_or("?", |f| f.name.as_str()),
                app.name,
                target.name
            )));
        }
        let mut splices: BTreeMap<String, Vec<Splice>> = BTreeMap::new();
        let mut creates: Vec<ImageRef> = Vec::new();
        let mut moves = Vec::new();
        for want in &wanted {
            for u in uses
                .iter()
                .filter(|u| u.image.repository == want.repository)
            {
                if u.image.same_as(want) {
                    continue;
                }
                let after = want.clone();
                let (file, created) = match self.site(u, &after, target)? {
                    Site::Splices(file, s) => {
                        splices.entry(file.clone()).or_default().extend(s);
                        (file, false)
                    }
                    Site::Create => {
                        if !creates.contains(&after) {
                            creates.push(after.clone());
                        }
                        (String::new(), true)
                    }
                };
                moves.push(Move {
                    repository: want.repository.clone(),
                    before: u.image.clone(),
                    after,
                    file,
                    line: 0,
                    created,
                });
            }
        }
        if !creates.is_empty() {
            let (file, s) = self.create_entries(target, &creates)?;
            for m in moves.iter_mut().filter(|m| m.created) {
                m.file = file.clone();
            }
            splices.entry(file).or_default().push(s);
        }
        let files = self.apply(&splices, &mut moves)?;
        // A value already written as wanted (a tag the entry keeps) moves nothing.
        moves.retain(|m| files.iter().any(|f| f.path == m.file));
        Ok(Promotion {
            app: app.name.clone(),
            to: target.name.clone(),
            from: from.map(|e| e.name.clone()),
            wanted,
            status: if moves.is_empty() {
                Status::UpToDate
            } else {
                Status::Ready
            },
            moves,
            files,
            findings: vec![],
        })
    }

    fn build(&self, app: &App, env: &Env) -> Result<crate::render::Build, PromotionError> {
        self.renderer.build(&env.dir).map_err(|e| {
            let f = check::render_finding(&e, Some(&app.name), Some(&env.name));
            PromotionError::Findings(vec![f], self.renderer.sources().clone())
        })
    }

    /// What the target's images are to become: what `from` runs, or the given digest or tag.
    fn wanted(
        &self,
        app: &App,
        target: &Env,
        from: Option<&Env>,
        uses: &[ImageUse],
    ) -> Result<Vec<ImageRef>, PromotionError> {
        let mut repos: Vec<&str> = uses.iter().map(|u| u.image.repository.as_str()).collect();
        repos.dedup();
        if let Some(name) = &self.opts.image {
            repos.retain(|r| ImageRef::parse(r).is_named(name));
            if repos.is_empty() {
                return Err(usage(&format!(
                    "{}/{} runs no image '{name}'",
                    app.name, target.name
                )));
            }
        }
        if self.opts.digest.is_some() || self.opts.tag.is_some() {
            let [repo] = repos.as_slice() else {
                return Err(usage(&format!(
                    "{}/{} runs several images ({}): choose one with --image",
                    app.name,
                    target.name,
                    repos.join(", ")
                )));
            };
            return Ok(vec![ImageRef {
                repository: repo.to_string(),
                tag: self.opts.tag.clone(),
                digest: self.opts.digest.clone(),
            }]);
        }
        let from = from.expect("a source environment when no digest or tag is given");
        let theirs = images_of(&self.build(app, from)?);
        let mut out = Vec::new();
        for repo in repos {
            let refs: Vec<&ImageRef> = theirs
                .iter()
                .map(|u| &u.image)
                .filter(|i| i.repository == repo)
                .collect();
            match refs.as_slice() {
                [] if self.opts.image.is_some() => {
                    return Err(usage(&format!("{}/{} runs no {repo}", app.name, from.name)));
                }
                [] => {}
                [one] => out.push((*one).clone()),
                _ => {
                    let all: Vec<String> = refs.iter().map(|r| r.short_version()).collect();
                    return Err(usage(&format!(
                        "{}/{} runs {repo} in several versions ({}): pass --digest or --tag",
                        app.name,
                        from.name,
                        all.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Where and how to change one image of the target environment.
    fn site(
        &mut self,
        u: &ImageUse,
        after: &ImageRef,
        target: &Env,
    ) -> Result<Site, PromotionError> {
        let (loc, entry) = if u.via.is_some() {
            (u.via, true)
        } else if u.written_at.is_some() {
            (u.written_at, false)
        } else {
            return Err(PromotionError::Edit(format!(
                "{} is not written anywhere kustodian can edit (generated)",
                u.image.reference()
            )));
        };
        let path = self
            .renderer
            .path_of(loc.file)
            .ok_or_else(|| PromotionError::Edit("the image's file is unknown".into()))?;
        let readers = self.others_reading(&path, &target.dir);
        let line = self.renderer.sources().position(loc).map_or(0, |p| p.line);
        if !readers.is_empty() {
            if self.opts.create {
                return Ok(Site::Create);
            }
            return Err(PromotionError::Edit(format!(
                "{} is set in {path}:{line}, which {} also read{}; add an entry to {}'s kustomization instead (or pass --create to have it added):\n  images:\n  - name: {}\n    {}",
                u.image.repository,
                readers.join(", "),
                if readers.len() == 1 { "s" } else { "" },
                target.dir,
                u.image.repository,
                entry_fields(after)
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", edit::scalar_text(v)))
                    .collect::<Vec<_>>()
                    .join("\n    ")
            )));
        }
        let text = self.text(&path, loc.file)?;
        let docs = crate::yaml::parse_documents(&text, FileId(0))
            .map_err(|e| PromotionError::Edit(format!("{path}: {e}")))?;
        let at = |why: String| PromotionError::Edit(format!("{path}:{line}: {why}"));
        let splices = if entry {
            let owner = docs
                .iter()
                .find_map(|d| edit::owner_of(d, loc))
                .filter(|m| m.get("name").is_some())
                .ok_or_else(|| {
                    at("the value that sets this image is not an `images:` entry".into())
                })?;
            entry_splices(&text, owner, after).map_err(at)?
        } else {
            let node = docs
                .iter()
                .find_map(|d| edit::scalar_at(d, loc))
                .filter(|n| n.scalar_string().as_deref() == Some(&u.image.reference()))
                .ok_or_else(|| at("the image is not written here as one value".into()))?;
            vec![edit::set_scalar(&text, node.loc, &after.reference()).map_err(at)?]
        };
        Ok(Site::Splices(path, splices))
    }

    /// The `images:` entries added to the target overlay's kustomization.
    fn create_entries(
        &mut self,
        target: &Env,
        images: &[ImageRef],
    ) -> Result<(String, Splice), PromotionError> {
        let path = find_kustomization_file(&*self.repo.fs, &target.dir)
            .ok_or_else(|| PromotionError::Edit(format!("{} has no kustomization", target.dir)))?;
        let readers = self.others_reading(&path, &target.dir);
        if !readers.is_empty() {
            return Err(PromotionError::Edit(format!(
                "{path} is also read by {}: an entry there would promote them too",
                readers.join(", ")
            )));
        }
        let id = self.renderer.file_id(&path);
        let text = self.text(&path, id)?;
        let docs = crate::yaml::parse_documents(&text, FileId(0))
            .map_err(|e| PromotionError::Edit(format!("{path}: {e}")))?;
        let [doc] = docs.as_slice() else {
            return Err(PromotionError::Edit(format!(
                "{path} holds several YAML documents"
            )));
        };
        let items: Vec<Vec<(&str, &str)>> = images
            .iter()
            .map(|i| {
                let mut item = vec![("name", i.repository.as_str())];
                item.extend(entry_fields(i));
                item
            })
            .collect();
        let s = edit::add_list_items(&text, doc, "images", &items)
            .map_err(|why| PromotionError::Edit(format!("{path}: {why}")))?;
        Ok((path, s))
    }

    /// Applies the splices; fills in each move's line.
    fn apply(
        &self,
        splices: &BTreeMap<String, Vec<Splice>>,
        moves: &mut [Move],
    ) -> Result<Vec<FileEdit>, PromotionError> {
        let mut files = Vec::new();
        for (path, s) in splices {
            let id = self.renderer.file_id(path);
            let before = self.text(path, id)?;
            let after = edit::apply(&before, s)
                .map_err(|why| PromotionError::Edit(format!("{path}: {why}")))?;
            if after == before {
                continue;
            }
            if self.opts.commit {
                super::commit::ready(&self.opts.root, path)
                    .map_err(|why| PromotionError::Edit(format!("--commit: {why}")))?;
            }
            let first = s.iter().map(|s| s.start).min().unwrap_or(0);
            let line = before[..first].matches('\n').count() + 1;
            for m in moves.iter_mut().filter(|m| &m.file == path) {
                m.line = line;
            }
            files.push(FileEdit {
                path: path.clone(),
                before,
                after,
            });
        }
        Ok(files)
    }
}

/// The `images:` fields that set `i`: `newTag` and/or `digest`.
fn entry_fields(i: &ImageRef) -> Vec<(&'static str, &str)> {
    let mut f = Vec::new();
    if let Some(t) = &i.tag {
        f.push(("newTag", t.as_str()));
    }
    if let Some(d) = &i.digest {
        f.push(("digest", d.as_str()));
    }
    f
}

/// The splices that make an `images:` entry set `want`.
fn entry_splices(
    text: &str,
    entry: &crate::yaml::Node,
    want: &ImageRef,
) -> Result<Vec<Splice>, String> {
    let m = entry.as_map().ok_or("not a mapping")?;
    if m.contains_key("tagSuffix") {
        return Err("the entry sets tagSuffix; edit it by hand".into());
    }
    let (tag, digest) = (m.get_entry("newTag"), m.get_entry("digest"));
    let mut out = Vec::new();
    match (&want.digest, &want.tag) {
        (Some(d), want_tag) => {
            if let Some(e) = digest {
                out.push(edit::set_scalar(text, e.value.loc, d)?);
            }
            match (tag, want_tag) {
                (Some(t), Some(wt)) => out.push(edit::set_scalar(text, t.value.loc, wt)?),
                // A tag-only entry becomes a digest entry, on the same line.
                (Some(t), None) if digest.is_none() => {
                    return Ok(vec![edit::replace_entry(
                        text,
                        t.key_loc,
                        t.value.loc,
                        "digest",
                        d,
                    )?]);
                }
                _ => {}
            }
            if digest.is_none() {
                out.push(edit::add_to_mapping(text, entry, &[("digest", d)])?);
            }
        }
        (None, Some(t)) => match (tag, digest) {
            (Some(e), None) => out.push(edit::set_scalar(text, e.value.loc, t)?),
            (None, Some(e)) => out.push(edit::replace_entry(
                text,
                e.key_loc,
                e.value.loc,
                "newTag",
                t,
            )?),
            (Some(_), Some(_)) => {
                return Err(
                    "the entry sets newTag and digest; a tag alone would keep the old digest (pass --digest)".into(),
                );
            }
            (None, None) => out.push(edit::add_to_mapping(text, entry, &[("newTag", t)])?),
        },
        (None, None) => return Err("nothing to set".into()),
    }
    Ok(out)
}
