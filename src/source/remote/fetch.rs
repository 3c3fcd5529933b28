//! Fetching a remote base: one ref of one repository, shallow, into the cache.
//!
//! Design. Each fetch starts from an empty bare repository in the cache's `tmp/` (nothing is
//! shared between fetches, so two processes fetching at once cannot disturb each other), asks
//! the remote for the one ref (`HEAD` without `?ref=`) at depth 1, as kustomize's
//! `git fetch --depth=1 <url> <ref>` does, and peels what the ref names (an annotated tag, a
//! commit) to a commit. The objects come from gix's pack reader, which computes every object's
//! id from its content, so the commit read back under the id the remote advertised is that
//! commit; a `?ref=` that is a full commit id must be the commit received. The commit's tree is
//! then written out by hand (no checkout machinery): directories and regular files first, each
//! created anew, symlinks last — so no file is ever written through a symlink the tree itself
//! planted — and entries no checkout may write (`..`, `.git`) are refused. Submodules are not
//! fetched: a submodule is an empty directory. The cache renames the finished tree into place
//! and then records the ref → commit pin ([`super::cache`]).
//!
//! Transports: `file://` and `ssh://` run the local `git-upload-pack`/`ssh` as git does;
//! `https://` needs the `remote-https` cargo feature (on by default). The URL's `?timeout=`
//! bounds the whole fetch.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::cache::is_commit_id;
use super::{Cache, Pinned, RemoteError, RepoSpec};

/// [`fetch`], once per process for each cache, URL and ref: a run that renders two revisions
/// (pull-request mode) or many renderers sharing a base asks the remote once.
pub fn fetch_once(cache: &Cache, spec: &RepoSpec) -> Result<Pinned, RemoteError> {
    type Once = Arc<std::sync::OnceLock<Result<Pinned, RemoteError>>>;
    static DONE: std::sync::Mutex<Option<std::collections::HashMap<String, Once>>> =
        std::sync::Mutex::new(None);
    let key = format!(
        "{}\0{}\0{}",
        cache.dir().display(),
        spec.clone_url(),
        spec.git_ref.as_deref().unwrap_or("")
    );
    let cell = DONE
        .lock()
        .unwrap()
        .get_or_insert_default()
        .entry(key)
        .or_default()
        .clone();
    cell.get_or_init(|| fetch(cache, spec)).clone()
}

/// Fetches `spec`'s ref, stores its tree and records the commit it resolved to.
pub fn fetch(cache: &Cache, spec: &RepoSpec) -> Result<Pinned, RemoteError> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let (c, s, stop) = (cache.clone(), spec.clone(), interrupt.clone());
    std::thread::spawn(move || {
        let _ = tx.send(fetch_now(&c, &s, &stop));
    });
    if let Ok(r) = rx.recv_timeout(spec.timeout) {
        r
    } else {
        interrupt.store(true, Ordering::Relaxed);
        Err(RemoteError::Timeout {
            url: spec.clone_url(),
            secs: spec.timeout.as_secs(),
        })
    }
}

fn fetch_now(cache: &Cache, spec: &RepoSpec, stop: &AtomicBool) -> Result<Pinned, RemoteError> {
    let url = spec.clone_url();
    let failed = |e: &dyn std::fmt::Display| RemoteError::Fetch {
        url: url.clone(),
        msg: e.to_string(),
    };
    if url.starts_with("http") {
        https_ready().map_err(|e| failed(&e))?;
    }
    let scratch = cache.scratch()?;
    let repo = gix::init_bare(scratch.path().join("repo")).map_err(|e| failed(&e))?;
    let wanted = spec.git_ref.clone().unwrap_or_else(|| "HEAD".to_string());
    let tip = receive(&repo, &url, &wanted, stop).map_err(|e| failed(&chain(&*e)))?;
    let Some(tip) = tip else {
        return Err(RemoteError::RefNotFound {
            url,
            git_ref: wanted,
        });
    };
    let commit = repo
        .find_object(tip)
        .and_then(gix::Object::peel_to_commit)
        .map_err(|e| failed(&format!("{wanted} does not name a commit: {e}")))?;
    let id = commit.id.to_string();
    if is_commit_id(&wanted) && !wanted.eq_ignore_ascii_case(&id) {
        return Err(failed(&format!("asked for commit {wanted}, received {id}")));
    }
    let tree = commit.tree().map_err(|e| failed(&e))?;
    let pinned = cache.store_tree(&id, |dir| write_tree(&tree, dir, &url))?;
    cache.record(spec, &id)?;
    Ok(pinned)
}

/// Asks the remote for `wanted` at depth 1; returns the object the ref names (`None`: no such
/// ref). When a short name matches several refs, git's order decides (a tag before a branch).
fn receive(
    repo: &gix::Repository,
    url: &str,
    wanted: &str,
    stop: &AtomicBool,
) -> Result<Option<gix::ObjectId>, Box<dyn std::error::Error + Send + Sync>> {
    use gix::remote::Direction;
    let remote = repo
        .remote_at(url)?
        .with_refspecs([wanted], Direction::Fetch)?;
    let outcome = remote
        .connect(Direction::Fetch)?
        .prepare_fetch(gix::progress::Discard, Default::default())?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            std::num::NonZeroU32::MIN,
        ))
        .receive(gix::progress::Discard, stop)?;
    let rank = |name: &str| -> usize {
        [
            wanted.to_string(),
            format!("refs/{wanted}"),
            format!("refs/tags/{wanted}"),
            format!("refs/heads/{wanted}"),
            format!("refs/remotes/{wanted}"),
            format!("refs/remotes/{wanted}/HEAD"),
        ]
        .iter()
        .position(|n| n == name)
        .unwrap_or(usize::MAX)
    };
    let best = outcome
        .ref_map
        .mappings
        .iter()
        .filter_map(|m| {
            let id = m.remote.as_id()?.to_owned();
            let name = match &m.remote {
                gix::protocol::fetch::refmap::Source::Ref(r) => r.unpack().0.to_string(),
                gix::protocol::fetch::refmap::Source::ObjectId(_) => wanted.to_string(),
            };
            Some((rank(&name), id))
        })
        .min_by_key(|(r, _)| *r);
    Ok(best.map(|(_, id)| id))
}

/// An error and its causes, outermost first (a transport failure says which step failed, its
/// source why: a refused connection, an unknown host, a missing `git-upload-pack`).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Writes `tree` below `dir`: directories and files first, symlinks last.
fn write_tree(tree: &gix::Tree<'_>, dir: &Path, url: &str) -> Result<(), RemoteError> {
    let bad = |path: &str, msg: &str| RemoteError::BadTree {
        url: url.to_string(),
        path: path.to_string(),
        msg: msg.to_string(),
    };
    let entries = tree
        .traverse()
        .breadthfirst
        .files()
        .map_err(|e| bad("", &e.to_string()))?;
    let repo = tree.repo;
    let limits = crate::limits::get();
    let mut total = 0u64;
    let mut links = Vec::new();
    for e in entries {
        // A name that is not UTF-8 cannot be named from a kustomization: not written.
        let Ok(path) = std::str::from_utf8(e.filepath.as_ref()) else {
            continue;
        };
        if let Some(seg) = path
            .split('/')
            .find(|s| matches!(*s, "" | "." | "..") || s.eq_ignore_ascii_case(".git"))
        {
            return Err(bad(
                path,
                &format!("'{seg}' is not a name a checkout writes"),
            ));
        }
        let target = dir.join(path);
        let io = |e: std::io::Error| RemoteError::io(&target, e);
        if e.mode.is_tree() || e.mode.is_commit() {
            std::fs::create_dir(&target).map_err(io)?;
            continue;
        }
        let size = repo
            .find_header(e.oid)
            .map_err(|err| bad(path, &err.to_string()))?
            .size();
        total += size;
        if size > limits.file_bytes || total > limits.tree_bytes {
            return Err(bad(path, "larger than the file-bytes/tree-bytes budgets"));
        }
        let data = repo
            .find_object(e.oid)
            .map_err(|err| bad(path, &err.to_string()))?
            .detach()
            .data;
        if e.mode.is_link() {
            links.push((target, data));
            continue;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(io)?;
        std::io::Write::write_all(&mut f, &data).map_err(io)?;
    }
    for (target, data) in links {
        make_link(&target, &data).map_err(|e| RemoteError::io(&target, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn make_link(at: &Path, target: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), at)
}

/// Elsewhere a symlink is left out: reading through it would fail as a missing file does.
#[cfg(not(unix))]
fn make_link(_at: &Path, _target: &[u8]) -> std::io::Result<()> {
    Ok(())
}

/// The TLS provider the HTTP transport uses (rustls on `ring`, installed once per process).
#[cfg(feature = "remote-https")]
fn https_ready() -> Result<(), String> {
    // Already installed (by an earlier fetch) is as good. `ring` has no post-quantum key
    // exchange (rustls deprecates it for that); aws-lc-rs, which has, costs a C build five times
    // the rest of the HTTP stack's (docs/remote.md), for fetching public manifests.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(())
}

#[cfg(not(feature = "remote-https"))]
fn https_ready() -> Result<(), String> {
    Err("this kustodian is built without the `remote-https` feature: http(s) remote bases cannot be fetched (file:// and ssh:// can)".into())
}
