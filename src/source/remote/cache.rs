//! The cache of fetched remote bases.
//!
//! Design. Layout under the cache directory (`git/` keeps room for other caches beside it):
//!
//! ```text
//! git/trees/<commit>/tree/…    the commit's files, as a checkout writes them
//! git/trees/<commit>/commit    the commit id again: written last, so an entry is complete
//! git/refs/<key>.json          {url, ref, commit, fetched}: what a ref resolved to when fetched
//! git/tmp/                     fetches in progress (temporary repositories and trees)
//! ```
//!
//! Trees are content-addressed by commit: two refs (or two spellings of a URL) that resolve to
//! one commit share one tree, and a tree never changes once written. A ref record is keyed by a
//! hash of the clone URL and the ref; it is the only thing a new fetch replaces, so a ref that
//! moves upstream (a re-tagged `v1`, a branch) keeps rendering the commit recorded until
//! `kustodian fetch` runs again. Every write is atomic: a tree is written in `tmp/` and renamed
//! into place whole, a record is written to a temporary file and renamed over the old one, so
//! a reader (or a second kustodian fetching the same base) never sees half of either.

use std::path::{Path, PathBuf};

use super::{RemoteError, RepoSpec};

/// A remote base resolved to a commit whose tree is in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The full commit id (hex).
    pub commit: String,
    /// The tree's directory (the repository's top).
    pub tree: PathBuf,
}

impl Pinned {
    /// The commit id as people quote it.
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(7)]
    }
}

/// What a fetch recorded for one repository and ref.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Record {
    url: String,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    commit: String,
    fetched: String,
}

/// A cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The cache directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn git(&self) -> PathBuf {
        self.dir.join("git")
    }

    fn record_path(&self, spec: &RepoSpec) -> PathBuf {
        use sha2::{Digest, Sha256};
        let key = Sha256::digest(
            format!(
                "{}\0{}",
                spec.clone_url(),
                spec.git_ref.as_deref().unwrap_or("")
            )
            .as_bytes(),
        );
        let hex: String = key.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.git().join("refs").join(format!("{hex}.json"))
    }

    fn entry(&self, commit: &str) -> PathBuf {
        self.git().join("trees").join(commit)
    }

    /// The commit recorded for `spec` and its tree, checked: the tree's own stamp must name the
    /// recorded commit. Nothing is fetched.
    pub fn lookup(&self, spec: &RepoSpec) -> Result<Pinned, RemoteError> {
        let url = spec.clone_url();
        let path = self.record_path(spec);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RemoteError::NotCached {
                    url,
                    dir: self.dir.display().to_string(),
                });
            }
            Err(e) => return Err(RemoteError::io(&path, e)),
        };
        let incomplete = |msg: String| RemoteError::Incomplete {
            url: url.clone(),
            msg,
        };
        let record: Record = serde_json::from_str(&text)
            .map_err(|e| incomplete(format!("{}: {e}", path.display())))?;
        if record.url != url || record.git_ref != spec.git_ref || !is_commit_id(&record.commit) {
            return Err(incomplete(format!(
                "{} records another repository or ref",
                path.display()
            )));
        }
        self.complete(&record.commit)
            .ok_or_else(|| incomplete(format!("no tree for commit {}", record.commit)))
    }

    /// The tree of `commit` when its entry is complete (its stamp names it).
    pub(crate) fn complete(&self, commit: &str) -> Option<Pinned> {
        let entry = self.entry(commit);
        let stamp = std::fs::read_to_string(entry.join("commit")).ok()?;
        let tree = entry.join("tree");
        (stamp.trim() == commit && tree.is_dir()).then_some(Pinned {
            commit: commit.to_string(),
            tree,
        })
    }

    /// A fresh directory for a fetch in progress (removed when dropped).
    pub(crate) fn scratch(&self) -> Result<tempfile::TempDir, RemoteError> {
        let tmp = self.git().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| RemoteError::io(&tmp, e))?;
        tempfile::Builder::new()
            .prefix("fetch-")
            .tempdir_in(&tmp)
            .map_err(|e| RemoteError::io(&tmp, e))
    }

    /// Stores the tree of `commit`, written by `write` into the directory it is given, unless it
    /// is stored already; the entry appears whole (renamed from `tmp/`) or not at all.
    pub(crate) fn store_tree(
        &self,
        commit: &str,
        write: impl FnOnce(&Path) -> Result<(), RemoteError>,
    ) -> Result<Pinned, RemoteError> {
        if let Some(p) = self.complete(commit) {
            return Ok(p);
        }
        let scratch = self.scratch()?;
        let tree = scratch.path().join("tree");
        std::fs::create_dir(&tree).map_err(|e| RemoteError::io(&tree, e))?;
        write(&tree)?;
        let stamp = scratch.path().join("commit");
        std::fs::write(&stamp, format!("{commit}\n")).map_err(|e| RemoteError::io(&stamp, e))?;
        let entry = self.entry(commit);
        let trees = self.git().join("trees");
        std::fs::create_dir_all(&trees).map_err(|e| RemoteError::io(&trees, e))?;
        let staged = scratch.keep();
        if let Err(e) = std::fs::rename(&staged, &entry) {
            let _ = std::fs::remove_dir_all(&staged);
            // Another fetch of the same commit may have won the race; its entry is as good.
            if self.complete(commit).is_none() {
                // An incomplete entry left by a crash is replaced.
                let _ = std::fs::remove_dir_all(&entry);
                return Err(RemoteError::io(&entry, e));
            }
        }
        self.complete(commit)
            .ok_or_else(|| RemoteError::Incomplete {
                url: String::new(),
                msg: format!("{} was not written", entry.display()),
            })
    }

    /// Records that `spec`'s ref resolved to `commit` (replacing what was recorded).
    pub(crate) fn record(&self, spec: &RepoSpec, commit: &str) -> Result<(), RemoteError> {
        let path = self.record_path(spec);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| RemoteError::io(&dir, e))?;
        let record = Record {
            url: spec.clone_url(),
            git_ref: spec.git_ref.clone(),
            commit: commit.to_string(),
            fetched: jiff::Timestamp::now().to_string(),
        };
        let text = serde_json::to_string_pretty(&record).unwrap_or_default() + "\n";
        let mut tmp =
            tempfile::NamedTempFile::new_in(&dir).map_err(|e| RemoteError::io(&dir, e))?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())
            .map_err(|e| RemoteError::io(tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| RemoteError::io(&path, e.error))?;
        Ok(())
    }
}

/// A full hexadecimal SHA-1 commit id.
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> RepoSpec {
        RepoSpec::parse(s).unwrap()
    }

    #[test]
    fn a_record_pins_a_stored_tree_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(t.path().to_path_buf());
        let s = spec("file:///repo//base?ref=v1");
        assert!(matches!(
            cache.lookup(&s),
            Err(RemoteError::NotCached { .. })
        ));
        let commit = "0123456789abcdef0123456789abcdef01234567";
        cache.record(&s, commit).unwrap();
        // Recorded, but the tree is not there: incomplete, not silently empty.
        assert!(matches!(
            cache.lookup(&s),
            Err(RemoteError::Incomplete { .. })
        ));
        let pinned = cache
            .store_tree(commit, |dir| {
                std::fs::write(dir.join("a.yaml"), "x: 1\n").map_err(|e| RemoteError::io(dir, e))
            })
            .unwrap();
        assert_eq!(cache.lookup(&s).unwrap(), pinned);
        assert_eq!(pinned.short(), "0123456");
        assert!(pinned.tree.join("a.yaml").is_file());
        // Another ref of the same repository has its own record.
        assert!(cache.lookup(&spec("file:///repo//base?ref=v2")).is_err());
        // Storing the same commit again keeps the first tree.
        let again = cache
            .store_tree(commit, |_| panic!("already stored"))
            .unwrap();
        assert_eq!(again, pinned);
        // A stamp that names another commit makes the entry incomplete.
        std::fs::write(pinned.tree.parent().unwrap().join("commit"), "other\n").unwrap();
        assert!(cache.lookup(&s).is_err());
    }
}
