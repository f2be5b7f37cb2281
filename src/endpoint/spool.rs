//! The spool: where accepted tickets wait until the mail server took them.
//!
//! A visitor is told "received" only after the ticket is on disk for good:
//! written to `tmp/`, flushed, renamed into `new/`, and the directory
//! flushed. To keep that affordable under load, one committer thread takes
//! every ticket that arrived meanwhile and makes them durable together
//! (group commit): one flush of the file system and one of the directory
//! for the whole batch, and no post is answered before its batch is done.
//!
//! Layout: `new/<ref>.json` waiting tickets, `new/<ref>.ack.json` waiting
//! acknowledgements, `failed/` both kinds refused for good (with the
//! reason), `delivered.log` one line per mail without personal data,
//! `outbox/` for the `.eml` files of outbox mode.
//!
//! Tickets hold personal data: every directory is created `0700` and every
//! file `0600`, whatever the process umask, and `open` tightens what an
//! older version left readable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use super::ticket::{Ack, Ticket};

#[derive(Debug, Clone)]
pub struct Spool {
    pub dir: PathBuf,
}

/// The file name suffix of a waiting acknowledgement.
pub const ACK_SUFFIX: &str = ".ack.json";

impl Spool {
    pub fn open(dir: &Path) -> io::Result<Spool> {
        private_dir(dir)?;
        for sub in ["tmp", "new", "failed"] {
            private_dir(&dir.join(sub))?;
            for e in fs::read_dir(dir.join(sub))? {
                let path = e?.path();
                if sub == "tmp" {
                    // Leftovers of a crash before rename were never acknowledged.
                    let _ = fs::remove_file(path);
                } else if path.is_file() {
                    make_private(&path, 0o600)?;
                }
            }
        }
        if dir.join("delivered.log").is_file() {
            make_private(&dir.join("delivered.log"), 0o600)?;
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    pub fn new_dir(&self) -> PathBuf {
        self.dir.join("new")
    }

    pub fn failed_dir(&self) -> PathBuf {
        self.dir.join("failed")
    }

    /// The tickets and acknowledgements waiting for delivery, oldest name
    /// first.
    pub fn pending(&self) -> io::Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = fs::read_dir(self.new_dir())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        out.sort();
        Ok(out)
    }

    /// True for the path of a waiting acknowledgement.
    pub fn is_ack(path: &Path) -> bool {
        path.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(ACK_SUFFIX))
    }

    pub fn read(path: &Path) -> io::Result<Ticket> {
        let bytes = fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn read_ack(path: &Path) -> io::Result<Ack> {
        let bytes = fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Removes a delivered ticket, with its personal data, and keeps a line
    /// that says only that it was delivered. Its acknowledgement, if any,
    /// takes its place in `new/` in the same step: written and flushed
    /// first, so a crash leaves either the ticket (sent again, same
    /// Message-ID) or the acknowledgement, never neither.
    pub fn delivered(
        &self,
        path: &Path,
        ticket: &Ticket,
        ack: Option<&Ack>,
        delivered_at: u64,
        status: &str,
    ) -> io::Result<()> {
        self.log(&Entry::of_ticket(ticket), delivered_at, status)?;
        if let Some(ack) = ack {
            let name = format!("{}{ACK_SUFFIX}", ack.reference);
            write_durably(
                &self.dir.join("tmp").join(&name),
                &self.new_dir().join(&name),
                &serde_json::to_vec(ack).map_err(io::Error::other)?,
            )?;
        }
        fs::remove_file(path)?;
        sync_dir(&self.new_dir())
    }

    /// Removes a sent acknowledgement.
    pub fn acknowledged(&self, path: &Path, ack: &Ack, at: u64, status: &str) -> io::Result<()> {
        self.log(&Entry::of_ack(ack), at, status)?;
        fs::remove_file(path)?;
        sync_dir(&self.new_dir())
    }

    /// Moves a ticket the mail server refused for good to `failed/`, with
    /// the reason, for a person to look at.
    pub fn failed(&self, path: &Path, ticket: &Ticket, reason: &str, at: u64) -> io::Result<()> {
        let value = serde_json::to_value(ticket).map_err(io::Error::other)?;
        self.set_aside(path, &format!("{}.json", ticket.reference), value, reason)?;
        self.log(&Entry::of_ticket(ticket), at, "failed")
    }

    /// Moves an acknowledgement that can never be sent to `failed/`.
    pub fn ack_failed(&self, path: &Path, ack: &Ack, reason: &str, at: u64) -> io::Result<()> {
        let value = serde_json::to_value(ack).map_err(io::Error::other)?;
        let name = format!("{}{ACK_SUFFIX}", ack.reference);
        self.set_aside(path, &name, value, reason)?;
        self.log(&Entry::of_ack(ack), at, "ack-failed")
    }

    fn set_aside(
        &self,
        path: &Path,
        name: &str,
        mut value: serde_json::Value,
        reason: &str,
    ) -> io::Result<()> {
        value["failure"] = serde_json::Value::String(reason.to_string());
        let dest = self.failed_dir().join(name);
        write_durably(
            &self.dir.join("tmp").join(name),
            &dest,
            &serde_json::to_vec_pretty(&value).map_err(io::Error::other)?,
        )?;
        fs::remove_file(path)?;
        sync_dir(&self.new_dir())
    }

    fn log(&self, e: &Entry, at: u64, status: &str) -> io::Result<()> {
        let mut f = private_file()
            .append(true)
            .open(self.dir.join("delivered.log"))?;
        writeln!(
            f,
            "{} received={} done={} site={} form={} status={status}",
            e.reference,
            super::ticket::iso_time(e.received),
            super::ticket::iso_time(at),
            e.site,
            e.form
        )?;
        f.sync_data()
    }
}

/// What a `delivered.log` line says: nothing personal.
struct Entry<'a> {
    reference: &'a str,
    received: u64,
    site: &'a str,
    form: &'a str,
}

impl<'a> Entry<'a> {
    fn of_ticket(t: &'a Ticket) -> Entry<'a> {
        Entry {
            reference: &t.reference,
            received: t.received,
            site: &t.site,
            form: &t.form,
        }
    }

    fn of_ack(a: &'a Ack) -> Entry<'a> {
        Entry {
            reference: &a.reference,
            received: a.received,
            site: &a.site,
            form: &a.form,
        }
    }
}

/// Options that create a file readable by its owner only (`0600`).
fn private_file() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Creates `dir` (and its parents) if needed and makes it `0700`.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)?;
    make_private(dir, 0o700)
}

/// Sets `mode` explicitly: creation modes are reduced by the umask, and
/// an existing file keeps whatever it had.
fn make_private(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes `bytes` to `tmp`, flushes it, renames it to `dest` and flushes
/// the directory: after this returns, a crash cannot lose the file.
pub fn write_durably(tmp: &Path, dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = private_file().write(true).truncate(true).open(tmp)?;
    make_private(tmp, 0o600)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(tmp, dest)?;
    sync_dir(dest.parent().unwrap_or(Path::new(".")))
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

type Reply = mpsc::SyncSender<io::Result<()>>;

struct Job {
    ticket: Ticket,
    reply: Reply,
}

/// The handle request threads commit through. Cloning shares the thread.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the committer thread. `on_commit` is called after each batch
    /// (to wake the mail worker).
    pub fn start(spool: Spool, on_commit: Arc<dyn Fn() + Send + Sync>) -> Committer {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("spool-commit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < 512 {
                        match rx.try_recv() {
                            Ok(j) => batch.push(j),
                            Err(_) => break,
                        }
                    }
                    let results = commit_batch(&spool, &batch);
                    for (job, r) in batch.into_iter().zip(results) {
                        let _ = job.reply.send(r);
                    }
                    on_commit();
                }
            })
            .expect("spawn the spool committer");
        Committer { tx }
    }

    /// Returns once the ticket is durable, or with the error that kept it
    /// from being so (then the visitor must not be told it was received).
    pub fn commit(&self, ticket: Ticket) -> io::Result<()> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Job { ticket, reply })
            .map_err(|_| io::Error::other("spool committer stopped"))?;
        rx.recv()
            .map_err(|_| io::Error::other("spool committer stopped"))?
    }
}

/// Makes a batch durable; one result per job, in order.
fn commit_batch(spool: &Spool, batch: &[Job]) -> Vec<io::Result<()>> {
    let tmp_dir = spool.dir.join("tmp");
    let new_dir = spool.new_dir();
    let mut results: Vec<io::Result<()>> = Vec::with_capacity(batch.len());
    let mut files: Vec<Option<File>> = Vec::with_capacity(batch.len());
    for job in batch {
        let name = format!("{}.json", job.ticket.reference);
        let r = (|| {
            if new_dir.join(&name).exists() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "duplicate reference",
                ));
            }
            let mut f = private_file()
                .write(true)
                .create_new(true)
                .open(tmp_dir.join(&name))?;
            make_private(&tmp_dir.join(&name), 0o600)?;
            f.write_all(&serde_json::to_vec(&job.ticket).map_err(io::Error::other)?)?;
            Ok(f)
        })();
        match r {
            Ok(f) => {
                files.push(Some(f));
                results.push(Ok(()));
            }
            Err(e) => {
                files.push(None);
                results.push(Err(e));
            }
        }
    }
    if let Err(e) = flush_files(&files) {
        return batch
            .iter()
            .map(|_| Err(io::Error::new(e.kind(), e.to_string())))
            .collect();
    }
    drop(files);
    for (job, r) in batch.iter().zip(results.iter_mut()) {
        if r.is_ok() {
            let name = format!("{}.json", job.ticket.reference);
            if let Err(e) = fs::rename(tmp_dir.join(&name), new_dir.join(&name)) {
                *r = Err(e);
            }
        }
    }
    if let Err(e) = sync_dir(&new_dir) {
        return batch
            .iter()
            .map(|_| Err(io::Error::new(e.kind(), e.to_string())))
            .collect();
    }
    results
}

/// Flushes the written files to disk. On Linux one `syncfs` covers the
/// whole batch; elsewhere each file is flushed.
fn flush_files(files: &[Option<File>]) -> io::Result<()> {
    let open: Vec<&File> = files.iter().flatten().collect();
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if open.len() > 1 {
            // SAFETY: syncfs takes any open descriptor of the file system
            // and touches no memory of ours.
            let rc = unsafe { libc::syncfs(open[0].as_raw_fd()) };
            return if rc == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            };
        }
    }
    for f in open {
        f.sync_data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket::sample("Ann", "Please send me everything")
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn spool_files_are_world_readable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        // An older version's spool, left readable by all.
        fs::create_dir_all(dir.join("new")).unwrap();
        fs::write(dir.join("new/OLD0-0000.json"), "{}").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.join("new"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(
            dir.join("new/OLD0-0000.json"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        // SAFETY: umask only swaps the process's creation mask.
        let old = unsafe { libc::umask(0) };
        let spool = Spool::open(&dir).unwrap();
        let rx = {
            let c = Committer::start(spool.clone(), Arc::new(|| {}));
            c.commit(ticket())
        };
        unsafe { libc::umask(old) };
        rx.unwrap();
        let path = spool.new_dir().join("K7QM-3XDA.json");
        spool
            .failed(&path, &ticket(), "550 no such user", 1_780_000_100)
            .unwrap();
        for d in ["", "tmp", "new", "failed"] {
            assert_eq!(mode(&dir.join(d)), 0o700, "{d}/");
        }
        for f in [
            "new/OLD0-0000.json",
            "failed/K7QM-3XDA.json",
            "delivered.log",
        ] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    }

    #[test]
    fn acknowledgement_is_sent_before_the_ticket_leaves_the_spool() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let c = Committer::start(spool.clone(), Arc::new(|| {}));
        let t = ticket();
        c.commit(t.clone()).unwrap();
        let path = spool.new_dir().join("K7QM-3XDA.json");
        let ack = Ack::of(&t).unwrap();
        spool
            .delivered(&path, &t, Some(&ack), 1_780_000_100, "delivered")
            .unwrap();
        // The ticket is gone in the same step that spools its
        // acknowledgement: a crash now can only resend the acknowledgement.
        let pending = spool.pending().unwrap();
        assert_eq!(pending, vec![spool.new_dir().join("K7QM-3XDA.ack.json")]);
        assert!(Spool::is_ack(&pending[0]));
        let stored = fs::read_to_string(&pending[0]).unwrap();
        assert!(!stored.contains("Please send me"), "{stored}");
        assert_eq!(Spool::read_ack(&pending[0]).unwrap(), ack);
        spool
            .acknowledged(&pending[0], &ack, 1_780_000_200, "acknowledged")
            .unwrap();
        assert!(spool.pending().unwrap().is_empty());
        let log = fs::read_to_string(tmp.path().join("delivered.log")).unwrap();
        assert!(log.contains("status=delivered"), "{log}");
        assert!(log.contains("status=acknowledged"), "{log}");
        assert!(!log.contains("ann@"), "{log}");
    }
}
