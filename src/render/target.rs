//! Deciding whether a directory may become a build's output.
//!
//! A build replaces its output directory whole, so a wrong `--out` (`.`, a
//! site, the folder that holds the sites) would delete a user's work. A
//! [`Target`] can only be made by [`Guard::check`], and only
//! [`Target`]s are written by [`super::output::replace_dir`]: portaal never
//! replaces a directory it did not create.
//!
//! The rules, in the order they are checked:
//! - the output must not be a symbolic link (portaal does not write through
//!   one; links in the folders above it are fine);
//! - it must not be, contain or be inside a site directory (a folder holding
//!   `portal.toml`), except a site's own `public/`, nor be or contain the
//!   current directory;
//! - if it exists, it must be a directory that is empty, or that holds the
//!   [`MARKER`] every build writes, or that is recognisably the output of an
//!   earlier portaal (see [`is_earlier_output`]), and it must hold no site.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::site::CONFIG_FILE;

/// The file portaal writes into every output it creates; a non-empty
/// directory without it is not replaced.
pub const MARKER: &str = ".portaal-build";

/// What the marker file says to a person who finds it.
pub const MARKER_TEXT: &str = "This folder is the output of `portaal build`.\n\
portaal replaces it whole on the next build: do not keep your own files here.\n";

/// An output directory that passed the checks. `path` has its parent
/// resolved (no `..`, no link above it) and its last part is no link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    path: PathBuf,
    /// An unmarked output of an earlier portaal version, accepted once.
    earlier: bool,
}

impl Target {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the directory is an earlier portaal's output without the
    /// marker, recognised by [`is_earlier_output`].
    pub fn is_earlier_output(&self) -> bool {
        self.earlier
    }
}

/// Why an output directory was refused. Nothing was written or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The output as the user wrote it.
    pub out: PathBuf,
    pub reason: String,
    pub fix: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing to write the output to {}: {}\n  fix: {}",
            self.out.display(),
            self.reason,
            self.fix
        )
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    fn new(out: &Path, reason: impl Into<String>, fix: &str) -> Refusal {
        Refusal {
            out: out.to_path_buf(),
            reason: reason.into(),
            fix: fix.to_string(),
        }
    }
}

/// `out` resolved, with its own metadata (a link is not followed); a link
/// is refused, since portaal never writes through one.
fn resolve_unlinked(out: &Path) -> Result<(PathBuf, io::Result<std::fs::Metadata>), Refusal> {
    let path = resolve(out).map_err(|e| {
        Refusal::new(
            out,
            format!("cannot resolve the path: {e}"),
            "pass a new folder below an existing one, e.g. --out out",
        )
    })?;
    let meta = std::fs::symlink_metadata(&path);
    if meta.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Refusal::new(
            out,
            "it is a symbolic link, and portaal does not write through links",
            "pass the directory the link points to, if that is really the output",
        ));
    }
    Ok((path, meta))
}

/// The places a build must not destroy: the sites of this run and the
/// current directory, all resolved.
#[derive(Debug, Clone)]
pub struct Guard {
    cwd: PathBuf,
    sites: Vec<PathBuf>,
}

impl Guard {
    /// A guard for a run that builds `sites` (as given on the command line).
    pub fn new(sites: &[PathBuf]) -> io::Result<Guard> {
        let cwd = std::env::current_dir()?.canonicalize()?;
        let sites = sites.iter().filter_map(|s| s.canonicalize().ok()).collect();
        Ok(Guard { cwd, sites })
    }

    /// Checks `out` as the output of the site `own` (whose `public/` may be
    /// used), or as a folder of several outputs when `own` is `None`.
    pub fn check(&self, out: &Path, own: Option<&Path>) -> Result<Target, Refusal> {
        let refuse = |reason: String, fix: &str| Refusal::new(out, reason, fix);
        let (path, meta) = resolve_unlinked(out)?;
        let own = own.and_then(|o| o.canonicalize().ok());
        let own_public = own.as_ref().map(|o| o.join("public"));
        self.check_places(&path, own_public.as_ref() == Some(&path), &refuse)?;
        let Ok(meta) = meta else {
            return Ok(Target {
                path,
                earlier: false,
            });
        };
        if !meta.is_dir() {
            return Err(refuse(
                "it is a file, not a directory".into(),
                "choose another --out",
            ));
        }
        let empty = first_entry(&path)
            .map_err(|e| {
                refuse(
                    format!("cannot read it: {e}"),
                    "check its permissions, or choose another --out",
                )
            })?
            .is_none();
        if empty {
            return Ok(Target {
                path,
                earlier: false,
            });
        }
        if let Some(inner) = find_project(&path) {
            return Err(refuse(
                format!(
                    "it holds {}, which a build would delete",
                    inner.strip_prefix(&path).unwrap_or(&inner).display()
                ),
                "choose an output folder that holds no site or repository",
            ));
        }
        if path.join(MARKER).is_file() {
            return Ok(Target {
                path,
                earlier: false,
            });
        }
        if own_public.as_ref() == Some(&path) && is_earlier_output(&path) {
            return Ok(Target {
                path,
                earlier: true,
            });
        }
        Err(refuse(
            format!(
                "it is not empty and has no `{MARKER}` file, so it is not an output of portaal, \
                 and a build replaces its output whole"
            ),
            "choose a new or empty directory; if this is an old output you no longer need, delete it yourself first",
        ))
    }

    /// Checks `out` as the folder that receives one output per site. It is
    /// never replaced itself (each `out/<site id>` is checked on its own),
    /// so it may hold other files, but it must not be a link, a site, inside
    /// a site, or hold a site or the current directory.
    pub fn check_folder(&self, out: &Path) -> Result<(), Refusal> {
        let refuse = |reason: String, fix: &str| Refusal::new(out, reason, fix);
        let (path, meta) = resolve_unlinked(out)?;
        if meta.is_ok_and(|m| !m.is_dir()) {
            return Err(refuse(
                "it is a file, not a directory".into(),
                "choose another --out",
            ));
        }
        self.check_places(&path, false, &refuse)
    }

    /// The output must not be, contain or be inside a site (unless it is
    /// the site's own `public/`), nor be or contain the current directory.
    fn check_places(
        &self,
        path: &Path,
        own_public: bool,
        refuse: &dyn Fn(String, &str) -> Refusal,
    ) -> Result<(), Refusal> {
        const SITE_FIX: &str = "write the output elsewhere, e.g. leave out --out to use each site's public/, or pass a new folder such as --out out";
        for site in &self.sites {
            if path == site {
                return Err(refuse(
                    format!("it is the site directory {}", site.display()),
                    SITE_FIX,
                ));
            }
            if site.starts_with(path) {
                return Err(refuse(
                    format!("it contains the site {}", site.display()),
                    SITE_FIX,
                ));
            }
        }
        let inside = path
            .ancestors()
            .skip(1)
            .find(|a| a.join(CONFIG_FILE).is_file());
        if let Some(site) = inside.filter(|_| !own_public) {
            return Err(refuse(
                format!(
                    "it is inside the site {}; the only output inside a site is its own public/",
                    site.display()
                ),
                SITE_FIX,
            ));
        }
        if path == self.cwd {
            return Err(refuse(
                "it is the current directory".into(),
                "pass a new folder for the output, e.g. --out out",
            ));
        }
        if self.cwd.starts_with(path) {
            return Err(refuse(
                "it contains the current directory".into(),
                "pass a new folder for the output, e.g. --out out",
            ));
        }
        if path.join(CONFIG_FILE).is_file() {
            return Err(refuse(
                "it is a site directory (it holds portal.toml)".into(),
                SITE_FIX,
            ));
        }
        Ok(())
    }
}

/// `out` made absolute with its parent resolved, without following a link
/// in its last part. Folders that do not exist yet are kept as written.
fn resolve(out: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(out)?;
    let (parent, name) = match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_os_string()),
        // `/`, or a path ending in `..`: it exists or cannot be used.
        _ => {
            let real = abs.canonicalize()?;
            match (real.parent(), real.file_name()) {
                (Some(p), Some(n)) => (p.to_path_buf(), n.to_os_string()),
                _ => return Err(io::Error::other("the root directory cannot be an output")),
            }
        }
    };
    // The deepest folder above that exists is resolved; the rest is appended.
    let mut existing = parent.as_path();
    let mut missing = Vec::new();
    while !existing.exists() {
        missing.push(existing.file_name().map(|n| n.to_os_string()));
        existing = existing
            .parent()
            .ok_or_else(|| io::Error::other("no folder of the path exists"))?;
    }
    let mut path = existing.canonicalize()?;
    for part in missing.into_iter().rev() {
        match part {
            Some(n)
                if Path::new(&n)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_))) =>
            {
                path.push(n)
            }
            _ => return Err(io::Error::other("`..` after a folder that does not exist")),
        }
    }
    path.push(name);
    Ok(path)
}

fn first_entry(dir: &Path) -> io::Result<Option<std::fs::DirEntry>> {
    std::fs::read_dir(dir)?.next().transpose()
}

/// A site (`portal.toml`) or a repository (`.git`) anywhere below `dir`,
/// without following links.
fn find_project(dir: &Path) -> Option<PathBuf> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| {
            let n = e.file_name();
            n == CONFIG_FILE || n == ".git"
        })
        .map(|e| e.path().to_path_buf())
}

/// Whether `dir` is the output of a portaal from before the marker: its
/// root holds `index.html`, `404.html`, `sitemap.xml` and a `robots.txt`
/// exactly as portaal writes it, and nothing in it is a link. Only a site's
/// own `public/` is recognised this way; the next build adds the marker.
pub fn is_earlier_output(dir: &Path) -> bool {
    let has = |name: &str| dir.join(name).symlink_metadata().is_ok_and(|m| m.is_file());
    if !["index.html", "404.html", "sitemap.xml"]
        .iter()
        .all(|n| has(n))
    {
        return false;
    }
    let Ok(robots) = std::fs::read_to_string(dir.join("robots.txt")) else {
        return false;
    };
    let Some(rest) = robots.strip_prefix("User-agent: *\nAllow: /\n\nSitemap: ") else {
        return false;
    };
    if !rest.ends_with("/sitemap.xml\n") || rest.lines().count() != 1 {
        return false;
    }
    walkdir::WalkDir::new(dir)
        .into_iter()
        .all(|e| e.is_ok_and(|e| !e.path_is_symlink()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_keeps_missing_folders_and_refuses_dotdot_after_them() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().canonicalize().unwrap();
        assert_eq!(
            resolve(&tmp.path().join("a/b/out")).unwrap(),
            real.join("a/b/out")
        );
        assert_eq!(
            resolve(&tmp.path().join("x/..")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(resolve(&tmp.path().join("x/../y")).is_err());
        assert!(resolve(Path::new("/")).is_err());
    }

    #[test]
    fn an_output_with_another_robots_txt_is_not_portaals() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["index.html", "404.html", "sitemap.xml"] {
            std::fs::write(tmp.path().join(f), "x").unwrap();
        }
        std::fs::write(
            tmp.path().join("robots.txt"),
            "User-agent: *\nDisallow: /\n",
        )
        .unwrap();
        assert!(!is_earlier_output(tmp.path()));
        std::fs::write(
            tmp.path().join("robots.txt"),
            "User-agent: *\nAllow: /\n\nSitemap: https://a.example/sitemap.xml\n",
        )
        .unwrap();
        assert!(is_earlier_output(tmp.path()));
        std::fs::remove_file(tmp.path().join("404.html")).unwrap();
        assert!(!is_earlier_output(tmp.path()));
    }
}
