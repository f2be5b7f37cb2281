//! The first layer: "in short" at the top of the statement and on the
//! landing page, built from portal.toml. It follows the facts (a purpose
//! added appears), and an undeclared fact gives no line at all.

use crate::support::{Portal, select, text, theme_string};

const LANGS: [&str; 4] = ["nl", "fr", "de", "en"];

/// A portal that declares no recipients, transfers, automated decisions
/// or fixed retention period.
const SILENT: &str = concat!(
    crate::silent_firm!(),
    r#"
[[purposes]]
id = "orders"
name = "Orders"
legal_basis = "contract"
data_categories = ["identity"]
retention = { criteria = "As long as the order is open." }
"#
);

/// The terms (`dt`) and descriptions (`dd`) of the summary on a page.
fn summary_lines(portal: &Portal, rel: &str) -> Vec<(String, String)> {
    let html = portal.html(rel);
    let sections = select(&html, "main section#summary");
    assert_eq!(sections.len(), 1, "{rel}: one summary");
    let terms = select(&html, "main section#summary dl > dt");
    let descriptions = select(&html, "main section#summary dl > dd");
    assert_eq!(terms.len(), descriptions.len(), "{rel}");
    terms
        .iter()
        .zip(&descriptions)
        .map(|(t, d)| (text(t), text(d)))
        .collect()
}

/// A theme string as `text` reads it: whitespace (the French no-break
/// spaces too) as single spaces.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn line<'a>(lines: &'a [(String, String)], lang: &str, key: &str) -> Option<&'a str> {
    let term = norm(&theme_string(lang, &format!("summary.{key}")));
    lines
        .iter()
        .find(|(t, _)| *t == term)
        .map(|(_, d)| d.as_str())
}

#[test]
fn first_layer_follows_the_purposes_of_portal_toml_in_four_languages() {
    let portal = Portal::example();
    portal.build();
    for lang in LANGS {
        for page in ["privacy/index.html", "index.html"] {
            let lines = summary_lines(&portal, &format!("public/{lang}/{page}"));
            let why = line(&lines, lang, "why").expect("purposes line");
            assert!(
                why.contains(&theme_string(lang, "legal_basis.legal_obligation.name")),
                "{lang}/{page}: {why}"
            );
            assert!(!why.contains("Research into taste"), "{lang}/{page}: {why}");
            // Who and how to reach them, and every right with its page.
            let who = line(&lines, lang, "who").unwrap();
            assert!(who.contains("Koffiebranderij Verhaegen BV"), "{who}");
            assert!(who.contains("info@verhaegen.example"), "{who}");
            let html = portal.html(&format!("public/{lang}/{page}"));
            let rights = select(&html, "section#summary dd a[href$='/access/']");
            assert_eq!(rights.len(), 1, "{lang}/{page}");
            // The example declares a transfer to the US, its safeguard, and
            // that no decisions are automated.
            let outside = line(&lines, lang, "outside_eea").expect("transfer line");
            assert!(
                outside.contains(&theme_string(
                    lang,
                    "safeguard.standard_contractual_clauses.name"
                )),
                "{lang}: {outside}"
            );
            assert_eq!(
                line(&lines, lang, "automated"),
                Some(norm(&theme_string(lang, "summary.automated_none")).as_str())
            );
            // Some purposes keep data by criteria: the longest fixed period
            // is named as such, not as a maximum.
            let how_long = line(&lines, lang, "how_long").unwrap();
            let fixed = norm(&theme_string(lang, "summary.longest_fixed"));
            let before = fixed.split("{period}").next().unwrap();
            assert!(how_long.starts_with(before), "{lang}: {how_long}");
        }
    }

    portal.edit(
        "portal.toml",
        "# -------------------------------------------------------------- recipients",
        r#"[[purposes]]
id = "research"
name = { nl = "Smaakonderzoek", fr = "Recherche gustative", de = "Geschmacksforschung", en = "Research into taste" }
legal_basis = "public_task"
data_categories = ["usage"]
retention = { period = "1y" }

# -------------------------------------------------------------- recipients"#,
    );
    portal.build();
    let names = [
        ("nl", "Smaakonderzoek"),
        ("fr", "Recherche gustative"),
        ("de", "Geschmacksforschung"),
        ("en", "Research into taste"),
    ];
    for (lang, name) in names {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let items: Vec<String> = select(&html, "section#summary dd li")
            .iter()
            .map(text)
            .collect();
        let basis = theme_string(lang, "legal_basis.public_task.name");
        assert!(
            items
                .iter()
                .any(|i| i.starts_with(name) && i.ends_with(&basis)),
            "{lang}: {items:?}"
        );
        let link = select(&html, "section#summary a[href$='#purpose-research']");
        assert_eq!(link.len(), 1, "{lang}");
    }
}

#[test]
fn first_layer_says_nothing_of_what_portal_toml_does_not_declare() {
    let portal = Portal::empty();
    portal.write("portal.toml", SILENT);
    portal.build();
    for lang in LANGS {
        let lines = summary_lines(&portal, &format!("public/{lang}/privacy/index.html"));
        let terms: Vec<&str> = lines.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            terms,
            [
                theme_string(lang, "summary.who"),
                theme_string(lang, "summary.why"),
                theme_string(lang, "summary.rights"),
            ],
            "{lang}"
        );
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let all = text(&select(&html, "section#summary")[0]);
        for key in [
            "summary.transfers_none",
            "summary.recipients_none",
            "summary.automated_none",
        ] {
            assert!(
                !all.contains(&norm(&theme_string(lang, key))),
                "{lang}: {key}"
            );
        }
    }

    // Declared, each "none" and the maximum period appear.
    portal.edit(
        "portal.toml",
        "[[purposes]]",
        "[statement]\ntransfers = \"none\"\nrecipients = \"none\"\nautomated_decisions = \"none\"\n\n[[purposes]]",
    );
    portal.edit(
        "portal.toml",
        "retention = { criteria = \"As long as the order is open.\" }",
        "retention = { period = \"7y\" }",
    );
    portal.build();
    for lang in LANGS {
        let lines = summary_lines(&portal, &format!("public/{lang}/index.html"));
        for (term, sentence) in [
            ("outside_eea", "transfers_none"),
            ("recipients", "recipients_none"),
            ("automated", "automated_none"),
        ] {
            assert_eq!(
                line(&lines, lang, term),
                Some(norm(&theme_string(lang, &format!("summary.{sentence}"))).as_str()),
                "{lang}: {term}"
            );
        }
        let how_long = line(&lines, lang, "how_long").unwrap();
        let at_most = norm(&theme_string(lang, "summary.longest"));
        let before = at_most.split("{period}").next().unwrap();
        assert!(how_long.starts_with(before), "{lang}: {how_long}");
        assert!(how_long.contains("7"), "{lang}: {how_long}");
        assert!(how_long.contains("Orders"), "{lang}: {how_long}");
    }
}

#[test]
fn summary_md_replaces_the_built_in_lines_and_is_no_page() {
    let portal = Portal::empty();
    portal.write("portal.toml", SILENT);
    for lang in LANGS {
        portal.write(
            &format!("content/{lang}/summary.md"),
            &format!("We sell coffee and keep orders for seven years ({lang})."),
        );
    }
    portal.build();
    for lang in LANGS {
        for page in ["privacy/index.html", "index.html"] {
            let html = portal.html(&format!("public/{lang}/{page}"));
            let summary = select(&html, "section#summary");
            assert_eq!(summary.len(), 1);
            assert!(
                text(&summary[0]).contains(&format!("seven years ({lang})")),
                "{lang}/{page}"
            );
            assert!(select(&html, "section#summary dl").is_empty(), "{lang}");
            let nav: Vec<String> = select(&html, "nav a").iter().map(text).collect();
            assert!(!nav.iter().any(|n| n.contains("summary")), "{nav:?}");
        }
        assert!(
            !portal
                .path()
                .join(format!("public/{lang}/summary/index.html"))
                .exists()
        );
    }
}
