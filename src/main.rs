//! The `kustodian` command line: argument parsing, then library calls, then an exit code
//! (0 clean, 1 policy violations, 2 could not evaluate — clap's usage errors exit 2 too).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use kustodian::check::{self, CheckOptions, FailOn};
use kustodian::render::Renderer;
use kustodian::report::{PathBase, Report, github, gitlab, human, json, junit, sarif};

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
    /// Remote bases (git URLs in `resources:`/`components:`): `cache` uses the commits
    /// `kustodian fetch` recorded and never touches the network; `fetch` fetches them first;
    /// `deny` refuses them (docs/remote.md).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "cache",
        env = "KUSTODIAN_REMOTE"
    )]
    remote: RemoteMode,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RemoteMode {
    Fetch,
    Cache,
    Deny,
}

#[derive(Subcommand)]
enum SchemasCommand {
    /// Print the bundled Kubernetes versions and their kinds.
    List,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Diagnostics with source snippets.
    Human,
    /// Workflow-command annotations and the step summary (GitHub Actions).
    Github,
    /// The JSON report (schemas/report.schema.json).
    Json,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
    /// JUnit XML (GitLab, Jenkins, Azure Pipelines test reports).
    Junit,
    /// GitLab Code Quality.
    Gitlab,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VersionsFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// How reports are written, for `check` and `merge-reports`.
#[derive(Args)]
struct Output {
    /// Output format (default: `github` when GITHUB_ACTIONS=true, else `human`).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, short, value_parser = output_file)]
    output: Option<PathBuf>,
    /// Colors in human output (`auto`: on a terminal, unless NO_COLOR is set; FORCE_COLOR or
    /// CLICOLOR_FORCE turn them on anyway).
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    /// Print findings only: no summary line, nothing when clean.
    #[arg(long, short)]
    quiet: bool,
    /// Which findings make the exit code 1: a severity (`error`, `warning`: errors and warnings,
    /// `never`) and/or, in pull-request mode, a scope (`new`: findings the change brings, `all`:
    /// also those the base revision had), e.g. `warning,new` or `error,all`.
    #[arg(long, value_name = "error|warning|never,new|all", default_value = "error,new", value_parser = FailOn::from_str)]
    fail_on: FailOn,
}

#[derive(Args)]
struct CheckArgs {
    /// Repository root, or `-` to read rendered manifests from standard input (one environment:
    /// `--env` names it and so gives its stage).
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    out: Output,
    /// Also write a SARIF report to this file.
    #[arg(long)]
    sarif_output: Option<PathBuf>,
    /// Also write a JSON report to this file.
    #[arg(long)]
    json_output: Option<PathBuf>,
    /// Policy file extending/overriding the built-in policy.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Run only these rules (comma-separated or repeated ids; `kustodian rules` lists them).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Turn these rules off for this run (comma-separated or repeated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// Only this environment (repeatable); with `-`, the environment the manifests are.
    #[arg(long = "env")]
    envs: Vec<String>,
    /// Only this app (repeatable).
    #[arg(long = "app")]
    apps: Vec<String>,
    /// Pull-request mode: compare with this base revision (a commit-ish, or `auto` for the
    /// PR's base branch) and check only overlays whose inputs changed.
    #[arg(long)]
    base: Option<String>,
    /// Who made the change (default: $GITHUB_ACTOR), for `bot-write-scope`.
    #[arg(long)]
    actor: Option<String>,
    /// Print which overlays were checked (pull-request mode) and the suppressed findings
    /// with their reasons, on stderr.
    #[arg(long, short, conflicts_with = "quiet")]
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
    /// Kubernetes version to validate against (a bundled one: `kustodian schemas list`;
    /// default: the policy's, else the newest).
    #[arg(long)]
    kubernetes_version: Option<String>,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Check every app and environment of a config repository (or manifests on stdin: `-`).
    Check(CheckArgs),
    /// List the apps and environments a check will check, where each was found, and which
    /// staging environment each production environment is compared with.
    Envs {
        /// Repository root.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: ListFormat,
    },
    /// Merge JSON reports of sharded runs into one report, in any format (exit code as for
    /// `check`).
    MergeReports {
        /// JSON reports written by `check --format json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[command(flatten)]
        out: Output,
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
    /// Show which image every environment runs, where it is set, and the commit that set it.
    Versions {
        /// Repository root.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Only this app (repeatable).
        #[arg(long = "app")]
        apps: Vec<String>,
        /// Output format (default: `table`; `markdown` with --write/--check).
        #[arg(long, value_enum)]
        format: Option<VersionsFormat>,
        /// Also list the last N values of each image in each environment, with their commits.
        #[arg(long, value_name = "N", conflicts_with_all = ["write", "check"])]
        history: Option<usize>,
        /// Write the output to FILE (atomically). What is written depends on the tree alone
        /// (no commits), so the file changes exactly when what runs changes.
        #[arg(long, value_name = "FILE", conflicts_with = "check")]
        write: Option<PathBuf>,
        /// Exit 1 when FILE differs from what --write would write.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
        /// Count ages to this time (RFC 3339) instead of now.
        #[arg(long)]
        now: Option<String>,
    },
    /// Promote an app's images to an environment: set them where they are set today to what the
    /// previous environment runs (or to --digest/--tag), check, then write (and commit).
    Promote {
        /// The app to promote.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        app: Option<String>,
        /// The environment to promote to.
        #[arg(long)]
        to: String,
        /// The environment to promote from (default: the one before --to).
        #[arg(long)]
        from: Option<String>,
        /// Only this image (its repository, or the repository's last path segment).
        #[arg(long)]
        image: Option<String>,
        /// Set this digest (sha256:...) instead of what --from runs.
        #[arg(long, conflicts_with = "tag")]
        digest: Option<String>,
        /// Set this tag instead of what --from runs.
        #[arg(long)]
        tag: Option<String>,
        /// Promote every app whose --to environment runs something else than the one before.
        #[arg(long)]
        all: bool,
        /// Print the edits as a diff and what the checks say; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Commit the promotion (`chore(<env>): promote <app> to <digest>`).
        #[arg(long, conflicts_with = "dry_run")]
        commit: bool,
        /// Write the promotion even when the checks fail.
        #[arg(long)]
        force: bool,
        /// When the image is set in a file other environments also read, add an `images:`
        /// entry to the target overlay instead of refusing.
        #[arg(long)]
        create: bool,
        /// Policy file extending/overriding the built-in policy (as for `check`).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Repository root.
        #[arg(long, short = 'C', default_value = ".")]
        repo: PathBuf,
    },
    /// Fetch the remote bases (git URLs in `resources:`) of the kustomizations at or below PATH
    /// into the cache, recording the commit each ref resolves to.
    ///
    /// The remote bases the fetched bases name are fetched too. The cache is
    /// `$KUSTODIAN_CACHE_DIR`, else `$XDG_CACHE_HOME/kustodian`, else `~/.cache/kustodian`;
    /// `check` and `render` then read it without the network (`--remote cache`, the default).
    /// Exit 2 when a base could not be fetched (each is reported at its line).
    Fetch {
        /// Repository (or directory) whose kustomizations to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
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
        /// Render this environment (`APP/ENV`, or `ENV` when one app has it) of the repository
        /// DIR as its GitOps controller does: with the Argo CD Application's or Flux
        /// Kustomization's overrides, Flux's generated kustomization and post-build
        /// substitution, Argo CD's directory sources (see `kustodian envs`). Repeatable.
        #[arg(long = "env", value_name = "APP/ENV")]
        envs: Vec<String>,
    },
    /// Print a rule's documentation (built in, or a custom or imported rule of the repository).
    Explain {
        /// Rule id (see `kustodian rules`).
        rule: String,
        /// Repository root (for its custom and imported rules).
        #[arg(long, short = 'C', default_value = ".")]
        repo: PathBuf,
        /// Policy file with custom rules (as for `check`).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// List the rules: built in, then the repository's custom and imported ones.
    Rules {
        /// Repository root (for its custom and imported rules).
        #[arg(long, short = 'C', default_value = ".")]
        repo: PathBuf,
        /// Policy file with custom rules (as for `check`).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Run the policy tests (`kustodian-test.yaml` files) under a directory: each names
    /// policies, objects and the result expected per rule and object (pass, fail, skip).
    Test {
        /// Directory holding the test files (searched recursively).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Bundled Kubernetes schemas.
    Schemas {
        #[command(subcommand)]
        what: SchemasCommand,
    },
    /// Print a shell completion script (e.g. `kustodian completions bash > /etc/bash_completion.d/kustodian`).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): `kustodian man > kustodian.1`.
    Man,
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
    if let Err(e) = set_remote_mode(&cli) {
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
        Command::Rules { repo, policy } => {
            let extra = match repo_rules(&repo, policy.as_deref()) {
                Ok(x) => x,
                Err(code) => return Ok(code),
            };
            let codes = kustodian::diag::ErrorCode::ALL;
            let width = kustodian::rules::registry()
                .map(|r| r.id.len())
                .chain(codes.iter().map(|c| c.id().len()))
                .chain(extra.iter().map(|r| r.id.len()))
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
            for r in &extra {
                println!(
                    "{:<width$}  {:<8} {} ({})",
                    r.id,
                    r.default_severity.map_or("off", |s| s.as_str()),
                    r.summary,
                    r.origin.as_deref().unwrap_or("custom")
                );
            }
            Ok(0)
        }
        Command::Explain { rule, repo, policy } => match kustodian::rules::lookup(&rule) {
            Some(r) => {
                println!("# {}\n\n{}", r.id, r.doc);
                Ok(0)
            }
            None if kustodian::diag::ErrorCode::from_id(&rule).is_none() => {
                let extra = match repo_rules(&repo, policy.as_deref()) {
                    Ok(x) => x,
                    Err(code) => return Ok(code),
                };
                match extra.iter().find(|r| r.id == rule) {
                    Some(r) => {
                        println!("# {}\n\n{}", r.id, r.doc);
                        Ok(0)
                    }
                    None => {
                        let ids: Vec<&str> = kustodian::rules::registry()
                            .map(|r| r.id)
                            .chain(extra.iter().map(|r| r.id.as_str()))
                            .collect();
                        eprintln!(
                            "error: unknown rule '{}'; known rules: {}",
                            human::visible(&rule),
                            ids.join(", ")
                        );
                        Ok(2)
                    }
                }
            }
            None => {
                let c = kustodian::diag::ErrorCode::from_id(&rule).expect("checked above");
                println!(
                    "# {}\n\n{}\n\nNot a rule: a finding that means kustodian could not evaluate the repository (exit code 2). It cannot be waived.",
                    c.id(),
                    c.summary()
                );
                Ok(0)
            }
        },
        Command::Render { dirs, envs, .. } if !envs.is_empty() => render_envs(&dirs, &envs),
        Command::Render { dirs, root, .. } => render(&dirs, root.as_deref()),
        Command::Test { dir } => {
            use kustodian::policy_tests as test_runner;
            let (runs, sources) = test_runner::run_all(&dir).map_err(anyhow::Error::msg)?;
            if runs.is_empty() {
                eprintln!(
                    "error: no {} under {}",
                    test_runner::FILE_NAME,
                    dir.display()
                );
                return Ok(2);
            }
            print!("{}", test_runner::render(&runs, &sources));
            Ok(test_runner::exit_code(&runs))
        }
        Command::Envs { path, format } => envs(&path, format),
        Command::Promote {
            app,
            to,
            from,
            image,
            digest,
            tag,
            all,
            dry_run,
            commit,
            force,
            create,
            policy,
            repo,
        } => promote(
            &kustodian::promotion::promote::PromoteOptions {
                root: repo,
                app,
                all,
                to,
                from,
                image,
                digest,
                tag,
                create,
                force,
                commit,
                policy,
            },
            dry_run,
        ),
        Command::Versions {
            path,
            apps,
            format,
            history,
            write,
            check,
            now,
        } => versions(VersionsArgs {
            path,
            apps,
            format,
            history,
            write,
            check,
            now,
        }),
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
        Command::MergeReports { reports, out } => merge_reports(&reports, &out),
        Command::Diff { path, base, color } => {
            let color = use_color(color, std::io::stdout().is_terminal());
            match kustodian::diff::rendered_diff(&path, &base, color) {
                Ok(text) => {
                    std::io::stdout().write_all(text.as_bytes())?;
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {}", human::visible(&e));
                    Ok(2)
                }
            }
        }
        Command::Check(args) => check(args),
        Command::Fetch { path } => fetch(&path),
    }
}

/// `--remote` for the whole run; `kustodian fetch` always fetches.
fn set_remote_mode(cli: &Cli) -> Result<(), String> {
    use kustodian::source::remote::{Mode, Settings, set};
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
fn fetch(path: &Path) -> anyhow::Result<u8> {
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
    let labels = vec![String::new(); outcome.errors.len()];
    let failed: Vec<_> = outcome.errors.into_iter().map(Err).collect();
    if failed.is_empty() {
        return Ok(0);
    }
    print_builds(&labels, failed, &sources)
}

/// Whether to color: `--color` when it says so; else FORCE_COLOR or CLICOLOR_FORCE (set, not
/// `0`/`false`) turn colors on, NO_COLOR (set, not empty) turns them off, and otherwise a
/// terminal decides.
fn use_color(choice: Color, terminal: bool) -> bool {
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

/// `-o` names a file; kubeconform and conftest users type `-o json` for a format.
fn output_file(s: &str) -> Result<PathBuf, String> {
    if Format::from_str(s, true).is_ok() {
        return Err(format!(
            "'{s}' is a report format, and -o/--output names a file: did you mean `--format {s}`? (for a file of that name, write `./{s}`)"
        ));
    }
    Ok(PathBuf::from(s))
}

/// How reports name files: relative to the git work tree holding `dir`, else to `dir`.
fn path_base(dir: &Path, base: Option<&str>) -> PathBase {
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

/// Writes the report in its format; the GitHub format also appends the step summary.
fn emit(
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

fn default_format(format: Option<Format>) -> Format {
    format.unwrap_or(
        if std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true") {
            Format::Github
        } else {
            Format::Human
        },
    )
}

fn merge_reports(reports: &[PathBuf], out: &Output) -> anyhow::Result<u8> {
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

fn check(args: CheckArgs) -> anyhow::Result<u8> {
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
fn print_verbose(affected: &[String], report: &Report) {
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
            p.map(|p| format!("{}:{}", p.file, p.line))
                .unwrap_or_else(|| "-".into())
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
fn render_envs(dirs: &[PathBuf], wanted: &[String]) -> anyhow::Result<u8> {
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
fn print_builds(
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

struct VersionsArgs {
    path: PathBuf,
    apps: Vec<String>,
    format: Option<VersionsFormat>,
    history: Option<usize>,
    write: Option<PathBuf>,
    check: Option<PathBuf>,
    now: Option<String>,
}

fn versions(a: VersionsArgs) -> anyhow::Result<u8> {
    use kustodian::promotion::versions::{VersionsOptions, collect};
    use kustodian::report::versions::{json, markdown, table};
    let now = match a.now.as_deref().map(str::parse::<jiff::Timestamp>) {
        None => jiff::Timestamp::now(),
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            anyhow::bail!("--now: expected an RFC 3339 time (e.g. 2026-11-27T17:00:00Z)")
        }
    };
    // A file that is checked for staleness holds what the tree says, not who committed it.
    let to_file = a.write.is_some() || a.check.is_some();
    let opts = VersionsOptions {
        apps: a.apps,
        git: !to_file,
        history: a.history.unwrap_or(0),
    };
    let v = match collect(&a.path, &opts) {
        Ok(v) => v,
        Err(e) => return Ok(promotion_error(e)),
    };
    let format = a.format.unwrap_or(if to_file {
        VersionsFormat::Markdown
    } else {
        VersionsFormat::Table
    });
    let mut buf = Vec::new();
    match format {
        VersionsFormat::Table => table::emit(
            &v,
            &mut buf,
            table::TableOptions {
                now,
                history: a.history.is_some(),
            },
        )?,
        VersionsFormat::Json => json::emit(&v, &mut buf)?,
        VersionsFormat::Markdown => markdown::emit(&v, &mut buf)?,
    }
    if v.has_errors() {
        // Shown (the failing environments say why), never written or compared.
        std::io::stdout().write_all(&buf)?;
        eprintln!("error: some environments do not render (see the notes above)");
        return Ok(2);
    }
    if let Some(p) = &a.write {
        write_atomically(p, &buf)?;
        return Ok(0);
    }
    if let Some(p) = &a.check {
        let have = std::fs::read(p).unwrap_or_default();
        if have == buf {
            eprintln!("{} is up to date", p.display());
            return Ok(0);
        }
        let diff = similar::TextDiff::from_lines(
            String::from_utf8_lossy(&have).as_ref(),
            String::from_utf8_lossy(&buf).as_ref(),
        )
        .unified_diff()
        .header(&p.display().to_string(), "kustodian versions")
        .to_string();
        eprint!("{diff}");
        eprintln!(
            "error: {} is stale; regenerate it with `kustodian versions --write {}`",
            p.display(),
            p.display()
        );
        return Ok(1);
    }
    std::io::stdout().write_all(&buf)?;
    Ok(0)
}

fn promote(
    opts: &kustodian::promotion::promote::PromoteOptions,
    dry_run: bool,
) -> anyhow::Result<u8> {
    use kustodian::report::promotion::{Done, emit};
    let plan = match kustodian::promotion::promote::plan(opts) {
        Ok(p) => p,
        Err(e) => return Ok(promotion_error(e)),
    };
    let mut done = Done {
        dry_run,
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        ..Done::default()
    };
    if !dry_run {
        for p in plan.promotions.iter().filter(|p| p.writes()) {
            for f in &p.files {
                write_atomically(&opts.root.join(&f.path), f.after.as_bytes())?;
            }
            if opts.commit {
                let files: Vec<String> = p.files.iter().map(|f| f.path.clone()).collect();
                match kustodian::promotion::commit::commit(&opts.root, &files, &p.commit_message())
                {
                    Ok(sha) => {
                        done.commits.insert(p.app.clone(), sha);
                    }
                    Err(e) => {
                        eprintln!(
                            "error: {}/{} is written but not committed: {e}",
                            p.app, p.to
                        );
                        return Ok(2);
                    }
                }
            }
        }
    }
    let mut out = std::io::stdout().lock();
    emit(&plan, &done, &mut out)?;
    Ok(plan.exit_code())
}

/// Reports a promotion command's failure to evaluate (exit 2).
fn promotion_error(e: kustodian::promotion::PromotionError) -> u8 {
    match e {
        kustodian::promotion::PromotionError::Findings(findings, sources) => {
            let summary = Default::default();
            let report = Report::new(&findings, &summary, &sources);
            for f in &findings {
                eprint!(
                    "{}",
                    human::render_finding(f, &report, human::HumanOptions::default())
                );
            }
        }
        e => eprintln!("error: {e}"),
    }
    2
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

/// Writes a report (or a promoted file) whole: see `kustodian::output` (a temporary file and a
/// rename, through a symlink to its target, a FIFO or device directly, modes kept).
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    kustodian::output::write_report(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// The repository's custom and imported rules (exit code 2 when its config or policies do not
/// load: the errors are printed).
fn repo_rules(
    repo: &Path,
    policy: Option<&Path>,
) -> Result<Vec<kustodian::diag::RuleDescriptor>, u8> {
    kustodian::policies::catalog(repo, policy).map_err(|(findings, sources)| {
        print_fatal(&findings, &sources);
        2
    })
}

fn print_fatal(findings: &[kustodian::diag::Finding], sources: &Sources) {
    let summary = Default::default();
    let report = Report::new(findings, &summary, sources);
    for f in findings {
        eprint!(
            "{}",
            human::render_finding(f, &report, human::HumanOptions::default())
        );
    }
}

/// `kustodian envs`: what discovery finds (exit 2 when the repository cannot be read or its
/// config is invalid).
fn envs(path: &Path, format: ListFormat) -> anyhow::Result<u8> {
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
