//! Resources and their identities.
//!
//! A [`Resource`] is one Kubernetes object in the middle of a build: its node tree (with provenance),
//! every id it has had (kustomize matches patch targets and name references against the original
//! *and* current names), and the edits that removed or replaced fields (so rules can blame the patch
//! that deleted something — a deleted node has no location of its own).

use super::error::{RenderError, RenderErrorKind};
use crate::source::{HashMap, Loc};
use crate::text::split_api_version;
use crate::yaml::{Key, Node, Value};

/// Group/version/kind/namespace/name of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(crate) struct ResId {
    pub(crate) group: Key,
    pub(crate) version: Key,
    pub(crate) kind: Key,
    pub(crate) namespace: Key,
    pub(crate) name: Key,
}

impl ResId {
    /// Reads the id of an object node.
    pub(crate) fn of(node: &Node) -> ResId {
        let api = node.str_at(&["apiVersion"]).unwrap_or("");
        let (group, version) = split_api_version(api);
        // Names are strings almost always; a number or boolean is spelled as kustomize would.
        let scalar = |path: &[&str]| -> Key {
            match node.get_path(path) {
                Some(Node {
                    value: Value::Str(s),
                    ..
                }) => Key::from(s.as_str()),
                Some(n) => n.scalar_string().map(Key::from).unwrap_or_default(),
                None => Key::default(),
            }
        };
        ResId {
            group: Key::from(group),
            version: Key::from(version),
            kind: Key::from(node.str_at(&["kind"]).unwrap_or("")),
            namespace: scalar(&["metadata", "namespace"]),
            name: scalar(&["metadata", "name"]),
        }
    }

    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `Kind.version.group/name.namespace`, kustomize's spelling in error messages.
    pub(crate) fn display(&self) -> String {
        let mut s = self.kind.to_string();
        if !self.version.is_empty() {
            s.push('.');
            s.push_str(&self.version);
        }
        if !self.group.is_empty() {
            s.push('.');
            s.push_str(&self.group);
        }
        s.push('/');
        s.push_str(&self.name);
        s.push('.');
        s.push_str(&self.namespace);
        s
    }

    /// Same kind of thing (group + kind), ignoring version.
    pub(crate) fn same_gk(&self, other: &ResId) -> bool {
        self.group == other.group && self.kind == other.kind
    }
}

/// Built-in kinds the Kubernetes API serves cluster-scoped (group, kind). Unknown kinds (CRDs)
/// count as namespaced, as in kustomize; a `Namespace` of another API group is namespaced.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "MutatingAdmissionPolicyBinding",
    ),
    ("policy", "PodSecurityPolicy"),
    ("extensions", "PodSecurityPolicy"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
];

/// Whether objects of this id's kind are cluster-scoped (the table above).
pub(crate) fn is_cluster_scoped(id: &ResId) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, k)| *k == id.kind && *g == id.group)
}

/// How a generated ConfigMap/Secret combines with one of the same name from a base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

/// Something a transformer did that left no node behind to carry provenance.
#[derive(Clone, Debug)]
pub(crate) struct Edit {
    /// Dotted field path inside the object (`spec.template.spec.containers[name=app].resources`).
    pub(crate) path: String,
    /// The patch/transformer input responsible.
    pub(crate) by: Loc,
    pub(crate) kind: EditKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EditKind {
    Removed,
    Replaced,
    /// kustomize dropped this patch item without applying it: why, and what to write instead.
    Ignored {
        why: String,
        fix: String,
    },
}

/// Where a resource came from, for `buildMetadata: [originAnnotations]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Read from this repo-relative file.
    File(String),
    /// Generated by a builtin generator configured in this repo-relative file.
    Generator {
        configured_in: String,
        kind: String,
        name: Option<String>,
    },
}

/// A transformer that ran over a resource, for `buildMetadata: [transformerAnnotations]`.
///
/// kustomize records every configured builtin transformer of every kustomization level on every
/// resource present at that level, whether or not it changed the resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transformation {
    /// Repo-relative file that configured it: a kustomization or a `transformers:` config.
    pub(crate) configured_in: String,
    /// `PrefixTransformer`, `LabelTransformer`, ... (`apiVersion: builtin`).
    pub(crate) kind: String,
    /// `metadata.name`/`namespace` of a `transformers:` config; empty for kustomization fields.
    pub(crate) name: String,
    pub(crate) namespace: String,
    /// The remote base whose tree `configured_in` is in.
    pub(crate) repo: Option<std::sync::Arc<OriginRepo>>,
}

/// A remote base as kustomize's build metadata names it: the clone URL and the ref.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OriginRepo {
    pub(crate) repo: String,
    pub(crate) git_ref: Option<String>,
}

/// One object in a build.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object as rendered, every node remembering the file and line it came from.
    pub node: Node,
    /// Earlier ids, oldest first (before namespace/prefix/suffix/hash/patch renames).
    pub(crate) prev_ids: Vec<ResId>,
    /// Generated by a generator whose name gets the content hash suffix.
    pub(crate) needs_hash: bool,
    /// Generator behavior when this resource came from a generator.
    pub(crate) behavior: Behavior,
    /// Removals and replacements applied to this object.
    pub(crate) edits: Vec<Edit>,
    /// Where the object came from (file or generator).
    pub(crate) origin: Option<Origin>,
    /// The remote base whose tree `origin` is in (paths then start at its repository's top).
    pub(crate) origin_repo: Option<std::sync::Arc<OriginRepo>>,
    /// Name prefixes and suffixes applied so far, innermost first (name references break ties
    /// between candidates with them, as kustomize does).
    pub(crate) prefixes: Vec<String>,
    pub(crate) suffixes: Vec<String>,
    /// Names of the `vars` bound to this object.
    pub(crate) var_names: Vec<String>,
    /// The transformers of each kustomization level this object went through, innermost level
    /// first; recorded only when the top-level kustomization asks for `buildMetadata`.
    pub(crate) transformations: Vec<std::sync::Arc<[Transformation]>>,
    /// kustomize carries its build annotations (previous names, generator options) on this
    /// object by now: it was generated, put in a namespace, renamed by a prefix or suffix, or
    /// patched by a JSON patch or a renaming strategic merge. Its `metadata/annotations` then
    /// exists to field specs that do not create it (removed again at the end of the build).
    pub(crate) bookkept: bool,
    /// kustomize has converted the object to JSON and back (a JSON patch does), which spells
    /// every null out: an empty value (`replicas:`) is then `null` like any other, and a
    /// strategic-merge patch keeps it (see `patch_smp`).
    pub(crate) nulls_spelled: bool,
}

impl Resource {
    pub(crate) fn new(node: Node) -> Resource {
        Resource {
            node,
            prev_ids: Vec::new(),
            needs_hash: false,
            behavior: Behavior::Create,
            edits: Vec::new(),
            origin: None,
            origin_repo: None,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            var_names: Vec::new(),
            transformations: Vec::new(),
            bookkept: false,
            nulls_spelled: false,
        }
    }
    pub(crate) fn id(&self) -> ResId {
        ResId::of(&self.node)
    }
    /// The object's `kind` (empty when it has none).
    pub fn kind(&self) -> &str {
        self.node.str_at(&["kind"]).unwrap_or("")
    }
    /// The object's `metadata.name` (empty when it has none).
    pub fn name(&self) -> &str {
        self.node.str_at(&["metadata", "name"]).unwrap_or("")
    }
    pub(crate) fn namespace(&self) -> &str {
        self.node.str_at(&["metadata", "namespace"]).unwrap_or("")
    }
    /// The first id this resource had (its name as written in its source file).
    pub(crate) fn orig_id(&self) -> ResId {
        self.prev_ids.first().cloned().unwrap_or_else(|| self.id())
    }
    /// Records the current id as a previous one (call before renaming).
    pub(crate) fn remember_id(&mut self) {
        let id = self.id();
        if self.prev_ids.last() != Some(&id) {
            self.prev_ids.push(id);
        }
    }
    /// All ids: previous ones then the current.
    pub(crate) fn all_ids(&self) -> Vec<ResId> {
        let mut v = self.prev_ids.clone();
        v.push(self.id());
        v
    }
    /// Where the object starts in its source file.
    pub(crate) fn loc(&self) -> Loc {
        self.node.loc
    }
    /// Sets `metadata.name`, recording the old id.
    pub(crate) fn set_name(&mut self, name: &str, via: Loc) {
        self.remember_id();
        let meta = self.node.ensure_path(&["metadata"]);
        let loc = meta.get("name").map_or(Loc::NONE, |n| n.loc);
        meta.set(
            "name",
            Node::new(Value::Str(name.into()), loc).with_via(via),
        );
    }
    pub(crate) fn set_namespace(&mut self, ns: &str, via: Loc) {
        self.remember_id();
        let meta = self.node.ensure_path(&["metadata"]);
        let loc = meta.get("namespace").map_or(Loc::NONE, |n| n.loc);
        meta.set(
            "namespace",
            Node::new(Value::Str(ns.into()), loc).with_via(via),
        );
    }
    /// Annotations as strings.
    pub(crate) fn annotation(&self, key: &str) -> Option<String> {
        self.node
            .get_path(&["metadata", "annotations", key])
            .and_then(crate::yaml::Node::scalar_string)
    }
    pub(crate) fn label(&self, key: &str) -> Option<String> {
        self.node
            .get_path(&["metadata", "labels", key])
            .and_then(crate::yaml::Node::scalar_string)
    }
}

/// Refuses two resources with the same id (one pass, hashing ids).
pub(crate) fn check_unique(list: &[Resource]) -> Result<(), RenderError> {
    let mut seen: HashMap<ResId, usize> =
        HashMap::with_capacity_and_hasher(list.len(), Default::default());
    for (i, r) in list.iter().enumerate() {
        let id = r.id();
        if let Some(&prev) = seen.get(&id) {
            return Err(RenderError::new(
                RenderErrorKind::Conflict,
                format!(
                    "may not add resource with an already registered id: {}",
                    id.display()
                ),
                r.loc(),
            )
            .with_related(list[prev].loc(), "already defined here"));
        }
        seen.insert(id, i);
    }
    Ok(())
}
