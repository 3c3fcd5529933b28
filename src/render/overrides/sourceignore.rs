//! Which files a Flux source artifact leaves out: source-controller archives the repository
//! through `.sourceignore` files (gitignore syntax, each scoped to its directory) and the
//! GitRepository's `spec.ignore`; when there are none, a default list (VCS files, images and
//! archives, CI configuration, `.sops.yaml`, `.goreleaser.yml`, `.flux.yaml`) applies instead.
//! A file left out does not exist for the kustomization Flux generates, so a `.sops.yaml` or a
//! CI workflow under the path does not break it.
//!
//! Matching follows fluxcd/pkg's gitignore fork of go-git: the last pattern that matches decides
//! (`!` re-includes); a pattern without `/` matches any path component; one with `/` is anchored
//! at its file's directory, `**` spans directories, and a match of leading components covers
//! everything below them; a trailing `/` matches directories only.

use super::envsubst::glob_match;
use crate::source::{Fs, child_rel};

const VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
const DEFAULTS: &str = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip,\
.github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,\
codeship-services.yml,codeship-steps.yml,**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml";

struct Pattern {
    domain: Vec<String>,
    parts: Vec<String>,
    include: bool,
    dir_only: bool,
    anchored: bool,
}

impl Pattern {
    fn parse(p: &str, domain: &[String]) -> Pattern {
        let (include, mut p) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        if !p.ends_with("\\ ") {
            p = p.trim_end_matches(' ');
        }
        let dir_only = p.ends_with('/');
        let p = p.strip_suffix('/').unwrap_or(p);
        Pattern {
            domain: domain.to_vec(),
            parts: p.split('/').map(str::to_string).collect(),
            include,
            dir_only,
            anchored: p.contains('/'),
        }
    }

    fn matches(&self, path: &[&str], is_dir: bool) -> bool {
        if path.len() <= self.domain.len() || self.domain.iter().zip(path).any(|(d, p)| d != p) {
            return false;
        }
        let path = &path[self.domain.len()..];
        if self.anchored {
            self.glob(path, is_dir)
        } else {
            path.iter().enumerate().any(|(i, name)| {
                glob_match(&self.parts[0], name) == Some(true)
                    && !(self.dir_only && !is_dir && i == path.len() - 1)
            })
        }
    }

    fn glob(&self, mut path: &[&str], is_dir: bool) -> bool {
        let mut matched = false;
        let mut traverse = false;
        for (i, part) in self.parts.iter().enumerate() {
            if part.is_empty() {
                traverse = false;
                continue;
            }
            if part == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                traverse = true;
                continue;
            }
            if part.contains("**") || path.is_empty() {
                return false;
            }
            if traverse {
                traverse = false;
                matched = false;
                while let Some((first, rest)) = path.split_first() {
                    path = rest;
                    if glob_match(part, first) == Some(true) {
                        matched = true;
                        break;
                    }
                }
            } else {
                if glob_match(part, path[0]) != Some(true) {
                    return false;
                }
                matched = true;
                path = &path[1..];
            }
        }
        matched && !(self.dir_only && !is_dir && path.is_empty())
    }
}

/// The ignore rules in effect for files under one directory.
pub struct SourceIgnore {
    patterns: Vec<Pattern>,
    /// The `.sourceignore` files read (what the generated listing depends on).
    pub files: Vec<String>,
}

impl SourceIgnore {
    /// Reads the `.sourceignore` files that can apply below `dir` (the root's, its ancestors',
    /// and every one below it) and `spec_ignore` (the GitRepository's `spec.ignore`).
    pub fn load(fs: &dyn Fs, dir: &str, spec_ignore: Option<&str>) -> SourceIgnore {
        let mut files = Vec::new();
        let mut own = Vec::new();
        let segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        for n in 0..segs.len() {
            read_ignore_file(fs, &segs[..n], &mut own, &mut files);
        }
        let mut stack = vec![
            segs.iter()
                .map(std::string::ToString::to_string)
                .collect::<Vec<_>>(),
        ];
        while let Some(d) = stack.pop() {
            let refs: Vec<&str> = d.iter().map(String::as_str).collect();
            read_ignore_file(fs, &refs, &mut own, &mut files);
            let rel = d.join("/");
            for sub in fs.subdirs(&rel).unwrap_or_default().into_iter().rev() {
                if sub != ".git" {
                    let mut next = d.clone();
                    next.push(sub);
                    stack.push(next);
                }
            }
        }
        for line in spec_ignore.unwrap_or("").lines() {
            if !line.starts_with('#') && !line.trim().is_empty() {
                own.push(Pattern::parse(line, &[]));
            }
        }
        let builtin = |list: &str| -> Vec<Pattern> {
            list.split(',').map(|p| Pattern::parse(p, &[])).collect()
        };
        let mut patterns = builtin(VCS);
        if own.is_empty() {
            patterns.extend(builtin(DEFAULTS));
        }
        patterns.extend(own);
        SourceIgnore { patterns, files }
    }

    /// Whether a repo-relative path is left out of the artifact.
    pub fn ignored(&self, rel: &str, is_dir: bool) -> bool {
        let path: Vec<&str> = rel.split('/').collect();
        self.patterns
            .iter()
            .rev()
            .find(|p| p.matches(&path, is_dir))
            .is_some_and(|p| !p.include)
    }
}

fn read_ignore_file(fs: &dyn Fs, dir: &[&str], out: &mut Vec<Pattern>, files: &mut Vec<String>) {
    let file = child_rel(&dir.join("/"), ".sourceignore");
    let Ok(text) = fs.read(&file) else { return };
    let domain: Vec<String> = dir.iter().map(std::string::ToString::to_string).collect();
    for line in text.lines() {
        if !line.starts_with('#') && !line.trim().is_empty() {
            out.push(Pattern::parse(line, &domain));
        }
    }
    files.push(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[(&str, &[&str])]) -> SourceIgnore {
        let mut patterns = Vec::new();
        for (p, domain) in lines {
            let d: Vec<String> = domain
                .iter()
                .map(std::string::ToString::to_string)
                .collect();
            patterns.push(Pattern::parse(p, &d));
        }
        SourceIgnore {
            patterns,
            files: vec![],
        }
    }

    #[test]
    fn defaults_leave_out_ci_and_sops_files() {
        let mut s = rules(&[]);
        s.patterns = VCS
            .split(',')
            .chain(DEFAULTS.split(','))
            .map(|p| Pattern::parse(p, &[]))
            .collect();
        assert!(s.ignored("clusters/prod/.sops.yaml", false));
        assert!(s.ignored(".github/workflows/ci.yaml", false));
        assert!(s.ignored("apps/logo.png", false));
        assert!(!s.ignored("clusters/prod/apps.yaml", false));
        assert!(
            !s.ignored("apps/.github", false),
            "a file named like a directory pattern"
        );
    }

    #[test]
    fn anchored_patterns_negation_and_globstar() {
        // flux2-kustomize-helm-example's `.sourceignore`.
        let s = rules(&[("/*", &[]), ("!/apps/", &[]), ("!/clusters/", &[])]);
        assert!(s.ignored("README.md", false));
        assert!(s.ignored("scripts/validate.sh", false));
        assert!(!s.ignored("apps/base/podinfo/release.yaml", false));
        assert!(!s.ignored("clusters/production/apps.yaml", false));
        let s = rules(&[("**/values.yaml", &[]), ("docs/", &["apps"])]);
        assert!(s.ignored("apps/a/b/values.yaml", false));
        assert!(s.ignored("apps/docs/x.yaml", false));
        assert!(
            !s.ignored("docs/x.yaml", false),
            "scoped to its own directory"
        );
    }
}
