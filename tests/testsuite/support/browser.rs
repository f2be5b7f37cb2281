//! Headless Chromium (Debian's `chromium`) driven over the DevTools protocol.

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};

/// Starts Chromium with the team's flags and a fresh profile directory.
/// The profile is removed when the returned guard drops.
pub fn start() -> (Browser, tempfile::TempDir) {
    let profile = tempfile::tempdir().unwrap();
    let flags: Vec<&OsStr> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some("/usr/bin/chromium".into()))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(profile.path().to_path_buf()))
        .disable_default_args(true)
        .args(flags)
        .idle_browser_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let browser = Browser::new(options).expect("chromium starts (apt-get install chromium)");
    (browser, profile)
}

/// Polls `check` on the tab until it returns true or `limit` passes.
pub fn wait_until(tab: &Tab, limit: Duration, what: &str, mut check: impl FnMut(&Tab) -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check(tab) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// The page's text, as JavaScript sees it.
pub fn body_text(tab: &Tab) -> String {
    tab.evaluate("document.body ? document.body.innerText : ''", false)
        .ok()
        .and_then(|r| r.value)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
