//! Writing a build's files so that a reader never sees half of one.
//!
//! Everything is written into a fresh directory beside the output, then
//! swapped in with two renames. A failed build therefore leaves the previous
//! output untouched, and a good one leaves no stale file behind.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;

use rayon::prelude::*;

use super::target::{MARKER, MARKER_TEXT, Target};

/// The files of one build, keyed by path relative to the output root.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Replaces the checked output `target` with exactly `files` and the
/// marker file ([`super::target::MARKER`]).
///
/// The checks of [`super::target::Guard::check`] that can change between
/// the check and the write are made again here: the output must still not
/// be a link, and a non-empty output must still carry the marker (or be the
/// earlier output the guard recognised).
pub fn replace_dir(target: &Target, files: &Files) -> io::Result<()> {
    let out_dir = target.path();
    let (Some(parent), Some(name)) = (out_dir.parent(), out_dir.file_name()) else {
        return Err(io::Error::other("the output has no parent folder"));
    };
    let name = name.to_string_lossy().into_owned();
    still_safe(target)?;
    fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(parent)?;
    write_files(staging.path(), files)?;
    fs::write(staging.path().join(MARKER), MARKER_TEXT)?;
    make_world_readable(staging.path())?;

    if out_dir.symlink_metadata().is_ok() {
        still_safe(target)?;
        // The old output is moved into a fresh private folder, which is
        // deleted (without following links) when `old` is dropped.
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(parent)?;
        let old_path = old.path().join(&name);
        fs::rename(out_dir, &old_path)?;
        if let Err(e) = fs::rename(staging.path(), out_dir) {
            // Put the previous output back before giving up.
            let _ = fs::rename(&old_path, out_dir);
            return Err(e);
        }
        delete_later(old);
    } else {
        fs::rename(staging.path(), out_dir)?;
    }
    // The staging directory is now the output; don't let TempDir delete it.
    let _ = staging.keep();
    Ok(())
}

/// Writes `files` into the fresh folder `root`: each folder made once
/// (parents first), then the files in parallel.
fn write_files(root: &Path, files: &Files) -> io::Result<()> {
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for rel in files.keys() {
        let mut rel = rel.as_str();
        while let Some((dir, _)) = rel.rsplit_once('/') {
            if !dirs.insert(dir) {
                break;
            }
            rel = dir;
        }
    }
    // A folder's name is a prefix of its subfolders' names, so it sorts
    // before them.
    for dir in dirs {
        fs::create_dir(root.join(dir))?;
    }
    files
        .par_iter()
        .try_for_each(|(rel, bytes)| fs::write(root.join(rel), bytes))
}

/// Old outputs being deleted in the background.
static DELETING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Deletes a previous output (already moved aside into `old`) on another
/// thread, so that the build does not wait for it; [`finish_deleting`]
/// waits for every such deletion before the process exits.
fn delete_later(old: tempfile::TempDir) {
    let shown = old.path().display().to_string();
    let work = move || {
        if let Err(e) = old.close() {
            eprintln!("warning: cannot delete the previous output moved to {shown}: {e}");
        }
    };
    let handle = std::thread::Builder::new()
        .name("portaal-delete-old".into())
        .spawn(work);
    let mut deleting = DELETING.lock().unwrap_or_else(|e| e.into_inner());
    deleting.retain(|h| !h.is_finished());
    match handle {
        Ok(h) => deleting.push(h),
        // No thread to spare: the TempDir went with the closure and is
        // deleted as it is dropped here.
        Err(e) => eprintln!("warning: deleting the previous output without a thread: {e}"),
    }
}

/// Waits until every previous output handed to [`delete_later`] is gone.
pub fn finish_deleting() {
    let handles = std::mem::take(&mut *DELETING.lock().unwrap_or_else(|e| e.into_inner()));
    for h in handles {
        let _ = h.join();
    }
}

/// Re-checks what may have changed since the guard looked.
fn still_safe(target: &Target) -> io::Result<()> {
    let out_dir = target.path();
    let Ok(meta) = out_dir.symlink_metadata() else {
        return Ok(());
    };
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(io::Error::other(format!(
            "{} became a link or a file since it was checked; nothing was replaced",
            out_dir.display()
        )));
    }
    let empty = fs::read_dir(out_dir)?.next().is_none();
    if empty || out_dir.join(MARKER).is_file() || target.is_earlier_output() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{} has no `{MARKER}` file, so it is not an output of portaal; nothing was replaced",
        out_dir.display()
    )))
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
        let guard = super::super::target::Guard::new(&[]).unwrap();
        let out = guard.check(&tmp.path().join("public"), None).unwrap();
        let mut files = Files::new();
        files.insert("a/index.html".into(), b"one".to_vec());
        files.insert("stale.html".into(), b"old".to_vec());
        replace_dir(&out, &files).unwrap();
        files.remove("stale.html");
        files.insert("a/index.html".into(), b"two".to_vec());
        replace_dir(&out, &files).unwrap();
        finish_deleting();
        let out = out.path();
        assert_eq!(fs::read(out.join("a/index.html")).unwrap(), b"two");
        assert!(out.join(MARKER).is_file());
        assert!(!out.join("stale.html").exists());
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only public/ remains");
    }
}
