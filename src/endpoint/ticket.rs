//! A ticket: one accepted request, as it waits in the spool for delivery.
//!
//! Everything the mail needs is resolved when the post is accepted (the
//! routed address, the firm's name, the field labels), so the mail worker
//! needs nothing but the ticket, even after a restart with other settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketField {
    pub name: String,
    pub label: String,
    pub value: String,
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
    pub language: String,
    /// Unix seconds.
    pub received: u64,
    /// `YYYY-MM-DD`, one month after receipt (GDPR Art. 12(3)).
    pub due: String,
    pub fields: Vec<TicketField>,
    /// The requester's address, already validated: `Reply-To`.
    pub reply_to: Option<String>,
    /// The requester's name, for the `Reply-To` display name.
    pub requester_name: Option<String>,
    /// Send the requester a fixed-text acknowledgement after delivery.
    #[serde(default)]
    pub acknowledge: bool,
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
    pub due: String,
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
            due: t.due.clone(),
            to: t.reply_to.clone()?,
            reply_to: t.to.clone(),
        })
    }
}

/// Crockford's base32 without the letters people confuse (I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh reference like `K7QM-3XDA`: 40 random bits, easy to read aloud
/// on the phone, and unique in practice (the spool refuses a duplicate).
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

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(next.0, next.1, 1) - days_from_civil(y, m, 1)) as u32
}

/// The date one month after the day of `unix_secs` (UTC): the same day of
/// the next month, or its last day when that month is shorter (31 Jan →
/// 28/29 Feb), as deadlines "within one month" are commonly counted.
pub fn due_date(unix_secs: u64) -> (i64, u32, u32) {
    let (y, m, d) = civil_from_days((unix_secs / 86_400) as i64);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (ny, nm, d.min(days_in_month(ny, nm)))
}

pub fn iso_date((y, m, d): (i64, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_time(unix_secs: u64) -> String {
    let (y, m, d) = civil_from_days((unix_secs / 86_400) as i64);
    let s = unix_secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Parses `YYYY-MM-DD` into a real calendar date.
pub fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_is_one_month_later_clamped_to_month_end() {
        let at = |y, m, d| (days_from_civil(y, m, d) * 86_400 + 3600) as u64;
        assert_eq!(iso_date(due_date(at(2026, 3, 15))), "2026-04-15");
        assert_eq!(iso_date(due_date(at(2026, 1, 31))), "2026-02-28");
        assert_eq!(iso_date(due_date(at(2028, 1, 31))), "2028-02-29");
        assert_eq!(iso_date(due_date(at(2026, 12, 20))), "2027-01-20");
        assert_eq!(iso_time(at(2026, 3, 15)), "2026-03-15T01:00:00Z");
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
