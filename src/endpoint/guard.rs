//! Keeps slow or stalled clients from exhausting the server.
//!
//! tiny_http gives its connections no timeouts and no limit, and does not
//! hand out their sockets. A timeout set on the listening socket would also
//! time out `accept` (which stops tiny_http's accept loop for good), so a
//! guard thread finds the server's client sockets instead, in
//! `/proc/self/fd` by their local port, and:
//!
//! - sets read and write timeouts on each new one, so a stalled read ends
//!   with 408;
//! - shuts down any connection older than the longest time a request may
//!   take, so a client trickling bytes cannot hold a thread for long (but
//!   never one whose request is being answered);
//! - shuts down the newest connections beyond the connection limit.
//!
//! A shut-down socket makes tiny_http's blocked reads return at once, and it
//! closes the connection itself. Linux only; elsewhere, run behind a proxy
//! that enforces these limits (README, "portaal endpoint").

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub io_timeout: Duration,
    /// The longest a connection may stay open.
    pub max_age: Duration,
    pub max_connections: usize,
}

/// The client addresses whose request is being answered right now; the
/// guard never cuts those, so a stored ticket's answer is not lost.
pub type Busy = Arc<Mutex<HashSet<SocketAddr>>>;

/// Stops the guard thread when dropped.
pub struct Guard {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start(local: SocketAddr, limits: Limits, busy: Busy) -> Guard {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("conn-guard".into())
        .spawn(move || {
            let mut seen: HashMap<(i32, SocketAddr), Instant> = HashMap::new();
            while !flag.load(Ordering::SeqCst) {
                sweep(local, limits, &busy, &mut seen);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .expect("spawn the connection guard");
    Guard {
        stop,
        thread: Some(thread),
    }
}

/// Stops reading from the server's connection with `peer` (or stops it
/// altogether with `both`): used when refusing an oversized body, since
/// tiny_http would otherwise read all of the unwanted rest of it.
pub fn shutdown_peer(local: SocketAddr, peer: SocketAddr, both: bool) {
    for (fd, p) in sys::client_sockets(local) {
        if p == peer {
            if both {
                sys::shutdown(fd);
            } else {
                sys::shutdown_read(fd);
            }
        }
    }
}

fn sweep(
    local: SocketAddr,
    limits: Limits,
    busy: &Busy,
    seen: &mut HashMap<(i32, SocketAddr), Instant>,
) {
    let now = Instant::now();
    let current = sys::client_sockets(local);
    seen.retain(|k, _| current.contains(k));
    for key in &current {
        seen.entry(*key).or_insert_with(|| {
            sys::set_timeouts(key.0, limits.io_timeout);
            now
        });
    }
    let mut by_age: Vec<(&(i32, SocketAddr), &Instant)> = seen.iter().collect();
    by_age.sort_by_key(|(_, t)| **t);
    let busy = busy.lock().unwrap_or_else(|e| e.into_inner());
    for (i, ((fd, peer), since)) in by_age.into_iter().enumerate() {
        let over = now.duration_since(*since) > limits.max_age || i >= limits.max_connections;
        if over && !busy.contains(peer) {
            sys::shutdown(*fd);
        }
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::net::SocketAddr;
    use std::time::Duration;

    /// `(fd, peer)` of every connected TCP socket of this process whose
    /// local address is `local`.
    pub fn client_sockets(local: SocketAddr) -> Vec<(i32, SocketAddr)> {
        let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in dir.flatten() {
            let Some(fd) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let is_socket = std::fs::read_link(e.path())
                .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
            if !is_socket {
                continue;
            }
            if let (Some(l), Some(p)) = (addr(fd, libc::getsockname), addr(fd, libc::getpeername)) {
                if l.port() == local.port() && (local.ip().is_unspecified() || l.ip() == local.ip())
                {
                    out.push((fd, p));
                }
            }
        }
        out
    }

    type NameFn =
        unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;

    fn addr(fd: i32, f: NameFn) -> Option<SocketAddr> {
        // SAFETY: a zeroed sockaddr_storage is valid, and its size is passed.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `storage` outlives the call and `len` is its size.
        let rc = unsafe {
            f(
                fd,
                (&mut storage as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return None;
        }
        match i32::from(storage.ss_family) {
            libc::AF_INET => {
                // SAFETY: the family says this is a sockaddr_in.
                let a: &libc::sockaddr_in = unsafe { &*(&storage as *const _ as *const _) };
                Some(SocketAddr::from((
                    u32::from_be(a.sin_addr.s_addr).to_be_bytes(),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says this is a sockaddr_in6.
                let a: &libc::sockaddr_in6 = unsafe { &*(&storage as *const _ as *const _) };
                Some(SocketAddr::from((
                    a.sin6_addr.s6_addr,
                    u16::from_be(a.sin6_port),
                )))
            }
            _ => None,
        }
    }

    pub fn set_timeouts(fd: i32, t: Duration) {
        let tv = libc::timeval {
            tv_sec: t.as_secs() as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        };
        for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
            // SAFETY: a timeval of the size passed; a bad fd only fails.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    opt,
                    (&tv as *const libc::timeval).cast(),
                    std::mem::size_of::<libc::timeval>() as libc::socklen_t,
                );
            }
        }
    }

    pub fn shutdown(fd: i32) {
        // SAFETY: shutting down a socket touches no memory; a stale fd fails.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RDWR);
        }
    }

    pub fn shutdown_read(fd: i32) {
        // SAFETY: as above.
        unsafe {
            libc::shutdown(fd, libc::SHUT_RD);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::net::SocketAddr;
    use std::time::Duration;

    pub fn client_sockets(_: SocketAddr) -> Vec<(i32, SocketAddr)> {
        Vec::new()
    }
    pub fn set_timeouts(_: i32, _: Duration) {}
    pub fn shutdown(_: i32) {}
    pub fn shutdown_read(_: i32) {}
}
