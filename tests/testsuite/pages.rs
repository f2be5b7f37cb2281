//! The pages every visitor reads, in every language and on a phone: the
//! root and the 404 page speak all the site's languages, the privacy
//! statement reads in order, the firm's own tables and the purposes and
//! cookie tables fit a 320 px screen, and the header stays small there.

use std::collections::BTreeSet;

use scraper::Html;

use crate::accessibility::{FullAxTree, eval_string, open, served_example, set_width};
use crate::support::{Portal, browser, select, text, theme_string};

/// The example's languages, in the order of its `portal.toml`.
const LANGS: [&str; 4] = ["nl", "fr", "de", "en"];

fn built_example() -> Portal {
    let portal = Portal::example();
    portal.build();
    portal
}

fn attr<'a>(el: &scraper::ElementRef<'a>, name: &str) -> &'a str {
    el.value().attr(name).unwrap_or_default()
}

/// A page that speaks every language redirects nobody: no script, no
/// `<meta http-equiv="refresh">`.
fn assert_no_redirect(html: &Html, page: &str) {
    assert!(select(html, "script").is_empty(), "{page} has a script");
    assert!(
        select(html, "meta[http-equiv]").is_empty(),
        "{page} has a meta refresh"
    );
}

#[test]
fn root_lists_every_language_in_its_own_language() {
    let portal = built_example();
    let html = portal.html("public/index.html");
    assert_no_redirect(&html, "/");
    for lang in LANGS {
        let title = theme_string(lang, "page.language_choice.title");
        let heading = select(&html, &format!("h1 [lang=\"{lang}\"]"));
        assert_eq!(
            heading.iter().map(text).collect::<Vec<_>>(),
            [title],
            "{lang}: the heading in its own language"
        );
        let links = select(
            &html,
            &format!("main [lang=\"{lang}\"] a[href=\"/{lang}/\"]"),
        );
        assert_eq!(links.len(), 1, "{lang}: one link to its landing page");
        assert_eq!(attr(&links[0], "hreflang"), lang);
        let name = theme_string(lang, "lang_name");
        assert!(
            text(&links[0]).contains(&name),
            "{lang}: the link names the language as its speakers do ({name}): {}",
            text(&links[0])
        );
    }
}

#[test]
fn not_found_page_speaks_every_language_with_a_way_home() {
    let portal = built_example();
    let html = portal.html("public/404.html");
    assert_no_redirect(&html, "/404.html");
    for lang in LANGS {
        let title = theme_string(lang, "page.not_found.title");
        let heading = select(&html, &format!("h1 [lang=\"{lang}\"]"));
        assert_eq!(heading.iter().map(text).collect::<Vec<_>>(), [title]);
        let blocks = select(&html, &format!("main [lang=\"{lang}\"]"))
            .into_iter()
            .filter(|b| b.value().name() != "span")
            .collect::<Vec<_>>();
        assert_eq!(blocks.len(), 1, "{lang}: one message");
        let message = text(&blocks[0]);
        assert!(
            message.contains(&theme_string(lang, "page.not_found.body")),
            "{lang}: {message}"
        );
        let home: Vec<_> = blocks[0]
            .select(&scraper::Selector::parse("a").unwrap())
            .collect();
        assert_eq!(home.len(), 1);
        assert_eq!(attr(&home[0], "href"), format!("/{lang}/"));
        assert_eq!(text(&home[0]), theme_string(lang, "page.not_found.choose"));
    }
}

/// A heading's topic: its words in lower case, without a leading number.
fn topic(heading: &str) -> String {
    heading
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
        .to_lowercase()
}

#[test]
fn privacy_statement_contents_come_first_and_list_the_firms_sections() {
    let portal = built_example();
    for lang in LANGS {
        let raw = portal.read(&format!("public/{lang}/privacy/index.html"));
        let html = Html::parse_document(&raw);
        let toc_at = raw.find("<nav class=\"toc\"").expect("a table of contents");
        let prose_at = raw.find("<div class=\"prose\"").expect("the firm's text");
        assert!(toc_at < prose_at, "{lang}: contents before the firm's text");
        let first_h2s: Vec<String> = select(&html, "main h2")
            .iter()
            .take(3)
            .map(|h| attr(h, "id").to_string())
            .collect();
        assert_eq!(
            first_h2s,
            ["summary-heading", "what-changed-heading", "toc-heading"],
            "{lang}: nothing but the lead, the summary and what changed before the contents"
        );

        let toc: Vec<String> = select(&html, "nav.toc a")
            .iter()
            .map(|a| attr(a, "href").trim_start_matches('#').to_string())
            .collect();
        let own: Vec<String> = select(&html, ".prose h2")
            .iter()
            .map(|h| attr(h, "id").to_string())
            .collect();
        assert!(own.len() >= 2, "{lang}: the example has its own sections");
        assert_eq!(toc[..own.len()], own[..], "{lang}: own sections first");
        let sections: Vec<String> = select(&html, "main h2")
            .iter()
            .filter(|h| {
                !["toc-heading", "summary-heading", "what-changed-heading"].contains(&attr(h, "id"))
            })
            .filter_map(|h| {
                h.ancestors()
                    .find_map(|a| {
                        let el = scraper::ElementRef::wrap(a)?;
                        (el.value().name() == "section").then(|| attr(&el, "id").to_string())
                    })
                    .or_else(|| Some(attr(h, "id").to_string()))
            })
            .collect();
        for target in &toc {
            assert!(sections.contains(target), "{lang}: #{target} is a section");
        }
        assert_eq!(toc.len(), sections.len(), "{lang}: every section listed");

        let mut seen = BTreeSet::new();
        for h in select(&html, "main h2") {
            let t = topic(&text(&h));
            assert!(seen.insert(t.clone()), "{lang}: “{t}” appears twice");
        }
    }
}

#[test]
fn footnote_references_have_a_meaningful_name() {
    let portal = built_example();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let refs = select(&html, "sup.footnote-reference a");
        assert!(!refs.is_empty(), "{lang}: the example has a footnote");
        for (i, a) in refs.iter().enumerate() {
            let n = (i + 1).to_string();
            assert_eq!(text(a), n);
            let name = theme_string(lang, "markdown.footnote").replace("{n}", &n);
            assert_eq!(attr(a, "aria-label"), name, "{lang}");
            assert!(name.contains(&n), "the visible number is part of the name");
            let target = attr(a, "href").trim_start_matches('#');
            assert_eq!(
                select(&html, &format!("[id=\"{target}\"]")).len(),
                1,
                "{lang}: the note #{target} exists once"
            );
        }
    }
}

#[test]
fn every_markdown_table_sits_in_a_named_focusable_region() {
    let portal = built_example();
    let mut tables = 0;
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        for table in select(&html, ".prose table") {
            tables += 1;
            let region = table
                .parent()
                .and_then(scraper::ElementRef::wrap)
                .expect("a wrapper");
            assert_eq!(attr(&region, "class"), "table-scroll");
            assert_eq!(attr(&region, "role"), "region");
            assert_eq!(attr(&region, "tabindex"), "0");
            let by = attr(&region, "aria-labelledby");
            let name = match select(&html, &format!("[id=\"{by}\"]")).first() {
                Some(label) if !by.is_empty() => text(label),
                _ => attr(&region, "aria-label").to_string(),
            };
            assert!(!name.trim().is_empty(), "{lang}: the region has a name");
        }
    }
    assert_eq!(tables, 4, "one table in each language's statement");
}

#[test]
fn favicon_comes_from_the_theme() {
    let portal = built_example();
    let svg = portal.read("public/favicon.svg");
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(!svg.contains("href"), "the icon loads nothing else");
    for page in [
        "public/index.html",
        "public/404.html",
        "public/nl/index.html",
    ] {
        let html = portal.html(page);
        let icons = select(&html, "link[rel~=\"icon\"]");
        let hrefs: Vec<&str> = icons.iter().map(|l| attr(l, "href")).collect();
        assert_eq!(hrefs, ["/favicon.svg"], "{page}");
    }
}

/// At most one level of parentheses in a text.
fn nesting(text: &str) -> i32 {
    let mut depth: i32 = 0;
    let mut deepest = 0;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest
}

#[test]
fn recipients_column_has_no_nested_parentheses() {
    let portal = built_example();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let cells = select(&html, "table.purposes td");
        assert!(!cells.is_empty());
        for cell in cells {
            let t = text(&cell);
            assert!(nesting(&t) <= 1, "{lang}: nested parentheses in “{t}”");
        }
    }
}

/// A test of its own, so that a failure names the width it is about.
#[test]
fn no_example_page_scrolls_sideways_at_320px() {
    let (_portal, server, pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    set_width(&tab, 320);
    let mut wide = Vec::new();
    for page in &pages {
        let path = page.trim_end_matches("index.html");
        open(&tab, &format!("{}/{path}", server.url()));
        let width: u32 = eval_string(&tab, "String(document.documentElement.scrollWidth)")
            .parse()
            .unwrap();
        if width > 320 {
            wide.push(format!("/{path}: {width} px"));
        }
    }
    assert!(pages.len() >= 50, "{pages:?}");
    assert!(wide.is_empty(), "wider than 320 px:\n{}", wide.join("\n"));
}

#[test]
fn phone_tables_stack_as_labelled_cards_and_stay_tables() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    set_width(&tab, 375);
    for (page, table) in [
        ("nl/privacy/", "table.purposes"),
        ("fr/cookies/", "table.cookies"),
    ] {
        open(&tab, &format!("{}/{page}", server.url()));
        // Every data cell: inside the screen, with its column's name shown
        // above it (the ::before label) and equal to the header's text.
        let json = eval_string(
            &tab,
            &format!(
                "JSON.stringify([...document.querySelectorAll('{table} tbody td')].map(td => {{ \
                 const r = td.getBoundingClientRect(); \
                 const header = td.closest('table').querySelectorAll('thead th')[td.cellIndex]; \
                 return {{ right: r.right, label: getComputedStyle(td, '::before').content, \
                 header: header.textContent.trim() }}; }}))"
            ),
        );
        let cells: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert!(cells.len() >= 4, "/{page}: {cells:?}");
        for cell in &cells {
            assert!(cell["right"].as_f64().unwrap() <= 375.0, "/{page}: {cell}");
            let label = cell["label"].as_str().unwrap();
            let header = cell["header"].as_str().unwrap();
            assert!(
                label.contains(header),
                "/{page}: the card shows the column “{header}”, not {label}"
            );
        }

        // What a screen reader gets: still a table with column headers, and
        // cells named by their text, not by the visual label.
        let tree = tab.call_method(FullAxTree {}).unwrap();
        let roles: Vec<&str> = tree["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["role"]["value"].as_str())
            .collect();
        let count = |role: &str| roles.iter().filter(|r| **r == role).count();
        assert!(count("table") >= 1, "/{page}: no table in the AX tree");
        assert!(
            count("columnheader") >= 5,
            "/{page}: {} column headers",
            count("columnheader")
        );
        assert!(
            count("rowheader") >= 1,
            "/{page}: {} row headers",
            count("rowheader")
        );
        assert!(
            count("cell") >= cells.len(),
            "/{page}: {} cells for {} data cells",
            count("cell"),
            cells.len()
        );
    }
}

#[test]
fn header_and_menu_take_under_a_quarter_of_a_phone_screen() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    set_width(&tab, 375);
    for page in ["nl/privacy/", "fr/", "de/cookies/", "en/access/"] {
        open(&tab, &format!("{}/{page}", server.url()));
        let bottom: f64 = eval_string(
            &tab,
            "String(document.querySelector('.site-header').getBoundingClientRect().bottom)",
        )
        .parse()
        .unwrap();
        assert!(
            bottom < 667.0 * 0.25,
            "/{page}: the header ends at {bottom} px of a 667 px screen"
        );
    }
}

#[test]
fn printed_links_to_portal_pages_show_their_address() {
    let (_portal, server, _pages) = served_example();
    let (chrome, _profile) = browser::start();
    let tab = chrome.new_tab().unwrap();
    open(&tab, &format!("{}/nl/privacy/", server.url()));
    tab.call_method(
        headless_chrome::protocol::cdp::Emulation::SetEmulatedMedia {
            media: Some("print".into()),
            features: None,
        },
    )
    .unwrap();
    let json = eval_string(
        &tab,
        "JSON.stringify(['.prose a[href=\"/nl/cookies/\"]', '.prose a[href^=\"#\"]'].map(s => \
         getComputedStyle(document.querySelector(s), '::after').content))",
    );
    let after: Vec<String> = serde_json::from_str(&json).unwrap();
    assert!(after[0].contains("/nl/cookies/"), "{after:?}");
    assert!(
        !after[1].contains('#'),
        "in-page links print no address: {after:?}"
    );
}

#[test]
fn markdown_heading_named_like_a_standard_section_gets_its_own_id() {
    let portal = Portal::example();
    portal.edit(
        "content/nl/privacy.md",
        "## Wat we wel en niet doen",
        "## Cookies\n\nOnze eigen woorden over cookies.\n\n## Wat we wel en niet doen",
    );
    portal.build();
    let html = portal.html("public/nl/privacy/index.html");
    let mut ids = BTreeSet::new();
    for el in select(&html, "[id]") {
        let id = attr(&el, "id");
        assert!(ids.insert(id.to_string()), "duplicate id `{id}`");
    }
    let own = select(&html, ".prose h2")
        .into_iter()
        .find(|h| text(h) == "Cookies")
        .expect("the firm's heading");
    let own_id = attr(&own, "id");
    assert_ne!(own_id, "cookies");
    let toc: Vec<&str> = select(&html, "nav.toc a")
        .iter()
        .map(|a| attr(a, "href"))
        .collect();
    assert!(toc.contains(&format!("#{own_id}").as_str()), "{toc:?}");
    assert!(toc.contains(&"#cookies"), "{toc:?}");
}
