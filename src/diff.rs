//! `kustodian diff --base REV`: the rendered diff of every overlay whose inputs changed.
//!
//! Same affected-overlay computation as pull-request mode (files each overlay reads, at either
//! revision, intersected with the changed paths); each affected overlay is rendered at the base
//! revision (from the object database) and in the working tree and compared as unified diffs.

use std::path::Path;
use std::sync::Arc;

use crate::check::resolve_base;
use crate::discover::discover;
use crate::git::{GitFs, changed_paths};
use crate::render::{Renderer, to_yaml};
use crate::settings::Config;
use crate::source::{DiskFs, Fs, Sources};

/// The unified diff text (empty when nothing rendered differently).
pub fn rendered_diff(root: &Path, base: &str, color: bool) -> Result<String, String> {
    let rev = resolve_base(base);
    let sources = Sources::new();
    let head: Arc<dyn Fs> = Arc::new(DiskFs::new(root).map_err(|e| e.to_string())?);
    let git = Arc::new(GitFs::open(root, &rev).map_err(|e| e.to_string())?);
    let changed = changed_paths(&git, &*head);
    let config = Config::load(&*head, &sources, &crate::rules::CATALOG).map_err(|f| {
        f.iter()
            .map(|x| x.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let hr = Renderer::new(head.clone(), sources.clone());
    let br = Renderer::with_label(git.clone(), sources.clone(), &format!("{rev}:"));
    let mut out = String::new();
    for app in discover(&*head, &config) {
        for env in &app.envs {
            let deps_h = hr.dependencies(&env.dir);
            let deps_b = br.dependencies(&env.dir);
            if !deps_h.iter().chain(&deps_b).any(|d| changed.contains(d)) && !deps_b.is_empty() {
                continue;
            }
            let render = |r: &Renderer| match r.build(&env.dir) {
                Ok(b) => to_yaml(&b.resources),
                Err(e) => format!("# render error: {}\n", e.message),
            };
            let (before, after) = (
                if deps_b.is_empty() {
                    String::new()
                } else {
                    render(&br)
                },
                render(&hr),
            );
            if before == after {
                continue;
            }
            let d = similar::TextDiff::from_lines(&before, &after);
            let text = d
                .unified_diff()
                .context_radius(3)
                .header(&format!("{rev}:{}", env.dir), &env.dir)
                .to_string();
            for line in text.lines() {
                let painted = match (color, line.chars().next()) {
                    (true, Some('+')) if !line.starts_with("+++") => {
                        format!("\x1b[32m{line}\x1b[0m")
                    }
                    (true, Some('-')) if !line.starts_with("---") => {
                        format!("\x1b[31m{line}\x1b[0m")
                    }
                    (true, Some('@')) => format!("\x1b[36m{line}\x1b[0m"),
                    _ => line.to_string(),
                };
                out.push_str(&painted);
                out.push('\n');
            }
        }
    }
    Ok(out)
}
