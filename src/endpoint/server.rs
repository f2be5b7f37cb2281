//! The HTTP side: accept connections, read each post within its limits,
//! hand it to `post`, answer.
//!
//! hyper (on tokio) speaks HTTP; this module owns every limit: the head
//! must arrive within `io_timeout` (hyper's header timeout), the body
//! within `io_timeout` after it and never more than `max_body` bytes (a
//! larger declared length is refused before any of it is read, and nothing
//! is allocated from it), and `conns` bounds the open connections and their
//! time. tiny_http, used before, could not: it drains an unread body into a
//! buffer of the declared size, has no timeouts, and its accept loop ends on
//! the first accept error (README, "Slow and hostile clients").

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::conns::{Phase, Slot, Table};
use super::post::{self, Handler, Outcome};
use super::ratelimit::Rate;
use super::registry::Registry;
use super::response::{self, Rejection, Reply};
use super::spool::Committer;
use crate::vocab::lang::Lang;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Largest accepted body, in bytes.
    pub max_body: usize,
    /// Threads checking and storing posts at once. Each waits for its
    /// post's flush to disk, so more threads mean more posts per flush.
    pub workers: usize,
    pub client_rate: Rate,
    pub site_rate: Rate,
    /// The most time a request's head may take to arrive, then its body,
    /// then the writing of its answer.
    pub io_timeout: Duration,
    /// Open connections at most; at the limit, the oldest one still waiting
    /// for its request is closed to make room.
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

/// The request head's limit (hyper's read buffer; larger heads get 431).
const MAX_HEAD: usize = 16 * 1024;

/// After its answer, a connection waits at most this long (and reads at
/// most `LINGER_BYTES`) for the client to close, so a client still sending
/// a refused body reads the answer instead of a reset.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: u64 = 1 << 20;

/// After an accept error for lack of file descriptors or memory, wait this
/// long before accepting again (the kernel queues new connections).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

struct Shared {
    handler: Handler,
    settings: Settings,
    table: Arc<Table>,
}

/// A running HTTP server; stops (and joins its threads) when dropped.
pub struct Running {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops. It only stops by itself when it can
    /// no longer accept connections: then this is an error, so the process
    /// exits non-zero and its supervisor restarts it.
    pub fn wait(mut self) -> anyhow::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!(
                "the endpoint stopped accepting connections ({e}); exiting so that it is restarted"
            )),
            Err(_) => Err(anyhow::anyhow!(
                "the endpoint's HTTP server panicked; exiting so that it is restarted"
            )),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start(
    registry: Registry,
    settings: Settings,
    committer: Committer,
) -> anyhow::Result<Running> {
    let listener = std::net::TcpListener::bind(settings.listen)
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(settings.workers.max(1))
        .thread_keep_alive(Duration::from_secs(2))
        .thread_name("http")
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the HTTP runtime")?;
    let shared = Arc::new(Shared {
        handler: Handler::new(
            registry,
            committer,
            settings.client_rate,
            settings.site_rate,
        ),
        table: Table::new(settings.max_connections),
        settings,
    });
    let (stop, stopped) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("http-accept".into())
        .spawn(move || {
            let result = runtime.block_on(async move {
                let listener = TcpListener::from_std(listener)?;
                accept_loop(listener, shared, stopped).await
            });
            if let Err(e) = &result {
                log::error!("stopped accepting connections: {e}");
            }
            runtime.shutdown_timeout(Duration::from_secs(5));
            result
        })
        .context("cannot start the HTTP thread")?;
    Ok(Running {
        addr,
        stop,
        thread: Some(thread),
    })
}

/// Accepts until stopped. Running out of file descriptors or memory, or a
/// client that left before its connection was accepted, only pauses it;
/// any other accept error ends it (and with it the process, see `wait`).
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut warned: Option<tokio::time::Instant> = None;
    let mut warn = |what: &str| {
        let now = tokio::time::Instant::now();
        if warned.is_none_or(|t| now.duration_since(t) > Duration::from_secs(10)) {
            warned = Some(now);
            log::warn!("{what}");
        }
    };
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return Ok(()),
        };
        match accepted {
            Ok((stream, peer)) => match shared.table.admit() {
                Some(slot) => {
                    tokio::spawn(connection(stream, peer, slot, shared.clone()));
                }
                None => warn("every connection is storing a post; new connections are refused"),
            },
            Err(e) if out_of_resources(&e) => {
                warn(&format!("cannot accept connections for now: {e}"));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
            Err(e) if client_gone(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

fn client_gone(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) || matches!(e.raw_os_error(), Some(libc::EPROTO | libc::EPERM))
}

/// One connection, one request (no keep-alive: a visitor posts once).
async fn connection(stream: TcpStream, peer: SocketAddr, slot: Slot, shared: Arc<Shared>) {
    let io_timeout = shared.settings.io_timeout;
    let slot = Arc::new(slot);
    let service = {
        let slot = slot.clone();
        let shared = shared.clone();
        hyper::service::service_fn(move |rq| {
            let slot = slot.clone();
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(respond(rq, peer, &slot, shared).await) }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(io_timeout)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(stream), service)
        .without_shutdown();
    // The head and then the body each have `io_timeout`; this is the
    // backstop for both, and bounds the writing of the answer.
    let must_close = slot.must_close(io_timeout * 2, io_timeout);
    tokio::pin!(must_close);
    let parts = tokio::select! {
        r = conn => r.ok(),
        _ = &mut must_close => None,
    };
    let Some(parts) = parts else {
        return;
    };
    if !slot.advance_any(Phase::Lingering) {
        return;
    }
    let mut stream = parts.io.into_inner();
    let linger = async {
        let _ = stream.shutdown().await;
        let mut rest = (&mut stream).take(LINGER_BYTES);
        let _ = tokio::io::copy(&mut rest, &mut tokio::io::sink()).await;
    };
    tokio::select! {
        _ = tokio::time::timeout(LINGER.min(io_timeout), linger) => {}
        _ = &mut must_close => {}
    }
}

async fn respond(
    rq: Request<Incoming>,
    peer: SocketAddr,
    slot: &Slot,
    shared: Arc<Shared>,
) -> Response<Full<Bytes>> {
    let reply = match (rq.method(), rq.uri().path()) {
        (&Method::GET | &Method::HEAD, "/healthz") => Reply::text(200, "ok\n"),
        (&Method::GET | &Method::HEAD, path) if path.ends_with("/thanks") => {
            let accept = header(rq.headers(), "accept-language");
            super::thanks::page(
                shared.handler.registry(),
                path,
                rq.uri().query().unwrap_or_default(),
                accept,
            )
        }
        (&Method::POST, _) => post(rq, peer, slot, shared).await,
        (_, "/healthz") => Reply::text(405, "method not allowed\n"),
        _ => Reply::text(404, "not found\n"),
    };
    slot.writing();
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            response.headers_mut().append(k, v);
        }
    }
    response
}

/// Reads a post's body within its limits, then checks and stores it on a
/// worker thread.
async fn post(rq: Request<Incoming>, peer: SocketAddr, slot: &Slot, shared: Arc<Shared>) -> Reply {
    let settings = &shared.settings;
    let headers = rq.headers();
    let json = header(headers, "accept").is_some_and(|a| a.contains("application/json"));
    let client = client_ip(headers, peer, settings.trust_proxy);
    let content_type = header(headers, "content-type")
        .unwrap_or_default()
        .to_string();
    let accept_language = header(headers, "accept-language").map(str::to_string);
    let path = rq.uri().path().to_string();
    // Before the body is read, the site is not known: a neutral page in the
    // browser's language.
    let lang = accept_language
        .as_deref()
        .and_then(|a| super::thanks::negotiate(a, &Lang::ALL))
        .unwrap_or(Lang::En);
    let refuse = |r: Rejection| {
        log::info!("{}", Outcome::rejected(&r).line());
        if json {
            return response::rejected_json(&r, lang);
        }
        let page = response::PageContext {
            lang,
            site: None,
            back: None,
        };
        response::refused_page(&r, &page, None)
    };
    if let Err(r) = shared.handler.admit(client) {
        return refuse(r);
    }
    let max = settings.max_body;
    let body = rq.into_body();
    if body.size_hint().lower() > max as u64 {
        // Refused before reading any of it; the connection is closed after
        // the answer instead of reading the rest.
        return refuse(Rejection::TooLarge(max));
    }
    let read = tokio::time::timeout(settings.io_timeout, Limited::new(body, max).collect()).await;
    let body = match read {
        Err(_) => return refuse(Rejection::Timeout),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return refuse(Rejection::TooLarge(max)),
        Ok(Err(_)) => return refuse(Rejection::BadRequest("body unreadable")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if !slot.advance(Phase::Reading, Phase::Answering) {
        // Told to close meanwhile: nothing was stored, nobody will read this.
        return refuse(Rejection::Timeout);
    }
    let checked = tokio::task::spawn_blocking(move || {
        let incoming = post::Incoming {
            client,
            content_type: &content_type,
            json,
            body: &body,
            path: &path,
            accept_language: accept_language.as_deref(),
        };
        shared.handler.post(&incoming)
    })
    .await;
    match checked {
        Ok((reply, outcome)) => {
            log::info!("{}", outcome.line());
            reply
        }
        Err(_) => refuse(Rejection::Unavailable("checking the post failed".into())),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn client_ip(headers: &HeaderMap, peer: SocketAddr, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        let forwarded = header(headers, "x-real-ip")
            .or_else(|| header(headers, "x-forwarded-for").and_then(|v| v.rsplit(',').next()));
        if let Some(ip) = forwarded.and_then(|v| v.trim().parse().ok()) {
            return ip;
        }
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::spool::Spool;

    /// Issue 8, item 10: an accept error that is not a passing shortage
    /// ends the accept loop with that error (so `wait` fails and the
    /// process exits for its supervisor to restart it) instead of leaving a
    /// process that runs but accepts nothing.
    #[test]
    fn accept_loop_ends_with_an_accept_error() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = Spool::open(tmp.path()).unwrap();
        let settings = Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Settings::default()
        };
        let shared = Arc::new(Shared {
            handler: Handler::new(
                Registry::default(),
                Committer::start(spool, Arc::new(|| {})),
                settings.client_rate,
                settings.site_rate,
            ),
            table: Table::new(4),
            settings,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (_stop, stopped) = watch::channel(false);
        let result = runtime.block_on(async {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            std_listener.set_nonblocking(true).unwrap();
            // The same socket, to shut down while the loop owns the listener.
            let same = std_listener.try_clone().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            let addr = listener.local_addr().unwrap();
            // A connection is served first.
            let served = tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
                let mut reply = String::new();
                s.read_to_string(&mut reply).await.unwrap();
                reply
            });
            let running = accept_loop(listener, shared, stopped);
            tokio::pin!(running);
            let reply = tokio::select! {
                r = served => r.unwrap(),
                _ = &mut running => panic!("the loop ended early"),
            };
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
            // A listening socket shut down for reading fails every accept
            // (EINVAL): not something waiting helps with.
            socket2::SockRef::from(&same)
                .shutdown(std::net::Shutdown::Read)
                .unwrap();
            tokio::time::timeout(Duration::from_secs(5), running).await
        });
        let err = result.expect("the loop ended").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
    }
}
