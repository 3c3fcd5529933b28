//! The files a repository's config names for its policies (`admission-policies:` globs, `rego:`
//! directories), found through the repository's [`Fs`] — never outside its root — and walked
//! from the glob's literal prefix only.

use globset::GlobBuilder;

use crate::source::{Fs, FsError, child_path};

/// The repository-relative files matching `glob` (`policies/admission/*.yaml`, `**/*.rego`).
pub(crate) fn expand(fs: &dyn Fs, glob: &str) -> Result<Vec<String>, String> {
    let pattern = glob.trim_start_matches("./").trim_end_matches('/');
    if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Err(format!(
            "'{glob}': write a path relative to the repository root, without `..`"
        ));
    }
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid glob '{glob}': {e}"))?
        .compile_matcher();
    // The directories before the first segment with a wildcard need no walking.
    let literal: Vec<&str> = pattern
        .split('/')
        .take_while(|s| !s.contains(['*', '?', '[', '{']))
        .collect();
    let start = literal.join("/");
    if fs.is_file(&start) {
        return Ok(vec![start]);
    }
    let mut out = Vec::new();
    walk(fs, &start, &mut |p| {
        if matcher.is_match(p) {
            out.push(p.to_string());
        }
    })
    .map_err(|e| e.to_string())?;
    out.sort();
    Ok(out)
}

/// The files under a directory (or the file itself) whose name ends with `suffix`.
#[cfg(feature = "rego")]
pub(crate) fn files_under(fs: &dyn Fs, path: &str, suffix: &str) -> Result<Vec<String>, String> {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    if path.starts_with('/') || path.split('/').any(|s| s == "..") {
        return Err(format!(
            "'{path}': write a path relative to the repository root, without `..`"
        ));
    }
    if fs.is_file(path) {
        return Ok(vec![path.to_string()]);
    }
    if !fs.is_dir(path) {
        return Err(format!("{path}: no such file or directory"));
    }
    let mut out = Vec::new();
    walk(fs, path, &mut |p| {
        if p.ends_with(suffix) {
            out.push(p.to_string());
        }
    })
    .map_err(|e| e.to_string())?;
    out.sort();
    Ok(out)
}

fn walk(fs: &dyn Fs, dir: &str, f: &mut dyn FnMut(&str)) -> Result<(), FsError> {
    let names = match fs.list(dir) {
        Ok(n) => n,
        Err(FsError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    for name in names {
        if name.starts_with('.') {
            continue;
        }
        let p = child_path(dir, &name);
        if fs.is_dir(&p) {
            walk(fs, &p, f)?;
        } else if fs.is_file(&p) {
            f(&p);
        }
    }
    Ok(())
}
