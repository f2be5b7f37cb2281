//! `portaal release` records the statement's facts as a released version
//! in history/, never in the output, and never overwrites one; `check`
//! warns when the facts changed but the version did not.

use std::collections::BTreeSet;

use crate::support::{Portal, select, text, theme_string};

fn released(portal: &Portal, version: &str) -> toml::Table {
    toml::from_str(&portal.read(&format!("history/{version}.toml"))).unwrap()
}

fn codes(portal: &Portal) -> Vec<String> {
    let out = portal.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn release_writes_the_facts_into_history_and_never_into_public() {
    let portal = Portal::example();
    let out = portal.run(&["release", "--note", "Newsletter by a new mailer"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot = released(&portal, "2.1");
    assert_eq!(snapshot["version"].as_str(), Some("2.1"));
    assert_eq!(snapshot["valid_from"].to_string(), "2026-10-01");
    assert_eq!(
        snapshot["note"].as_str(),
        Some("Newsletter by a new mailer")
    );
    let facts = snapshot["facts"].as_table().unwrap();
    assert_eq!(facts["purposes"].as_array().unwrap().len(), 6);
    // Publishing keys are not facts of the statement.
    assert!(facts["site"].get("base_url").is_none());
    assert!(facts["site"].get("policy_version").is_none());
    // The firm's own sections, per language.
    let sections = snapshot["sections"].as_table().unwrap();
    for lang in ["nl", "fr", "de", "en"] {
        assert!(sections[lang].as_table().unwrap().len() >= 2, "{lang}");
    }

    portal.build();
    let public = portal.files("public");
    assert!(
        !public
            .iter()
            .any(|f| f.contains("history") || f.ends_with(".toml")),
        "{public:?}"
    );
}

#[test]
fn release_refuses_to_overwrite_a_released_version() {
    let portal = Portal::example();
    assert!(portal.run(&["release"]).status.success());
    let before = portal.read("history/2.1.toml");
    portal.edit(
        "portal.toml",
        "legal_basis = \"consent\"",
        "legal_basis = \"contract\"",
    );
    let again = portal.run(&["release"]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already released"), "{stderr}");
    assert!(stderr.contains("raise policy_version"), "{stderr}");
    assert_eq!(portal.read("history/2.1.toml"), before);

    // A version other than the statement's own is refused too.
    let other = portal.run(&["release", "--version", "3.0"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(!portal.path().join("history/3.0.toml").exists());
}

#[test]
fn check_warns_when_facts_changed_but_the_version_did_not() {
    let portal = Portal::example();
    assert!(portal.run(&["release"]).status.success());
    assert!(!codes(&portal).contains(&"P057".to_string()));

    // Layout and comments are no change of facts.
    portal.edit(
        "portal.toml",
        "[[purposes]]",
        "# A comment the agency added.\n\n[[purposes]]",
    );
    assert!(!codes(&portal).contains(&"P057".to_string()));

    // A longer retention is.
    portal.edit("portal.toml", "period = \"13mo\"", "period = \"25mo\"");
    assert_eq!(
        codes(&portal)
            .iter()
            .filter(|c| c.as_str() == "P057")
            .count(),
        1
    );
    portal.edit(
        "portal.toml",
        "policy_version = \"2.1\"",
        "policy_version = \"2.2\"",
    );
    assert!(
        codes(&portal).contains(&"P057".to_string()),
        "last_updated is still the old version's"
    );
    portal.edit(
        "portal.toml",
        "last_updated = 2026-10-01",
        "last_updated = 2026-11-15",
    );
    assert!(!codes(&portal).contains(&"P057".to_string()));
    assert!(portal.run(&["release"]).status.success());
    assert!(portal.path().join("history/2.2.toml").is_file());
}

#[test]
fn check_reports_a_released_version_it_cannot_read() {
    let portal = Portal::example();
    portal.write("history/2.0.toml", "version = 2\n");
    assert!(codes(&portal).contains(&"P058".to_string()));
}

#[test]
fn released_version_naming_a_path_outside_its_folder_stops_the_build() {
    let portal = Portal::example();
    assert!(portal.run(&["release"]).status.success());
    let snapshot = portal.read("history/2.1.toml");
    portal.write(
        "history/1.0.toml",
        &snapshot.replace("version = \"2.1\"", "version = \"../../escape\""),
    );
    let stderr = portal.build_fails();
    assert!(stderr.contains("P058"), "{stderr}");
    assert!(stderr.contains("history/1.0.toml"), "{stderr}");
    assert!(!portal.path().join("escape").exists());
}

/// A theme string with its placeholders filled, whitespace as `text`
/// reads it.
fn fill(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    let mut s = theme_string(lang, &format!("changes.{key}"));
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes the `[[table]]` entry that starts with `first_line` from `text`.
fn without_entry(text: &str, table: &str, first_line: &str) -> String {
    let start = text
        .find(&format!("[[{table}]]\n{first_line}"))
        .expect("the entry");
    let end = text[start + 4..]
        .find(&format!("[[{table}]]"))
        .map_or(text.len(), |e| start + 4 + e);
    format!("{}{}", &text[..start], &text[end..])
}

/// Per language: orders, statistics, security, research, newsletter, and
/// the statement's first own section.
fn names(lang: &str) -> [&'static str; 6] {
    match lang {
        "nl" => [
            "Uw bestelling verwerken en leveren",
            "Bezoekersstatistieken",
            "Fraude en misbruik voorkomen",
            "Smaakonderzoek",
            "Nieuwsbrief",
            "Van ons, over uw gegevens",
        ],
        "fr" => [
            "Traiter et livrer votre commande",
            "Statistiques de visite",
            "Prévenir la fraude et les abus",
            "Recherche gustative",
            "Lettre d'information",
            "De nous, à propos de vos données",
        ],
        "de" => [
            "Ihre Bestellung bearbeiten und liefern",
            "Besucherstatistiken",
            "Betrug und Missbrauch verhindern",
            "Geschmacksforschung",
            "Newsletter",
            "Von uns, über Ihre Daten",
        ],
        _ => [
            "Processing and delivering your order",
            "Visitor statistics",
            "Preventing fraud and misuse",
            "Research into taste",
            "Newsletter",
            "From us, about your data",
        ],
    }
}

#[test]
fn two_versions_list_each_kind_of_change_in_four_languages_and_link_both_ways() {
    let portal = Portal::example();
    assert!(
        portal
            .run(&["release", "--note", "First published version"])
            .status
            .success()
    );

    // Version 2.2 differs from 2.1 in every kind of fact.
    portal
        .edit("portal.toml", "policy_version = \"2.1\"", "policy_version = \"2.2\"")
        .edit("portal.toml", "last_updated = 2026-10-01", "last_updated = 2026-11-15")
        .edit(
            "portal.toml",
            "legal_basis = \"contract\"",
            "legal_basis = [\"contract\", \"legal_obligation\"]",
        )
        .edit("portal.toml", "period = \"13mo\"", "period = \"25mo\"")
        .edit("portal.toml", "period = \"3mo\"", "period = \"1mo\"")
        .edit("portal.toml", "duration = \"6mo\"", "duration = \"12mo\"")
        .edit(
            "portal.toml",
            "[controller.address]",
            "[controller.dpo]\nemail = \"dpo@verhaegen.example\"\n\n[controller.address]",
        )
        .edit("portal.toml", "preset = \"BE\"", "preset = \"BE\"\nphone = \"+32 2 274 48 99\"")
        .edit(
            "portal.toml",
            "# -------------------------------------------------------------- recipients",
            r#"[[purposes]]
id = "research"
name = { nl = "Smaakonderzoek", fr = "Recherche gustative", de = "Geschmacksforschung", en = "Research into taste" }
legal_basis = "consent"
data_categories = ["usage"]
retention = { period = "1y" }
recipients = ["survey"]

# -------------------------------------------------------------- recipients

[[recipients]]
id = "survey"
name = "Enquête Inc."
kind = "processor"
country = "CA"
"#,
        )
        .edit(
            "portal.toml",
            "[[transfers]]",
            "[[transfers]]\nrecipient = \"survey\"\ncountry = \"CA\"\nsafeguard = \"adequacy_decision\"\n\n[[transfers]]",
        )
        .edit(
            "portal.toml",
            "[[cookies]]",
            "[[cookies]]\nname = \"vh_theme\"\nprovider = \"Koffiebranderij Verhaegen\"\ncategory = \"functional\"\nparty = \"first\"\nduration = \"1y\"\npurpose = \"Remembers light or dark mode.\"\n\n[[cookies]]",
        );
    let config = portal.read("portal.toml");
    let config = without_entry(&config, "purposes", "id = \"newsletter\"");
    let config = without_entry(&config, "cookies", "name = \"vh_csrf\"");
    portal.write("portal.toml", &config);
    for lang in ["nl", "fr", "de", "en"] {
        let md = portal.read(&format!("content/{lang}/privacy.md"));
        let second = md.match_indices("\n## ").nth(1).unwrap().0;
        let changed = format!("{}\n\nOne more sentence.\n{}", &md[..second], &md[second..]);
        portal.write(&format!("content/{lang}/privacy.md"), &changed);
    }
    let out = portal.run(&["release"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    portal.build();

    for lang in ["nl", "fr", "de", "en"] {
        let [orders, statistics, security, research, newsletter, section] = names(lang);
        let s = |key: &str| theme_string(lang, key);
        let months = |n: u32| {
            format!(
                "{n} {}",
                s(if n == 1 {
                    "duration.month"
                } else {
                    "duration.months"
                })
            )
        };
        let expected: BTreeSet<String> = [
            fill(
                lang,
                "basis_changed",
                &[
                    ("purpose", orders.into()),
                    ("from", s("legal_basis.contract.name")),
                    (
                        "to",
                        format!(
                            "{}, {}",
                            s("legal_basis.contract.name"),
                            s("legal_basis.legal_obligation.name")
                        ),
                    ),
                ],
            ),
            fill(
                lang,
                "retention_longer",
                &[
                    ("purpose", statistics.into()),
                    ("from", months(13)),
                    ("to", months(25)),
                ],
            ),
            fill(
                lang,
                "retention_shorter",
                &[
                    ("purpose", security.into()),
                    ("from", months(3)),
                    ("to", months(1)),
                ],
            ),
            fill(lang, "purpose_added", &[("purpose", research.into())]),
            fill(lang, "purpose_removed", &[("purpose", newsletter.into())]),
            fill(
                lang,
                "recipient_added",
                &[
                    ("recipient", "Enquête Inc.".into()),
                    ("country", s("country.CA")),
                ],
            ),
            fill(
                lang,
                "transfer_added",
                &[
                    ("recipient", "Enquête Inc.".into()),
                    ("country", s("country.CA")),
                    ("safeguard", s("safeguard.adequacy_decision.name")),
                ],
            ),
            fill(lang, "cookie_added", &[("cookie", "vh_theme".into())]),
            fill(lang, "cookie_removed", &[("cookie", "vh_csrf".into())]),
            fill(
                lang,
                "cookie_duration",
                &[
                    ("cookie", "vh_consent".into()),
                    ("from", months(6)),
                    ("to", months(12)),
                ],
            ),
            fill(lang, "dpo_changed", &[]),
            fill(lang, "authority_changed", &[]),
            fill(lang, "section_changed", &[("section", section.into())]),
        ]
        .into_iter()
        .collect();

        // On the statement, at the top, and on the changes page.
        let current = portal.html(&format!("public/{lang}/privacy/index.html"));
        let listed: BTreeSet<String> = select(&current, "section#what-changed li")
            .iter()
            .map(text)
            .collect();
        assert_eq!(listed, expected, "{lang}: the statement's changes");
        let changes = portal.html(&format!("public/{lang}/privacy/changes/index.html"));
        let listed: BTreeSet<String> = select(&changes, "main section:first-of-type li")
            .iter()
            .map(text)
            .collect();
        assert_eq!(listed, expected, "{lang}: the changes page");
        assert!(
            text(&select(&changes, "main")[0]).contains("First published version"),
            "{lang}: the note"
        );

        // Links both ways: statement → changes → 2.1 → statement.
        let hrefs = |html: &scraper::Html| -> Vec<String> {
            select(html, "main a[href]")
                .iter()
                .map(|a| a.value().attr("href").unwrap().to_string())
                .collect()
        };
        assert!(
            hrefs(&current).contains(&format!("/{lang}/privacy/changes/")),
            "{lang}"
        );
        assert!(
            hrefs(&changes).contains(&format!("/{lang}/privacy/2.1/")),
            "{lang}"
        );
        let earlier = portal.html(&format!("public/{lang}/privacy/2.1/index.html"));
        assert!(
            hrefs(&earlier).contains(&format!("/{lang}/privacy/")),
            "{lang}"
        );
        assert!(
            hrefs(&earlier).contains(&format!("/{lang}/privacy/changes/")),
            "{lang}"
        );
        let notice = text(&select(&earlier, "main .earlier")[0]);
        assert!(notice.contains("2.1"), "{lang}: {notice}");
        let robots = select(&earlier, "meta[name=robots]");
        assert_eq!(robots[0].value().attr("content"), Some("noindex"), "{lang}");
        assert!(select(&current, "meta[name=robots]").is_empty(), "{lang}");
        // The earlier version renders its own facts.
        let purposes: Vec<String> = select(&earlier, "#purposes tbody th")
            .iter()
            .map(text)
            .collect();
        assert!(
            purposes.iter().any(|p| p.starts_with(newsletter)),
            "{lang}: {purposes:?}"
        );
        assert!(
            !purposes.iter().any(|p| p.starts_with(research)),
            "{lang}: {purposes:?}"
        );
    }
    let sitemap = portal.read("public/sitemap.xml");
    assert!(!sitemap.contains("/privacy/2.1/"), "{sitemap}");
    assert!(!sitemap.contains("/privacy/changes/"), "{sitemap}");
}
