//! A real SMTP server on loopback (mailin-embedded) that records what it
//! accepts and can be told to answer 451 or 550.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Answer `451` to the next n messages, then accept.
    TempFail(u32),
    /// Answer `550` to every message.
    Reject,
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The value of header `name` (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut out: Option<String> = None;
        let mut current = false;
        for line in head.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                if current && let Some(v) = out.as_mut() {
                    v.push_str(line.trim_start());
                }
                continue;
            }
            current = false;
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
                && out.is_none()
            {
                out = Some(v.trim().to_string());
                current = true;
            }
        }
        out
    }

    pub fn header_names(&self) -> Vec<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        head.split("\r\n")
            .filter(|l| !l.starts_with(' ') && !l.starts_with('\t'))
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_ascii_lowercase()))
            .collect()
    }

    /// The Subject, with its RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let parsed = mailparse::parse_mail(self.data.as_bytes()).expect("a parsable mail");
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case("Subject"))
            .map(|h| h.get_value())
            .unwrap_or_default()
    }

    /// The body, decoded from its Content-Transfer-Encoding.
    pub fn body(&self) -> String {
        let raw = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "quoted-printable" => decode_qp(&raw),
            "base64" => decode_base64(&raw),
            _ => raw.into_bytes(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[derive(Default)]
struct State {
    mode: Option<Mode>,
    accepted: Vec<Mail>,
    refused: u32,
}

#[derive(Clone)]
struct Recorder {
    state: Arc<Mutex<State>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut s = self.state.lock().unwrap();
        match s.mode.clone().unwrap_or(Mode::Accept) {
            Mode::TempFail(n) if n > 0 => {
                s.mode = Some(Mode::TempFail(n - 1));
                s.refused += 1;
                refusal(451, "Try again later")
            }
            Mode::Reject => {
                s.refused += 1;
                refusal(550, "Mailbox unavailable")
            }
            _ => {
                s.accepted.push(Mail {
                    from: self.from.clone(),
                    to: self.to.clone(),
                    data: String::from_utf8_lossy(&self.data).into_owned(),
                });
                mailin_embedded::response::OK
            }
        }
    }
}

/// A refusal of a message, after which the server closes the connection.
/// mailin stays in its DATA state after a refused message, so it would
/// read the client's next command (RSET, QUIT) as message text and never
/// answer: the client would stall until its timeout. Closing is what a
/// server may do after any reply, and the client sees the code first.
fn refusal(code: u16, text: &str) -> Response {
    let mut response = Response::custom(code, text.into());
    response.action = mailin_embedded::Action::Close;
    response
}

/// The server runs until the test process ends: mailin-embedded has no
/// stop. Tests that need "down" start it late on a [`super::DownPort`].
pub struct SmtpServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpServer {
    pub fn start(mode: Mode) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::on(listener, mode)
    }

    /// Starts on a port that was down until now.
    pub fn start_on(port: super::DownPort, mode: Mode) -> SmtpServer {
        Self::on(port.listen(), mode)
    }

    fn on(listener: TcpListener, mode: Mode) -> SmtpServer {
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Some(mode),
            ..State::default()
        }));
        let mut server = Server::new(Recorder {
            state: state.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("smtp.test")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer { port, state }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn accepted(&self) -> Vec<Mail> {
        self.state.lock().unwrap().accepted.clone()
    }

    pub fn refused(&self) -> u32 {
        self.state.lock().unwrap().refused
    }

    /// Waits until a mail to `rcpt` whose data contains `needle` arrived.
    pub fn wait_mail(&self, rcpt: &str, needle: &str) -> Mail {
        super::wait_for(
            &format!("a mail to {rcpt} with {needle}"),
            Duration::from_secs(20),
            || {
                self.accepted()
                    .into_iter()
                    .find(|m| m.to.iter().any(|t| t.contains(rcpt)) && m.data.contains(needle))
            },
        )
    }
}

fn decode_qp(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn decode_base64(s: &str) -> Vec<u8> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let Some(v) = ABC.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
