//! What `portaal build` says about a broken site: every problem, with file,
//! line and column, in one run. The messages are snapshot-tested.

use crate::support::Portal;

fn errors_of(portal: &Portal) -> String {
    portal.build_fails()
}

#[test]
fn toml_syntax_error() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "policy_version = \"3.0\"",
        "policy_version = \"3.0",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "email = \"privacy@bakkerij.example\"",
        "emial = \"privacy@bakkerij.example\"",
    );
    portal.edit(
        "portal.toml",
        "[endpoint]",
        "[cookie]\nname = 1\n\n[endpoint]",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn wrong_types_and_enum_values_in_several_sections() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "legal_basis = \"contract\"",
        "legal_basis = \"contrakt\"",
    );
    portal.edit(
        "portal.toml",
        "duration = \"1y27d\"",
        "duration = \"1 year\"",
    );
    portal.edit(
        "portal.toml",
        "languages = [\"nl\", \"fr\"]",
        "languages = [\"nl\", \"fr\", \"es\"]",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn semantic_problems_are_all_reported_together() {
    let portal = Portal::fixture("minimal");
    portal
        .edit("portal.toml", "title = { nl = \"Privacy bij Bakkerij Test\", fr = \"Vie privée chez Boulangerie Test\" }", "title = { nl = \"Privacy bij Bakkerij Test\" }")
        .edit("portal.toml", "email = \"privacy@bakkerij.example\"", "email = \"privacy(at)bakkerij.example\"")
        .edit("portal.toml", "0123.456.749", "0123.456.748")
        .edit("portal.toml", "requests = \"info@bakkerij.example\"\n", "")
        .edit("portal.toml", "recipients = [\"hoster\"]", "recipients = [\"hostr\"]")
        .write("content/de/privacy.md", "Datenschutz.\n")
        .edit("content/nl/privacy.md", "(/nl/cookies/)", "(/nl/koekjes/)");
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn bad_front_matter_points_into_the_markdown_file() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "content/fr/privacy.md",
        "title = \"Déclaration de confidentialité\"",
        "titel = \"Déclaration\"\nweight = \"high\"",
    );
    portal.write(
        "content/nl/cookies.md",
        "+++\ntitle = \"Cookies\"\n\nNooit gesloten.\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn a_template_error_names_the_template_line() {
    let portal = Portal::fixture("minimal");
    portal.write("themes/default/templates/page.html", "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nosuchfilter }}\n{% endblock content %}\n");
    portal.write(
        "themes/default/templates/thanks.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{% if %}\n{% endblock content %}\n",
    );
    let err = errors_of(&portal);
    assert!(
        err.contains("themes/default/templates/thanks.html:3:"),
        "{err}"
    );
    insta::assert_snapshot!(err);
}

#[test]
fn a_missing_portal_toml_says_what_to_do() {
    let portal = Portal::empty();
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn a_missing_theme_string_is_reported_per_language() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/i18n/nl.toml",
        "[extra]\nbanner = \"Welkom\"\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn no_panic_on_garbage() {
    let portal = Portal::fixture("minimal");
    for garbage in [
        "",
        "\u{0}\u{1}",
        "[[site]]\n",
        "site = 3",
        "[site]\nid = { a = [1, {b = 2}] }",
        "\u{feff}[site",
    ] {
        portal.write("portal.toml", garbage);
        let out = portal.run(&["build"]);
        assert_eq!(out.status.code(), Some(1), "input {garbage:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("portal.toml"), "{garbage:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
