//! The bundled-schema validator (`src/schema/native.rs`) against `jsonschema` as the reference.
//!
//! Every bundled definition a kind reaches is written to a kubeconform-style schema directory
//! (the JSON Schema the tables were built from), so one `SchemaSet` validates with `jsonschema`
//! while another walks the static tables. Real manifests from `fixtures/` plus a few more kinds,
//! and thousands of broken variants of them (every value replaced by each JSON type, unknown and
//! misspelt keys added, each key removed, strings set to values no enum has), must give exactly
//! the same outcome both ways — the same violations, with the same pointers, messages and lines —
//! for every bundled Kubernetes version: strict and relaxed, every variant, for the oldest and
//! the newest; strict and every 25th variant for the versions between (the same build step
//! made all of their tables; what differs between versions is the data, which the sampled
//! variants still reach kind by kind).

use std::io::Read;
use std::path::Path;

use kustodian::schema::{Outcome, SchemaOptions, SchemaSet};
use kustodian::source::{FileId, Loc};
use kustodian::yaml::{Entry, Mapping, Node, Value};
use serde_json::{Value as J, json};

const MORE: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, annotations: {a: b}}
spec:
  ingressClassName: nginx
  tls: [{hosts: [web.example.com], secretName: tls}]
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchExpressions: [{key: team, operator: In, values: [a]}]}}]
    ports: [{port: http, protocol: TCP}, {port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      securityContext: {runAsNonRoot: true, fsGroup: 1000}
      containers:
      - name: db
        image: postgres:16
        args: ["-c", "max_connections=200"]
        env:
        - {name: A, value: "1"}
        - name: B
          valueFrom: {secretKeyRef: {name: s, key: k}}
        livenessProbe: {tcpSocket: {port: 5432}, periodSeconds: 10}
        resources: {limits: {cpu: 1.5, memory: 1Gi}, requests: {cpu: 500m}}
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]
      tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Gi}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: j, image: busybox, command: [sh, -c, "true"]}]
"#;

/// The bundled definitions of one version, from the file the tables were built from.
fn bundled_defs(version: &str) -> serde_json::Map<String, J> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("schemas/kubernetes/v{version}.json.gz"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let doc: J = serde_json::from_str(&text).unwrap();
    doc["$defs"].as_object().unwrap().clone()
}

/// Writes `{kind}-{group}-{version}.json` for every kind the objects have, each the whole set of
/// definitions with a `$ref` to the kind's: what `jsonschema` validates against.
fn schema_dir(dir: &Path, defs: &serde_json::Map<String, J>, objects: &[Node]) {
    std::fs::create_dir_all(dir).unwrap();
    for o in objects {
        let api = o.str_at(&["apiVersion"]).unwrap();
        let kind = o.str_at(&["kind"]).unwrap();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let name = defs
            .iter()
            .find(|(_, d)| {
                d["x-kubernetes-group-version-kind"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|g| {
                        g["group"].as_str().unwrap_or("") == group
                            && g["version"] == version
                            && g["kind"] == kind
                    })
            })
            .map_or_else(|| panic!("{api} {kind} is bundled"), |(n, _)| n.clone());
        let label = group.split('.').next().unwrap();
        let file = if group.is_empty() {
            format!("{}-{version}.json", kind.to_lowercase())
        } else {
            format!("{}-{label}-{version}.json", kind.to_lowercase())
        };
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": defs,
            "$ref": format!("#/$defs/{name}"),
        });
        std::fs::write(dir.join(file), schema.to_string()).unwrap();
    }
}

/// Manifests of bundled kinds from `fixtures/` and [`MORE`].
fn objects(native: &SchemaSet) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    texts.push(MORE.to_string());
    // Kubernetes kinds only: the bundled GitOps kinds' schemas are compiled with `jsonschema`.
    let kubernetes: std::collections::BTreeSet<(String, String)> =
        kustodian::schema::kinds(native.version())
            .into_iter()
            .collect();
    for text in texts {
        let Ok(docs) = kustodian::yaml::parse_documents(&text, FileId::NONE) else {
            continue;
        };
        out.extend(docs.into_iter().filter(|d| {
            let (Some(api), Some(kind)) = (d.str_at(&["apiVersion"]), d.str_at(&["kind"])) else {
                return false;
            };
            kubernetes.contains(&(api.to_string(), kind.to_string()))
                && !matches!(native.validate(d), Outcome::MissingSchema)
        }));
    }
    out
}

fn node(value: Value) -> Node {
    Node {
        value,
        loc: Loc::NONE,
        via: Loc::NONE,
    }
}

fn entry(key: &str, value: Value) -> Entry {
    Entry {
        key: key.into(),
        key_loc: Loc::NONE,
        value: node(value),
    }
}

/// Paths (as child indexes) to every node of a tree, parents first.
fn paths(n: &Node, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(prefix.clone());
    let children: Vec<&Node> = match &n.value {
        Value::Map(m) => m.entries.iter().map(|e| &e.value).collect(),
        Value::Seq(items) => items.iter().collect(),
        _ => vec![],
    };
    for (i, c) in children.into_iter().enumerate() {
        prefix.push(i);
        paths(c, prefix, out);
        prefix.pop();
    }
}

fn at<'a>(n: &'a mut Node, path: &[usize]) -> &'a mut Node {
    let mut cur = n;
    for &i in path {
        cur = match &mut cur.value {
            Value::Map(m) => &mut m.entries[i].value,
            Value::Seq(items) => &mut items[i],
            _ => unreachable!(),
        };
    }
    cur
}

/// Broken variants of an object: each node replaced by each kind of value, strings set to a
/// value no enum has, mappings with an unknown and a misspelt key, and each key removed.
fn variants(obj: &Node) -> Vec<Node> {
    let replacements = || {
        vec![
            Value::Int(3),
            Value::Float(1.5),
            Value::Float(2.0),
            Value::Str("x".into()),
            Value::Bool(true),
            Value::Null,
            Value::Map(Mapping::default()),
            Value::Seq(vec![node(Value::Str("item".into()))]),
            Value::Map(Mapping {
                entries: vec![entry("unknownField", Value::Int(1))],
            }),
        ]
    };
    let mut all = Vec::new();
    paths(obj, &mut Vec::new(), &mut all);
    let mut out = Vec::new();
    for path in all.iter().filter(|p| !p.is_empty()) {
        for r in replacements() {
            let mut o = obj.clone();
            at(&mut o, path).value = r;
            out.push(o);
        }
        let mut o = obj.clone();
        let target = at(&mut o, path);
        match &mut target.value {
            Value::Str(s) => {
                *s = "NotAnAllowedValue".into();
                out.push(o);
            }
            Value::Map(m) if !m.entries.is_empty() => {
                let first = m.entries[0].key.to_string();
                let mut extra = obj.clone();
                if let Value::Map(m) = &mut at(&mut extra, path).value {
                    m.entries.push(entry("bogusField", Value::Str("v".into())));
                    m.entries.push(entry(&format!("{first}x"), Value::Int(1)));
                    m.entries.push(entry(&first.to_uppercase(), Value::Int(1)));
                }
                out.push(extra);
                for i in 0..m.entries.len() {
                    let mut fewer = obj.clone();
                    if let Value::Map(m) = &mut at(&mut fewer, path).value {
                        m.entries.remove(i);
                    }
                    out.push(fewer);
                }
            }
            _ => {}
        }
    }
    out
}

/// An outcome as comparable text, its violations sorted.
fn summary(o: &Outcome) -> String {
    match o {
        Outcome::Invalid(vs) => {
            let mut lines: Vec<String> = vs
                .iter()
                .map(|v| format!("{} | {} | {} | {:?}", v.pointer, v.path, v.message, v.loc))
                .collect();
            lines.sort();
            format!("invalid:\n  {}", lines.join("\n  "))
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn bundled_tables_validate_exactly_like_jsonschema() {
    let t = tempfile::tempdir().unwrap();
    let versions = kustodian::schema::bundled_versions();
    for (vi, version) in versions.iter().cloned().enumerate() {
        let ends = vi == 0 || vi + 1 == versions.len();
        let every = if ends { 1 } else { 25 };
        let defs = bundled_defs(&version);
        let probe = SchemaSet::new(Some(&version), true, &[]).unwrap();
        let objs = objects(&probe);
        let kinds: std::collections::BTreeSet<(String, String)> = objs
            .iter()
            .map(|o| {
                (
                    o.str_at(&["apiVersion"]).unwrap().to_string(),
                    o.str_at(&["kind"]).unwrap().to_string(),
                )
            })
            .collect();
        assert!(kinds.len() >= 12, "too few kinds to compare: {kinds:?}");
        let dir = t.path().join(&version);
        schema_dir(&dir, &defs, &objs);
        let mut compared = 0;
        let mut invalid = 0;
        for strict in [true, false].into_iter().filter(|s| ends || *s) {
            let native = SchemaSet::new(Some(&version), strict, &[]).unwrap();
            let reference = SchemaSet::with_options(
                &SchemaOptions {
                    kubernetes_version: Some(version.clone()),
                    strict,
                    schema_dirs: vec![dir.clone()],
                    ..SchemaOptions::default()
                },
                &[],
            )
            .unwrap();
            for obj in &objs {
                for o in
                    std::iter::once(obj.clone()).chain(variants(obj).into_iter().step_by(every))
                {
                    let ours = summary(&native.validate(&o));
                    let theirs = summary(&reference.validate(&o));
                    assert_eq!(
                        ours,
                        theirs,
                        "Kubernetes {version}, strict {strict}, object:\n{}",
                        kustodian::yaml::emit_documents([&o])
                    );
                    compared += 1;
                    invalid += usize::from(ours.starts_with("invalid"));
                }
            }
        }
        eprintln!("{version}: {compared} compared, {invalid} invalid");
        // Both kinds of outcome were exercised, at volume.
        let enough = if ends { 5_000 } else { 100 };
        assert!(compared > enough, "{compared} objects compared");
        assert!(
            invalid > compared / 2 && invalid < compared,
            "{invalid} of {compared} invalid"
        );
    }
}
