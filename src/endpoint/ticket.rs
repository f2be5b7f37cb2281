//! A ticket: one accepted request, as it waits in the spool for delivery.
//!
//! Everything the mails need is resolved when the post is accepted (the
//! routed address, the firm's name, the field labels in the firm's
//! language, the deadlines, the wording of both mails), so the mail worker
//! needs nothing but the ticket, even after a restart with other settings.

use std::sync::Arc;

use jiff::Span;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::forms::strings::MailStrings;
use crate::vocab::lang::Lang;
// The calendar is the vocabulary's; the endpoint's code reads it here.
pub use crate::vocab::clock::{
    date_in_words, day_in, iso_date, iso_time, now_secs, parse_date, time_zone,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketField {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// How the law says a request is to be handled; decides the mails' notes
/// and which deadlines they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// A request under Arts. 15-22: answer without undue delay, within one
    /// month of receipt, extendable by two further months (Art. 12(3)).
    #[default]
    OneMonth,
    /// An objection to direct marketing: the processing stops now
    /// (Art. 21(3)); Art. 12(3)'s month stays the limit for the answer.
    StopDirectMarketing,
    /// Withdrawing consent takes effect at once (Art. 7(3)); it is not a
    /// request under Arts. 15-22, so it has no Art. 12(3) deadline.
    WithdrawConsent,
    /// A complaint to the firm itself: no statutory deadline. (A complaint
    /// to the authority, Art. 77, never reaches the firm's endpoint.)
    Complaint,
}

/// The field of the objection form that says what the objection is to,
/// and its value for direct marketing.
pub const OBJECTION_TO: (&str, &str) = ("objection_to", "direct_marketing");

impl Handling {
    /// The handling of a post to the form of right `right` with `fields`.
    pub fn of(right: &str, fields: &[TicketField]) -> Handling {
        match right {
            "withdraw-consent" => Handling::WithdrawConsent,
            "complaint" => Handling::Complaint,
            "objection"
                if fields
                    .iter()
                    .any(|f| f.name == OBJECTION_TO.0 && f.value == OBJECTION_TO.1) =>
            {
                Handling::StopDirectMarketing
            }
            _ => Handling::OneMonth,
        }
    }

    /// Whether Art. 12(3)'s month (and its extension) applies.
    pub fn has_deadline(self) -> bool {
        matches!(self, Handling::OneMonth | Handling::StopDirectMarketing)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub reference: String,
    pub site: String,
    pub firm: String,
    pub form: String,
    /// The right's slug, e.g. `access`.
    pub right: String,
    /// The routed address, from `[contacts]`; never from the post.
    pub to: String,
    /// The requester's language: the acknowledgement's.
    pub language: String,
    /// Unix seconds.
    pub received: u64,
    /// How the request is to be handled; older tickets lack it.
    #[serde(default)]
    pub handling: Option<Handling>,
    /// `YYYY-MM-DD`, one month after the day of receipt in the firm's time
    /// zone (Art. 12(3)); none for a complaint or a consent withdrawal.
    #[serde(default)]
    pub due: Option<String>,
    /// `YYYY-MM-DD`, three months after receipt: the limit if the firm
    /// extends the period by two further months.
    #[serde(default)]
    pub extended: Option<String>,
    /// The IANA time zone the dates are counted in.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The firm's language (`[endpoint] ticket_language`): the ticket's.
    #[serde(default)]
    pub ticket_language: Option<String>,
    /// The words of both mails, from the site's theme when the post was
    /// accepted; older tickets lack them and get the built-in ones.
    #[serde(default)]
    pub wording: Option<Wording>,
    pub fields: Vec<TicketField>,
    /// The requester's address, already validated: `Reply-To`.
    pub reply_to: Option<String>,
    /// The requester's name, for the `Reply-To` display name.
    pub requester_name: Option<String>,
    /// Send the requester a fixed-text acknowledgement after delivery.
    #[serde(default)]
    pub acknowledge: bool,
}

/// The mails' words: the ticket's in the firm's language, the
/// acknowledgement's in the requester's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wording {
    pub ticket: Words,
    pub ack: Words,
}

/// One language's mail words as a ticket holds them: parsed, and as JSON.
/// A site's words are made once, when the registry loads, and each
/// accepted post shares them (a pointer copy) and writes the JSON as it
/// is, instead of cloning and escaping some 3 KB of text per post. A
/// ticket read from the spool parses them as before; what is written is
/// the same JSON either way.
#[derive(Debug, Clone)]
pub struct Words(Arc<WordsInner>);

#[derive(Debug)]
struct WordsInner {
    strings: MailStrings,
    json: Box<RawValue>,
}

impl Words {
    pub fn new(strings: MailStrings) -> Words {
        let json = serde_json::value::to_raw_value(&strings).expect("mail words serialise");
        Words(Arc::new(WordsInner { strings, json }))
    }
}

impl std::ops::Deref for Words {
    type Target = MailStrings;
    fn deref(&self) -> &MailStrings {
        &self.0.strings
    }
}

impl PartialEq for Words {
    fn eq(&self, other: &Words) -> bool {
        self.0.strings == other.0.strings
    }
}

impl Eq for Words {}

impl Serialize for Words {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Words, D::Error> {
        MailStrings::deserialize(d).map(Words::new)
    }
}

impl Ticket {
    pub fn handling(&self) -> Handling {
        self.handling
            .unwrap_or_else(|| Handling::of(&self.right, &self.fields))
    }

    /// The language the ticket mail is written in.
    pub fn ticket_lang(&self) -> Lang {
        self.ticket_language
            .as_deref()
            .and_then(|l| l.parse().ok())
            .unwrap_or(Lang::En)
    }

    /// The requester's language.
    pub fn lang(&self) -> Lang {
        self.language.parse().unwrap_or(Lang::En)
    }

    /// The ticket mail's words.
    pub fn ticket_words(&self) -> MailStrings {
        match &self.wording {
            Some(w) => MailStrings::clone(&w.ticket),
            None => MailStrings::builtin(self.ticket_lang()),
        }
    }
}

/// An acknowledgement waiting in the spool (`new/REF.ack.json`): written
/// when its ticket is delivered, in the same step that removes the ticket,
/// so a crash while sending it never sends the ticket again. It holds what
/// the fixed-text mail needs and nothing the visitor wrote, except the
/// address it goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub reference: String,
    pub site: String,
    pub form: String,
    pub firm: String,
    pub language: String,
    pub received: u64,
    #[serde(default)]
    pub handling: Handling,
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub extended: Option<String>,
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The acknowledgement's words, in the requester's language.
    #[serde(default)]
    pub words: Option<MailStrings>,
    /// The requester's address (A-label domain): `To`.
    pub to: String,
    /// The routed address the ticket went to: the acknowledgement's
    /// `Reply-To`, so a requester who answers reaches the firm.
    pub reply_to: String,
}

impl Ack {
    /// The acknowledgement a delivered ticket asks for, if any.
    pub fn of(t: &Ticket) -> Option<Ack> {
        if !t.acknowledge {
            return None;
        }
        Some(Ack {
            reference: t.reference.clone(),
            site: t.site.clone(),
            form: t.form.clone(),
            firm: t.firm.clone(),
            language: t.language.clone(),
            received: t.received,
            handling: t.handling(),
            due: t.due.clone(),
            extended: t.extended.clone(),
            time_zone: t.time_zone.clone(),
            words: t.wording.as_ref().map(|w| MailStrings::clone(&w.ack)),
            to: t.reply_to.clone()?,
            reply_to: t.to.clone(),
        })
    }

    pub fn lang(&self) -> Lang {
        self.language.parse().unwrap_or(Lang::En)
    }

    /// The acknowledgement's words.
    pub fn words(&self) -> MailStrings {
        match &self.words {
            Some(w) => w.clone(),
            None => MailStrings::builtin(self.lang()),
        }
    }
}

/// Crockford's base32 without the letters people confuse (I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh reference like `K7QM-3XDA`: 40 random bits, easy to read aloud
/// on the phone, and unique in practice (the spool keeps a duplicate
/// beside the first).
pub fn new_reference() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 5];
    getrandom::fill(&mut bytes)?;
    let mut n = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut out = [0u8; 8];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    let s = String::from_utf8(out.to_vec()).expect("ASCII");
    Ok(format!("{}-{}", &s[..4], &s[4..]))
}

/// True for a string shaped like a reference, so one can go into a path.
pub fn is_reference(s: &str) -> bool {
    s.len() == 9
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                ALPHABET.contains(&b)
            }
        })
}

/// The time zone a firm's deadlines are counted in when its site names
/// none: most of our firms are Belgian.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Brussels";

fn default_time_zone() -> String {
    DEFAULT_TIME_ZONE.to_string()
}

/// The deadlines of Art. 12(3) for a request received on `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// One month after receipt: the answer is due, or the requester must
    /// be told that (and why) the firm takes longer.
    pub due: Date,
    /// Two further months: the outer limit of an extended period.
    pub extended: Date,
}

/// Months are counted as Regulation 1182/71 art. 3(2)(c) counts them: the
/// same day of the month, or that month's last day when it is shorter
/// (31 January -> 28/29 February). The extended limit is three months
/// after receipt, counted the same way (31 January -> 30 April), not two
/// months after a clamped due date.
pub fn deadlines(day: Date) -> Deadlines {
    let months = |n: i64| day.checked_add(Span::new().months(n)).unwrap_or(Date::MAX);
    Deadlines {
        due: months(1),
        extended: months(3),
    }
}

/// A ticket for unit tests: one request of Ann's, with one free-text field.
#[cfg(test)]
impl Ticket {
    pub fn sample(name: &str, value: &str) -> Ticket {
        Ticket {
            reference: "K7QM-3XDA".into(),
            site: "acme".into(),
            firm: "Acme BV".into(),
            form: "access".into(),
            right: "access".into(),
            to: "info@acme.test".into(),
            language: "nl".into(),
            received: 1_780_000_000,
            handling: None,
            due: Some("2026-06-28".into()),
            extended: None,
            time_zone: "Europe/Brussels".into(),
            ticket_language: None,
            wording: None,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn due_is_one_month_later_clamped_to_month_end() {
        let d = |s: &str| iso_date(deadlines(day(s)).due);
        assert_eq!(d("2026-03-15"), "2026-04-15");
        assert_eq!(d("2026-01-31"), "2026-02-28");
        assert_eq!(d("2028-01-31"), "2028-02-29");
        assert_eq!(d("2026-12-20"), "2027-01-20");
    }

    #[test]
    fn extended_limit_is_three_months_after_receipt() {
        let e = |s: &str| iso_date(deadlines(day(s)).extended);
        assert_eq!(e("2026-03-15"), "2026-06-15");
        // Not two months after the clamped 28 February.
        assert_eq!(e("2026-01-31"), "2026-04-30");
        assert_eq!(e("2026-11-30"), "2027-02-28");
        assert_eq!(e("2026-10-28"), "2027-01-28");
    }

    #[test]
    fn the_day_of_receipt_is_the_firms_day_not_utc() {
        // 2026-11-28T23:30:00Z is already 29 November in Brussels.
        let at = 1_795_908_600;
        assert_eq!(iso_time(at), "2026-11-28T23:30:00Z");
        let brussels = time_zone("Europe/Brussels").unwrap();
        assert_eq!(iso_date(day_in(at, &brussels)), "2026-11-29");
        assert_eq!(iso_date(day_in(at, &jiff::tz::TimeZone::UTC)), "2026-11-28");
        assert!(time_zone("Europe/Atlantis").is_err());
    }

    #[test]
    fn dates_in_words_per_language() {
        let d = day("2026-12-28");
        assert_eq!(date_in_words(d, Lang::Nl), "28 december 2026");
        assert_eq!(date_in_words(d, Lang::Fr), "28 décembre 2026");
        assert_eq!(date_in_words(d, Lang::De), "28. Dezember 2026");
        assert_eq!(date_in_words(d, Lang::En), "28 December 2026");
    }

    /// The words a post shares with its site are written as the words
    /// themselves, and read back as such.
    #[test]
    fn shared_mail_words_are_stored_as_the_words() {
        let strings = MailStrings::builtin(Lang::Nl);
        let words = Words::new(strings.clone());
        let json = serde_json::to_string(&words).unwrap();
        assert_eq!(json, serde_json::to_string(&strings).unwrap());
        assert_eq!(
            serde_json::to_value(&words).unwrap(),
            serde_json::to_value(&strings).unwrap()
        );
        let back: Words = serde_json::from_str(&json).unwrap();
        assert_eq!(*back, strings);
        assert_eq!(back, words);
    }

    #[test]
    fn references_are_short_and_well_formed() {
        let a = new_reference().unwrap();
        let b = new_reference().unwrap();
        assert!(is_reference(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_reference("../../etc"));
    }

    #[test]
    fn dates_must_exist() {
        assert!(parse_date("2026-02-29").is_none());
        assert!(parse_date("2028-02-29").is_some());
        assert!(parse_date("2026-1-01").is_none());
    }
}
