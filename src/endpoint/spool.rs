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
//! After the answer, the mail worker closes the segment and delivers its
//! records straight from it, in order, with no file per ticket: after
//! each record it has handed on (delivered, refused and set aside in
//! `failed/`, or moved to `new/` to wait for a retry) it writes the
//! offset of the next record over the segment's `<seq>.done` file and
//! flushes it; once every record is handed on it removes the segment,
//! then the `.done` file. A crash between sending a mail and flushing the
//! progress sends that mail again after a restart (same Message-ID);
//! nothing is lost. A torn last record (a crash while a batch was
//! appended: those posts were never answered) is reported and left out;
//! a `.done` file that names no record boundary is distrusted and the
//! whole segment is delivered again. While the relay is unreachable the
//! tickets simply stay in their segments: nothing is kept per waiting
//! ticket, on disk or in memory.
//!
//! Layout: `segments/<seq>.seg` accepted tickets (records as in
//! `segment`: 8 bytes of length and CRC-32, then the ticket as JSON),
//! `segments/<seq>.done` how far delivery got in that segment (a byte
//! offset, in decimal), `new/<ref>.json` tickets that wait for a retry
//! after the relay answered "not now" for them, `new/<ref>.ack.json`
//! acknowledgements that could not be sent right after their ticket
//! (either carries the attempt count and the time of its next attempt in
//! its name: `<ref>.r<attempts>-<unix ms>.json`), `failed/` both kinds
//! refused for good (with the reason), `delivered.log` one line per mail
//! without personal data, `outbox/` for the `.eml` files of outbox mode.
//!
//! Tickets hold personal data: every directory is created `0700` and every
//! file `0600`, whatever the process umask, and `open` tightens what an
//! older version left readable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use super::segment;
use super::ticket::{self, Ack, Ticket};

#[derive(Debug, Clone)]
pub struct Spool {
    pub dir: PathBuf,
    /// The segment being appended to, shared by the committer (which
    /// appends) and the mail worker (which closes it to deliver it).
    appender: Arc<Mutex<Appender>>,
}

#[derive(Debug)]
struct Appender {
    active: Option<Active>,
    /// The number the next segment gets: segments are delivered in order.
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
/// so that the mail worker reads a bounded amount at a time.
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
                    } else if path.extension().is_some_and(|e| e == "done")
                        && !path.with_extension("seg").exists()
                    {
                        // The progress of a segment removed just before a
                        // crash.
                        fs::remove_file(&path)?;
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

    /// Closes the open segment, so that what was just answered is
    /// delivered too, and lists every segment no longer appended to,
    /// oldest first. Only the mail worker calls this.
    pub fn closed_segments(&self) -> io::Result<Vec<u64>> {
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
        Ok(seqs)
    }

    /// Opens a closed segment for delivery, at the first record not yet
    /// handed on (its `.done` file). A torn last record (a crash while it
    /// was appended: that post was never answered) is reported and left
    /// out. A progress file that does not name a record boundary of its
    /// segment is distrusted: delivery starts again at the first record
    /// (copies of some mails, never a lost one).
    pub fn open_segment(&self, seq: u64) -> io::Result<Cursor> {
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
        let mut records = Vec::with_capacity(read.records.len());
        let mut pos = 0;
        for r in &read.records {
            records.push((pos, r.len()));
            pos += segment::HEADER + r.len();
        }
        let done_path = done_path(&path);
        let done = match fs::read_to_string(&done_path) {
            Ok(text) => {
                let at = text.trim().parse::<usize>().ok();
                let index = at.and_then(|at| {
                    records
                        .iter()
                        .position(|&(start, _)| start == at)
                        .or((at == pos).then_some(records.len()))
                });
                if index.is_none() {
                    log::warn!(
                        "{} does not name a record of its segment ({:?}); every ticket of \
                         the segment is delivered again",
                        done_path.display(),
                        text.trim()
                    );
                }
                index.unwrap_or(0)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        Ok(Cursor {
            seq,
            path,
            done_path,
            bytes,
            records,
            next: done,
            progress: None,
        })
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

    /// Logs a delivered ticket of a segment: the record itself goes with
    /// its segment (`Cursor::finish`).
    pub fn delivered_record(&self, ticket: &Ticket, at: u64, status: &str) -> io::Result<()> {
        self.log(&Entry::of_ticket(ticket), at, status)
    }

    /// Logs a sent acknowledgement and removes its file, if it had one
    /// (one sent right after its ticket never waited in `new/`).
    pub fn acknowledged(
        &self,
        path: Option<&Path>,
        ack: &Ack,
        at: u64,
        status: &str,
    ) -> io::Result<()> {
        self.log(&Entry::of_ack(ack), at, status)?;
        match path {
            Some(path) => {
                fs::remove_file(path)?;
                sync_dir(&self.new_dir())
            }
            None => Ok(()),
        }
    }

    /// A ticket of a segment that must wait for another attempt (the
    /// relay answered "not now" for it): its own file in `new/`, carrying
    /// its retry state in its name, flushed before its record is passed.
    pub fn wait_ticket(&self, ticket: &Ticket, attempts: u32, due_ms: u64) -> io::Result<PathBuf> {
        let bytes = serde_json::to_vec(ticket).map_err(io::Error::other)?;
        self.wait(&ticket.reference, "", attempts, due_ms, &bytes)
    }

    /// An acknowledgement that could not be sent right after its ticket:
    /// its own file in `new/`, like a waiting ticket.
    pub fn wait_ack(&self, ack: &Ack, attempts: u32, due_ms: u64) -> io::Result<PathBuf> {
        let bytes = serde_json::to_vec(ack).map_err(io::Error::other)?;
        self.wait(&ack.reference, ".ack", attempts, due_ms, &bytes)
    }

    fn wait(
        &self,
        reference: &str,
        kind: &str,
        attempts: u32,
        mut due_ms: u64,
        bytes: &[u8],
    ) -> io::Result<PathBuf> {
        if !ticket::is_reference(reference) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{reference:?} is not a ticket reference"),
            ));
        }
        // Another waiting file of the same name (the same reference drawn
        // twice and due the same millisecond) is never overwritten.
        loop {
            let name = format!("{reference}{kind}.r{attempts}-{due_ms}.json");
            let dest = self.new_dir().join(&name);
            if !dest.exists() {
                write_durably(&self.dir.join("tmp").join(&name), &dest, bytes)?;
                return Ok(dest);
            }
            due_ms += 1;
        }
    }

    /// Sets a record of a segment that is not a ticket aside in `failed/`
    /// for a person, rather than retrying it for ever.
    pub fn unreadable_record(&self, seq: u64, at: usize, record: &[u8]) -> io::Result<PathBuf> {
        let dest = self
            .failed_dir()
            .join(format!("segment-{seq:016x}-{at}.unreadable"));
        write_durably(
            &self
                .dir
                .join("tmp")
                .join(format!("segment-{seq:016x}-{at}")),
            &dest,
            record,
        )?;
        Ok(dest)
    }

    /// Moves a ticket the mail server refused for good to `failed/`, with
    /// the reason, for a person to look at; removes its file in `new/`, if
    /// it had one.
    pub fn failed(
        &self,
        path: Option<&Path>,
        ticket: &Ticket,
        reason: &str,
        at: u64,
    ) -> io::Result<()> {
        let value = serde_json::to_value(ticket).map_err(io::Error::other)?;
        self.set_aside(path, &format!("{}.json", ticket.reference), value, reason)?;
        self.log(&Entry::of_ticket(ticket), at, "failed")
    }

    /// Moves an acknowledgement that can never be sent to `failed/`.
    pub fn ack_failed(
        &self,
        path: Option<&Path>,
        ack: &Ack,
        reason: &str,
        at: u64,
    ) -> io::Result<()> {
        let value = serde_json::to_value(ack).map_err(io::Error::other)?;
        let name = format!("{}{ACK_SUFFIX}", ack.reference);
        self.set_aside(path, &name, value, reason)?;
        self.log(&Entry::of_ack(ack), at, "ack-failed")
    }

    fn set_aside(
        &self,
        path: Option<&Path>,
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
        match path {
            Some(path) => {
                fs::remove_file(path)?;
                sync_dir(&self.new_dir())
            }
            None => Ok(()),
        }
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

/// A closed segment being delivered: its whole records, and the first
/// one not yet handed on (delivered, set aside in `failed/`, or waiting in
/// `new/` for a retry).
pub struct Cursor {
    seq: u64,
    path: PathBuf,
    done_path: PathBuf,
    bytes: Vec<u8>,
    /// The offset and payload length of each whole record.
    records: Vec<(usize, usize)>,
    next: usize,
    progress: Option<File>,
}

impl Cursor {
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The first record not handed on yet, with its offset in the segment.
    pub fn peek(&self) -> Option<(usize, &[u8])> {
        let &(at, len) = self.records.get(self.next)?;
        let start = at + segment::HEADER;
        Some((at, &self.bytes[start..start + len]))
    }

    /// Records not handed on yet.
    pub fn remaining(&self) -> usize {
        self.records.len() - self.next
    }

    /// Marks the record `peek` gave as handed on: the offset of the next
    /// one is written over the segment's `.done` file and flushed, so a
    /// restart goes on after it. A crash before the flush sends that
    /// mail again (same Message-ID); none is lost.
    pub fn advance(&mut self) -> io::Result<()> {
        let Some(&(at, len)) = self.records.get(self.next) else {
            return Ok(());
        };
        self.next += 1;
        let end = at + segment::HEADER + len;
        let f = match &mut self.progress {
            Some(f) => f,
            None => {
                let f = private_file().write(true).open(&self.done_path)?;
                set_private(&f)?;
                self.progress.insert(f)
            }
        };
        // Always the same width, written at the start: one small write
        // that replaces the last, never a shorter one over a longer one.
        f.seek(SeekFrom::Start(0))?;
        f.write_all(format!("{end:020}\n").as_bytes())?;
        f.sync_data()
    }

    /// Removes a segment whose every record was handed on, then its
    /// progress file (a progress file left alone by a crash is removed
    /// when the spool is opened).
    pub fn finish(self) -> io::Result<()> {
        debug_assert_eq!(self.remaining(), 0);
        drop(self.progress);
        fs::remove_file(&self.path)?;
        match fs::remove_file(&self.done_path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))
    }
}

/// The progress file of a segment: `<seq>.done` beside `<seq>.seg`.
fn done_path(segment: &Path) -> PathBuf {
    segment.with_extension("done")
}

/// The tickets of a segment file not handed on yet (after the offset its
/// `.done` file names, when that names a record), as JSON: for tests and
/// for an operator's tools, which read the spool as the worker does.
pub fn waiting_in_segment(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let bytes = fs::read(path)?;
    let read = segment::read(&bytes);
    let from = fs::read_to_string(done_path(path))
        .ok()
        .and_then(|t| t.trim().parse::<usize>().ok());
    let mut pos = 0;
    let mut out = Vec::new();
    for r in read.records {
        out.push(r.to_vec());
        if Some(pos + segment::HEADER + r.len()) == from {
            out.clear();
        }
        pos += segment::HEADER + r.len();
    }
    Ok(out)
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
        let committed = {
            let c = Committer::start(spool.clone(), Arc::new(|| {}));
            c.commit(ticket()).and_then(|_| c.commit(ticket()))
        };
        let seqs = spool.closed_segments().unwrap();
        let mut cursor = spool.open_segment(seqs[0]).unwrap();
        let progress = cursor.advance();
        let failed = spool.failed(None, &ticket(), "550 no such user", 1_780_000_100);
        let waiting = spool.wait_ticket(&ticket(), 1, 1_780_000_000_123);
        unsafe { libc::umask(old) };
        committed.unwrap();
        progress.unwrap();
        failed.unwrap();
        waiting.unwrap();
        for d in ["", "tmp", "new", "failed", "segments"] {
            assert_eq!(mode(&dir.join(d)), 0o700, "{d}/");
        }
        for f in [
            "new/OLD0-0000.json",
            "new/K7QM-3XDA.r1-1780000000123.json",
            "failed/K7QM-3XDA.json",
            "delivered.log",
            "segments/0000000000000000.seg",
            "segments/0000000000000000.done",
        ] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    }

    #[test]
    fn acknowledgement_is_sent_before_the_ticket_leaves_the_spool() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let t = ticket();
        // A ticket the relay once answered "not now" waits in new/.
        let path = spool.wait_ticket(&t, 1, 1_780_000_000_123).unwrap();
        assert_eq!(Spool::read(&path).unwrap(), t);
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
            .acknowledged(Some(&pending[0]), &ack, 1_780_000_200, "acknowledged")
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

    fn sorted(mut v: Vec<Ticket>) -> Vec<Ticket> {
        v.sort_by(|a, b| a.reference.cmp(&b.reference));
        v
    }

    fn parsed(records: &[Vec<u8>]) -> Vec<Ticket> {
        records
            .iter()
            .map(|r| serde_json::from_slice(r).unwrap())
            .collect()
    }

    /// No file per ticket: after a batch, `new/` is empty and one
    /// segment holds every ticket; closing it makes the next batch start
    /// another.
    #[test]
    fn group_commit_appends_to_one_segment() {
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
        assert_eq!(fs::read_dir(spool.segments_dir()).unwrap().count(), 1);
        let stored = waiting_in_segment(&spool.segment_path(0)).unwrap();
        assert_eq!(sorted(parsed(&stored)), sorted(all));
        assert_eq!(spool.closed_segments().unwrap(), vec![0]);
        c.commit(tickets(1).remove(0)).unwrap();
        assert_eq!(spool.closed_segments().unwrap(), vec![0, 1]);
        assert!(spool.pending().unwrap().is_empty());
    }

    /// Issue 14: the mail worker's progress through a segment is its
    /// `.done` file. A restart goes on after the last record handed on; a
    /// finished segment leaves nothing; a progress file whose segment is
    /// gone (a crash between the two removals) goes at the next start.
    #[test]
    fn segment_progress_survives_a_restart() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let all = tickets(3);
        let mut records = Vec::new();
        for t in &all {
            segment::encode(&serde_json::to_vec(t).unwrap(), &mut records);
        }
        spool.append(&records).unwrap();
        let mut cursor = spool.open_segment(0).unwrap();
        let (at, first) = cursor.peek().unwrap();
        assert_eq!(at, 0);
        assert_eq!(serde_json::from_slice::<Ticket>(first).unwrap(), all[0]);
        cursor.advance().unwrap();
        drop(cursor); // the process stops here

        let seg = spool.segment_path(0);
        let waiting = waiting_in_segment(&seg).unwrap();
        assert_eq!(parsed(&waiting), all[1..]);
        let spool = Spool::open(tmp.path()).unwrap();
        assert_eq!(spool.closed_segments().unwrap(), vec![0]);
        let mut cursor = spool.open_segment(0).unwrap();
        assert_eq!(cursor.remaining(), 2);
        let mut rest = Vec::new();
        while let Some((_, r)) = cursor.peek() {
            rest.push(r.to_vec());
            cursor.advance().unwrap();
        }
        assert_eq!(parsed(&rest), all[1..]);
        cursor.finish().unwrap();
        assert_eq!(fs::read_dir(spool.segments_dir()).unwrap().count(), 0);

        let orphan = spool.segments_dir().join("0000000000000000.done");
        fs::write(&orphan, format!("{:020}\n", records.len())).unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        assert!(!orphan.exists());
        // Numbers start again once every segment is gone, and a new
        // segment 0 is never taken as delivered.
        spool.append(&records).unwrap();
        assert_eq!(spool.closed_segments().unwrap(), vec![0]);
        assert_eq!(spool.open_segment(0).unwrap().remaining(), 3);
    }

    /// A progress file that names no record boundary (damaged, or from
    /// another segment) is not trusted: the whole segment is delivered
    /// again (copies, with the same Message-IDs), nothing is skipped.
    #[test]
    fn damaged_segment_progress_delivers_every_record_again() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let mut records = Vec::new();
        for t in &tickets(3) {
            segment::encode(&serde_json::to_vec(t).unwrap(), &mut records);
        }
        spool.append(&records).unwrap();
        let done = done_path(&spool.segment_path(0));
        for text in [
            "17\n".to_string(),
            "garbage".into(),
            format!("{}\n", 1u64 << 40),
        ] {
            fs::write(&done, &text).unwrap();
            let cursor = spool.open_segment(0).unwrap();
            assert_eq!(cursor.remaining(), 3, "{text:?}");
            assert_eq!(waiting_in_segment(&spool.segment_path(0)).unwrap().len(), 3);
        }
        // The end of the last record: all handed on.
        fs::write(&done, format!("{:020}\n", records.len())).unwrap();
        assert_eq!(spool.open_segment(0).unwrap().remaining(), 0);
        assert!(
            waiting_in_segment(&spool.segment_path(0))
                .unwrap()
                .is_empty()
        );
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
