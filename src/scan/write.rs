//! Drafts what portal.toml lacks after a scan: a `[[cookies]]` entry for
//! each undeclared cookie or storage key, and a `[[recipients]]` entry for
//! each third party no recipient names. Every guess is marked `REVIEW`,
//! and facts come from the Open Cookie Database when it is given.
//!
//! The drafts are valid TOML that builds, so that pasting them in makes the
//! next scan clean; the `REVIEW` texts stay visible on the statement until
//! someone writes the real ones.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::observe::{Party, Phase, Report, SetBy};
use crate::check::cookie_db::CookieDb;

/// The entries for the findings of `report` (P052 and P056), as TOML;
/// for everything it saw when it was not `compared` with a portal.
/// `owner` is the firm's name, the provider of its own cookies.
pub fn entries(
    report: &Report,
    compared: bool,
    owner: Option<&str>,
    db: Option<&CookieDb>,
) -> String {
    let mut out = String::new();
    let flagged = |code: crate::diagnostics::Code, subject: &str| {
        !compared
            || report
                .findings
                .iter()
                .any(|f| f.code == code && f.subject == subject)
    };
    let mut done: Vec<String> = Vec::new();
    for c in &report.cookies {
        if done.contains(&c.name) || !flagged(crate::diagnostics::Code::P052, &c.name) {
            continue;
        }
        done.push(c.name.clone());
        let how = match &c.set_by {
            SetBy::Header { url } => format!("Set-Cookie of {url}"),
            SetBy::Script => "a script".to_string(),
        };
        let consent = match c.phase {
            Phase::BeforeConsent => "before consent",
            Phase::AfterConsent => "after consent",
        };
        let seen = format!("{} on {}, {consent}, set by {how}", c.domain, c.page);
        out.push_str(&cookie_entry(
            &c.name,
            c.party,
            &c.duration,
            &seen,
            owner,
            db,
        ));
    }
    for s in &report.storage {
        if done.contains(&s.key) || !flagged(crate::diagnostics::Code::P052, &s.key) {
            continue;
        }
        done.push(s.key.clone());
        let seen = format!("{} of {} on {}", s.kind.label(), s.origin, s.page);
        // Storage keys do not expire; the overview calls that persistent.
        let duration = match s.kind {
            super::observe::StorageKind::SessionStorage => "session",
            super::observe::StorageKind::LocalStorage => "1y",
        };
        out.push_str(&cookie_entry(&s.key, s.party, duration, &seen, owner, db));
    }
    for h in &report.third_parties {
        if !flagged(crate::diagnostics::Code::P056, &h.host) {
            continue;
        }
        let kinds: Vec<&str> = h.kinds.iter().map(|k| k.label()).collect();
        let name = h.provider.clone().unwrap_or_else(|| h.host.clone());
        out.push_str(&format!(
            "\n# REVIEW (portaal scan): {} loads {} from {} on {}.\n\
             # Name the firm behind it, its service and country; add [[transfers]] if outside the EEA.\n\
             [[recipients]]\n\
             id = {:?}\n\
             name = {:?}\n\
             kind = \"processor\"\n",
            if h.phase == Phase::AfterConsent { "after consent, the site" } else { "the site" },
            kinds.join(", "),
            h.host,
            h.page,
            slug(&h.host),
            name,
        ));
    }
    out
}

fn cookie_entry(
    name: &str,
    party: Party,
    duration: &str,
    seen: &str,
    owner: Option<&str>,
    db: Option<&CookieDb>,
) -> String {
    let party_key = match party {
        Party::First => "first",
        Party::Third => "third",
    };
    let known = db.and_then(|db| db.find(name));
    let mut s = format!("\n# REVIEW (portaal scan): seen as {seen}.\n");
    let (provider, category, purpose) = match known {
        Some(e) => {
            s.push_str(&format!(
                "# From the Open Cookie Database (Apache-2.0): {} by {}; retention {}.\n",
                e.platform,
                e.controller,
                if e.retention.is_empty() {
                    "not given"
                } else {
                    &e.retention
                }
            ));
            let category = match e.category.trim().to_lowercase().as_str() {
                "analytics" => "analytics",
                "marketing" => "marketing",
                "security" | "necessary" | "strictly necessary" => "strictly_necessary",
                _ => "functional",
            };
            let purpose = if e.description.is_empty() {
                "REVIEW: what the cookie is for".to_string()
            } else {
                format!("REVIEW: {}", e.description)
            };
            (e.platform.clone(), category, purpose)
        }
        None => {
            s.push_str("# Not in the cookie database: check provider, category and purpose.\n");
            let provider = match (party, owner) {
                (Party::First, Some(owner)) => owner.to_string(),
                _ => "REVIEW: who sets it".to_string(),
            };
            (
                provider,
                "functional",
                "REVIEW: what the cookie is for".to_string(),
            )
        }
    };
    s.push_str(&format!(
        "[[cookies]]\nname = {name:?}\nprovider = {provider:?}\ncategory = \"{category}\"\nparty = \"{party_key}\"\nduration = \"{duration}\"\npurpose = {purpose:?}\n"
    ));
    s
}

/// A recipient id (a-z, 0-9, -) from a host name.
fn slug(host: &str) -> String {
    let mut id = String::new();
    for c in host.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_string()
}

/// Writes a copy of `original` with `entries` appended to `target`. An
/// existing `target` (the original too) is first saved beside it as
/// `NAME.bak`, or `NAME.bak.2`, … if that is taken. Returns the backup.
pub fn write_copy(
    original: &Path,
    entries: &str,
    target: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let text = std::fs::read_to_string(original)
        .with_context(|| format!("cannot read {}", original.display()))?;
    let backup = if target.exists() {
        let backup = free_backup_name(target);
        std::fs::copy(target, &backup).with_context(|| {
            format!(
                "cannot save {} as {} before writing; nothing was written",
                target.display(),
                backup.display()
            )
        })?;
        Some(backup)
    } else {
        None
    };
    let mut out = text;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(entries);
    std::fs::write(target, out).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(backup)
}

fn free_backup_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "portal.toml".into());
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            target.with_file_name(format!("{name}.bak"))
        } else {
            target.with_file_name(format!("{name}.bak.{n}"))
        };
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_ids_are_slugs() {
        assert_eq!(slug("cdn.Trackly.io"), "cdn-trackly-io");
        assert_eq!(slug("127.0.0.2"), "127-0-0-2");
    }

    #[test]
    fn a_copy_never_overwrites_without_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("portal.toml");
        std::fs::write(&original, "[site]\nid = \"x\"").unwrap();
        let backup = write_copy(&original, "\n[[cookies]]\n", &original).unwrap();
        let backup = backup.expect("the original was saved");
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            "[site]\nid = \"x\""
        );
        assert!(
            std::fs::read_to_string(&original)
                .unwrap()
                .ends_with("[[cookies]]\n")
        );
        let second = write_copy(&original, "", &original).unwrap().unwrap();
        assert!(second.to_string_lossy().ends_with(".bak.2"), "{second:?}");
    }
}
