//! YAML throughput (`cargo bench --bench yaml`): parsing, emitting and the round trip of both, in
//! MB/s of input text, on large single files — the multi-megabyte CRDs that dominate real
//! repositories' render times.
//!
//! The files are named in `KUSTODIAN_BENCH_YAML` (paths separated by `:`; `scripts/bench` passes
//! the largest files of its real-world corpus). Without it, a CRD-shaped document of ~3 MB is
//! generated (nested `properties`, long folded descriptions, enums, `x-kubernetes-*` flags), so
//! the bench always runs.

use kustodian::source::FileId;
use kustodian::yaml::{emit_documents, parse_documents};

/// The allocator the binary ships with (src/bin/kustodian/main.rs): parsing and dropping a tree
/// is mostly allocation, so the system allocator would measure something no user runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// The inputs, by name: (name, text).
fn inputs() -> &'static [(String, String)] {
    static INPUTS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    INPUTS.get_or_init(|| match std::env::var("KUSTODIAN_BENCH_YAML") {
        Ok(list) if !list.is_empty() => list
            .split(':')
            .map(|p| {
                let name = std::path::Path::new(p)
                    .file_name()
                    .map_or(p.to_string(), |n| n.to_string_lossy().into_owned());
                (
                    name,
                    std::fs::read_to_string(p).expect("KUSTODIAN_BENCH_YAML names a file"),
                )
            })
            .collect(),
        _ => vec![("generated-crd.yaml".to_string(), generated_crd(3 << 20))],
    })
}

fn names() -> Vec<&'static str> {
    inputs().iter().map(|(n, _)| n.as_str()).collect()
}

fn text(name: &str) -> &'static str {
    &inputs().iter().find(|(n, _)| n == name).unwrap().1
}

#[divan::bench(args = names())]
fn parse(b: divan::Bencher, name: &str) {
    let text = text(name);
    b.counter(divan::counter::BytesCount::of_str(text))
        .bench(|| parse_documents(divan::black_box(text), FileId(0)).unwrap());
}

#[divan::bench(args = names())]
fn emit(b: divan::Bencher, name: &str) {
    let text = text(name);
    let docs = parse_documents(text, FileId(0)).unwrap();
    b.counter(divan::counter::BytesCount::of_str(text))
        .bench(|| emit_documents(divan::black_box(&docs)));
}

#[divan::bench(args = names())]
fn round_trip(b: divan::Bencher, name: &str) {
    let text = text(name);
    b.counter(divan::counter::BytesCount::of_str(text))
        .bench(|| {
            let docs = parse_documents(divan::black_box(text), FileId(0)).unwrap();
            emit_documents(&docs)
        });
}

/// A CustomResourceDefinition of about `size` bytes, shaped like controller-gen's output.
fn generated_crd(size: usize) -> String {
    let mut out = String::from(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    controller-gen.kubebuilder.io/version: v0.16.4\n  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n    plural: widgets\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n",
    );
    let mut i = 0;
    while out.len() < size {
        let pad = "  ".repeat(5);
        out.push_str(&format!(
            "{pad}field{i}:\n{pad}  description: |-\n{pad}    Field {i} of the widget. It is described at length, the way generated schemas copy\n{pad}    Go doc comments: more than one line, with `code`, punctuation: and numbers 1.0.\n{pad}  properties:\n{pad}    name:\n{pad}      description: The name of the referent, unique within the namespace of the widget that owns it.\n{pad}      type: string\n{pad}    port:\n{pad}      anyOf:\n{pad}      - type: integer\n{pad}      - type: string\n{pad}      x-kubernetes-int-or-string: true\n{pad}    mode:\n{pad}      enum:\n{pad}      - Always\n{pad}      - \"Never\"\n{pad}      - IfNotPresent\n{pad}      type: string\n{pad}    limits:\n{pad}      additionalProperties:\n{pad}        pattern: ^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))$\n{pad}        x-kubernetes-int-or-string: true\n{pad}      type: object\n{pad}  required:\n{pad}  - name\n{pad}  type: object\n"
        ));
        i += 1;
    }
    out
}
