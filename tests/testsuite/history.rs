//! `portaal release` records the statement's facts as a released version
//! in history/, never in the output, and never overwrites one; `check`
//! warns when the facts changed but the version did not.

use crate::support::Portal;

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
    assert!(!codes(&portal).contains(&"P052".to_string()));

    // Layout and comments are no change of facts.
    portal.edit(
        "portal.toml",
        "[[purposes]]",
        "# A comment the agency added.\n\n[[purposes]]",
    );
    assert!(!codes(&portal).contains(&"P052".to_string()));

    // A longer retention is.
    portal.edit("portal.toml", "period = \"13mo\"", "period = \"25mo\"");
    assert_eq!(
        codes(&portal)
            .iter()
            .filter(|c| c.as_str() == "P052")
            .count(),
        1
    );
    portal.edit(
        "portal.toml",
        "policy_version = \"2.1\"",
        "policy_version = \"2.2\"",
    );
    assert!(
        codes(&portal).contains(&"P052".to_string()),
        "last_updated is still the old version's"
    );
    portal.edit(
        "portal.toml",
        "last_updated = 2026-10-01",
        "last_updated = 2026-11-15",
    );
    assert!(!codes(&portal).contains(&"P052".to_string()));
    assert!(portal.run(&["release"]).status.success());
    assert!(portal.path().join("history/2.2.toml").is_file());
}

#[test]
fn check_reports_a_released_version_it_cannot_read() {
    let portal = Portal::example();
    portal.write("history/2.0.toml", "version = 2\n");
    assert!(codes(&portal).contains(&"P053".to_string()));
}
