//! A `portaal` process under test: spawned, its output read line by line,
//! its URL read back when it listens on port 0, killed on drop. Shared
//! with `benches/` (included there with `#[path]`), so it uses only std.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a process may take to print a line a test waits for, or to
/// end when a test expects it to.
const LIMIT: Duration = Duration::from_secs(20);

/// The output streams read, line by line, in the order the lines come.
/// A stream the command pipes but that is not read is closed at once, as
/// under a supervisor that does not read it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    Stdout,
    Stderr,
    Both,
}

/// A running process, killed (SIGKILL) and reaped on drop.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:<port>`, without a trailing slash, once known.
    pub url: String,
    pub addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
    unread: Mutex<mpsc::Receiver<String>>,
}

impl Running {
    /// Spawns `cmd` and waits for the first `http://127.0.0.1:…` on stdout.
    pub fn start(cmd: Command) -> Running {
        Running::start_reading(cmd, Streams::Stdout)
    }

    /// Spawns `cmd` and waits for the first `http://127.0.0.1:…` on
    /// `streams`; panics with what it printed if none comes in time.
    pub fn start_reading(cmd: Command, streams: Streams) -> Running {
        let mut running = Running::spawn(cmd, streams);
        let line = running.line_with("http://127.0.0.1:");
        let start = line.find("http://").unwrap();
        let url = line[start..].split_whitespace().next().unwrap();
        running.url = url.trim_end_matches(['/', ';', ',', '.']).to_string();
        running.addr = running.url["http://".len()..]
            .parse()
            .unwrap_or_else(|_| panic!("no address in {line:?}"));
        running
    }

    /// Spawns `cmd`, reading `streams`; the rest are as `cmd` sets them.
    pub fn spawn(mut cmd: Command, streams: Streams) -> Running {
        if streams != Streams::Stderr {
            cmd.stdout(Stdio::piped());
        }
        if streams != Streams::Stdout {
            cmd.stderr(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let (read, closed) = match streams {
            Streams::Stdout => (vec![stdout], stderr),
            Streams::Stderr => (vec![stderr], stdout),
            Streams::Both => (vec![stdout, stderr], None),
        };
        drop(closed);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        for stream in read.into_iter().flatten() {
            let (kept, tx) = (lines.clone(), tx.clone());
            // Reads to the end, so the process never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    kept.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        Running {
            child,
            url: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
            unread: Mutex::new(rx),
        }
    }

    /// The next line not read yet that contains `needle`; panics with all
    /// the output if none comes in time or the process ends first.
    pub fn line_with(&self, needle: &str) -> String {
        let unread = self.unread.lock().unwrap();
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match unread.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line with {needle:?} in {:?}", self.lines()),
            }
        }
    }

    /// Every line read so far.
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

    /// Waits for the process to end on its own; its exit code.
    pub fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the process did not end: {:?}", self.lines());
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
