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
    let mut printer = Printer::new(dirs.len() > 1, &sources);
    // Each directory is built and printed on whichever thread takes it (its resources' YAML in
    // parallel too when there are many, see `to_yaml_parts`); the outputs are written in order
    // as they come, while later directories render.
    in_order(
        rels.len(),
        |i| {
            let t = kustodian::timings::Phases::start();
            let yaml = renderer
                .build(&rels[i])
                .map(|b| kustodian::render::to_yaml_parts(&b.resources));
            t.done(&format!("render {}", dirs[i].display()));
            yaml
        },
        |i, build| printer.print(&dirs[i].display().to_string(), build),
    )?;
    let code = printer.finish();
    // The process exits next: freeing every memoized base and file text first would only cost
    // time (a few percent of rendering a large corpus).
    std::mem::forget((renderer, sources));
    code
}

/// Runs `job` for every index below `n` on the thread pool, taking them in order, and hands
/// each result to `done` on this thread in order, as soon as it and all before it are ready:
/// the output of many kustomizations is written (and freed) while later ones render. After
/// `done` fails, no more jobs are started and its error is returned.
fn in_order<T: Send>(
    n: usize,
    job: impl Fn(usize) -> T + Sync,
    mut done: impl FnMut(usize, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let (next, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Every pool thread takes the next index whenever it is free.
            rayon::broadcast(|_| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || tx.send((i, job(i))).is_err() {
                        break;
                    }
                }
            });
            drop(tx);
        });
        let mut waiting = std::collections::BTreeMap::new();
        let (mut want, mut result) = (0, Ok(()));
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&want) {
                if result.is_ok() {
                    result = done(want, r);
                    stop.store(result.is_err(), Ordering::Relaxed);
                }
                want += 1;
            }
        }
        result
    })
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
                    .map(|b| kustodian::render::to_yaml_parts(&b.resources))
            })
            .collect()
    };
    let mut printer = Printer::new(chosen.len() > 1, &sources);
    for ((a, e), build) in chosen.iter().zip(builds) {
        printer.print(&format!("{}/{} ({})", a.name, e.name, e.dir), build)?;
    }
    printer.finish()
}

/// Prints builds as `kustomize build` does (each after a `# Source:` line when several), and
/// the failures on stderr; exit 2 when one failed.
pub(crate) struct Printer<'a> {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    color: bool,
    sources: &'a Sources,
    /// More than one build: each is labelled.
    several: bool,
    printed: usize,
    failed: bool,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(several: bool, sources: &'a Sources) -> Printer<'a> {
        Printer {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            color: use_color(Color::Auto, std::io::stderr().is_terminal()),
            sources,
            several,
            printed: 0,
            failed: false,
        }
    }

    /// One build: its YAML (in pieces to write one after another), or its failure.
    pub(crate) fn print(
        &mut self,
        label: &str,
        build: Result<Vec<String>, kustodian::render::RenderError>,
    ) -> anyhow::Result<()> {
        let i = self.printed;
        self.printed += 1;
        match build {
            Ok(parts) => {
                if self.several {
                    if i > 0 {
                        self.out.write_all(b"---\n")?;
                    }
                    writeln!(self.out, "# Source: {label}")?;
                }
                for p in parts {
                    self.out.write_all(p.as_bytes())?;
                }
            }
            // One broken overlay does not hide the others: report it, render the rest.
            Err(e) => {
                self.failed = true;
                let f = check::render_finding(&e, None, None);
                let summary = Default::default();
                let report = Report::new(std::slice::from_ref(&f), &summary, self.sources);
                eprint!(
                    "{}",
                    human::render_finding(
                        &f,
                        &report,
                        human::HumanOptions {
                            color: self.color,
                            ..Default::default()
                        }
                    )
                );
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> anyhow::Result<u8> {
        self.out.flush()?;
        Ok(if self.failed { 2 } else { 0 })
    }
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

#[cfg(test)]
mod tests {
    use super::in_order;

    /// Results arrive in order whatever order the jobs finish in; after `done` fails, its error
    /// is returned and the jobs not yet started are not run.
    #[test]
    fn in_order_hands_results_over_in_order() {
        let jobs = std::sync::atomic::AtomicUsize::new(0);
        let mut seen = Vec::new();
        in_order(
            300,
            |i| {
                jobs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // Early jobs take longest, so later ones finish first.
                std::thread::sleep(std::time::Duration::from_micros((300 - i as u64) * 5));
                i * 2
            },
            |i, r| {
                assert_eq!(r, i * 2);
                seen.push(i);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..300).collect::<Vec<_>>());
        assert_eq!(jobs.into_inner(), 300);

        let started = std::sync::atomic::AtomicUsize::new(0);
        let err = in_order(
            10_000,
            |i| {
                started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_micros(50));
                i
            },
            |i, _| {
                if i == 5 {
                    anyhow::bail!("disk full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(err.unwrap_err().to_string(), "disk full");
        assert!(started.into_inner() < 10_000);
    }
}
