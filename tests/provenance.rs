//! Provenance: every rendered field knows the file:line a person edits to change it, through
//! nested bases, overlays and transformers.

mod common;
use common::write;

use std::sync::Arc;

use kustodian::render::Renderer;
use kustodian::source::{DiskFs, Sources};
use kustodian::yaml::Node;

/// `file:line` of where a person edits the node.
fn blame(sources: &Sources, n: &Node) -> String {
    let p = sources.position(n.blame()).expect("node has a location");
    format!("{}:{}", p.file, p.line)
}

fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "apps/web/base/kustomization.yaml",
        "resources:\n- deployment.yaml\nconfigMapGenerator:\n- name: web\n  literals:\n  - MODE=base\n",
    );
    write(
        r,
        "apps/web/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n",
    );
    write(
        r,
        "apps/web/overlays/staging/kustomization.yaml",
        "resources:\n- ../../base\nnamespace: web-staging\n",
    );
    write(
        r,
        "apps/web/overlays/production/kustomization.yaml",
        "resources:\n- ../staging\nnamespace: web-prod\nnamePrefix: prod-\nreplicas:\n- name: web\n  count: 3\nimages:\n- name: nginx\n  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    );
    t
}

#[test]
fn fields_point_at_the_line_that_set_them() {
    let t = repo();
    let sources = Sources::new();
    let r = Renderer::new(Arc::new(DiskFs::new(t.path()).unwrap()), sources.clone());
    let b = r.build("apps/web/overlays/production").unwrap();
    let dep = b
        .resources
        .iter()
        .find(|r| r.kind() == "Deployment")
        .unwrap();
    let c = &dep
        .node
        .get_path(&["spec", "template", "spec", "containers"])
        .unwrap()
        .as_seq()
        .unwrap()[0];

    // The image was set by the production overlay's `images:` entry (its digest line).
    assert_eq!(
        blame(&sources, c.get("image").unwrap()),
        "apps/web/overlays/production/kustomization.yaml:10"
    );
    // The container name comes from the base file, two kustomizations down.
    assert_eq!(
        blame(&sources, c.get("name").unwrap()),
        "apps/web/base/deployment.yaml:10"
    );
    // replicas: the overlay's count line; namespace: the nearest overlay that set it last.
    assert_eq!(
        blame(&sources, dep.node.get_path(&["spec", "replicas"]).unwrap()),
        "apps/web/overlays/production/kustomization.yaml:7"
    );
    assert_eq!(
        blame(
            &sources,
            dep.node.get_path(&["metadata", "namespace"]).unwrap()
        ),
        "apps/web/overlays/production/kustomization.yaml:3"
    );
    assert_eq!(
        blame(&sources, dep.node.get_path(&["metadata", "name"]).unwrap()),
        "apps/web/overlays/production/kustomization.yaml:4"
    );

    // A generated ConfigMap's data value points at its literal in the base.
    let cm = b
        .resources
        .iter()
        .find(|r| r.kind() == "ConfigMap")
        .unwrap();
    assert_eq!(
        blame(&sources, cm.node.get_path(&["data", "MODE"]).unwrap()),
        "apps/web/base/kustomization.yaml:6"
    );
    assert!(
        cm.name().starts_with("prod-web-"),
        "hash suffix added: {}",
        cm.name()
    );

    // The build lists every file it read (for pull-request mode's affected-overlay check).
    let files: Vec<&str> = b.files.iter().map(std::string::String::as_str).collect();
    assert_eq!(
        files,
        [
            "apps/web/base/deployment.yaml",
            "apps/web/base/kustomization.yaml",
            "apps/web/overlays/production/kustomization.yaml",
            "apps/web/overlays/staging/kustomization.yaml",
        ]
    );
}

#[test]
fn bad_inputs_fail_with_a_location() {
    let t = repo();
    write(
        t.path(),
        "apps/bad/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    write(
        t.path(),
        "apps/cycle/a/kustomization.yaml",
        "resources:\n- ../b\n",
    );
    write(
        t.path(),
        "apps/cycle/b/kustomization.yaml",
        "resources:\n- ../a\n",
    );
    write(
        t.path(),
        "apps/escape/kustomization.yaml",
        "resources:\n- ../../../../etc/passwd\n",
    );
    write(
        t.path(),
        "apps/yaml/kustomization.yaml",
        "resources:\n- x.yaml\n",
    );
    write(t.path(), "apps/yaml/x.yaml", "kind: [unclosed\n");
    let sources = Sources::new();
    let r = Renderer::new(Arc::new(DiskFs::new(t.path()).unwrap()), sources.clone());

    let e = r.build("apps/bad").unwrap_err();
    assert!(e.message.contains("missing.yaml"), "{}", e.message);
    assert_eq!(sources.describe(e.loc), "apps/bad/kustomization.yaml:2:3");

    let e = r.build("apps/cycle/a").unwrap_err();
    assert!(e.message.contains("cycle"), "{}", e.message);
    assert_eq!(
        sources.describe(e.loc),
        "apps/cycle/b/kustomization.yaml:2:3"
    );

    let e = r.build("apps/escape").unwrap_err();
    assert!(
        e.message.contains("outside the repository root"),
        "{}",
        e.message
    );
    assert_eq!(
        sources.describe(e.loc),
        "apps/escape/kustomization.yaml:2:3"
    );

    let e = r.build("apps/yaml").unwrap_err();
    assert!(e.message.contains("invalid YAML"), "{}", e.message);
    assert!(
        sources.describe(e.loc).starts_with("apps/yaml/x.yaml:1:"),
        "{}",
        sources.describe(e.loc)
    );
}
