//! `portaal build`: render portals into static files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;

use super::{Refused, Reported, print_line};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::render::target::{Guard, Target};
use crate::render::{self, BuildOptions, FormTarget, output};
use crate::site::Site;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Site directories, each holding a portal.toml. Several build in
    /// parallel, each into its own output.
    #[arg(default_value = ".")]
    pub sites: Vec<PathBuf>,
    /// Output directory. With one site: the output itself (default
    /// SITE/public). With several: a folder that gets one subfolder per
    /// site id ([site] id). portaal only replaces an empty folder or an
    /// output it wrote (marked by a .portaal-build file), never a site or
    /// the current directory.
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
    /// Whether the rights pages carry a request form (`[endpoint] url`).
    pub forms: bool,
}

/// Loads, renders and writes one site. Problems come back all together.
/// `out` is the output as the user named it (for messages) and its checked
/// target; without a target (the site id could not be read beforehand) the
/// site is rendered, so that its problems are reported, but not written.
pub fn build_site(
    site_dir: &Path,
    out: Option<&(PathBuf, Target)>,
    options: &BuildOptions,
) -> Result<Summary, Failure> {
    let start = Instant::now();
    let (site, mut problems) = crate::check::load_site(site_dir);
    let site = site.ok_or_else(|| Failure::Site(problems.clone().sorted()))?;
    let (forms, new_key) = signing(&site, &mut problems);
    let options = BuildOptions {
        forms,
        ..options.clone()
    };
    let built = render::render_site(&site, &options, problems).map_err(Failure::Site)?;
    let Some((shown, target)) = out else {
        return Err(Failure::Io(anyhow::anyhow!(
            "cannot read [site] id from portal.toml before building, so the output folder is unknown"
        )));
    };
    if let Some(line) = new_key {
        write_new_key(&site, line).map_err(Failure::Io)?;
    }
    output::replace_dir(target, &built.files)
        .with_context(|| format!("cannot write the output to {}", shown.display()))
        .map_err(Failure::Io)?;
    Ok(Summary {
        site_id: site.id().to_string(),
        pages: built.pages,
        languages: site.languages().len(),
        out: shown.clone(),
        millis: start.elapsed().as_millis(),
        warnings: built.warnings,
        forms: site.config.endpoint.url.is_some(),
    })
}

/// How the site's forms are signed: with its own keys, issued at
/// `$SOURCE_DATE_EPOCH` or now. A site with an endpoint but no key yet gets
/// a new one, returned with it to be written once the site rendered.
fn signing(site: &Site, problems: &mut Diagnostics) -> (Option<FormTarget>, Option<String>) {
    use crate::forms::sign::{KEY_FILE, KeyRing, new_key_line};
    let Some(url) = &site.config.endpoint.url else {
        return (None, None);
    };
    let Ok(issued) = issue_time().map_err(|d| problems.extend(d)) else {
        return (None, None);
    };
    if matches!(KeyRing::find(&site.dir, None), Ok(None)) {
        let new = new_key_line(None).and_then(|line| {
            let keys = KeyRing::parse(&line, KEY_FILE).map_err(std::io::Error::other)?;
            Ok((line, keys))
        });
        return match new {
            Ok((line, keys)) => {
                let action = url.get_ref().clone();
                (
                    Some(FormTarget {
                        action,
                        keys,
                        issued,
                    }),
                    Some(line),
                )
            }
            Err(e) => {
                let message = format!("cannot make a signing key: {e}");
                problems.push(Diagnostic::error(KEY_FILE, message));
                (None, None)
            }
        };
    }
    let forms = render::site_forms(site, issued);
    (forms.map_err(|d| problems.extend(d)).ok().flatten(), None)
}

/// Writes the key a build signed with (the only file it writes beside its
/// output) and says so: it is a secret the endpoint must share.
fn write_new_key(site: &Site, line: String) -> anyhow::Result<()> {
    let (path, _) = crate::forms::sign::add_key_line(&site.dir, Some(line))
        .context("cannot write the new signing key")?;
    eprintln!(
        "note: created the forms' signing key {}: keep it secret, and out of public/ and of version control",
        path.display()
    );
    Ok(())
}

/// The issue time of forms (see [`crate::forms::sign::issue_time`]); a bad
/// `$SOURCE_DATE_EPOCH` is reported against the variable itself.
pub(crate) fn issue_time() -> Result<u64, Diagnostics> {
    use crate::forms::sign::SOURCE_DATE_EPOCH;
    let value = std::env::var_os(SOURCE_DATE_EPOCH);
    crate::forms::sign::issue_time(value.as_deref(), crate::vocab::clock::now_secs()).map_err(
        |message| {
            let mut d = Diagnostics::default();
            d.push(
                Diagnostic::error(format!("${SOURCE_DATE_EPOCH}"), message).with_fix(format!(
                    "set {SOURCE_DATE_EPOCH} to a past time in seconds (e.g. `git log -1 --format=%ct`), or unset it"
                )),
            );
            d
        },
    )
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
    if let Some(url) = &args.base_url
        && !crate::vocab::identifiers::is_valid_web_url(url)
    {
        return Err(Refused(format!(
            "--base-url `{url}` is not an absolute http(s) URL; write it in full, e.g. https://staging.example.be/"
        ))
        .into());
    }
    let targets = plan_outputs(&args)?;
    let results: Vec<(PathBuf, Result<Summary, Failure>)> = targets
        .par_iter()
        .map(|(dir, out)| (dir.clone(), build_site(dir, out.as_ref(), &options)))
        .collect();
    // Previous outputs are deleted while the other sites build.
    output::finish_deleting();

    let several = args.sites.len() > 1;
    let mut failed = 0;
    for (dir, result) in results {
        match result {
            Ok(s) => {
                if !s.warnings.is_empty() {
                    eprintln!("{}", s.warnings.prefixed(&dir));
                }
                let said = print_line(format_args!(
                    "built {}: {} in {} into {} ({} ms)",
                    s.site_id,
                    counted(s.pages, "page", "pages"),
                    counted(s.languages, "language", "languages"),
                    s.out.strip_prefix("./").unwrap_or(&s.out).display(),
                    s.millis
                ));
                // Nobody reads the summary any more (`| head`); the other
                // sites' failures still decide the exit code.
                if let Err(e) = said
                    && e.kind() != std::io::ErrorKind::BrokenPipe
                {
                    return Err(e.into());
                }
                if !s.forms {
                    eprintln!(
                        "note: {}: the rights pages have no request form, because portal.toml has no [endpoint] url\n  \
                         fix: add `[endpoint]` with `url = \"https://…\"` (the address of your portaal endpoint) to let visitors send requests",
                        s.site_id
                    );
                }
            }
            Err(Failure::Site(diags)) => {
                failed += 1;
                let n = diags.error_count();
                eprintln!("{}", diags.prefixed(&dir));
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

fn shown_dir(dir: &Path) -> String {
    if dir == Path::new(".") {
        "this portal".into()
    } else {
        dir.display().to_string()
    }
}

/// "1 page", "2 pages".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Each site with its checked output: `SITE/public`, `--out` itself for
/// one site, or `--out/<site id>` for several. Every output is checked
/// before anything is built; any refusal, or two sites with the same id,
/// stops the run with nothing written.
#[allow(clippy::type_complexity)]
fn plan_outputs(args: &Args) -> anyhow::Result<Vec<(PathBuf, Option<(PathBuf, Target)>)>> {
    let guard = Guard::new(&args.sites).context("cannot read the current directory")?;
    let several = args.sites.len() > 1;
    let mut refusals: Vec<String> = Vec::new();
    let folder = match (&args.out, several) {
        (Some(out), true) => match guard.check_folder(out) {
            Ok(()) => Some(out.clone()),
            Err(r) => return Err(Refused(r.to_string()).into()),
        },
        _ => None,
    };
    // Read in parallel: with hundreds of sites this is most of the planning.
    let ids: Vec<Option<String>> = if several {
        args.sites.par_iter().map(|d| read_site_id(d)).collect()
    } else {
        vec![None]
    };
    let mut by_id: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
    for (dir, id) in args.sites.iter().zip(&ids) {
        if let Some(id) = id {
            by_id.entry(id).or_default().push(dir);
        }
    }
    // Each output is checked on its own (which reads its earlier output's
    // folders): in parallel, the refusals reported in the sites' order.
    let checked: Vec<(PathBuf, Result<Option<(PathBuf, Target)>, String>)> = args
        .sites
        .par_iter()
        .zip(&ids)
        .map(|(dir, id)| {
            let out = match (&args.out, &folder) {
                (_, Some(folder)) => id.as_ref().map(|id| folder.join(id)),
                (Some(out), None) => Some(out.clone()),
                (None, _) => Some(dir.join("public")),
            };
            let target = match out {
                Some(out) => match guard.check(&out, Some(dir)) {
                    Ok(t) => Ok(Some((out, t))),
                    Err(r) => Err(r.to_string()),
                },
                None => Ok(None),
            };
            (dir.clone(), target)
        })
        .collect();
    let mut planned = Vec::new();
    for (dir, target) in checked {
        let target = target.unwrap_or_else(|refusal| {
            refusals.push(refusal);
            None
        });
        planned.push((dir, target));
    }
    for (id, dirs) in &by_id {
        if dirs.len() > 1 {
            refusals.push(format!(
                "{} sites have the id `{id}`: {}; each site of one run needs its own [site] id \
                 (it names the site's output folder and is signed into its forms)\n  \
                 fix: give each site its own `id` in [site] of its portal.toml, or build them in separate runs",
                dirs.len(),
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if !refusals.is_empty() {
        return Err(Refused(refusals.join("\nerror: ")).into());
    }
    Ok(planned)
}

/// `[site] id` from a site's portal.toml, read before the full load so that
/// every output is known (and checked) before anything is written. `None`
/// when it cannot be read or is not a plain id: the full load reports why.
fn read_site_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(crate::site::CONFIG_FILE)).ok()?;
    // The borrowed parse: nothing of the file but the id is kept.
    let table = toml::de::DeTable::parse(&text).ok()?;
    let toml::de::DeValue::Table(site) = table.get_ref().get("site")?.get_ref() else {
        return None;
    };
    let toml::de::DeValue::String(id) = site.get("id")?.get_ref() else {
        return None;
    };
    let plain = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plain.then(|| id.to_string())
}
