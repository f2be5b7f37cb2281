//! File-system events, mapped to what they mean for a rebuild.
//!
//! A rebuild starts on the first event, without waiting for the tree to be
//! quiet: waiting would add its whole period to every reload. An editor's
//! save that writes several times, or a `git checkout` that touches hundreds
//! of files, still costs few rebuilds: every event that arrives while one
//! runs is gathered into the next, which starts as soon as it ends, so the
//! last build always sees the last write.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
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
        // A release (history/) changes the statement's "what changed" and
        // its earlier versions as much as portal.toml does.
        "portal.toml" | "forms" | "history" => Some(Change::Config),
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

/// How long a batch waits at most for files that were written but not yet
/// closed: a writer that keeps a file open does not hold the preview back.
const OPEN_FILES_LIMIT: Duration = Duration::from_millis(100);

/// Waits for the first relevant event, then takes every event already
/// queued (those that arrived during the previous rebuild, or together with
/// this one) without waiting for a quiet period. Only a file still open for
/// writing is waited for, until it is closed (on Linux, whose watcher says
/// so; at most [`OPEN_FILES_LIMIT`]), so that a rebuild never reads half a
/// save. Returns `None` when the watcher is gone.
pub fn next_batch(
    events: &Receiver<notify::Result<notify::Event>>,
    site_dir: &Path,
    ignored: &[PathBuf],
) -> Option<Batch> {
    let mut batch = Batch::default();
    let mut open = BTreeSet::new();
    let mut started: Option<Instant> = None;
    loop {
        let next = match started {
            None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(_) if open.is_empty() => events.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            }),
            Some(t) => events.recv_timeout(OPEN_FILES_LIMIT.saturating_sub(t.elapsed())),
        };
        match next {
            Ok(Ok(event)) => add_event(&mut batch, &mut open, event, site_dir, ignored),
            Ok(Err(e)) => eprintln!("warning: file watcher: {e}"),
            Err(RecvTimeoutError::Timeout) => return Some(batch),
            Err(RecvTimeoutError::Disconnected) => {
                return (!batch.changes.is_empty()).then_some(batch);
            }
        }
        if !batch.changes.is_empty() {
            started.get_or_insert_with(Instant::now);
        }
    }
}

/// Adds what one event changed to `batch`, and keeps `open` the set of
/// files written to and not yet closed.
fn add_event(
    batch: &mut Batch,
    open: &mut BTreeSet<PathBuf>,
    event: notify::Event,
    site_dir: &Path,
    ignored: &[PathBuf],
) {
    use notify::EventKind as K;
    use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
    match event.kind {
        K::Access(AccessKind::Close(AccessMode::Write)) => {
            for path in &event.paths {
                open.remove(path);
            }
            return;
        }
        K::Access(_) => return,
        _ => {}
    }
    // Events were lost (the kernel's queue overflowed): what changed is
    // unknown, so everything is read again.
    if event.need_rescan() {
        batch.changes.insert(Change::Config);
    }
    // Only Linux's watcher reports a file closed after writing.
    let opens = cfg!(target_os = "linux")
        && matches!(
            event.kind,
            K::Create(CreateKind::File) | K::Modify(ModifyKind::Data(_) | ModifyKind::Any)
        );
    // A new or removed folder changes nothing by itself, the files in it
    // have their own events; but for `content/`, whose folders are
    // languages (and any other folder is a mistake), it changes the pages.
    for path in &event.paths {
        let change = classify(site_dir, ignored, path);
        if let Some(change) = change.filter(|c| *c == Change::Content || !path.is_dir()) {
            batch.changes.insert(change);
            let rel = path.strip_prefix(site_dir).unwrap_or(path);
            batch.files.insert(rel.to_path_buf());
            if opens {
                open.insert(path.clone());
            } else {
                open.remove(path);
            }
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
        assert_eq!(c("/s/history/2.0.toml"), Some(Change::Config));
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

    /// A folder made or renamed under `content/` is a change of the pages
    /// (a language, or a misplaced folder to report); elsewhere it is not.
    #[test]
    fn content_folders_count_other_folders_do_not() {
        let site = tempfile::tempdir().unwrap();
        for dir in ["content/es", "static/img"] {
            std::fs::create_dir_all(site.path().join(dir)).unwrap();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let folder = notify::EventKind::Create(notify::event::CreateKind::Folder);
        for dir in ["static/img", "content/es"] {
            let path = site.path().join(dir);
            tx.send(Ok(notify::Event::new(folder).add_path(path)))
                .unwrap();
        }
        drop(tx);
        let batch = next_batch(&rx, site.path(), &[]).unwrap();
        assert_eq!(batch.changes, [Change::Content].into_iter().collect());
        assert_eq!(batch.files, [PathBuf::from("content/es")].into());
    }

    /// Lost events (a queue overflow) reload everything.
    #[test]
    fn lost_events_reload_everything() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut event = notify::Event::new(notify::EventKind::Other);
        event = event.set_flag(notify::event::Flag::Rescan);
        tx.send(Ok(event)).unwrap();
        drop(tx);
        let batch = next_batch(&rx, Path::new("/s"), &[]).unwrap();
        assert_eq!(batch.changes, [Change::Config].into_iter().collect());
    }

    fn event(kind: notify::EventKind, path: &str) -> notify::Result<notify::Event> {
        Ok(notify::Event::new(kind).add_path(PathBuf::from(path)))
    }

    fn modified(path: &str) -> notify::Result<notify::Event> {
        let kind = notify::EventKind::Modify(notify::event::ModifyKind::Name(
            notify::event::RenameMode::To,
        ));
        event(kind, path)
    }

    /// A file created and not yet closed is waited for: the rebuild must
    /// not read half a save (an empty stylesheet).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_batch_waits_for_a_written_file_to_be_closed() {
        use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind};
        let (tx, rx) = std::sync::mpsc::channel();
        let site = Path::new("/s");
        let css = "/s/static/style.css";
        tx.send(event(notify::EventKind::Create(CreateKind::File), css))
            .unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let data = ModifyKind::Data(DataChange::Content);
            tx.send(event(notify::EventKind::Modify(data), css))
                .unwrap();
            let close = AccessKind::Close(AccessMode::Write);
            tx.send(event(notify::EventKind::Access(close), css))
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let start = Instant::now();
        let batch = next_batch(&rx, site, &[]).unwrap();
        let waited = start.elapsed();
        assert_eq!(batch.changes, [Change::Stylesheet].into_iter().collect());
        assert!(waited >= Duration::from_millis(20), "{waited:?}");
        assert!(
            waited < OPEN_FILES_LIMIT,
            "returned at the close: {waited:?}"
        );
        writer.join().unwrap();
    }

    /// The first event starts a rebuild at once; what arrived meanwhile (or
    /// with it) goes into one batch, and noise alone starts nothing.
    #[test]
    fn a_batch_starts_at_the_first_event_and_takes_what_is_queued() {
        let (tx, rx) = std::sync::mpsc::channel();
        let site = Path::new("/s");
        let out = [PathBuf::from("/s/public")];
        tx.send(modified("/s/public/nl/index.html")).unwrap();
        tx.send(modified("/s/content/nl/privacy.md")).unwrap();
        tx.send(modified("/s/themes/own/templates/base.html"))
            .unwrap();
        let batch = next_batch(&rx, site, &out).unwrap();
        assert_eq!(
            batch.changes,
            [Change::Content, Change::Theme].into_iter().collect()
        );
        assert_eq!(batch.files.len(), 2);
        // Nothing queued: the next batch waits for the next event.
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            tx.send(modified("/s/portal.toml")).unwrap();
        });
        let batch = next_batch(&rx, site, &out).unwrap();
        assert_eq!(batch.changes, [Change::Config].into_iter().collect());
        sender.join().unwrap();
        // The watcher is gone and nothing is left: no batch.
        assert!(next_batch(&rx, site, &out).is_none());
    }
}
