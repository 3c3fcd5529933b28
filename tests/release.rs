//! The scripts that build, check and pack what ships, and the golden regeneration guard:
//! `scripts/build-release` prints the binary under the target directory cargo uses
//! (`CARGO_TARGET_DIR` included), `scripts/check-release-binary` refuses a dynamic or unstripped
//! binary and accepts a static stripped one, and `scripts/regen-goldens` refuses to run — and
//! deletes nothing — without a working reference renderer. (The packaging scripts are exercised
//! by tests/action.rs, which installs from a release they made.)

mod common;
use common::{copy_dir, skip};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn host() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap()
        .to_string()
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A 16-minute LTO build is not a test: `cargo build` is stood in for by a script that leaves
/// an executable where cargo puts a `--target T --profile P` build (`<target dir>/T/P/`), under
/// the `CARGO_TARGET_DIR` it is given; every other cargo command (`metadata`) is the real cargo.
#[test]
fn build_release_prints_the_binary_under_cargo_target_dir() {
    let t = tempfile::tempdir().unwrap();
    let bin_dir = t.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let real_cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let log = t.path().join("builds.log");
    write_exec(
        &bin_dir.join("cargo"),
        &format!(
            r#"#!/usr/bin/env bash
if [ "$1" = build ]; then
  target= profile=
  for a in "$@"; do
    case "$prev" in --target) target=$a ;; --profile) profile=$a ;; esac
    prev=$a
  done
  echo "build --target $target --profile $profile RUSTFLAGS=$RUSTFLAGS" >> {log:?}
  mkdir -p "$CARGO_TARGET_DIR/$target/$profile"
  printf '#!/bin/sh\necho kustodian\n' > "$CARGO_TARGET_DIR/$target/$profile/kustodian"
  chmod +x "$CARGO_TARGET_DIR/$target/$profile/kustodian"
  exit 0
fi
exec {real_cargo:?} "$@"
"#
        ),
    );
    let target_dir = t.path().join("elsewhere");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let out = Command::new(manifest_dir().join("scripts/build-release"))
            .args(args)
            .env("PATH", &path)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let host = host();
    let printed = run(&[]);
    assert_eq!(printed, target_dir.join(&host).join("dist/kustodian"));
    assert!(printed.exists());
    let printed = run(&["aarch64-unknown-linux-gnu"]);
    assert_eq!(
        printed,
        target_dir.join("aarch64-unknown-linux-gnu/dist/kustodian")
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains(&format!("--target {host} --profile dist")),
        "{log}"
    );
    // Linux/glibc targets link statically.
    assert!(
        log.lines()
            .filter(|l| l.contains("linux-gnu"))
            .all(|l| l.contains("+crt-static")),
        "{log}"
    );
}

#[test]
fn check_release_binary_refuses_dynamic_or_unstripped_binaries() {
    if !cfg!(target_os = "linux") {
        skip(
            "check_release_binary_refuses_dynamic_or_unstripped_binaries",
            "its ELF checks are Linux-only",
        );
        return;
    }
    let check = |bin: &Path| {
        let out = Command::new(manifest_dir().join("scripts/check-release-binary"))
            .arg(bin)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // The test build: dynamically linked, with symbols.
    let (ok, msg) = check(Path::new(env!("CARGO_BIN_EXE_kustodian")));
    assert!(!ok, "{msg}");
    assert!(msg.contains("dynamically linked"), "{msg}");
    // Static programs built here the way build-release links, with and without symbols.
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("hello.rs");
    std::fs::write(&src, "fn main() { println!(\"hello\"); }\n").unwrap();
    let build = |name: &str, strip: &str| {
        let out = t.path().join(name);
        let ok = Command::new("rustc")
            .args(["-C", "target-feature=+crt-static", "-C"])
            .arg(format!("strip={strip}"))
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(out)
    };
    let (Some(stripped), Some(with_symbols)) =
        (build("stripped", "symbols"), build("symbols", "none"))
    else {
        skip(
            "check_release_binary_refuses_dynamic_or_unstripped_binaries",
            "rustc cannot link statically here (no static libc)",
        );
        return;
    };
    let (ok, msg) = check(&stripped);
    assert!(ok, "{msg}");
    let (ok, msg) = check(&with_symbols);
    assert!(!ok, "{msg}");
    assert!(msg.contains("not stripped"), "{msg}");
}

fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// The script runs on a copy of the golden suites (it writes beside itself), so a failure here
/// can never cost the repository its goldens.
#[test]
fn regen_goldens_refuses_without_a_working_reference_and_deletes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join("repo");
    std::fs::create_dir_all(copy.join("scripts")).unwrap();
    std::fs::copy(
        manifest_dir().join("scripts/regen-goldens"),
        copy.join("scripts/regen-goldens"),
    )
    .unwrap();
    copy_dir(
        &manifest_dir().join("fixtures/golden"),
        &copy.join("fixtures/golden"),
    );
    let before = tree(&copy.join("fixtures/golden"));
    let regen = |reference: &Path| {
        Command::new("bash")
            .arg(copy.join("scripts/regen-goldens"))
            .env("KUSTOMIZE_REF", reference)
            .output()
            .unwrap()
    };
    let broken = t.path().join("broken-ref");
    write_exec(&broken, "#!/bin/sh\necho 'cannot start' >&2\nexit 1\n");
    for reference in [t.path().join("missing-ref"), broken] {
        let out = regen(&reference);
        assert!(!out.status.success(), "{}", reference.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("reference"), "{err}");
        assert_eq!(
            tree(&copy.join("fixtures/golden")),
            before,
            "nothing changed with {}",
            reference.display()
        );
    }
    // With a working renderer in its place (kustodian's own, which matches the goldens byte for
    // byte), the script rewrites every expected output and they come out the same.
    let stand_in = t.path().join("stand-in-ref");
    write_exec(
        &stand_in,
        &format!(
            "#!/bin/sh\n[ \"$1\" = build ] || exit 2\nexec {:?} render \"$2\"\n",
            env!("CARGO_BIN_EXE_kustodian")
        ),
    );
    let out = regen(&stand_in);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = tree(&copy.join("fixtures/golden"));
    let yaml = |m: &BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        m.iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "yaml"))
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect()
    };
    assert_eq!(yaml(&after), yaml(&before));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
}
