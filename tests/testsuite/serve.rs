//! `portaal serve`: live reload, error overlay, and a preview that matches
//! the real build.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use crate::support::process::Running;
use crate::support::{Portal, browser, select, text};

const LIMIT: Duration = Duration::from_secs(20);

/// A running `portaal serve`, stopped on drop.
struct Preview {
    url: String,
    process: Running,
}

impl Preview {
    fn start(portal: &Portal) -> Preview {
        let mut cmd = portal.portaal();
        cmd.args(["serve", "--port", "0"])
            // The preview's spool and outbox go with the portal's temp dir.
            .env("TMPDIR", portal.path())
            .stderr(Stdio::null());
        let process = Running::start(cmd);
        Preview {
            url: process.url.clone(),
            process,
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut res = agent.get(&format!("{}{path}", self.url)).call().unwrap();
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().unwrap())
    }

    fn get_bytes(&self, path: &str) -> Vec<u8> {
        let mut res = ureq::get(&format!("{}{path}", self.url)).call().unwrap();
        res.body_mut().read_to_vec().unwrap()
    }

    /// Subscribes to the reload stream; each event's name arrives on the
    /// receiver. Returns once the server has confirmed the subscription.
    fn events(&self) -> Receiver<String> {
        let res = ureq::get(&format!("{}/_portaal/events", self.url))
            .call()
            .unwrap();
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "text/event-stream"
        );
        let (tx, rx) = channel();
        let (ready_tx, ready_rx) = channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(res.into_body().into_reader());
            for line in reader.lines().map_while(Result::ok) {
                if line == ": connected" {
                    let _ = ready_tx.send(());
                }
                if let Some(name) = line.strip_prefix("event: ")
                    && tx.send(name.to_string()).is_err()
                {
                    break;
                }
            }
        });
        ready_rx
            .recv_timeout(LIMIT)
            .expect("the event stream opens");
        rx
    }
}

fn next_event(events: &Receiver<String>) -> String {
    events.recv_timeout(LIMIT).expect("a reload event")
}

#[test]
fn edits_reload_errors_show_and_the_server_survives() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let events = preview.events();

    let (status, page) = preview.get("/nl/privacy/");
    assert_eq!(status, 200);
    assert!(page.contains("Wij bakken brood"));

    portal.edit(
        "content/nl/privacy.md",
        "Wij bakken brood",
        "Wij bakken taart",
    );
    assert_eq!(next_event(&events), "reload");
    let (_, page) = preview.get("/nl/privacy/");
    assert!(page.contains("Wij bakken taart"), "new content is served");

    // A broken portal.toml: the browser shows the error, the server stays up.
    portal.edit(
        "portal.toml",
        "legal_basis = \"contract\"",
        "legal_basis = \"contrakt\"",
    );
    assert_eq!(next_event(&events), "reload");
    let (status, page) = preview.get("/nl/privacy/");
    assert_eq!(status, 200, "the last good build is still served");
    let html = scraper::Html::parse_document(&page);
    let overlay = select(&html, "#portaal-error-overlay");
    assert_eq!(overlay.len(), 1, "error overlay shown");
    let message = text(&overlay[0]);
    assert!(
        message.contains("portal.toml:") && message.contains("contrakt"),
        "{message}"
    );
    let line = portal
        .read("portal.toml")
        .lines()
        .position(|l| l.contains("contrakt"))
        .unwrap()
        + 1;
    assert!(
        message.contains(&format!("portal.toml:{line}:")),
        "names the line: {message}"
    );

    portal.edit(
        "portal.toml",
        "legal_basis = \"contrakt\"",
        "legal_basis = \"contract\"",
    );
    assert_eq!(next_event(&events), "reload");
    let (_, page) = preview.get("/nl/privacy/");
    assert!(
        select(
            &scraper::Html::parse_document(&page),
            "#portaal-error-overlay"
        )
        .is_empty()
    );
    assert!(page.contains("Wij bakken taart"));
}

#[test]
fn a_stylesheet_change_swaps_css_without_reload() {
    let portal = Portal::fixture("minimal");
    portal.write("static/logo.txt", "");
    let preview = Preview::start(&portal);
    let events = preview.events();
    portal.write("static/style.css", "body { color: #123456; }\n");
    assert_eq!(next_event(&events), "stylesheet");
    assert_eq!(
        preview.get_bytes("/style.css"),
        b"body { color: #123456; }\n"
    );
}

#[test]
fn the_preview_is_exactly_the_build() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let events = preview.events();
    // Edit once so the comparison covers an incremental rebuild too.
    portal.edit("content/fr/privacy.md", "pas des profils", "pas de profils");
    assert_eq!(next_event(&events), "reload");
    assert_preview_is_the_build(&portal, &preview);
}

/// Waits until no reload event has come for a while: a save of several
/// files can start more than one rebuild.
fn settle(events: &Receiver<String>) {
    assert_eq!(next_event(events), "reload");
    let start = std::time::Instant::now();
    while events.recv_timeout(Duration::from_millis(500)).is_ok() {
        assert!(start.elapsed() < LIMIT, "the rebuilds never stop");
    }
}

/// Edits of one page's Markdown render only the pages they can change and
/// keep the others; after each kind of edit (body, title in the menu, a
/// page added or deleted, in both languages) every file served equals a
/// fresh `portaal build`.
#[test]
fn partial_rebuilds_serve_exactly_the_build() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let events = preview.events();

    portal.edit("content/nl/over-ons.md", "1921", "1922");
    settle(&events);
    let line = preview.process.line_with("over-ons.md: ");
    assert!(
        line.contains("(1 rendered again, the others kept)"),
        "{line}"
    );
    portal.edit(
        "content/fr/over-ons.md",
        "title = \"",
        "title = \"Toute l'histoire: ",
    );
    settle(&events);
    assert_preview_is_the_build(&portal, &preview);

    for lang in ["nl", "fr"] {
        portal.write(
            &format!("content/{lang}/team.md"),
            "+++\ntitle = \"Team\"\n+++\nWij zijn met vijf.\n",
        );
    }
    settle(&events);
    let (status, _) = preview.get("/fr/team/");
    assert_eq!(status, 200, "the new page is served");
    assert_preview_is_the_build(&portal, &preview);

    for lang in ["nl", "fr"] {
        std::fs::remove_file(portal.path().join(format!("content/{lang}/over-ons.md"))).unwrap();
    }
    settle(&events);
    let (status, _) = preview.get("/nl/over-ons/");
    assert_eq!(status, 404, "the deleted page is gone");
    assert_preview_is_the_build(&portal, &preview);
}

/// Every file of a `portaal build` of `portal` (for the preview's address)
/// is served by `preview` with the same bytes, but for the reload script
/// and the forms' signing.
fn assert_preview_is_the_build(portal: &Portal, preview: &Preview) {
    // The only output inside a site is its public/: build beside it.
    let tmp = tempfile::tempdir().unwrap();
    let built_dir = tmp.path().join("built");
    let out = portal
        .portaal()
        .args(["build", "--base-url", &preview.url, "--out"])
        .arg(&built_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<String> = walkdir::WalkDir::new(&built_dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.file_name() != ".portaal-build")
        .map(|e| {
            let rel = e.path().strip_prefix(&built_dir).unwrap();
            rel.to_string_lossy().into_owned()
        })
        .collect();
    assert!(files.len() > 20);
    let tag = "<script src=\"/_portaal/livereload.js\"></script>";
    for f in files {
        let built = std::fs::read(built_dir.join(&f)).unwrap();
        let path = format!("/{}", f.strip_suffix("index.html").unwrap_or(&f));
        let served = preview.get_bytes(&path);
        if f.ends_with(".html") {
            let served = String::from_utf8(served).unwrap();
            assert_eq!(served.matches(tag).count(), 1, "{f}: one reload script");
            // Preview forms post to the preview's own endpoint, signed with
            // a throwaway key: only those values may differ.
            assert_eq!(
                without_signing(&served.replacen(tag, "", 1)),
                without_signing(std::str::from_utf8(&built).unwrap()),
                "{f} differs"
            );
            assert!(
                !String::from_utf8_lossy(&built).contains("livereload"),
                "{f}: script leaked into the build"
            );
        } else {
            assert_eq!(served, built, "{f} differs");
        }
    }
}

/// Blanks the form's action and the key id and signature of a signed form.
fn without_signing(html: &str) -> String {
    let mut out = html.to_string();
    for (start, end) in [
        ("action=\"", "\""),
        ("name=\"_kid\" value=\"", "\""),
        ("name=\"_sig\" value=\"", "\""),
    ] {
        let mut from = 0;
        while let Some(i) = out[from..].find(start) {
            let v = from + i + start.len();
            let e = v + out[v..].find(end).unwrap();
            out.replace_range(v..e, "");
            from = v;
        }
    }
    out
}

/// A rights form in the preview reaches the preview's own outbox.
#[test]
fn preview_forms_land_in_the_local_outbox() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let (_, page) = preview.get("/nl/access/");
    let html = scraper::Html::parse_document(&page);
    let form = select(&html, "form.request-form")[0];
    let action = form.value().attr("action").unwrap().to_string();
    assert!(
        action.starts_with("http://127.0.0.1:") && !action.starts_with(&preview.url),
        "{action}"
    );
    let mut fields: Vec<(String, String)> = select(&html, "form.request-form input[type=hidden]")
        .iter()
        .map(|i| {
            (
                i.value().attr("name").unwrap().to_string(),
                i.value().attr("value").unwrap_or("").to_string(),
            )
        })
        .collect();
    for input in select(
        &html,
        "form.request-form input[required], form.request-form input[aria-required=true], \
         form.request-form [role=radiogroup][aria-required=true] input, \
         form.request-form textarea[required]",
    ) {
        let name = input.value().attr("name").unwrap().to_string();
        let value = match input.value().attr("type") {
            Some("email") => "an@example.com",
            Some("checkbox") => "on",
            Some("date") => "2026-01-01",
            // A radio group: its first choice, once.
            Some("radio") if fields.iter().any(|(k, _)| *k == name) => continue,
            Some("radio") => input.value().attr("value").unwrap(),
            _ => "Anna Peeters",
        };
        fields.push((name, value.to_string()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = agent.post(&action).send_form(pairs).unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let location = res
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(location.starts_with("/thanks?site="), "{location}");
    // The endpoint's own thank-you page, in the preview's look.
    let thanks_url = format!("{}{location}", action.rsplit_once('/').unwrap().0);
    let mut thanks = agent.get(&thanks_url).call().unwrap();
    assert_eq!(thanks.status().as_u16(), 200);
    let body = thanks.body_mut().read_to_string().unwrap();
    let reference = location.split("ref=").nth(1).unwrap();
    assert!(body.contains(reference), "{body}");
    assert!(
        body.contains(&format!("{}/style.css?v=", preview.url)),
        "{body}"
    );

    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let (status, outbox) = preview.get("/_outbox/");
        assert_eq!(status, 200);
        let doc = scraper::Html::parse_document(&outbox);
        let mails: Vec<String> = select(&doc, "article.mail pre").iter().map(text).collect();
        // The ticket, not the acknowledgement (whose Reply-To is the firm).
        if let Some(mail) = mails
            .iter()
            .find(|m| m.contains("To: info@bakkerij.example"))
        {
            assert!(mail.contains("Anna Peeters"), "{mail}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no ticket in the outbox: {mails:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn several_tabs_all_get_the_reload() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let tabs: Vec<_> = (0..3).map(|_| preview.events()).collect();
    portal.edit("content/nl/over-ons.md", "1921", "1922");
    for tab in &tabs {
        assert_eq!(next_event(tab), "reload");
    }
}

#[test]
fn no_file_outside_the_build_is_served() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let addr = preview.url.trim_start_matches("http://");
    for path in [
        "/../portal.toml",
        "/%2e%2e/portal.toml",
        "/nl/..%2f..%2fportal.toml",
        "/..\\portal.toml",
    ] {
        // Raw bytes: an HTTP client library would normalise these paths away.
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        let status: u16 = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(status == 400 || status == 404, "{path}: {status}");
        assert!(
            !response.contains("bakkerij-test"),
            "{path} leaked portal.toml"
        );
    }
    let (status, page) = preview.get("/nope/");
    assert_eq!(status, 404);
    assert!(page.contains("<html"), "the site's 404 page");
    let (status, _) = preview.get("/nl/privacy");
    assert_eq!(status, 301);
}

/// A real browser sees an edit without anyone touching it.
#[test]
fn chromium_reloads_on_edit() {
    let portal = Portal::fixture("minimal");
    let preview = Preview::start(&portal);
    let (browser, _profile) = browser::start();
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&format!("{}/nl/privacy/", preview.url))
        .unwrap();
    tab.wait_until_navigated().unwrap();
    browser::wait_until(&tab, LIMIT, "the page", |t| {
        browser::body_text(t).contains("Wij bakken brood")
    });
    // Give the page's event stream a moment to connect before editing.
    browser::wait_until(&tab, LIMIT, "the reload stream", |t| {
        t.evaluate(
            "document.documentElement.hasAttribute('data-portaal-live')",
            false,
        )
        .ok()
        .and_then(|r| r.value)
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
    });
    tab.evaluate("window.scrollTo(0, 400)", false).unwrap();
    portal.edit(
        "content/nl/privacy.md",
        "Wij bakken brood",
        "Wij bakken croissants",
    );
    browser::wait_until(&tab, LIMIT, "the edit to show", |t| {
        browser::body_text(t).contains("Wij bakken croissants")
    });
    // The reload keeps the editor where they were reading.
    browser::wait_until(&tab, LIMIT, "the scroll position to return", |t| {
        t.evaluate("window.scrollY", false)
            .ok()
            .and_then(|r| r.value)
            .and_then(|v| v.as_f64())
            .is_some_and(|y| (y - 400.0).abs() < 2.0)
    });
}
