//! What the fuzz targets share: budgets small enough for fast iterations, an in-memory
//! repository, and the checks every rendered output must pass (it parses again, it prints the
//! same again).

use std::sync::{Arc, Once};

use kustodian::render::Renderer;
use kustodian::source::{FileId, Fs, MemFs, Sources};
use kustodian::yaml::{Node, emit_documents, parse_documents};

/// Budgets for fuzzing: lower than the defaults so an input that grows fast reaches them in
/// microseconds (the budgets themselves are what is under test, not their size); depth keeps
/// its default, so the stack the run needs is exercised at full depth.
pub fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let limits = kustodian::limits::DEFAULT
            .with_overrides("file-bytes=1MiB,tree-bytes=16MiB,nodes=200000,alias-nodes=50000,documents=5000")
            .expect("valid budgets");
        kustodian::limits::set(limits);
        kustodian::limits::init_threads();
    });
}

/// Splits an input at NUL bytes into at most `n` UTF-8 parts (`None`: not UTF-8).
pub fn parts(data: &[u8], n: usize) -> Option<Vec<&str>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut v: Vec<&str> = text.splitn(n, '\0').collect();
    v.resize(n, "");
    Some(v)
}

/// A repository in memory from `(path, text)` pairs.
pub fn repo<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> MemFs {
    let mut fs = MemFs::new();
    for (p, t) in files {
        fs.insert(p, t.as_bytes());
    }
    fs
}

/// Builds `dir` (on a thread with the stack the budgets need, as the command line does) and
/// checks what it prints.
pub fn render(fs: MemFs, dir: &str) {
    let dir = dir.to_string();
    kustodian::limits::with_stack(move || {
        let renderer = Renderer::new(Arc::new(fs) as Arc<dyn Fs>, Sources::new());
        if let Ok(build) = renderer.build(&dir) {
            let text = kustodian::render::to_yaml(&build.resources);
            reprints_the_same(&text);
        }
    });
}

/// Printed YAML parses again and prints the same: the emitter neither writes what it cannot
/// read back nor changes a document it reads back.
pub fn reprints_the_same(text: &str) {
    let docs = parse_documents(text, FileId(0))
        .unwrap_or_else(|e| panic!("printed YAML does not parse ({e}):\n{text}"));
    let maps: Vec<&Node> = docs.iter().filter(|d| d.as_map().is_some()).collect();
    let again = emit_documents(maps.into_iter());
    assert_eq!(text, again, "printing the printed YAML again changes it");
}
