//! The site's own prose: `content/<lang>/<page>.md`, with optional TOML front
//! matter between `+++` lines.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::vocab::confine::{Confinement, Kind};
use crate::vocab::document::Document;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::PageKind;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// Replaces the theme's title for the page.
    pub title: Option<String>,
    /// The page's meta description.
    pub description: Option<String>,
    /// Orders the site's own pages in the menu; lower comes first.
    #[serde(default)]
    pub weight: i64,
}

#[derive(Debug, Clone)]
pub struct ContentFile {
    pub lang: Lang,
    pub kind: PageKind,
    /// Relative to the site directory, as shown in messages.
    pub path: PathBuf,
    pub front: FrontMatter,
    pub markdown: String,
    /// The line of the file on which the Markdown starts (after front matter).
    pub first_line: usize,
    /// The front matter had errors (reported): the page still counts as
    /// present, so that its absence is not reported too, and checks that
    /// read the front matter skip it.
    pub front_broken: bool,
}

impl ContentFile {
    /// Where byte `offset` of the Markdown is in the file.
    pub fn position(&self, offset: usize) -> crate::diagnostics::Position {
        let mut p = crate::diagnostics::Position::of_offset(&self.markdown, offset);
        p.line += self.first_line - 1;
        p
    }
}

/// Reads every Markdown file under `content/`, reporting files in the wrong
/// place and languages the site does not declare.
pub fn load(site_dir: &Path, languages: &[Lang], diags: &mut Diagnostics) -> Vec<ContentFile> {
    let root = site_dir.join("content");
    let confine = Confinement::new(site_dir);
    if !root.is_dir() || !confine.root_ok(&root, diags) {
        return Vec::new();
    }
    // The folders are walked in order first; the pages are then read and
    // their front matter parsed in parallel (a portal may have hundreds),
    // their problems reported in the order of the walk.
    let mut pages = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                diags.push(Diagnostic::error(root.clone(), format!("cannot read: {e}")));
                continue;
            }
        };
        let rel = entry
            .path()
            .strip_prefix(site_dir)
            .unwrap_or(entry.path())
            .to_path_buf();
        let name = entry.file_name().to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let kind = confine.kind(&entry, diags);
        match entry.depth() {
            _ if kind == Kind::Skip => {}
            1 if kind == Kind::Dir => match name.parse::<Lang>() {
                Ok(lang) if !languages.contains(&lang) => diags.push(
                    Diagnostic::error(&rel, format!("content in language `{lang}`, which the site does not declare"))
                        .with_fix(format!("add \"{lang}\" to `languages` in [site] of portal.toml, or remove this folder")),
                ),
                Ok(_) => {}
                Err(e) => diags.push(Diagnostic::error(&rel, e.to_string())),
            },
            2 if kind == Kind::File && name.ends_with(".md") => {
                let Some(lang) = rel.iter().nth(1).and_then(|l| l.to_str()?.parse().ok()) else {
                    continue; // reported with its folder
                };
                if !languages.contains(&lang) {
                    continue;
                }
                pages.push((rel, lang));
            }
            _ => diags.push(
                Diagnostic::error(&rel, "unexpected file in content/")
                    .with_fix("content/ holds one folder per language with Markdown pages (content/nl/privacy.md); put images and other files in static/"),
            ),
        }
    }
    let read: Vec<(Option<ContentFile>, Diagnostics)> = pages
        .into_par_iter()
        .map(|(rel, lang)| {
            let mut own = Diagnostics::default();
            (read_file(site_dir, rel, lang, &mut own), own)
        })
        .collect();
    let mut files = Vec::with_capacity(read.len());
    for (file, own) in read {
        diags.extend(own);
        files.extend(file);
    }
    files
}

/// Reads one Markdown file of `content/` (`rel`, relative to the site, in
/// `lang`); `serve` reads an edited page again with it. The checks of the
/// file's place are [`load`]'s.
pub fn read_file(
    site_dir: &Path,
    rel: PathBuf,
    lang: Lang,
    diags: &mut Diagnostics,
) -> Option<ContentFile> {
    let text = match crate::diagnostics::read_utf8(&site_dir.join(&rel), &rel) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let stem = rel.file_stem()?.to_string_lossy().into_owned();
    if !stem
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        diags.push(
            Diagnostic::error(&rel, format!("page name `{stem}` cannot be used in a URL"))
                .with_fix("use lower-case letters, digits and hyphens only"),
        );
        return None;
    }
    let before = diags.error_count();
    let (front, markdown) = split_front_matter(&rel, &text, diags)
        .unwrap_or_else(|| (FrontMatter::default(), String::new()));
    let first_line = text[..text.len() - markdown.len()].matches('\n').count() + 1;
    Some(ContentFile {
        lang,
        kind: PageKind::from_slug(&stem),
        path: rel,
        front,
        markdown,
        first_line,
        front_broken: diags.error_count() > before,
    })
}

/// Splits `+++\n<toml>\n+++\n<markdown>`. A file without an opening `+++`
/// is all Markdown. `None` when the front matter is never closed.
pub fn split_front_matter(
    path: &Path,
    text: &str,
    diags: &mut Diagnostics,
) -> Option<(FrontMatter, String)> {
    let file = SourceFile { path, text };
    let text_no_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - text_no_bom.len();
    let Some(after_open) = text_no_bom
        .strip_prefix("+++\n")
        .or_else(|| text_no_bom.strip_prefix("+++\r\n"))
    else {
        return Some((FrontMatter::default(), text_no_bom.to_string()));
    };
    let start = text.len() - after_open.len();
    let close = after_open
        .match_indices("+++")
        .find(|(i, _)| *i == 0 || after_open.as_bytes()[i - 1] == b'\n');
    let Some((close, _)) = close else {
        diags.push(
            file.error_at(Some(bom), "front matter opened with `+++` is never closed")
                .with_fix("end the front matter with a line holding only `+++`"),
        );
        return None;
    };
    let toml_text = &after_open[..close];
    let body = after_open[close + 3..].trim_start_matches(['\r', '\n']);
    // With errors in the front matter (reported), the body is still read.
    let front = Document::parse(file, toml_text, start, diags).into_value::<FrontMatter>(diags);
    Some((front.unwrap_or_default(), body.to_string()))
}
