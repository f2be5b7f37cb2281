//! `sitemap.xml` with language alternates, and `robots.txt`.

use std::collections::HashMap;
use std::fmt::Write;

use super::html::escape;
use crate::site::config::Config;
use crate::vocab::lang::Lang;
use crate::vocab::page_kind::PageKind;

/// One `<url>` per page and language, each listing all its translations, as
/// search engines expect for multilingual sites.
pub fn sitemap(
    base_url: &str,
    base_path: &str,
    languages: &[Lang],
    pages: &[(Lang, PageKind)],
    config: &Config,
) -> String {
    let origin = base_url
        .strip_suffix(base_path.trim_end_matches('/'))
        .unwrap_or(base_url);
    let abs =
        |lang: Lang, kind: &PageKind| escape(&format!("{origin}{base_path}{lang}/{}", kind.path()));
    let lastmod = config
        .site
        .last_updated
        .get_ref()
        .date
        .map(|d| format!("    <lastmod>{d}</lastmod>\n"))
        .unwrap_or_default();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    // Every translation of a page lists the same alternates: they are
    // written once per page, not once per translation.
    let mut alternates: HashMap<&PageKind, String> = HashMap::new();
    for (lang, kind) in pages {
        let links = alternates.entry(kind).or_insert_with(|| {
            let mut links = String::new();
            for &l in languages {
                let _ = writeln!(
                    links,
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{l}\" href=\"{}\"/>",
                    abs(l, kind)
                );
            }
            links
        });
        out.push_str("  <url>\n    <loc>");
        out.push_str(&abs(*lang, kind));
        out.push_str("</loc>\n");
        out.push_str(&lastmod);
        out.push_str(links);
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

pub fn robots(base_url: &str) -> String {
    format!("User-agent: *\nAllow: /\n\nSitemap: {base_url}/sitemap.xml\n")
}
