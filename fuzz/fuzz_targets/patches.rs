//! Strategic-merge and JSON 6902 patches: `resources NUL patch NUL how`, where `how` picks the
//! way the kustomization applies the patch (strategic merge, JSON 6902 with a target, inline).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kustodian_fuzz::setup();
    let Some(p) = kustodian_fuzz::parts(data, 3) else {
        return;
    };
    let (resources, patch, how) = (p[0], p[1], p[2]);
    let k = match how.bytes().next().unwrap_or(0) % 4 {
        0 => "resources: [r.yaml]\npatches:\n- path: p.yaml\n".to_string(),
        1 => format!(
            "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target:\n    kind: {}\n",
            how.get(1..).filter(|k| !k.is_empty()).unwrap_or("Deployment")
        ),
        2 => "resources: [r.yaml]\npatchesStrategicMerge:\n- p.yaml\n".to_string(),
        _ => "resources: [r.yaml]\npatchesJson6902:\n- target: {version: v1, kind: ConfigMap, name: cm}\n  path: p.yaml\n".to_string(),
    };
    let fs = kustodian_fuzz::repo([
        ("app/kustomization.yaml", k.as_str()),
        ("app/r.yaml", resources),
        ("app/p.yaml", patch),
    ]);
    kustodian_fuzz::render(fs, "app");
});
