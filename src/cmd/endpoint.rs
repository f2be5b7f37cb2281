//! `portaal endpoint`: serve the request forms of an agency's portals.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::endpoint::Endpoint;
use crate::endpoint::mailer::{self, Delivery, MailSettings, SmtpSettings};
use crate::endpoint::ratelimit::Rate;
use crate::endpoint::registry::Registry;
use crate::endpoint::server::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site directories (each with portal.toml); default: `example` when
    /// it exists, else the current directory.
    pub sites: Vec<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: IpAddr,
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Where tickets wait for delivery. Back it up; keep it on local disk.
    #[arg(long, default_value = "spool")]
    pub spool: PathBuf,
    /// SMTP relay URL: `smtp://host:25`, `smtp://host:587?tls=required`
    /// (STARTTLS required), `smtp://host?tls=opportunistic`, `smtps://host`.
    /// Credentials come from $PORTAAL_SMTP_USER and $PORTAAL_SMTP_PASSWORD.
    /// Without it, mail is written to the outbox instead.
    #[arg(long, env = "PORTAAL_SMTP_URL")]
    pub smtp: Option<String>,
    /// Write `.eml` files here instead of sending (default SPOOL/outbox
    /// when no --smtp is given).
    #[arg(long)]
    pub outbox: Option<PathBuf>,
    /// The From address of ticket mails.
    #[arg(long, default_value = "portaal <portaal@localhost>")]
    pub from: String,
    /// The name sent in EHLO to the relay (default: the --from domain when
    /// it is fully qualified, else the host name).
    #[arg(long, value_name = "NAME")]
    pub helo: Option<String>,
    /// Seconds an SMTP exchange may take.
    #[arg(long, default_value_t = 30)]
    pub smtp_timeout: u64,
    /// A key ring file for every site, instead of each site's own
    /// `.portaal/signing.keys` ($PORTAAL_SIGNING_KEYS overrides both).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Largest accepted form post, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_body: usize,
    /// Posts per minute (and burst) one client address may make.
    #[arg(long, default_value_t = 10)]
    pub client_rate: u32,
    /// Posts per minute (and burst of half that) one site may receive.
    #[arg(long, default_value_t = 600)]
    pub site_rate: u32,
    /// Seconds a request's head may take to arrive, then its body, then
    /// the writing of the answer; a stalled connection is closed after at
    /// most three times this.
    #[arg(long, default_value_t = 10)]
    pub io_timeout: u64,
    /// Open connections at most; at the limit the oldest one still waiting
    /// for its request is closed to make room for a new one.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Threads checking and storing posts. Each waits for its post's flush
    /// to disk, so more threads mean more posts per flush (group commit).
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Trust X-Real-IP / X-Forwarded-For (only behind your own proxy).
    #[arg(long)]
    pub trust_proxy: bool,
    /// First pause, in milliseconds, before retrying a mail that could not
    /// be delivered; it doubles each time up to --retry-max.
    #[arg(long, default_value_t = 5000)]
    pub retry_base_ms: u64,
    /// Longest pause between delivery attempts, in seconds.
    #[arg(long, default_value_t = 900)]
    pub retry_max: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::endpoint::logger::init().map_err(anyhow::Error::msg)?;
    let sites = if args.sites.is_empty() {
        let example = PathBuf::from("example");
        vec![if example.join("portal.toml").is_file() {
            example
        } else {
            PathBuf::from(".")
        }]
    } else {
        args.sites.clone()
    };
    let registry = Registry::load(&sites, args.key_file.as_deref())?;
    let helo = (args.helo.clone()).or_else(|| {
        let from = args.from.parse().ok()?;
        mailer::default_helo(&from)
    });
    let delivery = match (&args.smtp, &args.outbox) {
        (Some(url), None) => Delivery::smtp_as(
            &SmtpSettings {
                url: url.clone(),
                username: std::env::var("PORTAAL_SMTP_USER").ok(),
                password: std::env::var("PORTAAL_SMTP_PASSWORD").ok(),
                timeout: Duration::from_secs(args.smtp_timeout),
            },
            helo.as_deref(),
        )?,
        (_, Some(dir)) => Delivery::Outbox(dir.clone()),
        (None, None) => Delivery::Outbox(args.spool.join("outbox")),
    };
    let from = args
        .from
        .parse()
        .with_context(|| format!("--from `{}` is not a mailbox", args.from))?;
    let from = mailer::sender(&from).map_err(|e| anyhow::anyhow!("--from {e}"))?;
    let settings = Settings {
        listen: SocketAddr::new(args.listen, args.port),
        max_body: args.max_body,
        workers: args.workers,
        client_rate: Rate {
            burst: args.client_rate,
            per_minute: args.client_rate,
        },
        site_rate: Rate {
            burst: (args.site_rate / 2).max(1),
            per_minute: args.site_rate,
        },
        io_timeout: Duration::from_secs(args.io_timeout.max(1)),
        max_connections: args.max_connections.max(1),
        trust_proxy: args.trust_proxy,
    };
    let mail = MailSettings {
        delivery: delivery.clone(),
        from: from.clone(),
        retry_base: Duration::from_millis(args.retry_base_ms.max(1)),
        retry_max: Duration::from_secs(args.retry_max.max(1)),
    };
    let mut routes: Vec<String> = (registry.sites.values())
        .flat_map(|s| [s.requests.clone(), s.complaints.clone()])
        .flatten()
        .collect();
    routes.sort();
    routes.dedup();
    let endpoint = Endpoint::start(registry, settings, &args.spool, mail)?;
    // In the log too, for a supervisor that reads only stderr.
    log::info!("listening on http://{}", endpoint.addr());
    let mut ids: Vec<String> = sites.iter().map(|s| s.display().to_string()).collect();
    ids.sort();
    let mut banner = vec![format!(
        "portaal endpoint listening on http://{} for {} ({} site{}); spool {}",
        endpoint.addr(),
        ids.join(", "),
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        args.spool.display()
    )];
    banner.push(match &delivery {
        Delivery::Outbox(dir) => format!(
            "OUTBOX MODE: no mail is sent; tickets are written as .eml files to {}",
            dir.display()
        ),
        Delivery::Smtp(_) => format!(
            "sending tickets via {}",
            args.smtp.as_deref().unwrap_or_default()
        ),
    });
    // A server keeps serving when nobody reads its banner (a closed pipe
    // under a supervisor): the lines are best effort, never a panic.
    for line in banner {
        let _ = super::print_line(line);
    }
    if let Some(url) = &args.smtp {
        let timeout = Duration::from_secs(args.smtp_timeout);
        for line in mailer::check_routes(url, helo.as_deref(), timeout, &from, &routes) {
            match line.strip_prefix("ERROR ") {
                Some(error) => log::error!("{error}"),
                None => log::warn!("{line}"),
            }
        }
    }
    endpoint.wait()
}
