//! `kustodian diff --base REV`: the rendered diff of every environment whose inputs changed.
//!
//! The same affected-environment computation as pull-request mode ([`crate::check::pr`]); each
//! affected environment is rendered at the base revision (from the object database) and in the
//! working tree and compared as unified diffs. An environment new at head diffs against nothing.

use std::path::Path;
use std::sync::Arc;

use crate::check::pr::{PrState, affected};
use crate::discover::discover;
use crate::render::{Renderer, to_yaml};
use crate::settings::Config;
use crate::source::{DiskFs, Fs, Sources};

/// The unified diff text (empty when nothing rendered differently).
pub fn rendered_diff(root: &Path, base: &str, color: bool) -> Result<String, String> {
    let sources = Sources::new();
    let head: Arc<dyn Fs> = Arc::new(DiskFs::new(root).map_err(|e| e.to_string())?);
    let pr = PrState::open(root, &*head, base, None).map_err(|f| f.message.clone())?;
    let config = Config::load(&*head, &sources, &crate::rules::CATALOG).map_err(|f| {
        f.iter()
            .map(|x| x.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let repo = crate::git::repo_info(root);
    let apps = discover(&*head, &config, &sources, &repo).apps;
    let hr = Renderer::new(head.clone(), sources.clone());
    let br = Renderer::with_label(pr.base_fs.clone(), sources.clone(), &format!("{}:", pr.rev));
    let mut out = String::new();
    for (ai, ei) in affected(&apps, &hr, &pr.changed) {
        let env = &apps[ai].envs[ei];
        let render = |r: &Renderer| match r.build_env(&env.dir, env.build.as_deref()) {
            Ok(b) => to_yaml(&b.resources),
            Err(e) => format!("# render error: {}\n", e.message),
        };
        let before = if br.fs().is_dir(&env.dir) {
            render(&br)
        } else {
            String::new()
        };
        let after = render(&hr);
        if before == after {
            continue;
        }
        let text = similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("{}:{}", pr.rev, env.dir), &env.dir)
            .to_string();
        for line in text.lines() {
            out.push_str(&paint(line, color));
            out.push('\n');
        }
    }
    Ok(out)
}

fn paint(line: &str, color: bool) -> String {
    match (color, line.chars().next()) {
        (true, Some('+')) if !line.starts_with("+++") => format!("\x1b[32m{line}\x1b[0m"),
        (true, Some('-')) if !line.starts_with("---") => format!("\x1b[31m{line}\x1b[0m"),
        (true, Some('@')) => format!("\x1b[36m{line}\x1b[0m"),
        _ => line.to_string(),
    }
}
