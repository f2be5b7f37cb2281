//! `sitemap.xml` with language alternates, and `robots.txt`.

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
    let abs = |lang: Lang, kind: &PageKind| format!("{origin}{base_path}{lang}/{}", kind.path());
    let lastmod = config
        .site
        .last_updated
        .get_ref()
        .date
        .map(|d| d.to_string())
        .unwrap_or_default();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for (lang, kind) in pages {
        let _ = writeln!(out, "  <url>\n    <loc>{}</loc>", escape(&abs(*lang, kind)));
        if !lastmod.is_empty() {
            let _ = writeln!(out, "    <lastmod>{lastmod}</lastmod>");
        }
        for l in languages {
            let _ = writeln!(
                out,
                "    <xhtml:link rel=\"alternate\" hreflang=\"{l}\" href=\"{}\"/>",
                escape(&abs(*l, kind))
            );
        }
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

pub fn robots(base_url: &str) -> String {
    format!("User-agent: *\nAllow: /\n\nSitemap: {base_url}/sitemap.xml\n")
}
