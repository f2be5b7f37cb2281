//! Request forms in the build: rendered, signed, overridable, checked; and
//! the signing key kept out of the output.

use crate::support::{Portal, select};

const RIGHTS: [&str; 8] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "withdraw-consent",
    "complaint",
];

fn secrets(portal: &Portal) -> Vec<String> {
    portal
        .read(".portaal/signing.keys")
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(':'))
        .map(|l| l.split_once(':').unwrap().1.trim().to_string())
        .collect()
}

#[test]
fn every_rights_page_carries_its_signed_form_in_every_language() {
    let portal = Portal::fixture("endpoint-site");
    portal.build();
    for lang in ["nl", "fr", "de", "en"] {
        for right in RIGHTS {
            let html = portal.html(&format!("public/{lang}/{right}/index.html"));
            let forms = select(&html, "form.request-form");
            assert_eq!(forms.len(), 1, "{lang}/{right}");
            assert_eq!(
                forms[0].value().attr("action"),
                Some("https://forms.agency.test/submit")
            );
            let value = |name: &str| {
                select(&html, &format!("input[type=hidden][name={name}]"))
                    .first()
                    .and_then(|e| e.value().attr("value"))
                    .map(str::to_string)
            };
            assert_eq!(value("_lang").as_deref(), Some(lang));
            assert_eq!(value("_form").as_deref(), Some(right));
            assert_eq!(value("_site").as_deref(), Some("acme"));
            assert_eq!(value("_sig").map(|s| s.len()), Some(64));
            for input in select(&html, "form input[required], form textarea[required]") {
                let id = input.value().attr("id").unwrap();
                assert_eq!(select(&html, &format!("label[for=\"{id}\"]")).len(), 1);
            }
        }
    }
}

/// The first build creates the secret the endpoint must share, and says
/// so once: where it is, and that it stays out of public/.
#[test]
fn the_first_build_says_it_created_the_signing_key() {
    let portal = Portal::fixture("minimal");
    let said = String::from_utf8(portal.build().stderr).unwrap();
    let notes: Vec<&str> = said.lines().filter(|l| l.contains("signing key")).collect();
    assert_eq!(notes.len(), 1, "{said}");
    assert!(notes[0].contains(".portaal/signing.keys"), "{said}");
    assert!(
        notes[0].contains("secret") && notes[0].contains("public/"),
        "{said}"
    );
    let again = String::from_utf8(portal.build().stderr).unwrap();
    assert!(!again.contains("signing key"), "{again}");
}

#[test]
fn the_signing_key_never_lands_in_public() {
    let portal = Portal::fixture("minimal");
    assert!(!portal.path().join(".portaal").exists());
    portal.build();
    // The build made a key beside the output, owner-only.
    let keys = secrets(&portal);
    assert_eq!(keys.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(portal.path().join(".portaal/signing.keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the key");
    }
    let files = portal.files("public");
    assert!(files.iter().any(|f| f.ends_with("access/index.html")));
    for f in &files {
        assert!(!f.contains("portaal/") && !f.contains("signing"), "{f}");
        let bytes = std::fs::read(portal.path().join("public").join(f)).unwrap();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for k in &keys {
            assert!(!text.contains(k.as_str()), "{f} holds the key");
        }
    }
    // A key from the environment is not written anywhere either.
    let env_secret = "5e".repeat(32);
    let out = portal
        .portaal()
        .env("PORTAAL_SIGNING_KEYS", format!("env1:{env_secret}"))
        .args(["build"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = portal.read("public/fr/access/index.html");
    assert!(html.contains("value=\"env1\""));
    for f in portal.files("public") {
        let text =
            String::from_utf8_lossy(&std::fs::read(portal.path().join("public").join(&f)).unwrap())
                .to_lowercase();
        assert!(!text.contains(&env_secret), "{f} holds the key");
    }
}

#[test]
fn init_creates_a_key_and_rotation_keeps_the_old_one() {
    let tmp = Portal::empty();
    let out = tmp.run(&["init", "acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = tmp.path().join("acme");
    let first = std::fs::read_to_string(site.join(".portaal/signing.keys")).unwrap();
    assert!(
        std::fs::read_to_string(site.join(".gitignore"))
            .unwrap()
            .contains("/.portaal/")
    );
    let out = tmp.run(&["init", "--key-only", "acme"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rotated = std::fs::read_to_string(site.join(".portaal/signing.keys")).unwrap();
    let key_lines = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (old, new) = (key_lines(&first), key_lines(&rotated));
    assert_eq!(new.len(), 2);
    assert_eq!(new[1], old[0], "the old key stays, second");
    assert_ne!(new[0], old[0]);
}

#[test]
fn a_site_form_overrides_the_built_in_one() {
    let portal = Portal::fixture("endpoint-site");
    portal.write(
        "forms/access.toml",
        r#"id = "access"
right = "access"
route = "requests"
[[fields]]
name = "customer_number"
kind = "text"
required = true
label = { nl = "Klantnummer", fr = "Numéro de client", de = "Kundennummer", en = "Customer number" }
[[fields]]
name = "email"
kind = "email"
required = true
label = { nl = "E-mail", fr = "E-mail", de = "E-Mail", en = "E-mail" }
"#,
    );
    portal.build();
    let html = portal.html("public/fr/access/index.html");
    let labels: Vec<String> = select(&html, "form label")
        .iter()
        .map(crate::support::text)
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("Numéro de client")),
        "{labels:?}"
    );
    assert!(select(&html, "textarea[name=details]").is_empty());
}

#[test]
fn form_mistakes_are_build_errors_with_file_and_line() {
    let portal = Portal::fixture("endpoint-site");
    portal.write(
        "forms/callback.toml",
        "id = \"callback\"\nright = \"access\"\nroute = \"sales\"\n[[fields]]\nname = \"a\"\nkind = \"text\"\nlabel = \"A\"\n",
    );
    portal.write(
        "forms/survey.toml",
        "id = \"survey\"\nright = \"objection\"\nroute = \"requests\"\n[[fields]]\nname = \"a\"\nkind = \"slider\"\nlabel = \"A\"\n",
    );
    portal.write(
        "forms/short.toml",
        "id = \"short\"\nright = \"erasure\"\nroute = \"requests\"\n[[fields]]\nname = \"a\"\nkind = \"text\"\nlabel = { nl = \"A\", fr = \"A\" }\n",
    );
    let err = portal.build_fails();
    assert!(err.contains("forms/callback.toml:3:"), "{err}");
    assert!(err.contains("sales"), "{err}");
    assert!(err.contains("forms/survey.toml:6:"), "{err}");
    assert!(err.contains("forms/short.toml:7:"), "{err}");
    assert!(err.contains("de, en"), "{err}");
}
