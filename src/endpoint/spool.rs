//! The spool: where accepted tickets wait until the mail server took them.
//!
//! A visitor is told "received" only after the ticket is on disk for good:
//! written to `tmp/`, flushed, renamed into `new/`, and the directory
//! flushed. To keep that affordable under load, one committer thread takes
//! every ticket that arrived meanwhile and makes them durable together
//! (group commit): one flush of the file system and one of the directory
//! for the whole batch, and no post is answered before its batch is done.
//!
//! Layout: `new/<ref>.json` waiting, `failed/<ref>.json` refused for good,
//! `delivered.log` one line per ticket without personal data, `outbox/` for
//! the `.eml` files of outbox mode.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use super::ticket::Ticket;

#[derive(Debug, Clone)]
pub struct Spool {
    pub dir: PathBuf,
}

impl Spool {
    pub fn open(dir: &Path) -> io::Result<Spool> {
        for sub in ["tmp", "new", "failed"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        // Leftovers of a crash before rename were never acknowledged.
        for e in fs::read_dir(dir.join("tmp"))? {
            let _ = fs::remove_file(e?.path());
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

    /// The tickets waiting for delivery, oldest name first.
    pub fn pending(&self) -> io::Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = fs::read_dir(self.new_dir())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        out.sort();
        Ok(out)
    }

    pub fn read(path: &Path) -> io::Result<Ticket> {
        let bytes = fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Removes a delivered ticket, with its personal data, and keeps a line
    /// that says only that it was delivered.
    pub fn delivered(&self, path: &Path, ticket: &Ticket, delivered_at: u64) -> io::Result<()> {
        self.log(ticket, delivered_at, "delivered")?;
        fs::remove_file(path)?;
        sync_dir(&self.new_dir())
    }

    /// Moves a ticket the mail server refused for good to `failed/`, with
    /// the reason, for a person to look at.
    pub fn failed(&self, path: &Path, ticket: &Ticket, reason: &str, at: u64) -> io::Result<()> {
        let mut value = serde_json::to_value(ticket).map_err(io::Error::other)?;
        value["failure"] = serde_json::Value::String(reason.to_string());
        let name = format!("{}.json", ticket.reference);
        let dest = self.failed_dir().join(&name);
        write_durably(
            &self.dir.join("tmp").join(&name),
            &dest,
            &serde_json::to_vec_pretty(&value).map_err(io::Error::other)?,
        )?;
        fs::remove_file(path)?;
        sync_dir(&self.new_dir())?;
        self.log(ticket, at, "failed")
    }

    fn log(&self, t: &Ticket, at: u64, status: &str) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("delivered.log"))?;
        writeln!(
            f,
            "{} received={} done={} site={} form={} status={status}",
            t.reference,
            super::ticket::iso_time(t.received),
            super::ticket::iso_time(at),
            t.site,
            t.form
        )?;
        f.sync_data()
    }
}

/// Writes `bytes` to `tmp`, flushes it, renames it to `dest` and flushes
/// the directory: after this returns, a crash cannot lose the file.
pub fn write_durably(tmp: &Path, dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(tmp)?;
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
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(tmp_dir.join(&name))?;
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
