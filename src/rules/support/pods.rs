//! Finding pod specs and containers in rendered objects.
//!
//! Workload kinds keep their pod spec in different places (`spec` for a Pod, `spec.template.spec`
//! for Deployments and friends and for Argo Rollouts, `spec.jobTemplate.spec.template.spec` for
//! CronJobs, `template.spec` for PodTemplates). Rules iterate containers through here so they all
//! agree on what a container is and on the field paths they print.

use crate::render::Resource;
use crate::yaml::Node;

/// One container of a workload.
pub(crate) struct Container<'a> {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub(crate) list: &'static str,
    pub(crate) name: String,
    /// Dotted path of the container (`spec.template.spec.containers[name=api]`).
    pub(crate) path: String,
    pub(crate) node: &'a Node,
}

/// Where the pod spec of a resource is, by kind.
pub(crate) fn pod_spec_path(r: &Resource) -> Option<&'static [&'static str]> {
    let kind = r.kind();
    let p: &'static [&'static str] = match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController"
        | "Rollout" => &["spec", "template", "spec"],
        // Other custom resources that embed a pod template the usual way.
        _ if r
            .node
            .get_path(&["spec", "template", "spec", "containers"])
            .is_some() =>
        {
            &["spec", "template", "spec"]
        }
        _ => return None,
    };
    r.node.get_path(p).map(|_| p)
}

/// The pod spec node of a workload.
pub(crate) fn pod_spec(r: &Resource) -> Option<(&Node, String)> {
    let p = pod_spec_path(r)?;
    Some((r.node.get_path(p)?, p.join(".")))
}

/// Every container of a workload, init containers first.
pub(crate) fn containers(r: &Resource) -> Vec<Container<'_>> {
    let Some((spec, base)) = pod_spec(r) else {
        return vec![];
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get(list)
            .and_then(|l| l.as_seq())
            .into_iter()
            .flatten()
        {
            let name = c.str_at(&["name"]).unwrap_or("").to_string();
            out.push(Container {
                list,
                path: format!("{base}.{list}[name={name}]"),
                name,
                node: c,
            });
        }
    }
    out
}

/// The image name of a reference, without tag or digest (`reg:5000/app:1.2@sha256:…` →
/// `reg:5000/app`): a `:` after the last `/` starts the tag.
pub(crate) fn image_name(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    name.rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(name, |(n, _)| n)
}
