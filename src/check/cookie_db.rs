//! Cookie facts from an Open Cookie Database CSV that the user points to
//! (`portaal check --cookie-db FILE`).
//!
//! The database (github.com/jkwakman/Open-Cookie-Database, Apache-2.0) knows
//! the provider, category, retention and privacy page of thousands of
//! cookies. portaal does not ship it; when given, check uses it to catch
//! cookies declared in a category that needs no consent although the
//! database says they track, and to suggest ready-made `[[cookies]]` entries.

use std::path::Path;

use crate::site::config::{Cookie, CookieCategory};

#[derive(Debug, Clone)]
pub struct Entry {
    pub platform: String,
    pub category: String,
    pub name: String,
    pub retention: String,
    pub controller: String,
    pub privacy_link: String,
    /// What the cookie is for, in English.
    pub description: String,
    /// The name is a prefix (`_ga_` matches `_ga_ABC123`).
    pub wildcard: bool,
}

#[derive(Debug, Clone, Default)]
pub struct CookieDb {
    pub entries: Vec<Entry>,
}

impl CookieDb {
    /// Reads the CSV at `path`. The columns are found by their headers, so
    /// that a reordered export still works.
    /// The database `--cookie-db` names, if it names one.
    pub fn load_option(path: Option<&Path>) -> anyhow::Result<Option<CookieDb>> {
        use anyhow::Context as _;
        path.map(|p| {
            CookieDb::load(p)
                .map_err(anyhow::Error::msg)
                .context("--cookie-db")
        })
        .transpose()
    }

    pub fn load(path: &Path) -> Result<CookieDb, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        CookieDb::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<CookieDb, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Flexible: a short row lacks its last, optional columns.
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_lowercase)
            .collect();
        if header.iter().all(String::is_empty) {
            return Err("the file is empty".into());
        }
        let col = |needle: &str| header.iter().position(|h| h.contains(needle));
        let name = col("cookie")
            .ok_or("no `Cookie / Data Key name` column; is this the Open Cookie Database CSV?")?;
        let category = col("category").ok_or("no `Category` column")?;
        let description = col("description");
        let (platform, retention, controller, privacy, wildcard) = (
            col("platform"),
            col("retention"),
            col("controller"),
            col("privacy"),
            col("wildcard"),
        );
        let mut entries = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|e| e.to_string())?;
            let get = |i: Option<usize>| {
                i.and_then(|i| row.get(i))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            if get(Some(name)).is_empty() {
                continue;
            }
            entries.push(Entry {
                platform: get(platform),
                category: get(Some(category)),
                name: get(Some(name)),
                retention: get(retention),
                controller: get(controller),
                privacy_link: get(privacy),
                description: get(description),
                wildcard: get(wildcard) == "1",
            });
        }
        Ok(CookieDb { entries })
    }

    /// The entry for a cookie called `name`: an exact match first, else the
    /// longest wildcard prefix.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name).or_else(|| {
            self.entries
                .iter()
                .filter(|e| e.wildcard && name.starts_with(&e.name))
                .max_by_key(|e| e.name.len())
        })
    }

    /// Why the declared category of `cookie` looks wrong: the database says
    /// it is for analytics or marketing, which need consent, but it is
    /// declared as needing none or as merely functional.
    pub fn category_problem(&self, cookie: &Cookie) -> Option<String> {
        let name = cookie.name.as_ref()?.get_ref();
        let e = self.find(name)?;
        let theirs = category_key(&e.category)?;
        let consent_needed = matches!(
            theirs,
            CookieCategory::Analytics | CookieCategory::Marketing
        );
        let declared_lower = matches!(
            cookie.category,
            CookieCategory::StrictlyNecessary | CookieCategory::Functional
        );
        (consent_needed && declared_lower).then(|| {
            format!(
                "cookie `{name}` is declared as {}, but the Open Cookie Database lists it as {} ({})",
                cookie.category.key(),
                theirs.key(),
                e.platform
            )
        })
    }

    /// A `[[cookies]]` entry for `name` from the database's facts, to paste
    /// into portal.toml and complete; attributed, as its licence asks.
    pub fn snippet(&self, name: &str) -> Option<String> {
        let e = self.find(name)?;
        let category = category_key(&e.category).map_or("?", CookieCategory::key);
        let mut s = format!(
            "  # from the Open Cookie Database (Apache-2.0): {} by {}",
            e.platform, e.controller
        );
        if !e.retention.is_empty() {
            s.push_str(&format!("; retention: {}", e.retention));
        }
        if !e.privacy_link.is_empty() {
            s.push_str(&format!("; privacy: {}", e.privacy_link));
        }
        s.push_str(&format!(
            "\n  [[cookies]]\n  name = {:?}\n{}  provider = {:?}\n  category = \"{category}\"\n  party = \"…\"\n  duration = \"…\"\n  purpose = \"…\"",
            e.name,
            if e.wildcard { "  prefix = true\n" } else { "" },
            e.platform,
        ));
        Some(s)
    }
}

/// The database's categories in portaal's terms.
fn category_key(ocd: &str) -> Option<CookieCategory> {
    match ocd.trim().to_lowercase().as_str() {
        "analytics" => Some(CookieCategory::Analytics),
        "marketing" => Some(CookieCategory::Marketing),
        "functional" | "personalization" | "preferences" => Some(CookieCategory::Functional),
        "security" | "necessary" | "strictly necessary" => Some(CookieCategory::StrictlyNecessary),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\r\n\
1,Google Analytics,Analytics,_ga,google-analytics.com,\"ID used to identify users, \"\"client id\"\"\",2 years,Google,https://privacy.google.com,0\r\n\
2,Google Analytics,Analytics,_ga_,google-analytics.com,Persist session state,2 years,Google,https://privacy.google.com,1\r\n";

    #[test]
    fn parses_quotes_and_wildcards() {
        let db = CookieDb::parse(CSV).unwrap();
        assert_eq!(db.entries.len(), 2);
        assert_eq!(db.find("_ga").unwrap().retention, "2 years");
        assert!(db.find("_ga_XYZ").unwrap().wildcard);
        assert!(db.find("other").is_none());
        let snippet = db.snippet("_ga").unwrap();
        assert!(snippet.contains("category = \"analytics\""), "{snippet}");
        assert!(snippet.contains("Apache-2.0"));
    }

    #[test]
    fn rejects_other_csv() {
        assert!(CookieDb::parse("a,b\n1,2\n").is_err());
        assert!(CookieDb::parse("").is_err());
    }

    /// A quoted field may hold line breaks; a UTF-8 byte order mark and
    /// a short row (without the optional columns) are read all the same.
    #[test]
    fn reads_line_breaks_in_quotes_a_bom_and_short_rows() {
        let text = "\u{feff}Platform,Category,Cookie / Data Key name,Description\n\
                    Matomo,Analytics,_pk_id,\"Two\nlines\"\n\
                    Matomo,Analytics,_pk_ses\n";
        let db = CookieDb::parse(text).unwrap();
        let names: Vec<&str> = db.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["_pk_id", "_pk_ses"]);
        assert_eq!(db.entries[0].platform, "Matomo");
    }
}
