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

/// A theme override with nested loops (10^10 iterations) must not hang
/// `build` or `check`: the page fails at the loop, with its position.
#[test]
fn template_infinite_loop_fails_with_position() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "policy_version = \"3.0\"",
        "policy_version = \"3.0\"\nrender_budget_ms = 200",
    );
    portal.write(
        "themes/default/templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}\n{% endblock content %}\n",
    );
    let start = std::time::Instant::now();
    let err = errors_of(&portal);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    insta::assert_snapshot!(err);

    let start = std::time::Instant::now();
    let out = portal.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("templates/page.html") && stdout.contains("render budget"),
        "{stdout}"
    );
}

/// A loop that neither writes nor calls `range()` cannot be interrupted
/// inside tera: the page is abandoned after its budget, and the build
/// still ends, naming the template.
#[test]
fn template_silent_infinite_loop_is_abandoned_after_its_budget() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "policy_version = \"3.0\"",
        "policy_version = \"3.0\"\nrender_budget_ms = 200",
    );
    portal.write(
        "themes/default/templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{% set r = range(end=100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}\n{% endblock content %}\n",
    );
    let start = std::time::Instant::now();
    let err = errors_of(&portal);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        err.starts_with("themes/default/templates/page.html: error: rendering `")
            && err.contains("took longer than the render budget of 200 ms"),
        "{err}"
    );
}

#[test]
fn render_budget_out_of_bounds_is_an_error() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "policy_version = \"3.0\"",
        "policy_version = \"3.0\"\nrender_budget_ms = 0",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

/// Unknown filters, functions, tests and templates and a block outside its
/// parent used to print against the folder `themes` with tera's multi-line
/// dump; now each is one line at its template, line and column, all in one
/// run, together with another template's syntax error.
#[test]
fn tera_errors_point_at_the_template_line() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nosuchfilter }}\n{{ nosuchfunction() }}\n{% if page is nosuchtest %}{% endif %}\n{% include \"partials/nosuch.html\" %}\n{% endblock content %}\n{% block nosuchblock %}{% endblock nosuchblock %}\n",
    );
    portal.write(
        "themes/default/templates/thanks.html",
        "{% extends \"base.html\" %}\n{% block content %}\n{% if %}\n{% endblock content %}\n",
    );
    let err = errors_of(&portal);
    assert!(!err.contains("-->"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn circular_extends_points_at_the_template() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/templates/page.html",
        "{# a loop #}\n{% extends \"page.html\" %}\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn circular_include_points_at_the_include() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/templates/partials/a.html",
        "a\n{% include \"partials/b.html\" %}\n",
    );
    portal.write(
        "themes/default/templates/partials/b.html",
        "b\n\n{% include \"partials/a.html\" %}\n",
    );
    portal.write(
        "themes/default/templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}{% include \"partials/a.html\" %}{% endblock content %}\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn a_missing_parent_template_points_at_extends() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/templates/page.html",
        "\n{% extends \"bsae.html\" %}\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}
