//! No command destroys a user's files: output folders, site ids, theme
//! names, links out of the site, `init`'s arguments, closed pipes and
//! `serve`'s start. Each refusal is checked to have touched nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::process::{Running, Streams};
use crate::support::{Portal, copy_dir, fixture, portaal_bin};

/// Every file, directory and link below `root` with its contents (or link
/// target), to show that a refused command changed nothing.
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            let what = if e.path_is_symlink() {
                format!(
                    "link to {}",
                    std::fs::read_link(e.path()).unwrap().display()
                )
            } else if e.file_type().is_dir() {
                "dir".to_string()
            } else {
                String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned()
            };
            (rel, what)
        })
        .collect()
}

/// An agency folder holding copies of the minimal portal, each with its own
/// id (`<name>-test`), plus a signing key so that a build changes nothing
/// in the sites themselves.
struct Agency {
    dir: tempfile::TempDir,
}

impl Agency {
    fn new(sites: &[&str]) -> Agency {
        let agency = Agency {
            dir: tempfile::tempdir().unwrap(),
        };
        for name in sites {
            agency.add_site(name, &format!("{name}-test"));
        }
        agency
    }

    fn add_site(&self, name: &str, id: &str) {
        let site = self.path().join(name);
        copy_dir(&fixture("minimal"), &site);
        let toml = std::fs::read_to_string(site.join("portal.toml")).unwrap();
        assert!(toml.contains("id = \"bakkerij-test\""));
        let toml = toml.replace("id = \"bakkerij-test\"", &format!("id = \"{id}\""));
        std::fs::write(site.join("portal.toml"), toml).unwrap();
        let out = self.run(&["init", "--key-only", name]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::new(portaal_bin());
        cmd.current_dir(self.path());
        cmd.env_remove("PORTAAL_FORM_KEY");
        cmd.env_remove("PORTAAL_SIGNING_KEYS");
        cmd.env_remove("SOURCE_DATE_EPOCH");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs `args`, asserts exit code 2 and an untouched agency folder, and
    /// returns stderr.
    fn refused(&self, args: &[&str]) -> String {
        let before = tree(self.path());
        let out = self.run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(tree(self.path()), before, "{args:?} touched files");
        err
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn build_out_dot_refuses_to_delete_sites() {
    let agency = Agency::new(&["bakkerij", "slagerij"]);
    let err = agency.refused(&["build", "bakkerij", "slagerij", "--out", "."]);
    assert!(err.contains("refusing to write the output to ."), "{err}");
    assert!(err.contains("fix:"), "{err}");
    // One site into `.` is refused as well.
    let err = agency.refused(&["build", "bakkerij", "--out", "."]);
    assert!(err.contains("contains the site"), "{err}");
    // And so is the current directory when it holds no site.
    std::fs::create_dir(agency.path().join("empty")).unwrap();
    let before = tree(agency.path());
    let out = agency
        .cmd()
        .current_dir(agency.path().join("empty"))
        .args(["build", "../bakkerij", "--out", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("current directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(agency.path()), before);
}

#[test]
fn build_out_site_itself_refused() {
    let agency = Agency::new(&["bakkerij"]);
    let err = agency.refused(&["build", "bakkerij", "--out", "bakkerij"]);
    assert!(err.contains("site directory"), "{err}");
    let err = agency.refused(&["build", "bakkerij", "--out", "bakkerij/"]);
    assert!(err.contains("site directory"), "{err}");
}

#[test]
fn build_out_parent_of_sites_refused() {
    let agency = Agency::new(&[]);
    std::fs::create_dir(agency.path().join("agency")).unwrap();
    agency.add_site("agency/bakkerij", "bakkerij-test");
    agency.add_site("agency/slagerij", "slagerij-test");
    let err = agency.refused(&["build", "agency/bakkerij", "--out", "agency"]);
    assert!(err.contains("contains the site"), "{err}");
    let err = agency.refused(&["build", "agency/bakkerij", "--out", "agency/bakkerij/.."]);
    assert!(err.contains("contains the site"), "{err}");
    // A site not in this run is protected too: its folder holds portal.toml.
    let err = agency.refused(&["build", "agency/bakkerij", "--out", "agency/slagerij"]);
    assert!(err.contains("site"), "{err}");
}

#[test]
fn build_out_inside_site_refused() {
    let agency = Agency::new(&["bakkerij"]);
    let err = agency.refused(&["build", "bakkerij", "--out", "bakkerij/content"]);
    assert!(err.contains("inside the site"), "{err}");
    let err = agency.refused(&["build", "bakkerij", "--out", "bakkerij/new"]);
    assert!(err.contains("inside the site"), "{err}");
}

#[test]
fn build_out_nonempty_unmarked_dir_refused() {
    let agency = Agency::new(&["bakkerij"]);
    std::fs::create_dir(agency.path().join("docs")).unwrap();
    std::fs::write(agency.path().join("docs/notes.txt"), "mine").unwrap();
    let err = agency.refused(&["build", "bakkerij", "--out", "docs"]);
    assert!(err.contains(".portaal-build"), "{err}");
    // A site's own public/ that is not recognisably portaal's is kept too.
    std::fs::create_dir(agency.path().join("bakkerij/public")).unwrap();
    std::fs::write(agency.path().join("bakkerij/public/logo.png"), "png").unwrap();
    let err = agency.refused(&["build", "bakkerij"]);
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn build_out_symlink_refused() {
    let agency = Agency::new(&["bakkerij"]);
    let out = agency.run(&["build", "bakkerij", "--out", "real"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::os::unix::fs::symlink("real", agency.path().join("link")).unwrap();
    let err = agency.refused(&["build", "bakkerij", "--out", "link"]);
    assert!(err.contains("symbolic link"), "{err}");
    // Several sites into a folder that is a link: refused as well.
    agency.add_site("slagerij", "slagerij-test");
    let err = agency.refused(&["build", "bakkerij", "slagerij", "--out", "link"]);
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn build_twice_into_marked_out_replaces() {
    let agency = Agency::new(&["bakkerij"]);
    let out = agency.run(&["build", "bakkerij", "--out", "site-out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let marker = agency.path().join("site-out/.portaal-build");
    assert!(marker.is_file(), "the output carries the marker");
    std::fs::write(agency.path().join("site-out/stale.html"), "old").unwrap();
    let out = agency.run(&["build", "bakkerij", "--out", "site-out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(marker.is_file());
    assert!(!agency.path().join("site-out/stale.html").exists());
    assert!(
        agency
            .path()
            .join("site-out/nl/privacy/index.html")
            .is_file()
    );
    let leftovers: Vec<_> = std::fs::read_dir(agency.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn build_replaces_an_earlier_unmarked_public_once() {
    // The output of a portaal from before the marker: the same files, no
    // marker. The default output is recognised and replaced, and marked.
    let portal = Portal::fixture("minimal");
    portal.build();
    let marker = portal.path().join("public/.portaal-build");
    std::fs::remove_file(&marker).unwrap();
    portal.build();
    assert!(marker.is_file());
}

#[test]
fn several_sites_same_id_is_error() {
    let agency = Agency::new(&["bakkerij"]);
    agency.add_site("kopie", "bakkerij-test");
    let err = agency.refused(&["build", "bakkerij", "kopie", "--out", "out"]);
    assert!(err.contains("`bakkerij-test`"), "{err}");
    assert!(err.contains("bakkerij") && err.contains("kopie"), "{err}");
    // Without --out as well: the id names the site in its signed forms.
    let err = agency.refused(&["build", "bakkerij", "kopie"]);
    assert!(err.contains("`bakkerij-test`"), "{err}");
}

#[test]
fn several_sites_get_one_folder_per_site_id() {
    let agency = Agency::new(&[]);
    agency.add_site("a/site", "eerste");
    agency.add_site("b/site", "tweede");
    let out = agency.run(&["build", "a/site", "b/site", "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for id in ["eerste", "tweede"] {
        assert!(
            agency
                .path()
                .join("out")
                .join(id)
                .join("nl/privacy/index.html")
                .is_file()
        );
    }
    assert!(!agency.path().join("out/site").exists());
}

/// A portal whose `[site]` sets `theme` to `value` (a TOML string).
fn portal_with_theme(value: &str) -> Portal {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "[site]\n",
        &format!("[site]\ntheme = {value}\n"),
    );
    portal
}

/// Builds, expecting the theme error at `portal.toml:2:9` and no output.
fn assert_theme_refused(value: &str) {
    let portal = portal_with_theme(value);
    let line = portal
        .read("portal.toml")
        .lines()
        .position(|l| l.starts_with("theme = "))
        .unwrap()
        + 1;
    let err = portal.build_fails();
    let at = format!("portal.toml:{line}:9: error: theme ");
    assert!(err.contains(&at), "{value}: {err}");
    assert!(err.contains("not a plain folder name"), "{err}");
    assert!(!err.contains("unexpected file in theme"), "{err}");
    assert!(!portal.path().join("public").exists());
}

#[test]
fn theme_name_root_is_error() {
    assert_theme_refused(r#""/""#);
    assert_theme_refused(r#""/etc""#);
}

#[test]
fn theme_name_dotdot_is_error() {
    assert_theme_refused(r#""../..""#);
    assert_theme_refused(r#"".hidden""#);
    assert_theme_refused(r#""house/templates""#);
}

#[test]
fn theme_empty_is_error() {
    assert_theme_refused(r#""""#);
}

#[test]
fn a_plain_theme_name_still_works() {
    let portal = portal_with_theme(r#""huis""#);
    portal.write("themes/huis/static/extra.css", "body { color: black }\n");
    portal.build();
    assert!(portal.path().join("public/extra.css").is_file());
}

/// A file outside every portal, with a secret in it.
fn secret_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, "not for the web").unwrap();
    (dir, file)
}

#[test]
fn static_symlink_escape_is_error() {
    let (_outside, secret) = secret_file();
    let portal = Portal::fixture("minimal");
    std::fs::create_dir_all(portal.path().join("static")).unwrap();
    std::os::unix::fs::symlink(&secret, portal.path().join("static/leak.txt")).unwrap();
    let err = portal.build_fails();
    assert!(err.contains("static/leak.txt"), "{err}");
    assert!(err.contains("outside the site"), "{err}");
    assert!(!portal.path().join("public").exists());
}

#[test]
fn static_symlink_inside_the_site_is_read() {
    let portal = Portal::fixture("minimal");
    portal.write("static/logo.svg", "<svg/>");
    std::os::unix::fs::symlink("logo.svg", portal.path().join("static/logo-2.svg")).unwrap();
    portal.build();
    assert_eq!(portal.read("public/logo-2.svg"), "<svg/>");
}

#[test]
fn content_folder_linked_out_of_the_site_is_error() {
    let portal = Portal::fixture("minimal");
    let outside = tempfile::tempdir().unwrap();
    copy_dir(&portal.path().join("content"), outside.path());
    std::fs::remove_dir_all(portal.path().join("content")).unwrap();
    std::os::unix::fs::symlink(outside.path(), portal.path().join("content")).unwrap();
    let err = portal.build_fails();
    assert!(err.contains("content: error"), "{err}");
    assert!(err.contains("outside the site"), "{err}");
}

#[test]
fn theme_file_linked_out_of_the_site_is_error() {
    let (_outside, secret) = secret_file();
    let portal = portal_with_theme(r#""huis""#);
    std::fs::create_dir_all(portal.path().join("themes/huis/static")).unwrap();
    std::os::unix::fs::symlink(&secret, portal.path().join("themes/huis/static/a.txt")).unwrap();
    let err = portal.build_fails();
    assert!(err.contains("themes/huis/static/a.txt"), "{err}");
    assert!(err.contains("outside the site"), "{err}");
}

#[test]
fn init_duplicate_language() {
    let agency = Agency::new(&[]);
    let err = agency.refused(&["init", "klant", "--languages", "nl,fr,nl"]);
    assert!(err.contains("`nl` twice"), "{err}");
    assert!(!agency.path().join("klant").exists());
}

#[test]
fn init_bad_id() {
    let agency = Agency::new(&[]);
    for id in ["Bad Id", "", "../x", "é"] {
        let err = agency.refused(&["init", "klant", "--id", id]);
        assert!(err.contains("not a site id"), "{id:?}: {err}");
        assert!(err.contains("lower-case letters"), "{err}");
    }
    assert!(!agency.path().join("klant").exists());
}

#[test]
fn init_transliterates_name() {
    let agency = Agency::new(&[]);
    let out = agency.run(&["init", "Ça & Co", "--languages", "nl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let toml: toml::Table = toml::from_str(
        &std::fs::read_to_string(agency.path().join("Ça & Co/portal.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(toml["site"]["id"].as_str(), Some("ca-co"));
    // The printed next command works when pasted into a shell.
    let said = stdout(&out);
    let command = said
        .split('`')
        .find(|s| s.starts_with("portaal build "))
        .unwrap_or_else(|| panic!("{said}"));
    let words = shlex::split(command).unwrap();
    assert_eq!(words, ["portaal", "build", "Ça & Co"]);
    let out = agency.run(&words[1..].iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.starts_with("built ca-co: ") && said.contains(" pages in 1 language into "),
        "{said}"
    );
}

#[test]
fn init_explains_the_missing_endpoint_and_build_notes_it() {
    let agency = Agency::new(&[]);
    let out = agency.run(&["init", "klant", "--languages", "nl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(agency.path().join("klant/portal.toml")).unwrap();
    assert!(text.contains("# [endpoint]"), "{text}");
    assert!(text.contains("# url = "), "{text}");
    let out = agency.run(&["build", "klant"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("no request form"), "{err}");
    // Uncommented, the block gives the rights pages their form and no note.
    let text = text
        .replace("# [endpoint]", "[endpoint]")
        .replace("# url = ", "url = ");
    std::fs::write(agency.path().join("klant/portal.toml"), text).unwrap();
    let out = agency.run(&["build", "klant"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("no request form"),
        "{}",
        stderr(&out)
    );
    let html =
        std::fs::read_to_string(agency.path().join("klant/public/nl/access/index.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    assert_eq!(crate::support::select(&doc, "form").len(), 1);
}

/// Runs `args` with stdout a pipe whose reader is closed at once, so that
/// the first write meets a broken pipe.
fn run_with_closed_stdout(portal: &Portal, args: &[&str]) -> Output {
    let mut child = portal
        .portaal()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn check_json_broken_pipe_is_quiet() {
    let portal = Portal::fixture("minimal");
    // With its key made, the build has nothing to note on stderr.
    portaal::forms::sign::add_key(portal.path()).unwrap();
    for args in [
        &["check", "--format", "json"][..],
        &["check"][..],
        &["build"][..],
    ] {
        let out = run_with_closed_stdout(&portal, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}

/// `portaal serve` with `args`, its stdout and stderr read, stopped on drop.
fn start_serve(portal: &Portal, args: &[&str]) -> Running {
    let mut cmd = portal.portaal();
    cmd.arg("serve").args(args).env("TMPDIR", portal.path());
    Running::spawn(cmd, Streams::Both)
}

#[test]
fn serve_without_portal_toml_is_error() {
    let portal = Portal::empty();
    portal.write("notes.txt", "not a portal");
    let mut serve = start_serve(&portal, &["--port", "0"]);
    assert_eq!(serve.exit_code(), Some(2));
    std::thread::sleep(Duration::from_millis(100));
    let said = serve.lines().join("\n");
    assert!(said.contains("holds no portal.toml"), "{said}");
    assert!(said.contains("portaal init"), "{said}");
}

#[test]
fn serve_port_zero_prints_port() {
    let portal = Portal::fixture("minimal");
    let serve = start_serve(&portal, &["--port", "0"]);
    let line = serve.line_with("serving ");
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert_ne!(port, 0);
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("the printed port listens");
}

#[test]
fn serve_first_build_is_announced_and_rebuilds_name_the_file() {
    let portal = Portal::fixture("minimal");
    let serve = start_serve(&portal, &["--port", "0"]);
    let first = serve.line_with("built");
    assert!(
        first.starts_with("built: ") && first.contains(" pages in "),
        "{first}"
    );
    serve.line_with("serving ");
    portal.edit("content/nl/privacy.md", "Wij", "Wij echt");
    let again = serve.line_with("rebuilt");
    assert!(
        again.starts_with("rebuilt after a change to content/nl/privacy.md: "),
        "{again}"
    );
}

#[test]
fn serve_busy_port_gives_a_hint() {
    let portal = Portal::fixture("minimal");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut serve = start_serve(&portal, &["--port", &port]);
    assert_eq!(serve.exit_code(), Some(1));
    std::thread::sleep(Duration::from_millis(100));
    let said = serve.lines().join("\n");
    assert!(said.contains("already in use"), "{said}");
    assert!(said.contains("--port 0"), "{said}");
}

#[test]
fn serve_open_without_a_browser_says_so() {
    let portal = Portal::fixture("minimal");
    let mut cmd = portal.portaal();
    cmd.args(["serve", "--port", "0", "--open"])
        .env("TMPDIR", portal.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("BROWSER")
        .env_remove("WSL_DISTRO_NAME")
        .stdout(Stdio::null());
    let serve = Running::spawn(cmd, Streams::Stderr);
    let line = serve.line_with("--open");
    assert!(line.contains("no browser can be started"), "{line}");
    assert!(line.contains("http://127.0.0.1:"), "{line}");
}

#[test]
fn serve_out_unmarked_dir_refused() {
    let portal = Portal::fixture("minimal");
    let out_dir = tempfile::tempdir().unwrap();
    std::fs::write(out_dir.path().join("notes.txt"), "mine").unwrap();
    let before = tree(out_dir.path());
    let mut serve = start_serve(
        &portal,
        &["--port", "0", "--out", out_dir.path().to_str().unwrap()],
    );
    assert_eq!(serve.exit_code(), Some(2));
    assert_eq!(tree(out_dir.path()), before);
}
