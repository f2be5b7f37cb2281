//! What a scan saw, as data: the JSON report (`--format json`) that
//! `portaal check --scan` reads back. Field names are part of the interface
//! (README, "Scanning the firm's website"): add fields, never rename them.

use serde::{Deserialize, Serialize};

/// The version of the JSON layout; `check --scan` refuses other versions.
pub const FORMAT: u32 = 1;

/// Everything one run of `portaal scan` saw, and what it found wrong.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub format: u32,
    /// The URL the crawl started at.
    pub start_url: String,
    /// The host whose cookies and requests count as first party.
    pub site: String,
    pub user_agent: String,
    /// Every page the crawl tried, in the order it tried them.
    pub pages: Vec<Page>,
    /// Why the crawl stopped before it ran out of links, if it did.
    pub stopped: Option<String>,
    pub cookies: Vec<SeenCookie>,
    pub storage: Vec<SeenStorage>,
    pub third_parties: Vec<SeenHost>,
    /// Cookies that a response tried to set but the browser refused (for
    /// example a cross-site cookie without `SameSite=None; Secure`).
    pub refused_cookies: Vec<RefusedCookie>,
    /// The comparison with the portal, when a site directory was given.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub url: String,
    /// The HTTP status of the page itself, when a response came.
    pub status: Option<u16>,
    /// What went wrong, when the page could not be scanned.
    pub error: Option<String>,
}

/// Before the visitor clicked the consent button, or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    BeforeConsent,
    AfterConsent,
}

/// Relative to the scanned site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    First,
    Third,
}

/// How a cookie came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum SetBy {
    /// A `Set-Cookie` header in the response for `url`.
    Header { url: String },
    /// No response header set it: a script did (`document.cookie`).
    Script,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeenCookie {
    pub name: String,
    /// As the browser stores it: a leading dot means subdomains too.
    pub domain: String,
    pub path: String,
    /// Time left when the scan saw it, in portaal's notation (`1y`, `30m`,
    /// `session`).
    pub duration: String,
    /// Seconds left when the scan saw it; `None` for a session cookie.
    pub seconds: Option<u64>,
    pub http_only: bool,
    pub secure: bool,
    /// `Strict`, `Lax` or `None`; absent when the cookie does not say.
    pub same_site: Option<String>,
    pub party: Party,
    pub set_by: SetBy,
    pub phase: Phase,
    /// The page on which the scan first saw it.
    pub page: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    LocalStorage,
    SessionStorage,
}

impl StorageKind {
    pub fn label(self) -> &'static str {
        match self {
            StorageKind::LocalStorage => "localStorage key",
            StorageKind::SessionStorage => "sessionStorage key",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeenStorage {
    pub kind: StorageKind,
    /// The origin whose storage holds the key (`http://127.0.0.1:8080`).
    pub origin: String,
    pub key: String,
    pub party: Party,
    pub phase: Phase,
    pub page: String,
}

/// What the browser fetched from a third-party host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Script,
    Frame,
    Image,
    Font,
    Stylesheet,
    Xhr,
    Media,
    Other,
}

impl RequestKind {
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Script => "script",
            RequestKind::Frame => "frame",
            RequestKind::Image => "image/pixel",
            RequestKind::Font => "font",
            RequestKind::Stylesheet => "stylesheet",
            RequestKind::Xhr => "xhr",
            RequestKind::Media => "media",
            RequestKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeenHost {
    pub host: String,
    /// What was fetched from it, each kind once, sorted.
    pub kinds: Vec<RequestKind>,
    /// One URL fetched from it, as an example.
    pub example: String,
    /// The known provider this host belongs to (the table `check` uses).
    pub provider: Option<String>,
    pub phase: Phase,
    pub page: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefusedCookie {
    /// The `Set-Cookie` header line, value included.
    pub line: String,
    pub url: String,
    /// Chromium's reasons, e.g. `SameSiteUnspecifiedTreatedAsLax`.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
}

/// One difference between what the site does and what the portal says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// A `portaal check` code (P052-P056).
    pub code: crate::diagnostics::Code,
    pub severity: Level,
    /// What it is about: a cookie's name, a storage key or a host.
    pub subject: String,
    pub message: String,
    pub fix: String,
}
