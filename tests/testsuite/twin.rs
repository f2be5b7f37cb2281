//! The statement's machine-readable twin: statement.json, valid against
//! the published schema, and its JSON-LD variant in DPV terms, both linked
//! from the statement. Undeclared facts are absent, never "none".

use crate::support::{Portal, repo_root, select};

const LANGS: [&str; 4] = ["nl", "fr", "de", "en"];

fn validator() -> jsonschema::Validator {
    let path = repo_root().join("schema/statement.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn json(portal: &Portal, rel: &str) -> serde_json::Value {
    serde_json::from_str(&portal.read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn statement_json_of_the_example_validates_against_the_schema_in_four_languages() {
    let portal = Portal::example();
    portal.build();
    let v = validator();
    for lang in LANGS {
        let doc = json(&portal, &format!("public/{lang}/privacy/statement.json"));
        assert_valid(&v, &doc, lang);
        assert_eq!(doc["language"], lang);
        assert_eq!(
            doc["url"],
            format!("https://privacy.example.be/{lang}/privacy/")
        );
        // The facts of portal.toml, with keys rather than wording.
        let bookkeeping = doc["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "bookkeeping")
            .expect("bookkeeping purpose");
        assert_eq!(
            bookkeeping["legal_bases"],
            serde_json::json!(["legal_obligation"])
        );
        assert_eq!(bookkeeping["retention"]["period"], "P7Y");
        assert_eq!(bookkeeping["data_categories"][0]["key"], "identity");
        assert_eq!(
            doc["transfers"][0]["safeguard"],
            "standard_contractual_clauses"
        );
        assert_eq!(doc["transfers"][0]["country"], "US");
        assert_eq!(doc["automated_decisions"], "none");

        // Linked from the statement, and only from it.
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let links = select(&html, "head link[rel=alternate][type='application/json']");
        assert_eq!(links.len(), 1, "{lang}");
        assert_eq!(
            links[0].value().attr("href"),
            Some(format!("https://privacy.example.be/{lang}/privacy/statement.json").as_str())
        );
        let ld = select(
            &html,
            "head link[rel=alternate][type='application/ld+json']",
        );
        assert_eq!(
            ld[0].value().attr("href"),
            Some(format!("https://privacy.example.be/{lang}/privacy/statement.jsonld").as_str())
        );
        let cookies = portal.html(&format!("public/{lang}/cookies/index.html"));
        assert!(select(&cookies, "head link[type='application/json']").is_empty());
    }
    assert!(
        !portal.read("public/sitemap.xml").contains("statement.json"),
        "the twins are data, not pages"
    );

    // The validator does reject what the schema rules out: silence written
    // as an empty list, and an unknown basis.
    let mut doc = json(&portal, "public/en/privacy/statement.json");
    doc["recipients"] = serde_json::json!([]);
    assert!(!v.is_valid(&doc));
    let mut doc = json(&portal, "public/en/privacy/statement.json");
    doc["purposes"][0]["legal_bases"] = serde_json::json!(["because"]);
    assert!(!v.is_valid(&doc));
}

#[test]
fn statement_json_leaves_out_what_portal_toml_does_not_declare() {
    let silent = r#"
[site]
id = "stil"
base_url = "https://privacy.stil.example/privacy"
languages = ["nl", "fr", "de", "en"]
default_language = "nl"
title = "Privacy"
policy_version = "1.0"
last_updated = 2026-03-15

[controller]
legal_name = "Stil BV"
email = "privacy@stil.example"

[controller.address]
country = "BE"

[contacts]
requests = "privacy@stil.example"

[[purposes]]
id = "orders"
name = "Orders"
legal_basis = "contract"
data_categories = ["identity", "Receipts"]
retention = { criteria = "While the order is open." }
"#;
    let portal = Portal::empty();
    portal.write("portal.toml", silent);
    portal.build();
    let v = validator();
    for lang in LANGS {
        let doc = json(&portal, &format!("public/{lang}/privacy/statement.json"));
        assert_valid(&v, &doc, lang);
        for key in ["recipients", "transfers", "cookies", "automated_decisions"] {
            assert!(doc.get(key).is_none(), "{lang}: {key} = {}", doc[key]);
        }
        let orders = &doc["purposes"][0];
        assert_eq!(
            orders["retention"],
            serde_json::json!({ "criteria": "While the order is open." }),
            "no period where portal.toml gives none"
        );
        assert!(orders.get("recipients").is_none(), "{orders}");
        assert_eq!(
            orders["data_categories"][1],
            serde_json::json!({ "label": "Receipts" })
        );
        assert_eq!(
            doc["url"],
            format!("https://privacy.stil.example/privacy/{lang}/privacy/")
        );
        let html = portal.html(&format!("public/{lang}/privacy/index.html"));
        let links = select(&html, "head link[type='application/json']");
        assert_eq!(
            links[0].value().attr("href"),
            Some(
                format!("https://privacy.stil.example/privacy/{lang}/privacy/statement.json")
                    .as_str()
            )
        );
    }

    portal.edit(
        "portal.toml",
        "[[purposes]]",
        "[statement]\nrecipients = \"none\"\ntransfers = \"none\"\ncookies = \"none\"\nautomated_decisions = \"none\"\n\n[[purposes]]",
    );
    portal.build();
    for lang in LANGS {
        let doc = json(&portal, &format!("public/{lang}/privacy/statement.json"));
        assert_valid(&v, &doc, lang);
        for key in ["recipients", "transfers", "cookies", "automated_decisions"] {
            assert_eq!(doc[key], "none", "{lang}: {key}");
        }
    }
}

#[test]
fn statement_jsonld_uses_dpv_terms_for_bases_data_retention_and_transfers() {
    let portal = Portal::example();
    portal.build();
    for lang in LANGS {
        let doc = json(&portal, &format!("public/{lang}/privacy/statement.jsonld"));
        assert_eq!(doc["@context"]["dpv"], "https://w3id.org/dpv#");
        assert_eq!(
            doc["@context"]["eu-gdpr"],
            "https://w3id.org/dpv/legal/eu/gdpr#"
        );
        let graph = doc["@graph"].as_array().unwrap();
        let node = |id: &str| {
            graph
                .iter()
                .find(|n| n["@id"] == format!("https://privacy.example.be/{lang}/privacy/#{id}"))
                .unwrap_or_else(|| panic!("{lang}: no node {id}"))
        };
        let bookkeeping = node("purpose-bookkeeping");
        assert_eq!(bookkeeping["@type"], "dpv:Process");
        assert_eq!(
            bookkeeping["dpv:hasLegalBasis"],
            serde_json::json!([{ "@id": "eu-gdpr:A6-1-c" }])
        );
        assert_eq!(
            bookkeeping["dpv:hasStorageCondition"]["dpv:hasDuration"]["rdf:value"]["@value"],
            "P7Y"
        );
        assert_eq!(
            bookkeeping["dpv:hasPersonalData"][0]["@id"],
            "pd:Identifying"
        );
        let newsletter = node("purpose-newsletter");
        assert_eq!(
            newsletter["dpv:hasLegalBasis"],
            serde_json::json!([{ "@id": "eu-gdpr:A6-1-a" }])
        );
        assert_eq!(node("recipient-mailer")["dpv:hasLocation"]["@id"], "loc:US");
        let transfer = graph
            .iter()
            .find(|n| n["dpv:hasProcessing"]["@id"] == "dpv:Transfer")
            .expect("the transfer to the US");
        assert_eq!(transfer["dpv:hasLegalBasis"]["@id"], "eu-gdpr:A46-2-c");
        assert_eq!(
            node("controller")["rdfs:label"],
            "Koffiebranderij Verhaegen BV"
        );
    }
}
