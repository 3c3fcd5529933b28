//! The YAML fast path on the real-world corpus of `scripts/bench` (public kustomizations, see
//! benches/corpus/repos.txt): collected by `scripts/collect-corpus target/bench-corpus` from
//! local clones, so not part of `scripts/test`; run it by hand after collecting
//! (`cargo test --test yaml_corpus -- --ignored`) when changing the fast path.

use std::path::{Path, PathBuf};

use kustodian::source::FileId;
use kustodian::yaml::{fast, parse};

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// The real-world corpus of `scripts/bench` (`scripts/collect-corpus target/bench-corpus`): every
/// file parses to the general parser's trees (debug builds assert it inside `parse_documents`),
/// and all but a small share of its bytes take the fast path.
#[test]
#[ignore = "needs the bench corpus: scripts/collect-corpus target/bench-corpus"]
fn fast_path_carries_the_bench_corpus() {
    let mut files = Vec::new();
    yaml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpus"),
        &mut files,
    );
    assert!(
        files.len() > 1000,
        "only {} files: collect the corpus first",
        files.len()
    );
    let (mut total, mut declined) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        total += text.len();
        let _ = parse::parse_documents_with_duplicates(&text, FileId(0));
        match fast::parse_pieces(&text, FileId(0)) {
            None => declined += text.len(),
            Some(pieces) => {
                for p in pieces {
                    if let fast::Piece::Declined(r) = p {
                        declined += r.len();
                    }
                }
            }
        }
    }
    assert!(
        declined * 10 < total,
        "{declined} of {total} bytes declined"
    );
}
