//! A commit's file tree, followed back through history one commit at a time.
//!
//! Design. [`GitFs`](crate::git::GitFs) indexes a revision's whole tree when it opens it — right
//! for pull-request mode, which reads one revision; a history walk that did that at every commit
//! would spend its time re-listing the repository. [`TreeFs`] starts from `HEAD`'s index and
//! applies each step's differences ([`changes`], which compares two commits' trees by object
//! id and descends only into subtrees that differ), so a step costs what changed. Blobs are read
//! from the object database on demand, as `GitFs` does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use gix::ObjectId;

use crate::source::{Fs, FsError, child_rel, parent_rel};

/// Files that differ between two trees: path → blob id in the second (`None`: not a file there).
pub(crate) type Changes = BTreeMap<String, Option<ObjectId>>;

/// One commit's files (blobs) and directories, relative to the walked directory.
#[derive(Clone)]
pub(crate) struct TreeFs {
    repo: gix::ThreadSafeRepository,
    commit: String,
    files: HashMap<String, ObjectId>,
    dirs: HashMap<String, BTreeSet<String>>,
}

impl TreeFs {
    /// The tree whose files are `files` (path → blob id).
    pub(crate) fn new(
        repo: gix::ThreadSafeRepository,
        commit: String,
        files: HashMap<String, ObjectId>,
    ) -> TreeFs {
        let mut t = TreeFs {
            repo,
            commit,
            files: HashMap::new(),
            dirs: HashMap::new(),
        };
        t.dirs.insert(String::new(), BTreeSet::new());
        for (path, id) in files {
            t.set(&path, Some(id));
        }
        t
    }

    /// Moves to another commit, whose files differ by `changes` (path → blob id, `None`: absent).
    pub(crate) fn step(&mut self, commit: String, changes: &Changes) {
        self.commit = commit;
        for (path, id) in changes {
            self.set(path, *id);
        }
    }

    fn set(&mut self, path: &str, id: Option<ObjectId>) {
        if let Some(id) = id {
            self.files.insert(path.to_string(), id);
            let mut child = path;
            loop {
                let parent = parent_rel(child);
                let name = &child[if parent.is_empty() {
                    0
                } else {
                    parent.len() + 1
                }..];
                let fresh = self
                    .dirs
                    .entry(parent.to_string())
                    .or_default()
                    .insert(name.to_string());
                if !fresh || parent.is_empty() {
                    break;
                }
                child = parent;
            }
        } else {
            self.files.remove(path);
            // Git keeps no empty directory: prune the ones this leaves empty.
            let mut child = path.to_string();
            loop {
                let parent = parent_rel(&child).to_string();
                let name = child[if parent.is_empty() {
                    0
                } else {
                    parent.len() + 1
                }..]
                    .to_string();
                let Some(entries) = self.dirs.get_mut(&parent) else {
                    break;
                };
                entries.remove(&name);
                if !entries.is_empty() || parent.is_empty() {
                    break;
                }
                self.dirs.remove(&parent);
                child = parent;
            }
        }
    }
}

impl Fs for TreeFs {
    fn read(&self, rel: &str) -> Result<Arc<str>, FsError> {
        let bytes = self.read_bytes(rel)?;
        Ok(Arc::from(String::from_utf8_lossy(&bytes).into_owned()))
    }
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let id = self
            .files
            .get(rel)
            .ok_or_else(|| FsError::NotFound(rel.to_string()))?;
        let repo = self.repo.to_thread_local();
        let obj = repo.find_object(*id).map_err(|e| FsError::Io {
            path: format!("{}:{rel}", self.commit),
            msg: e.to_string(),
        })?;
        Ok(obj.data.clone())
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
        format!("git:{}", self.commit)
    }
}

/// The tree at `prefix` (the directory the walk treats as its root) of a commit.
pub(crate) fn subtree(
    repo: &gix::Repository,
    commit: ObjectId,
    prefix: &str,
) -> Result<Option<ObjectId>, String> {
    let tree = repo
        .find_object(commit)
        .map_err(|e| e.to_string())?
        .into_commit()
        .tree()
        .map_err(|e| e.to_string())?;
    if prefix.is_empty() {
        return Ok(Some(tree.id));
    }
    Ok(tree
        .lookup_entry_by_path(prefix)
        .map_err(|e| e.to_string())?
        .filter(|e| e.mode().is_tree())
        .map(|e| e.object_id()))
}

/// What a tree entry is, as far as a file tree goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tree,
    Blob,
    /// Symlinks and submodules: not files kustodian reads.
    Other,
}

/// Every file (below `path`) that differs between trees `a` and `b`, with its blob id in `b`
/// (`None`: not a file there). Either tree may be missing: then everything in the other differs.
pub(crate) fn changes(
    repo: &gix::Repository,
    a: Option<ObjectId>,
    b: Option<ObjectId>,
    path: &str,
    out: &mut Changes,
) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    let entries = |id: Option<ObjectId>| -> Result<BTreeMap<String, (Kind, ObjectId)>, String> {
        let Some(id) = id else {
            return Ok(BTreeMap::new());
        };
        let tree = repo.find_object(id).map_err(|e| e.to_string())?.into_tree();
        let decoded = tree.decode().map_err(|e| e.to_string())?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| {
                let kind = if e.mode.is_tree() {
                    Kind::Tree
                } else if e.mode.is_blob() {
                    Kind::Blob
                } else {
                    Kind::Other
                };
                (e.filename.to_string(), (kind, e.oid.to_owned()))
            })
            .collect())
    };
    let (ea, eb) = (entries(a)?, entries(b)?);
    let names: BTreeSet<&String> = ea.keys().chain(eb.keys()).collect();
    for name in names {
        let (x, y) = (ea.get(name), eb.get(name));
        if x == y {
            continue;
        }
        let p = child_rel(path, name);
        let of = |e: Option<&(Kind, ObjectId)>, k: Kind| {
            e.filter(|(kind, _)| *kind == k).map(|(_, id)| *id)
        };
        let (tx, ty) = (of(x, Kind::Tree), of(y, Kind::Tree));
        if tx.is_some() || ty.is_some() {
            changes(repo, tx, ty, &p, out)?;
        }
        let (fx, fy) = (of(x, Kind::Blob), of(y, Kind::Blob));
        if fx.is_some() || fy.is_some() {
            out.insert(p, fy);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_follow_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let repo = gix::init(dir.path()).unwrap();
        let id = repo.write_blob(b"kind: X\n").unwrap().detach();
        let repo = repo.into_sync();
        let files: HashMap<String, ObjectId> = [("a/b/c.yaml", id), ("a/d.yaml", id), ("e", id)]
            .into_iter()
            .map(|(p, i)| (p.to_string(), i))
            .collect();
        let mut t = TreeFs::new(repo, "x".into(), files);
        assert_eq!(t.list("").unwrap(), ["a", "e"]);
        assert_eq!(t.list("a").unwrap(), ["b", "d.yaml"]);
        assert!(t.is_dir("a/b") && t.is_file("a/b/c.yaml"));
        let gone: BTreeMap<String, Option<ObjectId>> = [
            ("a/b/c.yaml".to_string(), None),
            ("f/g".to_string(), Some(id)),
        ]
        .into();
        t.step("y".into(), &gone);
        assert!(!t.is_dir("a/b") && !t.is_file("a/b/c.yaml"));
        assert_eq!(t.list("a").unwrap(), ["d.yaml"]);
        assert_eq!(t.list("").unwrap(), ["a", "e", "f"]);
        assert_eq!(t.read("f/g").unwrap().as_ref(), "kind: X\n");
    }
}
