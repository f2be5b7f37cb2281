//! `portaal check`: everything the build validates, plus the legal checklist.
//!
//! The build refuses what it cannot render; check also reports what a
//! privacy statement legally lacks (GDPR Art. 13 and 14), which cookies are
//! not declared, and which standard texts a language is missing. Agencies
//! are not lawyers: every finding says what is missing and where to add it,
//! under a stable code (see [`Code`]).

pub(crate) mod checklist;
pub mod cookie_db;
pub(crate) mod cookies;
pub mod report;
pub(crate) mod versions;

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, Position, Severity};
use crate::render::{self, BuildOptions};
use crate::site::{CONFIG_FILE, Site};
use crate::vocab::lang::Lang;
use cookie_db::CookieDb;

/// How to check: what is not in the site itself.
#[derive(Debug, Default)]
pub struct CheckOptions {
    /// Facts from an Open Cookie Database CSV, when the user points to one.
    pub cookie_db: Option<CookieDb>,
    /// Today's date (year, month, day); dates after it are in the future.
    pub today: (u16, u8, u8),
}

/// What check found in one site.
#[derive(Debug)]
pub struct SiteReport {
    /// The site directory as given on the command line.
    pub dir: PathBuf,
    /// `[site] id`, when portal.toml could be read.
    pub id: Option<String>,
    /// Every finding, each with a code, sorted by file and position.
    pub findings: Diagnostics,
}

impl SiteReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .0
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// The site's own keys sign its forms, as in a build. A build creates a
/// key for a site that has none; check writes nothing, so it signs such a
/// site's forms with a throwaway key instead.
fn signing(site: &Site, diags: &mut Diagnostics) -> Option<render::FormTarget> {
    use crate::forms::sign::{KeyRing, generate_key_line};
    let issued = crate::vocab::clock::now_secs();
    if matches!(KeyRing::find(&site.dir, None), Ok(None)) {
        let action = site.config.endpoint.url.as_ref()?.get_ref().clone();
        let keys = KeyRing::parse(&generate_key_line("check").ok()?, "check").ok()?;
        return Some(render::FormTarget {
            action,
            keys,
            issued,
        });
    }
    let forms = render::site_forms(site, issued);
    forms.map_err(|d| diags.extend(d)).ok().flatten()
}

/// Loads a site for `build`, `serve` and `check`: [`Site::load_with_problems`],
/// plus the build error of a `cookies = "none"` that the site's own files
/// contradict (found by this module's cookie scanner).
pub fn load_site(dir: &Path) -> (Option<Site>, Diagnostics) {
    let (site, mut diags) = Site::load_with_problems(dir);
    if let Some(site) = &site {
        let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap_or_default();
        cookies::contradicting_none(site, &text, &mut diags);
    }
    (site, diags)
}

/// Runs every check on the site in `dir`. Nothing is written.
pub fn check_site(dir: &Path, options: &CheckOptions) -> SiteReport {
    let (site, mut problems) = load_site(dir);
    let Some(site) = site else {
        return finish(dir, None, problems);
    };
    // The build's own validations, rendered in memory: template errors,
    // broken links and images without alt text come from here.
    let build = BuildOptions {
        forms: signing(&site, &mut problems),
        ..BuildOptions::default()
    };
    let mut diags = match render::render_site(&site, &build, problems) {
        Ok(built) => built.warnings,
        Err(d) => d,
    };
    let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap_or_default();
    let cx = Context {
        site: &site,
        text: &text,
        today: options.today,
    };
    checklist::run(&cx, &mut diags);
    cookies::run(&cx, options.cookie_db.as_ref(), &mut diags);
    versions::run(&cx, &mut diags);
    finish(dir, Some(site.id().to_string()), diags)
}

fn finish(dir: &Path, id: Option<String>, mut diags: Diagnostics) -> SiteReport {
    for d in &mut diags.0 {
        // Loading reports an unreadable portal.toml with the directory in
        // front; every other file is relative to the site already.
        if let Ok(rel) = d.file.strip_prefix(dir) {
            d.file = rel.to_path_buf();
        }
        d.code.get_or_insert(Code::P000);
    }
    SiteReport {
        dir: dir.to_path_buf(),
        id,
        findings: diags.sorted(),
    }
}

/// What the checks of one site share: the loaded site and the text of its
/// portal.toml, to turn spans into lines and columns.
pub(crate) struct Context<'a> {
    pub site: &'a Site,
    pub text: &'a str,
    pub today: (u16, u8, u8),
}

impl Context<'_> {
    pub fn file(&self) -> PathBuf {
        PathBuf::from(CONFIG_FILE)
    }

    pub fn languages(&self) -> &[Lang] {
        self.site.languages()
    }

    pub fn diagnostic(
        &self,
        severity: Severity,
        code: Code,
        message: impl Into<String>,
    ) -> Diagnostic {
        let d = match severity {
            Severity::Error => Diagnostic::error(self.file(), message),
            Severity::Warning => Diagnostic::warning(self.file(), message),
        };
        d.with_code(code)
    }

    /// A finding in portal.toml at the value `at`.
    pub fn at<T>(
        &self,
        severity: Severity,
        code: Code,
        at: &Spanned<T>,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.diagnostic(severity, code, message)
            .at(Position::of_offset(self.text, at.span().start))
    }

    /// A finding in portal.toml at the first line that sets `key`, for
    /// values the model does not keep spans of.
    pub fn at_key(
        &self,
        severity: Severity,
        code: Code,
        key: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let d = self.diagnostic(severity, code, message);
        self.place(d, |line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    }

    /// Places `d` at the `[table]` header where a missing key belongs, if
    /// the table exists; else `d` concerns the whole file.
    pub fn in_table(&self, table: &str, d: Diagnostic) -> Diagnostic {
        self.place(d, |line| {
            line.strip_prefix('[')
                .and_then(|l| l.strip_prefix(table))
                .is_some_and(|rest| rest.trim_start().starts_with(']'))
        })
    }

    /// `d` at the first line (without its indentation) that `matches`.
    fn place(&self, d: Diagnostic, matches: impl Fn(&str) -> bool) -> Diagnostic {
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if matches(trimmed) {
                let indent = line.len() - trimmed.len();
                return d.at(Position::of_offset(self.text, offset + indent));
            }
            offset += line.len();
        }
        d
    }
}

/// The UTC calendar date of `unix_secs`.
pub fn date_of(unix_secs: u64) -> (u16, u8, u8) {
    let d = crate::vocab::clock::day_in(unix_secs, &jiff::tz::TimeZone::UTC);
    (
        u16::try_from(d.year()).unwrap_or(0),
        d.month().unsigned_abs(),
        d.day().unsigned_abs(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(date_of(0), (1970, 1, 1));
        assert_eq!(date_of(20_780 * 86_400), (2026, 11, 23));
        assert_eq!(date_of(11_016 * 86_400 + 86_399), (2000, 2, 29));
    }
}
