//! Every `expected.yaml` in the kustomize conformance corpus is kustomize's own output, so parsing
//! it and printing it again must give back the same bytes. This pins the emitter to kustomize's
//! style over ~150 real outputs. The corpus is not in this repository: `#[ignore]`d, run by
//! `scripts/test` when the project's shared folder is there (CONTRIBUTING.md).

mod common;

#[test]
#[ignore = "needs the kustomize conformance corpus (../shared or $KUSTODIAN_SHARED); scripts/test runs it when present"]
fn reemitting_kustomize_output_is_identity() {
    let cases = common::shared_dir().join("conformance/kustomize/cases");
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
