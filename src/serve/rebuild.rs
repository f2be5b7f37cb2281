//! Rebuilding only what a change needs, where that is cheap.
//!
//! The loaded site and the last good build are kept between rebuilds. An
//! edit of existing Markdown files re-reads only those files and renders
//! again only the pages the edit can change ([`render::partial`]: the page
//! itself; every page of its language when a title in the menu changed;
//! the statement when a right's text changed); the other pages are the
//! last build's. Anything else reloads more: a new or removed page, the
//! menu order or a problem re-reads all of `content/`, a template edit the
//! theme, `portal.toml`, a form or a release everything, and those render
//! every page. Either way the preview is exactly what `portaal build`
//! would write.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::forms::PreviewForms;
use super::state::{Served, served};
use super::watch::{Batch, Change};
use crate::diagnostics::Diagnostics;
use crate::render::output::{self, Files};
use crate::render::partial;
use crate::render::target::Target;
use crate::render::{self, BuildOptions};
use crate::site::{Site, content};

pub struct Rebuilder {
    site_dir: PathBuf,
    options: BuildOptions,
    out: Option<Target>,
    site: Option<Site>,
    forms: PreviewForms,
    /// The last good build of `site`, kept for a partial rebuild; `None`
    /// after a failed one.
    last: Option<Arc<Served>>,
}

/// A good rebuild.
pub struct Rebuilt {
    pub files: Arc<Served>,
    /// The pages rendered again when the others were kept; `None` when
    /// every page was rendered.
    pub rendered: Option<usize>,
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
            last: None,
        })
    }

    /// Where the preview's ticket e-mails are written.
    pub fn outbox(&self) -> PathBuf {
        self.forms.outbox()
    }

    /// Rebuilds after `batch`; the error is the problems as text.
    pub fn rebuild(&mut self, batch: &Batch) -> Result<Rebuilt, String> {
        let last = self.last.take();
        let rebuilt = match last.and_then(|last| self.partial(batch, &last)) {
            Some(result) => result,
            None => self.full(&batch.changes),
        }?;
        if let Some(out) = self.out.as_ref().filter(|_| rebuilt.rendered != Some(0)) {
            let files: Files = (rebuilt.files.iter())
                .map(|(path, bytes)| (path.clone(), bytes.to_vec()))
                .collect();
            output::replace_dir(out, &files)
                .map_err(|e| format!("cannot write {}: {e}", out.path().display()))?;
        }
        self.last = Some(rebuilt.files.clone());
        Ok(rebuilt)
    }

    /// Reloads what `changes` need and renders every page.
    fn full(&mut self, changes: &BTreeSet<Change>) -> Result<Rebuilt, String> {
        let problems = self.reload(changes);
        let Some(site) = self.site.as_ref() else {
            return Err(self.show(&problems));
        };
        let built = render::render_site(site, &self.options, problems).map_err(|d| {
            // Problems found while loading are only found again by a full load.
            self.site = None;
            self.show(&d)
        })?;
        Ok(Rebuilt {
            files: Arc::new(served(built.files)),
            rendered: None,
        })
    }

    /// When `batch` only edited Markdown files of the loaded site, and
    /// reading them again finds no problem: re-reads just those, renders
    /// the pages they can change and takes the other files from `last`.
    /// `None` when the edit needs a full rebuild.
    fn partial(&mut self, batch: &Batch, last: &Served) -> Option<Result<Rebuilt, String>> {
        if batch.files.is_empty() || batch.changes.iter().any(|c| *c != Change::Content) {
            return None;
        }
        let site = self.site.as_mut()?;
        let mut fresh = Vec::with_capacity(batch.files.len());
        for rel in &batch.files {
            let meta = std::fs::symlink_metadata(self.site_dir.join(rel));
            let Some(i) = site.content.iter().position(|c| &c.path == rel) else {
                // Gone again, it is not part of the site: an editor's
                // temporary file, saved under the page's name. Anything
                // else new (a page, a folder) changes the list of pages,
                // and is checked by a full load.
                if meta.is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
                    continue;
                }
                return None;
            };
            // A removed page, or one that became a link: a full load too.
            if !meta.ok()?.is_file() {
                return None;
            }
            let mut problems = Diagnostics::default();
            let lang = site.content[i].lang;
            let new = content::read_file(&self.site_dir, rel.clone(), lang, &mut problems)?;
            if !problems.is_empty() {
                return None;
            }
            fresh.push((i, new));
        }
        let selection = partial::apply(site, fresh)?;
        let only = |lang, output: &str| selection.contains(lang, output);
        let built = match render::render_only(site, &self.options, Diagnostics::default(), &only) {
            Ok(built) => built,
            Err(d) => {
                self.site = None;
                return Some(Err(self.show(&d)));
            }
        };
        let rendered = built.pages;
        let mut files = last.clone();
        files.extend(served(built.files));
        Some(Ok(Rebuilt {
            files: Arc::new(files),
            rendered: Some(rendered),
        }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The example portal (portal.toml, content/, history/) with own pages
    /// and a first layer, in a temporary folder.
    fn example_site() -> tempfile::TempDir {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for folder in ["content", "history"] {
            for entry in walkdir::WalkDir::new(root.join(folder)) {
                let entry = entry.unwrap();
                let to = dir.path().join(entry.path().strip_prefix(root).unwrap());
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&to).unwrap();
                } else {
                    std::fs::copy(entry.path(), &to).unwrap();
                }
            }
        }
        std::fs::copy(root.join("portal.toml"), dir.path().join("portal.toml")).unwrap();
        for lang in ["nl", "fr", "de", "en"] {
            for (slug, weight) in [("team", 1), ("contact", 2)] {
                write(
                    dir.path(),
                    &format!("content/{lang}/{slug}.md"),
                    &format!(
                        "+++\ntitle = \"{slug} {lang}\"\nweight = {weight}\n+++\nAbout {slug}.\n"
                    ),
                );
            }
        }
        write(
            dir.path(),
            "content/de/summary.md",
            "Kurz: wir rösten Kaffee.\n",
        );
        dir
    }

    fn write(site: &Path, rel: &str, text: &str) {
        std::fs::write(site.join(rel), text).unwrap();
    }

    fn edit(site: &Path, rel: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(site.join(rel)).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        write(site, rel, &text.replacen(from, to, 1));
    }

    fn content_batch(files: &[&str]) -> Batch {
        Batch {
            changes: [Change::Content].into(),
            files: files.iter().map(PathBuf::from).collect(),
        }
    }

    /// What `portaal build` makes of the site as it is on disk now, with
    /// the preview's options (its form endpoint and key).
    fn full_build(rebuilder: &Rebuilder) -> Files {
        let (site, problems) = crate::check::load_site(&rebuilder.site_dir);
        let site = site.expect("the site loads");
        match render::render_site(&site, &rebuilder.options, problems) {
            Ok(built) => built.files,
            Err(d) => panic!("the full build fails: {}", d.prefixed(Path::new(""))),
        }
    }

    fn assert_same(step: &str, served: &Served, built: &Files) {
        let served_paths: Vec<&String> = served.keys().collect();
        let built_paths: Vec<&String> = built.keys().collect();
        assert_eq!(served_paths, built_paths, "{step}: the same files");
        for (path, bytes) in built {
            let got: &[u8] = &served[path];
            if got != bytes {
                let at = got.iter().zip(bytes).take_while(|(a, b)| a == b).count();
                let around = |b: &[u8]| {
                    String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())])
                        .into_owned()
                };
                panic!(
                    "{step}: {path} differs from a full build at byte {at}:\n\
                     rebuilt: {}\nbuilt:   {}",
                    around(got),
                    around(bytes)
                );
            }
        }
    }

    /// Rebuilds after `batch`, checks the result against a full build of
    /// the site as it is now, and returns the pages rendered again.
    fn step(rebuilder: &mut Rebuilder, name: &str, batch: &Batch) -> Option<usize> {
        let rebuilt = rebuilder
            .rebuild(batch)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same(name, &rebuilt.files, &full_build(rebuilder));
        rebuilt.rendered
    }

    fn pages_of(files: &Served, lang: &str) -> usize {
        files
            .keys()
            .filter(|k| k.starts_with(&format!("{lang}/")) && k.ends_with(".html"))
            .count()
    }

    /// Every edit of Markdown, rebuilt partially or in full, gives every
    /// file byte for byte as a fresh full build of the edited site.
    #[test]
    fn a_partial_rebuild_equals_a_full_build() {
        let dir = example_site();
        let site = dir.path();
        let mut rebuilder = Rebuilder::new(
            site.to_path_buf(),
            "http://127.0.0.1:7110".into(),
            None,
            Some(1_790_000_000),
        )
        .unwrap();
        let first = Batch {
            changes: [Change::Config].into(),
            files: BTreeSet::new(),
        };
        let files = rebuilder.rebuild(&first).unwrap().files;
        assert_same("first build", &files, &full_build(&rebuilder));
        // Every page of a language, and the 404 page and the language
        // choice, which speak the default language (nl).
        let nl_pages = pages_of(&files, "nl") + 2;
        let fr_pages = pages_of(&files, "fr");
        let de_pages = pages_of(&files, "de");

        edit(site, "content/nl/team.md", "About", "Over");
        let batch = content_batch(&["content/nl/team.md"]);
        assert_eq!(step(&mut rebuilder, "body", &batch), Some(1));

        // What changed since the last release (history/2.0.toml) is on
        // every page of the language.
        edit(site, "content/nl/privacy.md", "Wij zijn", "Wij waren");
        let batch = content_batch(&["content/nl/privacy.md"]);
        let name = "a section of the statement";
        assert_eq!(step(&mut rebuilder, name, &batch), Some(nl_pages));
        // Changed again, it is still the one changed section.
        edit(site, "content/nl/privacy.md", "Wij waren", "Wij blijven");
        let name = "the same section again";
        assert_eq!(step(&mut rebuilder, name, &batch), Some(1));
        edit(site, "content/nl/privacy.md", "Wij blijven", "Wij zijn");
        let name = "the section as released";
        assert_eq!(step(&mut rebuilder, name, &batch), Some(nl_pages));

        edit(
            site,
            "content/fr/team.md",
            "title = \"team fr\"",
            "title = \"Équipe\"",
        );
        let batch = content_batch(&["content/fr/team.md"]);
        assert_eq!(
            step(&mut rebuilder, "title in the menu", &batch),
            Some(fr_pages)
        );

        edit(
            site,
            "content/nl/index.md",
            "+++\n",
            "+++\ntitle = \"Welkom\"\n",
        );
        let batch = content_batch(&["content/nl/index.md"]);
        let name = "landing page title";
        assert_eq!(step(&mut rebuilder, name, &batch), Some(nl_pages));

        edit(
            site,
            "content/en/access.md",
            "It costs you nothing.",
            "It is free.",
        );
        let batch = content_batch(&["content/en/access.md"]);
        let name = "a right's text, shown in the statement too";
        assert_eq!(step(&mut rebuilder, name, &batch), Some(2));

        edit(
            site,
            "content/de/cookies.md",
            "description = \"",
            "description = \"Neu: ",
        );
        let batch = content_batch(&["content/de/cookies.md"]);
        assert_eq!(step(&mut rebuilder, "description", &batch), Some(1));

        edit(site, "content/de/summary.md", "Kaffee", "Kaffee und Tee");
        let batch = content_batch(&["content/de/summary.md"]);
        assert_eq!(step(&mut rebuilder, "first layer", &batch), Some(de_pages));

        edit(site, "content/nl/team.md", "Over", "Over ons");
        edit(site, "content/en/contact.md", "About", "All about");
        let batch = content_batch(&["content/nl/team.md", "content/en/contact.md"]);
        assert_eq!(step(&mut rebuilder, "two files", &batch), Some(2));

        // Saved unchanged (an editor's "save all"): nothing to render.
        let batch = content_batch(&["content/fr/privacy.md"]);
        assert_eq!(step(&mut rebuilder, "unchanged", &batch), Some(0));

        // Saved through a temporary file renamed over the page.
        edit(site, "content/fr/team.md", "About", "À propos");
        let batch = content_batch(&["content/fr/team.md~tmp", "content/fr/team.md"]);
        assert_eq!(step(&mut rebuilder, "saved by renaming", &batch), Some(1));

        // A folder that is no language is reported as a full build does.
        std::fs::create_dir(site.join("content/fr/extra")).unwrap();
        let batch = content_batch(&["content/fr/extra"]);
        let error = rebuilder.rebuild(&batch).err().expect("a misplaced folder");
        assert!(error.contains("content/fr/extra"), "{error}");
        std::fs::remove_dir(site.join("content/fr/extra")).unwrap();
        assert_eq!(step(&mut rebuilder, "folder removed", &batch), None);

        // A new page in every language: the list of pages changes.
        let mut added = Vec::new();
        for lang in ["nl", "fr", "de", "en"] {
            let rel = format!("content/{lang}/jobs.md");
            write(site, &rel, "+++\ntitle = \"Jobs\"\n+++\nWe hire.\n");
            added.push(rel);
        }
        let added: Vec<&str> = added.iter().map(String::as_str).collect();
        assert_eq!(step(&mut rebuilder, "add", &content_batch(&added)), None);

        edit(site, "content/de/jobs.md", "We hire.", "Wir stellen ein.");
        let batch = content_batch(&["content/de/jobs.md"]);
        assert_eq!(step(&mut rebuilder, "edit the new page", &batch), Some(1));

        // The menu order changes: rendered in full.
        edit(site, "content/fr/contact.md", "weight = 2", "weight = 0");
        let batch = content_batch(&["content/fr/contact.md"]);
        assert_eq!(step(&mut rebuilder, "weight", &batch), None);

        for rel in &added {
            std::fs::remove_file(site.join(rel)).unwrap();
        }
        assert_eq!(step(&mut rebuilder, "delete", &content_batch(&added)), None);

        // A broken link fails the rebuild; the next good save builds in full.
        edit(
            site,
            "content/fr/team.md",
            "À propos",
            "[Voir](/fr/nulle-part/)",
        );
        let batch = content_batch(&["content/fr/team.md"]);
        let error = rebuilder.rebuild(&batch).err().expect("a broken link");
        assert!(error.contains("content/fr/team.md"), "{error}");
        edit(
            site,
            "content/fr/team.md",
            "[Voir](/fr/nulle-part/)",
            "À propos",
        );
        assert_eq!(step(&mut rebuilder, "fixed", &batch), None);

        // A broken front matter is reported as a full load reports it.
        edit(site, "content/nl/team.md", "title = ", "title == ");
        let batch = content_batch(&["content/nl/team.md"]);
        let error = rebuilder
            .rebuild(&batch)
            .err()
            .expect("a broken front matter");
        assert!(error.contains("content/nl/team.md:2:"), "{error}");
        edit(site, "content/nl/team.md", "title == ", "title = ");
        assert_eq!(step(&mut rebuilder, "front matter fixed", &batch), None);
        edit(site, "content/nl/team.md", "Over ons", "Over");
        assert_eq!(step(&mut rebuilder, "partial again", &batch), Some(1));
    }
}
