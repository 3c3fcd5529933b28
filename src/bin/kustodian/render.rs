//! `render` (what `kustomize build` prints, for one or several directories or for environments
//! as their GitOps controller renders them) and `envs` (what discovery finds).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use kustodian::check;
use kustodian::render::Renderer;
use kustodian::report::{Report, human};
use kustodian::source::{DiskFs, Sources, repo_root_for};

use crate::args::{Color, ListFormat};
use crate::report::use_color;

pub(crate) fn render(dirs: &[PathBuf], root: Option<&Path>) -> anyhow::Result<u8> {
    let root = match root {
        Some(r) => r
            .canonicalize()
            .with_context(|| format!("{}", r.display()))?,
        None => {
            repo_root_for(&dirs[0])
                .with_context(|| format!("{}", dirs[0].display()))?
                .0
        }
    };
    let mut rels = Vec::new();
    for dir in dirs {
        let abs_dir = dir
            .canonicalize()
            .with_context(|| format!("{}", dir.display()))?;
        let rel = abs_dir
            .strip_prefix(&root)
            .with_context(|| format!("{} is not inside {}", dir.display(), root.display()))?
            .to_string_lossy()
            .replace('\\', "/");
        rels.push(rel);
    }
    let sources = Sources::new();
    let fs = DiskFs::new(&root)?;
    let renderer = Renderer::new(Arc::new(fs), sources.clone());
    // Each directory is built and printed on whichever thread takes it (its resources' YAML in
    // parallel too when there are many, see `to_yaml`); only the concatenation is in order.
    let builds: Vec<_> = {
        use rayon::prelude::*;
        rels.par_iter()
            .zip(dirs.par_iter())
            .map(|(rel, dir)| {
                let t = kustodian::timings::Phases::start();
                let yaml = renderer
                    .build(rel)
                    .map(|b| kustodian::render::to_yaml(&b.resources));
                t.done(&format!("render {}", dir.display()));
                yaml
            })
            .collect()
    };
    let labels: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    print_builds(&labels, builds, &sources)
}

/// `render --env`: environments of the repository `dirs[0]`, as their controller renders them.
pub(crate) fn render_envs(dirs: &[PathBuf], wanted: &[String]) -> anyhow::Result<u8> {
    use kustodian::discover::listing;
    let [repo] = dirs else {
        anyhow::bail!(
            "--env renders environments of one repository: give its root as the only DIR"
        );
    };
    let (d, sources) = match listing::discover_repo(repo, &kustodian::rules::CATALOG) {
        Ok(x) => x,
        Err(findings) => {
            for f in &findings {
                eprintln!("error: {}", f.message);
            }
            return Ok(2);
        }
    };
    let mut chosen = Vec::new();
    for w in wanted {
        let (app, env) = match w.split_once('/') {
            Some((a, e)) => (Some(a), e),
            None => (None, w.as_str()),
        };
        let found: Vec<_> = d
            .apps
            .iter()
            .filter(|a| app.is_none_or(|n| a.name == n))
            .filter_map(|a| a.env(env).map(|e| (a, e)))
            .collect();
        match found.as_slice() {
            [one] => chosen.push(*one),
            [] => anyhow::bail!("no environment '{w}' (see `kustodian envs`)"),
            many => anyhow::bail!(
                "'{w}' is ambiguous: {} (write APP/ENV)",
                many.iter()
                    .map(|(a, e)| format!("{}/{}", a.name, e.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    let fs = DiskFs::new(repo)?;
    let renderer = Renderer::new(Arc::new(fs), sources.clone());
    let builds: Vec<_> = {
        use rayon::prelude::*;
        chosen
            .par_iter()
            .map(|(_, e)| {
                renderer
                    .build_env(&e.dir, e.build.as_deref())
                    .map(|b| kustodian::render::to_yaml(&b.resources))
            })
            .collect()
    };
    let labels: Vec<String> = chosen
        .iter()
        .map(|(a, e)| format!("{}/{} ({})", a.name, e.name, e.dir))
        .collect();
    print_builds(&labels, builds, &sources)
}

/// Prints builds as `kustomize build` does (each after a `# Source:` line when several), and
/// the failures on stderr; exit 2 when one failed.
pub(crate) fn print_builds(
    labels: &[String],
    builds: Vec<Result<String, kustodian::render::RenderError>>,
    sources: &Sources,
) -> anyhow::Result<u8> {
    let color = use_color(Color::Auto, std::io::stderr().is_terminal());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for (i, (label, build)) in labels.iter().zip(builds).enumerate() {
        match build {
            Ok(yaml) => {
                if labels.len() > 1 {
                    if i > 0 {
                        out.write_all(b"---\n")?;
                    }
                    writeln!(out, "# Source: {label}")?;
                }
                out.write_all(yaml.as_bytes())?;
            }
            // One broken overlay does not hide the others: report it, render the rest.
            Err(e) => {
                failed = true;
                let f = check::render_finding(&e, None, None);
                let summary = Default::default();
                let report = Report::new(std::slice::from_ref(&f), &summary, sources);
                eprint!(
                    "{}",
                    human::render_finding(
                        &f,
                        &report,
                        human::HumanOptions {
                            color,
                            ..Default::default()
                        }
                    )
                );
            }
        }
    }
    out.flush()?;
    Ok(if failed { 2 } else { 0 })
}

/// `kustodian envs`: what discovery finds (exit 2 when the repository cannot be read or its
/// config is invalid).
pub(crate) fn envs(path: &Path, format: ListFormat) -> anyhow::Result<u8> {
    use kustodian::discover::listing;
    let (d, sources) = match listing::discover_repo(path, &kustodian::rules::CATALOG) {
        Ok(x) => x,
        Err(findings) => {
            let sources = Sources::new();
            for f in &findings {
                eprintln!("error: {}", f.message);
            }
            drop(sources);
            return Ok(2);
        }
    };
    let l = listing::listing(&d, &sources);
    let text = match format {
        ListFormat::Json => serde_json::to_string_pretty(&l)? + "\n",
        ListFormat::Human => kustodian::report::envs::human(&l),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(0)
}
