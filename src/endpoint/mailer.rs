//! The mail worker: sends each spooled ticket to its routed address, and
//! removes it from the spool only once the mail server accepted it.
//!
//! A connection error or a 4xx answer is retried with growing pauses; a 5xx
//! answer moves the ticket to `failed/` and is logged loudly. A crash between
//! sending and removing means the ticket is sent again after a restart: its
//! `Message-ID` is derived from the reference, so the copy is recognisable.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, Message, SmtpTransport, Transport};

use super::spool::{self, Spool};
use super::ticket::{Ticket, iso_time, now_secs};
use crate::forms::strings::EndpointStrings;
use crate::site::lang::Lang;

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
    pub fn smtp(s: &SmtpSettings) -> anyhow::Result<Delivery> {
        let mut b = SmtpTransport::from_url(&s.url)
            .map_err(|e| anyhow::anyhow!("--smtp {}: {e}", s.url))?
            .timeout(Some(s.timeout));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Delivery::Smtp(b.build()))
    }
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
    /// Try again later: connection error, timeout, 4xx.
    Retry(String),
    /// The server refused it for good (5xx).
    Refused(String),
}

/// Drops every control character and caps the length: for the few visitor
/// strings that reach a header (the `Reply-To` display name). lettre 0.11
/// panics on CR or LF in a display name; the encoder does the rest.
pub fn header_safe(s: &str, max_chars: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_string()
}

fn right_name(slug: &str) -> &'static str {
    match slug {
        "access" => "Access request (Art. 15)",
        "rectification" => "Rectification request (Art. 16)",
        "erasure" => "Erasure request (Art. 17)",
        "restriction" => "Restriction request (Art. 18)",
        "portability" => "Portability request (Art. 20)",
        "objection" => "Objection (Art. 21)",
        "withdraw-consent" => "Consent withdrawal (Art. 7(3))",
        "complaint" => "Complaint (Art. 77)",
        _ => "Request",
    }
}

fn message_id(t: &Ticket, from: &Mailbox) -> String {
    format!("<{}.{}@{}>", t.reference, t.site, from.email.domain())
}

/// The ticket as a mail to the firm. Every visitor string is either in the
/// body or passed through `header_safe`; the subject holds none.
pub fn ticket_message(t: &Ticket, from: &Mailbox) -> Result<Message, String> {
    let to: Address =
        t.to.parse()
            .map_err(|e| format!("bad routed address: {e}"))?;
    let subject = format!(
        "[{}] {} – {}",
        t.reference,
        right_name(&t.right),
        header_safe(&t.firm, 200)
    );
    let mut body = format!(
        "Reference: {}\nRequest:   {}\nFirm:      {}\nSite:      {}\nForm:      {}\nLanguage:  {}\nReceived:  {}\nDue by:    {} (GDPR Art. 12(3): one month after receipt)\n\n",
        t.reference,
        right_name(&t.right),
        t.firm,
        t.site,
        t.form,
        t.language,
        iso_time(t.received),
        t.due
    );
    for f in &t.fields {
        let value = f.value.replace('\r', "");
        if value.contains('\n') {
            body.push_str(&format!("{} ({}):\n", f.label, f.name));
            for line in value.lines() {
                body.push_str(&format!("  {line}\n"));
            }
        } else {
            body.push_str(&format!("{} ({}): {}\n", f.label, f.name, value));
        }
    }
    body.push_str("\nReply to this mail to answer the requester.\n");
    let mut b = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(subject)
        .message_id(Some(message_id(t, from)))
        .date(std::time::UNIX_EPOCH + Duration::from_secs(t.received));
    if let Some(addr) = t
        .reply_to
        .as_deref()
        .and_then(|a| a.parse::<Address>().ok())
    {
        let name = t
            .requester_name
            .as_deref()
            .map(|n| header_safe(n, 100))
            .filter(|n| !n.is_empty());
        b = b.reply_to(Mailbox::new(name, addr));
    }
    b.header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

/// The fixed-text acknowledgement to the requester: reference and due
/// date, nothing the visitor typed.
pub fn ack_message(t: &Ticket, from: &Mailbox) -> Option<Message> {
    let to: Address = t.reply_to.as_deref()?.parse().ok()?;
    let lang: Lang = t.language.parse().unwrap_or(Lang::En);
    let s = EndpointStrings::get(lang);
    let due = super::ticket::parse_date(&t.due)
        .map(|(y, m, d)| lang.format_date(y as u16, m as u8, d as u8))
        .unwrap_or_else(|| t.due.clone());
    let body = s
        .ack_body
        .replace("{reference}", &t.reference)
        .replace("{due}", &due);
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(format!("[{}] {}", t.reference, s.ack_subject))
        .message_id(Some(format!(
            "<{}.{}.ack@{}>",
            t.reference,
            t.site,
            from.email.domain()
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .ok()
}

fn send(delivery: &Delivery, name: &str, msg: &Message) -> Outcome {
    match delivery {
        Delivery::Smtp(transport) => match transport.send(msg) {
            Ok(_) => Outcome::Sent,
            Err(e) if e.is_permanent() => Outcome::Refused(e.to_string()),
            Err(e) => Outcome::Retry(e.to_string()),
        },
        Delivery::Outbox(dir) => {
            let r = std::fs::create_dir_all(dir).and_then(|_| {
                spool::write_durably(
                    &dir.join(format!(".{name}.tmp")),
                    &dir.join(format!("{name}.eml")),
                    &msg.formatted(),
                )
            });
            match r {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    }
}

struct Backoff {
    attempts: u32,
    next: Instant,
}

/// The mail worker thread; stops when dropped.
pub struct Worker {
    wake: mpsc::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// A function that wakes the worker, for the spool committer.
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

fn run(spool: &Spool, s: &MailSettings, rx: &mpsc::Receiver<bool>) {
    let mut backoff: std::collections::HashMap<PathBuf, Backoff> = Default::default();
    loop {
        let mut wait = Duration::from_secs(5);
        let scan_started = Instant::now();
        let listed = spool.pending();
        let scan_time = scan_started.elapsed();
        match listed {
            Ok(paths) => {
                let present: std::collections::HashSet<&PathBuf> = paths.iter().collect();
                backoff.retain(|p, _| present.contains(p));
                for path in paths {
                    if let Ok(true) | Err(mpsc::TryRecvError::Disconnected) = rx.try_recv() {
                        return;
                    }
                    let now = Instant::now();
                    if let Some(b) = backoff.get(&path) {
                        if b.next > now {
                            wait = wait.min(b.next - now);
                            continue;
                        }
                    }
                    match deliver(spool, s, &path) {
                        Outcome::Retry(reason) => {
                            let b = backoff.entry(path.clone()).or_insert(Backoff {
                                attempts: 0,
                                next: now,
                            });
                            b.attempts += 1;
                            let pause = s
                                .retry_base
                                .saturating_mul(1u32 << b.attempts.min(16).saturating_sub(1))
                                .min(s.retry_max);
                            b.next = Instant::now() + pause;
                            wait = wait.min(pause);
                            eprintln!(
                                "portaal endpoint: {} not delivered yet (attempt {}), retrying in {:?}: {reason}",
                                name_of(&path),
                                b.attempts,
                                pause
                            );
                        }
                        Outcome::Sent | Outcome::Refused(_) => {
                            backoff.remove(&path);
                        }
                    }
                }
            }
            Err(e) => eprintln!("portaal endpoint: cannot list the spool: {e}"),
        }
        match rx.recv_timeout(wait) {
            Ok(true) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Ok(false) | Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        // Under load every commit wakes the worker; scan the spool at most
        // four times a second (less often when a large backlog makes a scan
        // slow), taking whatever arrived meanwhile in one go.
        let pause = (scan_time * 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
        std::thread::sleep(pause);
        loop {
            match rx.try_recv() {
                Ok(true) | Err(mpsc::TryRecvError::Disconnected) => return,
                Ok(false) => {}
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
    }
}

fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One attempt at one ticket, with the spool updated to match.
pub fn deliver(spool: &Spool, s: &MailSettings, path: &Path) -> Outcome {
    let ticket = match Spool::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Outcome::Sent,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            // Not a ticket we wrote (or a damaged one): set it aside for a
            // person rather than retrying it forever.
            let dest = spool
                .failed_dir()
                .join(format!("{}.unreadable", name_of(path)));
            eprintln!(
                "portaal endpoint: ERROR {} is not a readable ticket ({e}); moved to {}",
                path.display(),
                dest.display()
            );
            let _ = std::fs::rename(path, &dest);
            return Outcome::Refused(e.to_string());
        }
        Err(e) => return Outcome::Retry(format!("cannot read: {e}")),
    };
    let refuse = |reason: String| {
        eprintln!(
            "portaal endpoint: ERROR ticket {} for {} was REFUSED and moved to {}: {reason}",
            ticket.reference,
            ticket.to,
            spool.failed_dir().display()
        );
        if let Err(e) = spool.failed(path, &ticket, &reason, now_secs()) {
            eprintln!(
                "portaal endpoint: ERROR cannot move {}: {e}",
                path.display()
            );
        }
        Outcome::Refused(reason)
    };
    let msg = match ticket_message(&ticket, &s.from) {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    match send(&s.delivery, &ticket.reference, &msg) {
        Outcome::Sent => {
            if ticket.acknowledge {
                if let Some(ack) = ack_message(&ticket, &s.from) {
                    let name = format!("{}-ack", ticket.reference);
                    if let Outcome::Retry(e) | Outcome::Refused(e) = send(&s.delivery, &name, &ack)
                    {
                        eprintln!(
                            "portaal endpoint: acknowledgement of {} not sent: {e}",
                            ticket.reference
                        );
                    }
                }
            }
            if let Err(e) = spool.delivered(path, &ticket, now_secs()) {
                eprintln!(
                    "portaal endpoint: ERROR {} was delivered but not removed from the spool: {e}",
                    ticket.reference
                );
            }
            Outcome::Sent
        }
        Outcome::Refused(reason) => refuse(reason),
        retry => retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::ticket::TicketField;

    fn ticket(name: &str, value: &str) -> Ticket {
        Ticket {
            reference: "K7QM-3XDA".into(),
            site: "acme".into(),
            firm: "Acme BV".into(),
            form: "access".into(),
            right: "access".into(),
            to: "info@acme.test".into(),
            language: "nl".into(),
            received: 1_780_000_000,
            due: "2026-06-28".into(),
            fields: vec![TicketField {
                name: "details".into(),
                label: "Details".into(),
                value: value.into(),
            }],
            reply_to: Some("ann@example.test".into()),
            requester_name: Some(name.into()),
            acknowledge: false,
        }
    }

    fn headers(msg: &Message) -> String {
        let raw = String::from_utf8(msg.formatted()).unwrap();
        raw.split("\r\n\r\n").next().unwrap().to_string()
    }

    #[test]
    fn visitor_text_never_adds_a_header() {
        let from: Mailbox = "portaal <portaal@agency.test>".parse().unwrap();
        let long = "ä".repeat(10_000);
        for name in [
            "Ann\r\nBcc: evil@x.test",
            "Ann\nBcc: evil@x.test",
            "Ann\0Bcc: evil@x.test",
            "Ann\rBcc: evil@x.test",
            long.as_str(),
            "李小龍 Ωmega Zoë",
        ] {
            let msg = ticket_message(&ticket(name, "line\r\nBcc: evil@x.test"), &from).unwrap();
            let h = headers(&msg);
            for line in h.split("\r\n") {
                assert!(
                    !line.to_ascii_lowercase().starts_with("bcc:"),
                    "injected header in {h}"
                );
            }
            assert!(
                h.contains("Message-ID: <K7QM-3XDA.acme@agency.test>"),
                "{h}"
            );
            assert!(h.contains("Reply-To:"), "{h}");
        }
    }

    #[test]
    fn header_safe_strips_controls_and_caps_length() {
        assert_eq!(header_safe("a\r\nb\0c\u{85}d", 10), "abcd");
        assert_eq!(header_safe(&"x".repeat(500), 100).len(), 100);
    }
}
