//! Debugging aid for the YAML fast path: `cargo run --example yaml_fast_diff FILE` prints
//! "declined" when the fast path leaves FILE to the general parser, else every node or key whose
//! value or span differs between the two (nothing when they agree, as they must).

use kustodian::source::FileId;
use kustodian::yaml::{fast, parse};
fn flat(n: &kustodian::yaml::Node, path: String, out: &mut Vec<String>) {
    out.push(format!(
        "{path} loc={}..{} {:?}",
        n.loc.start,
        n.loc.end,
        match &n.value {
            kustodian::yaml::Value::Map(_) => "map".to_string(),
            kustodian::yaml::Value::Seq(_) => "seq".to_string(),
            v => format!("{v:?}"),
        }
    ));
    match &n.value {
        kustodian::yaml::Value::Map(m) => {
            for e in &m.entries {
                out.push(format!(
                    "{path}.{} keyloc={}..{}",
                    e.key, e.key_loc.start, e.key_loc.end
                ));
                flat(&e.value, format!("{path}.{}", e.key), out);
            }
        }
        kustodian::yaml::Value::Seq(s) => {
            for (i, x) in s.iter().enumerate() {
                flat(x, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let f = fast::parse(&text, FileId(0));
    let g = parse::parse_general(&text, FileId(0));
    let Some(f) = f else {
        println!("declined");
        return;
    };
    let g = g.unwrap();
    let (mut a, mut b) = (vec![], vec![]);
    for d in &f.0 {
        flat(d, String::new(), &mut a);
    }
    for d in &g.0 {
        flat(d, String::new(), &mut b);
    }
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            println!("fast:    {x}\ngeneral: {y}");
        }
    }
    if a.len() != b.len() {
        println!("len {} vs {}", a.len(), b.len());
    }
    if f.1 != g.1 {
        println!("dups differ");
    }
}
