//! Reading a Git revision as a file tree, in-process.
//!
//! Pull-request mode renders every overlay at the PR's base revision as well as at head. Checking
//! out a second working tree would be slow and would write to disk; instead [`GitFs`] indexes the
//! revision's tree once (path → blob id) and reads blobs from the object database on demand, behind
//! the same [`Fs`] trait the renderer uses for the working tree. [`changed_paths`] compares the
//! base index with the working tree by blob id, so a file counts as changed exactly when its
//! content differs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use gix::ObjectId;

use crate::source::{Fs, FsError};

/// Errors opening a repository or resolving a revision.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a Git repository ({msg})")]
    NotARepo { path: String, msg: String },
    #[error(
        "revision '{rev}' not found in {path}: {msg}. In CI, fetch it first (actions/checkout with `fetch-depth: 0`, or `git fetch origin <sha>`)"
    )]
    UnknownRev {
        rev: String,
        path: String,
        msg: String,
    },
    #[error("reading revision '{rev}': {msg}")]
    Read { rev: String, msg: String },
}

/// What GitOps objects may call this repository: its remotes' URLs and the branch checked out.
#[derive(Clone, Debug, Default)]
pub struct RepoInfo {
    /// Fetch URLs of the remotes.
    pub remotes: Vec<String>,
    /// The branch checked out (`None` when detached, as in most CI checkouts; then
    /// `$GITHUB_HEAD_REF` when set).
    pub branch: Option<String>,
    /// The name of the checked directory (its last path segment, symlinks resolved): what an app
    /// whose environments sit at the repository root is called — in CI, the repository's name.
    pub dir_name: Option<String>,
}

/// The [`RepoInfo`] of the repository holding `dir` (only `dir_name` outside a repository).
pub fn repo_info(dir: &Path) -> RepoInfo {
    let dir_name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    let Ok(repo) = gix::discover(dir) else {
        return RepoInfo {
            dir_name,
            ..RepoInfo::default()
        };
    };
    let branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|n| n.shorten().to_string())
        .or_else(|| {
            std::env::var("GITHUB_HEAD_REF")
                .ok()
                .filter(|b| !b.is_empty())
        });
    RepoInfo {
        remotes: remote_urls(&repo),
        branch,
        dir_name,
    }
}

/// The fetch URLs of a repository's remotes.
fn remote_urls(repo: &gix::Repository) -> Vec<String> {
    repo.remote_names()
        .iter()
        .filter_map(|name| {
            let name: &gix::bstr::BStr = name.as_ref();
            repo.find_remote(name).ok()
        })
        .filter_map(|r| {
            r.url(gix::remote::Direction::Fetch)
                .map(|u| u.to_bstring().to_string())
        })
        .collect()
}

/// One revision's tree.
pub struct GitFs {
    repo: gix::ThreadSafeRepository,
    rev: String,
    commit: ObjectId,
    /// Repo-relative path of the directory the caller treats as its root, `""` for the top.
    prefix: String,
    files: HashMap<String, ObjectId>,
    dirs: BTreeMap<String, BTreeSet<String>>,
    /// Entries that are neither files nor directories (symlinks, submodules): never read.
    others: HashMap<String, &'static str>,
    /// Bytes handed out so far, against the `tree-bytes` budget.
    bytes_read: std::sync::atomic::AtomicU64,
}

impl GitFs {
    /// Opens the repository containing `dir` and indexes `rev`'s tree. Paths are then relative to
    /// `dir` (which may be a subdirectory of the repository).
    pub fn open(dir: &Path, rev: &str) -> Result<GitFs, GitError> {
        let repo = gix::discover(dir).map_err(|e| GitError::NotARepo {
            path: dir.display().to_string(),
            msg: e.to_string(),
        })?;
        let workdir: PathBuf = repo
            .workdir()
            .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
        let prefix = dir
            .canonicalize()
            .ok()
            .and_then(|d| {
                workdir
                    .canonicalize()
                    .ok()
                    .and_then(|w| d.strip_prefix(&w).ok().map(Path::to_path_buf))
            })
            .map(|p| {
                p.components()
                    .filter_map(|c| c.as_os_str().to_str())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        let unknown = |msg: String| GitError::UnknownRev {
            rev: rev.to_string(),
            path: workdir.display().to_string(),
            msg,
        };
        let id = repo
            .rev_parse_single(rev)
            .map_err(|e| unknown(e.to_string()))?;
        let object = id.object().map_err(|e| unknown(e.to_string()))?;
        let commit = object
            .clone()
            .peel_to_commit()
            .map_err(|e| unknown(e.to_string()))?
            .id;
        let tree = object.peel_to_tree().map_err(|e| unknown(e.to_string()))?;
        let entries = tree
            .traverse()
            .breadthfirst
            .files()
            .map_err(|e| GitError::Read {
                rev: rev.to_string(),
                msg: e.to_string(),
            })?;
        drop(tree);
        let mut files = HashMap::new();
        let mut others = HashMap::new();
        let mut dirs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        dirs.insert(String::new(), BTreeSet::new());
        let strip = |p: &str| -> Option<String> {
            if prefix.is_empty() {
                Some(p.to_string())
            } else {
                p.strip_prefix(&format!("{prefix}/")).map(str::to_string)
            }
        };
        for e in entries {
            let full = e.filepath.to_string();
            let Some(path) = strip(&full) else { continue };
            let (parent, name) = match path.rfind('/') {
                Some(i) => (path[..i].to_string(), path[i + 1..].to_string()),
                None => (String::new(), path.clone()),
            };
            dirs.entry(parent).or_default().insert(name);
            if e.mode.is_tree() {
                dirs.entry(path).or_default();
            } else if e.mode.is_blob() {
                files.insert(path, e.oid);
            } else {
                let what = if e.mode.is_link() {
                    "a symlink (not followed in a Git revision)"
                } else {
                    "a submodule"
                };
                others.insert(path, what);
            }
        }
        Ok(GitFs {
            repo: repo.into_sync(),
            rev: rev.to_string(),
            commit,
            prefix,
            files,
            dirs,
            others,
            bytes_read: Default::default(),
        })
    }

    /// The commit the revision resolved to.
    pub fn commit(&self) -> ObjectId {
        self.commit
    }

    /// Blob id of every file, by path.
    pub fn files(&self) -> &HashMap<String, ObjectId> {
        &self.files
    }

    /// The subdirectory of the repository this view is rooted at.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl Fs for GitFs {
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let Some(id) = self.files.get(rel) else {
            return Err(match self.others.get(rel) {
                Some(what) => FsError::NotRegular {
                    path: rel.to_string(),
                    what,
                },
                None if self.dirs.contains_key(rel) => FsError::IsDir(rel.to_string()),
                None => FsError::NotFound(rel.to_string()),
            });
        };
        let shown = || format!("{}:{rel}", self.rev);
        let io = |e: &dyn std::fmt::Display| FsError::Io {
            path: shown(),
            msg: e.to_string(),
        };
        let repo = self.repo.to_thread_local();
        let limits = crate::limits::get();
        // The size is in the object's header: a blob that compresses a huge file to a few
        // bytes is refused before it is inflated.
        let size = repo.find_header(*id).map_err(|e| io(&e))?.size();
        let over = |name: &'static str, limit: u64, what: &str| FsError::OverBudget {
            path: shown(),
            exceeded: crate::limits::Exceeded::new(name, limit, what),
        };
        if size > limits.file_bytes {
            return Err(over("file-bytes", limits.file_bytes, "bytes in this file"));
        }
        let total = self
            .bytes_read
            .fetch_add(size, std::sync::atomic::Ordering::Relaxed)
            + size;
        if total > limits.tree_bytes {
            return Err(over(
                "tree-bytes",
                limits.tree_bytes,
                "bytes read from the base revision",
            ));
        }
        let obj = repo.find_object(*id).map_err(|e| io(&e))?;
        Ok(obj.data.clone())
    }
    fn exists(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || self.dirs.contains_key(rel) || self.others.contains_key(rel)
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.dirs.contains_key(rel)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError> {
        self.dirs
            .get(rel)
            .map(|s| s.iter().cloned().collect())
            .ok_or_else(|| FsError::NotFound(rel.to_string()))
    }
    fn describe(&self) -> String {
        format!("git:{}", self.rev)
    }
}

impl GitFs {
    /// Whether any of `paths` (relative to this view's root) contained `needle` in this commit
    /// or one of its first-parent ancestors, up to `depth` commits back.
    pub fn history_contains(&self, paths: &[String], needle: &str, depth: usize) -> bool {
        let repo = self.repo.to_thread_local();
        let Some(mut commit) = repo
            .find_object(self.commit)
            .ok()
            .and_then(|o| o.try_into_commit().ok())
        else {
            return false;
        };
        for _ in 0..depth.max(1) {
            if let Ok(tree) = commit.tree() {
                for p in paths {
                    let full = if self.prefix.is_empty() {
                        p.clone()
                    } else {
                        format!("{}/{p}", self.prefix)
                    };
                    if let Ok(Some(entry)) = tree.lookup_entry_by_path(&full)
                        && let Ok(obj) = entry.object()
                        && obj
                            .data
                            .windows(needle.len())
                            .any(|w| w == needle.as_bytes())
                    {
                        return true;
                    }
                }
            }
            let parent = commit
                .parent_ids()
                .next()
                .and_then(|id| id.object().ok())
                .and_then(|o| o.try_into_commit().ok());
            match parent {
                Some(p) => commit = p,
                None => break,
            }
        }
        false
    }
}

/// Blob ids of working-tree files that git's index already knows to be unchanged (same stat
/// data as recorded), keyed by path relative to `dir`. Lets [`changed_paths`] skip reading and
/// hashing those files; entries too recent to trust (racy-git) are left out.
pub fn index_known(dir: &Path) -> HashMap<String, ObjectId> {
    let mut out = HashMap::new();
    let Ok(repo) = gix::discover(dir) else {
        return out;
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
        return out;
    };
    let Ok(index) = repo.index() else { return out };
    let prefix = dir
        .canonicalize()
        .ok()
        .zip(workdir.canonicalize().ok())
        .and_then(|(d, w)| d.strip_prefix(&w).ok().map(Path::to_path_buf))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let index_mtime = std::fs::metadata(repo.index_path())
        .and_then(|m| m.modified())
        .ok();
    for entry in index.entries() {
        let path = entry.path(&index).to_string();
        let rel = if prefix.is_empty() {
            path.clone()
        } else {
            match path.strip_prefix(&format!("{prefix}/")) {
                Some(r) => r.to_string(),
                None => continue,
            }
        };
        let Ok(meta) = gix::index::fs::Metadata::from_path_no_follow(&workdir.join(&path)) else {
            continue;
        };
        let Ok(stat) = gix::index::entry::Stat::from_fs(&meta) else {
            continue;
        };
        // Racily clean: modified in the same second the index was written; re-hash it.
        let racy = match (index_mtime, meta.modified()) {
            (Some(im), Some(fm)) => fm >= im,
            _ => true,
        };
        if !racy && entry.stat.matches(&stat, Default::default()) {
            out.insert(rel, entry.id);
        }
    }
    out
}

/// Paths (relative to the base view's root) whose content differs between `base` and the working
/// tree `head` (added, removed or modified). Directories named `.git`, `target` and
/// `node_modules` are not walked.
pub fn changed_paths(base: &GitFs, head: &dyn Fs) -> BTreeSet<String> {
    changed_paths_with(base, head, &HashMap::new())
}

/// [`changed_paths`], taking the blob id of files listed in `known` (see [`index_known`]) instead
/// of reading and hashing them.
pub fn changed_paths_with(
    base: &GitFs,
    head: &dyn Fs,
    known: &HashMap<String, ObjectId>,
) -> BTreeSet<String> {
    let mut changed = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let Ok(names) = head.list(&dir) else { continue };
        for name in names {
            if matches!(name.as_str(), ".git" | "target" | "node_modules") {
                continue;
            }
            let path = crate::source::child_rel(&dir, &name);
            if head.is_dir(&path) {
                stack.push(path);
                continue;
            }
            let id = if let Some(id) = known.get(&path) {
                Some(*id)
            } else {
                let Ok(bytes) = head.read_bytes(&path) else {
                    continue;
                };
                gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, &bytes).ok()
            };
            if id.as_ref() != base.files.get(&path) {
                changed.insert(path.clone());
            }
            seen.insert(path);
        }
    }
    for path in base.files.keys() {
        if !seen.contains(path)
            && !path
                .split('/')
                .any(|s| matches!(s, ".git" | "target" | "node_modules"))
        {
            changed.insert(path.clone());
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let st = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    }

    #[test]
    fn reads_a_revision_and_diffs_against_the_worktree() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(d.join("apps/a")).unwrap();
        std::fs::write(d.join("apps/a/x.yaml"), "a: 1\n").unwrap();
        std::fs::write(d.join("keep.txt"), "same\n").unwrap();
        git(d, &["add", "."]);
        git(d, &["commit", "-q", "-m", "one"]);
        std::fs::write(d.join("apps/a/x.yaml"), "a: 2\n").unwrap();
        std::fs::write(d.join("apps/a/new.yaml"), "n: 1\n").unwrap();

        let base = GitFs::open(d, "HEAD").unwrap();
        assert_eq!(&*base.read("apps/a/x.yaml").unwrap(), "a: 1\n");
        assert!(base.is_dir("apps/a"));
        assert_eq!(base.list("apps").unwrap(), ["a"]);
        assert!(!base.is_file("apps/a/new.yaml"));

        let head = crate::source::DiskFs::new(d).unwrap();
        let changed: Vec<String> = changed_paths(&base, &head).into_iter().collect();
        assert_eq!(changed, ["apps/a/new.yaml", "apps/a/x.yaml"]);
        // With the git index's knowledge (files it vouches for are not read) the answer is the
        // same.
        let known: Vec<String> = changed_paths_with(&base, &head, &index_known(d))
            .into_iter()
            .collect();
        assert_eq!(known, changed);

        let err = GitFs::open(d, "no-such-branch").err().unwrap();
        assert!(err.to_string().contains("fetch-depth"));
    }
}
