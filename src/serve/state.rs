//! What the preview server shows: the last good build, the current error if
//! the last rebuild failed, and the browsers waiting for news.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, RwLock};

use crate::render::output::Files;

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
    pub files: Arc<Files>,
    /// The failed rebuild's problems, shown over every page until a good
    /// build replaces them.
    pub errors: Option<String>,
    pub generation: u64,
}

#[derive(Default)]
pub struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    outbox: RwLock<Option<std::path::PathBuf>>,
    listeners: Mutex<Vec<Sender<Notice>>>,
}

impl Shared {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    /// Publishes a good build.
    pub fn publish(&self, files: Files, notice: Notice) {
        self.replace(|old| Snapshot {
            files: Arc::new(files),
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
        let mut guard = self.snapshot.write().expect("snapshot lock");
        *guard = Arc::new(make(&guard));
    }

    pub fn set_outbox(&self, dir: std::path::PathBuf) {
        *self.outbox.write().expect("outbox lock") = Some(dir);
    }

    pub fn outbox(&self) -> Option<std::path::PathBuf> {
        self.outbox.read().expect("outbox lock").clone()
    }

    pub fn subscribe(&self) -> Receiver<Notice> {
        let (tx, rx) = channel();
        self.listeners.lock().expect("listeners lock").push(tx);
        rx
    }

    /// Sends to every open browser tab; tabs that went away are dropped.
    fn broadcast(&self, notice: Notice) {
        self.listeners
            .lock()
            .expect("listeners lock")
            .retain(|tx| tx.send(notice).is_ok());
    }

    pub fn listener_count(&self) -> usize {
        self.listeners.lock().expect("listeners lock").len()
    }
}
