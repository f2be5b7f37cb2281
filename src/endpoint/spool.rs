//! The spool: where accepted tickets wait until the mail server took them.
//!
//! A visitor is told "received" only after the ticket is on disk for good.
//! To keep that affordable under load, one committer thread takes every
//! ticket that arrived meanwhile and appends them together, as records of
//! one segment file (`segments/`, format in `segment`), with one
//! `fdatasync` for the whole batch (and a flush of the directory only when
//! the batch starts a new segment); no post is answered before its batch
//! is on disk. No file is created per ticket before the answer.
//!
//! After the answer, the mail worker closes the segment and splits it:
//! one file per ticket in `new/`, flushed, and only then the segment is
//! removed. A crash before that removal splits the segment again at the
//! next start (a file already there is written again, the same bytes), so
//! every answered ticket reaches `new/`. The worker delivers only after a
//! split is complete, so a ticket is never in a segment and delivered too.
//!
//! Layout: `segments/<seq>.seg` tickets not yet split, `new/<ref>.json`
//! waiting tickets, `new/<ref>.ack.json` waiting acknowledgements (a
//! ticket or acknowledgement that waits for a retry carries the attempt
//! count and the time of its next attempt in its name:
//! `<ref>.r<attempts>-<unix ms>.json`), `failed/` both kinds refused for
//! good (with the reason), `delivered.log` one line per mail without
//! personal data, `outbox/` for the `.eml` files of outbox mode.
//!
//! Tickets hold personal data: every directory is created `0700` and every
//! file `0600`, whatever the process umask, and `open` tightens what an
//! older version left readable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use super::segment;
use super::ticket::{self, Ack, Ticket};

#[derive(Debug, Clone)]
pub struct Spool {
    pub dir: PathBuf,
    /// The segment being appended to, shared by the committer (which
    /// appends) and the mail worker (which closes it to split it).
    appender: Arc<Mutex<Appender>>,
}

#[derive(Debug)]
struct Appender {
    active: Option<Active>,
    /// The number the next segment gets: segments are split in order.
    next_seq: u64,
}

#[derive(Debug)]
struct Active {
    file: File,
    len: u64,
}

/// The file name suffix of a waiting acknowledgement.
pub const ACK_SUFFIX: &str = ".ack.json";

/// A segment this large is closed and the next batch starts a new one,
/// so that splitting reads a bounded amount at a time.
const SEGMENT_MAX: u64 = 4 * 1024 * 1024;

impl Spool {
    pub fn open(dir: &Path) -> io::Result<Spool> {
        private_dir(dir)?;
        let mut next_seq = 0;
        for sub in ["tmp", "new", "failed", "segments"] {
            private_dir(&dir.join(sub))?;
            for e in fs::read_dir(dir.join(sub))? {
                let path = e?.path();
                if sub == "tmp" {
                    // Leftovers of a crash before rename were never acknowledged.
                    let _ = fs::remove_file(path);
                } else if path.is_file() {
                    make_private(&path, 0o600)?;
                    if let Some(seq) = segment_seq(&path) {
                        next_seq = next_seq.max(seq + 1);
                    }
                }
            }
        }
        if dir.join("delivered.log").is_file() {
            make_private(&dir.join("delivered.log"), 0o600)?;
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
            appender: Arc::new(Mutex::new(Appender {
                active: None,
                next_seq,
            })),
        })
    }

    fn segments_dir(&self) -> PathBuf {
        self.dir.join("segments")
    }

    fn segment_path(&self, seq: u64) -> PathBuf {
        self.segments_dir().join(format!("{seq:016x}.seg"))
    }

    fn appender(&self) -> MutexGuard<'_, Appender> {
        self.appender.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `records` (whole segment records) to the open segment, or
    /// to a new one, and returns once they are on disk: `fdatasync` of the
    /// segment, and of the directory when the segment is new. On an error
    /// the segment is cut back to what was durable and closed, so a later
    /// batch never follows a half-written one.
    fn append(&self, records: &[u8]) -> io::Result<()> {
        let mut a = self.appender();
        let created = match &a.active {
            Some(active) if active.len < SEGMENT_MAX => false,
            _ => {
                a.active = None;
                let seq = a.next_seq;
                a.next_seq += 1;
                let path = self.segment_path(seq);
                let file = private_file().append(true).create_new(true).open(&path)?;
                make_private(&path, 0o600)?;
                a.active = Some(Active { file, len: 0 });
                true
            }
        };
        let segments_dir = self.segments_dir();
        let active = a.active.as_mut().expect("a segment is open");
        let written = active
            .file
            .write_all(records)
            .and_then(|_| active.file.sync_data())
            .and_then(|_| {
                if created {
                    sync_dir(&segments_dir)
                } else {
                    Ok(())
                }
            });
        match written {
            Ok(()) => {
                active.len += records.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = active.file.set_len(active.len);
                a.active = None;
                Err(e)
            }
        }
    }

    /// Moves the tickets of every segment that is no longer appended to
    /// into `new/`, one file each, oldest segment first; the open segment
    /// is closed first so that what was just answered is included. Returns
    /// how many tickets were moved. Only the mail worker calls this, and
    /// before it looks at `new/`.
    pub fn split_segments(&self) -> io::Result<usize> {
        let upto = {
            let mut a = self.appender();
            a.active = None;
            a.next_seq
        };
        let mut seqs: Vec<u64> = fs::read_dir(self.segments_dir())?
            .filter_map(|e| e.ok().and_then(|e| segment_seq(&e.path())))
            .filter(|&seq| seq < upto)
            .collect();
        seqs.sort_unstable();
        let mut moved = 0;
        for seq in seqs {
            moved += self.split(seq)?;
        }
        Ok(moved)
    }

    /// Splits one closed segment: its whole records become files in
    /// `new/`, flushed with the directory, and then the segment goes. A
    /// torn last record (a crash while it was appended: that post was not
    /// answered) is reported and left out.
    fn split(&self, seq: u64) -> io::Result<usize> {
        let path = self.segment_path(seq);
        let bytes = fs::read(&path)?;
        let read = segment::read(&bytes);
        if let Some(at) = read.torn_at {
            log::warn!(
                "{} ends in an incomplete record at byte {at} of {} (the process \
                 stopped while writing it; that post was never answered); the {} whole records \
                 before it are kept",
                path.display(),
                bytes.len(),
                read.records.len()
            );
        }
        for (i, record) in read.records.iter().enumerate() {
            self.place(seq, i, record)?;
        }
        flush_split(&self.new_dir())?;
        fs::remove_file(&path)?;
        sync_dir(&self.segments_dir())?;
        Ok(read.records.len())
    }

    /// Writes one record as `new/<ref>.json`, to be flushed with the rest
    /// of its segment (`flush_split`): closed at once, so a segment of
    /// thousands of tickets holds no more than one descriptor. The file may be there
    /// already: from an earlier split of this segment cut short by a crash
    /// (the same bytes, or fewer), then it is written again; or, once in a
    /// trillion, another waiting ticket drew the same reference, then this
    /// one is kept next to it under a name of its own.
    fn place(&self, seq: u64, i: usize, record: &[u8]) -> io::Result<()> {
        #[derive(serde::Deserialize)]
        struct Named {
            reference: String,
        }
        let reference = match serde_json::from_slice::<Named>(record) {
            Ok(n) if ticket::is_reference(&n.reference) => n.reference,
            _ => {
                // A whole record that is not a ticket: set aside for a
                // person rather than retried for ever.
                let dest = self
                    .failed_dir()
                    .join(format!("segment-{seq:016x}-{i}.unreadable"));
                log::error!(
                    "record {i} of segment {seq:016x} is not a ticket; \
                     moved to {}",
                    dest.display()
                );
                return write_private(&dest, record);
            }
        };
        let dest = self.new_dir().join(format!("{reference}.json"));
        match private_file().write(true).create_new(true).open(&dest) {
            Ok(mut f) => {
                set_private(&f)?;
                f.write_all(record)?;
                return sync_unless_linux(&f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let there = fs::read(&dest)?;
        let again =
            there == record || serde_json::from_slice::<serde::de::IgnoredAny>(&there).is_err();
        if again {
            write_private(&dest, record)
        } else {
            write_private(
                &self.new_dir().join(format!("{reference}~{seq:x}-{i}.json")),
                record,
            )
        }
    }

    pub fn new_dir(&self) -> PathBuf {
        self.dir.join("new")
    }

    pub fn failed_dir(&self) -> PathBuf {
        self.dir.join("failed")
    }

    /// The tickets and acknowledgements waiting in `new/`, by name (for
    /// tests: the mail worker reads `new/` as a stream, whatever its size).
    #[cfg(test)]
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
        name_parts(path).any(|p| p == "ack")
    }

    /// How often a waiting file was tried, and when (Unix milliseconds) it
    /// is next due, from its name: `(0, 0)` for a file not tried yet. The
    /// retry state lives in the names so that the mail worker keeps
    /// nothing per ticket in memory, however long the relay is down, and
    /// a restart keeps each ticket's pause.
    pub fn retry_state(path: &Path) -> (u32, u64) {
        name_parts(path).find_map(parse_retry).unwrap_or((0, 0))
    }

    /// Renames a waiting file to carry its retry state; returns the new
    /// path. Not flushed: a crash can only make the next attempt earlier.
    pub fn postpone(path: &Path, attempts: u32, due_ms: u64) -> io::Result<PathBuf> {
        let mut name: Vec<&str> = name_parts(path)
            .filter(|p| parse_retry(p).is_none())
            .collect();
        let retry = format!("r{attempts}-{due_ms}");
        name.push(&retry);
        let dest = path.with_file_name(format!("{}.json", name.join(".")));
        fs::rename(path, &dest)?;
        Ok(dest)
    }

    /// The reference a waiting file is about, from its name.
    pub fn reference_of(path: &Path) -> String {
        name_parts(path).next().unwrap_or_default().to_string()
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

/// The dot-separated parts of a waiting file's name, without `.json`.
fn name_parts(path: &Path) -> impl Iterator<Item = &str> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(".json").unwrap_or(n))
        .unwrap_or_default()
        .split('.')
}

/// `r3-1780000000123`: three attempts, next at that Unix millisecond.
fn parse_retry(part: &str) -> Option<(u32, u64)> {
    let (attempts, due) = part.strip_prefix('r')?.split_once('-')?;
    Some((attempts.parse().ok()?, due.parse().ok()?))
}

/// The number of a segment file, from its name `<seq in hex>.seg`.
fn segment_seq(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?.strip_suffix(".seg")?;
    u64::from_str_radix(name, 16).ok()
}

/// Creates or truncates `path` as a private file holding `bytes`, flushed
/// by `flush_split`.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = private_file().write(true).truncate(true).open(path)?;
    set_private(&f)?;
    f.write_all(bytes)?;
    sync_unless_linux(&f)
}

/// Elsewhere than Linux each split file is flushed as it is written; on
/// Linux `flush_split` covers them all at once.
fn sync_unless_linux(f: &File) -> io::Result<()> {
    #[cfg(not(target_os = "linux"))]
    f.sync_data()?;
    #[cfg(target_os = "linux")]
    let _ = f;
    Ok(())
}

/// Makes a split's files durable, then their names: on Linux one
/// `syncfs` writes every file of the file system out (the files are
/// closed by then), then the directory is flushed.
fn flush_split(new_dir: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let dir = File::open(new_dir)?;
        // SAFETY: syncfs takes any open descriptor of the file system
        // and touches no memory of ours.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    sync_dir(new_dir)
}

/// `make_private` for a file already open: no second path lookup.
fn set_private(f: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = f;
    Ok(())
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
    /// The ticket as a whole segment record, made by the request's own
    /// thread: the one committer thread only copies and flushes.
    record: Vec<u8>,
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
                let mut records = Vec::new();
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < 512 {
                        match rx.try_recv() {
                            Ok(j) => batch.push(j),
                            Err(_) => break,
                        }
                    }
                    let results = commit_batch(&spool, &batch, &mut records);
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
        // Serialised straight into the record: a ticket is some 8 KB.
        let record = segment::record_of(12 * 1024, |buf| {
            serde_json::to_writer(buf, &ticket).map_err(io::Error::other)
        })?;
        drop(ticket);
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Job { record, reply })
            .map_err(|_| io::Error::other("spool committer stopped"))?;
        rx.recv()
            .map_err(|_| io::Error::other("spool committer stopped"))?
    }
}

/// Makes a batch durable with one append to a segment; one result per
/// job, in order. `records` is a buffer kept between batches.
fn commit_batch(spool: &Spool, batch: &[Job], records: &mut Vec<u8>) -> Vec<io::Result<()>> {
    records.clear();
    for job in batch {
        records.extend_from_slice(&job.record);
    }
    match spool.append(records) {
        Ok(()) => batch.iter().map(|_| Ok(())).collect(),
        Err(e) => batch
            .iter()
            .map(|_| Err(io::Error::new(e.kind(), e.to_string())))
            .collect(),
    }
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
        assert_eq!(spool.split_segments().unwrap(), 1);
        let path = spool.new_dir().join("K7QM-3XDA.json");
        spool
            .failed(&path, &ticket(), "550 no such user", 1_780_000_100)
            .unwrap();
        for d in ["", "tmp", "new", "failed", "segments"] {
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
        spool.split_segments().unwrap();
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

    fn tickets(n: usize) -> Vec<Ticket> {
        (0..n)
            .map(|i| {
                let mut t = ticket();
                t.reference = ticket::new_reference().unwrap();
                t.reply_to = Some(format!("ann{i}@example.test"));
                t
            })
            .collect()
    }

    /// No file per ticket before the answer: after a batch, `new/` is
    /// empty and one segment holds every ticket; splitting moves them all.
    #[test]
    fn group_commit_appends_to_one_segment_then_splits() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let c = Committer::start(spool.clone(), Arc::new(|| {}));
        let all = tickets(20);
        let threads: Vec<_> = all
            .iter()
            .cloned()
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || c.commit(t))
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert!(spool.pending().unwrap().is_empty());
        let segments = fs::read_dir(spool.segments_dir()).unwrap().count();
        assert_eq!(segments, 1);
        assert_eq!(spool.split_segments().unwrap(), 20);
        assert_eq!(fs::read_dir(spool.segments_dir()).unwrap().count(), 0);
        let mut stored: Vec<Ticket> = spool
            .pending()
            .unwrap()
            .iter()
            .map(|p| Spool::read(p).unwrap())
            .collect();
        stored.sort_by(|a, b| a.reference.cmp(&b.reference));
        let mut expected = all;
        expected.sort_by(|a, b| a.reference.cmp(&b.reference));
        assert_eq!(stored, expected);
        // The next batch starts a new segment after the split closed one.
        c.commit(tickets(1).remove(0)).unwrap();
        assert_eq!(spool.split_segments().unwrap(), 1);
        assert_eq!(spool.pending().unwrap().len(), 21);
    }

    /// A crash after a split wrote some of its files (one cut short) but
    /// before it removed the segment: opening the spool again and
    /// splitting gives each ticket exactly one whole file; a different
    /// ticket that drew the same reference is kept beside it.
    #[test]
    fn split_cut_short_by_a_crash_is_done_again() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let all = tickets(3);
        let mut records = Vec::new();
        for t in &all {
            segment::encode(&serde_json::to_vec(t).unwrap(), &mut records);
        }
        spool.append(&records).unwrap();
        let first = serde_json::to_vec(&all[0]).unwrap();
        fs::write(
            spool.new_dir().join(format!("{}.json", all[0].reference)),
            &first[..first.len() / 2],
        )
        .unwrap();
        let mut other = all[1].clone();
        other.reply_to = Some("zoe@example.test".into());
        fs::write(
            spool.new_dir().join(format!("{}.json", all[1].reference)),
            serde_json::to_vec(&other).unwrap(),
        )
        .unwrap();

        let spool = Spool::open(tmp.path()).unwrap();
        assert_eq!(spool.split_segments().unwrap(), 3);
        let mut stored: Vec<Ticket> = spool
            .pending()
            .unwrap()
            .iter()
            .map(|p| Spool::read(p).unwrap())
            .collect();
        stored.sort_by_key(|t| (t.reference.clone(), t.reply_to.clone()));
        let mut expected = vec![all[0].clone(), all[1].clone(), other, all[2].clone()];
        expected.sort_by_key(|t| (t.reference.clone(), t.reply_to.clone()));
        assert_eq!(stored, expected);
        // A second open starts a new segment after the old numbers.
        spool.append(&records).unwrap();
        let seg: Vec<_> = fs::read_dir(spool.segments_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(seg, vec![std::ffi::OsString::from("0000000000000001.seg")]);
    }

    #[test]
    fn retry_state_lives_in_the_name() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("K7QM-3XDA.ack.json");
        fs::write(&path, "{}").unwrap();
        assert_eq!(Spool::retry_state(&path), (0, 0));
        let once = Spool::postpone(&path, 1, 1_780_000_000_123).unwrap();
        assert_eq!(
            once.file_name().unwrap(),
            "K7QM-3XDA.ack.r1-1780000000123.json"
        );
        let twice = Spool::postpone(&once, 2, 1_780_000_000_456).unwrap();
        assert_eq!(Spool::retry_state(&twice), (2, 1_780_000_000_456));
        assert!(Spool::is_ack(&twice));
        assert_eq!(Spool::reference_of(&twice), "K7QM-3XDA");
        assert!(!path.exists() && !once.exists() && twice.exists());
    }
}
