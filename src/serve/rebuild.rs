//! Rebuilding only what a change needs, where that is cheap.
//!
//! The loaded site is kept between rebuilds: a Markdown edit re-reads only
//! `content/`, a template edit only the theme; `portal.toml` or a form
//! reloads everything. Rendering always runs in full, so the preview is
//! exactly what `portaal build` would write.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::forms::PreviewForms;
use super::watch::Change;
use crate::diagnostics::Diagnostics;
use crate::render::output::{self, Files};
use crate::render::target::Target;
use crate::render::{self, BuildOptions};
use crate::site::{Site, content};

pub struct Rebuilder {
    site_dir: PathBuf,
    options: BuildOptions,
    out: Option<Target>,
    site: Option<Site>,
    forms: PreviewForms,
}

impl Rebuilder {
    pub fn new(
        site_dir: PathBuf,
        base_url: String,
        out: Option<Target>,
        issued: Option<u64>,
    ) -> anyhow::Result<Self> {
        Ok(Rebuilder {
            site_dir,
            options: BuildOptions {
                base_url: Some(base_url),
                forms: None,
            },
            out,
            site: None,
            forms: PreviewForms::new(issued)?,
        })
    }

    /// Where the preview's ticket e-mails are written.
    pub fn outbox(&self) -> PathBuf {
        self.forms.outbox()
    }

    /// Rebuilds after `changes`; the error is the problems as text.
    pub fn rebuild(&mut self, changes: &BTreeSet<Change>) -> Result<Files, String> {
        let problems = self.reload(changes);
        let Some(site) = self.site.as_ref() else {
            return Err(self.show(&problems));
        };
        let built = render::render_site(site, &self.options, problems).map_err(|d| {
            // Problems found while loading are only found again by a full load.
            self.site = None;
            self.show(&d)
        })?;
        if let Some(out) = &self.out {
            output::replace_dir(out, &built.files)
                .map_err(|e| format!("cannot write {}: {e}", out.path().display()))?;
        }
        Ok(built.files)
    }

    fn show(&self, diags: &Diagnostics) -> String {
        diags.prefixed(std::path::Path::new(""))
    }

    /// Brings the loaded site up to date with `changes`, returning the
    /// problems found. After a failed rebuild `site` is `None`, so the next
    /// one loads everything again.
    fn reload(&mut self, changes: &BTreeSet<Change>) -> Diagnostics {
        let Some(site) = self
            .site
            .as_mut()
            .filter(|_| !changes.contains(&Change::Config))
        else {
            let (site, mut problems) = crate::check::load_site(&self.site_dir);
            if let Some(site) = site.as_ref().filter(|_| !problems.has_errors()) {
                let url = self.options.base_url.clone().unwrap_or_default();
                match self.forms.restart(site, &url) {
                    Ok(target) => self.options.forms = Some(target),
                    Err(e) => problems.push(crate::diagnostics::Diagnostic::error(
                        crate::site::CONFIG_FILE,
                        format!("cannot start the preview's form endpoint: {e:#}"),
                    )),
                }
            }
            self.site = site;
            return problems;
        };
        let languages = site.languages().to_vec();
        let mut diags = Diagnostics::default();
        if changes.contains(&Change::Content) {
            site.content = content::load(&self.site_dir, &languages, &mut diags);
        }
        let theme_changed = [Change::Theme, Change::Stylesheet, Change::Static]
            .iter()
            .any(|c| changes.contains(c));
        if theme_changed {
            site.theme = crate::site::load_theme(
                &self.site_dir,
                site.config.site.theme.get_ref(),
                &languages,
                &mut diags,
            );
        }
        diags
    }
}
