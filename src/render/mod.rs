//! From a loaded site to its output files: plan the pages, render them in
//! parallel, check their links, and hand the files to the writer.

pub mod budget;
pub mod changes;
pub mod citation;
pub mod endpoint_pages;
pub mod history;
pub mod html;
pub mod markdown;
mod menu;
pub mod model;
pub mod output;
pub mod partial;
mod sitemap;
pub mod summary;
pub mod target;
pub mod templates;
pub mod twin;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::site::Site;
use crate::site::content::ContentFile;
use crate::theme::lookup;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::PageKind;
use model::LangView;
use output::Files;

/// How to build: everything that is not in the site itself.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Replaces `[site] base_url`, e.g. for a staging host.
    pub base_url: Option<String>,
    /// Where the rights pages' forms post and what signs them, resolved by
    /// the command: `build` the site's own keys ([`site_forms`]), `check`
    /// and `serve` keys of their own. `None`: the pages carry no form.
    pub forms: Option<FormTarget>,
}

/// Where forms post, what signs them and the time they are issued at.
#[derive(Debug, Clone)]
pub struct FormTarget {
    pub action: String,
    pub keys: crate::forms::sign::KeyRing,
    /// Seconds since 1970, signed into every form.
    pub issued: u64,
}

/// One page to render.
struct Plan<'a> {
    lang: Lang,
    kind: Target,
    content: Option<&'a ContentFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Page(PageKind),
    NotFound,
    LanguageChoice,
    /// An earlier version of the statement (`history/<version>.toml`).
    Earlier(String),
    /// Every version of the statement and what changed in each.
    Changes,
}

impl Target {
    fn output(&self, lang: Lang) -> String {
        match self {
            Target::Page(kind) => format!("{lang}/{}index.html", kind.path()),
            Target::NotFound => "404.html".into(),
            Target::LanguageChoice => "index.html".into(),
            Target::Earlier(v) => format!("{lang}/privacy/{v}/index.html"),
            Target::Changes => format!("{lang}/privacy/changes/index.html"),
        }
    }

    fn template(&self) -> &'static str {
        match self {
            Target::Page(kind) => kind.template(),
            Target::NotFound => "404.html",
            Target::LanguageChoice => "language-choice.html",
            Target::Earlier(_) => "privacy.html",
            Target::Changes => "changes.html",
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Target::Page(PageKind::Index) => "index",
            Target::Page(PageKind::Privacy) => "privacy",
            Target::Page(PageKind::Cookies) => "cookies",
            Target::Page(PageKind::Right(_)) => "right",
            Target::Page(PageKind::Thanks) => "thanks",
            Target::Page(PageKind::Custom(_)) => "custom",
            Target::NotFound => "not_found",
            Target::LanguageChoice => "language_choice",
            Target::Earlier(_) => "privacy_earlier",
            Target::Changes => "changes",
        }
    }

    fn strings_key(&self) -> String {
        match self {
            Target::Page(PageKind::Right(r)) => format!("right.{}", r.key()),
            Target::Page(kind) => format!("page.{}", kind.slug()),
            Target::NotFound => "page.not_found".into(),
            Target::LanguageChoice => "page.language_choice".into(),
            Target::Earlier(_) => "page.privacy".into(),
            Target::Changes => "page.changes".into(),
        }
    }
}

#[derive(Serialize)]
struct PageView {
    kind: &'static str,
    slug: String,
    right: Option<&'static str>,
    title: String,
    description: Option<String>,
    content: String,
    /// The level-2 headings of `content` as `{id, title}`, for a table of
    /// contents.
    sections: Vec<Section>,
    url: String,
    permalink: String,
}

#[derive(Serialize)]
struct Section {
    id: String,
    title: String,
}

/// One language of the site, for a page that speaks all of them.
#[derive(Serialize)]
struct Translation {
    code: Lang,
    name: &'static str,
    /// The language's landing page.
    url: String,
    site_title: tera::Value,
    /// The theme's strings in this language.
    t: tera::Value,
}

#[derive(Serialize)]
struct LanguageLink {
    code: Lang,
    name: &'static str,
    url: String,
    /// The absolute URL, for `hreflang` alternates.
    permalink: String,
    current: bool,
}

#[derive(Serialize)]
struct NavLink {
    title: String,
    url: String,
    current: bool,
}

/// What a build produced.
pub struct Built {
    pub files: Files,
    pub pages: usize,
    /// Problems that did not stop the build.
    pub warnings: Diagnostics,
}

/// Renders every page of `site` into memory. `diags` holds the problems
/// found while loading the site: they are reported together with the
/// render's own (broken links, template errors), and any error among them
/// stops the build before a page is written.
pub fn render_site(
    site: &Site,
    options: &BuildOptions,
    diags: Diagnostics,
) -> Result<Built, Diagnostics> {
    render_only(site, options, diags, &|_, _| true)
}

/// [`render_site`], rendering only the pages for which `only(language,
/// output path)` holds: `serve` re-renders the pages an edit can change
/// ([`partial`]) and keeps the rest of its previous build. Every file that
/// is not a page (sitemap, statement twins, static files) is made in full.
/// The site's Markdown links are checked on the pages rendered (and on
/// each language's first layer).
pub fn render_only(
    site: &Site,
    options: &BuildOptions,
    mut diags: Diagnostics,
    only: &(dyn Fn(Lang, &str) -> bool + Sync),
) -> Result<Built, Diagnostics> {
    let base_url = options
        .base_url
        .clone()
        .unwrap_or_else(|| site.config.site.base_url.get_ref().clone());
    if let Some(problem) = options
        .base_url
        .as_deref()
        .and_then(crate::vocab::identifiers::base_url_problem)
    {
        diags.push(Diagnostic::error("--base-url", problem).with_fix(
            "give the address where the portal is published, e.g. `https://staging.example.be`",
        ));
    }
    let base_url = base_url.trim_end_matches('/').to_string();
    let base_path = model::base_path(&base_url);
    let languages = site.languages().to_vec();
    let default_lang = *site.config.site.default_language.get_ref();

    let tera = templates::shared(&site.theme)
        .map_err(|d| diags.extend(d))
        .ok();
    let form_signing = options
        .forms
        .as_ref()
        .map(|f| (f.action.clone(), f.keys.clone(), f.issued));
    let mut plans = plan_pages(site, &languages, default_lang, &mut diags);
    // Released versions: each earlier one gets its own page per language,
    // and all of them a page of changes.
    let released = history::Released::load(site, &mut diags);
    for &lang in &languages {
        for v in released.earlier() {
            plans.push(Plan {
                lang,
                kind: Target::Earlier(v.snapshot.version.clone()),
                content: None,
            });
        }
        if !released.versions.is_empty() {
            plans.push(Plan {
                lang,
                kind: Target::Changes,
                content: None,
            });
        }
    }

    let wanted: Vec<bool> = plans
        .iter()
        .map(|p| only(p.lang, &p.kind.output(p.lang)))
        .collect();
    let wanted_count = wanted.iter().filter(|w| **w).count();
    // The statement shows the text of each right page: rendered with it.
    let statements: BTreeSet<Lang> = plans
        .iter()
        .zip(&wanted)
        .filter(|(p, w)| **w && p.kind == Target::Page(PageKind::Privacy))
        .map(|(p, _)| p.lang)
        .collect();
    let needs_md = |p: &Plan, wanted: bool| {
        wanted
            || (matches!(p.kind, Target::Page(PageKind::Right(_))) && statements.contains(&p.lang))
    };

    // Markdown first: links are checked against the full list of pages.
    let reserved_ids = template_ids(&site.theme);
    let labels: BTreeMap<Lang, markdown::Labels> = languages
        .iter()
        .map(|&l| (l, markdown_labels(site, l, &reserved_ids)))
        .collect();
    let rendered_md: Vec<Option<markdown::Rendered>> = plans
        .par_iter()
        .zip(&wanted)
        .map(|(p, w)| {
            p.content
                .filter(|_| needs_md(p, *w))
                .map(|c| markdown::render_with_base(&c.markdown, &base_path, &labels[&p.lang]))
        })
        .collect();

    let mut statics: BTreeMap<String, Vec<u8>> = (*site.theme.statics).clone();
    load_site_static(site, &mut statics, &mut diags);
    static_collisions(site, &plans, &mut diags);
    let stylesheet = statics
        .get("style.css")
        .map(|css| format!("{base_path}style.css?v={}", stylesheet_version(css)));

    let outputs: BTreeSet<String> = plans
        .iter()
        .map(|p| p.kind.output(p.lang))
        .chain(statics.keys().cloned())
        .collect();
    for (plan, md) in plans.iter().zip(&rendered_md) {
        if let (Some(content), Some(md)) = (plan.content, md) {
            check_links(content, md, &base_path, &outputs, &mut diags);
        }
    }
    // The firm's own first layer (`content/<lang>/summary.md`), per language.
    let own_summaries: BTreeMap<Lang, String> = site
        .content
        .iter()
        .filter(|c| c.kind.is_summary() && languages.contains(&c.lang))
        .map(|c| {
            let md = markdown::render_with_base(&c.markdown, &base_path, &labels[&c.lang]);
            check_links(c, &md, &base_path, &outputs, &mut diags);
            (c.lang, md.html)
        })
        .collect();
    let Some(tera) = tera.filter(|_| !diags.has_errors()) else {
        return Err(diags.sorted());
    };

    let strings_values = templates::strings_values(&site.theme);
    let mut views: BTreeMap<Lang, (tera::Value, tera::Value, tera::Value)> = BTreeMap::new();
    // The statement's machine-readable twins, by output path.
    let mut twins: Vec<(String, Vec<u8>)> = Vec::new();
    for &l in &languages {
        let lang_view = LangView::new(site, &base_url, l);
        let summary =
            summary::SummaryView::new(&site.config, &lang_view, own_summaries.get(&l).cloned());
        let json = twin::statement_json(&site.config, &lang_view, l);
        let ld = twin::statement_jsonld(&json);
        for (path, value) in [(twin::json_path(l), json), (twin::jsonld_path(l), ld)] {
            let mut bytes = serde_json::to_vec_pretty(&value).expect("JSON values serialise");
            bytes.push(b'\n');
            twins.push((path, bytes));
        }
        let view = tera::Value::from_serializable(&lang_view);
        let strings = strings_values
            .get(&l)
            .cloned()
            .unwrap_or_else(tera::Value::none);
        views.insert(l, (view, strings, tera::Value::from_serializable(&summary)));
    }
    // Each earlier version seen in each language, from its own facts.
    let mut earlier_views: BTreeMap<(String, Lang), (tera::Value, tera::Value, tera::Value)> =
        BTreeMap::new();
    for v in released.earlier() {
        // The facts of that version; its view reads no Markdown, so the
        // pages' text (megabytes on a large portal) is not copied.
        let old_site = Site {
            dir: site.dir.clone(),
            config: v.config.clone(),
            content: Vec::new(),
            theme: site.theme.clone(),
            forms: site.forms.clone(),
        };
        for &l in &languages {
            let lang_view = LangView::new(&old_site, &base_url, l);
            let summary = summary::SummaryView::new(&v.config, &lang_view, None);
            earlier_views.insert(
                (v.snapshot.version.clone(), l),
                (
                    tera::Value::from_serializable(&lang_view),
                    views[&l].1.clone(),
                    tera::Value::from_serializable(&summary),
                ),
            );
        }
    }
    let history_url = |lang: Lang, version: Option<&str>| match version {
        Some(v) => format!("{base_path}{lang}/privacy/{v}/"),
        None => format!("{base_path}{lang}/privacy/changes/"),
    };
    let history_views: BTreeMap<Lang, tera::Value> = languages
        .iter()
        .map(|&l| {
            let view = released.history_view(site, l, &history_url);
            (l, tera::Value::from_serializable(&view))
        })
        .collect();
    let favicon = statics
        .contains_key("favicon.svg")
        .then(|| format!("{base_path}favicon.svg"));
    let assets = tera::Value::from_serializable(&BTreeMap::from([
        ("stylesheet", stylesheet),
        ("favicon", favicon),
    ]));

    // `base_url` ends with the base path (less its slash); paths start with it.
    let origin = base_url
        .strip_suffix(base_path.trim_end_matches('/'))
        .unwrap_or(&base_url)
        .to_string();
    let permalink = |path: &str| format!("{origin}{path}");
    let url_of = |lang: Lang, target: &Target| -> String {
        match target {
            Target::Page(kind) => format!("{base_path}{lang}/{}", kind.path()),
            Target::NotFound => format!("{base_path}404.html"),
            Target::LanguageChoice => base_path.clone(),
            Target::Earlier(v) => format!("{base_path}{lang}/privacy/{v}/"),
            Target::Changes => format!("{base_path}{lang}/privacy/changes/"),
        }
    };

    // Each language's menu, built once: every page of the language gets the
    // same items (shared, tera values are reference counted), with its own
    // item in its `current` form.
    let menus: BTreeMap<Lang, Vec<(&Target, tera::Value, tera::Value)>> = languages
        .iter()
        .map(|&l| {
            let items = nav_targets(site, &plans, l)
                .map(|(target, title)| {
                    let url = url_of(l, target);
                    let item = |current| {
                        tera::Value::from_serializable(&NavLink {
                            title: title.clone(),
                            url: url.clone(),
                            current,
                        })
                    };
                    (target, item(false), item(true))
                })
                .collect();
            (l, items)
        })
        .collect();

    // Each language's menu rendered once, in pieces (see `menu`); `None`
    // when the theme's partial has to be rendered per page.
    let budget = std::time::Duration::from_millis(site.config.site.render_budget_ms());
    let renderer = budget::Renderer::default();
    // Putting a menu together costs about four renders of it and some
    // setup: for a short menu, or a language with few pages to render (a
    // preview's partial rebuild), each page renders its own.
    let rendered_menus: BTreeMap<Lang, Arc<menu::Menu>> = languages
        .iter()
        .filter(|&&l| {
            plans
                .iter()
                .zip(&wanted)
                .filter(|(p, w)| **w && p.lang == l)
                .count()
                > 4
                && menus[&l].len() >= menu::WORTH_IT
        })
        .filter_map(|&l| {
            let (view, strings, _) = &views[&l];
            let mut ctx = language_context(view, strings);
            ctx.insert_value("assets", assets.clone());
            ctx.insert("lang", &l);
            let items: Vec<(tera::Value, tera::Value)> = menus[&l]
                .iter()
                .map(|(_, plain, current)| (plain.clone(), current.clone()))
                .collect();
            menu::build(&renderer, &tera, &ctx, &items, budget).map(|m| (l, Arc::new(m)))
        })
        .collect();

    // The statement shows the firm's own text of each right too.
    let right_texts_of: BTreeMap<Lang, Vec<RightText>> = languages
        .iter()
        .map(|&l| (l, right_texts(&plans, &rendered_md, l)))
        .collect();

    // The contexts are built here, borrowing the site; the templates render
    // from owned contexts, so that a runaway render can be abandoned.
    let jobs: Vec<budget::Job> = plans
        .par_iter()
        .zip(rendered_md.into_par_iter())
        .filter(|(plan, _)| only(plan.lang, &plan.kind.output(plan.lang)))
        .map(|(plan, md)| {
            let (view, strings_value, summary_value) = match &plan.kind {
                Target::Earlier(v) => &earlier_views[&(v.clone(), plan.lang)],
                _ => &views[&plan.lang],
            };
            let strings = site.theme.strings.get(&plan.lang);
            let string = |key: &str| strings.and_then(|s| lookup(s, key)).map(str::to_string);
            let key = plan.kind.strings_key();
            let front = plan.content.map(|c| &c.front);
            let title = page_title(site, plan);
            let description = front
                .and_then(|f| f.description.clone())
                .or_else(|| string(&format!("{key}.description")));
            let url = url_of(plan.lang, &plan.kind);
            let page = PageView {
                kind: plan.kind.kind_name(),
                slug: match &plan.kind {
                    Target::Page(k) => k.slug().to_string(),
                    _ => String::new(),
                },
                right: match &plan.kind {
                    Target::Page(PageKind::Right(r)) => Some(r.key()),
                    _ => None,
                },
                title,
                description,
                sections: md
                    .iter()
                    .flat_map(|m| &m.sections)
                    .map(|(id, title)| Section {
                        id: id.clone(),
                        title: title.clone(),
                    })
                    .collect(),
                content: md.map(|m| m.html).unwrap_or_default(),
                permalink: permalink(&url),
                url,
            };
            // The firm's text, a menu entry per page of the language and
            // some of the layout: more than that is grown as it is written
            // (a larger guess left holes that raised the peak memory).
            let size_hint = 4 * 1024 + page.content.len() + 64 * menus[&plan.lang].len();
            let languages_links: Vec<LanguageLink> = languages
                .iter()
                .map(|&l| {
                    let url = match &plan.kind {
                        Target::Page(_) | Target::Earlier(_) | Target::Changes => {
                            url_of(l, &plan.kind)
                        }
                        _ => format!("{base_path}{l}/"),
                    };
                    LanguageLink {
                        code: l,
                        name: l.endonym(),
                        permalink: permalink(&url),
                        url,
                        current: l == plan.lang
                            && matches!(
                                plan.kind,
                                Target::Page(_) | Target::Earlier(_) | Target::Changes
                            ),
                    }
                })
                .collect();
            let nav: Vec<tera::Value> = menus[&plan.lang]
                .iter()
                .map(|(target, item, current)| {
                    if **target == plan.kind { current } else { item }.clone()
                })
                .collect();

            // The root and the 404 page belong to no language: they speak
            // every language of the site, each in its own words.
            let translations: Vec<Translation> = match plan.kind {
                Target::Page(_) | Target::Earlier(_) | Target::Changes => Vec::new(),
                _ => languages
                    .iter()
                    .map(|&l| Translation {
                        code: l,
                        name: l.endonym(),
                        url: format!("{base_path}{l}/"),
                        site_title: views[&l]
                            .0
                            .get_from_path("site.title")
                            .cloned()
                            .unwrap_or_else(tera::Value::none),
                        t: views[&l].1.clone(),
                    })
                    .collect(),
            };

            let mut ctx = language_context(view, strings_value);
            ctx.insert_value("summary", summary_value.clone());
            ctx.insert_value("history", history_views[&plan.lang].clone());
            let earlier = match &plan.kind {
                Target::Earlier(v) => released.version_view(
                    v,
                    plan.lang,
                    site,
                    url_of(plan.lang, &Target::Page(PageKind::Privacy)),
                    &history_url,
                ),
                _ => None,
            };
            ctx.insert("earlier", &earlier);
            ctx.insert_value("assets", assets.clone());
            ctx.insert("lang", &plan.lang);
            ctx.insert("page", &page);
            ctx.insert("languages", &languages_links);
            ctx.insert_value("nav", tera::Value::from(nav));
            // The menu already rendered, when it could be (`menu`), put
            // together as the page renders.
            let mut late: Vec<(&'static str, budget::Late)> = Vec::new();
            match rendered_menus.get(&plan.lang) {
                Some(menu) => {
                    let menu = Arc::clone(menu);
                    let current = menus[&plan.lang]
                        .iter()
                        .position(|(target, _, _)| **target == plan.kind);
                    late.push((
                        "menu",
                        Box::new(move || tera::Value::safe_string(&menu.html(current))),
                    ));
                }
                None => ctx.insert_value("menu", tera::Value::none()),
            }
            ctx.insert("translations", &translations);
            let no_texts = Vec::new();
            let right_texts = match plan.kind {
                Target::Page(PageKind::Privacy) => &right_texts_of[&plan.lang],
                _ => &no_texts,
            };
            ctx.insert("right_texts", right_texts);
            match (&plan.kind, &form_signing) {
                (Target::Page(PageKind::Right(right)), Some((action, keys, issued))) => {
                    let signing = crate::forms::Signing {
                        site_id: site.id(),
                        keys,
                        issued: *issued,
                    };
                    let view = crate::forms::for_right(&site.forms, *right).and_then(|f| {
                        let t = crate::forms::strings::FormStrings::of(
                            site.theme.strings.get(&plan.lang),
                            plan.lang,
                        );
                        crate::forms::view(f, plan.lang, action, &signing, t)
                    });
                    ctx.insert("form", &view);
                }
                _ => ctx.insert_value("form", tera::Value::none()),
            }
            budget::Job {
                output: plan.kind.output(plan.lang),
                template: plan.kind.template(),
                context: ctx,
                size_hint,
                late,
            }
        })
        .collect();

    let budget_ms = site.config.site.render_budget_ms();
    let meta: Vec<(String, &'static str)> = jobs
        .iter()
        .map(|j| (j.output.clone(), j.template))
        .collect();
    let outcomes = renderer.render_all(tera, jobs, budget);
    let mut files = Files::new();
    for ((path, template), outcome) in meta.into_iter().zip(outcomes) {
        match outcome {
            Some(budget::Outcome::Rendered(bytes)) => {
                files.insert(path, bytes);
            }
            Some(budget::Outcome::Failed(e)) => {
                diags.push(templates::render_error(&site.theme, &e, &path, budget_ms))
            }
            Some(budget::Outcome::OverBudget) => diags.push(templates::over_budget(
                &site.theme,
                template,
                &path,
                budget_ms,
            )),
            // Not started: the render was abandoned for another page.
            None => {}
        }
    }
    if files.len() < wanted_count && !diags.has_errors() {
        diags.push(Diagnostic::error(
            crate::site::CONFIG_FILE,
            "rendering stopped before every page was done",
        ));
    }
    if diags.has_errors() {
        return Err(diags.sorted());
    }
    let pages = files.len();
    let page_urls: Vec<(Lang, PageKind)> = plans
        .iter()
        .filter_map(|p| match &p.kind {
            Target::Page(k) if k.in_sitemap() => Some((p.lang, k.clone())),
            _ => None,
        })
        .collect();
    files.insert(
        "sitemap.xml".into(),
        sitemap::sitemap(&base_url, &base_path, &languages, &page_urls, &site.config).into_bytes(),
    );
    files.insert("robots.txt".into(), sitemap::robots(&base_url).into_bytes());
    for (path, bytes) in twins {
        files.insert(path, bytes);
    }
    for (k, v) in statics {
        files.entry(k).or_insert(v);
    }
    Ok(Built {
        files,
        pages,
        warnings: diags.sorted(),
    })
}

/// What every page of a language reads: the language's view of the site
/// (`site`, `controller`, `purposes`, …) and its strings `t`.
fn language_context(view: &tera::Value, strings: &tera::Value) -> tera::Context {
    let mut ctx = tera::Context::new();
    if let Some(map) = view.as_map() {
        for (k, v) in map.iter() {
            ctx.insert_value(k.to_string(), v.clone());
        }
    }
    ctx.insert_value("t", strings.clone());
    ctx
}

/// A right's own page text (`content/<lang>/<right>.md`), for the statement.
#[derive(Serialize)]
struct RightText {
    key: &'static str,
    html: String,
}

/// The rendered Markdown of every right page of `lang`, in the order of
/// the rights.
fn right_texts(plans: &[Plan], md: &[Option<markdown::Rendered>], lang: Lang) -> Vec<RightText> {
    plans
        .iter()
        .zip(md)
        .filter(|(p, _)| p.lang == lang)
        .filter_map(|(p, m)| match (&p.kind, m) {
            (Target::Page(PageKind::Right(r)), Some(m)) if !m.html.trim().is_empty() => {
                Some(RightText {
                    key: r.key(),
                    html: m.html.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

/// The `?v=` of a stylesheet: the start of its SHA-256, so that a browser
/// fetches a changed one. The last stylesheet hashed is remembered: most
/// portals of a run share the built-in one.
fn stylesheet_version(css: &[u8]) -> String {
    static LAST: std::sync::Mutex<Option<(Vec<u8>, String)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((bytes, version)) = last.as_ref()
        && bytes == css
    {
        return version.clone();
    }
    let hash = Sha256::digest(css);
    let version = format!(
        "{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    );
    *last = Some((css.to_vec(), version.clone()));
    version
}

/// How the site's own configuration signs its forms: the `[endpoint] url`
/// they post to and the key ring (`$PORTAAL_SIGNING_KEYS` or the key file),
/// issued at `issued`. `None` when the site has no endpoint, so it gets no
/// forms. Reads the keys and writes nothing: a missing key is an error here
/// (`portaal build` creates it before asking).
pub fn site_forms(site: &Site, issued: u64) -> Result<Option<FormTarget>, Diagnostics> {
    use crate::forms::sign::{KEY_FILE, KEYS_ENV, KeyRing};
    let Some(url) = &site.config.endpoint.url else {
        return Ok(None);
    };
    let error = |msg: String| {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::error(crate::site::CONFIG_FILE, msg).with_fix(format!(
            "fix {KEY_FILE} (run `portaal init --key-only DIR` for a new key), or set ${KEYS_ENV}"
        )));
        d
    };
    let found = KeyRing::find(&site.dir, None).map_err(|e| error(e.to_string()))?;
    let Some(keys) = found.filter(|k| k.signing().is_some()) else {
        return Err(error(format!(
            "no signing key in ${KEYS_ENV} or {KEY_FILE}"
        )));
    };
    Ok(Some(FormTarget {
        action: url.get_ref().clone(),
        keys,
        issued,
    }))
}

/// A file in the site's `static/` folder with the output path of a page
/// portaal generates would silently replace it (or be dropped): an error
/// naming both.
fn static_collisions(site: &Site, plans: &[Plan], diags: &mut Diagnostics) {
    let dir = site.dir.join("static");
    if !dir.is_dir() {
        return;
    }
    let generated: BTreeSet<String> = plans
        .iter()
        .map(|p| p.kind.output(p.lang))
        .chain(["sitemap.xml".to_string(), "robots.txt".to_string()])
        .chain(
            plans
                .iter()
                .flat_map(|p| [twin::json_path(p.lang), twin::jsonld_path(p.lang)]),
        )
        .collect();
    for entry in walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        let Ok(rel) = entry.path().strip_prefix(&dir) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if entry.file_type().is_file() && generated.contains(&rel) {
            diags.push(
                Diagnostic::error(
                    std::path::Path::new("static").join(&rel),
                    format!("this file has the address of the page `{rel}` that portaal generates"),
                )
                .with_fix(
                    "rename or remove it; to change the page, write content/ or a theme template",
                ),
            );
        }
    }
}

/// The site's own `static/` folder, copied to the output root; it overrides
/// the theme's static files of the same name.
fn load_site_static(site: &Site, statics: &mut BTreeMap<String, Vec<u8>>, diags: &mut Diagnostics) {
    let dir = site.dir.join("static");
    let confine = crate::vocab::confine::Confinement::new(&site.dir);
    if !dir.is_dir() || !confine.root_ok(&dir, diags) {
        return;
    }
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        match entry {
            Ok(e) if confine.kind(&e, diags) == crate::vocab::confine::Kind::File => {
                let rel = e.path().strip_prefix(&dir).expect("walked from dir");
                let rel = rel.to_string_lossy().replace('\\', "/");
                match std::fs::read(e.path()) {
                    Ok(bytes) => {
                        statics.insert(rel, bytes);
                    }
                    Err(err) => {
                        diags.push(Diagnostic::error(e.path(), format!("cannot read: {err}")))
                    }
                }
            }
            Ok(_) => {}
            Err(err) => diags.push(Diagnostic::error(&dir, format!("cannot read: {err}"))),
        }
    }
}

/// The pages of every language: the standard ones, the site's own pages
/// (which must exist in every language), a 404 page and a language chooser.
fn plan_pages<'a>(
    site: &'a Site,
    languages: &[Lang],
    default_lang: Lang,
    diags: &mut Diagnostics,
) -> Vec<Plan<'a>> {
    // The first file of each language and kind, looked up once per page.
    let mut by_page: std::collections::HashMap<(Lang, &PageKind), &ContentFile> =
        std::collections::HashMap::with_capacity(site.content.len());
    for c in &site.content {
        by_page.entry((c.lang, &c.kind)).or_insert(c);
    }
    let find = |lang: Lang, kind: &PageKind| by_page.get(&(lang, kind)).copied();
    let mut custom: BTreeMap<String, i64> = BTreeMap::new();
    for c in site.content.iter().filter(|c| !c.kind.is_summary()) {
        if let PageKind::Custom(slug) = &c.kind {
            let w = custom.entry(slug.clone()).or_insert(c.front.weight);
            *w = (*w).min(c.front.weight);
            if c.front.title.is_none() && !c.front_broken {
                diags.push(
                    Diagnostic::error(&c.path, "the site's own pages need a title")
                        .with_fix("add `title = \"…\"` to the front matter between `+++` lines"),
                );
            }
        }
    }
    let mut custom: Vec<(String, i64)> = custom.into_iter().collect();
    custom.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));

    let mut plans = Vec::new();
    for &lang in languages {
        let mut kinds = PageKind::standard();
        kinds.extend(
            custom
                .iter()
                .map(|(slug, _)| PageKind::Custom(slug.clone())),
        );
        for kind in kinds {
            let content = find(lang, &kind);
            if content.is_none()
                && let PageKind::Custom(slug) = &kind
            {
                diags.push(
                    Diagnostic::error(
                        format!("content/{lang}/{slug}.md"),
                        format!("page `{slug}` exists in other languages but not in `{lang}`"),
                    )
                    .with_code(Code::P026)
                    .with_fix("write it in every language of the site, or remove it"),
                );
            }
            plans.push(Plan {
                lang,
                kind: Target::Page(kind),
                content,
            });
        }
    }
    for kind in [Target::NotFound, Target::LanguageChoice] {
        plans.push(Plan {
            lang: default_lang,
            kind,
            content: None,
        });
    }
    plans
}

/// The menu of a language: landing page, statement, cookies, own pages.
fn nav_targets<'p>(
    site: &'p Site,
    plans: &'p [Plan],
    lang: Lang,
) -> impl Iterator<Item = (&'p Target, String)> + 'p {
    plans
        .iter()
        .filter(move |p| p.lang == lang)
        .filter_map(|p| match &p.kind {
            Target::Page(PageKind::Index | PageKind::Privacy | PageKind::Cookies)
            | Target::Page(PageKind::Custom(_)) => Some((&p.kind, page_title(site, p))),
            _ => None,
        })
}

/// The words Markdown rendering adds, from the theme's `[markdown]` strings.
fn markdown_labels(site: &Site, lang: Lang, reserved_ids: &[String]) -> markdown::Labels {
    let strings = site.theme.strings.get(&lang);
    let string = |key: &str| strings.and_then(|s| lookup(s, key)).map(str::to_string);
    let default = markdown::Labels::default();
    markdown::Labels {
        footnote: string("markdown.footnote").unwrap_or(default.footnote),
        table: string("markdown.table").unwrap_or(default.table),
        reserved_ids: reserved_ids.to_vec(),
    }
}

/// Every literal `id="…"` in the theme's templates (`controller`,
/// `cookies`, …; not the ones built from data, such as `purpose-{{ p.id }}`).
/// The firm's Markdown headings keep clear of them: a `## Cookies` on the
/// privacy statement must not take the id of its standard cookies section.
fn template_ids(theme: &crate::theme::Theme) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for template in theme.templates.values() {
        for part in template.source.split("id=\"").skip(1) {
            let id = part.split('"').next().unwrap_or_default();
            if !id.is_empty() && !id.contains(['{', '}', ' ']) {
                ids.insert(id.to_string());
            }
        }
    }
    ids.into_iter().collect()
}

/// The front matter's title, else the theme's title for the page kind.
fn page_title(site: &Site, plan: &Plan) -> String {
    plan.content
        .and_then(|c| c.front.title.clone())
        .or_else(|| {
            let strings = site.theme.strings.get(&plan.lang)?;
            lookup(strings, &format!("{}.title", plan.kind.strings_key())).map(str::to_string)
        })
        .unwrap_or_default()
}

/// Every root-relative or relative link in the site's Markdown must lead to
/// a page or file of the build.
fn check_links(
    content: &ContentFile,
    md: &markdown::Rendered,
    base_path: &str,
    outputs: &BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    for (link, offset) in &md.links {
        if link.starts_with('#') || link.starts_with("//") || link.contains(':') {
            continue; // in-page, external, mailto:, tel:
        }
        let path = link.split(['#', '?']).next().unwrap_or_default();
        let resolved = if let Some(p) = path.strip_prefix(base_path) {
            p.to_string()
        } else if path.starts_with('/') {
            // The Markdown was written with a base path that is not ours.
            path.trim_start_matches('/').to_string()
        } else {
            let page_dir = format!("{}/{}", content.lang, content.kind.path());
            normalize(&format!("{page_dir}{path}"))
        };
        let target = if resolved.is_empty() || resolved.ends_with('/') {
            format!("{resolved}index.html")
        } else {
            resolved.clone()
        };
        if !outputs.contains(&target) && !outputs.contains(&format!("{resolved}/index.html")) {
            diags.push(
                Diagnostic::error(
                    &content.path,
                    format!("broken link `{link}`: no page or file at that address"),
                )
                .at(content.position(*offset))
                .with_code(Code::P027)
                .with_fix("link to a page of this portal, e.g. `/nl/cookies/`"),
            );
        }
    }
    for (img, offset) in &md.images_without_alt {
        diags.push(
            Diagnostic::warning(
                &content.path,
                format!("image `{img}` has no alternative text"),
            )
            .at(content.position(*offset))
            .with_code(Code::P028)
            .with_fix("write `![what the image shows](…)` so screen-reader users get it too"),
        );
    }
}

/// Resolves `.` and `..` segments of a relative path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}
