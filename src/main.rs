//! The `kustodian` command line: argument parsing, then library calls, then an exit code
//! (0 clean, 1 policy violations, 2 could not evaluate — clap's usage errors exit 2 too).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use kustodian::check::{self, CheckOptions};
use kustodian::diag::Report;
use kustodian::render::Renderer;
use kustodian::report::{github, human, json, sarif};

use kustodian::source::{DiskFs, Sources, repo_root_for};

/// See the `mimalloc` note in Cargo.toml: allocation-heavy, multi-threaded rendering.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "kustodian",
    version,
    about = "Guards environment promotion in GitOps config repos: renders every Kustomize overlay natively, checks promotion rules, and points at the line to edit."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Raise or lower budgets, e.g. `file-bytes=256MiB,depth=512` (names and defaults in
    /// docs/security.md: file-bytes, tree-bytes, depth, nodes, alias-nodes, documents, nesting).
    #[arg(long, global = true, value_name = "NAME=VALUE,...")]
    limits: Option<String>,
}

#[derive(Subcommand)]
enum SchemasCommand {
    /// Print the bundled Kubernetes versions and their kinds.
    List,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Github,
    Json,
    Sarif,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Check every app and environment of a config repository.
    Check {
        /// Repository root.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format (default: `github` when GITHUB_ACTIONS=true, else `human`).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write the report to this file (atomically) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also write a SARIF report to this file.
        #[arg(long)]
        sarif_output: Option<PathBuf>,
        /// Also write a JSON report to this file.
        #[arg(long)]
        json_output: Option<PathBuf>,
        /// Policy file extending/overriding the built-in policy.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Only this environment (repeatable).
        #[arg(long = "env")]
        envs: Vec<String>,
        /// Only this app (repeatable).
        #[arg(long = "app")]
        apps: Vec<String>,
        /// Colors in human output.
        #[arg(long, value_enum, default_value = "auto")]
        color: Color,
        /// Pull-request mode: compare with this base revision (a commit-ish, or `auto` for the
        /// PR's base branch) and check only overlays whose inputs changed.
        #[arg(long)]
        base: Option<String>,
        /// Who made the change (default: $GITHUB_ACTOR), for `bot-write-scope`.
        #[arg(long)]
        actor: Option<String>,
        /// Print which overlays were checked (pull-request mode) and the suppressed findings
        /// with their reasons, on stderr.
        #[arg(long, short)]
        verbose: bool,
        /// Check only shard I of N (e.g. `2/4`): apps are split deterministically, so a CI matrix
        /// of N jobs covers every app once. Merge the JSON reports with `merge-reports`.
        #[arg(long, value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
        /// Judge freeze windows at this time (RFC 3339) instead of now; for tests and replays.
        #[arg(long)]
        now: Option<String>,
        /// Write the markdown summary (findings, and in pull-request mode the rendered changes)
        /// to this file.
        #[arg(long)]
        summary: Option<PathBuf>,
    },
    /// Merge JSON reports of sharded runs into one JSON report (exit code as for `check`).
    MergeReports {
        /// JSON reports written by `check --format json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Write the merged report here (atomically) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the rendered diff between a base revision and the working tree, for every overlay
    /// whose inputs changed.
    Diff {
        /// Repository root.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Base revision (a commit-ish, or `auto`).
        #[arg(long)]
        base: String,
        /// Colored output (default: when stdout is a terminal).
        #[arg(long, value_enum, default_value = "auto")]
        color: Color,
    },
    /// Print what `kustomize build DIR` prints.
    Render {
        /// Kustomization directories. With one, the output is exactly `kustomize build`'s; with
        /// several, they are rendered in parallel (shared bases built once) and printed in order,
        /// each after a `# Source: DIR` line.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Tree the build may read (default: the Git repository containing DIR, else `/`, as
        /// kustomize would). Nothing outside it is read.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Print a rule's documentation.
    Explain {
        /// Rule id (see `kustodian rules`).
        rule: String,
    },
    /// List the rules.
    Rules,
    /// Bundled Kubernetes schemas.
    Schemas {
        #[command(subcommand)]
        what: SchemasCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(spec) = &cli.limits {
        match kustodian::limits::DEFAULT.with_overrides(spec) {
            Ok(l) => kustodian::limits::set(l),
            Err(e) => {
                eprintln!("error: --limits: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Threads with the stack the budgets need: deep inputs within them must not overflow it.
    kustodian::limits::init_threads();
    match kustodian::limits::with_stack(|| run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Rules => {
            let codes = kustodian::diag::ErrorCode::ALL;
            let width = kustodian::rules::registry()
                .map(|r| r.id.len())
                .chain(codes.iter().map(|c| c.id().len()))
                .max()
                .unwrap_or(0);
            for r in kustodian::rules::registry() {
                println!(
                    "{:<width$}  {:<8} {}",
                    r.id,
                    r.default_level.as_str(),
                    r.summary()
                );
            }
            // Not rules but the same id space: findings that mean "could not evaluate" (exit 2).
            for c in codes {
                println!("{:<width$}  {:<8} {}", c.id(), "fatal", c.summary());
            }
            Ok(0)
        }
        Command::Explain { rule } => match kustodian::rules::lookup(&rule) {
            Some(r) => {
                println!("# {}\n\n{}", r.id, r.doc);
                Ok(0)
            }
            None if kustodian::diag::ErrorCode::from_id(&rule).is_some() => {
                let c = kustodian::diag::ErrorCode::from_id(&rule).expect("checked");
                println!(
                    "# {}\n\n{}\n\nNot a rule: a finding that means kustodian could not evaluate the repository (exit code 2). It cannot be waived.",
                    c.id(),
                    c.summary()
                );
                Ok(0)
            }
            None => {
                let ids: Vec<&str> = kustodian::rules::registry().map(|r| r.id).collect();
                eprintln!(
                    "error: unknown rule '{rule}'; known rules: {}",
                    ids.join(", ")
                );
                Ok(2)
            }
        },
        Command::Render { dirs, root } => render(&dirs, root.as_deref()),
        Command::Schemas {
            what: SchemasCommand::List,
        } => {
            print!("{}", kustodian::schema::list_bundled());
            Ok(0)
        }
        Command::MergeReports { reports, output } => {
            let mut all = Vec::new();
            for p in &reports {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                let r: json::JsonReport = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a kustodian JSON report", p.display()))?;
                all.push(r);
            }
            let merged = json::merge(all);
            let code = if merged
                .findings
                .iter()
                .any(|f| kustodian::diag::ErrorCode::from_id(&f.rule).is_some())
            {
                2
            } else if merged.summary.errors > 0 {
                1
            } else {
                0
            };
            let text = serde_json::to_string_pretty(&merged)? + "\n";
            match output {
                Some(p) => write_atomically(&p, text.as_bytes())?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(code)
        }
        Command::Diff { path, base, color } => {
            let color = match color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            match kustodian::diff::rendered_diff(&path, &base, color) {
                Ok(text) => {
                    std::io::stdout().write_all(text.as_bytes())?;
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(2)
                }
            }
        }
        Command::Check {
            path,
            format,
            output,
            sarif_output,
            json_output,
            policy,
            envs,
            apps,
            color,
            base,
            actor,
            verbose,
            shard,
            now,
            summary,
        } => {
            let format = format.unwrap_or(
                if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
                    Format::Github
                } else {
                    Format::Human
                },
            );
            let mut phases = kustodian::timings::Phases::start();
            let outcome = check::run(&CheckOptions {
                root: path,
                policy,
                envs,
                apps,
                base,
                actor,
                shard,
                now,
            });
            phases.mark("check");
            if verbose {
                if outcome.affected.is_empty() {
                    eprintln!("affected overlays: none");
                } else {
                    eprintln!("affected overlays ({}):", outcome.affected.len());
                    for a in &outcome.affected {
                        eprintln!("  {a}");
                    }
                }
                // What the waivers hid from the report, and why.
                let waived: Vec<_> = outcome
                    .findings
                    .iter()
                    .filter_map(|f| f.suppressed.as_ref().map(|w| (f, w)))
                    .collect();
                if !waived.is_empty() {
                    eprintln!("suppressed findings ({}):", waived.len());
                    for (f, w) in waived {
                        let at = |p: Option<kustodian::source::Position>| {
                            p.map(|p| format!("{}:{}", p.file, p.line))
                                .unwrap_or_else(|| "-".into())
                        };
                        eprintln!(
                            "  {} {} [{}] waived at {}: {}",
                            at(f.position(&outcome.sources)),
                            f.rule,
                            f.environment.as_deref().unwrap_or("-"),
                            at(outcome.sources.position(w.loc)),
                            w.reason
                        );
                    }
                }
            }
            let report = Report {
                findings: &outcome.findings,
                summary: &outcome.summary,
                sources: &outcome.sources,
            };
            let use_color = match color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let mut buf = Vec::new();
            match format {
                Format::Human => human::emit(
                    &report,
                    &mut buf,
                    human::HumanOptions {
                        color: use_color,
                        ..Default::default()
                    },
                )?,
                Format::Github => {
                    github::emit(&report, &mut buf)?;
                    github::append_step_summary(&report, &outcome.changes)
                        .context("writing $GITHUB_STEP_SUMMARY")?;
                }
                Format::Json => json::emit(&report, &mut buf)?,
                Format::Sarif => sarif::emit(&report, &mut buf)?,
            }
            match &output {
                Some(p) => write_atomically(p, &buf)?,
                None => std::io::stdout().write_all(&buf)?,
            }
            if let Some(p) = summary {
                let mut b = Vec::new();
                github::write_summary(&report, &outcome.changes, &mut b)?;
                write_atomically(&p, &b)?;
            }
            if let Some(p) = sarif_output {
                let mut b = Vec::new();
                sarif::emit(&report, &mut b)?;
                write_atomically(&p, &b)?;
            }
            if let Some(p) = json_output {
                let mut b = Vec::new();
                json::emit(&report, &mut b)?;
                write_atomically(&p, &b)?;
            }
            phases.mark("report");
            Ok(outcome.exit_code() as u8)
        }
    }
}

fn render(dirs: &[PathBuf], root: Option<&Path>) -> anyhow::Result<u8> {
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
    let builds: Vec<_> = {
        use rayon::prelude::*;
        rels.par_iter().map(|rel| renderer.build(rel)).collect()
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for (i, (dir, build)) in dirs.iter().zip(builds).enumerate() {
        match build {
            Ok(b) => {
                if dirs.len() > 1 {
                    if i > 0 {
                        out.write_all(b"---\n")?;
                    }
                    writeln!(out, "# Source: {}", dir.display())?;
                }
                out.write_all(kustodian::render::to_yaml(&b.resources).as_bytes())?;
            }
            // One broken overlay does not hide the others: report it, render the rest.
            Err(e) => {
                failed = true;
                let f = check::render_finding(&e, None, None);
                let summary = Default::default();
                let report = Report {
                    findings: std::slice::from_ref(&f),
                    summary: &summary,
                    sources: &sources,
                };
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

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s.split_once('/').ok_or("expected I/N, e.g. 1/4")?;
    let (i, n): (usize, usize) = (
        i.parse().map_err(|_| "I must be a number")?,
        n.parse().map_err(|_| "N must be a number")?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i}/{n}: need 1 <= I <= N"));
    }
    Ok((i, n))
}

/// Writes a report file (see `kustodian::output`: atomic, through symlinks, modes kept).
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    kustodian::output::write_report(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}
