//! Writing a build's files so that a reader never sees half of one.
//!
//! Everything is written into a fresh directory beside the output, then
//! swapped in with two renames. A failed build therefore leaves the previous
//! output untouched, and a good one leaves no stale file behind.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// The files of one build, keyed by path relative to the output root.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Replaces `out_dir` with exactly `files`.
pub fn replace_dir(out_dir: &Path, files: &Files) -> io::Result<()> {
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::env::current_dir()?,
    };
    fs::create_dir_all(&parent)?;
    let name = out_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(&parent)?;
    for (rel, bytes) in files {
        let path = staging.path().join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, bytes)?;
    }
    make_world_readable(staging.path())?;

    if out_dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(&parent)?;
        let old_path = old.path().to_path_buf();
        // Keep only the name: the old output is moved into its place.
        old.close()?;
        fs::rename(out_dir, &old_path)?;
        if let Err(e) = fs::rename(staging.path(), out_dir) {
            // Put the previous output back before giving up.
            let _ = fs::rename(&old_path, out_dir);
            return Err(e);
        }
        fs::remove_dir_all(&old_path)?;
    } else {
        fs::rename(staging.path(), out_dir)?;
    }
    // The staging directory is now the output; don't let TempDir delete it.
    let _ = staging.keep();
    Ok(())
}

/// tempfile creates directories readable by the owner only; a web server
/// serving the output usually runs as another user.
#[cfg(unix)]
fn make_world_readable(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_world_readable(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_everything_and_leaves_no_stale_file() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let mut files = Files::new();
        files.insert("a/index.html".into(), b"one".to_vec());
        files.insert("stale.html".into(), b"old".to_vec());
        replace_dir(&out, &files).unwrap();
        files.remove("stale.html");
        files.insert("a/index.html".into(), b"two".to_vec());
        replace_dir(&out, &files).unwrap();
        assert_eq!(fs::read(out.join("a/index.html")).unwrap(), b"two");
        assert!(!out.join("stale.html").exists());
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only public/ remains");
    }
}
