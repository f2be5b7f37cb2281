//! The released versions of a site as the pages show them: each earlier
//! version with the dates it was valid, and what changed in every version
//! (see [`super::changes`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::changes::{self, Version};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::site::Site;
use crate::site::config::Config;
use crate::site::history::{self, Snapshot};
use crate::vocab::lang::Lang;

/// One released version: its snapshot and its facts as a configuration.
pub struct Release {
    pub snapshot: Snapshot,
    pub config: Config,
}

/// Every released version of a site that this portaal can read, oldest
/// first, and the current statement's own section fingerprints.
pub struct Released {
    pub versions: Vec<Release>,
    current_version: String,
    current_sections: BTreeMap<String, BTreeMap<String, String>>,
}

/// The address of a version's page (`Some(version)`) or of the changes
/// page (`None`), in a language.
pub type UrlOf<'a> = dyn Fn(Lang, Option<&str>) -> String + 'a;

/// What the templates get as `history`.
#[derive(Debug, Serialize)]
pub struct HistoryView {
    /// The page listing every version; none before a first release.
    pub changes_url: Option<String>,
    /// The version the current statement is compared with.
    pub since: Option<String>,
    /// What changed since then, one sentence each.
    pub changes: Vec<String>,
    /// The note released with the current version.
    pub note: Option<String>,
    /// Every version, the current one first.
    pub versions: Vec<VersionView>,
}

#[derive(Debug, Serialize)]
pub struct VersionView {
    pub version: String,
    pub from: String,
    /// Empty for the current version.
    pub to: String,
    /// Its page; none for the current version (the statement itself).
    pub url: Option<String>,
    pub note: Option<String>,
    pub since: Option<String>,
    pub changes: Vec<String>,
    pub current: bool,
}

/// What an earlier version's page gets as `earlier`.
#[derive(Debug, Serialize)]
pub struct EarlierView {
    pub version: String,
    pub from: String,
    pub to: String,
    pub current_url: String,
    pub changes_url: String,
}

fn date(d: &toml::value::Datetime, lang: Lang) -> String {
    d.date
        .map(|d| lang.format_date(d.year, d.month, d.day))
        .unwrap_or_default()
}

impl Released {
    pub fn load(site: &Site, diags: &mut Diagnostics) -> Released {
        let (snapshots, problems) = history::load_all(&site.dir);
        for (path, problem) in problems {
            diags.push(
                Diagnostic::error(path, format!("cannot read this released version: {problem}"))
                    .with_code(crate::diagnostics::Code::P058)
                    .with_fix(
                        "restore it from version control; `portaal release` writes it, nothing edits it",
                    ),
            );
        }
        let versions: Vec<Release> = snapshots
            .into_iter()
            .filter_map(|snapshot| {
                let config = changes::config_of(&snapshot, &site.config, diags)?;
                Some(Release { snapshot, config })
            })
            .collect();
        let current_version = site.config.site.policy_version.get_ref();
        // What changed is told against the last earlier version: without
        // one, the statement's sections need no fingerprints.
        let current_sections = if versions
            .iter()
            .any(|v| &v.snapshot.version != current_version)
        {
            history::current_sections(site)
        } else {
            BTreeMap::new()
        };
        Released {
            versions,
            current_version: current_version.clone(),
            current_sections,
        }
    }

    /// The released versions other than the current statement's.
    pub fn earlier(&self) -> impl Iterator<Item = &Release> {
        self.versions
            .iter()
            .filter(|v| v.snapshot.version != self.current_version)
    }

    /// The valid-until date of earlier version `i` (of [`Self::earlier`]):
    /// the next version's start, or the current statement's.
    fn until(&self, i: usize, site: &Site, lang: Lang) -> String {
        let earlier: Vec<&Release> = self.earlier().collect();
        match earlier.get(i + 1) {
            Some(next) => date(&next.snapshot.valid_from, lang),
            None => date(site.config.site.last_updated.get_ref(), lang),
        }
    }

    pub fn history_view(&self, site: &Site, lang: Lang, url: &UrlOf) -> HistoryView {
        let strings = site.theme.strings.get(&lang);
        let earlier: Vec<&Release> = self.earlier().collect();
        fn version_of(r: &Release) -> Version<'_> {
            Version {
                config: &r.config,
                sections: &r.snapshot.sections,
            }
        }
        let current = Version {
            config: &site.config,
            sections: &self.current_sections,
        };
        let mut versions = Vec::new();
        let (since, changes_now) = match earlier.last() {
            Some(last) => (
                Some(last.snapshot.version.clone()),
                changes::changes(&version_of(last), &current, lang, strings),
            ),
            None => (None, Vec::new()),
        };
        let note = self
            .versions
            .iter()
            .find(|v| v.snapshot.version == self.current_version)
            .and_then(|v| v.snapshot.note.clone());
        if !self.versions.is_empty() {
            versions.push(VersionView {
                version: self.current_version.clone(),
                from: date(site.config.site.last_updated.get_ref(), lang),
                to: String::new(),
                url: None,
                note: note.clone(),
                since: since.clone(),
                changes: changes_now.clone(),
                current: true,
            });
        }
        for (i, r) in earlier.iter().enumerate().rev() {
            let before = i.checked_sub(1).map(|j| earlier[j]);
            versions.push(VersionView {
                version: r.snapshot.version.clone(),
                from: date(&r.snapshot.valid_from, lang),
                to: self.until(i, site, lang),
                url: Some(url(lang, Some(&r.snapshot.version))),
                note: r.snapshot.note.clone(),
                since: before.map(|b| b.snapshot.version.clone()),
                changes: before
                    .map(|b| changes::changes(&version_of(b), &version_of(r), lang, strings))
                    .unwrap_or_default(),
                current: false,
            });
        }
        HistoryView {
            changes_url: (!self.versions.is_empty()).then(|| url(lang, None)),
            since,
            changes: changes_now,
            note,
            versions,
        }
    }

    pub fn version_view(
        &self,
        version: &str,
        lang: Lang,
        site: &Site,
        current_url: String,
        url: &UrlOf,
    ) -> Option<EarlierView> {
        let (i, r) = self
            .earlier()
            .enumerate()
            .find(|(_, r)| r.snapshot.version == version)?;
        Some(EarlierView {
            version: version.to_string(),
            from: date(&r.snapshot.valid_from, lang),
            to: self.until(i, site, lang),
            current_url,
            changes_url: url(lang, None),
        })
    }
}
