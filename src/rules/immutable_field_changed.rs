//! `immutable-field-changed`: a change the API server refuses for an object that already exists.
//!
//! Pull-request mode only: the same object (group, kind, namespace and name as rendered) is
//! compared between the base revision and the head, field by field from a fixed table of the
//! fields Kubernetes refuses to update. Objects the GitOps tool deletes and recreates (Argo CD
//! hooks and `Force=true,Replace=true`, Flux's `force` annotation) are left alone.

use super::support::diff::{diff_nodes, show};
use super::support::resources::removal_by;
use super::{AppCtx, NoOptions, OptionsType, Rule, RuleInfo, docs, finding};
use crate::diag::{Finding, Related};
use crate::settings::{Level, RuleSettings};
use crate::render::{Build, Resource};
use crate::yaml::Node;

/// In pull-request mode, a change to a field Kubernetes does not let an existing object change.
///
/// **What.** For every environment whose inputs the change touches, each rendered object that
/// also exists at the pull request's base revision (same group, kind, namespace and name) must
/// keep its immutable fields: `spec.selector` of Deployments, ReplicaSets, DaemonSets and
/// StatefulSets; a StatefulSet's `serviceName`, `volumeClaimTemplates` and
/// `podManagementPolicy`; a Job's `selector` and `template`; a PersistentVolumeClaim's
/// `accessModes`, `storageClassName`, `volumeMode`, `volumeName`, `selector` and data sources;
/// a Service's `clusterIP`; the `roleRef` of RoleBindings and ClusterRoleBindings; and the data of
/// a ConfigMap or Secret marked `immutable: true`. Fields the API server fills in when they are
/// left out (a StatefulSet's `podManagementPolicy`, a claim's `storageClassName`, a Service's
/// `clusterIP`, ...) only count when both revisions set them.
///
/// **Why.** The API server refuses the update (`field is immutable`), so Argo CD or Flux cannot
/// sync the environment: it stays on the old version, degraded, until someone deletes the object
/// by hand — with a Deployment's selector, usually after `commonLabels` (or `labels` with
/// `includeSelectors: true`) gained a label in an otherwise harmless change.
///
/// **Example.** `commonLabels: {team: payments}` added to `overlays/production/kustomization.yaml`
/// changes `spec.selector.matchLabels` of every Deployment in production.
///
/// **Fix.** Keep the field as it was — add labels with `labels:` and `includeSelectors: false`
/// (the default there), not `commonLabels` — or give the object a new name so it is created
/// anew, or let the GitOps tool recreate it: Argo CD
/// `argocd.argoproj.io/sync-options: Force=true,Replace=true`, Flux
/// `kustomize.toolkit.fluxcd.io/force: enabled` (objects with either, Argo CD or Helm hooks, and
/// Jobs with `ttlSecondsAfterFinished`, which the cluster deletes once they finish, are not
/// reported).
///
/// **Config.** `stages`/`environments` choose where it applies. Only runs with `--base`.
pub struct ImmutableFieldChanged;

pub const INFO: RuleInfo = RuleInfo {
    id: "immutable-field-changed",
    doc: docs::IMMUTABLE_FIELD_CHANGED,
    default_level: Level::Error,
    default_stages: None,
    pull_request_only: true,
    options: OptionsType::of::<NoOptions>(),
};

/// One immutable field: its path, and whether the API server fills it in when it is left out
/// (then a revision without it says nothing about the live object's value).
struct Field {
    path: &'static [&'static str],
    defaulted: bool,
}

const fn set(path: &'static [&'static str]) -> Field {
    Field {
        path,
        defaulted: false,
    }
}

const fn defaulted(path: &'static [&'static str]) -> Field {
    Field {
        path,
        defaulted: true,
    }
}

/// The fields Kubernetes refuses to update, by group and kind (apps/v1, batch/v1, core/v1 and
/// rbac/v1 validation).
const IMMUTABLE: &[(&str, &str, &[Field])] = &[
    ("apps", "Deployment", &[set(&["spec", "selector"])]),
    ("apps", "ReplicaSet", &[set(&["spec", "selector"])]),
    ("apps", "DaemonSet", &[set(&["spec", "selector"])]),
    (
        "apps",
        "StatefulSet",
        &[
            set(&["spec", "selector"]),
            set(&["spec", "serviceName"]),
            set(&["spec", "volumeClaimTemplates"]),
            defaulted(&["spec", "podManagementPolicy"]),
        ],
    ),
    (
        "batch",
        "Job",
        // The selector is generated when left out.
        &[defaulted(&["spec", "selector"]), set(&["spec", "template"])],
    ),
    (
        "",
        "PersistentVolumeClaim",
        &[
            set(&["spec", "accessModes"]),
            defaulted(&["spec", "storageClassName"]),
            defaulted(&["spec", "volumeMode"]),
            defaulted(&["spec", "volumeName"]),
            set(&["spec", "selector"]),
            defaulted(&["spec", "dataSource"]),
            defaulted(&["spec", "dataSourceRef"]),
        ],
    ),
    ("", "Service", &[defaulted(&["spec", "clusterIP"])]),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        &[set(&["roleRef"])],
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        &[set(&["roleRef"])],
    ),
];

/// The data of a ConfigMap or Secret marked `immutable: true`.
const IMMUTABLE_DATA: &[Field] = &[set(&["data"]), set(&["binaryData"]), set(&["stringData"])];

/// Whether the GitOps tool deletes and recreates `r` rather than updating it.
fn recreated(r: &Resource) -> bool {
    let sync = r
        .annotation("argocd.argoproj.io/sync-options")
        .unwrap_or_default();
    let has = |opt: &str| sync.split(',').any(|o| o.trim() == opt);
    (has("Force=true") && has("Replace=true"))
        || r.annotation("argocd.argoproj.io/hook").is_some()
        || r.annotation("helm.sh/hook").is_some()
        || r.annotation("kustomize.toolkit.fluxcd.io/force").as_deref() == Some("enabled")
        // A finished Job with a TTL is deleted by the cluster: the next sync creates it afresh.
        || (r.kind() == "Job" && r.node.get_path(&["spec", "ttlSecondsAfterFinished"]).is_some())
}

/// The object at the base revision with the same rendered id as `r`.
fn same_object<'a>(before: &'a Build, r: &Resource) -> Option<&'a Resource> {
    let id = r.id();
    before.resources.iter().find(|b| {
        let o = b.id();
        o.kind == id.kind && o.group == id.group && o.name == id.name && o.namespace == id.namespace
    })
}

fn fields_of(r: &Resource, before: &Resource) -> &'static [Field] {
    let id = r.id();
    if let Some((_, _, fields)) = IMMUTABLE
        .iter()
        .find(|(g, k, _)| id.group == *g && id.kind == *k)
    {
        return fields;
    }
    let marked = before
        .node
        .get("immutable")
        .and_then(Node::as_bool)
        .unwrap_or(false);
    if id.group.is_empty() && matches!(id.kind.as_str(), "ConfigMap" | "Secret") && marked {
        return IMMUTABLE_DATA;
    }
    &[]
}

impl Rule for ImmutableFieldChanged {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check(&self, ctx: &AppCtx, s: &RuleSettings) -> Vec<Finding> {
        let Some(pr) = &ctx.pr else { return vec![] };
        let mut out = Vec::new();
        for (env, head) in &ctx.envs {
            if !pr.affected.contains(&env.name.as_str()) || !s.applies(&ctx.app.name, &env.name, env.stage) {
                continue;
            }
            let Some(base) = pr.base_env(&env.name) else {
                continue;
            };
            for r in &head.resources {
                let Some(b) = same_object(base, r) else {
                    continue;
                };
                let fields = fields_of(r, b);
                if fields.is_empty() || recreated(r) {
                    continue;
                }
                for field in fields {
                    let (old, new) = (b.node.get_path(field.path), r.node.get_path(field.path));
                    let changed = match (old, new) {
                        (Some(o), Some(n)) => o != n,
                        (None, None) => false,
                        _ => !field.defaulted,
                    };
                    if !changed {
                        continue;
                    }
                    out.push(report(ctx, env, r, field.path.join("."), old, new));
                }
            }
        }
        out
    }
}

/// One finding: the first difference inside the field, blamed on the line that made it.
fn report(
    ctx: &AppCtx,
    env: &crate::discover::Env,
    r: &Resource,
    field: String,
    old: Option<&Node>,
    new: Option<&Node>,
) -> Finding {
    // Where inside the field: the first differing leaf, when both revisions have the field.
    let (path, before, after) = match (old, new) {
        (Some(o), Some(n)) => {
            let mut d = Vec::new();
            diff_nodes(o, n, &mut d);
            match d.into_iter().next() {
                Some((p, x, y)) if !p.is_empty() => (format!("{field}.{p}"), x, y),
                _ => (field.clone(), old, new),
            }
        }
        _ => (field.clone(), old, new),
    };
    let id = r.id();
    let name = if id.namespace.is_empty() {
        id.name.to_string()
    } else {
        format!("{}/{}", id.namespace, id.name)
    };
    let one_line = |n: Option<&Node>| {
        let s = show(n);
        if s.contains('\n') {
            format!("`{}` …", s.lines().next().unwrap_or(""))
        } else {
            format!("`{s}`")
        }
    };
    let mut f = finding(
        INFO.id,
        ctx,
        Some(env),
        Some(r),
        format!(
            "{} '{name}' in {}: `{field}` cannot change on an existing object, and this change \
             moves `{path}` from {} to {}; the API server refuses the update, so the sync fails",
            r.kind(),
            env.name,
            one_line(before),
            one_line(after),
        ),
    );
    f.field = Some(path.clone());
    let blamed = after
        .map(crate::yaml::Node::blame)
        .filter(crate::source::Loc::is_some)
        .or_else(|| removal_by(r, &path))
        .or_else(|| new.map(crate::yaml::Node::blame).filter(crate::source::Loc::is_some));
    if let Some(loc) = blamed {
        f.loc = loc;
    }
    if let Some(was) = before.map(crate::yaml::Node::blame).filter(crate::source::Loc::is_some) {
        f.related.push(Related {
            loc: was,
            message: "the value at the base revision".into(),
        });
    }
    let selector = field.ends_with("selector");
    f.help = Some(format!(
        "keep `{field}` as it was{}, give the object a new name so it is created anew, or let the \
         GitOps tool recreate it (Argo CD: `argocd.argoproj.io/sync-options: Force=true,Replace=true`; \
         Flux: `kustomize.toolkit.fluxcd.io/force: enabled`)",
        if selector {
            " (add labels with `labels:` without `includeSelectors`, not `commonLabels`)"
        } else {
            ""
        }
    ));
    f
}
