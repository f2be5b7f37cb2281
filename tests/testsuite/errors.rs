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

/// Seven typical, independent mistakes in portal.toml (and a front matter
/// typo) used to take three runs to see; now one run shows them all, and
/// the front matter typo raises no "page not in this language" or "needs a
/// title" for the same file.
#[test]
fn seven_mistakes_in_portal_toml_are_reported_in_one_run() {
    let portal = Portal::fixture("seven-mistakes");
    let err = errors_of(&portal);
    assert!(!err.contains("not in `fr`"), "{err}");
    assert!(!err.contains("need a title"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn ids_that_cannot_be_html_ids_are_errors() {
    let portal = Portal::fixture("minimal");
    portal
        .edit("portal.toml", "id = \"orders\"", "id = \"\"")
        .edit(
            "portal.toml",
            "id = \"security\"",
            "id = \"fraude voorkomen\"",
        )
        .edit("portal.toml", "id = \"hoster\"", "id = \"hébergeur\"")
        .edit(
            "portal.toml",
            "recipients = [\"hoster\"]",
            "recipients = [\"hébergeur\"]",
        );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn base_url_with_credentials_query_or_fragment_is_an_error() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "base_url = \"https://privacy.bakkerij.example\"",
        "base_url = \"https://agency:s3cret@privacy.bakkerij.example\"",
    );
    let err = errors_of(&portal);
    insta::assert_snapshot!(err);

    let portal = Portal::fixture("minimal");
    for url in [
        "https://privacy.bakkerij.example/?utm=x",
        "https://privacy.bakkerij.example/#top",
    ] {
        portal.write(
            "portal.toml",
            &portal.read("portal.toml").replacen(
                "base_url = \"https://privacy.bakkerij.example\"",
                &format!("base_url = \"{url}\""),
                1,
            ),
        );
        let err = errors_of(&portal);
        assert!(
            err.starts_with("portal.toml:3:12: error[P023]: base_url `"),
            "{err}"
        );
        portal.write(
            "portal.toml",
            &portal
                .read("portal.toml")
                .replacen(url, "https://privacy.bakkerij.example", 1),
        );
    }

    let out = portal.run(&["build", "--base-url", "https://user:pw@staging.example/"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "--base-url: error: `https://user:pw@staging.example/` holds a user name or password"
        ),
        "{stderr}"
    );
}

#[test]
fn form_max_length_is_bounded() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "forms/access.toml",
        "id = \"access\"\nright = \"access\"\nroute = \"requests\"\nmax_age_days = -3\n\n[[fields]]\nname = \"name\"\nkind = \"text\"\nmax_length = 18446744073709551615\nlabel = \"Naam\"\n",
    );
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn garbage_or_future_source_date_epoch_is_an_error() {
    let portal = Portal::fixture("minimal");
    for (value, expected) in [
        (
            "yesterday",
            "$SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH is `yesterday`, which is not a whole number",
        ),
        (
            "99999999999",
            "$SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH is `99999999999`, which lies in the future",
        ),
    ] {
        let out = portal
            .portaal()
            .env("SOURCE_DATE_EPOCH", value)
            .arg("build")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(expected), "{stderr}");
    }
    let out = portal
        .portaal()
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .arg("build")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn static_file_colliding_with_a_page_is_an_error() {
    let portal = Portal::fixture("minimal");
    portal
        .write("static/nl/privacy/index.html", "<p>mine</p>")
        .write("static/sitemap.xml", "<urlset/>")
        .write("static/logo.svg", "<svg/>");
    insta::assert_snapshot!(errors_of(&portal));
}

#[test]
fn invalid_utf8_names_the_file_and_byte() {
    let portal = Portal::fixture("minimal");
    let write_bytes = |rel: &str, bytes: &[u8]| {
        let path = portal.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write_bytes(
        "content/nl/privacy.md",
        b"+++\ntitle = \"Privacy\"\n+++\nCaf\xe9 Test\n",
    );
    write_bytes("forms/access.toml", b"id = \"access\"\n# \xff\n");
    write_bytes(
        "themes/default/i18n/fr.toml",
        b"[extra]\nbanner = \"\xc3\"\n",
    );
    insta::assert_snapshot!(errors_of(&portal));

    let mut text = portal.read("portal.toml").into_bytes();
    text.extend_from_slice(b"\n# caf\xe9\n");
    write_bytes("portal.toml", &text);
    let err = errors_of(&portal);
    assert!(
        err.starts_with("portal.toml:93:6: error: not valid UTF-8: byte "),
        "{err}"
    );
}

/// `portaal build s` without s/portal.toml named `s/s/portal.toml`.
#[test]
fn a_missing_portal_toml_is_named_once() {
    let portal = Portal::empty();
    std::fs::create_dir(portal.path().join("s")).unwrap();
    let out = portal.run(&["build", "s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("s/portal.toml: error: cannot read"),
        "{stderr}"
    );
}
