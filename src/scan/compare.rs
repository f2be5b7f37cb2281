//! Holds what a scan saw against what the portal declares: every cookie and
//! storage key must have a `[[cookies]]` entry with the right lifetime, no
//! cookie that needs consent may appear before it, and every third party
//! the site contacts must be among the recipients.
//!
//! `portaal scan SITE_DIR` and `portaal check --scan REPORT.json` both use
//! it, so a saved report can be checked again after portal.toml changes.

use std::path::Path;

use anyhow::Context as _;
use jiff::Timestamp;

use super::lifetime;
use super::observe::{Finding, Level, Party, Phase, Report, SetBy};
use crate::check::cookie_db::CookieDb;
use crate::check::cookies::declaration;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::site::Site;
use crate::site::config::CookieCategory;
use crate::vocab::text::Text;

/// A day, the tolerance for lifetimes: expiry dates are often computed
/// from the visit's own clock.
const DAY: i64 = 24 * 60 * 60;

/// Chromium keeps no cookie longer than 400 days, whatever the site asks
/// (the limit of RFC 6265bis), so a `2y` cookie is seen as `1y35d`.
const CAP: i64 = 400 * DAY;

/// Every difference between `report` and the declarations of `site`, as
/// of `now` (declared months and years are measured from then).
pub fn compare(
    report: &Report,
    site: &Site,
    db: Option<&CookieDb>,
    now: Timestamp,
) -> Vec<Finding> {
    let cookies = &site.config.cookies;
    let mut out = Vec::new();
    for c in &report.cookies {
        let party = match c.party {
            Party::First => "first-party",
            Party::Third => "third-party",
        };
        let how = match &c.set_by {
            SetBy::Header { url } => format!("a Set-Cookie header of {url}"),
            SetBy::Script => "a script".to_string(),
        };
        let Some(d) = declaration(cookies, &c.name) else {
            out.push(Finding {
                code: Code::P052,
                severity: Level::Error,
                subject: c.name.clone(),
                message: format!(
                    "the site sets the {party} cookie `{}` ({}, {}) by {how} on {}, but the cookie overview does not declare it",
                    c.name, c.domain, c.duration, c.page
                ),
                fix: format!(
                    "add a [[cookies]] entry with `name = \"{}\"` (`portaal scan --write` drafts one)",
                    c.name
                ),
            });
            if c.phase == Phase::BeforeConsent
                && let Some(category) = db.and_then(|db| db_category(db, &c.name))
                && needs_consent(category)
            {
                out.push(before_consent(
                    &c.name,
                    "cookie",
                    category,
                    &c.page,
                    "the Open Cookie Database lists it as",
                ));
            }
            continue;
        };
        if c.phase == Phase::BeforeConsent && needs_consent(d.category) {
            out.push(before_consent(
                &c.name,
                "cookie",
                d.category,
                &c.page,
                "it is declared as",
            ));
        }
        // A tracking pixel may be declared without a lifetime.
        let Some(declared_duration) = d.duration.as_ref().map(|d| d.get_ref()) else {
            continue;
        };
        let declared = lifetime::seconds(declared_duration, now);
        let differs = match (c.seconds, declared) {
            (None, None) => false,
            (Some(seen), Some(declared)) => {
                let seen = seen as i64;
                // The browser cut a longer lifetime to its cap: the site
                // asked for at least that much, which is what is declared.
                let capped = (seen - CAP).abs() <= DAY && declared >= CAP - DAY;
                (seen - declared).abs() > DAY && !capped
            }
            _ => true,
        };
        if differs {
            out.push(Finding {
                code: Code::P054,
                severity: Level::Warning,
                subject: c.name.clone(),
                message: format!(
                    "cookie `{}` lasts {} on the site (seen on {}), but is declared with `duration = \"{}\"`",
                    c.name,
                    c.duration,
                    c.page,
                    declared_duration
                ),
                fix: format!(
                    "correct its duration to `{}`, or have the site set the declared lifetime",
                    c.duration
                ),
            });
        }
    }
    for s in &report.storage {
        let what = s.kind.label();
        match declaration(cookies, &s.key) {
            None => out.push(Finding {
                code: Code::P052,
                severity: Level::Error,
                subject: s.key.clone(),
                message: format!(
                    "the site stores the {what} `{}` ({}) on {}, but the cookie overview does not declare it",
                    s.key, s.origin, s.page
                ),
                fix: format!(
                    "add a [[cookies]] entry with `name = \"{}\"`; the overview lists storage keys as cookies",
                    s.key
                ),
            }),
            Some(d) if s.phase == Phase::BeforeConsent && needs_consent(d.category) => {
                out.push(before_consent(&s.key, what, d.category, &s.page, "it is declared as"));
            }
            Some(_) => {}
        }
    }
    for d in cookies {
        // An entry by category names no cookie a scan could look for.
        let Some(name) = d.name.as_ref().map(|n| n.get_ref()) else {
            continue;
        };
        let matches = |seen: &str| seen == name || (d.prefix && seen.starts_with(name.as_str()));
        let seen = report.cookies.iter().any(|c| matches(&c.name))
            || report.storage.iter().any(|s| matches(&s.key));
        if !seen {
            out.push(Finding {
                code: Code::P053,
                severity: Level::Warning,
                subject: name.clone(),
                message: format!(
                    "the declared cookie `{name}` was not seen on the {} pages scanned",
                    report.pages.len()
                ),
                fix: "it may be set only after login, a form or consent; if the site no longer sets it, remove the entry".into(),
            });
        }
    }
    for h in &report.third_parties {
        if host_accounted_for(h.host.as_str(), h.provider.as_deref(), site) {
            continue;
        }
        let kinds: Vec<&str> = h.kinds.iter().map(|k| k.label()).collect();
        let who = h
            .provider
            .as_ref()
            .map_or(h.host.clone(), |p| format!("{p} ({})", h.host));
        out.push(Finding {
            code: Code::P056,
            severity: Level::Warning,
            subject: h.host.clone(),
            message: format!(
                "the site loads {} from {who} on {}{}: every visitor's IP address goes there, and it is not among the recipients",
                kinds.join(", "),
                h.page,
                if h.phase == Phase::AfterConsent { " after consent" } else { "" }
            ),
            fix: format!(
                "declare it in [[recipients]] (a name or category that mentions {}; [[transfers]] too if outside the EEA), or host the file on the site itself",
                h.provider.as_deref().unwrap_or(h.host.as_str())
            ),
        });
    }
    out
}

fn before_consent(
    name: &str,
    what: &str,
    category: CookieCategory,
    page: &str,
    why: &str,
) -> Finding {
    Finding {
        code: Code::P055,
        severity: Level::Error,
        subject: name.to_string(),
        message: format!(
            "the {what} `{name}` is set on {page} before the visitor consents, but {why} {}, which needs consent",
            category.key()
        ),
        fix: "load the script or embed that sets it only after consent (through the consent banner), or correct its category if it is in fact strictly necessary".into(),
    }
}

fn needs_consent(category: CookieCategory) -> bool {
    matches!(
        category,
        CookieCategory::Analytics | CookieCategory::Marketing | CookieCategory::SocialMedia
    )
}

/// The Open Cookie Database's category for `name`, in portaal's terms.
fn db_category(db: &CookieDb, name: &str) -> Option<CookieCategory> {
    let e = db.find(name)?;
    match e.category.trim().to_lowercase().as_str() {
        "analytics" => Some(CookieCategory::Analytics),
        "marketing" => Some(CookieCategory::Marketing),
        _ => None,
    }
}

/// Every wording of a text, lower-cased.
fn wordings(t: &Text) -> Vec<String> {
    match t {
        Text::Same(s) => vec![s.to_lowercase()],
        Text::PerLang(m) => m.values().map(|s| s.to_lowercase()).collect(),
    }
}

/// Whether the portal names the third party behind `host`: a known
/// provider by a distinct part of its name (as `check` does), an unknown
/// host by the host itself or its main label (`trackly` of
/// `cdn.trackly.io`), in a recipient's id, name or category or in a
/// cookie's provider.
fn host_accounted_for(host: &str, provider: Option<&str>, site: &Site) -> bool {
    let mut names: Vec<String> = Vec::new();
    for r in &site.config.recipients {
        names.push(r.id.get_ref().to_lowercase());
        names.extend(r.all_names().iter().map(|n| n.to_lowercase()));
    }
    for c in &site.config.cookies {
        names.extend(wordings(c.provider.get_ref()));
    }
    let needles: Vec<String> = match provider {
        Some(known) => known
            .split([' ', '(', ')'])
            .filter(|w| w.len() > 3)
            .map(str::to_lowercase)
            .collect(),
        None => {
            let host = host.to_lowercase();
            let labels: Vec<&str> = host.split('.').collect();
            let main = if labels.len() >= 2 && host.parse::<std::net::IpAddr>().is_err() {
                labels[labels.len() - 2].to_string()
            } else {
                host.clone()
            };
            let mut needles = vec![host.clone()];
            if main.len() >= 4 {
                needles.push(main);
            }
            needles
        }
    };
    names
        .iter()
        .any(|n| needles.iter().any(|needle| n.contains(needle.as_str())))
}

/// `portaal check --scan REPORT.json`: the observations of a saved report,
/// compared with the portal in `dir` as it is now, as check findings
/// located in the report file.
pub fn saved_report_findings(report_path: &Path, dir: &Path) -> anyhow::Result<Diagnostics> {
    let text = std::fs::read_to_string(report_path)
        .with_context(|| format!("--scan: cannot read {}", report_path.display()))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "--scan {}: not a report of `portaal scan --format json` (line {}, column {}: {e})",
            report_path.display(),
            e.line(),
            e.column()
        )
    })?;
    if report.format != super::observe::FORMAT {
        anyhow::bail!(
            "--scan {}: report format {} is not {}; scan again with this portaal",
            report_path.display(),
            report.format,
            super::observe::FORMAT
        );
    }
    let mut diags = Diagnostics::default();
    // A portal that does not load has its own findings from check.
    let Ok(site) = Site::load(dir) else {
        return Ok(diags);
    };
    // check shows files relative to the site directory: the report too,
    // when it is inside; else by its full path.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let full = absolute(report_path);
    let shown = match full.strip_prefix(absolute(dir)) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => full.clone(),
    };
    for f in compare(&report, &site, None, Timestamp::now()) {
        let d = match f.severity {
            Level::Error => Diagnostic::error(&shown, f.message),
            Level::Warning => Diagnostic::warning(&shown, f.message),
        };
        diags.push(d.with_code(f.code).with_fix(f.fix));
    }
    Ok(diags)
}
