//! Output of `kustodian versions`: one emitter per format (a terminal table, markdown for
//! `VERSIONS.md` and step summaries, JSON documented by `schemas/versions.schema.json`), all
//! reading the same [`Versions`](crate::promotion::versions::Versions).

pub mod json;
pub mod markdown;
pub mod table;

use crate::promotion::versions::{AppVersions, ImageVersion, Marker};

/// The repositories an app's environments run, in order, each with its images per environment
/// (an environment may run several references of one repository).
pub(crate) fn rows(app: &AppVersions) -> Vec<(String, Vec<Vec<&ImageVersion>>)> {
    let mut repos: Vec<String> = app
        .environments
        .iter()
        .flat_map(|e| e.images.iter().map(|i| i.image.repository.clone()))
        .collect();
    repos.sort();
    repos.dedup();
    repos
        .into_iter()
        .map(|repo| {
            let cells = app
                .environments
                .iter()
                .map(|e| {
                    e.images
                        .iter()
                        .filter(|i| i.image.repository == repo)
                        .collect()
                })
                .collect();
            (repo, cells)
        })
        .collect()
}

/// A marker in a few words, for a table cell.
pub(crate) fn marker_short(m: &Marker) -> String {
    match m {
        Marker::NoDigest => "no digest".into(),
        Marker::PendingPromotion { env, .. } => format!("behind {env}"),
        Marker::NotRunIn { env } => format!("never ran in {env}"),
    }
}

/// A marker explained, for the notes under a table.
pub(crate) fn marker_long(m: &Marker) -> Option<String> {
    match m {
        Marker::NoDigest => None,
        Marker::PendingPromotion { env, runs } => Some(format!(
            "pending promotion: {env} runs {}",
            runs.short_version()
        )),
        Marker::NotRunIn { env } => Some(format!(
            "runs a version {env} never ran (in the history read)"
        )),
    }
}

/// A location relative to the app's directory when inside it (tables are per app).
pub(crate) fn short_path<'a>(app_dir: &str, file: &'a str) -> &'a str {
    if app_dir.is_empty() || app_dir == "." {
        return file;
    }
    file.strip_prefix(app_dir)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(file)
}
