//! `image-not-pinned`: production images must be pinned by digest.

use std::sync::LazyLock;

use globset::{Glob, GlobSetBuilder};
use regex::Regex;

use super::{AppCtx, Rule, RuleInfo, docs, finding, pods};
use crate::diag::{Finding, Related, Severity};
use crate::policy::Policy;

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
    default_severity: Severity::Error,
};

static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^@\s]+@sha256:[0-9a-f]{64}$").expect("valid regex"));

/// Why an image reference is not pinned, or `None` when it is.
pub fn unpinned_reason(image: &str) -> Option<String> {
    if DIGEST.is_match(image) {
        return None;
    }
    Some(match image.split_once('@') {
        Some((_, d)) => format!("its digest '{d}' is not a sha256 digest of 64 hex digits"),
        None => {
            let tail = image.rsplit('/').next().unwrap_or(image);
            match tail.split_once(':') {
                Some((_, "latest")) => "it uses the mutable tag 'latest'".to_string(),
                Some((_, t)) => format!("it uses the tag '{t}', which can be moved"),
                None => "it has no tag or digest (implicitly 'latest')".to_string(),
            }
        }
    })
}

impl Rule for ImageNotPinned {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, policy: &Policy) -> Vec<Finding> {
        let s = &policy.image_not_pinned;
        let mut allow = GlobSetBuilder::new();
        for g in &s.options.allow {
            if let Ok(g) = Glob::new(g) {
                allow.add(g);
            }
        }
        let allow = allow.build().ok();
        let mut out = Vec::new();
        for (env, build) in &ctx.envs {
            if !s.applies(&ctx.app.name, env) {
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
                    f.help = Some(format!(
                        "pin it in {}'s kustomization: `images: [{{name: {name}, digest: \"sha256:<digest that ran in staging>\"}}]`",
                        env.dir
                    ));
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
}
