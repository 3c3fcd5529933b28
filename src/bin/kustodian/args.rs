//! The command line's shape: every subcommand, argument and value enum, parsed by clap. The
//! help text is these doc comments; what each command does is in the modules beside this one.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

use kustodian::check::FailOn;

#[derive(Parser)]
#[command(
    name = "kustodian",
    version,
    about = "Guards environment promotion in GitOps config repos: renders every Kustomize overlay natively, checks promotion rules, and points at the line to edit."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Raise or lower budgets, e.g. `file-bytes=256MiB,depth=512` (names and defaults in
    /// docs/security.md: file-bytes, tree-bytes, depth, nodes, alias-nodes, documents, nesting).
    #[arg(long, global = true, value_name = "NAME=VALUE,...")]
    pub(crate) limits: Option<String>,
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
    pub(crate) remote: RemoteMode,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RemoteMode {
    Fetch,
    Cache,
    Deny,
}

#[derive(Subcommand)]
pub(crate) enum SchemasCommand {
    /// Print the bundled Kubernetes versions and their kinds.
    List,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
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
pub(crate) enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum VersionsFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// How reports are written, for `check` and `merge-reports`.
#[derive(Args)]
pub(crate) struct Output {
    /// Output format (default: `github` when GITHUB_ACTIONS=true, else `human`).
    #[arg(long, value_enum)]
    pub(crate) format: Option<Format>,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, short, value_parser = output_file)]
    pub(crate) output: Option<PathBuf>,
    /// Colors in human output (`auto`: on a terminal, unless NO_COLOR is set; FORCE_COLOR or
    /// CLICOLOR_FORCE turn them on anyway).
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) color: Color,
    /// Print findings only: no summary line, nothing when clean.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Which findings make the exit code 1: a severity (`error`, `warning`: errors and warnings,
    /// `never`) and/or, in pull-request mode, a scope (`new`: findings the change brings, `all`:
    /// also those the base revision had), e.g. `warning,new` or `error,all`.
    #[arg(long, value_name = "error|warning|never,new|all", default_value = "error,new", value_parser = FailOn::from_str)]
    pub(crate) fail_on: FailOn,
}

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// Repository root, or `-` to read rendered manifests from standard input (one environment:
    /// `--env` names it and so gives its stage).
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    #[command(flatten)]
    pub(crate) out: Output,
    /// Also write a SARIF report to this file.
    #[arg(long)]
    pub(crate) sarif_output: Option<PathBuf>,
    /// Also write a JSON report to this file.
    #[arg(long)]
    pub(crate) json_output: Option<PathBuf>,
    /// Policy file extending/overriding the built-in policy.
    #[arg(long)]
    pub(crate) policy: Option<PathBuf>,
    /// Run only these rules (comma-separated or repeated ids; `kustodian rules` lists them).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub(crate) select: Vec<String>,
    /// Turn these rules off for this run (comma-separated or repeated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub(crate) ignore: Vec<String>,
    /// Only this environment (repeatable); with `-`, the environment the manifests are.
    #[arg(long = "env")]
    pub(crate) envs: Vec<String>,
    /// Only this app (repeatable).
    #[arg(long = "app")]
    pub(crate) apps: Vec<String>,
    /// Pull-request mode: compare with this base revision (a commit-ish, or `auto` for the
    /// PR's base branch) and check only overlays whose inputs changed.
    #[arg(long)]
    pub(crate) base: Option<String>,
    /// Who made the change (default: $GITHUB_ACTOR), for `bot-write-scope`.
    #[arg(long)]
    pub(crate) actor: Option<String>,
    /// Print which overlays were checked (pull-request mode) and the suppressed findings
    /// with their reasons, on stderr.
    #[arg(long, short, conflicts_with = "quiet")]
    pub(crate) verbose: bool,
    /// Check only shard I of N (e.g. `2/4`): apps are split deterministically, so a CI matrix
    /// of N jobs covers every app once. Merge the JSON reports with `merge-reports`.
    #[arg(long, value_parser = parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,
    /// Judge freeze windows at this time (RFC 3339) instead of now; for tests and replays.
    #[arg(long)]
    pub(crate) now: Option<String>,
    /// Write the markdown summary (findings, and in pull-request mode the rendered changes)
    /// to this file.
    #[arg(long)]
    pub(crate) summary: Option<PathBuf>,
    /// Kubernetes version to validate against (a bundled one: `kustodian schemas list`;
    /// default: the policy's, else the newest).
    #[arg(long)]
    pub(crate) kubernetes_version: Option<String>,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum Command {
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
    Versions(VersionsArgs),
    /// Promote an app's images to an environment: set them where they are set today to what the
    /// previous environment runs (or to --digest/--tag), check, then write (and commit).
    Promote(PromoteArgs),
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
    ///
    /// An id that is no built-in rule and none of the repository's custom rules, admission
    /// policies and Rego rules from its files is looked for among the admission policies
    /// rendered into its environments: the repository is then rendered, as `check` renders it.
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
    ///
    /// The repository's environments are rendered, as `check` renders them, to list the
    /// ValidatingAdmissionPolicies rendered into them too; an admission policy is listed at the
    /// level its bindings give (the strongest, when several bind it; `off` when none does).
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

// `kustodian versions`: see `workflow::versions`.
#[derive(Args)]
pub(crate) struct VersionsArgs {
    /// Repository root.
    #[arg(default_value = ".")]
    pub(crate) path: PathBuf,
    /// Only this app (repeatable).
    #[arg(long = "app")]
    pub(crate) apps: Vec<String>,
    /// Output format (default: `table`; `markdown` with --write/--check).
    #[arg(long, value_enum)]
    pub(crate) format: Option<VersionsFormat>,
    /// Also list the last N values of each image in each environment, with their commits.
    #[arg(long, value_name = "N", conflicts_with_all = ["write", "check"])]
    pub(crate) history: Option<usize>,
    /// Write the output to FILE (atomically). What is written depends on the tree alone
    /// (no commits), so the file changes exactly when what runs changes.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub(crate) write: Option<PathBuf>,
    /// Exit 1 when FILE differs from what --write would write.
    #[arg(long, value_name = "FILE")]
    pub(crate) check: Option<PathBuf>,
    /// Count ages to this time (RFC 3339) instead of now.
    #[arg(long)]
    pub(crate) now: Option<String>,
}

// `kustodian promote`: see `workflow::promote`.
#[derive(Args)]
pub(crate) struct PromoteArgs {
    /// The app to promote.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) app: Option<String>,
    /// The environment to promote to.
    #[arg(long)]
    pub(crate) to: String,
    /// The environment to promote from (default: the one before --to).
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Only this image (its repository, or the repository's last path segment).
    #[arg(long)]
    pub(crate) image: Option<String>,
    /// Set this digest (sha256:...) instead of what --from runs.
    #[arg(long, conflicts_with = "tag")]
    pub(crate) digest: Option<String>,
    /// Set this tag instead of what --from runs.
    #[arg(long)]
    pub(crate) tag: Option<String>,
    /// Promote every app whose --to environment runs something else than the one before.
    #[arg(long)]
    pub(crate) all: bool,
    /// Print the edits as a diff and what the checks say; write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Commit the promotion (`chore(<env>): promote <app> to <digest>`).
    #[arg(long, conflicts_with = "dry_run")]
    pub(crate) commit: bool,
    /// Write the promotion even when the checks fail.
    #[arg(long)]
    pub(crate) force: bool,
    /// When the image is set in a file other environments also read, add an `images:`
    /// entry to the target overlay instead of refusing.
    #[arg(long)]
    pub(crate) create: bool,
    /// Policy file extending/overriding the built-in policy (as for `check`).
    #[arg(long)]
    pub(crate) policy: Option<PathBuf>,
    /// Repository root.
    #[arg(long, short = 'C', default_value = ".")]
    pub(crate) repo: PathBuf,
}

/// `-o` names a file; kubeconform and conftest users type `-o json` for a format.
pub(crate) fn output_file(s: &str) -> Result<PathBuf, String> {
    if Format::from_str(s, true).is_ok() {
        return Err(format!(
            "'{s}' is a report format, and -o/--output names a file: did you mean `--format {s}`? (for a file of that name, write `./{s}`)"
        ));
    }
    Ok(PathBuf::from(s))
}

pub(crate) fn parse_shard(s: &str) -> Result<(usize, usize), String> {
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
