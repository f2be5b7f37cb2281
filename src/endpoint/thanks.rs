//! The thank-you page the endpoint serves itself (`GET …/thanks?site=…&
//! lang=…&due=…&ref=…`), so that the visitor reads the reference and the due
//! date on the page without JavaScript, and keeps them when switching
//! language (README, "What a visitor sees").
//!
//! The page holds nothing but what its address says: a forged address shows
//! a made-up reference on the firm's page and nothing else, since the
//! endpoint stores and reveals nothing here.

use super::registry::Registry;
use super::response::Reply;
use super::ticket;
use crate::render::endpoint_pages::Body;
use crate::vocab::lang::Lang;

/// The page for `query`; 404 when it names no known site or no well-formed
/// reference.
pub fn page(registry: &Registry, path: &str, query: &str, accept: Option<&str>) -> Reply {
    let get = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let site = get("site").and_then(|id| registry.sites.get(&id));
    let reference = get("ref").filter(|r| ticket::is_reference(r));
    let (Some(site), Some(reference)) = (site, reference) else {
        return Reply::text(404, "not found\n");
    };
    let lang = get("lang")
        .and_then(|l| l.parse::<Lang>().ok())
        .filter(|l| site.languages.contains(l))
        .or_else(|| accept.and_then(|a| negotiate(a, &site.languages)))
        .unwrap_or(site.default_language);
    let due_iso = get("due").filter(|d| ticket::parse_date(d).is_some());
    let due = due_iso.as_deref().and_then(|d| due_in_words(d, lang));
    let switch = site
        .languages
        .iter()
        .map(|&l| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("site", &site.id)
                .append_pair("lang", l.code());
            if let Some(d) = &due_iso {
                q.append_pair("due", d);
            }
            q.append_pair("ref", &reference);
            let name = path.rsplit('/').next().unwrap_or("thanks");
            (l, format!("{name}?{}", q.finish()))
        })
        .collect();
    let html = site.pages.as_ref().and_then(|p| {
        p.0.render(
            &site.base_url,
            lang,
            Body::Thanks {
                reference: &reference,
                due: due.clone(),
                switch,
            },
        )
        .map_err(|e| {
            log::warn!(
                "site `{}`: cannot render its thank-you page ({e}); a plain page was sent",
                site.id
            )
        })
        .ok()
    });
    let html = html.unwrap_or_else(|| plain(lang, &reference, due.as_deref(), &site.base_url));
    Reply {
        status: 200,
        headers: vec![
            ("Content-Type", "text/html; charset=utf-8".into()),
            ("Cache-Control", "no-store".into()),
            ("Referrer-Policy", "no-referrer".into()),
        ],
        body: html.into_bytes(),
    }
}

/// A due date `YYYY-MM-DD` in words of `lang`: the one place this page
/// formats a date.
fn due_in_words(iso: &str, lang: Lang) -> Option<String> {
    let date = ticket::parse_date(iso)?;
    Some(lang.format_date(
        u16::try_from(date.year()).ok()?,
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    ))
}

/// The thank-you page of a site whose theme cannot be loaded.
fn plain(lang: Lang, reference: &str, due: Option<&str>, base_url: &str) -> String {
    let strings = crate::theme::builtin_strings(lang);
    let s = |key: &str| crate::theme::lookup(strings, key).unwrap_or_default();
    let e = crate::render::html::escape;
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title></head>\n<body>\n<main>\n<h1>{title}</h1>\n<p><strong>{reference}</strong></p>\n<p>{hint}</p>\n",
        title = e(s("page.thanks.title")),
        reference = e(&s("endpoint_page.reference").replace("{reference}", reference)),
        hint = e(s("endpoint_page.reference_hint")),
    );
    if let Some(due) = due {
        html.push_str(&format!(
            "<p>{}</p>\n",
            e(&s("endpoint_page.due").replace("{date}", due))
        ));
    }
    html.push_str(&format!(
        "<p><a href=\"{}/{lang}/\">{}</a></p>\n</main>\n</body>\n</html>\n",
        e(base_url),
        e(s("endpoint_page.home"))
    ));
    html
}

/// The first language of an `Accept-Language` header (RFC 9110 §12.5.4:
/// comma-separated ranges with optional `q` weights) that is `offered`,
/// matched on the primary subtag (`nl-BE` → `nl`).
pub fn negotiate(header: &str, offered: &[Lang]) -> Option<Lang> {
    let mut ranges: Vec<(u16, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next()?.to_ascii_lowercase();
            let lang = primary.parse::<Lang>().ok()?;
            (q > 0.0 && offered.contains(&lang)).then_some(((q * 1000.0) as u16, i, lang))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map(|r| r.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_offered_language() {
        let all = Lang::ALL;
        assert_eq!(negotiate("fr-BE,fr;q=0.9,en;q=0.8", &all), Some(Lang::Fr));
        assert_eq!(negotiate("es, de;q=0.5, en;q=0.7", &all), Some(Lang::En));
        assert_eq!(negotiate("en;q=0, nl-BE", &all), Some(Lang::Nl));
        assert_eq!(negotiate("de", &[Lang::Nl, Lang::Fr]), None);
        assert_eq!(negotiate("", &all), None);
    }

    #[test]
    fn due_dates_read_in_the_visitors_language() {
        assert_eq!(
            due_in_words("2026-03-15", Lang::De).as_deref(),
            Some("15. März 2026")
        );
        assert_eq!(due_in_words("2026-02-30", Lang::Nl), None);
    }
}
