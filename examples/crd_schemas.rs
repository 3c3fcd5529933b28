//! The converter behind `scripts/update-crd-schemas`: reads CustomResourceDefinition files with
//! kustodian's own YAML parser and converts every served version with the conversion the
//! repository's CRDs go through (`kustodian::schema::crd_kind_schemas`), then writes one
//! project's bundle (`schemas/gitops/<project>.json.gz`, read by build.rs).
//!
//! `cargo run --example crd_schemas -- OUT.json.gz PROJECT [--source LABEL FILE...]...`
//!
//! `--source` labels the files after it (`fluxcd/helm-controller v1.6.3`). When two files serve
//! the same apiVersion and kind, the first one given wins: list the newest release first, then
//! older releases for the API versions it no longer serves.

use std::io::Write;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(project)) = (args.first(), args.get(1)) else {
        eprintln!("usage: crd_schemas OUT.json.gz PROJECT [--source LABEL FILE...]...");
        return std::process::ExitCode::from(2);
    };
    let mut kinds: Vec<serde_json::Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut source = String::new();
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        if a == "--source" {
            source = rest.next().cloned().unwrap_or_default();
            continue;
        }
        if source.is_empty() {
            eprintln!("{a}: no --source before it");
            return std::process::ExitCode::from(2);
        }
        let text = match std::fs::read_to_string(a) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{a}: {e}");
                return std::process::ExitCode::from(2);
            }
        };
        let docs = match kustodian::yaml::parse_documents(&text, kustodian::source::FileId::NONE) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{a}: invalid YAML: {}", e.message);
                return std::process::ExitCode::from(2);
            }
        };
        let crds: Vec<_> = docs
            .iter()
            .filter(|d| d.str_at(&["kind"]) == Some("CustomResourceDefinition"))
            .collect();
        if crds.is_empty() {
            eprintln!("{a}: no CustomResourceDefinition");
            return std::process::ExitCode::from(2);
        }
        for crd in crds {
            for (api, kind, schema) in kustodian::schema::crd_kind_schemas(crd) {
                if !seen.insert((api.clone(), kind.clone())) {
                    continue;
                }
                eprintln!("{project}: {api} {kind} ({source})");
                kinds.push(serde_json::json!({
                    "apiVersion": api,
                    "kind": kind,
                    "source": source,
                    "schema": schema,
                }));
            }
        }
    }
    let doc = serde_json::json!({"project": project, "kinds": kinds});
    let text = serde_json::to_string(&doc).expect("JSON");
    // No name and no time in the gzip header: the same input gives the same bytes.
    let mut gz = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
    gz.write_all(text.as_bytes()).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    if let Err(e) = std::fs::write(out, &bytes) {
        eprintln!("{out}: {e}");
        return std::process::ExitCode::from(2);
    }
    eprintln!(
        "{out}: {} bytes of JSON, {} gzipped",
        text.len(),
        bytes.len()
    );
    std::process::ExitCode::SUCCESS
}
