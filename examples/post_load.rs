//! The endpoint benchmark's load: CONNECTIONS clients that each, until
//! SECONDS have passed (at least once), open a new TCP connection, send one request (the
//! bytes of REQUEST_FILE) and read the whole answer. Each latency is timed
//! from before `connect` to the last byte of the answer, so connection
//! setup is included (a visitor's post always opens a connection: the
//! endpoint does not keep them alive). Prints one JSON line: requests,
//! rate, p50/p99/max in ms, the count per status and the I/O errors.
//!
//!     cargo run --release --example post_load -- 127.0.0.1:PORT request.txt 64 10 [THREADS]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: post_load HOST:PORT REQUEST_FILE CONNECTIONS SECONDS [THREADS]";
    let addr: std::net::SocketAddr = args.first().and_then(|a| a.parse().ok()).expect(usage);
    let request = std::fs::read(args.get(1).expect(usage)).expect("read the request file");
    let connections: usize = args.get(2).and_then(|c| c.parse().ok()).expect(usage);
    let seconds: f64 = args.get(3).and_then(|s| s.parse().ok()).expect(usage);
    let threads: usize = args.get(4).and_then(|t| t.parse().ok()).unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("start the runtime");
    let request = std::sync::Arc::new(request);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let results: Vec<Client> = runtime.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(client(addr, request.clone(), deadline)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("client task"));
        }
        out
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<u32> = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut errors = 0u64;
    for c in results {
        latencies.extend(c.latencies_us);
        for (s, n) in c.statuses {
            *statuses.entry(s).or_default() += n;
        }
        errors += c.errors;
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(s, n)| format!("\"{s}\": {n}"))
        .collect();
    println!(
        "{{\"requests\": {}, \"seconds\": {elapsed:.3}, \"rate\": {:.1}, \"p50_ms\": {:.3}, \
         \"p99_ms\": {:.3}, \"max_ms\": {:.3}, \"statuses\": {{{}}}, \"errors\": {errors}}}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        statuses.join(", ")
    );
}

#[derive(Default)]
struct Client {
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

async fn client(
    addr: std::net::SocketAddr,
    request: std::sync::Arc<Vec<u8>>,
    deadline: Instant,
) -> Client {
    let mut c = Client::default();
    let mut buf = Vec::with_capacity(4096);
    // At least one post per client, so a zero-second run is a probe.
    loop {
        let t0 = Instant::now();
        match exchange(addr, &request, &mut buf).await {
            Ok(status) => {
                let us = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                c.latencies_us.push(us);
                *c.statuses.entry(status).or_default() += 1;
            }
            Err(_) => {
                c.errors += 1;
                // A refused connection comes back at once: do not spin.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        if Instant::now() >= deadline {
            return c;
        }
    }
}

/// One connection, one request, the whole answer; returns its status.
async fn exchange(
    addr: std::net::SocketAddr,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("closed before the answer's head"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("head not UTF-8"))?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    match length {
        Some(len) => {
            while buf.len() < head_end + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(bad("closed before the answer's body"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
        None => loop {
            if stream.read(&mut chunk).await? == 0 {
                break;
            }
        },
    }
    Ok(status)
}
