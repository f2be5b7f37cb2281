//! The preview server's HTTP side: the built files from memory, the reload
//! stream, and the error overlay.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use tiny_http::{Header, Method, Request, Response, StatusCode};

use super::state::{Shared, Snapshot};
use crate::render::html::escape;

pub const EVENTS_PATH: &str = "/_portaal/events";
/// The dev-only page listing the ticket e-mails of the preview's forms.
pub const OUTBOX_PATH: &str = "/_outbox/";
pub const SCRIPT_PATH: &str = "/_portaal/livereload.js";
const SCRIPT: &str = include_str!("livereload.js");
/// Inserted before `</body>` of every HTML page served, and nowhere else.
pub const SCRIPT_TAG: &str = "<script src=\"/_portaal/livereload.js\"></script>";
/// Most tabs an editor has open at once; more are refused, not queued.
const MAX_STREAMS: usize = 64;

pub fn handle(shared: &Arc<Shared>, request: Request) {
    let url = request.url().to_string();
    let path = url.split(['?', '#']).next().unwrap_or("/").to_string();
    let result = match (request.method(), path.as_str()) {
        (Method::Get, EVENTS_PATH) => return stream_events(shared, request),
        (Method::Get | Method::Head, SCRIPT_PATH) => request.respond(
            Response::from_string(SCRIPT)
                .with_header(header("Content-Type", "text/javascript; charset=utf-8")),
        ),
        (Method::Get | Method::Head, OUTBOX_PATH) => {
            let page = shared
                .outbox()
                .map(|dir| super::forms::outbox_page(&dir))
                .unwrap_or_default();
            request.respond(
                Response::from_data(inject(page.as_bytes(), None))
                    .with_header(header("Content-Type", "text/html; charset=utf-8"))
                    .with_header(header("Cache-Control", "no-store")),
            )
        }
        (Method::Get | Method::Head, _) => serve_file(&shared.snapshot(), request, &path),
        _ => request.respond(Response::from_string("method not allowed").with_status_code(405)),
    };
    if let Err(e) = result {
        // A browser that went away mid-response is not the editor's problem.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("warning: preview server: {e}");
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Maps a URL path to a file of the build: `/nl/` → `nl/index.html`.
/// Refuses anything that could name a file outside the build.
pub fn resolve(path: &str) -> Option<String> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let rel = decoded.strip_prefix('/')?;
    let bad = |seg: &str| seg == ".." || seg == "." || seg.contains('\\') || seg.contains('\0');
    if rel.split('/').any(bad) || rel.contains("//") {
        return None;
    }
    Some(if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.to_string()
    })
}

fn serve_file(snapshot: &Snapshot, request: Request, path: &str) -> std::io::Result<()> {
    let Some(rel) = resolve(path) else {
        return request.respond(Response::from_string("bad path").with_status_code(400));
    };
    let (status, rel) = if snapshot.files.contains_key(&rel) {
        (200, rel)
    } else if snapshot.files.contains_key(&format!("{rel}/index.html")) {
        // `/nl/privacy` → `/nl/privacy/`, as a static host would.
        return request.respond(
            Response::empty(StatusCode(301)).with_header(header("Location", &format!("{path}/"))),
        );
    } else {
        (404, "404.html".to_string())
    };
    let Some(bytes) = snapshot.files.get(&rel) else {
        return request
            .respond(Response::from_string(overlay_page(snapshot)).with_status_code(404));
    };
    let mime = mime_guess::from_path(&rel).first_or_octet_stream();
    let is_html = mime.essence_str() == "text/html";
    let body = if is_html {
        inject(bytes, snapshot.errors.as_deref())
    } else {
        bytes.to_vec()
    };
    let content_type = if mime.type_() == "text" || is_html {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    };
    request.respond(
        Response::from_data(body)
            .with_status_code(status)
            .with_header(header("Content-Type", &content_type))
            .with_header(header("Cache-Control", "no-store")),
    )
}

/// Adds the reload script, and the error overlay when the last rebuild
/// failed, just before `</body>`.
pub fn inject(html: &[u8], errors: Option<&str>) -> Vec<u8> {
    let text = String::from_utf8_lossy(html);
    let mut extra = String::new();
    if let Some(errors) = errors {
        extra.push_str(&overlay(errors));
    }
    extra.push_str(SCRIPT_TAG);
    match text.rfind("</body>") {
        Some(i) => format!("{}{extra}{}", &text[..i], &text[i..]).into_bytes(),
        None => format!("{text}{extra}").into_bytes(),
    }
}

fn overlay(errors: &str) -> String {
    format!(
        "<div id=\"portaal-error-overlay\" role=\"alert\" style=\"position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,20,20,.94);color:#fff;padding:2rem;font:16px/1.5 ui-monospace,monospace\">\
<h2 style=\"color:#ff8a80;margin-top:0\">portaal: the last rebuild failed</h2>\
<p>Fix the file and save; this page reloads by itself. Until then you see the last good build below.</p>\
<pre style=\"white-space:pre-wrap\">{}</pre></div>",
        escape(errors)
    )
}

/// Shown when there is not even a 404 page: the first build failed.
fn overlay_page(snapshot: &Snapshot) -> String {
    let body = match &snapshot.errors {
        Some(e) => overlay(e),
        None => "<p>Not found.</p>".to_string(),
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>portaal serve</title></head><body>{body}{SCRIPT_TAG}</body></html>"
    )
}

/// Server-Sent Events: one `reload` or `stylesheet` event per rebuild. Each
/// open tab holds a thread; a comment every few seconds notices tabs that
/// were closed.
fn stream_events(shared: &Arc<Shared>, request: Request) {
    if shared.listener_count() >= MAX_STREAMS {
        let _ = request.respond(Response::from_string("too many open tabs").with_status_code(503));
        return;
    }
    let notices = shared.subscribe();
    let mut out = request.into_writer();
    std::thread::spawn(move || {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nretry: 300\n: connected\n\n";
        if out
            .write_all(head.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return;
        }
        loop {
            let message = match notices.recv_timeout(Duration::from_secs(5)) {
                Ok(notice) => format!(
                    "event: {}\ndata: {}\n\n",
                    notice.event_name(),
                    notice.event_name()
                ),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => ": ping\n\n".to_string(),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            };
            if out
                .write_all(message.as_bytes())
                .and_then(|_| out.flush())
                .is_err()
            {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_pretty_urls_and_refuses_escapes() {
        assert_eq!(resolve("/").as_deref(), Some("index.html"));
        assert_eq!(resolve("/nl/").as_deref(), Some("nl/index.html"));
        assert_eq!(resolve("/style.css").as_deref(), Some("style.css"));
        assert_eq!(
            resolve("/nl/caf%C3%A9/").as_deref(),
            Some("nl/café/index.html")
        );
        for bad in [
            "/../etc/passwd",
            "/nl/../../x",
            "/%2e%2e/x",
            "/a/%2E%2E/b",
            "/a%5c..%5cb",
            "/a//b",
            "nl/",
            "/a/%00",
        ] {
            assert_eq!(resolve(bad), None, "{bad}");
        }
    }

    #[test]
    fn injects_before_body_end() {
        let html = b"<html><body><p>x</p></body></html>";
        let out = String::from_utf8(inject(html, None)).unwrap();
        assert_eq!(
            out,
            format!("<html><body><p>x</p>{SCRIPT_TAG}</body></html>")
        );
        let out = String::from_utf8(inject(html, Some("portal.toml:1:1: <bad>"))).unwrap();
        assert!(out.contains("portaal-error-overlay") && out.contains("&lt;bad&gt;"));
    }
}
