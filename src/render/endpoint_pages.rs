//! The pages the form endpoint answers with, in a site's own theme: the
//! form again with what the visitor typed and why it was refused, the
//! thank-you page with the reference, and the pages that say why a post was
//! not accepted (README, "What a visitor sees").
//!
//! The endpoint loads each site's theme once, at start, and renders these
//! pages with the same base layout and form partial as the build, so a
//! visitor never leaves the firm's look. They are served from the
//! endpoint's host, so every link to the portal is absolute.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::LangView;
use super::{LanguageLink, NavLink};
use crate::diagnostics::Diagnostics;
use crate::forms::FormView;
use crate::site::Site;
use crate::theme::lookup;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::{PageKind, Right};

/// A site's compiled theme and what its pages need of the site.
pub struct SitePages {
    tera: std::sync::Arc<tera::Tera>,
    /// The firm's data in each language, as the build's templates see it.
    views: BTreeMap<Lang, LangView>,
    strings: std::sync::Arc<BTreeMap<Lang, toml::Table>>,
    /// Each language's menu: path below the base URL, and title.
    nav: BTreeMap<Lang, Vec<(String, String)>>,
    /// `style.css?v=…`, below the base URL.
    stylesheet: Option<String>,
}

/// What one page says.
pub enum Body<'a> {
    /// The form again (422): values and problems are in the form's fields;
    /// `other` lists problems that belong to no field of the form.
    Form {
        form: Box<FormView>,
        right: Right,
        other: Vec<String>,
    },
    /// Why a post was refused, with a link back to the form if it can be
    /// used again, else the firm's e-mail and postal address.
    Refused {
        title: &'a str,
        body: String,
        back: Option<String>,
        /// Also give the firm's e-mail and postal address (always when
        /// there is no form to go back to).
        other_ways: bool,
    },
    /// The thank-you page; `due` is already in words.
    Thanks {
        reference: &'a str,
        due: Option<String>,
        /// Each language's address of this same page (language switch).
        switch: Vec<(Lang, String)>,
    },
}

#[derive(Serialize)]
struct PageView<'a> {
    kind: &'static str,
    slug: &'a str,
    title: String,
    description: Option<String>,
    content: &'static str,
    url: String,
    permalink: String,
    body: Option<String>,
    back: Option<String>,
    other_ways: bool,
    other_errors: Vec<String>,
}

impl SitePages {
    /// Compiles the site's theme; the error says what is wrong with it.
    pub fn new(site: &Site) -> Result<SitePages, Diagnostics> {
        let tera = super::templates::shared(&site.theme)?;
        let base_url = site.config.site.base_url.get_ref().trim_end_matches('/');
        let views = site
            .languages()
            .iter()
            .map(|&l| (l, LangView::new(site, base_url, l)))
            .collect();
        let mut statics = (*site.theme.statics).clone();
        let mut diags = Diagnostics::default();
        super::load_site_static(site, &mut statics, &mut diags);
        let stylesheet = statics
            .get("style.css")
            .map(|css| format!("style.css?v={}", super::stylesheet_version(css)));
        let nav = site
            .languages()
            .iter()
            .map(|&l| (l, nav(site, l)))
            .collect();
        Ok(SitePages {
            tera,
            views,
            strings: site.theme.strings.clone(),
            nav,
            stylesheet,
        })
    }

    /// A string of the site's theme, empty if it has none.
    /// The wording around forms in `lang`, the site's overrides included.
    pub fn form_strings(&self, lang: Lang) -> crate::forms::strings::FormStrings {
        crate::forms::strings::FormStrings::of(self.strings.get(&lang), lang)
    }

    pub fn string(&self, lang: Lang, key: &str) -> String {
        self.strings
            .get(&lang)
            .and_then(|s| lookup(s, key))
            .unwrap_or_default()
            .to_string()
    }

    /// Renders a page of the site published at `base_url`, in `lang`.
    pub fn render(&self, base_url: &str, lang: Lang, body: Body<'_>) -> Result<String, String> {
        let base_url = base_url.trim_end_matches('/');
        let mut ctx = tera::Context::new();
        let Some(view) = self.views.get(&lang) else {
            return Err(format!("the site has no language `{lang}`"));
        };
        let mut view = view.clone();
        // Links of the layout are `site.base_path ~ lang ~ '/'`: absolute here.
        view.site.base_path = format!("{base_url}/");
        view.site.base_url = base_url.to_string();
        if let Some(map) = tera::Value::from_serializable(&view).as_map() {
            for (k, v) in map.iter() {
                ctx.insert_value(k.to_string(), v.clone());
            }
        }
        ctx.insert_value(
            "t",
            tera::Value::from_serializable(&self.strings.get(&lang)),
        );
        let stylesheet = self.stylesheet.as_ref().map(|s| format!("{base_url}/{s}"));
        ctx.insert("assets", &BTreeMap::from([("stylesheet", stylesheet)]));
        ctx.insert("lang", &lang);
        let nav: Vec<NavLink> = self
            .nav
            .get(&lang)
            .into_iter()
            .flatten()
            .map(|(path, title)| NavLink {
                title: title.clone(),
                url: format!("{base_url}/{lang}/{path}"),
                current: false,
            })
            .collect();
        ctx.insert("nav", &nav);
        let mut languages: Vec<LanguageLink> = Vec::new();
        let thanks_url = |l: Lang| format!("{base_url}/{l}/{}", PageKind::Thanks.path());
        let (template, page) = match body {
            Body::Form { form, right, other } => {
                let title = self.string(lang, &format!("right.{}.title", right.key()));
                let page = PageView {
                    kind: "endpoint",
                    slug: "form",
                    title,
                    description: None,
                    content: "",
                    url: String::new(),
                    permalink: base_url.to_string(),
                    body: None,
                    back: None,
                    other_ways: false,
                    other_errors: other,
                };
                ctx.insert("form", &form);
                ("endpoint.html", page)
            }
            Body::Refused {
                title,
                body,
                back,
                other_ways,
            } => {
                ctx.insert_value("form", tera::Value::none());
                let page = PageView {
                    kind: "endpoint",
                    slug: "refused",
                    title: title.to_string(),
                    description: None,
                    content: "",
                    url: String::new(),
                    permalink: base_url.to_string(),
                    body: Some(body),
                    other_ways: other_ways || back.is_none(),
                    back,
                    other_errors: Vec::new(),
                };
                ("endpoint.html", page)
            }
            Body::Thanks {
                reference,
                due,
                switch,
            } => {
                ctx.insert_value("form", tera::Value::none());
                ctx.insert("reference", reference);
                ctx.insert("due", &due);
                languages = switch
                    .into_iter()
                    .map(|(l, url)| LanguageLink {
                        code: l,
                        name: l.endonym(),
                        url,
                        permalink: thanks_url(l),
                        current: l == lang,
                    })
                    .collect();
                let page = PageView {
                    kind: "thanks",
                    slug: "thanks",
                    title: self.string(lang, "page.thanks.title"),
                    description: None,
                    content: "",
                    url: String::new(),
                    permalink: thanks_url(lang),
                    body: None,
                    back: None,
                    other_ways: false,
                    other_errors: Vec::new(),
                };
                ("thanks.html", page)
            }
        };
        ctx.insert("page", &page);
        ctx.insert("languages", &languages);
        self.tera
            .render(template, &ctx)
            .map_err(|e| format!("{template}: {e}"))
    }
}

/// The menu of a language, as the build makes it: landing page, statement,
/// cookies, the site's own pages.
fn nav(site: &Site, lang: Lang) -> Vec<(String, String)> {
    let strings = site.theme.strings.get(&lang);
    let title_of = |kind: &PageKind| -> String {
        site.content
            .iter()
            .find(|c| c.lang == lang && &c.kind == kind)
            .and_then(|c| c.front.title.clone())
            .or_else(|| {
                strings
                    .and_then(|s| lookup(s, &format!("page.{}.title", kind.slug())))
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    let mut custom: Vec<(i64, String)> = site
        .content
        .iter()
        .filter(|c| c.lang == lang)
        .filter_map(|c| match &c.kind {
            PageKind::Custom(slug) if !c.kind.is_summary() => Some((c.front.weight, slug.clone())),
            _ => None,
        })
        .collect();
    custom.sort();
    [PageKind::Index, PageKind::Privacy, PageKind::Cookies]
        .into_iter()
        .chain(custom.into_iter().map(|(_, s)| PageKind::Custom(s)))
        .map(|k| (k.path(), title_of(&k)))
        .collect()
}
