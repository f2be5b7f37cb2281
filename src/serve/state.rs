//! What the preview server shows: the last good build, the current error if
//! the last rebuild failed, and the browsers waiting for news.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::render::output::Files;

/// A build's files as the preview holds them: each shared, so that a
/// partial rebuild keeps the pages it did not render without copying them.
pub type Served = BTreeMap<String, Arc<Vec<u8>>>;

/// Takes over a build's files (their bytes are not copied).
pub fn served(files: Files) -> Served {
    files.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()
}

/// A news item for the browsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Reload the page (a rebuild finished, good or bad).
    Reload,
    /// Only stylesheets changed: swap them in place.
    Stylesheet,
}

impl Notice {
    pub fn event_name(self) -> &'static str {
        match self {
            Notice::Reload => "reload",
            Notice::Stylesheet => "stylesheet",
        }
    }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub files: Arc<Served>,
    /// The failed rebuild's problems, shown over every page until a good
    /// build replaces them.
    pub errors: Option<String>,
    pub generation: u64,
}

/// Lock poisoning, the same everywhere in portaal: a lock whose holder
/// panicked is taken all the same (`PoisonError::into_inner`), because no
/// critical section leaves its value half-changed: each replaces, pushes or
/// filters whole values. A panic ends its own thread or request, never
/// the server.
#[derive(Default)]
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    outbox: RwLock<Option<std::path::PathBuf>>,
    listeners: Mutex<Vec<Sender<Notice>>>,
}

impl Shared {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Publishes a good build.
    pub fn publish(&self, files: Arc<Served>, notice: Notice) {
        self.replace(|old| Snapshot {
            files,
            errors: None,
            generation: old.generation + 1,
        });
        self.broadcast(notice);
    }

    /// Keeps the last good files and shows `errors` over them.
    pub fn publish_errors(&self, errors: String) {
        self.replace(|old| Snapshot {
            files: old.files.clone(),
            errors: Some(errors),
            generation: old.generation + 1,
        });
        self.broadcast(Notice::Reload);
    }

    fn replace(&self, make: impl FnOnce(&Snapshot) -> Snapshot) {
        let mut guard = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *guard = Arc::new(make(&guard));
    }

    pub fn set_outbox(&self, dir: std::path::PathBuf) {
        *self.outbox.write().unwrap_or_else(PoisonError::into_inner) = Some(dir);
    }

    pub fn outbox(&self) -> Option<std::path::PathBuf> {
        self.outbox
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn subscribe(&self) -> Receiver<Notice> {
        let (tx, rx) = channel();
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// Sends to every open browser tab; tabs that went away are dropped.
    fn broadcast(&self, notice: Notice) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|tx| tx.send(notice).is_ok());
    }

    pub fn listener_count(&self) -> usize {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
