//! What the privacy statement claims about the firm: only what portal.toml
//! says. Silence is never rendered as "none"; a "none" that the rest of the
//! portal contradicts stops the build, naming both places.

use crate::support::{Portal, select, text, theme_string};

const LANGS: [&str; 4] = ["nl", "fr", "de", "en"];

/// A four-language portal that says nothing about cookies, transfers or
/// recipients: no [[cookies]], [[transfers]], [[recipients]], no "none",
/// and a purpose without a `recipients` key.
const SILENT: &str = concat!(
    crate::silent_firm!(),
    r#"
[statement]
automated_decisions = "none"

[[purposes]]
id = "orders"
name = "Orders"
legal_basis = "contract"
data_categories = ["identity"]
retention = { period = "7y" }
"#
);

/// The "none" sentences of the built-in theme in `lang`, by key.
fn none_sentences(lang: &str) -> Vec<(&'static str, String)> {
    [
        "page.cookies.none",
        "transfers.none",
        "recipients.none",
        "purposes.recipients_none",
    ]
    .into_iter()
    .map(|key| (key, theme_string(lang, key)))
    .collect()
}

/// The text of every element of `main` on a built page.
fn main_text(portal: &Portal, rel: &str) -> String {
    let html = portal.html(rel);
    select(&html, "main")
        .iter()
        .map(text)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn undeclared_cookies_transfers_and_recipients_render_no_none_sentence() {
    let portal = Portal::empty();
    portal.write("portal.toml", SILENT);
    portal.build();
    for lang in LANGS {
        let privacy = main_text(&portal, &format!("public/{lang}/privacy/index.html"));
        let cookies = main_text(&portal, &format!("public/{lang}/cookies/index.html"));
        assert!(privacy.contains("Orders"), "{lang}: {privacy}");
        for (key, sentence) in none_sentences(lang) {
            assert!(!privacy.contains(&sentence), "{lang} privacy says {key}");
            assert!(!cookies.contains(&sentence), "{lang} cookies says {key}");
        }
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        for id in ["transfers", "recipients"] {
            assert!(
                select(&html, &format!("section#{id}, a[href='#{id}']")).is_empty(),
                "{lang}: an empty #{id} section or its ToC entry"
            );
        }
    }
    // `check` names the open questions instead.
    let out = portal.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    for code in ["P005", "P038", "P039"] {
        assert!(codes.contains(&code), "{code} missing: {json:#}");
    }
}

#[test]
fn declared_none_renders_each_none_sentence_in_every_language() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &SILENT
            .replace(
                "automated_decisions = \"none\"\n",
                "automated_decisions = \"none\"\ncookies = \"none\"\ntransfers = \"none\"\nrecipients = \"none\"\n",
            )
            .replace(
                "retention = { period = \"7y\" }\n",
                "retention = { period = \"7y\" }\nrecipients = []\n",
            ),
    );
    portal.build();
    for lang in LANGS {
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let cookies = portal.html(&format!("public/{lang}/cookies/index.html"));
        let found = |html: &scraper::Html, css: &str, sentence: &str| {
            select(html, css).iter().any(|e| text(e) == sentence)
        };
        for (key, sentence) in none_sentences(lang) {
            let shown = match key {
                "page.cookies.none" => found(&cookies, "main p", &sentence),
                "transfers.none" => found(&privacy, "section#transfers p", &sentence),
                "recipients.none" => found(&privacy, "section#recipients p", &sentence),
                _ => found(&privacy, "tr#purpose-orders td", &sentence),
            };
            assert!(shown, "{lang}: {key} ({sentence}) not shown");
        }
    }
    let out = portal.run(&["check", "--format", "json"]);
    let findings = String::from_utf8_lossy(&out.stdout);
    for code in ["P005", "P038", "P039"] {
        assert!(!findings.contains(code), "{code}: {findings}");
    }
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn transfers_none_next_to_a_us_recipient_fails_naming_both_places() {
    let toml = format!(
        "{}\n[[recipients]]\nid = \"mailer\"\nname = \"Mailer Inc.\"\nkind = \"processor\"\nservice = \"newsletter\"\ncountry = \"US\"\n",
        SILENT
            .replace(
                "automated_decisions = \"none\"\n",
                "automated_decisions = \"none\"\ntransfers = \"none\"\n",
            )
            .replace(
                "retention = { period = \"7y\" }\n",
                "retention = { period = \"7y\" }\nrecipients = [\"mailer\"]\n",
            )
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    let err = portal.build_fails();
    let none_line = line_of(&toml, "transfers = \"none\"");
    let country_line = line_of(&toml, "country = \"US\"");
    assert!(
        err.contains(&format!(
            "portal.toml:{none_line}:13: error: [statement] says `transfers = \"none\"`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("recipient `mailer` is in US, outside the EEA, at line {country_line}, column 11 of portal.toml")),
        "{err}"
    );
    assert!(!portal.path().join("public").exists());
}

#[test]
fn transfers_none_next_to_a_transfer_fails() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "[endpoint]",
        "[statement]\ntransfers = \"none\"\n\n[endpoint]",
    );
    let err = portal.build_fails();
    assert!(
        err.contains("a [[transfers]] entry sends data of `mailer` to US at line"),
        "{err}"
    );
}

#[test]
fn recipients_none_next_to_a_recipient_fails() {
    let portal = Portal::fixture("check/clean");
    portal.edit(
        "portal.toml",
        "[statement]\n",
        "[statement]\nrecipients = \"none\"\n",
    );
    let err = portal.build_fails();
    let toml = portal.read("portal.toml");
    assert!(
        err.contains(&format!(
            "recipient `hosting` is declared at line {}, column 6 of portal.toml",
            line_of(&toml, "id = \"hosting\"")
        )),
        "{err}"
    );
}

#[test]
fn cookies_none_next_to_a_declared_cookie_fails() {
    let portal = Portal::fixture("check/clean");
    portal.edit(
        "portal.toml",
        "[statement]\n",
        "[statement]\ncookies = \"none\"\n",
    );
    let err = portal.build_fails();
    assert!(
        err.contains("cookie `bc_session` is declared at line"),
        "{err}"
    );
}

#[test]
fn cookies_none_next_to_an_embed_fails_naming_both_places() {
    // The P032 fixture embeds YouTube in its Dutch Markdown (line 3).
    let portal = Portal::check_case("P032");
    let toml = portal.read("portal.toml");
    let without_cookies = &toml[..toml.find("\n[[cookies]]").unwrap()];
    portal.write(
        "portal.toml",
        &without_cookies.replace("[statement]\n", "[statement]\ncookies = \"none\"\n"),
    );
    let err = portal.build_fails();
    let none_line = line_of(without_cookies, "[statement]") + 1;
    assert!(
        err.contains(&format!(
            "portal.toml:{none_line}:11: error: [statement] says `cookies = \"none\"`, but YouTube"
        )),
        "{err}"
    );
    assert!(
        err.contains("is embedded at content/nl/privacy.md:3:14"),
        "{err}"
    );
}

/// Sentences the standard texts once asserted about every firm, whatever
/// it did: each is now a fact in portal.toml or gone.
#[test]
fn standard_texts_assert_no_security_cookie_or_weighing_facts() {
    let portal = Portal::example();
    portal.build();
    let en = main_text(&portal, "public/en/privacy/index.html")
        + &main_text(&portal, "public/en/cookies/index.html");
    for claim in [
        "such as giving access only to staff",
        "We have weighed them",
        "we take extra measures, such as encryption",
        "We only place them with your consent",
        "We only place all other cookies",
        "by marking fields in a form as optional",
    ] {
        assert!(!en.contains(claim), "still claims: {claim}");
    }
}

#[test]
fn the_firms_own_security_measures_are_shown_in_every_language() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &SILENT.replace(
            "automated_decisions = \"none\"\n",
            "automated_decisions = \"none\"\nsecurity_measures = { nl = \"Versleuteld.\", fr = \"Chiffré.\", de = \"Verschlüsselt.\", en = \"Encrypted.\" }\n",
        ),
    );
    portal.build();
    for (lang, own) in [
        ("nl", "Versleuteld."),
        ("fr", "Chiffré."),
        ("de", "Verschlüsselt."),
        ("en", "Encrypted."),
    ] {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let paragraphs: Vec<String> = select(&html, "section#security p")
            .iter()
            .map(text)
            .collect();
        assert_eq!(
            paragraphs,
            [theme_string(lang, "privacy.security_body"), own.to_string()],
            "{lang}"
        );
    }
    // Without it, only what the law requires is said.
    portal.write("portal.toml", SILENT);
    portal.build();
    let html = portal.html("public/en/privacy/index.html");
    assert_eq!(select(&html, "section#security p").len(), 1);
}

/// Recipients as the firms write them (Art. 13(1)(e)): a category with or
/// without a name, a region instead of a country, or no place at all.
#[test]
fn recipients_may_be_categories_with_a_region_in_every_language() {
    let toml = format!(
        "{}{}",
        SILENT.replace(
            "retention = { period = \"7y\" }\n",
            "retention = { period = \"7y\" }\nrecipients = [\"it\", \"authorities\", \"support\"]\n",
        ),
        r#"
[[recipients]]
id = "it"
category = { nl = "IT-dienstverleners", fr = "Prestataires informatiques", de = "IT-Dienstleister", en = "IT service providers" }
kind = "processor"
country = "EEA"

[[recipients]]
id = "authorities"
category = { nl = "Overheden als de wet het vereist", fr = "Autorités lorsque la loi l'exige", de = "Behörden, wenn das Gesetz es verlangt", en = "Public authorities when the law requires it" }
kind = "controller"

[[recipients]]
id = "support"
name = "Help Desk Co"
category = { nl = "Klantendienst", fr = "Service clientèle", de = "Kundendienst", en = "Customer service" }
kind = "processor"
service = { nl = "telefonische hulp", fr = "aide téléphonique", de = "Telefonhilfe", en = "telephone help" }
country = "TH"

[[transfers]]
recipient = "support"
country = "TH"
safeguard = "standard_contractual_clauses"
"#
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for (lang, it, eea, support, thailand) in [
        (
            "nl",
            "IT-dienstverleners",
            "Europese Economische Ruimte",
            "Klantendienst (Help Desk Co)",
            "Thailand",
        ),
        (
            "fr",
            "Prestataires informatiques",
            "Espace économique européen",
            "Service clientèle (Help Desk Co)",
            "Thaïlande",
        ),
        (
            "de",
            "IT-Dienstleister",
            "Europäischer Wirtschaftsraum",
            "Kundendienst (Help Desk Co)",
            "Thailand",
        ),
        (
            "en",
            "IT service providers",
            "European Economic Area",
            "Customer service (Help Desk Co)",
            "Thailand",
        ),
    ] {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let row = |id: &str| -> Vec<String> {
            select(&html, &format!("tr#recipient-{id} > *"))
                .iter()
                .map(text)
                .collect()
        };
        let it_row = row("it");
        assert_eq!(
            (it_row[0].as_str(), it_row[1].as_str(), it_row[3].as_str()),
            (it, "", eea),
            "{lang}"
        );
        assert_eq!(
            row("authorities")[3],
            "",
            "{lang}: no place stated, none shown"
        );
        let support_row = row("support");
        assert_eq!(
            (support_row[0].as_str(), support_row[3].as_str()),
            (support, thailand),
            "{lang}"
        );
        let transfer: Vec<String> = select(&html, "section#transfers tbody td")
            .iter()
            .map(text)
            .collect();
        assert_eq!(transfer[0], thailand, "{lang}");
    }
}

#[test]
fn a_recipient_outside_the_eea_by_region_contradicts_transfers_none() {
    let toml = format!(
        "{}\n[[recipients]]\nid = \"cloud\"\ncategory = \"Cloud storage\"\nkind = \"processor\"\ncountry = \"outside_eea\"\n",
        SILENT.replace(
            "automated_decisions = \"none\"\n",
            "automated_decisions = \"none\"\ntransfers = \"none\"\n",
        )
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    let err = portal.build_fails();
    assert!(
        err.contains(&format!(
            "recipient `cloud` is outside the EEA at line {}, column 11 of portal.toml",
            line_of(&toml, "country = \"outside_eea\"")
        )),
        "{err}"
    );
}

#[test]
fn country_codes_are_checked_against_iso_3166() {
    let toml = format!(
        "{}\n[[recipients]]\nid = \"a\"\nname = \"A\"\nkind = \"processor\"\ncountry = \"UK\"\n\n[[recipients]]\nid = \"b\"\nname = \"B\"\nkind = \"processor\"\ncountry = \"XX\"\n\n[[recipients]]\nid = \"c\"\nkind = \"processor\"\n",
        SILENT.replace("country = \"BE\"", "country = \"EU\"")
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    let err = portal.build_fails();
    for expected in [
        // The controller's address needs a country, not a region.
        "country `EU` is not an ISO 3166-1 alpha-2 country code (e.g. `BE`)\n",
        "country `UK` is not an ISO 3166-1 alpha-2 country code (e.g. `BE`), or a region: `EU`, `EEA`, `outside_eea`, `unknown`; the United Kingdom is `GB`",
        "country `XX` is not an ISO 3166-1 alpha-2 country code",
        "recipient `c` has neither a name nor a category",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
}

#[test]
fn cookie_providers_are_translatable() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &format!(
            "{SILENT}\n[[cookies]]\nname = \"s\"\nprovider = {{ nl = \"Wij\", fr = \"Nous\", de = \"Wir\", en = \"Us\" }}\ncategory = \"strictly_necessary\"\nparty = \"first\"\nduration = \"session\"\npurpose = \"Session\"\n"
        ),
    );
    portal.build();
    for (lang, us) in [("nl", "Wij"), ("fr", "Nous"), ("de", "Wir"), ("en", "Us")] {
        let html = portal.html(&format!("public/{lang}/cookies/index.html"));
        let cells: Vec<String> = select(&html, "table.cookies td").iter().map(text).collect();
        assert!(cells.contains(&us.to_string()), "{lang}: {cells:?}");
    }
}

/// A firm that publishes no street: no "Address: Belgium" on any page, and
/// `check` says what to add where.
#[test]
fn an_address_of_only_a_country_is_not_shown_and_check_names_controller_address() {
    let toml = SILENT.replace(
        "street = \"Kerkstraat 1\"\npostal_code = \"9000\"\ncity = \"Gent\"\n",
        "",
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        assert!(select(&html, "#controller address").is_empty(), "{lang}");
        let terms: Vec<String> = select(&html, "#controller dt").iter().map(text).collect();
        assert!(
            !terms.contains(&theme_string(lang, "controller.address")),
            "{lang}: {terms:?}"
        );
        let right = portal.html(&format!("public/{lang}/access/index.html"));
        assert!(select(&right, "address.postal").is_empty(), "{lang}");
    }
    let out = portal.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p001: Vec<&serde_json::Value> = json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "P001")
        .collect();
    assert_eq!(p001.len(), 1, "{json:#}");
    assert_eq!(p001[0]["line"], line_of(&toml, "[controller.address]"));
    assert_eq!(
        p001[0]["fix"],
        "fill in `street`, `postal_code`, `city` in [controller.address]"
    );
}

#[test]
fn a_city_without_street_is_shown_without_empty_lines() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &SILENT.replace("street = \"Kerkstraat 1\"\npostal_code = \"9000\"\n", ""),
    );
    portal.build();
    let html = portal.html("public/fr/privacy/index.html");
    let address = select(&html, "#controller address");
    assert_eq!(address[0].inner_html().trim(), "Gent<br>Belgique");
}

#[test]
fn trade_name_and_eu_representative_in_every_language() {
    // A British firm with a trade name and a representative in the EU.
    let toml = SILENT
        .replace(
            "legal_name = \"Stil BV\"\n",
            "legal_name = \"Stil Holdings Ltd\"\ntrade_name = \"Stil\"\n",
        )
        .replace("country = \"BE\"", "country = \"GB\"")
        .replace(
            "[controller.address]",
            "[controller.representative]\nname = \"Rep Europe BV\"\nemail = \"rep@rep.example\"\naddress = \"Wetstraat 1, 1000 Brussel\"\n\n[controller.address]",
        );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let facts: Vec<String> = select(&html, "#controller dt, #controller dd")
            .iter()
            .map(text)
            .collect();
        let trade = facts
            .iter()
            .position(|f| *f == theme_string(lang, "controller.trade_name"))
            .unwrap_or_else(|| panic!("{lang}: no trade name in {facts:?}"));
        assert_eq!(facts[trade + 1], "Stil");
        let heading: Vec<String> = select(&html, "#representative").iter().map(text).collect();
        assert_eq!(
            heading,
            [theme_string(lang, "controller.representative_heading")]
        );
        assert!(facts.contains(&"Rep Europe BV".to_string()), "{lang}");
        assert!(
            facts.contains(&"Wetstraat 1, 1000 Brussel".to_string()),
            "{lang}"
        );
    }
}

/// Direct marketing on "consent or legitimate interests": both shown.
#[test]
fn a_purpose_with_several_legal_bases_shows_each_in_every_language() {
    let toml = SILENT.replace(
        "legal_basis = \"contract\"\n",
        "legal_basis = [\"consent\", \"legitimate_interests\"]\nlegitimate_interest = \"Offers to our customers\"\n",
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let links: Vec<String> = select(&html, "tr#purpose-orders td a")
            .iter()
            .map(|a| a.value().attr("href").unwrap().to_string())
            .collect();
        assert_eq!(
            links,
            ["#basis-consent", "#basis-legitimate_interests"],
            "{lang}"
        );
        let names: Vec<String> = select(&html, "tr#purpose-orders td a")
            .iter()
            .map(text)
            .collect();
        assert_eq!(
            names,
            [
                theme_string(lang, "legal_basis.consent.name"),
                theme_string(lang, "legal_basis.legitimate_interests.name")
            ]
        );
        let explained: Vec<&str> = select(&html, "#purposes dl.explained dt")
            .iter()
            .map(|d| d.value().attr("id").unwrap())
            .collect();
        assert_eq!(
            explained,
            ["basis-consent", "basis-legitimate_interests"],
            "{lang}"
        );
        let interests: Vec<String> = select(&html, "#purposes ul li").iter().map(text).collect();
        assert!(
            interests
                .iter()
                .any(|i| i.contains("Offers to our customers")),
            "{lang}: {interests:?}"
        );
    }
    // Without the interest, P004 as for a single basis.
    portal.write(
        "portal.toml",
        &toml.replace("legitimate_interest = \"Offers to our customers\"\n", ""),
    );
    assert!(
        portal
            .build_fails()
            .contains("rests on legitimate interests but does not say which")
    );
}

#[test]
fn a_list_of_legal_bases_is_checked() {
    for (bases, expected) in [
        ("[]", "the list of legal bases is empty"),
        (
            "[\"consent\", \"consent\"]",
            "legal basis `consent` is listed twice",
        ),
        (
            "[\"consent\", \"friendship\"]",
            "unknown value `friendship`, expected one of: consent, contract",
        ),
    ] {
        let portal = Portal::empty();
        portal.write(
            "portal.toml",
            &SILENT.replace(
                "legal_basis = \"contract\"\n",
                &format!("legal_basis = {bases}\n"),
            ),
        );
        let err = portal.build_fails();
        assert!(err.contains(expected), "{bases}: {err}");
    }
}

/// "10y" from the end of the contract, a period the law sets, and one
/// default for every purpose that states none.
#[test]
fn retention_with_a_start_a_law_and_a_portal_wide_default_in_every_language() {
    let toml = SILENT
        .replace(
            "automated_decisions = \"none\"\n",
            "automated_decisions = \"none\"\nretention = { criteria = \"As long as needed\" }\n",
        )
        .replace(
            "retention = { period = \"7y\" }\n",
            "retention = { period = \"10y\", start = \"contract_end\", statutory = \"Art. III.88 WER\" }\n",
        )
        + "\n[[purposes]]\nid = \"other\"\nname = \"Other\"\nlegal_basis = \"contract\"\ndata_categories = [\"contact\"]\n";
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for (lang, ten_years) in [
        ("nl", "10 jaar na het einde van het contract"),
        ("fr", "10 ans après la fin du contrat"),
        ("de", "10 Jahre nach Ende des Vertrags"),
        ("en", "10 years after the end of the contract"),
    ] {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let cell = |id: &str| text(&select(&html, &format!("tr#purpose-{id} td"))[2]);
        let orders = cell("orders");
        assert!(orders.starts_with(ten_years), "{lang}: {orders}");
        assert!(
            orders.ends_with(&format!(
                "{}Art. III.88 WER",
                theme_string(lang, "purposes.statutory")
            )),
            "{lang}: {orders}"
        );
        assert_eq!(cell("other"), "As long as needed", "{lang}");
    }
    // A typo in a built-in start is an error, not printed as it stands.
    portal.write(
        "portal.toml",
        &toml.replace("contract_end", "contract_ends"),
    );
    assert!(
        portal
            .build_fails()
            .contains("unknown retention start `contract_ends`")
    );
}

/// A theme folder's static files are published too: a cookie set there is
/// found like one in the site's own `static/`.
#[test]
fn a_cookie_script_in_the_themes_static_folder_is_found() {
    let portal = Portal::fixture("check/clean");
    portal.write(
        "themes/default/static/track.js",
        "window.addEventListener('load', () => {\n  document.cookie = \"tracker=1\";\n});\n",
    );
    let out = portal.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["sites"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json:#}");
    assert_eq!(findings[0]["code"], "P031");
    assert_eq!(findings[0]["file"], "themes/default/static/track.js");
    assert_eq!(findings[0]["line"], 2);
}

/// The finding codes of `portaal check --format json`, in order.
fn check_codes(portal: &Portal) -> Vec<String> {
    let out = portal.run(&["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The text of each `dt` of `section` on a page, with its `dd`.
fn facts_of(html: &scraper::Html, section: &str) -> Vec<(String, String)> {
    let dts = select(html, &format!("{section} dt"));
    let dds = select(html, &format!("{section} dd"));
    assert_eq!(dts.len(), dds.len(), "{section}: every dt has its dd");
    dts.iter().map(text).zip(dds.iter().map(text)).collect()
}

/// With forms, the statement holds the portal's own processing as a
/// purpose; every form's notice links to it, and the period of a request
/// record is shown only when portal.toml declares it.
#[test]
fn the_forms_own_processing_is_a_purpose_each_form_links_to() {
    let with_forms = SILENT.replace(
        "[statement]",
        "[endpoint]\nurl = \"https://forms.agency.test/submit\"\n\n[statement]",
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &with_forms);
    portal.build();
    for lang in LANGS {
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let facts = facts_of(&privacy, "section#requests");
        let labels: Vec<&str> = facts.iter().map(|(dt, _)| dt.as_str()).collect();
        assert!(
            !labels.contains(&theme_string(lang, "purposes.retention").as_str()),
            "{lang}: a retention nobody declared: {facts:?}"
        );
        assert_eq!(facts[0].1, theme_string(lang, "privacy.requests_purpose"));
        assert!(
            facts[1]
                .1
                .starts_with(&theme_string(lang, "legal_basis.legal_obligation.name")),
            "{lang}: {facts:?}"
        );
        let right = portal.html(&format!("public/{lang}/access/index.html"));
        assert_eq!(select(&right, "form.request-form").len(), 1, "{lang}");
        let links = select(&right, ".form-note a");
        assert_eq!(links.len(), 1, "{lang}: the form's notice has one link");
        let href = links[0].value().attr("href").unwrap();
        let (page, anchor) = href.split_once('#').expect("the link names a section");
        assert_eq!(page, format!("/{lang}/privacy/"));
        assert_eq!(
            select(&privacy, &format!("[id='{anchor}'] h2")).len(),
            1,
            "{lang}: #{anchor} is the section with its heading"
        );
    }
    assert!(check_codes(&portal).contains(&"P044".to_string()));

    // Declared: the period, its start, a named form service and a ticket
    // system as an extra recipient, in every language.
    let declared = with_forms
        .replace(
            "url = \"https://forms.agency.test/submit\"\n",
            "url = \"https://forms.agency.test/submit\"\n\n[endpoint.requests]\nretention = { period = \"3y\", start = \"last_contact\" }\nform_service = \"Webbureau Test BV\"\nrecipients = [\"tickets\"]\ndata_categories = [\"identity\"]\n",
        )
        .replace(
            "[[purposes]]",
            "[[recipients]]\nid = \"tickets\"\nname = \"Ticketdesk BV\"\nkind = \"processor\"\n\n[[purposes]]",
        );
    portal.write("portal.toml", &declared);
    portal.build();
    for lang in LANGS {
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let facts = facts_of(&privacy, "section#requests");
        let retention = facts
            .iter()
            .find(|(dt, _)| *dt == theme_string(lang, "purposes.retention"))
            .unwrap_or_else(|| panic!("{lang}: no retention in {facts:?}"));
        let start = theme_string(lang, "retention_start.last_contact");
        assert!(retention.1.contains(&start), "{lang}: {retention:?}");
        assert!(retention.1.contains('3'), "{lang}: {retention:?}");
        let recipients = &facts.last().unwrap().1;
        assert!(
            recipients.starts_with("Webbureau Test BV"),
            "{lang}: {recipients}"
        );
        assert!(recipients.contains("Ticketdesk BV"), "{lang}: {recipients}");
        let data = &facts[2].1;
        assert!(
            data.contains(&theme_string(lang, "data_category.identity")),
            "{lang}: {data}"
        );
    }
    assert!(!check_codes(&portal).contains(&"P044".to_string()));
}

/// `s` with its white space as [`text`] gives it: French no-break spaces
/// before high punctuation are spaces there.
fn spaced(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The texts of the "good to know" facts on a page.
fn rights_facts(html: &scraper::Html) -> Vec<String> {
    select(html, ".facts li").iter().map(text).collect()
}

/// `[procedure]`: the firm's identity check, its own answer time and an
/// internal complaint step, plus a right's own Markdown, on the right's
/// page and in the statement, in every language; undeclared, none of it.
#[test]
fn the_firms_own_procedure_in_every_language() {
    let portal = Portal::empty();
    portal.write("portal.toml", SILENT);
    portal.build();
    for lang in LANGS {
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let facts = rights_facts(&privacy);
        assert!(
            facts.contains(&theme_string(lang, "rights.identity")),
            "{lang}"
        );
        assert_eq!(facts.len(), 3, "{lang}: {facts:?}");
        assert!(select(&privacy, "#internal-complaint, #rights-own").is_empty());
    }

    let declared = SILENT.replace(
        "[[purposes]]",
        r#"[procedure]
identity_check = { nl = "een kopie van uw identiteitskaart", fr = "une copie de votre carte d'identité", de = "eine Kopie Ihres Personalausweises", en = "a copy of your identity card" }
answer_within = "14d"

[procedure.internal_complaint]
name = "Ann Peeters"
email = "klachten@stil.example"

[[purposes]]"#,
    );
    portal.write("portal.toml", &declared);
    for lang in LANGS {
        portal.write(
            &format!("content/{lang}/erasure.md"),
            &format!("Eigen tekst {lang}: we wissen niet zolang een factuur openstaat.\n"),
        );
    }
    portal.build();
    let copy = [
        ("nl", "een kopie van uw identiteitskaart"),
        ("fr", "une copie de votre carte d'identité"),
        ("de", "eine Kopie Ihres Personalausweises"),
        ("en", "a copy of your identity card"),
    ];
    for (lang, what) in copy {
        let own = format!("Eigen tekst {lang}: we wissen niet zolang een factuur openstaat.");
        for page in ["privacy", "access", "erasure"] {
            let html = portal.html(&format!("public/{lang}/{page}/index.html"));
            let facts = rights_facts(&html);
            let identity =
                spaced(&theme_string(lang, "rights.identity_check").replace("{what}", what));
            assert!(facts.contains(&identity), "{lang} {page}: {facts:?}");
            assert!(!facts.contains(&spaced(&theme_string(lang, "rights.identity"))));
            let answer = facts
                .iter()
                .find(|f| f.contains("14"))
                .unwrap_or_else(|| panic!("{lang} {page}: no answer time in {facts:?}"));
            let prefix = spaced(&theme_string(lang, "rights.answer_within"));
            let prefix = prefix.split("{period}").next().unwrap();
            assert!(answer.starts_with(prefix), "{lang}: {answer}");
        }
        for page in ["privacy", "complaint"] {
            let html = portal.html(&format!("public/{lang}/{page}/index.html"));
            let step = select(&html, "#authority #internal-complaint");
            assert_eq!(step.len(), 1, "{lang} {page}");
            assert!(text(&step[0]).contains("Ann Peeters"));
            let link = select(&html, "#internal-complaint a");
            assert_eq!(
                link[0].value().attr("href"),
                Some("mailto:klachten@stil.example")
            );
        }
        let erasure = main_text(&portal, &format!("public/{lang}/erasure/index.html"));
        assert!(erasure.contains(&own), "{lang}: {erasure}");
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let section: Vec<String> = select(&privacy, "#rights-own").iter().map(text).collect();
        assert_eq!(section.len(), 1, "{lang}");
        assert!(section[0].contains(&own), "{lang}: {section:?}");
        let toc = select(&privacy, "nav.toc a[href='#rights-own']");
        assert_eq!(toc.len(), 1, "{lang}");
    }
}

/// Art. 12(3) allows one month: a firm's own answer time may be shorter,
/// never longer, whatever the month.
#[test]
fn an_answer_time_longer_than_any_month_is_refused() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &SILENT.replace(
            "[[purposes]]",
            "[procedure]\nanswer_within = \"30d\"\n\n[[purposes]]",
        ),
    );
    let err = portal.build_fails();
    let line = line_of(&portal.read("portal.toml"), "answer_within");
    assert!(
        err.contains(&format!("portal.toml:{line}:"))
            && err.contains("answer_within `30d` can exceed the one month")
            && err.contains("28d"),
        "{err}"
    );
}

/// A cookie overview as many firms write it: by category, without names,
/// with a typical duration, next to a tracking pixel; `check` says names
/// are better (P045). The consent-settings link is a real link styled as
/// a button wherever cookie consent is withdrawn.
#[test]
fn cookies_by_category_and_pixels_with_a_settings_button_in_every_language() {
    let toml = SILENT
        .replace(
            "automated_decisions = \"none\"",
            "automated_decisions = \"none\"\ncookie_settings_url = \"https://www.stil.example/cookies\"",
        )
        .replace(
            "[[purposes]]",
            r#"[[cookies]]
provider = "Analytica NV"
category = "analytics"
party = "third"
duration = "2y"
purpose = "Counts visits"

[[cookies]]
name = "Nieuwsbrief-pixel"
kind = "pixel"
provider = "Mailer NV"
category = "marketing"
party = "third"
purpose = "Shows whether a newsletter was opened"

[[purposes]]"#,
        );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/cookies/index.html"));
        let rows: Vec<Vec<String>> = select(&html, "table.cookies tbody tr")
            .iter()
            .map(|tr| {
                tr.select(&scraper::Selector::parse("th, td").unwrap())
                    .map(|c| text(&c))
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), 2, "{lang}: {rows:?}");
        let unnamed = &rows[0];
        assert_eq!(unnamed[0], theme_string(lang, "cookies.unnamed"));
        assert!(
            unnamed[2].ends_with(&theme_string(lang, "cookies.typical")),
            "{lang}: {unnamed:?}"
        );
        let pixel = &rows[1];
        assert!(
            pixel[0].starts_with("Nieuwsbrief-pixel")
                && pixel[0].ends_with(&theme_string(lang, "cookies.pixel")),
            "{lang}: {pixel:?}"
        );
        assert_eq!(pixel[2], theme_string(lang, "cookies.no_duration"));
        let notes: Vec<String> = select(&html, ".cookie-group .note")
            .iter()
            .map(text)
            .collect();
        assert!(notes.contains(&spaced(&theme_string(lang, "cookies.pixel_note"))));
        for page in ["cookies", "withdraw-consent", "privacy"] {
            let html = portal.html(&format!("public/{lang}/{page}/index.html"));
            let buttons = select(
                &html,
                "main a.button-link[href='https://www.stil.example/cookies']",
            );
            assert_eq!(buttons.len(), 1, "{lang} {page}: one settings button");
            assert_eq!(
                text(&buttons[0]),
                theme_string(lang, "cookies.settings_link")
            );
        }
    }
    let codes = check_codes(&portal);
    assert_eq!(
        codes.iter().filter(|c| *c == "P045").count(),
        1,
        "only the entry without a name: {codes:?}"
    );

    // Only a pixel may leave out its duration.
    portal.write("portal.toml", &toml.replace("duration = \"2y\"\n", ""));
    let err = portal.build_fails();
    assert!(err.contains("has no `duration`"), "{err}");
}

/// `cookies = "none"`: the statement's cookie paragraph says so plainly,
/// rather than "which cookies we use is explained on our cookie page".
#[test]
fn the_cookie_paragraph_reads_naturally_when_there_are_none() {
    let portal = Portal::empty();
    portal.write(
        "portal.toml",
        &SILENT.replace(
            "automated_decisions = \"none\"",
            "automated_decisions = \"none\"\ncookies = \"none\"",
        ),
    );
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let para: Vec<String> = select(&html, "section#cookies p")
            .iter()
            .map(text)
            .collect();
        let want = spaced(
            &theme_string(lang, "privacy.cookies_none_body")
                .replace("{link}", &theme_string(lang, "privacy.cookies_link")),
        );
        assert_eq!(para, [want], "{lang}");
    }
}

/// Two non-profits in one statement (Art. 26): each with identity and
/// contact, the essence of their arrangement and who handles requests,
/// in every language; without the arrangement, check asks for it (P046).
#[test]
fn joint_controllers_with_their_arrangement_in_every_language() {
    let toml = SILENT.replace(
        "[[purposes]]",
        r#"[[joint_controllers]]
id = "partner"
legal_name = "Vogelwerkgroep Test vzw"
address = "Dorpsplein 2, 9000 Gent"
email = "info@vogelwerkgroep.example"
responsibilities = { nl = "de ledenlijst", fr = "la liste des membres", de = "die Mitgliederliste", en = "the member list" }
handles_requests = true

[[purposes]]"#,
    );
    let with_arrangement = toml.replace(
        "automated_decisions = \"none\"",
        "automated_decisions = \"none\"\njoint_arrangement = { nl = \"Wij doen de activiteiten, zij de ledenlijst.\", fr = \"Nous organisons les activités, eux la liste.\", de = \"Wir machen die Aktivitäten, sie die Liste.\", en = \"We run the activities, they keep the list.\" }",
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &with_arrangement);
    portal.build();
    let arrangement = [
        ("nl", "Wij doen de activiteiten, zij de ledenlijst."),
        ("fr", "Nous organisons les activités, eux la liste."),
        ("de", "Wir machen die Aktivitäten, sie die Liste."),
        ("en", "We run the activities, they keep the list."),
    ];
    for (lang, essence) in arrangement {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let heading: Vec<String> = select(&html, "#joint-partner").iter().map(text).collect();
        assert_eq!(heading, ["Vogelwerkgroep Test vzw"], "{lang}");
        let facts = facts_of(&html, "#joint-controllers");
        assert!(facts.contains(&(
            theme_string(lang, "controller.address"),
            "Dorpsplein 2, 9000 Gent".to_string()
        )));
        assert!(
            facts.contains(&(
                theme_string(lang, "joint.responsibilities"),
                [
                    "de ledenlijst",
                    "la liste des membres",
                    "die Mitgliederliste",
                    "the member list"
                ][LANGS.iter().position(|l| *l == lang).unwrap()]
                .to_string()
            )),
            "{lang}: {facts:?}"
        );
        let paras: Vec<String> = select(&html, "#joint-controllers > p")
            .iter()
            .map(text)
            .collect();
        assert!(paras.contains(&essence.to_string()), "{lang}: {paras:?}");
        assert!(
            paras.contains(&spaced(&theme_string(lang, "joint.each"))),
            "{lang}"
        );
        let requests = select(&html, "#joint-requests a");
        assert_eq!(
            requests[0].value().attr("href"),
            Some("mailto:info@vogelwerkgroep.example")
        );
        assert_eq!(
            select(&html, "nav.toc a[href='#joint-controllers']").len(),
            1
        );
    }
    assert!(!check_codes(&portal).contains(&"P046".to_string()));
    portal.write("portal.toml", &toml);
    portal.build();
    assert!(check_codes(&portal).contains(&"P046".to_string()));
}

/// Purposes name their audiences, whose data categories are declared once;
/// the provision requirement follows from the basis unless stated; the
/// Art. 9(1) kinds and Art. 10 judicial data are built in, each needing
/// its condition.
#[test]
fn audiences_derived_requirements_and_special_kinds_in_every_language() {
    let toml = SILENT.replace(
        "[[purposes]]\nid = \"orders\"\nname = \"Orders\"\nlegal_basis = \"contract\"\ndata_categories = [\"identity\"]",
        r#"[[audiences]]
id = "customers"
data_categories = ["identity", "contact"]

[[audiences]]
id = "members"
name = { nl = "Leden", fr = "Membres", de = "Mitglieder", en = "Members" }
data_categories = ["trade_union"]

[[purposes]]
id = "hiring"
name = "Hiring"
legal_basis = "legal_obligation"
audiences = ["job_applicants"]
data_categories = ["judicial"]
judicial_data_authority = "Wet van 1 januari 2099"
retention = { period = "1y" }

[[purposes]]
id = "union"
name = "Union"
legal_basis = "consent"
audiences = ["members"]
special_category_condition = "explicit_consent"
retention = { period = "1y" }

[[purposes]]
id = "orders"
name = "Orders"
legal_basis = "contract"
audiences = ["customers", "website_visitors"]
data_categories = ["order"]"#,
    );
    assert!(toml.contains("audiences = [\"customers\""));
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let cell = |id: &str, n: usize| -> String {
            select(&html, &format!("tr#purpose-{id} > *"))
                .get(n)
                .map(text)
                .unwrap_or_default()
        };
        let orders = cell("orders", 0);
        for key in ["audience.customers", "audience.website_visitors"] {
            assert!(
                orders.contains(&theme_string(lang, key)),
                "{lang}: {orders}"
            );
        }
        let data = cell("orders", 2);
        for key in ["order", "identity", "contact"] {
            let word = theme_string(lang, &format!("data_category.{key}"));
            assert!(data.contains(&word), "{lang}: {data} lacks {word}");
        }
        assert!(cell("union", 0).contains(
            ["Leden", "Membres", "Mitglieder", "Members"]
                [LANGS.iter().position(|l| *l == lang).unwrap()]
        ));
        assert!(cell("union", 2).contains(&theme_string(lang, "data_category.trade_union")));
        let hiring = cell("hiring", 1);
        assert!(
            hiring.contains("Wet van 1 januari 2099"),
            "{lang}: {hiring}"
        );
        assert!(hiring.contains(&theme_string(lang, "purposes.judicial_authority")));
        // Derived from the bases: the law requires (hiring), the contract
        // needs (orders), free (union).
        let provision: Vec<String> = select(&html, "#providing li").iter().map(text).collect();
        for (name, key) in [
            ("Hiring", "provision.legal"),
            ("Orders", "provision.contractual"),
            ("Union", "provision.voluntary"),
        ] {
            let want = spaced(&format!(
                "{name}{}{}",
                theme_string(lang, "label_colon"),
                theme_string(lang, key)
            ));
            assert!(
                provision.contains(&want),
                "{lang}: {provision:?} lacks {want}"
            );
        }
    }
    let codes = check_codes(&portal);
    assert!(!codes.contains(&"P013".to_string()), "{codes:?}");
    assert!(!codes.contains(&"P037".to_string()), "{codes:?}");

    // Without their conditions, both kinds are errors.
    portal.write(
        "portal.toml",
        &toml
            .replace("judicial_data_authority = \"Wet van 1 januari 2099\"\n", "")
            .replace("special_category_condition = \"explicit_consent\"\n", ""),
    );
    let codes = check_codes(&portal);
    assert_eq!(
        codes.iter().filter(|c| *c == "P037").count(),
        2,
        "{codes:?}"
    );

    // An audience nobody declared is refused with the built-in list.
    portal.write(
        "portal.toml",
        &toml.replace("[\"customers\", \"website_visitors\"]", "[\"klanten\"]"),
    );
    let err = portal.build_fails();
    assert!(
        err.contains("audience `klanten`") && err.contains("job_applicants"),
        "{err}"
    );
}

/// A firm that says its mail provider works "outside the EEA" without a
/// country: the transfer accepts the region, shown in words.
#[test]
fn a_transfer_may_name_a_region_when_the_firm_gives_no_country() {
    let toml = SILENT.replace(
        "[[purposes]]",
        r#"[[recipients]]
id = "mail"
category = "E-mail"
kind = "processor"
country = "outside_eea"

[[transfers]]
recipient = "mail"
country = "outside_eea"
safeguard = "standard_contractual_clauses"

[[purposes]]"#,
    );
    let portal = Portal::empty();
    portal.write("portal.toml", &toml);
    portal.build();
    for lang in LANGS {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let transfers = main_text(&portal, &format!("public/{lang}/privacy/index.html"));
        let region = theme_string(lang, "region.outside_eea");
        assert!(transfers.contains(&region), "{lang}");
        assert_eq!(select(&html, "section#transfers").len(), 1);
    }
    let codes = check_codes(&portal);
    assert!(
        !codes.iter().any(|c| c == "P049" || c == "P007"),
        "{codes:?}"
    );
}

/// The five kinds of firm of the issue, invented (tests/fixtures/firms):
/// each builds without theme-string overrides, shows what makes it that
/// kind of firm, and `check` reports exactly what it really left out.
#[test]
fn five_fictional_firms_fit_and_check_reports_only_what_they_left_out() {
    let firms: [(&str, &[&str]); 5] = [
        ("federatie", &[]),
        ("bitbaken", &["P038"]),
        ("jeugd-en-sport", &["P044"]),
        ("staalgroep", &[]),
        ("zeker", &["P048"]),
    ];
    for (name, expected) in firms {
        let portal = Portal::fixture(&format!("firms/{name}"));
        assert!(
            !portal.path().join("themes").exists(),
            "{name}: no theme overrides"
        );
        portal.build();
        assert_eq!(check_codes(&portal), *expected, "{name}");
    }

    // The federation: an internal complaints officer, never a required step.
    let portal = Portal::fixture("firms/federatie");
    portal.build();
    for lang in ["nl", "fr"] {
        let html = portal.html(&format!("public/{lang}/complaint/index.html"));
        let step: Vec<String> = select(&html, "#internal-complaint")
            .iter()
            .map(text)
            .collect();
        assert!(step[0].contains("Els Test"), "{lang}: {step:?}");
        assert!(
            step[0].contains(&spaced(&theme_string(lang, "authority.internal_complaint"))[..5])
        );
    }

    // The IT firm: ten and three years, each after its start, and storage
    // in the United States under standard contractual clauses.
    let portal = Portal::fixture("firms/bitbaken");
    portal.build();
    let html = portal.html("public/en/privacy/index.html");
    let retention = |id: &str| {
        select(&html, &format!("tr#purpose-{id} > td"))
            .get(2)
            .map(text)
            .unwrap()
    };
    assert!(retention("invoices").starts_with("10 years after the end of the financial year"));
    assert!(retention("prospects").starts_with("3 years after the last contact"));
    let transfers = select(&html, "section#transfers")
        .iter()
        .map(text)
        .collect::<String>();
    assert!(transfers.contains("United States"), "{transfers}");

    // The two non-profits: both identified, their arrangement, event photos.
    let portal = Portal::fixture("firms/jeugd-en-sport");
    portal.build();
    for lang in ["nl", "fr", "de"] {
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        assert_eq!(select(&html, "#joint-sportclub").len(), 1, "{lang}");
        assert_eq!(select(&html, "#joint-arrangement").len(), 1, "{lang}");
        let photos = select(&html, "tr#purpose-photos td")
            .iter()
            .map(text)
            .collect::<String>();
        assert!(
            photos.contains(&theme_string(lang, "data_category.images")),
            "{lang}"
        );
    }

    // The industrial group: a basis per purpose and the ID-copy check.
    let portal = Portal::fixture("firms/staalgroep");
    portal.build();
    let html = portal.html("public/en/erasure/index.html");
    let facts = rights_facts(&html);
    assert!(
        facts.iter().any(|f| f.ends_with(
            "a copy of your identity card, with your photo and national number masked."
        )),
        "{facts:?}"
    );
    let html = portal.html("public/en/privacy/index.html");
    let bases: Vec<String> = ["customers", "applicants", "cameras"]
        .iter()
        .map(|id| text(&select(&html, &format!("tr#purpose-{id} > td"))[0]))
        .collect();
    assert!(bases[0].starts_with(&theme_string("en", "legal_basis.contract.name")));
    assert!(bases[1].contains(&theme_string("en", "legal_basis.consent.name")));
    assert!(bases[2].starts_with(&theme_string("en", "legal_basis.legitimate_interests.name")));

    // The broker: its brand, and seven named analytics cookies.
    let portal = Portal::fixture("firms/zeker");
    portal.build();
    for lang in ["nl", "fr"] {
        let html = portal.html(&format!("public/{lang}/cookies/index.html"));
        let names: Vec<String> = select(&html, "#cookies-analytics tbody th code")
            .iter()
            .map(text)
            .collect();
        assert_eq!(names.len(), 7, "{lang}: {names:?}");
        let privacy = portal.html(&format!("public/{lang}/privacy/index.html"));
        let facts = facts_of(&privacy, "#controller");
        assert!(facts.contains(&(
            theme_string(lang, "controller.trade_name"),
            "Zeker".to_string()
        )));
    }
}
