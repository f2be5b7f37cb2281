//! `portaal check`: one fixture per finding code, clean portals, the JSON
//! schema of README.md, and bad input.

use std::collections::BTreeSet;

use portaal::diagnostics::Code;
use portaal::diagnostics::Severity;
use serde_json::Value;

use crate::support::{Portal, TODAY, check_cases, fixtures, repo_root};

/// Runs `portaal check --format json` (plus `extra`) on [`TODAY`] and
/// parses stdout.
fn check_json(portal: &Portal, extra: &[&str]) -> (Value, Option<i32>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = portal
        .portaal()
        .args(&args)
        .env("SOURCE_DATE_EPOCH", TODAY)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, out.status.code())
}

fn codes_of(json: &Value) -> Vec<String> {
    json["sites"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Every case of tests/fixtures/check/cases.toml draws exactly its code,
/// at its place, with its severity and exit status; every code has a case.
#[test]
fn every_code_has_a_case_that_triggers_exactly_it() {
    let cases = check_cases::cases();
    let known: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    for code in cases.keys() {
        assert!(
            known.contains(code.as_str()),
            "cases.toml: unknown code {code}"
        );
    }
    // Every case runs, and all that fail are reported together.
    let mut failures = Vec::new();
    for &code in Code::ALL {
        let case = cases.get(code.as_str()).unwrap_or_else(|| {
            panic!(
                "no case {} in tests/fixtures/check/cases.toml",
                code.as_str()
            )
        });
        let portal = Portal::empty();
        case.write_to(portal.path());
        let extra: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let (json, status) = check_json(&portal, &extra);
        let findings = json["sites"][0]["findings"].as_array().unwrap();
        let found: BTreeSet<String> = codes_of(&json).into_iter().collect();
        if found != BTreeSet::from([code.as_str().to_string()]) {
            failures.push(format!("case {} draws {found:?}:\n{json:#}", code.as_str()));
            continue;
        }
        let places: BTreeSet<String> = findings
            .iter()
            .map(|f| match (f["line"].as_u64(), f["column"].as_u64()) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", f["file"].as_str().unwrap()),
                _ => f["file"].as_str().unwrap().to_string(),
            })
            .collect();
        if places != BTreeSet::from([case.finding.clone()]) {
            failures.push(format!(
                "case {}: finding at {places:?}, not at {:?}",
                code.as_str(),
                case.finding
            ));
        }
        let severities: BTreeSet<&str> = findings
            .iter()
            .map(|f| f["severity"].as_str().unwrap())
            .collect();
        let expected = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        assert_eq!(severities, BTreeSet::from([expected]), "{}", code.as_str());
        let want_status = if code.severity() == Severity::Error {
            1
        } else {
            0
        };
        assert_eq!(
            status,
            Some(want_status),
            "exit status of {}",
            code.as_str()
        );
        if code.severity() == Severity::Warning {
            let mut args = vec!["check", "--deny-warnings"];
            args.extend_from_slice(&extra);
            assert_eq!(
                portal.run(&args).status.code(),
                Some(1),
                "{} denied",
                code.as_str()
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_clean_fixture_checks_clean_and_writes_nothing() {
    let portal = Portal::fixture("check/clean");
    let out = portal.run(&["check", "--deny-warnings"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout, ". (bakkerij-check): ok, no findings\n\n");
    assert!(out.stderr.is_empty());
    assert!(!portal.path().join("public").exists());
}

#[test]
fn the_example_portal_checks_clean() {
    let portal = Portal::example();
    let (json, status) = check_json(&portal, &["--deny-warnings"]);
    assert_eq!(status, Some(0), "{json:#}");
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 0);
}

#[test]
fn init_output_checks_clean() {
    let portal = Portal::empty();
    for (dir, langs) in [("a", "nl,fr,de,en"), ("b", "fr"), ("c", "en,de")] {
        let out = portal.run(&["init", dir, "--languages", langs]);
        assert!(out.status.success());
    }
    let (json, status) = check_json(&portal, &["a", "b", "c"]);
    assert_eq!(status, Some(0), "{json:#}");
    assert_eq!(json["errors"], 0, "{json:#}");
    let sites = json["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 3);
    // All that is left to do: the agency's endpoint, which init cannot
    // know, and the firm's own facts in place of init's samples.
    for site in sites {
        let codes: Vec<&str> = site["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["P043", "P050"], "{site:#}");
    }
}

/// The schema documented in README.md, "JSON output".
#[test]
fn json_output_follows_the_documented_schema() {
    let portal = Portal::check_case("P004");
    let (json, _) = check_json(&portal, &[]);
    let top = json.as_object().unwrap();
    assert_eq!(
        top.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["schema", "errors", "warnings", "sites"])
    );
    assert_eq!(json["schema"], 1);
    assert!(json["errors"].is_u64() && json["warnings"].is_u64());
    let site = &json["sites"][0];
    assert_eq!(
        site.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["dir", "id", "errors", "warnings", "findings"])
    );
    assert_eq!(site["dir"], ".");
    assert_eq!(site["id"], "bakkerij-check");
    let f = &site["findings"][0];
    assert_eq!(
        f.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "code", "severity", "title", "file", "line", "column", "message", "fix"
        ])
    );
    assert_eq!(f["code"], "P004");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "portal.toml");
    assert!(f["line"].as_u64().unwrap() > 1);
    assert!(f["column"].as_u64().unwrap() >= 1);
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("legitimate interests")
    );
    assert!(f["message"].as_str().unwrap().contains("newsletter"));
    assert!(f["fix"].is_string());

    // A finding with no place in the file has null line and column; a
    // site whose portal.toml is unreadable has a null id.
    let missing = Portal::check_case("P012");
    let (json, _) = check_json(&missing, &[]);
    let f = &json["sites"][0]["findings"][0];
    assert!(f["line"].is_null() && f["column"].is_null());
    let empty = Portal::empty();
    let (json, status) = check_json(&empty, &[]);
    assert_eq!(status, Some(1));
    assert!(json["sites"][0]["id"].is_null());
    assert_eq!(json["sites"][0]["findings"][0]["code"], "P000");
}

#[test]
fn human_output_is_grouped_by_site_with_places_and_fixes() {
    let portal = Portal::empty();
    check_cases::case_of("P004").write_to(&portal.path().join("one"));
    crate::support::copy_dir(&fixtures().join("check/clean"), &portal.path().join("two"));
    let out = portal.run(&["check", "one", "two"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "one (bakkerij-check)");
    assert!(
        lines[1].starts_with("  error[P004] one/portal.toml:"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("      fix: add `legitimate_interest"));
    assert_eq!(lines[3], "  1 error, 0 warnings");
    assert!(stdout.contains("two (bakkerij-check): ok, no findings"));
    assert!(stdout.ends_with("2 sites checked: 1 error, 0 warnings\n"));
}

#[test]
fn bad_input_gets_a_clear_answer() {
    let portal = Portal::empty();
    portal.write("binary/portal.toml", "\u{0}\u{1}[[[\n= = =\n");
    std::fs::write(portal.path().join("latin1.toml"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::create_dir_all(portal.path().join("latin1")).unwrap();
    std::fs::copy(
        portal.path().join("latin1.toml"),
        portal.path().join("latin1/portal.toml"),
    )
    .unwrap();
    for dir in ["binary", "latin1", "missing"] {
        let out = portal.run(&["check", dir]);
        assert_eq!(out.status.code(), Some(1), "{dir}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("error[P000]"), "{dir}: {stdout}");
        assert!(out.stderr.is_empty(), "{dir}: no panic");
    }
    portal.write("notes.csv", "a,b\n1,2\n");
    crate::support::copy_dir(&fixtures().join("check/clean"), &portal.path().join("ok"));
    let out = portal.run(&["check", "ok", "--cookie-db", "notes.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("Open Cookie Database"), "{stderr}");
}

#[test]
fn an_authority_preset_fills_the_built_pages_in_each_language() {
    let portal = Portal::fixture("check/clean");
    portal.build();
    assert!(
        portal
            .read("public/nl/complaint/index.html")
            .contains("Gegevensbeschermingsautoriteit")
    );
    assert!(
        portal
            .read("public/fr/complaint/index.html")
            .contains("Autorité de protection des données")
    );
}

/// A private firm in Germany answers to its Land's authority (§ 40 BDSG):
/// the federal preset draws P035, the Land preset checks clean and fills
/// the pages with the Land authority in each language.
#[test]
fn a_german_firm_gets_its_land_authority() {
    let portal = Portal::fixture("check/clean");
    portal
        .edit("portal.toml", "enterprise_number = \"0123.456.749\"\n", "")
        .edit("portal.toml", "country = \"BE\"", "country = \"DE\"")
        .edit("portal.toml", "preset = \"BE\"", "preset = \"DE\"");
    let (json, status) = check_json(&portal, &[]);
    assert_eq!(codes_of(&json), ["P035"], "{json:#}");
    assert_eq!(status, Some(0), "a warning");
    let message = json["sites"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("Land"), "{message}");

    portal.edit("portal.toml", "preset = \"DE\"", "preset = \"DE-BY\"");
    let (json, _) = check_json(&portal, &[]);
    assert!(codes_of(&json).is_empty(), "{json:#}");
    portal.build();
    let nl = portal.read("public/nl/complaint/index.html");
    assert!(nl.contains("Bayerisches Landesamt für Datenschutzaufsicht (BayLDA)"));
    assert!(nl.contains("toezichthouder voor gegevensbescherming in Beieren"));
    assert!(nl.contains("Promenade 18, 91522 Ansbach, Duitsland"));
    assert!(nl.contains("https://www.lda.bayern.de"));
}

/// A preset of another country than the firm's is worth a second look.
#[test]
fn a_preset_of_another_country_is_a_warning() {
    let portal = Portal::fixture("check/clean");
    portal.edit("portal.toml", "preset = \"BE\"", "preset = \"de-nw\"");
    let (json, _) = check_json(&portal, &[]);
    assert_eq!(codes_of(&json), ["P035"], "{json:#}");
    let message = json["sites"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`DE-NW`") && message.contains("`BE`"),
        "{message}"
    );
}

/// The direct-marketing notice and the objection note are standard texts
/// the statement relies on once a purpose needs them (Art. 21(4)).
#[test]
fn blanking_the_right_to_object_texts_is_p020() {
    let portal = Portal::example();
    portal.write(
        "themes/default/i18n/en.toml",
        "[purposes]\ndirect_marketing_note = \"\"\nobject_note = \" \"\n",
    );
    let (json, status) = check_json(&portal, &[]);
    assert_eq!(codes_of(&json), ["P020"], "{json:#}");
    assert_eq!(status, Some(1));
    let message = json["sites"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("purposes.direct_marketing_note")
            && message.contains("purposes.object_note"),
        "{message}"
    );
}

/// The US adequacy decision covers only Data Privacy Framework members.
#[test]
fn us_adequacy_needs_dpf_certification() {
    let portal = Portal::check_case("P008");
    let toml = portal.read("portal.toml");
    portal.write(
        "portal.toml",
        &toml.replace("country = \"IN\"", "country = \"US\""),
    );
    let (json, _) = check_json(&portal, &[]);
    assert!(codes_of(&json).contains(&"P008".to_string()), "{json:#}");
    portal.edit(
        "portal.toml",
        "safeguard = \"adequacy_decision\"",
        "safeguard = \"adequacy_decision\"\ndpf_certified = true",
    );
    let (json, _) = check_json(&portal, &[]);
    assert!(!codes_of(&json).contains(&"P008".to_string()), "{json:#}");
}

/// Health data name their Art. 9(2) exception, which the statement shows
/// next to the legal basis, cited as each language does.
#[test]
fn special_category_data_show_their_exception() {
    let portal = Portal::check_case("P037");
    portal.edit(
        "portal.toml",
        "legal_basis = \"contract\"\n",
        "legal_basis = \"contract\"\nspecial_category_condition = \"health_care\"\n",
    );
    let (json, _) = check_json(&portal, &[]);
    assert!(codes_of(&json).is_empty(), "{json:#}");
    portal.build();
    let nl = portal.read("public/nl/privacy/index.html");
    assert!(nl.contains("Preventieve of arbeidsgeneeskunde"), "{nl}");
    assert!(nl.contains("Artikel 9, lid 2, onder h, AVG"));
    let fr = portal.read("public/fr/privacy/index.html");
    assert!(fr.contains("Article 9, paragraphe 2, point h), du RGPD"));
}

/// README.md's tables of finding codes are the enum's list: every code
/// once, with its severity and summary (capitalised), and no other code.
#[test]
fn readme_tables_of_codes_match_the_enum() {
    let docs = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let rows: Vec<(String, String, String)> = docs
        .lines()
        .filter(|l| l.starts_with("| P0"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").map(|c| c.trim_matches('|').trim()).collect();
            (cells[0].into(), cells[1].into(), cells[2].into())
        })
        .collect();
    let expected: Vec<(String, String, String)> = Code::ALL
        .iter()
        .map(|c| {
            let severity = format!("{:?}", c.severity()).to_lowercase();
            let (first, rest) = c.summary().split_at(1);
            let summary = first.to_uppercase() + rest;
            (c.to_string(), severity, summary)
        })
        .collect();
    let sorted = |mut v: Vec<(String, String, String)>| {
        v.sort();
        v
    };
    assert_eq!(sorted(rows), sorted(expected), "README.md's code tables");
}

#[test]
fn the_open_cookie_database_suggests_entries_for_undeclared_cookies() {
    let portal = Portal::check_case("P032");
    portal.write(
        "ocd.csv",
        "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n\
         1,YouTube,Marketing,YSC,youtube.com,\"Tracks views, \"\"embedded\"\"\",session,Google,https://policies.google.com/privacy,0\n",
    );
    let (json, status) = check_json(&portal, &["--cookie-db", "ocd.csv"]);
    assert_eq!(status, Some(1));
    let f = &json["sites"][0]["findings"][0];
    assert_eq!(f["code"], "P032");
    assert!(f["message"].as_str().unwrap().contains("YouTube"));
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("Open Cookie Database (Apache-2.0)"), "{fix}");
    assert!(fix.contains("name = \"YSC\""), "{fix}");
    assert!(fix.contains("category = \"marketing\""), "{fix}");
}

/// `check` writes nothing, not even the signing key a build would create.
#[test]
fn check_writes_no_file() {
    let portal = crate::support::Portal::fixture("minimal");
    let before = portal.files(".");
    let out = portal.run(&["check"]);
    assert!(out.status.code().is_some_and(|c| c <= 1));
    assert_eq!(portal.files("."), before);
}

/// `$SOURCE_DATE_EPOCH` fixes the day check judges the policy date on:
/// the clean fixture (dated 2026-03-15) is fine a day later, two years old
/// in 2028 (P041), and lies in the future the month before (P018).
#[test]
fn check_judges_the_policy_date_on_source_date_epoch() {
    let portal = Portal::fixture("check/clean");
    let codes_on = |epoch: &str| -> Vec<String> {
        let out = portal
            .portaal()
            .args(["check", "--format", "json"])
            .env("SOURCE_DATE_EPOCH", epoch)
            .output()
            .unwrap();
        codes_of(&serde_json::from_slice(&out.stdout).unwrap())
    };
    assert!(codes_on("1773662400").is_empty()); // 2026-03-16
    assert_eq!(codes_on("1836820800"), ["P041"]); // 2028-03-16
    assert_eq!(codes_on("1772366400"), ["P018"]); // 2026-03-01
    let bad = portal
        .portaal()
        .arg("check")
        .env("SOURCE_DATE_EPOCH", "soon")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SOURCE_DATE_EPOCH"));
}
