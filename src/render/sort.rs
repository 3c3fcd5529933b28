//! kustomize's legacy output order.
//!
//! Kinds in a fixed "first" list come first in that order (namespaces before the things in them,
//! CRDs before custom resources, RBAC before workloads), webhook configurations come last, and
//! everything else sorts by `group_version_kind`, then objects of one kind by `namespace|name`
//! joined as one string — where missing parts are spelled `~G`, `~V`, `~K`, `~X`, `~N`. `~` sorts
//! after letters, so core-group kinds land after named groups. A kustomization's
//! `sortOptions.legacySortOptions` may replace both lists.

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

fn or_tilde<'a>(s: &'a str, t: &'static str) -> &'a str {
    if s.is_empty() { t } else { s }
}

/// `group_version_kind` with kustomize's placeholders.
fn gvk_key(id: &ResId) -> String {
    format!(
        "{}_{}_{}",
        or_tilde(&id.group, "~G"),
        or_tilde(&id.version, "~V"),
        or_tilde(&id.kind, "~K")
    )
}

/// `namespace|name` joined, as kustomize compares objects of one kind: as one string, so
/// `team-x|a` sorts before `team|b` (`-` < `|`), which comparing field by field would not do.
fn ns_name_key(id: &ResId) -> String {
    format!(
        "{}|{}",
        or_tilde(&id.namespace, "~X"),
        or_tilde(&id.name, "~N")
    )
}

/// Sorts in place, as kustomize's `legacyIDSorter` orders: a kind's rank (the `first` list
/// counts up to -1, the `last` list from 1, a kind in both taking its `last` rank, a repeated
/// kind its later place), then the group/version/kind string (two core `Namespace` kinds in
/// reverse), then `namespace|name`.
pub fn legacy_sort(resources: &mut [Resource], first: Option<&[String]>, last: Option<&[String]>) {
    let first: Vec<&str> = match first {
        Some(f) => f.iter().map(String::as_str).collect(),
        None => ORDER_FIRST.to_vec(),
    };
    let last: Vec<&str> = match last {
        Some(l) => l.iter().map(String::as_str).collect(),
        None => ORDER_LAST.to_vec(),
    };
    let mut ranks: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (i, k) in first.iter().enumerate() {
        ranks.insert(k, i as i64 - first.len() as i64);
    }
    for (i, k) in last.iter().enumerate() {
        ranks.insert(k, 1 + i as i64);
    }
    struct Keyed {
        rank: i64,
        kind: String,
        core: bool,
        gvk: String,
        name: String,
        index: usize,
    }
    let mut keyed: Vec<Keyed> = resources
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let id = r.id();
            Keyed {
                rank: ranks.get(id.kind.as_str()).copied().unwrap_or(0),
                core: id.group.is_empty(),
                gvk: gvk_key(&id),
                name: ns_name_key(&id),
                kind: id.kind.to_string(),
                index,
            }
        })
        .collect();
    keyed.sort_by(|a, b| {
        if a.gvk != b.gvk {
            if a.rank != b.rank {
                return a.rank.cmp(&b.rank);
            }
            if a.kind == "Namespace" && b.kind == "Namespace" && (a.core || b.core) {
                return b.gvk.cmp(&a.gvk);
            }
            return a.gvk.cmp(&b.gvk);
        }
        a.name.cmp(&b.name)
    });
    let order: Vec<usize> = keyed.into_iter().map(|k| k.index).collect();
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
