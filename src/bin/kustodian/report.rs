//! `check` and `merge-reports`: run the library's check, then write the report in the chosen
//! format (to stdout or atomically to a file, plus the extra SARIF/JSON/summary files), and turn
//! the findings into the exit code `--fail-on` asks for.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use kustodian::check::{self, CheckOptions};
use kustodian::report::{PathBase, Report, github, gitlab, human, json, junit, sarif};
use kustodian::source::Sources;

use crate::args::{CheckArgs, Color, Format, Output};

pub(crate) fn check(args: CheckArgs) -> anyhow::Result<u8> {
    let stdin = args.path.as_os_str() == "-";
    if stdin && (args.base.is_some() || args.shard.is_some() || !args.apps.is_empty()) {
        eprintln!(
            "error: --base, --shard and --app need a repository; standard input (`-`) is one environment of one app"
        );
        return Ok(2);
    }
    let format = default_format(args.out.format);
    let mut phases = kustodian::timings::Phases::start();
    let opts = CheckOptions {
        root: if stdin {
            PathBuf::from(".")
        } else {
            args.path.clone()
        },
        policy: args.policy.clone(),
        envs: args.envs.clone(),
        apps: args.apps.clone(),
        base: args.base.clone(),
        actor: args.actor.clone(),
        shard: args.shard,
        now: args.now.clone(),
        kubernetes_version: args.kubernetes_version.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        timings: args.verbose,
        record_policies: false,
    };
    let outcome = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        kustodian::check::stdin::check_stream(&text, &opts)
    } else {
        check::run(&opts)
    };
    phases.mark("check");
    let paths = if stdin {
        PathBase::default()
    } else {
        path_base(&args.path, args.base.as_deref())
    };
    let mut rules = kustodian::rules::descriptors();
    rules.extend(outcome.rules.iter().cloned());
    let report = Report {
        findings: &outcome.findings,
        summary: &outcome.summary,
        sources: &outcome.sources,
        changes: &outcome.changes,
        rules: &rules,
        paths: &paths,
    };
    if args.verbose {
        if !outcome.rule_times.is_empty() {
            eprintln!("time per custom or imported rule:");
            for (id, t) in &outcome.rule_times {
                eprintln!("  {:>9.1} ms  {id}", t.as_secs_f64() * 1e3);
            }
        }
        print_verbose(&outcome.affected, &report);
    }
    let buf = emit(&report, format, &args.out, std::io::stdout().is_terminal())?;
    match &args.out.output {
        Some(p) => write_atomically(p, &buf)?,
        None => std::io::stdout().write_all(&buf)?,
    }
    if let Some(p) = &args.summary {
        let mut b = Vec::new();
        github::write_summary(&report, &mut b)?;
        write_atomically(p, &b)?;
    }
    if let Some(p) = &args.sarif_output {
        let mut b = Vec::new();
        sarif::emit(&report, &mut b)?;
        write_atomically(p, &b)?;
    }
    if let Some(p) = &args.json_output {
        let mut b = Vec::new();
        json::emit(&report, &mut b)?;
        write_atomically(p, &b)?;
    }
    phases.mark("report");
    Ok(args.out.fail_on.exit_code(&outcome.findings))
}

/// `--verbose`: which overlays were checked, and what the waivers hid from the report, and why.
pub(crate) fn print_verbose(affected: &[String], report: &Report) {
    if affected.is_empty() {
        eprintln!("affected overlays: none");
    } else {
        eprintln!("affected overlays ({}):", affected.len());
        for a in affected {
            eprintln!("  {}", human::visible(a));
        }
    }
    let waived: Vec<_> = report
        .findings
        .iter()
        .filter_map(|f| f.suppressed.as_ref().map(|w| (f, w)))
        .collect();
    if waived.is_empty() {
        return;
    }
    eprintln!("suppressed findings ({}):", waived.len());
    for (f, w) in waived {
        let at = |p: Option<kustodian::source::Position>| {
            p.map_or_else(|| "-".into(), |p| format!("{}:{}", p.file, p.line))
        };
        eprintln!(
            "  {}",
            human::visible(&format!(
                "{} {} [{}] waived at {}: {}",
                at(report.location(f)),
                f.rule,
                f.environment.as_deref().unwrap_or("-"),
                at(report.suppressed_at(f)),
                w.reason
            ))
        );
    }
}

pub(crate) fn merge_reports(reports: &[PathBuf], out: &Output) -> anyhow::Result<u8> {
    let mut all = Vec::new();
    for p in reports {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let r: json::JsonReport = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a kustodian JSON report", p.display()))?;
        all.push(r);
    }
    let merged = json::merge(all);
    let findings = json::findings(&merged);
    let sources = Sources::new();
    let rules = kustodian::rules::descriptors();
    let report = Report {
        rules: &rules,
        ..Report::new(&findings, &merged.summary, &sources)
    };
    let buf = emit(
        &report,
        out.format.unwrap_or(Format::Json),
        out,
        std::io::stdout().is_terminal(),
    )?;
    match &out.output {
        Some(p) => write_atomically(p, &buf)?,
        None => std::io::stdout().write_all(&buf)?,
    }
    Ok(out.fail_on.exit_code(&findings))
}

/// Writes the report in its format; the GitHub format also appends the step summary.
pub(crate) fn emit(
    report: &Report,
    format: Format,
    out: &Output,
    to_terminal: bool,
) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    match format {
        Format::Human => human::emit(
            report,
            &mut buf,
            human::HumanOptions {
                color: out.output.is_none() && use_color(out.color, to_terminal),
                quiet: out.quiet,
                ..Default::default()
            },
        )?,
        Format::Github => {
            github::emit(report, &mut buf, out.quiet)?;
            github::append_step_summary(report).context("writing $GITHUB_STEP_SUMMARY")?;
        }
        Format::Json => json::emit(report, &mut buf)?,
        Format::Sarif => sarif::emit(report, &mut buf)?,
        Format::Junit => junit::emit(report, &mut buf)?,
        Format::Gitlab => gitlab::emit(report, &mut buf)?,
    }
    Ok(buf)
}

pub(crate) fn default_format(format: Option<Format>) -> Format {
    format.unwrap_or(
        if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
            Format::Github
        } else {
            Format::Human
        },
    )
}

/// How reports name files: relative to the git work tree holding `dir`, else to `dir`.
pub(crate) fn path_base(dir: &Path, base: Option<&str>) -> PathBase {
    let mut paths = match kustodian::source::work_tree_of(dir) {
        Some((root, rel)) => PathBase::new(root, &rel),
        None => PathBase {
            root: dir.canonicalize().ok(),
            ..PathBase::default()
        },
    };
    if let Some(rev) = base {
        paths
            .revision_labels
            .push(format!("{}:", check::resolve_base(rev)));
    }
    paths
}

/// Whether to color: `--color` when it says so; else FORCE_COLOR or CLICOLOR_FORCE (set, not
/// `0`/`false`) turn colors on, NO_COLOR (set, not empty) turns them off, and otherwise a
/// terminal decides.
pub(crate) fn use_color(choice: Color, terminal: bool) -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .ok()
            .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
    };
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if set("FORCE_COLOR") || set("CLICOLOR_FORCE") => true,
        Color::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        Color::Auto => terminal,
    }
}

/// Writes a report (or a promoted file) whole: see `kustodian::output` (a temporary file and a
/// rename, through a symlink to its target, a FIFO or device directly, modes kept).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    kustodian::output::write_report(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}
