//! `promote --commit`: the promotion as a commit on the current branch, written with gix (no
//! git binary; hooks and commit signing do not run).
//!
//! Design. The commit holds exactly the promoted files: its tree is `HEAD`'s with their new
//! blobs, whatever else the index or the working tree holds; the branch `HEAD` points to moves
//! to it (with a reflog entry); and the index entries of those files are updated to the new
//! blobs and stat data, so `git status` shows nothing left to commit for them. A file that
//! already differs from `HEAD` (in the working tree or the index) is refused up front by
//! [`ready`]: committing it would slip those other changes into the promotion.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;

/// The repository of `root` and `root`'s path inside its work tree.
fn open(root: &Path) -> Result<(gix::Repository, PathBuf, String), String> {
    let repo = gix::discover(root)
        .map_err(|e| format!("{}: not a Git repository ({e})", root.display()))?;
    let workdir = repo
        .workdir()
        .ok_or("the repository has no work tree")?
        .to_path_buf();
    let prefix = root
        .canonicalize()
        .ok()
        .zip(workdir.canonicalize().ok())
        .and_then(|(r, w)| r.strip_prefix(&w).ok().map(Path::to_path_buf))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    Ok((repo, workdir, prefix))
}

fn in_repo(prefix: &str, rel: &str) -> String {
    crate::source::child_rel(prefix, rel)
}

/// The blob id `HEAD` has at `path` (repository-relative).
fn head_blob(repo: &gix::Repository, path: &str) -> Result<Option<(ObjectId, bool)>, String> {
    let tree = repo
        .head_commit()
        .map_err(|e| format!("no commit to promote on top of ({e})"))?
        .tree()
        .map_err(|e| e.to_string())?;
    Ok(tree
        .lookup_entry_by_path(path)
        .map_err(|e| e.to_string())?
        .filter(|e| e.mode().is_blob())
        .map(|e| (e.object_id(), e.mode().is_executable())))
}

/// Whether the file at `rel` (relative to `root`) can be committed on its own: committed at
/// `HEAD`, with no change in the working tree or the index.
pub(crate) fn ready(root: &Path, rel: &str) -> Result<(), String> {
    let (repo, workdir, prefix) = open(root)?;
    let path = in_repo(&prefix, rel);
    let Some((id, _)) = head_blob(&repo, &path)? else {
        return Err(format!("{rel} is not committed yet"));
    };
    let bytes = std::fs::read(workdir.join(&path)).map_err(|e| format!("{rel}: {e}"))?;
    let disk = gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &bytes)
        .map_err(|e| e.to_string())?;
    let index = repo.open_index().map_err(|e| e.to_string())?;
    let staged = index.entry_by_path(path.as_bytes().as_bstr()).map(|e| e.id);
    if disk != id || staged != Some(id) {
        return Err(format!(
            "{rel} has uncommitted changes; commit or stash them first (the promotion commit must hold the promotion only)"
        ));
    }
    Ok(())
}

/// Commits the current contents of `files` (relative to `root`) on top of `HEAD` with `message`.
/// Returns the new commit's id.
pub fn commit(root: &Path, files: &[String], message: &str) -> Result<String, String> {
    let (repo, workdir, prefix) = open(root)?;
    let head = repo
        .head_commit()
        .map_err(|e| format!("no commit to promote on top of ({e})"))?;
    let mut editor = repo
        .edit_tree(head.tree_id().map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    for rel in files {
        let path = in_repo(&prefix, rel);
        let abs = workdir.join(&path);
        let bytes = std::fs::read(&abs).map_err(|e| format!("{rel}: {e}"))?;
        let executable = head_blob(&repo, &path)?.is_some_and(|(_, x)| x);
        let blob = repo.write_blob(&bytes).map_err(|e| e.to_string())?.detach();
        let kind = if executable {
            gix::object::tree::EntryKind::BlobExecutable
        } else {
            gix::object::tree::EntryKind::Blob
        };
        editor
            .upsert(path.as_str(), kind, blob)
            .map_err(|e| e.to_string())?;
        written.push((path, abs, blob));
    }
    let tree = editor.write().map_err(|e| e.to_string())?.detach();
    let id = repo
        .commit("HEAD", message, tree, [head.id])
        .map_err(|e| {
            format!("cannot commit ({e}); set user.name and user.email in the Git configuration")
        })?
        .detach();
    // The index follows, so the promoted files show no change.
    let mut index = repo.open_index().map_err(|e| e.to_string())?;
    for (path, abs, blob) in &written {
        let meta = gix::index::fs::Metadata::from_path_no_follow(abs).map_err(|e| e.to_string())?;
        let stat = gix::index::entry::Stat::from_fs(&meta).map_err(|e| e.to_string())?;
        if let Some(e) = index.entry_mut_by_path_and_stage(
            path.as_bytes().as_bstr(),
            gix::index::entry::Stage::Unconflicted,
        ) {
            e.id = *blob;
            e.stat = stat;
        }
    }
    // The cached trees name the old blobs.
    index.remove_tree();
    index
        .write(Default::default())
        .map_err(|e| format!("the commit {id} is made, but the index could not be updated: {e}"))?;
    Ok(id.to_string())
}
