//! `portaal check`: report what a portal still lacks, without building it.

use std::path::PathBuf;

use rayon::prelude::*;

use super::{Refused, Reported};
use crate::check::cookie_db::CookieDb;
use crate::check::{self, CheckOptions, SiteReport, report};
use crate::diagnostics::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Grouped by site, for people.
    Human,
    /// One JSON document on stdout, for CI (schema in README.md).
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site directories, each holding a portal.toml.
    #[arg(default_value = ".")]
    pub sites: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub deny_warnings: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// An Open Cookie Database CSV (open-cookie-database.csv) to compare the
    /// declared cookies with and to suggest entries from.
    #[arg(long, value_name = "CSV")]
    pub cookie_db: Option<PathBuf>,
    /// A report of `portaal scan --format json`: compare what it saw on the
    /// website with the portal (one site directory only).
    #[arg(long, value_name = "REPORT.json")]
    pub scan: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.scan.is_some() && args.sites.len() != 1 {
        return Err(super::Refused(
            "--scan compares one website with one portal: give exactly one site directory".into(),
        )
        .into());
    }
    let cookie_db = CookieDb::load_option(args.cookie_db.as_deref())?;
    let options = CheckOptions {
        cookie_db,
        today: check::date_of(now()?),
    };
    let mut reports: Vec<SiteReport> = args
        .sites
        .par_iter()
        .map(|dir| check::check_site(dir, &options))
        .collect();
    if let (Some(path), Some(report)) = (&args.scan, reports.first_mut()) {
        let found = crate::scan::compare::saved_report_findings(path, &report.dir)?;
        let mut all = std::mem::take(&mut report.findings);
        all.extend(found);
        report.findings = all.sorted();
    }
    let text = match args.format {
        Format::Human => report::human(&reports),
        Format::Json => format!("{}\n", report::json(&reports)),
    };
    // Through the lock, so that a closed pipe is an error for `main` to end
    // quietly, not a panic.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    let errors: usize = reports.iter().map(|r| r.count(Severity::Error)).sum();
    let warnings: usize = reports.iter().map(|r| r.count(Severity::Warning)).sum();
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        // Everything was printed above; only the exit code is left.
        return Err(Reported(String::new()).into());
    }
    Ok(())
}

/// The time "today" is taken from: `$SOURCE_DATE_EPOCH` (seconds since
/// 1970) when set, so that a reproducible run, and the tests, fix the date
/// the policy's age is judged on; otherwise the system clock.
fn now() -> Result<u64, Refused> {
    use crate::forms::sign::SOURCE_DATE_EPOCH;
    let Some(value) = std::env::var_os(SOURCE_DATE_EPOCH) else {
        return Ok(crate::vocab::clock::now_secs());
    };
    value.to_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        Refused(format!(
            "${SOURCE_DATE_EPOCH} is `{}`, which is not a whole number of seconds since 1970-01-01 UTC; unset it to check against today",
            value.to_string_lossy()
        ))
    })
}
