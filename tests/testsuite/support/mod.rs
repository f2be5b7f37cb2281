//! Running the real `portaal` binary on a fixture portal in a temp dir.

#![allow(dead_code)]

pub mod browser;
pub mod check_cases;
pub mod http;
pub mod process;
pub mod smtp;
pub mod static_files;
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The firm of the "silent" portals, which declare only what a test needs:
/// four languages, a controller with an address, an address for requests
/// and the Belgian authority. A literal, for `concat!`.
#[macro_export]
macro_rules! silent_firm {
    () => {
        r#"
[site]
id = "stil"
base_url = "https://privacy.stil.example"
languages = ["nl", "fr", "de", "en"]
default_language = "nl"
title = "Privacy"
policy_version = "1.0"
last_updated = 2026-03-15

[controller]
legal_name = "Stil BV"
email = "privacy@stil.example"

[controller.address]
street = "Kerkstraat 1"
postal_code = "9000"
city = "Gent"
country = "BE"

[contacts]
requests = "privacy@stil.example"

[authority]
preset = "BE"
"#
    };
}

/// The day `check` judges the fixtures on (2026-11-29, noon UTC), so that
/// their policy dates do not age into P041.
pub const TODAY: &str = "1795953600";

/// A copy of a fixture portal in a temporary directory, removed on drop.
pub struct Portal {
    dir: tempfile::TempDir,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Portal {
    /// Copies `tests/fixtures/<name>` into a fresh temp dir.
    pub fn fixture(name: &str) -> Portal {
        let portal = Portal::empty();
        copy_dir(&fixtures().join(name), portal.path());
        portal
    }

    /// The example portal at the repository root (portal.toml, content/,
    /// history/).
    pub fn example() -> Portal {
        let portal = Portal::empty();
        std::fs::copy(
            repo_root().join("portal.toml"),
            portal.path().join("portal.toml"),
        )
        .unwrap();
        copy_dir(&repo_root().join("content"), &portal.path().join("content"));
        if repo_root().join("static").is_dir() {
            copy_dir(&repo_root().join("static"), &portal.path().join("static"));
        }
        copy_dir(&repo_root().join("history"), &portal.path().join("history"));
        portal
    }

    pub fn empty() -> Portal {
        Portal {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, contents: &str) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel))
            .unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// Replaces the first `from` in file `rel` with `to`, failing if absent.
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1))
    }

    pub fn portaal(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portaal"));
        cmd.current_dir(self.path());
        cmd.env_remove("PORTAAL_FORM_KEY");
        cmd.env_remove("PORTAAL_SIGNING_KEYS");
        cmd.env_remove("SOURCE_DATE_EPOCH");
        cmd
    }

    /// Runs portaal with `args`; `check` runs on [`TODAY`], so that the
    /// fixtures' policy dates never age into P041.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.portaal();
        if args.first() == Some(&"check") {
            cmd.env("SOURCE_DATE_EPOCH", TODAY);
        }
        cmd.args(args).output().unwrap()
    }

    /// Runs `portaal build` and asserts that it succeeded.
    pub fn build(&self) -> Output {
        let out = self.run(&["build"]);
        assert!(
            out.status.success(),
            "build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs `portaal build` with a fixed signing key and issue time, so
    /// that the signed forms are the same in every run, and asserts that
    /// it succeeded.
    pub fn build_with_fixed_key(&self) -> Output {
        let out = self
            .portaal()
            .env(
                "PORTAAL_SIGNING_KEYS",
                format!("example:{}", "0e".repeat(32)),
            )
            .env("SOURCE_DATE_EPOCH", "1767225600")
            .arg("build")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs `portaal build`, asserts that it failed, and returns stderr.
    pub fn build_fails(&self) -> String {
        let out = self.run(&["build"]);
        assert!(!out.status.success(), "build unexpectedly succeeded");
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn html(&self, rel: &str) -> scraper::Html {
        scraper::Html::parse_document(&self.read(rel))
    }

    /// Every file below `dir`, relative and sorted.
    pub fn files(&self, dir: &str) -> Vec<String> {
        let root = self.path().join(dir);
        let mut out: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        out.sort();
        out
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Selects with a CSS selector, panicking on a bad selector.
pub fn select<'a>(html: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let sel = scraper::Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
    html.select(&sel).collect()
}

pub fn text(el: &scraper::ElementRef) -> String {
    el.text()
        .collect::<Vec<_>>()
        .join("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `portaal` binary cargo built for these tests.
pub fn portaal_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portaal"))
}

pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// A copy of fixture `name` in a fresh temporary directory, at `<tmp>/<name>`.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dest = tmp.path().join(name);
    copy_dir(&fixture(name), &dest);
    (tmp, dest)
}

/// Polls `f` until it returns `Some`, or panics after `limit`.
pub fn wait_for<T>(what: &str, limit: std::time::Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A free loopback port (bound, then released), only for the real nginx and
/// Postfix, which take their port in a configuration file and cannot tell
/// which port 0 became. `portaal` listens on port 0 and says where
/// ([`process::Running`]); a server that is down is a [`DownPort`].
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback port where a server is down: bound, so no one else takes it,
/// but not listening, so connections are refused; for as long as it lives.
pub struct DownPort(socket2::Socket);

impl DownPort {
    pub fn new() -> DownPort {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&addr.into()).unwrap();
        DownPort(socket)
    }

    pub fn port(&self) -> u16 {
        self.0.local_addr().unwrap().as_socket().unwrap().port()
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port())
    }

    /// The server comes up: the same socket starts listening.
    pub fn listen(self) -> std::net::TcpListener {
        self.0.listen(128).unwrap();
        self.0.into()
    }
}

/// A string of the built-in theme, e.g. `legal_basis.contract.name`.
pub fn theme_string(lang: &str, key: &str) -> String {
    let path = repo_root().join(format!("themes/default/i18n/{lang}.toml"));
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    key.split('.')
        .try_fold(&toml::Value::Table(table.clone()), |v, k| v.get(k))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no theme string {key} in {lang}"))
}
