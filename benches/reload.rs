//! Reload latency of `portaal serve`: the time from a file write to the
//! reload event reaching a subscribed client, over 50 edits of the example
//! portal. After each event the page is fetched: a reload that shows an
//! older text than the last save is counted and reported. Not a test; run
//! with `cargo bench --bench reload`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "../tests/testsuite/support/process.rs"]
#[allow(dead_code)]
mod process;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

const EDITS: usize = 50;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = tempfile::tempdir().unwrap();
    copy_dir(&root.join("content"), &site.path().join("content"));
    std::fs::copy(root.join("portal.toml"), site.path().join("portal.toml")).unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portaal"));
    cmd.args(["serve", "--port", "0"])
        .current_dir(site.path())
        .stderr(Stdio::null());
    let serve = process::Running::start(cmd);
    let url = serve.url.clone();

    let res = ureq::get(&format!("{url}/_portaal/events")).call().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(res.into_body().into_reader())
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with("event: ") && tx.send(Instant::now()).is_err() {
                break;
            }
        }
    });

    let page = site.path().join("content/nl/privacy.md");
    let original = std::fs::read_to_string(&page).unwrap();
    let mut samples = Vec::with_capacity(EDITS);
    let mut stale = 0;
    for i in 0..EDITS {
        std::thread::sleep(Duration::from_millis(150));
        while rx.try_recv().is_ok() {}
        let written = Instant::now();
        std::fs::write(&page, format!("{original}\nEdit {i}.\n")).unwrap();
        let arrived = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("reload event");
        samples.push(arrived.duration_since(written));
        let shown = ureq::get(&format!("{url}/nl/privacy/"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        if !shown.contains(&format!("Edit {i}.")) {
            stale += 1;
        }
    }
    drop(serve);

    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "reload latency over {EDITS} edits: median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(p(0.5)),
        ms(p(0.95)),
        ms(samples[0]),
        ms(*samples.last().unwrap())
    );
    println!("pages fetched right after the event that missed the edit: {stale} of {EDITS}");
}

fn copy_dir(from: &Path, to: &Path) {
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
