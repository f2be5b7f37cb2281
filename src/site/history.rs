//! Released versions of the statement: `history/<version>.toml` in the site
//! directory, written by `portaal release` and committed with the site.
//!
//! A snapshot holds the facts of portal.toml in a normalised form (parsed
//! and written back, so that layout and comments do not count as changes),
//! and a fingerprint of each `##` section of the firm's own statement text
//! per language, so that a later version can say which text changed. It is
//! never written into the output: a build only reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The folder of snapshots, below the site directory.
pub const DIR: &str = "history";

/// Keys of `[site]` and `[endpoint]` that say how the portal is published,
/// not what the firm does with personal data: a change to them is no
/// change of the statement.
const NOT_FACTS: [(&str, &str); 10] = [
    ("site", "id"),
    ("site", "base_url"),
    ("site", "theme"),
    ("site", "render_budget_ms"),
    ("site", "policy_version"),
    ("site", "last_updated"),
    ("endpoint", "url"),
    ("endpoint", "ticket_language"),
    ("endpoint", "time_zone"),
    ("endpoint", "acknowledge"),
];

/// One released version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// `[site] policy_version` when it was released.
    pub version: String,
    /// `[site] last_updated` when it was released: the version is valid
    /// from this date until the next version's.
    pub valid_from: toml::value::Datetime,
    /// The agency's short note on what changed, shown with the version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Per language, each `##` section title of `content/<lang>/privacy.md`
    /// with a SHA-256 of its text ("" for the text before the first one).
    #[serde(default)]
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
    /// portal.toml, normalised, without the keys of [`NOT_FACTS`].
    pub facts: toml::Table,
}

/// The facts of a portal.toml: parsed, without what only concerns
/// publishing. `None` when the text is not TOML.
pub fn normalised_facts(portal_toml: &str) -> Option<toml::Table> {
    let mut table: toml::Table = toml::from_str(portal_toml).ok()?;
    for (section, key) in NOT_FACTS {
        if let Some(t) = table.get_mut(section).and_then(|v| v.as_table_mut()) {
            t.remove(key);
        }
    }
    Some(table)
}

/// The `##` sections of a statement's Markdown and a SHA-256 of each.
pub fn section_fingerprints(markdown: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut title = String::new();
    let mut body = String::new();
    let mut flush = |title: &str, body: &str| {
        if !(title.is_empty() && body.trim().is_empty()) {
            let hash = Sha256::digest(body.trim().as_bytes());
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            out.insert(title.to_string(), hex);
        }
    };
    for line in markdown.lines() {
        if let Some(t) = line.strip_prefix("## ") {
            flush(&title, &body);
            title = t.trim().to_string();
            body.clear();
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&title, &body);
    out
}

/// The fingerprints of the statement's sections in each of the site's
/// languages: what a release records, and what a build compares with it.
pub fn current_sections(site: &super::Site) -> BTreeMap<String, BTreeMap<String, String>> {
    site.content
        .iter()
        .filter(|c| c.kind == crate::vocab::page_kind::PageKind::Privacy)
        .map(|c| (c.lang.code().to_string(), section_fingerprints(&c.markdown)))
        .collect()
}

/// Whether `version` can be a file name on every system and a URL segment.
pub fn version_problem(version: &str) -> Option<&'static str> {
    if version.is_empty() {
        return Some("is empty");
    }
    if matches!(version, "changes" | "statement.json" | "statement.jsonld") {
        return Some("is the address of another page of the statement");
    }
    if version.starts_with('.') {
        return Some("starts with a dot");
    }
    if !version
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Some("may hold only letters, digits, dots, hyphens and underscores");
    }
    None
}

/// The path of version `version`'s snapshot in `site_dir`.
pub fn path_of(site_dir: &Path, version: &str) -> PathBuf {
    site_dir.join(DIR).join(format!("{version}.toml"))
}

/// Every snapshot in `site_dir/history`, oldest first (by `valid_from`,
/// then version), with the problems of those that cannot be read.
pub fn load_all(site_dir: &Path) -> (Vec<Snapshot>, Vec<(PathBuf, String)>) {
    let dir = site_dir.join(DIR);
    let mut snapshots = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return (snapshots, problems);
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let shown = Path::new(DIR).join(path.file_name().unwrap_or_default());
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str::<Snapshot>(&t).map_err(|e| e.message().to_string()))
            .and_then(|s| match version_problem(&s.version) {
                // The version names a folder of the output: never a path.
                Some(p) => Err(format!("its version `{}` {p}", s.version)),
                None if s.version != stem => Err(format!(
                    "it holds version `{}`, but its file name says `{stem}`",
                    s.version
                )),
                None => Ok(s),
            }) {
            Ok(s) => snapshots.push(s),
            Err(e) => problems.push((shown, e)),
        }
    }
    snapshots.sort_by(|a, b| {
        (a.valid_from.to_string(), &a.version).cmp(&(b.valid_from.to_string(), &b.version))
    });
    (snapshots, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_publishing_keys_are_no_change_of_facts() {
        let a = "[site]\nid = \"a\"\nbase_url = \"https://a.example\"\n\n[[purposes]]\nid = \"x\" # note\n";
        let b = "[site]\nbase_url = \"https://b.example\"\nid = \"b\"\n[[purposes]]\n  id   =   \"x\"\n";
        assert_eq!(normalised_facts(a), normalised_facts(b));
        let c = "[site]\nid = \"a\"\n\n[[purposes]]\nid = \"y\"\n";
        assert_ne!(normalised_facts(a), normalised_facts(c));
    }

    #[test]
    fn sections_are_fingerprinted_by_their_title() {
        let one = section_fingerprints(
            "Intro\n\n## Who we are\n\nA roaster.\n\n## In short\n\nCoffee.\n",
        );
        let two =
            section_fingerprints("Intro\n\n## Who we are\n\nA bakery.\n\n## In short\n\nCoffee.\n");
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            ["", "In short", "Who we are"]
        );
        assert_ne!(one["Who we are"], two["Who we are"]);
        assert_eq!(one["In short"], two["In short"]);
    }

    #[test]
    fn versions_must_be_safe_file_names() {
        assert_eq!(version_problem("2.1"), None);
        assert_eq!(version_problem("2024-01_b"), None);
        assert!(version_problem("../x").is_some());
        assert!(version_problem("").is_some());
        assert!(version_problem("2 1").is_some());
    }
}
