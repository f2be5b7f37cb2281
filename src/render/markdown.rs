//! Markdown to HTML, with heading ids and the list of links for checking.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

pub struct Rendered {
    pub html: String,
    /// Every link and image target with its byte offset in the Markdown,
    /// in order, for the internal-link check.
    pub links: Vec<(String, usize)>,
    /// Image targets without alternative text, with their offsets.
    pub images_without_alt: Vec<(String, usize)>,
}

/// Renders `markdown`. Headings without an explicit `{#id}` get one made from
/// their text, unique within the page, so every section can be linked to.
pub fn render(markdown: &str) -> Rendered {
    render_with_base(markdown, "/")
}

/// Like [`render`], for a portal published below `base_path` (`/privacy/`):
/// root-relative links (`/nl/cookies/`) are written relative to the portal's
/// root and get the base path in front.
pub fn render_with_base(markdown: &str, base_path: &str) -> Rendered {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION;
    let (events, offsets): (Vec<Event>, Vec<usize>) = Parser::new_ext(markdown, options)
        .into_offset_iter()
        .map(|(e, range)| (e, range.start))
        .unzip();

    let mut links = Vec::new();
    let mut images_without_alt = Vec::new();
    let mut used_ids: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) => {
                let text = heading_text(&events[i + 1..]);
                let id = unique_id(&slugify(&text), &mut used_ids);
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Heading { id: Some(id), .. }) => {
                used_ids.push(id.to_string());
                out.push(events[i].clone());
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                links.push((dest_url.to_string(), offsets[i]));
                out.push(Event::Start(Tag::Link {
                    link_type: *link_type,
                    dest_url: with_base(dest_url, base_path),
                    title: title.clone(),
                    id: id.clone(),
                }));
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                links.push((dest_url.to_string(), offsets[i]));
                if matches!(events.get(i + 1), Some(Event::End(TagEnd::Image))) {
                    images_without_alt.push((dest_url.to_string(), offsets[i]));
                }
                if let Event::Start(Tag::Image {
                    link_type,
                    title,
                    id,
                    ..
                }) = &events[i]
                {
                    out.push(Event::Start(Tag::Image {
                        link_type: *link_type,
                        dest_url: with_base(dest_url, base_path),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    let mut html_out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html_out, out.into_iter());
    Rendered {
        html: html_out,
        links,
        images_without_alt,
    }
}

fn with_base<'a>(dest: &CowStr<'a>, base_path: &str) -> CowStr<'a> {
    match dest.strip_prefix('/') {
        Some(rest) if base_path != "/" && !rest.starts_with('/') => {
            CowStr::from(format!("{base_path}{rest}"))
        }
        _ => dest.clone(),
    }
}

fn heading_text(events: &[Event]) -> String {
    let mut text = String::new();
    for e in events {
        match e {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            _ => {}
        }
    }
    text
}

/// Lower-case letters and digits joined by hyphens; accents kept, since
/// browsers handle them in fragments and Dutch or French headings need them.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.extend(word.chars().flat_map(char::to_lowercase));
    }
    if slug.is_empty() {
        "section".to_string()
    } else {
        slug
    }
}

fn unique_id(base: &str, used: &mut Vec<String>) -> String {
    let mut id = base.to_string();
    let mut n = 1;
    while used.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    used.push(id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_unique_ids() {
        let r = render("# Wie zijn wij?\n\n## Contact\n\n## Contact\n\n## Eigen {#own}\n");
        assert!(r.html.contains(r#"<h1 id="wie-zijn-wij">"#), "{}", r.html);
        assert!(r.html.contains(r#"<h2 id="contact">"#));
        assert!(r.html.contains(r#"<h2 id="contact-2">"#));
        assert!(r.html.contains(r#"<h2 id="own">"#));
    }

    #[test]
    fn tables_footnotes_and_links() {
        let md = "| a | b |\n|---|---|\n| 1 | 2 |\n\nText[^1] and [cookies](/nl/cookies/).\n\n[^1]: Note.\n\n![](/logo.png)\n";
        let r = render(md);
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("footnote"));
        let links: Vec<&str> = r.links.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(links, ["/nl/cookies/", "/logo.png"]);
        let (img, at) = &r.images_without_alt[0];
        assert_eq!(img, "/logo.png");
        assert!(md[*at..].starts_with("![]"));
    }
}
