//! `portaal endpoint` with a real Postfix from Debian as its relay, set up
//! as an agency would, but private to the test: its own configuration
//! directory, queue and loopback port, virtual Maildir delivery for the
//! test domains and `default_transport = error`, so nothing can leave the
//! machine. The system's Postfix is neither used nor started.
//!
//! Skipped, with a message, where Postfix is not installed (`scripts/test`
//! installs it) or the test does not run as root (Postfix's master must).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use portaal::forms::sign::{self, Claims, KeyRing};
use portaal::site::Site;

use crate::support::http;
use crate::support::process::Running;
use crate::support::{fixture_copy, free_port, portaal_bin, wait_for};

const POSTFIX: &str = "/usr/sbin/postfix";

/// A private Postfix instance; stopped on drop.
struct Postfix {
    dir: tempfile::TempDir,
    port: u16,
}

impl Postfix {
    /// Configures (and starts) an instance, or says why the test is skipped.
    fn start(smtputf8: bool) -> Option<Postfix> {
        if !Path::new(POSTFIX).exists() {
            eprintln!("SKIPPED: Postfix is not installed (scripts/test installs Debian's postfix)");
            return None;
        }
        // SAFETY: geteuid reads the process's user id.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: a private Postfix instance must be started as root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        use std::os::unix::fs::PermissionsExt;
        // Postfix's daemons run as `postfix` and `nobody` and must reach in.
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["conf", "queue", "data", "mail"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        std::os::unix::fs::chown(d.join("mail"), Some(65534), Some(65534)).unwrap();
        let postfix_uid = uid_of("postfix");
        std::os::unix::fs::chown(d.join("data"), Some(postfix_uid), None).unwrap();
        let port = free_port();
        let p = d.display();
        std::fs::write(
            d.join("conf/main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {p}/queue
data_directory = {p}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {p}/maillog
maillog_file_prefixes = {p}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.portaal-test.invalid
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:nothing leaves this test
relay_transport = error:nothing leaves this test
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = acme.test agency.test example.test xn--bcher-kva.test
virtual_mailbox_maps = texthash:{p}/conf/vmailbox
virtual_mailbox_base = {p}/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtputf8_enable = {utf8}
strict_7bit_headers = {strict}
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_non_fqdn_helo_hostname
",
                // RFC 6532 allows UTF-8 headers in an SMTPUTF8 mail (the
                // acknowledgement to zoë@ has one); Postfix's strict check
                // would refuse it. Without SMTPUTF8 every header must be
                // 7-bit, and Postfix checks that for us.
                utf8 = if smtputf8 { "yes" } else { "no" },
                strict = if smtputf8 { "no" } else { "yes" },
            ),
        )
        .unwrap();
        // complaints@acme.test is missing on purpose: an unknown recipient.
        std::fs::write(
            d.join("conf/vmailbox"),
            "info@acme.test acme/info/\n@example.test example/\n\
             @xn--bcher-kva.test buecher/\n@agency.test agency/\n",
        )
        .unwrap();
        let services = [
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "virtual unix - n n - - virtual",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ];
        std::fs::write(
            d.join("conf/master.cf"),
            format!(
                "127.0.0.1:{port} inet n - n - - smtpd\n{}\n",
                services.join("\n")
            ),
        )
        .unwrap();
        let pf = Postfix { dir, port };
        pf.up();
        Some(pf)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("conf")
    }

    fn postfix(&self, what: &str) -> std::process::Output {
        Command::new(POSTFIX)
            .arg("-c")
            .arg(self.conf())
            .arg(what)
            .output()
            .unwrap()
    }

    fn up(&self) {
        let out = self.postfix("start");
        assert!(
            out.status.success(),
            "postfix start: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
        );
        wait_for("Postfix's SMTP port", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", self.port)).ok()
        });
    }

    /// Stops the instance and waits until its master is gone.
    fn down(&self) {
        let _ = self.postfix("stop");
        // `postfix status` fails once the master no longer holds its lock.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.postfix("status").status.success() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// Every delivered message, as stored in the Maildirs.
    fn mails(&self) -> Vec<Mail> {
        walkdir::WalkDir::new(self.dir.path().join("mail"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| e.path().parent().is_some_and(|p| p.ends_with("new")))
            .map(|e| Mail::parse(e.path()))
            .collect()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        self.down();
    }
}

fn uid_of(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A delivered message, checked strictly as it is parsed.
#[derive(Debug)]
struct Mail {
    path: PathBuf,
    /// Postfix's `Received:` line: it names the client's EHLO.
    received: String,
    message_id: String,
    to: String,
    subject: String,
    body: String,
}

/// Headers Postfix adds itself; every other header is portaal's.
const RELAY_HEADERS: [&str; 4] = ["received", "return-path", "delivered-to", "x-original-to"];

impl Mail {
    fn parse(path: &Path) -> Mail {
        let raw = std::fs::read(path).unwrap();
        let parsed = mailparse::parse_mail(&raw)
            .unwrap_or_else(|e| panic!("{}: does not parse: {e}", path.display()));
        let get = |name: &str| {
            let found: Vec<_> = parsed
                .headers
                .iter()
                .filter(|h| h.get_key().eq_ignore_ascii_case(name))
                .collect();
            assert_eq!(found.len(), 1, "{}: one {name} header", path.display());
            found[0]
        };
        assert_eq!(get("MIME-Version").get_value(), "1.0", "{}", path.display());
        assert!(
            get("Content-Type")
                .get_value()
                .starts_with("text/plain; charset=utf-8")
        );
        let message_id = get("Message-ID").get_value();
        assert!(is_msg_id(&message_id), "invalid Message-ID {message_id:?}");
        for name in ["From", "To"] {
            let addrs = mailparse::addrparse_header(get(name)).unwrap();
            assert_eq!(addrs.len(), 1, "{}: {name}", path.display());
        }
        if parsed.headers.iter().any(|h| h.get_key() == "Reply-To") {
            let addrs = mailparse::addrparse_header(get("Reply-To")).unwrap();
            assert_eq!(addrs.len(), 1, "{}: Reply-To", path.display());
            let reply_to = get("Reply-To").get_value();
            assert!(
                !reply_to.contains(['\u{202E}', '\u{202C}']),
                "bidi control in Reply-To: {reply_to:?}"
            );
        }
        let auto = get("Auto-Submitted").get_value();
        assert!(
            auto == "auto-generated" || auto == "auto-replied",
            "Auto-Submitted: {auto}"
        );
        // portaal's header lines, as stored: folded at 78 characters.
        let head_end = raw
            .windows(2)
            .position(|w| w == b"\n\n")
            .expect("a header block");
        let mut ours = false;
        for line in raw[..head_end].split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.starts_with(b" ") && !line.starts_with(b"\t") {
                let name = String::from_utf8_lossy(line.split(|b| *b == b':').next().unwrap())
                    .to_ascii_lowercase();
                ours = !RELAY_HEADERS.contains(&name.as_str());
            }
            if ours {
                assert!(
                    String::from_utf8_lossy(line).chars().count() <= 78,
                    "{}: unfolded header line {:?}",
                    path.display(),
                    String::from_utf8_lossy(line)
                );
            }
        }
        let is_ack = message_id.contains(".ack@");
        assert!(
            is_ack || raw[..head_end].is_ascii(),
            "{}: 8-bit ticket header",
            path.display()
        );
        Mail {
            path: path.to_path_buf(),
            received: get("Received").get_value(),
            message_id,
            to: get("To").get_value(),
            subject: get("Subject").get_value(),
            body: parsed.get_body().expect("a decodable body"),
        }
    }

    fn is_ack(&self) -> bool {
        self.message_id.contains(".ack@")
    }
}

/// `<id-left@id-right>` with dot-atom-text on both sides (RFC 5322 3.6.4).
fn is_msg_id(s: &str) -> bool {
    let atom = |p: &str| {
        !p.is_empty()
            && p.split('.').all(|a| {
                !a.is_empty()
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
            })
    };
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .and_then(|s| s.split_once('@'))
        .is_some_and(|(l, r)| atom(l) && atom(r))
}

/// `portaal endpoint` as a process, its stderr kept in a file; killed on drop.
struct Endpoint {
    _process: Running,
    addr: SocketAddr,
    stderr: PathBuf,
    spool: PathBuf,
    site: PathBuf,
}

impl Endpoint {
    /// An endpoint on `smtp`, or in outbox mode for `None`.
    fn start(tmp: &Path, site: &Path, smtp: Option<&str>) -> Endpoint {
        let stderr = tmp.join("endpoint.err");
        let spool = tmp.join("spool");
        let mut cmd = Command::new(portaal_bin());
        cmd.args(["endpoint", "--port", "0"])
            .args(["--client-rate", "100000", "--site-rate", "100000"])
            .args(["--retry-base-ms", "200", "--retry-max", "1"])
            .args(["--from", "Privacy portaal <portaal@agency.test>"])
            .arg("--spool")
            .arg(&spool)
            .args(smtp.map(|url| ["--smtp", url]).into_iter().flatten())
            .arg(site)
            .env_remove("PORTAAL_SIGNING_KEYS")
            .env_remove("PORTAAL_SMTP_URL")
            .stderr(std::fs::File::create(&stderr).unwrap());
        let process = Running::start(cmd);
        Endpoint {
            addr: process.addr,
            _process: process,
            stderr,
            spool,
            site: site.to_path_buf(),
        }
    }

    /// Posts `form` in `lang` from `email`; returns the reference.
    fn post(&self, form: &str, lang: &str, name: &str, email: &str) -> String {
        let reply = self.send(form, lang, name, email, false);
        assert_eq!(reply.status, 303, "{reply:?}");
        let location = reply.header("Location").expect("a Location");
        location.split("ref=").nth(1).unwrap().to_string()
    }

    fn send(&self, form: &str, lang: &str, name: &str, email: &str, json: bool) -> http::Reply {
        let site = Site::load(&self.site).expect("fixture loads");
        let ring = KeyRing::find(&self.site, None).unwrap().unwrap();
        let key = ring.signing().unwrap();
        let def = site.forms.iter().find(|f| f.id == form).unwrap();
        let issued = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = Claims {
            site: "acme",
            form,
            lang,
            kid: &key.id,
            issued,
        };
        // Each form's own required choices, so one helper posts them all.
        let choices: &[(&str, &str)] = match form {
            "complaint" | "withdraw-consent" => &[],
            "objection" => &[("acting_for", "self"), ("objection_to", "direct_marketing")],
            "portability" => &[("acting_for", "self"), ("format", "csv"), ("send_to", "me")],
            _ => &[("acting_for", "self")],
        };
        let mut pairs: Vec<(String, String)> = [
            ("_site", "acme"),
            ("_form", form),
            ("_lang", lang),
            ("_kid", &key.id),
            ("_ts", &issued.to_string()),
            ("_sig", &sign::sign(key, &claims, &def.schema_hash())),
            ("name", name),
            ("email", email),
            ("phone", "+32 470 12 34 56"),
            ("details", "Stuur mij al mijn gegevens.\r\nMerci, Zoë ☕"),
            ("homepage", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        pairs.extend(choices.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        http::post_form(self.addr, &pairs, json)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn files(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.spool.join(sub))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Waits until `n` mails are in the Maildirs; shows both logs if not.
fn wait_mails(pf: &Postfix, ep: &Endpoint, n: usize, limit: Duration) -> Vec<Mail> {
    let deadline = Instant::now() + limit;
    loop {
        let mails = pf.mails();
        if mails.len() >= n {
            assert_eq!(mails.len(), n, "more mails than expected: {mails:#?}");
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} mails after {limit:?}: {mails:#?}\nendpoint:\n{}\npostfix:\n{}",
            mails.len(),
            ep.stderr(),
            pf.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn find<'a>(mails: &'a [Mail], reference: &str, ack: bool) -> &'a Mail {
    let found: Vec<&Mail> = mails
        .iter()
        .filter(|m| m.subject.contains(reference) && m.is_ack() == ack)
        .collect();
    assert_eq!(found.len(), 1, "{reference} (ack: {ack}): {mails:#?}");
    found[0]
}

fn assert_no_requester_address(endpoint: &Endpoint, addresses: &[&str]) {
    let log = endpoint.stderr();
    for a in addresses {
        let local = a.split('@').next().unwrap();
        assert!(!log.contains(local), "{a} in the endpoint's log:\n{log}");
    }
}

#[test]
fn postfix_relay_tickets_and_acknowledgements_arrive_once_and_parse_strictly() {
    let Some(pf) = Postfix::start(true) else {
        return;
    };
    let (tmp, site) = fixture_copy("endpoint-site");
    let ep = Endpoint::start(tmp.path(), &site, Some(&pf.url()));
    let nl = ep.post(
        "access",
        "nl",
        "Zoë Çelik-Müller محمد 😀 \u{202E}moc.live@nna\u{202C}",
        "ann.peeters@example.test",
    );
    let fr = ep.post("objection", "fr", "François Lefèvre", "user@bücher.test");
    let utf8 = ep.post("restriction", "nl", "Zoë", "zoë@example.test");
    let refused = ep.post("complaint", "fr", "Ann", "ann2@example.test");
    let mails = wait_mails(&pf, &ep, 6, Duration::from_secs(20));

    let ticket = find(&mails, &nl, false);
    assert!(
        ticket
            .path
            .starts_with(pf.dir.path().join("mail/acme/info"))
    );
    assert!(ticket.body.contains("Stuur mij al mijn gegevens."));
    // The EHLO name defaults to the --from domain, fully qualified.
    assert!(
        ticket.received.starts_with("from agency.test "),
        "{}",
        ticket.received
    );
    let ack = find(&mails, &nl, true);
    assert_eq!(ack.to, "ann.peeters@example.test");
    assert!(ack.body.contains("heeft uw verzoek op"), "{}", ack.body);
    assert!(
        !ack.body.contains("gegevens"),
        "visitor text in {}",
        ack.body
    );

    // The IDN domain travels as A-label: no SMTPUTF8 needed.
    let ack = find(&mails, &fr, true);
    assert_eq!(ack.to, "user@xn--bcher-kva.test");
    assert!(
        // An objection to direct marketing: acted on without delay.
        ack.body
            .contains("a reçu votre opposition à la prospection"),
        "{}",
        ack.body
    );
    find(&mails, &fr, false);

    // A non-ASCII local part: the ticket keeps it out of its (7-bit)
    // headers, the acknowledgement goes with SMTPUTF8.
    let ticket = find(&mails, &utf8, false);
    assert!(ticket.body.contains("zoë@example.test"), "{}", ticket.body);
    assert!(
        ticket.received.contains(" with ESMTP "),
        "{}",
        ticket.received
    );
    let ack = find(&mails, &utf8, true);
    assert_eq!(ack.to, "zoë@example.test");
    assert!(ack.received.contains(" with UTF8SMTP "), "{}", ack.received);

    // complaints@acme.test is unknown to Postfix: failed/, no ack.
    let failed = ep.spool.join("failed").join(format!("{refused}.json"));
    let text = wait_for("the refused ticket", Duration::from_secs(10), || {
        std::fs::read_to_string(&failed).ok()
    });
    assert!(
        text.contains("550") && text.contains("User unknown"),
        "{text}"
    );
    assert!(!mails.iter().any(|m| m.subject.contains(&refused)));
    // ...and the endpoint said so at start-up, asking the relay (RCPT).
    let log = ep.stderr();
    assert!(
        log.contains("ERROR routed address complaints@acme.test is REFUSED by the relay"),
        "{log}"
    );
    assert!(!log.contains("routed address info@acme.test"), "{log}");

    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), mails.len(), "a Message-ID twice");
    // The relay has a mail a moment before the spool drops its file, and
    // failed/ gets its copy before new/ loses the ticket: wait, bounded.
    wait_for("an empty new/", Duration::from_secs(10), || {
        ep.files("new").is_empty().then_some(())
    });
    assert_no_requester_address(
        &ep,
        &[
            "ann.peeters@example.test",
            "user@bücher.test",
            "zoë@example.test",
            "ann2@example.test",
        ],
    );
}

#[test]
fn postfix_without_smtputf8_non_ascii_requester_addresses() {
    let Some(pf) = Postfix::start(false) else {
        return;
    };
    let (tmp, site) = fixture_copy("endpoint-site");
    // A UTF-8 [contacts] address can never pass this relay either.
    let toml = std::fs::read_to_string(site.join("portal.toml")).unwrap();
    let toml = toml.replace("complaints@acme.test", "klachtén@acme.test");
    std::fs::write(site.join("portal.toml"), toml).unwrap();
    let ep = Endpoint::start(tmp.path(), &site, Some(&pf.url()));
    let utf8 = ep.post("access", "nl", "Zoë", "zoë@example.test");
    let idn = ep.post("objection", "fr", "Ölaf", "olaf@bücher.test");
    let complaint = ep.post("complaint", "en", "Ann", "ann@example.test");
    // Ticket, ticket and the A-label acknowledgement; the one to zoë@
    // cannot be sent through this relay and is set aside, not retried.
    let mails = wait_mails(&pf, &ep, 3, Duration::from_secs(20));
    find(&mails, &utf8, false);
    find(&mails, &idn, false);
    assert_eq!(find(&mails, &idn, true).to, "olaf@xn--bcher-kva.test");
    let failed = ep.spool.join("failed").join(format!("{utf8}.ack.json"));
    let text = wait_for(
        "the unsendable acknowledgement",
        Duration::from_secs(10),
        || std::fs::read_to_string(&failed).ok(),
    );
    assert!(text.contains("SMTPUTF8"), "{text}");
    // The complaint to klachtén@ is set aside at once, not retried for ever.
    let failed = ep.spool.join("failed").join(format!("{complaint}.json"));
    let text = wait_for("the unsendable ticket", Duration::from_secs(10), || {
        std::fs::read_to_string(&failed).ok()
    });
    assert!(text.contains("SMTPUTF8"), "{text}");
    let log = ep.stderr();
    assert!(
        log.contains(&format!("ERROR acknowledgement of {utf8}")),
        "{log}"
    );
    assert!(
        log.contains("ERROR routed address klachtén@acme.test needs SMTPUTF8"),
        "{log}"
    );
    assert!(!log.contains("not delivered yet"), "{log}");
    // The relay has a mail a moment before the spool drops its file, and
    // failed/ gets its copy before new/ loses the ticket: wait, bounded.
    wait_for("an empty new/", Duration::from_secs(10), || {
        ep.files("new").is_empty().then_some(())
    });
    assert_no_requester_address(&ep, &["zoë@example.test", "olaf@bücher.test"]);
}

#[test]
fn postfix_stopped_during_a_burst_every_mail_arrives_exactly_once() {
    let Some(pf) = Postfix::start(true) else {
        return;
    };
    let (tmp, site) = fixture_copy("endpoint-site");
    let ep = Endpoint::start(tmp.path(), &site, Some(&pf.url()));
    let n = 40;
    let mut refs = Vec::new();
    for i in 0..n {
        let lang = if i % 2 == 0 { "nl" } else { "fr" };
        refs.push(ep.post("access", lang, "Ann", &format!("burst{i}@example.test")));
        if i == 5 {
            pf.down();
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    pf.up();
    let mails = wait_mails(&pf, &ep, 2 * n, Duration::from_secs(40));
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for m in &mails {
        *by_id.entry(m.message_id.as_str()).or_default() += 1;
    }
    for r in &refs {
        for kind in ["", ".ack"] {
            let id = format!("<{r}.acme{kind}@agency.test>");
            assert_eq!(by_id.get(id.as_str()), Some(&1), "{id}");
        }
    }
    wait_for("an empty spool", Duration::from_secs(5), || {
        ep.files("new").is_empty().then_some(())
    });
    assert!(ep.files("failed").is_empty(), "{:?}", ep.files("failed"));
    // The outage was seen and ridden out.
    assert!(ep.stderr().contains("not delivered yet"), "{}", ep.stderr());
}

/// Needs no Postfix: the form refuses what no acknowledgement could reach,
/// in the visitor's language, and sends nothing.
#[test]
fn acknowledgements_silently_dropped_for_addresses_the_form_accepts() {
    let (tmp, site) = fixture_copy("endpoint-site");
    let ep = Endpoint::start(tmp.path(), &site, None);
    for email in [
        "user@[192.0.2.1]",
        "user@[IPv6:2001:db8::1]",
        "\"a,b\"@bezoeker.test",
        "nosuchuser@localhost",
        "ann@intranet",
    ] {
        let reply = ep.send("access", "fr", "Ann", email, true);
        assert_eq!(reply.status, 422, "{email}: {reply:?}");
        let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let error = &json["errors"][0];
        assert_eq!(error["field"], "email", "{json}");
        assert_eq!(error["problem"], "unusable_email", "{json}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("une adresse à laquelle nous pouvons répondre"),
            "{json}"
        );
    }
    let reply = ep.send("access", "nl", "Ann", "ann@bücher.test", true);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(ep.files("failed").is_empty());
}
