//! Themes: tera templates, static files and interface strings.
//!
//! The default theme is compiled into the binary. A site's
//! `themes/<name>/` overrides it file by file (a template, a stylesheet) and
//! key by key (an interface string), so an agency changes what it needs and
//! keeps getting the rest from new portaal releases.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use toml::Spanned;

use crate::diagnostics::{Code, Diagnostic, Diagnostics, SourceFile};
use crate::vocab::confine::{Confinement, Kind};
use crate::vocab::document::Document;
use crate::vocab::lang::Lang;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The default forms, embedded like the default theme.
pub fn embedded_forms() -> &'static [(&'static str, &'static [u8])] {
    embedded::FORMS
}

/// Where a theme file came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn(String),
    Site(PathBuf),
}

impl Origin {
    pub fn display_path(&self) -> PathBuf {
        match self {
            Origin::BuiltIn(rel) => PathBuf::from(format!("<built-in theme>/{rel}")),
            Origin::Site(p) => p.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    pub origin: Origin,
}

/// The tables are shared (`Arc`): every portal that does not override a
/// part of the built-in theme uses the one copy parsed for the process, and
/// a portal that overrides a file or a string gets its own copy of that
/// table only (copy on write).
#[derive(Debug, Clone, Default)]
pub struct Theme {
    /// Keyed by name relative to `templates/`, e.g. `partials/nav.html`.
    pub templates: Arc<BTreeMap<String, Template>>,
    /// Keyed by path relative to `static/`; copied to the output root.
    pub statics: Arc<BTreeMap<String, Vec<u8>>>,
    /// The interface strings of each language, as nested tables.
    pub strings: Arc<BTreeMap<Lang, toml::Table>>,
}

/// The built-in theme's templates and static files, read once per process.
struct BuiltinFiles {
    templates: Arc<BTreeMap<String, Template>>,
    statics: Arc<BTreeMap<String, Vec<u8>>>,
    /// What was wrong with them (nothing, unless the binary was built
    /// from a broken theme): reported by every load.
    problems: Diagnostics,
}

/// The built-in theme's strings for one set of languages, parsed once per
/// process, and whether they pass the theme's string checks.
struct BuiltinStrings {
    languages: Vec<Lang>,
    strings: Arc<BTreeMap<Lang, toml::Table>>,
    /// Files that did not parse: reported by every load.
    problems: Diagnostics,
    clean: bool,
}

impl Theme {
    /// The built-in theme alone, for `languages`: shared with every other
    /// caller in this process, so loading it a second time costs no parsing.
    /// `clean` says whether it passes [`Theme::check_strings`] and the mail
    /// string check (it does, unless the built-in files are broken).
    fn builtin(languages: &[Lang], diags: &mut Diagnostics) -> (Theme, bool) {
        static STRINGS: Mutex<Vec<BuiltinStrings>> = Mutex::new(Vec::new());
        let files = builtin_files();
        let mut key = languages.to_vec();
        key.sort();
        key.dedup();
        let mut cache = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
        diags.extend(files.problems.clone());
        let (strings, clean) = match cache.iter().find(|c| c.languages == key) {
            Some(c) => {
                diags.extend(c.problems.clone());
                (Arc::clone(&c.strings), c.clean)
            }
            None => {
                let mut theme = Theme::default();
                let mut problems = Diagnostics::default();
                for (rel, bytes) in embedded::THEME {
                    if rel.starts_with("i18n/") {
                        let origin = Origin::BuiltIn(rel.to_string());
                        theme.add_file(rel, bytes.to_vec(), origin, &key, &mut problems);
                    }
                }
                let mut checked = Diagnostics::default();
                theme.check_strings("default", &key, &mut checked);
                let clean = checked.is_empty();
                diags.extend(problems.clone());
                // A process sees a handful of language sets; the bound only
                // guards against an unusual caller.
                if cache.len() >= 64 {
                    cache.remove(0);
                }
                cache.push(BuiltinStrings {
                    languages: key,
                    strings: Arc::clone(&theme.strings),
                    problems,
                    clean,
                });
                (theme.strings, clean)
            }
        };
        let theme = Theme {
            templates: Arc::clone(&files.templates),
            statics: Arc::clone(&files.statics),
            strings,
        };
        (theme, clean)
    }

    /// Whether this theme's templates are the built-in ones, unchanged:
    /// then their compiled form can be shared by every portal.
    pub fn builtin_templates(&self) -> bool {
        Arc::ptr_eq(&self.templates, &builtin_files().templates)
    }

    /// The built-in theme merged with the site's `themes/<name>/`.
    pub fn load(site_dir: &Path, name: &str, languages: &[Lang], diags: &mut Diagnostics) -> Theme {
        let (mut theme, builtin_clean) = Theme::builtin(languages, diags);
        let mut overridden = false;
        if !is_plain_name(name) {
            // Site::load reports it with its position and passes "default".
            diags.push(Diagnostic::error(
                site_dir.join("portal.toml"),
                format!("theme `{name}` is not a plain folder name"),
            ));
            theme.check_strings("default", languages, diags);
            return theme;
        }
        let dir = site_dir.join("themes").join(name);
        let confine = Confinement::new(site_dir);
        if dir.is_dir() && confine.root_ok(&dir, diags) {
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        diags.push(Diagnostic::error(&dir, format!("cannot read: {e}")));
                        continue;
                    }
                };
                if entry.file_name().to_string_lossy().starts_with('.')
                    || confine.kind(&entry, diags) != Kind::File
                {
                    continue;
                }
                let rel = entry.path().strip_prefix(&dir).expect("walked from dir");
                let rel = rel.to_string_lossy().replace('\\', "/");
                let shown = entry
                    .path()
                    .strip_prefix(site_dir)
                    .unwrap_or(entry.path())
                    .to_path_buf();
                overridden = true;
                match std::fs::read(entry.path()) {
                    Ok(bytes) => theme.add_file(&rel, bytes, Origin::Site(shown), languages, diags),
                    Err(e) => diags.push(Diagnostic::error(shown, format!("cannot read: {e}"))),
                }
            }
        } else if name != "default" && !dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    site_dir.join("portal.toml"),
                    format!("theme `{name}` not found at {}", dir.display()),
                )
                .with_fix(
                    "create that folder, or remove `theme` from [site] to use the built-in theme",
                ),
            );
        }
        // The built-in theme alone was checked when it was parsed.
        if overridden || !builtin_clean {
            theme.check_strings(name, languages, diags);
        }
        theme
    }

    fn add_file(
        &mut self,
        rel: &str,
        bytes: Vec<u8>,
        origin: Origin,
        languages: &[Lang],
        diags: &mut Diagnostics,
    ) {
        let shown = origin.display_path();
        if let Some(name) = rel.strip_prefix("templates/") {
            match crate::diagnostics::decode_utf8(bytes, &shown) {
                Ok(source) => {
                    Arc::make_mut(&mut self.templates)
                        .insert(name.to_string(), Template { source, origin });
                }
                Err(d) => diags.push(d),
            }
        } else if let Some(name) = rel.strip_prefix("static/") {
            Arc::make_mut(&mut self.statics).insert(name.to_string(), bytes);
        } else if let Some(file) = rel.strip_prefix("i18n/") {
            let Some(lang) = file
                .strip_suffix(".toml")
                .and_then(|l| l.parse::<Lang>().ok())
            else {
                diags.push(Diagnostic::error(
                    shown,
                    format!(
                        "i18n files are named <language>.toml, one of: {}",
                        Lang::valid_codes()
                    ),
                ));
                return;
            };
            if !languages.contains(&lang) {
                return;
            }
            let text = match crate::diagnostics::decode_utf8(bytes, &shown) {
                Ok(text) => text,
                Err(d) => return diags.push(d),
            };
            let source = SourceFile {
                path: &shown,
                text: &text,
            };
            let doc = Document::parse(source, &text, 0, diags);
            if let Some(table) = doc.into_value::<toml::Table>(diags) {
                let strings = Arc::make_mut(&mut self.strings);
                deep_merge(strings.entry(lang).or_default(), table);
            }
        } else {
            diags.push(
                Diagnostic::error(shown, "unexpected file in theme")
                    .with_fix("a theme holds templates/, static/ and i18n/"),
            );
        }
    }

    /// Every string key used in any of the site's languages must exist in all.
    fn check_strings(&self, name: &str, languages: &[Lang], diags: &mut Diagnostics) {
        let keys: BTreeMap<Lang, BTreeSet<String>> = languages
            .iter()
            .map(|l| {
                (
                    *l,
                    self.strings.get(l).map(flatten_keys).unwrap_or_default(),
                )
            })
            .collect();
        let all: BTreeSet<&String> = keys.values().flatten().collect();
        for (lang, have) in &keys {
            let missing: Vec<&str> = all
                .iter()
                .filter(|k| !have.contains(**k))
                .map(|k| k.as_str())
                .collect();
            if !missing.is_empty() {
                diags.push(
                    Diagnostic::error(
                        format!("themes/{name}/i18n/{lang}.toml"),
                        format!(
                            "missing translation of {} string(s) in `{lang}`: {}",
                            missing.len(),
                            missing.join(", ")
                        ),
                    )
                    .with_code(Code::P025)
                    .with_fix(format!("add these keys to themes/{name}/i18n/{lang}.toml")),
                );
            }
        }
    }
}

/// The built-in theme's templates and static files, read once per process.
fn builtin_files() -> &'static BuiltinFiles {
    static FILES: OnceLock<BuiltinFiles> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut theme = Theme::default();
        let mut problems = Diagnostics::default();
        for (rel, bytes) in embedded::THEME {
            if !rel.starts_with("i18n/") {
                theme.add_file(
                    rel,
                    bytes.to_vec(),
                    Origin::BuiltIn(rel.to_string()),
                    &[],
                    &mut problems,
                );
            }
        }
        BuiltinFiles {
            templates: theme.templates,
            statics: theme.statics,
            problems,
        }
    })
}

/// The built-in theme's strings of one language, without a site: for
/// wording that must exist even when no site is at hand (an old spooled
/// ticket, an error page for a post of no known site). Parsed once.
pub fn builtin_strings(lang: Lang) -> &'static toml::Table {
    static PARSED: std::sync::OnceLock<BTreeMap<Lang, toml::Table>> = std::sync::OnceLock::new();
    let all = PARSED.get_or_init(|| {
        Lang::ALL
            .into_iter()
            .map(|l| {
                let rel = format!("i18n/{l}.toml");
                let table = embedded::THEME
                    .iter()
                    .find(|(r, _)| *r == rel)
                    .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
                    .and_then(|text| text.parse::<toml::Table>().ok())
                    .unwrap_or_default();
                (l, table)
            })
            .collect()
    });
    &all[&lang]
}

/// Whether `name` can name a folder under `themes/`: not empty, no path
/// separator, not starting with `.` (no `..`, no hidden folder).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Checks `[site] theme` in portal.toml, with the value's position; the
/// name to load (the built-in `default` when it is not a plain name).
pub fn checked_name<'a>(
    file: SourceFile<'_>,
    name: &'a Spanned<String>,
    diags: &mut Diagnostics,
) -> &'a str {
    let value = name.get_ref();
    if is_plain_name(value) {
        return value;
    }
    diags.push(
        file.error_at(
            Some(name.span().start),
            format!("theme `{value}` is not a plain folder name"),
        )
        .with_fix(
            "name a folder under themes/ of the site, e.g. `theme = \"house\"` for themes/house/ \
             (letters, digits, `-`, `_`; no `/`, no leading `.`), or remove `theme` for the built-in one",
        ),
    );
    "default"
}

/// Merges `over` into `base`: tables key by key, other values replaced.
fn deep_merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn flatten_keys(table: &toml::Table) -> BTreeSet<String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeSet<String>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                _ => {
                    out.insert(key);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk("", table, &mut out);
    out
}

/// Looks up a dotted key, e.g. `right.access.title`.
pub fn lookup<'a>(strings: &'a toml::Table, key: &str) -> Option<&'a str> {
    let mut parts = key.split('.');
    let mut table = strings;
    let last = parts.next_back()?;
    for p in parts {
        table = table.get(p)?.as_table()?;
    }
    table.get(last)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::{builtin_strings, is_plain_name};
    use crate::vocab::lang::Lang;

    /// Every string of one language of the built-in theme, with its key.
    fn all_strings(lang: Lang) -> Vec<(String, String)> {
        fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
            for (k, v) in table {
                let key = format!("{prefix}{k}");
                match v {
                    toml::Value::String(s) => out.push((key, s.clone())),
                    toml::Value::Table(t) => walk(&format!("{key}."), t, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk("", builtin_strings(lang), &mut out);
        out
    }

    /// French puts a narrow no-break space before ; : ? and ! (and the
    /// endpoint's pages and mails were once missed by a language pass).
    #[test]
    fn french_strings_have_no_plain_space_before_high_punctuation() {
        let bad: Vec<String> = all_strings(Lang::Fr)
            .into_iter()
            .filter(|(_, s)| [" ;", " :", " ?", " !"].iter().any(|p| s.contains(p)))
            .map(|(k, s)| format!("{k}: {s}"))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }

    /// A GDPR request is a "verzoek" in Dutch and an "Antrag" in German,
    /// as the regulation calls it, on every page and in every mail.
    #[test]
    fn requests_are_named_as_the_regulation_names_them() {
        for (lang, wrong) in [(Lang::Nl, "aanvra"), (Lang::De, "Anfrage")] {
            let bad: Vec<String> = all_strings(lang)
                .into_iter()
                .filter(|(_, s)| s.contains(wrong))
                .map(|(k, s)| format!("{k}: {s}"))
                .collect();
            assert!(bad.is_empty(), "{lang:?}: {bad:#?}");
        }
    }

    #[test]
    fn theme_names_are_plain_folder_names() {
        for ok in ["default", "house", "huis-2", "my_theme", "v1.2", "thème"] {
            assert!(is_plain_name(ok), "{ok}");
        }
        for bad in [
            "", "/", "/etc", "..", "../..", ".hidden", "a/b", "a\\b", "a b", "nul\0",
        ] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
    }
}
