//! `portaal scan`: visit the firm's real website in a headless Chromium and
//! record what an anonymous visitor's browser is given: cookies, storage
//! keys and the third parties it contacts, before and after consent.
//!
//! `crawl` picks the pages, `browser` loads them, this module turns each
//! load into observations (`observe`), `compare` holds them against the
//! portal's declarations, `report` prints them and `write` drafts the
//! missing `[[cookies]]` entries.

pub mod browser;
pub mod compare;
pub mod crawl;
pub mod lifetime;
pub mod observe;
pub mod report;
pub mod write;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use url::Url;

use browser::{BrowserCookie, Session, Visit, Visitor};
use crawl::{Fetcher, Frontier, Robots, Scope};
use observe::{Page, Party, Phase, Report, SeenCookie, SeenHost, SeenStorage, SetBy};

/// How to scan.
#[derive(Debug, Clone)]
pub struct Options {
    pub start: Url,
    /// At most this many pages are visited.
    pub pages: usize,
    pub page_timeout: Duration,
    /// The whole crawl stops after this long, with what it has.
    pub total: Duration,
    pub browser: PathBuf,
    pub user_agent: Option<String>,
    pub ignore_robots: bool,
    /// The consent banner's accept button (a CSS selector).
    pub accept: Option<String>,
}

/// Crawls the site and records what it sets and loads. `progress` is told
/// each page as it is visited. An error when the start page cannot be
/// scanned at all; later pages that fail are listed in the report.
pub fn scan(options: &Options, mut progress: impl FnMut(&str)) -> anyhow::Result<Report> {
    let began = Instant::now();
    let session = Session::launch(
        &options.browser,
        options.user_agent.as_deref(),
        options.page_timeout,
    )?;
    let scope = Scope::of(&options.start);
    let fetcher = Fetcher::new(session.user_agent(), options.page_timeout);
    let robots = (!options.ignore_robots).then(|| Robots::fetch(&fetcher, &options.start));
    if let Some(robots) = &robots
        && !robots.allows(&options.start)
    {
        bail!(
            "{}: the site's robots.txt does not allow crawlers here (user agent `{}` or `*`); scan with --ignore-robots if the site is your client's and they agree",
            options.start,
            crawl::ROBOTS_AGENT
        );
    }
    let sitemap = match &robots {
        Some(r) => crawl::sitemap_pages(&fetcher, &options.start, r),
        None => crawl::sitemap_pages(&fetcher, &options.start, &Robots::none()),
    };

    let mut rec = Recorder::new(scope.clone(), Phase::BeforeConsent);
    let mut report = Report {
        format: observe::FORMAT,
        start_url: options.start.to_string(),
        site: scope.host.clone(),
        user_agent: session.user_agent().to_string(),
        ..Report::default()
    };
    let visitor = session.visitor()?;
    let mut frontier = Frontier::new(options.start.clone(), scope.clone());
    let mut visited = 0;
    while visited < options.pages {
        let Some(url) = frontier.next_page() else {
            break;
        };
        // The start page is always visited: a scan without it says nothing.
        if visited > 0 && began.elapsed() >= options.total {
            report.stopped = Some(format!(
                "the total time limit (--max-time {}) was reached; pages visited: {visited} of at most {}",
                options.total.as_secs(),
                options.pages
            ));
            break;
        }
        if robots.as_ref().is_some_and(|r| !r.allows(&url)) {
            report.pages.push(Page {
                url: url.to_string(),
                status: None,
                error: Some("robots.txt does not allow it; not visited".into()),
            });
            continue;
        }
        progress(url.as_str());
        let first = visited == 0;
        visited += 1;
        let visit = match visitor.visit(url.as_str()) {
            Ok(v) => v,
            Err(e) if first => bail!("the start page {url}: {e}"),
            Err(e) => {
                report.pages.push(Page {
                    url: url.to_string(),
                    status: None,
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        let html = visit.mime.eq_ignore_ascii_case("text/html")
            || visit.mime.eq_ignore_ascii_case("application/xhtml+xml");
        if first && !html {
            bail!(
                "the start page {url} is {}, not an HTML page; give the address of one of the site's web pages",
                if visit.mime.is_empty() {
                    "of no known type"
                } else {
                    &visit.mime
                }
            );
        }
        if first && let Some(status) = visit.status.filter(|s| *s >= 400) {
            bail!(
                "the start page {url} answered HTTP {status}; give the address of a page that exists"
            );
        }
        frontier.visited(&visit.url);
        report.pages.push(Page {
            url: url.to_string(),
            status: visit.status,
            error: (!html).then(|| format!("not an HTML page ({})", visit.mime)),
        });
        rec.record(&visitor, url.as_str(), &visit, &mut report)?;
        if html {
            for link in &visit.links {
                frontier.offer(link);
            }
        }
        if first {
            for page in &sitemap {
                frontier.offer(page);
            }
        }
    }

    if let Some(selector) = &options.accept {
        progress(&format!("{} (clicking {selector:?})", options.start));
        consent(&session, options, selector, &scope, &mut report)?;
    }
    // Ends the browser, then deletes the profile.
    drop(session);
    Ok(report)
}

/// A second, fresh visitor opens the start page, clicks the accept button
/// and opens the start page again: what appears only then is recorded as
/// after consent.
fn consent(
    session: &Session,
    options: &Options,
    selector: &str,
    scope: &Scope,
    report: &mut Report,
) -> anyhow::Result<()> {
    let visitor = session.new_visitor()?;
    let start = options.start.as_str();
    let before = visitor
        .visit(start)
        .map_err(|e| anyhow::anyhow!("the start page {start}, for --accept: {e}"))?;
    // What the fresh visitor has before clicking is not consent's doing.
    let mut baseline = Report::default();
    let mut rec = Recorder::new(scope.clone(), Phase::BeforeConsent);
    rec.record(&visitor, start, &before, &mut baseline)?;

    visitor.click(selector)?;
    let mut rec = Recorder {
        phase: Phase::AfterConsent,
        ..rec
    };
    let mut after = baseline.clone();
    let clicked = Visit {
        url: start.to_string(),
        ..Visit::default()
    };
    rec.record(&visitor, start, &clicked, &mut after)?;
    let again = visitor
        .visit(start)
        .map_err(|e| anyhow::anyhow!("the start page {start}, after consent: {e}"))?;
    rec.record(&visitor, start, &again, &mut after)?;

    let new_cookies: Vec<SeenCookie> = after
        .cookies
        .into_iter()
        .filter(|c| c.phase == Phase::AfterConsent)
        .filter(|c| !report.cookies.iter().any(|o| same_cookie(o, c)))
        .collect();
    report.cookies.extend(new_cookies);
    let new_storage: Vec<SeenStorage> = after
        .storage
        .into_iter()
        .filter(|s| s.phase == Phase::AfterConsent)
        .filter(|s| {
            !report
                .storage
                .iter()
                .any(|o| o.kind == s.kind && o.origin == s.origin && o.key == s.key)
        })
        .collect();
    report.storage.extend(new_storage);
    let new_hosts: Vec<SeenHost> = after
        .third_parties
        .into_iter()
        .filter(|h| h.phase == Phase::AfterConsent)
        .filter(|h| !report.third_parties.iter().any(|o| o.host == h.host))
        .collect();
    report.third_parties.extend(new_hosts);
    report.refused_cookies.extend(after.refused_cookies);
    Ok(())
}

fn same_cookie(a: &SeenCookie, b: &SeenCookie) -> bool {
    a.name == b.name && a.domain == b.domain && a.path == b.path
}

/// Turns page loads into observations, each recorded once, on the page
/// where it first appeared.
struct Recorder {
    scope: Scope,
    phase: Phase,
    /// Every `Set-Cookie` line stored so far, with its response's URL.
    set_cookie: Vec<(String, String)>,
}

impl Recorder {
    fn new(scope: Scope, phase: Phase) -> Recorder {
        Recorder {
            scope,
            phase,
            set_cookie: Vec::new(),
        }
    }

    fn record(
        &mut self,
        visitor: &Visitor,
        page: &str,
        visit: &Visit,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        self.set_cookie.extend(visit.set_cookie.iter().cloned());
        report.refused_cookies.extend(visit.refused.iter().cloned());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        for c in visitor.cookies()? {
            let seen = self.cookie(&c, now, page);
            if !report.cookies.iter().any(|o| same_cookie(o, &seen)) {
                report.cookies.push(seen);
            }
        }
        for (kind, origin, key) in &visit.storage {
            let known = report
                .storage
                .iter()
                .any(|o| o.kind == *kind && &o.origin == origin && &o.key == key);
            if !known {
                let host = Url::parse(origin)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default();
                report.storage.push(SeenStorage {
                    kind: *kind,
                    origin: origin.clone(),
                    key: key.clone(),
                    party: self.party(self.scope.owns_host(&host)),
                    phase: self.phase,
                    page: page.to_string(),
                });
            }
        }
        for r in &visit.requests {
            let Ok(url) = Url::parse(&r.url) else {
                continue;
            };
            let Some(host) = url.host_str() else { continue };
            if !matches!(url.scheme(), "http" | "https" | "ws" | "wss")
                || self.scope.owns_host(host)
            {
                continue;
            }
            match report.third_parties.iter_mut().find(|h| h.host == host) {
                Some(h) => {
                    if h.phase == self.phase && !h.kinds.contains(&r.kind) {
                        h.kinds.push(r.kind);
                        h.kinds.sort();
                    }
                }
                None => report.third_parties.push(SeenHost {
                    host: host.to_string(),
                    kinds: vec![r.kind],
                    example: without_query(&url),
                    provider: crate::check::cookies::provider_of(url.as_str())
                        .map(|p| p.name.to_string()),
                    phase: self.phase,
                    page: page.to_string(),
                }),
            }
        }
        Ok(())
    }

    fn party(&self, own: bool) -> Party {
        if own { Party::First } else { Party::Third }
    }

    fn cookie(&self, c: &BrowserCookie, now: f64, page: &str) -> SeenCookie {
        let seconds = (!c.session && c.expires > 0.0).then(|| (c.expires - now).max(0.0) as u64);
        SeenCookie {
            name: c.name.clone(),
            domain: c.domain.clone(),
            path: c.path.clone(),
            duration: seconds.map_or_else(|| "session".to_string(), lifetime::notation),
            seconds,
            http_only: c.http_only,
            secure: c.secure,
            same_site: c.same_site.clone(),
            party: self.party(self.scope.owns_cookie_domain(&c.domain)),
            set_by: self.set_by(c),
            phase: self.phase,
            page: page.to_string(),
        }
    }

    /// The response whose `Set-Cookie` stored `c`, the latest if several;
    /// none means a script set it.
    fn set_by(&self, c: &BrowserCookie) -> SetBy {
        let domain = c.domain.trim_start_matches('.');
        self.set_cookie
            .iter()
            .rev()
            .find(|(url, line)| {
                let (name, attr_domain) = cookie_line(line);
                if name != c.name {
                    return false;
                }
                match attr_domain {
                    Some(d) => d.trim_start_matches('.').eq_ignore_ascii_case(domain),
                    None => Url::parse(url)
                        .ok()
                        .and_then(|u| u.host_str().map(|h| h.eq_ignore_ascii_case(domain)))
                        .unwrap_or(false),
                }
            })
            .map_or(SetBy::Script, |(url, _)| SetBy::Header { url: url.clone() })
    }
}

/// The name and `Domain` attribute of a `Set-Cookie` line.
fn cookie_line(line: &str) -> (&str, Option<&str>) {
    let mut parts = line.split(';');
    let name = parts
        .next()
        .and_then(|p| p.split_once('=').map(|(n, _)| n))
        .unwrap_or_default()
        .trim();
    let domain = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("domain").then(|| v.trim())
    });
    (name, domain)
}

/// A URL without its query and fragment: enough to recognise the
/// resource, without the identifiers trackers put in queries.
fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_and_domain_of_a_set_cookie_line() {
        assert_eq!(
            cookie_line("sid=abc; Path=/; Domain=.firm.nl; HttpOnly"),
            ("sid", Some(".firm.nl"))
        );
        assert_eq!(cookie_line("a=b=c"), ("a", None));
    }
}
