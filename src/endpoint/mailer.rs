//! The mail worker: sends each spooled ticket to its routed address, and
//! removes it from the spool only once the mail server accepted it.
//!
//! Tickets are delivered straight from the spool's segments, in order
//! (see `spool`). A relay that cannot be reached stops the pass: the
//! tickets stay in their segments, and the worker tries again after a
//! growing pause (one attempt stands for all, and nothing is kept per
//! waiting ticket, so an outage of any length costs no memory). A 4xx
//! answer for one ticket moves it to its own file in `new/`, retried with
//! growing pauses kept in the file's name; a 5xx answer, or a mail this
//! relay can never take (a non-ASCII address on a relay without
//! SMTPUTF8), moves the ticket to `failed/` and is logged loudly. A crash
//! between sending and recording it means the ticket is sent again after
//! a restart: its `Message-ID` is derived from the reference, so the copy
//! is recognisable.
//!
//! The acknowledgement to the requester is sent right after its ticket;
//! one that cannot go then waits in `new/` (written before the ticket's
//! record is passed) with the same retries and the same `failed/`. A
//! ticket retried from `new/` spools its acknowledgement when it leaves
//! the spool (`Spool::delivered`), so a crash while sending that one never
//! sends the ticket again. Log lines never carry the requester's address:
//! relay answers about an acknowledgement are cut to their status codes.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

use super::address::{self, needs_smtputf8};
use super::message::{ack_message, ticket_message};
use super::spool::{self, Spool};
use super::ticket::{Ack, Ticket, now_secs};

/// Where mail goes.
#[derive(Clone)]
pub enum Delivery {
    Smtp(SmtpTransport),
    /// `.eml` files in a folder, for local use.
    Outbox(PathBuf),
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtp://host?tls=required`, `smtps://host`.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl Delivery {
    /// The word `delivered.log` records for a mail that left: an outbox
    /// file was written, not delivered to anyone, and the log says so.
    pub fn logged_as(&self, sent: &'static str) -> &'static str {
        match self {
            Delivery::Smtp(_) => sent,
            Delivery::Outbox(_) => "outbox",
        }
    }

    /// SMTP with lettre's default EHLO name (the URL's path, else the
    /// machine's host name).
    pub fn smtp(s: &SmtpSettings) -> anyhow::Result<Delivery> {
        Self::smtp_as(s, None)
    }

    /// SMTP saying `EHLO helo`. A URL that can never connect is refused
    /// here, at start, rather than retried for ever.
    pub fn smtp_as(s: &SmtpSettings, helo: Option<&str>) -> anyhow::Result<Delivery> {
        if let Ok(url) = url::Url::parse(&s.url)
            && let Some(url::Host::Ipv6(ip)) = url.host()
        {
            anyhow::bail!(
                "--smtp {}: an IPv6 address in brackets cannot be used (the mail library looks \
                     `[{ip}]` up as a host name); use a host name that resolves to it, e.g. \
                     smtp://localhost:{}, or an IPv4 address",
                s.url,
                url.port().unwrap_or(25)
            );
        }
        let mut b = SmtpTransport::from_url(&s.url)
            .map_err(|e| anyhow::anyhow!("--smtp {}: {e}", s.url))?
            .timeout(Some(s.timeout));
        if let Some(name) = helo {
            b = b.hello_name(client_id(name)?);
        }
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Delivery::Smtp(b.build()))
    }
}

/// The EHLO name when `--helo` is not given: the `--from` domain when it is
/// a dotted, public-looking name (relays with `reject_non_fqdn_helo_hostname`
/// want a fully qualified one), else none (lettre sends the host name).
pub fn default_helo(from: &Mailbox) -> Option<String> {
    let domain = address::ascii_domain(from.email.domain())?;
    let last = domain.rsplit('.').next().unwrap_or_default();
    (domain.contains('.') && last != "localhost" && last != "invalid").then_some(domain)
}

/// `--helo NAME`: a host name (IDN allowed, sent as A-label) or an address
/// literal such as `[192.0.2.1]`.
fn client_id(name: &str) -> anyhow::Result<ClientId> {
    if let Some(ip) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
        return match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => Ok(ClientId::Ipv4(v4)),
            Ok(std::net::IpAddr::V6(v6)) => Ok(ClientId::Ipv6(v6)),
            Err(_) => anyhow::bail!("--helo {name}: not an IP address in brackets"),
        };
    }
    match address::ascii_domain(name) {
        Some(d) if d.contains('.') => Ok(ClientId::Domain(d)),
        _ => anyhow::bail!(
            "--helo {name}: give a fully qualified host name such as mail.agency.be \
             (or an address literal like [192.0.2.1])"
        ),
    }
}

/// `--from` as sent: the domain as A-label (a valid Message-ID and an
/// ASCII envelope on any relay). A non-ASCII local part is refused: every
/// ticket would then depend on the relay's SMTPUTF8.
pub fn sender(from: &Mailbox) -> Result<Mailbox, String> {
    let email = address::configured(from.email.as_ref())?;
    if needs_smtputf8(&email) {
        return Err(format!(
            "`{}` has non-ASCII characters before the @; use an ASCII address so every relay \
             takes the tickets",
            from.email
        ));
    }
    Ok(Mailbox::new(from.name.clone(), email))
}

/// Asks a plain `smtp://` relay at start-up, in one session of `MAIL` /
/// `RCPT` / `RSET` without sending anything, whether it takes each routed
/// address, and returns a line for each one it will not take (refused,
/// needs SMTPUTF8 it does not offer) or could not check. An address the
/// relay accepts here may still bounce later: a relay that forwards to
/// another domain accepts any address there unless it verifies recipients
/// (Postfix: `reject_unverified_recipient`). `VRFY` is not used: most
/// relays disable or fake it. TLS relays are not probed. Lines about an
/// address that cannot work start with `ERROR`.
pub fn check_routes(
    url: &str,
    helo: Option<&str>,
    timeout: Duration,
    from: &Mailbox,
    routes: &[String],
) -> Vec<String> {
    use lettre::transport::smtp::client::SmtpConnection;
    use lettre::transport::smtp::commands::{Mail, Rcpt, Rset};
    use lettre::transport::smtp::extension::{Extension, MailParameter};
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    if parsed.scheme() != "smtp" || parsed.query_pairs().any(|(k, _)| k == "tls") {
        return Vec::new();
    }
    let Some(host) = parsed.host_str() else {
        return Vec::new();
    };
    let port = parsed.port().unwrap_or(25);
    let id = match helo.map(client_id) {
        Some(Ok(id)) => id,
        _ => ClientId::default(),
    };
    let mut conn = match SmtpConnection::connect((host, port), Some(timeout), &id, None, None) {
        Ok(c) => c,
        Err(e) => {
            return vec![format!(
                "routed addresses not checked: the relay is not reachable now ({e}); tickets wait in the spool until it is"
            )];
        }
    };
    let utf8 = conn.server_info().supports_feature(Extension::SmtpUtfEight);
    let mut out = Vec::new();
    for route in routes {
        let addr = match address::configured(route) {
            Ok(a) => a,
            Err(e) => {
                out.push(format!("ERROR routed address {e}"));
                continue;
            }
        };
        let params = if needs_smtputf8(&addr) {
            if !utf8 {
                out.push(format!(
                    "ERROR routed address {route} needs SMTPUTF8, which the relay does not offer: its tickets will land in failed/ (enable smtputf8_enable, or use an ASCII address)"
                ));
                continue;
            }
            vec![MailParameter::SmtpUtfEight]
        } else {
            Vec::new()
        };
        let answer = conn
            .command(Mail::new(Some(from.email.clone()), params))
            .and_then(|_| conn.command(Rcpt::new(addr, Vec::new())));
        match answer {
            Ok(_) => {}
            Err(e) if e.is_permanent() => out.push(format!(
                "ERROR routed address {route} is REFUSED by the relay ({e}): its tickets will land in failed/"
            )),
            Err(e) => out.push(format!(
                "routed address {route} could not be checked ({e})"
            )),
        }
        if conn.command(Rset).is_err() {
            break;
        }
    }
    let _ = conn.quit();
    out
}

#[derive(Clone)]
pub struct MailSettings {
    pub delivery: Delivery,
    pub from: Mailbox,
    /// The first pause after a temporary failure; doubled up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
}

/// What a delivery attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The relay answered "not now" (4xx) for this mail: try it again
    /// later.
    Retry(String),
    /// The relay could not be reached or the outbox not written
    /// (connection error, timeout): no other mail gets through either, so
    /// the rest wait too.
    Unreachable(String),
    /// The server refused it for good (5xx), or it can never be sent.
    Refused(String),
}

fn send(delivery: &Delivery, name: &str, msg: &Message) -> Outcome {
    match delivery {
        Delivery::Smtp(transport) => match transport.send(msg) {
            Ok(_) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Refused(e.to_string()),
            // lettre refuses before sending when the relay lacks SMTPUTF8
            // (or 8BITMIME) for this mail: no retry can change that.
            Err(e) if e.is_client() && e.to_string().contains("non-ascii") => Outcome::Refused(
                format!("{e} (enable SMTPUTF8 on the relay, e.g. Postfix smtputf8_enable = yes)"),
            ),
            Err(e) if e.is_transient() => Outcome::Retry(e.to_string()),
            Err(e) => Outcome::Unreachable(e.to_string()),
        },
        Delivery::Outbox(dir) => {
            let r = spool::private_dir(dir).and_then(|_| {
                spool::write_durably(
                    &dir.join(format!(".{name}.tmp")),
                    &dir.join(format!("{name}.eml")),
                    &msg.formatted(),
                )
            });
            match r {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Unreachable(e.to_string()),
            }
        }
    }
}

/// A relay's answer as it may be logged: without the requester's
/// address (compared ASCII-case-insensitively), and for an answer about
/// the acknowledgement (which is addressed to the requester) cut to its
/// status codes, since relays quote recipients in many forms.
fn loggable(reason: &str, requester: Option<&str>, codes_only: bool) -> String {
    if codes_only
        && let Some((head, rest)) = reason.split_once("): ")
        && (head.starts_with("permanent error (") || head.starts_with("transient error ("))
    {
        let enhanced = rest.split_whitespace().next().filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
        return match enhanced {
            Some(code) => format!("{head}) {code}"),
            None => format!("{head})"),
        };
    }
    let Some(addr) = requester.filter(|a| !a.is_empty()) else {
        return reason.to_string();
    };
    let (hay, needle) = (reason.to_ascii_lowercase(), addr.to_ascii_lowercase());
    let mut out = String::with_capacity(reason.len());
    let mut last = 0;
    for (i, _) in hay.match_indices(&needle) {
        out.push_str(&reason[last..i]);
        out.push_str("<requester's address>");
        last = i + needle.len();
    }
    out.push_str(&reason[last..]);
    out
}

/// The mail worker thread; stops when dropped.
pub struct Worker {
    wake: mpsc::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// A function that wakes the worker, for the spool committer. The lock
    /// only serialises sends; a poisoned one is taken all the same (as
    /// everywhere, see `serve::state::Shared`).
    pub fn waker(&self) -> Arc<dyn Fn() + Send + Sync> {
        let tx = Mutex::new(self.wake.clone());
        Arc::new(move || {
            let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(false);
        })
    }

    pub fn start(spool: Spool, settings: MailSettings) -> Worker {
        let (wake, rx) = mpsc::channel::<bool>();
        let thread = std::thread::Builder::new()
            .name("mail".into())
            .spawn(move || run(&spool, &settings, &rx))
            .expect("spawn the mail worker");
        Worker {
            wake,
            thread: Some(thread),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.wake.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The pause after `attempts` failed attempts: `retry_base`, doubled
/// each time, at most `retry_max`.
fn backoff(s: &MailSettings, attempts: u32) -> Duration {
    s.retry_base
        .saturating_mul(1u32 << attempts.clamp(1, 17).saturating_sub(1))
        .min(s.retry_max)
}

fn run(spool: &Spool, s: &MailSettings, rx: &mpsc::Receiver<bool>) {
    // The only retry state kept in memory: how many passes in a row found
    // the relay unreachable, and when to try it again. Each ticket's own
    // state is in its file name (`Spool::postpone`).
    let mut relay_down: u32 = 0;
    let mut relay_again: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let mut woken = false;
        let mut stopped = false;
        let relay_due = relay_again.is_none_or(|t| started >= t);
        let p = pass(spool, s, now_ms(), relay_due, &mut || match rx.try_recv() {
            Ok(false) => {
                woken = true;
                false
            }
            Ok(true) | Err(mpsc::TryRecvError::Disconnected) => {
                stopped = true;
                true
            }
            Err(mpsc::TryRecvError::Empty) => false,
        });
        if stopped {
            return;
        }
        // The time spent reading the spool, not waiting on the relay.
        let scan_time = started.elapsed().saturating_sub(p.sending);
        let mut wait = Duration::from_secs(5);
        if let Some(due) = p.next_due_ms {
            wait = wait.min(Duration::from_millis(due.saturating_sub(now_ms())));
        }
        if p.unreachable {
            relay_down = relay_down.saturating_add(1);
            wait = backoff(s, relay_down);
            relay_again = Some(Instant::now() + wait);
        } else if p.attempted > 0 {
            relay_down = 0;
            relay_again = None;
        } else if let Some(t) = relay_again {
            wait = t.saturating_duration_since(Instant::now());
        }
        if !woken {
            match rx.recv_timeout(wait) {
                Ok(true) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(false) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        // Under load every commit wakes the worker; pass over the spool at
        // most four times a second (less often when a large backlog makes a
        // pass slow), taking whatever arrived meanwhile in one go.
        let until = Instant::now()
            + (scan_time * 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
        loop {
            match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(true) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Ok(false) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
    }
}

/// What one pass over the spool did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Records of segments handed on: delivered, set aside in `failed/`,
    /// or moved to `new/` to wait for a retry.
    pub from_segments: usize,
    /// Delivery attempts made.
    pub attempted: usize,
    /// Files left waiting in `new/` (not due, not reached, or retried).
    pub waiting: usize,
    /// The earliest next attempt among them (Unix ms).
    pub next_due_ms: Option<u64>,
    /// The relay was unreachable: the pass stopped trying.
    pub unreachable: bool,
    /// Time spent in delivery attempts.
    pub sending: Duration,
}

/// One pass, when `try_relay` (the relay is not in its pause): tries
/// every file in `new/` that is due at `now_ms`, reading the directory as
/// a stream so that memory does not grow with the backlog, then delivers
/// the records of every closed segment, oldest first, straight from the
/// segment (the open one is closed first, so what was just answered goes
/// too). Once the relay is unreachable the rest are left for the next
/// pass, untouched: nothing is kept per waiting ticket, on disk or in
/// memory. `stop` is asked before each attempt; true ends the pass.
pub fn pass(
    spool: &Spool,
    s: &MailSettings,
    now_ms: u64,
    try_relay: bool,
    stop: &mut dyn FnMut() -> bool,
) -> Pass {
    let mut p = Pass::default();
    if !try_relay {
        return p;
    }
    let listing = match std::fs::read_dir(spool.new_dir()) {
        Ok(l) => l,
        Err(e) => {
            log::warn!("cannot list the spool: {e}");
            return p;
        }
    };
    for entry in listing {
        if stop() {
            return p;
        }
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let (attempts, due) = Spool::retry_state(&path);
        if due > now_ms || p.unreachable {
            p.waiting += 1;
            if due > now_ms {
                p.next_due_ms = Some(p.next_due_ms.map_or(due, |d| d.min(due)));
            }
            continue;
        }
        p.attempted += 1;
        let sending = Instant::now();
        let outcome = deliver(spool, s, &path);
        p.sending += sending.elapsed();
        let (reason, unreachable) = match outcome {
            Outcome::Sent | Outcome::Refused(_) => continue,
            Outcome::Retry(reason) => (reason, false),
            Outcome::Unreachable(reason) => (reason, true),
        };
        let attempts = attempts.saturating_add(1);
        let pause = backoff(s, attempts);
        let due = now_ms.saturating_add(pause.as_millis() as u64);
        if let Err(e) = Spool::postpone(&path, attempts, due) {
            log::warn!("cannot record the retry of {}: {e}", path.display());
        }
        p.waiting += 1;
        p.next_due_ms = Some(p.next_due_ms.map_or(due, |d| d.min(due)));
        p.unreachable |= unreachable;
        log::warn!(
            "{} not delivered yet (attempt {attempts}), retrying in {pause:?}: {reason}",
            name_of(&path),
        );
    }
    if !p.unreachable {
        from_segments(spool, s, now_ms, stop, &mut p);
    }
    p
}

/// The segment part of a pass: each record is tried once and handed on
/// (its progress flushed) unless the relay is unreachable.
fn from_segments(
    spool: &Spool,
    s: &MailSettings,
    now_ms: u64,
    stop: &mut dyn FnMut() -> bool,
    p: &mut Pass,
) {
    let cannot = |what: &str, e: std::io::Error| {
        log::error!(
            "cannot {what} in {} (its tickets stay there and are tried again): {e}",
            spool.dir.join("segments").display()
        );
    };
    let seqs = match spool.closed_segments() {
        Ok(seqs) => seqs,
        Err(e) => return cannot("list the segments", e),
    };
    for seq in seqs {
        let mut cursor = match spool.open_segment(seq) {
            Ok(c) => c,
            Err(e) => return cannot(&format!("read segment {seq:016x}"), e),
        };
        while let Some((at, record)) = cursor.peek() {
            if stop() {
                return;
            }
            p.attempted += 1;
            let sending = Instant::now();
            let retry_pause = backoff(s, 1);
            let retry_due = now_ms.saturating_add(retry_pause.as_millis() as u64);
            let outcome = deliver_record(spool, s, seq, at, record, retry_due);
            p.sending += sending.elapsed();
            match outcome {
                Ok((reference, Outcome::Unreachable(reason))) => {
                    p.unreachable = true;
                    log::warn!(
                        "{reference} not delivered yet (relay unreachable; it and every ticket \
                         after it wait in their segments): {reason}"
                    );
                    return;
                }
                Ok((reference, Outcome::Retry(reason))) => {
                    p.waiting += 1;
                    p.next_due_ms = Some(p.next_due_ms.map_or(retry_due, |d| d.min(retry_due)));
                    log::warn!(
                        "{reference} not delivered yet (attempt 1), retrying in {retry_pause:?}: \
                         {reason}"
                    );
                }
                Ok(_) => {}
                Err(e) => return cannot(&format!("hand on a ticket of segment {seq:016x}"), e),
            }
            if let Err(e) = cursor.advance() {
                return cannot(&format!("record the progress of segment {seq:016x}"), e);
            }
            p.from_segments += 1;
        }
        if let Err(e) = cursor.finish() {
            return cannot(&format!("remove the delivered segment {seq:016x}"), e);
        }
    }
}

/// One attempt at one record of segment `seq` (at byte `at`), with the
/// spool updated to match: `Sent` (logged; its acknowledgement sent too,
/// or put in `new/` to wait), `Refused` (set aside in `failed/`), `Retry`
/// (moved to `new/`, due at `retry_due`): the record is handed on.
/// `Unreachable`, or an error storing one of those: it is not, and stays
/// in its segment. Returns the ticket's reference (for the log) too.
fn deliver_record(
    spool: &Spool,
    s: &MailSettings,
    seq: u64,
    at: usize,
    record: &[u8],
    retry_due: u64,
) -> std::io::Result<(String, Outcome)> {
    let ticket = match serde_json::from_slice::<Ticket>(record) {
        Ok(t) if super::ticket::is_reference(&t.reference) => t,
        Ok(_) | Err(_) => {
            let dest = spool.unreadable_record(seq, at, record)?;
            log::error!(
                "record at byte {at} of segment {seq:016x} is not a ticket; moved to {}",
                dest.display()
            );
            return Ok((
                format!("segment-{seq:016x}-{at}"),
                Outcome::Refused("not a ticket".into()),
            ));
        }
    };
    let requester = ticket.reply_to.as_deref();
    let msg = ticket_message(&ticket, &s.from);
    let outcome = match &msg {
        Ok(msg) => send(&s.delivery, &ticket.reference, msg),
        Err(e) => Outcome::Refused(e.clone()),
    };
    let outcome = match outcome {
        Outcome::Sent => {
            spool.delivered_record(&ticket, now_secs(), s.delivery.logged_as("delivered"))?;
            if let Some(ack) = Ack::of(&ticket) {
                // Right away; one that cannot go now waits in new/ like
                // any mail, before the record is passed.
                if let Outcome::Retry(reason) | Outcome::Unreachable(reason) =
                    attempt_ack(spool, s, &ack, None)
                {
                    spool.wait_ack(&ack, 1, retry_due)?;
                    log::warn!(
                        "acknowledgement of {} not sent yet, retrying in {:?}: {reason}",
                        ticket.reference,
                        backoff(s, 1)
                    );
                }
            }
            Outcome::Sent
        }
        Outcome::Refused(reason) => {
            log_refused(spool, &ticket, &reason);
            spool.failed(None, &ticket, &reason, now_secs())?;
            Outcome::Refused(reason)
        }
        Outcome::Retry(reason) => {
            spool.wait_ticket(&ticket, 1, retry_due)?;
            Outcome::Retry(loggable(&reason, requester, false))
        }
        Outcome::Unreachable(reason) => Outcome::Unreachable(loggable(&reason, requester, false)),
    };
    Ok((ticket.reference, outcome))
}

/// Says that the relay refused `ticket` for good and where it was set
/// aside (without the requester's address: see [`loggable`]).
fn log_refused(spool: &Spool, ticket: &Ticket, reason: &str) {
    log::error!(
        "ticket {} for {} was REFUSED and moved to {}: {}",
        ticket.reference,
        ticket.to,
        spool.failed_dir().display(),
        loggable(reason, ticket.reply_to.as_deref(), false)
    );
}

/// The time now in Unix milliseconds, as retry names carry it.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn name_of(path: &Path) -> String {
    let reference = Spool::reference_of(path);
    if Spool::is_ack(path) {
        format!("{reference}.ack")
    } else {
        reference
    }
}

/// One attempt at one ticket or acknowledgement, with the spool updated
/// to match.
pub fn deliver(spool: &Spool, s: &MailSettings, path: &Path) -> Outcome {
    if Spool::is_ack(path) {
        return deliver_ack(spool, s, path);
    }
    let ticket = match Spool::read(path) {
        Ok(t) => t,
        Err(e) => return unreadable(spool, path, e),
    };
    let requester = ticket.reply_to.as_deref();
    let refuse = |reason: String| {
        log_refused(spool, &ticket, &reason);
        if let Err(e) = spool.failed(Some(path), &ticket, &reason, now_secs()) {
            log::error!("cannot move {}: {e}", path.display());
        }
        Outcome::Refused(reason)
    };
    let msg = match ticket_message(&ticket, &s.from) {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    match send(&s.delivery, &ticket.reference, &msg) {
        Outcome::Sent => {
            let ack = Ack::of(&ticket);
            if let Err(e) = spool.delivered(
                path,
                &ticket,
                ack.as_ref(),
                now_secs(),
                s.delivery.logged_as("delivered"),
            ) {
                log::error!(
                    "{} was delivered but not removed from the spool: {e}",
                    ticket.reference
                );
                return Outcome::Sent;
            }
            if let Some(ack) = ack {
                // Right away, now that the ticket has left the spool; a
                // failure is retried from the spool like any mail.
                let ack_path =
                    spool
                        .new_dir()
                        .join(format!("{}{}", ack.reference, spool::ACK_SUFFIX));
                if let Outcome::Retry(reason) | Outcome::Unreachable(reason) =
                    deliver_ack(spool, s, &ack_path)
                {
                    let pause = backoff(s, 1);
                    let due = now_ms().saturating_add(pause.as_millis() as u64);
                    let _ = Spool::postpone(&ack_path, 1, due);
                    log::warn!(
                        "acknowledgement of {} not sent yet, retrying in {pause:?}: {reason}",
                        ticket.reference
                    );
                }
            }
            Outcome::Sent
        }
        Outcome::Refused(reason) => refuse(reason),
        Outcome::Retry(reason) => Outcome::Retry(loggable(&reason, requester, false)),
        Outcome::Unreachable(reason) => Outcome::Unreachable(loggable(&reason, requester, false)),
    }
}

/// One attempt at an acknowledgement waiting in `new/`. The `Retry`
/// reason is loggable.
fn deliver_ack(spool: &Spool, s: &MailSettings, path: &Path) -> Outcome {
    match Spool::read_ack(path) {
        Ok(ack) => attempt_ack(spool, s, &ack, Some(path)),
        Err(e) => unreadable(spool, path, e),
    }
}

/// One attempt at an acknowledgement, from its file in `new/` (`path`) or
/// right after its ticket was sent (none). The `Retry` reason is loggable.
fn attempt_ack(spool: &Spool, s: &MailSettings, ack: &Ack, path: Option<&Path>) -> Outcome {
    let refuse = |reason: String| {
        log::error!(
            "acknowledgement of {} cannot be sent; moved to {}: {}",
            ack.reference,
            spool.failed_dir().display(),
            loggable(&reason, Some(&ack.to), true)
        );
        if let Err(e) = spool.ack_failed(path, ack, &reason, now_secs()) {
            log::error!(
                "cannot set aside the acknowledgement of {}: {e}",
                ack.reference
            );
        }
        Outcome::Refused(reason)
    };
    let msg = match ack_message(ack, &s.from) {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    match send(&s.delivery, &format!("{}-ack", ack.reference), &msg) {
        Outcome::Sent => {
            if let Err(e) =
                spool.acknowledged(path, ack, now_secs(), s.delivery.logged_as("acknowledged"))
            {
                log::error!(
                    "acknowledgement of {} was sent but not removed from the spool: {e}",
                    ack.reference
                );
            }
            Outcome::Sent
        }
        Outcome::Refused(reason) => refuse(reason),
        Outcome::Retry(reason) => Outcome::Retry(loggable(&reason, Some(&ack.to), true)),
        Outcome::Unreachable(reason) => {
            Outcome::Unreachable(loggable(&reason, Some(&ack.to), true))
        }
    }
}

/// A file in `new/` that cannot be read: gone (another attempt took it),
/// not ours or damaged (set aside for a person rather than retried for
/// ever), or a read error (retried).
fn unreadable(spool: &Spool, path: &Path, e: std::io::Error) -> Outcome {
    match e.kind() {
        std::io::ErrorKind::NotFound => Outcome::Sent,
        std::io::ErrorKind::InvalidData => {
            let dest = spool
                .failed_dir()
                .join(format!("{}.unreadable", name_of(path)));
            log::error!(
                "{} is not a readable ticket ({e}); moved to {}",
                path.display(),
                dest.display()
            );
            let _ = std::fs::rename(path, &dest);
            Outcome::Refused(e.to_string())
        }
        _ => Outcome::Retry(format!("cannot read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_ipv6_relay_is_retried_forever() {
        let settings = |url: &str| SmtpSettings {
            url: url.into(),
            username: None,
            password: None,
            timeout: Duration::from_secs(1),
        };
        let err = Delivery::smtp(&settings("smtp://[::1]:25")).err().unwrap();
        assert!(err.to_string().contains("IPv6"), "{err}");
        assert!(Delivery::smtp(&settings("smtp://localhost:25")).is_ok());
    }

    #[test]
    fn ehlo_name_is_the_bare_hostname() {
        let agency: Mailbox = "portaal <portaal@agency.test>".parse().unwrap();
        assert_eq!(default_helo(&agency).as_deref(), Some("agency.test"));
        let idn: Mailbox = "p <p@bücher.test>".parse().unwrap();
        assert_eq!(default_helo(&idn).as_deref(), Some("xn--bcher-kva.test"));
        let local: Mailbox = "p <p@localhost>".parse().unwrap();
        assert_eq!(default_helo(&local), None);
        assert!(client_id("vm").is_err());
        assert!(client_id("mail.agency.be").is_ok());
        assert!(client_id("[192.0.2.1]").is_ok());
        assert!(client_id("[nonsense]").is_err());
    }

    #[test]
    fn requester_address_never_reaches_the_log() {
        let reason = "permanent error (550): 5.1.1 <Zoe@Example.test>: Recipient address rejected: User unknown";
        assert_eq!(
            loggable(reason, Some("zoe@example.test"), true),
            "permanent error (550) 5.1.1"
        );
        let logged = loggable(reason, Some("zoe@example.test"), false);
        assert!(!logged.to_lowercase().contains("zoe@"), "{logged}");
        assert!(logged.contains("User unknown"), "{logged}");
        assert_eq!(
            loggable("Connection error: refused", Some("zoe@example.test"), true),
            "Connection error: refused"
        );
    }

    fn down_relay() -> MailSettings {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        MailSettings {
            delivery: Delivery::smtp(&SmtpSettings {
                url: format!("smtp://127.0.0.1:{port}"),
                username: None,
                password: None,
                timeout: Duration::from_secs(2),
            })
            .unwrap(),
            from: "portaal <portaal@agency.test>".parse().unwrap(),
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
        }
    }

    fn commit_tickets(c: &spool::Committer, n: usize) -> Vec<String> {
        use super::super::ticket::{Ticket, new_reference};
        (0..n)
            .map(|_| {
                let mut t = Ticket::sample("Ann", "Please send me everything");
                t.reference = new_reference().unwrap();
                c.commit(t.clone()).unwrap();
                t.reference
            })
            .collect()
    }

    fn waiting_in_segments(spool: &Spool) -> usize {
        std::fs::read_dir(spool.dir.join("segments"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "seg"))
            .map(|p| spool::waiting_in_segment(&p).unwrap().len())
            .sum()
    }

    /// Issue 14: with the relay down, a pass costs one attempt however
    /// many tickets wait, and makes no file per ticket: every ticket waits
    /// in its segment, and the only retry state is the worker's pause for
    /// the relay. A pass in that pause touches nothing.
    #[test]
    fn relay_down_costs_one_attempt_and_no_file_per_ticket() {
        let s = down_relay();
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let c = spool::Committer::start(spool.clone(), Arc::new(|| {}));
        let mut total = 0;
        for n in [10, 300] {
            commit_tickets(&c, n);
            total += n;
            let p = pass(&spool, &s, now_ms(), true, &mut || false);
            assert_eq!(
                (p.attempted, p.from_segments, p.unreachable),
                (1, 0, true),
                "one attempt stands for all while the relay is down: {p:?}"
            );
            assert!(spool.pending().unwrap().is_empty());
            assert_eq!(waiting_in_segments(&spool), total);
        }
        commit_tickets(&c, 5);
        let p = pass(&spool, &s, now_ms(), false, &mut || false);
        assert_eq!(p, Pass::default());
        assert_eq!(waiting_in_segments(&spool), total + 5);
        assert!(spool.pending().unwrap().is_empty());
    }

    /// Issue 14: tickets are delivered straight from their segment, with
    /// no file per ticket in `new/`. A worker stopped half-way (as by a
    /// crash) leaves its progress on disk; the next one goes on from
    /// there: every mail once, none lost, and nothing left behind.
    #[test]
    fn segments_are_delivered_in_place_and_resumed_after_a_stop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let outbox = tmp.path().join("outbox");
        let s = MailSettings {
            delivery: Delivery::Outbox(outbox.clone()),
            ..down_relay()
        };
        let spool = Spool::open(&dir).unwrap();
        let c = spool::Committer::start(spool.clone(), Arc::new(|| {}));
        let refs = commit_tickets(&c, 5);
        let mut asked = 0;
        let p = pass(&spool, &s, now_ms(), true, &mut || {
            asked += 1;
            asked > 2
        });
        assert_eq!((p.attempted, p.from_segments), (2, 2), "{p:?}");
        assert!(spool.pending().unwrap().is_empty(), "no file per ticket");
        assert_eq!(waiting_in_segments(&spool), 3);

        let spool = Spool::open(&dir).unwrap();
        let p = pass(&spool, &s, now_ms(), true, &mut || false);
        assert_eq!((p.attempted, p.from_segments), (3, 3), "{p:?}");
        assert!(spool.pending().unwrap().is_empty());
        assert_eq!(std::fs::read_dir(dir.join("segments")).unwrap().count(), 0);
        let log = std::fs::read_to_string(dir.join("delivered.log")).unwrap();
        for r in &refs {
            // The ticket and its acknowledgement, each once.
            assert_eq!(
                log.lines().filter(|l| l.starts_with(r.as_str())).count(),
                2,
                "{log}"
            );
            for name in [format!("{r}.eml"), format!("{r}-ack.eml")] {
                assert!(outbox.join(&name).is_file(), "{name}");
            }
        }
        assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 10);
    }
}
