//! File-system events, mapped to what they mean for a rebuild.
//!
//! An editor's save writes several times and a `git checkout` touches
//! hundreds of files: events are collected until the tree has been quiet for
//! a moment, then turned into one set of changes and one rebuild.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What changed, from the cheapest to the most expensive to rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A stylesheet: pages can swap it without reloading.
    Stylesheet,
    /// Another static file.
    Static,
    /// Markdown under `content/`.
    Content,
    /// Templates or interface strings of a theme.
    Theme,
    /// `portal.toml` or a form: everything depends on it.
    Config,
}

/// Classifies a changed path of the site; `None` for files that do not
/// affect the build (editor swap files, the output itself, VCS metadata).
pub fn classify(site_dir: &Path, ignored: &[PathBuf], path: &Path) -> Option<Change> {
    if ignored.iter().any(|i| path.starts_with(i)) {
        return None;
    }
    let rel = path.strip_prefix(site_dir).ok()?;
    let name = rel.file_name()?.to_string_lossy();
    let editor_noise = name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || name == "4913";
    if editor_noise
        || rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    {
        return None;
    }
    let first = rel
        .components()
        .next()?
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let is_css = name.ends_with(".css");
    match first.as_str() {
        "portal.toml" | "forms" => Some(Change::Config),
        "content" => Some(Change::Content),
        "static" if is_css => Some(Change::Stylesheet),
        "static" => Some(Change::Static),
        "themes"
            if is_css
                && rel
                    .components()
                    .nth(2)
                    .is_some_and(|c| c.as_os_str() == "static") =>
        {
            Some(Change::Stylesheet)
        }
        "themes"
            if rel
                .components()
                .nth(2)
                .is_some_and(|c| c.as_os_str() == "static") =>
        {
            Some(Change::Static)
        }
        "themes" => Some(Change::Theme),
        _ => None,
    }
}

/// One rebuild's worth of changes, and the files that caused them
/// (relative to the site), so that the terminal can say what was rebuilt.
#[derive(Debug, Default)]
pub struct Batch {
    pub changes: BTreeSet<Change>,
    pub files: BTreeSet<PathBuf>,
}

/// Waits for the first relevant event, then gathers more until `quiet` has
/// passed without one (or `max` since the first). Returns `None` when the
/// watcher is gone.
pub fn next_batch(
    events: &Receiver<notify::Result<notify::Event>>,
    site_dir: &Path,
    ignored: &[PathBuf],
    quiet: Duration,
    max: Duration,
) -> Option<Batch> {
    let mut batch = Batch::default();
    let mut started: Option<Instant> = None;
    loop {
        let timeout = match started {
            None => Duration::from_secs(3600),
            Some(t) => quiet.min(max.saturating_sub(t.elapsed())),
        };
        match events.recv_timeout(timeout) {
            Ok(Ok(event)) => {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    continue;
                }
                // A new or removed folder changes nothing by itself; the
                // files in it have their own events.
                for path in event.paths.iter().filter(|p| !p.is_dir()) {
                    if let Some(change) = classify(site_dir, ignored, path) {
                        batch.changes.insert(change);
                        let rel = path.strip_prefix(site_dir).unwrap_or(path);
                        batch.files.insert(rel.to_path_buf());
                        started.get_or_insert_with(Instant::now);
                    }
                }
            }
            Ok(Err(e)) => eprintln!("warning: file watcher: {e}"),
            Err(RecvTimeoutError::Timeout) => {
                if started.is_some() {
                    return Some(batch);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return None,
        }
        if started.is_some_and(|t| t.elapsed() >= max) {
            return Some(batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_changes() {
        let site = Path::new("/s");
        let out = [PathBuf::from("/s/public")];
        let c = |p: &str| classify(site, &out, Path::new(p));
        assert_eq!(c("/s/portal.toml"), Some(Change::Config));
        assert_eq!(c("/s/forms/access.toml"), Some(Change::Config));
        assert_eq!(c("/s/content/nl/privacy.md"), Some(Change::Content));
        assert_eq!(c("/s/themes/own/templates/base.html"), Some(Change::Theme));
        assert_eq!(c("/s/themes/own/i18n/nl.toml"), Some(Change::Theme));
        assert_eq!(
            c("/s/themes/own/static/style.css"),
            Some(Change::Stylesheet)
        );
        assert_eq!(c("/s/static/logo.png"), Some(Change::Static));
        assert_eq!(c("/s/static/extra.css"), Some(Change::Stylesheet));
        assert_eq!(c("/s/public/nl/index.html"), None);
        assert_eq!(c("/s/content/nl/.privacy.md.swp"), None);
        assert_eq!(c("/s/content/nl/privacy.md~"), None);
        assert_eq!(c("/s/.git/index"), None);
        assert_eq!(c("/s/README.md"), None);
    }
}
