//! `portaal serve`: a live-reload preview for editors.

use std::path::PathBuf;

use crate::serve;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site directory, holding portal.toml.
    #[arg(default_value = ".")]
    pub site: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, short, default_value_t = 1111)]
    pub port: u16,
    /// Open the portal in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Also write each good build to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    serve::run(serve::Options {
        site_dir: args.site,
        port: args.port,
        open: args.open,
        out: args.out,
    })
}
