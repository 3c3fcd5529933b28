//! Budgets: how much one run reads, parses and builds before it stops with a diagnostic.
//!
//! kustodian checks pull requests, so the repository is the attacker's input on a machine that
//! holds secrets. Every resource that input can make kustodian spend without bound has a budget
//! here: bytes per file and per tree, YAML nesting depth, nodes and documents per file, nodes
//! created by alias expansion, and how deeply kustomizations may nest. The defaults are far above
//! any real repository (docs/security.md lists them with the sizes seen in real repositories);
//! a budget that is hit is a fatal diagnostic (exit 2) that names the budget and how to raise it.
//!
//! Design. The limits are process-wide, set once before a run ([`set`]) and read where the work
//! happens ([`get`]): the YAML parser and the file readers sit at the bottom of the layers and are
//! called from everywhere, and the deepest nesting a run accepts decides the stack its threads
//! need ([`init_threads`]), which is process-wide too. The command line sets them (`--limits`);
//! a repository's `.kustodian.yaml` may only lower them ([`Limits::lowered_by`]): the repository
//! under check is the untrusted input the budgets protect against.

use std::sync::RwLock;

use schemars::JsonSchema;
use serde::Deserialize;

/// The budgets of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file (`file-bytes`).
    pub file_bytes: u64,
    /// Bytes read from one tree (the working tree; in pull-request mode the base revision has a
    /// budget of its own) (`tree-bytes`).
    pub tree_bytes: u64,
    /// Nesting of YAML collections in one document (`depth`).
    pub depth: usize,
    /// YAML nodes in one file, aliases expanded, and in one resource after each patch (`nodes`).
    pub nodes: usize,
    /// Nodes created by expanding aliases in one file (`alias-nodes`).
    pub alias_nodes: usize,
    /// YAML documents in one file (`documents`).
    pub documents: usize,
    /// Kustomizations nested in one build: an overlay, its base, the base's base... (`nesting`).
    pub nesting: usize,
    /// Resources in one kustomization's build (`resources`): bases included twice under
    /// different prefixes double with every level.
    pub resources: usize,
    /// Bytes of one resource's name (`name-bytes`): a prefix added at every level of a deep
    /// chain makes names, and the history of names kept for each, grow without bound.
    pub name_bytes: usize,
}

/// The defaults (docs/security.md: far above the largest real repositories measured).
pub const DEFAULT: Limits = Limits {
    file_bytes: 64 << 20,
    tree_bytes: 1 << 30,
    depth: 256,
    nodes: 2_000_000,
    alias_nodes: 1_000_000,
    documents: 100_000,
    nesting: 600,
    resources: 20_000,
    name_bytes: 1024,
};

impl Default for Limits {
    fn default() -> Limits {
        DEFAULT
    }
}

/// The budgets a repository's `.kustodian.yaml` may set under `limits:` (each only lower than
/// what the run allows; raise them with `--limits` on the command line).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsFile {
    /// Bytes of one file.
    pub file_bytes: Option<u64>,
    /// Bytes read from the repository in one run.
    pub tree_bytes: Option<u64>,
    /// Nesting of YAML collections in one document.
    pub depth: Option<usize>,
    /// YAML nodes in one file (aliases expanded) and in one resource.
    pub nodes: Option<usize>,
    /// Nodes created by expanding YAML aliases in one file.
    pub alias_nodes: Option<usize>,
    /// YAML documents in one file.
    pub documents: Option<usize>,
    /// Kustomizations nested in one build.
    pub nesting: Option<usize>,
    /// Resources in one kustomization's build.
    pub resources: Option<usize>,
    /// Bytes of one resource's name.
    pub name_bytes: Option<usize>,
}

/// A budget that was hit: which one, its value, and what went over it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "over the '{name}' budget ({what} > {limit}); raise it with `--limits {name}=N` if this is \
     intended"
)]
pub struct Exceeded {
    pub name: &'static str,
    pub limit: u64,
    pub what: String,
}

impl Exceeded {
    pub fn new(name: &'static str, limit: impl TryInto<u64>, what: impl Into<String>) -> Exceeded {
        Exceeded {
            name,
            limit: limit.try_into().unwrap_or(u64::MAX),
            what: what.into(),
        }
    }
}

/// The names `--limits` and `limits:` know, in the order the docs list them.
pub const NAMES: [&str; 9] = [
    "file-bytes",
    "tree-bytes",
    "depth",
    "nodes",
    "alias-nodes",
    "documents",
    "nesting",
    "resources",
    "name-bytes",
];

impl Limits {
    fn get_named(&self, name: &str) -> Option<u64> {
        Some(match name {
            "file-bytes" => self.file_bytes,
            "tree-bytes" => self.tree_bytes,
            "depth" => self.depth as u64,
            "nodes" => self.nodes as u64,
            "alias-nodes" => self.alias_nodes as u64,
            "documents" => self.documents as u64,
            "nesting" => self.nesting as u64,
            "resources" => self.resources as u64,
            "name-bytes" => self.name_bytes as u64,
            _ => return None,
        })
    }

    fn set_named(&mut self, name: &str, v: u64) -> bool {
        let n = usize::try_from(v).unwrap_or(usize::MAX);
        match name {
            "file-bytes" => self.file_bytes = v,
            "tree-bytes" => self.tree_bytes = v,
            "depth" => self.depth = n,
            "nodes" => self.nodes = n,
            "alias-nodes" => self.alias_nodes = n,
            "documents" => self.documents = n,
            "nesting" => self.nesting = n,
            "resources" => self.resources = n,
            "name-bytes" => self.name_bytes = n,
            _ => return false,
        }
        true
    }

    /// These limits with `--limits` overrides applied: `name=value` pairs separated by commas
    /// (`file-bytes=256MiB,depth=1000`); byte budgets take `KiB`/`MiB`/`GiB` suffixes.
    pub fn with_overrides(mut self, spec: &str) -> Result<Limits, String> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}': expected NAME=VALUE, e.g. depth=512"))?;
            let name = name.trim();
            let v = parse_amount(value.trim())
                .ok_or_else(|| format!("'{pair}': '{}' is not a number", value.trim()))?;
            if v == 0 {
                return Err(format!("'{pair}': a budget of 0 leaves nothing to check"));
            }
            if !self.set_named(name, v) {
                return Err(format!(
                    "unknown budget '{name}' (known: {})",
                    NAMES.join(", ")
                ));
            }
        }
        Ok(self)
    }

    /// These limits lowered by a repository's `limits:`. A value above the run's limit is an
    /// error naming it: only the command line may raise a budget.
    pub fn lowered_by(mut self, file: &LimitsFile) -> Result<Limits, Vec<(&'static str, String)>> {
        let asked: [(&'static str, Option<u64>); 9] = [
            ("file-bytes", file.file_bytes),
            ("tree-bytes", file.tree_bytes),
            ("depth", file.depth.map(|v| v as u64)),
            ("nodes", file.nodes.map(|v| v as u64)),
            ("alias-nodes", file.alias_nodes.map(|v| v as u64)),
            ("documents", file.documents.map(|v| v as u64)),
            ("nesting", file.nesting.map(|v| v as u64)),
            ("resources", file.resources.map(|v| v as u64)),
            ("name-bytes", file.name_bytes.map(|v| v as u64)),
        ];
        let mut errs = Vec::new();
        for (name, v) in asked {
            let Some(v) = v else { continue };
            let run = self.get_named(name).unwrap_or(0);
            if v == 0 {
                errs.push((name, format!("limits.{name}: 0 leaves nothing to check")));
            } else if v > run {
                errs.push((
                    name,
                    format!(
                        "limits.{name}: {v} is above this run's budget of {run}; a repository \
                         may only lower its budgets (raise them with `--limits {name}={v}` on \
                         the command line)"
                    ),
                ));
            } else {
                self.set_named(name, v);
            }
        }
        if errs.is_empty() { Ok(self) } else { Err(errs) }
    }

    /// The stack a thread needs to build and check with these limits: the renderer recurses once
    /// per nested kustomization and the tree code once per YAML level. Measured: a chain at the
    /// default `nesting` budget renders on a quarter of this in a release build; debug builds'
    /// frames are some three times larger.
    pub fn stack_bytes(&self) -> usize {
        let per_level: usize = if cfg!(debug_assertions) {
            192 << 10
        } else {
            64 << 10
        };
        let need = self
            .nesting
            .saturating_mul(per_level)
            .saturating_add(self.depth.saturating_mul(16 << 10));
        need.clamp(16 << 20, 4 << 30)
    }
}

/// `123`, `64KiB`, `64MiB`, `1GiB` (also `K`/`M`/`G`, binary).
fn parse_amount(s: &str) -> Option<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return None,
    };
    let n: u64 = digits.replace('_', "").parse().ok()?;
    n.checked_mul(1u64 << shift)
}

static CURRENT: RwLock<Limits> = RwLock::new(DEFAULT);

/// The limits in force.
pub fn get() -> Limits {
    *CURRENT
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sets the limits for what follows (the command line, then a repository's `limits:`).
pub fn set(l: Limits) {
    *CURRENT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = l;
}

/// Starts the global thread pool with the stack the limits in force need (rayon's default of
/// 2 MiB overflowed on a few hundred nested bases). Later calls, and a pool someone else
/// started, leave it as it is.
pub fn init_threads() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(get().stack_bytes())
        .build_global();
}

/// Runs `f` on a thread with the stack the limits in force need, for work that would otherwise
/// run on the main thread (loading a deep `.kustodian.yaml`, printing a deep report).
pub fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(get().stack_bytes())
            .spawn_scoped(s, f)
            .expect("spawning the main worker thread")
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_units_and_refuse_unknown_names() {
        let l = DEFAULT
            .with_overrides("file-bytes=2MiB, depth=1000,nodes=10_000")
            .unwrap();
        assert_eq!(l.file_bytes, 2 << 20);
        assert_eq!(l.depth, 1000);
        assert_eq!(l.nodes, 10_000);
        assert_eq!(l.tree_bytes, DEFAULT.tree_bytes);
        assert!(
            DEFAULT
                .with_overrides("deepness=3")
                .unwrap_err()
                .contains("known: file-bytes")
        );
        assert!(DEFAULT.with_overrides("depth=lots").is_err());
        assert!(DEFAULT.with_overrides("depth=0").is_err());
        assert!(DEFAULT.with_overrides("depth").is_err());
    }

    #[test]
    fn a_repository_may_lower_but_not_raise() {
        let lower = LimitsFile {
            depth: Some(64),
            ..Default::default()
        };
        assert_eq!(DEFAULT.lowered_by(&lower).unwrap().depth, 64);
        let raise = LimitsFile {
            file_bytes: Some(DEFAULT.file_bytes + 1),
            ..Default::default()
        };
        let errs = DEFAULT.lowered_by(&raise).unwrap_err();
        assert_eq!(errs[0].0, "file-bytes");
        assert!(errs[0].1.contains("--limits file-bytes="), "{errs:?}");
    }
}
