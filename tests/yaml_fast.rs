//! The YAML fast path against the general parser: wherever the fast path answers, its documents,
//! spans and duplicate keys must be the general parser's. Run over every YAML file in the
//! fixtures, over kustomize's conformance inputs (`#[ignore]`d: the corpus is not in this
//! repository; `scripts/test` runs it when the project's shared folder is there), and over
//! hand-written edge cases; and the fast path must actually carry typical manifests.

mod common;

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
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".yaml") || n.ends_with(".yml") || n == "Kustomization")
        {
            out.push(p);
        }
    }
}

/// `Some(true)`: the fast path answered and agreed; `None`: it declined.
fn agrees(text: &str) -> Option<bool> {
    let f = fast::parse(text, FileId(0))?;
    let g = parse::parse_general(text, FileId(0)).ok()?;
    Some(
        f.0.len() == g.0.len()
            && f.0.iter().zip(&g.0).all(|(a, b)| fast::same_tree(a, b))
            && f.1 == g.1,
    )
}

#[test]
fn fast_path_matches_the_general_parser_on_every_input_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(&root.join("fixtures"), &mut files);
    yaml_files(&root.join("tests"), &mut files);
    fast_path_agrees_on(&files);
}

#[test]
#[ignore = "needs the kustomize conformance corpus (../shared or $KUSTODIAN_SHARED); scripts/test runs it when present"]
fn fast_path_matches_the_general_parser_on_the_conformance_inputs() {
    let mut files = Vec::new();
    yaml_files(&common::shared_dir().join("conformance"), &mut files);
    fast_path_agrees_on(&files);
}

fn fast_path_agrees_on(files: &[PathBuf]) {
    let (mut fast_count, mut total) = (0, 0);
    let mut wrong = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        total += 1;
        match agrees(&text) {
            Some(true) => fast_count += 1,
            Some(false) => wrong.push(f.display().to_string()),
            None => {}
        }
    }
    assert!(wrong.is_empty(), "fast path differs on: {wrong:#?}");
    // The fast path exists to carry ordinary manifests; if it declined most of them it would
    // be dead weight (and this test would check little).
    assert!(total > 50, "only {total} files found");
    assert!(
        fast_count * 2 > total,
        "fast path took only {fast_count} of {total} files"
    );
}

#[test]
fn fast_path_edge_cases_agree_or_decline() {
    let cases = [
        "a: 1\n",
        "a: 1",
        "a:\n",
        "a:",
        "a:   # c\nb: 2\n",
        "a: b\nc:\n  d: e\n  f:\n  - g\n  - h: i\n    j: k\n  -\n  - 'q'\n",
        "a:\n- x\n- y\nb: 1\n",
        "- a\n- b: c\n  d: e\n",
        "# c\n---\na: 1\n---\nb: 2\n",
        "---\na: 1\n",
        "a: 1\n---\n",
        "a: |\n  x\n  y\nb: 2\n",
        "a: |-\n  x\n\n  y\n\n\nb: 2\n",
        "a: |+\n  x\n\n\nb: 2\n",
        "a: |+\n  x\n\n",
        "a: |+\n  x\n",
        "a: |\n  x",
        "a: |+\n  x",
        "a: |+\n  x\n\n  ",
        "a:\n- |\n  x\n  y",
        "a: >\n  x\n  y",
        "a: |\n  x\n # c\nb: 1\n",
        "a: |\n    x\n  y\n",
        "- |\n  x\n- y\n",
        "a:\n- |\n  x\n",
        "a: \"x\\ty\\u00e9\\\"\"\nb: 'it''s'\n",
        "\"a b\": 1\n'c': 2\n",
        "a: 1\nb: 2\na: 3\n",
        "a: true\nb: 0755\nc: 1.10\nd: ~\ne: null\nf: 0x1F\ng: yes\n",
        "a: b: c\n",
        "a: b\n  c\n",
        "a: x #c\nb: x#c\nc: http://x:80/y\nd: a:b\n",
        "a: [1, 2]\n",
        "a: {b: c}\n",
        "a: [x, \"y\", 1]\nb: {k: v, \"q\": 2}\nc: []\nd: {}\ne: [ x ]\n",
        "a: [[x], {b: c}, [], 'q']\n",
        "a: [x,]\n",
        "a: [x, , y]\n",
        "a: [b: c]\n",
        "a: {b: }\n",
        "a: {b:c}\n",
        "a: {b: c, b: d}\n",
        "a: [x, y] # c\n",
        "a: [x, y]z\n",
        "a: [x,\n  y]\n",
        "- [a, b]\n- {c: d}\n",
        "k:\n- [a]\n",
        "k:\n  - [a]\n",
        "a: [http://x, y]\n",
        "a: [-1, -x, ~, null, true]\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: >\n  x\n",
        "a:\n  b: 1\n c: 2\n",
        "a:\n  - b\n  -c\n",
        "a:\n\tb: 1\n",
        "a: 1\r\nb: 2\r\n",
        "a: 'x\n  y'\n",
        "1: a\n",
        "~: a\n",
        "2001-12-14: a\n",
        "x:\n  2001-12-14t21:59:43.10-05:00: b\n",
        "key : v\n",
        "a:\n  b:\n    c:\n      d: [x]\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    a.b/c: \"true\"\ndata:\n  k: |\n    line one\n    line two\n",
        "- - a\n",
        "a:\n-\n  b: 1\n",
        "- \n- a\n",
        "a: -1\nb: -x\nc: ?x\nd: :x\n",
        "a: \"x\" # c\nb: 'y'#c\n",
        "...\n",
        "a: 1\n...\n",
        "",
        "# only a comment\n",
    ];
    let mut answered = 0;
    for c in cases {
        match agrees(c) {
            Some(true) => answered += 1,
            Some(false) => panic!("fast path differs on {c:?}"),
            None => {}
        }
        // Through the public entry point too: whatever path is taken, the result is the
        // general parser's (errors included).
        let g = parse::parse_general(c, FileId(0));
        let p = parse::parse_documents_with_duplicates(c, FileId(0));
        assert_eq!(g.is_ok(), p.is_ok(), "{c:?}");
    }
    assert!(answered >= 20, "fast path answered only {answered} cases");
}

/// A document the fast path declines is parsed on its own by the general parser, the others stay
/// on the fast path: spans, duplicate keys and errors are as if the whole file had been parsed
/// by the general parser.
#[test]
fn declined_documents_alone_go_to_the_general_parser() {
    let cases = [
        "a: 1\n---\nb: &x 2\nc: *x\n---\nd: 3\nd: 4\n",
        "k: >\n  folded\n---\na: 1\na: 2\n",
        "a: 1\na: 2\n---\nb: !!str 3\nb: 4\n---\nc: 5\n",
        "# lead\nk: >\n  x\n---\n# c\nb: [1,\n  2]\n---\nz: 1\n",
        "a: 1\n---\nb: [\n---\nc: 1\n",
        "a: 1\n---\nb: >\n  x\n--- c\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: &x 1\n---\nb: *x\n",
        "---\n# Source: a\n---\na: 1\n---\n# Source: b\nb: 1\n---\n",
        "a: 1\n---\n---\nb: 2\n",
        "a: 1\n---\nb: \"x\ty\"\n---\nc:\n  d: 1\n",
        "a: 1\n---\nb: 1\r\n---\nc: 1\n",
        "a: 1\n---\r\nb: 1\n",
    ];
    for c in cases {
        let g = parse::parse_general(c, FileId(0));
        let p = parse::parse_documents_with_duplicates(c, FileId(0));
        match (&g, &p) {
            (Ok(g), Ok(p)) => {
                assert_eq!(g.0.len(), p.0.len(), "{c:?}");
                assert!(
                    g.0.iter().zip(&p.0).all(|(a, b)| fast::same_tree(a, b)),
                    "{c:?}"
                );
                assert_eq!(g.1, p.1, "{c:?}");
            }
            (Err(g), Err(p)) => assert_eq!((g.loc, &g.message), (p.loc, &p.message), "{c:?}"),
            _ => panic!("{c:?}: general {g:?}, spliced {p:?}"),
        }
    }
    // These are spliced: some of their documents are the fast path's.
    for c in cases[..3].iter().chain(&cases[8..11]) {
        let pieces = fast::parse_pieces(c, FileId(0)).expect("split into documents");
        assert!(
            pieces.iter().any(|p| matches!(p, fast::Piece::Parsed(..))),
            "{c:?}"
        );
        assert!(
            pieces.iter().any(|p| matches!(p, fast::Piece::Declined(_))),
            "{c:?}"
        );
    }
}

/// Plain and quoted scalars wrapped over several lines (generated CRDs wrap long descriptions so):
/// the fast path carries the ordinary ones, and agrees with the general parser or declines on
/// the rest.
#[test]
fn multi_line_scalars() {
    let carried = [
        "a: one two\n  three four\n  five\nb: 1\n",
        "a: x\n\n  y\n",
        "a: x\n\n\n  y\nb: 2\n",
        "a: x\n  y # c\nb: 2\n",
        "- x\n  y\n- z\n",
        "a:\n  b: long\n    text\n  c: 1\n",
        "a:\n- b: long\n    text\n  c: 1\n",
        "a: 1\n  2\n",
        "a: true\n  false\n",
        "a: x\n  y\n\nb: 1\n",
        "a: x   \n  y  \n",
        "a: x\n  \"y\"\n",
        "a: x\n  [y]\n",
        "a: x\n  'y'\n",
        "a: x\n  y: z\n",
        "a: x\n  y\n    z\n",
        "a: x\n  ...\n",
        "a: 'one two\n  three'\nb: 1\n",
        "a: \"one\n  two\"\n",
        "a: 'x\n\n  y'\n",
        "a: 'it''s\n  here'\n",
        "- 'x\n  y'\n- z\n",
        "a: 'x\n  y' # c\n",
        "a: 'x  \n   y  '\n",
        "a: \"x\\ty\n  z\"\n",
        "a: 'x\n  # y\n  z'\n",
        "a:\n  b: 'Optional: x\n    y'\n  c: 1\n",
        "a:\n  ^$|^[a-z]$\nb: 1\n",
        "a:\n  b:\n    long value\n    wrapped\n  c: 1\n",
        "a:\n  'quoted'\n",
        "a:\n  \"x\n  y\"\n",
    ];
    let other = [
        "a: x\n  # c\n  y\n",
        "a: x\n  - y\n",
        "a: x\n  y:\n",
        "a: x\n  y #z\n  w\n",
        "a: x # c\n  y\n",
        "- x\n y\n",
        "a: \"x\\\n  y\"\n",
        "a: 'x\n  y'z\n",
        "a: 'x\ny'\n",
        "a: '\n  y'\n",
        "a: 'x\n  '\n",
        "a: 'x\n  y\n",
        "a: 'x\n---\n  y'\n",
        "a:\n  |\n   x\n",
        "a:\n  [x]\n",
        "a:\n  x\n  y: 1\n",
    ];
    for c in carried.iter().chain(&other) {
        let g = parse::parse_general(c, FileId(0));
        let p = parse::parse_documents_with_duplicates(c, FileId(0));
        assert_eq!(g.is_ok(), p.is_ok(), "{c:?}");
        if let Some(same) = agrees(c) {
            assert!(same, "fast path differs on {c:?}");
        }
    }
    for c in carried {
        if parse::parse_general(c, FileId(0)).is_ok() {
            assert_eq!(agrees(c), Some(true), "fast path declined {c:?}");
        }
    }
}
