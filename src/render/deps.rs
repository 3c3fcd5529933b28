//! Which files a kustomization reads, without building it.
//!
//! Pull-request mode must know which overlays a change can affect before rendering anything: on a
//! repo of a thousand apps a change touching three overlays should render three overlays (twice),
//! not three thousand. This scan reads only kustomization files (memoized through the renderer's
//! parse cache) and follows every reference — resources, bases, components, patches, generator
//! inputs, replacement and transformer configs — collecting the repo-relative paths a build would
//! read. It errs on the side of inclusion: when a reference cannot be resolved the referencing
//! kustomization is still listed, so a change to it marks the overlay affected.

use std::collections::BTreeSet;

use super::Renderer;
use super::kustomization::find_kustomization_file;
use crate::source::join_rel;
use crate::yaml::{Node, Value};

impl Renderer {
    /// Files (and directories, for resources that are directories) the build of `dir` reads.
    pub(crate) fn dependencies(&self, dir: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut visited = BTreeSet::new();
        // Directories still to read, walked without recursion: a chain of bases as long as a
        // hostile repository makes it cannot exhaust the stack.
        let mut todo = vec![dir.to_string()];
        while let Some(d) = todo.pop() {
            if visited.insert(d.clone()) {
                self.collect_deps(&d, &mut out, &mut todo);
            }
        }
        out
    }

    /// The files one kustomization directory reads; the directories it names go to `todo`.
    fn collect_deps(&self, dir: &str, out: &mut BTreeSet<String>, todo: &mut Vec<String>) {
        let Some(kfile) = find_kustomization_file(self.fs(), dir) else {
            return;
        };
        out.insert(kfile.clone());
        let Ok(docs) = self.load_file(&kfile) else {
            return;
        };
        let Some(k) = docs.into_iter().find(|d| !d.is_null()) else {
            return;
        };
        let mut refs: Vec<String> = Vec::new();
        let strings = |n: Option<&Node>| -> Vec<String> {
            n.and_then(|n| n.as_seq())
                .map(|s| {
                    s.iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        for f in [
            "resources",
            "bases",
            "components",
            "crds",
            "configurations",
            "generators",
            "transformers",
            "validators",
            "patchesStrategicMerge",
        ] {
            refs.extend(strings(k.get(f)).into_iter().filter(|s| !s.contains('\n')));
        }
        for f in ["patches", "patchesJson6902", "replacements"] {
            if let Some(items) = k.get(f).and_then(|n| n.as_seq()) {
                refs.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("path").and_then(|p| p.as_str()).map(str::to_string)),
                );
            }
        }
        if let Some(p) = k.get_path(&["openapi", "path"]).and_then(|p| p.as_str()) {
            refs.push(p.to_string());
        }
        for f in ["configMapGenerator", "secretGenerator"] {
            if let Some(items) = k.get(f).and_then(|n| n.as_seq()) {
                for g in items {
                    for src in strings(g.get("files")) {
                        refs.push(
                            src.split_once('=')
                                .map(|(_, p)| p.to_string())
                                .unwrap_or(src),
                        );
                    }
                    refs.extend(strings(g.get("envs")));
                    if let Some(Value::Str(e)) = g.get("env").map(|e| &e.value) {
                        refs.push(e.to_string());
                    }
                }
            }
        }
        for r in refs {
            let Some(rel) = join_rel(dir, &r) else {
                continue;
            };
            if self.fs().is_dir(&rel) {
                todo.push(rel);
            } else {
                out.insert(rel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::render::Renderer;
    use crate::source::{DiskFs, Sources};

    #[test]
    fn lists_files_across_bases_components_patches_and_generators() {
        let t = tempfile::tempdir().unwrap();
        let w = |p: &str, s: &str| {
            let f = t.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, s).unwrap();
        };
        w(
            "base/kustomization.yaml",
            "resources: [d.yaml]\nconfigMapGenerator:\n- name: c\n  files: [k=app.conf]\n  envs: [e.env]\n",
        );
        w("base/d.yaml", "kind: X\n");
        w("base/app.conf", "x\n");
        w("base/e.env", "A=1\n");
        w(
            "comp/kustomization.yaml",
            "kind: Component\npatches:\n- path: p.yaml\n",
        );
        w("comp/p.yaml", "kind: X\n");
        w(
            "prod/kustomization.yaml",
            "resources: [../base]\ncomponents: [../comp]\npatchesJson6902:\n- path: j.yaml\n  target: {kind: X}\n",
        );
        w("prod/j.yaml", "[]\n");
        w("other/kustomization.yaml", "resources: []\n");
        let r = Renderer::new(Arc::new(DiskFs::new(t.path()).unwrap()), Sources::new());
        let deps: Vec<String> = r.dependencies("prod").into_iter().collect();
        assert_eq!(
            deps,
            [
                "base/app.conf",
                "base/d.yaml",
                "base/e.env",
                "base/kustomization.yaml",
                "comp/kustomization.yaml",
                "comp/p.yaml",
                "prod/j.yaml",
                "prod/kustomization.yaml",
            ]
        );
    }
}
