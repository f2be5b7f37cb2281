//! The endpoint benchmark's yardstick: an HTTP server that reads each
//! request (body included) and answers `303 See Other` with
//! `Connection: close`, storing nothing. `benches/endpoint.py` drives it
//! and `portaal endpoint` with the same load, so the endpoint's rate is
//! reported as a share of what plain HTTP handling costs on this machine.
//!
//!     cargo run --release --example noop_http -- PORT [THREADS]

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .expect("usage: noop_http PORT [THREADS]");
    let threads: usize = args
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let server = std::sync::Arc::new(
        tiny_http::Server::http(("127.0.0.1", port)).expect("bind the no-op server"),
    );
    let see_other = [
        tiny_http::Header::from_bytes("Location", "/thanks/").expect("header"),
        tiny_http::Header::from_bytes("Connection", "close").expect("header"),
    ];
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let server = server.clone();
            let headers = see_other.to_vec();
            std::thread::spawn(move || {
                let mut body = Vec::new();
                while let Ok(mut rq) = server.recv() {
                    body.clear();
                    let _ = rq.as_reader().read_to_end(&mut body);
                    let mut answer = tiny_http::Response::empty(303);
                    for h in &headers {
                        answer.add_header(h.clone());
                    }
                    let _ = rq.respond(answer);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
