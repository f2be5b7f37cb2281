//! `portaal scan` against a fixture "firm website" served on loopback: the
//! firm on 127.0.0.1, a tracker on `localhost` (another site to the
//! browser), scanned by the real Debian Chromium. tests/fixtures/scan/README.md
//! says what each page sets.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Portal, fixtures, portaal_bin};

/// One origin of the fixture: files from `root`, with `{{site}}` and
/// `{{tracker}}` replaced, the Set-Cookie headers the test gives per path,
/// and `/never.js` that never answers. Each request in its own thread, so
/// that a hanging one blocks nothing. Stops when dropped.
struct Origin {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

type Headers = fn(&str) -> Vec<&'static str>;

impl Origin {
    fn serve(
        server: tiny_http::Server,
        root: PathBuf,
        vars: Vec<(String, String)>,
        headers: Headers,
    ) -> Origin {
        let addr = server.server_addr().to_ip().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let vars = Arc::new(vars);
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let Ok(Some(rq)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                let (root, vars, flag) = (root.clone(), vars.clone(), flag.clone());
                workers.push(std::thread::spawn(move || {
                    respond(rq, &root, &vars, headers, &flag)
                }));
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Origin {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(
    rq: tiny_http::Request,
    root: &Path,
    vars: &[(String, String)],
    headers: Headers,
    stop: &AtomicBool,
) {
    let path = rq.url().split(['?', '#']).next().unwrap_or("/").to_string();
    if path == "/never.js" {
        // Holds the request open until the test ends (at most a minute).
        let until = Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    }
    if path == "/collect" {
        let _ = rq.respond(tiny_http::Response::empty(204));
        return;
    }
    let mut file = root.to_path_buf();
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != "..") {
        file.push(seg);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let Ok(mut bytes) = std::fs::read(&file) else {
        let _ = rq.respond(tiny_http::Response::from_string("not found").with_status_code(404));
        return;
    };
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let mime = match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "gif" => "image/gif",
        "json" => "application/json",
        "xml" => "application/xml",
        _ => "text/plain; charset=utf-8",
    };
    if ext != "gif" {
        let mut text = String::from_utf8(bytes).unwrap();
        for (k, v) in vars {
            text = text.replace(k.as_str(), v);
        }
        bytes = text.into_bytes();
    }
    let mut response = tiny_http::Response::from_data(bytes)
        .with_header(tiny_http::Header::from_bytes(&b"Content-Type"[..], mime.as_bytes()).unwrap());
    for value in headers(&path) {
        response.add_header(
            tiny_http::Header::from_bytes(&b"Set-Cookie"[..], value.as_bytes()).unwrap(),
        );
    }
    let _ = rq.respond(response);
}

fn site_headers(path: &str) -> Vec<&'static str> {
    match path {
        "/about.html" => vec![
            "session=s1; Path=/; HttpOnly; SameSite=Lax",
            "lang=nl; Max-Age=2592000; Path=/",
        ],
        _ => vec![],
    }
}

fn tracker_headers(path: &str) -> Vec<&'static str> {
    match path {
        // Cross-site: stored only with SameSite=None; Secure (allowed on
        // http://localhost, which browsers treat as a secure origin).
        "/frame.html" => vec![
            "trk_uid=u1; Max-Age=31536000; Path=/; SameSite=None; Secure",
            "trk_lax=u2; Max-Age=31536000; Path=/",
        ],
        _ => vec![],
    }
}

/// The firm's website and its tracker, both on loopback.
struct FirmSite {
    site: Origin,
    tracker: Origin,
}

impl FirmSite {
    fn start() -> FirmSite {
        let site = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let tracker = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let site_url = format!("http://{}", site.server_addr().to_ip().unwrap());
        let tracker_url = format!(
            "http://localhost:{}",
            tracker.server_addr().to_ip().unwrap().port()
        );
        let vars = vec![
            ("{{site}}".to_string(), site_url),
            ("{{tracker}}".to_string(), tracker_url),
        ];
        let dir = fixtures().join("scan");
        FirmSite {
            site: Origin::serve(site, dir.join("site"), vars.clone(), site_headers),
            tracker: Origin::serve(tracker, dir.join("tracker"), vars, tracker_headers),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.site.addr)
    }

    fn tracker_host(&self) -> String {
        let _ = self.tracker.addr;
        "localhost".to_string()
    }
}

fn scan(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(portaal_bin());
    cmd.current_dir(dir).arg("scan").args(args);
    cmd.output().unwrap()
}

fn scan_json(dir: &Path, args: &[&str]) -> (Value, Output) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = scan(dir, &all);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, out)
}

fn cookie<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cookie {name} in {report:#}"))
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn scan_finds_every_cookie_storage_key_and_third_party_of_the_fixture_site() {
    let firm = FirmSite::start();
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (r, out) = scan_json(tmp.path(), &[&firm.url("/"), "--accept", "#accept"]);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The figure in README ("Scanning the firm's website"): shown with
    // --nocapture. The issue asks for under 30 s; the bound here leaves
    // room for a loaded machine.
    eprintln!("portaal scan of the 10-page fixture site, with --accept: {took:.1?}");
    assert!(took < Duration::from_secs(90), "{took:?}");

    // Breadth-first: the start page's links, the sitemap's page, then the
    // links of the news page; robots.txt keeps /private/ out.
    let pages: Vec<(&str, bool)> = r["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["url"].as_str().unwrap(), p["error"].is_null()))
        .collect();
    let want: Vec<(String, bool)> = [
        ("/", true),
        ("/about.html", true),
        ("/contact.html", true),
        ("/embed.html", true),
        ("/prefs.html", true),
        ("/news/", true),
        ("/private/secret.html", false),
        ("/hidden.html", true),
        ("/news/1.html", true),
        ("/news/2.html", true),
        ("/news/3.html?ref=news", true),
    ]
    .iter()
    .map(|(p, ok)| (firm.url(p), *ok))
    .collect();
    let got: Vec<(String, bool)> = pages.iter().map(|(u, ok)| (u.to_string(), *ok)).collect();
    assert_eq!(got, want, "{r:#}");

    let names: BTreeSet<&str> = r["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "session",
            "lang",
            "form_seen",
            "trk_uid",
            "_trk_id",
            "stats_id"
        ]),
        "{r:#}"
    );

    let session = cookie(&r, "session");
    assert_eq!(session["duration"], "session");
    assert_eq!(session["http_only"], true);
    assert_eq!(session["same_site"], "Lax");
    assert_eq!(session["party"], "first");
    assert_eq!(session["set_by"]["by"], "header");
    assert_eq!(session["set_by"]["url"], firm.url("/about.html"));
    assert_eq!(session["page"], firm.url("/about.html"));
    assert_eq!(cookie(&r, "lang")["duration"], "30d");

    let form = cookie(&r, "form_seen");
    assert_eq!(form["duration"], "1d");
    assert_eq!(form["set_by"]["by"], "script");
    assert_eq!(form["http_only"], false);

    let trk = cookie(&r, "trk_uid");
    assert_eq!(trk["party"], "third");
    assert_eq!(trk["domain"], firm.tracker_host());
    assert_eq!(trk["duration"], "1y");
    assert_eq!(trk["secure"], true);
    assert_eq!(trk["same_site"], "None");
    assert!(
        trk["set_by"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/frame.html"),
        "{trk:#}"
    );
    assert_eq!(trk["phase"], "before_consent");

    // Set by the tracker's script, but in the firm's page: first party.
    let ga = cookie(&r, "_trk_id");
    assert_eq!(ga["party"], "first");
    assert_eq!(ga["set_by"]["by"], "script");
    assert_eq!(ga["duration"], "1y");
    assert_eq!(ga["phase"], "before_consent");

    // After the click only; Chromium keeps no cookie past 400 days.
    let stats = cookie(&r, "stats_id");
    assert_eq!(stats["phase"], "after_consent");
    assert_eq!(stats["duration"], "1y35d");

    // A cross-site cookie without SameSite=None is refused, and said so.
    let refused = r["refused_cookies"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{r:#}");
    assert!(
        refused[0]["line"]
            .as_str()
            .unwrap()
            .starts_with("trk_lax=…;")
    );

    let storage: BTreeSet<(String, String, String)> = r["storage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["key"].as_str().unwrap().to_string(),
                s["party"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("local_storage", "theme", "first"),
        ("session_storage", "tab", "first"),
        ("local_storage", "trk_seen", "third"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(storage, want, "{r:#}");

    let hosts = r["third_parties"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{r:#}");
    assert_eq!(hosts[0]["host"], "localhost");
    assert_eq!(
        hosts[0]["kinds"],
        serde_json::json!(["script", "frame", "image", "xhr"])
    );
    assert_eq!(hosts[0]["page"], firm.url("/embed.html"));
    // No values: the report carries no identifiers.
    assert!(!out.stdout.windows(3).any(|w| w == b"=u1"));
}

#[test]
fn scan_compares_the_site_with_the_portal() {
    let firm = FirmSite::start();
    let portal = Portal::fixture("scan/portal");
    let (r, out) = scan_json(portal.path(), &[&firm.url("/"), ".", "--accept", "#accept"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: BTreeSet<(String, String)> = codes(&r).into_iter().collect();
    let want: BTreeSet<(String, String)> = [
        ("P052", "trk_uid"),
        ("P052", "tab"),
        ("P052", "trk_seen"),
        ("P053", "legacy_pref"),
        ("P054", "session"),
        ("P055", "_trk_id"),
        ("P056", "localhost"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(found, want, "{r:#}");

    // The same for people, grouped, with the fix under each finding.
    let out = scan(portal.path(), &[&firm.url("/"), ".", "--pages", "4"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\nCookies before consent ("), "{text}");
    assert!(
        text.contains(
            "\nThird-party hosts before consent (1):\n  localhost  script, frame, image/pixel, xhr"
        ),
        "{text}"
    );
    assert!(
        text.contains("error[P055]: the cookie `_trk_id` is set on"),
        "{text}"
    );
    assert!(text.contains("    fix: "), "{text}");
}

#[test]
fn write_drafts_entries_that_make_the_next_scan_clean() {
    let firm = FirmSite::start();
    let portal = Portal::fixture("scan/portal");
    let original = portal.read("portal.toml");
    let out = scan(portal.path(), &[&firm.url("/"), ".", "--write=draft.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        portal.read("portal.toml"),
        original,
        "the original is untouched"
    );
    let draft = portal.read("draft.toml");
    assert!(draft.starts_with(&original));
    let added = &draft[original.len()..];
    assert_eq!(added.matches("[[cookies]]").count(), 3, "{added}");
    assert_eq!(added.matches("[[recipients]]").count(), 1, "{added}");
    assert!(added.contains("# REVIEW (portaal scan)"), "{added}");

    // Writing again over the draft keeps the first draft as a backup.
    let out = scan(
        portal.path(),
        &[&firm.url("/"), ".", "--write=draft.toml", "--pages", "1"],
    );
    assert!(out.status.success(), "one page shows nothing undeclared");
    assert_eq!(portal.read("draft.toml.bak"), draft);
    assert!(String::from_utf8_lossy(&out.stderr).contains("draft.toml.bak"));

    // The agency pastes the first draft in: what was missing is declared.
    portal.write("portal.toml", &draft);
    let (r, _) = scan_json(portal.path(), &[&firm.url("/"), "."]);
    let left: BTreeSet<String> = codes(&r).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        left,
        BTreeSet::from(["P053".into(), "P054".into(), "P055".into()]),
        "only the declarations that the site contradicts are left: {r:#}"
    );
    // And the draft is a portal that builds.
    let check = portal.run(&["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(json["errors"], 0, "{json:#}");
}

#[test]
fn write_prefills_from_the_cookie_database_and_flags_its_tracking_cookies() {
    let firm = FirmSite::start();
    let portal = Portal::fixture("scan/portal");
    let db = fixtures().join("scan/open-cookie-database.csv");
    let out = scan(
        portal.path(),
        &[
            &firm.url("/"),
            ".",
            "--pages",
            "4",
            "--write",
            "--cookie-db",
            db.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (report, drafts) = text
        .split_once("\nDraft entries for portal.toml")
        .unwrap_or_else(|| panic!("no drafts:\n{text}"));
    let entry = drafts
        .split("\n# REVIEW")
        .find(|e| e.contains("name = \"trk_uid\""))
        .unwrap_or_else(|| panic!("no draft for trk_uid:\n{text}"));
    assert!(
        entry.contains("Open Cookie Database (Apache-2.0): Trackly by Trackly Inc."),
        "{entry}"
    );
    assert!(entry.contains("category = \"marketing\""), "{entry}");
    assert!(entry.contains("party = \"third\""), "{entry}");
    assert!(entry.contains("duration = \"1y\""), "{entry}");
    assert!(
        entry.contains("purpose = \"REVIEW: Recognises the visitor"),
        "{entry}"
    );
    assert!(
        report.contains("error[P055]: the cookie `trk_uid` is set on"),
        "{report}"
    );
}

#[test]
fn pages_bounds_the_crawl_and_ignore_robots_opens_closed_pages() {
    let firm = FirmSite::start();
    let tmp = tempfile::tempdir().unwrap();
    let (r, out) = scan_json(tmp.path(), &[&firm.url("/"), "--pages", "3"]);
    assert!(out.status.success());
    let pages: Vec<&str> = r["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        pages,
        [
            firm.url("/"),
            firm.url("/about.html"),
            firm.url("/contact.html")
        ]
    );

    // The total bound: the start page, then nothing more.
    let (r, out) = scan_json(tmp.path(), &[&firm.url("/"), "--max-time", "1"]);
    assert!(out.status.success());
    assert_eq!(r["pages"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(
        r["stopped"],
        "the total time limit (--max-time 1) was reached; pages visited: 1 of at most 20"
    );

    let err = error_of(&scan(tmp.path(), &[&firm.url("/private/secret.html")]));
    assert!(
        err.contains("the site's robots.txt does not allow crawlers here"),
        "{err}"
    );
    let (r, out) = scan_json(
        tmp.path(),
        &[
            &firm.url("/private/secret.html"),
            "--ignore-robots",
            "--pages",
            "1",
        ],
    );
    assert!(out.status.success());
    assert_eq!(cookie(&r, "private_seen")["duration"], "session");
}

/// A loopback port that speaks something other than TLS.
fn not_tls() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let thread = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(30);
        let mut served = 0;
        while Instant::now() < until && served < 8 {
            match listener.accept() {
                Ok((mut s, _)) => {
                    served += 1;
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\nplain text, no TLS\r\n");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (addr, thread)
}

fn error_of(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_ne!(out.status.code(), Some(0), "{err}");
    err
}

#[test]
fn scan_errors_are_clear_and_within_the_bounds() {
    let firm = FirmSite::start();
    let tmp = tempfile::tempdir().unwrap();

    let closed = crate::support::free_port();
    let err = error_of(&scan(tmp.path(), &[&format!("http://127.0.0.1:{closed}/")]));
    assert!(
        err.contains("the browser could not load it: net::ERR_CONNECTION_REFUSED"),
        "{err}"
    );

    let err = error_of(&scan(tmp.path(), &[&firm.url("/data.json")]));
    assert!(
        err.contains("is application/json, not an HTML page"),
        "{err}"
    );

    let started = Instant::now();
    let err = error_of(&scan(
        tmp.path(),
        &[&firm.url("/slow.html"), "--page-timeout", "3"],
    ));
    assert!(err.contains("did not finish loading within 3 s"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    let (addr, server) = not_tls();
    let err = error_of(&scan(tmp.path(), &[&format!("https://{addr}/")]));
    assert!(err.contains("net::ERR_SSL_PROTOCOL_ERROR"), "{err}");
    drop(server);

    let err = error_of(&scan(tmp.path(), &["ftp://127.0.0.1/"]));
    assert!(err.contains("give an http:// or https:// URL"), "{err}");
}

#[test]
fn scan_without_chromium_names_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(portaal_bin())
        .current_dir(tmp.path())
        .env("PATH", tmp.path())
        .args(["scan", "http://127.0.0.1:9/"])
        .output()
        .unwrap();
    let err = error_of(&out);
    assert!(err.contains("apt-get install chromium"), "{err}");
    let err = error_of(&scan(
        tmp.path(),
        &["http://127.0.0.1:9/", "--browser", "/no/such/chromium"],
    ));
    assert!(
        err.contains("--browser /no/such/chromium: no such file"),
        "{err}"
    );
}

#[test]
fn check_scan_folds_a_saved_report_into_findings() {
    let firm = FirmSite::start();
    let portal = Portal::fixture("scan/portal");
    let out = scan(portal.path(), &[&firm.url("/"), "--format", "json"]);
    portal.write("scan.json", &String::from_utf8(out.stdout).unwrap());
    let check = portal.run(&["check", "--format", "json", "--scan", "scan.json"]);
    assert_eq!(check.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&check.stdout).unwrap();
    let found: BTreeSet<&str> = json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        found,
        BTreeSet::from(["P052", "P053", "P054", "P055", "P056"]),
        "{json:#}"
    );

    portal.write("broken.json", "{\"format\": 1,");
    let out = portal.run(&["check", "--scan", "broken.json"]);
    let err = error_of(&out);
    assert!(
        err.contains("not a report of `portaal scan --format json` (line 1"),
        "{err}"
    );
}
