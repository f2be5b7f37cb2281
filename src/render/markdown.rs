//! Markdown to HTML, with heading ids and the list of links for checking.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use super::html::escape;

pub struct Rendered {
    pub html: String,
    /// Every link and image target with its byte offset in the Markdown,
    /// in order, for the internal-link check.
    pub links: Vec<(String, usize)>,
    /// Image targets without alternative text, with their offsets.
    pub images_without_alt: Vec<(String, usize)>,
    /// The level-2 headings as (id, text), in order: the page's own sections,
    /// for a table of contents.
    pub sections: Vec<(String, String)>,
}

/// The words the renderer adds to the firm's text, in the page's language.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The accessible name of a footnote reference; `{n}` is its number.
    pub footnote: String,
    /// The name of a table's scroll region when no heading precedes it.
    pub table: String,
    /// Ids the page's template uses itself (`controller`, `cookies`, …): a
    /// heading whose text would give one gets a suffix instead (`cookies-2`),
    /// so that the page has no duplicate id and its links lead where meant.
    pub reserved_ids: Vec<String>,
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            footnote: "Footnote {n}".into(),
            table: "Table".into(),
            reserved_ids: Vec::new(),
        }
    }
}

/// Renders `markdown`. Headings without an explicit `{#id}` get one made from
/// their text, unique within the page, so every section can be linked to.
#[cfg(test)]
pub fn render(markdown: &str) -> Rendered {
    render_with_base(markdown, "/", &Labels::default())
}

/// Like `render`, for a portal published below `base_path` (`/privacy/`):
/// root-relative links (`/nl/cookies/`) are written relative to the portal's
/// root and get the base path in front.
///
/// Two things differ from pulldown-cmark's own HTML, both for people who
/// cannot see the whole page at once: a footnote reference is named
/// "Footnote 1" (from `labels`), not just "1", and its note's id gets a `fn-`
/// prefix so that it cannot clash with a heading's; and every table sits in a
/// focusable region named after the heading above it, which scrolls sideways
/// on its own so that the page does not (WCAG 1.4.10).
pub fn render_with_base(markdown: &str, base_path: &str, labels: &Labels) -> Rendered {
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
    let mut used_ids: Vec<String> = labels.reserved_ids.clone();
    let mut sections = Vec::new();
    let mut footnotes = Footnotes::default();
    // The last heading (id, text) and how many tables followed it so far.
    let mut heading: Option<(String, String)> = None;
    let mut tables_under_heading = 0;
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let text = heading_text(&events[i + 1..]);
                let id = match id {
                    Some(id) => {
                        used_ids.push(id.to_string());
                        id.to_string()
                    }
                    None => unique_id(&slugify(&text), &mut used_ids),
                };
                if *level == HeadingLevel::H2 {
                    sections.push((id.clone(), text.clone()));
                }
                heading = Some((id.clone(), text));
                tables_under_heading = 0;
                out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Table(_)) => {
                tables_under_heading += 1;
                let name = match &heading {
                    Some((id, _)) if tables_under_heading == 1 => {
                        format!(r#"aria-labelledby="{}""#, escape(id))
                    }
                    Some((_, text)) => {
                        format!(r#"aria-label="{} ({tables_under_heading})""#, escape(text))
                    }
                    None => format!(r#"aria-label="{}""#, escape(&labels.table)),
                };
                out.push(Event::Html(CowStr::from(format!(
                    "<div class=\"table-scroll\" role=\"region\" {name} tabindex=\"0\">\n"
                ))));
                out.push(events[i].clone());
            }
            Event::End(TagEnd::Table) => {
                out.push(events[i].clone());
                out.push(Event::Html(CowStr::from("</div>\n")));
            }
            Event::FootnoteReference(name) => {
                let (n, first) = footnotes.reference(name);
                let label = labels.footnote.replace("{n}", &n.to_string());
                let back = if first {
                    format!(r#" id="fnref-{}""#, escape(name))
                } else {
                    String::new()
                };
                out.push(Event::InlineHtml(CowStr::from(format!(
                    r##"<sup class="footnote-reference"><a href="#fn-{}"{back} aria-label="{}">{n}</a></sup>"##,
                    escape(name),
                    escape(&label)
                ))));
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let n = footnotes.number(name);
                out.push(Event::Html(CowStr::from(format!(
                    r#"<div class="footnote-definition" id="fn-{}"><sup class="footnote-definition-label">{n}</sup>"#,
                    escape(name)
                ))));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                out.push(Event::Html(CowStr::from("</div>\n")));
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
        sections,
    }
}

/// Footnote numbers in order of first mention, as pulldown-cmark counts them.
#[derive(Default)]
struct Footnotes {
    numbers: Vec<String>,
    referenced: Vec<String>,
}

impl Footnotes {
    fn number(&mut self, name: &str) -> usize {
        match self.numbers.iter().position(|n| n == name) {
            Some(i) => i + 1,
            None => {
                self.numbers.push(name.to_string());
                self.numbers.len()
            }
        }
    }

    /// The number of a reference, and whether it is the first to that note.
    fn reference(&mut self, name: &str) -> (usize, bool) {
        let first = !self.referenced.iter().any(|n| n == name);
        if first {
            self.referenced.push(name.to_string());
        }
        (self.number(name), first)
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
    fn footnotes_are_named_and_numbered_as_first_mentioned() {
        let labels = Labels {
            footnote: "Voetnoot {n}".into(),
            table: "Tabel".into(),
            reserved_ids: Vec::new(),
        };
        let md = "[^b]: Eerst gedefinieerd.\n\nA[^a], B[^b], nog eens A[^a].\n\n[^a]: Noot A.\n";
        let html = render_with_base(md, "/", &labels).html;
        let doc = scraper::Html::parse_fragment(&html);
        let sel = scraper::Selector::parse("sup.footnote-reference a").unwrap();
        let refs: Vec<(String, String, Option<String>)> = doc
            .select(&sel)
            .map(|a| {
                let v = a.value();
                (
                    a.text().collect(),
                    v.attr("aria-label").unwrap_or_default().to_string(),
                    v.attr("id").map(str::to_string),
                )
            })
            .collect();
        assert_eq!(
            refs,
            [
                ("2".into(), "Voetnoot 2".into(), Some("fnref-a".into())),
                ("1".into(), "Voetnoot 1".into(), Some("fnref-b".into())),
                ("2".into(), "Voetnoot 2".into(), None),
            ],
            "{html}"
        );
        let sel = scraper::Selector::parse("div.footnote-definition").unwrap();
        let defs: Vec<(String, String)> = doc
            .select(&sel)
            .map(|d| {
                let label = d.text().next().unwrap_or_default().to_string();
                (d.value().attr("id").unwrap().to_string(), label)
            })
            .collect();
        assert_eq!(
            defs,
            [("fn-b".into(), "1".into()), ("fn-a".into(), "2".into())]
        );
    }

    #[test]
    fn headings_do_not_take_the_ids_of_the_template() {
        let labels = Labels {
            reserved_ids: vec!["cookies".into()],
            ..Labels::default()
        };
        let r = render_with_base("## Cookies\n\n## Cookies\n", "/", &labels);
        let ids: Vec<&str> = r.sections.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["cookies-2", "cookies-3"], "{}", r.html);
    }

    #[test]
    fn tables_get_a_region_named_after_their_heading() {
        let table = "| a | b |\n|---|---|\n| 1 | 2 |\n";
        let md = format!("{table}\n## Kort\n\n{table}\n{table}");
        let r = render(&md);
        let doc = scraper::Html::parse_fragment(&r.html);
        let sel = scraper::Selector::parse("div.table-scroll[role=region][tabindex=\"0\"] > table")
            .unwrap();
        assert_eq!(doc.select(&sel).count(), 3, "{}", r.html);
        let sel = scraper::Selector::parse("div.table-scroll").unwrap();
        let names: Vec<(Option<&str>, Option<&str>)> = doc
            .select(&sel)
            .map(|d| {
                (
                    d.value().attr("aria-labelledby"),
                    d.value().attr("aria-label"),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (None, Some("Table")),
                (Some("kort"), None),
                (None, Some("Kort (2)")),
            ]
        );
        assert_eq!(r.sections, [("kort".to_string(), "Kort".to_string())]);
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
