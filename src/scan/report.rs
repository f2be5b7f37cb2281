//! Prints a scan: grouped text for people, or the JSON report (the layout
//! of [`super::observe::Report`]) for CI and `check --scan`.

use std::fmt::Write as _;

use super::observe::{Level, Party, Phase, Report, SetBy};

pub fn json(report: &Report) -> String {
    // The report holds only strings, numbers and lists: it always serialises.
    serde_json::to_string_pretty(report).expect("a scan report serialises") + "\n"
}

/// The report for people: pages, then cookies, storage and third parties
/// before and after consent, then the findings, if the portal was given.
pub fn text(report: &Report, compared: bool) -> String {
    let mut s = String::new();
    let failed = report.pages.iter().filter(|p| p.error.is_some()).count();
    let _ = writeln!(
        s,
        "Scanned {} (site {}): {} pages{}",
        report.start_url,
        report.site,
        report.pages.len(),
        if failed > 0 {
            format!(", {failed} not scanned")
        } else {
            String::new()
        }
    );
    if let Some(why) = &report.stopped {
        let _ = writeln!(s, "  stopped early: {why}");
    }
    for p in &report.pages {
        let status = p.status.map_or("---".to_string(), |c| c.to_string());
        match &p.error {
            Some(e) => {
                let _ = writeln!(s, "  {status} {}  ({e})", p.url);
            }
            None => {
                let _ = writeln!(s, "  {status} {}", p.url);
            }
        }
    }
    for (phase, title) in [
        (Phase::BeforeConsent, "before consent"),
        (Phase::AfterConsent, "after consent"),
    ] {
        let cookies: Vec<_> = report.cookies.iter().filter(|c| c.phase == phase).collect();
        let storage: Vec<_> = report.storage.iter().filter(|c| c.phase == phase).collect();
        let hosts: Vec<_> = report
            .third_parties
            .iter()
            .filter(|c| c.phase == phase)
            .collect();
        if phase == Phase::AfterConsent
            && cookies.is_empty()
            && storage.is_empty()
            && hosts.is_empty()
        {
            continue;
        }
        let _ = writeln!(s, "\nCookies {title} ({}):", cookies.len());
        for c in cookies {
            let mut flags = Vec::new();
            if c.http_only {
                flags.push("HttpOnly".to_string());
            }
            if c.secure {
                flags.push("Secure".to_string());
            }
            if let Some(ss) = &c.same_site {
                flags.push(format!("SameSite={ss}"));
            }
            let by = match &c.set_by {
                SetBy::Header { url } => format!("Set-Cookie of {url}"),
                SetBy::Script => "script".to_string(),
            };
            let _ = writeln!(
                s,
                "  {}  {}{}  {}  {}  {}\n    set by {by}; first seen on {}",
                c.name,
                c.domain,
                c.path,
                party(c.party),
                c.duration,
                if flags.is_empty() {
                    "-".to_string()
                } else {
                    flags.join(" ")
                },
                c.page
            );
        }
        if !storage.is_empty() {
            let _ = writeln!(s, "\nStorage {title} ({}):", storage.len());
            for st in storage {
                let _ = writeln!(
                    s,
                    "  {} `{}`  {}  {}  on {}",
                    st.kind.label(),
                    st.key,
                    st.origin,
                    party(st.party),
                    st.page
                );
            }
        }
        let _ = writeln!(s, "\nThird-party hosts {title} ({}):", hosts.len());
        for h in hosts {
            let kinds: Vec<&str> = h.kinds.iter().map(|k| k.label()).collect();
            let _ = writeln!(
                s,
                "  {}  {}{}  e.g. {}  on {}",
                h.host,
                kinds.join(", "),
                h.provider
                    .as_ref()
                    .map_or(String::new(), |p| format!("  ({p})")),
                h.example,
                h.page
            );
        }
    }
    if !report.refused_cookies.is_empty() {
        let _ = writeln!(s, "\nCookies the browser refused to store:");
        for r in &report.refused_cookies {
            let _ = writeln!(
                s,
                "  {}  from {}  ({})",
                r.line,
                r.url,
                r.reasons.join(", ")
            );
        }
    }
    if compared {
        let errors = count(report, Level::Error);
        let warnings = count(report, Level::Warning);
        let _ = writeln!(s, "\nCompared with portal.toml:");
        if report.findings.is_empty() {
            let _ = writeln!(
                s,
                "  everything seen is declared, and nothing needing consent comes before it"
            );
        }
        for f in &report.findings {
            let level = match f.severity {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            let _ = writeln!(
                s,
                "  {level}[{}]: {}\n    fix: {}",
                f.code, f.message, f.fix
            );
        }
        let _ = writeln!(s, "\n{errors} errors, {warnings} warnings");
    }
    s
}

pub fn count(report: &Report, level: Level) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.severity == level)
        .count()
}

fn party(p: Party) -> &'static str {
    match p {
        Party::First => "first party",
        Party::Third => "third party",
    }
}
