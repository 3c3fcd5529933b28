//! [`MemFs`]: a tree held in memory. Tests and the fuzzing harness (`fuzz/`) build whole
//! repositories in it and check them without touching a disk; it keeps to the same budgets as
//! the trees on disk.

use std::collections::{BTreeMap, BTreeSet};

use super::{Fs, FsError};

/// Files and directories in memory, addressed like any [`Fs`].
#[derive(Clone, Debug, Default)]
pub struct MemFs {
    files: BTreeMap<String, Vec<u8>>,
    /// Every directory (`""` is the root) and the names in it.
    dirs: BTreeMap<String, BTreeSet<String>>,
}

impl MemFs {
    /// An empty tree (the root directory alone).
    pub fn new() -> MemFs {
        let mut fs = MemFs::default();
        fs.dirs.insert(String::new(), BTreeSet::new());
        fs
    }

    /// Adds a file (and its directories). `false`, and nothing added, when the path is not a
    /// clean relative path (`..`, `.`, empty parts) or runs into a file or directory already
    /// there.
    pub fn insert(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
            || self.dirs.contains_key(path)
        {
            return false;
        }
        let mut dir = String::new();
        for p in &parts[..parts.len() - 1] {
            let next = super::child_rel(&dir, p);
            if self.files.contains_key(&next) {
                return false;
            }
            dir = next;
        }
        let mut dir = String::new();
        for p in &parts {
            self.dirs
                .entry(dir.clone())
                .or_default()
                .insert(p.to_string());
            dir = super::child_rel(&dir, p);
        }
        for i in 1..parts.len() {
            self.dirs.entry(parts[..i].join("/")).or_default();
        }
        self.files.insert(path.to_string(), bytes.into());
        true
    }
}

impl Fs for MemFs {
    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>, FsError> {
        let rel = rel.trim_end_matches('/');
        match self.files.get(rel) {
            Some(b) => {
                let limit = crate::limits::get().file_bytes;
                if b.len() as u64 > limit {
                    return Err(FsError::OverBudget {
                        path: rel.to_string(),
                        exceeded: crate::limits::Exceeded::new(
                            "file-bytes",
                            limit,
                            "bytes in this file",
                        ),
                    });
                }
                Ok(b.clone())
            }
            None if self.dirs.contains_key(rel) => Err(FsError::IsDir(rel.to_string())),
            None => Err(FsError::NotFound(rel.to_string())),
        }
    }
    fn is_dir(&self, rel: &str) -> bool {
        self.dirs.contains_key(rel.trim_end_matches('/'))
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }
    fn list(&self, rel: &str) -> Result<Vec<String>, FsError> {
        self.dirs
            .get(rel.trim_end_matches('/'))
            .map(|s| s.iter().cloned().collect())
            .ok_or_else(|| FsError::NotFound(rel.to_string()))
    }
    fn describe(&self) -> String {
        "<memory>".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_make_their_directories_and_refuse_unclean_paths() {
        let mut fs = MemFs::new();
        assert!(fs.insert("apps/a/base/kustomization.yaml", "resources: []\n"));
        assert!(fs.insert("apps/a/base/d.yaml", "kind: D\n"));
        assert!(!fs.insert("apps/../x", ""));
        assert!(!fs.insert("apps/a/base/d.yaml/x", ""));
        assert!(!fs.insert("apps/a", ""));
        assert!(fs.is_dir("apps/a/base") && fs.is_dir(""));
        assert_eq!(
            fs.list("apps/a/base").unwrap(),
            ["d.yaml", "kustomization.yaml"]
        );
        assert_eq!(fs.subdirs("").unwrap(), ["apps"]);
        assert_eq!(&*fs.read("apps/a/base/d.yaml").unwrap(), "kind: D\n");
        assert_eq!(fs.read("apps/a"), Err(FsError::IsDir("apps/a".into())));
    }
}
