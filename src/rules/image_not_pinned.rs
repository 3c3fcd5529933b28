//! `image-not-pinned`: production images must be pinned by digest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use globset::{Glob, GlobSetBuilder};

use super::{AppCtx, OptionsType, Rule, RuleInfo, docs, finding};
use super::support::pods;
use crate::diag::{Finding, Related};
use crate::settings::{Level, RuleSettings, Stage};

/// Images in production must be pinned by digest (`name@sha256:<64 hex>`).
///
/// **What.** Every container, init container and ephemeral container of every workload (Pod,
/// Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Argo Rollout, and custom resources
/// with a pod template) in the environments the policy names (default: the production stage) must
/// reference its image as `name@sha256:<64 hex digits>`. A tag (`:1.4.2`), `latest`, no tag, a
/// short or malformed digest all fail.
///
/// **Why.** A tag can be moved. A promotion gate is only meaningful when production runs exactly
/// the bytes that were tested in staging; a digest is the only reference that cannot change.
///
/// **Example.** `images: [{name: registry.example.com/api, newTag: "1.4.2"}]` in
/// `overlays/production/kustomization.yaml` renders `registry.example.com/api:1.4.2` and fails.
///
/// **Fix.** Set the digest in the overlay's `images:` entry (`digest: sha256:...`, e.g. with
/// `kustomize edit set image registry.example.com/api@sha256:...`). The finding points at the line
/// that set the image: the overlay's `images:` entry, or the base file when no entry applies.
///
/// **Config.** `stages`/`environments` choose where it applies; `options.allow` lists image globs
/// that are exempt (e.g. `registry.k8s.io/pause`).
pub struct ImageNotPinned;

pub const INFO: RuleInfo = RuleInfo {
    id: "image-not-pinned",
    doc: docs::IMAGE_NOT_PINNED,
    default_level: Level::Error,
    default_stages: Some(&[Stage::Production]),
    pull_request_only: false,
    options: OptionsType::of::<ImageOptions>(),
};

/// Options of `image-not-pinned`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageOptions {
    /// Globs of image names exempt from the rule (e.g. `registry.example.com/tools/*`).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `name@sha256:<64 lowercase hex>` with a non-empty name free of `@` and whitespace. Checked by
/// hand: a Unicode-aware regex built a lazy DFA per thread, a visible part of a small check.
fn pinned(image: &str) -> bool {
    let Some((name, hex)) = image.split_once("@sha256:") else {
        return false;
    };
    !name.is_empty()
        && !name.contains('@')
        && !name.chars().any(char::is_whitespace)
        && hex.len() == 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why an image reference is not pinned, or `None` when it is.
pub fn unpinned_reason(image: &str) -> Option<String> {
    if pinned(image) {
        return None;
    }
    Some(if let Some((_, d)) = image.split_once('@') { format!("its digest '{d}' is not a sha256 digest of 64 hex digits") } else {
        let tail = image.rsplit('/').next().unwrap_or(image);
        match tail.split_once(':') {
            Some((_, "latest")) => "it uses the mutable tag 'latest'".to_string(),
            Some((_, t)) => format!("it uses the tag '{t}', which can be moved"),
            None => "it has no tag or digest (implicitly 'latest')".to_string(),
        }
    })
}

impl Rule for ImageNotPinned {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let mut allow = GlobSetBuilder::new();
        for g in &s.options::<ImageOptions>().allow {
            if let Ok(g) = Glob::new(g) {
                allow.add(g);
            }
        }
        let allow = allow.build().ok();
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            for r in &build.resources {
                for c in pods::containers(r) {
                    let Some(img_node) = c.node.get("image") else {
                        continue;
                    };
                    let image = img_node.scalar_string().unwrap_or_default();
                    let name = pods::image_name(&image);
                    if allow.as_ref().is_some_and(|a| a.is_match(name)) {
                        continue;
                    }
                    let Some(reason) = unpinned_reason(&image) else {
                        continue;
                    };
                    let mut f = finding(
                        INFO.id,
                        ctx,
                        Some(env),
                        Some(r),
                        format!(
                            "image '{image}' of container '{}' in {} is not pinned by digest: {reason}",
                            c.name, env.name
                        ),
                    );
                    f.field = Some(format!("{}.image", c.path));
                    f.loc = img_node.blame();
                    if img_node.via.is_some() && img_node.loc.is_some() {
                        f.related.push(Related {
                            loc: img_node.loc,
                            message: "image first set here".into(),
                        });
                    }
                    // Manifests from standard input come from no overlay of this repository.
                    f.help = Some(if env.dir.is_empty() {
                        format!(
                            "pin it where these manifests are made: `image: {name}@sha256:<digest that ran in staging>`"
                        )
                    } else {
                        format!(
                            "pin it in {}'s kustomization: `images: [{{name: {name}, digest: \"sha256:<digest that ran in staging>\"}}]`",
                            env.dir
                        )
                    });
                    out.push(f);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_tags() {
        let d = "a".repeat(64);
        assert_eq!(unpinned_reason(&format!("nginx@sha256:{d}")), None);
        assert_eq!(
            unpinned_reason(&format!("reg:5000/x/nginx@sha256:{d}")),
            None
        );
        assert!(unpinned_reason("nginx:latest").unwrap().contains("latest"));
        assert!(unpinned_reason("nginx").unwrap().contains("no tag"));
        assert!(
            unpinned_reason("reg:5000/nginx:1.2")
                .unwrap()
                .contains("'1.2'")
        );
        assert!(
            unpinned_reason("nginx@sha256:abc")
                .unwrap()
                .contains("64 hex")
        );
        assert!(unpinned_reason(&format!("nginx@sha256:{}", "A".repeat(64))).is_some());
    }

    #[test]
    fn pinned_means_one_sha256_digest_of_64_hex_digits() {
        let hex = "0436c2edfc49c5e95d0b2239f756f4ca2b967c84cb763fd67c60068b7c14e6b9";
        assert!(pinned(&format!("registry.example.com/a/b@sha256:{hex}")));
        assert!(pinned(&format!("nginx:1.25@sha256:{hex}")));
        for bad in [
            format!("@sha256:{hex}"),
            format!("a@b@sha256:{hex}"),
            format!("a b@sha256:{hex}"),
            format!("nginx@sha256:{}", hex.to_uppercase()),
            format!("nginx@sha256:{hex}0"),
            format!("nginx@sha512:{hex}"),
            "nginx:1.25".to_string(),
        ] {
            assert!(!pinned(&bad), "{bad}");
            assert!(unpinned_reason(&bad).is_some());
        }
    }
}
