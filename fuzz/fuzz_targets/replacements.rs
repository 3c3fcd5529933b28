//! Replacements: `resources NUL replacements`, the second a `replacements:` file the
//! kustomization names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kustodian_fuzz::setup();
    let Some(p) = kustodian_fuzz::parts(data, 2) else {
        return;
    };
    let fs = kustodian_fuzz::repo([
        (
            "app/kustomization.yaml",
            "resources: [r.yaml]\nreplacements:\n- path: repl.yaml\n",
        ),
        ("app/r.yaml", p[0]),
        ("app/repl.yaml", p[1]),
    ]);
    kustodian_fuzz::render(fs, "app");
});
