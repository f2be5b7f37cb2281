//! `portaal endpoint` against a real SMTP server on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portaal::endpoint::Endpoint;
use portaal::endpoint::mailer::{Delivery, MailSettings, SmtpSettings};
use portaal::endpoint::ratelimit::Rate;
use portaal::endpoint::registry::Registry;
use portaal::endpoint::server::Settings;
use portaal::forms::sign::{self, Claims, KeyRing};
use portaal::site::Site;
use scraper::{Html, Selector};

use crate::support::http::{self, Reply};
use crate::support::process::{Running, Streams};
use crate::support::smtp::{Mode, SmtpServer};
use crate::support::{fixture_copy, wait_for};

/// An endpoint serving a copy of the fixture site, stopped on drop.
pub(crate) struct Harness {
    _tmp: tempfile::TempDir,
    pub(crate) site: PathBuf,
    spool: PathBuf,
    endpoint: Option<Endpoint>,
}

impl Harness {
    pub(crate) fn new(smtp_url: &str, tune: impl FnOnce(&mut Settings)) -> Harness {
        Harness::with_site(smtp_url, |_| {}, tune)
    }

    /// Like `new`, with the fixture's copy changed by `edit` before the
    /// endpoint loads it.
    pub(crate) fn with_site(
        smtp_url: &str,
        edit: impl FnOnce(&Path),
        tune: impl FnOnce(&mut Settings),
    ) -> Harness {
        let (tmp, site) = fixture_copy("endpoint-site");
        edit(&site);
        let spool = tmp.path().join("spool");
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            client_rate: Rate {
                burst: 1000,
                per_minute: 1000,
            },
            io_timeout: Duration::from_secs(2),
            ..Settings::default()
        };
        tune(&mut settings);
        let endpoint = start(&site, &spool, smtp_url, settings);
        Harness {
            _tmp: tmp,
            site,
            spool,
            endpoint: Some(endpoint),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.endpoint.as_ref().unwrap().addr()
    }

    pub(crate) fn post(&self, pairs: &[(String, String)]) -> Reply {
        http::post_form(self.addr(), pairs, false)
    }

    /// Files waiting in `new/` plus tickets not yet split out of their
    /// segments.
    fn pending(&self) -> usize {
        std::fs::read_dir(self.spool.join("new"))
            .map(|d| d.count())
            .unwrap_or(0)
            + in_segments(&self.spool).len()
    }
}

/// The references of the tickets a spool holds in `segments/` (accepted,
/// not yet delivered), read with the endpoint's own reader, oldest first.
fn in_segments(spool: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(spool.join("segments")) else {
        return Vec::new();
    };
    let mut segments: Vec<_> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    segments.sort();
    let mut out = Vec::new();
    for path in segments {
        let Ok(records) = portaal::endpoint::spool::waiting_in_segment(&path) else {
            continue; // delivered and removed meanwhile
        };
        for record in records {
            let t: serde_json::Value = serde_json::from_slice(&record).unwrap();
            out.push(t["reference"].as_str().unwrap().to_string());
        }
    }
    out
}

/// The references of every ticket a spool holds: in `new/` (the part of
/// a name before the first dot) or still in a segment.
fn spooled(spool: &Path) -> std::collections::BTreeSet<String> {
    let mut out: std::collections::BTreeSet<String> = in_segments(spool).into_iter().collect();
    for e in std::fs::read_dir(spool.join("new")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.contains(".ack.") {
            out.insert(name.split('.').next().unwrap().to_string());
        }
    }
    out
}

fn start(site: &Path, spool: &Path, smtp_url: &str, settings: Settings) -> Endpoint {
    let registry = Registry::load(&[site.to_path_buf()], None).expect("fixture loads");
    let mail = MailSettings {
        delivery: Delivery::smtp(&SmtpSettings {
            url: smtp_url.to_string(),
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        })
        .unwrap(),
        from: "portaal <portaal@agency.test>".parse().unwrap(),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_millis(500),
    };
    Endpoint::start(registry, settings, spool, mail).expect("endpoint starts")
}

/// A post as the built page would make it, signed with the site's key.
pub(crate) struct Post {
    pub(crate) site_id: String,
    form: String,
    lang: String,
    pub(crate) issued: u64,
    fields: Vec<(String, String)>,
    key_ring: Option<KeyRing>,
}

impl Post {
    pub(crate) fn new(form: &str, lang: &str) -> Post {
        let mut fields: Vec<(String, String)> = vec![
            ("name".into(), "Ann Peeters".into()),
            ("email".into(), "ann@example.test".into()),
            ("phone".into(), "+32 470 12 34 56".into()),
            ("details".into(), "Please send me\r\nall my data.".into()),
            ("homepage".into(), String::new()),
        ];
        // The required choices of the built-in forms; a complaint has none.
        if form != "complaint" {
            fields.push(("acting_for".into(), "self".into()));
        }
        if form == "objection" {
            fields.push(("objection_to".into(), "other".into()));
        }
        if form == "portability" {
            fields.push(("send_to".into(), "me".into()));
        }
        Post {
            site_id: "acme".into(),
            form: form.into(),
            lang: lang.into(),
            issued: now(),
            fields,
            key_ring: None,
        }
    }

    pub(crate) fn field(mut self, name: &str, value: &str) -> Post {
        self.fields.retain(|(k, _)| k != name);
        self.fields.push((name.into(), value.into()));
        self
    }

    pub(crate) fn without(mut self, name: &str) -> Post {
        self.fields.retain(|(k, _)| k != name);
        self
    }

    /// The hidden fields, signed for `sign_form` (normally the same form).
    fn pairs_signed_as(&self, site_dir: &Path, sign_form: &str) -> Vec<(String, String)> {
        let site = Site::load(site_dir).expect("fixture loads");
        let ring = self
            .key_ring
            .clone()
            .unwrap_or_else(|| KeyRing::find(site_dir, None).unwrap().unwrap());
        let key = ring.signing().unwrap();
        let form = site.forms.iter().find(|f| f.id == sign_form).unwrap();
        let claims = Claims {
            site: &self.site_id,
            form: sign_form,
            lang: &self.lang,
            kid: &key.id,
            issued: self.issued,
        };
        let sig = sign::sign(key, &claims, &form.schema_hash());
        let mut pairs: Vec<(String, String)> = vec![
            ("_site".into(), self.site_id.clone()),
            ("_form".into(), self.form.clone()),
            ("_lang".into(), self.lang.clone()),
            ("_kid".into(), key.id.clone()),
            ("_ts".into(), self.issued.to_string()),
            ("_sig".into(), sig),
        ];
        pairs.extend(self.fields.iter().cloned());
        pairs
    }

    pub(crate) fn pairs(&self, site_dir: &Path) -> Vec<(String, String)> {
        self.pairs_signed_as(site_dir, &self.form)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn reference_of(reply: &Reply) -> String {
    assert_eq!(reply.status, 303, "{reply:?}");
    let location = reply.header("Location").expect("a Location");
    location
        .split("ref=")
        .nth(1)
        .expect("a reference in the Location")
        .to_string()
}

#[test]
fn each_route_reaches_its_address_with_headers_and_body() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |_| {});

    let reply = h.post(&Post::new("access", "nl").pairs(&h.site));
    let location = reply.header("Location").unwrap().to_string();
    assert!(
        location.starts_with("/thanks?site=acme&lang=nl&due="),
        "{location}"
    );
    let reference = reference_of(&reply);
    let mail = smtp.wait_mail("info@acme.test", &reference);
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains(&reference), "{subject}");
    // The fixture's default language is Dutch: so is the firm's ticket.
    let subject = mail.subject();
    assert!(
        subject.contains("Verzoek om inzage (art. 15 AVG)"),
        "{subject}"
    );
    assert!(subject.contains("Acme BV"), "{subject}");
    let reply_to = mail.header("Reply-To").unwrap();
    assert!(reply_to.contains("ann@example.test"), "{reply_to}");
    let message_id = mail.header("Message-ID").unwrap();
    assert!(message_id.contains(&reference), "{message_id}");
    let body = mail.body();
    for needle in [
        "Ann Peeters",
        "ann@example.test",
        "+32 470 12 34 56",
        "Please send me",
        "all my data.",
        "Taal van de verzoeker: Nederlands (nl)",
        "Antwoorden, of verlenging melden, uiterlijk op:",
    ] {
        assert!(body.contains(needle), "{needle} missing in {body}");
    }

    let complaint = h.post(&Post::new("complaint", "fr").pairs(&h.site));
    let reference2 = reference_of(&complaint);
    let mail = smtp.wait_mail("complaints@acme.test", &reference2);
    assert!(mail.body().contains("Verzoek: Klacht bij de organisatie"));
    assert!(!mail.to.iter().any(|t| t.contains("info@")));

    // The fixture asks for acknowledgements: fixed text, no visitor input.
    let ack = smtp.wait_mail("ann@example.test", &reference);
    assert!(!ack.body().contains("Ann Peeters"));
    assert!(!ack.body().contains("Please send me"));

    // Delivered tickets leave the spool; a minimal log line stays.
    wait_for("an empty spool", Duration::from_secs(10), || {
        (h.pending() == 0).then_some(())
    });
    let log = wait_for("the delivery log", Duration::from_secs(10), || {
        std::fs::read_to_string(h.spool.join("delivered.log"))
            .ok()
            .filter(|l| l.lines().count() >= 2)
    });
    assert!(log.contains(&reference) && log.contains("status=delivered"));
    assert!(!log.contains("ann@") && !log.contains("Peeters"), "{log}");
}

#[test]
fn bad_posts_get_their_status_and_send_nothing() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |s| s.max_body = 4096);
    let good = Post::new("access", "de");

    // Tampered signed field: the language.
    let mut pairs = good.pairs(&h.site);
    pairs.iter_mut().find(|(k, _)| k == "_lang").unwrap().1 = "fr".into();
    assert_eq!(h.post(&pairs).status, 403);

    // Tampered signature.
    let mut pairs = good.pairs(&h.site);
    let sig = &mut pairs.iter_mut().find(|(k, _)| k == "_sig").unwrap().1;
    let flipped = if sig.ends_with('0') { '1' } else { '0' };
    sig.pop();
    sig.push(flipped);
    let forbidden = h.post(&pairs);
    assert_eq!(forbidden.status, 403);
    // The form cannot be used: the firm's page says how else to write.
    let page = Html::parse_document(&forbidden.body);
    let mailto = page
        .select(&Selector::parse("main a[href^=mailto]").unwrap())
        .count();
    assert_eq!(mailto, 1, "{}", forbidden.body);
    assert!(forbidden.body.contains("<address>"), "{}", forbidden.body);

    // A key the endpoint does not know.
    let mut wrong = Post::new("access", "de");
    wrong.key_ring = Some(KeyRing::parse(&format!("k1:{}", "cd".repeat(32)), "t").unwrap());
    assert_eq!(h.post(&wrong.pairs(&h.site)).status, 403);

    // A signature of another form, posted as this one.
    let swapped = Post::new("complaint", "de").pairs_signed_as(&h.site, "access");
    assert_eq!(h.post(&swapped).status, 403);

    // An unknown site.
    let mut other = Post::new("access", "de");
    other.site_id = "other".into();
    let neutral = h.post(&other.pairs(&h.site));
    assert_eq!(neutral.status, 403);
    assert!(!neutral.body.contains("Acme"), "{}", neutral.body);
    assert!(neutral.body.contains("lang=\"de\""), "{}", neutral.body);

    // Expired: signed 200 days ago (the forms' maximum age is 183).
    let mut old = Post::new("access", "de");
    old.issued = now() - 200 * 86_400;
    let gone = h.post(&old.pairs(&h.site));
    assert_eq!(gone.status, 410);
    let page = Html::parse_document(&gone.body);
    let lang = page
        .select(&Selector::parse("html").unwrap())
        .next()
        .and_then(|e| e.attr("lang"));
    assert_eq!(lang, Some("de"));
    assert!(gone.body.contains("abgelaufen"), "{}", gone.body);
    let back: Vec<&str> = page
        .select(&Selector::parse("main a").unwrap())
        .filter_map(|a| a.attr("href"))
        .collect();
    assert!(
        back.contains(&"https://privacy.acme.test/de/access/"),
        "{back:?}"
    );

    // Oversized, by declared length: refused before the body is read.
    let big = good
        .clone_with("details", &"x".repeat(10_000))
        .pairs(&h.site);
    assert_eq!(h.post(&big).status, 413);

    // Missing required field, bad address, CR/LF injection: 422 in German.
    let missing = Post::new("access", "de").without("name").pairs(&h.site);
    let reply = h.post(&missing);
    assert_eq!(reply.status, 422);
    let page = Html::parse_document(&reply.body);
    let html_lang = page
        .select(&Selector::parse("html").unwrap())
        .next()
        .and_then(|e| e.attr("lang"));
    assert_eq!(html_lang, Some("de"));
    // Issue 11, item 2: the form itself again, in the site's theme, with
    // what the visitor typed, a summary linking to each refused field and
    // the message next to the field.
    let one = |css: &str| {
        page.select(&Selector::parse(css).unwrap())
            .next()
            .unwrap_or_else(|| panic!("no `{css}` in {}", reply.body))
    };
    let summary: Vec<(String, String)> = page
        .select(&Selector::parse(".error-summary li a").unwrap())
        .map(|a| (a.attr("href").unwrap().to_string(), a.text().collect()))
        .collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(summary[0].0, "#f-access-name");
    assert!(summary[0].1.contains("Name") && summary[0].1.contains("erforderlich"));
    assert_eq!(one(".error-summary").attr("tabindex"), Some("-1"));
    // The title, read first on load, says there is a problem.
    let title = crate::support::text(&one("title"));
    assert!(title.starts_with("Es gibt ein Problem: "), "{title}");
    let name = one("#f-access-name");
    assert_eq!(name.attr("aria-invalid"), Some("true"));
    let described = name.attr("aria-describedby").unwrap();
    assert!(
        described.split(' ').any(|id| id == "f-access-name-error"),
        "{described}"
    );
    assert!(crate::support::text(&one("#f-access-name-error")).contains("erforderlich"));
    assert_eq!(
        one("#f-access-email").attr("value"),
        Some("ann@example.test")
    );
    assert_eq!(one("#f-access-email").attr("aria-invalid"), None);
    assert_eq!(
        one("#f-access-phone").attr("value"),
        Some("+32 470 12 34 56")
    );
    assert_eq!(
        one("#f-access-details").text().collect::<String>(),
        "Please send me\nall my data."
    );
    assert!(one("#f-access-acting_for-0").attr("checked").is_some());
    let posted_sig = &missing.iter().find(|(k, _)| k == "_sig").unwrap().1;
    assert_eq!(
        one("input[name=_sig]").attr("value"),
        Some(posted_sig.as_str())
    );
    assert_eq!(one("form.request-form").attr("action"), Some("/submit"));
    // The theme's layout: the firm's header and stylesheet, by absolute address.
    assert!(crate::support::text(&one(".site-title")).contains("Datenschutz bei Example"));
    let css = one("link[rel=stylesheet]").attr("href").unwrap();
    assert!(
        css.starts_with("https://privacy.acme.test/style.css?v="),
        "{css}"
    );

    // Fixing the field and sending the form again as the page has it.
    let mut fixed: Vec<(String, String)> = missing.clone();
    fixed.push(("name".into(), "Ann Peeters".into()));
    assert_eq!(h.post(&fixed).status, 303);

    let bad_email = Post::new("access", "de")
        .field("email", "ann@")
        .pairs(&h.site);
    assert_eq!(h.post(&bad_email).status, 422);
    for evil in ["Ann\r\nBcc: evil@x.test", "Ann\nBcc: evil@x.test", "Ann\0"] {
        let inject = Post::new("access", "de").field("name", evil).pairs(&h.site);
        assert_eq!(h.post(&inject).status, 422, "{evil:?}");
        let inject = Post::new("access", "de")
            .field("email", &format!("ann@example.test{}", &evil[3..]))
            .pairs(&h.site);
        assert_eq!(h.post(&inject).status, 422, "{evil:?}");
    }

    // JSON for fetch() posts.
    let reply = http::post_form(h.addr(), &missing, true);
    assert_eq!(reply.status, 422);
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(json["errors"][0]["field"], "name");
    assert_eq!(json["errors"][0]["problem"], "missing");

    // A honeypot hit looks accepted but is dropped.
    let bot = Post::new("access", "de")
        .field("homepage", "http://spam.test")
        .pairs(&h.site);
    let reply = h.post(&bot);
    assert_eq!(reply.status, 303);

    // Barrier: one good post; with the fixed form above, the only tickets
    // that ever arrive.
    let reply = http::post_form(h.addr(), &good.pairs(&h.site), true);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.header("Access-Control-Allow-Origin"),
        Some("https://privacy.acme.test")
    );
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let reference = json["reference"].as_str().unwrap().to_string();
    smtp.wait_mail("info@acme.test", &reference);
    smtp.wait_mail("ann@example.test", &reference);
    std::thread::sleep(Duration::from_millis(300));
    let to_firm: Vec<_> = smtp
        .accepted()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains("@acme.test")))
        .collect();
    assert_eq!(
        to_firm.len(),
        2,
        "only the fixed 422 form and the good post become tickets"
    );
    for m in smtp.accepted() {
        assert!(!m.data.contains("evil@x.test"));
        assert!(!m.header_names().contains(&"bcc".to_string()));
    }
}

/// Issue 11, item 4: the thank-you page shows the reference and the due
/// date in words without JavaScript, and its language links keep them.
#[test]
fn thanks_page_shows_the_reference_in_every_language() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |_| {});
    let reply = h.post(&Post::new("access", "fr").pairs(&h.site));
    let reference = reference_of(&reply);
    let location = reply.header("Location").unwrap();
    let due: String = location
        .split("due=")
        .nth(1)
        .unwrap()
        .chars()
        .take(10)
        .collect();
    let (y, m, d) = (&due[0..4], &due[5..7], &due[8..10]);
    let get = |path: &str| http::request(h.addr(), "GET", path, &[], b"");
    let page = get(location);
    assert_eq!(page.status, 200, "{page:?}");
    let html = Html::parse_document(&page.body);
    let reference_text: String = html
        .select(&Selector::parse("main .reference").unwrap())
        .map(|e| e.text().collect::<String>())
        .collect();
    assert!(reference_text.contains(&reference), "{reference_text}");
    assert!(page.body.contains("lang=\"fr\""));
    let months_fr = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = months_fr[m.parse::<usize>().unwrap() - 1];
    let day = d.trim_start_matches('0');
    let day = if day == "1" { "1er" } else { day };
    assert!(
        page.body.contains(&format!("{day} {month} {y}")),
        "due {due} not in words: {}",
        page.body
    );
    // The language switch leads to the same page, reference and all.
    let german = html
        .select(&Selector::parse("a[hreflang=de], a[lang=de]").unwrap())
        .find_map(|a| a.attr("href"))
        .unwrap_or_else(|| panic!("no link to German in {}", page.body))
        .to_string();
    assert!(german.starts_with("thanks?"), "{german}");
    let de = get(&format!("/{german}"));
    assert_eq!(de.status, 200);
    assert!(de.body.contains("lang=\"de\""));
    assert!(de.body.contains(&reference));
    // Without a well-formed reference or a known site, there is no page.
    assert_eq!(get("/thanks?site=acme&lang=nl&ref=../../x").status, 404);
    assert_eq!(
        get(&format!("/thanks?site=other&ref={reference}")).status,
        404
    );
}

impl Post {
    fn clone_with(&self, name: &str, value: &str) -> Post {
        Post {
            site_id: self.site_id.clone(),
            form: self.form.clone(),
            lang: self.lang.clone(),
            issued: self.issued,
            fields: self.fields.clone(),
            key_ring: self.key_ring.clone(),
        }
        .field(name, value)
    }
}

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |s| {
        s.client_rate = Rate {
            burst: 2,
            per_minute: 2,
        }
    });
    let pairs = Post::new("access", "en").pairs(&h.site);
    assert_eq!(h.post(&pairs).status, 303);
    assert_eq!(h.post(&pairs).status, 303);
    let third = h.post(&pairs);
    assert_eq!(third.status, 429);
    let wait: u64 = third.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
}

#[test]
fn rate_limit_per_site() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |s| {
        s.site_rate = Rate {
            burst: 1,
            per_minute: 1,
        }
    });
    let pairs = Post::new("access", "fr").pairs(&h.site);
    assert_eq!(h.post(&pairs).status, 303);
    let second = h.post(&pairs);
    assert_eq!(second.status, 429);
    assert!(second.header("Retry-After").is_some());
    assert!(second.body.contains("lang=\"fr\""));
}

#[test]
fn healthz_and_stalled_clients() {
    use std::io::Write;
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |s| s.io_timeout = Duration::from_secs(1));
    assert_eq!(
        http::request(h.addr(), "GET", "/healthz", &[], b"").status,
        200
    );
    // A client that sends half a request and stalls is cut off.
    let mut stalled = std::net::TcpStream::connect(h.addr()).unwrap();
    stalled
        .write_all(b"POST /submit HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    let reply = http::read_reply(&mut stalled);
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(reply.status == 408 || reply.status == 0, "{reply:?}");
    // Meanwhile others are served.
    assert_eq!(
        http::request(h.addr(), "GET", "/healthz", &[], b"").status,
        200
    );
}

#[test]
fn temporary_failure_then_delivered_exactly_once() {
    let smtp = SmtpServer::start(Mode::TempFail(2));
    let h = Harness::new(&smtp.url(), |_| {});
    let mut post = Post::new("erasure", "en");
    post.fields.retain(|(k, _)| k != "email");
    post.fields
        .push(("email".into(), "no-ack@example.test".into()));
    let reference = reference_of(&h.post(&post.pairs(&h.site)));
    smtp.wait_mail("info@acme.test", &reference);
    wait_for("an empty spool", Duration::from_secs(10), || {
        (h.pending() == 0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(600));
    let copies = smtp
        .accepted()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == "info@acme.test") && m.data.contains(&reference))
        .count();
    assert_eq!(copies, 1);
    assert!(smtp.refused() >= 2);
}

/// The test SMTP server once stayed in its DATA state after refusing a
/// message, so the client's next command went unanswered until the
/// client's timeout (5 s per refusal): now it answers, then closes.
#[test]
fn test_smtp_server_answers_a_refused_message_then_closes() {
    use std::io::{BufRead, BufReader, Write};
    let smtp = SmtpServer::start(Mode::Reject);
    let stream = std::net::TcpStream::connect(("127.0.0.1", smtp.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    // The code of the next reply, after any continuation lines (`250-`).
    let mut reply = || loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a reply in time");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.get(..3).unwrap_or_default().to_string();
        }
    };
    assert_eq!(reply(), "220");
    for (command, want) in [
        ("EHLO client.test\r\n", "250"),
        ("MAIL FROM:<a@agency.test>\r\n", "250"),
        ("RCPT TO:<info@acme.test>\r\n", "250"),
        ("DATA\r\n", "354"),
        ("Subject: x\r\n\r\nbody\r\n.\r\n", "550"),
    ] {
        writer.write_all(command.as_bytes()).unwrap();
        assert_eq!(reply(), want, "{command:?}");
    }
    let _ = writer.write_all(b"RSET\r\n");
    let mut rest = String::new();
    match reader.read_line(&mut rest) {
        Ok(0) => {}
        Ok(_) => panic!("answered {rest:?} after the refusal"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the server stalled: {e}"
        ),
    }
    assert_eq!(smtp.refused(), 1);
}

#[test]
fn permanent_failure_moves_the_ticket_to_failed() {
    let smtp = SmtpServer::start(Mode::Reject);
    let h = Harness::new(&smtp.url(), |_| {});
    let reference = reference_of(&h.post(&Post::new("objection", "nl").pairs(&h.site)));
    let failed = h.spool.join("failed").join(format!("{reference}.json"));
    // The ticket is written to failed/ first, then removed from new/.
    let text = wait_for("the failed ticket", Duration::from_secs(10), || {
        std::fs::read_to_string(&failed)
            .ok()
            .filter(|_| h.pending() == 0)
    });
    assert!(text.contains("550"), "{text}");
    assert!(smtp.accepted().is_empty());
}

#[test]
fn smtp_down_for_a_while_then_delivered() {
    let down = crate::support::DownPort::new();
    let h = Harness::new(&down.smtp_url(), |_| {});
    let reference = reference_of(
        &h.post(
            &Post::new("portability", "fr")
                .field("format", "json")
                .pairs(&h.site),
        ),
    );
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(h.pending(), 1, "kept while the server is down");
    let smtp = SmtpServer::start_on(down, Mode::Accept);
    let mail = smtp.wait_mail("info@acme.test", &reference);
    assert!(mail.body().contains("json"));
    wait_for("an empty spool", Duration::from_secs(10), || {
        (h.pending() == 0).then_some(())
    });
}

/// Kills the endpoint process right after it answered 303, before it could
/// send (the SMTP server is not up yet); a restarted endpoint delivers.
#[test]
fn survives_sigkill_after_answering() {
    let (tmp, site) = fixture_copy("endpoint-site");
    let spool = tmp.path().join("spool");
    let smtp_down = crate::support::DownPort::new();
    let smtp_url = smtp_down.smtp_url();
    let spawn = || {
        let mut cmd = std::process::Command::new(crate::support::portaal_bin());
        cmd.args(["endpoint", "--port", "0"])
            .args(["--retry-base-ms", "100", "--retry-max", "1"])
            .arg("--spool")
            .arg(&spool)
            .args(["--smtp", &smtp_url])
            .arg(&site)
            .env_remove("PORTAAL_SIGNING_KEYS")
            .stderr(std::process::Stdio::null());
        Running::start(cmd)
    };
    let mut first = spawn();
    let reply = http::post_form(
        first.addr,
        &Post::new("restriction", "en").pairs(&site),
        false,
    );
    let reference = reference_of(&reply);
    first.kill(); // SIGKILL
    assert!(spooled(&spool).contains(&reference), "not on disk");

    let smtp = SmtpServer::start_on(smtp_down, Mode::Accept);
    let _second = spawn();
    smtp.wait_mail("info@acme.test", &reference);
}

/// Issue 14: a crash while a batch was appended leaves a segment whose
/// last record is cut off. A restarted endpoint delivers every whole
/// record of it, once, and leaves the torn one (never answered) out.
#[test]
fn torn_segment_delivers_every_whole_record() {
    let closed = crate::support::free_port();
    let mut h = Harness::new(&format!("smtp://127.0.0.1:{closed}"), |_| {});
    let references: Vec<String> = (0..4)
        .map(|_| reference_of(&h.post(&Post::new("restriction", "en").pairs(&h.site))))
        .collect();
    drop(h.endpoint.take());
    // The relay was down: they wait in their segments, and nothing in new/.
    assert_eq!(in_segments(&h.spool), references);
    assert_eq!(std::fs::read_dir(h.spool.join("new")).unwrap().count(), 0);
    // Put them back as one segment whose last record was being written.
    let mut segment = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(h.spool.join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        if path.extension().is_some_and(|e| e == "seg") {
            for record in portaal::endpoint::spool::waiting_in_segment(&path).unwrap() {
                portaal::endpoint::segment::encode(&record, &mut segment);
            }
        }
        std::fs::remove_file(path).unwrap();
    }
    let last = segment.len() - portaal::endpoint::segment::HEADER;
    let torn = h.spool.join("segments").join("00000000000000ff.seg");
    std::fs::write(&torn, &segment[..last - 100]).unwrap();
    assert_eq!(in_segments(&h.spool), references[..3]);

    let smtp = SmtpServer::start(Mode::Accept);
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    let _restarted = start(&h.site, &h.spool, &smtp.url(), settings);
    for reference in &references[..3] {
        smtp.wait_mail("info@acme.test", reference);
    }
    wait_for("an empty spool", Duration::from_secs(20), || {
        (h.pending() == 0).then_some(())
    });
    assert!(!torn.exists(), "the split segment is removed");
    std::thread::sleep(Duration::from_millis(600));
    let to_controller: Vec<_> = smtp
        .accepted()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == "info@acme.test"))
        .collect();
    for reference in &references[..3] {
        let copies = to_controller
            .iter()
            .filter(|m| m.data.contains(reference.as_str()))
            .count();
        assert_eq!(copies, 1, "{reference}");
    }
    assert!(
        !to_controller
            .iter()
            .any(|m| m.data.contains(references[3].as_str())),
        "the torn record was sent"
    );
}

#[test]
fn oversized_bodies_are_refused_without_reading_them() {
    use std::io::Write;
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |s| s.max_body = 4096);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    // Declared far beyond the limit (and beyond any memory): answered at
    // once, and the process survives.
    for declared in ["100000000", "10000000000000"] {
        let mut s = std::net::TcpStream::connect(h.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\nContent-Length: {declared}\r\n\r\n_site=acme&",
            form[0].1
        )
        .unwrap();
        let reply = http::read_reply(&mut s);
        assert_eq!(reply.status, 413, "{declared}");
    }
    // Chunked, with no declared length: cut off at the limit.
    let mut s = std::net::TcpStream::connect(h.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        form[0].1
    )
    .unwrap();
    let chunk = "a".repeat(2000);
    for _ in 0..3 {
        let _ = write!(s, "{:x}\r\n{chunk}\r\n", chunk.len());
    }
    let _ = write!(s, "0\r\n\r\n");
    assert_eq!(http::read_reply(&mut s).status, 413);
    assert_eq!(
        http::request(h.addr(), "GET", "/healthz", &[], b"").status,
        200
    );
}

/// The fixture portal built to post to a live endpoint, served by a static
/// file server, with a real SMTP server behind: what a visitor's browser
/// meets. Everything stops on drop.
pub(crate) struct LivePortal {
    pub(crate) smtp: SmtpServer,
    pub(crate) web: crate::support::static_files::StaticServer,
    pub(crate) endpoint: Endpoint,
    /// The site's directory, for signing posts as its pages do.
    pub(crate) site: PathBuf,
    _tmp: tempfile::TempDir,
}

impl LivePortal {
    pub(crate) fn start() -> LivePortal {
        use crate::support::static_files::StaticServer;
        let smtp = SmtpServer::start(Mode::Accept);
        let (tmp, site) = fixture_copy("endpoint-site");
        let web = StaticServer::start(site.join("public"));
        let toml = std::fs::read_to_string(site.join("portal.toml")).unwrap();
        let toml = toml.replace("https://privacy.acme.test", &web.url());
        std::fs::write(site.join("portal.toml"), &toml).unwrap();
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Settings::default()
        };
        // The endpoint takes its port first; the build then points the
        // forms at it (the endpoint reads only keys and forms, which the
        // second write leaves as they are).
        let endpoint = start(&site, &tmp.path().join("spool"), &smtp.url(), settings);
        let action = format!("http://{}/submit", endpoint.addr());
        let toml = toml.replace("https://forms.agency.test/submit", &action);
        std::fs::write(site.join("portal.toml"), &toml).unwrap();
        let out = std::process::Command::new(crate::support::portaal_bin())
            .arg("build")
            .arg(&site)
            .env_remove("PORTAAL_SIGNING_KEYS")
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        LivePortal {
            smtp,
            web,
            endpoint,
            site,
            _tmp: tmp,
        }
    }
}

/// A visitor in headless Chromium fills in the built access page, lands on
/// the thank-you page with the reference, and the firm gets the ticket.
#[test]
fn a_visitor_submits_a_rights_form_in_chromium() {
    use crate::support::browser;
    let live = LivePortal::start();
    let (smtp, web) = (&live.smtp, &live.web);
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    tab.navigate_to(&format!("{}/en/access/", web.url()))
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let limit = Duration::from_secs(20);
    browser::wait_until(&tab, limit, "the form", |t| {
        t.find_element("#f-access-name").is_ok()
    });
    tab.find_element("#f-access-name")
        .unwrap()
        .type_into("Zoë Janssens")
        .unwrap();
    tab.find_element("#f-access-email")
        .unwrap()
        .type_into("zoe@example.test")
        .unwrap();
    tab.find_element("#f-access-details")
        .unwrap()
        .type_into("Everything since 2024.")
        .unwrap();
    tab.find_element("#f-access-acting_for-0")
        .unwrap()
        .click()
        .unwrap();
    tab.find_element("form.request-form button[type=submit]")
        .unwrap()
        .click()
        .unwrap();
    browser::wait_until(&tab, limit, "the thank-you page", |t| {
        t.get_url().contains("/thanks?site=acme&lang=en&")
    });
    let url = tab.get_url();
    let reference = url.split("ref=").nth(1).unwrap().to_string();
    assert_eq!(reference.len(), 9, "{url}");
    browser::wait_until(&tab, limit, "the thank-you text", |t| {
        browser::body_text(t).contains("reference")
    });
    let mail = smtp.wait_mail("info@acme.test", &reference);
    assert!(mail.body().contains("Zoë Janssens"));
    assert!(mail.body().contains("Everything since 2024."));
    assert!(
        mail.header("Reply-To")
            .unwrap()
            .contains("zoe@example.test")
    );
}

/// The page's HTML as the DOM holds it, read over the DevTools protocol
/// (no page script: it works with JavaScript off).
fn dom_html(tab: &headless_chrome::Tab) -> Html {
    use headless_chrome::protocol::cdp::DOM;
    let root = tab.get_document().unwrap();
    let html = tab
        .call_method(DOM::GetOuterHTML {
            node_id: Some(root.node_id),
            backend_node_id: None,
            object_id: None,
            include_shadow_dom: None,
        })
        .unwrap()
        .outer_html;
    Html::parse_document(&html)
}

/// Moves the keyboard focus to `css` without page script (the crate's
/// `click` scrolls with a script first).
fn focus(tab: &headless_chrome::Tab, css: &str) {
    let el = tab.find_element(css).unwrap();
    tab.call_method(headless_chrome::protocol::cdp::DOM::Focus {
        node_id: None,
        backend_node_id: Some(el.backend_node_id),
        object_id: None,
    })
    .unwrap();
}

fn attr_of(page: &Html, css: &str, attr: &str) -> Option<String> {
    page.select(&Selector::parse(css).unwrap())
        .next()
        .and_then(|e| e.attr(attr).map(str::to_string))
}

/// Issue 11, items 2 and 4, with JavaScript off: a visitor sends the form
/// without the choice only the endpoint checks, lands on the 422 page with
/// what they typed still there, makes the choice, sends again and reads the
/// reference on the thank-you page itself.
#[test]
fn without_javascript_a_refused_form_keeps_its_values_and_the_thanks_page_shows_the_reference() {
    use crate::support::browser;
    use headless_chrome::protocol::cdp::Emulation;
    let live = LivePortal::start();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    tab.call_method(Emulation::SetScriptExecutionDisabled { value: true })
        .unwrap();
    // Scripts are really off: this page's script would rename it.
    tab.navigate_to("data:text/html,<title>before</title><script>document.title='after'</script>")
        .unwrap();
    tab.wait_until_navigated().unwrap();
    assert_eq!(tab.get_title().unwrap(), "before");

    let limit = Duration::from_secs(20);
    tab.navigate_to(&format!("{}/en/access/", live.web.url()))
        .unwrap();
    tab.wait_until_navigated().unwrap();
    let typed = [
        ("#f-access-name", "Zoë Janssens"),
        ("#f-access-email", "zoe@example.test"),
        ("#f-access-details", "Everything since 2024."),
    ];
    for (css, text) in typed {
        focus(&tab, css);
        tab.type_str(text).unwrap();
    }
    focus(&tab, "form.request-form button[type=submit]");
    tab.press_key("Enter").unwrap();
    browser::wait_until(&tab, limit, "the 422 page", |t| {
        t.get_url().ends_with("/submit")
            && dom_html(t)
                .select(&Selector::parse(".error-summary").unwrap())
                .next()
                .is_some()
    });
    let page = dom_html(&tab);
    assert_eq!(
        attr_of(&page, ".error-summary a", "href").as_deref(),
        Some("#f-access-acting_for-0")
    );
    assert_eq!(
        attr_of(&page, "#f-access-name", "value").as_deref(),
        Some("Zoë Janssens")
    );
    assert_eq!(
        attr_of(&page, "#f-access-email", "value").as_deref(),
        Some("zoe@example.test")
    );
    let details: String = page
        .select(&Selector::parse("#f-access-details").unwrap())
        .flat_map(|e| e.text())
        .collect();
    assert_eq!(details, "Everything since 2024.");
    assert_eq!(
        attr_of(&page, "fieldset.field-error", "aria-invalid").as_deref(),
        Some("true")
    );

    focus(&tab, "#f-access-acting_for-0");
    tab.press_key(" ").unwrap();
    focus(&tab, "form.request-form button[type=submit]");
    tab.press_key("Enter").unwrap();
    browser::wait_until(&tab, limit, "the thank-you page", |t| {
        t.get_url().contains("/thanks?")
    });
    let url = tab.get_url();
    let reference = url.split("ref=").nth(1).unwrap().to_string();
    let page = dom_html(&tab);
    let shown: String = page
        .select(&Selector::parse("main .reference").unwrap())
        .flat_map(|e| e.text())
        .collect();
    assert!(shown.contains(&reference), "{shown:?} lacks {reference}");
    let mail = live.smtp.wait_mail("info@acme.test", &reference);
    assert!(mail.body().contains("Zoë Janssens"));
}

/// On a fresh clone, `portaal endpoint` with no arguments serves the
/// example portal in outbox mode and says so.
#[test]
fn starts_on_a_fresh_clone_in_outbox_mode() {
    let portal = crate::support::Portal::example();
    let mut cmd = portal.portaal();
    cmd.args(["endpoint", "--port", "0"])
        .env_remove("PORTAAL_SMTP_URL")
        .stderr(std::process::Stdio::null());
    let endpoint = Running::start(cmd);
    wait_for("the outbox notice", Duration::from_secs(20), || {
        let lines = endpoint.lines();
        lines
            .iter()
            .any(|l| l.contains("OUTBOX MODE"))
            .then_some(())
    });
    assert_eq!(
        http::request(endpoint.addr, "GET", "/healthz", &[], b"").status,
        200
    );
    assert!(portal.path().join(".portaal/signing.keys").exists());
}

/// After a rotation both keys verify (pages signed with the old key are
/// still cached); once the old key is removed, its pages get 403.
#[test]
fn a_rotated_key_verifies_until_it_is_removed() {
    let smtp = SmtpServer::start(Mode::Accept);
    let (tmp, site) = fixture_copy("endpoint-site");
    let old_ring = KeyRing::find(&site, None).unwrap().unwrap();
    let old_line = std::fs::read_to_string(site.join(".portaal/signing.keys")).unwrap();
    let new_line = format!("knew:{}\n", "7a".repeat(32));
    std::fs::write(
        site.join(".portaal/signing.keys"),
        format!("{new_line}{old_line}"),
    )
    .unwrap();
    let settings = || Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    let mut old_post = Post::new("access", "nl");
    old_post.key_ring = Some(old_ring);
    let new_post = Post::new("access", "nl");
    {
        let endpoint = start(&site, &tmp.path().join("spool"), &smtp.url(), settings());
        let pairs = new_post.pairs(&site);
        assert!(pairs.iter().any(|(k, v)| k == "_kid" && v == "knew"));
        assert_eq!(http::post_form(endpoint.addr(), &pairs, false).status, 303);
        let old = old_post.pairs(&site);
        assert_eq!(http::post_form(endpoint.addr(), &old, false).status, 303);
    }
    std::fs::write(site.join(".portaal/signing.keys"), &new_line).unwrap();
    let endpoint = start(&site, &tmp.path().join("spool2"), &smtp.url(), settings());
    let old = old_post.pairs(&site);
    assert_eq!(http::post_form(endpoint.addr(), &old, false).status, 403);
    assert_eq!(
        http::post_form(endpoint.addr(), &new_post.pairs(&site), false).status,
        303
    );
}

/// `portaal endpoint` as a process of its own (outbox mode, port 0) on a
/// copy of the fixture site, so its descriptors, threads and memory can be
/// measured and its log read; killed on drop.
pub(crate) struct Process {
    _tmp: tempfile::TempDir,
    pub(crate) site: PathBuf,
    pub(crate) addr: SocketAddr,
    log: PathBuf,
    running: Running,
}

impl Process {
    pub(crate) fn start(args: &[&str]) -> Process {
        Process::start_limited(args, None)
    }

    /// With `nofile`, the process may open at most that many descriptors.
    pub(crate) fn start_limited(args: &[&str], nofile: Option<u32>) -> Process {
        let (tmp, site) = fixture_copy("endpoint-site");
        let spool = tmp.path().join("spool");
        let log = tmp.path().join("endpoint.log");
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = std::process::Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\"")])
                    .arg(crate::support::portaal_bin());
                c
            }
            None => std::process::Command::new(crate::support::portaal_bin()),
        };
        cmd.args(["endpoint", "--port", "0"])
            .args(args)
            .arg("--spool")
            .arg(&spool)
            .arg(&site)
            .env_remove("PORTAAL_SMTP_URL")
            .env_remove("PORTAAL_SIGNING_KEYS")
            .stderr(std::fs::File::create(&log).unwrap());
        let running = Running::start(cmd);
        Process {
            _tmp: tmp,
            site,
            addr: running.addr,
            log,
            running,
        }
    }

    fn pid(&self) -> u32 {
        self.running.pid()
    }

    pub(crate) fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("the endpoint runs")
            .count()
    }

    fn status(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /proc status"))
    }

    pub(crate) fn threads(&self) -> u64 {
        self.status("Threads:")
    }

    pub(crate) fn rss_kib(&self) -> u64 {
        self.status("VmRSS:")
    }

    pub(crate) fn alive(&mut self) -> bool {
        self.running.alive()
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log's records about posts (their messages).
    pub(crate) fn post_lines(&self) -> Vec<String> {
        log_records(&self.log())
            .into_iter()
            .filter(|(level, message)| level == "INFO" && message.starts_with("post "))
            .map(|(_, message)| message)
            .collect()
    }

    pub(crate) fn healthz(&self) -> u16 {
        http::request(self.addr, "GET", "/healthz", &[], b"").status
    }

    /// Waits until `f` (descriptors, threads) is back to at most `baseline`.
    fn settles(&self, what: &str, baseline: u64, f: impl Fn(&Process) -> u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let now = f(self);
            if now <= baseline {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {now}, baseline {baseline}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The records of an endpoint's log as (level, message), failing on any
/// line that is neither a record (`portaal endpoint: LEVEL message`) nor
/// a record's continuation (indented by two spaces): README, "Logs".
pub(crate) fn log_records(log: &str) -> Vec<(String, String)> {
    let mut records: Vec<(String, String)> = Vec::new();
    for line in log.lines() {
        if let Some(more) = line.strip_prefix("  ") {
            let last = records.last_mut().expect("a continuation after a record");
            last.1.push('\n');
            last.1.push_str(more);
            continue;
        }
        let rest = line
            .strip_prefix("portaal endpoint: ")
            .unwrap_or_else(|| panic!("not a log record: {line:?}"));
        let (level, message) = rest.split_once(' ').expect("a level and a message");
        assert!(
            ["ERROR", "WARN", "INFO", "DEBUG"].contains(&level),
            "no level in {line:?}"
        );
        records.push((level.to_string(), message.to_string()));
    }
    records
}

/// A connection that sent a request head (and with `body`, part of a
/// declared 5000-byte body), then nothing more.
fn stalled(addr: SocketAddr, body: bool) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    if body {
        let _ = s.write_all(
            b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n_site=acme&_form=access&",
        );
    } else {
        let _ = s.write_all(b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Le");
    }
    s
}

/// Once the server closed `s`, how long after `since`; `None` if still
/// open after `limit`.
fn closed_after(
    s: &mut std::net::TcpStream,
    since: std::time::Instant,
    limit: Duration,
) -> Option<Duration> {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(since.elapsed())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return Some(since.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return None,
            Err(_) => return Some(since.elapsed()),
        }
    }
}

/// Issue 8, item 9: connections that stall in their head or body (more of
/// them than `--max-connections`) hold no worker: legitimate posts get
/// their 303 within 2 s, `/healthz` stays up, and every stalled connection
/// is closed within three times `--io-timeout`.
#[test]
fn stalled_bodies_do_not_block_workers() {
    let p = Process::start(&[
        "--io-timeout",
        "1",
        "--workers",
        "2",
        "--max-connections",
        "48",
        "--client-rate",
        "100000",
    ]);
    let started = std::time::Instant::now();
    let mut stalls: Vec<_> = (0..80)
        .map(|i| (std::time::Instant::now(), stalled(p.addr, i % 2 == 0)))
        .collect();
    for post in ["access", "erasure", "objection", "restriction"] {
        let t = std::time::Instant::now();
        let reply = http::post_form(p.addr, &Post::new(post, "en").pairs(&p.site), false);
        reference_of(&reply);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{post}: {:?}",
            t.elapsed()
        );
        assert_eq!(p.healthz(), 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "posts while stalled"
    );
    for (since, s) in &mut stalls {
        let after = closed_after(s, *since, Duration::from_secs(5));
        assert!(
            after.is_some_and(|d| d <= Duration::from_millis(3300)),
            "a stalled connection stayed open: {after:?}"
        );
    }
    assert_eq!(p.healthz(), 200);
}

/// Issue 8, item 10: requests declaring bodies of 300 MB and 10 TB, most of
/// them over the client rate (429), leave no descriptor or thread behind,
/// and the endpoint keeps accepting.
#[test]
fn huge_content_length_leaks_no_fd() {
    use std::io::Write;
    let mut p = Process::start(&["--client-rate", "5", "--io-timeout", "2"]);
    assert_eq!(p.healthz(), 200);
    std::thread::sleep(Duration::from_millis(300));
    let (fds, threads) = (p.fds() as u64, p.threads());
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..300 {
        let declared = if i % 2 == 0 {
            "300000000"
        } else {
            "10000000000000"
        };
        let mut s = std::net::TcpStream::connect(p.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = write!(
            s,
            "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n_site=acme&"
        );
        *statuses.entry(http::read_reply(&mut s).status).or_default() += 1;
    }
    assert_eq!(statuses.get(&413), Some(&5), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&295), "{statuses:?}");
    p.settles("descriptors", fds, |p| p.fds() as u64);
    p.settles("threads", threads, Process::threads);
    assert!(p.alive());
    assert_eq!(p.healthz(), 200);
}

/// Issue 8, item 10: with its descriptors exhausted the endpoint pauses
/// accepting instead of ending its accept loop, and accepts again once
/// connections close: never alive but refusing.
#[test]
fn descriptor_exhaustion_does_not_stop_accepting() {
    let mut p = Process::start_limited(&["--io-timeout", "1"], Some(40));
    assert_eq!(p.healthz(), 200);
    let held: Vec<_> = (0..80)
        .map(|_| std::net::TcpStream::connect(p.addr).unwrap())
        .collect();
    wait_for(
        "running out of descriptors",
        Duration::from_secs(10),
        || {
            p.log()
                .contains("cannot accept connections for now")
                .then_some(())
        },
    );
    drop(held);
    wait_for("accepting again", Duration::from_secs(10), || {
        (p.healthz() == 200).then_some(())
    });
    assert!(p.alive());
}

/// Issue 8, item 11: posts declaring 10 MB and 33 MB bodies are refused
/// without memory growing with the declared sizes.
#[test]
fn declared_large_body_no_rss_growth() {
    use std::io::Write;
    let p = Process::start(&["--client-rate", "100000"]);
    for _ in 0..3 {
        reference_of(&http::post_form(
            p.addr,
            &Post::new("access", "en").pairs(&p.site),
            false,
        ));
    }
    std::thread::sleep(Duration::from_millis(300));
    let before = p.rss_kib();
    for declared in ["10000000", "33000000"] {
        let mut conns: Vec<_> = (0..64)
            .map(|_| {
                let mut s = std::net::TcpStream::connect(p.addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ = write!(
                    s,
                    "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n{}",
                    "a".repeat(4096)
                );
                s
            })
            .collect();
        for s in &mut conns {
            assert_eq!(http::read_reply(s).status, 413);
        }
    }
    let after = p.rss_kib();
    assert!(
        after < before + 8 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    assert_eq!(p.healthz(), 200);
}

/// A post whose body follows its head after `pause`, as over a slow link.
fn post_slowly(addr: SocketAddr, pairs: &[(String, String)], pause: Duration) -> Reply {
    use std::io::Write;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter())
        .finish();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = write!(
        s,
        "POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    std::thread::sleep(pause);
    let _ = s.write_all(body.as_bytes());
    http::read_reply(&mut s)
}

/// Issue 8, item 12: while a flood of connections makes the endpoint close
/// waiting ones to make room (posts among them, cut off mid-body), every
/// post whose ticket was stored got its 303: the tickets in the spool are
/// exactly the posts answered.
#[test]
fn churn_never_drops_stored_answer() {
    // Mail goes nowhere, so every stored ticket stays in the spool.
    let smtp_down = crate::support::DownPort::new();
    let h = Harness::new(&smtp_down.smtp_url(), |s| {
        s.max_connections = 6;
        s.io_timeout = Duration::from_secs(1);
        s.workers = 2;
    });
    let addr = h.addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut evicted = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let since = std::time::Instant::now();
                let mut conns: Vec<_> = (0..8).map(|i| stalled(addr, i % 2 == 0)).collect();
                for s in &mut conns {
                    if closed_after(s, since, Duration::from_millis(150)).is_some() {
                        evicted += 1;
                    }
                }
            }
            evicted
        })
    };
    let posters: Vec<_> = (0..4)
        .map(|_| {
            let site = h.site.clone();
            std::thread::spawn(move || {
                let mut answered = Vec::new();
                let mut cut = 0;
                for i in 0..15 {
                    let pairs = Post::new("access", "en").pairs(&site);
                    let reply = post_slowly(addr, &pairs, Duration::from_millis(i % 3 * 20));
                    match reply.status {
                        303 => answered.push(reference_of(&reply)),
                        // Closed to make room before its post was stored
                        // (408 when the answer raced the closing).
                        0 | 408 => cut += 1,
                        other => panic!("unexpected {other}: {reply:?}"),
                    }
                }
                (answered, cut)
            })
        })
        .collect();
    let mut answered = std::collections::BTreeSet::new();
    let mut cut = 0;
    for t in posters {
        let (a, c) = t.join().unwrap();
        answered.extend(a);
        cut += c;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let evicted = churn.join().unwrap();
    assert!(
        evicted > 0,
        "the flood never made the endpoint close a connection"
    );
    assert!(!answered.is_empty(), "no post got through ({cut} cut)");
    let stored = spooled(&h.spool);
    assert_eq!(stored, answered, "{cut} posts were cut off");
}

/// Issue 8, item 14: one log line per post, accepted or rejected, with the
/// site, form, status, reason and ticket, and nothing the visitor typed.
#[test]
fn each_post_is_logged_once_without_personal_data() {
    let p = Process::start(&["--client-rate", "4", "--max-body", "4096"]);
    let post = Post::new("access", "en");
    let accepted = reference_of(&http::post_form(p.addr, &post.pairs(&p.site), false));
    let mut bad_sig = post.pairs(&p.site);
    bad_sig.retain(|(k, _)| k != "_sig");
    bad_sig.push(("_sig".into(), "AAAA".into()));
    assert_eq!(http::post_form(p.addr, &bad_sig, false).status, 403);
    let invalid = Post::new("access", "en").field("email", "ann at example");
    assert_eq!(
        http::post_form(p.addr, &invalid.pairs(&p.site), false).status,
        422
    );
    let big = http::request(
        p.addr,
        "POST",
        "/submit",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &[b'a'; 5000],
    );
    assert_eq!(big.status, 413);
    assert_eq!(
        http::post_form(p.addr, &post.pairs(&p.site), false).status,
        429
    );
    assert_eq!(p.healthz(), 200);
    let lines = wait_for("five post lines", Duration::from_secs(5), || {
        let l = p.post_lines();
        (l.len() >= 5).then_some(l)
    });
    assert_eq!(lines.len(), 5, "{lines:#?}");
    let expect = [
        format!("post accepted status=303 site=acme form=access ticket={accepted} reason=-"),
        "post rejected status=403 site=acme form=access ticket=- reason=forbidden:bad-signature"
            .to_string(),
        "post rejected status=422 site=acme form=access ticket=- reason=invalid:email".to_string(),
        "post rejected status=413 site=- form=- ticket=- reason=too_large".to_string(),
        "post rejected status=429 site=- form=- ticket=- reason=too_many_requests".to_string(),
    ];
    assert_eq!(lines, expect);
    let log = p.log();
    for personal in [
        "Ann",
        "Peeters",
        "ann at example",
        "ann@example",
        "+32",
        "all my data",
    ] {
        assert!(!log.contains(personal), "{personal:?} in the log:\n{log}");
    }
}

/// `PORTAAL_LOG=warn` leaves out the post lines (level INFO); a level it
/// does not know stops the endpoint before it starts, saying what it takes.
#[test]
fn portaal_log_sets_the_least_severe_level_written() {
    let (tmp, site) = fixture_copy("endpoint-site");
    let log = tmp.path().join("endpoint.log");
    let mut cmd = std::process::Command::new(crate::support::portaal_bin());
    cmd.args(["endpoint", "--port", "0", "--spool"])
        .arg(tmp.path().join("spool"))
        .arg(&site)
        .env_remove("PORTAAL_SMTP_URL")
        .env_remove("PORTAAL_SIGNING_KEYS")
        .env("PORTAAL_LOG", "warn")
        .stderr(std::fs::File::create(&log).unwrap());
    let endpoint = Running::start(cmd);
    let reply = http::post_form(
        endpoint.addr,
        &Post::new("access", "en").pairs(&site),
        false,
    );
    reference_of(&reply);
    assert_eq!(
        http::request(endpoint.addr, "GET", "/healthz", &[], b"").status,
        200
    );
    let records = log_records(&std::fs::read_to_string(&log).unwrap());
    assert!(
        records
            .iter()
            .all(|(level, _)| level == "WARN" || level == "ERROR"),
        "{records:?}"
    );

    let out = std::process::Command::new(crate::support::portaal_bin())
        .args(["endpoint", "--port", "0"])
        .arg(&site)
        .env("PORTAAL_LOG", "loud")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PORTAAL_LOG") && stderr.contains("warn"),
        "{stderr}"
    );
}

/// In outbox mode nothing is delivered to anyone: `delivered.log` says
/// `outbox`, not `delivered`.
#[test]
fn outbox_mode_logs_outbox_not_delivered() {
    let p = Process::start(&[]);
    let post = Post::new("access", "en");
    let reference = reference_of(&http::post_form(p.addr, &post.pairs(&p.site), false));
    let log = p._tmp.path().join("spool").join("delivered.log");
    let text = wait_for("the ticket's log line", Duration::from_secs(10), || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|t| t.contains(&reference))
    });
    let line = text.lines().find(|l| l.starts_with(&reference)).unwrap();
    assert!(line.ends_with("status=outbox"), "{line}");
    assert!(!text.contains("status=delivered"), "{text}");
}

/// `portaal endpoint | head -1`, or a supervisor that closed its stdout:
/// the banner cannot be written, and the endpoint serves all the same.
#[test]
fn endpoint_with_closed_stdout_keeps_serving() {
    let (_tmp, site) = fixture_copy("endpoint-site");
    let mut cmd = std::process::Command::new(crate::support::portaal_bin());
    cmd.arg("endpoint")
        .arg(&site)
        .args(["--port", "0"])
        .arg("--spool")
        .arg(_tmp.path().join("spool"))
        .env_remove("PORTAAL_SMTP_URL")
        .stdout(std::process::Stdio::piped());
    // Its address comes from its log; its stdout is closed at once.
    let mut endpoint = Running::start_reading(cmd, Streams::Stderr);
    let addr = endpoint.addr;
    let healthy = http::request(addr, "GET", "/healthz", &[], b"").status;
    // The banner is written just after the socket opens: give a panic on
    // the closed pipe time to happen, then ask again.
    std::thread::sleep(Duration::from_millis(1500));
    let still_running = endpoint.alive();
    let again = std::net::TcpStream::connect(addr)
        .ok()
        .map(|_| http::request(addr, "GET", "/healthz", &[], b"").status);
    assert_eq!(healthy, 200);
    assert!(still_running, "the endpoint exited when its stdout closed");
    assert_eq!(again, Some(200));
}

/// Issue 11, item 2: a site whose theme does not compile still gets its
/// posts answered, on plain pages in the visitor's language, and the
/// endpoint says why at start.
#[test]
fn a_broken_theme_gets_plain_translated_pages() {
    let smtp = SmtpServer::start(Mode::Accept);
    let (tmp, site) = fixture_copy("endpoint-site");
    let templates = site.join("themes/default/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("endpoint.html"), "{% if %}broken").unwrap();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    let endpoint = start(&site, &tmp.path().join("spool"), &smtp.url(), settings);
    let addr = endpoint.addr();

    let missing = Post::new("access", "de").without("name").pairs(&site);
    let reply = http::post_form(addr, &missing, false);
    assert_eq!(reply.status, 422);
    let page = Html::parse_document(&reply.body);
    let lang = page
        .select(&Selector::parse("html").unwrap())
        .next()
        .and_then(|e| e.attr("lang"));
    assert_eq!(lang, Some("de"));
    let problems: Vec<String> = page
        .select(&Selector::parse("ul.errors li").unwrap())
        .map(|li| li.text().collect())
        .collect();
    assert_eq!(problems.len(), 1, "{}", reply.body);
    assert!(problems[0].contains("erforderlich"), "{problems:?}");
    assert!(reply.body.contains("Es gibt ein Problem"), "{}", reply.body);

    let good = http::post_form(addr, &Post::new("access", "de").pairs(&site), false);
    let reference = reference_of(&good);
    let thanks = http::request(addr, "GET", good.header("Location").unwrap(), &[], b"");
    assert_eq!(thanks.status, 200);
    assert!(thanks.body.contains(&reference), "{}", thanks.body);
    assert!(thanks.body.contains("Referenznummer"), "{}", thanks.body);
}

/// One client's broken page does not stop the agency's endpoint: the
/// broken site is logged and skipped (its posts get 403 with a log line
/// naming it), the other site serves.
#[test]
fn a_broken_site_is_skipped_and_the_others_serve() {
    use std::io::{BufRead, BufReader};
    let (_a_tmp, good) = fixture_copy("endpoint-site");
    let (_b_tmp, broken) = fixture_copy("endpoint-site");
    let toml = std::fs::read_to_string(broken.join("portal.toml")).unwrap();
    std::fs::write(
        broken.join("portal.toml"),
        toml.replacen("id = \"acme\"", "id = \"bravo\"", 1),
    )
    .unwrap();
    for site in [&good, &broken] {
        portaal::forms::sign::add_key(site).unwrap();
    }
    let good_post = Post::new("access", "nl").pairs(&good);
    let mut bravo = Post::new("access", "nl");
    bravo.site_id = "bravo".into();
    let broken_post = bravo.pairs(&broken);
    // Signed while it loaded; now its Markdown is broken.
    std::fs::write(broken.join("content/nl/kapot.md"), "+++\ntitle = \n+++\n").unwrap();

    let work = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(crate::support::portaal_bin())
        .current_dir(work.path())
        .args(["endpoint", "--port", "0", "--outbox", "outbox"])
        .arg(&good)
        .arg(&broken)
        .env_remove("PORTAAL_SMTP_URL")
        .env_remove("PORTAAL_SIGNING_KEYS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let _guard = Kill(child);
    let (tx, rx) = std::sync::mpsc::channel();
    for (name, pipe) in [
        ("out", Box::new(stdout) as Box<dyn std::io::Read + Send>),
        ("err", Box::new(stderr)),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send((name, line)).is_err() {
                    break;
                }
            }
        });
    }
    let mut lines: Vec<(&str, String)> = Vec::new();
    let next = |lines: &mut Vec<(&str, String)>, what: &str| {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no {what} in {lines:#?}"));
        lines.push(line);
    };
    while !lines
        .iter()
        .any(|(_, l)| l.contains("listening on http://"))
    {
        next(&mut lines, "listening line");
    }
    let log = |lines: &[(&str, String)]| -> String {
        lines
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let started = log(&lines);
    assert!(
        started.contains("ERROR site `bravo`") && started.contains("kapot.md"),
        "{started}"
    );
    let addr: SocketAddr = started
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(http::post_form(addr, &good_post, false).status, 303);
    assert_eq!(http::post_form(addr, &broken_post, false).status, 403);
    while !lines.iter().any(|(_, l)| l.contains("site=bravo")) {
        next(&mut lines, "log line of the refused post");
    }
    let refused = lines
        .iter()
        .find(|(_, l)| l.contains("site=bravo"))
        .unwrap();
    assert!(
        refused.1.contains("post rejected status=403")
            && refused.1.contains("reason=forbidden:site-skipped-at-start"),
        "{}",
        refused.1
    );
}
