//! Remote bases on the command line: `--remote fetch|cache|deny` for the whole run, and
//! `kustodian fetch`, which fills the cache (docs/remote.md).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use kustodian::render::Renderer;
use kustodian::report::human;
use kustodian::source::remote::{Mode, Settings, set};
use kustodian::source::{DiskFs, Sources, repo_root_for};

use crate::args::{Cli, Command, RemoteMode};

/// `--remote` for the whole run (before any renderer is made); `kustodian fetch` always fetches.
pub(crate) fn set_mode(cli: &Cli) -> Result<(), String> {
    let fetching = matches!(cli.command, Command::Fetch { .. });
    let mode = match cli.remote {
        RemoteMode::Deny if fetching => {
            return Err("`kustodian fetch` fetches remote bases; --remote deny forbids it".into());
        }
        _ if fetching => Mode::Fetch,
        RemoteMode::Fetch => Mode::Fetch,
        RemoteMode::Cache => Mode::Cache,
        RemoteMode::Deny => Mode::Deny,
    };
    set(Settings {
        mode,
        cache_dir: None,
    });
    Ok(())
}

/// `kustodian fetch`: every remote base under `path` into the cache; exit 2 when one failed.
pub(crate) fn fetch(path: &Path) -> anyhow::Result<u8> {
    let (root, rel) = repo_root_for(path).with_context(|| format!("{}", path.display()))?;
    let sources = Sources::new();
    let renderer = Renderer::new(Arc::new(DiskFs::new(&root)?), sources.clone());
    let outcome = renderer.fetch_remote_bases(&rel);
    for f in &outcome.fetched {
        let at = sources
            .position(f.at)
            .map(|p| format!(" ({}:{})", p.file, p.line))
            .unwrap_or_default();
        println!(
            "fetched {}{at}",
            human::visible(f.label.trim_end_matches(':'))
        );
    }
    if outcome.fetched.is_empty() && outcome.errors.is_empty() {
        println!("no remote bases under {}", path.display());
    }
    if outcome.errors.is_empty() {
        return Ok(0);
    }
    // Each failure as a render error at its line (the builds' own format).
    let mut printer = crate::render::Printer::new(false, &sources);
    for e in outcome.errors {
        printer.print("", Err(e))?;
    }
    printer.finish()
}
