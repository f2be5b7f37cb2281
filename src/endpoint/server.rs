//! The HTTP side: accept a post, check it, spool it, answer.
//!
//! tiny_http has no body limit and no timeouts of its own: `guard` bounds
//! connections and their time; the body is read through a capped reader
//! against a deadline; a declared body over the limit is refused before any
//! of it is read.

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::guard;
use super::ratelimit::{Limiter, Rate};
use super::registry::{Registry, SiteEntry};
use super::response::{self, Rejection, Reply};
use super::spool::Committer;
use super::ticket::{self, Ticket};
use super::validate;
use crate::forms::definition::{FormDef, HONEYPOT};
use crate::forms::sign::{self, Claims};
use crate::site::lang::Lang;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Largest accepted body, in bytes.
    pub max_body: usize,
    /// Threads answering requests.
    pub workers: usize,
    pub client_rate: Rate,
    pub site_rate: Rate,
    /// Longest wait for one read or write on a connection, and the most
    /// time a request body may take to arrive.
    pub io_timeout: Duration,
    /// Open connections beyond this are closed, newest first.
    pub max_connections: usize,
    /// Take the client address from `X-Real-IP` / `X-Forwarded-For`; only
    /// behind a proxy that sets them.
    pub trust_proxy: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            max_body: 64 * 1024,
            workers: 4,
            client_rate: Rate {
                burst: 10,
                per_minute: 10,
            },
            site_rate: Rate {
                burst: 300,
                per_minute: 600,
            },
            io_timeout: Duration::from_secs(10),
            max_connections: 256,
            trust_proxy: false,
        }
    }
}

/// Declared bodies above this are never dropped by tiny_http (see `handle`).
const HUGE_BODY: usize = 256 * 1024 * 1024;

/// A form accepted at most this far in the future (clock skew).
const MAX_SKEW_SECS: u64 = 300;

pub struct Handler {
    addr: SocketAddr,
    busy: guard::Busy,
    registry: Registry,
    settings: Settings,
    committer: Committer,
    clients: Limiter<IpAddr>,
    sites: Limiter<String>,
}

/// A running HTTP server; stops (and joins its threads) when dropped.
pub struct Running {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _guard: guard::Guard,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops (for the command line).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

pub fn start(
    registry: Registry,
    settings: Settings,
    committer: Committer,
) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(settings.listen)?;
    let addr = listener.local_addr()?;
    let busy = guard::Busy::default();
    let guard = guard::start(
        addr,
        guard::Limits {
            io_timeout: settings.io_timeout,
            max_age: settings.io_timeout * 3,
            max_connections: settings.max_connections,
        },
        busy.clone(),
    );
    let server = Arc::new(
        tiny_http::Server::from_listener(listener, None).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let handler = Arc::new(Handler {
        addr,
        busy,
        clients: Limiter::new(settings.client_rate),
        sites: Limiter::new(settings.site_rate),
        registry,
        settings: settings.clone(),
        committer,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (0..settings.workers.max(1))
        .map(|i| {
            let server = server.clone();
            let handler = handler.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name(format!("http-{i}"))
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        match server.recv_timeout(Duration::from_millis(200)) {
                            Ok(Some(rq)) => handler.handle(rq),
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                })
                .expect("spawn an HTTP worker")
        })
        .collect();
    Ok(Running {
        addr,
        server,
        stop,
        threads,
        _guard: guard,
    })
}

fn header<'a>(rq: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    rq.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// What the visitor's post said about itself before it was checked.
struct Context<'a> {
    lang: Lang,
    site: Option<&'a SiteEntry>,
    form: Option<&'a FormDef>,
}

impl Handler {
    fn handle(&self, rq: tiny_http::Request) {
        let peer = rq.remote_addr().copied();
        if let Some(p) = peer {
            self.busy
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(p);
        }
        self.answer(rq, peer);
        if let Some(p) = peer {
            self.busy
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&p);
        }
    }

    fn answer(&self, mut rq: tiny_http::Request, peer: Option<SocketAddr>) {
        let declared = rq.body_length().unwrap_or(0);
        let too_large = declared > self.settings.max_body;
        if let (true, Some(peer)) = (too_large, peer) {
            // Before answering: tiny_http drains an unread body when the
            // request is dropped; with reading shut down that ends at once.
            guard::shutdown_peer(self.addr, peer, false);
        }
        let json = header(&rq, "Accept").is_some_and(|a| a.contains("application/json"));
        let reply = match (rq.method(), rq.url()) {
            (tiny_http::Method::Get | tiny_http::Method::Head, "/healthz") => {
                Reply::text(200, "ok\n")
            }
            (tiny_http::Method::Post, _) => self.post(&mut rq, json),
            (_, "/healthz") => Reply::text(405, "method not allowed\n"),
            _ => Reply::text(404, "not found\n"),
        };
        let mut response = tiny_http::Response::from_data(reply.body)
            .with_status_code(tiny_http::StatusCode(reply.status));
        for (k, v) in reply.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                response.add_header(h);
            }
        }
        // One post per connection: a visitor posts once, and a connection
        // that ends with its answer is never cut by the guard mid-request.
        if let Ok(h) = tiny_http::Header::from_bytes(&b"Connection"[..], &b"close"[..]) {
            response.add_header(h);
        }
        if too_large && declared > HUGE_BODY {
            // tiny_http's drain would first allocate the declared size, and
            // an absurd one aborts the process. Answer, then abandon the
            // connection without dropping the request (it leaks a little;
            // the per-client rate limit bounds how often).
            let stream = rq.upgrade("close", response);
            std::mem::forget(stream);
            if let Some(peer) = peer {
                guard::shutdown_peer(self.addr, peer, true);
            }
            return;
        }
        let _ = rq.respond(response);
    }

    fn client_ip(&self, rq: &tiny_http::Request) -> IpAddr {
        if self.settings.trust_proxy {
            let forwarded = header(rq, "X-Real-IP")
                .or_else(|| header(rq, "X-Forwarded-For").and_then(|v| v.rsplit(',').next()));
            if let Some(ip) = forwarded.and_then(|v| v.trim().parse().ok()) {
                return ip;
            }
        }
        rq.remote_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn post(&self, rq: &mut tiny_http::Request, json: bool) -> Reply {
        let mut ctx = Context {
            lang: Lang::En,
            site: None,
            form: None,
        };
        let mut reply = match self.accept(rq, &mut ctx) {
            Ok(reply) => reply(json),
            Err(r) => {
                if let Rejection::Unavailable(e) = &r {
                    eprintln!("portaal endpoint: ERROR could not spool a request: {e}");
                }
                let back = match (ctx.site, ctx.form) {
                    (Some(s), Some(f)) => Some(s.form_url(ctx.lang, f.right)),
                    (Some(s), None) => Some(format!("{}/{}/", s.base_url, ctx.lang)),
                    _ => None,
                };
                response::rejected(&r, ctx.lang, json, back.as_deref())
            }
        };
        // Sites that post with fetch() read the JSON answer cross-origin:
        // allow exactly the portal's own origin, once the post proved it.
        if let (true, Some(site)) = (json, ctx.site) {
            if let Ok(u) = url::Url::parse(&site.base_url) {
                reply.headers.push((
                    "Access-Control-Allow-Origin",
                    u.origin().ascii_serialization(),
                ));
            }
        }
        reply
    }

    /// Checks and spools a post; on success returns how to answer.
    #[allow(clippy::type_complexity)]
    fn accept<'a>(
        &'a self,
        rq: &mut tiny_http::Request,
        ctx: &mut Context<'a>,
    ) -> Result<Box<dyn FnOnce(bool) -> Reply>, Rejection> {
        let now = Instant::now();
        let ip = self.client_ip(rq);
        self.clients.take(&ip, now).map_err(Rejection::TooMany)?;
        let body = self.read_body(rq)?;
        let content_type = header(rq, "Content-Type").unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(Rejection::UnsupportedMediaType);
        }
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            let mut it = pairs.iter().filter(|(k, _)| k == name);
            match (it.next(), it.next()) {
                (Some((_, v)), None) => Some(v.as_str()),
                _ => None,
            }
        };
        if let Some(lang) = get("_lang").and_then(|l| l.parse::<Lang>().ok()) {
            ctx.lang = lang;
        }
        let site_id = get("_site").ok_or(Rejection::Forbidden("no site"))?;
        let site = self
            .registry
            .sites
            .get(site_id)
            .ok_or(Rejection::Forbidden("unknown site"))?;
        let form_id = get("_form").ok_or(Rejection::Forbidden("no form"))?;
        let (form, schema) = site
            .forms
            .get(form_id)
            .ok_or(Rejection::Forbidden("unknown form"))?;
        let lang_code = get("_lang").ok_or(Rejection::Forbidden("no language"))?;
        let lang: Lang = lang_code
            .parse()
            .map_err(|_| Rejection::Forbidden("bad language"))?;
        if !site.languages.contains(&lang) {
            return Err(Rejection::Forbidden("language not of the site"));
        }
        let kid = get("_kid").ok_or(Rejection::Forbidden("no key id"))?;
        let issued: u64 = get("_ts")
            .and_then(|t| t.parse().ok())
            .ok_or(Rejection::Forbidden("bad issue time"))?;
        let sig = get("_sig").ok_or(Rejection::Forbidden("no signature"))?;
        let claims = Claims {
            site: site_id,
            form: form_id,
            lang: lang_code,
            kid,
            issued,
        };
        if !sign::verify(&site.keys, &claims, schema, sig) {
            return Err(Rejection::Forbidden("bad signature"));
        }
        // Only now is the post known to come from one of our pages.
        ctx.site = Some(site);
        ctx.form = Some(form);
        let received = ticket::now_secs();
        if issued > received + MAX_SKEW_SECS {
            return Err(Rejection::Forbidden("issued in the future"));
        }
        if received - issued.min(received) > u64::from(form.max_age_days) * 86_400 {
            return Err(Rejection::Expired);
        }
        self.sites.take(&site.id, now).map_err(Rejection::TooMany)?;
        let reference =
            ticket::new_reference().map_err(|e| Rejection::Unavailable(e.to_string()))?;
        let due = ticket::iso_date(ticket::due_date(received));
        let thanks = site.thanks_url(lang, &reference);
        if get(HONEYPOT).is_some_and(|v| !v.is_empty())
            || pairs.iter().filter(|(k, _)| k == HONEYPOT).count() > 1
        {
            // A bot: answer as if received, keep nothing.
            return Ok(Box::new(move |json| {
                response::received(json, &thanks, &reference, &due)
            }));
        }
        let accepted = validate::check(form, lang, &pairs).map_err(Rejection::Invalid)?;
        let to = site
            .route(form.route)
            .ok_or(Rejection::Unavailable(format!(
                "site {} has no [contacts] address for {:?}",
                site.id, form.route
            )))?;
        let t = Ticket {
            reference: reference.clone(),
            site: site.id.clone(),
            firm: site.firm.clone(),
            form: form.id.clone(),
            right: form.right.slug().to_string(),
            to: to.to_string(),
            language: lang.code().to_string(),
            received,
            due: due.clone(),
            fields: accepted.fields,
            reply_to: accepted.email,
            requester_name: accepted.name,
            acknowledge: site.acknowledge,
        };
        self.committer
            .commit(t)
            .map_err(|e| Rejection::Unavailable(e.to_string()))?;
        Ok(Box::new(move |json| {
            response::received(json, &thanks, &reference, &due)
        }))
    }

    /// The body, at most `max_body` bytes, arriving within the I/O timeout.
    fn read_body(&self, rq: &mut tiny_http::Request) -> Result<Vec<u8>, Rejection> {
        let max = self.settings.max_body;
        if rq.body_length().is_some_and(|n| n > max) {
            return Err(Rejection::TooLarge(max));
        }
        let deadline = Instant::now() + self.settings.io_timeout;
        let mut body = Vec::with_capacity(rq.body_length().unwrap_or(1024).min(max));
        let mut reader = rq.as_reader().take(max as u64 + 1);
        let mut buf = [0u8; 8192];
        loop {
            if Instant::now() > deadline {
                return Err(Rejection::BadRequest("body too slow"));
            }
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Rejection::BadRequest("body unreadable")),
            }
            if body.len() > max {
                return Err(Rejection::TooLarge(max));
            }
        }
        Ok(body)
    }
}
