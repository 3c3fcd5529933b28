//! Every `expected.yaml` in the kustomize conformance corpus is kustomize's own output, so parsing
//! it and printing it again must give back the same bytes. This pins the emitter to kustomize's
//! style over ~150 real outputs. Skipped, with a message, without `../shared`.

use std::path::PathBuf;

#[test]
fn reemitting_kustomize_output_is_identity() {
    let cases = [
        std::env::var_os("KUSTODIAN_SHARED").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")),
    ]
    .into_iter()
    .flatten()
    .map(|p| p.join("conformance/kustomize/cases"))
    .find(|p| p.is_dir());
    let Some(cases) = cases else {
        eprintln!("SKIPPED: conformance corpus not found");
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&cases).unwrap() {
        let path = entry.unwrap().path().join("expected.yaml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let docs = kustodian::yaml::parse_documents(&text, kustodian::source::FileId(0)).unwrap();
        let docs: Vec<_> = docs.into_iter().filter(|d| !d.is_null()).collect();
        let out = kustodian::yaml::emit_documents(docs.iter());
        checked += 1;
        if out != text {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                similar::TextDiff::from_lines(&text, &out)
                    .unified_diff()
                    .context_radius(1)
                    .header("kustomize", "kustodian")
            ));
        }
    }
    assert!(checked > 100, "only {checked} outputs found");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
