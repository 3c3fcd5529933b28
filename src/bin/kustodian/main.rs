//! The `kustodian` command line: argument parsing, then library calls, then an exit code
//! (0 clean, 1 policy violations, 2 could not evaluate — clap's usage errors exit 2 too).
//!
//! A thin binary over the library: `args` is the command line's shape (the help text), and each
//! other module runs a family of commands — `report` checks and writes reports, `render` renders
//! and lists environments, `workflow` is versions and promote, `catalog` the rules, `remote`
//! the `--remote` mode and `fetch`. Only here
//! are things printed and errors turned into exit codes (`anyhow` stays out of the library).

#![warn(clippy::too_many_lines)]

mod args;
mod catalog;
mod remote;
mod render;
mod report;
mod workflow;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command, SchemasCommand};

/// See the `mimalloc` note in Cargo.toml: allocation-heavy, multi-threaded rendering.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    if let Err(e) = remote::set_mode(&cli) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
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
        Command::Check(args) => report::check(args),
        Command::MergeReports { reports, out } => report::merge_reports(&reports, &out),
        Command::Rules { repo, policy } => Ok(catalog::rules(&repo, policy.as_deref())),
        Command::Explain { rule, repo, policy } => {
            Ok(catalog::explain(&rule, &repo, policy.as_deref()))
        }
        Command::Test { dir } => catalog::test(&dir),
        Command::Render { dirs, envs, .. } if !envs.is_empty() => render::render_envs(&dirs, &envs),
        Command::Render { dirs, root, .. } => render::render(&dirs, root.as_deref()),
        Command::Envs { path, format } => render::envs(&path, format),
        Command::Fetch { path } => remote::fetch(&path),
        Command::Promote(args) => workflow::promote(args),
        Command::Versions(args) => workflow::versions(args),
        Command::Schemas {
            what: SchemasCommand::List,
        } => {
            print!("{}", kustodian::schema::list_bundled());
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kustodian", &mut buf);
            std::io::stdout().write_all(&buf)?;
            Ok(0)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
            std::io::stdout().write_all(&buf)?;
            Ok(0)
        }
        Command::Diff { path, base, color } => {
            let color = report::use_color(color, std::io::stdout().is_terminal());
            match kustodian::diff::rendered_diff(&path, &base, color) {
                Ok(text) => {
                    std::io::stdout().write_all(text.as_bytes())?;
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {}", kustodian::report::human::visible(&e));
                    Ok(2)
                }
            }
        }
    }
}
