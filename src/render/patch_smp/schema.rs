//! Where list merge keys come from: the schema lookup of the merge walk.
//!
//! Design. kyaml decides how a list merges by asking its schema whether the list is associative
//! (`x-kubernetes-patch-strategy: merge`) and on which keys (`x-kubernetes-list-map-keys`, else
//! the merge key). A kustomization's own OpenAPI document (`openapi: {path}`) answers for the
//! kinds it defines, following `$ref`s into its definitions; for built-in kinds kyaml's
//! built-in schema answers, which is reproduced here as a table of the list fields that have a
//! merge key. Custom kinds with no schema have none: their lists are replaced.

use crate::yaml::Node;

pub(super) struct Ctx<'a> {
    /// The resource is of a built-in kind, so list merge keys are known.
    pub(super) builtin: bool,
    /// A user-supplied OpenAPI document (`openapi: {path}`), for `$ref` resolution.
    pub(super) openapi: Option<&'a serde_json::Value>,
    /// Fields of the target whose value is an empty null (`replicas:` with nothing after it)
    /// are dropped where the walk passes ([`crate::render::resource::Resource::nulls_spelled`]).
    pub(super) drop_empty_nulls: bool,
}

impl Ctx<'_> {
    /// Follows a `$ref` into the OpenAPI document's definitions.
    fn resolve<'s>(&'s self, s: Option<&'s serde_json::Value>) -> Option<&'s serde_json::Value> {
        let s = s?;
        match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let name = r.rsplit('/').next()?;
                self.openapi?.get("definitions")?.get(name)
            }
            None => Some(s),
        }
    }
}

impl Ctx<'_> {
    pub(super) fn field_schema<'s>(
        &'s self,
        schema: Option<&'s serde_json::Value>,
        key: &str,
    ) -> Option<&'s serde_json::Value> {
        self.resolve(
            self.resolve(schema)
                .and_then(|s| s.get("properties"))
                .and_then(|p| p.get(key)),
        )
    }

    pub(super) fn item_schema<'s>(
        &'s self,
        schema: Option<&'s serde_json::Value>,
    ) -> Option<&'s serde_json::Value> {
        self.resolve(schema.and_then(|s| s.get("items")))
    }

    /// The keys a list's items are matched on, or `None` for a list the patch replaces
    /// (kyaml's `IsAssociative`: the schema's merge strategy). `[""]` marks a list of scalars
    /// merged as a set.
    pub(super) fn list_keys<'s>(
        &'s self,
        field: &str,
        path: &str,
        lists: &[&Node],
        schema: Option<&'s serde_json::Value>,
    ) -> Option<Vec<&'s str>> {
        if let Some(s) = schema {
            // kyaml's `IsAssociative` with a schema: a merge strategy decides, and the keys are
            // `x-kubernetes-list-map-keys`, else the merge key, else none (a list of scalars
            // merged as a set).
            let strategy = s.get("x-kubernetes-patch-strategy")?.as_str()?;
            if !strategy.split(',').any(|x| x == "merge") {
                return None;
            }
            let keys: Vec<&str> = match s
                .get("x-kubernetes-list-map-keys")
                .and_then(|k| k.as_array())
            {
                Some(list) => list.iter().filter_map(|k| k.as_str()).collect(),
                None => s
                    .get("x-kubernetes-patch-merge-key")
                    .and_then(|k| k.as_str())
                    .into_iter()
                    .collect(),
            };
            return Some(if keys.is_empty() { vec![""] } else { keys });
        }
        if !self.builtin {
            return None;
        }
        let all: Vec<&Node> = lists
            .iter()
            .flat_map(|l| l.as_seq().map_or(&[][..], Vec::as_slice))
            .collect();
        let key = merge_key(field, &all)?;
        Some(match list_map_keys(field, key, path) {
            Some(keys) => keys.to_vec(),
            None => vec![key],
        })
    }
}

/// Kinds of the Kubernetes API groups (whose schemas kyaml has built in).
pub(crate) fn is_builtin_kind(group: &str) -> bool {
    group.is_empty()
        || group.ends_with(".k8s.io")
        || matches!(
            group,
            "apps" | "batch" | "policy" | "autoscaling" | "extensions"
        )
}

/// The merge key of a list field of a built-in kind, or `None` to replace the list.
/// `Some("")` marks a primitive list merged as a set.
fn merge_key(field: &str, items: &[&Node]) -> Option<&'static str> {
    let has = |k: &str| items.iter().any(|i| i.get(k).is_some());
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "imagePullSecrets"
        | "env"
        | "resourceClaims"
        | "schedulingGates" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        "topologySpreadConstraints" => Some("topologyKey"),
        "ownerReferences" => Some("uid"),
        "finalizers" => Some(""),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        _ => None,
    }
}

/// Lists whose schema names several keys (`x-kubernetes-list-map-keys`) besides a merge
/// strategy: kyaml matches their items on all of them, the way `assoc_merge` (`merge.rs`) does.
fn list_map_keys(field: &str, key: &str, path: &str) -> Option<&'static [&'static str]> {
    match (field, key) {
        ("ports", "containerPort") => Some(&["containerPort", "protocol"]),
        ("ports", "port") if path == "spec.ports" => Some(&["port", "protocol"]),
        ("topologySpreadConstraints", _) => Some(&["topologyKey", "whenUnsatisfiable"]),
        _ => None,
    }
}
