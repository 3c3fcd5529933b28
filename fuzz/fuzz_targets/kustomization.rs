//! Kustomization loading and building: the input is `app/kustomization.yaml` beside resources,
//! patches, a base, a component and generator files that any field may name.
#![no_main]

use libfuzzer_sys::fuzz_target;

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        env:\n        - name: A\n          valueFrom:\n            configMapKeyRef:\n              name: cm\n              key: a\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n";
const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n";
const SMP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
const JSON: &str = "- op: add\n  path: /metadata/labels/x\n  value: y\n";

fuzz_target!(|data: &[u8]| {
    kustodian_fuzz::setup();
    let Ok(k) = std::str::from_utf8(data) else {
        return;
    };
    let fs = kustodian_fuzz::repo([
        ("app/kustomization.yaml", k),
        ("app/deploy.yaml", DEPLOY),
        ("app/cm.yaml", CM),
        ("app/patch.yaml", SMP),
        ("app/patch.json.yaml", JSON),
        ("app/a.env", "A=1\nB=2\n"),
        ("app/a.txt", "text\n"),
        ("base/kustomization.yaml", "resources:\n- svc.yaml\n"),
        ("base/svc.yaml", SVC),
        ("comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\n"),
    ]);
    kustodian_fuzz::render(fs, "app");
});
