//! The README's nginx configuration, run by a real nginx on loopback in
//! front of a real `portaal endpoint`.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::endpoint::{Post, Process, reference_of};
use crate::support::http::{self, Reply};
use crate::support::{free_port, repo_root, wait_for};

/// The ```nginx block under "Behind nginx" in README.md.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("#### Behind nginx")
        .nth(1)
        .expect("README has a section \"Behind nginx\"");
    let block = section
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the section has an nginx block");
    block.to_string()
}

/// The README's block for loopback: plain HTTP on `port` instead of TLS on
/// 443, proxying to `upstream`. Every other line is kept as written.
fn loopback_config(block: &str, port: u16, upstream: SocketAddr) -> String {
    let mut out = String::new();
    let (mut listen, mut proxied) = (false, 0);
    for line in block.lines() {
        let t = line.trim();
        if t.starts_with("ssl_certificate") {
            continue;
        }
        if t.starts_with("listen 443") {
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
            listen = true;
            continue;
        }
        proxied += line.matches("http://127.0.0.1:8787").count();
        out.push_str(&line.replace("127.0.0.1:8787", &upstream.to_string()));
        out.push('\n');
    }
    assert!(listen, "no `listen 443` line in the README's block");
    assert_eq!(proxied, 2, "the README's block proxies /healthz and /");
    out
}

fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// nginx in the foreground, one process, every path in a temp dir; killed
/// on drop.
struct Nginx {
    dir: tempfile::TempDir,
    child: std::process::Child,
    addr: SocketAddr,
}

impl Nginx {
    fn start(binary: &Path, server: &str, port: u16) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // One process (no master): killing it stops nginx, and as root it
        // keeps root's access to the temp dir instead of switching user.
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             access_log off;\n\
             client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             {server}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = std::process::Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            dir,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        wait_for("nginx to listen", Duration::from_secs(10), || {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            TcpStream::connect(nginx.addr).ok()
        });
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to `to` from the loopback address `from` (all of 127/8 is
/// loopback on Linux), so nginx sees a client of that address.
fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(from, 0).into()).unwrap();
    socket.connect(&to.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

fn post_from(from: IpAddr, to: SocketAddr, pairs: &[(String, String)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter())
        .finish();
    let mut s = connect_from(from, to);
    write!(
        s,
        "POST /submit HTTP/1.1\r\nHost: forms.agency.test\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    http::read_reply(&mut s)
}

fn ip(a: u8, b: u8, c: u8) -> IpAddr {
    IpAddr::from([127, a, b, c])
}

#[test]
fn readme_nginx_config_in_front_of_the_endpoint() {
    let Some(binary) = nginx_binary() else {
        eprintln!(
            "SKIPPED readme_nginx_config_in_front_of_the_endpoint: no nginx binary \
             (scripts/test installs Debian's nginx)"
        );
        return;
    };
    // One post a minute per client address, taken from nginx's X-Real-IP.
    let endpoint = Process::start(&["--trust-proxy", "--client-rate", "1"]);
    let port = free_port();
    let server = loopback_config(&readme_block(), port, endpoint.addr);
    let nginx = Nginx::start(&binary, &server, port);
    let front = nginx.addr;

    // The visitor's own address counts for the rate limit, not nginx's.
    let post = || Post::new("access", "en").pairs(&endpoint.site);
    let first = post_from(ip(0, 0, 2), front, &post());
    reference_of(&first);
    assert_eq!(post_from(ip(0, 0, 2), front, &post()).status, 429);
    reference_of(&post_from(ip(0, 0, 3), front, &post()));

    // 500 connections stalled at nginx, half in their head and half in
    // their body, each from its own address (so nginx's per-address
    // limit_req does not turn them away first).
    let mut stalled = Vec::new();
    for i in 0..500u16 {
        let from = ip(1 + (i % 2) as u8, (i / 250) as u8, (i % 250) as u8 + 1);
        let mut s = connect_from(from, front);
        let part: &[u8] = if i % 2 == 0 {
            b"POST /submit HTTP/1.1\r\nHost: forms.agency.test\r\nContent-Ty"
        } else {
            b"POST /submit HTTP/1.1\r\nHost: forms.agency.test\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n_site=acme&"
        };
        s.write_all(part).unwrap();
        stalled.push(s);
    }
    for i in 0..5u8 {
        let started = Instant::now();
        let reply = post_from(ip(0, 1, i + 1), front, &post());
        reference_of(&reply);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a post took {:?} behind 500 stalled connections",
            started.elapsed()
        );
    }
    assert_eq!(
        http::request(front, "GET", "/healthz", &[], b"").status,
        200
    );

    // A declared 300 MB body never reaches the endpoint.
    let before = endpoint.post_lines().len();
    let mut big = connect_from(ip(0, 2, 1), front);
    write!(
        big,
        "POST /submit HTTP/1.1\r\nHost: forms.agency.test\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000000\r\n\r\n_site=acme&"
    )
    .unwrap();
    assert_eq!(http::read_reply(&mut big).status, 413);
    drop(stalled);
    std::thread::sleep(Duration::from_millis(200));
    let lines = endpoint.post_lines();
    assert_eq!(lines.len(), before, "{lines:#?}");
    assert_eq!(lines.len(), 3 + 5, "{lines:#?}");
    assert!(
        lines[1].contains("status=429"),
        "the second post of 127.0.0.2: {lines:#?}"
    );
}
