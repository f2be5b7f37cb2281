//! Which pages to visit: the start URL, then the site's own links and its
//! `sitemap.xml` entries, breadth-first, as far as robots.txt allows.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use anyhow::{Context as _, bail};
use url::Url;

/// The token robots.txt rules are matched against (`User-agent: portaal`),
/// besides the rules for every crawler (`User-agent: *`).
pub const ROBOTS_AGENT: &str = "portaal";

/// How many sitemaps (an index and the sitemaps it lists) are read at most.
const MAX_SITEMAPS: usize = 5;

/// The scanned site: its host, without a leading `www.`. Requests to it or
/// its subdomains, and cookies for it or a parent domain, are first party.
#[derive(Debug, Clone)]
pub struct Scope {
    pub host: String,
}

impl Scope {
    pub fn of(start: &Url) -> Scope {
        let host = start.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
        Scope { host }
    }

    /// Whether a request to `host` stays with the site.
    pub fn owns_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        host == self.host || host.ends_with(&format!(".{}", self.host))
    }

    /// Whether a cookie for `domain` (as the browser stores it, maybe with
    /// a leading dot) belongs to the site: its host, a subdomain, or a
    /// parent domain of the site (`.firm.nl` for `www.firm.nl`).
    pub fn owns_cookie_domain(&self, domain: &str) -> bool {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        self.owns_host(&domain) || self.host.ends_with(&format!(".{domain}"))
    }
}

/// The start URL as typed, checked: http or https only.
pub fn start_url(text: &str) -> anyhow::Result<Url> {
    let with_scheme = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).with_context(|| {
        format!("{text:?} is not a URL; give the site's address, e.g. https://www.firm.nl/")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("{text:?} is not a web address; give an http:// or https:// URL");
    }
    Ok(url)
}

/// Fetches robots.txt and sitemaps: plain HTTP, the scan's user agent.
pub struct Fetcher {
    agent: ureq::Agent,
}

impl Fetcher {
    pub fn new(user_agent: &str, timeout: Duration) -> Fetcher {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .user_agent(user_agent)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Fetcher { agent }
    }

    /// The body of `url` when it answers 200; `None` for any other status.
    /// An error when the server cannot be reached at all.
    fn get(&self, url: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .with_context(|| format!("GET {url}"))?;
        if response.status() != 200 {
            return Ok(None);
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(10 * 1024 * 1024)
            .read_to_vec()
            .with_context(|| format!("reading {url}"))?;
        Ok(Some(body))
    }
}

/// The site's robots.txt rules for portaal, and the sitemaps it names.
pub struct Robots {
    robot: Option<texting_robots::Robot>,
}

impl Robots {
    /// Reads `/robots.txt` of the start URL's origin. No file (or an
    /// unreadable one) allows everything, as for any crawler.
    pub fn fetch(fetcher: &Fetcher, start: &Url) -> Robots {
        let url = format!("{}/robots.txt", start.origin().ascii_serialization());
        let robot = fetcher
            .get(&url)
            .ok()
            .flatten()
            .and_then(|body| texting_robots::Robot::new(ROBOTS_AGENT, &body).ok());
        Robots { robot }
    }

    /// No rules: `--ignore-robots`.
    pub fn none() -> Robots {
        Robots { robot: None }
    }

    pub fn allows(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    fn sitemaps(&self) -> Vec<String> {
        self.robot
            .as_ref()
            .map(|r| r.sitemaps.clone())
            .unwrap_or_default()
    }
}

/// Page URLs listed in the site's sitemaps: those robots.txt names, else
/// `/sitemap.xml`; a sitemap index is followed one level.
pub fn sitemap_pages(fetcher: &Fetcher, start: &Url, robots: &Robots) -> Vec<String> {
    let mut queue: VecDeque<String> = robots.sitemaps().into();
    if queue.is_empty() {
        queue.push_back(format!(
            "{}/sitemap.xml",
            start.origin().ascii_serialization()
        ));
    }
    let mut pages = Vec::new();
    let mut read = 0;
    while let Some(url) = queue.pop_front() {
        if read == MAX_SITEMAPS {
            break;
        }
        read += 1;
        let Ok(Some(body)) = fetcher.get(&url) else {
            continue;
        };
        let Ok(text) = String::from_utf8(body) else {
            continue;
        };
        let Ok(doc) = roxmltree::Document::parse(&text) else {
            continue;
        };
        let index = doc.root_element().has_tag_name("sitemapindex");
        for loc in doc.descendants().filter(|n| n.has_tag_name("loc")) {
            let Some(target) = loc.text().map(str::trim) else {
                continue;
            };
            if index {
                queue.push_back(target.to_string());
            } else {
                pages.push(target.to_string());
            }
        }
    }
    pages
}

/// The pages still to visit, breadth-first, each once.
pub struct Frontier {
    queue: VecDeque<Url>,
    seen: HashSet<String>,
    scope: Scope,
}

/// Files a browser would download rather than show.
const NOT_PAGES: &[&str] = &[
    "pdf", "zip", "jpg", "jpeg", "png", "gif", "webp", "svg", "mp3", "mp4", "webm", "doc", "docx",
    "xls", "xlsx", "ppt", "pptx", "ics", "vcf", "xml", "json", "txt", "csv",
];

impl Frontier {
    pub fn new(start: Url, scope: Scope) -> Frontier {
        let mut frontier = Frontier {
            queue: VecDeque::new(),
            seen: HashSet::new(),
            scope,
        };
        // The start page is visited whatever it looks like: if it is not
        // a page, the scan says so.
        let mut start = start;
        start.set_fragment(None);
        frontier.seen.insert(start.as_str().to_string());
        frontier.queue.push_back(start);
        frontier
    }

    /// Queues `link` if it is a page of the site not yet queued.
    pub fn offer(&mut self, link: &str) {
        let Ok(mut url) = Url::parse(link) else {
            return;
        };
        if !matches!(url.scheme(), "http" | "https")
            || !url.host_str().is_some_and(|h| self.scope.owns_host(h))
        {
            return;
        }
        url.set_fragment(None);
        let ext = url
            .path()
            .rsplit('/')
            .next()
            .and_then(|last| last.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase());
        if ext.is_some_and(|e| NOT_PAGES.contains(&e.as_str())) {
            return;
        }
        if self.seen.insert(url.as_str().to_string()) {
            self.queue.push_back(url);
        }
    }

    /// Marks a URL the browser was redirected to as visited.
    pub fn visited(&mut self, url: &str) {
        if let Ok(mut url) = Url::parse(url) {
            url.set_fragment(None);
            self.seen.insert(url.as_str().to_string());
        }
    }

    pub fn next_page(&mut self) -> Option<Url> {
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_party_is_the_site_and_its_parent_domain() {
        let scope = Scope::of(&Url::parse("https://www.firm.nl/").unwrap());
        assert!(scope.owns_host("firm.nl"));
        assert!(scope.owns_host("cdn.firm.nl"));
        assert!(!scope.owns_host("notfirm.nl"));
        assert!(scope.owns_cookie_domain(".firm.nl"));
        assert!(scope.owns_cookie_domain("www.firm.nl"));
        assert!(!scope.owns_cookie_domain(".google.com"));
    }

    #[test]
    fn frontier_keeps_the_site_pages_once() {
        let start = Url::parse("http://127.0.0.1:8000/").unwrap();
        let mut f = Frontier::new(start.clone(), Scope::of(&start));
        f.offer("http://127.0.0.1:8000/#top");
        f.offer("http://127.0.0.1:8000/about");
        f.offer("http://127.0.0.1:8000/about#team");
        f.offer("http://localhost:8000/other");
        f.offer("mailto:info@firm.nl");
        f.offer("http://127.0.0.1:8000/brochure.pdf");
        let order: Vec<String> = std::iter::from_fn(|| f.next_page())
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            order,
            ["http://127.0.0.1:8000/", "http://127.0.0.1:8000/about"]
        );
    }

    #[test]
    fn start_url_needs_a_web_address() {
        assert_eq!(
            start_url("www.firm.nl").unwrap().as_str(),
            "https://www.firm.nl/"
        );
        assert!(start_url("ftp://firm.nl/").is_err());
        assert!(start_url("http://").is_err());
    }
}
