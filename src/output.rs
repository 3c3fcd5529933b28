//! Report files: how `--output`, `--sarif-output`, `--json-output` and `--summary` are written.
//!
//! A report is written whole or not at all: a temporary file in the directory of the file it
//! replaces, then a rename, so a reader (an upload step, a dashboard) never sees half a report.
//! The path the user named is honoured as a shell redirection would honour it: a symlink is
//! written through to its target (the rename happens in the target's directory, so the link stays
//! a link), a device or a FIFO (`/dev/stdout`, `/dev/null`, a pipe to a process) is written to
//! directly, an existing file keeps its permission bits, and a new one gets the umask's (the
//! temporary file behind an atomic write would otherwise leave every report `0600`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// How many symlinks a report path may go through (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Writes `bytes` to the file at `path`, atomically when it is (or will be) a regular file.
pub fn write_report(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = follow_links(path)?;
    match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            // A device or a FIFO: there is nothing to replace, only somewhere to write.
            let mut f = std::fs::OpenOptions::new().write(true).open(&target)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Ok(m) => replace(&target, bytes, Some(m.permissions())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(&target, bytes, None),
        Err(e) => Err(e),
    }
}

/// Replaces (or creates) the regular file at `target` through a temporary file beside it.
fn replace(target: &Path, bytes: &[u8], keep: Option<std::fs::Permissions>) -> std::io::Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut b = tempfile::Builder::new();
    b.prefix(".kustodian-report");
    // A new report gets what any new file gets (0666 less the umask, applied by the kernel).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = b.tempfile_in(dir)?;
    if let Some(p) = keep {
        // Exactly the replaced file's bits, whatever the umask.
        tmp.as_file().set_permissions(p)?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

/// `path` with every symlink in its last component followed (a relative target is relative to
/// the link's directory); a dangling link yields the path it points at, to be created there.
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if t.is_relative() => dir.join(t),
                    _ => t,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn writes_through_symlinks_and_keeps_modes() {
        let t = tempfile::tempdir().unwrap();
        let real_dir = t.path().join("real");
        std::fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("report.json");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = t.path().join("link.json");
        symlink("real/report.json", &link).unwrap();
        write_report(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert_eq!(mode(&real), 0o640);
        // No temporary file left behind, in either directory.
        assert_eq!(std::fs::read_dir(&real_dir).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 2);
        // A dangling link: the file is created where it points.
        let dangling = t.path().join("dangling.json");
        symlink("real/new.json", &dangling).unwrap();
        write_report(&dangling, b"x").unwrap();
        assert_eq!(std::fs::read(real_dir.join("new.json")).unwrap(), b"x");
        // A loop is an error, not a hang.
        symlink("loop-b", t.path().join("loop-a")).unwrap();
        symlink("loop-a", t.path().join("loop-b")).unwrap();
        assert!(write_report(&t.path().join("loop-a"), b"x").is_err());
    }

    #[test]
    fn fifos_and_devices_are_written_to_directly() {
        use std::os::unix::fs::FileTypeExt;
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("pipe");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_report(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }
}
