//! `portaal scan`: visit the firm's website in a headless Chromium and hold
//! what it sets and loads against the portal's declarations.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Refused, Reported};
use crate::check::cookie_db::CookieDb;
use crate::scan::observe::Level;
use crate::scan::{self, Options, browser, compare, crawl, report, write};
use crate::site::Site;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by what was seen, for people.
    Text,
    /// The whole report as JSON, for CI and `check --scan` (fields in README.md).
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page to start at, e.g. https://www.firm.nl/
    pub url: String,
    /// A site directory holding the portal.toml to compare with.
    pub site: Option<PathBuf>,
    /// Visit at most this many pages.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub pages: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print [[cookies]] and [[recipients]] entries for what is not
    /// declared; with `--write=FILE`, write a copy of portal.toml with them
    /// appended to FILE (an existing FILE is first saved as FILE.bak).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    pub write: Option<PathBuf>,
    /// An Open Cookie Database CSV, to pre-fill the entries --write drafts.
    #[arg(long, value_name = "CSV")]
    pub cookie_db: Option<PathBuf>,
    /// A CSS selector for the consent banner's accept button: the scan
    /// clicks it on the start page and records what appears after consent.
    #[arg(long, value_name = "SELECTOR")]
    pub accept: Option<String>,
    /// The Chromium (or Chrome) binary; default: `chromium` on PATH.
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
    /// The User-Agent header to send; default: the browser's own, as a
    /// visitor's Chrome sends it.
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Scan pages that the site's robots.txt closes to crawlers.
    #[arg(long)]
    pub ignore_robots: bool,
    /// Seconds one page may take to load.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub page_timeout: u64,
    /// Seconds the whole scan may take; it stops with what it has.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub max_time: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = crawl::start_url(&args.url).map_err(|e| Refused(format!("{e:#}")))?;
    if args.pages == 0 || args.page_timeout == 0 || args.max_time == 0 {
        return Err(
            Refused("--pages, --page-timeout and --max-time must be at least 1".into()).into(),
        );
    }
    let write_to = args.write.as_ref().filter(|p| p.as_os_str() != "-");
    if args.write.is_some() && write_to.is_none() && args.format == Format::Json {
        return Err(Refused(
            "--write prints TOML, which cannot go with --format json on stdout; use --write=FILE"
                .into(),
        )
        .into());
    }
    if write_to.is_some() && args.site.is_none() {
        return Err(Refused(
            "--write=FILE writes a copy of the site's portal.toml: give the SITE_DIR too".into(),
        )
        .into());
    }
    let site = match &args.site {
        Some(dir) => match Site::load(dir) {
            Ok(site) => Some(site),
            Err(diags) => {
                eprintln!("{}", diags.prefixed(dir));
                return Err(Reported(format!(
                    "{}: portal.toml must load before the scan can compare with it",
                    dir.display()
                ))
                .into());
            }
        },
        None => None,
    };
    let cookie_db = CookieDb::load_option(args.cookie_db.as_deref())?;
    let options = Options {
        start,
        pages: args.pages,
        page_timeout: Duration::from_secs(args.page_timeout),
        total: Duration::from_secs(args.max_time),
        browser: browser::find(args.browser.as_deref())?,
        user_agent: args.user_agent.clone(),
        ignore_robots: args.ignore_robots,
        accept: args.accept.clone(),
    };
    let began = Instant::now();
    let mut report = scan::scan(&options, |url| eprintln!("scanning {url}"))?;
    // Pages that robots.txt closed are listed in the report, not visited.
    let visited = report
        .pages
        .iter()
        .filter(|p| {
            p.error
                .as_ref()
                .is_none_or(|e| !e.starts_with("robots.txt"))
        })
        .count();
    eprintln!(
        "scanned {visited} pages in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    if let Some(site) = &site {
        report.findings =
            compare::compare(&report, site, cookie_db.as_ref(), jiff::Timestamp::now());
    }
    let mut text = match args.format {
        Format::Text => report::text(&report, site.is_some()),
        Format::Json => report::json(&report),
    };
    if args.write.is_some() {
        let owner = site
            .as_ref()
            .map(|s| s.config.controller.legal_name.as_str());
        let entries = write::entries(&report, site.is_some(), owner, cookie_db.as_ref());
        match (write_to, &args.site) {
            (Some(target), Some(dir)) => {
                let original = dir.join(crate::site::CONFIG_FILE);
                let backup = write::write_copy(&original, &entries, target)?;
                match backup {
                    Some(b) => eprintln!(
                        "wrote {} (portal.toml with the draft entries; what was there is saved as {})",
                        target.display(),
                        b.display()
                    ),
                    None => eprintln!(
                        "wrote {} (portal.toml with the draft entries)",
                        target.display()
                    ),
                }
            }
            _ if entries.is_empty() => {
                text.push_str("\nNothing to add to portal.toml.\n");
            }
            _ => {
                text.push_str(
                    "\nDraft entries for portal.toml (check every REVIEW before publishing):\n",
                );
                text.push_str(&entries);
            }
        }
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    if report::count(&report, Level::Error) > 0 {
        return Err(Reported(String::new()).into());
    }
    Ok(())
}
