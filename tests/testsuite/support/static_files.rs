//! Serves a built `public/` folder on loopback, as a web host would, for
//! browser tests. Stops when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct StaticServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(root: PathBuf) -> StaticServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let addr = server.server_addr().to_ip().expect("an IP address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                let Ok(Some(rq)) = server.recv_timeout(Duration::from_millis(100)) else {
                    continue;
                };
                let path = rq.url().split(['?', '#']).next().unwrap_or("/").to_string();
                let mut file = root.clone();
                for seg in path.split('/').filter(|s| !s.is_empty() && *s != "..") {
                    file.push(seg);
                }
                if file.is_dir() {
                    file.push("index.html");
                }
                let response = match std::fs::read(&file) {
                    Ok(bytes) => {
                        let mime = match file.extension().and_then(|e| e.to_str()) {
                            Some("html") => "text/html; charset=utf-8",
                            Some("css") => "text/css",
                            _ => "application/octet-stream",
                        };
                        tiny_http::Response::from_data(bytes).with_header(
                            tiny_http::Header::from_bytes(&b"Content-Type"[..], mime.as_bytes())
                                .unwrap(),
                        )
                    }
                    Err(_) => {
                        tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                    }
                };
                let _ = rq.respond(response);
            }
        });
        StaticServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
