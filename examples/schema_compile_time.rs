//! Where a check's fixed schema cost goes: inflating the bundled definitions, parsing them,
//! setting up the meta-schema, and compiling the validators of three common kinds (three rounds;
//! the first pays the one-time costs).
//!
//!     cargo run --release --example schema_compile_time
fn main() {
    {
        use std::io::Read;
        let gz = kustodian::schema::BUNDLED.last().unwrap().1;
        let t = std::time::Instant::now();
        let mut text = String::with_capacity(400_000);
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .unwrap();
        eprintln!("round -: inflate {:?} ({} bytes)", t.elapsed(), text.len());
        let t = std::time::Instant::now();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        eprintln!(
            "round -: full parse {:?} ({} defs)",
            t.elapsed(),
            v["$defs"].as_object().unwrap().len()
        );
    }
    let t = std::time::Instant::now();
    let n = kustodian::schema::kinds("1.37").len();
    eprintln!("round -: bundle+index ({n} kinds) {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let _ = jsonschema::validator_for(
        &serde_json::json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}),
    );
    eprintln!("round -: trivial compile {:?}", t.elapsed());
    let kinds = [
        ("apps/v1", "Deployment"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
    ];
    for round in 0..3 {
        let t = std::time::Instant::now();
        let s = kustodian::schema::SchemaSet::new(None, true, &[]).unwrap();
        let t0 = t.elapsed();
        for (a, k) in kinds {
            let t1 = std::time::Instant::now();
            s.prepare(&[(a.to_string(), k.to_string())]);
            eprintln!("round {round}: {k} {:?}", t1.elapsed());
        }
        eprintln!("round {round}: new {:?} total {:?}", t0, t.elapsed());
    }
}
