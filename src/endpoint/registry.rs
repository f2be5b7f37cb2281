//! The portals one endpoint serves, keyed by site id, with what accepting a
//! post needs: keys, forms, routed addresses and page URLs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::ticket::Words;
use crate::forms::Route;
use crate::forms::definition::FormDef;
use crate::forms::sign::KeyRing;
use crate::forms::strings::{MailStrings, Problem};
use crate::render::endpoint_pages::SitePages;
use crate::site::Site;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::Right;

#[derive(Debug)]
pub struct SiteEntry {
    /// The site's theme, for the pages the endpoint answers with; `None`
    /// when it cannot be compiled (logged at start): then its visitors get
    /// plain pages in their language.
    pub pages: Option<Pages>,
    pub id: String,
    pub dir: PathBuf,
    pub firm: String,
    pub base_url: String,
    pub languages: Vec<Lang>,
    pub default_language: Lang,
    pub keys: KeyRing,
    pub forms: HashMap<String, (FormDef, [u8; 32])>,
    pub requests: Option<String>,
    pub complaints: Option<String>,
    pub acknowledge: bool,
    /// The language of the ticket mails to the firm.
    pub ticket_language: Lang,
    /// The IANA time zone the firm's deadlines are counted in.
    pub time_zone: String,
    /// The `[mail]` wording of the site's theme, per site language.
    pub mail: HashMap<Lang, Words>,
    /// The site theme's `[form.problem]` texts, per site language.
    pub problems: HashMap<Lang, toml::Table>,
}

/// A site's compiled theme (a wrapper, for `Debug`).
pub struct Pages(pub SitePages);

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

impl SiteEntry {
    /// The `[mail]` wording in `lang` (built-in for a language the site
    /// does not have).
    pub fn mail_words(&self, lang: Lang) -> Words {
        self.mail
            .get(&lang)
            .cloned()
            .unwrap_or_else(|| Words::new(MailStrings::builtin(lang)))
    }

    /// What the site's theme says about a refused field in `lang`.
    pub fn problem_text(&self, lang: Lang, problem: Problem) -> Option<&str> {
        self.problems.get(&lang)?.get(problem.key())?.as_str()
    }

    /// The address a form's tickets go to.
    pub fn route(&self, route: Route) -> Option<&str> {
        match route {
            Route::Requests => self.requests.as_deref(),
            Route::Complaints => self.complaints.as_deref().or(self.requests.as_deref()),
        }
    }

    pub fn thanks_url(&self, lang: Lang, reference: &str) -> String {
        format!("{}/{lang}/thanks/?ref={reference}", self.base_url)
    }

    pub fn form_url(&self, lang: Lang, right: Right) -> String {
        format!("{}/{lang}/{}/", self.base_url, right.slug())
    }
}

#[derive(Debug, Default)]
pub struct Registry {
    pub sites: HashMap<String, SiteEntry>,
    /// Sites that did not load (their Markdown, theme or portal.toml has
    /// errors), by id when it could be read: their posts are refused.
    pub skipped: HashSet<String>,
}

impl Registry {
    /// Loads every site directory. A site with errors is logged and
    /// skipped, so that one client's broken page does not stop the forms
    /// of all the others; its posts get 403 until it is fixed and the
    /// endpoint restarted. Keys, routes and ids still stop the start.
    pub fn load(dirs: &[PathBuf], key_file: Option<&Path>) -> anyhow::Result<Registry> {
        let mut reg = Registry::default();
        for dir in dirs {
            let (site, problems) = Site::load_with_problems(dir);
            let id = site.as_ref().map(|s| s.id().to_string());
            let Some(site) = site.filter(|_| !problems.has_errors()) else {
                log::error!(
                    "site `{}` ({}) is skipped and its posts are refused until it is fixed and the endpoint restarted:\n{}",
                    id.as_deref().unwrap_or("?"),
                    dir.display(),
                    problems.sorted().prefixed(dir)
                );
                reg.skipped.extend(id);
                continue;
            };
            let mut found = KeyRing::find(dir, key_file)
                .with_context(|| format!("signing keys of {}", dir.display()))?;
            if found.is_none() {
                // A fresh portal: make the key the next build will sign with.
                let (path, _) = crate::forms::sign::add_key(dir)
                    .with_context(|| format!("cannot create a signing key in {}", dir.display()))?;
                println!(
                    "created signing key {}; rebuild the portal so its forms use it",
                    path.display()
                );
                found = KeyRing::find(dir, key_file)?;
            }
            let keys = found.filter(|k| !k.keys.is_empty()).with_context(|| {
                format!(
                    "{}: no signing key; run `portaal init --key-only {0}` or set ${}",
                    dir.display(),
                    crate::forms::sign::KEYS_ENV
                )
            })?;
            let entry = SiteEntry::new(&site, keys);
            for (form, _) in entry.forms.values() {
                if entry.route(form.route).is_none() {
                    bail!(
                        "{}: form `{}` routes to `{}`, but portal.toml has no such [contacts] address",
                        dir.display(),
                        form.id,
                        crate::forms::definition::route_key(form.route)
                    );
                }
            }
            if reg.sites.contains_key(&entry.id) {
                bail!("two sites have the id `{}`", entry.id);
            }
            reg.sites.insert(entry.id.clone(), entry);
        }
        Ok(reg)
    }
}

impl SiteEntry {
    pub fn new(site: &Site, keys: KeyRing) -> SiteEntry {
        let c = &site.config;
        let pages = match SitePages::new(site) {
            Ok(p) => Some(Pages(p)),
            Err(d) => {
                log::warn!(
                    "the theme of site `{}` cannot be loaded; its visitors get plain pages until it is fixed:\n{}",
                    site.id(),
                    d.prefixed(&site.dir)
                );
                None
            }
        };
        SiteEntry {
            pages,
            id: site.id().to_string(),
            dir: site.dir.clone(),
            firm: c.controller.legal_name.clone(),
            base_url: c.site.base_url.get_ref().trim_end_matches('/').to_string(),
            languages: site.languages().to_vec(),
            default_language: *c.site.default_language.get_ref(),
            keys,
            forms: site
                .forms
                .iter()
                .map(|f| (f.id.clone(), (f.clone(), f.schema_hash())))
                .collect(),
            requests: c.contacts.requests.as_ref().map(|s| s.get_ref().clone()),
            complaints: c.contacts.complaints.as_ref().map(|s| s.get_ref().clone()),
            acknowledge: c.endpoint.acknowledge,
            ticket_language: c
                .endpoint
                .ticket_language
                .as_ref()
                .map(|l| *l.get_ref())
                .unwrap_or(*c.site.default_language.get_ref()),
            time_zone: c
                .endpoint
                .time_zone
                .as_ref()
                .map(|t| t.get_ref().clone())
                .unwrap_or_else(|| crate::endpoint::ticket::DEFAULT_TIME_ZONE.to_string()),
            // Site::load reported a theme whose [mail] strings do not read.
            mail: site
                .languages()
                .iter()
                .map(|l| {
                    let strings = site.theme.strings.get(l);
                    let words = strings
                        .and_then(|s| MailStrings::from_theme(s).ok())
                        .unwrap_or_else(|| MailStrings::builtin(*l));
                    (*l, Words::new(words))
                })
                .collect(),
            problems: site
                .theme
                .strings
                .iter()
                .filter_map(|(l, s)| {
                    let t = s.get("form")?.get("problem")?.as_table()?;
                    Some((*l, t.clone()))
                })
                .collect(),
        }
    }
}
