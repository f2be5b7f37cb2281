//! Helpers shared by the integration tests: the real `portaal` binary, fixture
//! copies, a real SMTP server on loopback, a small HTTP client and a running
//! endpoint that stops when dropped. Every wait has a deadline.

#![allow(dead_code)]

pub mod http;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The `portaal` binary cargo built for these tests.
pub fn portaal_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portaal"))
}

/// Runs `portaal ARGS` in `dir` and returns its output.
pub fn portaal(dir: &Path, args: &[&str]) -> Output {
    Command::new(portaal_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("PORTAAL_SIGNING_KEYS")
        .env_remove("PORTAAL_SMTP_URL")
        .output()
        .expect("run portaal")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of fixture `name` in a fresh temporary directory.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dest = tmp.path().join(name);
    copy_dir(&fixture(name), &dest);
    (tmp, dest)
}

pub fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dest.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "public" {
                copy_dir(&e.path(), &to);
            }
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// Polls `f` until it returns `Some`, or panics after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
