//! What the endpoint's two mails say, sent through a real SMTP server on
//! loopback: the ticket in the firm's language, the acknowledgement in the
//! requester's, and a site's theme overriding their wording.

use portaal::endpoint::ticket;
use portaal::vocab::lang::Lang;

use crate::endpoint::{Harness, Post, reference_of};
use crate::support::Portal;
use crate::support::smtp::{Mode, SmtpServer};

/// The date the endpoint names as due for a request received now, in
/// words in `lang` (counted in Brussels, the fixture's time zone).
fn due_now(lang: Lang) -> (String, String) {
    let tz = ticket::time_zone("Europe/Brussels").unwrap();
    let d = ticket::deadlines(ticket::day_in(ticket::now_secs(), &tz));
    (
        ticket::date_in_words(d.due, lang),
        ticket::date_in_words(d.extended, lang),
    )
}

#[test]
fn a_dutch_site_sends_a_dutch_ticket_for_an_english_requester() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |_| {});
    let reference = reference_of(&h.post(&Post::new("access", "en").pairs(&h.site)));

    let mail = smtp.wait_mail("info@acme.test", &reference);
    assert_eq!(
        mail.subject(),
        format!("[{reference}] Verzoek om inzage (art. 15 AVG) – Acme BV")
    );
    let body = mail.body();
    let (due, extended) = due_now(Lang::Nl);
    for needle in [
        "Taal van de verzoeker: Engels (en)".to_string(),
        format!("Antwoorden, of verlenging melden, uiterlijk op: {due}"),
        format!("Verlengde termijn tot uiterlijk: {extended}"),
        // Labels and choices in the firm's language, the visitor's text as typed.
        "Naam (name): Ann Peeters".to_string(),
        "Voor mezelf: het gaat over mijn eigen gegevens (self)".to_string(),
        "Please send me".to_string(),
    ] {
        assert!(body.contains(&needle), "{needle} missing in {body}");
    }
    assert!(!body.contains("Requester"), "English in the ticket: {body}");

    // The requester is answered in their own language.
    let ack = smtp.wait_mail("ann@example.test", &reference);
    assert_eq!(
        ack.subject(),
        format!("[{reference}] We have received your request – Acme BV")
    );
    let (due, extended) = due_now(Lang::En);
    let body = ack.body();
    assert!(body.contains(&format!("by {due}")), "{body}");
    assert!(
        body.contains(&format!("to {extended} at the latest")),
        "{body}"
    );
    assert!(!body.contains("Please send me"), "{body}");
}

#[test]
fn ticket_language_chooses_the_tickets_language() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::with_site(
        &smtp.url(),
        |site| set_endpoint(site, "ticket_language = \"fr\"\n"),
        |_| {},
    );
    // Withdrawing asks no more than consenting did: no phone, no "for whom".
    let post = Post::new("withdraw-consent", "de")
        .without("phone")
        .without("acting_for");
    let reference = reference_of(&h.post(&post.pairs(&h.site)));
    let mail = smtp.wait_mail("info@acme.test", &reference);
    assert_eq!(
        mail.subject(),
        format!("[{reference}] Retrait du consentement (art. 7, paragraphe 3, du RGPD) – Acme BV")
    );
    let body = mail.body();
    assert!(
        body.contains("Langue du demandeur\u{202f}: allemand (de)"),
        "{body}"
    );
    assert!(body.contains("Agissez maintenant\u{202f}:"), "{body}");
    // Withdrawing consent has no Art. 12(3) month: no due date at all.
    assert!(!body.contains("au plus tard le"), "{body}");
    let ack = smtp.wait_mail("ann@example.test", &reference);
    assert!(
        ack.body().contains("Wir setzen ihn ab sofort um"),
        "{}",
        ack.body()
    );
}

#[test]
fn a_sites_theme_overrides_a_mail_string() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::with_site(
        &smtp.url(),
        |site| {
            let dir = site.join("themes/default/i18n");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("en.toml"),
                "[mail.ack]\nsubject = \"Thank you: your request is with us\"\n",
            )
            .unwrap();
        },
        |_| {},
    );
    let reference = reference_of(&h.post(&Post::new("erasure", "en").pairs(&h.site)));
    let ack = smtp.wait_mail("ann@example.test", &reference);
    assert_eq!(
        ack.subject(),
        format!("[{reference}] Thank you: your request is with us – Acme BV")
    );
    // Every other string still comes from the built-in theme.
    assert!(ack.body().contains("two further months"), "{}", ack.body());
}

/// Adds `lines` to the fixture's `[endpoint]` table.
fn set_endpoint(site: &std::path::Path, lines: &str) {
    let path = site.join("portal.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("[endpoint]\n", &format!("[endpoint]\n{lines}"), 1);
    std::fs::write(path, text).unwrap();
}

#[test]
fn ticket_language_and_time_zone_are_checked_with_their_position() {
    let portal = Portal::fixture("minimal");
    portal.edit(
        "portal.toml",
        "[endpoint]\n",
        "[endpoint]\nticket_language = \"de\"\ntime_zone = \"Europe/Atlantis\"\n",
    );
    let errors = portal.build_fails();
    let line_of = |needle: &str| {
        portal
            .read("portal.toml")
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap()
            + 1
    };
    let lang = format!("portal.toml:{}:19", line_of("ticket_language"));
    let tz = format!("portal.toml:{}:13", line_of("time_zone"));
    assert!(
        errors.contains(&lang)
            && errors.contains("ticket_language `de` is not among the site's languages"),
        "{errors}"
    );
    assert!(
        errors.contains("use one of the site's languages (nl, fr)"),
        "{errors}"
    );
    assert!(
        errors.contains(&tz) && errors.contains("unknown time zone `Europe/Atlantis`"),
        "{errors}"
    );
}

#[test]
fn a_mail_string_that_is_not_text_is_reported() {
    let portal = Portal::fixture("minimal");
    portal.write("themes/default/i18n/nl.toml", "[mail.ack]\nsubject = 3\n");
    let errors = portal.build_fails();
    assert!(errors.contains("themes/default/i18n/nl.toml"), "{errors}");
    assert!(errors.contains("[mail] strings"), "{errors}");
}

#[test]
fn a_sites_theme_overrides_the_form_button() {
    let portal = Portal::fixture("endpoint-site");
    portal.write(
        "themes/default/i18n/nl.toml",
        "[form]\nsubmit = \"Verzoek versturen\"\n",
    );
    portal.build();
    let button = |lang: &str| {
        let html = portal.html(&format!("public/{lang}/access/index.html"));
        crate::support::select(&html, "form.request-form button[type=submit]")
            .first()
            .map(crate::support::text)
            .unwrap()
    };
    assert_eq!(button("nl"), "Verzoek versturen");
    assert_eq!(button("fr"), "Envoyer");
}

#[test]
fn a_sites_theme_overrides_what_the_endpoint_says_about_a_field() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::with_site(
        &smtp.url(),
        |site| {
            let dir = site.join("themes/default/i18n");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("nl.toml"),
                "[form.problem]\nmissing = \"moet u invullen\"\n",
            )
            .unwrap();
        },
        |_| {},
    );
    let problem = |lang: &str| {
        let reply = h.post(&Post::new("access", lang).without("name").pairs(&h.site));
        assert_eq!(reply.status, 422, "{reply:?}");
        let html = scraper::Html::parse_document(&reply.body);
        // The message next to the refused field of the form, sent back.
        crate::support::select(&html, "#f-access-name-error")
            .first()
            .map(crate::support::text)
            .unwrap()
    };
    assert!(
        problem("nl").ends_with("moet u invullen"),
        "{}",
        problem("nl")
    );
    assert!(problem("en").ends_with("is required"), "{}", problem("en"));
}

#[test]
fn the_json_answer_names_a_due_date_only_under_art_12_3() {
    let smtp = SmtpServer::start(Mode::Accept);
    let h = Harness::new(&smtp.url(), |_| {});
    let due = |post: Post| {
        let reply = crate::support::http::post_form(h.addr(), &post.pairs(&h.site), true);
        assert_eq!(reply.status, 200, "{reply:?}");
        let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        json["due"].clone()
    };
    let tz = ticket::time_zone("Europe/Brussels").unwrap();
    let expected = ticket::iso_date(ticket::deadlines(ticket::day_in(ticket::now_secs(), &tz)).due);
    assert_eq!(due(Post::new("access", "en")), serde_json::json!(expected));
    assert_eq!(due(Post::new("complaint", "en")), serde_json::Value::Null);
    let withdraw = Post::new("withdraw-consent", "en")
        .without("phone")
        .without("acting_for");
    assert_eq!(due(withdraw), serde_json::Value::Null);
}
