//! `portaal serve`: build into memory, serve on loopback, rebuild on change,
//! and tell open browser tabs to reload.

mod forms;
mod http;
mod rebuild;
mod state;
pub mod watch;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use notify::Watcher;

use rebuild::Rebuilder;
use state::{Notice, Shared};
use watch::Change;

pub use http::{SCRIPT_TAG, inject, resolve};

pub struct Options {
    pub site_dir: PathBuf,
    pub port: u16,
    pub open: bool,
    /// Also write each good build here (never `public/` unless asked).
    pub out: Option<PathBuf>,
}

/// Request-handling threads; the reload streams have their own.
const WORKERS: usize = 4;

pub fn run(options: Options) -> anyhow::Result<()> {
    let site_dir = std::fs::canonicalize(&options.site_dir)
        .with_context(|| format!("cannot open site directory {}", options.site_dir.display()))?;
    let server = tiny_http::Server::http(("127.0.0.1", options.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
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
        options.out.clone(),
    )?;
    shared.set_outbox(rebuilder.outbox());
    // Watch before the first build, so that no save is missed: one made
    // while building, or right after the URL is printed, queues a rebuild.
    let (tx, events) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).context("cannot watch files")?;
    watcher
        .watch(&site_dir, notify::RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", site_dir.display()))?;
    let all: BTreeSet<Change> = [Change::Config].into();
    publish(&shared, &mut rebuilder, &all);

    for _ in 0..WORKERS {
        let server = server.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                http::handle(&shared, request);
            }
        });
    }
    println!("serving {} at {url} (Ctrl+C to stop)", site_dir.display());
    if options.open {
        if let Err(e) = opener::open_browser(&url) {
            eprintln!("warning: could not open a browser: {e}");
        }
    }

    let mut ignored = vec![site_dir.join("public"), site_dir.join("target")];
    if let Some(out) = &options.out {
        ignored.push(std::path::absolute(out)?);
    }
    while let Some(changes) = watch::next_batch(
        &events,
        &site_dir,
        &ignored,
        Duration::from_millis(30),
        Duration::from_millis(500),
    ) {
        publish(&shared, &mut rebuilder, &changes);
    }
    Ok(())
}

fn publish(shared: &Shared, rebuilder: &mut Rebuilder, changes: &BTreeSet<Change>) {
    let start = Instant::now();
    match rebuilder.rebuild(changes) {
        Ok(files) => {
            let notice = if changes.iter().all(|c| *c == Change::Stylesheet) {
                Notice::Stylesheet
            } else {
                Notice::Reload
            };
            let pages = files.keys().filter(|k| k.ends_with(".html")).count();
            shared.publish(files, notice);
            println!(
                "rebuilt: {pages} pages in {} ms",
                start.elapsed().as_millis()
            );
        }
        Err(errors) => {
            eprintln!("{errors}\nthe last good build stays up; fix the problem and save");
            shared.publish_errors(errors);
        }
    }
}
