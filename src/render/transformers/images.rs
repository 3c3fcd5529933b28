//! The image transformer: `images:` and `ImageTagTransformer` configs.
//!
//! Design. Like kustomize's legacy image filter, every `containers`/`initContainers` list
//! anywhere in an object is walked, then the image field specs beyond those (image volumes, CRD
//! fields from `configurations:`); a spec never creates a field. An image reference is split the
//! way kustomize splits it (only after the first `/`), so a registry port is not taken for a tag.

use crate::render::fieldspec::visit;
use crate::render::kustomization::Kustomization;
use crate::render::pattern::ImagePattern;
use crate::render::resource::Resource;
use crate::render::scalars::raw_string;
use crate::source::Loc;
use crate::yaml::{Node, Value};

struct ImageEdit {
    name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
    digest: Option<String>,
    tag_suffix: Option<String>,
    via: Loc,
    pattern: ImagePattern,
}

fn image_edit(n: &Node) -> Option<ImageEdit> {
    let s = |k: &str| n.get(k).map(raw_string).filter(|s| !s.is_empty());
    let name = s("name")?;
    // The line a person edits: the digest or tag they set, else the entry.
    let via = ["digest", "newTag", "newName", "tagSuffix"]
        .iter()
        .find_map(|k| n.get(k).map(|x| x.loc))
        .unwrap_or(n.loc);
    let pattern = ImagePattern::new(&name);
    Some(ImageEdit {
        name,
        new_name: s("newName"),
        new_tag: s("newTag"),
        digest: s("digest"),
        tag_suffix: s("tagSuffix"),
        via,
        pattern,
    })
}

/// Splits `host:port/name:tag@digest` the way kustomize does (only after the first `/`).
pub(crate) fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (colon, at) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (c, Some(a)) if c.is_none_or(|c| a < c) => {
            let a = a + slash;
            (
                image[..a].to_string(),
                String::new(),
                image[a + 1..].to_string(),
            )
        }
        (Some(c), Some(a)) => {
            let (c, a) = (c + slash, a + slash);
            (
                image[..c].to_string(),
                image[c + 1..a].to_string(),
                image[a + 1..].to_string(),
            )
        }
        (Some(c), None) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        _ => (image.to_string(), String::new(), String::new()),
    }
}

fn update_image(n: &mut Node, e: &ImageEdit) {
    let Some(value) = n.as_str() else { return };
    if !e.pattern.is_match(value) {
        return;
    }
    let (mut name, mut tag, mut digest) = split_image(value);
    if let Some(nn) = &e.new_name {
        name = nn.clone();
    }
    match (&e.new_tag, &e.digest, &e.tag_suffix) {
        (Some(t), Some(d), _) => {
            tag = t.clone();
            digest = d.clone();
        }
        (Some(t), None, _) => {
            tag = t.clone();
            digest.clear();
        }
        (None, Some(d), _) => {
            tag.clear();
            digest = d.clone();
        }
        (None, None, Some(s)) => {
            tag.push_str(s);
            digest.clear();
        }
        _ => {}
    }
    let mut out = name;
    if !tag.is_empty() {
        out.push(':');
        out.push_str(&tag);
    }
    if !digest.is_empty() {
        out.push('@');
        out.push_str(&digest);
    }
    let _ = &e.name;
    *n = Node::new(Value::Str(out.into()), n.loc).with_via(e.via);
}

/// Walks every `containers`/`initContainers` list anywhere in the object (kustomize's legacy
/// image filter), plus the image field specs.
fn walk_containers(n: &mut Node, e: &ImageEdit) {
    match &mut n.value {
        Value::Map(m) => {
            for entry in &mut m.entries {
                walk_containers(&mut entry.value, e);
                if (entry.key == "containers" || entry.key == "initContainers")
                    && let Some(items) = entry.value.as_seq_mut()
                {
                    for c in items {
                        if let Some(img) = c.get_mut("image") {
                            update_image(img, e);
                        }
                    }
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| walk_containers(i, e)),
        _ => {}
    }
}

pub(crate) fn apply_images(k: &Kustomization, resources: &mut [Resource]) {
    let edits: Vec<ImageEdit> = k.images.iter().filter_map(image_edit).collect();
    for e in &edits {
        for r in resources.iter_mut() {
            if r.kind() == "CustomResourceDefinition" {
                continue;
            }
            walk_containers(&mut r.node, e);
            let id = r.id();
            // Field specs beyond the legacy walk (e.g. image volumes); never create.
            for s in k.tconfig.images.iter().filter(|s| s.matches(&id)) {
                if s.path
                    .iter()
                    .any(|p| p.starts_with("containers") || p.starts_with("initContainers"))
                {
                    continue;
                }
                visit(&mut r.node, &s.path, false, &mut |n| update_image(n, e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_images_like_kustomize() {
        assert_eq!(split_image("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(
            split_image("nginx:1.2"),
            ("nginx".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split_image("localhost:5000/app:v1@sha256:abc"),
            (
                "localhost:5000/app".into(),
                "v1".into(),
                "sha256:abc".into()
            )
        );
        assert_eq!(
            split_image("app@sha256:abc"),
            ("app".into(), "".into(), "sha256:abc".into())
        );
    }
}
