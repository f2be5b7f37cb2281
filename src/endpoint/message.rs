//! The mails themselves: the ticket to the firm and the acknowledgement to
//! the requester, built so that every relay takes them: a MIME body
//! (`MIME-Version`), 7-bit headers folded at 78 characters, A-label
//! domains, a valid fixed `Message-ID`, and `Auto-Submitted` (RFC 3834) so
//! vacation responders stay quiet. Nothing the visitor typed reaches a
//! header unchecked.

use std::time::Duration;

use email_encoding::headers::writer::EmailWriter;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, SinglePart};
use lettre::{Address, Message};

use super::address::{self, is_format_char, needs_smtputf8};
use super::mailer::sender;
use super::ticket::{self, Ack, Deadlines, Handling, Ticket, date_in_words, iso_time};
use crate::forms::strings::MailStrings;
use crate::vocab::lang::Lang;
use jiff::civil::Date;

/// Drops every control and Unicode format character (bidi controls, zero
/// width characters: they can make a name display as something else) and
/// caps the length: for the strings that reach a header's display name.
/// lettre 0.11 panics on CR or LF in a display name; the encoder does the
/// rest.
pub fn header_safe(s: &str, max_chars: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_string()
}

/// What the ticket calls the request, in the ticket's language.
fn request_name(words: &MailStrings, right: &str, handling: Handling) -> String {
    let r = &words.request;
    match (right, handling) {
        (_, Handling::StopDirectMarketing) => &r.objection_direct_marketing,
        ("access", _) => &r.access,
        ("rectification", _) => &r.rectification,
        ("erasure", _) => &r.erasure,
        ("restriction", _) => &r.restriction,
        ("portability", _) => &r.portability,
        ("objection", _) => &r.objection,
        ("withdraw-consent", _) => &r.withdraw_consent,
        ("complaint", _) => &r.complaint,
        _ => &r.other,
    }
    .clone()
}

/// The dates a mail names: the day of receipt in the firm's time zone and,
/// for requests under Art. 12(3), the due date and the extended limit (as
/// stored with the ticket; counted again for a ticket that lacks them).
struct Dates {
    received: Date,
    deadlines: Option<Deadlines>,
}

impl Dates {
    fn of(
        received: u64,
        time_zone: &str,
        handling: Handling,
        due: Option<&str>,
        extended: Option<&str>,
    ) -> Dates {
        let tz = ticket::time_zone(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let day = ticket::day_in(received, &tz);
        let counted = ticket::deadlines(day);
        let deadlines = handling.has_deadline().then(|| Deadlines {
            due: due.and_then(ticket::parse_date).unwrap_or(counted.due),
            extended: extended
                .and_then(ticket::parse_date)
                .unwrap_or(counted.extended),
        });
        Dates {
            received: day,
            deadlines,
        }
    }
}

/// `text` with `{firm}`, `{reference}`, `{received}`, `{due}` and
/// `{extended}` filled in, dates in words in `lang`.
fn fill(text: &str, firm: &str, reference: &str, dates: &Dates, lang: Lang) -> String {
    let mut out = text
        .replace("{firm}", firm)
        .replace("{reference}", reference)
        .replace("{received}", &date_in_words(dates.received, lang));
    if let Some(d) = dates.deadlines {
        out = out
            .replace("{due}", &date_in_words(d.due, lang))
            .replace("{extended}", &date_in_words(d.extended, lang));
    }
    out
}

/// `label value` lines. Not padded into a column: translated labels
/// differ too much in length for one to read well.
fn lines(rows: &[(&str, String)]) -> String {
    rows.iter().map(|(l, v)| format!("{l} {v}\n")).collect()
}

/// `<REF.site[.ack]@domain>`: fixed per mail, so a resend is recognisable.
/// The domain is `--from`'s as A-label: lettre would RFC 2047-encode a
/// non-ASCII one into an invalid Message-ID.
fn message_id(reference: &str, site: &str, kind: &str, from: &Mailbox) -> String {
    format!("<{reference}.{site}{kind}@{}>", from.email.domain())
}

/// `Auto-Submitted` (RFC 3834), so vacation responders stay quiet.
fn auto_submitted(value: &str) -> HeaderValue {
    HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        value.to_string(),
    )
}

/// A one-mailbox header, folded before the `<address>` when the line would
/// pass 78 characters (RFC 5322 2.1.1): lettre folds inside the encoded
/// display name but not before the address.
fn mailbox_header(name: &'static str, display: Option<&str>, addr: &Address) -> HeaderValue {
    let header = HeaderName::new_from_ascii_str(name);
    let display = display.filter(|d| !d.is_empty());
    let Some(display) = display else {
        return HeaderValue::dangerous_new_pre_encoded(header, addr.to_string(), addr.to_string());
    };
    let start = name.len() + 2;
    let mut encoded = String::new();
    {
        let mut w = EmailWriter::new(&mut encoded, start, 0, false);
        email_encoding::headers::quoted_string::encode(display, &mut w)
            .expect("writing to a String cannot fail");
    }
    let last_line = match encoded.rsplit_once("\r\n") {
        Some((_, last)) => last.len(),
        None => start + encoded.len(),
    };
    let angle = format!("<{addr}>");
    encoded.push_str(if last_line + 1 + angle.len() > 78 {
        "\r\n "
    } else {
        " "
    });
    encoded.push_str(&angle);
    HeaderValue::dangerous_new_pre_encoded(header, format!("{display} {angle}"), encoded)
}

/// The ticket as a mail to the firm, in the firm's language
/// (`[endpoint] ticket_language`), naming the requester's. Every visitor
/// string is either in the body or passed through `header_safe`; the
/// subject holds none.
pub fn ticket_message(t: &Ticket, from: &Mailbox) -> Result<Message, String> {
    let from = sender(from)?;
    let to = address::configured(&t.to).map_err(|e| format!("bad routed address: {e}"))?;
    let words = t.ticket_words();
    let w = &words.ticket;
    let lang = t.ticket_lang();
    let handling = t.handling();
    let request = request_name(&words, &t.right, handling);
    let subject = format!(
        "[{}] {} – {}",
        t.reference,
        header_safe(&request, 200),
        header_safe(&t.firm, 200)
    );
    let dates = Dates::of(
        t.received,
        &t.time_zone,
        handling,
        t.due.as_deref(),
        t.extended.as_deref(),
    );
    let requester_lang = t.lang();
    let mut rows = vec![
        (w.reference.as_str(), t.reference.clone()),
        (w.request.as_str(), request.clone()),
        (w.firm.as_str(), t.firm.clone()),
        (w.site.as_str(), t.site.clone()),
        (w.form.as_str(), t.form.clone()),
        (
            w.language.as_str(),
            format!("{} ({requester_lang})", words.language.of(requester_lang)),
        ),
        (
            w.received.as_str(),
            format!(
                "{} ({})",
                date_in_words(dates.received, lang),
                iso_time(t.received)
            ),
        ),
    ];
    if let Some(d) = dates.deadlines {
        rows.push((w.due.as_str(), date_in_words(d.due, lang)));
        rows.push((w.extended.as_str(), date_in_words(d.extended, lang)));
    }
    let note = match handling {
        Handling::OneMonth => &w.one_month,
        Handling::StopDirectMarketing => &w.stop_direct_marketing,
        Handling::WithdrawConsent => &w.withdraw_consent,
        Handling::Complaint => &w.complaint,
    };
    let mut body = lines(&rows);
    body.push('\n');
    body.push_str(fill(note, &t.firm, &t.reference, &dates, lang).trim_end());
    body.push_str("\n\n");
    for f in &t.fields {
        let value = f.value.replace('\r', "");
        if value.contains('\n') {
            body.push_str(&format!("{} ({}):\n", f.label, f.name));
            for line in value.lines() {
                body.push_str(&format!("  {line}\n"));
            }
        } else {
            body.push_str(&format!("{} ({}): {}\n", f.label, f.name, value));
        }
    }
    let requester = t.reply_to.as_deref().map(|a| (a, address::requester(a)));
    let mut b = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(subject)
        .message_id(Some(message_id(&t.reference, &t.site, "", &from)))
        .date(std::time::UNIX_EPOCH + Duration::from_secs(t.received))
        .raw_header(auto_submitted("auto-generated"));
    match requester {
        Some((_, Ok(addr))) if !needs_smtputf8(&addr) => {
            let name = t.requester_name.as_deref().map(|n| header_safe(n, 100));
            b = b.raw_header(mailbox_header("Reply-To", name.as_deref(), &addr));
            body.push_str(&format!("\n{}\n", w.reply));
        }
        // A non-ASCII local part in a header needs SMTPUTF8, which this
        // mail's envelope does not ask for: keep it in the body only.
        Some((typed, _)) => body.push_str(&format!(
            "\n{}\n",
            w.no_reply_to.replace("{address}", typed)
        )),
        None => {}
    }
    b.singlepart(SinglePart::plain(body))
        .map_err(|e| e.to_string())
}

/// The fixed-text acknowledgement to the requester, in their language:
/// the firm, the reference and what happens next (the deadline and its
/// possible extension, or "we act on it now"), nothing the visitor typed.
/// Replies go to the firm's routed address, not to the agency's `--from`.
pub fn ack_message(a: &Ack, from: &Mailbox) -> Result<Message, String> {
    let from = sender(from)?;
    let to = address::requester(&a.to)
        .map_err(|_| "the requester's address is not one the endpoint mails to".to_string())?;
    let firm_address =
        address::configured(&a.reply_to).map_err(|e| format!("bad routed address: {e}"))?;
    let lang = a.lang();
    let words = a.words();
    let w = &words.ack;
    let dates = Dates::of(
        a.received,
        &a.time_zone,
        a.handling,
        a.due.as_deref(),
        a.extended.as_deref(),
    );
    let firm = header_safe(&a.firm, 200);
    let (subject, text) = match a.handling {
        Handling::OneMonth => (&w.subject, &w.one_month),
        Handling::StopDirectMarketing => (&w.subject, &w.stop_direct_marketing),
        Handling::WithdrawConsent => (&w.subject_withdrawal, &w.withdraw_consent),
        Handling::Complaint => (&w.subject_complaint, &w.complaint),
    };
    let body = format!(
        "{}\n\n{}\n",
        fill(text, &firm, &a.reference, &dates, lang).trim_end(),
        fill(&w.footer, &firm, &a.reference, &dates, lang).trim_end()
    );
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(format!(
            "[{}] {} – {}",
            a.reference,
            header_safe(subject, 200),
            firm
        ))
        .message_id(Some(message_id(&a.reference, &a.site, ".ack", &from)))
        .raw_header(mailbox_header("Reply-To", Some(&firm), &firm_address))
        .raw_header(auto_submitted("auto-replied"))
        .singlepart(SinglePart::plain(body))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::ticket::TicketField;

    fn ticket(name: &str, value: &str) -> Ticket {
        Ticket::sample(name, value)
    }

    fn from() -> Mailbox {
        "portaal <portaal@agency.test>".parse().unwrap()
    }

    fn raw(msg: &Message) -> String {
        String::from_utf8(msg.formatted()).unwrap()
    }

    fn headers(msg: &Message) -> String {
        raw(msg).split("\r\n\r\n").next().unwrap().to_string()
    }

    /// The unfolded, decoded value of header `name`, parsed by mailparse.
    fn header(msg: &Message, name: &str) -> Option<String> {
        let bytes = msg.formatted();
        let parsed = mailparse::parse_mail(&bytes).unwrap();
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
    }

    #[test]
    fn visitor_text_never_adds_a_header() {
        let long = "ä".repeat(10_000);
        for name in [
            "Ann\r\nBcc: evil@x.test",
            "Ann\nBcc: evil@x.test",
            "Ann\0Bcc: evil@x.test",
            "Ann\rBcc: evil@x.test",
            long.as_str(),
            "李小龍 Ωmega Zoë",
        ] {
            let msg = ticket_message(&ticket(name, "line\r\nBcc: evil@x.test"), &from()).unwrap();
            let h = headers(&msg);
            for line in h.split("\r\n") {
                assert!(
                    !line.to_ascii_lowercase().starts_with("bcc:"),
                    "injected header in {h}"
                );
            }
            assert!(
                h.contains("Message-ID: <K7QM-3XDA.acme@agency.test>"),
                "{h}"
            );
            assert!(h.contains("Reply-To:"), "{h}");
        }
    }

    #[test]
    fn a_display_name_cannot_add_a_reply_to_address() {
        for name in [
            "Evil, <attacker@evil.test> \"x\" \\ y",
            "a@b.test, c@d.test",
            "\"Ann\" <attacker@evil.test>",
            "Zoë, <attacker@evil.test>",
        ] {
            let msg = ticket_message(&ticket(name, "x"), &from()).unwrap();
            let bytes = msg.formatted();
            let parsed = mailparse::parse_mail(&bytes).unwrap();
            let h = parsed
                .headers
                .iter()
                .find(|h| h.get_key() == "Reply-To")
                .unwrap();
            let addrs = mailparse::addrparse_header(h).unwrap();
            assert_eq!(addrs.len(), 1, "{name}: {addrs:?}");
            match &addrs[0] {
                mailparse::MailAddr::Single(info) => assert_eq!(info.addr, "ann@example.test"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn header_safe_strips_controls_and_caps_length() {
        assert_eq!(header_safe("a\r\nb\0c\u{85}d", 10), "abcd");
        assert_eq!(header_safe(&"x".repeat(500), 100).len(), 100);
    }

    #[test]
    fn no_mime_version_header_on_any_mail() {
        let t = ticket("Ann", "Zoë");
        let ack = Ack::of(&t).unwrap();
        for msg in [
            ticket_message(&t, &from()).unwrap(),
            ack_message(&ack, &from()).unwrap(),
        ] {
            assert_eq!(header(&msg, "MIME-Version").as_deref(), Some("1.0"));
            assert!(
                header(&msg, "Content-Type")
                    .unwrap()
                    .starts_with("text/plain")
            );
        }
    }

    #[test]
    fn non_ascii_requester_address_stays_out_of_ticket_headers() {
        let mut t = ticket("Zoë", "x");
        t.reply_to = Some("zoë@example.test".into());
        let msg = ticket_message(&t, &from()).unwrap();
        let h = headers(&msg);
        assert!(h.is_ascii(), "8-bit header without SMTPUTF8: {h}");
        assert!(header(&msg, "Reply-To").is_none(), "{h}");
        let bytes = msg.formatted();
        let parsed = mailparse::parse_mail(&bytes).unwrap();
        let body = parsed.get_body().unwrap();
        assert!(body.contains("zoë@example.test"), "{body}");
        assert!(msg.envelope().to().iter().all(|a| a.to_string().is_ascii()));
    }

    #[test]
    fn idn_domains_are_never_converted_to_a_labels() {
        let mut t = ticket("Ann", "x");
        t.reply_to = Some("user@bücher.test".into());
        t.to = "privacy@bücher.test".into();
        let msg = ticket_message(&t, &from()).unwrap();
        let h = headers(&msg);
        assert!(h.is_ascii(), "{h}");
        assert!(h.contains("Reply-To: Ann <user@xn--bcher-kva.test>"), "{h}");
        assert!(h.contains("To: privacy@xn--bcher-kva.test"), "{h}");
        let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
        let h = headers(&ack);
        assert!(h.is_ascii(), "{h}");
        assert!(h.contains("To: user@xn--bcher-kva.test"), "{h}");
        assert!(ack.envelope().to().iter().all(|a| a.to_string().is_ascii()));
    }

    #[test]
    fn idn_from_domain_gives_an_invalid_message_id() {
        let from: Mailbox = "Privacyportaal Zoë Çelik <portaal@bücher.test>"
            .parse()
            .unwrap();
        let t = ticket("Ann", "x");
        let msg = ticket_message(&t, &from).unwrap();
        assert_eq!(
            header(&msg, "Message-ID").as_deref(),
            Some("<K7QM-3XDA.acme@xn--bcher-kva.test>")
        );
        let ack = ack_message(&Ack::of(&t).unwrap(), &from).unwrap();
        assert_eq!(
            header(&ack, "Message-ID").as_deref(),
            Some("<K7QM-3XDA.acme.ack@xn--bcher-kva.test>")
        );
        assert!(headers(&msg).is_ascii());
        assert!(sender(&"x <zoë@agency.test>".parse().unwrap()).is_err());
    }

    #[test]
    fn bidi_controls_pass_into_the_reply_to_display_name() {
        let msg =
            ticket_message(&ticket("Ann \u{202E}set.live@nna\u{202C}", "x"), &from()).unwrap();
        let reply_to = header(&msg, "Reply-To").unwrap();
        assert!(
            !reply_to.chars().any(is_format_char),
            "format character left in {reply_to:?}"
        );
        assert!(reply_to.contains("Ann set.live@nna"), "{reply_to}");
    }

    #[test]
    fn reply_to_lines_of_92_characters_are_folded_at_78() {
        let mut t = ticket("Zoë Çelik-Müller محمد 😀", "x");
        t.reply_to = Some("zoe.celik@bezoeker.test".into());
        t.firm = "Koffiebranderij Verhaegen–Çelik & Zoë BV".into();
        let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
        for msg in [ticket_message(&t, &from()).unwrap(), ack] {
            let h = headers(&msg);
            for line in h.split("\r\n") {
                assert!(line.len() <= 78, "{} characters: {line}", line.len());
            }
            let bytes = msg.formatted();
            let parsed = mailparse::parse_mail(&bytes).unwrap();
            let reply_to = parsed
                .headers
                .iter()
                .find(|h| h.get_key() == "Reply-To")
                .unwrap();
            let addrs = mailparse::addrparse_header(reply_to).unwrap();
            assert_eq!(addrs.len(), 1, "{h}");
        }
        let msg = ticket_message(&t, &from()).unwrap();
        assert_eq!(
            header(&msg, "Reply-To").unwrap(),
            "Zoë Çelik-Müller محمد 😀 <zoe.celik@bezoeker.test>"
        );
    }

    #[test]
    fn no_auto_submitted_headers_and_acks_reply_to_the_agency() {
        let t = ticket("Ann", "Please send me everything");
        let msg = ticket_message(&t, &from()).unwrap();
        assert_eq!(
            header(&msg, "Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
        assert_eq!(
            header(&ack, "Auto-Submitted").as_deref(),
            Some("auto-replied")
        );
        assert_eq!(
            header(&ack, "Reply-To").as_deref(),
            Some("\"Acme BV\" <info@acme.test>")
        );
        assert!(header(&ack, "Subject").unwrap().contains("Acme BV"));
        let bytes = ack.formatted();
        let body = mailparse::parse_mail(&bytes).unwrap().get_body().unwrap();
        assert!(body.contains("Acme BV heeft uw verzoek op"), "{body}");
        assert!(body.contains("K7QM-3XDA"), "{body}");
        assert!(!body.contains("Please send me"), "{body}");
    }

    /// 2026-11-28T10:00:00Z: a Saturday morning in Brussels.
    const RECEIVED: u64 = 1_795_860_000;

    /// A ticket as `post` stores it: dates counted in Brussels, wording of
    /// the built-in theme, the ticket in `firm`, the requester in `lang`.
    fn stored(right: &str, lang: Lang, firm: Lang, fields: Vec<TicketField>) -> Ticket {
        let handling = Handling::of(right, &fields);
        let d = handling.has_deadline().then(|| {
            ticket::deadlines(ticket::day_in(
                RECEIVED,
                &ticket::time_zone("Europe/Brussels").unwrap(),
            ))
        });
        let mut t = ticket("Ann", "x");
        t.form = right.into();
        t.right = right.into();
        t.language = lang.code().into();
        t.received = RECEIVED;
        t.handling = Some(handling);
        t.due = d.map(|d| ticket::iso_date(d.due));
        t.extended = d.map(|d| ticket::iso_date(d.extended));
        t.ticket_language = Some(firm.code().into());
        t.wording = Some(super::super::ticket::Wording {
            ticket: super::super::ticket::Words::new(MailStrings::builtin(firm)),
            ack: super::super::ticket::Words::new(MailStrings::builtin(lang)),
        });
        t.fields = fields;
        t
    }

    fn body_of(msg: &Message) -> String {
        let bytes = msg.formatted();
        mailparse::parse_mail(&bytes).unwrap().get_body().unwrap()
    }

    #[test]
    fn ack_states_the_one_month_limit_and_the_two_month_extension() {
        for (lang, due, extended) in [
            (
                Lang::Nl,
                "uiterlijk op 28 december 2026",
                "tot uiterlijk 28 februari 2027",
            ),
            (
                Lang::Fr,
                "soit le 28 décembre 2026",
                "jusqu’au 28 février 2027",
            ),
            (
                Lang::De,
                "bis zum 28. Dezember 2026",
                "bis zum 28. Februar 2027",
            ),
            (Lang::En, "by 28 December 2026", "to 28 February 2027"),
        ] {
            let t = stored("access", lang, Lang::Nl, vec![]);
            let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
            let body = body_of(&ack);
            assert!(body.contains(due), "{lang}: {body}");
            assert!(body.contains(extended), "{lang}: {body}");
            assert!(!body.contains('{'), "unfilled placeholder: {body}");
            assert!(
                body.contains("K7QM-3XDA") && body.contains("Acme BV"),
                "{body}"
            );
        }
        let t = stored("access", Lang::En, Lang::En, vec![]);
        let body = body_of(&ack_message(&Ack::of(&t).unwrap(), &from()).unwrap());
        assert!(
            body.contains("received your request on 28 November 2026"),
            "{body}"
        );
        assert!(body.contains("two further months"), "{body}");
        assert!(body.contains("Article 12(3) GDPR"), "{body}");
    }

    #[test]
    fn ticket_shows_received_due_and_extended_dates() {
        let t = stored("access", Lang::En, Lang::En, vec![]);
        let msg = ticket_message(&t, &from()).unwrap();
        let body = body_of(&msg);
        let line = |label: &str| {
            body.lines()
                .find(|l| l.starts_with(label))
                .unwrap_or_else(|| panic!("no {label} line in {body}"))
                .to_string()
        };
        assert!(
            line("Received:").contains("28 November 2026 (2026-11-28T10:00:00Z)"),
            "{body}"
        );
        assert!(
            line("Answer, or announce an extension, by:").ends_with(" 28 December 2026"),
            "{body}"
        );
        assert!(
            line("Extended limit:").ends_with(" 28 February 2027"),
            "{body}"
        );
        assert!(
            body.contains("tell the requester before 28 December 2026"),
            "{body}"
        );
        assert_eq!(
            header(&msg, "Subject").unwrap(),
            "[K7QM-3XDA] Access request (Art. 15 GDPR) – Acme BV"
        );
    }

    #[test]
    fn dates_are_counted_in_the_firms_time_zone() {
        // 23:30 UTC on 31 January is 1 February in Brussels: due 1 March,
        // not 28 February.
        let mut t = stored("access", Lang::En, Lang::En, vec![]);
        t.received = 1_801_438_200;
        assert_eq!(iso_time(t.received), "2027-01-31T23:30:00Z");
        let tz = ticket::time_zone("Europe/Brussels").unwrap();
        let d = ticket::deadlines(ticket::day_in(t.received, &tz));
        assert_eq!(ticket::iso_date(d.due), "2027-03-01");
        // An old ticket without stored dates gets them counted the same way.
        t.due = None;
        t.extended = None;
        let body = body_of(&ticket_message(&t, &from()).unwrap());
        assert!(body.contains("1 March 2027"), "{body}");
        assert!(body.contains("1 May 2027"), "{body}");
    }

    #[test]
    fn complaint_to_the_firm_is_not_art_77_and_has_no_due_date() {
        for lang in Lang::ALL {
            let t = stored("complaint", lang, lang, vec![]);
            assert_eq!(t.due, None);
            let msg = ticket_message(&t, &from()).unwrap();
            let subject = header(&msg, "Subject").unwrap();
            assert!(!subject.contains("77"), "{subject}");
            let body = body_of(&msg);
            let w = MailStrings::builtin(lang);
            assert!(!body.contains(&w.ticket.due), "{body}");
            assert!(!body.contains(&w.ticket.extended), "{body}");
            assert!(
                !body.contains("12(3)") && !body.contains("12, lid 3"),
                "{body}"
            );
            assert!(
                !body.contains("2026-12-28") && !body.contains("2027"),
                "{body}"
            );
            let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
            assert_eq!(
                header(&ack, "Subject").unwrap(),
                format!("[K7QM-3XDA] {} – Acme BV", w.ack.subject_complaint)
            );
            let body = body_of(&ack);
            assert!(!body.contains("2027") && !body.contains("12"), "{body}");
        }
        let t = stored("complaint", Lang::En, Lang::En, vec![]);
        let subject = header(&ticket_message(&t, &from()).unwrap(), "Subject").unwrap();
        assert_eq!(
            subject,
            "[K7QM-3XDA] Complaint to the organisation – Acme BV"
        );
    }

    #[test]
    fn withdrawing_consent_is_acted_on_now() {
        let t = stored("withdraw-consent", Lang::En, Lang::En, vec![]);
        assert_eq!(
            (t.due.as_deref(), t.handling),
            (None, Some(Handling::WithdrawConsent))
        );
        let body = body_of(&ticket_message(&t, &from()).unwrap());
        assert!(
            body.contains("Act now: the withdrawal takes effect at once (Art. 7(3) GDPR)"),
            "{body}"
        );
        assert!(!body.contains("Extended limit"), "{body}");
        let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
        let body = body_of(&ack);
        assert!(body.contains("We act on it now"), "{body}");
        assert!(
            !body.contains("one month") && !body.contains("2027"),
            "{body}"
        );
        let nl = stored("withdraw-consent", Lang::Nl, Lang::Nl, vec![]);
        let body = body_of(&ack_message(&Ack::of(&nl).unwrap(), &from()).unwrap());
        assert!(body.contains("Wij geven er nu gevolg aan"), "{body}");
    }

    #[test]
    fn objection_to_direct_marketing_is_acted_on_without_delay() {
        let dm = vec![TicketField {
            name: "objection_to".into(),
            label: "What do you object to?".into(),
            value: "direct_marketing".into(),
        }];
        let t = stored("objection", Lang::Fr, Lang::Nl, dm);
        assert_eq!(t.handling, Some(Handling::StopDirectMarketing));
        let msg = ticket_message(&t, &from()).unwrap();
        assert!(
            header(&msg, "Subject")
                .unwrap()
                .contains("Bezwaar tegen direct marketing")
        );
        let body = body_of(&msg);
        assert!(body.contains("Handel nu"), "{body}");
        let body = body_of(&ack_message(&Ack::of(&t).unwrap(), &from()).unwrap());
        assert!(
            body.contains("Nous y donnons suite sans tarder\u{202f}:"),
            "{body}"
        );
        // Any other objection follows the month of Art. 12(3).
        let other = stored("objection", Lang::En, Lang::En, vec![]);
        assert_eq!(other.handling, Some(Handling::OneMonth));
    }

    #[test]
    fn the_ticket_is_in_the_firms_language_and_names_the_requesters() {
        let t = stored("access", Lang::En, Lang::Nl, vec![]);
        let msg = ticket_message(&t, &from()).unwrap();
        assert_eq!(
            header(&msg, "Subject").unwrap(),
            "[K7QM-3XDA] Verzoek om inzage (art. 15 AVG) – Acme BV"
        );
        let body = body_of(&msg);
        assert!(
            body.contains("Taal van de verzoeker: Engels (en)"),
            "{body}"
        );
        assert!(body.contains("Ontvangen op:"), "{body}");
        assert!(body.contains("28 december 2026"), "{body}");
        assert!(body.contains("Beantwoord deze e-mail"), "{body}");
        // The acknowledgement stays in the requester's language.
        let ack = ack_message(&Ack::of(&t).unwrap(), &from()).unwrap();
        assert!(
            header(&ack, "Subject")
                .unwrap()
                .contains("We have received your request")
        );
    }

    #[test]
    fn french_mails_use_narrow_no_break_spaces() {
        let t = stored("access", Lang::Fr, Lang::Fr, vec![]);
        for msg in [
            ticket_message(&t, &from()).unwrap(),
            ack_message(&Ack::of(&t).unwrap(), &from()).unwrap(),
        ] {
            let body = body_of(&msg);
            for p in [':', ';', '?', '!'] {
                for (i, _) in body.match_indices(p) {
                    let before = body[..i].chars().next_back();
                    // Times and URLs have no space before a colon.
                    if matches!(before, Some(c) if c.is_ascii_digit() || c.is_ascii_alphabetic() && body[i..].starts_with("://"))
                    {
                        continue;
                    }
                    assert!(
                        matches!(before, Some('\u{202f}') | Some('\u{a0}')),
                        "no narrow no-break space before {p:?} at {i}: {body}"
                    );
                }
            }
        }
    }

    /// A ticket and an acknowledgement spooled by the previous version
    /// (English ticket, `due` as a plain string, no wording) still send.
    #[test]
    fn tickets_spooled_before_the_wording_moved_still_send() {
        let old = r#"{"reference":"K7QM-3XDA","site":"acme","firm":"Acme BV","form":"access",
            "right":"access","to":"info@acme.test","language":"fr","received":1795860000,
            "due":"2026-12-28","fields":[],"reply_to":"ann@example.test",
            "requester_name":"Ann","acknowledge":true}"#;
        let t: Ticket = serde_json::from_str(old).unwrap();
        assert_eq!(t.handling(), Handling::OneMonth);
        let body = body_of(&ticket_message(&t, &from()).unwrap());
        assert!(body.contains("Requester’s language: French (fr)"), "{body}");
        assert!(body.contains("by: 28 December 2026"), "{body}");
        assert!(body.contains("Extended limit: 28 February 2027"), "{body}");
        let old_ack = r#"{"reference":"K7QM-3XDA","site":"acme","form":"access","firm":"Acme BV",
            "language":"fr","received":1795860000,"due":"2026-12-28",
            "to":"ann@example.test","reply_to":"info@acme.test"}"#;
        let a: Ack = serde_json::from_str(old_ack).unwrap();
        let body = body_of(&ack_message(&a, &from()).unwrap());
        assert!(body.contains("soit le 28 décembre 2026"), "{body}");
        assert!(body.contains("jusqu’au 28 février 2027"), "{body}");
    }
}
