//! `portaal build`: output structure, parsed HTML, errors, atomic output.

use std::collections::BTreeSet;

use crate::support::{Portal, select, text, theme_string};

const STANDARD_PAGES: [&str; 12] = [
    "",
    "privacy/",
    "cookies/",
    "access/",
    "rectification/",
    "erasure/",
    "restriction/",
    "portability/",
    "objection/",
    "withdraw-consent/",
    "complaint/",
    "thanks/",
];

fn html_files(portal: &Portal) -> Vec<String> {
    portal
        .files("public")
        .into_iter()
        .filter(|f| f.ends_with(".html"))
        .collect()
}

#[test]
fn every_page_exists_in_every_language() {
    let portal = Portal::fixture("minimal");
    let out = portal.build();
    let files: BTreeSet<String> = portal.files("public").into_iter().collect();
    for lang in ["nl", "fr"] {
        for page in STANDARD_PAGES.iter().chain(&["over-ons/"]) {
            let f = format!("{lang}/{page}index.html");
            assert!(files.contains(&f), "missing {f}");
        }
    }
    for f in [
        "index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        "style.css",
    ] {
        assert!(files.contains(f), "missing {f}");
    }
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("de/") || f.starts_with("en/"))
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.starts_with("built bakkerij-test: 28 pages in 2 languages"),
        "{summary}"
    );
}

#[test]
fn pages_declare_their_language_and_link_real_translations() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let base = "https://privacy.bakkerij.example/";
    for file in html_files(&portal) {
        let html = portal.html(&format!("public/{file}"));
        let lang = select(&html, "html")[0]
            .value()
            .attr("lang")
            .unwrap_or_default()
            .to_string();
        assert!(
            ["nl", "fr"].contains(&lang.as_str()),
            "{file}: lang={lang:?}"
        );
        if file == "404.html" || file == "index.html" {
            continue;
        }
        assert!(
            file.starts_with(&format!("{lang}/")),
            "{file} has lang {lang}"
        );
        let alternates = select(&html, r#"link[rel="alternate"][hreflang]"#);
        let hreflangs: BTreeSet<&str> = alternates
            .iter()
            .filter_map(|l| l.value().attr("hreflang"))
            .collect();
        assert_eq!(
            hreflangs,
            BTreeSet::from(["nl", "fr", "x-default"]),
            "{file}"
        );
        for link in alternates {
            let href = link.value().attr("href").unwrap();
            let rel = href
                .strip_prefix(base)
                .unwrap_or_else(|| panic!("{file}: {href} not absolute"));
            let target = format!("public/{rel}index.html");
            assert!(
                portal.path().join(&target).is_file(),
                "{file}: alternate {href} has no file"
            );
            if link.value().attr("hreflang") != Some("x-default") {
                // The translation of a page is the same page in another language.
                assert_eq!(
                    &rel[3..],
                    &file[3..file.len() - "index.html".len()],
                    "{file}: {href}"
                );
            }
        }
        let canonical = select(&html, r#"link[rel="canonical"]"#);
        assert_eq!(canonical.len(), 1, "{file}");
        assert_eq!(
            canonical[0].value().attr("href").unwrap(),
            format!("{base}{}", &file[..file.len() - "index.html".len()])
        );
        // The language switcher links each page to its own translation.
        let other = if lang == "nl" { "fr" } else { "nl" };
        let switch = select(&html, &format!(r#"a[hreflang="{other}"]"#));
        assert!(!switch.is_empty(), "{file}: no link to {other}");
        let href = switch[0].value().attr("href").unwrap();
        assert_eq!(
            href,
            format!("/{other}/{}", &file[3..file.len() - "index.html".len()])
        );
    }
}

/// The cookie overview lists every cookie in the table of its category,
/// with its duration in words.
#[test]
fn cookie_tables_group_by_category_with_rendered_durations() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let category = |key: &str| theme_string("nl", &format!("cookie_category.{key}.name"));
    let html = portal.html("public/nl/cookies/index.html");
    let tables = select(&html, "table");
    let find = |cookie: &str| {
        tables
            .iter()
            .find_map(|t| {
                let row = select_in(t, "tr")
                    .into_iter()
                    .find(|r| text(r).contains(cookie))?;
                let caption = select_in(t, "caption")
                    .first()
                    .map(text)
                    .unwrap_or_default();
                Some((caption, text(&row)))
            })
            .unwrap_or_else(|| panic!("cookie {cookie} not in any table"))
    };
    for (cookie, cat, duration) in [
        ("bt_session", "strictly_necessary", None),
        ("_pk_id", "analytics", Some("1 jaar 27 dagen")),
        ("lang", "functional", Some("30 minuten")),
    ] {
        let (caption, row) = find(cookie);
        assert!(
            caption.contains(&category(cat)),
            "{cookie}: caption {caption:?}"
        );
        if let Some(d) = duration {
            assert!(row.contains(d), "{cookie}: row {row:?}");
        }
    }
    let fr = portal.html("public/fr/cookies/index.html");
    assert!(text(&select(&fr, "main")[0]).contains("1 an 27 jours"));
}

fn select_in<'a>(el: &scraper::ElementRef<'a>, css: &str) -> Vec<scraper::ElementRef<'a>> {
    el.select(&scraper::Selector::parse(css).unwrap()).collect()
}

#[test]
fn purposes_table_shows_each_legal_basis() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let basis = |key: &str| theme_string("nl", &format!("legal_basis.{key}.name"));
    let html = portal.html("public/nl/privacy/index.html");
    let rows: Vec<String> = select(&html, "table tr").iter().map(text).collect();
    for (purpose, key) in [
        ("Bestellingen leveren", "contract"),
        ("Fraude voorkomen", "legitimate_interests"),
    ] {
        let row = rows
            .iter()
            .find(|r| r.contains(purpose))
            .unwrap_or_else(|| panic!("no row for {purpose}"));
        assert!(row.contains(&basis(key)), "{purpose}: {row}");
    }
    let main = text(&select(&html, "main")[0]);
    assert!(
        main.contains("Onze winkel beschermen tegen misbruik"),
        "legitimate interest stated"
    );
    assert!(main.contains("Taartvoorkeuren"), "own data category");
    assert!(
        main.contains("Wij bakken brood, geen profielen."),
        "prose rendered"
    );
}

#[test]
fn a_site_template_overrides_the_default_one() {
    let portal = Portal::fixture("minimal");
    portal.write(
        "themes/default/templates/cookies.html",
        "{% extends \"base.html\" %}{% block content %}<p id=\"own\">Eigen koekjes: {{ cookie_groups | length }}</p>{% endblock content %}",
    );
    portal.build();
    let html = portal.html("public/nl/cookies/index.html");
    assert_eq!(text(&select(&html, "#own")[0]), "Eigen koekjes: 3");
    // Other templates still come from the built-in theme.
    assert!(!select(&portal.html("public/nl/privacy/index.html"), "table").is_empty());
}

#[test]
fn output_is_deterministic() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let first: Vec<(String, Vec<u8>)> = portal
        .files("public")
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(portal.path().join("public").join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    portal.build();
    for (f, bytes) in first {
        assert_eq!(
            std::fs::read(portal.path().join("public").join(&f)).unwrap(),
            bytes,
            "{f} changed"
        );
    }
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let before = portal.files("public");
    let page = portal.read("public/nl/privacy/index.html");
    portal.edit(
        "portal.toml",
        "legal_basis = \"contract\"",
        "legal_basis = \"because\"",
    );
    portal.build_fails();
    assert_eq!(portal.files("public"), before);
    assert_eq!(portal.read("public/nl/privacy/index.html"), page);
    let leftovers: Vec<String> = std::fs::read_dir(portal.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_good_build_leaves_no_stale_file() {
    let portal = Portal::fixture("minimal");
    portal.build();
    assert!(portal.path().join("public/nl/over-ons/index.html").exists());
    std::fs::remove_file(portal.path().join("content/nl/over-ons.md")).unwrap();
    std::fs::remove_file(portal.path().join("content/fr/over-ons.md")).unwrap();
    portal.build();
    assert!(!portal.path().join("public/nl/over-ons").exists());
}

#[test]
fn pages_make_no_third_party_request_and_need_no_script() {
    let portal = Portal::fixture("minimal");
    portal.build();
    for file in html_files(&portal) {
        let html = portal.html(&format!("public/{file}"));
        assert!(select(&html, "script").is_empty(), "{file} has a script");
        assert!(select(&html, "iframe").is_empty(), "{file} has an iframe");
        for (css, attr) in [
            ("link[href]", "href"),
            ("img[src]", "src"),
            ("source[src]", "src"),
            ("[style]", "style"),
        ] {
            for el in select(&html, css) {
                let v = el.value().attr(attr).unwrap();
                let rel = el.value().attr("rel").unwrap_or_default();
                // canonical and alternate links name the portal's own URLs; nothing is fetched.
                if matches!(rel, "canonical" | "alternate") {
                    assert!(
                        v.starts_with("https://privacy.bakkerij.example/"),
                        "{file}: {v}"
                    );
                    continue;
                }
                assert!(!v.contains("//"), "{file}: {css} loads {v}");
            }
        }
    }
    let css = portal.read("public/style.css");
    assert!(!css.contains("@import") && !css.contains("url(http") && !css.contains("url(//"));
}

#[test]
fn sitemap_lists_pages_with_alternates() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let xml = portal.read("public/sitemap.xml");
    let doc = scraper::Html::parse_fragment(&xml);
    let locs: Vec<String> = select(&doc, "loc").iter().map(text).collect();
    assert!(locs.contains(&"https://privacy.bakkerij.example/nl/privacy/".to_string()));
    assert!(
        !locs.iter().any(|l| l.contains("/thanks/")),
        "thank-you page is not for search engines"
    );
    assert_eq!(locs.len(), 2 * 12);
    assert!(
        portal
            .read("public/robots.txt")
            .contains("Sitemap: https://privacy.bakkerij.example/sitemap.xml")
    );
}

#[test]
fn base_url_can_be_overridden_with_a_path() {
    let portal = Portal::fixture("minimal");
    let out = portal.run(&["build", "--base-url", "https://staging.example/klant/"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = portal.html("public/nl/privacy/index.html");
    let canonical = select(&html, r#"link[rel="canonical"]"#)[0]
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    assert_eq!(canonical, "https://staging.example/klant/nl/privacy/");
    let cookie_link = select(&html, "main a")
        .into_iter()
        .find(|a| text(a) == "cookieverklaring")
        .unwrap();
    assert_eq!(cookie_link.value().attr("href"), Some("/klant/nl/cookies/"));
}

#[test]
fn several_sites_build_in_one_run() {
    let a = Portal::fixture("minimal");
    let b = Portal::fixture("minimal");
    b.edit(
        "portal.toml",
        "id = \"bakkerij-test\"",
        "id = \"bakkerij-twee\"",
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portaal"))
        .args(["build", "--out"])
        .arg(out_dir.path())
        .arg(a.path())
        .arg(b.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("built bakkerij-test") && stdout.contains("built bakkerij-twee"),
        "{stdout}"
    );
    // One subfolder per site id, not per folder name.
    for id in ["bakkerij-test", "bakkerij-twee"] {
        assert!(
            out_dir
                .path()
                .join(id)
                .join("nl/privacy/index.html")
                .is_file()
        );
    }
}

/// The built-in theme is parsed and compiled once per run and shared by the
/// sites that do not change it: a site that overrides one template and one
/// string gets its own, and the sites built around it keep the built-in one.
#[test]
fn one_run_shares_the_built_in_theme_but_not_a_sites_override() {
    let sites: Vec<Portal> = ["een", "twee", "drie"]
        .iter()
        .map(|n| {
            let p = Portal::fixture("minimal");
            p.edit(
                "portal.toml",
                "id = \"bakkerij-test\"",
                &format!("id = \"bakkerij-{n}\""),
            );
            p
        })
        .collect();
    sites[1].write(
        "themes/default/templates/cookies.html",
        "{% extends \"base.html\" %}{% block content %}<p id=\"own\">Eigen koekjes</p>{% endblock content %}",
    );
    sites[1].write(
        "themes/default/i18n/nl.toml",
        "[right.access]\ntitle = \"Uw gegevens inkijken\"\n",
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portaal"))
        .args(["build", "--out"])
        .arg(out_dir.path())
        .args(sites.iter().map(|s| s.path()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = |id: &str, rel: &str| {
        let path = out_dir.path().join(format!("bakkerij-{id}")).join(rel);
        scraper::Html::parse_document(&std::fs::read_to_string(path).unwrap())
    };
    let builtin_title = theme_string("nl", "right.access.title");
    for id in ["een", "twee", "drie"] {
        let cookies = page(id, "nl/cookies/index.html");
        let access = page(id, "nl/access/index.html");
        let h1 = text(&select(&access, "h1")[0]);
        if id == "twee" {
            assert_eq!(text(&select(&cookies, "#own")[0]), "Eigen koekjes");
            assert_eq!(h1, "Uw gegevens inkijken");
        } else {
            assert!(select(&cookies, "#own").is_empty(), "{id}");
            assert!(!select(&cookies, "main table").is_empty(), "{id}");
            assert_eq!(h1, builtin_title, "{id}");
        }
        // The French pages of every site keep the built-in strings.
        let fr = page(id, "fr/access/index.html");
        assert_eq!(
            text(&select(&fr, "h1")[0]),
            theme_string("fr", "right.access.title"),
            "{id}"
        );
    }
}

#[test]
fn init_creates_a_portal_that_builds() {
    let portal = Portal::empty();
    let out = portal.run(&["init", "klant", "--languages", "fr,nl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = portal.run(&["build", "klant"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = portal.html("klant/public/fr/index.html");
    assert_eq!(select(&html, "html")[0].value().attr("lang"), Some("fr"));
    // A second init into the same, now non-empty, folder is refused.
    let again = portal.run(&["init", "klant"]);
    assert!(!again.status.success());
}

#[test]
fn a_bare_site_renders_standard_texts_without_markdown() {
    let portal = Portal::fixture("minimal");
    std::fs::remove_dir_all(portal.path().join("content")).unwrap();
    portal.build();
    let html = portal.html("public/nl/access/index.html");
    let h1 = select(&html, "h1");
    assert_eq!(h1.len(), 1);
    assert!(!text(&h1[0]).is_empty());
    assert!(
        text(&select(&html, "main")[0]).len() > 200,
        "the standard explanation is there"
    );
}

#[test]
fn an_image_without_alt_text_is_a_warning_with_its_line() {
    let portal = Portal::fixture("minimal");
    portal.write("static/logo.png", "not really a png");
    portal.edit(
        "content/nl/over-ons.md",
        "Een bakkerij sinds 1921.",
        "Een bakkerij sinds 1921.\n\n![](/logo.png)",
    );
    let out = portal.build();
    let stderr = String::from_utf8(out.stderr).unwrap();
    // The first build also says it created the signing key.
    let (_note, stderr) = stderr.split_once('\n').unwrap();
    assert_eq!(
        stderr.trim(),
        "content/nl/over-ons.md:7:1: warning[P028]: image `/logo.png` has no alternative text\n  fix: write `![what the image shows](…)` so screen-reader users get it too"
    );
    assert!(
        portal.path().join("public/logo.png").is_file(),
        "static files are copied"
    );
}

/// Art. 13(2)(e)/(f) and 14(2)(f): what the statement says beyond purposes.
#[test]
fn statement_facts_show_on_the_privacy_page() {
    let portal = Portal::fixture("minimal");
    portal.build();
    let html = portal.html("public/nl/privacy/index.html");
    assert!(
        select(&html, "#automated").is_empty(),
        "not stated, not claimed"
    );

    portal.edit(
        "portal.toml",
        "[endpoint]",
        "[statement]\nautomated_decisions = { nl = \"Een computer kiest je taart.\", fr = \"Un ordinateur choisit votre gâteau.\" }\nprovision_requirement = \"contractual\"\n\n[endpoint]",
    );
    portal.edit(
        "portal.toml",
        "legitimate_interest = { nl",
        "source = { nl = \"Onze bank\", fr = \"Notre banque\" }\nlegitimate_interest = { nl",
    );
    portal.build();
    let html = portal.html("public/nl/privacy/index.html");
    assert_eq!(
        text(&select(&html, "#automated p")[0]),
        "Een computer kiest je taart."
    );
    let providing = text(&select(&html, "#providing")[0]);
    assert!(
        providing.contains("Bestellingen leveren: ")
            && providing.contains(&theme_string("nl", "provision.contractual"))
    );
    let row = text(&select(&html, "#purpose-security")[0]);
    assert!(row.contains("Onze bank"), "{row}");
}

/// Every HTML file of the portal's output, with its bytes.
fn html_bytes(portal: &Portal) -> Vec<(String, Vec<u8>)> {
    html_files(portal)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(portal.path().join("public").join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn a_long_menu_put_together_once_per_language_equals_the_partial_rendered_per_page() {
    // 40 own pages per language: the menu is put together from pieces.
    let portal = Portal::fixture("minimal");
    for i in 0..40 {
        for (lang, title) in [("nl", "Pagina"), ("fr", "Page")] {
            portal.write(
                &format!("content/{lang}/p{i}.md"),
                &format!("+++\ntitle = \"{title} {i} & co\"\n+++\nTekst {i}.\n"),
            );
        }
    }
    portal.build_with_fixed_key();
    let assembled = html_bytes(&portal);

    // The same layout, but including the partial on every page.
    let base = std::fs::read_to_string(
        crate::support::repo_root().join("themes/default/templates/base.html"),
    )
    .unwrap();
    let per_page = base.replace(
        r#"{% if menu %}{{ menu | safe }}{% else %}{% include "partials/nav.html" %}{% endif %}"#,
        r#"{% include "partials/nav.html" %}"#,
    );
    assert_ne!(per_page, base, "the layout prints `menu`");
    portal.write("themes/default/templates/base.html", &per_page);
    portal.build_with_fixed_key();
    let rendered = html_bytes(&portal);

    assert_eq!(assembled.len(), rendered.len());
    for ((path, a), (_, r)) in assembled.iter().zip(&rendered) {
        assert!(
            a == r,
            "{path} differs between the two ways of rendering the menu"
        );
    }
    // And the page's own item is the current one, once.
    let html = portal.html("public/nl/p7/index.html");
    let current = select(&html, ".site-nav a[aria-current=page]");
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].value().attr("href"), Some("/nl/p7/"));
    let links: Vec<String> = select(&html, ".site-nav a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    for i in 0..40 {
        let own = format!("/nl/p{i}/");
        assert_eq!(links.iter().filter(|l| **l == own).count(), 1, "{own}");
    }
}
