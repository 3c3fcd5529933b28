//! The rule catalog's commands: `rules` lists built-in, custom and imported rules, `explain`
//! prints one's documentation, `test` runs the repository's policy tests.

use std::path::Path;

use kustodian::report::{Report, human};
use kustodian::source::Sources;

/// The repository's custom and imported rules (exit code 2 when its config or policies do not
/// load: the errors are printed). With `render`, admission policies rendered into its
/// environments too; environments that do not render are named on stderr.
pub(crate) fn repo_rules(
    repo: &Path,
    policy: Option<&Path>,
    render: bool,
) -> Result<Vec<kustodian::diag::RuleDescriptor>, u8> {
    let catalog =
        kustodian::policies::catalog(repo, policy, render).map_err(|(findings, sources)| {
            print_fatal(&findings, &sources);
            2
        })?;
    if let Some(first) = catalog.unrendered.first() {
        eprintln!(
            "note: {} environment(s) did not render ({first}{}): admission policies rendered into them are not listed; `kustodian check` says why",
            catalog.unrendered.len(),
            if catalog.unrendered.len() > 1 {
                ", ..."
            } else {
                ""
            }
        );
    }
    Ok(catalog.rules)
}

pub(crate) fn print_fatal(findings: &[kustodian::diag::Finding], sources: &Sources) {
    let summary = Default::default();
    let report = Report::new(findings, &summary, sources);
    for f in findings {
        eprint!(
            "{}",
            human::render_finding(f, &report, human::HumanOptions::default())
        );
    }
}

/// `kustodian rules`: built-in rules, the error codes that share their id space, then the
/// repository's custom and imported rules (its environments rendered for the admission
/// policies rendered into them).
pub(crate) fn rules(repo: &Path, policy: Option<&Path>) -> u8 {
    let extra = match repo_rules(repo, policy, true) {
        Ok(x) => x,
        Err(code) => return code,
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
    0
}

/// `kustodian explain RULE`: a built-in rule's doc, an error code's meaning, or (reading the
/// repository's settings only then) a custom or imported rule's. The repository's environments
/// are rendered only for an admission policy (rendered there, or bound there) or an id found
/// nowhere else.
pub(crate) fn explain(rule: &str, repo: &Path, policy: Option<&Path>) -> u8 {
    if let Some(r) = kustodian::rules::lookup(rule) {
        println!("# {}\n\n{}", r.id, r.doc);
        return 0;
    }
    if let Some(c) = kustodian::diag::ErrorCode::from_id(rule) {
        println!(
            "# {}\n\n{}\n\nNot a rule: a finding that means kustodian could not evaluate the repository (exit code 2). It cannot be waived.",
            c.id(),
            c.summary()
        );
        return 0;
    }
    let mut extra = match repo_rules(repo, policy, false) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let found = extra.iter().find(|r| r.id == rule);
    if found.is_none_or(|r| r.origin.as_deref() == Some(kustodian::policies::vap::ORIGIN)) {
        extra = match repo_rules(repo, policy, true) {
            Ok(x) => x,
            Err(code) => return code,
        };
    }
    if let Some(r) = extra.iter().find(|r| r.id == rule) {
        println!("# {}\n\n{}", r.id, r.doc);
        return 0;
    }
    let ids: Vec<&str> = kustodian::rules::registry()
        .map(|r| r.id)
        .chain(extra.iter().map(|r| r.id.as_str()))
        .collect();
    eprintln!(
        "error: unknown rule '{}'; known rules: {}",
        human::visible(rule),
        ids.join(", ")
    );
    2
}

/// `kustodian test DIR`: every `kustodian-test.yaml` under DIR (exit 2 when there is none).
pub(crate) fn test(dir: &Path) -> anyhow::Result<u8> {
    use kustodian::policy_tests as test_runner;
    let (runs, sources) = test_runner::run_all(dir).map_err(anyhow::Error::msg)?;
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
