//! Extracts each rule's `///` documentation (the doc comment on the rule's struct in
//! `src/rules/<rule>.rs`) into constants, so the doc comment is the single source of the text
//! `kustodian explain`, SARIF and the README show.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("src/rules");
    println!("cargo:rerun-if-changed=src/rules");
    let mut out = String::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/rules exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if stem == "mod" || stem == "pods" {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let lines: Vec<&str> = text.lines().collect();
        let Some(idx) = lines.iter().position(|l| l.starts_with("pub struct ")) else {
            continue;
        };
        let mut doc: Vec<String> = Vec::new();
        let mut i = idx;
        while i > 0 {
            i -= 1;
            let l = lines[i].trim_start();
            if let Some(rest) = l.strip_prefix("///") {
                doc.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
            } else if l.starts_with("#[") {
                continue;
            } else {
                break;
            }
        }
        doc.reverse();
        writeln!(
            out,
            "pub const {}: &str = {:?};",
            stem.to_uppercase(),
            doc.join("\n")
        )
        .unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("rule_docs.rs");
    std::fs::write(dest, out).unwrap();
}
