//! `image-automation-in-production`: production values that image automation may rewrite.

use std::collections::BTreeMap;

use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, add_environment, docs, finding};
use crate::diag::Finding;
use crate::render::Build;
use crate::settings::{Level, RuleSettings, Stage};
use crate::source::{FileId, Loc, Sources};
use crate::yaml::{Node, Value};

/// Production runs values that Flux image automation (a `$imagepolicy` setter marker) or Argo CD Image Updater may change without a reviewed change.
///
/// **What.** In the environments the policy names (default: the production stage): a Flux
/// image-automation setter marker (`# {"$imagepolicy": "<namespace>:<policy>"}`, also with
/// `:tag`, `:name` or `:digest`) on a line that sets a value the environment renders — Flux's
/// ImageUpdateAutomation rewrites such lines and pushes the result; and an Argo CD `Application`
/// (or an `ApplicationSet`'s template) rendered there with Argo CD Image Updater annotations
/// (`argocd-image-updater.argoproj.io/...`). A marker in a shared base whose value production
/// overrides (with its own `images:` entry or patch) does not reach production and is not
/// reported.
///
/// **Why.** For production, disable automation and keep the human pull-request gate: an image
/// that moves by itself skips review, skips staging, and is not what `digest-not-promoted` and
/// `promotion-drift` judged.
///
/// **Example.** `apps/shop/overlays/production/image.yaml` patches
/// `image: registry.example.com/shop@sha256:… # {"$imagepolicy": "flux-system:shop"}`.
///
/// **Fix.** Remove the marker from what production reads (keep automation in dev, where the
/// marker belongs), or the annotations from the production Application, and promote with
/// `kustodian promote <app> --to production`.
///
/// **Config.** `severity` (default warning), `stages`/`environments`.
pub(crate) struct ImageAutomationInProduction;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: "image-automation-in-production",
    doc: docs::IMAGE_AUTOMATION_IN_PRODUCTION,
    default_level: Level::Warning,
    default_stages: Some(&[Stage::Production]),
    pull_request_only: false,
    options: OptionsType::of::<NoOptions>(),
};

/// The annotation prefix of Argo CD Image Updater.
const IMAGE_UPDATER: &str = "argocd-image-updater.argoproj.io/";

/// A setter marker: the comment's span, its line's span, and the policy it names.
struct Marker {
    comment: Loc,
    line: (usize, usize),
    policy: String,
}

/// The Flux setter markers of a file (`# {"$imagepolicy": "ns:policy[:field]"}`).
fn markers(file: FileId, text: &str) -> Vec<Marker> {
    if !text.contains("$imagepolicy") {
        return vec![];
    }
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        // A comment starts at a `#` after white space (or at the line's start); the marker is
        // the JSON object after it.
        let comments = line.match_indices('#').map(|(i, _)| i).filter(|&i| {
            line[..i]
                .chars()
                .next_back()
                .is_none_or(char::is_whitespace)
        });
        for hash in comments.filter(|_| line.contains("$imagepolicy")) {
            let setter: Option<std::collections::BTreeMap<String, String>> =
                serde_json::from_str(line[hash + 1..].trim()).ok();
            if let Some(policy) = setter.as_ref().and_then(|m| m.get("$imagepolicy")) {
                out.push(Marker {
                    comment: Loc::new(file, start + hash, start + line.trim_end().len()),
                    line: (start, end),
                    policy: policy.clone(),
                });
                break;
            }
        }
        start = end;
    }
    out
}

/// Where every rendered value was set (its blame location), by file.
fn value_sites(build: &Build) -> BTreeMap<FileId, Vec<u32>> {
    fn walk(n: &Node, out: &mut BTreeMap<FileId, Vec<u32>>) {
        match &n.value {
            Value::Map(map) => map.entries.iter().for_each(|e| walk(&e.value, out)),
            Value::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {
                let at = n.blame();
                if at.is_some() {
                    out.entry(at.file).or_default().push(at.start);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for r in &build.resources {
        walk(&r.node, &mut out);
    }
    out
}

/// The setter markers on lines that set a value the build renders.
fn reaching_markers(build: &Build, sources: &Sources) -> Vec<Marker> {
    let mut out = Vec::new();
    for (file, starts) in value_sites(build) {
        let Some(f) = sources.get(file) else { continue };
        for m in markers(file, &f.text) {
            if starts
                .iter()
                .any(|&s| (m.line.0..m.line.1).contains(&(s as usize)))
            {
                out.push(m);
            }
        }
    }
    out
}

/// The first Argo CD Image Updater annotation of an Application (or ApplicationSet template).
fn image_updater(r: &crate::render::Resource) -> Option<(Loc, String)> {
    let path: &[&str] = match (r.id().group.as_str(), r.kind()) {
        ("argoproj.io", "Application") => &["metadata", "annotations"],
        ("argoproj.io", "ApplicationSet") => &["spec", "template", "metadata", "annotations"],
        _ => return None,
    };
    let annotations = r.node.get_path(path)?.as_map()?;
    annotations
        .entries
        .iter()
        .find(|e| e.key.starts_with(IMAGE_UPDATER))
        .map(|e| {
            let loc = if e.key_loc.is_some() {
                e.key_loc
            } else {
                e.value.loc
            };
            (loc, e.key.to_string())
        })
}

impl Rule for ImageAutomationInProduction {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for m in reaching_markers(build, ctx.sources) {
                // A file several environments read: one finding naming them all.
                if let Some(f) = out.iter_mut().find(|f| f.loc == m.comment) {
                    add_environment(f, &env.name);
                    continue;
                }
                let mut f = finding(
                    INFO.id,
                    ctx,
                    Some(env),
                    None,
                    format!(
                        "Flux image automation (policy {}) may rewrite this value, which {} renders",
                        m.policy, env.name
                    ),
                );
                f.loc = m.comment;
                f.help = Some(format!(
                    "keep the marker where automation belongs (dev) and promote to {} with `kustodian promote {} --to {}`",
                    env.name, ctx.app.name, env.name
                ));
                out.push(f);
            }
            for r in &build.resources {
                let Some((loc, key)) = image_updater(r) else {
                    continue;
                };
                let mut f = finding(
                    INFO.id,
                    ctx,
                    Some(env),
                    Some(r),
                    format!(
                        "Argo CD Image Updater may change the images of {} {} ({key}) in {}",
                        r.kind(),
                        r.name(),
                        env.name
                    ),
                );
                f.loc = loc;
                f.help = Some(
                    "remove the argocd-image-updater.argoproj.io annotations from production Applications; promote by pull request"
                        .into(),
                );
                out.push(f);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setter_markers_are_found_with_their_policy() {
        let text = "images:\n- name: api\n  newTag: 1.2.3 # {\"$imagepolicy\": \"flux-system:api:tag\"}\n  # a note on $imagepolicy, not a marker\nx: \"#{not json}\" # {\"$imagepolicy\":\"ns:web\"}\n";
        let found = markers(FileId(0), text);
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|m| {
                (
                    m.policy.as_str(),
                    &text[m.comment.start as usize..m.comment.end as usize],
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "flux-system:api:tag",
                    "# {\"$imagepolicy\": \"flux-system:api:tag\"}"
                ),
                ("ns:web", "# {\"$imagepolicy\":\"ns:web\"}")
            ]
        );
        assert!(markers(FileId(0), "a: 1\n").is_empty());
    }
}
