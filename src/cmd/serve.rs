//! `portaal serve`: a live-reload preview for editors.

use std::path::PathBuf;

use crate::serve;

/// The preview's default port: portaal's own, not another generator's
/// (zola uses 1111, hugo 1313), and not a common service's.
pub const DEFAULT_PORT: u16 = 7110;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site directory, holding portal.toml.
    #[arg(default_value = ".")]
    pub site: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one (printed at start).
    #[arg(long, short, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Open the portal in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Also write each good build to this directory (same rules as
    /// `build --out`: an empty folder or an earlier portaal output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // The preview's forms post to an endpoint of its own, which logs.
    crate::endpoint::logger::init().map_err(anyhow::Error::msg)?;
    // `$SOURCE_DATE_EPOCH` dates the preview's forms as it does a build's.
    let fixed = std::env::var_os(crate::forms::sign::SOURCE_DATE_EPOCH).is_some();
    let issued = fixed.then(super::build::issue_time).transpose();
    serve::run(serve::Options {
        site_dir: args.site,
        port: args.port,
        open: args.open,
        out: args.out,
        issued: issued.map_err(|d| super::Refused(d.to_string()))?,
    })
}
