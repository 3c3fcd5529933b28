//! The git URLs kustomize accepts in `resources:` and `components:`, split into what to clone
//! (host and repository path), where the kustomization is inside the clone, and the query
//! (`ref`/`version`, `submodules`, `timeout`).
//!
//! Design. The grammar is kustomize's own (`api/internal/git/repospec.go`), re-derived from its
//! sources and test table rather than from git's URL rules, because what matters is which
//! strings kustomize takes for remote bases and how it splits them: an optional `git::` prefix
//! (dropped), a scheme (`ssh://`, `https://`, `http://`, `file://`, any case) or none, an
//! optional user (`git@`), the host up to the first `/` (or an scp-style `:` when there is no
//! scheme), then the repository path. The repository ends at the first explicit marker — the
//! segment after `_git/` (Azure), a `//`, or the end of a `.git` — and otherwise after two
//! segments (`org/repo`; a `file://` URL takes the whole path). The query is read first; a
//! query that does not parse leaves every option at its default, as kustomize does. GitHub
//! hosts are normalized the way kustomize normalizes them (`https://github.com/` unless a user
//! or `ssh://` asks for `git@github.com:`). Which parsed strings are git repositories and which
//! are plain HTTP files is decided by the caller ([`RepoSpec::is_git_like`]).

use std::time::Duration;

/// Why a string is not a git URL kustomize accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("uri looks like an absolute path: {0}")]
    AbsolutePath(String),
    #[error("failed to parse scheme")]
    Scheme,
    #[error("failed to parse host segment")]
    Host,
    #[error("failed to parse repo path segment")]
    RepoPath,
    #[error("url path exits repo: {0}")]
    ExitsRepo(String),
}

/// kustomize's default for `?timeout=`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(27);

/// A remote base: which repository, at which ref, and the kustomization's directory in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// As written.
    pub raw: String,
    /// Scheme, user and host, normalized: `https://github.com/`, `git@github.com:`, `file://`,
    /// `ssh://git.example.com:7999/`.
    pub host: String,
    /// The repository on the host: `org/repo`, `org/project/_git/repo`, `/abs/repo.git`.
    pub repo_path: String,
    /// The kustomization's directory inside the repository (`""`: its top).
    pub root_path: String,
    /// `?ref=` (else `?version=`); `None`: the remote's default branch (`HEAD`).
    pub git_ref: Option<String>,
    /// `?submodules=` (default true).
    pub submodules: bool,
    /// `?timeout=` (seconds, or a Go duration such as `1m30s`).
    pub timeout: Duration,
}

impl RepoSpec {
    /// Parses a git URL the way kustomize does.
    pub fn parse(text: &str) -> Result<RepoSpec, UrlError> {
        if text.starts_with('/') {
            return Err(UrlError::AbsolutePath(text.to_string()));
        }
        let (rest, query) = text.split_once('?').unwrap_or((text, ""));
        let q = Query::parse(query);
        let (host, rest) = split_host(rest)?;
        let whole = host.starts_with(FILE);
        let (repo_path, root_path) = split_repo_path(rest, whole)?;
        Ok(RepoSpec {
            raw: text.to_string(),
            host,
            repo_path,
            root_path,
            git_ref: q.git_ref,
            submodules: q.submodules,
            timeout: q.timeout,
        })
    }

    /// What `git clone` is given: the host and the repository path.
    pub fn clone_url(&self) -> String {
        format!("{}{}", self.host, self.repo_path)
    }

    /// Whether an `http(s)://` URL names a git repository rather than a file to download:
    /// kustomize downloads such a URL first and clones it only when what comes back is not
    /// YAML, which cannot be decided without the network. A git marker (`git::`, `//`, `_git/`,
    /// `.git`), a `ref`/`version`, or a known git host with a last segment that is not a
    /// manifest file name says git. Every other scheme is always git.
    pub fn is_git_like(&self) -> bool {
        let http = self.host.starts_with("https://") || self.host.starts_with("http://");
        if !http {
            return true;
        }
        let raw = self.raw.to_ascii_lowercase();
        let path = raw.split_once('?').map_or(raw.as_str(), |(p, _)| p);
        let after_scheme = path.split_once("://").map_or(path, |(_, r)| r);
        let marker = raw.starts_with("git::")
            || after_scheme.contains("//")
            || after_scheme.contains("_git/")
            || self.repo_path.ends_with(".git");
        let forge = [
            "github.com/",
            "gitlab.com/",
            "bitbucket.org/",
            "dev.azure.com/",
        ]
        .iter()
        .any(|h| self.host.ends_with(h))
            || self.host.contains(".visualstudio.com/")
            || self.host.contains("git-codecommit.");
        let last = after_scheme.trim_end_matches('/').rsplit('/').next();
        let manifest = last.is_some_and(|l| {
            [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| l.ends_with(ext))
        });
        marker || self.git_ref.is_some() || (forge && !manifest)
    }
}

const FILE: &str = "file://";
const SCHEMES: [&str; 4] = ["ssh://", "https://", "http://", FILE];

/// Splits off the scheme, user and host; returns the normalized host and the path after it.
fn split_host(text: &str) -> Result<(String, &str), UrlError> {
    let text = strip_prefix_ignore_case(text, "git::").unwrap_or(text);
    let (scheme, text) = SCHEMES
        .iter()
        .find_map(|s| strip_prefix_ignore_case(text, s).map(|rest| (*s, rest)))
        .unwrap_or(("", text));
    if scheme == FILE {
        // Everything after `file://`, a would-be user included, is the path.
        return Ok((FILE.to_string(), text));
    }
    let (user, text) = split_user(text);
    let lower = text.to_ascii_lowercase();
    let github = lower.starts_with("github.com/") || lower.starts_with("github.com:");
    // scp-style `user@host:path` needs no scheme; kustomize asks for a user except on GitHub.
    let scp = scheme.is_empty() && (!user.is_empty() || github);
    if scheme.is_empty() && !scp {
        return Err(UrlError::Scheme);
    }
    let slash = text.find('/');
    let colon = text.find(':').filter(|_| scp);
    let sep = match (slash, colon) {
        (None, c) => c,
        (Some(s), Some(c)) if c > 0 && c < s => Some(c),
        (s, _) => s,
    };
    let (host, rest) = match sep {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => (text, ""),
    };
    if github {
        let host = if scheme == "ssh://" || !user.is_empty() {
            format!("{user}github.com:")
        } else {
            "https://github.com/".to_string()
        };
        return Ok((host, rest));
    }
    if host.is_empty() {
        return Err(UrlError::Host);
    }
    Ok((format!("{scheme}{user}{host}"), rest))
}

/// A leading `name@` (a letter, then letters, digits and `-`).
fn split_user(text: &str) -> (&str, &str) {
    let b = text.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return ("", text);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
        .count();
    if b.get(n) == Some(&b'@') {
        (&text[..=n], &text[n + 1..])
    } else {
        ("", text)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits the path after the host into the repository and the kustomization root in it.
/// `whole`: without a marker the whole path is the repository (`file://`), else `org/repo`.
fn split_repo_path(path: &str, whole: bool) -> Result<(String, String), UrlError> {
    let (repo, root) = match explicit_split(path) {
        Some(split) => split,
        None if whole => (path.to_string(), String::new()),
        None => {
            let segments: Vec<&str> = path.split('/').collect();
            if segments.len() < 2 {
                return Err(UrlError::RepoPath);
            }
            (segments[..2].join("/"), segments[2..].join("/"))
        }
    };
    if repo.is_empty() {
        return Err(UrlError::RepoPath);
    }
    if exits_repo(&root) {
        return Err(UrlError::ExitsRepo(path.to_string()));
    }
    Ok((repo, root.trim_start_matches('/').to_string()))
}

/// The repository ends after the segment following `_git/`, before a `//`, or after `.git`.
fn explicit_split(path: &str) -> Option<(String, String)> {
    if let Some(i) = path.find("_git/") {
        let (head, tail) = path.split_at(i + "_git/".len());
        let (repo, root) = tail.split_once('/').unwrap_or((tail, ""));
        return Some((format!("{head}{repo}"), root.to_string()));
    }
    if let Some(i) = path.find("//") {
        return Some((path[..i].to_string(), path[i + 2..].to_string()));
    }
    if let Some(i) = path.find(".git") {
        let end = i + ".git".len();
        return Some((path[..end].to_string(), path[end..].to_string()));
    }
    None
}

/// Whether the kustomization root, cleaned, starts by going up out of the repository.
fn exits_repo(root: &str) -> bool {
    let mut depth = 0usize;
    for seg in root.trim_start_matches('/').split('/') {
        match seg {
            "" | "." => {}
            ".." if depth == 0 => return true,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    false
}

/// The query options, each at its default when absent or unreadable.
struct Query {
    git_ref: Option<String>,
    submodules: bool,
    timeout: Duration,
}

impl Query {
    fn parse(query: &str) -> Query {
        let mut q = Query {
            git_ref: None,
            submodules: true,
            timeout: DEFAULT_TIMEOUT,
        };
        // A query that does not decode (a bad escape, a `;`) leaves every option at its default.
        let Some(pairs) = decode_query(query) else {
            return q;
        };
        let first = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str())
        };
        let git_ref = match first("ref") {
            "" => first("version"),
            r => r,
        };
        q.git_ref = (!git_ref.is_empty()).then(|| git_ref.to_string());
        if let Some(b) = parse_bool(first("submodules")) {
            q.submodules = b;
        }
        let t = first("timeout");
        let secs = t.parse::<u64>().ok().filter(|&s| s > 0);
        if let Some(d) = secs
            .map(Duration::from_secs)
            .or_else(|| parse_duration(t).filter(|d| !d.is_zero()))
        {
            q.timeout = d;
        }
        q
    }
}

/// `application/x-www-form-urlencoded` pairs, in order; `None` when one does not decode.
fn decode_query(query: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        if part.contains(';') {
            return None;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((unescape(k)?, unescape(v)?));
    }
    Some(out)
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `time.ParseDuration` for non-negative durations (`1m1s`, `1.5s`, `300ms`).
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() || s.starts_with('-') {
        return None;
    }
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests;
