//! `portaal build`: render portals into static files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;

use super::Reported;
use crate::diagnostics::Diagnostics;
use crate::render::{self, BuildOptions, output};
use crate::site::Site;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site directories, each holding a portal.toml. Several build in
    /// parallel, each into its own output.
    #[arg(default_value = ".")]
    pub sites: Vec<PathBuf>,
    /// Output directory. With one site: the output itself (default
    /// SITE/public). With several: a folder that gets one subfolder per
    /// site id.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Publish under this URL instead of `[site] base_url` (e.g. staging).
    #[arg(long)]
    pub base_url: Option<String>,
}

/// What one site's build did.
pub struct Summary {
    pub site_id: String,
    pub pages: usize,
    pub languages: usize,
    pub out: PathBuf,
    pub millis: u128,
    pub warnings: Diagnostics,
}

/// Loads, renders and writes one site. Problems come back all together.
pub fn build_site(site_dir: &Path, out: &Path, options: &BuildOptions) -> Result<Summary, Failure> {
    let start = Instant::now();
    let (site, problems) = Site::load_with_problems(site_dir);
    let site = site.ok_or_else(|| Failure::Site(problems.clone().sorted()))?;
    let built = render::render_site(&site, options, problems).map_err(Failure::Site)?;
    output::replace_dir(out, &built.files)
        .with_context(|| format!("cannot write the output to {}", out.display()))
        .map_err(Failure::Io)?;
    Ok(Summary {
        site_id: site.id().to_string(),
        pages: built.pages,
        languages: site.languages().len(),
        out: out.to_path_buf(),
        millis: start.elapsed().as_millis(),
        warnings: built.warnings,
    })
}

pub enum Failure {
    Site(Diagnostics),
    Io(anyhow::Error),
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let options = BuildOptions {
        base_url: args.base_url.clone(),
        forms: None,
    };
    if let Some(url) = &args.base_url {
        anyhow::ensure!(
            crate::site::identifiers::is_valid_web_url(url),
            "--base-url `{url}` is not an absolute http(s) URL"
        );
    }
    let several = args.sites.len() > 1;
    let targets: Vec<(PathBuf, PathBuf)> = args
        .sites
        .iter()
        .map(|dir| {
            let out = match (&args.out, several) {
                (Some(out), false) => out.clone(),
                (Some(out), true) => out.join(site_folder_name(dir)),
                (None, _) => dir.join("public"),
            };
            (dir.clone(), out)
        })
        .collect();
    let results: Vec<(PathBuf, Result<Summary, Failure>)> = targets
        .par_iter()
        .map(|(dir, out)| (dir.clone(), build_site(dir, out, &options)))
        .collect();

    let mut failed = 0;
    for (dir, result) in results {
        match result {
            Ok(s) => {
                if !s.warnings.is_empty() {
                    eprintln!("{}", prefixed(&dir, &s.warnings));
                }
                println!(
                    "built {}: {} pages in {} languages into {} ({} ms)",
                    s.site_id,
                    s.pages,
                    s.languages,
                    s.out.strip_prefix("./").unwrap_or(&s.out).display(),
                    s.millis
                );
            }
            Err(Failure::Site(diags)) => {
                failed += 1;
                let n = diags.error_count();
                eprintln!("{}", prefixed(&dir, &diags));
                eprintln!(
                    "error: {n} {} in {}; nothing was written, the previous output is untouched\n",
                    if n == 1 { "problem" } else { "problems" },
                    shown_dir(&dir)
                );
            }
            Err(Failure::Io(e)) => {
                failed += 1;
                eprintln!("error: {}: {e:#}\n", dir.display());
            }
        }
    }
    if failed > 0 {
        let summary = if several {
            format!("{failed} of {} sites failed to build", args.sites.len())
        } else {
            String::new()
        };
        return Err(Reported(summary).into());
    }
    Ok(())
}

/// Diagnostics with paths shown from the current directory.
pub fn prefixed(dir: &Path, diags: &Diagnostics) -> String {
    let mut shown = diags.clone();
    for d in &mut shown.0 {
        if d.file.is_relative() && !d.file.starts_with("<built-in theme>") {
            d.file = dir.join(&d.file);
        }
    }
    for d in &mut shown.0 {
        if let Ok(rel) = d.file.strip_prefix("./") {
            d.file = rel.to_path_buf();
        }
    }
    shown.to_string()
}

fn shown_dir(dir: &Path) -> String {
    if dir == Path::new(".") {
        "this portal".into()
    } else {
        dir.display().to_string()
    }
}

/// The folder name of a site's output when several build into one `--out`.
fn site_folder_name(dir: &Path) -> String {
    std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "site".into())
}
