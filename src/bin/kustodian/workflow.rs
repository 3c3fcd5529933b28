//! The promotion workflow's commands: `versions` (which image each environment runs, and since
//! which commit) and `promote` (write, check and commit a promotion).

use std::io::{IsTerminal, Write};

use kustodian::report::{Report, human};

use crate::args::{PromoteArgs, VersionsArgs, VersionsFormat};
use crate::report::write_atomically;

pub(crate) fn versions(a: VersionsArgs) -> anyhow::Result<u8> {
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

pub(crate) fn promote(a: PromoteArgs) -> anyhow::Result<u8> {
    let opts = &kustodian::promotion::promote::PromoteOptions {
        root: a.repo,
        app: a.app,
        all: a.all,
        to: a.to,
        from: a.from,
        image: a.image,
        digest: a.digest,
        tag: a.tag,
        create: a.create,
        force: a.force,
        commit: a.commit,
        policy: a.policy,
    };
    let dry_run = a.dry_run;
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
pub(crate) fn promotion_error(e: kustodian::promotion::PromotionError) -> u8 {
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
