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
use super::ticket::{Ack, Ticket, iso_time};
use crate::forms::strings::EndpointStrings;
use crate::site::lang::Lang;

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

fn right_name(slug: &str) -> &'static str {
    match slug {
        "access" => "Access request (Art. 15)",
        "rectification" => "Rectification request (Art. 16)",
        "erasure" => "Erasure request (Art. 17)",
        "restriction" => "Restriction request (Art. 18)",
        "portability" => "Portability request (Art. 20)",
        "objection" => "Objection (Art. 21)",
        "withdraw-consent" => "Consent withdrawal (Art. 7(3))",
        "complaint" => "Complaint (Art. 77)",
        _ => "Request",
    }
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

/// The ticket as a mail to the firm. Every visitor string is either in the
/// body or passed through `header_safe`; the subject holds none.
pub fn ticket_message(t: &Ticket, from: &Mailbox) -> Result<Message, String> {
    let from = sender(from)?;
    let to = address::configured(&t.to).map_err(|e| format!("bad routed address: {e}"))?;
    let subject = format!(
        "[{}] {} – {}",
        t.reference,
        right_name(&t.right),
        header_safe(&t.firm, 200)
    );
    let mut body = format!(
        "Reference: {}\nRequest:   {}\nFirm:      {}\nSite:      {}\nForm:      {}\nLanguage:  {}\nReceived:  {}\nDue by:    {} (GDPR Art. 12(3): one month after receipt)\n\n",
        t.reference,
        right_name(&t.right),
        t.firm,
        t.site,
        t.form,
        t.language,
        iso_time(t.received),
        t.due
    );
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
            body.push_str("\nReply to this mail to answer the requester.\n");
        }
        // A non-ASCII local part in a header needs SMTPUTF8, which this
        // mail's envelope does not ask for: keep it in the body only.
        Some((typed, _)) => body.push_str(&format!(
            "\nThe requester's address, {typed}, is not in Reply-To: it has characters that not \
             every mail server accepts in a header. Write to it yourself.\n"
        )),
        None => {}
    }
    b.singlepart(SinglePart::plain(body))
        .map_err(|e| e.to_string())
}

/// The fixed-text acknowledgement to the requester: the firm, the
/// reference and the due date, nothing the visitor typed. Replies go to
/// the firm's routed address, not to the agency's `--from`.
pub fn ack_message(a: &Ack, from: &Mailbox) -> Result<Message, String> {
    let from = sender(from)?;
    let to = address::requester(&a.to)
        .map_err(|_| "the requester's address is not one the endpoint mails to".to_string())?;
    let firm_address =
        address::configured(&a.reply_to).map_err(|e| format!("bad routed address: {e}"))?;
    let lang: Lang = a.language.parse().unwrap_or(Lang::En);
    let s = EndpointStrings::get(lang);
    let due = super::ticket::parse_date(&a.due)
        .map(|(y, m, d)| lang.format_date(y as u16, m as u8, d as u8))
        .unwrap_or_else(|| a.due.clone());
    let firm = header_safe(&a.firm, 200);
    let body = s
        .ack_body
        .replace("{reference}", &a.reference)
        .replace("{due}", &due)
        .replace("{firm}", &firm);
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(format!("[{}] {} – {}", a.reference, s.ack_subject, firm))
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
        Ticket {
            reference: "K7QM-3XDA".into(),
            site: "acme".into(),
            firm: "Acme BV".into(),
            form: "access".into(),
            right: "access".into(),
            to: "info@acme.test".into(),
            language: "nl".into(),
            received: 1_780_000_000,
            due: "2026-06-28".into(),
            fields: vec![TicketField {
                name: "details".into(),
                label: "Details".into(),
                value: value.into(),
            }],
            reply_to: Some("ann@example.test".into()),
            requester_name: Some(name.into()),
            acknowledge: true,
        }
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
        assert!(
            body.contains("Acme BV heeft uw aanvraag ontvangen"),
            "{body}"
        );
        assert!(body.contains("K7QM-3XDA"), "{body}");
        assert!(!body.contains("Please send me"), "{body}");
    }
}
