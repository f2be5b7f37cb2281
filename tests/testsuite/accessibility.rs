//! What a visitor meets, checked in a real browser: axe-core's WCAG 2.1 A/AA
//! and best-practice rules on every page of the example portal at a desktop
//! and a phone width, a visible focus on every form control, no control
//! announced invalid before the visitor typed anything, and the W3C Nu HTML
//! Checker over every built page.
//!
//! axe-core and the checker come from the npm registry; `scripts/test`
//! installs them into `target/test-tools/` (see `support::tools`).

use std::path::Path;

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Emulation;

use crate::support::static_files::StaticServer;
use crate::support::{Portal, browser, tools};

/// The example portal, built with a fixed key, served on loopback.
pub(crate) fn served_example() -> (Portal, StaticServer, Vec<String>) {
    let portal = Portal::example();
    portal.build_with_fixed_key();
    let pages: Vec<String> = portal
        .files("public")
        .into_iter()
        .filter(|f| f.ends_with(".html"))
        .collect();
    let server = StaticServer::start(portal.path().join("public"));
    (portal, server, pages)
}

pub(crate) fn set_width(tab: &Tab, width: u32) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height: 900,
        device_scale_factor: 1.0,
        mobile: width < 600,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
}

pub(crate) fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url).unwrap();
    tab.wait_until_navigated().unwrap();
}

/// Evaluates JavaScript that returns a string (awaiting a promise).
pub(crate) fn eval_string(tab: &Tab, js: &str) -> String {
    let value = tab.evaluate(js, true).unwrap().value;
    match value {
        Some(serde_json::Value::String(s)) => s,
        other => panic!("expected a string from {js:.60}…, got {other:?}"),
    }
}

/// axe-core's violations on the open page, one line per rule and element.
pub(crate) fn axe_violations(tab: &Tab, axe_source: &str) -> Vec<String> {
    tab.evaluate(axe_source, false).unwrap();
    let json = eval_string(
        tab,
        "axe.run(document, { runOnly: { type: 'tag', values: \
         ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, \
         resultTypes: ['violations'] })\
         .then(r => JSON.stringify(r.violations.map(v => ({ id: v.id, \
         targets: v.nodes.map(n => n.target.join(' ')) }))))",
    );
    let violations: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    violations
        .iter()
        .map(|v| format!("{} at {}", v["id"], v["targets"]))
        .collect()
}

#[test]
fn every_example_page_passes_axe_at_desktop_and_phone_width() {
    let axe = std::fs::read_to_string(tools::axe_core()).unwrap();
    let (_portal, server, pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    let mut problems = Vec::new();
    for width in [1280, 375] {
        set_width(&tab, width);
        for page in &pages {
            let path = page.trim_end_matches("index.html");
            open(&tab, &format!("{}/{path}", server.url()));
            for v in axe_violations(&tab, &axe) {
                problems.push(format!("{width}px /{path}: {v}"));
            }
        }
    }
    assert!(pages.len() >= 50, "{pages:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The relative luminance of an `rgb(…)`/`rgba(…)` colour (WCAG 2.1).
fn luminance(css: &str) -> Option<f64> {
    let inner = css.split_once('(')?.1.trim_end_matches(')');
    let parts: Vec<f64> = inner
        .split([',', ' ', '/'])
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    if parts.len() < 3 || parts.get(3) == Some(&0.0) {
        return None;
    }
    let lin = |c: f64| {
        let c = c / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    Some(0.2126 * lin(parts[0]) + 0.7152 * lin(parts[1]) + 0.0722 * lin(parts[2]))
}

fn contrast(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// Every colour named in a computed `outline-color` or `box-shadow`.
fn colours(css: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = css;
    while let Some(start) = rest.find("rgb") {
        let tail = &rest[start..];
        let Some(end) = tail.find(')') else { break };
        found.push(tail[..=end].to_string());
        rest = &tail[end + 1..];
    }
    found
}

#[test]
fn tabbing_through_a_form_shows_focus_on_every_control() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    for width in [1280, 375] {
        set_width(&tab, width);
        open(&tab, &format!("{}/nl/portability/", server.url()));
        // Start just before the form, then press Tab through it.
        tab.evaluate(
            "document.querySelector('form.request-form').previousElementSibling\
             .setAttribute('tabindex', '-1'); \
             document.querySelector('form.request-form').previousElementSibling.focus(); 'ok'",
            false,
        )
        .unwrap();
        let mut seen = 0;
        for _ in 0..40 {
            tab.press_key("Tab").unwrap();
            let json = eval_string(
                &tab,
                "(async () => { const e = document.activeElement; \
                 const s = getComputedStyle(e); \
                 return JSON.stringify({ inForm: !!e.closest('form.request-form'), \
                 tag: e.tagName, id: e.id, outlineStyle: s.outlineStyle, \
                 outlineWidth: parseFloat(s.outlineWidth), outlineColor: s.outlineColor, \
                 shadow: s.boxShadow }); })()",
            );
            let focus: serde_json::Value = serde_json::from_str(&json).unwrap();
            if focus["inForm"] != true {
                if seen > 0 {
                    break;
                }
                continue;
            }
            seen += 1;
            let mut indicator = colours(focus["shadow"].as_str().unwrap_or(""));
            if focus["outlineStyle"] != "none" && focus["outlineWidth"].as_f64() >= Some(2.0) {
                indicator.extend(colours(focus["outlineColor"].as_str().unwrap_or("")));
            }
            let white = 1.0;
            let best = indicator
                .iter()
                .filter_map(|c| luminance(c))
                .map(|l| contrast(l, white))
                .fold(0.0, f64::max);
            assert!(
                best >= 3.0,
                "{width}px: focus on {} #{} has no indicator of 3:1 against the page ({focus})",
                focus["tag"],
                focus["id"]
            );
        }
        assert!(
            seen >= 5,
            "{width}px: only {seen} form controls reached by Tab"
        );
    }
}

/// `Accessibility.getFullAXTree` with the answer kept as JSON: the typed
/// protocol structs reject properties newer than the crate.
#[derive(Debug, serde::Serialize)]
pub(crate) struct FullAxTree {}

impl headless_chrome::protocol::cdp::types::Method for FullAxTree {
    const NAME: &'static str = "Accessibility.getFullAXTree";
    type ReturnObject = serde_json::Value;
}

#[test]
fn no_form_control_is_announced_invalid_before_typing() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    let mut choices = 0;
    let mut invalid = Vec::new();
    for page in ["en/access/", "nl/objection/", "fr/portability/"] {
        open(&tab, &format!("{}/{page}", server.url()));
        let tree = tab.call_method(FullAxTree {}).unwrap();
        for node in tree["nodes"].as_array().unwrap() {
            if node["role"]["value"] == "radio" || node["role"]["value"] == "checkbox" {
                choices += 1;
            }
            let announced_invalid = node["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "invalid" && p["value"]["value"] != "false");
            if announced_invalid {
                invalid.push(format!("/{page}: {}", node["name"]["value"]));
            }
        }
    }
    assert!(choices >= 3, "the forms have their required choices");
    assert!(invalid.is_empty(), "announced invalid on load: {invalid:?}");
}

/// The W3C Nu HTML Checker over every built page: no errors.
pub(crate) fn assert_valid_html(dir: &Path) {
    let out = std::process::Command::new("java")
        .arg("-jar")
        .arg(tools::vnu_jar())
        .args(["--errors-only", "--skip-non-html"])
        .arg(dir)
        .output()
        .expect("java runs (scripts/test installs default-jre-headless)");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "Nu HTML Checker errors:\n{report}"
    );
}

#[test]
fn every_example_page_is_valid_html() {
    let (portal, _server, _pages) = served_example();
    assert_valid_html(&portal.path().join("public"));
}

/// Issue 11, item 3 and its tests: every page the endpoint answers with
/// (the form again, each refusal, the thank-you page), saved as a visitor
/// gets it, passes axe at both widths and the Nu HTML Checker.
#[test]
fn the_endpoints_pages_pass_axe_and_the_html_checker() {
    use crate::endpoint::{LivePortal, Post};
    use crate::support::http;
    let axe = std::fs::read_to_string(tools::axe_core()).unwrap();
    let live = LivePortal::start();
    let addr = live.endpoint.addr();
    let site = live.site.clone();
    let mut pages: Vec<(&str, http::Reply)> = Vec::new();
    let post = |pairs: &[(String, String)]| http::post_form(addr, pairs, false);

    let invalid = Post::new("access", "en").without("acting_for").pairs(&site);
    pages.push(("422", post(&invalid)));
    let mut tampered = Post::new("access", "nl").pairs(&site);
    tampered.iter_mut().find(|(k, _)| k == "_sig").unwrap().1 = "00".into();
    pages.push(("403", post(&tampered)));
    let mut stranger = Post::new("access", "fr");
    stranger.site_id = "other".into();
    pages.push(("403-unknown-site", post(&stranger.pairs(&site))));
    let mut old = Post::new("access", "de");
    old.issued -= 200 * 86_400;
    pages.push(("410", post(&old.pairs(&site))));
    let big = Post::new("access", "en")
        .field("details", &"x".repeat(100_000))
        .pairs(&site);
    pages.push(("413", post(&big)));
    let body = b"_site=acme";
    let plain = http::request(
        addr,
        "POST",
        "/submit",
        &[("Content-Type", "text/plain")],
        body,
    );
    pages.push(("415", plain));
    let good = post(&Post::new("access", "en").pairs(&site));
    assert_eq!(good.status, 303, "{good:?}");
    let thanks = http::request(addr, "GET", good.header("Location").unwrap(), &[], b"");
    pages.push(("thanks", thanks));
    // The client's rate (10 a minute by default) runs out within 12 posts.
    let too_many = (0..12)
        .map(|_| post(&invalid))
        .find(|r| r.status == 429)
        .expect("a 429 within 12 posts");
    pages.push(("429", too_many));

    let dir = tempfile::tempdir().unwrap();
    for (name, reply) in &pages {
        let expected: u16 = match *name {
            "thanks" => 200,
            n => n[..3].parse().unwrap(),
        };
        assert_eq!(reply.status, expected, "{name}: {reply:?}");
        let html = reply.header("Content-Type").unwrap_or_default();
        assert!(html.starts_with("text/html"), "{name}: {html}");
        std::fs::write(dir.path().join(format!("{name}.html")), &reply.body).unwrap();
    }
    assert_valid_html(dir.path());

    let saved = StaticServer::start(dir.path().to_path_buf());
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    let mut problems = Vec::new();
    for width in [1280, 375] {
        set_width(&tab, width);
        for (name, _) in &pages {
            open(&tab, &format!("{}/{name}.html", saved.url()));
            for v in axe_violations(&tab, &axe) {
                problems.push(format!("{width}px {name}: {v}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A focused link in the dark header turns yellow; its text must turn dark
/// with it (it once stayed white: 1.35:1).
#[test]
fn focused_header_links_keep_readable_text() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    open(&tab, &format!("{}/nl/access/", server.url()));
    let mut checked = 0;
    for _ in 0..12 {
        tab.press_key("Tab").unwrap();
        let json = eval_string(
            &tab,
            "(async () => { const e = document.activeElement; const s = getComputedStyle(e); \
             return JSON.stringify({ header: !!e.closest('.site-header'), text: e.textContent.trim(), \
             color: s.color, background: s.backgroundColor }); })()",
        );
        let focus: serde_json::Value = serde_json::from_str(&json).unwrap();
        if focus["header"] != true {
            continue;
        }
        checked += 1;
        let text = luminance(focus["color"].as_str().unwrap()).unwrap();
        let background = luminance(focus["background"].as_str().unwrap())
            .expect("a focused header link has its own background");
        let ratio = contrast(text, background);
        assert!(
            ratio >= 4.5,
            "focused {} reads at {ratio:.2}:1 ({focus})",
            focus["text"]
        );
    }
    assert!(checked >= 3, "only {checked} header links reached by Tab");
}
