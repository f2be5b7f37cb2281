//! `portaal release`: record the current statement as a released version
//! in `history/<version>.toml`, for the agency to commit with the site.

use std::path::PathBuf;

use anyhow::Context;

use super::{Refused, Reported, print_line};
use crate::site::history::{self, Snapshot};
use crate::site::{CONFIG_FILE, Site};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site directory, holding portal.toml.
    #[arg(default_value = ".")]
    pub site: PathBuf,
    /// The version to record; must be `[site] policy_version` (the default),
    /// so that the statement and its snapshot name the same version.
    #[arg(long)]
    pub version: Option<String>,
    /// A short note on what changed in this version, shown with it.
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let site = Site::load(&args.site).map_err(|diags| {
        eprintln!("{}", diags.prefixed(&args.site));
        Reported("the portal has problems; fix them before releasing it".into())
    })?;
    let current = site.config.site.policy_version.get_ref().clone();
    let version = args.version.unwrap_or_else(|| current.clone());
    if version != current {
        return Err(Refused(format!(
            "--version {version} is not the statement's policy_version ({current})\n  \
             fix: set `policy_version = \"{version}\"` and `last_updated` in [site] of portal.toml first, \
             or leave --version out"
        ))
        .into());
    }
    if let Some(problem) = history::version_problem(&version) {
        return Err(Refused(format!(
            "version `{version}` {problem}, so it cannot name a file and an address\n  \
             fix: use a version such as `2.2` in policy_version"
        ))
        .into());
    }
    let path = history::path_of(&args.site, &version);
    if path.exists() {
        return Err(Refused(format!(
            "version {version} was already released ({}); a released version never changes\n  \
             fix: raise policy_version and last_updated in portal.toml, then release again",
            path.display()
        ))
        .into());
    }
    let text = std::fs::read_to_string(args.site.join(CONFIG_FILE))
        .with_context(|| format!("cannot read {}", args.site.join(CONFIG_FILE).display()))?;
    let facts = history::normalised_facts(&text).context("portal.toml is not TOML")?;
    let sections = history::current_sections(&site);
    let snapshot = Snapshot {
        version: version.clone(),
        valid_from: *site.config.site.last_updated.get_ref(),
        note: args.note.filter(|n| !n.trim().is_empty()),
        sections,
        facts,
    };
    let body = toml::to_string_pretty(&snapshot).context("cannot write the snapshot as TOML")?;
    let header = format!(
        "# Version {version} of the privacy statement, written by `portaal release`.\n\
         # Commit it with the site; do not edit it: later versions are compared with it.\n\n"
    );
    std::fs::create_dir_all(args.site.join(history::DIR))
        .with_context(|| format!("cannot create {}", args.site.join(history::DIR).display()))?;
    // `create_new`: a version released meanwhile by someone else is kept.
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(header.as_bytes())?;
    file.write_all(body.as_bytes())?;
    print_line(format_args!(
        "released version {version} into {}; commit it with the site",
        path.display()
    ))?;
    Ok(())
}
