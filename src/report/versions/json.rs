//! `versions --format json`, documented by `schemas/versions.schema.json` (generated from these
//! types; a test fails when the committed schema drifts).

use std::io::{self, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::discover::Stage;
use crate::promotion::history::CommitInfo;
use crate::promotion::images::ImageRef;
use crate::promotion::versions::{EnvVersions, ImageVersion, Marker, Versions};
use crate::source::Position;

/// What each environment runs (`version` 1).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonVersions {
    /// Format version; incompatible changes bump it.
    pub(crate) version: u32,
    /// The commit whose history was read (`HEAD`); null when history was not read (no Git
    /// repository, or `--write`/`--check`).
    pub(crate) revision: Option<String>,
    pub(crate) apps: Vec<JsonApp>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonApp {
    pub(crate) app: String,
    /// In promotion order (dev → staging → production).
    pub(crate) environments: Vec<JsonEnvironment>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonEnvironment {
    pub(crate) environment: String,
    pub(crate) stage: Option<Stage>,
    pub(crate) images: Vec<JsonImage>,
    /// Present when the environment does not render (its images are then unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<JsonError>,
}

/// One image reference the environment runs.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonImage {
    /// The last path segment of the repository (what `promote --image` takes, as well as the
    /// repository).
    pub(crate) name: String,
    pub(crate) repository: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
    /// The line that sets it: the one to edit.
    pub(crate) location: Option<Position>,
    /// The commit that set this value; null without history or when it is not committed yet.
    pub(crate) commit: Option<JsonCommit>,
    /// `Kind/name container` of every container running it.
    pub(crate) containers: Vec<String>,
    pub(crate) markers: Vec<JsonMarker>,
    /// With `--history N`: the last N values in this environment, newest (the current one)
    /// first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history: Vec<JsonPast>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonCommit {
    /// Full commit id.
    pub(crate) sha: String,
    /// Committer time, RFC 3339 (UTC).
    pub(crate) date: String,
    /// Author name.
    pub(crate) author: String,
    /// First line of the commit message.
    pub(crate) subject: String,
}

/// What deserves a look.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum JsonMarker {
    /// Referenced by tag only.
    NoDigest,
    /// Production differs from staging, which runs `runs`: a promotion is pending.
    PendingPromotion { environment: String, runs: String },
    /// Production runs something this (staging) environment never ran in the history read.
    NotRunIn { environment: String },
}

/// A past value.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonPast {
    pub(crate) images: Vec<JsonReference>,
    /// The commit that set it; null when not committed yet.
    pub(crate) commit: Option<JsonCommit>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonReference {
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonError {
    pub(crate) message: String,
    pub(crate) location: Option<Position>,
}

fn commit(c: &CommitInfo) -> JsonCommit {
    JsonCommit {
        sha: c.sha.clone(),
        date: c.time.to_string(),
        author: c.author.clone(),
        subject: c.subject.clone(),
    }
}

fn reference(i: &ImageRef) -> JsonReference {
    JsonReference {
        tag: i.tag.clone(),
        digest: i.digest.clone(),
    }
}

fn marker(m: &Marker) -> JsonMarker {
    match m {
        Marker::NoDigest => JsonMarker::NoDigest,
        Marker::PendingPromotion { env, runs } => JsonMarker::PendingPromotion {
            environment: env.clone(),
            runs: runs.reference(),
        },
        Marker::NotRunIn { env } => JsonMarker::NotRunIn {
            environment: env.clone(),
        },
    }
}

fn image(i: &ImageVersion) -> JsonImage {
    JsonImage {
        name: i.image.name().to_string(),
        repository: i.image.repository.clone(),
        tag: i.image.tag.clone(),
        digest: i.image.digest.clone(),
        location: i.location.clone(),
        commit: i.commit.as_ref().map(commit),
        containers: i.containers.clone(),
        markers: i.markers.iter().map(marker).collect(),
        history: i
            .history
            .iter()
            .map(|p| JsonPast {
                images: p.images.iter().map(reference).collect(),
                commit: p.commit.as_ref().map(commit),
            })
            .collect(),
    }
}

fn environment(e: &EnvVersions) -> JsonEnvironment {
    JsonEnvironment {
        environment: e.environment.clone(),
        stage: e.stage,
        images: e.images.iter().map(image).collect(),
        error: e.error.as_ref().map(|err| JsonError {
            message: err.message.clone(),
            location: err.location.clone(),
        }),
    }
}

/// Builds the document.
pub(crate) fn build(v: &Versions) -> JsonVersions {
    JsonVersions {
        version: 1,
        revision: v.revision.clone(),
        apps: v
            .apps
            .iter()
            .map(|a| JsonApp {
                app: a.app.clone(),
                environments: a.environments.iter().map(environment).collect(),
            })
            .collect(),
    }
}

/// Writes `versions --format json`: the [`JsonVersions`] document, pretty-printed.
pub fn emit(v: &Versions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(v))?;
    writeln!(out)
}
