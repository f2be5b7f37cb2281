//! The browser session: a headless Chromium with a fresh profile, driven
//! over the DevTools protocol by `headless_chrome`, that loads one page at a
//! time and tells what happened on the network and in storage.
//!
//! Cookies and network events are read as the browser reports them; the
//! typed protocol structs of the crate reject properties newer than the
//! crate for some methods, so cookies come back as JSON here.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use headless_chrome::protocol::cdp::Network::ResourceType;
use headless_chrome::protocol::cdp::types::{Event, Method};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde::Deserialize;

use super::observe::{RefusedCookie, RequestKind, StorageKind};

/// The Debian package that provides the browser, for error messages.
pub const PACKAGE: &str = "chromium";

/// The browser named by `--browser`, else `chromium` (or
/// `chromium-browser`) on `PATH`.
pub fn find(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        anyhow::bail!(
            "--browser {}: no such file; give the path of a Chromium or Chrome binary",
            path.display()
        );
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&dirs) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    anyhow::bail!(
        "no Chromium found on PATH; install it (Debian/Ubuntu: `apt-get install {PACKAGE}`) or give its path with --browser PATH"
    )
}

/// A running browser with its own, new profile directory. Dropping it ends
/// the browser and then deletes the profile, so nothing of the visit stays.
pub struct Session {
    // Declared before the profile: fields drop in order, and the browser
    // must be gone before its profile directory is removed.
    browser: Browser,
    /// Held only so that dropping the session deletes it.
    _profile: tempfile::TempDir,
    page_timeout: Duration,
    user_agent: String,
}

impl Session {
    pub fn launch(
        path: &Path,
        user_agent: Option<&str>,
        page_timeout: Duration,
    ) -> anyhow::Result<Session> {
        let profile = tempfile::Builder::new()
            .prefix("portaal-scan-profile-")
            .tempdir()
            .context("cannot create a temporary browser profile")?;
        allow_third_party_cookies(profile.path())?;
        let flags: Vec<&OsStr> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            // Nothing but the scanned site (and what its pages load):
            // no update checks, sync, crash reports or safe-browsing lists.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-breakpad",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--disable-default-apps",
            "--no-pings",
            "--mute-audio",
            // Cross-site frames in the page's own process, so that one
            // DevTools session sees their requests and cookies too.
            "--disable-site-isolation-trials",
            "--disable-features=IsolateOrigins,site-per-process",
        ]
        .iter()
        .map(OsStr::new)
        .collect();
        let options = LaunchOptions::default_builder()
            .path(Some(path.to_path_buf()))
            .headless(true)
            .sandbox(false)
            .user_data_dir(Some(profile.path().to_path_buf()))
            .disable_default_args(true)
            .args(flags)
            .idle_browser_timeout(page_timeout + Duration::from_secs(30))
            .build()
            .map_err(|e| anyhow!("browser options: {e}"))?;
        let browser = Browser::new(options).map_err(|e| {
            anyhow!(
                "cannot start {}: {e}; is it a working Chromium (Debian package `{PACKAGE}`)?",
                path.display()
            )
        })?;
        // What a visitor's Chrome sends, not "HeadlessChrome": sites may
        // treat a headless browser differently.
        let user_agent = match user_agent {
            Some(ua) => ua.to_string(),
            None => browser
                .get_version()
                .map(|v| v.user_agent.replace("HeadlessChrome", "Chrome"))
                .unwrap_or_default(),
        };
        Ok(Session {
            browser,
            _profile: profile,
            page_timeout,
            user_agent,
        })
    }

    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// A tab in the browser's default context: one visitor's browsing.
    pub fn visitor(&self) -> anyhow::Result<Visitor> {
        let tab = self
            .browser
            .new_tab()
            .map_err(|e| anyhow!("cannot open a browser tab: {e}"))?;
        Visitor::new(tab, &self.user_agent, self.page_timeout)
    }

    /// A tab in a new, empty browser context (like a private window): a
    /// second visitor who has no cookies yet.
    pub fn new_visitor(&self) -> anyhow::Result<Visitor> {
        let context = self
            .browser
            .new_context()
            .map_err(|e| anyhow!("cannot open a browser context: {e}"))?;
        let tab = context
            .new_tab()
            .map_err(|e| anyhow!("cannot open a browser tab: {e}"))?;
        Visitor::new(tab, &self.user_agent, self.page_timeout)
    }
}

/// Sets the new profile to accept third-party cookies, as Chrome does for
/// a visitor who never changed its settings; headless Chromium blocks them
/// by default, and the scan would then miss every tracker's own cookie.
/// Cookies the browser still refuses (no `SameSite=None; Secure`) are
/// reported as refused.
fn allow_third_party_cookies(profile: &Path) -> anyhow::Result<()> {
    let dir = profile.join("Default");
    std::fs::create_dir_all(&dir).context("cannot prepare the browser profile")?;
    let prefs = serde_json::json!({ "profile": { "cookie_controls_mode": 0 } });
    std::fs::write(dir.join("Preferences"), prefs.to_string())
        .context("cannot prepare the browser profile")
}

/// What the DevTools events of one tab said, gathered as they come.
#[derive(Default)]
struct Log {
    /// Request id → URL and resource type.
    requests: HashMap<String, (String, Option<ResourceType>)>,
    /// Request ids in the order their requests started.
    order: Vec<String>,
    /// Request id and `Set-Cookie` line that the browser stored.
    set_cookie: Vec<(String, String)>,
    /// Request id, `Set-Cookie` line and reasons of cookies refused.
    refused: Vec<(String, String, Vec<String>)>,
    /// Status and MIME type of the first document response.
    document: Option<(u16, String, String)>,
    loaded: bool,
    last_event: Option<Instant>,
}

impl Log {
    fn record(&mut self, event: &Event) {
        match event {
            Event::NetworkRequestWillBeSent(e) => {
                let p = &e.params;
                if !self.requests.contains_key(&p.request_id) {
                    self.order.push(p.request_id.clone());
                }
                self.requests.insert(
                    p.request_id.clone(),
                    (p.request.url.clone(), p.Type.clone()),
                );
            }
            Event::NetworkResponseReceived(e) => {
                let p = &e.params;
                if p.Type == ResourceType::Document && self.document.is_none() {
                    self.document = Some((
                        u16::try_from(p.response.status).unwrap_or(0),
                        p.response.mime_type.clone(),
                        p.response.url.clone(),
                    ));
                }
            }
            Event::NetworkResponseReceivedExtraInfo(e) => {
                let p = &e.params;
                for line in set_cookie_lines(&p.headers.0) {
                    let refused = p
                        .blocked_cookies
                        .iter()
                        .find(|b| b.cookie_line == line)
                        .map(|b| {
                            b.blocked_reasons
                                .iter()
                                .map(|r| {
                                    serde_json::to_value(r)
                                        .ok()
                                        .and_then(|v| v.as_str().map(str::to_string))
                                        .unwrap_or_else(|| format!("{r:?}"))
                                })
                                .collect::<Vec<_>>()
                        });
                    match refused {
                        Some(reasons) => self.refused.push((p.request_id.clone(), line, reasons)),
                        None => self.set_cookie.push((p.request_id.clone(), line)),
                    }
                }
            }
            Event::PageLoadEventFired(_) => self.loaded = true,
            _ => return,
        }
        self.last_event = Some(Instant::now());
    }
}

/// The `Set-Cookie` lines of a header object; Chromium joins repeated
/// headers with newlines.
fn set_cookie_lines(headers: &Option<serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Object(map)) = headers else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.as_str())
        .flat_map(|v| v.split('\n'))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A cookie as `Network.getAllCookies` reports it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserCookie {
    pub name: String,
    pub domain: String,
    pub path: String,
    /// Seconds since the epoch; -1 for a session cookie.
    #[serde(default)]
    pub expires: f64,
    #[serde(default)]
    pub http_only: bool,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub session: bool,
    #[serde(default)]
    pub same_site: Option<String>,
}

/// `Network.getAllCookies`, answered as JSON (see the module comment).
#[derive(Debug, serde::Serialize)]
struct AllCookies {}

impl Method for AllCookies {
    const NAME: &'static str = "Network.getAllCookies";
    type ReturnObject = serde_json::Value;
}

/// `Network.enable`, so that the tab reports requests and responses.
#[derive(Debug, serde::Serialize)]
struct NetworkEnable {}

impl Method for NetworkEnable {
    const NAME: &'static str = "Network.enable";
    type ReturnObject = serde_json::Value;
}

/// `DOMStorage.getDOMStorageItems` for one origin's storage.
#[derive(Debug, serde::Serialize)]
struct StorageItems {
    #[serde(rename = "storageId")]
    storage_id: serde_json::Value,
}

impl Method for StorageItems {
    const NAME: &'static str = "DOMStorage.getDOMStorageItems";
    type ReturnObject = serde_json::Value;
}

/// A request the page made.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub kind: RequestKind,
}

/// What loading one page showed.
#[derive(Debug, Clone, Default)]
pub struct Visit {
    /// The URL the browser ended on (after redirects).
    pub url: String,
    pub status: Option<u16>,
    /// The MIME type of the page itself, e.g. `text/html`.
    pub mime: String,
    pub requests: Vec<Request>,
    /// URL of the response and `Set-Cookie` line, for cookies stored.
    pub set_cookie: Vec<(String, String)>,
    pub refused: Vec<RefusedCookie>,
    /// Every link on the page, absolute.
    pub links: Vec<String>,
    /// Storage keys: kind, origin, key.
    pub storage: Vec<(StorageKind, String, String)>,
}

/// Why a page could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("the browser could not load it: {0}")]
    Unreachable(String),
    #[error("it did not finish loading within {0} s (its load event never fired)")]
    Timeout(u64),
    #[error("{0}")]
    Browser(String),
}

/// One tab, with the events of its pages recorded.
pub struct Visitor {
    tab: Arc<Tab>,
    log: Arc<Mutex<Log>>,
    page_timeout: Duration,
}

/// Links, storage keys and type of the page, from inside it.
const PAGE_FACTS: &str = r#"(() => {
  const keys = get => { try { return Object.keys(get()); } catch (e) { return []; } };
  return JSON.stringify({
    origin: location.origin,
    contentType: document.contentType,
    local: keys(() => window.localStorage),
    session: keys(() => window.sessionStorage),
    links: Array.from(document.querySelectorAll('a[href], area[href]'), a => a.href),
  });
})()"#;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageFacts {
    origin: String,
    content_type: String,
    local: Vec<String>,
    session: Vec<String>,
    links: Vec<String>,
}

impl Visitor {
    fn new(tab: Arc<Tab>, user_agent: &str, page_timeout: Duration) -> anyhow::Result<Visitor> {
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = log.clone();
        tab.add_event_listener(Arc::new(move |event: &Event| {
            if let Ok(mut log) = sink.lock() {
                log.record(event);
            }
        }))
        .map_err(|e| anyhow!("cannot listen to the browser: {e}"))?;
        tab.call_method(NetworkEnable {})
            .map_err(|e| anyhow!("cannot watch the network: {e}"))?;
        if !user_agent.is_empty() {
            tab.set_user_agent(user_agent, None, None)
                .map_err(|e| anyhow!("cannot set the user agent: {e}"))?;
        }
        tab.set_default_timeout(page_timeout);
        Ok(Visitor {
            tab,
            log,
            page_timeout,
        })
    }

    /// Loads `url` and waits for its load event and then for the network to
    /// rest (half a second without a request), within the page timeout.
    pub fn visit(&self, url: &str) -> Result<Visit, PageError> {
        *self.log.lock().unwrap() = Log::default();
        let start = Instant::now();
        self.tab.navigate_to(url).map_err(|e| {
            let text = e.to_string();
            PageError::Unreachable(
                text.strip_prefix("Navigate failed: ")
                    .unwrap_or(&text)
                    .to_string(),
            )
        })?;
        let secs = self.page_timeout.as_secs();
        if !self.wait(start, |log| log.loaded) {
            let _ = self.tab.stop_loading();
            return Err(PageError::Timeout(secs));
        }
        self.settle(start);
        self.collect()
    }

    /// Clicks the element that `selector` finds (waiting for it to appear)
    /// and waits for what the click sets off.
    pub fn click(&self, selector: &str) -> anyhow::Result<()> {
        *self.log.lock().unwrap() = Log::default();
        let start = Instant::now();
        let element = self
            .tab
            .wait_for_element_with_custom_timeout(selector, self.page_timeout)
            .map_err(|_| {
                anyhow!(
                    "--accept {selector:?}: no such element on the start page within {} s",
                    self.page_timeout.as_secs()
                )
            })?;
        element
            .click()
            .map_err(|e| anyhow!("--accept {selector:?}: cannot click it: {e}"))?;
        self.settle(start);
        Ok(())
    }

    /// Waits until `done` holds or the page timeout passes since `start`.
    fn wait(&self, start: Instant, done: impl Fn(&Log) -> bool) -> bool {
        while start.elapsed() < self.page_timeout {
            if done(&self.log.lock().unwrap()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Waits for half a second without network events (timers and late
    /// scripts), at most three seconds and never past the page timeout.
    fn settle(&self, start: Instant) {
        let quiet = Duration::from_millis(500);
        let until = Instant::now() + Duration::from_secs(3);
        loop {
            let last = self.log.lock().unwrap().last_event;
            let now = Instant::now();
            if now >= until || start.elapsed() >= self.page_timeout {
                return;
            }
            if last.is_none_or(|t| now.duration_since(t) >= quiet) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the log and the page say now.
    fn collect(&self) -> Result<Visit, PageError> {
        let facts = self.page_facts()?;
        let log = self.log.lock().unwrap();
        let url_of = |id: &String| {
            log.requests
                .get(id)
                .map(|(u, _)| u.clone())
                .unwrap_or_default()
        };
        let (status, mime) = match &log.document {
            Some((status, mime, _)) => (Some(*status), mime.clone()),
            None => (None, facts.content_type.clone()),
        };
        let mut visit = Visit {
            url: self.tab.get_url(),
            status,
            mime,
            requests: log
                .order
                .iter()
                .filter_map(|id| log.requests.get(id))
                .map(|(url, ty)| Request {
                    url: url.clone(),
                    kind: kind_of(ty.as_ref()),
                })
                .collect(),
            set_cookie: log
                .set_cookie
                .iter()
                .map(|(id, line)| (url_of(id), line.clone()))
                .collect(),
            refused: log
                .refused
                .iter()
                .map(|(id, line, reasons)| RefusedCookie {
                    line: without_value(line),
                    url: url_of(id),
                    reasons: reasons.clone(),
                })
                .collect(),
            links: facts.links,
            storage: Vec::new(),
        };
        drop(log);
        for key in facts.local {
            visit
                .storage
                .push((StorageKind::LocalStorage, facts.origin.clone(), key));
        }
        for key in facts.session {
            visit
                .storage
                .push((StorageKind::SessionStorage, facts.origin.clone(), key));
        }
        // Frames of other origins keep their own storage, out of the
        // page's reach: ask the browser for each.
        let mut frame_origins: Vec<String> = Vec::new();
        for r in &visit.requests {
            if r.kind == RequestKind::Frame
                && let Ok(u) = url::Url::parse(&r.url)
            {
                let origin = u.origin().ascii_serialization();
                if origin != facts.origin && !frame_origins.contains(&origin) {
                    frame_origins.push(origin);
                }
            }
        }
        for origin in frame_origins {
            for (kind, local) in [
                (StorageKind::LocalStorage, true),
                (StorageKind::SessionStorage, false),
            ] {
                for key in self.storage_keys(&origin, local) {
                    visit.storage.push((kind, origin.clone(), key));
                }
            }
        }
        Ok(visit)
    }

    fn page_facts(&self) -> Result<PageFacts, PageError> {
        let value = self
            .tab
            .evaluate(PAGE_FACTS, false)
            .map_err(|e| PageError::Browser(format!("cannot read the page: {e}")))?
            .value;
        let text = value
            .as_ref()
            .and_then(|v| v.as_str())
            .ok_or_else(|| PageError::Browser("the page gave no answer".into()))?;
        serde_json::from_str(text)
            .map_err(|e| PageError::Browser(format!("unexpected answer from the page: {e}")))
    }

    /// Keys of one origin's local or session storage, as the browser keeps
    /// them; none when the browser cannot say.
    fn storage_keys(&self, origin: &str, local: bool) -> Vec<String> {
        let answer = self.tab.call_method(StorageItems {
            storage_id: serde_json::json!({ "securityOrigin": origin, "isLocalStorage": local }),
        });
        let Ok(answer) = answer else {
            return Vec::new();
        };
        answer["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|pair| pair.get(0).and_then(|k| k.as_str()).map(str::to_string))
            .collect()
    }

    /// Every cookie of this tab's browser context.
    pub fn cookies(&self) -> anyhow::Result<Vec<BrowserCookie>> {
        let answer = self
            .tab
            .call_method(AllCookies {})
            .map_err(|e| anyhow!("cannot read the browser's cookies: {e}"))?;
        serde_json::from_value(answer["cookies"].clone())
            .context("unexpected cookie list from the browser")
    }
}

/// A `Set-Cookie` line with its value left out: the report must not carry
/// identifiers.
fn without_value(line: &str) -> String {
    let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
    let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
    if attributes.is_empty() {
        format!("{name}=…")
    } else {
        format!("{name}=…;{attributes}")
    }
}

fn kind_of(ty: Option<&ResourceType>) -> RequestKind {
    match ty {
        Some(ResourceType::Script) => RequestKind::Script,
        Some(ResourceType::Document) => RequestKind::Frame,
        Some(ResourceType::Image) => RequestKind::Image,
        Some(ResourceType::Font) => RequestKind::Font,
        Some(ResourceType::Stylesheet) => RequestKind::Stylesheet,
        Some(ResourceType::Xhr | ResourceType::Fetch | ResourceType::EventSource) => {
            RequestKind::Xhr
        }
        Some(ResourceType::Ping) => RequestKind::Image,
        Some(ResourceType::Media) => RequestKind::Media,
        _ => RequestKind::Other,
    }
}
