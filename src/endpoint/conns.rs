//! The endpoint's own bookkeeping of its connections: how many are open,
//! how long each may wait for its request, and which one to close to make
//! room. A connection whose post is being stored is never closed before it
//! is answered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Where a connection is in its life; this decides whether it may be
/// closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the request's head or body: closed at its deadline, or
    /// early to make room for a new connection.
    Reading,
    /// Its post is being checked and stored: never closed from outside, so
    /// a stored ticket always gets its answer.
    Answering,
    /// The answer is being written, since this instant.
    Writing(Instant),
    /// Answered; waiting a moment for the client to close its side, so the
    /// answer is not lost to a reset. May be closed to make room.
    Lingering,
    /// Told to close.
    Closed,
}

/// The open connections, oldest first.
pub struct Table {
    max: usize,
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<watch::Sender<Phase>>>>,
}

/// One open connection's entry; removed from the table when dropped.
pub struct Slot {
    id: u64,
    phase: Arc<watch::Sender<Phase>>,
    table: Arc<Table>,
}

impl Table {
    pub fn new(max: usize) -> Arc<Table> {
        Arc::new(Table {
            max: max.max(1),
            next: AtomicU64::new(0),
            open: Mutex::new(BTreeMap::new()),
        })
    }

    /// Open connections right now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lock poisoning (as everywhere, see `serve::state::Shared`): taken
    /// all the same; entries are inserted and removed whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<watch::Sender<Phase>>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes room for a new connection: at the limit, the oldest one still
    /// waiting for its request (or lingering) is told to close. `None` when
    /// every open connection is busy answering: then the new one is refused.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.lock();
        if open.len() >= self.max {
            let victim = open.iter().find_map(|(id, phase)| {
                phase
                    .send_if_modified(|p| {
                        let idle = matches!(p, Phase::Reading | Phase::Lingering);
                        if idle {
                            *p = Phase::Closed;
                        }
                        idle
                    })
                    .then_some(*id)
            })?;
            open.remove(&victim);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let phase = Arc::new(watch::Sender::new(Phase::Reading));
        open.insert(id, phase.clone());
        Some(Slot {
            id,
            phase,
            table: self.clone(),
        })
    }
}

impl Slot {
    /// Moves from `from` to `to`; false if the connection is no longer in
    /// `from` (it was told to close meanwhile).
    pub fn advance(&self, from: Phase, to: Phase) -> bool {
        self.phase.send_if_modified(|p| {
            let ok = *p == from;
            if ok {
                *p = to;
            }
            ok
        })
    }

    /// Moves to `to` from any phase but `Closed`; false if closed.
    pub fn advance_any(&self, to: Phase) -> bool {
        self.phase.send_if_modified(|p| {
            let ok = *p != Phase::Closed;
            if ok {
                *p = to;
            }
            ok
        })
    }

    /// The answer is ready: from reading or answering to writing.
    pub fn writing(&self) {
        let now = Phase::Writing(Instant::now());
        if !self.advance(Phase::Reading, now) {
            self.advance(Phase::Answering, now);
        }
    }

    /// Resolves when the connection must be closed: told to make room, or
    /// still reading `read_budget` after it was accepted, or still writing
    /// its answer `write_budget` after it started. Never while answering.
    pub async fn must_close(&self, read_budget: Duration, write_budget: Duration) {
        let accepted = Instant::now();
        let mut rx = self.phase.subscribe();
        loop {
            let phase = *rx.borrow_and_update();
            let deadline = match phase {
                Phase::Closed => return,
                Phase::Reading => Some(accepted + read_budget),
                Phase::Writing(since) => Some(since + write_budget),
                Phase::Answering | Phase::Lingering => None,
            };
            let Some(deadline) = deadline else {
                // The sender lives in `self`, so this only returns on a change.
                let _ = rx.changed().await;
                continue;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => {
                    if self.advance(phase, Phase::Closed) {
                        return;
                    }
                }
                _ = rx.changed() => {}
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.lock();
        if open
            .get(&self.id)
            .is_some_and(|p| Arc::ptr_eq(p, &self.phase))
        {
            open.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_oldest_waiting_connection_makes_room() {
        let table = Table::new(2);
        let a = table.admit().unwrap();
        let b = table.admit().unwrap();
        assert!(a.advance(Phase::Reading, Phase::Answering));
        // `a` is storing a post: `b` is closed instead.
        let c = table.admit().unwrap();
        assert_eq!(*b.phase.borrow(), Phase::Closed);
        assert_eq!(*a.phase.borrow(), Phase::Answering);
        assert_eq!(table.len(), 2);
        // Both open ones busy answering: a new one is refused.
        assert!(c.advance(Phase::Reading, Phase::Answering));
        assert!(table.admit().is_none());
        drop(b);
        assert_eq!(table.len(), 2, "a closed slot was already removed");
        drop(a);
        assert_eq!(table.len(), 1);
        assert!(table.admit().is_some());
    }

    #[tokio::test]
    async fn a_connection_storing_a_post_has_no_deadline() {
        let table = Table::new(4);
        let slot = table.admit().unwrap();
        assert!(slot.advance(Phase::Reading, Phase::Answering));
        let budget = Duration::from_millis(100);
        let waited = tokio::time::timeout(budget * 5, slot.must_close(budget, budget));
        assert!(waited.await.is_err(), "closed while answering");
        // Once writing, the write budget applies.
        slot.writing();
        let start = Instant::now();
        slot.must_close(budget, budget).await;
        assert!(start.elapsed() < budget * 5);
    }
}
