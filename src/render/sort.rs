//! kustomize's legacy output order.
//!
//! Kinds in a fixed "first" list come first in that order (namespaces before the things in them,
//! CRDs before custom resources, RBAC before workloads), webhook configurations come last, and
//! everything else sorts by `group_version_kind`, namespace and name — where missing parts are
//! spelled `~G`, `~V`, `~K`, `~X`, `~N`. `~` sorts after letters, so core-group kinds land after
//! named groups. A kustomization's `sortOptions.legacySortOptions` may replace both lists.

use std::cmp::Ordering;

use super::resource::{ResId, Resource};

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

fn or_tilde(s: &str, t: &'static str) -> String {
    if s.is_empty() {
        t.to_string()
    } else {
        s.to_string()
    }
}

/// `group_version_kind|namespace|name` with kustomize's placeholders.
fn key(id: &ResId) -> (String, String, String) {
    let gvk = format!(
        "{}_{}_{}",
        or_tilde(&id.group, "~G"),
        or_tilde(&id.version, "~V"),
        or_tilde(&id.kind, "~K")
    );
    (gvk, or_tilde(&id.namespace, "~X"), or_tilde(&id.name, "~N"))
}

/// Sorts in place (stable).
pub fn legacy_sort(resources: &mut [Resource], first: Option<&[String]>, last: Option<&[String]>) {
    let first: Vec<&str> = match first {
        Some(f) => f.iter().map(|s| s.as_str()).collect(),
        None => ORDER_FIRST.to_vec(),
    };
    let last: Vec<&str> = match last {
        Some(l) => l.iter().map(|s| s.as_str()).collect(),
        None => ORDER_LAST.to_vec(),
    };
    let rank = |kind: &str| -> (i64, i64) {
        if let Some(i) = first.iter().position(|k| *k == kind) {
            (-1, i as i64)
        } else if let Some(i) = last.iter().position(|k| *k == kind) {
            (1, i as i64)
        } else {
            (0, 0)
        }
    };
    type Keyed = ((i64, i64), (String, String, String), usize);
    let mut keyed: Vec<Keyed> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = r.id();
            (rank(&id.kind), key(&id), i)
        })
        .collect();
    keyed.sort_by(|a, b| match a.0.cmp(&b.0) {
        Ordering::Equal if a.0.0 != 0 => a.1.cmp(&b.1),
        Ordering::Equal => a.1.cmp(&b.1),
        o => o,
    });
    let order: Vec<usize> = keyed.into_iter().map(|k| k.2).collect();
    permute(resources, &order);
}

/// Rearranges `items` so that the new `items[i]` is the old `items[order[i]]`, in place by
/// following each cycle of the permutation (moving, not cloning, the resources).
fn permute<T>(items: &mut [T], order: &[usize]) {
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        let mut at = start;
        while !done[at] {
            done[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_moves_every_item_to_its_slot() {
        for order in [
            vec![2, 0, 1],
            vec![1, 2, 0],
            vec![0, 1, 2],
            vec![3, 2, 1, 0],
            vec![1, 0, 3, 2, 4],
            vec![4, 0, 1, 2, 3],
            vec![1, 2, 3, 4, 0],
            vec![2, 4, 0, 1, 3],
        ] {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            permute(&mut items, &order);
            let want: Vec<usize> = order.iter().map(|i| i * 10).collect();
            assert_eq!(items, want, "{order:?}");
        }
    }
}
