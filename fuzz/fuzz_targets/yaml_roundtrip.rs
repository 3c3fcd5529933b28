//! The YAML parser and emitter: any text parses or fails with an error (never a panic, a hang or
//! unbounded memory: the budgets), and whatever mapping documents it yields print as YAML that
//! parses back and prints the same.
#![no_main]

use kustodian::source::FileId;
use kustodian::yaml::{emit_documents, parse_documents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kustodian_fuzz::setup();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = parse_documents(text, FileId(0)) else {
        return;
    };
    let maps = docs.iter().filter(|d| d.as_map().is_some());
    let printed = emit_documents(maps);
    kustodian_fuzz::reprints_the_same(&printed);
});
