//! The calendar: today, a time zone's day, and dates as text, with jiff.
//!
//! Every "now" of the crate comes from [`now_secs`], so a test or a
//! reproducible run can fix it.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::lang::Lang;

/// The time zone called `name` (an IANA name such as `Europe/Brussels`),
/// from the tz database built into the binary, so a server without
/// `/usr/share/zoneinfo` counts the same days.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|e| format!("unknown time zone `{name}`: {e}"))
}

/// The calendar day of `unix_secs` in `tz`: the day the firm received it.
pub fn day_in(unix_secs: u64, tz: &TimeZone) -> Date {
    let secs = i64::try_from(unix_secs).unwrap_or(i64::MAX);
    let at = Timestamp::from_second(secs).unwrap_or(Timestamp::MAX);
    at.to_zoned_datetime(tz.clone()).date()
}

/// `YYYY-MM-DD`.
pub fn iso_date(d: Date) -> String {
    d.to_string()
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_time(unix_secs: u64) -> String {
    let secs = i64::try_from(unix_secs).unwrap_or(i64::MAX);
    Timestamp::from_second(secs)
        .unwrap_or(Timestamp::MAX)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Parses `YYYY-MM-DD` into a real calendar date.
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    s.parse().ok()
}

/// A date in words in `lang`: "28 december 2026", "28. Dezember 2026".
pub fn date_in_words(d: Date, lang: Lang) -> String {
    let (Ok(y), Ok(m), Ok(day)) = (
        u16::try_from(d.year()),
        u8::try_from(d.month()),
        u8::try_from(d.day()),
    ) else {
        return d.to_string();
    };
    lang.format_date(y, m, day)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
