//! The example portal at the repository root: it builds, and every page is
//! snapshot-tested so that any change of output shows in review: the
//! `<main>` of every page, and one whole page for the chrome around it
//! (header, navigation, footer), which all pages share.

use scraper::Html;

use crate::support::{Portal, select, text, theme_string};

#[test]
fn example_portal_pages() {
    let portal = Portal::example();
    // A fixed signing key and issue time, so the signed forms snapshot stably.
    let out = portal.build_with_fixed_key();
    assert!(
        out.stderr.is_empty(),
        "no warnings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = portal.files("public");
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".html")).count(),
        // Per language: 12 pages, the earlier version 2.0 and the changes.
        4 * 14 + 2
    );
    for file in files {
        let name = file.replace('/', "__");
        let source = portal.read(&format!("public/{file}"));
        if file.ends_with(".html") {
            insta::assert_snapshot!(name, main_of(&file, &source));
        } else if file.ends_with(".xml") || file.ends_with(".txt") {
            insta::assert_snapshot!(name, source);
        }
    }
    insta::assert_snapshot!(
        "chrome__en__privacy__index.html",
        portal.read("public/en/privacy/index.html")
    );
}

/// The `<main>` element of a page as the build wrote it, so that its
/// snapshot reads as the template does. The page parses with one `<main>`,
/// which the source opens and closes once (as mdBook's test suite cuts it).
fn main_of<'s>(file: &str, source: &'s str) -> &'s str {
    let html = Html::parse_document(source);
    assert_eq!(select(&html, "main").len(), 1, "{file}: one <main>");
    assert_eq!(source.matches("<main").count(), 1, "{file}");
    assert_eq!(source.matches("</main>").count(), 1, "{file}");
    let start = source.find("<main").unwrap();
    let end = source.find("</main>").unwrap() + "</main>".len();
    &source[start..end]
}

/// The example portal, built once per test that reads its pages.
fn built_example() -> Portal {
    let portal = Portal::example();
    portal.build();
    portal
}

/// All text a reader sees on a page: every text node of `<body>` outside
/// scripts and styles, joined as the browser would run them together.
fn visible_text(html: &Html) -> String {
    let body = select(html, "body").into_iter().next().expect("a body");
    body.descendants()
        .filter_map(|n| {
            let t = n.value().as_text()?;
            let parent = n
                .parent()
                .and_then(|p| p.value().as_element().map(|e| e.name()));
            (!matches!(parent, Some("script" | "style"))).then(|| t.to_string())
        })
        .collect()
}

/// The built HTML pages of one language.
fn pages_of(portal: &Portal, lang: &str) -> Vec<(String, Html)> {
    let pages: Vec<(String, Html)> = portal
        .files("public")
        .into_iter()
        .filter(|f| f.starts_with(&format!("{lang}/")) && f.ends_with(".html"))
        .map(|f| {
            let html = portal.html(&format!("public/{f}"));
            (f, html)
        })
        .collect();
    assert!(pages.len() >= 12, "{lang}: {} pages", pages.len());
    pages
}

/// Words of the informal Dutch register; the portal says "u".
const INFORMAL_DUTCH: [&str; 5] = ["je", "jij", "jou", "jouw", "jezelf"];

#[test]
fn dutch_pages_address_the_reader_as_u_throughout() {
    let portal = built_example();
    for (file, html) in pages_of(&portal, "nl") {
        let text = visible_text(&html).to_lowercase();
        let informal: Vec<&str> = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| INFORMAL_DUTCH.contains(w))
            .collect();
        assert!(informal.is_empty(), "{file} says {informal:?}");
    }
}

/// The first English-style citation in `text`, such as "6(1)(a)" or "12(3)".
fn english_citation(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (1..chars.len().saturating_sub(2))
        .find(|&i| {
            chars[i] == '(' && chars[i - 1].is_ascii_digit() && chars[i + 1].is_ascii_digit()
        })
        .map(|i| {
            chars[i.saturating_sub(4)..(i + 6).min(chars.len())]
                .iter()
                .collect()
        })
}

#[test]
fn nl_fr_de_pages_cite_articles_as_their_lawyers_do() {
    assert_eq!(
        english_citation("Article 6(1)(a) GDPR").as_deref(),
        Some("le 6(1)(a)")
    );
    assert_eq!(english_citation("Art. 6 Abs. 1 lit. a DSGVO"), None);
    let portal = built_example();
    for lang in ["nl", "fr", "de"] {
        for (file, html) in pages_of(&portal, lang) {
            let text = visible_text(&html);
            assert_eq!(english_citation(&text), None, "{file}");
        }
    }
    let nl = visible_text(&portal.html("public/nl/privacy/index.html"));
    assert!(nl.contains("Artikel 6, lid 1, onder a, AVG"), "{nl}");
    let fr = visible_text(&portal.html("public/fr/privacy/index.html"));
    assert!(
        fr.contains("Article 6, paragraphe 1, point a), du RGPD"),
        "{fr}"
    );
    let de = visible_text(&portal.html("public/de/withdraw-consent/index.html"));
    assert!(de.contains("Art. 7 Abs. 3 DSGVO"), "{de}");
}

/// The sign at `i` of `chars` is part of a URL or a time, not of a sentence.
fn not_punctuation(chars: &[char], i: usize) -> bool {
    let next = chars.get(i + 1).copied();
    let prev = i.checked_sub(1).map(|p| chars[p]);
    (chars[i] == ':' && next == Some('/'))
        || (prev.is_some_and(|c| c.is_ascii_digit()) && next.is_some_and(|c| c.is_ascii_digit()))
}

#[test]
fn french_pages_put_a_no_break_space_before_high_punctuation() {
    let portal = built_example();
    for (file, html) in pages_of(&portal, "fr") {
        let chars: Vec<char> = visible_text(&html).chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if !matches!(c, ';' | ':' | '?' | '!') || i == 0 || not_punctuation(&chars, i) {
                continue;
            }
            let before = chars[i - 1];
            let context: String = chars[i.saturating_sub(30)..(i + 5).min(chars.len())]
                .iter()
                .collect();
            assert!(
                before == '\u{202f}' || before == '\u{a0}',
                "{file}: no no-break space before {c:?} in {context:?}"
            );
        }
    }
}

#[test]
fn thanks_page_promises_a_mail_only_when_one_is_sent() {
    let with_mail = built_example();
    let without = Portal::example();
    without.edit(
        "portal.toml",
        "[endpoint]\n",
        "[endpoint]\nacknowledge = false\n",
    );
    without.build();
    for lang in ["nl", "fr", "de", "en"] {
        let page = format!("public/{lang}/thanks/index.html");
        let promise = theme_string(lang, "page.thanks.reference");
        let spam_hint = theme_string(lang, "page.thanks.no_email");
        let spam_hint = spam_hint.split("{email}").next().unwrap();
        let sent = visible_text(&with_mail.html(&page));
        assert!(sent.contains(&promise), "{lang}: {sent}");
        let silent = visible_text(&without.html(&page));
        assert!(!silent.contains(&promise), "{lang}: {silent}");
        assert!(!silent.contains(spam_hint), "{lang}: {silent}");
        assert!(
            silent.contains(&theme_string(lang, "page.thanks.reference_no_mail")),
            "{lang}: {silent}"
        );
        let description = select(&without.html(&page), "meta[name=description]")[0]
            .value()
            .attr("content")
            .unwrap()
            .to_string();
        assert!(
            !description.contains("e-mail") && !description.contains("E-Mail"),
            "{lang}: {description}"
        );
    }
}

#[test]
fn direct_marketing_gets_its_own_notice_and_public_tasks_an_objection_note() {
    let portal = Portal::example();
    // Make the fraud-prevention purpose a public task: Art. 21(1) covers it too.
    portal.edit(
        "portal.toml",
        "legal_basis = \"legitimate_interests\"",
        "legal_basis = \"public_task\"",
    );
    portal.build();
    let html = portal.html("public/en/privacy/index.html");
    let notice = select(&html, "#purposes aside#direct-marketing");
    assert_eq!(notice.len(), 1, "one direct-marketing notice");
    let listed: Vec<String> = select(&html, "#direct-marketing li")
        .iter()
        .map(text)
        .collect();
    assert_eq!(listed, ["Newsletter"]);
    assert!(text(&notice[0]).contains("without giving a reason"));
    // The notice comes before the purposes table, apart from it.
    let section = visible_text(&html);
    let at_notice = section.find(&theme_string("en", "purposes.direct_marketing_heading"));
    let at_table = section.find(&theme_string("en", "purposes.caption"));
    assert!(at_notice < at_table, "notice first");
    // With no legitimate-interest purpose left, the public task alone
    // brings the objection note, which asks for grounds, unlike direct
    // marketing.
    let body = visible_text(&html);
    assert!(!body.contains(&theme_string("en", "purposes.interests_heading")));
    let note = theme_string("en", "purposes.object_note");
    assert!(
        body.contains(note.split("{link}").next().unwrap()),
        "{body}"
    );
    assert!(note.contains("particular situation"));
}

#[test]
fn objection_form_asks_a_reason_only_for_other_processing() {
    let portal = Portal::example();
    portal.build();
    for lang in ["nl", "fr", "de", "en"] {
        let html = portal.html(&format!("public/{lang}/objection/index.html"));
        let choices: Vec<String> = select(&html, "input[name=objection_to]")
            .iter()
            .map(|i| i.value().attr("value").unwrap().to_string())
            .collect();
        assert_eq!(choices, ["direct_marketing", "other"], "{lang}");
        let details = select(&html, "textarea[name=details]");
        assert!(
            details[0].value().attr("required").is_none(),
            "{lang}: reason optional"
        );
        // Representatives can file: no "my own data" box to tick.
        assert!(
            select(&html, "input[type=checkbox][required]").is_empty(),
            "{lang}"
        );
        assert_eq!(select(&html, "input[name=acting_for]").len(), 2, "{lang}");
    }
    let complaint = portal.html("public/en/complaint/index.html");
    assert!(select(&complaint, "input[name=acting_for]").is_empty());
    assert!(select(&complaint, "input[type=checkbox]").is_empty());
    let withdraw = portal.html("public/en/withdraw-consent/index.html");
    let required: Vec<&str> = select(&withdraw, "form [required]")
        .iter()
        .filter_map(|e| e.value().attr("name"))
        .collect();
    assert_eq!(
        required,
        ["email"],
        "withdrawal asks no more than consent did"
    );
}

/// A recipient outside the EEA with no transfer entry is a P007 for
/// `portaal check`; the built statement must not claim the opposite.
#[test]
fn no_transfers_claim_next_to_a_recipient_outside_the_eea() {
    let portal = Portal::example();
    let toml = portal.read("portal.toml");
    let start = toml.find("[[transfers]]").unwrap();
    let end = toml
        .find("# ----------------------------------------------------------------- cookies")
        .unwrap();
    portal.write(
        "portal.toml",
        &format!("{}{}", &toml[..start], &toml[end..]),
    );
    portal.build();
    let none = theme_string("en", "transfers.none");
    let page = visible_text(&portal.html("public/en/privacy/index.html"));
    assert!(
        !page.contains(&none),
        "claims no transfers next to a US recipient"
    );
    // Without the US recipient, and declared, the sentence is true and shown.
    portal.edit("portal.toml", "country = \"US\"", "country = \"IE\"");
    portal.edit(
        "portal.toml",
        "[statement]\n",
        "[statement]\ntransfers = \"none\"\n",
    );
    portal.build();
    let page = visible_text(&portal.html("public/en/privacy/index.html"));
    assert!(page.contains(&none));
}

/// `[statement] provision_requirement = "contractual"` is not said of the
/// fraud-prevention purpose, which rests on legitimate interests.
#[test]
fn the_default_provision_requirement_is_said_only_where_the_basis_fits() {
    let portal = built_example();
    let html = portal.html("public/en/privacy/index.html");
    let listed: Vec<String> = select(&html, "#providing li").iter().map(text).collect();
    let contractual = theme_string("en", "provision.contractual");
    assert!(
        listed
            .iter()
            .any(|l| l.starts_with("Processing and delivering your order")
                && l.ends_with(&contractual)),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|l| l.starts_with("Preventing fraud")),
        "{listed:?}"
    );
}

/// Issue 11, item 8: the forms take no files, so the rights where a
/// document may help say how to send one (e-mail or post), and the page
/// gives both addresses.
#[test]
fn rights_that_may_need_a_document_say_how_to_send_it() {
    let portal = built_example();
    for lang in ["nl", "fr", "de", "en"] {
        for right in ["rectification", "complaint"] {
            let page = portal.html(&format!("public/{lang}/{right}/index.html"));
            let how = text(&select(&page, "#how > p")[0]);
            let heading = theme_string(lang, "contact.heading");
            assert!(how.contains(&heading), "{lang}/{right}: {how}");
            assert!(
                !select(&page, "#contact a[href^='mailto:']").is_empty(),
                "{lang}/{right}: no e-mail address"
            );
            assert_eq!(select(&page, "#contact address").len(), 1, "{lang}/{right}");
            assert!(
                select(&page, "#how input[type=file]").is_empty(),
                "{lang}/{right}: a file field the endpoint would refuse"
            );
        }
    }
}
