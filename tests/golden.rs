//! Golden tests: `kustodian render` must print exactly what the real kustomize printed for each
//! target under `fixtures/golden/` (regenerate with `scripts/regen-goldens`).

use std::path::Path;
use std::process::Command;

#[test]
fn render_matches_kustomize_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden");
    let mut failures = Vec::new();
    let mut checked = 0;
    for suite in std::fs::read_dir(&root).unwrap() {
        let suite = suite.unwrap().path();
        let targets = std::fs::read_to_string(suite.join("targets")).unwrap();
        for target in targets.lines().filter(|l| !l.trim().is_empty()) {
            let stem = target.replace('/', "__");
            let expected =
                std::fs::read_to_string(suite.join("expected").join(format!("{stem}.yaml")));
            let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
                .arg("render")
                .arg(suite.join(target))
                .output()
                .unwrap();
            checked += 1;
            let got = String::from_utf8_lossy(&out.stdout);
            match expected {
                Ok(exp) if out.status.success() && got == exp => {}
                Ok(exp) => failures.push(format!(
                    "{}/{target}: output differs (exit {:?})\n{}\nstderr: {}",
                    suite.display(),
                    out.status.code(),
                    similar::TextDiff::from_lines(exp.as_str(), &*got)
                        .unified_diff()
                        .header("kustomize", "kustodian"),
                    String::from_utf8_lossy(&out.stderr)
                )),
                // kustomize refuses it: so must kustodian, with exit 2 and the line to fix.
                Err(_) if !out.status.success() => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    let located = err.contains("╭─[") || err.contains(".yaml:");
                    if out.status.code() != Some(2) || !located {
                        failures.push(format!(
                            "{}/{target}: refused without exit 2 and a location (exit {:?}):\n{err}",
                            suite.display(),
                            out.status.code()
                        ));
                    }
                }
                Err(_) => failures.push(format!(
                    "{}/{target}: kustomize failed but kustodian succeeded",
                    suite.display()
                )),
            }
        }
    }
    assert!(checked > 0, "no golden targets found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The same targets rendered together in one process: one renderer, bases memoized and shared
/// across overlays, built in parallel. Each section must still be kustomize's output for that
/// target alone — nothing one overlay sets (an `openapi` schema, a base built under it) may leak
/// into another.
#[test]
fn rendering_targets_together_matches_rendering_them_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden");
    let mut failures = Vec::new();
    for suite in std::fs::read_dir(&root).unwrap() {
        let suite = suite.unwrap().path();
        let targets = std::fs::read_to_string(suite.join("targets")).unwrap();
        // Only targets kustomize renders (one refusal fails the whole multi-target run).
        let ok: Vec<&str> = targets
            .lines()
            .filter(|t| !t.trim().is_empty())
            .filter(|t| {
                suite
                    .join("expected")
                    .join(format!("{}.yaml", t.replace('/', "__")))
                    .exists()
            })
            .collect();
        if ok.len() < 2 {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .current_dir(&suite)
            .arg("render")
            .args(&ok)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            suite.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8(out.stdout).unwrap();
        let mut sections = got.split("# Source: ").filter(|s| !s.is_empty());
        for t in &ok {
            let section = sections.next().unwrap_or_default();
            let body = section.strip_prefix(&format!("{t}\n")).unwrap_or(section);
            // Sections after the first are introduced by a document separator.
            let body = body.strip_suffix("---\n").unwrap_or(body);
            let exp = std::fs::read_to_string(
                suite
                    .join("expected")
                    .join(format!("{}.yaml", t.replace('/', "__"))),
            )
            .unwrap();
            if body != exp {
                failures.push(format!(
                    "{}/{t} rendered with the suite's other targets:\n{}",
                    suite.display(),
                    similar::TextDiff::from_lines(exp.as_str(), body)
                        .unified_diff()
                        .header("kustomize", "kustodian")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
