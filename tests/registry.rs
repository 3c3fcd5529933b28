//! The rule registry is the one source of what rules exist: the built-in policy file, the README
//! rule table, `kustodian rules` and `kustodian explain` are generated from it or checked against
//! it here. Run with `KUSTODIAN_BLESS=1` to rewrite `policies/default.yaml` and the README table
//! after changing a rule.

use std::path::Path;
use std::process::Command;

use kustodian::rules::{CATALOG, RuleInfo, registry};
use kustodian::settings::policy::builtin_policy_yaml;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var_os("KUSTODIAN_BLESS").is_some()
}

fn summary(id: &str) -> String {
    kustodian::rules::lookup(id).unwrap().summary().to_string()
}

/// "error (production)", "warning", "error (PR mode)".
fn default_text(r: &RuleInfo) -> String {
    let mut notes: Vec<String> = Vec::new();
    if let Some(st) = r.default_stages {
        notes.push(
            st.iter()
                .map(kustodian::discover::Stage::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    if r.pull_request_only {
        notes.push("PR mode".into());
    }
    let level = r.default_level.as_str();
    if notes.is_empty() {
        level.to_string()
    } else {
        format!("{level} ({})", notes.join("; "))
    }
}

#[test]
fn the_builtin_policy_file_is_the_registry_written_out() {
    let path = root().join("policies/default.yaml");
    let text = builtin_policy_yaml(&CATALOG, &summary);
    if bless() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == text,
        "policies/default.yaml disagrees with the rules' declarations; regenerate with `KUSTODIAN_BLESS=1 cargo test --test registry`\n--- generated ---\n{text}"
    );
    // And it is a valid policy file that changes nothing.
    let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .args([
            "check",
            "fixtures/gitops-config",
            "--policy",
            "policies/default.yaml",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_readme_rule_table_is_generated_from_the_rule_docs() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let begin = readme
        .find("<!-- rules:begin")
        .expect("README has the rules:begin marker");
    let body = readme[begin..].find('\n').unwrap() + begin + 1;
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README has the rules:end marker");
    let mut table = String::from("| id | default | what |\n|---|---|---|\n");
    for r in registry() {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            r.id,
            default_text(r),
            r.summary()
        ));
    }
    if bless() {
        let new = format!("{}{}{}", &readme[..body], table, &readme[end..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    assert!(
        readme[body..end] == table,
        "README's rule table disagrees with the rules; regenerate with `KUSTODIAN_BLESS=1 cargo test --test registry`\n--- generated ---\n{table}"
    );
}

#[test]
fn rules_and_explain_show_every_registered_rule_and_its_doc() {
    // In a repository of no policies of its own (`rules` renders the one it stands in: this
    // checkout's fixtures have admission policies).
    let empty = tempfile::tempdir().unwrap();
    let listed = Command::new(env!("CARGO_BIN_EXE_kustodian"))
        .arg("rules")
        .current_dir(empty.path())
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    let ids: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut want: Vec<&str> = registry().map(|r| r.id).collect();
    want.extend(kustodian::diag::ErrorCode::ALL.iter().map(|c| c.id()));
    assert_eq!(ids, want);
    for r in registry() {
        let out = Command::new(env!("CARGO_BIN_EXE_kustodian"))
            .args(["explain", r.id])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("# {}\n\n{}\n", r.id, r.doc)
        );
        // Every rule's documentation has the sections `explain` promises.
        for section in ["**What.**", "**Why.**", "**Fix.**"] {
            assert!(r.doc.contains(section), "{}: no {section}", r.id);
        }
        // Its options compile from nothing (the defaults), and a policy entry naming it validates.
        let policy = format!("rules:\n  {}:\n    severity: note\n", r.id);
        kustodian::settings::policy::load_policy_file(
            "p.yaml",
            &policy,
            &kustodian::source::Sources::new(),
            &CATALOG,
        )
        .unwrap();
    }
}

/// docs/adding-a-rule.md walks through a real rule: its code block is that rule's file, word for
/// word, so the walkthrough compiles, runs and is tested (by its fixtures) like every rule.
#[test]
fn the_adding_a_rule_walkthrough_is_a_real_rule() {
    let doc = std::fs::read_to_string(root().join("docs/adding-a-rule.md")).unwrap();
    let start = doc
        .find("```rust\n//!")
        .expect("the walkthrough's rust block")
        + "```rust\n".len();
    let block = &doc[start..];
    let block = &block[..block.find("```").unwrap()];
    let file =
        std::fs::read_to_string(root().join("src/rules/host_network_in_production.rs")).unwrap();
    assert_eq!(
        block, file,
        "docs/adding-a-rule.md and the rule's file differ"
    );
    assert!(kustodian::rules::lookup("host-network-in-production").is_some());
}
