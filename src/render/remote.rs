//! Remote bases in a build: git URLs in `resources:` and `components:`.
//!
//! Design. A remote entry is resolved to a pinned tree in the cache
//! ([`crate::source::remote`]) — by the recorded commit (`--remote cache`, the default), by
//! fetching (`--remote fetch`, or `kustodian fetch`), or not at all (`--remote deny`) — and each
//! pinned tree gets a renderer of its own: a [`DiskFs`] rooted at the tree, so the fetched
//! repository is its own root exactly as kustomize's clone loader makes it (root-only loading
//! inside it, whatever the repository's own build allows; a base may reach anything inside the
//! clone and nothing outside it; symlinks resolved by the same no-follow code as the repository's).
//! That renderer interns its files under a label naming the repository, the ref and the commit
//! (`https://github.com/org/repo?ref=v1@1a2b3c4:base/deploy.yaml`), so provenance points into the
//! fetched file with the URL in its location, and a report can tell such a file from one of the
//! repository (its name holds `://`, which no repository path can). Its builds are memoized like
//! any base's; resolution and the renderer are made once per (URL, ref) per process and shared by
//! every renderer of the run (the root's unrestricted twin and the fetched trees' own renderers
//! included: a remote base may name another remote base).
//!
//! Which entries are remote follows kustomize: a string its git URL grammar accepts is a
//! repository, except an `http(s)://` URL that reads as a file download, which kustodian refuses
//! (it never downloads files); a local file of that name wins for `resources:`, as kustomize
//! reads files first.

use std::sync::{Arc, Mutex, OnceLock};

use super::Renderer;
use super::error::{RenderError, RenderErrorKind};
use super::kustomization::find_kustomization_file;
use crate::source::remote::{self, Mode, Pinned, RemoteError, RepoSpec, is_fetched_path};
use crate::source::{DiskFs, HashMap, Loc, child_rel, join_rel};

/// What a `resources:`/`components:` entry names.
pub(crate) enum Reference {
    /// A path in the tree being built.
    Local,
    /// A git repository (and the kustomization's directory in it).
    Git(Box<RepoSpec>),
    /// An `http(s)://` file to download: refused.
    HttpFile,
    /// Looks remote, and kustomize's grammar refuses it.
    Invalid(String),
}

/// Sorts an entry's text the way kustomize does before it looks at the file system.
pub(crate) fn classify(text: &str) -> Reference {
    // The common case, a relative path, without parsing: every URL form has a `:` or an `@`,
    // except host-first shorthands.
    const HOSTS: [&str; 3] = ["github.com/", "gitlab.com/", "bitbucket.org/"];
    let host_first = HOSTS.iter().any(|h| {
        text.get(..h.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(h))
    });
    if !host_first && !text.contains([':', '@']) {
        return Reference::Local;
    }
    match RepoSpec::parse(text) {
        Ok(spec) if spec.is_git_like() => Reference::Git(Box::new(spec)),
        Ok(_) => Reference::HttpFile,
        Err(e @ crate::source::remote::UrlError::ExitsRepo(_)) => Reference::Invalid(e.to_string()),
        Err(e) => {
            let lower = text.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                Reference::HttpFile
            } else if text.contains("://")
                || [
                    "github.com/",
                    "gitlab.com/",
                    "bitbucket.org/",
                    "git@",
                    "git::",
                ]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                Reference::Invalid(e.to_string())
            } else {
                Reference::Local
            }
        }
    }
}

/// A resolved remote base: its tree's renderer (or why there is none).
type Resolved = Result<Arc<Renderer>, RemoteError>;

/// The remote bases of one run's renderers.
pub(crate) struct RemoteBases {
    settings: remote::Settings,
    /// Per clone URL and ref, resolved once.
    resolved: Mutex<HashMap<String, Arc<OnceLock<Resolved>>>>,
}

impl RemoteBases {
    pub(crate) fn new(settings: remote::Settings) -> RemoteBases {
        RemoteBases {
            settings,
            resolved: Mutex::default(),
        }
    }

    /// Drops the fetched trees' renderers (they hold this table too: the root breaks the loop).
    pub(crate) fn clear(&self) {
        self.resolved.lock().unwrap().clear();
    }
}

/// How a report names a fetched repository at a commit: a URL (with `://` always, `ssh://` for
/// scp-style addresses), the ref as written, the short commit.
pub fn label(spec: &RepoSpec, pinned: &Pinned) -> String {
    let url = spec.clone_url();
    let url = if url.contains("://") {
        url
    } else {
        // `git@host:org/repo` (or `git@host/org/repo`) is `ssh://git@host/org/repo`.
        let host = spec.host.trim_end_matches([':', '/']);
        format!("ssh://{host}/{}", spec.repo_path)
    };
    let r = spec
        .git_ref
        .as_deref()
        .map(|r| format!("?ref={r}"))
        .unwrap_or_default();
    format!("{url}{r}@{}:", pinned.short())
}

impl Renderer {
    /// The renderer of the tree `spec` names and the kustomization's directory in it, or the
    /// error at `at` (denied, not cached, fetch failed, not a directory).
    pub(crate) fn remote_base(
        &self,
        text: &str,
        spec: &RepoSpec,
        at: Loc,
    ) -> Result<(Arc<Renderer>, String), RenderError> {
        let err = |message: String| RenderError::new(RenderErrorKind::Remote, message, at);
        let settings = &self.remotes.settings;
        if settings.mode == Mode::Deny {
            return Err(err(format!(
                "remote base '{text}' refused: remote bases are denied here (--remote deny); \
                 vendor it into the repository, or allow cached bases with --remote cache"
            )));
        }
        let key = format!(
            "{}\0{}",
            spec.clone_url(),
            spec.git_ref.as_deref().unwrap_or("")
        );
        let cell = self
            .remotes
            .resolved
            .lock()
            .unwrap()
            .entry(key)
            .or_default()
            .clone();
        let resolved = cell.get_or_init(|| self.resolve(spec));
        let sub = match resolved {
            Ok(r) => r.clone(),
            Err(e) => return Err(err(explain(text, e, settings.mode))),
        };
        let dir = join_rel("", &spec.root_path).ok_or_else(|| {
            err(format!(
                "remote base '{text}': its path leaves the repository"
            ))
        })?;
        if !sub.fs.is_dir(&dir) {
            return Err(err(format!(
                "remote base '{text}': '{}' is not a directory in {}",
                if dir.is_empty() { "." } else { &dir },
                sub.label.trim_end_matches(':')
            )));
        }
        Ok((sub, dir))
    }

    /// A `resources:` entry that is not a local path: a git repository is built by its fetched
    /// tree's renderer and added to `acc`; a file download or a bad URL is refused. `None`: a
    /// local path (a file of that name wins, as kustomize reads files first).
    pub(super) fn add_remote_resource(
        &self,
        dir: &str,
        entry: &super::kustomization::Ref,
        stack: &mut Vec<String>,
        acc: &mut super::Accum,
        track: bool,
    ) -> Option<Result<(), RenderError>> {
        let text = entry.text.as_str();
        let at = entry.loc;
        match classify(text) {
            Reference::Local => None,
            _ if join_rel(dir, text).is_some_and(|p| self.fs.is_file(&p)) => None,
            Reference::Git(spec) => Some(self.remote_base(text, &spec, at).and_then(|(sub, d)| {
                let built = sub.build_dir(&d, stack, at, track, &acc.schema)?;
                sub.merge_base(acc, &built, text, at)
            })),
            Reference::HttpFile => Some(Err(RenderError::new(
                RenderErrorKind::Unsupported,
                format!(
                    "remote resource '{text}' is not supported: kustodian never downloads files \
                     over the network (git repositories only); vendor it into the repository"
                ),
                at,
            ))),
            Reference::Invalid(why) => Some(Err(RenderError::invalid(
                format!("remote resource '{text}' is not a git URL kustomize accepts: {why}"),
                at,
            ))),
        }
    }

    /// A `components:` entry's directory, with the renderer of its fetched tree when remote.
    pub(super) fn component_dir(
        &self,
        dir: &str,
        entry: &super::kustomization::Ref,
    ) -> Result<(Option<Arc<Renderer>>, String), RenderError> {
        match classify(&entry.text) {
            Reference::Git(spec) => {
                let (sub, cdir) = self.remote_base(&entry.text, &spec, entry.loc)?;
                Ok((Some(sub), cdir))
            }
            _ => Ok((None, self.resolve_dir(dir, &entry.text, entry.loc)?)),
        }
    }

    /// Pins `spec` (fetching in fetch mode) and makes the renderer of its tree.
    fn resolve(&self, spec: &RepoSpec) -> Resolved {
        let settings = &self.remotes.settings;
        let cache = settings.cache().ok_or(RemoteError::NoCacheDir)?;
        let pinned = match settings.mode {
            Mode::Fetch => remote::fetch::fetch_once(&cache, spec)?,
            _ => cache.lookup(spec)?,
        };
        let fs = DiskFs::new(&pinned.tree).map_err(|e| RemoteError::Incomplete {
            url: spec.clone_url(),
            msg: e.to_string(),
        })?;
        Ok(Arc::new(Renderer::for_fetched_tree(
            Arc::new(fs),
            self.sources.clone(),
            &label(spec, &pinned),
            self.remotes.clone(),
            super::resource::OriginRepo {
                repo: spec.clone_url(),
                git_ref: spec.git_ref.clone(),
            },
        )))
    }

    /// How messages name this renderer's root: the repository, or the fetched one.
    pub(crate) fn root_name(&self) -> String {
        if self.in_fetched_tree {
            format!(
                "the fetched repository {}",
                self.label.trim_end_matches(':')
            )
        } else {
            "the repository root".to_string()
        }
    }

    /// The name of `dir` in a build's include chain (a fetched tree's directories carry its
    /// label, so they never meet the repository's directories of the same name).
    pub(crate) fn stack_key(&self, dir: &str) -> String {
        if self.in_fetched_tree {
            format!("{}{dir}", self.label)
        } else {
            dir.to_string()
        }
    }

    /// A file name of this renderer as the top-level build lists it (fetched files labelled).
    pub(crate) fn build_file_name(&self, rel: &str) -> String {
        if self.in_fetched_tree && !is_fetched_path(rel) {
            format!("{}{rel}", self.label)
        } else {
            rel.to_string()
        }
    }
}

/// The message for a remote base that could not be had, saying how to get it.
fn explain(text: &str, e: &RemoteError, mode: Mode) -> String {
    const FILL: &str = "run `kustodian fetch` in the repository (or `kustodian fetch PATH`) to \
                        fetch its remote bases, or build with --remote fetch";
    match e {
        RemoteError::NotCached { dir, .. } if mode != Mode::Fetch => {
            format!("remote base '{text}' is not in the cache ({dir}): {FILL}")
        }
        RemoteError::Incomplete { .. } if mode != Mode::Fetch => {
            format!("remote base '{text}': {e}: {FILL}")
        }
        _ => format!("remote base '{text}': {e}"),
    }
}

/// One remote base `kustodian fetch` fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The entry as written.
    pub reference: String,
    /// Where it is written (the first time it was met).
    pub at: Loc,
    /// The repository, ref and commit, as locations name them.
    pub label: String,
}

/// What `kustodian fetch` did.
#[derive(Debug, Default)]
pub struct FetchOutcome {
    pub fetched: Vec<Fetched>,
    pub errors: Vec<RenderError>,
}

/// Directories no walk for kustomizations enters.
const SKIP_DIRS: &[&str] = &["target", "node_modules"];

impl Renderer {
    /// Resolves every remote base reachable from the kustomizations at or below `dir`: named in
    /// `resources:`/`components:` there, or in the fetched trees, following their references
    /// (local ones inside the tree, remote ones to their own trees). With this renderer in
    /// fetch mode, that fetches each once; in cache mode it checks the cache.
    pub fn fetch_remote_bases(&self, dir: &str) -> FetchOutcome {
        let mut out = FetchOutcome::default();
        let mut todo: Vec<(Option<Arc<Renderer>>, String)> = kustomization_dirs(self, dir)
            .into_iter()
            .map(|d| (None, d))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some((r, d)) = todo.pop() {
            let here: &Renderer = r.as_deref().unwrap_or(self);
            if !seen.insert(here.stack_key(&d)) {
                continue;
            }
            // A kustomization that does not load is reported by the check that builds it.
            let Ok((_, k)) = here.load_kustomization(&d, Loc::NONE) else {
                continue;
            };
            for entry in k.resources.iter().chain(&k.components) {
                match classify(&entry.text) {
                    Reference::Git(spec) => match here.remote_base(&entry.text, &spec, entry.loc) {
                        Ok((sub, sub_dir)) => {
                            if !out.fetched.iter().any(|f| f.label == sub.label) {
                                out.fetched.push(Fetched {
                                    reference: entry.text.clone(),
                                    at: entry.loc,
                                    label: sub.label.clone(),
                                });
                            }
                            todo.push((Some(sub), sub_dir));
                        }
                        Err(e) => out.errors.push(e),
                    },
                    Reference::Local => {
                        if let Some(p) = join_rel(&d, &entry.text).filter(|p| here.fs.is_dir(p)) {
                            todo.push((r.clone(), p));
                        }
                    }
                    Reference::HttpFile | Reference::Invalid(_) => {}
                }
            }
        }
        out
    }
}

/// Every directory at or below `dir` holding a kustomization (hidden directories skipped).
fn kustomization_dirs(r: &Renderer, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_string(), 0usize)];
    while let Some((d, depth)) = todo.pop() {
        if find_kustomization_file(r.fs(), &d).is_some() {
            out.push(d.clone());
        }
        if depth >= 32 {
            continue;
        }
        for name in r.fs().subdirs(&d).unwrap_or_default() {
            if !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_str()) {
                todo.push((child_rel(&d, &name), depth + 1));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sort_as_kustomize_reads_them() {
        let kind = |t: &str| match classify(t) {
            Reference::Local => "local",
            Reference::Git(_) => "git",
            Reference::HttpFile => "http file",
            Reference::Invalid(_) => "invalid",
        };
        for (text, want) in [
            ("deployment.yaml", "local"),
            ("../../base", "local"),
            ("src/github.com/org/repo/path", "local"),
            ("github.com/org/repo//deploy?ref=v1", "git"),
            ("GitHub.com/org/repo", "git"),
            ("git@gitlab.com:org/repo.git//deploy", "git"),
            ("file:///srv/repo//deploy?ref=v1", "git"),
            (
                "https://raw.githubusercontent.com/org/repo/main/a.yaml",
                "http file",
            ),
            ("https://example.org/all.yaml", "http file"),
            ("ssh://git.example.com", "invalid"),
            ("gitlab.com/just-one-segment", "invalid"),
            ("https://github.com/org/repo.git//../../x", "invalid"),
        ] {
            assert_eq!(kind(text), want, "{text}");
        }
    }
}
