//! Since when each environment runs what it runs: the first-parent history of `HEAD`, read
//! from the Git object database (gix; no git binary, no checkout).
//!
//! Design. The walk starts from the working tree and steps back one commit at a time. Between
//! two neighbours it compares trees by object id, descending only into subtrees whose ids differ,
//! so an unrelated commit costs a few tree reads. An environment is rendered again at a commit
//! only when a file its build reads there (its dependency set, kept per environment and updated
//! on every render) changed, or lies in a directory where something changed — the test
//! pull-request mode uses. Each (environment, image repository) pair keeps the runs of equal
//! values it has seen; a run ends where an older commit had another value, and the run's oldest
//! commit is the one that set the value. The walk stops once every pair has as many runs as were
//! asked for (and every reference it was asked to look for in an environment's past was found),
//! or at the root. Merge commits are compared with their first parent: a promotion counts from
//! the commit that brought it onto the branch.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use gix::ObjectId;
use rayon::prelude::*;

use super::images::{ImageRef, images_of, values_of};
use super::tree::{Changes, TreeFs, changes, subtree};
use crate::git::{GitError, GitFs};
use crate::render::Renderer;
use crate::render::kustomization::find_kustomization_file;
use crate::source::Sources;

/// A commit, as versions show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex id.
    pub sha: String,
    /// Committer time.
    pub time: jiff::Timestamp,
    /// Author name.
    pub author: String,
    /// First line of the message.
    pub subject: String,
}

/// Where the walk starts for one environment: its current values and the files its build reads.
#[derive(Clone, Debug, Default)]
pub struct EnvStart {
    pub dir: String,
    pub deps: BTreeSet<String>,
    /// Image repository → references (sorted), in the working tree.
    pub values: BTreeMap<String, Vec<String>>,
    /// (repository, reference) pairs to look for in this environment's past.
    pub wanted: BTreeSet<(String, String)>,
}

/// A run of commits during which an image had the same references in an environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub references: Vec<String>,
    /// The run's oldest commit: the one that set the value (`None`: not committed yet).
    pub commit: Option<CommitInfo>,
}

/// One environment's past.
#[derive(Clone, Debug, Default)]
pub struct EnvHistory {
    /// Per image repository, newest first; the first is the current value.
    pub segments: BTreeMap<String, Vec<Segment>>,
    /// The wanted pairs that were found.
    pub found: BTreeSet<(String, String)>,
}

/// The result of a walk, one [`EnvHistory`] per [`EnvStart`] in order.
#[derive(Clone, Debug)]
pub struct Walk {
    /// The commit the walk started from (`HEAD`).
    pub head: String,
    pub envs: Vec<EnvHistory>,
}

/// Where a value's run ends: the working tree or the n-th commit of the walk.
type Step = Option<usize>;

/// One (environment, repository) pair being followed.
struct Track {
    open: Vec<String>,
    closed: Vec<(Vec<String>, Step)>,
    done: bool,
}

struct EnvState {
    dir: String,
    deps: BTreeSet<String>,
    tracks: BTreeMap<String, Track>,
    wanted: BTreeSet<(String, String)>,
    found: BTreeSet<(String, String)>,
}

impl EnvState {
    fn new(s: EnvStart) -> EnvState {
        let track = |refs| Track {
            open: refs,
            closed: Vec::new(),
            done: false,
        };
        EnvState {
            tracks: s
                .values
                .into_iter()
                .map(|(repo, refs)| (repo, track(refs)))
                .collect(),
            dir: s.dir,
            deps: s.deps,
            found: BTreeSet::new(),
            wanted: s.wanted,
        }
    }

    fn finished(&self) -> bool {
        self.tracks.values().all(|t| t.done) && self.wanted.len() == self.found.len()
    }
}

/// What rendering an environment at a commit said.
enum Seen {
    /// The environment does not exist there.
    Absent,
    /// It does not build there: nothing learnt about its values.
    Broken(BTreeSet<String>),
    Values(BTreeMap<String, Vec<String>>, BTreeSet<String>),
}

/// Walks the history of the repository containing `root` (a directory inside a work tree).
/// `keep`: how many runs to find per pair. `Ok(None)` when `root` is not in a Git repository or
/// its `HEAD` has no commit yet.
pub fn walk(root: &Path, starts: Vec<EnvStart>, keep: usize) -> Result<Option<Walk>, GitError> {
    let head = match GitFs::open(root, "HEAD") {
        Ok(g) => g,
        Err(GitError::NotARepo { .. } | GitError::UnknownRev { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let sync = gix::discover(root).map_err(read)?.into_sync();
    let repo = sync.to_thread_local();
    let prefix = head.prefix().to_string();
    let mut envs: Vec<EnvState> = starts.into_iter().map(EnvState::new).collect();
    let mut index = DepIndex::new(&envs);
    let mut commits: Vec<ObjectId> = vec![head.commit()];
    // Working tree → HEAD.
    let known = crate::git::index_known(root);
    let disk = crate::source::DiskFs::new(root).map_err(|e| GitError::Read {
        rev: "HEAD".into(),
        msg: e.to_string(),
    })?;
    let mut changed = crate::git::changed_paths_with(&head, &disk, &known);
    // The tree the walk stands on, moved back one commit's differences at a time.
    let mut tree = Arc::new(TreeFs::new(
        sync,
        commits[0].to_string(),
        head.files().clone(),
    ));
    drop(head);
    loop {
        let step = commits.len() - 1;
        look(&tree, &changed, &mut envs, &mut index, step, keep);
        if envs.iter().all(EnvState::finished) {
            break;
        }
        let Some((parent, diff)) = back(&repo, &prefix, commits[step])? else {
            break;
        };
        // The renderer is gone: the tree is not shared, and moves in place.
        Arc::make_mut(&mut tree).step(parent.to_string(), &diff);
        changed = diff.into_keys().collect();
        commits.push(parent);
    }
    Ok(Some(finish(&repo, envs, &commits, keep)))
}

fn read(e: impl std::fmt::Display) -> GitError {
    GitError::Read {
        rev: "HEAD".into(),
        msg: e.to_string(),
    }
}

/// Renders, at the walk's commit `step`, the unfinished environments a change affects, and
/// takes what they ran.
fn look(
    tree: &Arc<TreeFs>,
    changed: &BTreeSet<String>,
    envs: &mut [EnvState],
    index: &mut DepIndex,
    step: usize,
    keep: usize,
) {
    let affected: Vec<usize> = index
        .affected(changed)
        .into_iter()
        .filter(|&i| !envs[i].finished())
        .collect();
    if affected.is_empty() {
        return;
    }
    let renderer = Renderer::new(tree.clone(), Sources::new());
    let seen: Vec<Seen> = affected
        .par_iter()
        .map(|&i| see(&renderer, &**tree, &envs[i].dir))
        .collect();
    let newer = step.checked_sub(1);
    for (&i, seen) in affected.iter().zip(seen) {
        let old_deps = envs[i].deps.clone();
        advance(&mut envs[i], seen, newer, keep);
        index.update(i, &old_deps, &envs[i].deps);
    }
}

/// The first parent of `commit` and the files that differ there (blob ids in the parent);
/// `None` at the root, or at a shallow clone's boundary (the oldest commit present is as far
/// as history goes).
fn back(
    repo: &gix::Repository,
    prefix: &str,
    commit: ObjectId,
) -> Result<Option<(ObjectId, Changes)>, GitError> {
    let current = repo.find_object(commit).map_err(read)?.into_commit();
    let Some(parent) = current.parent_ids().next().map(gix::Id::detach) else {
        return Ok(None);
    };
    if repo.find_object(parent).is_err() {
        return Ok(None);
    }
    let at = |id: ObjectId| subtree(repo, id, prefix).map_err(read);
    let mut diff = BTreeMap::new();
    changes(repo, at(commit)?, at(parent)?, "", &mut diff).map_err(read)?;
    Ok(Some((parent, diff)))
}

/// Each pair's runs, newest first, with the commits that set them. Runs still open started at
/// the oldest commit read.
fn finish(repo: &gix::Repository, envs: Vec<EnvState>, commits: &[ObjectId], keep: usize) -> Walk {
    let oldest = Some(commits.len() - 1);
    let mut infos: HashMap<usize, Option<CommitInfo>> = HashMap::new();
    let mut info = |s: Step| -> Option<CommitInfo> {
        let s = s?;
        infos
            .entry(s)
            .or_insert_with(|| commit_info(repo, commits[s]))
            .clone()
    };
    let envs = envs
        .into_iter()
        .map(|e| EnvHistory {
            segments: e
                .tracks
                .into_iter()
                .map(|(repo, t)| {
                    let mut runs: Vec<(Vec<String>, Step)> = t.closed;
                    if !t.done {
                        runs.push((t.open, oldest));
                    }
                    let segs = runs
                        .into_iter()
                        .take(keep)
                        .map(|(references, s)| Segment {
                            references,
                            commit: info(s),
                        })
                        .collect();
                    (repo, segs)
                })
                .collect(),
            found: e.found,
        })
        .collect();
    Walk {
        head: commits[0].to_string(),
        envs,
    }
}

/// Renders one environment at the walk's current commit.
fn see(renderer: &Renderer, fs: &dyn crate::source::Fs, dir: &str) -> Seen {
    if find_kustomization_file(fs, dir).is_none() {
        return Seen::Absent;
    }
    let deps = renderer.dependencies(dir);
    match renderer.build(dir) {
        Ok(b) => Seen::Values(values_of(&images_of(&b)), deps),
        Err(_) => Seen::Broken(deps),
    }
}

/// Takes what an environment looked like one commit back; `newer`: the step the open runs were
/// last confirmed at (the one before).
fn advance(env: &mut EnvState, seen: Seen, newer: Step, keep: usize) {
    let values = match seen {
        Seen::Broken(deps) => {
            env.deps = deps;
            return;
        }
        // Nothing older is looked for in an environment that did not exist yet.
        Seen::Absent => {
            env.wanted = env.found.clone();
            BTreeMap::new()
        }
        Seen::Values(values, deps) => {
            env.deps = deps;
            values
        }
    };
    for (repo, t) in env.tracks.iter_mut().filter(|(_, t)| !t.done) {
        let old = values.get(repo).cloned().unwrap_or_default();
        if old == t.open {
            continue;
        }
        t.closed.push((std::mem::replace(&mut t.open, old), newer));
        t.done = t.open.is_empty() || t.closed.len() >= keep;
    }
    let found: Vec<(String, String)> = env
        .wanted
        .iter()
        .filter(|(repo, r)| {
            let want = ImageRef::parse(r);
            values
                .get(repo)
                .is_some_and(|refs| refs.iter().any(|have| ImageRef::parse(have).same_as(&want)))
        })
        .cloned()
        .collect();
    env.found.extend(found);
}

/// Which environments read which paths (files, and directories given as resources).
struct DepIndex {
    by_path: HashMap<String, BTreeSet<usize>>,
}

impl DepIndex {
    fn new(envs: &[EnvState]) -> DepIndex {
        let mut d = DepIndex {
            by_path: HashMap::new(),
        };
        for (i, e) in envs.iter().enumerate() {
            d.update(i, &BTreeSet::new(), &e.deps);
        }
        d
    }

    fn update(&mut self, env: usize, old: &BTreeSet<String>, new: &BTreeSet<String>) {
        for p in old.difference(new) {
            if let Some(s) = self.by_path.get_mut(p) {
                s.remove(&env);
            }
        }
        for p in new.difference(old) {
            self.by_path.entry(p.clone()).or_default().insert(env);
        }
    }

    /// Environments reading a changed path or a directory holding one.
    fn affected(&self, changed: &BTreeSet<String>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut dirs: BTreeSet<&str> = BTreeSet::new();
        for c in changed {
            if let Some(envs) = self.by_path.get(c) {
                out.extend(envs);
            }
            let mut d = c.as_str();
            while let Some(i) = d.rfind('/') {
                d = &d[..i];
                if !dirs.insert(d) {
                    break;
                }
            }
        }
        for d in dirs {
            if let Some(envs) = self.by_path.get(d) {
                out.extend(envs);
            }
        }
        out
    }
}

/// Reads a commit's id, committer time, author and subject.
fn commit_info(repo: &gix::Repository, id: ObjectId) -> Option<CommitInfo> {
    let commit = repo.find_object(id).ok()?.try_into_commit().ok()?;
    let time = commit.time().ok()?;
    let author = commit.author().ok()?.name.to_string();
    let subject = commit.message().ok()?.summary().to_string();
    Some(CommitInfo {
        sha: id.to_string(),
        time: jiff::Timestamp::from_second(time.seconds).ok()?,
        author,
        subject,
    })
}
