//! Keeping a build inside its site directory.
//!
//! A site's folders (`content/`, `static/`, `themes/<name>/`, `forms/`) are
//! read with their symbolic links resolved: a link to a file inside the site
//! is read like the file, and a link that leads outside the site is an error
//! naming the link, so that a portal can never publish `/etc/passwd` or
//! walk the whole disk. Links to folders are not followed at all (a link
//! loop would never end); they are reported.

use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Diagnostics};

/// The site directory, resolved once, against which links are judged.
#[derive(Debug, Clone)]
pub struct Confinement {
    site_dir: PathBuf,
    real: Option<PathBuf>,
}

/// What an entry found in a walk is, after its link (if any) is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// Reported, or nothing to read.
    Skip,
}

impl Confinement {
    pub fn new(site_dir: &Path) -> Confinement {
        Confinement {
            site_dir: site_dir.to_path_buf(),
            real: site_dir.canonicalize().ok(),
        }
    }

    /// `path` as shown in messages: relative to the site directory.
    fn shown(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.site_dir)
            .unwrap_or(path)
            .to_path_buf()
    }

    /// Whether the folder `dir` of the site (e.g. `content`) may be walked:
    /// it, or a folder on the way to it, may be a link, but it must resolve
    /// to a place inside the site. `false` (with an error) when it does not.
    pub fn root_ok(&self, dir: &Path, diags: &mut Diagnostics) -> bool {
        let (Some(site), Ok(real)) = (&self.real, dir.canonicalize()) else {
            return true; // missing: nothing is read from it
        };
        if real.starts_with(site) {
            return true;
        }
        diags.push(
            Diagnostic::error(
                self.shown(dir),
                format!(
                    "this folder leads outside the site (to {}) through a symbolic link",
                    real.display()
                ),
            )
            .with_fix("copy what the portal needs into the site instead of linking to it"),
        );
        false
    }

    /// Judges one entry of a walk that does not follow links.
    pub fn kind(&self, entry: &walkdir::DirEntry, diags: &mut Diagnostics) -> Kind {
        let t = entry.file_type();
        if !entry.path_is_symlink() || entry.depth() == 0 {
            return if t.is_file() {
                Kind::File
            } else if t.is_dir() {
                Kind::Dir
            } else {
                Kind::Skip
            };
        }
        let shown = self.shown(entry.path());
        let real = match entry.path().canonicalize() {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::error(
                    shown,
                    format!("symbolic link that cannot be followed: {e}"),
                ));
                return Kind::Skip;
            }
        };
        if !self.real.as_ref().is_some_and(|s| real.starts_with(s)) {
            diags.push(
                Diagnostic::error(
                    shown,
                    format!(
                        "symbolic link to {}, outside the site; portaal reads nothing outside the site directory",
                        real.display()
                    ),
                )
                .with_fix("copy the file into the site instead of linking to it"),
            );
            return Kind::Skip;
        }
        if real.is_file() {
            Kind::File
        } else {
            diags.push(
                Diagnostic::warning(
                    shown,
                    "symbolic link to a folder: not followed, its files are left out",
                )
                .with_fix("link the files one by one, or copy the folder"),
            );
            Kind::Skip
        }
    }
}
