//! A `portaal` process that listens on port 0 and prints its URL: spawned,
//! its URL read back from its output, killed on drop. Shared with
//! `benches/` (included there with `#[path]`), so it uses only std.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a process may take to print its URL.
const START_LIMIT: Duration = Duration::from_secs(20);

/// Where the process prints its URL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UrlOn {
    Stdout,
    /// Its log on stderr; stdout, if the command pipes it, is closed at
    /// once, as under a supervisor that does not read it.
    Stderr,
}

/// A running process, killed (SIGKILL) and reaped on drop.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub url: String,
    pub addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Spawns `cmd` and waits for the first `http://127.0.0.1:…` on stdout.
    pub fn start(cmd: Command) -> Running {
        Running::start_reading(cmd, UrlOn::Stdout)
    }

    /// Spawns `cmd` and waits for the first `http://127.0.0.1:…` on `on`;
    /// panics with what it printed if it exits or prints none in time.
    pub fn start_reading(mut cmd: Command, on: UrlOn) -> Running {
        match on {
            UrlOn::Stdout => cmd.stdout(Stdio::piped()),
            UrlOn::Stderr => cmd.stderr(Stdio::piped()),
        };
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stream: Box<dyn Read + Send> = match on {
            UrlOn::Stdout => Box::new(child.stdout.take().unwrap()),
            UrlOn::Stderr => {
                drop(child.stdout.take());
                Box::new(child.stderr.take().unwrap())
            }
        };
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let kept = lines.clone();
        // Reads to the end, so the process never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut running = Running {
            child,
            url: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
        };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                panic!(
                    "{cmd:?} printed no URL within {START_LIMIT:?}: {:?}",
                    running.lines()
                );
            };
            if let Some(url) = url_in(&line) {
                running.addr = url["http://".len()..]
                    .parse()
                    .unwrap_or_else(|_| panic!("no address in {line:?}"));
                running.url = url;
                return running;
            }
        }
    }

    /// Every line read so far from the stream the URL came on.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The first `http://127.0.0.1:<port>` in `line`, without a trailing slash.
fn url_in(line: &str) -> Option<String> {
    let start = line.find("http://127.0.0.1:")?;
    let url = line[start..].split_whitespace().next()?;
    Some(url.trim_end_matches(['/', ';', ',', '.']).to_string())
}
