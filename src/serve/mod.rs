//! `portaal serve`: build into memory, serve on loopback, rebuild on change,
//! and tell open browser tabs to reload.

mod forms;
mod http;
mod rebuild;
mod state;
pub mod watch;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use notify::Watcher;

use crate::diagnostics::Refused;
use crate::render::target::Guard;
use rebuild::Rebuilder;
use state::{Notice, Shared};
use watch::{Batch, Change};

pub struct Options {
    pub site_dir: PathBuf,
    pub port: u16,
    pub open: bool,
    /// Also write each good build here (never `public/` unless asked).
    pub out: Option<PathBuf>,
    /// The forms' issue time when fixed (`$SOURCE_DATE_EPOCH`); else now.
    pub issued: Option<u64>,
}

/// The changed files of a rebuild, for its status line: a few by name.
fn changed_files(files: &BTreeSet<PathBuf>) -> String {
    const SHOWN: usize = 3;
    let mut names: Vec<String> = files
        .iter()
        .take(SHOWN)
        .map(|f| f.display().to_string())
        .collect();
    if files.len() > SHOWN {
        names.push(format!("{} more", files.len() - SHOWN));
    }
    names.join(", ")
}

/// Request-handling threads; the reload streams have their own.
const WORKERS: usize = 4;

pub fn run(options: Options) -> anyhow::Result<()> {
    let site_dir = site_dir(&options.site_dir)?;
    let out = match &options.out {
        Some(out) => Some(
            Guard::new(std::slice::from_ref(&site_dir))
                .context("cannot read the current directory")?
                .check(out, Some(&site_dir))
                .map_err(|r| Refused(r.to_string()))?,
        ),
        None => None,
    };
    let server = listen(options.port)?;
    let port = server
        .server_addr()
        .to_ip()
        .context("the server has no IP address")?
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let server = Arc::new(server);
    let shared = Arc::new(Shared::default());

    let mut rebuilder = Rebuilder::new(
        site_dir.clone(),
        url.trim_end_matches('/').to_string(),
        out.clone(),
        options.issued,
    )?;
    shared.set_outbox(rebuilder.outbox());
    // Watch before the first build, so that no save is missed: one made
    // while building, or right after the URL is printed, queues a rebuild.
    let (tx, events) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).context("cannot watch files")?;
    watcher
        .watch(&site_dir, notify::RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", site_dir.display()))?;
    let first = Batch {
        changes: [Change::Config].into(),
        files: BTreeSet::new(),
    };
    publish(&shared, &mut rebuilder, &first);

    for _ in 0..WORKERS {
        let server = server.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                http::handle(&shared, request);
            }
        });
    }
    say(format_args!(
        "serving {} at {url} (Ctrl+C to stop)",
        site_dir.display()
    ));
    if options.open {
        open_browser(&url);
    }

    let mut ignored = vec![site_dir.join("public"), site_dir.join("target")];
    if let Some(out) = &out {
        ignored.push(out.path().to_path_buf());
    }
    while let Some(batch) = watch::next_batch(&events, &site_dir, &ignored) {
        publish(&shared, &mut rebuilder, &batch);
    }
    Ok(())
}

/// The site directory, resolved; a folder without `portal.toml` is refused
/// at once rather than served empty.
fn site_dir(given: &Path) -> anyhow::Result<PathBuf> {
    let fix = "pass the site directory (the folder holding portal.toml), or create one with `portaal init DIR`";
    let Ok(dir) = std::fs::canonicalize(given) else {
        return Err(Refused(format!(
            "site directory {} does not exist\n  fix: {fix}",
            given.display()
        ))
        .into());
    };
    if !dir.join(crate::site::CONFIG_FILE).is_file() {
        return Err(Refused(format!(
            "{} holds no {}, so there is no portal to preview\n  fix: {fix}",
            given.display(),
            crate::site::CONFIG_FILE
        ))
        .into());
    }
    Ok(dir)
}

/// Listens on loopback; a busy port gets a hint instead of a bare error.
fn listen(port: u16) -> anyhow::Result<tiny_http::Server> {
    tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
        let busy = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse);
        if busy {
            anyhow::anyhow!(
                "port {port} on 127.0.0.1 is already in use (another `portaal serve`?)\n  \
                 fix: pass another port with --port N, or --port 0 to pick a free one"
            )
        } else {
            anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}")
        }
    })
}

/// Opens `url` in the user's browser, or says why it cannot.
fn open_browser(url: &str) {
    let var = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    // Without a graphical session xdg-open has nothing to start, and it
    // fails after portaal has stopped waiting for it: say so beforehand.
    if cfg!(target_os = "linux")
        && !var("BROWSER")
        && !var("DISPLAY")
        && !var("WAYLAND_DISPLAY")
        && !var("WSL_DISTRO_NAME")
    {
        eprintln!(
            "note: --open: no browser can be started here (no graphical session: $DISPLAY, \
             $WAYLAND_DISPLAY and $BROWSER are unset); open {url} yourself"
        );
        return;
    }
    match opener::open_browser(url) {
        Ok(()) => say(format_args!("opening {url} in the browser")),
        Err(e) => {
            eprintln!("warning: --open: could not start a browser ({e}); open {url} yourself")
        }
    }
}

/// A status line. The preview keeps serving when its terminal went away.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = crate::diagnostics::print_line(line);
}

fn publish(shared: &Shared, rebuilder: &mut Rebuilder, batch: &Batch) {
    let start = Instant::now();
    let changes = &batch.changes;
    match rebuilder.rebuild(batch) {
        Ok(rebuilt) => {
            let notice = if changes.iter().all(|c| *c == Change::Stylesheet) {
                Notice::Stylesheet
            } else {
                Notice::Reload
            };
            let files = rebuilt.files;
            let pages = files.keys().filter(|k| k.ends_with(".html")).count();
            if rebuilt.rendered == Some(0) {
                // Saved unchanged, or a second event of one save: the
                // browsers already show these pages.
                say(format_args!(
                    "rebuilt after a change to {}: no page changed ({} ms)",
                    changed_files(&batch.files),
                    start.elapsed().as_millis()
                ));
                crate::render::output::finish_deleting();
                return;
            }
            shared.publish(files, notice);
            // With `--out`, the previous output is deleted after the
            // browser was told to reload, not before.
            crate::render::output::finish_deleting();
            let ms = start.elapsed().as_millis();
            let mut pages = if pages == 1 {
                "1 page".to_string()
            } else {
                format!("{pages} pages")
            };
            if let Some(n) = rebuilt.rendered {
                pages.push_str(&format!(" ({n} rendered again, the others kept)"));
            }
            if batch.files.is_empty() {
                say(format_args!("built: {pages} in {ms} ms"));
            } else {
                say(format_args!(
                    "rebuilt after a change to {}: {pages} in {ms} ms",
                    changed_files(&batch.files)
                ));
            }
        }
        Err(errors) => {
            eprintln!("{errors}\nthe last good build stays up; fix the problem and save");
            shared.publish_errors(errors);
        }
    }
}
