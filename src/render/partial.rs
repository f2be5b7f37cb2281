//! Which pages an edit of one Markdown file can change, so that `serve`
//! re-renders those ([`super::render_only`]) and keeps the others from its
//! previous build.
//!
//! This mirrors what [`super::render_only`] puts into a page's context from
//! the site's content: a page's own Markdown and front matter; the titles
//! of the landing page, statement, cookie page and own pages in every menu
//! of their language; each right page's text in the statement; the first
//! layer (`summary.md`) on every page of its language; what changed in the
//! statement's sections since the last release (`history`), which every
//! page of its language can show. Anything else an
//! edit changes (the menu order, a broken front matter) asks for a full
//! build. The serve tests compare the result with a full build.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::Diagnostics;
use crate::site::Site;
use crate::site::content::ContentFile;
use crate::site::history::section_fingerprints;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::PageKind;

/// Puts the content files read again into `site` (`fresh`: the index of
/// each in `site.content`, and the file as read now) and returns the pages
/// to render again. `None`, with `site` unchanged, when only a full build
/// is right.
pub fn apply(site: &mut Site, fresh: Vec<(usize, ContentFile)>) -> Option<Selection> {
    let mut selection = Selection::default();
    let mut statements = BTreeSet::new();
    for (i, new) in &fresh {
        let old = &site.content[*i];
        if !selection.add(old, new) {
            return None;
        }
        if new.kind == PageKind::Privacy
            && section_fingerprints(&old.markdown) != section_fingerprints(&new.markdown)
        {
            statements.insert(new.lang);
        }
    }
    let before = history_of(site, &statements);
    for (i, new) in fresh {
        site.content[i] = new;
    }
    let after = history_of(site, &statements);
    for lang in statements {
        if before.get(&lang) != after.get(&lang) {
            selection.languages.insert(lang);
        }
    }
    Some(selection)
}

/// What the pages of each of `languages` show as `history`, to compare.
fn history_of(site: &Site, languages: &BTreeSet<Lang>) -> BTreeMap<Lang, String> {
    if languages.is_empty() {
        return BTreeMap::new();
    }
    // Loaded by the last good build: no new problem.
    let released = super::history::Released::load(site, &mut Diagnostics::default());
    let url = |lang: Lang, version: Option<&str>| format!("{lang} {version:?}");
    languages
        .iter()
        .map(|&l| (l, format!("{:?}", released.history_view(site, l, &url))))
        .collect()
}

/// The pages to render again: by output path, and whole languages.
#[derive(Debug, Default)]
pub struct Selection {
    outputs: BTreeSet<String>,
    languages: BTreeSet<Lang>,
}

impl Selection {
    /// Adds the pages that the change of `old` into `new` (the same file,
    /// read again) can alter. `false`: the change can alter more than
    /// pages (the order of the menu, problems of the front matter), so only
    /// a full build is right. The statement's `history` is [`apply`]'s.
    #[must_use]
    fn add(&mut self, old: &ContentFile, new: &ContentFile) -> bool {
        if old.lang != new.lang
            || old.kind != new.kind
            || old.front.weight != new.front.weight
            || old.front_broken
            || new.front_broken
        {
            return false;
        }
        let lang = new.lang;
        let same_text = old.markdown == new.markdown && old.first_line == new.first_line;
        let same_front =
            old.front.title == new.front.title && old.front.description == new.front.description;
        if same_text && same_front {
            return true;
        }
        if new.kind.is_summary() {
            // The first layer is on every page of its language.
            self.languages.insert(lang);
            return true;
        }
        self.outputs.insert(output(lang, &new.kind));
        if old.front.title != new.front.title && in_menu(&new.kind) {
            self.languages.insert(lang);
        }
        if let PageKind::Right(_) = new.kind
            && !same_text
        {
            self.outputs.insert(output(lang, &PageKind::Privacy));
        }
        true
    }

    /// Whether the page of `lang` at `output` is to be rendered again.
    pub fn contains(&self, lang: Lang, output: &str) -> bool {
        self.languages.contains(&lang) || self.outputs.contains(output)
    }
}

/// A page's output path, as [`super::render_only`] names it.
fn output(lang: Lang, kind: &PageKind) -> String {
    super::Target::Page(kind.clone()).output(lang)
}

/// The pages whose title is in the menu ([`super::nav_targets`]).
fn in_menu(kind: &PageKind) -> bool {
    matches!(
        kind,
        PageKind::Index | PageKind::Privacy | PageKind::Cookies | PageKind::Custom(_)
    )
}
